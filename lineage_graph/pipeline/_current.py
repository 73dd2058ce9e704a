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
    """``run``, or the run it was started in, ... : the first still running. Runs started
    with ``start()`` and finished out of order (``a.start(); b.start(); a.finish();
    b.finish()``) leave a finished one current (what ``b`` was started in): it was answered by
    current_run(), and a run started next in the enclosing block got no parent."""
    while run is not None and not run.active:
        run = run._enclosing
    return run


def _release(run: Run) -> None:
    """``run`` ends (or never began) here: the run current in this thread or task is the one
    it was started in again, unless a run started after it still runs here."""
    if run._token is None:
        return
    current = _CURRENT.get()
    inner = current
    while inner is not None and inner is not run and not inner.active:
        inner = inner._enclosing
    if inner is not None and inner is not run:
        # A run started after this one still runs here (``b`` of ``a.start(); b.start();
        # a.finish()``): it stays current (resetting made the run ``a`` was started in
        # current, while ``b`` ran). Finished, it resets to ``a``, which _running skips.
        run._token = None
        return
    if inner is None:
        # Not this thread's (task's) current run, nor one it runs in: ended from another
        # thread. Its own thread's block resets it (the token was taken here, so that
        # thread kept the ended run current); this one's current run stays as it is.
        return
    try:
        _CURRENT.reset(run._token)
    except ValueError:
        # The current run of a copy of the context it was started in (asyncio.to_thread,
        # copy_context().run): the run it was started in is current here again (this one
        # was cleared to None, a run started next here getting no parent); the token is
        # the started context's, to reset there.
        _CURRENT.set(run._enclosing)
        return
    run._token = None
