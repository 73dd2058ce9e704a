"""Models built from stored values without a second validation (``models/_stored.py``) are the
models validation would build: equal, with the same fields set, and still validated on
assignment. A pydantic release that changed the internals ``stored_model`` sets fails here."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from lineage_graph import LineageStore, NodeRef, StoredValueError
from lineage_graph import models as m
from lineage_graph._repositories.nodes import decode_node
from lineage_graph._repositories.relations import decode_event, stored_event
from lineage_graph.models._stored import stored_model
from tests.strategies import property_values

ids = st.integers(1, m.INT64_MAX)
times = st.integers(m.INT64_MIN, m.INT64_MAX)
names = st.text(min_size=1, max_size=12)
props = st.dictionaries(names, property_values, max_size=4)


def _node(specific: dict[str, Any], required: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    optional = {"name": names, "external_id": names, "create_time_since_epoch": times}
    optional |= {"last_update_time_since_epoch": times, **specific}
    return st.fixed_dictionaries(
        {
            "id": ids,
            "type_id": ids,
            "type": names,
            "type_version": st.none() | names,
            "properties": props,
            "custom_properties": props,
            **required,
        },
        optional={k: v for k, v in optional.items() if k not in required},
    )


CASES: list[tuple[type[BaseModel], st.SearchStrategy[dict[str, Any]]]] = [
    (m.Artifact, _node({"uri": st.text(), "state": st.sampled_from(m.ArtifactState)}, {})),
    (m.Execution, _node({"last_known_state": st.sampled_from(m.ExecutionState)}, {})),
    (m.Context, _node({}, {"name": names})),
    (
        m.Event,
        st.fixed_dictionaries(
            {
                "artifact_id": ids,
                "execution_id": ids,
                "type": st.sampled_from([t for t in m.EventType if t is not m.EventType.UNKNOWN]),
                "path": st.lists(times | st.text(max_size=5), max_size=3),
                "milliseconds_since_epoch": st.none() | times,
            }
        ),
    ),
]


@pytest.mark.parametrize(("model", "values"), CASES, ids=[c[0].__name__ for c in CASES])
@given(data=st.data())
def test_equal_to_the_validated_model(
    model: type[BaseModel], values: st.SearchStrategy[dict[str, Any]], data: st.DataObject
) -> None:
    given_values = data.draw(values)
    validated = model.model_validate(given_values)
    built = stored_model(model, dict(given_values))
    assert type(built) is model
    assert repr(built) == repr(validated)  # every field, NaN included
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump(exclude_unset=True).keys() == given_values.keys()
    if "nan" not in repr(validated):
        assert built == validated
        assert built.model_copy(update={}) == validated


def test_assignment_is_still_validated() -> None:
    values: dict[str, Any] = {"id": 1, "type_id": 2, "properties": {}, "custom_properties": {}}
    built = stored_model(m.Artifact, values)
    with pytest.raises(ValidationError):
        built.id = -1
    with pytest.raises(ValidationError):
        built.properties = {"": 1}
    built.uri = "/data"
    assert built.uri == "/data"
    assert "uri" in built.model_fields_set


def test_read_back_models_hold_enum_members(store: LineageStore) -> None:
    """The stored ints become the models' enum members, as validation made them."""
    store.put_artifact_type(m.ArtifactType(name="D", properties={"day": 1}))
    store.put_execution_type(m.ExecutionType(name="T"))
    store.put_context_type(m.ContextType(name="R"))
    [a] = store.put_artifacts(
        [m.Artifact(type="D", uri="/d", state=m.ArtifactState.LIVE, properties={"day": 3})]
    )
    [e] = store.put_executions([m.Execution(type="T", last_known_state=m.ExecutionState.COMPLETE)])
    [c] = store.put_contexts([m.Context(type="R", name="run", external_id="r-1")])
    store.put_events(
        [m.Event(artifact_id=a, execution_id=e, type=m.EventType.INPUT, path=[0, "k"])]
    )
    [art] = store.get_artifacts_by_id([a])
    [ex] = store.get_executions_by_id([e])
    [ctx] = store.get_contexts_by_id([c])
    [ev] = store.get_events_by_execution_ids([e])
    assert type(art.state) is m.ArtifactState and art.state is m.ArtifactState.LIVE
    assert type(ex.last_known_state) is m.ExecutionState
    assert ex.last_known_state is m.ExecutionState.COMPLETE
    assert type(ev.type) is m.EventType and ev.type is m.EventType.INPUT
    assert ev.path == [0, "k"]
    for got in (art, ex, ctx, ev):
        assert got == type(got).model_validate(got.model_dump(exclude_unset=True))
    assert art.properties == {"day": 3} and ctx.external_id == "r-1"


def test_a_stored_value_the_library_would_not_write_is_not_read_as_a_model(
    store: LineageStore,
) -> None:
    """A state or event type written around the library (raw Cypher) is an error naming the
    node and the field (StoredValueError), not a model holding an int where an enum belongs
    (nor pydantic's bare ValidationError)."""
    store.put_artifact_type(m.ArtifactType(name="D"))
    store.put_execution_type(m.ExecutionType(name="T"))
    [a] = store.put_artifacts([m.Artifact(type="D", state=m.ArtifactState.LIVE)])
    [e] = store.put_executions([m.Execution(type="T")])
    store.put_events([m.Event(artifact_id=a, execution_id=e, type=m.EventType.OUTPUT)])
    store.backend.write("MATCH (n:Artifact {id: $id}) SET n.state = 42", {"id": a})
    store.backend.write("MATCH (:Execution)-[r:EVENT]->(:Artifact) SET r.type = 42", {})
    with pytest.raises(StoredValueError, match="state"):
        store.get_artifacts_by_id([a])
    with pytest.raises(StoredValueError, match="type"):
        store.get_events_by_execution_ids([e])


def _stored_map(kind: m.NodeKind, given: dict[str, Any]) -> dict[str, Any]:
    """The map the store holds for a node of these fields (no properties; states as ints)."""
    stored = {k: v for k, v in given.items() if k not in ("properties", "custom_properties")}
    for name in ("state", "last_known_state"):
        if name in stored:
            stored[name] = int(stored[name])
    if kind is not m.NodeKind.CONTEXT:
        stored["input_sig"] = "2/1:1:1:1"  # an internal key the models do not carry
    return stored


NODE_CASES = [(m.NodeKind.ARTIFACT, CASES[0][1]), (m.NodeKind.EXECUTION, CASES[1][1])]
NODE_CASES.append((m.NodeKind.CONTEXT, CASES[2][1]))


@pytest.mark.parametrize(("kind", "values"), NODE_CASES, ids=[c[0].value for c in NODE_CASES])
@given(data=st.data())
def test_a_decoded_node_is_the_validated_model(
    kind: m.NodeKind, values: st.SearchStrategy[dict[str, Any]], data: st.DataObject
) -> None:
    """``decode_node`` fills the model's defaults and sets the stored fields in place: the
    model validation builds from the same fields, in the same field order, with the same
    fields set (type_id, type and type_version always, as the read always gave them)."""
    given_values = data.draw(values)
    given_values["properties"] = given_values["custom_properties"] = {}
    built = decode_node(kind, _stored_map(kind, given_values))
    expected = type(built).model_validate(
        {"type_id": None, "type": None, "type_version": None, **given_values}
    )
    assert repr(built) == repr(expected)
    assert list(vars(built)) == list(vars(expected))
    assert built.model_fields_set == expected.model_fields_set
    assert built == expected


@given(values=CASES[3][1])
def test_a_stored_event_is_the_validated_event(values: dict[str, Any]) -> None:
    """``stored_event`` builds every field in Event's order, without validating again."""
    path = json.dumps(values["path"]) if values["path"] else "[]"
    built = stored_event(
        values["artifact_id"],
        values["execution_id"],
        int(values["type"]),
        path,
        values["milliseconds_since_epoch"],
    )
    expected = m.Event.model_validate(values)
    assert repr(built) == repr(expected)
    assert list(vars(built)) == list(vars(expected))
    assert built.model_fields_set == expected.model_fields_set
    assert built == expected
    assert (
        decode_event(
            {
                "artifact_id": values["artifact_id"],
                "execution_id": values["execution_id"],
                "type": int(values["type"]),
                "path": path,
                "ms": values["milliseconds_since_epoch"],
            }
        )
        == expected
    )


def test_an_event_type_the_library_would_not_write_is_validated() -> None:
    with pytest.raises(StoredValueError, match="type") as caught:
        stored_event(1, 2, 42, "[]", None)
    assert (caught.value.kind, caught.value.id, caught.value.field) == ("Event", (1, 2), "type")


@pytest.mark.parametrize(
    ("etype", "path", "field"),
    [
        (0, '["k"]', "type"),  # UNKNOWN: the write refuses it (Event's validator)
        (4, "{}", "path"),
        (4, "null", "path"),
        (4, '"ab"', "path"),
        (4, "[1.5]", "path"),
        (4, "[[1]]", "path"),
        (4, "[true]", "path"),
        (4, "[99999999999999999999]", "path"),
        (4, "not json", "path"),
    ],
)
def test_an_event_the_library_would_not_write_is_validated_on_every_read(
    store: LineageStore, etype: int, path: str, field: str
) -> None:
    """An event type or path written around the library (raw Cypher, another writer) is not
    read as an Event that validation refuses (UNKNOWN, a path that is a dict, None or a str, a
    float step...) nor fails with a bare JSONDecodeError or ValidationError: StoredValueError
    names the event and the field, on a direct read and in a lineage walk alike."""
    store.put_artifact_type(m.ArtifactType(name="D"))
    store.put_execution_type(m.ExecutionType(name="T"))
    [a] = store.put_artifacts([m.Artifact(type="D")])
    [e] = store.put_executions([m.Execution(type="T")])
    store.put_events([m.Event(artifact_id=a, execution_id=e, type=m.EventType.OUTPUT, path=[1])])
    store.backend.write(
        "MATCH (:Execution)-[r:EVENT]->(:Artifact) SET r.type = $t, r.path = $p",
        {"t": etype, "p": path},
    )
    with pytest.raises(StoredValueError, match=field):
        store.get_events_by_execution_ids([e])
    with pytest.raises(StoredValueError, match=field):
        store.get_events_by_artifact_ids([a])
    with pytest.raises(StoredValueError, match=field) as caught:
        store.lineage(NodeRef(m.NodeKind.EXECUTION, e), direction="downstream")
    assert (caught.value.id, caught.value.field) == ((a, e), field)


def test_a_stored_path_this_library_wrote_is_read_without_validation() -> None:
    """Steps at the int64 bounds and str keys (JSON escapes too) are the library's own: read
    as they are, equal to the validated event."""
    path = [m.INT64_MIN, m.INT64_MAX, "k", "é\n", 0]
    built = stored_event(1, 2, int(m.EventType.INPUT), json.dumps(path), None)
    assert built.path == path
    assert built == m.Event(artifact_id=1, execution_id=2, type=m.EventType.INPUT, path=path)


@pytest.mark.parametrize("direction", ["both", "downstream", "upstream"])
def test_an_event_type_stored_as_its_name_is_one_event_of_a_lineage_walk(
    store: LineageStore, direction: str
) -> None:
    """An event type another writer stored as its name ("OUTPUT") reads as that type, as
    direct reads do: the walk gave a bare TypeError (its int and str keys sorted together)."""
    store.put_artifact_type(m.ArtifactType(name="D"))
    store.put_execution_type(m.ExecutionType(name="T"))
    [a, b] = store.put_artifacts([m.Artifact(type="D"), m.Artifact(type="D")])
    [e] = store.put_executions([m.Execution(type="T")])
    store.put_events(
        [
            m.Event(artifact_id=a, execution_id=e, type=m.EventType.OUTPUT, path=[1]),
            m.Event(artifact_id=b, execution_id=e, type=m.EventType.OUTPUT),
        ]
    )
    store.backend.write(
        "MATCH (:Execution)-[r:EVENT]->(x:Artifact {id: $a}) SET r.type = 'OUTPUT'", {"a": a}
    )
    read = store.get_events_by_execution_ids([e])
    assert [ev.type for ev in read] == [m.EventType.OUTPUT] * 2 and read[0].path == [1]
    upstream = direction == "upstream"
    start = NodeRef(m.NodeKind.ARTIFACT, a) if upstream else NodeRef(m.NodeKind.EXECUTION, e)
    graph = store.lineage(start, direction=direction)
    assert graph.events == (read[:1] if upstream else read)
