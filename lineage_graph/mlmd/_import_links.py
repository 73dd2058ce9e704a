"""The copy of MLMD's events and links (attributions, associations, parent contexts) into a
store once its nodes are (:class:`_Relations`), in MLMD's order of them (:func:`read_events`,
:meth:`_Relations.mlmd_link_order`); in a merge, those the target holds already are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..exceptions import FailedPreconditionError, InvalidArgumentError, LineageGraphError
from ..models import Association, Attribution, Event, NodeKind, ParentContext
from ..store import LineageStore
from ._import_checks import _Judged
from ._import_rows import CHUNK, Progress, _chunks
from ._import_snapshot import _LINK_TABLES, _links_by_id

if TYPE_CHECKING:
    from ._importer import ImportReport

#: Linked nodes whose links' order one get_lineage_subgraph reads (MLMD starts from 101 at most).
_LINK_WINDOW = 100

_Link = TypeVar("_Link")


def read_events(mlmd: Any, nodes: dict[NodeKind, list[Any]]) -> list[Any]:
    """MLMD's events of these nodes, in MLMD's order of each execution's events (the order
    they were written there, which get_events_by_execution_ids keeps); read by artifact
    too, for an event whose execution the MLMD store does not hold."""
    artifact_ids = sorted(m.id for m in nodes[NodeKind.ARTIFACT])
    execution_ids = sorted(m.id for m in nodes[NodeKind.EXECUTION])
    msgs = list(mlmd.get_events_by_execution_ids(execution_ids) if execution_ids else [])
    seen = {(m.artifact_id, m.execution_id, m.type) for m in msgs}
    msgs += [
        m
        for m in (mlmd.get_events_by_artifact_ids(artifact_ids) if artifact_ids else [])
        if (m.artifact_id, m.execution_id, m.type) not in seen
    ]
    return msgs


def _in_order(
    links: list[_Link], keys: list[tuple[int, int]], order: dict[tuple[int, int], int]
) -> list[_Link]:
    """``links`` (each of the MLMD link ``keys`` names at its place) in MLMD's ``order`` of
    them (:meth:`_Relations.mlmd_link_order`); those it does not hold last, as they came."""
    return [
        link
        for _, link in sorted(
            enumerate(links),
            key=lambda p: order.get(keys[p[0]], len(order)),
        )
    ]


class _Relations:
    """Writes MLMD's events and links into ``store`` (the target, or the staged graph), read from
    ``mlmd``, between the copies ``node_map`` gives (MLMD id -> new id, per kind); ``empty``: the
    target was empty (nothing to skip); counts into ``report``. ``snapshot``: the SQLite copy
    read ("" for a source read live); ``keep_claim`` renews the import's claim between reads,
    ``parents`` reads MLMD's parent links (:meth:`_Importer.mlmd_parents`)."""

    def __init__(
        self,
        mlmd: Any,
        store: LineageStore,
        *,
        empty: bool,
        node_map: dict[NodeKind, dict[int, int]],
        report: ImportReport,
        progress: Progress,
        snapshot: str,
        keep_claim: Callable[[], None],
        parents: Callable[[Iterable[int]], dict[int, list[int]]],
    ) -> None:
        self.mlmd = mlmd
        self.store = store
        self.empty = empty
        self.node_map = node_map
        self.report = report
        self.progress = progress
        self.snapshot = snapshot
        self.keep_claim = keep_claim
        self.parents = parents

    def import_events(self, judged: list[_Judged]) -> None:
        """Copy MLMD's events, each with what :func:`check_events` judged of it (each is
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
        attributions: list[Attribution] = []
        associations: list[Association] = []
        parents: list[ParentContext] = []
        attr_keys: list[tuple[int, int]] = []  # MLMD's (node, context) ids of each link
        assoc_keys: list[tuple[int, int]] = []
        for done, cid in enumerate(context_ids, start=1):
            self._context_links(cid, attributions, attr_keys, associations, assoc_keys)
            parents += [
                ParentContext(
                    child_id=self.node_map[NodeKind.CONTEXT][cid],
                    parent_id=self._copied(NodeKind.CONTEXT, p, f"a parent of context {cid}"),
                )
                for p in self.parents([cid])[cid]
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
        attributions = _in_order(attributions, attr_keys, attr_order)
        associations = _in_order(associations, assoc_keys, assoc_order)
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

    def _context_links(
        self,
        cid: int,
        attributions: list[Attribution],
        attr_keys: list[tuple[int, int]],
        associations: list[Association],
        assoc_keys: list[tuple[int, int]],
    ) -> None:
        """MLMD context ``cid``'s attributions and associations, with their MLMD (node, context)
        ids, added to those of :meth:`import_links`."""
        new_c = self.node_map[NodeKind.CONTEXT][cid]
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
            execution_id = self._copied(NodeKind.EXECUTION, e.id, f"associated with context {cid}")
            if execution_id in held_e:
                self.report.skipped_relations += 1
                continue
            associations.append(Association(execution_id=execution_id, context_id=new_c))
            assoc_keys.append((e.id, cid))

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
        return self._walked_order(starting, links, keys)

    def _walked_order(
        self, starting: str, links: str, keys: list[tuple[int, int]]
    ) -> dict[tuple[int, int], int]:
        """:meth:`mlmd_link_order` from ``get_lineage_subgraph``'s walks, window by window."""
        from ml_metadata.proto import metadata_store_pb2

        pb: Any = metadata_store_pb2
        order: dict[tuple[int, int], int] = {}
        node = _LINK_TABLES[links][1]
        pending = sorted({n for n, _ in keys})
        # Every window listed in (context id, node id) order, read live (MySQL): a SQLite copy
        # whose link ids could not be read lists them by id, whose windows can each be in that
        # order too (one context each), and ranked so put a later window's links of context 1
        # before an earlier one's of context 2, which its walks list after them.
        by_index = not self.snapshot
        while pending:
            self.keep_claim()
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
