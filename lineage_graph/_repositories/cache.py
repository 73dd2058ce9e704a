""" "Same inputs before" (cache lookup) and the context DAG.

Cache lookup rules (``LineageStore.find_cached_execution``):

* **Inputs** are the artifacts an execution read with an ``INPUT`` event. Given as a collection
  they are a *set* (order and repeats do not matter, nor the events' paths). Given by role, as a
  mapping ``{key: artifact or [artifacts]}`` (as :class:`~lineage_graph.pipeline.Run` records
  them: event path ``[key]`` or ``[key, i]``), each must also have been read in that role: an
  execution that read the same two datasets as ``train`` and ``test`` the other way round does
  not match (TFX keys its cache by input key the same way). ``DECLARED_INPUT`` and
  ``INTERNAL_INPUT`` do not count: MLMD/TFX record what a component actually consumed as
  ``INPUT`` and cache on those.
* **Successful** means ``last_known_state`` ``COMPLETE`` or ``CACHED``, and **reusable** that
  none of its outputs is ``MARKED_FOR_DELETION``, ``DELETED`` or ``ABANDONED`` (retention's
  tombstones, an impact mark): such an execution is passed over for an older one, as TFX passes
  over cached outputs that are no longer live.
* **Content fingerprint**: an artifact's fingerprint is the value of its declared property
  ``digest`` if that is a string, else of its custom property ``digest`` if that is a string
  (other value kinds are not fingerprints). With ``by_fingerprint`` an execution's inputs match
  the given inputs when a one-to-one pairing exists in which each pair is the same artifact or
  two artifacts with the same fingerprint; artifacts without a fingerprint match by id only. So
  a re-produced identical dataset (new id, same digest) still hits.
* **Properties**: each given ``name: value`` must equal the execution's declared *or* custom
  property of that name (same kind; an int also matches the equal double, exactly; NaN matches
  NaN; ``-0.0`` only ``-0.0``: see :func:`same_number`); ``name: None`` means
  the execution has no property of that name at all. ``declared_properties`` and
  ``custom_properties`` hold the same rule for one kind each: the pipeline compares declared
  ones (a run's configuration), never a custom one of the same name (a metric it logged).
* **Newest** wins: the highest execution id among the matches.

Cost: ``graph/write`` keeps ``Execution.input_sig`` (type id, input count and three power sums of
the input ids modulo 2^31 - 1) up to date in the same atomic statement as every event write, and
``input_sig`` is indexed. A lookup is an index seek on the signatures of the acceptable input id
sets (one, or one per combination of same-content artifacts, up to :data:`MAX_SIGNATURES`), then
an exact re-check of the newest candidates. It does not depend on how many executions the store
holds, only on how many executions of the type read exactly those inputs. Above
:data:`MAX_SIGNATURES` combinations, candidates are found through the consumers of the given input
with the fewest same-content copies instead. The miss explanation (``explain=True``) looks for
the nearest execution among the newest :data:`EXPLAIN_WINDOW` executions of the store (an id
range: bounded cost; exact on a store that small); only if the type has none there does it read
the consumers of the given inputs. Pass ``explain=False`` when only the hit matters. Executions
tombstoned by retention lose their signature and never hit (every candidate query leaves them
out: found through the consumers of an input, or by a signature an input added later gave
back, a tombstone used to hit).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._encoding import encode_properties, escape_name, indexable, shown, stored_id
from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import (
    INT64_MAX,
    INT64_MIN,
    Artifact,
    ArtifactState,
    Association,
    Attribution,
    Context,
    Event,
    EventType,
    Execution,
    ExecutionState,
    ExecutionType,
    NodeKind,
    NodeType,
    PropertyType,
    kind_of,
)
from ._base import Repository, id_ranges
from .nodes import NodeRepository, decode_node
from .relations import decode_event
from .types import TypeRepository

__all__ = [
    "CACHE_INPUT_EVENT",
    "EXPLAIN_WINDOW",
    "FINGERPRINT_PROPERTY",
    "MAX_SIGNATURES",
    "SUCCESSFUL_STATES",
    "UNUSABLE_OUTPUT_STATES",
    "CacheInputs",
    "CacheRepository",
    "CacheResult",
    "ContextGraphData",
    "ContextRef",
    "input_signature",
    "same_number",
    "same_value",
]

#: The event type whose artifacts are an execution's inputs for caching.
CACHE_INPUT_EVENT = EventType.INPUT
#: The (declared or custom) string property holding an artifact's content fingerprint.
FINGERPRINT_PROPERTY = "digest"
SUCCESSFUL_STATES = (ExecutionState.COMPLETE, ExecutionState.CACHED)
#: An execution with an output in one of these states is not reused.
UNUSABLE_OUTPUT_STATES = (
    ArtifactState.MARKED_FOR_DELETION,
    ArtifactState.DELETED,
    ArtifactState.ABANDONED,
)
#: Most input id combinations looked up by signature (same-content copies multiply them).
MAX_SIGNATURES = 256
#: A miss is explained from the newest this many executions of the store (bounded cost).
EXPLAIN_WINDOW = 500
_PAGE = 16
_NEAREST = 32
_P = 2_147_483_647  # 2^31 - 1: every product of two residues fits in int64
_NO_ID = 2**63 - 1
_KINDS = "idxsbjaz"

#: A context given by model, id, or ``(type name, context name)``.
ContextRef = Context | int | tuple[str, str]
_ContentKey = tuple[str, str | int]
#: Cache inputs: a collection (a set), or by role ``{key: artifact or [artifacts]}``.
CacheInputs = Iterable[Artifact | int] | Mapping[str, Artifact | int | Iterable[Artifact | int]]
#: An input given by role: its artifact id and the event path it must have been read with.
_Role = tuple[int, tuple[str | int, ...]]


def input_signature(type_id: int, artifact_ids: Iterable[int]) -> str:
    """``Execution.input_sig`` of an execution of ``type_id`` reading ``artifact_ids`` (mirrors
    the formula in ``cypher/graph/write.cypher``; order and repeats do not matter)."""
    n, s1, s2, s3 = input_sums(set(artifact_ids))
    return f"{type_id}/{n}:{s1}:{s2}:{s3}"


def input_sums(artifact_ids: Collection[int]) -> tuple[int, int, int, int]:
    """The count and the three power sums (mod 2^31 - 1) of ``input_signature`` over distinct
    ``artifact_ids``: what INPUT events added to a stored execution add to its fingerprint
    (FalkorDB's graph/write adds them to the stored sums, ``$input_sums``)."""
    s1 = s2 = s3 = 0
    for i in artifact_ids:
        x = i % _P
        x2 = x * x % _P
        s1 += x
        s2 += x2
        s3 += x2 * x % _P
    return len(artifact_ids), s1 % _P, s2 % _P, s3 % _P


def _fingerprint(row: Mapping[str, Any]) -> str | None:
    """The input's content fingerprint: its ``digest`` string, declared before custom. An empty
    or blank one is none (a digest not computed yet: every artifact holding ``""`` counted as
    the same content, and one's execution was a hit for another's)."""
    for key in ("pd", "cd"):
        value = row.get(key)
        if isinstance(value, str):
            return value if value.strip() else None
    return None


def _content_key(row: Mapping[str, Any], by_fingerprint: bool) -> _ContentKey:
    digest = _fingerprint(row) if by_fingerprint else None
    return ("digest", digest) if digest is not None else ("id", _artifact_id(row["id"]))


def _path_of(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """An input row's event path (stored as JSON text, ``"[]"`` when empty)."""
    raw = row.get("path")
    return tuple(json.loads(raw)) if isinstance(raw, str) and raw else ()


@dataclass(frozen=True)
class CacheResult:
    """The answer of :meth:`LineageStore.find_cached_execution` (truthy on a hit).

    On a hit: ``execution``, its ``outputs`` with their ``output_events`` (aligned; an event's
    ``path`` tells which output is which) and ``matched_by`` (``"id"``: the very same input
    artifacts; ``"digest"``: some inputs matched by content fingerprint). On a miss with an
    explanation: the ``nearest`` execution of the type (fewest given inputs missing, then fewest
    extra, then read in the given roles, then the newest), the given input ids it did not read
    (``missing_inputs``), the ids it read that were not given (``extra_inputs``), the wanted
    properties it does not match (``property_diffs``: name -> ``(wanted, its value or None)``),
    and ``reason`` in words.
    """

    hit: bool
    execution: Execution | None = None
    outputs: list[Artifact] = field(default_factory=list)
    output_events: list[Event] = field(default_factory=list)
    matched_by: Literal["id", "digest"] | None = None
    nearest: Execution | None = None
    missing_inputs: list[int] = field(default_factory=list)
    extra_inputs: list[int] = field(default_factory=list)
    property_diffs: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reason: str = ""

    def __bool__(self) -> bool:
        return self.hit


@dataclass
class ContextGraphData:
    """The parts of a context's graph (wrapped into a ``LineageGraph`` by the store)."""

    artifacts: list[Artifact] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)
    attributions: list[Attribution] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)


# ------------------------------------------------------------------------------- properties


#: Where a wanted property may be held: declared or custom (``"pc"``), declared only (``"p"``),
#: custom only (``"c"``).
Scopes = Literal["pc", "p", "c"]
#: One wanted property: ``(name, value or None, scopes)``.
_Wanted = tuple[str, Any, Scopes]


def _wanted(
    properties: Mapping[str, Any] | None,
    declared: Mapping[str, Any] | None,
    custom: Mapping[str, Any] | None,
) -> list[_Wanted]:
    out: list[_Wanted] = []
    scoped: tuple[tuple[Mapping[str, Any] | None, Scopes], ...] = (
        (properties, "pc"),
        (declared, "p"),
        (custom, "c"),
    )
    for mapping, scopes in scoped:
        if mapping is not None and not isinstance(mapping, Mapping):
            raise InvalidArgumentError(
                f"properties are a mapping of names to values, got {shown(mapping)}"
            )
        for name, value in (mapping or {}).items():
            if not isinstance(name, str) or not name:
                raise InvalidArgumentError("property names must be non-empty strings")
            out.append((name, value, scopes))
    return out


def _alternatives(name: str, value: Any, scopes: Scopes = "pc") -> list[dict[str, Any]]:
    """Encoded ``{key, value}`` pairs any of which holding means ``name`` equals ``value``."""
    try:
        kind = kind_of(value)
    except ValueError as exc:
        raise InvalidArgumentError(f"property {shown(name)}: {exc}") from None
    kinds: list[tuple[PropertyType, Any]] = [(kind, value)]
    if kind == PropertyType.INT:
        as_float = float(value)
        if as_float == value:
            kinds.append((PropertyType.DOUBLE, as_float))
    elif (
        kind == PropertyType.DOUBLE
        and math.isfinite(value)
        and value.is_integer()
        and not _negative_zero(value)  # -0.0 is no int (it matched 0, yet not 0.0)
        # 2.0**63 is no int64: sent as one, FalkorDB read it as 2**63 - 1 and matched that
        and INT64_MIN <= value <= INT64_MAX
    ):
        kinds.append((PropertyType.INT, int(value)))
    out: list[dict[str, Any]] = []
    for scope in ("p", "c"):
        if scope not in scopes:
            continue
        for k, v in kinds:
            encoded = encode_properties(scope, {name: v}, {name: k})
            for key, stored in encoded.items():
                if key[1] != "d":  # a double's exact value is its ``x`` key
                    out.append({"key": key, "value": stored})
    return out


def _property_filters(wanted: list[_Wanted]) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    for name, value, scopes in wanted:
        if value is None:
            escaped = escape_name(name)
            absent = [f"{s}{k}__{escaped}" for s in scopes for k in _KINDS]
            filters.append({"alts": [], "absent": absent})
        else:
            filters.append({"alts": _alternatives(name, value, scopes), "absent": []})
    return filters


def _negative_zero(value: Any) -> bool:
    return isinstance(value, float) and value == 0 and math.copysign(1.0, value) < 0


def same_number(a: int | float, b: int | float) -> bool:
    """The property rule for two numbers: equal exactly (an int and the equal double too: not
    through float(), which made 2**53 + 1 equal 2**53), NaN equal to NaN (stored as ``nan``),
    and ``-0.0`` only to ``-0.0``: a double is stored as its exact text, so the lookup never
    matched ``-0.0`` and ``0.0`` (a function may tell them apart: ``1 / x``, ``atan2``), and
    an int has no sign."""
    if a != a or b != b:
        return a != a and b != b
    return bool(a == b) and _negative_zero(a) == _negative_zero(b)


def same_value(a: Any, b: Any) -> bool:
    """Whether two property values are the same recorded value: a bool is never a number,
    numbers as :func:`same_number`, a struct (dict or list) compared as the JSON text the store
    keeps (``{"a": 1}`` is not ``{"a": 1.0}``), anything else by ``==``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return same_number(a, b)
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        # a struct is its JSON text, as stored: {"a": 1} is not {"a": 1.0} nor {"a": True}
        # (== said they were: a miss on one was explained as a match)
        text = _json(a)
        return text is not None and text == _json(b)
    return bool(a == b)


def _json(value: Any) -> str | None:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=True)
    except (TypeError, ValueError):
        return None


def _held(node: Execution, scopes: Scopes) -> list[dict[str, Any]]:
    return [d for s, d in (("p", node.properties), ("c", node.custom_properties)) if s in scopes]


def property_matches(node: Execution, name: str, wanted: Any, scopes: Scopes = "pc") -> bool:
    """The Python statement of the property rule (for explanations and test oracles)."""
    found = [d[name] for d in _held(node, scopes) if name in d]
    if wanted is None:
        return not found
    return any(same_value(v, wanted) for v in found)


def _property_value(node: Execution, name: str, scopes: Scopes = "pc") -> Any:
    for d in _held(node, scopes):
        if name in d:
            return d[name]
    return None


# ----------------------------------------------------------------------------------- lookup


@dataclass
class _Candidate:
    execution: Execution
    inputs: list[dict[str, Any]]


@dataclass
class _Why:
    """What a miss's explanation needs from the search: the input rule, the executions that
    matched but whose outputs are no longer usable."""

    matches: Callable[[_Candidate], bool]
    passed_over: list[int] = field(default_factory=list)
    #: The inputs given by role (None: as a collection): the engine ranks an execution that
    #: read exactly the inputs in other roles after one that read them in these.
    roles: list[_Role] | None = None


def _matcher(
    ids: list[int],
    roles: list[_Role] | None,
    rows: list[dict[str, Any]],
    wanted: Counter[_ContentKey],
    by_fingerprint: bool,
) -> Callable[[_Candidate], bool]:
    """Whether a candidate read the given inputs: as a set, or each in its role too."""
    if roles is None:

        def as_set(c: _Candidate) -> bool:
            got = Counter(_content_key(i, by_fingerprint) for i in c.inputs)
            return len(c.inputs) == len(ids) and got == wanted

        return as_set
    key_of = {_artifact_id(r["id"]): _content_key(r, by_fingerprint) for r in rows}
    wanted_roles = Counter((key_of[i], path) for i, path in roles)

    def by_role(c: _Candidate) -> bool:
        got = Counter((_content_key(i, by_fingerprint), _path_of(i)) for i in c.inputs)
        return got == wanted_roles

    return by_role


def _artifact_id(ident: object) -> int:
    """An artifact id a row read (an input, a candidate's input, one of a fingerprint's), or
    StoredValueError naming it: ``int()`` raised a bare ValueError on text and read 2.5 as
    artifact 2."""
    return stored_id("Artifact", ident)


def _decode_artifact(node: Mapping[str, Any]) -> Artifact:
    artifact = decode_node(NodeKind.ARTIFACT, node)
    assert isinstance(artifact, Artifact)  # (decode_node's kind: for the type checker)
    return artifact


def _stored_ids(ids: list[int]) -> list[int]:
    """The input ids a node may have: one past int64 (no node has one) is missing, never sent
    (Neo4j's driver cannot encode it: OverflowError, an InvalidArgumentError, where FalkorDB
    found nothing and the caller got NotFoundError)."""
    return [i for i in ids if i <= INT64_MAX]


def _listed(ids: set[int]) -> str:
    """Ids not found, as a sorted list; one past Python's limit on int to str conversion (no
    store holds it) by its size, as :func:`shown` has it: the message raised ValueError."""
    return f"[{', '.join(shown(i) for i in sorted(ids))}]"


class CacheRepository(Repository):
    def __init__(
        self,
        backend: Any,
        types: TypeRepository,
        artifacts: NodeRepository[Artifact],
        executions: NodeRepository[Execution],
        contexts: NodeRepository[Context],
    ) -> None:
        super().__init__(backend)
        self.types = types
        self.artifacts = artifacts
        self.executions = executions
        self.contexts = contexts

    # ------------------------------------------------------------------------------ inputs

    def _resolve_type(
        self, execution_type: str | ExecutionType, type_version: str | None
    ) -> NodeType | None:
        if isinstance(execution_type, ExecutionType):
            type_id, name = execution_type.id, execution_type.name
            version = execution_type.version if type_version is None else type_version
        elif isinstance(execution_type, str) and execution_type:
            type_id, name, version = None, execution_type, type_version
        else:
            raise InvalidArgumentError("execution_type must be a type name or an ExecutionType")
        try:
            return self.types.resolve(NodeKind.EXECUTION, type_id, name, version)
        except InvalidArgumentError:
            if type_id is not None:
                raise
            return None

    @staticmethod
    def _input_id(item: object, what: str) -> int:
        if isinstance(item, Artifact):
            if item.id is None:
                raise InvalidArgumentError(f"{what}: the artifact has no id (store it)")
            item = item.id  # checked as an id given alone: a model built without validation
            # may hold a list (a bare "unhashable type"), a str (a bare TypeError) or True
            # (taken for artifact 1)
        if isinstance(item, int) and not isinstance(item, bool) and item > 0:
            return item
        raise InvalidArgumentError(
            f"{what}: expected an Artifact or a positive artifact id, got {shown(item)}"
        )

    @classmethod
    def _inputs(cls, inputs: CacheInputs) -> tuple[list[int], list[_Role] | None]:
        """The distinct input ids, and with inputs by role each ``(id, event path)``."""
        if isinstance(inputs, Artifact | int | str | bytes) or not isinstance(inputs, Iterable):
            raise InvalidArgumentError(
                "inputs must be a collection of artifacts or artifact ids, or a mapping of them "
                f"([] for none), got {shown(inputs)}"
            )
        if not isinstance(inputs, Mapping):
            return sorted({cls._input_id(v, f"input #{i}") for i, v in enumerate(inputs)}), None
        roles: list[_Role] = []
        for key, value in inputs.items():
            if not isinstance(key, str) or not key:
                raise InvalidArgumentError(
                    f"input keys must be non-empty strings, got {shown(key)}"
                )
            if isinstance(value, Artifact | int | str | bytes) or not isinstance(value, Iterable):
                roles.append((cls._input_id(value, f"input {shown(key)}"), (key,)))
                continue
            for i, v in enumerate(value):
                roles.append((cls._input_id(v, f"input {shown(key)}[{i}]"), (key, i)))
        return sorted({i for i, _ in roles}), roles

    def _read_inputs(self, ids: list[int]) -> list[dict[str, Any]]:
        sent = _stored_ids(ids)
        rows = self.read("cache/input_artifacts", ids=sent) if sent else []
        missing = set(ids) - {_artifact_id(r["id"]) for r in rows}
        if missing:
            raise NotFoundError(f"no artifact with id {_listed(missing)}")
        return rows

    # ---------------------------------------------------------------------------- find

    def find(
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
        ids, roles = self._inputs(inputs)
        wanted_properties = _wanted(properties, declared_properties, custom_properties)
        filters = _property_filters(wanted_properties)
        t = self._resolve_type(execution_type, type_version)
        if t is None:
            self._read_inputs(ids)  # a missing input is an error all the same
            if isinstance(execution_type, str):
                name, version = execution_type, type_version
            else:
                name = execution_type.name
                version = execution_type.version if type_version is None else type_version
            same_name = [x for x in self.types.list_all(NodeKind.EXECUTION) if x.name == name]
            if same_name:
                # "no execution type named 'T'" of a T the store holds in versions (MLMD type
                # versions): each version is a type of its own, found by type_version
                versions = sorted(x.version for x in same_name if x.version is not None)
                has = f"its versions: {', '.join(versions)}" if versions else "it has no versions"
                which = "no unversioned" if version is None else f"no version {version!r} of"
                return CacheResult(
                    False, reason=f"{which} execution type {name!r} ({has}; see type_version)"
                )
            return CacheResult(False, reason=f"no execution type named {name!r}")
        assert t.id is not None
        params: dict[str, Any] = {
            "states": [int(s) for s in SUCCESSFUL_STATES],
            "properties": filters,
            "limit": _PAGE,
        }
        # One round trip first: the inputs, the first candidates for exactly these ids, and the
        # outputs of the newest one that read exactly them.
        first = self.read(
            "cache/lookup",
            ids=_stored_ids(ids),
            sigs=[input_signature(t.id, ids)],
            before=_NO_ID,
            **params,
        )[0]
        rows = list(first["given"])
        missing = set(ids) - {_artifact_id(r["id"]) for r in rows}
        if missing:
            raise NotFoundError(f"no artifact with id {_listed(missing)}")
        wanted = Counter(_content_key(r, by_fingerprint) for r in rows)
        classes = self._classes(rows, wanted) if by_fingerprint else {}
        why = _Why(_matcher(ids, roles, rows, wanted, by_fingerprint), roles=roles)

        def reusable(
            c: _Candidate, outputs: Iterable[Mapping[str, Any]] | None = None
        ) -> CacheResult | None:
            if not why.matches(c):
                return None
            same_ids = {_artifact_id(i["id"]) for i in c.inputs} == set(ids)
            if outputs is None:
                outputs = self.read("cache/outputs", id=c.execution.id)
            result = self._result(c.execution, "id" if same_ids else "digest", outputs)
            if any(a.state in UNUSABLE_OUTPUT_STATES for a in result.outputs):
                why.passed_over.append(c.execution.id or 0)
                return None
            return result

        def miss() -> CacheResult:
            if not explain:
                return CacheResult(
                    False, reason="no successful execution with these inputs and usable outputs"
                )
            return self._explain(
                t, ids, rows, wanted, classes, wanted_properties, by_fingerprint, why
            )

        # Once a match with an unusable output is met, the rest is read with the *_usable
        # statements, which leave such matches out in the engine (and cost a walk over every
        # execution on these inputs: only then).
        usable_only = False

        def scan(page: list[_Candidate], skip: int | None = None) -> CacheResult | int | None:
            """The first reusable candidate of a page (newest first), else the id the next page
            is read before: the first match met with an unusable output (the *_usable reads
            from then on), or the page's oldest; None after a last page."""
            nonlocal usable_only
            for c in page:
                if c.execution.id == skip:
                    continue
                if (found := reusable(c)) is not None:
                    return found
                if why.passed_over and not usable_only:
                    usable_only = True
                    return why.passed_over[-1]
            return int(page[-1].execution.id or 0) if len(page) >= _PAGE else None

        # The id the next page is read before; a hit, or None after a last page, ends the search.
        before: CacheResult | int | None = _NO_ID
        if not classes:  # a candidate matches iff it read exactly these ids (in these roles)
            # The usual hit: the newest candidate that read exactly these ids, decoded alone.
            hit_id = first["hit_id"]
            row = next((r for r in first["candidates"] if r["node"]["id"] == hit_id), None)
            if row is not None:
                exact = _Candidate(self._decode_execution(row["node"]), list(row["inputs"]))
                if (found := reusable(exact, first["outputs"])) is not None:
                    return found
            page = self._page(first["candidates"])  # every row read is decoded (checked)
            if why.passed_over:  # the exact one: no newer candidate read exactly these ids
                usable_only, before = True, why.passed_over[-1]
            elif not isinstance(before := scan(page, skip=hit_id), int):
                return miss() if before is None else before
        combos = self._combinations(ids, rows, wanted, classes)
        if combos is not None:
            query = "cache/candidates"
            params["sigs"] = sorted({input_signature(t.id, c) for c in combos})
        else:
            query = "cache/candidates_by_anchor"
            anchor = min(classes.values(), key=len)
            params.update(type_id=t.id, anchor_ids=sorted(anchor), count=len(ids))
        while isinstance(before, int):
            if usable_only:
                rows_read = self.read(
                    query + "_usable",
                    before=before,
                    unusable=[int(s) for s in UNUSABLE_OUTPUT_STATES],
                    **params,
                )
            else:
                rows_read = self.read(query, before=before, **params)
            before = scan(self._page(rows_read))
        return miss() if before is None else before

    def _page(self, rows: Iterable[Mapping[str, Any]]) -> list[_Candidate]:
        """Candidates newest first (each with the inputs it read)."""
        page = [_Candidate(self._decode_execution(r["node"]), list(r["inputs"])) for r in rows]
        page.sort(key=lambda c: -(c.execution.id or 0))
        return page

    def _unusable(self, execution: Execution) -> bool:
        """Whether an output of ``execution`` is in a state a cache hit cannot reuse."""
        rows = self.read("cache/outputs", id=execution.id)
        # decoded (a few outputs): a state written around the library is StoredValueError
        # naming it, where int() raised a bare ValueError ("LIVE") or TypeError (a list)
        outputs = [_decode_artifact(r["node"]) for r in rows]
        return any(a.state in UNUSABLE_OUTPUT_STATES for a in outputs)

    def _decode_execution(self, node: Mapping[str, Any]) -> Execution:
        execution = decode_node(NodeKind.EXECUTION, node)
        assert isinstance(execution, Execution)
        return execution

    def _classes(
        self, rows: list[dict[str, Any]], wanted: Counter[_ContentKey]
    ) -> dict[_ContentKey, set[int]]:
        """For each fingerprint among the inputs: every artifact with that fingerprint."""
        digests = sorted({str(k[1]) for k in wanted if k[0] == "digest"})
        if not digests:
            return {}
        classes: dict[_ContentKey, set[int]] = {("digest", d): set() for d in digests}
        query = (
            "cache/artifacts_by_digest"
            if all(map(indexable, digests))
            else "cache/artifacts_by_digest_unindexed"
        )
        for r in self.read(query, digests=digests):
            key = _content_key(r, True)
            if key in classes:
                classes[key].add(_artifact_id(r["id"]))
        for r in rows:  # the given ones, whatever the index says
            key = _content_key(r, True)
            if key in classes:
                classes[key].add(_artifact_id(r["id"]))
        return classes

    @staticmethod
    def _combinations(
        ids: list[int],
        rows: list[dict[str, Any]],
        wanted: Counter[_ContentKey],
        classes: Mapping[_ContentKey, set[int]],
    ) -> list[list[int]] | None:
        """Every input id set with the wanted content, or None if there are too many."""
        if not classes:
            return [ids]
        fixed = [_artifact_id(r["id"]) for r in rows if _content_key(r, True)[0] == "id"]
        count = 1
        for key, members in classes.items():
            count *= math.comb(len(members), wanted[key])
            if count > MAX_SIGNATURES:
                return None
        choices = [
            list(itertools.combinations(sorted(members), wanted[key]))
            for key, members in sorted(classes.items())
        ]
        return [
            fixed + [i for part in combo for i in part] for combo in itertools.product(*choices)
        ]

    @staticmethod
    def _result(
        execution: Execution,
        matched_by: Literal["id", "digest"],
        output_rows: Iterable[Mapping[str, Any]],
    ) -> CacheResult:
        """A hit, with the outputs (``{node, type, path, ms}`` rows) in artifact, type order."""
        pairs: list[tuple[Artifact, Event]] = []
        for r in output_rows:  # decoded first: a value another writer stored is named
            artifact = _decode_artifact(r["node"])
            event = decode_event(
                {
                    "artifact_id": artifact.id,
                    "execution_id": execution.id,
                    "type": r["type"],
                    "path": r["path"],
                    "ms": r["ms"],
                }
            )
            pairs.append((artifact, event))
        pairs.sort(key=lambda p: (p[0].id, int(p[1].type)))
        outputs = [p[0] for p in pairs]
        events = [p[1] for p in pairs]
        return CacheResult(
            True,
            execution=execution,
            outputs=outputs,
            output_events=events,
            matched_by=matched_by,
            reason=f"execution {execution.id} ran on the same inputs"
            + (" (by content fingerprint)" if matched_by == "digest" else ""),
        )

    # ----------------------------------------------------------------------------- explain

    @staticmethod
    def _rank_params(
        ids: list[int],
        rows: list[dict[str, Any]],
        wanted: Counter[_ContentKey],
        classes: Mapping[_ContentKey, set[int]],
        by_fingerprint: bool,
        roles: list[_Role] | None,
    ) -> dict[str, Any]:
        """What the engine ranks a miss's candidates by, as ``_explain`` does (the LIMIT must
        not cut its choice): ``classes``, each content class of the given inputs (``ids``: its
        artifacts, ``n``: how many given inputs hold it; a candidate has found
        ``min(n, its inputs among ids)`` of them, as ``diff`` pairs them), and ``roles``, each
        ``(content class, event path as stored)`` of inputs given by role with its count."""

        def members(key: _ContentKey) -> list[int]:
            return sorted(classes[key]) if key[0] == "digest" else [int(key[1])]

        key_of = {_artifact_id(r["id"]): _content_key(r, by_fingerprint) for r in rows}
        in_roles = Counter(
            (key_of[i], json.dumps(list(path)) if path else "[]") for i, path in roles or ()
        )
        return {
            "classes": [{"ids": members(k), "n": n} for k, n in wanted.items()],
            "roles": [{"ids": members(k), "path": p, "n": n} for (k, p), n in in_roles.items()],
            "count": len(ids),
        }

    def _explain(
        self,
        t: NodeType,
        ids: list[int],
        rows: list[dict[str, Any]],
        wanted: Counter[_ContentKey],
        classes: Mapping[_ContentKey, set[int]],
        properties: list[_Wanted],
        by_fingerprint: bool,
        why: _Why,
    ) -> CacheResult:
        related = sorted(set(ids).union(*classes.values()) if classes else set(ids))
        rank = self._rank_params(ids, rows, wanted, classes, by_fingerprint, why.roles)
        # Bounded first: the newest EXPLAIN_WINDOW executions of the store (all of a small one).
        found = self.read(
            "cache/recent_executions",
            window=EXPLAIN_WINDOW,
            type_id=t.id,
            limit=_NEAREST,
            **rank,
        )
        if not found and related:  # the type ran only long ago: its consumers of the inputs
            found = self.read("cache/nearest", ids=related, type_id=t.id, limit=_NEAREST, **rank)
        if not found:
            found = self.read("cache/newest", type_id=t.id)
        if not found:
            return CacheResult(False, reason=f"no execution of type {t.name!r} was recorded")
        given_key = {_artifact_id(r["id"]): _content_key(r, by_fingerprint) for r in rows}

        def diff(inputs: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
            # Pair identical ids first, then equal fingerprints.
            theirs = {_artifact_id(i["id"]): _content_key(i, by_fingerprint) for i in inputs}
            missing = [i for i in ids if i not in theirs]
            extra = [i for i in sorted(theirs) if i not in given_key]
            left = Counter(theirs[i] for i in extra)
            still_missing = []
            for i in missing:
                key = given_key[i]
                if key[0] == "digest" and left[key] > 0:
                    left[key] -= 1
                else:
                    still_missing.append(i)
            matched = Counter(given_key[i] for i in missing) - Counter(
                given_key[i] for i in still_missing
            )
            still_extra = []
            for i in extra:
                key = theirs[i]
                if matched[key] > 0:
                    matched[key] -= 1
                else:
                    still_extra.append(i)
            return still_missing, still_extra

        scored = []
        tombstones: set[int] = set()
        for r in found:
            execution = self._decode_execution(r["node"])
            if r["node"].get("tombstone_time_since_epoch") is not None:
                tombstones.add(execution.id or 0)
            missing, extra = diff(list(r["inputs"]))
            roles_differ = not (missing or extra) and not why.matches(
                _Candidate(execution, list(r["inputs"]))
            )
            scored.append(
                (
                    len(missing),
                    len(extra),
                    roles_differ,
                    -(execution.id or 0),
                    execution,
                    missing,
                    extra,
                )
            )
        # Most inputs in common (fewest missing), then fewest extra, same roles, the newest.
        _, _, roles_differ, _, nearest, missing, extra = min(scored, key=lambda s: s[:4])
        diffs = {
            name: (value, _property_value(nearest, name, scopes))
            for name, value, scopes in properties
            if not property_matches(nearest, name, value, scopes)
        }
        parts = []
        if missing:
            parts.append(f"did not read input(s) {missing}")
        if extra:
            parts.append(f"also read {extra}")
        if roles_differ:
            parts.append("read these inputs in other roles (event paths)")
        if nearest.id in why.passed_over or (
            not (parts or diffs)
            and nearest.last_known_state in SUCCESSFUL_STATES
            and self._unusable(nearest)
        ):
            parts.append("has an output that is deleted, abandoned or marked for deletion")
        if diffs:
            parts.append(f"has different properties {sorted(diffs)}")
        if nearest.last_known_state not in SUCCESSFUL_STATES:
            parts.append(f"is {nearest.last_known_state.name}")
        if nearest.id in tombstones:
            parts.append("is a retention tombstone")
        reason = f"nearest execution {nearest.id} of type {t.name!r} " + (
            "; ".join(parts) if parts else "matches but was recorded after this lookup began"
        )
        return CacheResult(
            False,
            nearest=nearest,
            missing_inputs=missing,
            extra_inputs=extra,
            property_diffs=diffs,
            reason=reason,
        )

    # ------------------------------------------------------------------------ context graph

    def _resolve_context(self, context: ContextRef) -> Context:
        found: Context | None = None
        if isinstance(context, Context) and context.id is not None:
            found = next(iter(self.contexts.get_by_ids([context.id])), None)
        elif isinstance(context, Context):
            if context.type is None:
                raise InvalidArgumentError("a context without id needs its type name and name")
            found = self.contexts.get_by_type_and_name(
                context.type, context.name, context.type_version
            )
        elif isinstance(context, int) and not isinstance(context, bool):
            found = next(iter(self.contexts.get_by_ids([context])), None)
        elif (
            isinstance(context, tuple)
            and len(context) == 2
            and all(isinstance(x, str) for x in context)
        ):
            found = self.contexts.get_by_type_and_name(context[0], context[1])
        else:
            raise InvalidArgumentError(
                f"expected a Context, a context id or (type, name), got {shown(context)}"
            )
        if found is None:
            raise NotFoundError(f"no context {shown(context)}")
        return found

    def context_graph(
        self, context: ContextRef, *, include_children: bool = False
    ) -> ContextGraphData:
        root = self._resolve_context(context)
        assert root.id is not None
        context_ids = {root.id}
        if include_children:
            frontier = {root.id}
            while frontier:  # one query per level of nesting; each context visited once
                rows = self.read("cache/context_children", ids=sorted(frontier))
                frontier = {stored_id("Context", r["id"]) for r in rows} - context_ids
                context_ids |= frontier
        attributions: list[Attribution] = []
        associations: list[Association] = []
        rows = self.read("cache/context_members", ids=sorted(context_ids))
        # In the order the links were written (``seq``), links stored before that was kept
        # first, by their ends: as lineage(include_contexts=True) lists them (it listed them by
        # their ends here, so one context's links came in two orders from the two calls).
        for r in sorted(rows, key=lambda r: (r["seq"], r["node_id"], r["context_id"])):
            association = r["link"] == "association"
            node_id = stored_id("Execution" if association else "Artifact", r["node_id"])
            context_id = stored_id("Context", r["context_id"])
            if association:
                associations.append(Association(execution_id=node_id, context_id=context_id))
            else:
                attributions.append(Attribution(artifact_id=node_id, context_id=context_id))
        execution_ids = sorted({a.execution_id for a in associations})
        events = (
            self.read("events/get_by_execution_ids", ranges=id_ranges(execution_ids))
            if execution_ids
            else []
        )
        decoded = [decode_event(r) for r in events]
        artifact_ids = sorted(
            {a.artifact_id for a in attributions} | {_artifact_id(r["artifact_id"]) for r in events}
        )
        contexts = self.contexts.get_by_ids(sorted(context_ids))
        return ContextGraphData(
            artifacts=self.artifacts.get_by_ids(artifact_ids) if artifact_ids else [],
            executions=self.executions.get_by_ids(execution_ids) if execution_ids else [],
            events=decoded,
            contexts=contexts,
            attributions=attributions,
            associations=associations,
        )
