"""A NAME=VALUE option whose VALUE is JSON nested deeper than Python's recursion limit is a
usage error (exit 2), not a RecursionError traceback (exit 1)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lineage_graph import Artifact, ArtifactType, Execution, ExecutionType, LineageStore

from .conftest import Demo, invoke

DEEP = "[" * 100_000
DEEP_OBJECT = '{"a":' * 100_000


@pytest.mark.parametrize("value", [DEEP, DEEP_OBJECT], ids=["list", "object"])
@pytest.mark.parametrize(
    "command", [["upstream", "1", "--where"], ["cached", "Trainer", "-p"]], ids=["where", "cached"]
)
def test_a_value_nested_too_deep_is_a_usage_error(
    tmp_path: Path, command: list[str], value: str
) -> None:
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifact(Artifact(type="D", uri="/a"))
        result = invoke([*command, f"k={value}", "--store", str(path)])
    assert result.exit_code == 2, result.output[-500:]
    assert "nested too deep" in result.output


@pytest.mark.parametrize("ref", ["²", "e:³", "①"])
@pytest.mark.parametrize("command", [["show"], ["upstream"], ["cached", "T", "-i"]], ids=" ".join)
def test_a_digit_that_is_no_number_is_a_usage_error(
    tmp_path: Path, command: list[str], ref: str
) -> None:
    """``str.isdigit`` takes ``²``: the reference was read as an id and ``int('²')`` ended the
    command with a ValueError traceback (exit 1)."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifact(Artifact(type="D", uri="/a"))
        result = invoke([*command, ref, "--store", str(path)])
    assert result.exit_code == 2, result.output[-500:]
    assert "cannot read" in result.output


@pytest.mark.parametrize("value", ["²", "-²", "--5"])
def test_an_as_of_that_only_looks_like_a_number_is_a_usage_error(
    tmp_path: Path, value: str
) -> None:
    """``--as-of`` took what ``lstrip('-').isdigit()`` accepts for milliseconds, and int() then
    refused it with a ValueError traceback (exit 1)."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifact(Artifact(type="D", uri="/a"))
        result = invoke(["upstream", "1", f"--as-of={value}", "--store", str(path)])
    assert result.exit_code == 2, result.output[-500:]
    assert "--as-of wants" in result.output


@pytest.mark.parametrize(
    "command", [["export"], ["export", "-f", "mermaid"], ["view", "--no-open"]], ids=" ".join
)
def test_a_whole_store_limit_past_any_count_cuts_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    """``export -n 99999999999999999999`` (the whole store) ended with an "unexpected error"
    ValueError traceback, exit 70: ``itertools.islice`` takes no stop past ``sys.maxsize``. A
    limit past any count is no cut: the whole store, complete."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifacts([Artifact(type="D", uri=f"/{i}") for i in range(3)])
        out = tmp_path / "out"
        result = invoke(
            [*command, "-n", "99999999999999999999", "-o", str(out), "--store", str(path)]
        )
    assert result.exit_code == 0, result.output[-1500:]
    text = out.read_text(encoding="utf-8")
    if command == ["export"]:
        graph = json.loads(text)
        assert graph["complete"] is True and len(graph["artifacts"]) == 3
    else:
        assert "/2" in text


def test_a_name_holding_a_scheme_separator_is_named_by_type_and_name(tmp_path: Path) -> None:
    """``show Model/hf://bert`` (a model named for where it came from) was looked up as a uri
    only, "no artifact with uri", even as ``a:Model/hf://bert``: such an entity could be named
    by id only. A uri found still wins; text that begins with a scheme or a path is a uri."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Model"))
        named = store.put_artifact(Artifact(type="Model", name="hf://bert", uri="/m/1"))
        by_uri = store.put_artifact(Artifact(type="Model", name="m2", uri="Model/hf://x"))
        store.put_execution_type(ExecutionType(name="Trainer"))
        run = store.put_execution_node(Execution(type="Trainer", name="run://1"))

        def shown(ref: str) -> int:
            result = invoke(["show", ref, "--json", "--store", str(path)])
            assert result.exit_code == 0, result.output
            return int(json.loads(result.stdout)["id"])

        assert shown("Model/hf://bert") == named
        assert shown("a:Model/hf://bert") == named
        assert shown("e:Trainer/run://1") == run
        assert shown("Model/hf://x") == by_uri  # a stored uri still wins
        missing = invoke(["show", "Model/hf://nope", "--store", str(path)])
        assert missing.exit_code == 3
        assert "no artifact of type 'Model' named 'hf://nope'" in missing.stderr
        uri = invoke(["show", "hf://nope", "--store", str(path)])
        assert uri.exit_code == 3 and "no artifact with uri 'hf://nope'" in uri.stderr


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
