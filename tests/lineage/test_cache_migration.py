"""Schema version 2 backfills every execution's input fingerprint (cypher/**/v1_to_v2.cypher).

A version-1 store had no ``Execution.input_sig``: it is rebuilt here from a current store by
removing the fingerprints (and, as in version 1, the UPSTREAM mirrors) and recording version 1.
Opening it must restore them in the one migration statement, so cached executions hit again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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
from tests.reliability.test_migrations import FIXTURES, downgrade_to_v0


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


def mark_version(backend: Backend, version: int) -> None:
    backend.write(
        "MATCH (m:StoreInfo {key: 'store'}) SET m.schema_version = $v",
        {"v": version},
        name="tests/downgrade",
    )


def reopened_fingerprinted(store: LineageStore) -> LineageStore:
    """``store`` opened again (migrated to the current version), its fingerprints checked."""
    reopened = LineageStore(store.backend)
    assert reopened.schema_version == SCHEMA_VERSION
    assert_signatures_consistent(reopened)
    return reopened


def test_a_version_1_store_gets_its_fingerprints_on_open(store: LineageStore) -> None:
    data, runs = populate(store)
    drop_fingerprints(store.backend)
    store.backend.write("MATCH ()-[u:UPSTREAM]->() DELETE u", name="tests/downgrade")
    mark_version(store.backend, 1)
    assert read_state(store.backend).version == 1
    assert not store.find_cached_execution("Trainer", [data[0]]).hit  # nothing indexed

    reopened = reopened_fingerprinted(store)
    hit = reopened.find_cached_execution("Trainer", [data[1], data[0]])
    assert hit.execution is not None and hit.execution.id == runs[1]
    assert reopened.find_cached_execution("Trainer", []).execution.id == runs[2]  # type: ignore[union-attr]


def test_a_version_0_store_gets_them_through_the_chain(store: LineageStore) -> None:
    data, runs = populate(store)
    drop_fingerprints(store.backend)
    downgrade_to_v0(store.backend)
    reopened = reopened_fingerprinted(store)
    assert reopened.find_cached_execution("Trainer", [data[0]]).execution.id == runs[0]  # type: ignore[union-attr]


def test_a_version_2_store_without_fingerprints_gets_them(store: LineageStore) -> None:
    """Version 2 stores written before the fingerprint existed (it joined version 2 later, with no
    version of its own) recorded version 2 with no ``input_sig``: nothing migrated them, and
    find_cached_execution missed every execution they held. Version 3 backfills the missing ones."""
    data, runs = populate(store)
    store.backend.write(
        "MATCH (e:Execution) WHERE e.id <> $kept REMOVE e.input_sig",
        {"kept": runs[2]},
        name="tests/downgrade",
    )
    mark_version(store.backend, 2)
    assert not store.find_cached_execution("Trainer", [data[0]]).hit  # nothing indexed

    reopened = reopened_fingerprinted(store)
    hit = reopened.find_cached_execution("Trainer", [data[1], data[0]])
    assert hit.execution is not None and hit.execution.id == runs[1]
    assert reopened.find_cached_execution("Trainer", [data[0]]).execution.id == runs[0]  # type: ignore[union-attr]
    assert reopened.find_cached_execution("Trainer", []).execution.id == runs[2]  # type: ignore[union-attr]


def test_a_real_version_2_directory_without_fingerprints_finds_its_cached_runs(
    tmp_path: Path,
) -> None:
    """The data directory (tests/reliability/fixtures/store-v2-unsigned/) that the library wrote
    with ``populate`` at 464361a, schema version 2, before the input fingerprint: opened now, the
    same lookups find the same executions as on a store written today, and the pipeline's cache
    reuses them."""
    target = tmp_path / "old"
    shutil.copytree(FIXTURES / "store-v2-unsigned", target)
    target.chmod(0o700)
    with LineageStore.open(target) as old:
        assert old.schema_version == SCHEMA_VERSION
        assert_signatures_consistent(old)
        data = [a.id or 0 for a in old.get_artifacts()]
        runs = [e.id or 0 for e in old.get_executions()]
        assert (data, runs) == ([1, 2, 3], [1, 2, 3])
        cases = (([data[0]], runs[0]), ([data[1], data[0]], runs[1]), ([], runs[2]))
        for inputs, expected in cases:
            found = old.find_cached_execution("Trainer", inputs)
            assert found.hit and found.execution is not None, found.reason
            assert found.execution.id == expected
        [first] = old.get_artifacts_by_id([data[0]])
        with old.run("Trainer", inputs=[first]) as run:
            assert run.cached
    with LineageStore.open(target) as old:  # the migration was durable
        assert read_state(old.backend).version == SCHEMA_VERSION


def test_a_version_2_fingerprint_left_stale_by_an_older_library_is_recomputed(
    store: LineageStore,
) -> None:
    """Both libraries recorded version 2: one from before the fingerprint, still in use beside a
    newer one, added inputs to executions the newer one had fingerprinted (put_events, or
    put_execution with events) and left their fingerprint as it was. Version 3 gave a fingerprint
    only to executions without one, so these kept the stale one and were never found as cached
    ("recorded after this lookup began"). Reproduced with the libraries of 9247f5e and 464361a
    writing one data directory in turn."""
    data, runs = populate(store)
    extra = store.put_artifacts([Artifact(type="DataSet", uri="/late")])
    stale = {
        int(r["id"]): r["sig"]
        for r in store.backend.read(
            "MATCH (e:Execution) RETURN e.id AS id, e.input_sig AS sig", name="tests/input-sig"
        )
    }
    store.put_events(
        [
            Event(artifact_id=extra[0], execution_id=runs[0], type=EventType.INPUT),
            Event(artifact_id=data[2], execution_id=runs[2], type=EventType.INPUT),
            Event(artifact_id=data[2], execution_id=runs[1], type=EventType.OUTPUT),
        ]
    )
    # What the older library leaves: the events, and each fingerprint as it was before them.
    for eid, sig in stale.items():
        store.backend.write(
            "MATCH (e:Execution {id: $id}) SET e.input_sig = $sig",
            {"id": eid, "sig": sig},
            name="tests/downgrade",
        )
    mark_version(store.backend, 2)
    assert not store.find_cached_execution("Trainer", [data[0], extra[0]]).hit

    reopened = reopened_fingerprinted(store)
    for inputs, expected in (
        ([data[0], extra[0]], runs[0]),
        ([data[1], data[0]], runs[1]),
        ([data[2]], runs[2]),
    ):
        found = reopened.find_cached_execution("Trainer", inputs)
        assert found.hit and found.execution is not None, found.reason
        assert found.execution.id == expected


def test_the_migration_fingerprints_every_shape_as_the_writes_did(store: LineageStore) -> None:
    """v2_to_v3 recomputes what graph/write kept, for every way an execution gets its inputs: none,
    many (past FEW_ROWS), INPUT beside the other event types, ids near int64's end, inputs added
    by later put_events (few and many), a rewrite (put_execution of an existing execution)."""
    from lineage_graph._repositories.graph import FEW_ROWS

    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    data = store.put_artifacts(
        [Artifact(type="DataSet", uri=f"/d{i}") for i in range(3 * FEW_ROWS)]
    )
    store.backend.write(
        "MATCH (s:IdSequence {kind: 'Artifact'}) SET s.next = $next",
        {"next": 2**63 - 4},
        name="tests/ids",
    )
    store = LineageStore(store.backend)  # its id blocks come from the sequence now
    huge = store.put_artifacts([Artifact(type="DataSet", uri=f"/h{i}") for i in range(3)])
    assert huge[-1] == 2**63 - 2

    def put(events: list[tuple[int, EventType]]) -> int:
        return store.put_execution(
            Execution(type="Trainer", last_known_state=ExecutionState.COMPLETE),
            [(Artifact(id=i), Event(type=t)) for i, t in events],
        )[0]

    kinds = [EventType.DECLARED_INPUT, EventType.INTERNAL_INPUT, EventType.OUTPUT]
    put([])
    put([(i, EventType.INPUT) for i in data[: 2 * FEW_ROWS]])
    put([(data[0], EventType.INPUT)] + [(data[1 + k], t) for k, t in enumerate(kinds)])
    put([(data[0], EventType.INPUT), (data[0], EventType.DECLARED_INPUT)])
    put([(i, EventType.INPUT) for i in huge])
    later = put([(data[0], EventType.INPUT)])
    store.put_events([Event(artifact_id=huge[0], execution_id=later, type=EventType.INPUT)])
    store.put_events(
        [
            Event(artifact_id=i, execution_id=later, type=EventType.INPUT)
            for i in data[1 : 2 * FEW_ROWS]
        ]
    )
    empty = put([])
    store.put_events([Event(artifact_id=i, execution_id=empty, type=EventType.INPUT) for i in huge])
    [rewritten] = store.get_executions_by_id([later])
    rewritten.name = "rewritten"
    store.put_execution(rewritten, [(Artifact(id=huge[1]), Event(type=EventType.INPUT))])
    query = "MATCH (e:Execution) RETURN e.id AS id, e.input_sig AS sig"
    written = store.backend.read(query, name="tests/input-sig")
    assert_signatures_consistent(store)

    drop_fingerprints(store.backend)
    mark_version(store.backend, 2)
    reopened = LineageStore(store.backend)
    assert reopened.schema_version == SCHEMA_VERSION
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(reopened.backend.read(query, name="tests/input-sig"), key=key) == sorted(
        written, key=key
    )
