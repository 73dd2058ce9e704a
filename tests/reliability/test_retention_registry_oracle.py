"""Retention on random model registries against a networkx oracle (plan == oracle == apply).

A seeded generator records training runs (some reading an earlier model), registers their
models under two names, and deploys random versions to three environments (some deployments
inside a release run). A random policy is planned: networkx says what the plan must be (the
selection minus the latest deployment of each registered model to each environment and what
it deployed; each connected group of the rest is deleted when nothing outside it is linked to
it, else tombstoned), and after the plan is applied the tracker answers what it answered
before: every environment's deployed version, and every version that was not deleted.
"""

from __future__ import annotations

import random
from typing import Any

import networkx as nx
import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    EventType,
    Execution,
    LineageStore,
    NodeKind,
)

NAMES = ("churn", "fraud")
ENVIRONMENTS = ("production", "staging", "canary")


def _build(store: LineageStore, rng: random.Random) -> None:
    tracker = store.tracker
    store.put_artifact_type(ArtifactType(name="Dataset"))
    models: list[object] = []
    for i in range(rng.randint(3, 7)):
        inputs = []
        if models and rng.random() < 0.4:
            inputs.append(rng.choice(models))
        if rng.random() < 0.5:
            inputs += store.put_artifacts([Artifact(type="Dataset", uri=f"s3://data/{i}")])
        with store.run("Trainer", inputs=inputs, properties={"seed": i}, cache=False) as run:
            models.append(run.output("Model", uri=f"s3://models/{i}"))
    versions = [tracker.register_model(m, rng.choice(NAMES)) for m in models if rng.random() < 0.8]
    for _ in range(rng.randint(0, 8) if versions else 0):
        version = rng.choice(versions)
        environment = rng.choice(ENVIRONMENTS)
        if rng.random() < 0.3:
            with store.run("Release"):
                tracker.deploy(version, environment=environment)
        else:
            tracker.deploy(version, environment=environment)


def _answers(
    store: LineageStore,
) -> tuple[dict[object, int | None], dict[str, list[tuple[int, int]]]]:
    tracker = store.tracker
    deployed: dict[object, int | None] = {}
    for name in NAMES:
        for environment in (*ENVIRONMENTS, None):
            v = tracker.deployed_version(name, environment=environment)
            deployed[name, environment] = None if v is None else v.id
    versions = {name: [(v.version, v.id) for v in tracker.model_versions(name)] for name in NAMES}
    return deployed, versions


def _serving(store: LineageStore) -> tuple[set[int], set[int]]:
    tracker = store.tracker
    artifacts: set[int] = set()
    executions: set[int] = set()
    for name in NAMES:
        for environment in ENVIRONMENTS:
            history = tracker.deployments(name, environment=environment)
            if not history:
                continue
            latest = history[-1].id or 0
            executions.add(latest)
            events = store.get_events_by_execution_ids([latest])
            artifacts |= {e.artifact_id for e in events if e.type == EventType.INPUT}
    return artifacts, executions


def _round(store: LineageStore, rng: random.Random, tombs: set[tuple[str, int]]) -> None:
    """Plan a random policy, check it against the oracle, apply it, check the tracker."""
    artifacts = store.get_artifacts()
    executions = store.get_executions()
    times = sorted({n.create_time_since_epoch or 0 for n in [*artifacts, *executions]})
    cut = rng.choice(times) + rng.choice([0, 1])
    kinds = rng.choice([None, [NodeKind.ARTIFACT], [NodeKind.EXECUTION]])
    types = rng.choice([None, ["Model"], ["Deployment"], ["Model", "Deployment", "Trainer"]])
    if types is not None:  # (a type no node of those kinds has is NotFoundError)
        pool = {NodeKind.ARTIFACT: artifacts, NodeKind.EXECUTION: executions}
        names = {n.type for k in (kinds or pool) for n in pool[k]}
        types = [t for t in types if t in names] or None
    criteria: dict[str, Any] = {"created_before": cut}
    if types is not None:
        criteria["types"] = types
    if kinds is not None:
        criteria["kinds"] = kinds
    plan = store.plan_retention(**criteria)

    def chosen(node: Artifact | Execution, kind: NodeKind) -> bool:
        return (
            (kinds is None or kind in kinds)
            and (node.create_time_since_epoch or 0) < cut
            and (types is None or node.type in types)
        )

    selected = {("a", a.id or 0) for a in artifacts if chosen(a, NodeKind.ARTIFACT)}
    selected |= {("e", x.id or 0) for x in executions if chosen(x, NodeKind.EXECUTION)}
    serving_a, serving_e = _serving(store)
    serving = {("a", a) for a in serving_a} | {("e", e) for e in serving_e}
    graph = nx.Graph()
    graph.add_nodes_from([("a", a.id) for a in artifacts] + [("e", x.id) for x in executions])
    for event in store.get_events_by_execution_ids([x.id or 0 for x in executions]):
        graph.add_edge(("a", event.artifact_id), ("e", event.execution_id))
    chosen_nodes = selected - serving
    delete: set[tuple[str, int]] = set()
    for group in nx.connected_components(graph.subgraph(chosen_nodes)):
        if all(set(graph[n]) <= chosen_nodes for n in group):
            delete |= group
    tombstone = chosen_nodes - delete - tombs

    def ids(nodes: set[tuple[str, int]], kind: str) -> tuple[int, ...]:
        return tuple(sorted(i for k, i in nodes if k == kind))

    assert (plan.serving_artifacts, plan.serving_executions) == (
        ids(selected & serving, "a"),
        ids(selected & serving, "e"),
    )
    assert (plan.delete_artifacts, plan.delete_executions) == (ids(delete, "a"), ids(delete, "e"))
    assert (plan.tombstone_artifacts, plan.tombstone_executions) == (
        ids(tombstone, "a"),
        ids(tombstone, "e"),
    )
    assert plan.already_tombstones == len((chosen_nodes - delete) & tombs)

    deployed, versions = _answers(store)
    result = store.apply_retention(plan)
    assert result.deleted_artifacts == plan.delete_artifacts
    assert result.tombstoned_artifacts == plan.tombstone_artifacts
    assert result.tombstoned_executions == plan.tombstone_executions
    gone = set(plan.delete_artifacts)
    after_deployed, after_versions = _answers(store)
    assert after_deployed == deployed
    assert after_versions == {n: [v for v in vs if v[1] not in gone] for n, vs in versions.items()}
    for v in store.get_artifacts_by_id(plan.tombstone_artifacts):
        assert v.state == ArtifactState.DELETED
    assert not store.get_artifacts_by_id(plan.delete_artifacts)
    assert not store.get_executions_by_id(plan.delete_executions)
    tombs -= delete
    tombs |= tombstone


@pytest.mark.parametrize("seed", range(40))
def test_retention_of_a_registry_matches_the_oracle(store: LineageStore, seed: int) -> None:
    """Two rounds: the second plans over the first one's tombstones, after more deployments
    (a rollback to a version still live among them)."""
    rng = random.Random(seed)
    _build(store, rng)
    tombs: set[tuple[str, int]] = set()
    _round(store, rng, tombs)
    tracker = store.tracker
    live = [
        v
        for name in NAMES
        for v in tracker.model_versions(name)
        if v.artifact.state == ArtifactState.LIVE
    ]
    for _ in range(rng.randint(0, 3) if live else 0):
        tracker.deploy(rng.choice(live), environment=rng.choice(ENVIRONMENTS))
    _round(store, rng, tombs)
