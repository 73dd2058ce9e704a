"""Atomic multi-entity writes: MLMD's ``put_execution`` and ``put_lineage_subgraph``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .._encoding import shown, shown_key
from ..exceptions import (
    AlreadyExistsError,
    EngineUnavailableError,
    InvalidArgumentError,
    OutOfRangeError,
)
from ..models import Artifact, Association, Attribution, Context, Event, Execution, Node
from ._base import now_ms
from .graph import GraphWriter, MissingReferencesError, WriteBatch
from .nodes import NodeRepository, mlmd_rules_apply
from .relations import RelationRepository

__all__ = ["CompositeWriter", "EventEdge"]

#: ``(execution index | None, artifact index | None, event)`` as in MLMD's put_lineage_subgraph.
EventEdge = tuple[int | None, int | None, Event]
N = TypeVar("N", bound=Node)


def _fold(
    nodes: Sequence[N], key: Callable[[N], object | None], merge: Callable[[N, N], N]
) -> tuple[list[N], list[int]]:
    """``nodes`` with the new ones sharing a key folded into one (``merge(first, later)``), and
    for each given node the position of the node it became: with a reuse flag MLMD writes the
    first and reuses it for the others, so one call may name the same new node twice."""
    folded: list[N] = []
    positions: list[int] = []
    first: dict[object, int] = {}
    for node in nodes:
        k = key(node)
        if k is not None and k in first:
            at = first[k]
            folded[at] = merge(folded[at], node)
            positions.append(at)
            continue
        if k is not None:
            first[k] = len(folded)
        positions.append(len(folded))
        folded.append(node)
    return folded, positions


def _update_of_new(first: Artifact, later: Artifact) -> Artifact:
    """MLMD's update of an artifact it has just written in the same call: same type, name kept."""
    if (later.type_id, later.type, later.type_version) != (
        first.type_id,
        first.type,
        first.type_version,
    ):
        raise InvalidArgumentError(
            f"artifact with external_id {shown_key(later.external_id)}: given type "
            f"{shown(later.type_id or later.type)} is different from the one known before "
            f"({shown(first.type_id or first.type)})"
        )
    return later.model_copy(update={"name": first.name})


def reuse_by_external_id(
    artifacts: Sequence[Artifact], lookup: Callable[[list[str]], Iterable[Artifact]]
) -> list[Artifact]:
    """``artifacts`` with each new one (no id) whose external id is stored given that artifact's
    id, as MLMD's ``reuse_artifact_if_already_exist_by_external_id`` makes it an update."""
    wanted = [a.external_id for a in artifacts if a.id is None and a.external_id]
    if not wanted:
        return list(artifacts)
    stored = {a.external_id: a.id for a in lookup(wanted)}
    return [
        a.model_copy(update={"id": stored[a.external_id]})
        if a.id is None and a.external_id in stored
        else a
        for a in artifacts
    ]


def _renames_to(context: Context) -> str | None:
    """The name ``context`` is given, if any: a reference (``model_construct(id=...)``, as
    force_reuse_context links a context) has no ``name`` attribute at all."""
    name = getattr(context, "name", None)
    return name if isinstance(name, str) else None


class CompositeWriter:
    def __init__(
        self,
        artifacts: NodeRepository[Artifact],
        executions: NodeRepository[Execution],
        contexts: NodeRepository[Context],
        relations: RelationRepository,
        writer: GraphWriter,
    ) -> None:
        self.artifacts = artifacts
        self.executions = executions
        self.contexts = contexts
        self.relations = relations
        self.writer = writer

    def _reuse_artifacts(self, artifacts: Sequence[Artifact]) -> list[Artifact]:
        return reuse_by_external_id(artifacts, self.artifacts.get_by_external_ids)

    def _reuse_contexts(self, contexts: Sequence[Context], reuse: bool) -> list[Context]:
        new = [c for c in contexts if c.id is None]
        if not new:
            return list(contexts)
        keys: list[tuple[int, str] | None] = []
        for c in new:
            t = self.contexts.types.resolve(self.contexts.kind, c.type_id, c.type, c.type_version)
            assert t.id is not None
            name = _renames_to(c)
            keys.append(None if name is None else (t.id, name))
        wanted = [key for key in keys if key is not None]
        found = self.contexts.get_by_type_and_names(wanted) if wanted else []
        stored = {
            (c.type_id, c.name): c.id for c in found if c.type_id is not None and c.id is not None
        }
        if stored and not reuse:
            (type_id, name), _ = next(iter(stored.items()))
            raise AlreadyExistsError(
                f"a context named {shown_key(name)} of type id {type_id} already exists (pass "
                "reuse_context_if_already_exist=True to reuse it)"
            )
        if not reuse:
            return list(contexts)
        # MLMD writes the contexts one by one: when it reaches a new one, an update earlier in
        # the call has renamed a stored context, which then holds its new name, not its old one
        # (a new context given that old name is new; one given the new name reuses it; renamed
        # twice, the last name counts). ``holders``: (type id, name) -> the stored context
        # holding it at that point of the call. The type of a context an update renames to a
        # name a new context names is read (one read, only then).
        holders = dict(stored)
        type_of = {ident: type_id for (type_id, _), ident in stored.items()}
        last_new = max(i for i, c in enumerate(contexts) if c.id is None)
        names = {name for _, name in wanted}
        unknown: set[int] = set()
        for c in contexts[:last_new]:
            renamed = _renames_to(c)
            if c.id is not None and renamed is not None and renamed in names:
                unknown.add(c.id)
        unknown -= type_of.keys()
        if unknown:
            for held in self.contexts.get_by_ids(unknown):
                if held.id is not None and held.type_id is not None:
                    type_of[held.id] = held.type_id
        out: list[Context] = []
        key_iter = iter(keys)
        for c in contexts:
            if c.id is None:
                key = next(key_iter)
                existing = None if key is None else holders.get(key)
                if existing is not None:  # linked as it is stored (MLMD): a reference
                    c = Context.model_construct(id=existing)
            elif c.id is not None and (renamed := _renames_to(c)) is not None and c.id in type_of:
                for gone in [k for k, ident in holders.items() if ident == c.id]:
                    del holders[gone]
                holders[(type_of[c.id], renamed)] = c.id
            out.append(c)
        return out

    def put_lineage_subgraph(
        self,
        executions: Sequence[Execution],
        artifacts: Sequence[Artifact],
        contexts: Sequence[Context],
        event_edges: Sequence[EventEdge],
        *,
        reuse_context_if_already_exist: bool = False,
        reuse_artifact_if_already_exist_by_external_id: bool = False,
        fold_new_artifacts: bool = False,
        artifact_mask: Sequence[str] | None = None,
        artifact_expect: Mapping[int, Mapping[str, Any]] | None = None,
        check: Callable[[], None] | None = None,
        servable: tuple[Sequence[int], Collection[int]] = ((), ()),
        execution_mask: Sequence[str] | None = None,
    ) -> tuple[list[int], list[int], list[int]]:
        """Upsert everything, link every node to every context, add the events: all or nothing.

        ``fold_new_artifacts`` (put_execution, which MLMD writes artifact by artifact): with the
        reuse flag, the same new artifact given twice is one artifact. ``artifact_mask``: the
        field mask of the artifacts' updates (the tracker's: only the fields it sets);
        ``execution_mask``, of the executions' (a run's end: what another writer set on its
        execution while it ran stays).
        ``artifact_expect``: per updated artifact id, stored values it must still hold when the
        write runs (a masked update only), else nothing is written; ``check`` then raises the
        caller's error (run first after an aborted write). ``servable``: (artifact ids, states):
        each artifact must exist and hold none of the states when the write runs, else
        nothing is written (``check`` likewise)."""
        # With a reuse flag, a context or an artifact another writer stored after this one
        # looked (AlreadyExistsError from the write, nothing written) is reused on the next
        # try. That try may lose a race for another of its keys (a third writer storing it
        # between the try's read and its write): each lost race leaves one more key stored,
        # so tries go on while the keys lost differ, at most once per key given plus one.
        # The same key lost twice is not a race that reuse resolves (e.g. a name another
        # artifact holds): raised. Only the write's own refusal is such a race: what is refused
        # before it (the same event twice in one write, two artifacts with one external id)
        # holds on every try, and is raised at once (its message may name ids each try takes,
        # so the lost-key test alone would not stop it).
        reuse = reuse_context_if_already_exist or reuse_artifact_if_already_exist_by_external_id
        attempts = 1
        if reuse:
            attempts += len(contexts) if reuse_context_if_already_exist else 0
            attempts += len(artifacts) if reuse_artifact_if_already_exist_by_external_id else 0
        lost: set[str] = set()
        for attempt in range(attempts):
            batch, result = self._put_subgraph(
                executions,
                artifacts,
                contexts,
                event_edges,
                reuse_contexts=reuse_context_if_already_exist,
                reuse_artifacts=reuse_artifact_if_already_exist_by_external_id,
                fold_artifacts=fold_new_artifacts,
                artifact_mask=artifact_mask,
                artifact_expect=artifact_expect,
                check=check,
                servable=servable,
                execution_mask=execution_mask,
            )
            try:
                self.writer.execute(batch)
            except EngineUnavailableError as exc:
                if not exc.nothing_written:  # (refused: its ids were given back)
                    exc.in_doubt_result = result  # the ids the caller gets had the reply come
                raise
            except AlreadyExistsError as exc:
                # Lost a race for a context name or an artifact's external id: the winner's
                # node now exists; reuse it.
                if attempt + 1 == attempts or str(exc) in lost:
                    raise
                lost.add(str(exc))
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _put_subgraph(
        self,
        executions: Sequence[Execution],
        artifacts: Sequence[Artifact],
        contexts: Sequence[Context],
        event_edges: Sequence[EventEdge],
        *,
        reuse_contexts: bool,
        reuse_artifacts: bool,
        fold_artifacts: bool = False,
        artifact_mask: Sequence[str] | None = None,
        artifact_expect: Mapping[int, Mapping[str, Any]] | None = None,
        check: Callable[[], None] | None = None,
        servable: tuple[Sequence[int], Collection[int]] = ((), ()),
        execution_mask: Sequence[str] | None = None,
    ) -> tuple[WriteBatch, tuple[list[int], list[int], list[int]]]:
        """The write of one try, not run (its new ids taken), and the ids it returns."""
        # Before the reuse look-ups, which key the nodes by these fields; once: the nodes
        # prepared below are these, copies of them or references by a stored id.
        self.executions.check_models(executions)
        self.artifacts.check_models(artifacts)
        self.contexts.check_models(contexts)
        now = now_ms()
        artifact_at = list(range(len(artifacts)))
        if reuse_artifacts:
            artifacts = self._reuse_artifacts(artifacts)
        # MLMD's rules (the adapter): put_execution writes node by node, so with a reuse flag the
        # same new node given twice is one node; the native API refuses it (AlreadyExistsError).
        mlmd = mlmd_rules_apply()
        if reuse_artifacts and fold_artifacts and mlmd:
            # the later artifact updates the first (its type must be the same; its name is kept)
            artifacts, artifact_at = _fold(
                artifacts,
                lambda a: a.external_id if a.id is None and a.external_id else None,
                _update_of_new,
            )

        def resolve(contexts: Sequence[Context]) -> tuple[list[Context], list[int]]:
            contexts = self._reuse_contexts(contexts, reuse_contexts)
            context_at = list(range(len(contexts)))
            if reuse_contexts and mlmd:  # the same new context twice: linked as first given
                contexts, context_at = _fold(
                    contexts,
                    lambda c: (c.type_id, c.type, c.type_version, c.name) if c.id is None else None,
                    lambda first, later: first,
                )
            return list(contexts), context_at

        # MLMD's order: put_lineage_subgraph upserts the contexts first; put_execution writes the
        # artifacts and the execution first, so a bad update of those is reported before a
        # context name already taken (no reuse flag).
        if not fold_artifacts:
            contexts, context_at = resolve(contexts)
        pe = self.executions.prepare(executions, now=now, field_mask=execution_mask, checked=True)
        try:
            pa = self.artifacts.prepare(artifacts, now=now, field_mask=artifact_mask, checked=True)
            try:
                if fold_artifacts:
                    contexts, context_at = resolve(contexts)
                pc = self.contexts.prepare(contexts, now=now, checked=True)
            except BaseException:
                self.artifacts.ids.release("Artifact", pa.new_ids)
                raise
        except BaseException:
            self.executions.ids.release("Execution", pe.new_ids)
            raise
        artifact_ids = [pa.ids[at] for at in artifact_at]
        for row in pa.rows:
            expected = (artifact_expect or {}).get(row["id"])
            if expected:
                if "patch" not in row:
                    raise AssertionError("artifact_expect needs a masked update (artifact_mask)")
                row["expect"] = dict(expected)
        batch = WriteBatch(artifacts=pa, executions=pe, contexts=pc)
        batch.servable = list(servable[0])
        batch.unservable = [int(state) for state in servable[1]]
        if check is not None:
            batch.checks.append(check)
        try:
            events: list[Event] = []
            for i, (e_index, a_index, event) in enumerate(event_edges):
                events.append(self._bind_event(i, e_index, a_index, event, pe.ids, artifact_ids))
            batch.inputs, batch.outputs, check = self.relations.prepare_events(
                events,
                now=now,
                new_artifacts=pa.new_ids,
                new_executions=pe.new_ids,
                # The events' and links' checks leave out the write's own nodes: a stored one
                # that prepare() read exists; one given by id alone (a reference, not read) that
                # does not is GraphWriter's NotFoundError, whatever part reads it.
                verified_artifacts=pa.ids,
                verified_executions=pe.ids,
            )
            batch.checks.append(check)
            batch.attributions, batch.associations, check = self.relations.prepare_links(
                [Attribution(artifact_id=a, context_id=c) for c in pc.ids for a in pa.ids],
                [Association(execution_id=e, context_id=c) for c in pc.ids for e in pe.ids],
                new_artifacts=pa.new_ids,
                new_executions=pe.new_ids,
                new_contexts=pc.new_ids,
                verified_artifacts=pa.ids,
                verified_executions=pe.ids,
                verified_contexts=pc.ids,
            )
            batch.checks.append(check)  # after the events': the order of the reads they replace
            # A context given by id alone must be stored before this write: one whose id the
            # write gives a new context of its own (the next id, named ahead) is missing, as
            # MLMD finds it (the write's own reference check would see the new one).
            unborn = sorted(set(pc.references) & set(pc.new_ids))
            if unborn:
                raise MissingReferencesError(
                    f"no context with id {', '.join(map(str, unborn))} (given by id alone, as "
                    "a reference to a stored one); nothing was written",
                    "context",
                    unborn,
                )
        except BaseException:
            for prepared in (pc, pa, pe):
                self.writer.ids.release(prepared.kind.value, prepared.new_ids)
            raise
        return batch, (pe.ids, artifact_ids, [pc.ids[at] for at in context_at])

    @staticmethod
    def _bind_event(
        i: int,
        e_index: int | None,
        a_index: int | None,
        event: Event,
        execution_ids: list[int],
        artifact_ids: list[int],
    ) -> Event:
        update: dict[str, Any] = {}
        for index, ids, field in (
            (e_index, execution_ids, "execution_id"),
            (a_index, artifact_ids, "artifact_id"),
        ):
            if index is None:
                if getattr(event, field) is None:
                    raise InvalidArgumentError(f"event edge #{i}: no index and no {field}")
                continue
            if not 0 <= index < len(ids):
                raise OutOfRangeError(f"event edge #{i}: {field} index {index} is out of range")
            given = getattr(event, field)
            if given is not None and given != ids[index]:
                raise InvalidArgumentError(
                    f"event edge #{i}: {field} {given} does not match the node at index {index}"
                )
            update[field] = ids[index]
        return event.model_copy(update=update)

    def put_execution(
        self,
        execution: Execution,
        artifact_and_events: Sequence[tuple[Artifact, Event | None]],
        contexts: Sequence[Context] = (),
        *,
        reuse_context_if_already_exist: bool = False,
        reuse_artifact_if_already_exist_by_external_id: bool = False,
        servable: tuple[Sequence[int], Collection[int]] = ((), ()),
        check: Callable[[], None] | None = None,
        execution_mask: Sequence[str] | None = None,
    ) -> tuple[int, list[int], list[int]]:
        """One execution with its artifacts, events and contexts, atomically (``servable``,
        ``check``, ``execution_mask``: as :meth:`put_lineage_subgraph`'s)."""
        artifacts = [a for a, _ in artifact_and_events]
        edges: list[EventEdge] = [
            (0, i, ev) for i, (_, ev) in enumerate(artifact_and_events) if ev is not None
        ]
        try:
            eids, aids, cids = self.put_lineage_subgraph(
                [execution],
                artifacts,
                contexts,
                edges,
                reuse_context_if_already_exist=reuse_context_if_already_exist,
                reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
                fold_new_artifacts=True,
                servable=servable,
                check=check,
                execution_mask=execution_mask,
            )
        except EngineUnavailableError as exc:
            if isinstance(exc.in_doubt_result, tuple):  # this call's shape of it
                eids, aids, cids = exc.in_doubt_result
                exc.in_doubt_result = (eids[0], aids, cids)
            raise
        return eids[0], aids, cids
