"""Output for people on a narrow terminal (or ``COLUMNS=40`` in a pipe): every cell whole.

rich cut cells it had no room for: at 40 columns the entities table (``ls``, ``show``,
``diff``, ``cached``) kept its dates and printed blank or ``…`` cells instead of the ids, kinds,
types, names and uris; ``impact`` showed ``Deployme…``, ``ls types`` ``Arti…``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph import Artifact, LineageStore
from lineage_graph.cli import ExitCode

from .conftest import Demo, invoke

NARROW = {"COLUMNS": "40"}


def test_a_narrow_listing_keeps_every_id_and_name(demo: Demo) -> None:
    result = demo.cli("ls", env=NARROW)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout, result.stdout
    ids = {int(m[1]) for m in re.finditer(r"^[│ ]{0,4}(\d+) ", result.stdout, re.MULTILINE)}
    assert ids == {1, 2, 3, 4, 5}, result.stdout
    assert "DataSet" in result.stdout and "Model" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["ls", "executions"],
        ["ls", "contexts"],
        ["ls", "types"],
        ["show", "5"],
        ["impact", "1"],
        ["diff", "4", "5"],
        ["compare", "4", "5"],
        ["stats"],
        ["doctor"],
    ],
    ids=" ".join,
)
def test_no_narrow_table_cuts_a_cell(demo: Demo, args: list[str]) -> None:
    result = demo.cli(*args, env=NARROW)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout, result.stdout
    if args[0] in ("ls", "show", "diff"):  # entities tables: an id in front of each row
        assert re.search(r"^[│\s]*\d+\s", result.stdout, re.MULTILINE), result.stdout


def test_a_written_path_is_printed_on_one_line(demo: Demo, tmp_path: Path) -> None:
    """``viewer page written to /long/path`` was wrapped at the console width, the path cut
    over two lines (what a script reading the line, or a person copying it, gets wrong)."""
    target = tmp_path / ("a-long-directory-name-" * 3) / "the-page-of-the-deployed-model.html"
    result = demo.cli("view", "5", "--no-open", "-o", str(target), env=NARROW)
    assert result.exit_code == 0, result.output
    assert f"viewer page written to {target}\n" in result.stderr, result.stderr
    for option, written in (
        ("-o", target.with_suffix(".json")),
        ("--plot", target.with_suffix(".png")),
    ):
        command = ["export", "5"] if option == "-o" else ["stats"]
        result = demo.cli(*command, option, str(written), env=NARROW)
        assert result.exit_code == 0, result.output
        assert f" written to {written}\n" in result.stderr, result.stderr


def test_the_undo_token_is_printed_whole(tmp_path: Path) -> None:
    """At 40 columns the token went to a line of its own, cut from ``lineage-graph undo-mark``
    (a longer line would have cut the token itself)."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        with store.run("Ingest") as run:
            data = run.output(Artifact(type="DataSet", uri="/d"))
        with store.run("Train", inputs=[data]) as run:
            run.output(Artifact(type="Model", uri="/m"))
    result = invoke(["impact", "1", "--mark", "bad=true", "--store", str(path)], env=NARROW)
    assert result.exit_code == 0, result.output
    match = re.search(r"^  lineage-graph undo-mark (\S+)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    undo = invoke(["undo-mark", match[1], "--store", str(path)], env=NARROW)
    assert undo.exit_code == 0 and "restored 2 artifacts" in undo.stdout, undo.output


def test_a_long_property_name_leaves_its_value_shown(tmp_path: Path) -> None:
    """At 80 columns (a pipe's width) a custom property named with 120 characters was cut to
    ``kkk…`` and every value of the table vanished: the name column did not wrap and left the
    value column no room."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store, store.run("R") as run:
        run.output(Artifact(type="D", uri="/u", custom_properties={"k" * 120: "v1", "k2": "v2"}))
    result = invoke(["show", "1", "--store", str(path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout, result.stdout
    assert "v1" in result.stdout and "v2" in result.stdout, result.stdout
    section = result.stdout.split("custom properties")[1].split("produced by")[0]
    assert section.count("k") == 121, result.stdout  # the long name folded, not cut, and k2


def test_show_never_crops_the_label_over_its_panel(tmp_path: Path) -> None:
    """``show`` put ``Type #id uri [STATE]`` in the panel's title, which rich crops to the
    panel's width without a mark: a 120-character uri showed cut, as if it were the whole uri,
    and the state was gone."""
    path = tmp_path / "store"
    uri = "s3://bucket/" + "p" * 100 + "/file.csv"
    with LineageStore.open(path) as store, store.run("R") as run:
        run.output(Artifact(type="D", uri=uri))
    result = invoke(["show", "1", "--store", str(path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    head = result.stdout.split("╭")[0]  # what comes before the panel
    assert uri in "".join(head.split()) and "[LIVE]" in head, result.stdout
    short = invoke(["show", "1", "--store", str(path)], env={"COLUMNS": "200"})
    assert short.stdout.startswith(f"╭─ D #1 {uri} [LIVE] ─"), short.stdout


def test_a_long_uri_alone_keeps_the_boxes(tmp_path: Path) -> None:
    """A uri wider than the terminal wraps inside its boxed column: only a width that leaves
    a wrapping column fewer than 8 columns drops the boxes."""
    path = tmp_path / "store"
    uri = "s3://bucket/" + "p" * 100 + "/file.csv"
    with LineageStore.open(path) as store, store.run("R") as run:
        run.output(Artifact(type="D", uri=uri))
    result = invoke(["ls", "--store", str(path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0 and "┏" in result.stdout, result.output
    cells = [line.split("│")[4].strip() for line in result.stdout.splitlines() if "│" in line]
    assert "".join(cells) == uri, result.stdout  # the uri column, line after line


def test_columns_0_is_not_a_width_of_nothing(demo: Demo) -> None:
    """rich took COLUMNS=0 (set by some CI runners and pseudo-terminals of unknown size) as a
    width of 0: every table, tree and message came out empty, exit 0, and 'impact --mark'
    applied its mark without printing the token that undoes it. Such output is 80 wide now."""
    zero = {"COLUMNS": "0"}
    listed = demo.cli("ls", env=zero)
    assert listed.exit_code == 0 and "churn-C1.0" in listed.stdout, listed.output
    missing = demo.cli("show", "4242", env=zero)
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert "no artifact with id 4242" in missing.stderr
    marked = demo.cli("impact", "4", "--mark", "reviewed=columns-0", env=zero)
    assert marked.exit_code == 0, marked.output
    token = marked.stdout.split("lineage-graph undo-mark ")[1].split()[0]
    assert demo.store.undo_impact_mark(token) == 1
    # typer's own help, through the console script
    helped = subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", "ls", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **zero},
    )
    assert helped.returncode == 0 and "--limit" in helped.stdout, helped.stderr


@pytest.mark.parametrize("columns", ["1", "10"])
def test_a_tiny_width_leaves_no_column_out(demo: Demo, columns: str) -> None:
    """Narrower than a table's columns, rich left whole columns out, exit 0: ``COLUMNS=10 ls``
    showed no kind and no name, ``COLUMNS=1 ls`` no row at all and ``doctor`` no check. The
    commands draw at least 20 columns wide now (the terminal wraps the longer lines)."""
    listed = demo.cli("ls", env={"COLUMNS": columns})
    assert listed.exit_code == 0, listed.output
    # a row's first line: its id, then the start of its kind ('artifact', folded)
    rows = re.findall(r"^ *(\d+) +(ar\S*) ", listed.stdout, re.MULTILINE)
    assert sorted(int(i) for i, _ in rows) == [1, 2, 3, 4, 5], listed.stdout
    checked = demo.cli("doctor", env={"COLUMNS": columns})
    assert checked.exit_code == 0, checked.output
    assert "✓ schema" in checked.stdout, checked.stdout


@pytest.mark.parametrize("columns", ["1", "10"])
def test_help_under_20_columns_lists_the_commands(columns: str) -> None:
    """typer's own help and usage errors (through the console script) print through a rich
    console of their own: ``COLUMNS=1 lineage-graph --help`` printed four box corners, exit 0,
    and no command; a usage error came one letter a line. They are 20 wide too."""
    env = {**os.environ, "COLUMNS": columns, "NO_COLOR": "1"}
    env.pop("LINEAGE_GRAPH_STORE", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lineage_graph.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    helped = run("--help")
    assert helped.returncode == 0, helped.stderr
    for command in ("upstream", "downstream", "impact", "doctor"):
        assert command in helped.stdout, helped.stdout
    refused = run("ls", "--bogus")
    assert refused.returncode == ExitCode.USAGE
    assert "No such option" in refused.stderr, refused.stderr
