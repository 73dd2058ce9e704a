"""What a ``NAME=VALUE`` (``impact --mark``, ``--where``, ``cached -p``) may hold, through the
real CLI on the demo store: a value no store holds is a bad command line (exit 2), nothing
marked; an empty value is the empty text, as the Python API stores it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from .conftest import Demo

SURROGATE_TEXT = 'q="\\udcff"'  # typed as a JSON escape: a lone surrogate once decoded


def _custom(demo: Demo, ref: str = "1") -> dict[str, object]:
    shown = demo.json("show", ref)
    assert isinstance(shown, dict)
    return dict(shown["custom_properties"])


@pytest.mark.parametrize(
    "value",
    [SURROGATE_TEXT, 'q={"a": "\\udcff"}', 'q={"\\ud800": 1}', 'q={"a": ["x", "\\udfff"]}'],
    ids=["text", "in a struct", "a struct's key", "in a struct's list"],
)
def test_a_lone_surrogate_is_refused_as_typed_and_nothing_is_marked(demo: Demo, value: str) -> None:
    """``--mark 'q="\\udcff"'`` was exit 5 quoting ``'\\xff'`` (a byte never typed), and the
    same escape inside a struct was stored (exit 0)."""
    before = _custom(demo)
    result = demo.cli("impact", "1", "--mark", value)
    assert result.exit_code == 2, result.output[-500:]
    assert "lone surrogate" in result.stderr
    assert "\\xff" not in result.stderr
    assert _custom(demo) == before


@pytest.mark.parametrize(
    "command",
    [
        ["downstream", "1", "--where", SURROGATE_TEXT],
        ["cached", "Trainer", "-i", "2", "-i", "3", "-p", 'C="\\udcff"'],
    ],
    ids=["--where", "-p"],
)
def test_a_lone_surrogate_in_a_filter_is_a_usage_error(demo: Demo, command: list[str]) -> None:
    """``--where`` answered nothing (exit 0), ``-p`` was exit 5: neither can match stored text."""
    result = demo.cli(*command)
    assert result.exit_code == 2, result.output[-500:]
    assert "lone surrogate" in result.stderr


def test_a_surrogate_pair_is_its_character(demo: Demo) -> None:
    result = demo.cli("downstream", "1", "--where", 'q="\\ud83d\\ude00"', "--json")
    assert result.exit_code == 0, result.output[-500:]


@pytest.mark.parametrize(
    "number",
    [str(10**400), str(-(10**400)), str(2**53 + 1), str(2**63 + 1)],
    ids=["10**400", "-10**400", "2**53+1", "2**63+1"],
)
def test_a_struct_number_no_double_holds_is_not_marked(demo: Demo, number: str) -> None:
    """A struct's numbers are doubles (google.protobuf.Struct): ml_metadata 1.17.1 refuses
    10**400 (OverflowError) and stores 2**53 + 1 as 9007199254740992.0; the CLI stored both
    exact."""
    before = _custom(demo)
    result = demo.cli("impact", "1", "--mark", f'q={{"a": {number}}}')
    assert result.exit_code == 2, result.output[-500:]
    assert "double" in result.stderr
    assert _custom(demo) == before


def test_a_struct_number_past_a_doubles_range_is_no_filter(demo: Demo) -> None:
    result = demo.cli("downstream", "1", "--where", f'q={{"a": {10**400}}}')
    assert result.exit_code == 2, result.output[-500:]
    assert "outside the range of a double" in result.stderr


def test_a_struct_number_a_double_holds_is_marked(demo: Demo) -> None:
    marked = demo.json("impact", "1", "--mark", f'q={{"a": {2**53}, "b": [1, 2.5]}}')
    try:
        assert _custom(demo)["q"] == {"a": 2**53, "b": [1, 2.5]}
    finally:
        assert demo.cli("undo-mark", marked["mark_token"]).exit_code == 0


def _zero_signs(value: object) -> list[float]:
    """The sign of each zero number in ``value`` (a struct as Python holds it), in JSON order."""
    if isinstance(value, dict):
        return [s for k in sorted(value) for s in _zero_signs(value[k])]
    if isinstance(value, list):
        return [s for v in value for s in _zero_signs(v)]
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return [math.copysign(1.0, value)]
    return []


def _ml_metadata_zero_signs(struct: dict[str, object], tmp_path: Path) -> list[float]:
    """What ml_metadata 1.17.1 stores and reads back of ``struct`` as a custom property."""
    from google.protobuf import json_format, struct_pb2
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "mlmd.sqlite")
    mlmd = metadata_store.MetadataStore(config)
    artifact = pb.Artifact(type_id=mlmd.put_artifact_type(pb.ArtifactType(name="D")))
    given = struct_pb2.Struct()
    given.update(struct)
    artifact.custom_properties["q"].struct_value.CopyFrom(given)
    [stored] = mlmd.get_artifacts_by_id(mlmd.put_artifacts([artifact]))
    read = json.loads(json_format.MessageToJson(stored.custom_properties["q"].struct_value))
    return _zero_signs(read)


@pytest.mark.parametrize(
    ("typed", "signs"),
    [
        ('{"a": -0}', [-1.0]),
        ('{"a": -0.0}', [-1.0]),
        ('{"a": [-0, 0, {"b": -0}], "c": -0e3}', [-1.0, 1.0, -1.0, -1.0]),
    ],
    ids=["-0", "-0.0", "nested"],
)
def test_a_structs_negative_zero_is_stored_as_ml_metadata_stores_it(
    demo: Demo, tmp_path: Path, typed: str, signs: list[float]
) -> None:
    """A struct's numbers are doubles, and JSON's ``-0`` as a double is ``-0.0``, which
    ml_metadata 1.17.1's ``Struct`` stores and reads back: ``--mark 'q={"a": -0}'`` stored
    ``{"a": 0}`` (Python's ``json`` reads ``-0`` as the int 0). At the top, ``q=-0`` is the int
    0 (an ``int_value`` has no sign)."""
    pytest.importorskip("ml_metadata")
    as_doubles = json.loads(typed, parse_int=float)
    assert _ml_metadata_zero_signs(as_doubles, tmp_path) == signs
    marked = demo.json("impact", "1", "--mark", f"q={typed}")
    try:
        [stored] = demo.store.get_artifacts_by_id([1])
        assert _zero_signs(stored.custom_properties["q"]) == signs
        assert _zero_signs(_custom(demo)["q"]) == signs  # show --json: -0.0 as written
    finally:
        assert demo.cli("undo-mark", marked["mark_token"]).exit_code == 0
    marked = demo.json("impact", "1", "--mark", "q=-0")
    try:
        [stored] = demo.store.get_artifacts_by_id([1])
        assert stored.custom_properties["q"] == 0
        assert type(stored.custom_properties["q"]) is int
    finally:
        assert demo.cli("undo-mark", marked["mark_token"]).exit_code == 0


def test_an_empty_value_is_the_empty_text(demo: Demo) -> None:
    """``--mark q=`` stores the empty text (a value: MLMD's ``string_value: ""`` is set), as
    ``store.impact(mark_property=("q", ""))`` does, and ``--where q=`` finds it."""
    marked = demo.json("impact", "1", "--mark", "q=")
    try:
        assert _custom(demo)["q"] == ""
        found = demo.json("downstream", "1", "--where", "q=")["artifacts"]
        assert len(found) == marked["marked"]  # the answer holds its start, the source
        assert {a["custom_properties"]["q"] for a in found} == {""}
        assert demo.json("downstream", "1", "--where", 'q=""')["artifacts"] == found
    finally:
        assert demo.cli("undo-mark", marked["mark_token"]).exit_code == 0
    assert "q" not in _custom(demo)


@pytest.mark.parametrize("value", ["[1e999]", "[NaN]", '["\\udcff"]', "null"])
def test_null_or_a_list_is_text_as_typed(demo: Demo, value: str) -> None:
    """No property holds null or a list, so ``VALUE`` is then the text typed (as documented):
    ``--mark 'q=[NaN]'`` was refused (exit 2) as a number no double holds, where it is text."""
    marked = demo.json("impact", "1", "--mark", f"q={value}")
    try:
        assert _custom(demo)["q"] == value
        found = demo.json("downstream", "1", "--where", f"q={value}")["artifacts"]
        assert len(found) == marked["marked"]
    finally:
        assert demo.cli("undo-mark", marked["mark_token"]).exit_code == 0


def _nested(depth: int, bottom: object) -> object:
    value = bottom
    for _ in range(depth):
        value = {"a": [value]}
    return value


@pytest.mark.parametrize(
    ("bottom", "refused"),
    [("\udcff", True), (2**53 + 1, True), ("text", False), (2**53, False)],
)
def test_a_value_nested_past_the_recursion_limit_is_checked_to_its_bottom(
    bottom: object, refused: bool
) -> None:
    # JSON that deep decodes on Python 3.13 (its decoder's limit is not Python's): the checks
    # of what it decoded raised RecursionError, a traceback, where it is a bad value (exit 2)
    import sys

    import typer

    from lineage_graph.cli._walk import _check_decoded

    value = _nested(sys.getrecursionlimit() * 3, bottom)
    if refused:
        with pytest.raises(typer.Exit) as caught:
            _check_decoded(value, "--mark", "q", exact=True)
        assert caught.value.exit_code == 2
    else:
        _check_decoded(value, "--mark", "q", exact=True)
