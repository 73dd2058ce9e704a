"""Lossless conversion between MLMD's ``metadata_store_pb2`` protos and lineage_graph models.

One function per direction and message. Protos in (``to_*``) become validated models; models
out (``*_to_proto``) become protos shaped as MLMD returns them (``uri`` always set, times set,
``type`` filled with the type name). ``Value.struct_value`` maps to a ``dict`` (JSON), and
``Value.proto_value`` (a ``google.protobuf.Any``) to :class:`~lineage_graph.ProtoValue`.

Proto fields with no counterpart in the graph model (``system_metadata``, the experimental
``ExecutionType.input_type`` / ``output_type``) are not stored: see docs/mlmd-compatibility.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ml_metadata.proto import metadata_store_pb2 as _pb

from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    NodeKind,
    NodeType,
    ParentContext,
    PropertyType,
    ProtoValue,
)

__all__ = [
    "NODE_PROTO",
    "TYPE_PROTO",
    "association_to_proto",
    "attribution_to_proto",
    "contexts_until_nameless",
    "event_ids",
    "event_to_proto",
    "expect_node",
    "node_to_proto",
    "parent_context_to_proto",
    "to_association",
    "to_attribution",
    "to_contexts",
    "to_event",
    "to_node",
    "to_parent_context",
    "to_type",
    "type_to_proto",
    "value_from_proto",
    "value_to_proto",
]

pb: Any = _pb  # generated module: no static attributes for mypy

#: Proto message class of each node kind / type kind.
NODE_PROTO: dict[NodeKind, Any] = {
    NodeKind.ARTIFACT: pb.Artifact,
    NodeKind.EXECUTION: pb.Execution,
    NodeKind.CONTEXT: pb.Context,
}
TYPE_PROTO: dict[NodeKind, Any] = {
    NodeKind.ARTIFACT: pb.ArtifactType,
    NodeKind.EXECUTION: pb.ExecutionType,
    NodeKind.CONTEXT: pb.ContextType,
}
_NODE_MODEL: dict[NodeKind, type[Artifact | Execution | Context]] = {
    NodeKind.ARTIFACT: Artifact,
    NodeKind.EXECUTION: Execution,
    NodeKind.CONTEXT: Context,
}
_TYPE_MODEL: dict[NodeKind, type[NodeType]] = {
    NodeKind.ARTIFACT: ArtifactType,
    NodeKind.EXECUTION: ExecutionType,
    NodeKind.CONTEXT: ContextType,
}


def _expect(msg: Any, cls: Any, method: str = "CopyFrom") -> None:
    """ml_metadata's client copies each message into its request, which raises TypeError for a
    message of another class (an ``ExecutionType`` given to ``put_artifact_type``): so do we,
    before anything is written."""
    if not isinstance(msg, cls):
        raise TypeError(
            f"Parameter to {method}() must be instance of same class: expected {cls} got "
            f"{type(msg)}."
        )


def _opt_str(msg: Any, field: str) -> str | None:
    """A proto2 optional string: unset and empty are both "no value" in the graph model."""
    return getattr(msg, field) or None if msg.HasField(field) else None


def _opt_int(msg: Any, field: str) -> int | None:
    """A proto2 optional id: unset (or 0, which MLMD never allocates) is None."""
    return getattr(msg, field) or None if msg.HasField(field) else None


# ---------------------------------------------------------------------------------- values


def _text(value: Any, where: str) -> str:
    """A proto string field's text. A message parsed from bytes holding invalid UTF-8 in a
    string field hands that field back as ``bytes``: refused (``str()`` of it stored its repr,
    ``"b'\\xff'"``, as the value)."""
    if isinstance(value, bytes):
        raise InvalidArgumentError(f"{where}: the string is not valid UTF-8")
    return str(value)


#: The deepest struct a property holds (as the models check: MLMD refuses from about 90 levels).
_STRUCT_DEPTH = 100


def _struct_from_proto(struct: Any, where: str) -> dict[str, Any]:
    """A ``google.protobuf.Struct`` as a dict, as ``json_format.MessageToDict`` gives it (every
    number a float, null as None) but with NaN and +/-inf numbers kept: MessageToDict raises
    ValueError for them, while ml_metadata stores and returns them (a struct holding one made
    the whole put, or a whole import, fail)."""

    def value(v: Any, depth: int) -> Any:
        which = v.WhichOneof("kind")
        if which is None or which == "null_value":
            return None
        if which == "number_value":
            return float(v.number_value)
        if which == "string_value":
            return _text(v.string_value, where)
        if which == "bool_value":
            return bool(v.bool_value)
        if depth >= _STRUCT_DEPTH:  # a recursion error past ~400 levels
            raise InvalidArgumentError(
                f"{where}: struct value nested deeper than {_STRUCT_DEPTH} levels"
            )
        if which == "list_value":
            return [value(item, depth + 1) for item in v.list_value.values]
        return fields(v.struct_value, depth + 1)

    def fields(s: Any, depth: int) -> dict[str, Any]:
        return {_text(k, where): value(s.fields[k], depth) for k in s.fields}

    return fields(struct, 0)


def value_from_proto(value: Any, where: str) -> Any:
    """A plain Python value from ``metadata_store_pb2.Value``."""
    which = value.WhichOneof("value")
    if which == "int_value":
        return int(value.int_value)
    if which == "double_value":
        return float(value.double_value)
    if which == "string_value":
        return _text(value.string_value, where)
    if which == "bool_value":
        return bool(value.bool_value)
    if which == "struct_value":
        return _struct_from_proto(value.struct_value, where)
    if which == "proto_value":
        return ProtoValue(type_url=value.proto_value.type_url, value=value.proto_value.value)
    raise InvalidArgumentError(f"{where}: the Value holds no value (set one of its fields)")


def value_to_proto(value: Any, out: Any) -> None:
    """Fill ``out`` (a ``metadata_store_pb2.Value``) from a plain Python value."""
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, dict):
        out.struct_value.SetInParent()  # an empty struct is still a struct value
        out.struct_value.update(value)
    elif isinstance(value, ProtoValue):
        out.proto_value.SetInParent()
        out.proto_value.type_url = value.type_url
        out.proto_value.value = value.value
    else:  # pragma: no cover - the models admit nothing else
        raise InvalidArgumentError(f"unsupported property value {type(value).__name__}")


def _values_from(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in values:  # a name first: looking up one that is not UTF-8 raises
        if isinstance(name, bytes):
            raise InvalidArgumentError(f"{where} {name!r}: the name is not valid UTF-8")
        v = values[name]
        if v.WhichOneof("value") is None:
            # MLMD's own words for a declared property (its tests match them; a custom one
            # crashes MLMD's process): "Found unmatched property type: foo".
            raise InvalidArgumentError(
                f"{where} {name!r}: the Value holds no value (set one of its fields). "
                f"Found unmatched property type: {name}"
            )
        out[name] = value_from_proto(v, f"{where} {name!r}")
    return out


def _values_to(values: Mapping[str, Any], out: Any) -> None:
    for name, value in values.items():
        value_to_proto(value, out[name])


# ----------------------------------------------------------------------------------- types


def _base_type_enum(kind: NodeKind) -> Any:
    return TYPE_PROTO[kind].SystemDefinedBaseType


def to_type(kind: NodeKind, msg: Any) -> NodeType:
    """A type model from ``ArtifactType`` / ``ExecutionType`` / ``ContextType``."""
    _expect(msg, TYPE_PROTO[kind], "MergeFrom")
    properties = {}
    for name in msg.properties:  # a name first: looking up one that is not UTF-8 raises
        if isinstance(name, bytes):
            raise InvalidArgumentError(f"property name {name!r} is not valid UTF-8")
        code = msg.properties[name]
        if code not in PropertyType._value2member_map_ or code == PropertyType.UNKNOWN:
            raise InvalidArgumentError(f"property {name!r} has an unknown value type ({code})")
        properties[name] = PropertyType(code)
    base_type = None
    if msg.HasField("base_type") and msg.base_type != 0:
        base_type = _base_type_enum(kind).Name(msg.base_type)
    if not msg.name:
        raise InvalidArgumentError("No type name is specified.")
    return _TYPE_MODEL[kind](
        id=_opt_int(msg, "id"),
        name=msg.name,
        version=_opt_str(msg, "version"),
        description=msg.description if msg.HasField("description") else None,
        external_id=_opt_str(msg, "external_id"),
        properties=properties,
        base_type=base_type,
    )


def _set_given(msg: Any, model: Any, *fields: str) -> None:
    """Sets each of ``fields`` of ``msg`` that ``model`` holds (None: left unset, as MLMD
    leaves a field it has no value for)."""
    for name in fields:
        value = getattr(model, name)
        if value is not None:
            setattr(msg, name, value)


def type_to_proto(t: NodeType) -> Any:
    msg = TYPE_PROTO[t.kind](id=t.id, name=t.name)
    _set_given(msg, t, "version", "description", "external_id")
    for name, code in t.properties.items():
        msg.properties[name] = int(code)
    if t.base_type is not None:
        enum = _base_type_enum(t.kind)
        # a base type name MLMD does not know (set through the native API) is not shown
        if t.base_type in enum.DESCRIPTOR.values_by_name:
            msg.base_type = enum.Value(t.base_type)
    return msg


# ----------------------------------------------------------------------------------- nodes


class EmptyContextNameError(InvalidArgumentError):
    """A new context without a name: MLMD finds it as it creates the context, after it has
    looked its type up (an unknown type id is NotFoundError first) and checked its properties,
    and after the contexts before it in the call (``MetadataStore.put_contexts``)."""


def to_node(kind: NodeKind, msg: Any) -> Artifact | Execution | Context:
    """A node model from an ``Artifact`` / ``Execution`` / ``Context`` proto.

    The output-only ``type`` name and the timestamps are ignored, as MLMD does.
    """
    _expect(msg, NODE_PROTO[kind])
    label = kind.value.lower()
    data: dict[str, Any] = {}
    # An id given (even 0) is an update, of a node MLMD never allocates below 1; a type id given
    # names a type, none below 1.
    if msg.HasField("id"):
        if msg.id < 1:
            raise InvalidArgumentError(f"Cannot find the given id {msg.id}")
        data["id"] = msg.id
    if msg.HasField("type_id"):
        if msg.type_id < 1:
            if "id" in data:  # an update: a type change, which MLMD refuses as invalid
                raise InvalidArgumentError(f"Given type_id {msg.type_id} is not the node's")
            raise NotFoundError(f"No type found for query, type_id: {msg.type_id}")
        data["type_id"] = msg.type_id
    if msg.HasField("name"):
        data["name"] = msg.name
    if msg.HasField("external_id"):
        data["external_id"] = msg.external_id or None
    if msg.properties:
        data["properties"] = _values_from(msg.properties, f"{label} property")
    if msg.custom_properties:
        data["custom_properties"] = _values_from(msg.custom_properties, f"{label} custom property")
    # Always given, so a proto with just an id is a whole update (every other field cleared) as
    # in MLMD, never the native store's id-only reference.
    if kind == NodeKind.ARTIFACT:
        data["uri"] = msg.uri if msg.HasField("uri") else None
        if msg.HasField("state"):
            data["state"] = ArtifactState(msg.state)
    elif kind == NodeKind.EXECUTION:
        data["last_known_state"] = ExecutionState(msg.last_known_state)
    elif not msg.name and "id" not in data:
        raise EmptyContextNameError("Context name should not be empty")
    return _NODE_MODEL[kind].model_validate(data)


def contexts_until_nameless(
    msgs: Iterable[Any], *, force_reuse: bool = False
) -> tuple[list[Context], tuple[Any, EmptyContextNameError] | None]:
    """Context models of ``msgs``, in order, up to the first new context without a name, and
    that one's message and error (None: there is none). MLMD refuses it only as it creates it,
    after the nodes before it (put_contexts, put_execution); a caller that refuses it at once
    raises the error (:func:`to_contexts`). With ``force_reuse`` a context given with an id is
    only linked, never rewritten: it becomes an id-only reference, which the native store links
    without writing it."""
    out: list[Context] = []
    for msg in msgs:
        if force_reuse and msg.HasField("id") and msg.id < 1:
            raise NotFoundError(f"Results missing for ids: [{msg.id}]")
        if force_reuse and (ident := _opt_int(msg, "id")) is not None:
            out.append(Context.model_construct(id=ident))
            continue
        try:
            out.append(to_node(NodeKind.CONTEXT, msg))  # type: ignore[arg-type]
        except EmptyContextNameError as exc:
            return out, (msg, exc)
    return out, None


def to_contexts(msgs: Iterable[Any]) -> list[Context]:
    """Context models for put_lineage_subgraph, a new one without a name refused at once (see
    :func:`contexts_until_nameless`)."""
    out, nameless = contexts_until_nameless(msgs)
    if nameless is not None:
        raise nameless[1]
    return out


def node_to_proto(node: Artifact | Execution | Context) -> Any:
    msg = NODE_PROTO[node.kind](id=node.id, type_id=node.type_id)
    _set_given(msg, node, "type", "name", "external_id")
    _values_to(node.properties, msg.properties)
    _values_to(node.custom_properties, msg.custom_properties)
    if isinstance(node, Artifact):
        msg.uri = node.uri or ""  # MLMD always returns the uri column
        if node.state != ArtifactState.UNKNOWN:
            msg.state = int(node.state)
    elif isinstance(node, Execution) and node.last_known_state != ExecutionState.UNKNOWN:
        msg.last_known_state = int(node.last_known_state)
    _set_given(msg, node, "create_time_since_epoch", "last_update_time_since_epoch")
    return msg


# --------------------------------------------------------------------------- relationships


def event_ids(msg: Any) -> tuple[int | None, int | None]:
    """An ``Event`` message's ``(artifact_id, execution_id)`` as given: set, even to 0 or below
    (an id MLMD never allocates: it names no node, so it matches none), or None. MLMD's
    composite writes check an event's ids against its nodes before its type, so they are read
    apart from :func:`to_event` (whose model has no place for an id below 1)."""
    _expect(msg, pb.Event)
    return (
        msg.artifact_id if msg.HasField("artifact_id") else None,
        msg.execution_id if msg.HasField("execution_id") else None,
    )


def expect_node(kind: NodeKind, msg: Any) -> None:
    """ml_metadata's client refuses a node message of another class (``TypeError``) as it
    builds the request, before the server checks anything."""
    _expect(msg, NODE_PROTO[kind])


def to_event(msg: Any) -> Event:
    _expect(msg, pb.Event)
    if not msg.HasField("type") or msg.type == 0:
        raise InvalidArgumentError("No event type is specified.")
    path: list[int | str] = []
    for step in msg.path.steps:
        which = step.WhichOneof("value")
        if which == "index":
            path.append(int(step.index))
        elif which == "key":
            path.append(_text(step.key, "event path key"))
        # a step with neither is dropped, as MLMD stores it
    return Event(
        artifact_id=_opt_int(msg, "artifact_id"),
        execution_id=_opt_int(msg, "execution_id"),
        type=EventType(msg.type),
        path=path,
        # given, even 0, it is stored as given (MLMD); unset, the write's time
        milliseconds_since_epoch=msg.milliseconds_since_epoch
        if msg.HasField("milliseconds_since_epoch")
        else None,
    )


def event_to_proto(event: Event) -> Any:
    msg = pb.Event(
        artifact_id=event.artifact_id, execution_id=event.execution_id, type=int(event.type)
    )
    if event.path:
        for step in event.path:
            if isinstance(step, str):
                msg.path.steps.add(key=step)
            else:
                msg.path.steps.add(index=step)
    if event.milliseconds_since_epoch is not None:
        msg.milliseconds_since_epoch = event.milliseconds_since_epoch
    return msg


def _ids(msg: Any, *fields: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        if not getattr(msg, field):
            raise InvalidArgumentError(f"{type(msg).__name__}.{field} is required")
        out[field] = getattr(msg, field)
    return out


def to_attribution(msg: Any) -> Attribution:
    _expect(msg, pb.Attribution)
    return Attribution(**_ids(msg, "artifact_id", "context_id"))


def to_association(msg: Any) -> Association:
    _expect(msg, pb.Association)
    return Association(**_ids(msg, "execution_id", "context_id"))


def to_parent_context(msg: Any) -> ParentContext:
    """The link; one with an id that is unset, 0 or below is kept unvalidated, for the store
    to refuse (InvalidArgumentError) at its place among the links: MLMD checks them link by
    link, so a stored link or a cycle before it is reported first."""
    _expect(msg, pb.ParentContext)
    ids = {"child_id": msg.child_id, "parent_id": msg.parent_id}
    if all(value > 0 for value in ids.values()):
        return ParentContext(**ids)
    return ParentContext.model_construct(**ids)


def attribution_to_proto(a: Attribution) -> Any:
    return pb.Attribution(artifact_id=a.artifact_id, context_id=a.context_id)


def association_to_proto(a: Association) -> Any:
    return pb.Association(execution_id=a.execution_id, context_id=a.context_id)


def parent_context_to_proto(p: ParentContext) -> Any:
    return pb.ParentContext(child_id=p.child_id, parent_id=p.parent_id)
