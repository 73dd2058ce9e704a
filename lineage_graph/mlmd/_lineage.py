"""``get_lineage_subgraph``: ml_metadata's ``LineageSubgraphQueryOptions`` on the native lineage
traversal (``LineageStore.lineage``).

Starting and ending nodes are chosen by ``filter_query`` (the listing engine, :mod:`._listing`);
``direction`` maps to :class:`~lineage_graph.Direction` (``BIDIRECTIONAL`` and unspecified to
``Direction.ANY``: each hop may follow an event either way, as MLMD does). One deliberate
difference: ``max_num_hops`` is not capped at 100, and unset means unbounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ml_metadata.proto import metadata_store_pb2 as _pb

from ..exceptions import InvalidArgumentError, NotFoundError
from ..lineage import NodeFilter, NodeRef
from ..models import Direction, Node, NodeKind
from ..store import LineageStore
from . import _convert

__all__ = ["LINEAGE_FIELDS", "get_lineage_subgraph"]

pb: Any = _pb

#: The LineageGraph fields a ``field_mask_paths`` may name (``parent_contexts`` is never filled).
LINEAGE_FIELDS = tuple(f.name for f in pb.LineageGraph.DESCRIPTOR.fields)

_DIRECTION = {
    pb.LineageSubgraphQueryOptions.DIRECTION_UNSPECIFIED: Direction.ANY,
    pb.LineageSubgraphQueryOptions.BIDIRECTIONAL: Direction.ANY,
    pb.LineageSubgraphQueryOptions.UPSTREAM: Direction.UPSTREAM,
    pb.LineageSubgraphQueryOptions.DOWNSTREAM: Direction.DOWNSTREAM,
}


def matching_ids(store: LineageStore, kind: NodeKind, filter_query: str) -> list[int]:
    """Every id of ``kind`` a ``filter_query`` selects, in id order (all pages)."""
    from ._listing import ListQuery, list_node_ids

    ids: list[int] = []
    token: str | None = None
    while True:
        query = ListQuery(kind=kind, filter_query=filter_query, limit=None, page_token=token)
        page, token = list_node_ids(store, query)
        ids.extend(page)
        if not token:
            return ids


def _starts(store: LineageStore, options: Any) -> list[NodeRef]:
    which = options.WhichOneof("starting_nodes")
    if which is None:
        raise InvalidArgumentError("Missing arguments for listing starting nodes.")
    filter_query = getattr(options, which).filter_query
    if not filter_query:
        raise InvalidArgumentError("Cannot list starting nodes if `filter_query` is unspecified.")
    kind = NodeKind.ARTIFACT if which == "starting_artifacts" else NodeKind.EXECUTION
    ids = matching_ids(store, kind, filter_query)
    if not ids:
        raise NotFoundError("Cannot find qualified nodes to start the traversal.")
    return [NodeRef(kind, i) for i in ids]


def _endings(store: LineageStore, options: Any) -> tuple[set[NodeRef], set[NodeRef]]:
    """``(ending nodes, ending nodes to leave out of the result)``."""
    stop: set[NodeRef] = set()
    drop: set[NodeRef] = set()
    for field, kind in (
        ("ending_artifacts", NodeKind.ARTIFACT),
        ("ending_executions", NodeKind.EXECUTION),
    ):
        if not options.HasField(field) or not getattr(options, field).filter_query:
            continue
        ending = getattr(options, field)
        refs = {NodeRef(kind, i) for i in matching_ids(store, kind, ending.filter_query)}
        stop |= refs
        if not ending.include_ending_nodes:
            drop |= refs
    return stop, drop


def _max_hops(options: Any) -> int | None:
    if not options.HasField("max_num_hops"):
        return None
    if options.max_num_hops < 0:
        raise InvalidArgumentError("max_num_hops cannot be negative.")
    return int(options.max_num_hops)


def _mask(field_mask_paths: Sequence[str] | None) -> set[str]:
    if not field_mask_paths:
        return set(LINEAGE_FIELDS)
    return set(field_mask_paths)


def _types(
    store: LineageStore, nodes: Mapping[NodeKind, Iterable[Node]]
) -> dict[NodeKind, list[Any]]:
    """The type protos of each kind's nodes, read in one statement."""
    ids = {
        kind: sorted({n.type_id for n in ns if n.type_id is not None}) for kind, ns in nodes.items()
    }
    found = store._types.get_by_ids_of_kinds(ids) if any(ids.values()) else {}
    return {kind: [_convert.type_to_proto(t) for t in found.get(kind, [])] for kind in nodes}


def get_lineage_subgraph(
    store: LineageStore, options: Any, field_mask_paths: Sequence[str] | None = None
) -> Any:
    """The ``LineageGraph`` proto for ``LineageSubgraphQueryOptions``."""
    starts = _starts(store, options)
    max_hops = _max_hops(options)
    stop, drop = _endings(store, options)
    direction = _DIRECTION.get(options.direction)
    if direction is None:
        raise InvalidArgumentError(f"unknown lineage direction {options.direction}")
    graph = store.lineage(
        starts,
        direction=direction,
        max_hops=max_hops,
        stop_at=NodeFilter(refs=stop) if stop else None,
        include_stop=True,
        include_contexts=True,
    )
    keep_a = {a.id for a in graph.artifacts if NodeRef(NodeKind.ARTIFACT, a.id or 0) not in drop}
    keep_e = {e.id for e in graph.executions if NodeRef(NodeKind.EXECUTION, e.id or 0) not in drop}
    artifacts = sorted((a for a in graph.artifacts if a.id in keep_a), key=lambda n: n.id or 0)
    executions = sorted((e for e in graph.executions if e.id in keep_e), key=lambda n: n.id or 0)
    attributions = [a for a in graph.attributions if a.artifact_id in keep_a]
    associations = [a for a in graph.associations if a.execution_id in keep_e]
    linked = {a.context_id for a in attributions} | {a.context_id for a in associations}
    contexts = sorted((c for c in graph.contexts if c.id in linked), key=lambda n: n.id or 0)
    events = [e for e in graph.events if e.artifact_id in keep_a and e.execution_id in keep_e]

    mask = _mask(field_mask_paths)
    typed: dict[NodeKind, Iterable[Node]] = {}
    if "artifact_types" in mask:
        typed[NodeKind.ARTIFACT] = artifacts
    if "execution_types" in mask:
        typed[NodeKind.EXECUTION] = executions
    if "context_types" in mask:
        typed[NodeKind.CONTEXT] = contexts
    types = _types(store, typed) if typed else {}
    out = pb.LineageGraph()
    if "artifacts" in mask:
        out.artifacts.extend(_convert.node_to_proto(a) for a in artifacts)
    out.artifact_types.extend(types.get(NodeKind.ARTIFACT, []))
    if "executions" in mask:
        out.executions.extend(_convert.node_to_proto(e) for e in executions)
    out.execution_types.extend(types.get(NodeKind.EXECUTION, []))
    if "contexts" in mask:
        out.contexts.extend(_convert.node_to_proto(c) for c in contexts)
    out.context_types.extend(types.get(NodeKind.CONTEXT, []))
    if "events" in mask:
        out.events.extend(_convert.event_to_proto(e) for e in events)
    if "attributions" in mask:
        out.attributions.extend(_convert.attribution_to_proto(a) for a in attributions)
    if "associations" in mask:
        out.associations.extend(_convert.association_to_proto(a) for a in associations)
    return out
