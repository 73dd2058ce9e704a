"""Pages of a growing store: the MLMD adapter's ``ListOptions`` pages and retention's selection.

    python bench/pages.py                          # 10k, 100k and 300k artifacts
    python bench/pages.py --sizes 1000000          # 1M (about 4 min to build on 2 cores)

One store in memory grows to each size (artifacts written in 1k-row batches through the native
API; every 1,000th of type ``Rare``, the rest ``Data``; custom property ``day`` = i % 10). At each
size, the median of 5 calls of:

* the adapter's ``get_artifacts(list_options=…)`` first page of 100: by id ascending and
  descending, newest first (create time descending), by id with a filter on ``day``, and by
  update time both ways after 50 artifacts spread over the store were updated in one write;
* retention's selection (``Retention._select``, the dry run's first step) of every artifact and
  of the ``Rare`` ones.

Every answer is checked (the ids expected from the order they were written in); a wrong one
exits non-zero. Prints a markdown table. The costs should not grow with the store: a page and a
sparse selection read index windows (``lineage_graph/mlmd/_listing.py``, ``id_pages``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from lineage_graph import Artifact, ArtifactType, LineageStore, NodeKind
from lineage_graph._repositories.retention import Retention

REPEATS = 5


def _median_ms(call: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    args = parser.parse_args(argv)

    from ml_metadata.metadata_store import ListOptions, OrderByField

    from lineage_graph.mlmd import MetadataStore

    store = LineageStore.open("memory")
    store.put_artifact_type(ArtifactType(name="Data"))
    store.put_artifact_type(ArtifactType(name="Rare"))
    adapter = MetadataStore(store)
    retention = Retention(store.backend, store._types)
    ids: list[int] = []
    updated: set[int] = set()  # every artifact updated so far (each size updates 50 more)
    failures: list[str] = []
    print("| artifacts | call | median | answer |")
    print("|---:|---|---:|---:|")
    for size in sorted(args.sizes):
        while len(ids) < size:
            n = len(ids)
            batch = [
                Artifact(
                    type="Rare" if (n + i) % 1000 == 0 else "Data",
                    uri=f"/d/{n + i}",
                    custom_properties={"day": (n + i) % 10},
                )
                for i in range(min(1000, size - n))
            ]
            ids += store.put_artifacts(batch)
        day3 = [i for k, i in enumerate(ids) if k % 10 == 3]
        # 50 artifacts from the older half, updated in one write: the newest by update time,
        # then the last batch (its 1,000 nodes share one time; ties go by id)
        touched = ids[: size // 2 : size // 100][:50]
        store.put_artifacts(
            [a.model_copy(update={"uri": a.uri + "/v"}) for a in store.get_artifacts_by_id(touched)]
        )
        updated.update(touched)
        last_batch = [i for i in ids[-1000:][::-1] if i not in updated]
        first_batch = [i for i in ids[:1000] if i not in updated]
        pages: list[tuple[str, ListOptions, list[int]]] = [
            ("first 100 by id", ListOptions(limit=100), ids[:100]),
            ("last 100 by id", ListOptions(limit=100, is_asc=False), ids[::-1][:100]),
            (
                "newest 100 (create time)",
                ListOptions(limit=100, order_by=OrderByField.CREATE_TIME, is_asc=False),
                ids[::-1][:100],  # one writer: create times follow the ids
            ),
            (
                "first 100 with custom_properties.day = 3",
                ListOptions(limit=100, filter_query="custom_properties.day.int_value = 3"),
                day3[:100],
            ),
            (
                "last updated 100 (update time)",
                ListOptions(limit=100, order_by=OrderByField.UPDATE_TIME, is_asc=False),
                (sorted(touched, reverse=True) + last_batch)[:100],
            ),
            (
                "least recently updated 100 (update time)",
                ListOptions(limit=100, order_by=OrderByField.UPDATE_TIME),
                first_batch[:100],
            ),
        ]
        for label, options, want in pages:
            ms, got = _median_ms(lambda o=options: adapter.get_artifacts(list_options=o))
            if [a.id for a in got] != want:
                failures.append(f"{label} at {size:,}")
            print(f"| {size:,} | adapter: {label} | {ms:.1f} ms | {len(got)} |", flush=True)
        rare = {i for k, i in enumerate(ids) if k % 1000 == 0}
        for label, types, want_set in (
            ("every artifact", ["Data", "Rare"], set(ids)),
            ("the Rare ones", ["Rare"], rare),
        ):
            policy = retention.policy(kinds=[NodeKind.ARTIFACT], types=types)
            ms, got = _median_ms(
                lambda p=policy: retention._select(NodeKind.ARTIFACT, p),
                repeats=1 if len(want_set) > 100_000 else 3,
            )
            if set(got) != want_set:
                failures.append(f"retention {label} at {size:,}")
            row = f"| {size:,} | retention selects {label} | {ms:.1f} ms | {len(got)} |"
            print(row, flush=True)
    store.close()
    if failures:
        print("WRONG ANSWERS: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
