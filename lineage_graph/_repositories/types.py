"""Types: register (with MLMD's upgrade rules) and read artifact, execution and context types."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from .._encoding import (
    MAX_KEY_BYTES,
    check_key,
    check_text,
    check_unicode,
    enum_numbers,
    escape_name,
    shown,
    shown_key,
    stored_validation_error,
    stored_value_error,
    unescape_name,
)
from ..exceptions import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from ..models import ArtifactType, ContextType, ExecutionType, NodeKind, NodeType, PropertyType
from ._base import Repository, checked_ids
from .ids import IdAllocator

__all__ = ["BASE_TYPES", "TypeRepository", "check_type_identity", "type_key", "upgraded"]

_TYPE_CLASSES: dict[NodeKind, type[NodeType]] = {
    NodeKind.ARTIFACT: ArtifactType,
    NodeKind.EXECUTION: ExecutionType,
    NodeKind.CONTEXT: ContextType,
}
_PREFIX = "pt__"
#: MLMD's ``SystemDefinedBaseType`` names of each kind (but ``UNSET``: no base type is None);
#: a test pins them to ml_metadata's enums.
BASE_TYPES: dict[NodeKind, tuple[str, ...]] = {
    NodeKind.ARTIFACT: ("DATASET", "MODEL", "METRICS", "STATISTICS"),
    NodeKind.EXECUTION: ("TRAIN", "TRANSFORM", "PROCESS", "EVALUATE", "DEPLOY"),
    NodeKind.CONTEXT: (),
}
#: Reads and writes of one put_type before it gives up to writers changing the type meanwhile.
_ATTEMPTS = 8


def check_type_identity(name: str, version: str | None) -> None:
    """InvalidArgumentError for a type name / version no store holds (a NUL; too long). Also
    for a caller about to register several types (Run): checked first, none is registered when
    a later one would be refused."""
    key = type_key(name, version)  # first: it refuses a name or version that is no str
    for field, text in (("type name", name), ("type version", version)):
        check_text(field, text)  # (a lone surrogate too: no engine carries one)
    # The name and version are unique together through their JSON type key (never starts or
    # ends with whitespace; control characters escaped): only its length is limited.
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidArgumentError(
            f"type name and version are too long: at most {MAX_KEY_BYTES} bytes together"
        )


def type_key(name: str, version: str | None) -> str:
    """The unique key of a type: its name and version (unset version == empty). A name or
    version that is not a string is InvalidArgumentError (a number found nothing, bytes raised
    a bare TypeError)."""
    if not isinstance(name, str) or not isinstance(version, str | None):
        raise InvalidArgumentError(
            f"a type's name and version are strings, got {shown(name)} and {shown(version)}"
        )
    if (
        type(name) is str
        and (version is None or type(version) is str)
        and len(name) + len(version or "") <= MAX_KEY_BYTES
    ):
        return _type_key(name, version)
    # A str subclass: as given. A pair longer than any stored type's key (a lookup by a huge
    # name) is not cached: 1,024 of them were held for good (20 lookups by 1 MB names: 40 MB).
    return json.dumps([name, version or ""], ensure_ascii=False)


@functools.lru_cache(maxsize=1024)
def _type_key(name: str, version: str | None) -> str:
    """:func:`type_key` of plain strs, each pair encoded once: every new node looks its type up
    by this key (json.dumps, ~2.5 us, twice per put_execution)."""
    return json.dumps([name, version or ""], ensure_ascii=False)


def external_id_list(external_ids: Iterable[str]) -> list[str]:
    """External ids asked for, as a list of strings: anything else is InvalidArgumentError
    (bytes reached the engine, which refused the statement; a number or None found nothing)."""
    if isinstance(external_ids, str | bytes) or not isinstance(external_ids, Iterable):
        raise InvalidArgumentError(
            f"external_ids must be a list of strings, got {type(external_ids).__name__}"
        )
    asked = list(external_ids)
    for x in asked:
        if not isinstance(x, str):
            raise InvalidArgumentError(f"an external id is a string, got {shown(x)}")
    return asked


def _validated(t: NodeType) -> NodeType:
    """``t`` validated again: a type built without validation (``model_construct``) or changed
    in place (``t.properties["a"] = 0``) is refused, not stored (reads decode the stored types
    with validation, so one invalid type would make every read of its kind fail)."""
    if not isinstance(t, NodeType):
        raise InvalidArgumentError(f"expected a type (ArtifactType...), got {type(t).__name__}")
    try:
        return type(t).model_validate(dict(t))  # its fields as they are: no serialisation
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'type'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidArgumentError(f"invalid {type(t).__name__}: {errors}") from None


def _encode(t: NodeType, type_id: int) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": type_id,
        "name": t.name,
        "type_key": type_key(t.name, t.version),
    }
    for field in ("version", "description", "external_id", "base_type"):
        value = getattr(t, field)
        if value is not None:
            props[field] = value
    for name, kind in t.properties.items():
        props[_PREFIX + escape_name(name)] = int(kind)
    return props


def _decode(kind: NodeKind, node: Mapping[str, Any]) -> NodeType:
    """A type from its stored node, validated: a value this library would not have written
    (written around it: another tool, a hand-made Cypher statement) is
    :class:`StoredValueError` naming the type and the field (a bare ValueError or
    ValidationError before)."""
    properties: dict[str, PropertyType] = {}
    for k, v in node.items():
        if k.startswith(_PREFIX):
            name = unescape_name(k[len(_PREFIX) :])
            member = _KINDS.get(v) if type(v) is int else None
            if member is None:
                raise stored_value_error(
                    kind.type_label,
                    node.get("id"),
                    f"properties.{shown(name)}",
                    v,
                    enum_numbers(PropertyType, _KINDS.values()),
                )
            properties[name] = member
    try:
        return _TYPE_CLASSES[kind](
            id=node.get("id"),
            name=node.get("name"),  # type: ignore[arg-type]  # (validated)
            version=node.get("version"),
            description=node.get("description"),
            external_id=node.get("external_id"),
            base_type=node.get("base_type"),
            properties=properties,
        )
    except ValidationError as exc:
        raise stored_validation_error(kind.type_label, node.get("id"), exc, node) from None


#: The property kinds a stored type may declare (UNKNOWN is refused on write).
_KINDS = {int(k): k for k in PropertyType if k is not PropertyType.UNKNOWN}


def upgraded(stored: NodeType, new: NodeType, can_add: bool, can_omit: bool) -> NodeType:
    """``stored`` evolved to ``new`` by MLMD's backward-compatible rules, or AlreadyExistsError
    (a property of another value type; one added without ``can_add``, one left out without
    ``can_omit``)."""
    label = f"{stored.kind.type_label} {shown(stored.name)}"
    for name, kind in new.properties.items():
        old = stored.properties.get(name)
        if old is not None and old != kind:
            raise AlreadyExistsError(
                f"{label}: conflicting property value type for {shown(name)}: stored "
                f"{old.name}, given {kind.name}"
            )
    added = sorted(set(new.properties) - set(stored.properties))
    if added and not can_add:
        raise AlreadyExistsError(
            f"{label} exists without properties {added}: pass can_add_fields=True to add them"
        )
    omitted = sorted(set(stored.properties) - set(new.properties))
    if omitted and not can_omit:
        raise AlreadyExistsError(
            f"{label} has properties {omitted} missing from the request: pass "
            "can_omit_fields=True to keep them"
        )
    return stored.model_copy(
        update={
            "properties": {**stored.properties, **new.properties},
            # set when the type is created, never changed (as in MLMD)
            "description": stored.description,
            "external_id": new.external_id if new.external_id is not None else stored.external_id,
            "base_type": new.base_type if new.base_type is not None else stored.base_type,
        }
    )


class TypeRepository(Repository):
    """All three type kinds; one shared id space (as in MLMD)."""

    def __init__(self, backend: Any, ids: IdAllocator) -> None:
        super().__init__(backend)
        self.ids = ids
        self._cache: dict[int, NodeType] = {}
        self._by_key: dict[tuple[NodeKind, str], NodeType] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop the cached types: the graph they were read from was replaced by another."""
        with self._lock:
            self._cache.clear()
            self._by_key.clear()

    @staticmethod
    def _q(kind: NodeKind, what: str) -> str:
        return f"types/{what.format(kind.value.lower())}"

    # ------------------------------------------------------------------------------- writes

    def put(
        self, t: NodeType, *, can_add_fields: bool = False, can_omit_fields: bool = False
    ) -> int:
        """Insert a type, or return/upgrade the stored one with the same name and version."""
        t = _validated(t)
        check_type_identity(t.name, t.version)
        for field in ("description", "external_id"):
            check_text(f"type {field}", getattr(t, field))
        for name in t.properties:
            check_unicode(f"{t.kind.type_label} {shown(t.name)}: property name", name)
        check_key("type external_id", t.external_id)
        kind = t.kind
        lost_create = False
        for _ in range(_ATTEMPTS):
            found = self._find_stored(kind, t.name, t.version)
            if t.id is not None and (found is None or found[0].id != t.id):
                raise self._not_this_id(t)
            if (
                t.base_type is not None
                and t.base_type not in BASE_TYPES[kind]
                # one an older release stored may be given back as read
                and (found is None or found[0].base_type != t.base_type)
            ):
                known = ", ".join(BASE_TYPES[kind]) or "none (a context type has no base type)"
                raise InvalidArgumentError(
                    f"{kind.type_label} {shown(t.name)}: unknown base_type {shown(t.base_type)}: "
                    f"MLMD's base types of this kind are {known}; leave it None for no base type"
                )
            if found is None:
                if t.external_id is not None:
                    self._check_external_id_free(kind, t.external_id, None)
                props = _encode(t, 0)
                self.backend.ensure_property_keys(props)  # before an id is taken
                [type_id] = self.ids.allocate("Type", 1)
                props["id"] = type_id
                try:
                    self.write(self._q(kind, "put_{}_type"), id=type_id, props=props, expect=None)
                except AlreadyExistsError:
                    self.ids.release("Type", [type_id])
                    if not lost_create:  # lost a race with another writer: upgrade theirs
                        lost_create = True
                        continue
                    raise
                self._remember(kind, t.model_copy(update={"id": type_id}))
                return type_id
            stored, node = found
            merged = upgraded(stored, t, can_add_fields, can_omit_fields)
            assert stored.id is not None
            if merged == stored:
                return stored.id
            if merged.external_id is not None and merged.external_id != stored.external_id:
                self._check_external_id_free(kind, merged.external_id, stored.id)
            props = _encode(merged, stored.id)
            self.backend.ensure_property_keys(props)
            # Written only if the type is still as read: another writer's upgrade since then
            # is read again and this one's rules applied to it (MLMD runs them in a transaction).
            try:
                written = self.write(
                    self._q(kind, "put_{}_type"), id=stored.id, props=props, expect=node
                )
            except AlreadyExistsError:
                # The engine's constraint: another writer gave a type the external id since
                # the check above. Said as that check says it (the engine names no key).
                if merged.external_id is not None:
                    self._check_external_id_free(kind, merged.external_id, stored.id)
                raise
            if written:
                self._remember(kind, merged)
                return stored.id
        raise FailedPreconditionError(
            f"{kind.type_label} {shown(t.name)} was changed by other writers {_ATTEMPTS} times "
            "while "
            "this one upgraded it; nothing was written (try again)"
        )

    def _not_this_id(self, t: NodeType) -> Exception:
        """The error for a type given with an id that is not its stored one (ids are allocated
        by the store; an id given names the stored type this call updates)."""
        assert t.id is not None
        kind = t.kind
        v = f" version {shown(t.version)}" if t.version else ""
        holder = self.get_by_ids_of_kinds({k: [t.id] for k in NodeKind})
        for other_kind, found in holder.items():
            for other in found:
                ov = f" version {shown(other.version)}" if other.version else ""
                return InvalidArgumentError(
                    f"type id {t.id} is {other_kind.type_label} {shown(other.name)}{ov}, not "
                    f"{kind.type_label} {shown(t.name)}{v}: "
                    "a type's id, name and version cannot be "
                    "changed (leave id unset to register or upgrade a type by name)"
                )
        return NotFoundError(
            f"no type with id {t.id} to update ({kind.type_label} {shown(t.name)}{v}): ids are "
            "given by the store; leave id unset to register a new type"
        )

    def _check_external_id_free(self, kind: NodeKind, external_id: str, own_id: int | None) -> None:
        for other in self.get_by_external_ids(kind, [external_id]):
            if other.id != own_id:
                raise AlreadyExistsError(
                    f"{kind.type_label} external_id {shown_key(external_id)} is taken by type "
                    f"{shown_key(other.name)}"
                )

    # -------------------------------------------------------------------------------- reads

    def _remember(self, kind: NodeKind, t: NodeType) -> None:
        assert t.id is not None
        with self._lock:
            self._cache[t.id] = t
            self._by_key[(kind, type_key(t.name, t.version))] = t

    def find(self, kind: NodeKind, name: str, version: str | None = None) -> NodeType | None:
        found = self._find_stored(kind, name, version)
        return None if found is None else found[0]

    def _find_stored(
        self, kind: NodeKind, name: str, version: str | None
    ) -> tuple[NodeType, dict[str, Any]] | None:
        """The type named so, and its node as stored (what an upgrade expects to replace)."""
        rows = self.read(self._q(kind, "get_{}_type"), type_key=type_key(name, version))
        if not rows:
            return None
        node = dict(rows[0]["node"])
        t = _decode(kind, node)
        self._remember(kind, t)
        return t, node

    def get(self, kind: NodeKind, name: str, version: str | None = None) -> NodeType:
        t = self.find(kind, name, version)
        if t is None:
            v = f" version {shown(version)}" if version else ""
            raise NotFoundError(f"no {kind.type_label} named {shown(name)}{v}")
        return t

    def list_all(self, kind: NodeKind) -> list[NodeType]:
        return [_decode(kind, r["node"]) for r in self.read(self._q(kind, "get_{}_types"))]

    def get_by_ids(self, kind: NodeKind, ids: Iterable[int]) -> list[NodeType]:
        # Ids outside int64 match nothing (no type has one): they are left out, as by the node
        # reads; Neo4j's driver cannot send them (it raised OverflowError).
        wanted = sorted(checked_ids(ids))
        if not wanted:
            return []
        rows = self.read(self._q(kind, "get_{}_types_by_ids"), ids=wanted)
        return [_decode(kind, r["node"]) for r in rows]

    def get_by_ids_of_kinds(
        self, ids: Mapping[NodeKind, Iterable[int]]
    ) -> dict[NodeKind, list[NodeType]]:
        """Types of several kinds by id in one read, each kind's in id order (unknown ids are
        left out)."""
        rows = self.read(
            "types/get_types_by_ids_of_kinds",
            **{f"{kind.value.lower()}_type_ids": list(ids.get(kind, ())) for kind in NodeKind},
        )
        found: dict[NodeKind, list[NodeType]] = {kind: [] for kind in NodeKind}
        for row in rows:  # decoded first: an id another writer stored as text is named
            kind = NodeKind(row["kind"])
            found[kind].append(_decode(kind, row["node"]))
        for types in found.values():
            types.sort(key=lambda t: t.id or 0)
        return found

    def get_by_external_ids(self, kind: NodeKind, external_ids: Iterable[str]) -> list[NodeType]:
        rows = self.read(
            self._q(kind, "get_{}_types_by_external_ids"),
            external_ids=external_id_list(external_ids),
        )
        return [_decode(kind, r["node"]) for r in rows]

    def by_id(self, kind: NodeKind, type_id: int, *, refresh: bool = False) -> NodeType:
        """A type by id, cached unless ``refresh`` (another process may have upgraded it)."""
        with self._lock:
            cached = self._cache.get(type_id)
        if cached is not None and cached.kind == kind and not refresh:
            return cached
        found = self.get_by_ids(kind, [type_id])
        if not found:
            raise InvalidArgumentError(f"no {kind.type_label} with id {type_id}")
        self._remember(kind, found[0])
        return found[0]

    def resolve(
        self, kind: NodeKind, type_id: int | None, name: str | None, version: str | None
    ) -> NodeType:
        """The type a node names by id or by name (+version); both must agree if both are given."""
        if type_id is not None:
            t = self.by_id(kind, type_id)
            if name is not None and name != t.name:
                raise InvalidArgumentError(
                    f"type_id {type_id} is {kind.type_label} {shown(t.name)}, not {shown(name)}"
                )
            if version is not None and version != t.version:
                raise InvalidArgumentError(
                    f"type_id {type_id} is {kind.type_label} "
                    f"{shown(t.name)} version {shown(t.version)}, "
                    f"not version {shown(version)}"
                )
            return t
        if name is None:
            raise InvalidArgumentError(f"a new {kind.value.lower()} needs a type_id or a type name")
        with self._lock:
            found = self._by_key.get((kind, type_key(name, version)))
        if found is None:  # type ids never change: a name seen once needs no second lookup
            found = self.find(kind, name, version)
        if found is None:
            raise InvalidArgumentError(
                f"no {kind.type_label} named {shown(name)}: register it first"
            )
        return found
