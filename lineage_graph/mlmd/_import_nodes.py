"""The copy of MLMD's types and nodes into a store (:class:`_NodeCopy`): in MLMD id order, in
batches, MLMD's ids kept in an empty store; in a merge each node's twin updated in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..models import Node as NodeModel
from ..models import NodeKind
from ..store import LineageStore
from ._import_rows import _SEQUENCE, Progress, _chunks, _NativeWriter, _times
from ._import_twins import _Twins

if TYPE_CHECKING:
    from ._importer import ImportReport


class _NodeCopy:
    """Writes MLMD's types and nodes into ``store`` (the target, or the staged graph) through
    ``writer``, each node's twin found by ``twins``, the new ids into ``type_map`` and
    ``node_map`` and the counts into ``report``; ``kept_max``: the largest MLMD id kept, per id
    sequence (:func:`_kept_max`)."""

    def __init__(
        self,
        store: LineageStore,
        writer: _NativeWriter,
        twins: _Twins,
        report: ImportReport,
        progress: Progress,
        kept_max: dict[str, int],
        type_map: dict[tuple[NodeKind, int], int],
        node_map: dict[NodeKind, dict[int, int]],
    ) -> None:
        self.store = store
        self.writer = writer
        self.twins = twins
        self.report = report
        self.progress = progress
        self.kept_max = kept_max
        self.type_map = type_map
        self.node_map = node_map

    def import_types(self, types: list[tuple[NodeKind, Any]]) -> None:
        from ._convert import to_type

        for done, (kind, msg) in enumerate(types, start=1):
            model = to_type(kind, msg).model_copy(update={"id": None})
            kept = self.twins.empty and msg.id <= self.kept_max["Type"]
            self.report.ids_past_exact += int(self.twins.empty and not kept)
            new_id = self.writer.put_type(model, msg.id if kept else None)
            self.type_map[(kind, msg.id)] = new_id
            self.report.id_map.setdefault(f"{kind.value}Type", {})[msg.id] = new_id
            if new_id != msg.id:
                self.report.ids_preserved = False
            self.progress("types", done, len(types))
        self.report.types = len(types)

    def import_nodes(self, kind: NodeKind, msgs: list[Any]) -> None:
        from ._convert import to_node

        msgs = sorted(msgs, key=lambda m: m.id)
        total = len(msgs)
        done = 0
        for chunk in _chunks(msgs):
            self.twins.read_unmarked(kind, chunk)
            models: list[NodeModel] = []
            times: list[tuple[int | None, int | None]] = []
            pending_new: list[int] = []
            own: list[int] = []  # positions of contexts of the target's own (matched by name)
            for msg in chunk:
                model = to_node(kind, msg).model_copy(
                    update={"id": None, "type_id": self.type_map[(kind, msg.type_id)]}
                )
                twin = self.twins.existing(kind, msg, model)
                if twin is not None:
                    model = model.model_copy(update={"id": twin})
                    if kind == NodeKind.CONTEXT and twin not in self.twins.copied[kind]:
                        own.append(len(models))
                else:
                    pending_new.append(msg.id)
                models.append(model)
                times.append(_times(msg))
            origins: list[str | None] = [f"{self.twins.prefix}{m.id}" for m in chunk]
            if own:
                self._keep_own_contexts(chunk, own, models, times, origins)
            self._count_twins(kind, chunk, models, times)
            if self.twins.empty:
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
                and (kind, chunk[i].id) in self.twins.imported  # else it gains its origin
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
