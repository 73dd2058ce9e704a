"""The runtime rules of Cypher that the library's statements rely on, run on every engine.

Neo4j's analyser (tools/cypher-lint) checks syntax and semantics only: these are what a statement
that parses does when it runs, where a FalkorDB answer cannot stand in for Neo4j's. Each test
names the statements in cypher/ (or the code building Cypher) that depend on the rule. They run
on the embedded engine here and on Neo4j wherever the suite has one (``NEO4J_URI``): a rule
Neo4j answers differently fails there, pointing at the statement to change.
"""

from __future__ import annotations

from typing import Any

import pytest

from lineage_graph import QueryError
from lineage_graph._repositories.cache import input_signature
from lineage_graph._repositories.graph import _aborted
from lineage_graph.store import MAX_PAGE_SIZE
from tests.conftest import RecordingBackend


def _seeded(backend: RecordingBackend) -> RecordingBackend:
    """The backend with one node written: FalkorDB answers no row at all to a read of a graph
    never written (even ``RETURN 1``)."""
    backend.write("CREATE (:LgSeed)", name="t/seed")
    return backend


def _one(backend: RecordingBackend, query: str, **params: Any) -> dict[str, Any]:
    [row] = backend.read(query, params, name="t/rule")
    return row


def test_an_integer_division_by_zero_aborts_the_whole_statement(backend: RecordingBackend) -> None:
    """graph/write's guards (and mark, claim_version's callers through it) abort a write by
    dividing an integer by zero: the engine must raise, write nothing of the statement, and
    say it in words GraphWriter recognises (FalkorDB "Division by zero", Neo4j "/ by zero")."""
    _seeded(backend)
    with pytest.raises(QueryError) as info:
        backend.write(
            "CREATE (n:LgRule {k: 1}) WITH n "
            "WHERE 1 / (CASE WHEN n.k = 2 THEN 1 ELSE 0 END) = 1 RETURN n.k AS k",
            name="t/guard",
        )
    assert _aborted(info.value), info.value
    assert _one(backend, "MATCH (n:LgRule) RETURN count(n) AS c") == {"c": 0}


def test_null_in_a_property_map_sets_nothing_and_removes_with_plus_equals(
    backend: RecordingBackend,
) -> None:
    """CREATE with a null in its map stores no such key (no error); ``SET n += {k: null}``
    removes k (graph/write's ``drop`` and ``stray`` rows, mark/unmark); ``SET n = map`` with
    null values keeps only the others (retention/apply's ``SET n = kept``, a map projection of
    keys a node may lack)."""
    _seeded(backend)
    row = backend.write(
        "CREATE (a:LgRule {k: 1, gone: null})-[r:LG_REL {x: null, y: 2}]->(:LgRule {k: 2}) "
        "RETURN keys(a) AS ka, keys(r) AS kr",
        name="t/create",
    )
    assert row == [{"ka": ["k"], "kr": ["y"]}]
    [row] = backend.write(
        "MATCH (a:LgRule {k: 1}) SET a += {extra: 'x', q: 3} SET a += {q: null} "
        "RETURN properties(a) AS p",
        name="t/patch",
    )
    assert row["p"] == {"k": 1, "extra": "x"}
    [row] = backend.write(
        "MATCH (a:LgRule {k: 1}) WITH a, a {.k, .missing} AS kept SET a = kept "
        "RETURN properties(a) AS p",
        name="t/replace",
    )
    assert row["p"] == {"k": 1}


def test_merge_on_a_null_key_is_an_error(backend: RecordingBackend) -> None:
    """Every MERGE key the library sends is validated first (ids, kinds, sources, event
    types): both engines refuse to MERGE on a null property value."""
    _seeded(backend)
    with pytest.raises(QueryError, match="null property value"):
        backend.write("MERGE (n:LgRule {k: $k}) RETURN n.k AS k", {"k": None}, name="t/merge")


def test_homogeneous_lists_are_stored_and_indexed_from_either_end(
    backend: RecordingBackend,
) -> None:
    """The only lists stored as properties: an artifact's ``model_claim`` [context id, version]
    (tracker/claim_version reads ``[0]`` and ``[1]``) and its ``impact_marks`` (mark appends,
    unmark reads ``[-1]`` and keeps ``[0..-1]``)."""
    _seeded(backend)
    row = backend.write(
        "CREATE (a:LgRule {k: 1}) SET a.claim = [7, 3], a.marks = ['m1', 'm2'] "
        "RETURN a.claim AS claim, a.claim[1] AS version, a.marks AS marks, "
        "a.marks[-1] AS last, a.marks[0..-1] AS below",
        name="t/lists",
    )
    assert row == [
        {"claim": [7, 3], "version": 3, "marks": ["m1", "m2"], "last": "m2", "below": ["m1"]}
    ]


def test_keys_of_a_map_parameter_include_those_holding_null(backend: RecordingBackend) -> None:
    """lineage/mark checks ``all(k IN keys(r.expect) ...)`` where a null value means "still
    absent" (a property another writer must not have added): keys() must list it."""
    _seeded(backend)
    row = _one(backend, "RETURN keys($m) AS k", m={"absent": None, "state": 1})
    assert sorted(row["k"]) == ["absent", "state"]


def test_aggregates_over_nothing_and_over_nulls(backend: RecordingBackend) -> None:
    """collect() and count() skip nulls (the cache's input lists, OPTIONAL MATCH counts in
    graph/write's reference guards), max() of nothing is null (migrations' coalesce(max(id), 0),
    tracker/highest_version)."""
    _seeded(backend)
    row = _one(
        backend,
        "OPTIONAL MATCH (n:LgNothing) "
        "RETURN count(n) AS c, collect(n.k) AS ks, max(n.k) AS m, coalesce(max(n.k), 0) AS m0",
    )
    assert row == {"c": 0, "ks": [], "m": None, "m0": 0}
    row = _one(backend, "UNWIND [1, null, 2] AS x RETURN collect(x) AS xs, count(x) AS c")
    assert row == {"xs": [1, 2], "c": 2}


def test_comparisons_across_number_and_other_types(backend: RecordingBackend) -> None:
    """An int equals the equal float, in lists too (the cache's property alternatives match an
    int against a stored double; filter_query compares int fields with float literals); an
    int never equals a bool or a string, and orders against neither (null): which is why ids
    and page bounds are checked to be ints before they are sent."""
    _seeded(backend)
    row = _one(
        backend,
        "RETURN 1 = 1.0 AS a, [1, 2] = [1, 2.0] AS b, 1 IN [1.0] AS c, 2 < 2.5 AS d, "
        "1 = true AS e, '1' = 1 AS f, 2 > true AS g, 2 > '1' AS h",
    )
    assert row == {
        "a": True,
        "b": True,
        "c": True,
        "d": True,
        "e": False,
        "f": False,
        "g": None,
        "h": None,
    }


def test_string_functions_count_code_points(backend: RecordingBackend) -> None:
    """filter_query's LIKE matcher (mlmd/_filter.py) measures with size() and reads one
    character at a time with substring(), past the end too (an empty string, no error), and
    compares ends with left() / right(), which clip at the string's size."""
    _seeded(backend)
    row = _one(
        backend,
        "RETURN size($s) AS n, substring($s, 1, 1) AS second, substring($s, 5, 1) AS past, "
        "left('ab', 5) AS l, right('ab', 5) AS r, toLower('AbC') AS low",
        s="\U0001f600x",
    )
    assert row == {"n": 2, "second": "x", "past": "", "l": "ab", "r": "ab", "low": "abc"}


def test_dynamic_reads_and_indexing_null(backend: RecordingBackend) -> None:
    """``n[$key]`` (filters, the tracker's keys, the write guards' ``n[k]``) and a map
    parameter read by a computed key (retention's ``$artifact_stamps[toString(n.id)]``); an
    index into null is null (mark_applied / unmark_applied unwind ``[null]`` for no ranges)."""
    _seeded(backend)
    backend.write("CREATE (:LgRule {k: 1})", name="t/node")
    row = _one(
        backend,
        "MATCH (n:LgRule {k: 1}) RETURN n[$key] AS v, $m[toString(n.k)] AS w",
        key="k",
        m={"1": "one"},
    )
    assert row == {"v": 1, "w": "one"}
    assert _one(backend, "UNWIND [null] AS run RETURN run[0] AS x") == {"x": None}


def test_optional_match_where_keeps_the_row_and_zero_length_paths_include_the_start(
    backend: RecordingBackend,
) -> None:
    """OPTIONAL MATCH ... WHERE keeps the outer row with a null (graph/write's OPTIONAL MATCH
    guards, the cache statements); ``*0..`` includes the start node (lineage/reach_*_nodes)."""
    _seeded(backend)
    backend.write("CREATE (:LgRule {k: 1})-[:LG_REL]->(:LgRule {k: 2})", name="t/chain")
    row = _one(
        backend,
        "MATCH (a:LgRule {k: 1}) OPTIONAL MATCH (a)-[:LG_REL]->(b:LgRule) WHERE b.k = 99 "
        "RETURN a.k AS a, b IS NULL AS none",
    )
    assert row == {"a": 1, "none": True}
    rows = backend.read(
        "MATCH (a:LgRule {k: 1}) MATCH (a)-[:LG_REL*0..]->(x) WITH DISTINCT x "
        "RETURN x.k AS k ORDER BY k",
        name="t/rule",
    )
    assert rows == [{"k": 1}, {"k": 2}]


def test_the_input_fingerprint_never_overflows_int64(backend: RecordingBackend) -> None:
    """Neo4j raises on an integer overflow where FalkorDB wraps: graph/write's and
    migrations/v1_to_v2's input fingerprint reduces each id modulo 2^31 - 1 first, so its sums
    and products stay in int64 for any id, and it equals the Python mirror cache.py looks up."""
    _seeded(backend)
    ids = [2**63 - 1, 2**63 - 2, 2**62 + 12345, 1]
    row = _one(
        backend,
        "WITH [x IN $ids | x % 2147483647] AS h "
        "RETURN '7/' + toString(size(h)) + ':' + "
        "toString(reduce(s = 0, x IN h | (s + x) % 2147483647)) + ':' + "
        "toString(reduce(s = 0, x IN h | (s + x * x % 2147483647) % 2147483647)) + ':' + "
        "toString(reduce(s = 0, x IN h | "
        "(s + x * x % 2147483647 * x % 2147483647) % 2147483647)) AS sig",
        ids=ids,
    )
    assert row == {"sig": input_signature(7, ids)}


def test_limit_takes_integers_up_to_2_31(backend: RecordingBackend) -> None:
    """The listings' ``LIMIT $limit`` (mlmd/_listing.py caps it at 2**31 - 1; store.iter_nodes
    at store.MAX_PAGE_SIZE): a limit that large keeps every row on both engines (FalkorDB
    4.16.3's LIMIT keeps 32 bits: 2**32 answers no row), and a fractional limit is an error on both
    (openCypher's TCK: InvalidArgumentType), so callers check page sizes are ints first."""
    _seeded(backend)
    query = "UNWIND range(1, 3) AS i RETURN i LIMIT $l"
    assert len(backend.read(query, {"l": MAX_PAGE_SIZE}, name="t/limit")) == 3
    assert backend.read(query, {"l": 0}, name="t/limit") == []
    with pytest.raises(QueryError):
        backend.read(query, {"l": 1.5}, name="t/limit")


def test_a_read_cannot_write(backend: RecordingBackend) -> None:
    """``Backend.read`` runs read-only (FalkorDB's GRAPH.RO_QUERY, Neo4j's read transactions,
    which a cluster routes to followers): a statement that writes is refused there and writes
    nothing, so every statement in cypher/ that writes must go through ``write``."""
    _seeded(backend)
    with pytest.raises(QueryError):
        backend.read("CREATE (:LgRule) RETURN 1 AS x", name="t/read-write")
    assert _one(backend, "MATCH (n:LgRule) RETURN count(n) AS c") == {"c": 0}
