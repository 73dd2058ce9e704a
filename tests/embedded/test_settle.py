"""The embedded store merges FalkorDB's pending edge changes now and then (backends/_settle.py):
when, and that the server setting it lowers for one read is always restored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
)
from lineage_graph.backends._settle import ALPHA, MAX_WRITES, MIN_WRITES, Settler
from lineage_graph.backends.embedded import EmbeddedBackend

CREATED = ["Nodes created: 2", "Relationships created: 4", "Cached execution: 1"]


def test_a_merge_is_due_after_min_writes_with_new_edges() -> None:
    settler = Settler()
    no_edges = ["Nodes created: 1", "Properties set: 3"]
    assert not any(settler.wrote(no_edges) for _ in range(10 * MIN_WRITES))
    due = [settler.wrote(CREATED) for _ in range(3 * MIN_WRITES)]
    assert [i for i, d in enumerate(due) if d] == [
        MIN_WRITES - 1,
        2 * MIN_WRITES - 1,
        3 * MIN_WRITES - 1,
    ]


@pytest.mark.parametrize(
    ("seconds", "writes"),
    [
        (0.0, MIN_WRITES),
        (0.002, int((2 * 0.002 / ALPHA) ** 0.5)),  # a cheap merge: soon again
        (0.1, int((2 * 0.1 / ALPHA) ** 0.5)),  # 100 ms (~500k edges): ~750 writes later
        (60.0, MAX_WRITES),
    ],
)
def test_the_next_merge_waits_as_long_as_the_last_one_cost(seconds: float, writes: int) -> None:
    settler = Settler()
    settler.merged(seconds)
    due = [settler.wrote(CREATED) for _ in range(writes)]
    assert due[-1] and not any(due[:-1])


@pytest.fixture
def store() -> Iterator[LineageStore]:
    s = LineageStore.open("memory")
    s.put_artifact_type(ArtifactType(name="DataSet"))
    s.put_execution_type(ExecutionType(name="Trainer"))
    yield s
    s.close()


def _pending_limit(backend: EmbeddedBackend) -> int:
    _, value = backend._graph.execute_command("GRAPH.CONFIG", "GET", "DELTA_MAX_PENDING_CHANGES")
    return int(value)


def _record_runs(store: LineageStore, runs: int) -> None:
    [seed] = store.put_artifacts([Artifact(type="DataSet", uri="/seed")])
    for i in range(runs):
        store.put_execution(
            Execution(type="Trainer"),
            [
                (Artifact(id=seed), Event(type=EventType.INPUT)),
                (Artifact(type="DataSet", uri=f"/out/{i}"), Event(type=EventType.OUTPUT)),
            ],
        )


def test_per_call_writes_merge_and_restore_the_servers_setting(store: LineageStore) -> None:
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend) and backend._settler is not None
    before = _pending_limit(backend)
    _record_runs(store, MIN_WRITES - 1)
    assert backend._settler.merges == 0
    _record_runs(store, 1)
    assert backend._settler.merges == 1, "a merge runs after MIN_WRITES writes with new edges"
    assert _pending_limit(backend) == before
    assert len(store.get_events_by_artifact_ids([1])) == MIN_WRITES - 1


def test_a_setting_left_at_1_by_a_crash_is_repaired(store: LineageStore) -> None:
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend)
    backend._graph.execute_command("GRAPH.CONFIG", "SET", "DELTA_MAX_PENDING_CHANGES", 1)
    _record_runs(store, MIN_WRITES)
    assert _pending_limit(backend) == 10_000
