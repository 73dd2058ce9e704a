"""Read workloads of bench/compare.py: lineage walks, the "same inputs" lookup, filter_query.

Each builds its data through the public APIs (:mod:`bench._build`), verifies every answer against
the oracle (a wrong answer raises :class:`bench._workloads.WrongAnswer`) and times the query only.

MLMD methods (what "MLMD's best complete method" means here):

* **subgraph**: one ``get_lineage_subgraph`` call (starting artifact ``id = X``, direction, and
  ``max_num_hops`` = the depth needed). MLMD caps it at 100 hops (50 artifact generations), so it
  is only complete, and only measured on real MLMD, when the answer lies within 100 hops.
* **client BFS**: the walk written with MLMD's API, one hop per round trip:
  ``get_events_by_artifact_ids`` then ``get_events_by_execution_ids`` for each generation, a
  visited set so each node is expanded once, then ``get_artifacts_by_id`` and
  ``get_executions_by_id`` for the answer.

Both are timed and the faster complete one is reported (the note says which and the other time).
"Same inputs before" on MLMD: ``get_events_by_artifact_ids(inputs)``, keep the executions whose
INPUT events cover exactly those inputs, re-check their full input sets with
``get_events_by_execution_ids``, filter type and state with ``get_executions_by_id``, take the
newest, and fetch its outputs with ``get_artifacts_by_id``, passing it over for the next newest
when one of them is MARKED_FOR_DELETION, DELETED or ABANDONED (the answer
``find_cached_execution`` gives). This needs nothing written beyond ordinary events; TFX
instead writes a cache-key context per input fingerprint, which the writer must maintain (not
measured: a different write path).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from lineage_graph import LineageStore, NodeKind, NodeRef

from . import _timing
from ._build import Dag, Expected, build, content, reach, written_artifact

__all__ = [
    "cache_lg",
    "cache_mlmd",
    "chains_lg",
    "chains_mlmd",
    "diamonds_lg",
    "diamonds_mlmd",
    "fanout_lg",
    "fanout_mlmd",
    "filter_mlmd",
    "scaling_lg",
    "scaling_mlmd",
]

MLMD_MAX_HOPS = 100
REAL_MLMD = ("mlmd-fake", "mlmd-sqlite")


def _wrong(message: str) -> None:
    from ._workloads import WrongAnswer

    raise WrongAnswer(message)


def _check(condition: bool, message: str) -> None:
    if not condition:
        _wrong(message)


def _samples(
    h: Any, fn: Callable[[], Any], repeats: int, verify: Callable[[Any], None]
) -> tuple[list[float], Any]:
    """One untimed warm-up call, then ``repeats`` timed calls; returns the times and where a
    call's time went (:mod:`bench._timing`; None for MLMD)."""
    return _timing.samples(h, fn, repeats, verify)


def _result(
    label: str, samples: list[float], items: int = 0, note: str = "", breakdown: Any = None
) -> Any:
    from ._workloads import Result

    return Result(label, samples, items, note, breakdown)


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1e3:.2f} ms"


# -------------------------------------------------------------------------------- the DAGs


def chain(dag: Dag, generations: int) -> int:
    """a0 -> e1 -> a1 -> ... -> a_n; returns the last artifact."""
    a = dag.artifact("/chain/0")
    for i in range(1, generations + 1):
        b = dag.artifact(f"/chain/{generations}/{i}")
        dag.execution((a,), (b,))
        a = b
    return a


def fanout(dag: Dag, width: int) -> int:
    """dataset -> width trainers -> width models -> width pushers -> width pushed models."""
    data = dag.artifact("/fan/data")
    for i in range(width):
        model = dag.artifact(f"/fan/model/{i}")
        dag.execution((data,), (model,))
        pushed = dag.artifact(f"/fan/pushed/{i}")
        dag.execution((model,), (pushed,))
    return data


def diamonds(dag: Dag, count: int) -> int:
    """A ladder: a -> (left, right) -> join -> a', ``count`` times; returns the last artifact."""
    a = dag.artifact("/dia/0")
    for i in range(count):
        left, right = dag.artifact(f"/dia/{i}/l"), dag.artifact(f"/dia/{i}/r")
        dag.execution((a,), (left,))
        dag.execution((a,), (right,))
        a = dag.artifact(f"/dia/{i + 1}")
        dag.execution((left, right), (a,))
    return a


def background(dag: Dag, nodes: int, tag: str) -> None:
    """Unrelated three-node pipelines (raw -> step -> clean) until the DAG has ``nodes``."""
    i = 0
    while dag.nodes + 3 <= nodes:
        raw = dag.artifact(f"/bg/{tag}/{i}/raw")
        clean = dag.artifact(f"/bg/{tag}/{i}/clean")
        dag.execution((raw,), (clean,))
        i += 1


# ---------------------------------------------------------------------------- native walks


def _verify_graph(graph: Any, exp: Expected, what: str) -> None:
    _check(bool(getattr(graph, "complete", True)), f"{what}: answer not complete")
    arts = {a.id for a in graph.artifacts}
    execs = {e.id for e in graph.executions}
    # with its type (EventType numbers are MLMD's), and each event once
    listed = [(ev.artifact_id, ev.execution_id, int(ev.type)) for ev in graph.events]
    edges = set(listed)
    _check(len(listed) == len(edges), f"{what}: {len(listed) - len(edges)} events listed twice")
    _check(
        arts == exp.artifact_ids,
        f"{what}: {len(arts)} artifacts, expected {len(exp.artifact_ids)}",
    )
    _check(
        execs == exp.execution_ids,
        f"{what}: {len(execs)} executions, expected {len(exp.execution_ids)}",
    )
    _check(edges == exp.edges, f"{what}: {len(edges)} events, expected {len(exp.edges)}")
    # each node once, and holding what was written (type, uri, day; type, state): the ids
    # alone passed an answer whose every uri or state was wrong
    for kind, nodes, want in (
        ("artifacts", graph.artifacts, exp.artifacts),
        ("executions", graph.executions, exp.executions),
    ):
        got = [content(n) for n in nodes]
        _check(len(got) == len(set(got)), f"{what}: {len(got) - len(set(got))} {kind} twice")
        differ = sorted(set(got) ^ want, key=repr)
        _check(not differ, f"{what}: {len(differ)} {kind} differ from those written: {differ[:2]}")


def _lg_walk(h: Any, s: Any, label: str, aid: int, exp: Expected, upstream: bool) -> Any:
    store: LineageStore = h.store
    ref = NodeRef(NodeKind.ARTIFACT, aid)
    walk = store.upstream if upstream else store.downstream
    what = f"{label} ({h.system})"
    samples, breakdown = _samples(
        h, lambda: walk(ref), s.repeats, lambda g: _verify_graph(g, exp, what)
    )
    return _result(label, samples, exp.nodes, breakdown=breakdown)


def _native(h: Any, s: Any, label: str, aid: int, exp: Expected, up: bool, hops: int) -> Any:
    """:func:`_lg_walk` with :func:`_mlmd_walk`'s signature (the hop count is MLMD's concern)."""
    return _lg_walk(h, s, label, aid, exp, up)


# ------------------------------------------------------------------------------ MLMD walks


def _subgraph(store: Any, aid: int, upstream: bool, hops: int) -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    opts = pb.LineageSubgraphQueryOptions(
        starting_artifacts=pb.LineageSubgraphQueryOptions.StartingNodes(filter_query=f"id = {aid}"),
        max_num_hops=hops,
        direction=(
            pb.LineageSubgraphQueryOptions.UPSTREAM
            if upstream
            else pb.LineageSubgraphQueryOptions.DOWNSTREAM
        ),
    )
    return store.get_lineage_subgraph(opts)


class _Graph:
    def __init__(self, artifacts: list[Any], executions: list[Any], events: list[Any]) -> None:
        self.artifacts, self.executions, self.events = artifacts, executions, events


def client_bfs(store: Any, aid: int, upstream: bool) -> _Graph:
    """MLMD's complete walk at any depth: one generation per two round trips, visited sets."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    ins = {pb.Event.INPUT, pb.Event.DECLARED_INPUT, pb.Event.INTERNAL_INPUT}
    outs = {
        pb.Event.OUTPUT,
        pb.Event.DECLARED_OUTPUT,
        pb.Event.INTERNAL_OUTPUT,
        pb.Event.PENDING_OUTPUT,
    }
    to_exec, to_art = (outs, ins) if upstream else (ins, outs)
    seen_a, seen_e = {aid}, set()
    events: dict[tuple[int, int, int], Any] = {}
    frontier = [aid]
    while frontier:
        new_e: set[int] = set()
        for ev in store.get_events_by_artifact_ids(frontier):
            if ev.type in to_exec:
                events[(ev.artifact_id, ev.execution_id, ev.type)] = ev
                if ev.execution_id not in seen_e:
                    new_e.add(ev.execution_id)
        if not new_e:
            break
        seen_e |= new_e
        new_a: set[int] = set()
        for ev in store.get_events_by_execution_ids(list(new_e)):
            if ev.type in to_art:
                events[(ev.artifact_id, ev.execution_id, ev.type)] = ev
                if ev.artifact_id not in seen_a:
                    new_a.add(ev.artifact_id)
        seen_a |= new_a
        frontier = list(new_a)
    return _Graph(
        list(store.get_artifacts_by_id(list(seen_a))),
        list(store.get_executions_by_id(list(seen_e))),
        list(events.values()),
    )


def _mlmd_walk(
    h: Any, s: Any, label: str, aid: int, exp: Expected, upstream: bool, hops: int
) -> Any:
    """Time every complete MLMD method; report the fastest (the note names it)."""
    methods: dict[str, Callable[[], Any]] = {
        "client BFS": lambda: client_bfs(h.store, aid, upstream)
    }
    if hops <= MLMD_MAX_HOPS or h.system not in REAL_MLMD:
        methods["subgraph"] = lambda: _subgraph(h.store, aid, upstream, hops)
    timed: dict[str, list[float]] = {}
    breakdowns: dict[str, Any] = {}
    for name, fn in methods.items():
        what = f"{label} ({h.system}, {name})"

        def verify(graph: Any, what: str = what) -> None:
            _verify_graph(graph, exp, what)

        samples, breakdowns[name] = _samples(h, fn, s.repeats, verify)
        timed[name] = samples
    best = min(timed, key=lambda n: statistics.median(timed[n]))  # the median the table prints
    others = ", ".join(f"{n} {_ms(v)}" for n, v in timed.items() if n != best)
    capped = "" if "subgraph" in timed else "; subgraph capped at 100 hops"
    note = f"best: {best}" + (f" ({others})" if others else "") + capped
    return _result(label, timed[best], exp.nodes, note, breakdowns[best])


# -------------------------------------------------------------------------------- workloads


def _chains(h: Any, s: Any, walk: Callable[..., Any]) -> list[Any]:
    dag = Dag()
    ends = {n: chain(dag, n) for n in s.chains}
    built = build(h, dag)
    results = []
    for n, end in ends.items():
        exp = reach(dag, built, end, upstream=True)
        label = f"upstream: chain of {n} generations"
        results.append(walk(h, s, label, built.artifact_ids[end], exp, True, 2 * n))
    return results


def chains_lg(h: Any, s: Any) -> list[Any]:
    return _chains(h, s, _native)


def chains_mlmd(h: Any, s: Any) -> list[Any]:
    return _chains(h, s, _mlmd_walk)


def _fanout(h: Any, s: Any, walk: Callable[..., Any]) -> list[Any]:
    dag = Dag()
    start = fanout(dag, s.fanout)
    background(dag, dag.nodes + 3 * s.background_pipelines, "fan")
    built = build(h, dag)
    exp = reach(dag, built, start, upstream=False)
    _check(exp.nodes == 4 * s.fanout + 1, f"fan-out oracle: {exp.nodes} nodes")
    label = f"downstream: fan-out to {exp.nodes:,} nodes"
    return [walk(h, s, label, built.artifact_ids[start], exp, False, 4)]


def fanout_lg(h: Any, s: Any) -> list[Any]:
    return _fanout(h, s, _native)


def fanout_mlmd(h: Any, s: Any) -> list[Any]:
    return _fanout(h, s, _mlmd_walk)


def _diamonds(h: Any, s: Any, walk: Callable[..., Any]) -> list[Any]:
    dag = Dag()
    end = diamonds(dag, s.diamonds)
    built = build(h, dag)
    exp = reach(dag, built, end, upstream=True)
    label = f"upstream: ladder of {s.diamonds} diamonds"
    return [walk(h, s, label, built.artifact_ids[end], exp, True, 4 * s.diamonds)]


def diamonds_lg(h: Any, s: Any) -> list[Any]:
    return _diamonds(h, s, _native)


def diamonds_mlmd(h: Any, s: Any) -> list[Any]:
    return _diamonds(h, s, _mlmd_walk)


def _scaling(h: Any, s: Any, walk: Callable[..., Any]) -> list[Any]:
    dag = Dag()
    end = chain(dag, 10)
    built = build(h, dag)
    exp = reach(dag, built, end, upstream=True)
    aid = built.artifact_ids[end]
    results = []
    stored = dag.nodes
    for size in s.scaling:
        extra = Dag()  # unrelated pipelines: the answer does not change
        background(extra, size - stored, f"s{size}")
        build(h, extra)
        stored += extra.nodes
        label = f"scaling: upstream 10 gens, store of {size:,} nodes"
        results.append(walk(h, s, label, aid, exp, True, 20))
    first, last = results[0], results[-1]
    growth = statistics.median(last.samples) / statistics.median(first.samples)
    last.note = (last.note + "; " if last.note else "") + f"growth x{growth:.2f} from first size"
    return results


def scaling_lg(h: Any, s: Any) -> list[Any]:
    return _scaling(h, s, _native)


def scaling_mlmd(h: Any, s: Any) -> list[Any]:
    return _scaling(h, s, _mlmd_walk)


# ---------------------------------------------------------------------------- same inputs


SHARED_INPUTS = 100  # executions read (own dataset, one of 100 shared schemas)


def _cache_dag(dag: Dag, start: int, count: int, shared: list[int]) -> None:
    for k in range(start, start + count):
        x = dag.artifact(f"/cache/x/{k}")
        out = dag.artifact(f"/cache/out/{k}")
        dag.execution((x, shared[k % len(shared)]), (out,))


def _cache(
    h: Any, s: Any, lookup: Callable[[list[int]], tuple[int, list[tuple[int, str]]] | None]
) -> list[Any]:
    """Executions ``k`` read (own dataset x_k, shared schema k % 100) and write out_k; the store
    grows through ``s.cache_executions``; at each size: a hit (inputs of execution size // 2) and a
    miss (its dataset with another schema)."""
    first = Dag()
    shared = [first.artifact(f"/cache/schema/{j}") for j in range(SHARED_INPUTS)]
    shared_ids = build(h, first).artifact_ids
    results = []
    done = 0
    for size in s.cache_executions:
        part = Dag(existing=shared_ids)
        for k in range(done, size):
            x = part.artifact(f"/cache/x/{k}")
            out = part.artifact(f"/cache/out/{k}")
            part.execution((x, -1 - shared[k % SHARED_INPUTS]), (out,))
        built = build(h, part)
        k = (done + size) // 2
        i = k - done
        x_k, out_k = built.artifact_ids[2 * i], built.artifact_ids[2 * i + 1]
        e_k = built.execution_ids[i]
        done = size
        hit_inputs = [x_k, shared_ids[k % SHARED_INPUTS]]
        miss_inputs = [x_k, shared_ids[(k + 1) % SHARED_INPUTS]]
        want_hit = (e_k, [(out_k, f"/cache/out/{k}")])  # the output with its uri, not only its id

        def hit(got: Any, want: Any = want_hit) -> None:
            _check(got == want, f"same-inputs hit ({h.system}): {got}, want {want}")

        samples, breakdown = _samples(h, lambda i=hit_inputs: lookup(i), s.repeats, hit)
        label = f"same inputs: hit among {size:,} executions"
        results.append(_result(label, samples, 1, breakdown=breakdown))

        def miss(got: Any) -> None:
            _check(got is None, f"same-inputs miss ({h.system}): {got}")

        samples, breakdown = _samples(h, lambda i=miss_inputs: lookup(i), s.repeats, miss)
        label = f"same inputs: miss among {size:,} executions"
        results.append(_result(label, samples, 1, breakdown=breakdown))
    return results


def cache_lg(h: Any, s: Any) -> list[Any]:
    store: LineageStore = h.store

    def lookup(inputs: list[int]) -> tuple[int, list[tuple[int, str]]] | None:
        r = store.find_cached_execution("Step", inputs, explain=False)
        if not r.hit:
            return None
        assert r.execution is not None
        return r.execution.id, [(a.id, a.uri) for a in r.outputs]  # type: ignore[misc]

    return _cache(h, s, lookup)


def cache_mlmd(h: Any, s: Any) -> list[Any]:
    from ml_metadata.proto import metadata_store_pb2 as pb  # imported once, not per lookup

    def lookup(inputs: list[int]) -> tuple[int, list[tuple[int, str]]] | None:
        return mlmd_same_inputs(h.store, h.extra["types"][1], inputs, pb)

    return _cache(h, s, lookup)


def mlmd_same_inputs(
    store: Any, et_id: int, inputs: list[int], pb: Any
) -> tuple[int, list[tuple[int, str]]] | None:
    """ "Same inputs before" with MLMD's API: the newest COMPLETE or CACHED execution of type
    ``et_id`` whose INPUT artifacts are exactly ``inputs``, and its outputs (id, uri).
    ``pb``: MLMD's ``metadata_store_pb2``."""
    done = {pb.Execution.COMPLETE, pb.Execution.CACHED}
    want = set(inputs)
    read: dict[int, set[int]] = defaultdict(set)
    for ev in store.get_events_by_artifact_ids(inputs):
        if ev.type == pb.Event.INPUT:
            read[ev.execution_id].add(ev.artifact_id)
    candidates = [e for e, arts in read.items() if arts == want]
    if not candidates:
        return None
    full: dict[int, set[int]] = defaultdict(set)
    outputs: dict[int, list[int]] = defaultdict(list)
    for ev in store.get_events_by_execution_ids(candidates):
        if ev.type == pb.Event.INPUT:
            full[ev.execution_id].add(ev.artifact_id)
        elif ev.type == pb.Event.OUTPUT:
            outputs[ev.execution_id].append(ev.artifact_id)
    exact = [e for e in candidates if full[e] == want]
    if not exact:
        return None
    ok = [
        x
        for x in store.get_executions_by_id(exact)
        if x.type_id == et_id and x.last_known_state in done
    ]
    # newest first, passing over one with an output no longer live (find_cached_execution's
    # rule): one read of the newest's outputs when they are live, as before this check
    gone = {pb.Artifact.MARKED_FOR_DELETION, pb.Artifact.DELETED, pb.Artifact.ABANDONED}
    for best in sorted(ok, key=lambda x: x.id, reverse=True):
        arts = store.get_artifacts_by_id(outputs[best.id])
        if not any(a.state in gone for a in arts):
            return best.id, [(a.id, a.uri) for a in arts]
    return None


# ------------------------------------------------------------------------------ filter_query


# 1% of the uris end in /data; day = i % 1000. MLMD's Python client pages 100 rows per call and
# each page re-runs the filter over the whole table, so its cost is (hits / 100) full scans.
FILTERS = (
    (
        "filter: properties.day.int_value = 7",
        "properties.day.int_value = 7",
        lambda i: i % 1000 == 7,
    ),
    (
        'filter: uri LIKE "%/data" AND day > 0',
        'uri LIKE "%/data" AND properties.day.int_value > 0',
        lambda i: i % 100 == 0 and i % 1000 != 0,
    ),
)
FILTER_REPEATS = 3  # a full scan per MLMD page: seconds per query at 100k artifacts


def filter_mlmd(h: Any, s: Any) -> list[Any]:
    from ml_metadata.metadata_store import metadata_store

    n = s.filter_artifacts
    dag = Dag(
        uris=[f"/f/{i}/data" if i % 100 == 0 else f"/f/{i}/model" for i in range(n)],
        days=[i % 1000 for i in range(n)],
    )
    built = build(h, dag)
    results = []
    # every artifact as written: each answer is checked on what its artifacts hold, not on
    # their ids alone
    written = {built.artifact_ids[i]: written_artifact(dag, built, i) for i in range(n)}
    for label, query, pick in FILTERS:
        want = {written[built.artifact_ids[i]] for i in range(n) if pick(i)}
        options = metadata_store.ListOptions(filter_query=query)

        def matches(got: Any, want: set[Any] = want, label: str = label) -> None:
            arts = [content(a) for a in got]
            _check(
                len(arts) == len(want) and set(arts) == want,
                f"{label} ({h.system}): {len(arts)} artifacts, expected {len(want)}, "
                f"{len(set(arts) ^ want)} differ",
            )

        samples, breakdown = _samples(
            h,
            lambda o=options: h.store.get_artifacts(list_options=o),
            min(s.repeats, FILTER_REPEATS),
            matches,
        )
        results.append(_result(f"{label}, {n:,} artifacts", samples, len(want), "", breakdown))
    # A page of the newest: what a UI's first screen asks for. One writer wrote them in order,
    # so the newest 100 (create time, then id, descending) are the 100 highest ids.
    label = "page: newest 100 by create time"
    want_page = [written[a] for a in sorted(built.artifact_ids, reverse=True)[:100]]
    options = metadata_store.ListOptions(
        limit=100, order_by=metadata_store.OrderByField.CREATE_TIME, is_asc=False
    )

    def newest(got: Any) -> None:
        page = [content(a) for a in got]
        _check(page == want_page, f"{label} ({h.system}): {page[:2]}…, expected {want_page[:2]}…")

    samples, breakdown = _samples(
        h, lambda: h.store.get_artifacts(list_options=options), s.repeats, newest
    )
    results.append(_result(f"{label}, {n:,} artifacts", samples, 100, "", breakdown))
    # The recently updated: 50 artifacts of the older half updated in one call come first (in
    # the order of their update times, which one call may spread over a few milliseconds),
    # then the newest of the rest, the highest ids.
    label = "page: last updated 100 by update time"
    touched = sorted(built.artifact_ids)[: n // 2 : max(1, n // 100)][:50]
    stale = h.store.get_artifacts_by_id(touched)
    for a in stale:
        a.uri += "/v2"
    h.store.put_artifacts(stale)
    rest = [written[a] for a in sorted(set(built.artifact_ids) - set(touched), reverse=True)]
    updated_now = {(a, t, uri + "/v2", day) for a, t, uri, day in (written[a] for a in touched)}
    options = metadata_store.ListOptions(
        limit=100, order_by=metadata_store.OrderByField.UPDATE_TIME, is_asc=False
    )
    k = len(touched)

    def updated(got: Any) -> None:
        page = [content(a) for a in got]
        _check(
            len(page) == 100 and set(page[:k]) == updated_now and page[k:] == rest[: 100 - k],
            f"{label} ({h.system}): {page[:2]}…, expected {sorted(updated_now)[:2]}… then "
            f"{rest[:2]}…",
        )

    samples, breakdown = _samples(
        h, lambda: h.store.get_artifacts(list_options=options), s.repeats, updated
    )
    results.append(_result(f"{label}, {n:,} artifacts", samples, 100, "", breakdown))
    return results
