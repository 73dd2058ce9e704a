"""The object that manages one embedded server (ServerProcess) is freed as soon as it is
dropped: it is in no reference cycle, so a dropped store's server handle (and the process
handle it holds) does not wait for the cyclic collector."""

from __future__ import annotations

import weakref
from pathlib import Path

import pytest

from lineage_graph.backends._falkordb_server import ServerProcess
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
