"""The checks an import makes before it writes anything (:class:`_Checks`): what the store
cannot hold (keys, texts, property values, a type no model holds), MLMD's events, parent links
that form a cycle and, in a merge, what the target's own nodes and types would refuse midway.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from pydantic import ValidationError

from .._repositories._base import Repository
from .._repositories.types import upgraded
from ..exceptions import AlreadyExistsError, InvalidArgumentError, NotFoundError
from ..models import Event, NodeKind, NodeType
from ..store import LineageStore
from ._import_rows import (
    _KINDS,
    CHUNK,
    _bad_text,
    _cannot_import,
    _check_text,
    _chunks,
    _NativeWriter,
    _stored_value,
    _Unindexable,
    _unindexable,
)
from ._import_twins import _Twins

#: An MLMD event as :func:`check_events` judged it: (the event, why it cannot be imported or "",
#: its model or None).
_Judged: TypeAlias = tuple[Any, str, Event | None]

#: What a merge's node check found of one kind: each MLMD id's twin (None: a new node), and the
#: MLMD nodes by the (target type id, name) and the external id they take.
_Keys: TypeAlias = tuple[dict[int, int | None], dict[tuple[int, str], Any], dict[str, Any]]


def check_events(msgs: list[Any]) -> list[_Judged]:
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


def _converted(convert: Callable[[], Any]) -> Any:
    """What ``convert`` gives; its ValidationError, ValueError or TypeError as
    :class:`InvalidArgumentError`."""
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


class _Checks:
    """The checks of one import into ``store`` (the target), through its ``writer``; ``twins``
    tells a merge's twins, ``parents`` reads MLMD's parent links (:meth:`_Importer.mlmd_parents`)
    and ``keep_claim`` renews the import's claim between batches of reads."""

    def __init__(
        self,
        store: LineageStore,
        writer: _NativeWriter,
        twins: _Twins,
        parents: Callable[[Iterable[int]], dict[int, list[int]]],
        keep_claim: Callable[[], None],
    ) -> None:
        self.store = store
        self.writer = writer
        self.twins = twins
        self.parents = parents
        self.keep_claim = keep_claim
        self.reads = Repository(store.backend)
        #: Artifacts with a uri or digest no index holds, by MLMD id (a merge checks their twins).
        self.long_values: dict[int, list[tuple[str, _Unindexable]]] = {}

    def check(self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]) -> None:
        """Refuse, before anything is written, what the store cannot hold: MLMD accepts names
        and external ids that no unique key here can (empty, over 4,096 bytes, ASCII whitespace
        at an end, U+0001), an indexed uri or digest over 4,096 bytes, and text with NUL. The
        error names the MLMD node. Each node and type is also converted as the copy will
        convert it: MLMD holds property names that are empty, which no model here can (they
        raised pydantic's ValidationError, or ValueError, from the copy: in a merge after its
        types were written). Struct values with NaN or infinity, which MLMD holds too, are
        copied as they are."""
        from ._convert import to_type

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
                    self._check_node(kind, msg, held, type_models)
                except InvalidArgumentError as exc:
                    raise _cannot_import(kind, msg.id, exc) from exc
        for kind, msg in types:
            try:
                self._check_type(kind, msg)
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(
                    f"MLMD {kind.value.lower()} type {msg.id} ({msg.name!r}) cannot be imported: "
                    f"{exc}; nothing was imported"
                ) from exc

    def _check_node(
        self,
        kind: NodeKind,
        msg: Any,
        held: set[tuple[NodeKind, int]],
        type_models: dict[tuple[NodeKind, int], NodeType | None],
    ) -> None:
        """:meth:`check` of one MLMD node (``held``: the types read; ``type_models``: each as a
        model, None for one no model holds)."""
        from .._encoding import check_key, check_text
        from ._convert import to_node

        if (kind, msg.type_id) not in held:  # a damaged database: a KeyError before
            raise InvalidArgumentError(
                f"its type id {msg.type_id} names no {kind.value.lower()} type of the MLMD store"
            )
        _check_text(msg)
        model = _converted(functools.partial(to_node, kind, msg))
        node_type = type_models[(kind, msg.type_id)]
        if node_type is not None:
            self.writer.check_values(kind, node_type, model)
        for name in ("name", "external_id"):
            if msg.HasField(name):
                check_key(name, getattr(msg, name))
        if kind == NodeKind.ARTIFACT and msg.HasField("uri"):
            check_text("uri", msg.uri)
        if kind == NodeKind.ARTIFACT and (long := _unindexable(msg)):
            if self.twins.empty:
                raise long[0][1]
            self.long_values[msg.id] = long  # its twin may hold it: check_merge

    def _check_type(self, kind: NodeKind, msg: Any) -> None:
        """:meth:`check` of one MLMD type."""
        from .._encoding import check_key, check_text
        from ._convert import to_type

        _check_text(msg)
        _converted(functools.partial(to_type, kind, msg))
        for name in ("name", "version", "description", "external_id"):
            check_text(f"type {name}", getattr(msg, name))
        if msg.HasField("external_id"):
            check_key("type external_id", msg.external_id)

    def check_merge(
        self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]
    ) -> None:
        """In a merge, refuse before anything is written what the target would refuse midway: a
        type the target holds with other property kinds, a type's external id another type
        holds, and a node's name or external id held by any node but its twin (the target's own
        nodes, or copies of other MLMD nodes when a key moved between nodes in MLMD). A copy
        found again keeps its own keys. The error names the MLMD node and the holder."""
        target_type = self._merge_types(types)
        for kind in _KINDS:
            twin_of, names, externals = self._merge_keys(kind, nodes[kind], target_type)
            self.twins.unmarked = {}
            if kind == NodeKind.ARTIFACT:
                self._check_long_values(twin_of)
            self._check_taken_keys(kind, twin_of, names, externals)
            if kind == NodeKind.CONTEXT:
                self.check_parent_cycles(twin_of)

    def _merge_types(self, types: list[tuple[NodeKind, Any]]) -> dict[tuple[NodeKind, int], int]:
        """:meth:`check_merge` of MLMD's types: the target's type of each it holds, by (kind,
        MLMD id)."""
        from ._convert import to_type

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
        return target_type

    def _merge_keys(
        self, kind: NodeKind, msgs: list[Any], target_type: dict[tuple[NodeKind, int], int]
    ) -> _Keys:
        """:meth:`check_merge` of MLMD's nodes of ``kind``, chunk by chunk: each one's twin, and
        the keys they take (see :data:`_Keys`)."""
        from ._convert import to_node

        repo = self.writer.repos[kind]
        twin_of: dict[int, int | None] = {}  # MLMD id -> the target node it updates
        names: dict[tuple[int, str], Any] = {}
        externals: dict[str, Any] = {}
        for chunk in _chunks(sorted(msgs, key=lambda m: m.id)):
            self.keep_claim()
            self.twins.read_unmarked(kind, chunk)
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
                twin = self.twins.imported.get((kind, msg.id))
                if twin is None and type_id is not None:
                    if kind == NodeKind.CONTEXT:
                        twin = self.twins.unclaimed(kind, contexts.get((type_id, msg.name)))
                    else:
                        node = to_node(kind, msg).model_copy(
                            update={"id": None, "type_id": type_id}
                        )
                        twin = self.twins.existing(kind, msg, node)
                if type_id is not None and msg.HasField("name") and msg.name:
                    names[(type_id, msg.name)] = msg
                twin_of[msg.id] = twin
                if msg.HasField("external_id") and msg.external_id:
                    externals[msg.external_id] = msg
        return twin_of, names, externals

    def _check_taken_keys(
        self,
        kind: NodeKind,
        twin_of: dict[int, int | None],
        names: dict[tuple[int, str], Any],
        externals: dict[str, Any],
    ) -> None:
        """Refuse an MLMD node of ``kind`` whose name or external id (see :meth:`_merge_keys`)
        a node of the target other than its twin holds."""
        repo = self.writer.repos[kind]
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

    def check_parent_cycles(self, twins: Mapping[int, int | None]) -> None:
        """Refuse, before any write, MLMD parent links that form a cycle: among themselves
        (MLMD refuses one; a damaged database holds it: the store refused it once every node,
        event and link was written, a merge stopped midway), or through the target's own parent
        links (the store checks the links only when they are written, after the nodes).
        ``twins``: each MLMD context's twin in the target, None for none (every one None for
        MLMD's links alone). Only the contexts with a twin carry stored links, so the target's
        links above the twins join MLMD's in one graph."""
        from graphlib import CycleError, TopologicalSorter

        parents = self.parents(sorted(twins))
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
