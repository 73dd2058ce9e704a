"""Build a DAG of artifacts and executions through either public API, and know its answers.

A :class:`Dag` is written the same way on lineage-graph's native API and on the MLMD API (real
MLMD or lineage-graph's adapter): artifacts, then executions, then events, in batches of 1,000
(the fastest plain path on both). :func:`reach` is the oracle: the nodes and events a complete
upstream or downstream walk must return, computed in Python from the DAG itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    LineageStore,
    PropertyType,
)

__all__ = ["Built", "Dag", "Expected", "build", "content", "reach", "written_artifact"]

BATCH = 1_000
INPUT, OUTPUT = int(EventType.INPUT), int(EventType.OUTPUT)  # the same numbers as MLMD's
COMPLETE = int(ExecutionState.COMPLETE)  # MLMD's number too


@dataclass
class Dag:
    """Artifacts ``0..len(uris)-1``; each execution reads ``inputs`` and writes ``outputs``
    (artifact indices). ``days``: the int property ``day`` of each artifact (optional)."""

    uris: list[str] = field(default_factory=list)
    executions: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    days: list[int] | None = None
    #: ids of artifacts already in the store; an input or output index ``-1 - j`` is ``existing[j]``
    existing: list[int] = field(default_factory=list)

    def artifact(self, uri: str) -> int:
        self.uris.append(uri)
        return len(self.uris) - 1

    def execution(self, inputs: tuple[int, ...], outputs: tuple[int, ...]) -> int:
        self.executions.append((inputs, outputs))
        return len(self.executions) - 1

    @property
    def nodes(self) -> int:
        return len(self.uris) + len(self.executions)


@dataclass
class Built:
    """Store ids of a built DAG's artifacts and executions (by index)."""

    artifact_ids: list[int]
    execution_ids: list[int]


@dataclass
class Expected:
    """A complete lineage answer, as store ids."""

    artifact_ids: set[int]
    execution_ids: set[int]
    #: (artifact id, execution id, event type as MLMD's number: INPUT 3, OUTPUT 4) of every
    #: event in the answer
    edges: set[tuple[int, int, int]]
    #: what each node holds, as :func:`content` reads it from either API: artifacts
    #: ``(id, type, uri, day)``, executions ``(id, type, state as MLMD's number)``
    artifacts: set[tuple[int, str, str, int | None]] = field(default_factory=set)
    executions: set[tuple[int, str, int]] = field(default_factory=set)

    @property
    def nodes(self) -> int:
        return len(self.artifact_ids) + len(self.execution_ids)


def _types(h: Any) -> tuple[int, int]:
    """Register the bench types once per store; MLMD type ids (0, 0 on the native API)."""
    if "types" in h.extra:
        return h.extra["types"]  # type: ignore[no-any-return]
    if h.kind == "lg":
        h.store.put_artifact_type(ArtifactType(name="Data", properties={"day": PropertyType.INT}))
        h.store.put_execution_type(ExecutionType(name="Step"))
        ids = (0, 0)
    else:
        from ml_metadata.proto import metadata_store_pb2 as pb

        at = pb.ArtifactType(name="Data")
        at.properties["day"] = pb.INT
        ids = (
            h.store.put_artifact_type(at),
            h.store.put_execution_type(pb.ExecutionType(name="Step")),
        )
    h.extra["types"] = ids
    return ids


def build(h: Any, dag: Dag) -> Built:
    """Write ``dag`` into the handle's store (adds to what is there); returns its ids."""
    at_id, et_id = _types(h)
    n_art, n_exec = len(dag.uris), len(dag.executions)
    aids: list[int] = []
    eids: list[int] = []
    if h.kind == "lg":
        store: LineageStore = h.store
        for i in range(0, n_art, BATCH):
            aids += store.put_artifacts(
                [
                    Artifact(
                        type="Data",
                        uri=dag.uris[j],
                        properties={"day": dag.days[j]} if dag.days is not None else {},
                    )
                    for j in range(i, min(i + BATCH, n_art))
                ]
            )
        for i in range(0, n_exec, BATCH):
            eids += store.put_executions(
                [
                    Execution(type="Step", last_known_state=ExecutionState.COMPLETE)
                    for _ in range(i, min(i + BATCH, n_exec))
                ]
            )
        events = [
            Event(artifact_id=_id(dag, aids, a), execution_id=eids[k], type=t)
            for k, (ins, outs) in enumerate(dag.executions)
            for group, t in ((ins, EventType.INPUT), (outs, EventType.OUTPUT))
            for a in group
        ]
        for i in range(0, len(events), BATCH):
            store.put_events(events[i : i + BATCH])
    else:
        from ml_metadata.proto import metadata_store_pb2 as pb

        for i in range(0, n_art, BATCH):
            batch = []
            for j in range(i, min(i + BATCH, n_art)):
                a = pb.Artifact(type_id=at_id, uri=dag.uris[j])
                if dag.days is not None:
                    a.properties["day"].int_value = dag.days[j]
                batch.append(a)
            aids += h.store.put_artifacts(batch)
        for i in range(0, n_exec, BATCH):
            eids += h.store.put_executions(
                [
                    pb.Execution(type_id=et_id, last_known_state=pb.Execution.COMPLETE)
                    for _ in range(i, min(i + BATCH, n_exec))
                ]
            )
        pevents = [
            pb.Event(artifact_id=_id(dag, aids, a), execution_id=eids[k], type=t)
            for k, (ins, outs) in enumerate(dag.executions)
            for group, t in ((ins, pb.Event.INPUT), (outs, pb.Event.OUTPUT))
            for a in group
        ]
        for i in range(0, len(pevents), BATCH):
            h.store.put_events(pevents[i : i + BATCH])
    return Built(aids, eids)


def _id(dag: Dag, aids: list[int], index: int) -> int:
    return aids[index] if index >= 0 else dag.existing[-1 - index]


def reach(dag: Dag, built: Built, start_artifact: int, upstream: bool) -> Expected:
    """The oracle: every node (and event) reachable from artifact ``start_artifact`` (an index)."""
    producers: dict[int, list[int]] = defaultdict(list)  # artifact -> executions writing it
    consumers: dict[int, list[int]] = defaultdict(list)  # artifact -> executions reading it
    for k, (ins, outs) in enumerate(dag.executions):
        for a in ins:
            consumers[a].append(k)
        for a in outs:
            producers[a].append(k)
    seen_a, seen_e = {start_artifact}, set()
    edges: set[tuple[int, int, int]] = set()
    # upstream: the walk enters an execution by its OUTPUT event and leaves by its INPUTs
    enter, leave = (OUTPUT, INPUT) if upstream else (INPUT, OUTPUT)
    frontier = [start_artifact]
    while frontier:
        nxt = []
        for a in frontier:
            for k in (producers if upstream else consumers)[a]:
                edges.add((a, k, enter))
                if k in seen_e:
                    continue
                seen_e.add(k)
                ins, outs = dag.executions[k]
                for b in ins if upstream else outs:
                    edges.add((b, k, leave))
                    if b not in seen_a:
                        seen_a.add(b)
                        nxt.append(b)
        frontier = nxt
    return Expected(
        {built.artifact_ids[a] for a in seen_a},
        {built.execution_ids[k] for k in seen_e},
        {(built.artifact_ids[a], built.execution_ids[k], t) for a, k, t in edges},
        {written_artifact(dag, built, a) for a in seen_a},
        {(built.execution_ids[k], "Step", COMPLETE) for k in seen_e},
    )


def written_artifact(dag: Dag, built: Built, index: int) -> tuple[int, str, str, int | None]:
    """Artifact ``index`` of ``dag`` as :func:`content` reads it back once built."""
    day = dag.days[index] if dag.days is not None else None
    return built.artifact_ids[index], "Data", dag.uris[index], day


def content(node: Any) -> tuple[Any, ...]:
    """What a node of an answer holds, the same tuple from both APIs (lineage-graph's models or
    MLMD's protos, whose output-only ``type`` holds the type's name): an artifact ``(id, type,
    uri, day)``, an execution ``(id, type, state as MLMD's number)``. An answer is checked on
    this, not on its ids alone: ids with the wrong uri, property or state are a wrong answer."""
    if isinstance(node, Artifact):
        return node.id, node.type, node.uri or "", node.properties.get("day")
    if isinstance(node, Execution):
        return node.id, node.type, int(node.last_known_state)
    if hasattr(node, "uri"):  # MLMD's Artifact proto
        day = node.properties["day"].int_value if "day" in node.properties else None
        return node.id, node.type, node.uri, day
    return node.id, node.type, int(node.last_known_state)
