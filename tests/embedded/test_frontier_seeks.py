"""A frontier walk (a hop limit, a boundary, a point in time) seeks each later hop's nodes by the
engine's own id, which the hop before returned (``cypher/falkordb/lineage/step_*``).

FalkorDB's ``id`` index costs ~11 µs per id, a seek by ``id(x)`` ~0.2 µs: the MLMD adapter's
4-hop walk over a fan-out of 4,001 nodes took 67 ms in its steps by ``id`` and 13 ms by engine id.
Which one a step uses is the planner's choice (with the label or the ``id`` test beside the
seek, FalkorDB 4.16 plans an index scan, or a scan of every node for each frontier node), so it
is measured here: every step statement of a walk is profiled, and only the first hop (the
starts, by ``id``) may read through the index. FalkorDB only; the answers themselves are checked
on every engine by tests/lineage/test_traversal.py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from lineage_graph import Artifact, ArtifactType, LineageStore, NodeFilter, NodeKind, NodeRef
from lineage_graph.backends.embedded import EmbeddedBackend

from ..lineage._graphs import build, ensure_types
from ._profile import records_by_operator

WIDTH = 200
SEEK = "NodeByIdSeek"


@pytest.fixture(scope="module")
def fan() -> Any:
    """data -> WIDTH trainers -> WIDTH models -> WIDTH pushers -> WIDTH pushed models, beside 600
    unrelated artifacts; returns the store and the data artifact's id."""
    with LineageStore.open("memory") as store:
        ensure_types(store)
        w = WIDTH  # artifacts: 0 data, 1..w models, w+1..2w pushed, then 600 others
        inputs = [(0, i) for i in range(w)] + [(1 + i, w + i) for i in range(w)]
        outputs = [(i, 1 + i) for i in range(w)] + [(w + i, w + 1 + i) for i in range(w)]
        built = build(store, 2 * w + 1 + 600, 2 * w, inputs, outputs)
        yield store, built.artifacts[0]


def _steps(store: LineageStore, run: Any) -> tuple[Any, list[tuple[str, Mapping[str, Any]]]]:
    """``run()``'s answer and the frontier steps it sent."""
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend)
    steps: list[tuple[str, Mapping[str, Any]]] = []
    original = backend.read

    def reading(
        query: str, params: Mapping[str, Any] | None = None, *, name: str = ""
    ) -> list[dict[str, Any]]:
        if name.startswith("lineage/step_"):
            steps.append((query, dict(params or {})))
        return original(query, params, name=name)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backend, "read", reading)
        answer = run()
    return answer, steps


@pytest.mark.parametrize(
    "options",
    [
        {"direction": "downstream", "max_hops": 4},
        {"direction": "any", "max_hops": 4},
        {"direction": "downstream", "stop_at": NodeFilter(types=["Nowhere"])},
        {"direction": "downstream", "as_of": 2**62},
    ],
    ids=["hops", "any", "stop_at", "as_of"],
)
def test_later_hops_seek_their_nodes_by_engine_id(fan: Any, options: dict[str, Any]) -> None:
    store, data = fan
    graph, steps = _steps(store, lambda: store.lineage(NodeRef(NodeKind.ARTIFACT, data), **options))
    assert (len(graph.artifacts), len(graph.executions)) == (2 * WIDTH + 1, 2 * WIDTH)
    assert len(steps) >= 4
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend)
    for hop, (query, params) in enumerate(steps):
        records = records_by_operator(backend, query, params)
        scanned = sum(n for op, n in records.items() if "Scan" in op)
        if hop == 0:
            assert scanned <= 1 and records[SEEK] == 0, records  # the start, by its id
        else:
            frontier = len(params["artifact_refs"]) + len(params["execution_refs"])
            assert frontier in (WIDTH, 2 * WIDTH)  # "any" walks back to a hop's own nodes
            assert params["artifact_ids"] == params["execution_ids"] == []
            # one seek per pair for the step, one for the count of pairs still naming their node
            assert scanned == 0 and records[SEEK] == 2 * frontier, (hop, records)


def _engine_ids(store: LineageStore) -> list[tuple[int, str, int]]:
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend)
    graph = backend._graph
    reply = graph.execute_command(
        "GRAPH.RO_QUERY", graph.name, "MATCH (n) RETURN id(n), labels(n)[0], n.id ORDER BY id(n)"
    )
    return [tuple(row) for row in reply[1]]


def _rewrite_done(graph: Any) -> None:
    for _ in range(400):
        if graph.execute_command("INFO", "persistence")["aof_rewrite_in_progress"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the append-only file rewrite did not end in 20 s")


def test_engine_ids_survive_deletes_and_restarts(tmp_path: Any) -> None:
    """The premise of the seek: a node keeps its engine id while it exists, across a restart
    from the append-only file and from its rewrite (RDB preamble). A deleted node's id may go
    to a new node, whose ``id`` differs: the step's check then drops it, as a lookup by ``id``
    would not find the deleted node."""
    with LineageStore.open(tmp_path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifacts([Artifact(type="D", uri=f"/a/{i}") for i in range(50)])
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        backend.write("MATCH (n:Artifact) WHERE n.id % 3 = 0 DETACH DELETE n", name="test/delete")
        store.put_artifacts([Artifact(type="D", uri=f"/b/{i}") for i in range(30)])
        before = _engine_ids(store)
    with LineageStore.open(tmp_path) as store:
        assert _engine_ids(store) == before  # replayed from the append-only file
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        graph = backend._graph
        _rewrite_done(graph)  # opening the store may have started one
        graph.execute_command("BGREWRITEAOF")
        _rewrite_done(graph)
        store.put_artifacts([Artifact(type="D", uri=f"/c/{i}") for i in range(5)])
        before = _engine_ids(store)
    with LineageStore.open(tmp_path) as store:
        assert _engine_ids(store) == before  # loaded from the rewritten file
