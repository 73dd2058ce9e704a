"""``MetadataStore``: ml_metadata's Python API (1.17.1) on a :class:`~lineage_graph.LineageStore`.

Every method is a thin delegation: convert the protos (:mod:`._convert`), call the native store
(or :mod:`._listing` / :mod:`._lineage`), convert back. Native errors become
``ml_metadata.errors`` in exactly one place, :func:`_mlmd_errors`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

import pydantic
from ml_metadata import errors as _errors
from ml_metadata.metadata_store.metadata_store import ExtraOptions, ListOptions
from ml_metadata.proto import metadata_store_pb2, metadata_store_service_pb2

from .. import exceptions as native
from .._gc import gc_paused
from .._repositories.composite import reuse_by_external_id
from .._repositories.graph import MissingReferencesError
from .._repositories.nodes import MlmdGiven, mlmd_write_rules
from .._repositories.types import upgraded
from ..models import (
    Artifact,
    Context,
    Event,
    EventType,
    Execution,
    Node,
    NodeKind,
    NodeType,
    PropertyType,
    kind_of,
)
from ..store import LineageStore
from . import _config, _convert, _lineage

__all__ = ["MAX_NUM_RESULT", "MetadataStore"]

errors: Any = _errors
P = ParamSpec("P")
R = TypeVar("R")
N = TypeVar("N")

#: ``(execution index, artifact index, event)`` of put_lineage_subgraph.
EventEdge = tuple[int | None, int | None, Event]

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


#: ml_metadata's request messages and its protos (generated code, untyped).
_SERVICE: Any = metadata_store_service_pb2
_PB: Any = metadata_store_pb2


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


@contextlib.contextmanager
def _mlmd_write(
    given: dict[int, MlmdGiven] | None = None,
    *,
    forced_contexts: bool = False,
) -> Iterator[None]:
    """A node write with MLMD's rules: an update keeps the stored name of an artifact or an
    execution (MLMD's UPDATE statements have no name column: a name given is ignored, an omitted
    one kept); an update (of a model in ``given``, see :func:`_given`) that changes nothing
    leaves the node as it is, its update time too; and a node to update that does not exist is
    InvalidArgumentError ("Cannot find the given id"), where the native store says
    NotFoundError. ``forced_contexts`` (put_execution's force_reuse_context: the contexts given
    with an id are only linked, by id alone): one that does not exist stays NotFound, as in
    MLMD, which looks them up after its checks of the nodes and events (as the write here)."""
    with mlmd_write_rules(given):
        try:
            yield
        except native.NotFoundError as exc:
            if (
                forced_contexts
                and isinstance(exc, MissingReferencesError)
                and exc.what == "context"
            ):
                raise native.NotFoundError(f"Results missing for ids: {exc.ids}") from exc
            raise native.InvalidArgumentError(str(exc)) from exc


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


def _check_edges(
    edges: Sequence[tuple[int | None, int | None, Any]],
    executions: Sequence[Any],
    artifacts: Sequence[Any],
) -> None:
    """put_lineage_subgraph's edges are checked before anything else, as MLMD does, edge by
    edge: its event is given (None is an unset one in ml_metadata's request), then for its
    execution and then its artifact, the index is in range and, where the event names that
    node's id too, the node at the index is given with that id (MLMD checks the request: a new
    node there is "Missing ... ID" even when the write would give it that id). Read on the
    request's messages: an id given as 0 is given (it matches no node but one given with id 0,
    whose update MLMD then refuses), and an event's type and a node's own fields are checked
    after every edge (MLMD checks the nodes, then each event's type as it writes it)."""
    for i, (e_index, a_index, event) in enumerate(edges):
        if event is None:
            raise native.InvalidArgumentError(f"No event found for event_edge #{i}")
        artifact_id, execution_id = _convert.event_ids(event)
        for index, given, nodes, what in (
            (e_index, execution_id, executions, "execution"),
            (a_index, artifact_id, artifacts, "artifact"),
        ):
            if index is None and given is None:
                raise native.InvalidArgumentError(
                    f"event edge #{i} is missing an {what}: give an {what} index or an "
                    f"event.{what}_id"
                )
            if index is None:
                continue
            if not 0 <= index < len(nodes):
                raise native.OutOfRangeError(
                    f"event edge #{i}: {what} index {index} is outside [0, {len(nodes)})"
                )
            node = nodes[index]
            held = node.id if node.HasField("id") else None
            if given is not None and held is None:
                raise native.InvalidArgumentError(
                    f"Missing {what} ID: event edge #{i} gives event.{what}_id {given}, but the "
                    f"{what} at index {index} is given without an id"
                )
            if given is not None and held != given:
                raise native.InvalidArgumentError(
                    f"{what.title()} ID mismatch: event edge #{i} gives event.{what}_id "
                    f"{given}, but the {what} at index {index} has id {held}"
                )


def _placed(given: Sequence[N], present: Sequence[bool]) -> list[N | None]:
    """``given`` in order at the positions ``present`` marks, None elsewhere."""
    it = iter(given)
    return [next(it) if here else None for here in present]


def _aligned_events(
    execution: Node,
    artifacts: Sequence[Node | None],
    events: Sequence[Any],
    *,
    written: bool,
    stored: Collection[tuple[NodeKind, int]] = (),
) -> list[Event | None]:
    """put_execution's event messages as models, checked pair by pair as MLMD checks them once
    it has written each artifact: an event's execution_id other than the execution's, or
    artifact_id other than its artifact's, is InvalidArgumentError, and then an event without
    a type. An id given as 0 or below is set and names no node: never aligned. A node to be
    written new has no id yet here: with ``written`` False (the write goes on) an id it names
    is left to the write, which compares it with the new id; with ``written`` True (the call is
    refused before the write) any id named for it counts as other (MLMD's new id could match
    it only by chance). ``stored``: ids named for new nodes that stored nodes hold, never a new
    node's (ids are not given twice): other, found here, before the contexts (which the write
    checks before it compares the events' ids)."""
    out: list[Event | None] = []
    for artifact, msg in zip(artifacts, events, strict=True):
        if msg is None:
            out.append(None)
            continue
        artifact_id, execution_id = _convert.event_ids(msg)
        if artifact is None:  # a pair without an artifact: its event names a stored one
            if artifact_id is None:
                raise native.InvalidArgumentError(
                    "If no artifact is present, given event must have an artifact_id"
                )
            if artifact_id < 1:  # MLMD writes an event to it; no node has that id
                raise native.InvalidArgumentError(f"No artifact with the given id {artifact_id}")
        for kind, given, held, error in (
            (
                NodeKind.EXECUTION,
                execution_id,
                execution.id,
                f"Request's event.execution_id {execution_id} does not match with the given "
                "execution",
            ),
            (
                NodeKind.ARTIFACT,
                artifact_id,
                artifact_id if artifact is None else artifact.id,
                f"Given event.artifact_id {artifact_id} is not aligned with the artifact",
            ),
        ):
            if given is None or given == held:
                continue
            if given < 1 or held is not None or written or (kind, given) in stored:
                raise native.InvalidArgumentError(error)
        out.append(_convert.to_event(msg))
    return out


def _declared(t: NodeType, node: Node) -> bool:
    """Whether ``node``'s properties are declared by ``t`` with their kinds (as a write checks)."""
    for name, value in node.properties.items():
        declared = t.properties.get(name)
        try:
            kind = kind_of(value)
        except ValueError:
            return False
        if declared != kind:
            return False
    return True


def _no_int_for_double(t: NodeType, node: Node) -> None:
    """MLMD refuses an ``int_value`` for a DOUBLE property (the native store converts it).
    Safe to check on a cached type that declares every property ``node`` gives (a stored
    property never changes its kind); one that lacks some is read again first (``_precheck``):
    another client may have added them, as DOUBLE."""
    for name, value in node.properties.items():
        if t.properties.get(name) == PropertyType.DOUBLE and type(value) is int:
            raise native.InvalidArgumentError(
                f"Found unmatched property type: {name!r} is DOUBLE in type {t.name!r}, "
                "got an int_value"
            )


def _masked_properties(node: Node, mask: Sequence[str]) -> Node:
    """``node`` (an update) with only the properties and custom properties ``mask`` names, as
    MLMD and the native store check them: a masked update given an undeclared or mistyped
    property the mask leaves out writes the rest (so a later new node's unknown type id is
    NotFoundError, as in MLMD, not the native store's InvalidArgumentError)."""
    named: dict[str, set[str] | None] = {"properties": set(), "custom_properties": set()}
    for path in mask:  # "properties." names nothing (as the native store reads it)
        if path.endswith(".") and "." not in path[:-1]:
            continue
        head, _, rest = path.partition(".")
        if head in named:
            chosen = named[head]
            if not rest:
                named[head] = None
            elif chosen is not None:
                chosen.add(rest)

    def kept(values: dict[str, Any], head: str) -> dict[str, Any]:
        chosen = named[head]
        return values if chosen is None else {k: v for k, v in values.items() if k in chosen}

    return node.model_copy(
        update={
            "properties": kept(node.properties, "properties"),
            "custom_properties": kept(node.custom_properties, "custom_properties"),
        }
    )


def _masked(batch: Sequence[Node], mask: Sequence[str] | None) -> list[Node]:
    """``batch`` with each update's properties cut to those ``mask`` names, as MLMD checks
    them (see :func:`_masked_properties`)."""
    if mask and not isinstance(mask, str):
        return [m if m.id is None else _masked_properties(m, mask) for m in batch]
    return list(batch)


def _type_id_given(node: Node, *, updates_too: bool = False) -> None:
    """MLMD refuses a new node without a type id before it looks any type up (and in
    put_lineage_subgraph an update without one too)."""
    if (node.id is None or updates_too) and node.type_id is None:
        raise native.InvalidArgumentError("Type id is missing.")


def _context_type_id_given(context: Node) -> None:
    """put_execution upserts each context with the type id given, a new one or one given by id
    (MLMD: "Context is missing a type_id", nothing written), where put_contexts updates a
    context given without one on its stored type. Checked past an update too: a context's
    error comes after the other nodes'."""
    if context.type_id is not None:
        return
    if context.id is not None:
        raise native.InvalidArgumentError(f"Context is missing a type_id: id {context.id}")
    raise native.InvalidArgumentError("Type id is missing.")


def _given(
    given: dict[int, MlmdGiven],
    msgs: Iterable[Any],
    models: Sequence[Node],
    *,
    force_update_time: bool = False,
) -> None:
    """Record in ``given`` what each update's proto gave that its model drops, for MLMD's rule
    that an update changing nothing keeps the node's update time (MLMD compares the proto with
    the stored node but for its type id, times and properties; then counts changed properties):
    the output-only ``type`` name, and ``system_metadata`` (not stored: the node differs)."""
    for msg, model in zip(msgs, models, strict=True):
        if msg.HasField("id") and model.id is not None:
            given[id(model)] = MlmdGiven(
                type=msg.type if msg.HasField("type") else None,
                other_fields=msg.HasField("system_metadata"),
                force_update_time=force_update_time,
            )


def _newest_first(nodes: Iterable[Execution]) -> list[Execution]:
    """ml_metadata's default order of ``get_executions_by_context``: CREATE_TIME descending."""
    return sorted(nodes, key=lambda n: (n.create_time_since_epoch or 0, n.id or 0), reverse=True)


# ----------------------------------------------------------------------------- the class


#: The request ml_metadata's client builds for a type of each kind.
_TYPE_REQUEST = {
    NodeKind.ARTIFACT: _SERVICE.PutArtifactTypeRequest,
    NodeKind.EXECUTION: _SERVICE.PutExecutionTypeRequest,
    NodeKind.CONTEXT: _SERVICE.PutContextTypeRequest,
}


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
        #: Type ids known to exist (types are never deleted): checked once, as MLMD reports an
        #: unknown type_id as NotFoundError where the native store says InvalidArgumentError.
        self._known_types: dict[NodeKind, dict[int, NodeType]] = {kind: {} for kind in NodeKind}
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

    def _put_type(self, kind: NodeKind, msg: Any, can_add: bool, can_omit: bool) -> int:
        # as ml_metadata's client builds its request: the flags are proto bools (None is
        # False, 0 and 1 are taken, a float or a string is TypeError), and a type of None is
        # an unset one (InvalidArgumentError: no name)
        # and the type as it sets it there: a dict of its fields is taken as them
        field = f"{kind.value.lower()}_type"
        request = _TYPE_REQUEST[kind](
            can_add_fields=can_add, can_omit_fields=can_omit, **{field: msg}
        )
        can_add, can_omit = request.can_add_fields, request.can_omit_fields
        msg = getattr(request, field)  # (None: an unset type, named by no one)
        try:
            model = _convert.to_type(kind, msg)
        except native.InvalidArgumentError:
            self._check_unknown_properties(kind, msg, can_add, can_omit)  # MLMD's error first
            raise
        if msg.HasField("base_type"):
            self._check_base_type(kind, model, msg.base_type == 0, can_add, can_omit)
        # ml_metadata 1.17.1 ignores a type's id here (it finds the type by name and version;
        # an unknown id or another type's registers or returns that type): so does the adapter,
        # where the native API refuses an id that is not the type's own
        model = model.model_copy(update={"id": None})
        return self._store.put_type(model, can_add_fields=can_add, can_omit_fields=can_omit)

    def _check_unknown_properties(
        self, kind: NodeKind, msg: Any, can_add: bool, can_omit: bool
    ) -> None:
        """MLMD checks a stored type's compatibility before the given property types: a
        property of value type ``UNKNOWN`` given for a type that exists is AlreadyExistsError
        when the request conflicts with the stored type (that property stored with a value
        type, or one added or omitted that the flags do not allow), and InvalidArgumentError
        (from :func:`_convert.to_type`, which has refused ``msg``) only when it would be
        added."""
        names = list(msg.properties)
        if not msg.name or not all(isinstance(n, str) for n in names):
            return  # to_type reports these
        if all(msg.properties[n] != PropertyType.UNKNOWN for n in names):
            return
        try:
            stored = self._store.get_type(kind, msg.name, msg.version or None)
        except native.NotFoundError:
            if isinstance(msg.external_id, str):  # a new type: its external id first
                self._check_external_id_free(kind, msg.external_id, None)
            return
        given = stored.model_construct(
            **{**dict(stored), "properties": {n: PropertyType(msg.properties[n]) for n in names}}
        )
        upgraded(stored, given, can_add, can_omit)  # AlreadyExistsError, as MLMD

    def _check_external_id_free(
        self, kind: NodeKind, external_id: str | None, stored: NodeType | None
    ) -> None:
        """AlreadyExistsError if a type other than ``stored`` (the type being updated; None for a
        new one) holds ``external_id``. MLMD checks it before a property's ``UNKNOWN`` value
        type (of a new type) and before ``base_type``, which the native store checks later."""
        if not external_id:
            return
        for other in self._store.get_types_by_external_ids(kind, [external_id]):
            if stored is None or other.id != stored.id:
                raise errors.make_exception(
                    f"external_id {external_id!r} is taken by type {other.name!r}",
                    errors.ALREADY_EXISTS,
                )

    def _check_base_type(
        self, kind: NodeKind, given: NodeType, cleared: bool, can_add: bool, can_omit: bool
    ) -> None:
        """MLMD's rule, not the native API's: a ``base_type`` given as UNSET is never accepted
        (new type or not), and a set one is never changed. ml_metadata 1.17.1 raises
        UnimplementedError, after its property checks and its check that no other type holds
        the ``external_id`` given (AlreadyExistsError first, new type or not); a
        ``base_type`` left out keeps the stored one, and one set on a type without it is
        stored. Raised here, not mapped from a native error: the native store may change it."""
        try:
            stored = self._store.get_type(kind, given.name, given.version)
        except native.NotFoundError:
            stored = None
        if stored is not None:
            upgraded(stored, given, can_add, can_omit)  # AlreadyExistsError first, as MLMD
        self._check_external_id_free(kind, given.external_id, stored)  # then this one
        if cleared:
            raise errors.make_exception(
                "base_type deletion is not supported yet", errors.UNIMPLEMENTED
            )
        if stored is None or stored.base_type is None or stored.base_type == given.base_type:
            return
        raise errors.make_exception("base_type update is not supported yet", errors.UNIMPLEMENTED)

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
        return self._put_type(NodeKind.ARTIFACT, artifact_type, can_add_fields, can_omit_fields)

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
        return self._put_type(NodeKind.EXECUTION, execution_type, can_add_fields, can_omit_fields)

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
        return self._put_type(NodeKind.CONTEXT, context_type, can_add_fields, can_omit_fields)

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

    def _precheck(
        self,
        batch: Sequence[Node],
        *,
        upfront: bool = False,
        mask: Sequence[str] | None = None,
        typed_context_updates: bool = False,
    ) -> None:
        """What MLMD rejects differently from the native store, in MLMD's order.

        An unknown ``type_id`` is NotFoundError (native: InvalidArgumentError) and an
        ``int_value`` for a DOUBLE property is refused (native: converted). ``batch`` is in
        MLMD's processing order and MLMD reports its first bad node, so unknown types are
        reported up to the first node the native store rejects for another reason (an update's
        missing id, an undeclared property), which it then reports itself. ``upfront``: every
        node's type is looked up first, as ``put_lineage_subgraph`` does. One query per unseen
        type id (types are never deleted). ``mask``: the call's field mask, under which an
        update's properties the mask does not name are neither written nor checked (MLMD).
        ``typed_context_updates`` (put_execution): a context needs its type id, one to update
        too (the native store judges it on its stored type), past an update too."""
        batch = _masked(batch, mask)
        for kind in NodeKind:
            known = self._known_types[kind]
            ids = {m.type_id for m in batch if m.kind == kind and m.type_id is not None}
            if ids - known.keys():
                for found in self._store.get_types_by_id(kind, sorted(ids - known.keys())):
                    known[found.id or 0] = found
        if upfront:
            for m in batch:
                if m.type_id is not None and m.type_id not in self._known_types[m.kind]:
                    raise native.NotFoundError(f"Results missing for type ids: {m.type_id}")
        checking = True  # unknown type ids are reported up to the first node the native
        # store rejects for another reason: it then reports that one itself. Past an update
        # (which may fail: a missing id, another type id) a new node's unknown type is
        # reported only once those updates are read and would pass, as MLMD writes them first
        updates: list[Node] = []  # the updates met while nothing else stopped the checks
        refreshed: set[tuple[NodeKind, int]] = set()
        for m in batch:
            if typed_context_updates and m.kind is NodeKind.CONTEXT:
                _context_type_id_given(m)
            if m.id is not None and not upfront:
                if checking or updates:
                    updates.append(m)
                checking = False
            # (past updates: once they are read and would pass, as for an unknown type below)
            untyped_new = m.id is None and m.type_id is None
            if not upfront and (
                checking or (untyped_new and updates and self._updates_pass(updates))
            ):
                _type_id_given(m)
            if m.type_id is None:
                # an update without its type id: the write judges it on its stored type, an
                # int_value for a DOUBLE property included (mlmd_write_rules)
                continue
            t = self._known_types[m.kind].get(m.type_id)
            if t is None:
                if (m.id is None or upfront) and (
                    checking or (m.id is None and updates and self._updates_pass(updates))
                ):
                    raise native.NotFoundError(f"Cannot find type for type_id: {m.type_id}")
                continue
            t = self._fresh_for(t, m, m.type_id, refreshed)
            _no_int_for_double(t, m)
            if not _declared(t, m) and not upfront:
                checking = False
                updates = []  # the native store reports this node itself

    def _fresh_for(
        self, t: NodeType, node: Node, type_id: int, refreshed: set[tuple[NodeKind, int]]
    ) -> NodeType:
        """``t`` (type ``type_id`` as cached), read again first when it lacks a property
        ``node`` gives: another client may have added it since (at most once per type and
        call, ``refreshed``; a node whose properties ``t`` declares costs nothing)."""
        stale = any(name not in t.properties for name in node.properties)
        if stale and (node.kind, type_id) not in refreshed:
            refreshed.add((node.kind, type_id))
            for found in self._store.get_types_by_id(node.kind, [type_id]):
                self._known_types[node.kind][type_id] = t = found
        return t

    def _cached_type(self, kind: NodeKind, type_id: int) -> NodeType | None:
        """Type ``type_id`` of ``kind`` as cached, read (and cached) when it is not; None when
        no such type is stored. (Read only on the path to an error.)"""
        known = self._known_types[kind]
        if type_id not in known:
            for found in self._store.get_types_by_id(kind, [type_id]):
                known[found.id or 0] = found
        return known.get(type_id)

    def _updates_pass(self, updates: Sequence[Node]) -> bool:
        """Whether MLMD would write every one of ``updates`` (to reach a later node): each
        node exists, keeps its stored type id and gives properties its type declares. (Read
        only on the path to an error.)"""
        for kind in NodeKind:
            given = [m for m in updates if m.kind == kind]
            if not given:
                continue
            ids = sorted({m.id for m in given if m.id is not None})
            nodes: Sequence[Node] = self._store._repository_of(kind).get_by_ids(ids)
            stored = {n.id: n for n in nodes}
            for m in given:
                node = stored.get(m.id)
                if node is None or node.type_id is None:
                    return False
                if m.type_id is not None and m.type_id != node.type_id:
                    return False
                t = self._cached_type(kind, node.type_id)
                if t is not None and not _declared(t, m):
                    # the cached type may lack properties another client added since
                    t = self._fresh_for(t, m, node.type_id, set())
                if t is None or not _declared(t, m):
                    return False
        return True

    def _passes(self, batch: Sequence[Node]) -> bool:
        """Whether ``batch`` passes :meth:`_precheck` (its nodes' own checks)."""
        try:
            self._precheck(batch)
        except (native.InvalidArgumentError, native.NotFoundError):
            return False
        return True

    def _check_events(
        self,
        execution: Node,
        artifacts: Sequence[Node | None],
        event_msgs: Sequence[Any],
        *,
        fold: bool,
    ) -> None:
        """put_execution's events as MLMD inserts them, pair by pair, after it has written the
        artifacts and the execution and before it reaches the contexts: one not aligned with
        its nodes (or without a type) is InvalidArgumentError; one given twice (the same
        artifact, by id, by a stored external id, or new twice with ``fold``, the reuse flag) or
        stored already is AlreadyExistsError, once the updates given would be written. Called
        on the paths to a context's error and to an event's own error, which these come before
        (reads only there)."""
        seen: set[tuple[object, object]] = set()
        first_new: dict[str, int] = {}
        stored: set[tuple[object, object]] | None = None
        for i, (artifact, msg) in enumerate(zip(artifacts, event_msgs, strict=True)):
            if msg is None:
                continue
            [event] = _aligned_events(execution, [artifact], [msg], written=True)
            assert event is not None  # (only an unset message gives None)
            if artifact is None:  # its event names a stored artifact (see _aligned_events)
                node: object = event.artifact_id
            elif artifact.id is not None:
                node = artifact.id
            elif fold and artifact.external_id:
                node = ("new", first_new.setdefault(artifact.external_id, i))
            else:
                continue  # a new artifact: no event of it can exist
            key = (node, event.type)
            again = key in seen
            if not again and isinstance(node, int) and execution.id is not None:
                if stored is None:
                    stored = {
                        (e.artifact_id, e.type)
                        for e in self._store.get_events_by_execution_ids([execution.id])
                    }
                again = key in stored
            if not again:
                seen.add(key)
                continue
            updates = [m for m in (*artifacts, execution) if m is not None and m.id is not None]
            if self._updates_pass(updates):
                raise native.AlreadyExistsError(
                    f"event #{i}: the event ({event.type.name}) of artifact #{i} and the "
                    "execution is given twice or stored already"
                )
            return

    def _named_for_new(
        self,
        execution: Node,
        artifacts: Sequence[Node | None],
        events: Sequence[Any],
        reuse_by_external_id: bool,
    ) -> set[tuple[NodeKind, int]]:
        """put_execution: the ids its events name for nodes written new that stored nodes hold
        (see :func:`_aligned_events`); one read of each kind, only where an event names such
        an id (a new artifact with an external id is left out under the reuse flag: it may be
        a stored one's update)."""
        named: dict[NodeKind, set[int]] = {NodeKind.EXECUTION: set(), NodeKind.ARTIFACT: set()}
        for artifact, msg in zip(artifacts, events, strict=True):
            if msg is None:
                continue
            artifact_id, execution_id = _convert.event_ids(msg)
            if execution.id is None and execution_id is not None and execution_id >= 1:
                named[NodeKind.EXECUTION].add(execution_id)
            if (
                artifact is not None
                and artifact.id is None
                and not (reuse_by_external_id and artifact.external_id)
                and artifact_id is not None
                and artifact_id >= 1
            ):
                named[NodeKind.ARTIFACT].add(artifact_id)
        return {
            (kind, n.id)
            for kind, ids in named.items()
            if ids
            for n in self._store._repository_of(kind).get_by_ids(ids)
            if n.id is not None
        }

    def _refuse_taken_keys(
        self,
        nodes: Sequence[Node],
        *,
        reuse_artifacts: bool = False,
        reuse_contexts: bool = False,
    ) -> None:
        """MLMD writes a call's nodes (``nodes``, in its order) before it checks any event (the
        ids it names in put_execution, its type), so a new node whose name (of its type) or
        external id is stored, or given to an earlier new node of the call, is
        AlreadyExistsError before an event's error. The native write checks the events first:
        called on an error path only (reads), an event's or a later node's own. It stops at an
        update of a node that is not stored (MLMD's InvalidArgumentError, the class the event's
        error has too) and at a node of a type not given or not found, with properties its type
        does not declare, or an update of another type than stored (MLMD checks each node
        before it writes it), and at an update changing its external id (a context's name):
        it may free a key a later node gives. ``reuse_artifacts``: a new artifact whose
        external id is stored (or given to an earlier one) updates it; ``reuse_contexts``: a
        new context whose name is stored (or given earlier) is linked."""
        if reuse_artifacts:  # (in place: the nodes keep MLMD's order)
            reused = iter(self._by_external_id([m for m in nodes if m.kind is NodeKind.ARTIFACT]))
            nodes = [next(reused) if m.kind is NodeKind.ARTIFACT else m for m in nodes]
        stored: dict[tuple[NodeKind, int], int | None] = {}  # -> the stored node's type id
        keys: dict[tuple[NodeKind, int], tuple[str | None, str | None]] = {}  # its keys
        held: set[tuple[NodeKind, str]] = set()
        for kind in NodeKind:
            repository = self._store._repository_of(kind)
            of_kind = [m for m in nodes if m.kind is kind]
            ids = [m.id for m in of_kind if m.id is not None]
            if ids:
                for n in repository.get_by_ids(ids):
                    if n.id is not None:
                        stored[kind, n.id] = n.type_id
                        keys[kind, n.id] = (n.external_id, n.name)
            wanted = [m.external_id for m in of_kind if m.id is None and m.external_id]
            if wanted:
                held |= {
                    (kind, n.external_id)
                    for n in repository.get_by_external_ids(wanted)
                    if n.external_id
                }
        seen_names: set[tuple[NodeKind, int | None, str]] = set()
        seen_external: set[tuple[NodeKind, str]] = set()
        for m in nodes:
            kind = m.kind
            if m.id is not None:
                if (kind, m.id) not in stored or m.type_id not in (None, stored[kind, m.id]):
                    return  # (an update of another type: MLMD's InvalidArgumentError too)
                t = self._known_types[kind].get(stored[kind, m.id] or 0)
                if t is not None and not _declared(t, m):
                    return  # its properties' error: MLMD checks them before it writes it
                external_id, name = keys[kind, m.id]
                if m.external_id != external_id or (kind is NodeKind.CONTEXT and m.name != name):
                    return  # it may free or take a key a later node gives: not followed here
                continue
            t = self._known_types[kind].get(m.type_id) if m.type_id is not None else None
            if t is None or not _declared(t, m):
                return  # its type's or its properties' error (MLMD checks before it writes)
            name_held = m.name is not None and (
                (kind, m.type_id, m.name) in seen_names
                or self._store._repository_of(kind).get_by_type_and_name(t.name, m.name, t.version)
                is not None
            )
            if (
                kind is NodeKind.ARTIFACT
                and reuse_artifacts
                and m.external_id
                and (kind, m.external_id) in seen_external
            ):
                continue  # an update of the call's earlier artifact: its name is kept
            if kind is NodeKind.CONTEXT and reuse_contexts and name_held:
                continue  # linked as it is stored (or as the call's earlier one)
            taken = ""
            if m.external_id and (
                (kind, m.external_id) in held or (kind, m.external_id) in seen_external
            ):
                taken = f"external_id {m.external_id!r}"
            elif name_held:
                taken = f"name {m.name!r} of type id {m.type_id}"
            if taken:
                raise native.AlreadyExistsError(
                    f"Given node already exists: a new {kind.value.lower()}'s {taken} is taken "
                    "(MLMD writes every node before it checks the events); nothing was written"
                )
            if m.external_id:
                seen_external.add((kind, m.external_id))
            if m.name is not None:
                seen_names.add((kind, m.type_id, m.name))

    def _by_external_id(self, artifacts: list[Any]) -> list[Any]:
        """``artifacts`` with a new one whose external id is stored given that artifact's id,
        as MLMD's reuse flag makes it an update of that artifact (for the checks only: an
        update's type id is compared with the stored one, never looked up)."""
        return reuse_by_external_id(artifacts, self._store.get_artifacts_by_external_ids)

    def _check_declared(self, node: Node, index: int) -> None:
        """InvalidArgumentError unless ``node``'s (cached, known) type declares its properties
        with their kinds, as MLMD's check of a node's properties before any write."""
        if node.type_id is None or self._declares(node):
            return
        # the cached type may predate properties added since (by this adapter or another
        # client): read it again before refusing the node
        for found in self._store.get_types_by_id(node.kind, [node.type_id]):
            self._known_types[node.kind][node.type_id] = found
        if self._declares(node):
            return
        t = self._known_types[node.kind][node.type_id]
        for name in node.properties:
            if name not in t.properties:
                raise native.InvalidArgumentError(
                    f"{node.kind.value.lower()} #{index}: found unknown property {name!r}: type "
                    f"{t.name!r} declares {sorted(t.properties) or 'no properties'}"
                )
        raise native.InvalidArgumentError(
            f"{node.kind.value.lower()} #{index}: found unmatched property type: type "
            f"{t.name!r} declares {', '.join(f'{n}: {k.name}' for n, k in t.properties.items())}"
        )

    def _declares(self, node: Node) -> bool:
        """Whether ``node``'s (cached) type declares its properties with their kinds."""
        t = None if node.type_id is None else self._known_types[node.kind].get(node.type_id)
        return t is not None and _declared(t, node)

    def _nodes(
        self, kind: NodeKind, msgs: Iterable[Any], given: dict[int, MlmdGiven] | None = None
    ) -> list[Any]:
        msgs = list(msgs)
        models = [_convert.to_node(kind, m) for m in msgs]
        if given is not None:
            _given(given, msgs, models)
        return models

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
        models = self._nodes(NodeKind.ARTIFACT, artifacts, given)
        mask = _mask_paths(field_mask_paths)
        with self._taken_keys_first(models, mask):
            self._precheck(models, mask=mask)
            with _mlmd_write(given=given):
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
        models = self._nodes(NodeKind.EXECUTION, executions, given)
        mask = _mask_paths(field_mask_paths)
        with self._taken_keys_first(models, mask):
            self._precheck(models, mask=mask)
            with _mlmd_write(given=given):
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
        contexts, named = self._named_for_mask(contexts, mask)
        given: dict[int, MlmdGiven] = {}
        models = self._contexts(contexts, given, mask)
        for i in named:  # given without its name, the context differs from the stored one
            given[id(models[i])] = dataclasses.replace(given[id(models[i])], other_fields=True)
        with self._taken_keys_first(models, mask):
            self._precheck(models, mask=mask)
            with _mlmd_write(given=given):
                return self._store.put_contexts(models, field_mask_paths=mask)

    def _contexts(
        self, msgs: Sequence[Any], given: dict[int, MlmdGiven], mask: Sequence[str] | None
    ) -> list[Any]:
        """put_contexts' models. A new context without a name cannot be made one: MLMD finds
        it as it creates that context, so the contexts before it are checked first (their own
        errors, and a key an earlier one takes, come first, in MLMD's order) and its own
        unknown type id is NotFoundError."""
        models, nameless = _convert.contexts_until_nameless(msgs)
        _given(given, msgs[: len(models)], models)
        if nameless is not None:
            msg, exc = nameless
            earlier = _masked(models, mask)
            self._refuse_taken_keys(earlier)  # up to the first context with its own error
            self._precheck(earlier)  # an unknown type id up to the first invalid context
            if not self._all_pass(earlier):
                raise exc  # an earlier context's own error: invalid too
            self._refuse_unknown_context_type(msg)
            raise exc
        return models

    def _all_pass(self, nodes: Sequence[Node]) -> bool:
        """Whether MLMD would write each of ``nodes`` (new ones of a known type declaring their
        properties, updates as :meth:`_updates_pass`), once the unknown type ids
        :meth:`_precheck` reports are reported. (Reads, on an error path only.)"""
        updates = [m for m in nodes if m.id is not None]
        if updates and not self._updates_pass(updates):
            return False
        for m in nodes:
            if m.id is None:
                if m.type_id is None or (t := self._cached_type(m.kind, m.type_id)) is None:
                    return False
                if not _declared(self._fresh_for(t, m, m.type_id, set()), m):
                    return False
        return True

    def _refuse_unknown_context_type(self, msg: Any) -> None:
        """NotFoundError if ``msg`` (a Context proto) gives a type id no context type has."""
        if not msg.HasField("type_id"):  # "Type id is missing.": invalid, as an empty name
            return
        if self._cached_type(NodeKind.CONTEXT, msg.type_id) is None:
            raise native.NotFoundError(f"Cannot find type for type_id: {msg.type_id}")

    @contextlib.contextmanager
    def _taken_keys_first(
        self, models: Sequence[Node], mask: Sequence[str] | None
    ) -> Iterator[None]:
        """put_artifacts / put_executions / put_contexts: MLMD checks and writes each node in
        turn, so a new node whose key (name of its type, external id) is stored or given to an
        earlier node of the call is AlreadyExistsError before a later node's own error (an
        unknown type id, a property its type does not declare, an update of another type), which
        the checks here (and the native write) find first. On their error path only (reads)."""
        try:
            yield
        except (native.InvalidArgumentError, native.NotFoundError):
            self._refuse_taken_keys(_masked(models, mask))
            raise

    def _named_for_mask(
        self, contexts: Sequence[Any], mask: Sequence[str] | None
    ) -> tuple[list[Any], list[int]]:
        """``contexts`` where an update under a field mask that leaves the name out is given
        without a name gets its stored name (MLMD updates only the masked fields, so it needs
        none; a context model does), and the indexes of those given so. A context to update
        that does not exist is left for the write to refuse."""
        contexts = list(contexts)
        if not mask or isinstance(mask, str) or "name" in mask:
            return contexts, []
        unnamed = {
            i: msg.id
            for i, msg in enumerate(contexts)
            if isinstance(msg, _PB.Context) and msg.HasField("id") and msg.id > 0 and not msg.name
        }
        if not unnamed:
            return contexts, []
        stored = {
            c.id: c.name for c in self._store.get_contexts_by_id(sorted(set(unnamed.values())))
        }
        named = [i for i, ident in unnamed.items() if ident in stored]
        for i in named:
            msg = _PB.Context()
            msg.CopyFrom(contexts[i])
            msg.name = stored[unnamed[i]]
            contexts[i] = msg
        return contexts, named

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
                self._refuse_stored_events(models)
            self._store.put_events(models)
        except (native.InvalidArgumentError, native.NotFoundError, pydantic.ValidationError):
            # (an id below 1 cannot be read as a model: ValidationError, InvalidArgumentError
            # once mapped, as MLMD's "No artifact with the given id -1"; after the earlier ones)
            self._refuse_stored_events(models)
            raise

    def _refuse_stored_events(self, models: Sequence[Event]) -> None:
        """MLMD checks and inserts put_events' events one by one: an event stored already, or
        given earlier in the call, is AlreadyExistsError before a later event's own error (an
        id missing or naming no node, no type), which the native write finds first; an
        earlier event's own error comes first (InvalidArgumentError, whichever it is). Called
        on an error path (reads), with the events read so far (one that cannot be read, for
        its type or its ids, comes after them)."""
        artifacts = {e.artifact_id for e in models if e.artifact_id and e.artifact_id > 0}
        executions = {e.execution_id for e in models if e.execution_id and e.execution_id > 0}
        have_artifacts = {n.id for n in self._store.get_artifacts_by_id(sorted(artifacts))}
        have_executions = {
            n.id for n in self._store.get_executions_by_id(sorted(executions)) if n.id
        }
        stored = {
            (e.artifact_id, e.execution_id, e.type)
            for e in self._store.get_events_by_execution_ids(sorted(have_executions))
        }
        seen: set[tuple[int | None, int | None, EventType]] = set()
        for i, e in enumerate(models):
            key = (e.artifact_id, e.execution_id, e.type)
            for what, ident, have in (
                ("artifact", e.artifact_id, have_artifacts),
                ("execution", e.execution_id, have_executions),
            ):
                if ident is None:
                    raise native.InvalidArgumentError(f"event #{i + 1}: No {what} id is specified.")
                if ident not in have:
                    raise native.InvalidArgumentError(
                        f"event #{i + 1}: No {what} with the given id {ident}"
                    )
            if key in stored or key in seen:
                raise native.AlreadyExistsError(f"Given event already exists: event #{i + 1}")
            seen.add(key)

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
        # the options as ml_metadata's client sets them on its request (proto bools: None is
        # False, a string TypeError)
        options = _SERVICE.PutExecutionRequest.Options(
            reuse_context_if_already_exist=reuse_context_if_already_exist,
            reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
            force_reuse_context=force_reuse_context,
            force_update_time=force_update_time,
        )
        reuse_context_if_already_exist = options.reuse_context_if_already_exist
        reuse_artifact_if_already_exist_by_external_id = (
            options.reuse_artifact_if_already_exist_by_external_id
        )
        force_reuse_context = options.force_reuse_context
        force_update_time = options.force_update_time
        # the pairs as ml_metadata's client puts them in its request: an artifact or an event of
        # None is an unset one (a message of another class: TypeError, the client's)
        pairs: list[tuple[Any | None, Any | None]] = []
        for pair in artifact_and_events:
            if pair:  # (a dict is taken as the message's fields, as the request's constructor)
                given_pair = _SERVICE.PutExecutionRequest.ArtifactAndEvent(
                    artifact=pair[0], event=pair[1] if len(pair) == 2 else None
                )
                pairs.append(
                    (
                        given_pair.artifact if given_pair.HasField("artifact") else None,
                        given_pair.event if given_pair.HasField("event") else None,
                    )
                )
        if execution is None:  # an unset execution in the request: MLMD's first check
            raise native.InvalidArgumentError("No execution is found")
        # the events as given: their ids and types are checked after the nodes, as MLMD does
        event_msgs = [msg for _, msg in pairs]
        updates: dict[int, MlmdGiven] = {}
        [model] = self._nodes(NodeKind.EXECUTION, [execution])
        _given(updates, [execution], [model], force_update_time=force_update_time)
        given = self._nodes(NodeKind.ARTIFACT, [a for a, _ in pairs if a is not None], updates)
        # a pair without an artifact: its event names a stored one (see _aligned_events)
        present = [a is not None for a, _ in pairs]
        artifacts = _placed(given, present)
        context_msgs = list(contexts or ())
        # a new context without a name: refused where MLMD reaches it (see below)
        linked, nameless = _convert.contexts_until_nameless(
            context_msgs, force_reuse=force_reuse_context
        )
        _given(updates, context_msgs[: len(linked)], linked)
        # MLMD's order; with force_reuse_context a context given by id is only linked (an
        # id-only reference), not written
        typed = not force_reuse_context
        fold = reuse_artifact_if_already_exist_by_external_id
        reused = given
        try:
            try:
                self._precheck([*given, model, *linked], typed_context_updates=typed)
            except (native.InvalidArgumentError, native.NotFoundError):
                if not fold:
                    raise
                # a type id unknown or missing: of an artifact that the flag makes an update?
                # (reads only on this error path)
                reused = self._by_external_id(given)
                self._precheck([*reused, model, *linked], typed_context_updates=typed)
        except (native.InvalidArgumentError, native.NotFoundError):
            # MLMD writes each artifact, then the execution, then the events, then the contexts:
            # a new node's key taken before the node that fails comes first, and for a
            # context's error (the nodes before it pass) a bad event too (reads only here)
            self._refuse_taken_keys([*given, model], reuse_artifacts=fold)
            if self._passes([*reused, model]):  # the contexts' error
                self._check_events(model, _placed(reused, present), event_msgs, fold=fold)
            raise
        # each event's ids, then its type, pair by pair: after the nodes' checks (an unknown type
        # id, a property), before the contexts' (MLMD writes the events first)
        # (a new node's key taken comes first: see _refuse_taken_keys)
        stored = self._named_for_new(model, artifacts, event_msgs, fold)
        try:
            events = _aligned_events(model, artifacts, event_msgs, written=False, stored=stored)
        except (native.InvalidArgumentError, pydantic.ValidationError):
            # (and an earlier pair's event repeated or stored: MLMD writes them pair by pair)
            self._refuse_taken_keys([*given, model], reuse_artifacts=fold)
            reused = self._by_external_id(given) if fold else given
            self._check_events(model, _placed(reused, present), event_msgs, fold=fold)
            raise
        if nameless is not None:
            # MLMD refuses it as it creates it: after the nodes, the events and the contexts
            # before it, and after its own type's lookup (reads only on this error path)
            self._refuse_taken_keys([*given, model], reuse_artifacts=fold)
            reused = self._by_external_id(given) if fold else given
            if not self._all_pass([*reused, model]):
                raise nameless[1]  # an earlier node's own error: invalid too
            self._check_events(model, _placed(reused, present), event_msgs, fold=fold)
            self._refuse_taken_keys(
                [*reused, model, *linked], reuse_contexts=reuse_context_if_already_exist
            )
            if not self._all_pass([c for c in linked if c.type_id is not None]):
                raise nameless[1]  # (an id-only reference is only linked)
            self._refuse_unknown_context_type(nameless[0])
            raise nameless[1]
        # A pair without an artifact links the stored artifact its event names (a reference:
        # linked, not rewritten); one without an event either is skipped, its id -1 (MLMD).
        written: list[int] = []
        write_pairs: list[tuple[Artifact, Event | None]] = []
        for i, (artifact, event) in enumerate(zip(artifacts, events, strict=True)):
            if artifact is None and event is not None:
                assert event.artifact_id is not None  # (_aligned_events)
                artifact = Artifact.model_construct(id=event.artifact_id)
            if artifact is not None:
                written.append(i)
                write_pairs.append((artifact, event))
        try:
            with _mlmd_write(given=updates, forced_contexts=force_reuse_context):
                execution_id, artifact_ids, context_ids = self._store.put_execution(
                    model,
                    write_pairs,
                    linked,
                    reuse_context_if_already_exist=reuse_context_if_already_exist,
                    reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
                )
        except native.InvalidArgumentError:
            # an event naming another id for a node written new, an update of a missing node:
            # the write compares them before it finds a key taken, MLMD after it wrote the
            # nodes before them
            self._refuse_taken_keys([*given, model], reuse_artifacts=fold)
            raise
        placed = [-1] * len(pairs)
        for i, artifact_id in zip(written, artifact_ids, strict=True):
            placed[i] = artifact_id
        return execution_id, placed, context_ids

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
        # as ml_metadata's client builds its request: a list of None is an empty one, the
        # options are proto bools, and an edge's event of None is unset (see _check_edges)
        options = _SERVICE.PutLineageSubgraphRequest.Options(
            reuse_context_if_already_exist=reuse_context_if_already_exist,
            reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
        )
        reuse_context_if_already_exist = options.reuse_context_if_already_exist
        reuse_artifact_if_already_exist_by_external_id = (
            options.reuse_artifact_if_already_exist_by_external_id
        )
        given: dict[int, MlmdGiven] = {}
        executions = list(executions or ())
        artifacts = list(artifacts or ())
        contexts = list(contexts or ())
        for kind, msgs in (
            (NodeKind.EXECUTION, executions),
            (NodeKind.ARTIFACT, artifacts),
            (NodeKind.CONTEXT, contexts),
        ):
            for msg in msgs:  # a message of another class: TypeError (the client's), first
                _convert.expect_node(kind, msg)
        # each edge as the client adds it to its request (None: TypeError, as it iterates the
        # edges; an index a proto int32: a float is TypeError, past 32 bits ValueError, True 1;
        # an event of None unset, a dict its fields)
        event_edges = [
            (
                edge.execution_index if edge.HasField("execution_index") else None,
                edge.artifact_index if edge.HasField("artifact_index") else None,
                edge.event if edge.HasField("event") else None,
            )
            for edge in (
                _SERVICE.PutLineageSubgraphRequest.EventEdge(
                    execution_index=e_index, artifact_index=a_index, event=ev
                )
                for e_index, a_index, ev in event_edges
            )
        ]
        # the edges on the request as given, before the nodes' own checks (an id 0 is one)
        _check_edges(event_edges, executions, artifacts)
        e_models = self._nodes(NodeKind.EXECUTION, executions, given)
        a_models = self._nodes(NodeKind.ARTIFACT, artifacts, given)
        c_models = _convert.to_contexts(contexts)
        _given(given, contexts, c_models)
        # MLMD checks the artifacts (each has a type id, an update too, then their types exist,
        # then their properties), then the executions alike, all before it writes any node (a
        # property error comes before a name taken or an update of a missing node), then the
        # contexts (a type id, then their types, then their properties).
        for models in (a_models, e_models):
            for m in models:
                _type_id_given(m, updates_too=True)
            self._precheck(models, upfront=True)
            for i, m in enumerate(models):
                self._check_declared(m, i)
        for m in c_models:
            _type_id_given(m, updates_too=True)
        self._precheck(c_models, upfront=True)
        # and every context's properties, one reused (stored, or given twice with
        # reuse_context_if_already_exist) too: the native write links such a one as stored
        for i, m in enumerate(c_models):
            self._check_declared(m, i)
        # each event's type last, edge by edge (MLMD checks it as it writes the event). MLMD
        # writes the contexts, then the artifacts, then the executions, then the events: a new
        # node's key taken comes before an event's type and before a later node's update of a
        # missing node (the native write finds that one first)
        try:
            edges: list[EventEdge] = [(e, a, _convert.to_event(ev)) for e, a, ev in event_edges]
            with _mlmd_write(given=given):
                return self._store.put_lineage_subgraph(
                    e_models,
                    a_models,
                    c_models,
                    edges,
                    reuse_context_if_already_exist=reuse_context_if_already_exist,
                    reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
                )
        except (native.InvalidArgumentError, pydantic.ValidationError):
            self._refuse_taken_keys(
                [*c_models, *a_models, *e_models],
                reuse_artifacts=reuse_artifact_if_already_exist_by_external_id,
                reuse_contexts=reuse_context_if_already_exist,
            )
            raise

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
