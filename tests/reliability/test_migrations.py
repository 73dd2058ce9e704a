"""Schema version and migrations (issue 7.3), on every engine.

The fixture store of the previous schema version (0) is made the way such a store looked: a
version-1 store is written through the public API, then rewritten to the version-0 layout (no
StoreInfo record, no id sequences, states stored as enum names; see lineage_graph/_migrations.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    OutOfRangeError,
    SchemaVersionError,
)
from lineage_graph._migrations import MIGRATIONS, Migration, migrate, read_state
from lineage_graph._queries import QueryRegistry, cypher_dir, registry
from lineage_graph._schema import SCHEMA_VERSION
from lineage_graph.backends import Backend
from tests.reliability._integrity import assert_healthy


def populate(store: LineageStore) -> None:
    store.put_artifact_type(ArtifactType(name="DataSet", properties={"day": 1}))
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_context_type(ContextType(name="Run"))
    for i in range(3):
        store.put_execution(
            Execution(type="Trainer", last_known_state=ExecutionState.COMPLETE),
            [
                (Artifact(type="DataSet", uri=f"/in{i}", properties={"day": i}), None),
                (
                    Artifact(type="DataSet", uri=f"/out{i}", state=ArtifactState.LIVE),
                    Event(type=EventType.OUTPUT),
                ),
            ],
            [Context(type="Run", name=f"run{i}")],
        )


def downgrade_to_v0(backend: Backend) -> None:
    """Rewrite a current store into the version-0 layout (which also lacks version 2's mirrors)."""
    artifact_names = {str(int(s)): s.name for s in ArtifactState}
    execution_names = {str(int(s)): s.name for s in ExecutionState}
    for query, params in [
        ("MATCH (m:StoreInfo) DETACH DELETE m", {}),
        ("MATCH (s:IdSequence) DETACH DELETE s", {}),
        ("MATCH ()-[u:UPSTREAM]->() DELETE u", {}),
        ("MATCH (a:Artifact) SET a.state = $n[toString(a.state)]", {"n": artifact_names}),
        (
            "MATCH (e:Execution) SET e.last_known_state = $n[toString(e.last_known_state)]",
            {"n": execution_names},
        ),
    ]:
        backend.write(query, params, name="tests/downgrade")


def snapshot(store: LineageStore) -> tuple[Any, ...]:
    arts, execs = store.get_artifacts(), store.get_executions()
    return (
        arts,
        execs,
        store.get_contexts(),
        store.get_events_by_execution_ids([e.id or 0 for e in execs]),
        [store.get_types(k) for k in NodeKind],
    )


def raw_snapshot(backend: Backend) -> list[Any]:
    """Every node and relationship with all its properties, engine-neutral."""
    nodes = backend.read(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p", name="tests/raw-snapshot"
    )
    rels = backend.read(
        "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(a) AS a, properties(b) AS b, "
        "properties(r) AS p",
        name="tests/raw-snapshot",
    )
    key = repr
    return sorted(map(key, nodes)) + sorted(map(key, rels))


def test_the_migration_chain_reaches_the_current_version() -> None:
    assert [m.from_version for m in MIGRATIONS] == list(range(SCHEMA_VERSION))
    files = sorted(p.stem for p in (cypher_dir() / "migrations").glob("v*_to_v*.cypher"))
    assert files == sorted(m.query.split("/")[1] for m in MIGRATIONS)
    for m in MIGRATIONS:
        assert m.query in registry()


def test_a_new_store_records_the_current_version(store: LineageStore) -> None:
    assert store.schema_version == SCHEMA_VERSION
    assert read_state(store.backend).version == SCHEMA_VERSION


def test_a_version_0_store_is_migrated_on_open(store: LineageStore) -> None:
    populate(store)
    before = snapshot(store)
    max_artifact = max(a.id or 0 for a in before[0])
    downgrade_to_v0(store.backend)
    assert read_state(store.backend).version == 0

    reopened = LineageStore(store.backend)  # opening runs the migration
    assert reopened.schema_version == SCHEMA_VERSION
    assert snapshot(reopened) == before  # states read back as enums, nothing else changed
    # Ids continue after the highest stored one (v0 had no sequences: a collision otherwise).
    [new_id] = reopened.put_artifacts([Artifact(type="DataSet", uri="/new")])
    assert new_id == max_artifact + 1
    assert reopened.put_context_type(ContextType(name="Other")) > max(
        t.id or 0 for k in NodeKind for t in before[4][list(NodeKind).index(k)]
    )
    assert_healthy(reopened)
    # Opening again is a no-op.
    assert migrate(reopened.backend) == []


def test_a_version_0_store_holding_the_largest_id_opens_with_no_id_left(
    store: LineageStore,
) -> None:
    """A version-0 store whose highest artifact id is 2**63 - 1: the migration's sequence was
    ``top + 1``, past int64, which Neo4j refuses ("long overflow": the store could not be
    opened) and FalkorDB wrapped to -2**63 (the next write named that as the sequence). Now the
    store opens on both, its ids continue as they were, and no artifact id is left."""
    populate(store)
    downgrade_to_v0(store.backend)
    top = max(a.id or 0 for a in store.get_artifacts())
    store.backend.write(
        "MATCH (a:Artifact {id: $top}) SET a.id = 9223372036854775807",
        {"top": top},
        name="tests/largest-id",
    )
    reopened = LineageStore(store.backend)  # opening runs the migration
    assert reopened.schema_version == SCHEMA_VERSION
    assert [a.uri for a in reopened.get_artifacts_by_id([2**63 - 1])] != []
    with pytest.raises(OutOfRangeError, match="sequence is at 9223372036854775807"):
        reopened.put_artifacts([Artifact(type="DataSet", uri="/new")])
    assert reopened.put_executions([Execution(type="Trainer")]) != []  # other kinds go on


def test_concurrent_migrators_apply_it_once(store: LineageStore) -> None:
    populate(store)
    downgrade_to_v0(store.backend)
    assert [m.from_version for m in migrate(store.backend)] == list(range(SCHEMA_VERSION))
    assert migrate(store.backend) == []  # the second opener sees the version and does nothing
    # A migrator that read version 0 before the first one committed runs the statement anyway:
    # the version check inside it makes it a no-op (no row back, nothing written).
    rows = store.backend.write(
        registry()["migrations/v0_to_v1"].text(store.backend.dialect),
        {
            "from_version": 0,
            "to_version": 1,
            "library_version": "racer",
            "now": 0,
            **MIGRATIONS[0].params(),
        },
        name="migrations/v0_to_v1",
    )
    assert rows == []
    assert read_state(store.backend).library_version != "racer"


@pytest.mark.parametrize("step", MIGRATIONS[1:], ids=lambda m: m.query)
def test_a_late_migrator_of_a_later_version_changes_nothing(
    store: LineageStore, step: Migration
) -> None:
    """A migrator that read the older version before another one committed the migration runs
    the statement anyway: it reads the version under StoreInfo's lock (Neo4j: after the first
    committed), gets no row back and leaves every node and property as it was (its lock too)."""
    populate(store)
    before = raw_snapshot(store.backend)
    rows = store.backend.write(
        registry()[step.query].text(store.backend.dialect),
        {
            "from_version": step.from_version,
            "to_version": step.to_version,
            "library_version": "racer",
            "now": 0,
            **step.params(),
        },
        name=step.query,
    )
    assert rows == []
    assert raw_snapshot(store.backend) == before


def _failing_registry(tmp_path: Path) -> QueryRegistry:
    """The real query library plus a v0->v1 migration that writes, then fails at run time."""
    root = tmp_path / "cypher"
    shutil.copytree(cypher_dir(), root)
    (root / "migrations" / "v0_to_v1.cypher").write_text(
        (cypher_dir() / "migrations" / "v0_to_v1.cypher")
        .read_text()
        .replace(
            "RETURN info.schema_version AS schema_version",
            "WITH info MATCH (n) WITH info, count(n) AS k "
            "RETURN info.schema_version / (k - k) AS schema_version",  # division by zero
        )
    )
    return QueryRegistry(root)


def test_a_failing_migration_is_rolled_back_entirely(store: LineageStore, tmp_path: Path) -> None:
    populate(store)
    downgrade_to_v0(store.backend)
    before = raw_snapshot(store.backend)
    with pytest.raises(SchemaVersionError, match="rolled back"):
        migrate(store.backend, queries=_failing_registry(tmp_path))
    assert raw_snapshot(store.backend) == before  # not one property changed
    assert read_state(store.backend).version == 0
    # The real migration still works afterwards.
    assert LineageStore(store.backend).schema_version == SCHEMA_VERSION


def test_a_store_from_a_newer_library_is_refused_and_unchanged(store: LineageStore) -> None:
    populate(store)
    store.backend.write(
        "MATCH (m:StoreInfo {key: 'store'}) SET m.schema_version = $v, m.library_version = '9.0'",
        {"v": SCHEMA_VERSION + 1},
        name="tests/newer",
    )
    before = raw_snapshot(store.backend)
    with pytest.raises(SchemaVersionError, match=r"lineage-graph 9\.0.*upgrade lineage-graph"):
        LineageStore(store.backend)
    assert raw_snapshot(store.backend) == before


def test_an_opening_without_migration_refuses_an_older_store_and_writes_nothing(
    store: LineageStore,
) -> None:
    """``migrate=False`` (the MLMD adapter's read-only opening): an older store is refused with
    SchemaVersionError before anything is written; it used to be migrated regardless."""
    populate(store)
    downgrade_to_v0(store.backend)
    before = raw_snapshot(store.backend)
    with pytest.raises(SchemaVersionError, match=r"schema version 0, older.*not changed"):
        LineageStore(store.backend, migrate=False)
    assert raw_snapshot(store.backend) == before
    assert read_state(store.backend).version == 0
    # A current store opens as usual without migration; the default opening still migrates.
    assert LineageStore(store.backend).schema_version == SCHEMA_VERSION
    assert LineageStore(store.backend, migrate=False).schema_version == SCHEMA_VERSION
    with pytest.raises(InvalidArgumentError, match="migrate is True or False"):
        LineageStore(store.backend, migrate="no")  # type: ignore[arg-type]


def test_a_version_without_a_migration_is_refused(store: LineageStore) -> None:
    populate(store)
    downgrade_to_v0(store.backend)
    with pytest.raises(SchemaVersionError, match="no migration from schema version 0"):
        migrate(store.backend, migrations=[Migration(1, "migrations/none", "later")], target=2)
    assert read_state(store.backend).version == 0


def test_a_version_0_directory_store_survives_a_restart(tmp_path: Path) -> None:
    """The migration is durable on the embedded engine (written once, replayed on restart)."""
    target = tmp_path / "old"
    with LineageStore.open(target) as store:
        populate(store)
        before = snapshot(store)
        downgrade_to_v0(store.backend)
    with LineageStore.open(target) as store:
        assert store.schema_version == SCHEMA_VERSION
    with LineageStore.open(target) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert snapshot(store) == before


FIXTURES = Path(__file__).parent / "fixtures"


def _comparable(snap: tuple[Any, ...]) -> list[Any]:
    """A snapshot without the times (the fixture was written on another day)."""
    times = {"create_time_since_epoch", "last_update_time_since_epoch", "milliseconds_since_epoch"}
    out: list[Any] = []
    for part in snap[:4]:
        out.append([m.model_dump(exclude=times) for m in part])
    out.append([[t.model_dump() for t in types] for types in snap[4]])
    return out


@pytest.mark.parametrize("version", [2])
def test_a_store_written_by_an_older_library_opens_migrated(
    version: int, store: LineageStore, tmp_path: Path
) -> None:
    """A real data directory (AOF + RDB files) written by the library at schema ``version``
    (tests/reliability/fixtures/README.md): the bytes an older release left on disk."""
    target = tmp_path / "old"
    shutil.copytree(FIXTURES / f"store-v{version}", target)
    target.chmod(0o700)
    populate(store)  # the same content, written now by this library: the expected answer
    with LineageStore.open(target) as old:
        assert old.schema_version == SCHEMA_VERSION
        assert _comparable(snapshot(old)) == _comparable(snapshot(store))
        assert_healthy(old)
        [new_id] = old.put_artifacts([Artifact(type="DataSet", uri="/new")])
        assert new_id > max(a.id or 0 for a in snapshot(store)[0])  # no id reused
    with LineageStore.open(target) as old:  # the migration was durable
        assert old.schema_version == SCHEMA_VERSION
        assert old.count(NodeKind.ARTIFACT) == len(snapshot(store)[0]) + 1


def test_a_migration_stopped_by_the_query_timeout_says_which_setting_to_raise(
    tmp_path: Path,
) -> None:
    """A migration longer than the query timeout is rolled back and the store cannot be opened
    until one opening has a longer timeout: the error named no setting on the embedded engine
    ("FalkorDB query timed out ...: Query timed out"). It now says which (docs/reliability.md).
    The slow migration is the real one behind ~12 M rows of work: far past a 50 ms limit."""
    from lineage_graph.backends import open_backend
    from lineage_graph.backends._embedded_close import rewrite_aof_and_wait
    from lineage_graph.backends.embedded import EmbeddedBackend

    root = tmp_path / "cypher"
    shutil.copytree(cypher_dir(), root)
    real = (cypher_dir() / "migrations" / "v0_to_v1.cypher").read_text()
    slow = "UNWIND range(1, 12000000) AS x WITH x WHERE x % 7 = 0 WITH count(x) AS slow\n"
    (root / "migrations" / "v0_to_v1.cypher").write_text(
        real.replace("MERGE (info:StoreInfo", slow + "MERGE (info:StoreInfo", 1)
    )
    target = tmp_path / "store"
    with LineageStore.open(target) as store:
        populate(store)
        downgrade_to_v0(store.backend)
        before = raw_snapshot(store.backend)
        # The log compacted into a snapshot: the hurried opening below loads it instead of
        # replaying these writes under its 50 ms limit, which one of them exceeded on a busy
        # machine (EngineError: "a logged write fails when replayed: '-Query timed out'").
        assert isinstance(store.backend, EmbeddedBackend)
        rewrite_aof_and_wait(store.backend)
    hurried = open_backend(target, query_timeout_ms=50)
    try:
        with pytest.raises(
            SchemaVersionError,
            match=r"unchanged at schema version 0: .*timed out.*"
            r"open the store once with a longer one \(LINEAGE_GRAPH_QUERY_TIMEOUT_MS",
        ):
            migrate(hurried, queries=QueryRegistry(root))
        assert raw_snapshot(hurried) == before
        assert read_state(hurried).version == 0
    finally:
        hurried.close()
    with LineageStore.open(target) as store:  # the real migration, default timeout
        assert store.schema_version == SCHEMA_VERSION
