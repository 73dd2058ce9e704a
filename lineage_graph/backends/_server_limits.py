"""The limits a server runs into (file descriptors, clients, file size) and what to say of
them."""

from __future__ import annotations

import errno
import re
import resource
from pathlib import Path

from .._probe import first_bytes
from ..exceptions import (
    EngineUnavailableError,
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


def _size_limit_death(had: int | None, data_dir: Path | None) -> str:
    """Why a server this process started exited, killed by ``SIGXFSZ``: its append-only log
    reached the file size limit ``had`` it inherited from this process (``ulimit -f``,
    ``RLIMIT_FSIZE``). Every write then killed it again, each restart said only that it "died
    during query ... and was restarted; retry the call", and retrying could never work. The
    limit said is the one the server had (the process's then), not the process's now: a
    program that raised its limit after the first such error was told "ulimit -f:
    unlimited; raise that limit" when the server started before it died."""
    now = _file_size_limit()
    advice = (
        f"this process's limit is {_said_limit(now)} now, which a server it starts from "
        "here on gets: retry the call"
        if _raised_limit(had, now)
        else "raise that limit (ulimit -f unlimited) before retrying"
    )
    return (
        f"it was killed by SIGXFSZ: a file of the store in {data_dir or 'memory'} "
        "reached the file size limit the server inherited from this process (ulimit -f: "
        f"{_said_limit(had)}); {advice}"
    )
