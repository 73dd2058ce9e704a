"""``store.tracker`` after retention: a tombstone keeps the model registry's bookkeeping.

Retention tombstones a node next to one that stays (its uri and properties go). A registered
model version lost its ``model_name`` / ``model_version`` that way, and a ``Deployment`` its
``environment``: the tracker then said the model had no versions and was not deployed
(``registered_models() == []``, ``deployed_version(...) is None``) while its context, its
deployments and the model in service were all still recorded.
"""

from __future__ import annotations

import pytest

from lineage_graph import ArtifactState, FailedPreconditionError, LineageStore


def _registry(store: LineageStore) -> tuple[int, int, int]:
    """Two versions of ``churn`` trained by two runs; v2 deployed to production, then v1 to
    staging. Returns (v1 id, v2 id, the production deployment's id)."""
    tracker = store.tracker
    models = []
    for i in (1, 2):
        with store.run("Trainer", properties={"seed": i}) as run:
            models.append(run.output("Model", uri=f"s3://models/{i}"))
    v1 = tracker.register_model(models[0], "churn")
    v2 = tracker.register_model(models[1], "churn")
    production = tracker.deploy(v2)
    tracker.deploy(v1, environment="staging")
    return v1.id, v2.id, production


def test_tombstoned_versions_stay_registered(store: LineageStore) -> None:
    v1, v2, _ = _registry(store)
    tracker = store.tracker
    plan = store.plan_retention(types=["Model"])
    assert plan.tombstone_artifacts == (v1, v2)  # each is linked to its run and a deployment
    store.apply_retention(plan)
    assert tracker.registered_models() == ["churn"]
    versions = tracker.model_versions("churn")
    assert [(v.version, v.id, v.artifact.state) for v in versions] == [
        (1, v1, ArtifactState.DELETED),
        (2, v2, ArtifactState.DELETED),
    ]
    assert versions[-1].artifact.uri is None  # its data is gone all the same
    served = tracker.deployed_version("churn")
    assert served is not None and (served.version, served.id) == (2, v2)
    assert tracker.previous_version(v2) == versions[0]
    with pytest.raises(FailedPreconditionError):  # a tombstone is not deployed again
        tracker.deploy(v2)
    # the numbering goes on after the tombstones
    with store.run("Trainer", properties={"seed": 3}) as run:
        m3 = run.output("Model", uri="s3://models/3")
    assert tracker.register_model(m3, "churn").version == 3


def test_tombstoned_deployments_keep_their_environment(store: LineageStore) -> None:
    _, v2, production = _registry(store)
    tracker = store.tracker
    plan = store.plan_retention(types=["Deployment"])
    assert production in plan.tombstone_executions
    store.apply_retention(plan)
    served = tracker.deployed_version("churn")
    assert served is not None and served.id == v2  # production still serves v2
    assert [x.id for x in tracker.deployments("churn", environment="production")] == [production]
    staging = tracker.deployed_version("churn", environment="staging")
    assert staging is not None and staging.version == 1
    # other custom properties of a deployment go, as every tombstone's do
    [tomb] = store.get_executions_by_id([production])
    assert tomb.custom_properties == {"environment": "production"}


def test_the_kept_keys_are_the_trackers() -> None:
    """cypher/retention/apply.cypher names the encoded keys it keeps literally."""
    from lineage_graph._encoding import property_key
    from lineage_graph._tracker import ENVIRONMENT_PROPERTY, NAME_PROPERTY, VERSION_PROPERTY
    from lineage_graph.models import PropertyType

    assert property_key("c", PropertyType.STRING, NAME_PROPERTY) == "cs__model_name"
    assert property_key("c", PropertyType.INT, VERSION_PROPERTY) == "ci__model_version"
    assert property_key("c", PropertyType.STRING, ENVIRONMENT_PROPERTY) == "cs__environment"
