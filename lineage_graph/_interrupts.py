"""Holding a Ctrl-C (SIGINT) through a block that must not be cut short: the close of a store,
the start of an open's server, the CLI's imports. Standard library only: the CLI imports it
before anything heavy."""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # (no stub: see _getsignal)
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["interrupt_held", "interrupts_kept"]


#: Marks the SIGINT handler of :func:`interrupt_held` (a nested hold is no second hold).
_HOLD_MARK = "_lineage_graph_interrupt_hold"

#: ``signal.getsignal`` / ``signal.signal`` without their wrappers, which look every handler up
#: as a ``signal.Handlers`` member: for a Python handler a failed enum lookup (a ValueError
#: raised and caught), 13 us of client time per write for the four calls of a hold, 3 us
#: unwrapped. A hold swaps only callable handlers (SIG_DFL and SIG_IGN are left as they are),
#: which the wrappers pass through unchanged.
_getsignal: Callable[[int], Any] = _signal.getsignal
_setsignal: Callable[[int, Any], Any] = _signal.signal


@contextlib.contextmanager
def interrupt_held() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) that arrives in the block until it ends, then deliver it. The
    close of a store decides whether it is the server's last client and stops the server: a
    KeyboardInterrupt raised there (a CLI run interrupted after it had printed its output) left
    the store marked closed with its directory's server running, which nothing stopped after
    the process had exited (not even the close at exit). A second Ctrl-C in the block is
    delivered at once (a close that waits for a stopping server can still be left).
    In the main thread only, and only where Python handles SIGINT (a handler of its own; not
    ignored, not the system default)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = _getsignal(signal.SIGINT)
    if not callable(previous) or getattr(previous, _HOLD_MARK, False):
        # (Already held by an enclosing block, a close sending its commands: a second hold
        # passed the user's second Ctrl-C up as the outer hold's first, and the close ran on.)
        yield
        return
    held: list[Any] = []

    def hold(signum: int, frame: Any) -> None:
        if held:  # the second one: the user insists
            _setsignal(signal.SIGINT, previous)
            held.clear()
            previous(signum, frame)
            return
        held.append(frame)

    setattr(hold, _HOLD_MARK, True)

    try:
        _setsignal(signal.SIGINT, hold)
    except ValueError:  # not the main interpreter
        yield
        return
    try:
        yield
    finally:
        if _getsignal(signal.SIGINT) is hold:
            _setsignal(signal.SIGINT, previous)
        if held:
            previous(signal.SIGINT, held.pop())


@contextlib.contextmanager
def interrupts_kept() -> Iterator[None]:
    """Keep every Ctrl-C (SIGINT) of the block: one whose KeyboardInterrupt Python had to
    ignore is raised again where the interrupted code goes on, and one handled in the block
    does not make the process die by SIGINT after it. The CLI's whole run (:func:`main`).

    A KeyboardInterrupt raised (by the SIGINT handler, in whatever Python code runs) inside a
    weakref callback, a ``__del__`` or another finalizer is "Exception ignored in ..." for
    Python: importlib's module locks are freed by a weakref callback, and a Ctrl-C landing in
    it during the demo's import of scikit-learn was lost, the demo ran to its end (exit 0).
    Here ``sys.unraisablehook`` takes it and has it delivered once the finalizer has returned:
    a one-shot profile function calls the SIGINT handler at the next call or return outside
    the hook (the handler of the moment: an :func:`interrupt_held` block holds it as it holds
    any). Another lost one in the next finalizer is kept the same way.

    CPython marks a KeyboardInterrupt leaving ``exec`` of a string as unhandled (its
    ``run_eval_code_obj``, in Python/pythonrun.c), even one the caller then handles, and a
    process run by ``python -m`` (Modules/main.c) whose mark is still set at the end kills
    itself with SIGINT: a Ctrl-C landing in scipy's ``exec("from numpy import *")`` (under
    scikit-learn's import) said ``error: interrupted`` and the process then died by SIGINT, as
    if a second Ctrl-C had been left unhandled. The mark is cleared as the block ends (the
    next ``exec`` of a string clears it first); one that the CLI leaves unhandled after the
    block (a second Ctrl-C) sets it again, as it should. The console script, ended by
    SystemExit through Python's own ``Py_Exit``, never read the mark."""
    previous = sys.unraisablehook

    def keep(unraisable: Any) -> None:
        if (
            threading.current_thread() is threading.main_thread()
            and isinstance(unraisable.exc_value, KeyboardInterrupt)
            and sys.getprofile() is None
        ):
            sys.setprofile(deliver)
            return
        previous(unraisable)

    def deliver(frame: Any, event: str, arg: Any) -> None:
        if frame.f_code is keep.__code__:
            return  # the hook returning (to the finalizer's caller, in C)
        sys.setprofile(None)
        handler = _getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)

    sys.unraisablehook = keep
    try:
        yield
    finally:
        try:
            if sys.getprofile() is deliver:  # lost as the block ended: delivered here
                deliver(sys._getframe(), "return", None)
        finally:
            if sys.unraisablehook is keep:
                sys.unraisablehook = previous
            exec("")  # clears CPython's "unhandled KeyboardInterrupt" mark (see above)
