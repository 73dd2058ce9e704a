"""The MLMD-shaped numbers the native API takes: enum fields, event path steps, event edge
indexes. Each takes what ml_metadata 1.17.1's own surface takes for it (its protos, its client),
measured: an enum field a member, its name or anything with ``__index__`` (a bool as 0 or 1
too), never a float, a number as text or bytes (pydantic's lax mode took ``1.0``, ``"1"`` and
``b"1"`` as members: a silent wrong value); a path step a str (a subclass by its text) or an
int64 index (an IntEnum, a numpy integer as its int; no bool, as no native int64 field takes
one); an edge index anything with ``__index__``, as ml_metadata's client puts it on its request.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from lineage_graph import LineageStore
from lineage_graph.exceptions import InvalidArgumentError
from lineage_graph.models import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    PropertyType,
)


class Role(enum.IntEnum):
    FIRST = 0
    SECOND = 1


class Key(enum.StrEnum):
    LIVE = "LIVE"
    INT = "INT"
    TRAIN = "train"


class Seven(int):
    """An int whose str() is not its value (json.dumps and str() differ on it)."""

    def __str__(self) -> str:
        return "seven"


class Text(str):
    pass


def _numpy() -> Any:
    return pytest.importorskip("numpy")


REFUSED: list[tuple[str, Any]] = [
    ("float", 1.0),
    ("number as text", "1"),
    ("bytes", b"1"),
    ("list", [1]),
    ("None", None),
]


@pytest.mark.parametrize(("value"), [r[1] for r in REFUSED], ids=[r[0] for r in REFUSED])
@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda v: Artifact(state=v), "state"),
        (lambda v: Execution(last_known_state=v), "last_known_state"),
        (lambda v: Event(type=v), "type"),
        (lambda v: ArtifactType(name="D", properties={"p": v}), "properties.p"),
    ],
    ids=["artifact state", "execution state", "event type", "property type"],
)
def test_an_enum_field_refuses_what_mlmds_protos_refuse(build: Any, field: str, value: Any) -> None:
    """ml_metadata's protos: ``Artifact(state=1.0)`` is TypeError, ``state="1"`` "unknown enum
    label"; these were taken as PENDING / DECLARED_OUTPUT / INT."""
    with pytest.raises(ValidationError) as info:
        build(value)
    [error] = info.value.errors()
    assert ".".join(map(str, error["loc"])) == field
    assert "or its number" in error["msg"]


def test_an_enum_field_refuses_numpy_floats_and_bools() -> None:
    np = _numpy()
    for value in (np.float64(2.0), np.bool_(True)):
        with pytest.raises(ValidationError, match="ArtifactState"):
            Artifact(state=value)


def test_an_enum_field_refuses_a_float_assigned_in_place() -> None:
    artifact = Artifact(state=ArtifactState.LIVE)
    with pytest.raises(ValidationError, match="state"):
        artifact.state = 2.0  # type: ignore[assignment]
    assert artifact.state is ArtifactState.LIVE


def test_an_enum_field_takes_what_mlmds_protos_take(store: LineageStore) -> None:
    """A name (a StrEnum by its text), an int, a bool as its number, another IntEnum as its
    number, as ml_metadata's protos take each; stored and read back as the member."""
    tid = store.put_artifact_type(
        ArtifactType(name="D", properties={"a": Key.INT, "b": True})  # type: ignore[dict-item]
    )
    assert store.get_artifact_type("D").properties == {
        "a": PropertyType.INT,
        "b": PropertyType.INT,
    }
    store.put_execution_type(ExecutionType(name="T"))
    given = [
        Artifact(type_id=tid, state=Key.LIVE),  # type: ignore[arg-type]
        Artifact(type_id=tid, state=True),
        Artifact(type_id=tid, state=ExecutionState.RUNNING),  # the number 2, as in a proto
    ]
    ids = store.put_artifacts(given)
    assert [a.state for a in store.get_artifacts_by_id(ids)] == [
        ArtifactState.LIVE,
        ArtifactState.PENDING,
        ArtifactState.LIVE,
    ]
    [eid] = store.put_executions([Execution(type="T", last_known_state=Role.SECOND)])
    assert store.get_executions_by_id([eid])[0].last_known_state is ExecutionState.NEW


def test_an_enum_field_takes_a_numpy_integer() -> None:
    np = _numpy()
    assert Artifact(state=np.int64(2)).state is ArtifactState.LIVE
    assert Event(type=np.int32(3)).type is EventType.INPUT


@pytest.fixture
def ends(store: LineageStore) -> tuple[int, int]:
    store.put_artifact_type(ArtifactType(name="D"))
    store.put_execution_type(ExecutionType(name="T"))
    [a] = store.put_artifacts([Artifact(type="D")])
    [e] = store.put_executions([Execution(type="T")])
    return a, e


def test_path_steps_put_in_place_are_stored_as_plain_ints_and_strs(
    store: LineageStore, ends: tuple[int, int]
) -> None:
    """A step appended after validation (the write checks the path again) of an int or str
    subclass was refused ("a path step is an int64 index or a str key, got 'k'"); the model
    took the same values, and MLMD's Event.Path.Step takes them as their int and text."""
    a, e = ends
    event = Event(artifact_id=a, execution_id=e, type=EventType.INPUT, path=["in"])
    event.path.extend([Role.SECOND, Text("k"), Key.TRAIN, Seven(7)])
    store.put_events([event])
    [stored] = store.get_events_by_execution_ids([e])
    assert stored.path == ["in", 1, "k", "train", 7]
    assert [type(step) for step in stored.path] == [str, int, str, str, int]


def test_a_validated_path_holds_plain_steps(store: LineageStore, ends: tuple[int, int]) -> None:
    np = _numpy()
    a, e = ends
    event = Event(
        artifact_id=a,
        execution_id=e,
        type=EventType.OUTPUT,
        path=[Role.SECOND, Text("k"), np.int64(3), Seven(7)],
    )
    assert [type(step) for step in event.path] == [int, str, int, int]
    store.put_events([event])
    assert store.get_events_by_execution_ids([e])[0].path == [1, "k", 3, 7]


@pytest.mark.parametrize(
    "given",
    [list, tuple, iter, lambda steps: (s for s in steps), collections.deque],
    ids=["list", "tuple", "iterator", "generator", "deque"],
)
def test_a_path_in_any_iterable_holds_plain_steps(given: Callable[[list[Any]], Any]) -> None:
    """The steps are made plain once for the whole path (plain ones first, then the others):
    whatever iterable pydantic takes as a list."""
    event = Event(type=EventType.OUTPUT, path=given(["a", 5, Role.SECOND, Text("k"), Seven(7)]))
    assert event.path == ["a", 5, 1, "k", 7]
    assert [type(step) for step in event.path] == [str, int, int, str, int]
    with pytest.raises(ValidationError, match=r"path\.1"):
        Event(type=EventType.OUTPUT, path=given(["a", 1.5, Role.SECOND]))


@pytest.mark.parametrize(
    "step", [True, 1.5, 2**63, b"\xff"], ids=["bool", "float", "2^63", "bytes"]
)
def test_a_path_step_put_in_place_that_is_no_step_is_refused(
    store: LineageStore, ends: tuple[int, int], step: Any
) -> None:
    a, e = ends
    event = Event(artifact_id=a, execution_id=e, type=EventType.INPUT)
    event.path.append(step)
    with pytest.raises(InvalidArgumentError, match="a path step is an int64 index or a str key"):
        store.put_events([event])
    assert store.get_events_by_execution_ids([e]) == []


@pytest.mark.parametrize("step", [True, 1.5, 2**63], ids=["bool", "float", "2^63"])
def test_a_path_step_that_is_no_step_is_refused_by_the_model(step: Any) -> None:
    with pytest.raises(ValidationError, match="path"):
        Event(type=EventType.INPUT, path=[step])


def _subgraph(store: LineageStore, index: Any) -> tuple[list[int], list[int], list[int]]:
    return store.put_lineage_subgraph(
        [Execution(type="T")],
        [Artifact(type="D")],
        [],
        [(index, index, Event(type="INPUT"))],  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("kind", ["numpy", "IntEnum"])
def test_an_edge_index_is_taken_as_mlmds_client_takes_it(store: LineageStore, kind: str) -> None:
    """ml_metadata's client puts the index on its request's int32 field, which takes a numpy
    integer (this refused it: "an index is an int or None, got int64")."""
    store.put_artifact_type(ArtifactType(name="D"))
    store.put_execution_type(ExecutionType(name="T"))
    index = _numpy().int64(0) if kind == "numpy" else Role.FIRST
    [e], [a], _ = _subgraph(store, index)
    [event] = store.get_events_by_execution_ids([e])
    assert (event.artifact_id, event.execution_id) == (a, e)


@pytest.mark.parametrize("index", [0.0, "0"], ids=["float", "str"])
def test_an_edge_index_that_is_no_integer_is_refused(store: LineageStore, index: Any) -> None:
    store.put_artifact_type(ArtifactType(name="D"))
    store.put_execution_type(ExecutionType(name="T"))
    with pytest.raises(InvalidArgumentError, match="an index is an int or None"):
        _subgraph(store, index)
    assert store.get_artifacts_by_type("D") == []
