"""typer's own output (help, usage, completion scripts) held to the commands' rules: a closed
stdout is exit 141, the help of a usage error goes to stderr, no width past
:data:`~lineage_graph.cli._common.MAX_WIDTH`, and the shell named is the one completed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from lineage_graph.cli import ExitCode
from lineage_graph.cli._common import MAX_WIDTH

from .conftest import Demo, invoke, on_a_terminal

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, closed_stdout: bool = False, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m lineage_graph.cli ARGS`` (``>&-`` with ``closed_stdout``; ``HOME=home``, so
    an ``--install-completion`` changes nothing of the user's)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1"}
    if home is not None:
        env["HOME"] = str(home)
    env.pop("NEO4J_URI", None)
    env["LINEAGE_GRAPH_STORE"] = ""
    command = [sys.executable, "-m", "lineage_graph.cli", *args]
    if closed_stdout:
        command = ["sh", "-c", '"$@" >&-', "sh", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("args", [["--help"], ["ls", "-h"], ["show", "--help"]], ids=" ".join)
def test_help_to_a_closed_stdout_is_a_closed_pipe(args: list[str]) -> None:
    """``lineage-graph --help >&-`` exited 0 with nothing printed: rich wrote to no file."""
    done = run(*args, closed_stdout=True)
    assert done.returncode == ExitCode.BROKEN_PIPE, done.stderr[-500:]
    assert "Traceback" not in done.stderr


def test_no_arguments_is_a_usage_error_with_the_help_on_stderr() -> None:
    """``lineage-graph`` alone printed its help on stdout, exit 2: a usage error's text
    belongs on stderr (click 8.2+ puts it there), stdout is for answers."""
    result = invoke([])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stdout == ""
    assert "Usage: lineage-graph" in result.stderr and "upstream" in result.stderr
    helped = invoke(["--help"])  # asked for: the answer, on stdout
    assert helped.exit_code == 0 and "Usage: lineage-graph" in helped.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["ls", "-h"],
        ["ls", "--bogus"],
        ["ls"],
        ["show", "5"],
        ["doctor"],
        ["upstream", "5"],
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("columns", ["99999999999999999999", "5000"])
def test_an_absurd_width_is_capped(demo: Demo, args: list[str], columns: str) -> None:
    """``COLUMNS=99999999999999999999 lineage-graph --help`` ended in rich's OverflowError
    ("Error in sys.excepthook"), exit 1, and ``COLUMNS=2147483648`` padded every line of the
    help or of ``show`` for minutes: help and output are drawn at most MAX_WIDTH wide."""
    store = [] if "-h" in args or "--help" in args else ["--store", str(demo.path)]
    result = invoke([*args, *store], env={"COLUMNS": columns})
    assert result.exit_code == (2 if "--bogus" in args else 0), result.output[-1000:]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert len(lines) > 3
    assert max(len(line) for line in lines) <= MAX_WIDTH


@pytest.mark.parametrize(
    ("shell", "starts"),
    [
        ("zsh", "#compdef lineage-graph"),
        ("fish", "complete --command lineage-graph"),
        ("powershell", "Import-Module PSReadLine"),
        ("bash", "_lineage_graph_completion()"),
    ],
)
def test_show_completion_prints_the_shell_named(tmp_path: Path, shell: str, starts: str) -> None:
    """``--show-completion zsh`` printed the bash script (typer's flag takes no value: the
    shell it detected, ignoring the one named)."""
    done = run("--show-completion", shell, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(starts), done.stdout[:200]


@pytest.mark.parametrize("shell", [["bash"], ["zsh"], []], ids=lambda a: " ".join(a) or "detected")
@pytest.mark.parametrize("stdout", ["closed", "closed pipe"])
def test_a_completion_script_to_a_closed_stdout_is_a_closed_pipe(
    tmp_path: Path, shell: list[str], stdout: str
) -> None:
    """``--show-completion bash >&-`` exited 0 with no script written (click's echo writes
    nothing to a closed stdout), and ``--show-completion bash | true`` exited 1 ("the answer
    is no"): as every other output, 141."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    # run from bash, the shell detected without a name (typer asks the parent processes);
    # "; exit $?" keeps bash the parent (it execs a lone command: the shell found was then
    # the test runner's parent's, none when the runner was started in the background)
    redirect = " >&-" if stdout == "closed" else ""
    command = ["bash", "-c", f'"$@"{redirect}; exit $?', "bash"]
    command += [sys.executable, "-m", "lineage_graph.cli", "--show-completion", *shell]
    if stdout == "closed":
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    else:
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader is gone before the script is written
        try:
            done = subprocess.run(
                command,
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
                timeout=120,
                env=env,
            )
        finally:
            os.close(write_end)
    assert done.returncode == ExitCode.BROKEN_PIPE, done.stderr[-500:]
    assert done.stderr == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
def test_a_detected_shell_without_completion_is_a_usage_error(tmp_path: Path, option: str) -> None:
    """Run from ``sh`` without a shell named, ``--show-completion`` said "Shell sh not
    supported." and exited 1 ("the answer is no"), ``--install-completion`` said it on stdout:
    a usage error (exit 2) on stderr, as for a shell named that has no script."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    done = subprocess.run(
        ["sh", "-c", '"$@"', "sh", sys.executable, "-m", "lineage_graph.cli", option],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == ExitCode.USAGE, done.stdout + done.stderr
    assert done.stdout == ""
    assert "Shell sh" in done.stderr and f"{option} bash" in " ".join(done.stderr.split())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
@pytest.mark.parametrize("shell", ["tcsh", "''"])
def test_a_shell_without_completion_is_a_usage_error(
    tmp_path: Path, option: str, shell: str
) -> None:
    """``--show-completion tcsh`` printed the bash script, ``--install-completion tcsh``
    installed it into the current shell: a shell typer has no script for is refused, and
    nothing is installed."""
    done = run(option, "" if shell == "''" else shell, home=tmp_path)
    assert done.returncode == ExitCode.USAGE, done.stdout[:200] + done.stderr
    assert "not a shell lineage-graph has completion for" in done.stderr
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("first", "says"), [("-h", "Usage: lineage-graph"), ("--version", "lineage-graph ")]
)
@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
def test_an_option_before_the_completion_flag_is_answered_first(
    tmp_path: Path, first: str, says: str, option: str
) -> None:
    """click answers eager options in the order given: ``-h --show-completion zsh`` printed
    the zsh script (and ``-h --install-completion zsh`` installed it), not the help."""
    done = run(first, option, "zsh", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert says in done.stdout[:400], done.stdout[:200]
    assert "compdef" not in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_typer_floor_reads_the_store_from_the_environment() -> None:
    """typer 0.26.0 ignores an option's ``envvar``: ``LINEAGE_GRAPH_STORE=/mistyped ls`` made a
    new empty store there and listed it, exit 0 (``--store`` was None, the library read the
    variable itself, past the CLI's "no store at PATH" check). 0.26.1 reads it again."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    (typer,) = (r for r in project["dependencies"] if r.startswith("typer"))
    floor = re.fullmatch(r"typer>=([0-9.]+)", typer)
    assert floor is not None, typer
    assert tuple(map(int, floor[1].split("."))) >= (0, 26, 1), typer


@pytest.mark.parametrize(
    ("shell", "installed"),
    [
        ("bash", ".bash_completions/lineage-graph.sh"),
        ("zsh", ".zfunc/_lineage-graph"),
        ("fish", ".config/fish/completions/lineage-graph.fish"),
    ],
)
def test_install_completion_installs_and_says_so(
    tmp_path: Path, shell: str, installed: str
) -> None:
    """typer's install, its output now captured and written as the commands write theirs,
    still writes the script, says where, and exits 0 (in a temporary HOME)."""
    done = run("--install-completion", shell, home=tmp_path)
    assert done.returncode == 0, done.stderr[-800:]
    assert f"{shell} completion installed in {tmp_path / installed}" in done.stdout
    assert (tmp_path / installed).is_file()


def test_an_install_completion_that_cannot_write_is_said(tmp_path: Path) -> None:
    """A ``.bashrc`` that cannot be written (here a directory), or ``powershell`` not installed
    (typer runs it to find its profile), was an OSError traceback, exit 1 ("the answer is
    no"): now a message on stderr, exit 5."""
    (tmp_path / ".bashrc").mkdir()
    done = run("--install-completion", "bash", home=tmp_path)
    assert done.returncode == ExitCode.ERROR, done.stderr[-800:]
    assert "Traceback" not in done.stderr
    said = " ".join(done.stderr.split())
    assert said.startswith("error: --install-completion: is a directory:"), said
    assert ".bashrc" in said

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "PATH": str(tmp_path)}
    command = [sys.executable, "-m", "lineage_graph.cli", "--install-completion", "powershell"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == ExitCode.ERROR, done.stderr[-800:]
    assert "Traceback" not in done.stderr
    assert "powershell" in done.stderr


def test_install_completion_on_a_terminal_is_coloured_as_typer_colours_it(tmp_path: Path) -> None:
    """Captured to be written as the commands write, typer's green ``bash completion installed
    in ...`` lost its colour on a terminal (click colours for a terminal only)."""

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    command = [sys.executable, "-m", "lineage_graph.cli", "--install-completion", "bash"]
    done, shown = on_a_terminal(command, env, "stdout", until=b"restart the terminal")
    assert done.returncode == 0, done.stderr[-800:]
    assert b"\x1b[32mbash completion installed in" in shown, shown


@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
def test_no_shell_detected_is_said_as_such(tmp_path: Path, option: str) -> None:
    """When shellingham finds no shell among the process's parents, typer's message was quoted
    as "Shell  not supported" (``--show-completion``) or "Shell None is not supported"."""
    program = (
        "import sys, shellingham\n"
        "def undetected(*args, **kwargs):\n"
        "    raise shellingham.ShellDetectionFailure()\n"
        "shellingham.detect_shell = undetected\n"
        f"sys.argv = ['lineage-graph', {option!r}]\n"
        "from lineage_graph.cli import main\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == ExitCode.USAGE, done.stderr[-800:]
    assert f"{option}: cannot tell which shell this is; name a shell" in done.stderr
    assert list(tmp_path.iterdir()) == []
