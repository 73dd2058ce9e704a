"""Relationship types on the embedded engine: every one the library writes exists in a graph
from the moment a store is opened on it, before any edge of that type is written.

Why: FalkorDB compiles a statement as it arrives and runs it once the write before it is done;
a pattern naming a relationship type the graph does not have yet matches nothing, even when that
earlier write created it. graph/write refuses an event stored already by matching it in the
statement itself: two writers putting the same event into a store without events both missed the
other's and stored it twice (6 of 10 threaded races on two connections)."""

from __future__ import annotations

import threading
from pathlib import Path

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
)

ROUNDS = 12
#: Every relationship type the library's statements write.
RELATIONSHIP_TYPES = {"EVENT", "UPSTREAM", "ATTRIBUTION", "ASSOCIATION", "PARENT_CONTEXT"}


def _relationship_types(store: LineageStore) -> set[str]:
    rows = store.backend.read(
        "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType AS t"
    )
    return {str(r["t"]) for r in rows}


def test_a_new_store_has_every_relationship_type_and_no_edge(tmp_path: Path) -> None:
    with LineageStore.open(tmp_path / "s") as store:
        assert _relationship_types(store) >= RELATIONSHIP_TYPES
        assert store.backend.read("MATCH (n) WHERE NOT n:StoreInfo RETURN count(n) AS c") == [
            {"c": 0}
        ]
        assert store.backend.read("MATCH ()-[r]->() RETURN count(r) AS c") == [{"c": 0}]
    with LineageStore.open(tmp_path / "s") as store:  # kept across a restart
        assert _relationship_types(store) >= RELATIONSHIP_TYPES


def test_two_writers_putting_the_first_event_of_a_store_store_it_once(tmp_path: Path) -> None:
    """Each round a new graph (no event yet) and two stores (two connections) putting the same
    event at the same moment: one stores it, the other gets AlreadyExistsError."""
    target = tmp_path / "race"
    outcomes = []
    for r in range(ROUNDS):
        with (
            LineageStore.open(target, graph=f"g{r}") as a,
            LineageStore.open(target, graph=f"g{r}") as b,
        ):
            a.put_artifact_type(ArtifactType(name="DataSet"))
            a.put_execution_type(ExecutionType(name="Trainer"))
            [art] = a.put_artifacts([Artifact(type="DataSet", uri="d")])
            [ex] = a.put_executions([Execution(type="Trainer")])
            event = Event(artifact_id=art, execution_id=ex, type=EventType.INPUT)
            barrier = threading.Barrier(2)
            results: list[str] = []

            def put(
                store: LineageStore,
                event: Event = event,
                barrier: threading.Barrier = barrier,
                results: list[str] = results,
            ) -> None:
                barrier.wait(30)
                try:
                    store.put_events([event])
                except AlreadyExistsError:
                    results.append("exists")
                else:
                    results.append("stored")

            threads = [threading.Thread(target=put, args=(s,)) for s in (a, b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            stored = len(a.get_events_by_artifact_ids([art]))
            outcomes.append((sorted(results), stored))
    assert outcomes == [(["exists", "stored"], 1)] * ROUNDS
