"""In-memory stores shared by name in this process, as SQLite shares an in-memory database.

``file:x?mode=memory&cache=shared`` (or ``file::memory:?cache=shared``, a ``vfs=memdb`` name
beginning with ``/``) names one database for every connection of the process that opens that
name: ml_metadata's stores opened with it see each other's writes, and the database lives as
long as one of them is open. The adapter opened a new empty store each time.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Hashable

from ..store import LineageStore

__all__ = ["shared_memory_store"]

_LOCK = threading.Lock()
#: The open shared stores by (process, name): weak, so that a store whose adapters were all
#: dropped unclosed (MLMD code never closes) is collected and its server stopped, as SQLite
#: frees the database with its last connection.
_STORES: weakref.WeakValueDictionary[tuple[int, Hashable], LineageStore] = (
    weakref.WeakValueDictionary()
)
#: How many openings of each shared store are not closed yet.
_USERS: weakref.WeakKeyDictionary[LineageStore, int] = weakref.WeakKeyDictionary()


def shared_memory_store(name: Hashable) -> tuple[LineageStore, Callable[[], None]]:
    """``(store, close)``: the in-memory store of this process named ``name`` (a new one when
    none is open), and what closes this opening of it: the last one closed closes the store.
    A forked child opens its own (its parent's store is the parent's)."""
    key = (os.getpid(), name)
    with _LOCK:
        store = _STORES.get(key)
        if store is None:
            store = LineageStore.open("memory")
            _STORES[key] = store
            _USERS[store] = 0
        _USERS[store] += 1
    closed = False

    def close() -> None:
        nonlocal closed
        with _LOCK:
            if closed:  # close() twice: one opening ended once
                return
            closed = True
            _USERS[store] -= 1
            last = _USERS[store] == 0
            if last and _STORES.get(key) is store:
                del _STORES[key]
        if last:
            store.close()

    return store, close
