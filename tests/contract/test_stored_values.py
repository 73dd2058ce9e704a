"""Values written around the library (another tool, a hand-made Cypher statement on the same
graph, a damaged node) are read as a typed :class:`StoredValueError` naming the node (its kind
and id) and the field, on every read path: never a bare pydantic ``ValidationError``, a
``TypeError`` or ``ValueError``, nor a model holding a value of another type (an int as a uri,
"no" as True)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lineage_graph import LineageStore, NodeRef, StoredValueError
from lineage_graph import models as m


def _seed(store: LineageStore) -> dict[str, int]:
    """An artifact (a property of each kind), an execution that produced it, a context
    holding both, and the types."""
    store.put_artifact_type(m.ArtifactType(name="D", properties={"day": m.PropertyType.INT}))
    store.put_execution_type(m.ExecutionType(name="T"))
    store.put_context_type(m.ContextType(name="R"))
    custom = {"s": "x", "f": 1.5, "b": True, "j": {"k": 1}, "p": m.ProtoValue(type_url="t")}
    [a] = store.put_artifacts(
        [m.Artifact(type="D", uri="u", name="a1", properties={"day": 3}, custom_properties=custom)]
    )
    [e] = store.put_executions([m.Execution(type="T", name="e1")])
    [c] = store.put_contexts([m.Context(type="R", name="c1")])
    store.put_events([m.Event(artifact_id=a, execution_id=e, type=m.EventType.OUTPUT)])
    store.put_attributions_and_associations(
        [m.Attribution(artifact_id=a, context_id=c)], [m.Association(execution_id=e, context_id=c)]
    )
    return {"Artifact": a, "Execution": e, "Context": c}


Read = Callable[[LineageStore, dict[str, int]], object]

#: Every read of a node of each kind (the id of each kind's seeded node in ``ids``); the keys
#: some of them select by (a node whose uri is changed is not found by its old one).
SELECTS_BY: dict[int, tuple[str, ...]] = {}
READS: dict[str, list[Read]] = {
    "Artifact": [
        lambda s, ids: s.get_artifacts_by_id([ids["Artifact"]]),
        lambda s, ids: s.get_artifacts(),
        lambda s, ids: s.get_artifacts_by_type("D"),
        lambda s, ids: s.get_artifact_by_type_and_name("D", "a1"),
        lambda s, ids: s.get_artifacts_by_uri("u"),
        lambda s, ids: s.get_artifacts_by_context(ids["Context"]),
        lambda s, ids: list(s.iter_nodes(m.NodeKind.ARTIFACT)),
        lambda s, ids: s.lineage(
            NodeRef(m.NodeKind.EXECUTION, ids["Execution"]), direction="downstream"
        ),
        lambda s, ids: s.lineage(NodeRef(m.NodeKind.ARTIFACT, ids["Artifact"]), direction="both"),
    ],
    "Execution": [
        lambda s, ids: s.get_executions_by_id([ids["Execution"]]),
        lambda s, ids: s.get_executions(),
        lambda s, ids: s.get_executions_by_type("T"),
        lambda s, ids: s.get_executions_by_context(ids["Context"]),
        lambda s, ids: s.lineage(
            NodeRef(m.NodeKind.ARTIFACT, ids["Artifact"]), direction="upstream"
        ),
    ],
    "Context": [
        lambda s, ids: s.get_contexts_by_id([ids["Context"]]),
        lambda s, ids: s.get_contexts(),
        lambda s, ids: s.get_contexts_by_type("R"),
        lambda s, ids: s.get_contexts_by_artifact(ids["Artifact"]),
        lambda s, ids: s.get_contexts_by_execution(ids["Execution"]),
    ],
}
_ARTIFACT_READS = READS["Artifact"]
SELECTS_BY[id(_ARTIFACT_READS[2])] = ("type",)
SELECTS_BY[id(_ARTIFACT_READS[3])] = ("type", "name")
SELECTS_BY[id(_ARTIFACT_READS[4])] = ("uri",)
SELECTS_BY[id(READS["Execution"][2])] = ("type_id",)
SELECTS_BY[id(READS["Context"][2])] = ("type",)

#: (label, stored key, Cypher literal written there, the field the error names)
CASES = [
    ("Artifact", "uri", "5", "uri"),
    ("Artifact", "uri", "[1, 2]", "uri"),
    ("Artifact", "name", "true", "name"),
    ("Artifact", "external_id", "7", "external_id"),
    ("Artifact", "type", "5", "type"),
    ("Artifact", "type_version", "1.5", "type_version"),
    ("Artifact", "create_time_since_epoch", "'abc'", "create_time_since_epoch"),
    ("Artifact", "last_update_time_since_epoch", "1.5", "last_update_time_since_epoch"),
    ("Artifact", "state", "42", "state"),
    ("Artifact", "state", "-1", "state"),
    ("Artifact", "state", "[1]", "state"),  # not hashable: a bare TypeError before
    ("Artifact", "state", "2.0", "state"),
    ("Artifact", "state", "'live'", "state"),
    ("Artifact", "pi__day", "'abc'", "properties.'day'"),
    ("Artifact", "pi__day", "2.5", "properties.'day'"),  # was cut to 2
    ("Artifact", "pi__day", "[1]", "properties.'day'"),
    ("Artifact", "cx__f", "'abc'", "custom_properties.'f'"),
    ("Artifact", "cx__f", "true", "custom_properties.'f'"),
    ("Artifact", "cb__b", "'no'", "custom_properties.'b'"),  # was read as True
    ("Artifact", "cs__s", "5", "custom_properties.'s'"),
    ("Artifact", "cs__s", "['a']", "custom_properties.'s'"),
    ("Artifact", "cj__j", "'not json'", "custom_properties.'j'"),
    ("Artifact", "cj__j", "'[1]'", "custom_properties.'j'"),  # a struct is a JSON object
    ("Artifact", "cj__j", "5", "custom_properties.'j'"),
    ("Artifact", "ca__p", "'nope'", "custom_properties.'p'"),
    ("Artifact", "ca__p", "'[1]'", "custom_properties.'p'"),
    ("Artifact", "ca__p", '\'{"type_url": 1, "value": ""}\'', "custom_properties.'p'"),
    ("Artifact", "ca__p", '\'{"type_url": "t", "value": "%%"}\'', "custom_properties.'p'"),
    ("Artifact", "cz__s", "'5'", "custom_properties.'s'"),
    ("Execution", "last_known_state", "99", "last_known_state"),
    ("Execution", "last_known_state", "'RUN'", "last_known_state"),
    ("Execution", "name", "[1]", "name"),
    ("Execution", "type_id", "'x'", "type_id"),
    ("Context", "name", "null", "name"),  # required
    ("Context", "name", "''", "name"),
    ("Context", "name", "5", "name"),
    ("Context", "create_time_since_epoch", "[]", "create_time_since_epoch"),
]


@pytest.mark.parametrize(("label", "key", "literal", "field"), CASES)
def test_a_value_written_around_the_library_is_named_on_every_read(
    store: LineageStore, label: str, key: str, literal: str, field: str
) -> None:
    ids = _seed(store)
    store.backend.write(
        f"MATCH (n:{label}) WHERE n.id = $id SET n.`{key}` = {literal}",
        {"id": ids[label]},
        name="test/corrupt",
    )
    for i, read in enumerate(READS[label]):
        if key in SELECTS_BY.get(id(read), ()):
            continue
        with pytest.raises(StoredValueError) as caught:
            read(store, ids)
        error = caught.value
        assert (error.kind, error.id, error.field) == (label, ids[label], field), i
        assert f"{label} {ids[label]}:" in str(error) and field in str(error)


@pytest.mark.parametrize("literal", ["'x'", "0", "-3", "2.5", "null", "[1]"])
def test_a_node_id_written_around_the_library_is_named(store: LineageStore, literal: str) -> None:
    """An id that is no positive int (text, 0, none, a list) is named as the node's id, not
    given back; a lineage walk failed with a bare KeyError (none) or TypeError (a list)."""
    ids = _seed(store)
    store.backend.write(
        f"MATCH (n:Artifact) WHERE n.id = $id SET n.id = {literal}", {"id": ids["Artifact"]}
    )
    for read in (
        lambda: store.get_artifacts_by_type("D"),
        lambda: store.get_artifacts_by_context(ids["Context"]),
        lambda: store.lineage(
            NodeRef(m.NodeKind.EXECUTION, ids["Execution"]), direction="downstream"
        ),
        lambda: store.lineage(
            NodeRef(m.NodeKind.EXECUTION, ids["Execution"]), direction="downstream", max_hops=1
        ),
    ):
        with pytest.raises(StoredValueError) as caught:
            read()
        assert (caught.value.kind, caught.value.field) == ("Artifact", "id")


@pytest.mark.parametrize(
    ("key", "literal", "field"),
    [
        ("type", "42", "type"),
        ("type", "0", "type"),  # UNKNOWN: the write refuses it
        ("type", "[4]", "type"),  # not hashable: a bare TypeError in a lineage walk before
        ("type", "'NOPE'", "type"),
        ("path", "'{}'", "path"),
        ("path", "'not json'", "path"),
        ("path", "'[1.5]'", "path"),
        ("ms", "'abc'", "milliseconds_since_epoch"),
        ("ms", "1.5", "milliseconds_since_epoch"),
    ],
)
def test_an_event_written_around_the_library_is_named_on_every_read(
    store: LineageStore, key: str, literal: str, field: str
) -> None:
    ids = _seed(store)
    store.backend.write(f"MATCH (:Execution)-[r:EVENT]->(:Artifact) SET r.`{key}` = {literal}")
    a, e = ids["Artifact"], ids["Execution"]
    for read in (
        lambda: store.get_events_by_execution_ids([e]),
        lambda: store.get_events_by_artifact_ids([a]),
        lambda: store.lineage(NodeRef(m.NodeKind.EXECUTION, e), direction="downstream"),
        lambda: store.lineage(NodeRef(m.NodeKind.ARTIFACT, a), direction="upstream"),
        lambda: store.lineage(NodeRef(m.NodeKind.ARTIFACT, a), direction="both"),
    ):
        with pytest.raises(StoredValueError) as caught:
            read()
        assert (caught.value.kind, caught.value.id, caught.value.field) == ("Event", (a, e), field)


@pytest.mark.parametrize(
    ("key", "literal", "field"),
    [
        ("name", "5", "name"),
        ("name", "null", "name"),
        ("version", "[1]", "version"),
        ("description", "3", "description"),
        ("pt__day", "'INT'", "properties.'day'"),
        ("pt__day", "9", "properties.'day'"),
        ("pt__day", "0", "properties.'day'"),  # UNKNOWN: the write refuses it
        ("pt__day", "true", "properties.'day'"),
    ],
)
def test_a_type_written_around_the_library_is_named_on_every_read(
    store: LineageStore, key: str, literal: str, field: str
) -> None:
    ids = _seed(store)
    [t] = store.get_types(m.NodeKind.ARTIFACT)
    store.backend.write(f"MATCH (t:ArtifactType) SET t.`{key}` = {literal}")
    store._types.forget()  # (another process wrote it: this one had it cached)
    reads: list[Callable[[], Any]] = [
        lambda: store.get_types(m.NodeKind.ARTIFACT),
        lambda: store.get_types_by_id(m.NodeKind.ARTIFACT, [t.id or 0]),
    ]
    if key != "name":
        reads.append(lambda: store.get_artifact_type("D"))
    for read in reads:
        with pytest.raises(StoredValueError) as caught:
            read()
        error = caught.value
        assert (error.kind, error.id, error.field) == ("ArtifactType", t.id, field)
    del ids


def test_values_other_writers_store_as_names_are_read(store: LineageStore) -> None:
    """A state or event type stored as its MLMD name ("LIVE", "OUTPUT") is read as that member,
    and an empty external id as unset, as the models read them."""
    ids = _seed(store)
    store.backend.write(
        "MATCH (n:Artifact) SET n.state = 'LIVE', n.external_id = '' "
        "WITH n MATCH (x:Execution) SET x.last_known_state = 'COMPLETE'"
    )
    [a] = store.get_artifacts_by_id([ids["Artifact"]])
    [e] = store.get_executions_by_id([ids["Execution"]])
    assert a.state is m.ArtifactState.LIVE and a.external_id is None
    assert e.last_known_state is m.ExecutionState.COMPLETE
    assert "external_id" in a.model_fields_set  # as the validated model sets it


def _cached_run(store: LineageStore) -> tuple[int, int, int]:
    """A COMPLETE execution that read artifact ``a`` and wrote ``b``: a cache hit for ``[a]``."""
    store.put_artifact_type(m.ArtifactType(name="D"))
    store.put_execution_type(m.ExecutionType(name="T"))
    [a, b] = store.put_artifacts([m.Artifact(type="D", uri="in"), m.Artifact(type="D", uri="out")])
    [e] = store.put_executions([m.Execution(type="T", last_known_state=m.ExecutionState.COMPLETE)])
    store.put_events(
        [
            m.Event(artifact_id=a, execution_id=e, type=m.EventType.INPUT),
            m.Event(artifact_id=b, execution_id=e, type=m.EventType.OUTPUT),
        ]
    )
    assert store.find_cached_execution("T", [a]).hit
    return a, b, e


@pytest.mark.parametrize(
    ("statement", "kind", "field"),
    [
        ("MATCH (n:Artifact) WHERE n.uri = 'out' SET n.state = [1]", "Artifact", "state"),
        ("MATCH (n:Artifact) WHERE n.uri = 'out' SET n.state = 'gone'", "Artifact", "state"),
        ("MATCH (:Execution)-[r:EVENT]->(:Artifact) SET r.type = [4]", "Event", "type"),
        ("MATCH (:Execution)-[r:EVENT]->(:Artifact) SET r.type = 'NOPE'", "Event", "type"),
    ],
)
def test_a_cache_hits_outputs_written_around_the_library_are_named(
    store: LineageStore, statement: str, kind: str, field: str
) -> None:
    """The outputs of a cache hit: a state or event type another writer stored is named (a
    bare ValueError or TypeError from int() before)."""
    a, _, _ = _cached_run(store)
    store.backend.write(statement)
    with pytest.raises(StoredValueError) as caught:
        store.find_cached_execution("T", [a])
    assert (caught.value.kind, caught.value.field) == (kind, field)


def test_a_cache_hits_output_event_stored_by_name_is_read(store: LineageStore) -> None:
    a, b, e = _cached_run(store)
    store.backend.write("MATCH (:Execution)-[r:EVENT]->(:Artifact) SET r.type = 'OUTPUT'")
    hit = store.find_cached_execution("T", [a])
    assert hit.hit and [x.id for x in hit.outputs] == [b]
    assert [(ev.artifact_id, ev.execution_id, ev.type) for ev in hit.output_events] == [
        (b, e, m.EventType.OUTPUT)
    ]


@pytest.mark.parametrize(
    ("statement", "field"),
    [
        ("SET n.ps__day = 'three'", "properties.'day'"),  # an int and a str of one name
        ("SET n.`ci__` = 1", "custom_properties.''"),  # a property with no name
    ],
)
def test_a_property_stored_twice_or_without_a_name_is_named(
    store: LineageStore, statement: str, field: str
) -> None:
    """A property name under two kinds was read as whichever key came last (another writer's
    str hid the int), and an empty name was read as a property the models refuse."""
    ids = _seed(store)
    store.backend.write(f"MATCH (n:Artifact) {statement}")
    with pytest.raises(StoredValueError) as caught:
        store.get_artifacts_by_id([ids["Artifact"]])
    assert (caught.value.kind, caught.value.field) == ("Artifact", field)


def test_a_native_double_stored_alone_is_read(store: LineageStore) -> None:
    """A double a hand-made statement stored natively (``cd__score``, without the exact text
    this library stores beside it) is read, not left out as the text's shadow."""
    ids = _seed(store)
    store.backend.write("MATCH (n:Artifact) SET n.cd__score = 0.5, n.cd__bad = 'x'")
    store.backend.write("MATCH (n:Artifact) REMOVE n.cd__bad")
    [a] = store.get_artifacts_by_id([ids["Artifact"]])
    assert a.custom_properties["score"] == 0.5 and a.custom_properties["f"] == 1.5
    store.backend.write("MATCH (n:Artifact) SET n.cd__bad = 'x'")
    with pytest.raises(StoredValueError) as caught:
        store.get_artifacts_by_id([ids["Artifact"]])
    assert caught.value.field == "custom_properties.'bad'"


def test_a_stored_number_out_of_its_enum_names_the_enums_range(store: LineageStore) -> None:
    """The range a refusal quotes is the enum's (without UNKNOWN, which the write refuses)."""
    ids = _seed(store)
    store.backend.write("MATCH (:Execution)-[r:EVENT]->(:Artifact) SET r.type = 42")
    with pytest.raises(StoredValueError) as caught:
        store.get_events_by_execution_ids([ids["Execution"]])
    written = [int(t) for t in m.EventType if t is not m.EventType.UNKNOWN]
    assert f"an EventType number ({min(written)} to {max(written)})" in str(caught.value)
    store.backend.write("MATCH (t:ArtifactType) SET t.pt__day = 42")
    store._types.forget()
    with pytest.raises(StoredValueError) as caught:
        store.get_types(m.NodeKind.ARTIFACT)
    kinds = [int(k) for k in m.PropertyType if k is not m.PropertyType.UNKNOWN]
    assert f"a PropertyType number ({min(kinds)} to {max(kinds)})" in str(caught.value)


@pytest.mark.parametrize("literal", ["'x'", "{other}.5"], ids=["text", "float"])
def test_an_id_the_cache_reads_written_around_the_library_is_named(
    store: LineageStore, literal: str
) -> None:
    """An artifact id read with a fingerprint's artifacts, and a context id read with a
    context's children, that another writer stored as text or a float: StoredValueError naming
    the node (int() raised a bare ValueError on text and read 3.5 as node 3, another node)."""
    d = m.ArtifactType(name="D", properties={"digest": m.PropertyType.STRING})
    store.put_artifact_type(d)
    store.put_execution_type(m.ExecutionType(name="T"))
    [a, _, other, out] = store.put_artifacts(
        [
            m.Artifact(type="D", uri="in", properties={"digest": "d"}),
            m.Artifact(type="D", uri="twin", properties={"digest": "d"}),
            m.Artifact(type="D", uri="other"),
            m.Artifact(type="D", uri="out"),
        ]
    )
    [e] = store.put_executions([m.Execution(type="T", last_known_state=m.ExecutionState.COMPLETE)])
    store.put_events(
        [
            m.Event(artifact_id=a, execution_id=e, type=m.EventType.INPUT),
            m.Event(artifact_id=out, execution_id=e, type=m.EventType.OUTPUT),
        ]
    )
    stored = literal.format(other=other)
    store.backend.write(f"MATCH (n:Artifact) WHERE n.uri = 'twin' SET n.id = {stored}")
    with pytest.raises(StoredValueError) as caught:
        store.find_cached_execution("T", [a])
    assert (caught.value.kind, caught.value.field) == ("Artifact", "id")
    assert str(caught.value.id) == stored.strip("'")

    store.put_context_type(m.ContextType(name="Run"))
    [parent, child, sibling] = store.put_contexts(
        [m.Context(type="Run", name=n) for n in ("parent", "child", "sibling")]
    )
    store.put_parent_contexts([m.ParentContext(child_id=child, parent_id=parent)])
    stored = literal.format(other=sibling)
    store.backend.write(f"MATCH (n:Context) WHERE n.name = 'child' SET n.id = {stored}")
    with pytest.raises(StoredValueError) as caught:
        store.context_graph(parent, include_children=True)
    assert (caught.value.kind, caught.value.field) == ("Context", "id")
    assert str(caught.value.id) == stored.strip("'")


def test_a_damaged_candidate_read_beside_a_passed_over_hit_is_named(store: LineageStore) -> None:
    """The first page of candidates is decoded whole even when the exact hit's output is
    unusable and the rest is read with the *_usable statements (which leave the damaged row
    out): a damaged row read is named, not skipped into a miss."""
    store.put_artifact_type(m.ArtifactType(name="D"))
    store.put_execution_type(m.ExecutionType(name="T"))
    deleted = m.ArtifactState.DELETED
    [a, b, c] = store.put_artifacts(
        [
            m.Artifact(type="D", uri="in"),
            m.Artifact(type="D", uri="out", state=deleted),
            m.Artifact(type="D", uri="out2", state=deleted),
        ]
    )
    for out in (b, c):
        [e] = store.put_executions(
            [m.Execution(type="T", last_known_state=m.ExecutionState.COMPLETE)]
        )
        store.put_events(
            [
                m.Event(artifact_id=a, execution_id=e, type=m.EventType.INPUT),
                m.Event(artifact_id=out, execution_id=e, type=m.EventType.OUTPUT),
            ]
        )
    assert not store.find_cached_execution("T", [a], explain=False).hit
    store.backend.write("MATCH (n:Execution) WHERE n.id < $e SET n.name = 5", {"e": e})
    with pytest.raises(StoredValueError) as caught:
        store.find_cached_execution("T", [a], explain=False)
    assert (caught.value.kind, caught.value.field) == ("Execution", "name")
