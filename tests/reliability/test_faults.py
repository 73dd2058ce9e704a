"""Engine faults (issue 7.5, with the crash/restart half of 7.1).

Embedded: a query that segfaults FalkorDB 4.16.3 kills the server; the library restarts it and
the caller gets a typed, retryable error within seconds (never a hang), with every acknowledged
write still there. A write whose reply is lost never gives its ids back. A stale server record
(a crashed server whose pid now belongs to another process) does not block the store.
Neo4j (when configured): transient conflicts are retried by the managed transaction; wrong
password and unreachable URI give clear, typed errors.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    ConfigurationError,
    EngineUnavailableError,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    ImpactMark,
    LineageGraphError,
    LineageStore,
    NodeKind,
    NodeRef,
)
from lineage_graph._schema import SCHEMA
from lineage_graph.backends.embedded import EmbeddedBackend
from tests.reliability._integrity import assert_healthy
from tests.reliability.conftest import kill_pid, neo4j_or_skip, record

#: Segfaults FalkorDB 4.16.3 even on an empty graph (an upstream bug, fixed in later engines).
CRASHING_QUERY = "MATCH (a) WHERE ()-[]->() XOR TRUE RETURN 0"


def embedded(store: LineageStore) -> EmbeddedBackend:
    assert isinstance(store.backend, EmbeddedBackend) and store.backend.server is not None
    return store.backend


def put(store: LineageStore, n: int, prefix: str = "/") -> list[int]:
    store.put_artifact_type(ArtifactType(name="Data"))
    return store.put_artifacts([Artifact(type="Data", uri=f"{prefix}{i}") for i in range(n)])


def test_a_segfaulting_query_restarts_the_server_with_a_retryable_error(tmp_path: Path) -> None:
    with LineageStore.open(tmp_path / "s") as store:
        ids = put(store, 100)
        backend = embedded(store)
        assert backend.server is not None
        pids = [backend.server.pid]
        # counted from here: a restart before the crashes (a check timing out on a loaded
        # machine, seen once in a run under load) is not theirs
        restarts = backend.server.restarts
        timings = []
        for run in (backend.write, backend.read):
            started = time.monotonic()
            with pytest.raises(EngineUnavailableError) as info:
                run(CRASHING_QUERY, None, name="tests/crash")
            timings.append(time.monotonic() - started)
            assert info.value.retryable and "restarted" in str(info.value)
            pids.append(backend.server.pid)
        # The write crashed it once; the read crashed it, was retried once, crashed it again.
        assert backend.server.restarts - restarts == 3 and len(set(pids)) == 3
        assert max(timings) < 30  # typed error, never a hang
        assert [a.id for a in store.get_artifacts()] == ids  # durable data came back
        assert put(store, 1, "/after")[0] > max(ids)
        assert_healthy(store)
    record("faults: segfaulting query", restarts=3, slowest_error_s=round(max(timings), 2))


def test_a_hung_server_is_killed_and_restarted_with_a_retryable_error(tmp_path: Path) -> None:
    """A server that neither replies within the socket timeout nor answers a PING on a fresh
    connection (SIGSTOP stands in for the deadlock seen once after a fork) is replaced."""
    with LineageStore.open(tmp_path / "s", socket_timeout_s=2) as store:
        ids = put(store, 20)
        backend = embedded(store)
        assert backend.server is not None and backend.server.pid is not None
        hung = backend.server.pid
        os.kill(hung, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(EngineUnavailableError) as info:
                store.put_artifacts([Artifact(type="Data", uri="/while-hung")])
            assert info.value.retryable and time.monotonic() - started < 30
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(hung, signal.SIGCONT)
        assert backend.server.pid != hung and backend.server.restarts == 1
        assert [a.id for a in store.get_artifacts()][: len(ids)] == ids  # durable data is back
        assert_healthy(store)


def test_a_store_opened_on_a_hung_server_replaces_it(tmp_path: Path) -> None:
    """A server another client started hangs (SIGSTOP) with no query running: opening the
    store failed with redis's bare TimeoutError at the connection's handshake, every time, and
    nothing ever restarted the server. The opener now recovers it as a failed command would."""
    target = tmp_path / "s"
    first = LineageStore.open(target)
    try:
        ids = put(first, 5)
        hung = embedded(first).server.pid
        _stop(hung)
        try:
            started = time.monotonic()
            with LineageStore.open(target, hang_after_s=2) as store:
                assert embedded(store).server.pid != hung
                assert [a.id for a in store.get_artifacts()] == ids
            assert time.monotonic() - started < 60
        finally:
            _resume(hung)
    finally:
        first.close()


def test_opening_a_store_on_a_stopped_server_gives_up_on_it_after_hang_after_s(
    tmp_path: Path,
) -> None:
    """A server another client started is stopped (SIGSTOP) with no query running. The
    opener took its silent PING for a server at work on a long statement and attached to it:
    it then waited for the start-up timeout (20 s by default, here 60) on its calls, and only
    the first failed call recovered it. Judged as a starting server is (silent and idle for
    ``hang_after_s``), it is replaced at the opening itself: no restart of a server attached
    to is needed."""
    target = tmp_path / "s"
    first = LineageStore.open(target)
    try:
        ids = put(first, 5)
        hung = embedded(first).server.pid
        _stop(hung)
        try:
            with LineageStore.open(target, hang_after_s=1, startup_timeout_s=60) as store:
                server = embedded(store).server
                assert server.pid != hung and server.restarts == 0
                assert [a.id for a in store.get_artifacts()] == ids
        finally:
            _resume(hung)
    finally:
        first.close()


def _stop(pid: int | None) -> None:
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)


def _resume(pid: int | None) -> None:
    with contextlib.suppress(ProcessLookupError, TypeError):
        os.kill(pid, signal.SIGCONT)  # type: ignore[arg-type]


def _hang_at_index_creation(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int | None]:
    """Stop the server (``SIGSTOP``) as each of the first ``times`` index creations is sent: the
    command goes to a server that answers nothing. The stopped pids, to resume."""
    send = EmbeddedBackend._execute
    stopped: list[int | None] = []

    def hang_at_index_creation(backend: EmbeddedBackend, *args: object) -> object:
        if len(stopped) < times and "CREATE INDEX" in str(args[2:3]):
            assert backend.server is not None
            stopped.append(backend.server.pid)
            _stop(backend.server.pid)
        return send(backend, *args)

    monkeypatch.setattr(EmbeddedBackend, "_execute", hang_at_index_creation)
    return stopped


def test_a_store_opens_when_its_server_hangs_while_the_schema_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hang seen in CI: a new store's server stopped answering while the first index was
    being created (after a fork). Each schema step is idempotent: the hung server is noticed
    within ``hang_after_s`` (not the 660 s socket timeout, then 3 x 660 s more to close it),
    killed, restarted, and the schema made again; the store opens."""
    stopped = _hang_at_index_creation(monkeypatch, 1)
    started = time.monotonic()
    try:
        store = LineageStore.open(tmp_path / "s", hang_after_s=1)
    finally:
        for pid in stopped:
            _resume(pid)
    with store:
        backend = embedded(store)
        assert stopped and backend.server is not None
        assert backend.server.pid != stopped[0] and backend.server.restarts == 1
        assert time.monotonic() - started < 30
        indexes = {(r["label"], r["p"]) for r in backend.read(
            "CALL db.indexes() YIELD label, properties UNWIND properties AS p RETURN label, p"
        )}  # fmt: skip
        assert {(i.label, p) for i in SCHEMA.indexes for p in i.properties} <= indexes
        put(store, 3)
        assert_healthy(store)


def test_a_server_that_hangs_again_after_its_restart_fails_the_open_with_a_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema is made twice at most: a second hang is reported (retryable), not retried
    for ever, and as the library's error, not redis's."""
    stopped = _hang_at_index_creation(monkeypatch, 2)
    started = time.monotonic()
    try:
        with pytest.raises(EngineUnavailableError) as info:
            LineageStore.open(tmp_path / "s", hang_after_s=1)
    finally:
        for pid in stopped:
            _resume(pid)
    assert len(stopped) == 2 and info.value.retryable
    assert time.monotonic() - started < 60
    with LineageStore.open(tmp_path / "s") as store:  # a later open makes the schema
        put(store, 1)
        assert_healthy(store)


def test_a_stall_taken_for_a_hang_does_not_lock_the_store_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server silent for ``hang_after_s`` that answers again by the time the store acts on it
    (a stall: a debugger, a frozen container) is left running, and the store uses it again:
    the hang verdict is dropped, not kept to fail every later call at once."""
    with LineageStore.open(tmp_path / "s", hang_after_s=1) as store:
        ids = put(store, 5)
        backend = embedded(store)
        assert backend.server is not None
        stalled = backend.server.pid
        recover = EmbeddedBackend._recover

        def stall_ends_first(self: EmbeddedBackend, exc: BaseException, seen: int) -> bool:
            _resume(stalled)
            return recover(self, exc, seen)

        monkeypatch.setattr(EmbeddedBackend, "_recover", stall_ends_first)
        _stop(stalled)
        try:
            with pytest.raises(EngineUnavailableError):
                store.get_artifacts()
        finally:
            _resume(stalled)
        assert [a.id for a in store.get_artifacts()] == ids
        assert backend.server.pid == stalled and backend.server.restarts == 0


def test_closing_a_store_whose_server_hangs_kills_it_promptly(tmp_path: Path) -> None:
    """Closing used to ask a hung server three things (clients, rewrite, shutdown), each for the
    whole socket timeout. Now it gives up on it after ``hang_after_s`` and kills it; every
    acknowledged write is back on the next open."""
    store = LineageStore.open(tmp_path / "s", hang_after_s=1)
    ids = put(store, 20)
    server = embedded(store).server
    assert server is not None
    hung = server.pid
    _stop(hung)
    try:
        started = time.monotonic()
        store.close()
        assert time.monotonic() - started < 20
        assert not server.alive()
    finally:
        _resume(hung)
    with LineageStore.open(tmp_path / "s") as reopened:
        assert [a.id for a in reopened.get_artifacts()] == ids


@pytest.mark.parametrize(
    ("write", "hang_after_s", "outlast_s"),
    [
        pytest.param(False, 0.2, 1.0, id="a read (its server answers PINGs)"),
        pytest.param(
            True, 0.5, 5.0, id="a write (no PING answered, CPU time)", marks=pytest.mark.slow
        ),
    ],
)
def test_a_long_statement_on_a_server_at_work_is_waited_for(
    tmp_path: Path, write: bool, hang_after_s: float, outlast_s: float
) -> None:
    """Only a server that does nothing is hung. A read runs on a worker thread, and the main
    thread answers PINGs. A write holds the main thread until it ends, so no PING is answered
    meanwhile (2.3 s for this statement at 20M, measured), but the server uses CPU time all
    along. With PINGs alone (2 s each, the first after 0.125 s: hung after ~4.3 s) the write
    was killed, and every retry of it would be too."""
    query = "UNWIND range(1, $n) AS x RETURN sum(x) AS s"
    with LineageStore.open(tmp_path / "s", hang_after_s=hang_after_s) as store:
        backend = embedded(store)
        assert backend.server is not None
        run = backend.write if write else backend.read
        n = 2_000_000
        while True:
            started = time.monotonic()
            rows = run(("CREATE (:Scratch) WITH 1 AS one " if write else "") + query, {"n": n})
            took = time.monotonic() - started
            assert rows == [{"s": n * (n + 1) // 2}]
            if took > outlast_s:
                break
            assert n < 1_000_000_000, f"could not make a statement outlast {outlast_s} s"
            n *= 2
        assert backend.server.restarts == 0


def test_a_segfault_in_memory_mode_says_the_data_is_gone() -> None:
    with LineageStore.open("memory") as store:
        put(store, 3)
        with pytest.raises(EngineUnavailableError, match="in-memory data was lost"):
            store.backend.write(CRASHING_QUERY, None, name="tests/crash")
        assert store.count(NodeKind.ARTIFACT) == 0
        put(store, 2)  # usable again
        assert store.count(NodeKind.ARTIFACT) == 2


def test_a_write_whose_reply_is_lost_keeps_its_ids_spent(tmp_path: Path) -> None:
    """A client-side timeout leaves the outcome unknown: those ids must never be reused."""
    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put(store, 1)
        impatient = LineageStore.open(target, socket_timeout_s=0.25)
        try:
            size = 2_000
            while True:  # grow the write until it outlasts the client's patience
                batch = [
                    Artifact(
                        type="Data", uri=f"/big/{size}/{i}", custom_properties={"pad": "x" * 200}
                    )
                    for i in range(size)
                ]
                try:
                    impatient.put_artifacts(batch)
                except EngineUnavailableError as exc:
                    assert exc.retryable
                    break
                assert size < 200_000, "could not make a write outlast a 0.25 s timeout"
                size *= 2
            # The in-doubt write completes on the server (the patient client waits for it);
            # the impatient client's next write must not reuse any id it handed to it.
            deadline = time.monotonic() + 120
            while store.count(NodeKind.ARTIFACT) < 1 + 2 * size - 2_000:  # 2k + 4k + ... + size
                assert time.monotonic() < deadline, "the in-doubt write never landed"
                time.sleep(0.05)
            afters: list[int] = []
            for attempt in range(50):  # on a busy machine even a small write may time out
                try:
                    afters += impatient.put_artifacts(
                        [Artifact(type="Data", uri=f"/after/{attempt}")]
                    )
                    break
                except EngineUnavailableError as exc:
                    assert exc.retryable
            assert afters, "no write succeeded after the in-doubt one"
        finally:
            impatient.close()
        stored = store.get_artifacts()
        ids = [a.id or 0 for a in stored]
        big = [a.id or 0 for a in stored if (a.uri or "").startswith(f"/big/{size}/")]
        assert len(big) == size  # the in-doubt write was applied whole
        assert len(ids) == len(set(ids))  # no id handed out twice
        assert min(afters) > max(big)  # its ids stayed spent
        assert_healthy(store)
    record("faults: reply lost (client timeout)", in_doubt_write_size=size, next_id=afters[0])


def test_a_run_whose_completion_reply_is_lost_is_not_recorded_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's completion that the engine applied but whose reply never came (a timeout here; a
    server killed between its fsync and its reply alike: test_lost_replies.py) is not
    overwritten with FAILED: the run recorded its failure over the stored COMPLETE, a failed
    run holding every output. Now the run reads its execution back and, finding it COMPLETE
    with its outputs, ends normally (it raised EngineUnavailableError over a completed run).
    Whatever the timing, a run never ends FAILED holding outputs, nor raises over a COMPLETE
    one that it could read."""
    lost: list[str] = []  # statements whose reply the impatient client lost
    real = EmbeddedBackend._run

    def counted(backend: EmbeddedBackend, query: str, params: Any, name: str, **kw: Any) -> Any:
        try:
            return real(backend, query, params, name, **kw)
        except EngineUnavailableError:
            lost.append(name)
            raise

    monkeypatch.setattr(EmbeddedBackend, "_run", counted)
    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        [source] = put(store, 1)
        impatient = LineageStore.open(target, socket_timeout_s=0.25)
        try:
            size = 2_000
            while True:  # grow the completion until its reply is lost, the write applied
                run = impatient.run("Big", inputs=[source], cache=False)
                raised = False
                try:
                    with run:
                        lost.clear()  # the entry's own reply may have timed out: not this
                        for i in range(size):
                            run.output(Artifact(type="Data", uri=f"/big/{size}/{i}"))
                except EngineUnavailableError as exc:
                    assert exc.retryable
                    raised = True
                deadline = time.monotonic() + 120
                while (state := store.get_executions_by_id([run.id])[0].last_known_state) in (
                    ExecutionState.RUNNING,
                ):  # an in-doubt completion lands (it was being applied when the reply timed out)
                    assert time.monotonic() < deadline, "the in-doubt completion never landed"
                    time.sleep(0.05)
                outputs = [
                    e for e in store.get_events_by_execution_ids([run.id]) if e.type.is_output
                ]
                custom = store.get_executions_by_id([run.id])[0].custom_properties
                if state == ExecutionState.COMPLETE:
                    assert len(outputs) == size and "error" not in custom
                else:
                    assert (state, outputs, raised) == (ExecutionState.FAILED, [], True)
                if not raised:
                    assert state == ExecutionState.COMPLETE and len(run.outputs) == size
                if lost and state == ExecutionState.COMPLETE:
                    break  # applied, reply lost: the case of this test
                assert size < 200_000, "could not make a completion outlast a 0.25 s timeout"
                size *= 2
        finally:
            impatient.close()
        assert_healthy(store)
    record("faults: run completion reply lost", outputs=size, raised=raised)


def test_an_impact_mark_whose_reply_is_lost_can_still_be_undone(tmp_path: Path) -> None:
    """impact(mark=...) whose write the engine applied but whose reply never came raised
    EngineUnavailableError without the token: 4,001 artifacts were left ABANDONED, with an undo
    record nobody could name (retrying the mark stacks another one on it). The error carries
    the token now."""
    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        [source] = put(store, 1)
        store.put_execution_type(ExecutionType(name="Fan"))
        impatient = LineageStore.open(target, socket_timeout_s=0.25)
        start = NodeRef(NodeKind.ARTIFACT, source)
        mark = ImpactMark(state=ArtifactState.ABANDONED)
        try:
            size, made = 1_000, 0
            while True:  # grow the fan-out until marking it outlasts the client's patience
                store.put_execution(
                    Execution(type="Fan"),
                    [(Artifact(id=source), Event(type=EventType.INPUT))]
                    + [
                        (Artifact(type="Data", uri=f"/fan/{i}"), Event(type=EventType.OUTPUT))
                        for i in range(made, size)
                    ],
                )
                made = size
                try:
                    report = impatient.impact(start, mark=mark)
                except EngineUnavailableError as exc:
                    assert exc.retryable
                    token = exc.mark_token
                    break
                assert report.mark_token is not None
                store.undo_impact_mark(report.mark_token)
                assert size < 100_000, "could not make a mark outlast a 0.25 s timeout"
                size *= 2
        finally:
            impatient.close()
        assert token is not None
        deadline = time.monotonic() + 120
        while not store.backend.read("MATCH (m:ImpactMark) RETURN m.key AS k"):
            assert time.monotonic() < deadline, "the in-doubt mark never landed"
            time.sleep(0.05)
        states = {a.state for a in store.get_artifacts()}
        assert states == {ArtifactState.ABANDONED}  # it was applied: 1 + size artifacts
        assert store.undo_impact_mark(token) == 1 + size
        assert ArtifactState.ABANDONED not in {a.state for a in store.get_artifacts()}
        assert_healthy(store)
    record("faults: impact mark reply lost", marked=1 + size)


def test_a_stale_server_record_does_not_block_the_store(tmp_path: Path) -> None:
    """The server was SIGKILLed with no client left and its pid now belongs to another process."""
    target = tmp_path / "s"
    store = LineageStore.open(target)
    ids = put(store, 10)
    backend = embedded(store)
    assert backend.server is not None
    state = json.loads((target / "server.json").read_text())
    kill_pid(state["pid"])
    backend._closed = True  # this client vanished too (as if its process had been killed)
    # A live, unrelated process now has the old pid; the dead server's socket file is left over.
    (target / "server.json").write_text(json.dumps({"pid": os.getpid(), "socket": state["socket"]}))
    started = time.monotonic()
    with LineageStore.open(target) as store:
        assert [a.id for a in store.get_artifacts()] == ids
    assert time.monotonic() - started < 30


def _servers_on(data_dir: Path) -> list[int]:
    """The pids of the live redis-servers working in ``data_dir`` (not a server's own fork, an
    append-only file rewrite)."""
    found: dict[int, int] = {}  # pid: parent pid
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, IndexError):
            if (
                proc.name.isdigit()
                and Path(os.readlink(proc / "cwd")) == data_dir.resolve()
                and os.readlink(proc / "exe").endswith("redis-server")
            ):
                state, ppid = (proc / "stat").read_text().rsplit(")", 1)[1].split()[:2]
                if state != "Z":
                    found[int(proc.name)] = int(ppid)
    return sorted(pid for pid, ppid in found.items() if ppid not in found)


def test_a_server_whose_socket_was_removed_never_shares_its_files(tmp_path: Path) -> None:
    """A /tmp cleaner removed the running server's socket directory: the next opener cannot
    reach it, and started a second server on the same files. Both appended to the log; a
    rewrite by one deleted the files the other wrote to, and the store no longer opened. The
    unreachable server is stopped first; its client reconnects as after a crash."""
    import shutil

    target = tmp_path / "s"
    first = LineageStore.open(target)
    try:
        put(first, 3, "/first-")
        server = embedded(first).server
        assert server is not None and server.socket_path is not None
        shutil.rmtree(server.socket_path.parent)
        with LineageStore.open(target) as second:
            put(second, 2, "/second-")
            assert len(_servers_on(target)) == 1
            try:  # the first client's server was stopped: in doubt, retryable
                put(first, 1, "/after-")
            except EngineUnavailableError as exc:
                assert exc.retryable
                put(first, 1, "/after-")
            assert len(_servers_on(target)) == 1
            uris = {a.uri for a in second.get_artifacts()}
            assert uris == {
                "/first-0",
                "/first-1",
                "/first-2",
                "/second-0",
                "/second-1",
                "/after-0",
            }
    finally:
        first.close()
    with LineageStore.open(target) as store:
        assert len(store.get_artifacts()) == 6
        assert_healthy(store)


def test_a_server_that_cannot_be_recorded_is_not_left_running(tmp_path: Path) -> None:
    """On a full disk the server record (server.json) could not be written: the open failed
    with a bare OSError and left the server it had started running with no record of it, so
    the next opener started a second server on the same files. (The record's temporary file
    is a directory here: the same failure, without filling a disk.)"""
    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put(store, 2)
    (target / "server.json.tmp").mkdir()
    for _ in range(2):
        with pytest.raises(EngineUnavailableError, match="cannot record the embedded server"):
            LineageStore.open(target)
    assert _servers_on(target) == []
    (target / "server.json.tmp").rmdir()
    with LineageStore.open(target) as store:
        assert len(store.get_artifacts()) == 2
        assert len(_servers_on(target)) == 1


def test_an_opener_killed_while_its_server_loads_leaves_it_to_the_next_one(
    tmp_path: Path,
) -> None:
    """A process killed while the server it started loads the store (`timeout 10 lineage-graph
    ls`, the OOM killer; a large store loads for seconds) left that server running with no
    record of it: the next opener started a second server on the same files, and the first ran
    on for ever. The child here is killed while it waits for its server to be ready."""
    import subprocess
    import sys

    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put(store, 2)
    code = (
        "import sys, time\n"
        "from lineage_graph import LineageStore\n"
        "from lineage_graph.backends import _falkordb_server as f\n"
        "def loading(self, workdir):\n"
        "    while not self.socket_path.exists():\n"
        "        time.sleep(0.01)\n"
        "    print(self.pid, flush=True)\n"
        "    time.sleep(600)\n"
        "f.ServerProcess._wait_ready = loading\n"
        "LineageStore.open(sys.argv[1])\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        pid = int(child.stdout.readline())
    finally:
        child.kill()
        child.wait()
    try:
        with LineageStore.open(target) as store:
            assert embedded(store).server.pid == pid  # shared, not a second server
            assert len(store.get_artifacts()) == 2
            assert _servers_on(target) == [pid]
        assert _servers_on(target) == []  # and stopped by the last client
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_opening_while_the_server_shuts_down_starts_a_new_one(tmp_path: Path) -> None:
    """The last client of a store sent SHUTDOWN and was killed before it removed the record
    (or the server got a SIGTERM): a store opened meanwhile found the server still listening,
    and failed with redis's bare ConnectionError ("Connection reset by peer") as it went."""
    target = tmp_path / "s"
    first = LineageStore.open(target)
    put(first, 2)
    first.backend.write("UNWIND range(1, 1000000) AS i CREATE (:Scratch)")  # a slow save
    server = embedded(first).server
    assert server is not None and server.socket_path is not None
    first.backend._closed = True  # this client vanished (as if its process had been killed)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.connect(str(server.socket_path))
        raw.sendall(b"SHUTDOWN SAVE\r\n")
        with LineageStore.open(target) as store:
            assert len(store.get_artifacts()) == 2
            assert embedded(store).server.pid != server.pid
    server.wait_exit(30)


@pytest.mark.parametrize("kills", [1, 2])
def test_a_server_killed_while_it_starts_is_started_again_or_a_retryable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kills: int
) -> None:
    """Another process killed the server an opener had just started (a `kill` of the pid in
    server.json, which names it from its spawn on; the OOM killer): the open failed with a bare
    EngineError ("the embedded FalkorDB server failed to start.", nothing more), which does
    not say it can be retried. It starts the server once more; killed again, the open is
    EngineUnavailableError (retryable), and no server or record is left."""
    from lineage_graph.backends._falkordb_server import ServerProcess

    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put(store, 2)
    record = ServerProcess._write_state
    killed: list[int] = []

    def killed_once_recorded(self: ServerProcess) -> None:
        record(self)
        if len(killed) < kills and self.pid is not None:
            killed.append(self.pid)
            os.kill(self.pid, signal.SIGKILL)

    monkeypatch.setattr(ServerProcess, "_write_state", killed_once_recorded)
    if kills == 1:
        with LineageStore.open(target) as store:
            assert len(store.get_artifacts()) == 2
            assert embedded(store).server.pid not in killed
    else:
        with pytest.raises(EngineUnavailableError, match="stopped by SIGKILL while it started"):
            LineageStore.open(target)
        assert not (target / "server.json").exists()
    assert len(killed) == kills
    assert _servers_on(target) == []
    with LineageStore.open(target) as store:
        assert len(store.get_artifacts()) == 2


@pytest.mark.parametrize("hangs", [1, 2])
def test_a_server_that_hangs_while_it_starts_is_started_again_or_a_retryable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hangs: int
) -> None:
    """FalkorDB 4.16.3 deadlocked replaying a store's append-only log under load (every thread
    asleep on a lock, the main thread in ``Globals_AddGraph``; seen twice on a loaded machine):
    its socket accepted connections and answered nothing, which the start-up wait took for a
    long load. The open hung for max(300 s, 15 x startup_timeout_s) and then failed, where a
    second start of the same files loaded at once. A server that answers nothing and does no
    work (no CPU time, no disk wait) for ``hang_after_s`` while it starts is now killed and
    started once more; hung again, the open is EngineUnavailableError (retryable), and no
    server or record is left. (Here the server is stopped by SIGSTOP once it listens: a real
    server that does nothing, as the deadlocked one.)"""
    from lineage_graph.backends._falkordb_server import ServerProcess, _listening

    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put(store, 2)
    record = ServerProcess._write_state
    stopped: list[int] = []

    def stopped_once_listening(self: ServerProcess) -> None:
        record(self)
        if len(stopped) < hangs and self.pid is not None and self.socket_path is not None:
            deadline = time.monotonic() + 60
            # Listening, not only bound: stopped between its bind (the socket file exists) and
            # its listen, the server refused every PING, which the start-up wait takes for a
            # server not up yet, not for a silent one (it failed the test: "did not answer
            # within 30 s").
            while not _listening(self.socket_path) and time.monotonic() < deadline:
                time.sleep(0.001)
            stopped.append(self.pid)
            os.kill(self.pid, signal.SIGSTOP)

    monkeypatch.setattr(ServerProcess, "_write_state", stopped_once_listening)
    try:
        if hangs == 1:
            with LineageStore.open(target, hang_after_s=1) as store:
                assert len(store.get_artifacts()) == 2
                assert embedded(store).server.pid not in stopped
        else:
            with pytest.raises(EngineUnavailableError, match="did no work for 1 s") as info:
                LineageStore.open(target, hang_after_s=1)
            assert info.value.retryable
            assert not (target / "server.json").exists()
        assert len(stopped) == hangs
        assert _servers_on(target) == []
    finally:
        # Killed by the open; never left stopped if it failed (only a server still on the
        # store's files: a reaped server's pid may be another process's by now).
        for pid in set(stopped) & set(_servers_on(target)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    monkeypatch.undo()
    with LineageStore.open(target) as store:
        assert len(store.get_artifacts()) == 2


def test_a_server_stopped_before_it_listens_is_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A starting server stopped (SIGSTOP; a hang alike) before it listens: the start-up wait
    judged silence by a PING that timed out only, and a server not listening yet refuses or
    has no socket. It was waited for the whole start-up timeout, then the open failed with
    EngineError ("did not answer", not retryable). It is judged as one silent once it listens
    is: idle for ``hang_after_s``, killed and started once more."""
    from lineage_graph.backends._falkordb_server import ServerProcess

    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put(store, 2)
    record = ServerProcess._write_state
    stopped: list[int] = []

    def stopped_at_once(self: ServerProcess) -> None:
        if not stopped and self.pid is not None:
            stopped.append(self.pid)
            os.kill(self.pid, signal.SIGSTOP)  # before it made its socket, or listened
        record(self)

    monkeypatch.setattr(ServerProcess, "_write_state", stopped_at_once)
    try:
        with LineageStore.open(target, hang_after_s=1, startup_timeout_s=60) as store:
            assert len(store.get_artifacts()) == 2
            assert embedded(store).server.pid not in stopped
        assert _servers_on(target) == []
    finally:
        for pid in set(stopped) & set(_servers_on(target)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def cpu_quota(name: str, percent: int) -> Any:
    """A CPU cgroup of its own holding at most ``percent`` % of one CPU (root and a writable
    cgroup v1 ``cpu`` hierarchy, or a cgroup v2 root with the ``cpu`` controller; else the
    test is skipped); yields the file to write a pid into. Its processes are moved back out
    (they are the test's) and the group removed."""
    v1, v2 = Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup")
    try:
        v2_controllers = (v2 / "cgroup.controllers").read_text().split()
    except OSError:
        v2_controllers = []
    if (v1 / "cpu.cfs_quota_us").exists():
        group = v1 / name
        limits = {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": str(1000 * percent)}
    elif "cpu" in v2_controllers:
        group, limits = v2 / name, {"cpu.max": f"{1000 * percent} 100000"}
    else:
        pytest.skip("no cgroup CPU controller here")
    try:
        group.mkdir()
        for file, value in limits.items():
            (group / file).write_text(value)
    except OSError as exc:
        with contextlib.suppress(OSError):
            group.rmdir()
        pytest.skip(f"cannot make a CPU cgroup here ({exc.strerror})")
    try:
        yield group / "cgroup.procs"
    finally:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                for pid in (group / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):
                        (group.parent / "cgroup.procs").write_text(pid)
                group.rmdir()
                break
            time.sleep(0.05)


def test_a_server_starved_of_cpu_as_it_starts_is_not_taken_for_hung(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server starved of CPU (a container's CPU quota, a loaded machine) is runnable and gets
    a clock tick now and then. The start-up wait counted only CPU time and disk waits as work,
    so one loading a store on 1% of a CPU was taken for hung, killed, started again, killed
    again, and the open failed (``hang_after_s`` 3, a 20,000-node store that loads in 11 s so
    starved). A runnable thread now counts as work: the server is waited for and the store
    opens. (Here the server alone is put in a CPU cgroup limited to 1% as soon as it is
    spawned.)"""
    from lineage_graph.backends._falkordb_server import ServerProcess

    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put(store, 2)
        for start in range(0, 20_000, 2_000):
            store.put_artifacts(
                [Artifact(type="Data", uri=f"/big/{i}") for i in range(start, start + 2_000)]
            )
    record = ServerProcess._write_state
    starved: list[int] = []
    with cpu_quota(f"lg-test-{os.getpid()}", 1) as procs:

        def starved_at_once(self: ServerProcess) -> None:
            if self.pid is not None and not starved:
                procs.write_text(str(self.pid))
                starved.append(self.pid)
            record(self)

        monkeypatch.setattr(ServerProcess, "_write_state", starved_at_once)
        with LineageStore.open(target, hang_after_s=3) as store:
            assert embedded(store).server.pid == starved[0]  # never replaced
            assert store.get_artifacts_by_uri("/1")
            assert len(starved) == 1
    monkeypatch.undo()
    with LineageStore.open(target) as store:
        assert len(store.get_artifacts()) == 20_002


def test_an_external_server_that_dies_gives_a_retryable_error(tmp_path: Path) -> None:
    from tests._external_server import unix_socket_server

    with unix_socket_server(tmp_path) as (sock, proc):
        store = LineageStore.open(f"unix://{sock}")
        put(store, 2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        for call in (store.get_artifacts, lambda: put(store, 1)):
            with pytest.raises(EngineUnavailableError) as info:
                call()
            assert info.value.retryable  # not ours to restart: the caller retries later
        store.close()


def test_a_data_directory_that_is_a_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a store")
    with pytest.raises(ConfigurationError, match="not a directory"):
        LineageStore.open(tmp_path / "file")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_data_directory_owned_by_someone_else_is_refused_untouched(tmp_path: Path) -> None:
    """Root could read and write it anyway: the library refuses on ownership, not on errno."""
    data = tmp_path / "theirs"
    with LineageStore.open(data) as store:
        put(store, 3)
    before = {p: p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}
    nobody = 65534
    os.chown(data, nobody, nobody)
    try:
        with pytest.raises(ConfigurationError, match="owned by uid 65534") as info:
            LineageStore.open(data)
        assert not info.value.retryable
        after = {p: p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}
        assert after == before  # no lock file, no server record, no AOF written
    finally:
        os.chown(data, os.geteuid(), os.getegid())
    with LineageStore.open(data) as store:  # back with its owner: all there
        assert store.count(NodeKind.ARTIFACT) == 3


# ------------------------------------------------------------------------------------- Neo4j


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("scheme", ["bolt", "neo4j", "neo4j+s", "bolt+ssc"])
def test_an_unreachable_neo4j_uri_is_a_typed_error(scheme: str) -> None:
    pytest.importorskip("lineage_graph.backends.neo4j", reason="the Neo4j backend is not built")
    uri = f"{scheme}://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises((EngineUnavailableError, ConfigurationError)) as info:
        LineageStore.open(uri, password="pw-never-shown", connect_timeout_s=1)
    assert "pw-never-shown" not in str(info.value)
    assert time.monotonic() - started < 30


@pytest.mark.neo4j
def test_neo4j_wrong_password_is_a_configuration_error() -> None:
    uri = neo4j_or_skip()
    with pytest.raises(ConfigurationError) as info:
        LineageStore.open(uri, password="definitely-wrong-pw", connect_timeout_s=5)
    assert "definitely-wrong-pw" not in str(info.value)


@pytest.mark.neo4j
def test_neo4j_transient_conflicts_are_retried_by_the_managed_transaction() -> None:
    """Writers updating the same nodes in opposite orders deadlock on Neo4j; the managed
    transaction retries the victim, so no caller sees a transient error."""
    uri = neo4j_or_skip()
    with LineageStore.open(uri) as store:
        from tests._neo4j import wipe

        wipe(store.backend)  # in batches: it may follow the large tests
    with LineageStore.open(uri) as store:
        ids = put(store, 2)
        errors: list[BaseException] = []

        def worker(order: list[int], n: int) -> None:
            try:
                for i in range(n):
                    store.put_artifacts(
                        [Artifact(id=x, type="Data", uri=f"/{x}/{i}") for x in order]
                    )
            except LineageGraphError as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=worker, args=(ids if t % 2 else ids[::-1], 50))
            for t in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]
        assert_healthy(store)
