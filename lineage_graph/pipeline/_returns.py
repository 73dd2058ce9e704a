"""A step's return as a run records it (its outputs, its shape, the inputs it passed on), and
as a cache hit rebuilds it.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ..exceptions import InvalidArgumentError
from ..models import Artifact, EventType, Execution
from ._arguments import _held_items
from ._common import (
    _MAX_RETURN_DEPTH,
    _RETURN_KEY,
    _SCALARS,
    _VALUE_SHAPE,
    CACHE_SKIPPED_PROPERTY,
    CACHED_FROM_PROPERTY,
    RETURN_SHAPE_PROPERTY,
    RETURNED_INPUTS_PROPERTY,
    _become,
    _digest,
    _InputAsOutput,
    _path_step,
)

if TYPE_CHECKING:
    from ..store import LineageStore
    from ._cache import CacheHit
    from ._run import Run


def _record_return(run: Run, value: Any) -> None:
    """Record the returned artifacts as outputs, and the return's shape (for a cache hit to
    rebuild it). A return that is not made of artifacts alone (``(model, 0.93)``, a number)
    cannot be rebuilt from the store: its artifacts are still outputs, and its shape
    ``"value"`` makes a later identical call run again rather than return something else.
    Neither can one holding an artifact twice, or one declared with ``run.output(key=...)``."""
    whole = True
    if value is None:
        shape = "none"
    elif isinstance(value, Artifact):
        shape = "single"
        whole = _declare_returned(run, value, [_RETURN_KEY])
    elif isinstance(value, tuple | list):
        shape = "tuple" if isinstance(value, tuple) else "list"
        for i, v in enumerate(value):
            whole = _declare_part(run, v, [_RETURN_KEY, i]) and whole
    elif isinstance(value, Mapping):
        shape = "dict"
        for k, v in value.items():
            keyed = isinstance(k, str) and bool(k)  # (else not rebuilt, as a dict's key)
            whole = _declare_part(run, v, [_RETURN_KEY, *_path_step(k)]) and keyed and whole
    else:
        shape = _VALUE_SHAPE
        # A result object (a dataclass, a pydantic model: ``TrainResult(model=m, accuracy=
        # 0.9)``): the artifacts it holds are outputs, under the attribute's name. They were
        # never stored: the run COMPLETE with no output, ``result.model.id`` None.
        _declare_part(run, value, [_RETURN_KEY])
    if isinstance(value, tuple | list | Mapping) and type(value) not in (tuple, list, dict):
        # A NamedTuple (Splits(train, test)), an OrderedDict or another subclass: a hit rebuilt
        # a plain tuple or dict, and ``split(d).train`` raised AttributeError on the second
        # call only. Its artifacts are outputs; the call is made again, as for a value.
        whole = False
    if run._returned_inputs:
        returned: dict[str, Any] = {"artifact_ids": list(run._returned_inputs)}
        if whole and shape in _PASSED_SHAPES:  # (a result object's is not)
            # Rebuilt on a hit from that call's own inputs (_cached_return); "value" for the
            # shape itself: an earlier version cannot, and runs the call again.
            returned.update(shape=shape, passed=_passed_markers(run._passed))
            whole = False
        run.custom_properties[RETURNED_INPUTS_PROPERTY] = returned
    run.custom_properties[RETURN_SHAPE_PROPERTY] = shape if whole else _VALUE_SHAPE


def _declare_part(run: Run, value: Any, path: list[int | str], depth: int = 0) -> bool:
    """Declare a part of a step's return as its output(s): ``True`` if it is an artifact
    declared under ``path``. Artifacts nested in a list, tuple or dict part (``{"models": [m1,
    m2]}``, ``{0: model}``) are outputs too, under the path that reaches them (a return that
    cannot be rebuilt: ``False``); they were dropped, never stored, the run COMPLETE without
    them."""
    if isinstance(value, Artifact):
        return _declare_returned(run, value, path)
    if depth >= _MAX_RETURN_DEPTH or value is None or isinstance(value, _SCALARS):
        return False
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _declare_part(run, v, [*path, i], depth + 1)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _declare_part(run, v, [*path, *_path_step(k)], depth + 1)
    else:
        # A result object (a dataclass, a pydantic model: ``TrainResult(model=m, accuracy=
        # 0.9)``, also inside a returned list): the artifacts it holds are outputs, under the
        # attribute's name. They were never stored: the run COMPLETE with no output,
        # ``result.model.id`` None.
        for held, artifact in _held_items(value):
            _declare_part(run, artifact, [*path, *held], depth + 1)
    return False


def _declare_returned(run: Run, artifact: Artifact, path: list[int | str]) -> bool:
    """Declare a returned artifact as an output under ``path``; ``False`` if it was declared
    already (an artifact is an output once): under a key of its own, or returned twice, it
    keeps its first path. Declared without a key (``m = run.output(...); return m``), it takes
    ``path`` (was: a second copy stored).

    One of the run's inputs returned (``def check(ds): return ds``, ``select(models) ->
    models[i]``), stored before the call, is passed on, not produced: it is no output, and the
    execution's ``returned_inputs`` names it and where it was returned (``True``: a cache hit
    rebuilds it, from the inputs of the call it stands for). It was recorded as an output too:
    the lineage graph had the cycle artifact -> run -> same artifact, and the run was named the
    artifact's producer."""
    out = run._declarations._declared(artifact)
    if out is None:
        passed = artifact.id if artifact.id is not None and artifact.id in run._input_ids else None
        if passed is None:
            try:
                run._declarations._declare(artifact, path)
                return True
            except _InputAsOutput as exc:  # (a new artifact declaring an input again)
                passed = exc.artifact_id
                # It is that stored input, as a new output declared again is its stored twin
                # at once: the call returned it with no id (state UNKNOWN), never stored, and
                # the cache hit standing for the call returned the stored input.
                stored = next(a for a in run.inputs if a.id == passed)
                _become(artifact, stored.model_copy(deep=True))
        return _note_returned_input(run, passed, path)
    if out.path:
        return False
    out.path = path
    return True


def _note_returned_input(run: Run, artifact_id: int, path: list[int | str]) -> bool:
    """Name ``artifact_id`` in the run's ``returned_inputs`` (once; in the order returned),
    returned under ``path``; whether a cache hit can return it again (it was read under a known
    input path)."""
    run._returned_inputs[artifact_id] = None  # (recorded by _record_return)
    known = run._passable.get(artifact_id)
    if known is None:
        return False
    run._passed.append((path, known[1], artifact_id))
    return True


def _passed_markers(
    passed: Sequence[tuple[list[int | str], list[int | str], int]],
) -> list[dict[str, Any]]:
    """``returned_inputs["passed"]``: where each returned input was returned and read."""
    return [{"at": list(at), "input": list(read), "id": ident} for at, read, ident in passed]


def _return_shape(store: LineageStore, execution: Execution) -> Any:
    """The shape the step returned, or None if unknown. A ``CACHED`` execution recorded by an
    earlier version has none of its own: it is the shape of the execution it reused (the chain
    is walked once: the execution recorded next keeps the shape found)."""
    seen: set[int] = set()
    while RETURN_SHAPE_PROPERTY not in execution.custom_properties:
        origin = execution.custom_properties.get(CACHED_FROM_PROPERTY)
        if not isinstance(origin, int) or origin in seen:
            return None
        seen.add(origin)
        found = store.get_executions_by_id([origin])
        if not found:
            return None
        execution = found[0]
    return execution.custom_properties[RETURN_SHAPE_PROPERTY]


def _rebuild_return(
    run: Run,
    shape: Any,
    passed: Sequence[tuple[list[Any], Artifact]] = (),
    skip: Collection[int] = (),
) -> Any:
    """The decorated function's return value, rebuilt from the run's cache hit (whose return
    ``shape`` is :func:`_return_shape`'s; its outputs ``skip`` left out) and the inputs it
    passed on (``passed``: each this call's input, under its return path); the run, recorded
    ``CACHED``, keeps the shape (a later hit on it needs no walk)."""
    hit = run.cached
    assert hit is not None
    if shape is not None and not passed:
        run.custom_properties[RETURN_SHAPE_PROPERTY] = shape
    returned = [
        (e.path[1:], a)
        for a, e in zip(hit.outputs, hit.events, strict=True)
        if e.path[:1] == [_RETURN_KEY] and a.id not in skip
    ] + [(at[1:], a) for at, a in passed]
    if shape == "single" and returned:
        return returned[0][1]
    if shape in ("tuple", "list"):
        ordered = [a for _, a in sorted(returned, key=lambda pa: int(pa[0][0]))]
        return tuple(ordered) if shape == "tuple" else ordered
    if shape == "dict":
        return {str(p[0]): a for p, a in returned}
    return None


def _refuse_deferred(type_name: str, value: Any) -> None:
    """A step whose return is a generator, or a context manager made by
    ``@contextlib.contextmanager`` (whose generator runs on ``with``), did none of its work in
    the call: its run was recorded COMPLETE with no outputs, and the body (its artifacts, its
    errors) ran later, outside it, as a generator function's would (refused when decorated).
    The run fails instead, saying why; the generator, never started, is closed."""
    gen: Any = value
    if not (inspect.isgenerator(value) or inspect.isasyncgen(value)):
        # contextlib's generator-based context managers keep their generator as ``gen``; any
        # other context manager keeping one there (a batch reader of the user's) was refused
        # too, and its generator closed
        is_deferred = isinstance(value, contextlib._GeneratorContextManagerBase)
        gen = getattr(value, "gen", None) if is_deferred else None
    if not (inspect.isgenerator(gen) or inspect.isasyncgen(gen)):
        return
    if inspect.isgenerator(gen):
        gen.close()
    what = "a generator" if gen is value else f"a generator-based {type(value).__name__}"
    raise InvalidArgumentError(
        f"step {type_name!r} returned {what}: its body runs after the call returns, outside "
        "the run; record the work inside it with `with store.run(...)`, or make the step "
        "return what the generator produces"
    )


def _cached_return(run: Run) -> tuple[bool, Any]:
    """Whether the run's cache hit can stand for the call (its return can be rebuilt from the
    store and the call's inputs), and the return rebuilt. A hit recorded by another writer
    (``store.run``, an MLMD pipeline) has no shape: what the function would return is unknown,
    so it runs. Nor can a hit on a call that was not looked up (``cache_skipped``): it was given
    an argument no property records, so its properties match calls that did not give it
    (``fit(d, [64])`` then ``fit(d)``), whose result it is not.

    A hit that returned one of its inputs (``returned_inputs``) returns the input of THIS call
    it stands for: the hit may have read a same-content copy (the cache matches inputs by
    digest), and the caller gets back the artifact it passed. (A hit recorded before such a
    return could be rebuilt has the shape ``"value"`` and no markers: the call runs.)"""
    hit = run.cached
    if hit is None or hit.execution.custom_properties.get(CACHE_SKIPPED_PROPERTY) is not None:
        return False, None
    marked = _passed_inputs(run, hit.execution.custom_properties.get(RETURNED_INPUTS_PROPERTY))
    if marked is not None:
        shape, passed = marked
        run.custom_properties[RETURN_SHAPE_PROPERTY] = _VALUE_SHAPE
        run.custom_properties[RETURNED_INPUTS_PROPERTY] = _returned_record(shape, passed)
        by_id = {ident: run._passable[ident][0] for _, _, ident in passed}
        return True, _rebuild_return(run, shape, [(at, by_id[i]) for at, _, i in passed])
    shape = _return_shape(run.store, hit.execution)
    if shape is None or shape == _VALUE_SHAPE:
        return False, None
    legacy = _recorded_as_outputs(run, shape)
    if legacy is None:
        return False, None
    if legacy:
        passed = [(at, read, current) for at, read, current, _ in legacy]
        run._not_outputs = {hit_id for *_, hit_id in legacy}
        run.custom_properties[RETURN_SHAPE_PROPERTY] = _VALUE_SHAPE
        run.custom_properties[RETURNED_INPUTS_PROPERTY] = _returned_record(shape, passed)
        parts = [(at, run._passable[current][0]) for at, _, current in passed]
        return True, _rebuild_return(run, shape, parts, skip=run._not_outputs)
    if not _return_held(hit, shape):
        return False, None
    return True, _rebuild_return(run, shape)


def _return_held(hit: CacheHit, shape: Any) -> bool:
    """Whether the hit's outputs hold every part of a return of ``shape`` it can tell: one
    under ``["return"]`` for ``"single"``, ``["return", 0]`` to ``["return", n - 1]`` for a
    tuple or list. A record that lost one (a run that took by hand a hit whose returned input it
    left out, as 2b9a12e recorded, kept its shape) returned ``None`` or a shorter tuple, never
    running: the call runs."""
    at = [e.path[1:] for e in hit.events if e.path[:1] == [_RETURN_KEY]]
    if shape == "single":
        return [] in at
    if shape in ("tuple", "list"):
        indexes = sorted(p[0] for p in at if len(p) == 1 and isinstance(p[0], int))
        return indexes == list(range(len(indexes))) and len(indexes) == len(at)
    return True


def _recorded_as_outputs(
    run: Run, shape: str
) -> list[tuple[list[int | str], list[int | str], int, int]] | None:
    """The inputs a hit recorded by an earlier version returned, recorded then as its outputs
    too (an ``OUTPUT`` event on an artifact it read): ``(return path, input path, this call's
    input there, the hit's artifact)`` each; None if one cannot be rebuilt (the call runs).

    Rebuilt from the hit's outputs, such a return was the hit's input, a same-content copy when
    the cache paired it by digest: the caller got that copy, not the artifact it passed, and
    the cached run recorded an ``OUTPUT`` on it. Only a returned output that is one of this
    call's inputs, or has one's digest, may be one: then (only) the hit's events are read."""
    hit = run.cached
    assert hit is not None
    digests = {_digest(a) for a in run.inputs if a.id in run._passable} - {None}
    suspects = [
        (list(e.path), a.id)
        for a, e in zip(hit.outputs, hit.events, strict=True)
        if e.path[:1] == [_RETURN_KEY]
        and a.id is not None
        and (a.id in run._passable or _digest(a) in digests)
    ]
    if not suspects:
        return []
    read = {
        e.artifact_id: list(e.path)
        for e in run.store.get_events_by_execution_ids([hit.execution.id or 0])
        if e.type == EventType.INPUT and e.artifact_id is not None
    }
    by_path = {tuple(path): aid for aid, (_, path) in run._passable.items()}
    found: list[tuple[list[int | str], list[int | str], int, int]] = []
    for at, hit_id in suspects:
        path = read.get(hit_id)
        if path is None:
            continue  # (made by the hit, with an input's content: its output)
        current = by_path.get(tuple(path))
        if current is None or shape not in _PASSED_SHAPES or not _rebuildable_at(shape, at):
            return None
        found.append((at, path, current, hit_id))
    return found


def _take_passed_outputs(run: Run, shape: Any) -> None:
    """(A run taking a cache hit by hand, ``use_cached()``, on exit.) The inputs a hit recorded
    by an earlier version returned and recorded as its outputs too are not this run's outputs
    (left out on exit): they are named in its ``returned_inputs``, as a step's hit names them
    (:func:`_cached_return`), its ``return_shape`` ``"value"``. It kept the hit's shape with
    the input left out: a step's next call hit it and returned a rebuilt return without it
    (``None`` for ``"single"``, ``()`` for ``"tuple"``), never running."""
    hit = run.cached
    assert hit is not None
    legacy = _recorded_as_outputs(run, shape) if shape in _PASSED_SHAPES else None
    if legacy:
        run._not_outputs = {hit_id for *_, hit_id in legacy}
        passed = [(at, read, current) for at, read, current, _ in legacy]
        run.custom_properties[RETURNED_INPUTS_PROPERTY] = _returned_record(shape, passed)
    if shape is not None and (legacy or any(a.id in run._input_ids for a in hit.outputs)):
        run.custom_properties[RETURN_SHAPE_PROPERTY] = _VALUE_SHAPE


#: The shapes a return holding a passed-on input may have and be rebuilt.
_PASSED_SHAPES = ("single", "tuple", "list", "dict")


def _rebuildable_at(shape: str, at: Any) -> bool:
    """Whether ``at`` is where a return of ``shape`` holds a part: ``["return"]``, ``["return",
    i]`` or ``["return", key]`` (anything else, a property edited by hand, is not rebuilt)."""
    if not isinstance(at, list) or at[:1] != [_RETURN_KEY]:
        return False
    if shape == "single":
        return len(at) == 1
    if len(at) != 2:
        return False
    if shape == "dict":
        return isinstance(at[1], str) and bool(at[1])
    return isinstance(at[1], int) and not isinstance(at[1], bool) and at[1] >= 0


def _returned_record(
    shape: str, passed: Sequence[tuple[list[int | str], list[int | str], int]]
) -> dict[str, Any]:
    """A rebuildable ``returned_inputs`` custom property (:data:`RETURNED_INPUTS_PROPERTY`)."""
    return {
        "artifact_ids": list(dict.fromkeys(ident for _, _, ident in passed)),
        "shape": shape,
        "passed": _passed_markers(passed),
    }


def _passed_inputs(
    run: Run, recorded: Any, *, check_content: bool = True
) -> tuple[str, list[tuple[list[int | str], list[int | str], int]]] | None:
    """The hit's ``returned_inputs`` (``recorded``) as this call's: its shape and, for each
    input it returned, ``(return path, input path, id)`` of THIS call's input read under the
    same event path (the cache matched the hit's inputs by that path: the same artifact, or one
    with the same ``digest``); None if there is none or it cannot be rebuilt (no shape recorded,
    as by an earlier version; no such input of the call): the call runs. ``check_content``: read
    the hit's input that differs from the call's to check it has its content (else the cache's
    pairing is trusted)."""
    if not isinstance(recorded, Mapping):
        return None
    shape, markers = recorded.get("shape"), recorded.get("passed")
    if shape not in _PASSED_SHAPES or not isinstance(markers, list) or not markers:
        return None
    by_path = {tuple(path): aid for aid, (_, path) in run._passable.items()}
    found: list[tuple[list[int | str], list[int | str], int]] = []
    wanted: dict[int, int] = {}  # (the hit's input id: this call's, where they differ)
    for marker in markers:
        at = marker.get("at") if isinstance(marker, Mapping) else None
        read = marker.get("input") if isinstance(marker, Mapping) else None
        ident = marker.get("id") if isinstance(marker, Mapping) else None
        if not _rebuildable_at(shape, at) or not isinstance(read, list):
            return None
        if not all(isinstance(p, str | int) and not isinstance(p, bool) for p in read):
            return None  # (a path edited by hand: no event path, and unhashable)
        current = by_path.get(tuple(read))
        if current is None or not isinstance(ident, int):
            return None
        if current != ident:
            wanted[ident] = current
        found.append((list(cast(list[int | str], at)), list(read), current))
    if wanted and check_content:
        # Another artifact than the hit's under that path: the same content (the cache paired
        # them by digest), checked, as anything but a hit's own record could be stale.
        theirs = {a.id: _digest(a) for a in run.store.get_artifacts_by_id(list(wanted))}
        ours = {a.id: _digest(a) for a in run.inputs}
        for hit_id, current in wanted.items():
            digest = theirs.get(hit_id)
            if digest is None or ours.get(current) != digest:
                return None
    return shape, found
