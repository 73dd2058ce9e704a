"""``store.tracker``: model versions, deployments, the winning experiment, git info."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Context,
    Execution,
    ExecutionState,
    FailedPreconditionError,
    ImpactMark,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    NodeRef,
    NotFoundError,
    StoredValueError,
)
from lineage_graph._repositories.graph import WriteBatch
from lineage_graph.pipeline import git_info


def train(store: LineageStore, experiment: str, accuracy: float) -> Artifact:
    with store.run("Trainer", context=experiment, properties={"acc_target": accuracy}) as run:
        run.log_metrics(accuracy=accuracy)
        return run.output("Model", uri=f"/models/{experiment}")


def test_versions_previous_deployed_and_best(store: LineageStore) -> None:
    tracker = store.tracker
    assert tracker.model_versions("churn") == [] and tracker.latest_version("churn") is None
    m1, m2, m3 = (train(store, f"exp-{i}", acc) for i, acc in enumerate([0.7, 0.9, 0.8], 1))
    v1 = tracker.register_model(m1, "churn")
    v2 = tracker.register_model(m2.id or 0, "churn")
    v3 = tracker.register_model(m3, "churn")
    assert [v.version for v in (v1, v2, v3)] == [1, 2, 3]
    assert tracker.register_model(m2, "churn") == v2  # idempotent
    assert tracker.registered_models() == ["churn"]
    assert [v.id for v in tracker.model_versions("churn")] == [m1.id, m2.id, m3.id]
    assert tracker.previous_version(v3) == v2
    assert tracker.previous_version(m2.id or 0) == v1
    assert tracker.previous_version(v1) is None
    assert tracker.latest_version("churn") == v3
    assert tracker.get_model_version("churn", 2) == v2
    with pytest.raises(NotFoundError):
        tracker.get_model_version("churn", 9)
    for wrong in ("2", 2.0, True, None):  # "2" said "has no version 2", which exists
        with pytest.raises(InvalidArgumentError, match="a model version is an int"):
            tracker.get_model_version("churn", wrong)  # type: ignore[arg-type]
    # the stored model keeps its other fields
    [stored] = store.get_artifacts_by_id([m1.id or 0])
    assert stored.uri == "/models/exp-1" and stored.custom_properties["model_version"] == 1

    assert tracker.deployed_version("churn") is None
    tracker.deploy(v2)
    tracker.deploy(v3, environment="staging")
    assert tracker.deployed_version("churn") == v2
    assert tracker.deployed_version("churn", environment="staging") == v3
    assert tracker.deployed_version("churn", environment=None) == v3  # the latest anywhere
    tracker.deploy(v3)
    assert tracker.deployed_version("churn") == v3
    tracker.deploy(v1)  # roll back
    assert tracker.deployed_version("churn") == v1
    assert len(tracker.deployments("churn", environment="production")) == 3
    assert len(tracker.deployments("churn")) == 4

    best = tracker.best_version("churn", "accuracy")
    assert best == v2
    experiment = tracker.experiment_of(best)
    assert experiment is not None and experiment.name == "exp-2"
    assert tracker.best_version("churn", "accuracy", higher_is_better=False) == v1
    assert tracker.best_version("churn", "no-such-metric") is None
    assert tracker.metric(v3, "accuracy") == 0.8


def test_tracker_errors(store: LineageStore) -> None:
    model = train(store, "e", 0.5)
    tracker = store.tracker
    with pytest.raises(InvalidArgumentError, match="not a registered model"):
        tracker.deploy(model)
    with pytest.raises(InvalidArgumentError, match="not a registered model"):
        tracker.previous_version(model)
    with pytest.raises(InvalidArgumentError, match="non-empty name"):
        tracker.register_model(model, "")
    with pytest.raises(InvalidArgumentError, match="no id"):
        tracker.register_model(Artifact(type="Model"), "m")
    with pytest.raises(NotFoundError):
        tracker.register_model(999_999, "m")
    assert tracker.experiment_of(model) is not None
    [orphan] = store.put_artifacts([Artifact(type="Model", uri="/orphan")])
    assert tracker.experiment_of(orphan) is None and tracker.producer_of(orphan) is None


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    git("remote", "add", "origin", "https://user:secret-token@example.com/org/repo.git")
    (repo / "f.txt").write_text("x")
    git("add", "f.txt")
    git("commit", "-q", "-m", "one")
    return repo


def test_git_dirty_counts_tracked_changes_not_untracked_files(git_repo: Path) -> None:
    """``git_dirty`` is ``git describe --dirty``'s: a tracked file changed, staged or not. An
    untracked file is not counted (the store's own directory, ``./lineage-store``, and a run's
    outputs in the work tree would make every run dirty); a new file once added is."""
    (git_repo / "helper.py").write_text("X = 1\n")
    (git_repo / "lineage-store").mkdir()
    assert git_info(git_repo)["git_dirty"] is False
    subprocess.run(["git", "-C", str(git_repo), "add", "helper.py"], check=True)
    assert git_info(git_repo)["git_dirty"] is True


def test_git_info_on_runs(store: LineageStore, git_repo: Path, tmp_path: Path) -> None:
    info = git_info(git_repo)
    assert len(info["git_commit"]) == 40 and info["git_branch"] == "main"
    assert info["git_dirty"] is False
    assert info["git_remote"] == "https://example.com/org/repo.git"  # no credentials recorded
    (git_repo / "f.txt").write_text("changed")
    assert git_info(git_repo)["git_dirty"] is True
    (tmp_path / "not-a-repo").mkdir()
    assert git_info(tmp_path / "not-a-repo") == {}  # a directory in no work tree
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        git_info(tmp_path / "no-such-dir")  # a typo: was {} too, nothing said
    # a password holding an "@" (git accepts it unencoded): was "https://rd@example.com/..."
    subprocess.run(
        [
            "git",
            "-C",
            str(git_repo),
            "remote",
            "set-url",
            "origin",
            "https://u:pass@wo@rd@example.com/r",
        ],
        check=True,
    )
    assert git_info(git_repo)["git_remote"] == "https://example.com/r"

    with store.run("Trainer", git=git_repo) as run:
        pass
    assert run.execution is not None
    assert run.execution.custom_properties["git_commit"] == info["git_commit"]
    with store.run("Trainer") as plain:
        pass
    recorded = store.tracker.log_git(plain.id, git_repo)
    [execution] = store.get_executions_by_id([plain.id])
    assert execution.custom_properties["git_commit"] == recorded["git_commit"]
    assert execution.last_known_state == plain.state  # only the git fields changed
    with pytest.raises(NotFoundError):
        store.tracker.log_git(424242, git_repo)


def test_a_run_keeps_what_was_recorded_on_it_while_it_ran(
    store: LineageStore, git_repo: Path
) -> None:
    """``tracker.log_git(run.id)`` on a running run (an already recorded execution), or a
    masked ``put_executions`` by another writer (another process logging to the run by its
    id), was wiped by the run's completion, which rewrote every custom property: the git
    commit it returned was never stored. The failure of a run kept them; the completion keeps
    them too, its own values written over them, and still drops ``run_owner``."""
    with store.run("Trainer") as run:
        run.log_metrics(accuracy=0.5)
        recorded = store.tracker.log_git(run.id, git_repo)
        store.put_executions(
            [Execution(id=run.id, custom_properties={"loss": 0.25, "accuracy": 0.1})],
            field_mask_paths=["custom_properties.loss", "custom_properties.accuracy"],
        )
        run.log_metrics(epochs=3)
    [stored] = store.get_executions_by_id([run.id])
    assert stored.last_known_state == ExecutionState.COMPLETE
    custom = stored.custom_properties
    assert custom["git_commit"] == recorded["git_commit"]
    assert custom["git_branch"] == "main"
    assert custom["loss"] == 0.25  # another writer's, kept
    assert custom["accuracy"] == 0.5  # the run's own value, written over the other's
    assert custom["epochs"] == 3
    assert "run_owner" not in custom
    assert run.execution is not None and run.execution.custom_properties == custom


def test_registering_keeps_what_another_writer_changed_meanwhile(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """register_model read the artifact and wrote it back whole with its version: an update
    by another writer in between (here a state and a moved uri) was reverted.
    Only the version's two properties are written now."""
    tracker = store.tracker
    model = train(store, "exp-1", 0.7)
    real = tracker._claims.read
    moved = []

    def racing(query: str, /, **params: Any) -> Any:
        if query == "tracker/highest_version" and not moved:  # after the read, before the write
            moved.append(1)
            store.put_artifacts(
                # (a state it can be registered in: an ABANDONED one is refused, below)
                [Artifact(id=model.id, uri="/moved", state=ArtifactState.PENDING)],
                field_mask_paths=["uri", "state"],
            )
        return real(query, **params)

    monkeypatch.setattr(tracker._claims, "read", racing)
    version = tracker.register_model(model, "churn")
    [stored] = store.get_artifacts_by_id([model.id or 0])
    assert moved and version.version == 1
    assert stored.uri == "/moved" and stored.state == ArtifactState.PENDING
    assert stored.custom_properties["model_name"] == "churn"
    assert stored.custom_properties["model_version"] == 1


@pytest.mark.parametrize(
    "name",
    [" churn", "a\x00b", "x" * 5_000, "a\ud800"],
    ids=["edge space", "NUL", "too long", "lone surrogate"],
)
def test_a_name_no_context_can_hold_is_refused_before_anything_is_written(
    store: LineageStore, name: str
) -> None:
    """Refused by the context write only after the RegisteredModel type was created (or, a
    lone surrogate, pydantic's untyped ValidationError): checked first now, nothing written."""
    model = train(store, "e", 0.5)
    types = store.get_types(NodeKind.CONTEXT)
    with pytest.raises(InvalidArgumentError, match="registered model name"):
        store.tracker.register_model(model, name)
    assert store.get_types(NodeKind.CONTEXT) == types
    assert store.get_artifacts_by_id([model.id or 0]) == [model]


def test_concurrent_registrations_get_distinct_versions(store: LineageStore) -> None:
    """Registrations of one name from 12 threads: each claims its number atomically (before,
    two threads often read the same highest version and both wrote the next one)."""
    models = [train(store, f"exp-{i}", 0.5) for i in range(12)]
    got: dict[int, int] = {}

    def register(model: Artifact) -> None:
        got[model.id or 0] = store.tracker.register_model(model, "churn").version

    threads = [threading.Thread(target=register, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got.values()) == list(range(1, 13))
    assert {v.id: v.version for v in store.tracker.model_versions("churn")} == got


def test_concurrent_registrations_of_one_artifact_get_one_version(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another registration of the same artifact under the same name between this one's claim
    and its write: both claimed their own number, the later write won, and the other call
    answered a version the artifact no longer held (6 threads: most raised NotFoundError, and
    the registry's first version was 5 or 6). The artifact's claim is reused now."""
    tracker = store.tracker
    model = train(store, "exp-1", 0.7)
    real = tracker._claims.write
    other: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)  # this registration has claimed its number
        if not other:
            monkeypatch.setattr(tracker._claims, "write", real)
            other.append(tracker.register_model(model, "churn").version)
        return rows

    monkeypatch.setattr(tracker._claims, "write", racing)
    version = tracker.register_model(model, "churn").version
    assert other == [version] == [v.version for v in tracker.model_versions("churn")] == [1]
    later = train(store, "exp-2", 0.8)
    assert tracker.register_model(later, "churn").version == 2


def test_a_registration_whose_claim_went_stale_meanwhile_answers_the_one_that_won(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between this registration's claim (1) and its write, another model is registered (2)
    and then this artifact again, by another writer: its claim 1 is below the versions
    registered, so stale to that writer, which takes 3 and writes it. This write then finds
    its claim gone; the artifact is registered under the name as asked: version 3 is the
    answer, not an error."""
    tracker = store.tracker
    model, later = train(store, "exp-1", 0.7), train(store, "exp-2", 0.8)
    real = tracker._claims.write
    other: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)  # this registration has claimed its number
        if not other:
            monkeypatch.setattr(tracker._claims, "write", real)
            assert tracker.register_model(later, "churn").version == 2
            other.append(tracker.register_model(model, "churn").version)
        return rows

    monkeypatch.setattr(tracker._claims, "write", racing)
    version = tracker.register_model(model, "churn").version
    assert other == [version] == [3]
    assert [(v.id, v.version) for v in tracker.model_versions("churn")] == [
        (later.id, 2),
        (model.id, 3),
    ]


def test_a_registration_read_before_another_one_of_the_artifact_gets_its_number(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This registration reads that the artifact is not registered; another writer then
    registers it (1) and another model (2) before this one claims. The artifact's claim 1 is
    below the versions this one reads, but it was written (the artifact is attributed to the
    registered model): it is the artifact's number, not a stale one. Taken as stale, this call
    registered the artifact again as 3 over the other writer's answer (1 artifact in 4 threads'
    random registrations answered two versions, in 2 of 3 runs)."""
    tracker = store.tracker
    model, later = train(store, "exp-1", 0.7), train(store, "exp-2", 0.8)
    real = type(tracker)._registration
    other: list[int] = []

    def racing(self: Any, artifact: Artifact) -> Any:
        held = real(self, artifact)
        if not other:
            monkeypatch.setattr(type(tracker), "_registration", real)
            other.append(tracker.register_model(model, "churn").version)
            assert tracker.register_model(later, "churn").version == 2
        return held

    monkeypatch.setattr(type(tracker), "_registration", racing)
    assert tracker.register_model(model, "churn").version == other[0] == 1
    assert [(v.id, v.version) for v in tracker.model_versions("churn")] == [
        (model.id, 1),
        (later.id, 2),
    ]


def test_a_registration_whose_claim_another_one_of_it_took_over_unwritten_gets_its_number(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, but the other registration of this artifact under this name has claimed 3 and
    not written it yet when this one writes: this one found its claim taken "by a registration
    as it" and raised FailedPreconditionError, though concurrent registrations of one artifact
    under one name get one number. It registers again, reusing the claim: both answer 3."""
    tracker = store.tracker
    model, later = train(store, "exp-1", 0.7), train(store, "exp-2", 0.8)
    real = tracker._claims.write
    calls: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # this registration has claimed 1
            monkeypatch.setattr(tracker._claims, "write", real)
            assert tracker.register_model(later, "churn").version == 2
            # the other registration of `model`: claims 3 (1 is stale to it), not written yet
            [claimed] = real(*args, **{**kwargs, "floor": 3})
            assert claimed["version"] == 3
        return rows

    monkeypatch.setattr(tracker._claims, "write", racing)
    assert tracker.register_model(model, "churn").version == 3
    assert tracker.register_model(model, "churn").version == 3  # the other one, as it ends
    assert [(v.id, v.version) for v in tracker.model_versions("churn")] == [
        (later.id, 2),
        (model.id, 3),
    ]


def test_a_registration_under_another_name_after_this_ones_claim_wins_alone(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer registers the artifact as 'fraud' between this registration's claim (as
    'churn') and its write: both wrote, so the artifact was attributed to both registered
    models (100 of 100 threaded races) and one call answered a version it no longer held. The
    other claim took this one's over: this write finds its claim gone and writes nothing."""
    tracker = store.tracker
    model = train(store, "exp-1", 0.7)
    real = tracker._claims.write
    other = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)  # this registration has claimed its number
        if not other:
            monkeypatch.setattr(tracker._claims, "write", real)
            other.append(tracker.register_model(model, "fraud"))
        return rows

    monkeypatch.setattr(tracker._claims, "write", racing)
    with pytest.raises(FailedPreconditionError, match="claimed meanwhile"):
        tracker.register_model(model, "churn")
    assert [c.name for c in store.get_contexts_by_artifact(model.id or 0)] == ["exp-1", "fraud"]
    assert tracker.model_versions("fraud") == other and tracker.model_versions("churn") == []
    assert tracker.registered_models() == ["fraud"]  # no version of 'churn': not listed


@pytest.mark.parametrize("literal", ["5", "'7'", "['x', 1]"])
def test_a_claim_another_writer_stored_in_another_shape_is_named(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, literal: str
) -> None:
    """Another writer stores the artifact's ``model_claim`` as something this library never
    writes (a number, text, a list of text) between this registration's claim and its write:
    StoredValueError naming the artifact's ``model_claim`` (a number raised a bare TypeError
    from ``taken[0]``; text was read as a registration under another name)."""
    tracker = store.tracker
    model = train(store, "exp-1", 0.7)
    real = tracker._claims.write

    def racing(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)  # this registration has claimed its number
        monkeypatch.setattr(tracker._claims, "write", real)
        store.backend.write(
            f"MATCH (a:Artifact) WHERE a.id = $id SET a.model_claim = {literal}", {"id": model.id}
        )
        return rows

    monkeypatch.setattr(tracker._claims, "write", racing)
    with pytest.raises(StoredValueError) as caught:
        tracker.register_model(model, "churn")
    assert (caught.value.kind, caught.value.id, caught.value.field) == (
        "Artifact",
        model.id,
        "model_claim",
    )
    assert tracker.registered_models() == []


def test_a_registration_under_another_name_after_this_ones_read_is_refused_at_the_claim(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer registers the artifact as 'fraud' after this registration read that it
    was not registered: its claim refuses it, as the read would have."""
    tracker = store.tracker
    model = train(store, "exp-1", 0.7)
    real = type(tracker)._registration
    other = []

    def racing(self: Any, artifact: Artifact) -> Any:
        held = real(self, artifact)
        if not other:
            monkeypatch.setattr(type(tracker), "_registration", real)
            other.append(tracker.register_model(model, "fraud"))
        return held

    monkeypatch.setattr(type(tracker), "_registration", racing)
    with pytest.raises(InvalidArgumentError, match="of the registered model 'fraud'"):
        tracker.register_model(model, "churn")
    assert [c.name for c in store.get_contexts_by_artifact(model.id or 0)] == ["exp-1", "fraud"]
    assert tracker.model_versions("fraud") == other and tracker.model_versions("churn") == []
    assert tracker.registered_models() == ["fraud"]  # no version of 'churn': not listed


def test_a_whole_update_read_before_a_claim_and_written_after_it_keeps_the_claim(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole update of the model (and of its registry's context) read before the version was
    claimed and written after: it wrote back the internal keys it had read, so the claim (and
    the registry's next number) was undone and the registration's write then found its claim
    gone. graph/write keeps the keys the node holds when it runs."""
    tracker = store.tracker
    model = train(store, "exp-1", 0.7)
    tracker.register_model(train(store, "exp-0", 0.5), "churn")  # the registry exists
    [registry] = [c for c in store.get_contexts() if c.type == "RegisteredModel"]
    moved = model.model_copy(update={"uri": "/moved"})
    renamed = registry.model_copy(update={"custom_properties": {"owner": "ml"}})
    updates = [  # read now: before the claim
        WriteBatch(artifacts=store._artifacts.prepare([moved])),
        WriteBatch(contexts=store._contexts.prepare([renamed])),
    ]
    real = tracker._claims.write

    def racing(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)  # this registration has claimed its number
        monkeypatch.setattr(tracker._claims, "write", real)
        for batch in updates:  # written now: after the claim
            store._writer.execute(batch)
        return rows

    monkeypatch.setattr(tracker._claims, "write", racing)
    version = tracker.register_model(model, "churn")
    assert version.version == 2 and version.artifact.uri == "/moved"
    assert tracker.model_versions("churn")[-1] == version
    assert tracker.register_model(train(store, "exp-2", 0.6), "churn").version == 3


def test_version_numbers_continue_past_a_rewritten_or_older_registry(store: LineageStore) -> None:
    """The next number is kept on the registered model's context: a whole rewrite of that
    context keeps it, and a registry without it (registered by an earlier version) continues
    after its highest version."""
    tracker = store.tracker
    m1, m2, m3 = (train(store, f"exp-{i}", 0.5) for i in range(3))
    assert tracker.register_model(m1, "churn").version == 1
    [ctx] = [c for c in store.get_contexts() if c.type == "RegisteredModel"]
    store.put_contexts([ctx.model_copy(update={"custom_properties": {"owner": "ml"}})])
    assert tracker.register_model(m2, "churn").version == 2
    store.backend.write(
        "MATCH (c:Context {id: $id}) SET c.next_model_version = null",
        {"id": ctx.id},
        name="test/older_registry",
    )
    assert tracker.register_model(m3, "churn").version == 3


def test_a_registration_reads_a_few_rows_however_many_versions_there_are(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering version n read all n - 1 versions twice (the floor of its number, then its
    answer): O(n) per registration, so 3,000 registrations of one name took 215 s (now 10 s).
    The floor of its number is one aggregated row, the answer the artifact itself."""
    tracker = store.tracker
    store.put_artifact_type(ArtifactType(name="Model"))
    ids = store.put_artifacts([Artifact(type="Model", uri=f"/m/{i}") for i in range(201)])
    for i in ids[:200]:
        tracker.register_model(i, "big")
    rows: list[int] = []
    real = store.backend.read

    def counting(query: str, params: Any = None, *, name: str = "") -> list[dict[str, Any]]:
        result = real(query, params, name=name)
        rows.append(len(result))
        return result

    monkeypatch.setattr(store.backend, "read", counting)
    version = tracker.register_model(ids[200], "big")
    monkeypatch.setattr(store.backend, "read", real)
    assert version.version == 201 and version.name == "big" and version.id == ids[200]
    assert version.artifact.custom_properties["model_version"] == 201
    assert sum(rows) < 20, rows
    assert [v.version for v in tracker.model_versions("big")] == list(range(1, 202))
    assert tracker.register_model(ids[200], "big") == version


def test_threads_registering_one_artifact_under_many_names_leave_one_registration(
    store: LineageStore,
) -> None:
    """8 threads register one artifact under 8 names at once: one registration, attributed to
    one registered model (before: several, in every run)."""
    model = train(store, "exp-1", 0.7)
    names = [f"registry-{i}" for i in range(8)]
    won: list[str] = []
    refused: list[str] = []
    barrier = threading.Barrier(len(names))

    def register(name: str) -> None:
        barrier.wait()
        try:
            won.append(store.tracker.register_model(model, name).name)
        except (InvalidArgumentError, FailedPreconditionError):  # at the claim, or its write
            refused.append(name)

    threads = [threading.Thread(target=register, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(refused) == len(names) - 1
    attributed = [
        c.name for c in store.get_contexts_by_artifact(model.id or 0) if c.type == "RegisteredModel"
    ]
    assert attributed == won
    [stored] = store.get_artifacts_by_id([model.id or 0])
    assert stored.custom_properties["model_name"] == won[0]


def test_a_registry_deleted_during_a_registration_is_a_typed_error(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = store.tracker
    model = train(store, "exp-1", 0.7)
    real = tracker._claims.read

    def deleting(query: str, /, **params: Any) -> Any:
        if query == "tracker/highest_version":  # the registry is gone before the claim
            store.backend.write(
                "MATCH (c:Context {name: 'churn'}) DETACH DELETE c", {}, name="test/delete"
            )
        return real(query, **params)

    monkeypatch.setattr(tracker._claims, "read", deleting)
    with pytest.raises(FailedPreconditionError, match="was deleted while"):
        tracker.register_model(model, "churn")
    [stored] = store.get_artifacts_by_id([model.id or 0])
    assert "model_name" not in stored.custom_properties


def test_a_registered_model_is_not_moved_to_another_name(store: LineageStore) -> None:
    """An artifact is one version of one registered model (its model_name / model_version):
    registering it under a second name is refused, and the first registration, its deployment
    and its version numbers stay as they were."""
    tracker = store.tracker
    m1, m2 = train(store, "exp-1", 0.7), train(store, "exp-2", 0.8)
    v1 = tracker.register_model(m1, "churn")
    v2 = tracker.register_model(m2, "churn")
    tracker.deploy(v1)
    with pytest.raises(InvalidArgumentError, match="already version 1 of the registered model"):
        tracker.register_model(m1, "other")
    with pytest.raises(InvalidArgumentError, match="already version 2 of the registered model"):
        tracker.register_model(v2, "other")
    assert store.get_artifacts_by_id([m1.id or 0]) == [v1.artifact]  # nothing written
    assert tracker.registered_models() == ["churn"]
    assert tracker.model_versions("churn") == [v1, v2]
    assert tracker.deployed_version("churn") == v1
    assert tracker.register_model(m1, "churn") == v1  # still idempotent
    assert tracker.model_versions("other") == []
    # custom properties of the same names that are no registration do not block one
    with store.run("Trainer") as run:
        own = run.output(
            "Model", uri="/own", custom_properties={"model_name": "resnet", "model_version": 3}
        )
    assert tracker.register_model(own, "other").version == 1


def test_model_name_and_version_set_by_hand_are_no_registration(store: LineageStore) -> None:
    # An imported model carrying model_name / model_version (e.g. copied from another
    # registry) is not a version until register_model attributes it to the registered model.
    tracker = store.tracker
    real = tracker.register_model(train(store, "e", 0.5), "churn")
    with store.run("Import") as run:
        imported = run.output(
            "Model", uri="/imported", custom_properties={"model_name": "churn", "model_version": 1}
        )
    with store.run("Import") as run:
        stray = run.output(
            "Model", uri="/stray", custom_properties={"model_name": "fraud", "model_version": 1}
        )
    for model in (imported, stray):  # was: a deployment of `imported`; AssertionError (stray)
        with pytest.raises(InvalidArgumentError, match="not a registered model"):
            tracker.deploy(model)
        with pytest.raises(InvalidArgumentError, match="not a registered model"):
            tracker.previous_version(model)
    assert tracker.deployments("churn") == []
    # registering it gives it a version of its own (was: "version 1", the real one's number,
    # while model_versions() did not list it)
    registered = tracker.register_model(imported, "churn")
    assert registered.version == 2
    assert [(v.version, v.id) for v in tracker.model_versions("churn")] == [
        (1, real.id),
        (2, imported.id),
    ]
    assert tracker.previous_version(imported) == real


def test_deploy_checks_its_arguments(store: LineageStore) -> None:
    tracker = store.tracker
    version = tracker.register_model(train(store, "e", 0.5), "churn")
    bad: list[dict[str, object]] = [
        {"environment": None},
        {"environment": ""},
        {"environment": 5},
        {"environment": " production"},  # was recorded: no deployed_version() answered it
        {"environment": "staging\n"},
        {"environment": "a\x00b"},
        {"properties": {"approved_by": object()}},
        {"properties": {"ticket": None}},
        {"properties": ["x"]},
    ]
    for kwargs in bad:  # was: a pydantic ValidationError, or an int environment recorded
        with pytest.raises(InvalidArgumentError):
            tracker.deploy(version, **kwargs)  # type: ignore[arg-type]
    assert tracker.deployments("churn") == []
    with pytest.raises(NotFoundError):  # was: {} when the path is not a git work tree
        tracker.log_git(999_999, path="/")


@pytest.mark.parametrize("password", ["pa?ss", "pa#ss", "p?a@ss"])
def test_git_info_records_no_password_holding_a_query_or_fragment_mark(
    git_repo: Path, password: str
) -> None:
    """A password holding "?" or "#" before the "@" was recorded whole (the host was looked
    for before the first "/", "?" or "#"); it was stripped before the fix for "@"."""
    url = f"https://u:{password}@example.com/r"
    subprocess.run(["git", "-C", str(git_repo), "remote", "set-url", "origin", url], check=True)
    assert git_info(git_repo)["git_remote"] == "https://example.com/r"


@pytest.mark.parametrize(
    ("remote", "recorded"),
    [
        ("https://github.com/x/y.git?access_token=tok3n", "https://github.com/x/y.git"),
        ("https://user:ghp_xxx@github.com/x/y.git", "https://github.com/x/y.git"),
        ("https://oauth2:tok@gitlab.com/g/p.git", "https://gitlab.com/g/p.git"),
        # the query and the fragment go whole, whatever their names (a token's may be any)
        ("https://h/r.git?private_token=t&ref=main#top", "https://h/r.git"),
        ("https://h/r?X-Amz-Signature=s;api%5Fkey=k", "https://h/r"),
        ("https://h/r?code=S3c&t=S3c", "https://h/r"),
        ("https://h/r?se=2026&sp=r&sig=S3c", "https://h/r"),
        ("https://h/r#token=S3c", "https://h/r"),
        ("git@github.com:x/y.git", "git@github.com:x/y.git"),  # scp-like, the usual login
        # scp-like: any other user info goes (a token, a password), as in a URL
        ("ghp_S3c@github.com:x/y.git", "github.com:x/y.git"),
        ("deploy:S3c@host:x/y.git", "host:x/y.git"),
        ("git:S3c@[2001:db8::1]:x/y.git", "git@[2001:db8::1]:x/y.git"),
        ("/srv/repos/a@b.git", "/srv/repos/a@b.git"),  # a local path: as it is
        # a space, a "://" after the scheme: the remote is still one URL (it was stored whole)
        (
            "https://u:tok@dev.example/o/My Project/_git/r",
            "https://dev.example/o/My Project/_git/r",
        ),
        (
            "https://tok@mirror.example/https://github.com/x/y",
            "https://mirror.example/https://github.com/x/y",
        ),
        ("https://h/r?ref=a b&token=t", "https://h/r"),
        # over ssh the login "git" is kept, any other goes as in an scp-like remote; passwords go
        ("ssh://git@host:22/x/y.git", "ssh://git@host:22/x/y.git"),
        ("ssh://deploy:pw@host/x.git", "ssh://host/x.git"),
        ("git+ssh://git@[2001:db8::1]/x.git", "git+ssh://git@[2001:db8::1]/x.git"),
        # a remote helper's transport::address: the address is stripped (it was stored whole)
        ("persistent-https::https://u:S3c@h/r.git", "persistent-https::https://h/r.git"),
        ("gcrypt::https://S3c@h/r.git?t=S3c", "gcrypt::https://h/r.git"),
        ("gcrypt::deploy:S3c@host:x/y.git", "gcrypt::host:x/y.git"),
    ],
)
def test_git_remote_is_stored_without_credentials(
    store: LineageStore, git_repo: Path, remote: str, recorded: str
) -> None:
    """A remote's token in its query (``?access_token=``) was stored as is: readable by anyone
    with access to the store, exported, shown by the CLI; so were one under a name not in
    the list of secret-like names (``?code=``, ``?t=``, ``#token=``) and the user info of an
    scp-like remote (``ghp_...@github.com:x/y``, ``user:pw@host:r``). Every path that records
    git info is checked: ``git=`` of a run, ``run.log_git`` and ``tracker.log_git``."""
    subprocess.run(["git", "-C", str(git_repo), "remote", "set-url", "origin", remote], check=True)
    with store.run("Trainer", git=git_repo) as run:
        logged = run.log_git(git_repo)
    with store.run("Trainer") as plain:
        pass
    store.tracker.log_git(plain.id, git_repo)
    assert logged["git_remote"] == recorded
    for execution in store.get_executions_by_id([run.id, plain.id]):
        assert execution.custom_properties["git_remote"] == recorded


def test_git_info_runs_no_command_the_work_trees_config_names(
    git_repo: Path, tmp_path: Path
) -> None:
    """``core.fsmonitor`` in the recorded tree's .git/config is a command ``git status`` runs:
    a copied or downloaded repository ran whatever it named when a run recorded it
    (git=True, log_git). The facts are recorded all the same."""
    marker = tmp_path / "ran"
    subprocess.run(
        ["git", "-C", str(git_repo), "config", "core.fsmonitor", f"touch {marker}; false"],
        check=True,
    )
    (git_repo / "f.txt").write_text("changed")
    info = git_info(git_repo)
    assert not marker.exists()
    assert info["git_dirty"] is True and len(info["git_commit"]) == 40


def test_an_environment_given_in_properties_is_refused_not_overwritten(
    store: LineageStore,
) -> None:
    """deploy(v, properties={"environment": "staging"}) was recorded as a deployment to
    "production" (the keyword's default overwrote it): deployed_version() answered it there."""
    tracker = store.tracker
    version = tracker.register_model(train(store, "e", 0.5), "churn")
    with pytest.raises(InvalidArgumentError, match="environment='staging'"):
        tracker.deploy(version, properties={"environment": "staging"})
    assert tracker.deployments("churn") == []
    assert tracker.deployed_version("churn") is None
    assert store.get_executions() == store.get_executions_by_type("Trainer")


@pytest.mark.parametrize(
    "state", [ArtifactState.ABANDONED, ArtifactState.DELETED, ArtifactState.MARKED_FOR_DELETION]
)
def test_a_model_abandoned_or_deleted_is_not_deployed(
    store: LineageStore, state: ArtifactState
) -> None:
    """A version an impact mark abandoned (trained on a bad dataset) was recorded as serving."""
    tracker = store.tracker
    good = tracker.register_model(train(store, "a", 0.5), "churn")
    bad = tracker.register_model(train(store, "b", 0.9), "churn")
    tracker.deploy(good)
    store.put_artifacts([Artifact(id=bad.id, state=state)], field_mask_paths=["state"])
    with pytest.raises(FailedPreconditionError, match=state.name):
        tracker.deploy(bad)
    assert len(tracker.deployments("churn")) == 1
    deployed = tracker.deployed_version("churn")
    assert deployed is not None and deployed.version == good.version


def test_tracker_queries_refuse_a_name_or_metric_that_cannot_be_one(store: LineageStore) -> None:
    """5, "" or None answered "no versions", "not deployed", "no metric": a typo'd call read as
    an empty registry."""
    tracker = store.tracker
    version = tracker.register_model(train(store, "e", 0.5), "churn")
    tracker.deploy(version)
    calls: list[Any] = [
        lambda: tracker.model_versions(5),
        lambda: tracker.model_versions(""),
        lambda: tracker.latest_version(None),
        lambda: tracker.get_model_version(b"churn", 1),
        lambda: tracker.deployments("churn", environment=""),
        lambda: tracker.deployments("churn", environment=5),
        lambda: tracker.deployed_version("churn", environment=""),
        lambda: tracker.deployed_version(7),
        lambda: tracker.best_version("churn", None),
        lambda: tracker.metric(version, ""),
        # "no" / "min" are truthy: the highest loss was answered as the best version
        lambda: tracker.best_version("churn", "accuracy", higher_is_better="no"),
        lambda: tracker.best_version("churn", "accuracy", higher_is_better=0),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError):
            call()
    deployed = tracker.deployed_version("churn")
    assert deployed is not None and deployed.version == 1
    assert tracker.metric(version, "accuracy") == 0.5


def test_previous_version_reads_a_model_version_again(store: LineageStore) -> None:
    """A ModelVersion not matching its artifact (made by hand, or of another store) was taken
    at its word: the version before its number answered, for an unregistered artifact too."""
    from lineage_graph._tracker import ModelVersion

    tracker = store.tracker
    first = tracker.register_model(train(store, "a", 0.5), "churn")
    second = tracker.register_model(train(store, "b", 0.6), "churn")
    loose = train(store, "c", 0.7)
    previous = tracker.previous_version(second)
    assert previous is not None and previous.version == first.version
    with pytest.raises(InvalidArgumentError, match="not a registered model"):
        tracker.previous_version(ModelVersion("churn", 9, loose))
    with pytest.raises(InvalidArgumentError, match="is not what artifact"):
        tracker.previous_version(ModelVersion("churn", 9, second.artifact))


def test_a_model_version_of_another_store_is_not_deployed_here(
    store: LineageStore, tmp_path: Path
) -> None:
    """``deploy`` took a ModelVersion at its word, by its artifact id: ``churn`` version 1 of
    another store, given to this store's tracker, recorded this store's artifact of that id --
    version 1 of ``fraud`` -- as deployed to production. Refused now, as ``previous_version``
    refuses it, and nothing is written; so are the reads that take a model."""
    with LineageStore.open(tmp_path / "other") as other:
        churn = other.tracker.register_model(train(other, "x", 0.9), "churn")
    tracker = store.tracker
    fraud = tracker.register_model(train(store, "y", 0.5), "fraud")
    assert fraud.id == churn.id
    executions = store.get_executions()
    for call in (
        lambda: tracker.deploy(churn),
        lambda: tracker.metric(churn, "accuracy"),
        lambda: tracker.experiment_of(churn),
        lambda: tracker.producer_of(churn),
    ):
        with pytest.raises(InvalidArgumentError, match="is not what artifact"):
            call()
    assert store.get_executions() == executions
    assert tracker.deployed_version("fraud") is None
    assert tracker.deploy(fraud) > 0  # its own version deploys


def test_a_model_version_without_a_stored_artifact_is_a_typed_error(store: LineageStore) -> None:
    """A ModelVersion made by hand around an artifact not stored (no id), or around no artifact
    at all (its id), raised AssertionError / AttributeError from ``ModelVersion.id``."""
    from lineage_graph._tracker import ModelVersion

    tracker = store.tracker
    version = tracker.register_model(train(store, "x", 0.9), "churn")
    executions = store.get_executions()
    for made in (
        ModelVersion("churn", 1, Artifact(type="Model", uri="s3://m")),
        ModelVersion("churn", 1, version.id),  # type: ignore[arg-type]
    ):
        for call in (
            lambda m: tracker.deploy(m),
            lambda m: tracker.metric(m, "accuracy"),
            lambda m: tracker.previous_version(m),
            lambda m: tracker.register_model(m, "churn"),
        ):
            with pytest.raises(InvalidArgumentError, match="has no stored model artifact"):
                call(made)
    assert store.get_executions() == executions
    assert tracker.deployed_version("churn") is None


def test_a_registry_at_the_largest_version_refuses_another_and_writes_nothing(
    store: LineageStore,
) -> None:
    """A version set by hand to int64's largest value left no next number: FalkorDB numbered the
    next registration INT64_MAX again (two versions with one number), and Neo4j's driver cannot
    send the number after it. Refused now, nothing written."""
    tracker = store.tracker
    m1, m2 = (train(store, f"exp-{i}", 0.5) for i in range(2))
    tracker.register_model(m1, "churn")
    [stored] = store.get_artifacts_by_id([m1.id or 0])
    custom = {**stored.custom_properties, "model_version": 2**63 - 1}
    store.put_artifacts([stored.model_copy(update={"custom_properties": custom})])
    before = store.get_artifacts_by_id([m2.id or 0])
    with pytest.raises(FailedPreconditionError, match="no version number left"):
        tracker.register_model(m2, "churn")
    assert store.get_artifacts_by_id([m2.id or 0]) == before
    assert [v.version for v in tracker.model_versions("churn")] == [2**63 - 1]


def test_a_registry_one_below_the_largest_version_registers_the_largest(
    store: LineageStore,
) -> None:
    """With 2**63 - 2 registered, the next registration is numbered 2**63 - 1, the number kept
    for the one after it was ``version + 1``: past int64, which Neo4j refuses ("long overflow":
    the registration failed there) and FalkorDB wrapped to -2**63. Only the Neo4j run can fail
    without the fix; on both the registration after is refused, nothing written."""
    tracker = store.tracker
    m1, m2, m3 = (train(store, f"exp-{i}", 0.5) for i in range(3))
    tracker.register_model(m1, "churn")
    [stored] = store.get_artifacts_by_id([m1.id or 0])
    custom = {**stored.custom_properties, "model_version": 2**63 - 2}
    store.put_artifacts([stored.model_copy(update={"custom_properties": custom})])
    assert tracker.register_model(m2, "churn").version == 2**63 - 1
    before = store.get_artifacts_by_id([m3.id or 0])
    with pytest.raises(FailedPreconditionError, match="no version number left"):
        tracker.register_model(m3, "churn")
    assert store.get_artifacts_by_id([m3.id or 0]) == before
    assert [v.version for v in tracker.model_versions("churn")] == [2**63 - 2, 2**63 - 1]


def test_a_deployment_inside_a_run_is_linked_to_it(store: LineageStore) -> None:
    """deploy() inside a run was recorded apart: no parent_execution_id, not in the run's
    contexts, so nothing said which run deployed the model (a run started there is its child:
    parent_execution_id and the run's contexts). Now a deployment is linked as such a child is;
    outside a run (or in a run of another store) it stays unlinked."""
    tracker = store.tracker
    version = tracker.register_model(train(store, "exp-1", 0.5), "churn")
    with store.run("Release", context="release-1") as run:
        deployment = tracker.deploy(version, environment="staging")
    [recorded] = store.get_executions_by_id([deployment])
    assert recorded.custom_properties["parent_execution_id"] == run.id
    contexts = {(c.type, c.name) for c in store.get_contexts_by_execution(deployment)}
    assert contexts == {("RegisteredModel", "churn"), ("Experiment", "release-1")}
    [release] = run.contexts
    assert deployment in {x.id for x in store.context_graph(release).executions}
    deployed = tracker.deployed_version("churn", environment="staging")
    assert deployed is not None and deployed.id == version.id

    alone = tracker.deploy(version)
    [outside] = store.get_executions_by_id([alone])
    assert "parent_execution_id" not in outside.custom_properties
    assert {c.type for c in store.get_contexts_by_execution(alone)} == {"RegisteredModel"}
    with LineageStore.open("memory") as other, other.run("Elsewhere", context="x"):
        unrelated = tracker.deploy(version)
    assert "parent_execution_id" not in store.get_executions_by_id([unrelated])[0].custom_properties

    # A run in another registered model's context: that registry's deployments stay its own.
    other = tracker.register_model(train(store, "exp-2", 0.6), "other")
    tracker.deploy(other)
    with store.run("Release", context=Context(type="RegisteredModel", name="other")):
        tracker.deploy(version)
    assert len(tracker.deployments("other")) == 1
    deployed = tracker.deployed_version("other")
    assert deployed is not None and deployed.id == other.id


def test_a_step_returning_one_of_its_inputs_is_not_the_models_producer(
    store: LineageStore,
) -> None:
    """A selection step (``select(models) -> models[i]``) records an OUTPUT event on the model
    it read: it was taken for the model's producer, so ``metric`` read the selection's
    properties (none), and ``best_version`` passed the best model over."""
    tracker = store.tracker
    models = [train(store, f"exp-{i}", acc) for i, acc in enumerate([0.7, 0.9, 0.8], 1)]
    for model in models:
        tracker.register_model(model, "churn")

    @store.step("Select", context="selection")
    def select(candidates: list[Artifact]) -> Artifact:
        return candidates[1]

    best = select(models)
    assert best.id == models[1].id
    producer = tracker.producer_of(best)
    assert producer is not None and producer.type == "Trainer"
    assert tracker.metric(best, "accuracy") == 0.9
    winner = tracker.best_version("churn", "accuracy")
    assert winner is not None and winner.id == models[1].id
    experiment = tracker.experiment_of(best)
    assert experiment is not None and experiment.name == "exp-2"


@pytest.mark.parametrize("how", ["mark", "retention"])
def test_a_model_abandoned_or_deleted_between_deploys_read_and_write_is_not_deployed(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """deploy read the model's state, then wrote the deployment: an impact mark abandoning the
    model (or retention tombstoning it) in between recorded a deployment of an ABANDONED (or
    DELETED) model, and deployed_version answered it. The write checks the state itself now."""
    tracker = store.tracker
    with store.run("Trainer") as run:
        model = run.output("Model", uri="s3://models/1")
    version = tracker.register_model(model, "churn")
    real = store.get_context_by_type_and_name
    others = [True]

    def lookup(type_name: str, name: str, type_version: str | None = None) -> Any:
        found = real(type_name, name, type_version)
        if type_name == "RegisteredModel" and others and others.pop():  # after deploy's read
            if how == "mark":
                store.impact(
                    NodeRef(NodeKind.ARTIFACT, model.id or 0),
                    mark=ImpactMark(state=ArtifactState.ABANDONED),
                )
            else:
                plan = store.plan_retention(types=["Model"])
                assert plan.tombstone_artifacts == (model.id,)
                store.apply_retention(plan)
        return found

    monkeypatch.setattr(store, "get_context_by_type_and_name", lookup)
    state = "ABANDONED" if how == "mark" else "DELETED"
    with pytest.raises(FailedPreconditionError, match=f"became {state} while it was being"):
        tracker.deploy(version)
    assert tracker.deployments("churn") == [] and tracker.deployed_version("churn") is None
    assert store.count(NodeKind.EXECUTION) == 1  # the training run alone


@pytest.mark.parametrize(
    "state",
    [ArtifactState.DELETED, ArtifactState.ABANDONED, ArtifactState.MARKED_FOR_DELETION],
)
def test_an_unservable_artifact_is_not_registered(
    store: LineageStore, state: ArtifactState
) -> None:
    """A retention tombstone (DELETED, uri gone) was registered and became latest_version,
    which deploy then refused; an abandoned model likewise. Refused now, nothing written."""
    tracker = store.tracker
    with store.run("Trainer") as run:
        model = run.output("Model", uri="s3://models/1")
    if state == ArtifactState.DELETED:  # a real tombstone
        store.apply_retention(store.plan_retention(types=["Model"]))
    else:
        store.put_artifacts([Artifact(id=model.id, state=state)], field_mask_paths=["state"])
    before = (store.get_contexts(), store.get_artifacts(), store.get_types(NodeKind.CONTEXT))
    with pytest.raises(FailedPreconditionError, match=f"is {state.name}: it cannot be registered"):
        tracker.register_model(model, "churn")
    assert (
        store.get_contexts(),
        store.get_artifacts(),
        store.get_types(NodeKind.CONTEXT),
    ) == before
    assert tracker.latest_version("churn") is None and tracker.registered_models() == []


def test_a_model_abandoned_while_it_is_registered_is_not_registered(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state is checked by the registration's write too: an impact mark abandoning the
    model between register_model's read and its write leaves it unregistered."""
    tracker = store.tracker
    with store.run("Trainer") as run:
        model = run.output("Model", uri="s3://models/1")
    real = store.put_lineage_subgraph

    def put(*args: Any, **kwargs: Any) -> Any:  # the registered model's context, then the mark
        out = real(*args, **kwargs)
        store.impact(
            NodeRef(NodeKind.ARTIFACT, model.id or 0),
            mark=ImpactMark(state=ArtifactState.ABANDONED),
        )
        return out

    monkeypatch.setattr(store, "put_lineage_subgraph", put)
    with pytest.raises(FailedPreconditionError, match="became ABANDONED while it was being"):
        tracker.register_model(model, "churn")
    assert tracker.latest_version("churn") is None
    [stored] = store.get_artifacts_by_id([model.id or 0])
    assert "model_version" not in stored.custom_properties


@pytest.mark.parametrize("key", ["model_name", "model_version"])
def test_an_impact_mark_of_a_registry_key_is_refused(store: LineageStore, key: str) -> None:
    """A mark whose custom property is the registry's own key rewrote it on every artifact it
    reached: a model downstream of the marked data set became version 7 (or of model "7")."""
    tracker = store.tracker
    with store.run("Load") as run:
        data = run.output("DataSet", uri="/d")
    with store.run("Trainer", inputs=[data]) as run:
        model = run.output("Model", uri="s3://models/1")
    version = tracker.register_model(model, "churn")
    with pytest.raises(InvalidArgumentError, match=f"{key!r} is reserved for the model registry"):
        store.impact(
            NodeRef(NodeKind.ARTIFACT, data.id or 0), mark=ImpactMark(custom_property=(key, 7))
        )
    assert tracker.model_versions("churn") == [tracker.get_model_version("churn", 1)]
    assert tracker.latest_version("churn") == version


def test_registering_again_a_version_abandoned_since_returns_it(store: LineageStore) -> None:
    """Registering an artifact again returns its version: also once an impact mark abandoned
    it (documented; nothing is written, its state says it)."""
    tracker = store.tracker
    with store.run("Trainer") as run:
        model = run.output("Model", uri="s3://models/1")
    tracker.register_model(model, "churn")
    store.impact(
        NodeRef(NodeKind.ARTIFACT, model.id or 0), mark=ImpactMark(state=ArtifactState.ABANDONED)
    )
    before = (store.get_contexts(), store.get_artifacts())
    again = tracker.register_model(model, "churn")
    assert again.version == 1 and again.artifact.state == ArtifactState.ABANDONED
    assert (store.get_contexts(), store.get_artifacts()) == before
