"""``Backend.record``: every statement a store sends while recording, with its wall time and the
engine's own time (what ``bench/compare.py`` reports as a row's round trips and engine time)."""

from __future__ import annotations

import pytest

from lineage_graph import Artifact, ArtifactType, LineageStore
from lineage_graph.exceptions import QueryError


def test_records_each_statement_with_its_times(store: LineageStore) -> None:
    store.put_artifact_type(ArtifactType(name="D"))
    with store.backend.record() as log:
        ids = store.put_artifacts([Artifact(type="D", uri=f"/{i}") for i in range(3)])
        got = store.get_artifacts_by_id(ids)
    assert [a.uri for a in got] == ["/0", "/1", "/2"]
    names = [s.name for s in log]
    assert "graph/write" in names and names[-1] == "artifacts/get_by_ids"
    writes = {s.name for s in log if s.write}
    assert "graph/write" in writes and "artifacts/get_by_ids" not in writes
    for s in log:
        assert s.seconds > 0 and s.round_trips >= 1
        # FalkorDB reports fractions of a millisecond, Neo4j whole ones (so up to 1 ms over)
        assert s.engine_seconds is not None and 0 <= s.engine_seconds <= s.seconds + 0.001


def test_records_only_inside_the_block_and_nests(store: LineageStore) -> None:
    store.put_artifact_type(ArtifactType(name="D"))
    (aid,) = store.put_artifacts([Artifact(type="D", uri="/x")])
    with store.backend.record() as outer:
        store.get_artifacts_by_id([aid])
        with store.backend.record() as inner:
            store.get_artifacts_by_uri("/x")
        store.get_artifacts_by_id([aid])
    store.get_artifacts_by_id([aid])  # after the blocks: recorded by neither
    assert len(inner) >= 1
    assert [s.name for s in outer].count("artifacts/get_by_ids") == 2
    assert all(s in outer for s in inner) and len(outer) == len(inner) + 2


def test_a_failed_statement_is_not_recorded(store: LineageStore) -> None:
    with store.backend.record() as log, pytest.raises(QueryError):
        store.backend.read("RETURN 1 +", name="test/broken")
    assert log == []
