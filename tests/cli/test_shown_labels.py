"""Stored names outside a table's value cells (a tree's labels, ``show``'s panel title,
``compare``'s column headers, ``impact``'s list, the type and property name cells) are shown
by the rule a value cell follows: a uri ``"x "`` was ``x``, ``" "`` blank, ``"—"`` the absent
glyph. A text that is or ends in a no-break or ideographic space (or the braille blank) is
quoted with it escaped (quoted as it is, ``"\\u00a0"`` read ``" "``), and a text holding a
character shown as an escape is quoted: bare, a stored tab and a backslash followed by ``t``
both read ``a\\tb``. ``--json`` is unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage_graph import LineageStore
from lineage_graph import models as m
from tests.cli.conftest import invoke

#: Each stored text (as a name, or a uri where a name may not hold it) and how it is shown.
SHOWN = {
    "x ": '"x "',
    " ": '" "',
    "—": '"—"',
    "a\nb": '"a\\nb"',
    "\x1b[31mred": '"\\x1b[31mred"',
    "[red]x[/]": "[red]x[/]",
    "\u00a0": '"\\u00a0"',
    "x\u3000": '"x\\u3000"',
    "\u2800": '"\\u2800"',
    "\u200b": '"\\u200b"',
    "a\\tb": "a\\tb",
    "a\tb": '"a\\tb"',
    "1": '"1"',
}


@pytest.fixture
def store_path(tmp_path: Path) -> Iterator[Path]:
    """Artifact 1 (uri ``"x "``) read by run 1, whose outputs are artifacts 2 on, one a text."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(m.ArtifactType(name="D\u00a0"))
        e = store.put_execution_type(m.ExecutionType(name="[b]T[/]"))
        ids = []
        for text in SHOWN:
            as_name = text.strip() == text and text != "\u00a0"
            fields = {"name": text, "uri": f"u{len(ids)}"} if as_name else {"uri": text}
            artifact = m.Artifact(type_id=t, custom_properties={"v": text, text: 1}, **fields)
            ids += store.put_artifacts([artifact])
        x = store.put_execution(m.Execution(type_id=e, name="run"))[0]
        store.put_events(
            [m.Event(artifact_id=ids[0], execution_id=x, type=m.EventType.INPUT)]
            + [m.Event(artifact_id=i, execution_id=x, type=m.EventType.OUTPUT) for i in ids[1:]]
        )
        yield path


def _cli(path: Path, *args: str) -> str:
    result = invoke([*args, "--store", str(path)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_tree_labels_show_names_as_a_table_does(store_path: Path) -> None:
    """``downstream 1`` labelled each artifact with its name or uri raw: ``D  #2   [UNKNOWN]``
    for a uri ``" "``, ``#10 a\\tb`` and ``#11 a\\tb`` alike, the type ``"D\\u00a0"`` as ``D ``."""
    lines = _cli(store_path, "downstream", "1").splitlines()
    assert lines[0] == '"D\\u00a0" #1 "x " [UNKNOWN]', lines
    assert lines[1] == "└── ◆ [b]T[/] #1 run [UNKNOWN]", lines
    labels = [line[8:] for line in lines[2 : 1 + len(SHOWN)]]
    expected = [f'"D\\u00a0" #{i} {shown} [UNKNOWN]' for i, shown in enumerate(SHOWN.values(), 1)][
        1:
    ]
    assert labels == expected, lines
    assert len(set(labels)) == len(labels)


def test_show_compare_and_impact_show_names_as_a_table_does(store_path: Path) -> None:
    """The panel title, ``compare``'s headers and ``impact``'s list printed the names raw; the
    name column of ``compare`` and ``show``'s property names alike (a property ``"a\\tb"``)."""
    ids = {text: i for i, text in enumerate(SHOWN, 1)}
    bare, tab = ids["a\\tb"], ids["a\tb"]
    first = _cli(store_path, "show", str(bare)).splitlines()[0]
    assert first.startswith(f'╭─ "D\\u00a0" #{bare} a\\tb [UNKNOWN] ─'), first
    second = _cli(store_path, "show", str(tab))
    assert second.startswith(f'╭─ "D\\u00a0" #{tab} "a\\tb" [UNKNOWN] ─'), second
    assert '│ type     "D\\u00a0" (type id 1)' in second, second
    rows = {line.split()[0]: line.split()[1:] for line in second.splitlines() if line.strip()}
    assert rows['"a\\tb"'] == ["1"] and rows["v"] == ['"a\\tb"'], second
    compared = _cli(store_path, "compare", str(bare), str(tab))
    header = next(line for line in compared.splitlines() if f"#{bare}" in line)
    assert f'"D\\u00a0" #{bare} a\\tb [UNKNOWN]' in header, compared
    assert f'"D\\u00a0" #{tab} "a\\tb" [UNKNOWN]' in header, compared
    names = [row.split("│")[2].strip() for row in compared.splitlines() if "property" in row]
    assert sorted(names) == ['"a\\tb"', "a\\tb", "v"], compared
    impact = invoke(["impact", "1", "--store", str(store_path)], env={"COLUMNS": "400"})
    assert impact.exit_code == 0, impact.output
    assert impact.stdout.startswith('impact of "D\\u00a0" #1 "x " [UNKNOWN]:'), impact.stdout
    assert '#2 " ", #3 "—", #4 "a\\nb", #5 "\\x1b[31mred"' in impact.stdout, impact.stdout
    assert "\x1b" not in impact.stdout + compared + second


def test_blank_texts_are_told_apart(tmp_path: Path) -> None:
    """A text of a no-break space, an ideographic space or the braille blank was shown ``" "``,
    as the text of a space is (the braille blank, no white space to Unicode, bare: blank)."""
    texts = {"s": " ", "nbsp": "\u00a0", "ideographic": "\u3000", "braille": "\u2800"}
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(m.ArtifactType(name="D"))
        store.put_artifacts([m.Artifact(type_id=t, custom_properties=texts)])
    rows = {}
    for line in _cli(path, "show", "1").splitlines():
        name, _, value = line.partition(" ")
        rows[name] = value.strip()
    shown = {name: rows[name] for name in texts}
    assert shown == {
        "s": '" "',
        "nbsp": '"\\u00a0"',
        "ideographic": '"\\u3000"',
        "braille": '"\\u2800"',
    }, rows
    data = json.loads(_cli(path, "show", "1", "--json"))
    assert data["custom_properties"] == texts


def test_json_keeps_the_names_as_stored(store_path: Path) -> None:
    tree = json.loads(_cli(store_path, "downstream", "1", "--json"))
    names = {a["name"] or a["uri"] for a in tree["artifacts"]}
    assert names == set(SHOWN)


def _ls_types_row(
    tmp_path: Path, name: str, props: dict[str, m.PropertyType]
) -> tuple[Path, list[str]]:
    """A store holding one artifact of type ``name`` declaring ``props``: its path and the cells
    of the type's row in ``ls types``."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(m.ArtifactType(name=name, properties=props))
        store.put_artifacts([m.Artifact(type_id=t, uri="u")])
    row = next(line for line in _cli(path, "ls", "types").splitlines() if "Artifact" in line)
    return path, [cell.strip() for cell in row.split("│")]


def test_ls_types_and_stats_show_type_and_property_names_as_a_table_does(tmp_path: Path) -> None:
    """``ls types`` printed a type ``"D\\u00a0"`` as ``D `` and the properties ``"a\\tb"`` (a
    tab) and ``"a\\\\tb"`` alike as ``a\\tb``; ``stats``'s type counts the type as ``D ``."""
    props = {"a\tb": m.PropertyType.INT, "a\\tb": m.PropertyType.STRING}
    path, cells = _ls_types_row(tmp_path, "D\u00a0", props)
    assert cells[3] == '"D\\u00a0"' and cells[5] == '"a\\tb": INT, a\\tb: STRING', cells
    stats = _cli(path, "stats")
    assert '│ "D\\u00a0" │     1 │' in stats, stats
    assert json.loads(_cli(path, "stats", "--json"))["artifacts_by_type"] == {"D\u00a0": 1}


def test_show_shows_a_type_version_escaped(tmp_path: Path) -> None:
    """``show``'s type row printed its version raw once the type name was shown on its own: a
    version holding ``ESC [2J`` cleared the terminal. It is shown as any stored text is."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        t = store.put_artifact_type(m.ArtifactType(name="D", version="v\x1b[2J1"))
        store.put_artifacts([m.Artifact(type_id=t, uri="u")])
    shown = _cli(path, "show", "1")
    assert "\x1b" not in shown, shown
    assert '│ type     D (type id 1, version "v\\x1b[2J1")' in shown, shown


def test_ls_types_quotes_a_property_name_that_holds_the_lists_separators(tmp_path: Path) -> None:
    """``ls types`` lists a type's properties as ``name: KIND, ...``: a property named
    ``a: INT, b`` read as two properties, ``a`` and ``b``. Such a name is quoted; others not."""
    props = {"a: INT, b": m.PropertyType.STRING, "ns:x,y": m.PropertyType.INT}
    _, cells = _ls_types_row(tmp_path, "D", props)
    assert cells[5] == '"a: INT, b": STRING, ns:x,y: INT', cells
