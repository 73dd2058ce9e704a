"""Every ``lineage-graph`` command, in process, against the embedded engine."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    LineageStore,
    __version__,
)
from lineage_graph.cli import ExitCode

from .conftest import Demo, cli_process, invoke


def test_version_and_help() -> None:
    assert invoke(["--version"]).stdout.strip() == f"lineage-graph {__version__}"
    result = invoke(["--help"])
    assert result.exit_code == 0
    for command in (
        "demo", "upstream", "downstream", "impact", "undo-mark", "compare", "diff", "cached",
        "show", "ls", "export", "view", "import-mlmd", "stats", "doctor",
    ):  # fmt: skip
        assert command in result.stdout
        assert invoke([command, "--help"]).exit_code == 0
    assert invoke(["no-such-command"]).exit_code == ExitCode.USAGE


def test_the_command_list_shows_each_summary_unbroken() -> None:
    """Rich markup mode kept a docstring's line breaks in the command list, so on any width
    ``demo`` read "…, then show its" and "upstream, impact, …" on the next line."""
    lines = invoke(["--help"]).stdout.splitlines()  # 200 columns: every summary fits a line
    demo_line = next(line for line in lines if line.startswith("│ demo "))
    assert "then show its upstream, impact, a cache hit" in demo_line
    impact_line = next(line for line in lines if line.startswith("│ impact "))
    assert "downstream of it, grouped by type" in impact_line


def test_help_prints_every_option_text_whole() -> None:
    """--help renders option texts as rich markup: an unescaped ``[...]`` (the store's default,
    ``lineage-graph[viz]``, the whole-store export's ``[default: 5000]``) was taken for a style
    tag and silently left out."""
    import typer

    from lineage_graph.cli import app

    root = typer.main.get_command(app)
    commands = getattr(root, "commands", {})
    assert commands
    for name, command in commands.items():
        shown = " ".join(invoke([name, "--help"]).stdout.replace("│", " ").split())
        for param in command.params:
            text = (getattr(param, "help", None) or "").replace("\\[", "[")
            assert " ".join(text.split()) in shown, f"{name} {param.name}: {text!r}"


# -------------------------------------------------------------------------------- lineage


def test_upstream(demo: Demo) -> None:
    best = demo.result.best.artifact
    result = demo.cli("upstream", str(best.id))
    assert result.exit_code == 0, result.output
    for text in ("Model #", "Trainer", "train.csv", "test.csv", "SplitData", "customers.csv"):
        assert text in result.stdout
    data = demo.json("upstream", str(best.id))
    assert data["focus"]["id"] == best.id
    assert {a["name"] for a in data["artifacts"]} >= {"customers.csv", "train.csv", "test.csv"}
    assert {x["type"] for x in data["executions"]} >= {"IngestData", "SplitData", "Trainer"}
    shallow = demo.json("upstream", str(best.id), "--depth", "1")
    assert {x["type"] for x in shallow["executions"]} == {"Trainer"}
    by_name = demo.cli("upstream", f"Model/{best.name}")
    assert by_name.exit_code == 0 and "customers.csv" in by_name.stdout


def test_a_lineage_too_deep_for_the_terminal_is_listed_whole(tmp_path: Path) -> None:
    """A chain of 60 generations (120 levels) at 200 columns: rich drops the levels past the
    right edge of a tree (one of 2,000 generations showed 17 of them, and took 1.7 s to render,
    growing with depth x lines). It is listed as a table instead, every node in it, with a note;
    a shallow one is still a tree."""
    path = tmp_path / "deep"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        store.put_execution_type(ExecutionType(name="Step"))
        aids = store.put_artifacts([Artifact(type="Data", uri=f"/d/{i}") for i in range(61)])
        eids = store.put_executions([Execution(type="Step") for _ in range(60)])
        store.put_events(
            [
                Event(artifact_id=aids[i], execution_id=e, type=EventType.INPUT)
                for i, e in enumerate(eids)
            ]
            + [
                Event(artifact_id=aids[i + 1], execution_id=e, type=EventType.OUTPUT)
                for i, e in enumerate(eids)
            ]
        )
        deep = invoke(["upstream", str(aids[-1]), "--store", str(path)])
        assert deep.exit_code == 0, deep.output
        assert set(re.findall(r"/d/(\d+)", deep.stdout)) == {str(i) for i in range(61)}
        assert "the tree is 120 levels deep" in deep.stdout
        shallow = invoke(["upstream", str(aids[3]), "--store", str(path)])
        assert shallow.exit_code == 0, shallow.output
        assert "└── " in shallow.stdout and "levels deep" not in shallow.stdout
        assert set(re.findall(r"/d/(\d+)", shallow.stdout)) == {"0", "1", "2", "3"}
        impact = invoke(["impact", str(aids[0]), "--tree", "--store", str(path)])
        assert impact.exit_code == 0, impact.output
        assert set(re.findall(r"/d/(\d+)", impact.stdout)) >= {str(i) for i in range(61)}
        assert "the tree is 120 levels deep" in impact.stdout


def test_a_node_reached_again_points_to_where_its_branches_are(tmp_path: Path) -> None:
    """A run that reads the source and also an output of another run of the source: the tree
    shows it under the source with its output, and under the other run's output marked. That
    mark said "(see above)" with the run's branches below it; it says where they are, and a node
    reached again whose branches are above (a cycle back to the start) still says above."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        store.put_execution_type(ExecutionType(name="Step"))
        src, mid, out = store.put_artifacts(
            [Artifact(type="Data", uri=f"/d/{n}") for n in ("src", "mid", "out")]
        )
        first, second = store.put_executions([Execution(type="Step", name=n) for n in "fs"])
        store.put_events(
            [
                Event(artifact_id=src, execution_id=first, type=EventType.INPUT),
                Event(artifact_id=mid, execution_id=first, type=EventType.OUTPUT),
                Event(artifact_id=src, execution_id=second, type=EventType.INPUT),
                Event(artifact_id=mid, execution_id=second, type=EventType.INPUT),
                Event(artifact_id=out, execution_id=second, type=EventType.OUTPUT),
            ]
        )
    result = invoke(["downstream", str(src), "--store", str(path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if f"#{second} s" in line]
    assert len(lines) == 2, result.stdout
    assert lines[0].endswith("(see below)"), result.stdout  # under /d/mid, shown whole below
    assert "(see" not in lines[1], result.stdout
    assert result.stdout.index(lines[1]) < result.stdout.index("/d/out"), result.stdout
    with LineageStore.open(path) as store:  # a cycle back to the source
        store.put_events([Event(artifact_id=src, execution_id=second, type=EventType.OUTPUT)])
    cycle = invoke(["downstream", str(src), "--store", str(path)])
    assert cycle.exit_code == 0, cycle.output
    assert [line for line in cycle.stdout.splitlines() if "/d/src" in line][1].endswith(
        "(see above)"
    ), cycle.stdout


def test_downstream_and_impact(demo: Demo) -> None:
    raw = demo.result.raw
    result = demo.cli("downstream", str(raw.id))
    assert result.exit_code == 0, result.output
    assert "Deployment" in result.stdout and "churn-C1.0" in result.stdout
    data = demo.json("downstream", "execution:2")
    assert data["focus"]["kind"] == "execution"
    assert "customers.csv" not in {a["name"] for a in data["artifacts"]}

    impact = demo.cli("impact", raw.uri or "")
    assert impact.exit_code == 0, impact.output
    assert "4 artifacts, 5 executions, 4 contexts affected" in impact.stdout


def test_cached(demo: Demo) -> None:
    train, test = demo.result.train, demo.result.test
    args = ["cached", "Trainer", "-i", str(train.id), "-i", f"DataSet/{test.name}"]
    hit = demo.cli(*args, "-p", "algorithm=logistic_regression", "-p", "C=1.0")
    assert hit.exit_code == ExitCode.OK, hit.output
    assert "cache hit" in hit.stdout and "churn-C1.0" in hit.stdout
    data = json.loads(demo.cli(*args, "-p", "algorithm=logistic_regression", "-p", "C=1.0",
                               "--json").stdout)  # fmt: skip
    assert data["hit"] and [a["name"] for a in data["outputs"]] == ["churn-C1.0"]
    miss = demo.cli(*args, "-p", "algorithm=logistic_regression", "-p", "C=5")
    assert miss.exit_code == ExitCode.NO and "no cache hit" in miss.stdout
    assert json.loads(demo.cli(*args, "--json").stdout) == {
        "hit": False,
        "execution": None,
        "outputs": [],
    }
    assert demo.cli(*args, "-p", "novalue").exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["upstream", "5", "--where", "C=99999999999999999999999"], "--where C: 9999"),
        (["cached", "Trainer", "-i", "2", "-p", "C=-9223372036854775809"], "--property C: -92"),
        (["impact", "1", "--mark", "q=99999999999999999999999"], "--mark q: 9999"),
        (["upstream", "5", "--where", "q=" + '{"a":' * 101 + "1" + "}" * 101], "--where: "),
        (["impact", "1", "--mark", "q=" + '{"a":' * 101 + "1" + "}" * 101], "--mark: "),
    ],
)
def test_a_value_no_property_can_hold_is_a_usage_error(
    demo: Demo, args: list[str], says: str
) -> None:
    """An int past int64 (or a struct nested deeper than 100 levels) in --where / -p / --mark
    was exit 5, "the store refused the request"; like every other bad option value it is exit
    2, and nothing is marked."""
    before = demo.json("ls")
    result = demo.cli(*args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert says in result.stderr
    assert demo.json("ls") == before


def test_where_finds_nan(tmp_path: Path) -> None:
    """``--where loss=NaN`` (JSON's NaN), and a struct holding NaN, find the nodes holding a NaN;
    they matched nothing, silently (``NaN != NaN``)."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_execution_type(ExecutionType(name="T"))
        [a, b] = store.put_artifacts(
            [
                Artifact(type="D", uri="/a", custom_properties={"loss": float("nan")}),
                Artifact(type="D", uri="/b", custom_properties={"s": {"x": float("nan")}}),
            ]
        )
        store.put_execution(
            Execution(type="T"),
            [
                (Artifact(id=a), Event(type=EventType.OUTPUT)),
                (Artifact(id=b), Event(type=EventType.OUTPUT)),
            ],
        )

    def found(where: str) -> list[str]:
        result = invoke(
            ["upstream", f"artifact:{a}", "--where", where, "--json", "--store", str(path)]
        )
        assert result.exit_code == 0, result.output
        return [n["uri"] for n in json.loads(result.stdout)["artifacts"]]

    assert found("loss=NaN") == ["/a"]
    assert found('s={"x": NaN}') == []  # upstream of /a: /b is no part of it
    result = invoke(
        ["downstream", "execution:1", "--where", 's={"x": NaN}', "--json", "--store", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert [n["uri"] for n in json.loads(result.stdout)["artifacts"]] == ["/b"]
    assert found("loss=1") == []


def test_cached_inputs_must_be_artifacts(demo: Demo) -> None:
    """``-i e:2`` named execution 2, whose id was taken as artifact 2's: a hit on inputs
    nobody gave. Only artifacts are inputs; anything else is a usage error naming it."""
    props = ["-p", "C=0.003", "-p", "algorithm=logistic_regression"]
    assert demo.cli("cached", "Trainer", "-i", "2", "-i", "3", *props).exit_code == ExitCode.OK
    for first, second, named in (
        ("e:2", "e:3", "'e:2' is execution #2 (SplitData)"),
        ("c:2", "c:3", "'c:2' is context #2 (Experiment)"),
        ("2", "execution:3", "'execution:3' is execution #3 (Trainer)"),
    ):
        result = demo.cli("cached", "Trainer", "-i", first, "-i", second, *props)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "-i takes an artifact" in result.stderr and named in result.stderr
        assert "cache hit" not in result.stdout


def test_cached_says_when_the_store_has_no_such_type(demo: Demo) -> None:
    """``cached trainer`` (the type is ``Trainer``) answered "trainer has not completed on
    exactly these inputs", as if it had looked. Still a miss (exit 1: a pipeline's first run
    has no type yet), but the message names the cause."""
    props = ["-p", "C=1.0", "-p", "algorithm=logistic_regression"]
    typo = demo.cli("cached", "trainer", "-i", "2", "-i", "3", *props)
    assert typo.exit_code == ExitCode.NO, typo.output
    assert "this store has no execution type 'trainer'" in " ".join(typo.stdout.split())
    miss = demo.cli("cached", "Trainer", "-i", "2", *props)
    assert miss.exit_code == ExitCode.NO and "has not completed" in miss.stdout
    assert json.loads(demo.cli("cached", "trainer", "-i", "2", "--json").stdout)["hit"] is False


# ---------------------------------------------------------------------------------- reading


def test_show_every_kind(demo: Demo) -> None:
    model = demo.result.best.artifact
    result = demo.cli("show", str(model.id))
    assert result.exit_code == 0, result.output
    for text in ("churn-C1.0", "model_version", "produced by", "Trainer", "contexts"):
        assert text in result.stdout
    data = demo.json("show", str(model.id))
    assert data["custom_properties"]["model_name"] == "churn-model"
    assert [x["type"] for x in data["produced_by"]] == ["Trainer"]
    assert "Deployment" in [x["type"] for x in data["used_by"]]
    execution = demo.json("show", "execution:1")
    assert execution["type"] == "IngestData" and execution["state"] == "COMPLETE"
    assert [a["name"] for a in execution["outputs"]] == ["customers.csv"]
    assert execution["events"][0]["type"] == "OUTPUT"
    context = demo.json("show", "Experiment/churn-C1.0", "--kind", "context")
    assert context["kind"] == "context" and len(context["executions"]) == 1
    assert demo.cli("show", "c:1").exit_code == 0
    assert demo.json("show", demo.result.raw.uri or "")["id"] == demo.result.raw.id


def test_show_errors_have_meaningful_exit_codes(demo: Demo) -> None:
    missing = demo.cli("show", "4242")
    assert missing.exit_code == ExitCode.NOT_FOUND and "no artifact with id 4242" in missing.stderr
    assert demo.cli("show", "Model/nope").exit_code == ExitCode.NOT_FOUND
    assert demo.cli("show", "what is this").exit_code == ExitCode.USAGE
    assert demo.cli("show", "1", "--kind", "widget").exit_code == ExitCode.USAGE
    assert demo.cli("upstream", "context:1").exit_code == ExitCode.ERROR
    unreachable = invoke(["show", "1", "--store", "nosuch://host"])
    assert unreachable.exit_code == ExitCode.STORE_UNAVAILABLE
    assert "cannot open the store" in unreachable.stderr


def test_a_local_path_names_the_artifact_of_its_file_uri(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo records ``file:///…/customers.csv``; ``show ./lineage-demo/data/customers.csv``
    said "no artifact with uri" though that is the file. A path matches its own URI first, then
    its ``file://`` URI."""
    from urllib.parse import urlparse

    raw = demo.result.raw
    path = Path(urlparse(raw.uri or "").path)
    monkeypatch.chdir(path.parent)
    for ref in (f"./{path.name}", str(path)):
        shown = demo.json("show", ref)
        assert (shown["kind"], shown["id"]) == ("artifact", raw.id), ref
    assert demo.cli("show", "./no-such-file.csv").exit_code == ExitCode.NOT_FOUND


def test_a_relative_path_without_dot_slash_names_the_file(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'show lineage-demo/data/customers.csv' (a path as the shell completes it) was read as
    Type/name only: 'no artifact of type 'lineage-demo' named 'data/customers.csv'' (exit 3),
    though './lineage-demo/data/customers.csv' found it. A Type/name that names no entity but
    an existing file now finds that file's artifact; one that names neither is still exit 3."""
    from urllib.parse import urlparse

    raw = demo.result.raw
    path = Path(urlparse(raw.uri or "").path)
    monkeypatch.chdir(path.parent.parent)
    ref = f"{path.parent.name}/{path.name}"  # data/customers.csv
    for args in (["show", ref], ["impact", ref], ["upstream", f"a:{ref}"]):
        result = demo.cli(*args, "--json")
        assert result.exit_code == 0, (args, result.output)
    assert demo.json("show", ref)["id"] == raw.id
    missing = demo.cli("show", f"{path.parent.name}/no-such-file.csv")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert demo.cli("show", f"e:{ref}").exit_code == ExitCode.NOT_FOUND  # files are artifacts


def test_a_relative_directory_without_dot_slash_names_its_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a directory (a model or examples directory, as TFX records them), as the
    shell completes it (a trailing slash too): 'show models/m1' was 'no artifact of type models
    named m1' (exit 3) while './models/m1' found it; only an existing file was looked up."""
    (tmp_path / "models" / "m1").mkdir(parents=True)
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Model"))
        uri = (tmp_path / "models" / "m1").resolve().as_uri()
        aid = store.put_artifact(Artifact(type="Model", uri=uri, name="churn"))
    monkeypatch.chdir(tmp_path)
    for ref in ("./models/m1", "models/m1", "models/m1/"):
        shown = invoke(["show", ref, "--json", "--store", str(path)])
        assert shown.exit_code == 0, (ref, shown.output)
        assert json.loads(shown.stdout)["id"] == aid
    missing = invoke(["show", "models/m2", "--store", str(path)])
    assert missing.exit_code == ExitCode.NOT_FOUND


def test_entities_of_a_versioned_type_are_named_and_listed(tmp_path: Path) -> None:
    """MLMD types may have a version: 'ls' listed an artifact of type Model (version v2), but
    'show Model/m1' said 'no artifact of type Model named m1' and 'ls --type Model' listed
    nothing (the store's lookups take the unversioned type unless given a version)."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        for version in ("v2", "v3", None):
            store.put_artifact_type(ArtifactType(name="Model", version=version))
        m1 = store.put_artifact(Artifact(type="Model", type_version="v2", uri="s3://1", name="m1"))
        m0 = store.put_artifact(Artifact(type="Model", uri="s3://0", name="m0"))
        a2 = store.put_artifact(Artifact(type="Model", type_version="v2", uri="s3://2", name="a"))
        a3 = store.put_artifact(Artifact(type="Model", type_version="v3", uri="s3://3", name="a"))
    listed = invoke(["ls", "--type", "Model", "--json", "--store", str(path)])
    assert listed.exit_code == 0, listed.output
    assert [a["id"] for a in json.loads(listed.stdout)] == sorted([m0, m1, a2, a3])
    for name, ident in (("m1", m1), ("m0", m0)):
        shown = invoke(["show", f"Model/{name}", "--json", "--store", str(path)])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["id"] == ident
    # show names the version: two versions of a type read as one type without it
    assert "(type id 1, version v2)" in invoke(["show", "Model/m1", "--store", str(path)]).stdout
    # a name an entity has in each of two versions of the type: which one is not guessed
    both = invoke(["show", "Model/a", "--store", str(path)])
    assert both.exit_code == ExitCode.USAGE, both.output
    assert f"artifact:{a2}" in both.stderr and f"artifact:{a3}" in both.stderr


def test_compare_names_the_versions_of_two_types_of_one_name(tmp_path: Path) -> None:
    """Two artifacts of two versions of one type are refused by compare, whose message said
    "takes two artifacts of one type: 'Model' and 'Model'"."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        for version in ("v2", None):
            store.put_artifact_type(ArtifactType(name="Model", version=version))
        a = store.put_artifact(Artifact(type="Model", type_version="v2", uri="s3://a"))
        b = store.put_artifact(Artifact(type="Model", uri="s3://b"))
    result = invoke(["compare", str(a), str(b), "--store", str(path)])
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "'Model' version 'v2' and 'Model'" in " ".join(result.stderr.split())


def test_cached_on_a_type_that_has_versions_only_does_not_deny_it(tmp_path: Path) -> None:
    """'cached T' on a store whose T is versioned (ls types lists T v1) said 'this store has no
    execution type T'. With no run on these inputs it is a plain miss."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_execution_type(ExecutionType(name="T", version="v1"))
        data = store.put_artifact(Artifact(type="D", uri="s3://d"))
    result = invoke(["cached", "T", "-i", str(data), "--store", str(path)])
    assert result.exit_code == ExitCode.NO, result.output
    message = " ".join(result.stdout.split())
    assert "has no execution type" not in message
    assert "T has not completed on exactly these inputs" in message


def _versioned_runs(path: Path, versions: list[str | None]) -> tuple[int, dict[str | None, int]]:
    """A store with execution type T in ``versions``, each with a COMPLETE run on one dataset."""
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        data = store.put_artifact(Artifact(type="D", uri="s3://d"))
        runs: dict[str | None, int] = {}
        for version in versions:
            store.put_execution_type(ExecutionType(name="T", version=version))
            runs[version], _, _ = store.put_execution(
                Execution(type="T", type_version=version, last_known_state=ExecutionState.COMPLETE),
                [(Artifact(id=data), Event(type=EventType.INPUT))],
                [],
            )
    return data, runs


def test_cached_hits_a_run_of_a_versioned_type(tmp_path: Path) -> None:
    """'cached T' compared runs of the unversioned type only: a COMPLETE run of T v1 (MLMD type
    versions) on exactly these inputs was a miss, though 'show' and 'ls --type T' find T v1's
    runs. Every version is tried now, and --type-version names one."""
    path = tmp_path / "store"
    data, runs = _versioned_runs(path, ["v1"])
    for extra in ([], ["--type-version", "v1"]):
        result = invoke(["cached", "T", "-i", str(data), "--json", "--store", str(path), *extra])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["execution"]["id"] == runs["v1"]
    # a version the type does not have: a miss (a first run of it creates it), said so
    other = invoke(["cached", "T", "-i", str(data), "--type-version", "v2", "--store", str(path)])
    assert other.exit_code == ExitCode.NO, other.output
    assert "has no version 'v2' (its versions: v1)" in " ".join(other.stdout.split())
    empty = invoke(["cached", "T", "-i", str(data), "--type-version", "", "--store", str(path)])
    assert empty.exit_code == ExitCode.USAGE, empty.output
    # a -p no version declares: the miss names the version it compared
    misspelt = invoke(["cached", "T", "-i", str(data), "-p", "x=1", "--store", str(path)])
    assert misspelt.exit_code == ExitCode.NO, misspelt.output
    assert "T version v1 declares no property 'x'" in " ".join(misspelt.stdout.split())


def test_cached_lists_a_declared_name_holding_its_separator_quoted(tmp_path: Path) -> None:
    """The miss for a -p no version declares lists the names declared, joined with ", ": a
    property ``a, b`` read as two, ``a`` and ``b``. Each is listed as ``ls types`` lists it."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        data = store.put_artifact(Artifact(type="D", uri="s3://d"))
        store.put_execution_type(ExecutionType(name="T", properties={"a, b": "INT", "c": "INT"}))
    result = invoke(["cached", "T", "-i", str(data), "-p", "x=1", "--store", str(path)])
    assert result.exit_code == ExitCode.NO, result.output
    said = " ".join(result.stdout.split())
    assert '(it declares: "a, b", c; names are case-sensitive)' in said, said
    listed = invoke(["ls", "types", "--store", str(path)])
    assert '"a, b": INT, c: INT' in listed.stdout, listed.stdout


def test_cached_with_runs_in_two_versions_asks_which(tmp_path: Path) -> None:
    """Runs of T v1 and T v2 on the same inputs: which one is not guessed (exit 2 naming both,
    as 'show Type/name' does for a name two versions have); --type-version picks one. A run of
    the unversioned type is taken first, as Type/name takes the unversioned type's entity."""
    path = tmp_path / "store"
    data, runs = _versioned_runs(path, ["v1", "v2"])
    both = invoke(["cached", "T", "-i", str(data), "--store", str(path)])
    assert both.exit_code == ExitCode.USAGE, both.output
    message = " ".join(both.stderr.split())
    assert f"v1 (execution:{runs['v1']})" in message and f"v2 (execution:{runs['v2']})" in message
    assert "--type-version" in message
    one = invoke(
        ["cached", "T", "-i", str(data), "--type-version", "v2", "--json", "-s", str(path)]
    )
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["execution"]["id"] == runs["v2"]

    path = tmp_path / "unversioned"
    data, runs = _versioned_runs(path, ["v1", None])
    first = invoke(["cached", "T", "-i", str(data), "--json", "--store", str(path)])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["execution"]["id"] == runs[None]


def test_ls_context_type_slash_name_finds_a_versioned_context_type(tmp_path: Path) -> None:
    """'ls --context e1' shared by two contexts says 'give one as Type/name'; for a context of a
    versioned type (Exp v1), 'ls --context Exp/e1' then said 'no context named'."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_context_type(ContextType(name="Exp", version="v1"))
        store.put_context_type(ContextType(name="Run"))
        exp = store.put_context(Context(type="Exp", type_version="v1", name="e1"))
        store.put_context(Context(type="Run", name="e1"))
        data = store.put_artifact(Artifact(type="D", uri="s3://a"))
        store.put_attributions_and_associations([Attribution(artifact_id=data, context_id=exp)], [])
    shared = invoke(["ls", "--context", "e1", "--store", str(path)])
    assert shared.exit_code == ExitCode.USAGE and "Exp/e1" in shared.stderr, shared.output
    listed = invoke(["ls", "--context", "Exp/e1", "--json", "--store", str(path)])
    assert listed.exit_code == 0, listed.output
    assert [a["id"] for a in json.loads(listed.stdout)] == [data]


def test_a_path_that_names_no_file_is_not_found(
    demo: Demo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A path whose ``file://`` URI cannot be made (an unknown user's home, a symlink loop)
    raised RuntimeError out of the CLI (a traceback, exit 1: "the answer is no"); it is an
    artifact not found, as any other path without one."""
    (tmp_path / "loop").symlink_to("loop")
    monkeypatch.chdir(tmp_path)
    for ref in ("~no-such-user-here/x.csv", "./loop/x.csv"):
        result = demo.cli("show", ref)
        assert result.exit_code == ExitCode.NOT_FOUND, (ref, result.output)
        assert "no artifact with uri" in result.stderr


def test_ls(demo: Demo) -> None:
    result = demo.cli("ls")
    assert result.exit_code == 0 and "customers.csv" in result.stdout
    assert len(demo.json("ls")) == 5
    assert [a["name"] for a in demo.json("ls", "artifacts", "--type", "Model")] == [
        "churn-C0.003",
        "churn-C1.0",
    ]
    assert [x["state"] for x in demo.json("ls", "executions", "--state", "cached")] == ["CACHED"]
    assert len(demo.json("ls", "executions", "--limit", "2")) == 2
    assert {a["name"] for a in demo.json("ls", "artifacts", "--context", "churn-C1.0")} == {
        "train.csv",
        "test.csv",
        "churn-C1.0",
    }
    assert [a["name"] for a in demo.json("ls", "--name", "TRAIN")] == ["train.csv"]
    assert len(demo.json("ls", "--uri", "/data/")) == 3
    assert {c["type"] for c in demo.json("ls", "contexts")} == {
        "Pipeline",
        "Experiment",
        "RegisteredModel",
    }
    types = demo.json("ls", "types")
    trainer = next(t for t in types if t["name"] == "Trainer")
    assert trainer["properties"] == {"C": "DOUBLE", "algorithm": "STRING"}
    assert demo.cli("ls", "types").exit_code == 0
    assert demo.cli("ls", "--context", "nope").exit_code == ExitCode.NOT_FOUND
    assert demo.cli("ls", "widgets").exit_code == ExitCode.USAGE


def test_a_narrow_table_keeps_its_title_on_one_line(tmp_path: Path) -> None:
    """A title wider than its table wrapped mid-word: "properti / es" over one short property,
    "artifacts by / state" in the demo's own stats."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store, store.run("Step") as run:
        run.output(Artifact(type="D", uri="/u", properties={"a": 1}))
    show = invoke(["show", "1", "--store", str(path)])
    assert show.exit_code == 0 and "properties" in show.stdout, show.output
    stats = invoke(["stats", "--store", str(path)])
    assert stats.exit_code == 0 and "artifacts by state" in stats.stdout, stats.output


def test_ls_types_filters_or_refuses_and_says_when_cut(demo: Demo) -> None:
    """``ls types`` ignored --name, --uri and --context (all 9 types listed), cut at --limit
    without a word, and ``ls widgets`` answered "use artifact, execution or context" (no
    types, kinds ls does not spell that way)."""
    assert sorted(t["name"] for t in demo.json("ls", "types", "--name", "data")) == [
        "DataSet",
        "IngestData",
        "SplitData",
    ]
    for option in ("--uri", "--context"):
        refused = demo.cli("ls", "types", option, "churn-C1.0")
        assert refused.exit_code == ExitCode.USAGE, refused.output
        assert f"{option}: types have no" in refused.stderr
    cut = demo.cli("ls", "types", "--limit", "2")
    assert cut.exit_code == 0 and "types: 2 of 9" in cut.stdout
    assert "7 more: raise --limit" in cut.stderr
    unknown = demo.cli("ls", "widgets")
    assert unknown.exit_code == ExitCode.USAGE
    assert "ls lists artifacts, executions, contexts or types, not 'widgets'" in unknown.stderr


def test_ls_uri_is_refused_for_kinds_without_a_uri(demo: Demo) -> None:
    """``ls executions --uri csv`` and ``ls contexts --uri csv`` listed nothing, exit 0 (a
    filter no execution or context can match); refused now, as ``ls types --uri`` is."""
    for kind in ("executions", "contexts"):
        refused = demo.cli("ls", kind, "--uri", "csv", "--json")
        assert refused.exit_code == ExitCode.USAGE, refused.output
        assert f"--uri: {kind} have no uri" in refused.stderr and refused.stdout == ""
    assert len(demo.json("ls", "artifacts", "--uri", "csv")) == 3


def test_ls_json_says_on_stderr_when_cut(demo: Demo) -> None:
    """``ls --json`` cut at --limit (50 by default) without a word: a script took the first
    page for the whole list. The note the table prints is on stderr with --json too."""
    for args, says in (
        (["ls", "--limit", "2", "--json"], "3 more: for the next page repeat the command with"),
        (["ls", "types", "--limit", "2", "--json"], "7 more: raise --limit"),
    ):
        cut = demo.cli(*args)
        assert cut.exit_code == 0, cut.output
        assert len(json.loads(cut.stdout)) == 2
        assert says in cut.stderr, cut.stderr
    whole = demo.cli("ls", "--limit", "5", "--json")
    assert whole.exit_code == 0 and whole.stderr == "", whole.stderr


def test_ls_state_is_checked_by_the_kind_listed(demo: Demo) -> None:
    """``ls --state SHINY`` and ``ls executions --state live`` printed an empty table (exit 0);
    like ``upstream --state SHINY`` they are usage errors (exit 2), any case accepted."""
    for args, says in (
        (["ls", "--state", "SHINY"], "'SHINY' is not an artifact state"),
        (["ls", "executions", "--state", "live"], "'live' is not an execution state"),
        (["ls", "artifacts", "--state", "complete"], "'complete' is not an artifact state"),
        (["ls", "contexts", "--state", "live"], "contexts have no state"),
        (["ls", "types", "--state", "live"], "types have no state"),
    ):
        result = demo.cli(*args)
        assert result.exit_code == ExitCode.USAGE, (args, result.output)
        assert says in " ".join(result.stderr.split()), result.stderr
    assert demo.cli("upstream", "5", "--state", "SHINY").exit_code == ExitCode.USAGE
    assert len(demo.json("ls", "--state", "live")) == 5
    assert [x["id"] for x in demo.json("ls", "executions", "--state", "Cached")] == [
        demo.cached_run_id
    ]


def test_ls_context_names_one_context(tmp_path: Path) -> None:
    """``ls --context x`` merged the members of every context named x, an Experiment's and a
    Pipeline's alike. ``Type/name`` names one; a bare name several types have is a usage
    error listing them (exit 2); a bare name only one context has works as before."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="DataSet"))
        data, model, other = store.put_artifacts(
            [Artifact(type="DataSet", uri=f"/{n}", name=n) for n in ("data", "model", "other")]
        )
        for name in ("Experiment", "Pipeline", "Team"):
            store.put_context_type(ContextType(name=name))
        experiment, pipeline, slashed = store.put_contexts(
            [
                Context(type="Experiment", name="x"),
                Context(type="Pipeline", name="x"),
                Context(type="Team", name="Pipeline/x"),  # a name may hold a slash
            ]
        )
        store.put_attributions_and_associations(
            [
                Attribution(context_id=experiment, artifact_id=data),
                Attribution(context_id=pipeline, artifact_id=model),
                Attribution(context_id=slashed, artifact_id=other),
            ],
            [],
        )

        def names(*args: str) -> list[str]:
            result = invoke(["ls", *args, "--json", "--store", str(path)])
            assert result.exit_code == 0, (args, result.output)
            return [a["name"] for a in json.loads(result.stdout)]

        ambiguous = invoke(["ls", "--context", "x", "--store", str(path)])
        assert ambiguous.exit_code == ExitCode.USAGE, ambiguous.output
        message = " ".join(ambiguous.stderr.split())
        assert (
            f"--context 'x' names 2 contexts: c:{experiment} (Experiment/x), c:{pipeline} "
            "(Pipeline/x)"
        ) in message
        assert "Type/name" in message and ambiguous.stdout == ""
        assert names("--context", "Experiment/x") == ["data"]
        assert names("-c", "Team/Pipeline/x") == ["other"]
        both = invoke(["ls", "--context", "Pipeline/x", "--store", str(path)])
        assert both.exit_code == ExitCode.USAGE, both.output  # Pipeline's x, or Team's name
        assert f"(Pipeline/x), c:{slashed} (Team/Pipeline/x)" in " ".join(both.stderr.split())
        missing = invoke(["ls", "--context", "Nope/x", "--store", str(path)])
        assert missing.exit_code == ExitCode.NOT_FOUND, missing.output


def test_stats(demo: Demo, tmp_path: Path) -> None:
    data = demo.json("stats")
    assert data["counts"] == {"artifacts": 5, "executions": 6, "contexts": 4}
    assert data["executions_by_state"] == {"COMPLETE": 5, "CACHED": 1}
    assert data["executions_by_type"]["Trainer"] == 3
    assert sum(data["artifacts_created_by_day"].values()) == 5
    table = demo.cli("stats")
    assert table.exit_code == 0 and "executions by state" in table.stdout


def test_stats_headline_counts_agree_with_their_nouns(tmp_path: Path) -> None:
    """``stats`` said "1 artifacts · 1 executions · 0 contexts" of a store holding one of each:
    the headline's nouns are singular for one, as every other count the CLI prints."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        store.put_execution_type(ExecutionType(name="Run"))
        store.put_artifact(Artifact(type="Data", name="d"))
        store.put_execution_node(Execution(type="Run", name="r"))
        result = invoke(["stats", "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == [
        "1", "artifact", "·", "1", "execution", "·", "0", "contexts"
    ]  # fmt: skip


def test_stats_plot(demo: Demo, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the [viz] extra (matplotlib) is not installed")
    target = tmp_path / "charts" / "stats.png"
    result = demo.cli("stats", "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stats_plot_draws_a_type_name_holding_dollars(tmp_path: Path) -> None:
    """matplotlib takes text between two '$' for TeX math: an execution type named
    ``train $\\frac$`` ended ``stats --plot`` with a ValueError traceback (exit 1), and
    ``$\\alpha$`` was drawn as a Greek alpha. Names are drawn as they read."""
    pytest.importorskip("matplotlib", reason="the [viz] extra (matplotlib) is not installed")
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        for name in ("train $\\frac$ run", "cost in $", "$\\alpha$"):
            type_id = store.put_execution_type(ExecutionType(name=name))
            store.put_execution_node(Execution(type_id=type_id, name="x"))
        target = tmp_path / "stats.png"
        result = invoke(["stats", "--plot", str(target), "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("filters", ["", "error", "ignore", "always"])
def test_stats_plot_says_once_when_the_font_lacks_characters(tmp_path: Path, filters: str) -> None:
    """A CJK execution type name printed matplotlib's "UserWarning: Glyph 27169 ... missing
    from font(s)" and a line of the CLI's source, for each character, on stderr; one note
    now, whatever the warning filters: under ``PYTHONWARNINGS=error`` the first glyph was an
    exception out of ``savefig`` (exit 70, "an unexpected error", a traceback, no file)."""
    pytest.importorskip("matplotlib", reason="the [viz] extra (matplotlib) is not installed")

    from matplotlib import font_manager

    name = "\u6a21\u578b\u8bad\u7ec3"
    font = font_manager.get_font(font_manager.findfont("DejaVu Sans"))
    if all(font.get_char_index(ord(c)) for c in name):
        pytest.skip("the font has these characters")
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        type_id = store.put_execution_type(ExecutionType(name=name))
        store.put_execution_node(Execution(type_id=type_id, name="x"))
        target = tmp_path / "stats.png"
        command = ["stats", "--plot", str(target), "--store", str(path)]
        result = cli_process(command, PYTHONWARNINGS=filters)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "savefig" not in result.stderr, result.stderr
    assert result.stderr.count("the type names have 4 characters matplotlib's font lacks") == 1
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stats_plot_keeps_the_users_warning_filters(tmp_path: Path) -> None:
    """``stats --plot`` recorded every warning of the drawing under "always" and raised each
    again with ``warn_explicit``: a filter naming the warning's module
    (``PYTHONWARNINGS=ignore::UserWarning:lineage_graph.cli._inspect``) no longer matched it,
    and a warning the default filter shows once was shown twice. matplotlib's
    "constrained_layout not applied" (a type name too long for the figure) shows it."""
    pytest.importorskip("matplotlib", reason="the [viz] extra (matplotlib) is not installed")

    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        type_id = store.put_execution_type(ExecutionType(name="T" + "x" * 190))
        store.put_execution_node(Execution(type_id=type_id, name="x"))

    def plot(filters: str) -> str:
        command = ["stats", "--plot", str(tmp_path / "s.png"), "--store", str(path)]
        result = cli_process(command, PYTHONWARNINGS=filters)
        assert result.returncode == 0, result.stderr
        return result.stderr

    shown = plot("").count("constrained_layout not applied")
    if shown == 0:
        pytest.skip("this matplotlib lays the figure out without a warning")
    assert shown == 1  # the default filter: once per place
    ignored = plot("ignore::UserWarning:lineage_graph.cli._inspect")
    assert "constrained_layout" not in ignored, ignored


def test_stats_plot_pgf_without_tex_is_a_usage_error(demo: Demo, tmp_path: Path) -> None:
    """matplotlib lists .pgf among the formats it writes, but runs TeX (xelatex) to write
    one: without it ``stats --plot s.pgf`` ended with a RuntimeError traceback, exit 1 ("the
    answer is no"), after reading the store."""
    matplotlib = pytest.importorskip("matplotlib", reason="the [viz] extra is not installed")
    import shutil

    tex = matplotlib.rcParams["pgf.texsystem"]
    if shutil.which(tex) is not None:
        pytest.skip(f"{tex} is installed")
    target = tmp_path / "s.pgf"
    result = demo.cli("stats", "--plot", str(target))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"needs {tex} (TeX) to write a .pgf file" in result.stderr
    assert not target.exists()


def test_doctor(demo: Demo) -> None:
    result = demo.cli("doctor")
    assert result.exit_code == 0, result.output
    for text in ("engine reachable", "schema version", "data directory", "falkordb"):
        assert text in result.stdout
    report = demo.json("doctor")
    assert report["ok"] is True
    checks = {c["check"]: c for c in report["checks"]}
    assert checks["schema version"]["ok"] is True
    assert "5 artifacts" in checks["contents"]["detail"]
    broken = invoke(["doctor", "--store", "nosuch://host", "--json"])
    assert broken.exit_code == ExitCode.NO
    assert json.loads(broken.stdout)["ok"] is False


def test_doctor_counts_one_as_one(tmp_path: Path) -> None:
    """The contents row said "1 artifacts, 0 executions, 1 contexts"."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        type_id = store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifact(Artifact(type_id=type_id, uri="/d"))
        report = invoke(["doctor", "--json", "--store", str(path)])
    assert report.exit_code == 0, report.output
    checks = {c["check"]: c for c in json.loads(report.stdout)["checks"]}
    assert checks["contents"]["detail"] == "1 artifact, 0 executions, 0 contexts"


def test_doctor_puts_a_newer_store_on_the_schema_row(tmp_path: Path) -> None:
    """A store written by a newer library: the engine answered, the schema version is what is
    wrong (it was reported as "engine reachable ✗", and the schema row was missing)."""
    from lineage_graph._schema import SCHEMA_VERSION

    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.backend.write(
            "MATCH (m:StoreInfo {key: 'store'}) SET m.schema_version = $v, "
            "m.library_version = '9.0'",
            {"v": SCHEMA_VERSION + 1},
            name="tests/newer",
        )
    result = invoke(["doctor", "--json", "--store", str(path)])
    assert result.exit_code == ExitCode.NO, result.output
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["engine reachable"]["ok"] is True
    assert checks["schema version"]["ok"] is False
    assert "written by lineage-graph 9.0" in checks["schema version"]["detail"]
    assert invoke(["ls", "--store", str(path)]).exit_code == ExitCode.STORE_UNAVAILABLE


def test_doctor_says_when_its_opening_migrated_an_older_store(tmp_path: Path) -> None:
    """doctor opens the store as every command does, which migrates an older one: it reported
    only the version its opening had just written ("store 3"), so nothing said the store had
    been at an older version (one an older library, still in use beside it, could open)."""
    from lineage_graph._schema import SCHEMA_VERSION
    from tests.reliability.test_migrations import downgrade_to_v0, populate

    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        populate(store)
        downgrade_to_v0(store.backend)
    result = invoke(["doctor", "--json", "--store", str(path)])
    assert result.exit_code == 0, result.output
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["schema version"]["detail"] == (
        f"store {SCHEMA_VERSION}, library reads up to {SCHEMA_VERSION} "
        "(migrated from schema version 0 by this check's opening)"
    )
    again = invoke(["doctor", "--json", "--store", str(path)])  # a current store: nothing to say
    checks = {c["check"]: c for c in json.loads(again.stdout)["checks"]}
    assert checks["schema version"]["detail"] == (
        f"store {SCHEMA_VERSION}, library reads up to {SCHEMA_VERSION}"
    )


def test_doctor_keeps_the_line_breaks_of_a_failure(tmp_path: Path) -> None:
    """A server that cannot start is reported with its log's last lines: doctor printed them
    as one run joined by visible '\\n' escapes ('...CONSTRAINT'\\n19684:M 05 Dec...'), where
    every other command's error keeps them as lines."""
    path = tmp_path / "store"
    LineageStore.open(path).close()
    with next((path / "appendonly").glob("*.incr.aof")).open("ab") as aof:
        aof.write(b"*3\r\n$3\r\nSET\r\ntruncated")  # malformed: the AOF will not load
    result = invoke(["doctor", "--store", str(path)])
    assert result.exit_code == ExitCode.NO, result.output
    assert "\\n" not in result.stdout
    assert any("Bad file format" in line for line in result.stdout.splitlines())


def test_doctor_never_prints_a_password() -> None:
    """The target may carry credentials (``redis://:pw@host``) and the environment a
    ``NEO4J_PASSWORD``: neither reaches the terminal, in tables, JSON or error messages."""
    target = "redis://admin:hunter2-secret@127.0.0.1:1/g"  # nothing listens on port 1
    env = {"NEO4J_PASSWORD": "env-s3cret-pw"}
    for args in (["doctor"], ["doctor", "--json"], ["ls"], ["show", "1"]):
        result = invoke([*args, "--store", target], env=env)
        assert result.exit_code in (ExitCode.NO, ExitCode.STORE_UNAVAILABLE), result.output
        assert "hunter2" not in result.output and "admin:***@127.0.0.1" in result.output
    report = json.loads(invoke(["doctor", "--json", "--store", target], env=env).stdout)
    assert report["store"] == "redis://admin:***@127.0.0.1:1/g"
    leaked = invoke(["show", "1", "--store", "nosuch://env-s3cret-pw@x"], env=env)
    assert "env-s3cret-pw" not in leaked.output and "***" in leaked.output


#: What must never reach the terminal from stored text: C0 (but the newline rich ends lines
#: with), DEL and C1 control characters.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def test_control_characters_in_stored_text_never_reach_the_terminal(tmp_path: Path) -> None:
    """A type named "T\\x1b[31mred" was printed with the raw escape sequence by ls, show and
    upstream (rich escapes its markup, not these). Every stored text is shown with its control
    characters as visible escapes; --json stays exact (and escapes them the JSON way)."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        with store.run("T\x1b[31mred", context="ctx\x1b[2J") as run:
            run.output(
                Artifact(
                    type="D\x9b1m",
                    uri="/u/\x1b]0;owned\x07",
                    name="n\x7f\tx",
                    custom_properties={"k\x1b[1m": "v\x1b[5m\nnext"},
                )
            )
        for args in (
            ["ls"], ["ls", "executions"], ["ls", "contexts"], ["ls", "types"], ["show", "1"],
            ["show", "e:1"], ["show", "c:1"], ["upstream", "1"], ["downstream", "e:1"],
            ["impact", "1", "--tree"], ["stats"], ["compare", "1", "1"], ["diff", "1", "1"],
            ["ls", "--context", "ctx\x1b[2J"], ["export", "1", "-f", "dot"],
            ["export", "1", "-f", "mermaid"], ["export", "1"], ["export", "1", "-o", "-"],
            ["export"], ["export", "1", "--limit", "1"],
        ):  # fmt: skip
            result = invoke([*args, "--store", str(path)])
            assert result.exit_code == 0, (args, result.output)
            assert not RAW_CONTROL.search(result.output), (args, result.output)
        show = invoke(["show", "1", "--store", str(path)]).stdout
        for shown in ("D\\x9b1m", "/u/\\x1b]0;owned\\x07", "n\\x7f\\tx", "k\\x1b[1m"):
            assert shown in show, shown
        assert "v\\x1b[5m\\nnext" in show
        assert "T\\x1b[31mred" in invoke(["upstream", "1", "--store", str(path)]).stdout
        # error messages quoting stored names are printable too
        error = invoke(["cached", "X", "-i", "e:1", "--store", str(path)])
        assert error.exit_code == ExitCode.USAGE and "T\\x1b[31mred" in error.stderr
        assert not RAW_CONTROL.search(error.output)
        # JSON: exact values
        raw = invoke(["show", "1", "--json", "--store", str(path)]).stdout
        assert not RAW_CONTROL.search(raw)
        data = json.loads(raw)
        assert (data["type"], data["uri"], data["name"]) == (
            "D\x9b1m",
            "/u/\x1b]0;owned\x07",
            "n\x7f\tx",
        )
        assert data["custom_properties"] == {"k\x1b[1m": "v\x1b[5m\nnext"}
        assert data["produced_by"][0]["type"] == "T\x1b[31mred"
        # export's JSON (it printed a C1 character, U+009B CSI, as it is): exact values too
        exported = json.loads(invoke(["export", "1", "--store", str(path)]).stdout)
        assert [a["type"] for a in exported["artifacts"]] == ["D\x9b1m"]


# ---------------------------------------------------------------------------- export, view


def test_export_json_and_html(demo: Demo, tmp_path: Path) -> None:
    best = demo.result.best.artifact
    result = demo.cli("export", str(best.id), "--direction", "upstream")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {a["id"] for a in data["artifacts"]} >= {best.id, demo.result.raw.id}
    target = tmp_path / "out" / "whole.json"
    assert demo.cli("export", "-o", str(target)).exit_code == 0
    whole = json.loads(target.read_text())
    assert len(whole["artifacts"]) == 5 and len(whole["executions"]) == 6
    page = tmp_path / "page.html"
    result = demo.cli("export", str(best.id), "--format", "html", "-o", str(page))
    assert result.exit_code == 0, result.output
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_export_mermaid(demo: Demo) -> None:
    """Downstream of the raw dataset: every step after it, none before, edges the way data flows."""
    raw, best = demo.result.raw, demo.result.best.artifact
    result = demo.cli("export", str(raw.id), "--format", "mermaid", "--direction", "downstream")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    assert f"  a{raw.id} -->|INPUT| e2" in lines  # customers.csv is SplitData's input
    assert any(line.startswith(f"  a{best.id}(") for line in lines)
    assert not any(line.startswith("  e1[") for line in lines)  # IngestData is upstream
    whole = demo.cli("export", "--format", "mermaid")
    assert whole.exit_code == 0 and whole.stdout.count("-->|") == 14  # every event


def test_export_dot(demo: Demo, tmp_path: Path) -> None:
    best = demo.result.best.artifact
    target = tmp_path / "up.dot"
    result = demo.cli(
        "export", str(best.id), "-f", "dot", "--direction", "upstream", "--depth", "1",
        "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    dot = target.read_text()
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    # One hop upstream of the model: its Trainer only.
    assert f'e4 -> a{best.id} [label="OUTPUT"];' in dot
    assert dot.count("[shape=box") == 1 and dot.count("[shape=ellipse") == 1


def test_whole_store_export_says_when_the_limit_cuts_it(demo: Demo) -> None:
    result = demo.cli("export", "--limit", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["artifacts"]) == 2 and data["complete"] is False
    assert "only the first 2" in result.stderr
    whole = json.loads(demo.cli("export").stdout)
    assert whole["complete"] is True
    # "total" was null for the whole store (a walk from an entity gives its size): now the
    # store's artifacts and executions, cut by --limit or not
    total = len(whole["artifacts"]) + len(whole["executions"])
    assert whole["total"] == data["total"] == total > 0


def test_export_choices_take_any_case(demo: Demo) -> None:
    """``export -f JSON`` was a usage error (exit 2) while ``--state live`` is taken in any
    case; ``--format``, ``--direction`` and ``--only`` are now too."""
    best = demo.result.best.artifact
    lower = demo.cli("export", str(best.id), "-f", "mermaid", "--direction", "upstream")
    upper = demo.cli("export", str(best.id), "-f", "MERMAID", "--direction", "UpStream")
    assert upper.exit_code == 0, upper.output
    assert upper.stdout == lower.stdout
    assert json.loads(demo.cli("export", "-f", "JSON").stdout)["complete"] is True
    only = demo.cli("export", str(best.id), "--only", "Artifacts")
    assert only.exit_code == 0 and json.loads(only.stdout)["executions"] == [], only.output
    assert demo.cli("export", "-f", "jsonx").exit_code == ExitCode.USAGE


def test_view_writes_the_page(demo: Demo, tmp_path: Path) -> None:
    page = tmp_path / "view.html"
    result = demo.cli("view", "--no-open", "-o", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert 'data-nodes="11"' in html and "cytoscape" in html
    focused = demo.cli("view", str(demo.result.raw.id), "--direction", "downstream",
                       "--no-open", "-o", str(page))  # fmt: skip
    assert focused.exit_code == 0 and 'data-nodes="10"' in page.read_text()


def test_the_page_from_ref_is_capped_and_paged_not_unbounded(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``view REF`` and ``export REF -f html`` walked the whole lineage into one page: 50,000
    nodes made one page whose layout alone took 40 s (headless), nothing said. The page
    from REF is one page of PAGE_LIMIT nodes unless --limit (here PAGE_LIMIT made 4, under the
    demo's 10 nodes downstream of its raw data), said on stderr with the cursor of the next; the
    text exports stay whole."""
    from lineage_graph.cli import _graph

    monkeypatch.setattr(_graph, "PAGE_LIMIT", 4)
    raw = str(demo.result.raw.id)
    page = tmp_path / "view.html"
    pages = {
        "view": ["view", raw, "--direction", "downstream", "--no-open", "-o", str(page)],
        "export": ["export", raw, "--direction", "downstream", "-f", "html", "-o", str(page)],
    }
    for args in pages.values():
        result = demo.cli(*args)
        assert result.exit_code == 0, result.output
        assert 'data-nodes="4"' in page.read_text()
        message = " ".join(result.stderr.split())
        assert "this page has 4 of 10 nodes" in message, message
        assert "draws at most 4 nodes unless --limit" in message, message
        cursor = re.search(r"--cursor (\S+)", message)
        assert cursor is not None
        following = demo.cli(*args, "--cursor", cursor.group(1))
        assert following.exit_code == 0, following.output
        assert 'data-nodes="4"' in page.read_text()
    # --limit is the user's: as given, nothing said of the cap
    result = demo.cli(*pages["view"], "--limit", "20")
    assert result.exit_code == 0 and 'data-nodes="10"' in page.read_text(), result.output
    assert "incomplete" not in result.stderr
    # the text exports are not drawn by the page: whole
    exported = demo.cli("export", raw, "--direction", "downstream")
    assert exported.exit_code == 0, exported.output
    whole = json.loads(exported.stdout)
    assert whole["complete"] is True and len(whole["artifacts"]) + len(whole["executions"]) == 10


def test_a_page_without_ref_says_so(demo: Demo, tmp_path: Path) -> None:
    """Pages of a lineage are in the walk's order, not from REF: ``view MODEL`` of a lineage
    larger than a page drew a page without the model, nothing selected, and said only that it
    was a page. Every page without REF (the last one too) says it is not on it; the
    viewer's page that it opens with nothing selected; a page with REF says nothing of it."""
    model = demo.result.models[-1].id
    cursor: str | None = None
    pages: list[tuple[bool, str]] = []
    while True:
        args = ["export", str(model), "--limit", "3", *(["--cursor", cursor] if cursor else [])]
        result = demo.cli(*args)
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        on_page = model in {a["id"] for a in answer["artifacts"]}
        pages.append((on_page, " ".join(result.stderr.split())))
        cursor = answer["cursor"]
        if cursor is None:
            break
    assert len(pages) > 1 and not pages[0][0], pages  # the model is not on the first page
    assert sum(on for on, _ in pages) == 1, pages
    for on_page, message in pages:
        said = f"Artifact {model} (REF) is not on this page" in message
        assert said is not on_page, message
        assert "nothing selected" not in message
    page = tmp_path / "view.html"
    result = demo.cli("view", str(model), "--limit", "3", "--no-open", "-o", str(page))
    assert result.exit_code == 0, result.output
    message = " ".join(result.stderr.split())
    assert f"Artifact {model} (REF) is not on this page" in message, message
    assert "(pages go by id); the page opens with nothing selected" in message


def _text_browsers(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """Fake text browsers (lynx, w3m, www-browser) in a ``bin`` folder first on PATH, each
    noting its run in ``ran.txt``: that folder, that file, and the environment of a CLI
    subprocess in an ssh-like terminal (TERM set; the caller removes DISPLAY and the rest)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ran = tmp_path / "ran.txt"
    for name in ("lynx", "w3m", "www-browser"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{ran}"\n')
        script.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TERM": "xterm"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return bin_dir, ran, env


@pytest.mark.skipif(
    sys.platform in ("darwin", "win32"), reason="macOS and Windows always have a display"
)
def test_view_starts_no_text_browser_where_there_is_no_display(demo: Demo, tmp_path: Path) -> None:
    """In an ssh session (TERM set, no DISPLAY nor WAYLAND_DISPLAY) ``view`` ran the first text
    browser on PATH (lynx, w3m, www-browser: Python's webbrowser falls back to them) in the
    terminal and waited for it to be quit: a browser that cannot run the page's scripts. It
    now starts none and says why and where the page is; a BROWSER the user names is used."""
    bin_dir, ran, env = _text_browsers(tmp_path)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "LINEAGE_GRAPH_STORE"):
        env.pop(name, None)
    page = tmp_path / "view.html"
    command = [sys.executable, "-m", "lineage_graph.cli", "view", "5", "-o", str(page)]
    command += ["--store", str(demo.path)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not ran.exists(), ran.read_text()
    message = " ".join(done.stderr.split())
    assert "no browser could be started (no display" in message, message
    assert page.as_uri() in message and page.is_file()
    # a browser named by BROWSER is the user's choice: it is started
    env["BROWSER"] = str(bin_dir / "w3m")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ran.read_text() == f"w3m {page.as_uri()}\n"
    assert "no browser" not in done.stderr


@pytest.mark.skipif(
    sys.platform in ("darwin", "win32"), reason="macOS and Windows always have a display"
)
@pytest.mark.parametrize("chosen", ["{bin}/no-such-browser", os.pathsep, "{bin}/no-such:"])
def test_a_browser_variable_that_starts_nothing_falls_back_to_no_text_browser(
    demo: Demo, tmp_path: Path, chosen: str
) -> None:
    """Without a display, a ``BROWSER`` naming no command that runs (a typo, a browser since
    uninstalled, ``BROWSER=:``) counted as a browser chosen, and Python's webbrowser went on
    down its list when it failed: to www-browser, run in the terminal, which cannot run the
    page and held the command until quit. Only what BROWSER names is tried there; when none
    starts, it says so and where the page is."""
    bin_dir, ran, env = _text_browsers(tmp_path)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "LINEAGE_GRAPH_STORE"):
        env.pop(name, None)
    env["BROWSER"] = chosen.format(bin=bin_dir)
    page = tmp_path / "view.html"
    command = [sys.executable, "-m", "lineage_graph.cli", "view", "5", "-o", str(page)]
    command += ["--store", str(demo.path)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not ran.exists(), ran.read_text()
    message = " ".join(done.stderr.split())
    assert "no browser could be started" in message and page.as_uri() in message, message
    # one of BROWSER's choices that runs is started, after one that does not
    env["BROWSER"] = f"{bin_dir / 'no-such'}{os.pathsep}{bin_dir / 'w3m'}"
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ran.read_text() == f"w3m {page.as_uri()}\n"


@pytest.mark.skipif(
    sys.platform in ("darwin", "win32"), reason="macOS and Windows always have a display"
)
def test_view_starts_no_browser_on_a_display_no_server_answers(demo: Demo, tmp_path: Path) -> None:
    """``DISPLAY=:99`` with no X server (a stale ssh variable, a container) counted as a
    display: Python's webbrowser started a browser that died on it, ``view`` exited 0 saying
    only "viewer page written" and the page never opened. It now starts none and says why and
    where the page is."""
    bin_dir, ran, env = _text_browsers(tmp_path)
    for name in ("chromium", "xdg-open", "gio", "x-www-browser", "firefox", "google-chrome"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{ran}"\n')
        script.chmod(0o755)
    for name in ("WAYLAND_DISPLAY", "BROWSER", "LINEAGE_GRAPH_STORE"):
        env.pop(name, None)
    number = 7359
    for address in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):
        with socket.socket(socket.AF_UNIX) as probe, pytest.raises(OSError):
            probe.connect(address)  # no X server there
    env["DISPLAY"] = f":{number}"
    page = tmp_path / "view.html"
    command = [sys.executable, "-m", "lineage_graph.cli", "view", "5", "-o", str(page)]
    command += ["--store", str(demo.path)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not ran.exists(), ran.read_text()
    message = " ".join(done.stderr.split())
    assert f"(no display: DISPLAY=:{number} names no display server that answers" in message
    assert page.as_uri() in message and page.is_file()
    # a display whose server answers (here a socket listening where X's would) is used; the
    # real xdg-settings webbrowser asks would wait on that socket for an X server's reply
    (bin_dir / "xdg-settings").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "xdg-settings").chmod(0o755)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(f"\0/tmp/.X11-unix/X{number}")
        server.listen(1)
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ran.exists() and page.as_uri() in ran.read_text()
    assert "no browser" not in done.stderr


def test_an_output_file_that_cannot_be_written_is_a_usage_error(demo: Demo, tmp_path: Path) -> None:
    """``-o``, ``--plot`` and ``demo --dir`` under a regular file or onto a directory raised
    FileNotFoundError / IsADirectoryError / NotADirectoryError as tracebacks (exit 1): now one
    line naming the path and the reason, exit 2, and nothing written."""
    afile = tmp_path / "afile"
    afile.write_text("untouched")
    adir = tmp_path / "adir"
    adir.mkdir()
    cases = [
        (["export", "5", "-f", "html", "-o", str(afile / "x.html")], afile / "x.html", "afile"),
        (["export", "5", "-f", "json", "-o", str(adir)], adir, "is a directory"),
        (["export", "5", "-f", "dot", "-o", str(afile / "x.dot")], afile / "x.dot", "afile"),
        (["view", "5", "--no-open", "-o", str(afile / "v.html")], afile / "v.html", "afile"),
        # the page onto a directory: write_html's typed error, reported the same way
        (["view", "5", "--no-open", "-o", str(adir)], adir, "is a directory"),
        (["export", "5", "-f", "html", "-o", str(adir)], adir, "is a directory"),
    ]
    for args, path, reason in cases:
        result = demo.cli(*args)
        assert result.exit_code == ExitCode.USAGE, (args, result.output)
        message = " ".join(result.stderr.split())
        assert f"cannot write {path}:" in message and reason in message, message
        assert "Traceback" not in result.output
    made = invoke(["demo", "--dir", str(afile / "demo")])
    assert made.exit_code == ExitCode.USAGE, made.output
    assert f"cannot write {afile / 'demo'}" in " ".join(made.stderr.split())
    assert afile.read_text() == "untouched" and list(adir.iterdir()) == []


def test_stats_plot_refuses_what_it_cannot_write(demo: Demo, tmp_path: Path) -> None:
    """``--plot out/s.txt`` raised matplotlib's ValueError after making ``out/`` (exit 1), and
    a path under a file a traceback: now usage errors (exit 2), nothing made."""
    pytest.importorskip("matplotlib", reason="the [viz] extra (matplotlib) is not installed")
    out = tmp_path / "out"
    for name in ("s.txt", "s"):
        result = demo.cli("stats", "--plot", str(out / name))
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "--plot: cannot draw" in result.stderr and ".png, .svg or .pdf" in result.stderr
    assert not out.exists()
    afile = tmp_path / "afile"
    afile.write_text("untouched")
    under = demo.cli("stats", "--plot", str(afile / "s.png"))
    assert under.exit_code == ExitCode.USAGE, under.output
    assert f"cannot write {afile / 's.png'}" in " ".join(under.stderr.split())
    assert afile.read_text() == "untouched"


def test_import_mlmd_is_registered() -> None:
    assert invoke(["import-mlmd", "--help"]).exit_code == 0


def test_progress_leaves_no_blank_line_off_a_terminal(demo: Demo, tmp_path: Path) -> None:
    """export, view and import-mlmd show a transient progress display; off a terminal (a log,
    a pipe) it was not shown but still left a blank line on stderr every time."""
    assert demo.cli("export", "-f", "mermaid").stderr == ""
    out = tmp_path / "g.json"
    assert demo.cli("export", "5", "-o", str(out)).stderr == f"json written to {out}\n"
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "src.sqlite")
    metadata_store.MetadataStore(config)
    imported = invoke(["import-mlmd", str(tmp_path / "src.sqlite"), "-s", str(tmp_path / "s")])
    assert imported.exit_code == 0 and imported.stderr == "", imported.output


def test_import_mlmd_from_a_bad_source_makes_no_store(tmp_path: Path) -> None:
    """The target used to be opened first: ``import-mlmd nope.sqlite -s DIR`` failed (no such
    file) after making an empty store in DIR, which ``ls -s DIR`` then listed as empty
    instead of refusing ("no store at DIR")."""
    pytest.importorskip("ml_metadata")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_text("not a database")
    for source, code in ((tmp_path / "nope.sqlite", ExitCode.NOT_FOUND), (garbage, ExitCode.ERROR)):
        target = tmp_path / f"store-{source.stem}"
        result = invoke(["import-mlmd", str(source), "--store", str(target)])
        assert result.exit_code == code, result.output
        assert not target.exists()
        assert invoke(["ls", "--store", str(target)]).exit_code == ExitCode.STORE_UNAVAILABLE


@pytest.mark.parametrize("port", ["abc", "99999"])
def test_import_mlmd_from_a_mysql_url_with_a_bad_port_is_refused(tmp_path: Path, port: str) -> None:
    """urlparse's port raised ValueError ('Port could not be cast to integer value', 'Port out
    of range') out of the command: a traceback and exit 1 (the answer is no)."""
    pytest.importorskip("ml_metadata")
    target = tmp_path / "store"
    result = invoke(["import-mlmd", f"mysql://u:secret@db:{port}/mlmd", "--store", str(target)])
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "bad port" in result.stderr and "secret" not in result.output
    assert not target.exists()


def test_import_mlmd_refuses_a_directory_of_other_files(tmp_path: Path) -> None:
    """``import-mlmd a.db --store DIR`` with DIR a project folder (files, no store) made a store
    there, its appendonly/, dump.rdb, server.log and lock file among the user's files (as
    ``demo --dir`` refuses to). It is refused (exit 4, as the other commands refuse a directory
    without a store) and nothing is added; an empty or new directory is still made a store."""
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    source = tmp_path / "src.sqlite"
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(source)
    metadata_store.MetadataStore(config)
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    env = {"LINEAGE_GRAPH_STORE": str(project)}
    for result in (
        invoke(["import-mlmd", str(source), "--store", str(project)]),
        invoke(["import-mlmd", str(source)], env=env),
    ):
        assert result.exit_code == ExitCode.STORE_UNAVAILABLE, result.output
        assert "not empty and holds no store" in " ".join(result.stderr.split())
        assert sorted(p.name for p in project.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (empty, tmp_path / "new" / "sub"):
        result = invoke(["import-mlmd", str(source), "--store", str(target)])
        assert result.exit_code == 0, result.output
        # the store made there takes a second import (with --merge: it holds the types)
        again = invoke(["import-mlmd", str(source), "--store", str(target), "--merge"])
        assert again.exit_code == 0, again.output


def test_import_mlmd_reads_sqlite_urls_as_sqlalchemy_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``import-mlmd sqlite:///a.db`` looked for ``/a.db`` (not found, exit 3): SQLAlchemy's
    convention, which MLMD and Kubeflow users write, is ``sqlite:///a.db`` for the relative
    ``a.db`` and ``sqlite:////abs/a.db`` for an absolute path."""
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    source = tmp_path / "a.db"
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(source)
    metadata_store.MetadataStore(config)
    monkeypatch.chdir(tmp_path)
    for url, target in (("sqlite:///a.db", "rel"), (f"sqlite:///{source}", "abs")):
        result = invoke(["import-mlmd", url, "--store", str(tmp_path / target), "--json"])
        assert result.exit_code == 0, result.output
    result = invoke(["import-mlmd", "sqlite://", "--store", str(tmp_path / "mem")])
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "names no SQLite file" in result.stderr and not (tmp_path / "mem").exists()


def test_import_mlmd_never_creates_the_sqlite_file_a_connection_config_names(
    tmp_path: Path,
) -> None:
    """A .pbtxt ConnectionConfig naming a SQLite file that is not there: ml_metadata's default
    mode made a new empty MLMD database at that path, and the import exited 0 having copied
    nothing into a new empty store. It is 'no MLMD SQLite file' (exit 3), as for a path."""
    pytest.importorskip("ml_metadata")
    missing = tmp_path / "typo.db"
    config = tmp_path / "mlmd.pbtxt"
    config.write_text(f'sqlite {{ filename_uri: "{missing}" }}\n')
    target = tmp_path / "store"
    result = invoke(["import-mlmd", str(config), "--store", str(target)])
    assert result.exit_code == ExitCode.NOT_FOUND, result.output
    assert "no MLMD SQLite file" in result.stderr
    assert not missing.exists() and not target.exists()


# ------------------------------------------------------------------------ choosing the store


def test_store_from_the_environment(demo: Demo) -> None:
    result = demo.cli("ls", "--json", env={"LINEAGE_GRAPH_STORE": str(demo.path)}, store=False)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 5


def test_a_store_directory_that_cannot_be_made_is_exit_4(tmp_path: Path) -> None:
    """A store path under a regular file raised NotADirectoryError as a traceback (exit 1),
    even from a command that creates its store: now the configuration error (exit 4)."""
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    source = tmp_path / "src.sqlite"  # a real (empty) MLMD store: the source is opened first
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(source)
    metadata_store.MetadataStore(config)
    afile = tmp_path / "afile"
    afile.write_text("not a store")
    target = str(afile / "sub")
    result = invoke(["import-mlmd", str(source), "--store", target])
    assert result.exit_code == ExitCode.STORE_UNAVAILABLE, result.output
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert f"cannot create the data directory {target}: not a directory" in message
    assert "Traceback" not in result.output and afile.read_text() == "not a store"


def test_reading_commands_never_create_a_store(demo: Demo, tmp_path: Path) -> None:
    """A mistyped ``--store`` made a new empty store (and the directories up to it), then said
    "no artifact with id 1". Commands that only read refuse a directory where no store was
    ever opened (exit 4, "no store at PATH") and make nothing; so does LINEAGE_GRAPH_STORE."""
    missing = tmp_path / "nonexistent" / "deep" / "path"
    empty = tmp_path / "empty"
    empty.mkdir()
    demo_dir = demo.path.parent  # the demo's own directory, not its store: a likely slip
    for target in (missing, empty, demo_dir):
        for args in (["show", "1"], ["ls"], ["upstream", "5"], ["stats"], ["export"]):
            result = invoke([*args, "--store", str(target)])
            assert result.exit_code == ExitCode.STORE_UNAVAILABLE, (args, result.output)
            assert f"no store at {target}" in " ".join(result.stderr.split())
        from_env = invoke(["ls"], env={"LINEAGE_GRAPH_STORE": str(target)})
        assert from_env.exit_code == ExitCode.STORE_UNAVAILABLE, from_env.output
        assert f"no store at {target}" in " ".join(from_env.stderr.split())
    assert not (tmp_path / "nonexistent").exists() and list(empty.iterdir()) == []
    assert "lineage-graph.lock" not in {p.name for p in demo_dir.iterdir()}
    doctor = invoke(["doctor", "--json", "--store", str(missing)])
    assert doctor.exit_code == ExitCode.NO, doctor.output
    checks = {c["check"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["data directory"]["ok"] is False and "engine reachable" not in checks
    assert not (tmp_path / "nonexistent").exists()
    # the real store opens, by --store or by the environment
    assert demo.cli("ls").exit_code == 0


def test_an_empty_store_target_is_refused(tmp_path: Path) -> None:
    """``--store ''`` opened the default store, where the Python API (and an empty
    LINEAGE_GRAPH_STORE) refuse '' with ConfigurationError: now refused the same way."""
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    for args, extra_env in ((["ls", "--store", ""], {}), (["ls"], {"LINEAGE_GRAPH_STORE": ""})):
        result = invoke(args, env={**env, **extra_env})
        assert result.exit_code == ExitCode.STORE_UNAVAILABLE, (args, result.output)
        assert "a store target must be a non-empty string" in " ".join(result.stderr.split())
    assert not (tmp_path / "data").exists()


def test_default_store_is_the_embedded_one_in_the_data_dir(tmp_path: Path) -> None:
    result = invoke(["doctor", "--json"], env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["store target"]["detail"] == f"embedded-dir: {tmp_path / 'lineage-graph'}"
    assert (tmp_path / "lineage-graph").is_dir()
    assert invoke(["ls", "--json"], env={"XDG_DATA_HOME": str(tmp_path)}).stdout.strip() == "[]"


def test_not_found_in_the_default_store_says_which_store(demo: Demo, tmp_path: Path) -> None:
    """``lineage-graph upstream 5`` after ``demo``, without --store, looked in the default
    store and said only "no artifact with id 5": the newcomer's store is the demo's."""
    env = {"XDG_DATA_HOME": str(tmp_path)}
    result = invoke(["upstream", "5"], env=env)
    assert result.exit_code == ExitCode.NOT_FOUND, result.output
    message = " ".join(result.stderr.split())
    assert "no artifact with id 5 (in the default store," in message
    assert str(tmp_path / "lineage-graph") in message and "--store" in message
    named = demo.cli("show", "4242")  # a store was named: nothing to add
    assert named.exit_code == ExitCode.NOT_FOUND
    assert " ".join(named.stderr.split()) == "error: no artifact with id 4242"


def test_a_stdout_that_cannot_encode_a_name_gets_it_escaped(tmp_path: Path) -> None:
    """With an ASCII (or Latin-1) stdout, every command that printed a stored unicode name
    died with a UnicodeEncodeError traceback (exit 1). Tables escape such characters; JSON
    escapes them as JSON does, so it still parses to the same names."""
    import subprocess
    import sys

    path = tmp_path / "store"
    with LineageStore.open(path) as store, store.run("Étape") as run:
        run.output(Artifact(type="Dätä", name="modèle/模型 ✓", uri="/u"))

    def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lineage_graph.cli", *args, "--store", str(path)],
            capture_output=True,
            encoding="ascii",
            timeout=120,
            env={**os.environ, "PYTHONIOENCODING": "ascii"},
        )

    table = run_cli("ls")
    assert table.returncode == 0 and "Traceback" not in table.stderr, table.stderr
    assert "mod\\xe8le" in table.stdout
    assert [a["name"] for a in json.loads(run_cli("ls", "--json").stdout)] == ["modèle/模型 ✓"]
    exported = json.loads(run_cli("export").stdout)
    assert [a["type"] for a in exported["artifacts"]] == ["Dätä"]


def test_drawings_on_a_stdout_that_cannot_encode_a_name_show_the_same_text(
    tmp_path: Path,
) -> None:
    """``export -f dot / mermaid / html`` on an ASCII stdout: the stream's fallback escaped a
    character it cannot carry as Python does (``\\xe9``), which no drawing reads: Graphviz
    drew "modèle" as "modxe8le", Mermaid as "mod\\xe8le", and the viewer page's data (JSON
    has no ``\\x`` escape) did not load. Each format now gets its own character references."""
    import html
    import subprocess
    import sys

    path = tmp_path / "store"
    name = "modèle/模型 ✓\x9b\U0001f600"
    with LineageStore.open(path) as store, store.run("Étape") as run:
        run.output(Artifact(type="Dätä", name=name, uri="/u"))

    def export(fmt: str, encoding: str) -> str:
        args = ["export", "-f", fmt, "-o", "-", "--store", str(path)]
        return subprocess.run(
            [sys.executable, "-m", "lineage_graph.cli", *args],
            capture_output=True,
            encoding=encoding,
            timeout=120,
            check=True,
            env={**os.environ, "PYTHONIOENCODING": encoding},
        ).stdout

    def mermaid_text(text: str) -> str:
        return re.sub(r"#(\d+);", lambda m: chr(int(m[1])), text)

    def page_data(page: str) -> object:
        tag = '<script type="application/json" id="lineage-data">'
        return json.loads(page.split(tag, 1)[1].split("</script>", 1)[0])

    dot, dot_ascii = export("dot", "utf-8"), export("dot", "ascii")
    # (the C1 control is drawn "\\x9b" in both, as the CLI prints it; no fallback escape more)
    assert dot_ascii.count("\\x") == dot.count("\\x") == 1
    # (but one above U+FFFF, which Graphviz 2.43 decodes into invalid UTF-8, is drawn as its
    # escape, "\\U0001f600", its backslash written "\\\\" in DOT: test_dot_graphviz.py)
    assert html.unescape(dot_ascii) == html.unescape(dot).replace("\U0001f600", "\\\\U0001f600")
    mermaid, mermaid_ascii = export("mermaid", "utf-8"), export("mermaid", "ascii")
    assert mermaid_text(mermaid_ascii) == mermaid_text(mermaid)
    page, page_ascii = export("html", "utf-8"), export("html", "ascii")
    assert page_data(page_ascii) == page_data(page)
    assert name in [n.get("name") for n in page_data(page_ascii)["nodes"]]  # type: ignore[index]


def test_main_entry_point_exit_codes(demo: Demo) -> None:
    """``main()`` (the console script) as a real process: exit statuses reach the shell."""
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lineage_graph.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "LINEAGE_GRAPH_STORE": str(demo.path)},
        )

    assert run("--version").stdout.strip() == f"lineage-graph {__version__}"
    assert run("show", "4242").returncode == ExitCode.NOT_FOUND
    hit = run(
        "cached",
        "Trainer",
        "-i",
        "2",
        "-i",
        "3",
        "-p",
        "C=1.0",
        "-p",
        "algorithm=logistic_regression",
    )
    assert hit.returncode == ExitCode.OK, hit.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["cached", "Trainer", "-i", "2", "-i", "3", "-p", "C=1.0", "-p", "algorithm=logistic_regression"],  # noqa: E501
        ["ls", "--json"],
        ["export", "-f", "mermaid"],
        ["--help"],  # printed by typer's own console, which exited 1
        ["cached", "--help"],
    ],
)  # fmt: skip
def test_a_closed_pipe_is_exit_141_not_the_answer_no(demo: Demo, args: list[str]) -> None:
    """``lineage-graph cached … | head -1``: the reader goes away before the output is written.
    Rich exited 1 then, which is ``cached``'s "no same-inputs run" (a hit read as a miss); the
    CLI now exits 128 + SIGPIPE, silently, as any tool a closed pipe stops."""
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes anything
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lineage_graph.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "LINEAGE_GRAPH_STORE": str(demo.path)},
        )
    finally:
        os.close(write_end)
    assert done.returncode == ExitCode.BROKEN_PIPE == 141, done.stderr
    assert done.stderr.strip() == ""  # no traceback, no "Exception ignored"


def test_an_error_message_keeps_its_line_breaks(capsys: pytest.CaptureFixture[str]) -> None:
    """A server's log tail or a multi-line engine error prints as lines; control sequences in
    it are still made visible."""
    from lineage_graph.cli._common import ExitCode, fail

    fail("the server did not start:\nlog line \x1b[31mred\nlast", ExitCode.STORE_UNAVAILABLE)
    err = capsys.readouterr().err
    assert "\nlog line \\x1b[31mred\nlast" in err and "\x1b" not in err


def test_a_type_the_store_lacks_is_said_not_listed_as_empty(demo: Demo) -> None:
    """A misspelt or miscased type name (``ls --type Modle``, ``downstream 1 --type model``)
    printed an empty table and exit 0 without a word, as if the store held no such node; like
    ``cached Trainr`` it now says on stderr that the store has no such type (the answer, empty,
    and the exit code are unchanged, so scripts reading --json still get ``[]``)."""
    for args, says in (
        (["ls", "--type", "Modle"], "no artifact type 'Modle'"),
        (["ls", "executions", "-t", "trainer"], "no execution type 'trainer'"),
        (["ls", "contexts", "--type", "Experimnet"], "no context type 'Experimnet'"),
        (["ls", "--type", "Trainer"], "no artifact type 'Trainer'"),  # an execution type
        (["downstream", "1", "--type", "Modle"], "no artifact or execution type 'Modle'"),
        (["upstream", "5", "--stop-at-type", "dataset"], "no artifact or execution type 'dataset'"),
        (["export", "5", "--type", "Modle"], "no artifact or execution type 'Modle'"),
    ):
        result = demo.cli(*args)
        assert result.exit_code == 0, (args, result.output)
        said = " ".join(result.stderr.split())
        assert says in said and "case-sensitive" in said, (args, result.stderr)
        as_json = demo.cli(*args, *([] if args[0] == "export" else ["--json"]))
        assert as_json.exit_code == 0 and says in " ".join(as_json.stderr.split())
        json.loads(as_json.stdout)  # stdout stays JSON alone
    assert demo.json("ls", "--type", "Modle") == []
    for args in (
        ["ls", "--type", "Model"],
        ["ls", "executions", "--type", "Trainer"],
        ["downstream", "1", "--type", "Model", "--type", "Trainer"],
        ["upstream", "5", "--stop-at-type", "DataSet"],
        ["downstream", "1", "--only", "executions"],  # a filter without types
    ):  # a type the store holds: no note
        result = demo.cli(*args)
        assert result.exit_code == 0 and "case-sensitive" not in result.stderr, result.output


def test_an_unreachable_neo4j_is_said_at_once_on_the_command_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The library retries a refused connection up to connect_timeout_s (a server started
    just before it); the CLI does not (a person who mistyped a port learnt of it after 30 s),
    unless NEO4J_RETRY_UNREACHABLE asks it to."""
    caplog.set_level("DEBUG", logger="lineage_graph.backends.neo4j")
    env: dict[str, str | None] = {"NEO4J_CONNECT_TIMEOUT_S": "1", "NEO4J_RETRY_UNREACHABLE": None}
    result = invoke(["ls", "--store", "bolt://127.0.0.1:1"], env=env)
    assert result.exit_code == ExitCode.STORE_UNAVAILABLE, result.output
    assert "refused the connection" in result.output
    assert not [r for r in caplog.records if r.name == "lineage_graph.backends.neo4j"]
    env["NEO4J_RETRY_UNREACHABLE"] = "1"
    result = invoke(["ls", "--store", "bolt://127.0.0.1:1"], env=env)
    assert result.exit_code == ExitCode.STORE_UNAVAILABLE, result.output
    assert "did not answer within 1 s" in result.output
    assert [r for r in caplog.records if r.name == "lineage_graph.backends.neo4j"]


def test_doctor_says_an_unreachable_neo4j_at_once_too() -> None:
    """``doctor`` opened the store itself, with the library's retries: a refused Neo4j port was
    ``connect_timeout_s`` (30 s) of waiting, where ``ls`` said it at once."""
    env: dict[str, str | None] = {"NEO4J_CONNECT_TIMEOUT_S": "1", "NEO4J_RETRY_UNREACHABLE": None}
    result = invoke(["doctor", "--json", "--store", "bolt://127.0.0.1:1"], env=env)
    assert result.exit_code == ExitCode.NO, result.output
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["engine reachable"]["ok"] is False
    assert "refused the connection" in checks["engine reachable"]["detail"]


def test_doctor_sizes_a_data_directory_with_a_file_it_cannot_read(tmp_path: Path) -> None:
    """The size of the data directory was summed with ``stat`` on every file listed: a file
    gone since it was listed (the server's ``temp-*.rdb`` while it saves) or one whose
    ``stat`` fails (here a link whose target name is too long: ENAMETOOLONG) ended ``doctor``
    with an OSError traceback, exit 1. It is skipped."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        (path / "unreadable").symlink_to("x" * 300)
        report = invoke(["doctor", "--json", "--store", str(path)])
    assert report.exit_code == 0, report.output
    checks = {c["check"]: c for c in json.loads(report.stdout)["checks"]}
    assert checks["data directory"]["ok"] is True
    assert checks["data directory"]["detail"].endswith(" MB)")


def test_an_unexpected_error_is_exit_70_with_its_traceback(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A defect (an exception that is no LineageGraphError) was typer's traceback and exit 1,
    which `cached` documents as "not cached" and `doctor` as "a problem found": a script
    re-ran the step or reported the store. It is exit 70 (EX_SOFTWARE) now, the traceback kept
    for the bug report."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a defect (test)")

    monkeypatch.setattr(LineageStore, "get_execution_type", broken)
    result = demo.cli("cached", "Trainer", "-i", str(demo.result.raw.id))
    assert result.exit_code == ExitCode.INTERNAL == 70, result.output
    assert "RuntimeError: a defect (test)" in result.stderr
    assert "unexpected error" in result.stderr and not result.stdout
