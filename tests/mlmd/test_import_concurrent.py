"""Two ``import-mlmd`` runs of the same MLMD store into the same store at once, from two processes.

Both read which MLMD nodes an earlier import had copied (none yet), then both copied them all:
MLMD's artifacts and executions without a name have no unique key here, so each was copied twice
(measured with the CLI: two concurrent ``import-mlmd --merge`` of 4,000 artifacts left 8,000
copies). An import now claims its MLMD store in the target first; the second one is refused with
FailedPreconditionError before it reads or writes anything.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ml_metadata")

from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import (
    Artifact,
    ArtifactType,
    FailedPreconditionError,
    LineageStore,
    NodeKind,
)
from lineage_graph.mlmd._importer import import_mlmd

from .test_import import _mlmd_sqlite, snapshot

#: A child process that imports ``argv[1]`` into the store ``argv[2]`` (merge) and, once its
#: first batch of artifacts is written, says "holding" and waits for a line on stdin (or is
#: killed there). It dies by itself after two minutes whatever happens.
_CHILD = """
import signal, sys
signal.alarm(120)
from lineage_graph import LineageStore
from lineage_graph.mlmd._importer import import_mlmd
held = []
def progress(stage, done, total):
    if stage == "artifacts" and not held:
        held.append(1)
        print("holding", flush=True)
        sys.stdin.readline()
with LineageStore.open(sys.argv[2]) as store:
    report = import_mlmd(sys.argv[1], store, progress=progress, merge=True)
print("done", report.artifacts, report.executions, flush=True)
"""


def _source(tmp_path: Path) -> Path:
    """Unnamed artifacts and executions (no unique key), an event, a context."""
    path = tmp_path / "mlmd.sqlite"
    ref = _mlmd_sqlite(path)
    at = ref.put_artifact_type(pb.ArtifactType(name="Examples"))
    et = ref.put_execution_type(pb.ExecutionType(name="Trainer"))
    ct = ref.put_context_type(pb.ContextType(name="pipeline"))
    ids = ref.put_artifacts([pb.Artifact(type_id=at, uri=f"/data/{i}") for i in range(5)])
    [x] = ref.put_executions([pb.Execution(type_id=et)])
    ref.put_events([pb.Event(artifact_id=ids[0], execution_id=x, type=pb.Event.INPUT)])
    [c] = ref.put_contexts([pb.Context(type_id=ct, name="p")])
    ref.put_attributions_and_associations(
        [pb.Attribution(artifact_id=ids[0], context_id=c)],
        [pb.Association(execution_id=x, context_id=c)],
    )
    return path


def _holding(source: Path, target: Path, tmpdir: Path | None = None) -> Any:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(source), str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmpdir)} if tmpdir else None,
    )
    assert child.stdout is not None and child.stdin is not None
    line = child.stdout.readline().strip()
    assert line == "holding", (line, child.wait(timeout=120))
    return child


def _counts(store: LineageStore) -> dict[NodeKind, int]:
    return {k: store.count(k) for k in (NodeKind.ARTIFACT, NodeKind.EXECUTION, NodeKind.CONTEXT)}


def test_a_second_import_of_the_same_source_at_once_is_refused(tmp_path: Path) -> None:
    source = _source(tmp_path)
    with LineageStore.open(tmp_path / "store") as store:
        store.put_artifact_type(ArtifactType(name="Mine"))
        store.put_artifacts([Artifact(type="Mine", uri="/mine")])
        child = _holding(source, tmp_path / "store")
        try:
            before = snapshot(store)
            with pytest.raises(FailedPreconditionError, match="another import of this MLMD"):
                import_mlmd(source, store, merge=True)
            assert snapshot(store) == before  # nothing written
        finally:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write("go\n")
            child.stdin.close()
            out = child.stdout.read()
            assert child.wait(timeout=120) == 0
        assert out.split() == ["done", "5", "1"]
        assert _counts(store) == {NodeKind.ARTIFACT: 6, NodeKind.EXECUTION: 1, NodeKind.CONTEXT: 1}
        # the claim is gone with the import that held it: the same merge again updates in place
        report = import_mlmd(source, store, merge=True)
        assert report.updated + report.unchanged == 7
        assert _counts(store) == {NodeKind.ARTIFACT: 6, NodeKind.EXECUTION: 1, NodeKind.CONTEXT: 1}
        assert len(store.get_events_by_artifact_ids([a.id for a in store.get_artifacts()])) == 1


def test_the_claim_of_an_import_that_died_is_taken_over_at_once(tmp_path: Path) -> None:
    """An import killed while it held its claim (kill -9: nothing released it) does not keep
    the next one waiting until the claim lapses: its process is gone from this host."""
    source = _source(tmp_path)
    with LineageStore.open(tmp_path / "store") as store:
        store.put_artifact_type(ArtifactType(name="Mine"))
        store.put_artifacts([Artifact(type="Mine", uri="/mine")])
        child = _holding(source, tmp_path / "store")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=120)
        import_mlmd(source, store, merge=True)  # completes what the dead one wrote
        assert _counts(store) == {NodeKind.ARTIFACT: 6, NodeKind.EXECUTION: 1, NodeKind.CONTEXT: 1}


def _snapshots(tmp: Path) -> set[str]:
    """The import snapshots' folders in ``tmp`` (the stores' servers put their sockets there)."""
    return {p.name for p in tmp.iterdir() if p.name.startswith("lineage-graph-mlmd-")}


def test_the_snapshot_of_an_import_that_died_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import killed while it read (kill -9, the OOM killer) left its copy of the whole MLMD
    database in the temporary directory until a reboot (one per killed import; in RAM where
    /tmp is a tmpfs): the next import removes it. A running import's is kept, and so is a
    folder an older version made (no pid, no lock)."""
    import tempfile

    source = _source(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    older = tmp / "lineage-graph-mlmd-3cd6v7tn"  # as an older version named it
    older.mkdir()
    (older / "snapshot.sqlite").write_bytes(b"")
    with LineageStore.open(tmp_path / "store") as store:
        killed = _holding(source, tmp_path / "store", tmp)
        try:
            left = [n for n in _snapshots(tmp) if n != older.name]
            assert len(left) == 1 and left[0].startswith(f"lineage-graph-mlmd-{killed.pid}-")
            running = _holding(source, tmp_path / "other", tmp)
        finally:
            killed.send_signal(signal.SIGKILL)
            killed.wait(timeout=120)
        (dead,) = (tmp / n for n in left)
        # a minute old (until then an import may not have locked its folder yet)
        os.utime(dead / "held.lock", (time.time() - 120, time.time() - 120))
        # folders of dead pids kept: one whose lock is held (an import in another pid
        # namespace), one just made (its import may not have locked it yet)
        ended = subprocess.Popen(["true"])  # (its pid, once it is reaped: no process's)
        ended.wait()
        held, young = (
            tmp / f"lineage-graph-mlmd-{ended.pid}-held",
            tmp / f"lineage-graph-mlmd-{ended.pid}-young",
        )
        for folder in (held, young):
            folder.mkdir()
            (folder / "held.lock").write_bytes(b"")
        os.utime(held / "held.lock", (time.time() - 120, time.time() - 120))
        holder = os.open(held / "held.lock", os.O_RDONLY)
        try:
            fcntl.flock(holder, fcntl.LOCK_EX)
            monkeypatch.setattr(tempfile, "tempdir", str(tmp))
            import_mlmd(source, store, merge=True)  # completes what the dead one wrote
            kept = _snapshots(tmp)
            assert dead.name not in kept
            assert kept == {
                older.name,
                held.name,
                young.name,
                *(n for n in kept if f"-{running.pid}-" in n),
            }
            assert len(kept) == 4  # the running import's folder is still there
        finally:
            os.close(holder)
            assert running.stdin is not None and running.stdout is not None
            running.stdin.write("go\n")
            running.stdin.close()
            running.stdout.read()
            assert running.wait(timeout=120) == 0
    assert _snapshots(tmp) == {older.name, held.name, young.name}
