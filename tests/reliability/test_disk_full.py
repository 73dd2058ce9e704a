"""A full disk under the embedded engine: the store's directory on a small tmpfs (needs root and
``mount``; skipped otherwise).

With ``appendfsync always`` the server exits at the first write it cannot log, and a server
started on a full disk exits as it starts (it appends to its log at start-up). The write in
flight and every later call must raise ``EngineUnavailableError`` (retryable), never hand an id
out twice, and once there is room again everything acknowledged is there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    ConfigurationError,
    EngineUnavailableError,
    ImpactMark,
    LineageStore,
    NodeKind,
)
from lineage_graph.backends.embedded import EmbeddedBackend
from tests.reliability._integrity import assert_healthy
from tests.reliability.conftest import assert_ids_stay_spent, kill_pid, record


def _mount(path: Path, size: str, *options: str) -> None:
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted at the end (the test closes its store first)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8) for a small tmpfs")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    try:
        _mount(mnt, "4m")
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def _room(mnt: Path) -> None:
    _mount(mnt, "64m", "remount")


def _fill(path: Path) -> None:
    """Another file takes every byte left."""
    with path.open("wb", buffering=0) as f:
        for chunk in (65536, 4096, 1):  # down to the last byte: nothing left for a page
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass


def test_a_server_that_cannot_restart_on_a_full_disk_keeps_the_ids_of_the_write_spent(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server applied a write (logged), then died before its reply, and the disk filled up
    meanwhile: the restart failed (the new server exits at its first write to the log). That
    failure escaped as EngineError (not retryable), and the write gave its new ids back, so the
    next write, once there was room, stored another artifact under the id of the one applied
    and was read back "applied" on it: an acknowledged write lost, an id handed out twice. Now
    the write is in doubt (EngineUnavailableError, retryable, naming its ids) and the ids stay
    spent."""
    filler = small_disk / "filler"
    send = EmbeddedBackend._execute
    armed = [True]

    def execute_(backend: EmbeddedBackend, *args: Any) -> Any:
        if not (armed[0] and args and args[0] == "GRAPH.QUERY"):
            return send(backend, *args)
        armed[0] = False
        send(backend, *args)  # applied and logged; its reply is dropped below
        _fill(filler)
        assert backend.server is not None and backend.server.pid is not None
        kill_pid(backend.server.pid)
        # What the dead server's files held open took (an AOF rewrite's temporary file, freed
        # at its death) is taken too: the restart must meet a full disk (CI, under load, once
        # restarted into that room and the write was read back as applied).
        _fill(small_disk / "filler-2")
        return send(backend, "PING")  # a real ConnectionError: the reply never comes

    with LineageStore.open(small_disk / "s") as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        [first] = store.put_artifacts([Artifact(type="Data", uri="/first")])
        monkeypatch.setattr(EmbeddedBackend, "_execute", execute_)
        # The restart fails on the full disk here; in CI it has also come up, then died at its
        # first write to the full AOF (in doubt), or come up and read the write back (applied:
        # it returns). Whichever, no id is handed out twice and nothing acknowledged is lost.
        # (test_lost_replies.py kills the new server as it starts: the failed restart, always.)
        try:
            [applied] = store.put_artifacts([Artifact(type="Data", uri="/applied")])
        except EngineUnavailableError as exc:
            assert exc.retryable and exc.new_ids is not None
            [applied] = exc.new_ids["Artifact"]
        monkeypatch.undo()
        filler.unlink()
        (small_disk / "filler-2").unlink()
        assert_ids_stay_spent(store, first, applied)


def test_every_call_on_a_full_disk_is_retryable_and_nothing_acknowledged_is_lost(
    small_disk: Path,
) -> None:
    """Writes until the disk is full: the failing write and the calls after it raised
    EngineError ("failed to start", not retryable) whenever the server's restart met the full
    disk; the documented EngineUnavailableError (retryable) now. With room again, the store
    works and holds every acknowledged write."""
    acked: list[int] = []
    errors: list[EngineUnavailableError] = []
    with LineageStore.open(small_disk / "s") as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        for i in range(5000):
            try:
                acked += store.put_artifacts([Artifact(type="Data", uri=f"/{i}/" + "x" * 2000)])
            except EngineUnavailableError as exc:  # any other error fails the test
                errors.append(exc)
                break
        assert errors, "the disk never filled up"
        _fill(small_disk / "filler")  # not a byte left: a server started now exits at once
        for i in range(200):  # a small write may still fit in the last page of the log
            try:
                acked += store.put_artifacts([Artifact(type="Data", uri=f"/full/{i}")])
            except EngineUnavailableError as exc:
                errors.append(exc)
                if len(errors) == 4:
                    break
        assert len(errors) == 4
        assert all(e.retryable for e in errors)
        try:  # a read answers (a server that restarted) or raises the same error
            assert store.count(NodeKind.ARTIFACT) == len(acked)
        except EngineUnavailableError as exc:
            assert exc.retryable
        _room(small_disk)
        assert store.count(NodeKind.ARTIFACT) == len(acked)
        stored = {a.id for a in store.get_artifacts()}
        assert set(acked) <= stored  # nothing acknowledged lost
        [after] = store.put_artifacts([Artifact(type="Data", uri="/after")])
        assert after > max(acked)
        assert_healthy(store)
    with LineageStore.open(small_disk / "s") as store:  # and after a reopen
        assert {a.id for a in store.get_artifacts()} == stored | {after}
    record("disk full: 4 MB tmpfs", writes_acknowledged=len(acked), retryable_errors=len(errors))


def test_opening_a_store_on_a_nearly_full_disk_is_retryable(small_disk: Path) -> None:
    """One page left: the server record is written, then the server exits as it starts (it
    appends to its log at start-up). Opening raised EngineError ("failed to start", not
    retryable, the reason cut off by the log's noise); it is EngineUnavailableError now, saying
    the disk is full, and the store opens whole once there is room."""
    data = small_disk / "s"
    with LineageStore.open(data) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        ids = store.put_artifacts([Artifact(type="Data", uri="/x" * 1000) for _ in range(100)])
    gap = small_disk / "gap"
    gap.write_bytes(b"\0" * 4096)
    _fill(small_disk / "filler")
    gap.unlink()  # one page left
    with pytest.raises(EngineUnavailableError) as info:
        LineageStore.open(data)
    assert info.value.retryable
    assert "no space left on device" in str(info.value).lower()
    (small_disk / "filler").unlink()
    with LineageStore.open(data) as store:
        assert [a.id for a in store.get_artifacts()] == ids
        assert_healthy(store)


def test_closing_a_store_on_a_full_disk_stops_its_server_itself(small_disk: Path) -> None:
    """The server refuses ``SHUTDOWN SAVE`` when it cannot write its snapshot (``dump.rdb``)
    and runs on: the close waited 30 s for it to exit, then killed it. Its append-only log
    holds every acknowledged write (fsynced before each reply, flushed again by SHUTDOWN before
    the snapshot), so the close now has it exit without the snapshot: it exits by itself
    (status 0, not killed), and everything acknowledged is there once there is room."""
    data = small_disk / "s"
    store = LineageStore.open(data)
    try:  # closed before the disk is unmounted, whatever fails (unreachable after)
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend) and backend.server is not None
        proc = backend.server._proc
        assert proc is not None
        store.put_artifact_type(ArtifactType(name="Data"))
        ids = store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(20)])
        _fill(small_disk / "filler")
        store.close()
        assert proc.returncode == 0, proc.returncode  # -9: killed after the 30 s wait
    finally:
        store.close()
    (small_disk / "filler").unlink()
    with LineageStore.open(data) as store:
        assert [a.id for a in store.get_artifacts()] == ids
        assert_healthy(store)


_LIMITED_WRITER = """
import json, sys
from lineage_graph import Artifact, ArtifactType, EngineUnavailableError, LineageStore
store = LineageStore.open(sys.argv[1])
store.put_artifact_type(ArtifactType(name="Data"))
acked, errors = [], []
for batch in range(400):
    try:
        ids = store.put_artifacts([Artifact(type="Data", uri=f"/{batch}/{i}") for i in range(200)])
        acked.append(ids)
    except EngineUnavailableError as exc:
        errors.append([str(exc), exc.retryable])
        if len(errors) == 2:
            break
store.close()
print(json.dumps({"acked": acked, "errors": errors}))
"""


def test_a_file_size_limit_says_so_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """A process run under a file size limit (``ulimit -f``, set by some batch systems) passes
    it on to its server: once the store's append-only log reaches it, the kernel kills the
    server (SIGXFSZ) at the write that crosses it, and every later write kills the restarted
    server again. Each said only "died during query ... and was restarted; retry the call",
    which could never work. The error now names the limit and how to raise it; every write
    acknowledged is there once the limit is gone."""
    import json
    import resource
    import sys

    from tests.reliability.conftest import ROOT, child_env

    path = tmp_path / "store"
    limit = 2 << 20

    def limited() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = subprocess.run(
        [sys.executable, "-c", _LIMITED_WRITER, str(path)],
        cwd=ROOT,
        env=child_env(),
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["acked"] and len(result["errors"]) == 2, out.stderr[-2000:]
    for message, retryable in result["errors"]:
        assert retryable
        assert "SIGXFSZ" in message and "ulimit -f" in message and str(limit) in message
    with LineageStore.open(path) as store:
        stored = {a.id: a.uri for a in store.get_artifacts()}
        for ids in result["acked"]:
            assert all(i in stored for i in ids)
        assert_healthy(store)
    record("file size limit", acked=len(result["acked"]), stored=len(stored))


_RAISING_WRITER = """
import json, resource, sys
from lineage_graph import Artifact, ArtifactType, EngineUnavailableError, LineageStore
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
store = LineageStore.open(sys.argv[1])
store.put_artifact_type(ArtifactType(name="Data"))
errors = []
for batch in range(400):
    try:
        store.put_artifacts([Artifact(type="Data", uri=f"/{batch}/{i}") for i in range(200)])
    except EngineUnavailableError as exc:
        errors.append(str(exc))
        break
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
for attempt in range(3):
    try:
        store.put_artifacts([Artifact(type="Data", uri=f"/raised/{attempt}")])
        break
    except EngineUnavailableError as exc:
        errors.append(str(exc))
store.close()
print(json.dumps(errors))
"""


def test_a_file_size_limit_raised_meanwhile_is_not_said_to_be_the_one_that_killed(
    tmp_path: Path,
) -> None:
    """A program that raises its file size limit after the first SIGXFSZ error: the server the
    library had restarted still had the old limit, and its death at the next write said
    "ulimit -f: unlimited; raise that limit (ulimit -f unlimited)", the process's limit now,
    not the one that killed the server. It names the server's limit and says to retry, which
    works (the next server gets the process's limit)."""
    import json
    import sys

    from tests.reliability.conftest import ROOT, child_env

    limit = 2 << 20
    out = subprocess.run(
        [sys.executable, "-c", _RAISING_WRITER, str(tmp_path / "store"), str(limit)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    errors = json.loads(out.stdout)
    assert len(errors) == 2, out.stderr[-2000:]
    first, after_raise = errors
    assert f"ulimit -f: {limit} bytes); raise that limit" in first
    assert f"ulimit -f: {limit} bytes); this process's limit is unlimited now" in after_raise
    assert after_raise.endswith("retry the call")


def test_a_full_disk_under_fsync_everysec_is_retryable_and_heals_by_itself(
    small_disk: Path,
) -> None:
    """With ``fsync="everysec"`` the server does not exit when it cannot write its log: it
    refuses every write ("MISCONF Errors writing to the AOF file: No space left on device")
    until it can. That was QueryError ("FalkorDB rejected the query": not retryable, read as a
    library bug); it is EngineUnavailableError (retryable) now, saying the disk is full, as
    with ``fsync="always"``. Reads still answer, nothing acknowledged is lost, and once there is
    room the same store takes writes again with no other step."""
    data = small_disk / "s"
    acked: list[int] = []
    with LineageStore.open(data, fsync="everysec", socket_timeout_s=3) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        acked += store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(20)])
        _fill(small_disk / "filler")
        refused: EngineUnavailableError | None = None
        for i in range(200):  # the first writes may fit in the log's last page, or its buffer
            try:
                acked += store.put_artifacts([Artifact(type="Data", uri=f"/full/{i}/" + "x" * 500)])
            except EngineUnavailableError as exc:  # QueryError before: the test fails on it
                refused = exc
                break
        assert refused is not None, "the disk never filled up"
        assert refused.retryable
        assert "no space left on device" in str(refused).lower()
        assert "free space" in str(refused).lower()
        # Refused before it ran, so not in doubt: it said "nothing of it was written", and
        # then noted "the write may have been applied", named new_ids to read back, and kept
        # them spent (each retry on the full disk spent more); an impact mark got a token.
        assert refused.nothing_written
        assert refused.new_ids is None and refused.in_doubt_result is None
        assert not getattr(refused, "__notes__", None)
        with pytest.raises(EngineUnavailableError) as marked:
            store.impact(
                Artifact(id=acked[0], type="Data"), mark=ImpactMark(state=ArtifactState.DELETED)
            )
        assert marked.value.nothing_written and marked.value.mark_token is None
        assert store.count(NodeKind.ARTIFACT) == len(acked)  # nothing partial
        # The server refuses PING too while it cannot log: opening its store again raised
        # redis's bare ResponseError ("MISCONF"); it opens, and reads answer.
        with LineageStore.open(data, fsync="everysec") as other:
            assert other.count(NodeKind.ARTIFACT) == len(acked)
        # ... and the supervision's "does it answer a PING?" said no: a server so found, idle,
        # is taken for hung and killed, losing every write acknowledged since the disk filled.
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend) and backend.server is not None
        assert backend.server.answers()
        # A command whose wait was interrupted (Ctrl-C) is awaited before the next is sent, by
        # a token sent after it: PING's, refused, never came, and the connection was dropped
        # after socket_timeout_s (11 min by default; 3 s here).
        pool = backend._db.connection.connection_pool
        conn = pool.get_connection()
        conn.send_command("GRAPH.RO_QUERY", backend._graph.name, "RETURN 1", "--compact")
        backend._owed = (conn, pool)
        sock = conn._sock
        assert store.count(NodeKind.ARTIFACT) == len(acked)
        assert conn._sock is sock  # in step (the token came): kept, not dropped and reopened
        (small_disk / "filler").unlink()
        # The server retries its log write by itself (once a second): retried until it takes
        # it, bounded.
        for _ in range(100):
            try:
                [after] = store.put_artifacts([Artifact(type="Data", uri="/after")])
                break
            except EngineUnavailableError:
                time.sleep(0.2)
        else:
            raise AssertionError("the store took no write once there was room again")
        assert after == max(acked) + 1  # the refused writes gave their ids back
        acked.append(after)
        assert {a.id for a in store.get_artifacts()} == set(acked)
    with LineageStore.open(data) as store:
        assert {a.id for a in store.get_artifacts()} == set(acked)
        assert_healthy(store)


def test_a_store_on_a_file_system_mounted_read_only_says_so(small_disk: Path) -> None:
    """A store whose file system was remounted read-only was refused as "the data directory
    ... is not writable", which sent the user to chmod a directory no mode makes writable. It
    says now that the file system is mounted read-only and what to do (ConfigurationError,
    files untouched), and opens as before once it is read-write again."""
    data = small_disk / "s"
    with LineageStore.open(data) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        ids = store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(3)])
    _mount(small_disk, "4m", "remount", "ro")
    try:
        with pytest.raises(ConfigurationError) as info:
            LineageStore.open(data, migrate=False)
        assert "mounted read-only" in str(info.value) and "Remount" in str(info.value)
    finally:
        _mount(small_disk, "4m", "remount", "rw")
    with LineageStore.open(data) as store:
        assert [a.id for a in store.get_artifacts()] == ids
        [after] = store.put_artifacts([Artifact(type="Data", uri="/after")])
        assert after > max(ids)
