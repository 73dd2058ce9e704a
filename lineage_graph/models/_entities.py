"""Pydantic v2 models of the MLMD data model: the single source of truth for the graph schema."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ._enums import ArtifactState, EventType, ExecutionState, NodeKind, PropertyType
from ._values import INT64_MAX, INT64_MIN, PropertyMap

__all__ = [
    "Artifact",
    "ArtifactType",
    "Association",
    "Attribution",
    "Context",
    "ContextType",
    "Event",
    "Execution",
    "ExecutionType",
    "Node",
    "NodeType",
    "ParentContext",
]

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX, strict=True)]
Id = Annotated[int, Field(gt=0, le=INT64_MAX, strict=True)]


def _by_name(enum: type[IntEnum]) -> WrapValidator:
    """An MLMD enum field that also takes a member's name, exactly as MLMD's proto spells it
    (``"LIVE"``, ``"INT"``; case-sensitive, as ``NodeFilter`` states: the CLI folds case before
    it calls the library). The field still holds the enum member, so nothing stored or dumped
    changes; a value that is neither a name nor a number of the enum is refused with both
    listed."""
    names = ", ".join(enum.__members__)
    numbers = f"{min(enum)} to {max(enum)}"

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if type(value) is str and value in enum.__members__:
            return enum.__members__[value]
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "enum",
                "Input should be a name of {enum} ({names}) or its number ({numbers})",
                {"enum": enum.__name__, "names": names, "numbers": numbers},
            ) from None

    return WrapValidator(validate)


#: The MLMD enums as fields: a member, its number or its name.
PropertyTypeField = Annotated[PropertyType, _by_name(PropertyType)]
ArtifactStateField = Annotated[ArtifactState, _by_name(ArtifactState)]
ExecutionStateField = Annotated[ExecutionState, _by_name(ExecutionState)]
EventTypeField = Annotated[EventType, _by_name(EventType)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


# --------------------------------------------------------------------------------------- types


class NodeType(_Model):
    """A registered type (MLMD ``ArtifactType`` / ``ExecutionType`` / ``ContextType``).

    Identified by ``(name, version)``; ``properties`` declares each property's value kind.
    """

    kind: ClassVar[NodeKind]

    id: Id | None = None
    name: Annotated[str, Field(min_length=1, strict=True)]
    version: str | None = None
    description: str | None = None
    external_id: str | None = None
    properties: dict[str, PropertyTypeField] = Field(default_factory=dict)
    #: MLMD ``SystemDefinedBaseType`` name (e.g. ``"DATASET"``, ``"TRAIN"``), or None.
    base_type: str | None = None

    @field_validator("version", "external_id")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("properties")
    @classmethod
    def _known_kinds(cls, value: dict[str, PropertyType]) -> dict[str, PropertyType]:
        for name, kind in value.items():
            if not name:
                raise ValueError("property names must not be empty")
            if kind == PropertyType.UNKNOWN:
                raise ValueError(f"property {name!r} has no value type (UNKNOWN)")
        return value


class ArtifactType(NodeType):
    kind: ClassVar[NodeKind] = NodeKind.ARTIFACT


class ExecutionType(NodeType):
    kind: ClassVar[NodeKind] = NodeKind.EXECUTION


class ContextType(NodeType):
    kind: ClassVar[NodeKind] = NodeKind.CONTEXT


# --------------------------------------------------------------------------------------- nodes


class Node(_Model):
    """Fields shared by artifacts, executions and contexts.

    On write, give ``type_id`` or ``type`` (the type's name; with ``type_version`` if the type has
    versions). ``id`` set means update; unset means insert. Times are set by the store.
    """

    kind: ClassVar[NodeKind]

    id: Id | None = None
    type_id: Id | None = None
    type: str | None = None
    type_version: str | None = None
    name: str | None = None
    external_id: str | None = None
    properties: PropertyMap = Field(default_factory=dict)
    custom_properties: PropertyMap = Field(default_factory=dict)
    create_time_since_epoch: Int64 | None = None
    last_update_time_since_epoch: Int64 | None = None

    @field_validator("external_id", "type_version")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None


class Artifact(Node):
    kind: ClassVar[NodeKind] = NodeKind.ARTIFACT

    uri: str | None = None
    state: ArtifactStateField = ArtifactState.UNKNOWN


class Execution(Node):
    kind: ClassVar[NodeKind] = NodeKind.EXECUTION

    last_known_state: ExecutionStateField = ExecutionState.UNKNOWN


class Context(Node):
    """A grouping (run, pipeline, experiment). ``name`` is required and unique within its type."""

    kind: ClassVar[NodeKind] = NodeKind.CONTEXT

    name: Annotated[str, Field(min_length=1)]


# ------------------------------------------------------------------------------- relationships


class Event(_Model):
    """An artifact used (input) or produced (output) by an execution.

    ``path`` is MLMD's ``Event.Path``: a list of steps, each an int index or a str key.
    """

    artifact_id: Id | None = None
    execution_id: Id | None = None
    type: EventTypeField
    path: list[Int64 | str] = Field(default_factory=list)
    milliseconds_since_epoch: Int64 | None = None

    @field_validator("type")
    @classmethod
    def _typed(cls, value: EventType) -> EventType:
        if value == EventType.UNKNOWN:
            raise ValueError("an event needs a type (INPUT, OUTPUT, DECLARED_INPUT...)")
        return value


class Attribution(_Model):
    """An artifact belongs to a context."""

    artifact_id: Id
    context_id: Id


class Association(_Model):
    """An execution belongs to a context."""

    execution_id: Id
    context_id: Id


class ParentContext(_Model):
    """``child_id`` is nested in ``parent_id`` (a DAG: cycles are rejected)."""

    child_id: Id
    parent_id: Id
