"""Schema versions and migrations: a store records the layout version it was written with.

Opening a store (MLMD's rule):

* a new, empty store is initialised at :data:`~lineage_graph._schema.SCHEMA_VERSION`;
* a store written by a **newer** library is refused with :class:`SchemaVersionError` before
  anything is written to it;
* an **older** store is migrated forward one version at a time. Each migration is ONE Cypher
  statement (``cypher/migrations/v<N>_to_v<N+1>.cypher``) that rewrites the data *and* bumps the
  recorded version, so it is atomic on both engines: it applies entirely or not at all. A store
  is therefore always at exactly one schema version, even after a crash mid-migration;
* an opening that must not write (``LineageStore.open(..., migrate=False)``, the MLMD adapter's
  read-only SQLite config) refuses an older store with :class:`SchemaVersionError` instead
  (:func:`check_not_older`), as MLMD does when it cannot migrate.

Concurrent openers are safe: every migration first locks the ``StoreInfo`` record (a MERGE on
its uniquely constrained key, or a write to it) and re-checks the version under the lock; a
migrator that lost the race gets no row back and simply re-reads the version.

Adding a migration: write ``cypher/migrations/v<N>_to_v<N+1>.cypher`` (guarded by
``$from_version``, ending with ``SET info.schema_version = $to_version``), append a
:class:`Migration` to :data:`MIGRATIONS`, bump ``SCHEMA_VERSION``, and add a fixture store of
version N to ``tests/reliability/test_migrations.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import __about__
from ._queries import QueryRegistry
from ._repositories._base import Repository, now_ms
from ._schema import SCHEMA_VERSION
from .backends import Backend
from .exceptions import (
    AlreadyExistsError,
    EngineUnavailableError,
    LineageGraphError,
    QueryError,
    SchemaVersionError,
)
from .models import ArtifactState, ExecutionState

__all__ = [
    "MIGRATIONS",
    "Migration",
    "StoreState",
    "check_not_newer",
    "check_not_older",
    "migrate",
    "read_state",
]


@dataclass(frozen=True)
class Migration:
    """Schema version ``from_version`` to ``from_version + 1``: one statement, one transaction."""

    from_version: int
    query: str  # the named query under cypher/migrations/
    description: str

    @property
    def to_version(self) -> int:
        return self.from_version + 1

    def params(self) -> dict[str, Any]:
        """Extra parameters of this migration's statement."""
        if self.from_version == 0:
            return {
                "artifact_states": {s.name: int(s) for s in ArtifactState},
                "execution_states": {s.name: int(s) for s in ExecutionState},
            }
        return {}


#: Every migration, in order: ``MIGRATIONS[i]`` goes from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        0,
        "migrations/v0_to_v1",
        "record the schema version; id sequences from max(id); states as MLMD enum numbers",
    ),
    Migration(
        1,
        "migrations/v1_to_v2",
        "FalkorDB: an UPSTREAM edge mirrors every EVENT (single-visit upstream traversal); "
        "every execution's input_sig (the same-inputs fingerprint) is backfilled",
    ),
    Migration(
        2,
        "migrations/v2_to_v3",
        "every execution's input_sig (the same-inputs fingerprint) is recomputed: version-2 "
        "stores written before it existed lack it, or hold one an older library left stale",
    ),
)


@dataclass(frozen=True)
class StoreState:
    """What the store holds before it is opened."""

    #: The recorded schema version: None for an empty (new) store; 0 for data without a record.
    version: int | None
    library_version: str | None


def read_state(backend: Backend, queries: QueryRegistry | None = None) -> StoreState:
    rows = Repository(backend, queries).read("migrations/store_state")
    if not rows:  # the graph was never written to
        return StoreState(None, None)
    row = rows[0]
    if row["schema_version"] is not None:
        return StoreState(int(row["schema_version"]), row["library_version"])
    return StoreState(0 if row["has_data"] else None, None)


def check_not_newer(state: StoreState, supported: int = SCHEMA_VERSION) -> None:
    """Refuse a store written by a newer library (nothing has been written to it yet)."""
    if state.version is not None and state.version > supported:
        raise SchemaVersionError(
            f"this store was written by lineage-graph {state.library_version or '?'} "
            f"(schema version {state.version}); this library ({__about__.__version__}) reads "
            f"schema version {supported} at most: upgrade lineage-graph. The store was not "
            "changed."
        )


def check_not_older(state: StoreState, supported: int = SCHEMA_VERSION) -> None:
    """Refuse a store that would need a migration, for an opening that must not write (MLMD's
    read-only SQLite or disabled upgrade migration); nothing has been written to it yet."""
    if state.version is not None and state.version < supported:
        written_by = f" (lineage-graph {state.library_version})" if state.library_version else ""
        raise SchemaVersionError(
            f"this store has schema version {state.version}{written_by}, older than this "
            f"library's ({supported}), and this opening does not migrate it (read-only, or "
            "migration disabled): open it once read-write to migrate it. The store was not "
            "changed."
        )


def _chain(migrations: Sequence[Migration], start: int, target: int) -> list[Migration]:
    by_version = {m.from_version: m for m in migrations}
    chain = []
    for version in range(start, target):
        step = by_version.get(version)
        if step is None:
            raise SchemaVersionError(
                f"no migration from schema version {version} to {version + 1}: this library "
                f"cannot open a store of schema version {start}. The store was not changed."
            )
        chain.append(step)
    return chain


def _timeout_hint(backend: Backend, exc: LineageGraphError) -> str:
    """How to get past a migration the engine stopped at the query timeout: the store cannot be
    opened until one opening is given a longer one (docs/reliability.md), and FalkorDB's error
    named no setting."""
    text = str(exc).lower()
    if not isinstance(exc, QueryError) or ("timed out" not in text and "timeout" not in text):
        return ""
    setting = (
        "NEO4J_QUERY_TIMEOUT_MS, or the server's db.transaction.timeout"
        if backend.dialect == "neo4j"
        else "LINEAGE_GRAPH_QUERY_TIMEOUT_MS, and past 10 minutes "
        "LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS"
    )
    return (
        f". The migration ran longer than the query timeout: open the store once with a longer "
        f"one ({setting}; query_timeout_ms=... in LineageStore.open) to migrate it"
    )


def migrate(
    backend: Backend,
    *,
    target: int = SCHEMA_VERSION,
    migrations: Sequence[Migration] = MIGRATIONS,
    queries: QueryRegistry | None = None,
) -> list[Migration]:
    """Bring an older store up to ``target``; returns the migrations this call applied.

    Raises :class:`SchemaVersionError` if a migration fails (that migration changed nothing; the
    store stays at the last version reached) or if the store is newer than ``target``;
    :class:`EngineUnavailableError` (retryable) if the engine went away meanwhile.
    """
    repo = Repository(backend, queries)
    applied: list[Migration] = []
    # Bounded: every round either applies a step or observes one applied by another process.
    for _ in range(2 * (target + 1)):
        state = read_state(backend, queries)
        check_not_newer(state, target)
        if state.version is None or state.version >= target:
            return applied
        step = _chain(migrations, state.version, target)[0]
        try:
            rows = repo.write(
                step.query,
                from_version=step.from_version,
                to_version=step.to_version,
                library_version=__about__.__version__,
                now=now_ms(),
                **step.params(),
            )
        except AlreadyExistsError:
            continue  # another process created the record first: re-read the version
        except EngineUnavailableError:
            raise
        except LineageGraphError as exc:
            raise SchemaVersionError(
                f"migrating the store from schema version {step.from_version} to "
                f"{step.to_version} ({step.description}) failed and was rolled back; the store "
                f"is unchanged at schema version {step.from_version}: {exc}"
                f"{_timeout_hint(backend, exc)}"
            ) from exc
        if rows:
            applied.append(step)
    raise SchemaVersionError(  # pragma: no cover - a migration that never bumps the version
        f"the store did not reach schema version {target}: a migration does not record its version"
    )
