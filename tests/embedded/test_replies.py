"""The embedded backend reads FalkorDB's compact replies itself (backends/_resp.py): every value
type a query can return comes back as falkordb-py would give it, on the real engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import LineageStore
from lineage_graph.backends.embedded import EmbeddedBackend
from lineage_graph.exceptions import EngineUnavailableError

#: Parameter values the engine stores and returns unchanged (NUL cannot be sent, see _encoding).
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), inner, max_size=4)
    ),
    max_leaves=12,
)


def backend_of(store: LineageStore) -> EmbeddedBackend:
    assert isinstance(store.backend, EmbeddedBackend)
    return store.backend


@pytest.fixture(scope="module")
def scratch() -> Iterator[EmbeddedBackend]:
    with LineageStore.open("memory") as store:
        yield backend_of(store)


def _exact(value: object) -> bool:
    """Values the engine returns unchanged (doubles come back with 15 significant digits)."""
    if isinstance(value, float):
        return False
    if isinstance(value, list):
        return all(map(_exact, value))
    if isinstance(value, dict):
        return all(map(_exact, value.values()))
    return True


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_every_value_type_reads_as_the_driver_reads_it(
    scratch: EmbeddedBackend, value: object
) -> None:
    query = "RETURN $v AS v, [$v] AS l, {k: $v} AS m"
    [row] = scratch.read(query, {"v": value})
    # the oracle: falkordb-py's own parser on the same query
    result = scratch._graph.ro_query(query, {"v": value})
    assert [row[c] for c in ("v", "l", "m")] == result.result_set[0]
    assert row["l"] == [row["v"]] and row["m"] == {"k": row["v"]}
    if _exact(value):
        assert row["v"] == value and type(row["v"]) is type(value)
    elif isinstance(value, float):
        # the engine prints a double with 15 significant digits: near the largest double that
        # rounds past it, to infinity (hypothesis found 1.7976931348623151e+308)
        assert row["v"] == float(f"{value:.15g}")


def test_rows_columns_and_empty_answers() -> None:
    with LineageStore.open("memory") as store:
        backend = backend_of(store)
        rows = backend.read("UNWIND range(1, 3) AS i RETURN i, toString(i) AS s ORDER BY i")
        assert rows == [{"i": i, "s": str(i)} for i in (1, 2, 3)]
        assert backend.read("UNWIND [] AS i RETURN i") == []
        assert backend.write("CREATE (:Scratch {k: 1})") == []  # statistics only


def test_nodes_and_edges_fall_back_to_the_driver_parser() -> None:
    """No query of cypher/ returns a raw node, but the reader still answers one correctly."""
    with LineageStore.open("memory") as store:
        backend = backend_of(store)
        backend.write("CREATE (:Scratch {k: 'a'})-[:LINK {w: 2}]->(:Scratch {k: 'b'})")
        [row] = backend.read("MATCH (x:Scratch {k: 'a'})-[r:LINK]->(y) RETURN x, r, y.k AS k")
        assert row["x"].labels == ["Scratch"] and row["x"].properties == {"k": "a"}
        assert row["r"].relation == "LINK" and row["r"].properties == {"w": 2}
        assert row["k"] == "b"


def test_a_dropped_graph_made_again_reads_back_its_own_names() -> None:
    """Compact replies carry label and key ids; the client caches their names. A graph dropped
    and made again numbers its names anew, so the drop empties that cache (without it a
    ``:Beta {k: 3}`` node read back as ``:IdSequence {kind: 3}``)."""
    with LineageStore.open("memory") as store:
        backend = backend_of(store)
        backend.write("CREATE (:Alpha {a: 1, b: 2})", name="tests/alpha")
        assert backend.read("MATCH (n:Alpha) RETURN n", name="tests/n")[0]["n"].labels == ["Alpha"]
        backend.drop_graph()
        backend.write("CREATE (:Beta {k: 3})", name="tests/beta")
        node = backend.read("MATCH (n) RETURN n", name="tests/n")[0]["n"]
        assert (node.labels, node.properties) == (["Beta"], {"k": 3})


def test_a_reply_awaited_past_socket_timeout_says_so(tmp_path: Path) -> None:
    """With both query limits 0 (none), a reply is awaited ``socket_timeout_s`` (660 s unless
    set, as documented), then given up. That said "the FalkorDB server is unreachable: Timeout
    reading from socket" of a server at work on the statement. It says the wait ran out, that
    the statement may run on, and which setting bounds it; the store works on."""
    with LineageStore.open(
        tmp_path / "s", query_timeout_ms=0, query_timeout_max_ms=0, socket_timeout_s=1
    ) as store:
        backend = backend_of(store)
        slow = "UNWIND range(1, 200000000) AS x WITH x WHERE x % 7 = 3 RETURN count(x) AS n"
        with pytest.raises(EngineUnavailableError) as caught:
            backend._run(slow, {}, "slow", write=False)
        message = str(caught.value)
        assert "unreachable" not in message, message
        assert "socket_timeout_s (1 s" in message and "may run on" in message, message
        assert backend._run("RETURN 42 AS n", {}, "after", write=False) == [{"n": 42}]
