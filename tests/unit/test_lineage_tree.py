"""The command line's lineage tree (``lineage-graph upstream`` / ``downstream``), built from a
lineage answer's nodes and events, without an engine."""

from __future__ import annotations

from types import SimpleNamespace

from lineage_graph import Artifact, Event, EventType, Execution
from lineage_graph.cli._render import lineage_tree


def test_a_dataset_read_by_40000_executions_makes_a_tree_of_40000_branches() -> None:
    """Each node's next nodes are deduplicated as the events are read: a list searched for each
    event made it quadratic in a node's events (30,000 readers: 7.2 s, 40,000: ~13 s; now ~1 s).
    Every reader appears once, with its output, and an event repeated (the same reader recorded
    twice) adds no branch."""
    n = 40_000
    source = Artifact(id=1, type="DataSet", uri="/data")
    outputs = [Artifact(id=i + 2, type="DataSet", uri=f"/out/{i}") for i in range(n)]
    readers = [Execution(id=i + 1, type="Step") for i in range(n)]
    events = [
        *(Event(artifact_id=1, execution_id=i + 1, type=EventType.INPUT) for i in range(n)),
        *(Event(artifact_id=i + 2, execution_id=i + 1, type=EventType.OUTPUT) for i in range(n)),
        Event(artifact_id=1, execution_id=1, type=EventType.DECLARED_INPUT),
    ]
    graph = SimpleNamespace(artifacts=[source, *outputs], executions=readers, events=events)
    tree = lineage_tree(graph, source, upstream=False)
    assert len(tree.children) == n
    assert all(len(branch.children) == 1 for branch in tree.children)
    first, last = tree.children[0], tree.children[-1]
    assert "#1" in str(first.label) and f"#{n}" in str(last.label)
    assert f"#{n + 1}" in str(last.children[0].label)
