"""The exception tree of lineage-graph.

Every error the library raises derives from :class:`LineageGraphError`. Engine (driver) errors are
mapped to this tree in exactly one place per backend (``backends/_errors.py``), so callers never
need to import ``neo4j`` or ``redis`` to handle a failure.

The tree mirrors the status codes MLMD uses (``InvalidArgument``, ``NotFound``, ``AlreadyExists``,
``FailedPrecondition``…) so the MLMD adapter maps them one to one.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "ConfigurationError",
    "EngineError",
    "EngineNotInstalledError",
    "EngineUnavailableError",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "LineageGraphError",
    "NotFoundError",
    "OutOfRangeError",
    "QueryError",
    "SchemaVersionError",
    "StoredValueError",
]


class LineageGraphError(Exception):
    """Base class of every error raised by lineage-graph."""

    #: True when retrying the same call later may succeed (engine restarting, transient fault).
    retryable: bool = False


class InvalidArgumentError(LineageGraphError, ValueError):
    """The input is malformed or violates the data model. Nothing was written."""


class NotFoundError(LineageGraphError, LookupError):
    """A referenced entity does not exist. Nothing was written."""


class AlreadyExistsError(LineageGraphError):
    """The write would duplicate a unique key (type, context name, event…). Nothing was written."""

    #: Set when a run's new input or output names a stored artifact (by name in its type, or
    #: by external id) whose content is other: ``{field: (stored value, given value)}``, e.g.
    #: ``{"uri": ("s3://a", "s3://b"), "properties.rows": (100, 200)}``.
    differences: dict[str, tuple[object, object]] | None = None


class FailedPreconditionError(LineageGraphError):
    """The store is not in a state that allows the operation."""


class StoredValueError(FailedPreconditionError):
    """A read found a stored value this library would not have written (another tool, a
    hand-made Cypher statement, an older version or a damaged node wrote it around the
    library): a field of the wrong type, a required one missing, an unknown state or event
    type, a property whose encoding does not decode. ``kind`` is what holds it (``"Artifact"``,
    ``"ExecutionType"``, ``"Event"``...), ``id`` its id as stored (an event's: its
    ``(artifact_id, execution_id)``), ``field`` the field (``"uri"``,
    ``"custom_properties.loss"``). Nothing was changed: fix or delete the value to read it."""

    def __init__(self, message: str, kind: str, id: object, field: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.id = id
        self.field = field

    def __reduce__(self) -> tuple[object, ...]:  # pickled whole (a process pool's error)
        return (type(self), (str(self), self.kind, self.id, self.field))


class OutOfRangeError(LineageGraphError, IndexError):
    """An index into the call's own arguments is out of range (MLMD's ``OUT_OF_RANGE``), or a
    kind's ids ran out (the next would pass 2^63 - 1). Nothing was written."""


class ConfigurationError(LineageGraphError):
    """The store cannot be opened with the given settings (bad target, missing credentials)."""


class EngineNotInstalledError(ConfigurationError):
    """The requested engine is not installed; the message says what to install or set."""


class SchemaVersionError(FailedPreconditionError):
    """The store was written by a newer library version, or its migration failed."""


class EngineError(LineageGraphError):
    """The engine reported an error the library does not map more precisely; also a call on a
    store already closed ("the store is closed")."""


class QueryError(EngineError):
    """The engine rejected a query (a library bug, or an engine feature missing)."""


class EngineUnavailableError(EngineError):
    """The engine cannot be reached or died mid-call. Retry: the embedded server is restarted."""

    retryable = True
    #: Set when ``impact(mark=...)``'s write was in doubt (it may have been applied): the token
    #: that :meth:`LineageStore.undo_impact_mark` takes to undo it (NotFoundError if it was not).
    mark_token: str | None = None
    #: Set when a write that creates nodes lost its reply and was not found applied when read
    #: back (a write found applied returns normally): the ids it gave its new nodes, by label
    #: (``"Artifact"``, ``"Execution"``, ``"Context"``). Ids are allocated by the client, so
    #: these are the ids the nodes hold if the write lands after all (a reply timeout: it may
    #: still be running); they are never given to another node.
    new_ids: dict[str, tuple[int, ...]] | None = None
    #: Set with ``new_ids`` by the calls that return ids (``put_*``, ``put_execution``,
    #: ``put_lineage_subgraph``): what the call would have returned had its reply come.
    in_doubt_result: object = None
    #: True when the engine refused the call before running it (an embedded server that cannot
    #: write its append-only log, fsync="everysec" on a full disk): nothing was written, so the
    #: call is not in doubt (no ``new_ids``, no ``mark_token``) and a write's ids were given
    #: back. Retry once the cause is gone.
    nothing_written: bool = False
