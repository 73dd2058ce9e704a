"""The ``step`` decorator: each call of the decorated function recorded as a :class:`Run`."""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast, overload

from .._encoding import shown
from .._repositories.cache import same_value
from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import NodeKind, PropertyType
from ._arguments import (
    _NO_RECEIVER,
    _called,
    _default_type_name,
    _enums_as_values,
    _mismatched,
    _owner,
    _skipped_note,
    _split_arguments,
)
from ._common import CACHE_SKIPPED_PROPERTY, ContextLike, _require_flags
from ._returns import _cached_return, _record_return, _refuse_deferred
from ._run import Run

if TYPE_CHECKING:
    from ..store import LineageStore


P = ParamSpec("P")
R = TypeVar("R")


class StepDecorator(Protocol):
    """What ``store.step(...)`` returns: a decorator that keeps the function's signature."""

    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def step(
    store: LineageStore,
    execution_type: Callable[P, R],
) -> Callable[P, R]: ...


@overload
def step(
    store: LineageStore,
    execution_type: str | None = None,
    *,
    context: ContextLike | Sequence[ContextLike] | None = None,
    properties: Mapping[str, Any] | None = None,
    context_type: str = "Experiment",
    cache: bool = False,
    record_args: bool = True,
    git: bool | str | Path = False,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def step(
    store: LineageStore,
    execution_type: str | Callable[P, R] | None = None,
    *,
    context: ContextLike | Sequence[ContextLike] | None = None,
    properties: Mapping[str, Any] | None = None,
    context_type: str = "Experiment",
    cache: bool = False,
    record_args: bool = True,
    git: bool | str | Path = False,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function (sync or ``async``) so each call is recorded as a :class:`Run`.
    A generator function is refused (:class:`InvalidArgumentError`): its body would run after
    the run ended.

    Arguments that are :class:`Artifact` (or lists of them) are the inputs, keyed by parameter
    name (artifacts inside another list or dict argument too, listed under its name); with
    ``record_args`` the scalar arguments (bool, int, float, str) and dicts of JSON data become
    declared properties. The returned artifact(s) (one, a tuple/list, or a dict of
    them) are the outputs (those in a return that holds other values too, ``(model, 0.93)``, or
    nested in its lists and dicts, ``{"models": [m1, m2]}``, as well), except an input stored
    before the call, which it passes on (its execution's ``returned_inputs`` names it);
    :func:`current_run` gives the run inside the function for anything else. The execution
    type defaults to the function's name (a method's with its class's, ``Linear.fit``). With
    ``cache=True`` a call whose inputs and properties match a completed execution is not run:
    it is recorded ``CACHED`` and returns the cached outputs (and, for an input the execution
    passed on, this call's input read under the same argument path), unless that execution
    returned more than artifacts (the rest is not stored, so the function runs again). A call
    given an
    argument that is not recorded (a list of settings, an object, anything under
    ``record_args=False``) is not looked up: it runs.
    """

    _require_flags(cache=cache, record_args=record_args)
    # The decorator's own settings are checked as every call's run checks them (nothing is
    # written): properties="lr", context=5 or git=5 were accepted here and failed each call,
    # properties="lr" with dict()'s untyped ValueError.
    Run(
        store,
        execution_type if isinstance(execution_type, str) and execution_type else "step",
        context=context,
        properties=properties,
        context_type=context_type,
        git=git,
    )

    settings = _StepSettings(
        store,
        execution_type if isinstance(execution_type, str) else None,
        context,
        properties,
        context_type,
        cache,
        record_args,
        git,
    )

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        return _decorate(fn, settings)

    if callable(execution_type) or isinstance(execution_type, classmethod | staticmethod):
        return decorate(cast(Any, execution_type))
    if execution_type is not None and (not isinstance(execution_type, str) or not execution_type):
        # Checked now: a bad name would otherwise be replaced by the function's, silently.
        raise InvalidArgumentError(
            f"a step's execution type is a non-empty name, got {shown(execution_type)}"
        )
    return decorate


@dataclass(frozen=True)
class _StepSettings:
    """A ``step`` decorator's own arguments, as the runs of its function's calls take them."""

    store: LineageStore
    #: The execution type given (None: the function's name, :func:`_type_name`).
    type_name: str | None
    context: ContextLike | Sequence[ContextLike] | None
    properties: Mapping[str, Any] | None
    context_type: str
    cache: bool
    record_args: bool
    git: bool | str | Path


def _decorate(fn: Callable[P, R], settings: _StepSettings) -> Callable[P, R]:
    """``fn`` whose each call is recorded as a :class:`Run` (``step``'s decorator)."""
    if isinstance(fn, classmethod | staticmethod):
        # ``@store.step`` above ``@classmethod`` raised TypeError ("not a callable object")
        # where the class was defined, and above ``@staticmethod`` made a plain function
        # that ``Loader().load(uri)`` passed the instance to (TypeError, "too many
        # positional arguments"): the function is decorated, and wrapped again as it was.
        method = cast(Any, fn)
        return cast(Callable[P, R], type(method)(_decorate(method.__func__, settings)))
    # What a call runs: an instance's __call__ (``async def __call__`` was taken for a sync
    # function: its run was recorded COMPLETE, no outputs, before the coroutine ran).
    called = _called(fn)
    _refuse_generator_function(called)
    type_name = _type_name(fn, settings.type_name)
    make_run = _CallRuns(fn, type_name, settings).make_run
    cache = settings.cache

    if inspect.iscoroutinefunction(called):
        afn = cast(Callable[..., Awaitable[Any]], fn)

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            run = make_run(args, dict(kwargs))
            try:
                async with run:
                    reusable, rebuilt = _cached_return(run) if cache else (False, None)
                    if reusable:
                        run.use_cached()
                        return rebuilt
                    value = await afn(*args, **kwargs)
                    _refuse_deferred(type_name, value)
                    _record_return(run, value)
                    return value
            finally:
                del run  # (see wrapper)

        return cast(Callable[P, R], async_wrapper)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        run = make_run(args, dict(kwargs))
        try:
            with run:
                reusable, rebuilt = _cached_return(run) if cache else (False, None)
                if reusable:
                    run.use_cached()
                    return cast(R, rebuilt)
                value = fn(*args, **kwargs)
                if inspect.isawaitable(value):
                    # A function that returns a coroutine (wrapped by a decorator that hides
                    # it is async): its work, outputs and errors came after its run was
                    # recorded COMPLETE with none. The run fails instead, saying why.
                    if inspect.iscoroutine(value):
                        value.close()
                    raise InvalidArgumentError(
                        f"step {type_name!r} returned an awaitable ({type(value).__name__}): "
                        "its work would run after its run ended; declare the function "
                        "`async def` (or mark it with inspect.markcoroutinefunction)"
                    )
                _refuse_deferred(type_name, value)
                _record_return(run, value)
                return value
        finally:
            # The failed run keeps the function's error (run.error), whose traceback keeps this
            # frame: holding the run, it made a cycle that only the cyclic collector frees.
            del run

    return wrapper


def _refuse_generator_function(called: Callable[..., Any]) -> None:
    """A generator function (sync or async) cannot be a step."""
    if inspect.isgeneratorfunction(called) or inspect.isasyncgenfunction(called):
        # Calling one returns a generator before its body runs: the run would be recorded
        # COMPLETE with no outputs, and the body's work and errors would fall outside it.
        # (a functools.partial has no __qualname__: the refusal raised AttributeError)
        inner = called.func if isinstance(called, functools.partial) else called
        label = getattr(inner, "__qualname__", None) or shown(inner)
        raise InvalidArgumentError(
            f"@step cannot record the generator function {label!r}: its body "
            "runs after the call returns, outside the run (use `with store.run(...)` inside it)"
        )


def _type_name(fn: Callable[..., Any], given: str | None) -> str:
    """A step's execution type: ``given``, else its function's (:func:`_default_type_name`)."""
    type_name = given
    if type_name is None:
        type_name = _default_type_name(fn)
        if not isinstance(type_name, str) or not type_name:
            raise InvalidArgumentError(
                f"{shown(fn)} has no __name__ to name its execution type: "
                "give one, @store.step('Trainer')"
            )
        if type_name.rpartition(".")[2] == "<lambda>":
            # Every lambda is named so: two lambda steps were one execution type, and with
            # cache=True square(3) returned the number double(3) had made. Lambdas of one
            # class body are all "Steps.<lambda>" (they were one type likewise).
            raise InvalidArgumentError(
                "a lambda has no name of its own to name its execution type (every lambda "
                "is '<lambda>', so two lambda steps would share it and their cache): give "
                "one, store.step('Double')(lambda n: ...)"
            )
    return type_name


class _CallRuns:
    """The run of each call of one decorated function (:meth:`make_run`)."""

    def __init__(self, fn: Callable[..., Any], type_name: str, settings: _StepSettings) -> None:
        self.settings = settings
        self.type_name = type_name
        # A functools.partial's own arguments are arguments of every call: its signature
        # leaves the positional ones out, so partial(train, dataset) recorded no input (the
        # dataset missing from the lineage) and partial(train, b) returned the model of
        # partial(train, a). Calls are split as calls of the function it wraps.
        self.target: Callable[..., Any] = fn
        self.given_args: tuple[Any, ...] = ()
        self.given_kwargs: dict[str, Any] = {}
        if isinstance(fn, functools.partial):
            self.target, self.given_args, self.given_kwargs = fn.func, fn.args, dict(fn.keywords)
        self.signature = inspect.signature(self.target)
        self.owner = _owner(self.target)
        # The instance a bound method or a callable instance carries (recorded as ``self``).
        self.receiver: object = _NO_RECEIVER
        if inspect.ismethod(self.target):
            self.receiver = self.target.__self__
        elif _called(self.target) is not self.target:
            self.receiver = self.target
        # The kinds the type declared when last read: a declared property never changes kind,
        # so a call whose arguments all match them needs no read of the type (one round trip
        # per call less); anything else is checked on the type read again. Replaced whole, never
        # changed in place: calls in other threads read it meanwhile.
        self.known: list[Mapping[str, PropertyType]] = [{}]

    def make_run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Run:
        """The run recording a call given ``args`` and ``kwargs``."""
        s = self.settings
        store, context, properties, context_type = s.store, s.context, s.properties, s.context_type
        cache, record_args, git = s.cache, s.record_args, s.git
        type_name, known = self.type_name, self.known
        signature, given_args, given_kwargs = self.signature, self.given_args, self.given_kwargs
        owner, receiver = self.owner, self.receiver
        members: dict[str, enum.Enum] = {}
        inputs, values, floats, other = _split_arguments(
            signature,
            (*given_args, *args),
            {**given_kwargs, **kwargs},
            shadowed=properties or {},
            owner=owner,
            receiver=receiver,
            members=members,
        )
        # An argument named like one of the decorator's properties is recorded as the
        # decorator's value: given another value, it is not recorded, so the call is not
        # looked up (it was: fit(d, lr=0.9) reused fit(d, lr=0.5)'s model, as both recorded
        # the decorator's lr=0.1); nor is one given None (_split_arguments).
        for key in [k for k in values if k in (properties or {})]:
            value = values.pop(key)
            if not same_value(value, (properties or {})[key]):
                other.append(key)
        # An argument of another kind than its type declares (earlier calls gave ``3``,
        # this one ``0.5``, ``"auto"`` or a list) cannot be that property: it is recorded
        # as a custom property instead, and the call runs, not looked up, rather than
        # failing on the declared kind. (An int given to a parameter annotated float is
        # widened to the declared DOUBLE by the run, or kept where the type says INT.)
        mismatched: dict[str, Any] = {}
        if record_args and values:
            declared = known[0]
            fixed = set(properties or {})
            _enums_as_values(declared, values, members, fixed)
            if not values.keys() <= declared.keys() or _mismatched(declared, values, fixed):
                try:
                    declared = store.get_type(NodeKind.EXECUTION, type_name).properties
                except NotFoundError:
                    declared = {}
                known[0] = declared
                _enums_as_values(declared, values, members, fixed)
            for key in _mismatched(declared, values, fixed):
                mismatched[key] = values.pop(key)
                other.append(key)
        props = {**(values if record_args else {}), **(properties or {})}
        # A call is looked up only if everything it was given is compared: an argument not
        # recorded (``record_args=False``, or a value no property holds) could differ from
        # the cached call's, whose result would then be returned for another computation.
        unkeyed = other if record_args else [*other, *values]
        run = Run(
            store,
            type_name,
            inputs=inputs,
            context=context,
            properties=props,
            context_type=context_type,
            cache=cache and not unkeyed,
            git=git,
        )
        run.custom_properties.update(mismatched)
        if cache and unkeyed:
            run.custom_properties[CACHE_SKIPPED_PROPERTY] = _skipped_note(
                [k for k in unkeyed if k not in mismatched],
                record_args,
                [k for k in unkeyed if k in mismatched],
                "of another kind than the type declares, or ints no double holds exactly",
            )
        if record_args:
            run._float_parameters = floats - set(properties or {})
            run._arguments = set(values) - set(properties or {})
        return run
