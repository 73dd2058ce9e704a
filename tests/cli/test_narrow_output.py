"""Output for people on a narrow terminal (or ``COLUMNS=40`` in a pipe): every cell whole.

rich cut cells it had no room for: at 40 columns the entities table (``ls``, ``show``,
``diff``, ``cached``) kept its dates and printed blank or ``…`` cells instead of the ids, kinds,
types, names and uris; ``impact`` showed ``Deployme…``, ``ls types`` ``Arti…``."""

from __future__ import annotations

import re

import pytest

from .conftest import Demo

NARROW = {"COLUMNS": "40"}


def test_a_narrow_listing_keeps_every_id_and_name(demo: Demo) -> None:
    result = demo.cli("ls", env=NARROW)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout, result.stdout
    ids = {int(m[1]) for m in re.finditer(r"^[│ ]{0,4}(\d+) ", result.stdout, re.MULTILINE)}
    assert ids == {1, 2, 3, 4, 5}, result.stdout
    assert "DataSet" in result.stdout and "Model" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["ls", "executions"],
        ["ls", "contexts"],
        ["ls", "types"],
        ["show", "5"],
        ["impact", "1"],
        ["diff", "4", "5"],
        ["compare", "4", "5"],
        ["stats"],
        ["doctor"],
    ],
    ids=" ".join,
)
def test_no_narrow_table_cuts_a_cell(demo: Demo, args: list[str]) -> None:
    result = demo.cli(*args, env=NARROW)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout, result.stdout
    if args[0] in ("ls", "show", "diff"):  # entities tables: an id in front of each row
        assert re.search(r"^[│\s]*\d+\s", result.stdout, re.MULTILINE), result.stdout
