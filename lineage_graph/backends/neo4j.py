"""The Neo4j 5 engine, through the official ``neo4j`` driver.

``bolt://`` (one server), ``neo4j://`` (routing: clusters), ``neo4j+s://`` (Aura, TLS with system
CAs), ``bolt+s://``, and ``bolt+ssc://`` / ``neo4j+ssc://`` (TLS, self-signed certificate).
Reads run in ``execute_read`` (clusters route them to followers), writes in ``execute_write`` (the
driver retries transient errors for ``max_transaction_retry_time_s``). One bookmark manager per
backend chains every session causally, so a read routed to a follower sees the writes before it.
Every transaction carries ``query_timeout_ms`` (the server stops a longer one: ``QueryError``).

Driver errors are mapped to :mod:`lineage_graph.exceptions` in :func:`_map_error` only.

Server notifications (deprecations, performance hints about the library's own fixed queries) are
switched off where the protocol allows it (Bolt 5.2, Neo4j 5.7): driver 6 logs every WARNING one
to the ``neo4j.notifications`` logger, which without logging set up prints to stderr, and Neo4j
5.23 flags the ``CALL {`` form most queries use (kept: FalkorDB and Neo4j before 5.23 need it).
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit

import neo4j
from neo4j import exceptions as neo4j_errors
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from .._redact import check_url_password, parse_url
from ..config import Neo4jSettings
from ..exceptions import (
    AlreadyExistsError,
    ConfigurationError,
    EngineError,
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageGraphError,
    QueryError,
)
from . import NEO4J_SCHEMES
from ._base import Backend, Dialect, IndexSpec, Row, SchemaSpec, Statement

__all__ = ["Neo4jBackend"]

#: Each retry of the first connection is logged here (DEBUG), with the error that caused it.
_log = logging.getLogger(__name__)

#: Schema introspection and the wait for new indexes (fixed text, checked by Neo4j's analyser).
SHOW_SCHEMA_NAMES = ("SHOW INDEXES YIELD name", "SHOW CONSTRAINTS YIELD name")
AWAIT_INDEXES = "CALL db.awaitIndexes(300)"

_CONSTRAINT_FAILED = "Neo.ClientError.Schema.ConstraintValidationFailed"
#: The user's password must be changed first (a new server's initial password, or one an
#: administrator set with CHANGE REQUIRED): the login succeeds and every query fails so. A
#: plain ClientError to the driver (not an AuthError).
_CREDENTIALS_EXPIRED = "Neo.ClientError.Security.CredentialsExpired"
_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"
#: A node or relationship the query had found, deleted by another transaction before this one
#: got its lock (reads see committed data: e.g. retention deleting an artifact an update waits
#: for). The transaction is rolled back.
_DELETED_MEANWHILE = "Neo.ClientError.Statement.EntityNotFound"
#: A transaction that ran past its timeout: the server's ``db.transaction.timeout``, or the one
#: the client set (query_timeout_ms). Client errors: the driver does not retry them.
_TIMED_OUT = (
    "Neo.ClientError.Transaction.TransactionTimedOut",
    "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
)
#: A transaction terminated while it waited for a lock: most often its timeout passed there
#: (also TERMINATE TRANSACTION, or the database stopping). Neo4j 4.4 sent it as a transient
#: error, 5 as a client error; the driver reads both as the client error (not retried).
_LOCK_WAIT_STOPPED = (
    "Neo.ClientError.Transaction.LockClientStopped",
    "Neo.TransientError.Transaction.LockClientStopped",
)
#: The server out of memory for transactions: its pool for them is full (the limit its message
#: names: dbms.memory.transaction.total.max, or a database's db.memory.transaction.total.max),
#: or its heap, or off-heap memory. Transient errors (retried): other transactions free memory.
_OUT_OF_MEMORY = frozenset(
    "Neo.TransientError.General." + title
    for title in ("MemoryPoolOutOfMemoryError", "OutOfMemoryError", "TransactionMemoryLimit")
)
#: One transaction over db.memory.transaction.max: a client error (it would fail again).
_TRANSACTION_TOO_BIG = "Neo.ClientError.General.TransactionOutOfMemoryError"
#: A write where none is allowed: the server is read-only (a cluster's secondary; the driver
#: classes it transient, for a routing driver whose table still names it a writer, and on a
#: direct connection raises WriteServiceUnavailable from it), or the database is (set so by
#: an administrator; a client error).
_READ_ONLY_SERVER = "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
_READ_ONLY_DATABASE = "Neo.ClientError.General.WriteOnReadOnlyAccessDatabase"
_READ_ONLY = (_READ_ONLY_SERVER, _READ_ONLY_DATABASE)
#: A write sent to a cluster's follower (bolt:// names one server; a routing driver's table
#: may be stale): transient to the driver, which on a direct connection raises
#: WriteServiceUnavailable from it. Retried: the leadership may move.
_NOT_LEADER = "Neo.ClientError.Cluster.NotALeader"
#: The first Bolt version with notification filters; the driver refuses them on older ones.
_NOTIFICATION_FILTERS = (5, 2)
#: Neo4j 2025.06 and later run each database's queries as Cypher 5 or Cypher 25, the database's
#: default language (new databases of 2026.02+ installations are set to Cypher 25, and so are
#: new Aura organisations'); a ``CYPHER 5`` prefix picks Cypher 5 for one query. The library's
#: queries are Cypher 5 (what Neo4j's analyser checks them as; most use ``CALL { WITH ... }``,
#: deprecated there): on such a server each read and write carries the prefix. Older servers
#: (5.x) know only Cypher 5 and get none.
_CYPHER_5 = "CYPHER 5\n"
_CYPHER_VERSIONS_FROM = (2025, 6)
#: The agent a server reports: ``Neo4j/5.26.0``, ``Neo4j/2025.06.1``.
_AGENT_VERSION = re.compile(r"Neo4j/(\d+)\.(\d+)")
#: The first Bolt version of Neo4j 5 (Neo4j 4.4 speaks 4.4 at most, and the driver offers a
#: Neo4j 5 server 5.x first): the queries need Neo4j 5 (``elementId()``, which 4.4 lacks), so
#: an older server is refused when the store opens.
_NEO4J_5_BOLT = (5, 0)
#: Driver 5 reports a pool that hands out no connection in time as a ClientError without a code
#: (its message starts so); driver 6 as its own error class (below).
_POOL_TIMEOUT_TEXT = "failed to obtain a connection from the pool"
#: Driver 6 reports a pool that hands out no connection in time as its own error class.
_POOL_ERRORS: tuple[type[BaseException], ...] = tuple(
    cls
    for cls in (getattr(neo4j_errors, "ConnectionPoolError", None),)
    if isinstance(cls, type) and issubclass(cls, BaseException)
)
#: Everything the driver raises from a call; its parameter packer raises UnicodeEncodeError (lone
#: surrogates), OverflowError (integers outside int64), ValueError (a value of a type it cannot
#: send) and TypeError (a map key that is not a string) itself, before anything is sent.
_DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    neo4j_errors.Neo4jError,
    neo4j_errors.DriverError,
    OSError,
    UnicodeEncodeError,
    OverflowError,
    ValueError,
    TypeError,
)
#: What schema set-up retries (its statements are idempotent: ``IF NOT EXISTS``, reads, a wait).
_TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    neo4j_errors.TransientError,
    neo4j_errors.ServiceUnavailable,
    neo4j_errors.SessionExpired,
)
#: A schema statement that clashes with an index or constraint already there under another name
#: (``IF NOT EXISTS`` covers only the same name or the same kind on the same schema): e.g. an
#: index an operator made on a property lineage-graph holds unique.
_SCHEMA_CLASHES = frozenset(
    "Neo.ClientError.Schema." + title
    for title in (
        "IndexAlreadyExists",
        "ConstraintAlreadyExists",
        "EquivalentSchemaRuleAlreadyExists",
        "IndexWithNameAlreadyExists",
        "ConstraintWithNameAlreadyExists",
    )
)


def _refused_write(
    exc: BaseException, codes: tuple[str, ...] = (*_READ_ONLY, _NOT_LEADER)
) -> neo4j_errors.Neo4jError | None:
    """The server's refusal of a write (one of ``codes``) in ``exc`` or what it came of (a
    direct driver raises WriteServiceUnavailable while handling ForbiddenOnReadOnlyDatabase
    or NotALeader)."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, neo4j_errors.Neo4jError) and error.code in codes:
            return error
        error = error.__cause__ or error.__context__
    return None


def _read_only(exc: BaseException) -> neo4j_errors.Neo4jError | None:
    """The server's refusal of a write as read-only in ``exc`` or what it came of."""
    return _refused_write(exc, _READ_ONLY)


class _NotRetried(Exception):
    """A driver error carried out of a transaction function as another exception: the
    driver retries only its own errors (``execute_write`` re-raises any other after the
    rollback)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _map_error(
    exc: BaseException, name: str, *, uri: str = "", username: str = "", secret: str = ""
) -> LineageGraphError:
    """The one place where Neo4j driver errors become lineage-graph errors.

    ``secret`` (the password) is scrubbed from every driver message quoted here.
    """
    refusal = _refused_write(exc)
    if refusal is not None and refusal is not exc:
        exc = refusal  # its message, not the driver's "No write service available for pool"
    code = exc.code if isinstance(exc, neo4j_errors.Neo4jError) else None
    # A server error's own message and code read better than the driver's GQL-status dump.
    message = getattr(exc, "message", None) if code else None
    text = f"{message} ({code})" if message else str(exc)
    if secret:
        text = text.replace(secret, "***")
    where = f" in query {name!r}" if name else ""
    at = f" at {uri}" if uri else ""
    if isinstance(exc, UnicodeEncodeError):
        return InvalidArgumentError(
            f"text must be valid Unicode: {exc.reason} at position {exc.start}"
        )
    if isinstance(exc, OverflowError):
        return InvalidArgumentError(f"a value is out of range for Neo4j{where}: {text}")
    if isinstance(exc, ValueError | TypeError):  # the packer's (no driver error is either)
        return InvalidArgumentError(f"a value cannot be sent to Neo4j{where}: {text}")
    if code == _READ_ONLY_SERVER:
        return FailedPreconditionError(
            f"Neo4j{at} is a read-only server (a cluster's secondary) and refused a write{where}: "
            f"writes need a primary (a neo4j:// URI routes them to one; bolt:// reaches only the "
            f"server it names); nothing was written: {text}"
        )
    if code == _READ_ONLY_DATABASE:
        return FailedPreconditionError(
            f"Neo4j{at} refused a write{where}: the database is read-only (an administrator "
            f"set it so: ALTER DATABASE ... SET ACCESS READ WRITE, or the server setting "
            f"server.databases.read_only, makes it writable); nothing was written: {text}"
        )
    if code == _NOT_LEADER:
        if uri.partition("://")[0].lower().startswith("bolt"):
            # one server, named by the URI: it is a follower, and stays one for every retry
            return EngineUnavailableError(
                f"Neo4j{at} is a cluster member that is not the database's leader (a follower) "
                f"and refused a write{where}; nothing was written. A bolt:// URI sends every "
                f"query to that one server, so writes fail there until the leadership moves to "
                f"it: use neo4j:// (same host and port), which sends writes to the leader: {text}"
            )
        # a routing driver sent the write to the member its routing table named the leader:
        # the leadership moved (an election), and the retries found no leader that took it
        return EngineUnavailableError(
            f"the Neo4j cluster{at} refused a write{where}: the member the driver took for the "
            f"database's leader no longer was (a leader election), and no leader took it "
            f"within max_transaction_retry_time_s; nothing was written. Retry once the cluster "
            f"has a leader (SHOW DATABASES names each database's writer): {text}"
        )
    if isinstance(exc, neo4j_errors.ConstraintError) or code == _CONSTRAINT_FAILED:
        return AlreadyExistsError(f"a unique key already exists{where}: {text}")
    if isinstance(exc, neo4j_errors.AuthError | neo4j_errors.AuthConfigurationError):
        return ConfigurationError(
            f"Neo4j{at} refused the credentials for user {username!r} (set NEO4J_USERNAME and "
            f"NEO4J_PASSWORD): {text}"
        )
    if code == _CREDENTIALS_EXPIRED:
        return ConfigurationError(
            f"Neo4j{at} requires the password of user {username!r} to be changed before it "
            f"answers any query (a new server's initial password, or one set with CHANGE "
            f"REQUIRED): change it (cypher-shell or Neo4j Browser: ALTER CURRENT USER SET "
            f"PASSWORD FROM '<current>' TO '<new>') and set NEO4J_PASSWORD to the new one: {text}"
        )
    if isinstance(exc, neo4j_errors.Forbidden) and (code or "").startswith(
        "Neo.ClientError.Security."
    ):
        return ConfigurationError(f"Neo4j user {username!r} lacks a privilege{where}: {text}")
    if code in _SCHEMA_CLASHES:
        return ConfigurationError(
            f"Neo4j{at} holds an index or constraint that clashes with one lineage-graph needs"
            f"{where}: {text}. Drop the one on the label and properties the message names "
            "(SHOW INDEXES or SHOW CONSTRAINTS give its name; lineage-graph's own serve the same "
            "lookups) and open the store again"
        )
    if code == _DATABASE_NOT_FOUND:
        return ConfigurationError(f"Neo4j{at} has no such database (NEO4J_DATABASE): {text}")
    if isinstance(exc, neo4j_errors.IncompleteCommit):
        return EngineUnavailableError(
            f"the connection to Neo4j{at} was lost while committing{where}: the write may or may "
            f"not have been applied: {text}"
        )
    if code in _OUT_OF_MEMORY:
        return EngineUnavailableError(
            f"Neo4j{at} ran out of memory for transactions{where} (other transactions may free "
            f"it: retry later, or raise the limit the message names): {text}"
        )
    if (
        isinstance(
            exc,
            neo4j_errors.ServiceUnavailable
            | neo4j_errors.SessionExpired
            | neo4j_errors.TransientError
            | OSError,
        )
        or (_POOL_ERRORS and isinstance(exc, _POOL_ERRORS))
        or (isinstance(exc, neo4j_errors.ClientError) and str(exc).startswith(_POOL_TIMEOUT_TEXT))
    ):
        return EngineUnavailableError(f"Neo4j{at} is unavailable{where}: {text}")
    if code == _DELETED_MEANWHILE:
        return FailedPreconditionError(
            f"a node{where} was deleted by another writer while this one waited for it; "
            f"nothing was written: {text}"
        )
    if code in _TIMED_OUT:
        return QueryError(
            f"Neo4j stopped the query{where}: it ran longer than the transaction timeout "
            f"(NEO4J_QUERY_TIMEOUT_MS, or the server's db.transaction.timeout): {text}"
        )
    if code == _TRANSACTION_TOO_BIG:
        return QueryError(
            f"Neo4j stopped the query{where}: it needed more memory than one transaction may use "
            f"(the server's db.memory.transaction.max): {text}"
        )
    if code in _LOCK_WAIT_STOPPED:
        return QueryError(
            f"Neo4j stopped the query{where} while it was waiting for a lock: it ran longer than "
            f"the transaction timeout (NEO4J_QUERY_TIMEOUT_MS, or the server's "
            f"db.transaction.timeout), or was terminated (TERMINATE TRANSACTION, the database "
            f"stopping): {text}"
        )
    if isinstance(exc, neo4j_errors.ConfigurationError):
        return ConfigurationError(f"invalid Neo4j driver configuration: {text}")
    if isinstance(exc, neo4j_errors.ClientError):
        return QueryError(f"Neo4j rejected the query{where}: {text}")
    if isinstance(exc, neo4j_errors.Neo4jError):
        return EngineError(f"Neo4j error{where}: {text}")
    return EngineError(f"Neo4j driver error{where}: {type(exc).__name__}: {text}")


def cypher_prefix(agent: str | None) -> str:
    """What each query sent to a server reporting ``agent`` starts with: ``CYPHER 5`` from
    Neo4j 2025.06 on (where a database may default to Cypher 25), else nothing."""
    match = _AGENT_VERSION.match(agent or "")
    if match and (int(match[1]), int(match[2])) >= _CYPHER_VERSIONS_FROM:
        return _CYPHER_5
    return ""


def _unreachable(exc: BaseException) -> str | None:
    """Why nothing can answer at the address ``exc`` (a driver error) came of: ``"refused"``
    when every address tried refused the connection (no process listens on the port),
    ``"unresolved"`` when the host name does not resolve (``EAI_AGAIN``, a resolver that did
    not answer, is neither: it may pass); ``None`` for anything else (a connection reset or
    closed during the handshake, a timeout, a database still starting), which a server that is
    starting up answers. A routing driver (``neo4j://``) raises an exception group of every
    router's error: all must be so."""
    seen: set[int] = set()

    def walk(error: BaseException | None) -> str | None:
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            if isinstance(error, ConnectionRefusedError):
                return "refused"
            if isinstance(error, socket.gaierror):
                return None if error.errno == socket.EAI_AGAIN else "unresolved"
            if isinstance(error, BaseExceptionGroup):
                reasons = {walk(member) for member in error.exceptions}
                return reasons.pop() if len(reasons) == 1 else None
            error = error.__cause__ or error.__context__
        return None

    return walk(exc)


def _drop_connection(session: neo4j.Session) -> None:
    """Close ``session``'s connection without reading from it, after a KeyboardInterrupt (or
    SystemExit) landed inside the driver. The driver reads a reply chunk's size, then its body,
    keeping the size in a local variable (``Inbox._buffer_one_chunk``): an interrupt between
    the two left the stream out of step, and the session's graceful close (the rollback, then
    reading what is pending) read on from there. Its error (ServiceUnavailable, so
    EngineUnavailableError, which says "retry") replaced the interrupt, or it waited for bytes
    that never come. The driver's own clean-up of a cancelled task kills the connection
    instead: the server rolls back a transaction not committed (one whose COMMIT was sent is
    in doubt, as after any lost reply)."""
    cancel = getattr(session, "_handle_cancellation", None)  # the driver's (5.x and 6.x)
    if cancel is not None:
        with contextlib.suppress(Exception):
            cancel(message="interrupt")


def _split_credentials(uri: str) -> tuple[str, str | None, str | None]:
    """``(uri without user info, username, password)``: the driver rejects ``user:pass@``.
    A URI that cannot be parsed (``bolt://u:pw@[::1``) is ConfigurationError, not the bare
    ValueError of urlsplit; its message never quotes the URI (it may hold the password). A
    password holding a raw ``/``, ``?`` or ``#`` (``bolt://neo4j:se/cret@host``) is refused:
    the driver read the host ``neo4j`` and the port ``se``, and quoted them in its error."""
    # an "@" in a routing context (neo4j://host:port?policy=a@b) reads as a password's: %40
    routing = uri.partition("://")[0].lower() in ("neo4j", "neo4j+s", "neo4j+ssc")
    check_url_password(uri, "Neo4j URI", data="query" if routing else "")
    parts, port = parse_url(uri, "Neo4j URI", urlsplit)
    _check_address(port, parts.path, parts.fragment)
    if "@" not in parts.netloc:
        return uri, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    if not hostport:  # urlunsplit drops the "//" of an empty host: "bolt:", an unknown scheme
        clean = f"{parts.scheme}://{clean.partition(':')[2]}"
    return clean, unquote(user) or None, unquote(password) if sep else None


def _check_address(port: int | None, path: str, fragment: str) -> None:
    """Refuse what the driver reads as another server or database than the URI names, quoting
    none of it (the URI may hold a password): a port past 65535 (``bolt://h:99999``: it
    connected to 99999 - 65536 = 34463), a port 0 (taken for none: 7687), a path
    (``bolt://h:7687/mydb``: ignored, with a DeprecationWarning no one sees, and the writes
    went to the server's default database) or a fragment (ignored too)."""
    if port == 0:
        raise ConfigurationError(
            "a Neo4j URI's port is 1 to 65535, not 0 (the driver took 0 for no port: 7687)"
        )
    if path not in ("", "/") or fragment:
        raise ConfigurationError(
            "a Neo4j URI takes no path nor '#' fragment (the driver ignores them: "
            "bolt://host:7687/mydb opened the default database): name the database with the "
            "database setting (database=..., NEO4J_DATABASE)"
        )


def schema_ddl(index: IndexSpec) -> str:
    """Neo4j 5 schema DDL for one index (identifiers are validated by :class:`IndexSpec`)."""
    props = ["n." + prop for prop in index.properties]
    target = props[0] if len(props) == 1 else "(" + ", ".join(props) + ")"
    head = " IF NOT EXISTS FOR (n:" + index.label + ") "
    if index.unique:
        return "CREATE CONSTRAINT " + index.name + head + "REQUIRE " + target + " IS UNIQUE"
    return "CREATE INDEX " + index.name + head + "ON (" + ", ".join(props) + ")"


class Neo4jBackend(Backend):
    """A Neo4j 5 server, cluster or Aura instance (``NEO4J_*`` settings)."""

    dialect: ClassVar[Dialect] = "neo4j"

    def __init__(self, settings: Neo4jSettings | None = None) -> None:
        if settings is None:
            from . import settings_of  # the package imports this module: not at import time

            settings = settings_of(Neo4jSettings, "Neo4j")
        self.settings = settings
        if not self.settings.uri:
            raise ConfigurationError(
                "Neo4j needs a URI: pass bolt://, neo4j:// or neo4j+s://… or set NEO4J_URI"
            )
        # The scheme first, from the URI as given: without "://" the whole text was quoted as
        # its scheme ("neo4j:pw@host": the password shown), or read as a host and a path
        scheme, slashes, _ = self.settings.uri.partition("://")
        scheme = scheme.lower()
        if not slashes or scheme not in NEO4J_SCHEMES:
            shown = f"URI scheme {scheme!r}" if slashes else "URI (it has no '://')"
            raise ConfigurationError(
                f"unsupported Neo4j {shown}: use one of "
                + ", ".join(s + "://" for s in NEO4J_SCHEMES)
            )
        self._uri, uri_user, uri_password = _split_credentials(self.settings.uri)
        self._username = uri_user or self.settings.username
        password = uri_password
        if password is None and self.settings.password is not None:
            password = self.settings.password.get_secret_value()
        self._secret = password or ""
        self._database = self.settings.database or None
        #: One server (bolt://...): a refusal as read-only comes again from the same server,
        #: so it is not retried (a routing driver retries it elsewhere, its table refreshed).
        self._direct = scheme.startswith("bolt")
        #: Every transaction's timeout; None leaves the server's (a 0 would mean "none" to it).
        self._timeout_s = self.settings.query_timeout_ms / 1000 or None
        self._closed = False
        self._close_lock = threading.Lock()
        #: Whether sessions ask the server for no notifications (Bolt 5.2+, known once connected).
        self._quiet = False
        #: What each read and write starts with (``CYPHER 5`` on Neo4j 2025.06+, known once
        #: connected: :func:`cypher_prefix`).
        self.query_prefix = ""
        auth = neo4j.basic_auth(self._username, password) if password else None
        try:
            self._driver = neo4j.GraphDatabase.driver(
                self._uri,
                auth=auth,
                max_transaction_retry_time=self.settings.max_transaction_retry_time_s,
                connection_timeout=min(self.settings.connect_timeout_s, 30.0),
            )
        except (ValueError, neo4j_errors.ConfigurationError) as exc:
            raise ConfigurationError(
                f"invalid Neo4j URI {self._uri!r}: {self._scrub(str(exc))}"
            ) from exc
        self._bookmarks = neo4j.GraphDatabase.bookmark_manager()
        try:
            self._wait_until_reachable()
        except BaseException:
            self._driver.close()
            self._closed = True
            raise

    # --------------------------------------------------------------------------- connections

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _error(self, exc: BaseException, name: str) -> LineageGraphError:
        return _map_error(exc, name, uri=self._uri, username=self._username, secret=self._secret)

    def _retries_connecting(self, exc: BaseException) -> bool:
        """Whether the first connection is tried again after ``exc``: while the server answers
        "unavailable" (starting up); when nothing listens at the address or the host name does
        not resolve, only with ``retry_unreachable`` (the default: a server started just
        before, such as a compose service or a Kubernetes pod, refuses or does not resolve for
        a while). Off (the CLI's choice), those fail at once: a wrong port or a typo is said
        without waiting ``connect_timeout_s``."""
        if not isinstance(exc, neo4j_errors.ServiceUnavailable | neo4j_errors.DatabaseUnavailable):
            return False
        return self.settings.retry_unreachable or _unreachable(exc) is None

    def _wait_until_reachable(self) -> None:
        """Retry the first connection while the server starts; wrong credentials, a refused
        connection and a host name that does not resolve fail at once."""
        timeout = self.settings.connect_timeout_s
        retrying = Retrying(
            stop=stop_after_delay(timeout),
            wait=wait_exponential(multiplier=0.1, max=2.0),
            retry=retry_if_exception(self._retries_connecting),
            before_sleep=before_sleep_log(_log, logging.DEBUG),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    server = self._driver.get_server_info()  # verify_connectivity, and the version
        except ValueError as exc:  # an address the resolver cannot parse (bad port, bad host)
            raise ConfigurationError(
                f"invalid Neo4j address {self._uri!r}: {self._scrub(str(exc))}"
            ) from exc
        except _DRIVER_ERRORS as exc:
            mapped = self._error(exc, "")
            if isinstance(mapped, EngineUnavailableError):
                text = self._scrub(str(exc))
                reason = None if self.settings.retry_unreachable else _unreachable(exc)
                if reason == "refused":
                    text = (
                        f"Neo4j at {self._uri} refused the connection (nothing listens there; "
                        f"set NEO4J_RETRY_UNREACHABLE=1 to wait for a server still starting): "
                        f"{text}"
                    )
                elif reason == "unresolved":
                    text = f"the host name of {self._uri} does not resolve: {text}"
                else:
                    text = f"Neo4j at {self._uri} did not answer within {timeout:g} s: {text}"
                mapped = EngineUnavailableError(text)
            raise mapped from exc
        protocol = tuple(server.protocol_version)[:2]
        if protocol < _NEO4J_5_BOLT:
            # it opened, then every lineage walk failed with "Unknown function 'elementId'"
            raise ConfigurationError(
                f"Neo4j at {self._uri} is {server.agent or 'an unknown server'} (Bolt "
                f"{'.'.join(map(str, protocol))}): lineage-graph needs Neo4j 5 or later"
            )
        self._quiet = protocol >= _NOTIFICATION_FILTERS
        self.query_prefix = cypher_prefix(server.agent)

    @contextlib.contextmanager
    def _session(self) -> Iterator[neo4j.Session]:
        """A session of the store, closed on leaving the block; after a KeyboardInterrupt (or
        SystemExit) in the block, its connection is dropped unread (:func:`_drop_connection`):
        transaction functions and auto-commit statements (schema set-up, the test suite's
        wipe) alike. An auto-commit one's graceful close read its pending reply from a stream
        out of step and waited for bytes that never come."""
        if self._closed:
            raise EngineError("the store is closed")
        if self._quiet:
            session = self._driver.session(
                database=self._database,
                bookmark_manager=self._bookmarks,
                notifications_min_severity="OFF",
            )
        else:
            session = self._driver.session(
                database=self._database, bookmark_manager=self._bookmarks
            )
        with session:
            try:
                yield session
            except BaseException as exc:
                if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit
                    _drop_connection(session)
                raise

    def _execute(
        self,
        query: str,
        params: Mapping[str, Any] | None,
        name: str,
        *,
        write: bool,
        primary: bool = False,
    ) -> list[Row]:
        # The driver types query text as LiteralString (mypy reads it as str). Ours is never built
        # from user input: it comes from cypher/ files, values travel as parameters. Transaction
        # functions take the text itself (``neo4j.Query`` is for ``session.run`` only).
        parameters = dict(params) if params else {}
        query = self.query_prefix + query
        recording = bool(self._recording)
        engine_ms: list[int | None] = [None]  # of the attempt that committed

        def run(tx: neo4j.ManagedTransaction) -> list[Row]:
            result = tx.run(query, parameters)
            rows = [record.data() for record in result]
            if recording:
                summary = result.consume()
                times = (summary.result_available_after, summary.result_consumed_after)
                engine_ms[0] = None if None in times else sum(t or 0 for t in times)
            return rows

        @neo4j.unit_of_work(timeout=self._timeout_s)
        def work(tx: neo4j.ManagedTransaction) -> list[Row]:
            try:
                return run(tx)
            except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as exc:
                # A read-only server refuses every try alike: one server (bolt://) is not
                # asked again for max_transaction_retry_time_s (the driver's retry stays for
                # everything else, and for a routing driver, which asks another server)
                if self._direct and _read_only(exc) is not None:
                    raise _NotRetried(exc) from exc
                raise

        started = time.perf_counter() if recording else 0.0
        try:
            with self._session() as session:
                # A read of the primary runs as a write transaction: routed to the leader
                # (execute_read goes to a follower, which may not have the write yet).
                leader = write or primary
                rows = session.execute_write(work) if leader else session.execute_read(work)
        except _NotRetried as stop:
            raise self._error(stop.error, name) from stop.error
        except _DRIVER_ERRORS as exc:
            raise self._error(exc, name) from exc
        if recording:
            engine = None if engine_ms[0] is None else engine_ms[0] / 1000
            # the managed transaction: BEGIN, RUN and PULL pipelined, then COMMIT; the time
            # includes the driver's retries of transient faults
            self._recorded(
                Statement(name, write, time.perf_counter() - started, engine, round_trips=2)
            )
        return rows

    def read(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        name: str = "",
        primary: bool = False,
    ) -> list[Row]:
        return self._execute(query, params, name, write=False, primary=primary)

    def write(
        self, query: str, params: Mapping[str, Any] | None = None, *, name: str = ""
    ) -> list[Row]:
        return self._execute(query, params, name, write=True)

    # --------------------------------------------------------------------------------- schema

    def _existing_schema_names(self) -> set[str]:
        """Names of the indexes and constraints already present (empty if we may not look)."""
        names: set[str] = set()
        try:
            with self._session() as session:
                for show in SHOW_SCHEMA_NAMES:
                    names.update(str(row["name"]) for row in session.run(show).data())
        except neo4j_errors.ClientError:  # no SHOW privilege: create everything IF NOT EXISTS
            return set()
        return names

    def ensure_property_keys(self, keys: Iterable[str], *, fixed: bool = False) -> None:
        """Nothing to do: Neo4j creates a property key token in a transaction of its own, which
        a failing statement never undoes."""

    def ensure_schema(self, spec: SchemaSpec) -> None:
        """Create what is missing (``IF NOT EXISTS``, each in its own auto-commit transaction)
        and wait for new indexes to come online. Reopening a store runs two ``SHOW`` reads.

        Auto-commit transactions are not retried by the driver: transient errors (a leader
        switch, a database still starting) are retried here for ``max_transaction_retry_time_s``,
        from the start (every statement is idempotent)."""
        step = "schema"
        created = in_doubt = False

        def attempt_once() -> None:
            nonlocal step, created, in_doubt
            step = "schema"
            created = created or in_doubt  # a statement whose answer was lost may have created
            existing = self._existing_schema_names()
            with self._session() as session:
                for index in spec.indexes:
                    if index.name in existing:
                        continue
                    step, in_doubt = "schema/" + index.name, True
                    try:
                        counters = session.run(schema_ddl(index)).consume().counters
                    except neo4j_errors.ClientError as exc:
                        # IF NOT EXISTS is checked before the schema lock is taken: a store
                        # opened by two processes at once has one of them fail with
                        # EquivalentSchemaRuleAlreadyExists (or ...WithNameAlreadyExists) for
                        # the rule the other just made. Ours by name now: nothing clashes.
                        if exc.code not in _SCHEMA_CLASHES or (
                            index.name not in self._existing_schema_names()
                        ):
                            raise
                        in_doubt, created = False, True  # the other's may still populate
                        continue
                    in_doubt = False
                    created = created or bool(counters.indexes_added + counters.constraints_added)
                if created:
                    step = "schema/await"
                    session.run(AWAIT_INDEXES).consume()

        def transient(exc: BaseException) -> bool:
            # a read-only server refuses every try alike (a routing driver asks another)
            read_only = self._direct and _read_only(exc) is not None
            return isinstance(exc, _TRANSIENT_ERRORS) and not read_only

        retrying = Retrying(
            stop=stop_after_delay(self.settings.max_transaction_retry_time_s),
            wait=wait_exponential(multiplier=0.1, max=2.0),
            retry=retry_if_exception(transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempt_once()
        except _DRIVER_ERRORS as exc:
            raise self._error(exc, step) from exc

    # -------------------------------------------------------------------------------- admin

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "engine": "neo4j",
            "uri": self._uri,
            "user": self._username,
            "database": self._database or "(server default)",
        }
        try:
            server = self._driver.get_server_info()
            info["server_version"] = server.agent
            info["bolt_protocol"] = ".".join(map(str, server.protocol_version))
        except Exception as exc:  # describe is best effort: report, don't fail
            info["error"] = self._scrub(str(exc))
        return info

    def close(self) -> None:
        """Close the driver and its connection pool (idempotent)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._driver.close()
