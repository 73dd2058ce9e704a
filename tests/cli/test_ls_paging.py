"""``ls`` pages with ``--cursor`` as the lineage commands do: it had only ``--limit``, so the
entries past it could be seen only by raising it (and every ``ls`` read the whole kind). A page
is the next ids after the cursor's, read from an index range on the id; the cursor belongs to
one listing (kind and filters), another's is refused with exit 2."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lineage_graph import InvalidArgumentError, LineageStore
from lineage_graph.cli import ExitCode
from lineage_graph.models import (
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Execution,
    ExecutionState,
    ExecutionType,
    NodeKind,
    ParentContext,
)

from ..conftest import reads_of
from .conftest import invoke

ARTIFACTS = 2400
EXECUTIONS = 300
CONTEXTS = 60
CURSOR = re.compile(r"--cursor (\S+)")


@dataclass
class Store:
    path: Path
    artifacts: list[Artifact]
    executions: list[Execution]
    contexts: list[Context]
    members: dict[str, list[int]]  # context name -> its artifact ids
    run_members: dict[str, list[int]]  # context name -> its execution ids
    children: dict[str, list[int]]  # context name -> its child context ids


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A few thousand nodes: two artifact types, one of them also in a second version, four
    states, uris of three kinds, a few contexts holding every 3rd / 7th artifact."""
    path = tmp_path_factory.mktemp("ls-paging") / "store"
    with LineageStore.open(path) as store:
        for t in (
            ArtifactType(name="Data"),
            ArtifactType(name="Data", version="v2"),
            ArtifactType(name="Model"),
            ExecutionType(name="Train"),
            ExecutionType(name="Eval"),
            ContextType(name="Run"),
            ContextType(name="Exp"),
        ):
            store.put_type(t)
        states = [ArtifactState.LIVE, ArtifactState.PENDING, ArtifactState.ABANDONED]
        batch = []
        for i in range(ARTIFACTS):
            typed = {"type": "Data", "type_version": "v2"} if i % 5 == 0 else {"type": "Data"}
            if i % 4 == 3:
                typed = {"type": "Model"}
            batch.append(
                Artifact(
                    **typed,
                    uri=f"s3://bucket/{['raw', 'clean', 'models'][i % 3]}/{i}",
                    state=states[i % 3],
                    name=f"n{i}",
                )
            )
        for start in range(0, ARTIFACTS, 500):
            store.put_artifacts(batch[start : start + 500])
        run_states = [ExecutionState.COMPLETE, ExecutionState.FAILED]
        store.put_executions(
            [
                Execution(type="Train" if i % 2 else "Eval", last_known_state=run_states[i % 3 % 2])
                for i in range(EXECUTIONS)
            ]
        )
        store.put_contexts(
            [Context(type="Run" if i % 2 else "Exp", name=f"ctx{i}") for i in range(CONTEXTS)]
        )
        artifacts = sorted(store.get_artifacts(), key=lambda a: a.id or 0)
        executions = sorted(store.get_executions(), key=lambda x: x.id or 0)
        contexts = sorted(store.get_contexts(), key=lambda c: c.id or 0)
        by_name = {c.name: c.id or 0 for c in contexts}
        members = {
            "ctx0": [a.id or 0 for a in artifacts[::3]],
            "ctx1": [a.id or 0 for a in artifacts[::7]],
        }
        run_members = {"ctx0": [x.id or 0 for x in executions[::2]]}
        children = {"ctx0": [c.id or 0 for c in contexts[2::2]]}
        store.put_attributions_and_associations(
            [
                Attribution(artifact_id=a, context_id=by_name[n])
                for n, ids in members.items()
                for a in ids
            ],
            [Association(execution_id=x, context_id=by_name["ctx0"]) for x in run_members["ctx0"]],
        )
        store.put_parent_contexts(
            [ParentContext(child_id=c, parent_id=by_name["ctx0"]) for c in children["ctx0"]]
        )
        yield Store(path, artifacts, executions, contexts, members, run_members, children)


def ls(big: Store, *args: str) -> tuple[int, list[int], str | None, str]:
    result = invoke(["ls", *args, "--json", "--store", str(big.path)])
    ids = [e["id"] for e in json.loads(result.stdout)] if result.exit_code == 0 else []
    found = CURSOR.findall(result.stderr)
    return result.exit_code, ids, found[0] if found else None, result.stderr


def every_page(big: Store, limit: int, *args: str) -> list[int]:
    """Every id ``ls ARGS`` pages through, ``limit`` at a time."""
    seen: list[int] = []
    code, ids, cursor, err = ls(big, *args, "--limit", str(limit))
    pages = 1
    while True:
        assert code == 0, err
        assert len(ids) <= limit
        seen.extend(ids)
        if cursor is None:
            break
        assert len(ids) == limit  # a page is full unless it is the last
        code, ids, cursor, err = ls(big, *args, "--limit", str(limit), "--cursor", cursor)
        pages += 1
        assert pages < 1000, "paging does not end"
    return seen


def test_paging_yields_every_artifact_once_in_id_order(big: Store) -> None:
    expected = [a.id for a in big.artifacts]
    assert len(expected) == ARTIFACTS
    assert every_page(big, 250) == expected
    first = ls(big, "--limit", "250")
    assert (
        f"{ARTIFACTS - 250} more: for the next page repeat the command with --cursor" in (first[3])
    )


@pytest.mark.parametrize(
    ("args", "keep"),
    [
        (["--type", "Data"], lambda a: a.type == "Data"),  # both versions of Data
        (["--type", "Model"], lambda a: a.type == "Model"),
        (["--state", "live"], lambda a: a.state == ArtifactState.LIVE),
        (["--uri", "/models/"], lambda a: "/models/" in a.uri),
        (["--name", "N1"], lambda a: "n1" in a.name),
        (
            ["--type", "Data", "--state", "ABANDONED"],
            lambda a: a.type == "Data" and a.state == ArtifactState.ABANDONED,
        ),
    ],
)
def test_paging_with_filters_yields_every_match_once_in_order(
    big: Store, args: list[str], keep: object
) -> None:
    expected = [a.id for a in big.artifacts if keep(a)]  # type: ignore[operator]
    assert 0 < len(expected) < ARTIFACTS
    assert every_page(big, 173, *args) == expected


def test_paging_a_context_yields_its_members_once_in_order(big: Store) -> None:
    assert every_page(big, 97, "--context", "ctx0") == big.members["ctx0"]
    in_both = [a.id for a in big.artifacts if a.id in big.members["ctx1"] and a.type == "Model"]
    assert every_page(big, 31, "--context", "ctx1", "--type", "Model") == in_both
    assert every_page(big, 40, "executions", "--context", "ctx0") == big.run_members["ctx0"]
    assert every_page(big, 7, "contexts", "--context", "ctx0") == big.children["ctx0"]


def test_paging_executions_and_contexts(big: Store) -> None:
    assert every_page(big, 64, "executions") == [x.id for x in big.executions]
    trains = [x.id for x in big.executions if x.type == "Train"]
    assert every_page(big, 50, "executions", "--type", "Train") == trains
    failed = [x.id for x in big.executions if x.last_known_state == ExecutionState.FAILED]
    assert every_page(big, 50, "executions", "--state", "failed") == failed
    assert every_page(big, 16, "contexts") == [c.id for c in big.contexts]
    exps = [c.id for c in big.contexts if c.type == "Exp"]
    assert every_page(big, 8, "contexts", "--type", "Exp") == exps


def test_a_cursor_of_another_listing_is_refused(big: Store) -> None:
    code, _, cursor, _ = ls(big, "--type", "Data", "--limit", "10")
    assert code == 0 and cursor is not None
    for other in (
        ["--type", "Model"],
        [],
        ["executions"],
        ["--type", "Data", "--state", "LIVE"],
        ["--type", "Data", "--context", "ctx0"],
    ):
        code, ids, _, err = ls(big, *other, "--limit", "10", "--cursor", cursor)
        assert code == ExitCode.USAGE, err
        assert "belongs to another listing" in err and ids == []
    # the same listing with another page size goes on from it
    code, ids, _, err = ls(big, "--type", "Data", "--limit", "3", "--cursor", cursor)
    assert code == 0, err
    data = [a.id for a in big.artifacts if a.type == "Data"]
    assert ids == data[10:13]
    for bad in ("x", " ", "eyJ9"):
        code, _, _, err = ls(big, "--cursor", bad)
        assert code == ExitCode.USAGE, err
    code, _, _, err = ls(big, "types", "--cursor", cursor)
    assert code == ExitCode.USAGE and "not paged" in err


def test_a_later_page_reads_what_the_first_does(store: LineageStore) -> None:
    """Page N is an index seek past the cursor's id, not a read of the N-1 pages before it:
    it takes the store as many round trips as page 1 (a page and one more, 3 windows at most
    here)."""
    store.put_type(ArtifactType(name="Data"))
    ids = store.put_artifacts([Artifact(type="Data", uri=f"/d/{i}") for i in range(3000)])
    ids.sort()

    def page(after: int, type_name: str | None = None) -> tuple[list[int], list[str]]:
        with reads_of(store) as reads:
            nodes = store.iter_nodes(
                NodeKind.ARTIFACT, after_id=after, type_name=type_name, page_size=51
            )
            got = [n.id or 0 for _, n in zip(range(51), nodes, strict=False)]
        return got, [r for r in reads if "list" in r]

    first, first_reads = page(0)
    late, late_reads = page(ids[2800])
    assert first == ids[:51] and late == ids[2801:2852]
    assert 0 < len(late_reads) == len(first_reads) <= 3, (first_reads, late_reads)
    typed, typed_reads = page(0, "Data")
    late_typed, late_typed_reads = page(ids[2800], "Data")
    assert typed == ids[:51] and late_typed == ids[2801:2852]
    assert 0 < len(late_typed_reads) == len(typed_reads) <= 3
    of_type = store.iter_nodes(NodeKind.ARTIFACT, after_id=ids[-3], type_name="Data")
    assert [n.id for n in of_type] == ids[-2:]
    assert list(store.iter_nodes(NodeKind.ARTIFACT, type_name="Nope")) == []


def test_executions_and_contexts_of_one_type_page_as_artifacts_do(store: LineageStore) -> None:
    """iter_nodes by type for the other kinds (their own queries; through the store fixture,
    which records the queries a full run must have executed)."""
    store.put_type(ExecutionType(name="Train"))
    store.put_type(ExecutionType(name="Eval"))
    store.put_type(ContextType(name="Run"))
    store.put_type(ContextType(name="Experiment"))
    train = store.put_executions([Execution(type="Train") for _ in range(5)])
    store.put_executions([Execution(type="Eval") for _ in range(3)])
    runs = store.put_contexts([Context(type="Run", name=f"r{i}") for i in range(4)])
    store.put_contexts([Context(type="Experiment", name="e")])
    got = store.iter_nodes(NodeKind.EXECUTION, after_id=sorted(train)[1], type_name="Train")
    assert [n.id for n in got] == sorted(train)[2:]
    assert [n.id for n in store.iter_nodes(NodeKind.CONTEXT, type_name="Run")] == sorted(runs)


def test_iter_nodes_takes_int_ids_and_page_sizes_and_answers_alike_on_every_engine(
    store: LineageStore,
) -> None:
    """``iter_nodes`` sends ``after_id`` and ``page_size`` to the engine (a range bound and a
    ``LIMIT``). Unchecked, a float or bool page size was a QueryError ("Limit operates only on
    non-negative integers"; Neo4j's LIMIT takes an INTEGER too), ``after_id=True`` read as 1 on
    FalkorDB's index (Neo4j compares an INTEGER with a BOOLEAN as null: no row), a page size of
    2**32 or more listed nothing on FalkorDB (its LIMIT keeps 32 bits) while Neo4j listed
    everything, and one past int64 (or such an ``after_id``) was sent: Neo4j's driver cannot
    encode it. Now a non-int is InvalidArgumentError, a huge page size lists every node, and an
    id past int64 names no node above it."""
    store.put_type(ArtifactType(name="Data"))
    ids = sorted(store.put_artifacts([Artifact(type="Data", uri=f"/d/{i}") for i in range(5)]))
    for bad in (
        {"page_size": 2.0},
        {"page_size": True},
        {"page_size": "3"},
        {"after_id": 1.5},
        {"after_id": True},
        {"after_id": None},
    ):
        with pytest.raises(InvalidArgumentError, match="must be an int"):
            store.iter_nodes(NodeKind.ARTIFACT, **bad)  # type: ignore[arg-type]
    for size in (2**32, 2**63 - 1, 2**70):
        assert [n.id for n in store.iter_nodes(NodeKind.ARTIFACT, page_size=size)] == ids
        got = store.iter_nodes(NodeKind.ARTIFACT, page_size=size, type_name="Data")
        assert [n.id for n in got] == ids
    for after in (2**63 - 1, 2**63, 2**70):
        assert list(store.iter_nodes(NodeKind.ARTIFACT, after_id=after)) == []
    assert [n.id for n in store.iter_nodes(NodeKind.ARTIFACT, after_id=ids[1], page_size=2)] == (
        ids[2:]
    )
