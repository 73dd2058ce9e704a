"""Workloads of bench/compare.py: each built through the public APIs, each answer verified.

A workload has up to two implementations: ``lg`` (lineage-graph's native API) and ``mlmd`` (the
MLMD API, run both on real MLMD and on lineage-graph's MLMD adapter). Sizes scale with ``Sizes``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    LineageStore,
    PropertyType,
)

from . import _reads as R
from ._timing import Breakdown, recorded, samples

SCALING_SYSTEMS = ("lg-memory", "lg-neo4j", "mlmd-fake", "mlmd-sqlite")


class WrongAnswer(Exception):
    """A workload's answer differs from the known correct one."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise WrongAnswer(message)


def have_mlmd() -> bool:
    return importlib.util.find_spec("ml_metadata") is not None


@dataclass
class Sizes:
    ingest_items: int = 25_000
    batch: int = 1_000
    put_execution_calls: int = 2_000
    chains: tuple[int, ...] = (10, 50, 100, 500)
    fanout: int = 1_000
    background_pipelines: int = 10_000
    filter_artifacts: int = 100_000
    diamonds: int = 40
    cache_executions: tuple[int, ...] = (10_000,)  # the store grows through these sizes
    scaling: tuple[int, ...] = (10_000, 100_000)  # stored nodes for the fixed lineage query
    repeats: int = 7

    @classmethod
    def default(cls) -> Sizes:
        return cls()

    @classmethod
    def large(cls) -> Sizes:
        return cls(cache_executions=(10_000, 1_000_000), scaling=(10_000, 100_000, 1_000_000))

    @classmethod
    def smoke(cls) -> Sizes:
        return cls(
            ingest_items=500,
            batch=100,
            put_execution_calls=50,
            chains=(10, 50),
            fanout=20,
            background_pipelines=50,
            cache_executions=(200, 400),
            filter_artifacts=500,
            diamonds=12,
            scaling=(200, 600),
            repeats=2,
        )


@dataclass
class Result:
    label: str
    samples: list[float]
    items: int = 0
    note: str = ""
    breakdown: Breakdown | None = None  # lineage-graph's systems: where a sample's time went


@dataclass
class Handle:
    """An open system: ``kind`` says which API it speaks (``lg`` or ``mlmd``)."""

    system: str
    kind: str
    store: Any
    extra: dict[str, Any] = field(default_factory=dict)


#: Empties a Neo4j database in batches of 10,000 nodes, each its own transaction: one
#: DETACH DELETE of a large run's store (1M nodes with --large) may exceed the transaction
#: memory. ``CALL { WITH n ... }`` runs on every Neo4j 5 (``CALL (n) {`` needs 5.23).
NEO4J_WIPE = "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


def neo4j_nodes(store: LineageStore) -> int:
    """How many nodes the Neo4j database of ``store`` holds."""
    return int(store.backend.read("MATCH (n) RETURN count(n) AS n", name="bench/count")[0]["n"])


def wipe_neo4j(store: LineageStore) -> None:
    """Delete every node of the Neo4j database ``store`` uses (its schema stays). ``IN
    TRANSACTIONS`` needs an auto-commit transaction: the backend's own session, whose bookmarks
    make its next read see the database empty. As every statement of the store, it starts with
    the backend's ``query_prefix`` (``CYPHER 5`` on Neo4j 2025.06+, whose database may run
    Cypher 25 by default)."""
    backend = store.backend
    with backend._session() as session:  # type: ignore[attr-defined]
        session.run(backend.query_prefix + NEO4J_WIPE).consume()  # type: ignore[attr-defined]


@contextlib.contextmanager
def open_system(system: str, workdir: Path) -> Iterator[Handle]:
    if system == "lg-memory":
        with LineageStore.open("memory") as store:
            yield Handle(system, "lg", store)
    elif system == "lg-disk":
        with LineageStore.open(workdir / "store") as store:
            yield Handle(system, "lg", store)
    elif system == "lg-neo4j":
        # compare.py refused a database holding data unless --wipe-neo4j allowed emptying it
        with LineageStore.open(os.environ["NEO4J_URI"]) as store:
            wipe_neo4j(store)
        with LineageStore.open(os.environ["NEO4J_URI"]) as store:
            yield Handle(system, "lg", store)
    elif system == "lg-mlmd-adapter":
        from lineage_graph.mlmd import MetadataStore as AdapterStore

        adapter = AdapterStore("memory")
        try:
            yield Handle(system, "mlmd", adapter)
        finally:
            with contextlib.suppress(Exception):
                adapter.close()
    elif system in ("mlmd-fake", "mlmd-sqlite"):
        from ml_metadata.metadata_store import metadata_store
        from ml_metadata.proto import metadata_store_pb2

        config = metadata_store_pb2.ConnectionConfig()
        if system == "mlmd-fake":
            config.fake_database.SetInParent()
        else:
            config.sqlite.filename_uri = str(workdir / "mlmd.sqlite")
            config.sqlite.connection_mode = 3
        yield Handle(system, "mlmd", metadata_store.MetadataStore(config))
    else:  # pragma: no cover
        raise ValueError(system)


@dataclass
class Workload:
    name: str
    lg: Callable[[Handle, Sizes], list[Result]] | None = None
    mlmd: Callable[[Handle, Sizes], list[Result]] | None = None
    systems: tuple[str, ...] | None = None  # restrict to these systems

    def supports(self, system: str) -> bool:
        if self.systems is not None and system not in self.systems:
            return False
        kind = "mlmd" if system in ("lg-mlmd-adapter", "mlmd-fake", "mlmd-sqlite") else "lg"
        return (self.lg if kind == "lg" else self.mlmd) is not None

    def run(self, handle: Handle, sizes: Sizes) -> list[Result]:
        impl = self.lg if handle.kind == "lg" else self.mlmd
        assert impl is not None
        return impl(handle, sizes)


def _timed(h: Handle, fn: Callable[[], Any]) -> tuple[float, Any, Breakdown | None]:
    import time

    with recorded(h) as breakdown:
        t = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t
    return elapsed, result, breakdown[0] if breakdown else None


Stored = tuple[set[Any], set[Any], set[Any]]  # artifacts, executions, events


def stored(h: Handle) -> Stored:
    """Read the whole store back through the handle's own API: artifacts as (id, uri, day),
    executions as (id, state), events as (artifact id, execution id, type). The ingest rows
    compare it with what they wrote: the sets, not only how many ids the puts returned."""
    if h.kind == "lg":
        store: LineageStore = h.store
        execs = store.get_executions()
        arts = {(a.id, a.uri or "", a.properties.get("day")) for a in store.get_artifacts()}
        states = {(e.id, e.last_known_state.name) for e in execs}
        events = store.get_events_by_execution_ids([e.id for e in execs if e.id is not None])
        return arts, states, {(ev.artifact_id, ev.execution_id, ev.type.name) for ev in events}
    pb = _pb()
    mexecs = h.store.get_executions()
    marts = {
        (a.id, a.uri, a.properties["day"].int_value if "day" in a.properties else None)
        for a in h.store.get_artifacts()
    }
    mstates = {(e.id, pb.Execution.State.Name(e.last_known_state)) for e in mexecs}
    mevents = h.store.get_events_by_execution_ids([e.id for e in mexecs]) if mexecs else []
    return (
        marts,
        mstates,
        {(ev.artifact_id, ev.execution_id, pb.Event.Type.Name(ev.type)) for ev in mevents},
    )


def check_stored(h: Handle, want: Stored, what: str) -> None:
    got = stored(h)
    for name, g, w in zip(("artifacts", "executions", "events"), got, want, strict=True):
        check(
            g == w,
            f"{what} ({h.system}): stored {name} differ from those written: {len(g)} stored, "
            f"{len(w)} written, {len(g ^ w)} differ",
        )


def _pb() -> Any:
    from ml_metadata.proto import metadata_store_pb2

    return metadata_store_pb2


# ------------------------------------------------------------------------------- the floor

ROUND_TRIP_CALLS = 200


def round_trip_lg(h: Handle, s: Sizes) -> list[Result]:
    """The floor under every lineage-graph row: a statement that does nothing (``RETURN 1``)
    through the same client, transport and engine. A sample is the mean of 200 calls."""
    backend = h.store.backend

    def run() -> list[Any]:
        rows: list[Any] = []
        for _ in range(ROUND_TRIP_CALLS):
            rows = backend.read("RETURN 1 AS one", name="bench/return_1")
        return rows

    def one(rows: list[Any]) -> None:
        check(rows == [{"one": 1}], f"RETURN 1 answered {rows}")

    times, breakdown = samples(h, run, s.repeats, one)
    per_call = None
    if breakdown is not None:
        per_call = Breakdown(
            breakdown.statements / ROUND_TRIP_CALLS,
            breakdown.round_trips / ROUND_TRIP_CALLS,
            None if breakdown.engine_s is None else breakdown.engine_s / ROUND_TRIP_CALLS,
        )
    return [
        Result(
            "floor: one round trip (RETURN 1)",
            [t / ROUND_TRIP_CALLS for t in times],
            1,
            breakdown=per_call,
        )
    ]


# ------------------------------------------------------------------------------------ ingest


def _split(total: int) -> tuple[int, int, int]:
    """25k items = 40% artifacts, 20% executions, 40% events (one input event per artifact)."""
    n_art = total * 2 // 5
    n_exec = total // 5
    return n_art, n_exec, total - n_art - n_exec


def ingest_lg(h: Handle, s: Sizes) -> list[Result]:
    store: LineageStore = h.store
    store.put_artifact_type(ArtifactType(name="DataSet", properties={"day": PropertyType.INT}))
    store.put_execution_type(ExecutionType(name="Trainer"))
    n_art, n_exec, n_ev = _split(s.ingest_items)

    def run() -> tuple[list[int], list[int], list[Event]]:
        aids: list[int] = []
        eids: list[int] = []
        for i in range(0, n_art, s.batch):
            batch = [
                Artifact(type="DataSet", uri=f"/d/{j}", properties={"day": j})
                for j in range(i, min(i + s.batch, n_art))
            ]
            aids += store.put_artifacts(batch)
        for i in range(0, n_exec, s.batch):
            eids += store.put_executions(
                [Execution(type="Trainer") for _ in range(i, min(i + s.batch, n_exec))]
            )
        events = [
            Event(artifact_id=aids[k], execution_id=eids[k % len(eids)], type=EventType.INPUT)
            for k in range(n_ev)
        ]
        for i in range(0, n_ev, s.batch):
            store.put_events(events[i : i + s.batch])
        return aids, eids, events

    elapsed, (aids, eids, _), breakdown = _timed(h, run)
    items = _check_ingest(h, s, aids, eids)
    return [Result("ingest: batched puts", [elapsed], items, breakdown=breakdown)]


def _check_ingest(h: Handle, s: Sizes, aids: list[int], eids: list[int]) -> int:
    """What the batched ingest wrote, read back: every artifact with its uri and day, every
    execution, every INPUT event (artifact k read by execution k mod executions)."""
    n_art, n_exec, n_ev = _split(s.ingest_items)
    check(
        len(aids) == n_art and len(eids) == n_exec,
        f"ingest ({h.system}): {len(aids)} artifact and {len(eids)} execution ids returned",
    )
    want: Stored = (
        {(aids[j], f"/d/{j}", j) for j in range(n_art)},
        {(e, "UNKNOWN") for e in eids},
        {(aids[k], eids[k % n_exec], "INPUT") for k in range(n_ev)},
    )
    check_stored(h, want, "ingest: batched puts")
    return n_art + n_exec + n_ev


def ingest_mlmd(h: Handle, s: Sizes) -> list[Result]:
    pb = _pb()
    store = h.store
    at = pb.ArtifactType(name="DataSet")
    at.properties["day"] = pb.INT
    at_id = store.put_artifact_type(at)
    et_id = store.put_execution_type(pb.ExecutionType(name="Trainer"))
    n_art, n_exec, n_ev = _split(s.ingest_items)

    def run() -> tuple[list[int], list[int], list[Any]]:
        aids: list[int] = []
        eids: list[int] = []
        for i in range(0, n_art, s.batch):
            batch = []
            for j in range(i, min(i + s.batch, n_art)):
                a = pb.Artifact(type_id=at_id, uri=f"/d/{j}")
                a.properties["day"].int_value = j
                batch.append(a)
            aids += store.put_artifacts(batch)
        for i in range(0, n_exec, s.batch):
            eids += store.put_executions(
                [pb.Execution(type_id=et_id) for _ in range(i, min(i + s.batch, n_exec))]
            )
        events = [
            pb.Event(artifact_id=aids[k], execution_id=eids[k % len(eids)], type=pb.Event.INPUT)
            for k in range(n_ev)
        ]
        for i in range(0, n_ev, s.batch):
            store.put_events(events[i : i + s.batch])
        return aids, eids, events

    elapsed, (aids, eids, _), breakdown = _timed(h, run)
    items = _check_ingest(h, s, aids, eids)
    return [Result("ingest: batched puts", [elapsed], items, breakdown=breakdown)]


def _subgraph_batches(s: Sizes) -> list[tuple[int, int]]:
    """(executions, artifacts) per put_lineage_subgraph call: each execution reads one artifact
    and writes one; items = executions + artifacts + events."""
    per_call = max(s.batch // 5, 1)  # 5 items per execution
    calls = max(s.ingest_items // (per_call * 5), 1)
    return [(per_call, 2 * per_call)] * calls


def _check_subgraph(h: Handle, written: list[tuple[list[int], list[int]]]) -> None:
    """What the put_lineage_subgraph calls wrote, read back: per call, execution k read
    artifact 2k (uri ``/2k``) and wrote artifact 2k+1, every execution COMPLETE."""
    want: Stored = (set(), set(), set())
    for eids, aids in written:
        want[0].update((a, f"/{j}", None) for j, a in enumerate(aids))
        want[1].update((e, "COMPLETE") for e in eids)
        for k, e in enumerate(eids):
            want[2].update({(aids[2 * k], e, "INPUT"), (aids[2 * k + 1], e, "OUTPUT")})
    check_stored(h, want, "ingest: put_lineage_subgraph")


def subgraph_lg(h: Handle, s: Sizes) -> list[Result]:
    store: LineageStore = h.store
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))

    def run() -> tuple[int, list[tuple[list[int], list[int]]]]:
        items = 0
        written: list[tuple[list[int], list[int]]] = []
        for n_exec, n_art in _subgraph_batches(s):
            edges = []
            for k in range(n_exec):
                edges.append((k, 2 * k, Event(type=EventType.INPUT)))
                edges.append((k, 2 * k + 1, Event(type=EventType.OUTPUT)))
            eids, aids, _ = store.put_lineage_subgraph(
                [
                    Execution(type="Trainer", last_known_state=ExecutionState.COMPLETE)
                    for _ in range(n_exec)
                ],
                [Artifact(type="DataSet", uri=f"/{k}") for k in range(n_art)],
                [],
                edges,
            )
            items += n_exec + n_art + len(edges)
            written.append((eids, aids))
        return items, written

    elapsed, (items, written), breakdown = _timed(h, run)
    _check_subgraph(h, written)
    return [Result("ingest: put_lineage_subgraph", [elapsed], items, breakdown=breakdown)]


def subgraph_mlmd(h: Handle, s: Sizes) -> list[Result]:
    pb = _pb()
    store = h.store
    at_id = store.put_artifact_type(pb.ArtifactType(name="DataSet"))
    et_id = store.put_execution_type(pb.ExecutionType(name="Trainer"))

    def run() -> tuple[int, list[tuple[list[int], list[int]]]]:
        items = 0
        written: list[tuple[list[int], list[int]]] = []
        for n_exec, n_art in _subgraph_batches(s):
            edges = []
            for k in range(n_exec):
                edges.append((k, 2 * k, pb.Event(type=pb.Event.INPUT)))
                edges.append((k, 2 * k + 1, pb.Event(type=pb.Event.OUTPUT)))
            eids, aids, _ = store.put_lineage_subgraph(
                [
                    pb.Execution(type_id=et_id, last_known_state=pb.Execution.COMPLETE)
                    for _ in range(n_exec)
                ],
                [pb.Artifact(type_id=at_id, uri=f"/{k}") for k in range(n_art)],
                [],
                edges,
            )
            items += n_exec + n_art + len(edges)
            written.append((list(eids), list(aids)))
        return items, written

    elapsed, (items, written), breakdown = _timed(h, run)
    _check_subgraph(h, written)
    return [Result("ingest: put_lineage_subgraph", [elapsed], items, breakdown=breakdown)]


def _check_put_execution(h: Handle, seed: int, written: list[tuple[int, list[int]]]) -> int:
    """What the put_execution calls wrote, read back: call i's execution (COMPLETE) read the
    seed artifact and wrote a new artifact ``/out/i``."""
    want: Stored = ({(seed, "/seed", None)}, set(), set())
    for i, (eid, aids) in enumerate(written):
        check(len(aids) == 2 and aids[0] == seed, f"put_execution {i}: artifact ids {aids}")
        want[0].add((aids[1], f"/out/{i}", None))
        want[1].add((eid, "COMPLETE"))
        want[2].update({(seed, eid, "INPUT"), (aids[1], eid, "OUTPUT")})
    check_stored(h, want, "ingest: put_execution, one call each")
    return 5 * len(written)


def put_execution_call_lg(
    store: LineageStore,
) -> tuple[int, Callable[[int], tuple[int, list[int]]]]:
    """The durable row's call on ``store``, its types and seed artifact written first: the seed's
    id and ``call(i)``, one ``put_execution`` (a COMPLETE execution reading the seed and writing
    a new artifact ``/out/{i}``) returning the execution's and the artifacts' ids (also
    bench/flush.py's)."""
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    [seed] = store.put_artifacts([Artifact(type="DataSet", uri="/seed")])

    def call(i: int) -> tuple[int, list[int]]:
        eid, aids, _ = store.put_execution(
            Execution(type="Trainer", last_known_state=ExecutionState.COMPLETE),
            [
                (Artifact(id=seed), Event(type=EventType.INPUT)),
                (Artifact(type="DataSet", uri=f"/out/{i}"), Event(type=EventType.OUTPUT)),
            ],
        )
        return eid, aids

    return seed, call


def put_execution_lg(h: Handle, s: Sizes) -> list[Result]:
    seed, call = put_execution_call_lg(h.store)

    def run() -> list[tuple[int, list[int]]]:
        return [call(i) for i in range(s.put_execution_calls)]

    elapsed, written, breakdown = _timed(h, run)
    items = _check_put_execution(h, seed, written)  # execution + 2 artifacts + 2 events each
    return [Result("ingest: put_execution, one call each", [elapsed], items, breakdown=breakdown)]


def put_execution_call_mlmd(store: Any) -> tuple[int, Callable[[int], tuple[int, list[int]]]]:
    """:func:`put_execution_call_lg` on an MLMD API ``store`` (ml_metadata's or the adapter)."""
    pb = _pb()
    at_id = store.put_artifact_type(pb.ArtifactType(name="DataSet"))
    et_id = store.put_execution_type(pb.ExecutionType(name="Trainer"))
    [seed_id] = store.put_artifacts([pb.Artifact(type_id=at_id, uri="/seed")])
    [seed] = store.get_artifacts_by_id([seed_id])

    def call(i: int) -> tuple[int, list[int]]:
        eid, aids, _ = store.put_execution(
            pb.Execution(type_id=et_id, last_known_state=pb.Execution.COMPLETE),
            [
                (seed, pb.Event(type=pb.Event.INPUT)),
                (pb.Artifact(type_id=at_id, uri=f"/out/{i}"), pb.Event(type=pb.Event.OUTPUT)),
            ],
            [],
        )
        return eid, list(aids)

    return seed_id, call


def put_execution_mlmd(h: Handle, s: Sizes) -> list[Result]:
    seed_id, call = put_execution_call_mlmd(h.store)

    def run() -> list[tuple[int, list[int]]]:
        return [call(i) for i in range(s.put_execution_calls)]

    elapsed, written, breakdown = _timed(h, run)
    items = _check_put_execution(h, seed_id, written)
    return [Result("ingest: put_execution, one call each", [elapsed], items, breakdown=breakdown)]


def workloads(large: bool = False) -> list[Workload]:
    """Every workload, in table order."""
    result = [
        Workload("round_trip", round_trip_lg),
        Workload("ingest_batched", ingest_lg, ingest_mlmd),
        Workload("ingest_subgraph", subgraph_lg, subgraph_mlmd),
        Workload("put_execution", put_execution_lg, put_execution_mlmd),
        Workload("upstream_chain", R.chains_lg, R.chains_mlmd),
        Workload("downstream_fanout", R.fanout_lg, R.fanout_mlmd),
        Workload("upstream_diamonds", R.diamonds_lg, R.diamonds_mlmd),
        Workload("same_inputs", R.cache_lg, R.cache_mlmd),
        Workload("filter_query", None, R.filter_mlmd),
        # the growing store is built on one system of each kind (100k-1M nodes each)
        Workload("scaling", R.scaling_lg, R.scaling_mlmd, systems=SCALING_SYSTEMS),
    ]
    return result
