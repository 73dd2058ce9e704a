"""Random property maps round-trip exactly through every engine (hypothesis)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import Artifact, ArtifactType, LineageStore, ProtoValue
from lineage_graph.models import INT64_MAX, INT64_MIN

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)  # fmt: skip
values = (
    st.integers(INT64_MIN, INT64_MAX)
    | st.floats()
    | st.text()
    | st.booleans()
    | st.dictionaries(st.text(max_size=8), json_values, max_size=3)
    | st.builds(ProtoValue, type_url=st.text(max_size=20), value=st.binary(max_size=20))
)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return type(a) is type(b) and a == b


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(custom=st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=6), uri=st.text())
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
        assert same(value, got.custom_properties[key]), key
