"""One Ctrl-C ends a ``python -m lineage_graph.cli`` run with ``error: interrupted`` and exit 130
wherever it lands: not lost in a finalizer (the run went on, exit 0), not taken by CPython for
an unhandled one after the CLI had handled it (the process then killed itself with SIGINT).
Real processes run as ``python -m`` (the console script ends through another path, which never
read CPython's mark); a real SIGINT, raised by the child itself at the point under test (as the
group reads its arguments, where ``tests/cli/test_start_interrupt.py`` raises one)."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: A module run as ``python -m`` that runs the CLI as ``python -m lineage_graph.cli`` does,
#: once ``_ascii_help`` (called as the command line is read) raises a SIGINT as %(how)s.
CHILD = """
import runpy
import signal
import sys
import weakref

from lineage_graph.cli import _app


def in_exec(group):
    # as scipy's array_api_compat does under scikit-learn's import (the demo's training):
    # exec("from numpy import *"), which a Ctrl-C landed in
    exec("import signal\\nsignal.raise_signal(signal.SIGINT)\\nprint('not interrupted')")


class Lock:
    pass


def in_finalizer(group):
    # as importlib's module locks are freed (a weakref callback), which a Ctrl-C landed in
    def freed(ref):
        signal.raise_signal(signal.SIGINT)
        len("a call: the handler runs here, in the callback")

    lock = Lock()
    ref = weakref.ref(lock, freed)
    del lock


_app._ascii_help = %(how)s
sys.argv[0] = "lineage-graph"
runpy.run_module("lineage_graph.cli", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("how", ["in_exec", "in_finalizer"])
def test_one_ctrl_c_says_interrupted_and_exits_130(tmp_path: Path, how: str) -> None:
    (tmp_path / "child_cli.py").write_text(CHILD % {"how": how}, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    env.pop("LINEAGE_GRAPH_STORE", None)
    env.pop("NEO4J_URI", None)
    proc = subprocess.run(
        [sys.executable, "-m", "child_cli", "--version"],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        # SIGINT handled by Python, as in a terminal (a CI runner's background job ignores it)
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    stderr = proc.stderr.decode(errors="replace")
    # in a finalizer: "Exception ignored in: <function ...freed>", the version printed, exit 0;
    # in exec: the message, then death by SIGINT (-2), CPython's exit for an unhandled one
    assert "Exception ignored" not in stderr, stderr
    assert stderr.strip() == "error: interrupted", stderr
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert proc.stdout == b""


def test_a_ctrl_c_lost_in_a_finalizer_is_raised_where_the_code_goes_on() -> None:
    """In this process: the KeyboardInterrupt that Python ignored in a weakref callback is
    raised at the next call after it (the list's append), not at the end of the block."""
    import weakref

    from lineage_graph._interrupts import interrupts_kept

    class Lock:
        pass

    def freed(ref: object) -> None:
        signal.raise_signal(signal.SIGINT)
        len("a call: the handler runs here, in the callback")

    went_on: list[str] = []
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    try:
        with pytest.raises(KeyboardInterrupt), interrupts_kept():
            lock = Lock()
            ref = weakref.ref(lock, freed)
            del lock
            went_on.append("went on")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert ref() is None
    assert went_on == []
    assert sys.getprofile() is None
