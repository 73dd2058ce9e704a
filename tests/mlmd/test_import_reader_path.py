"""The child process that reads an MLMD store for an import (``lineage_graph.mlmd._reader``)
imports what the importing process imported: ml_metadata and its dependencies found on a path
put on ``sys.path`` at run time (a PEX or shiv application, a notebook's ``sys.path.append``,
a venv given another one's packages) were not on the child's path, and every import failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytest.importorskip("ml_metadata")

from .test_import import write_mlmd_sqlite

_PARENT = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])  # the packages, put on the path at run time
from lineage_graph import LineageStore
from lineage_graph.mlmd._importer import import_mlmd
store = LineageStore.open(sys.argv[3])
try:
    print(json.dumps(import_mlmd(sys.argv[2], store).counts()))
finally:
    store.close()
"""


def test_an_import_reads_with_packages_put_on_the_path_at_run_time(tmp_path: Path) -> None:
    """A venv without this interpreter's packages, given them on ``sys.path`` at run time:
    the import failed with "ml_metadata died reading it (exit 1: ModuleNotFoundError: No module
    named 'pydantic')", the child (the venv's python) finding none of them."""
    mlmd_file = tmp_path / "mlmd.sqlite"
    write_mlmd_sqlite(mlmd_file)
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    repo = str(Path(__file__).resolve().parents[2])
    packages = [repo, *dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LINEAGE_GRAPH_STORE")}
    result = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            _PARENT,
            json.dumps(packages),
            str(mlmd_file),
            str(tmp_path / "store"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "HOME": str(tmp_path)},
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    counts = json.loads(result.stdout.splitlines()[-1])
    assert counts["artifacts"] == 6 and counts["events"] == 5, counts


def test_the_reader_does_not_import_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m`` puts the working directory first on the path: run from a directory holding
    an ``ml_metadata`` package of its own (a checkout, a test fixture), the reading child
    imported that one, and the import failed ("ml_metadata died reading it")."""
    from lineage_graph import LineageStore
    from lineage_graph.mlmd._importer import import_mlmd

    mlmd_file = tmp_path / "mlmd.sqlite"
    write_mlmd_sqlite(mlmd_file)
    work = tmp_path / "work"
    (work / "ml_metadata").mkdir(parents=True)
    (work / "ml_metadata" / "__init__.py").write_text("raise ImportError('not this one')\n")
    monkeypatch.chdir(work)
    store = LineageStore.open(tmp_path / "store")
    try:
        counts = import_mlmd(str(mlmd_file), store).counts()
    finally:
        store.close()
    assert counts["artifacts"] == 6 and counts["events"] == 5, counts
