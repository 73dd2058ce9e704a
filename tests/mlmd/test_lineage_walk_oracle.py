"""``get_lineage_subgraph`` against ml_metadata 1.17.1 itself on graphs hypothesis draws: events
of every type between any pairs (an artifact read and written by one execution, cycles), nodes
reached by two paths of different lengths, starts of either kind (several at once), every
direction, hop limits, and ending artifacts / executions (by id, or given but empty: every node
of the kind) with and without the ending nodes; contexts of two types linked to some nodes, and
field masks that ask for the context fields with or without the nodes. The seeded tests
(test_lineage_rules, test_lineage_filters) walk fixed or seeded graphs; these are drawn and
shrunk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ml_metadata.proto import metadata_store_pb2 as pb

from .conftest import Both

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


#: Field masks: the context fields (whose links are read only when asked) with and without nodes.
MASKS: list[list[str] | None] = [
    None,
    ["contexts"],
    ["attributions", "associations"],
    ["context_types"],
    ["contexts", "artifacts", "events"],
    ["executions", "associations", "context_types"],
]


@dataclass
class Question:
    n_art: int
    n_exe: int
    events: list[tuple[int, int, int]]
    options: Any
    #: Contexts (their type, 0 or 1), attributions (artifact, context), associations
    #: (execution, context), and the field mask.
    contexts: list[int] = field(default_factory=list)
    attributions: list[tuple[int, int]] = field(default_factory=list)
    associations: list[tuple[int, int]] = field(default_factory=list)
    mask: list[str] | None = None


@st.composite
def questions(draw: st.DrawFn) -> Question:
    n_art, n_exe = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    keys = st.tuples(st.integers(1, n_art), st.integers(1, n_exe), st.sampled_from(EVENT_TYPES))
    events = draw(st.lists(keys, max_size=12, unique_by=lambda k: k))
    contexts = draw(st.lists(st.integers(0, 1), max_size=3))
    n_ctx = len(contexts)
    attributions = associations = []
    if n_ctx:
        links = st.tuples(st.integers(1, n_art), st.integers(1, n_ctx))
        attributions = draw(st.lists(links, max_size=6, unique=True))
        links = st.tuples(st.integers(1, n_exe), st.integers(1, n_ctx))
        associations = draw(st.lists(links, max_size=4, unique=True))
    options = Q()
    from_artifacts = draw(st.booleans())
    n = n_art if from_artifacts else n_exe
    starts = draw(st.sets(st.integers(1, n), min_size=1, max_size=2))
    start = options.starting_artifacts if from_artifacts else options.starting_executions
    start.filter_query = f"id IN ({', '.join(map(str, sorted(starts)))})"
    options.direction = draw(
        st.sampled_from([Q.DIRECTION_UNSPECIFIED, Q.UPSTREAM, Q.DOWNSTREAM, Q.BIDIRECTIONAL])
    )
    hops = draw(st.none() | st.integers(0, 6))
    if hops is not None:
        options.max_num_hops = hops
    for kind, size in (("artifacts", n_art), ("executions", n_exe)):
        if draw(st.booleans()):
            ending = getattr(options, f"ending_{kind}")
            ids = draw(st.sets(st.integers(1, size), max_size=2))
            ending.filter_query = f"id IN ({', '.join(map(str, sorted(ids)))})" if ids else ""
            ending.include_ending_nodes = draw(st.booleans())
    mask = draw(st.sampled_from(MASKS))
    return Question(n_art, n_exe, events, options, contexts, attributions, associations, mask)


@settings(
    max_examples=60,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(question=questions())
def test_lineage_subgraph_on_drawn_graphs_is_mlmds(
    make_both: Callable[[], Both], question: Question
) -> None:
    q = question
    b = make_both()
    a_type = b.call("put_artifact_type", pb.ArtifactType(name="A"))
    x_type = b.call("put_execution_type", pb.ExecutionType(name="X"))
    c_types = [b.call("put_context_type", pb.ContextType(name=n)) for n in ("C", "D")]
    b.call("put_artifacts", [pb.Artifact(type_id=a_type, uri=f"a{i}") for i in range(q.n_art)])
    b.call("put_executions", [pb.Execution(type_id=x_type) for _ in range(q.n_exe)])
    if q.events:
        b.call("put_events", [E(artifact_id=a, execution_id=x, type=t) for a, x, t in q.events])
    if q.contexts:
        contexts = [pb.Context(type_id=c_types[t], name=f"c{i}") for i, t in enumerate(q.contexts)]
        b.call("put_contexts", contexts)
        b.call(
            "put_attributions_and_associations",
            [pb.Attribution(artifact_id=a, context_id=c) for a, c in q.attributions],
            [pb.Association(execution_id=x, context_id=c) for x, c in q.associations],
        )
    b.call("get_lineage_subgraph", q.options, field_mask_paths=q.mask)
