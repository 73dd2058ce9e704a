"""What one durable write costs on this host as a function of the idle time before it.

    python -m bench.flush                    # gaps 0, 0.1, 0.2, 0.5, 1, 2 ms; 200 writes each
    python -m bench.flush --writes 50 --gaps 0 1 --json flush.json

The durable ``put_execution`` row of ``bench/compare.py`` pays one ``fdatasync`` per call on our
side (the embedded server's append-only log, ``appendfsync always``) and four on MLMD's SQLite
side (journal, database, directory; ``synchronous`` FULL, a rollback journal). Measured with
strace, ours took 0.7-1.2 ms each and SQLite's 30-130 us. This script asks why: every system
below writes one small record durably, ``--writes`` times, with ``gap`` of sleep before each
write, the systems interleaved write by write so that they share the host's state. Rows:

* ``fdatasync``: append 1.6 KB to a file and ``fdatasync`` it (what the server's log does);
* ``sqlite``: one INSERT of 1.6 KB committed by Python's ``sqlite3`` in MLMD's configuration
  (``journal_mode`` DELETE, ``synchronous`` FULL);
* ``lg-disk`` / ``lg-memory``: ``LineageStore.put_execution`` as the durable row calls it (a
  new execution, reading one seed artifact and writing one new artifact), on disk (the server's
  log flushed before the reply) and in memory (no flush): the difference is what the flush adds;
* ``mlmd-sqlite`` / ``mlmd-fake`` (when ml-metadata is installed): MLMD's ``put_execution`` of
  the same shape, on an SQLite file and in memory.

Every write is read back at the end (the counts must match, or the script exits 1). Prints a
table of medians (p90 in brackets), microseconds per write; ``--json`` also writes them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from lineage_graph import NodeKind

from ._workloads import open_system, put_execution_call_lg, put_execution_call_mlmd

RECORD = b"x" * 1600  # about one put_execution's log entry
GAPS_MS = (0.0, 0.1, 0.2, 0.5, 1.0, 2.0)
NAMES = ("fdatasync", "sqlite", "lg-disk", "lg-memory", "mlmd-sqlite", "mlmd-fake")


@dataclass
class System:
    """One way to write durably (or not): ``write`` writes one record, ``written`` counts what
    is stored, ``close`` releases it."""

    name: str
    write: Callable[[int], object]
    written: Callable[[], int]
    close: Callable[[], None]
    samples: dict[float, list[float]] = field(default_factory=dict)


def plain_file(workdir: Path) -> System:
    path = workdir / "log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(_: int) -> None:
        os.write(fd, RECORD)
        os.fdatasync(fd)

    return System(
        "fdatasync", write, lambda: path.stat().st_size // len(RECORD), lambda: os.close(fd)
    )


def plain_sqlite(workdir: Path) -> System:
    con = sqlite3.connect(workdir / "plain.sqlite", isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")

    def write(_: int) -> None:
        con.execute("BEGIN")
        con.execute("INSERT INTO t (body) VALUES (?)", (RECORD,))
        con.execute("COMMIT")

    def written() -> int:
        return int(con.execute("SELECT count(*) FROM t").fetchone()[0])

    return System("sqlite", write, written, con.close)


def store_system(name: str, stack: contextlib.ExitStack, workdir: Path) -> System | None:
    """One of bench/compare.py's systems (:func:`open_system`, which closes it) making its
    durable row's call; None for MLMD's where ml-metadata is not installed."""
    if name.startswith("mlmd-") and importlib.util.find_spec("ml_metadata") is None:
        return None
    store = stack.enter_context(open_system(name, workdir)).store
    if name.startswith("lg-"):
        _, call = put_execution_call_lg(store)
        return System(name, call, partial(store.count, NodeKind.EXECUTION), lambda: None)
    _, call = put_execution_call_mlmd(store)
    return System(name, call, lambda: len(store.get_executions()), lambda: None)


@contextlib.contextmanager
def systems(workdir: Path, names: Collection[str] = NAMES) -> Iterator[list[System]]:
    opened: list[System] = []
    with contextlib.ExitStack() as stack:
        try:
            for name in NAMES:
                if name not in names:
                    continue
                if name == "fdatasync":
                    found: System | None = plain_file(workdir)
                elif name == "sqlite":
                    found = plain_sqlite(workdir)
                else:
                    found = store_system(name, stack, workdir)
                if found is not None:
                    opened.append(found)
            yield opened
        finally:
            for system in reversed(opened):
                with contextlib.suppress(Exception):
                    system.close()


def measure(every: list[System], gaps_ms: list[float], writes: int) -> int:
    """Time every system's writes, interleaved; returns the number of writes each made."""
    done = 0
    for system in every:  # one untimed write each: types, connections, files exist
        system.write(done)
    done += 1
    for gap_ms in gaps_ms:
        for system in every:
            system.samples[gap_ms] = []
        for _ in range(writes):
            for system in every:
                if gap_ms:
                    time.sleep(gap_ms / 1000)
                t = time.perf_counter()
                system.write(done)
                system.samples[gap_ms].append(time.perf_counter() - t)
            done += 1
    return done


def cell(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"{statistics.median(ordered) * 1e6:,.0f} [{p90 * 1e6:,.0f}]"


def table(every: list[System], gaps_ms: list[float]) -> str:
    header = ["gap before each write", *(s.name for s in every)]
    rows = [[f"{g:g} ms", *(cell(s.samples[g]) for s in every)] for g in gaps_ms]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=200, help="writes per system and gap")
    parser.add_argument("--gaps", type=float, nargs="+", default=list(GAPS_MS), help="in ms")
    parser.add_argument("--json", type=Path, help="also write the samples' medians here")
    parser.add_argument(
        "--systems",
        default=",".join(NAMES),
        help="comma-separated, interleaved in this order: " + ", ".join(NAMES),
    )
    args = parser.parse_args(argv)
    if args.writes < 1 or any(g < 0 for g in args.gaps):
        parser.error("--writes must be at least 1 and every gap at least 0")
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    if not names or (unknown := sorted(set(names) - set(NAMES))):
        parser.error(f"--systems: unknown {unknown if names else 'nothing named'}")
    with tempfile.TemporaryDirectory(prefix="lg-flush-") as tmp, systems(Path(tmp), names) as every:
        if missing := [n for n in names if n not in {s.name for s in every}]:
            print(f"not run: {', '.join(missing)} (ml-metadata is not installed)", file=sys.stderr)
        if not every:
            return 2
        done = measure(every, args.gaps, args.writes)
        wrong = {s.name: n for s in every if (n := s.written()) != done}
        print(f"{len(every)} systems, {args.writes} writes per gap, microseconds per write:")
        print(table(every, args.gaps))
        if args.json:
            payload: dict[str, Any] = {
                "writes": args.writes,
                "medians_us": {
                    s.name: {str(g): statistics.median(s.samples[g]) * 1e6 for g in args.gaps}
                    for s in every
                },
                "wrong_counts": wrong,
            }
            args.json.write_text(json.dumps(payload, indent=2))
    if wrong:
        print(f"wrong number of records read back (wanted {done}): {wrong}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
