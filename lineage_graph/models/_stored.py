"""Models built from values the store validated when it wrote them, without validating them again.

A lineage answer of 4,001 nodes and 4,000 events spent ~20 ms of its ~100 ms in pydantic's
validation of values read back from the store (``model_validate``: ~3.5 µs per node). Those
values were checked on their way in: the models validate what they are given, and the write
checks every stored field again (property values in ``NodeRepository._encode_values``, the other
fields in ``_base_fields`` and ``relations._check_event``), so that a model built without
validation (``model_construct``) or changed in place is refused, not stored. Reads from the store
therefore build their models the way ``BaseModel.model_construct`` does, with the defaults filled
from a per-model template: ~1.7 µs per node (``model_construct`` itself costs ~5 µs, as it
resolves each field's alias and default one by one). Each stored field's type is
still compared with what the write stores (a type comparison per field), and a value this
library would not have written (another tool's, a hand-made Cypher statement's) is
``StoredValueError`` naming the node and the field (``decode_node``, ``stored_event``), never a
model holding it.

Values from anywhere else (a retention archive, a file anyone may edit) are validated:
``decode_node(..., validate=True)``.

The result is a regular model: equal to the validated one, with the same ``model_fields_set``,
and ``validate_assignment`` still checks later assignments. ``tests/unit/test_stored.py`` holds
the equality for generated values of every model built here, so a pydantic release that changed
these internals fails a test, not a user.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["stored_defaults", "stored_model", "stored_model_filled"]

M = TypeVar("M", bound=BaseModel)

_TEMPLATES: dict[type[BaseModel], dict[str, Any]] = {}
_new = object.__new__


def _slot_setter(name: str) -> Any:
    """The setter of one of ``BaseModel``'s slots (``__dict__``, ``__pydantic_fields_set__``,
    ...): called directly, it skips the attribute lookup ``object.__setattr__`` makes for each
    of the four slots of every model built."""
    return BaseModel.__dict__[name].__set__


_set_dict = _slot_setter("__dict__")
_set_fields_set = _slot_setter("__pydantic_fields_set__")
_set_extra = _slot_setter("__pydantic_extra__")
_set_private = _slot_setter("__pydantic_private__")


def _template(model: type[BaseModel]) -> dict[str, Any]:
    """Every field's default (None for a required field or one with a default factory: the
    callers always give those)."""
    if model.__private_attributes__:  # pragma: no cover - no model of ours has any
        raise TypeError(f"{model.__name__} has private attributes: build it with model_validate")
    template = {
        name: None if f.is_required() or f.default_factory is not None else f.default
        for name, f in model.model_fields.items()
    }
    _TEMPLATES[model] = template
    return template


def _built(model: type[M], data: dict[str, Any], fields_set: set[str]) -> M:
    """The instance ``model_construct`` would make: ``data`` as its ``__dict__`` (every field,
    in the model's order)."""
    instance: M = _new(model)
    _set_dict(instance, data)
    _set_fields_set(instance, fields_set)
    _set_extra(instance, None)
    _set_private(instance, None)
    return instance


def stored_model(model: type[M], values: dict[str, Any]) -> M:
    """``model`` from ``values`` already validated by the write that stored them.

    ``values`` must hold exactly what ``model.model_validate`` would accept and already be of the
    fields' types (enums as enum members): it is not checked. Its keys become the model's
    ``model_fields_set``.
    """
    data = dict(_TEMPLATES.get(model) or _template(model))
    data.update(values)
    return _built(model, data, set(values))


def stored_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """A new dict of ``model``'s fields with their defaults, in the model's order: a caller
    sets the fields it gives and passes it to :func:`stored_model_filled`."""
    return (_TEMPLATES.get(model) or _template(model)).copy()


def stored_model_filled(model: type[M], data: dict[str, Any], fields_set: set[str]) -> M:
    """:func:`stored_model` for ``data`` that holds every field of ``model`` in the model's
    order (:func:`stored_defaults` with the given fields set, or every field given), the given
    ones named by ``fields_set``: the dict itself becomes the model's ``__dict__``."""
    return _built(model, data, fields_set)
