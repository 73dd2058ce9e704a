"""filter_query / ListOptions: the same store in real MLMD 1.17.1 and in lineage-graph, the same
~70 list calls on both, the same ids in the same order (or an error on both).

MLMD's side is built with its proto API, ours with the native models; ids are allocated the same
way (1, 2, 3... per kind in insertion order), which the fixture checks first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

mlmd_store = pytest.importorskip("ml_metadata.metadata_store.metadata_store")

import ml_metadata as mlmd  # noqa: E402
from ml_metadata import errors as mlmd_errors  # noqa: E402
from ml_metadata.proto import metadata_store_pb2 as pb  # noqa: E402

from lineage_graph import (  # noqa: E402
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
    ParentContext,
    PropertyType,
)
from lineage_graph.mlmd._listing import ListQuery, list_node_ids  # noqa: E402

# ---------------------------------------------------------------------------- the shared store

_PT = {int: PropertyType.INT, float: PropertyType.DOUBLE, str: PropertyType.STRING}
_PB_PT = {
    PropertyType.INT: pb.INT,
    PropertyType.DOUBLE: pb.DOUBLE,
    PropertyType.STRING: pb.STRING,
    PropertyType.BOOLEAN: pb.BOOLEAN,
}

TYPES: dict[NodeKind, list[tuple[str, dict[str, PropertyType]]]] = {
    NodeKind.ARTIFACT: [
        (
            "DataSet",
            {
                "day": PropertyType.INT,
                "split": PropertyType.STRING,
                "score": PropertyType.DOUBLE,
                "ok": PropertyType.BOOLEAN,
                "my prop": PropertyType.STRING,
            },
        ),
        ("Model", {"day": PropertyType.INT}),
    ],
    NodeKind.EXECUTION: [("Trainer", {"lr": PropertyType.DOUBLE, "steps": PropertyType.INT})],
    NodeKind.CONTEXT: [("Experiment", {"owner": PropertyType.STRING}), ("Pipeline", {})],
}

# (type, name, uri, state, external_id, properties, custom_properties)
ARTIFACTS: list[
    tuple[str, str | None, str | None, int, str | None, dict[str, Any], dict[str, Any]]
] = [
    (
        "DataSet",
        "train",
        "/data/A/Data",
        2,
        "ext-1",
        {"day": 1, "split": "train", "score": 0.5, "ok": True},
        {"team": "x"},
    ),
    (
        "DataSet",
        "eval",
        "/data/b/data",
        0,
        None,
        {"day": 0, "split": "eval", "ok": False},
        {"team": "y", "n": 3},
    ),
    ("DataSet", None, "/c/dxta", 1, None, {"day": -2, "score": 2.0, "my prop": "v1"}, {}),
    ("DataSet", None, None, 0, None, {}, {"day": 5}),
    ("Model", "m1", "gs://bucket/model_1", 2, "ext-2", {"day": 3}, {"score": 0.9}),
    ("Model", "m2", "gs://bucket/MODEL%2", 4, None, {"day": 7}, {"flag": True}),
    ("Model", "Ünï", "/ünï/cødé", 2, None, {}, {"note": "quoted"}),
    ("DataSet", "last", "/x_y/data", 3, None, {"day": 10, "split": "test", "score": -1.5}, {}),
]
# (name, state, properties, custom_properties)
EXECUTIONS: list[tuple[str | None, int, dict[str, Any], dict[str, Any]]] = [
    ("run1", 3, {"lr": 0.1, "steps": 100}, {}),
    ("run2", 4, {"lr": 0.01}, {"retry": 1}),
    (None, 2, {}, {}),
    ("run4", 0, {"steps": 5}, {}),
]
# (type, name, properties)
CONTEXTS: list[tuple[str, str, dict[str, Any]]] = [
    ("Experiment", "exp1", {"owner": "ann"}),
    ("Experiment", "exp2", {"owner": "bob"}),
    ("Pipeline", "pipe", {}),
    ("Pipeline", "pipe-child", {}),
]
# (artifact, execution, type, ms)
EVENTS = [
    (1, 1, EventType.INPUT, 1000),
    (2, 1, EventType.DECLARED_INPUT, 1001),
    (5, 1, EventType.OUTPUT, 1002),
    (5, 2, EventType.INPUT, 2000),
    (6, 2, EventType.OUTPUT, 2001),
    (3, 3, EventType.INPUT, 3000),
    (7, 3, EventType.DECLARED_OUTPUT, 3001),
]
ATTRIBUTIONS = [(1, 1), (2, 1), (5, 1), (5, 2), (6, 2), (3, 3), (7, 4)]
ASSOCIATIONS = [(1, 1), (2, 2), (2, 1), (3, 3)]
PARENTS = [(4, 3), (1, 3), (2, 3)]  # (child, parent)


def _tick() -> None:
    """Distinct create times in both stores (ordering by time is then insertion order)."""
    time.sleep(0.003)


def build_mlmd() -> Any:
    store = mlmd_store.MetadataStore(pb.ConnectionConfig(fake_database=pb.FakeDatabaseConfig()))
    type_ids: dict[str, int] = {}
    makers = {
        NodeKind.ARTIFACT: (pb.ArtifactType, store.put_artifact_type),
        NodeKind.EXECUTION: (pb.ExecutionType, store.put_execution_type),
        NodeKind.CONTEXT: (pb.ContextType, store.put_context_type),
    }
    for kind, specs in TYPES.items():
        cls, put = makers[kind]
        for name, props in specs:
            t = cls(name=name)
            for p, k in props.items():
                t.properties[p] = _PB_PT[k]
            type_ids[name] = put(t)

    def fill(msg: Any, props: dict[str, Any], custom: dict[str, Any]) -> None:
        for target, values in ((msg.properties, props), (msg.custom_properties, custom)):
            for k, v in values.items():
                if isinstance(v, bool):
                    target[k].bool_value = v
                elif isinstance(v, int):
                    target[k].int_value = v
                elif isinstance(v, float):
                    target[k].double_value = v
                else:
                    target[k].string_value = v

    for t, name, uri, state, ext, props, custom in ARTIFACTS:
        a = pb.Artifact(type_id=type_ids[t])
        if name:
            a.name = name
        if uri:
            a.uri = uri
        if state:
            a.state = state
        if ext:
            a.external_id = ext
        fill(a, props, custom)
        store.put_artifacts([a])
        _tick()
    for name, state, props, custom in EXECUTIONS:
        e = pb.Execution(type_id=type_ids["Trainer"])
        if name:
            e.name = name
        if state:
            e.last_known_state = state
        fill(e, props, custom)
        store.put_executions([e])
        _tick()
    for t, name, props in CONTEXTS:
        c = pb.Context(type_id=type_ids[t], name=name)
        fill(c, props, {})
        store.put_contexts([c])
        _tick()
    store.put_events(
        [
            pb.Event(artifact_id=a, execution_id=e, type=int(t), milliseconds_since_epoch=ms)
            for a, e, t, ms in EVENTS
        ]
    )
    store.put_attributions_and_associations(
        [pb.Attribution(artifact_id=a, context_id=c) for a, c in ATTRIBUTIONS],
        [pb.Association(execution_id=e, context_id=c) for e, c in ASSOCIATIONS],
    )
    store.put_parent_contexts([pb.ParentContext(child_id=c, parent_id=p) for c, p in PARENTS])
    return store


def build_ours(store: LineageStore) -> None:
    type_cls = {
        NodeKind.ARTIFACT: ArtifactType,
        NodeKind.EXECUTION: ExecutionType,
        NodeKind.CONTEXT: ContextType,
    }
    for kind, specs in TYPES.items():
        for name, props in specs:
            store.put_type(type_cls[kind](name=name, properties=props))
    ids = []
    for t, name, uri, state, ext, props, custom in ARTIFACTS:
        ids += store.put_artifacts(
            [
                Artifact(
                    type=t,
                    name=name,
                    uri=uri,
                    state=ArtifactState(state),
                    external_id=ext,
                    properties=props,
                    custom_properties=custom,
                )
            ]
        )
        _tick()
    assert ids == list(range(1, len(ARTIFACTS) + 1))
    for name, state, props, custom in EXECUTIONS:
        store.put_executions(
            [
                Execution(
                    type="Trainer",
                    name=name,
                    last_known_state=ExecutionState(state),
                    properties=props,
                    custom_properties=custom,
                )
            ]
        )
        _tick()
    for t, name, props in CONTEXTS:
        store.put_contexts([Context(type=t, name=name, properties=props)])
        _tick()
    store.put_events(
        [
            Event(artifact_id=a, execution_id=e, type=t, milliseconds_since_epoch=ms)
            for a, e, t, ms in EVENTS
        ]
    )
    store.put_attributions_and_associations(
        [Attribution(artifact_id=a, context_id=c) for a, c in ATTRIBUTIONS],
        [Association(execution_id=e, context_id=c) for e, c in ASSOCIATIONS],
    )
    store.put_parent_contexts([ParentContext(child_id=c, parent_id=p) for c, p in PARENTS])


@pytest.fixture(scope="module")
def reference() -> Any:
    return build_mlmd()


@pytest.fixture
def ours(store: LineageStore) -> Iterator[LineageStore]:
    build_ours(store)
    yield store


# ----------------------------------------------------------------------------------- the table

A, E, C = NodeKind.ARTIFACT, NodeKind.EXECUTION, NodeKind.CONTEXT

QUERIES: list[tuple[NodeKind, str]] = [
    # equalities of one field OR-ed together (read as one IN list here)
    (A, 'uri = "" OR uri = "/c/dxta" OR id = 1'),
    (A, 'NOT (uri = "" OR uri = "/c/dxta")'),
    (A, "name = 'train' OR name = 'm1' OR id = 3 OR name = 'nope' OR 'eval' = name"),
    (A, "NOT (name = 'train' OR name = 'm1')"),
    (A, "properties.day.int_value = 1 OR properties.day.int_value = 3.0 OR id = 2"),
    (A, "custom_properties.day.int_value = 5 OR custom_properties.day.int_value = 1"),
    (A, "properties.ok.bool_value = TRUE OR properties.ok.bool_value = FALSE"),
    (A, "id = 1 OR id = 1 / 0 OR id = 2"),
    (A, "NOT (id = 1 OR id = 1 / 0 OR id = 2)"),
    (A, "state = LIVE OR 4 = state"),
    (E, "last_known_state = RUNNING OR 3 = last_known_state OR id = 2"),
    (A, 'contexts_c.name = "exp1" OR contexts_c.name = "pipe"'),
    (A, "name = 'train' OR name = 3"),
    # redundant parentheses past the 200 levels of nesting refused here (MLMD takes any number)
    (A, "(" * 300 + "id = 3" + ")" * 300 + " OR NOT " + "(" * 250 + "id > 1" + ")" * 250),
    (A, "id IN ((1), ((2)))" + " AND " + "(" * 201 + "(2) + 1 > id" + ")" * 201),
    # attributes
    (A, "id = 3"),
    (A, "id != 3"),
    (A, "id > 2 AND id <= 6"),
    (A, "id >= 7 OR id < 2"),
    (A, "Id = 1"),
    (A, "1 = id"),
    (A, "id = 0x2"),
    (A, "id = 2.0"),
    (A, "id > 2.5"),
    (A, "id IN (1, 3, 5)"),
    (A, "id NOT IN (1, 3, 5)"),
    (A, "id BETWEEN 2 AND 4"),
    (A, "id NOT BETWEEN 2 AND 4"),
    (A, "NOT (id = 1 OR id = 2)"),
    (A, "id = 1 OR id = 2 AND id = 3"),
    (A, "(id = 1 OR id = 2) AND NOT id = 2"),
    (A, "TRUE"),
    (A, "FALSE OR id = 4"),
    (A, 'name = "train"'),
    (A, "name = 'eval'"),
    (A, 'name != "train"'),
    (A, "name IS NULL"),
    (A, "name IS NOT NULL"),
    (A, 'name > "m"'),
    (A, 'name <= "m1"'),
    (A, 'name BETWEEN "a" AND "n"'),
    (A, 'uri >= "/d"'),
    (A, 'contexts_c.name < "exp2"'),
    (A, 'name IN ("m1", "m2", "nope")'),
    (A, 'name = "Ünï"'),
    (A, 'uri = "/c/dxta"'),
    (A, 'uri = ""'),
    (A, "uri IS NULL"),
    (A, 'uri != "/c/dxta"'),
    (A, 'NOT uri = "/c/dxta"'),
    (A, 'uri < "/d"'),
    (A, 'type = "Model"'),
    (A, 'type != "Model"'),
    (A, 'external_id = "ext-2"'),
    (A, "external_id IS NULL"),
    (A, "state = LIVE"),
    (A, "state != LIVE"),
    (A, "NOT state = LIVE"),
    (A, "state IN (LIVE, PENDING)"),
    (A, "state NOT IN (LIVE, PENDING)"),
    (A, "state IS NULL"),
    (A, "state IS NOT NULL"),
    (A, "create_time_since_epoch > 0"),
    (A, "last_update_time_since_epoch > 0 AND id < 3"),
    # LIKE
    (A, 'uri LIKE "%/data"'),
    (A, 'uri LIKE "%/DATA"'),
    (A, 'uri LIKE "/data%"'),
    (A, 'uri LIKE "%bucket%"'),
    (A, 'uri LIKE "%"'),
    (A, 'uri LIKE ""'),
    (A, 'uri LIKE "/c/dxta"'),
    (A, 'uri LIKE "/c/d_ta"'),
    (A, 'uri LIKE "%/d_ta"'),
    (A, 'uri LIKE "/_/%"'),
    (A, 'uri LIKE "gs%model%2"'),
    (A, 'uri LIKE "%a%a%"'),
    (A, 'uri LIKE "/%/%/%"'),
    (A, 'uri LIKE "%_y%"'),
    (A, 'uri LIKE "___"'),
    (A, 'uri NOT LIKE "%data"'),
    (A, 'NOT uri LIKE "%data"'),
    (A, 'name LIKE "M%"'),
    (A, 'name LIKE "%ï"'),
    # SQLite folds the case of ASCII letters only
    (A, 'name LIKE "ü%"'),
    (A, 'name LIKE "Ü%"'),
    (A, 'name LIKE "ün_"'),
    (A, 'uri LIKE "%CØDÉ"'),
    (A, 'uri LIKE "/ÜNÏ/%"'),
    (A, 'uri LIKE "%Ø%"'),
    (A, 'uri LIKE "%/DaTa"'),
    (A, 'NOT name LIKE "%"'),  # NULL LIKE anything is NULL, and so is its negation
    (A, 'NOT name LIKE "%%"'),
    (A, 'NOT name LIKE "%i%"'),
    (A, 'uri LIKE "%/data" AND properties.day.int_value > 0'),
    # properties
    (A, "properties.day.int_value > 0"),
    (A, "properties.day.int_value = -2"),
    (A, "properties.day.int_value != 1"),
    (A, "properties.day.int_value IS NULL"),
    (A, "properties.day.int_value IS NOT NULL"),
    (A, "NOT properties.day.int_value = 1"),
    (A, 'properties.day.int_value = 1 OR uri = "/c/dxta"'),
    (A, "properties.day.int_value BETWEEN 0 AND 3"),
    (A, "properties.day.int_value IN (0, 7, 10)"),
    (A, 'properties.split.string_value = "train"'),
    (A, 'properties.split.string_value IN ("train", "test")'),
    (A, 'properties.split.string_value LIKE "T%"'),
    (A, "properties.score.double_value > 0.6"),
    (A, "properties.score.double_value < 0"),
    (A, "properties.score.double_value = 2"),
    (A, "properties.ok.bool_value = TRUE"),
    (A, "properties.ok.bool_value"),
    (A, "NOT properties.ok.bool_value"),
    (A, "properties.ok.bool_value = false"),
    (A, "properties.day.string_value IS NULL"),
    (A, 'properties.`my prop`.string_value = "v1"'),
    (A, "properties.`day`.int_value = 1"),
    (A, 'custom_properties.team.string_value = "x"'),
    (A, "custom_properties.day.int_value = 5"),
    (A, "custom_properties.day.int_value IS NULL OR id = 1"),
    (A, "custom_properties.score.double_value > 0.5"),
    (A, "custom_properties.flag.bool_value = TRUE"),
    (A, "custom_properties.note.string_value LIKE '%quoted%'"),
    (A, 'properties.day.int_value > 0 AND custom_properties.team.string_value = "x"'),
    # contexts of artifacts / executions
    (A, 'contexts_a.name = "exp1"'),
    (A, 'contexts_a.type = "Experiment" AND contexts_a.name = "exp1"'),
    (A, 'NOT contexts_a.name = "exp1"'),
    (A, 'contexts_a.name != "exp1"'),
    (A, 'contexts_a.name = "exp1" OR uri LIKE "/c%"'),
    (A, 'contexts_a.name = "exp1" AND contexts_b.name = "exp2"'),
    (A, 'contexts_a.name = "exp1" AND contexts_a.name = "exp2"'),
    (A, "contexts_a.id IN (2, 3)"),
    (A, 'contexts_a.name LIKE "EXP%"'),
    (A, "contexts_a.create_time_since_epoch > 0 AND contexts_a.id = 3"),
    (E, 'contexts_x.type = "Pipeline"'),
    (E, 'contexts_x.name = "exp1"'),
    # events
    (A, "events_e.type = INPUT"),
    (A, "events_e.type = OUTPUT OR events_e.type = DECLARED_OUTPUT"),
    (A, "events_e.type IN (INPUT, DECLARED_INPUT)"),
    (A, "events_e.execution_id = 1"),
    (A, "events_e.milliseconds_since_epoch >= 2000"),
    (A, "events_e.type = INPUT AND events_e.execution_id = 2"),
    (E, "events_e.artifact_id = 5"),
    (E, "events_e.type = OUTPUT"),
    (E, "events_a.type = INPUT AND events_b.type = OUTPUT"),
    # executions
    (E, "last_known_state = COMPLETE"),
    (E, "last_known_state IN (RUNNING, FAILED)"),
    (E, "last_known_state != FAILED"),
    (E, "last_known_state IS NULL"),
    (E, "properties.lr.double_value < 0.05"),
    (E, "properties.steps.int_value >= 5"),
    (E, "custom_properties.retry.int_value = 1"),
    (E, 'name LIKE "run%" AND NOT name = "run2"'),
    # contexts
    (C, 'type = "Pipeline"'),
    (C, 'name LIKE "pipe%"'),
    (C, 'properties.owner.string_value = "bob"'),
    (C, 'parent_contexts_p.name = "pipe"'),
    (C, 'child_contexts_c.name = "pipe-child"'),
    (C, "child_contexts_c.id IS NOT NULL"),
    (C, 'artifacts_a.uri LIKE "%/data"'),
    (C, "artifacts_a.state = LIVE"),
    (C, "executions_e.last_known_state = FAILED"),
    (C, 'executions_e.name = "run2" AND artifacts_a.name = "m2"'),
    # arithmetic between literals, folded as MLMD's SQLite computes it
    (A, "id = 1 + 1"),
    (A, "id = 1+1 OR id = 2 * 2 - 1"),
    (A, "id IN (1 + 1, 7 - 2)"),
    (A, "id = 4 / 2"),
    (A, "id = 7 / 2"),
    (A, "id = 1 / 2 * 4"),
    (A, "id = -(1 + 1) + 4"),
    (A, "id = 2 - -1"),
    (A, "id = +2"),
    (A, "id > 3 - 1 - 1"),
    (A, "properties.day.int_value > 1.5 + 0"),
    (A, "properties.day.int_value BETWEEN 0 + 1 AND 2 * 2"),
    (A, "id = 5 / 0"),
    (A, "id != 5 / 0"),
    (A, "NOT (id = 5 / 0)"),
    (A, "id = 5 / 0 OR id = 1"),
    (A, "id = NULL + 1"),
    (A, "id IN (1, 1 / 0)"),
    (A, "id = 9223372036854775807 + 1"),
    (A, "id < 9223372036854775807 + 1"),
    (A, "id = -9223372036854775808"),
    (A, "id = 18446744073709551616"),
    (A, "id < -9223372036854775809"),
    # integer ranges across int64's ends (FalkorDB compares integers by their difference)
    (A, "properties.day.int_value < 9223372036854775807"),
    (A, "properties.day.int_value > -9223372036854775808"),
    (A, "NOT properties.day.int_value >= -9223372036854775807"),
    (A, "properties.day.int_value BETWEEN -9223372036854775807 AND 9223372036854775807"),
    (A, "-9223372036854775807 < properties.day.int_value"),
    (A, "custom_properties.day.int_value <= 9223372036854775807"),
    (E, "events_e.milliseconds_since_epoch > -9223372036854775807"),
    (A, "create_time_since_epoch < 9223372036854775807"),
    (A, "id = 'a' + 1"),
    (A, "id = TRUE + 1"),
    (A, "(1 + 1) = id"),
    (A, "(2) * 2 = id OR (id) = 1"),
    (A, "((id)) IN (2, 3) OR (uri) LIKE '%9'"),
    (A, "(id = 1) OR ((id) > 7)"),
    (A, "(id) IS NULL"),
    # numbers on an enum field where MLMD's rewrite of enum names leaves them alone
    (A, "state > 1"),
    (A, "2 = state"),
    (A, "state BETWEEN 1 AND 2"),
    (A, "state IN (2)"),
    # NULL in an IN list (three-valued logic), as its subject, as a BETWEEN bound
    (A, "id IN (1, NULL)"),
    (A, "id IN (NULL, 2, null)"),
    (A, "id IN (NULL)"),
    (A, "id NOT IN (1, NULL)"),
    (A, "NOT (id IN (1, NULL))"),
    (A, "NOT id IN (1, NULL) OR id = 3"),
    (A, "state IN (LIVE, NULL)"),
    (A, "state NOT IN (LIVE, NULL)"),
    (E, "last_known_state NOT IN (NULL)"),
    (A, "NULL IN (1, 2)"),
    (A, "NOT NULL IN (1) OR id = 2"),
    (A, "id NOT BETWEEN NULL AND 3"),
    (A, "id BETWEEN 2 AND NULL"),
    (A, "NOT id BETWEEN 7 AND NULL"),
    # a NOT over a NOT BETWEEN / NOT LIKE is sent as the plain atom: over NULL and missing
    # fields (no name, no uri, a property some nodes lack) as MLMD answers
    (A, "NOT (id NOT BETWEEN 2 AND 4)"),
    (A, "NOT (id NOT BETWEEN NULL AND 3)"),
    (A, 'NOT (name NOT BETWEEN "a" AND "n")'),
    (A, "NOT (properties.day.int_value NOT BETWEEN 0 AND 5)"),
    (A, "NOT (custom_properties.day.int_value NOT BETWEEN 1 AND 9)"),
    (A, "NOT (properties.score.double_value NOT BETWEEN -1 AND 1) OR id = 4"),
    (E, "NOT (properties.steps.int_value NOT BETWEEN 1 AND 100)"),
    (A, 'NOT (uri NOT LIKE "%data")'),
    (A, 'NOT (uri NOT LIKE "%")'),
    (A, 'NOT (name NOT LIKE "m%")'),
    (A, 'NOT (properties.split.string_value NOT LIKE "%a%")'),
    (A, 'NOT NOT (properties.split.string_value NOT LIKE "%a%")'),
    (A, 'NOT (NOT (uri NOT LIKE "/%") AND NOT (name NOT BETWEEN "a" AND "z"))'),
    # comments
    (A, "id = 1 -- one\n OR id = 2"),
    (A, "-- first line\nid = 1"),
    (A, "id = 1 /* or 2 */ OR id = 3"),
    (A, "id = 1 # one\n OR id = 2"),
    (A, "id = 1 -- one\rOR id = 2"),
    (A, "id = 1 # one\r\nOR id = 3"),
    (A, "id = 1 --"),
    (A, "uri = '-- in a string /* */ #'"),
    (A, "id = 1 /* never closed"),
    (A, "id=--1"),
    (A, "-- only a comment"),
    (A, "/* only a comment */"),
    # enum values the protos have and MLMD's filters refuse
    (A, "state = ABANDONED"),
    (A, "state IN (LIVE, REFERENCE)"),
    (A, "events_e.type = PENDING_OUTPUT"),
    (A, "events_e.type = UNKNOWN"),
    (E, "last_known_state = CANCELED"),
    # errors (both sides reject)
    (A, "uri ==== 3"),
    (A, "(id = 1"),
    (A, "id = 1)"),
    (A, "id = 1 id = 2"),
    (A, 'id = "1"'),
    (A, "name = NULL"),
    (A, "state = live"),
    (A, "properties.day.bool_value = 1"),
    (A, "contexts_a.uri = 'x'"),
    (A, "executions_a.id = 1"),
    (A, "events_a.artifact_id = 1"),
    (A, "nosuchfield = 1"),
    (A, "uri LIKE '%\\_%'"),
    # prefixes and value kinds are matched by their exact spelling (plain attributes are not)
    (A, "Properties.split.string_value = 'train'"),
    (A, "CUSTOM_PROPERTIES.team.string_value = 'x'"),
    (A, "properties.day.Int_value = 1"),
    (A, "custom_properties.team.STRING_VALUE = 'x'"),
    (A, "properties.split.`string_value` = 'train'"),
    (A, "Contexts_a.name = 'exp1'"),
    (A, "EVENTS_0.execution_id = 1"),
    (C, "Parent_contexts_a.id = 3"),
    (C, "Artifacts_a.id = 1"),
    (A, "contexts_a.NAME = 'exp1'"),
    (A, "events_0.Execution_id = 1"),
    (A, "ID = 1"),
]


@dataclass(frozen=True)
class Listing:
    order_by: str = "id"
    is_asc: bool = True
    limit: int | None = None


_MLMD_ORDER = {
    "id": mlmd.OrderByField.ID,
    "create_time": mlmd.OrderByField.CREATE_TIME,
    "last_update_time": mlmd.OrderByField.UPDATE_TIME,
}


def mlmd_ids(reference: Any, kind: NodeKind, query: str, listing: Listing) -> Any:
    options = mlmd.ListOptions(
        filter_query=query,
        order_by=_MLMD_ORDER[listing.order_by],
        is_asc=listing.is_asc,
        limit=listing.limit,
    )
    getter = {
        A: reference.get_artifacts,
        E: reference.get_executions,
        C: reference.get_contexts,
    }[kind]
    try:
        return [n.id for n in getter(list_options=options)]
    except mlmd_errors.InvalidArgumentError:
        return "InvalidArgument"


def our_ids(store: LineageStore, kind: NodeKind, query: str, listing: Listing) -> Any:
    try:
        ids, _ = list_node_ids(
            store,
            ListQuery(
                kind=kind,
                filter_query=query,
                order_by=listing.order_by,
                is_asc=listing.is_asc,
                limit=listing.limit,
            ),
        )
    except InvalidArgumentError:
        return "InvalidArgument"
    return ids


def test_same_store_same_ids(reference: Any, ours: LineageStore) -> None:
    """Before comparing filters: both stores hold the same nodes under the same ids."""
    assert [a.id for a in reference.get_artifacts()] == [a.id for a in ours.get_artifacts()]
    assert [a.uri for a in reference.get_artifacts()] == [a.uri or "" for a in ours.get_artifacts()]
    assert [c.name for c in reference.get_contexts()] == [c.name for c in ours.get_contexts()]


def test_filter_table_matches_mlmd(reference: Any, ours: LineageStore) -> None:
    """Every query of the table, default order (id ascending): equal id lists or both errors."""
    mismatches = []
    for kind, query in QUERIES:
        expected = mlmd_ids(reference, kind, query, Listing())
        got = our_ids(ours, kind, query, Listing())
        if expected != got:
            mismatches.append((kind.value, query, expected, got))
    assert not mismatches, "\n".join(map(repr, mismatches))
    # The table is not vacuous: most queries select something, some select nothing.
    answers = [mlmd_ids(reference, k, q, Listing()) for k, q in QUERIES]
    assert sum(1 for a in answers if isinstance(a, list) and a) > 80
    assert sum(1 for a in answers if a == "InvalidArgument") >= 10


ORDERINGS = [
    Listing("id", False),
    Listing("create_time", True),
    Listing("create_time", False),
    Listing("last_update_time", False),
    Listing("id", True, 3),
    Listing("id", False, 2),
    Listing("create_time", False, 4),
    Listing("last_update_time", True, 1),
]


@pytest.mark.parametrize("listing", ORDERINGS, ids=repr)
def test_order_and_limit_match_mlmd(reference: Any, ours: LineageStore, listing: Listing) -> None:
    for kind, query in [
        (A, ""),
        (A, 'uri LIKE "%data%"'),
        (A, "properties.day.int_value >= 0"),
        (E, "id > 0"),
        (C, ""),
        (A, 'contexts_a.type = "Experiment"'),
    ]:
        assert our_ids(ours, kind, query, listing) == mlmd_ids(reference, kind, query, listing), (
            kind,
            query,
        )


# ------------------------------------------------------------------------------ long filters


def _any_of(terms: list[str]) -> str:
    return "(" + " OR ".join(terms) + ")"


#: Filters MLMD 1.17.1 accepts (SQLite limits the depth of a chain, 997 terms, not the total)
#: that held more than 1,000 comparisons, refused here until the limit became 10,000 in all.
#: Each mixes the equalities read as one ``IN`` list with other forms, so that both readings
#: are compared: uri's "" stand-in, state's NULL for UNKNOWN, properties, a neighbour alias,
#: under NOT too. (Groups stay under ~700: MLMD counts nested chains' depths together.)
LONG_QUERIES: list[tuple[NodeKind, str]] = [
    (
        A,
        _any_of([f"id = {i}" for i in range(100, 700)] + ["id = 2", "uri LIKE '%data%'"])
        + " AND "
        + _any_of([f'name = "n{i}"' for i in range(600)] + ['name = "eval"', 'name = "m1"'])
        + " OR "
        + _any_of([f"properties.day.int_value = {i}" for i in range(500, 1100)] + ["id = 7"]),
    ),
    (
        A,
        "NOT "
        + _any_of([f'uri = "/u{i}"' for i in range(700)] + ['uri = ""', 'uri = "/c/dxta"'])
        + " AND NOT "
        + _any_of([f"id = {i}" for i in range(20, 620)] + ["state = LIVE", "id = 8"]),
    ),
    (
        A,
        _any_of(
            [f'contexts_c.name = "e{i}"' for i in range(400)]
            + ['contexts_c.name = "exp2"']
            + [f'contexts_c.type = "T{i}"' for i in range(300)]
        )
        + " OR "
        + _any_of([f"id = {i}" for i in range(10, 710)] + ["name = 'train'", "id = 4"]),
    ),
    (
        E,
        _any_of([f"properties.steps.int_value = {i}" for i in range(6, 706)] + ["id = 2"])
        + " OR "
        + _any_of([f"id = {i}" for i in range(5, 700)] + ["properties.lr.double_value = 0.1"]),
    ),
    (
        C,
        _any_of([f'name = "c{i}"' for i in range(700)] + ['name = "pipe"'])
        + " OR "
        + _any_of([f'parent_contexts_p.name = "q{i}"' for i in range(300)] + ["id = 1"]),
    ),
]


def test_long_filters_mlmd_accepts_match_mlmd(reference: Any, ours: LineageStore) -> None:
    """Groups of several hundred comparisons each, more than 1,000 in all: MLMD answers them;
    they were refused here ("more than 1000 comparisons")."""
    for kind, query in LONG_QUERIES:
        expected = mlmd_ids(reference, kind, query, Listing())
        assert isinstance(expected, list), (query[:80], expected)
        assert our_ids(ours, kind, query, Listing()) == expected, query[:80]
    answers = [mlmd_ids(reference, k, q, Listing()) for k, q in LONG_QUERIES]
    assert all(answers), answers  # none selects nothing


# ----------------------------------------------------------------- random filters, both engines

#: Fields of each kind with their literal pools (a value of another type now and then, for the
#: errors). Left out: enum fields (MLMD rewrites enum names by the filter's text and refuses
#: some forms we answer, see docs/mlmd-compatibility.md) and ``type_id`` (allocated otherwise).
_RANDOM_FIELDS: dict[NodeKind, dict[str, str]] = {
    A: {
        "id": "i",
        "name": "s",
        "uri": "s",
        "external_id": "s",
        "type": "s",
        "properties.day.int_value": "i",
        "properties.day.double_value": "f",
        "properties.score.double_value": "f",
        "properties.split.string_value": "s",
        "properties.ok.bool_value": "b",
        "custom_properties.day.int_value": "i",
        "custom_properties.n.int_value": "i",
        "custom_properties.score.double_value": "f",
        "custom_properties.team.string_value": "s",
        "custom_properties.flag.bool_value": "b",
        "contexts_a.name": "s",
        "contexts_a.id": "i",
        "events_e.execution_id": "i",
    },
    C: {
        "id": "i",
        "name": "s",
        "type": "s",
        "properties.owner.string_value": "s",
        "parent_contexts_p.name": "s",
        "parent_contexts_p.id": "i",
        "child_contexts_c.name": "s",
        "artifacts_a.uri": "s",
        "executions_e.id": "i",
    },
}
_RANDOM_LITERALS = {
    "i": ["-2", "0", "1", "2", "3", "5", "7", "10", "1.0", "3.0", "0.5", "1 / 0"],
    "f": ["0.5", "2.0", "2", "-1.5", "0.9", "1", "0", "1 / 0"],
    "s": [
        '""',
        '"train"',
        '"eval"',
        '"m1"',
        '"/c/dxta"',
        '"x"',
        '"ext-1"',
        '"Model"',
        '"exp1"',
        '"pipe"',
        '"pipe-child"',
        '"bob"',
        '"Experiment"',
        '"/data/A/Data"',
    ],
    "b": ["TRUE", "FALSE"],
}


@st.composite
def _random_filter(draw: st.DrawFn, kind: NodeKind, depth: int = 0) -> str:
    fields = _RANDOM_FIELDS[kind]

    def literal(t: str) -> str:
        other = draw(st.integers(0, 40)) == 0  # now and then a value of another type
        pool = _RANDOM_LITERALS[draw(st.sampled_from("ifsb")) if other else t]
        return draw(st.sampled_from(pool))

    def atom(f: str) -> str:
        t = fields[f]
        form = draw(st.integers(0, 9))
        if form < 5:
            a, b = f, literal(t)
            return f"{b} = {a}" if draw(st.integers(0, 6)) == 0 else f"{a} = {b}"
        if form < 7:
            return f"{f} != {literal(t)}"
        if form == 7:
            return f"{f} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
        if form == 8:
            values = ", ".join(
                draw(st.sampled_from(["NULL", literal(t)])) for _ in range(draw(st.integers(1, 3)))
            )
            return f"{f} {draw(st.sampled_from(['', 'NOT ']))}IN ({values})"
        return f"{f} > {literal(t)}"

    shape = draw(st.integers(0, 9)) if depth < 3 else 0
    if shape < 2:
        return atom(draw(st.sampled_from(sorted(fields))))
    if shape < 6:  # equalities of one field OR-ed (read as one IN list), among other terms
        f = draw(st.sampled_from(sorted(fields)))
        items = [
            atom(f) if draw(st.integers(0, 3)) else draw(_random_filter(kind, depth + 1))
            for _ in range(draw(st.integers(2, 6)))
        ]
        text = " OR ".join(items)
    elif shape < 8:
        parts = [draw(_random_filter(kind, depth + 1)) for _ in range(draw(st.integers(2, 3)))]
        text = draw(st.sampled_from([" AND ", " OR "])).join(parts)
    else:
        return "NOT (" + draw(_random_filter(kind, depth + 1)) + ")"
    return "(" + text + ")" if draw(st.booleans()) else text


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_filters_match_mlmd(reference: Any, ours: LineageStore, data: st.DataObject) -> None:
    """Random filters (OR-ed equalities of one field, which this compiler reads as one ``IN``
    list, under NOT, mixed with AND/OR, NULL, mistyped values, properties and aliases): the same
    ids as MLMD 1.17.1, or an error on both."""
    kind = data.draw(st.sampled_from([A, A, C]))
    query = data.draw(_random_filter(kind))
    if data.draw(st.booleans()):
        query = "NOT (" + query + ")"
    expected = mlmd_ids(reference, kind, query, Listing())
    assert our_ids(ours, kind, query, Listing()) == expected, (kind, query)
