"""What an import's parts share: its batch size and kinds, the checks and conversions of one
MLMD row (text that is not UTF-8, an indexed text no index holds, its times), the ids kept
(:func:`_kept_max`), the writer that inserts nodes with given ids and times
(:class:`_NativeWriter`) and the seeding of a staged graph (:func:`_seed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._repositories._base import Repository
from ..exceptions import (
    FailedPreconditionError,
    InvalidArgumentError,
)
from ..models import (
    Artifact,
    NodeKind,
    NodeType,
)
from ..models import Node as NodeModel
from ..store import LineageStore

if TYPE_CHECKING:
    from .._repositories.nodes import NodeRepository

#: Nodes (or relationship rows) per atomic write: DESIGN.md §3 keeps batches around 1k rows.
CHUNK = 1000

Progress = Callable[[str, int, int], None]  # (stage, done, total)


#: The largest MLMD id an import keeps. FalkorDB's range index holds ids as doubles, exact to
#: 2**53: ids past it kept as MLMD's were read together with their neighbours
#: (``get_artifacts_by_id([2**53 + 3])`` gave 2**53 + 3, + 4 and + 5), the write's check of the
#: nodes it links refused a link as "deleted meanwhile (by another writer)", and two types'
#: ids collided in their unique constraint. Such a node or type gets the store's next id.
KEPT_ID_MAX = 2**53 - 1


def _kept_max(ids: Iterable[int], limit: int) -> int:
    """The largest of these MLMD ids (of one id sequence) an import keeps: those past it get
    the next ids, which must stay within ``limit`` too (MLMD's 2**53 - 2 ... 2**53 + 1: the
    last two kept gave the others 2**53 and 2**53 + 1, as far apart as before). 0: none."""
    ordered = sorted(ids)
    kept = len(ordered)  # (ordered[kept - 1] + the ids given after it) grows with kept
    while kept and ordered[kept - 1] + len(ordered) - kept > limit:
        kept -= 1
    return ordered[kept - 1] if kept else 0


class _NativeWriter:
    """Inserts nodes with given ids and times. The only code here that uses the store's
    repositories directly (see the module docstring for the public method this stands in for)."""

    def __init__(self, store: LineageStore) -> None:
        self.store = store
        self.repos: dict[NodeKind, NodeRepository[Any]] = {
            NodeKind.ARTIFACT: store._artifacts,
            NodeKind.EXECUTION: store._executions,
            NodeKind.CONTEXT: store._contexts,
        }
        self.ids = store._artifacts.ids

    def skip_to(self, sequence: str, wanted: int) -> bool:
        """Make the next id of ``sequence`` equal ``wanted`` (by skipping ids); False if taken."""
        probe = self.ids.allocate(sequence, 1)[0]
        if probe > wanted:
            self.ids.release(sequence, [probe])
            return False
        if probe < wanted:
            self.ids.skip(sequence, wanted - probe - 1)
        else:
            self.ids.release(sequence, [probe])
        return True

    def put_type(self, t: NodeType, wanted_id: int | None) -> int:
        if wanted_id is not None:
            self.skip_to("Type", wanted_id)
            return self.store.put_type(t)
        # Merging: a same-named type already there gains MLMD's properties (never loses any).
        return self.store.put_type(t, can_add_fields=True, can_omit_fields=True)

    def check_values(self, kind: NodeKind, t: NodeType, node: NodeModel) -> None:
        """Raise what the write would for ``node``'s property values under its type ``t`` (a
        property the type does not declare, a value of another kind than declared), by the
        write's own rules, before anything is written."""
        repo = self.repos[kind]
        repo._encode_values(t, node.properties, "p", "its properties")
        repo._encode_values(t, node.custom_properties, "c", "its custom properties")

    def put_nodes(
        self,
        kind: NodeKind,
        models: Sequence[NodeModel],
        times: Sequence[tuple[int | None, int | None]],
        origins: Sequence[str | None],
    ) -> list[int]:
        from .._repositories.graph import WriteBatch

        repo = self.repos[kind]
        prepared = repo.prepare(models)
        by_id = {row["id"]: row for row in prepared.rows}
        for node_id, (created, updated), origin in zip(prepared.ids, times, origins, strict=True):
            props = by_id[node_id]["props"]
            if origin is not None:  # None: the target's own node (it keeps what it holds)
                props["mlmd_origin"] = origin
            # 0 is a time (MLMD holds it: a row written with it, an old MLMD): kept, as any
            if created is not None:
                props["create_time_since_epoch"] = created
            if updated is not None:
                props["last_update_time_since_epoch"] = updated
        batch = WriteBatch()
        setattr(
            batch,
            {"Artifact": "artifacts", "Execution": "executions"}.get(kind.value, "contexts"),
            prepared,
        )
        self.store._writer.execute(batch)
        return list(prepared.ids)


_KINDS = (NodeKind.ARTIFACT, NodeKind.EXECUTION, NodeKind.CONTEXT)
_SEQUENCE = {k: k.value for k in _KINDS}


class _Unindexable(InvalidArgumentError):
    """An artifact's indexed text over the limit (``value``: the text)."""

    def __init__(self, message: str, value: str) -> None:
        super().__init__(message)
        self.value = value


def _unindexable(msg: Any) -> list[tuple[str, _Unindexable]]:
    """An MLMD artifact's indexed texts (its uri and "digest", the cache's content fingerprint;
    executions and contexts have no such index) that no index here can hold, by field
    (``uri``, ``p`` or ``c``: the digest property or custom property)."""
    from .._encoding import check_indexed

    texts = [("uri", "uri", msg.uri)] if msg.HasField("uri") else []
    for scope, label, props in (
        ("p", "property", msg.properties),
        ("c", "custom property", msg.custom_properties),
    ):
        if "digest" in props and props["digest"].HasField("string_value"):
            texts.append((scope, f"{label} 'digest'", props["digest"].string_value))
    found = []
    for where, label, text in texts:
        try:
            check_indexed(label, text)
        except InvalidArgumentError as exc:
            found.append((where, _Unindexable(str(exc), text)))
    return found


def _stored_value(artifact: Artifact, where: str) -> Any:
    if where == "uri":
        return artifact.uri
    return (artifact.properties if where == "p" else artifact.custom_properties).get("digest")


def _cannot_import(kind: NodeKind, mlmd_id: int, exc: Exception) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"MLMD {kind.value.lower()} {mlmd_id} cannot be imported: {exc}; nothing was imported"
    )


def _bad_text(msg: Any, where: str = "") -> str | None:
    """The first string field of the proto ``msg`` (a map key included) that is not valid
    UTF-8, as a path (``custom_properties['x'].string_value``), or None. MLMD's SQLite columns
    hold bytes as SQLite gives them; the proto bindings hand invalid UTF-8 back as ``bytes``,
    which was stored as its Python repr (``"b'\\xff'"``) or crashed the key checks."""
    for fd, value in msg.ListFields():
        path = f"{where}.{fd.name}" if where else fd.name
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            for key in value:  # a key first: looking an undecodable one up raises
                if isinstance(key, bytes):
                    return f"{path}[{key!r}]"
                item = value[key]
                if isinstance(item, bytes):
                    return f"{path}[{key!r}]"
                if not isinstance(item, str | int | float | bool):
                    found = _bad_text(item, f"{path}[{key!r}]")
                    if found:
                        return found
            continue
        items = value if fd.label == fd.LABEL_REPEATED else [value]
        for i, item in enumerate(items):
            at = f"{path}[{i}]" if fd.label == fd.LABEL_REPEATED else path
            if fd.type == fd.TYPE_STRING and isinstance(item, bytes):
                return at
            if fd.type == fd.TYPE_MESSAGE:
                found = _bad_text(item, at)
                if found:
                    return found
    return None


def _times(msg: Any) -> tuple[int | None, int | None]:
    """An MLMD node's (create, last update) times, each None where not set (the store then
    gives the import's time). A time of 0, which MLMD holds (a row written with it, a store of
    an old MLMD), is kept: it was taken for "not set", and the import's time replaced it."""
    return (
        msg.create_time_since_epoch if msg.HasField("create_time_since_epoch") else None,
        msg.last_update_time_since_epoch if msg.HasField("last_update_time_since_epoch") else None,
    )


def _check_text(msg: Any) -> None:
    bad = _bad_text(msg)
    if bad:
        raise InvalidArgumentError(f"{bad} is not valid UTF-8 text")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _seed(target: LineageStore, staged: LineageStore, handed: list[tuple[str, int, int]]) -> None:
    """Make the new graph ``staged`` start as the empty ``target`` is (see
    :meth:`_Importer.copy_staged`); ``handed`` gets what the target's allocator handed over
    (sequence, first id, end), to take back if the staged graph is not published."""
    reads = Repository(target.backend)
    keys = [str(r["key"]) for r in reads.read("meta/property_keys")]
    staged.backend.ensure_property_keys(keys, fixed=True)  # the target's: all fit
    for row in reads.read("meta/get"):
        Repository(staged.backend).write("meta/set_created", created_ms=row["created_ms"])
    writer = _NativeWriter(staged)
    held = sorted((t for k in _KINDS for t in target.get_types(k)), key=lambda t: t.id or 0)
    for t in held:
        assert t.id is not None
        writer.skip_to("Type", t.id)
        if staged.put_type(t.model_copy(update={"id": None})) != t.id:  # pragma: no cover
            raise FailedPreconditionError(f"type {t.name!r} could not keep its id {t.id}")
    mine = target._artifacts.ids
    for sequence in ("Type", *_SEQUENCE.values()):
        end = int(reads.read("ids/end", kind=sequence)[0]["next"])
        first = mine.hand_over(sequence, end)
        handed.append((sequence, first, end))
        writer.skip_to(sequence, first)
