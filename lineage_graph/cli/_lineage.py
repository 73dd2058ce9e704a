"""The lineage queries the CLI and the demo use, in one place (issue 3's store API)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..models import Artifact, Execution
from ..pipeline import CacheHit, find_cache_hit
from ..viewer import GraphData, graph_from_store

if TYPE_CHECKING:
    from ..store import LineageStore

__all__ = ["cached", "downstream", "impact", "upstream", "whole_store"]


def _walk(
    store: LineageStore, focus: Artifact | Execution, *, up: bool, depth: int | None
) -> GraphData:
    """TEMPORARY (until store.upstream/downstream land): BFS over the whole store's events."""
    everything = graph_from_store(store)
    key = f"{'a' if isinstance(focus, Artifact) else 'e'}{focus.id}"
    nexts: dict[str, list[str]] = {}
    for e in everything.events:
        a, x = f"a{e.artifact_id}", f"e{e.execution_id}"
        src, dst = (x, a) if e.type.is_output else (a, x)
        frm, to = (dst, src) if up else (src, dst)
        nexts.setdefault(frm, []).append(to)
    seen = {key}
    queue: deque[tuple[str, int]] = deque([(key, 0)])
    while queue:
        k, d = queue.popleft()
        if depth is not None and d >= depth:
            continue
        for n in nexts.get(k, []):
            if n not in seen:
                seen.add(n)
                queue.append((n, d + 1))
    return GraphData(
        artifacts=[a for a in everything.artifacts if f"a{a.id}" in seen],
        executions=[x for x in everything.executions if f"e{x.id}" in seen],
        events=[
            e
            for e in everything.events
            if f"a{e.artifact_id}" in seen and f"e{e.execution_id}" in seen
        ],
        contexts=everything.contexts,
        attributions=[a for a in everything.attributions if f"a{a.artifact_id}" in seen],
        associations=[a for a in everything.associations if f"e{a.execution_id}" in seen],
    )


def upstream(store: LineageStore, focus: Artifact | Execution, depth: int | None) -> Any:
    return _walk(store, focus, up=True, depth=depth)


def downstream(store: LineageStore, focus: Artifact | Execution, depth: int | None) -> Any:
    return _walk(store, focus, up=False, depth=depth)


def lineage(store: LineageStore, focus: Artifact | Execution, depth: int | None) -> Any:
    up = _walk(store, focus, up=True, depth=depth)
    down = _walk(store, focus, up=False, depth=depth)
    arts = {a.id: a for a in [*up.artifacts, *down.artifacts]}
    execs = {x.id: x for x in [*up.executions, *down.executions]}
    events = {(e.artifact_id, e.execution_id, e.type): e for e in [*up.events, *down.events]}
    return GraphData(
        list(arts.values()),
        list(execs.values()),
        list(events.values()),
        up.contexts,
        [*up.attributions, *down.attributions],
        [*up.associations, *down.associations],
    )


def impact(store: LineageStore, artifact: Artifact) -> Any:
    return downstream(store, artifact, None)


def whole_store(store: LineageStore, limit: int | None = None) -> Any:
    return graph_from_store(store, limit=limit)


def cached(
    store: LineageStore,
    execution_type: str,
    inputs: Sequence[int],
    properties: dict[str, Any],
) -> CacheHit | None:
    return find_cache_hit(store, execution_type, inputs, properties)
