"""Copy a whole ML Metadata store (SQLite file or any ``ConnectionConfig``) into a LineageStore.

MLMD is read with its own ``MetadataStore`` (reads only), in a child process (:mod:`._reader`: a
row ml_metadata aborts on ends that process, not the import's); a SQLite file from a copy of it
made as the import begins (:func:`_as_of_now`), so pipelines may go on writing to it. Everything is
copied: types (properties, base type, version, description, external id), artifacts, executions,
contexts (properties, custom properties, states, external ids, create/update times), events (type,
path, time), attributions, associations and parent contexts. Writes are batched (``CHUNK`` nodes
per atomic statement). Into an empty store on an engine that can stage a graph (FalkorDB), the
batches fill a staged graph that replaces the target in one atomic step at the end
(:meth:`_Importer.copy_staged`): the import as a whole is all or nothing. A merge, or an import
into Neo4j, writes its batches into the target: stopped midway, the same merge run again completes
it.

Ids. Into an EMPTY store the MLMD ids are kept: nodes are inserted in MLMD id order and the
store's id sequence skips MLMD's gaps, so node ``n`` of MLMD is node ``n`` here (types too: MLMD's
type ids start at 10 after its hidden system types, and so do the imported ones). With
``merge=True`` into a non-empty store ids cannot be kept; the report maps every MLMD id to the
new one. An MLMD id past :data:`KEPT_ID_MAX` (2**53 - 1) is not kept either (nor one just below it
that the next ids of those past it need: :func:`_kept_max`): the node or type
gets the store's next id (``ImportReport.ids_past_exact`` counts them), as FalkorDB's range index
holds doubles and could not tell it from its neighbours (on Neo4j, whose index holds int64 ids
exactly, every MLMD id is kept). Times: create/update times are MLMD's,
event times too.

Re-running (``merge=True`` on a store that already holds the import) is safe: every copied node
records where it came from (``mlmd_origin`` = ``<source key>#<MLMD id>``, an internal property
that updates keep), so a node copied before from the same MLMD store is updated in place (a
context is also matched by its unique type and name), existing events, links and parent links
are skipped; so the second run changes nothing. A node of the target's own is never taken for
an MLMD artifact or execution; a context of its own matched by name keeps what it holds
(:meth:`_NodeCopy._keep_own_contexts`). Before anything is written, every node and type is
checked for keys the store cannot hold (:meth:`_Checks.check`) and, in a merge, for keys
and property kinds the target's own nodes and types hold (:meth:`_Checks.check_merge`).

One import of an MLMD store into a store at a time: an import claims its source in the target
before it reads what the target holds (:class:`_Claim`); a second one is refused meanwhile.

The native API has no public write path taking given ids and times (it allocates both itself);
:class:`_NativeWriter` is the one place that reaches into the store's repositories for it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._repositories._base import Repository
from ..exceptions import (
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
)
from ..models import (
    NodeKind,
)
from ..store import LineageStore
from ._aborts import aborting_row
from ._config import SYSTEM_TYPES
from ._import_checks import _Checks, _Judged, check_events
from ._import_claim import KEEP_ALIVE_S, _Claim
from ._import_links import _Relations, read_events
from ._import_nodes import _NodeCopy
from ._import_rows import (
    _KINDS,
    _SEQUENCE,
    CHUNK,
    KEPT_ID_MAX,
    Progress,
    _kept_max,
    _NativeWriter,
    _seed,
)
from ._import_snapshot import _as_of_now
from ._import_snapshot import _Snapshot as _Snapshot
from ._import_source import _open, _reading, _Reads, _source_key
from ._import_twins import _Twins
from ._reader import SourceReader

if TYPE_CHECKING:
    from ..backends import Staging

__all__ = ["CHUNK", "ImportReport", "check_source", "import_mlmd", "open_mlmd"]


@dataclass
class ImportReport:
    """What an import copied. ``id_map[kind][mlmd_id] = new_id`` for every node and type."""

    types: int = 0
    artifacts: int = 0
    executions: int = 0
    contexts: int = 0
    events: int = 0
    attributions: int = 0
    associations: int = 0
    parent_contexts: int = 0
    updated: int = 0  # nodes found in the target (merge) whose content or times changed
    unchanged: int = 0  # nodes found already imported from this MLMD store, as they were
    skipped_relations: int = 0  # events/links already present (merge re-run)
    ids_preserved: bool = True
    #: Nodes and types whose MLMD id was not kept: past KEPT_ID_MAX, or just below it where the
    #: next ids of those past it had to be (_kept_max). They got the next ids.
    ids_past_exact: int = 0
    id_map: dict[str, dict[int, int]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "types": self.types,
            "artifacts": self.artifacts,
            "executions": self.executions,
            "contexts": self.contexts,
            "events": self.events,
            "attributions": self.attributions,
            "associations": self.associations,
            "parent_contexts": self.parent_contexts,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped_relations": self.skipped_relations,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "ids_preserved": self.ids_preserved,
            "ids_past_exact": self.ids_past_exact,
        }


def open_mlmd(source: Any) -> Any:
    """An ``ml_metadata`` MetadataStore for a SQLite path or a ``ConnectionConfig`` (read only)."""
    return _open(source)[0]


def check_source(source: Any) -> None:
    """Raise what :func:`import_mlmd` would for a source it cannot open (nothing written)."""
    mlmd, _ = _open(source, older_ok=True, child=True)
    if isinstance(mlmd, SourceReader):  # (a MySQL store, opened in a reading child)
        mlmd.close()


def _stopped_midway(exc: EngineUnavailableError) -> EngineUnavailableError:
    """The error of an import writing into its target (a merge, an import into Neo4j) whose
    engine was lost under a batch: what the engine said, and what became of the import. It said
    the engine's "retry the call" alone, which named neither what stays nor how to finish."""
    engine = str(exc).rstrip(". ").removesuffix("; retry the call")
    said = EngineUnavailableError(
        f"{engine}; the import stopped midway: the batches it wrote stay in the "
        "store, each whole (the one in flight was written whole or not at all); run the same "
        "import again with --merge (merge=True) to complete it: it copies nothing twice"
    )
    said.nothing_written = exc.nothing_written
    return said


def _named(counts: dict[NodeKind, int]) -> str:
    return ", ".join(f"{n} {k.value.lower()}s" for k, n in counts.items())


def _store_is_empty(store: LineageStore) -> bool:
    """No node and no type but MLMD's system types (which the MLMD adapter registers when it
    opens a store, with MLMD's ids: an import keeps them)."""
    return all(store.count(k) == 0 for k in _KINDS) and all(
        t.name in SYSTEM_TYPES[k] and t.version is None for k in _KINDS for t in store.get_types(k)
    )


def holds_nothing(store: LineageStore) -> bool:
    """Whether ``store`` holds no node, no type but MLMD's system types, and nothing else of
    a user's (what a failed import into a new store leaves). False when it cannot be read."""
    try:
        other = int(Repository(store.backend).read("imports/other_nodes")[0]["n"])
        return other == 0 and _store_is_empty(store)
    except Exception:  # an engine that died: nothing is known
        return False


def _keeping_alive(staging: Staging, reported: Progress) -> Progress:
    """``reported``, renewing the staged graph's time to live as it is called (at most every
    :data:`KEEP_ALIVE_S`)."""
    renewed = time.monotonic()

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal renewed
        if time.monotonic() - renewed > KEEP_ALIVE_S:  # links report once per context
            staging.keep_alive()
            renewed = time.monotonic()
        reported(stage, done, total)

    return progress


class _Importer:
    """One import: reads the MLMD store, checks what it read (:class:`_Checks`), and copies it
    (:class:`_NodeCopy`, then :class:`_Relations`) into the target or a staged graph
    (:meth:`copy_staged`)."""

    def __init__(
        self,
        mlmd: Any,
        store: LineageStore,
        progress: Progress | None,
        merge: bool,
        source_key: str,
    ) -> None:
        self.mlmd = mlmd
        self.store = store
        self.progress = progress or (lambda stage, done, total: None)
        self.writer = _NativeWriter(store)
        self.report = ImportReport()
        self.merge = merge
        #: The target's nodes that MLMD's are already (a merge), read once the claim is held.
        self.twins = _Twins(store, self.writer.repos, f"{source_key}#", self._target_is_empty())
        #: This import's claim on the MLMD store (taken by :func:`import_mlmd`, which calls
        #: :meth:`run` while holding it).
        self.claim: _Claim | None = None
        self.type_map: dict[tuple[NodeKind, int], int] = {}
        self.node_map: dict[NodeKind, dict[int, int]] = {k: {} for k in _KINDS}
        #: The SQLite copy read (:func:`_as_of_now`), "" for a source read live (MySQL).
        self.snapshot = ""
        self.reads = Repository(store.backend)
        self._parents: dict[int, list[int]] = {}
        self.checks = _Checks(store, self.writer, self.twins, self.mlmd_parents, self._keep_claim)
        #: Set as the import starts to change the target (its first write into it, or the
        #: staged graph's publication): until then a failure or Ctrl-C left it as it was.
        self.writing = False
        #: MLMD's events, read and checked before the copy (:func:`read_events`), each with
        #: what :func:`check_events` judged of it: (the event, why it cannot be imported or "",
        #: its model or None), so the copy converts none again and pairs none with another's.
        self.events: list[_Judged] = []
        #: The largest MLMD id kept, per id sequence (:func:`_kept_max`; set by :meth:`copy`).
        self.kept_max: dict[str, int] = {}
        #: Set once the whole copy is in the target (written, or the staged graph published):
        #: a Ctrl-C after it (as the claim is released) stopped no part of the import.
        self.done = False

    @property
    def empty(self) -> bool:
        """Whether the target was empty (no merge: MLMD's ids are kept)."""
        return self.twins.empty

    def _target_is_empty(self) -> bool:
        empty = _store_is_empty(self.store)
        if not empty and not self.merge:
            raise FailedPreconditionError(
                "the target store is not empty: import into an empty store, or pass --merge "
                "(merge=True) to add to it (MLMD ids are then mapped, not kept)"
            )
        return empty

    def _begin(self) -> None:
        """What the target holds, read once this import holds its claim on the MLMD store
        (another import of it may have finished meanwhile): whether it is empty, and the
        nodes copied from this MLMD store before."""
        self.twins.begin(self._target_is_empty())

    def _keep_claim(self) -> None:
        if self.claim is not None:
            self.claim.keep()

    def read_types(self) -> list[tuple[NodeKind, Any]]:
        getters = {
            NodeKind.ARTIFACT: (self.mlmd.get_artifact_types, self.mlmd.get_artifact_types_by_id),
            NodeKind.EXECUTION: (
                self.mlmd.get_execution_types,
                self.mlmd.get_execution_types_by_id,
            ),
            NodeKind.CONTEXT: (self.mlmd.get_context_types, self.mlmd.get_context_types_by_id),
        }
        found: list[tuple[NodeKind, Any]] = []
        for kind, (get_all, get_by_id) in getters.items():
            # get_*_types() leaves out external_id (docs/mlmd-compatibility.md D6): read them
            # again by id, which returns every field. It also hides the system types (mlmd.*,
            # ids 1-9): copied too, used or not, so that type ids stay MLMD's.
            ids = [t.id for t in get_all()]
            system = [t.id for t in get_by_id(list(range(1, 10))) if t.name in SYSTEM_TYPES[kind]]
            wanted = sorted(set(ids) | set(system))
            found += [(kind, t) for t in (get_by_id(wanted) if wanted else [])]
        self._getters: dict[NodeKind, tuple[Any, Any]] = getters
        return found

    def used_types(
        self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]
    ) -> list[tuple[NodeKind, Any]]:
        """``types`` and the types nodes use that get_*_types hides (system types: mlmd.Dataset,
        ..., of any version), in id order: what is checked and copied."""
        types = list(types)
        known = {(k, t.id) for k, t in types}
        for kind, msgs in nodes.items():
            used = {m.type_id for m in msgs} - {tid for k, tid in known if k == kind}
            if used:
                types += [(kind, t) for t in self._getters[kind][1](sorted(used))]
        return sorted(types, key=lambda kt: kt[1].id)

    def check(self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]) -> None:
        """Refuse, before anything is written, what the store cannot hold
        (:meth:`_Checks.check`)."""
        self.checks.check(types, nodes)

    def check_merge(
        self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]
    ) -> None:
        """In a merge, refuse before anything is written what the target would refuse midway
        (:meth:`_Checks.check_merge`)."""
        self.checks.check_merge(types, nodes)

    def mlmd_parents(self, context_ids: Iterable[int]) -> dict[int, list[int]]:
        """MLMD's parent links of these contexts: child id -> its parents' ids (each read once,
        for the merge's cycle check and the copy's links)."""
        for cid in context_ids:
            if cid not in self._parents:
                self._parents[cid] = [p.id for p in self.mlmd.get_parent_contexts_by_context(cid)]
        return self._parents

    def import_links(self, context_ids: list[int]) -> None:
        """Copy the links of these MLMD contexts (:meth:`_Relations.import_links`)."""
        self._relations().import_links(context_ids)

    def _relations(self) -> _Relations:
        """The copy of MLMD's events and links into the store being written."""
        return _Relations(
            self.mlmd,
            self.store,
            empty=self.empty,
            node_map=self.node_map,
            report=self.report,
            progress=self.progress,
            snapshot=self.snapshot,
            keep_claim=self._keep_claim,
            parents=self.mlmd_parents,
        )

    def run(self) -> ImportReport:
        self._begin()
        # Before ml_metadata reads a row it would abort the whole process on (a SQLite copy;
        # a MySQL source is read live, its typed columns hold numbers):
        damaged = aborting_row(self.snapshot) if self.snapshot else ""
        if damaged:
            raise FailedPreconditionError(
                f"cannot read the MLMD store (a damaged database): {damaged}, on which "
                "ml_metadata aborts the process reading it; nothing was imported"
            )
        nodes = {
            NodeKind.ARTIFACT: list(self.mlmd.get_artifacts()),
            NodeKind.EXECUTION: list(self.mlmd.get_executions()),
            NodeKind.CONTEXT: list(self.mlmd.get_contexts()),
        }
        types = self.used_types(self.read_types(), nodes)
        self.check(types, nodes)
        self.events = check_events(read_events(self.mlmd, nodes))
        self.checks.check_parent_cycles(
            dict.fromkeys(sorted(m.id for m in nodes[NodeKind.CONTEXT]))
        )
        if not self.empty:
            self.check_merge(types, nodes)
        if self.claim is not None:  # no renewal from here on, unless written into the target
            self.claim.renewing = False
        staging = self.store.backend.stage() if self.empty and not self._other_nodes() else None
        if staging is None:  # a merge, an engine that cannot swap a graph (Neo4j), or state
            # that a new graph would not have (an index, a constraint, impact marks' records)
            if self.claim is not None:
                self.claim.renewing = True
                reported = self.progress

                def progress(stage: str, done: int, total: int) -> None:
                    self._keep_claim()  # before the next batch is written
                    reported(stage, done, total)

                self.progress = progress
            self.writing = True
            try:
                self.copy(types, nodes)
            except EngineUnavailableError as exc:
                raise _stopped_midway(exc) from exc
            self.done = True
            return self.report
        with staging:  # discarded unless published
            self.copy_staged(staging, types, nodes)
        return self.report

    def copy(self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]) -> None:
        # Neo4j's index holds int64 ids exactly: every MLMD id is kept there.
        limit = KEPT_ID_MAX if self.store.backend.dialect == "falkordb" else 2**63 - 1
        self.kept_max = {"Type": _kept_max((t.id for _, t in types), limit)}
        self.kept_max.update(
            {_SEQUENCE[k]: _kept_max((m.id for m in nodes[k]), limit) for k in _KINDS}
        )
        rows = _NodeCopy(
            self.store,
            self.writer,
            self.twins,
            self.report,
            self.progress,
            self.kept_max,
            self.type_map,
            self.node_map,
        )
        rows.import_types(types)
        for kind in _KINDS:
            rows.import_nodes(kind, nodes[kind])
        self._relations().import_events(self.events)
        self.import_links(sorted(m.id for m in nodes[NodeKind.CONTEXT]))

    def copy_staged(
        self, staging: Staging, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]
    ) -> None:
        """The whole copy in a new graph, which then replaces the (empty) target in one atomic
        step: an import that fails anywhere, or whose engine dies, leaves the target as it was.
        The new graph starts as the target is (its types with their ids, each id sequence
        where the target's stands, every property key it knows, its creation time), so ids
        reserved by another process before the import stay unused and its caches stay true.
        The TTL is set when the staged graph is made and renewed as the import reports."""
        target = self.store
        if not _store_is_empty(target) or self._other_nodes():  # written before the watch
            raise FailedPreconditionError(
                "the target store was written while the import began: nothing was imported"
            )
        staged = LineageStore(staging.backend)
        reported = self.progress
        progress = _keeping_alive(staging, reported)
        handed: list[tuple[str, int, int]] = []
        maybe_swapped = False
        try:
            _seed(target, staged, handed)
            self.store, self.writer = staged, _NativeWriter(staged)
            self.reads, self.progress = Repository(staged.backend), progress
            self.copy(types, nodes)
            self.progress("publish", 0, 1)
            maybe_swapped = True  # from here on a lost reply may hide a swap that happened
            self.writing = True
            try:
                staging.publish(lambda _: self._verify(staged))
            except FailedPreconditionError:
                maybe_swapped = False  # refused before the swap: the target is as it was
                raise
            target._graph_replaced(by=staged)  # before anything else can run
            self.done = True
        except BaseException as exc:
            if not maybe_swapped:
                for sequence, first, end in handed:
                    target._artifacts.ids.take_back(sequence, first, end)
            if isinstance(exc, EngineUnavailableError) and not maybe_swapped:
                # the engine was lost under the staged load: nothing is in the target (its ids
                # were given back; the staged graph is discarded), whatever the call in flight
                # was, so the import is not in doubt (a failed publish says its own outcome)
                said = EngineUnavailableError(
                    f"{str(exc).rstrip('. ')}; nothing was imported (the staged copy is "
                    "discarded, the store is as it was): run the import again"
                )
                said.nothing_written = True
                raise said from exc
            raise
        finally:
            self.store, self.writer = target, _NativeWriter(target)
            self.reads, self.progress = Repository(target.backend), reported
        reported("publish", 1, 1)

    def _other_nodes(self) -> int:
        return int(self.reads.read("imports/other_nodes")[0]["n"])

    def _verify(self, staged: LineageStore) -> None:
        """The staged graph holds what this import wrote (a graph that expired under a stalled
        import and was made again by a later write would not)."""
        wanted = {
            NodeKind.ARTIFACT: self.report.artifacts,
            NodeKind.EXECUTION: self.report.executions,
            NodeKind.CONTEXT: self.report.contexts,
        }
        found = (
            {kind: staged.count(kind) for kind in _KINDS}
            if Repository(staged.backend).read("meta/get")
            else {}  # no graph at all
        )
        if found != wanted:
            raise FailedPreconditionError(
                f"the staged copy holds {_named(found) or 'no'} nodes, not the {_named(wanted)} "
                "imported (it expired, or another client wrote to it): nothing was imported"
            )


def import_mlmd(
    source: Any,
    store: LineageStore,
    *,
    progress: Progress | None = None,
    merge: bool = False,
) -> ImportReport:
    """Copy the MLMD store ``source`` (SQLite path or ``ConnectionConfig``) into ``store``.

    ``store`` must be empty unless ``merge``; ``progress(stage, done, total)`` is called as the
    import advances. Raises :class:`FailedPreconditionError` for a non-empty target without
    ``merge`` (nothing is written), or for a target written by another client while a staged
    import ran (nothing is imported), :class:`NotFoundError` for a missing SQLite file,
    :class:`ConfigurationError` where no temporary directory can be made (``TMPDIR``).
    """
    if not isinstance(merge, bool):  # "no" merged, as any non-empty string would
        raise InvalidArgumentError(f"merge is True or False, got {merge!r}")
    if progress is not None and not callable(progress):  # a TypeError midway, after writes
        raise InvalidArgumentError(f"progress is a callable or None, got {progress!r:.80}")
    # (an older schema: its copy is migrated; MySQL: opened in the child that reads it)
    mlmd, config = _open(source, older_ok=True, child=True)
    try:
        return _import(mlmd, config, store, progress, merge)
    finally:
        if isinstance(mlmd, SourceReader):
            mlmd.close()


def _import(
    mlmd: Any, config: Any, store: LineageStore, progress: Progress | None, merge: bool
) -> ImportReport:
    """:func:`import_mlmd` from the MLMD store ``mlmd`` opened on ``config``."""
    key = _source_key(config)
    importer = _Importer(_Reads(mlmd), store, progress, merge, key)  # refuses before a write
    claim = _Claim(store, key)
    try:
        claim.take()
        try:
            with _as_of_now(mlmd, config) as now, _reading(now.config, mlmd) as reader:
                # (what Ctrl-C, or a call not answered in time, leaves: said as the wait is)
                reader.writes_made = lambda: importer.writing
                importer.mlmd = _Reads(reader)
                importer.snapshot = now.path
                importer.claim = claim
                report = importer.run()
        except BaseException:
            # The error in flight is the one to tell: a Ctrl-C while the claim is released
            # replaced it (a refusal naming the MLMD node became "interrupted", exit 130).
            with contextlib.suppress(Exception, KeyboardInterrupt):
                claim.release()
            raise
        claim.release()
        return report
    except KeyboardInterrupt as exc:
        # Ctrl-C before the import changed the target (in its checks, or a staged copy not
        # yet published): said so (the CLI said a merge's batches stay, when none was written).
        # Ctrl-C once it had finished (as its claim is released, its copy of a SQLite file
        # removed): said so too (the CLI said to run it again with --merge to complete it).
        exc.nothing_written = not importer.writing  # type: ignore[attr-defined]
        exc.import_finished = importer.done  # type: ignore[attr-defined]
        raise
