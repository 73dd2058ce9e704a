"""Impact of a bad dataset, its atomic undoable mark, and artifact / lineage comparisons."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    EngineUnavailableError,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    FailedPreconditionError,
    ImpactMark,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    NodeRef,
    NotFoundError,
)


@pytest.fixture
def pipeline(store: LineageStore) -> dict[str, int]:
    """raw -> Transform -> train_data -> Trainer x2 -> model1, model2 -> Pusher -> pushed;
    plus an unrelated run (other -> Trainer -> other_model)."""
    for name in ("DataSet", "Model", "PushedModel"):
        store.put_artifact_type(ArtifactType(name=name))
    for name in ("Transform", "Trainer", "Pusher"):
        store.put_execution_type(ExecutionType(name=name))
    store.put_context_type(ContextType(name="PipelineRun"))
    ids: dict[str, int] = {}

    def step(ex: str, name: str, inputs: list[str], outputs: list[tuple[str, str]]) -> int:
        eid, aids, _ = store.put_execution(
            Execution(type=ex, name=name),
            [(Artifact(id=ids[i]), Event(type=EventType.INPUT)) for i in inputs]
            + [
                (Artifact(type=t, name=o, uri=f"s3://{o}"), Event(type=EventType.OUTPUT))
                for o, t in outputs
            ],
            [Context(type="PipelineRun", name=f"run-{name}")],
            reuse_context_if_already_exist=True,
        )
        for (o, _), aid in zip(outputs, aids[len(inputs) :], strict=True):
            ids[o] = aid
        ids[name] = eid
        return eid

    ids["raw"], ids["other"] = store.put_artifacts(
        [
            Artifact(type="DataSet", name="raw", uri="s3://raw", custom_properties={"digest": "r"}),
            Artifact(type="DataSet", name="other", uri="s3://other"),
        ]
    )
    step("Transform", "transform", ["raw"], [("train_data", "DataSet")])
    step("Trainer", "train1", ["train_data"], [("model1", "Model")])
    step("Trainer", "train2", ["train_data"], [("model2", "Model")])
    ids["model1_ref"] = ids["model1"]
    step("Pusher", "push", [], [("pushed", "PushedModel")])
    store.put_events(
        [Event(artifact_id=ids["model1"], execution_id=ids["push"], type=EventType.INPUT)]
    )
    step("Trainer", "train_other", ["other"], [("other_model", "Model")])
    return ids


def _rewritten(pipeline: dict[str, int], name: str, type_: str, **fields: Any) -> Artifact:
    """A whole update of the pipeline's artifact ``name`` (its name and uri kept)."""
    return Artifact(id=pipeline[name], type=type_, name=name, uri=f"s3://{name}", **fields)


def test_impact_groups_everything_downstream(store: LineageStore, pipeline: dict[str, int]) -> None:
    report = store.impact(NodeRef(NodeKind.ARTIFACT, pipeline["raw"]))
    assert report.counts == {"artifacts": 4, "executions": 4, "contexts": 4}
    assert {t: sorted(a.name or "" for a in v) for t, v in report.artifacts_by_type.items()} == {
        "DataSet": ["train_data"],
        "Model": ["model1", "model2"],
        "PushedModel": ["pushed"],
    }
    assert {t: len(v) for t, v in report.executions_by_type.items()} == {
        "Transform": 1,
        "Trainer": 2,
        "Pusher": 1,
    }
    runs = sorted(c.name or "" for c in report.contexts_by_type["PipelineRun"])
    assert runs == ["run-push", "run-train1", "run-train2", "run-transform"]
    assert report.mark_token is None and report.to_dict()["counts"]["artifacts"] == 4
    unrelated = store.impact(NodeRef(NodeKind.ARTIFACT, pipeline["other"]))
    assert unrelated.counts["artifacts"] == 1  # only other_model


def test_marking_is_atomic_and_undoable(store: LineageStore, pipeline: dict[str, int]) -> None:
    before = {a.id: a for a in store.get_artifacts()}
    report = store.impact(
        NodeRef(NodeKind.ARTIFACT, pipeline["train_data"]),
        mark=ImpactMark(state=ArtifactState.MARKED_FOR_DELETION, custom_property=("bad", True)),
    )
    assert report.marked == 4 and report.mark_token  # train_data itself, 2 models, pushed
    affected = {pipeline[n] for n in ("train_data", "model1", "model2", "pushed")}
    after = {a.id: a for a in store.get_artifacts()}
    for aid, a in after.items():
        if aid in affected:
            assert a.state == ArtifactState.MARKED_FOR_DELETION
            assert a.custom_properties["bad"] is True
        else:
            assert a == before[aid]  # untouched
    # someone fixes model2 meanwhile: the undo must not clobber that change
    store.put_artifacts([_rewritten(pipeline, "model2", "Model", state=ArtifactState.LIVE)])
    assert store.undo_impact_mark(report.mark_token) == 3
    restored = {a.id: a for a in store.get_artifacts()}
    for aid in affected - {pipeline["model2"]}:
        assert restored[aid].state == before[aid].state
        assert restored[aid].custom_properties == before[aid].custom_properties
    assert restored[pipeline["model2"]].state == ArtifactState.LIVE
    with pytest.raises(NotFoundError, match="already undone"):
        store.undo_impact_mark(report.mark_token)


def test_a_mark_replaces_a_custom_property_of_another_kind(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    store.put_artifacts(
        [Artifact(id=pipeline["pushed"], type="PushedModel", custom_properties={"bad": "no"})]
    )
    report = store.impact(
        NodeRef(NodeKind.ARTIFACT, pipeline["model1"]),
        mark=ImpactMark(custom_property=("bad", 1)),
    )
    (pushed,) = store.get_artifacts_by_id([pipeline["pushed"]])
    assert pushed.custom_properties == {"bad": 1}
    assert report.mark_token is not None
    store.undo_impact_mark(report.mark_token)
    (pushed,) = store.get_artifacts_by_id([pipeline["pushed"]])
    assert pushed.custom_properties == {"bad": "no"}
    (model1,) = store.get_artifacts_by_id([pipeline["model1"]])
    assert "bad" not in model1.custom_properties


def _raw_and_affected(pipeline: dict[str, int]) -> tuple[NodeRef, list[int]]:
    """The raw dataset and the ids of the five artifacts a mark from it affects (itself too)."""
    names = ("raw", "train_data", "model1", "model2", "pushed")
    return NodeRef(NodeKind.ARTIFACT, pipeline["raw"]), [pipeline[n] for n in names]


def _marked(store: LineageStore, ids: list[int]) -> dict[int, tuple[object, object, object]]:
    """What a mark changes and what its undo restores: state, custom properties, uri."""
    return {
        a.id or 0: (a.state, a.custom_properties, a.uri) for a in store.get_artifacts_by_id(ids)
    }


def test_stacked_marks_undone_newest_first_restore_the_original(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    raw, ids = _raw_and_affected(pipeline)
    original = _marked(store, ids)
    first = store.impact(
        raw, mark=ImpactMark(state=ArtifactState.ABANDONED, custom_property=("q", True))
    )
    once = _marked(store, ids)
    second = store.impact(raw, mark=ImpactMark(state=ArtifactState.DELETED))
    assert first.mark_token and second.mark_token and first.marked == second.marked == 5
    marked_at = {a.id: a.last_update_time_since_epoch for a in store.get_artifacts_by_id(ids)}
    assert store.undo_impact_mark(second.mark_token) == 5
    assert _marked(store, ids) == once
    assert store.undo_impact_mark(first.mark_token) == 5  # the undo above is no update since
    assert _marked(store, ids) == original
    for a in store.get_artifacts_by_id(ids):  # an undo is an update: times only move forward
        assert (a.last_update_time_since_epoch or 0) >= (marked_at[a.id] or 0)
    # Oldest first is refused, nothing changed: it restored nothing and used up its token, so
    # the newer undo then left the older mark's ABANDONED for good.
    first = store.impact(raw, mark=ImpactMark(state=ArtifactState.ABANDONED))
    second = store.impact(raw, mark=ImpactMark(custom_property=("q", 2)))
    assert first.mark_token and second.mark_token
    before = store.get_artifacts_by_id(ids)
    with pytest.raises(FailedPreconditionError, match=f"undo '{second.mark_token}' first"):
        store.undo_impact_mark(first.mark_token)
    assert store.get_artifacts_by_id(ids) == before  # times included
    assert store.undo_impact_mark(second.mark_token) == 5
    assert store.undo_impact_mark(first.mark_token) == 5
    assert _marked(store, ids) == original


def test_an_update_between_marks_still_blocks_the_older_undo(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    raw, ids = _raw_and_affected(pipeline)
    original = _marked(store, ids)
    first = store.impact(raw, mark=ImpactMark(state=ArtifactState.ABANDONED))
    # between the marks: model2 rewritten whole, model1's uri changed alone (a field mask)
    store.put_artifacts(
        [Artifact(id=pipeline["model2"], type="Model", uri="s3://model2", state=ArtifactState.LIVE)]
    )
    store.put_artifacts(
        [Artifact(id=pipeline["model1"], type="Model", uri="s3://fixed")], field_mask_paths=["uri"]
    )
    updated = _marked(store, [pipeline["model1"], pipeline["model2"]])
    second = store.impact(raw, mark=ImpactMark(custom_property=("q", True)))
    assert first.mark_token and second.mark_token
    assert store.undo_impact_mark(second.mark_token) == 5
    assert store.undo_impact_mark(first.mark_token) == 3  # not the two updated ones
    now = _marked(store, ids)
    assert {i: now[i] for i in updated} == updated
    assert {i: now[i] for i in ids if i not in updated} == {
        i: original[i] for i in ids if i not in updated
    }
    # after the newer mark is undone: an update then blocks the older undo too
    first = store.impact(raw, mark=ImpactMark(state=ArtifactState.ABANDONED))
    second = store.impact(raw, mark=ImpactMark(state=ArtifactState.DELETED))
    assert first.mark_token and second.mark_token
    assert store.undo_impact_mark(second.mark_token) == 5
    store.put_artifacts(
        [Artifact(id=pipeline["pushed"], type="PushedModel", uri="s3://moved")],
        field_mask_paths=["uri"],
    )
    assert store.undo_impact_mark(first.mark_token) == 4
    (pushed,) = store.get_artifacts_by_id([pipeline["pushed"]])
    assert pushed.state == ArtifactState.ABANDONED and pushed.uri == "s3://moved"


def test_every_update_drops_what_a_mark_keeps_on_an_artifact(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    """An update within the millisecond of a mark has the mark's update time: the undo knows it
    from the mark's keys, which every update drops (a field-masked one too)."""
    store.impact(
        NodeRef(NodeKind.ARTIFACT, pipeline["model1"]),
        mark=ImpactMark(state=ArtifactState.ABANDONED),
    )

    def keys(name: str) -> set[str]:
        [row] = store.backend.read(
            "MATCH (n:Artifact {id: $id}) RETURN keys(n) AS keys",
            {"id": pipeline[name]},
            name="test/keys",
        )
        return set(row["keys"]) & {"impact_marks", "impact_ms"}

    assert keys("model1") == keys("pushed") == {"impact_marks", "impact_ms"}
    store.put_artifacts(
        [Artifact(id=pipeline["model1"], type="Model", uri="s3://fixed")], field_mask_paths=["uri"]
    )
    store.put_artifacts([Artifact(id=pipeline["pushed"], type="PushedModel", uri="s3://p")])
    assert keys("model1") == keys("pushed") == set()


def test_a_mark_recorded_by_an_earlier_version_is_undone_by_its_time(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    """Before artifacts kept their marks, a record held the time its mark wrote (``expect_ms``):
    such a record still undoes every artifact not updated since."""
    raw, ids = _raw_and_affected(pipeline)
    original = _marked(store, ids)
    report = store.impact(raw, mark=ImpactMark(state=ArtifactState.ABANDONED))
    [record] = store.backend.read(
        "MATCH (m:ImpactMark) RETURN m.undo AS undo, m.created_ms AS ms", name="test/legacy"
    )
    rows = [{**r, "expect_ms": record["ms"]} for r in json.loads(record["undo"])]
    store.backend.write(
        "MATCH (m:ImpactMark) SET m.undo = $undo WITH count(m) AS one "
        "MATCH (n:Artifact) SET n.impact_marks = null, n.impact_ms = null",
        {"undo": json.dumps(rows)},
        name="test/legacy",
    )
    store.put_artifacts(
        [Artifact(id=pipeline["model2"], type="Model", uri="s3://model2", state=ArtifactState.LIVE)]
    )
    assert report.mark_token is not None
    assert store.undo_impact_mark(report.mark_token) == 4
    now = _marked(store, ids)
    assert now[pipeline["model2"]][0] == ArtifactState.LIVE
    assert {i: v for i, v in now.items() if i != pipeline["model2"]} == {
        i: v for i, v in original.items() if i != pipeline["model2"]
    }


@pytest.mark.parametrize(
    "custom_property",
    [("x", [1]), ("x", None), ("x", object()), ("x", 2**70), ("x", {"y": object()}), "x", 5,
     ("x", 1, 2), ("digest", "d" * 4097), ("x", "\udcff"), ("x", {"y": ["\ud800"]}),
     ("x", {"y": {"\udcff": 1}})],
    ids=["list", "None", "object", "int-beyond-int64", "struct-of-object", "str", "int", "triple",
         "indexed-digest-too-long", "lone-surrogate", "struct-lone-surrogate",
         "struct-key-lone-surrogate"],
)  # fmt: skip
def test_a_mark_the_store_cannot_hold_is_refused_when_built(
    store: LineageStore, pipeline: dict[str, int], custom_property: object
) -> None:
    """Each was a raw ValueError or TypeError (kind_of's, or unpacking the pair)."""
    with pytest.raises(InvalidArgumentError, match=r"custom[_ ]property"):
        ImpactMark(custom_property=custom_property)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="mark must be an ImpactMark"):
        store.impact(
            NodeRef(NodeKind.ARTIFACT, pipeline["raw"]),
            mark={"custom_property": custom_property},  # type: ignore[arg-type]
        )
    assert all(not a.custom_properties.get("x") for a in store.get_artifacts())


def test_bad_marks_and_sources_are_typed_errors(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    with pytest.raises(InvalidArgumentError):
        ImpactMark()
    with pytest.raises(InvalidArgumentError):
        ImpactMark(custom_property=("", True))
    with pytest.raises(InvalidArgumentError):
        ImpactMark(state=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"'big': int value .* outside the int64"):
        ImpactMark(custom_property=("big", 10**23))  # was a raw ValueError
    with pytest.raises(NotFoundError):
        store.impact(NodeRef(NodeKind.ARTIFACT, 10**9))
    with pytest.raises(NotFoundError):
        store.undo_impact_mark("nope")
    # made without __init__: it marked nothing but the update times, and left an undo record
    with pytest.raises(InvalidArgumentError, match="sets a state, a custom property"):
        store.impact(NodeRef(NodeKind.ARTIFACT, pipeline["raw"]), mark=object.__new__(ImpactMark))
    assert store.count(NodeKind.ARTIFACT) == 7  # nothing was written
    assert not store.backend.read("MATCH (m:ImpactMark) RETURN m.key AS k")


def test_a_mark_whose_artifacts_are_gone_is_undone(store: LineageStore) -> None:
    """lineage/unmark set a lock on each marked artifact through an OPTIONAL MATCH: once an
    artifact was gone (retention deleted the marked island) or the mark had none (an execution
    without outputs), FalkorDB refused the SET on null ("alias 'n' did not resolve to a graph
    entity"), a QueryError, and the mark could never be undone."""
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    (lone,) = store.put_executions([Execution(type="Trainer")])
    empty = store.impact(
        NodeRef(NodeKind.EXECUTION, lone), mark=ImpactMark(state=ArtifactState.ABANDONED)
    )
    assert empty.marked == 0 and empty.mark_token
    assert store.undo_impact_mark(empty.mark_token) == 0
    with pytest.raises(NotFoundError):
        store.undo_impact_mark(empty.mark_token)  # consumed
    (raw,) = store.put_artifacts([Artifact(type="DataSet", uri="/raw")])
    store.put_execution(
        Execution(type="Trainer"),
        [(Artifact(id=raw), Event(type=EventType.INPUT)),
         (Artifact(type="DataSet", uri="/out"), Event(type=EventType.OUTPUT))],
        [],
    )  # fmt: skip
    doomed = ArtifactState.MARKED_FOR_DELETION
    report = store.impact(NodeRef(NodeKind.ARTIFACT, raw), mark=ImpactMark(state=doomed))
    assert report.marked == 2 and report.mark_token
    plan = store.plan_retention(
        kinds=[NodeKind.ARTIFACT, NodeKind.EXECUTION],
        artifact_states=[doomed],
        execution_states=[ExecutionState.UNKNOWN],
    )
    store.apply_retention(plan)
    assert store.count(NodeKind.ARTIFACT) == 0  # the marked island is gone
    assert store.undo_impact_mark(report.mark_token) == 0
    with pytest.raises(NotFoundError):
        store.undo_impact_mark(report.mark_token)


def test_a_mark_leaves_retention_tombstones_as_they_are(store: LineageStore) -> None:
    """A tombstone's data is gone: a mark made it ABANDONED (and gave it the custom property),
    so it read as an artifact that still exists. It is skipped, and its undo leaves it too."""
    store.put_artifact_type(ArtifactType(name="Raw"))
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    (raw,) = store.put_artifacts([Artifact(type="Raw", uri="/raw")])
    _, (_, out), _ = store.put_execution(
        Execution(type="Trainer"),
        [(Artifact(id=raw), Event(type=EventType.INPUT)),
         (Artifact(type="DataSet", uri="/out"), Event(type=EventType.OUTPUT))],
        [],
    )  # fmt: skip
    plan = store.plan_retention(kinds=[NodeKind.ARTIFACT], types=["Raw"])
    assert plan.tombstone_artifacts == (raw,)
    store.apply_retention(plan)
    [before] = store.get_artifacts_by_id([raw])
    mark = ImpactMark(state=ArtifactState.ABANDONED, custom_property=("quarantined", True))
    report = store.impact(NodeRef(NodeKind.ARTIFACT, raw), mark=mark)
    assert report.marked == 1 and report.mark_token
    [tomb, marked] = store.get_artifacts_by_id([raw, out])
    assert tomb == before  # untouched: state, properties, update time
    assert marked.state == ArtifactState.ABANDONED
    assert marked.custom_properties["quarantined"] is True
    assert store.undo_impact_mark(report.mark_token) == 1
    [tomb, restored] = store.get_artifacts_by_id([raw, out])
    assert tomb == before and "quarantined" not in restored.custom_properties


def test_compare_and_lineage_diff(store: LineageStore, pipeline: dict[str, int]) -> None:
    diff = store.compare(pipeline["model1"], pipeline["model2"])
    assert diff.fields == {
        "name": ("model1", "model2"),
        "uri": ("s3://model1", "s3://model2"),
    }
    assert not diff.properties and not diff.custom_properties and not diff.same
    assert store.compare(pipeline["model1"], pipeline["model1"]).same
    with pytest.raises(InvalidArgumentError, match="one type"):
        store.compare(pipeline["model1"], pipeline["raw"])
    with pytest.raises(NotFoundError):
        store.compare(pipeline["model1"], 10**9)
    ld = store.lineage_diff(
        NodeRef(NodeKind.ARTIFACT, pipeline["model1"]),
        NodeRef(NodeKind.ARTIFACT, pipeline["model2"]),
    )
    assert ld.only_a.execution_ids == {pipeline["train1"]}
    assert ld.only_b.execution_ids == {pipeline["train2"]}
    assert NodeRef(NodeKind.ARTIFACT, pipeline["raw"]) in ld.common
    assert not ld.same
    other = store.lineage_diff(
        NodeRef(NodeKind.ARTIFACT, pipeline["model1"]),
        NodeRef(NodeKind.ARTIFACT, pipeline["other_model"]),
    )
    assert not other.common
    assert other.only_b.artifact_ids == {pipeline["other"]}
    # api.md: two executions on the same inputs (a re-run) are the same; their outputs are not
    runs = store.lineage_diff(
        NodeRef(NodeKind.EXECUTION, pipeline["train1"]),
        NodeRef(NodeKind.EXECUTION, pipeline["train2"]),
    )
    assert runs.same and NodeRef(NodeKind.ARTIFACT, pipeline["train_data"]) in runs.common


def test_compare_takes_artifacts_only(store: LineageStore, pipeline: dict[str, int]) -> None:
    """An execution (or its NodeRef) was taken for the artifact with the same id: compare()
    answered about two artifacts the caller never named."""
    model1, model2 = pipeline["model1"], pipeline["model2"]
    for execution in (
        NodeRef(NodeKind.EXECUTION, model1),
        Execution(id=model1, type="Trainer"),
        NodeRef(NodeKind.CONTEXT, model1),
    ):
        with pytest.raises(InvalidArgumentError, match="takes artifacts"):
            store.compare(execution, model2)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="takes artifacts"):
            store.compare(model2, execution)  # type: ignore[arg-type]
    by_ref = store.compare(NodeRef(NodeKind.ARTIFACT, model1), model2)  # type: ignore[arg-type]
    assert by_ref.fields == store.compare(model1, model2).fields


def test_compare_a_nan_is_the_same_and_a_bool_is_no_number(store: LineageStore) -> None:
    store.put_artifact_type(ArtifactType(name="Scored"))
    a, b, c = store.put_artifacts(
        [
            Artifact(
                type="Scored",
                uri="/m",
                custom_properties={"loss": float("nan"), "ok": True, "cfg": {"x": True}, "n": 1},
            ),
            Artifact(
                type="Scored",
                uri="/m",
                custom_properties={"loss": float("nan"), "ok": 1, "cfg": {"x": 1}, "n": 1.0},
            ),
            Artifact(type="Scored", uri="/m", custom_properties={"loss": 0.5}),
        ]
    )
    assert store.compare(a, a).same  # was: {"loss": (nan, nan)}
    diff = store.compare(a, b)  # was: nothing but the NaN
    assert sorted(diff.custom_properties) == ["cfg", "ok"]  # 1 == 1.0, as NodeFilter says
    assert diff.custom_properties["ok"] == (True, 1)
    assert sorted(store.compare(a, c).custom_properties) == ["cfg", "loss", "n", "ok"]


def test_impact_sees_links_to_contexts_made_later(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    (cid,) = store.put_contexts([Context(type="PipelineRun", name="audit")])
    store.put_attributions_and_associations(
        [Attribution(artifact_id=pipeline["pushed"], context_id=cid)],
        [Association(execution_id=pipeline["push"], context_id=cid)],
    )
    report = store.impact(NodeRef(NodeKind.ARTIFACT, pipeline["model1"]))
    assert "audit" in {c.name for c in report.contexts_by_type["PipelineRun"]}


def test_impact_and_lineage_diff_reject_what_they_cannot_answer(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    with pytest.raises(InvalidArgumentError, match="not a context"):
        store.impact(NodeRef(NodeKind.CONTEXT, 1))
    with pytest.raises(InvalidArgumentError, match="one artifact or execution"):
        store.impact([NodeRef(NodeKind.ARTIFACT, pipeline["raw"])])  # type: ignore[arg-type]
    two = [
        NodeRef(NodeKind.ARTIFACT, pipeline["model1"]),
        NodeRef(NodeKind.ARTIFACT, pipeline["raw"]),
    ]
    with pytest.raises(InvalidArgumentError, match="one node with one node"):
        store.lineage_diff(two, NodeRef(NodeKind.ARTIFACT, pipeline["model2"]))  # type: ignore[arg-type]


def test_a_marked_store_stays_healthy(store: LineageStore, pipeline: dict[str, int]) -> None:
    from tests.reliability._integrity import assert_healthy

    report = store.impact(
        NodeRef(NodeKind.ARTIFACT, pipeline["raw"]), mark=ImpactMark(custom_property=("bad", True))
    )
    assert_healthy(store)
    assert report.mark_token is not None
    store.undo_impact_mark(report.mark_token)
    assert_healthy(store)


def _count_marks(store: LineageStore) -> int:
    [row] = store.backend.read(
        "MATCH (m:ImpactMark) RETURN count(m) AS n", {}, name="test/count_marks"
    )
    return int(row["n"])


def test_an_update_between_the_analysis_and_its_mark_is_read_again(
    store: LineageStore, pipeline: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer updates an artifact after the analysis read it and before the mark: the
    mark would record the value from before that update for its undo, and the undo would then
    silently revert it. The mark writes nothing, the analysis reads again, the undo restores
    the updated value."""
    raw, ids = _raw_and_affected(pipeline)
    repo = store._impact
    real = repo._mark
    calls = []

    def racing(*args: object) -> object:
        if not calls:  # the other writer, once: model1 gets a custom property, pushed a state
            store.put_artifacts(
                [
                    _rewritten(pipeline, "model1", "Model", custom_properties={"q": "reviewed"}),
                    _rewritten(pipeline, "pushed", "PushedModel", state=ArtifactState.PENDING),
                ]
            )
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(repo, "_mark", racing)
    updated = _marked(store, ids)  # before the analysis: model1 and pushed as the writer leaves
    report = store.impact(
        raw, mark=ImpactMark(state=ArtifactState.ABANDONED, custom_property=("q", True))
    )
    assert len(calls) == 2 and report.marked == 5 and report.mark_token
    assert _count_marks(store) == 1
    assert all(s == ArtifactState.ABANDONED for s, _, _ in _marked(store, ids).values())
    assert store.undo_impact_mark(report.mark_token) == 5
    now = _marked(store, ids)
    assert now[pipeline["model1"]][1] == {"q": "reviewed"}
    assert now[pipeline["pushed"]][0] == ArtifactState.PENDING
    assert {i: now[i] for i in ids if i not in (pipeline["model1"], pipeline["pushed"])} == {
        i: updated[i] for i in ids if i not in (pipeline["model1"], pipeline["pushed"])
    }


def test_a_mark_that_keeps_meeting_updates_fails_and_marks_nothing(
    store: LineageStore, pipeline: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, ids = _raw_and_affected(pipeline)
    repo = store._impact
    real = repo._mark
    flips = iter(range(1000))

    def racing(*args: object) -> object:
        store.put_artifacts(
            [
                Artifact(
                    id=pipeline["model2"],
                    type="Model",
                    name="model2",
                    uri=f"s3://{next(flips)}",
                    custom_properties={"q": next(flips)},
                )
            ]
        )
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(repo, "_mark", racing)
    with pytest.raises(FailedPreconditionError, match="kept changing") as err:
        store.impact(raw, mark=ImpactMark(custom_property=("q", True)))
    assert str(pipeline["model2"]) in str(err.value)
    assert _count_marks(store) == 0
    now = _marked(store, ids)
    assert all(cp.get("q") is not True for _, cp, _ in now.values())


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_an_undo_whose_reply_is_lost_is_read_back(
    store: LineageStore, pipeline: dict[str, int], monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """The undo's write raising EngineUnavailableError after it was applied (its reply lost) or
    before: read back (lineage/unmark_applied), applied it returns what it restored (the retry
    said NotFoundError for its own undo), not applied it raises and the retry undoes the mark
    (tests/reliability/test_lost_replies.py kills the server for the same; this one runs on
    every engine, through the store fixture)."""
    start = NodeRef(NodeKind.ARTIFACT, pipeline["train_data"])
    report = store.impact(start, mark=ImpactMark(state=ArtifactState.MARKED_FOR_DELETION))
    assert report.marked == 4 and report.mark_token
    repo = store._impact
    write = repo.write

    def losing(query: str, /, **params: Any) -> list[dict[str, Any]]:
        if query != "lineage/unmark":
            return write(query, **params)
        if applied:
            write(query, **params)
        raise EngineUnavailableError("the engine died before its reply (test)")

    monkeypatch.setattr(repo, "write", losing)
    if applied:
        assert store.undo_impact_mark(report.mark_token) == 4
    else:
        with pytest.raises(EngineUnavailableError):
            store.undo_impact_mark(report.mark_token)
        monkeypatch.undo()
        assert store.undo_impact_mark(report.mark_token) == 4
    assert _count_marks(store) == 0
    assert ArtifactState.MARKED_FOR_DELETION not in {a.state for a in store.get_artifacts()}


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_a_mark_whose_reply_is_lost_is_read_back_by_its_token(
    store: LineageStore, pipeline: dict[str, int], monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """The mark's write raising EngineUnavailableError after it was applied (its reply lost) or
    before: found by its token, the call returns its report (a retry stacked a second mark);
    not found, it raises with the token (tests/reliability/test_lost_replies.py kills the
    server for the same; this one runs on every engine)."""
    repo = store._impact
    write = repo.write

    def losing(query: str, /, **params: Any) -> list[dict[str, Any]]:
        if query != "lineage/mark":
            return write(query, **params)
        if applied:
            write(query, **params)
        raise EngineUnavailableError("the engine died before its reply (test)")

    monkeypatch.setattr(repo, "write", losing)
    start = NodeRef(NodeKind.ARTIFACT, pipeline["train_data"])
    mark = ImpactMark(state=ArtifactState.MARKED_FOR_DELETION)
    if applied:
        report = store.impact(start, mark=mark)
        assert report.marked == 4 and report.mark_token
        assert _count_marks(store) == 1
        monkeypatch.undo()
        assert store.undo_impact_mark(report.mark_token) == 4
    else:
        with pytest.raises(EngineUnavailableError) as info:
            store.impact(start, mark=mark)
        assert info.value.mark_token and _count_marks(store) == 0  # type: ignore[attr-defined]
        with pytest.raises(NotFoundError):
            store.undo_impact_mark(info.value.mark_token)  # type: ignore[attr-defined]
    assert ArtifactState.MARKED_FOR_DELETION not in {a.state for a in store.get_artifacts()}
