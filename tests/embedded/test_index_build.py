"""FalkorDB builds a new range index in the background; a store opened by a newer library
(which adds an index, as the update-time index of the ninth round) waits until the engine
reports every index OPERATIONAL, as the Neo4j backend waits for its own."""

from __future__ import annotations

import time

import pytest

from lineage_graph import LineageStore
from lineage_graph.backends.embedded import EmbeddedBackend


@pytest.mark.slow
def test_opening_waits_for_an_index_it_adds() -> None:
    with LineageStore.open("memory") as store:
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        # a store of an earlier version: 200k artifacts, no index on their update time
        # (rebuilding the label's index then takes FalkorDB 4.16 ~2.5 s)
        backend.write(
            "UNWIND range(1, 200000) AS i "
            "CREATE (:Artifact {id: i, last_update_time_since_epoch: i})",
            name="test/old_store",
        )
        backend.write("DROP INDEX ON :Artifact(last_update_time_since_epoch)", name="test/drop")
        deadline = time.monotonic() + 300  # dropped in the background too: the label's
        while _indexes(backend) != {"OPERATIONAL"} or _indexed(backend):  # index is rebuilt
            assert time.monotonic() < deadline, "the index drop did not end in 300 s"
            time.sleep(0.05)  # without the field
        LineageStore(backend)  # opened again: ensure_schema adds the index
        assert _indexed(backend)
        assert _indexes(backend) == {"OPERATIONAL"}


def _indexes(backend: EmbeddedBackend) -> set[str]:
    return {r["status"] for r in backend.read("CALL db.indexes() YIELD status RETURN status")}


def _indexed(backend: EmbeddedBackend) -> bool:
    rows = backend.read("CALL db.indexes() YIELD label, properties RETURN label, properties")
    return any(
        r["label"] == "Artifact" and "last_update_time_since_epoch" in r["properties"] for r in rows
    )
