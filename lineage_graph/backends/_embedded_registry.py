"""The embedded engine's process-wide registries: the stores open (closed when the interpreter
exits, or a multiprocessing worker does), the directory stores dropped unclosed, and what a
forked child inherited (renamed, and stopped at its exit when no one else uses it)."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import sys
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import EmbeddedSettings
from . import _embedded_close
from ._embedded_close import _dropped_where, _stop_if_unused
from ._falkordb_server import ServerProcess, running_server

if TYPE_CHECKING:
    from .embedded import EmbeddedBackend

#: Stores on a server this library started, still open: closed when the interpreter exits, so a
#: script that never calls close() does not leave a directory's server running (a killed
#: process still does: the server outlives a crashed client, by design).
_OPEN: weakref.WeakSet[EmbeddedBackend] = weakref.WeakSet()


#: Data directories (with their settings, and the server the store knew, to follow the
#: directory if it moved) whose store this process garbage-collected unclosed: at exit their
#: server is stopped as close() would stop it (if no other client uses it).
_DROPPED: dict[Path, tuple[EmbeddedSettings, ServerProcess]] = {}


#: In a forked child: the sockets of the memory stores it inherited open (the parent's servers),
#: stopped at its exit if no store of another process is connected any more (the parent closed
#: its store while the child was connected, so left the server running: for ever after both had
#: finished, as long as the parent process lived).
_INHERITED_MEMORY: dict[Path, ServerProcess] = {}


@atexit.register
def _close_open_stores() -> None:
    from .embedded import EmbeddedBackend  # which imports this module

    _embedded_close._EXITING = True
    for backend in list(_OPEN):
        with contextlib.suppress(Exception):
            backend.close()
    for path, (settings, server) in list(_DROPPED.items()):
        # A store dropped unclosed (MLMD code never closes its MetadataStore: TFX's Metadata
        # drops it on __exit__) left its directory's server running after the process exited.
        # Reconnecting and closing stops it, unless another client still uses it.
        where: Path | None = None
        with contextlib.suppress(Exception):
            where = _dropped_where(path, server)
        if where is not None and running_server(where) is not None:
            with contextlib.suppress(Exception):
                EmbeddedBackend("directory", path=where, settings=settings).close()
    _DROPPED.clear()
    for socket_path, server in list(_INHERITED_MEMORY.items()):
        with contextlib.suppress(Exception):
            _stop_if_unused(socket_path, server)
    _INHERITED_MEMORY.clear()


def _note_dropped(server: ServerProcess, settings: EmbeddedSettings, owner_pid: int) -> None:
    """A directory store garbage-collected unclosed: its server is stopped at exit (no I/O
    here, in the collector). Only in the process that opened it (a forked child's copy)."""
    if os.getpid() == owner_pid and server.data_dir is not None:
        _DROPPED[server.data_dir] = (settings, server)


#: Every store of this process, open or not (renamed in a forked child: _after_fork_in_child).
_ALL: weakref.WeakSet[EmbeddedBackend] = weakref.WeakSet()
#: The serial numbers that make the stores' connection names unique in a process.
_SERIALS = itertools.count(1)


def _after_fork_in_child() -> None:
    """A forked child (gunicorn --preload, a multiprocessing worker, os.fork) inherits the
    parent's stores and their servers. The connections it makes anew bear its own pid: under
    the parent's name, the parent's close() took the child's connection for its own (and the
    child's for the parent's), found itself alone and shut the server down under the other (a
    worker still writing: EngineUnavailableError, a memory store's data lost). Its exit does not
    close the stores it inherited; their servers are stopped at its exit (a directory store's
    as a dropped store's is, a memory store's by _stop_if_unused) if no other client (the
    parent) is connected any more: else they ran on after both had finished.
    No I/O here: this also runs between fork and exec of a server started with preexec_fn.
    A worker's own worker (nested forks) inherits what its parent inherited as well: only the
    parent's open stores were its, and a directory server the grandchild used last ran on."""
    inherited = dict(_DROPPED)
    inherited.update(
        (b._server.data_dir, (b.settings, b._server))
        for b in list(_OPEN)
        if b.mode == "directory" and b._server is not None and b._server.data_dir is not None
    )
    memory = {
        b._server.socket_path: b._server
        for b in list(_OPEN)
        if b.mode == "memory" and b._server is not None and b._server.socket_path is not None
    }
    for backend in list(_ALL):
        backend._renamed_after_fork()
    _OPEN.clear()
    _DROPPED.clear()
    _DROPPED.update(inherited)
    _INHERITED_MEMORY.update(memory)
    # A multiprocessing worker leaves by os._exit after multiprocessing's own finalizers (no
    # atexit handler runs in it), which it clears as it starts, then runs its after-fork hooks.
    mp_util = sys.modules.get("multiprocessing.util")
    if (inherited or _INHERITED_MEMORY) and mp_util is not None:
        mp_util.register_after_fork(_AFTER_FORK_KEY, _close_at_worker_exit)


class _Key:
    """A weakly referenced key for multiprocessing's after-fork registry."""


_AFTER_FORK_KEY = _Key()


def _close_at_worker_exit(_: object) -> None:
    """In a multiprocessing worker, as it starts: its exit closes what _close_open_stores does."""
    import multiprocessing.util

    global _WORKER_EXIT_PID
    _WORKER_EXIT_PID = os.getpid()
    multiprocessing.util.Finalize(None, _close_open_stores, exitpriority=0)


#: The multiprocessing worker whose exit runs _close_open_stores (registered once per process).
_WORKER_EXIT_PID: int | None = None


def _closed_at_worker_exit() -> None:
    """A store opened in a multiprocessing worker (a Pool's initializer, a Process's target) is
    closed at the worker's exit, as atexit closes one in a main process. A 'fork' or
    'forkserver' worker leaves by os._exit, where no atexit handler runs: the directory server
    its stores used ran on for good after every worker had finished (a Pool of 3 whose
    initializer opened the store, then close() and join(): the server still running). Only
    multiprocessing's finalizers run there."""
    mp = sys.modules.get("multiprocessing")
    if mp is None or os.getpid() == _WORKER_EXIT_PID or mp.parent_process() is None:
        return
    _close_at_worker_exit(None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
