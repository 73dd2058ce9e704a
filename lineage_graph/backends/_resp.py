"""FalkorDB's compact reply format, read straight into rows.

falkordb-py's ``QueryResult`` parses every value through a generic, recursive dispatcher (and
an ``OrderedDict`` per map): on a 4,001-node lineage answer that took 67 ms of a ~400 ms call.
The queries of ``cypher/`` return scalars, lists and maps (``properties(n)``), never raw nodes,
edges or paths, so this reader handles those types in one small function (23 ms on the same
reply) and hands anything else to falkordb-py's own parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from falkordb.helpers import stringify_param_value
from falkordb.query_result import parse_scalar
from redis.exceptions import ResponseError

__all__ = ["params_header", "read_reply"]

_NULL, _STRING, _INTEGER, _BOOLEAN, _DOUBLE, _ARRAY = 1, 2, 3, 4, 5, 6
_MAP = 10
_PLAIN = frozenset((_INTEGER, _STRING))  # hiredis already gives int / str
_AS_IS = frozenset((_INTEGER, _STRING, _NULL))  # ... and None for a null ([1, None])


def params_header(params: Mapping[str, Any]) -> str:
    """The ``CYPHER name=value ...`` prefix that carries the parameters (parameter names are the
    library's own identifiers).

    The text is exactly falkordb-py's (``stringify_param_value``; tests/unit/test_resp.py checks
    it on generated values), written faster for what the library sends: a write's parameters
    are lists of rows of ints and strings, ~3 MB of text for a 25k-item ingest, which
    falkordb-py's recursive, isinstance-chained encoder took 98 ms to write and this one 51.
    """
    if not params:
        return ""
    return "CYPHER " + " ".join(f"`{k}`={_literal(v)}" for k, v in params.items())


def _string(value: str) -> str:
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + value + '"'


_MAP_KEYS: dict[str, str] = {}  # a map key's text (`key`:), for the keys of str type only
_MAX_MAP_KEYS = 4096


def _map_key(key: Any) -> str | None:
    """The text of a map key, or None for one falkordb-py refuses (it raises its error)."""
    text = _MAP_KEYS.get(key) if type(key) is str else None
    if text is None:
        name = key.decode() if isinstance(key, bytes) else str(key)
        if name == "" or "`" in name:
            return None
        text = f"`{name}`:"
        if type(key) is str and len(_MAP_KEYS) < _MAX_MAP_KEYS:
            _MAP_KEYS[key] = text
    return text


def _literal(value: Any) -> str:
    """A parameter value as Cypher literal text: ints, strings, None, lists, tuples and maps
    here; anything else (floats, booleans, bytes, subclasses) by falkordb-py itself."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is list or kind is tuple:
        # ints and strings inlined (most items: a node row's values, a row list's rows' are not)
        return (
            "["
            + ",".join(
                [
                    str(x) if type(x) is int else _string(x) if type(x) is str else _literal(x)
                    for x in value
                ]
            )
            + "]"
        )
    if kind is dict:
        parts = []
        for key, item in value.items():
            # a key's text known already, inlined: _map_key's first step
            text = _MAP_KEYS.get(key) if type(key) is str else None
            if text is None:
                text = _map_key(key)
            if text is None:
                return str(stringify_param_value(value))  # raises falkordb-py's ValueError
            cls = type(item)
            item_text = str(item) if cls is int else _string(item) if cls is str else None
            parts.append(text + (_literal(item) if item_text is None else item_text))
        return "{" + ",".join(parts) + "}"
    return str(stringify_param_value(value))


def _value(cell: list[Any], graph: Any) -> Any:
    kind, value = cell
    if kind in (_INTEGER, _STRING):
        return value  # hiredis already gives int / str
    if kind == _ARRAY:
        return [
            item[1] if item[0] in _PLAIN else _value(item, graph)  # inlined: most are plain
            for item in value
        ]
    if kind == _MAP:
        cells = iter(value)  # key, [type, value], key, [type, value], ...
        return {
            key: cell[1] if cell[0] in _PLAIN else _value(cell, graph)
            for key, cell in zip(cells, cells, strict=True)
        }
    if kind == _NULL:
        return None
    if kind == _BOOLEAN:
        return value == "true"
    if kind == _DOUBLE:
        return float(value)
    return parse_scalar(cell, graph)  # nodes, edges, paths, points, temporal values


def read_reply(reply: list[Any], graph: Any) -> list[dict[str, Any]]:
    """Rows (column name -> value) of a ``GRAPH.QUERY ... --compact`` reply; a run-time error
    in the reply is raised as the ``ResponseError`` it is."""
    if reply and isinstance(reply[-1], ResponseError):
        raise reply[-1]
    if len(reply) < 3:
        return []  # statistics only: the query returns no columns
    header = [column[1] for column in reply[0]]
    width = len(header)
    rows = []
    for row in reply[1]:
        if len(row) != width:
            raise ValueError(f"a reply row of {len(row)} cells under {width} columns")
        rows.append(
            {
                name: cell[1] if cell[0] in _AS_IS else _value(cell, graph)
                for name, cell in zip(header, row, strict=False)  # widths checked above
            }
        )
    return rows
