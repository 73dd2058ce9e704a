"""Pydantic v2 models of the MLMD data model."""

from ._entities import (
    Artifact,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    Execution,
    ExecutionType,
    Node,
    NodeType,
    ParentContext,
)
from ._enums import ArtifactState, Direction, EventType, ExecutionState, NodeKind, PropertyType
from ._values import INT64_MAX, INT64_MIN, PropertyValue, ProtoValue, kind_of

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "Artifact",
    "ArtifactState",
    "ArtifactType",
    "Association",
    "Attribution",
    "Context",
    "ContextType",
    "Direction",
    "Event",
    "EventType",
    "Execution",
    "ExecutionState",
    "ExecutionType",
    "Node",
    "NodeKind",
    "NodeType",
    "ParentContext",
    "PropertyType",
    "PropertyValue",
    "ProtoValue",
    "kind_of",
]
