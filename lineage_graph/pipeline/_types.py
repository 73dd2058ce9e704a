"""The types a run registers: :func:`ensure_type`, and every new node's type checked before
any is registered or extended (:func:`_ensure_node_types`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._encoding import shown
from .._repositories.types import type_key
from ..exceptions import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from ..models import (
    ArtifactType,
    ContextType,
    ExecutionType,
    Node,
    NodeKind,
    NodeType,
    PropertyType,
    kind_of,
)

if TYPE_CHECKING:
    from ..store import LineageStore


_TYPE_CLASSES: dict[NodeKind, type[NodeType]] = {
    NodeKind.ARTIFACT: ArtifactType,
    NodeKind.EXECUTION: ExecutionType,
    NodeKind.CONTEXT: ContextType,
}


def ensure_type(
    store: LineageStore, kind: NodeKind, name: str, properties: Mapping[str, Any] = {}
) -> NodeType:
    """The type ``name`` of ``kind``, registered if absent and extended to declare every property
    in ``properties`` (whose value kinds are inferred). A property already declared with another
    value kind is left as it is: writing the node then fails with :class:`InvalidArgumentError`.
    Another writer registering or extending the type at the same time with other kinds is such
    a declaration too: the type is read again and only what is still missing is added.
    """
    return _ensure_type(store, kind, name, properties, _UNREAD)


#: ``_ensure_type``'s ``read``: the type is not read yet.
_UNREAD: Any = object()


def _ensure_type(
    store: LineageStore,
    kind: NodeKind,
    name: str,
    properties: Mapping[str, Any],
    read: NodeType | None,
) -> NodeType:
    """:func:`ensure_type`, given the type as just read (None: absent; ``_UNREAD``: read it)."""
    wanted: dict[str, PropertyType] = {}
    for key, value in properties.items():
        try:
            wanted[key] = kind_of(value)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"{kind.value} type {shown(name)}: property {shown(key)}: {exc}"
            ) from None
    for _ in range(_ENSURE_ROUNDS):
        stored: NodeType | None = read
        if read is _UNREAD:
            try:
                stored = store.get_type(kind, name)
            except NotFoundError:
                stored = None
        read = _UNREAD  # (read again in any later round: another writer changed it)
        missing = {k: v for k, v in wanted.items() if stored is None or k not in stored.properties}
        if stored is not None and not missing:
            return stored
        declared = {**(stored.properties if stored else {}), **missing}
        try:
            store.put_type(
                _TYPE_CLASSES[kind](name=name, properties=declared),
                can_add_fields=True,
                can_omit_fields=True,
            )
        except AlreadyExistsError:
            # registered or extended meanwhile with another kind of one of these properties
            # (two processes making the first call of a step with an int and a float)
            continue
        return store.get_type(kind, name)
    raise FailedPreconditionError(
        f"{kind.value} type {name!r} kept changing while it was being extended "
        f"({_ENSURE_ROUNDS} rounds); retry"
    )


#: Reads and writes of a type that other writers keep changing before ensure_type gives up.
_ENSURE_ROUNDS = 8


def _registers_type(node: Node) -> bool:
    """Whether :func:`_ensure_node_types` registers ``node``'s type: a new node naming it by
    ``type`` (not stored, not by type id, not versioned: those are the caller's to register,
    never guess a version)."""
    return (
        node.id is None and node.type_id is None and bool(node.type) and node.type_version is None
    )


def _ensure_node_types(
    store: LineageStore, nodes: Sequence[tuple[Node, str, Mapping[str, Any]]]
) -> dict[tuple[NodeKind, str], NodeType]:
    """Register the types new nodes name (by ``type``), declaring their ``properties``; the
    types by ``(kind, name)``. Each entry: the node, its label in errors, and the properties
    checked (a step's arguments are not: one of another kind is demoted, not refused).

    Every node is checked against its type as it will be (the stored one, plus the properties
    the nodes add) BEFORE any type is registered or extended: a property of another kind than
    its type declares (a script whose new version gives ``rows=1.5`` where ``rows`` is an INT)
    was refused by the write, after the other types had been registered and extended (a new
    context type, the execution type's new properties): a refused run changed the store."""
    plan: dict[tuple[NodeKind, str], tuple[NodeType | None, dict[str, Any]]] = {}
    for node, label, checked in nodes:
        if not _registers_type(node) or node.type is None:
            continue
        # A model built without validation may name its type by a dict or list: a bare
        # "TypeError: unhashable type" here (run.output(Artifact.model_construct(...))).
        type_key(node.type, node.type_version)
        key = (node.kind, node.type)
        if key not in plan:
            try:
                plan[key] = (store.get_type(node.kind, node.type), {})
            except NotFoundError:
                plan[key] = (None, {})
        stored, adds = plan[key]
        declared = dict(stored.properties) if stored is not None else {}
        for name, value in node.properties.items():
            if name not in declared and name not in adds:
                adds[name] = value
        for name, value in adds.items():
            try:
                declared[name] = kind_of(value)
            except ValueError as exc:
                raise InvalidArgumentError(f"{label}: property {shown(name)}: {exc}") from None
        projected = _TYPE_CLASSES[node.kind](name=node.type, properties=declared)
        store._repository_of(node.kind)._encode_values(projected, checked, "p", label)
    return {
        (kind, name): _ensure_type(store, kind, name, adds, stored)
        for (kind, name), (stored, adds) in plan.items()
    }
