"""What a cached step's call is recorded as: two arguments a function can tell apart are never
recorded alike (one call's result reused for the other), and equal values given as another
Python type are one call only where that type cannot change the result."""

from __future__ import annotations

import collections
import enum
from typing import Any

import pytest

from lineage_graph import Artifact, LineageStore


class _Color(enum.IntEnum):
    RED = 1


class _Size(enum.IntEnum):
    SMALL = 1


class _Mode(enum.StrEnum):
    FAST = "fast"


class _Plain(enum.Enum):
    A = "a"
    B = "b"


class _Name(str):
    def shout(self) -> str:
        return self.upper()


class _Count(int):
    pass


class _Ratio(float):
    pass


def _kinds_step(store: LineageStore, name: str = "Kinds") -> tuple[Any, list[str]]:
    """A cached step ``Kinds(x)`` returning a new artifact per run, and the type each run got."""
    ran: list[str] = []

    @store.step(name, cache=True)
    def kinds(x: Any) -> Artifact:
        ran.append(type(x).__name__)
        return Artifact(type="Out", uri=f"/out/{len(ran)}")

    return kinds, ran


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ([1, 2], (1, 2)),  # x + [3] works on one only
        ((1, 2), [1, 2]),
        ({"a": [1, 2]}, {"a": (1, 2)}),
        ({"a": {"b": (1,)}}, {"a": {"b": [1]}}),
        ([1, 2], {"__list__": [1, 2]}),  # a dict holding a mark's key: recorded alike
        ({"a": 1}, {"a": 1, "__class__": "builtins.tuple"}),
        (1, _Color.RED),  # `x is Color.RED`, `x.name`
        (_Color.RED, _Size.SMALL),
        ("fast", _Mode.FAST),
        ({"c": 1}, {"c": _Color.RED}),
        ([[1], [2]], [(1,), (2,)]),
        ({"a": 1}, collections.Counter({"a": 1})),  # counts["b"] is 0 in one, KeyError in the other
        ({"k": {"a": 1}}, {"k": collections.defaultdict(int, {"a": 1})}),
        ({"fast": 1}, {_Mode.FAST: 1}),  # a StrEnum key was its text: `k.name` on one only
        ({"a": {"fast": 1}}, {"a": {_Mode.FAST: 1}}),
        ({_Mode.FAST: 1}, {"fast": 1, "__keys__": f"{__name__}._Mode"}),
        # groups["x"] is 0 in one, [] in the other
        (collections.defaultdict(int), collections.defaultdict(list)),
        (collections.defaultdict(None, {"a": 1}), collections.defaultdict(int, {"a": 1})),
        # a str, int or float subclass of the user's was its value (``x.shout()`` on one only)
        ("a", _Name("a")),
        (1, _Count(1)),
        (0.5, _Ratio(0.5)),
        ({"a": "x"}, {"a": _Name("x")}),
        ([1], [_Count(1)]),
    ],
)
def test_values_a_function_can_tell_apart_are_two_calls(
    store: LineageStore, first: object, then: object
) -> None:
    """``f({"a": (1, 2)})`` returned the result of ``f({"a": [1, 2]})`` without running (and a
    tuple that of a list, an ``IntEnum`` member that of its int or of another enum's member of
    that value, a dict ``{"__list__": [1, 2]}`` that of ``[1, 2]``): they were recorded alike."""
    kinds, ran = _kinds_step(store)
    one = kinds(first)
    two = kinds(then)
    assert len(ran) == 2, ran
    assert one.id != two.id
    # each is still a hit for itself (a dict holding a mark's key is not recorded: it runs)
    assert kinds(first).id == one.id
    again = kinds(then)
    assert (again.id == two.id) == (len(ran) == 2)


@pytest.mark.parametrize(
    "value",
    [
        *[(1, 2), {"a": (1, [2, (3,)])}, _Color.RED, _Mode.FAST, _Plain.B, {"m": _Plain.A}],
        {_Mode.FAST: 1},
        {"a": {_Mode.FAST: [1]}},
        collections.defaultdict(list, {"a": [1]}),
        collections.defaultdict(lambda: 0),  # (by the lambda's qualified name)
    ],
)
def test_a_tuple_or_enum_argument_is_recorded_and_hits_itself(
    store: LineageStore, value: object
) -> None:
    kinds, ran = _kinds_step(store)
    first = kinds(value)
    assert kinds(value).id == first.id
    assert len(ran) == 1
    [recorded, _] = store.get_executions_by_type("Kinds")
    assert "cache_skipped" not in recorded.custom_properties
    assert "x" in recorded.properties


def test_an_enum_member_is_recorded_by_its_name_and_class(store: LineageStore) -> None:
    kinds, _ = _kinds_step(store)
    kinds(_Plain.A)
    kinds((1, 2))
    first, second = store.get_executions_by_type("Kinds")
    assert first.properties["x"] == {"__enum__": "A", "__class__": f"{__name__}._Plain"}
    assert second.properties["x"] == {"__list__": [1, 2], "__class__": "builtins.tuple"}


def test_a_dict_holding_a_marks_key_is_not_recorded(store: LineageStore) -> None:
    kinds, ran = _kinds_step(store)
    first = kinds({"__list__": [1, 2]})
    assert kinds({"__list__": [1, 2]}).id != first.id  # not looked up: it runs
    assert len(ran) == 2
    recorded = store.get_executions_by_type("Kinds")[0]
    assert "x" not in recorded.properties
    assert "'x'" in str(recorded.custom_properties["cache_skipped"])


def test_numpy_int64_and_float64_are_their_python_values(store: LineageStore) -> None:
    """A numpy ``int64`` argument (what ``argmax`` gives) was not recorded: the cached step
    ran every call. ``int64`` and ``float64`` are their Python values; other widths, whose
    arithmetic differs, still run."""
    np = pytest.importorskip("numpy")
    kinds, ran = _kinds_step(store)
    three = kinds(np.int64(3))
    assert kinds(3).id == three.id
    assert kinds(np.int64(3)).id == three.id
    assert store.get_executions_by_type("Kinds")[0].properties["x"] == 3
    kinds(np.int32(3))  # not recorded: runs, never looked up
    kinds(np.int32(3))
    assert len(ran) == 3
    texts, ran_texts = _kinds_step(store, "Texts")
    text = texts(np.str_("fast"))  # (a str subclass recorded as its text, as before)
    assert texts("fast").id == text.id
    assert len(ran_texts) == 1
    structs, ran_structs = _kinds_step(store, "Structs")
    half = structs({"lr": np.float64(0.5), "n": np.int64(2)})
    assert structs({"lr": 0.5, "n": 2}).id == half.id
    assert ran_structs == ["dict"]


class _Unslotted:
    pass


def test_a_method_steps_instance_is_recorded_with_its_slots(store: LineageStore) -> None:
    """An instance whose class declares ``__slots__`` under a class that does not: ``vars()``
    held none of the slots, so ``self`` was recorded ``{}`` and ``T(0.5).fit(d)`` returned the
    model of ``T(0.1).fit(d)`` without running; an artifact held in a slot was no input."""

    class Trainer(_Unslotted):
        __slots__ = ("__seed", "data", "lr")

        def __init__(self, lr: float, data: Artifact | None = None, seed: int = 0) -> None:
            self.lr, self.data, self.__seed = lr, data, seed

        @store.step(cache=True)
        def fit(self) -> Artifact:
            return Artifact(type="Model", uri=f"/m-{self.lr}-{self.__seed}")

    class Pure:
        __slots__ = ("lr",)

        def __init__(self, lr: float) -> None:
            self.lr = lr

        @store.step(cache=True)
        def fit(self) -> Artifact:
            return Artifact(type="Model", uri=f"/p-{self.lr}")

    assert Trainer(0.1).fit().uri == "/m-0.1-0"
    assert Trainer(0.5).fit().uri == "/m-0.5-0"
    assert Trainer(0.5, seed=1).fit().uri == "/m-0.5-1"
    assert Trainer(0.5).fit().uri == "/m-0.5-0"
    assert Pure(0.1).fit().uri == "/p-0.1"
    assert Pure(0.5).fit().uri == "/p-0.5"
    assert Pure(0.5).fit().uri == "/p-0.5"
    first, *_ = store.get_executions_by_type("Trainer.fit")
    assert first.properties["self"] == {"lr": 0.1, "data": None, "_Trainer__seed": 0}
    states = [e.last_known_state.name for e in store.get_executions_by_type("Pure.fit")]
    assert states == ["COMPLETE", "COMPLETE", "CACHED"]
    with store.run("Ingest") as ingest:
        d = ingest.output("DataSet", uri="d")
    trainer = Trainer(0.1, data=d)
    trainer.fit()
    last = store.get_executions_by_type("Trainer.fit")[-1]
    events = store.get_events_by_execution_ids([last.id or 0])
    assert [(e.artifact_id, list(e.path)) for e in events if not e.type.is_output] == [
        (d.id, ["self", 0])
    ]


@pytest.mark.parametrize(
    ("plain", "member", "other"),
    [(1, _Color.RED, _Size.SMALL), ("fast", _Mode.FAST, None)],
)
def test_an_enum_member_where_the_type_declares_its_values_kind_caches(
    store: LineageStore, plain: object, member: enum.Enum, other: enum.Enum | None
) -> None:
    """A step whose type declared the property INT (or STRING), by a call given the plain value
    or by one given the member before members were marked (recorded as its int): a member given
    now, recorded as a struct, was of another kind, kept as a custom property and never looked
    up (``cache_skipped``): such a step ran every call from then on. The member is recorded as
    its value and its mark beside it (``x.__enum__``): it caches from its second call, and is
    still another call than the plain value or another enum's member of that value."""
    kinds, ran = _kinds_step(store)
    by_plain = kinds(plain)
    by_member = kinds(member)
    assert by_member.id != by_plain.id
    assert kinds(member).id == by_member.id
    assert kinds(plain).id == by_plain.id
    assert len(ran) == 2, ran
    if other is not None:
        by_other = kinds(other)
        assert by_other.id not in (by_plain.id, by_member.id)
        assert kinds(other).id == by_other.id
        assert len(ran) == 3, ran
    recorded = store.get_executions_by_type("Kinds")[1]
    assert "cache_skipped" not in recorded.custom_properties
    mark = {"__enum__": member.name, "__class__": f"{__name__}.{type(member).__qualname__}"}
    assert recorded.properties == {"x": plain, "x.__enum__": mark}


def test_a_config_keyed_by_a_str_enum_is_recorded_and_told_from_its_text(
    store: LineageStore,
) -> None:
    """A config whose dict is keyed by a ``StrEnum``'s members was recorded as one keyed by
    their text: ``fit(Job({Mode.FAST: 1}))`` returned the result of ``fit(Job({"fast": 1}))``.
    Its keys are marked, so it is still recorded (a cached step reuses its result), as a
    pydantic config with a ``dict[Mode, int]`` field is."""
    import dataclasses

    from pydantic import BaseModel

    @dataclasses.dataclass
    class Job:
        by_mode: dict[Any, int]

    class Weights(BaseModel):
        by_mode: dict[_Mode, int]

    ran: list[object] = []

    @store.step("Weigh", cache=True)
    def weigh(cfg: object) -> Artifact:
        ran.append(cfg)
        return Artifact(type="Out", uri=f"/w/{len(ran)}")

    by_text = weigh(Job({"fast": 1}))
    by_member = weigh(Job({_Mode.FAST: 1}))
    assert by_member.id != by_text.id
    assert weigh(Job({_Mode.FAST: 1})).id == by_member.id
    weights = weigh(Weights(by_mode={_Mode.FAST: 1}))
    assert weigh(Weights(by_mode={_Mode.FAST: 1})).id == weights.id
    assert len(ran) == 3


def test_a_tuple_nested_past_the_marked_depth_is_not_the_list(store: LineageStore) -> None:
    """Past the depth the marks are made to (32 levels), a tuple was left as it was and
    recorded as a list: ``f({"a": {"a": ... (1, 2)}})`` returned the result of the same dict
    holding ``[1, 2]`` there. Such a value is not recorded (the call runs)."""
    kinds, ran = _kinds_step(store)

    def nested(leaf: object) -> object:
        for _ in range(40):
            leaf = {"a": leaf}
        return leaf

    one = kinds(nested([1, 2]))
    two = kinds(nested((1, 2)))
    assert two.id != one.id
    assert ran == ["dict", "dict"]
    assert kinds({"a": {"a": (1, 2)}}).id == kinds({"a": {"a": (1, 2)}}).id  # (shallow: a hit)


def test_a_decorator_property_named_like_an_enum_mark_does_not_stand_for_it(
    store: LineageStore,
) -> None:
    """A decorator property named ``"x.__enum__"`` was recorded in place of the mark of an enum
    member given as ``x`` (where the type declares ``x`` an int): ``f(1)``, ``f(Color.RED)`` and
    ``f(Size.SMALL)`` were one call, each returning the first one's result. Such a member is of
    another kind than the type declares: the call runs."""
    ran: list[object] = []

    @store.step("Marked", cache=True, properties={"x.__enum__": {"a": 1}})
    def marked(x: Any) -> Artifact:
        ran.append(x)
        return Artifact(type="Out", uri=f"/m/{len(ran)}")

    by_plain = marked(1)
    by_member = marked(_Color.RED)
    by_other = marked(_Size.SMALL)
    assert len({by_plain.id, by_member.id, by_other.id}) == 3
    assert ran == [1, _Color.RED, _Size.SMALL]
    assert marked(1).id == by_plain.id
