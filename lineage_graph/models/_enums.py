"""Enumerations of the MLMD data model (numbering identical to ``metadata_store.proto``)."""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "ArtifactState",
    "Direction",
    "EventType",
    "ExecutionState",
    "NodeKind",
    "PropertyType",
]


class PropertyType(IntEnum):
    """Value kind of a declared property (MLMD ``PropertyType``)."""

    UNKNOWN = 0
    INT = 1
    DOUBLE = 2
    STRING = 3
    STRUCT = 4
    PROTO = 5
    BOOLEAN = 6


class ArtifactState(IntEnum):
    UNKNOWN = 0
    PENDING = 1
    LIVE = 2
    MARKED_FOR_DELETION = 3
    DELETED = 4
    ABANDONED = 5
    REFERENCE = 6


class ExecutionState(IntEnum):
    UNKNOWN = 0
    NEW = 1
    RUNNING = 2
    COMPLETE = 3
    FAILED = 4
    CACHED = 5
    CANCELED = 6


class EventType(IntEnum):
    """Kind of an artifact<->execution event. Inputs point artifact -> execution in the graph."""

    UNKNOWN = 0
    DECLARED_OUTPUT = 1
    DECLARED_INPUT = 2
    INPUT = 3
    OUTPUT = 4
    INTERNAL_INPUT = 5
    INTERNAL_OUTPUT = 6
    PENDING_OUTPUT = 7

    @property
    def is_output(self) -> bool:
        """True for the event types whose edge points execution -> artifact."""
        return self in _OUTPUT_EVENTS


_OUTPUT_EVENTS = frozenset(
    {
        EventType.DECLARED_OUTPUT,
        EventType.OUTPUT,
        EventType.INTERNAL_OUTPUT,
        EventType.PENDING_OUTPUT,
    }
)


class NodeKind(StrEnum):
    """The three node kinds; the value is the graph label (a closed set, never from input)."""

    ARTIFACT = "Artifact"
    EXECUTION = "Execution"
    CONTEXT = "Context"

    @property
    def type_label(self) -> str:
        return f"{self.value}Type"


class Direction(StrEnum):
    """Which way lineage is followed from the start nodes (edges point the way data flows)."""

    #: Producers of the start nodes, their inputs, and so on: where they came from.
    UPSTREAM = "upstream"
    #: Consumers of the start nodes and what they produced: what they affected.
    DOWNSTREAM = "downstream"
    #: Upstream and downstream together (each followed in its own direction).
    BOTH = "both"
    #: Every hop may follow an EVENT either way: the connected neighbourhood (MLMD's
    #: ``BIDIRECTIONAL``); with no hop limit it is the whole connected component.
    ANY = "any"
