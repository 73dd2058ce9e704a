"""The data directory's lock, its record of the running server (``server.json``), the lock
its server holds while it runs (``server.held``), and which directories hold a store."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._files import on_read_only_mount
from ..config import EmbeddedSettings
from ..exceptions import (
    ConfigurationError,
    EngineUnavailableError,
    FailedPreconditionError,
)
from ._server_aof import (
    _AOF_DIR,
    _MARKER_FILE,
)
from ._server_limits import (
    _out_of_descriptors,
)
from ._server_procs import (
    _exe_name,
    _listening,
    _other_namespace,
    _pid_alive,
    _pid_namespace,
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
    try:
        if not path.is_dir() or all(e.name in PLACEHOLDERS for e in path.iterdir()):
            return None
        has_snapshot = (path / "dump.rdb").is_file()
    except OSError:
        return None
    # Asked after the listing, not before: another process making a store in this new
    # directory at this moment creates its lock file before any other file, so whatever of its
    # files the listing saw, the lock file is there now. Asked first, a store made between the
    # two looks was "not empty and holds no store" (a pool's workers opening one new store).
    if holds_store(path):
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


class _StoreDirectory:
    """A store's data directory, as the owner of its server sees it: made and checked
    (:meth:`_prepare_data_dir`), followed when it is moved (:meth:`in_place`), locked
    (:meth:`locked`, :meth:`gone_locked`), and its record of the running server
    (``server.json``). ``pid`` and ``other_ns``: the server's, as :class:`ServerProcess` holds
    them."""

    def __init__(self, path: Path, settings: EmbeddedSettings, server_exe: str) -> None:
        self.path = path
        self._settings = settings
        #: The name of the server's executable (a pid whose executable is another's is not it).
        self._server_exe = server_exe
        self._prepare_data_dir(path)
        st = path.stat()
        #: The data directory's identity (device, inode) when the store opened: a directory
        #: moved while the store is open is followed (:meth:`in_place`).
        self._dir_id = (st.st_dev, st.st_ino)

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

    def in_place(self, pid: int | None, other_ns: bool) -> None:
        """Follow the data directory if it was moved (renamed) while the store is open: its
        server runs on in it (its working directory), and the store is the same. Every path
        the store used went on naming the old place: the lock file's open raised a bare
        FileNotFoundError from every later call, close() included, which left the server
        running for good; a store (or any directory) made at the old place since had its
        files taken for this store's (the server restarted on it: the store silently went on
        in another, empty one). Found through the server's working directory; with the server
        gone too, or in a directory no name reaches from here, :class:`_DirectoryGone`."""
        try:
            st = self.path.stat()
            if (st.st_dev, st.st_ino) == self._dir_id:
                return
        except OSError:
            pass
        found = self.server_directory(pid, other_ns)
        if found is not None and found[1] == "named":
            self.path = Path(found[0])
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
            f"the store's data directory {self.path} was moved, removed or replaced while "
            f"the store was open, and {why}: the store cannot go on here. Open it again where "
            "its directory is now"
        )

    def follow(self, pid: int | None, other_ns: bool) -> str | None:
        """Follow the data directory if it moved (:meth:`in_place`, read by ``describe()``,
        which said the old place until a close: the store's calls need no path); why it
        cannot be followed (removed, or out of reach), else None."""
        try:
            self.in_place(pid, other_ns)
        except _DirectoryGone as gone:
            return str(gone)
        return None

    def server_directory(self, pid: int | None, other_ns: bool) -> tuple[str, str] | None:
        """Where this server (of ours: its pid's executable is the server's) runs, when it runs
        in the directory the store opened (by device and inode): the name the kernel gives its
        working directory and ``"named"`` (that name reaches it from here), ``"removed"`` (a
        deleted directory) or ``"unreachable"``. The kernel names a directory by its mount:
        one on a mount detached by ``umount -l`` is named from that mount's root (``/store``),
        which was followed as the store's directory (the lock file's open raised a bare
        FileNotFoundError, or whatever directory has that name was taken for the store's).
        None: no such server here (gone, another pid namespace's, a pid reused)."""
        if pid is None or other_ns:
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
        if exe is not None and exe != self._server_exe:
            return None  # another process took the pid, its working directory in the store's
        if where.endswith(" (deleted)"):
            return where, "removed"
        try:
            named = os.stat(where)
        except OSError:
            return where, "unreachable"
        return where, "named" if (named.st_dev, named.st_ino) == self._dir_id else "unreachable"

    @contextlib.contextmanager
    def locked(self, pid: int | None, other_ns: bool) -> Iterator[None]:
        """Serialise find-or-start and the last-client shutdown across processes."""
        self.in_place(pid, other_ns)
        try:
            fd = os.open(self.path / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            if (error := _out_of_descriptors(exc)) is None:
                raise
            raise error from exc
        try:
            _lock(fd, self.path, self._settings.lock_timeout_s)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def gone_locked(self, pid: int | None, other_ns: bool) -> Iterator[None]:
        """:meth:`locked` for a data directory removed (or out of every path's reach) with its
        server running on in it, where its lock file cannot be reached: the directory itself
        is locked (``flock``), reached through the server's working directory. Without a lock,
        two stores of two processes closing at one moment each saw the other's connection
        (not the last) and both left the server running for good. Unlocked when there is no
        such server (nothing to stop) or the lock is held past ``lock_timeout_s``."""
        fd: int | None = None
        if pid is not None and not other_ns:
            with contextlib.suppress(OSError):
                fd = os.open(f"/proc/{pid}/cwd", os.O_RDONLY | os.O_DIRECTORY)
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) != self._dir_id:  # another process took the pid
                    os.close(fd)
                    fd = None
        locked = False
        try:
            give_up = time.monotonic() + self._settings.lock_timeout_s
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

    def read_state(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / _STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_state(self, pid: int | None, socket_path: Path | None, log_start: int) -> None:
        tmp = self.path / (_STATE_FILE + ".tmp")
        try:
            # log_start: where this start's lines of the server log begin, for a process that
            # attaches before the start has checked what the server loaded (_finish_start)
            record = {
                "pid": pid,
                "socket": str(socket_path),
                "log_start": log_start,
                "pidns": _pid_namespace(),
            }
            tmp.write_text(json.dumps(record))
            os.replace(tmp, self.path / _STATE_FILE)
        except OSError as exc:  # a full disk: retrying once there is room is the remedy
            raise EngineUnavailableError(
                f"cannot record the embedded server in the data directory {self.path}: "
                f"{(exc.strerror or str(exc)).lower()}"
            ) from None

    def clear_state(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.path / _STATE_FILE).unlink()
