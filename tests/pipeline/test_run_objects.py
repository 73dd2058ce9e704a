"""A run as a Python object: what introspection reads of the pipeline API, and a copy refused.

The pipeline API lives in a package of private modules (a run's entry, end, outputs, ... are its
collaborators); these are what that layout could have changed for a caller.
"""

from __future__ import annotations

import copy
import inspect
import typing

import pytest

from lineage_graph import Artifact, ExecutionState, LineageStore, pipeline
from lineage_graph.pipeline import CacheHit, Run, current_run


def test_the_public_names_resolve_their_annotations() -> None:
    # current_run's return names the class it answers (a NameError when the function lived
    # apart from Run, importing it for type checkers only).
    assert typing.get_type_hints(current_run) == {"return": Run | None}
    hints = typing.get_type_hints(CacheHit)
    assert hints["execution"] is pipeline.Execution
    for name in pipeline.__all__:
        obj = getattr(pipeline, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):  # not the type aliases
            assert obj.__module__ == "lineage_graph.pipeline", name


def test_a_copy_of_a_run_is_refused_and_the_run_goes_on(store: LineageStore) -> None:
    # A shallow copy shares the run's parts (its entry, end, outputs), which act on the
    # original: starting the copy started the original and left it RUNNING for ever.
    run = store.run("Trainer")
    with pytest.raises(TypeError, match="a Run cannot be copied"):
        copy.copy(run)
    assert run.state == ExecutionState.NEW
    with run:
        assert current_run() is run
        model = run.output(Artifact(type="Model", uri="s3://m/1"))
    assert run.state == ExecutionState.COMPLETE
    assert model.id is not None
    assert store.get_executions_by_id([run.id])[0].last_known_state == ExecutionState.COMPLETE
