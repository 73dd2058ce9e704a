""" "Same inputs before" (issue 3.5): ``LineageStore.find_cached_execution`` on a real engine.

The rules under test are stated in lineage_graph/_repositories/cache.py: inputs are the INPUT
events' artifacts as a set; successful = COMPLETE or CACHED; the content fingerprint is the string
property ``digest`` (declared, else custom); properties match declared or custom values; the
newest match wins. A hypothesis test compares the lookup with a brute-force oracle that reads the
whole store through the public API.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    ArtifactState,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    NotFoundError,
    PropertyType,
)
from lineage_graph._repositories import cache as cache_module
from lineage_graph._repositories import graph as graph_module
from lineage_graph._repositories.cache import input_signature, property_matches

COMPLETE, FAILED, RUNNING, CACHED = (
    ExecutionState.COMPLETE,
    ExecutionState.FAILED,
    ExecutionState.RUNNING,
    ExecutionState.CACHED,
)
_type_names = itertools.count()


def setup_types(store: LineageStore, trainer: str = "Trainer") -> None:
    store.put_artifact_type(
        ArtifactType(name="DataSet", properties={"digest": PropertyType.STRING})
    )
    store.put_artifact_type(ArtifactType(name="Model"))
    store.put_execution_type(
        ExecutionType(
            name=trainer, properties={"lr": PropertyType.DOUBLE, "epochs": PropertyType.INT}
        )
    )


def datasets(store: LineageStore, n: int, **kw: Any) -> list[Artifact]:
    ids = store.put_artifacts([Artifact(type="DataSet", uri=f"/d{i}", **kw) for i in range(n)])
    return store.get_artifacts_by_id(ids)


def train(
    store: LineageStore,
    inputs: list[Artifact],
    *,
    state: ExecutionState = COMPLETE,
    trainer: str = "Trainer",
    outputs: int = 1,
    **props: Any,
) -> tuple[int, list[int]]:
    """One execution reading ``inputs`` (INPUT events) and writing ``outputs`` models."""
    pairs: list[tuple[Artifact, Event | None]] = [
        (Artifact(id=a.id), Event(type=EventType.INPUT, path=["in", i]))
        for i, a in enumerate(inputs)
    ]
    pairs += [
        (Artifact(type="Model", uri=f"/m{i}"), Event(type=EventType.OUTPUT, path=[f"model{i}"]))
        for i in range(outputs)
    ]
    eid, aids, _ = store.put_execution(
        Execution(type=trainer, last_known_state=state, properties=props), pairs
    )
    return eid, aids[len(inputs) :]


def assert_signatures_consistent(store: LineageStore) -> None:
    """The invariant graph/write keeps: every execution's input_sig is its INPUT set's."""
    rows = store.backend.read(
        "MATCH (e:Execution) RETURN e.id AS id, e.type_id AS t, e.input_sig AS sig",
        name="tests/input-sig",
    )
    executions = [int(r["id"]) for r in rows]
    inputs: dict[int, set[int]] = {e: set() for e in executions}
    for ev in store.get_events_by_execution_ids(executions):
        if ev.type == EventType.INPUT:
            assert ev.execution_id is not None and ev.artifact_id is not None
            inputs[ev.execution_id].add(ev.artifact_id)
    for r in rows:
        assert r["sig"] == input_signature(int(r["t"]), inputs[int(r["id"])]), r


# ------------------------------------------------------------------------------------ hits


def test_hit_by_ids_is_order_insensitive_and_returns_outputs(store: LineageStore) -> None:
    setup_types(store)
    a, b, c = datasets(store, 3)
    eid, [model] = train(store, [a, b])
    train(store, [a, c])  # a different input set: never the answer
    for chosen in ([a, b], [b, a], [b.id, a.id], [a, b, a], (x for x in [a, b.id])):
        result = store.find_cached_execution("Trainer", chosen)  # type: ignore[arg-type]
        assert result and result.hit and result.matched_by == "id"
        assert result.execution is not None and result.execution.id == eid
        assert [o.id for o in result.outputs] == [model]
        assert [(e.type, e.path) for e in result.output_events] == [(EventType.OUTPUT, ["model0"])]
    assert_signatures_consistent(store)


def test_an_input_id_past_int64_is_not_found_and_never_sent(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No artifact has an id past int64: such an input is NotFoundError on every engine, and
    no read sends it (Neo4j's driver cannot encode it: it raised OverflowError, an
    InvalidArgumentError there, where FalkorDB answered NotFoundError). The parameters of every
    read are encoded with the driver's own packer."""
    from neo4j._codec.packstream.v1 import Packer

    class Sink:
        def write(self, data: bytes) -> None:
            pass

    setup_types(store)
    [a] = datasets(store, 1)
    original = store.backend.read

    def read(query: str, params: Any = None, *, name: str = "") -> Any:
        Packer(Sink()).pack(dict(params or {}))
        return original(query, params, name=name)

    monkeypatch.setattr(store.backend, "read", read)
    for execution_type in ("Trainer", "NoSuchType"):
        for inputs in ([2**64], [a, 2**63], {"data": [a.id, 2**64]}):
            with pytest.raises(NotFoundError, match="no artifact with id"):
                store.find_cached_execution(execution_type, inputs)  # type: ignore[arg-type]


def test_subset_and_superset_miss_with_an_explanation(store: LineageStore) -> None:
    setup_types(store)
    a, b, c = datasets(store, 3)
    eid, _ = train(store, [a, b])
    subset = store.find_cached_execution("Trainer", [a])
    assert not subset and subset.execution is None and subset.outputs == []
    assert subset.nearest is not None and subset.nearest.id == eid
    assert (subset.missing_inputs, subset.extra_inputs) == ([], [b.id])
    superset = store.find_cached_execution("Trainer", [a, b, c])
    assert not superset.hit and superset.nearest is not None and superset.nearest.id == eid
    assert (superset.missing_inputs, superset.extra_inputs) == ([c.id], [])
    assert str(c.id) in superset.reason
    # Nothing in common: the newest execution of the type is the nearest.
    newest, _ = train(store, [c])
    other = store.find_cached_execution("Trainer", datasets(store, 1))
    assert other.nearest is not None and other.nearest.id == newest
    # explain=False only says no.
    quiet = store.find_cached_execution("Trainer", [a], explain=False)
    assert not quiet.hit and quiet.nearest is None


def test_an_old_nearest_execution_is_found_past_the_recent_window(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_types(store)
    setup_types(store, trainer="Other")
    a, b = datasets(store, 2)
    old, _ = train(store, [a, b])
    train(store, [a], trainer="Other")  # the newest execution is of another type
    monkeypatch.setattr(cache_module, "EXPLAIN_WINDOW", 1)
    result = store.find_cached_execution("Trainer", [a])
    assert result.nearest is not None and result.nearest.id == old
    assert result.extra_inputs == [b.id]
    fresh = datasets(store, 1)
    train(store, [a], trainer="Other")
    unrelated = store.find_cached_execution("Trainer", fresh)
    assert unrelated.nearest is not None and unrelated.nearest.id == old


def test_nearest_prefers_most_inputs_in_common_then_newest(store: LineageStore) -> None:
    setup_types(store)
    a, b, c, d = datasets(store, 4)
    train(store, [a, d])
    best, _ = train(store, [a, b, d])
    train(store, [c])
    result = store.find_cached_execution("Trainer", [a, b, c])
    assert result.nearest is not None and result.nearest.id == best
    assert (result.missing_inputs, result.extra_inputs) == ([c.id], [d.id])


#: A FAILED run read exactly the inputs asked for; 40 newer runs read them and more, or a
#: copy in place of one: (each dataset's digest, the FAILED run's inputs, the newer runs',
#: the inputs asked for, by position in the datasets).
_BEHIND_MANY: dict[str, tuple[list[str | None], list[int], list[int], list[int]]] = {
    # the engine ranked by inputs in common only: [a, b] ranked before [a]
    "one more input": ([None, None], [0], [0, 1], [0]),
    # a, a2, a3 hold one content: both copies counted as inputs in common ("also read [a3]")
    "two copies of it": (["same", "same", "same"], [0], [1, 2], [0]),
    # a, a2 hold one content, c none: a2 counted for c, ranked level ("did not read [c]")
    "a copy in place of another": (["same", "same", None], [0, 2], [0, 1], [0, 2]),
}


@pytest.mark.parametrize("window", [cache_module.EXPLAIN_WINDOW, 1])
@pytest.mark.parametrize("history", list(_BEHIND_MANY))
def test_nearest_is_the_run_that_read_exactly_the_inputs_behind_many_newer_ones(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, window: int, history: str
) -> None:
    """The nearest is the FAILED run that read exactly the inputs (nothing missing, nothing
    extra: the miss's reason is its state), whatever the number of newer runs that read them
    and more, or a copy in place of one: the engine's ranking differed from the caller's, and
    its LIMIT (32) cut the exact one (window 1: the same through cache/nearest, the type's runs
    being older than the window)."""
    digests, failed_read, newer_read, asked = _BEHIND_MANY[history]
    setup_types(store)
    setup_types(store, trainer="Other")
    data = [
        datasets(store, 1, **({"properties": {"digest": f"sha256:{d}"}} if d else {}))[0]
        for d in digests
    ]
    failed, _ = train(store, [data[i] for i in failed_read], state=ExecutionState.FAILED)
    for _ in range(40):
        train(store, [data[i] for i in newer_read])
    train(store, [data[0]], trainer="Other")  # the newest execution is of another type
    monkeypatch.setattr(cache_module, "EXPLAIN_WINDOW", window)
    result = store.find_cached_execution("Trainer", [data[i] for i in asked])
    assert not result.hit and result.nearest is not None and result.nearest.id == failed
    assert (result.missing_inputs, result.extra_inputs) == ([], [])
    assert "FAILED" in result.reason


@pytest.mark.parametrize("window", [cache_module.EXPLAIN_WINDOW, 1])
def test_nearest_is_the_run_that_read_the_inputs_in_their_roles_behind_many_swapped_ones(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """A FAILED run read a as "train" and b as "test"; 40 newer runs read them the other way
    round. Asked by role, the nearest is the FAILED one: the engine's ranking left the roles to
    the caller, and its LIMIT (32) kept only swapped runs ("read these inputs in other roles")."""
    setup_types(store)
    setup_types(store, trainer="Other")
    a, b = datasets(store, 2)

    def run(state: ExecutionState, train_set: Artifact, test_set: Artifact) -> int:
        [eid] = store.put_executions([Execution(type="Trainer", last_known_state=state)])
        store.put_events(
            [
                Event(
                    artifact_id=train_set.id, execution_id=eid, type=EventType.INPUT, path=["train"]
                ),
                Event(
                    artifact_id=test_set.id, execution_id=eid, type=EventType.INPUT, path=["test"]
                ),
            ]
        )
        return eid

    failed = run(ExecutionState.FAILED, a, b)
    for _ in range(40):
        run(COMPLETE, b, a)
    train(store, [b], trainer="Other")  # the newest execution is of another type
    monkeypatch.setattr(cache_module, "EXPLAIN_WINDOW", window)
    result = store.find_cached_execution("Trainer", {"train": a, "test": b})
    assert not result.hit and result.nearest is not None and result.nearest.id == failed
    assert "FAILED" in result.reason and "other roles" not in result.reason
    swapped = store.find_cached_execution("Trainer", {"train": b, "test": a})
    assert swapped.hit and swapped.execution is not None and swapped.execution.id != failed


@pytest.mark.parametrize("window", [cache_module.EXPLAIN_WINDOW, 1])
def test_nearest_is_the_run_that_read_a_copy_in_its_role_behind_many_in_other_roles(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """a and a2 hold one content. A FAILED run read a2 as "train"; 40 newer runs read a as
    "test". Asked for {"train": a}, the nearest is the FAILED one (same content, same role):
    the engine compared roles by artifact id, so it ranked the FAILED run as read in other
    roles too, and its LIMIT (32) kept only the newer ones ("read these inputs in other
    roles")."""
    setup_types(store)
    setup_types(store, trainer="Other")
    a, a2 = datasets(store, 2, properties={"digest": "sha256:same"})

    def run(state: ExecutionState, artifact: Artifact, role: str) -> int:
        [eid] = store.put_executions([Execution(type="Trainer", last_known_state=state)])
        store.put_events(
            [Event(artifact_id=artifact.id, execution_id=eid, type=EventType.INPUT, path=[role])]
        )
        return eid

    failed = run(ExecutionState.FAILED, a2, "train")
    for _ in range(40):
        run(COMPLETE, a, "test")
    train(store, [a], trainer="Other")  # the newest execution is of another type
    monkeypatch.setattr(cache_module, "EXPLAIN_WINDOW", window)
    result = store.find_cached_execution("Trainer", {"train": a})
    assert not result.hit and result.nearest is not None and result.nearest.id == failed
    assert "FAILED" in result.reason and "other roles" not in result.reason


def test_no_inputs_matches_executions_without_inputs(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    train(store, [a])
    eid, _ = train(store, [])
    assert store.find_cached_execution("Trainer", []).execution.id == eid  # type: ignore[union-attr]
    assert store.find_cached_execution("Trainer", [a]).execution.id != eid  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ fingerprints


def test_a_reproduced_dataset_with_the_same_digest_hits(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1, properties={"digest": "sha256:aaa"})
    [b] = datasets(store, 1)
    eid, [model] = train(store, [a, b])
    # Same content, new id: the declared property on one side, the custom one on the other.
    [a2] = datasets(store, 1, custom_properties={"digest": "sha256:aaa"})
    result = store.find_cached_execution("Trainer", [b, a2])
    assert result.hit and result.matched_by == "digest"
    assert result.execution is not None and result.execution.id == eid
    assert [o.id for o in result.outputs] == [model]
    assert not store.find_cached_execution("Trainer", [b, a2], by_fingerprint=False).hit
    # A flag that is no bool was taken for its truth: by_fingerprint="no" matched by digest.
    for flags in ({"by_fingerprint": "no"}, {"by_fingerprint": 0}, {"explain": None}):
        with pytest.raises(InvalidArgumentError, match="is True or False"):
            store.find_cached_execution("Trainer", [b, a2], **flags)  # type: ignore[arg-type]
    # An artifact without a digest matches by id only.
    [b2] = datasets(store, 1)
    miss = store.find_cached_execution("Trainer", [a2, b2])
    assert not miss.hit and (miss.missing_inputs, miss.extra_inputs) == ([b2.id], [b.id])
    # A different digest misses.
    [a3] = datasets(store, 1, properties={"digest": "sha256:bbb"})
    assert not store.find_cached_execution("Trainer", [a3, b]).hit


@pytest.mark.parametrize("digest", [" sha256:aaa", "sha256:aaa\n", "sha\x01aaa"])
def test_a_digest_the_embedded_index_cannot_find_still_hits(
    store: LineageStore, digest: str
) -> None:
    """FalkorDB's string index misses such values (_encoding.indexable): looked up by a scan."""
    setup_types(store)
    [a] = datasets(store, 1, properties={"digest": digest})
    eid, [model] = train(store, [a])
    [a2] = datasets(store, 1, custom_properties={"digest": digest})
    result = store.find_cached_execution("Trainer", [a2])
    assert result.hit and result.matched_by == "digest"
    assert result.execution is not None and result.execution.id == eid
    assert [o.id for o in result.outputs] == [model]


@pytest.mark.parametrize("digest", ["", " ", "\t\n"])
def test_an_empty_or_blank_digest_is_no_fingerprint(store: LineageStore, digest: str) -> None:
    """A digest not computed yet (``""``) made every artifact holding it the same content: one
    dataset's execution was a hit for another dataset. It is no fingerprint: matched by id."""
    setup_types(store)
    [a] = datasets(store, 1, properties={"digest": digest})
    eid, _ = train(store, [a])
    [other] = datasets(store, 1, properties={"digest": digest})
    [custom] = datasets(store, 1, properties={"digest": digest}, custom_properties={"digest": "x"})
    assert not store.find_cached_execution("Trainer", [other]).hit
    assert not store.find_cached_execution("Trainer", [custom]).hit  # the declared one counts
    same = store.find_cached_execution("Trainer", [a])
    assert same.hit and same.matched_by == "id" and same.execution is not None
    assert same.execution.id == eid


def test_declared_digest_wins_over_custom_and_only_strings_count(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1, properties={"digest": "x"}, custom_properties={"digest": "y"})
    train(store, [a])
    [same] = datasets(store, 1, properties={"digest": "x"})
    [custom_only] = datasets(store, 1, custom_properties={"digest": "y"})
    [number] = datasets(store, 1, custom_properties={"digest": 7})
    assert store.find_cached_execution("Trainer", [same]).hit
    assert not store.find_cached_execution("Trainer", [custom_only]).hit
    train(store, [number])
    [number2] = datasets(store, 1, custom_properties={"digest": 7})
    assert not store.find_cached_execution("Trainer", [number2]).hit


def test_two_inputs_with_the_same_digest_pair_one_to_one(store: LineageStore) -> None:
    setup_types(store)
    a, b = datasets(store, 2, properties={"digest": "same"})
    eid, _ = train(store, [a, b])
    c, d = datasets(store, 2, properties={"digest": "same"})
    hit = store.find_cached_execution("Trainer", [c, d])
    assert hit.execution is not None and hit.execution.id == eid
    assert not store.find_cached_execution("Trainer", [c]).hit  # one copy is not two
    assert not store.find_cached_execution("Trainer", [a, b, c]).hit


def test_many_copies_fall_back_to_the_consumers_of_one_input(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_types(store)
    copies = datasets(store, 4, properties={"digest": "popular"})
    [other] = datasets(store, 1, properties={"digest": "rare"})
    eid, _ = train(store, [copies[0], other])
    train(store, [copies[1]])
    monkeypatch.setattr(cache_module, "MAX_SIGNATURES", 2)
    [fresh] = datasets(store, 1, properties={"digest": "rare"})
    result = store.find_cached_execution("Trainer", [copies[3], fresh])
    assert result.hit and result.execution is not None and result.execution.id == eid
    assert not store.find_cached_execution("Trainer", [copies[3], copies[2]]).hit
    # A newer match with a deleted output is passed over on this path too.
    newer, [model] = train(store, [copies[2], other])
    assert store.find_cached_execution("Trainer", [copies[3], fresh]).execution.id == newer  # type: ignore[union-attr]
    store.put_artifacts([Artifact(id=model, type="Model", uri="/m0", state=ArtifactState.DELETED)])
    with store.backend.record() as log:  # type: ignore[attr-defined]
        result = store.find_cached_execution("Trainer", [copies[3], fresh])
    assert result.execution is not None and result.execution.id == eid
    assert "cache/candidates_by_anchor_usable" in [s.name for s in log]


@pytest.mark.parametrize("max_signatures", [cache_module.MAX_SIGNATURES, 2])
def test_a_retention_tombstone_never_hits(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, max_signatures: int
) -> None:
    """A tombstoned execution keeps its state (COMPLETE) and its outputs stay LIVE, but it is
    never a hit: neither through the consumers of an input (more same-content copies than
    MAX_SIGNATURES: it was, by id and by digest) nor after an input is added to it (which gives
    it a signature again: it was)."""
    setup_types(store)
    monkeypatch.setattr(cache_module, "MAX_SIGNATURES", max_signatures)
    copies = datasets(store, 4, properties={"digest": "same"})
    older, _ = train(store, [copies[0]])
    eid, _ = train(store, [copies[0]])
    assert store.find_cached_execution("Trainer", [copies[1]]).execution.id == eid  # type: ignore[union-attr]
    store.apply_retention(store.plan_retention(kinds=[NodeKind.EXECUTION], types=["Trainer"]))
    [tomb] = store.get_executions_by_id([eid])
    assert tomb.last_known_state == COMPLETE
    for asked in ([copies[0]], [copies[1]]):
        result = store.find_cached_execution("Trainer", asked)
        assert not result.hit, result.reason
        assert result.reason.endswith("is a retention tombstone"), result.reason
        result = store.find_cached_execution("Trainer", asked, explain=False)
        assert not result.hit
    store.put_events([Event(artifact_id=copies[2].id, execution_id=eid, type=EventType.INPUT)])
    assert not store.find_cached_execution("Trainer", [copies[0], copies[2]]).hit
    assert not store.find_cached_execution("Trainer", [copies[1], copies[3]]).hit
    # A later run on the same inputs hits as usual.
    newer, _ = train(store, [copies[0]])
    assert store.find_cached_execution("Trainer", [copies[1]]).execution.id == newer  # type: ignore[union-attr]
    assert older != newer


# ------------------------------------------------------------------------------ properties


def test_properties_match_declared_or_custom_and_explain_differences(
    store: LineageStore,
) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    eid, _ = train(store, [a], lr=0.1, epochs=3)
    assert store.find_cached_execution("Trainer", [a], properties={"lr": 0.1}).hit
    assert store.find_cached_execution("Trainer", [a], properties={"lr": 0.1, "epochs": 3}).hit
    assert store.find_cached_execution("Trainer", [a], properties={"epochs": 3.0}).hit
    miss = store.find_cached_execution("Trainer", [a], properties={"lr": 0.2, "epochs": 3})
    assert not miss.hit and miss.nearest is not None and miss.nearest.id == eid
    assert miss.property_diffs == {"lr": (0.2, 0.1)}
    assert (miss.missing_inputs, miss.extra_inputs) == ([], [])
    # None: the property must be absent.
    assert not store.find_cached_execution("Trainer", [a], properties={"epochs": None}).hit
    assert store.find_cached_execution("Trainer", [a], properties={"seed": None}).hit
    # Custom properties count too, with their kind.
    store.put_execution(
        Execution(type="Trainer", last_known_state=COMPLETE, custom_properties={"tag": "x"}),
        [(Artifact(id=a.id), Event(type=EventType.INPUT))],
    )
    assert store.find_cached_execution("Trainer", [a], properties={"tag": "x"}).hit
    assert not store.find_cached_execution("Trainer", [a], properties={"tag": True}).hit
    with pytest.raises(InvalidArgumentError):
        store.find_cached_execution("Trainer", [a], properties={"lr": object()})


def test_a_miss_on_an_int_a_double_rounds_to_names_the_property(store: LineageStore) -> None:
    """The explanation compared numbers through float(): 2**53 and 2**53 + 1 were equal, so a
    miss on that property said the nearest run "matches but was recorded after this lookup
    began" and gave no property_diffs."""
    setup_types(store)
    [a] = datasets(store, 1)
    eid = store.put_execution(
        Execution(type="Trainer", last_known_state=COMPLETE, custom_properties={"n": 2**53 + 1}),
        [(Artifact(id=a.id), Event(type=EventType.INPUT))],
    )[0]
    miss = store.find_cached_execution("Trainer", [a], properties={"n": 2**53})
    assert not miss.hit and miss.nearest is not None and miss.nearest.id == eid
    assert miss.property_diffs == {"n": (2**53, 2**53 + 1)}
    assert "different properties ['n']" in miss.reason
    assert store.find_cached_execution("Trainer", [a], properties={"n": 2**53 + 1}).hit


def test_a_negative_zero_matches_only_a_negative_zero(store: LineageStore) -> None:
    """A double is stored as its exact text: -0.0 never matched 0.0, yet a wanted -0.0 matched
    a stored int 0 (as the int 0 it is equal to), and a miss on the sign said the nearest run
    "matches but was recorded after this lookup began". -0.0 is now a value of its own."""
    setup_types(store)
    values = [0, 0.0, -0.0]
    for stored in values:
        [a] = datasets(store, 1)
        eid = store.put_execution(
            Execution(type="Trainer", last_known_state=COMPLETE, custom_properties={"v": stored}),
            [(Artifact(id=a.id), Event(type=EventType.INPUT))],
        )[0]
        for wanted in values:
            found = store.find_cached_execution("Trainer", [a], properties={"v": wanted})
            same_sign = str(stored).startswith("-") == str(wanted).startswith("-")
            assert found.hit == same_sign, (stored, wanted)
            if not found.hit:
                assert found.nearest is not None and found.nearest.id == eid
                assert found.property_diffs == {"v": (wanted, stored)}


@pytest.mark.parametrize(
    ("stored", "wanted"),
    [
        # 2.0**63 is no int64: its INT alternative was sent as 2**63, which FalkorDB read as
        # 2**63 - 1, so it hit a run recorded with 2**63 - 1
        (2**63 - 1, 2.0**63),
        # a struct is its JSON text (a miss, as it was; == called the two equal, so the miss
        # was explained as "matches but was recorded after this lookup began")
        ({"a": 1}, {"a": 1.0}),
        ({"a": True}, {"a": 1}),
    ],
)
def test_values_no_stored_value_equals_miss_and_are_named(
    store: LineageStore, stored: Any, wanted: Any
) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    eid = store.put_execution(
        Execution(type="Trainer", last_known_state=COMPLETE, custom_properties={"v": stored}),
        [(Artifact(id=a.id), Event(type=EventType.INPUT))],
    )[0]
    found = store.find_cached_execution("Trainer", [a], properties={"v": wanted})
    assert not found.hit and found.nearest is not None and found.nearest.id == eid
    assert found.property_diffs == {"v": (wanted, stored)}
    assert store.find_cached_execution("Trainer", [a], properties={"v": stored}).hit


#: Values at the edges of the property rule: int64 and double bounds, integral doubles, signed
#: zeros, NaN and infinities, bools, text that reads as a number, structs of each kind.
_EDGE_VALUES: list[Any] = [
    *(0, 1, 2**53, 2**53 + 1, 2**63 - 1, -(2**63)),
    *(0.0, -0.0, 1.0, float(2**53), 2.0**63, -(2.0**63), 0.1 + 0.2, 0.3),
    *(float("nan"), float("inf"), True, False, "1", "1.0"),
    *({"a": 1}, {"a": 1.0}, {"a": True}),
]


def test_the_engine_matches_values_as_the_python_rule_says(store: LineageStore) -> None:
    """Every pair of edge values: the lookup hits iff ``property_matches`` (the rule's Python
    statement, which the miss explanation uses) says the stored value equals the wanted one.
    They disagreed on 2.0**63 and 2**63 - 1 (a hit), -0.0 and 0 (a hit), and structs of the
    same Python value (a miss explained as a match)."""
    setup_types(store)
    inputs = datasets(store, len(_EDGE_VALUES))
    disagree = []
    for stored, a in zip(_EDGE_VALUES, inputs, strict=True):
        eid = store.put_execution(
            Execution(type="Trainer", last_known_state=COMPLETE, custom_properties={"v": stored}),
            [(Artifact(id=a.id), Event(type=EventType.INPUT))],
        )[0]
        [execution] = store.get_executions_by_id([eid])
        for wanted in _EDGE_VALUES:
            found = store.find_cached_execution(
                "Trainer", [a], properties={"v": wanted}, explain=False
            )
            if found.hit != property_matches(execution, "v", wanted):
                disagree.append((stored, wanted, found.hit))
    assert disagree == []


def test_declared_and_custom_properties_are_matched_apart(store: LineageStore) -> None:
    """``declared_properties`` / ``custom_properties`` look at one kind each (``properties``
    at both): a metric logged under a declared property's name is not that property."""
    setup_types(store)
    [a] = datasets(store, 1)
    eid = store.put_execution(
        Execution(
            type="Trainer",
            last_known_state=COMPLETE,
            properties={"epochs": 10},
            custom_properties={"epochs": 7, "lr": 0.5},
        ),
        [(Artifact(id=a.id), Event(type=EventType.INPUT))],
    )[0]
    find = store.find_cached_execution
    assert find("Trainer", [a], properties={"epochs": 7}).hit  # declared or custom
    assert find("Trainer", [a], declared_properties={"epochs": 10}).hit
    miss = find("Trainer", [a], declared_properties={"epochs": 7})
    assert not miss.hit and miss.nearest is not None and miss.nearest.id == eid
    assert miss.property_diffs == {"epochs": (7, 10)}
    assert find("Trainer", [a], custom_properties={"epochs": 7}).hit
    assert not find("Trainer", [a], custom_properties={"epochs": 10}).hit
    # None: unset in that kind only.
    assert find("Trainer", [a], declared_properties={"lr": None}).hit
    assert not find("Trainer", [a], custom_properties={"lr": None}).hit
    assert not find("Trainer", [a], properties={"lr": None}).hit
    assert find("Trainer", [a], declared_properties={"epochs": 10.0}, custom_properties={"lr": 0.5})
    with pytest.raises(InvalidArgumentError):
        find("Trainer", [a], declared_properties=[("epochs", 10)])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        find("Trainer", [a], custom_properties={"": 1})


# ---------------------------------------------------------------------------- states, order


def test_failed_and_running_executions_never_hit(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    train(store, [a], state=RUNNING)
    miss = store.find_cached_execution("Trainer", [a])
    assert not miss.hit and "RUNNING" in miss.reason
    older, _ = train(store, [a], state=COMPLETE)
    train(store, [a], state=FAILED)
    train(store, [a], state=ExecutionState.CANCELED)
    assert store.find_cached_execution("Trainer", [a]).execution.id == older  # type: ignore[union-attr]


def test_the_newest_successful_execution_wins(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    ids = [train(store, [a], state=s)[0] for s in (COMPLETE, CACHED, COMPLETE, CACHED)]
    assert store.find_cached_execution("Trainer", [a]).execution.id == ids[-1]  # type: ignore[union-attr]
    # Many candidates with the same inputs: paging through them finds the one that matches.
    for i in range(40):
        train(store, [a], lr=float(i))
    hit = store.find_cached_execution("Trainer", [a], properties={"lr": 0.0})
    assert hit.execution is not None and hit.execution.properties == {"lr": 0.0}


def test_type_name_and_version_select_the_executions(store: LineageStore) -> None:
    setup_types(store)
    setup_types(store, trainer="Other")
    store.put_execution_type(ExecutionType(name="Trainer", version="2"))
    [a] = datasets(store, 1)
    train(store, [a], trainer="Other")
    assert not store.find_cached_execution("Trainer", [a]).hit
    eid, _, _ = store.put_execution(
        Execution(type="Trainer", type_version="2", last_known_state=COMPLETE),
        [(Artifact(id=a.id), Event(type=EventType.INPUT))],
    )
    assert not store.find_cached_execution("Trainer", [a]).hit
    versioned = store.get_execution_type("Trainer", "2")
    assert store.find_cached_execution(versioned, [a]).execution.id == eid  # type: ignore[union-attr]
    assert store.find_cached_execution("Trainer", [a], type_version="2").hit
    unknown = store.find_cached_execution("Nope", [a])
    assert not unknown.hit and "Nope" in unknown.reason


def test_a_miss_on_a_type_held_in_versions_only_says_so(store: LineageStore) -> None:
    """find_cached_execution("T") on a store whose T exists in versions only (MLMD type
    versions) answered "no execution type named 'T'", which ls types and get_execution_types
    contradict; the reason now names the versions and type_version."""
    setup_types(store)
    store.put_execution_type(ExecutionType(name="T", version="v1"))
    [a] = datasets(store, 1)
    miss = store.find_cached_execution("T", [a])
    assert miss.reason == "no unversioned execution type 'T' (its versions: v1; see type_version)"
    other = store.find_cached_execution("T", [a], type_version="v9")
    assert (
        other.reason == "no version 'v9' of execution type 'T' (its versions: v1; see type_version)"
    )
    given = store.find_cached_execution(ExecutionType(name="T", version="v9"), [a])
    assert given.reason == other.reason
    assert store.find_cached_execution("Nope", [a]).reason == "no execution type named 'Nope'"


def test_bad_inputs_are_rejected(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    with pytest.raises(NotFoundError):
        store.find_cached_execution("Trainer", [a, 999_999])
    with pytest.raises(InvalidArgumentError):
        store.find_cached_execution("Trainer", [Artifact(type="DataSet")])
    with pytest.raises(InvalidArgumentError):
        store.find_cached_execution("Trainer", [0])
    with pytest.raises(InvalidArgumentError):
        store.find_cached_execution("Trainer", a)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        store.find_cached_execution(3, [a])  # type: ignore[arg-type]
    # Not a collection at all (None, as store.run's "no inputs"; a number): it raised a bare
    # TypeError ("'NoneType' object is not iterable"), not the documented InvalidArgumentError.
    for inputs in (None, 2.5, object()):
        with pytest.raises(InvalidArgumentError, match=r"\(\[\] for none\)"):
            store.find_cached_execution("Trainer", inputs)  # type: ignore[arg-type]
    # An artifact built without validation (model_construct) is checked as an id given alone:
    # a list id was a bare "unhashable type", a str one a bare TypeError, True artifact 1.
    for bad in ([1], str(a), True):
        node = Artifact.model_construct(id=bad)
        for inputs in ([node], {"in": node}, {"in": [node]}):
            with pytest.raises(InvalidArgumentError, match="positive artifact id"):
                store.find_cached_execution("Trainer", inputs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ roles, unusable outputs


def test_inputs_by_role_must_have_been_read_in_those_roles(store: LineageStore) -> None:
    setup_types(store)
    a, b, c = datasets(store, 3)
    eid, [model] = train(store, [a, b])  # read as ["in", 0] and ["in", 1]
    hit = store.find_cached_execution("Trainer", {"in": [a, b]})
    assert hit.execution is not None and hit.execution.id == eid
    assert [o.id for o in hit.outputs] == [model]
    swapped = store.find_cached_execution("Trainer", {"in": [b, a]})
    assert not swapped.hit and swapped.nearest is not None and swapped.nearest.id == eid
    assert (swapped.missing_inputs, swapped.extra_inputs) == ([], [])
    assert "other roles" in swapped.reason
    assert not store.find_cached_execution("Trainer", {"train": a, "test": b}, explain=False)
    assert not store.find_cached_execution("Trainer", {"in": [a, b, c]})
    # As a set, roles do not matter (the documented rule for a collection).
    assert store.find_cached_execution("Trainer", [b, a]).hit
    # Both orders recorded: each role assignment finds its own execution, not the newest.
    other, _ = train(store, [b, a])
    assert store.find_cached_execution("Trainer", {"in": [a, b]}).execution.id == eid  # type: ignore[union-attr]
    assert store.find_cached_execution("Trainer", {"in": [b, a]}).execution.id == other  # type: ignore[union-attr]
    assert store.find_cached_execution("Trainer", [a, b]).execution.id == other  # type: ignore[union-attr]


def test_inputs_by_role_match_by_digest_in_the_same_role(store: LineageStore) -> None:
    setup_types(store)
    a, b = datasets(store, 2, properties={"digest": "sha:1"})
    c, d = datasets(store, 2)
    eid, _ = train(store, [a, c])
    hit = store.find_cached_execution("Trainer", {"in": [b, c]})
    assert hit.execution is not None and hit.execution.id == eid and hit.matched_by == "digest"
    assert not store.find_cached_execution("Trainer", {"in": [c, b]})
    assert not store.find_cached_execution("Trainer", {"in": [b, d]})


@pytest.mark.parametrize(
    "bad",
    [{"": [1]}, {3: [1]}, {"in": [0]}, {"in": "x"}, {"in": [True]}, {"in": None}],
    ids=["empty-key", "int-key", "zero-id", "str", "bool", "none"],
)
def test_bad_inputs_by_role_are_rejected(store: LineageStore, bad: Any) -> None:
    setup_types(store)
    datasets(store, 1)
    with pytest.raises(InvalidArgumentError):
        store.find_cached_execution("Trainer", bad)


@pytest.mark.parametrize(
    "state",
    [ArtifactState.DELETED, ArtifactState.ABANDONED, ArtifactState.MARKED_FOR_DELETION],
)
def test_an_execution_with_an_unusable_output_is_passed_over(
    store: LineageStore, state: ArtifactState
) -> None:
    setup_types(store)
    a, b = datasets(store, 2)
    older, _ = train(store, [a, b])
    newer, [model] = train(store, [a, b])
    assert store.find_cached_execution("Trainer", [a, b]).execution.id == newer  # type: ignore[union-attr]
    store.put_artifacts([Artifact(id=model, type="Model", uri="/m0", state=state)])
    for inputs in ([a, b], {"in": [a, b]}):
        result = store.find_cached_execution("Trainer", inputs)
        assert result.execution is not None and result.execution.id == older
    [old_model] = [o.id for o in store.find_cached_execution("Trainer", [a, b]).outputs]
    store.put_artifacts([Artifact(id=old_model, type="Model", uri="/m0", state=state)])
    miss = store.find_cached_execution("Trainer", [a, b])
    assert not miss.hit and miss.nearest is not None and miss.nearest.id == newer
    assert "deleted, abandoned or marked for deletion" in miss.reason
    quiet = store.find_cached_execution("Trainer", [a, b], explain=False)
    assert not quiet.hit and "usable outputs" in quiet.reason
    # A live or REFERENCE output does not stop a hit.
    store.put_artifacts(
        [Artifact(id=old_model, type="Model", uri="/m0", state=ArtifactState.REFERENCE)]
    )
    assert store.find_cached_execution("Trainer", [a, b]).execution.id == older  # type: ignore[union-attr]


def test_a_page_of_unusable_matches_goes_on_to_older_executions(store: LineageStore) -> None:
    setup_types(store)
    a, b = datasets(store, 2)
    reusable, _ = train(store, [a, b])
    for _ in range(cache_module._PAGE + 3):
        _, [model] = train(store, [a, b])
        store.put_artifacts(
            [Artifact(id=model, type="Model", uri="/m0", state=ArtifactState.DELETED)]
        )
    for inputs in ([a, b], {"in": [a, b]}):
        result = store.find_cached_execution("Trainer", inputs)
        assert result.execution is not None and result.execution.id == reusable


def cached_again(store: LineageStore, inputs: list[Artifact], model: int, times: int) -> None:
    """``times`` CACHED executions on ``inputs`` reusing ``model``, as a cached step records."""
    for _ in range(times):
        store.put_execution(
            Execution(type="Trainer", last_known_state=CACHED),
            [(Artifact(id=a.id), Event(type=EventType.INPUT, path=["in", i]))
             for i, a in enumerate(inputs)]
            + [(Artifact(id=model), Event(type=EventType.OUTPUT, path=["model0"]))],
        )  # fmt: skip


def test_many_matches_over_unusable_outputs_cost_no_more_reads(store: LineageStore) -> None:
    """A step cached N times over one output that is then deleted: once the lookup meets one,
    it leaves the others out in the engine (it read each one's outputs, N round trips)."""
    setup_types(store)
    a, b = datasets(store, 2)
    _, [model] = train(store, [a, b])
    cached_again(store, [a, b], model, 3 * cache_module._PAGE)
    store.put_artifacts([Artifact(id=model, type="Model", uri="/m0", state=ArtifactState.DELETED)])
    for inputs in ([a, b], {"in": [a, b]}):
        with store.backend.record() as log:  # type: ignore[attr-defined]
            result = store.find_cached_execution("Trainer", inputs, explain=False)
        assert not result.hit
        assert [s.name for s in log] == ["cache/lookup", "cache/candidates_usable"]
    # A live match among them: found without reading each dead one's outputs.
    live, _ = train(store, [a, b])
    cached_again(store, [a, b], model, 3 * cache_module._PAGE)
    with store.backend.record() as log:  # type: ignore[attr-defined]
        result = store.find_cached_execution("Trainer", [a, b], explain=False)
    assert result.execution is not None and result.execution.id == live
    assert len(log) <= 3, [s.name for s in log]


def test_a_hit_reads_one_statement_however_often_the_step_ran(store: LineageStore) -> None:
    setup_types(store)
    a, b = datasets(store, 2)
    _, [model] = train(store, [a, b])
    cached_again(store, [a, b], model, 3 * cache_module._PAGE)
    with store.backend.record() as log:  # type: ignore[attr-defined]
        assert store.find_cached_execution("Trainer", {"in": [a, b]}, explain=False).hit
    assert [s.name for s in log] == ["cache/lookup"]


# ----------------------------------------------------------------------------- write paths


def test_inputs_added_later_by_put_events_update_the_fingerprint(store: LineageStore) -> None:
    setup_types(store)
    a, b = datasets(store, 2)
    [eid] = store.put_executions([Execution(type="Trainer", last_known_state=COMPLETE)])
    assert store.find_cached_execution("Trainer", []).execution.id == eid  # type: ignore[union-attr]
    store.put_events([Event(artifact_id=a.id, execution_id=eid, type=EventType.INPUT)])
    assert store.find_cached_execution("Trainer", [a]).execution.id == eid  # type: ignore[union-attr]
    assert not store.find_cached_execution("Trainer", []).hit
    store.put_events(
        [
            Event(artifact_id=b.id, execution_id=eid, type=EventType.INPUT),
            # Declared and internal inputs, and outputs, are not cache inputs.
            Event(artifact_id=a.id, execution_id=eid, type=EventType.DECLARED_INPUT),
            Event(artifact_id=b.id, execution_id=eid, type=EventType.INTERNAL_INPUT),
            Event(artifact_id=b.id, execution_id=eid, type=EventType.OUTPUT),
        ]
    )
    assert not store.find_cached_execution("Trainer", [a]).hit
    result = store.find_cached_execution("Trainer", [a, b])
    assert result.execution is not None and result.execution.id == eid
    assert [o.id for o in result.outputs] == [b.id]
    assert_signatures_consistent(store)


def test_rewriting_an_execution_keeps_its_fingerprint(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    eid, _ = train(store, [a], state=RUNNING)
    store.put_executions([Execution(id=eid, type="Trainer", last_known_state=COMPLETE)])
    assert store.find_cached_execution("Trainer", [a]).hit
    store.put_executions(
        [Execution(id=eid, last_known_state=CACHED, properties={"lr": 1.0})],
        field_mask_paths=["last_known_state"],
    )
    assert store.find_cached_execution("Trainer", [a]).execution.id == eid  # type: ignore[union-attr]
    assert_signatures_consistent(store)


def test_put_lineage_subgraph_records_fingerprints(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    inp = Event(type=EventType.INPUT)
    out = Event(type=EventType.OUTPUT)
    eids, aids, _ = store.put_lineage_subgraph(
        [
            Execution(type="Trainer", last_known_state=COMPLETE),
            Execution(type="Trainer", last_known_state=COMPLETE, properties={"lr": 0.5}),
        ],
        [Artifact(id=a.id), Artifact(type="DataSet", uri="/new"), Artifact(type="Model")],
        [],
        [(0, 0, inp), (0, 1, inp), (0, 2, out), (1, 1, inp)],
    )
    both = store.find_cached_execution("Trainer", [a, aids[1]])
    assert both.execution is not None and both.execution.id == eids[0]
    assert [o.id for o in both.outputs] == [aids[2]]
    assert store.find_cached_execution("Trainer", [aids[1]]).execution.id == eids[1]  # type: ignore[union-attr]
    assert_signatures_consistent(store)


def test_the_pipeline_api_caches_through_the_index(store: LineageStore) -> None:
    setup_types(store)
    [a] = datasets(store, 1)
    with store.run("Trainer", inputs=[a], properties={"lr": 0.1}) as first:
        first.output("Model", uri="/m")
    with store.run("Trainer", inputs=[a], properties={"lr": 0.1}) as again:
        assert again.cached is not None and again.cached.execution.id == first.id
    with store.run("Trainer", inputs=[a], properties={"lr": 0.1, "epochs": 2}) as changed:
        assert changed.cached is None
    assert_signatures_consistent(store)


def test_concurrent_input_writes_to_one_execution_keep_the_fingerprint(
    store: LineageStore,
) -> None:
    setup_types(store)
    inputs = datasets(store, 24)
    [eid] = store.put_executions([Execution(type="Trainer", last_known_state=COMPLETE)])
    errors: list[BaseException] = []

    def add(part: list[Artifact]) -> None:
        try:
            for x in part:
                store.put_events([Event(artifact_id=x.id, execution_id=eid, type=EventType.INPUT)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(inputs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.find_cached_execution("Trainer", inputs).execution.id == eid  # type: ignore[union-attr]
    assert_signatures_consistent(store)


@pytest.mark.parametrize("few_rows", [100, 0], ids=["by-seek", "by-position"])
def test_inputs_added_in_batches_advance_the_fingerprint(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, few_rows: int
) -> None:
    """Existing executions gain INPUT events over several writes (the stored fingerprint is
    advanced by the new inputs, without reading the stored ones), mixed with other event types
    and with an execution whose fingerprint is missing (then computed from every stored input)."""
    monkeypatch.setattr(graph_module, "FEW_ROWS", few_rows)
    setup_types(store)
    arts = datasets(store, 9)
    eids = store.put_executions(
        [Execution(type="Trainer", last_known_state=COMPLETE) for _ in range(4)]
    )
    store.put_events([Event(artifact_id=arts[3].id, execution_id=eids[3], type=EventType.INPUT)])
    store.backend.write(  # as in a store older than the fingerprint: computed from the inputs
        "MATCH (e:Execution) WHERE e.id = $id REMOVE e.input_sig",
        {"id": eids[3]},
        name="tests/no-fingerprint",
    )
    for k in range(3):
        store.put_events(
            [
                Event(artifact_id=arts[3 * k + i].id, execution_id=e, type=EventType.INPUT)
                for i, e in enumerate(eids[:3])
            ]
            + [
                Event(artifact_id=arts[k].id, execution_id=eids[0], type=EventType.DECLARED_INPUT),
                Event(artifact_id=arts[8 - k].id, execution_id=eids[3], type=EventType.INPUT),
            ]
        )
        assert_signatures_consistent(store)
    found = store.find_cached_execution("Trainer", [arts[0], arts[3], arts[6]])
    assert found.execution is not None and found.execution.id == eids[0]
    found = store.find_cached_execution("Trainer", [arts[3], arts[8], arts[7], arts[6]])
    assert found.execution is not None and found.execution.id == eids[3]


@pytest.mark.parametrize("few_rows", [100, 0], ids=["by-seek", "by-position"])
def test_an_input_stored_already_refuses_the_write_and_keeps_the_fingerprint(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, few_rows: int
) -> None:
    """The write itself finds an INPUT event stored already (no read before it): it aborts,
    nothing of it is written (the fingerprint advanced in the same statement included), and the
    caller hears AlreadyExistsError naming the event."""
    monkeypatch.setattr(graph_module, "FEW_ROWS", few_rows)
    setup_types(store)
    a, b, c, d, x = datasets(store, 5)
    [eid] = store.put_executions([Execution(type="Trainer", last_known_state=COMPLETE)])
    store.put_events([Event(artifact_id=a.id, execution_id=eid, type=EventType.INPUT)])
    with pytest.raises(
        AlreadyExistsError, match=rf"event \(artifact {a.id}, execution {eid}, INPUT"
    ):
        store.put_events(
            [
                Event(artifact_id=i, execution_id=eid, type=EventType.INPUT)
                for i in (b.id, c.id, d.id, a.id, x.id)
            ]
        )
    assert len(store.get_events_by_execution_ids([eid])) == 1
    assert_signatures_consistent(store)
    found = store.find_cached_execution("Trainer", [a])
    assert found.execution is not None and found.execution.id == eid


@pytest.mark.parametrize("missing", ["artifact", "execution"])
@pytest.mark.parametrize("few_rows", [100, 0], ids=["by-seek", "by-position"])
def test_an_input_with_a_missing_end_refuses_the_write_and_keeps_the_fingerprints(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, few_rows: int, missing: str
) -> None:
    """Stored executions' fingerprints are advanced by sums GraphWriter computes, without the
    engine reading the artifacts: an INPUT whose artifact (or execution) does not exist aborts
    the write in its event part, and no fingerprint is advanced."""
    monkeypatch.setattr(graph_module, "FEW_ROWS", few_rows)
    setup_types(store)
    arts = datasets(store, 5)
    eids = store.put_executions(
        [Execution(type="Trainer", last_known_state=COMPLETE) for _ in range(5)]
    )
    store.put_events([Event(artifact_id=arts[0].id, execution_id=eids[0], type=EventType.INPUT)])
    absent = max(*eids, *(a.id for a in arts)) + 1000
    events = [
        Event(artifact_id=a.id, execution_id=e, type=EventType.INPUT)
        for a, e in zip(arts[1:], eids, strict=False)
    ]
    events.append(
        Event(artifact_id=absent, execution_id=eids[4], type=EventType.INPUT)
        if missing == "artifact"
        else Event(artifact_id=arts[0].id, execution_id=absent, type=EventType.INPUT)
    )
    with pytest.raises(InvalidArgumentError, match=rf"no {missing} with id \[{absent}\]"):
        store.put_events(events)
    assert len(store.get_events_by_execution_ids(eids)) == 1
    assert_signatures_consistent(store)
    found = store.find_cached_execution("Trainer", [arts[0]])
    assert found.execution is not None and found.execution.id == eids[0]


# ------------------------------------------------------------------------------ the oracle


def oracle(
    store: LineageStore,
    type_name: str,
    given: list[int] | dict[str, list[int]],
    properties: dict[str, Any],
    by_fingerprint: bool,
) -> int | None:
    """Brute force over everything the store holds, straight from the documented rules."""
    artifacts = {a.id: a for a in store.get_artifacts()}

    def key(artifact_id: int) -> tuple[str, Any]:
        a = artifacts[artifact_id]
        for source in (a.properties, a.custom_properties):
            digest = source.get("digest")
            if by_fingerprint and isinstance(digest, str):
                return ("digest", digest)
        return ("id", artifact_id)

    if isinstance(given, dict):  # by role: each input with its event path
        wanted = Counter((key(i), (k, n)) for k, ids in given.items() for n, i in enumerate(ids))
    else:
        wanted = Counter((key(i), None) for i in set(given))
    executions = store.get_executions_by_type(type_name)
    events = store.get_events_by_execution_ids([e.id for e in executions if e.id is not None])
    inputs: dict[int, list[tuple[int, Any]]] = {e.id: [] for e in executions if e.id is not None}
    outputs: dict[int, list[int]] = {e.id: [] for e in executions if e.id is not None}
    for ev in events:
        assert ev.execution_id is not None and ev.artifact_id is not None
        if ev.type == EventType.INPUT:
            path = tuple(ev.path) if isinstance(given, dict) else None
            inputs[ev.execution_id].append((ev.artifact_id, path))
        elif ev.type == EventType.OUTPUT:
            outputs[ev.execution_id].append(ev.artifact_id)
    unusable = (ArtifactState.DELETED, ArtifactState.ABANDONED, ArtifactState.MARKED_FOR_DELETION)
    matches = [
        e.id
        for e in executions
        if e.id is not None
        and e.last_known_state in (COMPLETE, CACHED)
        and Counter((key(i), path) for i, path in inputs[e.id]) == wanted
        and not any(artifacts[o].state in unusable for o in outputs[e.id])
        and all(property_matches(e, n, v) for n, v in properties.items())
    ]
    return max(matches, default=None)


_scenario = st.fixed_dictionaries(
    {
        "artifacts": st.lists(st.sampled_from([None, "d1", "d2", "c1"]), min_size=1, max_size=6),
        "executions": st.lists(
            st.tuples(
                st.sets(st.integers(0, 3), max_size=3),
                st.sampled_from([COMPLETE, CACHED, FAILED, RUNNING]),
                st.sampled_from([None, 0.1, 0.2]),
                st.booleans(),  # inputs by put_execution, or later by put_events
                st.booleans(),  # inputs read in reverse order (other roles)
                st.sampled_from([ArtifactState.LIVE, ArtifactState.LIVE, ArtifactState.DELETED]),
            ),
            max_size=6,
        ),
        "queries": st.lists(
            st.tuples(
                # a set of artifacts, or the set an execution read (index): hits are likelier
                st.one_of(st.sets(st.integers(0, 3), max_size=3), st.integers(0, 5)),
                st.sampled_from([{}, {"lr": 0.1}, {"lr": None}]),
                st.booleans(),
                st.sampled_from([None, False, True]),  # a set, or by role (reversed or not)
            ),
            min_size=1,
            max_size=4,
        ),
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=_scenario)
def test_lookup_agrees_with_a_brute_force_oracle(
    store: LineageStore, scenario: dict[str, Any]
) -> None:
    trainer = f"T{next(_type_names)}"  # every example on its own type: examples stay apart
    setup_types(store, trainer=trainer)
    salt = trainer + ":"
    made = []
    for digest in scenario["artifacts"]:
        if digest is None:
            made.append(Artifact(type="DataSet"))
        elif digest.startswith("c"):
            made.append(Artifact(type="DataSet", custom_properties={"digest": salt + digest}))
        else:
            made.append(Artifact(type="DataSet", properties={"digest": salt + digest}))
    ids = store.put_artifacts(made)
    for chosen, state, lr, later, reverse, output_state in scenario["executions"]:
        chosen_ids = [ids[i] for i in sorted(chosen, reverse=reverse) if i < len(ids)]
        props = {} if lr is None else {"lr": lr}
        execution = Execution(type=trainer, last_known_state=state, properties=props)
        events = [Event(type=EventType.INPUT, path=["in", n]) for n in range(len(chosen_ids))]
        output = (Artifact(type="Model", state=output_state), Event(type=EventType.OUTPUT))
        if later:
            eid, _, _ = store.put_execution(execution, [output])
            store.put_events(
                [
                    Event(artifact_id=i, execution_id=eid, type=EventType.INPUT, path=e.path)
                    for i, e in zip(chosen_ids, events, strict=True)
                ]
            )
        else:
            store.put_execution(
                execution,
                [(Artifact(id=i), e) for i, e in zip(chosen_ids, events, strict=True)] + [output],
            )
    for chosen, props, by_fingerprint, by_role in scenario["queries"]:
        if isinstance(chosen, int):
            executions = scenario["executions"]
            chosen = executions[chosen % len(executions)][0] if executions else set()
        given_ids = [ids[i] for i in sorted(chosen, reverse=bool(by_role)) if i < len(ids)]
        given: list[int] | dict[str, list[int]] = (
            given_ids if by_role is None else {"in": given_ids}
        )
        result = store.find_cached_execution(
            trainer, given, properties=props, by_fingerprint=by_fingerprint
        )
        expected = oracle(store, trainer, given, props, by_fingerprint)
        assert (result.execution.id if result.execution else None) == expected
        assert result.hit == (expected is not None)
