"""The servers of directory stores dropped unclosed (MLMD code never closes its MetadataStore)
are bounded in a long-lived process: the KEEP_DROPPED_SERVERS most recently dropped run on
(reopening one reuses its server), older ones are stopped at the next open, the rest at exit.
Each scenario runs in a fresh interpreter: its exit stops what it kept."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from lineage_graph import LineageStore
from lineage_graph.backends.embedded import EmbeddedBackend

from .test_modes import _alive, _ask, _other_client, run_child

#: The bound the children use (small: fewer servers to start).
KEEP = 2

#: A child's script: directories argv[1]/d0 … d{KEEP+2} opened and dropped in turn (after
#: what argv[2] names), then the next open (a fresh directory, closed), then the most recently
#: dropped one reopened. Prints the servers' pids and socket folders, what runs after the next
#: open, and whether the reopening reused its server.
_DROP_IN_TURN = f"""
import gc, json, os, sys
from pathlib import Path
from lineage_graph import LineageStore
from lineage_graph.backends import _embedded_registry

_embedded_registry.KEEP_DROPPED_SERVERS = {KEEP}
base, then = Path(sys.argv[1]), sys.argv[2]

def alive(pid):
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{{pid}}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

kept = LineageStore.open(base / "d0") if then == "open-here" else None
pids, folders = [], []
for i in range({KEEP} + 3):
    s = LineageStore.open(base / f"d{{i}}")
    pids.append(s.backend.server.pid)
    folders.append(str(s.backend.server.socket_path.parent))
    del s
    gc.collect()
with LineageStore.open(base / "next"):
    pass
running = [alive(pid) for pid in pids]
left = [Path(folder).exists() for folder in folders]
if kept is not None:
    kept.get_artifacts()  # still served
again = LineageStore.open(base / f"d{{{KEEP} + 2}}")
reused = again.backend.server.pid == pids[-1]
del again
gc.collect()
print(json.dumps(dict(pids=pids, folders=folders, running=running, left=left, reused=reused)))
"""


def _drop_in_turn(base: Path, then: str) -> dict[str, list[int] | list[str] | list[bool] | bool]:
    return json.loads(run_child(_DROP_IN_TURN, str(base), then))  # type: ignore[no-any-return]


def _gone_soon(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running 30 s from now at most (at once when all are gone)."""
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


def test_a_process_dropping_directory_stores_keeps_only_the_latest_servers(
    tmp_path: Path,
) -> None:
    """A worker handling one directory per job, never closing: every dropped directory's server
    (~24 MB) and socket folder stayed until it exited (10 jobs, 10 servers). At the next open
    only the KEEP most recently dropped run on; the most recent reopened reuses its server;
    the exit stops the rest."""
    got = _drop_in_turn(tmp_path, "alone")
    running, left = got["running"], got["left"]
    assert isinstance(running, list) and isinstance(left, list)
    assert sum(running) <= KEEP + 1, f"{sum(running)} dropped directories' servers run on"
    assert running[:3] == [False] * 3, "the oldest dropped directories' servers run on"
    assert left[:3] == [False] * 3, "their socket folders were left"
    assert running[-KEEP:] == [True] * KEEP, "the latest dropped directories' servers stopped"
    assert got["reused"], "reopening the latest dropped directory restarted its server"
    pids, folders = got["pids"], got["folders"]
    assert isinstance(pids, list) and isinstance(folders, list)
    assert _gone_soon(pids) == [], "the exit left dropped directories' servers running"
    assert [f for f in folders if Path(f).exists()] == []
    with LineageStore.open(tmp_path / "d0") as store:  # stopped as a close stops it: reopens
        assert store.get_artifacts() == []


@pytest.mark.parametrize("other", ["another-process", "open-here"])
def test_a_dropped_directory_another_client_uses_keeps_its_server(
    tmp_path: Path, other: str
) -> None:
    """The oldest dropped directory, d0, is also used by another client (a store of another
    process, or one this process has open on it again): its server runs on, and serves it,
    while the other old ones are stopped."""
    proc = _other_client(tmp_path / "d0") if other == "another-process" else None
    try:
        got = _drop_in_turn(tmp_path, "alone" if proc is not None else "open-here")
        running, pids = got["running"], got["pids"]
        assert isinstance(running, list) and isinstance(pids, list)
        assert running[0], "the server of a directory another client uses was stopped"
        assert running[1:3] == [False, False], "the old unused servers run on"
        if proc is not None:
            assert _alive(pids[0]), "its server stopped at the exit under the other client"
            with LineageStore.open(tmp_path / "d0") as store:  # still the one serving it
                backend = store.backend
                assert isinstance(backend, EmbeddedBackend) and backend.server is not None
                assert backend.server.pid == pids[0]
            assert _ask(proc, "close")[0] == "closed"
            assert _gone_soon([pids[0]]) == [], "the last client left the server running"
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)


#: A child's script: 3 threads each open and drop 3 directories of argv[1] at once, then the
#: next open; prints the servers' pids and which run on after it.
_DROP_IN_THREADS = f"""
import gc, json, os, sys, threading
from pathlib import Path
from lineage_graph import LineageStore
from lineage_graph.backends import _embedded_registry

_embedded_registry.KEEP_DROPPED_SERVERS = {KEEP}
base = Path(sys.argv[1])
pids, errors = [], []

def work(t):
    try:
        for i in range(3):
            s = LineageStore.open(base / f"t{{t}}-{{i}}")
            pids.append(s.backend.server.pid)
            del s
            gc.collect()
    except Exception as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join(120)
with LineageStore.open(base / "next"):
    pass
running = []
for pid in pids:
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{{pid}}/stat").read_text().rsplit(")", 1)[1].split()[0]
        running.append(state != "Z")
    except OSError:
        running.append(False)
print(json.dumps(dict(pids=pids, running=running, errors=errors)))
"""


def test_stores_dropped_by_several_threads_keep_the_bound(tmp_path: Path) -> None:
    """Threads opening and dropping directory stores at once: no open fails, and after the
    next open only the KEEP most recently dropped directories' servers run on."""
    got = json.loads(run_child(_DROP_IN_THREADS, str(tmp_path)))
    assert got["errors"] == []
    assert len(got["pids"]) == 9
    assert sum(got["running"]) <= KEEP, f"{sum(got['running'])} dropped servers run on"
    assert _gone_soon(got["pids"]) == [], "the exit left dropped directories' servers running"
