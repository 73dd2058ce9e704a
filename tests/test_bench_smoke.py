"""The benchmark runs end to end at tiny sizes and every workload's answer is right.

Timings are not asserted (a shared CI machine): the point is that ``bench/compare.py`` still runs
against the current APIs and that each system, ours and MLMD's, returns the known correct answer
(a wrong answer or a crash exits 1).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import NodeKind, NodeRef

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_smoke_verifies_every_answer(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        # (--wipe-neo4j: where NEO4J_URI is set, the suite's Neo4j is scratch, as every Neo4j
        # test empties it; the other tests leave nodes in it)
        [sys.executable, "-m", "bench.compare", "--smoke", "--wipe-neo4j", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    payload = json.loads(out.read_text())
    assert payload["failures"] == []
    rows = payload["rows"]
    assert rows and all(r["ok"] for r in rows)
    workloads = {r["workload"] for r in rows}
    for expected in (
        "upstream: chain of 50 generations",
        "downstream: fan-out to 81 nodes",
        "upstream: ladder of 12 diamonds",
        "same inputs: hit among 400 executions",
        "same inputs: miss among 400 executions",
        "scaling: upstream 10 gens, store of 600 nodes",
    ):
        assert expected in workloads, sorted(workloads)
    if any(r["system"] == "mlmd-fake" for r in rows):  # ml-metadata installed: MLMD-API rows too
        assert any(w.startswith('filter: uri LIKE "%/data"') for w in workloads)
    native = {r["system"] for r in rows if r["workload"] == "upstream: chain of 50 generations"}
    assert {"lg-memory", "lg-disk"} <= native
    # Where the time went: every row of ours records its statements, MLMD's none.
    ours = [r for r in rows if r["system"] in ("lg-memory", "lg-disk", "lg-mlmd-adapter")]
    assert ours and all(r["round_trips"] >= 1 and r["engine_s"] is not None for r in ours)
    assert all(r["round_trips"] is None for r in rows if r["system"].startswith("mlmd-"))
    floor = {r["system"]: r for r in rows if r["workload"] == "floor: one round trip (RETURN 1)"}
    assert {"lg-memory", "lg-disk"} <= set(floor)  # and lg-neo4j where NEO4J_URI is set
    for embedded in ("lg-memory", "lg-disk"):  # one request each (Neo4j: two, with COMMIT)
        assert floor[embedded]["round_trips"] == 1 and floor[embedded]["statements"] == 1
    chain = next(
        r
        for r in rows
        if r["system"] == "lg-memory" and r["workload"] == "upstream: chain of 10 generations"
    )
    assert chain["round_trips"] == 1  # one engine walk answers it


def test_bench_oracle_accepts_the_real_answer_and_rejects_a_wrong_one(store: Any) -> None:
    """The check behind every row: our real upstream answer passes, a different one fails."""
    sys.path.insert(0, str(ROOT))
    from bench._build import Dag, build, reach
    from bench._reads import _verify_graph, chain
    from bench._workloads import Handle, WrongAnswer

    handle = Handle("lg-memory", "lg", store)
    dag = Dag()
    end = chain(dag, 3)
    built = build(handle, dag)
    graph = store.upstream(NodeRef(NodeKind.ARTIFACT, built.artifact_ids[end]))
    exp = reach(dag, built, end, upstream=True)
    assert exp.nodes == 7 and len(exp.edges) == 6
    _verify_graph(graph, exp, "chain of 3")
    # the answer for one generation less is a wrong answer for this graph
    shorter = reach(dag, built, end - 1, upstream=True)
    with pytest.raises(WrongAnswer, match="artifacts"):
        _verify_graph(graph, shorter, "chain of 3")


def test_flush_bench_reads_back_every_write(tmp_path: Path) -> None:
    """bench/flush.py (what a durable write costs after an idle gap) runs against the current
    APIs and every system stored each write it timed (a lost write exits 1)."""
    out = tmp_path / "flush.json"
    command = ["-m", "bench.flush", "--writes", "3", "--gaps", "0", "0.1", "--json", str(out)]
    proc = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    payload = json.loads(out.read_text())
    assert payload["wrong_counts"] == {}
    medians = payload["medians_us"]
    assert {"fdatasync", "sqlite", "lg-disk", "lg-memory"} <= set(medians)
    assert all(set(by_gap) == {"0.0", "0.1"} for by_gap in medians.values())
    assert all(us > 0 for by_gap in medians.values() for us in by_gap.values())
    assert "gap before each write" in proc.stdout


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--writes", "0"], "--writes must be at least 1"),
        (["--gaps", "-1"], "every gap at least 0"),
        (["--systems", "lg-disk,mlmd-sql"], "--systems: unknown ['mlmd-sql']"),
        (["--systems", ","], "--systems: unknown nothing named"),
    ],
)
def test_flush_bench_refuses_bad_arguments(arguments: list[str], said: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.flush", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr


def test_flush_bench_runs_the_systems_named(tmp_path: Path) -> None:
    out = tmp_path / "flush.json"
    command = ["-m", "bench.flush", "--writes", "2", "--gaps", "0", "--json", str(out)]
    proc = subprocess.run(
        [sys.executable, *command, "--systems", "lg-memory, fdatasync"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert list(json.loads(out.read_text())["medians_us"]) == ["fdatasync", "lg-memory"]
