"""The models of ``put_contexts``: a context to update under a field mask that leaves its name
out is given its stored name, and a new context without a name is refused where MLMD reaches
it (after the contexts before it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ml_metadata.proto import metadata_store_pb2

from .._repositories.nodes import MlmdGiven
from ..store import LineageStore
from . import _convert
from ._node_checks import NodeChecks
from ._write_rules import masked, record_given

#: ml_metadata's protos (generated code, untyped).
_PB: Any = metadata_store_pb2


def context_models(
    store: LineageStore,
    checks: NodeChecks,
    contexts: Sequence[Any],
    given: dict[int, MlmdGiven],
    mask: Sequence[str] | None,
) -> list[Any]:
    """put_contexts' models of ``contexts`` (under the call's field ``mask``), what each
    update's proto gave noted in ``given``."""
    contexts, named = _named_for_mask(store, contexts, mask)
    models = _models(checks, contexts, given, mask)
    for i in named:  # given without its name, the context differs from the stored one
        given[id(models[i])] = dataclasses.replace(given[id(models[i])], other_fields=True)
    return models


def _models(
    checks: NodeChecks, msgs: Sequence[Any], given: dict[int, MlmdGiven], mask: Sequence[str] | None
) -> list[Any]:
    """put_contexts' models. A new context without a name cannot be made one: MLMD finds
    it as it creates that context, so the contexts before it are checked first (their own
    errors, and a key an earlier one takes, come first, in MLMD's order) and its own
    unknown type id is NotFoundError."""
    models, nameless = _convert.contexts_until_nameless(msgs)
    record_given(given, msgs[: len(models)], models)
    if nameless is not None:
        msg, exc = nameless
        earlier = masked(models, mask)
        checks.refuse_taken_keys(earlier)  # up to the first context with its own error
        checks.precheck(earlier)  # an unknown type id up to the first invalid context
        if not checks.all_pass(earlier):
            raise exc  # an earlier context's own error: invalid too
        checks.refuse_unknown_context_type(msg)
        raise exc
    return models


def _named_for_mask(
    store: LineageStore, contexts: Sequence[Any], mask: Sequence[str] | None
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
    stored = {c.id: c.name for c in store.get_contexts_by_id(sorted(set(unnamed.values())))}
    named = [i for i, ident in unnamed.items() if ident in stored]
    for i in named:
        msg = _PB.Context()
        msg.CopyFrom(contexts[i])
        msg.name = stored[unnamed[i]]
        contexts[i] = msg
    return contexts, named
