"""The MLMD adapter reading a value written around the library (another tool, a hand-made
Cypher statement): MLMD's ``InternalError``, as MLMD raises for a stored property row it cannot
read (1.17.1, measured: "Attempt to populate property with null value in every known *_value
column"), naming the node and the field; never pydantic's ValidationError mapped to
InvalidArgumentError (the caller's arguments were fine) nor a bare TypeError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("ml_metadata")

from ml_metadata import errors
from ml_metadata.metadata_store.metadata_store import ListOptions
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import LineageStore
from lineage_graph.mlmd import MetadataStore


def _seed(ours: MetadataStore) -> tuple[int, int, int]:
    t = ours.put_artifact_type(pb.ArtifactType(name="D", properties={"day": pb.INT}))
    et = ours.put_execution_type(pb.ExecutionType(name="T"))
    ct = ours.put_context_type(pb.ContextType(name="R"))
    artifact = pb.Artifact(type_id=t, uri="u", name="a1")
    artifact.properties["day"].int_value = 3
    [a] = ours.put_artifacts([artifact])
    [e] = ours.put_executions([pb.Execution(type_id=et)])
    [c] = ours.put_contexts([pb.Context(type_id=ct, name="c1")])
    ours.put_events([pb.Event(artifact_id=a, execution_id=e, type=pb.Event.OUTPUT)])
    ours.put_attributions_and_associations(
        [pb.Attribution(artifact_id=a, context_id=c)],
        [pb.Association(execution_id=e, context_id=c)],
    )
    return a, e, c


Call = Callable[[MetadataStore, int, int, int], Any]


@pytest.mark.parametrize(
    ("statement", "named", "calls"),
    [
        (
            "MATCH (n:Artifact) SET n.state = [1]",
            "Artifact",
            [
                lambda o, a, e, c: o.get_artifacts_by_id([a]),
                lambda o, a, e, c: o.get_artifacts(),
                lambda o, a, e, c: o.get_artifacts_by_type("D"),
                lambda o, a, e, c: o.get_artifact_by_type_and_name("D", "a1"),
                lambda o, a, e, c: o.get_artifacts_by_context(c),
                lambda o, a, e, c: o.get_artifacts(
                    list_options=ListOptions(filter_query="uri = 'u'")
                ),
            ],
        ),
        (
            "MATCH (n:Artifact) SET n.pi__day = 'three'",
            "properties.'day'",
            [lambda o, a, e, c: o.get_artifacts_by_id([a])],
        ),
        (
            "MATCH (n:Execution) SET n.last_known_state = 99",
            "last_known_state",
            [
                lambda o, a, e, c: o.get_executions_by_id([e]),
                lambda o, a, e, c: o.get_executions_by_context(c),
            ],
        ),
        (
            "MATCH (n:Context) SET n.name = 5",
            "Context",
            [
                lambda o, a, e, c: o.get_contexts(),
                lambda o, a, e, c: o.get_contexts_by_artifact(a),
            ],
        ),
        (
            "MATCH ()-[r:EVENT]->() SET r.type = [4]",
            "Event",
            [
                lambda o, a, e, c: o.get_events_by_execution_ids([e]),
                lambda o, a, e, c: o.get_events_by_artifact_ids([a]),
                lambda o, a, e, c: o.get_lineage_subgraph(
                    pb.LineageSubgraphQueryOptions(
                        starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(
                            filter_query=f"id = {a}"
                        ),
                        max_num_hops=2,
                    )
                ),
            ],
        ),
        (
            "MATCH (t:ArtifactType) WHERE t.name = 'D' SET t.pt__day = 'INT'",
            "ArtifactType",
            [
                lambda o, a, e, c: o.get_artifact_types(),
                lambda o, a, e, c: o.get_artifact_type("D"),
            ],
        ),
    ],
)
def test_a_value_written_around_the_library_is_mlmds_internal_error(
    store: LineageStore, statement: str, named: str, calls: list[Call]
) -> None:
    ours = MetadataStore(store)
    a, e, c = _seed(ours)
    store.backend.write(statement)
    store._types.forget()  # (another process wrote it: this one had the types cached)
    for call in calls:
        with pytest.raises(errors.InternalError, match=named) as caught:
            call(ours, a, e, c)
        assert "written around the library" in str(caught.value)


def test_a_value_of_another_kind_than_declared_is_read_as_mlmd_reads_it(
    store: LineageStore, tmp_path: Any
) -> None:
    """A declared property holding a well-formed value of another kind than its type declares
    (another writer put a str where the type says INT) is read as stored, as ml_metadata 1.17.1
    reads such a row of its database (measured here on SQLite, the column changed by hand):
    neither converted nor refused, so it can be read and fixed; putting it back as read is
    InvalidArgumentError "found unmatched property type" in both."""
    import sqlite3

    from ml_metadata.metadata_store import metadata_store

    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "mlmd.sqlite")
    stores = {"mlmd": metadata_store.MetadataStore(config), "ours": MetadataStore(store)}
    ids = {name: _seed(s)[0] for name, s in stores.items()}  # type: ignore[arg-type]
    with sqlite3.connect(config.sqlite.filename_uri) as db:
        db.execute("UPDATE ArtifactProperty SET int_value = NULL, string_value = 'three'")
    store.backend.write("MATCH (n:Artifact) SET n.ps__day = 'three' REMOVE n.pi__day")
    for name, s in stores.items():
        [read] = s.get_artifacts_by_id([ids[name]])
        assert read.properties["day"].WhichOneof("value") == "string_value", name
        assert read.properties["day"].string_value == "three", name
        with pytest.raises(errors.InvalidArgumentError, match=r"(?i)unmatched property type"):
            s.put_artifacts([read])
