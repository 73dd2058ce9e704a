"""A proto parsed from bytes (``ParseFromString``) whose string fields hold invalid UTF-8 hands
those fields back as ``bytes``: the adapter refuses them (InvalidArgumentError) instead of
storing ``str(bytes)``, the Python repr ``"b'\\xff...'"``, as the value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("ml_metadata")

from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph.mlmd import MetadataStore

BAD = b"\xff\xfe\x80A"  # as long as the marker: the length prefixes stay right


@pytest.fixture
def mlmd() -> Iterator[Any]:
    config = pb.ConnectionConfig()
    config.fake_database.SetInParent()
    store = MetadataStore(config)
    yield store
    store.close()


def _parsed(message: Any, marker: bytes) -> Any:
    """``message`` through the wire with ``marker`` replaced by invalid UTF-8."""
    raw = message.SerializeToString()
    assert raw.count(marker) == 1
    out = type(message)()
    out.ParseFromString(raw.replace(marker, BAD))
    return out


def test_a_string_value_that_is_not_utf8_is_refused(mlmd: Any) -> None:
    t = mlmd.put_artifact_type(pb.ArtifactType(name="T"))
    a = pb.Artifact(type_id=t, uri="/a")
    a.custom_properties["k"].string_value = "MARK"
    with pytest.raises(errors.InvalidArgumentError, match="not valid UTF-8"):
        mlmd.put_artifacts([_parsed(a, b"MARK")])
    assert mlmd.get_artifacts() == []


def test_a_property_name_that_is_not_utf8_is_refused(mlmd: Any) -> None:
    t = mlmd.put_artifact_type(pb.ArtifactType(name="T"))
    a = pb.Artifact(type_id=t, uri="/a")
    a.custom_properties["MARK"].int_value = 1
    with pytest.raises(errors.InvalidArgumentError, match="not valid UTF-8"):
        mlmd.put_artifacts([_parsed(a, b"MARK")])
    assert mlmd.get_artifacts() == []


def test_an_event_path_key_that_is_not_utf8_is_refused(mlmd: Any) -> None:
    at = mlmd.put_artifact_type(pb.ArtifactType(name="T"))
    et = mlmd.put_execution_type(pb.ExecutionType(name="E"))
    [a] = mlmd.put_artifacts([pb.Artifact(type_id=at, uri="/a")])
    [e] = mlmd.put_executions([pb.Execution(type_id=et)])
    event = pb.Event(artifact_id=a, execution_id=e, type=pb.Event.INPUT)
    event.path.steps.add().key = "MARK"
    with pytest.raises(errors.InvalidArgumentError, match="not valid UTF-8"):
        mlmd.put_events([_parsed(event, b"MARK")])
    assert mlmd.get_events_by_artifact_ids([a]) == []


def test_a_type_property_name_that_is_not_utf8_is_refused(mlmd: Any) -> None:
    t = pb.ArtifactType(name="T")
    t.properties["MARK"] = pb.INT
    with pytest.raises(errors.InvalidArgumentError, match="not valid UTF-8"):
        mlmd.put_artifact_type(_parsed(t, b"MARK"))
    assert mlmd.get_artifact_types() == []
