"""The claim on a run's end: one end at a time (finish, fail, the block's exit, in any thread),
and nothing added to the run once its end has taken what it records.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..exceptions import FailedPreconditionError
from ._common import _EndClaimed, _Output

if TYPE_CHECKING:
    from ._run import Run


class _EndClaims:
    """The claim on a run's end (:meth:`_claim_end`): one end at a time, and nothing added to
    the run once its end has taken what it records (:meth:`_refuse_ending`)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        #: Set (under _ending_lock) when the run's end takes its outputs and properties: an
        #: output declared, or a property logged, by another thread from then on would be
        #: lost, silently (output() returned the artifact, never recorded): it is refused.
        self._ending = False
        #: Who is ending the run (:meth:`_claim_end`): a thread's id, or an async exit's
        #: token.
        self._ending_by: object = None
        self._ending_lock = threading.Lock()

    def _refuse_ending(self, what: str) -> None:
        """(Under ``_ending_lock``.) The run is ending (another thread finished or failed it
        meanwhile): what ``what`` adds would not be recorded, so it is refused."""
        if self._ending:
            raise FailedPreconditionError(
                f"{what}: the run ended meanwhile (finished or failed in another thread), so "
                "this would not be recorded"
            )

    def _claim_end(self, what: str, by: object = None) -> bool:
        """This call ends the run: two ends at once (``finish()`` in two threads, or in one
        while the block exits in another) each wrote the completion, every new output stored
        twice, silently. The second is :class:`_EndClaimed` and writes nothing. Whether this
        call took the claim (False: this thread holds it already, its own end being retried
        or recording its interruption); the taker gives it back (:meth:`_release_end`). ``by``:
        who claims it, this thread unless given (an async exit: other tasks run in its thread
        while it awaits its write, and one of them ending the run is another end)."""
        me = threading.get_ident() if by is None else by
        with self._ending_lock:
            if self._ending_by == me:
                return False
            if self._ending:
                raise _EndClaimed(
                    f"{what}: the run is being ended already (in another thread); this call "
                    "records nothing"
                )
            self._ending, self._ending_by = True, me
            return True

    def _release_end(self, taken: bool) -> None:
        """The end claimed (``taken``) is over: if it was not recorded (its write refused, the
        engine down) the run may be ended again, and be given outputs. The claim was kept for
        ever: a later ``fail()``, ``finish()`` or the block's exit, in this very thread, was
        refused as "being ended in another thread" (the exit silently), the run RUNNING."""
        if not taken:
            return
        # (asked first, and both set in one statement: a Ctrl-C landing between them left the
        # claim nobody's with the run not ended, every later end refused, RUNNING for ever)
        recorded = not self.run.active
        with self._ending_lock:
            self._ending_by, self._ending = None, self._ending and recorded

    def _end_taking(self) -> list[_Output]:
        """The run's end begins: nothing is added from now on; its outputs."""
        with self._ending_lock:
            self._ending = True
            return list(self.run._declarations._outputs)
