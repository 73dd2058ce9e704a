"""The lineage queries the CLI and the demo use, in one place: thin calls to the store's native
lineage API (``store.upstream`` / ``store.downstream`` / ``store.lineage``, issue 3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..lineage import LineageGraph
from ..models import Artifact, Direction, Execution, NodeKind
from ..pipeline import CacheHit, find_cache_hit
from ..viewer import graph_from_store

if TYPE_CHECKING:
    from ..store import LineageStore

__all__ = ["cached", "downstream", "impact", "lineage", "upstream", "whole_store"]


def _walk(
    store: LineageStore, focus: Artifact | Execution, direction: Direction, depth: int | None
) -> LineageGraph:
    # Contexts come along so trees, exports and the viewer can show what each node belongs to.
    return store.lineage(focus, direction=direction, max_hops=depth, include_contexts=True)


def upstream(store: LineageStore, focus: Artifact | Execution, depth: int | None) -> LineageGraph:
    """Where ``focus`` came from (with ``focus``), at most ``depth`` event hops back."""
    return _walk(store, focus, Direction.UPSTREAM, depth)


def downstream(store: LineageStore, focus: Artifact | Execution, depth: int | None) -> LineageGraph:
    """What came of ``focus`` (with ``focus``), at most ``depth`` event hops forward."""
    return _walk(store, focus, Direction.DOWNSTREAM, depth)


def lineage(store: LineageStore, focus: Artifact | Execution, depth: int | None) -> LineageGraph:
    """Both sides of ``focus``: its upstream and its downstream."""
    return _walk(store, focus, Direction.BOTH, depth)


def impact(store: LineageStore, artifact: Artifact) -> LineageGraph:
    """Everything downstream of a (bad) artifact, with the contexts the affected nodes are in."""
    return _walk(store, artifact, Direction.DOWNSTREAM, None)


def whole_store(store: LineageStore, limit: int | None = None) -> LineageGraph:
    """The whole store (the first ``limit`` artifacts and executions, the events among them and
    every context) for export and the viewer; ``complete`` tells whether ``limit`` cut it."""
    data = graph_from_store(store, limit=limit)
    complete = limit is None or (
        store.count(NodeKind.ARTIFACT) <= limit and store.count(NodeKind.EXECUTION) <= limit
    )
    return LineageGraph(
        artifacts=data.artifacts,
        executions=data.executions,
        events=data.events,
        contexts=data.contexts,
        attributions=data.attributions,
        associations=data.associations,
        complete=complete,
    )


def cached(
    store: LineageStore,
    execution_type: str,
    inputs: Sequence[int],
    properties: dict[str, Any],
) -> CacheHit | None:
    return find_cache_hit(store, execution_type, inputs, properties)
