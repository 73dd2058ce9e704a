"""The run active in a thread or task: :func:`current_run`, and the run a new one takes as its
parent (:func:`active_run_of`).
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


def current_run() -> Run | None:
    """The run whose block (or decorated step) is executing in this thread or task, if any."""
    return _running(_CURRENT.get())


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
