"""The step cache's promise, end to end on the real engine: a call is a hit only when the step
would return the same thing. Each step returns an artifact recording ``repr((type(x), x))`` of
the argument it ran for (as the documented equivalences have it: a numpy ``int64`` / ``float64``
as its Python value, a plain dict's items in any order); a hit that returns another argument's
artifact is a false hit. A call given what an earlier recorded call was given is a hit.

Arguments are generated (hypothesis) from nested JSON data, tuples and lists, enum members (flag
pseudo-members too), dict subclasses, numpy scalars, ``NamedTuple``s, dataclasses and pydantic
models, given directly, inside a dataclass or pydantic config, and as a method step's instance;
and across two openings of one store."""

from __future__ import annotations

import collections
import copy
import dataclasses
import enum
import itertools
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from lineage_graph import Artifact, LineageStore
from lineage_graph.backends import open_backend
from lineage_graph.backends.embedded import EmbeddedBackend


class Color(enum.IntEnum):
    RED = 1
    BLUE = 2


class Size(enum.IntEnum):
    SMALL = 1


class Mode(enum.StrEnum):
    FAST = "fast"
    SLOW = "slow"


class Plain(enum.Enum):
    A = "a"
    B = 1


class Perm(enum.IntFlag):
    R = 1
    W = 2


class Pair(NamedTuple):
    a: Any
    b: Any


class Other(NamedTuple):
    a: Any
    b: Any


@dataclasses.dataclass
class DA:
    v: Any


@dataclasses.dataclass
class DB:
    v: Any


class PA(BaseModel):
    v: Any


class PB(BaseModel):
    v: Any


class Name(str):
    pass


class Count(int):
    pass


class Ratio(float):
    pass


_NUMPY_SAME = (np.int64, np.float64, np.str_)


def canonical(x: Any) -> str:
    """``repr((type(x), x))`` with the documented equivalences: numpy int64 / float64 as their
    Python values, a plain dict's items in key order."""

    def norm(v: Any) -> Any:
        if isinstance(v, _NUMPY_SAME):
            return norm(v.item())
        if isinstance(v, enum.Enum | np.generic | Name | Count | Ratio):
            return (type(v).__qualname__, repr(v))
        if type(v) is dict:
            return ("dict", sorted(((repr(k), norm(i)) for k, i in v.items()), key=str))
        if isinstance(v, dict):
            items = [(repr(k), norm(i)) for k, i in v.items()]
            extra = repr(v.default_factory) if isinstance(v, collections.defaultdict) else ""
            if not isinstance(v, collections.OrderedDict):
                items.sort(key=str)
            return (type(v).__qualname__, extra, items)
        if isinstance(v, list | tuple):
            return (type(v).__qualname__, [norm(i) for i in v])
        if isinstance(v, BaseModel | DA | DB):
            fields = vars(v) if not isinstance(v, BaseModel) else dict(v)
            return (type(v).__qualname__, {k: norm(i) for k, i in fields.items()})
        return (type(v).__qualname__, v)

    return repr(norm(x))


def _floats() -> st.SearchStrategy[float]:
    return st.sampled_from([0.0, -0.0, 1.0, 0.5, 1e300, math.inf])


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 2, -1, 2**53 + 1]),
    _floats(),
    st.sampled_from(["", "a", "fast", "é", "e\u0301", "1"]),
    st.sampled_from([Color.RED, Color.BLUE, Size.SMALL, Mode.FAST, Plain.A, Plain.B]),
    st.sampled_from([Perm.R, Perm.R | Perm.W, Perm(0), Perm(8), Perm(16), Perm(9)]),
    st.sampled_from([np.int64(1), np.float64(0.5), np.int32(1), np.float32(0.5), np.bool_(True)]),
    st.sampled_from([np.str_("a"), Name("a"), Count(1), Ratio(0.5)]),
)

keys = st.sampled_from(["a", "b", "fast", "__list__"])


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    small = st.lists(inner, max_size=3)
    pairs = st.lists(st.tuples(keys, inner), max_size=3)
    return st.one_of(
        small,
        small.map(tuple),
        st.dictionaries(keys, inner, max_size=3),
        st.dictionaries(st.sampled_from(list(Mode)), inner, min_size=1, max_size=2),
        pairs.map(collections.OrderedDict),
        pairs.map(lambda p: collections.Counter(dict(p))),
        pairs.map(lambda p: collections.defaultdict(int, p)),
        pairs.map(lambda p: collections.defaultdict(list, p)),
        st.tuples(inner, inner).map(lambda t: Pair(*t)),
        st.tuples(inner, inner).map(lambda t: Other(*t)),
        inner.map(DA),
        inner.map(DB),
        inner.map(lambda v: PA(v=v)),
        inner.map(lambda v: PB(v=v)),
    )


values = st.recursive(leaves, _containers, max_leaves=6)

#: (pairs, not a dict: Color.RED, Count(1) and np.int32(1) are equal keys)
_SWAPS: list[tuple[Any, Any]] = [
    (Color.RED, Size.SMALL),
    (Size.SMALL, Color.RED),
    (Mode.FAST, "fast"),
    (Plain.B, 1),
    (Perm(8), Perm(16)),
    (Perm(0), Perm(8)),
    (np.int32(1), np.int64(1)),
    (Name("a"), "a"),
    (Count(1), 1),
]


def _sibling(v: Any, pick: int) -> tuple[Any, int]:
    """``v`` with its node number ``pick`` (depth first) given another class or order that a
    record could lose (a dataclass or model for its twin, a tuple for a list, a dict subclass for
    a dict, an enum member for another's or its value, a reversed OrderedDict); and what is
    left of ``pick``."""
    if pick == 0:
        for old, new in _SWAPS:
            if type(v) is type(old) and v == old:
                return new, -1
        if isinstance(v, bool | int | float | str) or v is None:
            return v, -1
        twins: dict[type, Callable[[Any], Any]] = {
            DA: lambda x: DB(x.v),
            DB: lambda x: DA(x.v),
            PA: lambda x: PB(v=x.v),
            PB: lambda x: PA(v=x.v),
            Pair: lambda x: Other(*x),
            Other: lambda x: Pair(*x),
            tuple: list,
            list: tuple,
            dict: collections.Counter,
            collections.Counter: dict,
            collections.OrderedDict: lambda x: collections.OrderedDict(reversed(x.items())),
            collections.defaultdict: lambda x: collections.defaultdict(
                list if x.default_factory is int else int, x
            ),
        }
        swap = twins.get(type(v))
        return (swap(v) if swap else v), -1
    pick -= 1
    if isinstance(v, DA | DB):
        inner, pick = _sibling(v.v, pick)
        return type(v)(inner), pick
    if isinstance(v, PA | PB):
        inner, pick = _sibling(v.v, pick)
        return type(v)(v=inner), pick
    if isinstance(v, list | tuple):
        items = []
        for item in v:
            item, pick = _sibling(item, pick)
            items.append(item)
        return (type(v)(*items) if hasattr(v, "_fields") else type(v)(items)), pick
    if isinstance(v, dict):
        out = copy.copy(v)
        for k, item in v.items():
            out[k], pick = _sibling(item, pick)
        return out, pick
    return v, pick


#: How a value reaches the step: as the argument, in a config, as a method step's instance.
#: (``unrecorded``: an argument with ``record_args=False``, never looked up unless it is None)
SHAPES = ("arg", "dataclass", "pydantic", "self", "unrecorded")

_names = itertools.count()


class _Holder:
    def __init__(self, v: Any) -> None:
        self.v = v


def _make_step(store: LineageStore, shape: str, name: str) -> Callable[[Any], Artifact]:
    """A cached step of the given shape returning an artifact that records the argument."""

    def out(x: Any) -> Artifact:
        return Artifact(type="Out", uri=f"/o/{name}", properties={"r": canonical(x)})

    if shape == "self":

        class Fitter(_Holder):
            @store.step(name, cache=True)
            def fit(self) -> Artifact:
                return out(self.v)

        return lambda x: Fitter(x).fit()

    @store.step(name, cache=True, record_args=shape != "unrecorded")
    def f(x: Any) -> Artifact:
        return out(x.v if shape in ("dataclass", "pydantic") else x)

    wrap: Callable[[Any], Any] = {
        "arg": lambda x: x,
        "unrecorded": lambda x: x,
        "dataclass": DA,
        "pydantic": lambda x: PA(v=x),
    }[shape]
    return lambda x: f(wrap(x))


def _check(store: LineageStore, step: Callable[[Any], Artifact], name: str, x: Any) -> bool:
    """Call; a hit must be the result of an equal call. Whether it was a hit."""
    before = len(store.get_executions_by_type(name))
    got = step(x)
    [run] = store.get_executions_by_type(name)[before:]
    hit = run.last_known_state.name == "CACHED"
    if hit:
        assert got.properties["r"] == canonical(x), (
            f"a false hit: called with {canonical(x)}, got the result of {got.properties['r']}"
            f" ({[(e.id, e.properties) for e in store.get_executions_by_type(name)]})"
        )
    return hit


def _looked_up(store: LineageStore, name: str) -> bool:
    """Whether the newest call of the step was looked up (recorded whole)."""
    newest = store.get_executions_by_type(name)[-1]
    return "cache_skipped" not in newest.custom_properties


def _exercise(store: LineageStore, shape: str, a: Any, b: Any) -> None:
    name = f"D{next(_names)}"
    step = _make_step(store, shape, name)
    assert not _check(store, step, name, a)
    a_recorded = _looked_up(store, name)
    b_hit = _check(store, step, name, b)
    if b_hit:
        assert canonical(a) == canonical(b)
    if shape == "unrecorded":
        assert a_recorded == (a is None)
    # the first call again: a hit if it was recorded (b, recorded or not, cannot change that)
    assert _check(store, step, name, a) == a_recorded, canonical(a)
    _check(store, step, name, b)


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedBackend]:
    backend = open_backend("memory")
    assert isinstance(backend, EmbeddedBackend)
    yield backend
    backend.close()


_graphs = itertools.count()


@pytest.mark.parametrize("shape", SHAPES)
def test_a_hit_only_for_the_same_argument(server: EmbeddedBackend, shape: str) -> None:
    assert server.server is not None
    backend = open_backend(f"unix://{server.server.socket_path}", graph=f"kd{next(_graphs)}")
    store = LineageStore(backend)
    try:

        @settings(
            max_examples=int(os.environ.get("RRH_N", "60")),
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(a=values, data=st.data())
        def check(a: Any, data: st.DataObject) -> None:
            # often an equal value (a copy) or one differing in one place only, else another
            pick = data.draw(st.integers(0, 12))
            b = data.draw(
                st.one_of(st.just(copy.deepcopy(a)), st.just(_sibling(a, pick)[0]), values)
            )
            _exercise(store, shape, a, b)

        check()
    finally:
        assert isinstance(backend, EmbeddedBackend)
        backend.drop_graph()
        backend.close()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Perm(8), Perm(16)),  # flag pseudo-members have no name
        (Perm(0), Perm(8)),
        (PA(v=DA(1)), PA(v=DB(1))),  # a pydantic dump loses a dataclass's class
        (PA(v=Pair(1, 2)), PA(v=Other(1, 2))),
        (PA(v=Pair(1, 2)), PA(v=(1, 2))),
        (PA(v={"a": 1}), PA(v=collections.Counter({"a": 1}))),
        (PA(v=[DA(1)]), PA(v=[DB(1)])),
        (PA(v=collections.defaultdict(int)), PA(v=collections.defaultdict(list))),
        # a struct's key order is left aside, but not an OrderedDict's (they are not equal)
        (collections.OrderedDict(a=1, b=2), collections.OrderedDict(b=2, a=1)),
        (PA(v=collections.OrderedDict(a=1, b=2)), PA(v=collections.OrderedDict(b=2, a=1))),
        ({Mode.FAST: 1, Mode.SLOW: 2}, collections.OrderedDict({Mode.SLOW: 2, Mode.FAST: 1})),
    ],
)
def test_values_recorded_alike_before(store: LineageStore, a: Any, b: Any) -> None:
    """Pairs that were one call: a flag's members without a name (``Perm(8)``, ``Perm(0)``:
    ``{"__enum__": null}``), and the values a pydantic model's dump turns into plain dicts and
    tuples (a dataclass, a ``NamedTuple``, a ``Counter``), whose class was lost."""
    for shape in ("arg", "pydantic"):
        name = f"R{next(_names)}"
        step = _make_step(store, shape, name)
        assert not _check(store, step, name, a)
        assert not _check(store, step, name, b)
        assert _check(store, step, name, a)
        assert _check(store, step, name, b)


def test_across_two_openings_of_a_store() -> None:
    """A store written, closed and opened again: its records answer the same way."""
    with tempfile.TemporaryDirectory() as tmp:
        where = str(Path(tmp) / "store")
        pairs = [
            (Color.RED, Size.SMALL),
            (1, Color.RED),
            ((1, 2), [1, 2]),
            ({"a": (1,)}, {"a": [1]}),
            (Perm(8), Perm(16)),
            (PA(v=DA(1)), PA(v=DB(1))),
            (collections.Counter(a=1), {"a": 1}),
            ({Mode.FAST: 1}, {"fast": 1}),
            (np.int64(3), 3),
        ]
        first = LineageStore.open(where)
        try:
            for i, (a, _) in enumerate(pairs):
                step = _make_step(first, "arg", f"T{i}")
                _check(first, step, f"T{i}", a)
        finally:
            first.close()
        second = LineageStore.open(where)
        try:
            for i, (a, b) in enumerate(pairs):
                step = _make_step(second, "arg", f"T{i}")
                b_hit = _check(second, step, f"T{i}", b)
                assert b_hit == (canonical(a) == canonical(b)), (a, b)
                assert _check(second, step, f"T{i}", a)
        finally:
            second.close()
