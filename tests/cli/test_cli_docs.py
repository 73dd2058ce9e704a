"""docs/cli.md against the real command line: every option it names exists on the command it
names it for, every option a command has is documented, its examples run, and the exit codes
and messages it states are the ones a user gets (on the demo store)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main

from lineage_graph.cli import app

from .conftest import Demo, invoke

CLI_MD = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
TEXT = CLI_MD.read_text(encoding="utf-8")
GROUP = typer.main.get_command(app)
COMMANDS: dict[str, Any] = dict(GROUP.commands)  # type: ignore[attr-defined]
LINEAGE_COMMANDS = ("upstream", "downstream", "export", "view")
# An option as the doc writes it: `--stop-at-*` is a family, not an option.
OPTION = re.compile(r"(?<![\w-])(--?[a-z](?:[a-z-]*[a-z])?)(?![\w*-])")


def options(command: Any) -> set[str]:
    """The command's options, ``--help`` / ``-h`` included (every command has them)."""
    names = {o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
    return names | {"--help", "-h"}


def documented_in_row(name: str) -> set[str]:
    """The options the command table's row of ``name`` names (a code span quoting another
    command, "`impact --mark…`" in undo-mark's row, is that command's)."""
    (row,) = [line for line in TEXT.splitlines() if re.match(rf"\| `{name}[ `]", line)]
    found = set()
    for span in re.findall(r"`([^`]*)`", row):
        first = span.removeprefix("lineage-graph ").split(" ", 1)[0]
        if first in COMMANDS and first != name:
            continue
        found |= set(OPTION.findall(span))
    return found


def lineage_options() -> set[str]:
    """The first column of the "Lineage options" table."""
    section = TEXT.split("## Lineage options", 1)[1].split("```", 1)[0]
    cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `-")]
    return {o for cell in cells for o in OPTION.findall(cell)}


def common_options() -> set[str]:
    """What every command takes, documented once at the top (before "## Naming an entity")."""
    intro = TEXT.split("## Naming an entity", 1)[0]
    common = {"--store", "-s", "--json", "--help", "-h"}
    missing = {o for o in common if not re.search(rf"`[^`]*{re.escape(o)}\b[^`]*`", intro)}
    assert not missing, f"docs/cli.md's introduction does not name {sorted(missing)}"
    return common


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_is_documented_and_every_documented_option_exists(name: str) -> None:
    real = options(COMMANDS[name])
    row = documented_in_row(name)
    assert row <= real, f"docs/cli.md names {sorted(row - real)} for `{name}`: no such option"
    naming = TEXT.split("## Naming an entity", 1)[1].split("\n## ", 1)[0]
    documented = row | common_options() | (set(OPTION.findall(naming)) & real)
    if name in LINEAGE_COMMANDS:
        assert lineage_options() <= real, sorted(lineage_options() - real)
        documented |= lineage_options()
    assert real <= documented, f"`{name}` has {sorted(real - documented)}, not in docs/cli.md"


def test_the_top_level_options_are_documented() -> None:
    real = {o for p in GROUP.params for o in p.opts}
    assert real, "lineage-graph has top-level options"
    for option in real:
        assert f"`lineage-graph {option}`" in TEXT or f"`{option}`" in TEXT, option


def test_every_command_is_in_the_table_and_nothing_else() -> None:
    rows = set(re.findall(r"^\| `([a-z][a-z-]*)[ `]", TEXT.split("## Commands", 1)[1], re.M))
    assert rows == set(COMMANDS)


def test_the_examples_run_on_the_demo_store(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bash blocks, where the demo ran (its ids: 1 is customers.csv, 5 the deployed model)."""
    (tmp_path / "lineage-demo").symlink_to(demo.result.workdir)
    monkeypatch.chdir(tmp_path)
    env = {"LINEAGE_GRAPH_STORE": "lineage-demo/store"}  # the second block's `export`
    ran = 0
    for block in re.findall(r"^```bash\n(.*?)^```", TEXT, re.S | re.M):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if not line.startswith("lineage-graph") or line.startswith("lineage-graph demo"):
                continue  # `export LINEAGE_GRAPH_STORE=…` is `env`; the demo: test_demo.py
            args = shlex.split(line)[1:]
            result = invoke(args, env=env)
            assert result.exit_code == 0, f"{line}:\n{result.output}"
            ran += 1
    assert ran >= 6


# (arguments, exit code, text the output holds): each a sentence of docs/cli.md.
CLAIMS = [
    # "Different types, or not artifacts: exit 5."
    (["compare", "1", "4"], 5, "of one type"),
    (["compare", "1", "e:2"], 5, "takes two artifacts"),
    # cached: "on the demo store `cached Trainer -i 2 -i 3` misses" (exit 1); a type name is
    # case-sensitive, which the message says; "-i names an artifact (an execution…: exit 2)".
    (["cached", "Trainer", "-i", "2", "-i", "3"], 1, "no cache hit"),
    (["cached", "trainer", "-i", "2", "-i", "3"], 1, "case-sensitive"),
    (["cached", "Trainer", "-i", "e:2"], 2, "takes an artifact"),
    # ls --state: "any case (`ls --state live`…); another (`--state SHINY`, `ls executions
    # --state live`), or `--state` with contexts or types: exit 2"; "`--uri` or `--context`
    # with types: exit 2"; "a list cut there says so on stderr (with `--json` too; how many more
    # on an unfiltered first page)".
    (["ls", "--state", "live"], 0, "customers.csv"),
    (["ls", "executions", "--state", "failed"], 0, ""),
    (["ls", "--state", "SHINY"], 2, "SHINY"),
    (["ls", "executions", "--state", "live"], 2, "not an execution state"),
    (["ls", "contexts", "--state", "LIVE"], 2, "no state"),
    (["ls", "types", "--state", "LIVE"], 2, "no state"),
    (["ls", "types", "--uri", "x"], 2, "no uri"),
    (["ls", "types", "--context", "x"], 2, "no context"),
    (["ls", "--limit", "2"], 0, "3 more"),
    (["ls", "--limit", "2", "--json"], 0, "3 more"),  # "(on stderr, with `--json` too)"
    (["ls", "executions", "--uri", "x"], 2, "no uri"),  # "`--uri` with executions … exit 2"
    # "Exit 3 for an unknown or already undone token."; "3: the entity named does not exist"
    (["undo-mark", "0123456789abcdef"], 3, "no impact mark"),
    (["show", "999"], 3, "no artifact with id 999"),
    (["show", "e:Trainer/nightly"], 3, "named 'nightly'"),
    # references: `Model/churn-v1`-style names and a local path finding the file:// URI
    (["show", "Model/churn-C1.0"], 0, "churn-C1.0"),
    # export: "the other lineage options need a `REF`: exit 2"; "a warning on stderr says so"
    (["export", "--depth", "2"], 2, "need a start entity"),
    # ... `--kind` too (it exported the whole store, the kind ignored)
    (["export", "--kind", "execution"], 2, "--kind needs a start entity"),
    (["export", "4", "--kind", "execution", "-f", "mermaid"], 0, "Trainer #4"),
    (["export", "--limit", "2", "-f", "mermaid"], 0, "only the first 2"),
    # stats --plot: "another [extension] or none: exit 2"
    (["stats", "--plot", "counts.txt"], 2, ".txt"),
    (["stats", "--plot", "counts"], 2, "no extension"),
    # exit 2: "`--as-of yesterday`, `--where x`, a cursor of another question"
    (["upstream", "5", "--as-of", "yesterday"], 2, "--as-of"),
    (["upstream", "5", "--where", "x"], 2, "NAME=VALUE"),
    (["upstream", "5", "--cursor", "abc"], 2, "cursor"),
    # "`--exclude-stop` … needs a `--stop-at-*`"
    (["upstream", "5", "--exclude-stop"], 2, "--stop-at-type"),
    # "`--depth N` … follow at most N hops": 1 hop from the model is its Trainer only
    (["upstream", "5", "--depth", "1", "--only", "executions", "--json"], 0, '"Trainer"'),
    # --as-of: "an ISO date/time (`2026-05-01`, …, `…+02:00`) or milliseconds since the
    # epoch": before the demo ran, the model had no lineage yet; `--depth N`: N ≥ 1
    (["upstream", "5", "--as-of", "2026-05-01", "--json"], 0, '"events": []'),
    (["upstream", "5", "--as-of", "2026-05-01T12:00:00+02:00", "--json"], 0, '"events": []'),
    (["upstream", "5", "--as-of", "1", "--json"], 0, '"events": []'),
    (["upstream", "5", "--depth", "0"], 2, "--depth"),
    # --where: "`true` matches booleans only, `1` numbers only (`1` also finds `1.0`)": the
    # demo's Trainer #4 has C=1.0; --state is case-insensitive
    (["upstream", "5", "--where", "C=1", "--json"], 0, '"Trainer"'),
    (["upstream", "5", "--where", "C=true", "--json"], 0, '"executions": []'),
    (["upstream", "5", "--state", "complete", "--only", "executions", "--json"], 0, "SplitData"),
    # "`diff 4 5` on the demo shows the two models differ by their Trainer runs only"
    (["diff", "4", "5"], 0, "only in A"),
    # "`impact` … `--json` prints `ImpactReport.to_dict()`"
    (["impact", "1", "--json"], 0, '"mark_token": null'),
]


@pytest.mark.parametrize(("args", "code", "text"), CLAIMS, ids=[" ".join(c[0]) for c in CLAIMS])
def test_what_cli_md_states(demo: Demo, args: list[str], code: int, text: str) -> None:
    result = demo.cli(*args)
    assert result.exit_code == code, result.output
    assert text in result.output


def test_diff_of_the_demo_models_is_their_trainer_runs_only(demo: Demo) -> None:
    answer = demo.json("diff", "4", "5")
    own = [n for side in ("only_a", "only_b") for k in ("artifacts", "executions")
           for n in answer[side][k]]  # fmt: skip
    assert own and {n["type"] for n in own} == {"Trainer"}


def test_a_local_path_finds_the_file_uri(demo: Demo) -> None:
    """ "for a local path, when none has it, the latest with the path's `file://` URI"."""
    path = demo.result.workdir / "data" / "customers.csv"
    result = demo.cli("show", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert f'"id": {demo.result.raw.id}' in result.stdout


def test_a_store_that_is_not_there_is_refused(tmp_path: Path) -> None:
    """ "Every other command refuses a directory … where no store was ever opened … with `no
    store at PATH` (exit 4), and creates nothing there; `doctor` reports it as a failed check";
    an empty target is refused (exit 4)."""
    missing = tmp_path / "nope"
    result = invoke(["ls", "--store", str(missing)])
    assert result.exit_code == 4 and "no store at" in result.output
    assert not missing.exists()
    assert invoke(["doctor", "--store", str(missing)]).exit_code == 1
    assert not missing.exists()
    assert invoke(["ls", "--store", ""]).exit_code == 4
    assert invoke(["ls"], env={"LINEAGE_GRAPH_STORE": ""}).exit_code == 4


def test_the_json_keys_cli_md_lists(demo: Demo) -> None:
    """The keys of ``stats``, ``doctor``, ``show`` and ``ls types`` ``--json`` are those the
    commands table of docs/cli.md names (they were not documented)."""
    stats = demo.json("stats")
    assert list(stats) == [
        "counts", "executions_by_state", "executions_by_type", "artifacts_by_type",
        "artifacts_by_state", "contexts_by_type", "artifacts_created_by_day",
    ]  # fmt: skip
    assert list(stats["counts"]) == ["artifacts", "executions", "contexts"]
    doctor = demo.json("doctor")
    assert list(doctor) == ["ok", "store", "checks"]
    assert all(list(c) == ["check", "ok", "detail"] for c in doctor["checks"])
    entity = [
        "kind", "id", "type", "type_id", "name", "uri", "state", "external_id", "properties",
        "custom_properties", "create_time_since_epoch", "last_update_time_since_epoch",
    ]  # fmt: skip
    assert list(demo.json("show", "1")) == [*entity, "produced_by", "used_by", "contexts", "events"]
    execution = [k for k in entity if k != "uri"]
    assert list(demo.json("show", "e:1")) == [*execution, "inputs", "outputs", "contexts", "events"]
    context = [k for k in execution if k != "state"]
    relations = ["artifacts", "executions", "parents", "children"]
    assert list(demo.json("show", "c:1")) == [*context, *relations]
    assert all(list(a) == entity for a in demo.json("ls"))
    types = demo.json("ls", "types")
    assert all(
        list(t) == ["kind", "id", "name", "version", "properties", "base_type"] for t in types
    )


def test_view_without_ref_refuses_kind(demo: Demo, tmp_path: Path) -> None:
    """cli.md: "`--direction` and the other lineage options need a `REF`: exit 2, for `view`
    too": `view -k execution` drew the whole store, the kind ignored."""
    page = tmp_path / "page.html"
    result = demo.cli("view", "-k", "execution", "--no-open", "-o", str(page))
    assert result.exit_code == 2, result.output
    assert "--kind needs a start entity" in result.stderr
    assert not page.exists()


@pytest.mark.parametrize(
    ("pipeline", "code"),
    [
        ("lineage-graph ls | true", 141),
        ("lineage-graph export -f html -o - | head -1", 141),
        ("lineage-graph ls | head -1", 0),
        ("lineage-graph --show-completion bash >&-", 141),
    ],
)
def test_the_closed_pipe_examples(demo: Demo, pipeline: str, code: int) -> None:
    """Exit code 141's examples, run by a shell on the demo store: the doc said
    ``lineage-graph ls | head -1`` is 141, but the demo's listing fits the pipe and is written
    whole before ``head`` leaves (exit 0); the examples now say when it is 141."""
    import os
    import subprocess
    import sys

    assert pipeline.replace("|", "\\|") in TEXT
    root = str(CLI_MD.parents[1])
    env = {**os.environ, "LINEAGE_GRAPH_STORE": str(demo.path), "PYTHONPATH": root}
    env["HOME"] = str(demo.path.parent)  # so that no completion could touch the user's
    python = f"{shlex.quote(sys.executable)} -m lineage_graph.cli"
    command = pipeline.replace("lineage-graph", python)
    done = subprocess.run(
        ["bash", "-c", command + '; exit "${PIPESTATUS[0]}"'],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == code, done.stderr[-500:]
    assert "Traceback" not in done.stderr
