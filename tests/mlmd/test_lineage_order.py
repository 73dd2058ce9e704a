"""``get_lineage_subgraph`` lists its edges in MLMD's order (ml_metadata 1.17.1, probed).

Events: hop by hop, each hop's as MLMD reads its frontier's events (an artifact frontier's by
artifact, execution and type; an execution frontier's by execution, then as written).
Attributions and associations: in the order they were written (MLMD's link ids). Each scenario
runs on real ml_metadata and on the adapter and the whole answer is compared, order included.

MLMD writes the links of one ``put_execution`` or ``put_lineage_subgraph`` in an order that
changes from process to process (a hash set's), so the scenarios write links with
``put_attributions_and_associations``, whose order MLMD keeps; ours keep the order given.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import Association, Attribution, LineageStore, NodeRef
from lineage_graph.mlmd import MetadataStore
from lineage_graph.models import NodeKind

from ..conftest import reads_of
from .conftest import Both

E = pb.Event
EVENT_TYPES = [E.INPUT, E.OUTPUT, E.DECLARED_INPUT, E.DECLARED_OUTPUT, E.INTERNAL_INPUT]
Q = pb.LineageSubgraphQueryOptions


def _write_scenario(b: Both, rnd: random.Random) -> tuple[int, int]:
    """A random graph: events written in random order and batches, links one call each or in
    batches, nodes of two types per kind. Returns the numbers of artifacts and executions."""
    n_art, n_exe = rnd.randint(3, 10), rnd.randint(2, 6)
    events = {
        (a, x, rnd.choice(EVENT_TYPES))
        for x in range(n_exe)
        for a in rnd.sample(range(n_art), min(n_art, rnd.randint(1, 4)))
    }
    ordered = sorted(events)
    rnd.shuffle(ordered)
    attributions = sorted({(rnd.randrange(n_art), rnd.randrange(3)) for _ in range(6)})
    associations = sorted({(rnd.randrange(n_exe), rnd.randrange(3)) for _ in range(6)})
    rnd.shuffle(attributions)
    rnd.shuffle(associations)
    at = [b.call("put_artifact_type", pb.ArtifactType(name=f"A{i}")) for i in range(2)]
    et = [b.call("put_execution_type", pb.ExecutionType(name=f"X{i}")) for i in range(2)]
    ct = b.call("put_context_type", pb.ContextType(name="C"))
    a = b.call("put_artifacts", [pb.Artifact(type_id=at[i % 2], uri=f"/{i}") for i in range(n_art)])
    x = b.call("put_executions", [pb.Execution(type_id=et[i % 2]) for i in range(n_exe)])
    c = b.call("put_contexts", [pb.Context(type_id=ct, name=f"c{i}") for i in range(3)])
    while ordered:
        batch = ordered[: rnd.randint(1, 3)]
        ordered = ordered[len(batch) :]
        b.call("put_events", [E(artifact_id=a[i], execution_id=x[j], type=t) for i, j, t in batch])
    while attributions or associations:
        k = rnd.randint(1, 2)
        attr, attributions = attributions[:k], attributions[k:]
        assoc, associations = associations[: 3 - k], associations[3 - k :]
        b.call(
            "put_attributions_and_associations",
            [pb.Attribution(artifact_id=a[i], context_id=c[j]) for i, j in attr],
            [pb.Association(execution_id=x[i], context_id=c[j]) for i, j in assoc],
        )
    return n_art, n_exe


def _random_options(rnd: random.Random, n_art: int, n_exe: int) -> Any:
    options = Q()
    if rnd.random() < 0.5:
        first = rnd.randint(1, n_art)
        options.starting_artifacts.filter_query = rnd.choice([f"id = {first}", f"id <= {first}"])
    else:
        first = rnd.randint(1, n_exe)
        options.starting_executions.filter_query = rnd.choice([f"id = {first}", f"id >= {first}"])
    options.direction = rnd.choice([Q.DIRECTION_UNSPECIFIED, Q.UPSTREAM, Q.DOWNSTREAM])
    if rnd.random() < 0.3:
        options.direction = Q.BIDIRECTIONAL
    if rnd.random() < 0.4:
        options.max_num_hops = rnd.randint(0, 4)
    if rnd.random() < 0.2:
        options.ending_artifacts.filter_query = f"id = {rnd.randint(1, n_art)}"
        options.ending_artifacts.include_ending_nodes = rnd.random() < 0.5
    return options


@pytest.mark.parametrize("seed", range(12))
def test_lineage_subgraph_lists_edges_in_mlmds_order(both: Both, seed: int) -> None:
    rnd = random.Random(seed)
    n_art, n_exe = _write_scenario(both, rnd)
    for _ in range(8):
        both.call("get_lineage_subgraph", _random_options(rnd, n_art, n_exe))


def test_an_executions_events_follow_the_write_order_within_a_hop(both: Both) -> None:
    """Execution 1's events were written artifact 3, 1, 2: a walk from artifact 1 lists them so
    at its second hop, not by artifact."""
    at = both.call("put_artifact_type", pb.ArtifactType(name="A"))
    et = both.call("put_execution_type", pb.ExecutionType(name="X"))
    both.call("put_artifacts", [pb.Artifact(type_id=at) for _ in range(3)])
    both.call("put_executions", [pb.Execution(type_id=et)])
    for a, t in ((3, E.OUTPUT), (1, E.INPUT), (2, E.OUTPUT)):
        both.call("put_events", [E(artifact_id=a, execution_id=1, type=t)])
    options = Q(starting_artifacts=Q.StartingNodes(filter_query="id = 1"))
    graph = both.call("get_lineage_subgraph", options)
    assert [e.artifact_id for e in graph.events] == [1, 3, 2]


def test_links_come_in_write_order_and_links_stored_before_it_was_kept_first(
    store: LineageStore,
) -> None:
    ours = MetadataStore(store)
    at = ours.put_artifact_type(pb.ArtifactType(name="A"))
    et = ours.put_execution_type(pb.ExecutionType(name="X"))
    ct = ours.put_context_type(pb.ContextType(name="C"))
    a = ours.put_artifacts([pb.Artifact(type_id=at) for _ in range(3)])
    [x] = ours.put_executions([pb.Execution(type_id=et)])
    c = ours.put_contexts([pb.Context(type_id=ct, name=f"c{i}") for i in range(3)])
    ours.put_events([E(artifact_id=i, execution_id=x, type=E.INPUT) for i in a])
    ours.put_attributions_and_associations([pb.Attribution(artifact_id=a[2], context_id=c[2])], [])
    store.backend.write("MATCH ()-[l:ATTRIBUTION]->() REMOVE l.seq")  # as an earlier version wrote
    ours.put_attributions_and_associations(
        [
            pb.Attribution(artifact_id=a[1], context_id=c[0]),
            pb.Attribution(artifact_id=a[0], context_id=c[1]),
        ],
        [
            pb.Association(execution_id=x, context_id=c[2]),
            pb.Association(execution_id=x, context_id=c[0]),
        ],
    )
    ours.put_attributions_and_associations([pb.Attribution(artifact_id=a[0], context_id=c[0])], [])
    ours.put_attributions_and_associations([pb.Attribution(artifact_id=a[1], context_id=c[0])], [])
    options = Q(starting_executions=Q.StartingNodes(filter_query=f"id = {x}"))
    graph = ours.get_lineage_subgraph(options)
    # a[2] -> c[2] was stored before the order was kept; writing a[1] -> c[0] again keeps its place.
    assert [(link.artifact_id, link.context_id) for link in graph.attributions] == [
        (a[2], c[2]),
        (a[1], c[0]),
        (a[0], c[1]),
        (a[0], c[0]),
    ]
    assert [(link.execution_id, link.context_id) for link in graph.associations] == [
        (x, c[2]),
        (x, c[0]),
    ]
    # The native API lists them the same way.
    native = store.lineage([NodeRef(NodeKind.EXECUTION, x)], include_contexts=True)
    assert native.attributions == [
        Attribution(artifact_id=i, context_id=j)
        for i, j in ((a[2], c[2]), (a[1], c[0]), (a[0], c[1]), (a[0], c[0]))
    ]
    assert native.associations == [
        Association(execution_id=x, context_id=c[2]),
        Association(execution_id=x, context_id=c[0]),
    ]


def test_the_events_order_is_read_only_for_an_answer_that_lists_events(
    both: Both, store: LineageStore
) -> None:
    """The write order of an execution's events costs a statement: a mask without "events"
    read it for nothing (every such answer, as soon as an execution followed two events)."""
    at = both.call("put_artifact_type", pb.ArtifactType(name="A"))
    et = both.call("put_execution_type", pb.ExecutionType(name="X"))
    a = both.call("put_artifacts", [pb.Artifact(type_id=at) for _ in range(3)])
    [x] = both.call("put_executions", [pb.Execution(type_id=et)])
    both.call(
        "put_events",
        [
            E(artifact_id=a[0], execution_id=x, type=E.INPUT),
            E(artifact_id=a[2], execution_id=x, type=E.OUTPUT),
            E(artifact_id=a[1], execution_id=x, type=E.OUTPUT),
        ],
    )
    options = Q(starting_artifacts=Q.StartingNodes(filter_query=f"id = {a[0]}"), max_num_hops=2)
    for mask, reads_order in ((["events"], True), (["artifacts", "executions"], False)):
        with reads_of(store) as names:
            both.call("get_lineage_subgraph", options, mask)
        assert ("events/get_by_execution_ids" in names) is reads_order, (mask, names)


def test_the_links_are_read_only_for_an_answer_that_lists_them_or_their_contexts(
    both: Both, store: LineageStore
) -> None:
    """The nodes' context links cost a statement (lineage/links): a mask without contexts,
    context types, attributions or associations read them for nothing."""
    at = both.call("put_artifact_type", pb.ArtifactType(name="A"))
    et = both.call("put_execution_type", pb.ExecutionType(name="X"))
    ct = both.call("put_context_type", pb.ContextType(name="C"))
    a = both.call("put_artifacts", [pb.Artifact(type_id=at) for _ in range(2)])
    [x] = both.call("put_executions", [pb.Execution(type_id=et)])
    [c] = both.call("put_contexts", [pb.Context(type_id=ct, name="c")])
    both.call("put_events", [E(artifact_id=i, execution_id=x, type=E.INPUT) for i in a])
    both.call(
        "put_attributions_and_associations",
        [pb.Attribution(artifact_id=a[1], context_id=c)],
        [pb.Association(execution_id=x, context_id=c)],
    )
    options = Q(starting_artifacts=Q.StartingNodes(filter_query=f"id = {a[0]}"))
    for mask, reads_links in (
        (["events", "artifacts", "executions", "artifact_types"], False),
        (["context_types"], True),
        (["associations"], True),
        ([], True),
    ):
        with reads_of(store) as names:
            both.call("get_lineage_subgraph", options, mask)
        assert ("lineage/links" in names) is reads_links, (mask, names)
