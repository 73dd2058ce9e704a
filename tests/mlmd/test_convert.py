"""Proto <-> model conversion is lossless, alone and through the store (hypothesis)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ml_metadata import errors
from ml_metadata.metadata_store import metadata_store as mlmd
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph.mlmd import MetadataStore
from lineage_graph.mlmd import _convert as convert
from lineage_graph.models import NodeKind

from ..strategies import property_values as _any_values

#: NaN payloads and signs are not kept (the store keeps ``repr(float)``): one canonical NaN.
property_values = _any_values.map(
    lambda v: math.nan if isinstance(v, float) and math.isnan(v) else v
)
names = st.text(min_size=1, max_size=12)


def _value(python: Any) -> Any:
    out = pb.Value()
    convert.value_to_proto(python, out)
    return out


def _bytes(msg: Any) -> bytes:
    return msg.SerializeToString(deterministic=True)


@given(property_values)
def test_value_round_trip(python: Any) -> None:
    msg = _value(python)  # a struct's numbers become doubles here, as in any Struct
    back = _value(convert.value_from_proto(msg, "v"))
    assert _bytes(back) == _bytes(msg)


def _artifact_proto(props: dict[str, Any], state: int, uri: str, name: str | None) -> Any:
    a = pb.Artifact(type_id=10, uri=uri, state=state)
    if name:
        a.name = name
    for key, value in props.items():
        a.custom_properties[key].CopyFrom(_value(value))
    return a


artifacts = st.builds(
    _artifact_proto,
    st.dictionaries(names, property_values, max_size=4),
    st.integers(1, 6),
    st.text(max_size=20).filter(lambda s: "\x00" not in s),
    st.none() | st.text(alphabet="abcxyz-_.", min_size=1, max_size=10),
)


@given(artifacts)
def test_node_round_trip_without_store(msg: Any) -> None:
    back = convert.node_to_proto(convert.to_node(NodeKind.ARTIFACT, msg))  # type: ignore[arg-type]
    assert _bytes(back) == _bytes(msg)


@given(
    st.sampled_from(list(NodeKind)),
    st.dictionaries(names, st.sampled_from([1, 2, 3, 4, 5, 6]), max_size=4),
    st.none() | st.text(min_size=1, max_size=5),
    st.integers(0, 5),
)
def test_type_round_trip(
    kind: NodeKind, props: dict[str, int], version: str | None, b: int
) -> None:
    msg = convert.TYPE_PROTO[kind](name="T", description="d", external_id="x")
    if version:
        msg.version = version
    for key, code in props.items():
        msg.properties[key] = code
    base = convert.TYPE_PROTO[kind].SystemDefinedBaseType
    if b in base.values() and b:
        msg.base_type = b
    back = convert.type_to_proto(convert.to_type(kind, msg))
    assert _bytes(back) == _bytes(msg)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(msg=artifacts)
def test_artifacts_round_trip_through_the_store(ours: MetadataStore, msg: Any) -> None:
    tid = ours.put_artifact_type(pb.ArtifactType(name="Any"))
    msg.type_id = tid
    msg.ClearField("name")  # names are unique per type: examples would collide
    [aid] = ours.put_artifacts([msg])
    [back] = ours.get_artifacts_by_id([aid])
    assert back.type == "Any" and back.create_time_since_epoch > 0
    for field in ("id", "type", "create_time_since_epoch", "last_update_time_since_epoch"):
        back.ClearField(field)
    assert _bytes(back) == _bytes(msg)


def test_event_paths_and_times_round_trip(ours: MetadataStore) -> None:
    at = ours.put_artifact_type(pb.ArtifactType(name="A"))
    et = ours.put_execution_type(pb.ExecutionType(name="E"))
    [a] = ours.put_artifacts([pb.Artifact(type_id=at)])
    [e] = ours.put_executions([pb.Execution(type_id=et)])
    event = pb.Event(
        artifact_id=a, execution_id=e, type=pb.Event.PENDING_OUTPUT, milliseconds_since_epoch=12
    )
    event.path.steps.add(key="out")
    event.path.steps.add(index=-3)
    event.path.steps.add(key="")
    ours.put_events([event])
    assert ours.get_events_by_artifact_ids([a]) == [event]


def test_every_node_field_round_trips(ours: MetadataStore) -> None:
    tid = ours.put_execution_type(
        pb.ExecutionType(name="E", properties={"p": pb.PROTO, "s": pb.STRUCT})
    )
    e = pb.Execution(
        type_id=tid, name="run", external_id="ext-1", last_known_state=pb.Execution.CANCELED
    )
    e.properties["p"].proto_value.type_url = "type.googleapis.com/x.Y"
    e.properties["p"].proto_value.value = b"\x00\xff"
    e.properties["s"].struct_value.update({"a": [1.5, None, True, {"b": "c"}]})
    [eid] = ours.put_executions([e])
    [back] = ours.get_executions_by_id([eid])
    assert back.type == "E" and back.id == eid
    for field in ("id", "type", "create_time_since_epoch", "last_update_time_since_epoch"):
        back.ClearField(field)
    assert back == e


@pytest.mark.parametrize(
    "name",
    ["", " lead", "trail\t", "has\x01ctrl", "x" * 4097, "é" * 2049],
)
def test_unstorable_unique_keys_are_invalid(ours: MetadataStore, name: str) -> None:
    """Empty, edge-whitespace, U+0001 and > 4,096-byte names cannot be unique keys (documented)."""
    tid = ours.put_context_type(pb.ContextType(name="C"))
    with pytest.raises(errors.InvalidArgumentError):
        ours.put_contexts([pb.Context(type_id=tid, name=name)])
    with pytest.raises(errors.InvalidArgumentError):
        ours.put_artifact_type(pb.ArtifactType(name="A", external_id=name or " "))
    assert ours.get_contexts() == []


def test_a_value_with_nothing_set_is_invalid(ours: MetadataStore) -> None:
    # (real ml_metadata 1.17.1 aborts the whole process on this input)
    tid = ours.put_artifact_type(pb.ArtifactType(name="A"))
    a = pb.Artifact(type_id=tid)
    a.custom_properties["empty"].SetInParent()
    with pytest.raises(errors.InvalidArgumentError, match="holds no value"):
        ours.put_artifacts([a])


def _nested_struct(depth: int) -> Any:
    from google.protobuf import struct_pb2

    top = struct_pb2.Struct()
    inner = top
    for _ in range(depth):
        inner = inner.fields["k"].struct_value
    return top


def test_a_struct_nested_too_deep_is_invalid_argument(ours: MetadataStore) -> None:
    """RecursionError from protobuf's MessageToDict before (MLMD: InvalidArgumentError)."""
    tid = ours.put_artifact_type(pb.ArtifactType(name="A"))
    a = pb.Artifact(type_id=tid)
    a.custom_properties["s"].struct_value.CopyFrom(_nested_struct(1_000))
    with pytest.raises(errors.InvalidArgumentError, match="nested deeper than 100"):
        ours.put_artifacts([a])
    assert ours.get_artifacts() == []


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf], ids=["NaN", "inf", "-inf"])
def test_nan_and_infinity_in_a_struct_are_stored_as_mlmd_stores_them(
    ours: MetadataStore, number: float
) -> None:
    """ml_metadata 1.17.1 stores a NaN or infinite number inside a struct_value (a Struct's
    numbers are doubles) and returns it; the adapter refused the put (InvalidArgumentError from
    MessageToDict's ValueError)."""
    real = mlmd.MetadataStore(pb.ConnectionConfig(fake_database=pb.FakeDatabaseConfig()))
    got = []
    for store in (real, ours):
        tid = store.put_artifact_type(pb.ArtifactType(name="A"))
        a = pb.Artifact(type_id=tid, uri="/a")
        a.custom_properties["s"].struct_value.update({"x": number, "l": [number, 1], "n": None})
        [aid] = store.put_artifacts([a])
        [back] = store.get_artifacts_by_id([aid])
        got.append(str(back.custom_properties["s"]))  # as text: NaN != NaN as a double
    assert got[0] == got[1]
    assert ("nan" if math.isnan(number) else "inf") in got[1]


def test_the_native_base_types_are_mlmds() -> None:
    """The base type names the native API accepts are ml_metadata's enum names (but UNSET)."""
    from lineage_graph._repositories.types import BASE_TYPES

    for kind, proto in convert.TYPE_PROTO.items():
        names = [n for n in proto.SystemDefinedBaseType.keys() if n != "UNSET"]  # noqa: SIM118
        assert list(BASE_TYPES[kind]) == names, kind
