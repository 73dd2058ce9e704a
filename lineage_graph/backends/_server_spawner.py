"""The thread that forks the in-memory servers (:class:`_Spawner`): they die with the process
that started them, not with the thread that asked for them."""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import threading
from concurrent.futures import Future
from typing import Any

from ._server_procs import (
    SIGKILL_WAIT_S,
)


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
        try:
            requests.put((done, cmd, kwargs))  # (a Ctrl-C raised as it returns: cancelled)
            return done.result()
        except BaseException:
            # Interrupted (Ctrl-C) while the thread forks the server, or before it has come
            # to this request (busy forking another's): the server came all the same, a
            # moment later, with no one to stop it (it ran until the process exited, its
            # socket folder removed under it by the caller, _start). A request still queued is
            # cancelled (the thread skips it); one being forked is killed once it is, by
            # whichever thread has it first, before that folder is removed if it comes within
            # SIGKILL_WAIT_S; a second Ctrl-C meanwhile is not waited on (the server is
            # killed all the same).
            _discard_when_spawned(done)
            raise


_SpawnRequest = tuple["Future[subprocess.Popen[bytes]]", list[str], dict[str, Any]]


def _spawn_forever(requests: queue.SimpleQueue[_SpawnRequest]) -> None:
    while True:
        done, cmd, kwargs = requests.get()
        if not done.set_running_or_notify_cancel():
            continue  # its caller was interrupted before its turn: no one would own it
        try:
            proc = _popen(cmd, kwargs)
        except BaseException as exc:
            done.set_exception(exc)
        else:
            done.set_result(proc)  # (a caller interrupted meanwhile kills it: its callback)
            del proc
        # Not kept while the thread waits for the next request: the last server's handle
        # outlived its store's close (until the process opened another memory store).
        del done, kwargs


def _popen(cmd: list[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, **kwargs)


def _discard_when_spawned(done: Future[subprocess.Popen[bytes]]) -> None:
    """Cancel a request whose caller will never have its server (it was interrupted), or, the
    thread forking it already, kill that server once it is spawned: here if it is already,
    else on the spawner's thread as it comes. Returns when it is cancelled or killed, or after
    SIGKILL_WAIT_S (it is killed all the same)."""
    discarded = threading.Event()

    def discard(request: Future[subprocess.Popen[bytes]]) -> None:
        try:
            if not request.cancelled() and request.exception() is None:
                with contextlib.suppress(Exception):  # nothing left to do with it
                    _discard(request.result())
        finally:
            discarded.set()

    # First: a second Ctrl-C from here on leaves no server unowned.
    done.add_done_callback(discard)  # (run at once if done: failed or spawned)
    done.cancel()  # still queued: never spawned (the thread skips it); else False
    discarded.wait(SIGKILL_WAIT_S)


def _discard(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc``, wait for it and close its pipes (``stderr=PIPE``): they stayed open until
    the garbage collector closed them (a descriptor held meanwhile, a ResourceWarning)."""
    try:
        proc.kill()
        proc.wait(timeout=SIGKILL_WAIT_S)
    finally:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


_SPAWNER = _Spawner()
