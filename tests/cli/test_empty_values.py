"""An empty argument or option value is a usage error (exit 2), as docs/cli.md's exit codes say
(``ls --type ''`` was; ``cached ''`` was exit 1, "not cached"), and a lineage cursor that no
page printed is refused as an ``ls`` cursor is."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from .conftest import Demo


@pytest.mark.parametrize("empty", ["", "  "], ids=["empty", "blank"])
@pytest.mark.parametrize(
    "command",
    [
        ["cached", "{}", "-i", "2"],
        ["cached", "Trainer", "-i", "2", "--type-version", "{}"],
        ["undo-mark", "{}"],
        ["upstream", "5", "--type", "{}"],
        ["downstream", "1", "--stop-at-type", "{}"],
        ["export", "5", "--type", "{}"],
        ["ls", "--type", "{}"],
        ["import-mlmd", "{}"],
    ],
    ids=lambda c: " ".join(c).replace("{}", "_"),
)
def test_an_empty_value_is_a_usage_error(demo: Demo, command: list[str], empty: str) -> None:
    """An empty argument is a bad command line (exit 2), as ``ls --type ''`` was: ``cached ''``
    was exit 1 ("not cached"), ``undo-mark ''`` exit 3 ("no such mark"), ``upstream --type ''``
    an empty answer with exit 0, ``import-mlmd ''`` exit 3."""
    result = demo.cli(*(empty if arg == "{}" else arg for arg in command))
    assert result.exit_code == 2, result.output[-500:]
    assert "is empty" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("option", ["--name", "--uri"])
def test_an_empty_part_of_a_name_is_a_usage_error(demo: Demo, option: str) -> None:
    """``ls --name ''`` matched everything, exit 0 (``--name "$NAME"`` with NAME unset listed the
    store); a blank part is a part (names hold spaces), so it is not refused."""
    result = demo.cli("ls", option, "")
    assert result.exit_code == 2, result.output[-500:]
    assert f"{option} is empty" in result.stderr
    assert demo.cli("ls", option, " ").exit_code == 0


@pytest.mark.parametrize(
    "edit",
    [{"i": -1}, {"i": 0}, {"i": 2**63}, {"q": 123}, {"extra": 1}],
    ids=["i=-1", "i=0", "i=2**63", "q=123", "extra field"],
)
@pytest.mark.parametrize(
    "command", [["upstream", "5"], ["downstream", "1"], ["export", "5"]], ids=" ".join
)
def test_an_edited_lineage_cursor_is_a_usage_error(
    demo: Demo, command: list[str], edit: dict[str, object]
) -> None:
    """A hand-made lineage cursor (``"i": -1``, an id no page ends with, a fingerprint that is
    no text) was taken: ``-1`` and ``0`` began again at page 1, an id past int64 answered an
    empty page, exit 0. It is refused now, as an ``ls`` cursor is (exit 2)."""
    as_json = [] if command[0] == "export" else ["--json"]  # export prints JSON anyway
    cursor = json.loads(demo.cli(*command, "-n", "2", *as_json).stdout)["cursor"]
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps(data | edit).encode()).decode()
    result = demo.cli(*command, "-n", "2", "--cursor", edited)
    assert result.exit_code == 2, result.output[-500:]
    assert "not a lineage cursor" in result.stderr
    assert demo.cli(*command, "-n", "2", "--cursor", cursor).exit_code == 0  # as given: a page


@pytest.mark.parametrize("command", [["demo", "--dir"], ["stats", "--plot"]], ids=" ".join)
def test_an_empty_path_is_a_usage_error(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """typer read ``''`` as the path ``.``: ``demo --dir ''`` was refused as a directory "not
    made by the demo" (exit 5), ``stats --plot ''`` said "file '' is a directory"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.txt").write_text("untouched")
    result = demo.cli(*command, "", store=command[0] != "demo")
    assert result.exit_code == 2, result.output[-500:]
    assert f"{command[1]} is empty" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
