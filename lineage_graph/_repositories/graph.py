"""The one write path: every public write becomes ONE ``graph/write`` statement (atomic)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

from .._encoding import shown, shown_key
from ..backends import Dialect
from ..exceptions import (
    AlreadyExistsError,
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageGraphError,
    NotFoundError,
    QueryError,
)
from ..models import NodeKind
from ._base import Repository, id_ranges, positioned
from .cache import CACHE_INPUT_EVENT, input_signature
from .cache import input_sums as input_sums_of
from .ids import IdAllocator
from .nodes import LABEL, LABEL_OF, PreparedNodes

__all__ = [
    "FEW_ROWS",
    "GraphWriter",
    "MissingReferencesError",
    "WriteBatch",
    "compose",
    "patch_row",
]

_WHEN: LiteralString = "// when: $"
_ALWAYS: LiteralString = "// always"
_BY_KEYS = "by keys"
#: The stand-in property map of a ``by keys`` part (see :func:`_by_keys`).
_INLINE: LiteralString = "{id: r[0]}"
#: Most property keys written out in one copy of a ``by keys`` part, and most copies.
MAX_INLINE_KEYS = 64
MAX_INLINE_GROUPS = 8


_PARAMETER = re.compile(r"\$(\w+)")
_QUOTED = re.compile(r"`[^`]*`")

#: A part headed ``// when: $name few`` is used for at most this many rows, ``... many`` above it
#: (FalkorDB: a few index seeks cost less than fetching the part's nodes by position, ~0.4 ms).
FEW_ROWS = 4


def compose(text: LiteralString, params: dict[str, Any]) -> LiteralString:
    """The parts of ``graph/write`` this write needs: a unit subquery headed ``// when: $name``
    is kept only when ``params[name]`` is non-empty (``few`` / ``many`` after the name: and has
    at most / more than :data:`FEW_ROWS` rows); the header and the ``// always`` tail stay.
    (FalkorDB spends ~1.1 ms per statement on a dozen subqueries even with empty lists.)
    A part headed ``// when: $name by keys`` is written out per set of property keys
    (:func:`_by_keys`), which adds its rows to ``params``. Comment lines are not sent."""
    head, parts, tail = _parts(text)
    kept: list[LiteralString] = [head] if head else []
    for name, size, body in parts:
        rows = params.get(name)
        if rows and size == _BY_KEYS:
            kept.extend(_by_keys(name, body, rows, params))
        elif rows and (
            not size
            or (size == "few" and len(rows) <= FEW_ROWS)
            or (size == "many" and len(rows) > FEW_ROWS)
        ):
            kept.append(body)
    kept.append(tail)
    return "\n".join(kept)


@functools.lru_cache(maxsize=8)
def _parts(
    text: LiteralString,
) -> tuple[LiteralString, tuple[tuple[str, str, LiteralString], ...], LiteralString]:
    """``graph/write`` split once: its head, its ``(name, size, body)`` parts and its ``// always``
    tail, without comment lines (6 kB of them on FalkorDB, which every statement would carry)."""

    def code(lines: str) -> LiteralString:
        kept = [line for line in lines.split("\n") if not line.lstrip().startswith("//")]
        return "\n".join(kept).strip()

    body, always, tail = text.partition("\n" + _ALWAYS + "\n")
    if not always:
        raise AssertionError("graph/write has no `// always` line")
    head, *chunks = body.split("\n" + _WHEN)
    parts = []
    for chunk in chunks:
        condition, _, part = chunk.partition("\n")
        name, _, size = condition.strip().partition(" ")
        parts.append((name, size, code(part)))
    return code(head), tuple(parts), code(tail)


def _by_keys(
    name: str, body: LiteralString, rows: list[dict[str, Any]], params: dict[str, Any]
) -> list[LiteralString]:
    """A ``by keys`` part (FalkorDB's new nodes) once per group of rows, its stand-in map
    :data:`_INLINE` replaced by the group's property keys, each read from the row by position
    (``{`id`: r[0], `type_id`: r[1], ...}``); a row without one of the keys has null there,
    which CREATE skips. The rows go to ``params`` as ``<name>_<k>``: lists of values.

    Why: on FalkorDB a SET in a statement that creates a labelled node costs time proportional
    to the nodes in the graph (4.7 ms per statement at 100k nodes, 0.1 ms without the SET), so
    new nodes get their properties in the CREATE. Cypher has no map-valued CREATE pattern from
    an expression, so the keys are written into the text: they are node property keys
    (``_encoding``: fixed field names, or ``<scope><kind>__<name>`` with backtick and NUL
    escaped), quoted with backticks. Shapes are grouped first fit into at most
    :data:`MAX_INLINE_GROUPS` groups of at most :data:`MAX_INLINE_KEYS` keys (a shape with more
    keys is a group of its own), sorted, so a writer that repeats one shape repeats one text
    (FalkorDB caches plans by text). When some shapes fit in none of them, all the rows go to
    ``<name>_rest`` instead (created, then SET: the cost above, once for the statement, which
    then inlining the others would not save)."""
    if _INLINE not in body:
        raise AssertionError(f"graph/write part ${name} has no {_INLINE} to write out")
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row["props"])), []).append(row)
    groups: list[tuple[set[str], list[dict[str, Any]]]] = []
    params[f"{name}_rest"] = []
    for keys, members in sorted(shapes.items()):
        for group_keys, group_rows in groups:
            if len(group_keys.union(keys)) <= MAX_INLINE_KEYS:
                group_keys.update(keys)
                group_rows.extend(members)
                break
        else:
            if len(groups) == MAX_INLINE_GROUPS:
                # Some rows pay for their SET, once for the statement: inlining saves nothing.
                params[f"{name}_rest"] = rows
                return []
            groups.append((set(keys), list(members)))
    out: list[LiteralString] = []
    for k, (group_keys, group_rows) in enumerate(groups):
        ordered = tuple(sorted(group_keys))
        param = f"{name}_{k}"
        params[param] = [[row["props"].get(key) for key in ordered] for row in group_rows]
        out.append(_written_out(name, param, body, ordered))
    return out


@functools.lru_cache(maxsize=256)
def _written_out(
    name: str, param: str, body: LiteralString, keys: tuple[str, ...]
) -> LiteralString:
    """``body`` of part ``$name`` for one group of :func:`_by_keys`: reading ``$param``, its
    stand-in map written out with ``keys`` (a writer repeats a few shapes: built once each)."""
    for key in keys:
        if "`" in key:  # the encoding escapes it: never reached
            raise InvalidArgumentError(f"property key {shown(key)} holds a backtick")
    inline = "{" + ", ".join(f"`{key}`: r[{i}]" for i, key in enumerate(keys)) + "}"
    # Not a literal: the keys are quoted identifiers, every value is a parameter.
    return re.sub(rf"\${name}\b", f"${param}", body).replace(_INLINE, inline)


@dataclass
class WriteBatch:
    artifacts: PreparedNodes | None = None
    executions: PreparedNodes | None = None
    contexts: PreparedNodes | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    attributions: list[dict[str, int]] = field(default_factory=list)
    associations: list[dict[str, int]] = field(default_factory=list)
    parents: list[dict[str, int]] = field(default_factory=list)
    #: StoreInfo.parent_links as read before ``parents`` were checked (FalkorDB's write aborts
    #: when another write of parent links came in since: RelationRepository.prepare_parents).
    parents_seen: int = 0
    #: Run, in order, after the engine aborted the write (a guard divided by zero): each raises
    #: the caller's error when it finds the cause (RelationRepository.prepare_events, then
    #: prepare_links: the order of the reads before the write they replace).
    checks: list[Callable[[], None]] = field(default_factory=list)
    #: Artifact ids the write needs in service: it aborts when one is gone or holds one of
    #: ``unservable`` (states, as stored) when it runs (tracker.deploy / register_model).
    servable: list[int] = field(default_factory=list)
    unservable: list[int] = field(default_factory=list)

    def property_keys(self) -> set[str]:
        """The property keys of every node this batch writes."""
        keys: set[str] = set()
        for prepared in (self.artifacts, self.executions, self.contexts):
            for row in prepared.rows if prepared is not None else ():
                keys.update(row.get("patch") or row["props"])
        return keys

    def by_kind(self) -> dict[NodeKind, PreparedNodes | None]:
        return {
            NodeKind.ARTIFACT: self.artifacts,
            NodeKind.EXECUTION: self.executions,
            NodeKind.CONTEXT: self.contexts,
        }

    def _guarded_ends(self) -> dict[NodeKind, set[int]]:
        """The ids of the nodes that are an end of one of this write's events or links: the
        event and link parts of graph/write abort the write when an end does not exist (as the
        reference guards do), so a reference among them needs no guard of its own (one subquery
        and one index seek less per statement: a put_execution reading a stored artifact, ~0.07
        of ~0.5 ms of FalkorDB's time). GraphWriter still names a missing one from
        ``references`` (:meth:`GraphWriter._raise_missing_references`)."""
        events = (*self.inputs, *self.outputs)
        return {
            NodeKind.ARTIFACT: {r["artifact_id"] for r in (*events, *self.attributions)},
            NodeKind.EXECUTION: {r["execution_id"] for r in (*events, *self.associations)},
            NodeKind.CONTEXT: {r["context_id"] for r in (*self.attributions, *self.associations)},
        }

    def params(self, dialect: Dialect) -> dict[str, Any]:
        """The write's parameters for ``graph/write`` in ``dialect``: the two texts keep stored
        executions' input fingerprints apart (FalkorDB ``$input_sums``, Neo4j ``$inputs``)."""

        def split(p: PreparedNodes | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            if p is None or not p.rows:  # (put_execution's contexts, mostly)
                return [], []
            new = set(p.new_ids)
            return [r for r in p.rows if r["id"] in new], [r for r in p.rows if r["id"] not in new]

        new_a, upd_a = split(self.artifacts)
        new_e, upd_e = split(self.executions)
        new_c, upd_c = split(self.contexts)
        # A field-masked update writes only the keys its mask touches (`patch`): the rest of the
        # node may have been changed by another writer since it was read.
        upd_a, patch_a = _patches(upd_a)
        upd_e, patch_e = _patches(upd_e)
        upd_c, patch_c = _patches(upd_c)
        # A new execution's inputs are all in this write: its fingerprint is stored with it,
        # once (each SET of an indexed property re-indexes the node on FalkorDB, ~0.1 ms), and
        # its input rows need no fingerprint pass in the engine.
        new_e_ids = {r["id"] for r in new_e}
        read: dict[int, list[int]] = {i: [] for i in new_e_ids}
        stored_e: list[dict[str, Any]] = []  # INPUT rows of stored executions
        for r in self.inputs:
            if r["type"] != CACHE_INPUT_EVENT:
                continue  # the fingerprint is of INPUT events only
            if r["execution_id"] in new_e_ids:
                read[r["execution_id"]].append(r["artifact_id"])
            else:
                stored_e.append(r)
        # FalkorDB adds what they add to the stored sums (one row per execution, no artifact
        # read: an INPUT that is stored already aborts the event part, and with it the write);
        # Neo4j recomputes each from its stored inputs under the node's lock (its rows as given).
        input_sums = []
        if stored_e and dialect == "falkordb":
            added: dict[int, list[int]] = {}
            for r in stored_e:
                added.setdefault(r["execution_id"], []).append(r["artifact_id"])
            for eid, ids in added.items():
                n, s1, s2, s3 = input_sums_of(ids)  # distinct: prepare_events refuses repeats
                input_sums.append({"execution_id": eid, "n": n, "s1": s1, "s2": s2, "s3": s3})
            stored_e = []
        new_e = [
            {
                **r,
                "props": {
                    **r["props"],
                    "input_sig": input_signature(r["props"]["type_id"], read[r["id"]]),
                },
            }
            for r in new_e
        ]
        params: dict[str, Any] = {}
        guarded = self._guarded_ends()
        for kind, prepared in self.by_kind().items():
            label = LABEL_OF[kind]
            references = prepared.references if prepared is not None else []
            if references and guarded[kind]:
                references = [i for i in references if i not in guarded[kind]]
            params[f"{label}_refs"] = id_ranges(references)
            params[f"{label}_refs_count"] = len(references)
            params[f"{label}_names"], params[f"{label}_external_ids"] = _unique_keys(prepared)
        params |= {
            "new_artifacts": new_a,
            "artifacts": upd_a,
            "new_executions": new_e,
            "executions": upd_e,
            "new_contexts": new_c,
            "contexts": upd_c,
            "patched_artifacts": patch_a,
            "patched_executions": patch_e,
            "patched_contexts": patch_c,
            "parents": self.parents,
        }
        if self.parents:
            params["parents_seen"] = self.parents_seen
        if self.servable:
            params["servable_artifacts"] = sorted(set(self.servable))
            params["unservable_states"] = sorted(self.unservable)
        # Each part carries the fields its statement reads, no more: the parameters travel as
        # text the engine parses (an event's "fresh" only chose its part).
        parts = {
            # the fingerprints of existing executions
            "inputs": (stored_e, "", _FINGERPRINT_FIELDS),  # (Neo4j reads no position)
            "input_sums": (input_sums, "e", None),
            "created_inputs": ([r for r in self.inputs if r["fresh"]], "ae", _EVENT_FIELDS),
            "merged_inputs": ([r for r in self.inputs if not r["fresh"]], "ae", _EVENT_FIELDS),
            "created_outputs": ([r for r in self.outputs if r["fresh"]], "ae", _EVENT_FIELDS),
            "merged_outputs": ([r for r in self.outputs if not r["fresh"]], "ae", _EVENT_FIELDS),
            "attributions": (self.attributions, "ac", None),
            "associations": (self.associations, "ec", None),
        }
        # The nodes this write creates exist when its event and link parts read them (only a
        # part of more than FEW_ROWS rows reads this: worked out for the first such part).
        created: dict[str, set[int]] | None = None
        for name, (rows, ends, fields) in parts.items():
            if len(rows) > FEW_ROWS:
                if created is None:
                    created = {
                        end: set(prepared.new_ids) if prepared is not None else set()
                        for end, prepared in (
                            ("a", self.artifacts),
                            ("e", self.executions),
                            ("c", self.contexts),
                        )
                    }
                params[name], params[f"{name}_at"] = positioned(rows, ends, fields, created)
            else:  # its `few` text (FalkorDB; Neo4j's has no other) seeks each end by id
                params[name] = (
                    [dict(r) if fields is None else {f: r[f] for f in fields} for r in rows]
                    if rows
                    else []
                )
                params[f"{name}_at"] = {}
        return params


@functools.lru_cache(maxsize=64)
def _parameters(text: str) -> frozenset[str]:
    """The parameters a composed graph/write text reads (not in quoted property keys): a
    writer repeats a few texts, so each is scanned once."""
    return frozenset(_PARAMETER.findall(_QUOTED.sub("", text)))


def _patches(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Updates split into whole rewrites and patches (:func:`patch_row`)."""
    if not rows:  # (most writes: new nodes only)
        return [], []
    whole = [r for r in rows if "patch" not in r]
    patches = [
        patch_row(r["id"], r["patch"], r.get("stray", ()), r.get("expect"))
        for r in rows
        if "patch" in r
    ]
    return whole, patches


def patch_row(
    node_id: int,
    changes: dict[str, Any],
    stray: Sequence[str] = (),
    expect: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A row for a statement that patches a node: ``props``, the values to set, and ``drop``,
    one single-key ``{key: null}`` map per key to remove, each SET on its own (``FOREACH``):
    FalkorDB 4.16 removes the wrong properties, and may skip values it was given, when one SET
    removes two or more (FalkorDB issue 1787; 229 of 1,500 random patches here, none done one
    removal at a time). ``expect``: values the node must still hold when the write runs, else
    graph/write aborts (artifacts and executions)."""
    row = {
        "id": node_id,
        "props": {k: v for k, v in changes.items() if v is not None},
        "drop": [{k: None} for k, v in changes.items() if v is None],
        # removed only where the node has them: a key named in a SET is created (graph/write)
        "stray": [{k: None} for k in stray],
    }
    if expect:
        row["expect"] = dict(expect)
    return row


#: What graph/write reads of an event row, and of one that updates an input fingerprint.
_EVENT_FIELDS = ("artifact_id", "execution_id", "type", "path", "ms", "seq")
_FINGERPRINT_FIELDS = ("artifact_id", "execution_id", "type")


def _unique_keys(
    prepared: PreparedNodes | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The names (per type) and external ids the write stores, for graph/write's uniqueness
    guards (FalkorDB; Neo4j's constraints check them)."""
    names: list[dict[str, Any]] = []
    external: list[dict[str, Any]] = []
    for row in prepared.rows if prepared is not None else []:
        props = row["props"]
        patch = row.get("patch")  # a masked update stores only these: the other keys stay
        if props.get("name") is not None and (patch is None or "name" in patch):
            names.append({"type_id": props["type_id"], "name": props["name"], "id": row["id"]})
        if props.get("external_id") is not None and (patch is None or "external_id" in patch):
            external.append({"external_id": props["external_id"], "id": row["id"]})
    return names, external


def _is_empty(params: Mapping[str, Any]) -> bool:
    """Nothing to write: only the guards' inputs (derived from the rows) may be non-empty."""
    # Most values are empty lists: tested first, so only the few others' names are looked at.
    return not any(not k.endswith(_DERIVED) for k, v in params.items() if v)


#: The suffixes of the guards' inputs among a write's parameters (:func:`_is_empty`).
_DERIVED = ("_at", "_count", "_names", "_external_ids")


#: Neo4j's error for a node another transaction deleted while this one waited for its lock: the
#: guards found it (reads see committed data), then retention's DETACH DELETE committed first
#: (the backend reports it as a FailedPreconditionError).
_NEO4J_DELETED_MEANWHILE = "neo.clienterror.statement.entitynotfound"


#: GQLSTATUS of a division by zero (Neo4j 5.26+ over Bolt 5.7+, read by driver 5.26+).
_GQL_DIVISION_BY_ZERO = "22012"
#: What the Neo4j driver reports when the server sent no GQL status (an older server).
_GQL_UNKNOWN = "50N42"


def _gql_statuses(error: BaseException | None) -> set[str]:
    """The GQL statuses the server gave ``error`` (a driver error) and its GQL causes; none
    for another engine's error, or an older server's."""
    statuses: set[str] = set()
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        status = getattr(error, "gql_status", None)
        if not isinstance(status, str):
            break
        if status != _GQL_UNKNOWN:
            statuses.add(status)
        error = error.__cause__
    return statuses


class MissingReferencesError(NotFoundError):
    """Nodes given by their id alone (``what``: "artifact", "execution", "context"; ``ids``)
    that do not exist, whatever part of the write reads them: the MLMD adapter tells a
    context it was told to reuse apart (ml_metadata: NotFound, where a missing node to update
    is InvalidArgument)."""

    def __init__(self, message: str, what: str, ids: list[int]) -> None:
        super().__init__(message)
        self.what = what
        self.ids = ids


def _aborted(exc: QueryError | FailedPreconditionError) -> bool:
    """Whether the engine aborted graph/write on purpose: its guards divide by zero when a
    node the write refers to is missing, or Neo4j found a node gone that the guards had seen
    (EntityNotFound): the same cause. A division by zero is told by the error's GQL status
    where the server gives one (Neo4j 5.26+: 22012; Neo4j deprecates relying on its messages),
    else by the message (FalkorDB: "Division by zero"; older Neo4j: "/ by zero"), which also
    counts for an error Neo4j classes as arithmetic under another status."""
    text = str(exc).lower()
    if _NEO4J_DELETED_MEANWHILE in text:
        return True
    statuses = _gql_statuses(exc.__cause__)
    if _GQL_DIVISION_BY_ZERO in statuses:
        return True
    # (Also with another GQL status, where Neo4j classes the error as arithmetic: a server
    # whose status for it differs from the one documented must not turn every guard's abort
    # into "rejected the query". A syntax error quoting the words is no arithmetic error.)
    code = getattr(exc.__cause__, "code", None)
    arithmetic = not statuses or code == "Neo.ClientError.Statement.ArithmeticError"
    return arithmetic and ("division by zero" in text or "/ by zero" in text)


class GraphWriter(Repository):
    def __init__(self, backend: Any, ids: IdAllocator) -> None:
        super().__init__(backend)
        self.ids = ids
        #: This thread's last write in doubt (:meth:`take_in_doubt`).
        self._in_doubt = threading.local()
        #: The first new node of each kind of this thread's last write handed to the engine
        #: (:meth:`take_sent`; not the batch, which an import's would keep alive).
        self._sent = threading.local()

    def _raise_cause(self, batch: WriteBatch, cause: Exception) -> None:
        """After the engine refused the write: the caller's error for the first fault found, in
        one order (docs/api.md: events, links, nodes given by id alone, unique keys), whichever
        part stopped the statement. A guard's abort and an engine's own unique constraint stop it
        at different parts: Neo4j checks its constraints as each node is written, before the
        event and link parts that prove a reference given by id alone exists
        (:meth:`WriteBatch._guarded_ends`), so a missing one beside a taken key was named as the
        key on Neo4j and as the reference on FalkorDB."""
        for check in batch.checks:
            try:
                check()
            except LineageGraphError as found:
                raise found from cause
        self._raise_missing_references(batch, cause)
        self._raise_taken_keys(batch, cause)

    def _raise_missing_references(self, batch: WriteBatch, cause: Exception) -> None:
        """After an aborted write: a node given by its id alone, or updated, that does not
        exist is the caller's NotFoundError (as when it is read before the write)."""
        for kind, prepared in batch.by_kind().items():
            if prepared is None or not prepared.references:
                continue
            label = kind.value.lower()
            rows = self.read(f"{label}s/existing_ids", ranges=id_ranges(prepared.references))
            missing = sorted(set(prepared.references) - {int(r["id"]) for r in rows})
            if missing:
                raise MissingReferencesError(
                    f"no {label} with id {', '.join(map(str, missing))} (given by id alone, "
                    "as a reference to a stored one, or an update that changes nothing); nothing "
                    "was written",
                    label,
                    missing,
                ) from cause
        # A node this write updates was read by prepare() and deleted since (retention), by
        # another writer: graph/write's update parts abort rather than update nothing.
        for kind, prepared in batch.by_kind().items():
            if prepared is None:
                continue
            new = set(prepared.new_ids)
            updated = {int(r["id"]) for r in prepared.rows if r["id"] not in new}
            if not updated:
                continue
            label = kind.value.lower()
            rows = self.read(f"{label}s/existing_ids", ranges=id_ranges(updated))
            missing = sorted(updated - {int(r["id"]) for r in rows})
            if missing:
                raise NotFoundError(
                    f"no {label} with id {', '.join(map(str, missing))} to update: deleted "
                    "since it was read (by another writer); nothing was written"
                ) from cause

    def _raise_taken_keys(self, batch: WriteBatch, cause: Exception) -> None:
        """After an aborted write: a name or external id held by another node is the caller's
        AlreadyExistsError (as a unique constraint reports it)."""
        for kind, prepared in batch.by_kind().items():
            names, external = _unique_keys(prepared)
            if not names and not external:
                continue
            label = kind.value.lower()
            rows = self.read(f"{label}s/taken_keys", names=names, external_ids=external)
            if rows:
                taken = ", ".join(
                    f"{r['key']} {shown_key(r['value'])} (held by {label} {r['id']})" for r in rows
                )
                article = "an" if label[0] in "aeiou" else "a"  # (was "a execution")
                raise AlreadyExistsError(
                    f"a unique key of {article} {label} is already taken: {taken}; "
                    "nothing was written"
                ) from cause

    def applied(self, batch: WriteBatch) -> bool | None:
        """Whether a write whose reply was lost was applied (a write is applied whole or not at
        all), told by one of the nodes it creates (ids are allocated here, never given to
        another node), else by its first event or its links: each carries ``seq``, the
        microsecond its write was prepared, which no other write of this process repeats. None:
        nothing it writes tells (updates only, or links that were all there before). A read:
        an engine that does not answer raises."""
        for prepared in (batch.executions, batch.artifacts, batch.contexts):
            if prepared is not None and prepared.new_ids:
                probe = prepared.new_ids[0]
                rows = self.read_primary(
                    f"{prepared.kind.value.lower()}s/existing_ids", ranges=[[probe, probe]]
                )
                return bool(rows)
        events = [*batch.inputs, *batch.outputs]
        if events:
            ev = events[0]
            key = (ev["artifact_id"], ev["execution_id"], ev["type"])
            rows = self.read_primary("events/get_by_execution_ids", ranges=[[key[1], key[1]]])
            stored = {(r["artifact_id"], r["execution_id"], r["type"]): r["seq"] for r in rows}
            return bool(stored.get(key) == ev["seq"])
        if batch.attributions or batch.associations:
            return self._links_applied(batch)
        if batch.parents:  # the write aborts if one was there: each is new when applied
            first = batch.parents[0]
            pair = {"child_id": first["child_id"], "parent_id": first["parent_id"]}
            rows = self.read_primary("contexts/get_parent_links", pairs=[pair])
            return any(r["seq"] == first["seq"] for r in rows)
        return None

    def take_in_doubt(self) -> WriteBatch | None:
        """The last write of this thread that raised in doubt (``EngineUnavailableError``: it
        may have been applied), forgotten as it is taken: what :meth:`applied` reads back."""
        batch: WriteBatch | None = getattr(self._in_doubt, "batch", None)
        self._in_doubt.batch = None
        return batch

    def take_sent(self) -> dict[str, int]:
        """The first id of each kind of node created by this thread's last write handed to the
        engine, applied or not (but not one the engine refused: its ids are handed out again),
        forgotten as it is taken: a caller interrupted inside a write
        (Ctrl-C, whose KeyboardInterrupt carries no ids) reads whether that node is stored
        (:meth:`stored`), and so whether the write landed and under which id."""
        first: dict[str, int] = getattr(self._sent, "first", None) or {}
        self._sent.first = None
        return first

    def stored(self, kind: NodeKind, node_id: int) -> bool:
        """Whether the node ``node_id`` of ``kind`` is stored, read where writes are made."""
        rows = self.read_primary(f"{kind.value.lower()}s/existing_ids", ranges=[[node_id, node_id]])
        return bool(rows)

    def _links_applied(self, batch: WriteBatch) -> bool | None:
        """The links' part of :meth:`_applied`: one of them stored with this write's ``seq``
        (applied), one missing (not applied), or all there from before (None: cannot tell)."""
        rows = self.read_primary(
            "lineage/links",
            artifact_ranges=id_ranges(r["artifact_id"] for r in batch.attributions),
            execution_ranges=id_ranges(r["execution_id"] for r in batch.associations),
        )
        stored = {(r["kind"], r["node_id"], r["context_id"]): r["seq"] for r in rows}
        wanted = [
            *(
                (("attribution", r["artifact_id"], r["context_id"]), r["seq"])
                for r in batch.attributions
            ),
            *(
                (("association", r["execution_id"], r["context_id"]), r["seq"])
                for r in batch.associations
            ),
        ]
        if any(stored.get(key) == seq for key, seq in wanted):
            return True
        if any(key not in stored for key, _ in wanted):
            return False
        return None

    def execute(self, batch: WriteBatch) -> None:
        """Run the batch as one statement; if the engine rejected it, the new ids go back to the
        allocator. An in-doubt outcome (connection lost or reply timed out: the write may have
        been applied) keeps them spent, so no id is ever handed out twice."""
        params = batch.params(self.backend.dialect)
        if _is_empty(params):
            return
        text = compose(self.queries["graph/write"].text(self.backend.dialect), params)
        # Only the parameters of the parts kept: each one is encoded, sent and parsed.
        used = _parameters(text)
        sent = {k: v for k, v in params.items() if k in used}
        try:
            try:
                self.backend.ensure_property_keys(batch.property_keys())
                self._sent.first = {
                    LABEL[p.kind]: p.new_ids[0]
                    for p in (batch.artifacts, batch.executions, batch.contexts)
                    if p is not None and p.new_ids
                }
                self.backend.write(text, sent, name="graph/write")
            except AlreadyExistsError as exc:  # an engine's constraint (Neo4j)
                self._raise_cause(batch, exc)
                raise
            except (QueryError, FailedPreconditionError) as exc:
                if not _aborted(exc):
                    raise
                self._raise_cause(batch, exc)
                raise FailedPreconditionError(
                    "a node this write refers to was deleted meanwhile (by another writer); "
                    "nothing was written"
                ) from exc
        except LineageGraphError as exc:
            if isinstance(exc, EngineUnavailableError) and not exc.nothing_written:
                try:
                    applied, unread = self.applied(batch), False
                except LineageGraphError:
                    applied, unread = None, True
                if applied:
                    # The reply was lost, the write applied (the engine died after its fsync,
                    # or the reply timed out): as if the reply had come (nothing in it is used).
                    # It raised, and the caller's retry stored every new node a second time.
                    return
                _note_in_doubt(exc, batch, applied=applied, unread=unread)
                self._in_doubt.batch = batch
            else:
                # Refused, so not applied: its ids go back to the allocator, and may be the
                # next write's of another thread. Kept as sent, a Ctrl-C in the run retrying
                # its entry after a name taken read another thread's new execution under that
                # id as this run's entry, and recorded it CANCELED while it ran.
                self._sent.first = None
                for prepared in (batch.contexts, batch.executions, batch.artifacts):
                    if prepared is not None:
                        self.ids.release(prepared.kind.value, prepared.new_ids)
            raise


def _note_in_doubt(
    exc: EngineUnavailableError, batch: WriteBatch, *, applied: bool | None, unread: bool
) -> None:
    """Tell the caller of a write in doubt what is known of it: the ids of the nodes it would
    have created (the only way to find them if it was applied: the reply that carried them was
    lost), or, for a write that creates no node (events, links, parent links, updates), that it
    cannot be stored twice. ``applied`` False: it was read back and not found (after a crash the
    write never lands; after a reply timeout it may still be running); None: nothing it writes
    tells, or (``unread``) the read-back failed too. A retry stores no event or link twice; a
    repeated native update moves the node's last_update_time_since_epoch (the MLMD adapter's
    does not, as MLMD's does not)."""
    if exc.new_ids is not None:
        return
    new = {
        prepared.kind.value: tuple(prepared.new_ids)
        for prepared in (batch.artifacts, batch.executions, batch.contexts)
        if prepared is not None and prepared.new_ids
    }
    if not new:
        if unread:
            found = "whether it landed could not be read"
        elif applied is False:
            found = (
                "it was not stored when read just after (a write whose reply timed out may "
                "still land)"
            )
        else:
            found = "nothing it writes tells whether it landed (updates, or links stored before)"
        exc.add_note(
            "lineage-graph: the write may have been applied (whole, or not at all); it creates "
            f"no node; {found}. Retrying it is safe: nothing of it is stored twice (the same "
            "call made again next in this thread reads back whether this one landed; an event "
            "or parent link already stored is refused with AlreadyExistsError, never written "
            "again; a stored link repeated changes nothing; an update repeated sets the same "
            "values again: through the native API its last_update_time_since_epoch moves "
            "again, through the MLMD adapter, as in MLMD, an update that changes nothing "
            "leaves it)"
        )
        return
    found = (
        "they could not be read to tell"
        if unread
        else "they were not stored when read just after (a write whose reply timed out may "
        "still land)"
    )
    exc.new_ids = new
    listed = "; ".join(f"{label.lower()} ids {_ranges(ids)}" for label, ids in new.items())
    exc.add_note(
        f"lineage-graph: the write may have been applied (whole, or not at all); it would have "
        f"created {listed}; {found}. Read one of them to know (these ids are never given "
        "to another node)"
    )


def _ranges(ids: Sequence[int]) -> str:
    """``1-3, 7`` for ``[1, 2, 3, 7]`` (a write of many nodes has a few runs of ids)."""
    out: list[list[int]] = []
    for i in sorted(ids):
        if out and out[-1][1] + 1 == i:
            out[-1][1] = i
        else:
            out.append([i, i])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in out)
