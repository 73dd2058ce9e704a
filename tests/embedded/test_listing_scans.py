"""A limited MLMD listing reads index windows of its order property, so the rows the engine
scans follow the page, not the store (``lineage_graph/mlmd/_listing.py``).

tests/mlmd/test_listing_windows.py proves the pages right and bounds the statements sent; what
each statement scans is the engine's own business, so it is measured here with FalkorDB's
``GRAPH.PROFILE``: every read a listing sends is run again under it, and the records its scans
and seeks produce (the plan's leaves, where rows come from storage) are summed. One ordered
statement over the label, or a first window placed far from the first node, scans the whole
label and fails the bound. FalkorDB only: Neo4j plans from its own statistics, and its window
statements are the same text, checked there for their answers by the suite over every engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from lineage_graph import Artifact, ArtifactType, LineageStore
from lineage_graph._repositories._base import now_ms
from lineage_graph.backends.embedded import EmbeddedBackend
from lineage_graph.mlmd._listing import ListQuery, list_node_ids, list_nodes
from lineage_graph.models import NodeKind

from ._profile import records_by_operator

NODES = 6_000
DAY = 86_400_000


@pytest.fixture(scope="module")
def filled() -> Iterator[tuple[LineageStore, dict[int, int]]]:
    """6,000 artifacts in 60 writes a second apart (their create and update times; each write's
    100 nodes share one), as a pipeline leaves them. Returns the store and each node's time."""
    with LineageStore.open("memory") as store:
        assert isinstance(store.backend, EmbeddedBackend)
        store.put_artifact_type(ArtifactType(name="D"))
        base = now_ms() - DAY
        times: dict[int, int] = {}
        for w in range(NODES // 100):
            ids = store.put_artifacts([Artifact(type="D", uri=f"/{w}/{i}") for i in range(100)])
            times |= dict.fromkeys(ids, base + 1_000 * w)
        store.backend.write(
            "UNWIND $rows AS r MATCH (n:Artifact) WHERE n.id = r.id "
            "SET n.create_time_since_epoch = r.t, n.last_update_time_since_epoch = r.t",
            {"rows": [{"id": i, "t": t} for i, t in times.items()]},
            name="test/times",
        )
        yield store, times


def _scanned(backend: EmbeddedBackend, query: str, params: Mapping[str, Any] | None) -> int:
    """Records the statement's scans and seeks produced (where rows come from storage), wherever
    they sit in the profiled plan: FalkorDB hangs what comes before a MATCH (UNWIND, WITH) under
    the scan, so a scan is not always a leaf."""
    records = records_by_operator(backend, query, params)
    return sum(n for op, n in records.items() if "Scan" in op or "Seek" in op)


def _scans_of(store: LineageStore, run: Any) -> tuple[Any, int, int]:
    """``run()``'s answer, the reads it sent and the records those reads scanned."""
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend)
    reads: list[tuple[str, Mapping[str, Any] | None]] = []
    original = backend.read

    def reading(
        query: str, params: Mapping[str, Any] | None = None, *, name: str = ""
    ) -> list[dict[str, Any]]:
        reads.append((query, params))
        return original(query, params, name=name)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backend, "read", reading)
        answer = run()
    return answer, len(reads), sum(_scanned(backend, q, p) for q, p in reads)


@pytest.mark.parametrize("order_by", ["id", "create_time", "last_update_time"])
@pytest.mark.parametrize("is_asc", [True, False], ids=["asc", "desc"])
@pytest.mark.parametrize("limit", [10, 150])
def test_a_page_scans_what_it_lists_not_the_store(
    filled: tuple[LineageStore, dict[int, int]], order_by: str, is_asc: bool, limit: int
) -> None:
    store, times = filled
    key = (lambda i: i) if order_by == "id" else (lambda i: (times[i], i))
    want = sorted(times, key=key, reverse=not is_asc)
    query = ListQuery(kind=NodeKind.ARTIFACT, order_by=order_by, is_asc=is_asc, limit=limit)
    (nodes, token), reads, scanned = _scans_of(store, lambda: list_nodes(store, query))
    assert [n.id for n in nodes] == want[:limit] and token
    # The start hint's window of ids, then windows up to the write of 100 the page ends in:
    # measured 49-163 records (limit 10) and 192-305 (limit 150), in 1-10 reads. One ordered
    # statement scans all 6,000; so does a first window placed far off (a start hint of 0), or
    # one opened to the end too early (a wrong end hint): each fails here.
    assert scanned <= limit + 2 * 100, (scanned, reads)
    later = ListQuery(
        kind=NodeKind.ARTIFACT, order_by=order_by, is_asc=is_asc, limit=limit, page_token=token
    )
    (ids, _), reads, scanned = _scans_of(store, lambda: list_node_ids(store, later))
    assert ids == want[limit : 2 * limit]
    assert scanned <= limit + 2 * 100, (scanned, reads)  # measured 64-182 (10), 176-300 (150)


@pytest.mark.parametrize(
    "query",
    [
        "MATCH (n:Artifact) RETURN n.id ORDER BY n.last_update_time_since_epoch DESC LIMIT 10",
        "WITH $limit AS lim MATCH (n:Artifact) RETURN n.id ORDER BY n.id DESC LIMIT 10",
        "UNWIND [1] AS one MATCH (n:Artifact) WHERE n.uri <> '' RETURN count(n)",
    ],
    ids=["alone", "after-with", "after-unwind"],
)
def test_the_measure_sees_a_label_scan_wherever_it_sits(
    filled: tuple[LineageStore, dict[int, int]], query: str
) -> None:
    backend = filled[0].backend
    assert isinstance(backend, EmbeddedBackend)
    assert _scanned(backend, query, {"limit": 10}) >= NODES


def test_the_measure_sees_a_scan_of_the_label(filled: tuple[LineageStore, dict[int, int]]) -> None:
    """The measure itself: a listing without a limit orders every node in one statement."""
    store = filled[0]
    query = ListQuery(kind=NodeKind.ARTIFACT, order_by="last_update_time", is_asc=False)
    (ids, _), reads, scanned = _scans_of(store, lambda: list_node_ids(store, query))
    assert len(ids) == NODES and reads == 1
    assert scanned >= NODES
