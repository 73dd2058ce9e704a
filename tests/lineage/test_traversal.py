"""Upstream / downstream / lineage: complete, single-visit answers, on every engine."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    Artifact,
    ArtifactState,
    Association,
    Attribution,
    Context,
    ContextType,
    Direction,
    Execution,
    ExecutionState,
    InvalidArgumentError,
    LineageGraph,
    LineageStore,
    NodeFilter,
    NodeKind,
    NodeRef,
    NotFoundError,
)
from lineage_graph.lineage import _traverse

from ..conftest import reads_of
from ._graphs import Built, build, chain, ensure_types, ladder, within, within_any


@pytest.fixture
def typed(store: LineageStore) -> LineageStore:
    ensure_types(store)
    return store


def refs(g: LineageGraph) -> set[NodeRef]:
    return g.refs


# ------------------------------------------------------------------------------ deep shapes


def test_a_ladder_of_40_diamonds_is_answered_in_full(typed: LineageStore) -> None:
    built = ladder(typed, 40)  # 2^40 paths from the last artifact to the first
    last, first = built.a(40), built.a(0)
    up = typed.upstream(last)
    assert refs(up) == set(built.oracle.nodes)
    assert len(up.artifacts) == 41 and len(up.executions) == 80 and len(up.events) == 160
    assert up.complete and up.cursor is None and up.total == 121
    down = typed.downstream(first)
    assert refs(down) == set(built.oracle.nodes)
    both = typed.lineage(built.a(20))
    assert refs(both) == set(built.oracle.nodes)
    # bounded: 4 hops up from the last artifact = two diamonds
    assert refs(typed.upstream(last, max_hops=4)) == within(built.oracle, last, 4, up=True)
    assert len(typed.upstream(last, max_hops=4)) == 7


def test_a_ladder_of_40_diamonds_through_the_uncapped_walk(typed: LineageStore) -> None:
    """With the cap at 1 every walk takes lineage/reach_*_nodes_uncapped: FalkorDB's algo.BFS,
    and on Neo4j the pruned variable-length walk, which its cap (nodes, not paths) only reaches
    past 10,000 nodes otherwise. 2^40 paths: a walk that enumerated them would not end."""
    built = ladder(typed, 40)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_traverse, "PATH_CAP", 1)
        up = typed.upstream(built.a(40))
        down = typed.downstream(built.a(0))
        both = typed.lineage(built.a(20))
    assert refs(up) == refs(down) == refs(both) == set(built.oracle.nodes)
    assert len(up.events) == len(down.events) == len(both.events) == 160


def test_many_starts_over_diamonds_are_walked_together_each_node_once(
    typed: LineageStore,
) -> None:
    """More than MANY_STARTS starts whose engine walk reaches the path cap (diamonds): the
    frontier expansion answers, each node once for all the starts, not one uncapped walk per
    start (algo.BFS costs O(graph) per start on FalkorDB: downstream of 1,000 starts over a
    10k-node DAG of diamonds took 2.3 s of engine time, 0.17 s by hops)."""
    built = ladder(typed, 40)
    starts = [built.a(i) for i in range(0, 40, 2)]  # 20 starts (MANY_STARTS: 16)
    with reads_of(typed) as calls:
        down = typed.downstream(starts)
        up = typed.upstream(starts)
        both = typed.lineage(starts)
        page = typed.downstream(starts, limit=50)
    below = set().union(*(within(built.oracle, s, None, up=False) for s in starts))
    above = set().union(*(within(built.oracle, s, None, up=True) for s in starts))
    assert refs(down) == below and refs(up) == above and refs(both) == below | above
    assert len(down.events) == sum(1 for u, v in built.oracle.edges if u in below and v in below)
    assert page.total == len(below) and len(page) == 50 and not page.complete
    assert not [name for name in calls if name.endswith("_uncapped")]


def test_a_chain_of_5000_generations_is_answered_in_full(typed: LineageStore) -> None:
    built = chain(typed, 5000)
    last = built.a(5000)
    up = typed.upstream(last)
    assert len(up.artifacts) == 5001 and len(up.executions) == 5000
    assert len(up.events) == 10000 and up.complete
    assert refs(typed.upstream(last, max_hops=10)) == within(built.oracle, last, 10, up=True)
    assert refs(typed.downstream(built.a(4990))) == within(
        built.oracle, built.a(4990), None, up=False
    )


@pytest.mark.slow
def test_a_fan_out_of_100k_nodes_pages_without_loss(typed: LineageStore) -> None:
    n = 50_000  # one dataset -> 50k trainers -> 50k models
    built = build(typed, n + 1, n, [(0, i) for i in range(n)], [(i, i + 1) for i in range(n)])
    seen: list[NodeRef] = []
    events = 0
    cursor = None
    pages = 0
    while True:
        page = typed.downstream(built.a(0), limit=20_000, cursor=cursor)
        pages += 1
        assert page.total == 2 * n + 1
        seen += sorted(page.refs)
        events += len(page.events)
        if page.complete:
            assert page.cursor is None
            break
        assert page.cursor is not None and len(page) == 20_000
        cursor = page.cursor
    assert pages == 6
    assert len(seen) == len(set(seen)) == 2 * n + 1  # every node exactly once
    assert set(seen) == set(built.oracle.nodes)
    assert events == 2 * n  # every event exactly once across the pages


# ----------------------------------------------------------------- against networkx (hypothesis)


#: A random DAG: artifact and execution counts, INPUT (artifact, execution) and OUTPUT
#: (execution, artifact) pairs.
Shape = tuple[int, int, list[tuple[int, int]], list[tuple[int, int]]]

#: Every property test over random DAGs (each example writes a store: no deadline).
dag_examples = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def dags(draw: st.DrawFn) -> Shape:
    """A random pipeline: executions in order, each reading earlier artifacts and writing new
    ones (so the graph is a DAG, with shared inputs, diamonds and disconnected parts)."""
    n_exec = draw(st.integers(1, 12))
    n_art = draw(st.integers(1, 4))  # source artifacts
    inputs: list[tuple[int, int]] = []
    outputs: list[tuple[int, int]] = []
    for e in range(n_exec):
        reads = draw(st.sets(st.integers(0, n_art - 1), max_size=3))
        inputs += [(a, e) for a in sorted(reads)]
        for _ in range(draw(st.integers(0, 2))):
            outputs.append((e, n_art))
            n_art += 1
    return n_art, n_exec, inputs, outputs


@dag_examples
@given(shape=dags(), data=st.data())
def test_lineage_equals_networkx(
    typed: LineageStore,
    shape: Shape,
    data: st.DataObject,
) -> None:
    n_art, n_exec, inputs, outputs = shape
    index = data.draw(st.integers(0, n_art + n_exec - 1))
    hops = data.draw(st.none() | st.integers(0, 6))
    built = build(typed, n_art, n_exec, inputs, outputs)  # fresh nodes: earlier examples apart
    start = built.a(index) if index < n_art else built.e(index - n_art)
    up = within(built.oracle, start, hops, up=True)
    down = within(built.oracle, start, hops, up=False)
    assert refs(typed.upstream(start, max_hops=hops)) == up
    assert refs(typed.downstream(start, max_hops=hops)) == down
    assert refs(typed.lineage(start, max_hops=hops)) == up | down
    assert refs(typed.lineage(start, direction=Direction.ANY, max_hops=hops)) == within_any(
        built.oracle, start, hops
    )
    if hops is None:  # the in-engine path agrees with networkx's ancestors/descendants
        assert refs(typed.upstream(start)) == nx.ancestors(built.oracle, start) | {start}
        assert refs(typed.downstream(start)) == nx.descendants(built.oracle, start) | {start}
    # events returned are exactly the oracle's edges among the answer's nodes
    got = typed.upstream(start, max_hops=hops)
    assert len(got.events) == built.oracle.subgraph(got.refs).number_of_edges()


@settings(dag_examples, max_examples=25)
@given(shape=dags(), data=st.data())
def test_capped_walks_fall_back_to_the_complete_walk(
    typed: LineageStore,
    shape: Shape,
    data: st.DataObject,
) -> None:
    """The engine walk stops after PATH_CAP paths (FalkorDB) or nodes (Neo4j) and the uncapped
    walk answers instead: whatever the cap, whole answers and pages agree with networkx. A cap
    of 1 forces the fallback on every walk."""
    n_art, n_exec, inputs, outputs = shape
    index = data.draw(st.integers(0, n_art + n_exec - 1))
    cap = data.draw(st.sampled_from([1, 2, 5, _traverse.PATH_CAP]))
    built = build(typed, n_art, n_exec, inputs, outputs)
    start = built.a(index) if index < n_art else built.e(index - n_art)
    up = nx.ancestors(built.oracle, start) | {start}
    down = nx.descendants(built.oracle, start) | {start}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_traverse, "PATH_CAP", cap)
        whole_up, whole_down = typed.upstream(start), typed.downstream(start)
        paged_up = typed.upstream(start, limit=1000)  # paged: the ids-only walk
        paged_down = typed.downstream(start, limit=1000)
    assert refs(whole_up) == refs(paged_up) == up
    assert refs(whole_down) == refs(paged_down) == down
    assert len(whole_up.events) == built.oracle.subgraph(up).number_of_edges()
    assert len(whole_down.events) == built.oracle.subgraph(down).number_of_edges()


def _answer(g: LineageGraph) -> tuple[set[NodeRef], list[tuple[int, int, int, str, int]]]:
    events = sorted(
        (e.artifact_id or 0, e.execution_id or 0, int(e.type), json.dumps(e.path),
         e.milliseconds_since_epoch or 0)
        for e in g.events
    )  # fmt: skip
    return refs(g), events


@dag_examples
@given(shape=dags(), data=st.data())
def test_bounded_walks_in_one_engine_walk_equal_the_frontier_walk(
    typed: LineageStore,
    shape: Shape,
    data: st.DataObject,
) -> None:
    """A walk bounded by hops is tried as one engine walk (distances from the events it returns)
    and falls back to the frontier walk, one query per hop, when the walk reaches WITHIN_CAP
    paths or nodes: both give the same nodes and events, in every direction, whatever the cap
    (1 forces the fallback every time)."""
    n_art, n_exec, inputs, outputs = shape
    index = data.draw(st.integers(0, n_art + n_exec - 1))
    hops = data.draw(st.integers(0, 4))
    cap = data.draw(st.sampled_from([1, 8, _traverse.WITHIN_CAP, _traverse.WITHIN_CAP]))
    direction = data.draw(
        st.sampled_from([Direction.UPSTREAM, Direction.DOWNSTREAM, Direction.BOTH])
    )
    built = build(typed, n_art, n_exec, inputs, outputs)
    start = built.a(index) if index < n_art else built.e(index - n_art)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_traverse, "WITHIN_MIN_HOPS", 10**9)
        frontier = typed.lineage(start, direction=direction, max_hops=hops)
        mp.setattr(_traverse, "WITHIN_MIN_HOPS", 0)
        mp.setattr(_traverse, "WITHIN_CAP", cap)
        engine = typed.lineage(start, direction=direction, max_hops=hops)
    assert _answer(engine) == _answer(frontier)
    assert engine.total == frontier.total and engine.complete
    if direction is not Direction.BOTH:
        assert refs(engine) == within(built.oracle, start, hops, up=direction is Direction.UPSTREAM)
        assert len(engine.events) == built.oracle.subgraph(refs(engine)).number_of_edges()


def test_a_bounded_walk_is_one_engine_walk_when_it_is_small(typed: LineageStore) -> None:
    built = chain(typed, 50)
    with reads_of(typed) as calls:
        up = typed.upstream(built.a(50), max_hops=20)
    assert refs(up) == within(built.oracle, built.a(50), 20, up=True)
    assert len(up.artifacts) == 11 and len(up.executions) == 10 and len(up.events) == 20
    assert calls == ["lineage/reach_upstream_nodes"]  # one round trip, not one per hop
    with pytest.raises(NotFoundError):
        typed.upstream(NodeRef(NodeKind.ARTIFACT, 987654), max_hops=20)


# ------------------------------------------------------------------ filters and boundaries


def small_pipeline(store: LineageStore) -> Built:
    """raw(a0) -> clean(e0) -> data(a1) -> train(e1) -> model(a2) -> push(e2) -> pushed(a3);
    e1 also reads config a4."""
    return build(
        store,
        5,
        3,
        inputs=[(0, 0), (1, 1), (4, 1), (2, 2)],
        outputs=[(0, 1), (1, 2), (2, 3)],
        ms={("in", 0, 0): 1000, ("out", 0, 1): 2000, ("in", 1, 1): 3000, ("in", 4, 1): 3000,
            ("out", 1, 2): 4000, ("in", 2, 2): 5000, ("out", 2, 3): 6000},
    )  # fmt: skip


def test_where_selects_returned_nodes_but_the_walk_goes_through(typed: LineageStore) -> None:
    b = small_pipeline(typed)
    arts = typed.upstream(b.a(3), where=NodeFilter(kinds=[NodeKind.ARTIFACT]))
    assert refs(arts) == {b.a(i) for i in range(5)}
    assert arts.events == []  # no execution in the answer: no event to draw
    named = typed.upstream(b.a(3), where=NodeFilter(properties={}, types=["Trainer"]))
    assert refs(named) == {b.e(0), b.e(1), b.e(2)}


def test_stop_at_bounds_the_walk(typed: LineageStore) -> None:
    b = small_pipeline(typed)
    typed.put_executions([Execution(id=b.executions[1], type="Trainer",
                                    last_known_state=ExecutionState.COMPLETE)])  # fmt: skip
    stop = NodeFilter(states=[ExecutionState.COMPLETE])
    kept = typed.upstream(b.a(3), stop_at=stop)
    assert refs(kept) == {b.a(3), b.e(2), b.a(2), b.e(1)}
    dropped = typed.upstream(b.a(3), stop_at=stop, include_stop=False)
    assert refs(dropped) == {b.a(3), b.e(2), b.a(2)}
    by_ref = typed.downstream(b.a(0), stop_at=NodeFilter(refs=[b.a(2)]))
    assert refs(by_ref) == {b.a(0), b.e(0), b.a(1), b.e(1), b.a(2)}


def test_as_of_sees_only_events_recorded_by_then(typed: LineageStore) -> None:
    b = small_pipeline(typed)
    assert refs(typed.downstream(b.a(0), as_of=3500)) == {b.a(0), b.e(0), b.a(1), b.e(1)}
    assert refs(typed.upstream(b.a(3), as_of=3500)) == {b.a(3)}
    assert refs(typed.downstream(b.a(0), as_of=10_000)) == {
        b.a(0), b.e(0), b.a(1), b.e(1), b.a(2), b.e(2), b.a(3)
    }  # fmt: skip
    early = typed.downstream(b.a(0), as_of=2500)
    assert {(e.artifact_id, e.execution_id) for e in early.events} == {
        (b.artifacts[0], b.executions[0]),
        (b.artifacts[1], b.executions[0]),
    }


def test_times_and_start_ids_past_int64_are_answered_without_sending_them(
    typed: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An as_of past int64 is later (earlier) than every event; a start id past int64 names no
    node (NotFoundError). Each was sent to the engine: Neo4j's driver cannot encode it (it raised
    OverflowError, an InvalidArgumentError) where FalkorDB answered. Every read's parameters are
    encoded here with the driver's own packer."""
    from neo4j._codec.packstream.v1 import Packer

    class Sink:
        def write(self, data: bytes) -> None:
            pass

    b = small_pipeline(typed)
    whole = {b.a(0), b.e(0), b.a(1), b.e(1), b.a(2), b.e(2), b.a(3)}
    original = typed.backend.read

    def read(query: str, params: Any = None, *, name: str = "") -> Any:
        Packer(Sink()).pack(dict(params or {}))
        return original(query, params, name=name)

    monkeypatch.setattr(typed.backend, "read", read)
    for far in (2**63, 2**64):
        assert refs(typed.downstream(b.a(0), as_of=far)) == whole
        assert refs(typed.downstream(b.a(0), as_of=-far - 1)) == {b.a(0)}
        assert refs(typed.upstream(b.a(3), as_of=-far - 1, max_hops=2)) == {b.a(3)}
        for start in (NodeRef(NodeKind.ARTIFACT, far), NodeRef(NodeKind.EXECUTION, -far - 1)):
            with pytest.raises(NotFoundError, match="no such start node"):
                typed.lineage([start, b.a(0)])
            with pytest.raises(NotFoundError, match="no such start node"):
                typed.impact(start)


class _Millis(int, enum.Enum):  # an int subclass whose str() is not its digits
    LATE = 2**62
    EARLY = -(2**62)


class _IntMillis(enum.IntEnum):
    LATE = 2**62


def test_as_of_an_int_subclass_is_sent_as_its_int(typed: LineageStore) -> None:
    """as_of is an int: a subclass of int (an ``(int, Enum)`` member) reached the engine as
    itself. Neo4j's driver packs it as its value; FalkorDB's parameter text is its str(),
    ``_Millis.LATE``, and the query failed (QueryError)."""
    b = small_pipeline(typed)
    whole = {b.a(0), b.e(0), b.a(1), b.e(1), b.a(2), b.e(2), b.a(3)}
    for late in (_Millis.LATE, _IntMillis.LATE):
        assert refs(typed.downstream(b.a(0), as_of=late)) == whole
        assert refs(typed.lineage([b.a(3)], as_of=late, max_hops=2)) == refs(
            typed.lineage([b.a(3)], as_of=int(late), max_hops=2)
        )
    assert refs(typed.downstream(b.a(0), as_of=_Millis.EARLY)) == {b.a(0)}


def test_as_of_a_datetime_is_its_exact_millisecond(typed: LineageStore) -> None:
    """as_of=datetime went through int(timestamp() * 1000), a float: the datetime of an event's
    own millisecond 1,003 became 1,002 (so did ~1% of the times in the 1970s, 1985-89,
    2000-04, 2035-39) and the event recorded at that very moment was left out."""
    b = build(typed, 2, 1, [(0, 0)], [(0, 1)], ms={("in", 0, 0): 1001, ("out", 0, 1): 1003})
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    at = epoch + dt.timedelta(milliseconds=1003)
    assert _traverse.as_of_ms(at) == 1003
    assert refs(typed.downstream(b.a(0), as_of=at)) == {b.a(0), b.e(0), b.a(1)}
    assert refs(typed.downstream(b.a(0), as_of=at.replace(tzinfo=None))) == {b.a(0), b.e(0), b.a(1)}
    assert refs(typed.downstream(b.a(0), as_of=at - dt.timedelta(microseconds=1))) == {
        b.a(0), b.e(0)
    }  # fmt: skip
    before = epoch - dt.timedelta(microseconds=500)  # -0.5 ms: before the event at 0 ms
    assert _traverse.as_of_ms(before) == -1


class _NoOffset(dt.tzinfo):
    """A time zone that gives no UTC offset (allowed by Python: its datetimes count as naive)."""

    def utcoffset(self, d: dt.datetime | None) -> dt.timedelta | None:
        return None

    def dst(self, d: dt.datetime | None) -> dt.timedelta | None:
        return None


class _BadOffset(_NoOffset):
    def utcoffset(self, d: dt.datetime | None) -> dt.timedelta | None:
        return dt.timedelta(hours=25)  # Python refuses it (ValueError) when it is asked


def test_as_of_a_datetime_whose_time_zone_gives_no_offset_is_refused(typed: LineageStore) -> None:
    """A tzinfo whose utcoffset() is None (or an offset Python refuses) escaped as a raw
    TypeError ("can't subtract offset-naive and offset-aware datetimes") / ValueError from
    lineage(as_of=...): now InvalidArgumentError, as another bad as_of is."""
    b = small_pipeline(typed)
    for tz in (_NoOffset(), _BadOffset()):
        at = dt.datetime(2020, 1, 1, tzinfo=tz)
        with pytest.raises(InvalidArgumentError, match="as_of: the datetime's time zone"):
            typed.downstream(b.a(0), as_of=at)
        with pytest.raises(InvalidArgumentError, match="as_of: the datetime's time zone"):
            typed.lineage([b.a(3)], as_of=at, max_hops=2)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@pytest.mark.parametrize("limit", [None, 10])
@pytest.mark.parametrize("direction", ["downstream", "any"])
def test_as_of_at_the_ends_of_int64_compares_exactly(
    typed: LineageStore, direction: str, limit: int | None
) -> None:
    """FalkorDB compares two integers through their difference, which overflows when they are
    2^63 or more apart: an event recorded at 2^62 + 1 was followed as of -2^62, and every
    event as of -2^63 (the node came back, its event did not). An as_of beyond int64 means the
    bound: nothing before the first millisecond, everything after the last."""
    ms = {("in", 0, 0): 2**62 + 1, ("out", 0, 1): INT64_MIN, ("in", 1, 1): INT64_MAX}
    b = build(typed, 2, 2, [(0, 0), (1, 1)], [(0, 1)], ms=ms)  # a0 -> e0 -> a1 -> e1
    upto_a1, everything = {b.a(0), b.e(0), b.a(1)}, {b.a(0), b.e(0), b.a(1), b.e(1)}
    answers = {
        -(2**62): {b.a(0)},
        INT64_MIN: {b.a(0)},
        INT64_MIN - 1: {b.a(0)},
        -(2**70): {b.a(0)},
        2**62: {b.a(0)},
        2**62 + 1: upto_a1,
        INT64_MAX - 1: upto_a1,
        INT64_MAX: everything,
        2**70: everything,
    }
    for as_of, expected in answers.items():
        got = typed.lineage(b.a(0), direction=direction, as_of=as_of, limit=limit)
        assert refs(got) == expected, as_of
        assert all((e.milliseconds_since_epoch or 0) <= as_of for e in got.events)
        assert len(got.events) == len(expected) - 1  # a chain: one event per node reached
    # from the other end, upstream: a(1) was written at INT64_MIN, before every as_of
    up = typed.upstream(b.a(1), as_of=-(2**62))
    assert refs(up) == {b.a(1), b.e(0)}


def test_contexts_come_with_their_links_when_asked(typed: LineageStore) -> None:
    b = small_pipeline(typed)
    typed.put_context_type(ContextType(name="Run"))
    (cid,) = typed.put_contexts([Context(type="Run", name="run-1")])
    typed.put_attributions_and_associations(
        [Attribution(artifact_id=b.artifacts[2], context_id=cid)],
        [Association(execution_id=b.executions[1], context_id=cid)],
    )
    g = typed.upstream(b.a(2), include_contexts=True)
    assert [c.name for c in g.contexts] == ["run-1"]
    assert g.attributions == [Attribution(artifact_id=b.artifacts[2], context_id=cid)]
    assert g.associations == [Association(execution_id=b.executions[1], context_id=cid)]
    assert typed.upstream(b.a(2)).contexts == []


def test_state_filters_respect_the_kind(typed: LineageStore) -> None:
    b = small_pipeline(typed)
    typed.put_artifacts([Artifact(id=b.artifacts[1], type="DataSet", state=ArtifactState.LIVE)])
    live = NodeFilter(states=[ArtifactState.LIVE])
    assert refs(typed.downstream(b.a(0), where=live)) == {b.a(1)}
    assert refs(typed.downstream(b.a(0), where=NodeFilter(states=["LIVE"]))) == {b.a(1)}


def test_a_state_of_each_kind_with_the_same_number_are_two_states(typed: LineageStore) -> None:
    """ArtifactState.DELETED == ExecutionState.FAILED (IntEnums, both 4): the filter's set kept
    the first given, so "deleted artifacts or failed executions" silently returned only one
    kind, which one depending on the order the states were listed."""
    b = small_pipeline(typed)
    typed.put_artifacts([Artifact(id=b.artifacts[1], type="DataSet", state=ArtifactState.DELETED)])
    typed.put_executions(
        [Execution(id=b.executions[1], type="Trainer", last_known_state=ExecutionState.FAILED)]
    )
    both = {b.a(1), b.e(1)}
    for states in (
        [ArtifactState.DELETED, ExecutionState.FAILED],
        [ExecutionState.FAILED, ArtifactState.DELETED],
    ):
        assert refs(typed.downstream(b.a(0), where=NodeFilter(states=states))) == both
        stop = NodeFilter(states=states)
        assert refs(typed.downstream(b.a(0), stop_at=stop)) == {b.a(0), b.e(0), b.a(1)}
    assert NodeFilter(states=[ArtifactState.DELETED, ExecutionState.FAILED]) == NodeFilter(
        states=[ExecutionState.FAILED, ArtifactState.DELETED, ExecutionState.FAILED]
    )
    # As values, filters that match other nodes differ (True is not 1 either), and one with
    # properties is hashable (it was "unhashable type: 'dict'")
    assert NodeFilter(states=[ArtifactState.DELETED]) != NodeFilter(states=[ExecutionState.FAILED])
    assert NodeFilter(properties={"x": 1}) != NodeFilter(properties={"x": True})
    assert len({NodeFilter(properties={"x": {"a": 1, "b": 2}}),
                NodeFilter(properties={"x": {"b": 2, "a": 1}})}) == 1  # fmt: skip


def test_property_filters_keep_bools_and_numbers_apart(typed: LineageStore) -> None:
    """As in MLMD (and its filter_query): True is not the int 1, nor False the int 0, at any
    depth of a struct; an int still matches the double of the same value."""
    b = small_pipeline(typed)
    typed.put_artifacts(
        [
            Artifact(
                id=b.artifacts[1],
                type="DataSet",
                custom_properties={"on": 1, "flag": False, "n": 2.0, "s": {"x": [1]}},
            ),
            Artifact(
                id=b.artifacts[2],
                type="DataSet",
                custom_properties={"on": True, "flag": 0, "n": 2, "s": {"x": [True]}},
            ),
        ]
    )

    def found(**properties: object) -> set[NodeRef]:
        return refs(typed.downstream(b.a(0), where=NodeFilter(properties=properties)))

    assert found(on=True) == {b.a(2)} and found(on=1) == {b.a(1)}
    assert found(flag=False) == {b.a(1)} and found(flag=0) == {b.a(2)}
    assert found(n=2) == found(n=2.0) == {b.a(1), b.a(2)}
    assert found(s={"x": [1]}) == {b.a(1)} and found(s={"x": [True]}) == {b.a(2)}
    assert found(s={"x": [1.0]}) == {b.a(1)}


def test_property_filters_find_nan(typed: LineageStore) -> None:
    """A double or a struct's number may be NaN; a filter for NaN finds the nodes holding one
    (``NaN != NaN`` made it match nothing, silently), as ``store.compare`` and
    ``find_cached_execution`` take a NaN as the same value as a NaN."""
    b = small_pipeline(typed)
    nan = float("nan")
    typed.put_artifacts(
        [
            Artifact(id=b.artifacts[1], type="DataSet", custom_properties={"loss": nan}),
            Artifact(id=b.artifacts[2], type="DataSet", custom_properties={"s": {"x": [nan]}}),
        ]
    )

    def found(**properties: object) -> set[NodeRef]:
        return refs(typed.downstream(b.a(0), where=NodeFilter(properties=properties)))

    assert found(loss=nan) == {b.a(1)}
    assert found(loss=-nan) == {b.a(1)}  # the store keeps no sign of a NaN
    assert found(s={"x": [nan]}) == {b.a(2)}
    assert found(loss=1.0) == found(loss=math.inf) == found(s={"x": [1.0]}) == set()
    assert NodeFilter(properties={"loss": nan}) == NodeFilter(properties={"loss": nan})


def test_a_node_ref_of_no_node_kind_prints_and_is_refused_as_a_start(
    store: LineageStore,
) -> None:
    """``NodeRef("Artifact", 1)`` (a tuple: built without a check) was refused as a start, but
    ``str()`` of it, as a message or a log line quoting it does, raised AttributeError."""
    for ref in (NodeRef("Artifact", 1), NodeRef(None, 1)):  # type: ignore[arg-type]
        assert str(ref) in ("artifact:1", "none:1")
        with pytest.raises(InvalidArgumentError, match="must be a NodeKind"):
            store.upstream(ref)


def test_filter_properties_the_store_cannot_hold_are_refused_when_built() -> None:
    for properties in (
        {"x": object()},
        {"x": None},
        {"x": [1]},
        {"x": 2**70},
        {"x": {"y": object()}},
        {"x": b"raw"},
        {1: 1},
        {"": 1},
    ):
        with pytest.raises(InvalidArgumentError, match="NodeFilter propert"):
            NodeFilter(properties=properties)  # type: ignore[dict-item]


# -------------------------------------------------------------------------------- paging


def test_pages_cover_the_answer_once(typed: LineageStore) -> None:
    b = ladder(typed, 6)
    seen: set[NodeRef] = set()
    events = 0
    cursor = None
    for _ in range(10):
        page = typed.lineage(b.a(3), limit=5, cursor=cursor)
        assert not (page.refs & seen)
        seen |= page.refs
        events += len(page.events)
        if page.complete:
            break
        cursor = page.cursor
    assert seen == set(b.oracle.nodes)
    assert events == b.oracle.number_of_edges()


def test_a_cursor_belongs_to_its_query(typed: LineageStore) -> None:
    b = ladder(typed, 3)
    page = typed.upstream(b.a(3), limit=2)
    assert not page.complete and page.cursor
    with pytest.raises(InvalidArgumentError, match="different lineage query"):
        typed.downstream(b.a(0), limit=2, cursor=page.cursor)
    with pytest.raises(InvalidArgumentError, match="not a lineage cursor"):
        typed.upstream(b.a(3), limit=2, cursor="!!not-a-cursor")
    assert typed.upstream(b.a(3), limit=100, cursor=page.cursor).complete  # page size may change


def test_a_cursor_is_bound_to_what_its_filters_mean(typed: LineageStore) -> None:
    """stop_at=NodeFilter(refs=[]) stops nowhere and NodeFilter() everywhere, but their keys
    were equal: the first's cursor continued the second (an empty page, complete, after 2 of
    its nodes). Two equal filters (a struct's keys in another order) refused each other's."""
    b = chain(typed, 3)
    nowhere = typed.downstream(b.a(0), stop_at=NodeFilter(refs=[]), limit=2)
    assert nowhere.total == 7 and nowhere.cursor
    with pytest.raises(InvalidArgumentError, match="different lineage query"):
        typed.downstream(b.a(0), stop_at=NodeFilter(), limit=2, cursor=nowhere.cursor)
    typed.put_artifacts(
        [Artifact(id=i, type="DataSet", custom_properties={"s": {"a": 1, "b": 2}})
         for i in b.artifacts]
    )  # fmt: skip
    first = typed.downstream(b.a(0), where=NodeFilter(properties={"s": {"a": 1, "b": 2}}), limit=2)
    rest = typed.downstream(
        b.a(0), where=NodeFilter(properties={"s": {"b": 2, "a": 1}}), limit=2, cursor=first.cursor
    )
    assert first.refs | rest.refs == {b.a(i) for i in range(4)} and rest.complete


def test_a_step_never_loses_a_node_whose_engine_id_changed(typed: LineageStore) -> None:
    """Frontier steps seek later hops by the engine ids the hop before returned, checked against
    the node's label and id; a pair that no longer names its node is asked for again by id
    (an engine id may change: Neo4j only promises an elementId within one transaction)."""
    b = chain(typed, 3)  # a0 -> e0 -> a1 -> e1 -> a2 -> e2 -> a3
    lineage = typed._lineage
    down = Direction.DOWNSTREAM
    iids: dict[NodeRef, object] = {}
    assert lineage._step(down, [b.a(0)], None, iids) == {b.e(0)}  # a start: by id
    for here, there in [(b.e(0), b.a(1)), (b.a(1), b.e(1)), (b.e(1), b.a(2)), (b.a(2), b.e(2))]:
        assert lineage._step(down, [here], None, iids) == {there}  # by its engine id
    iids[b.e(1)] = iids[b.e(0)]  # e1's pair now carries e0's engine id: a node, not e1
    assert lineage._step(down, [b.e(1)], None, iids) == {b.a(2)}
    assert b.e(1) not in iids  # asked for by id; the wrong engine id is forgotten
    iids[b.e(0)] = iids[b.e(2)]
    iids[b.e(1)] = iids[b.e(2)] = iids[b.a(1)]  # an artifact's engine id: the wrong label
    assert lineage._step(down, [b.e(0), b.e(1), b.e(2)], None, iids) == {b.a(1), b.a(2), b.a(3)}
    assert typed.downstream(b.a(0), max_hops=6).artifacts == typed.downstream(b.a(0)).artifacts


# ----------------------------------------------------------------------------- bad input


def test_bad_questions_get_typed_errors(typed: LineageStore) -> None:
    b = ladder(typed, 1)
    with pytest.raises(NotFoundError, match="artifact 999999"):
        typed.upstream(NodeRef(NodeKind.ARTIFACT, 999_999))
    with pytest.raises(InvalidArgumentError, match="no id"):
        typed.upstream(Artifact(type="DataSet"))
    with pytest.raises(InvalidArgumentError, match="not a context"):
        typed.upstream(NodeRef(NodeKind.CONTEXT, 1))
    with pytest.raises(InvalidArgumentError, match="direction"):
        typed.lineage(b.a(0), direction="sideways")
    with pytest.raises(InvalidArgumentError, match="max_hops"):
        typed.upstream(b.a(0), max_hops=-1)
    with pytest.raises(InvalidArgumentError, match="limit"):
        typed.upstream(b.a(0), limit=0)
    with pytest.raises(InvalidArgumentError, match="at least one"):
        typed.upstream([])
    with pytest.raises(InvalidArgumentError, match="a bare id does not say its kind"):
        typed.upstream(b.artifacts[0])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="not a string"):
        typed.upstream("1")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"collection of them, not NoneType$"):
        typed.upstream(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="as_of"):
        typed.upstream(b.a(0), as_of="yesterday")  # type: ignore[arg-type]
    stop = NodeFilter(refs=[b.a(1)])
    with pytest.raises(InvalidArgumentError, match="include_stop must be True or False"):
        typed.downstream(b.a(0), stop_at=stop, include_stop="no")  # was: kept (a truthy str)
    with pytest.raises(InvalidArgumentError, match="include_contexts must be True or False"):
        typed.downstream(b.a(0), include_contexts=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        NodeFilter(states=["SHINY"])
    # One value where a collection goes, as for kinds and type names (a NodeRef is a tuple: its
    # kind was taken for a node, "got NodeKind"; a state member was "not a collection")
    assert NodeFilter(refs=b.a(0)) == NodeFilter(refs=[b.a(0)])
    assert NodeFilter(states=ArtifactState.LIVE) == NodeFilter(states=[ArtifactState.LIVE])


def test_a_start_or_ref_built_without_validation_is_refused_typed(typed: LineageStore) -> None:
    """A model built with ``model_construct`` holding a list id escaped as a bare ``TypeError:
    unhashable type`` (a start's de-duplication), and ``True`` named artifact 1; a ref that is
    one number, not a node nor a collection, was "'int' object is not iterable"."""
    b = ladder(typed, 1)
    for bad in ([1], "1", True):
        node = Artifact.model_construct(id=bad)
        with pytest.raises(InvalidArgumentError, match="id must be an int"):
            typed.upstream([node])
        with pytest.raises(InvalidArgumentError, match="id must be an int"):
            typed.lineage_diff(node, b.a(0))
        with pytest.raises(InvalidArgumentError, match="id must be an int"):
            NodeFilter(refs=[node])
    for bad_refs in (7, 1.5, True, object()):
        with pytest.raises(InvalidArgumentError, match="NodeFilter refs must be"):
            NodeFilter(refs=bad_refs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- exports


def test_exports(typed: LineageStore) -> None:
    b = small_pipeline(typed)
    hostile = 'a "quoted" name\n--> with `ticks` and <html> & ]]'
    typed.put_artifacts([Artifact(id=b.artifacts[3], type="DataSet", name=hostile)])
    g = typed.upstream(b.a(3))
    nxg = g.to_networkx()
    assert nxg.number_of_nodes() == len(g) == 8
    assert nxg.number_of_edges() == len(g.events) == 7
    assert nxg.nodes[f"artifact:{b.artifacts[3]}"]["name"] == hostile
    assert set(nx.ancestors(nxg, f"artifact:{b.artifacts[3]}")) == {
        str(r).replace("artifact", "artifact") for r in g.refs if r != b.a(3)
    }
    data = json.loads(g.to_json())
    assert data["complete"] is True and len(data["artifacts"]) == 5
    assert LineageGraph(**{k: data[k] for k in ("complete", "cursor", "total")}).complete
    mermaid = g.to_mermaid()
    assert mermaid.startswith("flowchart LR") and mermaid.count("-->|") == 7
    assert '"quoted"' not in mermaid and "\n-->" not in mermaid.split("\n", 8)[5]
    dot = g.to_dot()
    assert dot.count(" -> ") == 7 and '\\"quoted\\"' in dot and "\\n-->" in dot
    page = g.to_html(title="t")
    assert "<html" in page.lower() and "quoted" in page
    assert "<iframe" in g._repr_html_()


def test_dot_labels_show_entity_lookalikes_as_written(typed: LineageStore) -> None:
    """Graphviz decodes HTML entities in every label: a stored name "R&amp;D &#60;v2&#62;"
    was drawn "R&D <v2>". Each "&" of a name is written as "&amp;" (drawn "&")."""
    b = chain(typed, 1)
    typed.put_artifacts([Artifact(id=b.artifacts[0], type="DataSet", name="R&amp;D &#60;v2&#62;")])
    dot = typed.downstream(b.a(0)).to_dot()
    (line,) = [x for x in dot.splitlines() if x.startswith(f"  a{b.artifacts[0]} [")]
    assert "R&amp;amp;D &amp;#60;v2&amp;#62;" in line
