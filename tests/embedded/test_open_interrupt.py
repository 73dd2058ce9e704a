"""A Ctrl-C while a store opens, after its server has started and before the store has
connected to it, stops that server and removes its socket folder before the KeyboardInterrupt
goes on: a memory store left its ``lg-*`` folder in the temporary directory (its server died
with the process; the sweep removes such folders only after an hour), and a program that
caught the interrupt had the server running on, no one's. A directory store's server ran on
after the process had exited. The store opens again at once.

Real processes, real SIGINTs (to the child's process group, as a terminal sends them): the
child stops in the import of the FalkorDB client (the first thing the open does once its
server answers), waiting for a line on stdin that never comes: the SIGINT ends the wait."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from tests._servers import kill_servers, servers_under
from tests._signals import SIGINT_AS_IN_A_TERMINAL

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys

class Pause:
    def find_spec(self, name, path=None, target=None):
        if name == "falkordb":
            sys.meta_path.remove(self)
            sys.stdout.write("connecting\\n")
            sys.stdout.flush()
            sys.stdin.readline()
        return None

from lineage_graph import LineageStore
import lineage_graph.store

sys.meta_path.insert(0, Pause())
target = sys.argv[1]
try:
    LineageStore.open(target)
except KeyboardInterrupt:
    print("interrupted", flush=True)
else:
    print("opened", flush=True)
sys.stdin.readline()  # the parent looks at what the open left
with LineageStore.open(target) as store:
    print("reopened", len(store.get_artifacts()), flush=True)
"""


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    assert ready, "the child said nothing"
    return proc.stdout.readline().strip()


def _left_nothing_and_reopens(proc: subprocess.Popen[str], tmp_path: Path) -> None:
    """The child ``proc`` says its open was interrupted and lives on, having caught the
    KeyboardInterrupt: no server and no socket folder (in ``tmp_path / "tmp"``, its TMPDIR) of
    the open is left; told to go on (a line on stdin), it opens the store again at once."""
    assert proc.stdin is not None
    assert _line(proc) == "interrupted"
    assert not servers_under(tmp_path)
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == []
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert _line(proc) == "reopened 0"
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]


@pytest.mark.parametrize("where", ["memory", "directory"])
def test_a_ctrl_c_before_the_open_connects_leaves_nothing(tmp_path: Path, where: str) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    target = "memory" if where == "memory" else str(tmp_path / "store")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, target],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
    )
    started: set[int] = set()
    try:
        assert proc.stdin is not None
        assert _line(proc) == "connecting"
        started = servers_under(tmp_path)
        assert started, "no server was started before the store connected"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: raised in the hook's wait
        _left_nothing_and_reopens(proc, tmp_path)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        kill_servers(servers_under(tmp_path) | started)
    assert sorted(p.name for p in tmp.iterdir()) == []


#: The end of a child script tracing ``source``'s lines with ``at_line`` (which sets ``fired``
#: as it raises its SIGINT): it opens ``target``, says whether the open was interrupted there,
#: and once the parent has looked (a line on stdin) opens it again.
_OPEN_TRACED = """
def traced(frame, event, arg):
    return at_line if frame.f_code.co_filename == source else None

sys.settrace(traced)
try:
    LineageStore.open(target)
except KeyboardInterrupt:
    sys.settrace(None)
    print("interrupted" if fired else "not reached", flush=True)
else:
    sys.settrace(None)
    print("opened", flush=True)
sys.stdin.readline()  # the parent looks at what the open left
with LineageStore.open(target) as store:
    print("reopened", len(store.get_artifacts()), flush=True)
"""


#: A child whose open is interrupted by a real SIGINT (raised by a trace hook) as the start
#: reaches the line of ``_server_start.py`` that holds argv[1]: its server spawned, not yet
#: waited for.
CHILD_AT_LINE = (
    """
import linecache, signal, sys
import lineage_graph.backends._server_start as start
from lineage_graph import LineageStore

marker, target = sys.argv[1], sys.argv[2]
source = start.__file__
fired = []

def at_line(frame, event, arg):
    if event == "line" and not fired and marker in linecache.getline(source, frame.f_lineno):
        fired.append(frame.f_lineno)
        signal.raise_signal(signal.SIGINT)
    return at_line

"""
    + _OPEN_TRACED
)


@pytest.mark.parametrize(
    "line",
    [
        "server.pid, server._proc_owner",  # _launch, once the server is spawned
        "server.socket_path = socket_path",
        "self._ready(workdir, log_bytes)",  # between _launch and the wait for the server
    ],
)
@pytest.mark.parametrize("where", ["memory", "directory"])
def test_a_ctrl_c_once_the_server_is_spawned_and_before_it_is_waited_for_leaves_nothing(
    tmp_path: Path, where: str, line: str
) -> None:
    """A Ctrl-C after the spawn returned and before the start waited for the server (its
    bookkeeping, the call of the wait) left it running, and its socket folder: a directory's
    server ran on after the process had exited, no record naming it, so the next opener
    started a second server on the same files. Killed, its folder removed."""
    target = "memory" if where == "memory" else str(tmp_path / "store")
    _interrupted_open_leaves_nothing(tmp_path, CHILD_AT_LINE, line, target)


def _interrupted_open_leaves_nothing(tmp_path: Path, child: str, *args: str) -> None:
    """Run ``child`` (a script whose open a real SIGINT interrupts; ``args`` its arguments,
    TMPDIR its ``tmp_path / "tmp"``): it says "interrupted", and then no server and no socket
    folder of it is left; the store opens again at once."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", child, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
    )
    try:
        _left_nothing_and_reopens(proc, tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
        kill_servers(servers_under(tmp_path))
    assert sorted(p.name for p in tmp.iterdir()) == []


#: A child whose directory store's open is interrupted by a real SIGINT inside Popen, once it
#: has forked the server (``self._child_created = True`` in subprocess.py), and only once that
#: server has bound its socket: it then runs on by itself, whatever happens to its folder.
CHILD_IN_POPEN = (
    """
import glob, linecache, os, signal, subprocess, sys, time
from lineage_graph import LineageStore

target, tmp = sys.argv[1], sys.argv[2]
source = subprocess.__file__
fired = []

def at_line(frame, event, arg):
    if (
        event == "line"
        and not fired
        and "self._child_created = True" in linecache.getline(source, frame.f_lineno)
        and "--unixsocket" in (frame.f_locals.get("args") or ())
    ):
        fired.append(frame.f_lineno)
        deadline = time.monotonic() + 60
        while not glob.glob(os.path.join(tmp, "lg-*", "*.sock")) and time.monotonic() < deadline:
            time.sleep(0.01)
        signal.raise_signal(signal.SIGINT)
    return at_line

"""
    + _OPEN_TRACED
)


def test_a_ctrl_c_in_popen_once_a_directory_server_is_forked_leaves_nothing(
    tmp_path: Path,
) -> None:
    """A directory store's server is spawned by Popen in the opener's thread; a Ctrl-C landing
    in Popen after its fork (CPython leaves the child running then) left that server running
    on the store's files after the opener had gone, no record naming it (the next opener
    started a second server on them). The Ctrl-C is held until Popen has returned the server,
    which is then killed."""
    tmp = tmp_path / "tmp"
    _interrupted_open_leaves_nothing(tmp_path, CHILD_IN_POPEN, str(tmp_path / "store"), str(tmp))


# ------------------------------------------------------------------ the spawner's thread (_Spawner)
#
# A memory store's server is forked by one long-lived thread (_server_spawner._Spawner): the
# opener queues its request and waits for it. Real children (`sleep`, held between their fork
# and their exec by their preexec_fn, so the thread is busy forking them for as long as the test
# wants); the opener's wait is interrupted as Ctrl-C does (KeyboardInterrupt, raised from it).


class _Child:
    """A child of the spawner's thread that says its pid once forked and, ``held``, waits
    (before its exec: the thread's Popen waits with it) until :meth:`release`."""

    def __init__(self, held: bool) -> None:
        self._held = held
        self._said_r, self._said_w = os.pipe()
        self._go_r, self._go_w = os.pipe()
        self.pid: int | None = None

    def preexec(self) -> None:  # in the child, between its fork and its exec
        os.write(self._said_w, str(os.getpid()).encode())
        if self._held:
            os.read(self._go_r, 1)

    def forked(self, timeout: float) -> bool:
        """Whether the child has been forked (waiting up to ``timeout`` s for it)."""
        if self.pid is None:
            ready, _, _ = select.select([self._said_r], [], [], timeout)
            if ready:
                self.pid = int(os.read(self._said_r, 32))
        return self.pid is not None

    def release(self) -> None:
        os.write(self._go_w, b"x")

    def close(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ChildProcessError, ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        for fd in (self._said_r, self._said_w, self._go_r, self._go_w):
            os.close(fd)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (an exited child not yet reaped does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def spawner(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A spawner of its own (its own thread), whose caller's first wait, in this thread, is
    interrupted once ``spawner.before_ctrl_c()`` has run."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads /proc")
    from lineage_graph.backends import _server_spawner

    made = _server_spawner._Spawner()
    caller = threading.get_ident()
    state = {"armed": True}

    class Interrupted(Future):  # type: ignore[type-arg]
        def result(self, timeout: float | None = None) -> Any:
            if timeout is None and state["armed"] and threading.get_ident() == caller:
                state["armed"] = False
                made.before_ctrl_c()  # type: ignore[attr-defined]
                raise KeyboardInterrupt
            return super().result(timeout)

    monkeypatch.setattr(_server_spawner, "Future", Interrupted)
    made.before_ctrl_c = lambda: None  # type: ignore[attr-defined]
    yield made


def _spawn_after(spawner: Any) -> None:
    """Have ``spawner``'s thread spawn one more child: every request before it is handled."""
    spawner.popen(["true"]).wait(timeout=60)


def test_a_ctrl_c_while_the_spawn_waits_its_turn_spawns_nothing(
    spawner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread busy forking another opener's server, an interrupted opener's request stayed
    queued past the wait for it (SIGKILL_WAIT_S): the thread spawned its server later all the
    same, no one's, running until the process exited. It is cancelled: never spawned."""
    from lineage_graph.backends import _server_spawner

    monkeypatch.setattr(_server_spawner, "SIGKILL_WAIT_S", 0.2)  # (waited 10 s for nothing)
    busy, queued = _Child(held=True), _Child(held=False)
    first: list[subprocess.Popen[bytes]] = []
    other = threading.Thread(
        target=lambda: first.append(spawner.popen(["sleep", "60"], preexec_fn=busy.preexec))
    )
    try:
        other.start()
        assert busy.forked(60), "the first server was not forked"
        with pytest.raises(KeyboardInterrupt):
            spawner.popen(["sleep", "60"], preexec_fn=queued.preexec)
        busy.release()
        other.join(60)
        assert first, "the first server did not start"
        _spawn_after(spawner)
        assert not queued.forked(0), "the interrupted opener's server was spawned"
    finally:
        with contextlib.suppress(OSError):
            busy.release()
        busy.close()
        queued.close()
        other.join(60)
        for proc in first:
            proc.kill()
            proc.wait(timeout=60)


@pytest.mark.parametrize("comes", ["within the wait", "after the wait"])
def test_a_ctrl_c_while_the_thread_forks_the_server_kills_it_and_closes_its_pipes(
    spawner: Any, monkeypatch: pytest.MonkeyPatch, comes: str
) -> None:
    """Interrupted while the thread forked its server, the opener waited SIGKILL_WAIT_S for
    it and killed it, but left its stderr pipe open until the garbage collector closed it (a
    descriptor held meanwhile, a ResourceWarning); a server that came later than that ran on,
    no one's. Both are killed and reaped, their pipes closed."""
    from lineage_graph.backends import _server_spawner

    child = _Child(held=True)

    def forked_then_ctrl_c() -> None:
        assert child.forked(60), "the server was not forked"
        if comes == "within the wait":
            child.release()

    if comes == "after the wait":
        monkeypatch.setattr(_server_spawner, "SIGKILL_WAIT_S", 0.2)
    spawner.before_ctrl_c = forked_then_ctrl_c
    fds = set(os.listdir("/proc/self/fd"))
    try:
        with pytest.raises(KeyboardInterrupt) as interrupted:
            spawner.popen(
                ["sleep", "60"],
                preexec_fn=child.preexec,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        assert child.pid is not None
        if comes == "after the wait":
            child.release()
            _spawn_after(spawner)  # the thread has spawned it (and killed it)
        assert not _running(child.pid), "the interrupted opener's server runs on"
        # while the interrupt (whose frames hold the process) lives: no pipe of it left open
        assert set(os.listdir("/proc/self/fd")) == fds
        del interrupted
    finally:
        with contextlib.suppress(OSError):
            child.release()
        child.close()
