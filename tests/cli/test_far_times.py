"""Times no date holds: an MLMD store may hold any int64 as a create or update time, and an
import keeps it."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path

import pytest

from lineage_graph import LineageStore

from .conftest import invoke

pytest.importorskip("ml_metadata")

#: Past datetime's years 1 to 9999, each side, and the first millisecond of the year 10000.
FAR = (2**62, -(2**62), 253_402_300_800_000)
#: FAR and a time of 2026-12-06.
TIMES = (*FAR, 1_796_567_231_251)


def _imported(tmp_path: Path) -> Path:
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    from lineage_graph.mlmd._importer import import_mlmd

    mlmd_file = tmp_path / "mlmd.sqlite"
    source = pb.SqliteMetadataSourceConfig(
        filename_uri=str(mlmd_file),
        connection_mode=pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE,
    )
    mlmd = metadata_store.MetadataStore(pb.ConnectionConfig(sqlite=source))
    type_id = mlmd.put_artifact_type(pb.ArtifactType(name="D"))
    ids = mlmd.put_artifacts([pb.Artifact(type_id=type_id, uri=f"s3://b/{t}") for t in TIMES])
    del mlmd
    with sqlite3.connect(mlmd_file) as db:
        for node_id, when in zip(ids, TIMES, strict=True):
            db.execute(
                "UPDATE Artifact SET create_time_since_epoch = ?, "
                "last_update_time_since_epoch = ? WHERE id = ?",
                (when, when, node_id),
            )
    db.close()
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        import_mlmd(mlmd_file, store)
        assert sorted(a.create_time_since_epoch for a in store.get_artifacts()) == sorted(TIMES)
    return path


def test_times_no_date_holds_are_shown_as_numbers(tmp_path: Path) -> None:
    """``ls`` and ``show`` of an artifact created at 2**62 ms (imported from MLMD) stopped on
    a ValueError traceback ("year 146140482 is out of range", exit 70): the time is shown as
    its number of milliseconds."""
    path = _imported(tmp_path)
    listed = invoke(["ls", "artifacts", "--store", str(path)])
    assert listed.exit_code == 0, listed.output
    for when in FAR:
        assert f"{when} ms" in listed.stdout
    shown = invoke(["show", "1", "--store", str(path)])
    assert shown.exit_code == 0, shown.output
    assert f"created  {FAR[0]} ms" in shown.stdout and f"updated  {FAR[0]} ms" in shown.stdout


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_a_plot_leaves_out_times_no_date_holds(tmp_path: Path) -> None:
    """``stats --plot`` of such a store stopped on the same ValueError traceback."""
    path = _imported(tmp_path)
    plot = tmp_path / "stats.png"
    done = invoke(["stats", "--plot", str(plot), "--store", str(path)])
    assert done.exit_code == 0, done.output
    assert plot.stat().st_size > 0


def test_days_created_are_in_time_order(tmp_path: Path) -> None:
    """``stats --json``'s ``artifacts_created_by_day`` is documented in order: sorted by name,
    the year 10000 came before 2026."""
    path = _imported(tmp_path)
    done = invoke(["stats", "--json", "--store", str(path)])
    assert done.exit_code == 0, done.output
    days = list(json.loads(done.stdout)["artifacts_created_by_day"])
    assert days == ["-146136543-09-08", "2026-12-06", "10000-01-01", "146140482-04-24"]
