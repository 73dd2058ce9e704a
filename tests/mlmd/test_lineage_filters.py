"""``get_lineage_subgraph`` with the filter grammar in its starting and ending nodes, against
ml_metadata 1.17.1 itself.

The other lineage tests start and end at ids (``id = 4``, ``id IN (1, 6)``); here a seeded random
graph (two types per kind with declared and custom properties, every state, external ids,
contexts of two types with parent links, events of every type written in several calls, so an
execution's events are not in id order, and cycles) is walked from filters of every feature
(properties, custom properties, ``contexts_`` / ``events_`` / ``artifacts_`` / ``executions_``
neighbourhoods, ``parent_contexts_`` (refused for nodes), type, state, ``LIKE``, ``IN``,
``BETWEEN``, ``IS NULL``, ``AND`` / ``OR`` / ``NOT``), in every direction, with hop limits up to
100, ending filters (matching nothing, some nodes, or refused) with and without the ending nodes,
and field masks. Answers (nodes, types, contexts, edges, in order) and error classes must agree.
Differential probing of the adapter (session 22) found no difference here beyond the documented
ones (D1: more than 100 starts or hops; D4: an explicit ``UNKNOWN`` state, which is not written
here; D6: ``base_type`` of artifact types, none written here); this pins that.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as pb
from ml_metadata.proto import metadata_store_service_pb2 as service

from .conftest import Both

pytest.importorskip("lineage_graph.mlmd._listing")

E = pb.Event
Q = pb.LineageSubgraphQueryOptions
EVENT_TYPES = [
    E.INPUT,
    E.OUTPUT,
    E.DECLARED_INPUT,
    E.DECLARED_OUTPUT,
    E.INTERNAL_INPUT,
    E.INTERNAL_OUTPUT,
    E.PENDING_OUTPUT,
]

#: Artifact filters: ``{i}``/``{j}`` an artifact id, ``{k}`` a property value, ``{c}`` a context.
ARTIFACT_FILTERS = [
    "id = {i}",
    "id IN ({i}, {j})",
    "id > {i}",
    "id BETWEEN {i} AND {j}",
    "type = 'A'",
    "type = 'B' OR id = {i}",
    "uri = 'u1'",
    "uri LIKE 'u%'",
    "name LIKE 'a1%'",
    "external_id = 'x{i}'",
    "external_id IS NULL AND id <= {j}",
    "properties.p.int_value = {k}",
    "properties.p.int_value >= {k} AND NOT id = {i}",
    "custom_properties.c.int_value = {k}",
    "properties.s.string_value LIKE 'x%'",
    "properties.s.string_value IS NULL",
    "state = LIVE",
    "state IN (DELETED, MARKED_FOR_DELETION)",
    "state = ABANDONED OR id = {i}",  # refused: not an artifact state
    "contexts_a.name = 'c{c}'",
    "contexts_a.type = 'C'",
    "contexts_a.name LIKE 'c%' AND contexts_a.type = 'D'",
    "NOT contexts_a.name = 'c{c}'",
    "events_e.type = OUTPUT",
    "events_e.type = INPUT OR id = {i}",
    "events_e.type = PENDING_OUTPUT",  # refused: not a filterable event type
    "executions_x.id = {i}",
    "parent_contexts_a.name = 'c0'",  # refused for artifacts
    "name IS NULL",
    "id = 999",  # nothing
    "zzz = 1",  # refused
]
EXECUTION_FILTERS = [
    "id = {i}",
    "id IN ({i}, {j})",
    "id > {i}",
    "type = 'X'",
    "name = 'e{i}'",
    "properties.p.int_value = {k}",
    "last_known_state = COMPLETE",
    "last_known_state IN (FAILED, CANCELED, CACHED)",
    "last_known_state = CACHED OR name LIKE 'e1%'",
    "contexts_a.name = 'c{c}'",
    "contexts_a.id IN ({c}, 1) AND NOT contexts_b.name = 'c0'",
    "events_e.type = INPUT",
    "artifacts_x.id = {i}",
    "NOT id = {i} AND type = 'Y'",
    "parent_contexts_a.name = 'c0'",
    "id = 999",
    "zzz = 2",
]
MASKS: list[list[str] | None] = [
    None,
    ["artifacts"],
    ["events"],
    ["executions", "events"],
    ["artifact_types"],
    ["execution_types", "contexts"],
    ["contexts", "context_types", "attributions", "associations"],
    ["artifacts", "artifact_types", "executions", "execution_types"],
]


def _graph(b: Both, rnd: random.Random) -> tuple[int, int, int]:
    for name in ("A", "B"):
        t = pb.ArtifactType(name=name)
        t.properties["p"] = pb.INT
        t.properties["s"] = pb.STRING
        b.call("put_artifact_type", t)
    for name in ("X", "Y"):
        t = pb.ExecutionType(name=name)
        t.properties["p"] = pb.INT
        b.call("put_execution_type", t)
    for name in ("C", "D"):
        b.call("put_context_type", pb.ContextType(name=name))
    n_art, n_exe, n_ctx = rnd.randint(15, 40), rnd.randint(10, 25), rnd.randint(2, 6)
    artifacts = []
    for i in range(n_art):
        a = pb.Artifact(type_id=rnd.choice([10, 11]), uri=f"u{i % 3}", name=f"a{i}")
        if rnd.random() < 0.3:
            a.external_id = f"x{i + 1}"
        if rnd.random() < 0.7:
            a.properties["p"].int_value = rnd.randint(0, 5)
        if rnd.random() < 0.5:
            a.properties["s"].string_value = rnd.choice(["x", "xy", "Y"])
        if rnd.random() < 0.5:
            a.custom_properties["c"].int_value = rnd.randint(0, 3)
        if rnd.random() < 0.8:  # never an explicit UNKNOWN (D4)
            a.state = rnd.choice([1, 2, 3, 4, 5])
        artifacts.append(a)
    b.call("put_artifacts", artifacts)
    executions = []
    for i in range(n_exe):
        e = pb.Execution(type_id=rnd.choice([12, 13]), name=f"e{i}")
        if rnd.random() < 0.7:
            e.properties["p"].int_value = rnd.randint(0, 5)
        if rnd.random() < 0.8:
            e.last_known_state = rnd.choice([1, 2, 3, 4, 5, 6])
        executions.append(e)
    b.call("put_executions", executions)
    b.call(
        "put_contexts",
        [pb.Context(type_id=rnd.choice([14, 15]), name=f"c{i}") for i in range(n_ctx)],
    )
    events = {}
    for _ in range(n_art * 2):
        key = (rnd.randint(1, n_art), rnd.randint(1, n_exe), rnd.choice(EVENT_TYPES))
        event = E(artifact_id=key[0], execution_id=key[1], type=key[2])
        if rnd.random() < 0.3:
            event.path.steps.add().key = "k"
        events[key] = event
    written = list(events.values())
    rnd.shuffle(written)  # so an execution's events are written out of id order
    for k in range(0, len(written), 3):
        b.call("put_events", written[k : k + 3])
    attributions = list(
        dict.fromkeys((rnd.randint(1, n_art), rnd.randint(1, n_ctx)) for _ in range(n_art))
    )
    associations = list(
        dict.fromkeys((rnd.randint(1, n_exe), rnd.randint(1, n_ctx)) for _ in range(n_exe))
    )
    b.call(
        "put_attributions_and_associations",
        [pb.Attribution(artifact_id=a, context_id=c) for a, c in attributions],
        [pb.Association(execution_id=e, context_id=c) for e, c in associations],
    )
    for _ in range(3):
        child, parent = rnd.sample(range(1, n_ctx + 1), 2)
        b.replay(
            ("put_parent_contexts", ([pb.ParentContext(child_id=child, parent_id=parent)],), {})
        )
    return n_art, n_exe, n_ctx


def _filter(rnd: random.Random, artifacts: bool, n: int, n_ctx: int) -> str:
    template = rnd.choice(ARTIFACT_FILTERS if artifacts else EXECUTION_FILTERS)
    return template.format(
        i=rnd.randint(1, n), j=rnd.randint(1, n), k=rnd.randint(0, 5), c=rnd.randint(0, n_ctx)
    )


def _query(rnd: random.Random, sizes: tuple[int, int, int]) -> tuple[Any, list[str] | None]:
    n_art, n_exe, n_ctx = sizes
    options = Q()
    from_artifacts = rnd.random() < 0.5
    start = options.starting_artifacts if from_artifacts else options.starting_executions
    start.filter_query = _filter(rnd, from_artifacts, n_art if from_artifacts else n_exe, n_ctx)
    if rnd.random() < 0.85:
        options.max_num_hops = rnd.choice([0, 1, 2, 3, 4, 5, 7, 10, 100])
    options.direction = rnd.choice(
        [Q.DIRECTION_UNSPECIFIED, Q.UPSTREAM, Q.DOWNSTREAM, Q.BIDIRECTIONAL]
    )
    for _ in range(rnd.choice([0, 0, 1, 1, 2])):
        artifacts = rnd.random() < 0.5
        ending = options.ending_artifacts if artifacts else options.ending_executions
        ending.filter_query = (
            _filter(rnd, artifacts, n_art if artifacts else n_exe, n_ctx)
            if rnd.random() < 0.85
            else ""
        )
        ending.include_ending_nodes = rnd.random() < 0.5
    return options, rnd.choice(MASKS)


@pytest.mark.parametrize("seed", range(8))
def test_lineage_from_filters_matches_mlmd(both: Both, seed: int) -> None:
    rnd = random.Random(seed)
    sizes = _graph(both, rnd)
    for _ in range(50):
        options, mask = _query(rnd, sizes)
        args = (options,) if mask is None else (options, mask)
        try:
            both.ref.get_lineage_subgraph(*args)  # a read: asking twice changes nothing
        except errors.StatusError:
            both.fails("get_lineage_subgraph", *args)
        else:
            both.call("get_lineage_subgraph", *args)


def test_options_given_as_a_dict_are_taken_as_the_client_takes_them(both: Both) -> None:
    """ml_metadata's client builds its request from ``query_options``, and a proto message
    constructor takes a dict for a message field: a dict of the options' fields (enum names as
    strings) is a query there. The adapter failed on it with ``AttributeError`` ('dict' object has
    no attribute 'WhichOneof'); it now reads the options from the same request."""
    both.call("put_artifact_type", pb.ArtifactType(name="A"))
    both.call("put_execution_type", pb.ExecutionType(name="X"))
    both.call("put_artifacts", [pb.Artifact(type_id=10, uri=f"u{i}") for i in range(3)])
    both.call("put_executions", [pb.Execution(type_id=11) for _ in range(2)])
    both.call(
        "put_events",
        [
            E(artifact_id=1, execution_id=1, type=E.INPUT),
            E(artifact_id=2, execution_id=1, type=E.OUTPUT),
            E(artifact_id=2, execution_id=2, type=E.INPUT),
            E(artifact_id=3, execution_id=2, type=E.OUTPUT),
        ],
    )
    start = {"starting_artifacts": {"filter_query": "id = 2"}}
    both.call("get_lineage_subgraph", {**start, "max_num_hops": 2})
    both.call("get_lineage_subgraph", {**start, "direction": "UPSTREAM"}, ["artifacts", "events"])
    both.call(
        "get_lineage_subgraph",
        {
            "starting_executions": {"filter_query": "id = 1"},
            "ending_artifacts": {"filter_query": "id = 3", "include_ending_nodes": True},
        },
    )
    both.fails("get_lineage_subgraph", {})  # no starting nodes: InvalidArgumentError
    both.fails("get_lineage_subgraph", {**start, "max_num_hops": -1})
    for bad in ({"bogus": 1}, {"starting_artifacts": "x"}, []):  # as the request refuses them
        with pytest.raises(type(_request_error(bad))):
            both.ours.get_lineage_subgraph(bad)


def _request_error(options: Any) -> Exception:
    """What ml_metadata's client raises building its request from ``options``."""
    try:
        service.GetLineageSubgraphRequest(lineage_subgraph_query_options=options)
    except Exception as exc:  # whatever class the request raises
        return exc
    raise AssertionError(f"the request took {options!r}")
