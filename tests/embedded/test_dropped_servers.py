"""The servers of directory stores dropped without close() (MLMD code never closes its
MetadataStore) are stopped by a background thread, the reaper, once they have been dropped for
``dropped_server_idle_s``: a long-lived worker opening a directory per job kept one server
(~24 MB) per job until it exited. On real servers; every wait bounded."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lineage_graph import Artifact, ArtifactType, LineageStore
from lineage_graph.backends import _embedded_close
from lineage_graph.backends import _embedded_registry as registry
from lineage_graph.backends.embedded import EmbeddedBackend
from lineage_graph.config import EmbeddedSettings
from tests._servers import servers_under
from tests._signals import SIGINT_AS_IN_A_TERMINAL

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie (exited, not yet reaped) counts as gone
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


def _until(done: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``done`` until it holds or ``timeout`` s have passed; whether it held."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _settled(path: Path, timeout: float = 60.0) -> None:
    """Wait until the reaper has taken ``path``'s entry and ended the stop it began (the entry
    gone, or noted again once its stop left the server to another client)."""

    def tried() -> bool:
        entry = registry._DROPPED.get(path)
        return entry is None or entry.tried

    assert _until(tried, timeout), "the reaper never came"
    with registry._REAPING:  # (held through a stop)
        pass


def _open(path: Path, idle: float, **settings: object) -> EmbeddedBackend:
    return EmbeddedBackend(
        "directory",
        path=path,
        settings=EmbeddedSettings(dropped_server_idle_s=idle, **settings),  # type: ignore[arg-type]
    )


def _put(backend: EmbeddedBackend, uri: str) -> None:
    store = LineageStore(backend)
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_artifacts([Artifact(type="DataSet", uri=uri)])


def _uris(path: Path) -> list[str]:
    with LineageStore.open(path) as store:
        return sorted(a.uri for a in store.get_artifacts())


def _run_child(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture
def servers_stopped(tmp_path: Path) -> Iterator[None]:
    """Whatever a test leaves running under its directories is killed (by pid)."""
    yield
    for pid in servers_under(tmp_path):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)


def test_the_servers_of_dropped_directories_are_stopped_once_idle(
    tmp_path: Path, servers_stopped: None
) -> None:
    """Three directories opened and dropped one after another (a worker's jobs): each server,
    and its /tmp/lg-* socket folder, goes once it has been dropped for the idle time, data kept;
    they ran on until the process exited."""
    servers = []
    for job in range(3):
        backend = _open(tmp_path / f"job{job}", idle=0.3)
        _put(backend, f"/job{job}")
        assert backend.server is not None and backend.server.socket_path is not None
        servers.append((backend.server.pid, backend.server.socket_path.parent))
        del backend
        gc.collect()
    for pid, folder in servers:
        assert pid is not None
        assert _until(lambda pid=pid: not _alive(pid)), "a dropped store's server ran on"
        assert _until(lambda folder=folder: not folder.exists()), "its socket folder stayed"
    for job in range(3):
        assert _uris(tmp_path / f"job{job}") == [f"/job{job}"]
    reaper = registry._REAPER
    assert reaper is not None and reaper.daemon and reaper.name == "lineage-graph-reaper"
    assert os.getpid() == registry._REAPER_PID


def test_a_reopen_within_the_idle_time_reuses_the_server(
    tmp_path: Path, servers_stopped: None
) -> None:
    """MLMD code re-creating its store per call reuses the running server (no restart); the
    reopen takes the directory off the dropped list, and a later drop notes it anew."""
    path = tmp_path / "store"
    backend = _open(path, idle=30)
    assert backend.server is not None
    pid = backend.server.pid
    del backend
    gc.collect()
    assert path in registry._DROPPED
    noted = registry._DROPPED[path].at
    again = _open(path, idle=30)
    assert again.server is not None and again.server.pid == pid
    assert path not in registry._DROPPED  # in use: not even considered
    del again
    gc.collect()
    assert registry._DROPPED[path].at > noted
    last = _open(path, idle=0)  # dropped at once: stopped
    del last
    gc.collect()
    assert pid is not None and _until(lambda: not _alive(pid))


def test_a_server_another_store_of_this_process_uses_is_not_stopped(
    tmp_path: Path, servers_stopped: None
) -> None:
    path = tmp_path / "shared"
    kept = _open(path, idle=0)
    _put(kept, "/kept")
    dropped = _open(path, idle=0)
    assert dropped.server is not None and kept.server is not None
    pid = dropped.server.pid
    del dropped
    gc.collect()
    _settled(path)
    assert pid is not None and _alive(pid), "the reaper stopped a server a store still used"
    assert path not in registry._DROPPED  # an open store of this process keeps it: not retried
    assert [a.uri for a in LineageStore(kept).get_artifacts()] == ["/kept"]
    kept.close()
    assert not _alive(pid)


@contextlib.contextmanager
def _store_of_another_process(path: Path) -> Iterator[Callable[[], int]]:
    """A store another process holds open on ``path``, until the function given is called:
    that process then counts the store's artifacts, closes it, exits; the count is returned."""
    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from lineage_graph import LineageStore\n"
            "s = LineageStore.open(sys.argv[1])\n"
            "print('open', flush=True)\n"
            "sys.stdin.readline()\n"
            "print(len(s.get_artifacts()), flush=True)\n"
            "s.close()\n",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    stdin, stdout = other.stdin, other.stdout
    assert stdin is not None and stdout is not None

    def close() -> int:
        stdin.write("go\n")
        stdin.flush()
        count = int(stdout.readline())
        assert other.wait(timeout=60) == 0
        return count

    try:
        assert stdout.readline().strip() == "open"
        yield close
    finally:
        if other.poll() is None:
            other.kill()
            other.wait(timeout=10)


def test_a_server_a_store_of_another_process_uses_is_not_stopped(
    tmp_path: Path, servers_stopped: None
) -> None:
    path = tmp_path / "shared"
    with _store_of_another_process(path) as close_other:
        dropped = _open(path, idle=0)
        _put(dropped, "/mine")
        assert dropped.server is not None
        pid = dropped.server.pid
        del dropped
        gc.collect()
        _settled(path)
        assert pid is not None and _alive(pid), "the reaper stopped another process's server"
        entry = registry._DROPPED.get(path)
        assert entry is not None and entry.tried  # tried again later (RETRY_S), and at exit
        assert close_other() == 1
        assert _until(lambda: not _alive(pid))  # the other process closed last


def test_a_server_left_to_another_client_is_tried_again_on_its_own(
    tmp_path: Path, servers_stopped: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reaper's stop left the server to another process's store: its entry, noted again, is
    tried again after RETRY_S with nothing else waking the reaper (its retry was not timed, and
    came only with the next drop), and once that store has closed, it is gone."""
    monkeypatch.setattr(registry, "RETRY_S", 0.5)
    path = tmp_path / "shared"
    with _store_of_another_process(path) as close_other:
        dropped = _open(path, idle=0)
        del dropped
        gc.collect()
        _settled(path)
        first = registry._DROPPED[path].at

        def tried_again() -> bool:
            entry = registry._DROPPED.get(path)
            return entry is not None and entry.at != first

        assert _until(tried_again, 10), "never tried again"
        assert close_other() == 0
        assert _until(lambda: path not in registry._DROPPED, 10), "still listed"


def test_the_reaper_s_stop_during_the_exit_leaves_a_server_an_open_store_uses(
    tmp_path: Path, servers_stopped: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop the reaper had begun when the exit came is no part of the exit: it does not count
    this process's connections as gone (the exit's own closes do). It shut down the server of a
    store of this process reopened on the directory meanwhile, under a write (a daemon thread's:
    "the server died during query", restarted)."""
    path = tmp_path / "store"
    kept = _open(path, idle=3600)
    _put(kept, "/kept")
    assert kept.server is not None
    pid = kept.server.pid
    monkeypatch.setattr(_embedded_close, "_EXITING", True)
    done: list[bool] = []

    def reaper_s_stop() -> None:
        _embedded_close._REAPER_HERE.active = True  # as the reaper thread is
        _open(path, idle=3600).close()
        done.append(True)

    thread = threading.Thread(target=reaper_s_stop)
    thread.start()
    thread.join(timeout=60)
    assert done
    assert pid is not None and _alive(pid), "the server of an open store was shut down"
    assert [a.uri for a in LineageStore(kept).get_artifacts()] == ["/kept"]
    assert kept.server.pid == pid  # not restarted
    monkeypatch.setattr(_embedded_close, "_EXITING", False)
    kept.close()


def test_reopening_in_a_loop_while_the_reaper_stops_the_server(
    tmp_path: Path, servers_stopped: None
) -> None:
    """Race (a): idle 0, the caller reopens the same directory at once, again and again, while
    the reaper stops what the last drop left: no open nor query fails, no write is lost."""
    path = tmp_path / "loop"
    for job in range(25):
        backend = _open(path, idle=0)
        _put(backend, f"/job{job:02}")
        assert len(LineageStore(backend).get_artifacts()) == job + 1
        del backend
        gc.collect()
    assert _uris(path) == [f"/job{job:02}" for job in range(25)]
    _settled(path)
    assert not servers_under(path)


def test_drops_noted_while_the_reaper_works_are_all_stopped(
    tmp_path: Path, servers_stopped: None
) -> None:
    """Race (b): the collector notes drops while the reaper goes through the dropped list (and
    stops servers): every one is stopped in the end, and the reaper lives on."""
    pids = []
    for job in range(6):
        backend = _open(tmp_path / f"d{job}", idle=0)
        assert backend.server is not None
        pids.append(backend.server.pid)
        del backend
        gc.collect()
    for pid in pids:
        assert pid is not None and _until(lambda pid=pid: not _alive(pid))
    assert registry._REAPER is not None and registry._REAPER.is_alive()


def test_an_entry_noted_anew_is_not_taken_for_the_one_the_reaper_read(tmp_path: Path) -> None:
    """Race (b): the reaper read an entry, the collector replaced it since (reopened and
    dropped again): the newer one is left for its own idle time."""
    settings = EmbeddedSettings(dropped_server_idle_s=3600)
    from lineage_graph.backends._falkordb_server import ServerProcess

    server = ServerProcess(tmp_path / "x", settings)
    path = tmp_path / "x"
    old = registry._Dropped(settings, server, 1.0)
    new = registry._Dropped(settings, server, 2.0)
    registry._DROPPED[path] = new
    try:
        assert not registry._claim(path, old)
        assert registry._DROPPED[path] is new
        assert registry._claim(path, new)
        assert path not in registry._DROPPED
    finally:
        registry._DROPPED.pop(path, None)


def test_a_hung_dropped_server_delays_no_other_open(tmp_path: Path, servers_stopped: None) -> None:
    """A dropped server that hangs (SIGSTOP) while the reaper stops it holds only the reaper:
    an unrelated open in the caller's thread completes at once (one in the open's own thread
    waited 67.8 s)."""
    path = tmp_path / "hung"
    backend = _open(path, idle=0.5, hang_after_s=20)
    assert backend.server is not None and backend.server.pid is not None
    pid = backend.server.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        del backend
        gc.collect()
        assert _until(lambda: path not in registry._DROPPED), "the reaper never came"
        opened: list[float] = []

        def open_other() -> None:
            started = time.monotonic()
            other = _open(tmp_path / "other", idle=3600)
            opened.append(time.monotonic() - started)
            other.close()

        thread = threading.Thread(target=open_other)
        thread.start()
        thread.join(timeout=10)
        assert opened, "an unrelated open waited for the reaper's stop of a hung server"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    _settled(path, timeout=120)
    assert _until(lambda: not servers_under(path))


#: A child's script: opens the directory argv[1] (writing '/kept'), prints its server's pid and
#: socket folder, drops the store; what it does next is appended.
_DROP_ONE = (
    "import gc, os, signal, sys, time\n"
    "from lineage_graph import Artifact, ArtifactType, LineageStore\n"
    "from lineage_graph.backends import _embedded_registry as registry\n"
    "s = LineageStore.open(sys.argv[1])\n"
    "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
    "s.put_artifacts([Artifact(type='DataSet', uri='/kept')])\n"
    "print(s.backend.server.pid, s.backend.server.socket_path.parent, flush=True)\n"
    "path, server_pid = s.backend.server.data_dir, s.backend.server.pid\n"
    "del s\n"
    "gc.collect()\n"
)


#: Appended to a child's script: wait until the reaper has taken the dropped entry (its stop
#: under way), then exit.
_TAKEN = (
    "deadline = time.monotonic() + 30\n"
    "while path in registry._DROPPED and time.monotonic() < deadline:\n"
    "    time.sleep(0.001)\n"
    "assert path not in registry._DROPPED\n"
)


def _child_servers_stop(
    tmp_path: Path, then: str, env: dict[str, str], script: str = _DROP_ONE
) -> None:
    """Run ``script`` (_DROP_ONE) + ``then`` in a child: once it has exited, no server runs on
    its directory, and the data is kept."""
    target = tmp_path / "store"
    pid = int(_run_child(script + then, str(target), env=env).split()[0])
    assert _until(lambda: not _alive(pid)), "the dropped store's server outlived its process"
    assert _until(lambda: not servers_under(target))
    assert _uris(target) == ["/kept"]


def test_exit_while_the_reaper_stops_a_server_waits_for_that_stop(
    tmp_path: Path, servers_stopped: None
) -> None:
    """Race (c): the interpreter exits as soon as the reaper has taken the entry (its stop
    under way): the exit waits for that stop, then handles what is left; nothing runs on."""
    _child_servers_stop(tmp_path, _TAKEN, {"LINEAGE_GRAPH_DROPPED_SERVER_IDLE_S": "0"})


def test_exit_while_the_reaper_stops_a_stopped_server_waits_for_that_stop(
    tmp_path: Path, servers_stopped: None
) -> None:
    """Race (c) with a server SIGSTOPped before the drop: the reaper's stop takes
    hang_after_s; the exit waits for it, and nothing is left running."""
    script = _DROP_ONE.replace("del s\n", "os.kill(server_pid, signal.SIGSTOP)\ndel s\n")
    assert script != _DROP_ONE
    env = {"LINEAGE_GRAPH_DROPPED_SERVER_IDLE_S": "0", "LINEAGE_GRAPH_HANG_AFTER_S": "2"}
    _child_servers_stop(tmp_path, _TAKEN, env, script=script)  # (servers_stopped resumes it)


def test_a_server_a_live_connection_of_a_dropped_store_keeps_is_still_stopped_at_exit(
    tmp_path: Path, servers_stopped: None
) -> None:
    """A dropped store whose client something still holds (its socket open) is another client
    to the reaper's close, which leaves the server running: its entry is noted again, so the
    exit (which counts this process's leftover connections as gone) still stops it. Taken off
    the list for good, it ran on after the process had exited."""
    then = (
        "first = registry._DROPPED[path].at\n"
        "deadline = time.monotonic() + 30\n"
        "while time.monotonic() < deadline:\n"
        "    entry = registry._DROPPED.get(path)\n"
        "    if entry is not None and entry.at != first:\n"
        "        break\n"
        "    time.sleep(0.01)\n"
        "else:\n"
        "    raise AssertionError('the entry was not noted again')\n"
        "os.kill(server_pid, 0)  # kept running by the live connection\n"
        "assert client.ping()\n"
    )
    code = _DROP_ONE.replace("del s\n", "client = s.backend._db.connection\ndel s\n")
    assert code != _DROP_ONE
    _child_servers_stop(tmp_path, then, {"LINEAGE_GRAPH_DROPPED_SERVER_IDLE_S": "0.3"}, script=code)


def test_a_ctrl_c_while_the_exit_waits_for_the_reaper_leaves_no_open_store_s_server(
    tmp_path: Path, servers_stopped: None
) -> None:
    """The exit closes the open stores before it waits for the reaper's stop in progress (here
    of a hung server, hang_after_s long): a Ctrl-C during that wait left every open store's
    server running after the process had exited."""
    code = (
        "import gc, os, signal, sys, time\n"
        "from pathlib import Path\n"
        "from lineage_graph import LineageStore\n"
        "from lineage_graph.backends import _embedded_registry as registry\n"
        "hung = Path(sys.argv[1]) / 'hung'\n"
        "s = LineageStore.open(hung, dropped_server_idle_s=0, hang_after_s=10)\n"
        "os.kill(s.backend.server.pid, signal.SIGSTOP)\n"
        "print(s.backend.server.pid, flush=True)\n"
        "del s\n"
        "gc.collect()\n"
        "deadline = time.monotonic() + 30\n"
        "while hung in registry._DROPPED and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "assert hung not in registry._DROPPED  # the reaper's stop of the hung server began\n"
        "kept = LineageStore.open(Path(sys.argv[1]) / 'open')\n"
        "print(kept.backend.server.pid, flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
    )
    hung_pid = 0
    try:
        assert child.stdout is not None
        hung_pid = int(child.stdout.readline())
        open_pid = int(child.stdout.readline())
        time.sleep(1.0)  # the exit is under way: the open store closed, the reaper waited for
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=120)
        assert _until(lambda: not _alive(open_pid)), "an open store's server outlived its process"
        # The hung server the interrupted exit left (as before the reaper, a Ctrl-C there leaves
        # the dropped ones): resumed, then stopped by a close, which removes its socket folder
        # (killed by servers_stopped, it left the folder behind).
        os.kill(hung_pid, signal.SIGCONT)
        LineageStore.open(tmp_path / "hung").close()
        assert not servers_under(tmp_path / "hung")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.kill(hung_pid, signal.SIGCONT)


def test_exit_still_stops_what_the_reaper_left(tmp_path: Path, servers_stopped: None) -> None:
    """A large idle time (3600 s) keeps the behaviour of a short process: the reaper leaves the
    server running, the exit stops it."""
    then = (
        "time.sleep(0.5)\n"
        "assert path in registry._DROPPED and registry._REAPER.is_alive()\n"
        "os.kill(server_pid, 0)  # still running: left to the exit\n"
    )
    _child_servers_stop(tmp_path, then, {"LINEAGE_GRAPH_DROPPED_SERVER_IDLE_S": "3600"})


@pytest.mark.parametrize("idle", ["0", "3600"])
def test_a_multiprocessing_worker_s_exit_while_the_reaper_works(
    tmp_path: Path, idle: str, servers_stopped: None
) -> None:
    """Race (d): a forked Pool worker drops a directory store; its exit (multiprocessing's
    finalizers, no atexit) waits for the reaper's stop in progress (idle 0) or stops the server
    itself (idle 3600)."""
    code = (
        "import gc, multiprocessing, sys, time\n"
        "from lineage_graph import Artifact, ArtifactType, LineageStore\n"
        "from lineage_graph.backends import _embedded_registry as registry\n"
        "def job(path):\n"
        "    s = LineageStore.open(path)\n"
        "    s.put_artifact_type(ArtifactType(name='DataSet'))\n"
        "    s.put_artifacts([Artifact(type='DataSet', uri='/kept')])\n"
        "    pid = s.backend.server.pid\n"
        "    del s\n"
        "    gc.collect()\n"
        "    return pid\n"
        "if __name__ == '__main__':\n"
        "    with multiprocessing.get_context('fork').Pool(1) as pool:\n"
        "        print(pool.apply(job, (sys.argv[1],)), flush=True)\n"
        "        pool.close()\n"
        "        pool.join()\n"
    )
    _child_servers_stop(tmp_path, "", {"LINEAGE_GRAPH_DROPPED_SERVER_IDLE_S": idle}, script=code)


def test_a_forked_child_s_reaper_leaves_the_parent_s_dropped_servers(
    tmp_path: Path, servers_stopped: None
) -> None:
    """A forked child inherits the parent's dropped entries (its exit stops those servers, as
    before), but its reaper, started by its own first open, handles only the drops noted in the
    child."""
    code = (
        "import gc, os, sys, time\n"
        "from pathlib import Path\n"
        "from lineage_graph import LineageStore\n"
        "from lineage_graph.backends import _embedded_registry as registry\n"
        "parent = Path(sys.argv[1]) / 'parent'\n"
        "s = LineageStore.open(parent, dropped_server_idle_s=0.2)\n"
        "pid = s.backend.server.pid\n"
        "del s\n"
        "gc.collect()\n"
        "registry._QUIT = True  # (the parent's reaper stands still: the child is looked at)\n"
        "registry._WAKE.put(None)\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    ok = registry._DROPPED[parent].inherited and registry._REAPER is None\n"
        "    mine = LineageStore.open(Path(sys.argv[1]) / 'child', dropped_server_idle_s=0.2)\n"
        "    del mine\n"
        "    gc.collect()\n"
        "    deadline = time.monotonic() + 30\n"
        "    while Path(sys.argv[1]) / 'child' in registry._DROPPED:\n"
        "        ok = ok and time.monotonic() < deadline\n"
        "        time.sleep(0.01)\n"
        "    time.sleep(0.5)\n"
        "    ok = ok and parent in registry._DROPPED and registry._REAPER.is_alive()\n"
        "    os._exit(0 if ok else 1)\n"
        "_, status = os.waitpid(child, 0)\n"
        "print(pid, os.waitstatus_to_exitcode(status), flush=True)\n"
        "registry._QUIT = False\n"
    )
    pid, status = _run_child(code, str(tmp_path)).split()
    assert status == "0", "the child's reaper took its parent's entry, or none ran"
    assert _until(lambda: not _alive(int(pid)))
    assert _until(lambda: not servers_under(tmp_path))
