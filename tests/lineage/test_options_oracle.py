"""Every option of lineage() at once against an oracle of its own (networkx), on graphs the other
property tests do not make: all seven event types, cycles (an artifact read and written by one
execution), several events between one pair, executions without events, events recorded at
different times (the ends of int64 included), and `where` / `stop_at` filters of each part."""

from __future__ import annotations

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
    LineageGraph,
    LineageStore,
    NodeFilter,
    NodeKind,
    NodeRef,
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
TIMES = [INT64_MIN, -(2**62), 1000, 2000, 2**62 + 1, INT64_MAX]
EVENT_TYPES = [t for t in EventType if t is not EventType.UNKNOWN]
VALUES: list[Any] = [1, 2.0, "x", True]

examples = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _types(store: LineageStore) -> None:
    for name in ("DataSet", "Model"):
        store.put_artifact_type(ArtifactType(name=name))
    for name in ("Trainer", "Eval"):
        store.put_execution_type(ExecutionType(name=name))


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    n_art = draw(st.integers(1, 6))
    n_exec = draw(st.integers(0, 4))
    node = st.fixed_dictionaries(
        {"type": st.integers(0, 1), "value": st.none() | st.sampled_from(VALUES)}
    )
    arts = [
        draw(node) | {"state": draw(st.sampled_from(list(ArtifactState)))} for _ in range(n_art)
    ]
    execs = [
        draw(node) | {"state": draw(st.sampled_from(list(ExecutionState)))} for _ in range(n_exec)
    ]
    events: dict[tuple[int, int, EventType], int] = {}
    if n_exec:
        keys = st.tuples(
            st.integers(0, n_art - 1), st.integers(0, n_exec - 1), st.sampled_from(EVENT_TYPES)
        )
        events = draw(st.dictionaries(keys, st.sampled_from(TIMES), max_size=12))
    return {"arts": arts, "execs": execs, "events": events}


def _filters(refs: list[NodeRef]) -> st.SearchStrategy[tuple[NodeFilter, list[Any]] | None]:
    part = st.one_of(
        st.tuples(st.just("kinds"), st.sets(st.sampled_from(list(NodeKind)[:2]), min_size=1)),
        st.tuples(
            st.just("types"),
            st.sets(st.sampled_from(["DataSet", "Model", "Trainer", "Eval"]), min_size=1),
        ),
        st.tuples(
            st.just("states"),
            st.lists(
                st.sampled_from(
                    [*ArtifactState, *ExecutionState, "LIVE", "COMPLETE", "UNKNOWN", "DELETED"]
                ),
                min_size=1,
                max_size=3,
            ),
        ),
        st.tuples(st.just("properties"), st.sampled_from(VALUES).map(lambda v: {"k": v})),
        st.tuples(st.just("refs"), st.sets(st.sampled_from(refs), max_size=3)),
    )
    return st.none() | st.lists(part, min_size=1, max_size=2, unique_by=lambda p: p[0]).map(
        lambda parts: (NodeFilter(**{k: v for k, v in parts}), parts)
    )


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    return bool(stored == wanted)


def _matches(parts: list[Any], ref: NodeRef, node: dict[str, Any]) -> bool:
    """The oracle's reading of docs/api.md's NodeFilter table."""
    for name, value in parts:
        if name == "kinds" and ref.kind not in value:
            return False
        if name == "types" and node["type_name"] not in value:
            return False
        if name == "states":
            enum = ArtifactState if ref.kind is NodeKind.ARTIFACT else ExecutionState
            if not any(
                (isinstance(s, str) and s in enum.__members__ and enum[s] == node["state"])
                or (isinstance(s, enum) and s == node["state"])
                for s in value
            ):
                return False
        if name == "properties" and (node["value"] is None or not _same(node["value"], value["k"])):
            return False
        if name == "refs" and ref not in value:
            return False
    return True


def _oracle(
    g: nx.DiGraph[NodeRef],
    nodes: dict[NodeRef, dict[str, Any]],
    starts: list[NodeRef],
    direction: str,
    hops: int | None,
    stop: list[Any] | None,
    include_stop: bool,
) -> set[NodeRef]:
    walks = {
        "upstream": [g.reverse()],
        "downstream": [g],
        "both": [g.reverse(), g],
        "any": [g.to_undirected()],
    }[direction]
    answer = set(starts)
    for walk in walks:
        seen, frontier, left_out, hop = set(starts), set(starts), set(), 0
        while frontier and (hops is None or hop < hops):
            found = {m for n in frontier for m in walk.neighbors(n)} - seen
            hop += 1
            seen |= found
            stops = {n for n in found if stop is not None and _matches(stop, n, nodes[n])}
            if not include_stop:
                left_out |= stops
            frontier = found - stops
        answer |= seen - left_out
    return answer


def _pages(store: LineageStore, starts: list[NodeRef], limit: int, **options: Any) -> list[Any]:
    pages: list[LineageGraph] = []
    cursor = None
    while True:
        page = store.lineage(starts, limit=limit, cursor=cursor, **options)
        assert len(page.artifacts) + len(page.executions) <= limit
        pages.append(page)
        if page.complete:
            assert page.cursor is None
            return pages
        cursor = page.cursor
        assert len(pages) < 50


@examples
@given(graph=graphs(), data=st.data())
def test_every_option_against_networkx(
    store: LineageStore, graph: dict[str, Any], data: st.DataObject
) -> None:
    _types(store)  # the same types again: a no-op after the first example
    a_types, e_types = ["DataSet", "Model"], ["Trainer", "Eval"]
    aids = store.put_artifacts(
        [
            Artifact(
                type=a_types[x["type"]],
                state=x["state"],
                custom_properties={} if x["value"] is None else {"k": x["value"]},
            )
            for x in graph["arts"]
        ]
    )
    eids = (
        store.put_executions(
            [
                Execution(
                    type=e_types[x["type"]],
                    last_known_state=x["state"],
                    custom_properties={} if x["value"] is None else {"k": x["value"]},
                )
                for x in graph["execs"]
            ]
        )
        if graph["execs"]
        else []
    )
    nodes: dict[NodeRef, dict[str, Any]] = {}
    for i, x in zip(aids, graph["arts"], strict=True):
        nodes[NodeRef(NodeKind.ARTIFACT, i)] = x | {"type_name": a_types[x["type"]]}
    for i, x in zip(eids, graph["execs"], strict=True):
        nodes[NodeRef(NodeKind.EXECUTION, i)] = x | {"type_name": e_types[x["type"]]}
    events = {(aids[a], eids[e], t): ms for (a, e, t), ms in graph["events"].items()}
    if events:
        store.put_events(
            [
                Event(artifact_id=a, execution_id=e, type=t, milliseconds_since_epoch=ms)
                for (a, e, t), ms in events.items()
            ]
        )
    refs = list(nodes)
    starts = data.draw(st.lists(st.sampled_from(refs), min_size=1, max_size=2, unique=True))
    direction = data.draw(st.sampled_from(["upstream", "downstream", "both", "any"]))
    hops = data.draw(st.sampled_from([None, 0, 1, 2, 3, 8, 50]))
    where = data.draw(_filters(refs))
    stop = data.draw(_filters(refs))
    include_stop = data.draw(st.booleans())
    as_of = data.draw(st.none() | st.sampled_from([*TIMES, 999, 2**62, INT64_MAX - 1, 2**70]))

    g: nx.DiGraph[NodeRef] = nx.DiGraph()
    g.add_nodes_from(refs)
    for (a, e, t), ms in events.items():
        if as_of is None or ms <= as_of:
            ends = (NodeRef(NodeKind.ARTIFACT, a), NodeRef(NodeKind.EXECUTION, e))
            g.add_edge(*(reversed(ends) if t.is_output else ends))
    expected = _oracle(g, nodes, starts, direction, hops, stop and stop[1], include_stop)
    if where is not None:
        expected = {r for r in expected if _matches(where[1], r, nodes[r])}
    expected_events = {
        (a, e, t)
        for (a, e, t), ms in events.items()
        if (as_of is None or ms <= as_of)
        and NodeRef(NodeKind.ARTIFACT, a) in expected
        and NodeRef(NodeKind.EXECUTION, e) in expected
    }

    options: dict[str, Any] = {
        "direction": direction,
        "max_hops": hops,
        "where": where and where[0],
        "stop_at": stop and stop[0],
        "include_stop": include_stop,
        "as_of": as_of,
    }
    whole = store.lineage(starts, **options)
    assert whole.refs == expected
    assert whole.total == len(expected) and whole.complete
    got_events = [(e.artifact_id, e.execution_id, e.type) for e in whole.events]
    assert len(got_events) == len(set(got_events)) and set(got_events) == expected_events

    limit = data.draw(st.integers(1, 3))
    pages = _pages(store, starts, limit, **options)
    keys = [
        k
        for p in pages
        for k in sorted((n.id, n.kind is NodeKind.EXECUTION) for n in (*p.artifacts, *p.executions))
    ]
    assert keys == sorted(keys) and len(keys) == len(set(keys))  # (id, kind) order, once each
    assert set().union(*(p.refs for p in pages)) == expected
    paged_events = [(e.artifact_id, e.execution_id, e.type) for p in pages for e in p.events]
    assert sorted(paged_events) == sorted(got_events)  # each event exactly once
    assert {p.total for p in pages} == {len(expected)}
