"""A writer process for the crash and concurrency tests: ``python -m tests.reliability._workload``.

Each write is one public call (``put_lineage_subgraph`` or ``put_execution``) that creates
``per_write`` executions and artifacts, their events, and context links. Every execution carries
``custom_properties["n_events"]`` = its number of events, and every node an external id naming
its write (``"<writer>:<write>:<i>"``), so a checker can tell from the store alone whether a write
is complete and which write it belongs to.

The log (JSON lines, flushed per line, so it survives a SIGKILL of this process) records
``try`` before a call, ``ack`` with the returned ids after it returned, and ``doubt`` when it
raised a retryable error (the outcome is unknown: the write may or may not have been applied).
A write in doubt is resolved by looking its external ids up: present means applied (logged as an
``ack`` with ``recovered``), absent means retry it. A restarted writer (``--resume``) resolves
the last write of its predecessor the same way and continues after it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from lineage_graph import (
    Artifact,
    ArtifactType,
    Context,
    ContextType,
    EngineUnavailableError,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
    NodeKind,
)


def ext(writer: int, write: int, i: int, kind: str) -> str:
    return f"{kind}{writer}:{write}:{i}"


def build(
    writer: int, w: int, k: int, shared_contexts: int
) -> tuple[list[Execution], list[Artifact], list[Context], list[Any]]:
    """Write ``w`` of ``writer``: k executions, k artifacts, events and contexts."""
    executions: list[Execution] = []
    artifacts: list[Artifact] = []
    edges: list[Any] = []
    for i in range(k):
        artifacts.append(
            Artifact(
                type="Data",
                uri=f"/w{writer}/{w}/{i}",
                external_id=ext(writer, w, i, "a"),
                custom_properties={"write": w},
            )
        )
    for i in range(k):
        inputs = [j for j in (i - 1, i - 2) if j >= 0]  # a small DAG inside the write
        edges.append((i, i, Event(type=EventType.OUTPUT, path=[f"out{i}"])))
        edges += [(i, j, Event(type=EventType.INPUT, path=[j])) for j in inputs]
        executions.append(
            Execution(
                type="Step",
                external_id=ext(writer, w, i, "e"),
                custom_properties={"n_events": 1 + len(inputs), "write": w},
            )
        )
    contexts = [Context(type="Run", name=f"run-{writer}-{w}")]
    if shared_contexts:
        contexts.append(Context(type="Run", name=f"shared-{w % shared_contexts}"))
    return executions, artifacts, contexts, edges


class Log:
    def __init__(self, path: Path) -> None:
        self._file: TextIO = path.open("a", encoding="utf-8")

    def __call__(self, **record: Any) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()  # in the kernel: survives a SIGKILL of this process


def last_write(path: Path) -> tuple[int, bool]:
    """``(last write index tried, whether it was acknowledged)`` from a previous writer's log."""
    last, acked = -1, True
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut by the kill
            if rec["op"] == "try":
                last, acked = rec["w"], False
            elif rec["op"] == "ack" and rec["w"] == last:
                acked = True
    return last, acked


def lookup(store: LineageStore, writer: int, w: int, k: int) -> tuple[list[int], list[int]] | None:
    """The ids of write ``w`` if it is in the store, None if absent; raises if half there."""
    want_e = [ext(writer, w, i, "e") for i in range(k)]
    want_a = [ext(writer, w, i, "a") for i in range(k)]
    found_e = {e.external_id: e.id for e in store.get_executions_by_external_ids(want_e)}
    found_a = {a.external_id: a.id for a in store.get_artifacts_by_external_ids(want_a)}
    if not found_e and not found_a:
        return None
    if len(found_e) != k or len(found_a) != k:
        raise AssertionError(
            f"write {writer}:{w} is half applied: {len(found_e)}/{k} executions, "
            f"{len(found_a)}/{k} artifacts"
        )
    return [int(found_e[x] or 0) for x in want_e], [int(found_a[x] or 0) for x in want_a]


def call(store: LineageStore, writer: int, w: int, k: int, args: argparse.Namespace) -> Any:
    executions, artifacts, contexts, edges = build(writer, w, k, args.shared_contexts)
    if args.api == "execution":
        execution = executions[0].model_copy(
            update={"custom_properties": {"n_events": len(artifacts), "write": w}}
        )
        eid, aids, cids = store.put_execution(
            execution,
            [(a, Event(type=EventType.OUTPUT)) for a in artifacts],
            contexts,
            reuse_context_if_already_exist=True,
        )
        return [eid], aids, cids
    return store.put_lineage_subgraph(
        executions, artifacts, contexts, edges, reuse_context_if_already_exist=True
    )


def run(args: argparse.Namespace) -> int:
    log = Log(Path(args.log))
    store = LineageStore.open(args.target)
    for attempt in range(100):
        try:
            store.put_artifact_type(ArtifactType(name="Data"))
            store.put_execution_type(ExecutionType(name="Step"))
            store.put_context_type(ContextType(name="Run"))
            break
        except EngineUnavailableError:
            time.sleep(0.05 * min(attempt + 1, 10))
    k = args.per_write if args.api == "subgraph" else 1
    kinds_k = args.per_write  # artifacts per write
    start = 0
    if args.resume:
        last, acked = last_write(Path(args.log))
        start = last + 1
        if last >= 0 and not acked:
            start = last  # resolved below like any write in doubt
    log(op="start", pid=os.getpid(), start=start)
    w = start
    while w < args.writes:
        if args.start_at:  # writers in lock step: write w of every writer starts together
            time.sleep(max(0.0, args.start_at + w * args.period - time.time()))
        # A write in doubt (or left by a killed predecessor) is resolved before it is retried.
        for attempt in range(200):
            try:
                found = None
                if attempt > 0 or (args.resume and w == start):
                    if args.api == "subgraph":
                        found = lookup(store, args.writer, w, k)
                    else:
                        found = _lookup_execution(store, args.writer, w, kinds_k)
                if found is not None:
                    log(op="ack", w=w, e=found[0], a=found[1], recovered=True)
                    break
                log(op="try", w=w)
                e_ids, a_ids, c_ids = call(store, args.writer, w, kinds_k, args)
                log(op="ack", w=w, e=e_ids, a=a_ids, c=c_ids)
                break
            except EngineUnavailableError as exc:
                log(op="doubt", w=w, error=str(exc)[:200], retryable=exc.retryable)
                time.sleep(0.02 * min(attempt + 1, 10))
        else:
            log(op="gave-up", w=w)
            return 2
        w += 1
        if args.pause:
            time.sleep(args.pause)
    log(op="done")
    store.close()
    return 0


def _lookup_execution(
    store: LineageStore, writer: int, w: int, k: int
) -> tuple[list[int], list[int]] | None:
    """``put_execution`` writes: one execution, k artifacts (same all-or-nothing rule)."""
    found_e = store.get_executions_by_external_ids([ext(writer, w, 0, "e")])
    want_a = [ext(writer, w, i, "a") for i in range(k)]
    found_a = {a.external_id: a.id for a in store.get_artifacts_by_external_ids(want_a)}
    if not found_e and not found_a:
        return None
    if len(found_e) != 1 or len(found_a) != k:
        raise AssertionError(f"write {writer}:{w} is half applied")
    return [int(found_e[0].id or 0)], [int(found_a[x] or 0) for x in want_a]


def read_loop(args: argparse.Namespace) -> int:
    """A reader next to the writers: what it sees must always be whole (atomic visibility)."""
    import random

    log = Log(Path(args.log))
    rng = random.Random(args.writer)
    store = LineageStore.open(args.target)
    checks = violations = 0
    last_count = 0
    stop = Path(args.until)
    deadline = time.monotonic() + 600
    while not stop.exists() and time.monotonic() < deadline:
        try:
            count = store.count(NodeKind.EXECUTION)
            if count < last_count:
                violations += 1
                log(op="violation", what="execution count went down", was=last_count, now=count)
            last_count = count
            wanted = [
                ext(rng.randrange(args.writers), rng.randrange(args.writes), 0, "e")
                for _ in range(20)
            ]
            for execution in store.get_executions_by_external_ids(wanted):
                events = store.get_events_by_execution_ids([execution.id or 0])
                checks += 1
                if len(events) != execution.custom_properties["n_events"]:
                    violations += 1
                    log(op="violation", what="execution without all its events",
                        id=execution.id, events=len(events))  # fmt: skip
            names = [c.name for c in store.get_contexts_by_type("Run")]
            checks += 1
            if len(names) != len(set(names)):
                violations += 1
                log(op="violation", what="duplicate context names")
        except EngineUnavailableError:
            time.sleep(0.05)
        except Exception as exc:  # report, never hide
            violations += 1
            log(op="violation", what=f"{type(exc).__name__}: {exc}"[:300])
    log(op="reader-done", checks=checks, violations=violations)
    store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--writer", type=int, default=0)
    p.add_argument("--writes", type=int, required=True)
    p.add_argument("--per-write", type=int, default=10)
    p.add_argument("--shared-contexts", type=int, default=0)
    p.add_argument("--api", choices=("subgraph", "execution"), default="subgraph")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--pause", type=float, default=0.0)
    p.add_argument("--start-at", type=float, default=0.0, help="epoch time of write 0")
    p.add_argument("--period", type=float, default=0.05, help="seconds between writes")
    p.add_argument("--reader", action="store_true", help="read and check instead of writing")
    p.add_argument("--writers", type=int, default=1, help="(reader) how many writers there are")
    p.add_argument("--until", default="", help="(reader) stop when this file exists")
    args = p.parse_args(argv)
    return read_loop(args) if args.reader else run(args)


if __name__ == "__main__":
    sys.exit(main())
