"""lineage-graph: ML metadata (the MLMD data model) as a property graph.

>>> from lineage_graph import LineageStore, ArtifactType, Artifact
>>> with LineageStore.open("memory") as store:          # doctest: +SKIP
...     store.put_artifact_type(ArtifactType(name="DataSet"))
"""

from .__about__ import __version__
from ._repositories.cache import CacheResult
from ._repositories.retention import ArchivedRecord, RetentionPlan, RetentionResult
from ._tracker import ModelVersion, Tracker
from .exceptions import (
    AlreadyExistsError,
    ConfigurationError,
    EngineError,
    EngineNotInstalledError,
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageGraphError,
    NotFoundError,
    OutOfRangeError,
    QueryError,
    SchemaVersionError,
    StoredValueError,
)
from .lineage import (
    ArtifactDiff,
    ImpactMark,
    ImpactReport,
    LineageDiff,
    LineageGraph,
    NodeFilter,
    NodeRef,
)
from .models import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Direction,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    NodeKind,
    ParentContext,
    PropertyType,
    ProtoValue,
)
from .store import LineageStore

__all__ = [
    "AlreadyExistsError",
    "ArchivedRecord",
    "Artifact",
    "ArtifactDiff",
    "ArtifactState",
    "ArtifactType",
    "Association",
    "Attribution",
    "CacheResult",
    "ConfigurationError",
    "Context",
    "ContextType",
    "Direction",
    "EngineError",
    "EngineNotInstalledError",
    "EngineUnavailableError",
    "Event",
    "EventType",
    "Execution",
    "ExecutionState",
    "ExecutionType",
    "FailedPreconditionError",
    "ImpactMark",
    "ImpactReport",
    "InvalidArgumentError",
    "LineageDiff",
    "LineageGraph",
    "LineageGraphError",
    "LineageStore",
    "ModelVersion",
    "NodeFilter",
    "NodeKind",
    "NodeRef",
    "NotFoundError",
    "OutOfRangeError",
    "ParentContext",
    "PropertyType",
    "ProtoValue",
    "QueryError",
    "RetentionPlan",
    "RetentionResult",
    "SchemaVersionError",
    "StoredValueError",
    "Tracker",
    "__version__",
]
