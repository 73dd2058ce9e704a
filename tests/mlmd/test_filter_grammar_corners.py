"""Corners of the filter grammar against ml_metadata 1.17.1 itself: path parts that start with a
digit, characters the tokenizer must refuse with MLMD's error class, and the differences that
are documented as deliberate (docs/mlmd-compatibility.md, D11), each pinned on both stores so
that a change on either side shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2
from ml_metadata import ListOptions, errors
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph.mlmd import MetadataStore

from .conftest import Both, real_mlmd

#: Custom property names that ZetaSQL reads after a dot although they start with a digit.
DIGIT_NAMES = {"1": 6, "1a": 7, "12": 8, "0x1": 9, "1e5": 10, "1_": 11}


def _ids(store: Any, query: str) -> list[int] | type[Exception]:
    try:
        return [a.id for a in store.get_artifacts(list_options=ListOptions(filter_query=query))]
    except errors.StatusError as exc:
        return type(exc)


@pytest.fixture
def digits(both: Both) -> Both:
    t = both.call("put_artifact_type", pb.ArtifactType(name="A", properties={"2": pb.INT}))
    plain = pb.Artifact(type_id=t, uri="plain")
    named = pb.Artifact(type_id=t, uri="named")
    named.properties["2"].int_value = 2
    for name, value in DIGIT_NAMES.items():
        named.custom_properties[name].int_value = value
    ctx = pb.Context(type_id=both.call("put_context_type", pb.ContextType(name="C")), name="c")
    both.call("put_artifacts", [plain, named])
    both.call("put_contexts", [ctx])
    both.call(
        "put_attributions_and_associations", [pb.Attribution(artifact_id=2, context_id=1)], []
    )
    return both


@pytest.mark.parametrize(
    "query",
    [
        *(f"custom_properties.{n}.int_value = {v}" for n, v in DIGIT_NAMES.items()),
        "custom_properties.1.int_value=6",
        "custom_properties.1.int_value IN (6, 7)",
        "custom_properties.1.int_value BETWEEN 5 AND 6 AND uri = 'named'",
        "6 = custom_properties.1.int_value",
        "custom_properties.1.int_value IS NULL",
        "custom_properties.1.int_value IS NOT NULL",
        "NOT custom_properties.1a.int_value = 7",
        "properties.2.int_value = 2",
        "properties.2.int_value = .5 OR id = 1",
        "custom_properties.`1`.int_value = 6",
        "id IN (1, 2) AND .5 < 1",
        "contexts_1.name = 'c'",
    ],
)
def test_a_path_part_may_start_with_a_digit(digits: Both, query: str) -> None:
    """``custom_properties.1.int_value`` reads the property ``1`` in MLMD (ZetaSQL lexes a part
    right after a dot as a name); it was a syntax error here ("got number .1")."""
    digits.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize(
    "query",
    [
        "custom_properties.1.5.int_value = 9",  # a path of four parts
        "custom_properties.1.INT_VALUE = 6",
        "custom_properties.1.int_value.5 = 1",
        "contexts_a.1 = 1",
        "id = \u0661",  # ARABIC-INDIC DIGIT ONE: not a digit of the grammar
        "name = 'x' OR id = \u0665",
        "id = 1\u0661",
    ],
)
def test_malformed_digit_forms_are_invalid_on_both(digits: Both, query: str) -> None:
    """A digit other than 0-9 was taken for the start of a number and failed an assertion
    (an ``AssertionError``, not ml_metadata's ``InvalidArgumentError``)."""
    assert digits.fails("get_artifacts", list_options=ListOptions(filter_query=query)) is (
        errors.InvalidArgumentError
    )


@pytest.mark.parametrize(
    "query",
    [
        "id = 2 OR.5 < 1",
        "id = 1 AND.5 < 1",
        "NOT.5 > 1",
        "id BETWEEN.5 AND 2",
        "id BETWEEN 0.5 AND.5e1",
        "custom_properties.1.int_value IS NOT NULL AND.5<1",
    ],
)
def test_a_number_may_follow_a_keyword_without_a_space(digits: Both, query: str) -> None:
    """``OR.5`` is ``OR 0.5`` in MLMD, as before path parts could start with a digit; the dot
    right after a keyword was taken for a path's dot ("custom_properties.1"), a syntax error."""
    digits.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize("space", [0x08, 0x0B, 0x0C, 0xA0, 0x2003, 0x202F, 0x3000], ids=hex)
def test_zetasqls_white_space_separates_tokens(digits: Both, space: int) -> None:
    query = f"id = 1{chr(space)}OR{chr(space)}custom_properties.1.int_value = 6"
    digits.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize("space", [0x1C, 0x1F, 0x85, 0x1680, 0x2028, 0x2029], ids=hex)
def test_other_unicode_white_space_is_an_illegal_character(digits: Both, space: int) -> None:
    """Python's ``\\s`` takes these, ZetaSQL does not (backspace, which it takes, was refused)."""
    query = f"id = 1{chr(space)}OR id = 2"
    assert digits.fails("get_artifacts", list_options=ListOptions(filter_query=query)) is (
        errors.InvalidArgumentError
    )


@pytest.mark.parametrize(
    ("query", "valid"),
    [
        ("uri = '\\377'", True),
        ("uri = '\\3777'", True),
        ("uri = '\\101' OR uri = 'named'", True),
        ("uri = '\\400'", False),
        ("uri = '\\777'", False),
        ("custom_properties.`a\\400`.int_value IS NULL", False),
    ],
)
def test_an_octal_escape_is_at_most_377(digits: Both, query: str, valid: bool) -> None:
    """An octal escape is one byte's value in ZetaSQL: ``'\\400'`` is invalid (it was U+0100)."""
    if valid:
        digits.call("get_artifacts", list_options=ListOptions(filter_query=query))
    else:
        assert digits.fails("get_artifacts", list_options=ListOptions(filter_query=query)) is (
            errors.InvalidArgumentError
        )


@pytest.mark.parametrize(
    "query",
    [
        "uri <> 'a\rb'",
        'uri <> "a\rb"',
        "uri <> 'a\r\nb'",
        "uri = 'named\r",
        "uri = 'x' OR uri <> 'a\rb' OR id = 1",
    ],
)
def test_a_carriage_return_ends_a_string_literal(digits: Both, query: str) -> None:
    """ZetaSQL ends a line at a bare CR as at LF, so a string holding one is unclosed
    (``InvalidArgumentError`` in MLMD 1.17.1); it was read into the string and ``uri <> 'a\rb'``
    listed every artifact."""
    assert digits.fails("get_artifacts", list_options=ListOptions(filter_query=query)) is (
        errors.InvalidArgumentError
    )


@pytest.mark.parametrize(
    "query", ["uri = 'named'\rOR id = 1", "uri = 'x' -- c\rOR uri = 'named'", "uri = '\\r'"]
)
def test_a_carriage_return_outside_a_string_is_space(digits: Both, query: str) -> None:
    digits.call("get_artifacts", list_options=ListOptions(filter_query=query))


def test_string_escapes_follow_zetasql_where_mlmd_does_not(both: Both) -> None:
    """Deliberate (D11): a string literal's escapes are ZetaSQL's here. MLMD 1.17.1 decodes
    ``\\'`` and ``\\"`` but writes ``\\\\``, ``\\n`` and ``\\t`` into its SQL as they are typed,
    so it cannot find a value holding a backslash, a newline or a tab, and ``'b\\\\s'`` finds
    the value with two backslashes."""
    t = both.call("put_artifact_type", pb.ArtifactType(name="T"))
    values = ["b\\s", "b\\\\s", "a\nb", "t\tx", "q'q", 'd"d', "A"]
    artifacts = []
    for v in values:
        a = pb.Artifact(type_id=t)
        a.custom_properties["v"].string_value = v
        artifacts.append(a)
    both.call("put_artifacts", artifacts)
    cases = {  # the literal: (ml_metadata's answer, ours)
        r"'b\\s'": ([2], [1]),
        r"'b\\\\s'": ([], [2]),
        r"'a\nb'": ([], [3]),
        r"'t\tx'": ([], [4]),
        r"'q\'q'": ([5], [5]),
        r'"d\"d"': ([6], [6]),
        r"'\x41'": ([7], [7]),
    }
    for literal, (theirs, ours) in cases.items():
        for op in ("=", "LIKE"):
            query = f"custom_properties.v.string_value {op} {literal}"
            assert (_ids(both.ref, query), _ids(both.ours, query)) == (theirs, ours), query


def test_a_struct_has_no_string_value_here(both: Both) -> None:
    """Deliberate (D11): MLMD keeps a struct in its string column (an encoded ``mlmd-struct::``
    text), so ``string_value`` filters see it there; here a struct is no string."""
    t = both.call("put_artifact_type", pb.ArtifactType(name="T"))
    a = pb.Artifact(type_id=t)
    a.custom_properties["s"].struct_value.CopyFrom(struct_pb2.Struct(fields={}))
    a.custom_properties["s"].struct_value.update({"k": 1})
    both.call("put_artifacts", [a, pb.Artifact(type_id=t)])
    cases = {
        "custom_properties.s.string_value IS NOT NULL": ([1], []),
        "custom_properties.s.string_value LIKE 'mlmd-struct::%'": ([1], []),
        "custom_properties.s.string_value IS NULL": ([], [1]),
        "custom_properties.s.int_value IS NULL": ([1], [1]),
        "custom_properties.s.struct_value IS NULL": (
            errors.InvalidArgumentError,
            errors.InvalidArgumentError,
        ),
    }
    for query, expected in cases.items():
        assert (_ids(both.ref, query), _ids(both.ours, query)) == expected, query


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ("custom_properties .v.int_value = 1", "custom_properties.v.int_value = 1"),
        ("custom_properties.v /**/ .int_value = 1", "custom_properties.v.int_value = 1"),
        ("contexts_a .name = 'c'", "contexts_a.name = 'c'"),
        ("custom_properties.`a\\`b`.int_value = 2", None),  # MLMD cannot reach a`b
        ("custom_properties.`a\\x2eb`.int_value = 3", "custom_properties.`a.b`.int_value = 3"),
        ("custom_properties.`a\\nb`.int_value = 4", None),
        ("custom_properties.`a\nb`.int_value = 4", None),
        (
            "contexts_a.name = 'c' AND contexts_A.id = 1",
            "contexts_a.name = 'c' AND contexts_a.id = 1",
        ),
    ],
)
def test_forms_mlmds_rewriting_refuses_are_answered_here(
    both: Both, query: str, same_as: str | None
) -> None:
    """Deliberate (D11): MLMD 1.17.1 rewrites the filter's text before ZetaSQL reads it, and
    fails on these; here they mean what ZetaSQL reads (``same_as``, which MLMD answers too)."""
    t = both.call("put_artifact_type", pb.ArtifactType(name="T"))
    a = pb.Artifact(type_id=t)
    for name, value in (("v", 1), ("a`b", 2), ("a.b", 3), ("a\nb", 4)):
        a.custom_properties[name].int_value = value
    ctx = pb.Context(type_id=both.call("put_context_type", pb.ContextType(name="C")), name="c")
    both.call("put_artifacts", [a, pb.Artifact(type_id=t)])
    both.call("put_contexts", [ctx])
    both.call(
        "put_attributions_and_associations", [pb.Attribution(artifact_id=1, context_id=1)], []
    )
    assert _ids(both.ref, query) is errors.InvalidArgumentError
    assert _ids(both.ours, query) == [1]
    if same_as is not None:
        assert _ids(both.ref, same_as) == [1]


@pytest.mark.parametrize("query", ["uri LIKE name", "'named' LIKE uri", "uri NOT LIKE name"])
def test_a_like_pattern_must_be_a_literal_here(digits: Both, query: str) -> None:
    """Deliberate (D11): a pattern is compiled with the filter; MLMD accepts any string."""
    assert isinstance(_ids(digits.ref, query), list)
    assert _ids(digits.ours, query) is errors.InvalidArgumentError


@pytest.mark.parametrize(
    ("query", "mlmd"),
    [
        ("1e400 = 0", [1, 2]),  # MLMD reads a literal past a double's range as 0
        ("-1e400 = 0", [1, 2]),
        ("1e400 > 0", []),
        ("id < 1e400", []),
        ("1e300 * 1e300 > 1e308", [1, 2]),  # a folded one as infinity
    ],
)
def test_a_number_beyond_a_double_is_refused_here(
    digits: Both, query: str, mlmd: list[int]
) -> None:
    """Deliberate (D11): a literal or folded value beyond a double's range is refused here;
    ml_metadata 1.17.1 reads such a literal as 0 (not as infinity, as the doc once said) and a
    folded one as infinity."""
    assert _ids(digits.ref, query) == mlmd
    assert _ids(digits.ours, query) is errors.InvalidArgumentError


@pytest.mark.parametrize(
    ("query", "mlmd", "here"),
    [
        ("state = 2", errors.InvalidArgumentError, [1]),
        ("events_0.type = 3", errors.InvalidArgumentError, []),
        ("state > 1", [1, 3], [1, 3]),
        ("2 = state", [1], [1]),
        ("state = /**/ LIVE", errors.InvalidArgumentError, [1]),
        ("state <> LIVE", errors.InvalidArgumentError, [2, 3]),
        ("State = LIVE", errors.InvalidArgumentError, [1]),
        ("state /* c */ = LIVE", errors.InvalidArgumentError, [1]),
        ("state IN (/* LIVE */ LIVE)", errors.InvalidArgumentError, [1]),
        ("1 = 1 /* state = LIVE */", [1, 2, 3], [1, 2, 3]),
        ("uri = 'state = LIVE'", [], [2]),  # MLMD rewrites the name inside the string
    ],
)
def test_enum_names_are_read_by_the_fields_type_here(
    both: Both, query: str, mlmd: list[int] | type[Exception], here: list[int]
) -> None:
    """Deliberate (D11): MLMD rewrites enum names by matching the filter's text; here they are
    resolved by the field's type. Each form docs/mlmd-compatibility.md lists, on both stores."""
    t = both.call("put_artifact_type", pb.ArtifactType(name="T"))
    both.call(
        "put_artifacts",
        [
            pb.Artifact(type_id=t, uri="a", state=pb.Artifact.LIVE),
            pb.Artifact(type_id=t, uri="state = LIVE"),
            pb.Artifact(type_id=t, uri="c", state=pb.Artifact.DELETED),
        ],
    )
    assert _ids(both.ref, query) == mlmd
    assert _ids(both.ours, query) == here


@pytest.mark.parametrize("nots", [20, 21, 40, 41])
def test_a_stack_of_nots_is_answered_as_mlmd_answers_it(digits: Both, nots: int) -> None:
    """Each NOT was sent as a group of its own, and FalkorDB 4.16 parses nested groups in
    exponential time, untimed: 12 NOTs held the embedded server minutes, where MLMD answers up
    to 45. NOT NOT x is x, so the engine now gets at most one."""
    for query in ("NOT " * nots + "uri = 'plain'", "NOT (" * nots + "uri = 'plain'" + ")" * nots):
        assert _ids(digits.ours, query) == _ids(digits.ref, query) == ([2] if nots % 2 else [1])


#: The deepest nesting of each shape MLMD 1.17.1 answers (one level more is its SQLite's "parser
#: stack overflow", measured), over the artifacts 1 (uri NULL), 2 (uri "b") and 3 (uri "c").
NESTED = {
    "alternating": "(id = 0 OR (id = 2 AND " * 14 + "id = 2" + "))" * 14,
    "not_and": "NOT (id = 2 AND NOT " * 12 + "uri = 'b'" + ")" * 12,
    "not_or": "NOT (id = 1 OR NOT (" * 12 + "uri = 'b' OR uri = 'c'" + "))" * 12,
    "parens": "(id = 3 OR (" * 29 + "uri = 'b'" + "))" * 29,
}

_NESTED_SCRIPT = """
import json, sys
from lineage_graph import LineageStore
from lineage_graph.mlmd import MetadataStore
from ml_metadata import ListOptions
from ml_metadata.proto import metadata_store_pb2 as pb
store = MetadataStore(LineageStore.open(sys.argv[1]))
t = store.put_artifact_type(pb.ArtifactType(name="T"))
store.put_artifacts([pb.Artifact(type_id=t), pb.Artifact(type_id=t, uri="b"),
                     pb.Artifact(type_id=t, uri="c")])
for query in json.loads(sys.argv[2]):
    found = store.get_artifacts(list_options=ListOptions(filter_query=query))
    print(json.dumps([a.id for a in found]), flush=True)
"""


def test_deeply_nested_groups_are_answered_as_mlmd_answers_them(tmp_path: Path) -> None:
    """FalkorDB 4.16 parses each parenthesised group or NOT nested in another in time that
    multiplies (~x3 a level), before its query timeout applies: 8 nested ``NOT (… AND NOT …)``
    held the embedded server more than a minute (29 nested groups, which MLMD
    answers, would take hours). Groups are now bracketed past a few levels and
    NOTs pushed down to the comparisons. Run in a process of its own, bounded, so that a hang
    fails the test instead of holding the run."""
    queries = list(NESTED.values())
    ref = real_mlmd()
    t = ref.put_artifact_type(pb.ArtifactType(name="T"))
    ref.put_artifacts(
        [pb.Artifact(type_id=t), pb.Artifact(type_id=t, uri="b"), pb.Artifact(type_id=t, uri="c")]
    )
    expected = [_ids(ref, q) for q in queries]
    assert all(isinstance(ids, list) for ids in expected), expected
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _NESTED_SCRIPT, str(tmp_path / "store"), json.dumps(queries)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired as exc:
        _stop_servers_under(tmp_path)
        pytest.fail(f"nested filters not answered in 120 s: {exc.stdout!r}")
    _stop_servers_under(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [json.loads(line) for line in done.stdout.splitlines()] == expected


def _stop_servers_under(directory: Path) -> None:
    """Kill an embedded server the script left (a hang leaves it busy) started in ``directory``."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(directory)) and int(proc.name) != os.getpid():
            with contextlib.suppress(OSError):
                os.kill(int(proc.name), signal.SIGKILL)


@pytest.fixture
def int_ends(both: Both) -> Both:
    t = both.call(
        "put_artifact_type", pb.ArtifactType(name="N", properties={"n": pb.INT, "d": pb.DOUBLE})
    )
    arts = []
    for n in (0, 1, 2**53 + 1, 2**63 - 1, 2**63 - 2, -(2**63), -(2**63) + 1):
        a = pb.Artifact(type_id=t, uri=str(n))
        a.properties["n"].int_value = n
        arts.append(a)
    d = pb.Artifact(type_id=t, uri="d")
    d.properties["d"].double_value = 1e19  # MLMD keeps six digits: exact
    both.call("put_artifacts", [*arts, d])
    return both


@pytest.mark.parametrize(
    "query",
    [
        "properties.n.int_value = 4611686018427387904 * 2",
        "properties.n.int_value >= 9223372036854775807 + 1",
        "properties.n.int_value != 9223372036854775807 + 1",
        "properties.n.int_value < 9223372036854775807 + 1",
        "9223372036854775807 + 1 <= properties.n.int_value",
        "properties.n.int_value = -9223372036854775808 - 1",
        "properties.n.int_value <= -9223372036854775808 - 1",
        "properties.n.int_value > -9223372036854775808 - 1000",
        "properties.n.int_value = (9223372036854775807 + 1) - 1",
        "properties.n.int_value IN (9223372036854775807 + 1, 1)",
        "properties.n.int_value NOT IN (9223372036854775807 + 1)",
        "properties.n.int_value IN (-9223372036854775808 - 1)",
        "properties.n.int_value BETWEEN 9223372036854775807 + 1 AND 9223372036854775807 + 2",
        "properties.n.int_value = 9223372036854775807 + 1 OR properties.n.int_value = 1.5",
        "9223372036854775807 + 1 > 9223372036854775807",
        "9223372036854775807 + 1 IN (9223372036854775807)",
        "-9223372036854775808 - 1 < -9223372036854775807",
        # DOUBLE-typed: compared as doubles on both (2**63 - 1 is 2.0**63 then)
        "properties.n.int_value = 9223372036854775807.0",
        "properties.n.int_value = (9223372036854775807 + 1) * 1.0",
        "properties.n.int_value = (9223372036854775807 + 1) / 1",
        "properties.n.int_value IN (9223372036854775807 + 1, 1.5)",
        "properties.d.double_value > 9223372036854775807 + 1",
        "9223372036854775807 + 1 IN (9223372036854775807, 1.5)",
    ],
)
def test_integer_arithmetic_past_int64_compares_exactly(int_ends: Both, query: str) -> None:
    """``9223372036854775807 + 1`` is a double in MLMD's SQLite but typed INT64 by ZetaSQL, so
    an integer is compared with it exactly (``2**63 - 1`` is below it); it was compared as a
    double here, so ``properties.n.int_value = 4611686018427387904 * 2`` found ``2**63 - 1``
    and ``2**63 - 2``. A DOUBLE literal still compares as doubles, as in MLMD."""
    int_ends.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize(
    "query",
    [
        # a DOUBLE bound makes ZetaSQL compare all three as doubles (2**63 - 1 is 2.0**63)
        "properties.n.int_value BETWEEN 9223372036854775807 + 1 AND 1e300",
        "properties.n.int_value NOT BETWEEN 9223372036854775807 + 1 AND 1e300",
        "-9223372036854775808 - 1 BETWEEN properties.n.int_value AND 1e300",
        "properties.n.int_value BETWEEN 1.5 AND 9007199254740992",
        "properties.n.int_value IN (9007199254740992, 1.5)",
        "properties.n.int_value NOT IN (9007199254740992, 1.5)",
        "9007199254740993 IN (9007199254740992, 1.5)",
        # all INT64: an overflowed operand is exact against each integer, a double against
        # each overflowed value
        "9223372036854775807 + 1 IN (properties.n.int_value, -9223372036854775808 - 1)",
        "-9223372036854775808 - 1 IN (properties.n.int_value, 9223372036854775807 + 1)",
        "9223372036854775807 + 1 NOT IN (9223372036854775807, -9223372036854775808 - 1)",
        "9223372036854775807 + 1 IN (9223372036854775807, 9223372036854775807 + 2)",
        "9223372036854775807 + 1 NOT IN (9223372036854775807, NULL)",
    ],
)
def test_between_and_in_compare_their_operands_in_one_type(int_ends: Both, query: str) -> None:
    """ZetaSQL types a ``BETWEEN`` or an ``IN`` as a whole: a DOUBLE among its operands makes
    MLMD compare every one as a double, else integers and integer arithmetic past int64 compare
    exactly. The overflow rule was applied pair by pair, so ``int_value BETWEEN
    9223372036854775807 + 1 AND 1e300`` lost ``2**63 - 1`` (found before it), an overflowed
    operand of an ``IN`` was compared as a double with the integers of a mixed list (``2**63 IN
    (2**63 - 1, -2**63)`` listed every artifact), and an integer literal of a list or bound
    holding a DOUBLE was compared exactly (``IN (2**53, 1.5)`` missed ``2**53 + 1``)."""
    int_ends.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize(
    "query",
    [
        "9007199254740992 >= -9223372036854775808 - 1",
        "9223372036854775807 < -9223372036854775808 - 1",
        "-(9223372036854775807 + 1) > 9223372036854775807",
        "0 NOT BETWEEN -(9223372036854775807 + 1) AND 9223372036854775807",
        "-9223372036854775808 - 1 NOT BETWEEN 1 AND properties.n.int_value",
        "9223372036854775807 >= -9223372036854775808",
        "9007199254740993 = 9007199254740992.0",  # as doubles
        "9007199254740993 > 9007199254740992",
        "9223372036854775807 + 1 > 9223372036854775807",
    ],
)
def test_two_numbers_compare_as_sqlite_compares_them(int_ends: Both, query: str) -> None:
    """FalkorDB 4.16 compares two integers of opposite signs wrongly, and ``exact_int`` makes an
    overflowed literal an int64 one: ``9007199254740992 >= -9223372036854775808 - 1`` (a
    double before) selected nothing, where MLMD selects every artifact."""
    int_ends.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize(
    "query",
    [
        "properties.n.int_value IN (properties.m.int_value, 1.5)",
        "properties.n.int_value NOT IN (properties.m.int_value, 1.5)",
        "properties.n.int_value BETWEEN 1.5 AND properties.m.int_value",
        "properties.m.int_value BETWEEN properties.n.int_value AND 1e300",
        "properties.n.int_value IN (properties.m.int_value, 1)",  # INT64: exact
        "properties.n.int_value BETWEEN 1 AND properties.m.int_value",
    ],
)
def test_two_integer_fields_beside_a_double_compare_as_doubles(both: Both, query: str) -> None:
    """In an ``IN`` or ``BETWEEN`` that holds a DOUBLE, MLMD casts integer fields to DOUBLE
    too: ``2**53 + 1`` equals ``2**53`` there; the engines compared the two fields exactly."""
    t = both.call(
        "put_artifact_type", pb.ArtifactType(name="M", properties={"n": pb.INT, "m": pb.INT})
    )
    a = pb.Artifact(type_id=t)
    a.properties["n"].int_value = 2**53 + 1
    a.properties["m"].int_value = 2**53
    both.call("put_artifacts", [a, pb.Artifact(type_id=t)])
    both.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.fixture
def past_2_53(both: Both) -> Both:
    """Artifacts 1, 2 and 3 hold ``2**53 + 1``, ``2**53`` and ``2**63 - 1`` (as a property, a
    custom property and an event's time); artifact 4 holds ``10**16 + 1`` and the double
    ``1e16`` (MLMD keeps 15 significant digits of a double: this one is exact). As doubles
    ``2**53 + 1`` is ``2.0**53``, ``2**63 - 1`` is ``2.0**63`` and ``10**16 + 1`` is ``1e16``."""
    t = both.call(
        "put_artifact_type", pb.ArtifactType(name="N", properties={"n": pb.INT, "d": pb.DOUBLE})
    )
    arts = []
    for n in (2**53 + 1, 2**53, 2**63 - 1, 10**16 + 1):
        a = pb.Artifact(type_id=t, uri=str(n))
        a.properties["n"].int_value = n
        a.custom_properties["c"].int_value = n
        arts.append(a)
    arts[3].properties["d"].double_value = 1e16
    both.call("put_artifacts", arts)
    e = both.call("put_execution_type", pb.ExecutionType(name="E"))
    both.call("put_executions", [pb.Execution(type_id=e)])
    both.call(
        "put_events",
        [
            pb.Event(
                artifact_id=i, execution_id=1, type=pb.Event.OUTPUT, milliseconds_since_epoch=ms
            )
            for i, ms in ((1, 2**53 + 1), (2, 2**53), (3, 2**63 - 1))
        ],
    )
    return both


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("properties.n.int_value = 9007199254740992.0", [1, 2]),
        ("9007199254740992.0 = properties.n.int_value", [1, 2]),
        ("properties.n.int_value != 9007199254740992.0", [3, 4]),
        ("properties.n.int_value > 9007199254740992.0", [3, 4]),
        ("properties.n.int_value <= 9007199254740992.0", [1, 2]),
        ("properties.n.int_value = 9223372036854775807.0", [3]),
        ("properties.n.int_value BETWEEN 9007199254740992.0 AND 9007199254740992.0", [1, 2]),
        ("properties.n.int_value BETWEEN 1.5 AND 9007199254740992", [1, 2]),
        ("properties.n.int_value IN (9007199254740992, 1.5)", [1, 2]),
        ("properties.n.int_value IN (9007199254740992.0)", [1, 2]),
        ("properties.n.int_value NOT IN (9007199254740992, 1.5)", [3, 4]),
        ("properties.n.int_value = properties.d.double_value", [4]),
        ("properties.n.int_value BETWEEN 1e16 AND 1e16", [4]),
        ("properties.d.double_value >= properties.n.int_value", [4]),
        ("properties.n.int_value IN (properties.d.double_value, 0.5)", [4]),
        ("custom_properties.c.int_value = 9007199254740992.0", [1, 2]),
        ("custom_properties.c.int_value IN (1.5, 9007199254740993)", [1, 2]),
        ("events_e.milliseconds_since_epoch = 9007199254740992.0", [1, 2]),
        ("events_e.milliseconds_since_epoch IN (9007199254740992, 0.5)", [1, 2]),
        ("events_e.milliseconds_since_epoch > 9007199254740992.0", [3]),
        # OR-ed equalities (sent as one list): each its own type, a DOUBLE one as doubles
        ("properties.n.int_value = 9007199254740992.0 OR properties.n.int_value = 1", [1, 2]),
        (
            "properties.n.int_value = 10000000000000001 OR properties.n.int_value = "
            "9007199254740992.0",
            [1, 2, 4],
        ),
        ("properties.n.int_value = 1.5 OR properties.n.int_value = 9223372036854775807.0", [3]),
        (
            "NOT (custom_properties.c.int_value = 1e16 OR custom_properties.c.int_value = 1)",
            [1, 2, 3],
        ),
        (
            "events_e.milliseconds_since_epoch = 9007199254740992.0 OR "
            "events_e.milliseconds_since_epoch = 9223372036854775807",
            [1, 2, 3],
        ),
        # a DOUBLE field: each OR-ed equality is DOUBLE, its integer the double 1e16
        (
            "properties.d.double_value = 10000000000000001 OR properties.d.double_value = 1",
            [4],
        ),
        # exact (INT64 on both sides): 2**53 + 1 is not 2**53
        ("properties.n.int_value = 9007199254740992", [2]),
        ("properties.n.int_value IN (9007199254740992, 1)", [2]),
        # ids stay below 2**53: compared bare (an index serves them), the same answers
        ("id = 1.0", [1]),
        ("id IN (2, 2.5)", [2]),
    ],
)
def test_an_integer_compared_as_a_double_is_cast_on_every_engine(
    past_2_53: Both, query: str, found: list[int]
) -> None:
    """Where ZetaSQL types a comparison DOUBLE, MLMD casts an integer property (or an event's
    time) to a double: ``2**53 + 1 = 9007199254740992.0`` holds there. FalkorDB 4.16 compares
    an integer with a double as doubles too, but Neo4j 5 compares them exactly
    (neo4j/neo4j#13986), so on Neo4j these found artifact 2 alone (or 1 alone for ``!=``): the
    filter compiler now writes the cast (``toFloat``) for both engines. Only the Neo4j run can
    fail without it."""
    got = past_2_53.call("get_artifacts", list_options=ListOptions(filter_query=query))
    assert sorted(a.id for a in got) == found


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("create_time_since_epoch = 9007199254740992.0", [1, 2]),
        ("create_time_since_epoch > 9007199254740992.0", [3]),
        ("create_time_since_epoch IN (9007199254740992.0, 1.5)", [1, 2]),
        ("create_time_since_epoch = 9007199254740992.0 OR create_time_since_epoch = 7", [1, 2]),
        ("last_update_time_since_epoch BETWEEN 1.5 AND 9007199254740992", [1, 2]),
        ("last_update_time_since_epoch >= 9223372036854775807.0", [3]),
        ("create_time_since_epoch < 1e300 AND create_time_since_epoch != 1.5", [1, 2, 3]),
        ("create_time_since_epoch = 9007199254740992", [2]),  # INT64: exact
    ],
)
def test_a_time_compared_as_a_double_is_cast_past_2_53(
    store: Any, tmp_path: Path, query: str, found: list[int]
) -> None:
    """The times an import keeps are any int64: compared as doubles with a literal of 2**53 or
    more, a time is cast too (below that both comparisons agree, and the time stays bare for its
    index). Only the Neo4j run can fail without the cast."""
    file = str(tmp_path / "mlmd.db")
    pair = Both(real_mlmd(file), MetadataStore(store), file)
    t = pair.call("put_artifact_type", pb.ArtifactType(name="T"))
    pair.call("put_artifacts", [pb.Artifact(type_id=t, uri=str(i)) for i in range(3)])
    times = (2**53 + 1, 2**53, 2**63 - 1)
    pair.set_times("Artifact", {i + 1: (v, v) for i, v in enumerate(times)})
    got = pair.call("get_artifacts", list_options=ListOptions(filter_query=query))
    assert sorted(a.id for a in got) == found


#: Times kept by an import can be any int64: artifact i + 1 is created at TIMES[i].
TIMES = (2**53 + 1, 2**53, 2**63 - 1, -(2**63), -(2**53), -(2**53) - 1, -2, 5)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        # An integer literal of 2**53 or more in magnitude, compared exactly (INT64): FalkorDB's
        # index holds doubles, and its scans compared the literal as the double it rounds to.
        ("create_time_since_epoch < 9007199254740993", [2, 4, 5, 6, 7, 8]),
        ("NOT create_time_since_epoch < 9007199254740993", [1, 3]),
        ("create_time_since_epoch >= 9007199254740993", [1, 3]),
        ("create_time_since_epoch > -9007199254740993", [1, 2, 3, 5, 7, 8]),
        ("create_time_since_epoch <= 9223372036854775806", [1, 2, 4, 5, 6, 7, 8]),
        ("create_time_since_epoch IN (9007199254740992, 5)", [2, 8]),
        ("create_time_since_epoch = 9007199254740992 OR create_time_since_epoch = 5", [2, 8]),
        ("create_time_since_epoch = 9007199254740992 OR create_time_since_epoch = 1.5", [2]),
        ("last_update_time_since_epoch BETWEEN 9007199254740993 AND 9223372036854775807", [1, 3]),
        ("create_time_since_epoch NOT BETWEEN -9223372036854775808 AND -2", [1, 2, 3, 8]),
        (
            "create_time_since_epoch NOT BETWEEN 9223372036854775807 AND -2",
            [1, 2, 3, 4, 5, 6, 7, 8],
        ),
        # A small literal compared row by row (not through the index): FalkorDB compares two
        # integers by their difference, and 2**63 - 1 > -2 was false.
        ("create_time_since_epoch > -2 OR properties.n.int_value = 0", [1, 2, 3, 8]),
        ("create_time_since_epoch <= -2 OR properties.n.int_value = 0", [4, 5, 6, 7]),
        ("(create_time_since_epoch >= 1 AND uri != 'x') OR name = 'y'", [1, 2, 3, 8]),
        # Still exact, as before: a small literal through the index.
        ("create_time_since_epoch > 0", [1, 2, 3, 8]),
        ("create_time_since_epoch BETWEEN -3 AND 6", [7, 8]),
    ],
)
def test_a_time_past_2_53_compares_exactly_on_every_path(
    store: Any, tmp_path: Path, query: str, found: list[int]
) -> None:
    """A time compared with an integer (INT64) is compared exactly by MLMD's SQLite. On
    FalkorDB 4.16 an index scan compared a literal of 2**53 or more as a double
    (``create_time_since_epoch < 9007199254740993`` missed ``2**53``, an ``IN`` list holding
    ``2**53`` found ``2**53 + 1`` too), and a comparison made row by row, beside a test the
    index does not serve, compared ``2**63 - 1`` with ``-2`` by their difference, which wraps."""
    file = str(tmp_path / "mlmd.db")
    pair = Both(real_mlmd(file), MetadataStore(store), file)
    t = pair.call("put_artifact_type", pb.ArtifactType(name="T", properties={"n": pb.INT}))
    arts = []
    for i in range(len(TIMES)):
        a = pb.Artifact(type_id=t, uri=str(i))
        a.properties["n"].int_value = 1
        arts.append(a)
    pair.call("put_artifacts", arts)
    pair.set_times("Artifact", {i + 1: (v, v) for i, v in enumerate(TIMES)})
    got = pair.call("get_artifacts", list_options=ListOptions(filter_query=query))
    assert sorted(a.id for a in got) == found


@pytest.fixture
def one_int(both: Both) -> Both:
    t = both.call("put_artifact_type", pb.ArtifactType(name="T"))
    a = pb.Artifact(type_id=t)
    a.custom_properties["v"].int_value = 1
    ctx = pb.Context(type_id=both.call("put_context_type", pb.ContextType(name="C")), name="c")
    both.call("put_artifacts", [a, pb.Artifact(type_id=t)])
    both.call("put_contexts", [ctx])
    both.call(
        "put_attributions_and_associations", [pb.Attribution(artifact_id=1, context_id=1)], []
    )
    return both


@pytest.mark.parametrize(
    "query",
    [
        "custom_properties.v.int_VALUE = 1",
        "custom_properties.v.int_Value IS NOT NULL",
        "custom_properties.v.int_vAlUe IN (1, 2)",
        "custom_properties.v.string_VALUE IS NULL",
        "custom_properties.v.double_Value IS NULL AND custom_properties.v.bool_valuE IS NULL",
        "contexts_a.name = 'c' AND custom_properties.v.int_VALUE = 1",
    ],
)
def test_the_value_kinds_value_may_be_in_any_case(one_int: Both, query: str) -> None:
    """MLMD 1.17.1 finds a property's kind by its lower-case spelling up to the ``_``
    (``int_``), and ZetaSQL then reads ``int_VALUE`` as ``int_value``: it was refused here."""
    one_int.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize(
    "query",
    [
        "custom_properties.v.Int_value = 1",
        "custom_properties.v.INT_VALUE = 1",
        "custom_properties.v.inT_value = 1",
        "custom_properties.v.`int_Value` = 1",
        "custom_properties.v.int_VALUEs = 1",
        "custom_properties.v.struct_VALUE IS NULL",
    ],
)
def test_the_value_kind_itself_is_lower_case(one_int: Both, query: str) -> None:
    assert one_int.fails("get_artifacts", list_options=ListOptions(filter_query=query)) is (
        errors.InvalidArgumentError
    )


@pytest.fixture
def states(both: Both) -> Both:
    t = both.call("put_artifact_type", pb.ArtifactType(name="S"))
    e = both.call("put_execution_type", pb.ExecutionType(name="E"))
    arts = [pb.Artifact(type_id=t, state=s) for s in (1, 2, 3, 4)]
    ids = both.call("put_artifacts", arts)
    [run] = both.call("put_executions", [pb.Execution(type_id=e, last_known_state=2)])
    kinds = (1, 3, 4, 5)
    events = [
        pb.Event(artifact_id=a, execution_id=run, type=k) for a, k in zip(ids, kinds, strict=True)
    ]
    both.call("put_events", events)
    return both


@pytest.mark.parametrize(
    "query",
    [
        "state >= -9223372036854775808",
        "state > -9223372036854775807",
        "state < 9223372036854775807",
        "NOT (state <= -9223372036854775808)",
        "-9223372036854775808 < state",
        "state BETWEEN -9223372036854775808 AND 9223372036854775807",
        "state >= -4611686018427387904 * 2",  # exact_int makes it -2**63
        "events_e.type > -9223372036854775807",
        "events_e.type <= 9223372036854775807 AND state > 1",
    ],
)
def test_an_enum_compares_with_an_integer_near_int64s_ends(states: Both, query: str) -> None:
    """An enum field holds small numbers, but FalkorDB 4.16 compares two integers of opposite
    signs by their difference (see _sign_split): ``state >= -9223372036854775808`` selected no
    artifact, where MLMD 1.17.1 selects every one."""
    states.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize(
    "query",
    [
        "NULL BETWEEN 1 AND 2",
        "NULL NOT BETWEEN 1 AND 2",
        "NOT (NULL BETWEEN 1 AND 2)",
        "NULL BETWEEN 'a' AND 'b' OR state = LIVE",
        "NULL BETWEEN NULL AND NULL",
        "NULL BETWEEN 1 AND NULL",
        "NULL BETWEEN -0.5 AND 9223372036854775807 + 1",
        "NULL BETWEEN id AND properties.n.int_value OR id = 1",
    ],
)
def test_null_may_be_the_subject_of_between(int_ends: Both, query: str) -> None:
    """``NULL BETWEEN 1 AND 2`` is NULL in MLMD 1.17.1 (it selects nothing, negated too); it was
    ``InvalidArgumentError`` here ("Operands of >= cannot be literal NULL")."""
    int_ends.call("get_artifacts", list_options=ListOptions(filter_query=query))


@pytest.mark.parametrize(
    "query",
    ["NULL BETWEEN 'a' AND 2", "NULL BETWEEN TRUE AND 1", "NULL BETWEEN foo AND 1"],
)
def test_the_bounds_of_a_null_between_are_still_checked(int_ends: Both, query: str) -> None:
    assert int_ends.fails("get_artifacts", list_options=ListOptions(filter_query=query)) is (
        errors.InvalidArgumentError
    )


@pytest.mark.parametrize(
    "query",
    [
        "properties.n.int_value NOT BETWEEN state AND properties.d.double_value",
        "properties.n.int_value BETWEEN state AND 1e300",
        "state BETWEEN .5 AND properties.n.int_value",
        "state NOT BETWEEN properties.n.int_value AND 1e300",
        "properties.n.int_value IN (state, 0.5)",
        "NOT (properties.n.int_value IN (0.5, state))",
    ],
)
def test_an_enum_beside_a_double_compares_as_a_double(both: Both, query: str) -> None:
    """A ``BETWEEN`` or ``IN`` holding a DOUBLE compares all its operands as doubles (see
    ``doubles_pair``), an enum field and an integer field too: they were compared as two
    integers, which FalkorDB 4.16 compares wrongly past int64, so ``state BETWEEN .5 AND
    properties.n.int_value`` listed ``n = -2**63``, where MLMD 1.17.1 does not."""
    t = both.call(
        "put_artifact_type", pb.ArtifactType(name="N", properties={"n": pb.INT, "d": pb.DOUBLE})
    )
    arts = []
    for n in (-(2**63), -(2**63) + 1, -5, 1, 3, 2**63 - 1):
        a = pb.Artifact(type_id=t, state=2)
        a.properties["n"].int_value = n
        a.properties["d"].double_value = 1e19
        arts.append(a)
    both.call("put_artifacts", arts)
    both.call("get_artifacts", list_options=ListOptions(filter_query=query))
