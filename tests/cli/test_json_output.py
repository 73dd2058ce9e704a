"""What goes to stdout: with ``--json`` JSON alone (messages on stderr); and a stdout that
cannot take it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lineage_graph.cli import ExitCode

from .conftest import Demo


def test_cached_json_says_on_stderr_when_the_type_is_unknown(demo: Demo) -> None:
    """In ``--json`` mode a misspelt type (``trainer``) was a silent ``"hit": false``: the
    note that the store has no such type, printed without ``--json``, was left out, not sent
    to stderr as other messages."""
    result = demo.cli("cached", "trainer", "-i", "2", "--json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["hit"] is False
    assert "no execution type 'trainer'" in " ".join(result.stderr.split()), result.stderr
    known = demo.cli("cached", "Trainer", "-i", "2", "--json")
    assert known.exit_code == 1 and known.stderr == "", known.stderr


def _run(demo: Demo, args: list[str], **popen: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("LINEAGE_GRAPH_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", *args, "--store", str(demo.path)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=120,
        **popen,
    )


COMMANDS = [["ls"], ["ls", "--json"], ["export"], ["cached", "Trainer", "-i", "2"]]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_stdout_that_cannot_be_written_is_an_error_not_a_traceback(
    demo: Demo, args: list[str]
) -> None:
    """stdout on a full disk (``> /dev/full``) ended every command with an OSError traceback
    and exit 1, which for ``cached`` means "no such run"."""
    with open("/dev/full", "w") as full:
        result = _run(demo, args, stdout=full)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "cannot write the output to stdout: no space left on device" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_closed_stdout_is_a_closed_pipe(demo: Demo, args: list[str]) -> None:
    """``lineage-graph ls --json >&-`` (stdout closed) ended with a NoneType AttributeError
    traceback (exit 1); ``ls`` printed nothing and exited 0. Both are a closed pipe now."""
    result = _run(demo, args, preexec_fn=lambda: os.close(1))
    assert result.returncode == ExitCode.BROKEN_PIPE, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["upstream", "5"], ["downstream", "1"]], ids=" ".join)
def test_a_json_page_of_a_lineage_says_so_on_stderr(demo: Demo, command: list[str]) -> None:
    """``upstream 5 --json -n 2`` said nothing of the rest on stderr (``ls --json`` and
    ``export`` do): a script's user saw a small answer, not a page of a larger one."""
    page = demo.cli(*command, "--json", "-n", "2")
    assert page.exit_code == 0, page.output
    answer = json.loads(page.stdout)
    assert answer["complete"] is False and answer["cursor"]
    said = " ".join(page.stderr.split())
    assert f"incomplete: this page has 2 of {answer['total']} nodes" in said, said
    assert f"--cursor {answer['cursor']}" in said
    whole = demo.cli(*command, "--json")
    assert whole.exit_code == 0 and whole.stderr == "", whole.stderr


def test_version_on_a_closed_stdout_is_a_closed_pipe() -> None:
    """``lineage-graph --version >&-`` printed nothing and exited 0, as if it had been said;
    it is a closed pipe (141), as for every command's output."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", "lineage_graph.cli", "--version"]
    said = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert said.returncode == 0 and said.stdout.startswith("lineage-graph "), said.stderr
    closed = subprocess.run(
        command,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == ExitCode.BROKEN_PIPE, closed.stderr
    assert closed.stderr == ""


def test_cached_says_when_a_property_is_not_declared(demo: Demo) -> None:
    """``-p c=1.0`` (the type declares ``C``) was a silent miss, "has not completed on exactly
    these inputs with these properties", as if runs had been compared: none can have it."""
    props = ["-p", "c=1.0", "-p", "algorithm=logistic_regression"]
    typo = demo.cli("cached", "Trainer", "-i", "2", "-i", "3", *props)
    assert typo.exit_code == ExitCode.NO, typo.output
    text = " ".join(typo.stdout.split())
    assert "Trainer declares no property 'c' (it declares: C, algorithm;" in text, text
    as_json = demo.cli("cached", "Trainer", "-i", "2", "-i", "3", *props, "--json")
    assert json.loads(as_json.stdout)["hit"] is False
    assert "declares no property 'c'" in as_json.stderr, as_json.stderr


def test_an_unbuffered_stdout_its_reader_left_is_a_closed_pipe(demo: Demo) -> None:
    """With PYTHONUNBUFFERED=1 (``python -u``; many container images set it) the text layer of
    stdout writes once to the file below it and drops what a partial write left: ``export -f
    html -o - | head -c 10`` (half a megabyte, more than a pipe holds: the reader leaves
    mid-write) exited 0, as if all had been written, not 141. The rest is written again now,
    and the closed pipe is met. A reader that stays gets every byte, as when buffered."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("LINEAGE_GRAPH_STORE", None)
    env.pop("PYTHONUNBUFFERED", None)
    command = [sys.executable, "-m", "lineage_graph.cli", "export", "-f", "html", "-o", "-"]
    command += ["--store", str(demo.path)]
    buffered = subprocess.run(command, capture_output=True, env=env, timeout=120, check=True)
    env["PYTHONUNBUFFERED"] = "1"
    whole = subprocess.run(command, capture_output=True, env=env, timeout=120, check=True)
    assert whole.stdout == buffered.stdout and len(whole.stdout) > 1 << 18
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as p:
        assert p.stdout is not None and p.stderr is not None
        assert p.stdout.read(10)
        p.stdout.close()
        err = p.stderr.read().decode()
        code = p.wait(timeout=120)
    assert code == ExitCode.BROKEN_PIPE, err
    assert err.strip() == ""
