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

import os
import signal
import subprocess
import sys
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


#: A nightly script: its run is named for the day. ``kill``: SIGKILLed in the run's body;
#: ``hold``: stays in the body (once in, it writes its run's id to argv[3]: whole, by a rename, so
#: the file exists only with it) until argv[3] + ".go" exists (bounded); ``run``: completes.
#: Exit 3: its entry was refused (AlreadyExistsError, its message on stderr).
_NIGHTLY = """
import os, signal, sys, time
from pathlib import Path
from lineage_graph import AlreadyExistsError, Artifact, LineageStore
with LineageStore.open(sys.argv[1]) as store:
    data = Artifact(type="DataSet", uri="s3://data/train.csv", name="train")
    try:
        run = store.run("Trainer", name="nightly-2026-12-05", inputs=[data]).start()
    except AlreadyExistsError as exc:
        print(exc, *getattr(exc, "__notes__", []), file=sys.stderr)
        sys.exit(3)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if sys.argv[2] == "hold":
        Path(sys.argv[3] + ".tmp").write_text(str(run.id))
        os.replace(sys.argv[3] + ".tmp", sys.argv[3])
        deadline = time.monotonic() + 120
        while not Path(sys.argv[3] + ".go").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    run.output("Model", uri="s3://models/nightly")
    run.finish()
"""


def _nightly(data_dir: Path, mode: str, *more: str) -> subprocess.CompletedProcess[bytes]:
    from tests.reliability.conftest import ROOT, child_env

    return subprocess.run(
        [sys.executable, "-c", _NIGHTLY, str(data_dir), mode, *more],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        timeout=120,
    )


def _inputs_of(store: LineageStore, execution_id: int) -> list[tuple[int | None, bool]]:
    events = store.get_events_by_execution_ids([execution_id])
    return [(e.artifact_id, e.type.is_output) for e in events]


def test_a_named_run_killed_in_its_body_is_closed_by_its_rerun_which_takes_the_name(
    tmp_path: Path,
) -> None:
    """A run named ``nightly-2026-12-05`` whose process was SIGKILLed in its body held the name
    RUNNING for good: every re-run of the script raised AlreadyExistsError. The re-run (a new
    process) finds its owner dead on this host: the dead attempt is recorded FAILED and renamed
    ``<name>~attempt-<id>`` in one write, keeping its inputs and its owner, and the re-run takes
    the name and completes."""
    from lineage_graph import ExecutionState

    data_dir = tmp_path / "store"
    _run_killed(_NIGHTLY, data_dir, "kill")
    again = _nightly(data_dir, "run")
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    with LineageStore.open(data_dir) as store:
        [data] = store.get_artifacts_by_type("DataSet")
        dead, done = store.get_executions_by_type("Trainer")
        assert done.name == "nightly-2026-12-05"
        assert done.last_known_state == ExecutionState.COMPLETE
        assert "run_owner" not in done.custom_properties
        assert dead.name == f"nightly-2026-12-05~attempt-{dead.id}"
        assert dead.last_known_state == ExecutionState.FAILED
        assert dead.custom_properties["error_type"] == "ProcessDied"
        owner = dead.custom_properties["run_owner"]  # which process died, kept
        assert owner["pid"] in dead.custom_properties["error"]
        assert _inputs_of(store, dead.id or 0) == [(data.id, False)]  # its history, as it was
        assert _inputs_of(store, done.id or 0)[0] == (data.id, False)
        assert_healthy(store)


def test_a_named_run_still_alive_is_never_taken_over_and_once_killed_is(tmp_path: Path) -> None:
    """Another process running the same name now: the re-run is refused (AlreadyExistsError
    naming the execution and its owner's pid), the live run is left RUNNING under its name and
    completes. Once such a process is SIGKILLed (not yet reaped by its parent: a zombie, dead
    all the same), a re-run takes the name."""
    from lineage_graph import ExecutionState
    from tests.reliability.conftest import ROOT, child_env, wait_for

    data_dir = tmp_path / "store"
    with LineageStore.open(data_dir):
        pass  # (the store made once, not by two processes at once)
    for end in ("finish", "kill"):
        marker = tmp_path / f"in-{end}"
        live = subprocess.Popen(
            [sys.executable, "-c", _NIGHTLY, str(data_dir), "hold", str(marker)],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for(marker.exists, 120, "the run to start", live)
            held = int(marker.read_text())
            refused = _nightly(data_dir, "run")
            assert refused.returncode == 3, refused.stderr.decode()[-2000:]
            text = refused.stderr.decode()
            assert f"execution {held} holds that name and is RUNNING" in text
            assert f"pid {live.pid} " in text
            with LineageStore.open(data_dir) as store:
                [running] = store.get_executions_by_id([held])
                assert running.name == "nightly-2026-12-05"
                assert running.last_known_state == ExecutionState.RUNNING
            if end == "finish":
                Path(str(marker) + ".go").write_text("")
                assert live.wait(120) == 0, (
                    live.stderr.read().decode()[-2000:] if live.stderr else ""
                )
                with LineageStore.open(data_dir) as store:
                    [finished] = store.get_executions_by_id([held])
                    assert finished.last_known_state == ExecutionState.COMPLETE
                    # (it ran under the name: the next day's script would use the next name)
                    store.put_executions(
                        [finished.model_copy(update={"name": "nightly-2026-12-04"})]
                    )
                continue
            os.kill(live.pid, signal.SIGKILL)  # not reaped yet: a zombie
            wait_for(lambda pid=live.pid: _state_of(pid) in ("Z", None), 60, "the kill to land")
            again = _nightly(data_dir, "run")
            assert again.returncode == 0, again.stderr.decode()[-2000:]
        finally:
            stop(live)
    with LineageStore.open(data_dir) as store:
        runs = {x.name: x.last_known_state for x in store.get_executions_by_type("Trainer")}
        assert runs == {
            "nightly-2026-12-04": ExecutionState.COMPLETE,
            f"nightly-2026-12-05~attempt-{held}": ExecutionState.FAILED,
            "nightly-2026-12-05": ExecutionState.COMPLETE,
        }
        assert_healthy(store)


def _state_of(pid: int) -> str | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 1 :].split()[0]


def test_two_reruns_at_once_after_a_kill_close_the_dead_run_once_and_one_takes_the_name(
    tmp_path: Path,
) -> None:
    """Two processes re-running a killed named run at once: the dead attempt is closed and
    renamed once (each write only while it is still as read), one re-run takes the name and
    completes, the other is refused (the name is a live or completed run's), nothing twice."""
    from lineage_graph import ExecutionState
    from tests.reliability.conftest import ROOT, child_env

    data_dir = tmp_path / "store"
    _run_killed(_NIGHTLY, data_dir, "kill")
    reruns = [
        subprocess.Popen(
            [sys.executable, "-c", _NIGHTLY, str(data_dir), "run"],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        codes = sorted(p.wait(120) for p in reruns)
    finally:
        for p in reruns:
            stop(p)
    errors = [p.stderr.read().decode() if p.stderr else "" for p in reruns]
    assert codes == [0, 3], errors
    assert any("nightly-2026-12-05" in e for e in errors)
    with LineageStore.open(data_dir) as store:
        dead, *rest = store.get_executions_by_type("Trainer")
        assert dead.name == f"nightly-2026-12-05~attempt-{dead.id}"
        assert dead.last_known_state == ExecutionState.FAILED
        assert [(x.name, x.last_known_state) for x in rest] == [
            ("nightly-2026-12-05", ExecutionState.COMPLETE)
        ]
        assert_healthy(store)
