"""A Ctrl-C while ``lineage-graph`` starts (its modules still importing) ends as one during a
command does: ``error: interrupted``, exit 130, no traceback. Real processes, real SIGINTs: the
child stops inside the import of pydantic (the first of the command's heavy imports, which the
package's own import ran) until the parent has sent its SIGINT."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests._signals import SIGINT_AS_IN_A_TERMINAL

ROOT = Path(__file__).resolve().parents[2]

#: The console script (``from lineage_graph.cli import main; sys.exit(main())``), with an import
#: hook that says when pydantic is about to be imported and waits for a line on stdin.
CHILD = """
import sys

class Pause:
    def find_spec(self, name, path=None, target=None):
        if name == %(module)r:
            sys.meta_path.remove(self)
            sys.stdout.write("importing\\n")
            sys.stdout.flush()
            sys.stdin.readline()
        return None

sys.meta_path.insert(0, Pause())
from lineage_graph.cli import main
sys.argv[0] = "lineage-graph"
sys.exit(main())
"""


@pytest.mark.parametrize(
    ("module", "args"),
    [("pydantic", ["--help"]), ("typer", ["--version"]), ("rich.console", ["ls", "--store"])],
)
def test_a_ctrl_c_while_importing_says_interrupted(
    tmp_path: Path, module: str, args: list[str]
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("LINEAGE_GRAPH_STORE", None)
    env.pop("NEO4J_URI", None)
    if args[-1] == "--store":
        args = [*args, str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD % {"module": module}, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the child never reached the import"
        assert proc.stdout.readline() == b"importing\n"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
        out, err = proc.communicate(b"\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    stderr = err.decode()
    assert "Traceback" not in stderr
    assert stderr.strip() == "error: interrupted"
    assert proc.returncode == 130
    assert out == b""


@pytest.mark.parametrize("args", [["ls", "--help"], ["--version"], ["ls", "--json"]])
def test_a_ctrl_c_while_the_command_line_is_read_says_interrupted(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """A Ctrl-C (a real SIGINT, sent to this process) while typer reads the command line:
    typer ended the run with exit 130 and not a word."""
    from typer.testing import CliRunner

    from lineage_graph.cli import _app, app

    def interrupted(group: object) -> None:
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(_app, "_ascii_help", interrupted)  # called as the group reads its args
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    try:
        result = CliRunner().invoke(app, args, env={"NO_COLOR": "1", "COLUMNS": "200"})
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.exit_code == 130
    assert result.stderr.strip() == "error: interrupted"
    assert result.stdout == ""


#: As CHILD, pausing twice in the import: a line on stdin, then another. The first pause's
#: line is read only after a SIGINT sent before it was handled, so the parent knows the second
#: SIGINT is a second Ctrl-C (two sent at once would be one).
CHILD_TWICE = CHILD.replace(
    """            sys.stdout.write("importing\\n")
            sys.stdout.flush()
            sys.stdin.readline()""",
    """            for word in ("importing", "again"):
                sys.stdout.write(word + "\\n")
                sys.stdout.flush()
                sys.stdin.readline()""",
)


def test_a_second_ctrl_c_in_an_import_still_says_interrupted(tmp_path: Path) -> None:
    """The first Ctrl-C is held until the imports end; a second one is raised where it lands,
    here inside asyncio's own import (under pydantic), which leaves asyncio's submodules
    imported and asyncio not: the message's printing imported it again and failed (NameError:
    name 'coroutines' is not defined, a traceback and exit 1, "the answer is no")."""
    assert CHILD_TWICE != CHILD
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("LINEAGE_GRAPH_STORE", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_TWICE % {"module": "asyncio.locks"}, "--version"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        for word in (b"importing\n", b"again\n"):
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, f"the child never said {word!r}"
            assert proc.stdout.readline() == word
            os.killpg(proc.pid, signal.SIGINT)
            if word == b"importing\n":
                proc.stdin.write(b"\n")
                proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    stderr = err.decode()
    assert "Traceback" not in stderr, stderr
    assert stderr.strip() == "error: interrupted"
    assert proc.returncode == 130
    assert out == b""
