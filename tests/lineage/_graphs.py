"""Building lineage shapes through the public API, and their networkx oracle."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
    NodeKind,
    NodeRef,
)

BATCH = 2000
_BUILDS = itertools.count()  # names are unique within a type: one prefix per build


def ensure_types(store: LineageStore) -> None:
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_artifact_type(ArtifactType(name="Model"))
    store.put_execution_type(ExecutionType(name="Trainer"))


@dataclass
class Built:
    """Ids of the nodes built, by the builder's local index, and the oracle graph."""

    artifacts: list[int]
    executions: list[int]
    oracle: nx.DiGraph[NodeRef] = field(default_factory=nx.DiGraph)

    def a(self, i: int) -> NodeRef:
        return NodeRef(NodeKind.ARTIFACT, self.artifacts[i])

    def e(self, i: int) -> NodeRef:
        return NodeRef(NodeKind.EXECUTION, self.executions[i])


def build(
    store: LineageStore,
    n_artifacts: int,
    n_executions: int,
    inputs: Sequence[tuple[int, int]],
    outputs: Sequence[tuple[int, int]],
    *,
    ms: dict[tuple[str, int, int], int] | None = None,
    artifact_type: str = "DataSet",
) -> Built:
    """``inputs``: (artifact index, execution index); ``outputs``: (execution, artifact)."""
    tag = f"g{next(_BUILDS)}-"
    aids: list[int] = []
    for i in range(0, n_artifacts, BATCH):
        chunk = range(i, min(n_artifacts, i + BATCH))
        aids += store.put_artifacts(
            [Artifact(type=artifact_type, uri=f"mem://{tag}a{j}", name=f"{tag}a{j}") for j in chunk]
        )
    eids: list[int] = []
    for i in range(0, n_executions, BATCH):
        chunk = range(i, min(n_executions, i + BATCH))
        eids += store.put_executions([Execution(type="Trainer", name=f"{tag}e{j}") for j in chunk])
    ms = ms or {}
    events = [
        Event(
            artifact_id=aids[a],
            execution_id=eids[e],
            type=EventType.INPUT,
            milliseconds_since_epoch=ms.get(("in", a, e)),
        )
        for a, e in inputs
    ] + [
        Event(
            artifact_id=aids[a],
            execution_id=eids[e],
            type=EventType.OUTPUT,
            milliseconds_since_epoch=ms.get(("out", e, a)),
        )
        for e, a in outputs
    ]
    for i in range(0, len(events), BATCH):
        store.put_events(events[i : i + BATCH])
    built = Built(aids, eids)
    built.oracle.add_nodes_from(built.a(i) for i in range(n_artifacts))
    built.oracle.add_nodes_from(built.e(i) for i in range(n_executions))
    built.oracle.add_edges_from((built.a(a), built.e(e)) for a, e in inputs)
    built.oracle.add_edges_from((built.e(e), built.a(a)) for e, a in outputs)
    return built


def ladder(store: LineageStore, diamonds: int) -> Built:
    """a0 -> (e, e') -> a1 -> ... -> a_n: 2^n paths from a_n up to a0."""
    inputs = [(i, 2 * i + k) for i in range(diamonds) for k in (0, 1)]
    outputs = [(2 * i + k, i + 1) for i in range(diamonds) for k in (0, 1)]
    return build(store, diamonds + 1, 2 * diamonds, inputs, outputs)


def chain(store: LineageStore, generations: int) -> Built:
    """a0 -> e0 -> a1 -> e1 -> ... -> a_n."""
    inputs = [(i, i) for i in range(generations)]
    outputs = [(i, i + 1) for i in range(generations)]
    return build(store, generations + 1, generations, inputs, outputs)


def within(
    graph: nx.DiGraph[NodeRef], start: NodeRef, hops: int | None, *, up: bool
) -> set[NodeRef]:
    g = graph.reverse(copy=False) if up else graph
    return set(nx.single_source_shortest_path_length(g, start, cutoff=hops))


def within_any(graph: nx.DiGraph[NodeRef], start: NodeRef, hops: int | None) -> set[NodeRef]:
    return set(
        nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), start, cutoff=hops)
    )
