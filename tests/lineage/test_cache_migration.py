"""Schema version 2 backfills every execution's input fingerprint (cypher/**/v1_to_v2.cypher).

A version-1 store had no ``Execution.input_sig``: it is rebuilt here from a current store by
removing the fingerprints (and, as in version 1, the UPSTREAM mirrors) and recording version 1.
Opening it must restore them in the one migration statement, so cached executions hit again.
"""

from __future__ import annotations

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    LineageStore,
)
from lineage_graph._migrations import read_state
from lineage_graph._schema import SCHEMA_VERSION
from lineage_graph.backends import Backend
from tests.lineage.test_cache import assert_signatures_consistent
from tests.reliability.test_migrations import downgrade_to_v0


def populate(store: LineageStore) -> tuple[list[int], list[int]]:
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    data = store.put_artifacts([Artifact(type="DataSet", uri=f"/d{i}") for i in range(3)])
    runs = []
    for chosen in ([data[0]], [data[0], data[1]], []):
        eid, _, _ = store.put_execution(
            Execution(type="Trainer", last_known_state=ExecutionState.COMPLETE),
            [(Artifact(id=i), Event(type=EventType.INPUT)) for i in chosen],
        )
        runs.append(eid)
    return data, runs


def drop_fingerprints(backend: Backend) -> None:
    backend.write("MATCH (e:Execution) REMOVE e.input_sig", name="tests/downgrade")


def test_a_version_1_store_gets_its_fingerprints_on_open(store: LineageStore) -> None:
    data, runs = populate(store)
    drop_fingerprints(store.backend)
    store.backend.write("MATCH ()-[u:UPSTREAM]->() DELETE u", name="tests/downgrade")
    store.backend.write(
        "MATCH (m:StoreInfo {key: 'store'}) SET m.schema_version = 1", name="tests/downgrade"
    )
    assert read_state(store.backend).version == 1
    assert not store.find_cached_execution("Trainer", [data[0]]).hit  # nothing indexed

    reopened = LineageStore(store.backend)
    assert reopened.schema_version == SCHEMA_VERSION
    assert_signatures_consistent(reopened)
    hit = reopened.find_cached_execution("Trainer", [data[1], data[0]])
    assert hit.execution is not None and hit.execution.id == runs[1]
    assert reopened.find_cached_execution("Trainer", []).execution.id == runs[2]  # type: ignore[union-attr]


def test_a_version_0_store_gets_them_through_the_chain(store: LineageStore) -> None:
    data, runs = populate(store)
    drop_fingerprints(store.backend)
    downgrade_to_v0(store.backend)
    reopened = LineageStore(store.backend)
    assert reopened.schema_version == SCHEMA_VERSION
    assert_signatures_consistent(reopened)
    assert reopened.find_cached_execution("Trainer", [data[0]]).execution.id == runs[0]  # type: ignore[union-attr]
