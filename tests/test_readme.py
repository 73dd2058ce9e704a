"""The README's promises, run as written: the quick-start commands, every Python example, the
``cached`` example (a hit on the demo store), and every ``lineage-graph`` command it mentions
exists.

Conventions the README keeps (so this test can read it):
* the first ```bash block is the quick start: its ``lineage-graph …`` lines are run in a fresh
  directory (``pip install`` lines are CI's job, ``python -m pytest`` is this very run);
* every ```python block runs as-is, in a fresh directory, and must not touch the network.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lineage_graph.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
ENV = {"COLUMNS": "200", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None}


def blocks(language: str) -> list[str]:
    return [
        body for lang, body in BLOCK.findall(README.read_text(encoding="utf-8")) if lang == language
    ]


def commands(block: str) -> list[list[str]]:
    out = []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if line.startswith("lineage-graph"):
            out.append(shlex.split(line)[1:])
    return out


def test_readme_starts_with_the_quick_start_then_the_test_command() -> None:
    """Two set-up commands for a fresh machine (install, demo), then the one test command."""
    text = README.read_text(encoding="utf-8")
    start = re.match(r"# lineage-graph\n\n```bash\n(.*?)```\n\nTest: `(.*?)`\n", text, re.S)
    assert start, "README.md must open with the quick-start block and the `Test:` line"
    install, demo = start[1].strip().splitlines()
    assert install.startswith("pip install -e ") and demo == "lineage-graph demo"
    assert start[2] == "python -m pytest"
    python = blocks("python")[0]
    assert len(python.strip().splitlines()) <= 12, "the Python example is about ten lines"


def test_ci_installs_exactly_what_the_readme_installs() -> None:
    install = blocks("bash")[0].strip().splitlines()[0]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert f"python -m {install}\n" in ci


def test_quick_start_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    for args in commands(blocks("bash")[0]):
        result = CliRunner().invoke(app, args, env=ENV)
        assert result.exit_code == 0, f"lineage-graph {shlex.join(args)}:\n{result.output}"
    # The command table's `cached` example is a hit on the store the demo just made (it missed
    # when it gave the inputs without the properties the Trainer type declares).
    examples = re.findall(r"`lineage-graph (cached [^`]*)`", README.read_text(encoding="utf-8"))
    assert examples, "the README shows `lineage-graph cached …`"
    for example in examples:
        args = [*shlex.split(example), "--store", "lineage-demo/store"]
        result = CliRunner().invoke(app, args, env=ENV)
        assert result.exit_code == 0, f"lineage-graph {example}:\n{result.output}"
        assert "cache hit" in result.stdout


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_examples_run(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.delenv("LINEAGE_GRAPH_STORE", raising=False)
    code = blocks("python")[index]
    exec(compile(code, f"README.md python block {index + 1}", "exec"), {"__name__": "__readme__"})


def test_every_command_the_readme_mentions_exists() -> None:
    mentioned = {
        args[0]
        for lang, body in BLOCK.findall(README.read_text(encoding="utf-8"))
        if lang in ("bash", "sh", "console", "")
        for args in commands(body)
        if args and not args[0].startswith("-")
    }
    mentioned |= set(re.findall(r"`lineage-graph ([a-z][a-z-]*)", README.read_text("utf-8")))
    for command in sorted(mentioned):
        result = CliRunner().invoke(app, [command, "--help"], env=ENV)
        assert result.exit_code == 0, f"README mentions `lineage-graph {command}`: {result.output}"
