"""Python's cyclic garbage collector, paused while a large answer is read and decoded.

A lineage answer of 4,001 nodes arrives as ~300,000 small lists (FalkorDB's compact reply) and
becomes ~20,000 dicts and models. Each container allocated counts towards the collector's
thresholds, and a full collection traverses every live object of the process, the answer built so
far included. Measured on one downstream fan-out call (bench/): 192 young, 17.5 middle and 1.6
full collections, 42 ms of a 128 ms call; with the pause, 6 ms (the collections that follow it)
of a 95 ms call. None of these objects is garbage while the answer is built, so the collections
find nothing. msgpack's documentation gives the same advice for unpacking large messages.

The pause is process-wide (``gc.disable``), so it is scoped to reading and decoding an answer
(one engine walk and its models; a frontier walk's node, event and link reads and its models;
the MLMD adapter's selection and protos; a listing), never to the hops of a walk, one round trip
each.
Pauses of several threads overlap: the collector is turned off by the first that starts and on
again when the last one ends, and only if it was on when the first started. A thread that turns
the collector off itself while a pause is held finds it on again when the pause ends (the pause
cannot tell its own ``gc.disable`` from another's); cycles made meanwhile are collected at the
next collection.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_holders = 0
_turned_off = False  # whether the pauses held now turned the collector off


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off for the ``with`` block when it was on, and on again after it (after the
    last of overlapping blocks)."""
    global _holders, _turned_off
    held = False
    try:
        with _lock:
            # Counted before the collector is touched, and in the same ``try``: an exception
            # raised in between (a KeyboardInterrupt, from a signal handler) still ends the
            # pause, so the collector is never left off. The two statements below run with no
            # check for pending signals between them (no call, no backward jump).
            _holders += 1
            held = True
            if _holders == 1:
                _turned_off = gc.isenabled()
                gc.disable()
        yield
    finally:
        if held:
            _end()


def _end() -> None:
    """One pause ends. An interrupt that arrives while this waits for the lock (a contended
    acquire is interruptible) is held back until the count is settled, then raised: otherwise
    the count would never reach zero again and the collector would stay off. Nothing between the
    decrement and ``done = True`` checks for pending signals."""
    global _holders, _turned_off
    done = False
    interrupted: BaseException | None = None
    while not done:
        try:
            with _lock:
                _holders -= 1
                done = True
                if _holders == 0 and _turned_off:
                    _turned_off = False
                    gc.enable()
        except BaseException as exc:  # raised waiting for the lock, or once it was all done
            interrupted = exc
    if interrupted is not None:
        raise interrupted


def _after_fork_in_child() -> None:
    """A forked child has none of the threads whose pauses it inherited: they never end there.
    Counted as held, they kept the collector off in the child for good (17 of 20 children
    forked while another thread read a 3,000-node lineage answer), and the lock may be held."""
    global _lock, _holders, _turned_off
    _lock = threading.Lock()
    if _holders and _turned_off:
        gc.enable()
    _holders = 0
    _turned_off = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
