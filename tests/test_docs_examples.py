"""The Python examples of docs/*.md, run as written, and the results they show checked.

Conventions (as tests/test_readme.py's for the README): every ```python block of the user docs
below runs in a fresh directory on the embedded engine, without network. A block that is a
fragment gets the names it assumes from ``GIVEN`` — ``store`` open on a copy of the store
``lineage-graph demo`` records, ``dataset`` its customers.csv (artifact 1), ``model`` the deployed
model (artifact 5), as docs/api.md says — and nothing else: the block's text is not changed,
except where ``SKIPPED`` says which lines are left out and why. ``CHECKS`` then asserts what the
block shows or states. Every block must be listed: a new example is run or its skip explained.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lineage_graph import Artifact, ArtifactType, LineageStore, NodeKind
from lineage_graph.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"
FILES = ("api.md", "cli.md", "backends.md", "concepts.md", "reliability.md")
FILES += ("mlmd-compatibility.md",)
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
ENV = {"COLUMNS": "200", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None}


def python_blocks() -> dict[str, str]:
    """``{"api.md#2": code}``: the n-th (from 1) ```python block of each file."""
    found = {}
    for name in FILES:
        text = (DOCS / name).read_text("utf-8")
        bodies = [body for lang, body in BLOCK.findall(text) if lang == "python"]
        found.update({f"{name}#{i}": body for i, body in enumerate(bodies, 1)})
    return found


# What each block needs besides its own text: "demo" (store, dataset, model on the demo's store),
# "fresh" (nothing), or code run before it.
GIVEN: dict[str, tuple[str, str]] = {
    "api.md#1": ("fresh", ""),
    "api.md#2": (
        "demo",
        "train = store.get_artifacts_by_id([2])[0]\nfit_and_save = lambda d: 'file:///m/1.pkl'\n",
    ),
    "api.md#3": ("demo", "train_uri, test_uri = 'file:///d/train.csv', 'file:///d/test.csv'\n"),
    "api.md#4": ("demo", ""),
    "api.md#5": ("demo", "pages = []\nhandle = pages.append\n"),
    "api.md#6": ("demo", ""),
    "api.md#7": ("demo", ""),
    "backends.md#1": ("fresh", ""),
    "backends.md#2": ("demo", ""),
    "reliability.md#1": ("fresh", ""),  # its own store: made by the check's set-up below
    "reliability.md#2": ("demo", ""),
    "mlmd-compatibility.md#1": (
        "fresh",
        "from ml_metadata.proto import metadata_store_pb2\n"
        "connection_config = metadata_store_pb2.ConnectionConfig()\n"
        "connection_config.fake_database.SetInParent()\n",
    ),
}

# Lines of a block that are not run, and why (a substring of each line).
SKIPPED: dict[str, tuple[tuple[str, ...], str]] = {
    "backends.md#1": (
        ("redis://host", "neo4j+s://"),
        "an external FalkorDB server and Neo4j Aura: network, no server here",
    ),
}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store ``lineage-graph demo`` records (closed: each test opens a copy)."""
    root = tmp_path_factory.mktemp("demo")
    env = {**ENV, "XDG_DATA_HOME": str(root / "data-home")}
    result = CliRunner().invoke(app, ["demo", "--dir", str(root / "demo")], env=env)
    assert result.exit_code == 0, result.output
    return root / "demo" / "store"


def _check_api_1(ns: dict[str, Any], cwd: Path) -> None:
    model, run = ns["model"], ns["run"]
    assert model.id is not None and model.state.name == "LIVE"  # the output became the stored one
    with LineageStore.open(str(cwd / "lineage-data")) as store:
        (stored,) = store.get_artifacts_by_type("Model")
        assert stored.id == model.id and stored.uri == "s3://models/1"
        (execution,) = store.get_executions_by_id([run.id])
        assert execution.last_known_state.name == "COMPLETE"
        assert execution.properties["lr"] == 0.1
        ups = store.upstream(stored)
        assert {a.type for a in ups.artifacts} == {"DataSet", "Model"}
        assert [c.name for c in store.get_contexts_by_execution(run.id)] == ["exp-1"]


def _check_api_2(ns: dict[str, Any], cwd: Path) -> None:
    # properties={"C": 1.0} alone is no hit: the demo's Trainer also declares `algorithm`, which
    # the cache requires to be unset then; so the example's else branch ran.
    run = ns["run"]
    assert run.cached is None and run.state.name == "COMPLETE"
    assert [a.uri for a in run.outputs] == ["file:///m/1.pkl"]
    assert run.execution.custom_properties["accuracy"] == 0.91
    # The same run again is a hit: the if branch takes the cached model.
    exec(compile(GIVEN["api.md#2"][1] + python_blocks()["api.md#2"], "api.md#2", "exec"), ns)
    assert ns["run"].cached is not None and ns["run"].state.name == "CACHED"
    assert ns["model"].id == run.outputs[0].id


def _check_api_3(ns: dict[str, Any], cwd: Path) -> None:
    split, dataset = ns["split"], ns["dataset"]
    first = split(dataset)
    assert [a.uri for a in first] == ["file:///d/train.csv", "file:///d/test.csv"]
    again = split(dataset)  # cache=True: not run again, the same outputs in the same shape
    assert isinstance(again, tuple) and [a.id for a in again] == [a.id for a in first]
    store = ns["store"]
    states = [e.last_known_state.name for e in store.get_executions_by_type("Split")]
    assert states == ["COMPLETE", "CACHED"]


def _check_api_4(ns: dict[str, Any], cwd: Path) -> None:
    model = ns["model"]
    assert model.id in {a.id for a in ns["up"].artifacts}
    assert {"IngestData", "SplitData", "Trainer"} <= {e.type for e in ns["up"].executions}
    assert ns["hit"].contexts  # include_contexts=True
    assert ns["trainers"].executions and not ns["trainers"].artifacts
    assert {e.type for e in ns["trainers"].executions} == {"Trainer"}
    assert len(ns["near"].refs) < len(ns["store"].lineage(model).refs)


def _check_api_5(ns: dict[str, Any], cwd: Path) -> None:
    pages, store, dataset = ns["pages"], ns["store"], ns["dataset"]
    assert len(pages) == 1 and pages[0].complete and pages[0].cursor is None
    whole = store.downstream(dataset)
    # The same loop with a page size that cuts the answer: every node once, nothing dropped.
    ns["pages"] = pages = []
    ns["handle"] = pages.append
    exec(compile(python_blocks()["api.md#5"].replace("1000", "2"), "api.md#5", "exec"), ns)
    assert len(pages) > 2 and all(not p.complete and p.cursor for p in pages[:-1])
    assert pages[-1].complete and pages[-1].cursor is None
    seen = [r for p in pages for r in (*p.artifacts, *p.executions)]
    assert len(seen) == len(whole.refs) == pages[0].total
    kind = {True: NodeKind.ARTIFACT, False: NodeKind.EXECUTION}
    refs = {(kind[isinstance(n, Artifact)], n.id) for n in seen}
    assert refs == {(r.kind, r.id) for r in whole.refs}
    # "Each event is returned exactly once across pages"
    events = [(e.artifact_id, e.execution_id, e.type) for p in pages for e in p.events]
    assert sorted(events) == sorted((e.artifact_id, e.execution_id, e.type) for e in whole.events)


def _check_api_6(ns: dict[str, Any], cwd: Path) -> None:
    store, dataset = ns["store"], ns["dataset"]
    first = store.impact(dataset)
    assert first.counts == {"artifacts": 4, "executions": 5, "contexts": 4}  # as the comment
    assert [a.type for a in first.artifacts_by_type["Model"]] == ["Model", "Model"]
    # The mark covered the affected artifacts and the source; the undo restored them all.
    assert ns["report"].marked == 5
    assert store.get_artifacts_by_id([1])[0].state.name == "LIVE"
    assert all("quarantined" not in a.custom_properties for a in store.get_artifacts())


def _check_api_7(ns: dict[str, Any], cwd: Path) -> None:
    page = (cwd / "model-lineage.html").read_text("utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    frame, downstream = ns["frame"], ns["store"].downstream(ns["dataset"])
    assert len(frame) == len(downstream.artifacts) + len(downstream.executions)


def _check_backends_1(ns: dict[str, Any], cwd: Path) -> None:
    assert (cwd / "lineage-data").is_dir()  # "./lineage-data": persisted in a directory


def _check_backends_2(ns: dict[str, Any], cwd: Path) -> None:
    log = ns["log"]
    assert log and all(s.seconds > 0 and not s.write for s in log)
    assert all(s.engine_seconds is not None and s.round_trips >= 1 for s in log)
    # The round trips are the statements' own count, not len(log) (which the comment called
    # them: on Neo4j every statement takes two, a FalkorDB settle step four).
    assert ns["trips"] == sum(s.round_trips for s in log)


def _setup_reliability_1(cwd: Path) -> int:
    """The store the recipe restores: written and closed cleanly (its dump.rdb holds it)."""
    with LineageStore.open(str(cwd / "path" / "to" / "store")) as store:
        store.put_artifact_type(ArtifactType(name="DataSet"))
        store.put_artifacts([Artifact(type="DataSet", uri=f"file:///d/{i}") for i in range(30)])
    return 30


def _check_reliability_1(ns: dict[str, Any], cwd: Path) -> None:
    assert (cwd / "path" / "to" / "store.appendonly.broken").is_dir()  # kept, not deleted
    with LineageStore.open(str(cwd / "path" / "to" / "store")) as store:
        assert len(store.get_artifacts()) == 30  # every artifact back, from the snapshot


def _check_reliability_2(ns: dict[str, Any], cwd: Path) -> None:
    # The demo was recorded just now: nothing is older than 90 days, nothing changes, and the
    # archive file is made even though the plan selects nothing (the doc says so).
    assert str(ns["plan"]).startswith("RetentionPlan: delete 0 artifacts and 0 executions")
    assert not ns["result"].deleted_artifacts and ns["records"] == []
    assert (cwd / "retention-2026-12.jsonl").read_text() == ""
    assert len(ns["store"].get_artifacts()) == 5


def _check_mlmd_1(ns: dict[str, Any], cwd: Path) -> None:
    from ml_metadata.proto import metadata_store_pb2

    store = ns["store"]
    type_id = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="DataSet"))
    assert type_id == 10  # after MLMD's nine system types, as in MLMD (D2)
    store.close()


CHECKS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "api.md#1": _check_api_1,
    "api.md#2": _check_api_2,
    "api.md#3": _check_api_3,
    "api.md#4": _check_api_4,
    "api.md#5": _check_api_5,
    "api.md#6": _check_api_6,
    "api.md#7": _check_api_7,
    "backends.md#1": _check_backends_1,
    "backends.md#2": _check_backends_2,
    "reliability.md#1": _check_reliability_1,
    "reliability.md#2": _check_reliability_2,
    "mlmd-compatibility.md#1": _check_mlmd_1,
}


def shell_blocks() -> dict[str, str]:
    """``{"cli.md$2": text}``: the n-th (from 1) ```bash block of each file."""
    found = {}
    for name in FILES:
        text = (DOCS / name).read_text("utf-8")
        bodies = [body for lang, body in BLOCK.findall(text) if lang == "bash"]
        found.update({f"{name}${i}": body for i, body in enumerate(bodies, 1)})
    return found


# The ```bash blocks: each `lineage-graph …` line runs (in a fresh directory, `export NAME=VALUE`
# lines setting the environment of the lines after them) and must succeed; a block's store is
# the demo's when SHELL_GIVEN says "demo" (copied to ./lineage-demo/store, where the demo puts
# it), none otherwise. Other lines are not run: SHELL_SKIPPED says why, and SHELL_CHECKS what
# each block's output shows.
SHELL_GIVEN = {"cli.md$1": "fresh", "cli.md$2": "demo", "backends.md$1": "fresh"}
SHELL_GIVEN["mlmd-compatibility.md$1"] = "mlmd"  # ./mlmd.sqlite, written by ml_metadata itself
SHELL_SKIPPED = {
    "backends.md$1": (
        ("docker compose", "NEO4J_URI=bolt://localhost:7687"),
        "a Neo4j container: no Docker here (the Neo4j runs of the suite are tests/_neo4j.py's)",
    ),
}
Ran = list[tuple[str, Any]]  # (the command line after `lineage-graph `, its CliRunner result)


def _shell_check_cli_1(ran: Ran, cwd: Path) -> None:
    out = dict(ran)
    assert "Trainer #4" in out["upstream 5 --store lineage-demo/store"].stdout
    assert "Usage: lineage-graph" in out["--help"].stdout and "upstream" in out["--help"].stdout


def _shell_check_cli_2(ran: Ran, cwd: Path) -> None:
    import json

    out = {line: result.stdout for line, result in ran}
    models = out["downstream 1 --type Model"]  # "which models did customers.csv feed?"
    assert "churn-C0.003" in models and "churn-C1.0" in models and "DataSet" not in models
    stopped = out["downstream 1 --stop-at-type Model"]  # "up to the models, not their deployments"
    assert "Model #5" in stopped and "Deployment" not in stopped
    page = json.loads(out["downstream 1 --json --limit 1000"])
    assert page["complete"] is True and page["cursor"] is None and page["total"] == 10
    mermaid = out["export 5 --direction any --depth 2 -f mermaid"]
    assert mermaid.startswith("flowchart LR") and "Deployment #5" in mermaid


def _write_mlmd_sqlite(cwd: Path) -> None:
    """An MLMD program's SQLite file, as ml_metadata 1.17.1 writes it (one artifact)."""
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = "mlmd.sqlite"
    store = metadata_store.MetadataStore(config)
    type_id = store.put_artifact_type(pb.ArtifactType(name="DataSet"))
    store.put_artifacts([pb.Artifact(type_id=type_id, uri="s3://bucket/train.csv")])


def _shell_check_mlmd_1(ran: Ran, cwd: Path) -> None:
    # The guide's copy is the one the same program opens once its import line is switched:
    # the same ConnectionConfig, unchanged, reads mlmd.sqlite.lineage-graph. (The section gave
    # `import-mlmd <file>` alone, which copied into the default data directory: the switched
    # program then refused mlmd.sqlite with FailedPreconditionError, the copy out of its reach.)
    from ml_metadata.proto import metadata_store_pb2 as pb

    from lineage_graph.mlmd import metadata_store

    assert not (cwd / "data-home").exists()  # nothing went to the default store
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = "mlmd.sqlite"
    with metadata_store.MetadataStore(config) as store:
        assert [a.uri for a in store.get_artifacts()] == ["s3://bucket/train.csv"]


SHELL_CHECKS: dict[str, Callable[[Ran, Path], None]] = {
    "cli.md$1": _shell_check_cli_1,
    "cli.md$2": _shell_check_cli_2,
    "backends.md$1": lambda ran, cwd: None,
    "mlmd-compatibility.md$1": _shell_check_mlmd_1,
}


def test_every_shell_block_is_run_or_its_skip_explained() -> None:
    assert set(shell_blocks()) == set(SHELL_GIVEN) == set(SHELL_CHECKS)


@pytest.mark.parametrize("key", sorted(SHELL_GIVEN))
def test_doc_commands_run_and_show_what_they_say(key: str, fresh: Path, demo_store: Path) -> None:
    markers, _reason = SHELL_SKIPPED.get(key, ((), ""))
    if SHELL_GIVEN[key] == "demo":
        shutil.copytree(demo_store, fresh / "lineage-demo" / "store")
    if SHELL_GIVEN[key] == "mlmd":
        _write_mlmd_sqlite(fresh)
    env: dict[str, str | None] = dict(ENV)
    ran: Ran = []
    skipped: set[str] = set()
    for line in shell_blocks()[key].splitlines():
        command = line.split("  #", 1)[0].strip()
        if not command:
            continue
        if any(marker in command for marker in markers):
            skipped.update(marker for marker in markers if marker in command)
            continue
        if command.startswith("export "):
            for assignment in shlex.split(command)[1:]:
                name, _, value = assignment.partition("=")
                env[name] = value
            continue
        assert command.startswith("lineage-graph"), f"{key}: not run, no skip says why: {line}"
        args = shlex.split(command)[1:]
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, f"{key}: {command}\n{result.output}"
        ran.append((shlex.join(args), result))
    assert skipped == set(markers), "each skipped line is still in the doc"
    SHELL_CHECKS[key](ran, fresh)


def test_every_python_block_is_run_or_its_skip_explained() -> None:
    assert set(python_blocks()) == set(GIVEN) == set(CHECKS)


def _runnable(key: str) -> str:
    code = python_blocks()[key]
    if key in SKIPPED:
        markers, _reason = SKIPPED[key]
        lines = code.splitlines()
        kept = [line for line in lines if not any(m in line for m in markers)]
        assert len(lines) - len(kept) == len(markers), "each skipped line is still in the doc"
        code = "\n".join(kept) + "\n"
    return code


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.delenv("LINEAGE_GRAPH_STORE", raising=False)
    yield tmp_path


@pytest.mark.parametrize("key", sorted(GIVEN))
def test_doc_example_runs_and_shows_what_it_says(key: str, fresh: Path, demo_store: Path) -> None:
    kind, prelude = GIVEN[key]
    code = _runnable(key)
    ns: dict[str, Any] = {"__name__": "__docs__"}
    if key == "reliability.md#1":
        _setup_reliability_1(fresh)
    if key == "backends.md#1":
        # Each line opens a store; it is closed here (the doc's lines are expressions).
        ns["LineageStore"] = LineageStore
        for line in code.splitlines():
            expression = line.split("  #", 1)[0].strip()
            if expression:
                eval(compile(expression, key, "eval"), ns).close()
        CHECKS[key](ns, fresh)
        return
    if kind == "demo":
        shutil.copytree(demo_store, fresh / "store")
        with LineageStore.open(str(fresh / "store")) as store:
            ns.update(store=store, Artifact=Artifact)
            ns.update(dataset=store.get_artifacts_by_id([1])[0])
            ns.update(model=store.get_artifacts_by_id([5])[0])
            assert ns["dataset"].name == "customers.csv" and ns["model"].type == "Model"
            exec(compile(prelude + code, key, "exec"), ns)
            CHECKS[key](ns, fresh)
        return
    exec(compile(prelude + code, key, "exec"), ns)
    CHECKS[key](ns, fresh)


def _section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of ``text`` (up to the next heading of its level)."""
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    end = re.search(rf"^{level} ", text[start:], re.M)
    return text[start : start + end.start()] if end else text[start:]


def test_the_api_listings_name_what_the_package_has() -> None:
    """api.md's lists against the package: every exception class the package exports is named
    in "Errors" (``OutOfRangeError``, raised by ``put_lineage_subgraph`` for an event edge's
    index past its lists, was not), and every name there, in the viewer table and in the
    tracker table exists."""
    import lineage_graph
    from lineage_graph import LineageGraphError, viewer
    from lineage_graph._tracker import Tracker

    api = (DOCS / "api.md").read_text("utf-8")
    errors = set(re.findall(r"`(\w+Error)`", _section(api, "## Errors")))
    exported = {
        name
        for name in lineage_graph.__all__
        if isinstance(getattr(lineage_graph, name), type)
        and issubclass(getattr(lineage_graph, name), LineageGraphError)
    }
    builtins = {"ValueError", "LookupError", "IndexError"}  # "(also a `ValueError`)" …
    assert errors - builtins == exported
    viewer_table = _section(api, "## The viewer and table exports: `lineage_graph.viewer`")
    named = set(re.findall(r"`(\w+)\(", viewer_table))
    assert named and named <= set(viewer.__all__)
    tracker_table = _section(api, "## Model tracking: `store.tracker`")
    methods = set(re.findall(r"`(\w+)\(", tracker_table)) - {"ModelVersion"}
    assert methods and all(callable(getattr(Tracker, m, None)) for m in methods), methods


# `name(params)` as api.md writes a signature, e.g. `store.run(execution_type, *, inputs=None, …)`.
SIGNATURE = re.compile(
    r"`(@?(?:store\.tracker\.|store\.|LineageStore\.)?\w+)\(([^`()]*)\)(?: -> [^`]*)?`"
)


def _documented_parameters(text: str) -> list[tuple[str, str | None, bool]]:
    """``[(name, default text or None, keyword-only)]`` of a documented parameter list."""
    out, keyword_only = [], False
    for part in (p.strip() for p in " ".join(text.split()).split(",")):
        if part == "*":
            keyword_only = True
        elif part and not part.startswith("**") and part != "...":
            name, _, default = part.partition("=")
            out.append((name, default or None, keyword_only))
    return out


def test_the_signatures_api_md_writes_are_the_code_s() -> None:
    """Every ``store.…(…)`` / ``@store.step(…)`` / ``LineageStore.open(…)`` / ``NodeFilter(…)`` /
    ``ImpactMark(…)`` signature api.md writes, and the tracker's and the viewer's in their tables:
    the same parameters in the same order, keyword-only where it says, with its defaults."""
    import inspect

    from lineage_graph import Direction, ImpactMark, NodeFilter, viewer
    from lineage_graph._tracker import Tracker

    api = (DOCS / "api.md").read_text("utf-8")
    tracker = _section(api, "## Model tracking: `store.tracker`")
    viewer_table = _section(api, "## The viewer and table exports: `lineage_graph.viewer`")
    found: list[tuple[Callable[..., Any], str]] = []
    for match in SIGNATURE.finditer(api):
        name, params = match[1], match[2]
        if name.startswith(("@store.", "store.")) and "." not in name.split("store.", 1)[1]:
            target = getattr(LineageStore, name.split("store.", 1)[1], None)
        elif name == "LineageStore.open":
            target = LineageStore.open
        elif name in ("NodeFilter", "ImpactMark"):
            target = {"NodeFilter": NodeFilter, "ImpactMark": ImpactMark}[name]
        elif match[0] in tracker and hasattr(Tracker, name):
            target = getattr(Tracker, name)
        elif match[0] in viewer_table and name in viewer.__all__:
            target = getattr(viewer, name)
        else:
            continue
        if not all(n.isidentifier() for n, _, _ in _documented_parameters(params)):
            continue  # a call, `@store.step("fit")`, not a signature
        assert target is not None, f"api.md writes `{name}(…)`: no such callable"
        found.append((target, params))
    assert len(found) > 30, "api.md's signatures are found"
    for target, params in found:
        signature = inspect.signature(target)
        code = [p for p in signature.parameters.values() if p.name not in ("self", "cls")]
        code = [p for p in code if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        documented = _documented_parameters(params)
        where = f"{target.__qualname__}{signature} vs api.md ({params})"
        assert [n for n, _, _ in documented] == [p.name for p in code][: len(documented)], where
        for (name, default, keyword_only), p in zip(documented, code, strict=False):
            assert keyword_only == (p.kind == p.KEYWORD_ONLY), where
            if default is not None:
                value = eval(default, {"Direction": Direction})  # the doc's own text
                assert value == p.default, f"{where}: {name}"


def test_concepts_md_names_every_relationship_and_label_of_the_graph() -> None:
    """concepts.md's "The graph" against what a store holds (the integrity check's lists):
    FalkorDB's `UPSTREAM` mirror of every event was not mentioned, so a tool writing events
    itself left it out, and upstream walks did not see its events."""
    from tests.reliability._integrity import NODE_LABELS, REL_ENDS

    graph = _section((DOCS / "concepts.md").read_text("utf-8"), "## The graph")
    assert {rel for rel in REL_ENDS if f":{rel}" not in graph} == set()
    assert {label for label in NODE_LABELS if label not in graph} == set()


OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-zA-Z])(?![\w-])")


def test_the_options_cli_md_names_are_the_commands() -> None:
    """Each option a row of cli.md's command table names is one that command takes (its
    ``--help`` lists it), and so is each of the "Lineage options" for upstream, downstream,
    export and view. (A row may name another command's option inside that command's own
    example, `impact --mark…`: such a code span is left out.)"""
    text = (DOCS / "cli.md").read_text("utf-8")
    helps: dict[str, str] = {}

    def help_of(command: str) -> str:
        if command not in helps:
            result = CliRunner().invoke(app, [command, "--help"], env={**ENV, "COLUMNS": "250"})
            assert result.exit_code == 0, result.output
            helps[command] = result.stdout
        return helps[command]

    commands = _section(text, "## Commands")
    names = set(re.findall(r"^\| `([a-z-]+)[ `]", commands, re.M))
    checked = 0
    for row in commands.splitlines():
        first = re.match(r"\| `([a-z-]+)[ `]", row)
        if not first:
            continue
        command = first[1]
        spans = re.findall(r"`([^`]*)`", row)
        spans = [s.removeprefix("lineage-graph ") for s in spans]
        # a span starting with another command is that command's example (`impact --mark…`)
        spans = [s for s in spans if s.split(" ")[0] == command or s.split(" ")[0] not in names]
        for option in {o for span in spans for o in OPTION.findall(span)}:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_of(command)), (
                f"cli.md: `{command}` takes {option}; its --help does not list it"
            )
            checked += 1
    lineage = _section(text, "## Lineage options").split("```", 1)[0]
    table = [line for line in lineage.splitlines() if line.startswith("| `")]
    options = {o for line in table for o in OPTION.findall(line.split("|")[1])}
    for command in ("upstream", "downstream", "export", "view"):
        for option in options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_of(command)), (
                f"cli.md: {command} takes the lineage option {option}; its --help does not"
            )
            checked += 1
    assert checked > 60


def test_ids_across_store_objects_are_as_mlmd_compatibility_d12_says(fresh: Path) -> None:
    """D12's figures: a script putting one type and one artifact, run twice on one store, gets
    type 10 and artifact 1, then type 257 and artifact 257 here, and 10 and 1, then 11 and 2
    on MLMD (the import section said a type created later gets MLMD's id)."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    from lineage_graph.mlmd import MetadataStore

    def script(store: Any, run: int) -> tuple[int, int]:
        type_id = store.put_artifact_type(pb.ArtifactType(name=f"T{run}"))
        [artifact_id] = store.put_artifacts([pb.Artifact(type_id=type_id)])
        return type_id, artifact_id

    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(fresh / "mlmd.sqlite")
    mlmd = [script(metadata_store.MetadataStore(config), run) for run in (1, 2)]
    ours = []
    for run in (1, 2):
        with MetadataStore(str(fresh / "store")) as store:
            ours.append(script(store, run))
    assert mlmd == [(10, 1), (11, 2)] and ours == [(10, 1), (257, 257)]
    assert "then type 257 and artifact 257" in " ".join(
        (DOCS / "mlmd-compatibility.md").read_text("utf-8").split()
    )


def test_every_table_row_of_the_docs_is_one_line() -> None:
    """A table row broken over two lines renders its second line as a row of its own, its text
    in the first column (reliability.md's row of test_crash.py did, its end shown as a file)."""
    broken = []
    for path in [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]:
        # (a code block blanked, its lines kept: the line numbers are the file's)
        text = BLOCK.sub(lambda m: "\n" * m[0].count("\n"), path.read_text("utf-8"))
        in_table = False
        for n, line in enumerate(text.split("\n"), 1):
            row = line.strip()
            if row.startswith("|"):
                in_table = True
                if not row.endswith("|"):
                    broken.append(f"{path.name}:{n}")
            elif in_table and "|" in row:
                broken.append(f"{path.name}:{n}")
            else:
                in_table = False
    assert broken == []
