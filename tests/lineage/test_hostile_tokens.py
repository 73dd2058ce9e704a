"""Page tokens and lineage cursors come back from callers (an MLMD client's next_page_token, the
CLI's --cursor): any text is either one this store gave or InvalidArgumentError. JSON nested
deeper than Python's recursion limit was a bare RecursionError out of json.loads."""

from __future__ import annotations

import base64

import pytest

from lineage_graph import Artifact, ArtifactType, InvalidArgumentError, LineageStore, NodeKind
from lineage_graph.mlmd._listing import ListQuery, list_node_ids

DEEP = base64.urlsafe_b64encode(b"[" * 100_000).decode()
DEEP_OBJECT = base64.urlsafe_b64encode(b'{"a":' * 100_000).decode()


@pytest.fixture
def artifact(store: LineageStore) -> Artifact:
    store.put_artifact_type(ArtifactType(name="D"))
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
