"""Impact of a bad dataset (with an atomic, undoable mark), and comparisons of artifacts."""

from __future__ import annotations

import copy
import json
import math
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._encoding import (
    INDEXED_TEXT,
    check_indexed,
    check_text,
    check_value_unicode,
    encode_properties,
    property_key,
    shown,
    value_keys,
)
from .._repositories._base import Repository, call_values, id_ranges, now_ms
from .._repositories.graph import patch_row
from ..exceptions import (
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageGraphError,
    NotFoundError,
)
from ..models import (
    Artifact,
    ArtifactState,
    Context,
    Direction,
    Execution,
    NodeKind,
    kind_of,
)
from ._filter import NodeRef
from ._graph import LineageGraph
from ._traverse import LineageQuery, LineageRepository

#: Reads and marks an impact analysis tries while other writers keep changing its artifacts.
_MARK_ATTEMPTS = 5

__all__ = [
    "ArtifactDiff",
    "ImpactMark",
    "ImpactReport",
    "ImpactRepository",
    "LineageDiff",
]


@dataclass(frozen=True)
class ImpactMark:
    """How :meth:`LineageStore.impact` marks every affected artifact (source included), in one
    atomic write: a new ``state`` and/or a custom property (e.g. ``quarantined=True``)."""

    state: ArtifactState | None = None
    custom_property: tuple[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.state is None and self.custom_property is None:
            raise InvalidArgumentError("an ImpactMark sets a state, a custom property, or both")
        if self.state is not None and not isinstance(self.state, ArtifactState):
            raise InvalidArgumentError(
                f"ImpactMark state must be an ArtifactState: {shown(self.state)}"
            )
        if self.custom_property is not None:
            pair = self.custom_property
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise InvalidArgumentError(
                    f"ImpactMark custom_property is a (name, value) pair, got {shown(pair)}"
                )
            name, value = pair
            object.__setattr__(self, "custom_property", (name, value))
            if not isinstance(name, str) or not name:
                raise InvalidArgumentError("ImpactMark custom property needs a non-empty name")
            check_text("custom property name", name)
            from .._tracker import NAME_PROPERTY, VERSION_PROPERTY  # (imports this module)

            if name in (NAME_PROPERTY, VERSION_PROPERTY):
                # it rewrote the model registry on every artifact the mark reached: a model
                # became another version (or of another registered model)
                raise InvalidArgumentError(
                    f"the custom property {shown(name)} is reserved for the model registry (a "
                    "registered version's name and number): a mark must not rewrite it; mark "
                    "with another name"
                )
            try:
                kind = kind_of(value)
            except ValueError as exc:  # a value MLMD cannot store (an int beyond int64, ...)
                raise InvalidArgumentError(f"custom property {shown(name)}: {exc}") from None
            check_value_unicode(f"custom property {shown(name)}", value)
            if property_key("c", kind, name) in INDEXED_TEXT:  # an indexed digest
                check_indexed(f"custom property {shown(name)}", value)


@dataclass(frozen=True)
class ImpactReport:
    """Everything downstream of ``source``, grouped by type, with counts."""

    source: NodeRef
    graph: LineageGraph
    artifacts_by_type: dict[str, list[Artifact]]
    executions_by_type: dict[str, list[Execution]]
    contexts_by_type: dict[str, list[Context]]
    #: Set when the report marked the affected artifacts: pass it to ``undo_impact_mark``.
    mark_token: str | None = None
    marked: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """Affected nodes (the source excluded)."""
        return {
            "artifacts": sum(len(v) for v in self.artifacts_by_type.values()),
            "executions": sum(len(v) for v in self.executions_by_type.values()),
            "contexts": sum(len(v) for v in self.contexts_by_type.values()),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "counts": self.counts,
            "artifacts_by_type": {t: [a.id for a in v] for t, v in self.artifacts_by_type.items()},
            "executions_by_type": {
                t: [e.id for e in v] for t, v in self.executions_by_type.items()
            },
            "contexts_by_type": {t: [c.name for c in v] for t, v in self.contexts_by_type.items()},
            "mark_token": self.mark_token,
            "marked": self.marked,
        }


@dataclass(frozen=True)
class ArtifactDiff:
    """What differs between two artifacts of one type: ``{field: (a's value, b's value)}``; a
    value absent on one side is ``None``."""

    a: Artifact
    b: Artifact
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    properties: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    custom_properties: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return not (self.fields or self.properties or self.custom_properties)


@dataclass(frozen=True)
class LineageDiff:
    """Upstream of ``a`` against upstream of ``b``: the nodes only one of them depends on, and
    the ones they share."""

    only_a: LineageGraph
    only_b: LineageGraph
    common: set[NodeRef]

    @property
    def same(self) -> bool:
        return not (self.only_a.refs or self.only_b.refs)


def _diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        k: (a.get(k), b.get(k))
        for k in sorted({*a, *b})
        if k not in a or k not in b or not _same_stored(a[k], b[k])
    }


def _same_stored(a: Any, b: Any) -> bool:
    """Two stored values are the same value: NaN is NaN (an artifact compared with itself has no
    difference) and, as in :class:`NodeFilter`, a bool is no number at any depth (``True`` is
    not ``1``: MLMD keeps them apart) while an int equals the double of the same value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_stored(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(map(_same_stored, a, b))
    return bool(a == b)


def _group(nodes: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for n in nodes:
        out.setdefault(n.type or "?", []).append(n)
    return out


class ImpactRepository(Repository):
    def __init__(self, backend: Any, lineage: LineageRepository) -> None:
        super().__init__(backend)
        self.lineage = lineage
        #: This thread's last mark or undo in doubt (:class:`_MarkInDoubt`, :class:`_UndoInDoubt`).
        self._in_doubt = threading.local()

    # -------------------------------------------------------------------------------- impact

    def impact(self, source: NodeRef, mark: ImpactMark | None) -> ImpactReport:
        if mark is not None and not isinstance(mark, ImpactMark):
            raise InvalidArgumentError(f"mark must be an ImpactMark, got {type(mark).__name__}")
        if mark is not None:  # checked again: one made without __init__ (or changed) marked
            mark.__post_init__()  # nothing but the update time, with an undo record
        query = LineageQuery(
            starts=(source,), direction=Direction.DOWNSTREAM, include_contexts=True
        )
        pending: _MarkInDoubt | None = getattr(self._in_doubt, "mark", None)
        self._in_doubt.mark = None
        if (
            pending is not None
            and pending.source == source
            and _mark_values(pending.mark) == _mark_values(mark)
        ):
            # The retry of a mark in doubt (its reply lost, its read-back failed too): it
            # stacked a second mark on the first, two undos to restore the artifacts.
            found = self._first_mark_applied(pending)
            if found is not None:
                return found
        graph = self.lineage.run(query)
        token, marked = None, 0
        if mark is None:
            return _report(source, graph, token, marked)
        try:
            for _ in range(_MARK_ATTEMPTS):
                try:
                    token, marked, stale = self._mark(source, graph.artifacts, mark)
                except EngineUnavailableError as exc:
                    if exc.mark_token is not None:
                        self._in_doubt.mark = _MarkInDoubt(
                            source, copy.deepcopy(mark), exc.mark_token, graph
                        )
                    raise
                if not stale:
                    break
                graph = self.lineage.run(query)  # another writer changed them: read again
            else:
                raise FailedPreconditionError(
                    f"the artifacts downstream of {source} kept changing while they were being "
                    f"marked ({_MARK_ATTEMPTS} attempts; last changed: {sorted(stale)[:10]}); "
                    "nothing was marked: retry when the other writers are done"
                )
            return _report(source, graph, token, marked)
        except KeyboardInterrupt as exc:
            # Ctrl-C once the write has returned (the report grouped over a large walk): the
            # mark is applied, and its token was lost with the return value ('interrupted'
            # alone). It travels on the interrupt, as for a Ctrl-C during the write (_mark).
            if token is not None and getattr(exc, "mark_token", None) is None:
                _carry_token(exc, token)
            raise

    def _first_mark_applied(self, pending: _MarkInDoubt) -> ImpactReport | None:
        """The report of the mark in doubt ``pending`` if it is stored (read back by its token),
        as its call would have returned it; None if it is not. An engine that does not answer
        raises ``EngineUnavailableError`` with the token, the mark still in doubt."""
        ids = [int(a.id or 0) for a in pending.graph.artifacts]
        try:
            rows = self.read_primary(
                "lineage/mark_applied", key=pending.token, ranges=id_ranges(ids)
            )
        except EngineUnavailableError as exc:
            self._in_doubt.mark = pending  # still cannot tell: the next retry asks again
            if exc.mark_token is None:
                _carry_token(exc, pending.token)
            raise
        if not rows:
            return None
        return _report(pending.source, pending.graph, pending.token, int(rows[0]["marked"]))

    def _mark(
        self, source: NodeRef, artifacts: list[Artifact], mark: ImpactMark
    ) -> tuple[str | None, int, list[int]]:
        """Mark ``artifacts`` as read by the analysis: the token and how many were marked, or
        the ids of those another writer changed since they were read (then nothing is written:
        the undo record would restore stale values)."""
        now = now_ms()
        rows, undo = [], []
        keys: set[str] = set()
        for a in artifacts:
            new: dict[str, Any] = {"last_update_time_since_epoch": now}
            old: dict[str, Any] = {}
            expect: dict[str, Any] = {}  # what the statement checks is still stored (None: absent)
            if mark.state is not None:
                new["state"], old["state"] = int(mark.state), int(a.state)
            if mark.custom_property is not None:
                name, value = mark.custom_property
                expect = dict.fromkeys(value_keys("c", name))  # no kind added by another writer
                new_keys = encode_properties("c", {name: value}, {name: kind_of(value)})
                old_keys: dict[str, Any] = {}
                if name in a.custom_properties:
                    prev = a.custom_properties[name]
                    old_keys = encode_properties("c", {name: prev}, {name: kind_of(prev)})
                new.update({k: None for k in old_keys if k not in new_keys} | new_keys)
                old.update({k: None for k in new_keys if k not in old_keys} | old_keys)
            keys.update(new)
            rows.append({**_patch(a.id, new), "expect": expect | old})
            undo.append({"id": a.id, "set": old})
        token = uuid.uuid4().hex
        self.backend.ensure_property_keys(keys)
        try:
            result = self.write(
                "lineage/mark",
                key=token,
                now=now,
                source=str(source),
                undo=json.dumps(undo),
                rows=rows,
            )
        except EngineUnavailableError as exc:
            if exc.nothing_written:
                raise  # refused before it ran: no mark to undo
            # In doubt: the mark may have been applied (its reply lost: the engine died after
            # its fsync, or the reply timed out). Found applied, the call returns as if the
            # reply had come: it raised, and the natural retry stacked a second mark on the
            # first (two undo records, two undos to restore the artifacts).
            marked = self._mark_applied(token, [int(a.id or 0) for a in artifacts])
            if marked is not None:
                return token, marked, []
            _carry_token(exc, token)  # without its token it could not be undone
            raise
        except KeyboardInterrupt as exc:
            # Ctrl-C while the engine runs the write (a large fan-out takes seconds): it is
            # applied all the same, and the token was lost with the reply. It travels on the
            # interrupt (its attribute ``mark_token``, as on EngineUnavailableError).
            _carry_token(exc, token)
            raise
        stale = [int(i) for i in result[0]["stale"]]
        if stale:
            return None, 0, stale
        return token, int(result[0]["marked"]), []

    def _mark_applied(self, token: str, ids: list[int]) -> int | None:
        """How many artifacts mark ``token`` marked if it is stored; None if it is not, or if
        the engine does not answer the read either."""
        try:
            rows = self.read_primary("lineage/mark_applied", key=token, ranges=id_ranges(ids))
        except LineageGraphError:
            return None
        return int(rows[0]["marked"]) if rows else None

    def _undo_applied(self, pending: _UndoInDoubt) -> int | None:
        """How many artifacts the undo in doubt ``pending`` restored if it was applied (its
        mark's record is gone): those still holding the update time it wrote; None if it was
        not (the record is there). A read: an engine that does not answer raises, and the undo
        stays in doubt for the next retry."""
        try:
            rows = self.read_primary(
                "lineage/unmark_applied",
                key=pending.token,
                ranges=id_ranges(pending.ids),
                now=pending.now,
            )
        except EngineUnavailableError:
            self._in_doubt.undo = pending
            raise
        if not rows or int(rows[0]["kept"]):
            return None
        return int(rows[0]["restored"])

    def undo_mark(self, token: str) -> int:
        """Restore what the mark changed on artifacts not updated since; returns how many."""
        if not isinstance(token, str):
            raise InvalidArgumentError(f"a mark token is a string: {shown(token)}")
        pending: _UndoInDoubt | None = getattr(self._in_doubt, "undo", None)
        self._in_doubt.undo = None
        if pending is not None and pending.token == token:
            # The retry of an undo in doubt (its reply lost, its read-back failed too): it said
            # NotFoundError for the mark its own first call had undone.
            restored = self._undo_applied(pending)
            if restored is not None:
                return restored
        rows = self.read("lineage/get_mark", key=token)
        if not rows:
            raise NotFoundError(f"no impact mark {shown(token)} (never made, or already undone)")
        undo = json.loads(rows[0]["undo"])
        self.backend.ensure_property_keys({k for row in undo for k in row["set"]})
        rows = [row | _patch(row["id"], row["set"]) for row in undo]  # and an old `expect_ms`
        now = now_ms()
        try:
            result = self.write("lineage/unmark", key=token, rows=rows, now=now)
        except EngineUnavailableError as exc:
            if exc.nothing_written:
                raise  # refused before it ran: the mark stays, to undo again
            # In doubt: the undo may have been applied (its reply lost). Found applied, the call
            # returns as if the reply had come: it raised, and the natural retry said
            # NotFoundError for the mark it had undone.
            doubt = _UndoInDoubt(token, [int(row["id"]) for row in undo], now)
            try:
                restored = self._undo_applied(doubt)
            except EngineUnavailableError:
                restored = None
            if restored is not None:
                return restored
            self._in_doubt.undo = doubt  # the retry reads it back first
            exc.add_note(
                f"lineage-graph: the undo of impact mark {token!r} may have been applied: "
                "undo_impact_mark(token) again returns what it restored if it was"
            )
            raise
        if not result:  # the record went meanwhile (another undo of the same token)
            raise NotFoundError(f"no impact mark {shown(token)} (never made, or already undone)")
        newer = sorted(str(k) for k in result[0]["newer"])
        if newer:
            raise FailedPreconditionError(
                f"impact mark {shown(token)} is below newer marks on some of its artifacts: undo "
                f"{', '.join(map(repr, newer))} first (marks are undone newest first); nothing "
                "was undone"
            )
        return int(result[0]["restored"])


@dataclass(frozen=True)
class _MarkInDoubt:
    """An impact mark of this thread that raised in doubt: its call (source, mark), its token
    and the graph the analysis read, which its report is made of."""

    source: NodeRef
    mark: ImpactMark
    token: str
    graph: LineageGraph


@dataclass(frozen=True)
class _UndoInDoubt:
    """An undo of this thread that raised in doubt: its token, the artifacts its record named
    and the update time its write gave those it restored."""

    token: str
    ids: list[int]
    now: int


def _mark_values(mark: ImpactMark | None) -> Any:
    """``mark`` as values compared with ``==`` (:func:`call_values`: numbers with their type,
    floats by their bits). A dataclass's ``==`` took ``("q", 1)`` for a retry of ``("q", True)``
    (the report of the first mark returned, the value asked for never written) and a new NaN
    for another value (a second mark stacked on the first)."""
    if mark is None:
        return None
    return call_values((mark.state, mark.custom_property))


def _report(source: NodeRef, graph: LineageGraph, token: str | None, marked: int) -> ImpactReport:
    affected_artifacts = [a for a in graph.artifacts if NodeRef(a.kind, a.id or 0) != source]
    affected_executions = [e for e in graph.executions if NodeRef(e.kind, e.id or 0) != source]
    return ImpactReport(
        source=source,
        graph=graph,
        artifacts_by_type=_group(affected_artifacts),
        executions_by_type=_group(affected_executions),
        contexts_by_type=_group(graph.contexts),
        mark_token=token,
        marked=marked,
    )


def _patch(node_id: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """A mark's or undo's row: the values to ``set`` and the keys to ``drop`` (see
    :func:`patch_row`)."""
    row = patch_row(node_id, changes)
    return {"id": row["id"], "set": row["props"], "drop": row["drop"]}


def _carry_token(exc: BaseException, token: str) -> None:
    """A mark in doubt: its undo token on the error (``exc.mark_token``) and in its notes."""
    exc.mark_token = token  # type: ignore[attr-defined]
    exc.add_note(
        f"lineage-graph: the impact mark may have been applied; its token is {token!r}: "
        "undo_impact_mark(token) undoes it if it was (NotFoundError if it was not)"
    )


def _type_label(a: Artifact) -> str:
    """``'Model'``, or ``'Model' version 'v2'``: two versions of a type share its name, and the
    message said "'Model' and 'Model'"."""
    return f"{shown(a.type)}" + (
        f" version {shown(a.type_version)}" if a.type_version is not None else ""
    )


def compare(a: Artifact, b: Artifact) -> ArtifactDiff:
    if a.type_id != b.type_id:
        raise InvalidArgumentError(
            f"compare() takes two artifacts of one type: {_type_label(a)} and {_type_label(b)}"
        )
    names = ("name", "uri", "state", "external_id")
    return ArtifactDiff(
        a=a,
        b=b,
        fields=_diff({n: getattr(a, n) for n in names}, {n: getattr(b, n) for n in names}),
        properties=_diff(a.properties, b.properties),
        custom_properties=_diff(a.custom_properties, b.custom_properties),
    )


def lineage_diff(lineage: LineageRepository, a: NodeRef, b: NodeRef) -> LineageDiff:
    up_a = lineage.run(LineageQuery(starts=(a,), direction=Direction.UPSTREAM))
    up_b = lineage.run(LineageQuery(starts=(b,), direction=Direction.UPSTREAM))
    only_a, only_b = up_a.refs - up_b.refs - {a}, up_b.refs - up_a.refs - {b}

    def keep(g: LineageGraph, refs: set[NodeRef]) -> LineageGraph:
        ids_a = {r.id for r in refs if r.kind is NodeKind.ARTIFACT}
        ids_e = {r.id for r in refs if r.kind is NodeKind.EXECUTION}
        return LineageGraph(
            artifacts=[x for x in g.artifacts if x.id in ids_a],
            executions=[x for x in g.executions if x.id in ids_e],
            events=[e for e in g.events if e.artifact_id in ids_a and e.execution_id in ids_e],
        )

    return LineageDiff(
        only_a=keep(up_a, only_a),
        only_b=keep(up_b, only_b),
        common=(up_a.refs & up_b.refs) - {a, b},
    )
