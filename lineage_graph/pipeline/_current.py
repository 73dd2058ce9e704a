"""The run active in a thread or task (the context variable :func:`current_run` reads, in
_run.py beside the class it answers, so ``typing.get_type_hints`` resolves it), and the run a new
one takes as its parent (:func:`active_run_of`).
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import LineageStore
    from ._run import Run


#: The run active in this thread / asyncio task (see :func:`current_run`).
_CURRENT: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "lineage_graph_current_run", default=None
)


def active_run_of(store: LineageStore) -> Run | None:
    """The innermost run of ``store`` (of its database) still running in this thread or task:
    what a run started here takes as its parent (a run of another store is skipped: its ids mean
    nothing in this one)."""
    run = _CURRENT.get()
    while run is not None and (run.store.backend is not store.backend or not run.active):
        run = run._enclosing
    return run


def _running(run: Run | None) -> Run | None:
    """``run``, or the run it was started in, ... : the first still running. A run ended
    elsewhere than where it was started (another thread's ``finish()``, another task's, a copy
    of the context's: asyncio.to_thread, copy_context().run) stays the current run of the
    context it was started in (no thread can change another's context), ended, until a run
    starts there or the block it was started in ends: it is no current run, nor a parent."""
    while run is not None and not run.active:
        run = run._enclosing
    return run


def _enter(run: Run) -> None:
    """``run`` (begun) is the current run here: the run it was started in (``_enclosing``, the
    one running then) is again once it ends (:func:`_release`).

    The context does not remember what it held before, as a token of ``_CURRENT.set`` would
    (nor does the run hold a token): a run ended by another thread kept its token, so the run
    current here then, often one ended by another thread too, which kept its own, ... (every
    run a worker pattern ever started, each ended by a thread of its own, stayed reachable
    from the last, with its store, inputs, outputs and error); and the token kept the context
    it was made in, which held that run: a reference cycle, freed by the cyclic collector only,
    once the thread was gone."""
    _CURRENT.set(run)


def _release(run: Run) -> None:
    """``run`` ends (or never began) here: the run current in this thread or task is the one
    it was started in again (the first of them still running), unless a run started after it
    still runs here, or it is not one of this context's runs (ended from another thread: its
    own thread's context keeps it, ended, see :func:`_running`)."""
    inner = _CURRENT.get()
    while inner is not None and inner is not run and not inner.active:
        inner = inner._enclosing
    # (a run started after this one still running here, ``b`` of ``a.start(); b.start();
    # a.finish()``, stays current: once it ends, the run current is the first one running of
    # those it was started in, ``a`` skipped. A copy of the context the run was started in,
    # asyncio.to_thread's or copy_context().run's, is this run's context too: the run it was
    # started in is current in the copy again, the started context keeping the run, ended,
    # until its block's exit or the next run started there.)
    if inner is run:
        _CURRENT.set(_running(run._enclosing))
