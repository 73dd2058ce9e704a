"""``MetadataStore``: ml_metadata's Python API (1.17.1) on a :class:`~lineage_graph.LineageStore`.

Every method is a thin delegation: convert the protos (:mod:`._convert`), call the native store
(or :mod:`._listing` / :mod:`._lineage`), convert back. Native errors become
``ml_metadata.errors`` in exactly one place, :func:`_mlmd_errors`. A write's checks in MLMD's
order are in their own modules: the nodes' against their types (:mod:`._node_checks`), a new
node's key taken (:mod:`._taken_keys`), the events (:mod:`._event_checks`), MLMD's rules of the
models written (:mod:`._write_rules`); the type writes (:mod:`._put_types`), put_contexts'
models (:mod:`._put_contexts`) and the two composite writes, :mod:`._put_execution` and
:mod:`._put_subgraph`.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, TypeVar

import pydantic
from ml_metadata import errors as _errors
from ml_metadata.metadata_store.metadata_store import ExtraOptions, ListOptions
from ml_metadata.proto import metadata_store_service_pb2

from .. import exceptions as native
from .._gc import gc_paused
from .._repositories.nodes import MlmdGiven
from ..models import (
    Artifact,
    Context,
    Event,
    Execution,
    NodeKind,
)
from ..store import LineageStore
from . import _config, _convert, _lineage, _put_contexts, _put_execution, _put_subgraph, _put_types
from ._event_checks import refuse_stored_events
from ._node_checks import NodeChecks
from ._write_rules import mlmd_write, node_models

__all__ = ["MAX_NUM_RESULT", "MetadataStore"]

errors: Any = _errors
P = ParamSpec("P")
R = TypeVar("R")
#: Page size of the list calls, as in ml_metadata's Python client.
MAX_NUM_RESULT = 100

_ERROR_CODES: list[tuple[type[Exception], int]] = [
    (native.InvalidArgumentError, errors.INVALID_ARGUMENT),
    (native.NotFoundError, errors.NOT_FOUND),
    (native.AlreadyExistsError, errors.ALREADY_EXISTS),
    # a stored value the library would not have written: MLMD's InternalError, as for a
    # property row it cannot read ("Attempt to populate property with null value ...")
    (native.StoredValueError, errors.INTERNAL),
    (native.FailedPreconditionError, errors.FAILED_PRECONDITION),
    (native.OutOfRangeError, errors.OUT_OF_RANGE),
    (native.ConfigurationError, errors.INVALID_ARGUMENT),
    (native.EngineUnavailableError, errors.UNAVAILABLE),
    (native.EngineError, errors.INTERNAL),
    (pydantic.ValidationError, errors.INVALID_ARGUMENT),
    (native.LineageGraphError, errors.UNKNOWN),
]


class _UnsetConfigError(errors.InvalidArgumentError, RuntimeError):  # type: ignore[misc]
    """MLMD raises ``RuntimeError("Unset")`` for a ConnectionConfig that sets no database (its
    own tests check the class): the adapter's error is both."""


class _BadSqliteUriError(errors.InvalidArgumentError, RuntimeError):  # type: ignore[misc]
    """MLMD raises ``RuntimeError`` for a SQLite URI its SQLite refuses ("no such access mode",
    "invalid uri authority"): the adapter's error is both."""


class _NotAConfigError(errors.InvalidArgumentError, ValueError):  # type: ignore[misc]
    """MLMD raises ``ValueError`` for a config that is not one: the adapter's error is both."""


class _MissingStoreError(errors.NotFoundError, RuntimeError):  # type: ignore[misc]
    """MLMD raises ``RuntimeError`` for a SQLite database its connection mode cannot create
    (TFX's tests check the class): the adapter's error is both."""


class _SchemaVersionError(errors.FailedPreconditionError, RuntimeError):  # type: ignore[misc]
    """MLMD raises ``RuntimeError`` for a database whose schema version it cannot use (older
    and not migrated, e.g. opened read-only; or newer): the adapter's error is both."""


_CONFIG_ERRORS: dict[type[Exception], type[errors.StatusError]] = {
    native.SchemaVersionError: _SchemaVersionError,
    _config.UnsetConfigError: _UnsetConfigError,
    _config.NotAConfigError: _NotAConfigError,
    _config.BadSqliteUriError: _BadSqliteUriError,
    _config.MissingStoreError: _MissingStoreError,
}


def _writes(method: Callable[P, R]) -> Callable[P, R]:
    """A write: refused on a store opened read-only (SQLite's ``READONLY`` connection mode), as
    MLMD's SQLite refuses it (InternalError "attempt to write a readonly database"), before
    anything is checked or written."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        adapter = args[0]
        assert isinstance(adapter, MetadataStore)
        if adapter._read_only:
            raise errors.make_exception(
                f"attempt to write a readonly database: {method.__name__} on a store opened "
                "read-only (connection_mode READONLY, or a file: URI's mode=ro)",
                errors.INTERNAL,
            )
        return method(*args, **kwargs)

    return wrapper


def _mlmd_error(exc: Exception) -> Exception | None:
    """The ``ml_metadata.errors`` exception for a native one (None: not ours to translate)."""
    for cls, code in _ERROR_CODES:
        if isinstance(exc, cls):
            message = str(exc)
            if isinstance(exc, pydantic.ValidationError):
                message = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors()
                )
            if isinstance(exc, native.EngineUnavailableError) and exc.new_ids:
                # A write in doubt: its notes say which ids it would have created, the one way
                # to find what it stored if it was applied (MLMD's caller gets no reply).
                message = "\n".join([message, *getattr(exc, "__notes__", ())])
            error: Exception = errors.make_exception(message, code)
            if isinstance(exc, native.EngineUnavailableError):
                error.new_ids = exc.new_ids  # type: ignore[attr-defined]
                error.in_doubt_result = exc.in_doubt_result  # type: ignore[attr-defined]
            return error
    return None


def _mlmd_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Raise ``ml_metadata.errors.*`` instead of the native exceptions (the one mapping)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        adapter = args[0]
        assert isinstance(adapter, MetadataStore)
        if adapter._closed:
            # as the store itself refuses once closed: an in-memory store shared by its SQLite
            # name stays open for the other adapters, and a closed one went on using it
            raise errors.make_exception("the store is closed", errors.INTERNAL)
        try:
            return method(*args, **kwargs)
        except (native.LineageGraphError, pydantic.ValidationError) as exc:
            mapped = _mlmd_error(exc)
            if mapped is None:  # pragma: no cover - every native error has a code
                raise
            raise mapped from exc

    return wrapper


#: ml_metadata's request messages (generated code, untyped).
_SERVICE: Any = metadata_store_service_pb2


def _ids(values: Iterable[int]) -> list[int]:
    """Ids as ml_metadata's client takes them into its request (a repeated int64): what is not
    an int is ``TypeError``, one outside int64 ``ValueError``, as there."""
    request = _SERVICE.GetArtifactsByIDRequest()
    for value in values:
        request.artifact_ids.append(value)
    return [int(i) for i in request.artifact_ids]


def _ids_given(values: Iterable[int] | None) -> list[int]:
    """Ids as ml_metadata's client gives them to its request's constructor
    (``get_artifacts_and_types_by_artifact_ids``): ``None`` is no id (an empty answer, where
    :func:`_ids`, which iterates them, raises TypeError); a bad id fails as in :func:`_ids`."""
    request = _SERVICE.GetArtifactsByIDRequest(artifact_ids=values)
    return [int(i) for i in request.artifact_ids]


def _text(value: str) -> str:
    """A name as ml_metadata's client sets it on its request (a string field): ``None`` or a
    number is ``TypeError``, UTF-8 ``bytes`` are taken, as there."""
    request = _SERVICE.GetArtifactTypeRequest()
    request.type_name = value
    return str(request.type_name)


def _version(value: str | None) -> str | None:
    """A ``type_version`` as ml_metadata's client takes it: set on its request only when truthy
    (``None`` and ``""`` name the unversioned type), then as a string field (:func:`_text`)."""
    return _text(value) if value else None


def _mask_paths(paths: Sequence[str] | None) -> Sequence[str] | None:
    """``field_mask_paths`` as ml_metadata's client appends them to its request's update mask
    (a repeated string: a number is ``TypeError``, UTF-8 ``bytes`` are taken). A lone string,
    which the client would take letter by letter as paths naming nothing, is left for the
    native store to refuse (InvalidArgumentError)."""
    if not paths or isinstance(paths, str):
        return paths
    request = _SERVICE.PutArtifactsRequest()
    for path in paths:
        request.update_mask.paths.append(path)
    return [str(p) for p in request.update_mask.paths]


def _uri(value: str) -> str:
    """A uri as ml_metadata's client appends it to its request (a repeated string)."""
    request = _SERVICE.GetArtifactsByURIRequest()
    request.uris.append(value)
    return str(request.uris[0])


# ------------------------------------------------------------------------------- listing

#: ``ListOperationOptions.OrderByField.Field`` numbers (unset: ID, the proto's default).
_ORDER_BY = {1: "create_time", 2: "last_update_time", 3: "id"}


def _check_limit(options: ListOptions | None) -> int | None:
    """The rows to read for the limit ``options`` asks for (None: all), checked as ml_metadata's
    client checks it: ``if limit and limit < 1`` first (a negative or fractional one below 1 of
    any type is InvalidArgumentError, one that does not compare with 1 that comparison's
    TypeError), a falsy one (``0``, ``0.0``, ``""``) lists everything, and an integer as a proto
    int field takes it (``__index__``: a numpy integer is one) is the limit. Another (a float)
    is put on the request's ``max_result_size`` only once fewer than :data:`MAX_NUM_RESULT`
    rows are left to fetch: below it that is TypeError on the first request, once the other
    options are set on it (:func:`_list_nodes`); from it the answer depends on the rows
    (:func:`_client_rows`), of which at most ``limit + 1`` are read (all for NaN or infinity,
    which the client never puts on the request: it lists everything)."""
    if options is None:
        return None
    limit = options.limit
    if limit and limit < 1:
        raise native.InvalidArgumentError(
            "Invalid list_options.limit value passed. list_options.limit is expected to be "
            "greater than 1"
        )
    if not limit:
        return None
    if _is_integer(limit):
        return operator.index(limit)
    try:
        return math.floor(limit) + 1
    except (TypeError, ValueError, OverflowError):  # NaN, infinity: never on the request
        return None


def _is_integer(value: Any) -> bool:
    """Whether a proto int field takes ``value`` as it is (``__index__``)."""
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _limit_field(value: Any) -> int:
    """``value`` put on a request's ``max_result_size`` (an int32), as ml_metadata's client
    puts its remaining limit: what is not an integer is TypeError there."""
    request = _SERVICE.GetArtifactsRequest()
    request.options.max_result_size = value
    return int(request.options.max_result_size)


def _client_rows(limit: Any, total: int) -> int:
    """How many of ``total`` rows ml_metadata's client returns for a ``limit`` that is no
    integer (a float of at least :data:`MAX_NUM_RESULT`, NaN, infinity), replaying its loop
    (``_call_method_with_list_options``): pages of 100, each taking that many off the limit,
    until the limit is used up or no row is left; the page that would ask for fewer than 100
    puts the rest of the limit on the request, TypeError for a float. So ``150.0`` lists 100
    rows (or fewer) and fails on more, ``200.0`` lists up to 200, ``inf`` lists everything.
    (``total``: every row, or at least ``limit + 1`` of them, see :func:`_check_limit`.)"""
    return_size = limit
    got = 0
    while True:
        size = MAX_NUM_RESULT
        if return_size and return_size < MAX_NUM_RESULT:
            size = _limit_field(return_size)
        page = min(size, total - got)
        got += page
        if return_size:
            return_size = return_size - page
            if return_size <= 0:
                break
        if got >= total:
            break
    return got


def _request_options(options: ListOptions) -> Any:
    """The ``ListOperationOptions`` ml_metadata's client builds from ``options`` (its
    ``_call_method_with_list_options``, after the limit check): ``is_asc`` is set on a proto
    bool (``None``, a float or a string is ``TypeError``, not a descending order), ``order_by``
    is read as ``order_by.value`` when truthy (a bare number or name is ``AttributeError``) and
    ``filter_query`` set on a proto string when truthy (a number is ``TypeError``; UTF-8
    ``bytes`` are taken), so a field of the wrong type fails or passes as there."""
    request = _SERVICE.GetArtifactsRequest()
    request.options.order_by_field.is_asc = options.is_asc
    # ml_metadata's client tests ``if list_options.order_by``: 0 (FIELD_UNSPECIFIED) is unset
    if options.order_by:
        request.options.order_by_field.field = options.order_by.value
    if options.filter_query:
        request.options.filter_query = options.filter_query
    return request.options


def _order_by(kind: NodeKind, request: Any) -> str:
    """The order a request's ``ListOperationOptions`` name: a truthy ``order_by`` whose value
    is 0 sets FIELD_UNSPECIFIED, which MLMD refuses (after a bad filter, which it reads first)."""
    field = request.order_by_field.field
    if field not in _ORDER_BY:
        from ._filter import compile_filter

        compile_filter(request.filter_query, kind)
        name = request.order_by_field.Field.Name(field)
        raise native.InvalidArgumentError(
            f"Unsupported field: {name} specified in ListOperationOptions"
        )
    return _ORDER_BY[field]


def _list_nodes(
    store: LineageStore,
    kind: NodeKind,
    options: ListOptions,
    limit: int | None,
    context_id: int | None = None,
) -> list[Artifact | Execution | Context]:
    """Nodes a ``ListOptions`` selects, in its order, at most ``limit`` of them."""
    from ._listing import ListQuery, list_nodes

    request = _request_options(options)
    if options.limit and not _is_integer(options.limit) and options.limit < MAX_NUM_RESULT:
        # the client's first request takes the limit after is_asc, order_by and the filter: a
        # bare order_by (AttributeError) or is_asc=None fails first
        _limit_field(options.limit)
    # ml_metadata's client fetches pages of MAX_NUM_RESULT until ``limit``; the answer is the
    # same from one query here, which costs one scan instead of one per 100 ids (measured: 215
    # queries for a filter matching 21k artifacts), and returns the nodes themselves.
    try:
        query = ListQuery(
            kind=kind,
            filter_query=request.filter_query,
            order_by=_order_by(kind, request),
            is_asc=request.order_by_field.is_asc,
            context_id=context_id,
            limit=limit,
        )
        nodes, _ = list_nodes(store, query)
    except native.InvalidArgumentError:
        # MLMD lists a context's members before it reads the filter: a context without
        # artifacts (executions), or none at all, answers [] whatever the filter says
        if context_id is None or _has_members(store, kind, context_id):
            raise
        return []
    return nodes


def _has_members(store: LineageStore, kind: NodeKind, context_id: int) -> bool:
    """Whether the context ``context_id`` has an artifact (an execution) of ``kind``."""
    from ._listing import ListQuery, list_node_ids

    ids, _ = list_node_ids(store, ListQuery(kind=kind, context_id=context_id, limit=1))
    return bool(ids)


def _protos(nodes: Iterable[Artifact | Execution | Context]) -> list[Any]:
    return [_convert.node_to_proto(n) for n in nodes]


def _external_ids(external_ids: Iterable[str]) -> list[str]:
    """The external ids a ``*_by_external_ids`` read asks for, as ml_metadata's client puts
    them in its request (``None`` is none, a non-string ``TypeError``, UTF-8 ``bytes`` taken);
    MLMD refuses an empty one."""
    request = _SERVICE.GetArtifactsByExternalIdsRequest(external_ids=external_ids)
    asked = [str(x) for x in request.external_ids]
    if any(not x for x in asked):
        raise native.InvalidArgumentError(
            "Invalid argument because at least one empty external_id exists."
        )
    return asked


def _found(items: list[R], asked: Sequence[object], message: str) -> list[R]:
    """ml_metadata answers NotFoundError, not an empty list, when a non-empty request finds
    nothing (the ``*_by_external_ids`` and ``get_contexts_by_*`` reads)."""
    if asked and not items:
        raise native.NotFoundError(message)
    return items


def _newest_first(nodes: Iterable[Execution]) -> list[Execution]:
    """ml_metadata's default order of ``get_executions_by_context``: CREATE_TIME descending."""
    return sorted(nodes, key=lambda n: (n.create_time_since_epoch or 0, n.id or 0), reverse=True)


# ----------------------------------------------------------------------------- the class


class MetadataStore:
    """Drop-in replacement of ``ml_metadata.metadata_store.MetadataStore`` (1.17.1).

    ``config``: an open :class:`~lineage_graph.LineageStore`, a store target (``"memory"``, a
    directory, ``redis://…``, ``neo4j://…``) or an ml_metadata ``ConnectionConfig``
    (``fake_database`` → in memory; ``sqlite.filename_uri`` → ``<filename>.lineage-graph/``).
    ``enable_upgrade_migration`` is accepted for compatibility: a lineage-graph store migrates
    its schema when opened.
    """

    def __init__(self, config: Any, enable_upgrade_migration: bool = False) -> None:
        del enable_upgrade_migration  # the native store always migrates an older schema
        self._read_only = _config.read_only(config)
        #: Set by close() when this adapter opened the store (a store the caller gave stays
        #: open, and usable here): every call is refused then (:func:`_mlmd_errors`).
        self._closed = False
        try:
            self._store, self._close = _config.open_store(config)
            if not self._read_only:  # a read-only opening writes nothing
                try:
                    _config.ensure_system_types(self._store)
                except BaseException:
                    self._close()
                    raise
        except native.LineageGraphError as exc:
            dual = _CONFIG_ERRORS.get(type(exc))
            mapped = dual(str(exc)) if dual is not None else _mlmd_error(exc)
            raise (mapped or exc) from exc
        self._config = config
        #: The write checks, with the types they have read (:mod:`._node_checks`).
        self._checks = NodeChecks(self._store)
        # MLMD's retry setting, as MLMD keeps it (ml_metadata's own tests read it); the adapter
        # itself does not retry calls.
        retries = getattr(getattr(config, "retry_options", None), "max_num_retries", 0)
        self._max_num_retries = retries if isinstance(retries, int) and retries > 0 else 5

    @property
    def lineage_store(self) -> LineageStore:
        """The native store behind this adapter (for lineage_graph's own API)."""
        return self._store

    @property
    def pipeline_asset(self) -> None:
        """Always None, as in open-source ml_metadata."""
        return None

    def close(self) -> None:
        """Close the store if this adapter opened it (ml_metadata has no close; optional): an
        in-memory store shared by its SQLite name (``cache=shared``) once no other adapter of
        the process uses it, as SQLite frees the database with its last connection. Every
        later call of this adapter is refused (InternalError "the store is closed"), unless
        the store was the caller's."""
        self._close()
        self._closed = not isinstance(self._config, LineageStore)

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------ type writes

    @_mlmd_errors
    @_writes
    def put_artifact_type(
        self,
        artifact_type: Any,
        can_add_fields: bool = False,
        can_omit_fields: bool = False,
        extra_options: ExtraOptions | None = None,
    ) -> int:
        """Inserts or updates an artifact type (MLMD's backward-compatibility rules)."""
        return _put_types.put_type(
            self._store, NodeKind.ARTIFACT, artifact_type, can_add_fields, can_omit_fields
        )

    @_mlmd_errors
    @_writes
    def put_execution_type(
        self,
        execution_type: Any,
        can_add_fields: bool = False,
        can_omit_fields: bool = False,
        extra_options: ExtraOptions | None = None,
    ) -> int:
        """Inserts or updates an execution type."""
        return _put_types.put_type(
            self._store, NodeKind.EXECUTION, execution_type, can_add_fields, can_omit_fields
        )

    @_mlmd_errors
    @_writes
    def put_context_type(
        self,
        context_type: Any,
        can_add_fields: bool = False,
        can_omit_fields: bool = False,
        extra_options: ExtraOptions | None = None,
    ) -> int:
        """Inserts or updates a context type."""
        return _put_types.put_type(
            self._store, NodeKind.CONTEXT, context_type, can_add_fields, can_omit_fields
        )

    # ------------------------------------------------------------------------- type reads

    def _type(self, kind: NodeKind, name: str, version: str | None) -> Any:
        return _convert.type_to_proto(self._store.get_type(kind, name, version or None))

    def _types(self, kind: NodeKind) -> list[Any]:
        return [
            _convert.type_to_proto(t)
            for t in self._store.get_types(kind)
            if t.name not in _config.HIDDEN_TYPE_NAMES[kind]
        ]

    def _types_by_id(self, kind: NodeKind, ids: Iterable[int]) -> list[Any]:
        """In the order asked for, repeats included (as ml_metadata); unknown ids skipped."""
        wanted = _ids(ids)
        found = {t.id: t for t in self._store.get_types_by_id(kind, wanted)}
        return [_convert.type_to_proto(found[i]) for i in wanted if i in found]

    def _types_by_external_ids(self, kind: NodeKind, external_ids: Iterable[str]) -> list[Any]:
        asked = _external_ids(external_ids)
        found = self._store.get_types_by_external_ids(kind, asked)
        # by external id, as MLMD reads them from its unique index (SQLite's byte order of
        # UTF-8, which is code point order), not by type id as the native API returns them
        found = sorted(found, key=lambda t: t.external_id or "")
        types = [_convert.type_to_proto(t) for t in found]
        return _found(types, asked, "No types found for external_ids.")

    @_mlmd_errors
    def get_artifact_type(
        self,
        type_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> Any:
        """Gets an artifact type by name and version (NotFoundError if absent)."""
        return self._type(NodeKind.ARTIFACT, _text(type_name), _version(type_version))

    @_mlmd_errors
    def get_execution_type(
        self,
        type_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> Any:
        """Gets an execution type by name and version (NotFoundError if absent)."""
        return self._type(NodeKind.EXECUTION, _text(type_name), _version(type_version))

    @_mlmd_errors
    def get_context_type(
        self,
        type_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> Any:
        """Gets a context type by name and version (NotFoundError if absent)."""
        return self._type(NodeKind.CONTEXT, _text(type_name), _version(type_version))

    @_mlmd_errors
    def get_artifact_types(self, extra_options: ExtraOptions | None = None) -> list[Any]:
        """Gets all artifact types (the hidden ``mlmd.*`` system types excluded)."""
        return self._types(NodeKind.ARTIFACT)

    @_mlmd_errors
    def get_execution_types(self, extra_options: ExtraOptions | None = None) -> list[Any]:
        """Gets all execution types (the hidden ``mlmd.*`` system types excluded)."""
        return self._types(NodeKind.EXECUTION)

    @_mlmd_errors
    def get_context_types(self, extra_options: ExtraOptions | None = None) -> list[Any]:
        """Gets all context types."""
        return self._types(NodeKind.CONTEXT)

    @_mlmd_errors
    def get_artifact_types_by_id(
        self, type_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets artifact types by id (missing ids are skipped)."""
        return self._types_by_id(NodeKind.ARTIFACT, type_ids)

    @_mlmd_errors
    def get_execution_types_by_id(
        self, type_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets execution types by id (missing ids are skipped)."""
        return self._types_by_id(NodeKind.EXECUTION, type_ids)

    @_mlmd_errors
    def get_context_types_by_id(
        self, type_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets context types by id (missing ids are skipped)."""
        return self._types_by_id(NodeKind.CONTEXT, type_ids)

    @_mlmd_errors
    def get_artifact_types_by_external_ids(
        self, external_ids: Iterable[str], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets all artifact types with matching external ids."""
        return self._types_by_external_ids(NodeKind.ARTIFACT, external_ids)

    @_mlmd_errors
    def get_execution_types_by_external_ids(
        self, external_ids: Iterable[str], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets all execution types with matching external ids."""
        return self._types_by_external_ids(NodeKind.EXECUTION, external_ids)

    @_mlmd_errors
    def get_context_types_by_external_ids(
        self, external_ids: Iterable[str], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets all context types with matching external ids."""
        return self._types_by_external_ids(NodeKind.CONTEXT, external_ids)

    # ------------------------------------------------------------------------ node writes

    @_mlmd_errors
    @_writes
    def put_artifacts(
        self,
        artifacts: Sequence[Any],
        field_mask_paths: Sequence[str] | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> list[int]:
        """Inserts (no id) or updates (id set; only ``field_mask_paths`` if given) artifacts."""
        given: dict[int, MlmdGiven] = {}
        models = node_models(NodeKind.ARTIFACT, artifacts, given)
        mask = _mask_paths(field_mask_paths)
        with self._checks.taken_keys_first(models, mask):
            self._checks.precheck(models, mask=mask)
            with mlmd_write(given=given):
                return self._store.put_artifacts(models, field_mask_paths=mask)

    @_mlmd_errors
    @_writes
    def put_executions(
        self,
        executions: Sequence[Any],
        field_mask_paths: Sequence[str] | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> list[int]:
        """Inserts or updates executions."""
        given: dict[int, MlmdGiven] = {}
        models = node_models(NodeKind.EXECUTION, executions, given)
        mask = _mask_paths(field_mask_paths)
        with self._checks.taken_keys_first(models, mask):
            self._checks.precheck(models, mask=mask)
            with mlmd_write(given=given):
                return self._store.put_executions(models, field_mask_paths=mask)

    @_mlmd_errors
    @_writes
    def put_contexts(
        self,
        contexts: Sequence[Any],
        field_mask_paths: Sequence[str] | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> list[int]:
        """Inserts or updates contexts (a context needs a name unique within its type)."""
        mask = _mask_paths(field_mask_paths)
        given: dict[int, MlmdGiven] = {}
        models = _put_contexts.context_models(self._store, self._checks, contexts, given, mask)
        with self._checks.taken_keys_first(models, mask):
            self._checks.precheck(models, mask=mask)
            with mlmd_write(given=given):
                return self._store.put_contexts(models, field_mask_paths=mask)

    # ------------------------------------------------------------------------ edge writes

    @_mlmd_errors
    @_writes
    def put_events(self, events: Sequence[Any], extra_options: ExtraOptions | None = None) -> None:
        """Inserts events (immutable; both ends must exist)."""
        models: list[Event] = []  # (those read when an error stops the reading)
        try:
            models.extend(_convert.to_event(e) for e in events)
            keys = [(e.artifact_id, e.execution_id, e.type) for e in models]
            if len(set(keys)) < len(keys):  # an event given twice: the first error, as MLMD's
                refuse_stored_events(self._store, models)
            self._store.put_events(models)
        except (native.InvalidArgumentError, native.NotFoundError, pydantic.ValidationError):
            # (an id below 1 cannot be read as a model: ValidationError, InvalidArgumentError
            # once mapped, as MLMD's "No artifact with the given id -1"; after the earlier ones)
            refuse_stored_events(self._store, models)
            raise

    @_mlmd_errors
    @_writes
    def put_attributions_and_associations(
        self,
        attributions: Sequence[Any],
        associations: Sequence[Any],
        extra_options: ExtraOptions | None = None,
    ) -> None:
        """Links artifacts and executions to contexts (an existing link is a no-op)."""
        self._store.put_attributions_and_associations(
            [_convert.to_attribution(a) for a in attributions],
            [_convert.to_association(a) for a in associations],
        )

    @_mlmd_errors
    @_writes
    def put_parent_contexts(
        self, parent_contexts: Sequence[Any], extra_options: ExtraOptions | None = None
    ) -> None:
        """Nests contexts (duplicates: AlreadyExistsError; cycles: InvalidArgumentError)."""
        links = [_convert.to_parent_context(p) for p in parent_contexts]
        # link by link, as MLMD: a missing context, a duplicate or a cycle, whichever comes first
        self._store.put_parent_contexts(links)

    # -------------------------------------------------------------------- composite writes

    @_mlmd_errors
    @_writes
    def put_execution(
        self,
        execution: Any,
        artifact_and_events: Sequence[tuple[Any, Any | None]],
        contexts: Sequence[Any] | None,
        reuse_context_if_already_exist: bool = False,
        reuse_artifact_if_already_exist_by_external_id: bool = False,
        force_reuse_context: bool = False,
        force_update_time: bool = False,
        extra_options: ExtraOptions | None = None,
    ) -> tuple[int, list[int], list[int]]:
        """Atomically upserts an execution, its artifacts and events, and links it and them to
        ``contexts``. An update that changes nothing keeps the node's update time, but for the
        execution's with ``force_update_time`` (as MLMD)."""
        return _put_execution.put_execution(
            self._store,
            self._checks,
            execution,
            artifact_and_events,
            contexts,
            reuse_context_if_already_exist=reuse_context_if_already_exist,
            reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
            force_reuse_context=force_reuse_context,
            force_update_time=force_update_time,
        )

    @_mlmd_errors
    @_writes
    def put_lineage_subgraph(
        self,
        executions: Sequence[Any],
        artifacts: Sequence[Any],
        contexts: Sequence[Any],
        event_edges: Sequence[tuple[int | None, int | None, Any]],
        reuse_context_if_already_exist: bool = False,
        reuse_artifact_if_already_exist_by_external_id: bool = False,
        extra_options: ExtraOptions | None = None,
    ) -> tuple[list[int], list[int], list[int]]:
        """Atomically upserts executions, artifacts and contexts and inserts the events;
        every context gets every execution and artifact of the call."""
        return _put_subgraph.put_lineage_subgraph(
            self._store,
            self._checks,
            executions,
            artifacts,
            contexts,
            event_edges,
            reuse_context_if_already_exist=reuse_context_if_already_exist,
            reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
        )

    # ------------------------------------------------------------------------- node reads

    def _list(
        self, kind: NodeKind, options: ListOptions | None, context_id: int | None = None
    ) -> list[Any]:
        limit = _check_limit(options)
        assert options is not None
        with gc_paused():  # a listing may return every node of a kind (lineage_graph/_gc.py)
            nodes = _list_nodes(self._store, kind, options, limit, context_id)
            if options.limit and not _is_integer(options.limit):
                # a float limit (of at least MAX_NUM_RESULT): as the client pages it
                nodes = nodes[: _client_rows(options.limit, len(nodes))]
            return _protos(nodes)

    @_mlmd_errors
    def get_artifacts(
        self, list_options: ListOptions | None = None, extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets artifacts (all in id order, or as ``list_options`` filter, order and limit)."""
        if list_options is None:
            return _protos(self._store.get_artifacts())
        return self._list(NodeKind.ARTIFACT, list_options)

    @_mlmd_errors
    def get_executions(
        self, list_options: ListOptions | None = None, extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets executions (all in id order, or as ``list_options`` say)."""
        if list_options is None:
            return _protos(self._store.get_executions())
        return self._list(NodeKind.EXECUTION, list_options)

    @_mlmd_errors
    def get_contexts(
        self, list_options: ListOptions | None = None, extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets contexts (all in id order, or as ``list_options`` say)."""
        if list_options is None:
            return _protos(self._store.get_contexts())
        return self._list(NodeKind.CONTEXT, list_options)

    @_mlmd_errors
    def get_artifacts_by_id(
        self, artifact_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets artifacts by id (not index-aligned: missing ids are skipped)."""
        return _protos(self._store.get_artifacts_by_id(_ids(artifact_ids)))

    @_mlmd_errors
    def get_executions_by_id(
        self, execution_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets executions by id (missing ids are skipped)."""
        return _protos(self._store.get_executions_by_id(_ids(execution_ids)))

    @_mlmd_errors
    def get_contexts_by_id(
        self, context_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets contexts by id (missing ids are skipped)."""
        return _protos(self._store.get_contexts_by_id(_ids(context_ids)))

    @_mlmd_errors
    def get_artifacts_and_types_by_artifact_ids(
        self, artifact_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> tuple[list[Any], list[Any]]:
        """Gets artifacts by id and the types they are of."""
        found = self._store.get_artifacts_by_id(_ids_given(artifact_ids))
        # the types in the order the artifacts (in id order) first use them, as MLMD lists them
        type_ids = list(dict.fromkeys(a.type_id for a in found if a.type_id is not None))
        return _protos(found), self._types_by_id(NodeKind.ARTIFACT, type_ids)

    @_mlmd_errors
    def get_artifacts_by_type(
        self,
        type_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> list[Any]:
        """Gets all artifacts of a type (none if the type does not exist)."""
        return _protos(self._store.get_artifacts_by_type(_text(type_name), _version(type_version)))

    @_mlmd_errors
    def get_executions_by_type(
        self,
        type_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> list[Any]:
        """Gets all executions of a type."""
        return _protos(self._store.get_executions_by_type(_text(type_name), _version(type_version)))

    @_mlmd_errors
    def get_contexts_by_type(
        self,
        type_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> list[Any]:
        """Gets all contexts of a type."""
        return _protos(self._store.get_contexts_by_type(_text(type_name), _version(type_version)))

    @_mlmd_errors
    def get_artifact_by_type_and_name(
        self,
        type_name: str,
        artifact_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> Any | None:
        """The artifact of that type and name, or None."""
        found = self._store.get_artifact_by_type_and_name(
            _text(type_name), _text(artifact_name), _version(type_version)
        )
        return None if found is None else _convert.node_to_proto(found)

    @_mlmd_errors
    def get_execution_by_type_and_name(
        self,
        type_name: str,
        execution_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> Any | None:
        """The execution of that type and name, or None."""
        found = self._store.get_execution_by_type_and_name(
            _text(type_name), _text(execution_name), _version(type_version)
        )
        return None if found is None else _convert.node_to_proto(found)

    @_mlmd_errors
    def get_context_by_type_and_name(
        self,
        type_name: str,
        context_name: str,
        type_version: str | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> Any | None:
        """The context of that type and name, or None."""
        found = self._store.get_context_by_type_and_name(
            _text(type_name), _text(context_name), _version(type_version)
        )
        return None if found is None else _convert.node_to_proto(found)

    @_mlmd_errors
    def get_artifacts_by_uri(
        self, uri: str, extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets all artifacts with that uri."""
        uri = _uri(uri)  # a TypeError as in ml_metadata; bytes taken
        if uri == "":
            # MLMD stores an unset uri as "" (and the adapter returns it so): "" names those
            # artifacts too, which the native store keeps without a uri.
            return self._list(NodeKind.ARTIFACT, ListOptions(filter_query="uri = ''"))
        return _protos(self._store.get_artifacts_by_uri(uri))

    @_mlmd_errors
    def get_artifacts_by_external_ids(
        self, external_ids: Iterable[str], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets all artifacts with matching external ids."""
        asked = _external_ids(external_ids)
        found = _protos(self._store.get_artifacts_by_external_ids(asked))
        return _found(found, asked, "No artifacts found for external_ids.")

    @_mlmd_errors
    def get_executions_by_external_ids(
        self, external_ids: Iterable[str], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets all executions with matching external ids."""
        asked = _external_ids(external_ids)
        found = _protos(self._store.get_executions_by_external_ids(asked))
        return _found(found, asked, "No executions found for external_ids.")

    @_mlmd_errors
    def get_contexts_by_external_ids(
        self, external_ids: Iterable[str], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets all contexts with matching external ids."""
        asked = _external_ids(external_ids)
        found = _protos(self._store.get_contexts_by_external_ids(asked))
        return _found(found, asked, "No contexts found for external_ids.")

    # ------------------------------------------------------------------ neighbourhood reads

    @_mlmd_errors
    def get_artifacts_by_context(
        self,
        context_id: int,
        list_options: ListOptions | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> list[Any]:
        """Gets the artifacts attributed to a context."""
        [context_id] = _ids([context_id])  # a TypeError / ValueError as in ml_metadata
        if list_options is None:
            return _protos(self._store.get_artifacts_by_context(context_id))
        return self._list(NodeKind.ARTIFACT, list_options, context_id)

    @_mlmd_errors
    def get_executions_by_context(
        self,
        context_id: int,
        list_options: ListOptions | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> list[Any]:
        """Gets the executions associated with a context (default: newest first, as MLMD)."""
        [context_id] = _ids([context_id])  # a TypeError / ValueError as in ml_metadata
        if list_options is None:
            return _protos(_newest_first(self._store.get_executions_by_context(context_id)))
        return self._list(NodeKind.EXECUTION, list_options, context_id)

    @_mlmd_errors
    def get_contexts_by_artifact(
        self, artifact_id: int, extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets the contexts an artifact is attributed to."""
        [artifact_id] = _ids([artifact_id])  # a TypeError / ValueError as in ml_metadata
        found = _protos(self._store.get_contexts_by_artifact(artifact_id))
        return _found(found, [artifact_id], f"No contexts found for artifact_id: {artifact_id}")

    @_mlmd_errors
    def get_contexts_by_execution(
        self, execution_id: int, extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets the contexts an execution is associated with."""
        [execution_id] = _ids([execution_id])  # a TypeError / ValueError as in ml_metadata
        found = _protos(self._store.get_contexts_by_execution(execution_id))
        return _found(found, [execution_id], f"No contexts found for execution_id: {execution_id}")

    @_mlmd_errors
    def get_parent_contexts_by_context(
        self, context_id: int, extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets the parent contexts of a context."""
        [context_id] = _ids([context_id])  # a TypeError / ValueError as in ml_metadata
        return _protos(self._store.get_parent_contexts_by_context(context_id))

    @_mlmd_errors
    def get_children_contexts_by_context(
        self, context_id: int, extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets the child contexts of a context."""
        [context_id] = _ids([context_id])  # a TypeError / ValueError as in ml_metadata
        return _protos(self._store.get_children_contexts_by_context(context_id))

    @_mlmd_errors
    def get_events_by_artifact_ids(
        self, artifact_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets every event touching the artifacts."""
        events = self._store.get_events_by_artifact_ids(_ids(artifact_ids))
        return [_convert.event_to_proto(e) for e in events]

    @_mlmd_errors
    def get_events_by_execution_ids(
        self, execution_ids: Iterable[int], extra_options: ExtraOptions | None = None
    ) -> list[Any]:
        """Gets every event touching the executions."""
        events = self._store.get_events_by_execution_ids(_ids(execution_ids))
        return [_convert.event_to_proto(e) for e in events]

    # ------------------------------------------------------------------------ lineage read

    @_mlmd_errors
    def get_lineage_subgraph(
        self,
        query_options: Any,
        field_mask_paths: Sequence[str] | None = None,
        extra_options: ExtraOptions | None = None,
    ) -> Any:
        """The lineage subgraph ``query_options`` selects (no 100-hop cap: see the docs)."""
        # read as ml_metadata's client puts it in its request: a message of another class is
        # TypeError, None unset options, and a dict of the options' fields is taken as them
        request = _SERVICE.GetLineageSubgraphRequest(lineage_subgraph_query_options=query_options)
        options = request.lineage_subgraph_query_options
        return _lineage.get_lineage_subgraph(self._store, options, field_mask_paths)
