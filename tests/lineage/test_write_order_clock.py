"""The order events are written in (``relations.write_order``) follows the clock as each write is
prepared, and never goes back: a put_execution without contexts (no links) moves the order on to
the time its links would have been prepared, as one with links does, so a clock stepped back
afterwards still orders the next write's events after it."""

from __future__ import annotations

import types
from collections.abc import Iterator

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
)
from lineage_graph._repositories import relations

US = 1_000  # ns


class _Clock:
    """``time.time_ns`` of the relations module: the values given, then the last one."""

    def __init__(self, *micros: int) -> None:
        self.values: Iterator[int] = iter(micros)
        self.last = micros[0]

    def time_ns(self) -> int:
        self.last = next(self.values, self.last)
        return self.last * US


def _put(store: LineageStore, seed: int, uri: str) -> int:
    execution_id, _, _ = store.put_execution(
        Execution(type="Trainer"),
        [
            (Artifact(id=seed), Event(type=EventType.INPUT)),
            (Artifact(type="DataSet", uri=uri), Event(type=EventType.OUTPUT)),
        ],
    )
    return execution_id


@pytest.mark.parametrize("contexts", [False, True], ids=["no-links", "links"])
def test_a_write_without_links_moves_the_order_on_as_one_with_links(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, contexts: bool
) -> None:
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_context_type(ContextType(name="Run"))
    [seed] = store.put_artifacts([Artifact(type="DataSet", uri="/seed")])
    base = max(relations._last_order + 1, 10**16)  # past anything this process wrote
    # put back at teardown: a later test's events in this process would come after (year 2286)
    # those of a child process following the real clock
    monkeypatch.setattr(relations, "_last_order", relations._last_order)
    # the events prepared at base, the links at base + 1000, the next write's events with the
    # clock stepped back to base + 10
    clock = _Clock(base, base + 1_000, base + 10)
    monkeypatch.setattr(relations, "time", types.SimpleNamespace(time_ns=clock.time_ns))
    given = [Context(type="Run", name="r")] if contexts else []
    first, _, _ = store.put_execution(
        Execution(type="Trainer"),
        [
            (Artifact(id=seed), Event(type=EventType.INPUT)),
            (Artifact(type="DataSet", uri="/a"), Event(type=EventType.OUTPUT)),
        ],
        given,
    )
    links = 3 if contexts else 0  # two attributions (the seed, the output), an association
    assert relations._last_order == base + 1_000 + links - 1
    second = _put(store, seed, "/b")
    order = store._relations.event_order([first, second])
    assert sorted(order.values()) == [base, base + 1, base + 1_000 + links, base + 1_001 + links]
    assert min(s for (_, e, _), s in order.items() if e == second) > max(
        s for (_, e, _), s in order.items() if e == first
    )
