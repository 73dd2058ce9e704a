"""The parameter text the embedded backend sends (backends/_resp.py ``params_header``) is exactly
falkordb-py's (``stringify_param_value``, the oracle), for any value, including the ones falkordb-py
refuses (a map key that is empty or holds a backtick: the same ValueError)."""

from __future__ import annotations

from typing import Any

import pytest
from falkordb.helpers import stringify_param_value
from hypothesis import given
from hypothesis import strategies as st

from lineage_graph.backends._resp import params_header

keys = (
    st.text(max_size=6)
    | st.sampled_from(["id", "type", "`", "a`b", ""])
    | st.integers(-3, 3)
    | st.booleans()
    | st.binary(max_size=3).filter(lambda b: b.isascii())
)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(['a"b', "c\\d", '\\"', "`"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=16,
)


def _oracle(params: dict[str, Any]) -> str:
    return "CYPHER " + " ".join(f"`{k}`={stringify_param_value(v)}" for k, v in params.items())


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), values, min_size=1))
def test_the_parameter_text_is_falkordb_pys(params: dict[str, Any]) -> None:
    try:
        expected = _oracle(params)
    except ValueError as exc:
        with pytest.raises(ValueError, match="map key"):
            params_header(params)
        assert "map key" in str(exc)
        return
    assert params_header(params) == expected


def test_rows_of_a_write_and_no_parameters() -> None:
    rows = [{"artifact_id": 1, "path": '["a\\\\"]', "ms": None}, [2, "x", [3, True, 1.5]]]
    assert params_header({"rows": rows}) == _oracle({"rows": rows})
    assert params_header({}) == ""


def test_equal_keys_of_other_types_keep_their_own_text() -> None:
    """1 == True == 1.0 as dict keys, but falkordb-py writes each with str(): `1`, `True`, `1.0`."""
    for key in (1, True, 1.0, "1", b"1"):
        assert params_header({"m": {key: 0}}) == _oracle({"m": {key: 0}})


def test_a_node_row_list_and_event_rows_as_a_write_sends_them() -> None:
    """The shapes put_execution sends (lists of rows of ints and strings, maps whose keys come
    again and again), written with the strings and known map keys inlined (_literal): the
    oracle's text, a str subclass and a key of another type included."""

    class Text(str):
        pass

    rows = [[1796587681278, 4, 0, "DataSet", 1, '/out/"2\\'], [5, Text("x"), None, 1.5, True]]
    events = [
        {"artifact_id": 1, "type": 3, "path": "[]", "seq": 17},
        {"artifact_id": 4, "type": 4, "path": '["a"]', "seq": 18, 1: "k", b"b": Text("y")},
    ]
    for params in ({"new_artifacts_0": rows}, {"created_inputs": events, "again": events}):
        assert params_header(params) == _oracle(params)
