"""The embedded store's schema: its indexes and uniqueness constraints, and the property keys
and relationship types registered before any statement uses them (FalkorDB 4.16 undoes a key
made by a failed statement, and compiles a pattern against the types known when it arrives).
Every step is idempotent: a server restarted meanwhile gets the whole of it once more."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, LiteralString

from ..exceptions import EngineError, EngineUnavailableError, FailedPreconditionError, QueryError
from ._base import IndexSpec, SchemaSpec
from ._embedded_errors import _map_error

if TYPE_CHECKING:
    from .embedded import EmbeddedBackend

#: Registers property keys (``$keys``: a map of every key to 0) on an unlabelled node made and
#: deleted in the same statement: it leaves nothing behind but the keys. A null value would not
#: do (FalkorDB skips it on a node without properties, and the key stays unknown).
REGISTER_KEYS: LiteralString = (
    "CALL db.propertyKeys() YIELD propertyKey WITH count(propertyKey) AS known "
    "WHERE 1 / (CASE WHEN known + $count <= $most THEN 1 ELSE 0 END) = 1 "
    "CREATE (x) SET x += $keys DELETE x"
)
#: The most property keys one FalkorDB 4.16 graph tells apart: a key's id is 16 bits, and a key
#: made past them silently takes the id of an earlier one (measured: a value written as "new6"
#: read back as "kind", the graph's first key). The two highest ids are reserved (65,534 stands
#: for every key, 65,535 for none): a property stored under either is listed by properties(n)
#: but ``n.key`` reads null (filters, the cache and masked updates missed it; measured). So
#: 65,534 usable keys, ids 0 to 65,533. REGISTER_KEYS refuses to pass it.
MOST_PROPERTY_KEYS = 65_534
#: Keys kept for the library's own (a later version's fixed keys, registered when a store
#: opens): the data's keys stop this many short of the limit, so an upgrade still opens a full
#: store.
LIBRARY_KEYS_RESERVE = 64
#: The property keys the graph knows (a read: registering only the others keeps opening a store
#: that is up to date free of writes, which would fail a staged import's WATCH).
KNOWN_KEYS: LiteralString = "CALL db.propertyKeys() YIELD propertyKey RETURN propertyKey AS key"
#: Every relationship type the library's statements write (SETTLE_QUERY names them too).
RELATIONSHIP_TYPES = ("EVENT", "UPSTREAM", "ATTRIBUTION", "ASSOCIATION", "PARENT_CONTEXT")
#: The relationship types the graph knows (a read, as KNOWN_KEYS).
KNOWN_RELATIONSHIP_TYPES: LiteralString = (
    "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType AS type"
)
#: Registers every relationship type of RELATIONSHIP_TYPES on an unlabelled node, made and
#: deleted with its edges in the same statement: it leaves nothing behind but the types.
REGISTER_RELATIONSHIP_TYPES: LiteralString = (
    "CREATE (x) "
    "CREATE (x)-[e:EVENT]->(x), (x)-[u:UPSTREAM]->(x), (x)-[a:ATTRIBUTION]->(x), "
    "(x)-[s:ASSOCIATION]->(x), (x)-[p:PARENT_CONTEXT]->(x) "
    "DELETE e, u, a, s, p, x"
)


def _too_many_keys(known: int, new: int, most: int) -> FailedPreconditionError:
    return FailedPreconditionError(
        f"this write needs {new} new property key(s) and the store's graph knows {known}, of at "
        f"most {most:,}: past {MOST_PROPERTY_KEYS:,} FalkorDB 4.16 no longer tells keys apart (a "
        "new key silently takes an earlier one's id; the last "
        f"{LIBRARY_KEYS_RESERVE} are kept for the library's own), so nothing was written. Each "
        "distinct property name takes "
        "a key or two per kind of value it holds: use fewer names (many values can share one "
        "struct property, e.g. metrics={...})"
    )


def ensure_property_keys(
    backend: EmbeddedBackend, keys: Iterable[str], *, fixed: bool = False
) -> None:
    """Register the keys this object has not registered yet, by a statement with nothing in
    it that fails on purpose (no guard, no constraint: only a lost connection or a closed
    store stop it, and then the caller's write is not sent).

    Why: FalkorDB 4.16 undoes the creation of a property key when the statement that created
    it fails (its undo log), while a statement running at the same time may already have
    used the key. That statement's nodes keep the key's id, whose name was freed: replies
    carry garbage names (UnicodeDecodeError), and the id goes to the next new key (a node
    read back ``round 35`` for the ``round 34`` it was given). graph/write fails on purpose
    when a racing writer took a name first. Measured on two stores putting the same 40
    names at the same moment: 2 of ~140 runs corrupted the one new key, 0 of 1,400 runs with
    the key registered first (tests/embedded/test_property_keys.py, which brings a new key
    each round, failed 5 of 5 runs without this). A key that exists before any statement
    uses it is never created by one, so never undone. Cost: one write per new set of keys
    per store object; a set lookup per key per write."""
    missing = {key for key in keys if key not in backend._keys}
    if missing:  # the graph may know them already: then nothing is written (a read)
        backend._keys.update(str(row["key"]) for row in backend.read(KNOWN_KEYS, name="keys"))
        missing -= backend._keys
    if missing:
        # The data's keys stop short of the limit: the library's own (``fixed``, a store's
        # schema) may use the reserve, so an upgrade that adds one still opens a full store.
        most = MOST_PROPERTY_KEYS if fixed else MOST_PROPERTY_KEYS - LIBRARY_KEYS_RESERVE
        if len(backend._keys) + len(missing) > most:
            raise _too_many_keys(len(backend._keys), len(missing), most)
        try:
            backend._run(
                REGISTER_KEYS,
                {
                    "keys": dict.fromkeys(sorted(missing), 0),
                    "count": len(missing),
                    "most": most,
                },
                "register property keys",
                write=True,
            )
        except QueryError as exc:  # another client's keys came first: re-checked in there
            if "division by zero" not in str(exc).lower():
                raise
            raise _too_many_keys(len(backend._keys), len(missing), most) from exc
        backend._keys.update(missing)


def ensure_schema(backend: EmbeddedBackend, spec: SchemaSpec) -> None:
    """Create what ``spec`` names and the graph lacks. Every step is idempotent, so a server
    that died or hung meanwhile is restarted and the whole of it run once more."""
    import redis

    backend._schema = spec
    outer, backend._making_schema = backend._making_schema, True
    try:
        for attempt in (1, 2):
            reconnects = backend._reconnects
            try:
                _ensure(backend, spec)
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                if attempt == 2 or not backend._recover(exc, reconnects):
                    raise _map_error(exc, "schema", backend._server) from exc
            except EngineUnavailableError:  # a statement's own recovery reconnected
                if attempt == 2 or backend._reconnects == reconnects:
                    raise
    finally:
        backend._making_schema = outer


def _ensure(backend: EmbeddedBackend, spec: SchemaSpec) -> None:
    import redis

    existing = existing_indexes(backend)
    created: set[str] = set()
    for index in spec.indexes:
        for prop in index.properties:
            if (index.label, prop) in existing:
                continue
            try:
                # Labels and keys cannot be parameters: IndexSpec checked them as identifiers.
                backend._execute(
                    "GRAPH.QUERY",
                    backend._graph.name,
                    f"CREATE INDEX FOR (e:{index.label}) ON (e.{prop})",
                )
                created.add(index.label)
            except redis.exceptions.ResponseError as exc:
                if "already indexed" not in str(exc):
                    raise _map_error(exc, "schema") from exc
            existing.add((index.label, prop))
    if created:
        _await_indexes(backend, created)
    constraints = existing_constraints(backend)
    for index in spec.indexes:
        if index.unique and index.checked_by_writes:
            # graph/write checks it (writes run one at a time here); a store made by an
            # earlier version has the constraint, which only slows every write down. It is
            # dropped only when no other client is connected: a process of that earlier
            # version may be one, and its writes rely on the constraint.
            if (index.label, index.properties) in constraints and backend._alone():
                _drop_unique_constraint(backend, index)
            continue
        if not index.unique or (index.label, index.properties) in constraints:
            continue
        try:
            _unique_constraint(backend, "CREATE", index)
        except redis.exceptions.ResponseError as exc:
            if "already exists" not in str(exc).lower():
                raise _map_error(exc, "schema") from exc
    await_constraints(backend)
    backend.ensure_property_keys(spec.property_keys, fixed=True)
    _ensure_relationship_types(backend)


def _ensure_relationship_types(backend: EmbeddedBackend) -> None:
    """Make every relationship type the library writes exist before any edge of it does.

    Why: FalkorDB compiles a statement when it arrives and runs it once the write before it
    is done; a pattern naming a relationship type the graph lacks at compile time matches
    nothing, even when that earlier write created the type. graph/write refuses an event
    stored already by matching it in the statement: two writers putting the same event
    into a store without events both missed the other's and stored it twice (6 of 10
    threaded races on two connections; links likewise, 6 of 10;
    tests/embedded/test_relationship_types.py). A type
    once made stays in the graph (also across restarts), edges or not: a read when it is
    there, so opening an up-to-date store writes nothing."""
    known = {str(row["type"]) for row in backend.read(KNOWN_RELATIONSHIP_TYPES, name="types")}
    if not known.issuperset(RELATIONSHIP_TYPES):
        backend._run(
            REGISTER_RELATIONSHIP_TYPES,
            None,
            "register relationship types",
            write=True,
            settles=False,  # its edges are deleted as they are made: nothing pending
        )


def _drop_unique_constraint(backend: EmbeddedBackend, index: IndexSpec) -> None:
    import redis

    try:
        _unique_constraint(backend, "DROP", index)
    except redis.exceptions.ResponseError as exc:
        raise _map_error(exc, "schema") from exc


def _unique_constraint(backend: EmbeddedBackend, verb: str, index: IndexSpec) -> None:
    """``GRAPH.CONSTRAINT <verb>`` (CREATE, DROP) of ``index``'s uniqueness constraint."""
    backend._execute(
        "GRAPH.CONSTRAINT", verb, backend._graph.name, "UNIQUE", "NODE", index.label,
        "PROPERTIES", len(index.properties), *index.properties,
    )  # fmt: skip


def existing_indexes(backend: EmbeddedBackend) -> set[tuple[str, str]]:
    rows = backend.read("CALL db.indexes() YIELD label, properties RETURN label, properties")
    return {(r["label"], p) for r in rows for p in r["properties"]}


def existing_constraints(backend: EmbeddedBackend) -> set[tuple[str, tuple[str, ...]]]:
    rows = backend.read(
        "CALL db.constraints() YIELD type, label, properties, status "
        "RETURN type, label, properties, status"
    )
    return {(r["label"], tuple(r["properties"])) for r in rows if r["type"] == "UNIQUE"}


def _await_indexes(backend: EmbeddedBackend, labels: set[str], timeout: float = 300.0) -> None:
    """Indexes are built in the background (a store made by an earlier version gets the
    new ones when it opens; FalkorDB rebuilds a label's one index, 2.5 s for 200k nodes):
    wait until the ``labels`` given report OPERATIONAL, as Neo4j's backend waits for its
    own. Queries are right meanwhile too, only slower (no window bound relies on the index,
    see mlmd/_listing.py); a build that outlasts ``timeout`` is left running, with a
    warning."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        rows = backend.read("CALL db.indexes() YIELD label, status RETURN label, status")
        if all(r["status"] == "OPERATIONAL" for r in rows if r["label"] in labels):
            return
        if time.monotonic() > deadline:
            warnings.warn(
                f"FalkorDB is still building the indexes of {sorted(labels)} after "
                f"{timeout:g} s; queries are right meanwhile, only slower",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        time.sleep(pause)
        pause = min(2 * pause, 0.5)


def await_constraints(backend: EmbeddedBackend, timeout: float = 60.0) -> None:
    """Unique constraints are built asynchronously: wait until none is PENDING."""
    deadline = time.monotonic() + timeout
    while True:
        rows = backend.read(
            "CALL db.constraints() YIELD label, properties, status RETURN label, properties, status"
        )
        failed = [r for r in rows if r["status"] == "FAILED"]
        if failed:
            raise EngineError(f"a uniqueness constraint could not be built (duplicates?): {failed}")
        if all(r["status"] == "OPERATIONAL" for r in rows) or time.monotonic() > deadline:
            return
        time.sleep(0.01)
