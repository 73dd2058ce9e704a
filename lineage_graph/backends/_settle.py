"""When to merge FalkorDB's pending edge changes (embedded servers only).

FalkorDB keeps the edges a statement creates in a per-relationship "delta" matrix and merges it
into the main matrix only when a read meets more than ``DELTA_MAX_PENDING_CHANGES`` pending
changes (default 10,000). Until then every statement that creates a node and an edge pays for
the pending ones: one ``put_execution`` (2 nodes, 4 edges) took 0.6 ms of engine time on a fresh
store and 1.3 ms after 2,000 calls, 2.4 ms after 6,000 (FalkorDB 4.16.3; the cost drops back
when the merge finally happens). A merge costs ~0.1 µs per stored edge of the relationship
(105 ms for two relationships of 500k edges each).

So the writer merges them itself, ski-rental style: after ``n`` writes with new edges the pending
ones have cost about ``ALPHA * n**2 / 2``; a merge that took ``F`` seconds is repeated after
``sqrt(2 * F / ALPHA)`` such writes (the accumulated cost then equals one merge), within
[:data:`MIN_WRITES`, :data:`MAX_WRITES`]. A merge is forced by lowering the threshold to 1 for
one read that touches every relationship type, then restoring it. The measured effect: 2,000
``put_execution`` calls on disk 5.0-7.1 s -> 3.9-4.4 s, the statement's engine time flat at
0.6-0.7 ms instead of growing to 1.3 ms.
"""

from __future__ import annotations

import math
import threading
from typing import Any, LiteralString

__all__ = ["SETTLE_QUERY", "Settler"]

#: Engine seconds each write with new edges adds to every later one until the next merge
#: (measured: +0.7 ms per statement after 2,000 ``put_execution`` calls).
ALPHA = 0.35e-6
MIN_WRITES = 64
MAX_WRITES = 8192
#: FalkorDB's default ``DELTA_MAX_PENDING_CHANGES``, restored when a crash left it at 1.
DEFAULT_PENDING = 10_000

#: A read that makes FalkorDB fetch (and so merge) every relationship matrix of the store. It
#: starts from the store's one StoreInfo node, which has no edges: the traversals are empty.
SETTLE_QUERY: LiteralString = """MATCH (m:StoreInfo {key: 'store'})
OPTIONAL MATCH (m)-[:EVENT]->(a)
OPTIONAL MATCH (m)-[:UPSTREAM]->(b)
OPTIONAL MATCH (m)-[:ATTRIBUTION]->(c)
OPTIONAL MATCH (m)-[:ASSOCIATION]->(d)
OPTIONAL MATCH (m)-[:PARENT_CONTEXT]->(e)
RETURN count(*) AS settled"""


class Settler:
    """Counts the writes that created edges and says when a merge is due."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writes = 0
        self._due = MIN_WRITES
        #: Merges made so far.
        self.merges = 0

    def wrote(self, stats: list[Any]) -> bool:
        """Count a write from its reply statistics; whether a merge is now due."""
        if not any(isinstance(s, str) and s.startswith("Relationships created") for s in stats):
            return False
        with self._lock:
            self._writes += 1
            if self._writes < self._due:
                return False
            self._writes = 0
            return True

    def merged(self, seconds: float) -> None:
        """Schedule the next merge from the cost of this one."""
        with self._lock:
            self.merges += 1
            self._due = min(max(int(math.sqrt(2 * seconds / ALPHA)), MIN_WRITES), MAX_WRITES)
