"""Hypothesis strategies shared by the unit and contract suites."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from lineage_graph.models import INT64_MAX, INT64_MIN, ProtoValue

#: JSON data a struct property may hold (finite numbers only: JSON has no NaN).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),  # noqa: E501
    max_leaves=10,
)  # fmt: skip

#: Every kind of property value MLMD can hold, extremes included.
property_values = (
    st.integers(INT64_MIN, INT64_MAX)
    | st.floats()
    | st.text()
    | st.booleans()
    | st.dictionaries(st.text(max_size=8), json_values, max_size=3)
    | st.builds(ProtoValue, type_url=st.text(max_size=20), value=st.binary(max_size=20))
)


def same_value(a: Any, b: Any) -> bool:
    """Equal in type and value; NaN equals NaN, and the sign of zero matters."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b
