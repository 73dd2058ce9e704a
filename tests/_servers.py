"""Stop the embedded servers a test left running (tests/reliability, tests/embedded).

A store on a data directory runs its server in a session of its own, so that it outlives a
crashed client: a test that fails before it closes its stores (or that kills its writer
process) left that server running after pytest had exited, one more per failed test. Only the
servers of this pytest run are stopped: a ``redis-server`` of this user, started during the test
(not running when it began), whose working directory (a data directory's server runs in it) or
``--dir`` is under this run's base temporary directory. Servers of other runs, worktrees or
users, and the in-memory servers (which run in ``/tmp/lg-*`` and die with their owner), are
never touched.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_SERVER_EXE = "redis-server"


def _under(path: str, root: Path) -> bool:
    path = path.removesuffix(" (deleted)")
    return Path(path).is_relative_to(root)


def servers_under(root: Path) -> set[int]:
    """Pids of this user's ``redis-server`` processes that run in a directory under ``root``
    (by ``/proc/PID/cwd``, or their ``--dir`` argument). Empty where there is no ``/proc``."""
    root = root.resolve()
    found: set[int] = set()
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return found
    me = os.geteuid()
    for pid in pids:
        try:
            if os.stat(f"/proc/{pid}").st_uid != me:
                continue
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if not argv or os.path.basename(argv[0].decode(errors="replace")) != _SERVER_EXE:
                # redis-server renames its process title ("redis-server 127.0.0.1:0"): the
                # executable names it too.
                exe = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
                if os.path.basename(exe) != _SERVER_EXE:
                    continue
            dirs = [os.readlink(f"/proc/{pid}/cwd")]
            for flag, value in itertools.pairwise(argv):
                if flag == b"--dir":
                    dirs.append(value.decode(errors="replace"))
        except (OSError, ValueError):
            continue  # gone meanwhile, a zombie, or not ours to read
        if any(_under(d, root) for d in dirs):
            found.add(pid)
    return found


def kill_servers(pids: set[int], timeout: float = 10.0) -> list[int]:
    """SIGKILL each pid and wait (bounded) until it is gone; returns those it killed."""
    killed = []
    for pid in sorted(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    deadline = time.monotonic() + timeout
    for pid in killed:
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):  # ours to reap, else another's
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                break  # gone
            if state == "Z":  # dead, its parent (not us) reaps it
                break
            time.sleep(0.01)
    return killed


class ServerLeftRunning(UserWarning):
    """A test that passed left a server of its data directory running (stopped for it)."""


def stopping_leftovers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The body of an autouse fixture: note this run's servers before the test, then stop every
    server of this run started during it and still running after its own teardown (the
    fixture is set up first, so torn down last). Those of a passed test are also reported as a
    :class:`ServerLeftRunning` warning: a store it did not close, or a leak to look at."""
    base = tmp_path_factory.getbasetemp()
    before = servers_under(base)
    yield
    left = servers_under(base) - before
    if not left:
        return
    killed = kill_servers(left)
    report = getattr(request.node, "lg_call_report", None)
    if killed and report is not None and report.passed:
        warnings.warn(
            ServerLeftRunning(f"{request.node.nodeid} left {len(killed)} server(s) running"),
            stacklevel=1,
        )


def remember_call_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """For the conftests' ``pytest_runtest_makereport``: keep the call phase's report."""
    if report.when == "call":
        item.lg_call_report = report  # type: ignore[attr-defined]


# The conftests of tests/reliability and tests/embedded import these two (one definition).


@pytest.fixture(autouse=True)
def _stop_leftover_servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A failed test left its data directories' servers running after pytest exited: they are
    stopped once its teardown has run."""
    yield from stopping_leftovers(request, tmp_path_factory)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    remember_call_report(item, report)
    return report
