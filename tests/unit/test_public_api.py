"""The public surface is exactly what ``__all__`` says, and nothing private leaks into it."""

from __future__ import annotations

import lineage_graph
import lineage_graph.backends
import lineage_graph.exceptions
import lineage_graph.models

EXPECTED = {
    "AlreadyExistsError", "ArchivedRecord", "Artifact", "ArtifactState", "ArtifactType",
    "Association", "Attribution", "CacheResult", "ConfigurationError", "Context", "ContextType",
    "Direction", "EngineError", "EngineNotInstalledError", "EngineUnavailableError", "Event",
    "EventType", "Execution", "ExecutionState", "ExecutionType", "FailedPreconditionError",
    "InvalidArgumentError", "LineageGraph", "LineageGraphError", "LineageStore", "NodeFilter",
    "NodeKind", "NodeRef", "NotFoundError", "OutOfRangeError", "ParentContext", "PropertyType",
    "ProtoValue", "QueryError", "RetentionPlan", "RetentionResult", "SchemaVersionError",
    "__version__",
}  # fmt: skip


def test_package_all_is_pinned() -> None:
    assert set(lineage_graph.__all__) >= EXPECTED
    for name in lineage_graph.__all__:
        assert getattr(lineage_graph, name) is not None
        assert not name.startswith("_") or name == "__version__"


def test_every_error_derives_from_the_root() -> None:
    for name in lineage_graph.exceptions.__all__:
        error = getattr(lineage_graph.exceptions, name)
        assert issubclass(error, lineage_graph.LineageGraphError)
    assert lineage_graph.EngineUnavailableError.retryable
    assert not lineage_graph.InvalidArgumentError.retryable
    assert issubclass(lineage_graph.InvalidArgumentError, ValueError)


def test_submodule_all_names_exist() -> None:
    for module in (lineage_graph.models, lineage_graph.backends, lineage_graph.exceptions):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)
