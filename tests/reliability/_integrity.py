"""Whole-store integrity checks and write-log reconciliation (engine-neutral Cypher, test-only)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lineage_graph import LineageStore

NODE_LABELS = {
    "Artifact",
    "Execution",
    "Context",
    "ArtifactType",
    "ExecutionType",
    "ContextType",
    "IdSequence",
    "StoreInfo",
    "ImpactMark",
    "ImportClaim",  # an MLMD import's claim, left by one that died (it lapses)
}
REL_ENDS = {
    "EVENT": "(x:Artifact AND y:Execution) OR (x:Execution AND y:Artifact)",
    "ATTRIBUTION": "x:Artifact AND y:Context",
    "ASSOCIATION": "x:Execution AND y:Context",
    "PARENT_CONTEXT": "x:Context AND y:Context",
    # FalkorDB only (schema 2): every EVENT mirrored consumer -> producer for algo.BFS upstream
    "UPSTREAM": "(x:Artifact AND y:Execution) OR (x:Execution AND y:Artifact)",
}
SEQUENCES = {"Artifact": "n:Artifact", "Execution": "n:Execution", "Context": "n:Context"}
TYPES = "n:ArtifactType OR n:ExecutionType OR n:ContextType"


def _one(store: LineageStore, query: str, **params: Any) -> int:
    rows = store.backend.read(query, params, name="tests/integrity")
    return int(rows[0]["n"]) if rows else 0


def check_store(store: LineageStore) -> dict[str, int]:
    """Violations of the store's invariants, by kind (all zero for a healthy store)."""
    out: dict[str, int] = {}
    for label in ("Artifact", "Execution", "Context"):
        out[f"duplicate {label} ids"] = _one(
            store,
            f"MATCH (n:{label}) WITH n.id AS id, count(*) AS c WHERE c > 1 RETURN count(*) AS n",
        )
    out["duplicate type ids"] = _one(
        store,
        f"MATCH (n) WHERE {TYPES} WITH n.id AS id, count(*) AS c WHERE c > 1 RETURN count(*) AS n",
    )
    out["nodes without id"] = _one(
        store,
        "MATCH (n) WHERE n.id IS NULL AND NOT (n:IdSequence OR n:StoreInfo OR n:ImpactMark OR "
        "n:ImportClaim) "
        "RETURN count(n) AS n",
    )
    for rel, ends in REL_ENDS.items():
        out[f"{rel} with wrong ends"] = _one(
            store, f"MATCH (x)-[r:{rel}]->(y) WHERE NOT ({ends}) RETURN count(r) AS n"
        )
    out["executions missing events"] = _one(
        store,
        "MATCH (e:Execution) WHERE e.ci__n_events IS NOT NULL "
        "OPTIONAL MATCH (e)-[r:EVENT]-() WITH e, count(r) AS k "
        "WHERE k <> e.ci__n_events RETURN count(e) AS n",
    )
    out["duplicate context names"] = _one(
        store,
        "MATCH (c:Context) WITH c.type_id AS t, c.name AS name, count(*) AS k WHERE k > 1 "
        "RETURN count(*) AS n",
    )
    if store.backend.dialect == "falkordb":  # the mirror must match the events one to one
        out["EVENT without its UPSTREAM mirror"] = _one(
            store,
            "MATCH (x)-[r:EVENT]->(y) WHERE NOT (y)-[:UPSTREAM {type: r.type}]->(x) "
            "RETURN count(r) AS n",
        )
        out["UPSTREAM without its EVENT"] = _one(
            store,
            "MATCH (y)-[u:UPSTREAM]->(x) WHERE NOT (x)-[:EVENT {type: u.type}]->(y) "
            "RETURN count(u) AS n",
        )
    labels = store.backend.read("MATCH (n) RETURN DISTINCT labels(n) AS l", name="tests/integrity")
    out["unknown labels"] = sum(1 for r in labels for lab in r["l"] if lab not in NODE_LABELS)
    rels = store.backend.read(
        "MATCH ()-[r]->() RETURN DISTINCT type(r) AS t", name="tests/integrity"
    )
    out["unknown relationship types"] = sum(1 for r in rels if r["t"] not in REL_ENDS)
    behind = 0
    for kind, match in [*SEQUENCES.items(), ("Type", TYPES)]:
        rows = store.backend.read(
            f"OPTIONAL MATCH (n) WHERE {match} WITH max(n.id) AS top "
            "OPTIONAL MATCH (s:IdSequence {kind: $kind}) RETURN top, s.next AS next",
            {"kind": kind},
            name="tests/integrity",
        )
        top, nxt = rows[0]["top"], rows[0]["next"]
        if top is not None and (nxt is None or nxt <= top):
            behind += 1
    out["id sequences behind their ids"] = behind
    return out


def assert_healthy(store: LineageStore) -> None:
    bad = {k: v for k, v in check_store(store).items() if v}
    assert not bad, f"integrity violations: {bad}"


@dataclass
class LogReport:
    """What a writer's log says versus what the store holds."""

    acknowledged: int = 0
    found: int = 0
    missing: list[int] = field(default_factory=list)
    in_doubt: int = 0
    in_doubt_applied: int = 0
    in_doubt_absent: int = 0
    mismatched: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    artifact_ids: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, int]:
        return {
            "writes acknowledged": self.acknowledged,
            "acknowledged found": self.found,
            "acknowledged missing": len(self.missing),
            "writes in doubt": self.in_doubt,
            "in doubt -> applied": self.in_doubt_applied,
            "in doubt -> absent (retried)": self.in_doubt_absent,
        }


def external_ids(store: LineageStore, label: str) -> dict[str, int]:
    rows = store.backend.read(
        f"MATCH (n:{label}) WHERE n.external_id IS NOT NULL RETURN n.id AS id, n.external_id AS x",
        name="tests/integrity",
    )
    return {r["x"]: int(r["id"]) for r in rows}


def reconcile(
    store: LineageStore,
    log: Path,
    writer: int,
    *,
    executions: dict[str, int] | None = None,
    artifacts: dict[str, int] | None = None,
) -> LogReport:
    """Every acknowledged write of ``log`` is in the store with the ids the caller was given."""
    from tests.reliability._workload import ext

    by_ext_e = executions if executions is not None else external_ids(store, "Execution")
    by_ext_a = artifacts if artifacts is not None else external_ids(store, "Artifact")
    report = LogReport()
    acked: dict[int, dict[str, Any]] = {}
    doubted: set[int] = set()
    pending: int | None = None  # a write tried and not (yet) acknowledged
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # the last line, cut by a SIGKILL of the writer
        op = rec["op"]
        if op == "try":
            pending = rec["w"]
        elif op == "ack":
            acked[rec["w"]] = rec
            pending = None
        elif op == "doubt":  # the call raised a retryable error: applied or not?
            doubted.add(rec["w"])
        elif op == "start" and pending is not None:  # the previous writer died mid-call
            doubted.add(pending)
            pending = None
    report.in_doubt = len(doubted)
    report.in_doubt_applied = sum(1 for w in doubted if acked.get(w, {}).get("recovered"))
    report.in_doubt_absent = report.in_doubt - report.in_doubt_applied
    report.acknowledged = len(acked)
    for w, rec in sorted(acked.items()):
        want_e = [by_ext_e.get(ext(writer, w, i, "e")) for i in range(len(rec["e"]))]
        want_a = [by_ext_a.get(ext(writer, w, i, "a")) for i in range(len(rec["a"]))]
        if None in want_e or None in want_a:
            report.missing.append(w)
        elif want_e != rec["e"] or want_a != rec["a"]:
            report.mismatched.append(w)
        else:
            report.found += 1
        report.ids += rec["e"]
        report.artifact_ids += rec["a"]
    for ids in (report.ids, report.artifact_ids):
        dup = [i for i, c in Counter(ids).items() if c > 1]
        assert not dup, f"an id was handed out twice: {dup[:5]}"
    return report
