"""The benchmark harness itself (bench/compare.py): its filters and options cannot silently
measure less than asked, its JSON says what its table says, and its ingest rows check what the
store holds, not only how many ids the puts returned. Real engine, tiny sizes."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import Artifact, ArtifactType, LineageStore

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _workloads as W  # noqa: E402
from bench import compare  # noqa: E402


def _tiny() -> W.Sizes:
    s = W.Sizes.smoke()
    s.ingest_items, s.batch, s.put_execution_calls = 50, 10, 5
    return s


@pytest.mark.parametrize(
    "argv",
    [
        ["--systems", "lg-memroy"],  # a typo: ran nothing and exited 0
        ["--only", "round_trp"],
        ["--only", "filter_query", "--systems", "lg-memory"],  # no MLMD-API system: nothing
        ["--repeats", "0"],  # was ignored (the default 7 was used)
        ["--repeats", "-1"],  # crashed in statistics.median after running
        ["--smoke", "--large"],  # smoke sizes were used, silently
    ],
)
def test_options_that_would_measure_less_than_asked_are_refused(
    argv: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "out.json"
    base = ["--only", "round_trip", "--systems", "lg-memory", "--smoke"]
    args = [*base, *argv] if "--smoke" not in argv else ["--only", "round_trip", *argv]
    with pytest.raises(SystemExit) as exc:
        compare.main([*args, "--json", str(out)])
    assert exc.value.code not in (0, None)
    assert not out.exists()  # refused before measuring anything


def test_an_unwritable_json_path_fails_before_measuring(tmp_path: Path) -> None:
    """It crashed with a traceback after the first workload had run (its rows lost). One
    system named: with NEO4J_URI set (the suite's Neo4j runs) lg-neo4j would join by default
    and its check of the database (holding an earlier test's nodes) would answer first."""
    target = tmp_path / "missing-dir" / "out.json"
    with pytest.raises(SystemExit) as exc:
        argv = ["--smoke", "--only", "round_trip", "--systems", "lg-memory"]
        compare.main([*argv, "--json", str(target)])
    assert "cannot write" in str(exc.value.code)


def test_a_system_that_cannot_run_here_is_an_error_not_a_missing_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NEO4J_URI", raising=False)
    with pytest.raises(SystemExit) as exc:
        compare.main(["--smoke", "--only", "round_trip", "--systems", "lg-memory,lg-neo4j"])
    assert "NEO4J_URI" in str(exc.value.code)


def test_an_unreachable_neo4j_fails_before_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Neo4j rows are checked before anything runs (the database's contents, below): a
    server that does not answer is one line naming NEO4J_URI, not a failed row per workload."""
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    monkeypatch.setenv("NEO4J_CONNECT_TIMEOUT_S", "1")
    with pytest.raises(SystemExit) as exc:
        compare.main(["--smoke", "--only", "round_trip", "--systems", "lg-neo4j"])
    assert "NEO4J_URI" in str(exc.value.code)


def test_a_neo4j_database_holding_data_is_not_emptied_without_wipe_neo4j(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Neo4j rows empty the database before each workload: one holding data was emptied
    silently (one DETACH DELETE, whatever it held). Refused unless --wipe-neo4j; then emptied
    in batches and measured."""
    from tests._neo4j import neo4j_target

    uri, reason = neo4j_target()
    if uri is None:
        pytest.skip(reason)
    monkeypatch.setenv("NEO4J_URI", uri)
    with LineageStore.open(uri) as store:
        store.backend.write("CREATE (:BenchKeepMe {n: 1})", name="test/seed")
    run = ["--smoke", "--only", "round_trip", "--systems", "lg-neo4j"]
    with pytest.raises(SystemExit) as exc:
        compare.main(run)
    assert "--wipe-neo4j" in str(exc.value.code)
    with LineageStore.open(uri) as store:
        assert W.neo4j_nodes(store) >= 1  # nothing was deleted
    assert compare.main([*run, "--wipe-neo4j"]) == 0
    with LineageStore.open(uri) as store:
        assert (
            store.backend.read("MATCH (n:BenchKeepMe) RETURN count(n) AS n", name="t")[0]["n"] == 0
        )


@pytest.mark.skipif(not W.have_mlmd(), reason="ml-metadata not installed")
def test_json_carries_the_tables_ratios(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    argv = ["--smoke", "--only", "upstream_diamonds", "--systems", "lg-memory,mlmd-fake"]
    assert compare.main([*argv, "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["measured"] == {
        "workloads": ["upstream_diamonds"],
        "systems": ["lg-memory", "mlmd-fake"],
        "runs": ["upstream_diamonds on lg-memory", "upstream_diamonds on mlmd-fake"],
        "repeats": W.Sizes.smoke().repeats,
    }
    rows = {r["system"]: r for r in payload["rows"]}
    ours, mlmd = rows["lg-memory"], rows["mlmd-fake"]
    assert ours["x_mlmd_fake"] == pytest.approx(ours["median_s"] / mlmd["median_s"])
    assert mlmd["x_mlmd_fake"] == pytest.approx(1.0)
    assert ours["x_mlmd_sqlite"] is None  # not run: no ratio, not a wrong one


def test_a_failed_row_is_valid_json(tmp_path: Path) -> None:
    rows = [
        compare.Row("w", "mlmd-fake", float("nan"), ok=False, note="boom"),
        compare.Row("w", "lg-memory", 0.5, samples=[0.5]),
    ]
    ns = compare.argparse.Namespace(json=tmp_path / "out.json", smoke=True, large=False)
    compare.write_json(ns, rows, ["w on mlmd-fake: boom"], (0.0, 0.0, 0.0))

    def no_constants(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    payload = json.loads(ns.json.read_text(), parse_constant=no_constants)
    failed, ours = payload["rows"]
    assert failed["median_s"] is None and failed["ok"] is False
    assert ours["x_mlmd_fake"] is None  # MLMD's row failed: no ratio against it
    assert not math.isnan(ours["median_s"])


@pytest.mark.parametrize("workload", ["ingest_batched", "ingest_subgraph", "put_execution"])
def test_ingest_rows_check_what_the_store_holds(workload: str) -> None:
    """A store that holds anything besides what the row wrote fails the row: before, the
    batched row compared counts it computed itself, and put_lineage_subgraph on MLMD's API
    checked nothing."""
    w = next(x for x in W.workloads() if x.name == workload)
    with LineageStore.open("memory") as store:
        store.put_artifact_type(ArtifactType(name="Stray"))
        store.put_artifacts([Artifact(type="Stray", uri="/stray")])
        with pytest.raises(W.WrongAnswer, match="stored artifacts differ"):
            w.run(W.Handle("lg-memory", "lg", store), _tiny())


@pytest.mark.skipif(not W.have_mlmd(), reason="ml-metadata not installed")
@pytest.mark.parametrize("workload", ["ingest_batched", "ingest_subgraph", "put_execution"])
def test_ingest_rows_on_the_mlmd_api_check_what_the_store_holds(workload: str) -> None:
    from ml_metadata.proto import metadata_store_pb2 as pb

    from lineage_graph.mlmd import MetadataStore

    w = next(x for x in W.workloads() if x.name == workload)
    store = MetadataStore("memory")
    try:
        stray = store.put_artifact_type(pb.ArtifactType(name="Stray"))
        store.put_artifacts([pb.Artifact(type_id=stray, uri="/stray")])
        with pytest.raises(W.WrongAnswer, match="stored artifacts differ"):
            w.run(W.Handle("lg-mlmd-adapter", "mlmd", store), _tiny())
        # and a clean store passes: the check is not one that always fails
        clean = MetadataStore("memory")
        try:
            [r] = w.run(W.Handle("lg-mlmd-adapter", "mlmd", clean), _tiny())
            assert r.items > 0
        finally:
            clean.close()
    finally:
        store.close()


def test_timed_samples_are_not_recorded() -> None:
    """Recording a statement (clock, engine-time parse, log entry) is work MLMD's rows do not
    do: the timed calls run unrecorded, one extra untimed call gives the breakdown."""
    from bench._timing import samples

    with LineageStore.open("memory") as store:
        backend = store.backend
        seen: list[bool] = []

        def call() -> list[Any]:
            seen.append(bool(backend._recording))
            return backend.read("RETURN 1 AS one", name="bench/return_1")

        answers: list[Any] = []
        times, breakdown = samples(W.Handle("lg-memory", "lg", store), call, 5, answers.append)
        assert len(times) == 5 and answers == [[{"one": 1}]] * 7  # warm-up, 5 timed, recorded
        assert seen[1:6] == [False] * 5  # warm-up, then the timed calls
        assert seen.count(True) == 1
        assert breakdown is not None and breakdown.statements == 1 and breakdown.round_trips == 1


def test_the_lineage_oracle_checks_event_types_and_duplicates() -> None:
    """An answer with the right nodes and (artifact, execution) pairs but an event of the
    wrong type, or an event listed twice, is wrong: the check compared bare pairs as a set."""
    from bench._build import Dag, build, reach
    from bench._reads import _Graph, _verify_graph, chain
    from lineage_graph import EventType, NodeKind, NodeRef

    with LineageStore.open("memory") as store:
        handle = W.Handle("lg-memory", "lg", store)
        dag = Dag()
        end = chain(dag, 3)
        built = build(handle, dag)
        graph = store.upstream(NodeRef(NodeKind.ARTIFACT, built.artifact_ids[end]))
        exp = reach(dag, built, end, upstream=True)
        _verify_graph(graph, exp, "chain of 3")  # the real answer passes
        events = list(graph.events)
        flipped = events[0].model_copy(
            update={
                "type": EventType.INPUT if events[0].type == EventType.OUTPUT else EventType.OUTPUT
            }
        )
        wrong_type = _Graph(list(graph.artifacts), list(graph.executions), [flipped, *events[1:]])
        with pytest.raises(W.WrongAnswer):
            _verify_graph(wrong_type, exp, "chain of 3")
        twice = _Graph(list(graph.artifacts), list(graph.executions), [*events, events[0]])
        with pytest.raises(W.WrongAnswer, match="twice"):
            _verify_graph(twice, exp, "chain of 3")


def test_every_timed_answer_is_verified_not_only_the_last() -> None:
    """A system whose answers are right only on the last call failed nothing: only the last
    answer was checked. Now the warm-up, every timed call and the recorded one are."""
    from bench._timing import samples

    with LineageStore.open("memory") as store:
        backend = store.backend
        calls = 0

        def flaky() -> list[Any]:  # the real store, a wrong answer on the first timed call
            nonlocal calls
            calls += 1
            rows = backend.read("RETURN 1 AS one", name="bench/return_1")
            return [{"one": 2}] if calls == 2 else rows

        def one(rows: list[Any]) -> None:
            if rows != [{"one": 1}]:
                raise W.WrongAnswer(f"RETURN 1 answered {rows}")

        with pytest.raises(W.WrongAnswer, match="answered"):
            samples(W.Handle("lg-memory", "lg", store), flaky, 3, one)


def test_the_table_shows_how_many_samples_each_median_has(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An ingest row is one timed run and the filter rows three; the table called every
    time a median without saying how many samples were behind it."""
    compare.print_table(
        [
            compare.Row("ingest: x", "lg-memory", 0.5, repeats=1, samples=[0.5]),
            compare.Row("walk: y", "lg-memory", 0.001, repeats=7, samples=[0.001] * 7),
        ]
    )
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "median" in line and "system" in line)
    cells = [c.strip() for c in header.split("┃")]
    n_col = cells.index("n")
    counts = {
        parts[1]: parts[n_col]
        for line in out.splitlines()
        if len(parts := [c.strip() for c in line.split("│")]) > n_col and parts[1]
    }
    assert counts == {"ingest: x": "1", "walk: y": "7"}


def test_notes_use_the_median_the_table_prints() -> None:
    """With an even number of samples the notes (growth, the other method's time, which
    method is best) took the upper middle sample while the table prints the median: the
    scaling row's growth did not equal the ratio of its printed medians."""
    import re
    import statistics

    from bench._reads import scaling_lg

    sizes = W.Sizes.smoke()
    sizes.scaling, sizes.repeats = (60, 120), 4
    with LineageStore.open("memory") as store:
        first, last = scaling_lg(W.Handle("lg-memory", "lg", store), sizes)
    match = re.search(r"growth x([0-9.]+)", last.note)
    assert match is not None
    expected = statistics.median(last.samples) / statistics.median(first.samples)
    assert float(match.group(1)) == pytest.approx(round(expected, 2), abs=0.006)


class _Altered:
    """A real store whose answers of one method are altered (a wrong answer injected into the
    system under test, not a mocked driver): every other call goes to the store itself."""

    def __init__(self, store: Any, method: str, alter: Any) -> None:
        self._store, self._method, self._alter = store, method, alter

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name != self._method:
            return attr
        return lambda *a, **k: self._alter(attr(*a, **k))


def test_a_lineage_answer_is_checked_on_what_its_nodes_hold() -> None:
    """The right ids with the wrong uris, a wrong execution state or a node listed twice is a
    wrong answer: the check compared ids only, so an answer whose every artifact had lost its
    uri passed (a run with such a store exited 0)."""
    import dataclasses

    from bench._build import Dag, build, reach
    from bench._reads import _verify_graph, chain
    from lineage_graph import ExecutionState, NodeKind, NodeRef

    with LineageStore.open("memory") as store:
        handle = W.Handle("lg-memory", "lg", store)
        dag = Dag()
        end = chain(dag, 3)
        dag.days = list(range(len(dag.uris)))
        built = build(handle, dag)
        graph = store.upstream(NodeRef(NodeKind.ARTIFACT, built.artifact_ids[end]))
        exp = reach(dag, built, end, upstream=True)
        _verify_graph(graph, exp, "chain of 3")  # the real answer passes
        arts, execs = list(graph.artifacts), list(graph.executions)
        wrong = [
            [a.model_copy(update={"uri": "/wrong"}) for a in arts],
            [arts[0].model_copy(update={"properties": {"day": 99}}), *arts[1:]],
            [arts[0].model_copy(update={"properties": {}}), *arts[1:]],
            [*arts, arts[0]],
        ]
        for artifacts in wrong:
            with pytest.raises(W.WrongAnswer, match="artifacts"):
                _verify_graph(dataclasses.replace(graph, artifacts=artifacts), exp, "chain")
        failed = [execs[0].model_copy(update={"last_known_state": ExecutionState.FAILED})]
        for executions in (failed + execs[1:], [*execs, execs[0]]):
            with pytest.raises(W.WrongAnswer, match="executions"):
                _verify_graph(dataclasses.replace(graph, executions=executions), exp, "chain")


def test_the_same_inputs_row_checks_the_outputs_it_returns() -> None:
    """A hit whose output artifact holds another uri is wrong: the row kept only its id."""
    import dataclasses

    from bench._reads import cache_lg

    sizes = W.Sizes.smoke()
    sizes.cache_executions, sizes.repeats = (120,), 1

    def alter(result: Any) -> Any:
        outputs = [a.model_copy(update={"uri": "/wrong"}) for a in result.outputs]
        return dataclasses.replace(result, outputs=outputs) if result.hit else result

    with LineageStore.open("memory") as store:
        [hit, miss] = cache_lg(W.Handle("lg-memory", "lg", store), sizes)  # the real answers
        assert hit.label.startswith("same inputs: hit") and miss.items == 1
    with LineageStore.open("memory") as store:
        altered = _Altered(store, "find_cached_execution", alter)
        with pytest.raises(W.WrongAnswer, match="same-inputs hit"):
            cache_lg(W.Handle("lg-memory", "lg", altered), sizes)


@pytest.mark.skipif(not W.have_mlmd(), reason="ml-metadata not installed")
def test_filter_rows_check_what_the_artifacts_hold() -> None:
    """The filter and page rows compared the artifacts' ids only: an answer whose artifacts had
    lost their uri passed. Now each artifact's type, uri and day are checked."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    from bench._reads import filter_mlmd
    from lineage_graph.mlmd import MetadataStore

    sizes = W.Sizes.smoke()
    sizes.repeats = 1

    def alter(artifacts: Any) -> Any:
        out = []
        for a in artifacts:
            b = pb.Artifact()
            b.CopyFrom(a)
            b.uri = "/wrong"
            out.append(b)
        return out

    store = MetadataStore("memory")
    try:
        rows = filter_mlmd(W.Handle("lg-mlmd-adapter", "mlmd", store), sizes)
        assert len(rows) == 4  # the real answers pass
    finally:
        store.close()
    store = MetadataStore("memory")
    try:
        altered = _Altered(store, "get_artifacts", alter)
        with pytest.raises(W.WrongAnswer, match="filter"):
            filter_mlmd(W.Handle("lg-mlmd-adapter", "mlmd", altered), sizes)
    finally:
        store.close()


def test_a_failed_workload_is_in_the_json_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON is rewritten after every workload so that a run cut short keeps its rows, but
    not after a failed one: a run stopped after a failure left a JSON with "failures": [].
    Now the failure is written at once, and "complete" says whether the run finished."""
    out = tmp_path / "out.json"
    seen: list[dict[str, Any]] = []

    def wrong(h: W.Handle, s: W.Sizes) -> list[W.Result]:
        raise W.WrongAnswer("an injected wrong answer")

    def probe(h: W.Handle, s: W.Sizes) -> list[W.Result]:  # runs after the failed workload
        seen.append(json.loads(out.read_text()))
        return [W.Result("probe", [0.001], 1)]

    monkeypatch.setattr(
        W, "workloads", lambda large=False: [W.Workload("wrong", wrong), W.Workload("probe", probe)]
    )
    argv = ["--smoke", "--systems", "lg-memory", "--json", str(out)]
    assert compare.main(argv) == 1
    [during] = seen
    assert during["failures"] == ["wrong on lg-memory: an injected wrong answer"]
    assert [r["ok"] for r in during["rows"]] == [False]
    assert during["complete"] is False
    final = json.loads(out.read_text())
    assert final["complete"] is True and len(final["failures"]) == 1
    assert [(r["workload"], r["ok"]) for r in final["rows"]] == [("wrong", False), ("probe", True)]


@pytest.mark.skipif(not W.have_mlmd(), reason="ml-metadata not installed")
def test_the_mlmd_same_inputs_lookup_answers_find_cached_executions_question(
    tmp_path: Path,
) -> None:
    """Two executions read the same inputs; the newer one's output is DELETED.
    find_cached_execution passes it over for the older one; the MLMD-API lookup the row times
    answered the newer one (it never looked at its outputs' state): not the same question."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    from bench._build import Dag, build
    from bench._reads import mlmd_same_inputs
    from lineage_graph import ArtifactState

    def scenario(h: W.Handle) -> tuple[list[int], list[int]]:
        dag = Dag()
        x, schema = dag.artifact("/x"), dag.artifact("/schema")
        old, new = dag.artifact("/out/old"), dag.artifact("/out/new")
        dag.execution((x, schema), (old,))
        dag.execution((x, schema), (new,))
        built = build(h, dag)
        return built.artifact_ids, built.execution_ids

    answers = {}
    with W.open_system("lg-memory", tmp_path) as h:
        aids, eids = scenario(h)
        [gone] = h.store.get_artifacts_by_id([aids[3]])
        h.store.put_artifacts([gone.model_copy(update={"state": ArtifactState.DELETED})])
        r = h.store.find_cached_execution("Step", aids[:2], explain=False)
        assert r.execution is not None
        answers["lg-memory"] = (eids.index(r.execution.id), [a.uri for a in r.outputs])
    for system in ("mlmd-fake", "lg-mlmd-adapter"):
        with W.open_system(system, tmp_path) as h:
            aids, eids = scenario(h)
            [gone] = h.store.get_artifacts_by_id([aids[3]])
            gone.state = pb.Artifact.DELETED
            h.store.put_artifacts([gone])
            got = mlmd_same_inputs(h.store, h.extra["types"][1], aids[:2], pb)
            assert got is not None
            answers[system] = (eids.index(got[0]), [uri for _, uri in got[1]])
            # and with the older one's output gone too: no reusable execution, a miss
            [old] = h.store.get_artifacts_by_id([aids[2]])
            old.state = pb.Artifact.ABANDONED
            h.store.put_artifacts([old])
            assert mlmd_same_inputs(h.store, h.extra["types"][1], aids[:2], pb) is None
    assert answers == dict.fromkeys(answers, (0, ["/out/old"]))


def test_no_other_answer_is_alive_during_a_timed_call() -> None:
    """The timing loop kept the previous answer until the next call returned: each timed call
    of ours ran with a whole previous answer alive (~20,000 Python objects for the fan-out),
    which the cyclic collections its allocations trigger traverse again; MLMD's answers are
    protos held in C++. Now a sample is the call and the release of its own answer."""
    import weakref

    from bench._timing import samples

    class Answer:  # one per call, as a lineage answer is
        pass

    made: list[weakref.ref[Answer]] = []
    alive_at_call: list[int] = []

    def call() -> Answer:
        alive_at_call.append(sum(r() is not None for r in made))
        answer = Answer()
        made.append(weakref.ref(answer))
        return answer

    with LineageStore.open("memory") as store:
        times, _ = samples(W.Handle("lg-memory", "lg", store), call, 5, lambda a: None)
    assert len(times) == 5 and len(alive_at_call) == 7  # warm-up, 5 timed, the recorded one
    assert alive_at_call == [0] * 7
    assert all(r() is None for r in made)  # every answer released, none returned


@pytest.mark.skipif(not W.have_mlmd(), reason="ml-metadata not installed")
def test_the_json_names_only_what_was_measured(tmp_path: Path) -> None:
    """`--only filter_query --systems lg-memory,mlmd-fake` measures MLMD's API only, yet the
    JSON's "measured" named lg-memory (filter_query has no native row): it now lists the
    systems, workloads and runs that have rows, with the versions and the start time."""
    out = tmp_path / "out.json"
    argv = ["--smoke", "--only", "filter_query", "--systems", "lg-memory,mlmd-fake"]
    assert compare.main([*argv, "--repeats", "1", "--json", str(out)]) == 0
    measured = json.loads(out.read_text())["measured"]
    assert measured["systems"] == ["mlmd-fake"] and measured["workloads"] == ["filter_query"]
    assert measured["runs"] == ["filter_query on mlmd-fake"]
    out.unlink()
    argv = ["--smoke", "--only", "filter_query,round_trip", "--systems", "lg-memory,mlmd-fake"]
    assert compare.main([*argv, "--repeats", "1", "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    measured = payload["measured"]
    assert measured["runs"] == ["round_trip on lg-memory", "filter_query on mlmd-fake"]
    assert measured["systems"] == ["lg-memory", "mlmd-fake"]
    assert {(r["workload"].split(":")[0], r["system"]) for r in payload["rows"]} == {
        ("floor", "lg-memory"),
        ("filter", "mlmd-fake"),
        ("page", "mlmd-fake"),
    }
    assert payload["machine"]["versions"]["ml-metadata"] is not None
    assert payload["machine"]["started_utc"]
