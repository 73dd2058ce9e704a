"""Crash safety (issue 7.1): SIGKILL the server or the client in the middle of a long ingest.

One ingest of 100,500 entities by a writer process takes three server kills and two kills of
the writer itself (each resumed). Afterwards every write that returned to its caller is in the
store with the ids it returned, no execution lacks one of its events (each write is one atomic
statement), no relationship has wrong ends, ids are never handed out twice, and the id
sequences stay ahead of every stored id.
A write that was in flight when the kill came is in doubt: the writer finds out whether it was
applied (by its external ids) and retries it if not; it is never half there.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    EngineUnavailableError,
    LineageStore,
    NodeKind,
)
from lineage_graph.backends.embedded import EmbeddedBackend
from tests.reliability._integrity import assert_healthy, reconcile
from tests.reliability.conftest import (
    acks,
    kill_pid,
    record,
    server_pid,
    spawn_workload,
    stop,
    wait_for,
)

PER_WRITE = 100  # executions + artifacts per write: 201 entities with the run context
WRITES = 500  # 100,500 entities in all


def _finish(proc: object, timeout: float) -> None:
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(proc)
        raise AssertionError("the writer did not finish in time") from None
    assert code == 0, f"the writer failed with exit code {code}"


#: When to kill what, as fractions of the writes acknowledged: the server three times, the
#: writer (client) process twice; a killed writer is restarted with ``--resume``.
KILLS = ((0.15, "server"), (0.3, "client"), (0.45, "server"), (0.6, "client"), (0.75, "server"))


@pytest.mark.slow  # ~100k entities through the public API: minutes on a busy 2-core machine
def test_server_and_client_sigkills_during_a_100k_entity_ingest(tmp_path: Path) -> None:
    data = tmp_path / "store"
    log = tmp_path / "writer.log"
    args = ["--target", str(data), "--writes", str(WRITES), "--per-write", str(PER_WRITE)]
    proc = spawn_workload(*args, "--resume", log=log)
    server_kills, client_kills = [], []
    try:
        for fraction, victim in KILLS:
            wait_for(lambda f=fraction: acks(log) >= WRITES * f, 240, f"{fraction:.0%}", proc)
            if victim == "client":
                time.sleep(0.013)  # land somewhere inside the next write
                kill_pid(proc.pid)
                stop(proc)
                client_kills.append(acks(log))
                # The server outlives its client: what the client was told is already durable,
                # and the write it was in the middle of is all there or absent.
                with LineageStore.open(data) as store:
                    report = reconcile(store, log, 0)
                    assert not report.missing and not report.mismatched
                    assert_healthy(store)
                proc = spawn_workload(*args, "--resume", log=log)
                continue
            wait_for(lambda: server_pid(data) is not None, 30, "the server", proc)
            pid = server_pid(data)
            assert pid is not None
            server_kills.append(acks(log))
            kill_pid(pid)
            # The writer's next call restarts the server (a new pid) and carries on.
            wait_for(
                lambda p=pid: server_pid(data) not in (None, p), 60, "a restarted server", proc
            )
        _finish(proc, 300)
    finally:
        stop(proc)
    with LineageStore.open(data) as store:
        report = reconcile(store, log, 0)
        assert not report.missing, f"acknowledged writes lost: {report.missing[:10]}"
        assert not report.mismatched, f"acknowledged ids changed: {report.mismatched[:10]}"
        assert report.acknowledged == WRITES
        assert store.count(NodeKind.EXECUTION) == WRITES * PER_WRITE  # nothing twice
        assert store.count(NodeKind.ARTIFACT) == WRITES * PER_WRITE
        assert_healthy(store)
        # Ids continue after the highest one ever handed out, without reuse.
        store.put_artifact_type(ArtifactType(name="Data"))
        [new_id] = store.put_artifacts([Artifact(type="Data", uri="/after-crash")])
        assert new_id > max(report.artifact_ids)
        entities = store.count(NodeKind.EXECUTION) + store.count(NodeKind.ARTIFACT)
        entities += store.count(NodeKind.CONTEXT)
    record(
        "crash: server SIGKILL x3 + client SIGKILL x2 during ingest",
        entities=entities,
        writes=WRITES,
        acked_at_server_kills=server_kills,
        acked_at_client_kills=client_kills,
        **report.figures(),
    )


def test_server_killed_while_idle_then_both_kinds_of_call(tmp_path: Path) -> None:
    """Reads are retried on the restarted server; a write in doubt raises a retryable error."""
    with LineageStore.open(tmp_path / "s") as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        ids = store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(50)])
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend) and backend.server is not None
        for _ in range(3):
            kill_pid(backend.server.pid or 0)
            assert [a.id for a in store.get_artifacts()] == ids  # read: retried transparently
        # A restart makes the store read the graph's property keys before its next write (a
        # read, retried): this write makes the keys known again, so the next one is sent first.
        ids += store.put_artifacts([Artifact(type="Data", uri="/after-restarts")])
        kill_pid(backend.server.pid or 0)
        with pytest.raises(EngineUnavailableError) as info:
            store.put_artifacts([Artifact(type="Data", uri="/lost?")])
        assert info.value.retryable
        [again] = store.put_artifacts([Artifact(type="Data", uri="/retried")])
        assert again > max(ids)
        assert backend.server.restarts == 4
        assert_healthy(store)


#: A registration process that SIGKILLs itself right after its version claim
#: (tracker/claim_version), before the write that registers the model: a crash between the two.
_KILLED_AFTER_CLAIM = """
import os, signal, sys
from lineage_graph import LineageStore
store = LineageStore.open(sys.argv[1])
tracker = store.tracker
real = tracker._claims.write
def claim_then_die(*args, **kwargs):
    rows = real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
tracker._claims.write = claim_then_die
tracker.register_model(int(sys.argv[2]), "churn")
"""


def test_a_registration_killed_after_its_claim_is_registered_again_as_the_newest(
    tmp_path: Path,
) -> None:
    """A registration whose process died between its claim and its write left its claim (and a
    gap in the numbers, as documented). Registered again after another version, the artifact
    got its old number back: version 2 registered after version 3, so latest_version and
    previous_version no longer followed the order of registration. A claim below the versions
    registered since is stale now: the artifact gets the next number."""

    data = tmp_path / "store"
    with LineageStore.open(data) as store:
        store.put_artifact_type(ArtifactType(name="Model"))
        first, crashed, later = store.put_artifacts(
            [Artifact(type="Model", uri=f"/m/{i}") for i in range(3)]
        )
        tracker = store.tracker
        assert tracker.register_model(first, "churn").version == 1
        _run_killed(_KILLED_AFTER_CLAIM, data, crashed)
        assert [v.id for v in tracker.model_versions("churn")] == [first]  # nothing registered
        assert tracker.register_model(later, "churn").version == 3  # 2 stays unused
        again = tracker.register_model(crashed, "churn")
        assert again.version == 4
        assert tracker.latest_version("churn") == again
        assert [v.id for v in tracker.model_versions("churn")] == [first, later, crashed]
        assert_healthy(store)


def _run_killed(script: str, *args: object) -> None:
    """Run ``script`` in a child process that SIGKILLs itself (or is killed) on its way."""
    import subprocess
    import sys

    from tests.reliability.conftest import ROOT, child_env

    child = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -9, child.stderr.decode()[-2000:]


#: A process whose cached step is SIGKILLed in its body: after the entry write (RUNNING, with
#: its input), before the completion.
_KILLED_IN_STEP = """
import os, signal, sys
from lineage_graph import Artifact, LineageStore
store = LineageStore.open(sys.argv[1])
[data] = store.get_artifacts_by_id([int(sys.argv[2])])

@store.step("Train", cache=True)
def train(data: Artifact, lr: float = 0.1) -> Artifact:
    os.kill(os.getpid(), signal.SIGKILL)
    return Artifact(type="Model", uri="/never")

train(data)
"""


def test_a_step_killed_in_its_body_stays_running_and_is_never_a_cache_hit(
    tmp_path: Path,
) -> None:
    """What the next call sees after a run died between its entry and its completion: the
    execution stays RUNNING (nothing can tell a dead run from a slow one: no lease), with its
    input and no output; the same call again is no cache hit on it, runs, and completes."""
    from lineage_graph import ExecutionState

    data_dir = tmp_path / "store"
    with LineageStore.open(data_dir) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        [data_id] = store.put_artifacts([Artifact(type="Data", uri="/d")])
        _run_killed(_KILLED_IN_STEP, data_dir, data_id)
        [dead] = store.get_executions_by_type("Train")
        assert dead.last_known_state == ExecutionState.RUNNING
        events = store.get_events_by_execution_ids([dead.id or 0])
        assert [(e.artifact_id, e.type.is_output) for e in events] == [(data_id, False)]
        # by inputs the step recorded (keyed by parameter): the dead run is the nearest, no hit
        miss = store.find_cached_execution("Train", {"data": data_id})
        assert not miss.hit and miss.nearest is not None and miss.nearest.id == dead.id
        [data] = store.get_artifacts_by_id([data_id])
        calls = []

        @store.step("Train", cache=True)
        def train(data: Artifact, lr: float = 0.1) -> Artifact:
            calls.append(1)
            return Artifact(type="Model", uri="/model")

        model = train(data)
        assert calls == [1]  # no cache hit on the RUNNING execution: the body ran
        runs = {x.id: x.last_known_state for x in store.get_executions_by_type("Train")}
        assert runs[dead.id] == ExecutionState.RUNNING  # left as it was
        assert sorted(runs.values()) == [ExecutionState.RUNNING, ExecutionState.COMPLETE]
        assert train(data).id == model.id and calls == [1]  # the completed run is the hit
        assert_healthy(store)


#: A training script: it declares its dataset by name, and SIGKILLs itself in its run's body
#: when given "kill" (after the entry write created the dataset, before the completion).
_SCRIPT_DECLARING_ITS_DATASET = """
import os, signal, sys
from lineage_graph import Artifact, LineageStore
with LineageStore.open(sys.argv[1]) as store:
    data = Artifact(type="DataSet", uri="s3://data/train.csv", name="train")
    with store.run("Trainer", inputs=[data], context="exp-1", properties={"lr": 0.1}) as run:
        if sys.argv[2] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if run.cached:
            run.use_cached()
        else:
            run.output("Model", uri="s3://models/1", name="model-1")
"""


def test_a_script_killed_in_its_run_runs_again_on_the_dataset_it_declared(
    tmp_path: Path,
) -> None:
    """A script killed mid-run has created its named dataset (the entry write): run again, it
    raised AlreadyExistsError on that name, and every later run too. It records a new run on
    the same dataset now; the dead run stays RUNNING and is never the cache hit, the run after
    is the hit."""
    import subprocess
    import sys

    from lineage_graph import ExecutionState
    from tests.reliability.conftest import ROOT, child_env

    data_dir = tmp_path / "store"
    _run_killed(_SCRIPT_DECLARING_ITS_DATASET, data_dir, "kill")
    for _ in range(2):
        child = subprocess.run(
            [sys.executable, "-c", _SCRIPT_DECLARING_ITS_DATASET, str(data_dir), "run"],
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            timeout=120,
        )
        assert child.returncode == 0, child.stderr.decode()[-2000:]
    with LineageStore.open(data_dir) as store:
        [data] = store.get_artifacts_by_type("DataSet")
        runs = store.get_executions_by_type("Trainer")
        assert [x.last_known_state for x in runs] == [
            ExecutionState.RUNNING,  # the killed one, left as it was
            ExecutionState.COMPLETE,
            ExecutionState.CACHED,  # the hit is the completed run, not the dead one
        ]
        assert runs[2].custom_properties["cached_from_execution_id"] == runs[1].id
        for run in runs:
            inputs = [
                e.artifact_id
                for e in store.get_events_by_execution_ids([run.id or 0])
                if e.type.name == "INPUT"
            ]
            assert inputs == [data.id]
        assert [a.name for a in store.get_artifacts()] == ["train", "model-1"]
        assert_healthy(store)
