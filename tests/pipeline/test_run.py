"""``store.run(...)``: the pipeline API, on every engine."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import pytest

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    EventType,
    ExecutionState,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    NotFoundError,
    PropertyType,
    pipeline,
)
from lineage_graph.cli._common import redact
from lineage_graph.pipeline import Run, current_run


@pytest.fixture
def dataset(store: LineageStore) -> Artifact:
    store.put_artifact_type(ArtifactType(name="DataSet", properties={"rows": PropertyType.INT}))
    [aid] = store.put_artifacts(
        [Artifact(type="DataSet", uri="/data/train.csv", properties={"rows": 10})]
    )
    return store.get_artifacts_by_id([aid])[0]


def test_run_records_running_then_complete_with_events_and_contexts(
    store: LineageStore, dataset: Artifact
) -> None:
    with store.run("Trainer", inputs=[dataset], context="exp-1", properties={"lr": 0.1}) as run:
        during = store.get_executions_by_id([run.id])[0]
        assert during.last_known_state == ExecutionState.RUNNING
        assert during.properties == {"lr": 0.1}
        assert [e.type for e in store.get_events_by_execution_ids([run.id])] == [EventType.INPUT]
        assert run.cached is None
        assert current_run() is run
        model = run.output(Artifact(type="Model", uri="/models/1"))
        assert model.id is None
    assert current_run() is None
    assert run.state == ExecutionState.COMPLETE
    assert model.id is not None and [a.id for a in run.outputs] == [model.id]
    [stored_model] = store.get_artifacts_by_id([model.id])
    assert stored_model.state == ArtifactState.LIVE and stored_model.type == "Model"
    events = {(e.artifact_id, e.type) for e in store.get_events_by_execution_ids([run.id])}
    assert events == {(dataset.id, EventType.INPUT), (model.id, EventType.OUTPUT)}
    [exp] = run.contexts
    assert (exp.type, exp.name) == ("Experiment", "exp-1")
    assert [x.id for x in store.get_executions_by_context(exp.id or 0)] == [run.id]
    assert {a.id for a in store.get_artifacts_by_context(exp.id or 0)} == {dataset.id, model.id}
    # inputs are linked, never rewritten
    assert store.get_artifacts_by_id([dataset.id or 0]) == [dataset]
    assert store.get_execution_type("Trainer").properties == {"lr": PropertyType.DOUBLE}


def test_an_exception_records_failed_with_the_error_and_no_outputs(
    store: LineageStore, dataset: Artifact
) -> None:
    with pytest.raises(ZeroDivisionError), store.run("Trainer", inputs=[dataset]) as run:
        run.log_metrics(loss=0.5)
        run.output("Model", uri="/never")
        _ = 1 / 0
    assert run.state == ExecutionState.FAILED
    [execution] = store.get_executions_by_id([run.id])
    assert execution.last_known_state == ExecutionState.FAILED
    assert execution.custom_properties["error"] == "ZeroDivisionError: division by zero"
    assert execution.custom_properties["error_type"] == "ZeroDivisionError"
    assert execution.custom_properties["loss"] == 0.5
    assert store.get_artifacts_by_uri("/never") == []
    assert isinstance(run.error, ZeroDivisionError)


def test_keyboard_interrupt_records_canceled(store: LineageStore) -> None:
    with pytest.raises(KeyboardInterrupt), store.run("Trainer") as run:
        raise KeyboardInterrupt
    assert store.get_executions_by_id([run.id])[0].last_known_state == ExecutionState.CANCELED


@pytest.mark.parametrize("code", [None, 0, False])
def test_sys_exit_0_in_a_run_completes_it_with_its_outputs(
    store: LineageStore, dataset: Artifact, code: object
) -> None:
    """A script ending with ``sys.exit(0)`` inside its run succeeded, as its exit status says:
    the run was recorded FAILED ("SystemExit: 0") and its outputs dropped."""
    with pytest.raises(SystemExit), store.run("Trainer", inputs=[dataset]) as run:
        run.output("Model", uri="/exited")
        sys.exit(code)  # type: ignore[arg-type]
    [execution] = store.get_executions_by_id([run.id])
    assert execution.last_known_state == ExecutionState.COMPLETE
    assert "error" not in execution.custom_properties
    assert [a.uri for a in store.get_artifacts_by_uri("/exited")] == ["/exited"]


@pytest.mark.parametrize("code", [1, 2, "stopped: no data", True])
def test_sys_exit_with_a_failure_code_in_a_run_records_failed(
    store: LineageStore, dataset: Artifact, code: object
) -> None:
    with pytest.raises(SystemExit), store.run("Trainer", inputs=[dataset]) as run:
        run.output("Model", uri="/exited")
        sys.exit(code)  # type: ignore[arg-type]
    [execution] = store.get_executions_by_id([run.id])
    assert execution.last_known_state == ExecutionState.FAILED
    assert execution.custom_properties["error_type"] == "SystemExit"
    assert store.get_artifacts_by_uri("/exited") == []


def test_sys_exit_0_in_a_step_completes_it_and_is_no_cache_hit(store: LineageStore) -> None:
    """A step exiting the program successfully is COMPLETE, but returned nothing a later call
    could be given back: that call runs."""
    calls: list[int] = []

    @store.step("Exits", cache=True)
    def exits(n: int) -> None:
        calls.append(n)
        if len(calls) == 1:
            sys.exit(0)

    with pytest.raises(SystemExit):
        exits(1)
    exits(1)
    assert calls == [1, 1]
    states = [e.last_known_state for e in store.get_executions()]
    assert states == [ExecutionState.COMPLETE, ExecutionState.COMPLETE]


def test_a_bad_output_fails_the_run_atomically(store: LineageStore, dataset: Artifact) -> None:
    with (
        pytest.raises(InvalidArgumentError, match="unmatched property type"),
        store.run("Trainer", inputs=[dataset]) as run,
    ):
        run.output("Model", uri="/good")
        run.output("DataSet", uri="/bad", properties={"rows": "ten"})
    [execution] = store.get_executions_by_id([run.id])
    assert execution.last_known_state == ExecutionState.FAILED
    assert "unmatched property type" in execution.custom_properties["error"]
    assert store.get_artifacts_by_uri("/good") == []  # nothing of the completion was written


def test_cache_hit_on_same_inputs_and_properties(store: LineageStore, dataset: Artifact) -> None:
    with store.run("Trainer", inputs=[dataset], properties={"lr": 0.1}) as first:
        model = first.output("Model", uri="/m1", key="model")
    with store.run("Trainer", inputs=[dataset], properties={"lr": 0.1}) as again:
        assert again.cached
        assert again.cached.execution.id == first.id
        assert [a.id for a in again.cached.outputs] == [model.id]
        assert again.cached.output("model").id == model.id
        assert again.cached.output().id == model.id
        reused = again.use_cached()
    assert [a.id for a in reused] == [model.id]
    assert again.state == ExecutionState.CACHED
    assert [a.id for a in again.outputs] == [model.id]
    assert again.execution is not None
    assert again.execution.custom_properties["cached_from_execution_id"] == first.id
    # a cached execution is itself a valid cache entry; other properties or inputs miss
    with store.run("Trainer", inputs=[dataset], properties={"lr": 0.1}) as third:
        assert third.cached is not None and third.cached.execution.id == again.id
    with store.run("Trainer", inputs=[dataset], properties={"lr": 0.2}) as other:
        assert other.cached is None
    with store.run("Trainer", inputs=[dataset, model], properties={"lr": 0.1}) as more:
        assert more.cached is None
    with store.run("Evaluator", inputs=[dataset], properties={"lr": 0.1}) as evaluator:
        assert evaluator.cached is None
    with store.run("Trainer", inputs=[dataset], properties={"lr": 0.1}, cache=False) as off:
        assert off.cached is None
        with pytest.raises(FailedPreconditionError):
            off.use_cached()


def test_failed_runs_are_not_cache_hits(store: LineageStore, dataset: Artifact) -> None:
    with pytest.raises(RuntimeError), store.run("Trainer", inputs=[dataset]):
        raise RuntimeError("boom")
    with store.run("Trainer", inputs=[dataset]) as run:
        assert run.cached is None


def test_keyed_inputs_and_outputs_become_event_paths(
    store: LineageStore, dataset: Artifact
) -> None:
    other, third = store.put_artifacts(
        [Artifact(type="DataSet", uri="/data/eval.csv"), Artifact(type="DataSet", uri="/x.csv")]
    )
    with store.run("Trainer", inputs={"train": dataset, "eval": [other, third]}) as run:
        run.output("Model", uri="/m", key="model")
    paths = sorted(
        (e.type, e.artifact_id, tuple(e.path)) for e in store.get_events_by_execution_ids([run.id])
    )
    assert (EventType.INPUT, dataset.id, ("train",)) in paths
    assert (EventType.INPUT, other, ("eval", 0)) in paths
    assert (EventType.INPUT, third, ("eval", 1)) in paths
    assert any(p == (EventType.OUTPUT, run.outputs[0].id, ("model",)) for p in paths)


def test_new_inputs_are_recorded_with_the_run(store: LineageStore) -> None:
    with store.run("Ingest", inputs=[Artifact(type="RawData", uri="s3://raw")]) as run:
        assert run.cached is None  # a never-seen input cannot be a cache hit
        [raw] = run.inputs
    assert raw.id is not None and raw.uri == "s3://raw"
    assert store.get_artifact_type("RawData").name == "RawData"


def test_a_new_input_becomes_the_stored_artifact(store: LineageStore) -> None:
    # As an output does: passed again, it is the same artifact, not a copy recorded each time.
    raw = Artifact(type="RawData", uri="s3://raw")
    with store.run("Ingest", inputs={"raw": raw}) as run:
        run.output("DataSet", uri="/clean")
    assert raw.id is not None and raw.id == run.inputs[0].id
    assert raw.state == run.inputs[0].state and raw.create_time_since_epoch is not None
    with store.run("Ingest", inputs={"raw": raw}) as again:
        assert again.cached is not None and again.cached.execution.id == run.id
    calls: list[int] = []

    @store.step(cache=True)
    def clean(data: Artifact) -> Artifact:
        calls.append(1)
        return Artifact(type="DataSet", uri="/cleaned")

    fresh = Artifact(type="RawData", uri="s3://fresh")
    assert clean(fresh).id == clean(fresh).id and len(calls) == 1
    assert sorted(a.uri or "" for a in store.get_artifacts_by_type("RawData")) == [
        "s3://fresh",
        "s3://raw",
    ]


def test_existing_contexts_are_linked_not_rewritten(store: LineageStore) -> None:
    store.put_context_type(ContextType(name="Experiment", properties={"note": PropertyType.STRING}))
    [cid] = store.put_contexts(
        [Context(type="Experiment", name="exp", properties={"note": "keep"}, external_id="x")]
    )
    before = store.get_contexts_by_id([cid])
    with store.run("Trainer", context=["exp", Context(type="Pipeline", name="p")]) as run:
        pass
    assert store.get_contexts_by_id([cid]) == before
    assert sorted((c.type, c.name) for c in run.contexts) == [
        ("Experiment", "exp"),
        ("Pipeline", "p"),
    ]


def _snapshot(store: LineageStore) -> list[Any]:
    return [
        *([t.model_dump() for t in store.get_types(kind)] for kind in NodeKind),
        *(store.count(kind) for kind in NodeKind),
    ]


@pytest.mark.parametrize(
    ("given", "error", "says"),
    [
        (
            {"id": 999, "type": "Pipeline", "name": "p"},
            NotFoundError,
            r"no context with id \[999\]",
        ),
        ({"type": "Experiment", "name": "p"}, InvalidArgumentError, "type 'Pipeline' stored"),
        ({"type": "Pipeline", "name": "q"}, InvalidArgumentError, "name 'p' stored, 'q' given"),
        ({"name": "q"}, InvalidArgumentError, "name 'p' stored, 'q' given"),
        ({"type_id": 999, "name": "p"}, InvalidArgumentError, "type id"),
    ],
)
def test_a_context_given_by_id_is_the_stored_one_else_nothing_is_written(
    store: LineageStore, given: dict[str, Any], error: type[Exception], says: str
) -> None:
    """A context given by id was linked unchecked: ``Context(id=7, type="Experiment",
    name="q")`` linked the run to context 7, a ``Pipeline`` named ``"p"``, silently, and an id
    of no context failed the entry write after the run's type was registered. The context
    given by id must be the stored one: else the run is refused, typed, nothing written."""
    with store.run("Setup", context=Context(type="Pipeline", name="p")) as setup:
        pass
    [stored] = setup.contexts
    before = _snapshot(store)
    with pytest.raises(error, match=says):
        store.run(
            "Trainer", context=Context(**{"id": stored.id, **given}), properties={"a": 1}
        ).start()
    assert _snapshot(store) == before
    with store.run("Trainer", context=Context(id=stored.id, type="Pipeline", name="p")) as run:
        pass
    assert [c.id for c in run.contexts] == [stored.id]
    with store.run("Trainer", context=stored) as run:  # the stored context itself
        pass
    assert [c.id for c in run.contexts] == [stored.id]


def test_nested_runs_inherit_contexts_and_know_their_parent(store: LineageStore) -> None:
    with store.run("Pipeline", context="exp") as outer:
        with store.run("Step") as inner:
            assert current_run() is inner and inner.parent is outer
        assert current_run() is outer
    assert inner.execution is not None
    assert inner.execution.custom_properties["parent_execution_id"] == outer.id
    assert [c.name for c in inner.contexts] == ["exp"]


def test_the_current_run_does_not_leak_into_other_threads(store: LineageStore) -> None:
    seen: list[object] = []
    with store.run("Trainer"):
        worker = threading.Thread(target=lambda: seen.append(current_run()))
        worker.start()
        worker.join()
    assert seen == [None]


def test_concurrent_asyncio_runs_are_isolated(store: LineageStore) -> None:
    async def task(name: str) -> tuple[str, str]:
        async with store.run(name) as run:
            await asyncio.sleep(0.01)
            current = current_run()
            assert current is run
            await asyncio.sleep(0.01)
            return name, current.execution_type

    async def main() -> list[tuple[str, str]]:
        return await asyncio.gather(task("A"), task("B"), task("C"))

    assert sorted(asyncio.run(main())) == [("A", "A"), ("B", "B"), ("C", "C")]
    states = {e.type: e.last_known_state for e in store.get_executions()}
    assert states == {
        "A": ExecutionState.COMPLETE,
        "B": ExecutionState.COMPLETE,
        "C": ExecutionState.COMPLETE,
    }


def test_async_failure_is_recorded(store: LineageStore) -> None:
    async def main() -> int:
        async with store.run("Trainer") as run:
            raise ValueError("bad value")
        return run.id  # pragma: no cover

    with pytest.raises(ValueError, match="bad value"):
        asyncio.run(main())
    [execution] = store.get_executions()
    assert execution.last_known_state == ExecutionState.FAILED
    assert execution.custom_properties["error"] == "ValueError: bad value"


def test_explicit_start_finish_and_misuse(store: LineageStore) -> None:
    run = store.run("Trainer")
    with pytest.raises(FailedPreconditionError):
        _ = run.id
    with pytest.raises(FailedPreconditionError):
        run.output("Model")
    run.start()
    assert current_run() is run
    run.output("Model", uri="/m")
    run.finish()
    assert current_run() is None and run.state == ExecutionState.COMPLETE
    with pytest.raises(FailedPreconditionError):
        run.finish()
    with pytest.raises(FailedPreconditionError):
        run.start()
    failing = store.run("Trainer").start()
    failing.fail("gave up")
    assert failing.execution is not None
    assert failing.execution.custom_properties["error"] == "gave up"
    assert failing.state == ExecutionState.FAILED


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"inputs": ["not an artifact"]}, "expected an Artifact"),
        ({"inputs": "abc"}, "list of artifacts"),
        ({"inputs": {"": 1}}, "non-empty"),
        ({"context": [3]}, "a context is a name"),
        ({"context": ""}, "context: name"),
        ({"context": 5}, "a Context or a list"),
        ({"context_type": ""}, "context_type"),
        ({"git": 5}, "git is True, False or a path"),
        ({"cache": "no"}, "cache is True or False"),  # was taken as true
        ({"name": 5}, "name"),
        ({"custom_properties": {"a": object()}}, "unsupported property value"),
        ({"properties": {"a": 2**70}}, "int64"),
    ],
)
def test_bad_arguments_are_invalid_argument_errors(
    store: LineageStore, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        store.run("Trainer", **kwargs)  # type: ignore[arg-type]
    assert store.get_executions() == []


def test_models_built_without_validation_are_refused_before_anything_is_written(
    store: LineageStore, dataset: Artifact
) -> None:
    """``model_construct`` models as a run's inputs and contexts and a step's arguments: a
    list id escaped as a bare ``TypeError: unhashable type`` (the check that each input is
    read once), and a ``Context`` built with its id alone (no name) as an AttributeError."""
    before = (store.get_types(NodeKind.EXECUTION), store.get_types(NodeKind.CONTEXT))
    before_nodes = (store.get_artifacts(), store.get_executions(), store.get_contexts())

    @store.step("NeverRegistered")
    def fit(data: Any) -> None:
        raise AssertionError("not run")

    for bad in ([dataset.id], str(dataset.id), True):
        node = Artifact.model_construct(id=bad)
        for inputs in ([node], {"train": node}, {"train": [node]}):
            with pytest.raises(InvalidArgumentError, match="id must be a positive int64"):
                store.run("NeverRegistered", inputs=inputs).start()  # type: ignore[arg-type]
        for argument in (node, [node], {"train": node}):
            with pytest.raises(InvalidArgumentError, match="id must be a positive int64"):
                fit(argument)
    for context in (Context.model_construct(id=1), Context.model_construct(type="E", name=["a"])):
        with pytest.raises(InvalidArgumentError, match="a Context's name is a str"):
            store.run("NeverRegistered", context=context).start()
    assert (store.get_types(NodeKind.EXECUTION), store.get_types(NodeKind.CONTEXT)) == before
    assert (store.get_artifacts(), store.get_executions(), store.get_contexts()) == before_nodes


@pytest.mark.parametrize("flag", ["cache", "record_args"])
def test_a_step_flag_that_is_not_a_bool_is_refused(store: LineageStore, flag: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"{flag} is True or False"):
        store.step("Fit", **{flag: "no"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("",), {"uri": "/x"}, "type name must not be empty"),
        (("Model",), {"uri": 5}, "uri"),
        (("Model",), {"name": 5}, "name"),
        (("Model",), {"properties": {"a": object()}}, "unsupported property value"),
        (("Model",), {"key": 5}, "output key"),
        (("Model",), {"key": ""}, "output key"),
        # built without validation, naming its type by a dict or list: a bare TypeError
        # ("unhashable type") from the registration of the output's type
        ((Artifact.model_construct(type={"a": 1}),), {}, "type's name and version are strings"),
        ((Artifact.model_construct(type=["Model"]),), {}, "type's name and version are strings"),
    ],
)
def test_a_bad_output_is_refused_when_declared(
    store: LineageStore, args: tuple[object, ...], kwargs: dict[str, object], match: str
) -> None:
    with store.run("Trainer") as run:
        with pytest.raises(InvalidArgumentError, match=match):
            run.output(*args, **kwargs)  # type: ignore[arg-type]
        run.output("Model", uri="/ok")
    assert run.state == ExecutionState.COMPLETE
    assert [a.uri for a in store.get_artifacts()] == ["/ok"]


def test_a_git_path_with_nul_is_invalid_argument_and_records_nothing(
    store: LineageStore,
) -> None:
    """subprocess raised a bare ValueError ("embedded null byte") from the run's start."""
    with pytest.raises(InvalidArgumentError, match="NUL"):
        store.run("Trainer", git="/no/such\x00tree").start()
    assert store.get_executions() == []


@pytest.mark.parametrize("context", ["bad\x00name", " edge", ["ok", "x\x01y"]])
def test_a_context_name_no_store_holds_is_refused_before_anything_is_written(
    store: LineageStore, context: object
) -> None:
    """It was refused at the run's start, after the run had registered its execution and
    context types."""
    with pytest.raises(InvalidArgumentError, match=r"NUL|whitespace"):
        store.run("NeverRegistered", context=context).start()  # type: ignore[arg-type]
    assert store.get_types(NodeKind.EXECUTION) == [] and store.get_types(NodeKind.CONTEXT) == []


def test_properties_of_unsupported_kinds_are_rejected(store: LineageStore) -> None:
    with pytest.raises(InvalidArgumentError, match="unsupported property value"):
        store.run("Trainer", properties={"x": [1, 2]}).start()
    with store.run("Trainer") as run, pytest.raises(InvalidArgumentError):
        run.log_properties(bad=object())


def test_an_output_declared_twice_is_refused(store: LineageStore, dataset: Artifact) -> None:
    # was: a new artifact stored twice; a stored one failed the run only on exit
    with store.run("Trainer") as run:
        model = run.output("Model", uri="/m")
        with pytest.raises(InvalidArgumentError, match="declared twice"):
            run.output(model)
        run.output(dataset)
        with pytest.raises(InvalidArgumentError, match="declared twice"):
            run.output(dataset.id or 0, key="again")
    assert run.state == ExecutionState.COMPLETE
    assert sorted(a.id or 0 for a in run.outputs) == sorted([model.id or 0, dataset.id or 0])
    assert len(store.get_artifacts_by_uri("/m")) == 1


def test_one_artifact_given_twice_as_an_input_is_refused_clearly(store: LineageStore) -> None:
    """An execution reads an artifact once (MLMD: one INPUT event per artifact and execution):
    the same dataset as train and test was an AlreadyExistsError about an 'event twice'."""
    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="/d")
        m = ingest.output("Model", uri="/m")

    @store.step()
    def evaluate(model: Artifact, train: Artifact, test: Artifact) -> None:
        raise AssertionError("not run")

    before = len(store.get_executions())
    with pytest.raises(InvalidArgumentError, match=r"given twice as an input \(train and test\)"):
        evaluate(m, train=d, test=d)
    with pytest.raises(InvalidArgumentError, match=r"\(#0 and #2\)"):
        store.run("X", inputs=[d, m, d])
    with pytest.raises(InvalidArgumentError, match=r"\(a\[0\] and b\)"):
        store.run("X", inputs={"a": [d], "b": d})
    new = Artifact(type="DataSet", uri="/new")
    with pytest.raises(InvalidArgumentError, match="one new artifact"):
        store.run("X", inputs=[new, new])
    assert len(store.get_executions()) == before


def test_an_async_run_cancelled_during_its_entry_write_is_recorded_canceled(
    store: LineageStore,
) -> None:
    """The entry write runs in a thread that a cancellation does not stop: the execution was
    recorded RUNNING, the block never ran, so __aexit__ never closed it (RUNNING for ever)."""
    entered: list[int] = []

    async def body() -> None:
        async with store.run("Slow") as run:
            entered.append(run.id)
            await asyncio.sleep(30)

    async def main() -> None:
        task = asyncio.create_task(body())
        # No await between seeing the entry write land and cancelling: the task, whose thread
        # is still reading the entry back, cannot have resumed past __aenter__ meanwhile.
        while not store.get_executions_by_type("Slow"):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())  # (waits for the entry's thread to finish)
    [execution] = store.get_executions_by_type("Slow")
    assert execution.last_known_state == ExecutionState.CANCELED
    assert execution.custom_properties["error_type"] == "CancelledError"


def test_a_property_name_log_properties_cannot_record_is_refused_when_logged(
    store: LineageStore,
) -> None:
    """It was accepted, then failed the completion with pydantic's untyped ValidationError,
    and recording the failure failed on it too: the run stayed RUNNING, its outputs lost."""
    with store.run("Trainer") as run:
        for bad in ({"": 1}, {7: 1}):
            with pytest.raises(InvalidArgumentError, match="log_properties"):
                run.log_properties(bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="mapping"):
            run.log_properties([("a", 1)])  # type: ignore[arg-type]
        run.log_metrics(loss=0.5)
        run.output("Model", uri="/m")
    [execution] = store.get_executions_by_id([run.id])
    assert execution.last_known_state == ExecutionState.COMPLETE
    assert execution.custom_properties == {"loss": 0.5}
    assert [a.uri for a in run.outputs] == ["/m"]


def test_log_metrics_refuses_bad_input_as_log_metrics(store: LineageStore) -> None:
    """docs/api.md: a name or value ``log_metrics`` cannot hold is ``InvalidArgumentError`` at
    the call. ``run.log_metrics(0.93)`` raised a bare TypeError ("'float' object is not a
    mapping"), which failed the run; and every refusal named ``log_properties()``, a method
    the caller never called."""
    with store.run("Trainer") as run:
        for bad in (0.93, ["accuracy"]):
            with pytest.raises(InvalidArgumentError, match=r"^log_metrics\(\) takes a mapping"):
                run.log_metrics(bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match=r"^log_metrics\(\).*'accuracy'"):
            run.log_metrics(accuracy=[1, object()])  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match=r"^log_metrics\(\)"):
            run.log_metrics({"": 1.0})
        run.log_metrics(loss=0.5)
    assert run.state == ExecutionState.COMPLETE
    assert store.get_executions_by_id([run.id])[0].custom_properties == {"loss": 0.5}
    with pytest.raises(FailedPreconditionError, match=r"^log_metrics\(\): the run is COMPLETE"):
        run.log_metrics(accuracy=0.9)


def test_logging_after_the_run_ended_is_refused_not_lost(store: LineageStore) -> None:
    """``run.log_metrics(accuracy=evaluate(model))`` after the block was accepted and never
    written: the execution had been recorded on exit."""
    with store.run("Trainer") as run:
        run.log_metrics(loss=0.5)
    for log in (lambda: run.log_metrics(accuracy=0.9), lambda: run.log_git(".")):
        with pytest.raises(FailedPreconditionError, match="COMPLETE already"):
            log()
    assert "accuracy" not in run.custom_properties
    [execution] = store.get_executions_by_id([run.id])
    assert execution.custom_properties == {"loss": 0.5}
    before = store.run("Trainer")
    before.log_metrics(seed=3)  # before the run starts: recorded on entry
    with before:
        pass
    assert store.get_executions_by_id([before.id])[0].custom_properties["seed"] == 3


def test_a_cached_output_declared_again_after_use_cached_is_refused(
    store: LineageStore, dataset: Artifact
) -> None:
    """``for a in run.use_cached(): run.output(a)`` failed the run on exit (AlreadyExistsError:
    the same OUTPUT event twice), FAILED: each output is refused when declared instead."""
    with store.run("Trainer", inputs=[dataset]) as first:
        model = first.output("Model", uri="/m")
    with store.run("Trainer", inputs=[dataset]) as again:
        [cached] = again.use_cached()
        with pytest.raises(InvalidArgumentError, match="output of the cache hit"):
            again.output(cached)
        again.output("Metrics", uri="/metrics")
    assert again.state == ExecutionState.CACHED
    assert sorted(a.uri or "" for a in again.outputs) == ["/m", "/metrics"]
    with store.run("Trainer", inputs=[dataset]) as third:
        third.output(model.id or 0)
        with pytest.raises(InvalidArgumentError, match="declared as outputs"):
            third.use_cached()
    assert third.state == ExecutionState.COMPLETE
    assert [a.id for a in third.outputs] == [model.id]


def test_a_run_of_another_store_is_not_the_parent(store: LineageStore) -> None:
    """A run in store B nested in a run of store A took A's execution id as its parent and
    A's context ids as its own contexts: linked to B's unrelated context bearing that id."""
    other = LineageStore.open("memory")
    try:
        with other.run("Elsewhere", context="unrelated"):
            pass
        [unrelated] = other.get_contexts()
        with store.run("Pipeline", context="exp") as outer:
            assert [c.id for c in outer.contexts] == [unrelated.id]  # the same id, elsewhere
            with other.run("Step") as inner:
                assert inner.parent is None
                with store.run("Child") as child:  # the same store's run is still the parent
                    assert child.parent is outer
        assert inner.contexts == []
        assert inner.execution is not None
        assert "parent_execution_id" not in inner.execution.custom_properties
        assert other.get_executions_by_context(unrelated.id or 0)[0].type == "Elsewhere"
        assert len(other.get_executions_by_context(unrelated.id or 0)) == 1
    finally:
        other.close()


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in a terminal, for ``_thread.interrupt_main``: a
    process can inherit SIGINT as ignored (a background job of a non-interactive shell, as a CI
    script may run the tests), and then interrupt_main does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_a_run_reads_its_entry_back_records_it_canceled(
    store: LineageStore, sigint_raises: None
) -> None:
    """Ctrl-C after the entry write landed, while it was read back: __enter__ raised, so no
    __exit__ closed the execution, RUNNING for ever (6 of 20 tries before the fix). Whether the
    interrupt lands there or in the block, the run is CANCELED."""
    import _thread
    import time

    for i in range(20):
        name = f"Interrupted{i}"

        def interrupt(name: str = name) -> None:  # once the entry write landed
            while not store.get_executions_by_type(name):
                time.sleep(0)
            _thread.interrupt_main()

        watcher = threading.Thread(target=interrupt)
        watcher.start()
        try:
            with pytest.raises(KeyboardInterrupt), store.run(name):
                for _ in range(3000):  # (a simulated Ctrl-C does not cut one long sleep short)
                    time.sleep(0.01)
        finally:
            watcher.join()
        [execution] = store.get_executions_by_type(name)
        assert execution.last_known_state == ExecutionState.CANCELED, i
        assert execution.custom_properties["error_type"] == "KeyboardInterrupt"


def test_ctrl_c_during_a_runs_completion_leaves_it_complete_or_canceled(
    store: LineageStore, sigint_raises: None
) -> None:
    """Ctrl-C as the block ends, during the completion: before its write landed the run was
    left RUNNING for ever (18 of 30 tries). Now the execution is COMPLETE with its output, or
    CANCELED without, and the run object says what is stored (the failure record waits for an
    interrupted completion already sent: it raced it, and the run said CANCELED over a
    COMPLETE execution, or once in a loaded run the store held a CANCELED one with its output).
    """
    import _thread
    import time

    for i in range(20):
        done = threading.Event()

        def interrupt(spins: int = i % 6, done: threading.Event = done) -> None:
            done.wait()
            for _ in range(spins):  # (lands at various points of the completion)
                time.sleep(0)
            _thread.interrupt_main()

        watcher = threading.Thread(target=interrupt)
        watcher.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                with store.run(f"Interrupted{i}") as run:
                    run.output("Model", uri=f"/m{i}")
                    done.set()
                # The interrupt may come once the block has ended: wait for it (cut short as
                # it lands). 100 ms was too short on a loaded machine: the watcher had not run
                # yet, and pytest.raises failed ("DID NOT RAISE") or the interrupt hit later.
                for _ in range(10_000):
                    time.sleep(0.001)
        finally:
            watcher.join()
        [execution] = store.get_executions_by_type(f"Interrupted{i}")
        stored = store.get_artifacts_by_uri(f"/m{i}")
        assert (execution.last_known_state, len(stored)) in {
            (ExecutionState.COMPLETE, 1),
            (ExecutionState.CANCELED, 0),
        }, i
        assert run.state == execution.last_known_state, i


def _interrupt_awaiting_reply(armed: list[bool]) -> Any:
    """A trace function raising KeyboardInterrupt as the store starts reading the reply of the
    command it sent while ``armed`` (Ctrl-C between the send and the reply; not a
    connection's handshake)."""

    def trace(frame: Any, event: str, arg: Any) -> None:
        caller = frame.f_back
        if (
            event == "call"
            and armed[0]
            and frame.f_code.co_name == "read_response"
            and caller is not None
            and caller.f_code.co_name in ("_execute", "parse_response", "_await_reply")
        ):
            armed[0] = False
            raise KeyboardInterrupt

    return trace


def _redis_replies_only(store: LineageStore) -> None:
    """Skip where the store's replies are not read by redis-py's ``read_response``, which
    :func:`_interrupt_awaiting_reply` waits for: on Neo4j no interrupt lands (the neo4j driver
    has no such function), so ``pytest.raises(KeyboardInterrupt)`` failed there."""
    from lineage_graph.backends.embedded import EmbeddedBackend

    if not isinstance(getattr(store.backend, "inner", store.backend), EmbeddedBackend):
        pytest.skip("interrupts the embedded backend's read of a reply (redis-py)")


def _armed_by_write(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, creating: str
) -> list[bool]:
    """A flag set once the store sends a write whose parameters create nodes (``creating``:
    ``"new_artifacts"``, ``"new_executions"``): where an interrupt is to land."""
    armed = [False]
    write = store.backend.write

    def writing(query: str, params: Any = None, *, name: str = "") -> Any:
        if name == "graph/write" and any(k.startswith(creating) for k in params or ()):
            armed[0] = True
        return write(query, params, name=name)

    monkeypatch.setattr(store.backend, "write", writing)
    return armed


def test_ctrl_c_awaiting_a_runs_completion_reply_leaves_it_complete_and_the_store_in_step(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C once the completion write was sent, before its reply was read. On an external
    server the connection went back to its pool with the reply unread: each later command read
    the previous one's reply (the failure record failed, ``KeyError('node')``, the run stayed
    RUNNING, and later reads answered wrongly). Dropped instead, the failure record sent at once
    on a new connection raced the completion still running: recorded CANCELED, then the
    completion landed (the run said CANCELED over a COMPLETE execution; the reverse left a
    CANCELED one holding its output). Now the record waits for the completion's reply."""
    _redis_replies_only(store)
    # the completion: the only write creating an artifact here
    armed = _armed_by_write(store, monkeypatch, "new_artifacts")
    previous = sys.gettrace()
    for i in range(4):  # (the first round registers the failure's property keys first)
        sys.settrace(_interrupt_awaiting_reply(armed))
        try:
            with pytest.raises(KeyboardInterrupt), store.run(f"Interrupted{i}") as run:
                run.output("Model", uri=f"/m{i}")
        finally:
            sys.settrace(previous)
            armed[0] = False
        [execution] = store.get_executions_by_type(f"Interrupted{i}")
        stored = store.get_artifacts_by_uri(f"/m{i}")
        # sent whole, the completion was applied: the failure is not recorded over it
        assert execution.last_known_state == ExecutionState.COMPLETE, i
        assert [a.uri for a in stored] == [f"/m{i}"], i
        assert run.state == ExecutionState.COMPLETE, i
    with store.run("After") as after:  # the store answers each command with its own reply
        after.output("Model", uri="/after")
    assert after.state == ExecutionState.COMPLETE
    assert [a.uri for a in store.get_artifacts_by_id([a.id for a in after.outputs])] == ["/after"]


def _sigint_once_sent(armed: list[bool]) -> Any:
    """A trace function sending this process SIGINT (a Ctrl-C, delivered as Python delivers
    one) as redis-py's ``send_packed_command`` has sent the last bytes of the command it sends
    while ``armed``: back at its loop's head, before it returns."""
    seen = [0]

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line" and armed[0]:
            command, item = frame.f_locals.get("command"), frame.f_locals.get("item")
            if isinstance(command, list) and command and item is command[-1]:
                seen[0] += 1  # 1: about to send the last chunk; 2: sent
                if seen[0] == 2:
                    armed[0] = False
                    signal.raise_signal(signal.SIGINT)
        return local

    def trace(frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and armed[0] and frame.f_code.co_name == "send_packed_command":
            seen[0] = 0
            return local
        return None

    return trace


def test_ctrl_c_as_a_runs_completion_is_sent_waits_for_it(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, sigint_raises: None
) -> None:
    """Ctrl-C as the completion's last bytes left, before redis-py's send returned (it drops
    the connection then): the backend took the command for unsent, and the failure record went
    at once on a new connection, racing the completion still running on the server (FalkorDB
    does not order two connections' writes: once, in a loaded run of the completion test, the
    record landed first, and the run said CANCELED over a COMPLETE execution). The interrupt
    is held to the send's end now: the completion is awaited on its own connection, which is
    kept (the same client on the server), and the run is COMPLETE."""
    from lineage_graph.backends.embedded import EmbeddedBackend

    inner = getattr(store.backend, "inner", store.backend)
    if not isinstance(inner, EmbeddedBackend):
        pytest.skip("the embedded backend's connection handling")
    client = inner._db.connection
    # the completion: the only write creating an artifact here
    armed = _armed_by_write(store, monkeypatch, "new_artifacts")
    previous = sys.gettrace()
    for i in range(3):  # (the first round registers the failure's property keys first)
        with store.run(f"Warm{i}"):
            pass
        before = client.client_id()
        sys.settrace(_sigint_once_sent(armed))
        try:
            with pytest.raises(KeyboardInterrupt), store.run(f"Interrupted{i}") as run:
                run.output("Model", uri=f"/m{i}")
        finally:
            sys.settrace(previous)
            armed[0] = False
        assert client.client_id() == before, i  # the connection was kept, in step
        [execution] = store.get_executions_by_type(f"Interrupted{i}")
        assert execution.last_known_state == ExecutionState.COMPLETE, i
        assert [a.uri for a in store.get_artifacts_by_uri(f"/m{i}")] == [f"/m{i}"], i
        assert run.state == ExecutionState.COMPLETE, i


def test_ctrl_c_awaiting_a_runs_entry_reply_records_it_canceled(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C once the entry write was sent, before its reply was read (where the interrupt of
    the reads-its-entry-back test lands when its watcher thread runs before the main thread
    reads the reply, as on a loaded machine): the write landed, ``store.run`` raised before the
    run knew its execution's id, and the execution stayed RUNNING for ever. It is CANCELED."""
    _redis_replies_only(store)
    # the entry: the only write creating an execution here
    armed = _armed_by_write(store, monkeypatch, "new_executions")
    previous = sys.gettrace()
    for i in range(3):  # (the first round registers the failure's property keys first)
        sys.settrace(_interrupt_awaiting_reply(armed))
        try:
            with pytest.raises(KeyboardInterrupt), store.run(f"Interrupted{i}"):
                pytest.fail("the block ran")
        finally:
            sys.settrace(previous)
            armed[0] = False
        [execution] = store.get_executions_by_type(f"Interrupted{i}")
        assert execution.last_known_state == ExecutionState.CANCELED, i
        assert execution.custom_properties["error_type"] == "KeyboardInterrupt", i
        assert current_run() is None, i
    with store.run("After") as after:  # the store answers each command with its own reply
        after.output("Model", uri="/after")
    assert after.state == ExecutionState.COMPLETE


def test_ctrl_c_after_a_refused_entry_try_cancels_no_other_threads_run(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's entry write is refused (another writer created its new named dataset under
    it): its ids went back to the allocator, and another thread's run started next got its
    execution id. A Ctrl-C as the run looked its dataset up again took that id for its own
    entry's, found it stored, and recorded the other thread's run CANCELED while it ran."""
    with store.run("Warm", inputs=[Artifact(type="DataSet", name="warm", uri="/w")]):
        pass
    write = store.backend.write
    raced = [False]

    def writing(query: str, params: Any = None, *, name: str = "") -> Any:
        entry = any(k.startswith("new_executions") for k in params or ())
        main = threading.current_thread() is threading.main_thread()
        if name == "graph/write" and entry and main and not raced[0]:
            raced[0] = True  # another writer stores the dataset as the entry is written
            dataset = Artifact(type="DataSet", name="train", uri="/t")
            creator = threading.Thread(target=store.put_artifacts, args=([dataset],))
            creator.start()
            creator.join(60)
        return write(query, params, name=name)

    monkeypatch.setattr(store.backend, "write", writing)
    others: list[Any] = []
    looked_up = [0]

    def start_other() -> None:
        other = store.run("Other")
        other.start()
        others.append(other)

    def trace(frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_name == "_resolve_new_inputs":
            looked_up[0] += 1
            if looked_up[0] == 2:  # the lookup after the refused try: Ctrl-C lands there
                starter = threading.Thread(target=start_other)
                starter.start()
                starter.join(60)
                raise KeyboardInterrupt
        return None

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        with (
            pytest.raises(KeyboardInterrupt),
            store.run("Trainer", inputs=[Artifact(type="DataSet", name="train", uri="/t")]),
        ):
            pytest.fail("the block ran")
    finally:
        sys.settrace(previous)
    assert raced[0] and looked_up[0] == 2
    [other] = others
    [stored] = store.get_executions_by_id([other.id])
    assert stored.last_known_state == ExecutionState.RUNNING  # it is still running
    assert store.get_executions_by_type("Trainer") == []  # nothing was written for it
    other.finish()
    assert store.get_executions_by_id([other.id])[0].last_known_state == ExecutionState.COMPLETE


#: Where a Ctrl-C landing is out of a run's reach, or not a place one lands: as ``__exit__``,
#: ``finish`` or ``fail`` starts (before any statement of it), and as ``start`` / ``__enter__``
#: return (no check for a signal there: the next one is in the block, whose ``__exit__`` runs).
#: The pipeline package's directory: its modules' functions are where a Ctrl-C is made to land.
_PIPELINE_DIR = os.path.dirname(pipeline.__file__)

_UNCATCHABLE = {
    ("call", "__exit__"),
    ("call", "__aexit__"),
    ("call", "finish"),
    ("call", "fail"),
    ("return", "start"),
    ("return", "__enter__"),
}


def _assert_ended_whole(
    store: LineageStore, run: Run, n: int, where: list[str], *, failed: bool
) -> None:
    """The run ``Interrupted{n}`` interrupted at ``where`` ended, whole: COMPLETE with its output
    ``/m{n}``, or CANCELED (or, if ``failed``, FAILED) without it; as the run object says."""
    [execution] = store.get_executions_by_type(f"Interrupted{n}")
    stored = store.get_artifacts_by_uri(f"/m{n}")
    ends = {(ExecutionState.COMPLETE, 1), (ExecutionState.CANCELED, 0)}
    if failed:
        ends.add((ExecutionState.FAILED, 0))
    assert (execution.last_known_state, len(stored)) in ends, (n, where)
    assert run.state == execution.last_known_state, (n, where)


def _interrupt_at_call(n: int, where: list[str]) -> Any:
    """A trace function raising KeyboardInterrupt at the ``n``-th start or end of a call of a
    function of the lineage_graph/pipeline package, as a Ctrl-C lands (Python handles one as a
    function starts, or as a call it made returns); ``where`` says which (``_UNCATCHABLE``
    aside).
    """
    seen = [0]

    def trace(frame: Any, event: str, arg: Any) -> Any:
        code = frame.f_code
        if where or os.path.dirname(code.co_filename) != _PIPELINE_DIR:
            return None
        if (event, code.co_name) in _UNCATCHABLE:
            return trace
        if event in ("call", "return"):
            seen[0] += 1
            if seen[0] == n:
                where.append(f"{event} {code.co_name}")
                raise KeyboardInterrupt
        return trace

    return trace


def test_ctrl_c_as_a_run_starts_leaves_no_execution_running(store: LineageStore) -> None:
    """A Ctrl-C landing at any call of the pipeline module as ``store.run(...)`` starts: the
    run did not start and its execution, if the entry write landed, is CANCELED (after
    ``_begin`` returned, in ``start``, it stayed RUNNING for ever: no ``__exit__`` runs for a
    block that never began)."""
    previous = sys.gettrace()
    tried = []
    for n in itertools.count(1):
        where: list[str] = []
        entered = False
        sys.settrace(_interrupt_at_call(n, where))
        try:
            with store.run(f"Interrupted{n}"):
                sys.settrace(previous)
                entered = True
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(previous)
        if not where:
            assert entered
            break
        tried.append(where[0])
        assert not entered, where
        states = [e.last_known_state for e in store.get_executions_by_type(f"Interrupted{n}")]
        assert states in ([], [ExecutionState.CANCELED]), (n, where)
        assert current_run() is None, (n, where)
    assert {"call _begin", "return _begin", "call _read_entry"} <= set(tried), tried


def test_a_run_started_twice_is_refused_and_keeps_running(store: LineageStore) -> None:
    """The second start is a misuse, refused: the run started first is not closed by it."""
    run = store.run("Trainer")
    run.start()
    with pytest.raises(FailedPreconditionError, match="already started"):
        run.start()
    with pytest.raises(FailedPreconditionError, match="already started"), run:
        pass  # pragma: no cover - the entry is refused
    [execution] = store.get_executions_by_type("Trainer")
    assert run.state == execution.last_known_state == ExecutionState.RUNNING
    assert current_run() is run
    run.finish()
    assert store.get_executions_by_type("Trainer")[0].last_known_state == ExecutionState.COMPLETE
    assert current_run() is None


@pytest.mark.parametrize("ending", ["finish", "fail"])
def test_ctrl_c_as_a_started_run_is_finished_leaves_it_ended(
    store: LineageStore, ending: str
) -> None:
    """``run.start()`` ... ``run.finish()`` (or ``run.fail(...)``), the documented manual form
    of the block: a Ctrl-C landing at any call of the pipeline module in it leaves the execution
    COMPLETE with its output, FAILED, or CANCELED, as the run says, and the run not the current
    one. Landing before the completion's own handler began (in ``_require_active``, ``active``,
    as ``_complete_or_fail`` started), or before the failure's write landed, it stayed RUNNING
    for ever, and (in ``_require_active``) the current run: ``__exit__`` was fixed, not these."""
    previous = sys.gettrace()
    tried = []
    for n in itertools.count(1):
        where: list[str] = []
        run = store.run(f"Interrupted{n}")
        run.start()
        run.output("Model", uri=f"/m{n}")
        sys.settrace(_interrupt_at_call(n, where))
        try:
            run.finish() if ending == "finish" else run.fail("stopped")
        except KeyboardInterrupt:
            assert where
        finally:
            sys.settrace(previous)
        _assert_ended_whole(store, run, n, where, failed=True)
        assert current_run() is None, (n, where)
        if not where:
            break
        tried.append(where[0])
    assert {"call _require_active", "return _require_active"} <= set(tried), tried


def test_ctrl_c_as_a_runs_block_ends_leaves_it_complete_or_canceled(store: LineageStore) -> None:
    """A Ctrl-C landing at any call of the pipeline module as the block ends: the execution is
    COMPLETE with its output or CANCELED without, and the run says which. Landing before the
    completion's own handler began (in ``_exit``, ``active``, ``state``, at the start of
    ``_complete_or_fail``) it stayed RUNNING for ever, and the run stayed the current one."""
    previous = sys.gettrace()
    tried = []
    for n in itertools.count(1):
        where: list[str] = []
        run = None
        try:
            with store.run(f"Interrupted{n}") as run:
                run.output("Model", uri=f"/m{n}")
                sys.settrace(_interrupt_at_call(n, where))
        except KeyboardInterrupt:
            assert where
        finally:
            sys.settrace(previous)
        assert run is not None
        _assert_ended_whole(store, run, n, where, failed=False)
        assert current_run() is None, (n, where)
        if not where:
            break
        tried.append(where[0])
    assert {"call _exit", "call _complete_or_fail", "return _complete"} <= set(tried), tried


def test_a_new_input_with_a_digest_is_looked_up_in_the_cache(store: LineageStore) -> None:
    """A re-produced identical dataset given as a new ``Artifact`` (each run of a script
    describes its raw data anew) was never looked up: only stored inputs were, so the digest
    the cache matches by never helped there and every run redid the work."""

    def raw(digest: str) -> Artifact:
        return Artifact(type="DataSet", uri="s3://raw/2026", properties={"digest": digest})

    with store.run("Trainer", inputs=[raw("sha-1")]) as first:
        assert first.cached is None
        first.output("Model", uri="/model")
    given = raw("sha-1")
    with store.run("Trainer", inputs=[given]) as second:
        assert second.cached is not None and second.cached.execution.id == first.id
        [model] = second.use_cached()
    assert given.id is not None and given.id != first.inputs[0].id  # recorded, as new inputs are
    assert second.state == ExecutionState.CACHED and second.outputs == [model]
    with store.run("Trainer", inputs=[raw("sha-2")]) as other:  # other content: a miss
        assert other.cached is None
    with store.run("Trainer", inputs=[raw(" ")]) as blank:  # a blank digest is no fingerprint
        assert blank.cached is None
    with store.run("Trainer", inputs=[raw("sha-1")], cache=False) as unchecked:
        assert unchecked.cached is None

    calls: list[str] = []

    @store.step("Fit", cache=True)
    def fit(data: Artifact) -> Artifact:
        calls.append(data.uri or "")
        return Artifact(type="Model", uri="/fit")

    assert fit(raw("sha-1")).id == fit(raw("sha-1")).id
    assert calls == ["s3://raw/2026"]


def test_a_taken_execution_name_is_reported_in_words(store: LineageStore) -> None:
    """MLMD keeps an execution's name unique within its type; the error read 'a unique key of a
    execution'. (A run's own refusal names the run holding it, and its state.)"""
    with store.run("Trainer", name="nightly") as first:
        pass
    taken = f"named 'nightly': execution {first.id} holds that name and is COMPLETE"
    with pytest.raises(AlreadyExistsError, match=taken), store.run("Trainer", name="nightly"):
        pass  # pragma: no cover - the entry is refused
    assert [x.name for x in store.get_executions()] == ["nightly"]


def test_an_output_property_of_another_kind_than_declared_is_refused_at_output(
    store: LineageStore,
) -> None:
    """``run.output("Model", properties={"acc": "high"})`` where Model declares acc a DOUBLE
    was accepted: the block went on with its work and the run FAILED on exit, every output
    dropped. It is refused at the call, the run still running."""
    with store.run("Trainer") as first:
        first.output("Model", uri="/m1", properties={"acc": 0.9, "layers": 3})
    with store.run("Trainer") as run:
        for bad in ({"acc": "high"}, {"layers": 2.5}, {"layers": True}):
            with pytest.raises(InvalidArgumentError, match="declares"):
                run.output("Model", uri="/bad", properties=bad)
        model = run.output("Model", uri="/m2", properties={"acc": 1, "layers": 4})
    assert run.state == ExecutionState.COMPLETE
    assert model.properties == {"acc": 1.0, "layers": 4}
    assert store.get_artifacts_by_uri("/bad") == []


def test_a_value_of_an_unsupported_type_is_named_with_its_module(store: LineageStore) -> None:
    """``run.log_metrics(ok=numpy.bool_(True))`` said "unsupported property value of type bool:
    use int, float, str, bool, ...": numpy's bool is named "bool" too."""
    numpy = pytest.importorskip("numpy")
    with store.run("Eval") as run:
        # (a numpy scalar logged alone is its Python value: test_run_arguments; in a struct,
        # it is still no JSON data)
        with pytest.raises(InvalidArgumentError, match=r"JSON data, not numpy\.bool\b"):
            run.log_properties(flags={"ok": numpy.bool_(True)})
        with pytest.raises(InvalidArgumentError, match=r"JSON data, not numpy\.float32"):
            run.log_properties(scores={"f1": numpy.float32(0.5)})
        run.log_metrics(ok=bool(numpy.bool_(True)), f1=float(numpy.float32(0.5)))
    assert store.get_executions_by_id([run.id])[0].custom_properties == {"ok": True, "f1": 0.5}


def test_properties_that_are_no_mapping_are_refused(store: LineageStore) -> None:
    """``properties="lr"`` raised dict()'s ValueError, ``properties=5`` a TypeError: untyped."""
    for settings in ({"properties": "lr"}, {"properties": 5}, {"custom_properties": [1]}):
        with pytest.raises(InvalidArgumentError, match="is a mapping"):
            store.run("Trainer", **settings)  # type: ignore[arg-type]
    assert store.get_executions() == []


def test_logging_and_output_arguments_of_the_wrong_kind_are_typed_errors(
    store: LineageStore,
) -> None:
    """``run.output("Model", properties=[...])`` raised dict()'s TypeError / ValueError;
    ``run.log_git(5)`` looked in the directory "5" and recorded nothing. Typed errors, the run
    still running."""
    with store.run("Trainer") as run:
        calls: list[Any] = [  # (log_metrics(0.93): fixed on main by fix-docs22)
            lambda: run.output("Model", properties=[("acc", 1.0)]),
            lambda: run.output("Model", custom_properties="x"),
            lambda: run.log_git(5),
            lambda: store.tracker.log_git(run.id, 5),
        ]
        for call in calls:
            with pytest.raises(InvalidArgumentError):
                call()
        run.log_metrics(accuracy=0.93)
    assert run.state == ExecutionState.COMPLETE and run.outputs == []
    [execution] = store.get_executions()
    assert execution.custom_properties == {"accuracy": 0.93}


def test_a_generator_closed_early_leaves_its_run_canceled(store: LineageStore) -> None:
    """A generator reading batches in a run, whose consumer stops early (``break``): closing
    it raises GeneratorExit in the block, which was recorded FAILED ("GeneratorExit"), a
    failure on dashboards though nothing went wrong."""

    def batches() -> Iterator[int]:
        with store.run("Load"):
            yield from range(3)

    reader = batches()
    for _ in reader:
        break
    reader.close()
    [load] = store.get_executions_by_type("Load")
    assert load.last_known_state == ExecutionState.CANCELED
    assert load.custom_properties["error_type"] == "GeneratorExit"
    assert list(batches()) == [0, 1, 2]  # read to its end: COMPLETE
    states = [x.last_known_state for x in store.get_executions_by_type("Load")]
    assert states == [ExecutionState.CANCELED, ExecutionState.COMPLETE]


def test_an_artifact_id_that_cannot_be_one_or_is_not_stored_is_refused_at_the_call(
    store: LineageStore,
) -> None:
    """``inputs=[-1]`` raised pydantic's ValidationError (untyped); ``run.output(999)`` of no
    artifact was accepted and failed the run on exit (NotFoundError), the block's work done."""
    for bad in (-1, 0):
        with pytest.raises(InvalidArgumentError, match="positive int"):
            store.run("Trainer", inputs=[bad])
    with store.run("Trainer") as run:
        with pytest.raises(InvalidArgumentError, match="positive int"):
            run.output(-1)
        with pytest.raises(NotFoundError, match="no artifact with id 999"):
            run.output(999)
        with pytest.raises(InvalidArgumentError, match="input #0: id"):
            store.run("Trainer", inputs=[2**64])  # past int64: pydantic's untyped error before
        with pytest.raises(InvalidArgumentError, match="id"):
            run.output(2**64)
        model = run.output("Model", uri="/m")
    assert run.state == ExecutionState.COMPLETE and run.outputs == [model]


def test_runs_finished_out_of_order_leave_the_running_one_current(store: LineageStore) -> None:
    """``a.start(); b.start(); a.finish(); b.finish()`` in a pipeline's block: after
    ``a.finish()`` the pipeline was current though ``b`` ran, after ``b.finish()`` the finished
    ``a`` was, and a run started next in the block got no parent (nor its contexts)."""
    with store.run("Pipeline", context="exp") as pipeline:
        a = store.run("A").start()
        b = store.run("B").start()
        a.finish()
        assert current_run() is b
        b.finish()
        assert current_run() is pipeline
        with store.run("C") as c:
            assert current_run() is c
        assert current_run() is pipeline
    assert current_run() is None
    assert c.parent is pipeline
    [stored] = store.get_executions_by_type("C")
    assert stored.custom_properties["parent_execution_id"] == pipeline.id
    assert [x.name for x in store.get_contexts_by_execution(c.id)] == ["exp"]


def test_an_output_whose_name_or_external_id_is_taken_is_refused_at_the_call(
    store: LineageStore,
) -> None:
    """``run.output("Model", name="m")`` with a Model "m" stored was accepted; the block went on,
    and the run FAILED on exit (AlreadyExistsError) with every output dropped. Refused at the
    call now, the run's other outputs kept; so is a second new output of the same name."""
    with store.run("Trainer") as first:
        first.output("Model", name="m", uri="/m1")
        first.output(Artifact(type="Model", uri="/e1", external_id="ext-1"))
    with store.run("Trainer") as run:
        with pytest.raises(AlreadyExistsError, match="named 'm'"):
            run.output("Model", name="m", uri="/m2")
        with pytest.raises(AlreadyExistsError, match="ext-1"):
            run.output(Artifact(type="Model", uri="/e2", external_id="ext-1"))
        kept = run.output("Model", name="n", uri="/n")
        with pytest.raises(AlreadyExistsError, match="declared another"):
            run.output("Model", name="n", uri="/n2")
        other_type = run.output("DataSet", name="m", uri="/d")  # names are per type
    assert run.state == ExecutionState.COMPLETE
    assert [a.uri for a in run.outputs] == [kept.uri, other_type.uri]
    assert sorted(a.uri for a in store.get_artifacts()) == ["/d", "/e1", "/m1", "/n"]


def test_an_output_name_is_taken_per_type_version_and_by_type_id(store: LineageStore) -> None:
    """Names are unique per type, and ``Model`` version ``v2`` is another type than ``Model``:
    the check at ``run.output()`` looked names up in ``Model`` (unversioned) and compared the
    run's own outputs by type name alone, so a v2 output named like a stored ``Model`` (or
    like another output of the run in ``Model``) was refused with AlreadyExistsError, which
    the store accepts. A type given by id is the type of that id."""
    store.put_type(ArtifactType(name="Model"))
    v2 = store.put_type(ArtifactType(name="Model", version="v2"))  # its id
    store.put_artifacts([Artifact(type="Model", name="m", uri="/m")])
    store.put_artifacts([Artifact(type_id=v2, name="s", uri="/s-v2")])
    with store.run("Trainer") as run:
        run.output(Artifact(type="Model", type_version="v2", name="m", uri="/m-v2"))
        run.output(Artifact(type="Model", type_version="v2", name="x", uri="/x-v2"))
        run.output(Artifact(type="Model", name="x", uri="/x"))
        with pytest.raises(AlreadyExistsError, match="declared another"):  # v2 by its id
            run.output(Artifact(type_id=v2, name="x", uri="/x-again"))
        with pytest.raises(AlreadyExistsError, match=r"version 'v2' named 's': .* stored"):
            run.output(Artifact(type_id=v2, name="s", uri="/s-again"))
    assert run.state == ExecutionState.COMPLETE
    assert sorted(a.uri for a in run.outputs) == ["/m-v2", "/x", "/x-v2"]
    assert sorted(a.uri for a in store.get_artifacts()) == ["/m", "/m-v2", "/s-v2", "/x", "/x-v2"]


def test_declaring_an_output_does_not_look_through_every_earlier_one(store: LineageStore) -> None:
    """The check that a new output's name and external id are free of the run's other new
    outputs looked through all of them: declaring n outputs cost n^2 / 2 steps (4,000 took
    1 s more, 20,000 about 25 s more). They are indexed now. Counted here as the lines the
    check runs for the 301st output (traced: deterministic, no clock), not as time."""
    with store.run("Ingest") as run:
        for i in range(300):
            run.output(Artifact(type="File", uri=f"/f{i}", name=f"f{i}", external_id=f"x{i}"))
        lines = [0]

        def trace(frame: Any, event: str, arg: Any) -> Any:
            if frame.f_code.co_name != "_check_keys_free":
                return None
            if event == "line":
                lines[0] += 1
            return trace

        before = sys.gettrace()  # (a coverage tool's: put back after)
        sys.settrace(trace)
        try:
            run.output(Artifact(type="File", uri="/last", name="last", external_id="x-last"))
        finally:
            sys.settrace(before)
        with pytest.raises(AlreadyExistsError, match="declared another"):
            run.output(Artifact(type="File", uri="/again", name="f7"))
        with pytest.raises(AlreadyExistsError, match="declared another"):
            run.output(Artifact(type="File", uri="/again", external_id="x7"))
    assert 0 < lines[0] < 60
    assert run.state == ExecutionState.COMPLETE and len(run.outputs) == 301


def test_a_run_refused_for_an_input_no_artifact_is_registers_no_type(store: LineageStore) -> None:
    """``store.run("Brand", inputs=[999])`` raised NotFoundError at its start, and left the types
    it had registered on its way (execution type Brand, the contexts' types): bad input changed
    the store."""
    with (
        pytest.raises(NotFoundError, match=r"no artifact with id \[999\]"),
        store.run("Brand", inputs=[999], context="exp"),
    ):
        pytest.fail("the block ran")
    assert store.get_types(NodeKind.EXECUTION) == [] and store.get_types(NodeKind.CONTEXT) == []
    assert store.get_executions() == []


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda s: s.run("T\x00x", context="exp"), "NUL"),
        (lambda s: s.run("T\ud800", context="exp"), "lone surrogate"),
        (lambda s: s.run("T" * 5_000, context="exp"), "too long"),
        (
            lambda s: s.run("Good", context="exp", inputs=[Artifact(type="In\x00", uri="/x")]),
            "NUL",
        ),
        (lambda s: s.run("Good", context="exp", context_type="C\ud800"), "lone surrogate"),
    ],
    ids=["exec-nul", "exec-surrogate", "exec-too-long", "input-type-nul", "ctx-type-surrogate"],
)
def test_a_type_name_no_store_holds_registers_no_other_type(
    store: LineageStore, make: Any, match: str
) -> None:
    """The start registers the contexts' types, then the inputs', then the execution's: one
    refused there (a NUL, a lone surrogate, too long) left the earlier ones registered
    (run("T\\x00x", context="exp") created context type Experiment). All are checked when the
    run is made."""
    with pytest.raises(InvalidArgumentError, match=match):
        make(store).start()
    for kind in NodeKind:
        assert store.get_types(kind) == []


def test_git_where_there_is_no_work_tree_records_nothing_and_the_run_goes_on(
    store: LineageStore, tmp_path: Path
) -> None:
    """docs/api.md said ``git=True`` (or a path) records the work tree's commit, not what
    happens where there is none (a script run outside a checkout, a path that is no
    checkout): nothing is recorded, no error, as ``git_info`` does."""
    with store.run("Trainer", git=tmp_path) as run:
        assert run.log_git(tmp_path) == {}
    assert run.state == ExecutionState.COMPLETE
    [execution] = store.get_executions()
    assert not [k for k in execution.custom_properties if k.startswith("git_")]


def test_a_git_path_that_is_no_directory_is_refused_at_the_call(
    store: LineageStore, tmp_path: Path
) -> None:
    """``run(git="/nonexistent/dir")`` (a typo) recorded a run without git facts and said
    nothing, as for a directory in no work tree. A path that does not exist or is not a
    directory is InvalidArgumentError when the run is made, and nothing is written; so is
    ``log_git`` given one."""
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    for path, match in (
        (tmp_path / "nonexistent" / "dir", "does not exist"),
        (str(tmp_path / "nope"), "does not exist"),
        (afile, "is not a directory"),
    ):
        with pytest.raises(InvalidArgumentError, match=match):
            store.run("Trainer", git=path)
        with pytest.raises(InvalidArgumentError, match=match):
            store.step(git=path)
    assert store.get_executions() == [] and store.get_types(NodeKind.EXECUTION) == []
    with store.run("Trainer") as run, pytest.raises(InvalidArgumentError, match="not exist"):
        run.log_git(tmp_path / "nope")
    with pytest.raises(InvalidArgumentError, match="is not a directory"):
        store.tracker.log_git(run.id, afile)
    [execution] = store.get_executions()
    assert not [k for k in execution.custom_properties if k.startswith("git_")]


def test_an_exception_whose_str_raises_still_fails_the_run(store: LineageStore) -> None:
    """A block raising an exception whose ``__str__`` raises (a library's broken error class):
    recording the failure raised in turn, and the run stayed RUNNING for ever, with this live
    process as its owner. It is recorded FAILED, the exception raised as it was."""

    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no message")

    with pytest.raises(Broken), store.run("Trainer") as run:
        raise Broken()
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == ExecutionState.FAILED
    assert stored.custom_properties["error_type"].endswith("Broken")
    assert stored.custom_properties["error"] == "Broken: <str() raised RuntimeError>"
    assert "run_owner" not in stored.custom_properties


def _under_the_completion(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, call: Callable[[], object]
) -> list[BaseException]:
    """The next run's completion write (``_put_execution_masked``) first has ``call`` run in
    another thread, to its end: the list returned collects the FailedPreconditionError it
    raised."""
    refused: list[BaseException] = []
    put_execution = store._put_execution_masked

    def another_thread_calls_meanwhile(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(store, "_put_execution_masked", put_execution)

        def other() -> None:
            try:
                call()
            except FailedPreconditionError as exc:
                refused.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        return put_execution(*args, **kwargs)

    monkeypatch.setattr(store, "_put_execution_masked", another_thread_calls_meanwhile)
    return refused


def test_an_output_or_a_metric_given_while_another_thread_ends_the_run_is_refused(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run shared by two threads: one declared an output (or logged a metric) while the
    other finished the run. The output was accepted (``output()`` returned the artifact) and
    never recorded, its id unset; the metric likewise: lost, silently. Each is refused now
    (FailedPreconditionError); what was given before the end is recorded."""
    store.put_artifact_type(ArtifactType(name="Model"))
    run = store.run("Trainer").start()
    run.output("Model", uri="s3://models/0")
    lookup = store.get_artifact_by_type_and_name

    def another_thread_finishes_the_run_meanwhile(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(store, "get_artifact_by_type_and_name", lookup)
        ender = threading.Thread(target=run.finish)
        ender.start()
        ender.join()
        return lookup(*args, **kwargs)

    monkeypatch.setattr(
        store, "get_artifact_by_type_and_name", another_thread_finishes_the_run_meanwhile
    )
    with pytest.raises(FailedPreconditionError, match="ended meanwhile"):
        run.output("Model", uri="s3://models/1", name="m1")
    assert run.state == ExecutionState.COMPLETE
    assert [a.uri for a in store.get_artifacts()] == ["s3://models/0"]

    ending = store.run("Trainer").start()
    refused = _under_the_completion(store, monkeypatch, lambda: ending.log_metrics(accuracy=0.9))
    ending.finish()
    assert ending.state == ExecutionState.COMPLETE
    assert len(refused) == 1 and "accuracy" not in ending.execution.custom_properties


def test_a_run_ended_by_two_threads_at_once_is_written_once(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``finish()`` called by a second thread while the first one's completion was being
    written: both wrote it, the new output stored twice (two artifacts, two OUTPUT events),
    silently. The second call is refused (FailedPreconditionError) and writes nothing; a
    block's exit under another thread's ``finish()`` leaves that end alone."""
    run = store.run("Trainer").start()
    run.output("Model", uri="s3://models/1")
    refused = _under_the_completion(store, monkeypatch, run.finish)
    run.finish()
    assert len(refused) == 1 and run.state == ExecutionState.COMPLETE
    assert [a.uri for a in store.get_artifacts()] == ["s3://models/1"]
    assert len(store.get_events_by_execution_ids([run.id])) == 1

    with store.run("Trainer") as block:
        block.output("Model", uri="s3://models/2")
        refused = _under_the_completion(store, monkeypatch, block.finish)
    assert len(refused) == 1 and "being ended already" in str(refused[0])
    assert block.state == ExecutionState.COMPLETE
    assert [a.uri for a in store.get_artifacts()] == ["s3://models/1", "s3://models/2"]
    assert store.get_executions_by_id([block.id])[0].last_known_state == ExecutionState.COMPLETE


def test_use_cached_while_another_thread_ends_the_run_is_refused(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``use_cached()`` while another thread's ``finish()`` was writing the completion returned
    the hit's outputs, and the run was recorded COMPLETE without them. It is refused now."""
    with store.run("Trainer", properties={"lr": 0.1}) as first:
        first.output("Model", uri="s3://models/1")
    run = store.run("Trainer", properties={"lr": 0.1}).start()
    assert run.cached is not None
    refused = _under_the_completion(store, monkeypatch, run.use_cached)
    run.finish()
    assert len(refused) == 1 and run.state == ExecutionState.COMPLETE and run.outputs == []


class _Unprintable(str):
    """A failure reason whose ``__str__`` raises: ``fail()`` raises, recording nothing. (A str:
    anything else is refused before the run's end is claimed.)"""

    __slots__ = ()

    def __str__(self) -> str:
        raise ValueError("no text")


def test_an_end_refused_before_it_was_recorded_can_be_tried_again(store: LineageStore) -> None:
    """A ``fail()`` that raised before recording anything kept its claim on the run's end for
    ever: the same thread's next ``fail()`` or ``finish()`` was refused ("being ended already
    (in another thread)"), and the block's exit skipped the run, silently: RUNNING for ever.
    The end is tried again: the run is recorded."""
    run = store.run("Trainer").start()
    with pytest.raises(ValueError, match="no text"):
        run.fail(cast(Any, _Unprintable()))
    assert store.get_executions_by_id([run.id])[0].last_known_state == ExecutionState.RUNNING
    run.fail("stopped")
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == run.state == ExecutionState.FAILED
    assert stored.custom_properties["error"] == "stopped"

    for ends in ("raises", "returns"):
        with contextlib.suppress(RuntimeError), store.run("Trainer") as block:
            with pytest.raises(ValueError, match="no text"):
                block.fail(cast(Any, _Unprintable()))
            if ends == "raises":
                raise RuntimeError("boom")
        [stored] = store.get_executions_by_id([block.id])
        expected = ExecutionState.FAILED if ends == "raises" else ExecutionState.COMPLETE
        assert stored.last_known_state == block.state == expected, ends
        assert current_run() is None


def test_log_git_while_another_thread_ends_the_run_is_refused(
    store: LineageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``log_git()`` reads git (processes: slow) and then adds what it read: another thread
    ending the run meanwhile recorded it without them, and ``log_git()`` returned them as if
    logged: lost, silently, as an output or a metric given then was. It is refused now."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(tmp_path)]
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    run = store.run("Trainer").start()
    git_info = pipeline._run.git_info

    def another_thread_finishes_the_run_meanwhile(path: Any = ".") -> dict[str, Any]:
        info = git_info(path)
        ender = threading.Thread(target=run.finish)
        ender.start()
        ender.join()
        return info

    monkeypatch.setattr(pipeline._run, "git_info", another_thread_finishes_the_run_meanwhile)
    with pytest.raises(FailedPreconditionError, match="ended meanwhile"):
        run.log_git(tmp_path)
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == run.state == ExecutionState.COMPLETE
    assert not [k for k in stored.custom_properties if k.startswith("git_")]
    assert git_info(tmp_path)["git_branch"] == "main"  # (there was something to log)


def test_ctrl_c_as_a_refused_end_gives_its_claim_back_leaves_no_run_running(
    store: LineageStore,
) -> None:
    """A ``fail()`` that raised before recording anything gives its claim on the run's end
    back: a Ctrl-C landing there (as it asks whether the run is still RUNNING) must not leave
    the claim half given back, every later end refused and the run RUNNING for ever."""
    seen: list[str] = []

    def trace(frame: Any, event: str, arg: Any) -> Any:
        code = frame.f_code
        if os.path.dirname(code.co_filename) != _PIPELINE_DIR or seen:
            return None
        caller = frame.f_back.f_code.co_name
        if (event, code.co_name, caller) == ("return", "active", "_release_end"):
            seen.append("return active")
            raise KeyboardInterrupt
        return trace

    run = None
    previous = sys.gettrace()
    try:
        with pytest.raises(KeyboardInterrupt), store.run("Trainer") as run:
            sys.settrace(trace)
            run.fail(cast(Any, _Unprintable()))
    finally:
        sys.settrace(previous)
    assert seen and run is not None
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == run.state == ExecutionState.CANCELED
    assert current_run() is None


def test_an_async_exit_cancelled_while_its_failure_is_written_keeps_the_end(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``async with`` block raised; its exit writes the failure in a thread. The task
    cancelled meanwhile (Ctrl-C under ``asyncio.run``): that thread still writes it, so the
    run's end is still under way: a ``finish()`` then is refused, not a second end (recorded
    COMPLETE with the block's output, the failure's write then finding it no longer RUNNING)."""
    store.put_artifact_type(ArtifactType(name="Model"))
    run = store.run("Trainer")
    writing, go_on = threading.Event(), threading.Event()
    expecting = store._put_executions_expecting

    def slow_failure(*args: Any, **kwargs: Any) -> Any:
        writing.set()
        go_on.wait(60)
        return expecting(*args, **kwargs)

    async def block() -> None:
        async with run:
            run.output("Model", uri="s3://models/1")
            monkeypatch.setattr(store, "_put_executions_expecting", slow_failure)
            raise RuntimeError("boom")

    async def main() -> None:
        task = asyncio.create_task(block())
        await asyncio.to_thread(writing.wait, 60)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        try:
            with pytest.raises(FailedPreconditionError, match="being ended already"):
                run.finish()
        finally:
            go_on.set()

    try:
        asyncio.run(main())  # (waits for the failure's thread)
    finally:
        go_on.set()
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == run.state == ExecutionState.FAILED
    assert store.get_artifacts() == []


def test_a_failure_naming_a_file_whose_name_is_not_utf8_is_recorded(store: LineageStore) -> None:
    """A block raising an error that names a file whose name is not UTF-8 (``os.listdir`` and
    ``os.fsdecode`` give it with a lone surrogate): its message could not be stored, so the
    failure was not recorded and the run stayed RUNNING for ever (as for an exception whose
    ``__str__`` raises). It is recorded FAILED, the surrogate written as its escape; so is a
    ``fail()`` given such a reason."""
    name = os.fsdecode(b"data-\xff.csv")
    with pytest.raises(ValueError), store.run("Trainer") as run:
        raise ValueError(f"cannot parse {name}")
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == run.state == ExecutionState.FAILED
    assert stored.custom_properties["error"] == "ValueError: cannot parse data-\\udcff.csv"
    failed = store.run("Trainer").start()
    failed.fail(f"cannot parse {name}")
    [stored] = store.get_executions_by_id([failed.id])
    assert stored.last_known_state == failed.state == ExecutionState.FAILED
    assert stored.custom_properties["error"] == "cannot parse data-\\udcff.csv"


def test_a_property_with_a_lone_surrogate_is_refused_when_given(store: LineageStore) -> None:
    """A property name or text value no engine stores (a lone surrogate, as ``os.fsdecode``
    gives a file name that is not UTF-8): logged, it was accepted, then refused the completion
    and the record of the failure alike, the run RUNNING for ever; given to ``store.run``, the
    entry write refused it after the run's type was registered. Refused at the call now,
    nothing changed; the run goes on and completes. A struct's keys and texts alike: logged, a
    struct holding one was stored (JSON escapes it), where ml_metadata cannot encode it."""
    name = os.fsdecode(b"data-\xff.csv")
    with store.run("Trainer") as run:
        for logged in ({"source": name}, {name: 1}, {"files": {"in": [name]}}, {"by": {name: 1}}):
            with pytest.raises(InvalidArgumentError, match="lone surrogate"):
                run.log_properties(logged)
        run.log_metrics(accuracy=0.9)
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == run.state == ExecutionState.COMPLETE
    assert stored.custom_properties == {"accuracy": 0.9}
    before = _snapshot(store)
    for given in (
        {"custom_properties": {"source": name}},
        {"properties": {name: 1}},
        {"custom_properties": {"files": {"in": [name]}}},
    ):
        with pytest.raises(InvalidArgumentError, match="lone surrogate"):
            store.run("Loader", **given).start()
    assert _snapshot(store) == before


def test_a_refused_finish_leaves_the_calling_threads_current_run_alone(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread working in a copy of the context a run was started in (``asyncio.to_thread``,
    ``copy_context().run``) calls ``finish()`` while the run's own thread is ending it: refused,
    it must change nothing. It reset that thread's current run to None (and took the run's
    token from its own thread), so a run started next there got no parent."""
    writing, go_on = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}
    put_execution = store._put_execution_masked

    def slow_completion(*args: Any, **kwargs: Any) -> Any:
        writing.set()
        go_on.wait(60)
        return put_execution(*args, **kwargs)

    with store.run("Outer") as outer:
        run = store.run("Trainer").start()

        def worker() -> None:
            try:
                writing.wait(60)
                with pytest.raises(FailedPreconditionError, match="being ended already"):
                    run.finish()
                seen["current"] = current_run()
            finally:
                go_on.set()

        other = threading.Thread(target=contextvars.copy_context().run, args=(worker,))
        other.start()
        monkeypatch.setattr(store, "_put_execution_masked", slow_completion)
        try:
            run.finish()
        finally:
            go_on.set()
            other.join()
        monkeypatch.setattr(store, "_put_execution_masked", put_execution)
        assert seen["current"] is run
        assert run.state == ExecutionState.COMPLETE
        assert current_run() is outer
    assert current_run() is None


@pytest.mark.parametrize("raising", [False, True])
def test_ctrl_c_as_an_async_blocks_exit_begins_leaves_it_ended(
    store: LineageStore, raising: bool
) -> None:
    """A Ctrl-C landing at any call of the pipeline module in ``__aexit__`` before the thread
    writing the run's end began (``active``, ``_clean_exit``, the claim on the end): the run
    stayed RUNNING for ever (``__exit__`` records it CANCELED). It is ended now: COMPLETE with
    its output, or FAILED or CANCELED without, as the run says."""
    previous = sys.gettrace()
    tried = []
    for n in itertools.count(1):
        where: list[str] = []
        run = store.run(f"Interrupted{n}")

        async def block(run: Run, n: int, where: list[str]) -> None:
            async with run:
                run.output("Model", uri=f"/m{n}")
                sys.settrace(_interrupt_at_call(n, where))
                if raising:
                    raise RuntimeError("boom")

        try:
            asyncio.run(block(run, n, where))
        except KeyboardInterrupt:
            assert where
        except RuntimeError:
            assert raising and not where
        finally:
            sys.settrace(previous)
        _assert_ended_whole(store, run, n, where, failed=True)
        if not where:
            break
        tried.append(where[0])
    assert {"call active", "call _clean_exit" if raising else "return active"} <= set(tried)


def test_a_run_finished_in_a_copy_of_its_context_leaves_the_enclosing_run_current(
    store: LineageStore,
) -> None:
    """A run finished by a thread working in a copy of the context it was started in
    (``asyncio.to_thread``, ``copy_context().run``): the run it was started in, still running,
    is that thread's current run again, the parent of a run started next there. It was reset
    to None there: that run got no parent."""
    seen: dict[str, Any] = {}
    with store.run("Outer") as outer:
        run = store.run("Trainer").start()

        def worker() -> None:
            run.finish()
            seen["current"] = current_run()
            with store.run("Next") as following:
                seen["parent"] = following.parent

        other = threading.Thread(target=contextvars.copy_context().run, args=(worker,))
        other.start()
        other.join()
        assert run.state == ExecutionState.COMPLETE
        assert seen == {"current": outer, "parent": outer}
        assert current_run() is outer
    assert current_run() is None


@pytest.mark.parametrize("raising", [False, True])
def test_an_async_exit_cancelled_before_its_thread_began_records_the_run_canceled(
    store: LineageStore, raising: bool
) -> None:
    """An ``async with`` block's task cancelled as the block ends, the thread that would write
    the run's end not begun yet (the executor's one thread busy): asyncio cancels that job, so
    nothing wrote the end and the run stayed RUNNING for ever. It is recorded CANCELED, its
    output not written."""
    store.put_artifact_type(ArtifactType(name="Model"))
    run = store.run("Trainer")
    started, release = threading.Event(), threading.Event()
    busy: list[asyncio.Future[bool]] = []

    def occupy() -> bool:
        started.set()
        return release.wait(60)

    async def block() -> None:
        async with run:
            run.output("Model", uri="s3://models/1")
            busy.append(asyncio.get_running_loop().run_in_executor(None, occupy))
            started.wait(60)
            task = asyncio.current_task()
            assert task is not None
            task.cancel()  # (delivered at the exit's first await)
            if raising:
                raise RuntimeError("boom")

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
        try:
            with pytest.raises(asyncio.CancelledError):
                await asyncio.create_task(block())
        finally:
            release.set()
            await asyncio.gather(*busy)

    asyncio.run(main())
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == run.state == ExecutionState.CANCELED
    assert stored.custom_properties["error_type"] == "CancelledError"
    assert store.get_artifacts() == []


@pytest.mark.parametrize("raising", [False, True])
def test_an_async_exit_with_no_thread_to_be_had_still_ends_the_run(
    store: LineageStore, raising: bool
) -> None:
    """An ``async with`` block's exit writes the run's end in a thread of the loop's default
    executor; that executor shut down, the job is refused ("cannot schedule new futures after
    shutdown"): the RuntimeError propagated and the run stayed RUNNING for ever. Its end is
    written in the task's thread: COMPLETE with its output, or FAILED with the block's error."""
    store.put_artifact_type(ArtifactType(name="Model"))
    run = store.run("Trainer")

    async def main() -> None:
        executor = ThreadPoolExecutor(max_workers=1)
        asyncio.get_running_loop().set_default_executor(executor)
        async with run:
            run.output("Model", uri="s3://models/1")
            executor.shutdown()
            if raising:
                raise ValueError("boom")

    if raising:
        with pytest.raises(ValueError, match="boom"):
            asyncio.run(main())
    else:
        asyncio.run(main())
    [stored] = store.get_executions_by_id([run.id])
    if raising:
        assert stored.last_known_state == run.state == ExecutionState.FAILED
        assert stored.custom_properties["error_type"] == "ValueError"
        assert store.get_artifacts() == []
    else:
        assert stored.last_known_state == run.state == ExecutionState.COMPLETE
        assert [a.uri for a in store.get_artifacts()] == ["s3://models/1"]
    assert current_run() is None


def test_a_run_failed_by_a_refused_call_records_the_public_error_type(
    store: LineageStore,
) -> None:
    """A call refused on an ended run (``finish()`` again) raises FailedPreconditionError; the
    run whose block it ended was recorded with ``error_type`` "_Refusal" (the private class
    telling the run's own refusals apart), not "FailedPreconditionError" as it was before."""
    with store.run("Inner") as inner:
        pass
    with pytest.raises(FailedPreconditionError), store.run("Outer") as outer:
        inner.finish()
    [stored] = store.get_executions_by_id([outer.id])
    assert stored.last_known_state == ExecutionState.FAILED
    assert stored.custom_properties["error_type"] == "FailedPreconditionError"
    assert str(stored.custom_properties["error"]).startswith("FailedPreconditionError: finish()")


def test_a_failure_quoting_a_secret_is_recorded_with_the_secret_masked(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's error is stored for anyone who reads or exports the store: a step failing on
    ``postgresql://admin:pw@db/x`` or quoting ``$API_TOKEN``'s value stored the secret. The
    password of a URL and a password-like environment variable's value are masked there, as
    the CLI masks them in its messages; so in a ``fail()`` reason and an exception group's
    parts."""
    monkeypatch.setenv("MY_API_TOKEN", "tok-S3cret-42")
    with pytest.raises(ConnectionError), store.run("Loader") as run:
        raise ConnectionError("cannot reach postgresql://admin:S3cr3t@db:5432/x")
    failed = store.run("Loader").start()
    failed.fail("auth refused for token tok-S3cret-42")

    @store.step("Fetch")
    def fetch() -> None:
        raise ExceptionGroup("fetch", [ValueError("GET https://u:S3cr3t@h/r"), KeyError("k")])

    with pytest.raises(ExceptionGroup):
        fetch()
    errors = [e.custom_properties["error"] for e in store.get_executions()]
    assert errors == [
        "ConnectionError: cannot reach postgresql://admin:***@db:5432/x",
        "auth refused for token ***",
        "ExceptionGroup: fetch (2 sub-exceptions) [ValueError: GET https://u:***@h/r; "
        "KeyError: 'k']",
    ]
    assert run.state == failed.state == ExecutionState.FAILED


def test_a_failure_keeps_values_of_variables_only_named_like_secrets(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a name holding PASSWORD, SECRET or TOKEN at a word's end is a secret's:
    ``TOKENIZERS_PARALLELISM=false`` (set for Hugging Face tokenizers) and ``MAX_TOKENS=4096``
    made every ``false`` and ``4096`` of a failed run's stored error ``***``, for good (and so
    in the CLI's messages). ``HF_TOKEN``'s value is masked still."""
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("MAX_TOKENS", "4096")
    monkeypatch.setenv("HF_TOKEN", "hf_S3cretValue")
    monkeypatch.setenv("PGPASSWORD", "pg-S3cret")
    message = "shuffle is true or false, not 4096 (token hf_S3cretValue, password pg-S3cret)"
    with pytest.raises(ValueError), store.run("Tokenize"):
        raise ValueError(message)
    [failed] = store.get_executions()
    masked = "shuffle is true or false, not 4096 (token ***, password ***)"
    assert failed.custom_properties["error"] == f"ValueError: {masked}"
    assert redact(message) == masked  # the CLI masks what the store does


def test_a_failure_masks_the_values_of_every_secret_named_variable_and_assignment(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only names holding PASSWORD, SECRET or TOKEN at a word's end were read as a secret's:
    the values of ``DB_PASSWD``, ``API_KEY``, ``GITHUB_PAT``, ``APP_SECRETS`` and
    ``SECRETKEY``, quoted by a failing step, were stored whole, and so was a ``name=value``
    of a secret's name in the message (``NEO4J_AUTH=neo4j/pw``, ``password: ...``)."""
    secrets = {
        "DB_PASSWD": "db-S3cret",
        "API_KEY": "sk-S3cret",
        "GITHUB_PAT": "ghp_S3cret",
        "APP_SECRETS": "app-S3cret",
        "SECRETKEY": "key-S3cret",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NEO4J_AUTH", "none")  # a word, not a secret: "none" stays
    # the shell's working directories are no secrets: a path under them is kept whole
    monkeypatch.setenv("PWD", "/home/ann/project")
    monkeypatch.setenv("OLDPWD", "/home/ann")
    message = " ".join(secrets.values()) + " NEO4J_AUTH=neo4j/pw (password: hunter2) none"
    message += " in /home/ann/project/data.csv"
    with pytest.raises(ValueError), store.run("Connect"):
        raise ValueError(message)
    [failed] = store.get_executions()
    masked = "*** *** *** *** *** NEO4J_AUTH=*** (password: ***) none"
    masked += " in /home/ann/project/data.csv"
    assert failed.custom_properties["error"] == f"ValueError: {masked}"
    assert redact(message) == masked  # the CLI masks what the store does


def test_a_failure_quoting_a_secret_assignment_or_a_short_secret_is_stored_readable(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's error is stored as ``<type>: <message>``: a message beginning with a secret's
    ``name=value`` (``api_key=...``) was read as the value of the name ``ValueError`` and stored
    whole. A short secret variable's value (``POSTGRES_PASSWORD=postgres``,
    ``NEO4J_PASSWORD=test``) made every "latest" ``la***`` and "postgres://" ``***://`` of it,
    for good; it is masked where it stands as a word."""
    monkeypatch.setenv("POSTGRES_PASSWORD", "postgres")
    monkeypatch.setenv("NEO4J_PASSWORD", "test")
    message = "api_key=sk-S3cret; the latest test of postgres://db:5432 as postgres"
    with pytest.raises(ValueError), store.run("Connect"):
        raise ValueError(message)
    [failed] = store.get_executions()
    masked = "api_key=***; the latest *** of postgres://db:5432 as ***"
    assert failed.custom_properties["error"] == f"ValueError: {masked}"
    assert redact(f"ValueError: {message}") == f"ValueError: {masked}"


def test_a_failed_command_s_secret_option_is_stored_masked(store: LineageStore) -> None:
    """``CalledProcessError`` quotes a command's arguments as a list: a secret option's value
    as the next one (``'--password', 'pw'``) was stored whole."""
    with pytest.raises(subprocess.CalledProcessError), store.run("Dump"):
        raise subprocess.CalledProcessError(1, ["mysqldump", "--password", "S3cret", "db"])
    [failed] = store.get_executions()
    assert failed.custom_properties["error"] == (
        "CalledProcessError: Command '['mysqldump', '--password', '***', 'db']' returned "
        "non-zero exit status 1."
    )


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        # requests' HTTPError quotes the URL whole
        (
            "401 Client Error: Unauthorized for url: https://api/v1?access_token=S3c&page=2",
            "401 Client Error: Unauthorized for url: https://api/v1?access_token=***&page=2",
        ),
        (
            "403 for url: https://b.s3/k?X-Amz-Credential=AK1&X-Amz-Signature=S3c;api%5Fkey=k3y",
            "403 for url: https://b.s3/k?X-Amz-Credential=***&X-Amz-Signature=***;api%5Fkey=***",
        ),
        ("GET https://h/r?se=2026&sig=S3c: 403", "GET https://h/r?se=2026&sig=***: 403"),
        # a token as a web URL's user (GitHub, Azure DevOps; pip's git+https): quoted whole by
        # CalledProcessError's "Command '['git', 'clone', ...]' returned ..."
        (
            "Command '['git', 'clone', 'https://ghp_S3c@github.com/o/r']' returned 128.",
            "Command '['git', 'clone', 'https://***@github.com/o/r']' returned 128.",
        ),
        (
            "pip: git+https://S3c@dev.azure.com/o/_git/r failed; ssh://git@h/r too",
            "pip: git+https://***@dev.azure.com/o/_git/r failed; ssh://git@h/r too",
        ),
        # a parameter whose name only holds a secret word's letters is no secret's: its value
        # was stored as *** for good, the failure's cause with it
        (
            "404 for url: https://api/v1/rows?keyspace=prod&design=v2&monkey=1&author=ann",
            "404 for url: https://api/v1/rows?keyspace=prod&design=v2&monkey=1&author=ann",
        ),
        (
            "403 for url: https://b.s3/k?X-Amz-SignedHeaders=host&apiKey=k3y&sort=signal",
            "403 for url: https://b.s3/k?X-Amz-SignedHeaders=host&apiKey=***&sort=signal",
        ),
        # OAuth's implicit grant puts the token in the fragment
        (
            "redirected to https://app/cb#access_token=S3c&expires_in=3600",
            "redirected to https://app/cb#access_token=***&expires_in=3600",
        ),
    ],
)
def test_a_failure_quoting_a_url_masks_the_secrets_of_its_query_and_user(
    store: LineageStore, message: str, masked: str
) -> None:
    """Only a ``password=`` query value, and a password, were masked: a step failing on a
    request whose URL carries its token or signature in the query, or as its user, stored the
    secret in its ``error`` (a recorded git remote drops its whole query and user for that
    reason). The words of a parameter's name are read: a name only holding a secret word's
    letters (``keyspace``, ``design``, ``monkey``, ``author``) is kept, its value with it, and
    a fragment's ``#access_token=`` is masked as a query's is."""
    with pytest.raises(ConnectionError), store.run("Fetch"):
        raise ConnectionError(message)
    [failed] = store.get_executions()
    assert failed.custom_properties["error"] == f"ConnectionError: {masked}"
    assert redact(message) == masked  # the CLI masks what the store does
