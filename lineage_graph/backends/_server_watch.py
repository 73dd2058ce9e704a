"""How a silent server is judged: at work, stalled, or hung (:class:`_Watch`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..config import EmbeddedSettings
from ._server_procs import (
    _activity,
    _answers_on,
    ping_client,
    working,
)

_T = TypeVar("_T")


class _Watch:
    """Awaits a server's replies a PING's timeout at a time, and tells a server that is silent
    and idle for ``hang_after_s`` (hung) from one at work (by its activity in ``/proc``)."""

    def __init__(self, settings: EmbeddedSettings) -> None:
        self._settings = settings

    def ping_timeout(self) -> float:
        """How long a PING of a server that starts or is found running is awaited: a quarter
        of ``hang_after_s`` (a silent one is judged hung by :meth:`silence` after it)."""
        return min(5.0, max(0.25, self._settings.hang_after_s / 4))

    def silence(
        self, pid: int, sock: Path, silent_since: float | None, sample: tuple[int, bool] | None
    ) -> tuple[float | None, tuple[int, bool] | None, bool]:
        """Server ``pid`` silent (a PING or a call timed out, or it does not listen yet): since
        when it has been silent and idle (None: at work, or no ``/proc`` to tell), the activity
        sample to compare the next with, and whether it is hung: silent and idle for
        ``hang_after_s``, and no answer to a PING on a fresh connection to ``sock`` either
        (:meth:`ServerProcess.answers`, as a store's failed call checks before it kills its
        server). The one judgement of a hang for a server that starts
        (:meth:`_Starter._check_not_hung`, :meth:`_Starter.allow_rewrites`) or is found running
        (:meth:`_Attacher.loaded`, :meth:`_Attacher._finish_start`)."""
        busy, sample = working(sample, _activity(pid))
        now = time.monotonic()
        if busy or sample is None:
            return None, sample, False
        if silent_since is None:
            return now, sample, False
        if now - silent_since < self._settings.hang_after_s:
            return silent_since, sample, False
        if _answers_on(sock):
            return None, sample, False  # a stall, not a hang: it answers again
        return silent_since, sample, True

    def reply(
        self, pid: int, sock: Path, call: Callable[[Any], _T], patience: float | None = None
    ) -> _T | None:
        """``call(client)`` (an idempotent command) on server ``pid``, its reply awaited as a
        PING's is: a :meth:`ping_timeout` at a time, sent again while the server is at work,
        up to ``patience`` seconds in all, max(5 s, ``startup_timeout_s``) unless given (then
        redis's ``TimeoutError``). None once it is hung (:meth:`silence`): a server stopped
        right there is judged after ``hang_after_s`` when that comes first (at the defaults,
        60 s against 20 s, it does not: the wait ends in the ``TimeoutError``). Other
        RedisErrors are raised."""
        import redis

        if patience is None:
            patience = max(5.0, self._settings.startup_timeout_s)
        deadline = time.monotonic() + patience
        silent_since: float | None = None
        sample: tuple[int, bool] | None = None
        while True:
            client = ping_client(sock, self.ping_timeout())
            try:
                return call(client)
            except redis.exceptions.TimeoutError:
                if time.monotonic() > deadline:
                    raise
                silent_since, sample, hung = self.silence(pid, sock, silent_since, sample)
                if hung:
                    return None
            finally:
                client.close()
