"""A directory store holding the demo pipeline, kept open for the session so every CLI call
finds the running embedded server (as a second process would). Tests that change it undo it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from typer.testing import CliRunner, Result

from lineage_graph import LineageStore
from lineage_graph._demo import DemoResult, rerun_training, run_demo
from lineage_graph.cli import app

#: Environment every CLI call runs with: wide output, no store chosen by the environment.
BASE_ENV = {"COLUMNS": "200", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None, "NO_COLOR": "1"}


@dataclass
class Demo:
    store: LineageStore
    path: Path
    result: DemoResult
    cached_run_id: int

    def cli(
        self, *args: str, env: dict[str, str | None] | None = None, store: bool = True
    ) -> Result:
        return invoke([*args, *(["--store", str(self.path)] if store else [])], env=env)

    def json(self, *args: str) -> Any:
        result = self.cli(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def invoke(args: Sequence[str], env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={**BASE_ENV, **(env or {})})


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("cli")
    path = workdir / "store"
    with LineageStore.open(path) as store:
        result = run_demo(store, workdir)
        _, cached_run_id = rerun_training(store, result)
        yield Demo(store, path, result, cached_run_id)


def on_a_terminal(
    command: Sequence[str],
    env: dict[str, str],
    terminal: Literal["stdout", "stderr"],
    until: bytes | None = None,
) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    """``command`` run with its ``terminal`` stream a pseudo-terminal (the other one a pipe):
    the finished process and what the terminal was sent (read up to ``until``, if given)."""
    import pty

    leader, follower = pty.openpty()
    try:
        streams: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        streams[terminal] = follower
        done = subprocess.run(list(command), timeout=120, env=env, **streams)
        os.close(follower)
        follower = -1
        shown = b""
        while until is None or until not in shown:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end closed and all of it read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    return done, shown


def cli_process(args: Sequence[str], **env: str) -> subprocess.CompletedProcess[str]:
    """``lineage-graph ARGS`` in a process of its own (a real stderr: pytest records warnings;
    an abort ends only it), this checkout's package imported, ``LINEAGE_GRAPH_STORE`` unset,
    ``env`` added to the environment."""
    full = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **env}
    full.pop("LINEAGE_GRAPH_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )
