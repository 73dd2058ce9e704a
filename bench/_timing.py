"""Timing shared by the workloads: timed samples, and where a sample's time went.

For lineage-graph's systems every timed sample runs under :meth:`Backend.record`, which logs
each statement the store sent, its wall time and the engine's own time. A row then says how
many round trips one sample took and how much of it the engine spent: the rest is the client
(encoding parameters, reading the reply, building models) and the transport, whose floor the
``floor: one round trip`` row measures in the same run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lineage_graph.backends import Backend, Statement

__all__ = ["Breakdown", "backend_of", "recorded", "samples"]


@dataclass(frozen=True)
class Breakdown:
    """One timed sample of a lineage-graph row, on average: statements, round trips and the
    engine's own seconds, summed over the statements that report it (None: none did; the
    embedded store's settle step reports none)."""

    statements: float
    round_trips: float
    engine_s: float | None

    @classmethod
    def of(cls, log: Sequence[Statement], samples: int) -> Breakdown:
        n = max(samples, 1)
        engine = [s.engine_seconds for s in log if s.engine_seconds is not None]
        return cls(
            statements=len(log) / n,
            round_trips=sum(s.round_trips for s in log) / n,
            engine_s=sum(engine) / n if engine else None,
        )


def backend_of(handle: Any) -> Backend | None:
    """The lineage-graph backend behind a bench handle (None for MLMD itself)."""
    if handle.system == "lg-mlmd-adapter":
        return handle.store.lineage_store.backend  # type: ignore[no-any-return]
    if handle.kind == "lg":
        return handle.store.backend  # type: ignore[no-any-return]
    return None


@contextlib.contextmanager
def recorded(handle: Any, samples: int = 1) -> Iterator[list[Breakdown]]:
    """Record the block's statements; afterwards the yielded list holds their breakdown per
    sample (empty for MLMD)."""
    backend = backend_of(handle)
    out: list[Breakdown] = []
    if backend is None:
        yield out
        return
    with backend.record() as log:
        yield out
    out.append(Breakdown.of(log, samples))


def samples(
    handle: Any, fn: Callable[[], Any], repeats: int, verify: Callable[[Any], None]
) -> tuple[list[float], Breakdown | None]:
    """One untimed warm-up call, then ``repeats`` timed calls, then (lineage-graph's systems
    only) one more untimed call under :meth:`Backend.record` for the breakdown; returns the
    times and the breakdown of a call. ``verify`` checks every answer, warm-up and recorded
    call included (it raises on a wrong one), outside the timing.

    A sample is the call and the release of its own answer, as ``timeit`` counts it; no other
    answer is alive meanwhile. The loop used to keep the previous answer until the next call
    had returned: the release was timed one call late, and every timed call ran with the
    previous answer alive, which Python's cyclic collections (triggered by the call's own
    allocations) traverse again. That cost our rows (an answer of ~20,000 Python objects for a
    4,001-node fan-out) and not MLMD's (protos held in C++).

    The timed calls are not recorded: recording (a clock read, the engine-time parse and a
    log entry per statement) is work MLMD's rows do not do, and it cost our rows several
    microseconds per statement, a tenth of the ``RETURN 1`` floor."""
    verify(fn())  # the warm-up's answer is released before the first timed call
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t
        verify(result)  # every answer, not only the last: untimed
        t = time.perf_counter()
        del result  # the last reference (verify keeps none): the answer is freed here
        times.append(elapsed + time.perf_counter() - t)
    with recorded(handle, 1) as breakdown:
        if backend_of(handle) is not None:
            verify(fn())
    return times, breakdown[0] if breakdown else None
