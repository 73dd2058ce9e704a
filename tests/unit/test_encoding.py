"""Property encoding is lossless for every value kind (pure Python, no engine)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from lineage_graph._encoding import (
    decode_properties,
    encode_properties,
    escape_name,
    property_key,
    unescape_name,
)
from lineage_graph.models import PropertyType, kind_of
from tests.strategies import property_values, same_value


@given(
    st.dictionaries(st.text(min_size=1), property_values),
    st.dictionaries(st.text(min_size=1), property_values),
)
def test_round_trip(props: dict[str, Any], custom: dict[str, Any]) -> None:
    stored = {
        **encode_properties("p", props, {k: kind_of(v) for k, v in props.items()}),
        **encode_properties("c", custom, {k: kind_of(v) for k, v in custom.items()}),
        "id": 1,
        "uri": "not a property",
    }
    got_props, got_custom = decode_properties(stored)
    assert got_props.keys() == props.keys() and got_custom.keys() == custom.keys()
    for k, v in props.items():
        assert same_value(v, got_props[k])
    for k, v in custom.items():
        assert same_value(v, got_custom[k])


@given(st.text())
def test_escape_round_trip(name: str) -> None:
    escaped = escape_name(name)
    assert "`" not in escaped and "\x00" not in escaped
    assert unescape_name(escaped) == name


def test_filterable_keys() -> None:
    assert property_key("p", PropertyType.INT, "day") == "pi__day"
    assert property_key("c", PropertyType.STRING, "a`b") == "cs__a%60b"
    stored = encode_properties("p", {"w": 0.5}, {"w": PropertyType.DOUBLE})
    assert stored == {"pd__w": 0.5, "px__w": "0.5"}  # native float for filters, exact string
    assert encode_properties("p", {"w": math.inf}, {"w": PropertyType.DOUBLE}) == {"px__w": "inf"}


def test_kind_of_rejects_what_mlmd_cannot_hold() -> None:
    import pytest

    for bad in (None, [1], 2**63, b"x", object()):
        with pytest.raises(ValueError):
            kind_of(bad)
    assert kind_of(True) == PropertyType.BOOLEAN  # not INT


def test_a_struct_holding_nan_or_infinity_round_trips() -> None:
    """A Struct's numbers are doubles, and ml_metadata stores NaN and +/-inf in them: so does the
    struct encoding (JSON text with Python's NaN / Infinity extensions, a string on any
    engine). kind_of refused them, so a MLMD store holding one could not be imported at all."""
    value = {"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c": {"d": math.nan}}
    assert kind_of(value) == PropertyType.STRUCT
    stored = encode_properties("c", {"s": value}, {"s": PropertyType.STRUCT})
    assert isinstance(stored["cj__s"], str)
    _, custom = decode_properties(stored)
    back = custom["s"]
    assert math.isnan(back["a"]) and math.isnan(back["c"]["d"])
    assert back["b"] == [math.inf, -math.inf, 1.5]
