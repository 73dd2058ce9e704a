"""Lossless encoding of typed MLMD properties into flat node properties (both engines).

Neither engine stores maps as property values, so each property becomes its own node property
``<scope><kind>__<escaped name>``:

* scope: ``p`` (declared ``properties``) or ``c`` (``custom_properties``);
* kind:  ``i`` int, ``s`` string, ``b`` bool, ``d`` double (native float, for filters and
  indexes; absent for NaN/inf), ``x`` double as its exact ``repr`` (FalkorDB returns doubles with
  15 significant digits; the string is the source of truth), ``j`` struct (JSON), ``a`` proto
  (JSON ``{type_url, value(base64)}``), ``z`` a string holding NUL (JSON-escaped: the FalkorDB
  client cannot send NUL).

So ``properties.day.int_value`` is the node property ``pi__day`` and a filter needs no join. The
name is percent-escaped for ``%``, backtick and NUL only (the FalkorDB client cannot send the
latter two in a map key); everything else, unicode included, stays readable.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from .exceptions import InvalidArgumentError, StoredValueError
from .models import PropertyType, ProtoValue

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "DOUBLE_EXACT",
    "INDEXED_TEXT",
    "MAX_KEY_BYTES",
    "BadStoredValue",
    "check_indexed",
    "check_key",
    "check_text",
    "check_unicode",
    "check_value_unicode",
    "decode_properties",
    "encode_properties",
    "enum_numbers",
    "escape_name",
    "indexable",
    "property_key",
    "shown",
    "shown_key",
    "stored_id",
    "stored_validation_error",
    "stored_value_error",
    "unescape_name",
]

Scope = Literal["p", "c"]
_SCOPES = ("p", "c")
DOUBLE_EXACT = "x"

_KIND_CODE = {
    PropertyType.INT: "i",
    PropertyType.DOUBLE: "d",
    PropertyType.STRING: "s",
    PropertyType.BOOLEAN: "b",
    PropertyType.STRUCT: "j",
    PropertyType.PROTO: "a",
}
_ESCAPES = {"%": "%25", "`": "%60", "\x00": "%00"}


def escape_name(name: str) -> str:
    if not any(ch in name for ch in _ESCAPES):
        return name
    return "".join(_ESCAPES.get(ch, ch) for ch in name)


def unescape_name(name: str) -> str:
    if "%" not in name:
        return name
    return name.replace("%60", "`").replace("%00", "\x00").replace("%25", "%")


def property_key(scope: Scope, kind: PropertyType, name: str) -> str:
    """The node property holding ``scope.name`` of ``kind`` (for filters: ``pi__day``)."""
    return f"{scope}{_KIND_CODE[kind]}__{escape_name(name)}"


def value_keys(scope: Scope, name: str) -> list[str]:
    """Every node property a value of ``scope.name`` may be stored under, whatever its kind."""
    codes = (*_KIND_CODE.values(), DOUBLE_EXACT, "z")
    return [f"{scope}{code}__{escape_name(name)}" for code in codes]


def _encode_one(
    scope: Scope, name: str, kind: PropertyType, value: Any, out: dict[str, Any]
) -> None:
    key = escape_name(name)
    if kind == PropertyType.DOUBLE:
        number = float(value)
        if math.isfinite(number):
            out[f"{scope}d__{key}"] = number
        out[f"{scope}{DOUBLE_EXACT}__{key}"] = repr(number)
    elif kind == PropertyType.STRING:
        if "\x00" in value:
            out[f"{scope}z__{key}"] = json.dumps(value)
        else:
            out[f"{scope}s__{key}"] = value
    elif kind == PropertyType.STRUCT:
        out[f"{scope}j__{key}"] = json.dumps(value, sort_keys=True, ensure_ascii=True)
    elif kind == PropertyType.PROTO:
        assert isinstance(value, ProtoValue)
        blob = {"type_url": value.type_url, "value": base64.b64encode(value.value).decode()}
        out[f"{scope}a__{key}"] = json.dumps(blob, ensure_ascii=True)
    elif kind == PropertyType.INT:
        # int(): an int subclass (an IntEnum, a user's) is sent as its value, not as its str()
        # (the parameter text is written with str(); one whose __str__ differs was stored so).
        out[f"{scope}i__{key}"] = int(value)
    else:
        out[f"{scope}{_KIND_CODE[kind]}__{key}"] = value


def encode_properties(
    scope: Scope, values: Mapping[str, Any], kinds: Mapping[str, PropertyType]
) -> dict[str, Any]:
    """Encode already validated values; ``kinds`` gives each value's kind."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        _encode_one(scope, name, kinds[name], value, out)
    return out


class BadStoredValue(ValueError):
    """A stored value this library would not have written (:func:`decode_properties`):
    ``field`` (``"properties.day"``), ``value`` as stored, ``expected`` what is written there.
    The caller, which knows the node, raises :func:`stored_value_error` for it (a ValueError for
    a map read from a file)."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        super().__init__(f"{field} holds {_described(value)}: expected {expected}")
        self.field = field
        self.value = value
        self.expected = expected


def _described(value: object) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {shown(value)}"


def stored_value_error(
    kind: str, ident: object, field: str, value: object, expected: str
) -> StoredValueError:
    """The error of a read that found ``value`` in ``field`` of a stored ``kind`` (``ident``:
    its id as stored), where this library writes ``expected``."""
    return StoredValueError(
        f"{kind} {shown(ident)}: the store holds {_described(value)} in {field}, where this "
        f"library writes {expected} (written around the library: another tool, a hand-made "
        "Cypher statement, a damaged node); fix or delete it to read this node",
        kind,
        ident,
        field,
    )


def stored_validation_error(
    kind: str,
    ident: object,
    exc: ValidationError,
    stored: Mapping[str, object],
    expected: Mapping[str, str] | None = None,
) -> StoredValueError:
    """:func:`stored_value_error` for the first error pydantic found validating a stored
    ``kind``: the field its location starts with (``"type"`` for a model's own), the value
    ``stored`` holds there, and ``expected``'s word for that field (``"a valid value"``), with
    pydantic's message."""
    error = exc.errors()[0]
    loc = error["loc"]
    field = str(loc[0]) if loc else "type"
    what = (expected or {}).get(field, "a valid value")
    return stored_value_error(
        kind, ident, field, stored.get(field) if loc else None, f"{what} ({error['msg']})"
    )


def stored_id(kind: str, ident: object) -> int:
    """A stored ``kind``'s id as read (a row's ``id``), or :class:`StoredValueError` naming the
    node when another writer stored one that is no positive int: ``int()`` raised a bare
    ValueError on text and read 2.5 as node 2, another node."""
    if type(ident) is not int or ident <= 0:
        raise stored_value_error(kind, ident, "id", ident, "a positive int")
    return ident


def enum_numbers(enum: type[IntEnum], members: Iterable[IntEnum] | None = None) -> str:
    """What a stored number of ``enum`` is (``"an EventType number (1 to 7)"``): the range of
    ``members`` (all of the enum's by default), from the enum itself, never written by hand."""
    values = [int(m) for m in (enum if members is None else members)]
    article = "an" if enum.__name__[0] in "AEIOU" else "a"
    return f"{article} {enum.__name__} number ({min(values)} to {max(values)})"


def _json(field: str, raw: object, expected: str) -> Any:
    if type(raw) is not str:
        raise BadStoredValue(field, raw, expected)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not JSON; nested too deep
        raise BadStoredValue(field, raw, expected) from None


def _proto(field: str, raw: object) -> ProtoValue:
    expected = 'JSON text {"type_url": str, "value": base64 text}'
    blob = _json(field, raw, expected)
    if type(blob) is not dict or type(blob.get("type_url")) is not str:
        raise BadStoredValue(field, raw, expected)
    try:
        data = base64.b64decode(blob["value"], validate=True)
    except (binascii.Error, KeyError, TypeError, ValueError):
        raise BadStoredValue(field, raw, expected) from None
    return ProtoValue(type_url=blob["type_url"], value=data)


def decode_properties(stored: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(properties, custom_properties)`` from a node's stored property map.

    A value this library would not have written under its key (an int property that is text,
    a struct that is not a JSON object...: written around the library) is
    :class:`BadStoredValue` naming the property, never read as another value (a bool property
    holding "no" was read as True, a float int property was cut to an int) nor failing with
    a bare ``ValueError`` from ``int()`` or ``json``; so is a name stored under two kinds (an
    ``i`` and an ``s`` key: one was read, which depended on the key order) or an empty one. A
    double stored natively alone (``pd__x``, no ``px__x``: a hand-made statement's) is read
    as that double (it was left out, as the exact text's shadow)."""
    result: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    for key, raw in stored.items():
        if key.find("__", 2, 4) != 2 or key[0] not in _SCOPES:
            continue  # a node field (id, uri, ...), not a property
        kind = key[1]
        custom = key[0] == "c"
        target = result[custom]
        name = unescape_name(key[4:])
        raw_type = type(raw)
        if kind == "d" and key[0] + DOUBLE_EXACT + key[2:] in stored:
            continue  # the exact value is under the ``x`` key
        if not name or name in target:  # (a name stored under two kinds: which is it?)
            raise BadStoredValue(
                _field(custom, name), raw, "one value of a named property (a single kind)"
            )
        if _PLAIN.get(kind) is raw_type:  # an int, str or bool: as stored
            target[name] = raw
        elif kind == "d":  # a native double alone: another writer's, read as it is
            if raw_type is not float:
                raise BadStoredValue(_field(custom, name), raw, "a double")
            target[name] = raw
        elif kind == DOUBLE_EXACT:
            try:  # float(): the exact repr, or a native double another writer stored
                if raw_type is not str and raw_type is not float:
                    raise ValueError
                target[name] = float(raw)
            except ValueError:
                raise BadStoredValue(_field(custom, name), raw, "a double's text") from None
        elif kind in _JSON:  # a struct ("j") or a str with a NUL ("z"): their JSON text
            decoded, text = _JSON[kind]
            value = _json(_field(custom, name), raw, text)
            if type(value) is not decoded:
                raise BadStoredValue(_field(custom, name), raw, text)
            target[name] = value
        elif kind == "a":
            target[name] = _proto(_field(custom, name), raw)
        elif kind in _PLAIN:
            raise BadStoredValue(_field(custom, name), raw, _PLAIN_NAMES[kind])
    return result


#: The kind codes whose values are stored as they are: their type is their only check.
_PLAIN: dict[str, type] = {"i": int, "s": str, "b": bool}
_PLAIN_NAMES = {"i": "an int", "s": "a str", "b": "a bool"}
#: The kinds stored as JSON text: what the text decodes to, and how a refusal names the text.
_JSON: dict[str, tuple[type, str]] = {
    "j": (dict, "a JSON object's text"),
    "z": (str, "a JSON string's text"),
}


def _field(custom: bool, name: str) -> str:
    return f"{'custom_properties' if custom else 'properties'}.{shown(name)}"


def check_text(field: str, value: str | None) -> None:
    """Plain text fields (names, uris) are sent as-is: NUL cannot be stored in them, nor a lone
    surrogate (:func:`check_unicode`)."""
    if value is not None and "\x00" in value:
        raise InvalidArgumentError(f"{field} must not contain a NUL character")
    check_unicode(field, value)


def check_unicode(field: str, value: str | None) -> None:
    """Text no engine can carry (a lone surrogate: not UTF-8) is refused naming its field. The
    engine's client refused it for the whole statement ("text must be valid Unicode ... in a
    value or name"), which did not say which node of a batch, nor which field, held it."""
    if value is not None and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            # the run of surrogates quoted, bounded: a long run was quoted whole (a text of
            # 100,000 lone surrogates made a 600 KB message)
            raise InvalidArgumentError(
                f"{field} must be valid Unicode (no lone surrogate): "
                f"{value[exc.start : exc.end]!r:.80} at index {exc.start}"
            ) from None


def check_value_unicode(field: str, value: object) -> None:
    """A property value's text — a text value, every key and text of a struct, nested
    (``{"k": [{"z": "\\ud800"}]}``), or a proto's ``type_url`` — refused as
    :func:`check_unicode` refuses text. A struct and a proto are stored as JSON with ``\\u``
    escapes, which no engine's check reads, and ml_metadata cannot encode a lone surrogate.
    Walked with a list of its own (a struct is at most 100 levels deep,
    :func:`~lineage_graph.models.kind_of`, but the walk does not rely on it)."""
    if isinstance(value, str):
        check_unicode(field, value)
        return
    if isinstance(value, ProtoValue):
        check_unicode(f"{field} (its proto's type_url)", value.type_url)
        return
    if not isinstance(value, dict):
        return
    pending: list[object] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            check_unicode(f"{field} (a text of its struct)", item)
        elif isinstance(item, dict):
            for key, member in item.items():
                if isinstance(key, str):
                    check_unicode(f"{field} (a key of its struct)", key)
                pending.append(member)
        elif isinstance(item, list | tuple):
            pending.extend(item)


def shown(value: object, limit: int = 80) -> str:
    """``value`` as a refusal quotes it: its ``repr``, at most ``limit`` characters. An int of
    more than 4,300 digits has no repr (Python's limit on int to str conversion: the message
    itself raised ``ValueError``, untyped, in place of the refusal), nor one longer than
    ``limit``, is shown by its size, and a value holding one by its type, as is one whose
    ``__repr__`` raises (the refusal raised that error in its place, untyped)."""
    if type(value) is int:  # whole or by its size, never cut (a cut number reads as another)
        if value.bit_length() <= 4 * limit:
            try:  # a limit past Python's 4,300 digits: the repr itself may raise
                text = repr(value)
            except ValueError:
                text = ""
            if text and len(text) <= limit:
                return text
        return f"{'-' if value < 0 else ''}<an int of {value.bit_length()} bits>"
    try:
        text = repr(value)
    except ValueError:
        return f"<a {type(value).__name__} holding an int too large to show>"
    except Exception:  # a user's class whose __repr__ raises: the refusal is still made
        return f"<a {type(value).__name__} whose repr failed>"
    return text[:limit]


def shown_key(value: object) -> str:
    """A unique key (a node's or a type's name, an external id) as a refusal naming it taken or
    given twice quotes it: whole, as the user must find it among the values given (``shown``'s
    80 characters cut ``'gs://bucket/.../part-00001'`` to ``'gs://bucket/.../pa``, which
    named none of them). Such a key passed :func:`check_key` (at most MAX_KEY_BYTES of UTF-8,
    at most 4 characters of ``repr`` a byte), so the quote stays bounded; anything longer is
    cut as ``shown`` cuts."""
    return shown(value, 4 * MAX_KEY_BYTES + 2)


#: Longest text (UTF-8 bytes) stored in an indexed property: unique keys (names, external ids,
#: type keys) and INDEXED_TEXT. FalkorDB 4.16.3 crashes on a longer value in a uniquely
#: constrained property (measured: 4,096 bytes pass, 4,097 kill the server), and its range index
#: keeps only the first 4,096 bytes of a string: a seek for the whole of a longer one finds
#: nothing (and one for those 4,096 bytes alone finds it; measured). Neo4j refuses a string key
#: over about 8 KB in its range index (8,167 bytes, Neo4j knowledge base "Index limitations and
#: workarounds") and fails the whole write.
MAX_KEY_BYTES = 4096
#: FalkorDB 4.16.3 also crashes on a uniquely constrained string that is empty, starts or ends
#: with ASCII whitespace, or holds U+0001 anywhere (measured, tests/reliability/test_fuzz.py).
#: Such keys are rejected on every engine, so a store behaves the same on all of them.
_KEY_EDGE_SPACE = " \t\n\v\f\r"


def indexable(value: str) -> bool:
    """Whether FalkorDB's string index finds ``value``.

    FalkorDB 4.16.3's range index on a string property silently misses exactly the strings it
    cannot hold as unique keys: an equality or ``IN`` seek for ``""``, for text that starts or ends
    with ASCII whitespace, for text holding U+0001, or for text over MAX_KEY_BYTES returns nothing
    although the node is there (measured over every ASCII character and the Unicode spaces, edge
    and inner positions; tests/embedded/test_index_blind.py; lengths: tests/unit/
    test_indexed_text.py). Queries compare such a value as an expression, which no index serves
    (a scan, on FalkorDB only: Neo4j's indexes hold every string). Writes refuse indexed text
    that long (check_indexed), but a store written before may hold some.
    """
    if not value or value[0] in _KEY_EDGE_SPACE or value[-1] in _KEY_EDGE_SPACE:
        return False
    if (
        len(value) * 4 > MAX_KEY_BYTES
        and len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES
    ):
        return False
    return "\x01" not in value


def check_key(field: str, value: str | None) -> None:
    """Text stored under a uniqueness constraint must be storable by every engine."""
    if value is None:
        return
    if not value:  # FalkorDB 4.16.3 crashes on an empty unique key too
        raise InvalidArgumentError(f"{field} must not be empty (leave it unset instead)")
    _check_length(field, value, "it is a unique key")
    if not indexable(value):
        raise InvalidArgumentError(
            f"{field} {value[:80]!r} must not start or end with whitespace nor contain U+0001 "
            "(it is a unique key; the embedded engine cannot index such keys)"
        )


#: The node properties holding free text that lineage_graph/_schema.py indexes without a
#: uniqueness constraint: the artifact uri, and the content fingerprint (a declared or custom
#: string property "digest") find_cached_execution seeks. Held to MAX_KEY_BYTES as unique keys
#: are, on every engine: longer, Neo4j fails the write and FalkorDB's index never finds it.
INDEXED_TEXT = frozenset({"uri", "ps__digest", "cs__digest"})


def check_indexed(field: str, value: str) -> None:
    """Text stored in an indexed property must fit every engine's index (MAX_KEY_BYTES)."""
    _check_length(field, value, "it is indexed")


def _check_length(field: str, value: str, why: str) -> None:
    if len(value) * 4 > MAX_KEY_BYTES:  # UTF-8 takes at most 4 bytes a character
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_KEY_BYTES:
            raise InvalidArgumentError(
                f"{field} is too long: {size} bytes of UTF-8, at most {MAX_KEY_BYTES} ({why})"
            )


def property_keys(stored_keys: Iterable[str]) -> list[str]:
    """The stored keys that hold encoded properties (to remove them on update)."""
    return [k for k in stored_keys if len(k) >= 4 and k[2:4] == "__" and k[0] in _SCOPES]
