"""Indexed text has one length limit on every engine: MAX_KEY_BYTES, as unique keys.

Neo4j's range index refuses a string key over about 8 KB and fails the whole write; FalkorDB
stores any length but its index silently misses a string over 4,096 bytes (a lookup by uri found
nothing). So a uri or a content digest over the limit is refused before anything is written, on
every engine; one at the limit is stored and found on every engine; and a longer one a store
written before holds is still found (by a scan). The engine tests run on the embedded engine,
and on Neo4j when a server is configured.
"""

from __future__ import annotations

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Context,
    ContextType,
    Execution,
    ExecutionType,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
)
from lineage_graph._encoding import INDEXED_TEXT, MAX_KEY_BYTES, check_indexed, indexable
from lineage_graph._schema import SCHEMA
from lineage_graph.models import PropertyType

#: Indexed, not unique, and bounded whatever the caller gives (so not in INDEXED_TEXT): ids and
#: times are integers, states small integers, ``type`` a type name (its key is unique, at most
#: MAX_KEY_BYTES), ``name`` part of the unique (type_id, name) key, ``input_sig`` a hash.
BOUNDED = {
    "type_id",
    "type",
    "name",
    "create_time_since_epoch",
    "last_update_time_since_epoch",
    "state",
    "last_known_state",
    "input_sig",
}


def test_every_indexed_free_text_property_is_checked() -> None:
    """A new index on a property that can hold any text must join INDEXED_TEXT (or BOUNDED)."""
    plain = {prop for index in SCHEMA.indexes if not index.unique for prop in index.properties}
    assert plain - BOUNDED == INDEXED_TEXT


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("x" * MAX_KEY_BYTES, True),
        ("x" * (MAX_KEY_BYTES + 1), False),
        ("é" * (MAX_KEY_BYTES // 2), True),  # 2 bytes each: bytes count, not characters
        ("é" * (MAX_KEY_BYTES // 2 + 1), False),
        ("🙂" * (MAX_KEY_BYTES // 4 + 1), False),
    ],
    ids=lambda v: f"{len(v)}chars" if isinstance(v, str) else str(v),
)
def test_check_indexed_counts_utf8_bytes(value: str, ok: bool) -> None:
    assert indexable(value) is ok  # FalkorDB's index finds the same strings
    if ok:
        check_indexed("uri", value)
    else:
        with pytest.raises(InvalidArgumentError, match=f"uri is too long: .*{MAX_KEY_BYTES}"):
            check_indexed("uri", value)


@pytest.fixture
def data(store: LineageStore) -> LineageStore:
    store.put_artifact_type(ArtifactType(name="Data", properties={"digest": PropertyType.STRING}))
    return store


LONGEST = "u" * MAX_KEY_BYTES
TOO_LONG = "é" * (MAX_KEY_BYTES // 2 + 1)


def test_indexed_text_at_the_limit_is_stored_and_found(data: LineageStore) -> None:
    artifact = Artifact(
        type="Data",
        uri=LONGEST,
        properties={"digest": "d" * MAX_KEY_BYTES},
        custom_properties={"digest": "é" * (MAX_KEY_BYTES // 2)},
    )
    [aid] = data.put_artifacts([artifact])
    [got] = data.get_artifacts_by_uri(LONGEST)
    assert got.id == aid
    assert got.properties == artifact.properties
    assert got.custom_properties == artifact.custom_properties


@pytest.mark.parametrize(
    "bad",
    [
        Artifact(type="Data", uri=TOO_LONG),
        Artifact(type="Data", properties={"digest": TOO_LONG}),
        Artifact(type="Data", custom_properties={"digest": TOO_LONG}),
    ],
    ids=["uri", "digest", "custom digest"],
)
def test_indexed_text_over_the_limit_is_refused_everywhere(
    data: LineageStore, bad: Artifact
) -> None:
    """Refused before anything is written, the same on every engine (Neo4j failed the write
    with its own error; FalkorDB stored it)."""
    [kept] = data.put_artifacts([Artifact(type="Data", uri="/kept")])
    with pytest.raises(InvalidArgumentError, match=f"too long: {len(TOO_LONG) * 2} bytes"):
        data.put_artifacts([Artifact(type="Data", uri="/new"), bad])
    assert data.count(NodeKind.ARTIFACT) == 1
    update = bad.model_copy(update={"id": kept})
    with pytest.raises(InvalidArgumentError, match="it is indexed"):
        data.put_artifacts([update])
    [got] = data.get_artifacts_by_id([kept])
    assert (got.uri, got.properties, got.custom_properties) == ("/kept", {}, {})


def test_longer_text_stored_before_is_still_found(
    data: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written before the limit may hold a longer uri or digest: lookups do not trust
    FalkorDB's index for it (``indexable``) and still find it."""
    import lineage_graph._repositories.nodes as nodes

    with monkeypatch.context() as patch:  # the write path of a library without the check
        patch.setattr(nodes, "check_indexed", lambda field, value: None)
        [aid] = data.put_artifacts(
            [Artifact(type="Data", uri=TOO_LONG, properties={"digest": TOO_LONG})]
        )
    assert [a.id for a in data.get_artifacts_by_uri(TOO_LONG)] == [aid]


def test_longer_text_stored_before_may_stay_on_update(
    data: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update that leaves such a value as it is (a state change, a registration) is not
    refused; one that writes another value over the limit is."""
    import lineage_graph._repositories.nodes as nodes

    with monkeypatch.context() as patch:  # the write path of a library without the check
        patch.setattr(nodes, "check_indexed", lambda field, value: None)
        [aid] = data.put_artifacts(
            [Artifact(type="Data", uri=TOO_LONG, custom_properties={"digest": TOO_LONG})]
        )
    [stored] = data.get_artifacts_by_id([aid])
    stored.state = ArtifactState.DELETED
    stored.custom_properties["note"] = "kept"
    data.put_artifacts([stored])  # a full update, the long values unchanged
    [got] = data.get_artifacts_by_id([aid])
    assert (got.state, got.uri, got.custom_properties["note"]) == (
        ArtifactState.DELETED,
        TOO_LONG,
        "kept",
    )
    with pytest.raises(InvalidArgumentError, match="uri is too long"):
        data.put_artifacts([got.model_copy(update={"uri": TOO_LONG + "x"})])


def test_only_artifacts_have_the_digest_index(store: LineageStore) -> None:
    """Executions and contexts may hold a digest of any length: no index holds theirs."""
    digest = {"digest": TOO_LONG}
    store.put_execution_type(ExecutionType(name="Run"))
    store.put_context_type(ContextType(name="Exp"))
    [eid] = store.put_executions([Execution(type="Run", custom_properties=digest)])
    [cid] = store.put_contexts([Context(type="Exp", name="c", custom_properties=digest)])
    assert store.get_executions_by_id([eid])[0].custom_properties == digest
    assert store.get_contexts_by_id([cid])[0].custom_properties == digest
