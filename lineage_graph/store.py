"""``LineageStore``: the native API, composed from small repositories (no Cypher here)."""

from __future__ import annotations

import copy
import datetime as dt
import operator
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, TypeVar

from . import __about__, _migrations
from ._encoding import indexable, shown
from ._repositories._base import Repository, call_values, id_ranges, now_ms
from ._repositories.cache import CacheInputs, CacheRepository, CacheResult
from ._repositories.composite import CompositeWriter, EventEdge
from ._repositories.graph import GraphWriter, WriteBatch
from ._repositories.ids import IdAllocator
from ._repositories.nodes import NodeRepository
from ._repositories.relations import ParentLinksChanged, RelationRepository
from ._repositories.retention import (
    ArchivedRecord,
    Retention,
    RetentionPlan,
    RetentionResult,
    read_archive,
)
from ._repositories.types import TypeRepository
from ._schema import SCHEMA, SCHEMA_VERSION
from .backends import Backend, open_backend
from .exceptions import (
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from .lineage import LineageGraph, NodeFilter, NodeRef
from .lineage._filter import StartLike
from .lineage._impact import (
    ArtifactDiff,
    ImpactMark,
    ImpactReport,
    ImpactRepository,
    LineageDiff,
)
from .lineage._traverse import LineageRepository
from .models import (
    INT64_MAX,
    Artifact,
    ArtifactState,
    ArtifactType,
    Association,
    Attribution,
    Context,
    ContextType,
    Direction,
    Event,
    Execution,
    ExecutionState,
    ExecutionType,
    Node,
    NodeKind,
    NodeType,
    ParentContext,
)

if TYPE_CHECKING:  # the pipeline section's types; imported lazily at run time (no cycle)
    from ._tracker import Tracker
    from .pipeline import ContextLike, Inputs, Run, StepDecorator

__all__ = ["LineageStore"]

#: Tries of put_parent_contexts when other writers keep writing parent links between its cycle
#: check and its write (FalkorDB aborts the write then; each try checks again).
_PARENT_LINK_ATTEMPTS = 20
#: Largest page iter_nodes asks the engine for (a larger page_size reads pages of this size):
#: FalkorDB 4.16.3's LIMIT keeps 32 bits (measured: LIMIT 2**31 answers, 2**32 answers nothing).
MAX_PAGE_SIZE = 2**31 - 1

_T = TypeVar("_T")


@dataclass(frozen=True)
class _InDoubt:
    """A write of this thread that raised in doubt (``EngineUnavailableError``): the call, its
    arguments as values, the write (what tells whether it was applied: GraphWriter.applied),
    the ids it would have given new nodes (``new_ids``, if any) and what it would have
    returned."""

    call: str
    args: Any
    batch: WriteBatch
    new_ids: dict[str, tuple[int, ...]] | None
    result: Any


class LineageStore:
    """ML metadata as a property graph.

    Open with :meth:`open` (``"memory"``, a directory, ``redis://…``, ``bolt://``/``neo4j://…``,
    or ``None`` for the environment's default) and use as a context manager. Every ``put_*``
    write, :meth:`impact`'s mark and :meth:`undo_impact_mark` is one atomic statement: it either
    applies completely or raises and changes nothing. :meth:`apply_retention` writes one such
    statement per batch, and :meth:`run`, :meth:`step` and the :attr:`tracker` are made of
    several (their docs say which).
    """

    def __init__(self, backend: Backend, *, migrate: bool = True) -> None:
        if not isinstance(migrate, bool):  # "no" is true: it would migrate
            raise InvalidArgumentError(f"migrate is True or False, got {shown(migrate)}")
        self.backend = backend
        self._meta = Repository(backend)
        state = _migrations.read_state(backend)
        _migrations.check_not_newer(state)  # before anything is written: a newer store is refused
        if migrate or state.version is None:  # a new store is set up either way
            backend.ensure_schema(SCHEMA)
            _migrations.migrate(backend)  # an older store: one atomic statement per version
        else:  # an existing store's layout is left as it is (what a read-only opening needs):
            _migrations.check_not_older(state)  # an older one is refused, nothing written
            # and no index, constraint or property key of this release is added to it
        if not self._meta.read("meta/get"):  # read first: opening a store writes nothing
            self._meta.write(
                "meta/init",
                schema_version=SCHEMA_VERSION,
                library_version=__about__.__version__,
                now=now_ms(),
            )
        ids = IdAllocator(backend)
        self._types = TypeRepository(backend, ids)
        self._artifacts: NodeRepository[Artifact] = NodeRepository(
            backend, NodeKind.ARTIFACT, self._types, ids
        )
        self._executions: NodeRepository[Execution] = NodeRepository(
            backend, NodeKind.EXECUTION, self._types, ids
        )
        self._contexts: NodeRepository[Context] = NodeRepository(
            backend, NodeKind.CONTEXT, self._types, ids
        )
        self._relations = RelationRepository(
            backend, self._artifacts, self._executions, self._contexts
        )
        self._writer = GraphWriter(backend, ids)
        self._composite: CompositeWriter = CompositeWriter(
            self._artifacts, self._executions, self._contexts, self._relations, self._writer
        )
        self._lineage = LineageRepository(
            backend, self._artifacts, self._executions, self._contexts, self._relations
        )
        self._impact = ImpactRepository(backend, self._lineage)
        self._cache = CacheRepository(
            backend, self._types, self._artifacts, self._executions, self._contexts
        )
        #: This thread's last write in doubt (:meth:`_once`).
        self._in_doubt = threading.local()

    @classmethod
    def open(
        cls, target: str | os.PathLike[str] | None = None, *, migrate: bool = True, **settings: Any
    ) -> Self:
        """Open (and if new, initialise) a store. ``settings`` override engine settings, e.g.
        ``fsync="everysec"`` (embedded) or ``password=...`` (Neo4j). ``migrate=False``: an
        existing store's layout is left as it is (what a read-only opening needs): one of an
        older schema version is refused with :class:`SchemaVersionError` instead of migrated,
        and no index, constraint or property key is added to it."""
        backend = open_backend(target, **settings)
        try:
            return cls(backend, migrate=migrate)
        except BaseException:
            backend.close()
            raise

    def _graph_replaced(self, by: LineageStore) -> None:
        """The backend's graph was replaced by the graph of ``by`` (an import staged there):
        take its id blocks, and forget the types cached from the old graph."""
        self._artifacts.ids.adopt(by._artifacts.ids)
        self._types.forget()

    @property
    def schema_version(self) -> int:
        rows = self._meta.read("meta/get")
        return int(rows[0]["schema_version"]) if rows else SCHEMA_VERSION

    def describe(self) -> dict[str, Any]:
        """Engine facts (kind, version, location, schema version), never secrets."""
        return {**self.backend.describe(), "schema_version": self.schema_version}

    def close(self) -> None:
        self.backend.close()

    def __reduce__(self) -> Any:
        """A store holds a live connection (and its server's supervision): it cannot be sent to
        another process. Passing it to a 'spawn' or 'forkserver' worker (``pool.map(partial(f,
        store), ...)``) failed deep in pickle with ``cannot pickle '_thread.RLock' object``."""
        raise FailedPreconditionError(
            "a LineageStore cannot be pickled or sent to another process (it holds a live "
            "connection): open the store in each worker process instead, e.g. "
            "LineageStore.open(path) in a Pool's initializer (every process that opens a store "
            "directory shares its server); a 'fork' worker may also use the store it inherits. "
            "An in-memory store is reachable from its own process only"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------- types

    def put_type(
        self, node_type: NodeType, *, can_add_fields: bool = False, can_omit_fields: bool = False
    ) -> int:
        """Register a type, or return the stored one (upgraded by MLMD's rules). Returns its id."""
        for flag, value in (
            ("can_add_fields", can_add_fields),
            ("can_omit_fields", can_omit_fields),
        ):
            if not isinstance(value, bool):  # "no" is true: it upgraded the type
                raise InvalidArgumentError(f"{flag} is True or False, got {shown(value)}")
        return self._types.put(
            node_type, can_add_fields=can_add_fields, can_omit_fields=can_omit_fields
        )

    def put_artifact_type(
        self, t: ArtifactType, *, can_add_fields: bool = False, can_omit_fields: bool = False
    ) -> int:
        """:meth:`put_type` for an :class:`ArtifactType` only."""
        _type_of(t, ArtifactType, "put_artifact_type")
        return self.put_type(t, can_add_fields=can_add_fields, can_omit_fields=can_omit_fields)

    def put_execution_type(
        self, t: ExecutionType, *, can_add_fields: bool = False, can_omit_fields: bool = False
    ) -> int:
        """:meth:`put_type` for an :class:`ExecutionType` only."""
        _type_of(t, ExecutionType, "put_execution_type")
        return self.put_type(t, can_add_fields=can_add_fields, can_omit_fields=can_omit_fields)

    def put_context_type(
        self, t: ContextType, *, can_add_fields: bool = False, can_omit_fields: bool = False
    ) -> int:
        """:meth:`put_type` for a :class:`ContextType` only."""
        _type_of(t, ContextType, "put_context_type")
        return self.put_type(t, can_add_fields=can_add_fields, can_omit_fields=can_omit_fields)

    def get_type(self, kind: NodeKind, name: str, version: str | None = None) -> NodeType:
        """A type by name (and version); :class:`NotFoundError` if absent."""
        return self._types.get(_node_kind(kind), name, version)

    def get_types(self, kind: NodeKind) -> list[NodeType]:
        return self._types.list_all(_node_kind(kind))

    def get_types_by_id(self, kind: NodeKind, ids: Iterable[int]) -> list[NodeType]:
        return self._types.get_by_ids(_node_kind(kind), ids)

    def get_types_by_external_ids(
        self, kind: NodeKind, external_ids: Iterable[str]
    ) -> list[NodeType]:
        return self._types.get_by_external_ids(_node_kind(kind), external_ids)

    def get_artifact_type(self, name: str, version: str | None = None) -> ArtifactType:
        return self._types.get(NodeKind.ARTIFACT, name, version)  # type: ignore[return-value]

    def get_execution_type(self, name: str, version: str | None = None) -> ExecutionType:
        return self._types.get(NodeKind.EXECUTION, name, version)  # type: ignore[return-value]

    def get_context_type(self, name: str, version: str | None = None) -> ContextType:
        return self._types.get(NodeKind.CONTEXT, name, version)  # type: ignore[return-value]

    def _once(self, call: str, args: tuple[Any, ...], write: Callable[[], _T]) -> _T:
        """Run ``write``, the call ``call`` with ``args``, so that a retry of a write in doubt
        recognises its own write. A write whose reply was lost and whose read-back failed too
        raises ``EngineUnavailableError``; the natural retry, the same call with the same
        arguments, wrote again: every new node a second time, or, with a name or external id,
        ``AlreadyExistsError`` for the key its own first write held, or for the events or
        parent links it had stored (immutable, as in MLMD). Now the thread's next write, when
        it is that same call, first reads back the first write (one of its new nodes, else its
        first event or parent link by its ``seq``): stored (it was applied, whole), it returns
        what the first would have returned and writes nothing; not stored, or nothing to tell
        (updates only, links all there before: a repeat changes nothing), it writes (the ids
        stay spent); still unreadable, it raises ``EngineUnavailableError`` again, naming the
        first write's ``new_ids``. The thread's next call of these (``put_artifacts`` /
        ``put_executions`` / ``put_contexts``, ``put_execution``, ``put_lineage_subgraph``,
        ``put_events``, ``put_parent_contexts``) forgets the write in doubt: only it is taken
        for a retry."""
        local = self._in_doubt
        pending: _InDoubt | None = getattr(local, "write", None)
        local.write = None
        if pending is not None and pending.call == call and pending.args == call_values(args):
            try:
                applied = self._writer.applied(pending.batch)
            except EngineUnavailableError as exc:
                local.write = pending  # still cannot tell: the next retry asks again
                if exc.new_ids is None and pending.new_ids:
                    exc.new_ids = dict(pending.new_ids)
                    exc.in_doubt_result = copy.deepcopy(pending.result)
                raise
            if applied:
                return copy.deepcopy(pending.result)  # type: ignore[no-any-return]
        self._writer.take_in_doubt()  # an earlier write's, not this call's
        try:
            return write()
        except EngineUnavailableError as exc:
            batch = self._writer.take_in_doubt()
            if batch is not None:
                new_ids = dict(exc.new_ids) if exc.new_ids else None
                result = copy.deepcopy(exc.in_doubt_result)
                local.write = _InDoubt(call, call_values(args), batch, new_ids, result)
            raise

    # ---------------------------------------------------------------------------------- nodes

    def _put_nodes(
        self, repo: NodeRepository[Any], nodes: Sequence[Any], mask: Sequence[str] | None
    ) -> list[int]:
        nodes = _items(nodes, f"the {repo.kind.value.lower()}s to put")
        if mask is not None:
            mask = _items(mask, "field_mask_paths")
            for i, path in enumerate(mask):
                if not isinstance(path, str):  # an AttributeError from deep in the update
                    raise InvalidArgumentError(
                        f"field_mask_paths #{i}: a path is a str, got {type(path).__name__}"
                    )
        prepared = repo.prepare(nodes, field_mask=mask)
        batch = WriteBatch()
        if repo.kind == NodeKind.ARTIFACT:
            batch.artifacts = prepared
        elif repo.kind == NodeKind.EXECUTION:
            batch.executions = prepared
        else:
            batch.contexts = prepared
        try:
            self._writer.execute(batch)
        except EngineUnavailableError as exc:
            if not exc.nothing_written:  # (refused: its ids were given back)
                exc.in_doubt_result = list(prepared.ids)
            raise
        return prepared.ids

    def _put_execution_masked(
        self,
        execution: Execution,
        artifact_and_events: Sequence[tuple[Artifact, Event | None]],
        contexts: Sequence[Context],
        field_mask_paths: Sequence[str],
    ) -> tuple[int, list[int], list[int]]:
        """:meth:`put_execution` updating only the stored execution's fields that
        ``field_mask_paths`` names (a run's end: what another writer set on the execution
        while the run ran is kept), with its artifacts, events and context links, atomically."""
        mask = tuple(field_mask_paths)
        return self._once(
            "put_execution",
            (execution, artifact_and_events, contexts, (False, False), mask),
            lambda: self._composite.put_execution(
                execution, artifact_and_events, contexts, execution_mask=mask
            ),
        )

    def _put_executions_expecting(
        self,
        executions: Sequence[Execution],
        *,
        field_mask_paths: Sequence[str],
        expect: Mapping[str, Any],
    ) -> bool:
        """Masked updates written only if every execution still holds the stored values
        ``expect`` (encoded keys) when the write runs: False (nothing written) when one does
        not."""
        prepared = self._executions.prepare(executions, field_mask=field_mask_paths)
        for row in prepared.rows:
            row["expect"] = dict(expect)
        ids = [int(r["id"]) for r in prepared.rows]
        changed = False

        def check() -> None:  # after an aborted write: is one no longer as expected?
            nonlocal changed
            rows = self._executions.read(
                self._executions.q("get_write_state"), ranges=id_ranges(ids)
            )
            for row in rows:
                if any(row["node"].get(k) != v for k, v in expect.items()):
                    changed = True
                    return

        try:
            self._writer.execute(WriteBatch(executions=prepared, checks=[check]))
        except FailedPreconditionError:
            if changed:
                return False
            raise
        return True

    def put_artifacts(
        self, artifacts: Sequence[Artifact], *, field_mask_paths: Sequence[str] | None = None
    ) -> list[int]:
        """Insert (no ``id``) or update (``id`` set) artifacts; ids aligned with the input."""
        return self._once(
            "put_artifacts",
            (artifacts, field_mask_paths),
            lambda: self._put_nodes(self._artifacts, artifacts, field_mask_paths),
        )

    def put_executions(
        self, executions: Sequence[Execution], *, field_mask_paths: Sequence[str] | None = None
    ) -> list[int]:
        return self._once(
            "put_executions",
            (executions, field_mask_paths),
            lambda: self._put_nodes(self._executions, executions, field_mask_paths),
        )

    def put_contexts(
        self, contexts: Sequence[Context], *, field_mask_paths: Sequence[str] | None = None
    ) -> list[int]:
        return self._once(
            "put_contexts",
            (contexts, field_mask_paths),
            lambda: self._put_nodes(self._contexts, contexts, field_mask_paths),
        )

    def put_artifact(self, artifact: Artifact) -> int:
        return self.put_artifacts([artifact])[0]

    def put_execution_node(self, execution: Execution) -> int:
        return self.put_executions([execution])[0]

    def put_context(self, context: Context) -> int:
        return self.put_contexts([context])[0]

    def count(self, kind: NodeKind) -> int:
        """How many artifacts, executions or contexts the store holds."""
        return self._repository_of(_node_kind(kind)).count()

    def _repository_of(self, kind: NodeKind) -> NodeRepository[Any]:
        """The repository of ``kind``'s nodes (for the store's own modules: the pipeline's
        property check, the MLMD adapter's reads by kind)."""
        if kind == NodeKind.ARTIFACT:
            return self._artifacts
        return self._executions if kind == NodeKind.EXECUTION else self._contexts

    def get_artifacts_by_id(self, ids: Iterable[int]) -> list[Artifact]:
        return self._artifacts.get_by_ids(ids)

    def get_executions_by_id(self, ids: Iterable[int]) -> list[Execution]:
        return self._executions.get_by_ids(ids)

    def get_contexts_by_id(self, ids: Iterable[int]) -> list[Context]:
        return self._contexts.get_by_ids(ids)

    def iter_nodes(
        self,
        kind: NodeKind,
        *,
        after_id: int = 0,
        type_name: str | None = None,
        page_size: int = 1000,
    ) -> Iterator[Artifact] | Iterator[Execution] | Iterator[Context]:
        """The artifacts, executions or contexts with ids above ``after_id`` (of every version of
        the type ``type_name`` when given), in id order, read lazily ``page_size`` at a time
        from windows of an index range on the id: what is not iterated is not read, and a
        later start costs what the first does (no rows are skipped to reach it)."""
        kind = _node_kind(kind)
        # Both go to the engine (a range bound, a LIMIT): a str or None raised a bare
        # TypeError, a float page size failed in the engine (QueryError), and after_id=1.5 or
        # True was taken as a number (`id > true` is null on Neo4j, 1 on FalkorDB's index).
        for name, value, least in (("after_id", after_id, 0), ("page_size", page_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidArgumentError(f"{name} must be an int >= {least}, got {shown(value)}")
        if type_name is not None and not isinstance(type_name, str):  # it matched nothing
            raise InvalidArgumentError(f"type_name is a str or None, got {shown(type_name)}")
        after_id, page_size = int(after_id), int(page_size)
        if after_id >= INT64_MAX:  # no id lies above (Neo4j's driver cannot send a larger one)
            return iter(())
        # FalkorDB 4.16's LIMIT keeps 32 bits (2**32 listed nothing); a page is read lazily
        # whatever its size, so a larger one changes nothing but that.
        page_size = min(page_size, MAX_PAGE_SIZE)
        type_ids = None
        if type_name is not None:
            type_ids = [t.id or 0 for t in self.get_types(kind) if t.name == type_name]
        return self._repository_of(kind).iterate(page_size, after_id, type_ids)

    def get_artifacts(self) -> list[Artifact]:
        return list(self._artifacts.iterate())

    def get_executions(self) -> list[Execution]:
        return list(self._executions.iterate())

    def get_contexts(self) -> list[Context]:
        return list(self._contexts.iterate())

    def get_artifacts_by_type(
        self, type_name: str, type_version: str | None = None
    ) -> list[Artifact]:
        return self._artifacts.get_by_type(type_name, type_version)

    def get_executions_by_type(
        self, type_name: str, type_version: str | None = None
    ) -> list[Execution]:
        return self._executions.get_by_type(type_name, type_version)

    def get_contexts_by_type(
        self, type_name: str, type_version: str | None = None
    ) -> list[Context]:
        return self._contexts.get_by_type(type_name, type_version)

    def get_artifact_by_type_and_name(
        self, type_name: str, name: str, type_version: str | None = None
    ) -> Artifact | None:
        return self._artifacts.get_by_type_and_name(type_name, name, type_version)

    def get_execution_by_type_and_name(
        self, type_name: str, name: str, type_version: str | None = None
    ) -> Execution | None:
        return self._executions.get_by_type_and_name(type_name, name, type_version)

    def get_context_by_type_and_name(
        self, type_name: str, name: str, type_version: str | None = None
    ) -> Context | None:
        return self._contexts.get_by_type_and_name(type_name, name, type_version)

    def get_contexts_by_name(self, name: str) -> list[Context]:
        """The contexts named ``name``, of every type and type version, by id: one read of the
        name index (``lineage-graph ls --context NAME`` read two per context type for it)."""
        if not isinstance(name, str):
            raise InvalidArgumentError(f"a name is a str, got {shown(name)}")
        return self._contexts.fetch("contexts/get_by_name", name=name)

    def get_artifacts_by_external_ids(self, external_ids: Iterable[str]) -> list[Artifact]:
        return self._artifacts.get_by_external_ids(external_ids)

    def get_executions_by_external_ids(self, external_ids: Iterable[str]) -> list[Execution]:
        return self._executions.get_by_external_ids(external_ids)

    def get_contexts_by_external_ids(self, external_ids: Iterable[str]) -> list[Context]:
        return self._contexts.get_by_external_ids(external_ids)

    def get_artifacts_by_uri(self, uri: str) -> list[Artifact]:
        if not isinstance(uri, str):
            raise InvalidArgumentError(f"uri must be a str: {shown(uri)}")
        query = "artifacts/get_by_uri" if indexable(uri) else "artifacts/get_by_uri_unindexed"
        return self._artifacts.fetch(query, uri=uri)

    def get_artifacts_by_context(self, context_id: int) -> list[Artifact]:
        return self._artifacts.fetch_by_one_id("artifacts/get_by_context", context_id=context_id)

    def get_executions_by_context(self, context_id: int) -> list[Execution]:
        return self._executions.fetch_by_one_id("executions/get_by_context", context_id=context_id)

    def get_contexts_by_artifact(self, artifact_id: int) -> list[Context]:
        return self._contexts.fetch_by_one_id("contexts/get_by_artifact", artifact_id=artifact_id)

    def get_contexts_by_execution(self, execution_id: int) -> list[Context]:
        return self._contexts.fetch_by_one_id(
            "contexts/get_by_execution", execution_id=execution_id
        )

    def get_parent_contexts_by_context(self, context_id: int) -> list[Context]:
        return self._contexts.fetch_by_one_id("contexts/get_parents", context_id=context_id)

    def get_children_contexts_by_context(self, context_id: int) -> list[Context]:
        return self._contexts.fetch_by_one_id("contexts/get_children", context_id=context_id)

    # ---------------------------------------------------------------------------- relationships

    def put_events(self, events: Sequence[Event]) -> None:
        """Record events; both ends must exist (InvalidArgumentError); an (artifact, execution,
        type) stored already fails (AlreadyExistsError: events are immutable), also when another
        writer stored it since the caller looked. Checked by the write itself: nothing of a
        failed call is written."""
        events = _items(events, "events")

        def write() -> None:
            inputs, outputs, check = self._relations.prepare_events(events, now=now_ms())
            self._writer.execute(WriteBatch(inputs=inputs, outputs=outputs, checks=[check]))

        self._once("put_events", (events,), write)

    def put_attributions_and_associations(
        self, attributions: Sequence[Attribution], associations: Sequence[Association]
    ) -> None:
        """Link artifacts and executions to contexts (an existing link is a no-op)."""
        attributions = _items(attributions, "attributions")
        associations = _items(associations, "associations")
        attr, assoc, check = self._relations.prepare_links(attributions, associations)
        self._writer.execute(WriteBatch(attributions=attr, associations=assoc, checks=[check]))

    def put_parent_contexts(self, parent_contexts: Sequence[ParentContext]) -> None:
        """Nest contexts; duplicates and cycles are rejected, also when another writer linked
        the contexts since they were read (the write checks again and writes nothing)."""
        parent_contexts = _items(parent_contexts, "parent_contexts")
        self._once(
            "put_parent_contexts", (parent_contexts,), lambda: self._link_parents(parent_contexts)
        )

    def _link_parents(self, parent_contexts: list[ParentContext]) -> None:
        relations = self._relations
        for _ in range(_PARENT_LINK_ATTEMPTS):
            seen = relations.parent_links_version()
            rows = relations.prepare_parents(parent_contexts)

            def check(seen: int = seen) -> None:  # after an aborted write: read again
                relations.prepare_parents(parent_contexts)
                if relations.parent_links_version() != seen:
                    raise ParentLinksChanged("parent links were written meanwhile")

            try:
                self._writer.execute(WriteBatch(parents=rows, parents_seen=seen, checks=[check]))
                return
            except ParentLinksChanged:
                continue  # another writer linked contexts since the check: check again
        raise FailedPreconditionError(
            f"parent links kept changing while these were checked ({_PARENT_LINK_ATTEMPTS} "
            "tries); nothing was written"
        )

    def get_events_by_artifact_ids(self, ids: Iterable[int]) -> list[Event]:
        return self._relations.events_by_artifact_ids(ids)

    def get_events_by_execution_ids(self, ids: Iterable[int]) -> list[Event]:
        return self._relations.events_by_execution_ids(ids)

    # ------------------------------------------------------------------------------ composite

    def put_execution(
        self,
        execution: Execution,
        artifact_and_events: Sequence[tuple[Artifact, Event | None]] = (),
        contexts: Sequence[Context] = (),
        *,
        reuse_context_if_already_exist: bool = False,
        reuse_artifact_if_already_exist_by_external_id: bool = False,
    ) -> tuple[int, list[int], list[int]]:
        """Record an execution with its input/output artifacts, events and contexts atomically.

        With ``reuse_context_if_already_exist``, a given context whose type and name are stored
        is linked as it is stored (its fields are not updated), as in MLMD. Returns
        ``(execution_id, artifact_ids, context_ids)``.
        """
        _flags(reuse_context_if_already_exist, reuse_artifact_if_already_exist_by_external_id)
        _nodes_of([execution], Execution, "execution")
        pairs = _tuples(
            artifact_and_events, 2, "artifact_and_events", "an (Artifact, Event or None) pair"
        )
        for i, (artifact, event) in enumerate(pairs):
            _nodes_of([artifact], Artifact, f"artifact_and_events #{i}")
            if event is not None:
                _event_of(event, f"artifact_and_events #{i}", "an Event or None")
        contexts = _nodes_of(_items(contexts, "contexts"), Context, "contexts")
        reuse = (reuse_context_if_already_exist, reuse_artifact_if_already_exist_by_external_id)
        return self._once(
            "put_execution",
            (execution, pairs, contexts, reuse),
            lambda: self._composite.put_execution(
                execution,
                pairs,
                contexts,
                reuse_context_if_already_exist=reuse_context_if_already_exist,
                reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
            ),
        )

    def put_lineage_subgraph(
        self,
        executions: Sequence[Execution],
        artifacts: Sequence[Artifact],
        contexts: Sequence[Context],
        event_edges: Sequence[EventEdge],
        *,
        reuse_context_if_already_exist: bool = False,
        reuse_artifact_if_already_exist_by_external_id: bool = False,
    ) -> tuple[list[int], list[int], list[int]]:
        """Many executions, artifacts, contexts and events in one atomic write."""
        _flags(reuse_context_if_already_exist, reuse_artifact_if_already_exist_by_external_id)
        edges = _tuples(
            event_edges, 3, "event_edges", "an (execution index, artifact index, Event) triple"
        )
        for i, (execution_index, artifact_index, event) in enumerate(edges):
            edges[i] = (_edge_index(i, execution_index), _edge_index(i, artifact_index), event)
            _event_of(event, f"event_edges #{i}", "an Event")
        nodes = (
            _nodes_of(_items(executions, "executions"), Execution, "executions"),
            _nodes_of(_items(artifacts, "artifacts"), Artifact, "artifacts"),
            _nodes_of(_items(contexts, "contexts"), Context, "contexts"),
        )
        reuse = (reuse_context_if_already_exist, reuse_artifact_if_already_exist_by_external_id)
        return self._once(
            "put_lineage_subgraph",
            (*nodes, edges, reuse),
            lambda: self._composite.put_lineage_subgraph(
                *nodes,
                edges,
                reuse_context_if_already_exist=reuse_context_if_already_exist,
                reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
            ),
        )

    # ------------------------------------------------------------------------------- lineage
    # (issue 3: upstream / downstream / lineage / impact / compare / lineage_diff; each a thin
    #  delegation to lineage_graph/lineage/)

    def lineage(
        self,
        start: StartLike | Iterable[StartLike],
        *,
        direction: Direction | str = Direction.BOTH,
        max_hops: int | None = None,
        where: NodeFilter | None = None,
        stop_at: NodeFilter | None = None,
        include_stop: bool = True,
        include_contexts: bool = False,
        as_of: int | dt.datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> LineageGraph:
        """Everything connected to the start nodes by events, each node visited once.

        ``direction``: upstream (where it came from), downstream (what it affected), both, or
        any (each hop either way, MLMD's BIDIRECTIONAL). ``max_hops``: None for unbounded; a hop
        is one event edge. ``where`` selects the nodes returned (the walk still passes through
        the others); the walk does not go beyond nodes matching ``stop_at`` (returned if
        ``include_stop``). ``as_of``: only events recorded up to then. ``limit``: nodes per page;
        ``result.complete`` is False while more remain, and ``cursor=result.cursor`` continues.
        """
        from .lineage._filter import as_refs
        from .lineage._traverse import LineageQuery, as_of_ms

        query = LineageQuery(
            starts=tuple(as_refs(start)),
            direction=direction,  # type: ignore[arg-type]  # validated (str accepted)
            max_hops=max_hops,
            where=where,
            stop_at=stop_at,
            include_stop=include_stop,
            include_contexts=include_contexts,
            as_of=as_of_ms(as_of),
            limit=limit,
        )
        return self._lineage.run(query, cursor)

    def upstream(self, start: StartLike | Iterable[StartLike], **options: Any) -> LineageGraph:
        """Where the start nodes came from: :meth:`lineage` with ``direction="upstream"``."""
        return self.lineage(start, direction=Direction.UPSTREAM, **options)

    def downstream(self, start: StartLike | Iterable[StartLike], **options: Any) -> LineageGraph:
        """What the start nodes affected: :meth:`lineage` with ``direction="downstream"``."""
        return self.lineage(start, direction=Direction.DOWNSTREAM, **options)

    def impact(self, source: StartLike, *, mark: ImpactMark | None = None) -> ImpactReport:
        """Everything downstream of ``source`` (a bad dataset): artifacts, executions and the
        contexts (runs, pipelines) touched, grouped by type with counts. With ``mark``, every
        affected artifact (the source too) gets the mark's state and/or custom property in one
        atomic write; ``report.mark_token`` undoes it (:meth:`undo_impact_mark`)."""
        from .lineage._filter import as_refs

        if isinstance(source, str | bytes) or not isinstance(
            source, Artifact | Execution | NodeRef
        ):
            raise InvalidArgumentError("impact() takes one artifact or execution")
        (ref,) = as_refs(source)
        return self._impact.impact(ref, mark)

    def undo_impact_mark(self, token: str) -> int:
        """Undo :meth:`impact`'s mark atomically; artifacts updated since are left as they are.
        Returns how many artifacts were restored. Marks are undone newest first: a mark that a
        newer one not yet undone is stacked on is :class:`FailedPreconditionError` (nothing
        changes); an unknown or undone token :class:`NotFoundError`."""
        return self._impact.undo_mark(token)

    def compare(self, a: Artifact | int, b: Artifact | int) -> ArtifactDiff:
        """The differences between two artifacts of one type (fields and properties)."""
        from .lineage._impact import compare

        first, second = (self._stored_artifact(x) for x in (a, b))
        return compare(first, second)

    def lineage_diff(self, a: StartLike, b: StartLike) -> LineageDiff:
        """Which upstream nodes only ``a`` depends on, only ``b`` does, and which they share."""
        from .lineage._filter import as_refs
        from .lineage._impact import lineage_diff

        refs_a, refs_b = as_refs(a), as_refs(b)
        if len(refs_a) != 1 or len(refs_b) != 1:
            raise InvalidArgumentError("lineage_diff() compares one node with one node")
        return lineage_diff(self._lineage, refs_a[0], refs_b[0])

    def _stored_artifact(self, artifact: Artifact | int) -> Artifact:
        from .lineage._filter import ref_of

        if isinstance(artifact, int):
            ident = artifact
        else:
            ref = ref_of(artifact)
            if ref.kind is not NodeKind.ARTIFACT:  # else the artifact with the same id compared
                raise InvalidArgumentError(f"compare() takes artifacts, not {ref}")
            ident = ref.id
        found = self._artifacts.get_by_ids([ident])
        if not found:
            raise NotFoundError(f"no artifact {ident}")
        return found[0]

    # ------------------------------------------------------------------ same inputs / context
    # (issue 3: find_cached_execution / context_graph; thin delegations to
    #  lineage_graph/_repositories/cache.py)

    def find_cached_execution(
        self,
        execution_type: str | ExecutionType,
        inputs: CacheInputs,
        *,
        properties: Mapping[str, Any] | None = None,
        declared_properties: Mapping[str, Any] | None = None,
        custom_properties: Mapping[str, Any] | None = None,
        by_fingerprint: bool = True,
        type_version: str | None = None,
        explain: bool = True,
    ) -> CacheResult:
        """ "Same inputs before": the newest COMPLETE or CACHED execution of ``execution_type``
        whose INPUT artifacts are exactly ``inputs`` (a collection is a set: order does not
        matter; by role, ``{key: artifact or [artifacts]}``, each must have been read in that
        role, as :meth:`run` records it), with its outputs; an execution with an output deleted,
        abandoned or marked for deletion is passed over. With ``by_fingerprint``, inputs also
        match artifacts with the same ``digest``
        (declared or custom string property), so a re-produced identical dataset still hits.
        ``properties``: ``{name: value}`` the execution must hold (declared or custom; ``None``:
        must not hold); ``declared_properties`` / ``custom_properties`` the same for declared /
        custom properties only (what :meth:`run` and :meth:`step` compare: the declared ones,
        never a metric logged under the same name). On a miss, the result explains it (nearest
        execution, differing inputs and properties) unless ``explain=False``. An index lookup:
        its cost does not grow with the number of executions. Rules:
        :mod:`lineage_graph._repositories.cache`."""
        for flag, value in (("by_fingerprint", by_fingerprint), ("explain", explain)):
            if not isinstance(value, bool):  # by_fingerprint="no" matched by digest
                raise InvalidArgumentError(f"{flag} is True or False, got {shown(value)}")
        return self._cache.find(
            execution_type,
            inputs,
            properties=properties,
            declared_properties=declared_properties,
            custom_properties=custom_properties,
            by_fingerprint=by_fingerprint,
            type_version=type_version,
            explain=explain,
        )

    def context_graph(
        self,
        context: Context | int | tuple[str, str] | NodeRef,
        *,
        include_children: bool = False,
    ) -> LineageGraph:
        """Everything recorded in a run or experiment, for visualisation: the executions
        associated with ``context`` (a Context, its id, its ``NodeRef`` or ``(type name,
        name)``), the artifacts attributed to it and those the executions read or wrote, with
        their events, attributions and associations. ``include_children`` adds the contexts
        nested below it (any depth)."""
        if isinstance(context, NodeRef):  # what lineage() points a context's NodeRef to
            if context.kind is not NodeKind.CONTEXT:
                raise InvalidArgumentError(
                    f"context_graph() takes a context, not {context}: use lineage() for a node"
                )
            context = context.id
        if not isinstance(include_children, bool):  # "no" was read as True
            raise InvalidArgumentError(
                f"include_children must be True or False: {shown(include_children)}"
            )
        data = self._cache.context_graph(context, include_children=include_children)
        return LineageGraph(
            artifacts=data.artifacts,
            executions=data.executions,
            events=data.events,
            contexts=data.contexts,
            attributions=data.attributions,
            associations=data.associations,
        )

    # ------------------------------------------------------------------------------ pipeline
    # (issue 6: run(...) / step(...) / tracker surface; delegations to lineage_graph/pipeline/)

    def run(
        self,
        execution_type: str,
        *,
        inputs: Inputs | None = None,
        context: ContextLike | Sequence[ContextLike] | None = None,
        properties: Mapping[str, Any] | None = None,
        custom_properties: Mapping[str, Any] | None = None,
        name: str | None = None,
        context_type: str = "Experiment",
        cache: bool = True,
        git: bool | str | os.PathLike[str] = False,
    ) -> Run:
        """Record one pipeline step: ``with store.run("Trainer", inputs=[data]) as run: ...;
        run.output(model)``: RUNNING on entry, COMPLETE (FAILED on an exception) on exit;
        ``run.cached`` tells whether the same inputs and properties ran before.
        See :mod:`lineage_graph.pipeline`."""
        from .pipeline import Run

        return Run(
            self,
            execution_type,
            inputs=inputs,
            context=context,
            properties=properties,
            custom_properties=custom_properties,
            name=name,
            context_type=context_type,
            cache=cache,
            git=os.fspath(git) if isinstance(git, os.PathLike) else git,
        )

    def step(
        self,
        execution_type: str | None = None,
        *,
        context: ContextLike | Sequence[ContextLike] | None = None,
        properties: Mapping[str, Any] | None = None,
        context_type: str = "Experiment",
        cache: bool = False,
        record_args: bool = True,
        git: bool | str | os.PathLike[str] = False,
    ) -> StepDecorator:
        """Decorator form of :meth:`run` (``@store.step("Trainer")``): each call is a recorded
        run; artifact arguments are its inputs and returned artifacts its outputs."""
        from .pipeline import step

        return step(
            self,
            execution_type,
            context=context,
            properties=properties,
            context_type=context_type,
            cache=cache,
            record_args=record_args,
            git=os.fspath(git) if isinstance(git, os.PathLike) else git,
        )

    @property
    def tracker(self) -> Tracker:
        """Model versions, deployments, winning experiments, git info (MLflow-style)."""
        from ._tracker import Tracker

        return Tracker(self)

    # ----------------------------------------------------------------------------- retention
    # (issue 7: retention / admin; thin delegations to lineage_graph/_repositories/retention.py)

    def plan_retention(
        self,
        *,
        kinds: Iterable[NodeKind] | NodeKind | None = None,
        created_before: int | dt.datetime | None = None,
        updated_before: int | dt.datetime | None = None,
        types: Iterable[str] | None = None,
        artifact_states: Iterable[ArtifactState] | None = None,
        execution_states: Iterable[ExecutionState] | None = None,
    ) -> RetentionPlan:
        """The retention dry run: which artifacts/executions would be deleted (islands cut off
        from everything that stays) and which tombstoned (kept, emptied, so lineage still
        passes through them). Reads only. See docs/reliability.md#retention."""
        retention = Retention(self.backend, self._types)
        criteria = {"kinds": kinds} if kinds is not None else {}
        policy = retention.policy(
            created_before=created_before,
            updated_before=updated_before,
            types=types,
            artifact_states=artifact_states,
            execution_states=execution_states,
            **criteria,
        )
        return retention.plan(policy)

    def apply_retention(
        self,
        plan: RetentionPlan,
        *,
        archive: str | os.PathLike[str] | None = None,
        batch_size: int | None = 1000,
    ) -> RetentionResult:
        """Carry out a plan from :meth:`plan_retention`. With ``archive``, the full records
        (node, events, context ids) are appended to that JSON-lines file and fsynced first.
        Each batch of whole islands and tombstones is one atomic statement."""
        return Retention(self.backend, self._types).apply(
            plan, archive=archive, batch_size=batch_size
        )

    @staticmethod
    def read_retention_archive(path: str | os.PathLike[str]) -> list[ArchivedRecord]:
        """The records of an archive written by :meth:`apply_retention`, as models."""
        return list(read_archive(path))


def _node_kind(kind: str) -> NodeKind:
    """``kind`` as a NodeKind (its value, e.g. ``"Artifact"``, is accepted too)."""
    try:
        return NodeKind(kind)
    except ValueError:
        raise InvalidArgumentError(
            f"kind must be one of {[k.value for k in NodeKind]}, got {shown(kind)}"
        ) from None


def _type_of(value: object, model: type[NodeType], call: str) -> None:
    """``put_artifact_type(ExecutionType(...))`` registered an execution type without a word
    (MLMD's client refuses a message of another class): a type of another kind is refused.
    Anything that is no type at all is left to :meth:`LineageStore.put_type` to refuse."""
    if isinstance(value, ArtifactType | ExecutionType | ContextType) and not isinstance(
        value, model
    ):
        kind = type(value).__name__
        right = {"ArtifactType": "artifact", "ExecutionType": "execution"}.get(kind, "context")
        raise InvalidArgumentError(
            f"{call} registers {model.__name__}s only, got the {kind} {shown(value.name)}: "
            f"use put_{right}_type (or put_type); nothing was written"
        )


def _items(value: Any, what: str) -> list[Any]:
    """A write's collection argument, as a list: None, a string, a mapping or anything not
    iterable is InvalidArgumentError. Such a value escaped as a TypeError from deep in the
    write (put_artifacts(None)), or was taken for "nothing" (put_parent_contexts(None) or {});
    a generator was read up by the first check, and the re-check after an aborted write saw
    nothing."""
    if type(value) is list or type(value) is tuple:  # (most calls: none of the refused kinds)
        return list(value)
    if value is None or isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidArgumentError(f"{what} must be a list, got {type(value).__name__}")
    return list(value)


def _flags(*values: object) -> None:
    """The reuse flags of a composite write: a non-bool ("no") was taken as true (it reused)."""
    for value in values:
        if not isinstance(value, bool):
            raise InvalidArgumentError(f"a reuse flag is True or False, got {shown(value)}")


def _tuples(values: Any, size: int, what: str, shape: str) -> list[Any]:
    """``values``, each a tuple (or list) of ``size`` items, as tuples: another value escaped as
    an unpacking ValueError or an AttributeError deep in a composite write."""
    out = []
    for i, value in enumerate(_items(values, what)):
        if not isinstance(value, tuple | list) or len(value) != size:
            raise InvalidArgumentError(f"{what} #{i}: expected {shape}, got {type(value).__name__}")
        out.append(tuple(value))
    return out


def _edge_index(i: int, index: Any) -> int | None:
    """An event edge's index as ml_metadata's client takes it (its request's int32 field,
    measured on 1.17.1): None, or anything with ``__index__`` (a numpy integer, an IntEnum, a
    bool as 0 or 1) as its plain int; a numpy integer was refused here although MLMD takes it.
    A float or a str is refused, as MLMD's TypeError."""
    if index is None:
        return None
    try:
        return operator.index(index)
    except TypeError:
        raise InvalidArgumentError(
            f"event_edges #{i}: an index is an int or None, got {type(index).__name__} "
            f"{shown(index)}"
        ) from None


def _event_of(value: object, what: str, expected: str) -> None:
    if not isinstance(value, Event):
        raise InvalidArgumentError(f"{what}: expected {expected}, got {type(value).__name__}")


def _nodes_of(items: list[Any], model: type[Node], what: str) -> list[Any]:
    """``items``, each a ``model``: another value escaped as an AttributeError from the reuse
    look-ups of a composite write (before the nodes were checked)."""
    for i, item in enumerate(items):
        if not isinstance(item, model):
            raise InvalidArgumentError(
                f"{what} #{i}: expected {model.__name__}, got {type(item).__name__}"
            )
    return items
