"""The context DAG (issue 3.6): ``LineageStore.context_graph`` on a real engine."""

from __future__ import annotations

import networkx as nx
import pytest

from lineage_graph import (
    Artifact,
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
    LineageStore,
    NodeKind,
    NodeRef,
    NotFoundError,
    ParentContext,
)
from lineage_graph.lineage import LineageGraph

IN, OUT = EventType.INPUT, EventType.OUTPUT


@pytest.fixture
def pipeline(store: LineageStore) -> dict[str, int]:
    """Run "r1" (child of experiment "exp"): ingest -> data -> train -> model; "r2" (child of
    "r1") evaluates the model; an outside execution also reads the data (not in any context)."""
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_artifact_type(ArtifactType(name="Model"))
    store.put_artifact_type(ArtifactType(name="Note"))
    for name in ("Ingest", "Train", "Eval", "Other"):
        store.put_execution_type(ExecutionType(name=name))
    store.put_context_type(ContextType(name="Run"))
    store.put_context_type(ContextType(name="Experiment"))
    done = ExecutionState.COMPLETE
    ingest, [raw, data], [r1] = store.put_execution(
        Execution(type="Ingest", last_known_state=done),
        [
            (Artifact(type="DataSet", uri="/raw"), Event(type=IN)),
            (Artifact(type="DataSet", uri="/data"), Event(type=OUT)),
        ],
        [Context(type="Run", name="r1")],
    )
    train, [_, model], _ = store.put_execution(
        Execution(type="Train", last_known_state=done),
        [(Artifact(id=data), Event(type=IN)), (Artifact(type="Model", uri="/m"), Event(type=OUT))],
        [Context(type="Run", name="r1")],
        reuse_context_if_already_exist=True,
    )
    evaluate, _, [r2] = store.put_execution(
        Execution(type="Eval", last_known_state=done),
        [(Artifact(id=model), Event(type=IN))],
        [Context(type="Run", name="r2")],
    )
    other, _, _ = store.put_execution(
        Execution(type="Other", last_known_state=done), [(Artifact(id=data), Event(type=IN))]
    )
    [note] = store.put_artifacts([Artifact(type="Note", uri="/note")])
    [exp] = store.put_contexts([Context(type="Experiment", name="exp")])
    store.put_attributions_and_associations([Attribution(artifact_id=note, context_id=r1)], [])
    store.put_parent_contexts(
        [ParentContext(child_id=r1, parent_id=exp), ParentContext(child_id=r2, parent_id=r1)]
    )
    return dict(
        ingest=ingest, train=train, evaluate=evaluate, other=other, raw=raw, data=data,
        model=model, note=note, r1=r1, r2=r2, exp=exp,
    )  # fmt: skip


def test_a_run_with_its_executions_artifacts_and_events(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    p = pipeline
    graph = store.context_graph(p["r1"])
    assert isinstance(graph, LineageGraph) and graph.complete
    assert graph.execution_ids == {p["ingest"], p["train"]}
    # Attributed artifacts (the outputs put_execution attributed, the note) and every artifact
    # the executions read or wrote (the raw input was given as an input: also attributed).
    assert graph.artifact_ids == {p["raw"], p["data"], p["model"], p["note"]}
    assert {(e.artifact_id, e.execution_id, e.type) for e in graph.events} == {
        (p["raw"], p["ingest"], IN),
        (p["data"], p["ingest"], OUT),
        (p["data"], p["train"], IN),
        (p["model"], p["train"], OUT),
    }
    assert [c.id for c in graph.contexts] == [p["r1"]]
    assert {(a.execution_id, a.context_id) for a in graph.associations} == {
        (p["ingest"], p["r1"]),
        (p["train"], p["r1"]),
    }
    assert {a.artifact_id for a in graph.attributions} == {
        p["raw"],
        p["data"],
        p["model"],
        p["note"],
    }
    # Usable for drawing: every event joins two nodes of the graph.
    g = graph.to_networkx()
    assert isinstance(g, nx.MultiDiGraph) and g.number_of_edges() >= len(graph.events)


def test_children_contexts_are_included_on_request(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    p = pipeline
    exp_only = store.context_graph(("Experiment", "exp"))
    assert len(exp_only) == 0 and [c.id for c in exp_only.contexts] == [p["exp"]]
    whole = store.context_graph(Context(type="Experiment", name="exp"), include_children=True)
    assert {c.id for c in whole.contexts} == {p["exp"], p["r1"], p["r2"]}
    assert whole.execution_ids == {p["ingest"], p["train"], p["evaluate"]}
    assert p["other"] not in whole.execution_ids  # reads the data, but in no context
    assert (p["evaluate"], p["r2"]) in {(a.execution_id, a.context_id) for a in whole.associations}
    by_model = store.context_graph(Context(id=p["r2"], name="r2"))
    assert by_model.execution_ids == {p["evaluate"]} and by_model.artifact_ids == {p["model"]}


def test_an_unknown_or_malformed_context_is_an_error(
    store: LineageStore, pipeline: dict[str, int]
) -> None:
    with pytest.raises(NotFoundError):
        store.context_graph(999_999)
    with pytest.raises(NotFoundError):
        store.context_graph(("Run", "nope"))
    with pytest.raises(InvalidArgumentError):
        store.context_graph("r1")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        store.context_graph(Context(name="r1"))


def test_a_context_by_its_node_ref(store: LineageStore, pipeline: dict[str, int]) -> None:
    """lineage() sends a context's NodeRef to context_graph(), which refused it (a NodeRef is
    neither an id nor a (type, name) pair); include_children="no" was read as True."""
    p = pipeline
    by_ref = store.context_graph(NodeRef(NodeKind.CONTEXT, p["r1"]))
    assert by_ref.refs == store.context_graph(p["r1"]).refs
    with pytest.raises(InvalidArgumentError, match="takes a context, not artifact"):
        store.context_graph(NodeRef(NodeKind.ARTIFACT, p["r1"]))
    with pytest.raises(InvalidArgumentError, match="include_children must be True or False"):
        store.context_graph(p["exp"], include_children="no")  # type: ignore[arg-type]


def test_an_empty_context(store: LineageStore) -> None:
    store.put_context_type(ContextType(name="Run"))
    [c] = store.put_contexts([Context(type="Run", name="empty")])
    graph = store.context_graph(c, include_children=True)
    assert (graph.artifacts, graph.executions, graph.events) == ([], [], [])
    assert [x.id for x in graph.contexts] == [c]


def test_links_come_in_write_order_as_lineage_lists_them(store: LineageStore) -> None:
    """context_graph listed a context's links by their ends while lineage(include_contexts=True)
    lists the same links in the order they were written (MLMD's order): one context's links
    came in two orders. Both list them in write order now."""
    store.put_artifact_type(ArtifactType(name="Note"))
    store.put_execution_type(ExecutionType(name="Step"))
    store.put_context_type(ContextType(name="Run"))
    [run] = store.put_contexts([Context(type="Run", name="r")])
    a1, a2, a3 = store.put_artifacts([Artifact(type="Note", uri=f"/n{i}") for i in range(3)])
    e1, e2 = store.put_executions([Execution(type="Step"), Execution(type="Step")])
    for artifact, execution in ((a3, e2), (a1, None), (a2, e1)):  # not in id order
        store.put_attributions_and_associations(
            [Attribution(artifact_id=artifact, context_id=run)],
            [Association(execution_id=execution, context_id=run)] if execution else [],
        )
    graph = store.context_graph(run)
    assert [a.artifact_id for a in graph.attributions] == [a3, a1, a2]
    assert [a.execution_id for a in graph.associations] == [e2, e1]
    nodes = [*store.get_artifacts_by_id([a1, a2, a3]), *store.get_executions_by_id([e1, e2])]
    walked = store.lineage(nodes, max_hops=0, include_contexts=True)
    assert walked.attributions == graph.attributions
    assert walked.associations == graph.associations
