"""``impact``, ``lineage_diff`` and impact marks against a networkx oracle on random graphs.

A seeded generator draws a small event graph (every event type, artifacts read and written by
one execution, contexts on some nodes). Every answer is checked against what networkx says of
the same graph: ``impact(x)`` is ``descendants(x)`` (the source left out of the groups, its
contexts in), ``lineage_diff(a, b)`` splits ``ancestors(a) | {a}`` and ``ancestors(b) | {b}``
(``a`` and ``b`` left out, the events among ``only_a``'s nodes kept). Marks and undos run in a
random order against a model of stacked marks: a mark sets its values on every artifact it
reaches (source included), an undo restores what its mark found and is refused while a newer
mark not yet undone shares an artifact with it; undoing every mark, newest first, gives the
store back as it was.
"""

from __future__ import annotations

import random
from typing import Any

import networkx as nx
import pytest

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
    ExecutionType,
    FailedPreconditionError,
    ImpactMark,
    LineageStore,
    NodeKind,
    NodeRef,
    NotFoundError,
)

Node = tuple[str, int]


def _ref(node: Node) -> NodeRef:
    return NodeRef(NodeKind.ARTIFACT if node[0] == "a" else NodeKind.EXECUTION, node[1])


def _build(
    store: LineageStore, rng: random.Random
) -> tuple[list[int], nx.DiGraph, dict[Node, set[int]]]:
    store.put_artifact_type(ArtifactType(name="Data"))
    store.put_artifact_type(ArtifactType(name="Model"))
    store.put_execution_type(ExecutionType(name="Step"))
    store.put_context_type(ContextType(name="Run"))
    artifacts = store.put_artifacts(
        [
            Artifact(
                type=rng.choice(["Data", "Model"]),
                uri=f"/a{i}",
                state=rng.choice([ArtifactState.LIVE, ArtifactState.PENDING]),
                custom_properties=rng.choice([{}, {"q": 1}, {"q": "text"}]),
            )
            for i in range(rng.randint(2, 8))
        ]
    )
    executions = store.put_executions([Execution(type="Step") for _ in range(rng.randint(1, 5))])
    contexts = store.put_contexts([Context(type="Run", name=f"r{i}") for i in range(3)])
    graph = nx.DiGraph()
    graph.add_nodes_from([("a", a) for a in artifacts] + [("e", e) for e in executions])
    events = []
    for a in artifacts:
        for e in executions:
            for kind in list(EventType)[1:]:  # both ways at once too: a cycle of length 2
                if rng.random() < 0.08:
                    events.append(Event(artifact_id=a, execution_id=e, type=kind))
                    edge = (("e", e), ("a", a)) if kind.is_output else (("a", a), ("e", e))
                    graph.add_edge(*edge)
    if events:
        store.put_events(events)
    members: dict[Node, set[int]] = {}
    attributions, associations = [], []
    for node in graph.nodes:
        if rng.random() < 0.35:
            context = rng.choice(contexts)
            members.setdefault(node, set()).add(context)
            if node[0] == "a":
                attributions.append(Attribution(artifact_id=node[1], context_id=context))
            else:
                associations.append(Association(execution_id=node[1], context_id=context))
    store.put_attributions_and_associations(attributions, associations)
    return artifacts, graph, members


def _canon(props: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """Custom properties compared with their types (``True == 1`` in Python), in any order."""
    return tuple(sorted((k, type(v).__name__, repr(v)) for k, v in props.items()))


def _state(store: LineageStore, ids: list[int]) -> dict[int, Any]:
    return {a.id: (a.state, _canon(a.custom_properties)) for a in store.get_artifacts_by_id(ids)}


@pytest.mark.parametrize("seed", range(8))
def test_impact_diff_and_marks_agree_with_networkx(store: LineageStore, seed: int) -> None:
    rng = random.Random(seed)
    artifacts, graph, members = _build(store, rng)
    nodes = sorted(graph.nodes)

    for source in nodes:
        report = store.impact(_ref(source))
        down = nx.descendants(graph, source)
        by_kind = {kind: sorted(i for k, i in down if k == kind) for kind in ("a", "e")}
        got_a = sorted(x.id or 0 for v in report.artifacts_by_type.values() for x in v)
        got_e = sorted(x.id or 0 for v in report.executions_by_type.values() for x in v)
        assert (got_a, got_e) == (by_kind["a"], by_kind["e"]), (seed, source)
        contexts = set().union(*(members.get(n, set()) for n in down | {source}))
        got_c = sorted(c.id or 0 for v in report.contexts_by_type.values() for c in v)
        assert got_c == sorted(contexts), (seed, source)
        assert report.counts == {
            "artifacts": len(got_a),
            "executions": len(got_e),
            "contexts": len(contexts),
        }

    for _ in range(6):
        a, b = rng.choice(nodes), rng.choice(nodes)
        diff = store.lineage_diff(_ref(a), _ref(b))
        up_a = nx.ancestors(graph, a) | {a}
        up_b = nx.ancestors(graph, b) | {b}
        only_a = up_a - up_b - {a}
        assert diff.only_a.refs == {_ref(n) for n in only_a}, (seed, a, b)
        assert diff.only_b.refs == {_ref(n) for n in up_b - up_a - {b}}, (seed, a, b)
        assert diff.common == {_ref(n) for n in (up_a & up_b) - {a, b}}, (seed, a, b)
        kept = {(e.artifact_id, e.execution_id) for e in diff.only_a.events}
        want = {
            (u[1], v[1]) if u[0] == "a" else (v[1], u[1])
            for u, v in graph.edges
            if u in only_a and v in only_a
        }
        assert kept == want, (seed, a, b)
        assert diff.same == (not only_a and not up_b - up_a - {b})

    original = _state(store, artifacts)
    model = dict(original)
    live: list[tuple[str, list[int], dict[int, Any]]] = []  # oldest first
    for _ in range(rng.randint(4, 10)):
        if live and rng.random() < 0.45:
            index = rng.randrange(len(live))
            token, ids, found = live[index]
            newer = [t for t, other, _ in live[index + 1 :] if set(other) & set(ids)]
            if newer:
                with pytest.raises(FailedPreconditionError):
                    store.undo_impact_mark(token)
            else:
                assert store.undo_impact_mark(token) == len(ids)
                model.update(found)
                del live[index]
                with pytest.raises(NotFoundError):
                    store.undo_impact_mark(token)
        else:
            source = rng.choice(nodes)
            state = rng.choice([None, ArtifactState.ABANDONED, ArtifactState.LIVE])
            prop = rng.choice([None, ("q", rng.choice([2, "x", True, 1.5])), ("r", {"k": 1})])
            if state is None and prop is None:
                state = ArtifactState.ABANDONED
            mark = ImpactMark(state=state, custom_property=prop)
            report = store.impact(_ref(source), mark=mark)
            reached = nx.descendants(graph, source) | {source}
            ids = sorted(i for k, i in reached if k == "a")
            assert report.marked == len(ids) and report.mark_token is not None
            live.append((report.mark_token, ids, {i: model[i] for i in ids}))
            for i in ids:
                had_state, had_props = model[i]
                props = {k: (t, r) for k, t, r in had_props}  # name -> (type, repr)
                if prop is not None:
                    props[prop[0]] = (type(prop[1]).__name__, repr(prop[1]))
                canon = tuple(sorted((k, *v) for k, v in props.items()))
                model[i] = (state if state is not None else had_state, canon)
        assert _state(store, artifacts) == model, seed
    for token, _, _ in reversed(live):
        store.undo_impact_mark(token)
    assert _state(store, artifacts) == original, seed
