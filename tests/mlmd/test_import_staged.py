"""An import into an empty store on the embedded engine is all or nothing: it fills a staged
graph on the same server, which replaces the target in one atomic step (``RENAME``) only once
everything was written. Interrupted, killed or raced, the target stays as it was, and the
staged graph is dropped (or, after a crash, expires)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ml_metadata")

from lineage_graph import (
    Artifact,
    ArtifactType,
    EngineUnavailableError,
    FailedPreconditionError,
    LineageStore,
    NodeKind,
)
from lineage_graph._repositories._base import Repository
from lineage_graph.backends._embedded_schema import existing_indexes
from lineage_graph.backends.embedded import STAGING_TTL_MS, EmbeddedBackend
from lineage_graph.mlmd import MetadataStore
from lineage_graph.mlmd._importer import import_mlmd

from .test_import import snapshot, write_mlmd_sqlite

STAGES = ("types", "artifacts", "executions", "contexts", "events", "contexts' links", "publish")


@pytest.fixture(scope="module")
def mlmd_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mlmd") / "mlmd.sqlite"
    write_mlmd_sqlite(path)
    return path


@pytest.fixture(scope="module")
def clean_copy(mlmd_file: Path) -> dict[str, Any]:
    """What an import that nothing disturbed leaves in a store the adapter opened."""
    with LineageStore.open("memory") as store:
        MetadataStore(store)
        report = import_mlmd(mlmd_file, store)
        assert report.ids_preserved
        return snapshot(store)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[LineageStore]:
    """An empty store on disk, opened by the MLMD adapter (which registers MLMD's system
    types), as a user moving from MLMD would have it."""
    with LineageStore.open(tmp_path / "store") as store:
        MetadataStore(store)
        yield store


def _server(store: LineageStore) -> Any:
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend)
    return backend._db.connection


def _graphs(store: LineageStore) -> list[str]:
    return sorted(_server(store).execute_command("GRAPH.LIST"))


def _at(stage: str, act: Callable[[], None]) -> Callable[[str, int, int], None]:
    """A progress callback that runs ``act`` once, when the import reaches ``stage``."""
    done: list[str] = []

    def progress(now: str, _done: int, _total: int) -> None:
        if now == stage and not done:
            done.append(now)
            act()

    return progress


def _interrupt() -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("stage", STAGES)
def test_an_import_interrupted_at_any_stage_leaves_the_target_as_it_was(
    mlmd_file: Path, target: LineageStore, clean_copy: dict[str, Any], stage: str
) -> None:
    before = snapshot(target)
    with pytest.raises(KeyboardInterrupt):
        import_mlmd(mlmd_file, target, progress=_at(stage, _interrupt))
    assert snapshot(target) == before
    assert _graphs(target) == ["lineage"]  # the staged graph was dropped
    # Still empty, so the import can simply run again, and gives the same copy, ids and all.
    report = import_mlmd(mlmd_file, target)
    assert report.ids_preserved
    assert snapshot(target) == clean_copy
    assert _graphs(target) == ["lineage"]


def test_an_engine_killed_midway_leaves_the_target_as_it_was_and_the_staged_graph_expires(
    mlmd_file: Path, target: LineageStore, clean_copy: dict[str, Any]
) -> None:
    before = snapshot(target)
    pid = int(target.describe()["pid"])
    with pytest.raises(EngineUnavailableError):
        import_mlmd(mlmd_file, target, progress=_at("events", lambda: os.kill(pid, signal.SIGKILL)))
    # The target's next call restarts the server from its append-only file.
    assert snapshot(target) == before
    assert int(target.describe()["pid"]) != pid
    staged = [g for g in _graphs(target) if g != "lineage"]
    assert len(staged) == 1 and staged[0].startswith("lineage~staged~")
    assert 0 < _server(target).pttl(staged[0]) <= STAGING_TTL_MS  # dropped by the server later
    report = import_mlmd(mlmd_file, target)
    assert report.ids_preserved
    assert snapshot(target) == clean_copy


def test_a_write_to_the_target_during_the_import_fails_the_import_and_is_kept(
    mlmd_file: Path, target: LineageStore, tmp_path: Path
) -> None:
    other = LineageStore.open(tmp_path / "store")  # another client of the same store
    try:
        written: list[int] = []
        with pytest.raises(FailedPreconditionError, match="written while"):
            import_mlmd(
                mlmd_file,
                target,
                progress=_at(
                    "events",
                    lambda: written.extend(
                        other.put_artifacts([Artifact(type="mlmd.Dataset", uri="/meanwhile")])
                    ),
                ),
            )
        assert [(a.id, a.uri) for a in target.get_artifacts()] == [(written[0], "/meanwhile")]
        assert _graphs(target) == ["lineage"]
    finally:
        other.close()


def test_a_staged_graph_that_expired_under_a_stalled_import_is_not_published(
    mlmd_file: Path, target: LineageStore
) -> None:
    before = snapshot(target)

    def expire() -> None:
        [staged] = [g for g in _graphs(target) if g != "lineage"]
        _server(target).pexpire(staged, 1)
        while _server(target).exists(staged):
            pass

    with pytest.raises(FailedPreconditionError, match="expired"):  # every write done by then
        import_mlmd(mlmd_file, target, progress=_at("publish", expire))
    assert snapshot(target) == before
    assert _graphs(target) == ["lineage"]


def test_ids_another_client_reserved_before_the_import_stay_unused(
    mlmd_file: Path, target: LineageStore, tmp_path: Path
) -> None:
    """Another client holds a block of artifact ids it reserved in the target (its writes take
    ids from it without asking the store again). The staged graph's sequence starts after that
    block, so the copy never hands out those ids; MLMD's artifact ids cannot be kept then."""
    other = LineageStore.open(tmp_path / "store")
    try:
        held = other._artifacts.ids.allocate("Artifact", 1)  # what a write of one artifact does
        report = import_mlmd(mlmd_file, target)
        assert not report.ids_preserved
        copied = set(report.id_map["Artifact"].values())
        assert min(copied) > held[0]
        [mine] = other.put_artifacts([Artifact(type="mlmd.Dataset", uri="/other")])
        assert mine not in copied
        assert len({a.id for a in target.get_artifacts()}) == len(copied) + 1
    finally:
        other.close()


def test_the_graph_in_place_knows_every_property_key_the_target_knew(
    mlmd_file: Path, target: LineageStore, tmp_path: Path
) -> None:
    """Another client registered a key it is about to write (FalkorDB must know a key before a
    statement that may fail creates it, see EmbeddedBackend.ensure_property_keys): the graph
    that replaces the target still knows it, so that client's next write creates no key."""
    other = LineageStore.open(tmp_path / "store")
    try:
        other.backend.ensure_property_keys(["zz_registered_by_another_client"])
        import_mlmd(mlmd_file, target)
        keys = {row["key"] for row in Repository(target.backend).read("meta/property_keys")}
        assert "zz_registered_by_another_client" in keys
    finally:
        other.close()


def _merged(store: LineageStore) -> dict[str, Any]:
    """``snapshot`` without the times of the target's own node (two stores made it)."""
    snap = snapshot(store)
    for a in snap["artifacts"]:
        if a["uri"] == "/own":
            a["create_time_since_epoch"] = a["last_update_time_since_epoch"] = None
    return snap


def _with_a_node_of_its_own(path: Path) -> LineageStore:
    store = LineageStore.open(path)
    store.put_artifact_type(ArtifactType(name="Own"))
    store.put_artifacts([Artifact(type="Own", uri="/own")])
    return store


@pytest.mark.parametrize("stage", ["executions", "events", "contexts' links"])
def test_a_merge_interrupted_midway_is_completed_by_running_it_again(
    mlmd_file: Path, tmp_path: Path, stage: str
) -> None:
    """A merge (a target that is not empty) writes in batches, each atomic: interrupted, it
    leaves part of the copy, and the same merge run again completes it exactly as one
    uninterrupted merge would have."""
    with _with_a_node_of_its_own(tmp_path / "clean") as clean:
        import_mlmd(mlmd_file, clean, merge=True)
        want = _merged(clean)
    with _with_a_node_of_its_own(tmp_path / "cut") as cut:
        with pytest.raises(KeyboardInterrupt):
            import_mlmd(mlmd_file, cut, merge=True, progress=_at(stage, _interrupt))
        assert _merged(cut) != want  # part of the copy
        import_mlmd(mlmd_file, cut, merge=True)
        assert _merged(cut) == want


def test_a_client_that_opens_the_store_and_reads_during_the_import_does_not_fail_it(
    mlmd_file: Path, target: LineageStore, tmp_path: Path, clean_copy: dict[str, Any]
) -> None:
    """Opening a store that is up to date writes nothing (its record, schema and keys are read
    first), so a viewer or a CLI command reading meanwhile leaves the import alone (any
    ``GRAPH.QUERY``, even one that changes nothing, would have failed it)."""
    seen: list[int] = []

    def read_meanwhile() -> None:
        with LineageStore.open(tmp_path / "store") as reader:
            MetadataStore(reader)
            seen.append(len(reader.get_artifacts()))

    import_mlmd(mlmd_file, target, progress=_at("events", read_meanwhile))
    assert seen == [0]
    assert snapshot(target) == clean_copy


def test_ids_handed_out_after_an_import_whose_last_report_failed_are_new(
    mlmd_file: Path, target: LineageStore
) -> None:
    """The copy is in place when the final progress report raises; the store already took the
    staged graph's id blocks by then, so what it writes next never reuses an imported id (it
    once overwrote the imported type 10 and wrote a second artifact 1)."""
    target._artifacts.ids.release("Artifact", target._artifacts.ids.allocate("Artifact", 1))

    def after_the_swap(stage: str, done: int, total: int) -> None:
        if (stage, done, total) == ("publish", 1, 1):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_mlmd(mlmd_file, target, progress=after_the_swap)
    imported = {a.id for a in target.get_artifacts()}
    types = {t.id: t.name for t in target.get_types(NodeKind.ARTIFACT)}
    assert imported and types
    new_type = target.put_artifact_type(ArtifactType(name="AfterImport"))
    [new] = target.put_artifacts([Artifact(type="AfterImport", uri="/after")])
    assert new_type not in types and new not in imported
    assert {t.id: t.name for t in target.get_types(NodeKind.ARTIFACT)} == {
        **types,
        new_type: "AfterImport",
    }


def test_a_staged_graph_has_its_time_to_live_from_the_start(target: LineageStore) -> None:
    """Made and given its TTL in one step, by a statement the append-only file keeps (one
    that only reads is not logged, and after a restart the TTL was on no key): a crash right
    after staging leaves a graph the server drops later."""
    staging = target.backend.stage()
    assert staging is not None
    with staging:
        name = next(g for g in _graphs(target) if g != "lineage")
        assert 0 < _server(target).pttl(name) <= STAGING_TTL_MS
        _server(target).pexpire(name, 60_000)
        staging.keep_alive()  # renews it (and pings the watching connection)
        assert _server(target).pttl(name) > 60_000
        os.kill(int(target.describe()["pid"]), signal.SIGKILL)
        assert target.get_artifacts() == []  # restarts the server from its append-only file
        assert name in _graphs(target)
        assert 0 < _server(target).pttl(name) <= STAGING_TTL_MS
    _server(target).delete(name)  # the watching connection died with the server


def test_state_a_new_graph_would_lack_sends_the_import_through_the_target(
    mlmd_file: Path, target: LineageStore, clean_copy: dict[str, Any]
) -> None:
    """An index an operator added and the undo record of an impact mark are not the store's
    schema or nodes: a staged graph would drop them, so such an import writes its batches
    into the target, which keeps them. The store record's creation time is kept either way."""
    backend = target.backend
    assert isinstance(backend, EmbeddedBackend)
    created = Repository(backend).read("meta/get")[0]["created_ms"]
    backend.write("CREATE INDEX FOR (a:Artifact) ON (a.zz_operator)")
    backend.write("CREATE (:ImpactMark {key: 'zz-undo'})")
    import_mlmd(mlmd_file, target)
    assert snapshot(target) == clean_copy
    assert ("Artifact", "zz_operator") in existing_indexes(backend)
    assert backend.read("MATCH (m:ImpactMark {key: 'zz-undo'}) RETURN count(m) AS n") == [{"n": 1}]
    assert Repository(backend).read("meta/get")[0]["created_ms"] == created


def test_a_staged_import_keeps_the_stores_creation_time(
    mlmd_file: Path, target: LineageStore
) -> None:
    created = Repository(target.backend).read("meta/get")[0]["created_ms"]
    import_mlmd(mlmd_file, target)
    assert Repository(target.backend).read("meta/get")[0]["created_ms"] == created


def test_a_lost_watching_connection_is_an_engine_fault_not_a_concurrent_write(
    mlmd_file: Path, target: LineageStore
) -> None:
    """A server may drop an idle connection (its ``timeout``): redis-py reports that as a
    WatchError, which is not a write by anyone."""
    before = snapshot(target)

    def drop_the_watcher() -> None:
        clients = _server(target).client_list()
        [watcher] = [c for c in clients if c.get("watch", "0") != "0"]
        _server(target).client_kill_filter(_id=watcher["id"])

    with pytest.raises(EngineUnavailableError, match="watching"):
        import_mlmd(mlmd_file, target, progress=_at("publish", drop_the_watcher))
    assert snapshot(target) == before
    assert _graphs(target) == ["lineage"]


@pytest.mark.parametrize("stage", ["artifacts", "events"])
def test_an_engine_killed_under_the_import_says_nothing_was_imported(
    mlmd_file: Path, target: LineageStore, stage: str
) -> None:
    """The CLI prints the error's message alone: it said "the FalkorDB server is unreachable in
    query 'graph/write': ... Connection refused", not what became of the import."""
    pid = int(target.describe()["pid"])
    with pytest.raises(EngineUnavailableError) as caught:
        import_mlmd(mlmd_file, target, progress=_at(stage, lambda: os.kill(pid, signal.SIGKILL)))
    assert "nothing was imported" in str(caught.value)
    assert "run the import again" in str(caught.value)
    assert caught.value.retryable
    assert caught.value.nothing_written  # not in doubt: it was False, against the message
    assert target.count(NodeKind.ARTIFACT) == 0  # as said (the server restarted)
    assert import_mlmd(mlmd_file, target).ids_preserved


def test_an_engine_lost_under_a_merges_write_says_what_stays_and_how_to_finish(
    mlmd_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merge writes into the target: the server killed just before its events' write said
    the engine's "... was restarted; retry the call" alone, not that the batches written stay
    nor how to finish. Said now; the same merge run again completes it."""
    with _with_a_node_of_its_own(tmp_path / "clean") as clean:
        import_mlmd(mlmd_file, clean, merge=True)
        want = _merged(clean)
    with _with_a_node_of_its_own(tmp_path / "cut") as cut:
        put_events = cut.put_events

        def killed_first(events: Any) -> None:
            os.kill(int(cut.describe()["pid"]), signal.SIGKILL)
            put_events(events)

        with monkeypatch.context() as patched:
            patched.setattr(cut, "put_events", killed_first)
            with pytest.raises(EngineUnavailableError) as caught:
                import_mlmd(mlmd_file, cut, merge=True)
        message = str(caught.value)
        assert "the import stopped midway: the batches it wrote stay in the store" in message
        assert "run the same import again with --merge" in message
        assert "retry the call" not in message
        assert caught.value.retryable
        assert len(cut.get_artifacts()) == 7  # the nodes' batches, kept
        import_mlmd(mlmd_file, cut, merge=True)
        assert _merged(cut) == want
