"""Shared pieces of the reliability suite: real processes, real signals, measured figures.

Every test here that measures something (writes acknowledged vs found after a kill, duplicates
under concurrency, fuzz examples per target...) calls :func:`record`; the figures are printed at
the end of the run (and appended as JSON lines to ``$LINEAGE_GRAPH_FIGURES`` when set), so CI
logs carry them and ``docs/reliability.md`` quotes them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import Artifact, EngineUnavailableError, LineageStore
from lineage_graph.backends import open_backend

# the leftover servers' fixture and hook (one definition, tests/_servers.py), re-exported
from tests._servers import _stop_leftover_servers as _stop_leftover_servers
from tests._servers import pytest_runtest_makereport as pytest_runtest_makereport
from tests.conftest import _neo4j_uri

ROOT = Path(__file__).resolve().parents[2]

FIGURES: list[tuple[str, dict[str, Any]]] = []


def record(name: str, **figures: Any) -> None:
    FIGURES.append((name, figures))
    path = os.environ.get("LINEAGE_GRAPH_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": name, **figures}) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, figures in FIGURES:
        shown = ", ".join(f"{k}={v}" for k, v in figures.items())
        terminalreporter.write_line(f"{name}: {shown}")


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def spawn_workload(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """Start a writer process (tests/reliability/_workload.py) with its stderr in ``log``.err."""
    err = open(str(log) + ".err", "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._workload", "--log", str(log), *args],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=err,
    )


def wait_for(predicate: Any, timeout: float, what: str, proc: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the writer exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def acks(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text(encoding="utf-8").splitlines() if '"op": "ack"' in line)


def server_pid(data_dir: Path) -> int | None:
    """The pid of the server running on a data directory (None while it is being restarted)."""
    try:
        state = json.loads((data_dir / "server.json").read_text())
        return int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def kill_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # our own child: reap it
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.01)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(30)


# ----------------------------------------------------------------------------- engine targets


def neo4j_or_skip() -> str:
    uri, reason = _neo4j_uri()
    if not uri:
        pytest.skip(reason)
    return uri


@pytest.fixture(
    params=[
        pytest.param("embedded", id="embedded-dir"),
        pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j),
    ]
)
def shared_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store target several processes open at once: an embedded data directory, or the
    Neo4j server of the test run (wiped first)."""
    if request.param == "embedded":
        yield str(tmp_path / "store")
        return
    from tests._neo4j import wipe

    uri = neo4j_or_skip()
    backend = open_backend(uri)
    wipe(backend)
    backend.close()
    yield uri


def open_store(target: str) -> LineageStore:
    return LineageStore.open(target)


def assert_ids_stay_spent(store: LineageStore, first: int, applied: int) -> None:
    """After a write in doubt that was applied (artifact ``applied``, uri "/applied", after
    ``first``, uri "/first"): the next write gets a new id, and the store holds all three
    (no id handed out twice). The first call may meet the dead server and restart it."""
    from tests.reliability._integrity import assert_healthy

    ids: list[int] = []
    for _ in range(3):
        try:
            ids = store.put_artifacts([Artifact(type="Data", uri="/next")])
            break
        except EngineUnavailableError:
            continue
    assert ids and ids[0] > applied
    stored = {a.id: a.uri for a in store.get_artifacts()}
    assert stored == {first: "/first", applied: "/applied", ids[0]: "/next"}
    assert_healthy(store)
