"""MLMD writes a call's nodes one by one before it checks any event: a new node whose key (its
name of its type, its external id) is taken is AlreadyExistsError before a later node's or an
event's own error, which the adapter's checks and the native write find first. Read on those
errors' paths only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import exceptions as native
from .._repositories.composite import reuse_by_external_id
from ..models import Node, NodeKind, NodeType
from ..store import LineageStore
from ._write_rules import declared


def refuse_taken_keys(
    store: LineageStore,
    known_types: dict[NodeKind, dict[int, NodeType]],
    nodes: Sequence[Node],
    *,
    reuse_artifacts: bool = False,
    reuse_contexts: bool = False,
) -> None:
    """MLMD writes a call's nodes (``nodes``, in its order) before it checks any event (the
    ids it names in put_execution, its type), so a new node whose name (of its type) or
    external id is stored, or given to an earlier new node of the call, is
    AlreadyExistsError before an event's error. The native write checks the events first:
    called on an error path only (reads), an event's or a later node's own. It stops at an
    update of a node that is not stored (MLMD's InvalidArgumentError, the class the event's
    error has too) and at a node of a type not given or not found, with properties its type
    does not declare, or an update of another type than stored (MLMD checks each node
    before it writes it), and at an update changing its external id (a context's name):
    it may free a key a later node gives. ``reuse_artifacts``: a new artifact whose
    external id is stored (or given to an earlier one) updates it; ``reuse_contexts``: a
    new context whose name is stored (or given earlier) is linked."""
    if reuse_artifacts:  # (in place: the nodes keep MLMD's order)
        artifacts: list[Any] = [m for m in nodes if m.kind is NodeKind.ARTIFACT]
        reused = iter(reuse_by_external_id(artifacts, store.get_artifacts_by_external_ids))
        nodes = [next(reused) if m.kind is NodeKind.ARTIFACT else m for m in nodes]
    stored, keys, held = _stored_keys(store, nodes)
    seen_names: set[tuple[NodeKind, int | None, str]] = set()
    seen_external: set[tuple[NodeKind, str]] = set()
    for m in nodes:
        kind = m.kind
        if m.id is not None:
            if _stops_at_update(known_types, m, stored, keys):
                return
            continue
        t = known_types[kind].get(m.type_id) if m.type_id is not None else None
        if t is None or not declared(t, m):
            return  # its type's or its properties' error (MLMD checks before it writes)
        name_held = m.name is not None and (
            (kind, m.type_id, m.name) in seen_names
            or store._repository_of(kind).get_by_type_and_name(t.name, m.name, t.version)
            is not None
        )
        if (
            kind is NodeKind.ARTIFACT
            and reuse_artifacts
            and m.external_id
            and (kind, m.external_id) in seen_external
        ):
            continue  # an update of the call's earlier artifact: its name is kept
        if kind is NodeKind.CONTEXT and reuse_contexts and name_held:
            continue  # linked as it is stored (or as the call's earlier one)
        taken = ""
        if m.external_id and (
            (kind, m.external_id) in held or (kind, m.external_id) in seen_external
        ):
            taken = f"external_id {m.external_id!r}"
        elif name_held:
            taken = f"name {m.name!r} of type id {m.type_id}"
        if taken:
            raise native.AlreadyExistsError(
                f"Given node already exists: a new {kind.value.lower()}'s {taken} is taken "
                "(MLMD writes every node before it checks the events); nothing was written"
            )
        if m.external_id:
            seen_external.add((kind, m.external_id))
        if m.name is not None:
            seen_names.add((kind, m.type_id, m.name))


def _stops_at_update(
    known_types: dict[NodeKind, dict[int, NodeType]],
    m: Node,
    stored: dict[tuple[NodeKind, int], int | None],
    keys: dict[tuple[NodeKind, int], tuple[str | None, str | None]],
) -> bool:
    """Whether :func:`refuse_taken_keys` stops at the update ``m`` (see there)."""
    kind = m.kind
    assert m.id is not None
    if (kind, m.id) not in stored or m.type_id not in (None, stored[kind, m.id]):
        return True  # (an update of another type: MLMD's InvalidArgumentError too)
    t = known_types[kind].get(stored[kind, m.id] or 0)
    if t is not None and not declared(t, m):
        return True  # its properties' error: MLMD checks them before it writes it
    external_id, name = keys[kind, m.id]
    # it may free or take a key a later node gives: not followed here
    return m.external_id != external_id or (kind is NodeKind.CONTEXT and m.name != name)


#: The stored nodes' type ids and keys (external id, name) by (kind, id), and the external ids
#: stored nodes hold of those the new nodes give.
StoredKeys = tuple[
    dict[tuple[NodeKind, int], int | None],
    dict[tuple[NodeKind, int], tuple[str | None, str | None]],
    set[tuple[NodeKind, str]],
]


def _stored_keys(store: LineageStore, nodes: Sequence[Node]) -> StoredKeys:
    """What :func:`refuse_taken_keys` compares ``nodes`` with: one read of the updates and one
    of the new nodes' external ids, of each kind."""
    stored: dict[tuple[NodeKind, int], int | None] = {}  # -> the stored node's type id
    keys: dict[tuple[NodeKind, int], tuple[str | None, str | None]] = {}  # its keys
    held: set[tuple[NodeKind, str]] = set()
    for kind in NodeKind:
        repository = store._repository_of(kind)
        of_kind = [m for m in nodes if m.kind is kind]
        ids = [m.id for m in of_kind if m.id is not None]
        if ids:
            for n in repository.get_by_ids(ids):
                if n.id is not None:
                    stored[kind, n.id] = n.type_id
                    keys[kind, n.id] = (n.external_id, n.name)
        wanted = [m.external_id for m in of_kind if m.id is None and m.external_id]
        if wanted:
            held |= {
                (kind, n.external_id)
                for n in repository.get_by_external_ids(wanted)
                if n.external_id
            }
    return stored, keys, held
