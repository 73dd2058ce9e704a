"""The contexts a run is given: read as Context models, checked (by id, given twice), and
resolved to the stored contexts they are (get-or-create) before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._encoding import check_key, check_text, shown
from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import Context
from ._common import ContextLike, _built, _context_ref, _type_text

if TYPE_CHECKING:
    from ._run import Run


class _Contexts:
    """The contexts a run is given: read as Context models, checked (by id, given twice) and
    resolved to the stored contexts they are (:meth:`_resolve_contexts`)."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def _context_models(self, context: ContextLike | Sequence[ContextLike] | None) -> list[Context]:
        run = self.run
        if context is None:
            return []
        if isinstance(context, str | Context):
            items: Sequence[ContextLike] = [context]
        elif isinstance(context, Sequence):
            items = list(context)
        else:
            raise InvalidArgumentError(
                f"context is a name, a Context or a list of them, got {type(context).__name__}"
            )
        out: list[Context] = []
        for c in items:
            if isinstance(c, str):
                run._bare_contexts.add(len(out))
                out.append(_built(Context, "context", type=run.context_type, name=c))
            elif isinstance(c, Context):
                name = getattr(c, "name", None)
                if not isinstance(name, str):
                    # built without validation (Context.model_construct(id=7)): an
                    # AttributeError below, or a list name an "unhashable type"
                    raise InvalidArgumentError(
                        f"context #{len(out)}: a Context's name is a str, got {shown(name)} "
                        "(give the stored context as read, or its name)"
                    )
                if c.id is None and c.type_id is None and not c.type:
                    # (refused by the entry write, after the run's types were registered)
                    raise InvalidArgumentError(
                        f"context {c.name!r} names no type: give Context(type=...), or its "
                        f"name alone for a context of context_type {run.context_type!r}"
                    )
                out.append(c)
            else:
                raise InvalidArgumentError(
                    f"a context is a name or a Context, got {type(c).__name__}"
                )
        for c in out:  # here, not at the run's start: that registers the types first
            if isinstance(c.name, str):
                check_text("context name", c.name)
                check_key("context name", c.name)
        # A context given twice: refused by the entry write when new (after the run's types
        # were registered), and linked once, silently, when stored (whichever declaration's
        # content the caller meant). A run is in a context once.
        seen: set[tuple[Any, ...]] = set()
        for c in out:
            key = ("id", c.id) if c.id is not None else (c.type_id, c.type, c.type_version, c.name)
            external = ("external_id", c.external_id) if c.external_id is not None else key
            if key in seen or external in seen:
                raise InvalidArgumentError(
                    f"context {c.name or c.id!r} is given twice (its name or external id): "
                    "a run is in a context once"
                )
            seen.update((key, external))
        return out

    def _check_contexts_by_id(self) -> None:
        """Each context given with an ``id`` is that stored context: an id no context has is
        :class:`NotFoundError`, one whose context is of another type, or holds another name,
        than the ``Context`` gives is :class:`InvalidArgumentError`; before any type is
        registered. A context given by id was linked unchecked: ``Context(id=7, type="Pipeline",
        name="p")`` linked the run to context 7 whatever it was (an ``Experiment`` named
        ``"q"``), and an id of no context failed the entry write after the run's types were
        registered."""
        given = [(c.id, c) for c in self.run._contexts if c.id is not None]
        if not given:
            return
        stored = {c.id: c for c in self.run.store.get_contexts_by_id([i for i, _ in given])}
        if missing := sorted({i for i, _ in given if i not in stored}):
            raise NotFoundError(f"no context with id {missing}: the run did not start")
        for i, c in given:
            found = stored[i]
            differs = []
            if c.type_id is not None and c.type_id != found.type_id:
                differs.append(f"type id {found.type_id} stored, {c.type_id} given")
            if (c.type is not None and c.type != found.type) or (
                c.type_version is not None and c.type_version != found.type_version
            ):
                differs.append(
                    f"type {_type_text(found.type, found.type_version)!r} stored, "
                    f"{_type_text(c.type or found.type, c.type_version)!r} given"
                )
            if c.name != found.name:
                differs.append(f"name {found.name!r} stored, {c.name!r} given")
            if differs:
                raise InvalidArgumentError(
                    f"context {c.id} is not the context given ({'; '.join(differs)}): the run "
                    "did not start; pass the stored context, or its type and name without an id"
                )

    def _context_reference(self, context: Context) -> Context:
        """An existing context is linked as it is (never rewritten); a new one is created."""
        return _context_ref(context.id) if context.id is not None else context

    def _resolve_contexts(self) -> bool:
        """Get-or-create for the run's new contexts, as for its named inputs: each given by
        name (a str) that is stored becomes the stored context, whatever it holds; each given
        as a :class:`Context` that is stored becomes it if it says the same, else
        :class:`AlreadyExistsError` naming what differs (:meth:`_Twins.stored_twin`). All are
        checked before any becomes one, before anything is written; whether any did."""
        run = self.run
        found: list[tuple[int, Context]] = []
        for i, c in enumerate(run._contexts):
            if c.id is not None:
                continue
            if i in run._bare_contexts:
                assert c.type is not None
                twin = run.store.get_context_by_type_and_name(c.type, c.name, c.type_version)
            else:
                twin = run._twins.stored_twin(c, "context")
            if twin is not None:
                found.append((i, twin))
        # Two declarations of one context that _context_models could not tell (a Context by its
        # type id and one by its type name, or one by its external id): linked once, silently,
        # whichever content was meant, when stored; refused by the entry write, after the run's
        # types were registered, when new.
        twins = dict(found)
        seen: set[object] = set()
        for i, c in enumerate(run._contexts):
            if i in twins or c.id is not None:
                key: object = twins[i].id if i in twins else c.id
            else:
                t = run._twins.node_type(c)
                key = (t.id if t is not None else (c.type, c.type_version), c.name)
            if key in seen:
                raise InvalidArgumentError(
                    f"context {c.name!r} is given twice: a run is in a context once; the run "
                    "did not start"
                )
            seen.add(key)
        for i, twin in found:
            run._contexts[i] = twin  # (a copy: the caller's Context is not changed)
        return bool(found)
