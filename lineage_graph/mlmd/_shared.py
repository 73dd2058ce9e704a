"""In-memory stores shared by name in this process, as SQLite shares an in-memory database.

``file:x?mode=memory&cache=shared`` (or ``file::memory:?cache=shared``, a ``vfs=memdb`` name
beginning with ``/``) names one database for every connection of the process that opens that
name: ml_metadata's stores opened with it see each other's writes, and the database lives as
long as one of them is open; so do the adapter's, through this registry.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Hashable

from ..store import LineageStore

__all__ = ["shared_memory_store"]

#: Reentrant: a garbage collection run while this thread holds it (opening a store allocates)
#: may end an opening dropped unclosed (:func:`_end`), which takes it too; a plain lock hung.
_LOCK = threading.RLock()


class _Shared:
    """One shared store and how many openings of it have not ended yet."""

    __slots__ = ("store", "users")

    def __init__(self, store: LineageStore) -> None:
        self.store = store
        self.users = 0


#: The open shared stores by (process, name). Each is closed by the end of its last opening:
#: closed by the adapter, or dropped unclosed (MLMD code never closes), as SQLite frees the
#: database with its last connection.
_STORES: dict[tuple[int, Hashable], _Shared] = {}


class _Opening:
    """One adapter's use of a shared store: ends when closed, or when garbage-collected
    unclosed (so the store, and its server, go with the last adapter, and a new opening of the
    name finds it empty, as ml_metadata's does)."""

    __slots__ = ("__weakref__", "_end")

    def __init__(self, key: tuple[int, Hashable], shared: _Shared) -> None:
        self._end = weakref.finalize(self, _end, key, shared)
        # at exit every store still open is closed by its engine (its atexit handler)
        self._end.atexit = False  # type: ignore[misc]  # a settable property (typeshed: slots)

    def close(self) -> None:
        self._end()  # once: a second close ends nothing more


def _end(key: tuple[int, Hashable], shared: _Shared) -> None:
    """End one opening of ``shared``: the last one closes the store."""
    with _LOCK:
        shared.users -= 1
        last = shared.users == 0
        if last and _STORES.get(key) is shared:
            del _STORES[key]
    if last:
        shared.store.close()


def shared_memory_store(
    name: Hashable, *, create: bool = True
) -> tuple[LineageStore, Callable[[], None]] | None:
    """``(store, close)``: the in-memory store of this process named ``name`` (a new one when
    none is open; None then, unless ``create``), and what ends this opening of it (also done
    when ``close`` is dropped uncalled): the last one ended closes the store. A forked child
    opens its own (its parent's store is the parent's)."""
    key = (os.getpid(), name)
    with _LOCK:
        shared = _STORES.get(key)
        if shared is None:
            if not create:
                return None
            shared = _Shared(LineageStore.open("memory"))
            _STORES[key] = shared
        shared.users += 1
        opening = _Opening(key, shared)
    return shared.store, opening.close
