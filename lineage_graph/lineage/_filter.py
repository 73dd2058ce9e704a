"""Node references and node filters: what a traversal starts from, returns and stops at."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .._encoding import shown
from ..exceptions import InvalidArgumentError
from ..models import Artifact, ArtifactState, Execution, ExecutionState, Node, NodeKind, kind_of

__all__ = ["LineageNode", "NodeFilter", "NodeRef", "StartLike", "as_refs", "ref_of"]

#: The nodes lineage is made of: artifacts and executions joined by events.
LineageNode = Artifact | Execution


class NodeRef(NamedTuple):
    """A node by kind and id, e.g. ``NodeRef(NodeKind.ARTIFACT, 7)``."""

    kind: NodeKind
    id: int

    def __str__(self) -> str:
        # NodeRef("Artifact", 7) is built (a tuple checks nothing) and refused where it is
        # used, but printing it, or an error message quoting it, raised AttributeError
        kind = self.kind.value if isinstance(self.kind, NodeKind) else str(self.kind)
        return f"{kind.lower()}:{self.id}"


StartLike = Artifact | Execution | NodeRef


def ref_of(node: Node | NodeRef) -> NodeRef:
    """The reference of a stored node (it must have an id)."""
    if isinstance(node, NodeRef):
        if not isinstance(node.kind, NodeKind):
            raise InvalidArgumentError(f"NodeRef kind must be a NodeKind, got {shown(node.kind)}")
        if isinstance(node.id, bool) or not isinstance(node.id, int):
            raise InvalidArgumentError(f"NodeRef id must be an int, got {shown(node.id)}")
        return node
    if not isinstance(node, Node):
        raise InvalidArgumentError(
            f"expected an Artifact, an Execution or a NodeRef, got {type(node).__name__}"
        )
    if node.id is None:
        raise InvalidArgumentError(f"this {node.kind.value.lower()} has no id: store it first")
    if isinstance(node.id, bool) or not isinstance(node.id, int):
        # a model built without validation: a list id escaped as "unhashable type" from the
        # start's de-duplication, a str one named no node
        raise InvalidArgumentError(
            f"this {node.kind.value.lower()}'s id must be an int, got {shown(node.id)}"
        )
    return NodeRef(node.kind, node.id)


def as_refs(start: StartLike | Iterable[StartLike]) -> list[NodeRef]:
    """Start nodes as references, in the given order, without duplicates."""
    items: Iterable[Any] = [start] if isinstance(start, Node | NodeRef) else start
    if isinstance(items, str | bytes | Mapping):
        raise InvalidArgumentError("start must be nodes or NodeRefs, not a string or a mapping")
    if not isinstance(items, Iterable):
        hint = ""
        if isinstance(start, int) and not isinstance(start, bool):
            hint = ": a bare id does not say its kind (NodeRef(kind, id))"
        raise InvalidArgumentError(
            "start must be an Artifact, an Execution, a NodeRef or a collection of them, "
            f"not {type(start).__name__}{hint}"
        )
    refs: dict[NodeRef, None] = {}
    for item in items:
        ref = ref_of(item)
        if ref.kind is NodeKind.CONTEXT:
            raise InvalidArgumentError(
                f"lineage starts from artifacts and executions, not a context ({ref}): use "
                "context_graph() for everything in a context"
            )
        refs[ref] = None
    if not refs:
        raise InvalidArgumentError("lineage needs at least one start node")
    return list(refs)


def _frozen(values: Iterable[Any] | None, what: str) -> frozenset[Any] | None:
    if values is None:
        return None
    if isinstance(values, str | bytes):
        values = [values]
    try:
        return frozenset(values)
    except TypeError:
        raise InvalidArgumentError(f"NodeFilter {what} must be a collection of values") from None


def _states(
    values: Iterable[ArtifactState | ExecutionState | str] | ArtifactState | ExecutionState | None,
) -> tuple[ArtifactState | ExecutionState | str, ...] | None:
    """The states, each once, in one order (equal filters compare equal): an artifact's and an
    execution's state of the same number are two states (IntEnums of one value are equal, so
    a frozenset kept only the first given)."""
    if values is None:
        return None
    if isinstance(values, str | bytes | ArtifactState | ExecutionState):  # one state, as one kind
        values = [values]
    try:
        items = list(values)
    except TypeError:
        raise InvalidArgumentError("NodeFilter states must be a collection of values") from None
    unique: dict[tuple[str, Any], ArtifactState | ExecutionState | str] = {}
    for value in items:
        try:
            unique.setdefault((type(value).__name__, value), value)
        except TypeError:  # unhashable: refused below as no state
            unique[(type(value).__name__, shown(value, 10**6))] = value
    # shown: a huge int (refused below) has no repr
    return tuple(unique[k] for k in sorted(unique, key=lambda k: (k[0], shown(k[1], 10**6))))


def _checked_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """``{name: value}`` where each value is one a property can hold (else nothing matches)."""
    for name, value in properties.items():
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"NodeFilter property names are non-empty strings, got {shown(name)}"
            )
        try:
            kind_of(value)
        except ValueError as exc:
            raise InvalidArgumentError(f"NodeFilter property {shown(name)}: {exc}") from None
    return dict(properties)


def _same_value(stored: Any, wanted: Any) -> bool:
    """Property equality: a bool is no number (``True`` is not ``1``, at any depth of a struct
    either), as MLMD keeps them apart; an int equals the double of the same value; a NaN is the
    same value as a NaN (a double or a struct's number can hold one: ``NaN != NaN`` made
    ``properties={"loss": nan}`` and ``--where loss=NaN`` silently match nothing), as
    ``store.compare`` takes it. (The step cache is stricter: ``-0.0`` only equals ``-0.0``,
    and a struct's numbers are compared as their stored JSON text, ``1`` is not ``1.0``.)"""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    if isinstance(stored, float) and isinstance(wanted, float) and math.isnan(stored):
        return math.isnan(wanted)
    if isinstance(stored, dict) and isinstance(wanted, dict):
        return stored.keys() == wanted.keys() and all(
            _same_value(stored[k], wanted[k]) for k in stored
        )
    if isinstance(stored, list | tuple) and isinstance(wanted, list | tuple):
        return len(stored) == len(wanted) and all(map(_same_value, stored, wanted))
    return bool(stored == wanted)


@dataclass(frozen=True, init=False)
class NodeFilter:
    """Which nodes match: every part that is given must hold (an empty filter matches all).

    ``kinds``: node kinds; ``types``: type names; ``states``: :class:`ArtifactState` /
    :class:`ExecutionState` values, or state names (``"LIVE"``, ``"COMPLETE"``); ``properties``:
    ``{name: value}``, equal to the node's property or custom property of that name (a bool
    never equals a number: :func:`_same_value`); ``refs``:
    exact nodes (:class:`NodeRef`, or stored nodes).
    """

    kinds: frozenset[NodeKind] | None
    types: frozenset[str] | None
    #: A tuple, not a set: ``ArtifactState.DELETED == ExecutionState.FAILED`` (both IntEnum 4),
    #: so a set kept one of the two and the filter silently left a kind out.
    states: tuple[ArtifactState | ExecutionState | str, ...] | None
    properties: Mapping[str, Any] | None
    refs: frozenset[NodeRef] | None

    def __init__(
        self,
        *,
        kinds: Iterable[NodeKind] | None = None,
        types: Iterable[str] | None = None,
        states: Iterable[ArtifactState | ExecutionState | str]
        | ArtifactState
        | ExecutionState
        | None = None,
        properties: Mapping[str, Any] | None = None,
        refs: Iterable[NodeRef | Node] | NodeRef | Node | None = None,
    ) -> None:
        kind_set = _frozen(kinds, "kinds")
        if kind_set is not None and not all(isinstance(k, NodeKind) for k in kind_set):
            raise InvalidArgumentError(f"NodeFilter kinds must be NodeKind values: {shown(kinds)}")
        type_set = _frozen(types, "types")
        if type_set is not None and not all(isinstance(t, str) for t in type_set):
            raise InvalidArgumentError(f"NodeFilter types must be type names: {shown(types)}")
        state_set = _states(states)
        if state_set is not None:
            for s in state_set:
                ok = isinstance(s, ArtifactState | ExecutionState) or (
                    isinstance(s, str)
                    and (s in ArtifactState.__members__ or s in ExecutionState.__members__)
                )
                if not ok:
                    raise InvalidArgumentError(
                        f"NodeFilter state {shown(s)} is not an ArtifactState / ExecutionState "
                        "or the name of one"
                    )
        if properties is not None and not isinstance(properties, Mapping):
            raise InvalidArgumentError("NodeFilter properties must be a mapping {name: value}")
        checked = None if properties is None else _checked_properties(properties)
        if isinstance(refs, NodeRef | Node):  # one node (a NodeRef is a tuple: its kind and id
            refs = [refs]  # were taken for two nodes, "got NodeKind")
        if refs is not None and not isinstance(refs, Iterable):  # a bare TypeError
            raise InvalidArgumentError(
                "NodeFilter refs must be a NodeRef, a stored node or a collection of them, "
                f"got {type(refs).__name__}"
            )
        ref_set = None if refs is None else frozenset(ref_of(r) for r in refs)
        object.__setattr__(self, "kinds", kind_set)
        object.__setattr__(self, "types", type_set)
        object.__setattr__(self, "states", state_set)
        object.__setattr__(self, "properties", checked)
        object.__setattr__(self, "refs", ref_set)

    def _state_matches(self, node: LineageNode) -> bool:
        assert self.states is not None
        state = node.state if isinstance(node, Artifact) else node.last_known_state
        for wanted in self.states:
            if isinstance(wanted, str):
                if state is not None and state.name == wanted:
                    return True
            elif type(wanted) is type(state) and wanted == state:
                return True
        return False

    def matches(self, node: LineageNode) -> bool:
        if self.kinds is not None and node.kind not in self.kinds:
            return False
        if self.refs is not None and (
            node.id is None or NodeRef(node.kind, node.id) not in self.refs
        ):
            return False
        if self.types is not None and node.type not in self.types:
            return False
        if self.states is not None and not self._state_matches(node):
            return False
        if self.properties is not None:
            for name, value in self.properties.items():
                if name in node.properties:
                    if not _same_value(node.properties[name], value):
                        return False
                elif name not in node.custom_properties or not _same_value(
                    node.custom_properties[name], value
                ):
                    return False
        return True

    def __eq__(self, other: object) -> bool:
        """Equal when the keys are: the generated field comparison called
        ``properties={"x": 1}`` equal to ``{"x": True}`` and a DELETED-artifact filter equal to
        a FAILED-execution one (``1 == True``; IntEnums of one number), which match other
        nodes."""
        return isinstance(other, NodeFilter) and self.key() == other.key()

    def __hash__(self) -> int:  # a value: usable in sets and as a key, properties or not
        return hash(self.key())

    def key(self) -> str:
        """A stable text form (part of a page cursor's fingerprint): equal filters have one key
        (a struct's keys in any order), filters that differ have two (``refs=[]`` matches
        nothing, ``refs=None`` everything: their keys differed by nothing)."""
        parts = [
            sorted(k.value for k in self.kinds or ()),
            sorted(self.types or ()),
            sorted(repr(s) for s in self.states or ()),
            sorted((k, repr(_canonical(v))) for k, v in (self.properties or {}).items()),
            sorted(str(r) for r in self.refs or ()),
        ]
        given = [part is None for part in (self.kinds, self.types, self.states, self.refs)]
        return repr([given, parts])


def _canonical(value: Any) -> Any:
    """A property value with its structs' keys sorted, for :meth:`NodeFilter.key`."""
    if isinstance(value, dict):
        return ("struct", sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value
