"""FalkorDB's string range index silently misses some values (``_encoding.indexable``): an
equality or ``IN`` seek for "", for text with ASCII whitespace at an end or U+0001 inside finds no
node although it is stored. Measured here on the real engine, both ways: every value
``indexable()`` accepts is found through the index, and every value it refuses is found by the
expression the queries use instead (``n.k + ''``, which no index serves)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lineage_graph import LineageStore
from lineage_graph._encoding import indexable
from lineage_graph.backends.embedded import EmbeddedBackend

EDGE = " \t\n\v\f\r"
texts = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
    | st.sampled_from([*EDGE, "\x01", "\x85", "\xa0", "\u2028", "\u3000", "\ufeff"]),
    max_size=8,
)


@pytest.fixture(scope="module")
def indexed() -> Iterator[EmbeddedBackend]:
    with LineageStore.open("memory") as store:
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        backend.write("CREATE (:Probe {k: 'seed'})")
        backend._graph.create_node_range_index("Probe", "k")
        yield backend


def _seek(backend: EmbeddedBackend, value: str) -> tuple[int, int, int]:
    """(found by an equality seek, by an IN seek, by the expression) for a stored value."""
    backend.write("CREATE (:Probe {k: $k, probe: true})", {"k": value})
    try:
        row = backend.read(
            "CALL { MATCH (n:Probe) WHERE n.k = $k RETURN count(n) AS eq } "
            "CALL { MATCH (n:Probe) WHERE n.k IN [$k] RETURN count(n) AS inn } "
            "CALL { MATCH (n:Probe) WHERE (n.k + '') = $k RETURN count(n) AS expr } "
            "RETURN eq, inn, expr",
            {"k": value},
        )[0]
        return row["eq"], row["inn"], row["expr"]
    finally:
        backend.write("MATCH (n:Probe {probe: true}) DELETE n")


def test_the_index_misses_exactly_what_indexable_refuses(indexed: EmbeddedBackend) -> None:
    for value in ["", *EDGE, "a\x01b", "\x01", " a", "a\t", "\r7\r", "a" * 4097, "é" * 2049]:
        assert not indexable(value)
        assert _seek(indexed, value) == (0, 0, 1), repr(value)
    for value in ["a", "a b", "a\tb", "x\r\ny", "é", "\xa0a\xa0", "\u3000", "😀", "a" * 4096]:
        assert indexable(value)
        assert _seek(indexed, value) == (1, 1, 1), repr(value)


@settings(max_examples=300, deadline=None)
@given(value=texts)
def test_indexable_values_are_found_through_the_index(indexed: EmbeddedBackend, value: str) -> None:
    eq, inn, expr = _seek(indexed, value)
    assert expr == 1
    if indexable(value):
        assert (eq, inn) == (1, 1), repr(value)
