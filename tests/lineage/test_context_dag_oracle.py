"""The context DAG against networkx on shapes tests/lineage/test_questions_oracle.py does not
make (at most 4 contexts there): a deep ladder of diamonds (2^30 paths from its top to its
bottom: each context must be visited once), a long chain, and random DAGs, each with members;
``context_graph(include_children=True)`` holds every context below the root, and a link that
would close a cycle through the whole depth is refused, nothing written."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import (
    Artifact,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    InvalidArgumentError,
    LineageStore,
    ParentContext,
)

_NAMES = itertools.count()


def _contexts(store: LineageStore, n: int) -> list[int]:
    store.put_context_type(ContextType(name="Run"))
    store.put_artifact_type(ArtifactType(name="DataSet"))
    return store.put_contexts([Context(type="Run", name=f"c{next(_NAMES)}") for _ in range(n)])


def _check(store: LineageStore, nesting: nx.DiGraph, members: dict[int, int]) -> None:
    """``nesting``: parent -> child; ``members``: context -> the artifact attributed to it."""
    for root in nesting:
        below = nx.descendants(nesting, root) | {root}
        got = store.context_graph(root, include_children=True)
        assert {c.id for c in got.contexts} == below
        assert {a.id for a in got.artifacts} == {members[c] for c in below}
        assert {c.id for c in store.context_graph(root).contexts} == {root}
        assert {c.id for c in store.get_children_contexts_by_context(root)} == set(
            nesting.successors(root)
        )
        assert {c.id for c in store.get_parent_contexts_by_context(root)} == set(
            nesting.predecessors(root)
        )


def _members(store: LineageStore, cids: list[int]) -> dict[int, int]:
    aids = store.put_artifacts([Artifact(type="DataSet") for _ in cids])
    store.put_attributions_and_associations(
        [Attribution(artifact_id=a, context_id=c) for a, c in zip(aids, cids, strict=True)], []
    )
    return dict(zip(cids, aids, strict=True))


@pytest.mark.parametrize("shape", ["ladder", "chain"])
def test_deep_context_dags(store: LineageStore, shape: str) -> None:
    if shape == "ladder":  # top -> (l, r) -> mid -> (l, r) -> mid ...: 30 diamonds
        levels = 30
        cids = _contexts(store, 3 * levels + 1)
        mids = cids[: levels + 1]
        links = [
            (side, mids[i]) for i in range(levels) for side in cids[levels + 1 + 2 * i :][:2]
        ] + [(mids[i + 1], side) for i in range(levels) for side in cids[levels + 1 + 2 * i :][:2]]
    else:
        cids = _contexts(store, 60)
        links = [(cids[i + 1], cids[i]) for i in range(len(cids) - 1)]  # (child, parent)
    store.put_parent_contexts([ParentContext(child_id=c, parent_id=p) for c, p in links])
    nesting: nx.DiGraph = nx.DiGraph()
    nesting.add_nodes_from(cids)
    nesting.add_edges_from((p, c) for c, p in links)
    members = _members(store, cids)
    _check(store, nesting, members)
    top, bottom = cids[0], next(c for c in cids if nesting.out_degree(c) == 0)
    with pytest.raises(InvalidArgumentError, match="cycle"):
        store.put_parent_contexts([ParentContext(child_id=top, parent_id=bottom)])
    assert not store.get_parent_contexts_by_context(top)  # nothing written
    _check(store, nesting, members)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_context_dags(store: LineageStore, data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 12))
    cids = _contexts(store, n)
    # Edges from a lower to a higher index only (a DAG), in several calls; then every cycle
    # closing attempt is refused.
    pairs = data.draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1]),
            unique=True,
            max_size=20,
        )
    )
    nesting: nx.DiGraph = nx.DiGraph()
    nesting.add_nodes_from(cids)
    for i in range(0, len(pairs), 4):
        chunk = pairs[i : i + 4]
        store.put_parent_contexts(
            [ParentContext(child_id=cids[c], parent_id=cids[p]) for p, c in chunk]
        )
        nesting.add_edges_from((cids[p], cids[c]) for p, c in chunk)
    members = _members(store, cids)
    _check(store, nesting, members)
    for p, c in data.draw(st.lists(st.sampled_from(pairs), max_size=3)) if pairs else []:
        # c descends from p: p as c's child closes a cycle, however long the way between them
        with pytest.raises(InvalidArgumentError, match="cycle"):
            store.put_parent_contexts([ParentContext(child_id=cids[p], parent_id=cids[c])])
    _check(store, nesting, members)
