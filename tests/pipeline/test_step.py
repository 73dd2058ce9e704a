"""``@store.step(...)``: the decorator form of the pipeline API."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any, NamedTuple

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    EventType,
    ExecutionState,
    ExecutionType,
    LineageStore,
    NodeKind,
    PropertyType,
)
from lineage_graph.exceptions import InvalidArgumentError
from lineage_graph.lineage import ImpactMark
from lineage_graph.models import kind_of
from lineage_graph.pipeline import MAX_IMPLICIT_STATE_CHARS, current_run, step


def test_artifact_arguments_are_inputs_scalars_properties_returns_outputs(
    store: LineageStore,
) -> None:
    @store.step("Trainer", context="exp")
    def train(data: Artifact, epochs: int, lr: float = 0.1, note: object = None) -> Artifact:
        run = current_run()
        assert run is not None and run.execution_type == "Trainer"
        run.log_metrics(accuracy=0.9)
        return Artifact(type="Model", uri=f"/model-{epochs}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    model = train(data, 3)
    assert model.id is not None
    [execution] = store.get_executions_by_type("Trainer")
    assert execution.last_known_state == ExecutionState.COMPLETE
    assert execution.properties == {"epochs": 3, "lr": 0.1}
    assert execution.custom_properties["accuracy"] == 0.9
    events = sorted(
        (e.type, e.artifact_id, tuple(e.path))
        for e in store.get_events_by_execution_ids([execution.id or 0])
    )
    assert events == [
        (EventType.INPUT, data.id, ("data",)),
        (EventType.OUTPUT, model.id, ("return",)),
    ]
    assert [c.name for c in store.get_contexts_by_execution(execution.id or 0)] == ["exp"]


def test_cached_step_is_not_run_again_and_returns_the_same_shape(store: LineageStore) -> None:
    calls: list[int] = []

    @store.step(cache=True)
    def split(data: Artifact, seed: int) -> tuple[Artifact, Artifact]:
        calls.append(seed)
        return Artifact(type="DataSet", uri=f"/train-{seed}"), Artifact(
            type="DataSet", uri=f"/test-{seed}"
        )

    @store.step(cache=True)
    def features(data: Artifact) -> dict[str, Artifact]:
        return {"x": Artifact(type="Features", uri="/x"), "y": Artifact(type="Features", uri="/y")}

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    first = split(data, 1)
    second = split(data, 1)
    assert calls == [1]
    assert isinstance(second, tuple) and [a.id for a in second] == [a.id for a in first]
    split(data, 2)
    assert calls == [1, 2]
    states = [x.last_known_state for x in store.get_executions_by_type("split")]
    assert states == [ExecutionState.COMPLETE, ExecutionState.CACHED, ExecutionState.COMPLETE]
    f1 = features(first[0])
    f2 = features(first[0])
    assert {k: v.id for k, v in f1.items()} == {k: v.id for k, v in f2.items()}


def test_every_later_cached_call_returns_the_same_shape(store: LineageStore) -> None:
    # The third call's hit is the second call's CACHED execution: it keeps the return shape.
    calls: list[int] = []

    @store.step(cache=True)
    def split(data: Artifact) -> tuple[Artifact, Artifact]:
        calls.append(1)
        return Artifact(type="DataSet", uri="/tr"), Artifact(type="DataSet", uri="/te")

    @store.step(cache=True)
    def one(data: Artifact) -> Artifact:
        return Artifact(type="Model", uri="/m")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    first = split(data)
    for _ in range(3):
        again = split(data)
        assert isinstance(again, tuple) and [a.id for a in again] == [a.id for a in first]
    assert calls == [1]
    model = one(data)
    assert all(one(data).id == model.id for _ in range(3))
    # CACHED executions recorded without a shape of their own (by an earlier version: each
    # reused the one before) give the shape of the execution they reused; the chain is walked
    # once, then every call reads as before.
    cached = [e for e in store.get_executions_by_type("split") if e.id != first_id(store)]
    assert all(e.last_known_state == ExecutionState.CACHED for e in cached)
    assert all(e.custom_properties["return_shape"] == "tuple" for e in cached)
    for e in cached:
        del e.custom_properties["return_shape"]
    store.put_executions(cached)
    reads = []
    for _ in range(4):
        with store.backend.record() as log:  # type: ignore[attr-defined]
            again = split(data)
        assert isinstance(again, tuple) and [a.id for a in again] == [a.id for a in first]
        reads.append([s.name for s in log].count("executions/get_by_ids"))
    assert reads[0] >= len(cached) and reads[1] == reads[2] == reads[3] < reads[0], reads


def first_id(store: LineageStore) -> int:
    return min(e.id or 0 for e in store.get_executions_by_type("split"))


def test_a_cached_step_keys_its_inputs_by_parameter(store: LineageStore) -> None:
    @store.step("Train", cache=True)
    def train(train: Artifact, test: Artifact) -> Artifact:
        return Artifact(type="Model", uri=f"/model-on-{train.uri}")

    with store.run("Ingest") as ingest:
        a = ingest.output("DataSet", uri="a")
        b = ingest.output("DataSet", uri="b")
    assert train(a, b).uri == "/model-on-a"
    assert train(b, a).uri == "/model-on-b"  # swapped: not the model trained on a
    assert train(a, b).uri == "/model-on-a"
    assert train(test=a, train=b).uri == "/model-on-b"
    states = [x.last_known_state for x in store.get_executions_by_type("Train")]
    complete, cached = ExecutionState.COMPLETE, ExecutionState.CACHED
    assert states == [complete, complete, cached, cached]


def test_a_cached_step_compares_every_argument_or_runs(store: LineageStore) -> None:
    """A cached call returned the result of a call that differed in an argument the key left
    out (a dict of settings, a list, anything under record_args=False). Dicts of JSON data are
    recorded and compared now; a call given anything else that is not recorded runs."""
    calls: list[object] = []

    @store.step("Fit", cache=True)
    def fit(data: Artifact, params: dict | None = None, layers: object = None) -> Artifact:
        calls.append((params, layers))
        return Artifact(type="Model", uri=f"/model-{len(calls)}")

    @store.step("Blind", cache=True, record_args=False)
    def blind(data: Artifact, lr: float) -> Artifact:
        calls.append(lr)
        return Artifact(type="Model", uri=f"/blind-{len(calls)}")

    method_runs: list[float] = []

    class Trainer:
        def __init__(self) -> None:
            self.seed = 0

        @store.step("Method", cache=True)
        def fit(self, data: Artifact, lr: float) -> Artifact:
            method_runs.append(lr)
            return Artifact(type="Model", uri=f"/method-{lr}")

    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="d")
    first = fit(d, {"lr": 0.1})
    assert fit(d, {"lr": 0.2}).uri != first.uri  # another dict: runs
    assert fit(d, {"lr": 0.1}).uri == first.uri  # the same dict: the cached model
    assert fit(d).uri not in (first.uri,)  # None: the property is unset, not any value
    assert len(calls) == 3
    listed = fit(d, {"lr": 0.1}, [64, 32])  # a list of JSON data: the struct {"__list__": [...]}
    # a tuple is marked as one (test_step_keys): a function may tell it from the list
    assert fit(d, {"lr": 0.1}, (64, 32)).uri != listed.uri
    assert fit(d, {"lr": 0.1}, [64, 16]).uri != listed.uri
    assert fit(d, {"lr": 0.1}, b"raw").uri != fit(d, {"lr": 0.1}, b"raw").uri  # bytes: runs
    assert fit(d, {"lr": 0.1}).uri == first.uri  # a skipped call is no hit for a later one
    assert blind(d, 0.1).uri != blind(d, 0.2).uri != blind(d, 0.1).uri  # nothing recorded
    skipped = [
        e.custom_properties.get("cache_skipped")
        for t in ("Fit", "Blind")
        for e in store.get_executions_by_type(t)
    ]
    assert sum(s is not None for s in skipped) == 5
    assert "'layers'" in str(skipped) and "record_args=False" in str(skipped)
    layers = [e.properties.get("layers") for e in store.get_executions_by_type("Fit")]
    assert {"__list__": [64, 32]} in layers
    assert fit(d, {"lr": 0.1}, {"list": [64, 32]}).uri != listed.uri  # a dict is not a list
    trainer = Trainer()
    assert trainer.fit(d, 0.5).uri == trainer.fit(d, 0.5).uri and method_runs == [0.5]  # self

    @store.step("Extra", cache=True)
    def extra(data: Artifact, more: tuple[str, ...] = ()) -> Artifact:
        calls.append(more)
        return Artifact(type="Model", uri=f"/extra-{len(calls)}")

    assert extra(d).uri == extra(d).uri != extra(d, ("a",)).uri  # an empty tuple is recorded


def test_a_cached_step_does_not_reuse_deleted_or_abandoned_outputs(store: LineageStore) -> None:
    calls: list[int] = []

    @store.step(cache=True)
    def fit(data: Artifact) -> Artifact:
        calls.append(1)
        return Artifact(type="Model", uri=f"/m{len(calls)}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    first = fit(data)
    assert fit(data).id == first.id and len(calls) == 1
    plan = store.plan_retention(types=["Model"], kinds=[NodeKind.ARTIFACT])
    store.apply_retention(plan)  # the model is tombstoned (DELETED)
    second = fit(data)
    assert len(calls) == 2 and second.id != first.id and second.uri == "/m2"
    assert fit(data).id == second.id and len(calls) == 2
    store.impact(data, mark=ImpactMark(state=ArtifactState.ABANDONED))
    third = fit(data)
    assert len(calls) == 3 and third.id not in (first.id, second.id)


def test_bare_decorator_and_failures(store: LineageStore) -> None:
    @step(store)
    def explode() -> None:
        raise RuntimeError("nope")

    with pytest.raises(RuntimeError):
        explode()
    [execution] = store.get_executions_by_type("explode")
    assert execution.last_known_state == ExecutionState.FAILED
    assert execution.custom_properties["error"] == "RuntimeError: nope"
    assert explode.__name__ == "explode"


def test_async_step(store: LineageStore) -> None:
    @store.step("Fetch", cache=True)
    async def fetch(url: str) -> Artifact:
        await asyncio.sleep(0)
        assert current_run() is not None
        return Artifact(type="Page", uri=url)

    async def main() -> list[Artifact]:
        return list(await asyncio.gather(fetch("/a"), fetch("/b")))

    pages = asyncio.run(main())
    assert sorted(p.uri or "" for p in pages) == ["/a", "/b"]
    runs = store.get_executions_by_type("Fetch")
    assert sorted(x.properties["url"] for x in runs) == ["/a", "/b"]
    # no inputs: the cache key is the properties alone
    again = asyncio.run(fetch("/a"))
    assert again.id == next(p.id for p in pages if p.uri == "/a")


def test_varargs_and_kwargs(store: LineageStore) -> None:
    @store.step("Merge", record_args=True)
    def merge(*parts: Artifact, **options: object) -> Artifact:
        return Artifact(type="DataSet", uri="/merged")

    with store.run("Ingest") as ingest:
        a = ingest.output("DataSet", uri="/a")
        b = ingest.output("DataSet", uri="/b")
    merge(a, b, mode="concat", huge=2**70)
    [execution] = store.get_executions_by_type("Merge")
    assert execution.properties == {"mode": "concat"}
    paths = {
        tuple(e.path)
        for e in store.get_events_by_execution_ids([execution.id or 0])
        if e.type == EventType.INPUT
    }
    assert paths == {("parts0",), ("parts1",)}


def test_a_cached_step_returning_more_than_artifacts_runs_again(store: LineageStore) -> None:
    # The non-artifact part of a return is not stored: a hit could only give back None.
    calls: list[str] = []

    @store.step(cache=True)
    def fit(data: Artifact) -> tuple[Artifact, float]:
        calls.append("fit")
        return Artifact(type="Model", uri=f"/m{len(calls)}"), 0.93

    @store.step(cache=True)
    def score(data: Artifact) -> float:
        calls.append("score")
        return 0.5

    @store.step(cache=True)
    def report(data: Artifact) -> dict[str, object]:
        calls.append("report")
        return {"model": Artifact(type="Model", uri="/r"), "accuracy": 0.9}

    @store.step(cache=True)
    def nothing_found(data: Artifact) -> list[Artifact]:
        calls.append("empty")
        return []

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    for _ in range(2):
        model, accuracy = fit(data)
        assert accuracy == 0.93 and model.id is not None
        assert score(data) == 0.5
        assert report(data)["accuracy"] == 0.9
        assert nothing_found(data) == []
    assert calls.count("fit") == calls.count("score") == calls.count("report") == 2
    assert calls.count("empty") == 1  # an empty list is all artifacts: a hit rebuilds it
    # the artifacts of a mixed return are still the execution's outputs
    for execution in store.get_executions_by_type("fit"):
        assert execution.last_known_state == ExecutionState.COMPLETE
        outputs = [
            (e.type, tuple(e.path))
            for e in store.get_events_by_execution_ids([execution.id or 0])
            if e.type.is_output
        ]
        assert outputs == [(EventType.OUTPUT, ("return", 0))]


def test_a_generator_function_is_refused(store: LineageStore) -> None:
    def chunks(data: Artifact):  # type: ignore[no-untyped-def]
        yield Artifact(type="DataSet", uri="/chunk")

    async def pages(url: str):  # type: ignore[no-untyped-def]
        yield url

    for fn in (chunks, pages):
        with pytest.raises(InvalidArgumentError, match="generator function"):
            store.step(cache=True)(fn)
    # a functools.partial of one has no __qualname__: the refusal raised AttributeError
    for fn in (functools.partial(chunks), functools.partial(pages, "u")):
        with pytest.raises(InvalidArgumentError, match="generator function 'test_a_generator"):
            store.step("Chunks")(fn)
    assert store.get_executions() == []


def test_a_bad_execution_type_name_is_refused_when_decorating(store: LineageStore) -> None:
    for bad in ("", 5, b"Trainer"):  # was: 5 and b"..." silently replaced by the function's name
        with pytest.raises(InvalidArgumentError, match="execution type"):
            store.step(bad)  # type: ignore[arg-type]
    assert store.get_executions() == []
    # a callable without a name of its own needs one (was: AttributeError '__name__')
    fit = functools.partial(lambda data, lr: None, lr=0.1)
    with pytest.raises(InvalidArgumentError, match="execution type"):
        store.step()(fit)
    assert store.step("Fit")(fit)(None) is None
    assert [x.properties for x in store.get_executions_by_type("Fit")] == [{"lr": 0.1}]


def test_a_cached_step_does_not_reuse_an_execution_recorded_by_store_run(
    store: LineageStore,
) -> None:
    # Same type, inputs and properties, but no return shape: the step cannot know what its
    # function would have returned (was: the call returned None without running).
    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    with store.run("Trainer", inputs={"data": data}, properties={"lr": 0.1}) as run:
        run.output("Model", uri="/by-run")

    @store.step("Trainer", cache=True)
    def train(data: Artifact, lr: float) -> Artifact:
        return Artifact(type="Model", uri="/by-step")

    first = train(data, 0.1)
    assert first is not None and first.uri == "/by-step"
    assert train(data, 0.1).id == first.id  # its own execution is reused from then on
    states = [x.last_known_state for x in store.get_executions_by_type("Trainer")]
    assert states == [ExecutionState.COMPLETE, ExecutionState.COMPLETE, ExecutionState.CACHED]


def test_a_round_value_for_a_float_parameter_is_a_double(store: LineageStore) -> None:
    # `lr: float = 1` declared an INT property: every later fit(data, 0.5) was refused
    calls: list[float] = []

    @store.step(cache=True)
    def fit(data: Artifact, lr: float = 1) -> Artifact:
        calls.append(lr)
        return Artifact(type="Model", uri=f"/m-{lr}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    first = fit(data)
    assert fit(data, 0.5).uri == "/m-0.5"
    assert fit(data, 1).id == fit(data, lr=1.0).id == first.id  # 1 is 1.0: one key
    assert calls == [1, 0.5]
    assert store.get_execution_type("fit").properties == {"lr": PropertyType.DOUBLE}
    # a type that declares it INT already (recorded so before) keeps recording ints
    store.put_execution_type(ExecutionType(name="old", properties={"lr": PropertyType.INT}))

    @store.step("old")
    def old(data: Artifact, lr: float = 1) -> None:
        return None

    old(data)
    [execution] = store.get_executions_by_type("old")
    assert execution.properties == {"lr": 1} and execution.last_known_state.name == "COMPLETE"


def test_an_output_declared_in_the_step_and_returned_is_stored_once(store: LineageStore) -> None:
    # was: two artifacts; the call returned the first, its cache hits the second
    @store.step(cache=True)
    def fit() -> Artifact:
        run = current_run()
        assert run is not None
        return run.output("Model", uri="/m")

    @store.step(cache=True)
    def twice() -> tuple[Artifact, Artifact]:
        model = Artifact(type="Model", uri="/twice")
        return model, model

    first = fit()
    assert fit().id == first.id
    pair = twice()
    assert pair[0].id == pair[1].id and len(twice()) == 2
    # one artifact per call of each (twice() ran twice, below)
    assert sorted(a.uri or "" for a in store.get_artifacts()) == ["/m", "/twice", "/twice"]
    [done, cached] = store.get_executions_by_type("fit")
    assert cached.last_known_state == ExecutionState.CACHED
    for execution in (done, cached):
        events = store.get_events_by_execution_ids([execution.id or 0])
        assert [(e.artifact_id, tuple(e.path)) for e in events] == [(first.id, ("return",))]
    # an artifact returned twice cannot be rebuilt (one event per artifact): the step runs again
    states = [x.last_known_state for x in store.get_executions_by_type("twice")]
    assert states == [ExecutionState.COMPLETE, ExecutionState.COMPLETE]


def test_a_keyword_named_like_a_varargs_item_is_refused(store: LineageStore) -> None:
    """f(*parts, **kw) called f(a, parts0=b): both were recorded as "parts0", and a silently
    dropped from the inputs."""

    @store.step("Join")
    def join(*parts: Artifact, **named: Artifact) -> None:
        raise AssertionError("not run")

    with store.run("Ingest") as ingest:
        a = ingest.output("DataSet", uri="/a")
        b = ingest.output("DataSet", uri="/b")
    with pytest.raises(InvalidArgumentError, match="recorded as 'parts0'"):
        join(a, parts0=b)
    assert store.get_executions_by_type("Join") == []


def test_a_call_not_looked_up_is_no_cache_hit_for_another(store: LineageStore) -> None:
    """A call given an argument no property records runs, and so must not be returned for a
    later call: its recorded properties are those of a call that did not give that argument
    (here `layers` left to its default None), so fit(d) returned the model fit(d, [64, 32])
    had made, without running. Such calls are left out of the lookup: an older match is found."""
    calls: list[object] = []

    @store.step("Fit", cache=True)
    def fit(data: Artifact, layers: object = None) -> Artifact:
        calls.append(layers)
        return Artifact(type="Model", uri=f"/model-{len(calls)}")

    @store.step("Fit", cache=True, record_args=False)
    def blind(data: Artifact, lr: float) -> Artifact:
        calls.append(lr)
        return Artifact(type="Model", uri=f"/blind-{len(calls)}")

    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="d")
    listed = fit(d, b"raw")  # not looked up: bytes are not recorded
    plain = fit(d)  # looked up: the call above is no hit for it
    assert plain.uri != listed.uri and calls == [b"raw", None]
    assert fit(d).uri == plain.uri and len(calls) == 2  # a call that was looked up still is
    blinded = blind(d, 0.5)  # of the same type, recorded with none of its arguments
    assert blinded.uri not in (plain.uri, listed.uri) and len(calls) == 3
    assert fit(d).uri == plain.uri and len(calls) == 3  # the older match, not the newest


def test_a_list_given_to_a_parameter_declared_as_another_kind_runs_unrecorded(
    store: LineageStore,
) -> None:
    """Before lists were recorded, a step whose parameter took a str or a list (``cols="a"``,
    ``cols=["a", "b"]``) ran the list call, not looked up. Recording the list as a struct made
    that call fail on the type, which declares the parameter STRING: it runs, not looked up, the
    list kept as a custom property."""
    calls: list[object] = []

    @store.step("Select", cache=True)
    def select(cols: object = "a") -> None:
        calls.append(cols)

    select("a")
    select(["a", "b"])
    select(["a", "b"])
    select("a")  # a hit: the str is still recorded and compared
    assert calls == ["a", ["a", "b"], ["a", "b"]]
    runs = store.get_executions()
    assert [e.properties for e in runs] == [{"cols": "a"}, {}, {}, {"cols": "a"}]
    assert [bool(e.custom_properties.get("cache_skipped")) for e in runs] == [
        False,
        True,
        True,
        False,
    ]
    assert store.get_execution_type("Select").properties == {"cols": PropertyType.STRING}
    assert [e.custom_properties.get("cols") for e in runs] == [
        None,
        {"__list__": ["a", "b"]},
        {"__list__": ["a", "b"]},
        None,
    ]


def _fit_step(store: LineageStore) -> tuple[Any, list[object]]:
    """A cached step ``Fit(data, p)`` making a new model per run, and the ``p`` of each run."""
    calls: list[object] = []

    @store.step("Fit", cache=True)
    def fit(data: Artifact, p: object) -> Artifact:
        calls.append(p)
        return Artifact(type="Model", uri=f"s3://m/{len(calls)}")

    return fit, calls


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (3, 0.5),  # lr=3, then lr=0.5: no annotation to widen the int
        (0.5, "auto"),
        ("auto", 0.5),
        (True, 2),
        (2, True),
        ({"a": 1}, 0.1),
        (0.1, {"a": 1}),
        ([1, 2], "x"),  # a list first (STRUCT), then a str
    ],
)
def test_an_argument_of_another_kind_than_its_type_declares_runs_unrecorded(
    store: LineageStore, first: object, then: object
) -> None:
    """The type of a step's execution is declared by its first call: ``fit(d, 3)`` declared
    ``p`` INT, and ``fit(d, 0.5)`` failed with InvalidArgumentError (declares INT, got DOUBLE),
    so a plain Python function could not be called with an int, then a float. The call runs,
    not looked up, the value kept as a custom property; calls of the declared kind still hit."""
    fit, calls = _fit_step(store)
    d = Artifact(type="Data", uri="s3://d")
    first_model = fit(d, first)
    other = fit(d, then)
    again = fit(d, then)  # not looked up either: runs again
    assert calls == [first, then, then]
    assert len({first_model.uri, other.uri, again.uri}) == 3
    assert fit(d, first).uri == first_model.uri and len(calls) == 3  # the declared kind hits
    runs = store.get_executions()
    declared = store.get_execution_type("Fit").properties["p"]
    assert declared == kind_of(runs[0].properties["p"])
    assert "p" not in runs[1].properties and "p" not in runs[2].properties
    recorded = runs[1].custom_properties["p"]
    assert recorded == ({"__list__": then} if isinstance(then, list) else then)
    assert type(recorded) is type(then) or isinstance(then, list)
    assert "'p'" in str(runs[1].custom_properties["cache_skipped"])


def test_an_int_given_to_a_parameter_declared_double_is_still_the_property(
    store: LineageStore,
) -> None:
    """``fit(d, 0.5)`` declares ``lr`` DOUBLE; ``fit(d, 3)`` is widened to 3.0 by the write,
    as every write of a DOUBLE property is, so it stays the declared property and its calls are
    looked up (recorded as a custom property, ``fit(d, 3)`` twice ran twice)."""
    fit, calls = _fit_step(store)
    d = Artifact(type="Data", uri="s3://d")
    fit(d, 0.5)
    first = fit(d, 3)
    assert fit(d, 3).uri == first.uri
    assert calls == [0.5, 3]
    runs = store.get_executions()
    assert runs[1].properties["p"] == 3.0 and "p" not in runs[1].custom_properties
    assert "cache_skipped" not in runs[1].custom_properties


def test_a_call_whose_arguments_match_the_declared_kinds_reads_the_type_once(
    store: LineageStore,
) -> None:
    """Checking the arguments' kinds against the type (2484c26) read the type on every call,
    a round trip more than ensuring it: a call whose arguments match the kinds read before
    reads it once, as before."""

    @store.step("Fit")
    def fit(lr: float, epochs: int = 1) -> None:
        return None

    fit(0.5, epochs=2)
    fit(0.25, epochs=3)
    with store.backend.record() as log:  # type: ignore[attr-defined]
        fit(0.125, epochs=4)
    assert [s.name for s in log].count("types/get_execution_type") == 1
    fit("auto", epochs=5)  # another kind: still recorded as a custom property
    assert store.get_executions()[-1].custom_properties["lr"] == "auto"


def test_a_first_call_racing_another_writers_first_call_with_another_kind_runs(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes make a step's first call at once, ``fit(d, 3)`` and ``fit(d, "auto")``:
    both read that ``Fit`` was not registered and both register it, ``p`` INT and STRING. The
    second registration failed with AlreadyExistsError (conflicting property value type), so
    the call failed. It reads the type again: ``p`` is declared by the other writer, and the
    call runs with the value kept as a custom property, as after any call of another kind."""
    fit, calls = _fit_step(store)
    real = type(store).get_type
    raced: list[bool] = []

    def racing(self: Any, kind: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "Fit" and not raced:  # the other writer registers it after this read
            raced.append(True)
            try:
                return real(self, kind, name, *args, **kwargs)
            finally:
                store.put_execution_type(
                    ExecutionType(name="Fit", properties={"p": PropertyType.STRING})
                )
        return real(self, kind, name, *args, **kwargs)

    monkeypatch.setattr(type(store), "get_type", racing)
    d = Artifact(type="Data", uri="s3://d")
    model = fit(d, 3)
    assert raced and calls == [3] and model.id is not None
    assert store.get_execution_type("Fit").properties["p"] == PropertyType.STRING
    [run] = store.get_executions()
    assert "p" not in run.properties and run.custom_properties["p"] == 3
    assert "'p'" in str(run.custom_properties["cache_skipped"])
    assert fit(d, 3).uri != model.uri and calls == [3, 3]  # not looked up: runs again


def test_an_argument_overridden_by_a_decorator_property_is_not_looked_up(
    store: LineageStore,
) -> None:
    """``@step(properties={"lr": 0.1})`` over a parameter ``lr``: the decorator's value is the
    one recorded, so a call giving another ``lr`` cannot be compared and runs (it used to be
    looked up under ``lr=0.1`` and reuse the model of a call with another ``lr``)."""
    calls: list[float] = []

    @store.step("Fit", cache=True, properties={"lr": 0.1})
    def fit(data: Artifact, lr: float = 0.1) -> Artifact:
        calls.append(lr)
        return Artifact(type="Model", uri=f"/m{len(calls)}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    first = fit(data, lr=0.5)
    second = fit(data, lr=0.9)
    assert calls == [0.5, 0.9]
    assert first.id != second.id
    newest = max(store.get_executions_by_type("Fit"), key=lambda e: e.id or 0)
    assert newest.last_known_state == ExecutionState.COMPLETE
    assert "'lr'" in newest.custom_properties["cache_skipped"]
    # The decorator's own value is the recorded one: such calls are looked up as before.
    third = fit(data, lr=0.1)
    again = fit(data)
    assert calls == [0.5, 0.9, 0.1]
    assert again.id == third.id
    # None is not the decorator's value either (the function sees None): it runs.
    unset = fit(data, lr=None)  # type: ignore[arg-type]
    assert calls == [0.5, 0.9, 0.1, None] and unset.id != third.id


def test_a_metric_named_like_a_parameter_is_not_the_parameter(store: LineageStore) -> None:
    """The cache compares a step's recorded arguments (declared properties) only. A custom
    property of the same name is a metric: ``epochs`` actually run before early stopping made
    ``train(d, epochs=7)`` reuse the model of ``train(d, epochs=10)`` (a false hit), and a
    logged ``k`` made ``select(d)`` miss its own earlier call once the type declared ``k``."""
    calls: list[Any] = []

    @store.step("Train", cache=True)
    def train(data: Artifact, epochs: int = 10) -> Artifact:
        calls.append(epochs)
        run = current_run()
        assert run is not None
        run.log_metrics(epochs=min(epochs, 7))  # stopped early after 7
        return Artifact(type="Model", uri=f"/model-{epochs}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    ten = train(data, epochs=10)
    seven = train(data, epochs=7)
    assert calls == [10, 7]
    assert seven.uri == "/model-7" and seven.id != ten.id
    assert train(data, epochs=10).id == ten.id  # the same arguments still hit
    assert calls == [10, 7]

    @store.step("Select", cache=True)
    def select(data: Artifact, k: int | None = None) -> Artifact:
        calls.append(("k", k))
        run = current_run()
        assert run is not None
        run.log_metrics(k=3 if k is None else k)  # the k it chose
        return Artifact(type="Features", uri=f"/features-{k}")

    first = select(data)
    select(data, k=5)  # declares k
    assert select(data).id == first.id  # k unset, as in the first call: reused
    explicit = select(data, k=3)  # not the first call (k unset) although it logged k=3
    assert explicit.id != first.id
    assert calls[2:] == [("k", None), ("k", 5), ("k", 3)]


def test_a_method_steps_instance_is_part_of_what_the_cache_compares(store: LineageStore) -> None:
    """``self`` was left out of the cache key: ``Trainer(lr=0.5).fit(d)`` returned the model
    ``Trainer(lr=0.1).fit(d)`` had made (a false hit). The instance's state is recorded as the
    struct ``self``: its attributes, a dataclass's fields, or what ``__lineage_state__``
    returns; an instance holding more than JSON data is not compared, so the call runs."""
    calls: list[str] = []

    class Trainer:
        def __init__(self, lr: float) -> None:
            self.lr = lr

        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            calls.append(f"Trainer {self.lr}")
            return Artifact(type="Model", uri=f"/trainer/{self.lr}/{len(calls)}")

    @dataclasses.dataclass(frozen=True, slots=True)
    class Config:
        depth: int

        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            calls.append(f"Config {self.depth}")
            return Artifact(type="Model", uri=f"/config/{self.depth}/{len(calls)}")

    class Holder:
        def __init__(self, seed: int) -> None:
            self.seed = seed
            self.cache = object()  # not JSON data

        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            calls.append(f"Holder {self.seed}")
            return Artifact(type="Model", uri=f"/holder/{len(calls)}")

    class Narrowed(Holder):
        def __lineage_state__(self) -> dict[str, Any]:
            return {"seed": self.seed}

        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            calls.append(f"Narrowed {self.seed}")
            return Artifact(type="Model", uri=f"/narrowed/{self.seed}/{len(calls)}")

    d = Artifact(type="Data", uri="s3://d")
    slow, fast = Trainer(0.1).fit(d), Trainer(0.5).fit(d)
    assert slow.uri != fast.uri and calls == ["Trainer 0.1", "Trainer 0.5"]
    assert Trainer(0.1).fit(d).uri == slow.uri and Trainer(0.5).fit(d).uri == fast.uri
    shallow = Config(2).fit(d)
    assert Config(3).fit(d).uri != shallow.uri and Config(2).fit(d).uri == shallow.uri
    assert Holder(1).fit(d).uri != Holder(1).fit(d).uri  # not compared: runs every time
    kept = Narrowed(1).fit(d)
    assert Narrowed(1).fit(d).uri == kept.uri and Narrowed(2).fit(d).uri != kept.uri
    assert calls[2:] == ["Config 2", "Config 3", "Holder 1", "Holder 1", "Narrowed 1", "Narrowed 2"]
    by_type = {t: store.get_executions_by_type(t) for t in ("Trainer.fit", "Holder.fit")}
    assert by_type["Trainer.fit"][0].properties["self"] == {"lr": 0.1}
    assert "'self'" in str(by_type["Holder.fit"][0].custom_properties["cache_skipped"])


def test_a_step_records_the_state_its_call_started_from(store: LineageStore) -> None:
    """The instance's state (and a dict argument) was recorded as the call left it: a method
    appending to ``self.seen`` was recorded as run with ``seen=[uri]`` though it ran with
    ``seen=[]``, and the next call, which did start from ``seen=[uri]``, returned its result
    without running (a false hit)."""
    calls: list[list[str]] = []

    class Tracker:
        def __init__(self) -> None:
            self.seen: list[str] = []

        @store.step(cache=True)
        def fit(self, data: Artifact, notes: dict[str, Any]) -> Artifact:
            calls.append(list(self.seen))
            self.seen.append(data.uri)
            notes.setdefault("uris", []).append(data.uri)
            return Artifact(type="Model", uri=f"/tracked/{len(calls)}")

    d, tracker, notes = Artifact(type="Data", uri="s3://d"), Tracker(), {"uris": []}
    assert tracker.fit(d, notes).uri != tracker.fit(d, notes).uri
    assert calls == [[], ["s3://d"]]
    first = store.get_executions_by_type("Tracker.fit")[0]
    assert first.properties["self"] == {"seen": []}
    assert first.properties["notes"] == {"uris": []}


def test_a_subclass_calling_an_inherited_method_step_is_not_its_base(
    store: LineageStore,
) -> None:
    """An inherited method step keeps its base's type (``Base.fit``) and nothing told the
    instance's or class's class apart: ``Sub().fit(d)``, whose ``fit`` calls the ``kind`` Sub
    overrides, returned the model ``Base().fit(d)`` had made (a false hit); so did the
    inherited class method."""

    class Base:
        def kind(self) -> str:
            return "base"

        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            return Artifact(type="Model", uri=f"/{self.kind()}")

        @classmethod
        @store.step(cache=True)
        def load(cls, data: Artifact) -> Artifact:
            return Artifact(type="Data", uri=f"/loaded/{cls.__name__}")

    class Sub(Base):
        def kind(self) -> str:
            return "sub"

    d = Artifact(type="Data", uri="s3://d")
    assert [Base().fit(d).uri, Sub().fit(d).uri, Sub().fit(d).uri] == ["/base", "/sub", "/sub"]
    assert [Base.load(d).uri, Sub.load(d).uri] == ["/loaded/Base", "/loaded/Sub"]
    assert Base().fit(d).uri == "/base" and Sub.load(d).uri == "/loaded/Sub"
    recorded = [e.properties.get("self") for e in store.get_executions_by_type("Base.fit")]
    sub = f"{Sub.__module__}.{Sub.__qualname__}"
    assert recorded == [{}, {"__class__": sub}, {"__class__": sub}, {}]


def test_a_dataclass_field_not_set_yet_is_left_out_of_its_state(store: LineageStore) -> None:
    """A dataclass's ``field(init=False)`` that the method sets (the fitted model) is not set
    before the first call: reading it for ``self``'s state raised AttributeError, so the
    method step failed before it ran, every time."""
    calls: list[float] = []

    @dataclasses.dataclass
    class Estimator:
        lr: float
        model: Any = dataclasses.field(init=False)

        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            calls.append(self.lr)
            self.model = object()  # not JSON data: later calls of this instance are not compared
            return Artifact(type="Model", uri=f"/estimator/{len(calls)}")

    d = Artifact(type="Data", uri="s3://d")
    first = Estimator(0.1).fit(d)
    assert Estimator(0.1).fit(d).uri == first.uri and calls == [0.1]
    fitted = Estimator(0.5)
    fitted.fit(d), fitted.fit(d)
    assert calls == [0.1, 0.5, 0.5]
    assert store.get_executions_by_type("Estimator.fit")[0].properties["self"] == {"lr": 0.1}


def test_an_instance_holding_a_large_state_is_not_recorded_unless_it_says_what_matters(
    store: LineageStore,
) -> None:
    """An instance keeping its data as a list (2M numbers took ~6 s a call to copy, encode and
    write as the property ``self``): beyond 64 KiB of JSON its attributes are not recorded, so
    the call runs; ``__lineage_state__`` still makes it comparable."""
    calls: list[str] = []

    class Holder:
        def __init__(self, size: int) -> None:
            self.rows = list(range(size))

        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            calls.append(type(self).__name__)
            return Artifact(type="Model", uri=f"/m/{len(calls)}")

    class Said(Holder):
        def __lineage_state__(self) -> dict[str, Any]:
            return {"rows": len(self.rows)}

    d = Artifact(type="Data", uri="s3://d")
    small = Holder(10).fit(d)
    assert Holder(10).fit(d).uri == small.uri and len(calls) == 1
    big = MAX_IMPLICIT_STATE_CHARS // 3  # at least 3 characters a number ("7, "): past it
    assert Holder(big).fit(d).uri != Holder(big).fit(d).uri and len(calls) == 3
    [first, *_] = [
        e for e in store.get_executions_by_type("Holder.fit") if "self" not in e.properties
    ]
    assert "'self'" in str(first.custom_properties["cache_skipped"])
    said = Said(big).fit(d)
    assert Said(big).fit(d).uri == said.uri and calls[3:] == ["Said"]


def test_a_bound_methods_large_instance_is_not_read_whole_on_each_call(
    store: LineageStore,
) -> None:
    """A bound method's instance is read on every call since it is recorded as ``self``: one
    holding a million numbers (a model's weights kept as a list) had all of them checked and
    encoded each call, only to find them past ``MAX_IMPLICIT_STATE_CHARS`` and record nothing
    (0.33 s a call of ``model.predict``). What is read of it is bounded now; counted here by
    the items its list hands out."""
    handed = [0]

    class Counted(list[float]):
        def __iter__(self) -> Iterator[float]:
            for value in super().__iter__():
                handed[0] += 1
                yield value

    class Model:
        def __init__(self) -> None:
            self.weights = Counted(float(i) for i in range(200_000))

        def predict(self, x: int) -> int:
            return x * 2

    predict = store.step("Predict", cache=True)(Model().predict)
    assert predict(3) == 6
    assert handed[0] < 20_000  # (5 characters a number at least, "0.0, ": 64 KiB / 5)
    [run] = store.get_executions_by_type("Predict")
    assert "self" not in run.properties and "'self'" in str(run.custom_properties["cache_skipped"])


def test_a_class_methods_class_is_left_out(store: LineageStore) -> None:
    calls = []

    class Loader:
        @classmethod
        @store.step(cache=True)
        def load(cls, data: Artifact) -> Artifact:
            calls.append(cls)
            return Artifact(type="Data", uri=f"/loaded/{len(calls)}")

    d = Artifact(type="Data", uri="s3://d")
    assert Loader.load(d).uri == Loader.load(d).uri and len(calls) == 1


def test_two_classes_methods_of_one_name_are_two_steps(store: LineageStore) -> None:
    """``Linear.fit`` and ``Forest.fit`` both defaulted to the type ``fit``: with
    ``cache=True``, ``Forest().fit(d)`` returned the model ``Linear().fit(d)`` had made (a
    false hit). A method's type is named with its class; a function defined in a function keeps
    its own name."""

    class Linear:
        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            return Artifact(type="Model", uri="/linear")

    class Forest:
        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            return Artifact(type="Model", uri="/forest")

    @store.step(cache=True)
    def fit(data: Artifact) -> Artifact:
        return Artifact(type="Model", uri="/function")

    d = Artifact(type="Data", uri="s3://d")
    assert [Linear().fit(d).uri, Forest().fit(d).uri, fit(d).uri] == [
        "/linear",
        "/forest",
        "/function",
    ]
    assert Forest().fit(d).uri == "/forest"  # its own cached model
    names = {t.name for t in store.get_types(NodeKind.EXECUTION)}
    assert {"Linear.fit", "Forest.fit", "fit"} <= names


def test_an_instance_with_an_async_call_is_an_async_step(store: LineageStore) -> None:
    """``async def __call__`` was taken for a sync function: its run was recorded COMPLETE with
    no outputs (return shape "value") before the coroutine ran, its artifact never stored."""

    class Scorer:
        async def __call__(self, data: Artifact) -> Artifact:
            await asyncio.sleep(0)
            assert current_run() is not None
            return Artifact(type="Score", uri="/score")

    class Chunker:
        def __call__(self, data: Artifact):  # type: ignore[no-untyped-def]
            yield Artifact(type="DataSet", uri="/chunk")

    score = store.step("Score")(Scorer())
    result = asyncio.run(score(Artifact(type="DataSet", uri="/d")))
    [run] = store.get_executions_by_type("Score")
    assert run.last_known_state == ExecutionState.COMPLETE
    assert run.custom_properties["return_shape"] == "single"
    [event] = [e for e in store.get_events_by_execution_ids([run.id or 0]) if e.type.is_output]
    assert event.artifact_id == result.id is not None
    with pytest.raises(InvalidArgumentError, match="generator function"):
        store.step("Chunk")(Chunker())


def test_a_sync_step_returning_a_coroutine_fails_its_run(store: LineageStore) -> None:
    """A function hiding that it is async (a wrapper returning its coroutine): its run was
    recorded COMPLETE with no outputs, its work and errors falling outside it."""

    async def fit(data: Artifact) -> Artifact:  # pragma: no cover - closed, never run
        return Artifact(type="Model", uri="/m")

    def hidden(data: Artifact) -> Any:
        return fit(data)

    step = store.step("Fit")(hidden)
    with pytest.raises(InvalidArgumentError, match="returned an awaitable"):
        step(Artifact(type="DataSet", uri="/d"))
    [run] = store.get_executions_by_type("Fit")
    assert run.last_known_state == ExecutionState.FAILED
    assert store.get_artifacts_by_uri("/m") == []


def test_artifacts_nested_in_a_return_are_outputs(store: LineageStore) -> None:
    """``{"models": [m1, m2], "acc": 0.9}`` or ``{0: model}``: the models were dropped, never
    stored, the run COMPLETE without outputs (their ids None)."""
    calls: list[int] = []

    @store.step("Ensemble", cache=True)
    def ensemble(n: int) -> dict[Any, Any]:
        calls.append(n)
        models = [Artifact(type="Model", uri=f"/m{i}") for i in range(n)]
        return {"models": models, "acc": 0.9, 0: Artifact(type="Report", uri="/r")}

    first = ensemble(2)
    assert all(m.id is not None for m in first["models"]) and first[0].id is not None
    [run] = store.get_executions_by_type("Ensemble")
    outputs = {
        tuple(e.path): e.artifact_id
        for e in store.get_events_by_execution_ids([run.id or 0])
        if e.type.is_output
    }
    assert outputs == {
        ("return", "models", 0): first["models"][0].id,
        ("return", "models", 1): first["models"][1].id,
        ("return", 0): first[0].id,
    }
    assert run.custom_properties["return_shape"] == "value"
    ensemble(2)  # not rebuilt from the store (the 0.9 is not stored): runs again
    assert calls == [2, 2]


def test_artifacts_inside_an_unrecorded_argument_are_inputs(store: LineageStore) -> None:
    """``fit(splits={"train": d1, "val": d2})`` recorded no input: the model's lineage showed it
    made from nothing."""
    with store.run("Ingest") as ingest:
        train = ingest.output("DataSet", uri="/train")
        val = ingest.output("DataSet", uri="/val")

    @store.step("Fit", cache=True)
    def fit(splits: dict[str, Artifact], extra: list[Any], again: Artifact) -> Artifact:
        return Artifact(type="Model", uri="/m")

    fit({"train": train, "val": [val]}, [train, 0.5], again=val)
    [run] = store.get_executions_by_type("Fit")
    inputs = {
        tuple(e.path): e.artifact_id
        for e in store.get_events_by_execution_ids([run.id or 0])
        if not e.type.is_output
    }
    # each artifact once: val is given directly too, train twice within the arguments
    assert inputs == {("again",): val.id, ("splits", 0): train.id}
    assert "cache_skipped" in run.custom_properties  # (the structure itself is not compared)


def test_a_step_returning_a_generator_or_a_generator_context_manager_fails_its_run(
    store: LineageStore,
) -> None:
    """``@store.step`` over a ``@contextlib.contextmanager`` function (or a function returning a
    generator): the call did none of the work, the run was recorded COMPLETE with no outputs,
    and the body, its artifacts and its errors, ran later, outside it."""
    ran: list[str] = []

    @store.step("Stage")
    @contextlib.contextmanager
    def staged(data: Artifact) -> Iterator[Artifact]:
        ran.append("body")
        yield Artifact(type="DataSet", uri="/staged")

    def chunks(data: Artifact) -> Iterator[Artifact]:
        ran.append("chunks")
        yield Artifact(type="DataSet", uri="/chunk")

    @store.step("Chunk")
    def lazy(data: Artifact) -> Iterator[Artifact]:
        return chunks(data)

    @store.step("AStage")
    @contextlib.asynccontextmanager
    async def astaged(data: Artifact) -> AsyncIterator[Artifact]:
        ran.append("abody")
        yield Artifact(type="DataSet", uri="/astaged")

    d = Artifact(type="DataSet", uri="/d")
    with pytest.raises(InvalidArgumentError, match="returned a generator"):
        staged(d)
    with pytest.raises(InvalidArgumentError, match="returned a generator"):
        lazy(d)
    with pytest.raises(InvalidArgumentError, match="returned a generator"):
        astaged(d)
    assert ran == []
    for name in ("Stage", "Chunk", "AStage"):
        [run] = store.get_executions_by_type(name)
        assert run.last_known_state == ExecutionState.FAILED
        assert run.custom_properties["error_type"] == "InvalidArgumentError"
    assert [a.uri for a in store.get_artifacts()] == ["/d"]


def test_a_lambda_step_needs_a_type_name(store: LineageStore) -> None:
    """Every lambda is named ``<lambda>``: two lambda steps were one execution type, and with
    ``cache=True`` ``square(3)`` returned the number ``double(3)`` had made."""
    with pytest.raises(InvalidArgumentError, match="lambda"):
        store.step(cache=True)(lambda n: Artifact(type="Number", uri=f"/double/{n}"))
    with pytest.raises(InvalidArgumentError, match="lambda"):
        store.step(lambda n: None)
    double = store.step("Double", cache=True)(lambda n: Artifact(type="Number", uri=f"/2x{n}"))
    square = store.step("Square", cache=True)(lambda n: Artifact(type="Number", uri=f"/{n}^2"))
    assert (double(3).uri, square(3).uri) == ("/2x3", "/3^2")
    assert {x.type for x in store.get_executions()} == {"Double", "Square"}


def test_lambdas_of_a_class_body_need_a_type_name(store: LineageStore) -> None:
    """Lambdas defined in one class body are all named ``Steps.<lambda>``: the check for a
    lambda's name let them through, so they were one execution type, and with ``cache=True``
    ``square(3)`` returned the number ``double(3)`` had made."""

    class Steps:
        double = staticmethod(lambda n: Artifact(type="Number", uri=f"/2x{n}"))
        square = staticmethod(lambda n: Artifact(type="Number", uri=f"/{n}^2"))

    for fn in (Steps.double, Steps.square):
        with pytest.raises(InvalidArgumentError, match="lambda"):
            store.step(cache=True)(fn)
    assert store.get_executions() == []
    double = store.step("Double", cache=True)(Steps.double)
    square = store.step("Square", cache=True)(Steps.square)
    assert (double(3).uri, square(3).uri) == ("/2x3", "/3^2")


def test_bad_decorator_settings_are_refused_when_decorating(store: LineageStore) -> None:
    """``properties="lr"``, ``context=5``, ``context_type=5`` or ``git=5`` were accepted by the
    decorator and failed every call (``properties="lr"`` with dict()'s untyped ValueError)."""
    bad: list[dict[str, Any]] = [
        {"properties": "lr"},
        {"properties": {"lr": object()}},
        {"context": 5},
        {"context_type": 5},
        {"git": 5},
    ]
    for settings in bad:
        with pytest.raises(InvalidArgumentError):
            store.step("Fit", **settings)
    assert store.get_executions() == [] and store.get_types(NodeKind.EXECUTION) == []


def test_a_bound_method_or_a_callable_instance_records_its_instance(store: LineageStore) -> None:
    """``store.step(cache=True)(Trainer(0.1).fit)`` left the instance out (it is no argument of
    the bound method), so the step of ``Trainer(0.5).fit`` returned the model of
    ``Trainer(0.1).fit``; two callable instances decorated under one name likewise."""

    class Trainer:
        def __init__(self, lr: float) -> None:
            self.lr = lr

        def fit(self, data: Artifact) -> Artifact:
            return Artifact(type="Model", uri=f"/model-lr{self.lr}")

    class Scorer:
        def __init__(self, threshold: float) -> None:
            self.threshold = threshold

        def __call__(self, model: Artifact) -> Artifact:
            return Artifact(type="Score", uri=f"/score-{self.threshold}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/d")
    slow = store.step(cache=True)(Trainer(0.1).fit)
    fast = store.step(cache=True)(Trainer(0.5).fit)
    assert (slow(data).uri, fast(data).uri) == ("/model-lr0.1", "/model-lr0.5")
    again = store.step(cache=True)(Trainer(0.1).fit)(data)  # the same settings: a hit
    assert again.uri == "/model-lr0.1"
    fits = store.get_executions_by_type("Trainer.fit")
    assert [x.properties for x in fits] == [{"self": {"lr": lr}} for lr in (0.1, 0.5, 0.1)]
    assert fits[-1].last_known_state == ExecutionState.CACHED
    lenient = store.step("Score", cache=True)(Scorer(0.5))
    strict = store.step("Score", cache=True)(Scorer(0.9))
    assert (lenient(again).uri, strict(again).uri) == ("/score-0.5", "/score-0.9")


def test_a_partials_positional_arguments_are_recorded(store: LineageStore) -> None:
    """``functools.partial(train, dataset)``: the partial's signature leaves its positional
    arguments out, so the dataset was no input (missing from the lineage) and the step of
    ``partial(train, b)`` returned the model of ``partial(train, a)``."""

    def train(data: Artifact, lr: float, epochs: int = 1) -> Artifact:
        return Artifact(type="Model", uri=f"/model-{data.uri}-{lr}")

    with store.run("Ingest") as ingest:
        a = ingest.output("DataSet", uri="a")
        b = ingest.output("DataSet", uri="b")
    on_a = store.step("Train", cache=True)(functools.partial(train, a))
    on_b = store.step("Train", cache=True)(functools.partial(train, b))
    assert (on_a(0.1).uri, on_b(0.1).uri) == ("/model-a-0.1", "/model-b-0.1")
    fixed = store.step("Train", cache=True)(functools.partial(train, a, 0.5))
    assert fixed().uri == "/model-a-0.5"
    runs = store.get_executions_by_type("Train")
    assert [x.properties for x in runs] == [
        {"lr": 0.1, "epochs": 1},
        {"lr": 0.1, "epochs": 1},
        {"lr": 0.5, "epochs": 1},
    ]
    inputs = [
        [
            (e.artifact_id, e.path)
            for e in store.get_events_by_execution_ids([x.id or 0])
            if not e.type.is_output
        ]
        for x in runs
    ]
    assert inputs == [[(a.id, ["data"])], [(b.id, ["data"])], [(a.id, ["data"])]]


def test_artifacts_a_method_steps_instance_holds_are_inputs(store: LineageStore) -> None:
    """``Trainer(data=d).fit()``: the dataset the instance holds was no input, the run recorded
    without the data it read."""

    @dataclasses.dataclass
    class Trainer:
        data: Artifact
        lr: float = 0.1

        @store.step(cache=True)
        def fit(self) -> Artifact:
            return Artifact(type="Model", uri=f"/m-{self.data.uri}-{self.lr}")

    class Ensemble:
        def __init__(self, members: list[Artifact], lr: float) -> None:
            self.members = members
            self.lr = lr

        def __lineage_state__(self) -> dict[str, Any]:
            return {"lr": self.lr}  # the members are inputs: compared as such

        @store.step(cache=True)
        def combine(self) -> Artifact:
            return Artifact(type="Model", uri=f"/ensemble-{len(self.members)}")

    with store.run("Ingest") as ingest:
        a = ingest.output("DataSet", uri="a")
        b = ingest.output("DataSet", uri="b")
    assert Trainer(a).fit().uri == "/m-a-0.1"
    [fit] = store.get_executions_by_type("Trainer.fit")
    events = store.get_events_by_execution_ids([fit.id or 0])
    assert [(e.artifact_id, e.path) for e in events if not e.type.is_output] == [
        (a.id, ["self", 0])
    ]
    assert "cache_skipped" in fit.custom_properties  # its other fields are not compared
    first = Ensemble([a, b], 0.5).combine()
    assert Ensemble([a, b], 0.5).combine().id == first.id  # compared: inputs and the hook's state
    assert Ensemble([a], 0.5).combine().id != first.id
    combined = store.get_executions_by_type("Ensemble.combine")
    assert [x.last_known_state for x in combined] == [
        ExecutionState.COMPLETE,
        ExecutionState.CACHED,
        ExecutionState.COMPLETE,
    ]
    inputs = store.get_events_by_execution_ids([combined[0].id or 0])
    assert sorted((e.artifact_id or 0, tuple(e.path)) for e in inputs if not e.type.is_output) == [
        (a.id or 0, ("self", 0)),
        (b.id or 0, ("self", 1)),
    ]


@pytest.mark.parametrize("annotation", ["float | None", "Optional[float]", float | None])
def test_an_int_given_to_an_optional_float_parameter_is_widened(
    store: LineageStore, annotation: Any
) -> None:
    """``fit(lr: float | None = None)`` called first with ``1`` declared lr an INT: every later
    call given a float ran, never looked up (``fit(0.5)`` twice ran twice), and ``fit(1.0)``
    did not reuse ``fit(1)``."""
    calls: list[Any] = []

    def fit(lr: Any = None) -> Artifact:
        calls.append(lr)
        return Artifact(type="Model", uri=f"/{lr}")

    fit.__annotations__["lr"] = annotation  # as written in the signature (or postponed)
    step = store.step("Fit", cache=True)(fit)
    for lr in (1, 0.5, 0.5, 1.0):
        step(lr)
    assert calls == [1, 0.5]
    runs = store.get_executions_by_type("Fit")
    assert [x.properties for x in runs] == [{"lr": lr} for lr in (1.0, 0.5, 0.5, 1.0)]
    assert store.get_execution_type("Fit").properties == {"lr": PropertyType.DOUBLE}


class _Splits(NamedTuple):
    train: Artifact
    test: Artifact


def test_a_named_tuple_return_is_never_rebuilt_as_a_plain_tuple(store: LineageStore) -> None:
    """A cache hit rebuilt ``Splits(train, test)`` as a plain tuple: ``split(d).train`` raised
    AttributeError on the second call only (an OrderedDict came back a dict likewise)."""
    calls: list[str] = []

    @store.step("Split", cache=True)
    def split(uri: str) -> _Splits:
        calls.append(uri)
        return _Splits(
            Artifact(type="DataSet", uri=f"{uri}/train"),
            Artifact(type="DataSet", uri=f"{uri}/test"),
        )

    first = split("/d")
    again = split("/d")
    assert isinstance(again, _Splits) and again.train.uri == "/d/train"
    assert calls == ["/d", "/d"]  # made again: the class is not in the store
    [run, _] = store.get_executions_by_type("Split")
    outputs = [e.path for e in store.get_events_by_execution_ids([run.id or 0]) if e.type.is_output]
    assert sorted(outputs) == [["return", 0], ["return", 1]]  # its artifacts are outputs
    assert first.train.id is not None


def test_a_task_groups_failure_records_the_reason(store: LineageStore) -> None:
    """An async step using ``asyncio.TaskGroup``: its run's error read "ExceptionGroup:
    unhandled errors in a TaskGroup (1 sub-exception)", the reason it failed left out."""

    async def shard(i: int) -> None:
        if i == 2:
            raise ValueError("shard 2 is empty")

    @store.step("Featurize")
    async def featurize(n: int) -> None:
        async with asyncio.TaskGroup() as group:
            for i in range(n):
                group.create_task(shard(i))

    with pytest.raises(ExceptionGroup):
        asyncio.run(featurize(3))
    [run] = store.get_executions_by_type("Featurize")
    assert run.last_known_state == ExecutionState.FAILED
    assert run.custom_properties["error_type"] == "ExceptionGroup"
    assert "ValueError: shard 2 is empty" in run.custom_properties["error"]


def test_a_step_returning_its_own_context_manager_holding_a_generator_completes(
    store: LineageStore,
) -> None:
    """Only contextlib's generator-based context managers defer a step's work: a class of the
    user's that is a context manager and keeps a generator as ``gen`` (a batch reader) was
    refused as one (the run FAILED, "returned a generator-based Reader"), and its generator
    closed, so the caller could not read from it either. An object with a ``gen`` generator
    that is no context manager is no deferral either."""

    class Reader:
        def __init__(self) -> None:
            self.gen = (n for n in range(3))

        def __enter__(self) -> Reader:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    class Holder:
        def __init__(self) -> None:
            self.gen = (n for n in range(2))

    reader = store.step("OpenReader")(Reader)()
    holder = store.step("Hold")(lambda: Holder())
    assert list(reader.gen) == [0, 1, 2]
    assert list(holder().gen) == [0, 1]
    for name in ("OpenReader", "Hold"):
        [run] = store.get_executions_by_type(name)
        assert run.last_known_state == ExecutionState.COMPLETE


def test_an_artifact_an_instance_holds_that_is_not_stored_is_no_input(store: LineageStore) -> None:
    """``Exporter(target=Artifact(...)).export(m)`` returning ``self.target``: the target the
    instance held, not stored yet, was recorded as an input of the call as well as its output
    (an execution reading what it writes)."""

    @dataclasses.dataclass
    class Exporter:
        target: Artifact

        @store.step
        def export(self, model: Artifact) -> Artifact:
            return self.target

    with store.run("Train") as train:
        model = train.output("Model", uri="/m")
    out = Exporter(Artifact(type="Pushed", uri="s3://out")).export(model)
    [export] = store.get_executions_by_type("Exporter.export")
    events = store.get_events_by_execution_ids([export.id or 0])
    assert sorted((e.type.name, e.artifact_id) for e in events) == [
        ("INPUT", model.id),
        ("OUTPUT", out.id),
    ]


def test_artifacts_a_config_argument_holds_are_inputs(store: LineageStore) -> None:
    """``train(Job(data=d, C=0.5))``: a dataclass or pydantic config argument holding the
    dataset was no input, the model's upstream had no dataset (a method's instance's were)."""
    pydantic = pytest.importorskip("pydantic")

    @dataclasses.dataclass
    class Job:
        data: Artifact
        c: float = 1.0

    class PJob(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
        data: Artifact
        c: float = 1.0

    @store.step("Train")
    def train(job: Any, extra: Artifact | None = None) -> Artifact:
        return Artifact(type="Model", uri=f"/m-{job.c}")

    with store.run("Ingest") as ingest:
        a = ingest.output("DataSet", uri="a")
        b = ingest.output("DataSet", uri="b")
    for model in (train(Job(a, 0.5)), train(PJob(data=a, c=0.5), extra=b)):
        assert a.id in {x.id for x in store.upstream(model).artifacts}
    runs = store.get_executions_by_type("Train")
    inputs = [
        sorted(
            (e.artifact_id or 0, tuple(e.path))
            for e in store.get_events_by_execution_ids([x.id or 0])
            if not e.type.is_output
        )
        for x in runs
    ]
    assert inputs == [[(a.id, ("job", 0))], [(a.id, ("job", 0)), (b.id, ("extra",))]]
    # Given directly too, it is read once
    train(Job(b), extra=b)
    last = store.get_executions_by_type("Train")[-1]
    assert [
        e.path for e in store.get_events_by_execution_ids([last.id or 0]) if not e.type.is_output
    ] == [["extra"]]


@dataclasses.dataclass(frozen=True)
class _LinearConfig:
    c: float = 1.0
    penalty: str = "l2"
    layers: tuple[int, ...] = (64, 32)


@dataclasses.dataclass(frozen=True)
class _TreeConfig:  # the same fields: another setting all the same
    c: float = 1.0
    penalty: str = "l2"
    layers: tuple[int, ...] = (64, 32)


def test_a_config_object_argument_is_recorded_and_compared(store: LineageStore) -> None:
    """``train(d, cfg)`` with a dataclass or pydantic config: the config was never recorded, so
    a cached step ran every call, never reusing a result; it is recorded as a struct with its
    class, so the same settings hit and others (another value, another class) do not."""
    pydantic = pytest.importorskip("pydantic")

    class Optim(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        lr: float = 0.1
        tags: tuple[str, ...] = ()

    calls: list[str] = []

    @store.step("Train", cache=True)
    def train(data: Artifact, cfg: Any) -> Artifact:
        calls.append(repr(cfg))
        return Artifact(type="Model", uri=f"/m-{len(calls)}")

    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="d")
    first = train(d, _LinearConfig())
    assert train(d, cfg=_LinearConfig()).id == first.id
    assert train(d, _LinearConfig(c=2.0)).id != first.id
    assert train(d, _TreeConfig()).id != first.id
    opt = train(d, Optim())
    assert train(d, Optim(tags=("x",))).id != opt.id
    assert train(d, Optim()).id == opt.id
    assert len(calls) == 5
    [recorded, *_] = store.get_executions_by_type("Train")
    assert recorded.properties["cfg"] == {
        "c": 1.0,
        "penalty": "l2",
        "layers": {"__list__": [64, 32], "__class__": "builtins.tuple"},
        "__class__": f"{__name__}._LinearConfig",
    }


class _Lasso(NamedTuple):
    alpha: float = 1.0


class _Ridge(NamedTuple):
    alpha: float = 1.0


class _Sizes(list[int]):
    pass


def test_a_named_tuple_argument_is_recorded_with_its_class(store: LineageStore) -> None:
    """``fit(d, Ridge(1.0))`` after ``fit(d, Lasso(1.0))``: a NamedTuple config was recorded as
    its items alone, ``{"__list__": [1.0]}``, so the cached step returned Lasso's model."""

    @store.step("Fit", cache=True)
    def fit(data: Artifact, cfg: Any) -> Artifact:
        return Artifact(type="Model", uri=f"/{type(cfg).__name__}-{cfg}")

    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="d")
    lasso = fit(d, _Lasso())
    assert fit(d, _Ridge()).uri == "/_Ridge-_Ridge(alpha=1.0)"
    assert fit(d, (1.0,)).uri == "/tuple-(1.0,)"
    assert fit(d, _Sizes([1])).uri == "/_Sizes-[1]"
    assert fit(d, _Lasso(alpha=1.0)).id == lasso.id
    assert fit(d, (1.0,)).uri == "/tuple-(1.0,)"  # the plain tuple's own result
    recorded = [x.properties["cfg"] for x in store.get_executions_by_type("Fit")]
    assert recorded[:2] == [
        {"alpha": 1.0, "__class__": f"{__name__}._Lasso"},
        {"alpha": 1.0, "__class__": f"{__name__}._Ridge"},
    ]


def test_artifacts_a_returned_result_object_holds_are_outputs(store: LineageStore) -> None:
    """A step returning ``TrainResult(model=m, accuracy=0.9)`` (a dataclass or pydantic model):
    the model it held was never stored, the run COMPLETE with no output and ``result.model.id``
    None. They are outputs, under the attribute's name; such a call runs again each time."""

    @dataclasses.dataclass
    class TrainResult:
        model: Artifact
        accuracy: float
        extras: dict[str, Artifact] = dataclasses.field(default_factory=dict)

    calls: list[float] = []

    @store.step("Train", cache=True)
    def train(data: Artifact, c: float) -> TrainResult:
        calls.append(c)
        card = Artifact(type="ModelCard", uri=f"/card-{c}")
        return TrainResult(Artifact(type="Model", uri=f"/m-{c}"), 0.9, {"card": card})

    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="d")
    result = train(d, 0.5)
    assert result.model.id is not None and result.extras["card"].id is not None
    [run] = store.get_executions_by_type("Train")
    outputs = sorted(
        (e.artifact_id or 0, tuple(e.path))
        for e in store.get_events_by_execution_ids([run.id or 0])
        if e.type.is_output
    )
    assert outputs == [
        (result.model.id, ("return", "model")),
        (result.extras["card"].id, ("return", "extras", "card")),
    ]
    assert {a.id for a in store.downstream(d).artifacts} >= {result.model.id}
    assert train(d, 0.5).model.id != result.model.id  # not rebuilt from the store: it runs
    assert calls == [0.5, 0.5]


def test_artifacts_config_or_result_objects_hold_inside_lists_are_inputs_and_outputs(
    store: LineageStore,
) -> None:
    """``evaluate(jobs=[Job(d1), Job(d2)])`` returning ``[Result(m1), Result(m2)]``: objects in
    a list argument or return held artifacts no one recorded."""

    @dataclasses.dataclass
    class Job:
        data: Artifact

    @dataclasses.dataclass
    class Result:
        model: Artifact

    @store.step("Fan")
    def fan(jobs: list[Any]) -> list[Result]:
        return [Result(Artifact(type="Model", uri=f"/m-{j.data.uri}")) for j in jobs]

    with store.run("Ingest") as ingest:
        a = ingest.output("DataSet", uri="a")
        b = ingest.output("DataSet", uri="b")
    results = fan([Job(a), Job(b)])
    [run] = store.get_executions_by_type("Fan")
    events = store.get_events_by_execution_ids([run.id or 0])
    assert sorted((e.artifact_id or 0, tuple(e.path)) for e in events if not e.type.is_output) == [
        (a.id, ("jobs", 0)),
        (b.id, ("jobs", 1)),
    ]
    assert sorted((e.artifact_id or 0, tuple(e.path)) for e in events if e.type.is_output) == [
        (results[0].model.id, ("return", 0, "model")),
        (results[1].model.id, ("return", 1, "model")),
    ]


def test_a_step_over_a_classmethod_or_staticmethod_keeps_its_kind(store: LineageStore) -> None:
    """``@store.step`` written above ``@classmethod`` raised TypeError where the class was
    defined; above ``@staticmethod``, ``Loader().load(uri)`` passed the instance to it
    (TypeError: too many positional arguments)."""

    class Loader:
        @store.step(cache=True)  # type: ignore[arg-type]
        @classmethod
        def load(cls, uri: str) -> Artifact:
            return Artifact(type="DataSet", uri=uri)

        @store.step("Fetch", cache=True)  # type: ignore[arg-type]
        @staticmethod
        def fetch(uri: str) -> Artifact:
            return Artifact(type="DataSet", uri=f"{uri}-fetched")

        @store.step  # type: ignore[arg-type]
        @staticmethod
        def plain(uri: str) -> Artifact:
            return Artifact(type="DataSet", uri=f"{uri}-plain")

    first = Loader.load("a")
    assert Loader().load("a").id == first.id
    fetched = Loader().fetch("b")
    assert Loader.fetch("b").id == fetched.id and fetched.uri == "b-fetched"
    assert Loader().plain("c").uri == "c-plain"
    types = {x.type for x in store.get_executions()}
    assert types == {"Loader.load", "Fetch", "Loader.plain"}
    [load, *_] = store.get_executions_by_type("Loader.load")
    assert load.properties == {"uri": "a"}


def test_nested_pydantic_models_of_two_classes_are_two_settings(store: LineageStore) -> None:
    """``Cfg(opt=Adam())`` and ``Cfg(opt=SGD())`` (a config argument or a method's instance)
    dumped alike, ``{"opt": {"lr": 0.001}}``: the cached step returned Adam's model for SGD."""
    pydantic = pytest.importorskip("pydantic")

    class Adam(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        lr: float = 1e-3

    class SGD(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        lr: float = 1e-3

    class Cfg(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        opt: Any
        stages: list[Any] = []  # noqa: RUF012

    class Trainer(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        opt: Any

        @store.step(cache=True)
        def train(self, data: Artifact) -> Artifact:
            return Artifact(type="Model", uri=f"/t-{type(self.opt).__name__}")

    @store.step("Fit", cache=True)
    def fit(data: Artifact, cfg: Any) -> Artifact:
        return Artifact(type="Model", uri=f"/{type(cfg.opt).__name__}-{len(cfg.stages)}")

    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="d")
    assert fit(d, Cfg(opt=Adam())).uri == "/Adam-0"
    assert fit(d, Cfg(opt=SGD())).uri == "/SGD-0"
    assert fit(d, Cfg(opt=Adam(), stages=[SGD()])).id != fit(d, Cfg(opt=Adam(), stages=[Adam()])).id
    assert Trainer(opt=Adam()).train(d).uri == "/t-Adam"
    assert Trainer(opt=SGD()).train(d).uri == "/t-SGD"
    assert Trainer(opt=SGD()).train(d).uri == "/t-SGD"
    assert [x.last_known_state for x in store.get_executions_by_type("Trainer.train")] == [
        ExecutionState.COMPLETE,
        ExecutionState.COMPLETE,
        ExecutionState.CACHED,
    ]


@dataclasses.dataclass
class _OptimConfig:
    opt: tuple[float, ...]


def test_a_named_tuple_inside_a_recorded_argument_keeps_its_class(store: LineageStore) -> None:
    """``{"opt": Adam(1e-3)}`` then ``{"opt": SGD(1e-3)}`` (in a dict argument, a config object
    or a method's instance): both were recorded ``{"opt": [0.001]}``, one setting, and the
    cached step returned Adam's model for SGD."""

    class Adam(NamedTuple):
        lr: float = 1e-3

    class SGD(NamedTuple):
        lr: float = 1e-3

    @store.step("FitDict", cache=True)
    def fit_dict(data: Artifact, opts: dict[str, Any]) -> Artifact:
        return Artifact(type="Model", uri=f"/d-{type(opts['opt']).__name__}")

    @store.step("FitConfig", cache=True)
    def fit_config(data: Artifact, cfg: _OptimConfig) -> Artifact:
        return Artifact(type="Model", uri=f"/c-{type(cfg.opt).__name__}")

    @dataclasses.dataclass
    class Trainer:
        opt: tuple[float, ...]

        @store.step(cache=True)
        def fit(self, data: Artifact) -> Artifact:
            return Artifact(type="Model", uri=f"/t-{type(self.opt).__name__}")

    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="d")
    assert fit_dict(d, {"opt": Adam()}).uri == "/d-Adam"
    assert fit_dict(d, {"opt": SGD()}).uri == "/d-SGD"
    assert fit_config(d, _OptimConfig(Adam())).uri == "/c-Adam"
    assert fit_config(d, _OptimConfig(SGD())).uri == "/c-SGD"
    assert Trainer(Adam()).fit(d).uri == "/t-Adam"
    assert Trainer(SGD()).fit(d).uri == "/t-SGD"
    adam = fit_dict(d, {"opt": Adam()})
    assert adam.uri == "/d-Adam"
    assert store.get_executions_by_type("FitDict")[-1].last_known_state == ExecutionState.CACHED


def test_an_int_no_double_holds_is_never_recorded_as_a_nearby_double(
    store: LineageStore,
) -> None:
    """``2**53 + 1`` given where the step records a double: widened by the step it was recorded
    as ``2**53``, so a cached ``fit(d, 2**53)`` reused its result (and widened by the write it
    was refused: the call failed). It is kept exactly, as a custom property, and not looked up."""
    big = 2**53 + 1
    calls: list[object] = []

    @store.step(cache=True)
    def annotated(data: Artifact, lr: float) -> Artifact:  # a first call: nothing declared yet
        calls.append(lr)
        return Artifact(type="Model", uri=f"/a-{lr!r}")

    @store.step(cache=True)
    def plain(data: Artifact, lr) -> Artifact:  # type: ignore[no-untyped-def]
        calls.append(lr)
        return Artifact(type="Model", uri=f"/p-{lr!r}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    for fit in (annotated, plain):
        calls.clear()
        if fit is plain:
            fit(data, 0.5)  # declares lr DOUBLE first
        assert fit(data, big).uri.endswith(f"-{big!r}")
        assert fit(data, 2**53).uri.endswith(f"-{2**53!r}")  # another value: it runs
        fit(data, big)
        assert calls[-3:] == [big, 2**53, big]
        runs = store.get_executions_by_type(fit.__name__)
        with_big = [r for r in runs if r.custom_properties.get("lr") == big]
        assert len(with_big) == 2 and all("lr" not in r.properties for r in with_big)
        assert all(
            "'lr' recorded as custom properties (" in r.custom_properties["cache_skipped"]
            for r in with_big
        )
        assert all(r.last_known_state.name == "COMPLETE" for r in runs)


def test_a_decorator_property_is_not_an_argument_a_double_rounds_to_it(
    store: LineageStore,
) -> None:
    """``properties={"seed": 2**53}`` and a call given ``seed=2**53 + 1``: compared through
    float() the two were one value, the call recorded the decorator's seed and reused the run
    given ``2**53``."""
    calls: list[int] = []

    @store.step("Seeded", cache=True, properties={"seed": 2**53})
    def seeded(data: Artifact, seed: int = 0) -> Artifact:
        calls.append(seed)
        return Artifact(type="Model", uri=f"/s-{seed}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    seeded(data, seed=2**53)
    seeded(data, seed=2**53)
    seeded(data, seed=2**53 + 1)
    assert calls == [2**53, 2**53 + 1]


def test_a_decorator_zero_is_not_an_argument_of_negative_zero(store: LineageStore) -> None:
    """The lookup tells -0.0 from 0.0 (a double is stored as its exact text): a call given
    ``x=-0.0`` where the decorator says ``x=0.0`` was taken as the decorator's value, and reused
    the run of ``x=0.0``."""
    calls: list[float] = []

    @store.step("Signed", cache=True, properties={"x": 0.0})
    def signed(data: Artifact, x: float = 0.0) -> Artifact:
        calls.append(x)
        return Artifact(type="Model", uri=f"/x-{x}")

    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    signed(data)
    signed(data, x=0.0)
    assert signed(data, x=-0.0).uri == "/x--0.0"
    assert [repr(c) for c in calls] == ["0.0", "-0.0"]


def test_a_property_another_writer_declares_during_the_lookup_must_be_unset(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup reads the type, then asks for a run whose properties the call does not set
    are unset. Another writer (newer code of the step) declaring ``sched`` and recording a run
    with it in between: the run, which sets no ``sched``, was given that run as its hit."""
    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/data")
    with store.run("Fit", inputs={"data": data}, properties={"lr": 0.1}) as first:
        first.output("Model", uri="/m")
    read_type = store.get_execution_type
    raced: list[int] = []

    def racing(name: str, version: str | None = None) -> ExecutionType:
        found = read_type(name, version)
        if name == "Fit" and not raced:  # recorded between this read and the lookup
            raced.append(0)
            with store.run(
                "Fit", inputs={"data": data}, properties={"lr": 0.1, "sched": "cosine"}
            ) as newer:
                newer.output("Model", uri="/cosine")
            raced[0] = newer.id
        return found

    monkeypatch.setattr(store, "get_execution_type", racing)
    with store.run("Fit", inputs={"data": data}, properties={"lr": 0.1}, cache=True) as run:
        assert raced and run.cached is not None
        assert run.cached.execution.id == first.id  # not the newer run (sched="cosine")
        run.use_cached()
