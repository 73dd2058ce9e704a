"""Property keys on the embedded engine: every key a statement writes is registered first.

FalkorDB 4.16 undoes the creation of a property key when the statement that created it fails,
while a statement running at the same time may already use the key: that one's nodes are left
with a key id whose name was freed (garbage names, UnicodeDecodeError in replies). The store
registers keys before any write uses them, by a statement with nothing in it that fails on
purpose (EmbeddedBackend.ensure_property_keys).
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactState,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    ImpactMark,
    LineageStore,
    NodeKind,
    NodeRef,
    ParentContext,
    PropertyType,
)
from lineage_graph import _schema as schema
from lineage_graph import store as store_module
from lineage_graph.backends.embedded import REGISTER_KEYS, EmbeddedBackend

ROUNDS = 60
KEYS = "CALL db.propertyKeys() YIELD propertyKey AS k RETURN k"


def test_racing_writers_each_bringing_a_new_key_keep_every_key(tmp_path: Path) -> None:
    """Two stores on one directory put the same names at the same moment, each node with a
    custom property whose key is new that round: one writer wins each name, the other's write
    fails, and every stored node still reads back its key and value. (Without the registration,
    the failed write undid the key under the winner's node: this test failed in 5 of 5 runs.)"""
    target = tmp_path / "race"
    with LineageStore.open(target) as a, LineageStore.open(target) as b:
        a.put_artifact_type(ArtifactType(name="DataSet"))
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def race(store: LineageStore, side: str) -> None:
            for i in range(ROUNDS):
                barrier.wait()
                artifact = Artifact(
                    type="DataSet", name=f"n{i}", custom_properties={f"round {i}": f"{side}{i}"}
                )
                try:
                    store.put_artifacts([artifact])
                except AlreadyExistsError:
                    pass
                except BaseException as exc:
                    errors.append(exc)

        threads = [
            threading.Thread(target=race, args=(s, side)) for s, side in ((a, "a"), (b, "b"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        for store in (a, b):
            stored = {x.name: x.custom_properties for x in store.get_artifacts()}
            assert sorted(stored) == sorted(f"n{i}" for i in range(ROUNDS))
            for i in range(ROUNDS):
                assert stored[f"n{i}"] in ({f"round {i}": f"a{i}"}, {f"round {i}": f"b{i}"})


def test_no_write_statement_brings_a_key_it_did_not_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write path (types and their upgrade, nodes and their updates, events, links,
    parent contexts, put_execution, put_lineage_subgraph, impact marks and their undo,
    retention): each key a write statement makes was registered before that statement ran
    (observed around each statement). A key missing from the schema's fixed list, a write path
    that does not register its keys, or one that registers them only afterwards, fails here."""
    with LineageStore.open(tmp_path / "all") as store:
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        original = backend._run
        checked: list[str] = []
        made_unregistered: list[str] = []

        def keys_now() -> set[str]:
            return {r["k"] for r in original(KEYS, None, "keys", write=False)}

        def run(query: str, params: Any, name: str, *, write: bool) -> list[dict[str, Any]]:
            if not write or query == REGISTER_KEYS:
                return original(query, params, name, write=write)
            before, registered = keys_now(), set(backend._keys)
            try:
                return original(query, params, name, write=write)
            finally:
                checked.append(name)
                made = keys_now() - before - registered
                if made:
                    made_unregistered.append(f"{name}: {sorted(made)}")

        monkeypatch.setattr(backend, "_run", run)
        store.put_artifact_type(ArtifactType(name="Data", properties=DAY))
        split = {**DAY, "split": PropertyType.STRING}
        store.put_artifact_type(ArtifactType(name="Data", properties=split), can_add_fields=True)
        store.put_execution_type(ExecutionType(name="Train", description="d", properties=LR))
        store.put_context_type(ContextType(name="Run", external_id="run-type"))
        [raw] = store.put_artifacts(
            [Artifact(type="Data", uri="/d", properties={"day": 1}, custom_properties={"c1": "x"})]
        )
        store.put_artifacts(
            [Artifact(id=raw, uri="/d", properties={"split": "s"}, custom_properties={"c2": 2.5})]
        )
        [ctx, parent] = store.put_contexts(
            [
                Context(type="Run", name="r1", custom_properties={"c3": True}),
                Context(type="Run", name="r0"),
            ]
        )
        store.put_parent_contexts([ParentContext(child_id=ctx, parent_id=parent)])
        _, [_, model], _ = store.put_execution(
            Execution(type="Train", properties={"lr": 0.1}, custom_properties={"c4": {"n": 1}}),
            [
                (Artifact(id=raw), Event(type=EventType.INPUT)),
                (
                    Artifact(type="Data", uri="/m", custom_properties={"c5": "y"}),
                    Event(type=EventType.OUTPUT),
                ),
            ],
            [Context(id=ctx, type="Run", name="r1")],
        )
        store.put_attributions_and_associations(
            [Attribution(context_id=parent, artifact_id=model)], []
        )
        store.put_lineage_subgraph(
            [Execution(type="Train", custom_properties={"c6": 1})],
            [Artifact(type="Data", uri="/x", external_id="ext-x")],
            [Context(type="Run", name="r2")],
            [(0, 0, Event(type=EventType.OUTPUT))],
        )
        mark = ImpactMark(state=ArtifactState.MARKED_FOR_DELETION, custom_property=("c7", 7))
        token = store.impact(NodeRef(NodeKind.ARTIFACT, raw), mark=mark).mark_token
        assert token is not None
        store.undo_impact_mark(token)
        store.apply_retention(store.plan_retention(kinds=NodeKind.ARTIFACT, created_before=2**62))
        assert not made_unregistered, made_unregistered
        for path in ("graph/write", "put_artifact_type", "lineage/mark", "lineage/unmark"):
            assert any(path in name for name in checked), (path, checked)
        assert "retention/apply" in checked
        # keys of every origin were met: type properties, properties, custom ones
        assert {"pt__split", "ps__split", "cs__c1", "ci__c7"} <= backend._keys


DAY = {"day": PropertyType.INT}
LR = {"lr": PropertyType.DOUBLE}


def test_a_masked_update_makes_no_key_beyond_the_values_it_writes(tmp_path: Path) -> None:
    """A masked update also removes the other kinds of each property it writes (another writer
    may have stored one since the read), only where the node has them: naming a key in a SET
    creates it, and FalkorDB 4.16 holds at most 65,534 keys (one update of a new name made all
    eight kinds' keys)."""
    with LineageStore.open(tmp_path / "mask") as store:
        store.put_artifact_type(ArtifactType(name="D"))
        [aid] = store.put_artifacts([Artifact(type="D", uri="/d", custom_properties={"x": 1})])
        before = {r["k"] for r in store.backend.read(KEYS, name="keys")}
        store.put_artifacts(
            [Artifact(id=aid, custom_properties={"fresh": "s", "x": 2.5})],
            field_mask_paths=["custom_properties.fresh", "custom_properties.x"],
        )
        made = {r["k"] for r in store.backend.read(KEYS, name="keys")} - before
        assert made == {"cs__fresh", "cd__x", "cx__x"}
        [got] = store.get_artifacts_by_id([aid])
        assert got.custom_properties == {"fresh": "s", "x": 2.5}


def test_a_write_past_the_most_keys_falkordb_tells_apart_is_refused(tmp_path: Path) -> None:
    """FalkorDB 4.16 keeps a key's id in 16 bits: the 65,537th key silently took the id of the
    graph's first one (a value written as 'new6' read back as 'kind'). A write that would make
    the graph pass 65,534 keys is FailedPreconditionError and writes nothing; one that fits
    still works."""
    from lineage_graph import FailedPreconditionError
    from lineage_graph.backends.embedded import LIBRARY_KEYS_RESERVE, MOST_PROPERTY_KEYS

    most = MOST_PROPERTY_KEYS - LIBRARY_KEYS_RESERVE  # the data's keys; the rest: the library's
    with LineageStore.open(tmp_path / "full") as store:
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        store.put_artifact_type(ArtifactType(name="D"))
        [aid] = store.put_artifacts([Artifact(type="D", uri="/d")])
        known = len({r["k"] for r in backend.read(KEYS, name="keys")})
        filler = most - known - 2  # room for two more keys
        backend.ensure_property_keys(f"filler{i}" for i in range(filler))
        before = store.get_artifacts()
        with pytest.raises(FailedPreconditionError, match="no longer tells keys apart"):
            store.put_artifacts([Artifact(type="D", custom_properties={"a": 1, "b": 2, "c": 3})])
        with pytest.raises(FailedPreconditionError, match="no longer tells keys apart"):
            store.put_artifacts(  # a double takes two keys (its value and its exact text)
                [Artifact(id=aid, custom_properties={"x": 1.5, "y": 1})],
                field_mask_paths=["custom_properties.x", "custom_properties.y"],
            )
        assert store.get_artifacts() == before
        # another client's keys: this store object's count is stale, the statement re-checks
        other = LineageStore.open(tmp_path / "full")
        try:
            other.put_artifacts([Artifact(type="D", custom_properties={"m": 1})])
        finally:
            other.close()
        with pytest.raises(FailedPreconditionError, match="no longer tells keys apart"):
            store.put_artifacts([Artifact(type="D", custom_properties={"n": 1, "o": 1})])
        store.put_artifacts([Artifact(type="D", custom_properties={"k": 1})])  # the last key
        assert len({r["k"] for r in backend.read(KEYS, name="keys")}) == most
        assert {"k": 1} in [a.custom_properties for a in store.get_artifacts()]
    # a later version's fixed keys still fit: a full store opens after an upgrade
    upgraded = dataclasses.replace(
        schema.SCHEMA, property_keys=(*schema.SCHEMA.property_keys, "a_later_fixed_key")
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "SCHEMA", upgraded)
        with LineageStore.open(tmp_path / "full") as store:
            assert {"k": 1} in [a.custom_properties for a in store.get_artifacts()]
            known = {r["k"] for r in store.backend.read(KEYS, name="keys")}
            assert "a_later_fixed_key" in known and len(known) == most + 1


def test_the_last_keys_a_graph_may_hold_are_found_by_name(tmp_path: Path) -> None:
    """FalkorDB 4.16 reserves the two highest key ids (65,534: every key, 65,535: no key): a
    property stored under either is listed by properties(n) but ``n.key`` reads null, so filters,
    the fingerprint cache and masked updates missed it. The store stops before them."""
    from lineage_graph import FailedPreconditionError
    from lineage_graph.backends.embedded import MOST_PROPERTY_KEYS

    with LineageStore.open(tmp_path / "last") as store:
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        store.put_artifact_type(ArtifactType(name="D"))
        known = len({r["k"] for r in backend.read(KEYS, name="keys")})
        fill = MOST_PROPERTY_KEYS - known - 1  # the library's own may use its reserve
        backend.ensure_property_keys((f"filler{i}" for i in range(fill)), fixed=True)
        backend.ensure_property_keys(["ci__last"], fixed=True)  # id 65,533: the last usable
        store.put_artifacts([Artifact(type="D", uri="/last", custom_properties={"last": 1})])
        with pytest.raises(FailedPreconditionError, match="no longer tells keys apart"):
            store.put_artifacts([Artifact(type="D", uri="/past", custom_properties={"past": 1})])
        found = backend.read("MATCH (n:Artifact) WHERE n.ci__last = 1 RETURN n.uri AS uri")
        assert found == [{"uri": "/last"}]
        assert [a.uri for a in store.get_artifacts()] == ["/last"]
