"""FalkorDB's graph/write finds the nodes of events and links by position among runs of ids
(cypher/falkordb/graph/write.cypher). A node that vanished between the caller's checks and the
write would shift the positions: the write must then abort entirely, never link wrong nodes."""

from __future__ import annotations

import itertools

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    FailedPreconditionError,
    LineageStore,
)
from lineage_graph._repositories import graph
from lineage_graph._repositories.graph import WriteBatch

from ..lineage.test_cache import assert_signatures_consistent


@pytest.fixture
def store() -> LineageStore:
    s = LineageStore.open("memory")
    s.put_artifact_type(ArtifactType(name="Data"))
    s.put_execution_type(ExecutionType(name="Step"))
    s.put_context_type(ContextType(name="Run"))
    return s


FRESH = {"value": False}  # which part the test rows go to: created (True) or merged (False) events


_SEQ = itertools.count(1)


def row(a: int, e: int, t: EventType) -> dict[str, object]:
    return {"artifact_id": a, "execution_id": e, "type": int(t), "path": "[]", "ms": 1,
            "seq": next(_SEQ), "fresh": FRESH["value"]}  # fmt: skip


@pytest.mark.parametrize("fresh", [False, True], ids=["merged", "created"])
@pytest.mark.parametrize("few_rows", [100, 0], ids=["by-seek", "by-position"])
def test_a_vanished_node_aborts_the_whole_write(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, few_rows: int, fresh: bool
) -> None:
    """Both forms of each part (a seek per row for few rows, positions among id runs for many)
    and both event parts (created, merged) refuse a missing node and write nothing."""
    monkeypatch.setattr(graph, "FEW_ROWS", few_rows)
    monkeypatch.setitem(FRESH, "value", fresh)
    a1, a2, a3 = store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(3)])
    [e1] = store.put_executions([Execution(type="Step", last_known_state=ExecutionState.COMPLETE)])
    [c1] = store.put_contexts([Context(type="Run", name="r")])
    gone = a3 + 1000  # never existed: as if deleted after the caller checked it
    for batch in (
        WriteBatch(inputs=[row(a1, e1, EventType.INPUT), row(gone, e1, EventType.INPUT)]),
        WriteBatch(outputs=[row(a2, e1, EventType.OUTPUT), row(gone, e1, EventType.OUTPUT)]),
        WriteBatch(
            inputs=[row(a1, e1, EventType.INPUT)],
            attributions=[
                {"artifact_id": a1, "context_id": c1},
                {"artifact_id": a1, "context_id": c1 + 99},
            ],
        ),
        WriteBatch(
            inputs=[row(a1, e1, EventType.INPUT)],
            associations=[{"execution_id": e1 + 99, "context_id": c1}],
        ),
    ):
        with pytest.raises(FailedPreconditionError, match="deleted meanwhile"):
            store._writer.execute(batch)
        assert store.get_events_by_execution_ids([e1]) == []  # nothing of it was written
        assert store.get_contexts_by_artifact(a1) == []
        assert store.get_contexts_by_execution(e1) == []
    # the same rows without the missing node are written, each end where it belongs
    store._writer.execute(
        WriteBatch(
            inputs=[row(a1, e1, EventType.INPUT), row(a3, e1, EventType.INPUT)],
            outputs=[row(a2, e1, EventType.OUTPUT)],
            attributions=[{"artifact_id": a2, "context_id": c1}],
        )
    )
    got = {(ev.artifact_id, ev.execution_id, ev.type) for ev in
           store.get_events_by_execution_ids([e1])}  # fmt: skip
    assert got == {(a1, e1, EventType.INPUT), (a3, e1, EventType.INPUT),
                   (a2, e1, EventType.OUTPUT)}  # fmt: skip
    assert store.get_artifacts_by_context(c1)[0].id == a2
    assert store.find_cached_execution("Step", [a1, a3], explain=False).execution.id == e1


def test_events_with_scattered_ids_land_on_their_own_ends(store: LineageStore) -> None:
    """Ids far apart (one run each) and ids in runs, in one write: every event joins the right
    artifact and execution."""
    arts = store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(40)])
    execs = store.put_executions([Execution(type="Step") for _ in range(40)])
    pairs = [(arts[i], execs[(i * 7) % 40]) for i in range(0, 40, 3)] + [
        (arts[i], execs[i]) for i in (1, 2, 4, 5)
    ]
    store.put_events([Event(artifact_id=a, execution_id=e, type=EventType.INPUT) for a, e in pairs])
    got = {(ev.artifact_id, ev.execution_id) for ev in store.get_events_by_artifact_ids(arts)}
    assert got == set(pairs)


@pytest.mark.parametrize("stored_too", [False, True], ids=["new-only", "stored-too"])
def test_events_between_nodes_of_the_same_write_land_on_their_own_ends(
    store: LineageStore, stored_too: bool
) -> None:
    """A subgraph whose executions read every other new artifact and write the ones between: a
    part's ids are bridged across the write's own new nodes (one range read instead of one per
    id). With stored artifacts read too (their ids are not bridged: only next to the new ones),
    every event still joins its own artifact and execution."""
    old = store.put_artifacts([Artifact(type="Data", uri=f"/old/{i}") for i in range(3)])
    n = 12
    artifacts = [Artifact(type="Data", uri=f"/new/{i}") for i in range(2 * n)]
    edges = []
    for k in range(n):
        edges.append((k, 2 * k, Event(type=EventType.INPUT)))
        edges.append((k, 2 * k + 1, Event(type=EventType.OUTPUT)))
    if stored_too:
        artifacts += [Artifact(id=i) for i in old]
        edges += [(k, 2 * n + k % 3, Event(type=EventType.INPUT)) for k in range(0, n, 2)]
    eids, aids, _ = store.put_lineage_subgraph(
        [Execution(type="Step") for _ in range(n)], artifacts, [], edges
    )
    want = {(aids[a], eids[e], ev.type) for e, a, ev in edges}
    got = {(ev.artifact_id, ev.execution_id, ev.type) for ev in
           store.get_events_by_execution_ids(eids)}  # fmt: skip
    assert got == want
    assert_signatures_consistent(store)
