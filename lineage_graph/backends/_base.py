"""The engine seam: every engine implements this small interface and nothing more.

A backend runs one Cypher statement per call, each call one atomic unit of work, and returns rows
as plain dicts of plain values (ints, floats, strings, bools, lists, maps: never engine node
objects). Repositories above the seam never see a driver type or a driver exception.
"""

from __future__ import annotations

import contextlib
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

__all__ = ["Backend", "Dialect", "IndexSpec", "Row", "SchemaSpec", "Staging", "Statement"]

Row = dict[str, Any]
Dialect = Literal["neo4j", "falkordb"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_identifier(name: str) -> str:
    """Labels and property keys used in DDL come from the models' closed set; prove it."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a schema identifier: {name!r}")
    return name


@dataclass(frozen=True)
class IndexSpec:
    """An index (or a uniqueness constraint) on ``label(properties...)``.

    ``checked_by_writes``: the store's one write statement (``graph/write``) checks this key's
    uniqueness itself on an engine that runs one write at a time per graph (FalkorDB), so such
    an engine needs only the index. Engines with concurrent write transactions (Neo4j) still
    create the constraint.
    """

    label: str
    properties: tuple[str, ...]
    unique: bool = False
    checked_by_writes: bool = False

    def __post_init__(self) -> None:
        check_identifier(self.label)
        for prop in self.properties:
            check_identifier(prop)

    @property
    def name(self) -> str:
        kind = "uniq" if self.unique else "idx"
        return f"lg_{kind}_{self.label}_{'_'.join(self.properties)}".lower()


@dataclass(frozen=True)
class SchemaSpec:
    """Everything an engine must index or constrain, derived from the models."""

    indexes: Sequence[IndexSpec] = field(default_factory=tuple)
    #: The property keys the library's statements write under fixed names (written out in
    #: their text); an engine that must know a key before a statement uses it registers
    #: them (:meth:`Backend.ensure_property_keys`).
    property_keys: Sequence[str] = field(default_factory=tuple)


#: Guards the start and end of :meth:`Backend.record` blocks (threads may record at once).
_RECORDERS = threading.Lock()


@dataclass(frozen=True)
class Statement:
    """One statement a backend ran while :meth:`Backend.record` was recording.

    ``seconds`` is the client's wall time for it (the round trips, the engine, encoding the
    parameters and reading the reply); ``engine_seconds`` is what the engine reports it spent
    (FalkorDB: the reply's "Query internal execution time"; Neo4j: the summary's
    ``result_available_after`` + ``result_consumed_after``, in whole milliseconds), None when it
    reports nothing. ``round_trips``: network round trips it took (FalkorDB: one per request,
    two for a read retried after a restart, four for the settle step; Neo4j: two, the
    transaction's pipelined BEGIN, RUN and PULL, then its COMMIT).
    """

    name: str
    write: bool
    seconds: float
    engine_seconds: float | None
    round_trips: int = 1


class Backend(ABC):
    """One engine. Construct through :func:`lineage_graph.backends.open_backend`."""

    #: Which ``cypher/<dialect>/`` overrides apply to this engine.
    dialect: ClassVar[Dialect]
    #: The logs of the :meth:`record` blocks running now (none: nothing is timed).
    _recording: tuple[list[Statement], ...] = ()

    @contextlib.contextmanager
    def record(self) -> Iterator[list[Statement]]:
        """Record every statement this backend runs while the block runs, in order: where the
        time of a call goes (round trips, engine, client). ``bench/compare.py`` uses it for its
        per-row breakdown. Blocks may nest; the statements of other threads using this backend
        meanwhile are recorded too."""
        log: list[Statement] = []
        with _RECORDERS:
            self._recording = (*self._recording, log)
        try:
            yield log
        finally:
            with _RECORDERS:
                self._recording = tuple(r for r in self._recording if r is not log)

    def _recorded(self, statement: Statement) -> None:
        for log in self._recording:
            log.append(statement)

    @abstractmethod
    def read(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        name: str = "",
        primary: bool = False,
    ) -> list[Row]:
        """Run a read-only statement. ``name`` is the query's registry name, for error messages.
        ``primary``: read where writes are made (a cluster's leader), not from a follower: the
        read-back of a write whose reply was lost, which no bookmark makes a follower wait for
        (an engine without followers ignores it)."""

    @abstractmethod
    def write(
        self, query: str, params: Mapping[str, Any] | None = None, *, name: str = ""
    ) -> list[Row]:
        """Run one statement as one atomic transaction (retried on transient engine faults)."""

    @abstractmethod
    def ensure_schema(self, spec: SchemaSpec) -> None:
        """Create the indexes and uniqueness constraints of ``spec`` (idempotent)."""

    @abstractmethod
    def ensure_property_keys(self, keys: Iterable[str], *, fixed: bool = False) -> None:
        """Make sure the engine knows these property keys before a statement writes them
        (FalkorDB: see its backend; a no-op where creating a key is never undone). ``fixed``:
        the library's own keys (an engine with a key limit keeps a reserve for them)."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Engine facts for ``lineage-graph doctor`` (kind, version, location). No secrets."""

    @abstractmethod
    def close(self) -> None:
        """Release connections (and stop an embedded server this process owns)."""

    def stage(self) -> Staging | None:
        """A new, empty graph beside this backend's, which can later replace it in one atomic
        step: how a bulk load of many statements becomes all or nothing. From this call on,
        a write to this backend's graph by anyone makes :meth:`Staging.publish` fail. None
        where the engine cannot swap a whole graph (Neo4j: one database per store)."""
        return None

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Staging(ABC):
    """A graph being filled beside a backend's own (:meth:`Backend.stage`). Use as a context
    manager: leaving the block without :meth:`publish` discards the staged graph."""

    #: The staged graph's backend: write the new content through it.
    backend: Backend

    @abstractmethod
    def keep_alive(self) -> None:
        """Tell the engine the load is alive: a staged graph left by a process that died is
        dropped by the engine after a while, never published."""

    @abstractmethod
    def publish(self, verify: Callable[[Backend], None]) -> None:
        """Put the staged graph in place of the backend's, in one atomic step, after
        ``verify(staged backend)`` returned: raises :class:`FailedPreconditionError` (and
        changes nothing) when the backend's graph was written since :meth:`Backend.stage`, or
        the staged graph since ``verify`` started."""

    @abstractmethod
    def discard(self) -> None:
        """Drop the staged graph (best effort; idempotent; nothing after :meth:`publish`)."""

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
