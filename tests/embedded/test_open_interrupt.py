"""A Ctrl-C while a store opens, after its server has started and before the store has
connected to it, stops that server and removes its socket folder before the KeyboardInterrupt
goes on: a memory store left its ``lg-*`` folder in the temporary directory (its server died
with the process; the sweep removes such folders only after an hour), and a program that
caught the interrupt had the server running on, no one's. A directory store's server ran on
after the process had exited. The store opens again at once.

Real processes, real SIGINTs (to the child's process group, as a terminal sends them): the
child stops in the import of the FalkorDB client (the first thing the open does once its
server answers), waiting for a line on stdin that never comes: the SIGINT ends the wait."""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests._servers import kill_servers, servers_under

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys

class Pause:
    def find_spec(self, name, path=None, target=None):
        if name == "falkordb":
            sys.meta_path.remove(self)
            sys.stdout.write("connecting\\n")
            sys.stdout.flush()
            sys.stdin.readline()
        return None

from lineage_graph import LineageStore
import lineage_graph.store

sys.meta_path.insert(0, Pause())
target = sys.argv[1]
try:
    LineageStore.open(target)
except KeyboardInterrupt:
    print("interrupted", flush=True)
else:
    print("opened", flush=True)
sys.stdin.readline()  # the parent looks at what the open left
with LineageStore.open(target) as store:
    print("reopened", len(store.get_artifacts()), flush=True)
"""


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    assert ready, "the child said nothing"
    return proc.stdout.readline().strip()


@pytest.mark.parametrize("where", ["memory", "directory"])
def test_a_ctrl_c_before_the_open_connects_leaves_nothing(tmp_path: Path, where: str) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    target = "memory" if where == "memory" else str(tmp_path / "store")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, target],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job
        # SIGINT not ignored, as in a terminal (a CI runner's background job inherits it so)
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    started: set[int] = set()
    try:
        assert proc.stdin is not None
        assert _line(proc) == "connecting"
        started = servers_under(tmp_path)
        assert started, "no server was started before the store connected"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: raised in the hook's wait
        assert _line(proc) == "interrupted"
        # the child lives on, having caught the interrupt: nothing of the open is left
        assert sorted(p.name for p in tmp.iterdir()) == []
        assert not servers_under(tmp_path)
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert _line(proc) == "reopened 0"
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        kill_servers(servers_under(tmp_path) | started)
    assert sorted(p.name for p in tmp.iterdir()) == []
