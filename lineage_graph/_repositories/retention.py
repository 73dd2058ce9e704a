"""Retention: remove old artifacts and executions without cutting the lineage of what stays.

A policy selects artifacts and executions (by age, type, state). Selected nodes fall in two
groups, decided on the graph of EVENT edges:

* an **island** is a connected group of selected nodes with no event to any node that stays:
  no lineage question about a remaining node can pass through it, so it is deleted whole;
* every other selected node lies next to (or between) nodes that stay: deleting it would leave
  a gap, so it becomes a **tombstone**: id, type, creation time (an execution keeps its last
  known state, an artifact becomes ``DELETED``) and every relationship stay; names, external
  ids, uris and properties go. Lineage still passes through tombstones.

:meth:`Retention.plan` is the dry run (reads only); :meth:`Retention.apply` archives the full
records first when asked, then writes each batch of whole islands and tombstones as ONE
statement (one transaction). An interrupted apply leaves every island either fully there or
fully gone, and a re-run of the same policy finishes the job (tombstoning is idempotent).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import operator
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .._encoding import shown
from .._files import CannotWriteError
from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import (
    INT64_MAX,
    INT64_MIN,
    Artifact,
    ArtifactState,
    Event,
    EventType,
    Execution,
    ExecutionState,
    NodeKind,
)
from ._base import Repository, datetime_ms, id_pages, now_ms
from .nodes import decode_node
from .relations import decode_event
from .types import TypeRepository

__all__ = [
    "ArchivedRecord",
    "Retention",
    "RetentionPlan",
    "RetentionPolicy",
    "RetentionResult",
    "read_archive",
]

#: The model registry of ``store.tracker`` (lineage_graph/_tracker.py; a test keeps them equal):
#: the version an environment serves is kept out of a retention's selection.
DEPLOYMENT_TYPE = "Deployment"
REGISTERED_MODEL_TYPE = "RegisteredModel"
ENVIRONMENT_KEY = "cs__environment"  # property_key("c", STRING, "environment")

PAGE = 1000  # ids per neighbour/archive query and nodes per apply batch (DESIGN.md §3: ~1k rows)
SELECT_PAGE = 10_000  # ids per selection page (tiny rows: an id and a flag)
_KINDS = frozenset({NodeKind.ARTIFACT, NodeKind.EXECUTION})


def _to_ms(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            # naive as Python defines it: no tzinfo, or one that gives no offset (whose
            # datetime escaped as a raw TypeError from the subtraction below)
            raise ValueError("a datetime must carry a time zone (e.g. datetime.now(UTC))")
        # exact (a float product was 1 ms early at times), and rounded up: node times are whole
        # milliseconds, so t < cut exactly when t < ceil(cut). Rounded down, a cut of
        # datetime.now(UTC) (at 1,003.5 ms) kept the nodes stamped 1,003, before it.
        return datetime_ms(value, up=True)
    return value


#: Node times are the store's own milliseconds, far from int64's ends (as mlmd/_filter.py's
#: _BOUNDED_INT): a cut beyond these bounds selects as the bound does.
_CUT_BOUND = 2**62


def _engine_cut(cut: int | None) -> int | None:
    """A time cut as the engines compare it exactly: FalkorDB 4.16 compares two integers by
    their difference, wrong when it leaves int64, so ``created_before=-2**63`` selected every
    node (``now - (-2**63)`` wraps to a negative number) instead of none. Within the bounds no
    stored time is 2^63 away from the cut."""
    return None if cut is None else min(max(cut, -_CUT_BOUND), _CUT_BOUND)


class RetentionPolicy(BaseModel):
    """Which artifacts and executions go. Every criterion given must match (AND).

    ``created_before`` / ``updated_before``: ms since the epoch or an aware ``datetime``,
    compared with ``create_time_since_epoch`` / ``last_update_time_since_epoch``.
    ``types``: type names. ``artifact_states`` / ``execution_states`` restrict their own kind;
    a kind in ``kinds`` must get its state filter whenever the other kind has one, so a filter
    meant for one kind never silently selects every node of the other. At least one criterion
    is required: a policy that selects everything is almost always a mistake.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kinds: frozenset[NodeKind] = _KINDS
    created_before: int | None = Field(None, ge=INT64_MIN, le=INT64_MAX, strict=True)
    updated_before: int | None = Field(None, ge=INT64_MIN, le=INT64_MAX, strict=True)
    types: frozenset[str] | None = None
    artifact_states: frozenset[ArtifactState] | None = None
    execution_states: frozenset[ExecutionState] | None = None

    @field_validator("created_before", "updated_before", mode="before")
    @classmethod
    def _datetime_to_ms(cls, value: Any) -> Any:
        return _to_ms(value)

    @field_validator("kinds", mode="before")
    @classmethod
    def _known_kinds(cls, value: Any) -> Any:
        if isinstance(value, str | NodeKind):
            value = [value]
        if not isinstance(value, Iterable):  # a TypeError escaped pydantic, untyped
            raise ValueError(f"kinds is a NodeKind or a collection of them, got {shown(value)}")
        kinds = frozenset(NodeKind(v) for v in value)
        if not kinds or not kinds <= _KINDS:
            raise ValueError("kinds must be artifacts and/or executions (contexts stay)")
        return kinds

    @field_validator("artifact_states", "execution_states", mode="before")
    @classmethod
    def _state_names(cls, value: Any, info: ValidationInfo) -> Any:
        """States as the models take them: members, numbers or names as MLMD spells them
        (``"ABANDONED"``), one alone too (as ``types`` and ``kinds``); a name was refused with
        "Input should be 0, 1, 2, 3, 4, 5 or 6", which named no state."""
        enum: type[ArtifactState] | type[ExecutionState] = (
            ArtifactState if info.field_name == "artifact_states" else ExecutionState
        )
        if isinstance(value, str | int):
            value = [value]
        if not isinstance(value, Iterable):
            return value
        out = []
        for v in value:
            if isinstance(v, bool) or (isinstance(v, Enum) and not isinstance(v, enum)):
                # True selected PENDING (1), False UNKNOWN; an IntEnum member of the other kind
                # was taken as its number: artifact_states=[ExecutionState.COMPLETE] selected
                # MARKED_FOR_DELETION artifacts (both 3), execution_states=[ArtifactState.LIVE]
                # RUNNING executions
                raise ValueError(
                    f"a state is a {enum.__name__}, its number or name, not {shown(v)}"
                )
            if isinstance(v, str):
                if v not in enum.__members__:
                    raise ValueError(
                        f"{shown(v)} is not a state of {enum.__name__} "
                        f"({', '.join(enum.__members__)})"
                    )
                v = enum[v]
            elif not isinstance(v, enum):
                # a number as ml_metadata's protos take one (__index__): a float or bytes was
                # taken as the state of that number (artifact_states=[4.0] or [b"4"]: DELETED)
                try:
                    v = operator.index(v)
                except TypeError:
                    raise ValueError(
                        f"a state is a {enum.__name__}, its number or name, not {shown(v)}"
                    ) from None
            out.append(v)
        return out

    @field_validator("types", mode="before")
    @classmethod
    def _one_name(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("types")
    @classmethod
    def _names(cls, value: frozenset[str] | None) -> frozenset[str] | None:
        if value is not None and (not value or not all(isinstance(v, str) and v for v in value)):
            raise ValueError("types must be a non-empty collection of type names")
        return value

    def check(self) -> None:
        """Cross-field rules (pydantic checks each field; these need several)."""
        if not any(
            v is not None
            for v in (
                self.created_before,
                self.updated_before,
                self.types,
                self.artifact_states,
                self.execution_states,
            )
        ):
            raise InvalidArgumentError(
                "a retention policy needs at least one criterion (created_before, "
                "updated_before, types, artifact_states, execution_states)"
            )
        for own, state, other, other_state in (
            (NodeKind.ARTIFACT, self.artifact_states, NodeKind.EXECUTION, self.execution_states),
            (NodeKind.EXECUTION, self.execution_states, NodeKind.ARTIFACT, self.artifact_states),
        ):
            if state is not None and own not in self.kinds:
                raise InvalidArgumentError(
                    f"{own.value.lower()} states given but kinds does not include {own.value}"
                )
            if state is not None and other in self.kinds and other_state is None:
                raise InvalidArgumentError(
                    f"{own.value.lower()}_states given but no {other.value.lower()}_states: "
                    f"every {other.value} would match; pass kinds={{NodeKind.{own.name}}} or "
                    f"{other.value.lower()}_states too"
                )


class RetentionPlan(BaseModel):
    """The dry run: what :meth:`Retention.apply` would delete and tombstone (sorted ids)."""

    model_config = ConfigDict(frozen=True)

    policy: RetentionPolicy
    planned_at: int
    delete_artifacts: tuple[int, ...] = ()
    delete_executions: tuple[int, ...] = ()
    tombstone_artifacts: tuple[int, ...] = ()
    tombstone_executions: tuple[int, ...] = ()
    #: Selected nodes that are tombstones already and stay tombstones (nothing to do).
    already_tombstones: int = 0
    #: The islands: (artifact ids, execution ids) of each group deleted whole.
    islands: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = ()
    #: EVENT relationships inside each island when planned (apply re-checks them).
    island_events: tuple[int, ...] = ()
    #: Selected nodes kept because a registered model is served by them: the latest deployment
    #: of each registered model to each environment (``store.tracker.deploy``) and the version
    #: it deployed. Neither deleted nor tombstoned (the nodes around them may be tombstoned).
    serving_artifacts: tuple[int, ...] = ()
    serving_executions: tuple[int, ...] = ()
    #: The planned store's creation time (ms): its ids mean nothing in another store, and
    #: apply refuses the plan there (None: a plan made before it was recorded).
    store_created_ms: int | None = None

    @model_validator(mode="after")
    def _counted_islands(self) -> RetentionPlan:
        if len(self.island_events) != len(self.islands):
            # apply pairs them: a count short (or over) raised a raw ValueError from zip,
            # after the batches before it had been applied
            raise ValueError(
                f"{len(self.islands)} islands but {len(self.island_events)} island event "
                "counts: one count per island"
            )
        return self

    @property
    def empty(self) -> bool:
        return not (
            self.delete_artifacts
            or self.delete_executions
            or self.tombstone_artifacts
            or self.tombstone_executions
        )

    def summary(self) -> str:
        serving = ""
        if self.serving_artifacts or self.serving_executions:
            serving = (
                f"; kept {len(self.serving_artifacts)} deployed model artifacts and "
                f"{len(self.serving_executions)} deployments still serving"
            )
        return (
            f"delete {len(self.delete_artifacts)} artifacts and "
            f"{len(self.delete_executions)} executions ({len(self.islands)} islands); "
            f"tombstone {len(self.tombstone_artifacts)} artifacts and "
            f"{len(self.tombstone_executions)} executions; "
            f"{self.already_tombstones} selected nodes are tombstones already" + serving
        )

    def __str__(self) -> str:
        return f"RetentionPlan: {self.summary()}"


class RetentionResult(BaseModel):
    """What :meth:`Retention.apply` did (ids sorted). Islands that gained an event to a node
    outside since planning were tombstoned instead of deleted (``islands_tombstoned``)."""

    model_config = ConfigDict(frozen=True)

    deleted_artifacts: tuple[int, ...] = ()
    deleted_executions: tuple[int, ...] = ()
    tombstoned_artifacts: tuple[int, ...] = ()
    tombstoned_executions: tuple[int, ...] = ()
    islands_tombstoned: int = 0
    archived: int = 0
    statements: int = 0


class ArchivedRecord(BaseModel):
    """One line of a retention archive: a node as it was, with its events and contexts."""

    action: Literal["delete", "tombstone"]
    archived_at: int
    node: Artifact | Execution
    events: list[Event]
    context_ids: list[int]


def read_archive(path: str | os.PathLike[str]) -> Iterator[ArchivedRecord]:
    """The records of a retention archive (JSON lines), decoded back to models and validated (a
    file may have been edited or cut short): a line that is no record is InvalidArgumentError,
    and so is a file that cannot be read (missing, a directory, not readable), naming it."""
    _check_archive_path(path)
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                if not raw.strip():
                    continue
                try:
                    record = _archived(json.loads(raw.decode("utf-8")))
                # ValidationError and UnicodeDecodeError are ValueErrors; RecursionError: JSON
                # nested too deep for json.loads
                except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                    raise InvalidArgumentError(
                        f"{os.fspath(path)}, line {number}: not a retention archive record "
                        f"({type(exc).__name__}: {exc})"
                    ) from None
                yield record
    except OSError as exc:
        raise InvalidArgumentError(
            f"{os.fspath(path)}: cannot read the retention archive "
            f"({exc.strerror or type(exc).__name__})"
        ) from None


def _check_archive_path(path: Any) -> None:
    """A retention archive's path is a str or os.PathLike the file system can name: an int was
    read (and closed) as an open file descriptor, a NUL or a lone surrogate (``"\\ud800"``)
    escaped from ``open`` as a raw ValueError / UnicodeEncodeError."""
    if isinstance(path, bool | int) or not isinstance(path, str | os.PathLike):
        raise InvalidArgumentError(f"a retention archive is a file path, got {type(path).__name__}")
    try:
        name = os.fsencode(path)
    except (TypeError, UnicodeError) as exc:
        raise InvalidArgumentError(
            f"a retention archive path the file system cannot name: {exc}"
        ) from None
    if b"\x00" in name:
        raise InvalidArgumentError("a retention archive path must not contain a NUL character")


def _lock(f: Any, how: int) -> None:
    """flock ``f`` (released when it is closed); a file system without locks goes unlocked."""
    with contextlib.suppress(OSError):  # e.g. ENOLCK: appending unlocked beats refusing
        fcntl.flock(f.fileno(), how)


#: How every record line begins (json.dumps with sorted keys: ``action`` comes first).
_RECORD_HEAD = b'{"action": "'


def _torn_tail(f: Any) -> tuple[int, bool]:
    """Where the last line of the archive open in ``f`` starts, and whether it must be cut off:
    True for the start of a record cut short, False for a whole line (or none). A last line
    that is neither is no archive's: InvalidArgumentError (it is not ours to cut)."""
    end = f.seek(0, os.SEEK_END)
    start = end
    while start > 0:  # the start of the last line
        step = min(start, 1 << 16)
        f.seek(start - step)
        newline = f.read(step).rfind(b"\n")
        if newline >= 0:
            start = start - step + newline + 1
            break
        start -= step
    if start == end:
        return start, False
    f.seek(start)
    tail = f.read()
    if not tail.strip():  # blank (spaces, a lone "\r"): read_archive skips it, and so do we
        return start, False
    try:
        value = json.loads(tail.decode("utf-8"))
    except (ValueError, RecursionError):  # cut short: a batch that never ran
        if tail.startswith(_RECORD_HEAD) or _RECORD_HEAD.startswith(tail):
            return start, True
        value = None
    if not _record_shaped(value):
        # A file given by mistake (notes, a data file): its last line was cut off as a torn
        # record, then the records were appended to what was left. A whole JSON value that is
        # no record (a number, another program's object) had the records appended after it,
        # and read_archive then refused the whole file, those records included.
        raise InvalidArgumentError(
            f"{getattr(f, 'name', 'the archive')} is not a retention archive: its last line is "
            "no record, nor a record cut short; give an archive's path or a new file's"
        )
    return start, False


#: Keys every record has (ArchivedRecord's; ``kind`` and the lists came later in some).
_RECORD_KEYS = frozenset({"action", "archived_at", "node"})


def _record_shaped(value: Any) -> bool:
    """Whether a decoded archive line looks like a record (read_archive validates it fully)."""
    return isinstance(value, dict) and value.keys() >= _RECORD_KEYS


def _end_torn_tail(f: Any) -> None:
    """Make the archive open in ``f`` (``a+b``) end with a whole line before records are
    appended. A process killed while appending a batch's records leaves the last one cut
    short, with no newline; that batch never ran (its records are fsynced before its
    statement), so the cut record is dropped. Appended to as it was, the next batch's first
    record was glued onto it: one unreadable line that hid a record of a batch that did run,
    and read_archive refused the whole file. A last line that is a whole JSON record without
    its newline (written by hand) only gets the newline."""
    start, torn = _torn_tail(f)
    if torn:
        f.truncate(start)
    elif start != f.seek(0, os.SEEK_END):
        f.write(b"\n")


def _sync_directory(directory: Path) -> None:
    """fsync ``directory``, so that a file made in it is there after a power cut: fsyncing a new
    file does not make its name durable. The records fsynced before each batch were in a file
    a crash could take away with its name while the batch's removals stayed."""
    with contextlib.suppress(OSError):  # a file system that cannot sync a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_archive_tail(path: Path) -> None:
    """Refuse, before anything is removed, an existing file that is no archive: one whose first
    line is no record (notes, a CSV, a log, another program's JSON lines or a JSON document:
    the records were appended to it, and read_archive then refused the whole file, the records
    of the run that removed their nodes included), or one whose last line
    :func:`_end_torn_tail` would not take."""
    refused = InvalidArgumentError(
        f"{path} is not a retention archive: it does not begin with a record; give an "
        "archive's path or a new file's"
    )
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
        if head and not head.startswith(b"{"):  # before reading a line that may be the file
            raise refused
        f.seek(0)
        for raw in f:  # the first line that is not blank
            if not raw.strip():
                continue
            if raw.endswith(b"\n"):  # else it is the last line too: _torn_tail's to judge
                try:
                    value = json.loads(raw.decode("utf-8"))
                except (ValueError, RecursionError):
                    value = None
                if not _record_shaped(value):
                    raise refused
            break
        _torn_tail(f)


class _ArchiveWriteError(Exception):
    """The archive's OSError, told apart from any other one raised while archiving."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _append(path: Path, data: bytes) -> None:
    """Append ``data`` (whole records) to the archive at ``path`` and fsync it, or raise the
    OSError and leave the archive as it was. A write cut short (a full disk, a file size limit)
    left the records it did write, the last one torn: read_retention_archive then refused the
    whole file, the records of the batches that had run included, until another apply cut the
    tail off. Written to the descriptor, not through the buffer: a failed flush was tried
    again, and failed again, when the file was closed."""
    with open(path, "a+b") as f:
        # One applier at a time: another apply_retention appending to the same archive (a
        # job overlapping the last one, two threads) left its record cut short for a moment
        # while it wrote, and this one's _end_torn_tail took it for a torn record and cut
        # it off: 3 of 60 records gone from the archive, their nodes deleted all the same.
        _lock(f, fcntl.LOCK_EX)
        _end_torn_tail(f)
        f.flush()
        start = f.seek(0, os.SEEK_END)
        fd = f.fileno()
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):  # shrinking needs no space
                os.ftruncate(fd, start)
            raise


def _archived(rec: Any) -> ArchivedRecord:
    """One archive line's record, validated."""
    if not isinstance(rec, dict) or not isinstance(rec.get("node"), dict):
        raise TypeError("a record is an object whose node is an object")
    kind = NodeKind(rec["kind"])
    if kind is NodeKind.CONTEXT:
        raise ValueError("contexts are not archived")
    node = decode_node(kind, rec["node"], validate=True)
    assert isinstance(node, Artifact | Execution)
    events = rec["events"]
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise TypeError("a record's events are a list of objects")
    return ArchivedRecord(
        action=rec["action"],
        archived_at=rec["archived_at"],
        node=node,
        events=[decode_event(e, validate=True) for e in events],
        context_ids=rec["context_ids"],
    )


class _Components:
    """Union-find over (kind, id) nodes, recording which groups touch a node that stays."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}
        self.touches: set[tuple[str, int]] = set()

    def add(self, node: tuple[str, int]) -> None:
        self.parent.setdefault(node, node)

    def find(self, node: tuple[str, int]) -> tuple[str, int]:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            touching = ra in self.touches or rb in self.touches
            self.parent[rb] = ra
            self.touches.discard(rb)
            if touching:
                self.touches.add(ra)

    def touch(self, node: tuple[str, int]) -> None:
        self.touches.add(self.find(node))


@dataclass
class _Batch:
    islands: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[int] = field(default_factory=list)
    executions: list[int] = field(default_factory=list)
    nodes: int = 0  # kept as islands and ids are added (summing each time is quadratic)

    def size(self) -> int:
        return self.nodes


def _state_ints(states: Iterable[ArtifactState | ExecutionState] | None) -> list[int] | None:
    return sorted(int(s) for s in states) if states is not None else None


def _chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


class Retention(Repository):
    """Plans (dry run) and applies retention policies; see the module docstring."""

    def __init__(self, backend: Any, types: TypeRepository) -> None:
        super().__init__(backend)
        self.types = types

    # ------------------------------------------------------------------------------ policy

    @staticmethod
    def policy(**criteria: Any) -> RetentionPolicy:
        """A checked policy from keyword criteria; bad input raises InvalidArgumentError."""
        try:
            policy = RetentionPolicy(**criteria)
        except ValidationError as exc:
            errors = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}"
                for e in exc.errors()
            )
            raise InvalidArgumentError(f"bad retention policy: {errors}") from None
        policy.check()
        return policy

    def _check_types(self, policy: RetentionPolicy) -> None:
        if policy.types is None:
            return
        known = {t.name for kind in policy.kinds for t in self.types.list_all(kind)}
        unknown = sorted(policy.types - known)
        if unknown:
            kinds = " or ".join(sorted(k.value.lower() for k in policy.kinds))
            raise NotFoundError(f"no {kinds} type named {', '.join(map(repr, unknown))}")

    # -------------------------------------------------------------------------------- plan

    def _select(self, kind: NodeKind, policy: RetentionPolicy) -> dict[int, bool]:
        """Selected ids of one kind -> whether each is a tombstone already."""
        if kind not in policy.kinds:
            return {}
        states = policy.artifact_states if kind == NodeKind.ARTIFACT else policy.execution_states
        query = f"retention/select_{'artifacts' if kind == NodeKind.ARTIFACT else 'executions'}"
        params = {
            "created_before": _engine_cut(policy.created_before),
            "updated_before": _engine_cut(policy.updated_before),
            "types": sorted(policy.types) if policy.types is not None else None,
            "states": _state_ints(states),
            "limit": SELECT_PAGE,
        }
        kind_name = kind.value
        out: dict[int, bool] = {}
        for rows in id_pages(
            self.id_end(kind_name),
            SELECT_PAGE,
            lambda after, upto: self.read(query, after_id=after, upto=upto, **params),
            lambda row: int(row["id"]),
        ):
            out.update((int(r["id"]), bool(r["tombstone"])) for r in rows)
        return out

    def _neighbours(self, query: str, ids: Iterable[int]) -> Iterator[tuple[int, int, int]]:
        """(id, neighbour id, EVENT relationships between them) for each linked pair."""
        for chunk in _chunks(sorted(ids), PAGE):
            for row in self.read(query, ids=chunk):
                yield int(row["id"]), int(row["other"]), int(row["events"])

    def plan(self, policy: RetentionPolicy) -> RetentionPlan:
        """The dry run: reads only, changes nothing."""
        policy.check()
        self._check_types(policy)
        created = self._store_created_ms()
        planned_at = now_ms()
        artifacts = self._select(NodeKind.ARTIFACT, policy)
        executions = self._select(NodeKind.EXECUTION, policy)
        serving_a, serving_e = self._serving()
        serving_a &= artifacts.keys()
        serving_e &= executions.keys()
        for a in serving_a:
            del artifacts[a]
        for e in serving_e:
            del executions[e]
        groups = _Components()
        for a in artifacts:
            groups.add(("a", a))
        for e in executions:
            groups.add(("e", e))
        inside: list[tuple[tuple[str, int], int]] = []  # (a node, events) of internal pairs
        for a, e, n in self._neighbours("retention/artifact_neighbours", artifacts):
            if e in executions:
                groups.union(("a", a), ("e", e))
                inside.append((("a", a), n))
            else:
                groups.touch(("a", a))
        for e, a, _ in self._neighbours("retention/execution_neighbours", executions):
            if a not in artifacts:
                groups.touch(("e", e))  # (a selected artifact's edges are unioned above)
        events: dict[tuple[str, int], int] = {}
        for node, n in inside:
            root = groups.find(node)
            events[root] = events.get(root, 0) + n
        members: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
        for node in groups.parent:
            group = members.setdefault(groups.find(node), ([], []))
            group[0 if node[0] == "a" else 1].append(node[1])
        islands: list[tuple[tuple[int, ...], tuple[int, ...], int]] = []
        tomb_a: list[int] = []
        tomb_e: list[int] = []
        kept = 0
        for root, (arts, execs) in members.items():
            if root in groups.touches:
                new_a = [a for a in arts if not artifacts[a]]
                new_e = [e for e in execs if not executions[e]]
                tomb_a += new_a
                tomb_e += new_e
                kept += len(arts) + len(execs) - len(new_a) - len(new_e)
            else:
                islands.append((tuple(sorted(arts)), tuple(sorted(execs)), events.get(root, 0)))
        islands.sort(key=lambda i: min((*i[0], *i[1])))
        return RetentionPlan(
            policy=policy,
            planned_at=planned_at,
            delete_artifacts=tuple(sorted(a for i in islands for a in i[0])),
            delete_executions=tuple(sorted(e for i in islands for e in i[1])),
            tombstone_artifacts=tuple(sorted(tomb_a)),
            tombstone_executions=tuple(sorted(tomb_e)),
            already_tombstones=kept,
            islands=tuple((i[0], i[1]) for i in islands),
            island_events=tuple(i[2] for i in islands),
            serving_artifacts=tuple(sorted(serving_a)),
            serving_executions=tuple(sorted(serving_e)),
            store_created_ms=created,
        )

    def _serving(self) -> tuple[set[int], set[int]]:
        """The latest deployment of each registered model to each environment, and the
        artifacts it deployed: what ``store.tracker.deployed_version`` answers. A policy by age
        deleted the model in production with its deployments when both were older than the cut
        (an island), and the tracker then said nothing was deployed."""
        latest: dict[tuple[Any, Any], tuple[tuple[int, int], list[int]]] = {}
        for row in self.read(
            "retention/serving",
            deployment=DEPLOYMENT_TYPE,
            registered_model=REGISTERED_MODEL_TYPE,
            complete=int(ExecutionState.COMPLETE),
            input=int(EventType.INPUT),
            environment_key=ENVIRONMENT_KEY,
        ):
            key = (row["context"], row["environment"])
            order = (int(row["created"] or 0), int(row["id"]))  # as Tracker.deployments sorts
            if key not in latest or order > latest[key][0]:
                latest[key] = (order, [int(i) for i in row["inputs"]])
        executions = {order[1] for order, _ in latest.values()}
        artifacts = {a for _, inputs in latest.values() for a in inputs}
        return artifacts, executions

    def _store_created_ms(self) -> int | None:
        rows = self.read("meta/get")
        created = rows[0]["created_ms"] if rows else None
        return created if isinstance(created, int) else None

    # ------------------------------------------------------------------------------- apply

    def _batches(
        self,
        plan: RetentionPlan,
        batch_size: int | None,
        *,
        keep: tuple[set[int], set[int]] = (set(), set()),
    ) -> Iterator[_Batch]:
        """The plan in batches, without the artifacts and executions of ``keep`` (serving now).
        An island losing one no longer matches its planned events: tombstoned, not deleted
        (the new deployment links it to what stays)."""
        limit = batch_size or (1 << 62)
        batch = _Batch()
        keep_a, keep_e = keep
        pairs = zip(plan.islands, plan.island_events, strict=True)
        for key, ((arts, execs), events) in enumerate(pairs):
            island = {
                "key": key,
                "artifacts": [a for a in arts if a not in keep_a],
                "executions": [e for e in execs if e not in keep_e],
            }
            batch.islands.append({**island, "events": events})
            batch.nodes += len(arts) + len(execs)
            if batch.size() >= limit:
                yield batch
                batch = _Batch()
        for kind, ids in (
            (NodeKind.ARTIFACT, plan.tombstone_artifacts),
            (NodeKind.EXECUTION, plan.tombstone_executions),
        ):
            for node_id in ids:
                if node_id in (keep_a if kind == NodeKind.ARTIFACT else keep_e):
                    continue
                (batch.artifacts if kind == NodeKind.ARTIFACT else batch.executions).append(node_id)
                batch.nodes += 1
                if batch.size() >= limit:
                    yield batch
                    batch = _Batch()
        if batch.size():
            yield batch

    def _archive(self, path: Path, batch: _Batch) -> tuple[int, dict[str, dict[str, str]]]:
        """Append the batch's full records to ``path`` and fsync, before anything changes.

        Returns the records written and, per kind (``artifact_archived``, ``execution_archived``),
        each archived node's properties as read (``str(id)`` -> the property map): the batch's
        statement removes only nodes still as archived. A node another writer updated between
        this read and that statement (its update acknowledged) was removed with its update in
        no archive: the change was lost for good. Every property is compared, not the update
        time: an update in the same millisecond as the one before it keeps the time (writers
        stamp the clock's millisecond, as MLMD does), and such an update was lost so."""
        stamps: dict[str, dict[str, Any]] = {
            "artifact_archived": {},
            "execution_archived": {},
            "island_contexts": {},
        }
        action: dict[tuple[str, int], str] = {}
        island_of: dict[tuple[str, int], str] = {}
        for island in batch.islands:
            action.update((("Artifact", a), "delete") for a in island["artifacts"])
            action.update((("Execution", e), "delete") for e in island["executions"])
            key = str(island["key"])
            stamps["island_contexts"][key] = 0
            island_of.update((("Artifact", a), key) for a in island["artifacts"])
            island_of.update((("Execution", e), key) for e in island["executions"])
        action.update((("Artifact", a), "tombstone") for a in batch.artifacts)
        action.update((("Execution", e), "tombstone") for e in batch.executions)
        now = now_ms()
        lines: list[str] = []
        for kind, query, other in (
            (NodeKind.ARTIFACT, "retention/archive_artifacts", "execution_id"),
            (NodeKind.EXECUTION, "retention/archive_executions", "artifact_id"),
        ):
            ids = sorted(i for k, i in action if k == kind.value)
            for chunk in _chunks(ids, PAGE):
                for row in self.read(query, ids=chunk):
                    node = dict(row["node"])
                    todo = action[(kind.value, int(node["id"]))]
                    stamps[f"{kind.value.lower()}_archived"][str(node["id"])] = row["node"]
                    if (kind.value, int(node["id"])) in island_of:
                        # its contexts as archived: one added since keeps its island
                        key = island_of[(kind.value, int(node["id"]))]
                        stamps["island_contexts"][key] += len(row["contexts"])
                    if todo == "tombstone" and node.get("tombstone_time_since_epoch") is not None:
                        # A tombstone already: the write leaves it as it is. This plan applied
                        # again (the retry after a batch whose reply was lost) archived the
                        # tombstone a second time, after the node's real record (uri, name and
                        # properties gone): read back latest first, the data was lost.
                        continue
                    own = "artifact_id" if kind == NodeKind.ARTIFACT else "execution_id"
                    events = [{own: node["id"], **e} for e in row["events"]]
                    events.sort(key=lambda e: (e[other], e["type"]))
                    record = {
                        "kind": kind.value,
                        "action": todo,
                        "archived_at": now,
                        "node": node,
                        "events": events,
                        "context_ids": sorted(row["contexts"]),
                    }
                    lines.append(json.dumps(record, sort_keys=True) + "\n")
        try:
            _append(path, "".join(lines).encode("utf-8"))
        except OSError as exc:  # a full disk, a file size limit, the path replaced
            raise _ArchiveWriteError(exc) from exc
        return len(lines), stamps

    def apply(
        self,
        plan: RetentionPlan,
        *,
        archive: str | os.PathLike[str] | None = None,
        batch_size: int | None = PAGE,
    ) -> RetentionResult:
        """Carry out ``plan``: each batch (whole islands + tombstones) is one statement."""
        if not isinstance(plan, RetentionPlan):
            raise InvalidArgumentError(
                f"apply_retention takes a plan from plan_retention, got {type(plan).__name__}"
            )
        try:
            # validated again: a copy with changes (model_copy(update=...)) is not, and one
            # whose islands lacked their event counts was applied batch by batch up to a raw
            # ValueError, the batches before it carried out by a call that failed
            plan = RetentionPlan.model_validate(
                {f: getattr(plan, f) for f in RetentionPlan.model_fields}
            )
        except ValidationError as exc:
            errors = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'plan'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            raise InvalidArgumentError(
                f"not a retention plan as plan_retention makes one ({errors}); nothing was done"
            ) from None
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):  # 1.5 ran (batches of 1.5 nodes), "5" was a TypeError
            raise InvalidArgumentError(
                f"batch_size must be a positive int or None: {shown(batch_size)}"
            )
        if archive is not None:  # an int was a TypeError from pathlib, a NUL a ValueError
            _check_archive_path(archive)
        if plan.store_created_ms is not None and plan.store_created_ms != (
            here := self._store_created_ms()
        ):
            # Its ids are another store's nodes: applied here, they tombstoned (or, where the
            # event counts agreed, deleted) whatever nodes of this store bear them, a model
            # made after the policy's cut included.
            raise InvalidArgumentError(
                f"this retention plan was made on another store (created at "
                f"{plan.store_created_ms} ms, this one at {here}): plan it on this store"
            )
        path = None if archive is None else Path(archive)
        if path is not None and (
            path.is_dir() or not path.parent.is_dir() or (path.exists() and not path.is_file())
        ):
            # A named pipe (or another non-regular file) hung the apply: opening it to write
            # waits for a reader for ever, and the archive is appended to with seeks besides.
            raise InvalidArgumentError(
                f"archive must be a regular file in an existing directory: {path}"
            )
        if path is not None:
            # made even when nothing is selected: the archive of a run that removed nothing
            # is empty, and reading it back gives [] (a nightly job's next step needs no check)
            try:
                created = not path.exists()
                with open(path, "a", encoding="utf-8"):
                    pass
                if created:
                    _sync_directory(path.parent)
                _check_archive_tail(path)
            except OSError as exc:  # unwritable: refused before anything is removed
                raise InvalidArgumentError(
                    f"cannot write the retention archive {path}: {exc.strerror or exc}"
                ) from None
        deleted_a: list[int] = []
        deleted_e: list[int] = []
        tomb_a: list[int] = []
        tomb_e: list[int] = []
        archived = statements = linked = 0
        # What another writer may have changed on a planned node since: checked by the write.
        policy = plan.policy
        recheck = {
            "updated_before": _engine_cut(policy.updated_before),
            "artifact_states": _state_ints(policy.artifact_states),
            "execution_states": _state_ints(policy.execution_states),
        }
        # What serves now: a model deployed since the plan was made (a version it planned to
        # tombstone, being no deployment's then) was tombstoned, and deployed_version answered a
        # DELETED model without its uri. Kept, as a fresh plan keeps it. (A deployment between
        # this read and a batch's write still races it; deploy's own write refuses a model
        # tombstoned before it.)
        keep = self._serving()
        for batch in self._batches(plan, batch_size, keep=keep):
            # Without an archive nothing needs the nodes as they were read.
            stamps: dict[str, Any] = {
                "artifact_archived": None,
                "execution_archived": None,
                "island_contexts": None,
            }
            if path is not None:
                try:
                    written, stamps = self._archive(path, batch)
                except _ArchiveWriteError as failed:
                    reason = failed.error.strerror or str(failed.error)
                    raise CannotWriteError(
                        path,
                        f"{reason.lower()}; this batch and the ones after "
                        f"it were not applied ({statements} before it were: "
                        f"{len(deleted_a)} artifacts and {len(deleted_e)} executions deleted, "
                        f"{len(tomb_a)} artifacts and {len(tomb_e)} executions tombstoned, "
                        "the archive holding their records); plan again once it can be written",
                    ) from None
                archived += written
            rows = self.write(
                "retention/apply",
                islands=batch.islands,
                artifacts=batch.artifacts,
                executions=batch.executions,
                now=now_ms(),
                deleted_state=int(ArtifactState.DELETED),
                **recheck,
                **stamps,
            )
            statements += 1
            row = rows[0]
            deleted_a += row["deleted_artifacts"]
            deleted_e += row["deleted_executions"]
            tomb_a += row["tombstoned_artifacts"]
            tomb_e += row["tombstoned_executions"]
            # an island found linked counts when this statement tombstoned a node of it (not
            # when it was gone, or all tombstones, already: a plan applied twice)
            done_a, done_e = set(row["tombstoned_artifacts"]), set(row["tombstoned_executions"])
            islands = {island["key"]: island for island in batch.islands}
            linked += sum(
                1
                for key in row["linked_islands"]
                if not done_a.isdisjoint(islands[key]["artifacts"])
                or not done_e.isdisjoint(islands[key]["executions"])
            )
        return RetentionResult(
            deleted_artifacts=tuple(sorted(deleted_a)),
            deleted_executions=tuple(sorted(deleted_e)),
            tombstoned_artifacts=tuple(sorted(tomb_a)),
            tombstoned_executions=tuple(sorted(tomb_e)),
            islands_tombstoned=linked,
            archived=archived,
            statements=statements,
        )
