"""The commands reading a store holding a value written around the library (another tool, a
hand-made Cypher statement): a one-line error naming the node and the field, exit 5 (ERROR), not
exit 70 with "an unexpected error (a defect of lineage-graph)" and a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage_graph import LineageStore
from lineage_graph import models as m
from lineage_graph.cli._common import ExitCode
from tests.cli.conftest import invoke


@pytest.fixture
def corrupt(tmp_path: Path) -> Iterator[tuple[Path, LineageStore, dict[str, int]]]:
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(m.ArtifactType(name="D"))
        store.put_execution_type(m.ExecutionType(name="T"))
        store.put_context_type(m.ContextType(name="R"))
        [a] = store.put_artifacts([m.Artifact(type="D", uri="u")])
        [e] = store.put_executions([m.Execution(type="T")])
        [c] = store.put_contexts([m.Context(type="R", name="c1")])
        store.put_events([m.Event(artifact_id=a, execution_id=e, type=m.EventType.OUTPUT)])
        store.put_attributions_and_associations(
            [m.Attribution(artifact_id=a, context_id=c)],
            [m.Association(execution_id=e, context_id=c)],
        )
        yield path, store, {"artifact": a, "execution": e, "context": c}


@pytest.mark.parametrize(
    ("statement", "named", "commands"),
    [
        (
            "MATCH (n:Artifact) SET n.state = [1]",
            "Artifact 1: the store holds list [1] in state",
            [
                ["ls", "artifacts"],
                ["show", "artifact:1"],
                ["show", "context:1"],
                ["export"],
                ["export", "execution:1"],
                ["downstream", "execution:1"],
            ],
        ),
        (
            "MATCH ()-[r:EVENT]->() SET r.type = [4]",
            "Event (1, 1): the store holds list [4] in type",
            [["show", "artifact:1"], ["export"], ["upstream", "artifact:1"]],
        ),
        (
            "MATCH (t:ArtifactType) SET t.pt__x = 'INT'",
            "ArtifactType 1: the store holds str 'INT' in properties.'x'",
            [["ls", "types"]],
        ),
    ],
)
def test_a_value_written_around_the_library_is_a_one_line_error(
    corrupt: tuple[Path, LineageStore, dict[str, int]],
    statement: str,
    named: str,
    commands: list[list[str]],
) -> None:
    path, store, _ = corrupt
    store.backend.write(statement)
    for command in commands:
        result = invoke([*command, "--store", str(path)])
        assert result.exit_code == ExitCode.ERROR, (command, result.output)
        assert named in " ".join(result.stderr.split()), (command, result.stderr)
        assert "Traceback" not in result.output
