"""A step or run returning one of its own inputs (a pass-through, a selection) passes it on: the
artifact is not its output, so the lineage graph has no cycle and its producer stays the run
that made it."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import Artifact, EventType, ExecutionState, LineageStore
from lineage_graph.exceptions import InvalidArgumentError
from lineage_graph.mlmd import MetadataStore
from lineage_graph.models import Event, Execution, ExecutionType
from lineage_graph.pipeline import RETURN_SHAPE_PROPERTY, RETURNED_INPUTS_PROPERTY


def _ingest(store: LineageStore, uri: str = "/data") -> Artifact:
    with store.run("Ingest") as run:
        return run.output("DataSet", uri=uri)


def test_a_step_returning_its_input_records_it_as_an_input_only(store: LineageStore) -> None:
    data = _ingest(store)

    @store.step("Check")
    def check(ds: Artifact) -> Artifact:
        return ds

    assert check(data) is data
    [execution] = store.get_executions_by_type("Check")
    assert execution.last_known_state == ExecutionState.COMPLETE
    events = store.get_events_by_execution_ids([execution.id or 0])
    assert [(e.type, e.artifact_id, e.path) for e in events] == [(EventType.INPUT, data.id, ["ds"])]
    assert execution.custom_properties[RETURNED_INPUTS_PROPERTY]["artifact_ids"] == [data.id]
    # where did it come from: the ingest alone, not the check that read it
    upstream = store.upstream(data)
    assert [x.type for x in upstream.executions] == ["Ingest"]
    downstream = store.downstream(data)
    assert [x.type for x in downstream.executions] == ["Check"]


def _events(store: LineageStore, execution_id: int | None) -> list[tuple[EventType, int, list]]:
    return sorted(
        (e.type, e.artifact_id or 0, list(e.path))
        for e in store.get_events_by_execution_ids([execution_id or 0])
    )


def test_a_returned_input_beside_a_new_output_and_its_cached_call(store: LineageStore) -> None:
    data = _ingest(store)
    calls: list[int] = []

    @store.step("Split", cache=True)
    def split(ds: Artifact) -> tuple[Artifact, Artifact]:
        calls.append(1)
        return ds, Artifact(type="DataSet", uri=f"/test-{len(calls)}")

    first = split(data)
    assert first[0] is data and first[1].id is not None
    [execution] = store.get_executions_by_type("Split")
    outputs = [
        e.artifact_id
        for e in store.get_events_by_execution_ids([execution.id or 0])
        if e.type == EventType.OUTPUT
    ]
    assert outputs == [first[1].id]
    # A later identical call is a hit: the new output from the store, the input passed on
    # from this call's own inputs (the function is not run again).
    second = split(data)
    assert len(calls) == 1
    assert isinstance(second, tuple) and second[0] is data and second[1].id == first[1].id
    cached = store.get_executions_by_type("Split")[1]
    assert cached.last_known_state == ExecutionState.CACHED
    assert _events(store, cached.id) == sorted(
        [
            (EventType.INPUT, data.id or 0, ["ds"]),
            (EventType.OUTPUT, first[1].id or 0, ["return", 1]),
        ]
    )
    assert cached.custom_properties[RETURNED_INPUTS_PROPERTY]["artifact_ids"] == [data.id]
    # a store.run of that type on that input is a hit, whose outputs are not its input
    with store.run("Split", inputs={"ds": data}) as run:
        assert run.cached is not None
        assert data.id not in [a.id for a in run.cached.outputs]
        run.use_cached()
    assert data.id not in [a.id for a in run.outputs]
    # and the step's next call, whose newest hit that run is, is a hit still (it ran again)
    third = split(data)
    assert len(calls) == 1 and third[0] is data and third[1].id == first[1].id


def test_a_cached_pass_through_is_a_hit_with_no_output_on_its_input(
    store: LineageStore,
) -> None:
    """``validate(ds) -> ds`` with cache=True: a hit again (it ran each time), and the CACHED
    execution, as MLMD reads it, has its INPUT event alone."""
    data = _ingest(store)
    calls: list[int] = []

    @store.step("Validate", cache=True)
    def validate(ds: Artifact) -> Artifact:
        calls.append(1)
        return ds

    assert validate(data) is data
    assert validate(data) is data
    assert validate(ds=data) is data  # (a keyword argument is the same input)
    assert len(calls) == 1
    first, *cached = store.get_executions_by_type("Validate")
    assert [x.last_known_state for x in cached] == [ExecutionState.CACHED] * 2
    for execution in cached:
        assert execution.custom_properties[RETURNED_INPUTS_PROPERTY] == {
            "artifact_ids": [data.id],
            "shape": "single",
            "passed": [{"at": ["return"], "input": ["ds"], "id": data.id}],
        }
    mlmd = MetadataStore(store)
    events = mlmd.get_events_by_execution_ids([x.id or 0 for x in cached])
    assert sorted((e.execution_id, e.type, e.artifact_id) for e in events) == [
        (x.id, pb.Event.INPUT, data.id) for x in cached
    ]
    producers = {
        e.execution_id
        for e in mlmd.get_events_by_artifact_ids([data.id or 0])
        if e.type == pb.Event.OUTPUT
    }
    assert len(producers) == 1 and producers.isdisjoint({first.id, *(x.id for x in cached)})


def test_a_cached_selection_returns_this_calls_artifact(store: LineageStore) -> None:
    """A selection from a list argument (and a keyword argument, beside a new output in a
    dict): a hit returns the input at the path it was read under, this call's own object."""
    models = []
    for i in range(3):
        with store.run("Trainer") as run:
            models.append(run.output("Model", uri=f"/m{i}"))
    calls: list[int] = []

    @store.step("Select", cache=True)
    def select(candidates: list[Artifact], *, baseline: Artifact) -> dict[str, Artifact]:
        calls.append(1)
        return {
            "best": candidates[1],
            "baseline": baseline,
            "report": Artifact(type="Report", uri=f"/r{len(calls)}"),
        }

    data = _ingest(store)
    first = select(models, baseline=data)
    assert first["best"] is models[1] and first["baseline"] is data
    again = [Artifact(id=m.id) for m in models]  # other objects for the same artifacts
    second = select(again, baseline=data)
    assert len(calls) == 1
    assert second["best"] is again[1] and second["baseline"] is data
    assert second["report"].id == first["report"].id
    [_, cached] = store.get_executions_by_type("Select")
    assert cached.last_known_state == ExecutionState.CACHED
    assert [e for e in _events(store, cached.id) if e[0] == EventType.OUTPUT] == [
        (EventType.OUTPUT, first["report"].id or 0, ["return", "report"])
    ]


def test_a_cached_pass_through_of_keyword_arguments_and_an_async_step(
    store: LineageStore,
) -> None:
    """An input given in ``**kwargs`` (read under its keyword) and an ``async`` step's
    pass-through are hits too, returning the caller's objects."""
    data, other = _ingest(store, "/d"), _ingest(store, "/o")
    calls: list[str] = []

    @store.step("Route", cache=True)
    def route(**datasets: Artifact) -> list[Artifact]:
        calls.append("route")
        return [datasets["second"], datasets["first"]]

    @store.step("Check", cache=True)
    async def check(ds: Artifact) -> Artifact:
        calls.append("check")
        return ds

    assert route(first=data, second=other) == [other, data]
    again = route(first=Artifact(id=data.id), second=other)
    assert isinstance(again, list) and again[0] is other and again[1].id == data.id
    assert asyncio.run(check(data)) is data
    assert asyncio.run(check(ds=data)) is data
    assert calls == ["route", "check"]
    [_, cached] = store.get_executions_by_type("Route")
    assert cached.last_known_state == ExecutionState.CACHED
    assert [e[0] for e in _events(store, cached.id)] == [EventType.INPUT] * 2


def test_a_hit_on_a_same_content_copy_returns_the_callers_artifact(
    store: LineageStore,
) -> None:
    """The cache matches inputs by content: the hit read a copy (same digest, another id); the
    caller gets back the artifact it passed, not the copy, and the cached run reads its own."""
    with store.run("Ingest") as run:
        a = run.output("DataSet", uri="/a", custom_properties={"digest": "sha256:1"})
    with store.run("Ingest") as run:
        b = run.output("DataSet", uri="/b", custom_properties={"digest": "sha256:1"})
    calls: list[int] = []

    @store.step("Validate", cache=True)
    def validate(ds: Artifact) -> Artifact:
        calls.append(1)
        return ds

    assert validate(a) is a
    assert validate(b) is b
    assert len(calls) == 1
    [_, cached] = store.get_executions_by_type("Validate")
    assert cached.last_known_state == ExecutionState.CACHED
    assert _events(store, cached.id) == [(EventType.INPUT, b.id or 0, ["ds"])]
    assert cached.custom_properties[RETURNED_INPUTS_PROPERTY]["passed"] == [
        {"at": ["return"], "input": ["ds"], "id": b.id}
    ]
    # a hit on that CACHED execution (a third copy) passes on the third
    with store.run("Ingest") as run:
        c = run.output("DataSet", uri="/c", custom_properties={"digest": "sha256:1"})
    assert validate(c) is c and len(calls) == 1


def test_a_selection_from_a_reordered_list_is_no_hit(store: LineageStore) -> None:
    """An input's place in its list is its role (event path ``[key, i]``): ``pick([b, a])`` is
    no hit on ``pick([a, b])``, so the position a hit passes on is the one the call read."""
    with store.run("Trainer") as run:
        a = run.output("Model", uri="/a")
    with store.run("Trainer") as run:
        b = run.output("Model", uri="/b")
    calls: list[int] = []

    @store.step("Pick", cache=True)
    def pick(models: list[Artifact]) -> Artifact:
        calls.append(1)
        return next(m for m in models if m.uri == "/b")

    assert pick([a, b]) is b
    assert pick([b, a]) is b and len(calls) == 2
    assert pick([b, a]) is b and pick([a, b]) is b and len(calls) == 2


def test_an_earlier_value_shape_runs_again(store: LineageStore) -> None:
    """An execution recorded before a passed-on input could be rebuilt (shape "value", its
    returned_inputs naming ids alone) is no usable hit: the call runs, nothing fails."""
    data = _ingest(store)
    with store.run(
        "Validate",
        inputs={"ds": data},
        custom_properties={
            RETURN_SHAPE_PROPERTY: "value",
            RETURNED_INPUTS_PROPERTY: {"artifact_ids": [data.id]},
        },
    ):
        pass
    calls: list[int] = []

    @store.step("Validate", cache=True)
    def validate(ds: Artifact) -> Artifact:
        calls.append(1)
        return ds

    assert validate(data) is data and len(calls) == 1
    assert validate(data) is data and len(calls) == 1  # (the new record is a hit)
    states = [x.last_known_state for x in store.get_executions_by_type("Validate")]
    assert states == [ExecutionState.COMPLETE, ExecutionState.COMPLETE, ExecutionState.CACHED]


def test_a_hit_recorded_with_an_output_on_its_input_passes_on_the_callers(
    store: LineageStore,
) -> None:
    """An earlier version recorded a returned input as an OUTPUT too (shape "single"): a hit on
    it returned the hit's artifact (a same-content copy when paired by digest) and recorded an
    OUTPUT on it. It returns the caller's input now; the CACHED run has no OUTPUT on it."""
    with store.run("Ingest") as run:
        a = run.output("DataSet", uri="/a", custom_properties={"digest": "sha256:1"})
    with store.run("Ingest") as run:
        b = run.output("DataSet", uri="/b", custom_properties={"digest": "sha256:1"})
    store.put_execution_type(ExecutionType(name="Validate"))
    old, _, _ = store.put_execution(
        Execution(
            type="Validate",
            last_known_state=ExecutionState.COMPLETE,
            custom_properties={RETURN_SHAPE_PROPERTY: "single"},
        ),
        [
            (a, Event(type=EventType.INPUT, path=["ds"])),
            (a, Event(type=EventType.OUTPUT, path=["return"])),
        ],
    )
    calls: list[int] = []

    @store.step("Validate", cache=True)
    def validate(ds: Artifact) -> Artifact:
        calls.append(1)
        return ds

    assert validate(b) is b
    assert validate(a) is a
    assert calls == []
    cached = store.get_executions_by_type("Validate")[1:]
    assert [x.last_known_state for x in cached] == [ExecutionState.CACHED] * 2
    assert _events(store, cached[0].id) == [(EventType.INPUT, b.id or 0, ["ds"])]
    assert _events(store, cached[1].id) == [(EventType.INPUT, a.id or 0, ["ds"])]
    assert cached[0].custom_properties[RETURNED_INPUTS_PROPERTY]["passed"] == [
        {"at": ["return"], "input": ["ds"], "id": b.id}
    ]
    producers = {
        e.execution_id
        for e in store.get_events_by_artifact_ids([a.id or 0, b.id or 0])
        if e.type == EventType.OUTPUT
    }
    assert producers.isdisjoint({x.id for x in cached}) and old in producers


def test_a_new_output_with_its_inputs_content_stays_an_output_on_a_hit(
    store: LineageStore,
) -> None:
    """A copy step's output has its input's digest: it is no input passed on (it was made)."""
    with store.run("Ingest") as run:
        data = run.output("DataSet", uri="/a", custom_properties={"digest": "sha256:1"})
    calls: list[int] = []

    @store.step("Copy", cache=True)
    def copy(ds: Artifact) -> Artifact:
        calls.append(1)
        return Artifact(type="DataSet", uri="/copy", custom_properties={"digest": "sha256:1"})

    made = copy(data)
    again = copy(data)
    assert calls == [1] and again.id == made.id != data.id
    cached = store.get_executions_by_type("Copy")[1]
    assert _events(store, cached.id) == [
        (EventType.INPUT, data.id or 0, ["ds"]),
        (EventType.OUTPUT, made.id or 0, ["return"]),
    ]
    assert RETURNED_INPUTS_PROPERTY not in cached.custom_properties


def test_an_input_returned_beside_other_values_runs_again(store: LineageStore) -> None:
    """A return a hit cannot rebuild (a value beside the input, a result object holding it):
    the call runs each time, and ``returned_inputs`` names the input alone."""
    data = _ingest(store)
    calls: list[int] = []

    @dataclasses.dataclass
    class Checked:
        data: Artifact
        ok: bool

    @store.step("Score", cache=True)
    def score(ds: Artifact) -> tuple[Artifact, float]:
        calls.append(1)
        return ds, 0.9

    @store.step("Wrap", cache=True)
    def wrap(ds: Artifact) -> Checked:
        calls.append(1)
        return Checked(ds, True)

    for _ in range(2):
        assert score(data)[0] is data and wrap(data).data is data
    assert len(calls) == 4
    for name in ("Score", "Wrap"):
        for execution in store.get_executions_by_type(name):
            assert execution.last_known_state == ExecutionState.COMPLETE
            assert execution.custom_properties[RETURNED_INPUTS_PROPERTY] == {
                "artifact_ids": [data.id]
            }


@pytest.mark.parametrize(
    "passed",
    [
        [{"at": ["return", "x"], "input": ["ds"], "id": 1}],
        [{"at": ["return", 0], "input": [["ds"]], "id": 1}],
        [{"at": ["return", 0], "input": ["other"], "id": 1}],
        ["ds"],
    ],
)
def test_a_returned_inputs_record_edited_by_hand_runs_the_call(
    store: LineageStore, passed: list[object]
) -> None:
    """Markers that name no part of the return or no input of the call are no hit: it runs."""
    data = _ingest(store)
    with store.run(
        "Keep",
        inputs={"ds": data},
        custom_properties={
            RETURN_SHAPE_PROPERTY: "value",
            RETURNED_INPUTS_PROPERTY: {"artifact_ids": [1], "shape": "tuple", "passed": passed},
        },
    ):
        pass
    calls: list[int] = []

    @store.step("Keep", cache=True)
    def keep(ds: Artifact) -> tuple[Artifact]:
        calls.append(1)
        return (ds,)

    assert keep(data) == (data,) and len(calls) == 1


def test_a_selection_step_leaves_no_cycle_for_the_mlmd_adapter(store: LineageStore) -> None:
    models, trainers = [], []
    for i in range(3):
        with store.run("Trainer") as run:
            models.append(run.output("Model", uri=f"/m{i}"))
        trainers.append(run.id)

    @store.step("Select")
    def select(candidates: list[Artifact]) -> Artifact:
        return candidates[1]

    assert select(models).id == models[1].id
    [chosen] = store.get_executions_by_type("Select")
    mlmd = MetadataStore(store)
    events = mlmd.get_events_by_artifact_ids([models[1].id or 0])
    assert {(e.execution_id, e.type) for e in events} == {
        (chosen.id, pb.Event.INPUT),
        (trainers[1], pb.Event.OUTPUT),
    }
    events = mlmd.get_events_by_execution_ids([chosen.id or 0])
    assert {e.type for e in events} == {pb.Event.INPUT}
    options = pb.LineageSubgraphQueryOptions(
        starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(filter_query="uri = '/m1'"),
        max_num_hops=4,
        direction=pb.LineageSubgraphQueryOptions.UPSTREAM,
    )
    graph = mlmd.get_lineage_subgraph(options)
    assert [x.id for x in graph.executions] == [trainers[1]]
    assert all(e.execution_id != chosen.id for e in graph.events)


def test_a_run_declaring_its_input_as_output_is_refused(store: LineageStore) -> None:
    data = _ingest(store)
    with store.run("Rewrite", inputs=[data]) as run:
        with pytest.raises(InvalidArgumentError, match="is an input of this run"):
            run.output(data)
        with pytest.raises(InvalidArgumentError, match="is an input of this run"):
            run.output(data.id or 0)
        new = run.output("DataSet", uri="/data-v2")
    assert run.state == ExecutionState.COMPLETE
    assert [a.id for a in run.outputs] == [new.id]
    producers = [
        e.execution_id
        for e in store.get_events_by_artifact_ids([data.id or 0])
        if e.type == EventType.OUTPUT
    ]
    assert len(producers) == 1 and producers[0] != run.id


def test_a_new_artifact_given_and_returned_is_still_the_steps_output(store: LineageStore) -> None:
    """An artifact the call's own entry stored (a target the step writes to) has no other
    origin: returned, it stays the step's output (its producer), as before."""

    @store.step("Export")
    def export(target: Artifact) -> Artifact:
        return target

    target = export(Artifact(type="Export", uri="/out"))
    [execution] = store.get_executions_by_type("Export")
    events = store.get_events_by_execution_ids([execution.id or 0])
    assert sorted((e.type, e.artifact_id) for e in events) == [
        (EventType.INPUT, target.id),
        (EventType.OUTPUT, target.id),
    ]
    assert RETURNED_INPUTS_PROPERTY not in execution.custom_properties


def test_a_new_artifact_declaring_an_input_again_is_that_input(store: LineageStore) -> None:
    """A returned (or declared) new artifact whose name is a stored input's, with its content,
    is that input (get-or-create): passed on by a step, refused by ``run.output``."""
    with store.run("Ingest") as run:
        data = run.output("DataSet", name="train", uri="/t")

    @store.step("Reload")
    def reload(ds: Artifact) -> Artifact:
        return Artifact(type="DataSet", name="train", uri="/t")

    reload(data)
    [execution] = store.get_executions_by_type("Reload")
    events = store.get_events_by_execution_ids([execution.id or 0])
    assert [(e.type, e.artifact_id) for e in events] == [(EventType.INPUT, data.id)]
    assert execution.custom_properties[RETURNED_INPUTS_PROPERTY]["artifact_ids"] == [data.id]
    with (
        store.run("Again", inputs=[data]) as again,
        pytest.raises(InvalidArgumentError, match="is an input of this run"),
    ):
        again.output("DataSet", name="train", uri="/t")
    assert again.state == ExecutionState.COMPLETE and again.outputs == []


def test_a_new_artifact_returned_as_an_input_again_is_that_stored_input(
    store: LineageStore,
) -> None:
    """The returned new artifact that is (get-or-create) one of the step's inputs becomes that
    stored input, as a new output declared again becomes its stored twin at once: the call
    returned it never stored (id None, state UNKNOWN), while its cache hit returned the input."""
    with store.run("Ingest") as run:
        data = run.output("DataSet", name="train", uri="/t")

    @store.step("Reload", cache=True)
    def reload(ds: Artifact) -> Artifact:
        return Artifact(type="DataSet", name="train", uri="/t")

    first = reload(data)
    assert (first.id, first.state, first.uri) == (data.id, data.state, "/t")
    assert first.type_id == data.type_id
    hit = reload(data)
    assert hit is data
    assert [e.last_known_state for e in store.get_executions_by_type("Reload")] == [
        ExecutionState.COMPLETE,
        ExecutionState.CACHED,
    ]


@pytest.mark.parametrize("shape", ["single", "tuple"])
def test_a_run_taking_an_earlier_versions_pass_through_hit_by_hand_is_a_hit_for_the_step(
    store: LineageStore, shape: str
) -> None:
    """``store.run(...)`` + ``use_cached()`` on a hit recorded by an earlier version with an
    ``OUTPUT`` on its returned input: that input is left out of the run's outputs, and the run
    kept the hit's return shape, so the step's next call hit it and returned a return without
    it (``None``, ``()``) without running. It names the input it passed on, as a step does."""
    data = _ingest(store)
    store.put_execution_type(ExecutionType(name="Validate"))
    store.put_execution(
        Execution(
            type="Validate",
            last_known_state=ExecutionState.COMPLETE,
            custom_properties={RETURN_SHAPE_PROPERTY: shape},
        ),
        [
            (data, Event(type=EventType.INPUT, path=["ds"])),
            (
                data,
                Event(type=EventType.OUTPUT, path=["return"] + ([0] if shape == "tuple" else [])),
            ),
        ],
    )
    with store.run("Validate", inputs={"ds": data}) as run:
        run.use_cached()
    assert run.state == ExecutionState.CACHED and run.outputs == []
    assert _events(store, run.id) == [(EventType.INPUT, data.id or 0, ["ds"])]
    calls: list[int] = []

    @store.step("Validate", cache=True)
    def validate(ds: Artifact) -> Artifact | tuple[Artifact]:
        calls.append(1)
        return ds if shape == "single" else (ds,)

    got = validate(data)
    assert got == (data if shape == "single" else (data,)) and calls == []
    assert run.execution is not None
    assert run.execution.custom_properties[RETURNED_INPUTS_PROPERTY]["artifact_ids"] == [data.id]


def test_a_hit_that_lost_a_part_of_its_return_runs_the_call(store: LineageStore) -> None:
    """A record whose return shape holds a part it has no output for (a run that took by hand
    a pass-through hit and left its input out kept the shape ``"single"`` or ``"tuple"``) is
    no hit: the step returned ``None`` or a tuple short of its first part, never running."""
    data = _ingest(store)
    with store.run("Ingest") as run:
        other = run.output("DataSet", uri="/other")
    for type_name, shape, held in (("Keep", "single", []), ("Pair", "tuple", [1])):
        store.put_execution_type(ExecutionType(name=type_name))
        store.put_execution(
            Execution(
                type=type_name,
                last_known_state=ExecutionState.CACHED,
                custom_properties={RETURN_SHAPE_PROPERTY: shape},
            ),
            [(data, Event(type=EventType.INPUT, path=["ds"]))]
            + [(other, Event(type=EventType.OUTPUT, path=["return", i])) for i in held],
        )
    calls: list[int] = []

    @store.step("Keep", cache=True)
    def keep(ds: Artifact) -> Artifact:
        calls.append(1)
        return ds

    @store.step("Pair", cache=True)
    def pair(ds: Artifact) -> tuple[Artifact, Artifact]:
        calls.append(1)
        return ds, Artifact(type="DataSet", uri="/pair")

    assert keep(data) is data
    assert pair(data)[0] is data
    assert len(calls) == 2
