"""Rows of an MLMD SQLite file on which ml_metadata 1.17.1 aborts the whole process reading them.

ml_metadata reads every column as text and parses it with absl (``SimpleAtoi``, ``SimpleAtod``,
``SimpleAtob``) under a C++ CHECK: a value it cannot parse ends the process with SIGABRT
("Check failure stack trace"), no exception; the import reads in a child process
(:mod:`._reader`), whose death says only that. SQLite holds whatever a column is given (a
hand-edited or damaged file: ``int_value`` 'abc'). A healthy store has none of these rows;
each found is read as ml_metadata reads it (the text SQLite gives) and judged by absl's rules,
so the import refuses it before any write, naming the node:

* nodes (Artifact, Execution, Context): ``type_id`` and the two times (int64), ``state`` and
  ``last_known_state`` (int32);
* their property rows: ``is_custom_property`` and ``bool_value`` (bool), ``int_value`` (int64),
  ``double_value`` (double: ``nan``, ``inf``, ``1e999``, ``0x10`` are read; ``abc``, ``1_0``,
  ``""`` abort), whatever the property's kind (a string property's row with an ``int_value``
  'abc' aborts too);
* the properties of types (artifact, execution, context types): ``data_type`` (int32; one in
  range that names no value type is read as UNKNOWN, which the import refuses itself);
* the parent links of types (``ParentType``) of an artifact or execution type the import reads,
  which ml_metadata reads with the type: ``parent_type_id`` (int64; measured, "Check failed:
  absl::SimpleAtoi(record.values(position), &id)"). Their ``type_id`` is never judged: it reads
  the rows whose ``type_id`` is a type's integer id, and no other; a context type's are not read,
  nor those of a type named as a system type (``mlmd.Dataset``, ...: hidden by get_*_types)
  outside ids 1-9 that no node of its kind uses;
* events: ``artifact_id``, ``execution_id`` and ``milliseconds_since_epoch`` (int64), ``type``
  (int32; one in range that names no event type is read as UNKNOWN, refused by the import);
* event path steps: ``is_index_step`` (bool), an index step's ``step_index`` (int64);
* the links of a context (the import reads each context's): an attribution's ``artifact_id``,
  an association's ``execution_id``, a parent link's ``parent_context_id`` (int64; their
  ``context_id`` is never judged: ml_metadata reads the rows whose ``context_id`` is the
  context's integer id, and no other).

Only rows ml_metadata reads are judged: a property row of no node, an event (and its path) of
no artifact or execution the store holds, a property of no type, a link of no context, a parent
link of no artifact or execution type are not read. ml_metadata takes a column's text up to its
first NUL (a blob ``x'3100'`` is read as 1).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

from .._encoding import shown
from ..models import NodeKind
from ._config import HIDDEN_TYPE_NAMES

__all__ = ["aborting_row"]

#: absl's ASCII whitespace, which SimpleAtoi and SimpleAtod strip (SimpleAtob does not).
_SPACE = b" \t\n\v\f\r"

#: The texts absl::SimpleAtob reads as a bool (any case, nothing around).
_ATOB = {
    b"true": True, b"t": True, b"yes": True, b"y": True, b"1": True,
    b"false": False, b"f": False, b"no": False, b"n": False, b"0": False,
}  # fmt: skip

#: What absl::from_chars reads whole as a double (its general format, which takes hex too).
_DOUBLE = re.compile(
    rb"-?(?:inf(?:inity)?|nan(?:\([0-9a-z_]*\))?"
    rb"|0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?[0-9]+)?"
    rb"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)",
    re.IGNORECASE,
)


def _read(text: bytes) -> bytes:
    """A column's text as ml_metadata reads it from SQLite: up to its first NUL (a C string)."""
    return text.partition(b"\0")[0]


def atob(text: bytes | None) -> bool | None:
    """The bool absl::SimpleAtob reads in ``text``, or None where it fails."""
    return _ATOB.get(_read(text).lower()) if text is not None else None


def atoi_value(text: bytes | None, bits: int = 64) -> int | None:
    """The int of ``bits`` bits absl::SimpleAtoi reads in ``text`` (ASCII whitespace around, a
    sign, decimal digits), or None where it fails."""
    if text is None:  # (ml_metadata reads NULL as the text "__MLMD_NULL__")
        return None
    digits = _read(text).strip(_SPACE)
    negative = digits[:1] == b"-"
    if digits[:1] in (b"+", b"-"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    significant = digits.lstrip(b"0") or b"0"  # (int() refuses more than 4,300 digits)
    if len(significant) > 19:
        return None
    value = -int(significant) if negative else int(significant)
    return value if -(1 << (bits - 1)) <= value < 1 << (bits - 1) else None


def atoi(text: bytes | None, bits: int = 64) -> bool:
    """Whether absl::SimpleAtoi reads ``text`` as an int of ``bits`` bits."""
    return atoi_value(text, bits) is not None


def atod(text: bytes | None) -> bool:
    """Whether absl::SimpleAtod reads ``text`` as a double: ASCII whitespace around, one ``+``
    not followed by ``-``, then what from_chars reads whole."""
    if text is None:
        return False
    number = _read(text).strip(_SPACE)
    if number[:1] == b"+":
        number = number[1:]
        if number[:1] == b"-":
            return False
    return _DOUBLE.fullmatch(number) is not None


def _quoted(text: bytes | None) -> str:
    return "NULL" if text is None else shown(text.decode("utf-8", "replace"))


# ------------------------------------------------------------------------------ the rules

#: (table, its property table, the property table's node column, the node's state column).
_NODES = (
    ("artifact", "Artifact", "ArtifactProperty", "artifact_id", "state"),
    ("execution", "Execution", "ExecutionProperty", "execution_id", "last_known_state"),
    ("context", "Context", "ContextProperty", "context_id", None),
)

_INT64_COLUMNS = ("type_id", "create_time_since_epoch", "last_update_time_since_epoch")


def _node_query(table: str, state: str | None) -> str:
    columns = [*_INT64_COLUMNS, *([state] if state else [])]
    picked = ", ".join(f"CAST({c} AS TEXT)" for c in columns)
    odd = [f"typeof({c}) NOT IN ('integer', 'null')" for c in columns]
    if state:
        odd.append(f"{state} NOT BETWEEN -2147483648 AND 2147483647")
    return f"SELECT id, {picked} FROM {table} WHERE {' OR '.join(odd)} ORDER BY id"


def _node_row(row: tuple[bytes | None, ...], state: str | None) -> str:
    columns = [*_INT64_COLUMNS, *([state] if state else [])]
    for column, text in zip(columns, row, strict=True):
        bits = 32 if column == state else 64
        if text is not None and not atoi(text, bits):
            return f"its {column} is no int{bits} ({_quoted(text)})"
    return ""


def _property_query(table: str, properties: str, column: str) -> str:
    return (
        f"SELECT p.{column}, p.name, CAST(p.is_custom_property AS TEXT), "
        "CAST(p.int_value AS TEXT), CAST(p.double_value AS TEXT), CAST(p.bool_value AS TEXT) "
        f"FROM {properties} AS p JOIN {table} AS n ON n.id = p.{column} "
        "WHERE typeof(p.is_custom_property) != 'integer' OR p.is_custom_property NOT IN (0, 1) "
        "OR typeof(p.int_value) NOT IN ('integer', 'null') "
        "OR typeof(p.double_value) IN ('text', 'blob') "
        "OR typeof(p.bool_value) NOT IN ('integer', 'null') OR p.bool_value NOT IN (0, 1) "
        f"ORDER BY p.{column}"
    )


def _property_row(row: tuple[bytes | None, ...]) -> str:
    name, custom, int_value, double_value, bool_value = row
    custom_property = atob(custom)
    named = _quoted(name)
    if custom_property is None:
        return (
            f"its property row {named} is marked neither a property nor a custom property "
            f"(is_custom_property {_quoted(custom)})"
        )
    what = f"its {'custom property' if custom_property else 'property'} {named}"
    if int_value is not None and not atoi(int_value):
        return f"{what} holds an int_value that is no int64 ({_quoted(int_value)})"
    if double_value is not None and not atod(double_value):
        return f"{what} holds a double_value that is no number ({_quoted(double_value)})"
    if bool_value is not None and atob(bool_value) is None:
        return f"{what} holds a bool_value that is no bool ({_quoted(bool_value)})"
    return ""


#: Type kinds of MLMD's ``Type.type_kind`` column, as a refusal names them.
_TYPE_KINDS = {0: "execution type", 1: "artifact type", 2: "context type"}

#: The properties of types that may abort: a ``data_type`` that is no integer of 32 bits.
_ODD_TYPE_PROPERTIES = (
    "SELECT t.type_kind, t.id, t.name, p.name, CAST(p.data_type AS TEXT) "
    "FROM TypeProperty AS p JOIN Type AS t ON t.id = p.type_id "
    "WHERE t.type_kind IN (0, 1, 2) AND (typeof(p.data_type) NOT IN ('integer', 'null') "
    "OR p.data_type NOT BETWEEN -2147483648 AND 2147483647) ORDER BY t.id, p.name"
)

#: The events that may abort (of an execution or an artifact the store holds, which the import
#: reads): ids and time that are no integers of 64 bits, a type no integer of 32.
_ODD_EVENTS = (
    "SELECT CAST(artifact_id AS TEXT), CAST(execution_id AS TEXT), CAST(type AS TEXT), "
    "CAST(milliseconds_since_epoch AS TEXT) FROM Event "
    "WHERE (execution_id IN (SELECT id FROM Execution) "
    "OR artifact_id IN (SELECT id FROM Artifact)) "
    "AND (typeof(artifact_id) != 'integer' OR typeof(execution_id) != 'integer' "
    "OR typeof(type) != 'integer' OR type NOT BETWEEN -2147483648 AND 2147483647 "
    "OR typeof(milliseconds_since_epoch) NOT IN ('integer', 'null')) ORDER BY id"
)


#: The parent links of types that may abort: ml_metadata reads those of the artifact and
#: execution types it reads by ``type_id IN (<their ids>)``, and reads ``parent_type_id`` with
#: SimpleAtoi as an int64; a context type's it does not read (measured on 1.17.1: 'x' as a
#: context type's parent is no abort). Which types the import reads: :func:`_read_type`.
_ODD_PARENT_TYPES = (
    "SELECT t.type_kind, t.id, CAST(t.name AS BLOB), CAST(p.parent_type_id AS TEXT) "
    "FROM ParentType AS p JOIN Type AS t ON t.id = p.type_id "
    "WHERE t.type_kind IN (0, 1) AND typeof(p.parent_type_id) != 'integer' "
    "ORDER BY t.id, p.rowid"
)

#: The names get_artifact_types() and get_execution_types() hide, whatever the type's kind and
#: version (measured on 1.17.1: exactly these bytes, as read up to a NUL; 'MLMD.DATASET' and
#: 'mlmd.Dataset ' are listed).
_HIDDEN_NAMES = frozenset(n.encode() for n in HIDDEN_TYPE_NAMES[NodeKind.ARTIFACT])

#: The type ids the nodes of a kind (0 execution, 1 artifact) use, as text.
_USED_TYPE_IDS = {
    0: "SELECT DISTINCT CAST(type_id AS TEXT) FROM Execution",
    1: "SELECT DISTINCT CAST(type_id AS TEXT) FROM Artifact",
}


def _read_type(db: sqlite3.Connection, kind: int, type_id: int, name: bytes | None) -> bool:
    """Whether the import has ml_metadata read the artifact (``kind`` 1) or execution (0) type
    ``type_id`` named ``name``, and so its parent links (``_Importer.read_types`` and
    ``used_types``): every type get_*_types() lists (a name not hidden), every type of ids 1-9
    (read by id), and every type a node of its kind uses (read by id; ids as ml_metadata reads
    them). A type named as a system type outside ids 1-9 that no node of its kind uses
    (``mlmd.Dataset`` renumbered by hand) is not read, nor is its parent link (measured: no
    abort on 'x')."""
    if name is None or _read(name) not in _HIDDEN_NAMES or 1 <= type_id <= 9:
        return True  # (NULL is read as the text "__MLMD_NULL__": no hidden name)
    return any(atoi_value(used) == type_id for (used,) in db.execute(_USED_TYPE_IDS[kind]))


def _event_id(text: bytes | None) -> str:
    """An event's artifact or execution id as a refusal names it: as is if an int64."""
    return _read(text).decode().strip() if text is not None and atoi(text) else _quoted(text)


def _aborting_event(row: tuple[bytes | None, ...]) -> str:
    """What of an event row ml_metadata 1.17.1 aborts on reading, or "" (the columns as text)."""
    for column, text, bits in zip(
        ("artifact_id", "execution_id", "type", "milliseconds_since_epoch"),
        row,
        (64, 64, 32, 64),
        strict=True,
    ):
        if not atoi(text, bits) and not (column == "milliseconds_since_epoch" and text is None):
            return f"its {column} is no int{bits} ({_quoted(text)})"
    return ""


#: The steps of MLMD's event paths that may abort (of an event the import reads, as above): any
#: step whose ``is_index_step`` is no integer 0 or 1, or an index step whose ``step_index`` is
#: no integer.
_ODD_PATH_STEPS = (
    "SELECT CAST(e.artifact_id AS TEXT), CAST(e.execution_id AS TEXT), "
    "CAST(p.is_index_step AS TEXT), CAST(p.step_index AS TEXT) "
    "FROM EventPath AS p JOIN Event AS e ON e.id = p.event_id "
    "WHERE (e.execution_id IN (SELECT id FROM Execution) "
    "OR e.artifact_id IN (SELECT id FROM Artifact)) "
    "AND (typeof(p.is_index_step) != 'integer' OR p.is_index_step NOT IN (0, 1) "
    "OR (p.is_index_step = 1 AND typeof(p.step_index) != 'integer')) ORDER BY e.id, p.rowid"
)


def _aborting_step(is_index_step: bytes | None, step_index: bytes | None) -> str:
    """What of a path step ml_metadata 1.17.1 aborts on reading, or "" (the columns as text)."""
    index_step = atob(is_index_step)
    if index_step is None:
        return (
            "a step of its path is marked neither a key nor an index step (is_index_step "
            f"{_quoted(is_index_step)})"
        )
    if index_step and step_index is None:
        return "a step of its path is an index step without an index"
    if index_step and not atoi(step_index):
        return (
            f"a step of its path is an index step whose index is no int64 ({_quoted(step_index)})"
        )
    return ""


#: The links of a context that may abort, by the context's id: ml_metadata reads a context's
#: links by ``context_id = <its id>`` (so only a link whose ``context_id`` is an integer, the id
#: of a context the store holds) and reads the other end of each with SimpleAtoi as an int64
#: (measured: "Check failed: absl::SimpleAtoi(record.values(position), &id)"). Each: its order
#: among a context's links, the links and the end as a refusal names them, the table, the end.
_LINKS = (
    (0, "attributions", "an artifact_id", "Attribution", "artifact_id"),
    (1, "associations", "an execution_id", "Association", "execution_id"),
    (2, "parent links", "a parent_context_id", "ParentContext", "parent_context_id"),
)
_ODD_LINKS = (
    " UNION ALL ".join(
        f"SELECT context_id, {order}, CAST({column} AS TEXT) FROM {table} "
        f"WHERE typeof(context_id) = 'integer' AND context_id IN (SELECT id FROM Context) "
        f"AND typeof({column}) != 'integer'"
        for order, _, _, table, column in _LINKS
    )
    + " ORDER BY 1, 2"
)


def aborting_row(path: str) -> str:
    """What of MLMD's SQLite file ``path`` (a private copy) would make ml_metadata abort the
    process reading it, or "": the first such node (in the order the import reads them:
    artifacts, executions, contexts), else type property, type's parent link, event, path
    step, then a context's link."""
    try:
        with contextlib.closing(
            sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)
        ) as db:
            db.text_factory = bytes  # (a blob's text need not be UTF-8)
            for kind, table, properties, column, state in _NODES:
                for node_id, *values in db.execute(_node_query(table, state)):
                    what = _node_row(tuple(values), state)
                    if what:
                        return f"the MLMD {kind} {node_id}: {what}"
                for node_id, *values in db.execute(_property_query(table, properties, column)):
                    what = _property_row(tuple(values))
                    if what:
                        return f"the MLMD {kind} {node_id}: {what}"
            for type_kind, type_id, type_name, name, data_type in db.execute(_ODD_TYPE_PROPERTIES):
                if not atoi(data_type, 32):
                    kind = _TYPE_KINDS[int(type_kind)]
                    return (
                        f"the MLMD {kind} {int(type_id)} ({_quoted(type_name)}): its property "
                        f"{_quoted(name)} has a data_type that is no int32 ({_quoted(data_type)})"
                    )
            for type_kind, type_id, type_name, parent in db.execute(_ODD_PARENT_TYPES).fetchall():
                if not atoi(parent) and _read_type(db, int(type_kind), int(type_id), type_name):
                    kind = _TYPE_KINDS[int(type_kind)]
                    return (
                        f"the MLMD {kind} {int(type_id)} ({_quoted(type_name)}): its parent type "
                        f"link has a parent_type_id that is no int64 ({_quoted(parent)})"
                    )
            for row in db.execute(_ODD_EVENTS):
                what = _aborting_event(tuple(row))
                if what:
                    artifact_id, execution_id = (_event_id(v) for v in row[:2])
                    event = f"artifact {artifact_id} and execution {execution_id}"
                    return f"the MLMD event of {event}: {what}"
            for *ids, is_index_step, step_index in db.execute(_ODD_PATH_STEPS):
                what = _aborting_step(is_index_step, step_index)
                if what:
                    artifact_id, execution_id = (_event_id(v) for v in ids)
                    event = f"artifact {artifact_id} and execution {execution_id}"
                    return f"the MLMD event of {event}: {what}"
            for context_id, order, end in db.execute(_ODD_LINKS):
                if not atoi(end):
                    _, links, column, _, _ = _LINKS[int(order)]
                    return (
                        f"the MLMD context {int(context_id)}: one of its {links} has {column} "
                        f"that is no int64 ({_quoted(end)})"
                    )
    except sqlite3.Error:
        return ""  # (ml_metadata tells what it cannot read)
    return ""
