"""ml_metadata's getting-started walkthrough runs unchanged (only the import differs) and gives
the same answers as on ml_metadata itself."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from ml_metadata.metadata_store import metadata_store as mlmd_metadata_store
from ml_metadata.proto import metadata_store_pb2

import lineage_graph.mlmd

from .conftest import normalise

pytest.importorskip("lineage_graph.mlmd._listing")


def walkthrough(metadata_store: Any, mlmd: Any) -> tuple[Any, list[Any]]:
    """The guide's code, verbatim but for collecting what it reads."""
    seen: list[Any] = []
    connection_config = metadata_store_pb2.ConnectionConfig()
    connection_config.fake_database.SetInParent()  # Sets an empty fake database proto.
    store = metadata_store.MetadataStore(connection_config)

    data_type = metadata_store_pb2.ArtifactType()
    data_type.name = "DataSet"
    data_type.properties["day"] = metadata_store_pb2.INT
    data_type.properties["split"] = metadata_store_pb2.STRING
    data_type_id = store.put_artifact_type(data_type)

    model_type = metadata_store_pb2.ArtifactType()
    model_type.name = "SavedModel"
    model_type.properties["version"] = metadata_store_pb2.INT
    model_type.properties["name"] = metadata_store_pb2.STRING
    model_type_id = store.put_artifact_type(model_type)
    seen.append(store.get_artifact_types())

    trainer_type = metadata_store_pb2.ExecutionType()
    trainer_type.name = "Trainer"
    trainer_type.properties["state"] = metadata_store_pb2.STRING
    trainer_type_id = store.put_execution_type(trainer_type)
    seen.append(store.get_execution_type("Trainer"))

    data_artifact = metadata_store_pb2.Artifact()
    data_artifact.uri = "path/to/data"
    data_artifact.properties["day"].int_value = 1
    data_artifact.properties["split"].string_value = "train"
    data_artifact.type_id = data_type_id
    [data_artifact_id] = store.put_artifacts([data_artifact])
    seen.append(store.get_artifacts())
    seen.append(store.get_artifacts_by_id([data_artifact_id]))
    seen.append(store.get_artifacts_by_type("DataSet"))
    seen.append(store.get_artifacts_by_uri(data_artifact.uri))
    seen.append(
        store.get_artifacts(
            list_options=mlmd.ListOptions(
                filter_query='uri LIKE "%/data" AND properties.day.int_value > 0'
            )
        )
    )

    trainer_run = metadata_store_pb2.Execution()
    trainer_run.type_id = trainer_type_id
    trainer_run.properties["state"].string_value = "RUNNING"
    [run_id] = store.put_executions([trainer_run])
    seen.append(store.get_executions_by_id([run_id]))
    seen.append(store.get_executions_by_type("Trainer"))

    input_event = metadata_store_pb2.Event()
    input_event.artifact_id = data_artifact_id
    input_event.execution_id = run_id
    input_event.type = metadata_store_pb2.Event.DECLARED_INPUT
    store.put_events([input_event])

    model_artifact = metadata_store_pb2.Artifact()
    model_artifact.uri = "path/to/model/file"
    model_artifact.properties["version"].int_value = 1
    model_artifact.properties["name"].string_value = "MNIST-v1"
    model_artifact.type_id = model_type_id
    [model_artifact_id] = store.put_artifacts([model_artifact])

    output_event = metadata_store_pb2.Event()
    output_event.artifact_id = model_artifact_id
    output_event.execution_id = run_id
    output_event.type = metadata_store_pb2.Event.DECLARED_OUTPUT
    store.put_events([output_event])

    trainer_run.id = run_id
    trainer_run.properties["state"].string_value = "COMPLETED"
    store.put_executions([trainer_run])
    seen.append(store.get_events_by_execution_ids([run_id]))

    experiment_type = metadata_store_pb2.ContextType()
    experiment_type.name = "Experiment"
    experiment_type.properties["note"] = metadata_store_pb2.STRING
    experiment_type_id = store.put_context_type(experiment_type)

    my_experiment = metadata_store_pb2.Context()
    my_experiment.type_id = experiment_type_id
    my_experiment.name = "exp1"
    my_experiment.properties["note"].string_value = "My first experiment."
    [experiment_id] = store.put_contexts([my_experiment])

    attribution = metadata_store_pb2.Attribution()
    attribution.artifact_id = model_artifact_id
    attribution.context_id = experiment_id

    association = metadata_store_pb2.Association()
    association.execution_id = run_id
    association.context_id = experiment_id
    store.put_attributions_and_associations([attribution], [association])

    seen.append(store.get_artifacts_by_context(experiment_id))
    seen.append(store.get_executions_by_context(experiment_id))
    seen.append(
        store.get_artifacts(
            list_options=mlmd.ListOptions(
                filter_query='contexts_a.type = "Experiment" AND contexts_a.name = "exp1"'
            )
        )
    )
    return store, seen


def test_walkthrough_runs_unchanged_with_the_same_answers() -> None:
    _, expected = walkthrough(mlmd_metadata_store, mlmd_metadata_store)
    ours_module = SimpleNamespace(
        MetadataStore=lineage_graph.mlmd.MetadataStore, ListOptions=lineage_graph.mlmd.ListOptions
    )
    store, got = walkthrough(ours_module, ours_module)
    try:
        assert normalise(got) == normalise(expected)
        assert [a.uri for a in got[-1]] == ["path/to/model/file"]  # the second filter query
    finally:
        store.close()


def test_the_guides_own_imports_switch_with_one_line_each() -> None:
    """The guide writes ``from ml_metadata import metadata_store`` and ``import ml_metadata as
    mlmd``, then ``metadata_store.MetadataStore(...)`` and ``mlmd.ListOptions(...)``. The docs
    promise a one-import-line switch, but ``from lineage_graph.mlmd import metadata_store`` was
    an ImportError (the test above stood a SimpleNamespace in for the module), so every
    ``metadata_store.MetadataStore(`` call had to be rewritten too."""
    _, expected = walkthrough(mlmd_metadata_store, mlmd_metadata_store)
    import lineage_graph.mlmd as mlmd
    from lineage_graph.mlmd import metadata_store

    assert metadata_store.MetadataStore is lineage_graph.mlmd.MetadataStore
    assert mlmd.metadata_store is metadata_store
    store, got = walkthrough(metadata_store, mlmd)
    try:
        assert normalise(got) == normalise(expected)
    finally:
        store.close()
    for name in ("ExtraOptions", "ListOptions", "OrderByField"):
        assert getattr(metadata_store, name) is getattr(mlmd_metadata_store, name)
