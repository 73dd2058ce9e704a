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
(:meth:`_Importer._keep_own_contexts`). Before anything is written, every node and type is
checked for keys the store cannot hold (:meth:`_Importer.check`) and, in a merge, for keys
and property kinds the target's own nodes and types hold (:meth:`_Importer.check_merge`).

One import of an MLMD store into a store at a time: an import claims its source in the target
before it reads what the target holds (:class:`_Claim`); a second one is refused meanwhile.

The native API has no public write path taking given ids and times (it allocates both itself);
:class:`_NativeWriter` is the one place that reaches into the store's repositories for it.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import ValidationError

from .._repositories._base import Repository
from .._repositories.types import upgraded
from ..exceptions import (
    AlreadyExistsError,
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageGraphError,
    NotFoundError,
)
from ..models import (
    Association,
    Attribution,
    Event,
    NodeKind,
    NodeType,
    ParentContext,
)
from ..models import Node as NodeModel
from ..store import LineageStore
from ._aborts import aborting_row
from ._config import SYSTEM_TYPES
from ._import_claim import KEEP_ALIVE_S, _Claim
from ._import_rows import (
    _KINDS,
    _LINK_WINDOW,
    _SEQUENCE,
    CHUNK,
    KEPT_ID_MAX,
    Progress,
    _bad_text,
    _cannot_import,
    _check_text,
    _chunks,
    _kept_max,
    _NativeWriter,
    _seed,
    _stored_value,
    _times,
    _Unindexable,
    _unindexable,
)
from ._import_snapshot import _LINK_TABLES, _as_of_now, _links_by_id
from ._import_snapshot import _Snapshot as _Snapshot
from ._import_source import _open, _reading, _Reads, _source_key

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
    _open(source, older_ok=True)


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


#: An MLMD event as :meth:`_Importer.check_events` judged it: (the event, why it cannot be
#: imported or "", its model or None).
_Judged: TypeAlias = tuple[Any, str, Event | None]


class _Importer:
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
        self.empty = self._target_is_empty()
        #: This import's claim on the MLMD store (taken by :func:`import_mlmd`, which calls
        #: :meth:`run` while holding it).
        self.claim: _Claim | None = None
        self.type_map: dict[tuple[NodeKind, int], int] = {}
        self.node_map: dict[NodeKind, dict[int, int]] = {k: {} for k in _KINDS}
        self.prefix = f"{source_key}#"
        #: The SQLite copy read (:func:`_as_of_now`), "" for a source read live (MySQL).
        self.snapshot = ""
        #: Nodes an earlier import copied from this same MLMD store: (kind, MLMD id) -> id.
        self.imported: dict[tuple[NodeKind, int], int] = {}
        #: Artifacts and executions without an origin, by (kind, id): read per chunk in merges.
        self.unmarked: dict[tuple[NodeKind, int], dict[str, Any]] = {}
        self.reads = Repository(store.backend)
        self._parents: dict[int, list[int]] = {}
        #: Artifacts with a uri or digest no index holds, by MLMD id (a merge checks their twins).
        self.long_values: dict[int, list[tuple[str, _Unindexable]]] = {}
        #: The target's copies of MLMD nodes, per kind (the values of ``imported``).
        self.copied: dict[NodeKind, set[int]] = {k: set() for k in _KINDS}
        #: Set as the import starts to change the target (its first write into it, or the
        #: staged graph's publication): until then a failure or Ctrl-C left it as it was.
        self.writing = False
        #: MLMD's events, read and checked before the copy (:meth:`read_events`), each with
        #: what :meth:`check_events` judged of it: (the event, why it cannot be imported or "",
        #: its model or None), so the copy converts none again and pairs none with another's.
        self.events: list[_Judged] = []
        #: The largest MLMD id kept, per id sequence (:func:`_kept_max`; set by :meth:`copy`).
        self.kept_max: dict[str, int] = {}
        #: Set once the whole copy is in the target (written, or the staged graph published):
        #: a Ctrl-C after it (as the claim is released) stopped no part of the import.
        self.done = False

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
        self.empty = self._target_is_empty()
        if self.empty:
            return
        for row in self.reads.read("imports/origins", prefix=self.prefix):
            mlmd_id = int(str(row["origin"]).rpartition("#")[2])
            self.imported[(NodeKind(row["kind"]), mlmd_id)] = int(row["id"])
        for (kind, _), node_id in self.imported.items():
            self.copied[kind].add(node_id)

    def _keep_claim(self) -> None:
        if self.claim is not None:
            self.claim.keep()

    # ---------------------------------------------------------------------------- types

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

    def import_types(self, types: list[tuple[NodeKind, Any]]) -> None:
        from ._convert import to_type

        for done, (kind, msg) in enumerate(types, start=1):
            model = to_type(kind, msg).model_copy(update={"id": None})
            kept = self.empty and msg.id <= self.kept_max["Type"]
            self.report.ids_past_exact += int(self.empty and not kept)
            new_id = self.writer.put_type(model, msg.id if kept else None)
            self.type_map[(kind, msg.id)] = new_id
            self.report.id_map.setdefault(f"{kind.value}Type", {})[msg.id] = new_id
            if new_id != msg.id:
                self.report.ids_preserved = False
            self.progress("types", done, len(types))
        self.report.types = len(types)

    # ---------------------------------------------------------------------------- nodes

    def _existing_twin(self, kind: NodeKind, msg: Any, model: NodeModel) -> int | None:
        """In merge mode: the node this one already is. One an import copied from this same
        MLMD store (its ``mlmd_origin``), else for a context its (type, name), which is unique
        (a node of the target's own is never taken for an artifact or an execution)."""
        if self.empty:
            return None
        copied = self.imported.get((kind, msg.id))
        if copied is not None:
            return copied
        if kind != NodeKind.CONTEXT:
            # a copy by an earlier version (no origin): the node of the same id, type, name, uri
            # and MLMD's create time (a node of the target's own has its own)
            old = self.unmarked.get((kind, msg.id))
            fields = ("type_id", "name", "uri", "created")
            stored = None if old is None else tuple(old[f] for f in fields)
            given = (model.type_id, model.name, getattr(model, "uri", None))
            return msg.id if stored == (*given, msg.create_time_since_epoch) else None
        assert model.type_id is not None and model.name is not None
        twins = self.writer.repos[kind].get_by_type_and_names([(model.type_id, model.name)])
        return self._unclaimed(kind, twins[0].id) if twins else None

    def _unclaimed(self, kind: NodeKind, node_id: int | None) -> int | None:
        """``node_id`` unless it is the copy of another MLMD node (its ``mlmd_origin``): a
        context renamed in MLMD whose old name a new one took is not that new one's twin."""
        return None if node_id is None or node_id in self.copied[kind] else node_id

    def _read_unmarked(self, kind: NodeKind, chunk: Sequence[Any]) -> None:
        if self.empty or kind == NodeKind.CONTEXT:
            return
        ids = [m.id for m in chunk if (kind, m.id) not in self.imported]
        if not ids:
            return
        rows = self.reads.read(
            "imports/unmarked",
            artifact_ids=ids if kind == NodeKind.ARTIFACT else [],
            execution_ids=ids if kind == NodeKind.EXECUTION else [],
        )
        self.unmarked = {(NodeKind(r["kind"]), int(r["id"])): r for r in rows}

    def import_nodes(self, kind: NodeKind, msgs: list[Any]) -> None:
        from ._convert import to_node

        msgs = sorted(msgs, key=lambda m: m.id)
        total = len(msgs)
        done = 0
        for chunk in _chunks(msgs):
            self._read_unmarked(kind, chunk)
            models: list[NodeModel] = []
            times: list[tuple[int | None, int | None]] = []
            pending_new: list[int] = []
            own: list[int] = []  # positions of contexts of the target's own (matched by name)
            for msg in chunk:
                model = to_node(kind, msg).model_copy(
                    update={"id": None, "type_id": self.type_map[(kind, msg.type_id)]}
                )
                twin = self._existing_twin(kind, msg, model)
                if twin is not None:
                    model = model.model_copy(update={"id": twin})
                    if kind == NodeKind.CONTEXT and twin not in self.copied[kind]:
                        own.append(len(models))
                else:
                    pending_new.append(msg.id)
                models.append(model)
                times.append(_times(msg))
            origins: list[str | None] = [f"{self.prefix}{m.id}" for m in chunk]
            if own:
                self._keep_own_contexts(chunk, own, models, times, origins)
            self._count_twins(kind, chunk, models, times)
            if self.empty:
                # Keep MLMD's ids: the sequence skips MLMD's gaps, so the k-th new id is msg.id.
                new_ids = self._put_with_ids(kind, models, times, [m.id for m in chunk], origins)
            else:
                new_ids = self.writer.put_nodes(kind, models, times, origins)
            for msg, new_id in zip(chunk, new_ids, strict=True):
                self.node_map[kind][msg.id] = new_id
                if new_id != msg.id:
                    self.report.ids_preserved = False
            done += len(chunk)
            self.progress(f"{kind.value.lower()}s", done, total)
        self.report.id_map[kind.value] = dict(self.node_map[kind])
        setattr(self.report, f"{kind.value.lower()}s", total)

    def _count_twins(
        self,
        kind: NodeKind,
        chunk: Sequence[Any],
        models: list[NodeModel],
        times: list[tuple[int | None, int | None]],
    ) -> None:
        """Count the nodes of ``chunk`` the target already holds (``models`` with an id) as
        unchanged (a copy of this MLMD store's node that holds what it would be rewritten
        with: a merge run again) or updated. A re-run said "updated" for every node."""
        twins = [i for i, m in enumerate(models) if m.id is not None]
        if not twins:
            return
        getters: dict[NodeKind, Callable[[Iterable[int]], Sequence[NodeModel]]] = {
            NodeKind.ARTIFACT: self.store.get_artifacts_by_id,
            NodeKind.EXECUTION: self.store.get_executions_by_id,
            NodeKind.CONTEXT: self.store.get_contexts_by_id,
        }
        get = getters[kind]
        held: dict[int | None, NodeModel] = {
            n.id: n for n in get([models[i].id or 0 for i in twins])
        }
        derived = {
            "type",
            "type_version",
            "create_time_since_epoch",
            "last_update_time_since_epoch",
        }
        for i in twins:
            old = held.get(models[i].id)
            same = (
                old is not None
                and (kind, chunk[i].id) in self.imported  # else it gains its origin
                and old.model_dump(exclude=derived) == models[i].model_dump(exclude=derived)
                and (old.create_time_since_epoch, old.last_update_time_since_epoch) == times[i]
            )
            if same:
                self.report.unchanged += 1
            else:
                self.report.updated += 1

    def _keep_own_contexts(
        self,
        chunk: Sequence[Any],
        own: list[int],
        models: list[NodeModel],
        times: list[tuple[int | None, int | None]],
        origins: list[str | None],
    ) -> None:
        """A context of the target's own that an MLMD context matches by (type, name) is the
        one the copy links to, as MLMD reuses a context of that name: what it holds stays
        (its properties, custom properties, external id and times), and it gains only MLMD's
        properties it does not have. It was rewritten from MLMD (its own properties and custom
        properties gone, its create time MLMD's) and marked as MLMD's copy for good. A context
        with MLMD's id and create time is a copy made before origins were recorded: rewritten,
        as copies are."""
        held = {c.id: c for c in self.store.get_contexts_by_id([models[i].id or 0 for i in own])}
        for i in own:
            mine, msg = held.get(models[i].id or 0), chunk[i]
            if mine is None or (
                mine.id == msg.id and mine.create_time_since_epoch == msg.create_time_since_epoch
            ):
                continue
            given = models[i]
            models[i] = mine.model_copy(
                update={
                    "properties": {**given.properties, **mine.properties},
                    "custom_properties": {**given.custom_properties, **mine.custom_properties},
                    "external_id": mine.external_id or given.external_id,
                    "type": None,
                    "type_version": None,
                    "create_time_since_epoch": None,
                    "last_update_time_since_epoch": None,
                }
            )
            times[i] = (mine.create_time_since_epoch, mine.last_update_time_since_epoch)
            origins[i] = None

    def _put_with_ids(
        self,
        kind: NodeKind,
        models: list[NodeModel],
        times: list[tuple[int | None, int | None]],
        wanted: list[int],
        origins: list[str | None],
    ) -> list[int]:
        """Insert runs of consecutive MLMD ids in one write each, skipping the gaps between;
        ids past those kept (:func:`_kept_max`: the last, in id order) get the next ids, in one
        write after."""
        out: list[int] = []
        start = 0
        last = self.kept_max[_SEQUENCE[kind]]
        kept = next((i for i, w in enumerate(wanted) if w > last), len(wanted))
        while start < kept:
            end = start + 1
            while end < kept and wanted[end] == wanted[end - 1] + 1:
                end += 1
            self.writer.skip_to(_SEQUENCE[kind], wanted[start])
            out += self.writer.put_nodes(
                kind, models[start:end], times[start:end], origins[start:end]
            )
            start = end
        if kept < len(models):
            self.report.ids_past_exact += len(models) - kept
            out += self.writer.put_nodes(kind, models[kept:], times[kept:], origins[kept:])
        return out

    # ---------------------------------------------------------------------- relationships

    def read_events(self, nodes: dict[NodeKind, list[Any]]) -> list[Any]:
        """MLMD's events of these nodes, in MLMD's order of each execution's events (the order
        they were written there, which get_events_by_execution_ids keeps); read by artifact
        too, for an event whose execution the MLMD store does not hold."""
        artifact_ids = sorted(m.id for m in nodes[NodeKind.ARTIFACT])
        execution_ids = sorted(m.id for m in nodes[NodeKind.EXECUTION])
        msgs = list(self.mlmd.get_events_by_execution_ids(execution_ids) if execution_ids else [])
        seen = {(m.artifact_id, m.execution_id, m.type) for m in msgs}
        msgs += [
            m
            for m in (self.mlmd.get_events_by_artifact_ids(artifact_ids) if artifact_ids else [])
            if (m.artifact_id, m.execution_id, m.type) not in seen
        ]
        return msgs

    def check_events(self, msgs: list[Any]) -> list[_Judged]:
        """Refuse, before anything is written, an MLMD event the store cannot hold (its type
        UNKNOWN or past MLMD's, as a damaged database holds): the write refused it once every
        node was written (a merge stopped midway, which its re-run could not complete), with
        to_event's "No event type is specified." alone, naming no event."""
        from ._convert import to_event

        judged: list[_Judged] = []
        for msg in msgs:
            bad = _bad_text(msg)
            if bad:
                judged.append((msg, f"{bad} is not valid UTF-8 text", None))
                continue  # told by import_events, as before
            try:
                judged.append((msg, "", to_event(msg)))
            except (InvalidArgumentError, ValidationError, ValueError, TypeError) as exc:
                why = str(exc).rstrip(".")
                raise InvalidArgumentError(
                    f"the MLMD event of artifact {msg.artifact_id} and execution "
                    f"{msg.execution_id} cannot be imported: {why}; nothing was imported"
                ) from None
        return judged

    def import_events(self, judged: list[_Judged]) -> None:
        """Copy MLMD's events, each with what :meth:`check_events` judged of it (each is
        converted once)."""
        a_map, e_map = self.node_map[NodeKind.ARTIFACT], self.node_map[NodeKind.EXECUTION]
        events: list[Event] = []
        for msg, bad, event in judged:
            if not bad and (msg.execution_id not in e_map or msg.artifact_id not in a_map):
                # Written since the nodes were read (the MLMD store is being written) ...
                for kind, mlmd_id, get in (
                    (NodeKind.ARTIFACT, msg.artifact_id, self.mlmd.get_artifacts_by_id),
                    (NodeKind.EXECUTION, msg.execution_id, self.mlmd.get_executions_by_id),
                ):
                    if mlmd_id not in self.node_map[kind] and get([mlmd_id]):
                        self._copied(kind, mlmd_id, "named by an event")  # raises
                # ... or a damaged database (SQLite enforces no foreign keys): a KeyError before.
                bad = "it names an artifact or execution the MLMD store does not hold"
            if bad:
                raise InvalidArgumentError(
                    f"the MLMD event of artifact {msg.artifact_id} and execution "
                    f"{msg.execution_id} cannot be imported: {bad}; nothing was imported"
                    if self.empty
                    else f"the MLMD event of artifact {msg.artifact_id} and execution "
                    f"{msg.execution_id} cannot be imported: {bad}"
                )
            assert event is not None  # (judged so: no reason to refuse it)
            events.append(
                event.model_copy(
                    update={
                        "artifact_id": a_map[msg.artifact_id],
                        "execution_id": e_map[msg.execution_id],
                    }
                )
            )
        if not self.empty and events:
            existing = {
                (e.artifact_id, e.execution_id, int(e.type))
                for e in self.store.get_events_by_artifact_ids(
                    sorted({e.artifact_id for e in events if e.artifact_id})
                )
            }
            fresh = [
                e for e in events if (e.artifact_id, e.execution_id, int(e.type)) not in existing
            ]
            self.report.skipped_relations += len(events) - len(fresh)
            events = fresh
        for done, chunk in enumerate(_chunks(events), start=1):
            self.store.put_events(list(chunk))
            self.progress("events", min(done * CHUNK, len(events)), len(events))
        self.report.events = len(events)

    def _copied(self, kind: NodeKind, mlmd_id: int, link: str) -> int:
        """The copy of MLMD node ``mlmd_id``, named by a link the import reads after the
        nodes. A node written to the MLMD store since the import read its nodes (the store is
        being written) has none: that was a KeyError (a traceback from the CLI, and a merge
        stopped midway with no reason given)."""
        try:
            return self.node_map[kind][mlmd_id]
        except KeyError:
            raise FailedPreconditionError(
                f"MLMD {kind.value.lower()} {mlmd_id} ({link}) was not in the MLMD store when "
                "the import read its nodes: the MLMD store is being written. "
                + (
                    "Nothing was imported; import it when no one writes to it"
                    if self.empty
                    else "Run the same merge again when no one writes to it: it completes "
                    "what this one wrote"
                )
            ) from None

    def import_links(self, context_ids: list[int]) -> None:
        c_map = self.node_map[NodeKind.CONTEXT]
        attributions: list[Attribution] = []
        associations: list[Association] = []
        parents: list[ParentContext] = []
        attr_keys: list[tuple[int, int]] = []  # MLMD's (node, context) ids of each link
        assoc_keys: list[tuple[int, int]] = []
        for done, cid in enumerate(context_ids, start=1):
            new_c = c_map[cid]
            # In a merge, links the target holds already are skipped (they were counted as
            # imported again, though writing them changes nothing).
            held_a, held_e = (
                (set(), set())
                if self.empty
                else (
                    {a.id for a in self.store.get_artifacts_by_context(new_c)},
                    {e.id for e in self.store.get_executions_by_context(new_c)},
                )
            )
            for a in self.mlmd.get_artifacts_by_context(cid):
                artifact_id = self._copied(NodeKind.ARTIFACT, a.id, f"attributed to context {cid}")
                if artifact_id in held_a:
                    self.report.skipped_relations += 1
                    continue
                attributions.append(Attribution(artifact_id=artifact_id, context_id=new_c))
                attr_keys.append((a.id, cid))
            for e in self.mlmd.get_executions_by_context(cid):
                execution_id = self._copied(
                    NodeKind.EXECUTION, e.id, f"associated with context {cid}"
                )
                if execution_id in held_e:
                    self.report.skipped_relations += 1
                    continue
                associations.append(Association(execution_id=execution_id, context_id=new_c))
                assoc_keys.append((e.id, cid))
            parents += [
                ParentContext(
                    child_id=new_c,
                    parent_id=self._copied(NodeKind.CONTEXT, p, f"a parent of context {cid}"),
                )
                for p in self.mlmd_parents([cid])[cid]
            ]
            self.progress("contexts' links", done, len(context_ids))
        if not self.empty and parents:
            existing = {
                (p.child_id, p.parent_id)
                for p in parents
                if p.parent_id
                in {c.id for c in self.store.get_parent_contexts_by_context(p.child_id)}
            }
            fresh = [p for p in parents if (p.child_id, p.parent_id) not in existing]
            self.report.skipped_relations += len(parents) - len(fresh)
            parents = fresh
        # Written in MLMD's order of its links (mlmd_link_order): context by context, the
        # target's get_lineage_subgraph listed them ordered by context, the source's by write.
        attr_order = self.mlmd_link_order("starting_artifacts", "attributions", attr_keys)
        assoc_order = self.mlmd_link_order("starting_executions", "associations", assoc_keys)
        attributions = [
            link
            for _, link in sorted(
                enumerate(attributions),
                key=lambda p: attr_order.get(attr_keys[p[0]], len(attr_order)),
            )
        ]
        associations = [
            link
            for _, link in sorted(
                enumerate(associations),
                key=lambda p: assoc_order.get(assoc_keys[p[0]], len(assoc_order)),
            )
        ]
        for chunk in _chunks(attributions):
            self.store.put_attributions_and_associations(list(chunk), [])
        for chunk in _chunks(associations):
            self.store.put_attributions_and_associations([], list(chunk))
        # Parents in one write: the store checks the whole batch for cycles.
        if parents:
            self.store.put_parent_contexts(parents)
        self.report.attributions = len(attributions)
        self.report.associations = len(associations)
        self.report.parent_contexts = len(parents)

    def mlmd_link_order(
        self, starting: str, links: str, keys: list[tuple[int, int]]
    ) -> dict[tuple[int, int], int]:
        """Each of these MLMD links (``keys``: (node, context) ids) by its place in MLMD's order
        of them: its ids, which its API does not expose. A SQLite source is read from its copy,
        whose link ids give the order exactly (:func:`_links_by_id`). From another source
        (MySQL, or a copy that cannot tell): ``get_lineage_subgraph`` lists a walk's links in
        the order its database reads them. MLMD starts a walk from 101 nodes at most, so they
        are asked for a window of 100 linked nodes at a time (in id order; nodes past the 101
        an id range held, unlinked ones counting, asked again with the next window): exact
        among the links of one window. MySQL lists them in its unique index's order (context
        id, then node id): when every window did, that is the order of them all; else windows
        follow in node id order. Empty where the source cannot tell (a client or server
        without the call): links are then written context by context."""
        from ml_metadata.proto import metadata_store_pb2

        pb: Any = metadata_store_pb2
        order: dict[tuple[int, int], int] = {}
        if not keys:
            return order
        if self.snapshot:
            # Exact, from the copy's ids. The windows below come in node id order: a link of a
            # later node written before one of an earlier node (a run attributing an old
            # artifact to its new context) comes after it.
            order = _links_by_id(self.snapshot, links)
            if order:
                return order
        node = _LINK_TABLES[links][1]
        pending = sorted({n for n, _ in keys})
        # Every window listed in (context id, node id) order, read live (MySQL): a SQLite copy
        # whose link ids could not be read lists them by id, whose windows can each be in that
        # order too (one context each), and ranked so put a later window's links of context 1
        # before an earlier one's of context 2, which its walks list after them.
        by_index = not self.snapshot
        while pending:
            self._keep_claim()
            window = pending[:_LINK_WINDOW]
            options = pb.LineageSubgraphQueryOptions(max_num_hops=0)
            getattr(options, starting).filter_query = f"id >= {window[0]} AND id <= {window[-1]}"
            try:
                graph = self.mlmd.get_lineage_subgraph(options, [links])
            except LineageGraphError:
                return order  # the rest after, context by context
            seen: set[int] = set()
            listed = [(getattr(link, node), link.context_id) for link in getattr(graph, links)]
            by_index = by_index and listed == sorted(listed, key=lambda k: (k[1], k[0]))
            for key in listed:
                seen.add(key[0])
                order.setdefault(key, len(order))
            # A first node not listed has lost its links meanwhile: not asked again.
            pending = [n for n in window[1:] if n not in seen] + pending[len(window) :]
        if by_index:
            # MySQL lists them in its unique index's order, (context, node): every window did,
            # so one walk over several windows does too. Windows in node id order put a later
            # window's links of context 1 after an earlier one's of context 2, which no walk
            # from both windows' nodes lists (measured on MariaDB 10.11: its plan scans the
            # covering index ``UNIQUE (context_id, node id)``).
            ranked = sorted(order, key=lambda k: (k[1], k[0]))
            order = {key: i for i, key in enumerate(ranked)}
        return order

    def check(self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]) -> None:
        """Refuse, before anything is written, what the store cannot hold: MLMD accepts names
        and external ids that no unique key here can (empty, over 4,096 bytes, ASCII whitespace
        at an end, U+0001), an indexed uri or digest over 4,096 bytes, and text with NUL. The
        error names the MLMD node. Each node and type is also converted as the copy will
        convert it: MLMD holds property names that are empty, which no model here can (they
        raised pydantic's ValidationError, or ValueError, from the copy: in a merge after its
        types were written). Struct values with NaN or infinity, which MLMD holds too, are
        copied as they are."""
        from .._encoding import check_key, check_text
        from ._convert import to_node, to_type

        def converted(convert: Callable[[], Any]) -> Any:
            try:
                return convert()
            except InvalidArgumentError:
                raise
            except (ValidationError, ValueError, TypeError) as exc:
                why = (
                    "; ".join(str(e["msg"]) for e in exc.errors())
                    if isinstance(exc, ValidationError)
                    else str(exc)
                )
                raise InvalidArgumentError(why) from None

        held = {(kind, msg.id) for kind, msg in types}
        # Property values their type does not allow (MLMD holds what its SQLite tables hold: a
        # value of another kind, a property its type does not declare) are refused here by the
        # write's own rules: the write refused them midway, naming "artifact #1" (its place in a
        # batch), in a merge after its types. (A type no model holds is refused below.)
        type_models: dict[tuple[NodeKind, int], NodeType | None] = {}
        for kind, msg in types:
            try:
                type_models[(kind, msg.id)] = to_type(kind, msg)
            except (InvalidArgumentError, ValidationError, ValueError, TypeError):
                type_models[(kind, msg.id)] = None
        for kind, msgs in nodes.items():
            for msg in msgs:
                try:
                    if (kind, msg.type_id) not in held:  # a damaged database: a KeyError before
                        raise InvalidArgumentError(
                            f"its type id {msg.type_id} names no {kind.value.lower()} type of the "
                            "MLMD store"
                        )
                    _check_text(msg)
                    model = converted(functools.partial(to_node, kind, msg))
                    node_type = type_models[(kind, msg.type_id)]
                    if node_type is not None:
                        self.writer.check_values(kind, node_type, model)
                    for name in ("name", "external_id"):
                        if msg.HasField(name):
                            check_key(name, getattr(msg, name))
                    if kind == NodeKind.ARTIFACT and msg.HasField("uri"):
                        check_text("uri", msg.uri)
                    if kind == NodeKind.ARTIFACT and (long := _unindexable(msg)):
                        if self.empty:
                            raise long[0][1]
                        self.long_values[msg.id] = long  # its twin may hold it: check_merge
                except InvalidArgumentError as exc:
                    raise _cannot_import(kind, msg.id, exc) from exc
        for kind, msg in types:
            try:
                _check_text(msg)
                converted(functools.partial(to_type, kind, msg))
                for name in ("name", "version", "description", "external_id"):
                    check_text(f"type {name}", getattr(msg, name))
                if msg.HasField("external_id"):
                    check_key("type external_id", msg.external_id)
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(
                    f"MLMD {kind.value.lower()} type {msg.id} ({msg.name!r}) cannot be imported: "
                    f"{exc}; nothing was imported"
                ) from exc

    def check_merge(
        self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]
    ) -> None:
        """In a merge, refuse before anything is written what the target would refuse midway: a
        type the target holds with other property kinds, a type's external id another type
        holds, and a node's name or external id held by any node but its twin (the target's own
        nodes, or copies of other MLMD nodes when a key moved between nodes in MLMD). A copy
        found again keeps its own keys. The error names the MLMD node and the holder."""
        from ._convert import to_node, to_type

        target_type: dict[tuple[NodeKind, int], int] = {}
        for kind, msg in types:
            model = to_type(kind, msg)
            label = f"MLMD {kind.value.lower()} type {msg.id} ({msg.name!r})"
            try:
                stored = self.store.get_type(kind, model.name, model.version)
            except NotFoundError:
                stored = None
            if stored is not None:
                assert stored.id is not None
                target_type[(kind, msg.id)] = stored.id
                try:  # the rules the merge's put_type applies (fields added and kept)
                    upgraded(stored, model, can_add=True, can_omit=True)
                except AlreadyExistsError as exc:
                    raise AlreadyExistsError(
                        f"{label} cannot be merged: {exc}; nothing was imported"
                    ) from exc
            if model.external_id is not None:
                for other in self.store.get_types_by_external_ids(kind, [model.external_id]):
                    if other.id != target_type.get((kind, msg.id)):
                        raise AlreadyExistsError(
                            f"{label} cannot be merged: its external_id {model.external_id!r} "
                            f"is the target's type {other.name!r}; nothing was imported"
                        )
        for kind in _KINDS:
            repo = self.writer.repos[kind]
            twin_of: dict[int, int | None] = {}  # MLMD id -> the target node it updates
            names: dict[tuple[int, str], Any] = {}
            externals: dict[str, Any] = {}
            for chunk in _chunks(sorted(nodes[kind], key=lambda m: m.id)):
                self._keep_claim()
                self._read_unmarked(kind, chunk)
                contexts: dict[tuple[int, str], int] = {}  # a context's twin: its type and name
                if kind == NodeKind.CONTEXT:
                    keys = [
                        (tid, m.name)
                        for m in chunk
                        if (tid := target_type.get((kind, m.type_id))) is not None
                    ]
                    for held in repo.get_by_type_and_names(keys) if keys else []:
                        assert held.type_id is not None and held.id is not None
                        contexts[(held.type_id, held.name)] = held.id
                for msg in chunk:
                    type_id = target_type.get((kind, msg.type_id))
                    twin = self.imported.get((kind, msg.id))
                    if twin is None and type_id is not None:
                        if kind == NodeKind.CONTEXT:
                            twin = self._unclaimed(kind, contexts.get((type_id, msg.name)))
                        else:
                            node = to_node(kind, msg).model_copy(
                                update={"id": None, "type_id": type_id}
                            )
                            twin = self._existing_twin(kind, msg, node)
                    if type_id is not None and msg.HasField("name") and msg.name:
                        names[(type_id, msg.name)] = msg
                    twin_of[msg.id] = twin
                    if msg.HasField("external_id") and msg.external_id:
                        externals[msg.external_id] = msg
            self.unmarked = {}
            if kind == NodeKind.ARTIFACT:
                self._check_long_values(twin_of)
            label = kind.value.lower()
            name_rows = [
                {"type_id": t, "name": n, "id": twin_of[m.id] or -1} for (t, n), m in names.items()
            ]
            external_rows = [
                {"external_id": e, "id": twin_of[m.id] or -1} for e, m in externals.items()
            ]
            for i in range(0, max(len(name_rows), len(external_rows)), CHUNK):
                taken = self.reads.read(
                    f"{label}s/taken_keys",
                    names=name_rows[i : i + CHUNK],
                    external_ids=external_rows[i : i + CHUNK],
                )
                for row in taken:
                    # Held by a node other than its twin: the target's own, or the copy of
                    # another MLMD node whose key moved in MLMD. The write checks each key
                    # against the store as it is, batch by batch, so a key moving between
                    # copies would fail midway: both are refused here.
                    if row["key"] == "name":
                        [holder] = repo.get_by_ids([row["id"]])
                        msg = names[(holder.type_id, row["value"])]
                    else:
                        msg = externals[row["value"]]
                    raise AlreadyExistsError(
                        f"MLMD {label} {msg.id} cannot be merged: its {row['key']} "
                        f"{row['value']!r} is the target's {label} {row['id']}"
                        f"{' of the same type' if row['key'] == 'name' else ''}; nothing was "
                        "imported"
                    )
            if kind == NodeKind.CONTEXT:
                self.check_parent_cycles(twin_of)

    def _check_long_values(self, twin_of: dict[int, int | None]) -> None:
        """An artifact's uri or digest over 4,096 bytes may be merged only into a twin that
        holds that same value already (copied by a version before the limit): the write lets
        an unchanged stored value stay. Any other is refused, as in an import into an empty
        store."""
        twins = sorted({t for m in self.long_values if (t := twin_of.get(m)) is not None})
        stored = {a.id: a for a in self.store.get_artifacts_by_id(twins)}
        for mlmd_id, long in sorted(self.long_values.items()):
            twin_id = twin_of.get(mlmd_id)
            twin = stored.get(twin_id) if twin_id is not None else None
            for where, error in long:
                if twin is None or _stored_value(twin, where) != error.value:
                    raise _cannot_import(NodeKind.ARTIFACT, mlmd_id, error)

    def mlmd_parents(self, context_ids: Iterable[int]) -> dict[int, list[int]]:
        """MLMD's parent links of these contexts: child id -> its parents' ids (each read once,
        for the merge's cycle check and the copy's links)."""
        for cid in context_ids:
            if cid not in self._parents:
                self._parents[cid] = [p.id for p in self.mlmd.get_parent_contexts_by_context(cid)]
        return self._parents

    def check_parent_cycles(self, twins: Mapping[int, int | None]) -> None:
        """Refuse, before any write, MLMD parent links that form a cycle: among themselves
        (MLMD refuses one; a damaged database holds it: the store refused it once every node,
        event and link was written, a merge stopped midway), or through the target's own parent
        links (the store checks the links only when they are written, after the nodes).
        ``twins``: each MLMD context's twin in the target, None for none (every one None for
        MLMD's links alone). Only the contexts with a twin carry stored links, so the target's
        links above the twins join MLMD's in one graph."""
        from graphlib import CycleError, TopologicalSorter

        parents = self.mlmd_parents(sorted(twins))
        held = {t: m for m, t in twins.items() if t is not None}

        def node(mlmd_id: int) -> tuple[str, int]:
            twin = twins.get(mlmd_id)
            return ("mlmd", mlmd_id) if twin is None else ("target", twin)

        # child -> its parents, in MLMD's order (a dict as an ordered set: the cycle named is
        # the one MLMD's order meets first)
        graph: dict[tuple[str, int], dict[tuple[str, int], None]] = {}
        for child in twins:
            graph.setdefault(node(child), {}).update(dict.fromkeys(map(node, parents[child])))
        if held and any(parents[c] for c in twins):
            self._add_target_parents(graph, set(held))
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as exc:
            cycle: list[tuple[str, int]] = exc.args[1]
            if all(n[0] == "mlmd" for n in cycle):
                raise InvalidArgumentError(
                    "MLMD's parent contexts form a cycle (each a parent of the next: a damaged "
                    "database): "
                    + " -> ".join(f"MLMD context {n[1]}" for n in cycle)
                    + "; nothing was imported"
                ) from None

            def name(n: tuple[str, int]) -> str:
                if n[0] == "mlmd":
                    return f"MLMD context {n[1]}"
                if n[1] in held:
                    return f"MLMD context {held[n[1]]} (the target's context {n[1]})"
                return f"the target's context {n[1]}"

            raise InvalidArgumentError(
                "MLMD's parent contexts would close a cycle with the target's (each a parent "
                "of the next): " + " -> ".join(name(n) for n in cycle) + "; nothing was imported"
            ) from None

    def _add_target_parents(
        self, graph: dict[tuple[str, int], dict[tuple[str, int], None]], held: set[int]
    ) -> None:
        """The target's links above its contexts ``held``, into ``graph``, walked up level by
        level (one read per level, each context once: a variable-length pattern enumerates
        every path on FalkorDB, and algo.BFS costs O(graph) per twin)."""
        reached: set[int] = set()
        frontier = held
        while frontier:
            reached |= frontier
            ids = sorted(frontier)
            frontier = set()
            for i in range(0, len(ids), CHUNK):
                for row in self.reads.read("contexts/get_parent_ids", ids=ids[i : i + CHUNK]):
                    child, parent = int(row["child_id"]), int(row["parent_id"])
                    graph.setdefault(("target", child), {})[("target", parent)] = None
                    frontier.add(parent)
            frontier -= reached

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
        self.events = self.check_events(self.read_events(nodes))
        self.check_parent_cycles(dict.fromkeys(sorted(m.id for m in nodes[NodeKind.CONTEXT])))
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
        self.import_types(types)
        for kind in _KINDS:
            self.import_nodes(kind, nodes[kind])
        self.import_events(self.events)
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
        renewed = time.monotonic()

        def progress(stage: str, done: int, total: int) -> None:
            nonlocal renewed
            if time.monotonic() - renewed > KEEP_ALIVE_S:  # links report once per context
                staging.keep_alive()
                renewed = time.monotonic()
            reported(stage, done, total)

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
    mlmd, config = _open(source, older_ok=True)  # (an older schema: its copy is migrated)
    key = _source_key(config)
    importer = _Importer(_Reads(mlmd), store, progress, merge, key)  # refuses before a write
    claim = _Claim(store, key)
    try:
        claim.take()
        try:
            with _as_of_now(mlmd, config) as now, _reading(now.config) as reader:
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
