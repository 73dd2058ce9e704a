"""An empty text value (MLMD's ``string_value: ""``) is a value, not a missing one: ``show`` and
``compare`` print it as a dim ``""`` (docs/cli.md), where it was a blank cell, read as no value
at all; ``--json`` keeps it ``""``, and ``compare``'s absent value stays ``—`` / ``null``. A
text that would read as no value or as another one, shown as it is, is shown quoted: white
space only (``" "`` was a blank cell too), white space at an end, a ``"`` first (``'""'`` read
as the empty text without colour), JSON (``"1"`` read as the number). A struct's NaN is shown
``NaN``, as a double's is: it was ``"NaN"``, as the text is."""

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
    assert rows["custom"] == ["property", "q", '""', '"', 'x"'], result.stdout  # " x" quoted
    both = json.loads(invoke(["compare", "1", "2", "--json", "--store", str(store_path)]).stdout)
    assert both["properties"] == {"p": ["", None]}
    assert both["custom_properties"] == {"q": ["", " x"]}


#: Values no two of which a table may show alike: texts that would read as no value, as the
#: empty text or as another value, shown as they are, and the values they would read as.
LOOKALIKES: dict[str, object] = {
    "empty": "",
    "space": " ",
    "spaces": "   ",
    "tab": "\t",
    "ideographic": "\u3000",
    "two_quotes": '""',
    "quoted": '"x"',
    "escaped": '"\\"',
    "plain": "x",
    "trailing": "x ",
    "leading": " x",
    "one_text": "1",
    "one": 1,
    "true_text": "true",
    "true": True,
    "nan_text": "NaN",
    "nan": float("nan"),
    "struct_text": '{"a": 1}',
    "struct": {"a": 1},
    "struct_nan_text": {"a": "NaN", "b": "-Infinity"},
    "struct_nan": {"a": float("nan"), "b": float("-inf")},
    "proto": m.ProtoValue(type_url="t/x", value=b"\x08\x01"),
    "proto_struct": {"type_url": "t/x", "value_base64": "CAE="},
    "proto_text": 'proto {"type_url": "t/x", "value_base64": "CAE="}',
}

#: How each is shown: a text quoted as JSON writes it when it needs quoting, the empty one ``""``.
SHOWN = {
    "empty": '""',
    "space": '" "',
    "spaces": '"   "',
    "tab": '"\\t"',
    "ideographic": '"\\u3000"',  # escaped: quoted as it is, it read as '" "'
    "two_quotes": '"\\"\\""',
    "quoted": '"\\"x\\""',
    "escaped": '"\\"\\\\\\""',
    "plain": "x",
    "trailing": '"x "',
    "leading": '" x"',
    "one_text": '"1"',
    "one": "1",
    "true_text": '"true"',
    "true": "true",
    "nan_text": '"NaN"',
    "nan": "NaN",
    "struct_text": '"{\\"a\\": 1}"',
    "struct": '{"a": 1}',
    "struct_nan_text": '{"a": "NaN", "b": "-Infinity"}',
    "struct_nan": '{"a": NaN, "b": -Infinity}',
    # a proto value as --json writes it, after "proto ": it read as the struct of its two keys
    "proto": 'proto {"type_url": "t/x", "value_base64": "CAE="}',
    "proto_struct": '{"type_url": "t/x", "value_base64": "CAE="}',
    "proto_text": '"proto {\\"type_url\\": \\"t/x\\", \\"value_base64\\": \\"CAE=\\"}"',
}

#: ``--json``'s values (as before): a NaN or infinity as JSON's text for it, in a struct too; a
#: proto value as its ``type_url`` and ``value_base64``, as a struct of those keys (docs/cli.md).
EXACT = {
    **LOOKALIKES,
    "nan": "NaN",
    "struct_nan": {"a": "NaN", "b": "-Infinity"},
    "proto": {"type_url": "t/x", "value_base64": "CAE="},
}


def _name(shown: str) -> str:
    """A property's name as shown: one reading as JSON (``true``) quoted, as every text is."""
    return json.loads(shown) if shown.startswith('"') else shown


@pytest.fixture
def lookalikes(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(m.ArtifactType(name="L"))
        store.put_artifacts(
            [
                m.Artifact(type_id=t, name="a", custom_properties=LOOKALIKES),
                m.Artifact(type_id=t, name="b"),
            ]
        )
        yield path


def test_show_tells_apart_texts_that_look_like_another_value(lookalikes: Path) -> None:
    """Without colour (NO_COLOR, as every call here), each value is shown its own way: ``" "``
    and ``"\t"``-like cells were blank or bare, ``'""'`` read as the empty text, ``"1"`` as 1."""
    result = invoke(["show", "1", "--store", str(lookalikes)])
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    start = lines.index("custom properties")
    cells = {}
    for line in lines[start + 1 : start + 1 + len(LOOKALIKES)]:
        name, _, value = line.partition(" ")
        cells[_name(name)] = value.strip()
    assert cells == SHOWN, result.stdout
    assert len(set(cells.values())) == len(cells)
    shown = json.loads(invoke(["show", "1", "--json", "--store", str(lookalikes)]).stdout)
    assert shown["custom_properties"] == EXACT


def test_compare_tells_apart_texts_that_look_like_another_value(lookalikes: Path) -> None:
    result = invoke(["compare", "1", "2", "--store", str(lookalikes)])
    assert result.exit_code == 0, result.output
    cells = {}
    for line in result.stdout.splitlines():
        row = [cell.strip() for cell in line.split("│")]
        if len(row) == 6 and row[1] == "custom property":
            cells[_name(row[2])] = row[3]
            assert row[4] == "—", line
    assert cells == SHOWN, result.stdout
    both = json.loads(invoke(["compare", "1", "2", "--json", "--store", str(lookalikes)]).stdout)
    assert both["custom_properties"] == {k: [v, None] for k, v in EXACT.items()}


def test_show_prints_an_empty_uri_apart_from_no_uri(tmp_path: Path) -> None:
    """A stored empty uri is a value, shown as ``compare`` shows it (a dim ``""``) and as
    ``--json`` has it (``""``, not ``null``): ``show`` left its row out, as for no uri at all."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(m.ArtifactType(name="D"))
        empty, none = store.put_artifacts(
            [m.Artifact(type_id=t, name="a", uri=""), m.Artifact(type_id=t, name="b")]
        )
    for ident, uri, row in ((empty, "", ['""']), (none, None, None)):
        result = invoke(["show", str(ident), "--store", str(path)])
        assert result.exit_code == 0, result.output
        assert _rows(result.stdout).get("uri") == row, result.stdout
        shown = json.loads(invoke(["show", str(ident), "--json", "--store", str(path)]).stdout)
        assert shown["uri"] == uri, shown


def test_labels_and_lists_show_an_unnamed_artifacts_empty_uri(tmp_path: Path) -> None:
    """An artifact with no name is labelled and listed by its uri: a stored empty one was left
    out, as no uri is (``D #1 [UNKNOWN]``, a blank ``name / uri`` cell); it is ``""`` now."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(m.ArtifactType(name="D"))
        empty, none = store.put_artifacts([m.Artifact(type_id=t, uri=""), m.Artifact(type_id=t)])
    listed = invoke(["ls", "--store", str(path)])
    assert listed.exit_code == 0, listed.output
    rows = _rows(listed.stdout)
    assert rows[str(empty)][:3] == ["artifact", "D", '""'], listed.stdout
    assert rows[str(none)][:3] == ["artifact", "D", "UNKNOWN"], listed.stdout
    for ident, title in ((empty, f'D #{empty} "" [UNKNOWN]'), (none, f"D #{none} [UNKNOWN]")):
        shown = invoke(["show", str(ident), "--store", str(path)])
        assert shown.exit_code == 0, shown.output
        assert title in shown.stdout.splitlines()[0], shown.stdout
