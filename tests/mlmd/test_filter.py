"""filter_query engine on its own: syntax errors with positions, paging tokens, restrictions,
hostile input, and Neo4j validity of the generated queries (Neo4j's own analyser)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    Artifact,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    PropertyType,
)
from lineage_graph.mlmd._filter import compile_filter
from lineage_graph.mlmd._filter_parse import parse_filter
from lineage_graph.mlmd._listing import ListQuery, build_list_query, list_node_ids

ROOT = Path(__file__).resolve().parents[2]
LINT_DIR = ROOT / "tools" / "cypher-lint"

A = NodeKind.ARTIFACT


def quote(text: str) -> str:
    """``text`` as a double-quoted filter literal."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def backquote(name: str) -> str:
    escaped = (
        name.replace("\\", "\\\\").replace("`", "\\`").replace("\n", "\\n").replace("\r", "\\r")
    )
    return f"`{escaped}`"


def ids(store: LineageStore, filter_query: str = "", **kwargs: object) -> list[int]:
    found, _ = list_node_ids(store, ListQuery(kind=A, filter_query=filter_query, **kwargs))  # type: ignore[arg-type]
    return found


# ------------------------------------------------------------------------------ syntax errors


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("uri ==== 3", "1:6"),
        ("(id = 1", "1:8"),
        ("id = 1)", "1:7"),
        ("id = 1 id = 2", "1:8"),
        ("id = ", "1:6"),
        ('name = "unclosed', "1:8"),
        ("name = 'a\\qb'", "1:10"),
        ("id = 1 AND\n  name ~ 'x'", "2:8"),
        ("properties.x.int_value IN ()", "1:28"),
        ("id IS 3", "1:7"),
        ("`` = 1", "1:1"),
        ("id = 99999999999999999999", "1:6"),
        ("NOT", "1:4"),
    ],
)
def test_syntax_error_names_the_position(query: str, position: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"\[at {position}\]"):
        compile_filter(query, A)


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ('name = "a" OR name = 3 OR id = 1', "1:20"),
        ("properties.ok.bool_value = TRUE OR properties.ok.bool_value = 1", "1:61"),
        ('id = 1 OR id = 1/0 OR id = "x"', "1:26"),
    ],
)
def test_an_equality_chain_error_names_its_comparison(query: str, position: str) -> None:
    """Equalities of one field OR-ed together are read as one IN list: a type error still
    names the comparison that holds it, as ``=`` (not IN)."""
    with pytest.raises(InvalidArgumentError, match=rf"operator = .*\[at {position}\]"):
        compile_filter(query, A)


@pytest.mark.parametrize(
    "query",
    [
        "nosuch = 1",
        'id = "1"',
        "name = 3",
        "name = NULL",
        "state = live",
        "state = NOT_A_STATE",
        "properties.x.struct_value = 1",
        "properties.x = 1",
        "contexts_a.uri = 'x'",
        "parent_contexts_a.id = 1",
        "events_a.artifact_id = 1",
        "id LIKE 'x'",
        "uri LIKE name",
        "name = 'nul\\x00char'",
        "id",
        # Nested deeper than 200 (MLMD: "parser stack overflow" from 46 NOTs, 100 groups);
        # redundant parentheses, ((((id = 1)))), are not nesting (MLMD takes any number).
        "(id = 2 OR " * 201 + "id = 1" + ")" * 201,
        "NOT " * 201 + "id = 1",
        "((((" * 300 + "id = 1 OR NOT (" * 201 + "id = 1" + ")" * 201 + "))))" * 300,
    ],
)
def test_semantic_errors_are_invalid_argument(query: str) -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid `filter_query`"):
        compile_filter(query, A)


def test_parser_accepts_the_documented_forms() -> None:
    for text in [
        "id = 1 AND (name = 'a' OR NOT uri LIKE \"%x\")",
        "properties.`my prop`.int_value >= -3",
        "custom_properties.`a\\`b`.string_value = 'x'",
        "state IN (LIVE, PENDING) AND id NOT IN (1, 2) AND id NOT BETWEEN 3 AND 4",
        "name IS NOT NULL and uri is null",
        "properties.x.double_value < 1.5e3 AND properties.y.double_value > .5",
        "name = '\\u00e9\\n\\t\\\\'",
    ]:
        parse_filter(text)
        compile_filter(text, A)


# ------------------------------------------------------------------------- paging and order


@pytest.fixture
def thirty(store: LineageStore) -> LineageStore:
    store.put_artifact_type(ArtifactType(name="DataSet", properties={"day": PropertyType.INT}))
    store.put_artifact_type(ArtifactType(name="Model", version="v2"))
    store.put_context_type(ContextType(name="Exp"))
    for start in range(0, 30, 10):  # batches: create times tie inside a batch
        store.put_artifacts(
            [
                Artifact(type="DataSet", uri=f"/d/{i}", properties={"day": i % 4})
                for i in range(start, start + 10)
            ]
        )
    store.put_artifacts([Artifact(type="Model", type_version="v2", uri="/m/1")])
    (ctx,) = store.put_contexts([Context(type="Exp", name="e")])
    store.put_attributions_and_associations(
        [Attribution(artifact_id=i, context_id=ctx) for i in (3, 5, 31)], []
    )
    return store


@pytest.mark.parametrize("order_by", ["id", "create_time", "last_update_time"])
@pytest.mark.parametrize("is_asc", [True, False])
def test_pages_concatenate_to_the_full_listing(
    thirty: LineageStore, order_by: str, is_asc: bool
) -> None:
    query = ListQuery(
        kind=A, filter_query="properties.day.int_value >= 1", order_by=order_by, is_asc=is_asc
    )
    full, token = list_node_ids(thirty, query)
    assert token is None and len(full) == 22
    times = {
        a.id: getattr(a, f"{order_by}_since_epoch" if order_by != "id" else "id")
        for a in thirty.get_artifacts()
    }
    expected = sorted(full, key=lambda i: (times[i], i), reverse=not is_asc)
    assert full == expected
    pages: list[int] = []
    token = None
    while True:
        page, token = list_node_ids(
            thirty,
            ListQuery(**{**query.__dict__, "limit": 5, "page_token": token}),
        )
        pages += page
        assert len(page) <= 5
        if token is None:
            break
    assert pages == full


def test_limit_without_more_rows_gives_no_token(thirty: LineageStore) -> None:
    found, token = list_node_ids(thirty, ListQuery(kind=A, limit=31))
    assert len(found) == 31 and token is None
    found, token = list_node_ids(thirty, ListQuery(kind=A, limit=30))
    assert len(found) == 30 and token is not None


def test_a_token_only_continues_its_own_query(thirty: LineageStore) -> None:
    _, token = list_node_ids(thirty, ListQuery(kind=A, filter_query="id > 1", limit=2))
    assert token
    for other in [
        ListQuery(kind=A, filter_query="id > 2", limit=2, page_token=token),
        ListQuery(kind=A, filter_query="id > 1", order_by="create_time", limit=2, page_token=token),
        ListQuery(kind=A, filter_query="id > 1", is_asc=False, limit=2, page_token=token),
        ListQuery(kind=NodeKind.EXECUTION, filter_query="id > 1", limit=2, page_token=token),
    ]:
        with pytest.raises(InvalidArgumentError, match="different query"):
            list_node_ids(thirty, other)
    for garbage in ["x", "bm90IGpzb24=", token[:-4], "é"]:
        with pytest.raises(InvalidArgumentError, match="invalid page token"):
            list_node_ids(thirty, ListQuery(kind=A, filter_query="id > 1", page_token=garbage))
    # Forged fields of a well-formed token: every one refused, none reaches the engine.
    by_id = ListQuery(kind=A, filter_query="id > 1", limit=2)
    by_time = ListQuery(kind=A, filter_query="id > 1", order_by="create_time", limit=2)
    for query, fields in [
        (by_id, {"i": 2**63}),
        (by_id, {"i": -(2**63) - 1}),
        (by_id, {"i": True}),
        (by_id, {"i": 2.5}),
        (by_id, {"o": 5}),  # an order value in a token by id
        (by_time, {"o": None}),
        (by_time, {"o": 2**63}),
        (by_time, {"o": "5"}),
        (by_id, {"w": 0}),
        (by_id, {"w": -3}),
        (by_id, {"w": 1.5}),
        (by_id, {"w": "8"}),
        (by_id, {"w": 2**64}),
    ]:
        blob = {"v": 1, "q": query.fingerprint(), "o": None, "i": 3} | fields
        forged = base64.urlsafe_b64encode(json.dumps(blob).encode()).decode()
        with pytest.raises(InvalidArgumentError, match="not a token returned"):
            list_node_ids(thirty, ListQuery(**{**query.__dict__, "page_token": forged}))
    # The last id there is: nothing follows it (no window beyond the int64 range is read).
    blob = {"v": 1, "q": by_id.fingerprint(), "o": None, "i": 2**63 - 1}
    last = base64.urlsafe_b64encode(json.dumps(blob).encode()).decode()
    assert list_node_ids(thirty, ListQuery(**{**by_id.__dict__, "page_token": last})) == ([], None)
    page, _ = list_node_ids(
        thirty, ListQuery(kind=A, filter_query="id > 1", limit=2, page_token=token)
    )
    assert page == [4, 5]


def test_bad_options_are_invalid_argument(thirty: LineageStore) -> None:
    with pytest.raises(InvalidArgumentError, match="limit"):
        list_node_ids(thirty, ListQuery(kind=A, limit=-1))
    with pytest.raises(InvalidArgumentError, match="order_by"):
        list_node_ids(thirty, ListQuery(kind=A, order_by="name"))
    with pytest.raises(InvalidArgumentError, match="context"):
        list_node_ids(thirty, ListQuery(kind=NodeKind.CONTEXT, context_id=1))


def test_type_and_context_restrictions(thirty: LineageStore) -> None:
    assert ids(thirty, type_name="Model", type_version="v2") == [31]
    assert ids(thirty, type_name="Model") == []  # no unversioned Model type
    assert ids(thirty, "id > 0", type_name="Nope") == []
    with pytest.raises(InvalidArgumentError):
        ids(thirty, "id >", type_name="Nope")  # a bad filter is an error even then
    assert ids(thirty, context_id=1) == [3, 5, 31]
    assert ids(thirty, "uri LIKE '/d/%'", context_id=1, is_asc=False) == [5, 3]
    assert ids(thirty, context_id=99) == []
    assert ids(thirty, "id > 3", type_name="DataSet", context_id=1) == [5]
    found, token = list_node_ids(thirty, ListQuery(kind=A, context_id=1, limit=2))
    assert found == [3, 5] and token
    rest, _ = list_node_ids(thirty, ListQuery(kind=A, context_id=1, limit=2, page_token=token))
    assert rest == [31]


# ----------------------------------------------------------------------------- hostile input

HOSTILE = [
    'x" OR 1=1 //',
    "x' OR true RETURN n //",
    "`) DETACH DELETE n //",
    "}) MATCH (m) DETACH DELETE m //",
    "$p0",
    "ünï 😀 文字",
    "back\\slash",
    "%_%",
    "a" * 3000,
]


@pytest.fixture
def hostile(store: LineageStore) -> LineageStore:
    store.put_artifact_type(ArtifactType(name="T"))
    store.put_artifacts(
        [Artifact(type="T", name=name, custom_properties={name: name}) for name in HOSTILE]
    )
    return store


def test_hostile_names_and_property_names_match_exactly(hostile: LineageStore) -> None:
    for index, text in enumerate(HOSTILE, start=1):
        assert ids(hostile, f"name = {quote(text)}") == [index], text
        prop = f"custom_properties.{backquote(text)}.string_value"
        assert ids(hostile, f"{prop} = {quote(text)}") == [index], text
        assert ids(hostile, f"{prop} IS NOT NULL") == [index], text
    assert ids(hostile, 'name LIKE "%\\\\%"') == [7]  # the backslash name
    assert len(hostile.get_artifacts()) == len(HOSTILE)  # nothing was deleted


#: Text around the one place UTF-16 order differs from code point order: U+E000..U+FFFF sort
#: above every supplementary character (U+10000 on) in UTF-16, below them by code point.
SUPPLEMENTARY = ["a", "\ufb00", "\uffff", "\U00010000", "\U0001f600", "\U0001f600x"]


def test_string_ranges_compare_by_code_point(
    store: LineageStore, request: pytest.FixtureRequest
) -> None:
    """MLMD (SQLite's BINARY collation: UTF-8 bytes) orders strings by code point, as FalkorDB
    does. Neo4j 5 does only where both values are UTF-8 backed: StringValue.compareTo is Java's
    String.compareTo, UTF-16 ("NOTE: this doesn't respect code point order for code points that
    doesn't fit 16bits", and TextValueFuzzTest's code point test is @Disabled), so there
    ``uri < "😀"`` misses "\\uffff" and "\\ufb00". Not fixed: reported; xfail on Neo4j only."""
    if request.node.callspec.params.get("engine") == "neo4j":
        # Not strict: read from Neo4j's source, not seen on a server (none runs here).
        request.applymarker(
            pytest.mark.xfail(reason="Neo4j compares strings in UTF-16 order", strict=False)
        )
    store.put_artifact_type(ArtifactType(name="T"))
    made = store.put_artifacts(
        [Artifact(type="T", uri=v, custom_properties={"s": v}) for v in SUPPLEMENTARY]
    )
    for bound in ("\ufb00", "\U00010000", "\U0001f600"):
        for op, keep in (("<", str.__lt__), (">=", str.__ge__)):
            want = [i for i, v in zip(made, SUPPLEMENTARY, strict=True) if keep(v, bound)]
            assert ids(store, f"uri {op} {quote(bound)}") == want, (op, bound)
            prop = f"custom_properties.s.string_value {op} {quote(bound)}"
            assert ids(store, prop) == want, (op, bound)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)
    | st.sampled_from(HOSTILE)
)
def test_any_literal_or_property_name_is_data(hostile: LineageStore, text: str) -> None:
    expected = [HOSTILE.index(text) + 1] if text in HOSTILE else []
    for query in (
        f"name = {quote(text)}",
        f"custom_properties.{backquote(text)}.string_value = {quote(text)}",
    ):
        try:
            found = ids(hostile, query)
        except InvalidArgumentError:
            assert "\x00" in text or (query.startswith("custom") and text == "")
            continue
        assert found == expected, query


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.sampled_from(
            [
                *"()'\"`.,=<>!%_ \\\n",
                *["id", "name", "AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL", "1", "x"],
                *["MATCH", "properties", "contexts_a", "events_b", "int_value", "TRUE", "é"],
            ]
        ),
        max_size=25,
    ).map("".join)
)
def test_random_filters_are_a_result_or_a_typed_error(hostile: LineageStore, text: str) -> None:
    try:
        found = ids(hostile, text)
    except InvalidArgumentError:
        return
    assert set(found) <= set(range(1, len(HOSTILE) + 1))
    assert len(hostile.get_artifacts()) == len(HOSTILE)


@pytest.mark.parametrize(
    "query",
    [
        " OR ".join(["uri > 'x'"] * 10_001),
        "uri IN (" + ", ".join(["name"] * 10_001) + ")",  # one comparison a value
        " AND ".join(f"({' OR '.join(['id > 1'] * 500)})" for _ in range(21)),  # 10,500 in all
    ],
    ids=["or-chain", "in-fields", "nested"],
)
def test_a_filter_too_large_for_the_engine_is_refused(hostile: LineageStore, query: str) -> None:
    """FalkorDB plans a condition untimed, in time linear in its size: more than MAX_TERMS
    comparisons in all are refused before anything is sent, and up to MAX_TERMS still run."""
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        ids(hostile, query)
    assert ids(hostile, " OR ".join(["id < 2"] * 10_000)) == [1]
    assert ids(hostile, "name IN (" + ", ".join(["uri"] * 9_999) + ") OR id = 2") == [2]
    assert len(hostile.get_artifacts()) == len(HOSTILE)


def test_range_comparisons_of_two_integer_fields_count_ten(hostile: LineageStore) -> None:
    """Written by sign (FalkorDB compares two integers by their difference), such a comparison
    is planned ~10x slower than one: 10,000 held the engine ~80 s. Each counts 10."""
    times = "create_time_since_epoch <= last_update_time_since_epoch"
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        ids(hostile, " OR ".join([times] * 1_001))
    between = "id BETWEEN create_time_since_epoch AND last_update_time_since_epoch"
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        ids(hostile, " OR ".join([between] * 527))  # two halves: 19 each
    compile_filter(" OR ".join([times] * 1_000), A)  # 10,000: accepted
    # With a literal the split is cheap (one comparison each); an equality needs none.
    compile_filter(" OR ".join(["id < 5", "create_time_since_epoch = id"] * 5_000), A)
    every = list(range(1, len(HOSTILE) + 1))
    assert ids(hostile, " OR ".join([times] * 100)) == every
    assert len(hostile.get_artifacts()) == len(HOSTILE)


def test_long_chains_run_as_nested_groups(hostile: LineageStore) -> None:
    """One chain of 30,000 ``uri = 'x'`` crashed the embedded server (FalkorDB parses a chain
    recursively): equalities of one field OR-ed together are one ``IN`` list, and any chain is
    written as nested groups. MLMD 1.17.1 accepts groups of up to 997 whatever their number
    (9,000 as ten AND-ed groups of 900): they were refused here above 1,000 in all."""
    assert ids(hostile, " OR ".join(["uri = 'x'"] * 30_000) + " OR id = 3") == [3]
    assert ids(hostile, " OR ".join(f"id = {i}" for i in range(2, 60_000, 2))) == [
        i for i in range(1, len(HOSTILE) + 1) if i % 2 == 0
    ]
    groups = [f"({' OR '.join(['id < 3'] * 900)})" for _ in range(10)]  # 9,000 comparisons
    assert ids(hostile, " AND ".join(groups)) == [1, 2]
    assert ids(hostile, " OR ".join(["NOT id > 1"] * 9_999)) == [1]
    assert len(hostile.get_artifacts()) == len(HOSTILE)


def test_the_general_like_matcher_counts_a_hundred_comparisons(hostile: LineageStore) -> None:
    """FalkorDB plans each in ~35-55 ms, untimed (300 held the server 10-12 s with a 1 s query
    timeout): each counts GENERAL_LIKE_TERMS comparisons, 100 of them ~5 s."""
    general = "name LIKE '%qz_zq%qx'"
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        ids(hostile, " OR ".join([general] * 100 + ["id > 1"]))
    compile_filter(" OR ".join([general] * 99 + ["id > 1"] * 100), A)  # 10,000: accepted
    assert ids(hostile, " OR ".join([general] * 20)) == []
    assert ids(hostile, " OR ".join(["name LIKE 'qzqz%'"] * 9_000)) == []  # fast forms count one


def test_a_long_general_like_pattern_counts_by_its_length(hostile: LineageStore) -> None:
    """FalkorDB runs the exact matcher in time quadratic in the pattern's length, on every node:
    ``LIKE`` of 500,000 ``_`` ran past 100 s (50,000 5.7 s). A pattern of n characters counts
    n * n // 250,000 more; MLMD's SQLite refuses any longer than 50,000 bytes."""
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        compile_filter(" OR ".join(["name LIKE '" + "_" * 20_000 + "'"] * 7), A)  # 7 x 1,700
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        ids(hostile, "name LIKE '" + "_" * 500_000 + "'")
    compile_filter("name LIKE '" + "_" * 49_000 + "'", A)  # 100 + 9,604: accepted
    assert ids(hostile, "name LIKE '" + "_" * 3_000 + "'") == [9]  # "a" * 3000


def test_a_contains_pattern_holding_k_or_i_counts_one_comparison(hostile: LineageStore) -> None:
    """'%kit%' (any free segment holding a k or an i) took the general matcher for text holding
    KELVIN SIGN or a dotted capital I, and so counted 30 comparisons: 34 such LIKEs (MLMD runs
    them) were refused as more than 1,000. Those two characters are replaced before toLower."""
    patterns = ["%k%", "%i%", "%KI%", "%tik%"]
    expected = sorted({i for p in patterns for i in ids(hostile, f"name LIKE '{p}'")})
    query = " OR ".join(f"name LIKE '{p}'" for p in patterns * 10)  # 40 LIKEs
    assert ids(hostile, query) == expected


def test_a_filter_naming_too_many_aliases_is_refused(hostile: LineageStore) -> None:
    """Each alias is a MATCH clause FalkorDB plans in super-linear time, before its query timeout
    applies: 900 comparisons of three aliases each held the server for minutes."""
    many = " AND ".join(
        f"contexts_a{i}.id BETWEEN contexts_b{i}.id AND contexts_c{i}.id" for i in range(22)
    )  # 66 aliases
    with pytest.raises(InvalidArgumentError, match="more than 64 neighbourhood aliases"):
        ids(hostile, many)
    assert ids(hostile, " OR ".join(f"contexts_a{i}.name = 'x'" for i in range(64))) == []


def test_comparisons_of_neighbourhood_aliases_count_ten(hostile: LineageStore) -> None:
    """FalkorDB plans each condition on an alias's variable against every alias's MATCH, in
    super-linear time, untimed: 10,000 ``AND``-ed comparisons over 64 aliases held the embedded
    server 91 s (10,000 plain ones ~5 s). Each counts ALIAS_TERMS (10) comparisons."""
    over_64 = [f"contexts_a{i % 64}.name != 'n{i}'" for i in range(1_001)]
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        ids(hostile, " AND ".join(over_64))
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        ids(hostile, " AND ".join(["NOT (events_e.execution_id NOT BETWEEN 1 AND 2)"] * 1_001))
    compile_filter(" AND ".join(over_64[:1_000]), A)  # 10,000: accepted
    assert ids(hostile, " OR ".join(over_64[:20])) == []  # no artifact has a context


def test_each_property_tested_for_being_set_counts_its_value_kinds(
    hostile: LineageStore,
) -> None:
    """A property that the filter names without implying it is set (``IS NULL``, ``NOT IN``, an
    ``OR``) is tested for being set, one test of each of the seven stored value kinds: 10,000
    distinct such properties were 80,000 conditions, which held the server ~40 s (MLMD refuses
    more than ~60 properties: one join each). Each test counts against MAX_TERMS."""
    unset = [f"custom_properties.x{i}.string_value IS NULL" for i in range(1_251)]
    with pytest.raises(InvalidArgumentError, match="more than 10000 comparisons"):
        ids(hostile, " AND ".join(unset))  # 1,251 + 7 x 1,251
    compile_filter(" AND ".join(unset[:1_250]), A)  # 10,000: accepted
    # Implied by its own test, a property needs none: 2,000 distinct ones are 2,000 comparisons.
    compile_filter(" AND ".join(f"custom_properties.x{i}.int_value > 0" for i in range(2_000)), A)
    assert ids(hostile, " OR ".join(unset[:20])) == []  # none of them is set


# ---------------------------------------------------------------------- Neo4j query validity


def _lint(items: list[dict[str, str]]) -> dict[str, list[dict[str, object]]]:
    node = shutil.which("node")
    if node is None or not (LINT_DIR / "node_modules" / "@neo4j-cypher").is_dir():
        pytest.skip("Neo4j's Cypher analyser is not installed (npm ci --prefix tools/cypher-lint)")
    proc = subprocess.run(
        [node, str(LINT_DIR / "lint.mjs")],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        cwd=LINT_DIR,
        timeout=300,
        check=True,
    )
    return {entry["name"]: entry["errors"] for entry in json.loads(proc.stdout)}


#: One query per construct of the compiler (the analyser costs ~1 s per query on CI machines;
#: the differential table's queries are the same constructs combined).
LINT_CASES: list[tuple[NodeKind, str, dict[str, object]]] = [
    (A, "", {}),
    (A, "id = 1 AND name != 'x' OR NOT uri = ''", {"limit": 5}),
    (A, 'uri LIKE "%/data" AND properties.day.int_value > 0', {}),
    (A, "properties.day.int_value < -5 OR NOT id > -9223372036854775808", {}),
    (A, "uri LIKE 'gs%mo_el%2' OR name LIKE '_x'", {"order_by": "create_time", "is_asc": False}),
    (A, "NOT uri LIKE 'a%b' AND name LIKE '%x%'", {"limit": 3, "order_by": "last_update_time"}),
    (A, "name LIKE '%Kit%' OR NOT uri LIKE '%i%'", {}),  # the folded characters replaced
    (A, "state IN (LIVE) AND state != DELETED AND state IS NOT NULL", {"context_id": 2}),
    (A, 'contexts_a.type = "Exp" AND NOT contexts_b.name LIKE "E%"', {"limit": 2}),
    (A, "events_e.type = INPUT AND events_e.execution_id BETWEEN 1 AND 3", {}),
    (NodeKind.EXECUTION, "last_known_state NOT IN (NEW) AND properties.lr.double_value < 1", {}),
    (NodeKind.EXECUTION, "events_x.artifact_id = 1 OR contexts_c.id IN (1, 2)", {}),
    (NodeKind.CONTEXT, "parent_contexts_p.name = 'a' AND child_contexts_c.id > 1", {}),
    (NodeKind.CONTEXT, "artifacts_a.state = LIVE AND executions_e.name IS NULL", {"limit": 9}),
    (A, "custom_properties.`a b`.bool_value AND properties.f.bool_value = FALSE", {}),
    (A, 'name LIKE "%kit%" AND uri LIKE "ab%cd" AND name LIKE "I7"', {}),
    (A, 'NOT name LIKE "%Ünï_%x%" OR uri LIKE "%ü"', {}),
    (A, "id NOT IN (1, NULL) OR name IN (NULL) OR id = 1 / 0 -- folded\n OR id > 2 * 3", {}),
    # A chain longer than MAX_CHAIN (nested groups) and equalities read as IN lists.
    (A, " OR ".join([f"id = {i}" for i in range(40)] + ["name > 'a'", "id > 2"] * 40), {}),
    (A, "NOT (uri = 'a' OR uri = '' OR state = LIVE OR 1 = state) AND uri IN (name, 'x')", {}),
    # Groups nested past GROUP_PARENS levels (written `[...][0]`), NOTs pushed down into them.
    (A, "(id = 0 OR (id = 1 AND (id = 2 OR (id = 3 AND (id = 4 OR (uri = 'x'))))))", {}),
    (A, "NOT (id = 1 AND NOT (id = 2 OR NOT (id = 3 AND NOT (state = LIVE OR name IS NULL))))", {}),
    # A NOT over NOT BETWEEN / NOT LIKE: sent as the plain atom.
    (A, "NOT (id NOT BETWEEN 2 AND 4) AND NOT (uri NOT LIKE '%data' OR name NOT LIKE 'a%b')", {}),
    # One type per BETWEEN / IN: int64-exact members, a folded literal list, doubles.
    (
        A,
        "9223372036854775807 + 1 NOT IN (properties.n.int_value, 1, NULL) AND "
        "-9223372036854775808 - 1 IN (2, -9223372036854775807) OR id IN (2, 2.5) AND "
        "properties.n.int_value BETWEEN 2 AND 1e300 OR 9223372036854775807 + 1 IN (id, 1e300) "
        "OR properties.n.int_value IN (properties.m.int_value, 0.5)",
        {},
    ),
    # An enum split by sign, an enum beside a DOUBLE as a double, NULL BETWEEN.
    (
        A,
        "state >= -9223372036854775808 AND NOT (NULL BETWEEN 1 AND 2) OR "
        "state BETWEEN .5 AND properties.n.int_value OR properties.n.int_value IN (state, 0.5)",
        {},
    ),
    # An integer property or event time compared as a DOUBLE: read through toFloat().
    (
        A,
        "properties.n.int_value = 9007199254740992.0 OR events_e.milliseconds_since_epoch IN "
        "(1, 0.5) OR properties.n.int_value IN (properties.d.double_value, 1.5) OR "
        "custom_properties.c.int_value BETWEEN 1.5 AND 2 OR properties.m.int_value = 1 OR "
        "properties.m.int_value = 9007199254740992.0",
        {},
    ),
    # An id or a time compared exactly with an integer past 2**53: no index (`+ 0`), ranges
    # split by sign; a time beside a property test: split by sign.
    (
        A,
        "create_time_since_epoch < 9007199254740993 OR id IN (9007199254740992, 1) OR "
        "contexts_c.last_update_time_since_epoch BETWEEN -9223372036854775808 AND -2 OR "
        "(create_time_since_epoch > -2 AND properties.n.int_value = 1) OR "
        "create_time_since_epoch = 9007199254740992 OR create_time_since_epoch = 1.5",
        {},
    ),
    # OR-ed equalities of a DOUBLE field (its integers as doubles); of an id with a DOUBLE past
    # 2**53 (toFloat) beside integers past it (`+ 0`); an id or a time in a literal's list, a
    # context's id past 2**53, a split id under NOT: with a limit by time (the windows).
    (
        A,
        "properties.d.double_value = 10000000000000001 OR properties.d.double_value = 1 OR "
        "id = 9007199254740993.0 OR id = 9007199254740993 OR id = 2 OR "
        "9007199254740993 IN (create_time_since_epoch, id) OR "
        "NOT contexts_c.id IN (9007199254740993, NULL) OR NOT id < 5",
        {"limit": 4, "order_by": "create_time"},
    ),
    # Two integer fields (or an enum and one) compared by sign first, under NOT too.
    (
        A,
        "create_time_since_epoch < last_update_time_since_epoch OR NOT properties.n.int_value "
        ">= id OR contexts_c.id <= events_e.milliseconds_since_epoch OR "
        "state > custom_properties.c.int_value",
        {},
    ),
]


@pytest.mark.slow
def test_generated_queries_pass_the_neo4j_analyser() -> None:
    items: list[dict[str, str]] = []
    for n, (kind, text, extra) in enumerate(LINT_CASES):
        q = ListQuery(kind=kind, filter_query=text, **extra)  # type: ignore[arg-type]
        cypher, _ = build_list_query(q, "neo4j", type_id=3 if n % 2 else None)
        items.append({"name": f"{n}: {text}", "text": cypher})
    # A continued page (token condition) too.
    first = ListQuery(kind=A, filter_query="id > 0", order_by="create_time", limit=1)
    from lineage_graph.mlmd._listing import _encode_token

    token = _encode_token(first, 5, 7, 1000)
    cypher, _ = build_list_query(
        ListQuery(**{**first.__dict__, "page_token": token}), "neo4j", type_id=None
    )
    items.append({"name": "page", "text": cypher})
    # The windows of a limited page, both return shapes, by both times.
    for order_by in ("create_time", "last_update_time"):
        # tokens on both signs, both directions, windows within one sign (int64-exact forms)
        for after, is_asc, half in ((5, True, 1), (-5, False, -1), (-5, True, None)):
            by_time = ListQuery(**{**first.__dict__, "order_by": order_by, "is_asc": is_asc})
            token = _encode_token(by_time, after, 7, 1000)
            for nodes in (False, True):
                cypher, _ = build_list_query(
                    ListQuery(**{**by_time.__dict__, "page_token": token}),
                    "neo4j",
                    type_id=3,
                    nodes=nodes,
                    window=(5, 1004),
                    rows=2,
                    half=half,
                )
                name = f"window {order_by} {after} {is_asc} {half} nodes={nodes}"
                items.append({"name": name, "text": cypher})
    # A window across 0: its parts within one sign in one statement (UNION ALL).
    from lineage_graph.mlmd._listing import _halves, _window_statement

    across = ListQuery(kind=A, filter_query='contexts_a.name = "x"', order_by="create_time")
    for is_asc in (True, False):
        window = ListQuery(**{**across.__dict__, "is_asc": is_asc, "limit": 3})
        token = _encode_token(window, -5, 7, 1000)
        for nodes in (False, True):
            cypher, _ = _window_statement(
                ListQuery(**{**window.__dict__, "page_token": token}),
                "neo4j",
                3,
                nodes,
                _halves(-10, 10, "create_time", is_asc),
                4,
            )
            items.append({"name": f"across 0 {is_asc} nodes={nodes}", "text": cypher})
    items.append({"name": "broken", "text": "MATCH (n:Artifact) WHERE n.id = RETURN n"})
    report = _lint(items)
    assert report["broken"], "the analyser must reject a broken query"
    errors = {name: errs for name, errs in report.items() if errs and name != "broken"}
    assert not errors, json.dumps(errors, indent=1)


def test_integer_ranges_across_int64_ends(store: LineageStore) -> None:
    """FalkorDB 4.16 compares two integers by their difference, wrong when it leaves int64: a
    stored value near one end against a literal near the other (or of opposite sign) must still
    compare as numbers (as in MLMD's SQLite)."""
    store.put_type(ArtifactType(name="T", properties={"n": PropertyType.INT}))
    values = [-(2**63), -(2**63) + 1, -5, 0, 7, 2**63 - 2, 2**63 - 1]
    made = store.put_artifacts([Artifact(type="T", properties={"n": v}) for v in values])
    by_id = dict(zip(made, values, strict=True))
    for op, test in [
        ("<", lambda x, y: x < y),
        ("<=", lambda x, y: x <= y),
        (">", lambda x, y: x > y),
        (">=", lambda x, y: x >= y),
    ]:
        for lit in (-(2**63), -(2**63) + 1, -5, -1, 0, 1, 2**63 - 1):
            query = f"properties.n.int_value {op} {lit}"
            want = [i for i, v in by_id.items() if test(v, lit)]
            assert ids(store, query) == want, query
            assert ids(store, f"NOT ({query})") == [i for i in made if i not in want], query


def test_integer_fields_compared_across_int64_ends(store: LineageStore) -> None:
    """Two integer fields compared with each other: FalkorDB 4.16 compares them by their
    difference too (``n.a > n.b`` was false for ``2**62`` and ``-2**62``), so values of
    opposite signs far apart must still compare as numbers, as in MLMD's SQLite."""
    store.put_type(
        ArtifactType(name="T", properties={"a": PropertyType.INT, "b": PropertyType.INT})
    )
    big = 2**63 - 1
    pairs = [
        (-2, big),
        (big, -2),
        (-(2**63), 5),
        (5, -(2**63)),
        (-(2**62), 2**62),
        (2**62, -(2**62)),
        (3, 4),
        (-4, -3),
        (7, 7),
    ]
    made = store.put_artifacts([Artifact(type="T", properties={"a": a, "b": b}) for a, b in pairs])
    by_id = dict(zip(made, pairs, strict=True))
    for op, test in [
        ("<", lambda x, y: x < y),
        ("<=", lambda x, y: x <= y),
        (">", lambda x, y: x > y),
        (">=", lambda x, y: x >= y),
    ]:
        query = f"properties.a.int_value {op} properties.b.int_value"
        want = [i for i, (a, b) in by_id.items() if test(a, b)]
        assert ids(store, query) == want, query
        assert ids(store, f"NOT ({query})") == [i for i in made if i not in want], query
        flipped = f"properties.b.int_value {op} properties.a.int_value"
        assert ids(store, flipped) == [i for i, (a, b) in by_id.items() if test(b, a)], flipped
    # Against the id (an indexed attribute), and within a BETWEEN.
    want = [i for i, (a, _) in by_id.items() if i > a]
    assert ids(store, "id > properties.a.int_value") == want
    want = [i for i, (a, b) in by_id.items() if a <= i <= b]
    assert ids(store, "id BETWEEN properties.a.int_value AND properties.b.int_value") == want
    # The two times (an import keeps any int64), set as properties a and b are.
    store.backend.write(
        "UNWIND $rows AS r MATCH (n:Artifact) WHERE n.id = r.id "
        "SET n.create_time_since_epoch = r.c, n.last_update_time_since_epoch = r.u",
        {"rows": [{"id": i, "c": a, "u": b} for i, (a, b) in by_id.items()]},
        name="test/set_times",
    )
    query = "create_time_since_epoch < last_update_time_since_epoch"
    assert ids(store, query) == [i for i, (a, b) in by_id.items() if a < b]
    assert ids(store, f"NOT {query}") == [i for i, (a, b) in by_id.items() if a >= b]


@pytest.mark.parametrize(
    ("query", "want"),
    [
        ("1 < 2 AND 9223372036854775807 + 1 > 9223372036854775807", [1, 2]),
        ("id = 5 OR 2 >= 3", []),
        ("properties.a.int_value = 1", [1]),  # its existence implied: no key of other kinds
        ("properties.a.int_value IN (1, 2, 9223372036854775807 + 1)", [1, 2]),
        ("NULL IN (id, 1) OR id IN (2, 3)", [2]),
        ("id BETWEEN NULL AND 3 OR properties.a.int_value != 2", [1]),
    ],
)
def test_only_the_parameters_a_filter_reads_are_sent(
    store: LineageStore, query: str, want: list[int]
) -> None:
    """A comparison the compiler decides itself (``1 < 2``), a literal list read as one
    parameter, a property whose test implies it exists: their values' and keys' parameters are
    not sent with the statement (FalkorDB receives each in the text's parameter header)."""
    store.put_type(ArtifactType(name="T", properties={"a": PropertyType.INT}))
    store.put_artifacts([Artifact(type="T", properties={"a": v}) for v in (1, 2)])
    sent: list[tuple[str, dict[str, object]]] = []
    original = store.backend.read

    def reading(text: str, params: dict[str, object] | None = None, **how: object) -> object:
        sent.append((text, dict(params or {})))
        return original(text, params, **how)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store.backend, "read", reading)
        assert ids(store, query) == want
    assert sent
    for text, params in sent:
        unread = [n for n in params if not re.search(rf"\${n}(?![A-Za-z0-9_])", text)]
        assert not unread, (query, unread, params)
