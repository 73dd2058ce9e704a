"""An async run's end (``async with``): written in a thread of its own, the run ended even if the
task is cancelled before that thread begins, or no thread can be had.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._common import _clean_exit, _EndClaimed
from ._current import _release

if TYPE_CHECKING:
    from ._run import Run


class _AsyncEnd:
    """An async run's end (:meth:`_aexit`): written in a thread of its own, the run ended even if
    the task is cancelled before that thread begins, or no thread can be had."""

    def __init__(self, run: Run) -> None:
        self.run = run

    async def _end_in_thread(self, end: Callable[..., None], *args: Any) -> None:
        """``end(*args)`` in a thread of its own. The task cancelled before that thread began:
        asyncio cancels the job (it never runs), so the run stayed RUNNING for ever; it is
        recorded CANCELED here then. Cancelled once it began, that thread ends the run. No
        thread to be had (the job refused), ``end`` runs in this task's thread."""
        lock = threading.Lock()
        began, cancelled = [False], [False]

        def work() -> None:
            with lock:
                if cancelled[0]:
                    return  # (the task records the end)
                began[0] = True
            _unless_claimed(end, *args)

        try:
            await asyncio.to_thread(work)
        except asyncio.CancelledError as cancel:
            with lock:
                cancelled[0] = True
                close = not began[0]
            if close and self.run.active:
                with contextlib.suppress(_EndClaimed):
                    taken = self.run._claims._claim_end("the run's exit")
                    try:
                        self.run._fail_quietly(cancel)
                    finally:
                        self.run._claims._release_end(taken)
            raise
        except Exception:
            with lock:
                cancelled[0] = True
                scheduled = began[0]
            if scheduled:
                raise  # (the end's own error: it recorded the run's end, or tried to)
            # No thread could be given the job (the loop's default executor shut down: "cannot
            # schedule new futures after shutdown"; the interpreter exiting): the error
            # propagated and the run stayed RUNNING for ever. Its end is written here.
            _unless_claimed(end, *args)

    async def _aexit(self, exc: BaseException | None) -> None:
        run = self.run
        try:
            if run.active:
                if exc is None or _clean_exit(exc):
                    await self._end_in_thread(run._complete_or_fail)
                else:
                    # (claimed, and given back, by the thread that records it: the task may be
                    # cancelled while that thread still writes; other tasks of this one's
                    # thread ending the run meanwhile are another end)
                    await self._end_in_thread(run._fail_claimed, exc)
        except _EndClaimed:
            pass  # another thread is ending the run: its end is the run's
        finally:
            _release(run)


def _unless_claimed(end: Callable[..., None], *args: Any) -> None:
    """An async exit's end, in its thread: another end under way (this task's thread recording
    a Ctrl-C that landed before this thread began, or another thread's) is the run's. (Raised
    here, it was an exception of a future nobody awaited any more, logged as never retrieved.)"""
    with contextlib.suppress(_EndClaimed):
        end(*args)
