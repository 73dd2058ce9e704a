"""Lineage traversal: every reachable node visited once, however many paths lead to it.

Two strategies, chosen per call:

* **in the engine, one query** (``lineage/reach_*``) when nothing but the direction shapes the
  walk: Neo4j's pruning BFS over ``-[:EVENT*1..]->`` with DISTINCT; on FalkorDB a variable-length
  walk capped at :data:`PATH_CAP` paths (FalkorDB enumerates paths), and when the cap is hit (many
  diamonds) a second query, ``lineage/reach_*_uncapped``, with ``algo.BFS`` (each node once, but
  its cost grows with the depth and the graph size; upstream over the UPSTREAM mirror edges);
* **frontier expansion, one query per hop** (``lineage/step_*``) when a hop limit, a boundary
  (``stop_at``) or a point in time (``as_of``) shapes it: each hop expands the whole frontier at
  once and never revisits a node, so the cost is the number of hops, not of paths; after the
  first hop the frontier's nodes are sought by the engine ids the hop before returned. A walk shaped
  by a hop limit of :data:`WITHIN_MIN_HOPS` or more and nothing else is first tried as the
  engine's walk capped at :data:`WITHIN_CAP`, keeping the nodes within the hops (one query
  instead of one per hop; MLMD callers always send a hop limit).

Either way the result is a set of node references; nodes are then fetched in id order, one page
at a time when a ``limit`` is given (keyset paging: the cursor is the last node returned).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .._encoding import shown, stored_id
from .._gc import gc_paused
from .._repositories._base import Repository, datetime_ms, id_ranges
from .._repositories.nodes import NodeRepository, decode_node
from .._repositories.relations import RelationRepository, stored_event
from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import (
    INT64_MAX,
    INT64_MIN,
    Artifact,
    Association,
    Attribution,
    Context,
    Direction,
    Event,
    Execution,
    NodeKind,
)
from ._filter import LineageNode, NodeFilter, NodeRef
from ._graph import LineageGraph

__all__ = ["LineageQuery", "LineageRepository", "as_of_ms"]

_KIND_ORDER = {NodeKind.ARTIFACT: 0, NodeKind.EXECUTION: 1}
_ARTIFACT_LABEL = NodeKind.ARTIFACT.value
_FETCH_CHUNK = 1000
#: Paths a capped engine walk may expand before the caller falls back to the uncapped query (see
#: cypher/falkordb/lineage/reach_upstream.cypher): ~0.6 µs a path on FalkorDB, so a walk that hits
#: the cap wastes < 10 ms, while trees and chains of up to ~10k nodes never hit it.
PATH_CAP = 10_000
#: A walk bounded by hops (``max_hops``) is first tried as ONE engine walk of fewer than this
#: many paths (FalkorDB) or nodes (Neo4j), keeping the nodes within the hops (their distances come
#: from the events the walk returns); a larger walk is answered by the frontier expansion, one
#: query per hop. Wasted work when the walk is too large: < ~2 ms.
WITHIN_CAP = 2_000
#: Fewer hops than this go straight to the frontier expansion: a few round trips cost less than
#: fetching a walk that may reach far beyond the bound.
WITHIN_MIN_HOPS = 8
#: More start nodes than this, and an engine walk that reached :data:`PATH_CAP`: the frontier
#: expansion answers (each node once for all the starts) instead of the uncapped walk, which walks
#: from each start on its own (FalkorDB's algo.BFS also costs O(graph) per start): on a 10k-node
#: DAG of diamonds, downstream of 1,000 starts took 2.3 s of engine time that way, 0.17 s by hops.
MANY_STARTS = 16


def as_of_ms(value: int | dt.datetime | None) -> int | None:
    """A point in time as milliseconds since the epoch (naive datetimes are UTC)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        try:
            offset = value.utcoffset()
        except (TypeError, ValueError) as exc:  # a tzinfo whose offset is no valid timedelta
            raise InvalidArgumentError(
                f"as_of: the datetime's time zone gives no valid offset: {exc}"
            ) from None
        if offset is None:
            # a tzinfo that gives no offset: neither naive (it has a tzinfo, so it is not
            # taken as UTC) nor aware, it escaped as a raw TypeError from the subtraction
            raise InvalidArgumentError(
                f"as_of: the datetime's time zone {shown(value.tzinfo)} gives no UTC offset; "
                "give an aware datetime (e.g. datetime.now(UTC)) or ms since the epoch"
            )
        return datetime_ms(value)  # exact: a float product was 1 ms early at times
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"as_of must be ms since the epoch or a datetime: {shown(value)}"
        )
    # Every event's time is an int64: a time beyond one end means that end (FalkorDB read such a
    # parameter so, Neo4j's driver refused it). A subclass of int (an ``(int, Enum)`` member) is
    # sent as its int: FalkorDB's parameter text is its str() (``Millis.LATE``: a QueryError),
    # Neo4j's driver packs its value.
    return min(max(int(value), INT64_MIN), INT64_MAX)


@dataclass(frozen=True)
class LineageQuery:
    """A validated lineage question (see :meth:`LineageStore.lineage`)."""

    starts: tuple[NodeRef, ...]
    direction: Direction = Direction.BOTH
    max_hops: int | None = None
    where: NodeFilter | None = None
    stop_at: NodeFilter | None = None
    include_stop: bool = True
    include_contexts: bool = False
    as_of: int | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.direction, Direction):
            try:
                object.__setattr__(self, "direction", Direction(self.direction))
            except ValueError:
                raise InvalidArgumentError(
                    f"direction must be one of {[d.value for d in Direction]}: "
                    f"{shown(self.direction)}"
                ) from None
        if self.max_hops is not None and (
            isinstance(self.max_hops, bool)
            or not isinstance(self.max_hops, int)
            or self.max_hops < 0
        ):
            raise InvalidArgumentError(
                f"max_hops must be None or an int >= 0: {shown(self.max_hops)}"
            )
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1
        ):
            raise InvalidArgumentError(f"limit must be None or an int >= 1: {shown(self.limit)}")
        for name in ("where", "stop_at"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, NodeFilter):
                raise InvalidArgumentError(f"{name} must be a NodeFilter: {shown(value)}")
        for name in ("include_stop", "include_contexts"):
            value = getattr(self, name)
            if not isinstance(value, bool):  # "no" or None read as a truth value: wrong answers
                raise InvalidArgumentError(f"{name} must be True or False: {shown(value)}")

    def fingerprint(self) -> str:
        """What a cursor is bound to: the same question (the page size may change)."""
        text = repr(
            (
                sorted((r.kind.value, r.id) for r in self.starts),
                self.direction.value,
                self.max_hops,
                self.where.key() if self.where else None,
                self.stop_at.key() if self.stop_at else None,
                self.include_stop,
                self.include_contexts,
                self.as_of,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_cursor(query: LineageQuery, last: NodeRef) -> str:
    raw = json.dumps({"q": query.fingerprint(), "k": last.kind.value, "i": last.id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(query: LineageQuery, cursor: str) -> tuple[int, int]:
    """The sort key of the last node of the previous page."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        kind, ident, fingerprint = NodeKind(data["k"]), data["i"], data["q"]
        # The cursor's own kinds and ids only: an edited one (a context, 1e400, "7") is no
        # cursor, nor one no page ends with (an id under 1 began again at page 1, one past
        # int64 answered an empty last page), nor one with fields of its own ("q": 123).
        if (
            kind not in _KIND_ORDER
            or type(ident) is not int
            or not 1 <= ident <= INT64_MAX
            or type(fingerprint) is not str
            or set(data) != {"q", "k", "i"}
        ):
            raise ValueError(kind)
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):  # too deep JSON
        raise InvalidArgumentError(
            "not a lineage cursor (pass back the cursor the previous page gave, as is)"
        ) from None
    if fingerprint != query.fingerprint():
        raise InvalidArgumentError(
            "this cursor belongs to a different lineage query: page with the same arguments"
        )
    return (ident, _KIND_ORDER[kind])


#: The engine's own id of each node a frontier step reached (FalkorDB: ``id(x)``, an int; Neo4j:
#: ``elementId(x)``, a string): the next step seeks the node by it (cypher/lineage/step_*).
EngineIds = dict[NodeRef, Any]


def _sort_key(ref: NodeRef) -> tuple[int, int]:
    return (ref.id, _KIND_ORDER[ref.kind])


def _split(refs: Iterable[NodeRef]) -> tuple[list[int], list[int]]:
    artifacts: list[int] = []
    executions: list[int] = []
    for r in refs:
        (artifacts if r.kind is NodeKind.ARTIFACT else executions).append(r.id)
    return artifacts, executions


def _refs(rows: Iterable[dict[str, Any]]) -> set[NodeRef]:
    # An id another writer stored that is no positive int is StoredValueError naming the node
    # (stored_id): int() raised a bare ValueError on text and read 2.5 as node 2, another node.
    return {NodeRef(NodeKind(row["label"]), stored_id(row["label"], row["id"])) for row in rows}


def _within_hops(
    rows: list[dict[str, Any]], starts: Iterable[NodeRef], max_hops: int
) -> list[dict[str, Any]]:
    """The rows of an engine walk within ``max_hops`` of the starts (a hop = one EVENT edge): the
    rows of the nodes kept and of their events.

    Each event row leads one hop further from the starts (the walked side), so a breadth-first
    pass over them gives every node's distance, as the frontier expansion counts it.
    """
    nodes: dict[tuple[bool, int], dict[str, Any]] = {}
    events: dict[tuple[bool, int], list[dict[str, Any]]] = {}
    for row in rows:
        is_artifact = row["label"] == _ARTIFACT_LABEL
        if row["node"] is not None:  # its id absent or no positive int: StoredValueError
            kind = NodeKind.ARTIFACT if is_artifact else NodeKind.EXECUTION
            nodes[(is_artifact, stored_id(kind.value, row["node"].get("id")))] = row
        else:
            events.setdefault((is_artifact, row["id"]), []).append(row)
    frontier = [k for r in starts if (k := (r.kind is NodeKind.ARTIFACT, r.id)) in nodes]
    kept = dict.fromkeys(frontier)
    for _ in range(max_hops):
        reached = []
        for is_artifact, ident in frontier:
            for event in events.get((is_artifact, ident), ()):
                key = (not is_artifact, event["other"])
                if key in nodes and key not in kept:
                    kept[key] = None
                    reached.append(key)
        if not reached:
            break
        frontier = reached
    return [nodes[k] for k in kept] + [e for k in kept for e in events.get(k, ())]


class LineageRepository(Repository):
    """Runs lineage queries; node and event reads go through the store's repositories."""

    def __init__(
        self,
        backend: Any,
        artifacts: NodeRepository[Artifact],
        executions: NodeRepository[Execution],
        contexts: NodeRepository[Context],
        relations: RelationRepository,
    ) -> None:
        super().__init__(backend)
        self.artifacts = artifacts
        self.executions = executions
        self.contexts = contexts
        self.relations = relations

    # ---------------------------------------------------------------------------- reachability

    def check_exist(self, refs: Sequence[NodeRef]) -> None:
        artifact_ids, execution_ids = _split(refs)
        missing = [
            f"artifact {shown(i)}"
            for i in set(artifact_ids) - self.artifacts.existing_ids(artifact_ids)
        ] + [
            f"execution {shown(i)}"
            for i in set(execution_ids) - self.executions.existing_ids(execution_ids)
        ]
        if missing:
            raise NotFoundError(f"no such start node: {', '.join(sorted(missing))}")

    def _capped_rows(self, name: str, refs: Iterable[NodeRef], cap: int) -> list[dict[str, Any]]:
        """An engine walk of fewer than ``cap`` paths (FalkorDB) or nodes (Neo4j); no row means
        the cap was hit or no start node exists."""
        artifact_ids, execution_ids = _split(refs)
        return self.read(name, cap=cap, artifact_ids=artifact_ids, execution_ids=execution_ids)

    def _reach_rows(self, name: str, refs: Sequence[NodeRef]) -> list[dict[str, Any]] | None:
        """A capped engine walk; no row means the cap was hit (or no start node exists): then the
        uncapped walk answers, or None for more than :data:`MANY_STARTS` starts (the caller walks
        by hops: the uncapped walk would walk from each start on its own)."""
        rows = self._capped_rows(name, refs, PATH_CAP)
        if rows:
            return rows
        if len(refs) > MANY_STARTS:
            return None
        artifact_ids, execution_ids = _split(refs)
        return self.read(f"{name}_uncapped", artifact_ids=artifact_ids, execution_ids=execution_ids)

    def _reach(self, direction: Direction, refs: Sequence[NodeRef]) -> set[NodeRef] | None:
        rows = self._reach_rows(f"lineage/reach_{direction.value}", refs)
        return None if rows is None else _refs(rows)

    def _step(
        self, direction: Direction, frontier: Iterable[NodeRef], as_of: int | None, iids: EngineIds
    ) -> set[NodeRef]:
        """One hop from ``frontier``. A node whose engine id a previous hop returned (``iids``) is
        sought by it (FalkorDB: ~0.2 µs instead of ~11 µs through the ``id`` index); the starts
        by id. The engine ids of the nodes reached are added to ``iids``. When fewer engine ids
        of a kind still name their node than were sent (the node was deleted, or its engine id
        changed), that kind's nodes are asked for again by id: an engine id never loses a node."""
        by_id: dict[NodeKind, list[NodeRef]] = {NodeKind.ARTIFACT: [], NodeKind.EXECUTION: []}
        refs: dict[NodeKind, list[NodeRef]] = {NodeKind.ARTIFACT: [], NodeKind.EXECUTION: []}
        for r in frontier:
            (by_id if iids.get(r) is None else refs)[r.kind].append(r)
        rows = self.read(
            f"lineage/step_{direction.value}",
            artifact_ids=[r.id for r in by_id[NodeKind.ARTIFACT]],
            execution_ids=[r.id for r in by_id[NodeKind.EXECUTION]],
            artifact_refs=[[iids[r], r.id] for r in refs[NodeKind.ARTIFACT]],
            execution_refs=[[iids[r], r.id] for r in refs[NodeKind.EXECUTION]],
            as_of=as_of,
        )
        found: set[NodeRef] = set()
        sought: dict[NodeKind, int] = {}
        for row in rows:
            kind = NodeKind(row["label"])
            if row["sought"] is not None:  # how many of this kind's engine ids named their node
                sought[kind] = int(row["sought"])
                continue
            ref = NodeRef(kind, stored_id(kind.value, row["id"]))
            iids[ref] = row["iid"]
            found.add(ref)
        lost = [r for kind, sent in refs.items() if sought.get(kind, 0) < len(sent) for r in sent]
        if lost:
            for r in lost:
                del iids[r]
            found |= self._step(direction, lost, as_of, iids)
        return found

    def _expand(
        self, query: LineageQuery, direction: Direction
    ) -> tuple[set[NodeRef], dict[NodeRef, LineageNode]]:
        """Frontier BFS: one query per hop; boundaries are not expanded. Returns the reached
        references and the nodes fetched to judge boundaries (reused for the result)."""
        seen: set[NodeRef] = set(query.starts)
        frontier: set[NodeRef] = set(query.starts)
        fetched: dict[NodeRef, LineageNode] = {}
        excluded: set[NodeRef] = set()
        iids: EngineIds = {}
        hops = 0
        while frontier and (query.max_hops is None or hops < query.max_hops):
            found = self._step(direction, frontier, query.as_of, iids) - seen
            hops += 1
            if not found:
                break
            seen |= found
            if query.stop_at is not None:
                nodes = self.fetch(found)
                fetched.update(nodes)
                stops = {r for r, n in nodes.items() if query.stop_at.matches(n)}
                if not query.include_stop:
                    excluded |= stops
                found -= stops
            frontier = found
        return seen - excluded, fetched

    @staticmethod
    def _directions(query: LineageQuery) -> list[Direction]:
        return {
            Direction.UPSTREAM: [Direction.UPSTREAM],
            Direction.DOWNSTREAM: [Direction.DOWNSTREAM],
            Direction.BOTH: [Direction.UPSTREAM, Direction.DOWNSTREAM],
            Direction.ANY: [Direction.ANY],
        }[query.direction]

    @staticmethod
    def _in_engine(query: LineageQuery) -> bool:
        """Whether one engine-side traversal answers it (nothing but the direction shapes it)."""
        return (
            query.max_hops is None
            and query.stop_at is None
            and query.as_of is None
            and query.direction is not Direction.ANY
        )

    @staticmethod
    def _within_in_engine(query: LineageQuery) -> bool:
        """Whether a walk bounded by hops only may be tried as one engine walk."""
        return (
            query.max_hops is not None
            and query.max_hops >= WITHIN_MIN_HOPS
            and query.stop_at is None
            and query.as_of is None
            and query.direction is not Direction.ANY
        )

    def reachable(self, query: LineageQuery) -> tuple[set[NodeRef], dict[NodeRef, LineageNode]]:
        directions = self._directions(query)
        in_engine = self._in_engine(query)
        reached: set[NodeRef] = set(query.starts)
        fetched: dict[NodeRef, LineageNode] = {}
        for direction in directions:
            walked = self._reach(direction, query.starts) if in_engine else None
            if walked is not None:
                reached |= walked
            else:
                found, nodes = self._expand(query, direction)
                reached |= found
                fetched.update(nodes)
        return reached, fetched

    # ------------------------------------------------------------------------------- fetching

    def fetch(self, refs: Iterable[NodeRef]) -> dict[NodeRef, LineageNode]:
        artifact_ids, execution_ids = _split(refs)
        out: dict[NodeRef, LineageNode] = {}
        for repo, kind, ids in (
            (self.artifacts, NodeKind.ARTIFACT, artifact_ids),
            (self.executions, NodeKind.EXECUTION, execution_ids),
        ):
            for i in range(0, len(ids), _FETCH_CHUNK):
                with gc_paused():
                    for node in repo.get_by_ids(ids[i : i + _FETCH_CHUNK]):
                        assert node.id is not None
                        out[NodeRef(kind, node.id)] = node
        return out

    def _events(
        self, artifact_ids: list[int], execution_ids: set[int], as_of: int | None
    ) -> list[Event]:
        events: list[Event] = []
        for i in range(0, len(artifact_ids), _FETCH_CHUNK):
            chunk = artifact_ids[i : i + _FETCH_CHUNK]
            for ev in self.relations.events_by_artifact_ids(chunk):
                if ev.execution_id not in execution_ids:
                    continue
                if as_of is not None and (ev.milliseconds_since_epoch or 0) > as_of:
                    continue
                events.append(ev)
        return events

    def links(
        self, artifact_ids: list[int], execution_ids: list[int]
    ) -> tuple[list[Attribution], list[Association]]:
        """The context links of these artifacts and executions, in one read (also what the
        viewer's whole-store graph reads, :func:`lineage_graph.viewer.graph_from_store`)."""
        if not artifact_ids and not execution_ids:
            return [], []
        rows = self.read(
            "lineage/links",
            artifact_ranges=id_ranges(artifact_ids),
            execution_ranges=id_ranges(execution_ids),
        )
        # In the order the links were written (``seq``, MLMD's link ids: get_lineage_subgraph
        # returns them so), links stored before that was kept first, by their ends.
        rows = sorted(rows, key=lambda r: (r["seq"], r["node_id"], r["context_id"]))
        attributions = [
            Attribution(artifact_id=r["node_id"], context_id=r["context_id"])
            for r in rows
            if r["kind"] == "attribution"
        ]
        associations = [
            Association(execution_id=r["node_id"], context_id=r["context_id"])
            for r in rows
            if r["kind"] == "association"
        ]
        return attributions, associations

    def _links(
        self, artifact_ids: list[int], execution_ids: list[int]
    ) -> tuple[list[Context], list[Attribution], list[Association]]:
        attributions, associations = self.links(artifact_ids, execution_ids)
        context_ids = sorted(
            {a.context_id for a in attributions} | {a.context_id for a in associations}
        )
        return self.contexts.get_by_ids(context_ids), attributions, associations

    # --------------------------------------------------------------------------------- answer

    def _graph(
        self,
        query: LineageQuery,
        artifacts: list[Artifact],
        executions: list[Execution],
        events: list[Event],
        **state: Any,
    ) -> LineageGraph:
        """The answer, with the nodes' contexts and links when the query asks for them."""
        contexts: list[Context] = []
        attributions: list[Attribution] = []
        associations: list[Association] = []
        if query.include_contexts:
            contexts, attributions, associations = self._links(
                [a.id for a in artifacts if a.id is not None],
                [e.id for e in executions if e.id is not None],
            )
        return LineageGraph(
            artifacts=artifacts,
            executions=executions,
            events=events,
            contexts=contexts,
            attributions=attributions,
            associations=associations,
            **state,
        )

    def _run_whole(self, query: LineageQuery) -> LineageGraph | None:
        """An unpaged engine-side answer: each node comes back with the traversal, with its
        events on the walked side (one query per direction), never looked up again by id. None
        when many starts reached the path cap: the frontier expansion answers."""
        with gc_paused():
            answers = []
            for d in self._directions(query):
                rows = self._reach_rows(f"lineage/reach_{d.value}_nodes", query.starts)
                if rows is None:
                    return None
                answers.append(rows)
            return self._assemble(query, answers)

    def _run_within(self, query: LineageQuery) -> LineageGraph | None:
        """A walk bounded by ``max_hops`` in one engine walk per direction, or None when a walk
        reaches :data:`WITHIN_CAP` paths or more (or a start node does not exist): then the
        frontier expansion answers. The hop distances come from the events returned."""
        assert query.max_hops is not None
        with gc_paused():
            answers = []
            for direction in self._directions(query):
                rows = self._capped_rows(
                    f"lineage/reach_{direction.value}_nodes", query.starts, WITHIN_CAP
                )
                if not rows:
                    return None
                answers.append(_within_hops(rows, query.starts, query.max_hops))
            return self._assemble(query, answers)

    def _assemble(self, query: LineageQuery, answers: list[list[dict[str, Any]]]) -> LineageGraph:
        """The answer from each direction's rows (a row per node, and one per event on the walked
        side).

        Bookkeeping is by plain ids (one dict per kind), and a node or event met twice (both
        directions) is decoded once: on a 4,001-node answer the Python side is most of the time.
        """
        artifacts: dict[int, Artifact] = {}
        executions: dict[int, Execution] = {}
        found: dict[tuple[int, int, int], Event] = {}
        for rows in answers:
            for row in rows:  # a node's row, or an event's (``node`` null): cypher/lineage/
                is_artifact = row["label"] == _ARTIFACT_LABEL
                stored = row["node"]
                if stored is not None:
                    seen = artifacts if is_artifact else executions
                    kind = NodeKind.ARTIFACT if is_artifact else NodeKind.EXECUTION
                    ident = stored_id(kind.value, stored.get("id"))  # absent: no KeyError
                    if ident not in seen:
                        seen[ident] = decode_node(kind, stored)  # type: ignore[assignment]
                    continue
                ident, other, etype = row["id"], row["other"], row["type"]
                key = (ident, other, etype) if is_artifact else (other, ident, etype)
                if type(etype) is not int:  # another writer's (a name): validated (a list
                    # is no key: TypeError), keyed by number as the events read below are
                    event = stored_event(key[0], key[1], etype, row["path"], row["ms"])
                    found.setdefault((key[0], key[1], int(event.type)), event)
                elif key not in found:
                    found[key] = stored_event(key[0], key[1], etype, row["path"], row["ms"])
        if query.direction is Direction.BOTH:
            # An event from an upstream node straight to a downstream one is on neither walked
            # side: read the answer's artifacts' events (kept below when both ends are in it).
            ids = list(artifacts)
            for i in range(0, len(ids), _FETCH_CHUNK):
                for ev in self.relations.events_by_artifact_ids(ids[i : i + _FETCH_CHUNK]):
                    found.setdefault((ev.artifact_id, ev.execution_id, int(ev.type)), ev)  # type: ignore[arg-type]
        missing = [
            r
            for r in query.starts
            if r.id not in (artifacts if r.kind is NodeKind.ARTIFACT else executions)
        ]
        if missing:
            raise NotFoundError(
                "no such start node: "
                + ", ".join(sorted(f"{r.kind.value.lower()} {shown(r.id)}" for r in missing))
            )
        answer_artifacts = [artifacts[i] for i in sorted(artifacts)]
        answer_executions = [executions[i] for i in sorted(executions)]
        if query.where is not None:
            where = query.where
            answer_artifacts = [n for n in answer_artifacts if where.matches(n)]
            answer_executions = [n for n in answer_executions if where.matches(n)]
        kept_artifacts = {n.id for n in answer_artifacts}
        kept_executions = {n.id for n in answer_executions}
        events = [
            found[k] for k in sorted(found) if k[0] in kept_artifacts and k[1] in kept_executions
        ]
        return self._graph(
            query,
            answer_artifacts,
            answer_executions,
            events,
            total=len(answer_artifacts) + len(answer_executions),
        )

    def run(self, query: LineageQuery, cursor: str | None = None) -> LineageGraph:
        """The answer to ``query`` (one page of it when paged). Each large read is read and
        decoded with Python's cyclic collector paused (``_gc.py``: the collections a 4,001-node
        answer ran took 42 ms of a 128 ms call); the hops of a frontier walk are not."""
        if not all(INT64_MIN <= r.id <= INT64_MAX for r in query.starts):
            # No node has an id past int64: NotFoundError naming every missing start, as below,
            # before any walk sends it (Neo4j's driver cannot encode it: OverflowError).
            self.check_exist(query.starts)
        if query.limit is None and cursor is None:
            if self._in_engine(query):
                whole = self._run_whole(query)
                if whole is not None:
                    return whole
            if self._within_in_engine(query):
                within = self._run_within(query)
                if within is not None:
                    return within
        self.check_exist(query.starts)
        after = _decode_cursor(query, cursor) if cursor is not None else None
        reached, fetched = self.reachable(query)
        answer = sorted(reached, key=_sort_key)  # every page's nodes, in page order
        if query.where is not None:
            # The filter needs the nodes themselves: fetch all, keep the matching ones.
            fetched.update(self.fetch([r for r in answer if r not in fetched]))
            answer = [r for r in answer if r in fetched and query.where.matches(fetched[r])]
        remaining = answer if after is None else [r for r in answer if _sort_key(r) > after]
        page = remaining if query.limit is None else remaining[: query.limit]
        complete = len(page) == len(remaining)
        with gc_paused():  # the answer's reads and models, after the walk's hops
            fetched.update(self.fetch([r for r in page if r not in fetched]))
            nodes = [fetched[r] for r in page if r in fetched]  # one deleted meanwhile: skipped
            artifacts = [n for n in nodes if isinstance(n, Artifact)]
            executions = [n for n in nodes if isinstance(n, Execution)]
            # An event is returned with the page holding its artifact, when its execution is in
            # the answer too (on any page): every event appears exactly once across pages.
            answer_executions = {r.id for r in answer if r.kind is NodeKind.EXECUTION}
            events = self._events(
                [a.id for a in artifacts if a.id is not None], answer_executions, query.as_of
            )
            return self._graph(
                query,
                artifacts,
                executions,
                events,
                complete=complete,
                cursor=None if complete or not page else _encode_cursor(query, page[-1]),
                total=len(answer),
            )
