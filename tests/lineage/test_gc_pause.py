"""Lineage answers are read and decoded with the cyclic collector paused (lineage_graph/_gc.py).

Without the pause a 2,001-node answer runs about a hundred collections while it is built (each
container allocated counts towards the thresholds); with it, at most the few that follow the
pause. The collector's state is the caller's again after every call, failed ones included.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from lineage_graph import LineageStore, NodeKind, NodeRef, NotFoundError

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
