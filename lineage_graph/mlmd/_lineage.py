"""``get_lineage_subgraph``: ml_metadata's ``LineageSubgraphQueryOptions`` on the native lineage
traversal (``LineageStore.lineage``).

Starting and ending nodes are chosen by ``filter_query`` (the listing engine, :mod:`._listing`);
``direction`` maps to :class:`~lineage_graph.Direction` (``BIDIRECTIONAL`` and unspecified to
``Direction.ANY``: each hop may follow an event either way, as MLMD does). Deliberate
differences (D1): ``max_num_hops`` is not capped at 100, unset means unbounded, and the walk
starts from every node the starting filter selects (MLMD: the first 101 by id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ml_metadata.proto import metadata_store_pb2 as _pb

from .._gc import gc_paused
from ..exceptions import InvalidArgumentError, NotFoundError
from ..lineage import NodeFilter, NodeRef
from ..models import Direction, Event, Node, NodeKind
from ..store import LineageStore
from . import _convert

__all__ = ["LINEAGE_FIELDS", "get_lineage_subgraph"]

pb: Any = _pb

#: Executions whose events' write order one statement reads.
_ORDER_CHUNK = 1_000

#: The LineageGraph fields a ``field_mask_paths`` may name (``parent_contexts`` is never filled).
LINEAGE_FIELDS = tuple(f.name for f in pb.LineageGraph.DESCRIPTOR.fields)

#: The fields that need the nodes' context links.
_LINKED = frozenset({"contexts", "context_types", "attributions", "associations"})

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


def _start_filter(options: Any) -> tuple[NodeKind, str]:
    which = options.WhichOneof("starting_nodes")
    if which is None:
        raise InvalidArgumentError("Missing arguments for listing starting nodes.")
    filter_query = getattr(options, which).filter_query
    if not filter_query:
        raise InvalidArgumentError("Cannot list starting nodes if `filter_query` is unspecified.")
    kind = NodeKind.ARTIFACT if which == "starting_artifacts" else NodeKind.EXECUTION
    return kind, str(filter_query)


def _starts(store: LineageStore, kind: NodeKind, filter_query: str) -> list[NodeRef]:
    ids = matching_ids(store, kind, filter_query)
    if not ids:
        raise NotFoundError("Cannot find qualified nodes to start the traversal.")
    return [NodeRef(kind, i) for i in ids]


@dataclass
class _Endings:
    """MLMD's ending nodes: where a walk stops (the node is not expanded), and which of them
    are left out of the answer (``include_ending_nodes`` unset, per kind)."""

    refs: set[NodeRef] = field(default_factory=set)
    #: Kinds whose every node is an ending node: a filter given but empty (MLMD matches all).
    kinds: set[NodeKind] = field(default_factory=set)
    #: Kinds whose ending nodes are left out of the answer.
    dropped: set[NodeKind] = field(default_factory=set)
    #: Kinds whose ending filter MLMD would refuse, with the error: raised only if the walk
    #: meets a node of that kind (MLMD tests only the nodes it meets against the filter).
    errors: dict[NodeKind, InvalidArgumentError] = field(default_factory=dict)

    def stops(self, ref: NodeRef) -> bool:
        return ref.kind in self.kinds or ref in self.refs

    def drops(self, ref: NodeRef) -> bool:
        return ref.kind in self.dropped and self.stops(ref)


def _endings(store: LineageStore, options: Any) -> _Endings:
    endings = _Endings()
    for name, kind in (
        ("ending_artifacts", NodeKind.ARTIFACT),
        ("ending_executions", NodeKind.EXECUTION),
    ):
        if not options.HasField(name) or not getattr(options, name).HasField("filter_query"):
            continue
        ending = getattr(options, name)
        if ending.filter_query:
            try:
                ids = matching_ids(store, kind, ending.filter_query)
            except InvalidArgumentError as exc:
                endings.errors[kind] = exc
                continue
            endings.refs |= {NodeRef(kind, i) for i in ids}
        else:
            endings.kinds.add(kind)
        if not ending.include_ending_nodes:
            endings.dropped.add(kind)
    return endings


def _mlmd_selection(
    events: Iterable[Event],
    starts: Iterable[NodeRef],
    direction: Direction,
    max_hops: int | None,
    endings: _Endings,
) -> tuple[set[NodeRef], list[_Followed]]:
    """The nodes and events MLMD's walk returns, from a superset of its answer (``events``: every
    event among the nodes a native walk reached, ending start nodes expanded too).

    MLMD walks hop by hop from the start nodes that are not ending nodes: a node reached is
    expanded at the next hop while the hops last, unless it is an ending node, which is kept (with
    the event that reached it) or left out (with that event) by ``include_ending_nodes``. Its
    events are those it followed from expanded nodes in the walk's direction, to new nodes and
    to nodes already reached alike; an event between two nodes of the answer that no expanded
    node followed (between two nodes of the last hop, against the direction, into an ending node
    from a node never expanded) is not in it. Pinned against ml_metadata 1.17.1 by 1,617
    start/direction/hops/ending combinations (tests/mlmd/test_lineage_rules.py)."""
    follow: dict[NodeRef, list[tuple[NodeRef, Event]]] = defaultdict(list)
    for ev in events:
        a = NodeRef(NodeKind.ARTIFACT, ev.artifact_id or 0)
        e = NodeRef(NodeKind.EXECUTION, ev.execution_id or 0)
        source, target = (e, a) if ev.type.is_output else (a, e)  # the way data flows
        if direction is not Direction.UPSTREAM:
            follow[source].append((target, ev))
        if direction is not Direction.DOWNSTREAM:
            follow[target].append((source, ev))
    starts = list(dict.fromkeys(starts))
    nodes = {s for s in starts if not endings.drops(s)}
    reached = set(starts)
    frontier = [s for s in starts if not endings.stops(s)]
    followed: dict[tuple[int, int, int], _Followed] = {}
    hop = 0
    while frontier and (max_hops is None or hop < max_hops):
        next_frontier: list[NodeRef] = []
        for node in frontier:
            for other, ev in follow[node]:
                key = (ev.artifact_id or 0, ev.execution_id or 0, int(ev.type))
                if endings.stops(other):
                    if not endings.drops(other):
                        nodes.add(other)
                        followed.setdefault(key, _Followed(hop, node.kind, ev))
                    continue
                followed.setdefault(key, _Followed(hop, node.kind, ev))
                if other not in reached:
                    reached.add(other)
                    nodes.add(other)
                    next_frontier.append(other)
        frontier = next_frontier
        hop += 1
    return nodes, list(followed.values())


class _Followed(NamedTuple):
    """An event of MLMD's answer: the hop that followed it first, from a node of which kind."""

    hop: int
    kind: NodeKind
    event: Event


def _in_walk_order(store: LineageStore, followed: list[_Followed]) -> list[Event]:
    """The events in MLMD's order: hop by hop, each hop's as MLMD reads its frontier's events
    (``get_events_by_artifact_ids``: by artifact, execution, type; ``get_events_by_execution_ids``:
    by execution, then as written). The write order is read for the executions that followed
    two or more events at one hop (one statement), the only ones it can reorder."""
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for f in followed:
        if f.kind is NodeKind.EXECUTION:
            counts[(f.hop, f.event.execution_id or 0)] += 1
    several = sorted({e for (_, e), n in counts.items() if n > 1})
    order: dict[tuple[int, int, int], int] = {}
    for i in range(0, len(several), _ORDER_CHUNK):
        order |= store._relations.event_order(several[i : i + _ORDER_CHUNK])

    def place(f: _Followed) -> tuple[int, int, int, int, int]:
        a, e, t = f.event.artifact_id or 0, f.event.execution_id or 0, int(f.event.type)
        if f.kind is NodeKind.ARTIFACT:
            return (f.hop, a, e, t, 0)
        return (f.hop, e, order.get((a, e, t), 0), a, t)

    return [f.event for f in sorted(followed, key=place)]


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
    """The type protos of each kind's nodes (each kind's nodes in id order), read in one
    statement, in ml_metadata's client's order: artifact types in the order the artifacts first
    use them (``get_artifacts_and_types_by_artifact_ids``), execution and context types in the
    order of a Python ``set`` of their ids (the client asks ``get_*_types_by_id(set(...))``)."""
    ordered: dict[NodeKind, list[int]] = {}
    for kind, ns in nodes.items():
        used = [n.type_id for n in ns if n.type_id is not None]
        ordered[kind] = list(dict.fromkeys(used) if kind is NodeKind.ARTIFACT else set(used))
    ids = {kind: sorted(used) for kind, used in ordered.items()}
    found = store._types.get_by_ids_of_kinds(ids) if any(ids.values()) else {}
    protos: dict[NodeKind, list[Any]] = {}
    for kind in nodes:
        by_id = {t.id: t for t in found.get(kind, [])}
        protos[kind] = [_convert.type_to_proto(by_id[i]) for i in ordered[kind] if i in by_id]
    return protos


def get_lineage_subgraph(
    store: LineageStore, options: Any, field_mask_paths: Sequence[str] | None = None
) -> Any:
    """The ``LineageGraph`` proto for ``LineageSubgraphQueryOptions``."""
    if options is None:  # an unset message in ml_metadata's request: no starting nodes
        options = pb.LineageSubgraphQueryOptions()
    # MLMD's order: the starting filter given, then max_num_hops, then the filter run (a
    # negative max_num_hops with a filter matching nothing was NotFoundError, not invalid)
    start_kind, start_filter = _start_filter(options)
    max_hops = _max_hops(options)
    starts = _starts(store, start_kind, start_filter)
    endings = _endings(store, options)
    direction = _DIRECTION.get(options.direction)
    if direction is None:
        raise InvalidArgumentError(f"unknown lineage direction {options.direction}")
    # The native walk gives a superset of MLMD's answer (it also expands ending start nodes and
    # returns every event among its nodes); _mlmd_selection then walks that answer as MLMD does.
    # Where every node of a kind is an ending node, no walk goes past one hop.
    walk_hops = max_hops if not endings.kinds else min(1, 1 if max_hops is None else max_hops)
    graph = store.lineage(
        starts,
        direction=direction,
        max_hops=walk_hops,
        stop_at=NodeFilter(refs=endings.refs) if endings.refs else None,
        include_stop=True,
        # The links (one statement) only for an answer that lists them or their contexts.
        include_contexts=bool(_mask(field_mask_paths) & _LINKED),
    )
    if endings.errors:  # an ending filter MLMD refuses: only if its walk meets such a node
        met = _mlmd_selection(graph.events, starts, direction, max_hops, endings)[0]
        for kind, exc in endings.errors.items():
            if any(ref.kind is kind for ref in met):
                raise exc
    with gc_paused():  # MLMD's selection and the protos of a possibly large answer (_gc.py)
        return _answer(store, graph, starts, direction, max_hops, endings, field_mask_paths)


def _answer(
    store: LineageStore,
    graph: Any,
    starts: list[NodeRef],
    direction: Direction,
    max_hops: int | None,
    endings: _Endings,
    field_mask_paths: Sequence[str] | None,
) -> Any:
    mask = _mask(field_mask_paths)
    kept, followed = _mlmd_selection(graph.events, starts, direction, max_hops, endings)
    # The events' order costs a statement (the write order of some executions' events): read
    # only for an answer that lists them (a mask of nodes only read it for nothing).
    events = _in_walk_order(store, followed) if "events" in mask else []
    keep_a = {r.id for r in kept if r.kind is NodeKind.ARTIFACT}
    keep_e = {r.id for r in kept if r.kind is NodeKind.EXECUTION}
    artifacts = sorted((a for a in graph.artifacts if a.id in keep_a), key=lambda n: n.id or 0)
    executions = sorted((e for e in graph.executions if e.id in keep_e), key=lambda n: n.id or 0)
    attributions = [a for a in graph.attributions if a.artifact_id in keep_a]
    associations = [a for a in graph.associations if a.execution_id in keep_e]
    linked = {a.context_id for a in attributions} | {a.context_id for a in associations}
    contexts = sorted((c for c in graph.contexts if c.id in linked), key=lambda n: n.id or 0)

    # ml_metadata's client reads the types of the nodes in the server's answer, which it asks
    # for with the mask less its "*_types" paths: a mask naming nodes of some kinds only (say
    # ["artifacts", "execution_types"]) has no nodes of the others, so no types of theirs.
    read = {p for p in mask if not p.endswith("_types")}
    typed: dict[NodeKind, Iterable[Node]] = {}
    if "artifact_types" in mask and (not read or "artifacts" in read):
        typed[NodeKind.ARTIFACT] = artifacts
    if "execution_types" in mask and (not read or "executions" in read):
        typed[NodeKind.EXECUTION] = executions
    if "context_types" in mask and (not read or "contexts" in read):
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
