"""Processes of the embedded server, as ``/proc`` and signals tell them: whether a pid is alive,
serves a data directory, is one of this process's children, works or answers; and how long a
server asked to stop is waited for."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from .._probe import connect


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
    only that user opens it (:meth:`_StoreDirectory._prepare_data_dir`). None when it is not
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


def _adopt(proc: subprocess.Popen[bytes]) -> None:
    """Count ``proc`` among the servers this process started (:data:`_CHILDREN`)."""
    _forget_reaped()
    with _CHILDREN_LOCK:
        _CHILDREN[proc.pid] = proc


def _forget_reaped() -> None:
    """Drop the servers of :data:`_CHILDREN` that have exited and been reaped (nothing is left
    to wait for). Only a later look-up of the same pid (:func:`_child`) dropped one: a
    long-lived process opening and closing stores kept every server it had ever started, its
    process handle, pipes and command line (about 1.5 KB each, one per store opened)."""
    with _CHILDREN_LOCK:
        for pid, child in list(_CHILDREN.items()):
            if child.returncode is not None:
                del _CHILDREN[pid]


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
    (:meth:`_Watch.silence`) and before a store's failed call kills it."""
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


#: How long a server asked to exit (SIGTERM) may take to write its log out before it is killed;
#: one found hung (it did not answer a PING) is given HUNG_STOP_WAIT_S (a stopped one resumes
#: and exits at once: a deadlocked one would hold its closer for the whole wait).
STOP_WAIT_S = 30.0


HUNG_STOP_WAIT_S = 5.0


#: How long a server found running and hung, SIGKILLed, is waited for before the opener says
#: it could not be stopped (:meth:`_Stopper.kill_hung`).
KILL_WAIT_S = 30.0


#: How long any other SIGKILLed server is waited for (:func:`_stop`): one in a
#: disk wait dies only once that ends.
SIGKILL_WAIT_S = 10.0
