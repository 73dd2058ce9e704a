"""One Ctrl-C ends a ``python -m lineage_graph.cli`` run with ``error: interrupted`` and exit 130
wherever it lands: not lost in a finalizer (the run went on, exit 0), not taken by CPython for
an unhandled one after the CLI had handled it (the process then killed itself with SIGINT).
Real processes run as ``python -m`` (the console script ends through another path, which never
read CPython's mark); a real SIGINT, raised by the child itself at the point under test (as the
group reads its arguments, where ``tests/cli/test_start_interrupt.py`` raises one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests._signals import SIGINT_AS_IN_A_TERMINAL

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
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
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


#: The demo, with a real SIGINT raised (once) inside the first ``collections.abc.Sequence``
#: registration made while the demo trains: a Cython module's set-up (numpy.random's, under
#: scikit-learn's import) registers its memoryview types so, under a bare ``except: pass``.
IN_CYTHON_SETUP = """
import collections.abc
import signal
import sys
from pathlib import Path

register = type(collections.abc.Sequence).register
sent = Path(sys.argv[2])


def training():
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "_train" and frame.f_code.co_filename.endswith("_demo.py"):
            return True
        frame = frame.f_back
    return False


def registered(cls, subclass):
    if cls is collections.abc.Sequence and not sent.exists() and training():
        sent.write_text(subclass.__module__)
        signal.raise_signal(signal.SIGINT)
        len("a call: the handler runs here")
    return register(cls, subclass)


type(collections.abc.Sequence).register = registered
from lineage_graph.cli import main

sys.argv = ["lineage-graph", "demo", "--dir", sys.argv[1]]
main()
"""


def test_a_ctrl_c_in_scikit_learns_import_is_not_swallowed(tmp_path: Path) -> None:
    """The demo ran to its end (exit 0, not a word on stderr) after a Ctrl-C that landed in a
    Cython module's set-up, whose bare ``except`` took the KeyboardInterrupt; it is held
    through the import and delivered once it is done."""
    pytest.importorskip("sklearn")
    sent = tmp_path / "SENT"
    env = {k: v for k, v in os.environ.items() if k not in ("LINEAGE_GRAPH_STORE", "NEO4J_URI")}
    proc = subprocess.run(
        [sys.executable, "-c", IN_CYTHON_SETUP, str(tmp_path / "demo"), str(sent)],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=120,
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
    )
    assert sent.exists(), "no Sequence registration while the demo trained"
    assert proc.stderr.strip() == "error: interrupted", proc.stderr
    assert proc.returncode == 130
