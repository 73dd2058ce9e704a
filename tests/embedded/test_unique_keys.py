"""Node keys on the embedded engine: names (per type) and external ids are unique without a
FalkorDB unique constraint (graph/write checks them; FalkorDB runs one write at a time per graph),
stores made with the constraints lose them on open, and racing writers cannot both take a key."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
    NodeKind,
    NotFoundError,
)
from lineage_graph.backends._embedded_schema import await_constraints
from lineage_graph.backends.embedded import EmbeddedBackend

NODE_KEYS = [("id",), ("type_id", "name"), ("external_id",)]


def constraints(store: LineageStore) -> set[tuple[str, tuple[str, ...]]]:
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend)
    rows = backend.read(
        "CALL db.constraints() YIELD type, label, properties RETURN type, label, properties"
    )
    return {(r["label"], tuple(r["properties"])) for r in rows if r["type"] == "UNIQUE"}


def test_node_keys_have_no_engine_constraint_but_type_keys_do() -> None:
    with LineageStore.open("memory") as store:
        found = constraints(store)
    for kind in NodeKind:
        for key in NODE_KEYS:
            assert (kind.value, key) not in found
        assert (kind.type_label, ("id",)) in found
        assert (kind.type_label, ("type_key",)) in found


def test_a_store_made_with_the_constraints_loses_them_and_keeps_its_keys(tmp_path: Path) -> None:
    target = tmp_path / "old"
    with LineageStore.open(target) as store:
        store.put_artifact_type(ArtifactType(name="DataSet"))
        store.put_artifacts([Artifact(type="DataSet", name="x", external_id="e")])
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        for key in NODE_KEYS:  # as an earlier version of the library made them
            backend._graph.create_node_unique_constraint("Artifact", *key)
        await_constraints(backend)
        assert ("Artifact", ("type_id", "name")) in constraints(store)
        # Another client is connected (it could be a process of that earlier version, whose
        # writes rely on the constraints): a second opener keeps them.
        with LineageStore.open(target) as second:
            assert ("Artifact", ("type_id", "name")) in constraints(second)
    with LineageStore.open(target) as store:  # alone now: they go
        assert not {c for c in constraints(store) if c[0] == "Artifact"}
        for dup in (Artifact(type="DataSet", name="x"), Artifact(type="DataSet", external_id="e")):
            try:
                store.put_artifacts([dup])
            except AlreadyExistsError:
                continue
            raise AssertionError(f"{dup} was stored over a taken key")
        assert len(store.get_artifacts()) == 1


def test_racing_writers_never_both_take_a_key(tmp_path: Path) -> None:
    """Two stores (two connections) on one directory put the same names at the same moment:
    each name is taken exactly once, the loser gets AlreadyExistsError."""
    target = tmp_path / "race"
    names = [f"n{i}" for i in range(40)]
    with LineageStore.open(target) as a, LineageStore.open(target) as b:
        a.put_artifact_type(ArtifactType(name="DataSet"))
        barrier = threading.Barrier(2)
        won: dict[str, list[int]] = {n: [] for n in names}
        lost: dict[str, int] = dict.fromkeys(names, 0)
        lock = threading.Lock()

        def race(store: LineageStore) -> None:
            for name in names:
                barrier.wait()
                try:
                    ids = store.put_artifacts([Artifact(type="DataSet", name=name)])
                except AlreadyExistsError:
                    with lock:
                        lost[name] += 1
                else:
                    with lock:
                        won[name] += ids

        threads = [threading.Thread(target=race, args=(s,)) for s in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert all(len(won[n]) == 1 and lost[n] == 1 for n in names), (won, lost)
        stored = sorted(x.name or "" for x in a.get_artifacts())
        assert stored == sorted(names)


def test_a_fault_is_named_first_even_when_an_engine_constraint_stops_the_write() -> None:
    """Neo4j checks its unique constraints as each node is written, so a taken key stops
    graph/write in a node part, before the event and link parts that prove a node given by id
    alone exists. Its error must name the faults in one order (docs/api.md: events, links,
    nodes given by id alone, then unique keys), whichever part stopped the statement. Here an
    engine constraint FalkorDB also checks as the node is written (a unique ``uri``, which no
    guard of graph/write checks) stands for Neo4j's, on an update that the write runs before
    its events."""
    with LineageStore.open("memory") as store:
        store.put_artifact_type(ArtifactType(name="DataSet"))
        store.put_execution_type(ExecutionType(name="Trainer"))
        taken, free = store.put_artifacts(
            [Artifact(type="DataSet", uri="/taken"), Artifact(type="DataSet", uri="/free")]
        )
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        backend._graph.create_node_unique_constraint("Artifact", "uri")
        await_constraints(backend)
        before = (store.get_artifacts(), store.get_executions())
        update = Artifact(id=free, type="DataSet", uri="/taken")  # the engine refuses it
        with pytest.raises(NotFoundError, match=r"no artifact with id 987654 \(given by id alone"):
            store.put_execution(
                Execution(type="Trainer"),
                [
                    (Artifact(id=987654), Event(type=EventType.INPUT)),  # missing: named first
                    (update, Event(type=EventType.OUTPUT)),
                ],
                [],
            )
        assert (store.get_artifacts(), store.get_executions()) == before
        # alone, the taken key is named as before
        with pytest.raises(AlreadyExistsError, match="unique key"):
            store.put_execution(
                Execution(type="Trainer"), [(update, Event(type=EventType.OUTPUT))], []
            )
        assert (store.get_artifacts(), store.get_executions()) == before
        assert taken in {a.id for a in store.get_artifacts()}
