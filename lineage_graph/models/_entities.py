"""Pydantic v2 models of the MLMD data model: the single source of truth for the graph schema."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
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
    """An MLMD enum field that takes what ml_metadata's protos take for it (1.17.1, measured):
    a member, a number (anything with ``__index__``: an int, an IntEnum, a numpy integer, and
    a bool as 0 or 1, as the protos take it), or a member's name exactly as MLMD's proto spells
    it (``"LIVE"``, ``"INT"``; case-sensitive, as ``NodeFilter`` states: the CLI folds case
    before it calls the library). The field holds the enum member, so nothing stored or dumped
    changes. Anything else is refused with the names listed: a float (``1.0``), a number as
    text (``"1"``), bytes, a numpy bool, which the protos refuse too and pydantic's lax mode
    took as a member (a silent wrong value: ``state=1.0`` stored PENDING)."""
    names = ", ".join(enum.__members__)
    numbers = f"{min(enum)} to {max(enum)}"

    def refused() -> PydanticCustomError:
        return PydanticCustomError(
            "enum",
            "Input should be a name of {enum} ({names}) or its number ({numbers})",
            {"enum": enum.__name__, "names": names, "numbers": numbers},
        )

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value.__class__ is enum:
            return value
        if isinstance(value, str):
            # a str subclass (a StrEnum) by its text; no number as text ("1": the protos'
            # "unknown enum label")
            name = str.__str__(value)
            if name in enum.__members__:
                return enum.__members__[name]
            raise refused()
        try:
            number = operator.index(value)
        except TypeError:
            raise refused() from None
        try:
            return handler(number)
        except ValidationError:
            raise refused() from None

    return WrapValidator(validate)


def plain_step(value: Any) -> int | str:
    """An event path step as MLMD's ``Event.Path.Step`` takes it (1.17.1, measured): a str
    (a str subclass, a StrEnum, by its text) is a key, and an index is anything with
    ``__index__`` (an IntEnum, a numpy integer) but a bool, as its plain int. TypeError for
    anything else; the int64 range is the caller's check. The model and the write both read
    steps so, and store the plain value (never a subclass's ``str()``)."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):  # the native int64 fields take no bool (ids, times alike)
        raise TypeError("a bool is not a path step")
    return operator.index(value)


def _step(value: Any) -> Any:
    """``value`` as :func:`plain_step` makes it, or as given for pydantic's own refusal (or its
    reading of bytes as text, as MLMD's)."""
    try:
        return plain_step(value)
    except TypeError:
        return value


def _steps(value: Any) -> Iterator[Any]:
    for step in value:  # (an error of the iteration is pydantic's iteration_error, as before)
        yield step if type(step) is int or type(step) is str else _step(step)


def _path(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """``Event.path``'s steps as :func:`plain_step` makes them, validated as ``Int64 | str``.
    Once for the path, not per step (a validator per step made an event of three steps 40%
    slower to build): a list or tuple of plain ints and strs, which is what paths are, goes to
    pydantic as it is; any other iterable pydantic takes as a list is read through
    :func:`_step` lazily (an iterator is read once)."""
    if type(value) is list or type(value) is tuple:
        for step in value:
            if type(step) is not int and type(step) is not str:
                return handler(type(value)(_step(s) for s in value))  # (strict: no tuple)
        return handler(value)
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        return handler(value)  # pydantic's refusal, as for any field of a list
    return handler(_steps(value))


#: ``Event.path``: a list of steps, each an int64 index or a str key (:func:`plain_step`).
EventPath = Annotated[list[Int64 | str], WrapValidator(_path)]


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
                raise ValueError(f"property {name!r:.80} has no value type (UNKNOWN)")
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
    path: EventPath = Field(default_factory=list)
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
