"""The embedded server's supervisor facing stopped (SIGSTOP) servers: real servers, real signals.

Assertions are on outcomes (which server runs, what its log says, what is left in the temporary
directory), never on durations; bounded waits only keep a hang from blocking the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage_graph import Artifact, ArtifactType, LineageStore
from lineage_graph.backends.embedded import EmbeddedBackend


def _backend(store: LineageStore) -> EmbeddedBackend:
    assert isinstance(store.backend, EmbeddedBackend) and store.backend.server is not None
    return store.backend


def _put(store: LineageStore, n: int) -> list[int]:
    store.put_artifact_type(ArtifactType(name="Data"))
    return store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(n)])


def _release(pid: int | None) -> None:
    """Never leave a server of the test stopped or running (by pid, once it is checked)."""
    if pid is None:
        return
    for sig in (signal.SIGCONT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@pytest.fixture(autouse=True)
def own_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary directory of the test's own for the socket folders (``lg-*``): short, so
    that a socket path fits in it (pytest's ``tmp_path`` can be too long: then ``/tmp``)."""
    base = Path(tempfile.mkdtemp(prefix="lgt-", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(base))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_stopped_stray_server_is_shut_down_by_its_sigterm(tmp_path: Path) -> None:
    """A server no record names (its opener killed between spawn and record) runs on the
    store's files, stopped (SIGSTOP, Ctrl-Z). The next opener stops it before it starts its
    own: a stopped process handles no SIGTERM, so it was waited for 30 s, then SIGKILLed
    without the shutdown that flushes its log. Resumed after the SIGTERM (SIGCONT, as a
    supervisor does) it shuts down on it: its log says it received SIGTERM."""
    target = tmp_path / "s"
    first = LineageStore.open(target)
    stray = _backend(first).server.pid  # type: ignore[union-attr]
    try:
        ids = _put(first, 3)
        _backend(first)._closed = True  # its process is gone, as far as the store knows
        log = target / "server.log"
        logged = log.stat().st_size
        assert stray is not None
        os.kill(stray, signal.SIGSTOP)
        (target / "server.json").unlink()  # no record names it: a stray
        with LineageStore.open(target) as store:
            assert _backend(store).server.pid != stray  # type: ignore[union-attr]
            assert [a.id for a in store.get_artifacts()] == ids
        with log.open("rb") as f:
            f.seek(logged)
            said = f.read().decode(errors="replace")
        assert f"{stray}:signal-handler" in said and "Received SIGTERM" in said
    finally:
        _release(stray)
        with contextlib.suppress(Exception):
            first.backend._db.connection.close()  # type: ignore[attr-defined]
