"""The embedded server's unix socket and the 0700 folder it is made in: made, found, swept
and removed."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

from ..exceptions import (
    ConfigurationError,
)
from ._server_aof import (
    _LOG_FILE,
)
from ._server_procs import (
    _listening,
)

#: The name of a managed server's socket, in a folder of its own (:func:`_socket_dir`).
SOCKET_NAME = "falkordb.sock"


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
