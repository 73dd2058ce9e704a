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
