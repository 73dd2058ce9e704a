"""lineage-graph: ML metadata (the MLMD data model) as a property graph.

>>> from lineage_graph import LineageStore, ArtifactType, Artifact
>>> with LineageStore.open("memory") as store:          # doctest: +SKIP
...     store.put_artifact_type(ArtifactType(name="DataSet"))
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .__about__ import __version__

if TYPE_CHECKING:
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

#: Where each public name is defined, imported when first asked for (PEP 562): the package's
#: import (which comes first for every module in it, the ``lineage-graph`` command's entry
#: point too) ran all of them eagerly, a fifth of a second of pydantic, drivers and the store
#: during which a Ctrl-C printed a KeyboardInterrupt traceback (the CLI could not catch it
#: yet). ``from lineage_graph import LineageStore`` imports what it names, as before.
_WHERE = {
    "CacheResult": "._repositories.cache",
    "ArchivedRecord": "._repositories.retention",
    "RetentionPlan": "._repositories.retention",
    "RetentionResult": "._repositories.retention",
    "ModelVersion": "._tracker",
    "Tracker": "._tracker",
    "AlreadyExistsError": ".exceptions",
    "ConfigurationError": ".exceptions",
    "EngineError": ".exceptions",
    "EngineNotInstalledError": ".exceptions",
    "EngineUnavailableError": ".exceptions",
    "FailedPreconditionError": ".exceptions",
    "InvalidArgumentError": ".exceptions",
    "LineageGraphError": ".exceptions",
    "NotFoundError": ".exceptions",
    "OutOfRangeError": ".exceptions",
    "QueryError": ".exceptions",
    "SchemaVersionError": ".exceptions",
    "StoredValueError": ".exceptions",
    "ArtifactDiff": ".lineage",
    "ImpactMark": ".lineage",
    "ImpactReport": ".lineage",
    "LineageDiff": ".lineage",
    "LineageGraph": ".lineage",
    "NodeFilter": ".lineage",
    "NodeRef": ".lineage",
    "Artifact": ".models",
    "ArtifactState": ".models",
    "ArtifactType": ".models",
    "Association": ".models",
    "Attribution": ".models",
    "Context": ".models",
    "ContextType": ".models",
    "Direction": ".models",
    "Event": ".models",
    "EventType": ".models",
    "Execution": ".models",
    "ExecutionState": ".models",
    "ExecutionType": ".models",
    "NodeKind": ".models",
    "ParentContext": ".models",
    "PropertyType": ".models",
    "ProtoValue": ".models",
    "LineageStore": ".store",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # asked for once
        return value
    if (
        name.isidentifier()  # "a.b" would import lineage_graph.a: hasattr raised an ImportError
        and not name.startswith("__")
        and importlib.util.find_spec(f"{__name__}.{name}") is not None
    ):
        # A submodule (``lineage_graph.pipeline.current_run()`` after ``import lineage_graph``,
        # as docs/api.md writes it): the eager imports made each an attribute of the package.
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # the public names, the dunders and the submodules imported so far (not this file's own
    # helpers: importlib, Any, ...)
    here = globals()
    return sorted(
        {*__all__}
        | {n for n in here if n.startswith("__")}
        | {
            n
            for n, v in here.items()
            if isinstance(v, ModuleType) and v.__name__.startswith(f"{__name__}.")
        }
    )
