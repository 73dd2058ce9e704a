"""Relationship types on the embedded engine: every one the library writes exists in a graph
from the moment a store is opened on it, before any edge of that type is written.

Why: FalkorDB compiles a statement as it arrives and runs it once the write before it is done;
a pattern naming a relationship type the graph does not have yet matches nothing, even when that
earlier write created it. graph/write refuses an event stored already by matching it in the
statement itself: two writers putting the same event into a store without events both missed the
other's and stored it twice (6 of 10 threaded races on two connections), and the execution's
input fingerprint counted that input twice; links are matched before they are made as well:
the same attribution and association put at once by two writers were stored twice (6 of 10)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
)
from lineage_graph.backends import open_backend

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
    # Kept across a restart: read on the engine alone (a store's opening makes them again if
    # they are gone, so reading them through LineageStore.open could not fail)
    with open_backend(tmp_path / "s") as backend:
        rows = backend.read(
            "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType AS t"
        )
        assert {str(r["t"]) for r in rows} >= RELATIONSHIP_TYPES


def _edges(store: LineageStore) -> dict[str, int]:
    rows = store.backend.read("MATCH ()-[r]->() RETURN type(r) AS t, count(r) AS c")
    return {str(r["t"]): int(r["c"]) for r in rows}


def _put_event(store: LineageStore, art: int, ex: int, ctx: int) -> None:
    store.put_events([Event(artifact_id=art, execution_id=ex, type=EventType.INPUT)])


def _put_links(store: LineageStore, art: int, ex: int, ctx: int) -> None:
    store.put_attributions_and_associations(
        [Attribution(artifact_id=art, context_id=ctx)],
        [Association(execution_id=ex, context_id=ctx)],
    )


@pytest.mark.parametrize(
    ("put", "outcome", "edges"),
    [
        (_put_event, ["exists", "stored"], {"EVENT": 1, "UPSTREAM": 1}),
        (_put_links, ["stored", "stored"], {"ATTRIBUTION": 1, "ASSOCIATION": 1}),  # idempotent
    ],
    ids=["event", "links"],
)
def test_two_writers_putting_the_first_edge_of_a_store_store_it_once(
    tmp_path: Path,
    put: Callable[[LineageStore, int, int, int], None],
    outcome: list[str],
    edges: dict[str, int],
) -> None:
    """Each round a new graph (no edge yet) and two stores (two connections) putting the same
    event (or links) at the same moment: one edge of each, the event's loser gets
    AlreadyExistsError (a link put again changes nothing, as in MLMD)."""
    target = tmp_path / "race"
    outcomes = []
    for r in range(ROUNDS):
        with (
            LineageStore.open(target, graph=f"g{r}") as a,
            LineageStore.open(target, graph=f"g{r}") as b,
        ):
            a.put_artifact_type(ArtifactType(name="DataSet"))
            a.put_execution_type(ExecutionType(name="Trainer"))
            a.put_context_type(ContextType(name="Pipeline"))
            [art] = a.put_artifacts([Artifact(type="DataSet", uri="d")])
            [ex] = a.put_executions([Execution(type="Trainer")])
            [ctx] = a.put_contexts([Context(type="Pipeline", name="p")])
            barrier = threading.Barrier(2)
            results: list[str] = []

            def race(
                store: LineageStore,
                barrier: threading.Barrier = barrier,
                results: list[str] = results,
                ids: tuple[int, int, int] = (art, ex, ctx),
            ) -> None:
                barrier.wait(30)
                try:
                    put(store, *ids)
                except AlreadyExistsError:
                    results.append("exists")
                else:
                    results.append("stored")

            threads = [threading.Thread(target=race, args=(s,)) for s in (a, b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            outcomes.append((sorted(results), _edges(a)))
    assert outcomes == [(outcome, edges)] * ROUNDS
