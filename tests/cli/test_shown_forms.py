"""How ``show`` and ``compare`` show a stored value, against the glyph ``compare`` shows for no
value and the fields ``show`` shows: a text ``"—"`` (``"-"`` on an ASCII stdout) was shown bare,
as ``compare``'s absent value is; ``show``'s name, uri and external id were printed raw where
``compare`` quotes them (a uri ``"x "`` was ``x``); and a property or custom property named
``state`` was taken for the field ``state`` (``1`` shown ``PENDING``, ``"x"`` a traceback)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import LineageStore
from lineage_graph import models as m
from tests.cli.conftest import invoke

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(
            m.ArtifactType(name="D", properties={"state": m.PropertyType.INT})
        )
        store.put_artifacts(
            [
                m.Artifact(
                    type_id=t,
                    name="1",
                    uri="x ",
                    external_id='"e"',
                    state=m.ArtifactState.LIVE,
                    properties={"state": 3},
                    custom_properties={"q": "—", "r": "-", "state": 1},
                ),
                m.Artifact(type_id=t, name="b", uri=" ", custom_properties={"state": 2}),
                m.Artifact(type_id=t, name="c", custom_properties={"state": "x"}),
                m.Artifact(type_id=t, uri=" "),
                m.Artifact(type_id=t, uri="—"),
                m.Artifact(type_id=t),
            ]
        )
        yield path


def _run(store: Path, *args: str, encoding: str) -> str:
    """The real CLI in a process of its own, its stdout in ``encoding`` (``ascii``: the glyphs'
    ASCII forms, ``-`` for ``—``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160", "NO_COLOR": "1"}
    env.update(PYTHONIOENCODING=encoding, HOME=str(store.parent))  # never the user's home
    for name in ("LINEAGE_GRAPH_STORE", "NEO4J_URI"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", *args, "--store", str(store)],
        capture_output=True,
        text=True,
        encoding=encoding,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _compare_cells(output: str) -> dict[tuple[str, str], tuple[str, str]]:
    """``compare``'s rows: ``(group, name)``: ``(a's cell, b's cell)``, box characters dropped."""
    cells = {}
    for line in output.splitlines():
        row = [cell.strip() for cell in line.replace("│", "|").split("|")]
        if len(row) == 6 and row[1] in ("field", "property", "custom property"):
            cells[(row[1], row[2])] = (row[3], row[4])
    return cells


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_a_text_reading_as_no_value_is_quoted(store_path: Path, encoding: str) -> None:
    """``compare 1 2``: the texts ``"—"`` and ``"-"`` against no value read ``— | —`` (on an
    ASCII stdout ``- | -``); each is quoted, apart from the absent value's glyph."""
    cells = _compare_cells(_run(store_path, "compare", "1", "2", encoding=encoding))
    absent = "—" if encoding == "utf-8" else "-"
    dash = '"—"' if encoding == "utf-8" else '"\\u2014"'
    assert cells[("custom property", "q")] == (dash, absent), cells
    assert cells[("custom property", "r")] == ('"-"', absent), cells
    shown = _show_rows(_run(store_path, "show", "1", encoding=encoding))
    assert shown["q"] == dash and shown["r"] == '"-"', shown


def _show_rows(output: str) -> dict[str, str]:
    """``show``'s rows, field and property: name: its cell (after two spaces or more), panel
    edges dropped."""
    rows = {}
    for line in output.splitlines():
        name, *value = re.split(r"\s{2,}", line.strip(" │|"), maxsplit=1)
        rows.setdefault(name, value[0] if value else "")
    return rows


def test_show_shows_the_fields_as_compare_does(store_path: Path) -> None:
    """docs/cli.md: compare shows a value "as show shows it". show printed its fields raw: the
    uri ``"x "`` as ``x``, ``" "`` as a blank row, the name ``"1"`` as a number would be."""
    compared = _compare_cells(_run(store_path, "compare", "1", "2", encoding="utf-8"))
    first = _show_rows(_run(store_path, "show", "1", encoding="utf-8"))
    second = _show_rows(_run(store_path, "show", "2", encoding="utf-8"))
    assert first["uri"] == '"x "' and second["uri"] == '" "', (first, second)
    assert first["name"] == '"1"' and first["external id"] == '"\\"e\\""', first
    assert compared[("field", "uri")] == (first["uri"], second["uri"])
    assert compared[("field", "name")] == (first["name"], second["name"])
    assert compared[("field", "external_id")] == ('"\\"e\\""', "—")
    shown = json.loads(invoke(["show", "1", "--json", "--store", str(store_path)]).stdout)
    assert (shown["name"], shown["uri"], shown["external_id"]) == ("1", "x ", '"e"')


def test_a_property_named_state_is_no_artifact_state(store_path: Path) -> None:
    """Custom ``state=1`` against ``state=2`` was shown ``PENDING | LIVE`` (``--json`` too), the
    declared ``state=3`` ``MARKED_FOR_DELETION``, and ``state="x"`` an untyped ValueError
    traceback (exit 70); the field ``state`` is still shown by its name."""
    cells = _compare_cells(_run(store_path, "compare", "1", "2", encoding="utf-8"))
    assert cells[("custom property", "state")] == ("1", "2"), cells
    assert cells[("property", "state")] == ("3", "—"), cells
    assert cells[("field", "state")] == ("LIVE", "UNKNOWN"), cells
    both = json.loads(invoke(["compare", "1", "2", "--json", "--store", str(store_path)]).stdout)
    assert both["custom_properties"]["state"] == [1, 2]
    assert both["properties"]["state"] == [3, None]
    assert both["fields"]["state"] == ["LIVE", "UNKNOWN"]
    result = invoke(["compare", "1", "3", "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    assert _compare_cells(result.stdout)[("custom property", "state")] == ("1", "x")
    both = json.loads(invoke(["compare", "1", "3", "--json", "--store", str(store_path)]).stdout)
    assert both["custom_properties"]["state"] == [1, "x"]


def test_ls_shows_a_name_or_uri_as_show_does(store_path: Path) -> None:
    """``ls``'s ``name / uri`` cell printed the text raw: a uri ``" "`` blank, as an artifact
    with neither is, ``"—"`` bare; the name ``"1"`` is quoted as ``show`` quotes it."""
    cells = {}
    for line in _run(store_path, "ls", "artifacts", encoding="utf-8").splitlines():
        row = [cell.strip() for cell in line.split("│")]
        if len(row) == 8 and row[1].isdigit():
            cells[row[1]] = row[4]
    assert cells == {"1": '"1"', "2": "b", "3": "c", "4": '" "', "5": '"—"', "6": ""}, cells


def _two_artifacts(tmp_path: Path, first: dict[str, Any], second: dict[str, Any]) -> Path:
    """A store holding two artifacts of one type, made of these fields: its path."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(m.ArtifactType(name="D"))
        store.put_artifacts([m.Artifact(type_id=t, **first), m.Artifact(type_id=t, **second)])
    return path


def test_compare_shows_a_name_and_external_id_as_show_does(tmp_path: Path) -> None:
    """compare ran its fields through the property values' masking: a name
    ``redis://:hunter2pw@h/x`` and an external id ``password=abcdefghij`` showed masked in
    compare (its --json ``fields`` too) while show and the column headers printed them as they
    are. Both show them as show does; a uri's URL password is masked in both."""
    path = _two_artifacts(
        tmp_path,
        {
            "name": "redis://:hunter2pw@h/x",
            "uri": "redis://:uripass@h/y",
            "external_id": "password=abcdefghij",
        },
        {"name": "b"},
    )
    compared = _compare_cells(_run(path, "compare", "1", "2", encoding="utf-8"))
    shown = _show_rows(_run(path, "show", "1", encoding="utf-8"))
    assert shown["name"] == "redis://:hunter2pw@h/x", shown
    assert shown["external id"] == "password=abcdefghij", shown
    assert "uripass" not in shown["uri"], shown
    assert compared[("field", "name")] == (shown["name"], "b"), compared
    assert compared[("field", "external_id")] == (shown["external id"], "—"), compared
    assert compared[("field", "uri")] == (shown["uri"], "—"), compared
    both = json.loads(invoke(["compare", "1", "2", "--json", "--store", str(path)]).stdout)
    assert both["fields"]["name"] == ["redis://:hunter2pw@h/x", "b"]
    assert both["fields"]["external_id"] == ["password=abcdefghij", None]
    assert both["fields"]["uri"][0] == shown["uri"] and both["fields"]["uri"][1] is None


def test_a_text_of_three_stars_is_told_from_a_secrets_mask(tmp_path: Path) -> None:
    """A text property ``"***"`` showed as ``***``, as a secret-named property's mask does: it
    is quoted; a secret stays masked, whatever it holds (``"***"`` too, never quoted: that
    would tell it)."""
    path = _two_artifacts(
        tmp_path, {"custom_properties": {"q": "***", "password": "zz", "token": "***"}}, {}
    )
    shown = _show_rows(_run(path, "show", "1", encoding="utf-8"))
    assert (shown["q"], shown["password"], shown["token"]) == ('"***"', "***", "***"), shown
    cells = _compare_cells(_run(path, "compare", "1", "2", encoding="utf-8"))
    assert cells[("custom property", "q")] == ('"***"', "—"), cells
    assert cells[("custom property", "password")] == ("***", "—"), cells
    assert cells[("custom property", "token")] == ("***", "—"), cells
