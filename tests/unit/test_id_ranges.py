"""id_ranges: the ``$ranges`` parameter of the by-id lookups covers exactly the ids asked for."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from lineage_graph._repositories._base import id_ranges, positioned


@given(st.lists(st.integers(1, 300), max_size=200))
def test_runs_cover_exactly_the_ids(ids: list[int]) -> None:
    runs = id_ranges(ids)
    covered = [i for first, last in runs for i in range(first, last + 1)]
    assert covered == sorted(set(ids))  # every id once, in order, nothing else
    # maximal runs: two runs never touch, so consecutive ids cost one range seek
    assert all(b[0] > a[1] + 1 for a, b in itertools.pairwise(runs))


def test_consecutive_ids_are_one_run() -> None:
    assert id_ranges(range(5001, 6001)) == [[5001, 6000]]
    assert id_ranges([7, 3, 4, 4, 9]) == [[3, 4], [7, 7], [9, 9]]
    assert id_ranges([]) == []


@given(
    st.lists(st.integers(1, 120), min_size=1, max_size=40),
    st.sets(st.integers(1, 120), max_size=80),
)
def test_positions_among_bridged_runs_name_each_rows_node(ids: list[int], new: set[int]) -> None:
    """positioned() with the ids a write creates (``present``): a gap between two asked ids made
    only of created ids is read too (fewer runs), and each row's position is still its own id's
    place among every id the runs cover (what the statement's range reads return, in id order)."""
    rows = [{"artifact_id": i, "execution_id": 1} for i in ids]
    _, plain_at = positioned(rows, "a")
    out, at = positioned(rows, "a", present={"a": new})
    covered = [i for first, last in at["a"] for i in range(first, last + 1)]
    assert set(ids) <= set(covered) <= set(ids) | new  # nothing read that may not exist
    assert all(covered[row["ai"]] == row["artifact_id"] for row in out)
    assert len(at["a"]) <= len(plain_at["a"])
    for a, b in itertools.pairwise(at["a"]):  # a gap left is not all created ids
        assert not set(range(a[1] + 1, b[0])) <= new


def test_a_gap_of_created_ids_joins_two_runs() -> None:
    rows = [{"artifact_id": i} for i in (1, 3, 5, 9)]
    _, at = positioned(rows, "a", present={"a": {2, 4, 6, 7}})
    assert at["a"] == [[1, 5], [9, 9]]  # 8 is not created here: 9 stays apart
