"""What a refusal quotes of the value it refuses: bounded, and never a second error of its own.

A message quoting an int of more than 4,300 digits raised ``ValueError`` (Python's limit on int
to str conversion) in place of the refusal, untyped; a run of lone surrogates, an id of a model
built without validation (``model_construct``) or a ``NodeRef``'s were quoted whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lineage_graph import LineageStore
from lineage_graph.exceptions import (
    AlreadyExistsError,
    InvalidArgumentError,
    LineageGraphError,
    NotFoundError,
)
from lineage_graph.lineage import NodeFilter, NodeRef
from lineage_graph.models import (
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    NodeKind,
)

#: No repr: past Python's 4,300 digits.
HUGE = 10**5000
#: A message is short whatever it quotes.
SHORT = 300


@pytest.fixture
def ids(store: LineageStore) -> tuple[int, int]:
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    [a] = store.put_artifacts([Artifact(type="DataSet", uri="/a")])
    [e] = store.put_executions([Execution(type="Trainer")])
    return a, e


def _event(a: int, e: int, **fields: Any) -> Event:
    given: dict[str, Any] = {
        "type": EventType.INPUT,
        "artifact_id": a,
        "execution_id": e,
        "path": [],
        **fields,
    }
    return Event.model_construct(**given)


def _run_output(store: LineageStore, properties: dict[str, Any]) -> None:
    """A run's output built without validation, holding ``properties``."""
    with store.run("Trainer") as run:
        run.output(
            Artifact.model_construct(
                type="Model", uri="/m", properties=properties, custom_properties={}
            )
        )


def _run_with(store: LineageStore, artifact: Artifact) -> None:
    with store.run("Trainer", inputs=[artifact]):
        pass


CALLS: list[tuple[str, type[LineageGraphError], Callable[[LineageStore, int, int], object]]] = [
    (
        "node id",
        InvalidArgumentError,
        lambda s, a, e: s.put_artifacts([Artifact.model_construct(id=HUGE, type="DataSet")]),
    ),
    (
        "node type_id",
        InvalidArgumentError,
        lambda s, a, e: s.put_artifacts([Artifact.model_construct(type_id=HUGE)]),
    ),
    (
        "event path step",
        InvalidArgumentError,
        lambda s, a, e: s.put_events([_event(a, e, path=[HUGE])]),
    ),
    (
        "event time",
        InvalidArgumentError,
        lambda s, a, e: s.put_events([_event(a, e, milliseconds_since_epoch=HUGE)]),
    ),
    (
        "event artifact_id",
        InvalidArgumentError,
        lambda s, a, e: s.put_events([_event(HUGE, e)]),
    ),
    (
        "run input",
        InvalidArgumentError,
        lambda s, a, e: _run_with(s, Artifact.model_construct(id=HUGE)),
    ),
    (
        "cache input below 0",
        InvalidArgumentError,
        lambda s, a, e: s.find_cached_execution("Trainer", [-HUGE]),
    ),
    (
        "cache input",
        NotFoundError,
        lambda s, a, e: s.find_cached_execution("Trainer", [HUGE]),
    ),
    (
        "lineage NodeRef",
        NotFoundError,
        lambda s, a, e: s.lineage(NodeRef(NodeKind.ARTIFACT, HUGE)),
    ),
    (
        "lineage node",
        NotFoundError,
        lambda s, a, e: s.lineage(Artifact.model_construct(id=HUGE)),
    ),
    # these raised ValueError (no repr), untyped, in place of the refusal
    (
        "cache inputs",
        InvalidArgumentError,
        lambda s, a, e: s.find_cached_execution("Trainer", HUGE),  # type: ignore[arg-type]
    ),
    (
        "cache properties",
        InvalidArgumentError,
        lambda s, a, e: s.find_cached_execution("Trainer", [], properties=HUGE),  # type: ignore[arg-type]
    ),
    (
        "cache input key",
        InvalidArgumentError,
        lambda s, a, e: s.find_cached_execution("Trainer", {HUGE: [a]}),  # type: ignore[dict-item]
    ),
    (
        "context graph",
        InvalidArgumentError,
        lambda s, a, e: s.context_graph([HUGE]),  # type: ignore[arg-type]
    ),
    (
        "NodeFilter kinds",
        InvalidArgumentError,
        lambda s, a, e: NodeFilter(kinds=[HUGE]),  # type: ignore[list-item]
    ),
    (
        "NodeFilter types",
        InvalidArgumentError,
        lambda s, a, e: NodeFilter(types=[HUGE]),  # type: ignore[list-item]
    ),
    (
        "NodeFilter states",
        InvalidArgumentError,
        lambda s, a, e: NodeFilter(states=[HUGE]),  # type: ignore[list-item]
    ),
    (
        "lineage max_hops",
        InvalidArgumentError,
        lambda s, a, e: s.lineage(NodeRef(NodeKind.ARTIFACT, a), max_hops=-HUGE),
    ),
    (
        "iter_nodes page_size",
        InvalidArgumentError,
        lambda s, a, e: list(s.iter_nodes(NodeKind.ARTIFACT, page_size=-HUGE)),
    ),
    (
        "state built without validation",
        InvalidArgumentError,
        lambda s, a, e: s.put_artifacts([Artifact.model_construct(type="DataSet", state=HUGE)]),
    ),
]


@pytest.mark.parametrize(("error", "call"), [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_an_int_too_large_to_show_is_refused_by_its_size(
    store: LineageStore,
    ids: tuple[int, int],
    error: type[LineageGraphError],
    call: Callable[[LineageStore, int, int], object],
) -> None:
    with pytest.raises(error) as info:
        call(store, *ids)
    text = str(info.value)
    assert "<an int of 16610 bits>" in text or "holding an int too large to show>" in text
    assert len(text) < SHORT


def test_an_int_longer_than_the_quote_is_shown_by_its_size_never_cut(
    store: LineageStore, ids: tuple[int, int]
) -> None:
    # 86 digits: its repr cut at 80 read as another number
    with pytest.raises(InvalidArgumentError, match="a path step") as info:
        store.put_events([_event(*ids, path=[10**85])])
    assert "<an int of 283 bits>" in str(info.value)
    assert "1000000000" not in str(info.value)


def test_a_long_run_of_lone_surrogates_is_quoted_bounded(
    store: LineageStore, ids: tuple[int, int]
) -> None:
    with pytest.raises(InvalidArgumentError, match="artifact #0: uri must be valid Unicode"):
        store.put_artifacts([Artifact(type="DataSet", uri="/b/" + "\udc80" * 100_000)])
    with pytest.raises(InvalidArgumentError) as info:
        store.put_artifacts([Artifact(type="DataSet", uri="/b/" + "\udc80" * 100_000)])
    assert "at index 3" in str(info.value)
    assert len(str(info.value)) < SHORT
    with pytest.raises(InvalidArgumentError) as info:
        store.put_artifacts([Artifact(type="DataSet", custom_properties={"p" * 100_000: "\udc80"})])
    assert len(str(info.value)) < SHORT


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.find_cached_execution("Trainer", [Artifact.model_construct(id="x" * 100_000)]),
        lambda s: s.find_cached_execution("Trainer", ["x" * 100_000]),
        lambda s: s.lineage(NodeRef(NodeKind.ARTIFACT, "x" * 100_000)),  # type: ignore[arg-type]
        lambda s: s.lineage(NodeRef("x" * 100_000, 1)),  # type: ignore[arg-type]
    ],
    ids=["cache Artifact id", "cache input", "NodeRef id", "NodeRef kind"],
)
def test_a_long_id_is_quoted_bounded(
    store: LineageStore, ids: tuple[int, int], call: Callable[[LineageStore], object]
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        call(store)
    assert len(str(info.value)) < SHORT


@pytest.mark.parametrize("bad", [1, "", b"k"], ids=["int", "empty", "bytes"])
def test_a_bad_property_name_is_refused_quoting_the_name_not_the_values(
    store: LineageStore, ids: tuple[int, int], bad: object
) -> None:
    secret = "sk-live-0123456789"
    node = Artifact.model_construct(
        type="DataSet", custom_properties={"token": secret, bad: 1}, properties={}
    )
    with pytest.raises(InvalidArgumentError, match="custom_properties must be a dict") as info:
        store.put_artifacts([node])
    assert secret not in str(info.value)
    assert repr(bad) in str(info.value)
    with pytest.raises(InvalidArgumentError, match="custom_properties must be a dict") as info:
        store.put_execution(Execution(type="Trainer"), [(node, Event(type="OUTPUT"))])
    assert secret not in str(info.value)


LONG = "k" * 100_000


@pytest.mark.parametrize(
    "call",
    [
        lambda s, a: s.find_cached_execution("Trainer", LONG),
        lambda s, a: s.find_cached_execution("Trainer", {LONG: [1.5]}),
        lambda s, a: s.find_cached_execution("Trainer", {LONG: 0}),
        lambda s, a: s.find_cached_execution("Trainer", [a], properties=[LONG]),
        lambda s, a: s.find_cached_execution("Trainer", [a], properties={LONG: object()}),
        lambda s, a: s.context_graph((LONG, 5)),
        lambda s, a: NodeFilter(kinds=[LONG]),
        lambda s, a: NodeFilter(types=[1, LONG]),  # type: ignore[list-item]
        lambda s, a: NodeFilter(states=[LONG]),
        lambda s, a: s.put_artifacts([Artifact(type="DataSet", properties={LONG: 1})]),
        lambda s, a: s.put_artifact_type(ArtifactType(name="DataSet", properties={LONG: 0})),
        lambda s, a: _run_output(s, {LONG: object()}),
    ],
    ids=[
        "cache inputs",
        "cache input key",
        "cache input key, bad id",
        "cache properties",
        "cache property name",
        "context",
        "NodeFilter kinds",
        "NodeFilter types",
        "NodeFilter states",
        "undeclared property",
        "UNKNOWN property type",
        "run output property",
    ],
)
def test_a_long_value_is_quoted_bounded(
    store: LineageStore, ids: tuple[int, int], call: Callable[[LineageStore, int], object]
) -> None:
    """These quoted the value whole: a message of 100,000 characters."""
    with pytest.raises((InvalidArgumentError, NotFoundError, ValueError)) as info:
        call(store, ids[0])
    assert len(str(info.value)) < SHORT + 200


class _NoRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    "call",
    [
        lambda s: NodeFilter(kinds=[_NoRepr()]),  # type: ignore[list-item]
        lambda s: s.find_cached_execution("Trainer", _NoRepr()),  # type: ignore[arg-type]
        lambda s: s.put_events([_event(1, 1, path=[_NoRepr()])]),
    ],
    ids=["NodeFilter kinds", "cache inputs", "event path step"],
)
def test_a_value_whose_repr_raises_is_refused_typed(
    store: LineageStore, ids: tuple[int, int], call: Callable[[LineageStore], object]
) -> None:
    """The refusal quoted the value with its own repr, whose error escaped in its place."""
    with pytest.raises(InvalidArgumentError, match="whose repr failed"):
        call(store)


#: Unique keys whose part that tells them apart lies past shown()'s 80 characters: a message
#: cut there ("...shards/pa") named none of the values given.
_SHARD = "gs://company-ml-bucket/pipelines/churn-model/training-data/2026-12-06/shards/part-"
_KEY = _SHARD + "00001"


def _artifacts(**fields: str) -> list[Artifact]:
    return [Artifact(type="DataSet", uri="/s", **{k: _SHARD + v for k, v in fields.items()})]


def _context_taken(s: LineageStore) -> None:
    s.put_context_type(ContextType(name="Pipeline"))
    s.put_contexts([Context(type="Pipeline", name=_SHARD + "00000")])
    s.put_contexts([Context(type="Pipeline", name=_KEY)])
    s.put_execution(Execution(type="Trainer"), [], [Context(type="Pipeline", name=_KEY)])


def _type_external_id_taken(s: LineageStore) -> None:
    s.put_artifact_type(ArtifactType(name=_KEY, external_id=_KEY))
    s.put_artifact_type(ArtifactType(name="Other", external_id=_KEY))


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.put_artifacts(
            _artifacts(external_id="00000") + _artifacts(external_id="00001") * 2
        ),
        lambda s: s.put_artifacts(_artifacts(name="00000") + _artifacts(name="00001") * 2),
        lambda s: [
            s.put_artifacts(_artifacts(external_id="00000") + _artifacts(external_id="00001")),
            s.put_artifacts(_artifacts(external_id="00002") + _artifacts(external_id="00001")),
        ],
        lambda s: [
            s.put_contexts([Context(type="Pipeline", name=_KEY)]),
            s.put_contexts([Context(type="Pipeline", name=_KEY)]),
        ],
        _context_taken,
        _type_external_id_taken,
    ],
    ids=[
        "external_id twice in a write",
        "name twice in a write",
        "external_id taken",
        "context name taken",
        "context exists (put_execution)",
        "type external_id taken",
    ],
)
def test_a_key_taken_or_given_twice_is_quoted_whole(
    store: LineageStore, ids: tuple[int, int], call: Callable[[LineageStore], object]
) -> None:
    """The refusal names the key the caller must find among the values given: it was cut at
    80 characters, before the shard number that told it from the others."""
    store.put_context_type(ContextType(name="Pipeline"))
    with pytest.raises(AlreadyExistsError) as info:
        call(store)
    assert repr(_KEY) in str(info.value)
