"""The object that manages one embedded server (ServerProcess) is freed as soon as it is
dropped: it is in no reference cycle, so a dropped store's server handle (and the process
handle it holds) does not wait for the cyclic collector."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from lineage_graph import LineageStore
from lineage_graph.backends._falkordb_server import ServerProcess
from lineage_graph.backends.embedded import EmbeddedBackend
from lineage_graph.config import EmbeddedSettings


@pytest.mark.parametrize("where", ["memory", "directory"])
def test_a_dropped_server_object_is_freed_without_the_cyclic_collector(
    tmp_path: Path, where: str, collector_off: None
) -> None:
    server = ServerProcess(None if where == "memory" else tmp_path / "store", EmbeddedSettings())
    server.start()
    try:
        assert server.answers()
    finally:
        server.kill()
        server.cleanup()
    gone = weakref.ref(server)
    del server
    assert gone() is None, "the server object waits for the cyclic collector"


@pytest.mark.parametrize("where", ["memory", "directory"])
def test_a_closed_stores_server_process_handle_is_freed(tmp_path: Path, where: str) -> None:
    """Closing a store frees the handle of the server it started (its Popen: pipes, command
    line). The registry of this process's servers kept every one it had ever started, so a
    long-lived process that opened a store per job grew by one handle per store."""
    handles = []
    for _ in range(3):
        store = LineageStore.open("memory" if where == "memory" else tmp_path / "store")
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend) and backend.server is not None
        proc = backend.server._proc
        assert proc is not None
        handles.append(weakref.ref(proc))
        store.close()
        del store, backend, proc
    gc.collect()
    assert [handle() for handle in handles] == [None, None, None]
