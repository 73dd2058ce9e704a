"""A cache miss's explanation (``find_cached_execution(...).nearest``) names the same execution
whatever the number of candidates the engine returns: the engine's ranking (cache/nearest and
cache/recent_executions, cut at ``_NEAREST``) must put first the execution that
``CacheRepository._explain`` chooses among all of them. Random histories with same-content
copies (``digest``), inputs by role under every path form (unicode, quotes, backslashes, a
digit string, ints, nested, none, and a NULL path as old data holds), retention tombstones
among the older executions (no ``input_sig``: their inputs are counted), asked as a collection or
by role, by id or by content; each question is answered with one candidate kept and with all
of them, through the window and through the consumers of the inputs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    LineageStore,
)
from lineage_graph._repositories import cache as cache_module

KEYS = ["train", "é", 'q"uote', "back\\slash", "0", "\U0001f600"]
#: Event paths as a run records them ([key], [key, i]) and others: none, ints, nested, NULL.
PATHS: list[list[int | str] | None] = [
    *([k] for k in KEYS),
    *([k, i] for k in KEYS[:3] for i in (0, 1)),
    [],
    [0],
    ["train", 0, "x"],
    None,  # old data: the event's path property is NULL
]
DIGESTS = [None, None, "d1", "d1", "d2"]
_NAMES = itertools.count()

examples = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    n_art = draw(st.integers(1, 5))
    digests = [draw(st.sampled_from(DIGESTS)) for _ in range(n_art)]
    execs = [
        (
            draw(st.sampled_from([ExecutionState.COMPLETE, ExecutionState.FAILED])),
            draw(
                st.dictionaries(
                    st.integers(0, n_art - 1), st.sampled_from(range(len(PATHS))), max_size=4
                )
            ),
        )
        for _ in range(draw(st.integers(1, 7)))
    ]
    return {"digests": digests, "execs": execs}


@examples
@given(history=histories(), data=st.data())
def test_the_engine_keeps_the_nearest_execution_first(
    store: LineageStore, history: dict[str, Any], data: st.DataObject
) -> None:
    store.put_artifact_type(ArtifactType(name="DataSet"))
    run_type = f"Step{next(_NAMES)}"
    store.put_execution_type(ExecutionType(name=run_type))
    store.put_execution_type(ExecutionType(name="Other"))
    aids = store.put_artifacts(
        [
            Artifact(type="DataSet", custom_properties={} if d is None else {"digest": d})
            for d in history["digests"]
        ]
    )
    # The first ``cut`` executions are written, and with ``retire`` tombstoned (retention: an
    # execution linked to what stays keeps its events and loses its input_sig), before the rest.
    cut = data.draw(st.integers(0, len(history["execs"])))
    retire = data.draw(st.booleans())
    eids: list[int] = []
    for part in (history["execs"][:cut], history["execs"][cut:]):
        if not part:
            continue
        ids = store.put_executions([Execution(type=run_type, last_known_state=s) for s, _ in part])
        events = [
            Event(artifact_id=aids[a], execution_id=eid, type=EventType.INPUT, path=PATHS[p] or [])
            for eid, (_, reads) in zip(ids, part, strict=True)
            for a, p in reads.items()
        ]
        if events:
            store.put_events(events)
        for eid, (_, reads) in zip(ids, part, strict=True):
            for a, p in reads.items():
                if PATHS[p] is None:
                    store.backend.write(
                        "MATCH (a:Artifact)-[ev:EVENT]->(e:Execution) "
                        "WHERE a.id = $a AND e.id = $e SET ev.path = NULL",
                        {"a": aids[a], "e": eid},
                        name="test/null_path",
                    )
        if retire and not eids:
            store.apply_retention(store.plan_retention(types=[run_type]))
        eids += ids
    # The newest execution is of another type: with a window of 1, cache/nearest answers.
    store.put_executions([Execution(type="Other")])

    picked = data.draw(st.lists(st.integers(0, len(aids) - 1), min_size=1, max_size=3))
    question: Any
    if data.draw(st.booleans()):
        question = [aids[a] for a in picked]
    else:  # by role: each key one artifact or a list of them
        question = {}
        for n, a in enumerate(picked):
            key = KEYS[data.draw(st.integers(0, len(KEYS) - 1))]
            if key in question or data.draw(st.booleans()):
                key = f"{key}{n}" if key in question else key
                question[key] = aids[a]
            else:
                question[key] = [aids[a]]
    by_fingerprint = data.draw(st.booleans())
    window = data.draw(st.sampled_from([cache_module.EXPLAIN_WINDOW, 1]))

    answers = []
    for kept in (1, 1000):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cache_module, "EXPLAIN_WINDOW", window)
            mp.setattr(cache_module, "_NEAREST", kept)
            found = store.find_cached_execution(run_type, question, by_fingerprint=by_fingerprint)
        answers.append(
            (
                found.hit,
                found.nearest and found.nearest.id,
                found.missing_inputs,
                found.extra_inputs,
                found.reason,
            )
        )
    assert answers[0] == answers[1], (question, history)
