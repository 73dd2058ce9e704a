"""id_ranges: the ``$ranges`` parameter of the by-id lookups covers exactly the ids asked for."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from lineage_graph._repositories._base import id_ranges


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
