"""What ``import-mlmd`` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import invoke


def _mlmd_store(path: Path) -> Path:
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    metadata_store.MetadataStore(config)
    return path


def test_the_source_path_is_shown_as_it_is(tmp_path: Path) -> None:
    """The table title quotes the source path: it went through rich markup as is, so
    ``x[red]y.sqlite`` showed as ``xy.sqlite`` and an ESC in the file name reached the
    terminal."""
    source = _mlmd_store(tmp_path / "x[red]y\x1b[2J.sqlite")
    result = invoke(["import-mlmd", str(source), "-s", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout, repr(result.stdout)
    assert "x[red]y\\x1b[2J" in "".join(result.stdout.split()), result.stdout


def test_json_is_never_coloured(tmp_path: Path) -> None:
    """``--json`` went through rich's print_json: with FORCE_COLOR=1 (set by many CI systems)
    stdout held ANSI colour codes, no JSON."""
    source = _mlmd_store(tmp_path / "src.sqlite")
    result = invoke(
        ["import-mlmd", str(source), "-s", str(tmp_path / "s"), "--json"],
        env={"FORCE_COLOR": "1", "NO_COLOR": None},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ids_preserved"] is True, repr(result.stdout)
