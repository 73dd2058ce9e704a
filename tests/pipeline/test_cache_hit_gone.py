"""A cache hit whose outputs are deleted or tombstoned between the lookup and the run's exit."""

from __future__ import annotations

import pytest

from lineage_graph import Artifact, ArtifactState, EventType, ExecutionState, LineageStore, NodeKind
from lineage_graph.exceptions import FailedPreconditionError


def _trained(store: LineageStore) -> tuple[Artifact, Artifact]:
    with store.run("Ingest") as ingest:
        data = ingest.output("DataSet", uri="/d")
    with store.run("Train", inputs=[data]) as first:
        model = first.output("Model", uri="/m")
    return data, model


@pytest.mark.parametrize("taken_first", [False, True])
def test_a_hit_tombstoned_by_retention_before_the_exit_fails_the_run(
    store: LineageStore, taken_first: bool
) -> None:
    """Retention tombstoning the hit's model while the run was open: the run was recorded
    ``CACHED`` with the ``DELETED`` model as its output, and ``use_cached()`` had handed the
    caller the stale copy (``uri="/m"``, ``LIVE``) as its result, no error."""
    data, model = _trained(store)
    gone = r"output\(s\) \[\d+\].*deleted, tombst"
    with (
        pytest.raises(FailedPreconditionError, match=gone),
        store.run("Train", inputs=[data]) as run,
    ):
        assert run.cached is not None and run.cached.outputs[0].id == model.id
        if taken_first:
            run.use_cached()
        plan = store.plan_retention(kinds=[NodeKind.ARTIFACT], types=["Model"])
        assert store.apply_retention(plan).tombstoned_artifacts == (model.id,)
        if not taken_first:
            run.use_cached()
    [failed] = store.get_executions_by_id([run.id])
    assert failed.last_known_state == ExecutionState.FAILED
    assert failed.custom_properties["error_type"] == "FailedPreconditionError"
    events = store.get_events_by_execution_ids([run.id])
    assert [e.type for e in events] == [EventType.INPUT]  # the tombstone is no output of it


def test_a_hit_marked_for_deletion_before_the_exit_fails_the_run(store: LineageStore) -> None:
    data, model = _trained(store)
    gone = "its results are gone"
    with (
        pytest.raises(FailedPreconditionError, match=gone),
        store.run("Train", inputs=[data]) as run,
    ):
        run.use_cached()
        store.put_artifacts([model.model_copy(update={"state": ArtifactState.MARKED_FOR_DELETION})])
    assert store.get_executions_by_id([run.id])[0].last_known_state == ExecutionState.FAILED
    # the next run is no hit (its only match has an unusable output): it runs
    with store.run("Train", inputs=[data]) as again:
        assert again.cached is None
        again.output("Model", uri="/m2")


def test_a_hit_still_stored_is_taken(store: LineageStore) -> None:
    data, model = _trained(store)
    with store.run("Train", inputs=[data]) as run:
        assert [a.id for a in run.use_cached()] == [model.id]
    assert run.execution is not None and run.execution.last_known_state == ExecutionState.CACHED
    assert [a.id for a in run.outputs] == [model.id]
