"""Hop limits exactly at the boundary, on graphs deeper than tests/lineage/test_options_oracle.py
makes (a spine of up to 24 nodes whose events point either way, every event type, cycles and
shortcuts), each walk strategy forced in turn (the engine walk, its uncapped fallback, the
walk within hops, hop by hop), with `where` / `stop_at` filters on type and state, and paged."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    Artifact,
    ArtifactState,
    Event,
    EventType,
    Execution,
    ExecutionState,
    LineageStore,
    NodeFilter,
    NodeKind,
    NodeRef,
)
from lineage_graph.lineage import _traverse

from .test_options_oracle import _matches, _oracle, _pages, _types

A, X = NodeKind.ARTIFACT, NodeKind.EXECUTION
EVENT_TYPES = [t for t in EventType if t is not EventType.UNKNOWN]

examples = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@examples
@given(data=st.data())
def test_hop_limits_at_the_boundary_against_networkx(
    store: LineageStore, data: st.DataObject
) -> None:
    _types(store)
    length = data.draw(st.integers(2, 24))  # spine: a0 - e0 - a1 - e1 - ...
    n_art, n_exec = (length + 1) // 2, length // 2
    a_types, e_types = ["DataSet", "Model"], ["Trainer", "Eval"]
    arts = [
        {
            "type": data.draw(st.integers(0, 1)),
            "state": data.draw(st.sampled_from([ArtifactState.LIVE, ArtifactState.DELETED])),
            "value": None,
        }
        for _ in range(n_art)
    ]
    execs = [
        {
            "type": data.draw(st.integers(0, 1)),
            "state": data.draw(st.sampled_from([ExecutionState.COMPLETE, ExecutionState.FAILED])),
            "value": None,
        }
        for _ in range(n_exec)
    ]
    aids = store.put_artifacts([Artifact(type=a_types[x["type"]], state=x["state"]) for x in arts])
    eids = store.put_executions(
        [Execution(type=e_types[x["type"]], last_known_state=x["state"]) for x in execs]
    )
    nodes: dict[NodeRef, dict[str, Any]] = {}
    for i, x in zip(aids, arts, strict=True):
        nodes[NodeRef(A, i)] = x | {"type_name": a_types[x["type"]]}
    for i, x in zip(eids, execs, strict=True):
        nodes[NodeRef(X, i)] = x | {"type_name": e_types[x["type"]]}
    # Mostly forwards along the spine (a long chain), some events backwards (cycles), and a
    # few shortcuts between any artifact and execution.
    events: dict[tuple[int, int, EventType], None] = {}
    for k in range(length - 1):
        a, e = (k // 2, k // 2) if k % 2 == 0 else ((k + 1) // 2, k // 2)
        forward = data.draw(st.sampled_from([True, True, True, False]))
        is_input_edge = k % 2 == 0  # a_k -> e_k reads; e_k -> a_{k+1} writes
        want_output = (not is_input_edge) if forward else is_input_edge
        t = data.draw(st.sampled_from([t for t in EVENT_TYPES if t.is_output == want_output]))
        events[(aids[a], eids[e], t)] = None
    for _ in range(data.draw(st.integers(0, 3))):
        a, e = data.draw(st.integers(0, n_art - 1)), data.draw(st.integers(0, n_exec - 1))
        events[(aids[a], eids[e], data.draw(st.sampled_from(EVENT_TYPES)))] = None
    store.put_events([Event(artifact_id=a, execution_id=e, type=t) for a, e, t in events])
    g: nx.DiGraph[NodeRef] = nx.DiGraph()
    g.add_nodes_from(nodes)
    for a, e, t in events:
        ends = (NodeRef(A, a), NodeRef(X, e))
        g.add_edge(*(reversed(ends) if t.is_output else ends))

    start = data.draw(st.sampled_from([NodeRef(A, aids[0]), NodeRef(A, aids[-1])]))
    direction = data.draw(st.sampled_from(["upstream", "downstream", "both", "any"]))
    walk = {"upstream": g.reverse(), "downstream": g, "both": g, "any": g.to_undirected()}
    far = nx.single_source_shortest_path_length(walk[direction], start)
    if direction == "both":
        far |= nx.single_source_shortest_path_length(g.reverse(), start)
    edge = max(far.values())
    hops = data.draw(st.sampled_from(sorted({max(0, edge - 1), edge, edge + 1, 8, 9})))
    where = data.draw(
        st.sampled_from([None, [("types", {"Model", "Eval"})], [("states", ["DELETED", "FAILED"])]])
    )
    stop = data.draw(
        st.sampled_from([None, [("types", {"Eval"})], [("states", [ExecutionState.FAILED])]])
    )
    include_stop = data.draw(st.booleans())
    expected = _oracle(g, nodes, [start], direction, hops, stop, include_stop)
    if where is not None:
        expected = {r for r in expected if _matches(where, r, nodes[r])}
    options: dict[str, Any] = {
        "direction": direction,
        "max_hops": hops,
        "where": where and NodeFilter(**dict(where)),
        "stop_at": stop and NodeFilter(**dict(stop)),
        "include_stop": include_stop,
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_traverse, "PATH_CAP", data.draw(st.sampled_from([1, _traverse.PATH_CAP])))
        mp.setattr(_traverse, "WITHIN_CAP", data.draw(st.sampled_from([1, _traverse.WITHIN_CAP])))
        mp.setattr(_traverse, "WITHIN_MIN_HOPS", data.draw(st.sampled_from([0, 8])))
        whole = store.lineage(start, **options)
        unbounded = store.lineage(start, **(options | {"max_hops": None}))
        pages = _pages(store, [start], data.draw(st.integers(1, 4)), **options)
    assert whole.refs == expected, (hops, edge)
    assert whole.total == len(expected) and whole.complete
    expected_events = {
        (a, e, t) for a, e, t in events if NodeRef(A, a) in expected and NodeRef(X, e) in expected
    }
    assert {(e.artifact_id, e.execution_id, e.type) for e in whole.events} == expected_events
    assert set().union(*(p.refs for p in pages)) == expected
    if hops >= edge and stop is None:  # at or past the farthest node: the limit changes nothing
        assert unbounded.refs == expected


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_many_starts_against_networkx(store: LineageStore, data: st.DataObject) -> None:
    """More than MANY_STARTS start nodes: past the path cap the walk goes hop by hop for all the
    starts at once instead of one uncapped walk per start; either way the same answer."""
    _types(store)
    n_art, n_exec = data.draw(st.integers(10, 24)), data.draw(st.integers(1, 12))
    aids = store.put_artifacts([Artifact(type="DataSet") for _ in range(n_art)])
    eids = store.put_executions([Execution(type="Trainer") for _ in range(n_exec)])
    keys = st.tuples(
        st.integers(0, n_art - 1), st.integers(0, n_exec - 1), st.sampled_from(EVENT_TYPES)
    )
    events = data.draw(st.lists(keys, max_size=30, unique=True))
    if events:
        store.put_events(
            [Event(artifact_id=aids[a], execution_id=eids[e], type=t) for a, e, t in events]
        )
    g: nx.DiGraph[NodeRef] = nx.DiGraph()
    g.add_nodes_from([NodeRef(A, i) for i in aids] + [NodeRef(X, i) for i in eids])
    for a, e, t in events:
        ends = (NodeRef(A, aids[a]), NodeRef(X, eids[e]))
        g.add_edge(*(reversed(ends) if t.is_output else ends))
    refs = sorted(g.nodes)
    starts = data.draw(st.lists(st.sampled_from(refs), min_size=1, max_size=22, unique=True))
    direction = data.draw(st.sampled_from(["upstream", "downstream", "both"]))
    hops = data.draw(st.sampled_from([None, 1, 3, 8]))
    nodes = {r: {"type_name": "", "state": None, "value": None} for r in refs}
    expected = _oracle(g, nodes, starts, direction, hops, None, True)
    events_expected = {
        (aids[a], eids[e], t)
        for a, e, t in events
        if NodeRef(A, aids[a]) in expected and NodeRef(X, eids[e]) in expected
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_traverse, "PATH_CAP", data.draw(st.sampled_from([1, _traverse.PATH_CAP])))
        mp.setattr(_traverse, "WITHIN_CAP", data.draw(st.sampled_from([1, _traverse.WITHIN_CAP])))
        got = store.lineage(starts, direction=direction, max_hops=hops)
        pages = _pages(
            store, starts, data.draw(st.integers(1, 5)), direction=direction, max_hops=hops
        )
    assert got.refs == expected
    assert {(e.artifact_id, e.execution_id, e.type) for e in got.events} == events_expected
    assert set().union(*(p.refs for p in pages)) == expected
