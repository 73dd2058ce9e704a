"""The MLMD importer: a SQLite store written by real ml_metadata, copied and compared entity by
entity (ids, times, properties of every kind, events with paths, links, parent contexts); the
empty-target rule, merge re-runs, and the ``import-mlmd`` command in-process."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ml_metadata")

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb
from typer.testing import CliRunner

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    Execution,
    ExecutionType,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    NotFoundError,
    ParentContext,
    PropertyType,
)
from lineage_graph.cli import app
from lineage_graph.cli.import_mlmd import parse_source
from lineage_graph.mlmd import _import_links, _importer
from lineage_graph.mlmd._convert import to_node, to_type
from lineage_graph.mlmd._importer import import_mlmd


def _value(target: Any, name: str, value: Any) -> None:
    v = target[name]
    if isinstance(value, bool):
        v.bool_value = value
    elif isinstance(value, int):
        v.int_value = value
    elif isinstance(value, float):
        v.double_value = value
    elif isinstance(value, str):
        v.string_value = value
    elif isinstance(value, dict):
        v.struct_value.update(value)
    else:  # a proto: pack a ParentContext as an Any
        v.proto_value.Pack(value)


def _mlmd_sqlite(path: Path) -> Any:
    """A read-write ml_metadata store on the SQLite file ``path`` (created if missing)."""
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


def write_mlmd_sqlite(path: Path) -> None:
    """A small but complete MLMD store, written by ml_metadata itself."""
    store = _mlmd_sqlite(path)

    dataset = pb.ArtifactType(name="DataSet", description="rows", external_id="t-ds")
    for name, kind in [
        ("day", pb.INT),
        ("split", pb.STRING),
        ("score", pb.DOUBLE),
        ("meta", pb.STRUCT),
        ("blob", pb.PROTO),
        ("ok", pb.BOOLEAN),
    ]:
        dataset.properties[name] = kind
    dataset.base_type = pb.ArtifactType.DATASET
    ds = store.put_artifact_type(dataset)
    model_v2 = store.put_artifact_type(pb.ArtifactType(name="Model", version="v2"))
    trainer = pb.ExecutionType(name="Trainer", base_type=pb.ExecutionType.TRAIN)
    trainer.properties["lr"] = pb.DOUBLE
    tr = store.put_execution_type(trainer)
    exp_type = pb.ContextType(name="Experiment")
    exp_type.properties["owner"] = pb.STRING
    exp = store.put_context_type(exp_type)

    artifacts = []
    for i in range(5):
        a = pb.Artifact(type_id=ds, uri=f"/data/{i}", state=pb.Artifact.LIVE)
        if i % 2:
            a.name = f"ds{i}"
        for name, value in [
            ("day", i - 2),
            ("split", "tr\u00e9in"),
            ("score", 0.1 * i),
            ("meta", {"rows": i, "tags": ["a", "b"]}),
            ("ok", i % 2 == 0),
        ]:
            _value(a.properties, name, value)
        _value(a.properties, "blob", pb.ParentContext(child_id=i, parent_id=i + 1))
        _value(a.custom_properties, "my prop`%", f"v{i}")
        artifacts.append(a)
    artifacts.append(pb.Artifact(type_id=model_v2, uri="gs://m", external_id="model-1"))
    store.put_artifacts(artifacts)
    e1 = pb.Execution(type_id=tr, name="run1", last_known_state=pb.Execution.COMPLETE)
    _value(e1.properties, "lr", 0.001)
    _value(e1.custom_properties, "seed", 7)
    e2 = pb.Execution(type_id=tr, last_known_state=pb.Execution.FAILED, external_id="ex-2")
    store.put_executions([e1, e2])
    contexts = [pb.Context(type_id=exp, name=name) for name in ("exp1", "exp2", "root")]
    _value(contexts[0].properties, "owner", "ann")
    store.put_contexts(contexts)

    def event(a: int, e: int, t: int, path: list[Any]) -> Any:
        ev = pb.Event(artifact_id=a, execution_id=e, type=t)
        for step in path:
            if isinstance(step, str):
                ev.path.steps.add(key=step)
            else:
                ev.path.steps.add(index=step)
        return ev

    store.put_events(
        [
            event(1, 1, pb.Event.INPUT, ["train", 0]),
            event(2, 1, pb.Event.DECLARED_INPUT, []),
            event(6, 1, pb.Event.OUTPUT, ["model"]),
            event(6, 2, pb.Event.INPUT, [3]),
            event(3, 2, pb.Event.OUTPUT, []),
        ]
    )
    store.put_attributions_and_associations(
        [pb.Attribution(artifact_id=a, context_id=c) for a, c in [(1, 1), (6, 1), (6, 2)]],
        [pb.Association(execution_id=e, context_id=c) for e, c in [(1, 1), (2, 2)]],
    )
    store.put_parent_contexts(
        [pb.ParentContext(child_id=1, parent_id=3), pb.ParentContext(child_id=2, parent_id=3)]
    )


@pytest.fixture(scope="module")
def mlmd_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mlmd") / "mlmd.sqlite"
    write_mlmd_sqlite(path)
    return path


def open_reader(path: Path) -> Any:
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def snapshot(store: LineageStore) -> dict[str, Any]:
    """Everything observable in ``store``, as plain data."""
    nodes = {
        "artifacts": [a.model_dump() for a in store.get_artifacts()],
        "executions": [e.model_dump() for e in store.get_executions()],
        "contexts": [c.model_dump() for c in store.get_contexts()],
    }
    artifact_ids = [a["id"] for a in nodes["artifacts"]]
    context_ids = [c["id"] for c in nodes["contexts"]]
    return {
        **nodes,
        "types": {k.value: [t.model_dump() for t in store.get_types(k)] for k in NodeKind},
        "events": sorted(
            e.model_dump_json() for e in store.get_events_by_artifact_ids(artifact_ids)
        ),
        "links": [
            (
                c,
                sorted(a.id or 0 for a in store.get_artifacts_by_context(c)),
                sorted(e.id or 0 for e in store.get_executions_by_context(c)),
                sorted(p.id or 0 for p in store.get_parent_contexts_by_context(c)),
            )
            for c in context_ids
        ],
    }


def test_import_copies_every_entity_and_relation(mlmd_file: Path, store: LineageStore) -> None:
    seen: list[tuple[str, int, int]] = []
    report = import_mlmd(
        str(mlmd_file), store, progress=lambda stage, done, total: seen.append((stage, done, total))
    )
    ref = open_reader(mlmd_file)
    assert report.ids_preserved
    assert report.counts() == {
        "types": 4 + 9,  # and MLMD's nine system types, used or not (their ids: 1-9)
        "artifacts": 6,
        "executions": 2,
        "contexts": 3,
        "events": 5,
        "attributions": 3,
        "associations": 2,
        "parent_contexts": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped_relations": 0,
    }
    assert {stage for stage, _, _ in seen} >= {"types", "artifacts", "executions", "contexts"}
    assert all(done <= total for _, done, total in seen)

    # Types: same ids (MLMD's start at 10), properties, base type, version, external id.
    # (get_*_types() leaves external_id out in ml_metadata: the expected types are read by id.)
    for kind, get_all, get_by_id in [
        (NodeKind.ARTIFACT, ref.get_artifact_types, ref.get_artifact_types_by_id),
        (NodeKind.EXECUTION, ref.get_execution_types, ref.get_execution_types_by_id),
        (NodeKind.CONTEXT, ref.get_context_types, ref.get_context_types_by_id),
    ]:
        got = sorted(store.get_types(kind), key=lambda t: t.id or 0)
        visible = {t.id for t in get_all()}  # the system types (mlmd.*) are hidden there
        assert visible <= {t.id for t in got}
        assert all(t.name.startswith("mlmd.") for t in got if t.id not in visible)
        listed = get_by_id([t.id for t in got])
        expected = sorted((to_type(kind, t) for t in listed), key=lambda t: t.id or 0)
        assert [t.model_dump() for t in got] == [t.model_dump() for t in expected]
    [dataset] = store.get_types_by_external_ids(NodeKind.ARTIFACT, ["t-ds"])
    assert dataset.name == "DataSet"
    assert [t.id for t in store.get_types_by_id(NodeKind.ARTIFACT, [1, 2])] == [1, 2]
    assert store.get_type(NodeKind.ARTIFACT, "mlmd.Model").id == 2

    # Nodes: every field, including times, under the same ids.
    for kind, theirs, ours in [
        (NodeKind.ARTIFACT, ref.get_artifacts(), store.get_artifacts()),
        (NodeKind.EXECUTION, ref.get_executions(), store.get_executions()),
        (NodeKind.CONTEXT, ref.get_contexts(), store.get_contexts()),
    ]:
        assert len(ours) == len(theirs)
        for msg, node in zip(sorted(theirs, key=lambda m: m.id), ours, strict=True):
            expected = to_node(kind, msg).model_dump(exclude={"type", "type_version"})
            got = node.model_dump(exclude={"type", "type_version"})
            expected["create_time_since_epoch"] = msg.create_time_since_epoch
            expected["last_update_time_since_epoch"] = msg.last_update_time_since_epoch
            assert got == expected
            assert node.type == msg.type

    # Events with their paths and times.
    def event_key(e: Any) -> tuple[Any, ...]:
        path = [s.key if s.WhichOneof("value") == "key" else s.index for s in e.path.steps]
        return (e.artifact_id, e.execution_id, int(e.type), path, e.milliseconds_since_epoch)

    ids = [a.id for a in ref.get_artifacts()]
    assert sorted(map(event_key, ref.get_events_by_artifact_ids(ids))) == sorted(
        (e.artifact_id, e.execution_id, int(e.type), list(e.path), e.milliseconds_since_epoch)
        for e in store.get_events_by_artifact_ids(ids)
    )

    # Attributions, associations, parent and child contexts.
    for c in ref.get_contexts():
        assert sorted(a.id for a in ref.get_artifacts_by_context(c.id)) == sorted(
            a.id or 0 for a in store.get_artifacts_by_context(c.id)
        )
        assert sorted(e.id for e in ref.get_executions_by_context(c.id)) == sorted(
            e.id or 0 for e in store.get_executions_by_context(c.id)
        )
        assert sorted(p.id for p in ref.get_parent_contexts_by_context(c.id)) == sorted(
            p.id or 0 for p in store.get_parent_contexts_by_context(c.id)
        )
        assert sorted(p.id for p in ref.get_children_contexts_by_context(c.id)) == sorted(
            p.id or 0 for p in store.get_children_contexts_by_context(c.id)
        )

    # The store keeps working after the import: the next ids follow MLMD's.
    from lineage_graph import Artifact

    assert store.put_artifacts([Artifact(type="Model", type_version="v2")]) == [7]


def test_a_non_empty_store_is_refused_unless_merging(mlmd_file: Path, store: LineageStore) -> None:
    store.put_artifact_type(ArtifactType(name="Other"))
    store.put_context_type(ContextType(name="Experiment"))  # without MLMD's "owner" property
    (mine,) = store.put_contexts([Context(type="Experiment", name="exp1")])
    before = snapshot(store)
    with pytest.raises(FailedPreconditionError, match="merge"):
        import_mlmd(mlmd_file, store)
    assert snapshot(store) == before
    report = import_mlmd(mlmd_file, store, merge=True)
    assert report.artifacts == 6 and not report.ids_preserved
    assert report.id_map["ArtifactType"][10] != 10  # "Other" took the first type id
    assert (
        report.updated + report.unchanged == 1
    )  # exp1 is (type, name)-unique: the existing one is reused
    assert report.id_map["Context"][1] == mine
    assert len(store.get_artifacts()) == 6 and len(store.get_contexts()) == 3
    assert store.get_context_type("Experiment").properties == {"owner": PropertyType.STRING}
    exp1 = store.get_context_by_type_and_name("Experiment", "exp1")
    assert exp1 is not None and exp1.properties == {"owner": "ann"}
    assert sorted(a.uri or "" for a in store.get_artifacts_by_context(mine)) == [
        "/data/0",
        "gs://m",
    ]


def test_re_running_with_merge_changes_nothing(mlmd_file: Path, store: LineageStore) -> None:
    import_mlmd(mlmd_file, store)
    before = snapshot(store)
    report = import_mlmd(mlmd_file, store, merge=True)
    assert (report.updated, report.unchanged) == (0, 6 + 2 + 3)  # was "updated 11"
    # events, attributions, associations and parent links already there
    assert report.skipped_relations == 5 + 3 + 2 + 2
    assert report.attributions == report.associations == 0
    assert snapshot(store) == before


def test_a_file_uri_is_its_path(mlmd_file: Path, store: LineageStore) -> None:
    assert import_mlmd(f"file:{mlmd_file}", store).artifacts == 6


@pytest.mark.parametrize("name", ["./sub/../mlmd.sqlite", "file:./sub/../mlmd.sqlite"])
def test_a_dotdot_after_a_folder_that_does_not_exist_is_read_as_sqlite_reads_it(
    mlmd_file: Path, store: LineageStore, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """ml_metadata opens ``./sub/../m.db`` (``./m.db``) when there is no folder ``sub``; the
    import refused the same name as a ConnectionConfig: "no MLMD SQLite file"."""
    monkeypatch.chdir(mlmd_file.parent)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = name
    assert [t.name for t in open_reader(name).get_artifact_types()] == ["DataSet", "Model"]
    assert import_mlmd(config, store).artifacts == 6
    assert not (mlmd_file.parent / "sub").exists()


def test_bad_sources(store: LineageStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        import_mlmd(tmp_path / "missing.sqlite", store)
    with pytest.raises(Exception, match="source must be"):
        import_mlmd(42, store)


def test_bad_merge_and_progress_arguments_change_nothing(
    mlmd_file: Path, store: LineageStore
) -> None:
    """merge="no" merged (any non-empty string is true); a progress that is no callable failed
    with TypeError at the first report, after writes."""
    store.put_artifact_type(ArtifactType(name="Own"))
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match="merge is True or False"):
        import_mlmd(mlmd_file, store, merge="no")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="progress is a callable"):
        import_mlmd(mlmd_file, store, merge=True, progress=5)  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_parse_source(tmp_path: Path) -> None:
    assert parse_source("/x/mlmd.sqlite") == "/x/mlmd.sqlite"
    # SQLAlchemy's form (MLMD's and Kubeflow's users write it): three slashes and a relative
    # path, four for an absolute one. sqlite:///x/mlmd.sqlite was taken for /x/mlmd.sqlite.
    assert parse_source("sqlite:///x/mlmd.sqlite") == "x/mlmd.sqlite"
    assert parse_source("sqlite:///mlmd.sqlite") == "mlmd.sqlite"
    assert parse_source("sqlite:////x/mlmd.sqlite") == "/x/mlmd.sqlite"
    assert parse_source("SQLite:////x/mlmd.sqlite") == "/x/mlmd.sqlite"
    for no_file in ("sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite://host/x.db"):
        with pytest.raises(InvalidArgumentError, match="names no SQLite file"):
            parse_source(no_file)
    with pytest.raises(InvalidArgumentError, match="no query options"):
        parse_source("sqlite:///x.db?mode=ro")
    config = parse_source("mysql://me:p%40ss@db.example:3307/meta")
    assert (config.mysql.host, config.mysql.port, config.mysql.database) == (
        "db.example",
        3307,
        "meta",
    )
    assert (config.mysql.user, config.mysql.password) == ("me", "p@ss")
    # the database percent-decoded too, as the user and the password: it was "m%C3%A9ta%20db"
    config = parse_source("mysql://me%3A1:p%3As@[::1]:3307/m%C3%A9ta%20db")
    assert (config.mysql.host, config.mysql.port, config.mysql.database) == ("::1", 3307, "méta db")
    assert (config.mysql.user, config.mysql.password) == ("me:1", "p:s")
    for nul in ("mysql://h/db%00x", "mysql://me:p%00s@h/db", "mysql://m%00e@h/db"):
        with pytest.raises(InvalidArgumentError, match="no NUL character"):
            parse_source(nul)
    text = tmp_path / "conn.pbtxt"
    text.write_text('sqlite { filename_uri: "/tmp/m.db" }')
    assert parse_source(str(text)).sqlite.filename_uri == "/tmp/m.db"
    # a missing ConnectionConfig file is not found (exit 3), as a missing SQLite file is (it
    # was InvalidArgumentError, exit 5); one that does not parse stays InvalidArgumentError
    with pytest.raises(NotFoundError, match="no ConnectionConfig file at"):
        parse_source(str(tmp_path / "missing.pbtxt"))
    text.write_text("sqlite { filename_uri: ")
    with pytest.raises(InvalidArgumentError, match="cannot read the ConnectionConfig"):
        parse_source(str(text))


# ------------------------------------------------------------------------------------------ CLI


def _cli(*args: str) -> Any:
    env = {"COLUMNS": "200", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None, "NO_COLOR": "1"}
    return CliRunner().invoke(app, list(args), env=env)


def test_cli_imports_then_refuses_then_merges(mlmd_file: Path, tmp_path: Path) -> None:
    target = str(tmp_path / "store")
    result = _cli("import-mlmd", str(mlmd_file), "--store", target, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["artifacts"] == 6 and report["events"] == 5 and report["ids_preserved"]

    result = _cli("import-mlmd", str(mlmd_file), "--store", target)
    assert result.exit_code == 5, result.output
    assert "--merge" in result.stderr

    result = _cli("import-mlmd", str(mlmd_file), "--store", target, "--merge")
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.stdout and "11" in result.stdout

    result = _cli("import-mlmd", str(tmp_path / "nope.sqlite"), "--store", target)
    assert result.exit_code == 3, result.output
    with LineageStore.open(target) as store:
        assert len(store.get_artifacts()) == 6


def test_a_billion_wide_id_gap_is_kept_in_constant_memory(tmp_path: Path) -> None:
    """MLMD's ids jump by 10^9 (AUTOINCREMENT moved on): the import keeps every id and the next
    one, skipping the gap without listing it (it once allocated the gap as a list: ~38 GB)."""
    import sqlite3

    path = tmp_path / "gap.sqlite"
    ref = _mlmd_sqlite(path)
    t = ref.put_artifact_type(pb.ArtifactType(name="D"))
    ref.put_artifacts([pb.Artifact(type_id=t, uri="a"), pb.Artifact(type_id=t, uri="b")])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE sqlite_sequence SET seq = 1000000000 WHERE name = 'Artifact'")
    ref.put_artifacts([pb.Artifact(type_id=t, uri="c"), pb.Artifact(type_id=t, uri="d")])
    want = [a.id for a in ref.get_artifacts()]
    assert want == [1, 2, 1_000_000_001, 1_000_000_002]
    with LineageStore.open("memory") as store:
        report = import_mlmd(path, store)
        assert report.ids_preserved
        assert [a.id for a in store.get_artifacts()] == want
        assert store.put_artifacts([Artifact(type="D", uri="e")]) == [1_000_000_003]


@pytest.mark.parametrize(
    "bad",
    [
        pb.Execution(name="run 1 "),  # ASCII whitespace at an end
        pb.Execution(name=""),
        pb.Execution(name="x" * 5000),
        pb.Execution(external_id="a\x01b"),
    ],
    ids=["space", "empty", "long", "u0001"],
)
def test_a_node_the_store_cannot_key_stops_the_import_before_any_write(
    tmp_path: Path, store: LineageStore, bad: Any
) -> None:
    """MLMD accepts these keys, the store cannot hold them: the import names the node and writes
    nothing (it once wrote the types and the nodes before it, and a re-run found a non-empty
    store)."""
    path = tmp_path / "bad.sqlite"
    ref = _mlmd_sqlite(path)
    at = ref.put_artifact_type(pb.ArtifactType(name="D"))
    et = ref.put_execution_type(pb.ExecutionType(name="E"))
    ref.put_artifacts([pb.Artifact(type_id=at, uri=f"/{i}") for i in range(3)])
    bad.type_id = et
    [eid] = ref.put_executions([bad])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match=f"MLMD execution {eid} cannot be imported"):
        import_mlmd(path, store)
    assert snapshot(store) == before


def _set_indexed(artifact: Any, where: str, value: str) -> None:
    """Set an MLMD artifact's indexed text: its uri, or its digest property / custom property."""
    if where == "uri":
        artifact.uri = value
    elif where == "property":
        artifact.properties["digest"].string_value = value
    else:
        artifact.custom_properties["digest"].string_value = value


@pytest.mark.parametrize("where", ["uri", "property", "custom"])
def test_an_artifact_the_store_cannot_index_stops_the_import_before_any_write(
    tmp_path: Path, store: LineageStore, where: str
) -> None:
    """A uri or digest over 4,096 bytes: MLMD holds it, no index here can (Neo4j fails the
    write, FalkorDB's index never finds it)."""
    path = tmp_path / "long.sqlite"
    ref = _mlmd_sqlite(path)
    t = pb.ArtifactType(name="D")
    t.properties["digest"] = pb.STRING
    at = ref.put_artifact_type(t)
    ref.put_artifacts([pb.Artifact(type_id=at, uri=f"/{i}") for i in range(3)])
    bad = pb.Artifact(type_id=at, uri="/ok")
    _set_indexed(bad, where, "x" * 4097)
    [aid] = ref.put_artifacts([bad])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match=f"MLMD artifact {aid} cannot be imported"):
        import_mlmd(path, store)
    assert snapshot(store) == before


@pytest.mark.parametrize("where", ["uri", "property", "custom"])
def test_a_merge_keeps_a_long_value_its_copy_already_holds(
    tmp_path: Path, store: LineageStore, where: str
) -> None:
    """A version before the 4,096-byte limit imported a longer uri or digest; merging the same
    MLMD store again updates that copy (the write lets an unchanged stored value stay) instead
    of refusing the whole merge. A long value the copy does not hold is still refused."""
    path = tmp_path / "long.sqlite"
    ref = _mlmd_sqlite(path)
    t = pb.ArtifactType(name="D")
    t.properties["digest"] = pb.STRING
    at = ref.put_artifact_type(t)
    art = pb.Artifact(type_id=at, uri="/short")
    if where == "property":  # not both: MLMD 1.17 updates a custom property of the same name too
        art.properties["digest"].string_value = "d"
    else:
        art.custom_properties["digest"].string_value = "d"
    [aid] = ref.put_artifacts([art])
    report = import_mlmd(path, store)
    copy = report.id_map["Artifact"][aid]
    long = "x" * 4097
    key = {"uri": "uri", "property": "ps__digest", "custom": "cs__digest"}[where]
    [art] = ref.get_artifacts_by_id([aid])
    _set_indexed(art, where, long)
    art.custom_properties["round"].int_value = 2
    ref.put_artifacts([art])
    store.backend.write(  # what the earlier version stored
        f"MATCH (n:Artifact {{id: $id}}) SET n.`{key}` = $v",  # type: ignore[arg-type]
        {"id": copy, "v": long},
        name="test/long_value",
    )
    again = import_mlmd(path, store, merge=True)
    assert again.id_map["Artifact"][aid] == copy
    [got] = store.get_artifacts_by_id([copy])
    assert got.custom_properties["round"] == 2
    stored = {"uri": got.uri, "property": got.properties.get("digest")}.get(
        where, got.custom_properties.get("digest")
    )
    assert stored == long
    art.custom_properties["round"].int_value = 3  # another long value than the copy holds
    _set_indexed(art, where, long + "y")
    ref.put_artifacts([art])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match=f"MLMD artifact {aid} cannot be imported"):
        import_mlmd(path, store, merge=True)
    assert snapshot(store) == before


def test_merging_twice_into_a_used_store_copies_once_and_leaves_its_nodes_alone(
    mlmd_file: Path, store: LineageStore
) -> None:
    """A merge into a store with nodes of its own maps MLMD's ids; a second merge of the same
    store finds what the first copied (each copy records where it came from, and keeps it when
    updated) instead of copying it again, and never takes the target's own nodes for MLMD's
    even when id, type, name and uri coincide (both once happened)."""
    store.put_artifact_type(ArtifactType(name="DataSet"))
    [mine] = store.put_artifacts(
        [Artifact(type="DataSet", uri="/data/0", custom_properties={"owner": "me"})]
    )
    first = import_mlmd(mlmd_file, store, merge=True)
    assert first.updated + first.unchanged == 0 and first.id_map["Artifact"][1] != mine
    [own] = store.get_artifacts_by_id([mine])
    assert own.custom_properties == {"owner": "me"}
    copied = first.id_map["Artifact"][2]
    [node] = store.get_artifacts_by_id([copied])
    store.put_artifacts([node.model_copy(update={"uri": "/moved"})])  # a native update
    before = snapshot(store)
    again = import_mlmd(mlmd_file, store, merge=True)
    assert again.id_map == first.id_map
    assert again.updated + again.unchanged == 6 + 2 + 3
    after = snapshot(store)
    # the re-run rewrote the (found) copy from MLMD
    assert next(a for a in before["artifacts"] if a["id"] == copied)["uri"] == "/moved"
    assert next(a for a in after["artifacts"] if a["id"] == copied)["uri"] != "/moved"
    assert len(after["artifacts"]) == len(before["artifacts"]) == 7


def test_a_merge_after_retention_rewrites_tombstoned_copies_in_place(
    mlmd_file: Path, store: LineageStore
) -> None:
    """A tombstone keeps its origin (an internal property): merging the same MLMD store again
    rewrites it in place from MLMD instead of copying the node a second time (it did: 9
    artifacts for MLMD's 6). A copy retention deleted whole is copied again."""
    from lineage_graph import ArtifactState

    import_mlmd(mlmd_file, store)
    plan = store.plan_retention(kinds=[NodeKind.ARTIFACT], types=["DataSet"])
    assert plan.tombstone_artifacts and plan.delete_artifacts
    store.apply_retention(plan)
    report = import_mlmd(mlmd_file, store, merge=True)
    ref = open_reader(mlmd_file)
    # every copy still there was found (executions and contexts too), the deleted ones were not
    assert (
        report.updated + report.unchanged
        == len(ref.get_artifacts()) - len(plan.delete_artifacts) + 2 + 3
    )
    assert all(report.id_map["Artifact"][i] == i for i in plan.tombstone_artifacts)
    assert len(store.get_artifacts()) == len(ref.get_artifacts())
    for copy, mlmd in zip(
        store.get_artifacts_by_id(plan.tombstone_artifacts),
        ref.get_artifacts_by_id(plan.tombstone_artifacts),
        strict=True,
    ):
        assert (copy.uri, copy.state) == (mlmd.uri, ArtifactState(mlmd.state))
        assert copy.properties == to_node(NodeKind.ARTIFACT, mlmd).properties


def test_a_store_opened_by_the_adapter_counts_as_empty(
    mlmd_file: Path, store: LineageStore
) -> None:
    """The MLMD adapter registers MLMD's system types (ids 1-9) when it opens a store: importing
    into it keeps every MLMD id, and a type created afterwards gets the id MLMD would give."""
    from lineage_graph.mlmd import MetadataStore

    adapter = MetadataStore(store)
    report = import_mlmd(mlmd_file, store)
    assert report.ids_preserved
    ref = open_reader(mlmd_file)
    assert [a.id for a in adapter.get_artifacts()] == [a.id for a in ref.get_artifacts()]
    assert adapter.get_artifact_type("mlmd.Dataset").id == 1
    new = pb.ArtifactType(name="After")
    assert adapter.put_artifact_type(new) == 1 + max(
        t.id
        for t in [*ref.get_artifact_types(), *ref.get_execution_types(), *ref.get_context_types()]
    )


def test_a_merge_recognises_a_copy_made_before_origins_were_recorded(
    mlmd_file: Path, store: LineageStore
) -> None:
    """An import by an earlier version left no ``mlmd_origin``: a merge re-run still finds its
    copies (same id, type, name, uri and MLMD's create time) and changes nothing; the same file
    named by a ``file:`` URI with a query is the same source."""
    import_mlmd(mlmd_file, store)
    store.backend.write(
        "MATCH (n) WHERE n.mlmd_origin IS NOT NULL SET n.mlmd_origin = null", name="test/legacy"
    )
    before = snapshot(store)
    report = import_mlmd(mlmd_file, store, merge=True)
    assert report.updated + report.unchanged == 6 + 2 + 3 and report.ids_preserved
    assert snapshot(store) == before
    again = import_mlmd(f"file://{mlmd_file}?mode=ro", store, merge=True)
    assert again.updated + again.unchanged == 6 + 2 + 3
    assert snapshot(store) == before


def _mlmd_with(tmp_path: Path, fill: Any) -> Path:
    path = tmp_path / "merge.sqlite"
    fill(_mlmd_sqlite(path))
    return path


def _clashing_artifact(ref: Any) -> None:
    t = ref.put_artifact_type(pb.ArtifactType(name="DataSet"))
    ref.put_artifacts([pb.Artifact(type_id=t, uri="/free"), pb.Artifact(type_id=t, name="n")])


def _clashing_execution_external_id(ref: Any) -> None:
    t = ref.put_execution_type(pb.ExecutionType(name="Other"))
    ref.put_executions([pb.Execution(type_id=t, external_id="x")])


def _clashing_context_external_id(ref: Any) -> None:
    t = ref.put_context_type(pb.ContextType(name="Run"))
    ref.put_contexts([pb.Context(type_id=t, name="mlmd-run", external_id="cx")])


def _clashing_property_kind(ref: Any) -> None:
    ref.put_artifact_type(pb.ArtifactType(name="DataSet", properties={"day": pb.STRING}))


def _clashing_type_external_id(ref: Any) -> None:
    ref.put_artifact_type(pb.ArtifactType(name="Elsewhere", external_id="tx"))


def test_a_merge_keeps_what_the_targets_own_context_holds(
    mlmd_file: Path, store: LineageStore
) -> None:
    """MLMD's context "exp1" matches the target's own context of that type and name: the copy
    links to it (as MLMD reuses a context by name), but it was also rewritten from MLMD: its
    declared and custom properties replaced (the target's own gone), its create time MLMD's,
    and it was marked as MLMD's copy for good. It keeps what it holds now, and gains only the
    MLMD properties it lacks."""
    store.put_context_type(
        ContextType(name="Experiment", properties={"owner": PropertyType.STRING})
    )
    [own] = store.put_contexts(
        [Context(type="Experiment", name="exp1", custom_properties={"mine": "keep", "n": 5})]
    )
    [root] = store.put_contexts(
        [Context(type="Experiment", name="root", properties={"owner": "bob"})]
    )
    before = {c.id: c for c in store.get_contexts_by_id([own, root])}
    report = import_mlmd(mlmd_file, store, merge=True)
    assert report.id_map["Context"][1] == own and report.id_map["Context"][3] == root
    after = {c.id: c for c in store.get_contexts_by_id([own, root])}
    ann = open_reader(mlmd_file).get_contexts_by_id([1])[0].properties["owner"].string_value
    assert after[own] == before[own].model_copy(update={"properties": {"owner": ann}})
    assert after[root] == before[root]  # its owner stays bob
    # linked as in MLMD (artifacts 1 and 6, execution 1; child contexts exp1 and exp2)
    assert {a.id for a in store.get_artifacts_by_context(own)} == {
        report.id_map["Artifact"][1],
        report.id_map["Artifact"][6],
    }
    assert [e.id for e in store.get_executions_by_context(own)] == [report.id_map["Execution"][1]]
    assert {c.id for c in store.get_children_contexts_by_context(root)} == {
        own,
        report.id_map["Context"][2],
    }
    # merged again: found the same way, nothing changes
    again = snapshot(store)
    import_mlmd(mlmd_file, store, merge=True)
    assert snapshot(store) == again


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        (_clashing_artifact, r"MLMD artifact 2 cannot be merged: its name 'n' is the target's"),
        (_clashing_execution_external_id, r"MLMD execution 1 .* external_id 'x' is the target's"),
        (_clashing_context_external_id, r"MLMD context 1 .* external_id 'cx' is the target's"),
        (_clashing_property_kind, r"value type for 'day': stored INT, given STRING"),
        (_clashing_type_external_id, r"external_id 'tx' is the target's type 'DataSet'"),
    ],
    ids=["name", "execution-external-id", "context-external-id", "property-kind", "type-ext-id"],
)
def test_a_merge_that_clashes_with_the_targets_keys_writes_nothing(
    tmp_path: Path, store: LineageStore, fill: Any, message: str
) -> None:
    """The target's own nodes and types hold names and external ids MLMD's copies would take:
    the merge names the MLMD node and the holder before any write (it once failed in a write
    after the batches before it, leaving a partial copy)."""
    store.put_artifact_type(
        ArtifactType(name="DataSet", external_id="tx", properties={"day": PropertyType.INT})
    )
    store.put_execution_type(ExecutionType(name="Step"))
    store.put_context_type(ContextType(name="Run"))
    store.put_artifacts([Artifact(type="DataSet", name="n", uri="/mine")])
    store.put_executions([Execution(type="Step", external_id="x")])
    store.put_contexts([Context(type="Run", name="mine", external_id="cx")])
    path = _mlmd_with(tmp_path, fill)
    before = snapshot(store)
    with pytest.raises(AlreadyExistsError, match=message):
        import_mlmd(path, store, merge=True)
    assert snapshot(store) == before


def test_a_merge_found_again_keeps_its_own_keys(tmp_path: Path, store: LineageStore) -> None:
    """Copies an earlier merge made hold MLMD's names and external ids: merging the same store
    again is no clash, and neither is a context matched by its type and name."""
    store.put_context_type(ContextType(name="Run"))
    store.put_contexts([Context(type="Run", name="shared", external_id="cx")])

    def fill(ref: Any) -> None:
        t = ref.put_artifact_type(pb.ArtifactType(name="DataSet"))
        ref.put_artifacts([pb.Artifact(type_id=t, name="n", external_id="ax")])
        c = ref.put_context_type(pb.ContextType(name="Run"))
        ref.put_contexts([pb.Context(type_id=c, name="shared", external_id="cx")])

    path = _mlmd_with(tmp_path, fill)
    first = import_mlmd(path, store, merge=True)
    assert first.updated + first.unchanged == 1  # the context, matched by type and name
    before = snapshot(store)
    again = import_mlmd(path, store, merge=True)
    assert again.updated + again.unchanged == 2 and snapshot(store) == before


def test_a_context_renamed_in_mlmd_is_not_merged_with_the_one_that_took_its_name(
    tmp_path: Path, store: LineageStore
) -> None:
    """MLMD context 1 (copied as "x") is renamed "x-old" and a new context 2 is named "x": the
    target's "x" is context 1's copy, not context 2's twin (it once merged both into one node,
    losing "x-old"). The new "x" cannot be written while the copy holds the name, so the merge
    is refused before any write."""
    path = tmp_path / "renamed.sqlite"
    ref = _mlmd_sqlite(path)
    ct = ref.put_context_type(pb.ContextType(name="C"))
    [c1] = ref.put_contexts([pb.Context(type_id=ct, name="x")])
    store.put_artifact_type(ArtifactType(name="Own"))
    store.put_artifacts([Artifact(type="Own", uri="/mine")])
    import_mlmd(path, store, merge=True)
    ref.put_contexts([pb.Context(id=c1, type_id=ct, name="x-old")])
    [c2] = ref.put_contexts([pb.Context(type_id=ct, name="x")])
    before = snapshot(store)
    with pytest.raises(AlreadyExistsError, match=f"MLMD context {c2} .* name 'x' is the target's"):
        import_mlmd(path, store, merge=True)
    assert snapshot(store) == before


def test_a_key_moved_between_nodes_in_mlmd_is_refused_before_any_write(
    tmp_path: Path, store: LineageStore
) -> None:
    """An external id MLMD moved from artifact 1 to artifact 2 after a merge: the write checks
    keys against the store batch by batch, so the move would fail midway (it did, after the
    new nodes before it were written). Refused first, naming the copy that holds it."""
    path = tmp_path / "moved.sqlite"
    ref = _mlmd_sqlite(path)
    t = ref.put_artifact_type(pb.ArtifactType(name="D"))
    a1, a2 = ref.put_artifacts(
        [pb.Artifact(type_id=t, uri="/1", external_id="e1"), pb.Artifact(type_id=t, uri="/2")]
    )
    store.put_artifact_type(ArtifactType(name="Own"))
    store.put_artifacts([Artifact(type="Own", uri="/mine")])
    first = import_mlmd(path, store, merge=True)
    ref.put_artifacts([pb.Artifact(id=a1, type_id=t, uri="/1")])
    ref.put_artifacts([pb.Artifact(id=a2, type_id=t, uri="/2", external_id="e1")])
    ref.put_artifacts([pb.Artifact(type_id=t, uri="/3")])  # a new node, written first
    before = snapshot(store)
    holder = first.id_map["Artifact"][a1]
    with pytest.raises(
        AlreadyExistsError, match=f"MLMD artifact {a2} .*'e1' is the target's artifact {holder}"
    ):
        import_mlmd(path, store, merge=True)
    assert snapshot(store) == before


def test_a_hidden_system_type_is_checked_like_the_others(
    tmp_path: Path, store: LineageStore
) -> None:
    """get_artifact_types hides mlmd.* types of any version (mlmd.Dataset v2 gets id 11): its
    nodes and properties are checked before any write too."""
    store.put_artifact_type(
        ArtifactType(name="mlmd.Dataset", version="v2", properties={"day": PropertyType.INT})
    )
    path = tmp_path / "hidden.sqlite"
    ref = _mlmd_sqlite(path)
    a = ref.put_artifact_type(pb.ArtifactType(name="A"))
    hidden = ref.put_artifact_type(
        pb.ArtifactType(name="mlmd.Dataset", version="v2", properties={"day": pb.STRING})
    )
    ref.put_artifacts([pb.Artifact(type_id=a, uri="/first"), pb.Artifact(type_id=hidden)])
    before = snapshot(store)
    with pytest.raises(AlreadyExistsError, match="'day': stored INT, given STRING"):
        import_mlmd(path, store, merge=True)
    assert snapshot(store) == before


def _a_parent_of_b(store: LineageStore) -> tuple[int, int]:
    """The target's own contexts "a" and "b" of type "Run", "a" a parent of "b"."""
    store.put_context_type(ContextType(name="Run"))
    own_a, own_b = store.put_contexts(
        [Context(type="Run", name="a"), Context(type="Run", name="b")]
    )
    store.put_parent_contexts([ParentContext(child_id=own_b, parent_id=own_a)])
    return own_a, own_b


@pytest.mark.parametrize("through_a_new_context", [False, True], ids=["direct", "via-new"])
def test_parent_links_closing_a_cycle_with_the_targets_are_refused_before_any_write(
    tmp_path: Path, store: LineageStore, through_a_new_context: bool
) -> None:
    """The target holds contexts "a" and "b" (the twins of MLMD's, by type and name) with "a" a
    parent of "b"; MLMD makes "b" an ancestor of "a", directly or through a context the merge
    would create. The store checks cycles when the links are written, after the nodes: the
    merge once failed there, with MLMD's new nodes already copied. Refused first."""
    own_a, own_b = _a_parent_of_b(store)
    path = tmp_path / "cycle.sqlite"
    ref = _mlmd_sqlite(path)
    t = ref.put_context_type(pb.ContextType(name="Run"))
    a, b, middle = ref.put_contexts([pb.Context(type_id=t, name=n) for n in ("a", "b", "middle")])
    at = ref.put_artifact_type(pb.ArtifactType(name="D"))
    ref.put_artifacts([pb.Artifact(type_id=at, uri="/new")])  # a node the merge would write
    if through_a_new_context:
        ref.put_parent_contexts(
            [
                pb.ParentContext(child_id=a, parent_id=middle),
                pb.ParentContext(child_id=middle, parent_id=b),
            ]
        )
    else:
        ref.put_parent_contexts([pb.ParentContext(child_id=a, parent_id=b)])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match="would close a cycle") as raised:
        import_mlmd(path, store, merge=True)
    assert f"MLMD context {a} (the target's context {own_a})" in str(raised.value)
    assert f"MLMD context {b} (the target's context {own_b})" in str(raised.value)
    assert (f"MLMD context {middle} ->" in str(raised.value)) is through_a_new_context
    assert snapshot(store) == before


def test_parent_links_the_target_already_has_are_no_cycle(
    tmp_path: Path, store: LineageStore
) -> None:
    """The same parent link in MLMD and in the target (and a new context under it): merged."""
    own_a, own_b = _a_parent_of_b(store)
    path = tmp_path / "same.sqlite"
    ref = _mlmd_sqlite(path)
    t = ref.put_context_type(pb.ContextType(name="Run"))
    a, b, c = ref.put_contexts([pb.Context(type_id=t, name=n) for n in ("a", "b", "c")])
    ref.put_parent_contexts(
        [
            pb.ParentContext(child_id=b, parent_id=a),
            pb.ParentContext(child_id=c, parent_id=b),
        ]
    )
    report = import_mlmd(path, store, merge=True)
    new_c = report.id_map["Context"][c]
    assert [p.id for p in store.get_parent_contexts_by_context(new_c)] == [own_b]
    assert [p.id for p in store.get_parent_contexts_by_context(own_b)] == [own_a]
    assert report.parent_contexts == 1 and report.skipped_relations == 1


def test_a_merge_over_a_ladder_of_40_context_diamonds_in_the_target(
    tmp_path: Path, store: LineageStore
) -> None:
    """The target's contexts form a ladder of 40 diamonds (each rung two parents sharing one
    parent: 2^40 paths from the bottom to the top); MLMD holds the bottom and the top again. The
    merge's cycle check reads which twin descends from which, each context once (a walk that
    followed every path would not end): a new child of the bottom merges, a link making the top
    a child of the bottom is refused before any write."""
    store.put_context_type(ContextType(name="Run"))
    rungs = store.put_contexts([Context(type="Run", name=f"rung-{i}") for i in range(121)])
    for i in range(40):  # rung by rung from the bottom: no link has anything above it yet
        store.put_parent_contexts(
            [
                ParentContext(child_id=rungs[3 * i + k], parent_id=rungs[3 * i + j])
                for k, j in ((0, 1), (0, 2), (1, 3), (2, 3))
            ]
        )
    path = tmp_path / "ladder.sqlite"
    ref = _mlmd_sqlite(path)
    t = ref.put_context_type(pb.ContextType(name="Run"))
    bottom, top, leaf = ref.put_contexts(
        [pb.Context(type_id=t, name=n) for n in ("rung-0", "rung-120", "leaf")]
    )
    ref.put_parent_contexts([pb.ParentContext(child_id=leaf, parent_id=bottom)])
    report = import_mlmd(path, store, merge=True)
    new_leaf = report.id_map["Context"][leaf]
    assert [p.id for p in store.get_parent_contexts_by_context(new_leaf)] == [rungs[0]]
    ref.put_parent_contexts([pb.ParentContext(child_id=top, parent_id=bottom)])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match="would close a cycle") as raised:
        import_mlmd(path, store, merge=True)
    assert f"MLMD context {top} (the target's context {rungs[-1]})" in str(raised.value)
    assert snapshot(store) == before


#: How the import learns MLMD's link order: from the SQLite copy's link ids, or through the
#: API only (get_lineage_subgraph, 100 linked nodes at a time), as from MySQL, whose ids it
#: cannot read (no MySQL server here: a copy that cannot tell takes that path too).
LINK_READS = ["copy", "api"]


def _links_in_order(
    tmp_path: Path,
    store: LineageStore,
    unlinked_between: int,
    links: list[tuple[int, int]],
    reads: str = "copy",
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> list[tuple[int, int]]:
    """An MLMD store: 3 artifacts, ``unlinked_between`` artifacts with no link, 3 more, one
    execution that read all 6, 3 contexts; ``links`` (artifact and context indexes) written
    one call each, each with its context's association the first time. Imported into
    ``store`` (its link order read as ``reads`` says: :data:`LINK_READS`), the execution's
    get_lineage_subgraph must list the links as the source does. Returns the source's
    attributions."""
    from lineage_graph.mlmd import MetadataStore

    path = tmp_path / "links.sqlite"
    ref = _mlmd_sqlite(path)
    at = ref.put_artifact_type(pb.ArtifactType(name="A"))
    et = ref.put_execution_type(pb.ExecutionType(name="X"))
    ct = ref.put_context_type(pb.ContextType(name="C"))
    a = ref.put_artifacts([pb.Artifact(type_id=at) for _ in range(3)])
    if unlinked_between:
        ref.put_artifacts([pb.Artifact(type_id=at) for _ in range(unlinked_between)])
    a += ref.put_artifacts([pb.Artifact(type_id=at) for _ in range(3)])
    [x] = ref.put_executions([pb.Execution(type_id=et)])
    c = ref.put_contexts([pb.Context(type_id=ct, name=f"c{i}") for i in range(3)])
    ref.put_events([pb.Event(artifact_id=i, execution_id=x, type=pb.Event.INPUT) for i in a])
    associated: set[int] = set()
    for i, j in links:
        ref.put_attributions_and_associations(
            [pb.Attribution(artifact_id=a[i], context_id=c[j])],
            [] if j in associated else [pb.Association(execution_id=x, context_id=c[j])],
        )
        associated.add(j)
    del ref
    if reads == "api":
        assert monkeypatch is not None
        monkeypatch.setattr(_import_links, "_links_by_id", lambda path, links: {})
    import_mlmd(str(path), store)
    Q = pb.LineageSubgraphQueryOptions
    options = Q(starting_executions=Q.StartingNodes(filter_query=f"id = {x}"))
    want = open_reader(path).get_lineage_subgraph(options, ["attributions", "associations"])
    got = MetadataStore(store).get_lineage_subgraph(options, ["attributions", "associations"])
    assert list(got.attributions) == list(want.attributions)
    assert list(got.associations) == list(want.associations)
    return [(link.artifact_id, link.context_id) for link in want.attributions]


@pytest.mark.parametrize("reads", LINK_READS)
def test_links_are_written_in_mlmds_order_so_lineage_subgraph_lists_them_as_the_source(
    tmp_path: Path, store: LineageStore, reads: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLMD's links have ids its API does not expose, but get_lineage_subgraph lists them by
    them: the copy writes them in that order (it wrote them context by context, so the
    target's get_lineage_subgraph listed them ordered by context, the source's by write).
    Read through the API too, as from MySQL (once SQLite was read from its copy's ids, no test
    ran that reading: it could have broken unseen)."""
    links = [(2, 2), (0, 1), (1, 0), (0, 0), (2, 1), (4, 0), (3, 2)]
    got = _links_in_order(tmp_path, store, 0, links, reads, monkeypatch)
    assert got == [(i + 1, j + 1) for i, j in links]


@pytest.mark.parametrize("reads", LINK_READS)
def test_links_of_nodes_past_mlmds_101_starting_nodes_are_ordered_too(
    tmp_path: Path, store: LineageStore, reads: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLMD starts a walk from 101 nodes at most (of an id range, unlinked ones counting): the
    links of the artifacts past 200 unlinked ones are read in a second window, in MLMD's order
    too (a single read left them last, context by context)."""
    links = [(1, 2), (0, 1), (2, 0), (5, 2), (3, 1), (4, 0), (3, 0)]
    _links_in_order(tmp_path, store, 200, links, reads, monkeypatch)


def test_links_written_out_of_node_order_across_windows_keep_mlmds_order(
    tmp_path: Path, store: LineageStore
) -> None:
    """Links read 100 linked nodes at a time came out in windows of node id order: a link of a
    later node written before one of an earlier node (a pipeline run attributing an old
    artifact to its new context, as TFX does with its inputs) was written after it, and the
    copy's get_lineage_subgraph listed them in another order than the source's. A SQLite
    source is read from its copy, whose link ids give MLMD's order exactly."""
    links = [(5, 2), (0, 1), (4, 0), (1, 2), (3, 1), (0, 0)]
    got = _links_in_order(tmp_path, store, 200, links)
    assert [j for _, j in got] == [j + 1 for _, j in links]


@pytest.mark.parametrize("version", [7, 9])
def test_a_file_of_an_older_mlmd_schema_is_imported_from_a_migrated_copy(
    tmp_path: Path, store: LineageStore, version: int
) -> None:
    """A SQLite file written by an older ml_metadata (schema 9: TFX 1.13 and before; 7: older
    still) was refused ("MLMD database version 9 is older than library version 10 ... Please
    upgrade the database"): upgrading the file itself would break the older pipelines that use
    it. The import migrates its private copy instead; the file is left as it was, and the copy
    holds what the current schema's import of the same data holds."""
    import hashlib
    import sqlite3

    new = tmp_path / "new.sqlite"
    ref = _mlmd_sqlite(new)
    t = pb.ArtifactType(name="Examples", base_type=pb.ArtifactType.DATASET, version="1")
    t.properties["span"] = pb.INT
    at = ref.put_artifact_type(t)
    et = ref.put_execution_type(pb.ExecutionType(name="Trainer"))  # (no external ids: 9's)
    ct = ref.put_context_type(pb.ContextType(name="pipeline"))
    a = pb.Artifact(type_id=at, uri="/a", state=pb.Artifact.LIVE)
    a.properties["span"].int_value = 3
    a.custom_properties["ratio"].double_value = 0.25
    a.custom_properties["meta"].struct_value.update({"rows": 3})  # (no bool: schema 10's)
    [a1, a2] = ref.put_artifacts([a, pb.Artifact(type_id=at, uri="/b")])
    [x] = ref.put_executions([pb.Execution(type_id=et, last_known_state=pb.Execution.COMPLETE)])
    ev = pb.Event(artifact_id=a1, execution_id=x, type=pb.Event.INPUT)
    ev.path.steps.add(key="examples")
    ev.path.steps.add(index=0)
    ref.put_events([ev, pb.Event(artifact_id=a2, execution_id=x, type=pb.Event.OUTPUT)])
    [p, c] = ref.put_contexts([pb.Context(type_id=ct, name="p"), pb.Context(type_id=ct, name="r")])
    ref.put_attributions_and_associations(
        [pb.Attribution(artifact_id=a1, context_id=c)],
        [pb.Association(execution_id=x, context_id=c)],
    )
    ref.put_parent_contexts([pb.ParentContext(child_id=c, parent_id=p)])
    del ref
    old = tmp_path / "old.sqlite"
    old.write_bytes(new.read_bytes())
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(old)
    metadata_store.downgrade_schema(config, version)
    digest = hashlib.sha256(old.read_bytes()).hexdigest()

    result = _cli("import-mlmd", str(old), "--store", str(tmp_path / "cli"), "--json")
    assert result.exit_code == 0, result.output
    report = import_mlmd(old, store)
    assert report.ids_preserved and (report.artifacts, report.events) == (2, 2)
    with LineageStore.open(tmp_path / "current") as current:
        import_mlmd(new, current)
        assert snapshot(store) == snapshot(current)
    assert hashlib.sha256(old.read_bytes()).hexdigest() == digest  # the file itself untouched
    with sqlite3.connect(old) as db:
        assert db.execute("SELECT schema_version FROM MLMDEnv").fetchall() == [(version,)]


def _hostile_values(ref: Any) -> None:
    t = ref.put_artifact_type(
        pb.ArtifactType(
            name="Values",
            properties={"n": pb.INT, "d": pb.DOUBLE, "s": pb.STRUCT, "p": pb.PROTO},
        )
    )
    a = pb.Artifact(type_id=t, uri="/v", name="v")
    _value(a.properties, "n", 2**63 - 1)
    _value(a.properties, "d", -0.0)
    _value(a.properties, "s", {"nan": float("nan"), "inf": [float("inf"), -float("inf")]})
    _value(a.properties, "p", pb.ParentContext(child_id=1, parent_id=2))
    _value(a.custom_properties, "low", -(2**63))
    [aid] = ref.put_artifacts([a])
    et = ref.put_execution_type(pb.ExecutionType(name="Step"))
    ct = ref.put_context_type(pb.ContextType(name="Run"))
    [eid] = ref.put_executions([pb.Execution(type_id=et, name="e")])
    [c1, c2] = ref.put_contexts(
        [pb.Context(type_id=ct, name="r1"), pb.Context(type_id=ct, name="r2")]
    )
    ref.put_events([pb.Event(artifact_id=aid, execution_id=eid, type=pb.Event.OUTPUT)])
    ref.put_attributions_and_associations(
        [pb.Attribution(artifact_id=aid, context_id=c1)],
        [pb.Association(execution_id=eid, context_id=c1)],
    )
    ref.put_parent_contexts([pb.ParentContext(child_id=c1, parent_id=c2)])


def test_every_statement_of_an_import_is_one_neo4j_can_send(
    tmp_path: Path, store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statement an import sends (its claim on the MLMD store, taken, renewed and given
    up, the copies with NaN and infinite struct numbers, int64 ends and proto bytes, a merge's
    reads), and the context graph read of the copy, encoded with the neo4j driver's own packer
    as the driver does before sending: on Neo4j none may fail there (OverflowError, ValueError,
    TypeError: InvalidArgumentError) where FalkorDB took it."""
    from neo4j._codec.packstream.v1 import Packer

    class Sink:
        def write(self, data: bytes) -> None:
            pass

    sent: list[str] = []
    backend = store.backend
    read, write = backend.read, backend.write

    def packed(run: Any) -> Any:
        def call(query: str, params: Any = None, *, name: str = "") -> Any:
            Packer(Sink()).pack(dict(params or {}))
            sent.append(name)
            return run(query, params, name=name)

        return call

    monkeypatch.setattr(backend, "read", packed(read))
    monkeypatch.setattr(backend, "write", packed(write))
    source = _mlmd_with(tmp_path, _hostile_values)
    import_mlmd(source, store)
    import_mlmd(source, store, merge=True)
    assert {"imports/claim", "imports/release_claim", "graph/write"} <= set(sent)
    [copy] = store.get_artifacts_by_uri("/v")
    struct = copy.properties["s"]
    assert struct["nan"] != struct["nan"] and struct["inf"] == [float("inf"), -float("inf")]
    assert copy.properties["n"] == 2**63 - 1 and copy.custom_properties["low"] == -(2**63)
    [run] = [c for c in store.get_contexts() if c.name == "r1"]
    graph = store.context_graph(run.id, include_children=True)  # cache/context_members
    assert [a.id for a in graph.artifacts] == [copy.id]


@pytest.mark.parametrize(
    "source",
    ["mysql://root:S3c/r3t@127.0.0.1:1/db", "mysql://root:S3c?r3t@127.0.0.1:1/db"],
)
def test_a_mysql_password_holding_a_raw_slash_is_refused_unquoted(
    source: str, tmp_path: Path
) -> None:
    """``mysql://root:S3c/r3t@host/db``: urlparse reads the host "root" and the port "S3c",
    and import-mlmd said "a mysql:// source with a bad port: Port could not be cast to integer
    value as 'S3c'", the password's head. Refused as the store URLs are, quoting it masked and
    saying to percent-encode; nothing is imported (the store is not made)."""
    result = _cli("import-mlmd", source, "--store", str(tmp_path / "store"))
    assert result.exit_code == 5, result.output
    assert "S3c" not in result.output and "r3t" not in result.output, result.output
    assert "percent-encoded" in result.output and "root:***@" in result.output
    assert not (tmp_path / "store").exists()


def _imports_as_its_file(config: Any, mlmd_file: Path, tmp_path: Path) -> None:
    """Importing ``config`` gives the store importing ``mlmd_file`` by its path gives."""
    with LineageStore.open(tmp_path / "by-path") as by_path:
        import_mlmd(str(mlmd_file), by_path)
        expected = snapshot(by_path)
    with LineageStore.open(tmp_path / "by-config") as store:
        import_mlmd(config, store)
        assert snapshot(store) == expected


@pytest.mark.parametrize("mode", ["rw", "rwc", "r%77c", "rwc&mo%64e=rw", "rw%00x"])
def test_a_config_whose_uri_mode_writes_is_imported_read_only(
    mlmd_file: Path, tmp_path: Path, mode: str
) -> None:
    """The ConnectionConfig a pipeline writes with (``file:/m.db?mode=rwc``) is imported: the
    source is opened READONLY, and SQLite refused the URI's mode asking more ("cannot open the
    MLMD store: Cannot connect sqlite3 database: access mode not allowed: rwc"). The file is
    not written. SQLite decodes a parameter's ``%HH`` (``mode=r%77c`` is ``mode=rwc``): such a
    mode was left as written, and refused."""
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = f"file:{mlmd_file}?mode={mode}&cache=private"
    before = mlmd_file.read_bytes()
    _imports_as_its_file(config, mlmd_file, tmp_path)
    assert mlmd_file.read_bytes() == before
    assert config.sqlite.filename_uri.endswith(f"?mode={mode}&cache=private")  # the caller's


@pytest.mark.parametrize("tail", ["?ssl_mode=REQUIRED", "?socket=/run/mysqld.sock", "#x", "?"])
def test_a_mysql_url_with_options_is_refused_not_ignored(tmp_path: Path, tail: str) -> None:
    """``mysql://u:pw@host/db?ssl_mode=REQUIRED`` connected without TLS (and ``?socket=`` by TCP):
    the options were dropped without a word. Refused, the password never shown; nothing made."""
    store = tmp_path / "store"
    result = _cli("import-mlmd", f"mysql://me:hunter2222@127.0.0.1:1/meta{tail}", "-s", str(store))
    assert result.exit_code == 5, result.output
    assert "takes no '?' options" in result.output and "ConnectionConfig file" in result.output
    assert "hunter2222" not in result.output
    assert not store.exists()


@pytest.mark.parametrize(
    ("name", "query"),
    [
        # no query: the path was rewritten (m.db&mode=ro, another file), FailedPreconditionError
        ("m.db&mode=rw", ""),
        # urlsplit dropped the tab: mx.db was looked for, NotFoundError (ml_metadata opens it)
        ("m\tx.db", "?mode=ro"),
    ],
)
def test_a_config_naming_an_odd_file_name_imports_that_file(
    mlmd_file: Path, tmp_path: Path, name: str, query: str
) -> None:
    """A ``file:`` URI naming a file whose name holds ``&mode=rw`` or a tab imports that file,
    as SQLite opens it."""
    import shutil

    source = tmp_path / name
    shutil.copyfile(mlmd_file, source)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = f"file:{source}{query}"
    _imports_as_its_file(config, mlmd_file, tmp_path)
    assert not (tmp_path / "m.db&mode=ro").exists()


@pytest.mark.parametrize("merge", [False, True], ids=["staged", "merge"])
def test_an_import_interrupted_by_ctrl_c_says_what_it_left(
    mlmd_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge: bool
) -> None:
    """Ctrl-C (SIGINT) once the events were written: 'error: interrupted' alone (exit 130) said
    neither that a staged import left nothing nor that a merge's batches stay, to be completed
    by running it again with --merge (found by SIGINTing import-mlmd in a crash loop)."""
    from lineage_graph.mlmd import _importer

    target = str(tmp_path / "store")
    with LineageStore.open(target) as store:
        if merge:
            store.put_artifact_type(ArtifactType(name="Own"))
            store.put_artifacts([Artifact(type="Own", uri="/own")])

    def ctrl_c(*_: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(_importer._Importer, "import_links", ctrl_c)
        args = ["import-mlmd", str(mlmd_file), "--store", target] + (["--merge"] if merge else [])
        result = _cli(*args)
    assert result.exit_code == 130, result.output
    message = " ".join(result.stderr.split())
    with LineageStore.open(target) as store:
        imported = len(store.get_artifacts()) - merge
    if merge:
        assert imported == 6  # written before the interrupt, and kept
        assert "run the same import again with --merge to complete it" in message, message
        again = _cli(*args)
        assert again.exit_code == 0, again.output
    else:
        assert imported == 0
        assert "nothing was imported" in message, message


def _own_node(target: str) -> None:
    with LineageStore.open(target) as store:
        store.put_artifact_type(ArtifactType(name="Own"))
        store.put_artifacts([Artifact(type="Own", uri="/own")])


def test_a_merge_interrupted_in_its_checks_says_nothing_was_imported(
    mlmd_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a merge checks MLMD against the target, before any write: it said "the
    batches the import wrote stay in the store", when none was written."""
    target = str(tmp_path / "store")
    _own_node(target)

    def ctrl_c(*_: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(_importer._Importer, "check_merge", ctrl_c)
        result = _cli("import-mlmd", str(mlmd_file), "--store", target, "--merge")
    assert result.exit_code == 130, result.output
    message = " ".join(result.stderr.split())
    assert "nothing was imported (the store is as it was)" in message, message
    assert "batches" not in message
    with LineageStore.open(target) as store:
        assert [a.uri for a in store.get_artifacts()] == ["/own"]


def _second_ctrl_c_in_the_check(patched: pytest.MonkeyPatch) -> None:
    """The read that tells what an interrupted import left is stopped by a second Ctrl-C."""
    from lineage_graph._repositories._base import Repository

    read = Repository.read

    def interrupted(self: Any, name: str, **params: Any) -> Any:
        if name == "imports/other_nodes":
            raise KeyboardInterrupt
        return read(self, name, **params)

    patched.setattr(Repository, "read", interrupted)


def test_a_second_ctrl_c_leaves_no_new_store_behind(
    mlmd_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in an import's checks, then again as the command checked what was left: the
    new store's directory was left behind (empty), 'error: interrupted'."""
    target = tmp_path / "new"

    def ctrl_c(*_: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(_importer._Importer, "check", ctrl_c)
        _second_ctrl_c_in_the_check(patched)
        result = _cli("import-mlmd", str(mlmd_file), "--store", str(target))
    assert result.exit_code == 130, result.output
    assert "nothing was imported" in " ".join(result.stderr.split())
    assert not target.exists()


def test_a_second_ctrl_c_after_a_merge_wrote_says_what_is_left(
    mlmd_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C once a merge wrote, then again as the command checked what was left: it said
    "interrupted" alone."""
    target = str(tmp_path / "store")
    _own_node(target)

    def ctrl_c(*_: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(_importer._Importer, "import_links", ctrl_c)
        _second_ctrl_c_in_the_check(patched)
        args = ["import-mlmd", str(mlmd_file), "--store", target, "--merge"]
        result = _cli(*args)
    assert result.exit_code == 130, result.output
    message = " ".join(result.stderr.split())
    assert "interrupted twice: what the import left was not checked" in message, message
    assert "Run the same import again with --merge" in message, message
    assert _cli(*args).exit_code == 0


def test_a_second_ctrl_c_does_not_say_an_empty_store_got_all_or_nothing(
    mlmd_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty store holding an index of its own is imported into batch by batch (a staged
    graph would not have the index). Ctrl-C once it wrote, then again as the command checked
    what was left: it said "an import into an empty store on the embedded engine wrote all of
    it or nothing", when the batches written stay (and a merge completes them)."""
    from lineage_graph._repositories._base import Repository

    target = str(tmp_path / "store")
    with LineageStore.open(target) as store:
        store.backend.write("CREATE INDEX FOR (a:Artifact) ON (a.zz_operator)")
    stopped: list[bool] = []
    read = Repository.read

    def ctrl_c(*_: Any) -> None:
        stopped.append(True)
        raise KeyboardInterrupt

    def interrupted(self: Any, name: str, **params: Any) -> Any:
        if stopped and name == "imports/other_nodes":
            raise KeyboardInterrupt
        return read(self, name, **params)

    with monkeypatch.context() as patched:
        patched.setattr(_importer._Importer, "import_links", ctrl_c)
        patched.setattr(Repository, "read", interrupted)
        result = _cli("import-mlmd", str(mlmd_file), "--store", target)
    assert result.exit_code == 130, result.output
    message = " ".join(result.stderr.split())
    assert "interrupted twice" in message, message
    assert "an empty store holding an index or constraint of its own keeps the" in message, message
    with LineageStore.open(target) as store:
        assert store.get_artifacts()  # its batches stay
    assert _cli("import-mlmd", str(mlmd_file), "--store", target, "--merge").exit_code == 0


def test_an_unreachable_mysql_source_is_named_without_its_password(tmp_path: Path) -> None:
    """ml_metadata says "mysql_real_connect failed: errno: , error: " whatever the cause: the
    command printed that alone (exit 5). Now where (host and port), as whom, which database, and
    what a connection there found; never the password. Nothing listens on the port (loopback)."""
    import socket

    with socket.socket() as probe:  # a loopback port free at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = tmp_path / "store"
    result = _cli(
        "import-mlmd", f"mysql://ann:S3cr3tPW@127.0.0.1:{port}/mlmd", "--store", str(target)
    )
    assert result.exit_code == 5, result.output
    message = " ".join(result.stderr.split())
    assert f"cannot connect to the MySQL server at 127.0.0.1:{port} as user 'ann'" in message
    assert "database 'mlmd': the connection was refused" in message, message
    assert "S3cr3tPW" not in result.output
    assert not target.exists()
    config = parse_source(f"mysql://ann:S3cr3tPW@127.0.0.1:{port}/mlmd")
    with LineageStore.open("memory") as store, pytest.raises(FailedPreconditionError) as caught:
        import_mlmd(config, store)
    assert "the connection was refused" in str(caught.value)
    assert "S3cr3tPW" not in str(caught.value) and caught.value.__cause__ is None


@pytest.mark.parametrize("host", ["db..example", "x" * 64 + ".example"])
def test_a_mysql_host_that_is_no_host_name_is_named_not_a_traceback(
    tmp_path: Path, host: str
) -> None:
    """A host with an empty label or one longer than 63 characters (a typo: ``db..example``)
    is no host name: the probe of the server raised the UnicodeError of its IDNA encoding, a
    traceback (exit 1) before ml_metadata was even tried (which refuses it at once). Now the
    error names the server and why, as for a name that does not resolve."""
    target = tmp_path / "store"
    source = f"mysql://ann:S3cr3tPW@{host}:3306/mlmd"
    result = _cli("import-mlmd", source, "--store", str(target))
    assert result.exit_code == 5, result.output
    message = " ".join(result.stderr.split())
    assert f"cannot connect to the MySQL server at {host}:3306 as user 'ann'" in message, message
    assert "database 'mlmd': the host name does not resolve (not a valid host name" in message
    assert "S3cr3tPW" not in result.output and "Traceback" not in result.output
    assert not target.exists()
    with LineageStore.open("memory") as store, pytest.raises(FailedPreconditionError) as caught:
        import_mlmd(parse_source(source), store)
    assert "the host name does not resolve" in str(caught.value)


def test_a_mysql_source_that_never_greets_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A port where another service listens (Redis, HTTP: they wait for the client to speak)
    accepts the connection and sends no MySQL greeting: ml_metadata's client waited for it for
    ever (the command hung; measured over 60 s), holding the GIL. It is now told before
    ml_metadata connects. Run in a child process, which a hang leaves killed after 150 s."""
    import socket
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from lineage_graph import LineageStore\n"
        "from lineage_graph.cli.import_mlmd import parse_source\n"
        "from lineage_graph.mlmd._importer import import_mlmd\n"
        "with LineageStore.open('memory') as store:\n"
        "    try:\n"
        "        import_mlmd(parse_source(sys.argv[1]), store)\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, exc)\n"
    )
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepted by the kernel, never
        port = listener.getsockname()[1]  # answered
        try:
            run = subprocess.run(
                [sys.executable, "-c", script, f"mysql://ann:S3cr3tPW@127.0.0.1:{port}/mlmd"],
                capture_output=True,
                text=True,
                timeout=150,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("the import waited for the silent server's greeting for 150 s")
    message = run.stdout
    assert message.startswith("FailedPreconditionError"), (message, run.stderr[-2000:])
    assert f"the MySQL server at 127.0.0.1:{port} as user 'ann'" in message, message
    assert "accepted the connection but sent no MySQL greeting" in message, message
    assert "S3cr3tPW" not in message + run.stderr


def test_links_of_a_copy_read_through_the_api_keep_its_id_order_across_windows(
    tmp_path: Path, store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLite source's copy whose link ids cannot be read (the API's path): MLMD lists its
    links by id, and windows of one context each are each in (context, node) order too. They
    were ranked as MySQL's are, by (context, node): artifacts 101-150 linked to context 1
    after 1-100 to context 2 came first, and a walk over 98-103 listed them in another order
    than the source's."""
    from lineage_graph.mlmd import MetadataStore

    path = tmp_path / "links.sqlite"
    ref = _mlmd_sqlite(path)
    at = ref.put_artifact_type(pb.ArtifactType(name="A"))
    ct = ref.put_context_type(pb.ContextType(name="C"))
    artifacts = ref.put_artifacts([pb.Artifact(type_id=at) for _ in range(150)])
    c1, c2 = ref.put_contexts([pb.Context(type_id=ct, name=f"c{i}") for i in range(2)])
    for ids, c in ((artifacts[:100], c2), (artifacts[100:], c1)):
        ref.put_attributions_and_associations(
            [pb.Attribution(artifact_id=a, context_id=c) for a in ids], []
        )
    del ref
    monkeypatch.setattr(_import_links, "_links_by_id", lambda path, links: {})  # the API's path
    import_mlmd(str(path), store)
    source, ours = open_reader(path), MetadataStore(store)
    for low, high in [(98, 103), (1, 101), (50, 150)]:
        options = pb.LineageSubgraphQueryOptions(max_num_hops=0)
        options.starting_artifacts.filter_query = f"id >= {low} AND id <= {high}"
        want = source.get_lineage_subgraph(options, ["attributions"])
        got = ours.get_lineage_subgraph(options, ["attributions"])
        assert [(x.context_id, x.artifact_id) for x in got.attributions] == [
            (x.context_id, x.artifact_id) for x in want.attributions
        ], (low, high)


def test_links_listed_context_by_context_across_windows_keep_the_sources_order(
    tmp_path: Path, store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read through the API (as from MySQL), windows of 100 linked nodes were put one after
    the other: where MLMD lists links by (context, node), as MySQL does (its plan scans the
    unique index; measured on MariaDB 10.11, 6 of 16 random walks differed after a MySQL
    import), window 2's links of context 1 came after window 1's of context 2, and a walk
    from nodes of both windows listed them in another order than the source's. Here SQLite's
    link ids follow that order (written context by context): every window lists them by
    (context, node), and so does every walk."""
    from lineage_graph.mlmd import MetadataStore

    path = tmp_path / "links.sqlite"
    ref = _mlmd_sqlite(path)
    at = ref.put_artifact_type(pb.ArtifactType(name="A"))
    ct = ref.put_context_type(pb.ContextType(name="C"))
    artifacts = ref.put_artifacts([pb.Artifact(type_id=at) for _ in range(150)])
    contexts = ref.put_contexts([pb.Context(type_id=ct, name=f"c{i}") for i in range(2)])
    for c in contexts:
        ref.put_attributions_and_associations(
            [pb.Attribution(artifact_id=a, context_id=c) for a in artifacts], []
        )
    del ref
    monkeypatch.setattr(_import_links, "_links_by_id", lambda path, links: {})  # the API's path

    @contextlib.contextmanager
    def live(mlmd: Any, config: Any) -> Iterator[Any]:  # read live, as MySQL is (no copy)
        yield _importer._Snapshot("", config)

    monkeypatch.setattr(_importer, "_as_of_now", live)
    import_mlmd(str(path), store)
    source, ours = open_reader(path), MetadataStore(store)
    for low, high in [(95, 105), (1, 101), (50, 150)]:
        options = pb.LineageSubgraphQueryOptions(max_num_hops=0)
        options.starting_artifacts.filter_query = f"id >= {low} AND id <= {high}"
        want = source.get_lineage_subgraph(options, ["attributions"])
        got = ours.get_lineage_subgraph(options, ["attributions"])
        assert [(x.context_id, x.artifact_id) for x in got.attributions] == [
            (x.context_id, x.artifact_id) for x in want.attributions
        ], (low, high)


def _times_of_zero(path: Path) -> None:
    """An MLMD store whose nodes hold times of 0 (a row written with them, a store of an old
    MLMD: ml_metadata sets its own times on a write, so they are written into its tables)."""
    import sqlite3

    ref = _mlmd_sqlite(path)
    a_type = ref.put_artifact_type(pb.ArtifactType(name="Zero"))
    e_type = ref.put_execution_type(pb.ExecutionType(name="ZeroRun"))
    c_type = ref.put_context_type(pb.ContextType(name="ZeroContext"))
    ref.put_artifacts([pb.Artifact(type_id=a_type, uri=f"/z{i}") for i in range(3)])
    ref.put_executions([pb.Execution(type_id=e_type) for _ in range(2)])
    ref.put_contexts([pb.Context(type_id=c_type, name=f"z{i}") for i in range(2)])
    del ref
    with contextlib.closing(sqlite3.connect(path)) as db:
        for table in ("Artifact", "Execution", "Context"):
            db.execute(f"UPDATE {table} SET create_time_since_epoch = 0 WHERE id = 1")
            db.execute(f"UPDATE {table} SET last_update_time_since_epoch = 0 WHERE id = 2")
        db.execute("UPDATE Artifact SET create_time_since_epoch = 0 WHERE id = 3")
        db.execute("UPDATE Artifact SET last_update_time_since_epoch = 0 WHERE id = 3")
        db.commit()


@pytest.mark.parametrize("merge", [False, True], ids=["empty", "merge"])
def test_a_time_of_0_is_kept_as_mlmds(tmp_path: Path, store: LineageStore, merge: bool) -> None:
    """A create or update time of 0 in MLMD was taken for "no time" and replaced by the time
    of the import; the MLMD adapter then listed another time than MLMD did, and a merge run
    again said those nodes were updated (it rewrote them with a new time)."""
    from lineage_graph.mlmd import MetadataStore

    path = tmp_path / "zero.sqlite"
    _times_of_zero(path)
    if merge:
        store.put_artifact_type(ArtifactType(name="Own"))
        store.put_artifacts([Artifact(type="Own", uri="/own")])
    report = import_mlmd(path, store, merge=merge)
    ref, adapter = open_reader(path), MetadataStore(store)

    def times(msgs: Any, id_map: dict[int, int] | None = None) -> list[tuple[Any, ...]]:
        return sorted(
            (
                m.id if id_map is None else id_map[m.id],
                m.HasField("create_time_since_epoch"),
                m.create_time_since_epoch,
                m.HasField("last_update_time_since_epoch"),
                m.last_update_time_since_epoch,
            )
            for m in msgs
        )

    for kind, theirs, ours in [
        (NodeKind.ARTIFACT, ref.get_artifacts(), adapter.get_artifacts()),
        (NodeKind.EXECUTION, ref.get_executions(), adapter.get_executions()),
        (NodeKind.CONTEXT, ref.get_contexts(), adapter.get_contexts()),
    ]:
        ours = [m for m in ours if m.uri != "/own"] if kind == NodeKind.ARTIFACT else ours
        assert times(ours) == times(theirs, report.id_map[kind.value])
        assert any(t[2] == 0 for t in times(theirs)) and any(t[4] == 0 for t in times(theirs))
    [theirs] = ref.get_artifacts_by_id([1])
    [ours] = adapter.get_artifacts_by_id([report.id_map["Artifact"][1]])
    assert (ours.create_time_since_epoch, ours.HasField("create_time_since_epoch")) == (0, True)
    assert ours.last_update_time_since_epoch == theirs.last_update_time_since_epoch
    again = import_mlmd(path, store, merge=True)
    assert (again.updated, again.unchanged) == (0, 3 + 2 + 2)


@pytest.mark.parametrize(
    ("merge", "where"),
    [(False, "release"), (True, "release"), (False, "close")],
    ids=["staged", "merge", "closing"],
)
def test_a_ctrl_c_once_the_import_finished_says_so(
    mlmd_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge: bool, where: str
) -> None:
    """Ctrl-C while a finished import released its claim on the MLMD store (its last write):
    it said "the batches the import wrote stay in the store ... run the same import again with
    --merge to complete it", of an import that was complete; as the store then closed, it
    said "interrupted" alone."""
    target = str(tmp_path / "store")
    if merge:
        _own_node(target)
    owner, name = (_importer._Claim, "release") if where == "release" else (LineageStore, "close")
    done = getattr(owner, name)

    def ctrl_c(self: Any) -> None:
        done(self)
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(owner, name, ctrl_c)
        args = ["import-mlmd", str(mlmd_file), "--store", target] + (["--merge"] if merge else [])
        result = _cli(*args)
    assert result.exit_code == 130, result.output
    message = " ".join(result.stderr.split())
    assert "the import had finished: everything was imported" in message, message
    assert "complete it" not in message and "nothing was imported" not in message, message
    with LineageStore.open(target) as store:
        assert len(store.get_artifacts()) == 6 + merge
    again = _cli("import-mlmd", str(mlmd_file), "--store", target, "--merge", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["updated"] == 0


def test_mlmd_ids_past_2_53_get_the_next_ids_and_read_back_alone(
    tmp_path: Path, store: LineageStore
) -> None:
    """MLMD ids past 2**53 - 1 kept as they were: FalkorDB's range index holds doubles, so
    ``get_artifacts_by_id([2**53 + 3])`` gave three artifacts, a link to such a context was
    refused as "deleted meanwhile (by another writer)", and three context types past it failed
    the import on their unique id. They now get the store's next ids (the report maps them)."""
    import sqlite3

    from lineage_graph.mlmd import MetadataStore

    path = tmp_path / "big.sqlite"
    ref = _mlmd_sqlite(path)
    a_type = ref.put_artifact_type(pb.ArtifactType(name="A"))
    e_type = ref.put_execution_type(pb.ExecutionType(name="E"))
    small = ref.put_artifacts([pb.Artifact(type_id=a_type, uri="/small")])
    with contextlib.closing(sqlite3.connect(path)) as db:
        for table in ("Type", "Artifact", "Execution", "Context"):
            db.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            db.execute("INSERT INTO sqlite_sequence VALUES (?, ?)", (table, 2**53 + 2))
        db.commit()
    c_types = [ref.put_context_type(pb.ContextType(name=f"C{i}")) for i in range(3)]
    artifacts = ref.put_artifacts([pb.Artifact(type_id=a_type, uri=f"/a{i}") for i in range(3)])
    [execution] = ref.put_executions([pb.Execution(type_id=e_type)])
    contexts = ref.put_contexts([pb.Context(type_id=c_types[i], name=f"c{i}") for i in range(3)])
    assert min(artifacts + contexts + c_types) > 2**53
    ref.put_events(
        [pb.Event(artifact_id=a, execution_id=execution, type=pb.Event.INPUT) for a in artifacts]
    )
    ref.put_attributions_and_associations(
        [
            pb.Attribution(artifact_id=a, context_id=c)
            for a, c in zip(artifacts, contexts, strict=True)
        ],
        [pb.Association(execution_id=execution, context_id=c) for c in contexts],
    )
    ref.put_parent_contexts([pb.ParentContext(child_id=contexts[1], parent_id=contexts[0])])

    report = import_mlmd(path, store)
    ids = report.id_map
    assert ids["Artifact"][small[0]] == small[0]  # kept below the limit
    if store.backend.dialect == "falkordb":
        assert not report.ids_preserved and report.ids_past_exact == 3 + 3 + 1 + 3
        assert max(v for m in ids.values() for v in m.values()) < 2**53
    else:  # Neo4j's index holds int64 ids exactly: every MLMD id is kept
        assert report.ids_preserved and report.ids_past_exact == 0
        assert all(k == v for m in ids.values() for k, v in m.items())
    adapter = MetadataStore(store)
    for mlmd_id in artifacts:
        [mine] = adapter.get_artifacts_by_id([ids["Artifact"][mlmd_id]])
        [theirs] = ref.get_artifacts_by_id([mlmd_id])
        assert mine.uri == theirs.uri
    assert sorted(
        e.artifact_id for e in adapter.get_events_by_execution_ids([ids["Execution"][execution]])
    ) == sorted(ids["Artifact"][a] for a in artifacts)
    for a, c in zip(artifacts, contexts, strict=True):
        [linked] = adapter.get_artifacts_by_context(ids["Context"][c])
        assert linked.id == ids["Artifact"][a]
        assert (
            adapter.get_contexts_by_id([ids["Context"][c]])[0].type_id
            == ids["ContextType"][ref.get_contexts_by_id([c])[0].type_id]
        )
    [parent] = adapter.get_parent_contexts_by_context(ids["Context"][contexts[1]])
    assert parent.id == ids["Context"][contexts[0]]
    again = import_mlmd(path, store, merge=True)
    assert (again.updated, again.unchanged, again.skipped_relations) == (0, 8, 3 + 3 + 3 + 1)
    result = _cli("import-mlmd", str(path), "--store", str(tmp_path / "cli"))
    assert result.exit_code == 0, result.output
    assert "but for 10 at or near 2**53" in " ".join(result.stdout.split()), result.stdout
    as_json = _cli("import-mlmd", str(path), "--store", str(tmp_path / "json"), "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["ids_past_exact"] == 10, as_json.stdout


def test_ids_given_in_place_of_mlmds_past_2_53_stay_below_it(
    tmp_path: Path, store: LineageStore
) -> None:
    """MLMD contexts 2**53 - 2 ... 2**53 + 1: keeping the first two gave the others the next
    ids, 2**53 and 2**53 + 1, which the index cannot tell apart (a link to one was refused as
    "deleted meanwhile"). Only what leaves room for the rest is kept."""
    import sqlite3

    from lineage_graph.mlmd import MetadataStore

    path = tmp_path / "edge.sqlite"
    ref = _mlmd_sqlite(path)
    a_type = ref.put_artifact_type(pb.ArtifactType(name="A"))
    c_type = ref.put_context_type(pb.ContextType(name="C"))
    artifacts = ref.put_artifacts([pb.Artifact(type_id=a_type, uri=f"/a{i}") for i in range(4)])
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'Context'")
        db.execute("INSERT INTO sqlite_sequence VALUES ('Context', ?)", (2**53 - 3,))
        db.commit()
    contexts = ref.put_contexts([pb.Context(type_id=c_type, name=f"c{i}") for i in range(4)])
    assert contexts == [2**53 - 2, 2**53 - 1, 2**53, 2**53 + 1]
    ref.put_attributions_and_associations(
        [
            pb.Attribution(artifact_id=a, context_id=c)
            for a, c in zip(artifacts, contexts, strict=True)
        ],
        [],
    )
    report = import_mlmd(path, store)
    ids = report.id_map["Context"]
    if store.backend.dialect == "falkordb":
        assert max(ids.values()) <= 2**53 - 1 and len(set(ids.values())) == 4
        assert report.ids_past_exact == sum(1 for k, v in ids.items() if k != v) >= 2
    else:  # Neo4j keeps every id
        assert report.ids_past_exact == 0 and all(k == v for k, v in ids.items())
    adapter = MetadataStore(store)
    for a, c in zip(artifacts, contexts, strict=True):
        [mine] = adapter.get_contexts_by_id([ids[c]])
        assert mine.name == ref.get_contexts_by_id([c])[0].name
        assert [x.id for x in adapter.get_artifacts_by_context(ids[c])] == [a]
