"""The models a node write is given and MLMD's rules for them, as the adapter's write checks
(:mod:`._node_checks`, :mod:`._taken_keys`, :mod:`._event_checks`) and writes use them: pure
functions of the models and protos (no store).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .. import exceptions as native
from .._repositories.graph import MissingReferencesError
from .._repositories.nodes import MlmdGiven, mlmd_write_rules
from ..models import Node, NodeKind, NodeType, PropertyType, kind_of
from . import _convert


@contextlib.contextmanager
def mlmd_write(
    given: dict[int, MlmdGiven] | None = None,
    *,
    forced_contexts: bool = False,
) -> Iterator[None]:
    """A node write with MLMD's rules: an update keeps the stored name of an artifact or an
    execution (MLMD's UPDATE statements have no name column: a name given is ignored, an omitted
    one kept); an update (of a model in ``given``, see :func:`record_given`) that changes nothing
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


def declared(t: NodeType, node: Node) -> bool:
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


def no_int_for_double(t: NodeType, node: Node) -> None:
    """MLMD refuses an ``int_value`` for a DOUBLE property (the native store converts it).
    Safe to check on a cached type that declares every property ``node`` gives (a stored
    property never changes its kind); one that lacks some is read again first
    (``NodeChecks.precheck``): another client may have added them, as DOUBLE."""
    for name, value in node.properties.items():
        if t.properties.get(name) == PropertyType.DOUBLE and type(value) is int:
            raise native.InvalidArgumentError(
                f"Found unmatched property type: {name!r} is DOUBLE in type {t.name!r}, "
                "got an int_value"
            )


def masked_properties(node: Node, mask: Sequence[str]) -> Node:
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


def masked(batch: Sequence[Node], mask: Sequence[str] | None) -> list[Node]:
    """``batch`` with each update's properties cut to those ``mask`` names, as MLMD checks
    them (see :func:`masked_properties`)."""
    if mask and not isinstance(mask, str):
        return [m if m.id is None else masked_properties(m, mask) for m in batch]
    return list(batch)


def type_id_given(node: Node, *, updates_too: bool = False) -> None:
    """MLMD refuses a new node without a type id before it looks any type up (and in
    put_lineage_subgraph an update without one too)."""
    if (node.id is None or updates_too) and node.type_id is None:
        raise native.InvalidArgumentError("Type id is missing.")


def context_type_id_given(context: Node) -> None:
    """put_execution upserts each context with the type id given, a new one or one given by id
    (MLMD: "Context is missing a type_id", nothing written), where put_contexts updates a
    context given without one on its stored type. Checked past an update too: a context's
    error comes after the other nodes'."""
    if context.type_id is not None:
        return
    if context.id is not None:
        raise native.InvalidArgumentError(f"Context is missing a type_id: id {context.id}")
    raise native.InvalidArgumentError("Type id is missing.")


def record_given(
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


def node_models(
    kind: NodeKind, msgs: Iterable[Any], given: dict[int, MlmdGiven] | None = None
) -> list[Any]:
    """The models of a write's node messages of ``kind``, what each update's proto gave noted in
    ``given`` (see :func:`record_given`)."""
    msgs = list(msgs)
    models = [_convert.to_node(kind, m) for m in msgs]
    if given is not None:
        record_given(given, msgs, models)
    return models
