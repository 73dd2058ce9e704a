"""The adapter's checks of the events a write gives, in MLMD's order: put_lineage_subgraph's
edges (before anything else), put_execution's events (aligned with their nodes, given twice or
stored: as MLMD inserts them once it has written the nodes) and put_events' events (one by one).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from .. import exceptions as native
from ..models import Event, EventType, Node, NodeKind
from ..store import LineageStore
from . import _convert
from ._node_checks import NodeChecks

N = TypeVar("N")


def check_edges(
    edges: Sequence[tuple[int | None, int | None, Any]],
    executions: Sequence[Any],
    artifacts: Sequence[Any],
) -> None:
    """put_lineage_subgraph's edges are checked before anything else, as MLMD does, edge by
    edge: its event is given (None is an unset one in ml_metadata's request), then for its
    execution and then its artifact, the index is in range and, where the event names that
    node's id too, the node at the index is given with that id (MLMD checks the request: a new
    node there is "Missing ... ID" even when the write would give it that id). Read on the
    request's messages: an id given as 0 is given (it matches no node but one given with id 0,
    whose update MLMD then refuses), and an event's type and a node's own fields are checked
    after every edge (MLMD checks the nodes, then each event's type as it writes it)."""
    for i, (e_index, a_index, event) in enumerate(edges):
        if event is None:
            raise native.InvalidArgumentError(f"No event found for event_edge #{i}")
        artifact_id, execution_id = _convert.event_ids(event)
        for index, given, nodes, what in (
            (e_index, execution_id, executions, "execution"),
            (a_index, artifact_id, artifacts, "artifact"),
        ):
            if index is None and given is None:
                raise native.InvalidArgumentError(
                    f"event edge #{i} is missing an {what}: give an {what} index or an "
                    f"event.{what}_id"
                )
            if index is None:
                continue
            if not 0 <= index < len(nodes):
                raise native.OutOfRangeError(
                    f"event edge #{i}: {what} index {index} is outside [0, {len(nodes)})"
                )
            node = nodes[index]
            held = node.id if node.HasField("id") else None
            if given is not None and held is None:
                raise native.InvalidArgumentError(
                    f"Missing {what} ID: event edge #{i} gives event.{what}_id {given}, but the "
                    f"{what} at index {index} is given without an id"
                )
            if given is not None and held != given:
                raise native.InvalidArgumentError(
                    f"{what.title()} ID mismatch: event edge #{i} gives event.{what}_id "
                    f"{given}, but the {what} at index {index} has id {held}"
                )


def placed(given: Sequence[N], present: Sequence[bool]) -> list[N | None]:
    """``given`` in order at the positions ``present`` marks, None elsewhere."""
    it = iter(given)
    return [next(it) if here else None for here in present]


def aligned_events(
    execution: Node,
    artifacts: Sequence[Node | None],
    events: Sequence[Any],
    *,
    written: bool,
    stored: Collection[tuple[NodeKind, int]] = (),
) -> list[Event | None]:
    """put_execution's event messages as models, checked pair by pair as MLMD checks them once
    it has written each artifact: an event's execution_id other than the execution's, or
    artifact_id other than its artifact's, is InvalidArgumentError, and then an event without
    a type. An id given as 0 or below is set and names no node: never aligned. A node to be
    written new has no id yet here: with ``written`` False (the write goes on) an id it names
    is left to the write, which compares it with the new id; with ``written`` True (the call is
    refused before the write) any id named for it counts as other (MLMD's new id could match
    it only by chance). ``stored``: ids named for new nodes that stored nodes hold, never a new
    node's (ids are not given twice): other, found here, before the contexts (which the write
    checks before it compares the events' ids)."""
    out: list[Event | None] = []
    for artifact, msg in zip(artifacts, events, strict=True):
        if msg is None:
            out.append(None)
            continue
        artifact_id, execution_id = _convert.event_ids(msg)
        if artifact is None:  # a pair without an artifact: its event names a stored one
            if artifact_id is None:
                raise native.InvalidArgumentError(
                    "If no artifact is present, given event must have an artifact_id"
                )
            if artifact_id < 1:  # MLMD writes an event to it; no node has that id
                raise native.InvalidArgumentError(f"No artifact with the given id {artifact_id}")
        for kind, given, held, error in (
            (
                NodeKind.EXECUTION,
                execution_id,
                execution.id,
                f"Request's event.execution_id {execution_id} does not match with the given "
                "execution",
            ),
            (
                NodeKind.ARTIFACT,
                artifact_id,
                artifact_id if artifact is None else artifact.id,
                f"Given event.artifact_id {artifact_id} is not aligned with the artifact",
            ),
        ):
            if given is None or given == held:
                continue
            if given < 1 or held is not None or written or (kind, given) in stored:
                raise native.InvalidArgumentError(error)
        out.append(_convert.to_event(msg))
    return out


def check_events(
    checks: NodeChecks,
    execution: Node,
    artifacts: Sequence[Node | None],
    event_msgs: Sequence[Any],
    *,
    fold: bool,
) -> None:
    """put_execution's events as MLMD inserts them, pair by pair, after it has written the
    artifacts and the execution and before it reaches the contexts: one not aligned with
    its nodes (or without a type) is InvalidArgumentError; one given twice (the same
    artifact, by id, by a stored external id, or new twice with ``fold``, the reuse flag) or
    stored already is AlreadyExistsError, once the updates given would be written. Called
    on the paths to a context's error and to an event's own error, which these come before
    (reads only there)."""
    seen: set[tuple[object, object]] = set()
    first_new: dict[str, int] = {}
    stored: set[tuple[object, object]] | None = None
    for i, (artifact, msg) in enumerate(zip(artifacts, event_msgs, strict=True)):
        if msg is None:
            continue
        [event] = aligned_events(execution, [artifact], [msg], written=True)
        assert event is not None  # (only an unset message gives None)
        if artifact is None:  # its event names a stored artifact (see aligned_events)
            node: object = event.artifact_id
        elif artifact.id is not None:
            node = artifact.id
        elif fold and artifact.external_id:
            node = ("new", first_new.setdefault(artifact.external_id, i))
        else:
            continue  # a new artifact: no event of it can exist
        key = (node, event.type)
        again = key in seen
        if not again and isinstance(node, int) and execution.id is not None:
            if stored is None:
                stored = {
                    (e.artifact_id, e.type)
                    for e in checks.store.get_events_by_execution_ids([execution.id])
                }
            again = key in stored
        if not again:
            seen.add(key)
            continue
        updates = [m for m in (*artifacts, execution) if m is not None and m.id is not None]
        if checks.updates_pass(updates):
            raise native.AlreadyExistsError(
                f"event #{i}: the event ({event.type.name}) of artifact #{i} and the "
                "execution is given twice or stored already"
            )
        return


def named_for_new(
    store: LineageStore,
    execution: Node,
    artifacts: Sequence[Node | None],
    events: Sequence[Any],
    reuse_by_external_id: bool,
) -> set[tuple[NodeKind, int]]:
    """put_execution: the ids its events name for nodes written new that stored nodes hold
    (see :func:`aligned_events`); one read of each kind, only where an event names such
    an id (a new artifact with an external id is left out under the reuse flag: it may be
    a stored one's update)."""
    named: dict[NodeKind, set[int]] = {NodeKind.EXECUTION: set(), NodeKind.ARTIFACT: set()}
    for artifact, msg in zip(artifacts, events, strict=True):
        if msg is None:
            continue
        artifact_id, execution_id = _convert.event_ids(msg)
        if execution.id is None and execution_id is not None and execution_id >= 1:
            named[NodeKind.EXECUTION].add(execution_id)
        if (
            artifact is not None
            and artifact.id is None
            and not (reuse_by_external_id and artifact.external_id)
            and artifact_id is not None
            and artifact_id >= 1
        ):
            named[NodeKind.ARTIFACT].add(artifact_id)
    return {
        (kind, n.id)
        for kind, ids in named.items()
        if ids
        for n in store._repository_of(kind).get_by_ids(ids)
        if n.id is not None
    }


def refuse_stored_events(store: LineageStore, models: Sequence[Event]) -> None:
    """MLMD checks and inserts put_events' events one by one: an event stored already, or
    given earlier in the call, is AlreadyExistsError before a later event's own error (an
    id missing or naming no node, no type), which the native write finds first; an
    earlier event's own error comes first (InvalidArgumentError, whichever it is). Called
    on an error path (reads), with the events read so far (one that cannot be read, for
    its type or its ids, comes after them)."""
    artifacts = {e.artifact_id for e in models if e.artifact_id and e.artifact_id > 0}
    executions = {e.execution_id for e in models if e.execution_id and e.execution_id > 0}
    have_artifacts = {n.id for n in store.get_artifacts_by_id(sorted(artifacts))}
    have_executions = {n.id for n in store.get_executions_by_id(sorted(executions)) if n.id}
    stored = {
        (e.artifact_id, e.execution_id, e.type)
        for e in store.get_events_by_execution_ids(sorted(have_executions))
    }
    seen: set[tuple[int | None, int | None, EventType]] = set()
    for i, e in enumerate(models):
        key = (e.artifact_id, e.execution_id, e.type)
        for what, ident, have in (
            ("artifact", e.artifact_id, have_artifacts),
            ("execution", e.execution_id, have_executions),
        ):
            if ident is None:
                raise native.InvalidArgumentError(f"event #{i + 1}: No {what} id is specified.")
            if ident not in have:
                raise native.InvalidArgumentError(
                    f"event #{i + 1}: No {what} with the given id {ident}"
                )
        if key in stored or key in seen:
            raise native.AlreadyExistsError(f"Given event already exists: event #{i + 1}")
        seen.add(key)
