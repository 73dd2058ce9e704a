"""Retention (issue 7.7): delete or archive old executions and artifacts by filter, with a dry
run, without breaking the lineage of what stays.

The oracle is a networkx graph of every event, built from what the test wrote. A policy selects
a set S of nodes; the weakly connected groups of S with no event to a node outside S (islands)
must be deleted, every other node of S tombstoned. Afterwards, for every pair of remaining
(untouched) nodes, one reaches the other through events exactly when it did before, the public
lineage API still answers through the tombstones, untouched nodes read back unchanged, and the
store passes the whole-store integrity check.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import random
import re
import resource
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from pydantic import ValidationError

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    InvalidArgumentError,
    LineageGraphError,
    LineageStore,
    NodeKind,
    NotFoundError,
    PropertyType,
    RetentionPlan,
)
from lineage_graph._repositories import nodes as nodes_module
from lineage_graph._repositories import retention as retention_module
from tests.conftest import reads_of
from tests.reliability._integrity import assert_healthy
from tests.reliability.conftest import record

Node = tuple[str, int]  # ("a", artifact id) or ("e", execution id)


@dataclass
class Built:
    """What the test wrote: the event graph and each node's facts, for the oracle."""

    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    facts: dict[Node, dict[str, Any]] = field(default_factory=dict)
    cut: int = 0  # ms: everything created before is "old"
    updated: set[Node] = field(default_factory=set)  # old nodes updated after the cut


def _types(store: LineageStore) -> None:
    store.put_context_type(ContextType(name="Run"))
    store.put_artifact_type(
        ArtifactType(
            name="Data", properties={"rows": PropertyType.INT, "note": PropertyType.STRING}
        )
    )
    store.put_artifact_type(ArtifactType(name="Model"))
    store.put_execution_type(ExecutionType(name="Train"))
    store.put_execution_type(ExecutionType(name="Eval"))


def _wait_past(ms: int) -> None:
    while time.time_ns() // 1_000_000 <= ms:
        time.sleep(0.001)


def _island(store: LineageStore, name: str, model: str = "m") -> tuple[int, int]:
    """A run and the model it made, linked to nothing else: ``(execution id, artifact id)``."""
    eid, (aid,), _ = store.put_execution(
        Execution(type="Train", name=name),
        [(Artifact(type="Model", name=model), Event(type=EventType.OUTPUT))],
    )
    return eid, aid


def _cut() -> int:
    """A time after every node written so far (written in this very millisecond too: a cut
    taken then excluded them from ``created_before`` now and then), and already past."""
    _wait_past(time.time_ns() // 1_000_000)
    cut = time.time_ns() // 1_000_000
    _wait_past(cut)
    return cut


def build(store: LineageStore, seed: int, per_phase: int = 12) -> Built:
    """A random pipeline in two phases (old, new): executions consume earlier artifacts (old
    ones too, so the new phase leans on the old one) and produce new ones; some artifacts are
    never used and some executions have no events (single-node islands)."""
    rng = random.Random(seed)
    _types(store)
    b = Built()
    artifacts: list[int] = []

    def add(node: Node, phase: str, **facts: Any) -> None:
        b.graph.add_node(node)
        b.facts[node] = {"phase": phase, **facts}

    for phase in ("old", "new"):
        for step in range(per_phase):
            a_state = rng.choice([ArtifactState.LIVE, ArtifactState.ABANDONED])
            e_type = rng.choice(["Train", "Eval"])
            e_state = rng.choice([ExecutionState.COMPLETE, ExecutionState.FAILED])
            inputs = rng.sample(artifacts, k=min(len(artifacts), rng.randint(0, 2)))
            outputs = rng.randint(0 if inputs else 1, 2)
            pairs: list[tuple[Artifact, Event | None]] = [
                (Artifact(id=a), Event(type=EventType.INPUT)) for a in inputs
            ]
            for k in range(outputs):
                art = Artifact(
                    type=rng.choice(["Data", "Model"]),
                    name=f"{phase}-{step}-{k}",
                    uri=f"s3://bucket/{phase}/{step}/{k}",
                    state=a_state,
                )
                if art.type == "Data":
                    art.properties = {"rows": rng.randint(0, 10**6), "note": "x" * k}
                art.custom_properties = {"seed": seed, "nan": math.nan}
                pairs.append((art, Event(type=EventType.OUTPUT, path=[k, "out"])))
            context = Context(type="Run", name=f"{phase}-{step}")
            eid, aids, _ = store.put_execution(
                Execution(type=e_type, name=f"{phase}-{step}", last_known_state=e_state),
                pairs,
                [context] if rng.random() < 0.5 else [],
            )
            add(("e", eid), phase, type=e_type, state=e_state)
            for a in inputs:
                b.graph.add_edge(("a", a), ("e", eid))
            for art, aid in zip(
                [p[0] for p in pairs[len(inputs) :]], aids[len(inputs) :], strict=True
            ):
                add(("a", aid), phase, type=art.type, state=art.state)
                b.graph.add_edge(("e", eid), ("a", aid))
                artifacts.append(aid)
            if rng.random() < 0.2:  # an artifact nobody uses
                (lone,) = store.put_artifacts([Artifact(type="Model", state=a_state)])
                add(("a", lone), phase, type="Model", state=a_state)
        if phase == "old":
            b.cut = _cut()
    # A few old artifacts are touched after the cut: updated_before spares them.
    old = [n for n, f in b.facts.items() if n[0] == "a" and f["phase"] == "old"]
    for a in rng.sample(old, min(3, len(old))):
        store.put_artifacts(
            [Artifact(id=a[1], custom_properties={"touched": True})],
            field_mask_paths=["custom_properties.touched"],
        )
        b.updated.add(a)
    return b


def event_graph(store: LineageStore) -> nx.DiGraph:
    """The store's event graph (edges in data-flow direction), read through the public API."""
    g = nx.DiGraph()
    for a in store.get_artifacts():
        g.add_node(("a", a.id))
    for e in store.get_executions():
        g.add_node(("e", e.id))
    ids = [e.id for e in store.get_executions() if e.id is not None]
    for ev in store.get_events_by_execution_ids(ids):
        a, e = ("a", ev.artifact_id), ("e", ev.execution_id)
        g.add_edge(*((e, a) if ev.type.is_output else (a, e)))
    return g


def expected_plan(b: Built, selected: set[Node]) -> tuple[set[Node], set[Node]]:
    """(deleted, tombstoned) by the rule: islands go, the rest of the selection is tombstoned."""
    undirected = b.graph.to_undirected(as_view=True)
    deleted: set[Node] = set()
    for group in nx.connected_components(undirected.subgraph(selected)):
        if all(set(undirected[n]) <= selected for n in group):
            deleted |= group
    return deleted, selected - deleted


def plan_sets(plan: Any) -> tuple[set[Node], set[Node]]:
    deleted = {("a", i) for i in plan.delete_artifacts} | {("e", i) for i in plan.delete_executions}
    tomb = {("a", i) for i in plan.tombstone_artifacts} | {
        ("e", i) for i in plan.tombstone_executions
    }
    return deleted, tomb


def snapshot(store: LineageStore) -> dict[str, Any]:
    return {
        # repr, not model_dump: the NaN properties would never compare equal
        "artifacts": [repr(a) for a in store.get_artifacts()],
        "executions": [repr(e) for e in store.get_executions()],
        "contexts": [repr(c) for c in store.get_contexts()],
        "events": sorted(
            (e.artifact_id, e.execution_id, int(e.type))
            for e in store.get_events_by_execution_ids(
                [x.id for x in store.get_executions() if x.id is not None]
            )
        ),
    }


def models_by_node(store: LineageStore) -> dict[Node, Any]:
    out: dict[Node, Any] = {("a", a.id): a for a in store.get_artifacts()}  # type: ignore[misc]
    out.update({("e", e.id): e for e in store.get_executions()})  # type: ignore[misc]
    return out


def reach(g: nx.DiGraph, among: Iterable[Node]) -> set[tuple[Node, Node]]:
    """Pairs (u, v) of ``among`` with a data-flow path u -> ... -> v (through any node of g)."""
    keep = set(among)
    return {(u, v) for u in keep for v in nx.descendants(g, u) if v in keep}


POLICIES: dict[str, Any] = {
    "everything created before the cut": lambda b: (
        {"created_before": b.cut},
        {n for n, f in b.facts.items() if f["phase"] == "old"},
    ),
    "not updated since the cut": lambda b: (
        {"updated_before": b.cut},
        {n for n, f in b.facts.items() if f["phase"] == "old" and n not in b.updated},
    ),
    "failed Eval runs only": lambda b: (
        {
            "kinds": {NodeKind.EXECUTION},
            "types": ["Eval"],
            "execution_states": [ExecutionState.FAILED],
        },
        {
            n
            for n, f in b.facts.items()
            if n[0] == "e" and f["type"] == "Eval" and f["state"] == ExecutionState.FAILED
        },
    ),
    "abandoned data and failed runs, any age": lambda b: (
        {
            "types": ["Data", "Train", "Eval"],
            "artifact_states": [ArtifactState.ABANDONED],
            "execution_states": [ExecutionState.FAILED],
            "created_before": datetime.now().astimezone(),
        },
        {
            n
            for n, f in b.facts.items()
            if f["type"] in ("Data", "Train", "Eval")
            and f["state"] in (ArtifactState.ABANDONED, ExecutionState.FAILED)
        },
    ),
}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("policy", list(POLICIES))
def test_retention_keeps_the_lineage_of_what_remains(
    store: LineageStore, policy: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed == 2:  # tiny pages: selection, neighbour and archive queries run page by page
        monkeypatch.setattr(retention_module, "SELECT_PAGE", 5)
        monkeypatch.setattr(retention_module, "PAGE", 4)
    b = build(store, seed)
    assert nx.utils.graphs_equal(event_graph(store), b.graph)
    criteria, selected = POLICIES[policy](b)
    before = snapshot(store)
    models_before = models_by_node(store)

    plan = store.plan_retention(**criteria)
    assert snapshot(store) == before, "the dry run changed the store"
    want_deleted, want_tomb = expected_plan(b, selected)
    assert plan_sets(plan) == (want_deleted, want_tomb)
    assert plan.already_tombstones == 0
    assert str(plan).startswith("RetentionPlan: delete")

    result = store.apply_retention(plan, batch_size=[None, 1, 7][seed - 1])
    assert (set(result.deleted_artifacts), set(result.deleted_executions)) == (
        set(plan.delete_artifacts),
        set(plan.delete_executions),
    )
    assert result.tombstoned_artifacts == plan.tombstone_artifacts
    assert result.tombstoned_executions == plan.tombstone_executions
    assert result.islands_tombstoned == 0

    after = event_graph(store)
    # Exactly the islands are gone; every event among the survivors is still there.
    assert set(after.nodes) == set(b.graph.nodes) - want_deleted
    assert nx.utils.graphs_equal(after, b.graph.subgraph(set(after.nodes)))
    remaining = set(b.graph.nodes) - selected
    assert reach(after, remaining) == reach(b.graph, remaining)
    models_after = models_by_node(store)
    for node in remaining:
        assert repr(models_after[node]) == repr(models_before[node])
    for node in want_tomb:
        tomb, old = models_after[node], models_before[node]
        assert (tomb.id, tomb.type, tomb.type_id, tomb.create_time_since_epoch) == (
            old.id,
            old.type,
            old.type_id,
            old.create_time_since_epoch,
        )
        assert tomb.name is None and not tomb.properties and not tomb.custom_properties
        if node[0] == "a":
            assert tomb.state == ArtifactState.DELETED and tomb.uri is None
        else:
            assert tomb.last_known_state == old.last_known_state
    # The public lineage API answers through the tombstones.
    for node in sorted(remaining)[:6]:
        start = models_after[node]
        down = store.downstream(start)
        got = {("a", a.id) for a in down.artifacts} | {("e", e.id) for e in down.executions}
        assert got == {node} | nx.descendants(after, node)
    assert_healthy(store)

    # Nothing left to do for the same policy; tombstones it still selects are counted, not
    # redone (tombstoning updates last_update_time and makes artifacts DELETED, so policies on
    # those no longer select them).
    again = store.plan_retention(**criteria)
    assert again.empty
    if set(criteria) <= {"created_before", "kinds", "types", "execution_states"}:
        assert again.already_tombstones == len(want_tomb)
    record(
        f"retention: {policy} (seed {seed})",
        nodes=b.graph.number_of_nodes(),
        selected=len(selected),
        deleted=len(want_deleted),
        tombstoned=len(want_tomb),
        islands=len(plan.islands),
        statements=result.statements,
    )


def test_tombstones_are_deleted_once_everything_around_them_goes(store: LineageStore) -> None:
    b = build(store, 4)
    first = store.apply_retention(store.plan_retention(created_before=b.cut))
    assert first.tombstoned_artifacts or first.tombstoned_executions
    everything = time.time_ns() // 1_000_000 + 1
    _wait_past(everything)
    plan = store.plan_retention(created_before=everything)
    assert not plan.tombstone_artifacts and not plan.tombstone_executions
    store.apply_retention(plan)
    assert store.count(NodeKind.ARTIFACT) == store.count(NodeKind.EXECUTION) == 0
    assert store.count(NodeKind.CONTEXT) > 0  # contexts are not retained by this API
    assert_healthy(store)


def test_an_island_that_gained_a_link_after_planning_is_tombstoned(store: LineageStore) -> None:
    _types(store)
    eid, aid = _island(store, "old")
    cut = _cut()
    plan = store.plan_retention(created_before=cut)
    assert plan.islands == (((aid,), (eid,)),)
    # Between the plan and its application, a new execution reads the old model.
    new, _, _ = store.put_execution(
        Execution(type="Eval"), [(Artifact(id=aid), Event(type=EventType.INPUT))]
    )
    result = store.apply_retention(plan)
    assert result.islands_tombstoned == 1 and not result.deleted_artifacts
    assert result.tombstoned_artifacts == (aid,) and result.tombstoned_executions == (eid,)
    up = store.upstream(store.get_executions_by_id([new])[0])
    assert {a.id for a in up.artifacts} == {aid} and {e.id for e in up.executions} == {new, eid}
    assert_healthy(store)


def test_a_node_that_no_longer_matches_the_policy_when_it_is_applied_stays(
    store: LineageStore,
) -> None:
    """Planned MARKED_FOR_DELETION, set back to LIVE by another writer before the plan was
    applied: it was deleted anyway (137 of 200 threaded races), as was a planned tombstone."""
    _types(store)
    marked = ArtifactState.MARKED_FOR_DELETION
    [alone] = store.put_artifacts([Artifact(type="Model", name="alone", state=marked)])
    _, (linked,), _ = store.put_execution(
        Execution(type="Train"), [(Artifact(type="Model", name="linked", state=marked), None)]
    )
    used, _, _ = store.put_execution(
        Execution(type="Eval"), [(Artifact(id=linked), Event(type=EventType.INPUT))]
    )
    plan = store.plan_retention(kinds=NodeKind.ARTIFACT, artifact_states=[marked])
    assert plan.delete_artifacts == (alone,) and plan.tombstone_artifacts == (linked,)
    kept = store.put_artifacts(
        [
            Artifact(id=alone, type="Model", name="alone", state=ArtifactState.LIVE),
            Artifact(id=linked, type="Model", name="linked", state=ArtifactState.LIVE),
        ]
    )
    before = store.get_artifacts_by_id(kept)
    result = store.apply_retention(plan)
    assert not (result.deleted_artifacts or result.tombstoned_artifacts)
    assert store.get_artifacts_by_id(kept) == before
    assert [a.id for a in store.upstream(store.get_executions_by_id([used])[0]).artifacts] == [
        linked
    ]
    assert_healthy(store)


def test_an_island_holding_a_node_updated_since_the_plan_is_tombstoned_around_it(
    store: LineageStore,
) -> None:
    """An island (a model and the run that made it) planned by update time: the run updated
    since stays as it is, so its model, linked to it, becomes a tombstone rather than going."""
    _types(store)
    eid, aid = _island(store, "run")
    cut = _cut()
    plan = store.plan_retention(updated_before=cut)
    assert plan.islands == (((aid,), (eid,)),)
    [run] = store.get_executions_by_id([eid])
    store.put_executions([run.model_copy(update={"last_known_state": ExecutionState.COMPLETE})])
    [run] = store.get_executions_by_id([eid])
    result = store.apply_retention(plan)
    assert (result.deleted_artifacts, result.deleted_executions) == ((), ())
    assert (result.tombstoned_artifacts, result.tombstoned_executions) == ((aid,), ())
    assert result.islands_tombstoned == 1
    assert store.get_executions_by_id([eid]) == [run]
    down = store.downstream(run)
    assert [a.id for a in down.artifacts] == [aid]
    assert store.get_artifacts_by_id([aid])[0].state == ArtifactState.DELETED
    assert_healthy(store)


def test_a_node_updated_after_it_was_archived_stays_with_its_update(
    store: LineageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer updates planned nodes after apply_retention read them into the archive and
    before the batch's statement (policy by creation time, which an update does not change):
    the statement tombstoned and deleted them all the same, so each update, acknowledged, was in
    neither the store nor the archive (the archive held the nodes as they were before it). A
    node not as archived now stays as it is (its island is tombstoned around it); the next apply
    archives it as it is and removes it."""
    _types(store)
    eid, aid = _island(store, "run")  # an island: deleted
    _, (used,), _ = store.put_execution(
        Execution(type="Train", name="old"),
        [(Artifact(type="Model", name="u"), Event(type=EventType.OUTPUT))],
    )
    cut = _cut()
    store.put_execution(  # keeps `used` (and its run) as tombstones
        Execution(type="Eval"), [(Artifact(id=used), Event(type=EventType.INPUT))]
    )
    plan = store.plan_retention(created_before=cut)
    assert plan.islands == (((aid,), (eid,)),) and plan.tombstone_artifacts == (used,)
    archive_once = retention_module.Retention._archive
    late: dict[int, Any] = {}

    def archive_then_another_writer(self: Any, path: Path, batch: Any) -> Any:
        out = archive_once(self, path, batch)
        if not late:
            run = store.get_executions_by_id([eid])[0]
            model = store.get_artifacts_by_id([used])[0]
            store.put_executions([run.model_copy(update={"custom_properties": {"late": 1}})])
            store.put_artifacts([model.model_copy(update={"uri": "s3://late"})])
            late.update(
                {
                    eid: store.get_executions_by_id([eid])[0],
                    used: store.get_artifacts_by_id([used])[0],
                }
            )
        return out

    monkeypatch.setattr(retention_module.Retention, "_archive", archive_then_another_writer)
    archive = tmp_path / "retention.jsonl"
    result = store.apply_retention(plan, archive=archive)
    # the updated run stays as updated, its model becomes a tombstone around it
    assert store.get_executions_by_id([eid]) == [late[eid]]
    assert store.get_artifacts_by_id([used]) == [late[used]]
    assert result.tombstoned_artifacts == (aid,)
    assert result.tombstoned_executions == plan.tombstone_executions  # `used`'s run
    assert not (result.deleted_artifacts or result.deleted_executions)
    # applied again (nothing racing now), each goes, archived with its update
    again = store.apply_retention(store.plan_retention(created_before=cut), archive=archive)
    assert used in again.tombstoned_artifacts
    assert eid in again.deleted_executions + again.tombstoned_executions
    records = store.read_retention_archive(archive)  # appended in order: the last one counts
    last = {(type(r.node).__name__, r.node.id): r.node for r in records}
    assert last[("Execution", eid)] == late[eid]
    assert last[("Artifact", used)] == late[used]
    assert_healthy(store)


def test_an_update_in_the_same_millisecond_as_the_archived_one_is_not_lost(
    store: LineageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive's guard compared each node's update time as archived with the one the batch's
    statement found: an update landing in between, in the same millisecond as the update before
    it, kept the time (writers stamp the clock's millisecond), so the node was deleted and that
    acknowledged update was in neither the store nor the archive. The guard now compares the
    node as archived, every property: any update made since keeps it."""
    _types(store)
    eid, aid = _island(store, "run")
    frozen = time.time_ns() // 1_000_000  # every write below lands in this one millisecond
    monkeypatch.setattr(nodes_module, "now_ms", lambda: frozen)
    run = store.get_executions_by_id([eid])[0]
    store.put_executions([run.model_copy(update={"custom_properties": {"v": 1}})])
    plan = store.plan_retention(types=["Train", "Model"])
    assert plan.islands == (((aid,), (eid,)),)
    archive_once = retention_module.Retention._archive
    late: list[Execution] = []

    def archive_then_another_writer(self: Any, path: Path, batch: Any) -> Any:
        out = archive_once(self, path, batch)
        if not late:
            now = store.get_executions_by_id([eid])[0]
            store.put_executions([now.model_copy(update={"custom_properties": {"v": 2}})])
            late.extend(store.get_executions_by_id([eid]))
        return out

    monkeypatch.setattr(retention_module.Retention, "_archive", archive_then_another_writer)
    archive = tmp_path / "retention.jsonl"
    result = store.apply_retention(plan, archive=archive)
    assert late[0].last_update_time_since_epoch == frozen  # the same stamp as archived
    assert eid not in result.deleted_executions + result.tombstoned_executions
    assert store.get_executions_by_id([eid]) == late  # the update is still in the store
    assert result.tombstoned_artifacts == (aid,)  # its island tombstoned around it
    archived = [r.node for r in store.read_retention_archive(archive)]
    assert [n.custom_properties for n in archived if isinstance(n, Execution)] == [{"v": 1}]
    assert_healthy(store)


def test_a_context_link_added_after_the_archive_is_not_lost(
    store: LineageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer puts planned island nodes in a context between the archive's read and the
    batch's statement: no property changes and no event is added, so the island was deleted and
    the acknowledged attribution (association) was in neither the store nor the archive (which
    holds the node's contexts as read). The island is tombstoned instead: its links stay."""
    _types(store)
    eid, aid = _island(store, "run")
    eid2, aid2 = _island(store, "other", model="m2")
    [run] = store.put_contexts([Context(type="Run", name="r")])
    plan = store.plan_retention(types=["Train", "Model"])
    assert len(plan.islands) == 2
    archive_once = retention_module.Retention._archive
    done: list[bool] = []

    def archive_then_another_writer(self: Any, path: Path, batch: Any) -> Any:
        out = archive_once(self, path, batch)
        if not done:
            store.put_attributions_and_associations(
                [Attribution(artifact_id=aid, context_id=run)],
                [Association(execution_id=eid2, context_id=run)],
            )
            done.append(True)
        return out

    monkeypatch.setattr(retention_module.Retention, "_archive", archive_then_another_writer)
    archive = tmp_path / "retention.jsonl"
    result = store.apply_retention(plan, archive=archive)
    assert result.deleted_artifacts == result.deleted_executions == ()
    assert result.tombstoned_artifacts == (aid, aid2)
    assert result.tombstoned_executions == (eid, eid2)
    assert [a.id for a in store.get_artifacts_by_context(run)] == [aid]
    assert [e.id for e in store.get_executions_by_context(run)] == [eid2]
    assert all(r.context_ids == [] for r in store.read_retention_archive(archive))
    # applied again (nothing racing now): the archive holds the links, and the tombstones go
    again = store.apply_retention(store.plan_retention(types=["Train", "Model"]), archive=archive)
    assert again.deleted_artifacts == (aid, aid2) and again.deleted_executions == (eid, eid2)
    assert_healthy(store)


def test_a_node_holding_doubles_is_removed_with_an_archive(
    store: LineageStore, tmp_path: Path
) -> None:
    """The archive's guard compares the node as archived: a double's native twin (kept for
    filters) comes back from FalkorDB with 15 significant digits, so compared too it never
    equalled the stored one and the node was never removed. Its exact twin is compared."""
    _types(store)
    doubles = {"f": 0.1 + 0.2, "third": 1 / 3, "nan": math.nan, "big": 1e308}
    [model] = store.put_artifacts([Artifact(type="Model", custom_properties=doubles)])
    archive = tmp_path / "retention.jsonl"
    result = store.apply_retention(store.plan_retention(types=["Model"]), archive=archive)
    assert result.deleted_artifacts == (model,)
    assert store.get_artifacts() == []
    [record] = store.read_retention_archive(archive)
    kept = record.node.custom_properties
    assert kept["f"] == 0.1 + 0.2 and kept["third"] == 1 / 3 and math.isnan(kept["nan"])


def _race_the_plan(store: LineageStore, tag: str, wait_ms: int, size: int = 6) -> None:
    """One round of the race below: ``2 * size`` MARKED_FOR_DELETION artifacts planned, the plan
    applied ``wait_ms`` after two writers start changing them, then each outcome checked."""
    marked = ArtifactState.MARKED_FOR_DELETION
    ids = store.put_artifacts(
        [Artifact(type="Model", name=f"{tag}-{i}", state=marked) for i in range(2 * size)]
    )
    plan = store.plan_retention(kinds=NodeKind.ARTIFACT, artifact_states=[marked])
    assert set(plan.delete_artifacts) == set(ids)
    revived, linked = ids[:size], ids[size:]
    outcome: dict[int, Any] = {}  # id -> None (set LIVE), the execution's id, or the error
    start = threading.Barrier(3)

    def revive() -> None:
        start.wait()
        for i, aid in enumerate(revived):
            live = Artifact(id=aid, type="Model", name=f"{tag}-{i}", state=ArtifactState.LIVE)
            try:
                store.put_artifacts([live])
                outcome[aid] = None
            except Exception as exc:
                outcome[aid] = exc

    def link() -> None:
        start.wait()
        for aid in linked:
            try:
                eid, _, _ = store.put_execution(
                    Execution(type="Eval"), [(Artifact(id=aid), Event(type=EventType.INPUT))]
                )
                outcome[aid] = eid
            except Exception as exc:
                outcome[aid] = exc

    writers = [threading.Thread(target=revive), threading.Thread(target=link)]
    for t in writers:
        t.start()
    start.wait()
    time.sleep(wait_ms / 1000)
    store.apply_retention(plan)
    for t in writers:
        t.join(60)
    stored = {a.id: a for a in store.get_artifacts_by_id(ids)}
    for aid in ids:
        result = outcome[aid]
        if isinstance(result, BaseException):
            assert isinstance(result, NotFoundError), (aid, result)
            assert aid not in stored, (aid, stored.get(aid))
        elif aid in revived:
            assert aid in stored and stored[aid].state == ArtifactState.LIVE, (aid, stored)
        else:
            assert aid in stored, (aid, result)  # a tombstone: the event goes through it
            events = store.get_events_by_execution_ids([result])
            assert [e.artifact_id for e in events] == [aid]


def test_writers_racing_the_plan_as_it_is_applied_lose_nothing(store: LineageStore) -> None:
    """Other writers change planned MARKED_FOR_DELETION artifacts while the plan is applied, in
    threads: one sets artifacts back to LIVE, one links others to a new execution. Each writer
    either wins (its artifact stays: LIVE, or a tombstone its execution still reads) or is refused
    (NotFoundError: the artifact was removed first); none may be told it wrote what is gone. On
    Neo4j (read committed) the plan's checks read an artifact as it was while the other writer's
    update was uncommitted, then its DETACH DELETE waited for that writer's lock and removed the
    artifact it had just set LIVE, or the event it had just stored (never on FalkorDB, which runs
    one write at a time); a write waiting for the lock of an artifact deleted meanwhile failed
    with 'Neo4j rejected the query' (EntityNotFound). The same test with FalkorDB's statement as
    it was before it checked the policy again (fe15176) fails: a LIVE artifact deleted."""
    _types(store)
    # ms the plan waits once the writers start: it lands among their writes (a FalkorDB write
    # takes ~1 ms, a Neo4j one several)
    for round_, wait_ms in enumerate((0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48)):
        _race_the_plan(store, f"r{round_}", wait_ms)
    assert_healthy(store)


def test_a_plan_applied_twice_reports_what_the_second_call_did(store: LineageStore) -> None:
    """The second call finds the island deleted and the tombstones made: it does nothing and
    says so (it reported the gone island as linked and tombstoned, and rewrote the tombstones'
    update time)."""
    _types(store)
    eid, aid = _island(store, "island")
    e2, a2 = _island(store, "linked", "m2")
    cut = _cut()
    store.put_execution(Execution(type="Eval"), [(Artifact(id=a2), Event(type=EventType.INPUT))])
    plan = store.plan_retention(created_before=cut)
    assert plan.islands == (((aid,), (eid,)),)
    assert (plan.tombstone_artifacts, plan.tombstone_executions) == ((a2,), (e2,))
    first = store.apply_retention(plan)
    assert (first.deleted_artifacts, first.deleted_executions) == ((aid,), (eid,))
    assert (first.tombstoned_artifacts, first.tombstoned_executions) == ((a2,), (e2,))
    tombstones = store.get_artifacts_by_id([a2]), store.get_executions_by_id([e2])
    _wait_past(time.time_ns() // 1_000_000)
    again = store.apply_retention(plan)
    assert again.islands_tombstoned == 0
    assert not (again.deleted_artifacts or again.deleted_executions)
    assert not (again.tombstoned_artifacts or again.tombstoned_executions)
    assert (store.get_artifacts_by_id([a2]), store.get_executions_by_id([e2])) == tombstones
    assert_healthy(store)


def test_a_plan_that_selects_nothing_still_writes_its_archive(
    store: LineageStore, tmp_path: Path
) -> None:
    """docs/reliability.md's example applies a plan with an archive, then reads the archive
    back. With nothing old enough (a young store) no file was made, so the read raised
    InvalidArgumentError (cannot read the retention archive)."""
    build(store, 1)
    archive = tmp_path / "retention.jsonl"
    plan = store.plan_retention(created_before=datetime(2000, 1, 1, tzinfo=UTC))
    result = store.apply_retention(plan, archive=archive)
    assert result.archived == 0 and result.statements == 0
    assert store.read_retention_archive(archive) == []


def test_the_archive_holds_every_record_exactly(store: LineageStore, tmp_path: Path) -> None:
    b = build(store, 5)
    old = {n for n, f in b.facts.items() if f["phase"] == "old"}
    models = models_by_node(store)
    events = {
        ("a", a.id): sorted(
            store.get_events_by_artifact_ids([a.id]), key=lambda e: (e.execution_id, e.type)
        )
        for a in store.get_artifacts()
    }
    contexts = {
        n: sorted(
            c.id
            for c in (
                store.get_contexts_by_artifact(n[1])
                if n[0] == "a"
                else store.get_contexts_by_execution(n[1])
            )
        )
        for n in old
    }
    archive = tmp_path / "retention.jsonl"
    plan = store.plan_retention(created_before=b.cut)
    result = store.apply_retention(plan, archive=archive, batch_size=5)
    records = store.read_retention_archive(archive)
    assert result.archived == len(records) == len(old)
    deleted, _ = plan_sets(plan)
    for rec in records:
        node: Node = ("a" if isinstance(rec.node, Artifact) else "e", rec.node.id)  # type: ignore[assignment]
        assert rec.action == ("delete" if node in deleted else "tombstone")
        want = models[node].model_dump()
        got = rec.node.model_dump()
        # NaN != NaN: compared apart
        nan_got, nan_want = (
            got["custom_properties"].pop("nan", 0),
            want["custom_properties"].pop("nan", 0),
        )
        assert (nan_got == 0 and nan_want == 0) or (math.isnan(nan_got) and math.isnan(nan_want))
        assert got == want
        assert rec.context_ids == contexts[node]
        if node[0] == "a":
            assert rec.events == events[node]
    # Every line is plain JSON (one record per line, readable without the library).
    assert all(json.loads(line)["kind"] for line in archive.read_text().splitlines())


def _damaged(line: dict[str, Any], how: str) -> bytes:
    """One archive line damaged as ``how`` says."""
    node, event = line["node"], line["events"][0]
    if how == "cut short":
        return json.dumps(line).encode()[:40]
    if how == "not UTF-8":
        return json.dumps(line).encode().replace(b'"Artifact"', b'"Artif\xe4ct"')
    if how == "nested too deep":
        return b'{"kind": "Artifact", "node": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    if how == "state out of range":
        node["state"] = 99
    elif how == "id a string":
        node["id"] = str(node["id"])
    elif how == "event type unknown":
        event["type"] = 42
    elif how == "path not a list":
        event["path"] = '{"a": 1}'
    elif how == "no events":
        del line["events"]
    elif how == "node not an object":
        line["node"] = [1]
    elif how == "events not objects":
        line["events"] = [1]
    elif how == "a context":
        line["kind"] = "Context"
    return json.dumps(line).encode()


DAMAGES = [
    "cut short", "not UTF-8", "nested too deep", "state out of range", "id a string",
    "event type unknown", "path not a list", "no events", "node not an object",
    "events not objects", "a context",
]  # fmt: skip


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_archive_line_is_a_typed_error(
    store: LineageStore, tmp_path: Path, how: str
) -> None:
    """An archive is a file anyone may edit: reading one validates every record (the store's
    own reads do not validate again what its writes validated)."""
    _types(store)
    store.put_execution(
        Execution(type="Train"),
        [(Artifact(type="Model", state=ArtifactState.LIVE), Event(type=EventType.OUTPUT))],
    )
    cut = _cut()
    archive = tmp_path / "retention.jsonl"
    store.apply_retention(store.plan_retention(created_before=cut), archive=archive)
    lines = archive.read_bytes().splitlines()
    [first] = [json.loads(x) for x in lines if json.loads(x)["kind"] == "Artifact"]
    assert len(store.read_retention_archive(archive)) == len(lines) == 2  # intact: read back
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"\n".join([*lines, _damaged(first, how)]) + b"\n")
    with pytest.raises(InvalidArgumentError, match=r"damaged.jsonl, line 3: not a retention"):
        store.read_retention_archive(damaged)


@pytest.mark.parametrize("tail", ["cut short", "whole, no newline"])
def test_an_archive_left_torn_by_a_killed_apply_takes_the_next_batches(
    store: LineageStore, tmp_path: Path, tail: str
) -> None:
    """An apply killed while appending a batch's records leaves the last one cut short, no
    newline (seen in 2 of 10 runs killing the applying process during its archive writes).
    That batch never ran: the next apply to the same archive drops the cut record, and the
    archive reads back whole. Appended as it was, the next record was glued onto the cut one:
    read_retention_archive refused the file, and a record of a batch that ran was unreadable.
    A whole record lacking only its newline (written by hand) is kept."""
    _types(store)
    ids = store.put_artifacts([Artifact(type="Model", uri=f"/m/{i}") for i in range(3)])
    archive = tmp_path / "retention.jsonl"
    store.apply_retention(
        store.plan_retention(created_before=_cut(), types=["Model"]), archive=archive
    )
    line = archive.read_bytes().splitlines()[0]
    killed = line[: len(line) // 2] if tail == "cut short" else line
    archive.write_bytes(killed)  # what the killed apply left (its batch never ran)
    more = store.put_artifacts([Artifact(type="Model", uri=f"/n/{i}") for i in range(2)])
    store.apply_retention(
        store.plan_retention(created_before=_cut(), types=["Model"]), archive=archive
    )
    kept = [json.loads(line)["node"]["id"]] if tail != "cut short" else []
    assert [r.node.id for r in store.read_retention_archive(archive)] == kept + more
    assert not set(ids) & {a.id for a in store.get_artifacts()}


def test_a_new_archive_is_made_durable_with_its_directory(
    store: LineageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsyncing a new file does not make its name durable: its directory must be fsynced too.
    The archive's records were fsynced before each batch, but the new archive's directory
    never was: a power cut could take the file away while the removals stayed."""
    _types(store)
    store.put_artifacts([Artifact(type="Model", uri="/m")])
    plan = store.plan_retention(created_before=_cut(), types=["Model"])
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the real fsync, recording what it synced
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    archive = tmp_path / "retention.jsonl"
    store.apply_retention(plan, archive=archive)
    assert str(tmp_path) in synced and str(archive) in synced


def test_a_file_that_is_no_archive_is_not_cut(store: LineageStore, tmp_path: Path) -> None:
    """A file given as the archive by mistake (notes whose last line has no newline): the repair
    of a torn archive took that last line for a record cut short and cut it off, then appended
    the records (to a CSV ending with a newline, they were appended). Refused now, before
    anything is removed, the file as it was."""
    _types(store)
    [model] = store.put_artifacts([Artifact(type="Model", uri="/m")])
    plan = store.plan_retention(created_before=_cut(), types=["Model"])
    for text in (b"my notes\nthe last line, with no newline", b"a,b\n1,2\n"):
        notes = tmp_path / "notes.txt"
        notes.write_bytes(text)
        with pytest.raises(InvalidArgumentError, match=r"notes\.txt is not a retention archive"):
            store.apply_retention(plan, archive=notes)
        assert notes.read_bytes() == text
    assert [a.id for a in store.get_artifacts()] == [model]


def test_a_json_file_that_is_no_archive_is_refused(store: LineageStore, tmp_path: Path) -> None:
    """A file beginning with '{' passed as an archive: another program's JSON lines, a JSON
    document, a one-line JSON object. Its first bytes and its last line (whole JSON, or none)
    were taken for an archive's: the nodes were deleted and their records appended after it,
    and read_retention_archive then refused the whole file (line 1), those records included.
    Refused now, before anything is removed, the file as it was."""
    _types(store)
    [model] = store.put_artifacts([Artifact(type="Model", uri="/m")])
    plan = store.plan_retention(types=["Model"])
    for text in (b'{"x": 1}\n{"y": 2}\n', b'{\n  "a": 1\n}\n', b'{"config": true}', b"{}\n"):
        other = tmp_path / "other.json"
        other.write_bytes(text)
        with pytest.raises(InvalidArgumentError, match=r"other\.json is not a retention archive"):
            store.apply_retention(plan, archive=other)
        assert other.read_bytes() == text
    assert [a.id for a in store.get_artifacts()] == [model]


def test_an_archive_ending_with_a_blank_line_is_appended_to(
    store: LineageStore, tmp_path: Path
) -> None:
    """An archive whose last line is blank without a newline (spaces left by an editor), which
    read_retention_archive reads: taken for a file that is no archive and refused."""
    _types(store)
    store.put_artifacts(
        [Artifact(type="Model", uri="/first"), Artifact(type="Model", uri="/second")]
    )
    archive = tmp_path / "retention.jsonl"
    store.apply_retention(store.plan_retention(types=["Model"]), archive=archive)
    store.put_artifacts([Artifact(type="Model", uri="/third")])
    with archive.open("ab") as f:
        f.write(b"  ")
    assert len(store.read_retention_archive(archive)) == 2
    store.apply_retention(store.plan_retention(types=["Model"]), archive=archive)
    assert [r.node.uri for r in store.read_retention_archive(archive)] == [
        "/first",
        "/second",
        "/third",
    ]
    assert store.get_artifacts() == []


def test_an_apply_waits_for_another_one_appending_to_the_same_archive(
    store: LineageStore, tmp_path: Path
) -> None:
    """Two applies sharing one archive (a nightly job overlapping the last, two threads): while
    one writes its records, its last one is cut short for a moment, and the other one's repair
    of a torn tail cut it off. Measured with two threads each applying 30 islands of 6 MB
    records (batch_size=1): 57 of 60 records left in the archive, all 60 nodes deleted. An
    apply now holds the archive's lock while it appends (as this test's other applier does, its
    record written in two halves) and waits for it."""
    _types(store)
    first = store.put_artifacts([Artifact(type="Model", uri="/first")])
    done = tmp_path / "done.jsonl"
    store.apply_retention(
        store.plan_retention(created_before=_cut(), types=["Model"]), archive=done
    )
    record = done.read_bytes()  # the other applier's record, as it appends it
    second = store.put_artifacts([Artifact(type="Data", uri="/second")])
    plan = store.plan_retention(created_before=_cut(), types=["Data"])
    archive = tmp_path / "retention.jsonl"
    with open(archive, "ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        other.write(record[: len(record) // 2])
        other.flush()
        applying = threading.Thread(
            target=store.apply_retention, args=(plan,), kwargs={"archive": archive}
        )
        applying.start()
        applying.join(0.5)  # time to cut the record short (it waits for the lock now)
        other.write(record[len(record) // 2 :])
        other.flush()
    applying.join(30)
    assert [r.node.id for r in store.read_retention_archive(archive)] == first + second
    assert not store.get_artifacts_by_id(first + second)


def test_an_archive_the_disk_cannot_take_is_a_typed_error_and_reads_back(
    store: LineageStore, tmp_path: Path
) -> None:
    """A full disk (here a file size limit: EFBIG, as ENOSPC) while a later batch's records were
    appended raised a raw OSError, after the batches before it had been applied, and left that
    batch's records half written: read_retention_archive then refused the whole file, the
    records of the nodes already deleted included. Now: a typed error saying what was done, the
    archive exactly the records of the batches that ran, and the next apply finishes the job."""
    _types(store)
    ids = store.put_artifacts(
        [Artifact(type="Model", uri=f"/m/{i}/" + "x" * 400) for i in range(4)]
    )
    plan = store.plan_retention(created_before=_cut(), types=["Model"])
    archive = tmp_path / "retention.jsonl"
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1500, limits[1]))  # room for 2 records of ~600
    try:
        with pytest.raises(InvalidArgumentError, match=r"retention.jsonl: file too large; this"):
            store.apply_retention(plan, archive=archive, batch_size=1)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    left = {a.id for a in store.get_artifacts()}
    assert left and left < set(ids)  # some batches ran, not all
    archived = [r.node.id for r in store.read_retention_archive(archive)]
    assert archived == sorted(set(ids) - left)
    store.apply_retention(
        store.plan_retention(created_before=_cut(), types=["Model"]), archive=archive
    )
    assert [r.node.id for r in store.read_retention_archive(archive)] == ids
    assert not store.get_artifacts()


def test_an_archive_path_that_is_a_named_pipe_is_refused(
    store: LineageStore, tmp_path: Path
) -> None:
    """An archive path naming a FIFO hung apply_retention for ever: its check that the archive
    can be written opened the pipe to write, which waits for a reader. Refused now, with
    nothing removed. (Should the check be lost, the helper thread opens the pipe for reading
    after a while, so this test fails on the raw OSError of the seek that follows, not hangs.)"""
    _types(store)
    [model] = store.put_artifacts([Artifact(type="Model", uri="/m")])
    plan = store.plan_retention(created_before=_cut(), types=["Model"])
    fifo = tmp_path / "retention.jsonl"
    os.mkfifo(fifo)
    done = threading.Event()
    readers: list[int] = []

    def unblock() -> None:
        if not done.wait(60):
            readers.append(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))

    helper = threading.Thread(target=unblock, daemon=True)
    helper.start()
    try:
        with pytest.raises(InvalidArgumentError, match="archive must be a regular file"):
            store.apply_retention(plan, archive=fifo)
    finally:
        done.set()
        helper.join()
        for fd in readers:
            os.close(fd)
    assert [a.id for a in store.get_artifacts()] == [model]


def test_an_archive_that_cannot_be_read_is_a_typed_error(
    store: LineageStore, tmp_path: Path
) -> None:
    """As a damaged line is: InvalidArgumentError naming the file (was FileNotFoundError,
    IsADirectoryError; an int was read, and closed, as a file descriptor)."""
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(InvalidArgumentError, match=r"missing.jsonl: cannot read the retention"):
        store.read_retention_archive(missing)
    with pytest.raises(InvalidArgumentError, match=r"cannot read the retention archive"):
        store.read_retention_archive(tmp_path)
    for not_a_path in (3, None):
        with pytest.raises(InvalidArgumentError, match="a retention archive is a file path"):
            store.read_retention_archive(not_a_path)  # type: ignore[arg-type]
    # a NUL and a lone surrogate escaped from open() as ValueError / UnicodeEncodeError
    for unnamable in (str(tmp_path / "a\x00b.jsonl"), str(tmp_path / "\ud800.jsonl")):
        with pytest.raises(InvalidArgumentError, match="a retention archive path"):
            store.read_retention_archive(unnamable)


class _NoOffset(tzinfo):
    """A time zone that gives no offset: its datetimes are naive, as Python defines it (they
    raised a raw TypeError, "can't subtract offset-naive and offset-aware datetimes")."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> None:
        return None


BAD: list[tuple[dict[str, Any], type[LineageGraphError]]] = [
    ({}, InvalidArgumentError),  # no criterion: would select everything
    ({"types": []}, InvalidArgumentError),
    ({"types": [""]}, InvalidArgumentError),
    ({"types": ["NoSuchType"]}, NotFoundError),
    ({"types": ["Run"]}, NotFoundError),  # a context type: contexts are not retained
    ({"created_before": datetime(2020, 1, 1)}, InvalidArgumentError),  # naive datetime
    ({"updated_before": datetime(2020, 1, 1, tzinfo=_NoOffset())}, InvalidArgumentError),
    ({"created_before": "2020-01-01"}, InvalidArgumentError),
    ({"created_before": True}, InvalidArgumentError),
    ({"updated_before": 2**63}, InvalidArgumentError),
    ({"kinds": [NodeKind.CONTEXT], "created_before": 1}, InvalidArgumentError),
    ({"kinds": [], "created_before": 1}, InvalidArgumentError),
    ({"kinds": ["Nope"], "created_before": 1}, InvalidArgumentError),
    ({"kinds": True, "created_before": 1}, InvalidArgumentError),  # TypeError: not iterable
    ({"kinds": 1.5, "created_before": 1}, InvalidArgumentError),
    ({"artifact_states": [ArtifactState.LIVE]}, InvalidArgumentError),  # executions unfiltered
    ({"kinds": NodeKind.ARTIFACT, "execution_states": [1]}, InvalidArgumentError),
    ({"kinds": NodeKind.ARTIFACT, "artifact_states": [99]}, InvalidArgumentError),
    # a bool is no state: True selected PENDING (1)
    ({"kinds": NodeKind.ARTIFACT, "artifact_states": [True]}, InvalidArgumentError),
    # nor a float or bytes: 4.0 and b"4" selected DELETED (4), as ml_metadata's protos refuse them
    ({"kinds": NodeKind.ARTIFACT, "artifact_states": [4.0]}, InvalidArgumentError),
    ({"kinds": NodeKind.EXECUTION, "execution_states": [b"4"]}, InvalidArgumentError),
    ({"kinds": NodeKind.ARTIFACT, "artifact_states": ["COMPLETE"]}, InvalidArgumentError),
    ({"kinds": NodeKind.ARTIFACT, "artifact_states": ["live"]}, InvalidArgumentError),
    # a member of the other kind's states was taken as its number: COMPLETE (3) selected
    # MARKED_FOR_DELETION artifacts, LIVE (2) RUNNING executions
    (
        {"kinds": NodeKind.ARTIFACT, "artifact_states": [ExecutionState.COMPLETE]},
        InvalidArgumentError,
    ),
    ({"kinds": NodeKind.EXECUTION, "execution_states": ArtifactState.LIVE}, InvalidArgumentError),
]


def test_states_are_taken_as_the_models_take_them(store: LineageStore) -> None:
    """A state is a member, its number or its name as MLMD spells it (``state="LIVE"`` on an
    Artifact; NodeFilter and the CLI take names), one alone too, as ``types`` and ``kinds``
    are: ``artifact_states=["ABANDONED"]`` was refused with "Input should be 0, 1, 2, 3, 4,
    5 or 6", and ``artifact_states=ArtifactState.ABANDONED`` with "a valid frozenset"."""
    _types(store)
    ids = store.put_artifacts(
        [Artifact(type="Model", uri=f"/m{i}", state=s) for i, s in enumerate(["ABANDONED", "LIVE"])]
    )
    for states in (["ABANDONED"], "ABANDONED", ArtifactState.ABANDONED, [5], ("ABANDONED", 5)):
        plan = store.plan_retention(kinds=NodeKind.ARTIFACT, artifact_states=states)
        assert plan.delete_artifacts == (ids[0],), states
        assert plan.policy.artifact_states == frozenset({ArtifactState.ABANDONED})
    message = "'live' is not a state of ArtifactState (UNKNOWN, PENDING, LIVE"
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        store.plan_retention(kinds=NodeKind.ARTIFACT, artifact_states=["live"])
    plan = store.plan_retention(kinds=NodeKind.EXECUTION, execution_states="FAILED")
    assert plan.policy.execution_states == frozenset({ExecutionState.FAILED})


@pytest.mark.parametrize(("criteria", "error"), BAD, ids=[repr(c) for c, _ in BAD])
def test_bad_policies_are_typed_errors_and_change_nothing(
    store: LineageStore, criteria: dict[str, Any], error: type[LineageGraphError]
) -> None:
    build(store, 6, per_phase=3)
    before = snapshot(store)
    with pytest.raises(error):
        store.plan_retention(**criteria)
    assert snapshot(store) == before


def test_bad_apply_arguments_are_typed_errors_and_change_nothing(
    store: LineageStore, tmp_path: Path
) -> None:
    b = build(store, 7, per_phase=3)
    plan = store.plan_retention(created_before=b.cut)
    assert not plan.empty
    before = snapshot(store)
    for kwargs in (
        {"batch_size": 0},
        {"batch_size": True},
        {"archive": tmp_path / "missing" / "a.jsonl"},
        {"archive": tmp_path},
        # a file its directory cannot hold (Linux): FileNotFoundError escaped, untyped
        {"archive": Path("/proc/lineage-graph-archive.jsonl")},
        {"batch_size": 1.5},  # applied the plan
        {"batch_size": "5"},  # TypeError
        {"archive": 3},  # TypeError from pathlib
        {"archive": str(tmp_path / "a\x00b.jsonl")},  # ValueError from open()
        {"archive": str(tmp_path / "\ud800.jsonl")},  # UnicodeEncodeError from open()
    ):
        with pytest.raises(InvalidArgumentError):
            store.apply_retention(plan, **kwargs)
    with pytest.raises(InvalidArgumentError):
        store.apply_retention({"created_before": b.cut})  # type: ignore[arg-type]
    assert snapshot(store) == before
    assert not list(tmp_path.iterdir())


def test_an_edited_plan_that_does_not_hold_together_is_refused_and_changes_nothing(
    store: LineageStore, tmp_path: Path
) -> None:
    """A plan is a pydantic model anyone may copy with changes (``model_copy(update=...)``
    skips validation) or build. Islands without their event counts raised a raw ValueError
    from ``zip`` -- after the batches before it had been applied (``batch_size=1``: the first
    island deleted by a refused call); a plan without a policy an AttributeError."""
    _types(store)
    ids = store.put_artifacts([Artifact(type="Model", uri=f"/m{i}") for i in range(3)])
    plan = store.plan_retention(types=["Model"])
    assert plan.delete_artifacts == tuple(ids) and len(plan.islands) == 3
    before = snapshot(store)
    for update in (
        {"islands": plan.islands[:1]},  # the first island alone, its count kept with the others
        {"island_events": ()},
        {"island_events": (0, 0, 0, 0)},
        {"policy": None},
        {"tombstone_artifacts": ("x",)},
    ):
        with pytest.raises(InvalidArgumentError, match="not a retention plan"):
            store.apply_retention(
                plan.model_copy(update=update), batch_size=1, archive=tmp_path / "a.jsonl"
            )
        assert snapshot(store) == before, update
    assert not (tmp_path / "a.jsonl").exists()
    with pytest.raises(ValidationError):  # built by hand: refused when built
        RetentionPlan(**{**plan.model_dump(), "islands": plan.islands[:1]})
    # the first island alone, with its own count, is a plan that holds together
    first = plan.model_copy(
        update={"islands": plan.islands[:1], "island_events": plan.island_events[:1]}
    )
    assert store.apply_retention(first).deleted_artifacts == (ids[0],)


def test_a_plan_of_another_store_is_refused_and_changes_nothing(
    store: LineageStore, tmp_path: Path
) -> None:
    """A plan names nodes by id, and ids are per store. Applied to another store, it rewrote
    whatever nodes of that one bear them: the other store's production model, made after the
    policy's cut, became a DELETED tombstone (uri, name and properties gone), its run too."""
    with LineageStore.open(tmp_path / "other") as other:
        _types(other)
        _, (old,), _ = other.put_execution(
            Execution(type="Train"),
            [(Artifact(type="Model", uri="/old"), Event(type=EventType.OUTPUT))],
        )
        cut = _cut()
        other.put_execution(
            Execution(type="Eval"), [(Artifact(id=old), Event(type=EventType.INPUT))]
        )
        foreign = other.plan_retention(created_before=cut)
        assert foreign.tombstone_artifacts == (old,)
    _types(store)
    _, (model,), _ = store.put_execution(
        Execution(type="Train", name="prod"),
        [(Artifact(type="Model", name="prod", uri="s3://prod"), Event(type=EventType.OUTPUT))],
    )
    assert model == old
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match="another store"):
        store.apply_retention(foreign, archive=tmp_path / "a.jsonl")
    assert snapshot(store) == before
    assert not (tmp_path / "a.jsonl").exists()
    # a plan of this store (or one of this store's, read back from JSON) applies
    mine = RetentionPlan.model_validate_json(
        store.plan_retention(created_before=cut).model_dump_json()
    )
    assert store.apply_retention(mine).statements == 0


def test_selection_reads_id_windows_across_gaps(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The selection reads pages of ids in windows (``id_pages``): exact across unused id blocks
    and nodes the policy skips, and its reads follow the pages, not the ids spanned."""
    monkeypatch.setattr(retention_module, "SELECT_PAGE", 5)
    store.put_artifact_type(ArtifactType(name="Keep"))
    store.put_artifact_type(ArtifactType(name="Drop"))
    drop: list[int] = []
    for _ in range(20):
        ids = store.put_artifacts([Artifact(type="Drop" if i < 2 else "Keep") for i in range(6)])
        drop += ids[:2]
        store._artifacts.ids.allocate("Artifact", 600)  # the rest of another writer's block
    original = store.backend.read
    outside: list[tuple[int, int, int]] = []

    def read(query: str, params: Any = None, *, name: str = "") -> list[dict[str, Any]]:
        rows = original(query, params, name=name)
        if name.startswith("retention/select"):  # every id within the page's window
            low, high = params["after_id"], params["upto"]
            outside.extend((low, r["id"], high) for r in rows if not low < r["id"] <= high)
        return rows

    monkeypatch.setattr(store.backend, "read", read)
    with reads_of(store) as names:
        plan = store.plan_retention(types=["Drop"], kinds=NodeKind.ARTIFACT)
    assert sorted(plan.delete_artifacts) == drop
    assert not outside
    selects = [n for n in names if n.startswith("retention/select")]
    # 40 of 12,120 ids in pages of 5: measured 19 reads; windows of one page's width stepping
    # over the gaps would take ~2,400
    assert len(selects) <= 2 * len(drop) // 5 + 15, len(selects)


def _old_artifact_stamped(store: LineageStore, field_name: str, ms: int) -> int:
    """A new artifact whose time ``field_name`` selects on (created or updated) is ``ms``."""
    store.put_artifact_type(ArtifactType(name="Old"))
    [old] = store.put_artifacts([Artifact(type="Old", uri="/old")])
    stamp = (
        "create_time_since_epoch"
        if field_name == "created_before"
        else "last_update_time_since_epoch"
    )
    store.backend.write(f"MATCH (n:Artifact {{id: {old}}}) SET n.{stamp} = {ms}")
    return old


@pytest.mark.parametrize("field_name", ["created_before", "updated_before"])
def test_a_datetime_cut_is_its_exact_millisecond(store: LineageStore, field_name: str) -> None:
    """A cut given as a datetime went through int(timestamp() * 1000), a float: the datetime of
    the millisecond 1,003 became 1,002, and a node stamped 1,002 (before the cut) was kept."""
    from datetime import timedelta

    cut = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=1003)
    assert getattr(retention_module.RetentionPolicy(**{field_name: cut}), field_name) == 1003
    old = _old_artifact_stamped(store, field_name, 1002)
    plan = store.plan_retention(**{field_name: cut})
    assert plan.delete_artifacts == (old,)


@pytest.mark.parametrize("field_name", ["created_before", "updated_before"])
def test_a_datetime_cut_inside_a_millisecond_selects_that_millisecond(
    store: LineageStore, field_name: str
) -> None:
    """A cut given as a datetime inside a millisecond (datetime.now(UTC), 1,003.5 ms) was
    rounded down to 1,003: a node stamped 1,003, before the cut, was kept. Stamps are whole
    milliseconds, so the cut counts from the next one (1,004); one before 1970 too."""
    from datetime import timedelta

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for ms, rounded in ((1003.5, 1004), (-1003.5, -1003), (1003.001, 1004)):
        policy = retention_module.RetentionPolicy(
            **{field_name: epoch + timedelta(milliseconds=ms)}
        )
        assert getattr(policy, field_name) == rounded
    old = _old_artifact_stamped(store, field_name, 1003)
    plan = store.plan_retention(**{field_name: epoch + timedelta(milliseconds=1003.5)})
    assert plan.delete_artifacts == (old,)


@pytest.mark.parametrize("field_name", ["created_before", "updated_before"])
def test_a_cut_at_the_ends_of_int64_compares_exactly(store: LineageStore, field_name: str) -> None:
    """FalkorDB compares two integers through their difference, which overflows 2^63 apart: a
    cut at -2^63 selected every node stamped now (``now - (-2^63)`` wraps negative) instead of
    none, so applying it deleted them."""
    store.put_artifact_type(ArtifactType(name="Now"))
    store.put_execution_type(ExecutionType(name="NowRun"))
    [artifact] = store.put_artifacts([Artifact(type="Now", uri="/now")])
    [execution] = store.put_executions([Execution(type="NowRun")])
    for cut in (-(2**63), -(2**63) + 1, -(2**62) - 1):
        plan = store.plan_retention(**{field_name: cut})
        assert (plan.delete_artifacts, plan.delete_executions) == ((), ()), cut
        assert store.apply_retention(plan).deleted_artifacts == ()
    for cut in (2**63 - 1, 2**62 + 1):
        plan = store.plan_retention(**{field_name: cut})
        assert (plan.delete_artifacts, plan.delete_executions) == ((artifact,), (execution,))
    assert store.get_artifacts_by_id([artifact]) and store.get_executions_by_id([execution])
