"""A run as a Python object: what introspection reads of the pipeline API, and a copy refused.

The pipeline API lives in a package of private modules (a run's entry, end, outputs, ... are its
collaborators); these are what that layout could have changed for a caller.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import gc
import inspect
import threading
import typing
import weakref
from pathlib import Path

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


# A run is freed as soon as its caller drops it: it is in no reference cycle (its collaborators,
# each holding the run, are made when asked for), so a finished run, with its store, inputs,
# outputs and error, does not wait for the cyclic collector. The collector is off in these tests.
#
# A failed run keeps its error (run.error), whose traceback keeps the frames the error went
# through: a frame of the caller's that ended holding the run (``with store.run(...) as r`` in a
# function the error left) makes a cycle, as for any object keeping an exception, that is not
# the run's to break (the traceback is the caller's). The step's own frame does not hold it.


#: The runs alive before the test, which are not the test's: earlier tests may leave some as
#: their thread's current run (a ``finish()`` cut short by Ctrl-C before its end let go of it).
_EARLIER: list[weakref.ref[Run]] = []


@pytest.fixture
def collector_off(collector_off: None) -> None:
    """tests/conftest.py's, and the runs alive then noted (:data:`_EARLIER`)."""
    _EARLIER[:] = [weakref.ref(o) for o in gc.get_objects() if isinstance(o, Run)]


def _runs_alive() -> int:
    """The runs alive that this test made (not :data:`_EARLIER`'s)."""
    earlier = {id(run) for run in (ref() for ref in _EARLIER) if run is not None}
    return sum(isinstance(o, Run) and id(o) not in earlier for o in gc.get_objects())


@pytest.mark.parametrize("where", ["memory", "directory"])
def test_a_dropped_run_is_freed_without_the_cyclic_collector(
    tmp_path: Path, where: str, collector_off: None
) -> None:
    with LineageStore.open("memory" if where == "memory" else tmp_path / "store") as store:
        with store.run("Trainer", inputs=[Artifact(type="Data", uri="s3://d")]) as run:
            run.output(Artifact(type="Model", uri="s3://m/1"))
            run.log_metrics(accuracy=0.9)
        assert run.state == ExecutionState.COMPLETE
        gone = weakref.ref(run)
        del run
        assert gone() is None, "the run waits for the cyclic collector"


def test_a_failed_run_is_freed_while_its_error_is_kept(
    store: LineageStore, collector_off: None
) -> None:
    with pytest.raises(ValueError, match="diverged") as caught, store.run("Trainer") as run:
        run.output(Artifact(type="Model", uri="s3://m/1"))
        raise ValueError("diverged")
    assert run.state == ExecutionState.FAILED
    assert run.error is caught.value
    gone = weakref.ref(run)
    del run
    assert gone() is None, "the failed run waits for the cyclic collector"
    assert caught.value.__traceback__ is not None  # (the caller's error is left whole)


def test_a_run_failed_by_hand_is_freed(store: LineageStore, collector_off: None) -> None:
    for error in (ValueError("no data"), "no data"):
        run = store.run("Trainer").start()
        run.fail(error)
        assert run.state == ExecutionState.FAILED
        gone = weakref.ref(run)
        del run
        assert gone() is None, f"the run failed with {error!r} waits for the cyclic collector"


def test_a_run_started_and_finished_by_hand_is_freed(
    store: LineageStore, collector_off: None
) -> None:
    run = store.run("Trainer")
    run.start()
    assert current_run() is run
    run.output(Artifact(type="Model", uri="s3://m/1"))
    run.finish()
    assert current_run() is None
    gone = weakref.ref(run)
    del run
    assert gone() is None, "the run waits for the cyclic collector"


def test_an_async_run_is_freed(store: LineageStore, collector_off: None) -> None:
    async def record(fail: bool) -> weakref.ref[Run]:
        async with store.run("Trainer") as run:
            run.output(Artifact(type="Model", uri=f"s3://m/{fail}"))
            gone = weakref.ref(run)
            del run  # (this frame, kept by the error's traceback, does not hold the run)
            if fail:
                raise ValueError("diverged")
        return gone

    gone = asyncio.run(record(False))
    assert gone() is None, "the async run waits for the cyclic collector"
    with pytest.raises(ValueError, match="diverged") as caught:
        asyncio.run(record(True))
    assert _runs_alive() == 0, "the failed async run waits for the cyclic collector"
    del caught


def test_a_cache_hit_run_is_freed(store: LineageStore, collector_off: None) -> None:
    data = Artifact(type="Data", uri="s3://d")
    with store.run("Trainer", inputs=[data]) as first:
        first.output(Artifact(type="Model", uri="s3://m/1"))
    del first
    with store.run("Trainer", inputs=[data]) as run:
        assert run.cached is not None
        run.use_cached()
    assert run.state == ExecutionState.CACHED
    gone = weakref.ref(run)
    del run
    assert gone() is None, "the cache hit's run waits for the cyclic collector"


def test_a_step_leaves_no_run_behind(store: LineageStore, collector_off: None) -> None:
    # (every call's run, the one a cache hit records, a failed call's and an async step's; and
    # the run step() makes to check its settings)
    @pipeline.step(store, "Train", cache=True)
    def train(data: Artifact, lr: float) -> Artifact:
        if lr < 0:
            raise ValueError("diverged")
        return Artifact(type="Model", uri=f"s3://m/{lr}")

    @pipeline.step(store, "Tune")
    async def tune(model: Artifact) -> Artifact:
        return Artifact(type="Model", uri=f"{model.uri}/tuned")

    assert _runs_alive() == 0
    data = Artifact(type="Data", uri="s3://d")
    model = train(data, 0.1)
    assert _runs_alive() == 0, "the step's run waits for the cyclic collector"
    again = train(data, 0.1)  # the cache hit
    assert again.id == model.id
    assert _runs_alive() == 0, "the cache hit's run waits for the cyclic collector"
    with pytest.raises(ValueError, match="diverged") as caught:
        train(data, -1.0)
    assert _runs_alive() == 0, "the failed step's run waits for the cyclic collector"
    del caught
    tuned = asyncio.run(tune(model))
    assert tuned.id is not None
    assert _runs_alive() == 0, "the async step's run waits for the cyclic collector"
    states = sorted(e.last_known_state.name for e in store.get_executions_by_type("Train"))
    assert states == ["CACHED", "COMPLETE", "FAILED"]


# A run ended elsewhere than where it was started (another thread's finish() or fail(), another
# task's, asyncio.to_thread's) left its own thread's (task's) context holding it as the current
# run, ended: no thread can change another's context. The next run started there took it as the
# run it was started in (and its context variable token kept it as the value to reset to): each
# run a worker pattern ever started stayed reachable from the last, with its store, inputs,
# outputs and error (20 runs started here and finished by another thread: 20 of 20 alive). What
# the context holds now lets go of a run once it ended, wherever it ended.


def _handed_to_a_thread(end: str) -> typing.Callable[[Run], None]:
    """What ends a run in another thread: ``finish()`` or ``fail(...)`` called there, waited for
    (bounded)."""

    def ended_elsewhere(run: Run) -> None:
        errors: list[BaseException] = []

        def work() -> None:
            try:
                run.finish() if end == "finish" else run.fail(ValueError("no data"))
            except BaseException as exc:  # (asserted below)
                errors.append(exc)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join(60)
        assert not worker.is_alive() and not errors, errors

    return ended_elsewhere


@pytest.mark.parametrize("end", ["finish", "fail"])
def test_runs_ended_by_another_thread_are_freed(
    store: LineageStore, collector_off: None, end: str
) -> None:
    ended_elsewhere = _handed_to_a_thread(end)
    gone: list[weakref.ref[Run]] = []

    def started_here() -> None:
        for i in range(10):
            run = store.run("Trainer").start()
            run.output(Artifact(type="Model", uri=f"s3://m/{i}"))
            assert current_run() is run
            assert run.parent is None  # (the run before it ended: no parent)
            gone.append(weakref.ref(run))
            ended_elsewhere(run)
            assert current_run() is None
            del run
        # (not even the last one, this context's current run yet, ended, is kept)
        alive = sum(ref() is not None for ref in gone)
        assert alive == 0, f"{alive} of {len(gone)} runs ended by another thread are kept"

    contextvars.copy_context().run(started_here)
    assert all(ref() is None for ref in gone)
    want = "COMPLETE" if end == "finish" else "FAILED"
    states = [e.last_known_state.name for e in store.get_executions_by_type("Trainer")]
    assert states == [want] * 10


def test_runs_ended_by_another_task_are_freed(store: LineageStore, collector_off: None) -> None:
    # (a task of its own, or asyncio.to_thread: each a copy of this task's context)
    gone: list[weakref.ref[Run]] = []

    def ending(held: list[Run], how: int) -> None:
        # (the run taken out of ``held``: the thread pool's work item, which holds what it was
        # given, may be dropped only after the task awaiting it went on)
        run = held.pop()
        run.finish() if how == 0 else run.fail("no data")

    async def ended_by(run: Run, how: int) -> None:
        held = [run]
        del run
        if how == 0:
            await asyncio.create_task(asyncio.to_thread(ending, held, 0))
        elif how == 1:
            await asyncio.to_thread(ending, held, 1)
        else:

            async def finish() -> None:
                ending(held, 0)

            await asyncio.create_task(finish())

    async def main() -> None:
        for i in range(9):
            run = store.run("Trainer").start()
            assert run.parent is None
            gone.append(weakref.ref(run))
            await asyncio.wait_for(ended_by(run, i % 3), 60)
            assert not run.active
            assert current_run() is None
            del run
        # (not even the last one, this context's current run yet, ended, is kept)
        alive = sum(ref() is not None for ref in gone)
        assert alive == 0, f"{alive} of {len(gone)} runs ended by another task are kept"

    asyncio.run(main())
    assert all(ref() is None for ref in gone)


def test_a_run_ended_by_another_thread_leaves_parents_and_the_current_run_as_they_were(
    store: LineageStore, collector_off: None
) -> None:
    ended_elsewhere = _handed_to_a_thread("finish")
    gone: list[weakref.ref[Run]] = []

    def started_here() -> None:
        outer = store.run("Pipeline").start()
        for _ in range(3):
            with store.run("Trainer") as run:
                assert run.parent is outer
                assert current_run() is run
                gone.append(weakref.ref(run))
                ended_elsewhere(run)
                # ended: the run it was started in is the current one, and a run's parent
                assert current_run() is outer
                child = store.run("Eval").start()
                assert child.parent is outer
                assert current_run() is child
                ended_elsewhere(child)
                assert current_run() is outer
                gone.append(weakref.ref(child))
                del child
            assert current_run() is outer
            del run
        alive = sum(ref() is not None for ref in gone)
        assert alive == 0, f"{alive} of {len(gone)} runs ended by another thread are kept"
        # out of order in this thread, the outer one ended by another thread meanwhile
        first = store.run("Trainer").start()
        second = store.run("Eval").start()
        assert second.parent is first
        ended_elsewhere(outer)
        first.finish()
        assert current_run() is second
        third = store.run("Eval").start()
        assert third.parent is second
        ended_elsewhere(second)
        assert current_run() is third
        third.finish()
        assert current_run() is None
        last = store.run("Trainer").start()
        assert last.parent is None
        last.finish()
        assert current_run() is None
        gone.extend(weakref.ref(r) for r in (outer, first, second, third, last))
        del outer, first, second, third, last

    contextvars.copy_context().run(started_here)
    assert all(ref() is None for ref in gone)
    executions = store.get_executions_by_type("Trainer") + store.get_executions_by_type("Eval")
    assert {e.last_known_state.name for e in executions} == {"COMPLETE"}


def test_the_current_run_is_kept_while_it_runs(store: LineageStore, collector_off: None) -> None:
    # (what the context holds lets go of a run once it ended, and only then: a run started with
    # no other reference to it is still there to finish)
    gone: list[weakref.ref[Run]] = []

    def started_here() -> None:
        gone.append(weakref.ref(store.run("Pipeline").start()))
        gone.append(weakref.ref(store.run("Trainer").start()))
        inner = current_run()
        assert inner is not None and inner.execution_type == "Trainer"
        assert inner.parent is not None and inner.parent.execution_type == "Pipeline"
        inner.finish()
        del inner
        assert gone[1]() is None
        outer = current_run()
        assert outer is not None and outer.execution_type == "Pipeline"
        outer.finish()
        del outer
        assert current_run() is None

    contextvars.copy_context().run(started_here)
    assert all(ref() is None for ref in gone)
    states = [e.last_known_state.name for e in store.get_executions_by_type("Pipeline")]
    assert states + [e.last_known_state.name for e in store.get_executions_by_type("Trainer")] == [
        "COMPLETE",
        "COMPLETE",
    ]
