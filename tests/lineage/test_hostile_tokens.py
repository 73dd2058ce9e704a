"""Page tokens and lineage cursors come back from callers (an MLMD client's next_page_token, the
CLI's --cursor): any text is either one this store gave or InvalidArgumentError. JSON nested
deeper than Python's recursion limit was a bare RecursionError out of json.loads."""

from __future__ import annotations

import base64
import json

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
)
from lineage_graph.mlmd._listing import ListQuery, list_node_ids

DEEP = base64.urlsafe_b64encode(b"[" * 100_000).decode()
DEEP_OBJECT = base64.urlsafe_b64encode(b'{"a":' * 100_000).decode()


@pytest.fixture
def artifact(store: LineageStore) -> Artifact:
    store.put_artifact_type(ArtifactType(name="D"))
    store.put_execution_type(ExecutionType(name="E"))
    [a] = store.get_artifacts_by_id(
        store.put_artifacts([Artifact(type="D", uri="/a"), Artifact(type="D", uri="/b")])[:1]
    )
    return a


@pytest.mark.parametrize("token", [DEEP, DEEP_OBJECT], ids=["list", "object"])
def test_a_page_token_nested_too_deep_is_invalid(
    store: LineageStore, artifact: Artifact, token: str
) -> None:
    query = ListQuery(kind=NodeKind.ARTIFACT, page_token=token, limit=1)
    with pytest.raises(InvalidArgumentError, match="invalid page token"):
        list_node_ids(store, query)


@pytest.mark.parametrize("cursor", [DEEP, DEEP_OBJECT], ids=["list", "object"])
def test_a_lineage_cursor_nested_too_deep_is_invalid(
    store: LineageStore, artifact: Artifact, cursor: str
) -> None:
    with pytest.raises(InvalidArgumentError, match="not a lineage cursor"):
        store.downstream(artifact, cursor=cursor)


def test_an_edited_lineage_cursor_is_invalid(store: LineageStore, artifact: Artifact) -> None:
    """A cursor is base64 JSON a caller can decode and edit (keeping its question's
    fingerprint): a context as the last node was a bare KeyError, an id of 1e400 an
    OverflowError, and an id of "7" or 7.9 was taken as the id 7."""
    (execution,) = store.put_executions([Execution(type="E")])
    store.put_events([Event(artifact_id=artifact.id, execution_id=execution, type=EventType.INPUT)])
    page = store.downstream(artifact, limit=1)
    assert page.cursor is not None
    data = json.loads(base64.urlsafe_b64decode(page.cursor + "=" * (-len(page.cursor) % 4)))
    edits = [{"k": "Context"}, {"i": 1e400}, {"i": "7"}, {"i": 7.9}, {"i": True}, {"k": 1}]
    # an id no page ends with (-1 and 0 began again at page 1, one past int64 answered an
    # empty page) and a fingerprint that is no text were taken too
    edits += [{"i": -1}, {"i": 0}, {"i": 2**63}, {"q": 123}, {"extra": 1}]
    for edit in edits:
        cursor = base64.urlsafe_b64encode(json.dumps(data | edit).encode()).decode()
        with pytest.raises(InvalidArgumentError, match="not a lineage cursor"):
            store.downstream(artifact, limit=1, cursor=cursor)
    assert store.downstream(artifact, limit=1, cursor=page.cursor).complete
