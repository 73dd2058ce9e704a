"""The embedded engine's per-query memory cap (``query_mem_capacity``) reached by a big write."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    QueryError,
)
from lineage_graph.config import MIN_QUERY_MEM_CAPACITY


def test_a_write_past_the_memory_cap_says_what_to_do_and_writes_nothing(tmp_path: Path) -> None:
    """A batch whose statement needs more than the cap was refused as "FalkorDB rejected the
    query: Query's mem consumption exceeded capacity": read as a library bug, and naming no
    setting. It says now that the batch is to be split or the cap (its setting) raised, and
    nothing of it is stored; a smaller batch then goes through on the same store."""
    cap = 2 * MIN_QUERY_MEM_CAPACITY
    with LineageStore.open(tmp_path / "s", query_mem_capacity=cap) as store:
        store.put_artifact_type(ArtifactType(name="Data", properties={"p": "STRING"}))
        big = [
            Artifact(type="Data", uri=f"/{i}", properties={"p": "x" * 100_000}) for i in range(40)
        ]
        with pytest.raises(QueryError) as info:
            store.put_artifacts(big)
        message = str(info.value)
        assert "query_mem_capacity" in message and "LINEAGE_GRAPH_QUERY_MEM_CAPACITY" in message
        assert "smaller batch" in message and "nothing was changed" in message
        assert store.count(NodeKind.ARTIFACT) == 0
        [small] = store.put_artifacts(big[:1])
        assert [a.id for a in store.get_artifacts()] == [small]


def test_a_value_past_the_servers_command_limit_is_refused_before_it_is_sent(
    tmp_path: Path,
) -> None:
    """A statement over Redis' 512 MiB limit on one argument (``proto-max-bulk-len``): the
    server closed the connection once it had been sent ("invalid bulk length"), which came as
    EngineUnavailableError (retryable, "the write may have been applied") though every retry
    failed alike. It is InvalidArgumentError now, before anything is sent, and the store goes
    on. (About 1.6 GB of client memory for a moment.)"""
    with LineageStore.open(tmp_path / "s") as store:
        store.put_artifact_type(ArtifactType(name="Data", properties={"p": "STRING"}))
        huge = Artifact(type="Data", uri="/huge", properties={"p": "x" * (512 * 1024**2 + 1)})
        with pytest.raises(InvalidArgumentError) as info:
            store.put_artifacts([huge])
        del huge
        assert "512 MiB" in str(info.value) and "smaller batches" in str(info.value)
        assert store.count(NodeKind.ARTIFACT) == 0
        [after] = store.put_artifacts([Artifact(type="Data", uri="/after")])
        assert [a.id for a in store.get_artifacts()] == [after]
