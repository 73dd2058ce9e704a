"""``MetadataStore(config)``: every kind of config MLMD code passes, and the refusals."""

from __future__ import annotations

from pathlib import Path

import ml_metadata as mlmd
import pytest
from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import LineageStore
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


def test_a_target_string_opens_that_store() -> None:
    with MetadataStore("memory") as adapter:
        assert adapter.get_executions() == []


@pytest.mark.parametrize("which", ["mysql", "postgresql"])
def test_server_databases_point_to_the_importer(which: str) -> None:
    config = pb.ConnectionConfig()
    getattr(config, which).host = "localhost"
    with pytest.raises(errors.InvalidArgumentError, match="import-mlmd"):
        MetadataStore(config)


def test_grpc_client_config_is_refused() -> None:
    with pytest.raises(errors.InvalidArgumentError, match="gRPC"):
        MetadataStore(pb.MetadataStoreClientConfig(host="localhost", port=8080))


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
