"""The lineage questions the other oracles leave out, against networkx on random graphs (every
event type, an artifact read and written by one execution, cycles, every state): the contexts
and links ``include_contexts`` adds, whole and page by page; ``impact``; ``context_graph`` with
and without the nested contexts (parent links that would close a cycle are refused and leave
none); ``find_cached_execution`` over events of every type written in several calls; and pages
read while another writer adds nodes between them (docs/api.md, "Paging")."""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    InvalidArgumentError,
    LineageGraph,
    LineageStore,
    NodeFilter,
    NodeKind,
    NodeRef,
    ParentContext,
)
from lineage_graph.lineage import _traverse

A, X = NodeKind.ARTIFACT, NodeKind.EXECUTION
EVENT_TYPES = [t for t in EventType if t is not EventType.UNKNOWN]
UNUSABLE = {ArtifactState.MARKED_FOR_DELETION, ArtifactState.DELETED, ArtifactState.ABANDONED}

_NAMES = itertools.count()  # context names are unique per type: the store outlives an example

examples = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _types(store: LineageStore) -> None:
    for name in ("DataSet", "Model"):
        store.put_artifact_type(ArtifactType(name=name))
    store.put_execution_type(ExecutionType(name="Trainer"))
    for name in ("Run", "Experiment"):
        store.put_context_type(ContextType(name=name))


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    """Artifacts, executions and contexts by local index; events (any type, any pair: self-loops
    and cycles), attributions, associations and parent links (child, parent) in write order."""
    n_art, n_exec, n_ctx = draw(st.integers(1, 6)), draw(st.integers(0, 4)), draw(st.integers(0, 4))
    events: list[tuple[int, int, EventType]] = []
    if n_exec:
        keys = st.tuples(
            st.integers(0, n_art - 1), st.integers(0, n_exec - 1), st.sampled_from(EVENT_TYPES)
        )
        events = draw(st.lists(keys, max_size=12, unique=True))
    attributions: list[tuple[int, int]] = []
    associations: list[tuple[int, int]] = []
    parents: list[tuple[int, int]] = []
    if n_ctx:
        ctx = st.integers(0, n_ctx - 1)
        attributions = draw(st.lists(st.tuples(st.integers(0, n_art - 1), ctx), unique=True))
        if n_exec:
            associations = draw(
                st.lists(st.tuples(st.integers(0, n_exec - 1), ctx), max_size=6, unique=True)
            )
        parents = draw(st.lists(st.tuples(ctx, ctx), max_size=5, unique=True))
    return {
        "arts": [
            (
                draw(st.sampled_from(["DataSet", "Model"])),
                draw(st.sampled_from(list(ArtifactState))),
            )
            for _ in range(n_art)
        ],
        "execs": [draw(st.sampled_from(list(ExecutionState))) for _ in range(n_exec)],
        "n_ctx": n_ctx,
        "events": events,
        "attributions": attributions,
        "associations": associations,
        "parents": parents,
    }


class Stored:
    """A drawn graph written to the store, with its oracle in store ids."""

    def __init__(
        self, store: LineageStore, graph: dict[str, Any], run_type: str = "Trainer"
    ) -> None:
        self.aids = store.put_artifacts(
            [Artifact(type=t, state=state) for t, state in graph["arts"]]
        )
        self.eids = (
            store.put_executions(
                [Execution(type=run_type, last_known_state=s) for s in graph["execs"]]
            )
            if graph["execs"]
            else []
        )
        self.cids = (
            store.put_contexts(
                [Context(type="Run", name=f"r{next(_NAMES)}") for _ in range(graph["n_ctx"])]
            )
            if graph["n_ctx"]
            else []
        )
        self.states: dict[NodeRef, Any] = {
            NodeRef(A, i): s for i, (_, s) in zip(self.aids, graph["arts"], strict=True)
        } | {NodeRef(X, i): s for i, s in zip(self.eids, graph["execs"], strict=True)}
        self.events = [(self.aids[a], self.eids[e], t) for a, e, t in graph["events"]]
        if self.events:
            store.put_events(
                [Event(artifact_id=a, execution_id=e, type=t) for a, e, t in self.events]
            )
        self.attributions = [(self.aids[a], self.cids[c]) for a, c in graph["attributions"]]
        self.associations = [(self.eids[e], self.cids[c]) for e, c in graph["associations"]]
        if self.attributions or self.associations:
            store.put_attributions_and_associations(
                [Attribution(artifact_id=a, context_id=c) for a, c in self.attributions],
                [Association(execution_id=e, context_id=c) for e, c in self.associations],
            )
        # Parent links one at a time: one closing a cycle (or naming the context itself) is
        # refused and stores nothing, so the nesting stays a DAG.
        self.nesting: nx.DiGraph[int] = nx.DiGraph()
        self.nesting.add_nodes_from(self.cids)
        for child, parent in graph["parents"]:
            c, p = self.cids[child], self.cids[parent]
            cycle = c == p or (p in self.nesting and nx.has_path(self.nesting, c, p))
            try:
                store.put_parent_contexts([ParentContext(child_id=c, parent_id=p)])
            except InvalidArgumentError:
                assert cycle, (c, p)
            else:
                assert not cycle, (c, p)
                self.nesting.add_edge(p, c)  # parent -> child
        assert nx.is_directed_acyclic_graph(self.nesting)
        self.flow: nx.DiGraph[NodeRef] = nx.DiGraph()
        self.flow.add_nodes_from([NodeRef(A, i) for i in self.aids])
        self.flow.add_nodes_from([NodeRef(X, i) for i in self.eids])
        for a, e, t in self.events:
            ends = (NodeRef(A, a), NodeRef(X, e))
            self.flow.add_edge(*(reversed(ends) if t.is_output else ends))

    def links_of(self, refs: set[NodeRef]) -> tuple[list[Any], list[Any], set[int]]:
        """The links of these nodes in the order written, and the contexts they name."""
        attributions = [(a, c) for a, c in self.attributions if NodeRef(A, a) in refs]
        associations = [(e, c) for e, c in self.associations if NodeRef(X, e) in refs]
        return attributions, associations, {c for _, c in attributions + associations}


def _links(g: LineageGraph) -> tuple[list[Any], list[Any], set[int]]:
    return (
        [(x.artifact_id, x.context_id) for x in g.attributions],
        [(x.execution_id, x.context_id) for x in g.associations],
        {c.id for c in g.contexts if c.id is not None},
    )


@examples
@given(graph=graphs(), data=st.data())
def test_contexts_impact_and_context_graph_against_networkx(
    store: LineageStore, graph: dict[str, Any], data: st.DataObject
) -> None:
    """Whatever strategy answers: the engine walk, its uncapped fallback (a cap of 1 path), a
    bounded walk in one engine walk (from 0 hops up) or hop by hop."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_traverse, "PATH_CAP", data.draw(st.sampled_from([1, _traverse.PATH_CAP])))
        mp.setattr(_traverse, "WITHIN_CAP", data.draw(st.sampled_from([1, _traverse.WITHIN_CAP])))
        mp.setattr(_traverse, "WITHIN_MIN_HOPS", data.draw(st.sampled_from([0, 8])))
        _contexts_impact_and_context_graph(store, graph, data)


def _contexts_impact_and_context_graph(
    store: LineageStore, graph: dict[str, Any], data: st.DataObject
) -> None:
    _types(store)
    s = Stored(store, graph)
    nodes = sorted(s.flow.nodes)
    start = data.draw(st.sampled_from(nodes))
    direction = data.draw(st.sampled_from(["upstream", "downstream", "both", "any"]))
    hops = data.draw(st.sampled_from([None, 1, 2, 8]))
    where = data.draw(st.sampled_from([None, "artifacts", "executions", "states"]))
    options: dict[str, Any] = {
        "direction": direction,
        "max_hops": hops,
        "include_contexts": True,
        "where": None,
    }
    walks = {
        "upstream": [s.flow.reverse()],
        "downstream": [s.flow],
        "both": [s.flow.reverse(), s.flow],
        "any": [s.flow.to_undirected()],
    }[direction]
    expected = {n for w in walks for n in nx.single_source_shortest_path_length(w, start, hops)}
    if where == "states":
        options["where"] = NodeFilter(states=["LIVE", "COMPLETE"])
        expected = {r for r in expected if s.states[r].name in ("LIVE", "COMPLETE")}
    elif where is not None:
        kind = A if where == "artifacts" else X
        options["where"] = NodeFilter(kinds=[kind])
        expected = {r for r in expected if r.kind is kind}

    # include_contexts: the contexts of the returned nodes and their links, in write order
    whole = store.lineage(start, **options)
    assert whole.refs == expected
    assert _links(whole) == s.links_of(whole.refs)
    limit = data.draw(st.integers(1, 3))
    cursor, seen = None, set()
    for _ in range(20):
        page = store.lineage(start, limit=limit, cursor=cursor, **options)
        assert _links(page) == s.links_of(page.refs)  # those of this page's nodes only
        seen |= page.refs
        if page.complete:
            break
        cursor = page.cursor
    assert seen == whole.refs

    # impact: everything downstream (unbounded), the source excluded from the groups, the
    # contexts of every node of the walk (the source's own included)
    report = store.impact(start)
    down = nx.descendants(s.flow, start) | {start}
    assert report.graph.refs == down
    affected = {NodeRef(A, a.id or 0) for v in report.artifacts_by_type.values() for a in v} | {
        NodeRef(X, e.id or 0) for v in report.executions_by_type.values() for e in v
    }
    assert affected == down - {start}
    for group in (report.artifacts_by_type, report.executions_by_type):
        for members in group.values():
            assert [n.id for n in members] == sorted(n.id or 0 for n in members)  # id order
    contexts = {c.id for v in report.contexts_by_type.values() for c in v}
    assert contexts == s.links_of(down)[2]
    assert report.counts == {
        "artifacts": sum(1 for r in affected if r.kind is A),
        "executions": sum(1 for r in affected if r.kind is X),
        "contexts": len(contexts),
    }

    # context_graph: the context (and with include_children its nested contexts, any depth),
    # its executions with every event of theirs, its artifacts and those events' artifacts
    if s.cids:
        root = data.draw(st.sampled_from(s.cids))
        children = data.draw(st.booleans())
        g = store.context_graph(root, include_children=children)
        held = {root} | (nx.descendants(s.nesting, root) if children else set())
        executions = {e for e, c in s.associations if c in held}
        events = {(a, e, t) for a, e, t in s.events if e in executions}
        artifacts = {a for a, c in s.attributions if c in held} | {a for a, _, _ in events}
        assert {c.id for c in g.contexts} == held
        assert {e.id for e in g.executions} == executions
        assert {a.id for a in g.artifacts} == artifacts
        assert {(e.artifact_id, e.execution_id, e.type) for e in g.events} == events
        assert len(g.events) == len(events)
        assert [(x.artifact_id, x.context_id) for x in g.attributions] == [
            (a, c) for a, c in s.attributions if c in held
        ]
        assert [(x.execution_id, x.context_id) for x in g.associations] == [
            (e, c) for e, c in s.associations if c in held
        ]


@examples
@given(graph=graphs(), data=st.data())
def test_find_cached_execution_against_an_oracle(
    store: LineageStore, graph: dict[str, Any], data: st.DataObject
) -> None:
    """The newest COMPLETE or CACHED execution whose INPUT events (no other type: a
    DECLARED_INPUT is no read) name exactly the inputs, none of whose outputs (any output type)
    is unusable; events written in several calls, some after the executions' state."""
    _types(store)
    run_type = f"Step{next(_NAMES)}"  # this example's executions only
    store.put_execution_type(ExecutionType(name=run_type))
    s = Stored(store, {**graph, "events": []}, run_type)
    events = [(s.aids[a], s.eids[e], t) for a, e, t in graph["events"]]
    for i in range(0, len(events), 3):  # a fingerprint kept across several writes
        store.put_events(
            [Event(artifact_id=a, execution_id=e, type=t) for a, e, t in events[i : i + 3]]
        )
    wanted = data.draw(st.sets(st.sampled_from(s.aids), max_size=3))
    usable = (ExecutionState.COMPLETE, ExecutionState.CACHED)
    matches = [
        e
        for e, state in zip(s.eids, graph["execs"], strict=True)
        if state in usable
        and {a for a, x, t in events if x == e and t is EventType.INPUT} == wanted
        and not any(
            s.states[NodeRef(A, a)] in UNUSABLE for a, x, t in events if x == e and t.is_output
        )
    ]
    found = store.find_cached_execution(run_type, sorted(wanted), by_fingerprint=False)
    hit = found.execution.id if found and found.execution else None
    assert hit == (max(matches) if matches else None)
    if found:
        assert sorted((ev.artifact_id, ev.type) for ev in found.output_events) == sorted(
            (a, t) for a, x, t in events if x == hit and t.is_output
        )


@examples
@given(data=st.data())
def test_pages_while_another_writer_adds_nodes(store: LineageStore, data: st.DataObject) -> None:
    """Each page re-runs the walk and goes on after the cursor's node: a node added between
    pages is listed when its (id, kind) comes after the cursor's, else not (artifacts and
    executions are numbered apart: a new execution may sort before the last artifact shown);
    every node there from the first page on is listed, each once, in (id, kind) order."""
    _types(store)
    (root,) = store.put_artifacts([Artifact(type="DataSet")])
    flow: nx.DiGraph[NodeRef] = nx.DiGraph()
    flow.add_node(NodeRef(A, root))

    def grow(n: int) -> set[NodeRef]:
        added: set[NodeRef] = set()
        for _ in range(n):
            src = data.draw(st.sampled_from(sorted(r for r in flow if r.kind is A)))
            extra = data.draw(st.integers(0, 2))  # artifacts and executions numbered unevenly
            (e,) = store.put_executions([Execution(type="Trainer")])
            outs = store.put_artifacts([Artifact(type="DataSet") for _ in range(1 + extra)])
            store.put_events(
                [Event(artifact_id=src.id, execution_id=e, type=EventType.INPUT)]
                + [Event(artifact_id=o, execution_id=e, type=EventType.OUTPUT) for o in outs]
            )
            flow.add_edge(src, NodeRef(X, e))
            flow.add_edges_from((NodeRef(X, e), NodeRef(A, o)) for o in outs)
            added |= {NodeRef(X, e)} | {NodeRef(A, o) for o in outs}
        return added

    grow(data.draw(st.integers(1, 3)))
    direction = data.draw(st.sampled_from(["downstream", "both", "any"]))
    hops = data.draw(st.sampled_from([None, 2, 4, 9]))
    limit = data.draw(st.integers(1, 3))

    def answer() -> set[NodeRef]:
        walk = flow if direction != "any" else flow.to_undirected()
        return set(nx.single_source_shortest_path_length(walk, NodeRef(A, root), cutoff=hops))

    first = answer()
    skipped: set[NodeRef] = set()
    listed: list[NodeRef] = []
    cursor = None
    for n_page in range(200):
        page = store.lineage(
            NodeRef(A, root), direction=direction, max_hops=hops, limit=limit, cursor=cursor
        )
        keys = sorted((r.id, r.kind is X) for r in page.refs)
        if listed and keys:
            assert keys[0] > (listed[-1].id, listed[-1].kind is X)
        listed += sorted(page.refs, key=lambda r: (r.id, r.kind is X))
        if page.complete:
            break
        cursor = page.cursor
        last = (listed[-1].id, listed[-1].kind is X)
        if n_page < 3:  # another writer, between pages
            skipped |= {r for r in grow(data.draw(st.integers(0, 2))) if (r.id, r.kind is X) < last}
    assert len(listed) == len(set(listed))
    assert first <= set(listed)
    assert set(listed) == answer() - skipped


def test_a_node_two_paths_reach_counts_its_shortest_unblocked_path(store: LineageStore) -> None:
    """a0 -> e1 -> a1 -> e2 -> a2 and a0 -> e0 -> a2: a2 is 2 hops away by e0, 4 by e1. A hop
    limit keeps it from 2 hops on; with e0 a boundary (not walked beyond) only the long path is
    left, so it takes 4 hops; excluding the boundary leaves e0 out, not what lies beyond it by
    the other path. The same answers whichever strategy walks (engine walk or hop by hop)."""
    _types(store)
    a = store.put_artifacts([Artifact(type="DataSet") for _ in range(3)])
    e = store.put_executions(
        [Execution(type="Trainer", last_known_state=ExecutionState.COMPLETE)]
        + [Execution(type="Trainer", last_known_state=ExecutionState.RUNNING) for _ in range(2)]
    )  # e[0] COMPLETE: the boundary; e[1], e[2] RUNNING
    ins, outs = EventType.INPUT, EventType.OUTPUT
    store.put_events(
        [
            Event(artifact_id=a[0], execution_id=e[1], type=ins),
            Event(artifact_id=a[1], execution_id=e[1], type=outs),
            Event(artifact_id=a[1], execution_id=e[2], type=ins),
            Event(artifact_id=a[2], execution_id=e[2], type=outs),
            Event(artifact_id=a[0], execution_id=e[0], type=ins),
            Event(artifact_id=a[2], execution_id=e[0], type=outs),
        ]
    )
    start, target, short = NodeRef(A, a[0]), NodeRef(A, a[2]), NodeRef(X, e[0])
    stop = NodeFilter(states=[ExecutionState.COMPLETE])
    for within_min_hops in (0, 10**9):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_traverse, "WITHIN_MIN_HOPS", within_min_hops)
            for direction in ("downstream", "any"):
                assert target in store.lineage(start, direction=direction, max_hops=2).refs
                assert target not in store.lineage(start, direction=direction, max_hops=1).refs
            for hops, reached in ((3, False), (4, True), (None, True)):
                got = store.downstream(start, max_hops=hops, stop_at=stop)
                assert (target in got.refs) is reached and short in got.refs
                dropped = store.downstream(start, max_hops=hops, stop_at=stop, include_stop=False)
                assert (target in dropped.refs) is reached and short not in dropped.refs
            up = store.upstream(target, max_hops=2, stop_at=stop, include_stop=False)
            assert up.refs == {target, NodeRef(X, e[2]), NodeRef(A, a[1])}
