"""One import's claim on (target store, MLMD source) (:class:`_Claim`): a second import of the
same MLMD store into the same store is refused while the first runs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from typing import Any

from .._repositories._base import Repository
from ..exceptions import (
    FailedPreconditionError,
    LineageGraphError,
)
from ..store import LineageStore

#: How often an import into a staged graph renews the graph's time to live (far below it), and
#: an import that writes into the target renews its claim on the MLMD store (:class:`_Claim`).
KEEP_ALIVE_S = 30.0

#: How long an import's claim on its MLMD store holds unless renewed (a process that died on
#: this host frees it at once: :func:`_dead_here`).
CLAIM_TTL_S = 600.0


#: The claims imports running in this process hold (their owners).
_HELD: set[str] = set()


def _dead_here(owner: str) -> bool:
    """Whether the claim holder ``owner`` (``host|pid|token``) is an import of this host that
    no longer runs: its claim is then taken over at once rather than when it lapses. One of this
    process that has ended (its engine died under it, so nothing released its claim) is dead:
    the same process trying again was refused for the claim's whole life."""
    host, _, rest = owner.partition("|")
    pid = rest.partition("|")[0]
    if host != socket.gethostname() or not (pid.isascii() and pid.isdigit()):
        return False  # (not "²", which int() refuses)
    if int(pid) == os.getpid():
        return owner not in _HELD
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # another user's process: alive; no such pid: not ours
        return False
    return False


class _Claim:
    """One import's claim on (target store, MLMD source): an ``ImportClaim`` node in the target.

    Two imports of the same MLMD store into the same store at once each read which nodes were
    copied before (none yet) and then both copied everything: MLMD's artifacts and executions
    without a name (no unique key here) were duplicated (measured: two concurrent ``import-mlmd
    --merge`` of 4,000 artifacts left 8,000 copies). The second import is now refused with
    :class:`FailedPreconditionError` before it reads or writes anything; it can be run again
    once the first has finished (it then updates the copies in place).

    The claim lapses after :data:`CLAIM_TTL_S` unless renewed: an import writing into the
    target renews it as it reports progress; a staged import does not (a write to the target
    would fail its publication), and needs not: a concurrent write to the target, another
    import's claim included, already makes it fail with nothing imported. A claim whose holder
    died on this host is taken over at once."""

    def __init__(self, store: LineageStore, source_key: str) -> None:
        self.backend = store.backend
        self.source = source_key
        self.owner = f"{socket.gethostname()}|{os.getpid()}|{secrets.token_hex(8)}"
        self.renewing = True
        self.renewed = 0.0

    def _write(self, stale: str | None) -> dict[str, Any]:
        rows = Repository(self.backend).write(
            "imports/claim",
            source=self.source,
            owner=self.owner,
            stale=stale,
            ttl_ms=int(CLAIM_TTL_S * 1000),
        )
        if not rows:  # pragma: no cover - every opened store has its record
            raise FailedPreconditionError("the target store has no store record: open it first")
        self.renewed = time.monotonic()
        return dict(rows[0])

    def take(self) -> None:
        _HELD.add(self.owner)  # before the write: running, this claim is never taken over
        try:
            row = self._write(None)
            if not row["free"] and _dead_here(str(row["owner"])):
                row = self._write(str(row["owner"]))
        except BaseException:  # (if it was written, this process takes it over next time)
            _HELD.discard(self.owner)
            raise
        if not row["free"]:
            _HELD.discard(self.owner)
            host, _, rest = str(row["owner"]).partition("|")
            left = max(0, int(row["left_ms"]) // 1000)
            raise FailedPreconditionError(
                f"another import of this MLMD store into this store is running (process "
                f"{rest.partition('|')[0]} on {host}): nothing was imported. Run it again once "
                f"that one has finished (with --merge / merge=True: it then updates the copies "
                f"in place); if that process has died, its claim lapses within {left} s"
            )

    def keep(self) -> None:
        """Renew the claim (at most every KEEP_ALIVE_S); fail if it lapsed and another import
        took it, before this one writes anything more."""
        if not self.renewing or time.monotonic() - self.renewed < KEEP_ALIVE_S:
            return
        if not self._write(None)["free"]:
            raise FailedPreconditionError(
                f"this import stalled for over {CLAIM_TTL_S:.0f} s and another import of the "
                "same MLMD store took its claim: stopped. Run the merge again once that one "
                "has finished: it completes what this one wrote"
            )

    def release(self) -> None:
        _HELD.discard(self.owner)  # left behind (the engine is gone), it is a dead one's
        with contextlib.suppress(LineageGraphError):
            Repository(self.backend).write(
                "imports/release_claim", source=self.source, owner=self.owner
            )
