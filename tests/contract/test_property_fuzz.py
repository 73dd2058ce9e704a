"""Random property maps round-trip exactly through every engine (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import Artifact, ArtifactType, LineageStore
from tests.strategies import property_values, same_value


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    custom=st.dictionaries(st.text(min_size=1, max_size=20), property_values, max_size=6),
    uri=st.text(),
)
def test_custom_properties_round_trip(
    store: LineageStore, custom: dict[str, Any], uri: str
) -> None:
    store.put_artifact_type(ArtifactType(name="T"))
    if "\x00" in uri:
        uri = uri.replace("\x00", "")  # NUL is rejected in plain text fields (tested elsewhere)
    [aid] = store.put_artifacts([Artifact(type="T", uri=uri, custom_properties=custom)])
    [got] = store.get_artifacts_by_id([aid])
    assert got.uri == uri
    assert got.custom_properties.keys() == custom.keys()
    for key, value in custom.items():
        assert same_value(value, got.custom_properties[key]), key
