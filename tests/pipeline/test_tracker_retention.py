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
    tracker = store.tracker
    models = []
    for i in (1, 2):
        with store.run("Trainer", properties={"seed": i}) as run:
            models.append(run.output("Model", uri=f"s3://models/{i}"))
    v1 = tracker.register_model(models[0], "churn").id
    v2 = tracker.register_model(models[1], "churn").id
    tracker.deploy(v2)
    plan = store.plan_retention(types=["Model"])
    assert plan.tombstone_artifacts == (v1,)  # linked to its run; v2 is in service: kept
    store.apply_retention(plan)
    assert tracker.registered_models() == ["churn"]
    versions = tracker.model_versions("churn")
    assert [(v.version, v.id, v.artifact.state) for v in versions] == [
        (1, v1, ArtifactState.DELETED),
        (2, v2, ArtifactState.LIVE),
    ]
    assert versions[0].artifact.uri is None  # its data is gone all the same
    assert tracker.previous_version(v2) == versions[0]
    with pytest.raises(FailedPreconditionError):  # a tombstone is not deployed again
        tracker.deploy(v1)
    # the numbering goes on after the tombstones
    with store.run("Trainer", properties={"seed": 3}) as run:
        m3 = run.output("Model", uri="s3://models/3")
    assert tracker.register_model(m3, "churn").version == 3


def test_tombstoned_deployments_keep_their_environment(store: LineageStore) -> None:
    v1, v2, production = _registry(store)
    tracker = store.tracker
    latest = tracker.deploy(v1)  # a rollback: `production` (of v2) is superseded
    plan = store.plan_retention(types=["Deployment"])
    assert plan.tombstone_executions == (production,)  # the others serve
    store.apply_retention(plan)
    served = tracker.deployed_version("churn")
    assert served is not None and served.id == v1  # production serves v1
    history = tracker.deployments("churn", environment="production")
    assert [x.id for x in history] == [production, latest]
    staging = tracker.deployed_version("churn", environment="staging")
    assert staging is not None and staging.version == 1
    # other custom properties of a deployment go, as every tombstone's do
    [tomb] = store.get_executions_by_id([production])
    assert tomb.custom_properties == {"environment": "production"}
    assert v2 in {a.id for a in store.get_artifacts()}


def test_the_kept_keys_are_the_trackers() -> None:
    """cypher/retention/apply.cypher names the encoded keys it keeps literally."""
    from lineage_graph._encoding import property_key
    from lineage_graph._tracker import ENVIRONMENT_PROPERTY, NAME_PROPERTY, VERSION_PROPERTY
    from lineage_graph.models import PropertyType

    assert property_key("c", PropertyType.STRING, NAME_PROPERTY) == "cs__model_name"
    assert property_key("c", PropertyType.INT, VERSION_PROPERTY) == "ci__model_version"
    assert property_key("c", PropertyType.STRING, ENVIRONMENT_PROPERTY) == "cs__environment"
    # and retention's own names of the registry (it cannot import the tracker: imports flow down)
    from lineage_graph._repositories import retention
    from lineage_graph._tracker import DEPLOYMENT_TYPE, REGISTERED_MODEL_TYPE

    assert retention.ENVIRONMENT_KEY == "cs__environment"
    assert (retention.DEPLOYMENT_TYPE, retention.REGISTERED_MODEL_TYPE) == (
        DEPLOYMENT_TYPE,
        REGISTERED_MODEL_TYPE,
    )


def test_retention_by_age_keeps_the_versions_in_service(store: LineageStore) -> None:
    """Everything older than the cut made one island with the model in production and its
    deployments: ``plan_retention(created_before=cut)`` deleted them, and the tracker then
    answered no deployed version for a model still serving. The latest deployment of each
    registered model to each environment, and the version it deployed, are kept out of the
    selection (the runs and data behind them become tombstones: lineage stays whole)."""
    tracker = store.tracker
    v1_id, v2_id, production = _registry(store)
    first = tracker.deploy(v1_id)  # v1 to production again: a rollback ...
    latest = tracker.deploy(v2_id)  # ... and forward again; `production` is superseded twice
    cut = max(x.create_time_since_epoch or 0 for x in store.get_executions()) + 1
    plan = store.plan_retention(created_before=cut)
    assert plan.serving_artifacts == (v1_id, v2_id)  # production v2, staging v1
    staging = tracker.deployments("churn", environment="staging")[-1].id
    assert plan.serving_executions == tuple(sorted([latest, staging or 0]))
    assert "still serving" in plan.summary()
    served = {v1_id, v2_id, latest, staging}
    planned = {*plan.delete_artifacts, *plan.tombstone_artifacts}
    planned |= {*plan.delete_executions, *plan.tombstone_executions}
    assert not plan.delete_artifacts and not plan.delete_executions  # all linked to what stays
    assert {production, first} <= set(plan.tombstone_executions)
    assert not served & set(plan.tombstone_artifacts) and latest not in plan.tombstone_executions
    store.apply_retention(plan)
    prod = tracker.deployed_version("churn")
    assert prod is not None and prod.id == v2_id and prod.artifact.uri == "s3://models/2"
    assert prod.artifact.state != ArtifactState.DELETED
    stage = tracker.deployed_version("churn", environment="staging")
    assert stage is not None and stage.id == v1_id and stage.artifact.uri == "s3://models/1"
    # the lineage of the model in service is whole, through tombstones
    up = store.upstream(prod.artifact)
    assert {x.type for x in up.executions} == {"Trainer"}
    assert [x.id for x in tracker.deployments("churn", environment="production")] == [
        production,
        first,
        latest,
    ]


def test_model_properties_set_by_hand_go_with_the_tombstone(store: LineageStore) -> None:
    """Only a registered version keeps ``model_name`` / ``model_version`` as a tombstone: the
    same custom properties set by hand on an artifact no registered model holds stayed on its
    tombstone (``{'model_name': 'patient-4711', 'model_version': 3}``), where every other
    property went."""
    with store.run("Trainer") as run:
        loose = run.output(
            "Model",
            uri="s3://m/1",
            custom_properties={"model_name": "patient-4711", "model_version": 3},
        )
        named = run.output(
            "Model", uri="s3://m/2", custom_properties={"model_name": "churn", "model_version": 7}
        )
        registered = run.output("Model", uri="s3://m/3")
    store.tracker.register_model(registered, "churn")  # a registered model of that name exists
    plan = store.plan_retention(types=["Model"])
    assert plan.tombstone_artifacts == (loose.id, named.id, registered.id)
    store.apply_retention(plan)
    found = {a.id: a for a in store.get_artifacts_by_id(plan.tombstone_artifacts)}
    assert found[loose.id].custom_properties == {}
    assert found[named.id].custom_properties == {}  # not attributed to churn: no version of it
    assert found[registered.id].custom_properties == {"model_name": "churn", "model_version": 1}
    assert [v.id for v in store.tracker.model_versions("churn")] == [registered.id]


@pytest.mark.parametrize("island", [False, True])
def test_a_model_deployed_after_the_plan_is_not_tombstoned(
    store: LineageStore, island: bool
) -> None:
    """A plan is made, then the model deployed, then the plan applied: the version now in
    service was tombstoned (planned when no deployment read it), and deployed_version answered
    a DELETED model without its uri. The apply keeps what serves when it runs, as a fresh plan
    does. ``island``: the model and its training run alone selected (an island planned to be
    deleted whole; the deployment links it): the run is tombstoned, the model kept."""
    tracker = store.tracker
    with store.run("Trainer") as run:
        model = run.output("Model", uri="s3://models/1")
    version = tracker.register_model(model, "churn")
    types = ["Model", "Trainer"] if island else ["Model"]
    plan = store.plan_retention(types=types)
    assert model.id in (plan.islands[0][0] if island else plan.tombstone_artifacts)
    tracker.deploy(version)
    result = store.apply_retention(plan)
    assert model.id not in result.tombstoned_artifacts + result.deleted_artifacts
    served = tracker.deployed_version("churn")
    assert served is not None and served.artifact.id == model.id
    assert served.artifact.state != ArtifactState.DELETED
    assert served.artifact.uri == "s3://models/1"
    if island:
        assert result.tombstoned_executions == (run.id,) and result.deleted_executions == ()
