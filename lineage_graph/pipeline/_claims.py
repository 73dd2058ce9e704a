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


class _EndState:
    """Who is ending a run, and whether its end has begun (kept by the run, for
    :class:`_EndClaims` to act on: the claims hold the run, so the run does not keep them)."""

    __slots__ = ("by", "ending", "lock")

    def __init__(self) -> None:
        #: Set (under ``lock``) when the run's end takes its outputs and properties: an
        #: output declared, or a property logged, by another thread from then on would be
        #: lost, silently (output() returned the artifact, never recorded): it is refused.
        self.ending = False
        #: Who is ending the run (:meth:`_EndClaims._claim_end`): a thread's id, or an async
        #: exit's token.
        self.by: object = None
        self.lock = threading.Lock()


class _EndClaims:
    """The claim on a run's end (:meth:`_claim_end`): one end at a time, and nothing added to
    the run once its end has taken what it records (:meth:`_refuse_ending`). Who holds it is
    ``state``, the run's own."""

    def __init__(self, run: Run, state: _EndState) -> None:
        self.run = run
        self.state = state

    @property
    def _ending_lock(self) -> threading.Lock:
        """The lock under which the run's end begins, and what is added to the run is."""
        return self.state.lock

    def _refuse_ending(self, what: str) -> None:
        """(Under ``_ending_lock``.) The run is ending (another thread finished or failed it
        meanwhile): what ``what`` adds would not be recorded, so it is refused."""
        if self.state.ending:
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
        state = self.state
        with state.lock:
            if state.by == me:
                return False
            if state.ending:
                raise _EndClaimed(
                    f"{what}: the run is being ended already (in another thread); this call "
                    "records nothing"
                )
            state.ending, state.by = True, me
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
        state = self.state
        with state.lock:
            state.by, state.ending = None, state.ending and recorded

    def _end_taking(self) -> list[_Output]:
        """The run's end begins: nothing is added from now on; its outputs."""
        with self.state.lock:
            self.state.ending = True
            return list(self.run._declared.outputs)
