"""MLMD ``ListOptions``: filter, order, limit and page tokens over one node kind.

Every statement is one fixed skeleton (node match, optional context or type restriction, the
filter's alias ``MATCH`` clauses and ``WHERE`` condition from :mod:`._filter`, the page-token
condition) that returns the matching ``[order value, id]`` pairs in a single row, or the nodes.
Without a limit one statement selects everything and the pairs are sorted here (measured on
FalkorDB 4.16 with 21k matches: ``ORDER BY`` in the engine costs ~400 ms, a Python sort ~5 ms).
With a limit the engine sorts and keeps ``limit + 1`` rows (top-k) so the caller learns whether
a next page exists. On FalkorDB the pairs travel as one JSON string (``toJSON``; numbers only):
decoding thousands of nested RESP values in the client costs ~5x more than the query itself.

A limited page over a node label, in any order (``id``, ``create_time``, ``last_update_time``;
each range-indexed), is read in *windows* of the order property (``n.<order> >= $window_lo AND
n.<order> <= $window_hi``, an index range seek), one statement per window: FalkorDB 4.16 answers
``ORDER BY … LIMIT`` by reading every node the rest of the query keeps, so a first page of 100
artifacts newest first took 7.6 ms at 10k artifacts and 144 ms at 300k; read in windows, 3.8 and
4.3 ms (by update time: 31 ms at 100k, 299 ms at 1M; in windows 2.5 and 3.1 ms; MLMD indexes
both columns, 0.7 ms). The windows' width follows the density of matches, the first window is
open on its near side and the last on its far side, so no node is missed wherever its value
lies (:func:`_windowed_items`). Every node has both times (the writer sets them; the MLMD
importer keeps MLMD's), which the windows rely on. Listings from a context stay one statement:
an expansion from the context, not a seek (a page of 100 from a context of 100k artifacts:
11 ms by id, 34 ms newest first; MLMD 69 ms, as it joins the context's attributions too).

The page token is opaque to users: base64 of JSON holding the last ``(order value, id)`` returned,
the window width the page ended with and a hash of the query it belongs to, so a token replayed
against another query is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any, cast

from .._repositories._base import Repository, now_ms
from .._repositories.nodes import decode_node
from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import INT64_MAX, INT64_MIN, Artifact, Context, Execution, NodeKind
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
#: Orders read in windows (each property is range-indexed on every node kind), and the
#: narrowest window: ids are dense up to the writers' unused reservations; times are
#: milliseconds, and one write gives all its nodes the same one.
_MIN_SPAN = {"id": 64, "create_time": 16, "last_update_time": 16}
_MAX_SPAN = 1 << 62
#: A window's far side stays within ±2^53; past it that side is open (no condition at all).
#: FalkorDB 4.16's range index holds doubles (exact to 2^53), and where it compares row by row
#: (an index still being built, a plan that filters after another seek) ``a >= b`` overflows
#: once ``a - b`` passes the int64 range: ``1 >= -9223372036854775808`` is false. Ids and
#: millisecond times lie far inside; values beyond (possible only in imported data) are still
#: listed, by the open windows, in exact order: every comparison of the order property is made
#: within one sign (:func:`_halves`, :func:`_after_condition`, the sign first in ``ORDER BY``).
_EXACT = 1 << 53
#: The largest row count a statement's LIMIT is given: FalkorDB 4.16 reads LIMIT as an unsigned
#: 32-bit number (LIMIT 2^32 returns no row, 2^32 + 1 one), so a larger ``limit`` (a caller's
#: ``sys.maxsize`` for "all") would silently cut the listing. No store holds more nodes.
_MAX_ROWS = (1 << 31) - 1


@dataclass(frozen=True)
class _Item:
    """One selected node: its order value and id, and the node itself when it was read."""

    order: int
    id: int
    node: Artifact | Execution | Context | None = None


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


def _encode_token(query: ListQuery, order_value: Any, last_id: int, span: int | None) -> str:
    blob = {"v": _TOKEN_VERSION, "q": query.fingerprint(), "o": order_value, "i": last_id}
    if span is not None:
        blob["w"] = span
    return base64.urlsafe_b64encode(json.dumps(blob).encode()).decode()


def _is_int64(value: Any) -> bool:
    return type(value) is int and INT64_MIN <= value <= INT64_MAX


def _decode_token(query: ListQuery, token: str) -> tuple[Any, int, int | None]:
    """``(order value, id, window width)`` of the token's last item (width None: not given)."""
    invalid = InvalidArgumentError("invalid page token: not a token returned by a list call")
    try:
        blob = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeEncodeError, binascii.Error, RecursionError):  # nested too deep
        raise invalid from None
    if not isinstance(blob, dict) or blob.get("v") != _TOKEN_VERSION:
        raise invalid
    if blob.get("q") != query.fingerprint():
        raise InvalidArgumentError(
            "invalid page token: it belongs to a different query (filter, order or restriction "
            "changed)"
        )
    value, last_id, span = blob.get("o"), blob.get("i"), blob.get("w")
    if not (
        _is_int64(last_id)
        # the order value: none by id, an int64 by a time
        and (value is None if query.order_by == "id" else _is_int64(value))
        and (span is None or (_is_int64(span) and span > 0))
    ):
        raise invalid
    return value, cast(int, last_id), None if span is None else min(cast(int, span), _MAX_SPAN)


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


def _after_condition(value: str, cmp: str, after: int) -> str:
    """``value`` past a page token's ``(after_value, after_id)`` in the order ``cmp`` (``>``
    ascending, ``<`` descending), exact over all of int64. FalkorDB 4.16 compares two integers
    by their difference, which overflows once it leaves int64 (``2^62 > -2^62`` is false), so
    the value and the token's are compared only when they share a sign (a comparison with 0 is
    exact): the sign the walk goes to (ascending: ``>= 0``) is past a negative token's value
    whatever the rest says, and only it can be past a token's value of that sign."""
    past = f"{value} {cmp} $after_value OR ({value} = $after_value AND {NODE}.id {cmp} $after_id)"
    ahead = f"{value} >= 0" if cmp == ">" else f"{value} < 0"
    if (after < 0) == (cmp == ">"):
        return f"({ahead} OR {past})"
    return f"({ahead} AND ({past}))"


def build_list_query(
    query: ListQuery,
    dialect: str,
    type_id: int | None = None,
    *,
    nodes: bool = False,
    window: tuple[int | None, int | None] | None = None,
    rows: int | None = None,
    half: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """The Cypher text and parameters of ``query`` (exposed for tests and the linter): one row
    holding every ``[order value, id]`` pair, or with ``nodes`` one row per node (its stored
    properties), so the caller need not fetch the nodes again by id. ``window`` keeps the order
    property within ``[lo, hi]`` (None: that side is open, no condition); ``rows`` is the number
    of rows a limited query keeps (default: ``limit + 1``, which tells the caller whether a next
    page exists); ``half`` keeps it within one sign (-1: below 0, 1: from 0), where the
    engine compares the bounds exactly."""
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
    if window is not None:
        # a range on the bare (indexed) property: the engine seeks it in the index
        lo, hi = window
        if half is not None:  # within one sign: the window's bounds compare exactly
            conds.append(f"{order_prop} {'<' if half < 0 else '>='} 0")
        if lo is not None:
            conds.append(f"{order_prop} >= $window_lo")
            params["window_lo"] = lo
        if hi is not None:
            conds.append(f"{order_prop} <= $window_hi")
            params["window_hi"] = hi
    if query.page_token:
        after_value, after_id, _ = _decode_token(query, query.page_token)
        params["after_id"] = after_id
        cmp = ">" if query.is_asc else "<"
        if by_id:
            conds.append(f"{NODE}.id {cmp} $after_id")
        else:
            params["after_value"] = after_value
            conds.append(_after_condition(f"coalesce({order_prop}, 0)", cmp, after_value))
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
        value = f"coalesce({order_prop}, 0)"
        order = (
            f"{NODE}.id {direction}"
            if by_id
            # the sign first: values of one sign compare exactly (see _after_condition)
            else f"CASE WHEN {value} < 0 THEN 0 ELSE 1 END {direction}, {value} {direction}, "
            f"{NODE}.id {direction}"
        )
        lines.append(f"WITH {NODE} ORDER BY {order} LIMIT $limit")
        params["limit"] = query.limit + 1 if rows is None else rows
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


def _fetch(
    store: LineageStore,
    query: ListQuery,
    type_id: int | None,
    *,
    nodes: bool,
    statement: tuple[str, dict[str, Any]] | None = None,
    **window: int,
) -> list[_Item]:
    """The items of one listing statement, in the engine's order when the query has a limit.
    ``statement``: the text and parameters already built for ``query`` (a windowed page builds
    them once), whose ``window`` parameters (``window_lo``, ``window_hi``, ``limit``) are set."""
    backend = store.backend
    text, params = statement or build_list_query(query, backend.dialect, type_id, nodes=nodes)
    given = params | window
    if "limit" in given:
        given["limit"] = min(given["limit"], _MAX_ROWS)
    result = backend.read(text, given, name="mlmd/list")
    if nodes:
        field = _ORDER_FIELDS[query.order_by]
        items = []
        for row in result:
            node = cast(AnyNode, decode_node(query.kind, row["node"]))
            assert node.id is not None
            items.append(_Item(int(getattr(node, field) or 0), node.id, node))
        return items
    values: list[Any] = []
    for row in result:  # one row, or one per part of a window (UNION ALL)
        raw = row["rows"]
        values += json.loads(raw) if isinstance(raw, str) else list(raw or [])
    if query.order_by == "id":
        return [_Item(int(i), int(i)) for i in values]
    return [_Item(int(o), int(i)) for o, i in values]


def _select(
    store: LineageStore, query: ListQuery, *, nodes: bool
) -> tuple[list[_Item], int | None]:
    """The items ``query`` selects (a limited query: up to ``limit + 1`` of them) and, for a
    windowed page, the window width to start the next page with."""
    _validate(query)
    try:
        type_id = _type_id(store, query)
    except NotFoundError:
        compile_filter(query.filter_query, query.kind)  # a bad filter is still an error
        return [], None
    if query.limit and query.context_id is None:
        return _windowed_items(store, query, type_id, nodes=nodes)
    return _fetch(store, query, type_id, nodes=nodes), None


def _start_hint(store: LineageStore, query: ListQuery, type_id: int | None) -> int | None:
    """Where a first page (no token) starts: the order value of the first node in the query's
    direction, or a guess of it.

    By id it is the end of the id sequence (descending) or 0. By a time it comes from the node
    with the lowest (ascending) or highest (descending) id, read as a windowed page by id that
    needs one node (None: the kind, or its type, has no node): ascending, its create time (no
    update comes before a creation); descending, the order value itself (a node's update time
    is at least its create time). Ids and create times grow together for the store's own
    writers. Either only places the first window, which is open on its near side; where the
    guess is far off (an MLMD store imported into a non-empty one, or most nodes updated after
    the newest was created) that window holds many nodes and the first page costs what one
    ordered statement would."""
    if query.order_by == "id":
        return Repository(store.backend).id_end(query.kind.value) if not query.is_asc else 0
    first = ListQuery(
        kind=query.kind,
        order_by="id",
        is_asc=query.is_asc,
        limit=1,
        type_name=query.type_name,
        type_version=query.type_version,
    )
    items, _ = _windowed_items(store, first, type_id, nodes=True, need=1)
    if not items:
        return None
    node = items[0].node
    assert node is not None
    field = _ORDER_FIELDS["create_time" if query.is_asc else query.order_by]
    return int(getattr(node, field) or 0)


def _windowed_items(
    store: LineageStore,
    query: ListQuery,
    type_id: int | None,
    *,
    nodes: bool,
    need: int | None = None,
) -> tuple[list[_Item], int]:
    """A limited page read in windows of the (indexed) order property; see the module doc.

    Windows are consecutive, disjoint integer ranges walked in the page's direction, each read
    with ``LIMIT`` what the page still needs, so their items concatenate in order. The first is
    open on the near side (a first page: from the start hint; a later page: from the token's
    value, whose ties the token's own condition sorts out); once a window passes the end hint
    (ascending: the id sequence's end or the clock; descending: 0) the next one is open on the
    far side and is the last. An open side (None) has no condition. ``need``: the items wanted
    (default ``limit + 1``). Returns the items and the width the next page should start with:
    twice the part of the last window the page used.

    The windows are separate statements: a node whose order value changes while they run (an
    update, by update time) is kept once, where it was first read, and may be missed if it
    moves into a window already read, as it may between MLMD's own pages."""
    field = query.order_by
    asc = query.is_asc
    need = (query.limit or 0) + 1 if need is None else need
    span = _MIN_SPAN[field]
    lo: int | None
    hi: int | None
    if query.page_token:
        after_value, after_id, width = _decode_token(query, query.page_token)
        position = after_id if field == "id" else int(after_value)
        span = width or span
        if field == "id":  # the token's id itself is not wanted
            position += 1 if asc else -1
            if not INT64_MIN <= position <= INT64_MAX:
                return [], span  # nothing lies beyond the last int64
        lo, hi = (position, position + span - 1) if asc else (position - span + 1, position)
    else:
        start = _start_hint(store, query, type_id)
        if start is None:  # no node to list: a bad filter is still an error (as in MLMD)
            compile_filter(query.filter_query, query.kind)
            return [], span
        lo, hi = (None, start + span - 1) if asc else (start - span + 1, None)
    end: int | None = None  # ascending: past it, the next window is the last (open) one
    if not asc:
        end = 0
    elif field != "id":
        end = now_ms()
    # One text per shape of window (the filter compiled and the token decoded once): only the
    # window's bounds and row count change between them.
    statements: dict[tuple[tuple[bool, bool, int | None], ...], tuple[str, dict[str, Any]]] = {}
    items: list[_Item] = []
    seen: set[int] = set()
    while True:
        # only the far side opens: the near side is where the walk stands (the token's own
        # condition, exact, keeps what lies before a token's position out)
        if asc and hi is not None and hi >= _EXACT:
            hi = None
        if not asc and lo is not None and lo <= -_EXACT:
            lo = None
        wanted = need - len(items)
        # A node already in the page may come back once: by update time, moved here by a
        # concurrent update; by any time, when the near bound lies past ±2^53, where the range
        # index (doubles) rounds it onto values of the window read before (2^62 - 2 reads as
        # 2^62: nodes at 2^62 came back, filled the window's LIMIT and were dropped, so the
        # nodes after them were skipped). Reading that many more rows keeps the window whole
        # when they are dropped. Otherwise (ids, exact bounds, values that never change) none.
        near = lo if asc else hi
        inexact = near is not None and abs(near) >= _EXACT
        again = len(seen) if field == "last_update_time" or inexact else 0
        parts = _halves(lo, hi, field, asc)
        shape = tuple((p_lo is not None, p_hi is not None, half) for p_lo, p_hi, half in parts)
        if shape not in statements:
            statements[shape] = _window_statement(
                query, store.backend.dialect, type_id, nodes, parts, need
            )
        bounds = {"window_lo": lo, "window_hi": hi}
        read = _fetch(
            store,
            query,
            type_id,
            nodes=nodes,
            statement=statements[shape],
            limit=wanted + again,
            **{k: v for k, v in bounds.items() if v is not None},
        )
        # the parts' rows in the walk's order (Python compares the values exactly)
        read.sort(key=lambda item: (item.order, item.id), reverse=not asc)
        got = [item for item in read if item.id not in seen][:wanted]
        seen.update(item.id for item in got)
        items.extend(got)
        if len(items) >= need:
            # The part of this window the page used, from its near edge: across the gap the
            # walk may just have crossed too, so pages of clustered ids (writers leaving most of
            # their block unused) step over the next gap in one read; after one gap followed by
            # dense ids, one page reads that many ids and the next narrows again. An open edge
            # has no width: the items' spread stands for it.
            edge = got[0].order if near is None else near
            width = 2 * (abs(got[-1].order - edge) + 1)
            return items, min(max(width, _MIN_SPAN[field]), _MAX_SPAN)
        if (asc and hi is None) or (not asc and lo is None):
            return items, span  # the open last window: nothing lies beyond it
        if 2 * len(got) < wanted:  # under half of what the page needed (an empty one always)
            span = min(2 * span, _MAX_SPAN)
        if end is None:  # ascending by id: the sequence's end, read once a page goes on
            end = Repository(store.backend).id_end(query.kind.value)
        if asc:
            assert hi is not None
            last = hi
            lo, hi = last + 1, (None if last >= end else last + span)
        else:
            assert lo is not None
            last = lo
            lo, hi = (None if last <= end else last - span), last - 1


def _window_statement(
    query: ListQuery,
    dialect: str,
    type_id: int | None,
    nodes: bool,
    parts: list[tuple[int | None, int | None, int | None]],
    rows: int,
) -> tuple[str, dict[str, Any]]:
    """One statement reading a window's parts (:func:`_halves`): each part's query, joined by
    ``UNION ALL``, so a window across 0 costs one round trip as one within a sign does. The
    parts' bounds never clash: a window across 0 gives its low bound (``$window_lo``) only to
    the part below 0 and its high bound (``$window_hi``) only to the part from 0; each part
    keeps its own top-k (``$limit`` rows), the caller sorts their union."""
    texts: list[str] = []
    params: dict[str, Any] = {}
    for part_lo, part_hi, half in parts:
        text, part_params = build_list_query(
            query,
            dialect,
            type_id,
            nodes=nodes,
            window=(part_lo, part_hi),
            rows=rows,
            half=half,
        )
        texts.append(text)
        params.update(part_params)
    return "\nUNION ALL\n".join(texts), params


def _halves(
    lo: int | None, hi: int | None, field: str, asc: bool
) -> list[tuple[int | None, int | None, int | None]]:
    """The window ``[lo, hi]`` as its parts within one sign, in the walk's direction:
    ``(lo, hi, half)``, ``half`` -1 below 0 and 1 from 0 (None: ids, never negative, one part).
    FalkorDB 4.16 compares two integers by their difference, which overflows past int64
    (``1 >= -9223372036854775808`` is false); a bound compares exactly with the values of its
    own sign, and the sign condition (a comparison with 0, exact) keeps the others out. A
    bound of the other sign than its part is dropped (the sign condition is that side)."""
    if field == "id":
        return [(lo, hi, None)]
    parts: list[tuple[int | None, int | None, int | None]] = []
    if lo is None or lo < 0:
        parts.append((lo, hi if hi is not None and hi < 0 else None, -1))
    if hi is None or hi >= 0:
        parts.append((lo if lo is not None and lo >= 0 else None, hi, 1))
    return parts if asc else parts[::-1]


def list_node_ids(store: LineageStore, query: ListQuery) -> tuple[list[int], str | None]:
    """Ids of the nodes ``query`` selects, in order, and the token of the next page (or None).

    Raises :class:`InvalidArgumentError` for a bad filter (with its position), order, limit or
    page token. An unknown ``type_name`` or ``context_id`` selects nothing.
    """
    items, span = _select(store, query, nodes=False)
    items, token = _page(query, items, span)
    return [item.id for item in items], token


def _page(query: ListQuery, items: list[_Item], span: int | None) -> tuple[list[_Item], str | None]:
    """``items`` sorted and cut to the page, and the next page's token."""
    items.sort(key=lambda item: (item.order, item.id), reverse=not query.is_asc)
    token = None
    if query.limit and len(items) > query.limit:
        items = items[: query.limit]
        last = items[-1]
        token = _encode_token(query, None if query.order_by == "id" else last.order, last.id, span)
    return items, token


def list_nodes(store: LineageStore, query: ListQuery) -> tuple[list[AnyNode], str | None]:
    """The nodes ``query`` selects, in order, and the token of the next page (or None): as
    :func:`list_node_ids`, in the same statements, returning the nodes themselves (a second
    lookup by id costs FalkorDB ~40 µs per id on its numeric index)."""
    items, span = _select(store, query, nodes=True)
    items, token = _page(query, items, span)
    return [cast(AnyNode, item.node) for item in items], token
