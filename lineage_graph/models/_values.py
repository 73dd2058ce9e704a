"""Property values: the six MLMD value kinds as plain Python values.

==========  ===========================  ==========================================
MLMD kind   Python value                 note
==========  ===========================  ==========================================
INT         ``int``                      int64 range, ``bool`` is *not* an int here
DOUBLE      ``float``                    NaN and +/-inf allowed, stored losslessly
STRING      ``str``                      any unicode but a lone surrogate
BOOLEAN     ``bool``
STRUCT      ``dict`` / ``Struct``        JSON object (google.protobuf.Struct), see below
PROTO       ``ProtoValue``               type_url + serialised bytes (google.protobuf.Any)
==========  ===========================  ==========================================

A struct's numbers are doubles, as a ``google.protobuf.Struct``'s are: NaN and +/-inf included
(ml_metadata stores and returns them), kept in the stored JSON as ``NaN`` / ``Infinity`` /
``-Infinity`` (Python's ``json`` extensions) and written out by the CLI's JSON and the viewer
as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, as a double property is.

A lone surrogate (``"\\udcff"``, as ``os.fsdecode`` reads a byte that is not UTF-8) is no
character: a write refuses it with ``InvalidArgumentError`` in a text value and in a struct's
keys and texts alike, as ml_metadata cannot encode it; the one rule is
``lineage_graph._encoding.check_value_unicode``, not checked by these models.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict

from ._enums import PropertyType

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "PropertyMap",
    "PropertyValue",
    "ProtoValue",
    "kind_of",
    "validate_property_map",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class ProtoValue(BaseModel):
    """A packed protobuf message (MLMD ``proto_value``, a ``google.protobuf.Any``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    type_url: str
    value: bytes = b""


PropertyValue: TypeAlias = int | float | str | bool | dict[str, Any] | ProtoValue


def _type_name(value: object) -> str:
    """The value's type, with its module unless a builtin: numpy's bool is "numpy.bool" (the
    message "unsupported property value of type bool: use ... bool" read as nonsense)."""
    cls = type(value)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > 100:
        raise ValueError("struct value nested deeper than 100 levels")
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int | float):
        # NaN and +/-inf too: a google.protobuf.Struct's numbers are doubles, and ml_metadata
        # stores and returns them; they are encoded as the JSON extensions NaN / Infinity.
        return
    if isinstance(value, list | tuple):
        for v in value:
            _check_json(v, depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"struct keys must be strings, got {type(k).__name__}")
            _check_json(v, depth + 1)
        return
    raise ValueError(f"struct values hold JSON data, not {_type_name(value)}")


def kind_of(value: object) -> PropertyType:
    """The MLMD kind of a Python property value, or ``ValueError`` if it is none of them."""
    if isinstance(value, bool):
        return PropertyType.BOOLEAN
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"int value {value} is outside the int64 range")
        return PropertyType.INT
    if isinstance(value, float):
        return PropertyType.DOUBLE
    if isinstance(value, str):
        return PropertyType.STRING
    if isinstance(value, dict):
        _check_json(value)
        json.dumps(value)  # keys/values already checked; this proves serialisability
        return PropertyType.STRUCT
    if isinstance(value, ProtoValue):
        # A ProtoValue built with model_construct is not checked by pydantic (a str value made
        # the write fail with TypeError from base64).
        if type(value.type_url) is not str or type(value.value) is not bytes:
            raise ValueError(
                "a ProtoValue holds a str type_url and bytes value, got "
                f"{type(value.type_url).__name__} and {type(value.value).__name__}"
            )
        return PropertyType.PROTO
    raise ValueError(
        f"unsupported property value of type {_type_name(value)}: use int, float, str, bool, "
        "dict (struct) or ProtoValue"
    )


def validate_property_map(values: dict[str, Any]) -> dict[str, Any]:
    for name, value in values.items():
        if not isinstance(name, str):
            raise ValueError(f"property names must be strings, got {name!r}")
        if name == "":
            raise ValueError("property names must not be empty")
        try:
            kind_of(value)
        except ValueError as exc:
            raise ValueError(f"property {name!r:.80}: {exc}") from None
    return values


PropertyMap = Annotated[dict[str, Any], AfterValidator(validate_property_map)]
