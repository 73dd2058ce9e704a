"""The native store's behaviour, identical on every engine."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    NotFoundError,
    OutOfRangeError,
    ParentContext,
    PropertyType,
    ProtoValue,
)
from lineage_graph._repositories.graph import FEW_ROWS
from lineage_graph._schema import SCHEMA_VERSION
from lineage_graph.models import INT64_MAX, INT64_MIN

from ..conftest import reads_of


def snapshot(store: LineageStore) -> tuple[object, ...]:
    """Everything a test can observe in a store, to prove a failed write changed nothing."""
    arts = store.get_artifacts()
    execs = store.get_executions()
    ctxs = store.get_contexts()
    events = store.get_events_by_artifact_ids([a.id for a in arts if a.id])
    links = [
        (
            c.id,
            [a.id for a in store.get_artifacts_by_context(c.id or 0)],
            [e.id for e in store.get_executions_by_context(c.id or 0)],
            [p.id for p in store.get_parent_contexts_by_context(c.id or 0)],
        )
        for c in ctxs
    ]
    types = [store.get_types(k) for k in NodeKind]
    return (arts, execs, ctxs, events, links, types)


@pytest.fixture
def typed(store: LineageStore) -> LineageStore:
    store.put_artifact_type(
        ArtifactType(
            name="DataSet",
            properties={
                "day": PropertyType.INT,
                "split": PropertyType.STRING,
                "weight": PropertyType.DOUBLE,
                "ok": PropertyType.BOOLEAN,
                "meta": PropertyType.STRUCT,
                "pb": PropertyType.PROTO,
            },
        )
    )
    store.put_artifact_type(ArtifactType(name="SavedModel"))
    store.put_execution_type(ExecutionType(name="Trainer", properties={"lr": PropertyType.DOUBLE}))
    store.put_context_type(ContextType(name="Experiment", properties={"note": PropertyType.STRING}))
    return store


# ------------------------------------------------------------------------------------ types


def test_type_ids_are_shared_and_stable(store: LineageStore) -> None:
    a = store.put_artifact_type(ArtifactType(name="DataSet"))
    e = store.put_execution_type(ExecutionType(name="Trainer"))
    c = store.put_context_type(ContextType(name="Experiment"))
    assert len({a, e, c}) == 3
    assert store.put_artifact_type(ArtifactType(name="DataSet")) == a
    assert store.get_artifact_type("DataSet").id == a
    assert [t.name for t in store.get_types(NodeKind.EXECUTION)] == ["Trainer"]
    assert store.get_types_by_id(NodeKind.CONTEXT, [c, a]) == [store.get_context_type("Experiment")]


def test_type_versions_are_distinct_types(store: LineageStore) -> None:
    v1 = store.put_artifact_type(ArtifactType(name="Model", version="1"))
    v2 = store.put_artifact_type(ArtifactType(name="Model", version="2"))
    plain = store.put_artifact_type(ArtifactType(name="Model"))
    assert len({v1, v2, plain}) == 3
    assert store.get_artifact_type("Model", "2").id == v2
    with pytest.raises(NotFoundError):
        store.get_artifact_type("Model", "3")


def test_type_upgrade_rules(store: LineageStore) -> None:
    base = ArtifactType(name="DataSet", properties={"day": PropertyType.INT})
    tid = store.put_artifact_type(base)
    wider = ArtifactType(
        name="DataSet", properties={"day": PropertyType.INT, "split": PropertyType.STRING}
    )
    with pytest.raises(AlreadyExistsError, match="can_add_fields"):
        store.put_artifact_type(wider)
    assert store.put_artifact_type(wider, can_add_fields=True) == tid
    assert set(store.get_artifact_type("DataSet").properties) == {"day", "split"}
    narrower = ArtifactType(name="DataSet", properties={"day": PropertyType.INT})
    with pytest.raises(AlreadyExistsError, match="can_omit_fields"):
        store.put_artifact_type(narrower)
    assert store.put_artifact_type(narrower, can_omit_fields=True) == tid
    assert set(store.get_artifact_type("DataSet").properties) == {"day", "split"}
    conflicting = ArtifactType(name="DataSet", properties={"day": PropertyType.STRING})
    with pytest.raises(AlreadyExistsError, match="conflicting property value type"):
        store.put_artifact_type(conflicting, can_add_fields=True, can_omit_fields=True)
    assert store.get_artifact_type("DataSet").properties["day"] == PropertyType.INT


def _all_types(store: LineageStore) -> list[Any]:
    return [t for kind in NodeKind for t in store.get_types(kind)]


def test_a_type_id_given_must_be_the_types_own(store: LineageStore) -> None:
    """An id on a type names the stored type the call updates. It was ignored: an unknown id
    registered a new type under another id, another type's id upgraded the named one."""
    a = store.put_artifact_type(ArtifactType(name="A"))
    b = store.put_artifact_type(ArtifactType(name="B"))
    e = store.put_execution_type(ExecutionType(name="E"))
    wider = ArtifactType(id=a, name="A", properties={"x": PropertyType.INT})
    assert store.put_artifact_type(wider, can_add_fields=True) == a  # its own id: an upgrade
    before = _all_types(store)
    for t, error, match in [
        (ArtifactType(id=999, name="N"), NotFoundError, "no type with id 999"),
        (ArtifactType(id=999, name="A"), NotFoundError, "no type with id 999"),
        (ArtifactType(id=b, name="A"), InvalidArgumentError, f"type id {b} is ArtifactType 'B'"),
        (ArtifactType(id=a, name="N"), InvalidArgumentError, f"type id {a} is ArtifactType 'A'"),
        (ArtifactType(id=a, name="A", version="2"), InvalidArgumentError, "not ArtifactType"),
        (ContextType(id=e, name="E"), InvalidArgumentError, f"type id {e} is ExecutionType 'E'"),
    ]:
        with pytest.raises(error, match=match):
            store.put_type(t, can_add_fields=True)
    assert _all_types(store) == before


def test_an_unknown_base_type_is_refused(store: LineageStore) -> None:
    """``base_type`` is one of MLMD's base types of the kind; any string was stored."""
    assert store.put_artifact_type(ArtifactType(name="D", base_type="DATASET"))
    assert store.put_execution_type(ExecutionType(name="T", base_type="TRAIN"))
    before = _all_types(store)
    for t in [
        ArtifactType(name="N", base_type="dataset"),
        ArtifactType(name="N", base_type="TRAIN"),  # an execution's base type
        ArtifactType(name="D", base_type="UNSET"),  # None is no base type
        ExecutionType(name="T", base_type="NOPE"),
        ContextType(name="C", base_type="DATASET"),  # a context type has none
    ]:
        with pytest.raises(InvalidArgumentError, match="unknown base_type"):
            store.put_type(t)
    assert _all_types(store) == before
    # One an older release stored is kept, and may be given back as read.
    store.backend.write(
        "MATCH (t:ArtifactType {name: 'D'}) SET t.base_type = 'LEGACY'", {}, name="tests/legacy"
    )
    legacy = store.get_artifact_type("D")
    assert legacy.base_type == "LEGACY"
    assert store.put_type(legacy.model_copy(update={"description": "x"})) == legacy.id


def test_type_external_ids(store: LineageStore) -> None:
    tid = store.put_artifact_type(ArtifactType(name="A", external_id="ext-a"))
    assert [
        t.id for t in store.get_types_by_external_ids(NodeKind.ARTIFACT, ["ext-a", "nope"])
    ] == [tid]
    with pytest.raises(AlreadyExistsError):
        store.put_artifact_type(ArtifactType(name="B", external_id="ext-a"))


# -------------------------------------------------------------------------- property values

ODD_NAMES = [
    "plain",
    "with space",
    "ünï©ødé 🙂",
    "back`tick",
    "per%cent",
    "nul\x00char",
    "a.b",
    "$x",
    "'\"",
]


@pytest.mark.parametrize(
    "value",
    [
        0,
        INT64_MAX,
        INT64_MIN,
        -1,
        0.1 + 0.2,
        1e308,
        -0.0,
        5e-324,
        float("inf"),
        float("-inf"),
        "",
        "ünï©ødé 🙂\n\t\\'\"`",
        "nul\x00inside",
        "x" * 100_000,
        True,
        False,
        {"a": [1, 2.5, None, True, "s"], "b": {"c": {}}},
        {},
        ProtoValue(type_url="type.googleapis.com/x.Y", value=b"\x00\x01\xff"),
        ProtoValue(type_url="t", value=b""),
    ],
    ids=repr,
)
def test_custom_property_round_trip(typed: LineageStore, value: object) -> None:
    [aid] = typed.put_artifacts([Artifact(type="DataSet", custom_properties={"v": value})])
    [got] = typed.get_artifacts_by_id([aid])
    stored = got.custom_properties["v"]
    assert type(stored) is type(value)
    assert stored == value
    if isinstance(value, float):
        assert math.copysign(1, stored) == math.copysign(1, value)  # type: ignore[arg-type]


class _ShownOtherwise(int):
    """An int whose str() is not its value (the parameter text is written with str())."""

    def __str__(self) -> str:
        return "99"


def test_an_int_subclass_is_stored_by_its_value(typed: LineageStore) -> None:
    """It was stored as its str(): custom_properties={"v": <7 shown as "99">} read back 99."""
    value = _ShownOtherwise(7)
    [aid] = typed.put_artifacts([Artifact(type="DataSet", custom_properties={"v": value})])
    [got] = typed.get_artifacts_by_id([aid])
    assert got.custom_properties["v"] == 7 and type(got.custom_properties["v"]) is int


def test_nan_round_trip(typed: LineageStore) -> None:
    [aid] = typed.put_artifacts(
        [
            Artifact(
                type="DataSet",
                properties={"weight": float("nan")},
                custom_properties={"n": float("nan")},
            )
        ]
    )
    [got] = typed.get_artifacts_by_id([aid])
    assert math.isnan(got.properties["weight"]) and math.isnan(got.custom_properties["n"])


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_property_names_round_trip(typed: LineageStore, name: str) -> None:
    typed.put_artifact_type(ArtifactType(name="Odd", properties={name: PropertyType.STRING}))
    [aid] = typed.put_artifacts(
        [Artifact(type="Odd", properties={name: "p"}, custom_properties={name: "c"})]
    )
    [got] = typed.get_artifacts_by_id([aid])
    assert got.properties == {name: "p"} and got.custom_properties == {name: "c"}


def _many_shapes(fits: bool) -> list[Artifact]:
    from lineage_graph._repositories.graph import MAX_INLINE_GROUPS, MAX_INLINE_KEYS

    tricky = ["$new_artifacts", "$new_artifacts_0", "$r[0]", "{id: r[0]}", "`", *ODD_NAMES]
    if fits:  # keys from one small pool (one group), and a shape beyond a group's size alone
        custom = [{tricky[k]: k for k in range(i % len(tricky))} for i in range(40)]
        custom.append({f"{tricky[k % len(tricky)]} {k}": k for k in range(MAX_INLINE_KEYS + 9)})
    else:  # shapes sharing no key, one group each: more of them than are written out
        custom = [{f"s{s}_{k}": s for k in range(50)} for s in range(MAX_INLINE_GROUPS + 3)]
    return [
        Artifact(
            type="DataSet",
            uri=f"/d/{i}" if i % 3 else None,
            name=f"n{i}" if i % 2 else None,
            external_id=f"x{i}" if i % 5 == 0 else None,
            properties={"day": i} if i % 4 else {"split": "s", "ok": i % 8 == 0},
            custom_properties=c,
        )
        for i, c in enumerate(custom)
    ]


@pytest.mark.parametrize("fits", [True, False], ids=["inline", "rest"])
def test_one_write_of_nodes_with_many_property_shapes(typed: LineageStore, fits: bool) -> None:
    """New nodes of one write keep exactly their own fields and properties, whatever mix of
    keys the rows have (FalkorDB writes new nodes' keys into the CREATE, grouped by keys, or
    SETs them when the shapes are too many: rows lacking keys, a row with more keys than a
    group holds, names that look like the statement's own parameters), next to an update of
    a stored node."""
    [run] = typed.put_executions([Execution(type="Trainer", properties={"lr": 0.5})])
    artifacts = _many_shapes(fits)
    contexts = [
        Context(type="Experiment", name=f"c{i}", properties={"note": f"{i}"} if i else {})
        for i in range(3)
    ]
    outputs = [Event(type=EventType.OUTPUT) for _ in artifacts]
    done = Execution(
        id=run,
        type="Trainer",
        last_known_state=ExecutionState.COMPLETE,
        custom_properties={"$r[0]": "a", "{id: r[0]}": 1},
    )
    eid, aids, cids = typed.put_execution(
        done, list(zip(artifacts, outputs, strict=True)), contexts
    )
    assert eid == run
    for given, got in zip(artifacts, typed.get_artifacts_by_id(aids), strict=True):
        assert (got.uri, got.name, got.external_id) == (given.uri, given.name, given.external_id)
        assert got.properties == given.properties
        assert got.custom_properties == given.custom_properties
    for given_c, got_c in zip(contexts, typed.get_contexts_by_id(cids), strict=True):
        assert (got_c.name, got_c.properties) == (given_c.name, given_c.properties)
    [stored] = typed.get_executions_by_id([run])
    assert stored.last_known_state == ExecutionState.COMPLETE
    assert stored.properties == {} and stored.custom_properties == done.custom_properties
    assert len(typed.get_events_by_execution_ids([run])) == len(artifacts)


def test_declared_properties_of_every_kind(typed: LineageStore) -> None:
    props = {
        "day": INT64_MIN,
        "split": "train",
        "weight": 0.1,
        "ok": False,
        "meta": {"k": [1]},
        "pb": ProtoValue(type_url="u", value=b"\xff"),
    }
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/d", properties=props)])
    [got] = typed.get_artifacts_by_id([aid])
    assert got.properties == props
    assert got.type == "DataSet" and got.uri == "/d"
    assert got.create_time_since_epoch and got.last_update_time_since_epoch


def test_int_is_promoted_for_a_double_property(typed: LineageStore) -> None:
    [aid] = typed.put_artifacts([Artifact(type="DataSet", properties={"weight": 3})])
    [got] = typed.get_artifacts_by_id([aid])
    assert got.properties["weight"] == 3.0 and isinstance(got.properties["weight"], float)


@pytest.mark.parametrize("value", [2**53 + 1, INT64_MAX, INT64_MIN + 1, -(2**60) - 1])
def test_an_int_no_double_holds_is_refused_for_a_double_property(
    typed: LineageStore, value: int
) -> None:
    """Promoted, it was read back as another number (2**53 + 1 as 2**53; INT64_MAX as 2**63)."""
    before = snapshot(typed)
    with pytest.raises(InvalidArgumentError, match="no double holds exactly"):
        typed.put_artifacts([Artifact(type="DataSet", properties={"weight": value})])
    assert snapshot(typed) == before
    # one a double holds exactly is still promoted
    [aid] = typed.put_artifacts([Artifact(type="DataSet", properties={"weight": 2**60})])
    assert typed.get_artifacts_by_id([aid])[0].properties["weight"] == float(2**60)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("artifact", "error", "match"),
    [
        (
            Artifact(type="DataSet", properties={"nope": 1}),
            InvalidArgumentError,
            "unknown property",
        ),
        (
            Artifact(type="DataSet", properties={"day": "1"}),
            InvalidArgumentError,
            "unmatched property type",
        ),
        (
            Artifact(type="DataSet", properties={"ok": 1}),
            InvalidArgumentError,
            "unmatched property type",
        ),
        (Artifact(type="DataSet", properties={"split": True}), InvalidArgumentError, "unmatched"),
        (Artifact(type="NoSuchType"), InvalidArgumentError, "register it first"),
        (Artifact(), InvalidArgumentError, "type_id or a type name"),
        (Artifact(type_id=999_999), InvalidArgumentError, "no ArtifactType with id"),
        (Artifact(type="DataSet", uri="bad\x00uri"), InvalidArgumentError, "NUL"),
        (Artifact(id=424242, type="DataSet"), NotFoundError, "no artifact with id"),
    ],
)
def test_bad_artifacts_are_typed_errors_and_change_nothing(
    typed: LineageStore, artifact: Artifact, error: type[Exception], match: str
) -> None:
    typed.put_artifacts([Artifact(type="DataSet", uri="/keep")])
    before = snapshot(typed)
    good = Artifact(type="DataSet", uri="/good")
    with pytest.raises(error, match=match):
        typed.put_artifacts([good, artifact])
    assert snapshot(typed) == before


#: A write's collection argument that is no list: a TypeError escaped from deep in the write
#: (put_artifacts(None), put_execution(e, None)...), or None / {} was taken for "nothing"
#: (put_parent_contexts).
NOT_LISTS: list[tuple[str, Any]] = [
    ("put_artifacts None", lambda s: s.put_artifacts(None)),
    ("put_executions int", lambda s: s.put_executions(5)),
    ("field_mask_paths str", lambda s: s.put_artifacts([], field_mask_paths="uri")),
    ("put_events None", lambda s: s.put_events(None)),
    ("links None", lambda s: s.put_attributions_and_associations(None, [])),
    ("put_parent_contexts None", lambda s: s.put_parent_contexts(None)),
    ("put_parent_contexts dict", lambda s: s.put_parent_contexts({})),
    ("put_execution events None", lambda s: s.put_execution(Execution(type="Trainer"), None)),
    ("put_execution contexts None", lambda s: s.put_execution(Execution(type="Trainer"), [], None)),
    ("put_lineage_subgraph None", lambda s: s.put_lineage_subgraph(None, [], [], [])),
    ("put_lineage_subgraph edges int", lambda s: s.put_lineage_subgraph([], [], [], 5)),
]


@pytest.mark.parametrize(("what", "call"), NOT_LISTS, ids=[w for w, _ in NOT_LISTS])
def test_a_collection_argument_that_is_no_list_is_a_typed_error(
    typed: LineageStore, what: str, call: Any
) -> None:
    before = snapshot(typed)
    with pytest.raises(InvalidArgumentError, match="must be a list"):
        call(typed)
    assert snapshot(typed) == before


#: An item of a write's list that is of the wrong shape or model: an AttributeError, ValueError
#: or TypeError escaped from deep in the write (or, a reuse flag "no", was taken as true).
BAD_ITEMS: list[tuple[str, Any]] = [
    ("mask path int", lambda s: s.put_artifacts([Artifact(type="DataSet")], field_mask_paths=[1])),
    (
        "mask path None",
        lambda s: s.put_artifacts([Artifact(type="DataSet")], field_mask_paths=[None]),
    ),
    (
        "an association among the attributions",
        lambda s: s.put_attributions_and_associations(
            [Association(execution_id=1, context_id=1)], []
        ),
    ),
    (
        "an attribution among the associations",
        lambda s: s.put_attributions_and_associations(
            [], [Attribution(artifact_id=1, context_id=1)]
        ),
    ),
    (
        "put_execution: an artifact, no pair",
        lambda s: s.put_execution(Execution(type="Trainer"), [Artifact(type="DataSet")]),
    ),
    (
        "put_execution: a triple",
        lambda s: s.put_execution(Execution(type="Trainer"), [(Artifact(type="DataSet"), None, 1)]),
    ),
    (
        "put_execution: an event that is a str",
        lambda s: s.put_execution(Execution(type="Trainer"), [(Artifact(type="DataSet"), "in")]),
    ),
    (
        "put_execution: a context that is a str",
        lambda s: s.put_execution(Execution(type="Trainer"), [], ["run-1"]),
    ),
    (
        "put_execution: a reuse flag that is no bool",
        lambda s: s.put_execution(
            Execution(type="Trainer"),
            [],
            [Context(type="Experiment", name="exp")],
            reuse_context_if_already_exist="no",
        ),
    ),
    (
        "put_lineage_subgraph: an edge that is an Event",
        lambda s: s.put_lineage_subgraph(
            [Execution(type="Trainer")],
            [Artifact(type="DataSet")],
            [],
            [Event(type=EventType.INPUT)],
        ),
    ),
    (
        "put_lineage_subgraph: an edge of two",
        lambda s: s.put_lineage_subgraph(
            [Execution(type="Trainer")],
            [Artifact(type="DataSet")],
            [],
            [(0, Event(type=EventType.INPUT))],
        ),
    ),
    (
        "put_lineage_subgraph: an index that is a str",
        lambda s: s.put_lineage_subgraph(
            [Execution(type="Trainer")],
            [Artifact(type="DataSet")],
            [],
            [("0", 0, Event(type=EventType.INPUT))],
        ),
    ),
    (
        "put_lineage_subgraph: no event",
        lambda s: s.put_lineage_subgraph(
            [Execution(type="Trainer")], [Artifact(type="DataSet")], [], [(0, 0, None)]
        ),
    ),
    (
        "put_lineage_subgraph: a context that is a str",
        lambda s: s.put_lineage_subgraph([Execution(type="Trainer")], [], ["run-1"], []),
    ),
    (
        "put_lineage_subgraph: a reuse flag that is no bool",
        lambda s: s.put_lineage_subgraph(
            [Execution(type="Trainer")],
            [Artifact(type="DataSet", external_id="stored")],
            [],
            [],
            reuse_artifact_if_already_exist_by_external_id=1,
        ),
    ),
]


@pytest.mark.parametrize(("what", "call"), BAD_ITEMS, ids=[w for w, _ in BAD_ITEMS])
def test_an_item_of_the_wrong_shape_is_a_typed_error(
    typed: LineageStore, what: str, call: Any
) -> None:
    typed.put_artifacts([Artifact(type="DataSet", external_id="stored", uri="/s")])
    typed.put_contexts([Context(type="Experiment", name="exp")])
    typed.put_executions([Execution(type="Trainer")])
    before = snapshot(typed)
    with pytest.raises(InvalidArgumentError):
        call(typed)
    assert snapshot(typed) == before


@pytest.mark.parametrize("flag", ["can_add_fields", "can_omit_fields"])
def test_an_upgrade_flag_that_is_no_bool_is_a_typed_error(typed: LineageStore, flag: str) -> None:
    """can_add_fields="no" is true: it added the field (and can_omit_fields="no" dropped one)."""
    before = snapshot(typed)
    upgrade = ArtifactType(name="DataSet", properties={"new_field": PropertyType.INT})
    with pytest.raises(InvalidArgumentError, match=f"{flag} is True or False"):
        typed.put_artifact_type(
            upgrade, **{"can_add_fields": True, "can_omit_fields": True, flag: "no"}
        )
    assert snapshot(typed) == before


def _path_changed_in_place(step: object) -> Event:
    event = Event(type=EventType.INPUT, path=[0])
    event.path.append(step)  # type: ignore[arg-type]  # a list is not validated when changed
    return event


#: Models that skipped validation (``model_construct``) or were changed in place: the write
#: checks every stored field again, since reads do not validate what the store holds.
UNVALIDATED: list[tuple[str, Any, str]] = [
    ("uri an int", Artifact.model_construct(type="DataSet", uri=5), "uri must be a str"),
    ("name an int", Artifact.model_construct(type="DataSet", name=7), "name must be a str"),
    ("state unknown", Artifact.model_construct(type="DataSet", state=42), "not a known state"),
    ("state a bool", Artifact.model_construct(type="DataSet", state=True), "must be a state"),
    # a name is converted by validation only: unconverted, it is no state
    ("state a name", Artifact.model_construct(type="DataSet", state="LIVE"), "must be a state"),
    ("id a str", Artifact.model_construct(id="5", uri="/x"), "id must be a positive int"),
    (
        "execution state unknown",
        Execution.model_construct(type="Trainer", last_known_state=99),
        "not a known state",
    ),
    ("context without name", Context.model_construct(type="Experiment"), "needs a name"),
    ("path step a float", _path_changed_in_place(1.5), "a path step"),
    ("path step a bool", _path_changed_in_place(True), "a path step"),
    ("path step past int64", _path_changed_in_place(2**70), "a path step"),
    ("path step None", _path_changed_in_place(None), "a path step"),
    # a str was stored as its characters (["a", "b"]), bytes as their codes, a dict as its
    # keys; a number was a bare TypeError ("'int' object is not iterable")
    ("path a str", Event.model_construct(type=EventType.INPUT, path="ab"), "path is a list"),
    ("path bytes", Event.model_construct(type=EventType.INPUT, path=b"ab"), "path is a list"),
    ("path a dict", Event.model_construct(type=EventType.INPUT, path={7: 1}), "path is a list"),
    ("path an int", Event.model_construct(type=EventType.INPUT, path=5), "path is a list"),
    ("event type UNKNOWN", Event.model_construct(type=EventType.UNKNOWN), "needs a type"),
    ("event type an int", Event.model_construct(type=3), "needs a type"),
    ("event type a name", Event.model_construct(type="INPUT"), "needs a type"),
    (
        "event time a str",
        Event.model_construct(type=EventType.INPUT, milliseconds_since_epoch="1"),
        "must be an int64",
    ),
    ("attribution id a str", Attribution.model_construct(artifact_id="1"), "positive int"),
    ("association id a bool", Association.model_construct(execution_id=True), "positive int"),
    ("parent id a float", ParentContext.model_construct(parent_id=1.5), "positive int"),
    ("parent id missing", ParentContext.model_construct(), "positive int"),
    ("id past int64", Artifact.model_construct(id=2**63, uri="/x"), "positive int64"),
    ("link id past int64", Attribution.model_construct(artifact_id=2**64), "positive int64"),
    (
        "properties None",
        Artifact.model_construct(type="DataSet", properties=None),
        "properties must be a dict",
    ),
    (
        "custom property name an int",
        Artifact.model_construct(type="DataSet", custom_properties={1: 2}),
        "custom_properties must be a dict",
    ),
    (
        "custom property name empty",
        Artifact.model_construct(type="DataSet", custom_properties={"": 2}),
        "custom_properties must be a dict",
    ),
    (  # was TypeError from base64, raised by the write
        "proto value a str",
        Artifact.model_construct(
            type="DataSet",
            custom_properties={"p": ProtoValue.model_construct(type_url="t", value="s")},
        ),
        "ProtoValue holds a str type_url and bytes value",
    ),
    (
        "proto type_url an int",
        Artifact.model_construct(
            type="DataSet",
            custom_properties={"p": ProtoValue.model_construct(type_url=5, value=b"")},
        ),
        "ProtoValue holds a str type_url and bytes value",
    ),
    (  # was stored, and read back as bytes
        "proto value a bytearray",
        Artifact.model_construct(
            type="DataSet",
            custom_properties={
                "p": ProtoValue.model_construct(type_url="t", value=bytearray(b"x"))
            },
        ),
        "ProtoValue holds a str type_url and bytes value",
    ),
]


def test_enum_fields_take_the_members_names(store: LineageStore) -> None:
    """MLMD's enums by name, as ``ls types`` prints them and users write them (these were
    refused: "Input should be 0, 1, 2, 3, 4, 5 or 6"); the models hold the members, so what
    is stored and dumped is what the members give."""
    by_name = ArtifactType(name="D", properties={"day": "INT", "note": "STRING"})  # type: ignore[dict-item]
    by_member = ArtifactType(
        name="D", properties={"day": PropertyType.INT, "note": PropertyType.STRING}
    )
    assert by_name == by_member
    assert by_name.model_dump_json() == by_member.model_dump_json()
    tid = store.put_artifact_type(by_name)
    assert store.get_artifact_type("D").properties == by_member.properties
    # a type built without validation is validated by its write: the name is stored as its kind
    store.put_artifact_type(
        ArtifactType.model_construct(
            name="D", properties={"day": "INT", "note": "STRING", "n": "DOUBLE"}
        ),
        can_add_fields=True,
    )
    assert store.get_artifact_type("D").properties["n"] is PropertyType.DOUBLE
    store.put_execution_type(ExecutionType(name="T"))
    artifact = Artifact(type_id=tid, state="LIVE")  # type: ignore[arg-type]
    execution = Execution(type="T", last_known_state="COMPLETE")  # type: ignore[arg-type]
    assert artifact.state is ArtifactState.LIVE
    assert execution.last_known_state is ExecutionState.COMPLETE
    assert artifact.model_dump_json() == Artifact(type_id=tid, state=2).model_dump_json()
    [aid] = store.put_artifacts([artifact])
    eid, _, _ = store.put_execution(
        execution,
        [(Artifact(id=aid), Event(type="INPUT"))],  # type: ignore[arg-type]
    )
    assert store.get_artifacts_by_id([aid])[0].state is ArtifactState.LIVE
    assert store.get_executions_by_id([eid])[0].last_known_state is ExecutionState.COMPLETE
    [event] = store.get_events_by_execution_ids([eid])
    assert event.type is EventType.INPUT
    assert Artifact.model_validate_json('{"state": "DELETED"}').state is ArtifactState.DELETED
    changed = Artifact(type_id=tid)
    changed.state = "ABANDONED"  # type: ignore[assignment]  # validate_assignment
    assert changed.state is ArtifactState.ABANDONED
    with pytest.raises(ValidationError, match="ArtifactState"):  # as MLMD's protos refuse it
        Artifact(state="4")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "listed"),
    [
        (lambda: Artifact(state="live"), "ArtifactState (UNKNOWN, PENDING, LIVE,"),
        (lambda: Artifact(state=9), "ArtifactState (UNKNOWN, PENDING, LIVE,"),
        (lambda: Execution(last_known_state="DONE"), "ExecutionState (UNKNOWN, NEW, RUNNING,"),
        (lambda: Event(type="IN"), "EventType (UNKNOWN, DECLARED_OUTPUT,"),
        (lambda: ArtifactType(name="D", properties={"d": "int64"}), "PropertyType (UNKNOWN, INT,"),
    ],
    ids=["state lower case", "state number", "execution state", "event type", "property type"],
)
def test_a_bad_enum_name_lists_the_names(build: Any, listed: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(listed)):
        build()


@pytest.mark.parametrize(
    ("item", "match"), [c[1:] for c in UNVALIDATED], ids=[c[0] for c in UNVALIDATED]
)
def test_models_that_skipped_validation_are_refused_and_change_nothing(
    typed: LineageStore, item: Any, match: str
) -> None:
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/keep")])
    [cid, other] = typed.put_contexts(
        [Context(type="Experiment", name="a"), Context(type="Experiment", name="b")]
    )
    typed.put_executions([Execution(type="Trainer")])  # execution 1: what True would name
    before = snapshot(typed)
    with pytest.raises(InvalidArgumentError, match=match):
        if isinstance(item, Event):
            item.artifact_id = aid
            typed.put_execution(Execution(type="Trainer"), [(Artifact(id=aid), item)])
        elif isinstance(item, Attribution):
            item.context_id = cid  # the other id stays as built
            typed.put_attributions_and_associations([item], [])
        elif isinstance(item, Association):
            item.context_id = cid
            typed.put_attributions_and_associations([], [item])
        elif isinstance(item, ParentContext):
            item.child_id = other
            typed.put_parent_contexts([item])
        elif isinstance(item, Context):
            typed.put_contexts([item])
        elif isinstance(item, Execution):
            typed.put_executions([item])
        else:
            typed.put_artifacts([Artifact(type="DataSet", uri="/good"), item])
    assert snapshot(typed) == before


def test_a_parent_link_without_valid_ids_is_refused_at_its_place(typed: LineageStore) -> None:
    """Parent links are checked link by link: a stored link before one whose ids skipped
    validation is reported first (AlreadyExistsError; the bad ids were refused before any
    link was looked at), a valid link before it is refused with it; nothing is written."""
    [a, b, c] = typed.put_contexts([Context(type="Experiment", name=n) for n in "abc"])
    typed.put_parent_contexts([ParentContext(child_id=a, parent_id=b)])
    before = snapshot(typed)
    bad = ParentContext.model_construct(child_id=c, parent_id=0)
    with pytest.raises(AlreadyExistsError):
        typed.put_parent_contexts([ParentContext(child_id=a, parent_id=b), bad])
    with pytest.raises(InvalidArgumentError, match="positive int"):
        typed.put_parent_contexts([ParentContext(child_id=b, parent_id=c), bad])
    assert snapshot(typed) == before


def put_reusing_contexts(store: LineageStore, write: str, contexts: list[Context]) -> list[int]:
    """The context ids of one ``write`` (put_execution or put_lineage_subgraph) of a new Trainer
    execution linked to ``contexts``, with reuse_context_if_already_exist."""
    if write == "put_execution":
        return store.put_execution(
            Execution(type="Trainer"), [], contexts, reuse_context_if_already_exist=True
        )[2]
    return store.put_lineage_subgraph(
        [Execution(type="Trainer")], [], contexts, [], reuse_context_if_already_exist=True
    )[2]


@pytest.mark.parametrize("write", ["put_execution", "put_lineage_subgraph"])
def test_a_context_renamed_earlier_in_the_call_is_not_reused_by_its_old_name(
    typed: LineageStore, write: str
) -> None:
    """With reuse_context_if_already_exist, a new context named as a stored one that an earlier
    context of the same call renames is not that context: MLMD, writing one by one, renames it
    first and then creates the new one. Here the freed name is refused as taken (keys are
    checked against the store: docs/mlmd-compatibility.md D11), nothing written; it was linked
    to the renamed context, so the call returned its id twice and no context had the name.
    Given after the rename, the new context reuses the stored one, as in MLMD."""
    [held, _] = typed.put_contexts([Context(type="Experiment", name=n) for n in ("old", "x")])
    before = snapshot(typed)
    rename = Context(id=held, type="Experiment", name="new")
    again = Context(type="Experiment", name="old")

    def put(contexts: list[Context]) -> list[int]:
        return put_reusing_contexts(typed, write, contexts)

    with pytest.raises(AlreadyExistsError, match="old"):
        put([rename, again])
    assert snapshot(typed) == before
    assert put([again, rename]) == [held, held]
    assert [c.name for c in typed.get_contexts_by_id([held])] == ["new"]


#: A node's fields the writes look nodes up by, built without validation: each escaped as a bare
#: ``TypeError: unhashable type`` from the type cache or a composite write's reuse look-ups.
UNHASHABLE_KEYS: list[tuple[str, Any]] = [
    ("type", {"a": 1}),
    ("type", ["DataSet"]),
    ("type_version", ["1"]),
    ("type_id", [1]),
    ("name", {"a": 1}),
    ("external_id", ["x"]),
]


@pytest.mark.parametrize(
    ("field", "value"), UNHASHABLE_KEYS, ids=[f"{f} {v!r}" for f, v in UNHASHABLE_KEYS]
)
def test_a_node_naming_its_type_or_key_by_a_dict_or_list_is_refused(
    typed: LineageStore, field: str, value: object
) -> None:
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/keep")])
    typed.put_contexts([Context(type="Experiment", name="a")])
    before = snapshot(typed)

    def node(model: Any, **fields: Any) -> Any:
        return model.model_construct(**{**fields, field: value})

    def artifact() -> Artifact:
        return node(Artifact, type="DataSet", uri="/new")  # type: ignore[no-any-return]

    def execution() -> Execution:
        return node(Execution, type="Trainer")  # type: ignore[no-any-return]

    def context() -> Context:
        return node(Context, type="Experiment", name="new")  # type: ignore[no-any-return]

    reuse = {"reuse_context_if_already_exist": True}
    reuse_both = {**reuse, "reuse_artifact_if_already_exist_by_external_id": True}
    calls: list[Callable[[], object]] = [
        lambda: typed.put_artifacts([Artifact(type="DataSet", uri="/good"), artifact()]),
        lambda: typed.put_executions([execution()]),
        lambda: typed.put_contexts([context()]),
        lambda: typed.put_execution(execution(), [(Artifact(id=aid), Event(type="INPUT"))]),
        lambda: typed.put_execution(Execution(type="Trainer"), [], [context()], **reuse),
        lambda: typed.put_execution(
            Execution(type="Trainer"), [(artifact(), Event(type="OUTPUT"))], [], **reuse_both
        ),
        lambda: typed.put_lineage_subgraph(
            [Execution(type="Trainer")],
            [artifact()],
            [context()],
            [(0, 0, Event(type="OUTPUT"))],
            **reuse_both,
        ),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(InvalidArgumentError, match=f"{field} must be a"):
            call()
        assert snapshot(typed) == before, f"call #{i}"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"uri": "data-\udcff.csv"}, "artifact #1: uri must be valid Unicode"),
        ({"name": "m\ud800"}, "artifact #1: name must be valid Unicode"),
        ({"external_id": "\udfff"}, "artifact #1: external_id must be valid Unicode"),
        ({"properties": {"split": "\ud800"}}, "artifact #1: property 'split' must be valid"),
        ({"custom_properties": {"a\ud800": 1}}, "artifact #1: property name must be valid"),
        (
            {"custom_properties": {"q": {"k": [{"z": "\ud800"}]}}},
            "artifact #1: property 'q' (a text of its struct) must be valid",
        ),
        (
            {"custom_properties": {"q": {"k": {"\udcff": 1}}}},
            "artifact #1: property 'q' (a key of its struct) must be valid",
        ),
        (
            {"custom_properties": {"p": ProtoValue(type_url="type.googleapis.com/\udcff")}},
            "artifact #1: property 'p' (its proto's type_url) must be valid",
        ),
    ],
    ids=[
        "uri",
        "name",
        "external_id",
        "value",
        "property name",
        "struct text",
        "struct key",
        "proto type_url",
    ],
)
def test_a_lone_surrogate_is_refused_naming_its_node_and_field(
    typed: LineageStore, fields: dict[str, Any], named: str
) -> None:
    """No engine carries a lone surrogate (``os.fsdecode`` of a file name that is not UTF-8):
    the engine's client refused the whole statement ("text must be valid Unicode ... in a value
    or name"), which named neither the node of the batch nor the field."""
    before = snapshot(typed)
    with pytest.raises(InvalidArgumentError, match=re.escape(named)):
        typed.put_artifacts(
            [Artifact(type="DataSet", uri="/good"), Artifact(type="DataSet", **fields)]
        )
    with pytest.raises(InvalidArgumentError, match=re.escape(named)):
        typed.put_execution(
            Execution(type="Trainer"),
            [
                (Artifact(type="DataSet", uri="/good"), Event(type="INPUT")),
                (Artifact(type="DataSet", **fields), Event(type="OUTPUT")),
            ],
        )
    assert snapshot(typed) == before
    with pytest.raises(InvalidArgumentError, match=re.escape("property name must be valid")):
        typed.put_artifact_type(ArtifactType(name="DataSet", properties={"\ud800": "INT"}))
    assert snapshot(typed) == before


@pytest.mark.parametrize("write", ["put_execution", "put_lineage_subgraph"])
def test_a_context_renamed_earlier_in_the_call_is_reused_by_the_name_it_holds(
    typed: LineageStore, write: str
) -> None:
    """With reuse_context_if_already_exist, a new context is reused as the stored context that
    holds its name after the updates given before it (MLMD writes them one by one): renamed
    and back, by its old name; renamed (its type given by name, or not given: read), by its
    new name. Both were AlreadyExistsError ("two contexts ... named"), nothing written."""
    [held, _] = typed.put_contexts([Context(type="Experiment", name=n) for n in ("old", "x")])

    def put(contexts: list[Context]) -> list[int]:
        return put_reusing_contexts(typed, write, contexts)

    back = [Context(id=held, type="Experiment", name=n) for n in ("new", "old")]
    assert put([*back, Context(type="Experiment", name="old")]) == [held] * 3
    assert [c.name for c in typed.get_contexts_by_id([held])] == ["old"]
    assert put([Context(id=held, name="z"), Context(type="Experiment", name="z")]) == [held] * 2
    renamed = Context(id=held, type="Experiment", name="y")
    assert put([renamed, Context(type="Experiment", name="y")]) == [held] * 2
    assert [c.name for c in typed.get_contexts_by_id([held])] == ["y"]
    assert len(typed.get_contexts()) == 2


@pytest.mark.parametrize("reuse", [True, False])
@pytest.mark.parametrize("write", ["put_execution", "put_lineage_subgraph"])
@pytest.mark.parametrize(
    ("name", "match"),
    [
        ({"name": ["old"]}, "name must be a str"),
        ({"name": b"old"}, "name must be a str"),
        ({}, "needs a name"),
    ],
    ids=["list", "bytes", "missing"],
)
def test_a_composite_write_refuses_a_context_name_that_skipped_validation(
    typed: LineageStore, write: str, reuse: bool, name: dict[str, object], match: str
) -> None:
    """A new context whose name is no str or missing (built by model_construct) is refused as
    put_contexts refuses it (InvalidArgumentError, nothing written): looking it up by name for
    reuse let a list escape as a TypeError (unhashable), bytes as the engine's QueryError, a
    missing name as an AttributeError. A context given as a reference (model_construct(id=...),
    no name attribute) beside a new one is linked, the new one reused by its name."""
    [held] = typed.put_contexts([Context(type="Experiment", name="old")])
    before = snapshot(typed)
    bad = Context.model_construct(type="Experiment", properties={}, custom_properties={}, **name)

    def put(contexts: list[Context]) -> list[int]:
        if write == "put_execution":
            return typed.put_execution(
                Execution(type="Trainer"), [], contexts, reuse_context_if_already_exist=reuse
            )[2]
        return typed.put_lineage_subgraph(
            [Execution(type="Trainer")], [], contexts, [], reuse_context_if_already_exist=reuse
        )[2]

    with pytest.raises(InvalidArgumentError, match=match):
        put([bad])
    assert snapshot(typed) == before
    if reuse:
        reference = Context.model_construct(id=held)
        assert put([reference, Context(type="Experiment", name="old")]) == [held, held]


def _kinds_changed_in_place() -> ArtifactType:
    t = ArtifactType(name="Changed", properties={"a": PropertyType.INT})
    t.properties["b"] = PropertyType.UNKNOWN  # a dict is not validated when changed
    return t


#: Types that skipped validation: a stored invalid type would make every read of its kind fail.
UNVALIDATED_TYPES: list[tuple[str, Any, str]] = [
    ("empty name", ArtifactType.model_construct(name="", properties={}), "at least 1 character"),
    ("no name", ArtifactType.model_construct(properties={}), "name: Field required"),
    ("name an int", ArtifactType.model_construct(name=5, properties={}), "valid string"),
    ("kind UNKNOWN", ArtifactType.model_construct(name="X", properties={"a": 0}), "UNKNOWN"),
    # ("INT" is validated into PropertyType.INT by the write's validation, and stored as it)
    ("kind a bad name", ArtifactType.model_construct(name="X", properties={"a": "Int"}), "INT,"),
    ("empty property name", ArtifactType.model_construct(name="X", properties={"": 1}), "empty"),
    ("kind changed in place", _kinds_changed_in_place(), "UNKNOWN"),
    ("not a type", "DataSet", "expected a type"),
]


@pytest.mark.parametrize(
    ("node_type", "match"),
    [c[1:] for c in UNVALIDATED_TYPES],
    ids=[c[0] for c in UNVALIDATED_TYPES],
)
def test_types_that_skipped_validation_are_refused_and_change_nothing(
    typed: LineageStore, node_type: Any, match: str
) -> None:
    before = typed.get_types(NodeKind.ARTIFACT)
    with pytest.raises(InvalidArgumentError, match=match):
        typed.put_artifact_type(node_type)
    assert typed.get_types(NodeKind.ARTIFACT) == before


def test_a_type_of_another_kind_is_refused_by_the_put_of_a_kind(typed: LineageStore) -> None:
    """``put_artifact_type(ExecutionType(...))`` registered an execution type without a word
    (MLMD's client refuses a message of another class): it is refused, nothing written."""
    calls = (
        (typed.put_artifact_type, ExecutionType(name="Wrong"), "use put_execution_type"),
        (typed.put_execution_type, ContextType(name="Wrong"), "use put_context_type"),
        (typed.put_context_type, ArtifactType(name="Wrong"), "use put_artifact_type"),
    )
    before = {kind: typed.get_types(kind) for kind in NodeKind}
    for put, node_type, match in calls:
        with pytest.raises(InvalidArgumentError, match=match):
            put(node_type)  # type: ignore[operator]
    assert {kind: typed.get_types(kind) for kind in NodeKind} == before
    assert typed.put_execution_type(ExecutionType(name="Right")) > 0


BAD_READS: list[tuple[str, Any, str]] = [
    ("ids a str", lambda s: s.get_artifacts_by_id(["1"]), "an id is an int, got '1'"),
    ("ids a bool", lambda s: s.get_executions_by_id([True]), "an id is an int, got True"),
    ("ids None", lambda s: s.get_contexts_by_id(None), "a collection of ints"),
    ("event ids a str", lambda s: s.get_events_by_execution_ids(["x"]), "an id is an int"),
    ("type ids a float", lambda s: s.get_types_by_id(NodeKind.ARTIFACT, [1.0]), "an id is an int"),
    ("one id a str", lambda s: s.get_contexts_by_artifact("1"), "an id is an int"),
    ("one id a bool", lambda s: s.get_artifacts_by_context(True), "an id is an int"),
    ("kind unknown", lambda s: s.count("Nope"), "kind must be one of"),
    ("kind an int", lambda s: s.get_types(1), "kind must be one of"),
    # bytes reached the engine (it refused the statement); None or a number found nothing
    ("external id bytes", lambda s: s.get_artifacts_by_external_ids([b"x"]), "is a string"),
    ("external id None", lambda s: s.get_executions_by_external_ids([None]), "is a string"),
    ("external ids a str", lambda s: s.get_contexts_by_external_ids("x"), "list of strings"),
    (
        "type external id an int",
        lambda s: s.get_types_by_external_ids(NodeKind.ARTIFACT, [3]),
        "is a string",
    ),
    ("type version bytes", lambda s: s.get_artifacts_by_type("DataSet", b"1"), "are strings"),
    ("type name an int", lambda s: s.get_artifact_type(3), "are strings"),
    # iter_nodes: a str or None was a bare TypeError, a float page size the engine's QueryError,
    # after_id=1.5 or True a number, and a type name that is no str matched nothing
    ("after_id a str", lambda s: list(s.iter_nodes(NodeKind.ARTIFACT, after_id="1")), "an int"),
    ("after_id None", lambda s: list(s.iter_nodes(NodeKind.ARTIFACT, after_id=None)), "an int"),
    ("after_id a float", lambda s: list(s.iter_nodes(NodeKind.ARTIFACT, after_id=0.5)), "an int"),
    ("after_id a bool", lambda s: list(s.iter_nodes(NodeKind.ARTIFACT, after_id=True)), "an int"),
    ("page_size a float", lambda s: list(s.iter_nodes(NodeKind.ARTIFACT, page_size=1.5)), "an int"),
    ("page_size a str", lambda s: list(s.iter_nodes(NodeKind.CONTEXT, page_size="2")), "an int"),
    ("page_size 0", lambda s: list(s.iter_nodes(NodeKind.EXECUTION, page_size=0)), ">= 1"),
    ("type_name an int", lambda s: list(s.iter_nodes(NodeKind.ARTIFACT, type_name=1)), "a str"),
    # a name that is no str matched nothing; bytes broke the query (QueryError)
    ("name an int", lambda s: s.get_artifact_by_type_and_name("DataSet", 5), "a name is a str"),
    ("name bytes", lambda s: s.get_execution_by_type_and_name("Trainer", b"x"), "a name is a"),
    ("name None", lambda s: s.get_context_by_type_and_name("Experiment", None), "a name is a"),
]


@pytest.mark.parametrize(
    ("read", "match"), [c[1:] for c in BAD_READS], ids=[c[0] for c in BAD_READS]
)
def test_reads_with_bad_ids_or_kinds_are_typed_errors(
    typed: LineageStore, read: Any, match: str
) -> None:
    """A str id used to match nothing, ``True`` read node 1 and an unknown kind counted the
    contexts: each is now an error, not a plausible answer."""
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/a")])
    [eid] = typed.put_executions([Execution(type="Trainer")])
    [cid] = typed.put_contexts([Context(type="Experiment", name="c")])
    typed.put_attributions_and_associations(
        [Attribution(artifact_id=aid, context_id=cid)],
        [Association(execution_id=eid, context_id=cid)],
    )
    with pytest.raises(InvalidArgumentError, match=match):
        read(typed)
    assert typed.count("Artifact") == typed.count(NodeKind.ARTIFACT) == 1  # the value works


def test_ids_outside_int64_match_nothing_on_every_engine(typed: LineageStore) -> None:
    """No node has one (writes refuse it): a read answers as for any absent id. FalkorDB
    compared 2**64 as a double, and Neo4j's driver cannot send it (it raised)."""
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/a")])
    [eid] = typed.put_executions([Execution(type="Trainer")])
    typed.put_events([Event(artifact_id=aid, execution_id=eid, type=EventType.INPUT)])
    far = [2**64, 2**63, -(2**63) - 1]
    assert [a.id for a in typed.get_artifacts_by_id([*far, aid])] == [aid]
    assert typed.get_executions_by_id(far) == []
    assert len(typed.get_events_by_artifact_ids([*far, aid])) == 1
    assert typed.get_contexts_by_artifact(2**64) == []
    assert typed.get_types_by_id(NodeKind.ARTIFACT, far) == []


class _Sink:
    def write(self, data: bytes) -> None:
        pass


def _neo4j_encodes(params: Any) -> None:
    """Encode ``params`` with the official neo4j driver's own packer (no server involved): it
    raises what the driver would raise before sending them (OverflowError for an int outside
    int64)."""
    from neo4j._codec.packstream.v1 import Packer

    Packer(_Sink()).pack(dict(params or {}))


def test_reads_by_ids_outside_int64_send_nothing_neo4j_cannot_encode(
    typed: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every engine gets parameters Neo4j's driver can send: a read by an id outside int64
    answers nothing without sending it. get_contexts_by_artifact(2**64) and friends, and
    get_types_by_id, sent it: the driver raised OverflowError on Neo4j (InvalidArgumentError),
    while FalkorDB answered []."""
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/a")])
    original = typed.backend.read

    def read(query: str, params: Any = None, *, name: str = "") -> Any:
        _neo4j_encodes(params)
        return original(query, params, name=name)

    monkeypatch.setattr(typed.backend, "read", read)
    for far in (2**64, 2**63, -(2**63) - 1):
        assert typed.get_contexts_by_artifact(far) == []
        assert typed.get_contexts_by_execution(far) == []
        assert typed.get_artifacts_by_context(far) == []
        assert typed.get_executions_by_context(far) == []
        assert typed.get_parent_contexts_by_context(far) == []
        assert typed.get_children_contexts_by_context(far) == []
        for kind in (NodeKind.ARTIFACT, NodeKind.EXECUTION, NodeKind.CONTEXT):
            assert typed.get_types_by_id(kind, [far]) == []
    [dataset] = typed.get_types_by_id(
        NodeKind.ARTIFACT, [2**64, typed.get_artifact_type("DataSet").id]
    )
    assert dataset.name == "DataSet"
    assert [a.id for a in typed.get_artifacts_by_id([2**64, aid])] == [aid]


def test_type_of_an_artifact_cannot_change(typed: LineageStore) -> None:
    [aid] = typed.put_artifacts([Artifact(type="DataSet")])
    model_type = typed.get_artifact_type("SavedModel").id
    with pytest.raises(InvalidArgumentError, match="cannot change"):
        typed.put_artifacts([Artifact(id=aid, type_id=model_type)])


def test_update_replaces_fields_and_keeps_create_time(typed: LineageStore) -> None:
    [aid] = typed.put_artifacts(
        [Artifact(type="DataSet", uri="/a", properties={"day": 1}, custom_properties={"x": 1})]
    )
    [first] = typed.get_artifacts_by_id([aid])
    assert typed.put_artifacts(
        [Artifact(id=aid, uri="/b", state=ArtifactState.LIVE, properties={"split": "s"})]
    ) == [aid]
    [got] = typed.get_artifacts_by_id([aid])
    assert got.uri == "/b" and got.state == ArtifactState.LIVE
    assert got.properties == {"split": "s"} and got.custom_properties == {}
    assert got.create_time_since_epoch == first.create_time_since_epoch
    assert got.last_update_time_since_epoch >= first.last_update_time_since_epoch  # type: ignore[operator]


def test_field_mask_updates_only_named_fields(typed: LineageStore) -> None:
    [aid] = typed.put_artifacts(
        [
            Artifact(
                type="DataSet",
                uri="/a",
                properties={"day": 1, "split": "s"},
                custom_properties={"x": 1, "y": 2},
            )
        ]
    )
    typed.put_artifacts(
        [Artifact(id=aid, uri="/ignored", properties={"day": 2}, custom_properties={"y": 3})],
        field_mask_paths=["properties.day", "custom_properties.y", "", "invalid_field_mask_path"],
    )
    [got] = typed.get_artifacts_by_id([aid])
    assert got.uri == "/a"
    assert got.properties == {"day": 2, "split": "s"}
    assert got.custom_properties == {"x": 1, "y": 3}
    typed.put_artifacts([Artifact(id=aid)], field_mask_paths=["custom_properties.x", "uri"])
    [got] = typed.get_artifacts_by_id([aid])
    assert got.custom_properties == {"y": 3} and got.uri is None


def test_a_field_mask_keeps_what_another_writer_changed_since_the_read(
    typed: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A masked update reads the stored node, merges its fields and writes: another writer's
    update between that read and the write (a field the mask does not name) used to be
    overwritten with the value read (a lost update). Only the keys the mask touches are
    written now; the ones it names still win."""
    [aid] = typed.put_artifacts(
        [Artifact(type="DataSet", uri="/a", properties={"day": 1}, custom_properties={"x": 1})]
    )
    repo = typed._artifacts
    real = repo.prepare
    other = []

    def racing(nodes: Any, **kw: Any) -> Any:
        prepared = real(nodes, **kw)  # this write has read the stored node
        if not other:  # another writer, before this write lands
            other.append(1)
            monkeypatch.setattr(repo, "prepare", real)
            typed.put_artifacts(
                [Artifact(id=aid, state=ArtifactState.LIVE, custom_properties={"x": 2, "y": 3})],
                field_mask_paths=["state", "custom_properties", "uri"],
            )
        return prepared

    monkeypatch.setattr(repo, "prepare", racing)
    typed.put_artifacts(
        [Artifact(id=aid, uri="/b", properties={"day": 2})],
        field_mask_paths=["uri", "properties.day"],
    )
    [got] = typed.get_artifacts_by_id([aid])
    assert other and got.uri == "/b" and got.properties == {"day": 2}  # this write's fields
    assert got.state == ArtifactState.LIVE and got.custom_properties == {"x": 2, "y": 3}


def test_a_field_mask_does_not_check_a_name_it_leaves_alone(
    typed: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renamed by another writer since the read, its old name taken by a new artifact: an
    update of the uri alone neither stores nor checks the name it read."""
    [aid] = typed.put_artifacts([Artifact(type="DataSet", name="a", uri="/a")])
    repo = typed._artifacts
    real = repo.prepare
    other: list[int] = []

    def racing(nodes: Any, **kw: Any) -> Any:
        prepared = real(nodes, **kw)
        if not other:
            monkeypatch.setattr(repo, "prepare", real)
            typed.put_artifacts([Artifact(id=aid, name="b")], field_mask_paths=["name"])
            other.extend(typed.put_artifacts([Artifact(type="DataSet", name="a", uri="/new")]))
        return prepared

    monkeypatch.setattr(repo, "prepare", racing)
    typed.put_artifacts([Artifact(id=aid, uri="/moved")], field_mask_paths=["uri"])
    got = {a.id: (a.name, a.uri) for a in typed.get_artifacts_by_id([aid, *other])}
    assert got == {aid: ("b", "/moved"), other[0]: ("a", "/new")}


def _stored_keys(store: LineageStore, node_id: int, name: str) -> list[str]:
    [row] = store.backend.read(
        "MATCH (n:Artifact {id: $id}) RETURN properties(n) AS p", {"id": node_id}, name="t/keys"
    )
    return sorted(k for k in row["p"] if k.endswith(f"__{name}"))


@pytest.mark.parametrize("path", ["custom_properties.x", "custom_properties"])
def test_a_field_mask_leaves_one_kind_of_a_property_another_writer_retyped(
    typed: LineageStore, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Another writer stored x as a double between this masked update's read (x an int) and
    its write (x a string): the patch removed only the int it had read, so the node kept the
    double beside the string, two values of one property (read back as one of them, found by
    a filter on the other). Every kind of a property the mask writes is removed now."""
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/a", custom_properties={"x": 1})])
    repo = typed._artifacts
    real = repo.prepare
    other: list[int] = []

    def racing(nodes: Any, **kw: Any) -> Any:
        prepared = real(nodes, **kw)  # this write has read x as an int
        if not other:
            other.append(1)
            monkeypatch.setattr(repo, "prepare", real)
            typed.put_artifacts(
                [Artifact(id=aid, custom_properties={"x": 2.5})],
                field_mask_paths=["custom_properties.x"],
            )
        return prepared

    monkeypatch.setattr(repo, "prepare", racing)
    typed.put_artifacts([Artifact(id=aid, custom_properties={"x": "s"})], field_mask_paths=[path])
    assert other and _stored_keys(typed, aid, "x") == ["cs__x"]
    [got] = typed.get_artifacts_by_id([aid])
    assert got.custom_properties == {"x": "s"} and got.uri == "/a"


def test_field_masks_remove_and_set_many_keys_at_once(typed: LineageStore) -> None:
    """Masked updates that set and remove several properties at once, against a dict oracle
    (FalkorDB 4.16 removed the wrong properties when one SET removed two or more)."""
    rnd = random.Random(7)
    names = [f"c{i}" for i in range(6)]
    values: list[Any] = [1, 2.5, "s", True, {"k": [1]}, float("inf")]
    for round_ in range(40):
        custom = {n: rnd.choice(values) for n in rnd.sample(names, rnd.randint(0, 6))}
        uri = rnd.choice([None, f"/u{round_}"])
        [aid] = typed.put_artifacts(
            [Artifact(type="DataSet", uri=uri, name=f"n{round_}", custom_properties=custom)]
        )
        masked = rnd.sample(names, rnd.randint(1, 6))
        given = {n: rnd.choice(values) for n in masked if rnd.random() < 0.4}
        fields = rnd.sample(["uri", "state", "external_id"], rnd.randint(0, 3))
        typed.put_artifacts(
            [Artifact(id=aid, custom_properties=given, state=ArtifactState.LIVE)],
            field_mask_paths=[*(f"custom_properties.{n}" for n in masked), *fields],
        )
        expect = {n: v for n, v in custom.items() if n not in masked} | given
        [got] = typed.get_artifacts_by_id([aid])
        assert got.custom_properties == expect, (custom, masked, given)
        assert got.name == f"n{round_}"
        assert got.uri == (None if "uri" in fields else uri)
        assert got.state == (ArtifactState.LIVE if "state" in fields else ArtifactState.UNKNOWN)


def test_same_id_twice_in_one_batch_keeps_the_last(typed: LineageStore) -> None:
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/0")])
    ids = typed.put_artifacts([Artifact(id=aid, uri="/1"), Artifact(id=aid, uri="/2")])
    assert ids == [aid, aid]
    assert typed.get_artifacts_by_id([aid])[0].uri == "/2"


# -------------------------------------------------------------------------------- reads


def test_gets_by_every_key(typed: LineageStore) -> None:
    ids = typed.put_artifacts(
        [
            Artifact(type="DataSet", uri="/u", name="a", external_id="ea"),
            Artifact(type="DataSet", uri="/u", name="b"),
            Artifact(type="SavedModel", uri="/m", name="a"),
        ]
    )
    assert ids == sorted(ids)
    assert [a.id for a in typed.get_artifacts_by_uri("/u")] == ids[:2]
    assert [a.id for a in typed.get_artifacts_by_type("DataSet")] == ids[:2]
    assert typed.get_artifacts_by_type("Nope") == []
    got = typed.get_artifact_by_type_and_name("SavedModel", "a")
    assert got is not None and got.id == ids[2]
    assert typed.get_artifact_by_type_and_name("SavedModel", "zz") is None
    assert [a.id for a in typed.get_artifacts_by_external_ids(["ea", "zz"])] == [ids[0]]
    assert [a.id for a in typed.get_artifacts_by_id([ids[2], 99999, ids[0]])] == [ids[0], ids[2]]
    assert [a.id for a in typed.get_artifacts()] == ids


def test_get_by_uri_finds_uris_the_embedded_index_cannot(typed: LineageStore) -> None:
    """FalkorDB's string index misses "", edge whitespace and U+0001 (_encoding.indexable)."""
    uris = ["", " lead", "trail\n", "a\x01b", "\t", "plain"]
    ids = typed.put_artifacts([Artifact(type="DataSet", uri=u) for u in uris for _ in range(2)])
    for i, uri in enumerate(uris):
        assert [a.id for a in typed.get_artifacts_by_uri(uri)] == ids[2 * i : 2 * i + 2], repr(uri)
    with pytest.raises(InvalidArgumentError):
        typed.get_artifacts_by_uri(7)  # type: ignore[arg-type]


def test_listing_pages_through_many_nodes(typed: LineageStore) -> None:
    ids = typed.put_artifacts([Artifact(type="DataSet", uri=f"/{i}") for i in range(2500)])
    assert [a.id for a in typed.get_artifacts()] == ids


def test_ids_of_large_batches_are_consecutive_and_reserved_once_per_two(
    typed: LineageStore,
) -> None:
    """Ids come from blocks reserved in the store (one round trip each): a block runs out, the
    next is twice the batch that asked, so a run of equal large batches reserves once per two,
    and the ids stay 1, 2, 3... within a process."""
    with typed.backend.record() as log:
        ids = [
            i
            for k in range(6)
            for i in typed.put_artifacts(
                [Artifact(type="DataSet", uri=f"/{k}/{j}") for j in range(300)]
            )
        ]
    assert ids == list(range(ids[0], ids[0] + 1800))
    assert [s.name for s in log].count("ids/reserve") == 3


def test_ids_that_would_pass_int64_are_refused_and_the_sequence_kept(typed: LineageStore) -> None:
    """FalkorDB wrapped the sequence to a negative id silently (Neo4j: "long overflow"). An
    MLMD import keeping ids near 2^63 could get there."""
    from lineage_graph._repositories._base import Repository

    [kept] = typed.put_artifacts([Artifact(type="DataSet", uri="/kept")])
    ids = typed._artifacts.ids
    ids._blocks.clear()  # this process's block used up: the next write reserves
    near = 2**63 - 100
    typed.backend.write(
        "MATCH (s:IdSequence {kind: 'Artifact'}) SET s.next = $near", {"near": near}, name="t"
    )
    before = snapshot(typed)
    with pytest.raises(OutOfRangeError, match="2\\^63 - 1"):
        typed.put_artifacts([Artifact(type="DataSet", uri=f"/{i}") for i in range(200)])
    with pytest.raises(OutOfRangeError):
        ids.skip("Artifact", 10**3)
    assert snapshot(typed) == before
    end = Repository(typed.backend).read("ids/end", kind="Artifact")[0]["next"]
    assert end == near  # not wrapped
    # What still fits is handed out (not a whole block: exactly what is asked), and the
    # listing crosses the gap of ~2^63 ids in a few reads.
    got = typed.put_artifacts([Artifact(type="DataSet", uri=f"/{i}") for i in range(40)])
    assert got == list(range(near, near + 40)) and max(got) < 2**63 - 1
    assert [a.id for a in typed.get_artifacts_by_id([kept, *got])] == [kept, *got]
    with typed.backend.record() as log:
        assert [a.id for a in typed.get_artifacts()] == [kept, *got]
    assert len(log) < 80
    # Within a block of the end, exactly what is asked is still handed out, to the last id.
    ids._blocks.clear()
    last = 2**63 - 1
    typed.backend.write(
        "MATCH (s:IdSequence {kind: 'Artifact'}) SET s.next = $at", {"at": last - 2}, name="t"
    )
    three = typed.put_artifacts([Artifact(type="DataSet", uri=f"/end{i}") for i in range(2)])
    assert three == [last - 2, last - 1]
    with pytest.raises(OutOfRangeError):
        typed.put_artifacts([Artifact(type="DataSet", uri="/x"), Artifact(type="DataSet")])


def test_ids_handed_over_to_a_replacing_graph_are_never_handed_out_here(
    typed: LineageStore,
) -> None:
    """A staged import seeds its graph's sequence from this allocator's unused ids
    (``hand_over``): from then on this allocator reserves anew, so whichever graph is in place
    when it next writes, it cannot give an id the staged graph gave. ``take_back`` returns the
    ids when the staged graph was not published, unless a new block was reserved meanwhile."""
    from lineage_graph._repositories._base import Repository

    ids = typed._artifacts.ids
    [first] = ids.allocate("Artifact", 1)
    end = int(Repository(typed.backend).read("ids/end", kind="Artifact")[0]["next"])
    handed = ids.hand_over("Artifact", end)
    assert handed == first + 1
    [after] = ids.allocate("Artifact", 1)
    assert after >= end  # reserved anew, past everything handed over
    ids.take_back("Artifact", handed, end)  # a new block is in use: nothing comes back
    assert ids.allocate("Artifact", 1) == [after + 1]
    end = int(Repository(typed.backend).read("ids/end", kind="Artifact")[0]["next"])
    handed = ids.hand_over("Artifact", end)
    ids.take_back("Artifact", handed, end)  # not published: the same ids again
    assert ids.allocate("Artifact", 1) == [handed]


def test_listing_reads_across_id_gaps_and_nodes_written_meanwhile(typed: LineageStore) -> None:
    """The listing reads id windows up to the sequence's end, then what was written since."""
    assert typed.get_contexts() == []
    first = typed.put_artifacts([Artifact(type="DataSet", uri=f"/a{i}") for i in range(7)])
    typed._artifacts.ids.allocate("Artifact", 600)  # reserved by another writer, never used
    second = typed.put_artifacts([Artifact(type="DataSet", uri=f"/b{i}") for i in range(5)])
    listing = typed._artifacts.iterate(page_size=4)
    seen = [next(listing).id for _ in range(3)]
    # more than the reserved block holds: some ids lie past the sequence end read at the start
    third = typed.put_artifacts([Artifact(type="DataSet", uri=f"/c{i}") for i in range(300)])
    seen += [a.id for a in listing]
    assert seen == first + second + third
    assert second[0] > first[-1] + 600  # the gap is there
    assert [a.id for a in typed.get_artifacts()] == first + second + third


def test_listing_sparse_ids_costs_reads_per_node_not_per_id(typed: LineageStore) -> None:
    """Writers that each use a few ids of their block leave the ids sparse: the window widens, so
    the reads follow the nodes (60 here), not the ids spanned (~12,600)."""
    ids: list[int] = []
    for r in range(20):
        ids += typed.put_artifacts([Artifact(type="DataSet", uri=f"/{r}/{i}") for i in range(3)])
        typed._artifacts.ids.allocate("Artifact", 600)  # the rest of another writer's block
    assert ids[-1] - ids[0] > 19 * 600
    for page_size in (4, 7):
        with reads_of(typed) as names:
            assert [a.id for a in typed._artifacts.iterate(page_size=page_size)] == ids
        # measured 33 and 24: about a read per page or per cluster of nodes, plus a few while the
        # window widens over the first gap; windows of a fixed width would take ~2,900 and ~1,600
        assert len(names) <= 2 * len(ids) // page_size + 15, (page_size, len(names))


def test_names_are_unique_within_a_type(typed: LineageStore) -> None:
    typed.put_artifacts([Artifact(type="DataSet", name="x")])
    typed.put_artifacts([Artifact(type="SavedModel", name="x")])  # other type: fine
    typed.put_artifacts([Artifact(type="DataSet"), Artifact(type="DataSet")])  # unnamed: fine
    before = snapshot(typed)
    with pytest.raises(AlreadyExistsError):
        typed.put_artifacts([Artifact(type="DataSet", name="x")])
    with pytest.raises(AlreadyExistsError):
        typed.put_artifacts(
            [Artifact(type="DataSet", name="y"), Artifact(type="DataSet", name="y")]
        )
    assert snapshot(typed) == before


def test_duplicate_context_names(typed: LineageStore) -> None:
    [cid] = typed.put_contexts([Context(type="Experiment", name="exp1")])
    before = snapshot(typed)
    with pytest.raises(AlreadyExistsError):
        typed.put_contexts([Context(type="Experiment", name="exp1")])
    with pytest.raises(AlreadyExistsError):
        typed.put_execution(
            Execution(type="Trainer"), [], [Context(type="Experiment", name="exp1")]
        )
    assert snapshot(typed) == before
    eid, _, cids = typed.put_execution(
        Execution(type="Trainer"),
        [],
        [Context(type="Experiment", name="exp1")],
        reuse_context_if_already_exist=True,
    )
    assert cids == [cid]
    assert [e.id for e in typed.get_executions_by_context(cid)] == [eid]


def test_context_name_is_required() -> None:
    with pytest.raises(ValueError):
        Context(type="Experiment", name="")


def test_external_ids_are_unique_per_kind(typed: LineageStore) -> None:
    typed.put_artifacts([Artifact(type="DataSet", external_id="e1")])
    typed.put_executions([Execution(type="Trainer", external_id="e1")])  # other kind: fine
    with pytest.raises(AlreadyExistsError):
        typed.put_artifacts([Artifact(type="DataSet", external_id="e1")])


@pytest.mark.parametrize("kind", list(NodeKind))
def test_an_update_cannot_take_another_nodes_key(typed: LineageStore, kind: NodeKind) -> None:
    """Renaming (or re-keying) a stored node onto a key another node holds fails whole, with the
    key and its holder named; a node keeps its own keys when it is rewritten."""
    cls, type_name = {
        NodeKind.ARTIFACT: (Artifact, "DataSet"),
        NodeKind.EXECUTION: (Execution, "Trainer"),
        NodeKind.CONTEXT: (Context, "Experiment"),
    }[kind]
    put = {
        NodeKind.ARTIFACT: typed.put_artifacts,
        NodeKind.EXECUTION: typed.put_executions,
        NodeKind.CONTEXT: typed.put_contexts,
    }[kind]
    get = {
        NodeKind.ARTIFACT: typed.get_artifacts_by_id,
        NodeKind.EXECUTION: typed.get_executions_by_id,
        NodeKind.CONTEXT: typed.get_contexts_by_id,
    }[kind]
    a, b = put(
        [
            cls(type=type_name, name="a", external_id=f"{kind.value}-a"),
            cls(type=type_name, name="b", external_id=f"{kind.value}-b"),
        ]
    )
    # Rewriting a node with its own keys is fine (it does not collide with itself).
    assert put([cls(id=a, type=type_name, name="a", external_id=f"{kind.value}-a")]) == [a]
    before = snapshot(typed)
    with pytest.raises(AlreadyExistsError, match=rf"name 'b' \(held by {kind.value.lower()} {b}\)"):
        put([cls(id=a, type=type_name, name="b")])
    with pytest.raises(AlreadyExistsError, match=f"external_id '{kind.value}-b'"):
        put([cls(id=a, type=type_name, name="a", external_id=f"{kind.value}-b")])
    with pytest.raises(AlreadyExistsError):  # a new node among good ones: all or nothing
        put([cls(type=type_name, name="c"), cls(type=type_name, name="b")])
    assert snapshot(typed) == before
    # Freed keys can be taken.
    put([cls(id=b, type=type_name, name="b2", external_id=f"{kind.value}-b2")])
    assert put([cls(id=a, type=type_name, name="b", external_id=f"{kind.value}-b")]) == [a]
    assert [(n.name, n.external_id) for n in get([a, b])] == [
        ("b", f"{kind.value}-b"),
        ("b2", f"{kind.value}-b2"),
    ]


# ------------------------------------------------------------------------ relationships


def test_events_attributions_associations(typed: LineageStore) -> None:
    d, m = typed.put_artifacts([Artifact(type="DataSet"), Artifact(type="SavedModel")])
    [e] = typed.put_executions([Execution(type="Trainer")])
    typed.put_events(
        [
            Event(artifact_id=d, execution_id=e, type=EventType.DECLARED_INPUT, path=[0, "train"]),
            Event(
                artifact_id=m,
                execution_id=e,
                type=EventType.DECLARED_OUTPUT,
                milliseconds_since_epoch=7,
            ),
        ]
    )
    events = typed.get_events_by_execution_ids([e])
    assert [(ev.artifact_id, ev.type) for ev in events] == [
        (d, EventType.DECLARED_INPUT),
        (m, EventType.DECLARED_OUTPUT),
    ]
    assert events[0].path == [0, "train"] and events[1].milliseconds_since_epoch == 7
    assert typed.get_events_by_artifact_ids([m]) == [events[1]]
    with pytest.raises(AlreadyExistsError, match="immutable"):
        typed.put_events([Event(artifact_id=d, execution_id=e, type=EventType.DECLARED_INPUT)])
    typed.put_events(
        [Event(artifact_id=d, execution_id=e, type=EventType.INPUT)]
    )  # other type: fine
    before = snapshot(typed)
    with pytest.raises(InvalidArgumentError, match="no artifact"):
        typed.put_events([Event(artifact_id=9999, execution_id=e, type=EventType.INPUT)])
    with pytest.raises(InvalidArgumentError, match="no execution"):
        typed.put_events([Event(artifact_id=d, execution_id=9999, type=EventType.OUTPUT)])
    with pytest.raises(InvalidArgumentError, match="required"):
        typed.put_events([Event(artifact_id=d, type=EventType.OUTPUT)])
    assert snapshot(typed) == before

    [c] = typed.put_contexts([Context(type="Experiment", name="exp")])
    links = (
        [Attribution(artifact_id=d, context_id=c)],
        [Association(execution_id=e, context_id=c)],
    )
    typed.put_attributions_and_associations(*links)
    typed.put_attributions_and_associations(*links)  # existing links: no-op
    assert [a.id for a in typed.get_artifacts_by_context(c)] == [d]
    assert [x.id for x in typed.get_executions_by_context(c)] == [e]
    assert [x.id for x in typed.get_contexts_by_artifact(d)] == [c]
    assert [x.id for x in typed.get_contexts_by_execution(e)] == [c]
    with pytest.raises(InvalidArgumentError, match="no context"):
        typed.put_attributions_and_associations([Attribution(artifact_id=d, context_id=999)], [])


@pytest.mark.parametrize("few_rows", [100, 0], ids=["by-seek", "by-position"])
@pytest.mark.parametrize("bad", ["stored", "no-artifact", "no-execution"])
def test_the_write_refuses_a_stored_event_or_a_missing_end_among_many(
    typed: LineageStore, monkeypatch: pytest.MonkeyPatch, few_rows: int, bad: str
) -> None:
    """The write itself proves that each event's ends exist and that no event is stored already
    (nothing is read before it): one bad event among new ones, in put_events or next to new
    nodes in put_lineage_subgraph, aborts the whole write (the new nodes too) and names the
    cause."""
    from lineage_graph._repositories import graph

    monkeypatch.setattr(graph, "FEW_ROWS", few_rows)
    arts = typed.put_artifacts([Artifact(type="DataSet", uri=f"/{i}") for i in range(6)])
    [e] = typed.put_executions([Execution(type="Trainer")])
    typed.put_events([Event(artifact_id=arts[0], execution_id=e, type=EventType.OUTPUT)])
    a_bad, e_bad, error, named = {
        "stored": (arts[0], e, AlreadyExistsError, rf"event \(artifact {arts[0]}, execution {e}"),
        "no-artifact": (987654, e, InvalidArgumentError, "no artifact with id .987654"),
        "no-execution": (arts[0], 987654, InvalidArgumentError, "no execution with id .987654"),
    }[bad]
    events = [Event(artifact_id=a, execution_id=e, type=EventType.OUTPUT) for a in arts[1:4]]
    events.insert(2, Event(artifact_id=a_bad, execution_id=e_bad, type=EventType.OUTPUT))
    before = snapshot(typed)
    with pytest.raises(error, match=named):
        typed.put_events(events)
    assert snapshot(typed) == before
    with pytest.raises(error, match=named):
        typed.put_lineage_subgraph(
            [Execution(type="Trainer")],
            [Artifact(type="SavedModel", uri="/new")],
            [Context(type="Experiment", name="new")],
            [
                (0, 0, Event(type=EventType.OUTPUT)),
                (None, None, Event(artifact_id=a_bad, execution_id=e_bad, type=EventType.OUTPUT)),
            ],
        )
    assert snapshot(typed) == before


def test_a_write_with_several_faults_names_the_one_checked_first(typed: LineageStore) -> None:
    """The write proves everything at once; after it aborts, the causes are named in the order
    the reads before it used to check them: a stored event before a missing link end, both
    before a missing node given by id alone."""
    [a] = typed.put_artifacts([Artifact(type="DataSet", uri="/a")])
    [e] = typed.put_executions([Execution(type="Trainer")])
    typed.put_events([Event(artifact_id=a, execution_id=e, type=EventType.INPUT)])
    [c] = typed.put_contexts([Context(type="Experiment", name="here")])
    before = snapshot(typed)
    for contexts in ([], [Context(type="Experiment", name="c")]):
        with pytest.raises(AlreadyExistsError, match="already exists: events are immutable"):
            typed.put_lineage_subgraph(
                [Execution(id=e), Execution(id=987654)],
                [Artifact(id=a)],
                contexts,
                [(0, 0, Event(type=EventType.INPUT))],
            )
    with pytest.raises(InvalidArgumentError, match=r"no context with id \[987655\]"):
        typed.put_attributions_and_associations(
            [
                Attribution(artifact_id=a, context_id=987655),
                Attribution(artifact_id=987654, context_id=987655),
            ],
            [Association(execution_id=987654, context_id=987655)],
        )
    with pytest.raises(InvalidArgumentError, match=r"no artifact with id \[987654\]"):
        typed.put_attributions_and_associations(
            [Attribution(artifact_id=987654, context_id=c)],
            [Association(execution_id=987654, context_id=c)],
        )
    assert snapshot(typed) == before


def test_parent_contexts_reject_duplicates_and_cycles(typed: LineageStore) -> None:
    a, b, c = typed.put_contexts([Context(type="Experiment", name=n) for n in "abc"])
    typed.put_parent_contexts(
        [ParentContext(child_id=b, parent_id=a), ParentContext(child_id=c, parent_id=b)]
    )
    assert [x.id for x in typed.get_parent_contexts_by_context(c)] == [b]
    assert [x.id for x in typed.get_children_contexts_by_context(a)] == [b]
    before = snapshot(typed)
    with pytest.raises(AlreadyExistsError):
        typed.put_parent_contexts([ParentContext(child_id=b, parent_id=a)])
    with pytest.raises(InvalidArgumentError, match="cycle"):
        typed.put_parent_contexts([ParentContext(child_id=a, parent_id=c)])
    with pytest.raises(InvalidArgumentError, match="cycle"):
        typed.put_parent_contexts([ParentContext(child_id=a, parent_id=a)])
    [d] = typed.put_contexts([Context(type="Experiment", name="d")])
    before = snapshot(typed)
    with pytest.raises(InvalidArgumentError, match="cycle"):  # a cycle made only of new links
        typed.put_parent_contexts(
            [ParentContext(child_id=d, parent_id=c), ParentContext(child_id=a, parent_id=d)]
        )
    with pytest.raises(InvalidArgumentError, match="no context"):
        typed.put_parent_contexts([ParentContext(child_id=d, parent_id=12345)])
    assert snapshot(typed) == before


def _context_ladder(store: LineageStore, diamonds: int, *, one_write: bool = False) -> list[int]:
    """Contexts 3i (i = 0..diamonds) and, between 3i and 3i + 3, the two parents 3i + 1 and
    3i + 2 of 3i, each a child of 3i + 3: 2^diamonds paths from the first context to the last.
    Linked rung by rung from the bottom (no new link has anything above its parent yet), or in
    one write."""
    ids = store.put_contexts(
        [Context(type="Experiment", name=f"rung-{one_write}-{i}") for i in range(3 * diamonds + 1)]
    )
    rungs = [
        [
            ParentContext(child_id=ids[3 * i + k], parent_id=ids[3 * i + j])
            for k, j in ((0, 1), (0, 2), (1, 3), (2, 3))
        ]
        for i in range(diamonds)
    ]
    for links in [[link for rung in rungs for link in rung]] if one_write else rungs:
        store.put_parent_contexts(links)
    return ids


def test_parent_links_over_a_ladder_of_40_context_diamonds(typed: LineageStore) -> None:
    """The cycle checks of put_parent_contexts (the read before the write and the write's own)
    walk each context above the new links once. A walk that followed every path (a
    variable-length pattern on FalkorDB) doubled its time with each diamond: 14 took ~0.2 s, 16
    ~1 s; on 40 (2^40 paths) it would not end (the read stopped by the query timeout, the write
    not even by that)."""
    ids = _context_ladder(typed, 40)
    bottom, top = ids[0], ids[-1]
    [leaf, other, x] = typed.put_contexts([Context(type="Experiment", name=n) for n in "lox"])
    # No cycle: each check walks the whole ladder above the bottom.
    typed.put_parent_contexts(
        [
            ParentContext(child_id=leaf, parent_id=bottom),
            ParentContext(child_id=other, parent_id=top),
        ]
    )
    before = snapshot(typed)
    for child, parent in ((top, leaf), (top, bottom), (ids[-2], ids[1])):
        with pytest.raises(InvalidArgumentError, match=f"context {parent} already descends from"):
            typed.put_parent_contexts([ParentContext(child_id=child, parent_id=parent)])
    # The first link that closes a cycle is named, with its batch's earlier links.
    with pytest.raises(InvalidArgumentError, match=f"context {leaf} already descends from {x}"):
        typed.put_parent_contexts(
            [
                ParentContext(child_id=top, parent_id=x),
                ParentContext(child_id=other, parent_id=ids[1]),
                ParentContext(child_id=x, parent_id=leaf),
            ]
        )
    assert snapshot(typed) == before
    assert [c.id for c in typed.get_parent_contexts_by_context(bottom)] == [ids[1], ids[2]]
    assert [c.id for c in typed.get_children_contexts_by_context(top)] == [ids[-3], ids[-2], other]
    # The same ladder in one write: each link checked against the ones before it.
    again = _context_ladder(typed, 40, one_write=True)
    assert [c.id for c in typed.get_parent_contexts_by_context(again[-3])] == [again[-1]]


# ---------------------------------------------------------------------------- composite


def test_put_execution_records_everything_atomically(typed: LineageStore) -> None:
    [data] = typed.put_artifacts([Artifact(type="DataSet", uri="/data", properties={"day": 1})])
    eid, aids, cids = typed.put_execution(
        Execution(type="Trainer", properties={"lr": 0.1}, last_known_state=ExecutionState.COMPLETE),
        [
            (Artifact(id=data), Event(type=EventType.INPUT)),
            (Artifact(type="SavedModel", uri="/model"), Event(type=EventType.OUTPUT)),
            (Artifact(type="SavedModel", uri="/unlinked"), None),
        ],
        [Context(type="Experiment", name="exp1")],
    )
    assert aids[0] == data
    # A node given only by id is a reference: it is not rewritten.
    assert typed.get_artifacts_by_id([data])[0].properties == {"day": 1}
    events = typed.get_events_by_execution_ids([eid])
    assert {(e.artifact_id, e.type) for e in events} == {
        (data, EventType.INPUT),
        (aids[1], EventType.OUTPUT),
    }
    assert [a.id for a in typed.get_artifacts_by_context(cids[0])] == sorted(aids)
    assert [e.id for e in typed.get_executions_by_context(cids[0])] == [eid]
    [execution] = typed.get_executions_by_id([eid])
    assert execution.last_known_state == ExecutionState.COMPLETE and execution.properties == {
        "lr": 0.1
    }


def test_put_execution_rolls_back_on_a_bad_item(typed: LineageStore) -> None:
    [data] = typed.put_artifacts([Artifact(type="DataSet", uri="/data")])
    typed.put_contexts([Context(type="Experiment", name="taken")])
    before = snapshot(typed)
    bad_calls = [
        # an undeclared property on the last artifact
        (
            [
                (Artifact(id=data), Event(type=EventType.INPUT)),
                (Artifact(type="SavedModel", properties={"x": 1}), Event(type=EventType.OUTPUT)),
            ],
            [],
        ),
        # a context name that is taken (found by the engine's unique constraint)
        (
            [(Artifact(type="SavedModel"), Event(type=EventType.OUTPUT))],
            [Context(type="Experiment", name="taken")],
        ),
        # an event that names another execution
        ([(Artifact(type="SavedModel"), Event(type=EventType.OUTPUT, execution_id=999))], []),
        # a reference to an artifact that does not exist
        ([(Artifact(id=77777), Event(type=EventType.INPUT))], []),
        # a custom property name that is not valid Unicode (a lone surrogate): found when the
        # text is encoded for the engine (on FalkorDB: registering the new key, before the write)
        (
            [
                (
                    Artifact(type="SavedModel", custom_properties={"bad\ud800": 1}),
                    Event(type=EventType.OUTPUT),
                )
            ],
            [],
        ),
    ]
    for pairs, contexts in bad_calls:
        with pytest.raises((InvalidArgumentError, AlreadyExistsError, NotFoundError)):
            typed.put_execution(Execution(type="Trainer"), pairs, contexts)  # type: ignore[arg-type]
        assert snapshot(typed) == before
    # ids handed out to failed writes are given back: the next insert continues the sequence
    eid, _, _ = typed.put_execution(Execution(type="Trainer"), [], [])
    assert eid == 1


def test_references_given_by_id_alone_are_checked_by_the_write(typed: LineageStore) -> None:
    """A node given by its id alone is not read before the write (one round trip less for
    put_execution); the write proves it exists, and a missing one is a NotFoundError with
    nothing written."""
    [data] = typed.put_artifacts([Artifact(type="DataSet", uri="/d")])
    [run] = typed.put_executions([Execution(type="Trainer")])
    with reads_of(typed) as names:
        eid, [_, out], _ = typed.put_execution(
            Execution(type="Trainer"),
            [
                (Artifact(id=data), Event(type=EventType.INPUT)),
                (Artifact(type="SavedModel"), Event(type=EventType.OUTPUT)),
            ],
            [],
        )
    assert "artifacts/get_write_state" not in names and "artifacts/existing_ids" not in names
    [other] = typed.put_artifacts([Artifact(type="DataSet", uri="/other")])
    with reads_of(typed) as names:  # with a context: the links' ends are proven by the write too
        typed.put_execution(
            Execution(type="Trainer"),
            [(Artifact(id=other), Event(type=EventType.INPUT))],
            [Context(type="Experiment", name="linked")],
        )
    assert not [n for n in names if n.endswith("existing_ids")], names
    assert {(e.artifact_id, e.execution_id) for e in typed.get_events_by_execution_ids([eid])} == {
        (data, eid),
        (out, eid),
    }
    assert typed.put_artifacts([Artifact(id=data)]) == [data]  # a reference: nothing changes
    typed.put_lineage_subgraph(
        [Execution(id=run)], [Artifact(id=data)], [], [(0, 0, Event(type=EventType.INPUT))]
    )
    assert len(typed.get_events_by_artifact_ids([data])) == 2
    before = snapshot(typed)
    missing = [
        lambda: typed.put_artifacts([Artifact(id=987654)]),
        lambda: typed.put_executions([Execution(id=run), Execution(id=987654)]),
        lambda: typed.put_execution(
            Execution(type="Trainer"), [(Artifact(id=987654), Event(type=EventType.INPUT))], []
        ),
        lambda: typed.put_lineage_subgraph(
            [Execution(id=987655)], [Artifact(id=data)], [], [(0, 0, Event(type=EventType.INPUT))]
        ),
    ]
    for call in missing:
        with pytest.raises(NotFoundError, match=r"98765[45]"):
            call()
        assert snapshot(typed) == before


def test_a_reference_is_checked_whether_or_not_an_event_or_a_link_reads_it(
    typed: LineageStore,
) -> None:
    """The write's event and link parts prove the ends they read exist, so a reference among
    them has no guard of its own; one that no event or link reads keeps it. Either way a
    missing one is a NotFoundError naming it, with nothing written: whether an event, a link,
    both or neither reads it (one read by a link was an InvalidArgumentError, the links'
    check naming it before the references, while one read by an event was a NotFoundError:
    a run's deleted input was one error without a context and the other with one)."""
    [data] = typed.put_artifacts([Artifact(type="DataSet", uri="/d")])
    [run] = typed.put_executions([Execution(type="Trainer")])
    more = typed.put_artifacts([Artifact(type="DataSet", uri=f"/m{i}") for i in range(FEW_ROWS)])
    before = snapshot(typed)
    input_ = Event(type=EventType.INPUT)
    missing = [
        # more events than FEW_ROWS: the part finds its ends by position, not by id
        lambda: typed.put_execution(
            Execution(type="Trainer"),
            [(Artifact(id=i), input_) for i in [data, *more, 987654]],
            [],
        ),
        # a missing reference beside one an event reads: no event proves it
        lambda: typed.put_lineage_subgraph(
            [Execution(id=run)], [Artifact(id=data), Artifact(id=987654)], [], [(0, 0, input_)]
        ),
        lambda: typed.put_lineage_subgraph(
            [Execution(id=run), Execution(id=987654)], [Artifact(id=data)], [], []
        ),
        lambda: typed.put_execution(
            Execution(type="Trainer"),
            [(Artifact(id=data), input_), (Artifact(id=987654), None)],
            [],
        ),
        # a missing reference an event or a link reads
        lambda: typed.put_execution(
            Execution(type="Trainer"),
            [(Artifact(id=data), input_), (Artifact(id=987654), Event(type=EventType.OUTPUT))],
            [],
        ),
        lambda: typed.put_lineage_subgraph(
            [Execution(id=987654)], [Artifact(id=data)], [], [(0, 0, input_)]
        ),
    ]
    for call in missing:
        with pytest.raises(NotFoundError, match=r"987654"):
            call()
        assert snapshot(typed) == before
    linked = [
        lambda: typed.put_execution(  # an attribution reads it
            Execution(type="Trainer"),
            [(Artifact(id=data), input_), (Artifact(id=987654), None)],
            [Context(type="Experiment", name="new")],
        ),
        lambda: typed.put_execution(  # an event and an attribution read it (a run's input)
            Execution(type="Trainer"),
            [(Artifact(id=data), input_), (Artifact(id=987654), input_)],
            [Context(type="Experiment", name="new")],
        ),
        lambda: typed.put_lineage_subgraph(  # an association reads it
            [Execution(id=987654)], [], [Context(type="Experiment", name="new")], []
        ),
    ]
    for call in linked:
        with pytest.raises(
            NotFoundError, match=r"no (artifact|execution) with id 987654 \(given by id alone"
        ):
            call()
        assert snapshot(typed) == before
    # a context given by id alone (as a run links its stored contexts) that is gone
    with pytest.raises(NotFoundError, match=r"no context with id 987655 \(given by id alone"):
        typed.put_execution(
            Execution(type="Trainer"),
            [(Artifact(id=data), input_)],
            [Context.model_construct(id=987655)],
        )
    assert snapshot(typed) == before
    eid, _, _ = typed.put_execution(
        Execution(type="Trainer"),
        [(Artifact(id=data), input_)],
        [Context(type="Experiment", name="new")],
    )
    assert [e.artifact_id for e in typed.get_events_by_execution_ids([eid])] == [data]


def test_a_missing_reference_an_event_reads_is_named_before_a_taken_key(
    typed: LineageStore,
) -> None:
    """docs/api.md's order (nodes given by id alone, then unique keys) holds on both engines
    when the missing reference has no guard of its own (an event reads it) and a new node takes
    a stored key: Neo4j's constraint stops the write at that node, before the event part."""
    [data] = typed.put_artifacts([Artifact(type="DataSet", uri="/d", external_id="held")])
    before = snapshot(typed)
    with pytest.raises(NotFoundError, match=r"no artifact with id 987654 \(given by id alone"):
        typed.put_execution(
            Execution(type="Trainer"),
            [
                (Artifact(id=987654), Event(type=EventType.INPUT)),
                (Artifact(type="DataSet", uri="/n", external_id="held"), None),
            ],
            [],
        )
    assert snapshot(typed) == before
    with pytest.raises(AlreadyExistsError, match="held"):
        typed.put_execution(
            Execution(type="Trainer"),
            [
                (Artifact(id=data), Event(type=EventType.INPUT)),
                (Artifact(type="DataSet", uri="/n", external_id="held"), None),
            ],
            [],
        )
    assert snapshot(typed) == before


def test_unique_violation_inside_the_engine_rolls_back_the_whole_statement(
    typed: LineageStore,
) -> None:
    """The duplicate is only detected inside the engine (Neo4j: its constraint; FalkorDB: the
    guard of graph/write), mid-statement."""
    typed.put_artifacts([Artifact(type="DataSet", name="dup")])
    before = snapshot(typed)
    with pytest.raises(AlreadyExistsError):
        typed.put_lineage_subgraph(
            [Execution(type="Trainer")],
            [Artifact(type="SavedModel"), Artifact(type="DataSet", name="dup")],
            [Context(type="Experiment", name="fresh")],
            [(0, 0, Event(type=EventType.OUTPUT))],
        )
    assert snapshot(typed) == before


def test_put_lineage_subgraph(typed: LineageStore) -> None:
    eids, aids, cids = typed.put_lineage_subgraph(
        [Execution(type="Trainer"), Execution(type="Trainer")],
        [Artifact(type="DataSet"), Artifact(type="SavedModel"), Artifact(type="SavedModel")],
        [Context(type="Experiment", name="e")],
        [
            (0, 0, Event(type=EventType.INPUT)),
            (0, 1, Event(type=EventType.OUTPUT)),
            (1, 1, Event(type=EventType.INPUT)),
            (1, 2, Event(type=EventType.OUTPUT)),
        ],
    )
    assert len(eids) == 2 and len(aids) == 3 and len(cids) == 1
    assert len(typed.get_events_by_artifact_ids(aids)) == 4
    assert len(typed.get_artifacts_by_context(cids[0])) == 3
    with pytest.raises(OutOfRangeError):
        typed.put_lineage_subgraph(
            [Execution(type="Trainer")], [], [], [(0, 5, Event(type=EventType.INPUT))]
        )


def test_reuse_artifact_by_external_id(typed: LineageStore) -> None:
    [aid] = typed.put_artifacts([Artifact(type="DataSet", external_id="ds-1", uri="/a")])
    _, aids, _ = typed.put_execution(
        Execution(type="Trainer"),
        [(Artifact(type="DataSet", external_id="ds-1", uri="/a2"), Event(type=EventType.INPUT))],
        reuse_artifact_if_already_exist_by_external_id=True,
    )
    assert aids == [aid]
    assert typed.get_artifacts_by_id([aid])[0].uri == "/a2"
    with pytest.raises(AlreadyExistsError):
        typed.put_execution(
            Execution(type="Trainer"),
            [(Artifact(type="DataSet", external_id="ds-1"), Event(type=EventType.INPUT))],
        )


def test_store_describes_itself(store: LineageStore) -> None:
    info = store.describe()
    assert info["schema_version"] == store.schema_version == SCHEMA_VERSION
    assert info["engine"] in ("falkordb", "neo4j")


@pytest.mark.parametrize("kind", list(NodeKind))
def test_every_getter_of_every_kind(store: LineageStore, kind: NodeKind) -> None:
    type_classes = {
        NodeKind.ARTIFACT: ArtifactType,
        NodeKind.EXECUTION: ExecutionType,
        NodeKind.CONTEXT: ContextType,
    }
    node_classes = {
        NodeKind.ARTIFACT: Artifact,
        NodeKind.EXECUTION: Execution,
        NodeKind.CONTEXT: Context,
    }
    put = {
        NodeKind.ARTIFACT: store.put_artifacts,
        NodeKind.EXECUTION: store.put_executions,
        NodeKind.CONTEXT: store.put_contexts,
    }[kind]
    tid = store.put_type(type_classes[kind](name="T", external_id="type-ext"))
    assert [t.id for t in store.get_types_by_external_ids(kind, ["type-ext"])] == [tid]
    assert [t.id for t in store.get_types_by_id(kind, [tid])] == [tid]
    assert store.get_type(kind, "T").id == tid
    ids = put([node_classes[kind](type="T", name=f"n{i}", external_id=f"x{i}") for i in range(3)])
    prefix = {
        NodeKind.ARTIFACT: "artifact",
        NodeKind.EXECUTION: "execution",
        NodeKind.CONTEXT: "context",
    }[kind]
    get_by_id = getattr(store, f"get_{prefix}s_by_id")
    get_by_type = getattr(store, f"get_{prefix}s_by_type")
    get_by_name = getattr(store, f"get_{prefix}_by_type_and_name")
    get_by_ext = getattr(store, f"get_{prefix}s_by_external_ids")
    get_all = getattr(store, f"get_{prefix}s")
    assert [n.id for n in get_by_id(reversed(ids))] == ids
    assert [n.id for n in get_by_type("T")] == ids
    found = get_by_name("T", "n1")
    assert found is not None and found.id == ids[1] and found.kind == kind
    assert [n.id for n in get_by_ext(["x2"])] == [ids[2]]
    assert [n.id for n in get_all()] == ids
    assert store.count(kind) == 3
    put([node_classes[kind](id=ids[0], name="renamed")])
    assert get_by_id([ids[0]])[0].name == "renamed"


#: An internal key's stored value, one per kind of value the keys hold.
_KEPT_VALUES = {"mlmd_origin": "src#7", "next_model_version": 4, "model_claim": [9, 3]}


@pytest.mark.parametrize(
    ("label", "type_class", "node_class"),
    [
        ("artifact", ArtifactType, Artifact),
        ("execution", ExecutionType, Execution),
        ("context", ContextType, Context),
    ],
)
def test_a_whole_update_keeps_every_internal_key_the_node_holds(
    store: LineageStore, label: str, type_class: type[Any], node_class: type[Any]
) -> None:
    """The models do not carry KEPT_KEYS; a whole update (SET n = props) keeps each one the
    node holds as it is when the write runs (graph/write), or an import's origin, a registry's
    next version or an artifact's claim would go with the first update."""
    from lineage_graph._repositories.nodes import KEPT_KEYS

    assert set(KEPT_KEYS) == set(_KEPT_VALUES)
    getattr(store, f"put_{label}_type")(type_class(name="T"))
    put, get = getattr(store, f"put_{label}s"), getattr(store, f"get_{label}s_by_id")
    [node_id] = put([node_class(type="T", name="n")])
    match = f"MATCH (n:{label.capitalize()} {{id: $id}})"  # test set-up: one of three labels
    store.backend.write(
        f"{match} SET n += $kept", {"id": node_id, "kept": _KEPT_VALUES}, name="test/set_kept"
    )
    [stored] = get([node_id])
    put([stored.model_copy(update={"name": "renamed"})])  # a whole update
    keys = ", ".join(f"n.{k} AS {k}" for k in KEPT_KEYS)
    [row] = store.backend.read(
        f"{match} RETURN n.name AS name, {keys}", {"id": node_id}, name="test/get_kept"
    )
    assert row == {"name": "renamed", **_KEPT_VALUES}


def test_a_type_named_on_update_must_be_the_nodes(typed: LineageStore) -> None:
    """An update naming another type (by name or version) is refused as a type_id change is;
    it was written under the stored type, its properties checked against that type instead."""
    typed.put_artifact_type(ArtifactType(name="DataSet", version="v2"))
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/a", properties={"day": 1})])
    before = snapshot(typed)
    bad = [
        Artifact(id=aid, type="SavedModel", uri="/b", properties={"day": 2}),
        Artifact(id=aid, type="DataSet", type_version="v2", uri="/b"),
        Artifact(id=aid, type_id=typed.get_artifact_type("DataSet").id, type_version="v2"),
    ]
    for node in bad:
        with pytest.raises(InvalidArgumentError, match="type"):
            typed.put_artifacts([node])
        with pytest.raises(InvalidArgumentError, match="type"):
            typed.put_artifacts([node], field_mask_paths=["uri"])
    # on insert too: a type_id and a type version that do not agree
    with pytest.raises(InvalidArgumentError, match="version"):
        typed.put_artifacts(
            [Artifact(type_id=typed.get_artifact_type("DataSet").id, type_version="v2")]
        )
    assert snapshot(typed) == before
    # the node as read names its own type: putting it back is fine
    [read] = typed.get_artifacts_by_id([aid])
    assert typed.put_artifacts([read.model_copy(update={"uri": "/c"})]) == [aid]
    assert typed.get_artifacts_by_id([aid])[0].uri == "/c"


def test_a_composite_write_checks_each_node_model_once(
    typed: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """put_execution and put_lineage_subgraph check the models they are given before their
    reuse look-ups; their nodes' prepare ran the same checks on each of them again."""
    from lineage_graph._repositories.nodes import NodeRepository

    checked: list[int] = []
    check = NodeRepository.check_models

    def counted(self: NodeRepository[Any], nodes: Any) -> None:
        checked.extend(id(n) for n in nodes)
        check(self, nodes)

    monkeypatch.setattr(NodeRepository, "check_models", counted)
    [aid] = typed.put_artifacts([Artifact(type="DataSet", uri="/in")])
    assert len(checked) == 1
    given: list[Any] = [
        Execution(type="Trainer"),
        Artifact(id=aid),
        Artifact(type="DataSet", uri="/out"),
        Context(type="Experiment", name="c"),
    ]
    checked.clear()
    typed.put_execution(
        given[0], [(given[1], Event(type="INPUT")), (given[2], Event(type="OUTPUT"))], [given[3]]
    )
    assert sorted(checked) == sorted(map(id, given))
    # the context stored now: reused, as a reference the write builds (checked as given)
    given[0], given[2] = Execution(type="Trainer"), Artifact(type="DataSet", uri="/out2")
    given[3] = Context(type="Experiment", name="c")
    checked.clear()
    typed.put_lineage_subgraph(
        [given[0]],
        given[1:3],
        [given[3]],
        [(0, 0, Event(type="INPUT")), (0, 1, Event(type="OUTPUT"))],
        reuse_context_if_already_exist=True,
    )
    assert sorted(checked) == sorted(map(id, given))
    assert len(typed.get_contexts()) == 1


def test_get_contexts_by_name_finds_every_type_and_version(store: LineageStore) -> None:
    store.put_context_type(ContextType(name="Run"))
    store.put_context_type(ContextType(name="Exp"))
    store.put_context_type(ContextType(name="Exp", version="v1"))
    ids = store.put_contexts(
        [
            Context(type="Exp", type_version="v1", name="shared"),
            Context(type="Run", name="other"),
            Context(type="Run", name="shared"),
            Context(type="Exp", name="shared"),
            Context(type="Exp", name="a/b"),
        ]
    )
    assert [c.id for c in store.get_contexts_by_name("shared")] == [ids[0], ids[2], ids[3]]
    assert [c.id for c in store.get_contexts_by_name("a/b")] == [ids[4]]
    assert store.get_contexts_by_name("Shared") == []
    with pytest.raises(InvalidArgumentError, match="a name is a str"):
        store.get_contexts_by_name(None)  # type: ignore[arg-type]


def test_a_type_named_by_a_str_subclass_or_again_resolves_to_the_same_type(
    store: LineageStore,
) -> None:
    """The key a type is found by (its name and version) is encoded once per plain str pair
    (types.type_key): a name given again, or as a str subclass, finds the same type, with or
    without a version; a name that is no str is refused as before."""

    class Name(str):
        pass

    plain = store.put_artifact_type(ArtifactType(name='Data"Set é'))
    versioned = store.put_artifact_type(ArtifactType(name='Data"Set é', version="v1"))
    assert plain != versioned
    for name in ('Data"Set é', Name('Data"Set é')):
        for version, type_id in ((None, plain), ("v1", versioned), (Name("v1"), versioned)):
            [aid] = store.put_artifacts(
                [Artifact.model_construct(type=name, type_version=version, uri="/u")]
            )
            [got] = store.get_artifacts_by_id([aid])
            assert got.type_id == type_id
    with pytest.raises(InvalidArgumentError, match="no ArtifactType named"):
        store.put_artifacts([Artifact(type='Data"Set é', type_version="v2")])
    with pytest.raises(InvalidArgumentError, match="type_version must be a str or None"):
        store.put_artifacts([Artifact.model_construct(type='Data"Set é', type_version=1)])


def test_lookups_by_huge_type_names_hold_no_memory(store: LineageStore) -> None:
    """A lookup by a type name longer than any stored type's key finds nothing and keeps
    nothing: the type keys' cache (types.type_key) held each such name and its JSON for good
    (20 lookups by 1 MB names: 40 MB retained, up to 1,024 of them)."""
    import gc
    import tracemalloc

    store.put_artifact_type(ArtifactType(name="Data"))
    store.get_artifacts_by_type("Data")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(20):
            assert store.get_artifacts_by_type(f"{i}" + "x" * 1_000_000) == []
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 5_000_000, retained


def test_a_write_of_nothing_sends_no_statement_and_one_of_something_does(
    store: LineageStore, backend: Any
) -> None:
    """A write with no rows (only its guards' derived inputs, all empty) is skipped before it
    is composed (graph._is_empty); one with a row is sent, and only then is anything stored."""
    store.put_artifact_type(ArtifactType(name="Data"))
    store.put_execution_type(ExecutionType(name="Run"))
    before = snapshot(store)
    with backend.record() as sent:
        assert store.put_artifacts([]) == []
        assert store.put_executions([]) == []
        assert store.put_contexts([]) == []
        assert store.put_lineage_subgraph([], [], [], []) == ([], [], [])
        store.put_events([])
        store.put_attributions_and_associations([], [])
        store.put_parent_contexts([])
    assert [s.name for s in sent if s.write] == []
    assert snapshot(store) == before
    with backend.record() as sent:
        [aid] = store.put_artifacts([Artifact(type="Data", uri="/a")])
        [eid] = store.put_executions([Execution(type="Run")])
        store.put_events([Event(artifact_id=aid, execution_id=eid, type=EventType.INPUT)])
    assert [s.name for s in sent if s.write].count("graph/write") == 3
    assert [(e.artifact_id, e.execution_id) for e in store.get_events_by_artifact_ids([aid])] == [
        (aid, eid)
    ]


def test_a_composite_write_with_no_node_of_a_kind_takes_no_id_of_it_and_writes_the_rest(
    store: LineageStore, backend: Any
) -> None:
    """A kind a composite write gives no node of (put_execution's contexts, a subgraph's
    executions) is prepared as nothing (nodes.prepare): no id of it is taken and no read is
    sent, and the nodes of the other kinds, their events and links are written in one
    statement."""
    store.put_artifact_type(ArtifactType(name="Data"))
    store.put_execution_type(ExecutionType(name="Run"))
    store.put_context_type(ContextType(name="Exp"))
    [seed] = store.put_artifacts([Artifact(type="Data", uri="/seed")])
    [first] = store.put_executions([Execution(type="Run")])  # (its block of ids reserved)
    with backend.record() as sent:
        eid, aids, cids = store.put_execution(
            Execution(type="Run", last_known_state=ExecutionState.COMPLETE),
            [
                (Artifact(id=seed), Event(type=EventType.INPUT)),
                (Artifact(type="Data", uri="/out"), Event(type=EventType.OUTPUT)),
            ],
        )
    assert cids == []
    assert [s.name for s in sent] == ["graph/write"]
    assert eid == first + 1
    assert aids == [seed, seed + 1]
    events = store.get_events_by_execution_ids([eid])
    assert sorted((e.artifact_id, e.type) for e in events) == [
        (seed, EventType.INPUT),
        (seed + 1, EventType.OUTPUT),
    ]
    assert store.get_contexts() == []
    # contexts only: no execution or artifact id taken, the context gets the first id
    assert store.put_lineage_subgraph([], [], [Context(type="Exp", name="c")], []) == ([], [], [1])
    [eid2] = store.put_executions([Execution(type="Run")])
    assert eid2 == eid + 1
    [aid3] = store.put_artifacts([Artifact(type="Data", uri="/next")])
    assert aid3 == seed + 2
    assert [c.name for c in store.get_contexts()] == ["c"]


def test_a_write_names_each_kind_by_its_label_in_ids_refusals_and_what_it_sent(
    store: LineageStore,
) -> None:
    """The labels a node write reads once per repository (``NodeRepository._label``, graph's
    ``_LABEL``): each kind's ids are its own sequence, a model of another kind is refused
    naming both, a reference to a missing node is refused naming its kind, and the first new
    id of each kind sent is kept under the kind's label (what an interrupted run reads)."""
    store.put_artifact_type(ArtifactType(name="Data"))
    store.put_execution_type(ExecutionType(name="Run"))
    store.put_context_type(ContextType(name="Exp"))
    eid, aids, cids = store.put_execution(
        Execution(type="Run"),
        [(Artifact(type="Data", uri="/a"), Event(type=EventType.OUTPUT))],
        [Context(type="Exp", name="c")],
    )
    assert (eid, aids, cids) == (1, [1], [1])
    assert store._writer.take_sent() == {"Artifact": 1, "Execution": 1, "Context": 1}
    for put, wrong, expected in (
        (store.put_artifacts, Execution(type="Run"), "expected Artifact, got Execution"),
        (store.put_executions, Context(type="Exp", name="d"), "expected Execution, got Context"),
        (store.put_contexts, Artifact(type="Data"), "expected Context, got Artifact"),
    ):
        with pytest.raises(InvalidArgumentError, match=expected):
            put([wrong])  # type: ignore[list-item]
    with pytest.raises(NotFoundError, match="artifact"):
        store.put_execution(Execution(type="Run"), [(Artifact(id=99), Event(type=EventType.INPUT))])
    assert store.put_executions([Execution(type="Run")]) == [2]
    assert store._writer.take_sent() == {"Execution": 2}
