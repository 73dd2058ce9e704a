"""A step or run returning one of its own inputs (a pass-through, a selection) passes it on: the
artifact is not its output, so the lineage graph has no cycle and its producer stays the run
that made it."""

from __future__ import annotations

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import Artifact, EventType, ExecutionState, LineageStore
from lineage_graph.exceptions import InvalidArgumentError
from lineage_graph.mlmd import MetadataStore
from lineage_graph.pipeline import RETURNED_INPUTS_PROPERTY


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
    assert execution.custom_properties[RETURNED_INPUTS_PROPERTY] == {"artifact_ids": [data.id]}
    # where did it come from: the ingest alone, not the check that read it
    upstream = store.upstream(data)
    assert [x.type for x in upstream.executions] == ["Ingest"]
    downstream = store.downstream(data)
    assert [x.type for x in downstream.executions] == ["Check"]


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
    # A later identical call cannot rebuild the return from the stored outputs (the input is
    # not one of them): it runs, and returns what the function returns.
    second = split(data)
    assert len(calls) == 2 and second[0] is data
    assert [x.last_known_state for x in store.get_executions_by_type("Split")] == [
        ExecutionState.COMPLETE,
        ExecutionState.COMPLETE,
    ]
    # a store.run of that type on that input is a hit, whose outputs are not its input
    with store.run("Split", inputs={"ds": data}) as run:
        assert run.cached is not None
        assert data.id not in [a.id for a in run.cached.outputs]
        run.use_cached()
    assert data.id not in [a.id for a in run.outputs]


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
    assert execution.custom_properties[RETURNED_INPUTS_PROPERTY] == {"artifact_ids": [data.id]}
    with (
        store.run("Again", inputs=[data]) as again,
        pytest.raises(InvalidArgumentError, match="is an input of this run"),
    ):
        again.output("DataSet", name="train", uri="/t")
    assert again.state == ExecutionState.COMPLETE and again.outputs == []
