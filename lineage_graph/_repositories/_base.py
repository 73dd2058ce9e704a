"""What every repository shares: running a named query on the store's backend."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import pydantic

from .._encoding import shown
from .._queries import QueryRegistry, registry
from ..backends import Backend, Row
from ..exceptions import InvalidArgumentError
from ..models import INT64_MAX

__all__ = [
    "Repository",
    "check_positive_id",
    "checked_ids",
    "id_pages",
    "id_ranges",
    "now_ms",
    "positioned",
]

T = TypeVar("T")
_MAX_SPAN = 1 << 62  # the widest id window a page reads (it widens over unused ids: a gap of
# any length, up to the end of int64, costs at most ~60 reads)


def now_ms() -> int:
    """Milliseconds since the epoch (MLMD's ``*_since_epoch`` unit)."""
    return time.time_ns() // 1_000_000


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MILLISECOND = dt.timedelta(milliseconds=1)


def datetime_ms(value: dt.datetime, *, up: bool = False) -> int:
    """An aware datetime as milliseconds since the epoch, exactly, rounded down (``up``: to the
    next whole millisecond, for a cut "before" it): ``int(value.timestamp() * 1000)`` goes
    through a float and gave T - 1 for ~0.6% of the datetimes of a whole millisecond T in some
    decades (and rounded up before 1970)."""
    whole, part = divmod(value - _EPOCH, _MILLISECOND)
    return int(whole) + (1 if up and part else 0)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def checked_ids(ids: Iterable[int]) -> set[int]:
    """The distinct ``ids``, each an int (not a bool), or InvalidArgumentError: a caller's ids
    are checked before a read, where a str matched nothing and ``True`` read node 1."""
    try:
        distinct = set(ids)
    except TypeError:
        raise InvalidArgumentError(f"ids must be a collection of ints, got {shown(ids)}") from None
    for i in distinct:
        if type(i) is not int:
            raise InvalidArgumentError(f"an id is an int, got {shown(i)}")
    # No node has an id outside int64 (writes refuse one): such an id matches nothing, on every
    # engine (Neo4j's driver cannot even send it; FalkorDB would compare it as a double).
    return {i for i in distinct if _INT64_MIN <= i <= _INT64_MAX}


def check_positive_id(label: str, name: str, value: object) -> None:
    """A written id (a node's, an event's or a link's end): an int above 0, or
    InvalidArgumentError. A model built without validation may hold a str, None or ``True``
    (which would name node 1)."""
    if type(value) is not int or not 0 < value <= _INT64_MAX:
        raise InvalidArgumentError(f"{label}: {name} must be a positive int64, got {shown(value)}")


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Distinct ids as ``[first, last]`` runs of consecutive ids, for the ``$ranges`` lookups:
    FalkorDB's numeric index answers one range seek for a whole run (ids are handed out in
    blocks, so a batch's nodes are consecutive) but costs ~40 µs per id of an ``IN`` list.
    Every read and write by node ids passes here, so the ids are checked (``checked_ids``)."""
    distinct = checked_ids(ids)
    runs: list[list[int]] = []
    for i in sorted(distinct):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def id_pages(
    end: int,
    page_size: int,
    read: Callable[[int, int], list[T]],
    id_of: Callable[[T], int],
    after: int = 0,
) -> Iterator[list[T]]:
    """Pages of up to ``page_size`` items in id order, each read as ``read(after, upto)``: the
    items with ids in ``(after, upto]``, ordered by id, at most ``page_size`` of them.

    A page is read from a window of ids, never from "every id above": FalkorDB 4.16 orders every
    later node for such a page (370-540 ms at 1M nodes against ~6 ms for a window). ``end`` is
    the end of the kind's id sequence when the walk starts (``ids/end``); the windows cover the
    ids up to it, and past it one open window reads what was written since. The width follows
    the density of items: writers reserve ids in blocks and may leave most of a block unused,
    and a query's conditions may keep few of the nodes, so it doubles while a window holds
    under half a page (a gap of any length costs a few reads) and halves when one overflows.
    ``after``: start past this id (a later page starts with an index seek, not a scan).
    """
    span = page_size
    while True:
        upto = min(after + span, end) if after < end else INT64_MAX
        page = read(after, upto)
        yield page
        if len(page) >= page_size:  # the window may hold more: go on after the last one
            after = id_of(page[-1])
            span = max(page_size, span // 2)
            continue
        if upto == INT64_MAX:
            return
        after = upto
        if 2 * len(page) < page_size:
            span = min(2 * span, _MAX_SPAN)


_END_FIELDS = {"a": "artifact_id", "e": "execution_id", "c": "context_id"}


def positioned(
    rows: Sequence[Mapping[str, Any]],
    ends: str,
    fields: Sequence[str] | None = None,
    present: Mapping[str, Collection[int]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, list[list[int]]]]:
    """Copies of ``rows`` (of their ``fields`` only, when given: what the statement reads)
    carrying, for each end kind (``a``, ``e``, ``c``), the position of the row's node among the
    part's distinct ids (``ai``, ``ei``, ``ci``), and those ids as runs of consecutive ids:
    FalkorDB's graph/write and events/find_existing fetch a part's nodes by range and pick them
    by position instead of one index seek per row.

    ``present``: per end kind, ids of nodes certain to exist when the statement reads them (the
    nodes the same write creates first). A gap between two of the part's ids made only of such
    ids is read too, so that the runs are fewer: each run is one index seek (~27 µs on FalkorDB),
    each extra node in a run far less (a subgraph whose executions read every other new
    artifact: 200 runs -> 1, 5.5 -> ~0.1 ms). No other id can lie in such a run, so positions
    stay exact (and the statement checks each row's id anyway)."""
    out = [dict(r) if fields is None else {f: r[f] for f in fields} for r in rows]
    at: dict[str, list[list[int]]] = {}
    for end in ends:
        key = _END_FIELDS[end]
        ids = sorted({int(r[key]) for r in rows})
        known = present.get(end) if present else None
        if known and len(ids) > 1:
            ids = _bridged(ids, known)
        position = {i: k for k, i in enumerate(ids)}
        for row in out:
            row[end + "i"] = position[row[key]]
        at[end] = id_ranges(ids)
    return out, at


def _bridged(ids: list[int], known: Collection[int]) -> list[int]:
    """Sorted distinct ``ids`` plus every gap between two of them made only of ``known`` ids."""
    out = [ids[0]]
    for prev, nxt in itertools.pairwise(ids):
        gap = nxt - prev - 1
        if 0 < gap <= len(known) and all(i in known for i in range(prev + 1, nxt)):
            out.extend(range(prev + 1, nxt))
        out.append(nxt)
    return out


class Repository:
    """Runs named queries from ``cypher/``; holds no Cypher text itself."""

    def __init__(self, backend: Backend, queries: QueryRegistry | None = None) -> None:
        self.backend = backend
        self.queries = queries or registry()

    def read(self, query_name: str, /, **params: Any) -> list[Row]:
        query = self.queries[query_name]
        return self.backend.read(query.text(self.backend.dialect), params, name=query_name)

    def read_primary(self, query_name: str, /, **params: Any) -> list[Row]:
        """:meth:`read` where writes are made (a Neo4j cluster's leader): the read-back of a
        write whose reply was lost. A follower serves reads after the bookmarks of the writes
        it was told of, and a lost commit reply carries none: read there, an applied write could
        be taken for one not applied, and its retry would write it again."""
        query = self.queries[query_name]
        return self.backend.read(
            query.text(self.backend.dialect), params, name=query_name, primary=True
        )

    def id_end(self, kind: str) -> int:
        """The last id of ``kind``'s sequence handed out so far (0: none yet)."""
        rows = self.read("ids/end", kind=kind)  # none: the graph was never written
        return int(rows[0]["next"]) - 1 if rows else 0

    def write(self, query_name: str, /, **params: Any) -> list[Row]:
        query = self.queries[query_name]
        return self.backend.write(query.text(self.backend.dialect), params, name=query_name)


def call_values(value: Any) -> Any:
    """The arguments of a call as plain values, compared with ``==``: models by their fields
    (and class), sequences as tuples, numbers with their type and floats by their bits. Python's
    ``1 == True == 1.0`` and ``0.0 == -0.0`` made a retry with another value (an int property
    sent as a bool or a double) pass for the same call: it returned the first write's ids and
    the stored value stayed the first one. A NaN equals a NaN here (the same call)."""
    if isinstance(value, float):
        return (float, value.hex())
    if isinstance(value, bool | int):
        return (type(value), value)
    if isinstance(value, pydantic.BaseModel):
        return (type(value).__name__, call_values(value.model_dump(warnings=False)))
    if isinstance(value, list | tuple):
        return tuple(call_values(v) for v in value)
    if isinstance(value, dict):
        return {k: call_values(v) for k, v in value.items()}
    return value
