"""The embedded server's supervisor facing stopped (SIGSTOP) servers: real servers, real signals.

Assertions are on outcomes (which server runs, what its log says, what is left in the temporary
directory), never on durations; bounded waits only keep a hang from blocking the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage_graph import Artifact, ArtifactType, EngineUnavailableError, LineageStore
from lineage_graph.backends.embedded import EmbeddedBackend


def _backend(store: LineageStore) -> EmbeddedBackend:
    assert isinstance(store.backend, EmbeddedBackend) and store.backend.server is not None
    return store.backend


def _put(store: LineageStore, n: int) -> list[int]:
    store.put_artifact_type(ArtifactType(name="Data"))
    return store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(n)])


def _release(pid: int | None) -> None:
    """Never leave a server of the test stopped or running (by pid, once it is checked)."""
    if pid is None:
        return
    for sig in (signal.SIGCONT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@pytest.fixture(autouse=True)
def own_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary directory of the test's own for the socket folders (``lg-*``): short, so
    that a socket path fits in it (pytest's ``tmp_path`` can be too long: then ``/tmp``)."""
    base = Path(tempfile.mkdtemp(prefix="lgt-", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(base))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_stopped_stray_server_is_shut_down_by_its_sigterm(
    tmp_path: Path, own_tmpdir: Path
) -> None:
    """A server no record names (its opener killed between spawn and record) runs on the
    store's files, stopped (SIGSTOP, Ctrl-Z). The next opener stops it before it starts its
    own: a stopped process handles no SIGTERM, so it was waited for 30 s, then SIGKILLed
    without the shutdown that flushes its log. Resumed after the SIGTERM (SIGCONT, as a
    supervisor does) it shuts down on it: its log says it received SIGTERM."""
    target = tmp_path / "s"
    first = LineageStore.open(target)
    stray = _backend(first).server.pid  # type: ignore[union-attr]
    try:
        ids = _put(first, 3)
        _backend(first)._closed = True  # its process is gone, as far as the store knows
        log = target / "server.log"
        logged = log.stat().st_size
        assert stray is not None
        os.kill(stray, signal.SIGSTOP)
        (target / "server.json").unlink()  # no record names it: a stray
        with LineageStore.open(target) as store:
            assert _backend(store).server.pid != stray  # type: ignore[union-attr]
            assert [a.id for a in store.get_artifacts()] == ids
        with log.open("rb") as f:
            f.seek(logged)
            said = f.read().decode(errors="replace")
        assert f"{stray}:signal-handler" in said and "Received SIGTERM" in said
        # and its socket folder went with it: its starter is gone, no one else removes it
        assert sorted(own_tmpdir.glob("lg-*")) == []
    finally:
        _release(stray)
        with contextlib.suppress(Exception):
            first.backend._db.connection.close()  # type: ignore[attr-defined]


def test_a_server_stopped_right_after_its_first_answer_is_started_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The server an opener started is stopped (SIGSTOP; a hang alike) right after it answered
    its first PING, as the start lets it rewrite its log: that call waited the whole
    max(5 s, ``startup_timeout_s``), where every other wait of a start gives up after
    ``hang_after_s``, then failed the open. Judged as the start-up wait judges a silent server,
    it is killed and started once more, and the store opens."""
    from lineage_graph.backends import _falkordb_server as f

    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        ids = _put(store, 2)
    ready = f.ServerProcess._wait_ready
    stopped: list[int] = []

    def stopped_once_ready(self: f.ServerProcess, workdir: Path) -> None:
        ready(self, workdir)
        if not stopped and self.pid is not None:
            stopped.append(self.pid)
            os.kill(self.pid, signal.SIGSTOP)

    monkeypatch.setattr(f.ServerProcess, "_wait_ready", stopped_once_ready)
    try:
        with LineageStore.open(target, hang_after_s=1, startup_timeout_s=30) as store:
            assert _backend(store).server.pid not in stopped  # type: ignore[union-attr]
            assert [a.id for a in store.get_artifacts()] == ids
    finally:
        for pid in stopped:
            if f._serves(pid, target) is True:  # still the test's server (not a reused pid)
                _release(pid)
    assert len(stopped) == 1


def test_a_server_found_running_and_stopped_as_it_is_checked_is_replaced_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A server another client started answers the opener's PING, then is stopped (SIGSTOP)
    as the opener checks what it loaded: that check waited max(5 s, ``startup_timeout_s``),
    the opener attached to the stopped server all the same, and only its first failed call
    restarted it. It is judged hung after ``hang_after_s`` there too, and replaced at the
    opening (no restart of an attached server)."""
    from lineage_graph.backends import _falkordb_server as f

    target = tmp_path / "s"
    first = LineageStore.open(target)
    hung = _backend(first).server.pid  # type: ignore[union-attr]
    try:
        ids = _put(first, 3)
        loaded = f.ServerProcess._loaded

        def stopped_once_loaded(self: f.ServerProcess, pid: int | None, sock: Path) -> bool:
            answered = loaded(self, pid, sock)
            if answered and pid == hung:
                os.kill(pid, signal.SIGSTOP)
            return answered

        monkeypatch.setattr(f.ServerProcess, "_loaded", stopped_once_loaded)
        with LineageStore.open(target, hang_after_s=1, startup_timeout_s=30) as store:
            server = _backend(store).server
            assert server is not None and server.pid != hung and server.restarts == 0
            assert [a.id for a in store.get_artifacts()] == ids
    finally:
        if hung is not None and f._serves(hung, target) is True:
            _release(hung)
        first.close()


def test_a_silent_server_that_answers_a_fresh_ping_is_not_killed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An opener finds the server silent and idle for ``hang_after_s`` (here stopped by
    SIGSTOP), and it answers again at the moment of the verdict (here resumed then). The
    opener killed it on its short PINGs alone, where a store's failed call first asks a PING on
    a fresh connection and spares a server that answers it: one judgement now, the same
    PING last. It is attached to, alive, and keeps its data."""
    from lineage_graph.backends import _falkordb_server as f
    from lineage_graph.backends import _server_watch

    target = tmp_path / "s"
    first = LineageStore.open(target)
    stalled = _backend(first).server.pid  # type: ignore[union-attr]
    try:
        ids = _put(first, 3)
        # (absent before the one judgement: then the verdict asked no such PING, and the
        # server was killed: the test fails on its pid, below)
        fresh_ping = getattr(_server_watch, "_answers_on", lambda sock: False)
        resumed: list[int] = []

        def resumed_then_pinged(sock: Path) -> bool:
            if stalled is not None and not resumed:
                resumed.append(stalled)
                os.kill(stalled, signal.SIGCONT)
            return fresh_ping(sock)

        monkeypatch.setattr(_server_watch, "_answers_on", resumed_then_pinged, raising=False)
        assert stalled is not None
        os.kill(stalled, signal.SIGSTOP)
        with LineageStore.open(target, hang_after_s=1) as store:
            assert _backend(store).server.pid == stalled  # type: ignore[union-attr]
            assert [a.id for a in store.get_artifacts()] == ids
        assert resumed == [stalled]
    finally:
        if stalled is not None and f._serves(stalled, target) is True:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stalled, signal.SIGCONT)
        first.close()


def test_a_store_that_reattached_after_its_server_died_leaves_no_socket_folder(
    tmp_path: Path, own_tmpdir: Path
) -> None:
    """A store's server is killed; another opener starts a new one, and the store's next call
    attaches to that one. The store went on removing the socket folder of the server it had
    started (dead) at its close, and the folder of the server it was attached to, which it
    stopped as the last client, stayed in the temporary directory for good."""
    target = tmp_path / "s"
    first = LineageStore.open(target)
    try:
        _put(first, 2)
        killed = _backend(first).server.pid  # type: ignore[union-attr]
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        with LineageStore.open(target) as second:
            second_pid = _backend(second).server.pid  # type: ignore[union-attr]
            assert second_pid != killed
            try:  # the first store's connection was to the killed server: in doubt, retryable
                first.put_artifacts([Artifact(type="Data", uri="/after")])
            except EngineUnavailableError as exc:
                assert exc.retryable
                first.put_artifacts([Artifact(type="Data", uri="/after")])
            assert _backend(first).server.pid == second_pid  # type: ignore[union-attr]
    finally:
        first.close()  # the last client: stops the server
    assert sorted(own_tmpdir.glob("lg-*")) == []


@pytest.mark.parametrize("pid_reused", [False, True])
def test_the_socket_folder_of_a_recorded_server_found_dead_is_removed(
    tmp_path: Path, own_tmpdir: Path, pid_reused: bool
) -> None:
    """The server was SIGKILLed with no client left (its process killed too): its record names
    it, its socket folder holds its dead socket. The next opener starts a new server and left
    that folder in the temporary directory for good (no process that could remove it was
    left). ``pid_reused``: its pid now belongs to another process (here this one)."""
    import json

    target = tmp_path / "s"
    store = LineageStore.open(target)
    ids = _put(store, 2)
    state = json.loads((target / "server.json").read_text())
    _release(state["pid"])  # SIGKILLed
    _backend(store).server.wait_exit(30)  # type: ignore[union-attr]  # gone, as long before
    # the next opener in the story (a SIGKILL is delivered later: until the process is torn
    # down its socket still accepts, and a folder something listens in is rightly kept)
    _backend(store)._closed = True  # its client vanished too
    store.backend._db.connection.close()  # type: ignore[attr-defined]
    if pid_reused:
        state["pid"] = os.getpid()
        (target / "server.json").write_text(json.dumps(state))
    with LineageStore.open(target) as reopened:
        assert [a.id for a in reopened.get_artifacts()] == ids
    assert sorted(own_tmpdir.glob("lg-*")) == []


def test_the_socket_folder_of_a_server_that_shut_down_as_it_was_found_is_removed(
    tmp_path: Path, own_tmpdir: Path
) -> None:
    """The last client sent SHUTDOWN and vanished; a store opened meanwhile found the server
    going and started a new one. The server removed its socket, not its folder, and nothing
    else did: it stayed in the temporary directory for good."""
    import socket

    target = tmp_path / "s"
    first = LineageStore.open(target)
    _put(first, 2)
    first.backend.write("UNWIND range(1, 300000) AS i CREATE (:Scratch)")  # a slower save
    server = _backend(first).server
    assert server is not None and server.socket_path is not None
    _backend(first)._closed = True  # this client vanished (its process killed)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
            raw.connect(str(server.socket_path))
            raw.sendall(b"SHUTDOWN SAVE\r\n")
            with LineageStore.open(target) as store:
                assert len(store.get_artifacts()) == 2
        server.wait_exit(30)
    finally:
        _release(server.pid if server.data_dir and _alive_here(server.pid, target) else None)
        with contextlib.suppress(Exception):
            first.backend._db.connection.close()  # type: ignore[attr-defined]
    assert sorted(own_tmpdir.glob("lg-*")) == []


def _alive_here(pid: int | None, target: Path) -> bool:
    from lineage_graph.backends import _falkordb_server as f

    return pid is not None and f._serves(pid, target) is True


def test_a_socket_folder_is_removed_only_of_our_own_shape(tmp_path: Path) -> None:
    """A record restored from elsewhere may name any file as its server's socket: only a
    socket named as ours, in an ``lg-*`` folder, is removed (a regular file was unlinked, and
    its folder with it)."""
    import socket as socket_module

    from lineage_graph.backends._falkordb_server import SOCKET_NAME, _remove_socket_dir

    notes = tmp_path / "lg-a" / "notes.txt"
    named_file = tmp_path / "lg-b" / SOCKET_NAME
    for path in (notes, named_file):
        path.parent.mkdir()
        path.write_text("kept")
        _remove_socket_dir(path)
        assert path.read_text() == "kept"
    ours = tmp_path / "lg-c" / SOCKET_NAME
    ours.parent.mkdir()
    with socket_module.socket(socket_module.AF_UNIX) as listener:
        listener.bind(str(ours))
    _remove_socket_dir(ours)
    assert not ours.parent.exists()


_HOLDER = """
import sys, time
from lineage_graph import LineageStore
store = LineageStore.open(sys.argv[1])
print(store.backend.server.pid, flush=True)
time.sleep(120)
"""


def test_closing_a_store_whose_hung_server_another_process_started_removes_its_folder(
    tmp_path: Path, own_tmpdir: Path
) -> None:
    """A store attached to a server another process started closes as its last client and finds
    it hung (SIGSTOP): it SIGKILLed it without waiting (only its own server was waited for), so
    the server was still there when the close went to remove its socket folder, which stayed in
    the temporary directory for good. The kill waits for it (the one stop sequence)."""
    import subprocess
    import sys

    target = tmp_path / "s"
    LineageStore.open(target).close()  # made here: the holder only opens it
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(target)], stdout=subprocess.PIPE, text=True
    )
    pid: int | None = None
    try:
        assert holder.stdout is not None
        pid = int(holder.stdout.readline())
        store = LineageStore.open(target, hang_after_s=1)
        assert _backend(store).server.pid == pid  # type: ignore[union-attr]
        assert _backend(store).server._own_proc() is None  # type: ignore[union-attr]
        holder.kill()  # its client goes with it: the store is the last
        holder.wait(timeout=30)
        os.kill(pid, signal.SIGSTOP)
        store.close()
        assert sorted(own_tmpdir.glob("lg-*")) == []
    finally:
        holder.kill()
        holder.wait(timeout=30)
        _release(pid)
