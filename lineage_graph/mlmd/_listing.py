"""MLMD ``ListOptions``: filter, order, limit and page tokens over one node kind.

One call runs ONE Cypher statement: a fixed skeleton (node match, optional context or type
restriction, the filter's alias ``MATCH`` clauses and ``WHERE`` condition from
:mod:`._filter`, the page-token condition) that returns the matching ``[order value, id]`` pairs
in a single row. Without a limit the pairs are sorted here (measured on FalkorDB 4.16 with 21k
matches: ``ORDER BY`` in the engine costs ~400 ms, a Python sort ~5 ms); with a limit the engine
sorts and keeps ``limit + 1`` rows (top-k, cheap) so the caller learns whether a next page exists.
On FalkorDB the pairs travel as one JSON string (``toJSON``): decoding thousands of nested RESP
values in the client costs ~5x more than the query itself.

The page token is opaque to users: base64 of JSON holding the last ``(order value, id)`` returned
and a hash of the query it belongs to, so a token replayed against another query is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any, cast

from .._repositories.nodes import decode_node
from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import Artifact, Context, Execution, NodeKind
from ..store import LineageStore
from ._filter import NODE, compile_filter

__all__ = ["ListQuery", "list_node_ids", "list_nodes"]

AnyNode = Artifact | Execution | Context

#: ``order_by`` -> stored node property (a closed set: safe in query text).
_ORDER_FIELDS = {
    "id": "id",
    "create_time": "create_time_since_epoch",
    "last_update_time": "last_update_time_since_epoch",
}
#: How a restricted listing starts from its context (the index on Context.id drives it).
_BY_CONTEXT = {
    NodeKind.ARTIFACT: "MATCH (c:Context {id: $context_id})<-[:ATTRIBUTION]-(n:Artifact)",
    NodeKind.EXECUTION: "MATCH (c:Context {id: $context_id})<-[:ASSOCIATION]-(n:Execution)",
}
#: The skeleton's first line per kind (labels from the closed set of node kinds).
_MATCH_ALL = {
    NodeKind.ARTIFACT: "MATCH (n:Artifact)",
    NodeKind.EXECUTION: "MATCH (n:Execution)",
    NodeKind.CONTEXT: "MATCH (n:Context)",
}
_TOKEN_VERSION = 1


@dataclass(frozen=True)
class ListQuery:
    """What one MLMD list call asks for (``get_artifacts(list_options)`` and friends)."""

    kind: NodeKind
    filter_query: str = ""
    order_by: str = "id"  # "id" | "create_time" | "last_update_time"
    is_asc: bool = True
    limit: int | None = None
    page_token: str | None = None
    type_name: str | None = None  # restrict to a type (get_*_by_type)
    type_version: str | None = None
    context_id: int | None = None  # restrict to a context (get_artifacts/executions_by_context)

    def fingerprint(self) -> str:
        """Identifies the result sequence a page token walks (everything but limit and token)."""
        basis = json.dumps(
            [
                self.kind.value,
                self.filter_query,
                self.order_by,
                self.is_asc,
                self.type_name,
                self.type_version,
                self.context_id,
            ]
        )
        return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _encode_token(query: ListQuery, order_value: Any, last_id: int) -> str:
    blob = {"v": _TOKEN_VERSION, "q": query.fingerprint(), "o": order_value, "i": last_id}
    return base64.urlsafe_b64encode(json.dumps(blob).encode()).decode()


def _decode_token(query: ListQuery, token: str) -> tuple[Any, int]:
    try:
        blob = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        ok = (
            isinstance(blob, dict)
            and blob.get("v") == _TOKEN_VERSION
            and isinstance(blob.get("i"), int)
            and (blob.get("o") is None or isinstance(blob.get("o"), int))
        )
    except (ValueError, UnicodeEncodeError, binascii.Error):
        ok = False
    if not ok:
        raise InvalidArgumentError("invalid page token: not a token returned by a list call")
    if blob.get("q") != query.fingerprint():
        raise InvalidArgumentError(
            "invalid page token: it belongs to a different query (filter, order or restriction "
            "changed)"
        )
    return blob["o"], int(blob["i"])


def _validate(query: ListQuery) -> None:
    if query.kind not in (NodeKind.ARTIFACT, NodeKind.EXECUTION, NodeKind.CONTEXT):
        raise InvalidArgumentError(f"cannot list {query.kind!r}")
    if query.order_by not in _ORDER_FIELDS:
        raise InvalidArgumentError(
            f"order_by must be one of {sorted(_ORDER_FIELDS)}, got {query.order_by!r}"
        )
    if query.limit is not None and query.limit < 0:
        raise InvalidArgumentError(f"limit must not be negative, got {query.limit}")
    if query.context_id is not None and query.kind not in _BY_CONTEXT:
        raise InvalidArgumentError("only artifacts and executions can be listed by context")


def build_list_query(
    query: ListQuery, dialect: str, type_id: int | None = None, *, nodes: bool = False
) -> tuple[str, dict[str, Any]]:
    """The Cypher text and parameters of ``query`` (exposed for tests and the linter): one row
    holding every ``[order value, id]`` pair, or with ``nodes`` one row per node (its stored
    properties), so the caller need not fetch the nodes again by id."""
    _validate(query)
    compiled = compile_filter(query.filter_query, query.kind)
    params: dict[str, Any] = dict(compiled.params)
    lines: list[str] = []
    if query.context_id is not None:
        lines.append(_BY_CONTEXT[query.kind])
        params["context_id"] = query.context_id
    else:
        lines.append(_MATCH_ALL[query.kind])
    conds: list[str] = []
    if type_id is not None:
        conds.append(f"{NODE}.type_id = $type_id")
        params["type_id"] = type_id
    order_prop = f"{NODE}.{_ORDER_FIELDS[query.order_by]}"
    by_id = query.order_by == "id"
    if query.page_token:
        after_value, after_id = _decode_token(query, query.page_token)
        params["after_id"] = after_id
        cmp = ">" if query.is_asc else "<"
        if by_id:
            conds.append(f"{NODE}.id {cmp} $after_id")
        else:
            params["after_value"] = after_value
            conds.append(
                f"(coalesce({order_prop}, 0) {cmp} $after_value OR "
                f"(coalesce({order_prop}, 0) = $after_value AND {NODE}.id {cmp} $after_id))"
            )
    if compiled.matches:
        # Restrictions on n first, where the planner can use them before expanding the aliases.
        if conds:
            lines.append("WHERE " + " AND ".join(conds))
            conds = []
        lines.extend(compiled.matches)
    if compiled.where != "true":
        conds.append(compiled.where)
    if conds:
        lines.append("WHERE " + " AND ".join(conds))
    if compiled.needs_distinct:
        lines.append(f"WITH DISTINCT {NODE}")
    pair = f"{NODE}.id" if by_id else f"[coalesce({order_prop}, 0), {NODE}.id]"
    if query.limit:
        # top-k in the engine: limit + 1 rows tell the caller whether a next page exists
        direction = "ASC" if query.is_asc else "DESC"
        order = (
            f"{NODE}.id {direction}"
            if by_id
            else f"coalesce({order_prop}, 0) {direction}, {NODE}.id {direction}"
        )
        lines.append(f"WITH {NODE} ORDER BY {order} LIMIT $limit")
        params["limit"] = query.limit + 1
    if nodes:
        lines.append(f"RETURN properties({NODE}) AS node")
        return "\n".join(lines), params
    collected = f"collect({pair})"
    if dialect == "falkordb":
        lines.append(f"RETURN toJSON({collected}) AS rows")
    else:
        lines.append(f"RETURN {collected} AS rows")
    return "\n".join(lines), params


def _type_id(store: LineageStore, query: ListQuery) -> int | None:
    if query.type_name is None:
        return None
    t = store.get_type(query.kind, query.type_name, query.type_version)
    assert t.id is not None
    return t.id


def _run(store: LineageStore, query: ListQuery, *, nodes: bool) -> list[dict[str, Any]]:
    """The rows of the one listing statement; none when the type does not exist."""
    _validate(query)
    try:
        type_id = _type_id(store, query)
    except NotFoundError:
        compile_filter(query.filter_query, query.kind)  # a bad filter is still an error
        return []
    backend = store.backend
    text, params = build_list_query(query, backend.dialect, type_id, nodes=nodes)
    return backend.read(text, params, name="mlmd/list")


def list_node_ids(store: LineageStore, query: ListQuery) -> tuple[list[int], str | None]:
    """Ids of the nodes ``query`` selects, in order, and the token of the next page (or None).

    Raises :class:`InvalidArgumentError` for a bad filter (with its position), order, limit or
    page token. An unknown ``type_name`` or ``context_id`` selects nothing.
    """
    rows = _run(store, query, nodes=False)
    raw = rows[0]["rows"] if rows else []
    items: list[Any] = json.loads(raw) if isinstance(raw, str) else list(raw or [])
    by_id = query.order_by == "id"
    pairs: list[tuple[int, int]] = (
        [(int(i), int(i)) for i in items] if by_id else [(int(o), int(i)) for o, i in items]
    )
    pairs, token = _page(query, pairs)
    return [i for _, i in pairs], token


def _page(
    query: ListQuery, pairs: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], str | None]:
    """``(order value, id)`` pairs sorted and cut to the page, and the next page's token."""
    pairs.sort(reverse=not query.is_asc)
    token = None
    if query.limit and len(pairs) > query.limit:
        pairs = pairs[: query.limit]
        last_value, last_id = pairs[-1]
        token = _encode_token(query, None if query.order_by == "id" else last_value, last_id)
    return pairs, token


def list_nodes(store: LineageStore, query: ListQuery) -> tuple[list[AnyNode], str | None]:
    """The nodes ``query`` selects, in order, and the token of the next page (or None): as
    :func:`list_node_ids`, in the same single statement, returning the nodes themselves (a
    second lookup by id costs FalkorDB ~40 µs per id on its numeric index)."""
    by_id: dict[int, AnyNode] = {}
    for row in _run(store, query, nodes=True):
        node = cast(AnyNode, decode_node(query.kind, row["node"]))
        assert node.id is not None
        by_id[node.id] = node
    field = _ORDER_FIELDS[query.order_by]
    pairs = [(int(getattr(n, field) or 0), i) for i, n in by_id.items()]
    pairs, token = _page(query, pairs)
    return [by_id[i] for _, i in pairs], token
