"""Concurrency (issue 7.2): 8 writer processes and 2 readers on one store.

Writers race on the same type names and on the same context names (``put_execution`` /
``put_lineage_subgraph`` with ``reuse_context_if_already_exist=True``, which MLMD documents as:
the first writer creates the context, every other one reuses it, nobody gets an error). Readers
check what they see while the writers run. Afterwards: no duplicate id, no lost or extra event,
unique context names, every write that was acknowledged is there, and every racer was given the
same context id. (The cache fingerprint of issue 3 is checked by that issue's suite.)

Runs on an embedded data directory and, when a Neo4j server is configured, on Neo4j.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from lineage_graph import LineageStore, NodeKind
from tests.reliability._integrity import assert_healthy, check_store, external_ids, reconcile
from tests.reliability.conftest import record, spawn_workload, stop

WRITERS = 8
READERS = 2
WRITES = 150
PER_WRITE = 4
SHARED = WRITES  # write w of every writer races for the context "shared-<w>"


def test_eight_writers_and_readers_on_one_store(shared_target: str, tmp_path: Path) -> None:
    common = ["--target", shared_target, "--writes", str(WRITES), "--per-write", str(PER_WRITE)]
    # Lock step: write w of every writer starts at the same moment, so they really race.
    common += ["--shared-contexts", str(SHARED), "--start-at", str(time.time() + 3)]
    common += ["--period", "0.04"]
    stop_file = tmp_path / "stop"
    writers, readers = [], []
    logs = [tmp_path / f"writer{i}.log" for i in range(WRITERS)]
    reader_logs = [tmp_path / f"reader{i}.log" for i in range(READERS)]
    # Open the store once first so the processes race on data, not on creating the store.
    LineageStore.open(shared_target).close()
    try:
        for i, log in enumerate(logs):
            api = "execution" if i % 2 == 0 else "subgraph"
            writers.append(spawn_workload(*common, "--writer", str(i), "--api", api, log=log))
        for i, log in enumerate(reader_logs):
            readers.append(
                spawn_workload(
                    "--reader",
                    "--target",
                    shared_target,
                    "--writer",
                    str(i),
                    "--writers",
                    str(WRITERS),
                    "--writes",
                    str(WRITES),
                    "--until",
                    str(stop_file),
                    log=log,
                )
            )
        codes = [w.wait(300) for w in writers]
        stop_file.touch()
        reader_codes = [r.wait(120) for r in readers]
    finally:
        for p in writers + readers:
            stop(p)
    errors = [Path(str(log) + ".err").read_text()[-2000:] for log in logs]
    assert codes == [0] * WRITERS, f"writers failed: {codes} {errors}"
    assert reader_codes == [0] * READERS

    reader_checks = reader_violations = 0
    for log in reader_logs:
        records = [json.loads(line) for line in log.read_text().splitlines()]
        done = [r for r in records if r["op"] == "reader-done"]
        assert done, f"a reader did not finish: {records[-3:]}"
        reader_checks += done[0]["checks"]
        reader_violations += done[0]["violations"]
        assert not done[0]["violations"], [r for r in records if r["op"] == "violation"][:5]

    with LineageStore.open(shared_target) as store:
        by_ext_e, by_ext_a = external_ids(store, "Execution"), external_ids(store, "Artifact")
        shared_ids: dict[str, set[int]] = defaultdict(set)
        acknowledged = 0
        for i, log in enumerate(logs):
            report = reconcile(store, log, i, executions=by_ext_e, artifacts=by_ext_a)
            assert not report.missing and not report.mismatched
            assert report.acknowledged == WRITES
            acknowledged += report.acknowledged
            for line in log.read_text().splitlines():
                rec = json.loads(line)
                if rec["op"] == "ack" and "c" in rec:
                    shared_ids[f"shared-{rec['w'] % SHARED}"].add(rec["c"][1])
        # Every racer got the one context of each shared name.
        assert {name: len(ids) for name, ids in shared_ids.items()} == dict.fromkeys(
            (f"shared-{j}" for j in range(SHARED)), 1
        )
        executions_expected = sum(WRITES * (1 if i % 2 == 0 else PER_WRITE) for i in range(WRITERS))
        assert store.count(NodeKind.EXECUTION) == executions_expected
        assert store.count(NodeKind.ARTIFACT) == WRITERS * WRITES * PER_WRITE
        assert store.count(NodeKind.CONTEXT) == WRITERS * WRITES + SHARED
        violations = check_store(store)
        assert_healthy(store)
        types = [t.name for k in NodeKind for t in store.get_types(k)]
        assert sorted(types) == ["Data", "Run", "Step"]  # one of each despite 8 racers
        engine = store.describe()["engine"]
    record(
        f"concurrency: {WRITERS} writers + {READERS} readers ({engine})",
        writes_acknowledged=acknowledged,
        duplicate_ids=sum(v for k, v in violations.items() if k.startswith("duplicate")),
        executions_missing_events=violations["executions missing events"],
        duplicate_context_names=violations["duplicate context names"],
        reader_checks=reader_checks,
        reader_violations=reader_violations,
    )
