"""Lineage questions after retention, against networkx: the walk passes through tombstones as
before (an artifact tombstone is ``DELETED``, which ``where`` / ``stop_at`` see; its properties
are gone), a deleted island is gone from every answer, paged or not, and "did this step already
run on these inputs?" never answers with a tombstoned execution nor with one whose output was
tombstoned (``DELETED``)."""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    LineageStore,
    NodeFilter,
    NodeKind,
    NodeRef,
)

from .test_options_oracle import _matches, _oracle, _pages

A, X = NodeKind.ARTIFACT, NodeKind.EXECUTION
EVENT_TYPES = [t for t in EventType if t is not EventType.UNKNOWN]
UNUSABLE = {ArtifactState.MARKED_FOR_DELETION, ArtifactState.DELETED, ArtifactState.ABANDONED}
_NAMES = itertools.count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_lineage_and_cache_through_tombstones(store: LineageStore, data: st.DataObject) -> None:
    n = next(_NAMES)  # types of this example only: retention selects by type
    a_types, e_types = [f"Data{n}", f"Model{n}"], [f"Train{n}", f"Eval{n}"]
    for t in a_types:
        store.put_artifact_type(ArtifactType(name=t))
    for t in e_types:
        store.put_execution_type(ExecutionType(name=t))
    n_art, n_exec = data.draw(st.integers(1, 7)), data.draw(st.integers(1, 5))
    arts = [
        {"type": data.draw(st.integers(0, 1)), "state": ArtifactState.LIVE, "value": 1}
        for _ in range(n_art)
    ]
    execs = [
        {
            "type": data.draw(st.integers(0, 1)),
            "state": data.draw(st.sampled_from([ExecutionState.COMPLETE, ExecutionState.FAILED])),
            "value": 1,
        }
        for _ in range(n_exec)
    ]
    aids = store.put_artifacts(
        [
            Artifact(type=a_types[x["type"]], state=x["state"], custom_properties={"k": 1})
            for x in arts
        ]
    )
    eids = store.put_executions(
        [
            Execution(
                type=e_types[x["type"]], last_known_state=x["state"], custom_properties={"k": 1}
            )
            for x in execs
        ]
    )
    keys = st.tuples(
        st.integers(0, n_art - 1), st.integers(0, n_exec - 1), st.sampled_from(EVENT_TYPES)
    )
    drawn = data.draw(st.lists(keys, max_size=12, unique=True))
    events = [(aids[a], eids[e], t) for a, e, t in drawn]
    if events:
        store.put_events([Event(artifact_id=a, execution_id=e, type=t) for a, e, t in events])
    nodes: dict[NodeRef, dict[str, Any]] = {}
    for i, x in zip(aids, arts, strict=True):
        nodes[NodeRef(A, i)] = x | {"type_name": a_types[x["type"]]}
    for i, x in zip(eids, execs, strict=True):
        nodes[NodeRef(X, i)] = x | {"type_name": e_types[x["type"]]}

    selected = data.draw(st.sets(st.sampled_from(a_types + e_types), min_size=1))
    plan = store.plan_retention(types=sorted(selected))
    store.apply_retention(plan)
    deleted = {NodeRef(A, i) for i in plan.delete_artifacts} | {
        NodeRef(X, i) for i in plan.delete_executions
    }
    tombstones = {NodeRef(A, i) for i in plan.tombstone_artifacts} | {
        NodeRef(X, i) for i in plan.tombstone_executions
    }
    assert {r.id for r in deleted | tombstones if r.kind is A} <= set(aids)
    for r in tombstones:  # what a tombstone is: DELETED (an artifact), its properties gone
        nodes[r] = nodes[r] | {"value": None}
        if r.kind is A:
            nodes[r]["state"] = ArtifactState.DELETED
    g: nx.DiGraph[NodeRef] = nx.DiGraph()
    g.add_nodes_from(r for r in nodes if r not in deleted)
    for a, e, t in events:
        ends = (NodeRef(A, a), NodeRef(X, e))
        if not set(ends) & deleted:
            g.add_edge(*(reversed(ends) if t.is_output else ends))
    assert not any(
        (NodeRef(A, a) in deleted) != (NodeRef(X, e) in deleted) for a, e, _ in events
    )  # an island has no event to a node that stays

    remaining = sorted(g.nodes)
    if remaining:
        start = data.draw(st.sampled_from(remaining))
        direction = data.draw(st.sampled_from(["upstream", "downstream", "both", "any"]))
        hops = data.draw(st.sampled_from([None, 1, 2, 3, 8]))
        where = data.draw(
            st.sampled_from(
                [None, [("states", ["DELETED"])], [("states", ["LIVE", "COMPLETE"])],
                 [("properties", {"k": 1})]]
            )
        )  # fmt: skip
        stop = data.draw(st.sampled_from([None, [("states", ["DELETED"])]]))
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
        whole = store.lineage(start, **options)
        assert whole.refs == expected
        pages = _pages(store, [start], data.draw(st.integers(1, 3)), **options)
        assert set().union(*(p.refs for p in pages)) == expected
        for got in [whole, *pages]:
            for node in got.artifacts:
                assert node.state == nodes[NodeRef(A, node.id)]["state"]

    # The cache: each remaining execution's own INPUT artifacts asked again.
    for t in e_types:
        runs = [i for i, x in zip(eids, execs, strict=True) if e_types[x["type"]] == t]
        for eid in runs:
            if NodeRef(X, eid) in deleted:
                continue
            inputs = {a for a, e, et in events if e == eid and et is EventType.INPUT}
            if any(NodeRef(A, a) in deleted for a in inputs):
                continue
            hits = [
                x
                for x in runs
                if NodeRef(X, x) not in deleted | tombstones
                and nodes[NodeRef(X, x)]["state"] is ExecutionState.COMPLETE
                and {a for a, e, et in events if e == x and et is EventType.INPUT} == inputs
                and not any(
                    nodes[NodeRef(A, a)]["state"] in UNUSABLE
                    for a, e, et in events
                    if e == x and et.is_output
                )
            ]
            found = store.find_cached_execution(t, sorted(inputs), by_fingerprint=False)
            got_id = found.execution.id if found and found.execution else None
            assert got_id == (max(hits) if hits else None), (eid, found.reason)
