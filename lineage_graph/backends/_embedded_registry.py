"""The embedded engine's process-wide registries: the stores open (closed when the interpreter
exits, or a multiprocessing worker does), the directory stores dropped unclosed, and what a
forked child inherited (renamed, and stopped at its exit when no one else uses it); and the
reaper thread, which stops a dropped directory store's server once it has been idle for
``dropped_server_idle_s``."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import queue
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

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


class _Dropped(NamedTuple):
    """A directory store garbage-collected unclosed: its settings, the server it knew (to
    follow the directory if it moved), when it was dropped (``time.monotonic()``), and whether
    it was inherited across a fork (its parent's server: stopped at the child's exit only,
    never by the child's reaper), and whether the reaper's stop already left its server to
    another client (then tried again no sooner than RETRY_S later)."""

    settings: EmbeddedSettings
    server: ServerProcess
    at: float
    inherited: bool = False
    tried: bool = False


#: A dropped server the reaper's stop left to another client is tried again after its idle time,
#: and no sooner than this (s): with an idle time of 0, it was tried again and again at once.
RETRY_S = 5.0


#: Data directories whose store this process garbage-collected unclosed: their server is
#: stopped as close() would stop it (if no other client uses it) by the reaper thread once it
#: has been dropped for ``dropped_server_idle_s``, or at exit. A reopen of the directory by
#: this process removes its entry (its server is in use again).
_DROPPED: dict[Path, _Dropped] = {}


#: In a forked child: the sockets of the memory stores it inherited open (the parent's servers),
#: stopped at its exit if no store of another process is connected any more (the parent closed
#: its store while the child was connected, so left the server running: for ever after both had
#: finished, as long as the parent process lived).
_INHERITED_MEMORY: dict[Path, ServerProcess] = {}


@atexit.register
def _close_open_stores() -> None:
    # The reaper begins no stop from now on; the open stores are closed first (a Ctrl-C while
    # the exit waited for the reaper's stop of a hung server, before closing them, left their
    # servers running), then the stop it has begun is waited for (bounded as a close is), then
    # the dropped rest (with what that stop left to another client) is stopped.
    _quit_reaper()
    _embedded_close._EXITING = True
    for backend in list(_OPEN):
        with contextlib.suppress(Exception):
            backend.close()
    _reaper_stopped()
    for path, entry in _snapshot():
        _stop_dropped(path, entry)
    _DROPPED.clear()
    for socket_path, server in list(_INHERITED_MEMORY.items()):
        with contextlib.suppress(Exception):
            _stop_if_unused(socket_path, server)
    _INHERITED_MEMORY.clear()


def _stop_dropped(path: Path, entry: _Dropped) -> Path | None:
    """Stop the server of the directory store dropped unclosed at ``path`` (the reaper's and the
    exit's work). A store dropped unclosed (MLMD code never closes its MetadataStore: TFX's
    Metadata drops it on __exit__) left its directory's server running after the process
    exited (and a long-lived worker opening a directory per job, one more server per job).
    Reconnecting and closing stops it, unless another client still uses it (close() decides
    that under the directory's lock: another process's store, or this process's reopened).
    Errors are suppressed. Returns where the directory is if a server ran there (None once it
    was removed, or no server ran)."""
    from .embedded import EmbeddedBackend  # which imports this module

    _STOPPING_HERE.active = True  # this open is no reopen of the directory (_reopened)
    try:
        where: Path | None = None
        with contextlib.suppress(Exception):
            where = _dropped_where(path, entry.server)
        if where is None or running_server(where) is None:
            return None
        with contextlib.suppress(Exception):
            EmbeddedBackend("directory", path=where, settings=entry.settings).close()
        return where
    finally:
        _STOPPING_HERE.active = False


def _still_wanted(where: Path) -> bool:
    """After the reaper's stop: the server runs on at ``where`` and no store of this process
    has the directory open again. Another client kept it: another process's store, or a
    connection of this process's dropped store its socket still holds (a reference to its
    client kept). Its entry is noted again (a new idle time), so that the exit still stops it
    as before (the exit counts this process's leftover connections as gone: the reaper cannot,
    as the process still runs); it ran on after the process had exited."""
    if running_server(where) is None:
        return False
    return not any(
        b.mode == "directory" and b._server is not None and b._server.data_dir == where
        for b in list(_OPEN)
    )


def _note_dropped(server: ServerProcess, settings: EmbeddedSettings, owner_pid: int) -> None:
    """A directory store garbage-collected unclosed: its server is stopped by the reaper once
    idle, or at exit. Only in the process that opened it (a forked child's copy). In the
    collector, in any thread (the reaper's too, while it stops a server): no I/O, no lock taken,
    no thread started; only the entry noted and the reaper woken (SimpleQueue.put is
    reentrant)."""
    if os.getpid() == owner_pid and server.data_dir is not None:
        _DROPPED[server.data_dir] = _Dropped(settings, server, time.monotonic())
        _WAKE.put(None)


# ------------------------------------------------------------------------------------ reaper

#: Wakes the reaper (a drop noted, the exit): a SimpleQueue, whose put() a finalizer may call.
_WAKE: queue.SimpleQueue[None] = queue.SimpleQueue()
#: Held by the reaper through each stop; the exit takes it to wait for the one in progress.
_REAPING = threading.Lock()
#: Guards the reaper's start (by the opens of directory stores, never the collector).
_START = threading.Lock()
#: The reaper thread, and the pid of the process that started it (a forked child starts its own).
_REAPER: threading.Thread | None = None
_REAPER_PID: int | None = None
#: Set by the exit (_close_open_stores): the reaper starts no stop after it.
_QUIT = False
#: Set in the thread running _stop_dropped: its own open of the directory is no reopen.
_STOPPING_HERE = threading.local()


def _start_reaper() -> None:
    """Start this process's reaper if it has none (cheap; once per process, and once more in a
    forked child): by an open of a directory store, before it connects (a Ctrl-C in the
    thread's start then ends an open that had opened nothing)."""
    global _REAPER, _REAPER_PID
    if os.getpid() == _REAPER_PID or _QUIT or getattr(_STOPPING_HERE, "active", False):
        return
    with _START:
        if os.getpid() != _REAPER_PID:
            reaper = threading.Thread(target=_reap, name="lineage-graph-reaper", daemon=True)
            reaper.start()
            _REAPER, _REAPER_PID = reaper, os.getpid()


def _reopened(data_dir: Path) -> None:
    """A directory store opened by this process: a dropped entry for its directory goes (its
    server is in use again: not even considered by the reaper; noted anew, with a new time,
    when this store is dropped in turn). Not the reaper's (or the exit's) own open."""
    if not getattr(_STOPPING_HERE, "active", False):
        _DROPPED.pop(data_dir, None)


def _snapshot() -> list[tuple[Path, _Dropped]]:
    """_DROPPED's entries. The collector may run while the list is made (an allocation), and
    a finalizer note a drop: the copy is made again then (dictionary changed size)."""
    while True:
        with contextlib.suppress(RuntimeError):
            return list(_DROPPED.items())


def _claim(path: Path, entry: _Dropped) -> bool:
    """Take ``entry`` out of _DROPPED if it is still ``path``'s (not reopened, nor re-noted by
    the collector since: then that newer entry is put back)."""
    got = _DROPPED.pop(path, None)
    if got is entry:
        return True
    if got is not None:
        _DROPPED.setdefault(path, got)  # (a still newer one noted meanwhile wins)
    return False


def _reap() -> None:
    """The reaper thread: stops each directory server this process dropped once it has been
    dropped for its store's ``dropped_server_idle_s``, with the exit's own code, one at a time,
    off the callers' threads (a hung server delays only this thread). Entries inherited across
    a fork are the parent's: left to the child's exit. Never raises. After a pass that stopped
    a server, another pass at once: it times the entries noted meanwhile, and those its stops
    left to another client (noted again: their retry was not timed, and came only with the
    next drop)."""
    _embedded_close._REAPER_HERE.active = True
    while not _QUIT:
        wait: float | None = None
        stopped = False
        try:
            now = time.monotonic()
            for path, entry in _snapshot():
                if entry.inherited:
                    continue
                idle = entry.settings.dropped_server_idle_s
                due = entry.at + (max(idle, RETRY_S) if entry.tried else idle)
                if due > now:
                    wait = due - now if wait is None else min(wait, due - now)
                    continue
                with _REAPING:
                    if _QUIT:
                        return
                    if _claim(path, entry):
                        stopped = True
                        where = _stop_dropped(path, entry)
                        if where is not None and _still_wanted(where):
                            again = entry._replace(at=time.monotonic(), tried=True)
                            _DROPPED.setdefault(path, again)
                now = time.monotonic()
        except Exception:  # never the end of the reaper
            wait = 1.0
        if stopped:
            continue
        with contextlib.suppress(queue.Empty):
            _WAKE.get(timeout=wait)


def _quit_reaper() -> None:
    """At exit: the reaper begins no stop after this (it ends its loop)."""
    global _QUIT
    _QUIT = True
    _WAKE.put(None)


def _reaper_stopped() -> None:
    """At exit, after _quit_reaper: wait for the stop in progress, if any (bounded as the stop
    is: a close, hang_after_s for a hung server)."""
    reaper = _REAPER
    if (
        reaper is not None
        and os.getpid() == _REAPER_PID
        and reaper.is_alive()
        and reaper is not threading.current_thread()
    ):
        with _REAPING:
            pass


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
    global _WAKE, _REAPING, _START, _REAPER, _REAPER_PID, _QUIT, _STOPPING_HERE
    now = time.monotonic()
    inherited = {path: entry._replace(inherited=True) for path, entry in _DROPPED.items()}
    inherited.update(
        (b._server.data_dir, _Dropped(b.settings, b._server, now, inherited=True))
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
    # The parent's reaper thread is not here: the child starts its own at its first open of a
    # directory store (handling only the stores it drops itself), with a lock and queue of its
    # own (the parent's reaper may have held its lock as this one forked).
    _WAKE, _REAPING, _START = queue.SimpleQueue(), threading.Lock(), threading.Lock()
    _REAPER, _REAPER_PID, _QUIT, _STOPPING_HERE = None, None, False, threading.local()
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
