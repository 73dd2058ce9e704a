"""The lineage options (filters, boundaries, as-of, paging, direction any) and the analysis
commands (impact with an undoable mark, undo-mark, compare, diff), on the demo store.

The demo store: artifacts 1 customers.csv → (SplitData e2) → 2 train.csv, 3 test.csv →
(Trainer e3, e6 cached) → 4 churn-C0.003 and (Trainer e4) → 5 churn-C1.0 → (Deployment e5).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
    NodeKind,
)
from lineage_graph.cli import ExitCode
from lineage_graph.lineage import _impact

from .conftest import Demo, invoke


def _names(data: dict[str, Any]) -> set[str]:
    return {a["name"] for a in data["artifacts"]}


def _refs(data: dict[str, Any]) -> set[str]:
    return {f"a{a['id']}" for a in data["artifacts"]} | {f"e{x['id']}" for x in data["executions"]}


# ----------------------------------------------------------------------- filters and bounds


def test_filters_select_the_returned_nodes(demo: Demo) -> None:
    raw = str(demo.result.raw.id)
    models = demo.json("downstream", raw, "--type", "Model")
    assert _names(models) == {"churn-C0.003", "churn-C1.0"} and models["executions"] == []
    two = demo.json("downstream", raw, "-t", "Model", "-t", "Deployment")
    assert {x["type"] for x in two["executions"]} == {"Deployment"} and len(two["artifacts"]) == 2
    cached = demo.json("downstream", raw, "--only", "executions", "--state", "cached")
    assert [(x["type"], x["state"]) for x in cached["executions"]] == [("Trainer", "CACHED")]
    assert cached["artifacts"] == []
    only_artifacts = demo.json("upstream", str(demo.result.best.artifact.id), "--only", "artifacts")
    assert only_artifacts["executions"] == [] and "customers.csv" in _names(only_artifacts)
    assert _names(demo.json("downstream", raw, "--where", "rows=600")) == {"customers.csv"}
    assert _names(demo.json("downstream", raw, "--where", "model_version=2")) == {"churn-C1.0"}
    both = demo.json("downstream", raw, "--where", "rows=600", "--where", "columns=99")
    assert both["artifacts"] == []
    # A filtered answer is shown as a table (it is not a tree hanging from the start node).
    table = demo.cli("downstream", raw, "--type", "Model")
    assert table.exit_code == 0 and "churn-C1.0" in table.stdout and "name / uri" in table.stdout


def test_stop_at_bounds_the_walk(demo: Demo) -> None:
    raw = str(demo.result.raw.id)
    stopped = demo.json("downstream", raw, "--stop-at-type", "Model")
    assert "churn-C1.0" in _names(stopped)
    assert "Deployment" not in {x["type"] for x in stopped["executions"]}
    excluded = demo.json("downstream", raw, "--stop-at-type", "Model", "--exclude-stop")
    assert _names(excluded) == {"customers.csv", "train.csv", "test.csv"}
    assert "Deployment" not in {x["type"] for x in excluded["executions"]}
    by_state = demo.json("downstream", raw, "--stop-at-state", "COMPLETE", "--exclude-stop")
    assert _names(by_state) == {"customers.csv"}  # SplitData is COMPLETE: nothing beyond it
    tree = demo.cli("downstream", raw, "--stop-at-type", "Model")
    assert tree.exit_code == 0 and "Deployment" not in tree.stdout and "churn-C1.0" in tree.stdout


def test_as_of_replays_the_past(demo: Demo) -> None:
    best = demo.result.best.artifact
    assert best.id is not None
    produced = next(e for e in demo.store.get_events_by_artifact_ids([best.id]) if e.type.is_output)
    ms = produced.milliseconds_since_epoch
    assert ms is not None
    before = demo.json("upstream", str(best.id), "--as-of", str(ms - 1))
    assert _refs(before) == {f"a{best.id}"}  # the model existed; it had no recorded producer
    at = demo.json("upstream", str(best.id), "--as-of", str(ms))
    assert f"e{produced.execution_id}" in _refs(at)
    iso = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat()
    assert _refs(demo.json("upstream", str(best.id), "--as-of", iso)) == _refs(at)
    naive = dt.datetime.fromtimestamp((ms - 1) / 1000, tz=dt.UTC).replace(tzinfo=None)
    assert _refs(demo.json("upstream", str(best.id), "--as-of", naive.isoformat())) == {
        f"a{best.id}"
    }  # a naive time is UTC


def test_an_iso_as_of_is_its_exact_millisecond() -> None:
    """--as-of 1970-01-01T00:00:01.003Z was 1,002 ms (int(timestamp() * 1000), a float): the
    event recorded at that very millisecond was left out (so for ~1% of the times of some
    decades: the 1970s, 1985-89, 2000-04, 2035-39)."""
    from lineage_graph.cli._walk import parse_as_of

    assert parse_as_of("1970-01-01T00:00:01.003Z") == 1003
    assert parse_as_of("1970-01-01T00:00:01.003") == 1003  # naive: UTC
    assert parse_as_of("2004-10-06T20:10:54.824+02:00") == 1097086254824


def test_direction_any_reaches_siblings(demo: Demo) -> None:
    best = demo.result.best.artifact
    up = json.loads(demo.cli("export", str(best.id), "--direction", "upstream", "-d", "2").stdout)
    anyway = json.loads(demo.cli("export", str(best.id), "--direction", "any", "-d", "2").stdout)
    assert _refs(up) == {f"a{best.id}", "e4", "a2", "a3"}
    assert _refs(anyway) == _refs(up) | {"e5"}  # the deployment that consumed the model


# -------------------------------------------------------------------------------- paging


def test_paging_returns_everything_once_and_says_when_incomplete(demo: Demo) -> None:
    raw = str(demo.result.raw.id)
    whole = demo.json("downstream", raw)
    assert whole["complete"] is True and whole["cursor"] is None
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        args = ["downstream", raw, "--limit", "4", *(["--cursor", cursor] if cursor else [])]
        page = demo.json(*args)
        pages += 1
        assert len(page["artifacts"]) + len(page["executions"]) <= 4
        assert page["total"] == 10
        seen += sorted(_refs(page))
        if page["complete"]:
            assert page["cursor"] is None
            break
        cursor = page["cursor"]
        assert cursor
    assert pages == 3 and len(seen) == len(set(seen)) == 10
    assert set(seen) == _refs(whole)

    text = demo.cli("downstream", raw, "--limit", "4")
    assert text.exit_code == 0
    first_cursor = demo.json("downstream", raw, "--limit", "4")["cursor"]
    assert "incomplete: this page has 4 of 10 nodes" in text.stdout
    assert f"--cursor {first_cursor}" in text.stdout  # whole, on one line
    export = demo.cli("export", raw, "--direction", "downstream", "--limit", "4")
    assert export.exit_code == 0 and json.loads(export.stdout)["complete"] is False
    assert f"--cursor {first_cursor}" in export.stderr


def test_bad_options_are_usage_errors(demo: Demo) -> None:
    raw = str(demo.result.raw.id)
    for args in (
        ["downstream", raw, "--state", "SHINY"],
        ["downstream", raw, "--stop-at-state", "SHINY"],
        ["downstream", raw, "--exclude-stop"],
        ["downstream", raw, "--as-of", "yesterday"],
        ["downstream", raw, "--where", "novalue"],
        ["downstream", raw, "--only", "contexts"],
        ["downstream", raw, "--limit", "0"],
        ["downstream", raw, "--cursor", "not-a-cursor"],
        ["export", "--direction", "sideways"],
        ["export", "--depth", "1"],  # the whole store has no depth
        ["impact", raw, "--mark-state", "SHINY"],
        ["impact", raw, "--mark", "novalue"],
    ):
        result = demo.cli(*args)
        assert result.exit_code == ExitCode.USAGE, (args, result.output)
    # Said in words that fit the command line too (it named the API's `result.cursor`).
    bad = demo.cli("downstream", raw, "--cursor", "not-a-cursor")
    assert "not a lineage cursor" in bad.stderr and "result.cursor" not in bad.stderr
    # A cursor of another question is refused, not misapplied.
    cursor = demo.json("downstream", raw, "--limit", "2")["cursor"]
    other = demo.cli("downstream", raw, "--limit", "2", "--type", "Model", "--cursor", cursor)
    assert other.exit_code == ExitCode.USAGE and "different lineage query" in other.stderr


@pytest.mark.parametrize("key", ["model_name", "model_version"])
def test_a_mark_of_a_registry_key_is_a_usage_error(demo: Demo, key: str) -> None:
    """`impact --mark model_version=7` rewrote the model registry on every artifact the mark
    reached (a model became version 7): refused, in the command line's words, nothing marked."""
    raw = str(demo.result.raw.id)
    before = demo.json("downstream", raw)
    result = demo.cli("impact", raw, "--mark", f"{key}=7")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"--mark: the custom property {key!r} is reserved for the model registry" in (
        result.stderr
    )
    assert demo.json("downstream", raw) == before


def test_unknown_entities_are_not_found(demo: Demo) -> None:
    for args in (
        ["upstream", "4242"],
        ["downstream", "Model/nope"],
        ["impact", "4242"],
        ["compare", "4242", "4"],
        ["compare", "4", "Model/nope"],
        ["diff", "4", "e:4242"],
        ["undo-mark", "0123456789abcdef"],
    ):
        result = demo.cli(*args)
        assert result.exit_code == ExitCode.NOT_FOUND, (args, result.output)


# -------------------------------------------------------------------------------- impact


def test_impact_groups_by_type(demo: Demo) -> None:
    raw = demo.result.raw
    report = demo.json("impact", str(raw.id))
    assert report["source"] == f"artifact:{raw.id}"
    assert report["counts"] == {"artifacts": 4, "executions": 5, "contexts": 4}
    assert report["artifacts_by_type"] == {"DataSet": [2, 3], "Model": [4, 5]}
    assert sorted(report["executions_by_type"]["Trainer"]) == [3, 4, 6]
    assert report["executions_by_type"]["Deployment"] == [5]
    assert set(report["contexts_by_type"]) == {"Pipeline", "Experiment", "RegisteredModel"}
    assert report["mark_token"] is None and report["marked"] == 0
    text = demo.cli("impact", f"DataSet/{raw.name}")
    assert text.exit_code == 0, text.output
    out = text.stdout
    assert "4 artifacts, 5 executions, 4 contexts affected" in out
    assert "churn-C1.0 (deployed)" in out and "churn-C0.003 (deployed)" not in out
    assert "RegisteredModel" in out and "└──" not in out  # no tree unless asked
    tree = demo.cli("impact", str(raw.id), "--tree")
    assert tree.exit_code == 0 and "└──" in tree.stdout and "affected" in tree.stdout
    leaf = demo.json("impact", "e:5")  # the deployment: nothing downstream
    assert leaf["counts"] == {"artifacts": 0, "executions": 0, "contexts": 1}
    assert demo.cli("impact", "c:1").exit_code == ExitCode.ERROR


def test_impact_mark_and_undo(demo: Demo) -> None:
    store, raw = demo.store, demo.result.raw
    ids = [1, 2, 3, 4, 5]
    before = {a.id: a for a in store.get_artifacts_by_id(ids)}
    marked = demo.cli(
        "impact", str(raw.id), "--mark-state", "abandoned", "--mark", "quarantined=true"
    )
    assert marked.exit_code == 0, marked.output
    assert "marked 5 artifacts" in marked.stdout
    token = marked.stdout.split("lineage-graph undo-mark ")[1].split()[0]
    try:
        after = store.get_artifacts_by_id(ids)
        assert {a.state for a in after} == {ArtifactState.ABANDONED}
        assert all(a.custom_properties["quarantined"] is True for a in after)
        undo = demo.cli("undo-mark", token, "--json")
        assert undo.exit_code == 0, undo.output
        assert json.loads(undo.stdout) == {"token": token, "restored": 5}
    finally:
        if store.get_artifacts_by_id([1])[0].state is ArtifactState.ABANDONED:
            store.undo_impact_mark(token)  # leave the shared store as it was
    restored = {a.id: a for a in store.get_artifacts_by_id(ids)}
    for i in ids:
        assert restored[i].state == before[i].state
        assert restored[i].custom_properties == before[i].custom_properties
    again = demo.cli("undo-mark", token)
    assert again.exit_code == ExitCode.NOT_FOUND and "already undone" in again.stderr

    # JSON: the token is in the report; a custom property alone is a mark too.
    report = demo.json("impact", "4", "--mark", "reviewed=needs re-run")
    assert report["marked"] == 1 and report["mark_token"]
    assert store.get_artifacts_by_id([4])[0].custom_properties["reviewed"] == "needs re-run"
    assert "restored 1 artifact\n" in demo.cli("undo-mark", report["mark_token"]).stdout
    assert "reviewed" not in store.get_artifacts_by_id([4])[0].custom_properties


def test_undo_mark_out_of_order_is_exit_5_and_its_help_says_so(demo: Demo) -> None:
    """An older mark's undo while a newer mark is stacked on its artifacts is refused (exit 5,
    naming the newer mark, nothing changed); ``undo-mark --help`` named exit 3 only."""
    older = demo.json("impact", "4", "--mark", "reviewed=first")["mark_token"]
    newer = demo.json("impact", "4", "--mark", "reviewed=second")["mark_token"]
    try:
        refused = demo.cli("undo-mark", older)
        assert refused.exit_code == ExitCode.ERROR, refused.output
        assert newer in refused.stderr
        assert demo.store.get_artifacts_by_id([4])[0].custom_properties["reviewed"] == "second"
    finally:
        demo.store.undo_impact_mark(newer)  # leave the shared store as it was
        demo.store.undo_impact_mark(older)
    assert "reviewed" not in demo.store.get_artifacts_by_id([4])[0].custom_properties
    help_text = " ".join(demo.cli("undo-mark", "--help", store=False).stdout.split())
    assert "Exit 3 for an unknown or undone token, 5 for a mark a newer one" in help_text


def test_impact_mark_with_a_value_the_store_cannot_hold_changes_nothing(demo: Demo) -> None:
    """``--mark x=<beyond int64>`` raised a raw ValueError (exit 1); it is refused as ``cached
    -p`` refuses the same value: a bad option value, exit 2 (it was 5, "the store refused the
    request", until the CLI read such values as the usage errors they are), nothing marked."""
    big = "99999999999999999999999"
    for args in (["impact", "5", "--mark", f"x={big}"], ["cached", "Trainer", "-p", f"C={big}"]):
        result = demo.cli(*args)
        assert result.exit_code == ExitCode.USAGE, (args, result.output)
        assert f"{big} is outside the int64 range" in " ".join(result.stderr.split())
        assert "Traceback" not in result.output
    assert all("x" not in a.custom_properties for a in demo.store.get_artifacts())


def test_mark_state_given_twice_is_refused_and_marks_nothing(demo: Demo) -> None:
    """``--mark-state abandoned --mark-state live`` set LIVE, the last one given, silently (a
    mark sets one state). Refused (exit 2), nothing marked."""
    before = {a.id: a for a in demo.store.get_artifacts()}
    result = demo.cli("impact", "1", "--mark-state", "abandoned", "--mark-state", "live")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--mark-state is given 2 times" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert {a.id: a for a in demo.store.get_artifacts()} == before


# ------------------------------------------------------------------------- compare, diff


def test_compare(demo: Demo) -> None:
    a, b = demo.result.models
    data = demo.json("compare", str(a.id), f"Model/{b.name}")
    assert data["a"]["id"] == a.id and data["b"]["id"] == b.id and data["same"] is False
    assert data["fields"]["name"] == [a.name, b.name]
    assert set(data["fields"]) == {"name", "uri"}
    assert data["custom_properties"]["model_version"] == [1, 2]
    assert "accuracy" in data["custom_properties"] and data["properties"] == {}
    text = demo.cli("compare", str(a.id), str(b.id))
    assert text.exit_code == 0, text.output
    assert "4 differences" in text.stdout and "model_version" in text.stdout
    same = demo.cli("compare", str(a.id), str(a.id))
    assert same.exit_code == 0 and "no differences" in same.stdout
    assert demo.json("compare", str(a.id), str(a.id))["same"] is True
    # Different types, or not artifacts: refused.
    assert demo.cli("compare", str(a.id), str(demo.result.raw.id)).exit_code == ExitCode.ERROR
    refused = demo.cli("compare", "e:3", "e:4")  # it said "'e:3' is a execution"
    assert refused.exit_code == ExitCode.ERROR
    assert "'e:3' is execution #3 (Trainer)" in refused.stderr


def test_lineage_diff(demo: Demo) -> None:
    a, b = demo.result.models
    data = demo.json("diff", str(a.id), str(b.id))
    assert data["counts"] == {"only_a": 2, "only_b": 1, "common": 5}
    assert sorted(x["id"] for x in data["only_a"]["executions"]) == [3, demo.cached_run_id]
    assert [x["id"] for x in data["only_b"]["executions"]] == [4]
    assert {n["name"] for n in data["common"] if n["kind"] == "artifact"} == {
        "customers.csv",
        "train.csv",
        "test.csv",
    }
    assert data["same"] is False
    text = demo.cli("diff", str(a.id), str(b.id))
    assert text.exit_code == 0, text.output
    assert "2 only in A, 1 only in B, 5 in common" in text.stdout
    assert "only A (2)" in text.stdout and "common (5)" in text.stdout
    same = demo.json("diff", "e:3", "e:6")  # the re-run and the run it re-used: same inputs
    assert same["same"] is True and same["counts"]["common"] == 5
    assert demo.cli("diff", "c:1", "4").exit_code == ExitCode.ERROR


@pytest.mark.parametrize("command", ["impact", "undo-mark", "compare", "diff"])
def test_new_commands_have_help(demo: Demo, command: str) -> None:
    result = demo.cli(command, "--help", store=False)
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_view_takes_the_lineage_options(demo: Demo, tmp_path: Path) -> None:
    page = tmp_path / "view.html"
    raw = str(demo.result.raw.id)
    args = ["view", raw, "--direction", "downstream", "--no-open", "-o", str(page)]
    only = demo.cli(*args, "--only", "artifacts")
    assert only.exit_code == 0, only.output
    assert 'data-nodes="5"' in page.read_text()
    paged = demo.cli(*args, "--limit", "4")
    assert paged.exit_code == 0 and 'data-nodes="4"' in page.read_text()
    assert "incomplete: this page has 4 of 10 nodes" in paged.stderr
    bounded = demo.cli(*args, "--stop-at-type", "Model", "--exclude-stop", "--as-of", "0")
    assert bounded.exit_code == 0 and 'data-nodes="1"' in page.read_text()  # nothing by then


@pytest.mark.parametrize(
    "args",
    [
        ["downstream", "1", "--where", "C=1.0", "--where", "C=0.003"],
        ["export", "1", "--where", "C=1.0", "--where", " C=0.003"],
        [
            "cached",
            "Trainer",
            "-i",
            "2",
            "-i",
            "3",
            "-p",
            "C=1.0",
            "-p",
            "C=0.003",
            "-p",
            "algorithm=logistic_regression",
        ],
    ],
)
def test_a_property_named_twice_is_a_usage_error(demo: Demo, args: list[str]) -> None:
    """The values went into a dict, so the last one won: '--where C=1.0 --where C=0.003' (all
    must hold, which no node can) listed the Trainer with C=0.003, and cached hit on it."""
    result = demo.cli(*args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "'C' twice" in result.stderr
    assert result.stdout == ""


def test_marking_the_impact_of_an_execution_does_not_claim_the_source(demo: Demo) -> None:
    """Only artifacts are marked: 'impact e:3 --mark-state ABANDONED' said 'marked 1 artifact
    (the source included)' though the source, an execution, was not and cannot be marked."""
    trainer = demo.store.get_executions_by_id([3])[0]
    marked = demo.cli("impact", "e:3", "--mark", "reviewed=execution-source")
    assert marked.exit_code == 0, marked.output
    token = marked.stdout.split("lineage-graph undo-mark ")[1].split()[0]
    try:
        assert "marked 1 artifact. Undo with:" in marked.stdout
        assert "source included" not in marked.stdout
        assert demo.store.get_executions_by_id([3])[0] == trainer
    finally:
        demo.store.undo_impact_mark(token)


def test_marking_the_impact_of_a_tombstone_does_not_claim_the_source(tmp_path: Path) -> None:
    """A retention tombstone is not marked (its data is gone), yet `impact TOMBSTONE
    --mark-state ABANDONED` said 'marked 2 artifacts (the source included)' over a source left
    DELETED. It says which artifacts of the walk the mark left as they were instead."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Raw"))
        store.put_artifact_type(ArtifactType(name="DataSet"))
        store.put_execution_type(ExecutionType(name="Trainer"))
        raw = store.put_artifact(Artifact(type="Raw", uri="/raw"))
        _, (_, out), _ = store.put_execution(
            Execution(type="Trainer"),
            [(Artifact(id=raw), Event(type=EventType.INPUT)),
             (Artifact(type="DataSet", uri="/out"), Event(type=EventType.OUTPUT))],
        )  # fmt: skip
        store.apply_retention(store.plan_retention(kinds=[NodeKind.ARTIFACT], types=["Raw"]))
        [tomb] = store.get_artifacts_by_id([raw])
    assert tomb.state == ArtifactState.DELETED
    marked = invoke(["impact", str(raw), "--mark-state", "ABANDONED", "--store", str(path)])
    assert marked.exit_code == 0, marked.output
    text = " ".join(marked.stdout.split())
    assert "source included" not in text, text
    assert "marked 1 artifact (1 artifact of the walk left as it was" in text, text
    with LineageStore.open(path) as store:
        assert store.get_artifacts_by_id([raw]) == [tomb]
        assert store.get_artifacts_by_id([out])[0].state == ArtifactState.ABANDONED


def _fan_of_three(path: Path) -> int:
    """A new store at ``path``: one source artifact a run read to write three; its id."""
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        store.put_execution_type(ExecutionType(name="Fan"))
        source = store.put_artifact(Artifact(type="Data", uri="/src"))
        store.put_execution(
            Execution(type="Fan"),
            [(Artifact(id=source), Event(type=EventType.INPUT))]
            + [
                (Artifact(type="Data", uri=f"/out/{i}"), Event(type=EventType.OUTPUT))
                for i in range(3)
            ],
        )
    return source


def test_an_impact_mark_interrupted_by_ctrl_c_prints_its_token(tmp_path: Path) -> None:
    """Ctrl-C while the engine ran a mark's write (seconds, over a large fan-out) ended with
    'error: interrupted' (exit 130) and the mark applied: every artifact ABANDONED, the token
    that undoes it lost with the reply (reproduced with SIGINT 3.6 s into marking 40,001
    artifacts). The interrupt carries the token now, and the message prints it. Here the
    Ctrl-C comes as the client receives the write's reply (a profile hook, no timing)."""
    path = tmp_path / "store"
    source = _fan_of_three(path)

    def ctrl_c_on_the_marks_reply(frame: FrameType, event: str, arg: Any) -> None:
        if event != "c_return" or getattr(arg, "__name__", "") not in ("recv", "recv_into"):
            return
        f: FrameType | None = frame
        while f is not None:
            if f.f_code.co_name == "_mark" and f.f_code.co_filename == _impact.__file__:
                sys.setprofile(None)
                raise KeyboardInterrupt
            f = f.f_back

    sys.setprofile(ctrl_c_on_the_marks_reply)
    try:
        result = invoke(["impact", str(source), "--mark-state", "ABANDONED", "--store", str(path)])
    finally:
        sys.setprofile(None)
    assert result.exit_code == ExitCode.INTERRUPTED, result.output
    message = " ".join(result.stderr.split())
    assert "the impact mark may have been applied" in message, message
    token = message.split("lineage-graph undo-mark ")[1].split("`")[0]
    with LineageStore.open(path) as store:
        assert {a.state for a in store.get_artifacts()} == {ArtifactState.ABANDONED}
    undone = invoke(["undo-mark", token, "--store", str(path)])
    assert undone.exit_code == 0 and "restored 4 artifacts" in undone.stdout, undone.output


def test_an_impact_mark_interrupted_as_its_report_is_built_prints_its_token(
    tmp_path: Path,
) -> None:
    """Ctrl-C after the mark's write had returned, while the report was grouped by type (over
    a large walk): 'error: interrupted' (exit 130) alone, every artifact ABANDONED and the
    token that undoes it lost with the return value. The interrupt carries it now. Here the
    Ctrl-C comes as the report starts (a profile hook, no timing)."""
    path = tmp_path / "store"
    source = _fan_of_three(path)

    def ctrl_c_on_the_report(frame: FrameType, event: str, arg: Any) -> None:
        if (
            event == "call"
            and frame.f_code.co_name == "_report"
            and frame.f_code.co_filename == _impact.__file__
        ):
            sys.setprofile(None)
            raise KeyboardInterrupt

    args = ["impact", str(source), "--mark-state", "ABANDONED", "--json", "--store", str(path)]
    sys.setprofile(ctrl_c_on_the_report)
    try:
        result = invoke(args, env={"COLUMNS": "80"})
    finally:
        sys.setprofile(None)
    assert result.exit_code == ExitCode.INTERRUPTED, result.output
    assert result.stdout == ""
    # on one line, as typed: broken at 80 columns, it was copied as two commands
    assert "lineage-graph undo-mark " in result.stderr, result.stderr
    token = result.stderr.split("lineage-graph undo-mark ")[1].split("`")[0]
    undone = invoke(["undo-mark", token, "--store", str(path)])
    assert undone.exit_code == 0 and "restored 4 artifacts" in undone.stdout, undone.output
    with LineageStore.open(path) as store:
        assert {a.state for a in store.get_artifacts()} == {ArtifactState.UNKNOWN}


@pytest.mark.parametrize("as_json", [False, True])
def test_an_impact_mark_interrupted_while_printing_prints_its_token(
    tmp_path: Path, as_json: bool
) -> None:
    """Ctrl-C once the mark was applied, while its output was written (`impact … --mark-state
    ABANDONED --json | less`: 8,001 ids fill the pipe, the write blocks, Ctrl-C) ended with
    'error: interrupted' (exit 130): every artifact ABANDONED, and the token, printed last,
    lost with the output. The message prints it now. Here the Ctrl-C comes as the output
    starts (a profile hook, no timing)."""
    path = tmp_path / "store"
    source = _fan_of_three(path)

    def ctrl_c_on_the_output(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_name == "_print_impact":
            sys.setprofile(None)
            raise KeyboardInterrupt

    args = ["impact", str(source), "--mark-state", "ABANDONED", "--store", str(path)]
    sys.setprofile(ctrl_c_on_the_output)
    try:
        result = invoke([*args, *(["--json"] if as_json else [])])
    finally:
        sys.setprofile(None)
    assert result.exit_code == ExitCode.INTERRUPTED, result.output
    message = " ".join(result.stderr.split())
    assert "lineage-graph undo-mark " in message, message
    token = message.split("lineage-graph undo-mark ")[1].split("`")[0]
    with LineageStore.open(path) as store:
        assert {a.state for a in store.get_artifacts()} == {ArtifactState.ABANDONED}
    undone = invoke(["undo-mark", token, "--store", str(path)])
    assert undone.exit_code == 0 and "restored 4 artifacts" in undone.stdout, undone.output
    with LineageStore.open(path) as store:
        assert {a.state for a in store.get_artifacts()} == {ArtifactState.UNKNOWN}


@pytest.mark.parametrize("command", ["export", "view"])
def test_direction_without_a_start_entity_is_a_usage_error(
    demo: Demo, command: str, tmp_path: Path
) -> None:
    """'export --direction upstream' (no REF) exported the whole store, the direction silently
    ignored, while every other lineage option without REF is refused (exit 2)."""
    page = ["--no-open", "-o", str(tmp_path / "v.html")] if command == "view" else []
    result = demo.cli(command, "--direction", "upstream", *page)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--direction needs a start entity" in " ".join(result.stderr.split())
    assert result.stdout == "" and not (tmp_path / "v.html").exists()


@pytest.mark.parametrize(
    "args", [["ls", "--context", ""], ["ls", "--type", ""], ["ls", "types", "--type", " "]]
)
def test_an_empty_ls_filter_is_a_usage_error(demo: Demo, args: list[str]) -> None:
    """An empty --context or --type was taken as not given: 'ls --context "$CTX"' with CTX
    unset listed every artifact, as if all were members."""
    result = demo.cli(*args, "--json")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "is empty" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("as_json", [False, True])
def test_an_impact_mark_whose_stdout_is_closed_says_its_token_on_stderr(
    demo: Demo, as_json: bool
) -> None:
    """``impact 1 --mark x=1 >&-`` applied the mark and exited 141 without a word: the token,
    lost with stdout, was the only way to undo it. It is said on stderr now."""
    import os
    import re
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("LINEAGE_GRAPH_STORE", None)
    args = ["impact", "1", "--mark", "closed_stdout=1", *(["--json"] if as_json else [])]
    done = subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", *args, "--store", str(demo.path)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == ExitCode.BROKEN_PIPE, done.stderr
    found = re.search(r"lineage-graph undo-mark ([0-9a-f]+)`", done.stderr)
    assert found is not None, done.stderr
    undone = demo.cli("undo-mark", found[1])
    assert undone.exit_code == 0 and "restored 5 artifacts" in undone.stdout, undone.output
    unmarked = demo.cli("impact", "1")  # no mark: nothing to say on stderr
    assert unmarked.exit_code == 0 and unmarked.stderr == ""
