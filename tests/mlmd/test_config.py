"""``MetadataStore(config)``: every kind of config MLMD code passes, and the refusals."""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

import ml_metadata as mlmd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import EngineError, LineageStore
from lineage_graph.mlmd import MetadataStore
from lineage_graph.mlmd._config import sqlite_store_dir


def _sqlite(uri: str) -> pb.ConnectionConfig:
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = uri
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return config


def test_wraps_an_open_store_without_owning_it(store: LineageStore) -> None:
    with MetadataStore(store) as adapter:
        assert adapter.lineage_store is store
        tid = adapter.put_artifact_type(pb.ArtifactType(name="T"))
    # Closing the adapter left the caller's store open and the type visible natively.
    assert store.get_artifact_type("T").id == tid == 10


def test_fake_database_is_an_in_memory_store() -> None:
    config = pb.ConnectionConfig(fake_database=pb.FakeDatabaseConfig())
    with MetadataStore(config, enable_upgrade_migration=True) as adapter:
        assert adapter.lineage_store.describe()["mode"] == "memory"
        assert adapter.get_artifact_types() == []
        assert adapter.pipeline_asset is None


def test_sqlite_maps_to_a_persistent_directory(tmp_path: Path) -> None:
    db = tmp_path / "mlmd.sqlite"
    with MetadataStore(_sqlite(str(db))) as adapter:
        tid = adapter.put_artifact_type(pb.ArtifactType(name="DataSet"))
        [aid] = adapter.put_artifacts([pb.Artifact(type_id=tid, uri="s3://x")])
    assert (tmp_path / "mlmd.sqlite.lineage-graph").is_dir()
    assert not db.exists()  # the MLMD file itself is never touched
    with MetadataStore(_sqlite(f"file:{db}?mode=rwc")) as again:
        [artifact] = again.get_artifacts_by_id([aid])
        assert artifact.uri == "s3://x"
        assert again.get_artifact_type("DataSet").id == tid  # system types not registered twice


def test_an_mlmd_database_of_data_is_not_shadowed_by_an_empty_store(tmp_path: Path) -> None:
    """Switching the import line on code that opens an existing MLMD SQLite file opened an
    empty store beside it, silently: every read found nothing, and new writes went to a store
    without the old data. Until the file is imported, that is FailedPreconditionError naming
    the command that copies it; afterwards the same config opens the copy."""
    from ml_metadata.metadata_store import metadata_store

    from lineage_graph.mlmd._importer import import_mlmd

    db = tmp_path / "mlmd.sqlite"
    real = metadata_store.MetadataStore(_sqlite(str(db)))
    tid = real.put_artifact_type(pb.ArtifactType(name="DataSet"))
    [aid] = real.put_artifacts([pb.Artifact(type_id=tid, uri="s3://old")])
    del real
    before = db.read_bytes()
    with pytest.raises(errors.FailedPreconditionError, match="lineage-graph import-mlmd"):
        MetadataStore(_sqlite(str(db)))
    assert not (tmp_path / "mlmd.sqlite.lineage-graph").exists() and db.read_bytes() == before
    with LineageStore.open(sqlite_store_dir(str(db))) as target:
        import_mlmd(str(db), target)
    with MetadataStore(_sqlite(f"file:{db}")) as adapter:
        assert [a.uri for a in adapter.get_artifacts_by_id([aid])] == ["s3://old"]


def test_sqlite_uri_forms() -> None:
    assert sqlite_store_dir("/a/b.db") == Path("/a/b.db.lineage-graph")
    assert sqlite_store_dir("file:/a/b.db") == Path("/a/b.db.lineage-graph")
    assert sqlite_store_dir("file:///a/b%20c.db?mode=ro") == Path("/a/b c.db.lineage-graph")
    assert sqlite_store_dir("rel.db") == Path("rel.db.lineage-graph")


def test_file_uris_of_two_names_that_are_not_utf8_are_two_stores(tmp_path: Path) -> None:
    """``file:x%FF.db`` and ``file:x%FE.db`` name two files (the bytes 0xFF and 0xFE), as
    ml_metadata opens them: their escapes were decoded as UTF-8, each to U+FFFD, and both
    configs opened one store (``x\ufffd.db.lineage-graph``), the second one reading the first
    one's types and nodes."""
    from ml_metadata.metadata_store import metadata_store

    for folder, opened in (("mlmd", metadata_store.MetadataStore), ("ours", MetadataStore)):
        (tmp_path / folder).mkdir()
        first = opened(_sqlite(f"file:{tmp_path / folder}/x%FF.db"))
        first.put_artifact_type(pb.ArtifactType(name="OnlyInFF"))
        second = opened(_sqlite(f"file:{tmp_path / folder}/x%FE.db"))
        assert [t.name for t in second.get_artifact_types()] == [], folder
        for adapter in (first, second):
            if isinstance(adapter, MetadataStore):
                adapter.close()
    assert sorted(p.name for p in (tmp_path / "mlmd").iterdir()) == sorted(
        os.fsdecode(name) for name in (b"x\xfe.db", b"x\xff.db")
    )
    assert sqlite_store_dir(f"file:{tmp_path}/x%FF.db") == Path(
        os.fsdecode(os.fsencode(tmp_path) + b"/x\xff.db.lineage-graph")
    )


def test_shared_memory_names_that_are_not_utf8_are_two_databases() -> None:
    """As for files: ``file:m%FF?mode=memory&cache=shared`` and ``file:m%FE?...`` are two
    shared in-memory databases to ml_metadata; decoded as UTF-8 they shared one."""
    from ml_metadata.metadata_store import metadata_store

    uri = "file:dup31-m%{}?mode=memory&cache=shared"
    found = {}
    for name, opened in (("mlmd", metadata_store.MetadataStore), ("ours", MetadataStore)):
        first = opened(_sqlite(uri.format("FF")))
        first.put_artifact_type(pb.ArtifactType(name="OnlyInFF"))
        other, same = opened(_sqlite(uri.format("FE"))), opened(_sqlite(uri.format("FF")))
        found[name] = [[t.name for t in s.get_artifact_types()] for s in (other, same)]
        for adapter in (first, other, same):
            if isinstance(adapter, MetadataStore):
                adapter.close()
    assert found["ours"] == found["mlmd"] == [[], ["OnlyInFF"]]


def test_a_target_string_opens_that_store() -> None:
    with MetadataStore("memory") as adapter:
        assert adapter.get_executions() == []


@pytest.mark.parametrize("which", ["mysql", "postgresql"])
def test_server_databases_point_to_the_importer(which: str) -> None:
    config = pb.ConnectionConfig()
    getattr(config, which).host = "localhost"
    with pytest.raises(errors.InvalidArgumentError, match="import-mlmd") as refused:
        MetadataStore(config)
    _advice_names_the_copys_store(str(refused.value))


def test_grpc_client_config_is_refused() -> None:
    with pytest.raises(errors.InvalidArgumentError, match="gRPC") as refused:
        MetadataStore(pb.MetadataStoreClientConfig(host="localhost", port=8080))
    _advice_names_the_copys_store(str(refused.value))


def _advice_names_the_copys_store(message: str) -> None:
    """The advice says where the copy goes: `import-mlmd <source>` alone copied into the default
    data directory, which the message then told to "open" without naming it."""
    assert re.search(r"`lineage-graph import-mlmd <[^>]+> --store <directory>`", message), message


@pytest.mark.parametrize(
    ("config", "as_mlmd"),
    [(pb.ConnectionConfig(), RuntimeError), (42, ValueError), (None, ValueError)],
)
def test_unusable_configs_are_invalid_arguments(config: object, as_mlmd: type[Exception]) -> None:
    """Also the class ml_metadata raises (RuntimeError("Unset"), ValueError), which its own
    tests check."""
    with pytest.raises(errors.InvalidArgumentError) as raised:
        MetadataStore(config)
    assert isinstance(raised.value, as_mlmd)
    with pytest.raises(as_mlmd):
        mlmd.MetadataStore(config)


@pytest.mark.parametrize(
    "mode",
    [pb.SqliteMetadataSourceConfig.READONLY, pb.SqliteMetadataSourceConfig.READWRITE],
    ids=["READONLY", "READWRITE"],
)
def test_a_mode_that_opens_an_existing_database_only_creates_nothing(
    tmp_path: Path, mode: int
) -> None:
    """READONLY and READWRITE open an existing SQLite file only: ml_metadata raises
    RuntimeError ("unable to open database file") for a missing one, which TFX's
    metadata_test checks. The adapter ignored the mode and created an empty store there, so
    a mistyped path read as an empty database and took writes."""
    config = _sqlite(str(tmp_path / "missing.db"))
    config.sqlite.connection_mode = mode
    with pytest.raises(RuntimeError, match="unable to open database file"):
        mlmd.MetadataStore(config)
    with pytest.raises(errors.NotFoundError, match="unable to open database file") as raised:
        MetadataStore(config)
    assert isinstance(raised.value, RuntimeError)
    assert not sqlite_store_dir(config.sqlite.filename_uri).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _writes_of(store: object, ids: dict[str, int]) -> dict[str, object]:
    """Every write method of MLMD's MetadataStore, called with a valid argument."""
    return {
        "put_artifact_type": lambda: store.put_artifact_type(pb.ArtifactType(name="New")),  # type: ignore[attr-defined]
        "put_execution_type": lambda: store.put_execution_type(pb.ExecutionType(name="New")),  # type: ignore[attr-defined]
        "put_context_type": lambda: store.put_context_type(pb.ContextType(name="New")),  # type: ignore[attr-defined]
        "put_artifacts": lambda: store.put_artifacts([pb.Artifact(type_id=ids["A"])]),  # type: ignore[attr-defined]
        "put_executions": lambda: store.put_executions([pb.Execution(type_id=ids["E"])]),  # type: ignore[attr-defined]
        "put_contexts": lambda: store.put_contexts([pb.Context(type_id=ids["C"], name="n")]),  # type: ignore[attr-defined]
        "put_events": lambda: store.put_events(  # type: ignore[attr-defined]
            [pb.Event(artifact_id=ids["a"], execution_id=ids["e"], type=pb.Event.OUTPUT)]
        ),
        "put_attributions_and_associations": lambda: store.put_attributions_and_associations(  # type: ignore[attr-defined]
            [pb.Attribution(artifact_id=ids["a"], context_id=ids["c"])], []
        ),
        "put_parent_contexts": lambda: store.put_parent_contexts(  # type: ignore[attr-defined]
            [pb.ParentContext(child_id=ids["c"], parent_id=ids["c2"])]
        ),
        "put_execution": lambda: store.put_execution(  # type: ignore[attr-defined]
            pb.Execution(type_id=ids["E"]), [], []
        ),
        "put_lineage_subgraph": lambda: store.put_lineage_subgraph(  # type: ignore[attr-defined]
            [pb.Execution(type_id=ids["E"])], [], [], []
        ),
    }


def test_a_read_only_store_refuses_every_write_as_mlmd(tmp_path: Path) -> None:
    """READONLY: reads work; every write fails (ml_metadata: InternalError, "attempt to write a
    readonly database") and changes nothing. The adapter wrote. (ml_metadata 1.17.1's
    put_events returns without an error there, and stores nothing: the adapter says why.)"""
    counts = {}
    for name, opener in (("mlmd", mlmd.MetadataStore), ("ours", MetadataStore)):
        config = _sqlite(str(tmp_path / f"{name}.db"))
        writer = opener(config)
        ids = {
            "A": writer.put_artifact_type(pb.ArtifactType(name="A")),
            "E": writer.put_execution_type(pb.ExecutionType(name="E")),
            "C": writer.put_context_type(pb.ContextType(name="C")),
        }
        [ids["a"]] = writer.put_artifacts([pb.Artifact(type_id=ids["A"], uri="/a")])
        [ids["e"]] = writer.put_executions([pb.Execution(type_id=ids["E"])])
        ids["c"], ids["c2"] = writer.put_contexts(
            [pb.Context(type_id=ids["C"], name="c"), pb.Context(type_id=ids["C"], name="c2")]
        )
        if isinstance(writer, MetadataStore):
            writer.close()
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
        reader = opener(config)
        assert [a.uri for a in reader.get_artifacts()] == ["/a"]
        for method, write in _writes_of(reader, ids).items():
            if method == "put_events" and name == "mlmd":
                write()  # type: ignore[operator]
                continue
            with pytest.raises(errors.InternalError, match="readonly database"):
                write()  # type: ignore[operator]
        counts[name] = (
            len(reader.get_artifact_types()),
            len(reader.get_artifacts()),
            len(reader.get_executions()),
            len(reader.get_contexts()),
            len(reader.get_events_by_artifact_ids([ids["a"]])),
            len(reader.get_artifacts_by_context(ids["c"])),
            len(reader.get_parent_contexts_by_context(ids["c"])),
        )
        if isinstance(reader, MetadataStore):
            reader.close()
    assert counts["ours"] == counts["mlmd"] == (1, 1, 1, 2, 0, 0, 0)


@pytest.mark.parametrize(
    "uri", [":memory:", "file::memory:", "file:mem.db?mode=memory", "file:/m.db?vfs=memdb"]
)
def test_an_in_memory_sqlite_name_is_a_new_in_memory_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    """SQLite opens ``:memory:`` (and ``file::memory:``, ``mode=memory``, ``vfs=memdb``) in
    memory, and ml_metadata does too: each opening starts empty and nothing is written to disk.
    The adapter made a directory ``:memory:.lineage-graph`` in the working directory and kept
    every test's types and artifacts there for the next opening (a test suite's second run
    met the first run's data)."""
    monkeypatch.chdir(tmp_path)
    for opener in (mlmd.MetadataStore, MetadataStore):
        first = opener(_sqlite(uri))
        first.put_artifact_type(pb.ArtifactType(name="T"))
        again = opener(_sqlite(uri))
        if opener is MetadataStore:
            assert again.lineage_store.describe()["mode"] == "memory"
            first.close()
        if ":memory:" in uri:  # SQLite may share a named memory database in one process
            assert again.get_artifact_types() == []
        if isinstance(again, MetadataStore):
            again.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_uri_mode_ro_or_rw_opens_an_existing_store_only(tmp_path: Path) -> None:
    """``file:F?mode=ro`` opens F read-only and ``mode=rw`` read-write, both for an existing
    database only, as ``connection_mode`` READONLY / READWRITE do (ml_metadata passes the URI to
    SQLite): a missing one is "unable to open database file", and ``mode=ro`` refuses writes.
    The adapter read neither: it created an empty store and wrote to it."""
    for mode in ("ro", "rw"):
        missing = f"file:{tmp_path / 'missing.db'}?mode={mode}"
        with pytest.raises(RuntimeError, match="unable to open database file"):
            mlmd.MetadataStore(_sqlite(missing))
        with pytest.raises(errors.NotFoundError, match="unable to open database file"):
            MetadataStore(_sqlite(missing))
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    db = tmp_path / "m.db"
    with MetadataStore(_sqlite(str(db))) as writer:
        writer.put_artifact_type(pb.ArtifactType(name="A"))
    with MetadataStore(_sqlite(f"file:{db}?mode=rw")) as rw:
        rw.put_artifact_type(pb.ArtifactType(name="B"))
    with MetadataStore(_sqlite(f"file:{db}?mode=ro")) as ro:
        with pytest.raises(errors.InternalError, match="readonly database"):
            ro.put_artifact_type(pb.ArtifactType(name="C"))
        assert sorted(t.name for t in ro.get_artifact_types()) == ["A", "B"]


def test_a_sqlite_file_in_a_folder_that_does_not_exist_is_refused_as_mlmd(tmp_path: Path) -> None:
    """SQLite creates the database file, never its folder: ml_metadata raises "unable to open
    database file" for a mistyped folder. The adapter made the whole tree and an empty store."""
    config = _sqlite(str(tmp_path / "typo" / "sub" / "mlmd.db"))
    with pytest.raises(RuntimeError, match="unable to open database file"):
        mlmd.MetadataStore(config)
    with pytest.raises(errors.NotFoundError, match="unable to open database file") as raised:
        MetadataStore(config)
    assert isinstance(raised.value, RuntimeError)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_read_only_opening_of_an_older_store_is_refused_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """ml_metadata opened read-only cannot migrate an older database: the constructor raises
    ``RuntimeError`` (its migration disabled, or failing on the read-only file) and the file is
    unchanged. The adapter migrated the store (wrote to it) on a READONLY opening."""
    import sqlite3

    from lineage_graph._migrations import read_state
    from lineage_graph._schema import SCHEMA_VERSION
    from lineage_graph.backends import open_backend
    from tests.reliability.test_migrations import downgrade_to_v0, populate, raw_snapshot

    mlmd_db = tmp_path / "mlmd.db"
    mlmd.MetadataStore(_sqlite(str(mlmd_db)))
    with sqlite3.connect(mlmd_db) as db:
        db.execute("UPDATE MLMDEnv SET schema_version = schema_version - 1")
    db.close()
    before_bytes = mlmd_db.read_bytes()
    with LineageStore.open(sqlite_store_dir(str(tmp_path / "ours.db"))) as old:
        populate(old)
        downgrade_to_v0(old.backend)  # the layout of schema version 0
        before = raw_snapshot(old.backend)
    for name, opener in (("mlmd", mlmd.MetadataStore), ("ours", MetadataStore)):
        for uri, mode in (
            (str(tmp_path / f"{name}.db"), pb.SqliteMetadataSourceConfig.READONLY),
            (
                f"file:{tmp_path / name}.db?mode=ro",
                pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE,
            ),
        ):
            config = _sqlite(uri)
            config.sqlite.connection_mode = mode
            for upgrade in (False, True):
                with pytest.raises(RuntimeError) as caught:
                    opener(config, enable_upgrade_migration=upgrade)
                if name == "ours":
                    assert isinstance(caught.value, errors.FailedPreconditionError)
                    assert "schema version 0" in str(caught.value)
                    assert "not changed" in str(caught.value)
    assert mlmd_db.read_bytes() == before_bytes
    with open_backend(sqlite_store_dir(str(tmp_path / "ours.db"))) as backend:
        assert read_state(backend).version == 0
        assert raw_snapshot(backend) == before
    # A read-write opening migrates it, as before.
    with MetadataStore(_sqlite(str(tmp_path / "ours.db"))) as adapter:
        assert adapter.lineage_store.schema_version == SCHEMA_VERSION
        assert [t.name for t in adapter.get_artifact_types()] == ["DataSet"]


def test_a_store_of_a_newer_schema_is_refused_with_mlmds_runtime_error(tmp_path: Path) -> None:
    """ml_metadata raises ``RuntimeError`` ("database version 11 is greater than library
    version 10") for a newer database; the adapter raised FailedPreconditionError only."""
    from lineage_graph._schema import SCHEMA_VERSION

    with LineageStore.open(sqlite_store_dir(str(tmp_path / "new.db"))) as store:
        store.backend.write(
            "MATCH (m:StoreInfo {key: 'store'}) SET m.schema_version = $v",
            {"v": SCHEMA_VERSION + 1},
            name="tests/newer",
        )
    with pytest.raises(RuntimeError, match="upgrade lineage-graph") as caught:
        MetadataStore(_sqlite(str(tmp_path / "new.db")))
    assert isinstance(caught.value, errors.FailedPreconditionError)


def test_a_read_only_opening_adds_no_index_to_a_current_store(tmp_path: Path) -> None:
    """A store of the current schema version that lacks an index of this release (one an
    earlier release did not make): a READONLY opening made it, a write. Now the store's layout
    is left as it is; a read-write opening still adds the index."""
    from lineage_graph.backends import open_backend

    directory = sqlite_store_dir(str(tmp_path / "db"))
    with LineageStore.open(directory) as store:
        store.backend.write("DROP INDEX FOR (n:Artifact) ON (n.cs__digest)", {}, name="tests/drop")

    def indexed() -> bool:
        with open_backend(directory) as backend:
            rows = backend.read(
                "CALL db.indexes() YIELD label, properties RETURN label, properties",
                name="tests/indexes",
            )
        return any(r["label"] == "Artifact" and "cs__digest" in r["properties"] for r in rows)

    assert not indexed()
    config = _sqlite(str(tmp_path / "db"))
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    with MetadataStore(config) as reader:
        assert reader.get_artifact_types() == []
    assert not indexed()
    with MetadataStore(_sqlite(str(tmp_path / "db"))):
        pass
    assert indexed()


def test_a_read_only_opening_of_a_store_directory_without_a_store_writes_nothing(
    tmp_path: Path,
) -> None:
    """A directory holding a store's files but an empty graph (opened, never written: an
    opening that ended before its first write): a READONLY opening set the whole store up
    there (schema, indexes, its record), a write. ml_metadata refuses an empty database file
    opened READONLY with RuntimeError ("attempt to write a readonly database"); so does the
    adapter now, and the graph stays empty."""
    from lineage_graph.backends import open_backend

    empty = tmp_path / "empty.db"
    empty.touch()
    config = _sqlite(str(empty))
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    with pytest.raises(RuntimeError, match="attempt to write a readonly database"):
        mlmd.MetadataStore(config)

    directory = sqlite_store_dir(str(tmp_path / "db"))
    with open_backend(directory):
        pass  # the store's files, no graph

    def nodes() -> list[dict[str, object]]:
        with open_backend(directory) as backend:
            return backend.read("MATCH (n) RETURN count(n) AS n", name="tests/count")

    config = _sqlite(str(tmp_path / "db"))
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    with pytest.raises(RuntimeError, match="attempt to write a readonly database") as raised:
        MetadataStore(config)
    assert isinstance(raised.value, errors.NotFoundError)
    assert not any(row["n"] for row in nodes())  # (no graph at all: no row)
    with MetadataStore(_sqlite(str(tmp_path / "db"))) as writer:  # read-write: set up
        assert writer.get_artifact_types() == []
    with MetadataStore(config) as reader:
        assert reader.get_artifact_types() == []


def test_a_file_beside_which_no_store_is_is_not_called_an_mlmd_database(tmp_path: Path) -> None:
    """The refusal above judges a file by its size only (the file is never read), but said
    "F is an MLMD SQLite database" of any non-empty file: a text file, another application's
    SQLite database. Its advice, ``import-mlmd F``, then answered "F is not an MLMD database".
    It now says what it knows: F holds data; if it is an MLMD database, import it."""
    text = tmp_path / "notes.db"
    text.write_text("hello\n")
    with pytest.raises(errors.FailedPreconditionError) as caught:
        MetadataStore(_sqlite(str(text)))
    said = " ".join(str(caught.value).split())
    assert "is an MLMD SQLite database" not in said, said
    assert f"If {text} is an MLMD database" in said and "import-mlmd" in said, said
    assert text.read_text() == "hello\n" and not (tmp_path / "notes.db.lineage-graph").exists()


@pytest.mark.parametrize(
    ("uri", "mode", "message"),
    [
        ("file:{d}/a.db?mode=bogus", "READWRITE_OPENCREATE", "no such access mode: bogus"),
        ("file:{d}/a.db?mode=RO", "READWRITE_OPENCREATE", "no such access mode: RO"),
        ("file:{d}/a.db?mode=MEMORY", "READWRITE_OPENCREATE", "no such access mode: MEMORY"),
        ("file:{d}/a.db?cache=bogus", "READWRITE_OPENCREATE", "no such cache mode: bogus"),
        ("file:{d}/a.db?vfs=nosuch", "READWRITE_OPENCREATE", "no such vfs: nosuch"),
        ("file:{d}/a.db?vfs=MEMDB", "READWRITE_OPENCREATE", "no such vfs: MEMDB"),
        ("file://otherhost{d}/a.db", "READWRITE_OPENCREATE", "invalid uri authority: otherhost"),
        ("file://LOCALHOST{d}/a.db", "READWRITE_OPENCREATE", "invalid uri authority: LOCALHOST"),
        ("file:{d}/a.db?mode=rw", "READONLY", "access mode not allowed: rw"),
        ("file:{d}/a.db?mode=rwc", "READONLY", "access mode not allowed: rwc"),
        ("file:{d}/a.db?mode=rwc", "READWRITE", "access mode not allowed: rwc"),
        # an empty value, and a parameter given twice: SQLite checks every mode and cache
        ("file:{d}/a.db?mode=", "READWRITE_OPENCREATE", r"no such access mode: (\s|$)"),
        ("file:{d}/a.db?mode", "READWRITE_OPENCREATE", r"no such access mode: (\s|$)"),
        ("file:{d}/a.db?cache=", "READWRITE_OPENCREATE", r"no such cache mode: (\s|$)"),
        ("file:{d}/a.db?vfs=", "READWRITE_OPENCREATE", r"no such vfs: (\s|$)"),
        ("file:{d}/a.db?mode=bogus&mode=rwc", "READWRITE_OPENCREATE", "access mode: bogus"),
        ("file:{d}/a.db?cache=bogus&cache=shared", "READWRITE_OPENCREATE", "cache mode: bogus"),
        ("file:{d}/a.db?vfs=unix&vfs=nosuch", "READWRITE_OPENCREATE", "no such vfs: nosuch"),
        ("file:{d}/a.db?mode=rw&mode=ro", "READONLY", "access mode not allowed: rw"),
        # a tab or line break is part of the value, and a '+' no space (urlsplit dropped the
        # first, parse_qsl made the second a space): as SQLite reads them
        ("file:{d}/a.db?mode=r\nwc", "READWRITE_OPENCREATE", "no such access mode: r\nwc"),
        ("file:{d}/a.db?mode=rw\tc", "READWRITE_OPENCREATE", "no such access mode: rw\tc"),
        ("file:{d}/a.db?mode=r+wc", "READWRITE_OPENCREATE", r"no such access mode: r\+wc"),
    ],
)
def test_a_sqlite_uri_mlmd_refuses_is_refused_and_makes_nothing(
    tmp_path: Path, uri: str, mode: str, message: str
) -> None:
    """A ``file:`` URI ml_metadata 1.17.1's SQLite refuses (an unknown or miscased mode, cache
    or vfs; a host other than ``localhost``; a mode its connection_mode does not allow) is
    refused with its message, a RuntimeError as MLMD raises, and nothing is made. The adapter
    opened each of them, most as a new read-write store (``mode=RO`` as read-only, ``file://
    otherhost/x`` as ``/x``, ``mode=MEMORY`` in memory)."""
    mlmd_dir, ours_dir = tmp_path / "mlmd", tmp_path / "ours"
    mlmd_dir.mkdir()
    ours_dir.mkdir()
    if mode != "READWRITE_OPENCREATE":  # an existing database: only the mode is refused
        mlmd.MetadataStore(_sqlite(str(mlmd_dir / "a.db")))
        with MetadataStore(_sqlite(str(ours_dir / "a.db"))) as setup:
            setup.put_artifact_type(pb.ArtifactType(name="T"))
    before = sorted(p.name for p in ours_dir.iterdir())
    for opener, folder in ((mlmd.MetadataStore, mlmd_dir), (MetadataStore, ours_dir)):
        config = _sqlite(uri.format(d=folder))
        config.sqlite.connection_mode = getattr(pb.SqliteMetadataSourceConfig, mode)
        with pytest.raises(RuntimeError, match=message) as raised:
            opener(config)
        if opener is MetadataStore:
            assert isinstance(raised.value, errors.InvalidArgumentError)
    assert sorted(p.name for p in ours_dir.iterdir()) == before


@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_sqlite_filename_naming_a_directory_is_refused(tmp_path: Path, suffix: str) -> None:
    """SQLite opens no directory as a database file (ml_metadata: "unable to open database
    file"). The adapter opened a store beside it for ``F`` (``F.lineage-graph``) and another
    one inside it for ``F/`` (``F/.lineage-graph``): two stores for one name, neither MLMD's."""
    folder = tmp_path / "adir"
    folder.mkdir()
    config = _sqlite(f"{folder}{suffix}")
    with pytest.raises(RuntimeError, match="unable to open database file"):
        mlmd.MetadataStore(config)
    with pytest.raises(errors.NotFoundError, match="names a directory") as raised:
        MetadataStore(config)
    assert isinstance(raised.value, RuntimeError)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["adir"]


def test_sqlite_uri_parameter_names_are_case_sensitive(tmp_path: Path) -> None:
    """SQLite reads ``MODE=ro`` as no mode at all (ml_metadata creates the database, read-write):
    the adapter lower-cased the name and refused to create it (NotFoundError, read-only)."""
    mlmd.MetadataStore(_sqlite(f"file:{tmp_path / 'mlmd.db'}?MODE=ro"))
    assert (tmp_path / "mlmd.db").exists()
    with MetadataStore(_sqlite(f"file:{tmp_path / 'ours.db'}?MODE=ro")) as adapter:
        adapter.put_artifact_type(pb.ArtifactType(name="T"))
        assert [t.name for t in adapter.get_artifact_types()] == ["T"]


def test_a_sqlite_filename_under_a_home_no_user_has_is_an_mlmd_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``~nosuchuser/mlmd.db``: pathlib's bare RuntimeError "Could not determine home
    directory." came out of the constructor; now the error ml_metadata raises for a missing
    folder (it expands no '~': "unable to open database file", a RuntimeError), as for any
    other missing folder: NotFoundError and RuntimeError, not InvalidArgumentError alone."""
    monkeypatch.chdir(tmp_path)  # ml_metadata reads the name as ./~no-such-user-lg/mlmd.db
    config = _sqlite("~no-such-user-lg/mlmd.db")
    with pytest.raises(RuntimeError, match="unable to open database file"):
        mlmd.MetadataStore(config)
    with pytest.raises(errors.NotFoundError, match="~no-such-user-lg does not exist") as raised:
        MetadataStore(config)
    assert isinstance(raised.value, RuntimeError)
    assert "unable to open database file" in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("uri", ["~/{name}", "file:~/{name}"])
def test_a_sqlite_filename_starting_with_a_tilde_is_in_a_folder_named_so_as_in_mlmd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    """SQLite expands no ``~``: ml_metadata refuses ``~/m.db`` while there is no folder
    ``./~`` and writes ``./~/m.db`` once there is one. The adapter put the store in the home
    directory (``$HOME/m.db.lineage-graph``) in both cases."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    for opener, name in ((mlmd.MetadataStore, "mlmd.db"), (MetadataStore, "ours.db")):
        with pytest.raises(RuntimeError, match="unable to open database file"):
            opener(_sqlite(uri.format(name=name)))
    (work / "~").mkdir()
    mlmd.MetadataStore(_sqlite(uri.format(name="mlmd.db")))
    with MetadataStore(_sqlite(uri.format(name="ours.db"))) as adapter:
        adapter.put_artifact_type(pb.ArtifactType(name="T"))
    assert sorted(p.name for p in (work / "~").iterdir()) == ["mlmd.db", "ours.db.lineage-graph"]
    assert list(home.iterdir()) == []


@pytest.mark.parametrize("uri", ["./sub/../{name}", "file:./sub/../{name}", "file:sub/../{name}"])
def test_a_dotdot_after_a_folder_that_does_not_exist_is_read_as_sqlite_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    """SQLite resolves ``sub/..`` without looking for ``sub``: ml_metadata opens
    ``./sub/../m.db`` (the file ``./m.db``) when there is no folder ``sub``; the adapter
    refused it ("the folder sub/.. does not exist")."""
    monkeypatch.chdir(tmp_path)
    mlmd.MetadataStore(_sqlite(uri.format(name="mlmd.db")))
    with MetadataStore(_sqlite(uri.format(name="ours.db"))) as adapter:
        tid = adapter.put_artifact_type(pb.ArtifactType(name="T"))
    with MetadataStore(_sqlite("ours.db")) as again:  # the same store by its plain name
        assert again.get_artifact_type("T").id == tid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlmd.db", "ours.db.lineage-graph"]


@pytest.mark.parametrize(
    "uri", ["", ":memory:", "file::memory:", "file:m.db?mode=memory", "file:/m.db?vfs=memdb"]
)
def test_an_in_memory_sqlite_database_opened_read_only_is_as_mlmd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    """READONLY on an in-memory SQLite name: ml_metadata cannot create its tables there and the
    constructor raises RuntimeError ("attempt to write a readonly database"), but a URI's
    ``mode=memory`` replaces the read-only flag (SQLite) and the store is written. The adapter
    opened an empty store refusing every write, ``mode=memory`` included."""
    monkeypatch.chdir(tmp_path)
    outcomes = []
    for opener in (mlmd.MetadataStore, MetadataStore):
        config = _sqlite(uri)
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
        try:
            store = opener(config)
        except RuntimeError as exc:
            assert "attempt to write a readonly database" in str(exc)
            outcomes.append("refused")
            continue
        outcomes.append(store.put_artifact_type(pb.ArtifactType(name="T")))
        if isinstance(store, MetadataStore):
            store.close()
    assert outcomes[0] == outcomes[1], outcomes
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_sqlite_uri_whose_last_vfs_is_known_opens_as_in_mlmd(tmp_path: Path) -> None:
    """SQLite looks up a URI's last ``vfs`` only: ``vfs=nosuch&vfs=unix`` opens (ml_metadata
    creates the database), where every ``mode`` and ``cache`` given is checked."""
    mlmd.MetadataStore(_sqlite(f"file:{tmp_path / 'mlmd.db'}?vfs=nosuch&vfs=unix"))
    assert (tmp_path / "mlmd.db").exists()
    with MetadataStore(_sqlite(f"file:{tmp_path / 'ours.db'}?vfs=nosuch&vfs=unix")) as adapter:
        adapter.put_artifact_type(pb.ArtifactType(name="T"))
    assert (tmp_path / "ours.db.lineage-graph").is_dir()


@pytest.mark.parametrize(
    ("uri", "file"),
    [
        ("file:{d}/a\tb.db?mode=rwc", "a\tb.db"),  # urlsplit dropped the tab: ab.db
        ("file://localhost{d}/a\nb.db", "a\nb.db"),
        ("file:{d}/a.db?mode=rwc%00junk", "a.db"),  # SQLite: a %00 ends the value
        ("file:{d}/a.db%00junk?mode=rwc", "a.db"),  # ... and the path
    ],
)
def test_a_sqlite_uri_names_the_file_sqlite_reads_in_it(
    tmp_path: Path, uri: str, file: str
) -> None:
    """The file a ``file:`` URI names, and its parameters, are read as SQLite reads them:
    ml_metadata made ``a<TAB>b.db`` where the adapter opened the store of ``ab.db``, and it
    refused ``mode=rwc%00junk`` (``rwc`` to SQLite) and a path holding ``%00``."""
    mlmd_dir, ours_dir = tmp_path / "mlmd", tmp_path / "ours"
    mlmd_dir.mkdir()
    ours_dir.mkdir()
    mlmd.MetadataStore(_sqlite(uri.format(d=mlmd_dir)))
    assert [p.name for p in mlmd_dir.iterdir()] == [file]
    with MetadataStore(_sqlite(uri.format(d=ours_dir))) as adapter:
        adapter.put_artifact_type(pb.ArtifactType(name="T"))
    assert [p.name for p in ours_dir.iterdir()] == [file + ".lineage-graph"]


def test_a_dotdot_before_a_symbolic_link_names_the_store_of_the_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``link.db`` and ``./sub/../link.db`` are one SQLite database to ml_metadata (both open
    the file the link points to) and were one store to the adapter, beside the link. Reading
    ``..`` as SQLite does resolved the link too: the second name opened another, empty store
    beside the target (``real/x.db.lineage-graph``)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "mlmd.db").symlink_to("real/mlmd-target.db")
    (tmp_path / "ours.db").symlink_to("real/ours-target.db")
    seen = []
    for opener, name in ((mlmd.MetadataStore, "mlmd.db"), (MetadataStore, "ours.db")):
        first = opener(_sqlite(name))
        tid = first.put_artifact_type(pb.ArtifactType(name="T"))
        if isinstance(first, MetadataStore):
            first.close()
        for other in (f"./sub/../{name}", f"file:sub/../{name}"):
            again = opener(_sqlite(other))
            seen.append(again.get_artifact_type("T").id == tid)
            if isinstance(again, MetadataStore):
                again.close()
    assert seen == [True] * 4
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["mlmd-target.db"]


@pytest.mark.parametrize(
    ("query", "immutable"),
    [
        ("immutable=1", True),
        ("mode=rw&immutable=on", True),
        ("immutable=%31&immutable=0", True),  # SQLite reads the first one, decoded
        ("immutable=0&immutable=1", False),
        ("immutable=2147483648", False),  # no 32-bit int: 0 to SQLite
        ("IMMUTABLE=1", False),
    ],
)
def test_a_sqlite_uri_immutable_opens_the_database_read_only_as_in_mlmd(
    tmp_path: Path, query: str, immutable: bool
) -> None:
    """``file:F?immutable=1`` opens F read-only in SQLite: ml_metadata reads it and fails
    every write (InternalError "attempt to write a readonly database"), and on a name that
    holds no database yet fails its opening (RuntimeError, same words). The adapter ignored the
    parameter: it wrote to the store, and made one for a new name."""
    outcomes = []
    for opener, name in ((mlmd.MetadataStore, "mlmd.db"), (MetadataStore, "ours.db")):
        path = tmp_path / name
        first = opener(_sqlite(str(path)))
        first.put_artifact_type(pb.ArtifactType(name="Old"))
        if isinstance(first, MetadataStore):
            first.close()
        store = opener(_sqlite(f"file:{path}?{query}"))
        seen = [t.name for t in store.get_artifact_types()]
        try:
            store.put_artifact_type(pb.ArtifactType(name="New"))
            outcome = "wrote"
        except errors.InternalError as exc:
            assert "attempt to write a readonly database" in str(exc)
            outcome = "refused"
        if isinstance(store, MetadataStore):
            store.close()
        if immutable:  # a new name: no database made (mode=rw: none opened)
            with pytest.raises(RuntimeError) as raised:
                opener(_sqlite(f"file:{tmp_path / ('new-' + name)}?{query}"))
            words = ("attempt to write a readonly database", "unable to open database file")
            outcome += ", new: " + next(w for w in words if w in str(raised.value))
        outcomes.append((seen, outcome))
    expected = "refused, new: attempt to write a readonly database" if immutable else "wrote"
    if "mode=rw" in query:  # an existing database only
        expected = "refused, new: unable to open database file"
    assert outcomes[0] == outcomes[1] == (["Old"], expected), outcomes
    if immutable:
        assert not (tmp_path / "new-ours.db.lineage-graph").exists()


@pytest.mark.parametrize(
    "uri",
    [
        "file::memory:?immutable=1",
        "file:m?mode=memory&immutable=1",
        "file:/m?vfs=memdb&immutable=1",
    ],
)
def test_an_in_memory_sqlite_uri_immutable_is_as_in_mlmd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    """SQLite's ``immutable=1`` leaves ``:memory:`` and ``mode=memory`` writable, but a
    ``vfs=memdb`` database is a file to it: read-only, so ml_metadata cannot make its tables
    (RuntimeError "attempt to write a readonly database")."""
    monkeypatch.chdir(tmp_path)
    outcomes = []
    for opener in (mlmd.MetadataStore, MetadataStore):
        try:
            store = opener(_sqlite(uri))
        except RuntimeError as exc:
            assert "attempt to write a readonly database" in str(exc)
            outcomes.append("refused")
            continue
        outcomes.append(store.put_artifact_type(pb.ArtifactType(name="T")))
        if isinstance(store, MetadataStore):
            store.close()
    assert outcomes[0] == outcomes[1], outcomes
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("file:a?mode=memory&cache=shared", "file:a?cache=shared&mode=memory"),
        ("file:a?mode=memory&cache=shared", "file:%61?mode=rwc&mode=memory&cache=shared"),
        ("file::memory:?cache=shared", "file::memory:?mode=memory&cache=shared&vfs=unix"),
        ("file:/m?vfs=memdb", "file:/m?vfs=memdb&cache=shared"),
        ("file:m?vfs=memdb&cache=shared", "file:m?vfs=memdb&cache=shared"),
        ("file://localhost/a?mode=memory&cache=shared", "file:/a?mode=memory&cache=shared"),
        # each its own database
        ("file:a?mode=memory&cache=shared", "file:./a?mode=memory&cache=shared"),
        ("file:a?mode=memory&cache=shared", "file:a?mode=memory"),
        ("file:a?mode=memory&cache=shared&cache=private", "file:a?mode=memory&cache=private"),
        ("file:a?mode=memory&cache=shared", "file:a?mode=memory&cache=shared&vfs=unix-dotfile"),
        ("file:?mode=memory&cache=shared", "file:?mode=memory&cache=shared"),
        ("file:m?vfs=memdb", "file:m?vfs=memdb"),
        ("file:/m?vfs=memdb", "file:/m?mode=memory&cache=shared"),
        (":memory:", ":memory:"),
    ],
)
def test_an_in_memory_sqlite_database_is_shared_by_its_name_as_in_mlmd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str, second: str
) -> None:
    """SQLite shares an in-memory database between the connections of a process that open it
    by the same name with ``cache=shared`` (a ``vfs=memdb`` name beginning with ``/``: always),
    for as long as one of them is open: two ml_metadata stores opened so see each other's
    writes. Two adapters opened so had two empty stores."""
    monkeypatch.chdir(tmp_path)
    seen = []
    for opener in (mlmd.MetadataStore, MetadataStore):
        one, two = opener(_sqlite(first)), opener(_sqlite(second))
        one.put_artifact_type(pb.ArtifactType(name="One"))
        seen.append([t.name for t in two.get_artifact_types()])
        for store in (one, two):
            if isinstance(store, MetadataStore):
                store.close()
    assert seen[0] == seen[1], seen
    assert list(tmp_path.iterdir()) == []


def test_a_shared_in_memory_sqlite_database_lives_while_one_of_its_stores_is_open() -> None:
    """As SQLite frees a shared in-memory database with its last connection: closing one of two
    adapters keeps the data for the other (and for a new opening), closing (or dropping) the
    last one ends it, and a new opening is empty; closing one adapter twice ends its own
    opening only."""
    import gc

    uri = "file:lives?mode=memory&cache=shared"
    one, two = MetadataStore(_sqlite(uri)), MetadataStore(_sqlite(uri))
    one.put_artifact_type(pb.ArtifactType(name="T"))
    one.close()
    one.close()
    assert [t.name for t in two.get_artifact_types()] == ["T"]
    three = MetadataStore(_sqlite(uri))
    assert [t.name for t in three.get_artifact_types()] == ["T"]
    two.close()
    assert [t.name for t in three.get_artifact_types()] == ["T"]
    three.close()
    with MetadataStore(_sqlite(uri)) as again:
        assert again.get_artifact_types() == []
        again.put_artifact_type(pb.ArtifactType(name="U"))
    dropped = MetadataStore(_sqlite(uri))  # ml_metadata's code never closes a store
    dropped.put_artifact_type(pb.ArtifactType(name="V"))
    del dropped
    gc.collect()
    with MetadataStore(_sqlite(uri)) as fresh:
        assert fresh.get_artifact_types() == []


def test_a_sqlite_uri_authority_holding_a_password_is_refused_without_it(tmp_path: Path) -> None:
    """``file://user:pw@host/m.db``: SQLite refuses the authority and quotes it whole, as the
    adapter did; the password is masked there now (the refusal is ml_metadata's)."""
    uri = f"file://me:s3cret-pw@host{tmp_path}/m.db"
    with pytest.raises(RuntimeError, match="invalid uri authority"):
        mlmd.MetadataStore(_sqlite(uri))
    with pytest.raises(errors.InvalidArgumentError, match="invalid uri authority") as raised:
        MetadataStore(_sqlite(uri))
    assert "s3cret-pw" not in str(raised.value) and "me:***@host" in str(raised.value)
    assert isinstance(raised.value, RuntimeError)
    assert list(tmp_path.iterdir()) == []


def test_a_shared_in_memory_store_dropped_unclosed_ends_its_opening() -> None:
    """An adapter dropped unclosed (ml_metadata's code never closes) stayed counted as a user of
    the shared store: once the other one was closed, the store and its server ran on, and a new
    opening of the name found the old data. SQLite frees the database with its last
    connection, dropped or closed: the new opening is empty, the old store closed."""
    import gc

    uri = "file:dropped-unclosed?mode=memory&cache=shared"
    one, two = MetadataStore(_sqlite(uri)), MetadataStore(_sqlite(uri))
    one.put_artifact_type(pb.ArtifactType(name="T"))
    native = two.lineage_store
    del one
    gc.collect()
    assert [t.name for t in two.get_artifact_types()] == ["T"]  # one of its openings is left
    two.close()
    with pytest.raises(EngineError, match="the store is closed"):
        native.get_artifact_type("T")  # its server stopped, not left running
    with MetadataStore(_sqlite(uri)) as again:
        assert again.get_artifact_types() == []


def test_a_closed_adapter_of_a_shared_in_memory_store_refuses_calls() -> None:
    """Closing one adapter of a shared in-memory store leaves the store open for the others,
    but the closed adapter went on reading and writing it, where a closed adapter of any other
    store it opened raises InternalError ("the store is closed"). A store the caller gave
    stays usable through the adapter after its close, as before."""
    uri = "file:closed-one?mode=memory&cache=shared"
    one, two = MetadataStore(_sqlite(uri)), MetadataStore(_sqlite(uri))
    one.put_artifact_type(pb.ArtifactType(name="T"))
    one.close()
    with pytest.raises(errors.InternalError, match="the store is closed"):
        one.get_artifact_types()
    with pytest.raises(errors.InternalError, match="the store is closed"):
        one.put_artifact_type(pb.ArtifactType(name="U"))
    assert [t.name for t in two.get_artifact_types()] == ["T"]
    two.close()
    with LineageStore.open("memory") as store:
        given = MetadataStore(store)
        given.close()
        assert given.put_artifact_type(pb.ArtifactType(name="V")) > 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=st.text(alphabet=st.sampled_from(list("@:/%?#;=&ab9 é€😀")), max_size=12),
    encoded=st.booleans(),
)
def test_a_sqlite_uri_authority_never_shows_its_password(secret: str, encoded: bool) -> None:
    """``file://u:pw/rest@host/m.db``: SQLite's authority ends at the first ``/``, so its
    refusal quoted ``u:pw``, the password's head (a raw ``/`` in it, as any password may
    hold), where only a password before an ``@`` was masked. Nothing after the ``:`` is shown
    now (a file: URI has no port), whatever the password holds, written raw or encoded."""
    password = "Qz7" + secret
    written = urllib.parse.quote(password, safe="") if encoded else password
    uri = f"file://me:{written}@host/no-such-folder-lg/m.db"
    with pytest.raises(errors.InvalidArgumentError, match="invalid uri authority") as raised:
        MetadataStore(_sqlite(uri))
    assert "Qz7" not in str(raised.value) and "authority: me:***" in str(raised.value)


_RO = pb.SqliteMetadataSourceConfig.READONLY
_RWC = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE


@pytest.mark.parametrize(
    ("first", "second", "mode"),
    [
        ("file::memory:?cache=shared", "file::memory:?cache=shared", _RO),
        ("file::memory:?cache=shared", "file::memory:?cache=shared&mode=ro", _RWC),
        ("file::memory:?cache=shared", "file::memory:?cache=shared&immutable=1", _RO),
        ("file:m?vfs=memdb&cache=shared", "file:m?vfs=memdb&cache=shared", _RO),
        ("file:/m?vfs=memdb", "file:/m?vfs=memdb", _RO),
        ("file:/m?vfs=memdb", "file:/m?vfs=memdb&mode=ro", _RWC),
        ("file:/m?vfs=memdb", "file:/m?vfs=memdb&immutable=1", _RWC),
    ],
)
def test_a_read_only_opening_of_a_shared_in_memory_database_open_in_the_process_is_as_in_mlmd(
    first: str, second: str, mode: int
) -> None:
    """ml_metadata opens a shared in-memory name read-only while another store of the process
    holds it: it reads the data; its writes are refused on a memdb ``/name``, and pass on a
    shared-cache name (SQLite's shared cache keeps the first opening's flags). The adapter
    refused every such opening as a new, empty database. Once none holds it, both refuse it."""
    import gc

    outcomes = []
    for opener in (mlmd.MetadataStore, MetadataStore):
        one = opener(_sqlite(first))
        one.put_artifact_type(pb.ArtifactType(name="T"))
        config = _sqlite(second)
        config.sqlite.connection_mode = mode
        two = opener(config)
        seen = [t.name for t in two.get_artifact_types()]
        try:
            two.put_artifact_type(pb.ArtifactType(name="W"))
            outcome = "wrote"
        except errors.InternalError as exc:
            assert "attempt to write a readonly database" in str(exc)
            outcome = "refused"
        outcomes.append((seen, outcome, [t.name for t in one.get_artifact_types()]))
        if isinstance(one, MetadataStore) and isinstance(two, MetadataStore):
            one.close()
            two.close()
        del one, two  # ml_metadata's stores: its connections closed, the database freed
        gc.collect()
        with pytest.raises(RuntimeError, match="attempt to write a readonly database"):
            opener(config)
    assert outcomes[0] == outcomes[1], outcomes
