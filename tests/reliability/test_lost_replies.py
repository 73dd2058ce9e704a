"""Writes whose reply is lost: the caller can always find (or is spared) what was written.

The fault is real: the statement is sent to the real embedded server and applied (logged with
``appendfsync always``), then the server is SIGKILLed before the client reads the next reply,
and the connection's next command fails as a dead server makes it fail; the library's own
recovery restarts the server and raises ``EngineUnavailableError``. Or the server is killed
just before the statement is sent (a write that was never applied: the same error).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    EngineUnavailableError,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    LineageStore,
    NodeKind,
    NotFoundError,
    ParentContext,
    PropertyType,
)
from lineage_graph.backends.embedded import EmbeddedBackend
from tests.reliability._integrity import assert_healthy
from tests.reliability.conftest import assert_ids_stay_spent, kill_pid, record


def _lose_reply(
    monkeypatch: pytest.MonkeyPatch,
    name: str = "graph/write",
    *,
    nth: int = 1,
    applied: bool = True,
    write: bool = True,
    times: int = 1,
) -> list[int]:
    """From now on, the ``nth`` statement named ``name`` (``graph/write``: every node write;
    ``write=False``: a read) loses its reply: with ``applied`` the server runs it and is
    SIGKILLed before the reply reaches the caller, else it is SIGKILLed before the statement is
    sent. ``times``: so many sends of that statement in a row (a read is retried once on the
    restarted server). The killed pids."""
    run = EmbeddedBackend._run
    send = EmbeddedBackend._execute
    seen = [0]
    armed = [0]
    killed: list[int] = []
    command = "GRAPH.QUERY" if write else "GRAPH.RO_QUERY"

    def run_(backend: EmbeddedBackend, query: str, params: Any, qname: str, **kw: Any) -> Any:
        if bool(kw.get("write")) == write and qname == name:
            seen[0] += 1
            armed[0] = times if seen[0] == nth else 0
        try:
            return run(backend, query, params, qname, **kw)
        finally:
            armed[0] = 0

    def execute_(backend: EmbeddedBackend, *args: Any) -> Any:
        if not (armed[0] and args and args[0] == command):
            return send(backend, *args)
        armed[0] -= 1
        assert backend.server is not None and backend.server.pid is not None
        pid = backend.server.pid
        if applied:
            send(backend, *args)  # applied and logged; its reply is dropped below
        killed.append(pid)
        kill_pid(pid)
        return send(backend, "PING")  # a real ConnectionError: the reply never comes

    monkeypatch.setattr(EmbeddedBackend, "_run", run_)
    monkeypatch.setattr(EmbeddedBackend, "_execute", execute_)
    return killed


def _call_losing_its_reply(
    monkeypatch: pytest.MonkeyPatch, applied: bool, call: Callable[[], object]
) -> None:
    """``call`` (one write) with its reply lost: it returns when the write was ``applied`` (read
    back), and raises EngineUnavailableError when it was not; one server was killed."""
    killed = _lose_reply(monkeypatch, applied=applied)
    if applied:
        call()
    else:
        with pytest.raises(EngineUnavailableError):
            call()
    monkeypatch.undo()
    assert len(killed) == 1


def _types(store: LineageStore) -> None:
    """Every type the tests use, registered first: the run's first node write is its entry."""
    store.put_artifact_type(ArtifactType(name="Data"))
    store.put_artifact_type(ArtifactType(name="Model"))
    store.put_execution_type(ExecutionType(name="Train"))
    store.put_context_type(ContextType(name="Experiment"))


def _a_run_that_fails_to_start(
    store: LineageStore,
) -> tuple[list[int], pytest.ExceptionInfo[EngineUnavailableError]]:
    """Enter a run that must raise EngineUnavailableError; ``body`` holds 1 if its body ran."""
    body: list[int] = []
    with (
        pytest.raises(EngineUnavailableError) as info,
        store.run("Train", context="exp-1", cache=False),
    ):
        body.append(1)
    return body, info


def _assert_one_complete_run_with(store: LineageStore, model: Artifact) -> None:
    """One Train run, COMPLETE without an error, and ``model`` is its stored output."""
    [execution] = store.get_executions_by_type("Train")
    assert execution.last_known_state == ExecutionState.COMPLETE
    assert "error" not in execution.custom_properties
    [stored] = store.get_artifacts_by_type("Model")
    assert model.id == stored.id and model.uri == "/m"
    assert_healthy(store)


def _stored_data_and_train_step(
    store: LineageStore,
) -> tuple[Artifact, list[int], Callable[[Artifact], Artifact]]:
    """The types, a stored input ``/d``, and a step ``Train`` counting its calls in ``calls``."""
    _types(store)
    [data_id] = store.put_artifacts([Artifact(type="Data", uri="/d")])
    [data] = store.get_artifacts_by_id([data_id])
    calls: list[int] = []

    @store.step("Train")
    def train(data: Artifact) -> Artifact:
        calls.append(1)
        return Artifact(type="Model", uri="/m")

    return data, calls, train


def test_a_run_whose_entry_reply_is_lost_goes_on_with_the_stored_execution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry write (execution RUNNING, a new input, a new context) was applied and its
    reply lost: the run raised EngineUnavailableError and never learnt the execution's id, so
    the execution stayed RUNNING for ever (a retry recorded a second execution and a second
    copy of the input). The ids were allocated by the client: the run reads them back, finds
    the write applied, and goes on; its body runs once and it completes."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        killed = _lose_reply(monkeypatch)
        given = Artifact(type="Data", uri="/d")
        with store.run("Train", inputs=[given], context="exp-1", cache=False) as run:
            model = run.output(Artifact(type="Model", uri="/m"))
        monkeypatch.undo()
        assert len(killed) == 1  # the entry's reply was lost
        [execution] = store.get_executions_by_type("Train")
        assert (execution.id, execution.last_known_state) == (run.id, ExecutionState.COMPLETE)
        assert [a.uri for a in store.get_artifacts_by_type("Data")] == ["/d"]  # no copy
        assert given.id is not None and [a.id for a in run.inputs] == [given.id]
        assert [c.name for c in run.contexts] == ["exp-1"]
        assert [e.artifact_id for e in store.get_events_by_execution_ids([run.id])] == [
            given.id,
            model.id,
        ]
        assert_healthy(store)
    record("lost replies: run entry applied", restarts=len(killed))


def test_a_step_whose_entry_reply_is_lost_runs_once_and_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """@step: the call returned EngineUnavailableError with an execution stored RUNNING that
    nobody could name; now it returns the model, with one COMPLETE execution."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        [data_id] = store.put_artifacts([Artifact(type="Data", uri="/d")])
        [data] = store.get_artifacts_by_id([data_id])
        calls: list[int] = []

        @store.step("Train", cache=True)
        def train(data: Artifact) -> Artifact:
            calls.append(1)
            return Artifact(type="Model", uri="/m")

        killed = _lose_reply(monkeypatch)
        model = train(data)
        monkeypatch.undo()
        assert len(killed) == 1 and calls == [1]
        [execution] = store.get_executions_by_type("Train")
        assert execution.last_known_state == ExecutionState.COMPLETE
        assert train(data).id == model.id and calls == [1]  # the completed run is a cache hit
        assert_healthy(store)


def test_a_run_whose_entry_was_not_applied_says_so_and_names_its_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server died before the entry write ran: nothing is stored, the error says the run
    did not start and names the execution id it would have had (never given to another)."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        _lose_reply(monkeypatch, applied=False)
        body, info = _a_run_that_fails_to_start(store)
        monkeypatch.undo()
        assert body == [] and info.value.retryable
        assert info.value.new_ids is not None
        [eid] = info.value.new_ids["Execution"]
        assert store.get_executions_by_id([eid]) == []
        notes = "\n".join(getattr(info.value, "__notes__", []))
        assert "did not start" in notes and "were not stored when read" in notes
        with store.run("Train", context="exp-1", cache=False) as run:  # the retry
            pass
        assert run.id > eid  # the in-doubt id stays spent
        assert [e.id for e in store.get_executions_by_type("Train")] == [run.id]
        assert_healthy(store)


def test_a_run_whose_completion_reply_is_lost_ends_complete_with_its_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The completion (COMPLETE with a new output) was applied and its reply lost: the run
    raised EngineUnavailableError over a run stored COMPLETE, its output's id stayed None,
    and a step called again recorded the work twice (a second execution and model). The run
    reads its execution back, finds it COMPLETE with the output, and ends normally."""
    with LineageStore.open(tmp_path / "s") as store:
        data, calls, train = _stored_data_and_train_step(store)

        killed = _lose_reply(monkeypatch, nth=2)  # the entry's write, then the completion's
        model = train(data)
        monkeypatch.undo()
        assert len(killed) == 1 and calls == [1]
        _assert_one_complete_run_with(store, model)


def test_a_run_whose_completion_was_not_applied_is_recorded_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server died before the completion ran: the run is recorded FAILED with the error
    (no output), the error names the output id it would have had."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        _lose_reply(monkeypatch, nth=2, applied=False)
        run = store.run("Train", cache=False)
        with pytest.raises(EngineUnavailableError) as info, run:
            run.output(Artifact(type="Model", uri="/m"))
        monkeypatch.undo()
        assert info.value.new_ids is not None
        [aid] = info.value.new_ids["Artifact"]
        assert store.get_artifacts_by_id([aid]) == []
        [execution] = store.get_executions_by_type("Train")
        assert execution.last_known_state == ExecutionState.FAILED
        assert execution.custom_properties["error_type"] == "EngineUnavailableError"
        assert_healthy(store)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_put_execution_whose_reply_is_lost_returns_or_names_its_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """put_execution / put_lineage_subgraph return ids the caller needs (to link the next
    step). Lost with the reply, they were gone: the call raised, and a retry stored every node
    twice, silently. Applied, the write is found (one of its client-allocated ids read back
    once the engine answers) and the call returns its ids; not applied, the error carries the
    ids by kind and the call's would-be result."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        [data] = store.put_artifacts([Artifact(type="Data", uri="/d")])
        killed = _lose_reply(monkeypatch, applied=applied)

        def call() -> tuple[int, list[int], list[int]]:
            return store.put_execution(
                Execution(type="Train"),
                [
                    (Artifact(id=data), Event(type=EventType.INPUT)),
                    (Artifact(type="Model", uri="/m"), Event(type=EventType.OUTPUT)),
                ],
                [],
            )

        if applied:
            eid, aids, cids = call()
        else:
            with pytest.raises(EngineUnavailableError) as info:
                call()
            exc = info.value
            assert exc.retryable and isinstance(exc.in_doubt_result, tuple)
            eid, aids, cids = exc.in_doubt_result
            assert exc.new_ids == {"Artifact": (aids[1],), "Execution": (eid,)}
            assert f"execution ids {eid}" in "\n".join(getattr(exc, "__notes__", []))
        monkeypatch.undo()
        assert len(killed) == 1 and aids[0] == data and cids == []
        assert len(store.get_executions_by_id([eid])) == (1 if applied else 0)
        assert len(store.get_artifacts_by_id([aids[1]])) == (1 if applied else 0)
        if applied:
            events = store.get_events_by_execution_ids([eid])
            assert sorted(e.artifact_id for e in events) == sorted(aids)
        else:
            again = call()  # the retry: new ids, the in-doubt ones stay spent
            assert again[0] > eid and again[1][1] > aids[1]
        assert store.count(NodeKind.EXECUTION) == 1
        assert_healthy(store)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_mlmd_put_execution_whose_reply_is_lost_returns_or_names_its_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """The MLMD adapter: applied, put_execution returns its ids (a pipeline's retry of the
    step stored it twice); not applied, UnavailableError carries them (attributes and
    message)."""
    pytest.importorskip("ml_metadata")
    from ml_metadata import errors
    from ml_metadata.proto import metadata_store_pb2 as pb

    from lineage_graph.mlmd import MetadataStore

    native = LineageStore.open(tmp_path / "s")
    mlmd = MetadataStore(native)
    try:
        et = mlmd.put_execution_type(pb.ExecutionType(name="Train"))
        at = mlmd.put_artifact_type(pb.ArtifactType(name="Model"))
        _lose_reply(monkeypatch, applied=applied)

        def call() -> Any:
            return mlmd.put_execution(
                pb.Execution(type_id=et),
                [(pb.Artifact(type_id=at, uri="/m"), pb.Event(type=pb.Event.OUTPUT))],
                [],
            )

        if applied:
            eid, [aid], _ = call()
        else:
            with pytest.raises(errors.UnavailableError) as info:
                call()
            eid, [aid], _ = info.value.in_doubt_result
            assert info.value.new_ids == {"Artifact": (aid,), "Execution": (eid,)}
            assert f"execution ids {eid}" in str(info.value)
        monkeypatch.undo()
        stored = mlmd.get_executions_by_id([eid])
        assert len(stored) == (1 if applied else 0)
        if applied:
            assert [e.artifact_id for e in mlmd.get_events_by_execution_ids([eid])] == [aid]
        assert native.count(NodeKind.EXECUTION) == (1 if applied else 0)
    finally:
        native.close()


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_put_events_whose_reply_is_lost_returns_when_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """put_events creates no node to read back: lost with its reply, it raised even when
    applied, and the natural retry then said AlreadyExistsError ("events are immutable") for
    the events the first call had stored. Its first event is read back with the microsecond its
    write was prepared (``seq``): applied, the call returns; not applied, it raises, and the
    retry stores the events once."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        data, model = store.put_artifacts(
            [Artifact(type="Data", uri="/d"), Artifact(type="Model", uri="/m")]
        )
        [run] = store.put_executions([Execution(type="Train")])
        events = [
            Event(artifact_id=data, execution_id=run, type=EventType.INPUT),
            Event(artifact_id=model, execution_id=run, type=EventType.OUTPUT),
        ]
        _call_losing_its_reply(monkeypatch, applied, lambda: store.put_events(events))
        assert len(store.get_events_by_execution_ids([run])) == (2 if applied else 0)
        if not applied:
            store.put_events(events)  # the retry
        stored = store.get_events_by_execution_ids([run])
        assert [(e.artifact_id, e.type) for e in stored] == [
            (data, EventType.INPUT),
            (model, EventType.OUTPUT),
        ]
        assert_healthy(store)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_put_links_whose_reply_is_lost_returns_when_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """put_attributions_and_associations likewise: a link keeps ``seq`` from its creation, so a
    lost reply is told apart from a link that was there before (the call links one new pair and
    one stored already)."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        [data] = store.put_artifacts([Artifact(type="Data", uri="/d")])
        [run] = store.put_executions([Execution(type="Train")])
        [exp] = store.put_contexts([Context(type="Experiment", name="exp-1")])
        store.put_attributions_and_associations([Attribution(artifact_id=data, context_id=exp)], [])

        def call() -> None:
            store.put_attributions_and_associations(
                [Attribution(artifact_id=data, context_id=exp)],
                [Association(execution_id=run, context_id=exp)],
            )

        _call_losing_its_reply(monkeypatch, applied, call)
        members = store.get_executions_by_context(exp)
        assert [e.id for e in members] == ([run] if applied else [])
        if not applied:
            call()
            assert [e.id for e in store.get_executions_by_context(exp)] == [run]
        assert_healthy(store)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_put_parent_contexts_whose_reply_is_lost_returns_when_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """put_parent_contexts creates no node either: lost with its reply, it raised even when
    applied, and the natural retry said AlreadyExistsError ("context 2 already has parent 1").
    A parent link keeps ``seq`` from its creation: applied, the call returns; not applied, it
    raises, and the retry links the contexts once."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        exp, run, other = store.put_contexts(
            [Context(type="Experiment", name=n) for n in ("exp", "run", "other")]
        )
        store.put_parent_contexts([ParentContext(child_id=other, parent_id=exp)])
        links = [
            ParentContext(child_id=run, parent_id=exp),
            ParentContext(child_id=other, parent_id=run),
        ]
        _call_losing_its_reply(monkeypatch, applied, lambda: store.put_parent_contexts(links))
        parents = [c.id for c in store.get_parent_contexts_by_context(run)]
        assert parents == ([exp] if applied else [])
        if not applied:
            store.put_parent_contexts(links)  # the retry
        assert [c.id for c in store.get_parent_contexts_by_context(run)] == [exp]
        assert sorted(c.id for c in store.get_parent_contexts_by_context(other)) == [exp, run]
        assert_healthy(store)


def test_apply_retention_retried_after_a_lost_reply_archives_each_node_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply_retention whose batch was applied but whose reply was lost raises
    EngineUnavailableError: the caller applies the plan again (the batches are idempotent). The
    archive then got a second record of every tombstoned node, the tombstone itself (no uri,
    DELETED), after the node's real record: a restore taking the latest record per node lost
    the data. A node that is a tombstone already is not archived again."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        old = store.put_artifacts([Artifact(type="Data", uri=f"/old/{i}") for i in range(3)])
        [cut] = [a.create_time_since_epoch for a in store.get_artifacts_by_id([old[-1]])]
        new = store.put_artifacts([Artifact(type="Model", uri="/new")])
        for a in old:  # each old artifact feeds a step that made the new model: tombstoned
            store.put_execution(
                Execution(type="Train"),
                [
                    (Artifact(id=a), Event(type=EventType.INPUT)),
                    (Artifact(id=new[0]), Event(type=EventType.OUTPUT)),
                ],
            )
        plan = store.plan_retention(created_before=(cut or 0) + 1, types=["Data"])
        assert plan.tombstone_artifacts == tuple(old)
        archive = tmp_path / "archive.jsonl"
        killed = _lose_reply(monkeypatch, "retention/apply", nth=2)
        with pytest.raises(EngineUnavailableError):
            store.apply_retention(plan, archive=archive, batch_size=2)
        monkeypatch.undo()
        assert len(killed) == 1
        again = store.apply_retention(plan, archive=archive, batch_size=2)  # the retry
        assert again.tombstoned_artifacts == ()  # the lost batch had been applied
        records = list(store.read_retention_archive(archive))
        assert sorted(r.node.id or 0 for r in records) == old  # each once
        assert {r.node.uri for r in records} == {f"/old/{i}" for i in range(3)}
        assert {a.uri for a in store.get_artifacts_by_id(old)} == {None}
        assert_healthy(store)


@pytest.mark.parametrize(
    ("query", "nth"),
    [("graph/write", 1), ("tracker/claim_version", 1), ("graph/write", 2)],
    ids=["context", "claim", "registration"],
)
def test_register_model_retried_after_a_lost_reply_registers_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str, nth: int
) -> None:
    """register_model is three writes (the model's context, the version claim, the
    registration): whichever reply is lost (applied), the call returns (the context write, or
    the registration's link to it, is found applied) or raises (the claim), and the same call
    again returns the one version, with no second number claimed and no second context."""
    with LineageStore.open(tmp_path / "s") as store:
        store.put_artifact_type(ArtifactType(name="Model"))
        model, other = store.put_artifacts(
            [Artifact(type="Model", uri="/m"), Artifact(type="Model", uri="/o")]
        )
        tracker = store.tracker
        killed = _lose_reply(monkeypatch, query, nth=nth)
        if query == "graph/write":  # the context it creates, or the model's link to it
            assert tracker.register_model(model, "churn").version == 1  # read back: returns
        else:  # a claim: nothing to read back, the call raises
            with pytest.raises(EngineUnavailableError):
                tracker.register_model(model, "churn")
        monkeypatch.undo()
        assert len(killed) == 1
        assert tracker.register_model(model, "churn").version == 1  # the retry
        assert tracker.register_model(other, "churn").version == 2  # no number lost
        assert [v.id for v in tracker.model_versions("churn")] == [model, other]
        assert len(store.get_contexts()) == 1
        assert_healthy(store)


def test_a_run_whose_entry_cannot_be_read_back_is_closed_not_left_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry write was acknowledged, then the engine died under the read of the stored
    execution (and under its retry): the run raised from its entry and left the execution
    RUNNING for ever, under an id the caller never got. It is recorded FAILED now (written only
    while RUNNING, once the engine answers), and the error names it."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        killed = _lose_reply(
            monkeypatch, "executions/get_by_ids", applied=False, write=False, times=2
        )
        body, info = _a_run_that_fails_to_start(store)
        monkeypatch.undo()
        assert len(killed) == 2 and body == []
        [execution] = store.get_executions_by_type("Train")
        assert execution.last_known_state == ExecutionState.FAILED
        assert execution.custom_properties["error_type"] == "EngineUnavailableError"
        notes = "\n".join(getattr(info.value, "__notes__", []))
        assert f"execution {execution.id}" in notes
        assert_healthy(store)


def test_a_run_whose_completion_cannot_be_read_back_still_ends_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The completion was acknowledged, then the engine died under the read of the stored
    outputs (and its retry): the run raised over a COMPLETE run (its failure could not be
    written over it) and the output's id stayed None, so a step called again did the work
    twice. The run ends normally now: COMPLETE, with the ids the write gave."""
    with LineageStore.open(tmp_path / "s") as store:
        data, calls, train = _stored_data_and_train_step(store)

        # the start's check of its input, the entry's read of it, then the completion's read of
        # its output
        killed = _lose_reply(
            monkeypatch, "artifacts/get_by_ids", nth=3, applied=False, write=False, times=2
        )
        model = train(data)
        monkeypatch.undo()
        assert len(killed) == 2 and calls == [1]
        _assert_one_complete_run_with(store, model)


def test_a_write_whose_server_dies_again_as_it_restarts_keeps_its_ids_spent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write was applied, its server SIGKILLed before the reply, and the new server killed
    while it started (a crash loop; on a full disk the new server exits as it starts,
    test_disk_full.py). The failed restart escaped as EngineError (not retryable) and the write
    gave its new ids back: the next write stored another artifact under the id of the one
    applied (two artifacts, one id), and was read back as "applied" on the wrong node. Seen with
    random server SIGKILLs alone: 1 duplicate id of each kind in ~1,200 mixed writes and 81
    kills. The write is in doubt now (retryable, naming its ids) and its ids stay spent."""
    from lineage_graph.backends._falkordb_server import ServerProcess

    wait_ready = ServerProcess._wait_ready
    starts: list[int] = []

    def killed_as_it_starts(server: ServerProcess, workdir: Path) -> None:
        assert server.pid is not None
        starts.append(server.pid)
        kill_pid(server.pid)  # the new server dies before it answers
        wait_ready(server, workdir)

    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        [first] = store.put_artifacts([Artifact(type="Data", uri="/first")])
        killed = _lose_reply(monkeypatch, applied=True)
        monkeypatch.setattr(ServerProcess, "_wait_ready", killed_as_it_starts)
        with pytest.raises(EngineUnavailableError) as info:
            store.put_artifacts([Artifact(type="Data", uri="/applied")])
        monkeypatch.undo()
        assert len(killed) == 1 and len(starts) >= 1
        assert info.value.retryable and "could not be restarted" in str(info.value)
        assert info.value.new_ids is not None
        [applied] = info.value.new_ids["Artifact"]
        assert_ids_stay_spent(store, first, applied)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_an_impact_mark_whose_reply_is_lost_is_made_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """impact(mark=...) whose statement was applied and its reply lost raised
    EngineUnavailableError (with the token), and the natural retry stacked a second mark on the
    first: two undo records, and one undo left the artifacts marked. The mark is read back by
    its token: applied, the call returns its report; not applied, it raises with the token,
    and the retry marks once."""
    from lineage_graph import ArtifactState, ImpactMark, NodeRef

    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        [source] = store.put_artifacts([Artifact(type="Data", uri="/d")])
        store.put_execution(
            Execution(type="Train"),
            [
                (Artifact(id=source), Event(type=EventType.INPUT)),
                (Artifact(type="Model", uri="/m"), Event(type=EventType.OUTPUT)),
            ],
        )
        start = NodeRef(NodeKind.ARTIFACT, source)
        mark = ImpactMark(state=ArtifactState.ABANDONED)
        killed = _lose_reply(monkeypatch, "lineage/mark", applied=applied)
        if applied:
            report = store.impact(start, mark=mark)
        else:
            with pytest.raises(EngineUnavailableError) as info:
                store.impact(start, mark=mark)
            assert info.value.retryable and info.value.mark_token is not None
            with pytest.raises(NotFoundError):  # nothing to undo: it was not applied
                store.undo_impact_mark(info.value.mark_token)
        monkeypatch.undo()
        assert len(killed) == 1
        if not applied:
            report = store.impact(start, mark=mark)  # the retry
        assert report.mark_token is not None and report.marked == 2
        marks = store.backend.read("MATCH (m:ImpactMark) RETURN m.key AS k", name="tests/marks")
        assert [r["k"] for r in marks] == [report.mark_token]  # one mark
        assert {a.state for a in store.get_artifacts()} == {ArtifactState.ABANDONED}
        assert store.undo_impact_mark(report.mark_token) == 2
        assert ArtifactState.ABANDONED not in {a.state for a in store.get_artifacts()}
        assert_healthy(store)


def test_a_write_whose_server_cannot_restart_for_its_socket_keeps_its_ids_spent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, the restart failing before any server starts: no directory for its socket can
    be made (the temporary directory full, as the store's disk may be, or removed by a cleaner).
    That is ConfigurationError, which the write took as "not applied": it gave its new ids back,
    and the next write stored another artifact under the id of the one applied. In doubt now,
    as for any restart that fails."""
    import tempfile

    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        [first] = store.put_artifacts([Artifact(type="Data", uri="/first")])
        killed = _lose_reply(monkeypatch, applied=True)
        # Short: under a TMPDIR longer than /tmp (`mktemp -d`'s), a socket's path in tmp_path
        # did not fit, the restart took /tmp instead, and succeeded.
        removed = Path(tempfile.mkdtemp(prefix="lgrm-", dir="/tmp"))
        removed.rmdir()
        monkeypatch.setattr(tempfile, "tempdir", str(removed))
        with pytest.raises(EngineUnavailableError) as info:
            store.put_artifacts([Artifact(type="Data", uri="/applied")])
        monkeypatch.undo()
        assert len(killed) == 1
        assert info.value.retryable and "socket" in str(info.value)
        assert info.value.new_ids is not None
        [applied] = info.value.new_ids["Artifact"]
        assert_ids_stay_spent(store, first, applied)


def _in_doubt_unread(
    monkeypatch: pytest.MonkeyPatch, label: str, applied: bool, call: Callable[[], object]
) -> EngineUnavailableError:
    """``call`` (one write creating ``label`` nodes) with its reply lost, ``applied`` or not,
    and the read-back of its new ids failing too (the engine killed under the read and its
    retry): the error, naming the ids it would have created."""
    killed = _lose_reply(monkeypatch, applied=applied)
    _lose_reply(monkeypatch, f"{label}s/existing_ids", applied=False, write=False, times=2)
    with pytest.raises(EngineUnavailableError) as info:
        call()
    monkeypatch.undo()
    assert len(killed) == 1
    assert info.value.new_ids is not None and "could not be read" in str(info.value.__notes__)
    return info.value


def test_the_retry_of_a_keyed_write_in_doubt_recognises_its_own_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A context written, its reply lost and its read-back failed too: the natural retry, the
    same call, raised AlreadyExistsError for the name its own first write held ("held by
    context 1", the id the error had named). It returns that write's ids now, writing nothing;
    a retry whose own check meets the engine down again raises, naming the same ids."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        exp = Context(type="Experiment", name="exp-1")
        error = _in_doubt_unread(monkeypatch, "context", True, lambda: store.put_contexts([exp]))
        [spent] = error.new_ids["Context"]  # type: ignore[index]
        _lose_reply(monkeypatch, "contexts/existing_ids", applied=False, write=False, times=2)
        with pytest.raises(EngineUnavailableError) as again:
            store.put_contexts([exp])  # the engine down again: still in doubt
        monkeypatch.undo()
        assert again.value.new_ids == {"Context": (spent,)}
        assert store.put_contexts([exp]) == [spent]
        assert [c.id for c in store.get_contexts()] == [spent]
        assert_healthy(store)


def test_the_retry_of_a_write_in_doubt_stores_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same with nodes that have no unique key: the retry stored every new node a second
    time (two executions and two outputs for one run). It returns the first write's ids; the
    same call made again afterwards is a new write."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        call = (
            Execution(type="Train"),
            [(Artifact(type="Model", uri="/m"), Event(type=EventType.OUTPUT))],
        )
        error = _in_doubt_unread(monkeypatch, "execution", True, lambda: store.put_execution(*call))
        assert store.put_execution(*call) == error.in_doubt_result
        assert len(store.get_executions()) == 1 and len(store.get_artifacts()) == 1
        _, [model], _ = store.put_execution(*call)  # the same call again: a new write
        assert model not in error.new_ids["Artifact"]  # type: ignore[index]
        assert len(store.get_executions()) == 2
        assert_healthy(store)


def test_the_retry_of_a_write_in_doubt_not_applied_writes_it_under_new_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not applied (the server killed before the write was sent) and not readable: the retry
    finds none of its ids stored and writes, under new ids (the first's stay spent)."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        data = [Artifact(type="Data", uri="/d", external_id="d")]
        error = _in_doubt_unread(monkeypatch, "artifact", False, lambda: store.put_artifacts(data))
        [stored] = store.put_artifacts(data)
        assert (stored,) != error.new_ids["Artifact"]  # type: ignore[index]
        assert [a.id for a in store.get_artifacts()] == [stored]
        assert_healthy(store)


def _in_doubt_unread_by(
    monkeypatch: pytest.MonkeyPatch,
    read: str,
    applied: bool,
    call: Callable[[], object],
    *,
    nth: int = 1,
) -> EngineUnavailableError:
    """``call`` (one write that creates no node) with its reply lost, ``applied`` or not, and
    its read-back, the ``nth`` read ``read`` from now on, failing too (the engine killed under
    the read and its retry): the error."""
    killed = _lose_reply(monkeypatch, applied=applied)
    _lose_reply(monkeypatch, read, nth=nth, applied=False, write=False, times=2)
    with pytest.raises(EngineUnavailableError) as info:
        call()
    monkeypatch.undo()
    assert len(killed) == 1
    return info.value


def _a_run_with_its_ends(store: LineageStore) -> tuple[int, int, int]:
    """The types, artifacts ``/d`` and ``/m`` and a Train execution, stored."""
    _types(store)
    data, model = store.put_artifacts(
        [Artifact(type="Data", uri="/d"), Artifact(type="Model", uri="/m")]
    )
    [run] = store.put_executions([Execution(type="Train")])
    return data, model, run


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_the_retry_of_put_events_in_doubt_recognises_its_own_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """put_events with its reply lost and its read-back failed too: the natural retry raised
    AlreadyExistsError ("events are immutable") for the events its own first call had stored.
    It returns now, writing nothing (applied), or stores them (not applied); a retry whose own
    check meets the engine down again raises again. The same call made once more afterwards is
    a new write, refused as MLMD refuses a stored event."""
    with LineageStore.open(tmp_path / "s") as store:
        data, model, run = _a_run_with_its_ends(store)
        events = [
            Event(artifact_id=data, execution_id=run, type=EventType.INPUT),
            Event(artifact_id=model, execution_id=run, type=EventType.OUTPUT),
        ]
        read = "events/get_by_execution_ids"
        _in_doubt_unread_by(monkeypatch, read, applied, lambda: store.put_events(events))
        _lose_reply(monkeypatch, read, applied=False, write=False, times=2)
        with pytest.raises(EngineUnavailableError):
            store.put_events(events)  # the engine down again: still in doubt
        monkeypatch.undo()
        assert store.put_events(events) is None  # the retry
        stored = store.get_events_by_execution_ids([run])
        assert [(e.artifact_id, e.type) for e in stored] == [
            (data, EventType.INPUT),
            (model, EventType.OUTPUT),
        ]
        with pytest.raises(AlreadyExistsError):
            store.put_events(events)  # a new write of stored events
        assert_healthy(store)


@pytest.mark.parametrize("unread", [False, True], ids=["read-back", "unread"])
def test_put_events_in_doubt_says_a_retry_stores_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unread: bool
) -> None:
    """put_events whose write was lost before it ran (and, ``unread``, whose read-back failed
    too): the error said the engine's "retry the call" alone, with no word on whether the write
    landed or whether a retry could store its events twice. Its note says what is known: no
    node is created, the events were not found (or could not be read), and a retry stores
    nothing twice; the retry stores them once."""
    with LineageStore.open(tmp_path / "s") as store:
        data, model, run = _a_run_with_its_ends(store)
        events = [
            Event(artifact_id=data, execution_id=run, type=EventType.INPUT),
            Event(artifact_id=model, execution_id=run, type=EventType.OUTPUT),
        ]
        if unread:
            error = _in_doubt_unread_by(
                monkeypatch, "events/get_by_execution_ids", False, lambda: store.put_events(events)
            )
        else:
            _lose_reply(monkeypatch, applied=False)
            with pytest.raises(EngineUnavailableError) as info:
                store.put_events(events)
            monkeypatch.undo()
            error = info.value
        notes = " ".join(getattr(error, "__notes__", []))
        assert "may have been applied" in notes and "creates no node" in notes, notes
        found = "could not be read" if unread else "it was not stored when read just after"
        assert found in notes, notes
        assert "Retrying it is safe: nothing of it is stored twice" in notes, notes
        assert error.new_ids is None
        store.put_events(events)  # the retry
        assert len(store.get_events_by_execution_ids([run])) == 2
        assert_healthy(store)


def test_an_update_in_doubt_does_not_say_a_repeat_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A native update whose reply was lost after it ran (nothing it writes tells whether it
    landed): its note said "an update repeated changes nothing", but the retry through the
    native API moves the node's last_update_time_since_epoch again. It now says so."""
    with LineageStore.open(tmp_path / "s") as store:
        data, _, _ = _a_run_with_its_ends(store)
        [artifact] = store.get_artifacts_by_id([data])
        changed = artifact.model_copy(update={"uri": "/d2"})
        _lose_reply(monkeypatch, applied=True)
        with pytest.raises(EngineUnavailableError) as info:
            store.put_artifacts([changed])
        monkeypatch.undo()
        notes = " ".join(getattr(info.value, "__notes__", []))
        assert "creates no node" in notes and "nothing it writes tells" in notes, notes
        assert "an update repeated changes nothing" not in notes, notes
        assert "through the native API its last_update_time_since_epoch moves again" in notes
        [landed] = store.get_artifacts_by_id([data])
        assert landed.uri == "/d2"
        store.put_artifacts([changed])  # the retry
        [after] = store.get_artifacts_by_id([data])
        assert after.uri == "/d2"
        assert after.last_update_time_since_epoch != landed.last_update_time_since_epoch
        assert_healthy(store)


def test_the_retry_of_put_execution_adding_events_in_doubt_recognises_its_own_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """put_execution of a stored execution and stored artifact, adding an event (no node
    created): reply lost, read-back failed, the retry raised AlreadyExistsError for its own
    event. It returns the first call's ids now."""
    with LineageStore.open(tmp_path / "s") as store:
        data, _, run = _a_run_with_its_ends(store)
        [execution] = store.get_executions_by_id([run])
        [artifact] = store.get_artifacts_by_id([data])
        call = (execution, [(artifact, Event(type=EventType.INPUT))])
        read = "events/get_by_execution_ids"
        error = _in_doubt_unread_by(monkeypatch, read, True, lambda: store.put_execution(*call))
        assert error.in_doubt_result == (run, [data], [])
        assert store.put_execution(*call) == (run, [data], [])
        assert [e.artifact_id for e in store.get_events_by_execution_ids([run])] == [data]
        assert_healthy(store)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_the_retry_of_put_parent_contexts_in_doubt_recognises_its_own_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    """put_parent_contexts likewise: the retry said AlreadyExistsError ("context 2 already has
    parent 1") for the link its own first call had stored. It returns now (applied) or links
    them (not applied); once more afterwards is a new write, refused as MLMD refuses it."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        exp, run = store.put_contexts([Context(type="Experiment", name=n) for n in ("e", "r")])
        links = [ParentContext(child_id=run, parent_id=exp)]
        # the write's own check reads the links first (1st read), its read-back next (2nd)
        read = "contexts/get_parent_links"
        call = lambda: store.put_parent_contexts(links)  # noqa: E731
        _in_doubt_unread_by(monkeypatch, read, applied, call, nth=2)
        assert store.put_parent_contexts(links) is None  # the retry
        assert [c.id for c in store.get_parent_contexts_by_context(run)] == [exp]
        with pytest.raises(AlreadyExistsError):
            store.put_parent_contexts(links)  # a new write of a stored link
        assert_healthy(store)


def test_the_retry_of_links_in_doubt_links_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """put_attributions_and_associations is safe to repeat as it is (an existing link is a
    no-op, as in MLMD): the retry of one in doubt and unread returns, one link each."""
    with LineageStore.open(tmp_path / "s") as store:
        data, _, run = _a_run_with_its_ends(store)
        [exp] = store.put_contexts([Context(type="Experiment", name="exp-1")])

        def call() -> None:
            store.put_attributions_and_associations(
                [Attribution(artifact_id=data, context_id=exp)],
                [Association(execution_id=run, context_id=exp)],
            )

        _in_doubt_unread_by(monkeypatch, "lineage/links", True, call)
        call()  # the retry
        call()  # and again
        assert [a.id for a in store.get_artifacts_by_context(exp)] == [data]
        assert [e.id for e in store.get_executions_by_context(exp)] == [run]
        assert_healthy(store)


def test_mlmd_the_retry_of_put_parent_contexts_in_doubt_recognises_its_own_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MLMD adapter's put_parent_contexts and put_events go through the store's: their
    retry (reply lost, read-back failed) returned AlreadyExistsError; it returns now."""
    pytest.importorskip("ml_metadata")
    from ml_metadata import errors
    from ml_metadata.proto import metadata_store_pb2 as pb

    from lineage_graph.mlmd import MetadataStore

    native = LineageStore.open(tmp_path / "s")
    mlmd = MetadataStore(native)
    try:
        ct = mlmd.put_context_type(pb.ContextType(name="Experiment"))
        et = mlmd.put_execution_type(pb.ExecutionType(name="Train"))
        at = mlmd.put_artifact_type(pb.ArtifactType(name="Model"))
        exp, run = mlmd.put_contexts([pb.Context(type_id=ct, name=n) for n in ("e", "r")])
        [eid] = mlmd.put_executions([pb.Execution(type_id=et)])
        [aid] = mlmd.put_artifacts([pb.Artifact(type_id=at, uri="/m")])
        links = [pb.ParentContext(child_id=run, parent_id=exp)]
        events = [pb.Event(artifact_id=aid, execution_id=eid, type=pb.Event.OUTPUT)]
        for read, nth, call in (
            ("contexts/get_parent_links", 2, lambda: mlmd.put_parent_contexts(links)),
            ("events/get_by_execution_ids", 1, lambda: mlmd.put_events(events)),
        ):
            killed = _lose_reply(monkeypatch, applied=True)
            _lose_reply(monkeypatch, read, nth=nth, applied=False, write=False, times=2)
            with pytest.raises(errors.UnavailableError):
                call()
            monkeypatch.undo()
            assert len(killed) == 1
            call()  # the retry
            with pytest.raises(errors.AlreadyExistsError):
                call()  # a new write
        assert [c.id for c in mlmd.get_parent_contexts_by_context(run)] == [exp]
        assert [e.artifact_id for e in mlmd.get_events_by_execution_ids([eid])] == [aid]
    finally:
        native.close()


def _a_source_and_its_output(store: LineageStore) -> Any:
    """The types, a stored ``/d`` read by a Train run that wrote ``/m``: the NodeRef of ``/d``."""
    from lineage_graph import NodeRef

    _types(store)
    [source] = store.put_artifacts([Artifact(type="Data", uri="/d")])
    store.put_execution(
        Execution(type="Train"),
        [
            (Artifact(id=source), Event(type=EventType.INPUT)),
            (Artifact(type="Model", uri="/m"), Event(type=EventType.OUTPUT)),
        ],
    )
    return NodeRef(NodeKind.ARTIFACT, source)


def _marks(store: LineageStore) -> list[str]:
    rows = store.backend.read("MATCH (m:ImpactMark) RETURN m.key AS k", name="tests/marks")
    return [r["k"] for r in rows]


def test_the_retry_of_an_impact_mark_in_doubt_marks_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """impact(mark=...) applied, its reply lost and its read-back failed too: it raised with
    the token, and the natural retry stacked a second mark on the first (two undo records, one
    undo left the artifacts marked). The retry finds the first mark and returns its report."""
    from lineage_graph import ArtifactState, ImpactMark

    with LineageStore.open(tmp_path / "s") as store:
        start = _a_source_and_its_output(store)
        mark = ImpactMark(state=ArtifactState.ABANDONED)
        killed = _lose_reply(monkeypatch, "lineage/mark", applied=True)
        _lose_reply(monkeypatch, "lineage/mark_applied", applied=False, write=False, times=2)
        with pytest.raises(EngineUnavailableError) as info:
            store.impact(start, mark=mark)
        monkeypatch.undo()
        assert len(killed) == 1
        token = info.value.mark_token
        report = store.impact(start, mark=mark)  # the retry
        assert report.mark_token == token and report.marked == 2
        assert _marks(store) == [token]
        assert store.undo_impact_mark(token) == 2
        assert ArtifactState.ABANDONED not in {a.state for a in store.get_artifacts()}
        assert_healthy(store)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (True, 1, False),
        (1, 1.0, False),
        (0.0, -0.0, False),
        (float("nan"), float("nan"), True),
    ],
    ids=["bool-then-int", "int-then-double", "zero-then-minus-zero", "nan-then-nan"],
)
def test_the_retry_of_an_impact_mark_in_doubt_compares_values_with_their_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: Any, second: Any, same: bool
) -> None:
    """The mark in doubt was compared with the next call's by ``==``: ``("q", 1)`` passed for a
    retry of ``("q", True)`` (the first mark's report returned, 1 never written: the artifacts
    kept True), and a NaN made again for another value (a second mark stacked on the first).
    Values compare as the store's retries compare them: with their type, floats by their bits."""
    from lineage_graph import ImpactMark

    with LineageStore.open(tmp_path / "s") as store:
        start = _a_source_and_its_output(store)
        _lose_reply(monkeypatch, "lineage/mark", applied=True)
        _lose_reply(monkeypatch, "lineage/mark_applied", applied=False, write=False, times=2)
        with pytest.raises(EngineUnavailableError) as info:
            store.impact(start, mark=ImpactMark(custom_property=("q", first)))
        monkeypatch.undo()
        token = info.value.mark_token
        report = store.impact(start, mark=ImpactMark(custom_property=("q", second)))
        assert (report.mark_token == token) == same
        assert len(_marks(store)) == (1 if same else 2)
        for a in store.get_artifacts():
            value = a.custom_properties["q"]
            assert type(value) is type(second)
            assert str(value) == str(second)  # -0.0, nan
        assert_healthy(store)


@pytest.mark.parametrize("unread", [False, True], ids=["read-back", "unread"])
def test_an_undo_whose_reply_is_lost_says_what_it_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unread: bool
) -> None:
    """undo_impact_mark applied, its reply lost: it raised EngineUnavailableError, and the
    natural retry said NotFoundError ("never made, or already undone") for the mark its own
    first call had undone. The undo is read back (its mark's record gone, the artifacts it
    restored holding its update time): the call returns what it restored; when that read
    fails too, it raises, and the retry returns it."""
    from lineage_graph import ArtifactState, ImpactMark

    with LineageStore.open(tmp_path / "s") as store:
        start = _a_source_and_its_output(store)
        token = store.impact(start, mark=ImpactMark(state=ArtifactState.ABANDONED)).mark_token
        assert token is not None
        killed = _lose_reply(monkeypatch, "lineage/unmark", applied=True)
        if unread:
            _lose_reply(monkeypatch, "lineage/unmark_applied", applied=False, write=False, times=2)
            with pytest.raises(EngineUnavailableError):
                store.undo_impact_mark(token)
            monkeypatch.undo()
            assert store.undo_impact_mark(token) == 2  # the retry
        else:
            assert store.undo_impact_mark(token) == 2
            monkeypatch.undo()
        assert len(killed) == 1
        assert _marks(store) == []
        assert ArtifactState.ABANDONED not in {a.state for a in store.get_artifacts()}
        with pytest.raises(NotFoundError):
            store.undo_impact_mark(token)  # a new call: nothing left to undo
        assert_healthy(store)


def test_an_undo_in_doubt_not_applied_is_made_by_the_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The undo's server killed before it was sent: it raises, and the retry undoes the mark."""
    from lineage_graph import ArtifactState, ImpactMark

    with LineageStore.open(tmp_path / "s") as store:
        start = _a_source_and_its_output(store)
        token = store.impact(start, mark=ImpactMark(state=ArtifactState.ABANDONED)).mark_token
        assert token is not None
        killed = _lose_reply(monkeypatch, "lineage/unmark", applied=False)
        with pytest.raises(EngineUnavailableError) as info:
            store.undo_impact_mark(token)
        monkeypatch.undo()
        assert len(killed) == 1 and "may have been applied" in str(info.value.__notes__)
        assert _marks(store) == [token]
        assert store.undo_impact_mark(token) == 2
        assert _marks(store) == []
        assert_healthy(store)


def test_the_retry_of_a_type_write_in_doubt_returns_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """put_artifact_type applied, its reply lost: the retry returns the stored type's id (a
    type of the same name and fields is the same type, as in MLMD), one type stored."""
    with LineageStore.open(tmp_path / "s") as store:
        t = ArtifactType(name="Data", properties={"n": PropertyType.INT})
        killed = _lose_reply(monkeypatch, "types/put_artifact_type", applied=True)
        try:
            first: int | None = store.put_artifact_type(t)
        except EngineUnavailableError:
            first = None
        monkeypatch.undo()
        assert len(killed) == 1
        again = store.put_artifact_type(t)
        assert first in (None, again)
        assert [x.id for x in store.get_types(NodeKind.ARTIFACT)] == [again]
        upgraded = ArtifactType(
            name="Data", properties={"n": PropertyType.INT, "m": PropertyType.STRING}
        )
        killed = _lose_reply(monkeypatch, "types/put_artifact_type", applied=True)
        with contextlib.suppress(EngineUnavailableError):
            store.put_artifact_type(upgraded, can_add_fields=True)
        monkeypatch.undo()
        assert store.put_artifact_type(upgraded, can_add_fields=True) == again
        [stored] = store.get_types(NodeKind.ARTIFACT)
        assert set(stored.properties) == {"n", "m"}


def test_the_retry_of_a_masked_update_in_doubt_writes_the_same_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update of a stored node (field mask) creates nothing to read back: applied, its
    reply lost, it raises; the retry writes the same values again, one artifact as asked."""
    with LineageStore.open(tmp_path / "s") as store:
        store.put_artifact_type(ArtifactType(name="Data", properties={"n": PropertyType.INT}))
        [a] = store.put_artifacts([Artifact(type="Data", uri="/x")])
        update = Artifact(id=a, uri="/y", properties={"n": 3})
        killed = _lose_reply(monkeypatch, applied=True)
        with pytest.raises(EngineUnavailableError):  # an update is not read back
            store.put_artifacts([update], field_mask_paths=["properties.n"])
        monkeypatch.undo()
        assert len(killed) == 1
        assert store.get_artifacts()[0].properties == {"n": 3}  # applied
        assert store.put_artifacts([update], field_mask_paths=["properties.n"]) == [a]
        [stored] = store.get_artifacts()
        assert (stored.uri, stored.properties) == ("/x", {"n": 3})
        assert_healthy(store)


def test_the_retry_of_a_deployment_in_doubt_records_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tracker.deploy is one put_execution (a new deployment execution and its input event):
    its reply lost and its read-back failed too, the retry returns the first write's
    execution, one deployment recorded."""
    with LineageStore.open(tmp_path / "s") as store:
        store.put_artifact_type(ArtifactType(name="Model"))
        [model] = store.put_artifacts([Artifact(type="Model", uri="/m")])
        tracker = store.tracker
        tracker.register_model(model, "churn")
        error = _in_doubt_unread(monkeypatch, "execution", True, lambda: tracker.deploy(model))
        [eid] = error.new_ids["Execution"]  # type: ignore[index]
        assert tracker.deploy(model) == eid  # the retry
        assert [e.id for e in tracker.deployments("churn")] == [eid]
        assert_healthy(store)
