"""Artifacts, executions and contexts: validate against their type, prepare writes, read back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .._encoding import (
    INDEXED_TEXT,
    BadStoredValue,
    Scope,
    check_indexed,
    check_key,
    check_text,
    check_unicode,
    check_value_unicode,
    decode_properties,
    encode_properties,
    enum_numbers,
    escape_name,
    property_keys,
    shown,
    shown_key,
    stored_id,
    stored_value_error,
    unescape_name,
    value_keys,
)
from ..exceptions import AlreadyExistsError, InvalidArgumentError, NotFoundError
from ..models import (
    Artifact,
    ArtifactState,
    Context,
    Execution,
    ExecutionState,
    Node,
    NodeKind,
    NodeType,
    PropertyType,
    kind_of,
)
from ..models._stored import stored_defaults, stored_model_filled
from ._base import Repository, check_positive_id, checked_ids, id_pages, id_ranges, now_ms
from .ids import IdAllocator
from .types import TypeRepository, external_id_list

__all__ = [
    "KEPT_KEYS",
    "MARK_KEYS",
    "MlmdGiven",
    "NodeRepository",
    "PreparedNodes",
    "decode_node",
    "mlmd_rules_apply",
    "mlmd_write_rules",
]

N = TypeVar("N", bound=Node)

_MODEL: dict[NodeKind, type[Node]] = {
    NodeKind.ARTIFACT: Artifact,
    NodeKind.EXECUTION: Execution,
    NodeKind.CONTEXT: Context,
}

#: Internal node properties an update keeps (the models do not carry them): where an import
#: copied the node from (lineage_graph/mlmd/_importer.py), so that a merge re-run finds it; a
#: registered model's next version number and an artifact's claimed one (tracker/claim_version).
#: A whole update (graph/write) keeps the values the node holds when it is written, unless the
#: row gives one (an import's mlmd_origin); a masked update does not touch them.
KEPT_KEYS = ("mlmd_origin", "next_model_version", "model_claim")

#: Internal artifact properties of impact marks (cypher/lineage/mark.cypher): the marks not
#: undone and the update time the last mark or undo wrote. Every update drops them (a field
#: mask too), so an older mark's undo never takes an update for the work of a mark.
MARK_KEYS = ("impact_marks", "impact_ms")

#: MLMD's write rules, which its API does not state, set by the MLMD adapter around its writes
#: (off by default: the native API has its own). Under them an update keeps the stored name of
#: an artifact or an execution, whatever name it gives (MLMD's UPDATE statements have no name
#: column; contexts can be renamed), and put_execution folds the same new node given twice with
#: a reuse flag into one (lineage_graph/_repositories/composite.py).
_MLMD_RULES: ContextVar[bool] = ContextVar("mlmd_rules", default=False)
_NAMES_KEPT_BY_MLMD = frozenset({NodeKind.ARTIFACT, NodeKind.EXECUTION})


#: Each kind's graph label and its lower-case name (as messages name the kind), read by every
#: write: ``NodeKind.value`` is a Python property, so they are taken once here.
LABEL: dict[NodeKind, str] = {kind: kind.value for kind in NodeKind}
LABEL_OF: dict[NodeKind, str] = {kind: kind.value.lower() for kind in NodeKind}


@dataclass(frozen=True)
class MlmdGiven:
    """What an MLMD update gave beyond its model (the proto's fields the model drops), for
    MLMD's rule that an update changing nothing keeps the node's update time: ``type``, the
    output-only type name given (None: unset), which MLMD compares with the stored one too;
    ``other_fields``: a field the graph does not store was set (``system_metadata``), so the node
    differs from the stored one; ``force_update_time``: the update sets the time anyway."""

    type: str | None
    other_fields: bool = False
    force_update_time: bool = False


#: Fields the MLMD adapter reads back the same whether unset or set to this value (an unset uri
#: as "", an UNKNOWN state as unset: docs/mlmd-compatibility.md D4), so a node given back as read
#: is unchanged either way.
_MLMD_UNSET: dict[str, Any] = {"uri": "", "state": 0, "last_known_state": 0}

#: Per model object (``id()``) of the write under way, what its proto gave (:class:`MlmdGiven`).
_MLMD_GIVEN: ContextVar[Mapping[int, MlmdGiven] | None] = ContextVar("mlmd_given", default=None)


def mlmd_rules_apply() -> bool:
    """Whether MLMD's write rules apply here (:func:`mlmd_write_rules`)."""
    return _MLMD_RULES.get()


@contextmanager
def mlmd_write_rules(given: Mapping[int, MlmdGiven] | None = None) -> Iterator[None]:
    """Within the block (this thread or task only), writes follow MLMD's rules. ``given``: per
    model object (``id()``) of the nodes to update, what its proto gave: an update of a node with
    a :class:`MlmdGiven` that changes nothing keeps the stored node as it is (its update time
    too), as MLMD does; one without is written (its update time set), as the native API does."""
    token = _MLMD_RULES.set(True)
    given_token = _MLMD_GIVEN.set(given)
    try:
        yield
    finally:
        _MLMD_GIVEN.reset(given_token)
        _MLMD_RULES.reset(token)


_DIR = {
    NodeKind.ARTIFACT: "artifacts",
    NodeKind.EXECUTION: "executions",
    NodeKind.CONTEXT: "contexts",
}
_COMMON = ("name", "external_id")
_SPECIFIC: dict[NodeKind, tuple[str, ...]] = {
    NodeKind.ARTIFACT: ("uri", "state"),
    NodeKind.EXECUTION: ("last_known_state",),
    NodeKind.CONTEXT: (),
}
_TIME_FIELDS = ("create_time_since_epoch", "last_update_time_since_epoch")
#: The optional stored fields of each kind, copied when present.
_FIELDS = {kind: (*_COMMON, *_SPECIFIC[kind], *_TIME_FIELDS) for kind in _SPECIFIC}
#: The fields a node of each kind is given (:meth:`NodeRepository._base_fields`).
_GIVEN_FIELDS = {kind: (*_COMMON, *_SPECIFIC[kind]) for kind in _SPECIFIC}
#: How the write names each indexed text key in its refusal.
_INDEXED_NAMES = {
    "uri": "uri",
    "ps__digest": "property 'digest'",
    "cs__digest": "custom property 'digest'",
}
#: The stored fields held as ints that the models hold as enum members.
_STATES: dict[str, dict[int, Any]] = {
    "state": {int(s): s for s in ArtifactState},
    "last_known_state": {int(s): s for s in ExecutionState},
}
_STATE_ENUMS = (ArtifactState, ExecutionState)
#: The states by name, as another writer may store them (MLMD's proto names: "LIVE").
_STATE_NAMES: dict[str, dict[str, Any]] = {
    "state": dict(ArtifactState.__members__),
    "last_known_state": dict(ExecutionState.__members__),
}
#: What :func:`decode_node` says the library writes in each state field.
_STATE_WRITTEN = {
    name: enum_numbers(enum)
    for name, enum in (("state", ArtifactState), ("last_known_state", ExecutionState))
}


def _select(props: Mapping[str, Any], scope: str, name: str | None) -> list[str]:
    """Stored keys of one scope's properties (all of them, or those of one property name)."""
    escaped = None if name is None else escape_name(name)
    return [
        k for k in property_keys(props) if k[0] == scope and (escaped is None or k[4:] == escaped)
    ]


def _by_name(props: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """The stored property keys of ``props`` by (scope, escaped name), in :func:`_select`'s
    order."""
    found: dict[tuple[str, str], list[str]] = {}
    for k in property_keys(props):
        found.setdefault((k[0], k[4:]), []).append(k)
    return found


#: The fields every node read from the store gives (its ``model_fields_set``), the optional
#: stored ones (``_FIELDS``) added when present.
_ALWAYS_GIVEN = frozenset(
    ("id", "type_id", "type", "type_version", "properties", "custom_properties")
)


#: What each optional stored field holds as this library writes it, for :func:`decode_node`'s
#: check (``_CHECKED``: per kind, ``(name, type, states)``, ``states`` a state field's members
#: by number).
_FIELD_TYPES: dict[str, type] = {
    "name": str,
    "external_id": str,
    "uri": str,
    "state": int,
    "last_known_state": int,
    "create_time_since_epoch": int,
    "last_update_time_since_epoch": int,
}
_CHECKED = {
    kind: tuple((name, _FIELD_TYPES[name], _STATES.get(name)) for name in names)
    for kind, names in _FIELDS.items()
}
_EXPECTED = {str: "a str", int: "an int"}
_CONTEXT = NodeKind.CONTEXT  # (a module global: an enum member's lookup costs ~40 ns a node)
#: The type fields every node holds: its type's id (an int), name and version (strs).
_TYPE_FIELDS = (("type_id", int), ("type", str), ("type_version", str))


def _state_named(kind: NodeKind, ident: object, name: str, value: object) -> Any:
    """The member another writer stored by its MLMD name ("LIVE"), or StoredValueError."""
    if type(value) is not str or value not in _STATE_NAMES[name]:
        raise stored_value_error(kind.value, ident, name, value, _STATE_WRITTEN[name])
    return _STATE_NAMES[name][value]


def _refuse_identity(kind: NodeKind, ident: object, data: Mapping[str, Any]) -> None:
    """StoredValueError for the node's id or type fields, one of which is not as written."""
    stored_id(kind.value, ident)
    for name, cls in _TYPE_FIELDS:
        value = data[name]
        if value is not None and type(value) is not cls:
            raise stored_value_error(kind.value, ident, name, value, _EXPECTED[cls])
    raise AssertionError("unreachable: every field is as written")  # pragma: no cover


def decode_node(kind: NodeKind, node: Mapping[str, Any], *, validate: bool = False) -> Node:
    """A model from a stored node map, built without validating again what its write validated
    (``stored_model_filled``: the model's defaults, the stored fields set in place); ``validate``
    for a map from elsewhere (a file): pydantic's errors, a ValueError for a property.

    A stored value this library would not have written (another tool's, a hand-made Cypher
    statement's, a damaged node's: a field of another type, a required one absent, a state
    unknown, a property that does not decode) is :class:`StoredValueError` naming the node and
    the field, on every read (a bare ValidationError or TypeError before, or a model holding
    an int as its uri). Each field's check is one type comparison (its cost: docs/performance.md,
    thirty-first session)."""
    try:
        properties, custom = decode_properties(node)
    except BadStoredValue as exc:
        if validate:
            raise
        raise stored_value_error(
            kind.value, node.get("id"), exc.field, exc.value, exc.expected
        ) from None
    model = _MODEL[kind]
    data = stored_defaults(model)  # every field, in the model's order
    data["id"] = ident = node.get("id")
    data["type_id"] = type_id = node.get("type_id")
    data["type"] = type_name = node.get("type")
    data["type_version"] = version = node.get("type_version")
    data["properties"] = properties
    data["custom_properties"] = custom
    given = set(_ALWAYS_GIVEN)
    for name, cls, states in _CHECKED[kind]:
        value = node.get(name)
        if value is not None:
            if validate:
                pass  # pydantic checks it below
            elif states is not None:
                member = states.get(value) if value.__class__ is int else None
                if member is None:
                    member = _state_named(kind, ident, name, value)
                value = member
            elif value.__class__ is not cls:
                raise stored_value_error(kind.value, ident, name, value, _EXPECTED[cls])
            data[name] = value
            given.add(name)
    if validate:
        return model.model_validate({name: data[name] for name in data if name in given})
    if not (
        ident.__class__ is int
        and ident > 0
        and (type_id is None or type_id.__class__ is int)
        and (type_name is None or type_name.__class__ is str)
        and (version is None or version.__class__ is str)
    ):
        _refuse_identity(kind, ident, data)
    if not version:
        data["type_version"] = None  # "" is unset, as the model reads it
    if data["external_id"] == "":
        data["external_id"] = None
    if kind is _CONTEXT and not data["name"]:
        raise stored_value_error(kind.value, ident, "name", data["name"], "a non-empty str")
    return stored_model_filled(model, data, given)


@dataclass
class PreparedNodes:
    """Rows ready for ``graph/write``, the ids (aligned with the input) and the new ids."""

    kind: NodeKind
    rows: list[dict[str, Any]] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)
    types: dict[int, NodeType] = field(default_factory=dict)
    #: Ids given alone (references to stored nodes) and not read: the write proves they exist.
    references: list[int] = field(default_factory=list)


class NodeRepository(Repository, Generic[N]):
    """One node kind. Writes are prepared here and executed by the graph writer in one statement."""

    def __init__(
        self, backend: Any, kind: NodeKind, types: TypeRepository, ids: IdAllocator
    ) -> None:
        super().__init__(backend)
        self.kind = kind
        self.types = types
        self.ids = ids
        self._dir = _DIR[kind]
        self._label = LABEL[kind]  # the graph label, and the id allocator's kind
        self._label_of = LABEL_OF[kind]  # as messages name the kind
        self._model = _MODEL[kind]

    def q(self, name: str) -> str:
        return f"{self._dir}/{name}"

    # ---------------------------------------------------------------------------- validation

    def _encode_values(
        self, t: NodeType, values: Mapping[str, Any], scope: str, node_label: str
    ) -> dict[str, Any]:
        kinds: dict[str, PropertyType] = {}
        converted: dict[str, Any] = {}
        for name, value in values.items():
            try:
                kind = kind_of(value)
            except ValueError as exc:
                raise InvalidArgumentError(f"{node_label}: property {shown(name)}: {exc}") from None
            check_unicode(f"{node_label}: property name", name)
            check_value_unicode(f"{node_label}: property {shown(name)}", value)
            if scope == "p":
                declared = t.properties.get(name)
                if declared is None:
                    raise InvalidArgumentError(
                        f"{node_label}: found unknown property "
                        f"{shown(name)}: type {shown(t.name)} declares "
                        f"{sorted(t.properties) or 'no properties'} (use custom_properties for "
                        "free-form values)"
                    )
                if declared == PropertyType.DOUBLE and kind == PropertyType.INT:
                    if _MLMD_RULES.get():  # MLMD refuses an int_value for a DOUBLE property
                        raise InvalidArgumentError(
                            f"{node_label}: found unmatched property type for {shown(name)}: type "
                            f"{shown(t.name)} declares DOUBLE, got an int_value"
                        )
                    if int(float(value)) != value:  # 2**53 + 1 was read back as 2**53
                        raise InvalidArgumentError(
                            f"{node_label}: found unmatched property type for {shown(name)}: type "
                            f"{shown(t.name)} declares DOUBLE, "
                            f"got the int {value}, which no double "
                            "holds exactly (give a float)"
                        )
                    value, kind = float(value), PropertyType.DOUBLE
                if declared != kind:
                    raise InvalidArgumentError(
                        f"{node_label}: found unmatched property type for {shown(name)}: type "
                        f"{shown(t.name)} declares {declared.name}, got {kind.name}"
                    )
            kinds[name] = kind
            converted[name] = value
        return encode_properties("p" if scope == "p" else "c", converted, kinds)

    def _base_fields(self, node: Node, t: NodeType, label: str) -> dict[str, Any]:
        """The stored fields of ``node``. Each is checked here, not only by the model: a model
        built without validation (``model_construct``) or changed in place is written as it is,
        and reads build their models without validating again (``stored_model``)."""
        out: dict[str, Any] = {"type_id": t.id, "type": t.name}
        if t.version is not None:
            out["type_version"] = t.version
        for name in _GIVEN_FIELDS[self.kind]:
            value = getattr(node, name, None)  # None too when built without a required field
            if name in _STATES:
                if type(value) is not int and value.__class__ not in _STATE_ENUMS:
                    raise InvalidArgumentError(
                        f"{label}: {name} must be a state, got {type(value).__name__} "
                        f"{shown(value)}"
                    )
                if value not in _STATES[name]:
                    raise InvalidArgumentError(
                        f"{label}: {name} {shown(value)} is not a known state"
                    )
                value = int(value)
            elif isinstance(value, str):
                check_text(f"{label}: {name}", value)
                if name in _COMMON:
                    check_key(name, value)
            elif value is not None:
                raise InvalidArgumentError(
                    f"{label}: {name} must be a str or None, got {type(value).__name__}"
                )
            if value is not None:
                out[name] = value
        return out

    def _resolve_type(self, node: Node, type_id: int | None) -> NodeType:
        return self.types.resolve(self.kind, type_id, node.type, node.type_version)

    def _full_props(self, node: Node, t: NodeType, label: str) -> dict[str, Any]:
        props = self._base_fields(node, t, label)
        if node.properties:  # (none encode to nothing)
            props.update(self._encode_values(t, node.properties, "p", label))
        if node.custom_properties:
            props.update(self._encode_values(t, node.custom_properties, "c", label))
        return props

    def _props_with_refresh(
        self, node: Node, t: NodeType, label: str
    ) -> tuple[dict[str, Any], NodeType]:
        try:
            return self._full_props(node, t, label), t
        except InvalidArgumentError:
            # Another process may have upgraded the type since we cached it: check once more.
            assert t.id is not None
            fresh = self.types.by_id(self.kind, t.id, refresh=True)
            if fresh == t:
                raise
            return self._full_props(node, fresh, label), fresh

    def _masked_props(
        self, node: Node, t: NodeType, stored: Mapping[str, Any], mask: Sequence[str], label: str
    ) -> tuple[dict[str, Any], set[str], set[str]]:
        """An update that changes only the fields named in ``mask`` (MLMD field masks). Only
        the properties the mask names are checked against the type, as MLMD does: the others are
        not written. Returns the node's properties after the update and the keys the mask
        touches (written or removed): only those are written (``patch``), so what another writer
        changed elsewhere on the node since ``stored`` was read is kept; and the other keys a
        written property may be stored under, removed where the node has them (``stray``)."""
        props = {k: v for k, v in stored.items() if k not in MARK_KEYS}
        touched: set[str] = set(MARK_KEYS)
        stray: set[str] = set()
        named: dict[str, set[str] | None] = {"properties": set(), "custom_properties": set()}
        # A path ending in its first "." ("properties.", "uri.") names nothing: the property ""
        # (a name no node here has), or a sub-field of a scalar field.
        mask = [p for p in mask if not p.endswith(".") or "." in p[:-1]]
        for path in mask:
            head, _, rest = path.partition(".")
            if head in named:
                chosen = named[head]
                if not rest:
                    named[head] = None  # the whole map
                elif chosen is not None:
                    chosen.add(rest)

        def masked(values: Mapping[str, Any], head: str) -> dict[str, Any]:
            chosen = named[head]
            return {k: v for k, v in values.items() if chosen is None or k in chosen}

        new = self._base_fields(node, t, label)
        new.update(self._encode_values(t, masked(node.properties, "properties"), "p", label))
        new.update(
            self._encode_values(t, masked(node.custom_properties, "custom_properties"), "c", label)
        )
        # The stored keys of each property name, found once: selected path by path, a mask of
        # one path per property (a run's end names each custom property it writes) took
        # O(paths x keys), 15 s for 4,000 metrics. A key the loop removed is skipped; one it
        # added for a name is among ``new``'s keys of that name, which each later path
        # selecting it writes again, as the scan found and rewrote it.
        stored_keys, new_keys = _by_name(props), _by_name(new)
        for path in mask:
            head, _, rest = path.partition(".")
            if head in ("properties", "custom_properties"):
                scope: Scope = "p" if head == "properties" else "c"
                if rest:
                    named_key = (scope, escape_name(rest))
                    gone = [k for k in stored_keys.get(named_key, ()) if k in props]
                    given = list(new_keys.get(named_key, ()))
                else:
                    gone, given = _select(props, scope, None), _select(new, scope, None)
                # Every kind of each property written: another writer may have stored it as
                # another kind since the read, which left beside this write's value would be a
                # second value of one property (read back as either, found by filters on both).
                # Those the read did not find are removed only where the node has them (`stray`):
                # naming a key in a SET creates it, and FalkorDB 4.16 holds at most 65,534 keys.
                names = {rest} if rest else {unescape_name(k[4:]) for k in (*gone, *given)}
                for name in names:
                    stray.update(value_keys(scope, name))
                for key in gone:
                    del props[key]
                    touched.add(key)
                for key in given:
                    props[key] = new[key]
                    touched.add(key)
            elif head in (*_COMMON, *_SPECIFIC[self.kind]) and not rest:
                touched.add(head)
                if head in new:
                    props[head] = new[head]
                else:
                    props.pop(head, None)
            # Unknown paths are ignored, as MLMD does.
        return props, touched, stray - touched

    def check_models(self, nodes: Sequence[Node]) -> None:
        """The fields a write looks nodes up by (ids, the type's name and version, the name,
        the external id) and the property maps, each of its Python type, before anything is
        looked up: a model built without validation (``model_construct``) or changed in place
        may hold anything there, and a dict or list named as a type, a name or a type id
        escaped as ``TypeError: unhashable type`` from the type cache or a write's reuse
        look-ups. (What a str holds is checked where it is stored, ``_base_fields``.)"""
        label_of = self._label_of
        model = self._model
        for index, node in enumerate(nodes):
            if not isinstance(node, model):
                raise InvalidArgumentError(f"expected {model.__name__}, got {type(node).__name__}")
            for name in ("id", "type_id"):  # checked again: see _base_fields
                if (value := getattr(node, name, None)) is not None:
                    check_positive_id(f"{label_of} #{index}", name, value)
            for name in ("type", "type_version", "name", "external_id"):
                value = getattr(node, name, None)
                if value is not None and not isinstance(value, str):
                    raise InvalidArgumentError(
                        f"{label_of} #{index}: {name} must be a str or None, got "
                        f"{type(value).__name__} {shown(value)}"
                    )
            for scope in ("properties", "custom_properties"):  # likewise (an AttributeError)
                values = getattr(node, scope, None)
                if not isinstance(values, dict):
                    raise InvalidArgumentError(
                        f"{label_of} #{index}: {scope} must be a dict of non-empty str names, "
                        f"got {type(values).__name__}"
                    )
                for key in values:
                    if not isinstance(key, str) or not key:
                        # the name alone: the map's values were quoted too (a secret among
                        # them shown in the refusal of another property's name)
                        raise InvalidArgumentError(
                            f"{label_of} #{index}: {scope} must be a dict of non-empty str "
                            f"names, got the name {shown(key)}"
                        )

    def prepare(
        self,
        nodes: Sequence[Node],
        *,
        field_mask: Sequence[str] | None = None,
        now: int | None = None,
        checked: bool = False,
    ) -> PreparedNodes:
        """Validate ``nodes`` (insert when ``id`` is unset, full update otherwise) and build rows.

        A node given with nothing but its ``id`` is a reference: it must exist and is not
        rewritten. Raises before anything is written; new ids are allocated last. ``checked``:
        the caller ran :meth:`check_models` on the nodes given it (a composite write, before its
        look-ups), and built the others from them or as references by a stored id.
        """
        if not nodes:  # (put_execution's contexts, mostly): what the steps below give for none
            return PreparedNodes(self.kind)
        now = now_ms() if now is None else now
        label_of = self._label_of
        prepared = PreparedNodes(self.kind)
        if not checked:
            self.check_models(nodes)
        # Every path counts, as in MLMD: a mask of only unknown paths ("" included) updates
        # nothing; only an empty mask is a whole update.
        mask = list(field_mask or [])
        given = {n.id for n in nodes if n.id is not None}
        # A node given by its id alone is a reference: it is not read here (one round trip
        # less for put_execution); graph/write checks it exists and aborts otherwise.
        references = (
            given - {n.id for n in nodes if n.id is not None and n.model_fields_set - {"id"}}
            if not mask
            else set()
        )
        update_ids = sorted(given - references)
        stored: dict[int, dict[str, Any]] = {}
        if update_ids:
            for row in self.read(self.q("get_write_state"), ranges=id_ranges(update_ids)):
                stored[int(row["id"])] = dict(row["node"])
        rows_by_id: dict[int, dict[str, Any]] = {}
        unchanged: set[int] = set()  # updates that change nothing (MLMD's rules): not written
        pending_new: list[dict[str, Any]] = []
        order: list[int | dict[str, Any]] = []
        resolved: dict[tuple[int | None, str | None, str | None], NodeType] = {}  # per batch
        for index, node in enumerate(nodes):
            label = f"{label_of} #{index}"
            if node.id is not None and node.id in references:
                order.append(node.id)
                continue
            if node.id is not None:
                old = stored.get(node.id)
                if old is None:
                    raise NotFoundError(f"{label}: no {label_of} with id {node.id} to update")
                if not mask and node.model_fields_set <= {"id"}:
                    # Only the id given: a reference to the stored node, which stays as it is.
                    order.append(node.id)
                    continue
                if node.type_id is not None and node.type_id != old["type_id"]:
                    raise InvalidArgumentError(
                        f"{label}: the type of {label_of} {node.id} cannot change "
                        f"(stored type_id {old['type_id']}, given {node.type_id})"
                    )
                t = self.types.by_id(self.kind, int(old["type_id"]))
                if (node.type is not None and node.type != t.name) or (
                    node.type_version is not None and node.type_version != t.version
                ):
                    # A type named (not by id) is the caller's claim too: refused as a type_id
                    # change is, never silently written under the stored type.
                    given_type = f"{shown(node.type or t.name)}" + (
                        f" version {shown(node.type_version)}" if node.type_version else ""
                    )
                    raise InvalidArgumentError(
                        f"{label}: the type of {label_of} {node.id} cannot change (stored "
                        f"{shown(t.name)}{f' version {shown(t.version)}' if t.version else ''}, "
                        f"given {given_type})"
                    )
                touched: set[str] | None = None
                stray: set[str] = set()
                if mask:
                    props, touched, stray = self._masked_props(node, t, old, mask, label)
                else:
                    props, t = self._props_with_refresh(node, t, label)
                given_as = (_MLMD_GIVEN.get() or {}).get(id(node)) if _MLMD_RULES.get() else None
                if (
                    given_as is not None
                    and node.id not in rows_by_id  # given twice, changed before: written
                    and self._unchanged(node, t, props, old, given_as, label)
                ):
                    # MLMD: an update that changes nothing is not written (its update time
                    # stays); the node is checked to still exist, as a reference is.
                    unchanged.add(node.id)
                    order.append(node.id)
                    assert t.id is not None
                    prepared.types[t.id] = t
                    continue
                unchanged.discard(node.id)
                if self.kind in _NAMES_KEPT_BY_MLMD and _MLMD_RULES.get():
                    props.pop("name", None)
                    if old.get("name") is not None:
                        props["name"] = old["name"]
                # KEPT_KEYS are not copied from `old`: graph/write keeps the node's own, as they
                # are when it runs (a version claimed since this read would be undone).
                self._check_named(props, label)
                self._check_indexed_text(props, old, label)
                props["id"] = node.id
                props["create_time_since_epoch"] = old.get("create_time_since_epoch", now)
                props["last_update_time_since_epoch"] = now
                row = {"id": node.id, "props": props}
                if touched is not None:  # written as a patch of these keys (None: removed)
                    row["patch"] = {k: props.get(k) for k in sorted(touched)} | {
                        "last_update_time_since_epoch": now
                    }
                    row["stray"] = sorted(stray)
                rows_by_id[node.id] = row  # the same id twice: the last one wins (folded)
                order.append(node.id)
            else:
                named = (node.type_id, node.type, node.type_version)
                t = resolved.get(named) or self._resolve_type(node, node.type_id)
                props, t = self._props_with_refresh(node, t, label)
                resolved[named] = t  # refreshed, if another process upgraded the type
                self._check_named(props, label)
                self._check_indexed_text(props, None, label)
                props["create_time_since_epoch"] = now
                props["last_update_time_since_epoch"] = now
                row = {"id": None, "props": props}
                pending_new.append(row)
                order.append(row)
            assert t.id is not None
            prepared.types[t.id] = t
        self._check_unique_within_batch([*rows_by_id.values(), *pending_new])
        new_ids = self.ids.allocate(self._label, len(pending_new))
        for row, new_id in zip(pending_new, new_ids, strict=True):
            row["id"] = new_id
            row["props"]["id"] = new_id
        prepared.new_ids = new_ids
        prepared.references = sorted(references | unchanged)
        prepared.rows = [*rows_by_id.values(), *pending_new]
        prepared.ids = [o if isinstance(o, int) else int(o["id"]) for o in order]
        return prepared

    def _unchanged(
        self,
        node: Node,
        t: NodeType,
        props: Mapping[str, Any],
        old: Mapping[str, Any],
        given: MlmdGiven,
        label: str,
    ) -> bool:
        """Whether an update leaves the node as stored, by MLMD's rule: its fields as given (the
        type name included; not its type id or times, a name kept or not) equal the stored ones,
        and the properties it writes (only the masked ones under a field mask) change none."""
        if given.force_update_time or given.other_fields or given.type != old.get("type"):
            return False
        fields = self._base_fields(node, t, label)  # as given: not masked, name not kept
        for key in (*_COMMON, *_SPECIFIC[self.kind]):
            unset = _MLMD_UNSET.get(key)  # read back as MLMD's adapter shows it
            given_value, stored = fields.get(key, unset), old.get(key, unset)
            if given_value != stored:
                return False
        return {k: props[k] for k in property_keys(props)} == {
            k: old[k] for k in property_keys(old)
        }

    def _check_indexed_text(
        self, props: Mapping[str, Any], old: Mapping[str, Any] | None, label: str
    ) -> None:
        """An artifact's uri and digest are indexed: a new value must fit every engine's index.
        A value stored already (by a version before the limit) may stay as it is: an update that
        leaves it unchanged is not refused."""
        if self.kind is not NodeKind.ARTIFACT:
            return  # only artifacts have these indexes (lineage_graph/_schema.py)
        for key in INDEXED_TEXT:
            value = props.get(key)
            if isinstance(value, str) and (old is None or old.get(key) != value):
                check_indexed(f"{label}: {_INDEXED_NAMES[key]}", value)

    def _check_named(self, props: Mapping[str, Any], label: str) -> None:
        """A context is stored with a name (the model requires one; a model built without
        validation may lack it)."""
        if self.kind is NodeKind.CONTEXT and not props.get("name"):
            raise InvalidArgumentError(f"{label}: a context needs a name")

    def _check_unique_within_batch(self, rows: Iterable[dict[str, Any]]) -> None:
        names: set[tuple[Any, str]] = set()
        external: set[str] = set()
        label = self._label_of
        for row in rows:
            props = row["props"]
            name = props.get("name")
            if name is not None:
                key = (props["type_id"], name)
                if key in names:
                    raise AlreadyExistsError(
                        f"two {label}s of type {shown_key(props['type'])} named "
                        f"{shown_key(name)} in one write"
                    )
                names.add(key)
            ext = props.get("external_id")
            if ext is not None:
                if ext in external:
                    raise AlreadyExistsError(
                        f"two {label}s with external_id {shown_key(ext)} in one write"
                    )
                external.add(ext)

    # --------------------------------------------------------------------------------- reads

    def _decode_rows(self, rows: Iterable[Mapping[str, Any]]) -> list[N]:
        return [decode_node(self.kind, r["node"]) for r in rows]  # type: ignore[misc]

    def fetch(self, query: str, /, **params: Any) -> list[N]:
        """Nodes returned (as ``node``) by one of this kind's named queries."""
        return self._decode_rows(self.read(query, **params))

    def fetch_by_one_id(self, query: str, /, **param: int) -> list[N]:
        """:meth:`fetch` with one node id as its one parameter, checked as ids in collections
        are (``checked_ids``). An id outside int64, which no node has, answers nothing without
        asking the engine (Neo4j's driver cannot send such an integer: it raised OverflowError,
        an InvalidArgumentError, where FalkorDB answered nothing)."""
        ((name, ident),) = param.items()
        if not checked_ids((ident,)):
            return []
        return self.fetch(query, **{name: ident})

    def get_by_ids(self, ids: Iterable[int]) -> list[N]:
        ranges = id_ranges(ids)
        if not ranges:
            return []  # no round trip for nothing
        return self._decode_rows(self.read(self.q("get_by_ids"), ranges=ranges))

    def existing_ids(self, ids: Iterable[int]) -> set[int]:
        ranges = id_ranges(ids)
        if not ranges:
            return set()
        return {int(r["id"]) for r in self.read(self.q("existing_ids"), ranges=ranges)}

    def get_by_type(self, type_name: str, type_version: str | None = None) -> list[N]:
        t = self.types.find(self.kind, type_name, type_version)
        if t is None:
            return []
        return self._decode_rows(self.read(self.q("get_by_type"), type_id=t.id))

    def get_by_type_and_name(
        self, type_name: str, name: str, type_version: str | None = None
    ) -> N | None:
        if not isinstance(name, str):  # bytes broke the query's parameters (QueryError);
            # an int, None or a list matched nothing, as if no node had that name
            raise InvalidArgumentError(f"a name is a str, got {shown(name)}")
        t = self.types.find(self.kind, type_name, type_version)
        if t is None:
            return None
        found = self._decode_rows(
            self.read(self.q("get_by_type_and_name"), type_id=t.id, name=name)
        )
        return found[0] if found else None

    def get_by_type_and_names(self, keys: Sequence[tuple[int, str]]) -> list[N]:
        rows = self.read(
            self.q("get_by_type_and_names"), keys=[{"type_id": t, "name": n} for t, n in keys]
        )
        return self._decode_rows(rows)

    def get_by_external_ids(self, external_ids: Iterable[str]) -> list[N]:
        return self._decode_rows(
            self.read(self.q("get_by_external_ids"), external_ids=external_id_list(external_ids))
        )

    def iterate(
        self,
        page_size: int = 1000,
        after: int = 0,
        type_ids: Sequence[int] | None = None,
    ) -> Iterator[N]:
        """Every node of this kind in id order (those with ids above ``after``; with
        ``type_ids``, of those types only), one page per query (``cypher/*/list``: ids in
        ``($after_id, $upto]``), read in windows of ids (:func:`._base.id_pages`)."""
        if type_ids is not None and not type_ids:
            return
        query = self.q("list" if type_ids is None else "list_of_types")
        extra: dict[str, Any] = {} if type_ids is None else {"type_ids": list(type_ids)}
        pages = id_pages(
            self.id_end(self.kind.value),
            page_size,
            lambda after, upto: self.fetch(
                query, after_id=after, upto=upto, limit=page_size, **extra
            ),
            lambda node: int(node.id or 0),
            after,
        )
        for page in pages:
            yield from page

    def count(self) -> int:
        return int(self.read(self.q("count"))[0]["n"])
