"""Id allocation: int64 ids per kind from a sequence node, reserved in blocks.

A block is reserved atomically (one statement, ``cypher/ids/reserve``) and handed out locally,
so an insert costs no extra round trip. Ids are unique across processes and never reused; a
failed write gives its ids back to this process's block, so sequential use yields 1, 2, 3...
(MLMD's numbering), and a crash leaves at most a gap.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass

from ..exceptions import OutOfRangeError
from ._base import Repository

__all__ = ["IdAllocator", "IdKind"]

IdKind = str  # "Artifact" | "Execution" | "Context" | "Type"
_INT64_MAX = 2**63 - 1


@dataclass
class _Block:
    next: int = 0
    end: int = 0  # exclusive


class IdAllocator(Repository):
    block_size = 256

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock = threading.Lock()
        self._blocks: dict[IdKind, _Block] = {}
        _ALLOCATORS.add(self)

    def _forget_blocks(self) -> None:
        """In a forked child: the blocks are the parent's, which hands their ids out too."""
        self._lock = threading.Lock()  # another thread of the parent may have held it
        self._blocks = {}

    def allocate(self, kind: IdKind, count: int) -> list[int]:
        if count <= 0:
            return []
        with self._lock:
            block = self._blocks.setdefault(kind, _Block())
            if block.end - block.next < count:
                # Twice what a large write asks for: a run of equal batches reserves once per
                # two (a 25-batch put_lineage_subgraph ingest: 46 -> 27 reservations, measured).
                size = max(2 * count, self.block_size)
                try:
                    first = self._reserve(kind, size)
                except OutOfRangeError:  # near the end of int64: exactly what is asked, if left
                    size = count
                    first = self._reserve(kind, size)
                if first != block.end:  # another process reserved in between: skip the rest
                    block.next = first
                block.end = first + size
            ids = list(range(block.next, block.next + count))
            block.next += count
            return ids

    def _reserve(self, kind: IdKind, count: int) -> int:
        """The first of ``count`` new ids of ``kind`` (one atomic statement)."""
        row = self.write("ids/reserve", kind=kind, count=count, last_first=_INT64_MAX - count)[0]
        if not row["fits"]:
            raise OutOfRangeError(
                f"no {count} more {kind} ids: the next would pass 2^63 - 1 "
                f"(the sequence is at {row['first']}); nothing was written"
            )
        return int(row["first"])

    def skip(self, kind: IdKind, count: int) -> None:
        """Hand the next ``count`` ids to nobody (an import keeping another store's id gaps),
        in constant memory however many they are."""
        if count <= 0:
            return
        with self._lock:
            block = self._blocks.setdefault(kind, _Block())
            rest = block.end - block.next
            if rest >= count:
                block.next += count
                return
            need = count - rest
            first = self._reserve(kind, need)
            block.next = block.end = first + need  # past the skipped ids; the block is used up

    def hand_over(self, kind: IdKind, end: int) -> int:
        """For a graph that will replace this allocator's: the first id of ``kind`` nobody may
        hold, given the stored sequence's ``end``. That is this allocator's unused ids when its
        block was the last reserved (the others' blocks lie below it), else ``end``. The block
        is used up here, so this allocator never hands out an id the other graph may give:
        its next id is reserved anew, in whichever graph is in place by then."""
        with self._lock:
            block = self._blocks.get(kind)
            if block is None:
                return end
            first = block.next if block.end == end else end
            block.next = block.end
            return first

    def take_back(self, kind: IdKind, first: int, end: int) -> None:
        """Undo :meth:`hand_over` (which gave ``first``, with ``end``) when the other graph did
        not replace this one's: the ids are this allocator's again, unless it reserved a new
        block since (then they stay a gap)."""
        with self._lock:
            block = self._blocks.get(kind)
            if block is not None and block.next == block.end == end and first <= end:
                block.next = first

    def adopt(self, other: IdAllocator) -> None:
        """Take ``other``'s blocks in place of this one's: the graph ``other`` reserved them in
        replaced the graph of this one's (the unused rest of a block stays in use, as if
        this allocator had reserved it)."""
        with self._lock, other._lock:
            self._blocks = {kind: _Block(b.next, b.end) for kind, b in other._blocks.items()}

    def release(self, kind: IdKind, ids: list[int]) -> None:
        """Give back the ids of a write that failed, if they were the last ones handed out."""
        if not ids:
            return
        with self._lock:
            block = self._blocks.get(kind)
            if block is not None and ids == list(range(block.next - len(ids), block.next)):
                block.next -= len(ids)


#: Every allocator of this process: a forked child (a multiprocessing worker inheriting the
#: parent's store, gunicorn --preload, os.fork) starts with no block. It inherited the parent's
#: unused ids and handed them out as the parent and its siblings did: the same artifact id
#: stored for four artifacts (1 parent and 3 forked children writing one each), events joining
#: the wrong nodes, steps failing with "the same event twice in one write".
_ALLOCATORS: weakref.WeakSet[IdAllocator] = weakref.WeakSet()


def _forget_blocks_in_child() -> None:
    for allocator in list(_ALLOCATORS):
        allocator._forget_blocks()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_blocks_in_child)
