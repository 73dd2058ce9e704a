"""Limited pages read in windows of their order property (``lineage_graph/mlmd/_listing.py``).

A page ordered by id, create time or update time is read window by window of that (indexed)
property, so the engine seeks a range instead of ordering every node the query keeps. Whatever
the ids' gaps and the times' spread (ties, years between clusters, times before the oldest id's
and after the clock, as an imported MLMD store keeps them, update times in no relation to the
ids), the pages must hold exactly the nodes one ordered statement would, in the same order; the
reads must follow the pages, not the gaps.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    LineageStore,
    NodeKind,
)
from lineage_graph._repositories._base import Repository, now_ms
from lineage_graph.mlmd._listing import ListQuery, list_node_ids, list_nodes

from ..conftest import reads_of

A = NodeKind.ARTIFACT
DAY = 86_400_000


@dataclass(frozen=True)
class Row:
    id: int
    time: int  # create time
    type: str
    uri: str
    updated: int  # last update time


ORDERS = ("id", "create_time", "last_update_time")
Lister = Callable[[LineageStore, ListQuery], tuple[list[Any], str | None]]


def _set_times(
    store: LineageStore, times: dict[int, int], updated: dict[int, int] | None = None
) -> None:
    """Give nodes the create and update times an imported MLMD store would keep (the importer
    writes MLMD's times as they are; here they are chosen to be hard for windows)."""
    updated = times if updated is None else updated
    store.backend.write(
        "UNWIND $rows AS r MATCH (n:Artifact) WHERE n.id = r.id "
        "SET n.create_time_since_epoch = r.t, n.last_update_time_since_epoch = r.u",
        {"rows": [{"id": i, "t": t, "u": updated[i]} for i, t in times.items()]},
        name="test/times",
    )


@pytest.fixture
def scattered(store: LineageStore) -> tuple[LineageStore, list[Row]]:
    store.put_artifact_type(ArtifactType(name="D"))
    store.put_artifact_type(ArtifactType(name="M"))
    rng = random.Random(20261204)
    now = now_ms()
    # Create times: clusters years apart, ties (one write gives all its nodes one time), times
    # older than the lowest id's and newer than the clock, 0, 1 and before the epoch.
    pool = [-5 * DAY, -1, 0, 1, 1_000, now - 3 * 365 * DAY, now - 40 * DAY, now - DAY, now - 1, now]
    pool += [now + 10 * DAY, now - DAY + 5, now - 40 * DAY + 999]
    rows: list[Row] = []
    for cluster in range(14):
        n = rng.randint(1, 9)
        types = [rng.choice("DDM") for _ in range(n)]
        uris = [f"/{cluster}/{i}" for i in range(n)]
        ids = store.put_artifacts(
            [Artifact(type=t, uri=u) for t, u in zip(types, uris, strict=True)]
        )
        times = [rng.choice(pool) for _ in ids]
        # update times drawn apart from the create times: some before them, most not in id order
        updated = [rng.choice(pool) for _ in ids]
        rows += [Row(*r) for r in zip(ids, times, types, uris, updated, strict=True)]
        # the rest of a short-lived writer's block: gaps of every width between the clusters
        store._artifacts.ids.allocate("Artifact", rng.choice([0, 3, 300, 5_000]))
    _set_times(store, {r.id: r.time for r in rows}, {r.id: r.updated for r in rows})
    assert len({r.time for r in rows}) < len(rows)  # ties
    assert len({r.updated for r in rows}) < len(rows)
    # A node whose id lies past the sequence's end, as one written by another writer after a
    # listing read that end: the open last (ascending) or first (descending) window finds it.
    moved = rows[len(rows) // 2]
    past_end = Repository(store.backend).id_end("Artifact") + 1_000
    store.backend.write(
        "MATCH (n:Artifact) WHERE n.id = $id SET n.id = $new",
        {"id": moved.id, "new": past_end},
        name="test/move_id",
    )
    rows[len(rows) // 2] = Row(past_end, moved.time, moved.type, moved.uri, moved.updated)
    return store, rows


def _key(order_by: str) -> Callable[[Row], tuple[int, int]]:
    if order_by == "id":
        return lambda r: (r.id, r.id)
    if order_by == "create_time":
        return lambda r: (r.time, r.id)
    return lambda r: (r.updated, r.id)


def _walk(
    store: LineageStore, lister: Lister = list_node_ids, **fields: Any
) -> tuple[list[int], int]:
    """Every page of one listing (``ListQuery`` fields but the kind and token), following the
    tokens: the ids in order and the number of pages. Only a full page may have a next one."""
    got: list[int] = []
    token: str | None = None
    pages = 0
    while True:
        page, token = lister(store, ListQuery(kind=A, page_token=token, **fields))
        ids = [p if isinstance(p, int) else p.id for p in page]
        assert len(ids) <= fields["limit"]
        got += ids
        pages += 1
        if token is None:
            return got, pages
        assert len(ids) == fields["limit"]


CASES = [
    (order_by, is_asc, limit)
    for order_by in ORDERS
    for is_asc in (True, False)
    for limit in (1, 2, 5, 200)
]
SELECTIONS: list[tuple[str, str | None, Callable[[Row], bool]]] = [
    ("", None, lambda r: True),
    ('uri LIKE "/1%"', None, lambda r: r.uri.startswith("/1")),
    ("", "M", lambda r: r.type == "M"),
    ('uri LIKE "%/0"', "D", lambda r: r.type == "D" and r.uri.endswith("/0")),
    ('uri = "nowhere"', None, lambda r: False),
]


@pytest.mark.parametrize(("order_by", "is_asc", "limit"), CASES)
def test_pages_hold_what_one_ordered_statement_would(
    scattered: tuple[LineageStore, list[Row]], order_by: str, is_asc: bool, limit: int
) -> None:
    store, rows = scattered
    for filter_query, type_name, pick in SELECTIONS:
        want = [r.id for r in sorted(filter(pick, rows), key=_key(order_by), reverse=not is_asc)]
        for lister in (list_node_ids, list_nodes):
            got, pages = _walk(
                store,
                lister,
                filter_query=filter_query,
                order_by=order_by,
                is_asc=is_asc,
                limit=limit,
                type_name=type_name,
            )
            assert got == want, (filter_query, type_name, lister.__name__)
            assert pages == max(1, -(-len(want) // limit))  # a token always has a next item


def test_nodes_of_a_page_are_the_stored_ones(scattered: tuple[LineageStore, list[Row]]) -> None:
    store, rows = scattered
    for order_by in ("create_time", "last_update_time"):
        page, _ = list_nodes(store, ListQuery(kind=A, order_by=order_by, is_asc=False, limit=7))
        newest = sorted(rows, key=_key(order_by), reverse=True)[:7]
        assert [
            (n.id, n.create_time_since_epoch, n.last_update_time_since_epoch, n.uri) for n in page
        ] == [(r.id, r.time, r.updated, r.uri) for r in newest]
        by_id = {a.id: a for a in store.get_artifacts_by_id([r.id for r in newest])}
        assert page == [by_id[r.id] for r in newest]


def test_updates_move_nodes_in_pages_by_update_time(store: LineageStore) -> None:
    """Through the API: updating old artifacts puts them at the front of the newest-updated
    pages and at the back of the oldest-updated ones, in the order the engine stored."""
    store.put_artifact_type(ArtifactType(name="D"))
    ids = store.put_artifacts([Artifact(type="D", uri=f"/{i}") for i in range(300)])
    for n in range(5):  # five writes, each its own update time (or a tie, broken by id)
        old = store.get_artifacts_by_id(ids[n * 7 : n * 7 + 3])
        store.put_artifacts([a.model_copy(update={"uri": f"{a.uri}/v{n}"}) for a in old])
    stored = {a.id: a.last_update_time_since_epoch or 0 for a in store.get_artifacts()}
    for is_asc in (True, False):
        want = sorted(stored, key=lambda i: (stored[i], i), reverse=not is_asc)
        got, _ = _walk(store, order_by="last_update_time", is_asc=is_asc, limit=8)
        assert got == want
    newest, _ = list_node_ids(
        store, ListQuery(kind=A, order_by="last_update_time", is_asc=False, limit=3)
    )
    assert set(newest) == set(ids[28:31])  # the last write's three


def test_an_empty_kind_or_type_has_one_empty_page(store: LineageStore) -> None:
    for order_by in ORDERS:
        for is_asc in (True, False):
            query = ListQuery(kind=A, order_by=order_by, is_asc=is_asc, limit=3)
            assert list_nodes(store, query) == ([], None)
    store.put_artifact_type(ArtifactType(name="Empty"))
    store.put_artifact_type(ArtifactType(name="Full"))
    store.put_artifacts([Artifact(type="Full") for _ in range(4)])
    for order_by in ORDERS:
        for is_asc in (True, False):
            query = ListQuery(kind=A, order_by=order_by, is_asc=is_asc, limit=3, type_name="Empty")
            assert list_node_ids(store, query) == ([], None)


def test_reads_follow_the_pages_not_the_gaps(store: LineageStore) -> None:
    """20 clusters of 3 nodes, 600 unused ids and ~a day between clusters: paging through them
    by 4 costs a few reads per page (the window widens over a gap, then narrows to the page
    from the token), and a filter that matches nothing ends after a few dozen reads. Update
    times run the other way round (the oldest nodes updated last), a day apart too."""
    store.put_artifact_type(ArtifactType(name="D"))
    now = now_ms()
    times: dict[int, int] = {}
    for c in range(20):
        ids = store.put_artifacts([Artifact(type="D", uri=f"/{c}/{i}") for i in range(3)])
        times |= {i: now - (20 - c) * DAY + 7 * n for n, i in enumerate(ids)}
        store._artifacts.ids.allocate("Artifact", 600)
    updated = {i: 2 * now - t for i, t in times.items()}
    _set_times(store, times, updated)
    for order_by in ORDERS:
        by = updated if order_by == "last_update_time" else times
        for is_asc in (True, False):
            want = sorted(by, key=lambda i: (by[i], i), reverse=not is_asc)
            with reads_of(store) as names:
                got, _ = _walk(store, order_by=order_by, is_asc=is_asc, limit=4)
            assert got == want
            # 16 pages; measured 21-63 reads. Windows of the narrowest width stepping over the
            # gaps would take ~190 (by id) and ~1.7 million (by create time).
            assert len(names) <= 4 * 16 + 20, (order_by, is_asc, len(names))
            with reads_of(store) as names:
                query = ListQuery(
                    kind=A, order_by=order_by, is_asc=is_asc, limit=4, filter_query='uri = "x"'
                )
                assert list_node_ids(store, query) == ([], None)
            # measured 10-37: doubling from the start hint to the clock or to 0
            assert len(names) <= 70, (order_by, is_asc, len(names))


def _drop_index(store: LineageStore, prop: str) -> None:
    """Make the engine compare the order property row by row, as it does while an index is
    being built (FalkorDB builds them in the background) or when a plan filters after another
    seek."""
    if store.backend.dialect == "falkordb":
        store.backend.write(f"DROP INDEX ON :Artifact({prop})", name="test/drop_index")
    else:
        store.backend.write(f"DROP INDEX lg_idx_artifact_{prop} IF EXISTS", name="test/drop")


@pytest.mark.parametrize("order_by", ["create_time", "last_update_time"])
def test_pages_are_right_where_the_engine_compares_row_by_row(
    scattered: tuple[LineageStore, list[Row]], order_by: str
) -> None:
    """No window bound may rely on the index: FalkorDB's own comparison overflows past the
    int64 range (``1 >= -9223372036854775808`` is false), so an open side has no condition."""
    store, rows = scattered
    # The start hints put the first window over every node: ascending, the lowest id is the
    # newest; descending, the highest id is the oldest. Every value then meets the open side.
    low, high = min(r.id for r in rows), max(r.id for r in rows)
    newest, oldest = now_ms() + 20 * DAY, -20 * DAY
    rows = [
        Row(r.id, newest, r.type, r.uri, newest)
        if r.id == low
        else Row(r.id, oldest, r.type, r.uri, oldest)
        if r.id == high
        else r
        for r in rows
    ]
    _set_times(store, {low: newest, high: oldest})
    _drop_index(store, f"{order_by}_since_epoch")
    for is_asc, limit in itertools.product((True, False), (5, 200)):
        for filter_query, type_name, pick in SELECTIONS[:3]:
            want = [
                r.id for r in sorted(filter(pick, rows), key=_key(order_by), reverse=not is_asc)
            ]
            got, _ = _walk(
                store,
                filter_query=filter_query,
                order_by=order_by,
                is_asc=is_asc,
                limit=limit,
                type_name=type_name,
            )
            assert got == want, (is_asc, limit, filter_query, type_name)


def test_a_node_updated_while_a_page_is_read_is_listed_once(store: LineageStore) -> None:
    """The windows of a page are separate statements. An update between two of them moves a
    node ahead of the walk (ascending by update time): the page keeps it once, where it was
    first read."""
    store.put_artifact_type(ArtifactType(name="D"))
    now = now_ms()
    ids = store.put_artifacts([Artifact(type="D", uri=f"/{i}") for i in range(6)])
    # a day between the nodes' update times: the page reads several windows
    _set_times(
        store, {i: now - 10 * DAY for i in ids}, {i: now - (6 - k) * DAY for k, i in enumerate(ids)}
    )
    moved = ids[1]
    original = store.backend.read
    reads_after_move: list[int] = []

    def read(query: str, params: Any = None, *, name: str = "") -> Any:
        rows = original(query, params, name=name)
        if reads_after_move:
            reads_after_move.append(1)
        elif any(r.get("node", {}).get("id") == moved for r in rows):
            # the window holding it has been read: another writer updates it now
            _set_times(store, {moved: now - 10 * DAY}, {moved: now - 1})
            reads_after_move.append(0)
        return rows

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store.backend, "read", read)
        page, _ = list_nodes(
            store, ListQuery(kind=A, order_by="last_update_time", is_asc=True, limit=10)
        )
    assert len(reads_after_move) > 1  # windows were read after the update
    got = [n.id for n in page]
    assert got == ids  # once, where it was first read (the last window met it again)


def test_a_window_cut_short_by_a_moved_node_is_read_whole(store: LineageStore) -> None:
    """A node moved by an update into a window not yet read comes back in that window's rows;
    dropping it must not cut the window short: every node is listed once, over full pages."""
    store.put_artifact_type(ArtifactType(name="D"))
    now = now_ms()
    spread = store.put_artifacts([Artifact(type="D", uri=f"/s/{i}") for i in range(10)])
    cluster = store.put_artifacts([Artifact(type="D", uri=f"/c/{i}") for i in range(10)])
    ids = spread + cluster
    tied = now - 3_600_000
    updated = {i: now - (10 - k) * DAY for k, i in enumerate(spread)} | dict.fromkeys(cluster, tied)
    _set_times(store, dict.fromkeys(ids, now - 20 * DAY), updated)
    moved = spread[1]
    original = store.backend.read
    done: list[bool] = []

    def read(query: str, params: Any = None, *, name: str = "") -> Any:
        rows = original(query, params, name=name)
        if not done and any(r.get("node", {}).get("id") == moved for r in rows):
            _set_times(store, {moved: now - 20 * DAY}, {moved: tied})  # another writer
            done.append(True)
        return rows

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store.backend, "read", read)
        got, pages = _walk(store, list_nodes, order_by="last_update_time", is_asc=True, limit=12)
    assert done and pages == 2
    assert sorted(got) == sorted(ids) and len(got) == len(set(got))


@pytest.mark.parametrize("is_asc", [True, False])
@pytest.mark.parametrize(
    "values", [[-(2**53) + 16, 5, 2**60], [-(2**53) + 16, 5, 2**60, -(2**60)], [2**53, -(2**53)]]
)
def test_values_past_two_to_the_53_are_listed(
    store: LineageStore, is_asc: bool, values: list[int]
) -> None:
    """Bounds past ±2^53 (possible only in imported data) open the window's far side, never
    its near side (a near side opened at 2^53 read the store again from its start)."""
    store.put_artifact_type(ArtifactType(name="D"))
    ids = store.put_artifacts([Artifact(type="D", uri=f"/{i}") for i in range(len(values))])
    times = dict(zip(ids, values, strict=True))
    _set_times(store, times)
    want = sorted(ids, key=lambda i: (times[i], i), reverse=not is_asc)
    for limit in (1, 2, 3, 10):
        got, _ = _walk(store, order_by="create_time", is_asc=is_asc, limit=limit)
        assert got == want, limit


#: Times whose differences leave int64 (only in an imported store): FalkorDB 4.16 compares two
#: integers by their difference, so ``2^62 > -2^62`` is false and ``ORDER BY`` put 2^62 first.
EXTREMES = [-(2**63), -(2**62) - 1, -(2**62), -(2**53) - 1, -1, 0, 7, 2**53 + 1, 2**62, 2**63 - 1]


@pytest.mark.parametrize("order_by", ["create_time", "last_update_time"])
@pytest.mark.parametrize("is_asc", [True, False])
def test_times_whose_differences_leave_int64_are_ordered(
    store: LineageStore, order_by: str, is_asc: bool
) -> None:
    """Pages of nodes whose times lie near both ends of int64 hold each node once, in order,
    walked from the whole kind, from a context and through a filter."""
    store.put_artifact_type(ArtifactType(name="D"))
    store.put_context_type(ContextType(name="C"))
    rng = random.Random(27)
    values = EXTREMES * 2
    rng.shuffle(values)
    ids = store.put_artifacts([Artifact(type="D", uri=f"/{i % 2}") for i in range(len(values))])
    [ctx] = store.put_contexts([Context(type="C", name="c")])
    store.put_attributions_and_associations(
        [Attribution(artifact_id=i, context_id=ctx) for i in ids], []
    )
    times = dict(zip(ids, values, strict=True))
    other = dict(zip(ids, reversed(values), strict=True))
    if order_by == "create_time":
        _set_times(store, times, other)
    else:
        _set_times(store, other, times)
    for limit, context_id, filter_query in itertools.product(
        (1, 2, 3, 7, 100), (None, ctx), ("", 'uri = "/1"')
    ):
        picked = [i for i in ids if not filter_query or (ids.index(i) % 2 == 1)]
        want = sorted(picked, key=lambda i: (times[i], i), reverse=not is_asc)
        got, _ = _walk(
            store,
            order_by=order_by,
            is_asc=is_asc,
            limit=limit,
            context_id=context_id,
            filter_query=filter_query,
        )
        assert got == want, (limit, context_id, filter_query)


@pytest.mark.parametrize("order_by", ["create_time", "last_update_time"])
def test_a_window_across_zero_is_one_read(store: LineageStore, order_by: str) -> None:
    """A window reaching both signs is read in one statement (its parts joined by UNION ALL):
    an ordinary first page by a time, ascending, is the start hint and one window, as before
    the parts within one sign; the walk down to the open last window costs no more either."""
    store.put_artifact_type(ArtifactType(name="D"))
    for k in range(3):
        store.put_artifacts([Artifact(type="D", uri=f"/{k}/{i}") for i in range(5)])
    with reads_of(store) as names:
        ids, token = list_node_ids(store, ListQuery(kind=A, order_by=order_by, limit=4))
    assert len(ids) == 4 and token is not None
    assert len(names) == 2, names  # the start hint, one window (open below, across 0)
    # walks over values of both signs, near both ends of int64, stay exact and whole
    times = {i: [-(2**63), -1, 0, 2**62, 7][i % 5] for i in range(1, 16)}
    _set_times(store, times)
    want = sorted(times, key=lambda i: (times[i], i))
    for limit in (1, 4, 20):
        assert _walk(store, order_by=order_by, is_asc=True, limit=limit)[0] == want
        assert _walk(store, order_by=order_by, is_asc=False, limit=limit)[0] == want[::-1]


@pytest.mark.parametrize("order_by", ["create_time", "last_update_time"])
def test_a_window_whose_near_bound_the_index_rounds_loses_no_node(
    store: LineageStore, order_by: str
) -> None:
    """Past ±2^53 the range index holds a window's near bound as a double: the window after one
    ending at 2^62 (its near bound 2^62 - 2) read the nodes at 2^62 again. They filled its
    LIMIT and were dropped as already in the page, so the nodes after them were skipped: a
    descending walk by 8 jumped from 2^53 to -1 (five nodes at 2^53 and below never listed)."""
    store.put_artifact_type(ArtifactType(name="D"))
    values = [2**63 - 2] * 6 + [2**62] * 2 + [2**53 + 1] * 4 + [2**53] * 5
    values += [1_700_000_000_000, 1, 0, -1, -(2**62)] + [-(2**62) - 2] * 3
    ids = store.put_artifacts([Artifact(type="D") for _ in values])
    times = dict(zip(ids, values, strict=True))
    _set_times(store, times)
    want = sorted(ids, key=lambda i: (times[i], i))
    for limit in range(1, 12):
        assert _walk(store, order_by=order_by, is_asc=False, limit=limit)[0] == want[::-1], limit
        assert _walk(store, order_by=order_by, is_asc=True, limit=limit)[0] == want, limit
