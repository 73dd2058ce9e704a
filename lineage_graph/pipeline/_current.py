"""The run active in a thread or task (the context variable :func:`current_run` reads, in
_run.py beside the class it answers, so ``typing.get_type_hints`` resolves it), and the run a new
one takes as its parent (:func:`active_run_of`).
"""

from __future__ import annotations

import contextvars
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import LineageStore
    from ._run import Run


class _Slot:
    """What a context holds for a run made current there (:data:`_CURRENT`): the run, held
    while it runs and let go of once it ended (:func:`_release`, in whichever thread ended it),
    and the slot current when it started (the first whose run still ran, :func:`_running`).

    A run ended elsewhere than where it was started (another thread's ``finish()`` or
    ``fail()``, another task's, a copy of the context's: asyncio.to_thread,
    copy_context().run) leaves its slot current in the context it was started in: no thread
    can change another's context, whose block's exit (or next run) sets it back. The context
    held the run itself, and the run it was started in (an ended one, too, in a worker
    pattern), and so on, each with the ContextVar token that kept the run to reset to and the
    context it was made in: every run a worker pattern ever started stayed reachable, with its
    store, inputs, outputs and error. The slot holds only a running run."""

    __slots__ = ("__weakref__", "_held", "_run", "enclosing")

    def __init__(self, run: Run, enclosing: _Slot | None) -> None:
        self._held: Run | None = run
        self._run = weakref.ref(run)
        self.enclosing = enclosing

    def running(self) -> Run | None:
        """The slot's run if it still runs (an ended one may have been freed)."""
        run = self._run()
        return run if run is not None and run.active else None


#: The run active in this thread / asyncio task (see :func:`current_run`).
_CURRENT: contextvars.ContextVar[_Slot | None] = contextvars.ContextVar(
    "lineage_graph_current_run", default=None
)


def active_run_of(store: LineageStore) -> Run | None:
    """The innermost run of ``store`` (of its database) still running in this thread or task:
    what a run started here takes as its parent (a run of another store is skipped: its ids mean
    nothing in this one)."""
    slot = _CURRENT.get()
    while slot is not None:
        run = slot.running()
        if run is not None and run.store.backend is store.backend:
            return run
        slot = slot.enclosing
    return None


def _running(slot: _Slot | None) -> _Slot | None:
    """``slot``, or the one current when its run started, ... : the first whose run still runs.
    Runs started with ``start()`` and finished out of order (``a.start(); b.start();
    a.finish(); b.finish()``), or ended by another thread, leave an ended one current."""
    while slot is not None and slot.running() is None:
        slot = slot.enclosing
    return slot


def _running_here() -> Run | None:
    """The innermost run still running in this thread or task (:func:`current_run`)."""
    slot = _running(_CURRENT.get())
    return slot.running() if slot is not None else None


def _enter(run: Run) -> None:
    """``run`` (begun) is the current run here; the first still running of those current
    before is again once it ends (:func:`_release`)."""
    slot = _Slot(run, _running(_CURRENT.get()))
    run._slot = weakref.ref(slot)
    _CURRENT.set(slot)
    if not run.active:  # (ended by another thread meanwhile, which found no slot to let go of)
        slot._held = None


def _release(run: Run) -> None:
    """``run`` ends (or never began) here: its slot lets go of it, and the run current in this
    thread or task is the one it was started in again (the first of them still running),
    unless a run started after it still runs here, or it is not one of this context's runs
    (ended from another thread: its own thread's context keeps the slot, see :class:`_Slot`)."""
    slot = run._slot() if run._slot is not None else None
    if slot is None:
        return  # (never made current, or no context holds it any more)
    if not run.active:  # (another thread may be ending it yet: its _release lets go)
        slot._held = None
    inner = _CURRENT.get()
    while inner is not None and inner is not slot and inner.running() is None:
        inner = inner.enclosing
    # (a run started after this one still running here, ``b`` of ``a.start(); b.start();
    # a.finish()``, stays current: once it ends, the current run is the first one running of
    # those current when it started, ``a`` skipped. A copy of the context the run was started
    # in, asyncio.to_thread's or copy_context().run's, holds its slot too: the run it was
    # started in is current in the copy again, the started context keeping the slot, which
    # no longer holds the run, until its block's exit or the next run started there.)
    if inner is slot:
        _CURRENT.set(_running(slot.enclosing))
