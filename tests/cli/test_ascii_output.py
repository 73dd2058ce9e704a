"""The CLI on a stdout that cannot encode every character (``PYTHONIOENCODING=ascii``, a C
locale without Python's UTF-8 mode): its own symbols fall back to ASCII rather than printing as
the escapes stored text is shown with, and escaped stored text keeps the boxes in line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph import Artifact, LineageStore

from .conftest import Demo, on_a_terminal

ROOT = Path(__file__).resolve().parents[2]


def ascii_run(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120", "NO_COLOR": "1"}
    env.update(PYTHONIOENCODING="ascii", LINEAGE_GRAPH_STORE=str(store))
    env.pop("NEO4J_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", *args],
        capture_output=True,
        text=True,
        encoding="ascii",
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "escaped"),
    [
        (["upstream", "5"], "\\u25c6"),  # the tree's execution mark
        (["doctor"], "\\xb7"),  # a line of information, and "installed \u2014 ..."
        (["stats"], "\\xb7"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_the_clis_own_symbols_fall_back_to_ascii(demo: Demo, args: list[str], escaped: str) -> None:
    """``upstream 5`` printed ``\\u25c6 Trainer #4``, doctor ``\\xb7`` and ``\\u2014``: the
    escapes a stored name's invisible characters are shown as, read as part of the name."""
    done = ascii_run(demo.path, *args)
    assert "Traceback" not in done.stderr, done.stderr[-800:]
    assert "\\u25c6" not in done.stdout and "\\xb7" not in done.stdout, done.stdout[:800]
    assert "\\u2014" not in done.stdout and "\\u2192" not in done.stdout, done.stdout[:800]
    assert escaped not in done.stdout


def test_escaped_stored_text_keeps_the_boxes_in_line(tmp_path: Path) -> None:
    """A name ``données`` is printed ``donn\\xe9es`` on an ASCII stdout, escaped by the stream
    after rich had measured the text one cell a character: the right border of its row (and of
    ``show``'s panel) stood out three columns per character. It is escaped before it is drawn."""
    store = tmp_path / "store"
    with LineageStore.open(store) as s, s.run("Ingest") as run:
        run.output(Artifact(type="DataSet", uri="s3://b/données.csv", name="données-é"))
    for args in (["ls"], ["show", "1"], ["ls", "--name", "é"]):
        done = ascii_run(store, *args)
        assert done.returncode == 0, done.stderr[-800:]
        assert "donn\\xe9es-\\xe9" in done.stdout
        boxes: list[list[str]] = [[]]  # each run of box lines, one table or panel
        for line in done.stdout.splitlines():
            if line[:1] in ("+", "|"):
                boxes[-1].append(line)
            elif boxes[-1]:
                boxes.append([])
        assert boxes[0], done.stdout
        for box in boxes:
            assert len({len(line) for line in box}) <= 1, "\n".join(box)


@pytest.mark.parametrize("args", [["--help"], ["ls", "--help"], ["upstream", "-h"]], ids=" ".join)
def test_help_on_an_ascii_stdout_is_ascii_and_in_line(tmp_path: Path, args: list[str]) -> None:
    """``--help`` printed the help's ``→`` and ``…`` as ``\\u2192`` and ``\\u2026``, each line
    holding one three to five columns wider than its box."""
    done = ascii_run(tmp_path / "none", *args)
    assert done.returncode == 0, done.stderr[-800:]
    assert "\\u2" not in done.stdout and "\\x" not in done.stdout, done.stdout
    boxed = [line for line in done.stdout.splitlines() if line[:1] in ("+", "|")]
    assert boxed and len({len(line) for line in boxed}) == 1, done.stdout


def test_a_written_page_is_the_same_whatever_stdouts_encoding(tmp_path: Path) -> None:
    """Files are UTF-8: the page's title keeps ``données`` and the execution mark, on an ASCII
    stdout as on any other (the escaping for stdout is for stdout only)."""
    store = tmp_path / "store"
    with LineageStore.open(store) as s, s.run("Entraîner") as run:
        run.output(Artifact(type="DataSet", uri="s3://b/données.csv", name="données-é"))
    for ref, title in (("1", "DataSet #1 données-é [LIVE]"), ("e:1", "◆ Entraîner #1 [COMPLETE]")):
        page = tmp_path / "page.html"
        done = ascii_run(store, "export", ref, "-f", "html", "-o", str(page))
        assert done.returncode == 0, done.stderr[-800:]
        assert f"<title>Lineage of {title}</title>" in page.read_text("utf-8")


def test_a_message_is_escaped_for_stderr_when_stdout_is_closed(tmp_path: Path) -> None:
    """Messages were escaped for stdout's encoding: with stdout closed (``>&-``) none applied,
    and an ASCII stderr escaped ``é`` as ``\\xe9`` only after rich had wrapped the message at
    its width, one line running 150 columns past it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80", "NO_COLOR": "1"}
    env.update(PYTHONIOENCODING="ascii", LINEAGE_GRAPH_STORE=str(tmp_path / "store"))
    env.pop("NEO4J_URI", None)
    with LineageStore.open(tmp_path / "store") as s, s.run("Ingest") as run:
        run.output(Artifact(type="DataSet", uri="s3://b/x.csv", name="x"))
    ref = "DataSet/donn" + "é" * 50
    done = subprocess.run(
        ["sh", "-c", '"$@" >&-', "sh", sys.executable, "-m", "lineage_graph.cli", "show", ref],
        capture_output=True,
        text=True,
        encoding="ascii",
        timeout=120,
        env=env,
    )
    assert done.returncode == 3, done.stderr[-800:]
    assert "donn\\xe9\\xe9" in done.stderr
    assert max(len(line) for line in done.stderr.splitlines()) <= 80, done.stderr


def _on_a_terminal(store: Path, *args: str) -> tuple[int, bytes]:
    """``lineage-graph ARGS`` with stderr an ASCII terminal (stdout a pipe): its exit status
    and what the terminal was sent."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120", "TERM": "xterm"}
    env.update(PYTHONIOENCODING="ascii", LINEAGE_GRAPH_STORE=str(store))
    env.pop("NEO4J_URI", None)
    command = [sys.executable, "-m", "lineage_graph.cli", *args]
    done, shown = on_a_terminal(command, env, "stderr")
    return done.returncode, shown


@pytest.mark.parametrize(
    "args",
    [["stats"], ["export", "1", "-f", "html", "-o", "{tmp}/page.html"]],
    ids=lambda v: v[0],
)
def test_a_status_line_on_an_ascii_terminal_is_ascii(
    demo: Demo, tmp_path: Path, args: list[str]
) -> None:
    """The spinner's braille and the ``…`` of ``reading the store…`` printed as ``\\u280b`` and
    ``\\u2026`` on an ASCII terminal (rich swaps stderr while it draws: the text is made
    before)."""
    code, shown = _on_a_terminal(demo.path, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert code == 0, shown[-800:]
    assert b"..." in shown, shown[-800:]
    assert b"\\u2026" not in shown and b"\\u28" not in shown, shown[-800:]
