"""``import-mlmd``'s table title quotes the source path: it went through rich markup as is, so
``x[red]y.sqlite`` showed as ``xy.sqlite`` and an ESC in the file name reached the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import invoke


def test_the_source_path_is_shown_as_it_is(tmp_path: Path) -> None:
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    source = tmp_path / "x[red]y\x1b[2J.sqlite"
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(source)
    metadata_store.MetadataStore(config)
    result = invoke(["import-mlmd", str(source), "-s", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout, repr(result.stdout)
    assert "x[red]y\\x1b[2J" in "".join(result.stdout.split()), result.stdout
