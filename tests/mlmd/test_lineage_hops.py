"""The one deliberate difference of get_lineage_subgraph: no 100-hop cap."""

from __future__ import annotations

from typing import Any

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from .conftest import Both

pytest.importorskip("lineage_graph.mlmd._listing")

Q = pb.LineageSubgraphQueryOptions


def _chain(b: Both, steps: int) -> None:
    """a0 -> e0 -> a1 -> e1 -> ... -> a<steps>, written in one call on both stores."""
    at = b.call("put_artifact_type", pb.ArtifactType(name="D"))
    et = b.call("put_execution_type", pb.ExecutionType(name="S"))
    arts = [pb.Artifact(type_id=at, uri=f"a{i}") for i in range(steps + 1)]
    execs = [pb.Execution(type_id=et) for _ in range(steps)]
    edges: list[Any] = []
    for i in range(steps):
        edges.append((i, i, pb.Event(type=pb.Event.INPUT)))
        edges.append((i, i + 1, pb.Event(type=pb.Event.OUTPUT)))
    b.call("put_lineage_subgraph", execs, arts, [], edges)


def _sizes(graph: Any) -> tuple[int, int]:
    return len(graph.artifacts), len(graph.executions)


@pytest.mark.slow
def test_max_num_hops_is_not_capped_at_100(both: Both) -> None:
    _chain(both, 60)  # 120 hops from a0 to a60
    options = Q(starting_artifacts=Q.StartingNodes(filter_query="uri = 'a0'"))
    options.direction = Q.DOWNSTREAM
    options.max_num_hops = 120
    assert _sizes(both.ref.get_lineage_subgraph(options)) == (51, 50)  # MLMD: capped at 100
    assert _sizes(both.ours.get_lineage_subgraph(options)) == (61, 60)  # ours: all 120 hops
    options.ClearField("max_num_hops")  # unset: MLMD 100, ours unbounded
    assert _sizes(both.ref.get_lineage_subgraph(options)) == (51, 50)
    assert _sizes(both.ours.get_lineage_subgraph(options)) == (61, 60)
    options.max_num_hops = 100  # within the cap both agree
    both.call("get_lineage_subgraph", options)


def test_every_starting_node_is_walked_from_not_the_first_101(both: Both) -> None:
    """ml_metadata 1.17.1 starts its walk from the first 101 nodes the filter selects, by id
    (of 150 artifacts selected from the 21st on, it returned 21-121), and says nothing of the
    rest; the adapter starts from every one (D1). With at most 101 selected both agree."""
    at = both.call("put_artifact_type", pb.ArtifactType(name="D"))
    et = both.call("put_execution_type", pb.ExecutionType(name="S"))
    both.call("put_artifacts", [pb.Artifact(type_id=at, uri=f"a{i}") for i in range(170)])
    both.call("put_executions", [pb.Execution(type_id=et)])
    edges = [pb.Event(artifact_id=170, execution_id=1, type=pb.Event.INPUT)]
    both.call("put_events", edges)
    options = Q(starting_artifacts=Q.StartingNodes(filter_query="id > 20"), max_num_hops=1)
    ref = both.ref.get_lineage_subgraph(options)
    assert [a.id for a in ref.artifacts] == list(range(21, 122)) and not ref.executions
    ours = both.ours.get_lineage_subgraph(options)
    assert [a.id for a in ours.artifacts] == list(range(21, 171))
    assert [x.id for x in ours.executions] == [1]  # reached from the 150th start
    options.starting_artifacts.filter_query = "id > 69"  # 101 starts: the same answer
    both.call("get_lineage_subgraph", options)
