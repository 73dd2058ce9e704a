"""Who runs a pipeline run, and whether that process is provably dead.

A run records its owner on its execution while it is ``RUNNING`` (the custom property
``run_owner``, dropped when the run ends normally): the host, the kernel's boot id, the pid
namespace, the pid and the process's start time (clock ticks after boot, from
``/proc/<pid>/stat``). A later run of the same name may close a ``RUNNING`` namesake only when
its owner is provably dead: same host, same boot, same pid namespace, and no process with that
pid and that start time (a reused pid has another start time; a zombie is dead). Anything else
(another host, a container with its own pid namespace, no ``/proc`` or one showing another pid
namespace, an owner not recorded) is not provably dead: the run is never taken over.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Mapping

__all__ = ["current_owner", "owner_dead_here", "owner_text", "why_not_dead"]

_PROC = "/proc"
#: Linux's pid_max is at most 2^22 (7 digits): a longer pid is no process's.
_MAX_PID_DIGITS = 7


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` past the command name (which may hold spaces and parentheses):
    field 3 (the state) first; None if there is no such process."""
    text = _read(f"{_PROC}/{pid}/stat")
    if text is None or ")" not in text:
        return None
    return text[text.rindex(")") + 1 :].split()


def _start_ticks(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None  # field 22


def _pid_namespace() -> str | None:
    try:
        return str(os.stat(f"{_PROC}/self/ns/pid").st_ino)
    except OSError:
        return None


@functools.cache
def _machine() -> tuple[str, str | None, str | None]:
    boot = _read(f"{_PROC}/sys/kernel/random/boot_id")
    return socket.gethostname(), boot.strip() if boot else None, _pid_namespace()


def _proc_is_ours() -> bool:
    """Whether ``/proc`` shows this process's pid namespace: a process in a pid namespace of its
    own with the parent's ``/proc`` (``unshare --pid --fork`` without ``--mount-proc``) has its
    pids mean other processes there (its pid 1 read the host's init: its owner recorded the
    start time of another process, and an owner's death was judged on another one)."""
    try:
        return os.readlink(f"{_PROC}/self") == str(os.getpid())
    except OSError:
        return False


def current_owner() -> dict[str, str]:
    """This process as a run's owner (string values: a struct property keeps them as given)."""
    host, boot, pid_ns = _machine()
    pid = os.getpid()
    owner = {"host": host, "pid": str(pid)}
    start = _start_ticks(pid) if _proc_is_ours() else None
    if boot is not None and pid_ns is not None and start is not None:
        owner |= {"boot_id": boot, "pid_namespace": pid_ns, "start_ticks": start}
    return owner


def owner_dead_here(owner: object) -> bool:
    """Whether ``owner`` (a recorded ``run_owner``) is a process of this host, boot and pid
    namespace that no longer runs. False when that cannot be proved."""
    if not isinstance(owner, Mapping):
        return False
    host, boot, pid_ns = _machine()
    if boot is None or pid_ns is None or not _proc_is_ours():
        return False
    if (owner.get("host"), owner.get("boot_id"), owner.get("pid_namespace")) != (
        host,
        boot,
        pid_ns,
    ):
        return False
    pid, start = owner.get("pid"), owner.get("start_ticks")
    if not isinstance(pid, str) or not isinstance(start, str) or not start:
        return False
    if not (pid.isascii() and pid.isdigit()) or len(pid) > _MAX_PID_DIGITS:
        # (no process has it: "²" passed isdigit() and int() raised ValueError, and a pid past
        # a C int os.kill()'s OverflowError, out of the run's start, untyped)
        return False
    if int(pid) == os.getpid() and start == _start_ticks(int(pid)):
        # this very process (a run of this process that is still open). One that held this
        # pid before (another start time) is dead: it was refused as alive, for good.
        return False
    fields = _stat_fields(int(pid))
    if fields is None:
        # No such process, or one /proc hides (mounted hidepid=: another user's): the kernel
        # tells them apart. One that exists but cannot be read may be the owner.
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    if len(fields) <= 19:
        return False
    # A zombie (killed, not yet reaped by its parent) runs no more; another start time is
    # another process that reused the pid.
    return fields[0] in ("Z", "X") or fields[19] != start


def owner_text(owner: object) -> str:
    """``pid 1234 on host h`` (or what is known of it)."""
    if owner is None:
        return "an owner not recorded (a run of an older version, or not a pipeline run)"
    if not isinstance(owner, Mapping):
        # (one the run's caller gave: it read "not recorded ... not a pipeline run")
        return f"an owner its caller gave ({owner!r:.80}), not a process"
    return f"pid {owner.get('pid', '?')} on host {owner.get('host', '?')!r}"


def why_not_dead(owner: object) -> str:
    """Why ``owner`` is not provably dead from here, in words (for a refusal's message): it
    read "alive or not provably dead from here (another host, another pid namespace)" whatever
    the reason, a process alive on this host too."""
    if not isinstance(owner, Mapping):
        return "which cannot be checked"
    host, boot, pid_ns = _machine()
    if owner.get("host") != host:
        return f"not this host ({host!r}), so it cannot be checked from here"
    if boot is None or pid_ns is None or not _proc_is_ours():
        return "which this system cannot check (no /proc of this pid namespace)"
    if not all(owner.get(k) for k in ("boot_id", "pid_namespace", "start_ticks")):
        return "recorded without its start time (no /proc where it ran): it cannot be checked"
    if owner.get("boot_id") != boot:
        return (
            "under another boot id (this host restarted since, or another machine bears its "
            "name): it cannot be checked"
        )
    if owner.get("pid_namespace") != pid_ns:
        return "in another pid namespace (another container): it cannot be checked from here"
    pid = owner.get("pid")
    if not (isinstance(pid, str) and pid.isascii() and pid.isdigit()) or len(pid) > _MAX_PID_DIGITS:
        return "whose recorded pid is no process's: it cannot be checked"
    return "which is alive (or hidden from this user by /proc)"
