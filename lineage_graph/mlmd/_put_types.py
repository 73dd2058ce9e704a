"""The type writes of the adapter (``put_artifact_type`` and its siblings): the request read
as ml_metadata's client builds it, and MLMD's rules where the native API's differ (a property
of value type UNKNOWN, an external id taken, ``base_type``), in MLMD's order.
"""

from __future__ import annotations

from typing import Any

from ml_metadata import errors as _errors
from ml_metadata.proto import metadata_store_service_pb2

from .. import exceptions as native
from .._repositories.types import upgraded
from ..models import NodeKind, NodeType, PropertyType
from ..store import LineageStore
from . import _convert

errors: Any = _errors
#: ml_metadata's request messages (generated code, untyped).
_SERVICE: Any = metadata_store_service_pb2

#: The request ml_metadata's client builds for a type of each kind.
_TYPE_REQUEST = {
    NodeKind.ARTIFACT: _SERVICE.PutArtifactTypeRequest,
    NodeKind.EXECUTION: _SERVICE.PutExecutionTypeRequest,
    NodeKind.CONTEXT: _SERVICE.PutContextTypeRequest,
}


def put_type(store: LineageStore, kind: NodeKind, msg: Any, can_add: bool, can_omit: bool) -> int:
    """put_artifact_type / put_execution_type / put_context_type on ``store``, with MLMD's
    rules where the native API's differ."""
    # as ml_metadata's client builds its request: the flags are proto bools (None is
    # False, 0 and 1 are taken, a float or a string is TypeError), and a type of None is
    # an unset one (InvalidArgumentError: no name)
    # and the type as it sets it there: a dict of its fields is taken as them
    field = f"{kind.value.lower()}_type"
    request = _TYPE_REQUEST[kind](can_add_fields=can_add, can_omit_fields=can_omit, **{field: msg})
    can_add, can_omit = request.can_add_fields, request.can_omit_fields
    msg = getattr(request, field)  # (None: an unset type, named by no one)
    try:
        model = _convert.to_type(kind, msg)
    except native.InvalidArgumentError:
        _check_unknown_properties(store, kind, msg, can_add, can_omit)  # MLMD's error first
        raise
    if msg.HasField("base_type"):
        _check_base_type(store, kind, model, msg.base_type == 0, can_add, can_omit)
    # ml_metadata 1.17.1 ignores a type's id here (it finds the type by name and version;
    # an unknown id or another type's registers or returns that type): so does the adapter,
    # where the native API refuses an id that is not the type's own
    model = model.model_copy(update={"id": None})
    return store.put_type(model, can_add_fields=can_add, can_omit_fields=can_omit)


def _check_unknown_properties(
    store: LineageStore, kind: NodeKind, msg: Any, can_add: bool, can_omit: bool
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
        stored = store.get_type(kind, msg.name, msg.version or None)
    except native.NotFoundError:
        if isinstance(msg.external_id, str):  # a new type: its external id first
            _check_external_id_free(store, kind, msg.external_id, None)
        return
    given = stored.model_construct(
        **{**dict(stored), "properties": {n: PropertyType(msg.properties[n]) for n in names}}
    )
    upgraded(stored, given, can_add, can_omit)  # AlreadyExistsError, as MLMD


def _check_external_id_free(
    store: LineageStore, kind: NodeKind, external_id: str | None, stored: NodeType | None
) -> None:
    """AlreadyExistsError if a type other than ``stored`` (the type being updated; None for a
    new one) holds ``external_id``. MLMD checks it before a property's ``UNKNOWN`` value
    type (of a new type) and before ``base_type``, which the native store checks later."""
    if not external_id:
        return
    for other in store.get_types_by_external_ids(kind, [external_id]):
        if stored is None or other.id != stored.id:
            raise errors.make_exception(
                f"external_id {external_id!r} is taken by type {other.name!r}",
                errors.ALREADY_EXISTS,
            )


def _check_base_type(
    store: LineageStore,
    kind: NodeKind,
    given: NodeType,
    cleared: bool,
    can_add: bool,
    can_omit: bool,
) -> None:
    """MLMD's rule, not the native API's: a ``base_type`` given as UNSET is never accepted
    (new type or not), and a set one is never changed. ml_metadata 1.17.1 raises
    UnimplementedError, after its property checks and its check that no other type holds
    the ``external_id`` given (AlreadyExistsError first, new type or not); a
    ``base_type`` left out keeps the stored one, and one set on a type without it is
    stored. Raised here, not mapped from a native error: the native store may change it."""
    try:
        stored = store.get_type(kind, given.name, given.version)
    except native.NotFoundError:
        stored = None
    if stored is not None:
        upgraded(stored, given, can_add, can_omit)  # AlreadyExistsError first, as MLMD
    _check_external_id_free(store, kind, given.external_id, stored)  # then this one
    if cleared:
        raise errors.make_exception("base_type deletion is not supported yet", errors.UNIMPLEMENTED)
    if stored is None or stored.base_type is None or stored.base_type == given.base_type:
        return
    raise errors.make_exception("base_type update is not supported yet", errors.UNIMPLEMENTED)
