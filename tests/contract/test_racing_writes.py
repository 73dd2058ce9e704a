"""Writes whose checks read the store first, raced by another writer between that read and the
write: the write must check again and, when the other writer's change breaks its rule, change
nothing and raise the error the read would have raised. Deterministic: the other writer's change
is made at the racing moment, inside the first write's own steps (after its read)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    InvalidArgumentError,
    LineageStore,
    NotFoundError,
    ParentContext,
    PropertyType,
)


@pytest.fixture
def contexts(store: LineageStore) -> list[int]:
    store.put_context_type(ContextType(name="Pipeline"))
    return store.put_contexts([Context(type="Pipeline", name=n) for n in "abcd"])


@contextmanager
def _after_each_call(
    obj: Any, name: str, meanwhile: list[Callable[[], None]], *, query: str | None = None
) -> Iterator[None]:
    """``obj.name`` runs ``meanwhile[i]`` (another writer's write) after its i-th call returns
    (its i-th read of the named ``query``, for ``read``): each try of a retried write loses one
    more race."""
    original = getattr(obj, name)
    left = list(meanwhile)

    def racing(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if left and (query is None or args[0] == query):
            left.pop(0)()
        return result

    setattr(obj, name, racing)
    try:
        yield
    finally:
        setattr(obj, name, original)


def _after_first_call(
    obj: Any, name: str, meanwhile: Callable[[], None], *, query: str | None = None
) -> AbstractContextManager[None]:
    """``obj.name`` runs ``meanwhile`` (another writer's write) after its first call returns
    (its first read of the named ``query``, for ``read``)."""
    return _after_each_call(obj, name, [meanwhile], query=query)


def _parents(store: LineageStore, ids: list[int]) -> dict[int, list[int]]:
    return {i: sorted(p.id or 0 for p in store.get_parent_contexts_by_context(i)) for i in ids}


def _link(store: LineageStore, child: int, parent: int) -> Callable[[], None]:
    return lambda: store.put_parent_contexts([ParentContext(child_id=child, parent_id=parent)])


def test_two_writers_linking_two_contexts_both_ways_make_no_cycle(
    store: LineageStore, contexts: list[int]
) -> None:
    """A -> B read as acyclic, then another writer links B -> A: the write of A -> B is a cycle
    (94 of 100 threaded races stored both links before the write checked)."""
    a, b = contexts[:2]
    with (
        pytest.raises(InvalidArgumentError, match="cycle"),
        _after_first_call(store._relations, "prepare_parents", _link(store, b, a)),
    ):
        store.put_parent_contexts([ParentContext(child_id=a, parent_id=b)])
    assert _parents(store, contexts) == {a: [], b: [a], contexts[2]: [], contexts[3]: []}


@pytest.mark.parametrize(
    ("raced", "error", "match"),
    [
        ((2, 0), InvalidArgumentError, "cycle"),
        ((0, 1), AlreadyExistsError, "already has parent"),
    ],
)
def test_links_of_one_write_raced_by_another_writers_link(
    store: LineageStore,
    contexts: list[int],
    raced: tuple[int, int],
    error: type[Exception],
    match: str,
) -> None:
    """One write links A -> B and B -> C. Another writer meanwhile links C -> A: neither of the
    first write's links closes a cycle with the stored links alone, both together do. Or it
    links A -> B itself: the first write's link is a duplicate. Only the other's link stays."""
    a, b, c, _ = contexts
    child, parent = (contexts[i] for i in raced)
    with (
        pytest.raises(error, match=match),
        _after_first_call(store._relations, "prepare_parents", _link(store, child, parent)),
    ):
        store.put_parent_contexts(
            [ParentContext(child_id=a, parent_id=b), ParentContext(child_id=b, parent_id=c)]
        )
    assert _parents(store, [a, b, c]) == {a: [], b: [], c: []} | {child: [parent]}


def test_a_link_written_meanwhile_elsewhere_does_not_fail_the_write(
    store: LineageStore, contexts: list[int]
) -> None:
    """Another writer links two other contexts between the check and the write: no cycle either
    way, so both links are stored (on FalkorDB the write aborts, since parent links changed after
    its check, and put_parent_contexts checks again and writes)."""
    a, b, c, d = contexts
    with _after_first_call(store._relations, "prepare_parents", _link(store, c, d)):
        store.put_parent_contexts([ParentContext(child_id=a, parent_id=b)])
    assert _parents(store, contexts) == {a: [b], b: [], c: [d], d: []}


def test_a_raced_link_closing_a_cycle_over_a_ladder_of_40_context_diamonds(
    store: LineageStore, contexts: list[int]
) -> None:
    """Each rung of a ladder of contexts has two parents sharing one parent (2^40 paths from
    bottom to top). top -> A is read as acyclic; another writer meanwhile links A under the
    bottom: the write finds parent links changed since its check (FalkorDB) or walks up from A
    itself (Neo4j), and the check after it walks up over the whole ladder (each context once: a
    walk following every path would not end) and finds the top, so nothing is written."""
    a = contexts[0]
    rungs = store.put_contexts([Context(type="Pipeline", name=f"rung-{i}") for i in range(121)])
    for i in range(40):  # rung by rung from the bottom: no link has anything above it yet
        store.put_parent_contexts(
            [
                ParentContext(child_id=rungs[3 * i + k], parent_id=rungs[3 * i + j])
                for k, j in ((0, 1), (0, 2), (1, 3), (2, 3))
            ]
        )
    bottom, top = rungs[0], rungs[-1]
    with (
        pytest.raises(InvalidArgumentError, match=f"context {a} already descends from {top}"),
        _after_first_call(store._relations, "prepare_parents", _link(store, a, bottom)),
    ):
        store.put_parent_contexts([ParentContext(child_id=top, parent_id=a)])
    assert _parents(store, [a, top]) == {a: [bottom], top: []}


#: The read of a type by name that put_artifact_type upgrades.
_READ_TYPE = "types/get_artifact_type"


def _evolve(store: LineageStore, *added: str) -> Callable[[], None]:
    properties = {"base": PropertyType.INT} | dict.fromkeys(added, PropertyType.STRING)
    return lambda: store.put_artifact_type(
        ArtifactType(name="DataSet", properties=properties),
        can_add_fields=True,
        can_omit_fields=True,
    )


def test_two_writers_adding_fields_to_one_type_keep_both(store: LineageStore) -> None:
    """Each upgrade wrote the type as read plus its own field: the later one dropped the
    other's (95 of 100 threaded races), whose artifacts then held a property their type no
    longer declared."""
    _evolve(store)()
    with _after_first_call(store._types, "read", _evolve(store, "b"), query=_READ_TYPE):
        _evolve(store, "a")()
    assert set(store.get_artifact_type("DataSet").properties) == {"base", "a", "b"}
    store.put_artifacts([Artifact(type="DataSet", properties={"a": "x", "b": "y"})])


def test_an_upgrade_is_checked_against_the_type_another_writer_upgraded_meanwhile(
    store: LineageStore,
) -> None:
    """Adding a field without can_omit_fields, after another writer added one meanwhile: in
    the order they ran, the type holds a field the request leaves out (MLMD refuses it)."""
    _evolve(store)()
    with (
        pytest.raises(AlreadyExistsError, match=r"missing from the request"),
        _after_first_call(store._types, "read", _evolve(store, "b"), query=_READ_TYPE),
    ):
        store.put_artifact_type(
            ArtifactType(
                name="DataSet", properties={"base": PropertyType.INT, "a": PropertyType.INT}
            ),
            can_add_fields=True,
        )
    assert set(store.get_artifact_type("DataSet").properties) == {"base", "b"}


@pytest.mark.parametrize("mask", [None, ["uri"]], ids=["whole", "masked"])
def test_an_update_of_a_node_deleted_since_it_was_read_is_not_found(
    store: LineageStore, mask: list[str] | None
) -> None:
    """The update read the artifact, then retention deleted it: put_artifacts returned its id as
    if updated, having written nothing (94 of 102 acknowledged updates in 200 threaded races)."""
    store.put_artifact_type(ArtifactType(name="DataSet"))
    [a] = store.put_artifacts([Artifact(type="DataSet", uri="old")])
    plan = store.plan_retention(types=["DataSet"])
    assert plan.delete_artifacts == (a,)
    with (
        pytest.raises(NotFoundError, match=f"no artifact with id {a} to update"),
        _after_first_call(
            store._artifacts,
            "read",
            lambda: store.apply_retention(plan),
            query="artifacts/get_write_state",
        ),
    ):
        store.put_artifacts([Artifact(id=a, type="DataSet", uri="new")], field_mask_paths=mask)
    assert store.get_artifacts_by_id([a]) == []


@pytest.mark.parametrize("composite", [False, True], ids=["put_executions", "put_execution"])
def test_an_execution_deleted_since_it_was_read_is_not_found(
    store: LineageStore, composite: bool
) -> None:
    """put_executions wrote nothing and returned the id; put_execution, whose output event had
    no execution to start from, failed without naming it (FailedPreconditionError)."""
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_artifact_type(ArtifactType(name="DataSet"))
    [e] = store.put_executions([Execution(type="Trainer")])
    plan = store.plan_retention(types=["Trainer"])
    assert plan.delete_executions == (e,)
    done = Execution(id=e, type="Trainer", last_known_state=ExecutionState.COMPLETE)
    with (
        pytest.raises(NotFoundError, match=f"no execution with id {e} to update"),
        _after_first_call(
            store._executions,
            "read",
            lambda: store.apply_retention(plan),
            query="executions/get_write_state",
        ),
    ):
        if composite:
            store.put_execution(
                done, [(Artifact(type="DataSet", uri="out"), Event(type=EventType.OUTPUT))]
            )
        else:
            store.put_executions([done])
    assert store.get_executions_by_id([e]) == []
    assert store.get_artifacts_by_uri("out") == []


def test_an_artifact_stored_meanwhile_under_the_external_id_is_reused(store: LineageStore) -> None:
    """With reuse_artifact_if_already_exist_by_external_id, the artifact another writer stored
    after this one looked it up is reused (one of two racing writers failed with
    AlreadyExistsError in 67 of 100 threaded races), as a context is with its reuse flag."""
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_artifact_type(ArtifactType(name="DataSet"))
    data = Artifact(type="DataSet", uri="s3://d", external_id="data")
    with _after_first_call(
        store._artifacts,
        "read",
        lambda: store.put_artifacts([data]),
        query="artifacts/get_by_external_ids",
    ):
        e, [a], _ = store.put_execution(
            Execution(type="Trainer"),
            [(data, Event(type=EventType.INPUT))],
            reuse_artifact_if_already_exist_by_external_id=True,
        )
    assert [x.id for x in store.get_artifacts_by_external_ids(["data"])] == [a]
    assert [(ev.artifact_id, ev.execution_id) for ev in store.get_events_by_artifact_ids([a])] == [
        (a, e)
    ]


@pytest.mark.parametrize("kind", ["artifacts", "contexts"])
def test_a_write_with_a_reuse_flag_that_loses_a_race_on_each_of_two_tries_still_reuses(
    store: LineageStore, kind: str
) -> None:
    """A write reusing by key lost one race, retried, and lost another on its second try (a
    third writer stored its other key between the try's read and its write): it raised
    AlreadyExistsError despite the reuse flag (1 of 240 racing put_execution calls of six
    processes through the MLMD adapter), where ml_metadata on SQLite reuses. Each lost race
    leaves one more key stored: the write tries again and reuses both."""
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_context_type(ContextType(name="Pipeline"))
    data = [Artifact(type="DataSet", uri=f"s3://{k}", external_id=k) for k in "ab"]
    pipes = [Context(type="Pipeline", name=k) for k in "ab"]
    if kind == "artifacts":
        repo, query = store._artifacts, "artifacts/get_by_external_ids"
        racers = [lambda: store.put_artifacts([data[0]]), lambda: store.put_artifacts([data[1]])]
    else:
        repo, query = store._contexts, "contexts/get_by_type_and_names"
        racers = [lambda: store.put_contexts([pipes[0]]), lambda: store.put_contexts([pipes[1]])]
    with _after_each_call(repo, "read", racers, query=query):
        e, artifacts, contexts = store.put_execution(
            Execution(type="Trainer"),
            [(a, Event(type=EventType.OUTPUT)) for a in data],
            pipes,
            reuse_artifact_if_already_exist_by_external_id=True,
            reuse_context_if_already_exist=True,
        )
    assert sorted(x.id or 0 for x in store.get_artifacts()) == sorted(artifacts)
    assert sorted(x.id or 0 for x in store.get_contexts()) == sorted(contexts)
    assert len(store.get_executions()) == 1
    assert sorted(ev.artifact_id for ev in store.get_events_by_execution_ids([e])) == sorted(
        artifacts
    )
    for c in contexts:
        assert [x.id for x in store.get_executions_by_context(c)] == [e]


def test_a_type_given_an_external_id_another_type_took_meanwhile_says_which(
    store: LineageStore,
) -> None:
    """An upgrade giving a stored type an external id another writer gave another type after
    this one checked it: the engine's constraint refused it unnamed ('a unique key already
    exists ... unique constraint violation on node of type ArtifactType' on FalkorDB); it is
    said as the check says it, and nothing is written."""
    store.put_artifact_type(ArtifactType(name="DataSet"))
    with (
        _after_first_call(
            store._types,
            "read",
            lambda: store.put_artifact_type(ArtifactType(name="Model", external_id="x")),
            query="types/get_artifact_types_by_external_ids",
        ),
        pytest.raises(AlreadyExistsError, match="external_id 'x' is taken by type 'Model'"),
    ):
        store.put_artifact_type(ArtifactType(name="DataSet", external_id="x"))
    assert store.get_artifact_type("DataSet").external_id is None


def test_a_write_with_a_reuse_flag_refused_before_it_runs_is_not_tried_again(
    store: LineageStore,
) -> None:
    """What is refused before the write runs (here the same event twice in one write) holds on
    every try: it is raised at once. It was tried again while its message changed, and the
    message names the execution id each try takes, which differs when another thread of the
    process takes ids meanwhile: tried once per artifact given plus one (53 times for 52)."""
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_artifact_type(ArtifactType(name="DataSet"))
    [old] = store.put_artifacts([Artifact(type="DataSet", uri="s3://old")])
    given = [(Artifact(id=old, type="DataSet", uri="s3://old"), Event(type=EventType.OUTPUT))] * 2
    given += [
        (Artifact(type="DataSet", uri=f"s3://{k}", external_id=k), Event(type=EventType.OUTPUT))
        for k in "abcdefgh"
    ]
    tries: list[int] = []

    def meanwhile() -> None:  # one try's reuse lookup, then another thread's new execution
        tries.append(1)
        store.put_executions([Execution(type="Trainer")])

    with (
        _after_each_call(
            store._artifacts, "read", [meanwhile] * 20, query="artifacts/get_by_external_ids"
        ),
        pytest.raises(AlreadyExistsError, match=r"the same .* event twice in one write"),
    ):
        store.put_execution(
            Execution(type="Trainer"), given, reuse_artifact_if_already_exist_by_external_id=True
        )
    assert len(tries) == 1
    assert len(store.get_executions()) == len(tries)  # the other thread's only
    assert [a.id for a in store.get_artifacts()] == [old]


def test_the_tries_of_a_write_with_a_reuse_flag_leave_no_gap_in_the_ids(
    store: LineageStore,
) -> None:
    """Each try of a write that lost a race takes new ids; the engine refused it, so they go
    back (GraphWriter.execute) and the next try takes them again: the write's new nodes get
    the ids they would have had without the race (since fix-rrD28 the loop, not the try,
    runs the write)."""
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_artifact_type(ArtifactType(name="DataSet"))
    data = [Artifact(type="DataSet", uri=f"s3://{k}", external_id=k) for k in "ab"]
    racers = [lambda: store.put_artifacts([data[0]]), lambda: store.put_artifacts([data[1]])]
    [first] = store.put_executions([Execution(type="Trainer")])
    with _after_each_call(store._artifacts, "read", racers, query="artifacts/get_by_external_ids"):
        e, [a, b, new], _ = store.put_execution(
            Execution(type="Trainer"),
            [(x, Event(type=EventType.OUTPUT)) for x in [*data, Artifact(type="DataSet")]],
            reuse_artifact_if_already_exist_by_external_id=True,
        )
    assert e == first + 1  # three tries, one execution id
    assert new == max(a, b) + 1  # after the racers' two
    [later] = store.put_executions([Execution(type="Trainer")])
    assert later == e + 1
