"""An empty text value (MLMD's ``string_value: ""``) is a value, not a missing one: ``show`` and
``compare`` print it as a dim ``""`` (docs/cli.md), where it was a blank cell, read as no value
at all; ``--json`` keeps it ``""``, and ``compare``'s absent value stays ``—`` / ``null``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage_graph import LineageStore
from lineage_graph import models as m
from tests.cli.conftest import invoke


@pytest.fixture
def store_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(
            m.ArtifactType(name="D", properties={"p": m.PropertyType.STRING})
        )
        store.put_artifacts(
            [
                m.Artifact(type_id=t, name="a", properties={"p": ""}, custom_properties={"q": ""}),
                m.Artifact(type_id=t, name="b", custom_properties={"q": " x"}),
            ]
        )
        yield path


def _rows(output: str) -> dict[str, list[str]]:
    """Each line's words, by its first word (a cell's name), box characters dropped."""
    rows = {}
    for line in output.splitlines():
        words = [w for w in line.replace("│", " ").split() if w]
        if words:
            rows[words[0]] = words[1:]
    return rows


def test_show_prints_an_empty_text_as_quotes(store_path: Path) -> None:
    result = invoke(["show", "1", "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert rows["p"] == ['""'], result.stdout
    assert rows["q"] == ['""'], result.stdout
    shown = json.loads(invoke(["show", "1", "--json", "--store", str(store_path)]).stdout)
    assert shown["properties"] == {"p": ""}
    assert shown["custom_properties"] == {"q": ""}


def test_compare_prints_an_empty_text_apart_from_an_absent_value(store_path: Path) -> None:
    result = invoke(["compare", "1", "2", "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert rows["property"] == ["p", '""', "—"], result.stdout
    assert rows["custom"] == ["property", "q", '""', "x"], result.stdout
    both = json.loads(invoke(["compare", "1", "2", "--json", "--store", str(store_path)]).stdout)
    assert both["properties"] == {"p": ["", None]}
    assert both["custom_properties"] == {"q": ["", " x"]}
