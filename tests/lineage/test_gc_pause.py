"""Lineage answers are read and decoded with the cyclic collector paused (lineage_graph/_gc.py).

Without the pause a 2,001-node answer runs about a hundred collections while it is built (each
container allocated counts towards the thresholds); with it, at most the few that follow the
pause. The pause covers one read and its decoding, never the hops of a frontier walk, and
overlapping pauses (threads) end with the last. The collector's state is the caller's again
after every call, failed ones included.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lineage_graph import LineageStore, NodeKind, NodeRef, NotFoundError
from lineage_graph._gc import gc_paused

from ._graphs import Built, chain, ensure_types


@pytest.fixture
def chained(store: LineageStore) -> Built:
    ensure_types(store)
    return chain(store, 1000)  # 1,001 artifacts, 1,000 executions


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of every collection that starts while the test runs."""
    started: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield started
    finally:
        gc.callbacks.remove(count)


def test_no_collection_runs_while_an_answer_is_built(
    store: LineageStore, chained: Built, collections: list[int]
) -> None:
    gc.collect()
    collections.clear()
    graph = store.upstream(chained.a(1000))
    assert (len(graph.artifacts), len(graph.executions), len(graph.events)) == (1001, 1000, 2000)
    assert gc.isenabled()
    assert len(collections) <= 3, f"{len(collections)} collections during one lineage call"


def test_a_collector_turned_off_by_the_caller_stays_off(
    store: LineageStore, chained: Built
) -> None:
    gc.disable()
    try:
        graph = store.downstream(chained.a(0))
        assert len(graph.executions) == 1000
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_on_again_after_a_failed_call(store: LineageStore) -> None:
    ensure_types(store)
    with pytest.raises(NotFoundError):
        store.upstream(NodeRef(NodeKind.ARTIFACT, 10**9))
    assert gc.isenabled()


def test_the_hops_of_a_frontier_walk_run_with_the_collector_on(
    store: LineageStore, chained: Built
) -> None:
    """The pause covers one read and its decoding, not a walk of many round trips."""
    backend = store.backend
    state: list[tuple[str, bool]] = []
    original = backend.read

    def reading(query: str, params: Any = None, *, name: str = "") -> list[dict[str, Any]]:
        state.append((name, gc.isenabled()))
        return original(query, params, name=name)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backend, "read", reading)
        graph = store.upstream(chained.a(1000), max_hops=6)  # under 8 hops: the frontier walk
    assert len(graph.artifacts) == 4
    steps = [on for name, on in state if name.startswith("lineage/step_")]
    fetches = [on for name, on in state if name.endswith("/get_by_ids")]
    assert len(steps) == 6 and all(steps), state
    assert fetches and not any(fetches), state
    assert gc.isenabled()


def test_overlapping_pauses_end_with_the_last() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with gc_paused():
            second_in.set()
            first_out.wait(5)
            seen["after the first ended"] = gc.isenabled()
        seen["after both ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after the first ended": False, "after both ended": True}


def test_an_interrupt_as_the_pause_starts_leaves_the_collector_on() -> None:
    """A KeyboardInterrupt delivered just after the collector was turned off (signal handlers
    run between bytecodes) still ends the pause: the collector is on again and later pauses
    count from zero (it once stayed off for the rest of the process)."""
    import types

    import lineage_graph._gc as pause

    def interrupted() -> None:
        gc.disable()
        raise KeyboardInterrupt

    fake = types.SimpleNamespace(isenabled=gc.isenabled, enable=gc.enable, disable=interrupted)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pause, "gc", fake)
            with pytest.raises(KeyboardInterrupt), gc_paused():
                pytest.fail("the block must not run")
        assert gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
    finally:
        gc.enable()


def test_an_interrupt_while_the_pause_waits_to_end_leaves_the_collector_on() -> None:
    """A KeyboardInterrupt that arrives while the end of a pause waits for the module's lock
    (another thread holds it; a contended acquire is interruptible) is raised once the count is
    settled: the collector is on again (it once stayed off for the rest of the process)."""
    import lineage_graph._gc as pause

    class InterruptedOnce:
        """The module's lock, but the second acquire (the pause's end) is interrupted."""

        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.acquires = 0

        def __enter__(self) -> bool:
            self.acquires += 1
            if self.acquires == 2:
                raise KeyboardInterrupt
            return self.lock.__enter__()

        def __exit__(self, *exc: object) -> None:
            self.lock.__exit__(*exc)

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pause, "_lock", InterruptedOnce())
            with pytest.raises(KeyboardInterrupt), gc_paused():
                assert not gc.isenabled()
            assert gc.isenabled()
            assert pause._holders == 0
    finally:
        gc.enable()
