"""Paging by (id, kind) when an artifact and an execution share an id (a tie broken by kind, the
artifact first): a page may end between the two, and the next page starts with the execution,
never repeating the artifact nor skipping the execution, also when the store changed between
the pages (nodes added, a node tombstoned by retention)."""

from __future__ import annotations

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
    NodeFilter,
    NodeKind,
    NodeRef,
)

A, X = NodeKind.ARTIFACT, NodeKind.EXECUTION


def _chain(store: LineageStore, n: int) -> tuple[list[int], list[int]]:
    """a0 -> e0 -> a1 -> e1 -> ... -> a_n, ids allocated so that a_k and e_k share an id."""
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_execution_type(ExecutionType(name="Old"))
    aids = store.put_artifacts([Artifact(type="DataSet") for _ in range(n + 1)])
    eids = store.put_executions([Execution(type="Trainer") for _ in range(n)])
    store.put_events(
        [Event(artifact_id=aids[k], execution_id=eids[k], type=EventType.INPUT) for k in range(n)]
        + [
            Event(artifact_id=aids[k + 1], execution_id=eids[k], type=EventType.OUTPUT)
            for k in range(n)
        ]
    )
    return aids, eids


def test_a_page_ending_inside_a_tie_goes_on_with_the_execution(store: LineageStore) -> None:
    aids, eids = _chain(store, 4)
    assert aids[:4] == eids  # a fresh store numbers both kinds from the same start
    start = NodeRef(A, aids[0])
    keys = [
        (r.id, r.kind is X)
        for r in sorted(store.downstream(start).refs, key=lambda r: (r.id, r.kind is X))
    ]
    for limit in range(1, len(keys) + 1):
        seen: list[tuple[int, bool]] = []
        page = store.downstream(start, limit=limit)
        while True:
            seen += sorted(
                (n.id, isinstance(n, Execution)) for n in (*page.artifacts, *page.executions)
            )
            if page.complete:
                break
            page = store.downstream(start, limit=limit, cursor=page.cursor)
        assert seen == keys, limit


def test_a_cursor_inside_a_tie_after_the_store_changed(store: LineageStore) -> None:
    aids, eids = _chain(store, 3)
    start = NodeRef(A, aids[0])
    first = store.downstream(start, limit=1)  # a0 alone: the tie (a0, e0) is cut
    assert first.refs == {start} and not first.complete
    # Meanwhile: e0 writes one more artifact (a new id, after every node shown), and e0 becomes
    # a retention tombstone (kept, in place: lineage walks through it).
    [extra] = store.put_artifacts([Artifact(type="DataSet")])
    store.put_events([Event(artifact_id=extra, execution_id=eids[0], type=EventType.OUTPUT)])
    plan = store.plan_retention(types=["Trainer"], kinds=[X])
    assert eids[0] in plan.tombstone_executions
    store.apply_retention(plan)
    rest: set[NodeRef] = set()
    page = store.downstream(start, limit=2, cursor=first.cursor)
    shown = [first]
    while True:
        shown.append(page)
        rest |= page.refs
        if page.complete:
            break
        page = store.downstream(start, limit=2, cursor=page.cursor)
    expected = (
        {NodeRef(A, i) for i in aids[1:]} | {NodeRef(X, i) for i in eids} | {NodeRef(A, extra)}
    )
    assert rest == expected  # e0 first (the rest of the tie), then the others, the new one too
    assert min((r.id, r.kind is X) for r in rest) == (eids[0], True)
    events = [(e.artifact_id, e.execution_id, e.type) for p in shown for e in p.events]
    assert len(events) == len(set(events)) == 2 * 3 + 1  # each event once across the pages
    # A tombstone keeps its type: a filter on the type still finds it.
    typed = store.downstream(start, where=NodeFilter(types=["Trainer"]))
    assert {r for r in typed.refs if r.kind is X} == {NodeRef(X, i) for i in eids}
