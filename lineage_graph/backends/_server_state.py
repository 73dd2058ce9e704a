"""The data directory's lock, its record of the running server (``server.json``), the lock
its server holds while it runs (``server.held``), and which directories hold a store."""

from __future__ import annotations

import fcntl
import json
import os
import time
import warnings
from pathlib import Path

from ..exceptions import (
    EngineUnavailableError,
    FailedPreconditionError,
)
from ._server_aof import (
    _AOF_DIR,
    _MARKER_FILE,
)
from ._server_procs import (
    _listening,
    _other_namespace,
    _pid_alive,
    _serves,
)

_STATE_FILE = "server.json"


#: Locked (``flock``) by a directory's server for as long as it runs: the lock is on a
#: descriptor it inherits from its starter, and ends with its process (and its children's),
#: however it ends. An opener in another pid and mount namespace, which sees neither its pid
#: nor its socket, tells by it whether the recorded server still runs.
_HELD_FILE = "server.held"


_LOCK_FILE = "lineage-graph.lock"


#: Seconds an opener waits for the data directory's lock before it says why it waits.
LOCK_NOTICE_S = 10.0


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
