"""find_cached_execution ("did this step already run on these inputs?") against an oracle of its
own, on what tests/lineage/test_questions_oracle.py does not make: inputs by role (event paths
``[key]`` / ``[key, i]``), content fingerprints (``digest``: shared, blank, missing), the
question asked with repeats and in another order, input events of the other input types
(``DECLARED_INPUT``, ``INTERNAL_INPUT``: no read), an artifact both read and written by one
execution, executions without events, and earlier runs in every state (only ``COMPLETE`` and
``CACHED`` ran)."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    LineageStore,
)
from lineage_graph._repositories import cache as cache_module

UNUSABLE = {ArtifactState.MARKED_FOR_DELETION, ArtifactState.DELETED, ArtifactState.ABANDONED}
USABLE_RUNS = {ExecutionState.COMPLETE, ExecutionState.CACHED}
INPUT_TYPES = [EventType.INPUT, EventType.INPUT, EventType.DECLARED_INPUT, EventType.INTERNAL_INPUT]
OUTPUT_TYPES = [t for t in EventType if t.is_output]
PATHS: list[list[int | str]] = [[], ["train"], ["eval", 0], ["eval", 1], ["test"]]
DIGESTS = [None, None, "d1", "d1", "d2", "", " "]
_NAMES = itertools.count()

examples = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def runs(draw: st.DrawFn) -> dict[str, Any]:
    n_art = draw(st.integers(1, 5))
    arts = [
        (draw(st.sampled_from(DIGESTS)), draw(st.sampled_from(list(ArtifactState))))
        for _ in range(n_art)
    ]
    execs = []
    for _ in range(draw(st.integers(0, 5))):
        reads = draw(
            st.dictionaries(
                st.integers(0, n_art - 1),
                st.tuples(st.sampled_from(INPUT_TYPES), st.sampled_from(PATHS)),
                max_size=3,
            )
        )
        writes = draw(
            st.dictionaries(st.integers(0, n_art - 1), st.sampled_from(OUTPUT_TYPES), max_size=2)
        )
        execs.append((draw(st.sampled_from(list(ExecutionState))), reads, writes))
    return {"arts": arts, "execs": execs}


def _key(digest: str | None, aid: int, by_fingerprint: bool) -> tuple[str, Any]:
    if by_fingerprint and isinstance(digest, str) and digest.strip():
        return ("digest", digest)
    return ("id", aid)


def _as_mapping(roles: list[tuple[int, list[int | str]]]) -> dict[str, Any] | None:
    """The mapping ``store.run`` records as these paths, or None when no mapping does."""
    out: dict[str, Any] = {}
    for aid, path in sorted(roles, key=lambda r: [str(p) for p in r[1]]):
        if len(path) == 1 and isinstance(path[0], str) and path[0] not in out:
            out[path[0]] = aid
        elif len(path) == 2 and isinstance(path[0], str):
            listed = out.setdefault(path[0], [])
            if not isinstance(listed, list) or len(listed) != path[1]:
                return None
            listed.append(aid)
        else:
            return None
    return out


@examples
@given(graph=runs(), data=st.data())
def test_find_cached_execution_by_role_and_fingerprint(
    store: LineageStore, graph: dict[str, Any], data: st.DataObject
) -> None:
    store.put_artifact_type(ArtifactType(name="DataSet"))
    run_type = f"Step{next(_NAMES)}"  # this example's executions only
    store.put_execution_type(ExecutionType(name=run_type))
    aids = store.put_artifacts(
        [
            Artifact(
                type="DataSet",
                state=state,
                custom_properties={} if digest is None else {"digest": digest},
            )
            for digest, state in graph["arts"]
        ]
    )
    digest_of = {aid: d for aid, (d, _) in zip(aids, graph["arts"], strict=True)}
    state_of = {aid: s for aid, (_, s) in zip(aids, graph["arts"], strict=True)}
    execs = graph["execs"]
    eids = (
        store.put_executions([Execution(type=run_type, last_known_state=s) for s, _, _ in execs])
        if execs
        else []
    )
    events = [
        Event(artifact_id=aids[a], execution_id=eid, type=t, path=path)
        for eid, (_, reads, _) in zip(eids, execs, strict=True)
        for a, (t, path) in reads.items()
    ] + [
        Event(artifact_id=aids[a], execution_id=eid, type=t)
        for eid, (_, _, writes) in zip(eids, execs, strict=True)
        for a, t in writes.items()
    ]
    for i in range(0, len(events), 3):  # the fingerprint kept across several writes
        store.put_events(events[i : i + 3])
    read = {  # what each execution read: INPUT events only, with their paths
        eid: [(aids[a], path) for a, (t, path) in reads.items() if t is EventType.INPUT]
        for eid, (_, reads, _) in zip(eids, execs, strict=True)
    }

    # The question: an execution's own inputs (often), else drawn; as a list (shuffled, with
    # repeats) or by role.
    if eids and data.draw(st.booleans()):
        roles = read[data.draw(st.sampled_from(eids))]
    else:
        roles = [
            (aids[a], p)
            for a, p in data.draw(
                st.lists(st.tuples(st.integers(0, len(aids) - 1), st.sampled_from(PATHS[1:3])))
            )
        ]
    mapping = _as_mapping(roles) if data.draw(st.booleans()) else None
    by_fingerprint = data.draw(st.booleans())
    if mapping is None:
        given_ids = [aid for aid, _ in roles]
        given_ids += data.draw(st.lists(st.sampled_from(given_ids), max_size=2)) if roles else []
        given_ids = data.draw(st.permutations(given_ids))
        wanted = Counter(_key(digest_of[a], a, by_fingerprint) for a in set(given_ids))

        def matches(eid: int) -> bool:
            return Counter(_key(digest_of[a], a, by_fingerprint) for a, _ in read[eid]) == wanted

        question: Any = given_ids
    else:
        flat = [
            (aid, (key, i) if isinstance(v, list) else (key,))
            for key, v in mapping.items()
            for i, aid in (enumerate(v) if isinstance(v, list) else [(0, v)])
        ]
        wanted_roles = Counter((_key(digest_of[a], a, by_fingerprint), p) for a, p in flat)

        def matches(eid: int) -> bool:
            got = Counter((_key(digest_of[a], a, by_fingerprint), tuple(p)) for a, p in read[eid])
            return got == wanted_roles

        question = mapping

    hits = [
        eid
        for eid, (state, _, writes) in zip(eids, execs, strict=True)
        if state in USABLE_RUNS
        and matches(eid)
        and not any(state_of[aids[a]] in UNUSABLE for a in writes)
    ]
    with pytest.MonkeyPatch.context() as mp:  # every search path: by signature or by anchor,
        # paged one candidate at a time or sixteen
        mp.setattr(cache_module, "MAX_SIGNATURES", data.draw(st.sampled_from([0, 1, 256])))
        mp.setattr(cache_module, "_PAGE", data.draw(st.sampled_from([1, 2, 16])))
        found = store.find_cached_execution(run_type, question, by_fingerprint=by_fingerprint)
    got = found.execution.id if found and found.execution else None
    assert got == (max(hits) if hits else None), (question, read, found.reason)
    if not found and not by_fingerprint:  # the explanation: the nearest run, exactly
        given = {aid for aid, _ in roles}
        if not eids:
            assert found.nearest is None
        else:
            ranked = sorted(
                eids,
                key=lambda e: (
                    len(given - {a for a, _ in read[e]}),
                    len({a for a, _ in read[e]} - given),
                    {a for a, _ in read[e]} == given and not matches(e),  # other roles
                    -e,
                ),
            )
            near = ranked[0]
            assert found.nearest is not None and found.nearest.id == near, found.reason
            theirs = {a for a, _ in read[near]}
            assert found.missing_inputs == sorted(given - theirs)
            assert found.extra_inputs == sorted(theirs - given)
    if found:
        assert found.execution is not None
        same = {a for a, _ in read[got]} == {aid for aid, _ in roles}
        assert found.matched_by == ("id" if same else "digest")
        i = eids.index(got)
        assert sorted((e.artifact_id, e.type) for e in found.output_events) == sorted(
            (aids[a], t) for a, t in execs[i][2].items()
        )
