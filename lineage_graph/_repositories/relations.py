"""Events, attributions, associations and parent contexts: validate, prepare, read."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from pydantic import ValidationError

from .._encoding import enum_numbers, shown, stored_validation_error
from ..exceptions import AlreadyExistsError, InvalidArgumentError, LineageGraphError
from ..models import (
    INT64_MAX,
    INT64_MIN,
    Artifact,
    Association,
    Attribution,
    Context,
    Event,
    EventType,
    Execution,
    ParentContext,
)
from ..models._entities import plain_step
from ..models._stored import stored_model_filled
from ._base import Repository, check_positive_id, id_ranges, positioned
from .nodes import NodeRepository

__all__ = [
    "MissingNodesError",
    "ParentLinksChanged",
    "RelationRepository",
    "decode_event",
    "stored_event",
]


class MissingNodesError(InvalidArgumentError):
    """A relationship names nodes that do not exist (``what``: "artifact", "execution",
    "context"; ``ids``): the MLMD adapter tells a context it was told to reuse apart."""

    def __init__(self, message: str, what: str, ids: list[int]) -> None:
        super().__init__(message)
        self.what = what
        self.ids = ids


class ParentLinksChanged(LineageGraphError):
    """A write of parent links aborted because another one came in after its cycle check read
    the store, and checking again found nothing wrong: put_parent_contexts tries again."""


#: The stored event types this library writes (UNKNOWN is refused on write: Event's validator).
_EVENT_TYPES = {int(t): t for t in EventType if t is not EventType.UNKNOWN}
_order_lock = threading.Lock()
_last_order = 0


def _order_lock_after_fork() -> None:
    """A forked child gets a lock of its own: one held by another thread of the parent at the
    fork stays held in the child for ever, and its first write of events hung."""
    global _order_lock
    _order_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_order_lock_after_fork)


def write_order(count: int) -> range:
    """``count`` places in the order events are written: microseconds since the epoch when the
    write is prepared, strictly increasing within the process (a clock stepped back does not
    reorder its writes). Across processes they follow the clock, as MLMD's event ids follow
    its commits; no round trip (a sequence reserved in blocks took 13 more in a 25-batch
    put_lineage_subgraph ingest, and ordered concurrent processes by their blocks)."""
    global _last_order
    with _order_lock:
        first = max(_last_order + 1, time.time_ns() // 1000)
        _last_order = first + count - 1
    return range(first, first + count)


def decode_event(row: dict[str, Any], *, validate: bool = False) -> Event:
    """An event from a stored one, built without validating again what its write validated
    (``stored_event``); ``validate`` for a row from elsewhere (a file): pydantic's errors."""
    if not validate:
        return stored_event(
            row["artifact_id"], row["execution_id"], row["type"], row.get("path"), row.get("ms")
        )
    values = {
        "artifact_id": row["artifact_id"],
        "execution_id": row["execution_id"],
        "type": row["type"],
        "path": _stored_path(row.get("path"))[0],
        "milliseconds_since_epoch": row.get("ms"),
    }
    return Event.model_validate(values)


def _stored_path(path: object) -> tuple[Any, bool]:
    """An event's steps from its stored ``path`` (JSON text), and whether they are what this
    library writes (a list of int64 indexes and str keys). Anything else (text that is not JSON,
    an object, a float step, a value stored as a list by another writer) is returned as it is,
    for pydantic's validation to accept or to refuse naming ``path``."""
    if not path or path == "[]":
        return [], True
    if type(path) is not str:
        return path, False
    try:
        steps = json.loads(path)
    except ValueError:
        return path, False
    if type(steps) is not list:
        return steps, False
    for step in steps:
        if type(step) is not str and not _int64(step):
            return steps, False
    return steps, True


#: Every field of Event, which :func:`stored_event` gives in this order (Event's).
_EVENT_FIELDS = frozenset(
    ("artifact_id", "execution_id", "type", "path", "milliseconds_since_epoch")
)


def stored_event(
    artifact_id: int, execution_id: int, etype: int, path: str | None, ms: int | None
) -> Event:
    """An event from its stored values (``type`` as stored, ``path`` as its stored JSON text),
    without validating again what its write validated; a type (UNKNOWN too), path, time or id
    this library would not have written is validated: what validation refuses (written around
    the library: another tool, a hand-made Cypher statement) is :class:`StoredValueError`
    naming the event and the field (a bare ValidationError before, and a TypeError for a type
    stored as a list). Every field is given, in Event's order (tests/unit/test_stored.py
    holds it equal to the validated event)."""
    member = _EVENT_TYPES.get(etype) if type(etype) is int else None
    if not path or path == "[]":  # most events: no call
        steps: Any = []
        written_here = True
    else:
        steps, written_here = _stored_path(path)
    values: dict[str, Any] = {
        "artifact_id": artifact_id,
        "execution_id": execution_id,
        "type": member,
        "path": steps,
        "milliseconds_since_epoch": ms,
    }
    if (
        member is None
        or not written_here
        or (ms is not None and type(ms) is not int)
        or type(artifact_id) is not int
        or type(execution_id) is not int
    ):  # not this library's: validated, and what validation refuses is named
        values["type"] = etype
        try:
            return Event.model_validate(values)
        except ValidationError as exc:
            stored = {**values, "path": path}  # the path as stored, not as parsed
            raise stored_validation_error(
                "Event", (artifact_id, execution_id), exc, stored, _EVENT_EXPECTED
            ) from None
    return stored_model_filled(Event, values, set(_EVENT_FIELDS))


#: What :func:`stored_event` says the library writes in each of an event's fields.
_EVENT_EXPECTED = {
    "type": enum_numbers(EventType, _EVENT_TYPES.values()),
    "path": "a JSON list of int64 indexes and str keys",
    "milliseconds_since_epoch": "an int",
    "artifact_id": "a positive int",
    "execution_id": "a positive int",
}


def _int64(value: object) -> bool:
    return type(value) is int and INT64_MIN <= value <= INT64_MAX


def _check_ids(label: str, link: Attribution | Association | ParentContext) -> None:
    """A link's ids, checked again at the write (a model built without validation)."""
    for name in type(link).model_fields:
        check_positive_id(label, name, getattr(link, name, None))  # None when built without


def _check_event(i: int, event: Event) -> Sequence[int | str]:
    """The event's fields, checked again at the write: a model built without validation
    (``model_construct``) or changed in place (``event.path.append(...)``) is written as it is,
    and reads build their models without validating again (``stored_model``). Returns the
    path's steps as plain ints and strs, which the write stores."""
    for name in ("artifact_id", "execution_id"):
        check_positive_id(f"event #{i}", name, getattr(event, name))
    if event.type.__class__ is not EventType or event.type is EventType.UNKNOWN:
        raise InvalidArgumentError(
            f"event #{i}: needs a type (INPUT, OUTPUT, DECLARED_INPUT...), got {shown(event.type)}"
        )
    if not isinstance(event.path, list | tuple):
        # A str was written as its characters (path="ab": ["a", "b"]), bytes as their codes,
        # a dict as its keys; a number escaped as "TypeError: 'int' object is not iterable".
        raise InvalidArgumentError(
            f"event #{i}: path is a list of steps, got {type(event.path).__name__} "
            f"{shown(event.path)}"
        )
    path: Sequence[Any] = event.path
    steps: list[int | str] | None = None  # a copy, once a step is not a plain int64 or str
    for k, step in enumerate(path):
        if type(step) is str or (type(step) is int and INT64_MIN <= step <= INT64_MAX):
            continue  # (what paths hold: plain_step, a call per step, is for the others)
        # as the model takes it (plain_step): an IntEnum, a numpy integer or a str subclass
        # put in place was refused here, or stored by its str() (json.dumps of a subclass)
        try:
            plain = plain_step(step)
        except TypeError:
            plain = None
        if plain is None or not (type(plain) is str or _int64(plain)):
            raise InvalidArgumentError(
                f"event #{i}: a path step is an int64 index or a str key, got "
                f"{type(step).__name__} {shown(step)}"
            )
        if steps is None:
            steps = list(path)
        steps[k] = plain
    ms = event.milliseconds_since_epoch
    if ms is not None and not _int64(ms):
        raise InvalidArgumentError(
            f"event #{i}: milliseconds_since_epoch must be an int64, got {shown(ms)}"
        )
    return path if steps is None else steps


def _nothing() -> None:
    """The check of a write without events: nothing to name."""


class RelationRepository(Repository):
    def __init__(
        self,
        backend: Any,
        artifacts: NodeRepository[Artifact],
        executions: NodeRepository[Execution],
        contexts: NodeRepository[Context],
    ) -> None:
        super().__init__(backend)
        self.artifacts = artifacts
        self.executions = executions
        self.contexts = contexts

    # ---------------------------------------------------------------------------- existence

    @staticmethod
    def _require(repo: NodeRepository[Any], ids: set[int], known: Iterable[int], what: str) -> None:
        missing = ids - set(known)
        if missing:
            missing -= repo.existing_ids(missing)
        if missing:
            raise MissingNodesError(f"no {what} with id {sorted(missing)}", what, sorted(missing))

    # --------------------------------------------------------------------------------- events

    def prepare_events(
        self,
        events: Sequence[Event],
        *,
        now: int,
        new_artifacts: Iterable[int] = (),
        new_executions: Iterable[int] = (),
        verified_artifacts: Iterable[int] = (),
        verified_executions: Iterable[int] = (),
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Callable[[], None]]:
        """``(input rows, output rows, check)`` for ``graph/write``; raises before anything is
        written for what the events alone show (types, repeats within the write).

        That each end exists and that no event is stored already is proven by the write itself:
        its guards abort it, nothing written (no read before it: a 1,000-event put_events took
        two more round trips and ~9 ms). ``check`` is for GraphWriter to run after an aborted
        write: it raises the caller's error, MissingNodesError for an end that does not exist or
        AlreadyExistsError for an event stored already (events are immutable), as a check before
        the write did.

        ``new_*`` are ids this write creates; ``verified_*`` ids that ``check`` leaves to the
        write (as :meth:`prepare_links`'s).
        """
        seen: set[tuple[int, int, int]] = set()
        rows: list[tuple[bool, dict[str, Any]]] = []
        for i, event in enumerate(events):
            if not isinstance(event, Event):
                raise InvalidArgumentError(
                    f"event #{i}: expected Event, got {type(event).__name__}"
                )
            if event.artifact_id is None or event.execution_id is None:
                raise InvalidArgumentError(f"event #{i}: artifact_id and execution_id are required")
            steps = _check_event(i, event)
            key = (event.artifact_id, event.execution_id, int(event.type))
            if key in seen:
                raise AlreadyExistsError(
                    f"event #{i}: the same (artifact {key[0]}, execution {key[1]}, "
                    f"{event.type.name}) event twice in one write"
                )
            seen.add(key)
            row = {
                "artifact_id": event.artifact_id,
                "execution_id": event.execution_id,
                "type": int(event.type),
                "path": json.dumps(steps) if steps else "[]",
                "ms": now
                if event.milliseconds_since_epoch is None
                else event.milliseconds_since_epoch,
            }
            rows.append((event.type.is_output, row))
        if not rows:
            return [], [], _nothing
        # Each event's place in the order events were written (MLMD's Event.id, which MLMD
        # returns an execution's events by): write_order().
        for seq, (_, row) in zip(write_order(len(rows)), rows, strict=True):
            row["seq"] = seq
        new_a, new_e = set(new_artifacts), set(new_executions)
        known_a, known_e = new_a | set(verified_artifacts), new_e | set(verified_executions)
        # An event with an end created by this write cannot exist yet, nor be written by anyone
        # else meanwhile: graph/write CREATEs it. The others are checked by the write, which
        # aborts when one is stored already.
        for _, row in rows:
            row["fresh"] = row["artifact_id"] in new_a or row["execution_id"] in new_e

        def check() -> None:
            self._require(self.artifacts, {k[0] for k in seen}, known_a, "artifact")
            self._require(self.executions, {k[1] for k in seen}, known_e, "execution")
            old = [
                {"artifact_id": a, "execution_id": e, "type": t}
                for a, e, t in seen
                if a not in new_a and e not in new_e
            ]
            if old:
                keys, at = positioned(old, "e")
                dup = self.read("events/find_existing", events=keys, at=at)
                if dup:
                    d = dup[0]
                    raise AlreadyExistsError(
                        f"event (artifact {d['artifact_id']}, execution {d['execution_id']}, "
                        f"{EventType(d['type']).name}) already exists: events are immutable"
                    )

        return [r for out, r in rows if not out], [r for out, r in rows if out], check

    def events_by_artifact_ids(self, ids: Iterable[int]) -> list[Event]:
        return [
            decode_event(r) for r in self.read("events/get_by_artifact_ids", ranges=id_ranges(ids))
        ]

    def events_by_execution_ids(self, ids: Iterable[int]) -> list[Event]:
        return [
            decode_event(r) for r in self.read("events/get_by_execution_ids", ranges=id_ranges(ids))
        ]

    def event_order(self, execution_ids: Iterable[int]) -> dict[tuple[int, int, int], int]:
        """Each event of these executions by its (artifact, execution, type): its place in the
        order events were written (``seq``; 0 for an event stored before that was kept)."""
        return {
            (int(r["artifact_id"]), int(r["execution_id"]), int(r["type"])): int(r["seq"])
            for r in self.read("events/get_by_execution_ids", ranges=id_ranges(execution_ids))
        }

    # ------------------------------------------------------------- attributions / associations

    def prepare_links(
        self,
        attributions: Sequence[Attribution],
        associations: Sequence[Association],
        *,
        new_artifacts: Iterable[int] = (),
        new_executions: Iterable[int] = (),
        new_contexts: Iterable[int] = (),
        verified_artifacts: Iterable[int] = (),
        verified_executions: Iterable[int] = (),
        verified_contexts: Iterable[int] = (),
    ) -> tuple[list[dict[str, int]], list[dict[str, int]], Callable[[], None]]:
        """``(attribution rows, association rows, check)`` for ``graph/write`` (an existing link
        is a no-op, as in MLMD). That both ends of each link exist is proven by the write (its
        guards abort it, nothing written); ``check``, run by GraphWriter after an aborted write,
        raises MissingNodesError for an end that does not exist, as a read before the write did
        (a put_execution with contexts and stored inputs: one round trip less).

        ``new_*`` are ids this write creates; ``verified_*`` ids that ``check`` leaves to the
        write (a composite write's own nodes: one given by id alone that does not exist is
        GraphWriter's NotFoundError, whatever part of the write reads it)."""
        if not attributions and not associations:  # (put_execution without contexts, mostly)
            write_order(0)  # the order's clock moves on as it does for links (a clock stepped back)
            return [], [], _nothing
        for links, model in ((attributions, Attribution), (associations, Association)):
            for i, link in enumerate(links):
                # each list its own model: an Association among the attributions escaped as
                # an AttributeError (no artifact_id)
                if not isinstance(link, model):
                    raise InvalidArgumentError(
                        f"{model.__name__.lower()} #{i}: expected {model.__name__}, "
                        f"got {type(link).__name__}"
                    )
                _check_ids(f"{model.__name__.lower()} #{i}", link)
        attr = [{"artifact_id": a.artifact_id, "context_id": a.context_id} for a in attributions]
        assoc = [{"execution_id": a.execution_id, "context_id": a.context_id} for a in associations]
        known_a = set(new_artifacts) | set(verified_artifacts)
        known_e = set(new_executions) | set(verified_executions)
        known_c = set(new_contexts) | set(verified_contexts)

        def check() -> None:
            contexts = {a.context_id for a in attributions} | {a.context_id for a in associations}
            self._require(self.contexts, contexts, known_c, "context")
            self._require(
                self.artifacts, {a.artifact_id for a in attributions}, known_a, "artifact"
            )
            self._require(
                self.executions, {a.execution_id for a in associations}, known_e, "execution"
            )

        attr, assoc = _unique(attr), _unique(assoc)
        # Each link's place in the order links were written (MLMD's Attribution / Association
        # ids, which get_lineage_subgraph returns them by): kept when the link is created only.
        for seq, row in zip(write_order(len(attr) + len(assoc)), [*attr, *assoc], strict=True):
            row["seq"] = seq
        return attr, assoc, check

    # ------------------------------------------------------------------------ parent contexts

    def prepare_parents(self, parents: Sequence[ParentContext]) -> list[dict[str, int]]:
        """Rows for new parent links: both must exist, no duplicate, no cycle."""
        if not parents:
            return []
        rows: list[dict[str, int]] = []
        seen: set[tuple[int, int]] = set()
        # A link whose id is no positive int64 (a model built without validation, as the MLMD
        # adapter builds one from a message with an id of 0) is a fault of its own place in the
        # order: the links before it are checked first (it was raised first, so a stored link
        # before it was InvalidArgumentError where MLMD says AlreadyExistsError).
        bad_id: InvalidArgumentError | None = None
        for i, pc in enumerate(parents):
            if not isinstance(pc, ParentContext):
                raise InvalidArgumentError(f"parent context #{i}: expected ParentContext")
            if bad_id is not None:
                continue
            try:
                _check_ids(f"parent context #{i}", pc)
            except InvalidArgumentError as exc:
                bad_id = exc
                continue
            key = (pc.child_id, pc.parent_id)
            seen.add(key)
            rows.append({"child_id": pc.child_id, "parent_id": pc.parent_id})
        if not rows and bad_id is not None:
            raise bad_id
        wanted = {k for pair in seen for k in pair}
        found = self.contexts.existing_ids(wanted)
        stored = {
            (int(e["child_id"]), int(e["parent_id"]))
            for e in self.read("contexts/get_parent_links", pairs=rows)
        }
        # Link by link, as MLMD writes them: the first link that names a missing context, that
        # exists (stored or earlier in the batch) or that closes a cycle (with the stored links
        # and the earlier ones) is reported. The links before the first other fault are checked
        # for cycles all at once (one walk over the contexts above them, each visited once).
        fault: Exception | None = None
        links: list[tuple[int, int]] = []
        taken: set[tuple[int, int]] = set()
        for row in rows:
            child, parent = row["child_id"], row["parent_id"]
            missing = sorted({child, parent} - found)
            if missing:
                fault = MissingNodesError(f"no context with id {missing}", "context", missing)
            elif child == parent:
                fault = InvalidArgumentError(
                    f"there is a cycle detected: context {child} is its own parent"
                )
            elif (child, parent) in stored or (child, parent) in taken:
                fault = AlreadyExistsError(f"context {child} already has parent {parent}")
            if fault is not None:
                break
            taken.add((child, parent))
            links.append((child, parent))
        closing = self._first_cycle(links)
        if closing is not None:
            child, parent = links[closing]
            raise InvalidArgumentError(
                f"there is a cycle detected: context {parent} already descends from {child}"
            )
        if fault is None:
            fault = bad_id
        if fault is not None:
            raise fault
        # Each link's place in the order links were written: a write whose reply was lost is
        # read back by it (GraphWriter._applied; a retry of an applied one said AlreadyExists).
        for seq, row in zip(write_order(len(rows)), rows, strict=True):
            row["seq"] = seq
        return rows

    def parent_links_version(self) -> int:
        """How many writes of parent links the store has taken (FalkorDB; 0 on Neo4j): read
        before prepare_parents, given to the write, which aborts if it changed meanwhile."""
        rows = self.read("contexts/parent_links_version")
        return int(rows[0]["version"]) if rows else 0

    def _first_cycle(self, links: list[tuple[int, int]]) -> int | None:
        """The index of the first of ``links`` (child, parent) that closes a cycle with the
        stored parent links and the links before it, or None.

        A cycle through a new link runs from its parent up to its child, so only the contexts
        above the new links' parents matter: they are read level by level (one read per level,
        each context once), never path by path (a variable-length pattern enumerates every path
        on FalkorDB: 2^k on a ladder of k diamonds, ~225 ms at 14, minutes at 20). Then one
        linear cycle search over those links; when it finds one, a binary search over the
        prefixes of ``links`` finds the first link that closes it (log n searches more)."""
        if not links:
            return None
        new: dict[int, set[int]] = {}
        for child, parent in links:
            new.setdefault(child, set()).add(parent)
        above: dict[int, set[int]] = {}  # context -> its stored parents, for each one reached
        reached: set[int] = set()
        frontier = {parent for _, parent in links}
        while frontier:
            reached |= frontier
            for start in frontier:
                above.setdefault(start, set())
            for chunk in _chunks(sorted(frontier)):
                for row in self.read("contexts/get_parent_ids", ids=chunk):
                    above[int(row["child_id"])].add(int(row["parent_id"]))
            nxt: set[int] = set()
            for node in frontier:
                nxt |= above[node]
                nxt |= new.get(node, set())
            frontier = nxt - reached

        def cyclic(count: int) -> bool:
            graph = {node: set(ps) for node, ps in above.items()}
            for child, parent in links[:count]:
                if child in reached:  # a link below every parent cannot be on a cycle
                    graph[child].add(parent)
            return _has_cycle(graph)

        if not cyclic(len(links)):
            return None
        low, high = 1, len(links)  # cyclic(high) holds; find the least such count
        while low < high:
            mid = (low + high) // 2
            if cyclic(mid):
                high = mid
            else:
                low = mid + 1
        return low - 1


def _chunks(ids: list[int], size: int = 10_000) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _has_cycle(graph: dict[int, set[int]]) -> bool:
    """Whether the directed graph (node -> its successors, every successor a key) has a cycle:
    Kahn's algorithm, linear in nodes and edges."""
    indegree = dict.fromkeys(graph, 0)
    for successors in graph.values():
        for node in successors:
            indegree[node] += 1
    ready = [node for node, d in indegree.items() if d == 0]
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for successor in graph[node]:
            indegree[successor] -= 1
            if indegree[successor] == 0:
                ready.append(successor)
    return removed < len(graph)


def _unique(rows: list[dict[str, int]]) -> list[dict[str, int]]:
    seen: set[tuple[int, ...]] = set()
    out = []
    for row in rows:
        key = tuple(row.values())
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out
