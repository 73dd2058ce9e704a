"""What every repository shares: running a named query on the store's backend."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._queries import QueryRegistry, registry
from ..backends import Backend, Row

__all__ = ["Repository", "id_ranges", "now_ms", "positioned"]


def now_ms() -> int:
    """Milliseconds since the epoch (MLMD's ``*_since_epoch`` unit)."""
    return time.time_ns() // 1_000_000


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Distinct ids as ``[first, last]`` runs of consecutive ids, for the ``$ranges`` lookups:
    FalkorDB's numeric index answers one range seek for a whole run (ids are handed out in
    blocks, so a batch's nodes are consecutive) but costs ~40 µs per id of an ``IN`` list."""
    runs: list[list[int]] = []
    for i in sorted(set(ids)):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


_END_FIELDS = {"a": "artifact_id", "e": "execution_id", "c": "context_id"}


def positioned(
    rows: Sequence[Mapping[str, Any]], ends: str
) -> tuple[list[dict[str, Any]], dict[str, list[list[int]]]]:
    """Copies of ``rows`` carrying, for each end kind (``a``, ``e``, ``c``), the position of the
    row's node among the part's distinct ids (``ai``, ``ei``, ``ci``), and those ids as runs of
    consecutive ids: FalkorDB's graph/write and events/find_existing fetch a part's nodes by
    range and pick them by position instead of one index seek per row."""
    out = [dict(r) for r in rows]
    at: dict[str, list[list[int]]] = {}
    for end in ends:
        key = _END_FIELDS[end]
        ids = sorted({int(r[key]) for r in rows})
        position = {i: k for k, i in enumerate(ids)}
        for row in out:
            row[end + "i"] = position[row[key]]
        at[end] = id_ranges(ids)
    return out, at


class Repository:
    """Runs named queries from ``cypher/``; holds no Cypher text itself."""

    def __init__(self, backend: Backend, queries: QueryRegistry | None = None) -> None:
        self.backend = backend
        self.queries = queries or registry()

    def read(self, query_name: str, /, **params: Any) -> list[Row]:
        query = self.queries[query_name]
        return self.backend.read(query.text(self.backend.dialect), params, name=query_name)

    def write(self, query_name: str, /, **params: Any) -> list[Row]:
        query = self.queries[query_name]
        return self.backend.write(query.text(self.backend.dialect), params, name=query_name)
