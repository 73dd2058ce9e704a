"""A training script run again (or after a crash) against the same store: what it declared on its
first run is found again, its identical steps hit the cache, and a declaration that changed is
refused saying what differs."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactState,
    Context,
    ContextType,
    Execution,
    ExecutionState,
    ImpactMark,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    PropertyType,
)


def _script(store: LineageStore, **dataset: Any) -> tuple[Any, Artifact, Artifact]:
    """What a user's training script does each time it runs: it declares its dataset anew."""
    declared = {"uri": "s3://data/train.csv", "name": "train", "properties": {"rows": 100}}
    data = Artifact(type="DataSet", **{**declared, **dataset})
    with store.run("Trainer", inputs=[data], context="exp-1", properties={"lr": 0.1}) as run:
        if run.cached:
            [model] = run.use_cached()
        else:
            model = run.output("Model", uri="s3://models/1", name="model-1")
    return run, data, model


def _counts(store: LineageStore) -> tuple[int, ...]:
    return (
        *(store.count(kind) for kind in NodeKind),
        len(store.get_artifact_type("DataSet").properties),
    )


def test_a_script_run_twice_finds_its_named_dataset_and_hits_the_cache(
    store: LineageStore,
) -> None:
    """The second run of a script declaring ``Artifact(type="DataSet", name="train", ...)``
    raised AlreadyExistsError (names are unique per type, as in MLMD): a script that worked once
    failed every later run. The same declaration is the stored dataset now (get-or-create), so
    the second run records itself, reads the same dataset, and is a cache hit."""
    first, data1, model1 = _script(store)
    second, data2, model2 = _script(store)
    third, data3, _ = _script(store)
    assert first.state == ExecutionState.COMPLETE
    assert second.state == third.state == ExecutionState.CACHED
    assert data1.id is not None and data1.id == data2.id == data3.id
    assert second.cached is not None and second.cached.execution.id == first.id
    assert model2.id == model1.id
    assert [a.name for a in store.get_artifacts()] == ["train", "model-1"]
    assert [a.id for a in second.inputs] == [data1.id]
    # the declaration's object became the stored dataset, as a new input does on its first run
    assert data2.state == data1.state and data2.create_time_since_epoch is not None


def test_an_int_given_where_the_dataset_declares_a_double_is_the_same_content(
    store: LineageStore,
) -> None:
    """A property the store widened (``1`` to a declared DOUBLE) compares equal to it."""
    _script(store, properties={"rows": 100, "fraction": 0.5})
    run, data, _ = _script(store, name="other", properties={"rows": 100, "fraction": 1})
    again, same, _ = _script(store, name="other", properties={"rows": 100, "fraction": 1})
    assert same.id == data.id and same.properties["fraction"] == 1.0
    assert again.cached is not None and again.cached.execution.id == run.id


@pytest.mark.parametrize(
    ("changed", "differs"),
    [
        ({"uri": "s3://data/train-v2.csv"}, "uri"),
        ({"properties": {"rows": 200}}, "properties.rows"),
        ({"properties": {}}, "properties.rows"),
        ({"properties": {"rows": 100, "cols": 3}}, "properties.cols"),
        ({"custom_properties": {"source": "web"}}, "custom_properties.source"),
        ({"state": ArtifactState.PENDING}, "state"),
        ({"external_id": "ds-1"}, "external_id"),
    ],
)
def test_the_same_name_with_other_content_is_refused_saying_what_differs(
    store: LineageStore, changed: dict[str, Any], differs: str
) -> None:
    """A declaration naming the stored dataset with other content is not it: AlreadyExistsError
    naming each difference (also as ``exc.differences``), the run not started, nothing written
    (the type not extended by a property it declares either)."""
    _, data, _ = _script(store)
    before = _counts(store)
    with pytest.raises(AlreadyExistsError, match=rf"named 'train'.*{differs}: .* stored") as exc:
        _script(store, **changed)
    assert exc.value.differences is not None and differs in exc.value.differences
    assert "did not start, nothing was written" in str(exc.value)
    assert _counts(store) == before
    [stored] = store.get_artifacts_by_id([data.id or 0])
    assert stored == data


@pytest.mark.parametrize("rows", [100.0, 100.5])
def test_a_property_of_another_kind_than_declared_is_refused_as_for_a_new_name(
    store: LineageStore, rows: float
) -> None:
    """``rows=100.0`` where ``DataSet`` declares ``rows`` an INT: InvalidArgumentError for a
    new name, but for the stored dataset's name it compared equal to the stored ``100`` and the
    declaration was accepted (``100.5`` was AlreadyExistsError): the same bad declaration
    refused or not depending on what the store held. It is InvalidArgumentError either way,
    nothing written, no type extended (an int for a DOUBLE stays the double, as documented)."""
    _, data, model = _script(store)
    before = _counts(store)
    for name in ("train", "new-name"):
        with pytest.raises(InvalidArgumentError, match=r"rows.*declares INT, got DOUBLE"):
            _script(store, name=name, properties={"rows": rows})
        assert _counts(store) == before, name
    with store.run("Retrain") as run:
        with pytest.raises(InvalidArgumentError, match=r"rows.*declares INT, got DOUBLE"):
            run.output("DataSet", uri=data.uri, name="train", properties={"rows": rows, "cols": 3})
        again = run.output("DataSet", uri=data.uri, name="train", properties={"rows": 100})
    assert again.id == data.id and model.id is not None
    assert store.get_artifact_type("DataSet").properties.keys() == {"rows"}


def test_custom_properties_added_to_the_stored_dataset_since_are_no_difference(
    store: LineageStore,
) -> None:
    """An impact mark (or a user) annotates the dataset after the first run: the script's own
    declaration is still that dataset (only the custom properties it gives are compared)."""
    _, data, _ = _script(store, custom_properties={"source": "s3"})
    store.impact(data, mark=ImpactMark(custom_property=("reviewed", True)))
    run, again, _ = _script(store, custom_properties={"source": "s3"})
    assert again.id == data.id and again.custom_properties == {"source": "s3", "reviewed": True}
    assert run.cached is not None


def test_an_external_id_declared_again_is_the_stored_artifact(store: LineageStore) -> None:
    """External ids are unique too: a declaration by external id alone is get-or-create as well;
    one whose name is one artifact's and external id another's is refused."""
    data = Artifact(type="DataSet", uri="/d", external_id="ds-1")
    with store.run("Load", inputs=[data]):
        pass
    again = Artifact(type="DataSet", uri="/d", external_id="ds-1")
    with store.run("Load", inputs=[again]) as run:
        pass
    assert again.id == data.id and run.cached is not None
    with (
        pytest.raises(AlreadyExistsError, match=r"external id 'ds-1'.*uri: '/d' stored"),
        store.run("Load", inputs=[Artifact(type="DataSet", uri="/e", external_id="ds-1")]),
    ):
        pass  # pragma: no cover - refused at entry
    with (
        pytest.raises(AlreadyExistsError, match=r"external id 'ds-1'.*type: 'DataSet' stored"),
        store.run("Load", inputs=[Artifact(type="Model", uri="/d", external_id="ds-1")]),
    ):
        pass  # pragma: no cover
    named = Artifact(type="DataSet", uri="/n", name="n")
    with store.run("Load", inputs=[named]):
        pass
    both = Artifact(type="DataSet", uri="/n", name="n", external_id="ds-1")
    with (
        pytest.raises(AlreadyExistsError, match=rf"artifact {named.id}'s and its external id"),
        store.run("Load", inputs=[both]),
    ):
        pass  # pragma: no cover
    assert len(store.get_executions()) == 3  # the refused ones recorded nothing


def test_two_declarations_of_one_stored_dataset_are_one_input_given_twice(
    store: LineageStore,
) -> None:
    """Both become the stored dataset: the run reads it once, as for one artifact given twice;
    refused before anything is written, and neither declaration is changed."""
    _script(store)
    a = Artifact(type="DataSet", uri="s3://data/train.csv", name="train", properties={"rows": 100})
    b = a.model_copy()
    with (
        pytest.raises(InvalidArgumentError, match="given twice as an input"),
        store.run("Trainer", inputs={"train": a, "eval": b}),
    ):
        pass  # pragma: no cover
    assert a.id is None and b.id is None and len(store.get_executions()) == 1


def test_an_output_declared_again_as_stored_is_that_artifact(store: LineageStore) -> None:
    """A script whose run is not cached (or a step with ``cache=False``) re-declares its named
    output: it was AlreadyExistsError at ``run.output()``. The identical declaration is the
    stored model, recorded as this run's output too; another one is refused saying what
    differs, the run going on."""
    with store.run("Export") as first:
        model = first.output("Model", uri="/m", name="m", properties={"acc": 0.5})
    with store.run("Export") as run:
        with pytest.raises(AlreadyExistsError, match=r"named 'm'.*properties.acc: 0.5 stored"):
            run.output("Model", uri="/m", name="m", properties={"acc": 0.7})
        again = run.output("Model", uri="/m", name="m", properties={"acc": 0.5})
        assert again.id == model.id  # at once: it is the stored artifact
        with pytest.raises(InvalidArgumentError, match="declared already"):
            run.output("Model", uri="/m", name="m", properties={"acc": 0.5})
    assert run.state == ExecutionState.COMPLETE and [a.id for a in run.outputs] == [model.id]
    producers = {e.execution_id for e in store.get_events_by_artifact_ids([model.id or 0])}
    assert producers == {first.id, run.id} and len(store.get_artifacts()) == 1

    calls = []

    @store.step("Export", cache=False)
    def export() -> Artifact:
        calls.append(1)
        return Artifact(type="Model", uri="/m", name="m", properties={"acc": 0.5})

    assert export().id == export().id == model.id and calls == [1, 1]


def test_an_abandoned_output_is_not_declared_again(store: LineageStore) -> None:
    """A stored model an impact mark abandoned (or retention deleted) cannot be a new run's
    output: the cache passes such an execution over for good."""
    with store.run("Export") as first:
        model = first.output("Model", uri="/m", name="m")
    store.impact(model, mark=ImpactMark(state=ArtifactState.ABANDONED))
    with (
        store.run("Export") as run,
        pytest.raises(AlreadyExistsError, match="ABANDONED: a run's new output cannot be"),
    ):
        run.output("Model", uri="/m", name="m")
    assert run.state == ExecutionState.COMPLETE and run.outputs == []


def test_an_output_of_the_cache_hit_declared_again_after_use_cached_is_refused(
    store: LineageStore,
) -> None:
    """After ``use_cached()`` the hit's outputs are the run's: declaring one again by its name
    is declaring it twice (the run would fail on exit with a repeated event)."""
    _script(store)
    with store.run(
        "Trainer",
        inputs=[
            Artifact(
                type="DataSet", uri="s3://data/train.csv", name="train", properties={"rows": 100}
            )
        ],
        context="exp-1",
        properties={"lr": 0.1},
    ) as run:
        run.use_cached()
        with pytest.raises(InvalidArgumentError, match="output of the cache hit"):
            run.output("Model", uri="s3://models/1", name="model-1")
    assert run.state == ExecutionState.CACHED


def test_a_dataset_another_writer_creates_under_the_entry_write_is_used(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two jobs of a sweep declare one dataset at once: both find it absent, one creates it, and
    the other's entry write fails on its name (AlreadyExistsError). That one looks it up again
    and records its run on it. Here the other writer creates it right after the lookup."""
    data = Artifact(type="DataSet", uri="/d", name="shared")
    with store.run("Load", inputs=[Artifact(type="DataSet", uri="/x")]):
        pass  # (the DataSet type exists, so the lookup is made)
    real = store.get_artifact_by_type_and_name
    raced = []

    def lookup(type_name: str, name: str, type_version: str | None = None) -> Artifact | None:
        found = real(type_name, name, type_version)
        if name == "shared" and not raced:
            raced.append(store.put_artifacts([Artifact(type="DataSet", uri="/d", name="shared")]))
        return found

    monkeypatch.setattr(store, "get_artifact_by_type_and_name", lookup)
    with store.run("Train", inputs=[data]) as run:
        pass
    assert raced and data.id == raced[0][0] and [a.id for a in run.inputs] == [data.id]
    assert len(store.get_artifacts_by_uri("/d")) == 1


def _types(store: LineageStore) -> list[tuple[str, dict[str, Any]]]:
    return [(t.name, dict(t.properties)) for kind in NodeKind for t in store.get_types(kind)]


@pytest.mark.parametrize(
    ("changed", "match"),
    [
        ({"data": {"rows": 1.5, "cols": 3}}, r"input 'DataSet': .* 'rows'.* INT, got DOUBLE"),
        ({"lr": "fast"}, r"run 'Trainer': .* 'lr'.* DOUBLE, got STRING"),
        ({"context": {"owner": 7}}, r"context 'exp-2': .* 'owner'.* STRING, got INT"),
    ],
)
def test_a_property_whose_kind_changed_between_script_versions_changes_no_type(
    store: LineageStore, changed: dict[str, Any], match: str
) -> None:
    """A new version of the script gives a property another kind (``rows=1.5`` where the first
    declared an INT). MLMD never changes a property's kind, so the run is refused: it was, by
    the entry write, after the run had registered its new context type and extended its types
    with the properties it adds (``epochs``, ``cols``), so a refused run changed the store.
    Every type is checked before any is registered or extended now."""

    def run(data: Any, lr: Any, context: Any) -> None:
        with store.run(
            "Trainer",
            inputs=[Artifact(type="DataSet", uri="/d", properties=data)],
            context=[
                Context(type="Experiment", name="exp-1", properties={"owner": "me"}),
                Context(type="Sweep", name="exp-2", properties=context),
            ],
            properties={"lr": lr, "epochs": 3},
        ):
            pass

    with store.run(
        "Trainer",
        inputs=[Artifact(type="DataSet", uri="/d", properties={"rows": 1})],
        context=[
            Context(type="Experiment", name="exp-1", properties={"owner": "me"}),
        ],
        properties={"lr": 0.1},
    ):
        pass
    store.put_context_type(ContextType(name="Sweep", properties={"owner": PropertyType.STRING}))
    before = _types(store), [store.count(kind) for kind in NodeKind]
    given = {"data": {"rows": 1}, "lr": 0.5, "context": {"owner": "me"}, **changed}
    with pytest.raises(InvalidArgumentError, match=match):
        run(given["data"], given["lr"], given["context"])
    assert (_types(store), [store.count(kind) for kind in NodeKind]) == before
    run({"rows": 1, "cols": 3}, 0.5, {"owner": "me"})  # as the first declared them: recorded
    assert len(store.get_executions()) == 2


def test_an_output_refused_for_a_property_of_another_kind_does_not_extend_its_type(
    store: LineageStore,
) -> None:
    """``run.output("Model", properties={"acc": "high", "f1": 0.5})`` where Model declares acc
    a DOUBLE was refused at the call, after ``f1`` had been added to Model."""
    with store.run("Train") as first:
        first.output("Model", uri="/m1", properties={"acc": 0.5})
    with (
        store.run("Train") as run,
        pytest.raises(InvalidArgumentError, match=r"output 'Model'.*'acc'.*DOUBLE, got STR"),
    ):
        run.output("Model", uri="/m2", properties={"acc": "high", "f1": 0.5})
    assert run.state == ExecutionState.COMPLETE
    assert store.get_artifact_type("Model").properties == {"acc": PropertyType.DOUBLE}


def test_a_step_argument_of_another_kind_is_still_demoted_not_refused(store: LineageStore) -> None:
    """The check before the types are registered leaves a step's arguments to the step: one of
    another kind than declared is kept as a custom property, the call run (docs/api.md)."""
    calls = []

    @store.step("Fit", cache=True, context="exp")
    def fit(data: Artifact, depth: Any) -> Artifact:
        calls.append(depth)
        return Artifact(type="Model", uri=f"/m{len(calls)}")

    data = Artifact(type="DataSet", uri="/d", name="d")
    fit(data, 3)
    fit(Artifact(type="DataSet", uri="/d", name="d"), "auto")  # the script run again, changed
    assert calls == [3, "auto"]
    [_, second] = store.get_executions_by_type("Fit")
    assert second.custom_properties["depth"] == "auto" and "depth" not in second.properties


def test_a_run_given_an_int_where_its_type_declares_a_double_widens_it_and_hits_the_cache(
    store: LineageStore,
) -> None:
    """``lr: DOUBLE`` from a first run given ``0.1``; a later version of the script gives
    ``lr=1``: recorded as ``1.0`` (as a step's argument is), and the same run again is a hit."""
    data = Artifact(type="DataSet", uri="/d", name="d")
    with store.run("Trainer", inputs=[data], properties={"lr": 0.1}):
        pass
    with store.run("Trainer", inputs=[data], properties={"lr": 1}) as first:
        assert first.cached is None
    assert first.execution is not None and first.execution.properties == {"lr": 1.0}
    with store.run("Trainer", inputs=[Artifact(id=data.id)], properties={"lr": 1}) as again:
        assert again.cached is not None and again.cached.execution.id == first.id
    with store.run("Trainer", inputs=[data], properties={"lr": 1.0}) as last:
        assert last.cached is not None and last.cached.execution.id == again.id  # the newest
    assert store.get_execution_type("Trainer").properties == {"lr": PropertyType.DOUBLE}


def test_a_script_registering_its_model_run_again_gets_the_same_version(
    store: LineageStore,
) -> None:
    """The script's named model is the same artifact on every run: registering it again returns
    its version (no new version per run of the script), deploying it again records another
    deployment of that version."""
    versions, deployments = [], []
    for _ in range(2):
        with store.run("Trainer", cache=False) as run:
            model = run.output("Model", uri="/models/clf", name="clf-model")
        versions.append(store.tracker.register_model(model, "clf").version)
        deployments.append(store.tracker.deploy(model))
    assert versions == [1, 1] and len(set(deployments)) == 2
    deployed = store.tracker.deployed_version("clf")
    assert deployed is not None and deployed.version == 1


def test_an_output_another_writer_stores_before_the_run_ends_is_linked_if_the_same(
    store: LineageStore,
) -> None:
    """Two jobs of a sweep record one named dataset: both declare it new, the first to end
    stores it, and the other's completion failed on the name (AlreadyExistsError): that run
    FAILED, every output dropped. It is looked up again at the completion now: the same
    declaration is linked as that run's output, another fails the run saying what differs."""
    with store.run("Prep") as run:
        out = run.output("DataSet", uri="/shared/train", name="train")
        kept = run.output("Stats", uri="/stats/1")
        [other] = store.put_artifacts([Artifact(type="DataSet", uri="/shared/train", name="train")])
    assert run.state == ExecutionState.COMPLETE
    assert out.id == other and [a.id for a in run.outputs] == [other, kept.id]
    with (
        pytest.raises(AlreadyExistsError, match=r"named 'x'.*uri: '/theirs' stored, '/mine'"),
        store.run("Prep") as failed,
    ):
        failed.output("DataSet", uri="/mine", name="x")
        store.put_artifacts([Artifact(type="DataSet", uri="/theirs", name="x")])
    assert failed.state == ExecutionState.FAILED
    assert store.get_events_by_execution_ids([failed.id]) == []


def test_the_demo_pipeline_recorded_twice_into_one_store(
    store: LineageStore, tmp_path: Any
) -> None:
    """``lineage-graph demo``'s pipeline is a script of named datasets and models: recorded a
    second time into the same store it failed at its first output (``customers.csv``). It
    records a second run of every step now, on the same artifacts, and the same versions."""
    from lineage_graph._demo import run_demo

    first = run_demo(store, tmp_path)
    second = run_demo(store, tmp_path)
    assert second.raw.id == first.raw.id
    assert [m.id for m in second.models] == [m.id for m in first.models]
    assert second.best.version == first.best.version
    states = [x.last_known_state for x in store.get_executions()]
    assert len(states) == 10 and set(states) == {ExecutionState.COMPLETE}


# ------------------------------------------------------------------- a named run run again


def _named_run(store: LineageStore, end: str, data: Artifact | None = None) -> Any:
    """A script's run named for its day: ``end`` is how its body ends."""
    data = data or Artifact(type="DataSet", uri="s3://data/train.csv", name="train")
    with store.run("Trainer", name="nightly-2026-12-05", inputs=[data]) as run:
        if end == "raise":
            raise RuntimeError("out of memory")
        if end == "ctrl-c":
            raise KeyboardInterrupt
        run.output("Model", uri="s3://models/nightly")
    return run


def _running_namesake(store: LineageStore, owner: Any = None) -> int:
    """A RUNNING ``Trainer`` execution holding the nightly run's name, its ``run_owner``
    ``owner`` (None: no owner recorded, as put_executions or an older version writes it)."""
    from lineage_graph import Execution, ExecutionType

    store.put_execution_type(ExecutionType(name="Trainer"))
    [held] = store.put_executions(
        [
            Execution(
                type="Trainer",
                name="nightly-2026-12-05",
                last_known_state=ExecutionState.RUNNING,
                custom_properties={} if owner is None else {"run_owner": owner},
            )
        ]
    )
    return held


@pytest.mark.parametrize(
    ("end", "error", "state"),
    [
        ("raise", RuntimeError, ExecutionState.FAILED),
        ("ctrl-c", KeyboardInterrupt, ExecutionState.CANCELED),
    ],
)
def test_a_named_run_that_failed_or_was_cancelled_runs_again_under_its_name(
    store: LineageStore, end: str, error: type[BaseException], state: ExecutionState
) -> None:
    """A run given a name that raised (FAILED) or was interrupted (CANCELED) kept the name
    (names are unique per type): running the script again raised AlreadyExistsError, for good.
    The failed attempt gives the name up now, renamed ``<name>~attempt-<id>`` with its state,
    error and inputs as they were, and the new run takes it."""
    with pytest.raises(error):
        _named_run(store, end)
    [failed] = store.get_executions_by_type("Trainer")
    assert failed.last_known_state == state
    assert "run_owner" not in failed.custom_properties  # an ended run has no owner
    again = _named_run(store, "complete")
    assert again.state == ExecutionState.COMPLETE and again.id != failed.id
    found = store.get_execution_by_type_and_name("Trainer", "nightly-2026-12-05")
    assert found is not None and found.id == again.id
    assert "run_owner" not in found.custom_properties
    [before] = store.get_executions_by_id([failed.id or 0])
    assert before.name == f"nightly-2026-12-05~attempt-{failed.id}"
    assert before.last_known_state == state
    assert before.custom_properties == failed.custom_properties  # its error, as recorded
    events = store.get_events_by_execution_ids([failed.id or 0])
    assert [(e.artifact_id, e.type.is_output) for e in events] == [(again.inputs[0].id, False)]


def test_a_named_run_whose_namesake_another_rerun_retired_meanwhile_writes_again(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two re-runs of a failed named run: the other one renamed the failed attempt between
    this one's entry write (refused: the name was held) and its look-up of the holder, which
    then found no namesake, and the run was refused with the engine's message naming the
    renamed execution. The name may be free now: the entry is written again."""
    with pytest.raises(RuntimeError):
        _named_run(store, "raise")
    [failed] = store.get_executions_by_type("Trainer")
    put_execution = store.put_execution

    def other_rerun_retires_it_meanwhile(*args: Any, **kwargs: Any) -> Any:
        try:
            return put_execution(*args, **kwargs)
        except AlreadyExistsError:
            store.put_executions(
                [Execution(id=failed.id, name=f"nightly-2026-12-05~attempt-{failed.id}")],
                field_mask_paths=["name"],
            )
            raise

    monkeypatch.setattr(store, "put_execution", other_rerun_retires_it_meanwhile)
    again = _named_run(store, "complete")
    assert again.state == ExecutionState.COMPLETE
    found = store.get_execution_by_type_and_name("Trainer", "nightly-2026-12-05")
    assert found is not None and found.id == again.id


def test_a_named_run_that_completed_keeps_its_name(store: LineageStore) -> None:
    """A name is one run's: a completed one keeps it, and the new run is refused, saying so,
    with nothing written: no type registered or extended either (the refusal came from the
    entry write, after the run's types were registered and its properties declared)."""
    first = _named_run(store, "complete")
    before = _counts(store)
    types = [store.get_types(kind) for kind in NodeKind]
    with (
        pytest.raises(
            AlreadyExistsError, match=f"execution {first.id} holds that name and is COMPLETE"
        ),
        store.run(
            "Trainer",
            name="nightly-2026-12-05",
            inputs=[Artifact(type="Features", uri="s3://features")],
            context="exp-2",
            properties={"epochs": 3},
        ),
    ):
        pass
    assert _counts(store) == before
    assert [store.get_types(kind) for kind in NodeKind] == types
    [stored] = store.get_executions_by_type("Trainer")
    assert stored.name == "nightly-2026-12-05" and stored.last_known_state.name == "COMPLETE"


def test_a_running_namesake_without_an_owner_is_not_taken_over(store: LineageStore) -> None:
    """A RUNNING execution holding the name whose process is not known (written by
    put_executions, or by an older version): never closed by the new run, which is refused
    naming it and how to close it."""
    held = _running_namesake(store)
    before = [store.count(kind) for kind in NodeKind]
    with pytest.raises(AlreadyExistsError, match=f"execution {held} holds that name") as caught:
        _named_run(store, "complete")
    assert "owner not recorded" in str(caught.value)
    assert "field_mask_paths=['last_known_state']" in str(caught.value)
    assert [store.count(kind) for kind in NodeKind] == before
    [stored] = store.get_executions_by_id([held])
    assert stored.name == "nightly-2026-12-05"
    assert stored.last_known_state == ExecutionState.RUNNING
    # closed as the error says, the name is the next run's
    store.put_executions(
        [Execution(id=held, last_known_state=ExecutionState.FAILED)],
        field_mask_paths=["last_known_state"],
    )
    assert _named_run(store, "complete").state == ExecutionState.COMPLETE


def test_a_run_records_its_owner_while_it_runs_and_drops_it_when_it_ends(
    store: LineageStore,
) -> None:
    """The process running a run is on its execution while it is RUNNING (what tells a dead run
    from a live one), not on a run that ended; an owner the caller gives is theirs, kept."""
    import os

    with store.run("Trainer") as run:
        [running] = store.get_executions_by_id([run.id])
        owner = running.custom_properties["run_owner"]
        assert owner["pid"] == str(os.getpid())
    [done] = store.get_executions_by_id([run.id])
    assert "run_owner" not in done.custom_properties
    with store.run("Trainer", custom_properties={"run_owner": "team-a"}) as mine:
        pass
    [kept] = store.get_executions_by_id([mine.id])
    assert kept.custom_properties["run_owner"] == "team-a"


@pytest.mark.parametrize(
    "name",
    ["a\x00b", "", " nightly", "nightly\t", "a\x01b", "x" * 4097],
    ids=["nul", "empty", "lead-space", "trail-tab", "u0001", "4097-bytes"],
)
def test_a_run_name_the_store_cannot_hold_registers_nothing(store: LineageStore, name: str) -> None:
    """A run name no store can hold as a unique key (a NUL, empty, edge whitespace, U+0001, over
    4,096 bytes) was refused by the entry write, after the run's execution type and its
    context's type were registered: InvalidArgumentError now, before anything is written."""
    from lineage_graph import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="name"):
        store.run("Trainer", name=name, context="exp-1", context_type="Sweep")
    assert [store.get_types(kind) for kind in NodeKind] == [[], [], []]


def test_a_dead_run_whose_pid_this_process_now_holds_gives_its_name_up(
    store: LineageStore,
) -> None:
    """A run killed whose pid the re-run's own process now holds (a pid reused: another start
    time) was taken for this very process, alive: the re-run was refused for good. It is dead,
    and the re-run takes the name."""
    from lineage_graph._owner import current_owner

    me = current_owner()
    if "start_ticks" not in me:
        pytest.skip("needs /proc (Linux)")
    dead = _running_namesake(store, {**me, "start_ticks": str(int(me["start_ticks"]) - 1)})
    assert _named_run(store, "complete").state == ExecutionState.COMPLETE
    [closed] = store.get_executions_by_id([dead])
    assert closed.name == f"nightly-2026-12-05~attempt-{dead}"
    assert closed.last_known_state == ExecutionState.FAILED
    assert closed.custom_properties["error_type"] == "ProcessDied"


def test_a_failed_attempt_whose_new_name_is_taken_is_refused_saying_so(
    store: LineageStore,
) -> None:
    """The name a failed attempt gives its name up for (``<name>~attempt-<id>``) held by
    another execution (named so by hand): the run was refused with a bare unique key's message
    naming that other name alone. It says which run, which attempt and what holds the name it
    would take now; nothing written, the attempt left as it was."""
    from lineage_graph import Execution, ExecutionType

    store.put_execution_type(ExecutionType(name="Trainer"))
    [failed] = store.put_executions(
        [Execution(type="Trainer", name="nightly", last_known_state=ExecutionState.FAILED)]
    )
    [other] = store.put_executions(
        [
            Execution(
                type="Trainer",
                name=f"nightly~attempt-{failed}",
                last_known_state=ExecutionState.COMPLETE,
            )
        ]
    )
    before = [store.count(kind) for kind in NodeKind]
    with pytest.raises(AlreadyExistsError) as caught, store.run("Trainer", name="nightly"):
        pass  # pragma: no cover - the entry is refused
    text = str(caught.value)
    assert f"named 'nightly': execution {failed} holds that name and is FAILED" in text
    assert f"execution {other} holds that name" in text
    assert [store.count(kind) for kind in NodeKind] == before
    [stored] = store.get_executions_by_id([failed])
    assert (stored.name, stored.last_known_state) == ("nightly", ExecutionState.FAILED)


@pytest.mark.parametrize(
    ("owner", "says"),
    [
        ("team-a", "an owner its caller gave ('team-a'), not a process, which cannot be"),
        ({"host": "gpu-7", "pid": "12"}, "pid 12 on host 'gpu-7', not this host"),
        ("pid-\u00b2", "its caller gave"),
    ],
)
def test_a_running_namesake_not_provably_dead_is_refused_saying_why(
    store: LineageStore, owner: Any, says: str
) -> None:
    """The refusal said the owner was "alive or not provably dead from here (another host,
    another pid namespace)" whatever the reason, and a run_owner its caller gave was "not
    recorded (a run of an older version, or not a pipeline run)": it says why now."""
    held = _running_namesake(store, owner)
    with pytest.raises(AlreadyExistsError, match=f"execution {held} holds that name") as caught:
        _named_run(store, "complete")
    assert says in str(caught.value)
    assert "not recorded" not in str(caught.value)


@pytest.mark.parametrize("pid", ["\u00b2", "9" * 30])
def test_a_running_namesake_with_a_pid_no_process_has_is_refused_typed(
    store: LineageStore, pid: str
) -> None:
    """A run_owner of this host, boot and pid namespace whose pid no process can have ("²",
    which str.isdigit passes; one past a C int) raised ValueError / OverflowError out of the
    run's start: AlreadyExistsError, as for any owner not provably dead."""
    from lineage_graph._owner import current_owner

    _running_namesake(store, {**current_owner(), "pid": pid, "start_ticks": "1"})
    with pytest.raises(AlreadyExistsError, match="holds that name and is RUNNING"):
        _named_run(store, "complete")


@pytest.mark.parametrize("name", ["n" * 4096, "\u00e9" * 2048, "\u65e5" * 1365], ids=str.__len__)
def test_a_failed_attempt_of_a_name_at_the_length_limit_is_renamed_within_it(
    store: LineageStore, name: str
) -> None:
    """``<name>~attempt-<id>`` of a name of 4,096 bytes would pass the limit of a unique key: the
    name is cut to leave room for the suffix (never inside a character), and the re-run takes
    the whole name."""
    from lineage_graph import Execution, ExecutionType

    store.put_execution_type(ExecutionType(name="Trainer"))
    [failed] = store.put_executions(
        [Execution(type="Trainer", name=name, last_known_state=ExecutionState.FAILED)]
    )
    with store.run("Trainer", name=name) as run:
        pass
    [renamed] = store.get_executions_by_id([failed])
    suffix = f"~attempt-{failed}"
    assert renamed.name is not None and renamed.name.endswith(suffix)
    assert len(renamed.name.encode()) <= 4096
    assert name.startswith(renamed.name.removesuffix(suffix))
    found = store.get_execution_by_type_and_name("Trainer", name)
    assert found is not None and found.id == run.id


def _end_run(run: Any, end: str) -> None:
    """Ends ``run`` (not started) the way ``end`` says."""
    import asyncio

    async def body() -> None:
        async with run:
            pass

    if end == "async":
        asyncio.run(body())
    elif end in ("fail()", "finish()"):
        run.start()
        run.fail("boom") if end == "fail()" else run.finish()
    elif end == "cached":
        with run:
            assert run.cached is not None
            run.use_cached()
    else:
        error = RuntimeError if end == "raise" else KeyboardInterrupt
        with pytest.raises(error), run:
            raise error("out of memory")


@pytest.mark.parametrize("end", ["raise", "ctrl-c", "fail()", "finish()", "cached", "async"])
def test_no_end_of_a_run_leaves_its_owner_and_a_callers_is_kept(
    store: LineageStore, end: str
) -> None:
    """Every way a run ends drops the ``run_owner`` its entry wrote (only a dead run keeps
    one), and keeps one the caller gave (as it keeps its other custom properties)."""
    data = Artifact(type="DataSet", uri="s3://data/train.csv", name="train")
    with store.run("Trainer", inputs=[data]) as first:
        first.output("Model", uri="s3://models/1")
    for given in ({}, {"run_owner": "team-a", "note": "x"}):
        run = store.run("Trainer", inputs=[data], custom_properties=given)
        _end_run(run, end)
        [stored] = store.get_executions_by_id([run.id])
        assert stored.last_known_state != ExecutionState.RUNNING
        kept = {k: v for k, v in stored.custom_properties.items() if k in ("run_owner", "note")}
        assert kept == given, end


# --------------------------------------------- a re-run refused after its namesake's rename


def _another_writer_stores_train_after(store: LineageStore, monkeypatch: Any, call: str) -> None:
    """Play another writer: right after the store's ``call`` (the first entry write, refused on
    the run's name; or the namesake's rename), it stores the dataset ``train`` with another
    uri than the re-run declares."""
    real = getattr(store, call)
    done: list[bool] = []

    def then_the_other_writer(*args: Any, **kwargs: Any) -> Any:
        try:
            return real(*args, **kwargs)
        finally:
            if not done:
                done.append(True)
                store.put_artifacts([Artifact(type="DataSet", name="train", uri="s3://other")])

    monkeypatch.setattr(store, call, then_the_other_writer)


@pytest.mark.parametrize("after", ["put_execution", "_put_executions_expecting"])
@pytest.mark.parametrize("namesake", ["failed", "dead"])
def test_a_rerun_refused_after_its_namesake_gave_the_name_up_leaves_it_as_it_was(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, after: str, namesake: str
) -> None:
    """A re-run of a failed (or dead) named run renamed it ``<name>~attempt-<id>`` in a write of
    its own, then wrote its entry: refused there (a new input another writer stored meanwhile
    with other content), the earlier attempt stayed renamed (a dead one FAILED) and the name
    free, though the run was refused. The refusal comes before the rename now, and an entry
    refused after it renames the attempt back: the store is as it was."""
    if namesake == "failed":
        with pytest.raises(RuntimeError):
            _named_run(store, "raise", Artifact(type="DataSet", uri="s3://data/0.csv"))
        [held] = store.get_executions_by_type("Trainer")
    else:
        from lineage_graph._owner import current_owner

        me = current_owner()
        if "start_ticks" not in me:
            pytest.skip("needs /proc (Linux)")
        dead = {**me, "start_ticks": str(int(me["start_ticks"]) - 1)}  # its pid reused since
        [held] = store.get_executions_by_id([_running_namesake(store, dead)])
    before = store.get_executions_by_id([held.id or 0])
    _another_writer_stores_train_after(store, monkeypatch, after)
    with pytest.raises(AlreadyExistsError, match="uri"):
        _named_run(store, "complete")
    # (as it was, but for its update time: renamed back is an update)
    after_all = store.get_executions_by_type("Trainer")
    assert [e.model_copy(update={"last_update_time_since_epoch": 0}) for e in after_all] == [
        e.model_copy(update={"last_update_time_since_epoch": 0}) for e in before
    ]
    assert store.get_artifact_by_type_and_name("DataSet", "train") is not None  # (the other's)
    found = store.get_execution_by_type_and_name("Trainer", "nightly-2026-12-05")
    assert found is not None and found.id == held.id


def test_a_rerun_interrupted_before_its_entry_was_sent_gives_the_name_back(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the re-run renamed the failed attempt, before its entry write was sent:
    nothing of the run was written, yet the attempt stayed renamed and the name free. It is
    renamed back once the entry is known not written."""
    with pytest.raises(RuntimeError):
        _named_run(store, "raise")
    [held] = store.get_executions_by_type("Trainer")
    put_execution = store.put_execution
    calls: list[int] = []

    def ctrl_c_before_the_second_entry(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:  # (the first, refused on the name, led to the rename)
            raise KeyboardInterrupt
        return put_execution(*args, **kwargs)

    monkeypatch.setattr(store, "put_execution", ctrl_c_before_the_second_entry)
    with pytest.raises(KeyboardInterrupt):
        _named_run(store, "complete")
    assert len(calls) == 2
    [after] = store.get_executions_by_type("Trainer")
    assert after.id == held.id and after.name == "nightly-2026-12-05"
    assert after.last_known_state == ExecutionState.FAILED


@pytest.mark.parametrize("lands", ["as the rename is sent", "as the rename's reply comes"])
def test_a_rerun_interrupted_at_its_namesakes_rename_leaves_it_its_name(
    store: LineageStore, lands: str
) -> None:
    """Ctrl-C as the rename of the failed attempt returned (applied; the entry not sent yet):
    nothing of the run was written, yet the attempt stayed renamed ``~attempt-<id>`` and the
    name free (the rename was listed to be undone only once its write returned). It is renamed
    back; one interrupted before it was applied keeps its name, and no note says otherwise."""
    from lineage_graph import store as store_module

    with pytest.raises(RuntimeError):
        _named_run(store, "raise")
    [held] = store.get_executions_by_type("Trainer")
    event = "call" if lands == "as the rename is sent" else "return"
    landed: list[bool] = []

    def trace(frame: Any, what: str, arg: Any) -> Any:
        code = frame.f_code
        if code.co_name != "_put_executions_expecting" or code.co_filename != store_module.__file__:
            return None
        if what == event and frame.f_back.f_code.co_name == "_retire_namesake" and not landed:
            landed.append(True)
            raise KeyboardInterrupt
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        with pytest.raises(KeyboardInterrupt) as interrupted:
            _named_run(store, "complete")
    finally:
        sys.settrace(previous)
    assert landed
    [after] = store.get_executions_by_type("Trainer")
    assert after.id == held.id and after.name == "nightly-2026-12-05"
    assert after.last_known_state == ExecutionState.FAILED
    assert not [n for n in getattr(interrupted.value, "__notes__", []) if "get it back" in n]
