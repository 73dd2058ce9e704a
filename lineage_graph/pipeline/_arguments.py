"""A step's arguments as a run records them: split into inputs and properties, each value
marked with what it is (:func:`_marked`), a method's instance and a config object as their state.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import enum
import functools
import inspect
import json
import sys
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import BaseModel

from .._repositories._base import check_positive_id
from ..exceptions import InvalidArgumentError
from ..models import Artifact, PropertyType, kind_of
from ..models._values import _check_json as check_json
from ._common import _MAX_RETURN_DEPTH, _SCALARS, _path_step


def _mismatched(
    declared: Mapping[str, PropertyType],
    values: Mapping[str, Any],
    fixed: Iterable[str] = (),
) -> list[str]:
    """The step arguments in ``values`` of another kind than ``declared`` declares (``fixed``:
    the step's own ``properties``, never arguments)."""
    out = []
    for key in sorted(values):
        want = declared.get(key)
        if want is None or key in fixed:
            continue
        given = kind_of(values[key])
        if given == PropertyType.INT and want == PropertyType.DOUBLE:
            # widened by the write, as every write does (lr=3); unless no double holds it
            # exactly (2**53 + 1): the write refused it (the call failed), and widened by the
            # step it was recorded as 2**53, whose call then reused its result
            if not _exact_double(values[key]):
                out.append(key)
            continue
        # (an int for a float parameter that earlier calls declared INT is of its kind: kept)
        if given != want:
            out.append(key)
    return out


def _exact_double(value: int) -> bool:
    """Whether a double holds the int ``value`` exactly (``2**53 + 1`` is read back as
    ``2**53``)."""
    try:
        return int(float(value)) == value
    except OverflowError:  # beyond a double's range
        return False


#: The declared property beside an enum argument recorded as its value (:func:`_enums_as_values`):
#: ``"{name}.__enum__"``.
_ENUM_SUFFIX = ".__enum__"


def _enums_as_values(
    declared: Mapping[str, PropertyType],
    values: dict[str, Any],
    members: Mapping[str, enum.Enum],
    fixed: Collection[str] = (),
) -> None:
    """Each enum member given as an argument (``members``; in ``values`` as its marked struct)
    whose property the type declares of its value's kind (not a struct) is recorded as its value
    in ``values``, as a type declared by a call given the plain value (or by a store written
    before members were marked) holds it: recorded as a struct there, it would be of another
    kind, a custom property no lookup compares, and every such call would run. The member's mark
    goes to the declared property ``name + ".__enum__"``, compared as any other: ``f(1)``
    (which leaves it unset) and ``f(Size.SMALL)`` are other calls, and ``f(Color.RED)`` hits
    from its second call. (A record made before, ``1`` alone, could be ``f(1)``'s: never its
    hit.) A declared kind never changes, so what the type declared when last read decides."""
    for key, member in members.items():
        want = declared.get(key)
        companion = key + _ENUM_SUFFIX
        if (
            want is None
            or want == PropertyType.STRUCT
            or key in fixed
            or not isinstance(values.get(key), dict)  # (recorded as its value already)
            or companion in values
            # a decorator property of that name, which the run records in place of the mark:
            # f(1), f(Color.RED) and f(Size.SMALL) were one call (the first one's result)
            or companion in fixed
            or declared.get(companion, PropertyType.STRUCT) != PropertyType.STRUCT
        ):
            continue
        value = member.value
        if type(value) not in _SCALARS:
            continue
        try:
            if _mismatched(declared, {key: value}):
                continue
        except ValueError:  # (an int beyond int64)
            continue
        values[companion] = values[key]
        values[key] = value


def _skipped_note(
    names: Sequence[str], record_args: bool, kept: Sequence[str] = (), kept_as: str = ""
) -> str:
    """Why a cached step's call was not looked up (its ``cache_skipped`` custom property):
    arguments ``names`` not recorded, and arguments ``kept`` recorded as custom properties
    (which a lookup does not compare) for the reason ``kept_as`` gives."""
    reasons = []
    if names:
        listed = ", ".join(repr(k) for k in names[:10])
        reasons.append(
            f"argument(s) {listed} not recorded"
            + (" (record_args=False)" if not record_args else "")
        )
    if kept:
        listed = ", ".join(repr(k) for k in kept[:10])
        reasons.append(f"argument(s) {listed} recorded as custom properties ({kept_as})")
    why = "; ".join(reasons)
    return f"not looked up: {why}, so a cached call could have been given other values"


#: A list or tuple argument of JSON data is recorded as the struct ``{"__list__": [...]}`` (MLMD
#: has no list property), so that it is compared like any other recorded argument.
_LIST_KEY = "__list__"
_CLASS_KEY = "__class__"
#: An enum member is recorded as ``{"__enum__": name, "__class__": "module.Class"}``.
_ENUM_KEY = "__enum__"
#: A dict whose keys are all members of one ``str`` enum is recorded with ``"__keys__":
#: "module.Class"``.
_KEYS_KEY = "__keys__"
#: The keys a recorded value's marks use: a dict argument holding one is not recorded (the call
#: runs), as it could be recorded alike with what a mark stands for: ``{"__list__": [1, 2]}``
#: was the argument ``[1, 2]``, and a cached step returned the list's result for the dict.
_MARK_KEYS = frozenset({_LIST_KEY, _CLASS_KEY, _ENUM_KEY, _KEYS_KEY})
#: What :func:`_marked` makes of a value that cannot be recorded: no JSON data (refused later).
_UNRECORDED = object()


#: No bound instance: a function, or a method decorated in its class (``self`` is an argument).
_NO_RECEIVER = object()


def _split_arguments(
    signature: inspect.Signature,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    shadowed: Collection[str] = (),
    owner: str | None = None,
    receiver: object = _NO_RECEIVER,
    *,
    members: dict[str, enum.Enum],
) -> tuple[dict[str, Any], dict[str, Any], set[str], list[str]]:
    """``(inputs by parameter name, properties by parameter name, the properties that are an
    int given to a parameter annotated float, the arguments that are neither)`` of one call.
    ``members`` gets the enum members given as arguments (by property name), which
    are recorded as marked structs (:func:`_marked`; see :func:`_enums_as_values`).

    Inputs: an :class:`Artifact` or a non-empty list of them. Properties: a bool, an int within
    int64, a float, a str, a dict of JSON data (a struct), or a list or tuple of JSON data (the
    struct ``{"__list__": [...]}``). ``None`` is neither: the property is unset. Anything else
    (bytes, a path, an object, an int beyond int64, a list holding an artifact among other
    values) cannot be recorded, so it cannot be compared either: a cached step runs such a call
    (see :func:`step`). A method's ``self`` is recorded as the struct ``self``, the instance's
    state (:func:`_instance_state`), or is such an argument; a class method's ``cls`` is left
    out (the class is code, as the function is). ``owner`` is the class defining the method
    (:func:`_owner`): an instance or class of another (a subclass, whose other methods the
    method may call) is marked ``{"__class__": "module.Sub"}`` in ``self`` / ``cls``."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    split = _Split()
    first = next(iter(signature.parameters), None)
    if receiver is not _NO_RECEIVER:
        # A bound method (store.step(cache=True)(Trainer(0.1).fit)) or a callable instance:
        # its instance is no argument of the call, and was left out, so the steps of two
        # instances were one call: Trainer(0.5).fit's step returned Trainer(0.1).fit's model.
        split.receive("cls" if isinstance(receiver, type) else "self", receiver, owner)
    for pname, value in bound.arguments.items():
        if pname == first and pname in ("self", "cls") and receiver is _NO_RECEIVER:
            split.receive(pname, value, owner)
            continue
        kind = signature.parameters[pname].kind
        if kind == inspect.Parameter.VAR_POSITIONAL:
            items = [(f"{pname}{i}", v) for i, v in enumerate(value)]
        elif kind == inspect.Parameter.VAR_KEYWORD:
            items = list(value.items())
        else:
            items = [(pname, value)]
        for key, v in items:
            split.argument(key, v, signature.parameters[pname].annotation, shadowed, members)
    split.nested_inputs()
    return split.inputs, split.props, split.floats, split.other


@dataclass
class _Split:
    """One call's arguments as :func:`_split_arguments` splits them."""

    inputs: dict[str, Any] = field(default_factory=dict)
    props: dict[str, Any] = field(default_factory=dict)
    floats: set[str] = field(default_factory=set)
    other: list[str] = field(default_factory=list)
    #: Stored artifacts inside an argument (or a method's instance), by its name.
    nested: list[tuple[str, list[Artifact]]] = field(default_factory=list)
    #: The names recorded so far.
    taken: set[str] = field(default_factory=set)

    def receive(self, pname: str, value: Any, owner: str | None) -> None:
        """A method's instance (``self``) or class (``cls``): its state, the artifacts it holds."""
        cls = value if isinstance(value, type) else type(value)
        # Base.fit is the type of Sub().fit too: Sub's own methods, which fit may call,
        # made another result, yet Sub().fit(d) returned Base().fit(d)'s model.
        subclass = {_CLASS_KEY: _class_name(cls)}
        if owner is None or subclass[_CLASS_KEY] == owner:
            subclass = {}
        if pname == "cls" or isinstance(value, type):
            if subclass:
                self.props[pname] = subclass
                self.taken.add(pname)
            return
        # Left out, Trainer(lr=0.1).fit(d) and Trainer(lr=0.5).fit(d) were one call: with
        # cache=True the second returned the first's model.
        state = _instance_state(value)
        # The artifacts it holds (Trainer(data=d).fit()) are inputs under its name: they were
        # left out, the run recorded without the dataset it read. Unless __lineage_state__
        # says what else matters, such an instance is not compared (the call runs), as an
        # argument holding artifacts among other values is not.
        held = _held_artifacts(value)
        # Stored ones only: one not stored yet (Exporter(target=Artifact(uri=...)), a place the
        # method writes to) is no data it read; recorded as an input, the step returning it
        # had it as its own input and output.
        stored = [a for a in held if a.id is not None]
        if stored:
            self.nested.append((pname, stored))
        if state is None or (held and not callable(getattr(value, "__lineage_state__", None))):
            self.other.append(pname)
        else:
            self.props[pname] = {**state, **subclass}
            self.taken.add(pname)

    def argument(
        self,
        key: str,
        v: Any,
        annotation: Any,
        shadowed: Collection[str],
        members: dict[str, enum.Enum],
    ) -> None:
        """An argument ``v`` recorded as ``key`` (its parameter annotated ``annotation``)."""
        if key in self.taken:  # f(*parts, **kw) called f(a, parts0=b): both would be "parts0"
            raise InvalidArgumentError(
                f"two arguments of one call would be recorded as {key!r} (an item of the "
                "*args parameter and a keyword argument of that name): rename the keyword"
            )
        self.taken.add(key)
        if v is None:
            if key in shadowed:  # a decorator property stands for it: not what it was given
                self.other.append(key)
            return
        if isinstance(v, Artifact):
            self.inputs[key] = v
        elif isinstance(v, list | tuple) and v and all(isinstance(x, Artifact) for x in v):
            self.inputs[key] = list(v)
        elif isinstance(v, (*_SCALARS, dict, list, tuple, enum.Enum)) or (_numpy_value(v) is not v):
            given = v
            # (a tuple, an enum member, a numpy int64 or float64 as _marked records them)
            v = _marked(v)
            if isinstance(v, list):
                # MLMD has no list property: the struct {"__list__": [...]} holds it
                v = {_LIST_KEY: v}
            try:
                kind_of(v)  # an int beyond int64, a dict or list of more than JSON data
            except ValueError:
                self.other.append(key)
                self.nested.append((key, _artifacts_in(given)))
                return
            # What it was given: the call may change a dict or list in place before the
            # run records it (_instance_state).
            self.props[key] = copy.deepcopy(v) if isinstance(v, dict) else v
            if isinstance(given, enum.Enum):
                members[key] = given
            if type(v) is int and _admits_float(annotation):
                self.floats.add(key)
        else:
            # A config object holding the data (``train(Job(data=d, C=0.5))``, a
            # dataclass or pydantic model): its stored artifacts are inputs under its
            # name, as a method's instance's are. They were left out: the model's
            # upstream had no dataset.
            held = _held_artifacts(v)
            self.nested.append((key, [a for a in held if a.id is not None]))
            state = _config_state(v, held)
            if state is None:
                self.other.append(key)
            else:
                self.props[key] = state

    def nested_inputs(self) -> None:
        """The artifacts found inside arguments (and a method's instance) added to the inputs."""
        # Artifacts inside an argument that is not recorded (``{"train": d1, "val": d2}``, a list
        # holding other values too) are inputs all the same, under its name: they were left out,
        # the run recorded without the data it read. Each once (it may be given directly too).
        seen = {
            _identity(a) for v in self.inputs.values() for a in (v if isinstance(v, list) else [v])
        }
        for key, found in self.nested:
            fresh = []
            for artifact in found:
                if _identity(artifact) not in seen:
                    seen.add(_identity(artifact))
                    fresh.append(artifact)
            if fresh:
                self.inputs[key] = fresh


#: Postponed (string) annotations of a parameter taking a float or nothing, spaces removed.
_FLOAT_TEXTS = frozenset(
    {"float", "float|None", "None|float", "Optional[float]", "typing.Optional[float]"}
    | {"Union[float,None]", "typing.Union[float,None]", "Union[None,float]"}
)


def _marked(value: Any, depth: int = 0) -> Any:
    """``value`` (JSON data, as a struct property holds it) with each ``NamedTuple`` in it as its
    fields and each tuple or list subclass as ``{"__list__": [...]}``, with ``"__class__":
    "module.Class"``: ``{"opt": Adam(1e-3)}`` and ``{"opt": SGD(1e-3)}`` were one setting,
    ``{"opt": [0.001]}``, and a cached step returned Adam's model for SGD. A plain tuple is
    marked ``"builtins.tuple"``: ``f({"a": (1, 2)})`` reused the result of ``f({"a": [1, 2]})``
    (and ``f((1, 2))`` of ``f([1, 2])``), yet a function may tell them apart (``x + [3]``,
    ``type(x)``). An enum member is ``{"__enum__": name, "__class__": "module.Class"}``: an
    ``IntEnum`` was its int, so ``f(Color.RED)``, ``f(Size.SMALL)`` and ``f(1)`` were one
    call. A dict subclass (``Counter``, ``defaultdict``) is its items with ``"__class__"``.
    A numpy ``int64``, ``float64`` or ``str_`` is its Python value (:func:`_numpy_value`);
    another subclass of int, float or str is :data:`_UNRECORDED`. A dict
    holding a key of these marks (``{"__list__": [1, 2]}``, recorded as ``[1, 2]`` was) cannot
    be recorded: it is :data:`_UNRECORDED` (so is a dict or list holding it). A dict whose keys
    are all members of one ``str`` enum (recorded as their text) has ``"__keys__":
    "module.Class"``; one with any other key that is no ``str`` is :data:`_UNRECORDED`. A
    ``defaultdict``'s class names its factory, ``"collections.defaultdict[builtins.list]"``; an
    ``OrderedDict`` has its keys in their order as ``"__list__"``. A flag's member without a
    name is marked with its value (:func:`_marked_member`).
    Past :data:`_MAX_MARKED_DEPTH` only plain JSON data is kept. Anything else is left as it is
    (a value no property holds is refused later, as before)."""
    if depth > _MAX_MARKED_DEPTH:
        # Left as it was, a tuple, an enum member or a dict subclass this deep was recorded as
        # a list, its value or a dict (``{"a": {"a": ... (1, 2)}}`` 33 levels down was the
        # same list's call): only plain JSON data is recorded here.
        return value if value is None or type(value) in _SCALARS else _UNRECORDED
    if isinstance(value, enum.Enum):
        return _marked_member(value)
    value = _numpy_value(value)
    if isinstance(value, _SCALARS) and type(value) not in _SCALARS:
        # A subclass of int, float or str of the user's (an enum member, numpy's float64 and
        # str_ aside) was recorded as its value: f(Name("a")) returned the result of f("a"),
        # yet its methods may differ. It is not recorded (the call runs).
        return _UNRECORDED
    if isinstance(value, dict):
        return _marked_dict(value, {k: _marked(v, depth + 1) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return _marked_items(value, [_marked(v, depth + 1) for v in value])
    return value


def _class_name(cls: type) -> str:
    """``"module.Class"``, as a mark names a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _marked_member(member: enum.Enum) -> Any:
    """An enum member as :func:`_marked` records it: ``{"__enum__": name, "__class__": ...}``.
    A flag's member that has no name (``Perm(0)``, or bits no member names, ``Perm(8)``) by its
    value: they were all ``{"__enum__": null}``, and ``f(Perm(16))`` returned the result of
    ``f(Perm(8))``. (Any other member without a name cannot be recorded.)"""
    name: Any = member.name
    if not isinstance(name, str):
        name = member.value
        if type(name) is not int:
            return _UNRECORDED
    return {_ENUM_KEY: name, _CLASS_KEY: _class_name(type(member))}


def _marked_dict(value: dict[Any, Any], entries: dict[Any, Any]) -> Any:
    """The dict ``value`` as :func:`_marked` records it, given its items marked (``entries``)."""
    if not _MARK_KEYS.isdisjoint(value):
        return _UNRECORDED
    kinds = {type(k) for k in value}
    if kinds - {str}:
        # Keys of a str enum (a StrEnum member) were recorded as their text: f({Mode.FAST:
        # 1}) returned the result of f({"fast": 1}), yet ``k.name`` works on one only. Keys
        # all of one such enum are marked with it; any other key that is no str (a numpy
        # str, keys of two kinds) cannot be recorded.
        kind = kinds.pop()
        if kinds or not (issubclass(kind, enum.Enum) and issubclass(kind, str)):
            return _UNRECORDED
        entries = {str.__str__(k): v for k, v in entries.items()}  # (its text, as stored)
        entries[_KEYS_KEY] = _class_name(kind)
    if type(value) is dict:
        return entries
    # a Counter, defaultdict or OrderedDict: the function may tell it from a dict (a
    # missing key's count is 0 in one, a KeyError in the other)
    name = _class_name(type(value))
    if isinstance(value, collections.OrderedDict):
        # with its keys' order, which a struct's comparison leaves aside: OrderedDict(a=1, b=2)
        # and OrderedDict(b=2, a=1) are not equal (nor is what popitem() gives), yet a cached
        # step returned one's result for the other
        entries = {**entries, _LIST_KEY: [k for k in entries if k != _KEYS_KEY]}
    if isinstance(value, collections.defaultdict):
        # with its factory: defaultdict(list) was recorded as defaultdict(int) was, and a
        # cached step returned the result of groups["x"] being 0 for it being []
        name = f"{name}[{_factory_name(value.default_factory)}]"
    return {**entries, _CLASS_KEY: name}


def _marked_items(value: list[Any] | tuple[Any, ...], items: list[Any]) -> Any:
    """The list or tuple ``value`` as :func:`_marked` records it, given its items marked."""
    cls = type(value)
    if cls is list:
        return items
    fields = getattr(cls, "_fields", None)
    if isinstance(value, tuple) and isinstance(fields, tuple) and len(fields) == len(items):
        state: dict[str, Any] = dict(zip(fields, items, strict=True))
    else:
        state = {_LIST_KEY: items}
    return {**state, _CLASS_KEY: _class_name(cls)}


def _marked_dump(value: Any, dumped: Any, depth: int = 0) -> Any:
    """What pydantic's ``model_dump()`` made of ``value`` (``dumped``) as :func:`_marked` records
    ``value``: the dump turns a nested model, a dataclass, a ``NamedTuple`` and a dict subclass
    into a plain dict or tuple, so ``Cfg(opt=Adam(1e-3))`` and ``Cfg(opt=SGD(1e-3))`` (models
    or dataclasses), ``Cfg(opt=Pair(1, 2))`` and ``Cfg(opt=(1, 2))``, ``Cfg(c=Counter())`` and
    ``Cfg(c={})`` were recorded alike, and a cached step returned one's result for the other.
    Each keeps its class here (a model or dataclass as its dumped fields with ``"__class__"``);
    what the dump made of anything else (a serializer's output) is marked as it is."""
    if depth > _MAX_MARKED_DEPTH:
        return _marked(dumped, depth)
    if isinstance(value, BaseModel) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        if type(dumped) is not dict:
            return _marked(dumped, depth)
        fields = {k: _marked_dump(getattr(value, k, None), v, depth + 1) for k, v in dumped.items()}
        state = _marked_dict(dumped, fields)
        return state if state is _UNRECORDED else {**state, _CLASS_KEY: _class_name(type(value))}
    if isinstance(value, dict) and type(dumped) is dict and dumped.keys() == value.keys():
        entries = {k: _marked_dump(value[k], v, depth + 1) for k, v in dumped.items()}
        return _marked_dict(value, entries)
    if (
        isinstance(value, list | tuple)
        and isinstance(dumped, list | tuple)
        and len(dumped) == len(value)
    ):
        items = [_marked_dump(v, d, depth + 1) for v, d in zip(value, dumped, strict=True)]
        return _marked_items(value, items)
    return _marked(dumped, depth)


def _factory_name(factory: object) -> str:
    """A ``defaultdict``'s ``default_factory`` by its name: ``"builtins.list"``, ``"None"``, a
    function's or a lambda's qualified name (``"mod.f.<locals>.<lambda>"``: the code, which the
    cache takes as unchanged, as it takes the step's), else its type's."""
    if factory is None:
        return "None"
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        kind = type(factory)
        module, qualname = kind.__module__, kind.__qualname__
    return f"{module}.{qualname}"


def _numpy_value(value: Any) -> Any:
    """A numpy ``int64`` or ``float64`` scalar as the Python int or float of its value (numpy's
    default integer and float: what ``argmax`` or ``mean`` gives), a ``str_`` as its text;
    anything else as it is. An
    ``int64`` was no recorded argument (the call ran, never looked up), and a ``float64``, a
    float subclass, was already recorded as its value. Other widths (``int32``, ``float32``,
    whose arithmetic differs from Python's) and numpy's bool (``~np.True_`` is ``False``) stay
    unrecorded: the call runs."""
    np = sys.modules.get("numpy")
    if np is None:  # never imported: no value is one of its scalars
        return value
    if isinstance(value, np.int64):
        return int(value)
    if isinstance(value, np.float64):
        return float(value)
    if isinstance(value, np.str_):  # (a str subclass, recorded as its text before)
        return str.__str__(value)
    return value


def _logged_value(value: Any) -> Any:
    """A value logged on a run (``log_metrics``, ``log_properties``): a numpy bool, integer or
    float scalar as the Python bool, int or float of its value (exact: ``float32`` widens
    exactly; a ``longdouble`` is one if a double holds it exactly), anything else as it is. Not
    for a step's arguments, which key its cache, where a width's arithmetic matters
    (:func:`_numpy_value`)."""
    np = sys.modules.get("numpy")
    if np is None or not isinstance(value, np.bool_ | np.integer | np.floating):
        return value
    item = value.item()
    if type(item) in (bool, int, float):
        return item
    # A longdouble (its .item() is itself where it is wider than a double, as on x86-64 Linux,
    # a float where it is not): np.longdouble(0.5) was refused on one platform, logged on the
    # other. Logged where no digit is lost; one a double cannot hold stays refused.
    number = float(value)
    same = number == value or (number != number and value != value)  # (nan)
    return number if same else value


#: How deep :func:`_marked` looks (struct properties nest less deeply than this in practice).
_MAX_MARKED_DEPTH = 32


def _admits_float(annotation: Any) -> bool:
    """Whether a parameter's annotation is ``float``, or a union holding it (``float | None``,
    ``Optional[float]``: an int given there is widened as for ``float``; the first call of
    ``fit(lr: float | None = None)`` given ``1`` declared lr an INT, and every later call given
    a float ran, never looked up). A string is a postponed annotation."""
    if annotation is float:
        return True
    if isinstance(annotation, str):
        return annotation.replace(" ", "") in _FLOAT_TEXTS
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        # float or nothing: a union admitting int too (``test_size: float | int``) may mean
        # another thing by an int, which is recorded as one
        args = set(typing.get_args(annotation))
        return float in args and args <= {float, type(None)}
    return False


def _identity(artifact: Artifact) -> int:
    """One artifact, stored (its id) or new (the object)."""
    if artifact.id is None:
        return -id(artifact)
    # a model built without validation may hold anything: a list id was a bare "unhashable
    # type" from a step's arguments
    check_positive_id("artifact", "id", artifact.id)
    return artifact.id


def _artifacts_in(value: Any, depth: int = 0) -> list[Artifact]:
    """The artifacts in a list, tuple or dict (its values), up to ``_MAX_RETURN_DEPTH`` deep."""
    if isinstance(value, Artifact):
        return [value]
    if depth >= _MAX_RETURN_DEPTH or value is None or isinstance(value, _SCALARS):
        return []
    items = value.values() if isinstance(value, Mapping) else value
    if not isinstance(value, Mapping | list | tuple):
        # A config object among them (``jobs=[Job(d1), Job(d2)]``): its stored artifacts, as
        # for one given alone
        return [a for a in _held_artifacts(value) if a.id is not None]
    return [a for item in items for a in _artifacts_in(item, depth + 1)]


#: The most JSON text a method step records of its instance's attributes (not of what its
#: ``__lineage_state__`` returns): more, and the call is not compared (it runs).
MAX_IMPLICIT_STATE_CHARS = 65_536


#: Most items of a list, tuple or dict attribute looked through for artifacts the instance holds.
_MAX_HELD_ITEMS = 256


def _held_artifacts(obj: object) -> list[Artifact]:
    """The artifacts a method step's instance holds: its attributes (a dataclass's fields, a
    pydantic model's fields, ``vars``) that are artifacts, or items of a list, tuple or dict
    attribute of at most ``_MAX_HELD_ITEMS`` (bounded: an instance may hold a dataset)."""
    return [artifact for _, artifact in _held_items(obj)]


def _held_items(obj: object) -> list[tuple[list[int | str], Artifact]]:
    """:func:`_held_artifacts` with the path reaching each: ``[attribute]``, or ``[attribute,
    index or key]`` for an item of a list, tuple or dict attribute."""
    if isinstance(obj, type):
        return []
    if dataclasses.is_dataclass(obj):
        names = [f.name for f in dataclasses.fields(obj)]
    elif isinstance(obj, BaseModel):
        names = list(type(obj).model_fields)
    elif hasattr(obj, "__dict__") or _slot_names(obj):
        names = [*getattr(obj, "__dict__", {}), *_slot_names(obj)]
    else:
        return []
    found: list[tuple[list[int | str], Artifact]] = []
    for name in names:
        value = getattr(obj, name, None)
        if isinstance(value, Artifact):
            found.append(([name], value))
        elif isinstance(value, list | tuple | dict) and len(value) <= _MAX_HELD_ITEMS:
            items = value.items() if isinstance(value, dict) else enumerate(value)
            found += [([name, *_path_step(k)], v) for k, v in items if isinstance(v, Artifact)]
    return found


def _slot_names(obj: object) -> list[str]:
    """The attributes the ``__slots__`` of ``obj``'s classes declare (a private ``__x`` by its
    mangled name), ``__dict__`` and ``__weakref__`` aside."""
    names: list[str] = []
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in [slots] if isinstance(slots, str) else slots:
            if not isinstance(name, str) or name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{cls.__name__.lstrip('_')}{name}"
            if name not in names:
                names.append(name)
    return names


def _instance_state(obj: object) -> dict[str, Any] | None:
    """What a method step records of its instance: ``obj.__lineage_state__()`` if it defines
    one (a dict of JSON data: the settings that decide the result), else a dataclass's fields,
    a pydantic model's dump or the instance's attributes (``vars``); None when that holds more
    than JSON data (a fitted estimator, an open file) or, unless ``__lineage_state__`` gave
    it, more than ``MAX_IMPLICIT_STATE_CHARS`` of it: the call is not compared."""
    hook = getattr(obj, "__lineage_state__", None)
    implicit = not callable(hook)
    if callable(hook):
        state = hook()
    elif dataclasses.is_dataclass(obj):
        # A field(init=False) not set yet (the model fit() sets) is left out: getattr raised
        # AttributeError, and every call of the method failed before it ran.
        unset = object()
        fields = ((f.name, getattr(obj, f.name, unset)) for f in dataclasses.fields(obj))
        state = {name: value for name, value in fields if value is not unset}
    elif isinstance(obj, BaseModel):
        # (marked as a nested model is, its own class aside: a config's is added by
        # _config_state, a method's instance's by its step only where it is a subclass)
        state = _marked_dump(obj, obj.model_dump())
        if isinstance(state, dict):
            state.pop(_CLASS_KEY)
    elif hasattr(obj, "__dict__") or _slot_names(obj):
        # with the attributes its classes' __slots__ hold, which vars() leaves out: a class
        # with __slots__ = ("lr",) under one without was recorded as {}, and T(0.5).fit()
        # returned the model of T(0.1).fit()
        unset = object()
        state = dict(getattr(obj, "__dict__", {}))
        slots = ((name, getattr(obj, name, unset)) for name in _slot_names(obj))
        state.update((name, value) for name, value in slots if value is not unset)
    else:
        return None
    if not isinstance(state, dict):
        return None
    if implicit and _encodes_longer_than(state, MAX_IMPLICIT_STATE_CHARS):
        # Known without walking all of it: a bound method's instance is read on every call
        # (model.predict holding a million floats spent 0.33 s a call here, to record nothing)
        return None
    if not isinstance(obj, BaseModel) or not implicit:  # (a dump is marked already)
        state = _marked(state)  # (a NamedTuple field keeps its class; see _marked)
    try:
        check_json(state)  # what kind_of checks of a struct, the text encoded once
        text = json.dumps(state)
    except ValueError:
        return None
    if implicit and len(text) > MAX_IMPLICIT_STATE_CHARS:
        # Data the instance holds (a dataset kept as a list): 2M numbers took ~6 s a call to
        # copy, encode and write as the property. __lineage_state__ says what matters.
        return None
    # The state the call starts from: the run records it when the call has returned, and an
    # attribute's list or dict changed in place meanwhile (``self.seen.append(uri)``) was
    # recorded as changed. The call then stood for one given the changed state, and the next
    # call, given that state, returned its result without running (a false hit).
    return copy.deepcopy(cast(dict[str, Any], state))


def _config_state(value: object, held: list[Artifact]) -> dict[str, Any] | None:
    """What a step records of a config object given as an argument (``train(d, cfg)``): a
    dataclass's fields, a pydantic model's dump or what its ``__lineage_state__()`` returns,
    with ``"__class__": "module.Class"`` (two config classes with the same fields are two
    settings); None for another object, or one holding more than JSON data or (without the
    hook saying what else matters) artifacts: it is not compared, the call runs. Such a
    config was never recorded, so a cached step never reused a result given one."""
    if isinstance(value, type):
        return None
    hook = callable(getattr(value, "__lineage_state__", None))
    if not (hook or dataclasses.is_dataclass(value) or isinstance(value, BaseModel)):
        return None
    if held and not hook:
        return None
    state = _instance_state(value)
    if state is None:
        return None
    return {**state, _CLASS_KEY: _class_name(type(value))}


def _encodes_longer_than(state: dict[str, Any], most: int) -> bool:
    """Whether ``state``'s JSON text is longer than ``most`` characters, encoded piece by piece
    and stopped past ``most``: the cost is bounded by ``most``, not by the state's size. False
    when it is no JSON data (check_json then says so)."""
    size = 0
    try:
        for chunk in json.JSONEncoder().iterencode(state):
            size += len(chunk)
            if size > most:
                return True
    except (TypeError, ValueError, RecursionError):
        return False
    return False


def _owner(fn: Callable[..., Any]) -> str | None:
    """``module.Class`` of the class whose body defines ``fn`` (None for a function defined
    outside a class: its qualified name has no class part)."""
    qualname = getattr(fn, "__qualname__", None)
    module = getattr(fn, "__module__", None)
    if not isinstance(qualname, str) or not isinstance(module, str) or "." not in qualname:
        return None
    owner = qualname.rpartition(".")[0]
    return None if owner.endswith("<locals>") else f"{module}.{owner}"


def _called(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What calling ``fn`` runs: ``fn``, or the ``__call__`` of a callable instance."""
    if inspect.isroutine(fn) or isinstance(fn, functools.partial | type):
        return fn
    # The class's __call__ (an instance attribute is not called), bound to the instance.
    call = type(fn).__call__
    bind = getattr(call, "__get__", None)
    return cast(Callable[..., Any], bind(fn)) if inspect.isfunction(call) and bind else fn


def _default_type_name(fn: Callable[..., Any]) -> str | None:
    """A step's execution type when none is given: the function's name, with its class's for a
    method (``Linear.fit``; two classes' ``fit`` methods were one type, and with ``cache=True``
    ``Forest().fit(d)`` returned the model ``Linear().fit(d)`` had made). What encloses a
    function or a class defined in a function (``<locals>``) is left out."""
    name = getattr(fn, "__name__", None)
    qualname = getattr(fn, "__qualname__", None)
    if isinstance(name, str) and isinstance(qualname, str) and qualname.endswith(name):
        return qualname.rpartition("<locals>.")[2]
    return name
