"""The lineage queries the CLI and the demo use, in one place: thin calls to the store's native
lineage API (``store.upstream`` / ``store.downstream`` / ``store.lineage``, issue 3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidArgumentError
from ..lineage import ImpactMark, ImpactReport, LineageGraph
from ..models import Artifact, Direction, Execution, NodeKind
from ..pipeline import CacheHit, find_cache_hit
from ..viewer import graph_from_store
from ._refs import BadReferenceError
from ._walk import WalkOptions

if TYPE_CHECKING:
    from ..store import LineageStore

__all__ = ["cached", "downstream", "impact", "upstream", "walk", "whole_store"]


def walk(
    store: LineageStore,
    focus: Artifact | Execution,
    direction: Direction,
    options: WalkOptions | None = None,
) -> LineageGraph:
    """``store.lineage`` with the command line's options. Contexts come along so trees, exports
    and the viewer can show what each node belongs to. A value the store refuses (a cursor from
    another query, ...) came from the command line: a usage error."""
    opts = options or WalkOptions()
    try:
        return store.lineage(focus, direction=direction, include_contexts=True, **opts.kwargs())
    except BadReferenceError:
        raise
    except InvalidArgumentError as exc:
        raise BadReferenceError(str(exc)) from None


def upstream(store: LineageStore, focus: Artifact | Execution, depth: int | None) -> LineageGraph:
    """Where ``focus`` came from (with ``focus``), at most ``depth`` event hops back."""
    return walk(store, focus, Direction.UPSTREAM, WalkOptions(depth=depth))


def downstream(store: LineageStore, focus: Artifact | Execution, depth: int | None) -> LineageGraph:
    """What came of ``focus`` (with ``focus``), at most ``depth`` event hops forward."""
    return walk(store, focus, Direction.DOWNSTREAM, WalkOptions(depth=depth))


def impact(
    store: LineageStore, source: Artifact | Execution, mark: ImpactMark | None = None
) -> ImpactReport:
    """Everything downstream of a (bad) artifact, grouped by type (``store.impact``); with
    ``mark``, every affected artifact is marked in one atomic write (undo with the token)."""
    return store.impact(source, mark=mark)


def whole_store(store: LineageStore, limit: int | None = None) -> LineageGraph:
    """The whole store (the first ``limit`` artifacts and executions, the events among them and
    every context) for export and the viewer; ``complete`` tells whether ``limit`` cut it, and
    ``total`` counts the store's artifacts and executions (it was left None: ``"total": null``
    in ``export --json``, where a walk from an entity gives its size)."""
    data = graph_from_store(store, limit=limit)
    artifacts = store.count(NodeKind.ARTIFACT)
    executions = store.count(NodeKind.EXECUTION)
    complete = limit is None or (artifacts <= limit and executions <= limit)
    return LineageGraph(
        artifacts=data.artifacts,
        executions=data.executions,
        events=data.events,
        contexts=data.contexts,
        attributions=data.attributions,
        associations=data.associations,
        complete=complete,
        total=artifacts + executions,
    )


def cached(
    store: LineageStore,
    execution_type: str,
    inputs: Sequence[int],
    properties: dict[str, Any],
    type_version: str | None = None,
) -> CacheHit | None:
    return find_cache_hit(store, execution_type, inputs, properties, type_version=type_version)
