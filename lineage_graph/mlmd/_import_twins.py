"""Which node of the target an MLMD node already is, in a merge (:class:`_Twins`): a copy an
earlier import made from the same MLMD store (its ``mlmd_origin``), a copy by a version before
origins were recorded, or a context of the same type and name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._repositories._base import Repository
from ..models import Node as NodeModel
from ..models import NodeKind
from ..store import LineageStore
from ._import_rows import _KINDS

if TYPE_CHECKING:
    from .._repositories.nodes import NodeRepository


class _Twins:
    """The target's nodes that MLMD's nodes are already (read from ``store``, the target; the
    contexts by type and name through its ``repos``). ``empty``: the target is empty (no node
    has a twin, nothing is read)."""

    def __init__(
        self,
        store: LineageStore,
        repos: Mapping[NodeKind, NodeRepository[Any]],
        prefix: str,
        empty: bool,
    ) -> None:
        self.reads = Repository(store.backend)
        self.repos = repos
        #: ``<source key>#``: the ``mlmd_origin`` of a node copied from this MLMD store, before
        #: its MLMD id.
        self.prefix = prefix
        self.empty = empty
        #: Nodes an earlier import copied from this same MLMD store: (kind, MLMD id) -> id.
        self.imported: dict[tuple[NodeKind, int], int] = {}
        #: Artifacts and executions without an origin, by (kind, id): read per chunk in merges.
        self.unmarked: dict[tuple[NodeKind, int], dict[str, Any]] = {}
        #: The target's copies of MLMD nodes, per kind (the values of ``imported``).
        self.copied: dict[NodeKind, set[int]] = {k: set() for k in _KINDS}

    def begin(self, empty: bool) -> None:
        """Whether the target is ``empty``, and the nodes copied from this MLMD store before."""
        self.empty = empty
        if self.empty:
            return
        for row in self.reads.read("imports/origins", prefix=self.prefix):
            mlmd_id = int(str(row["origin"]).rpartition("#")[2])
            self.imported[(NodeKind(row["kind"]), mlmd_id)] = int(row["id"])
        for (kind, _), node_id in self.imported.items():
            self.copied[kind].add(node_id)

    def existing(self, kind: NodeKind, msg: Any, model: NodeModel) -> int | None:
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
        twins = self.repos[kind].get_by_type_and_names([(model.type_id, model.name)])
        return self.unclaimed(kind, twins[0].id) if twins else None

    def unclaimed(self, kind: NodeKind, node_id: int | None) -> int | None:
        """``node_id`` unless it is the copy of another MLMD node (its ``mlmd_origin``): a
        context renamed in MLMD whose old name a new one took is not that new one's twin."""
        return None if node_id is None or node_id in self.copied[kind] else node_id

    def read_unmarked(self, kind: NodeKind, chunk: Sequence[Any]) -> None:
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
