"""The Neo4j backend without a Neo4j server: targets, settings, start-up and error mapping.

Everything runs the real ``neo4j`` driver over real sockets. Where a server's answer matters, a
minimal Bolt 5.0 peer (:class:`BoltPeer`, below) answers with the exact FAILURE messages Neo4j
sends, so the driver builds its own exception classes and ``_map_error`` maps those. Behaviour
against a real server is the contract suite's job (``tests/contract``, engine ``neo4j``).
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import exceptions as neo4j_errors

from lineage_graph._repositories.graph import _aborted
from lineage_graph.backends import (
    NEO4J_SCHEMES,
    IndexSpec,
    SchemaSpec,
    open_backend,
    resolve_target,
)
from lineage_graph.backends.neo4j import (
    AWAIT_INDEXES,
    SHOW_SCHEMA_NAMES,
    Neo4jBackend,
    _map_error,
    schema_ddl,
)
from lineage_graph.config import Neo4jSettings
from lineage_graph.exceptions import (
    AlreadyExistsError,
    ConfigurationError,
    EngineError,
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
    QueryError,
)

SECRET = "s3cret-Pa55word"
UNREACHABLE = "bolt://127.0.0.1:1"  # port 1: refused at once


@pytest.fixture(autouse=True)
def _clean_neo4j_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(var, raising=False)


# ------------------------------------------------------------------------------ a Bolt peer


def _pack(value: Any) -> bytes:
    """PackStream for the few value kinds the peer sends."""
    if value is None:
        return b"\xc0"
    if isinstance(value, bool):
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        return bytes([value]) if 0 <= value < 128 else b"\xcb" + struct.pack(">q", value)
    if isinstance(value, str):
        data = value.encode()
        head = (
            bytes([0x80 | len(data)]) if len(data) < 16 else b"\xd1" + struct.pack(">H", len(data))
        )
        return head + data
    if isinstance(value, list):
        return bytes([0x90 | len(value)]) + b"".join(_pack(v) for v in value)
    if isinstance(value, dict):
        items = b"".join(_pack(k) + _pack(v) for k, v in value.items())
        return bytes([0xA0 | len(value)]) + items
    raise TypeError(value)


def _message(tag: int, *fields: Any) -> bytes:
    body = bytes([0xB0 | len(fields), tag]) + b"".join(_pack(f) for f in fields)
    return struct.pack(">H", len(body)) + body + b"\x00\x00"


SUCCESS, RECORD, IGNORED, FAILURE = 0x70, 0x71, 0x7E, 0x7F
HELLO, GOODBYE, RESET, RUN, BEGIN, COMMIT, PULL = 0x01, 0x02, 0x0F, 0x10, 0x11, 0x12, 0x3F
LOGON = 0x6A  # Bolt 5.1+: the credentials, after HELLO


def _unpack(data: bytes, at: int = 0) -> tuple[Any, int]:
    """The PackStream value at ``data[at:]`` and the offset after it (what a driver sends)."""
    marker = data[at]
    at += 1
    if marker < 0x80 or marker >= 0xF0:  # tiny int
        return (marker if marker < 0x80 else marker - 0x100), at
    high = marker & 0xF0
    if high in (0x80, 0x90, 0xA0):  # tiny string, list, map
        return _unpack_sized(data, at, marker & 0x0F, high)
    if marker == 0xC0:
        return None, at
    if marker in (0xC2, 0xC3):
        return marker == 0xC3, at
    if marker == 0xC1:
        return struct.unpack(">d", data[at : at + 8])[0], at + 8
    ints = {0xC8: 1, 0xC9: 2, 0xCA: 4, 0xCB: 8}
    if marker in ints:
        width = ints[marker]
        return int.from_bytes(data[at : at + width], "big", signed=True), at + width
    sized = {0xD0: (1, 0x80), 0xD1: (2, 0x80), 0xD2: (4, 0x80), 0xD4: (1, 0x90)}
    sized |= {0xD5: (2, 0x90), 0xD6: (4, 0x90), 0xD8: (1, 0xA0), 0xD9: (2, 0xA0)}
    sized |= {0xDA: (4, 0xA0), 0xCC: (1, 0), 0xCD: (2, 0), 0xCE: (4, 0)}
    width, kind = sized[marker]
    return _unpack_sized(data, at + width, int.from_bytes(data[at : at + width], "big"), kind)


def _unpack_sized(data: bytes, at: int, size: int, kind: int) -> tuple[Any, int]:
    if kind == 0x80:
        return data[at : at + size].decode(), at + size
    if kind == 0:
        return data[at : at + size], at + size
    items = []
    for _ in range(size * (2 if kind == 0xA0 else 1)):
        item, at = _unpack(data, at)
        items.append(item)
    if kind == 0x90:
        return items, at
    return dict(zip(items[::2], items[1::2], strict=True)), at


def _fields(message: bytes) -> list[Any]:
    """The fields of a Bolt message (after its struct marker and tag)."""
    fields, at = [], 2
    for _ in range(message[0] & 0x0F):
        field, at = _unpack(message, at)
        fields.append(field)
    return fields


class BoltPeer:
    """A Bolt 5.0 endpoint (or ``version``, up to 5.4): accepts any login (or refuses it with
    ``login_failure``), records every query and the extra fields of every transaction (BEGIN, or
    RUN outside one), answers
    a RUN with the ``run_failure`` FAILURE if given (the first ``failures`` RUNs only, if set;
    only RUNs of a query starting with ``fail_on``; each failure adds ``names_after_failure`` to
    ``schema_names``, as another client creating them meanwhile would),
    ``SHOW ...`` with the names in ``schema_names``, ``CREATE ...`` as one index added, anything
    else with one row ``{"x": 1}`` and, unless the client asked for none, the ``notifications``
    given. ``drop_on`` (``COMMIT`` or ``PULL``): the first ``drops`` such messages close the
    connection instead of being answered (a server or network lost at that moment)."""

    def __init__(
        self,
        *,
        login_failure: tuple[str, str] | None = None,
        run_failure: tuple[str, str] | None = None,
        failures: int | None = None,
        fail_on: str = "",
        agent: str = "Neo4j/5.26.0",
        schema_names: tuple[str, ...] = (),
        names_after_failure: tuple[str, ...] = (),
        version: tuple[int, int] = (5, 0),
        notifications: tuple[dict[str, Any], ...] = (),
        drop_on: int | None = None,
        drops: int = 1,
        gql: dict[str, Any] | None = None,
    ) -> None:
        #: Bolt 5.7+ (Neo4j 5.26+): a FAILURE's GQL fields (gql_status, description, cause...)
        self.gql = gql or {}
        self.drop_on = drop_on
        self.drops = drops
        self.commits = 0
        self.login_failure = login_failure
        self.run_failure = run_failure
        self.failures = failures
        self.fail_on = fail_on
        self.agent = agent
        self.schema_names = schema_names
        self.names_after_failure = names_after_failure
        self.version = version
        self.notifications = notifications
        self.connections = 0
        #: how each connection ended: "goodbye" (the client's), "dropped" (the client closed
        #: the socket), "timed out" (the client sent nothing for 10 s: the peer closed it)
        self.endings: list[str] = []
        self.queries: list[str] = []
        #: the extra fields (a map) of every BEGIN and auto-commit RUN, in order; of BEGINs only
        self.extras: list[dict[str, Any]] = []
        self.begins: list[dict[str, Any]] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.uri = f"bolt://127.0.0.1:{self._server.getsockname()[1]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)

    @property
    def runs(self) -> int:
        return len(self.queries)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    @staticmethod
    def _read_exact(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("peer closed")
            data += chunk
        return data

    def _read_message(self, conn: socket.socket) -> bytes:
        body = b""
        while True:
            (size,) = struct.unpack(">H", self._read_exact(conn, 2))
            if size == 0:
                if body:
                    return body
                continue  # a NOOP chunk
            body += self._read_exact(conn, size)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                self._read_exact(conn, 20)  # magic + four version proposals
                major, minor = self.version
                conn.sendall(bytes([0, 0, minor, major]))
                login = LOGON if self.version >= (5, 1) else HELLO
                failed = False
                query = ""
                quiet = in_tx = False
                while not self._stop.is_set():
                    message = self._read_message(conn)
                    tag = message[1]
                    if tag == GOODBYE:
                        self.endings.append("goodbye")
                        return
                    if tag == COMMIT:
                        self.commits += 1
                    if tag == self.drop_on and self.drops > 0:
                        self.drops -= 1
                        self.endings.append("closed by the peer")
                        return  # the connection closes, the message unanswered
                    if tag == RESET:
                        failed = in_tx = False
                        conn.sendall(_message(SUCCESS, {}))
                    elif failed:
                        conn.sendall(_message(IGNORED))
                    elif tag == login and self.login_failure:
                        failed = True
                        conn.sendall(self._failure(*self.login_failure))
                    elif tag == HELLO:
                        hello = {"server": self.agent, "connection_id": "bolt-1"}
                        conn.sendall(_message(SUCCESS, hello))
                    elif tag == LOGON:
                        conn.sendall(_message(SUCCESS, {}))
                    elif tag == RUN:
                        query, _, extra = _fields(message)
                        self.queries.append(query)
                        if not in_tx:
                            self.extras.append(extra)
                            quiet = extra.get("notifications_minimum_severity") == "OFF"
                        if (
                            self.run_failure
                            and query.startswith(self.fail_on)
                            and (self.failures is None or self.failures > 0)
                        ):
                            if self.failures is not None:
                                self.failures -= 1
                            failed = True
                            self.schema_names += self.names_after_failure
                            conn.sendall(self._failure(*self.run_failure))
                        else:
                            field = "name" if query.startswith("SHOW") else "x"
                            conn.sendall(_message(SUCCESS, {"fields": [field], "t_first": 0}))
                    elif tag == BEGIN:
                        (extra,) = _fields(message)
                        self.extras.append(extra)
                        self.begins.append(extra)
                        quiet = extra.get("notifications_minimum_severity") == "OFF"
                        in_tx = True
                        conn.sendall(_message(SUCCESS, {}))
                    elif tag == PULL:
                        conn.sendall(self._rows(query, quiet))
                    elif tag == COMMIT:
                        in_tx = False
                        conn.sendall(_message(SUCCESS, {"bookmark": "bm:1"}))
                    else:  # ROLLBACK
                        in_tx = False
                        conn.sendall(_message(SUCCESS, {}))
            except TimeoutError:
                self.endings.append("timed out")
            except (ConnectionError, OSError):
                self.endings.append("dropped")

    def _failure(self, code: str, text: str) -> bytes:
        """A FAILURE as Neo4j sends it: from Bolt 5.7 on with a GQL status (Neo4j's own for an
        error it has none for: 50N42), the code under ``neo4j_code``."""
        if self.version < (5, 7):
            return _message(FAILURE, {"code": code, "message": text})
        fields = {
            "neo4j_code": code,
            "message": text,
            "gql_status": "50N42",
            "description": "error: general processing exception - unexpected error",
            "diagnostic_record": {"OPERATION": "", "OPERATION_CODE": "0", "CURRENT_SCHEMA": "/"},
        }
        return _message(FAILURE, fields | self.gql)

    def _rows(self, query: str, quiet: bool) -> bytes:
        if query.startswith("SHOW"):
            rows = b"".join(_message(RECORD, [name]) for name in self.schema_names)
            return rows + _message(SUCCESS, {"has_more": False})
        if query.startswith("CREATE"):
            return _message(SUCCESS, {"has_more": False, "stats": {"indexes-added": 1}})
        if query.startswith("CALL"):
            return _message(SUCCESS, {"has_more": False})
        done: dict[str, Any] = {"has_more": False}
        if self.notifications and not quiet:
            done["notifications"] = list(self.notifications)
        return _message(RECORD, [1]) + _message(SUCCESS, done)

    def wait_until_ended(self, count: int) -> list[str]:
        """How the first ``count`` connections ended, once they have (bounded: a connection
        the client keeps sending nothing on ends "timed out" after 10 s)."""
        for thread in self._threads[1 : count + 1]:
            thread.join(timeout=15)
        return list(self.endings)

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def peer_factory() -> Iterator[Any]:
    peers: list[BoltPeer] = []

    def make(**kwargs: Any) -> BoltPeer:
        peer = BoltPeer(**kwargs)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()


def _backend(uri: str, **settings: Any) -> Neo4jBackend:
    settings.setdefault("connect_timeout_s", 5)
    return Neo4jBackend(Neo4jSettings(uri=uri, **settings))


# ---------------------------------------------------------------------------- targets, settings


@pytest.mark.parametrize("scheme", NEO4J_SCHEMES)
def test_every_neo4j_scheme_resolves_to_neo4j(scheme: str) -> None:
    uri = f"{scheme}://db.example.com:7687"
    assert resolve_target(uri) == ("neo4j", uri)
    assert resolve_target(uri.upper().replace("DB.EXAMPLE.COM", "h"))[0] == "neo4j"


def test_neo4j_user_is_an_alias_of_neo4j_username(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Neo4jSettings().username == "neo4j"
    monkeypatch.setenv("NEO4J_USER", "alice")
    assert Neo4jSettings().username == "alice"
    monkeypatch.setenv("NEO4J_USERNAME", "bob")
    assert Neo4jSettings().username == "bob"
    assert Neo4jSettings(username="carol").username == "carol"  # arguments beat the environment


#: Bare words some systems export (Windows and many Linux desktops set USERNAME and USER).
COMMON_ENV = ("USERNAME", "USER", "PASSWORD", "URI", "DATABASE", "GRAPH", "FSYNC", "STORE")


def test_common_environment_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only prefixed variables are read: ``USERNAME=bob`` must not beat ``NEO4J_USERNAME``."""
    from lineage_graph.config import EmbeddedSettings, StoreSettings

    for var in COMMON_ENV:
        monkeypatch.setenv(var, "bob")
        monkeypatch.setenv(var.lower(), "bob")
    neo4j_settings = Neo4jSettings()
    assert neo4j_settings.username == "neo4j"
    assert neo4j_settings.uri is None
    assert neo4j_settings.password is None
    assert neo4j_settings.database is None
    embedded = EmbeddedSettings()
    assert (embedded.graph, embedded.fsync, embedded.password) == ("lineage", "always", None)
    assert StoreSettings().store is None
    monkeypatch.setenv("NEO4J_USERNAME", "alice")
    assert Neo4jSettings().username == "alice"
    assert Neo4jSettings(username="carol").username == "carol"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://x.databases.neo4j.io")
    monkeypatch.setenv("NEO4J_PASSWORD", SECRET)
    monkeypatch.setenv("NEO4J_DATABASE", "lineage")
    settings = Neo4jSettings()
    assert settings.uri == "neo4j+s://x.databases.neo4j.io"
    assert settings.password is not None and settings.password.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert settings.database == "lineage"


def test_a_uri_is_required() -> None:
    with pytest.raises(ConfigurationError, match="NEO4J_URI"):
        Neo4jBackend(Neo4jSettings())


@pytest.mark.parametrize(
    ("uri", "match"),
    [("http://localhost:7474", "unsupported Neo4j URI scheme"), ("bolt://h:port", "invalid")],
)
def test_malformed_uris_are_configuration_errors(uri: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        _backend(uri, connect_timeout_s=1)


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        (f"bolt://neo4j:{SECRET}@127.0.0.1:99999", "Port out of range"),
        (f"neo4j://neo4j:{SECRET}@127.0.0.1:65536", "Port out of range"),
        ("bolt://127.0.0.1:0", "not 0"),
        (f"bolt://neo4j:{SECRET}@127.0.0.1:1/mydb", "takes no path"),
        ("neo4j://127.0.0.1:1/mydb?policy=eu", "takes no path"),
        ("bolt://127.0.0.1:1#frag", "fragment"),
    ],
)
def test_a_uri_naming_another_port_or_database_than_the_driver_reads_is_refused(
    uri: str, match: str
) -> None:
    """The driver connected to port 99999 - 65536 = 34463 for ``:99999`` and to 7687 for
    ``:0``, and ignored a path (``/mydb``: the writes went to the default database) and a
    fragment: another server or database than the URI names, or EngineUnavailableError
    naming a port no one wrote. Refused before any connection, never quoting the password."""
    with pytest.raises(ConfigurationError, match=match) as info:
        _backend(uri, connect_timeout_s=1, retry_unreachable=False)
    assert SECRET not in str(info.value)


def test_credentials_before_an_empty_host_keep_the_scheme() -> None:
    """``bolt://user:pw@`` (no host: the driver's localhost:7687, as ``bolt://``) was refused as
    an "unsupported Neo4j URI scheme 'bolt:'": the credentials' removal lost the ``//``."""
    try:  # nothing listens on 7687 here; a server there answers for the wrong credentials
        _backend(f"bolt://neo4j:{SECRET}@", connect_timeout_s=1, retry_unreachable=False).close()
    except (EngineUnavailableError, ConfigurationError) as exc:
        assert "scheme" not in str(exc) and SECRET not in str(exc)
        if isinstance(exc, EngineUnavailableError):
            assert "localhost:7687" in str(exc)


# ------------------------------------------------------------------------------------ start-up


@pytest.mark.parametrize("uri", [UNREACHABLE, "neo4j://127.0.0.1:1", "bolt+ssc://127.0.0.1:1"])
def test_an_unreachable_server_is_engine_unavailable_quickly(uri: str) -> None:
    start = time.monotonic()
    with pytest.raises(EngineUnavailableError, match="did not answer within 1 s") as info:
        _backend(uri, connect_timeout_s=1, password=SECRET)
    assert time.monotonic() - start < 10
    assert info.value.retryable
    assert SECRET not in str(info.value)


def _retries(caplog: pytest.LogCaptureFixture) -> int:
    """How many times the first connection was tried again (each retry is logged, DEBUG)."""
    return sum(r.name == "lineage_graph.backends.neo4j" for r in caplog.records)


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        (UNREACHABLE, "refused the connection"),
        ("neo4j://127.0.0.1:1", "refused the connection"),
        ("bolt+ssc://127.0.0.1:1", "refused the connection"),
        ("bolt://no-such-host.invalid:7687", "does not resolve"),
        ("neo4j://no-such-host.invalid:7687", "does not resolve"),
    ],
)
def test_a_refused_connection_or_unknown_host_fails_at_first_attempt(
    uri: str, match: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With ``retry_unreachable`` off (the CLI's choice), a closed port or a mistyped host name
    fails at the first attempt, saying why; it was retried for connect_timeout_s (30 s) before
    EngineUnavailableError said 'did not answer within 30 s'. By default (a library started
    beside a server that is not listening yet) they are retried."""
    caplog.set_level("DEBUG", logger="lineage_graph.backends.neo4j")
    with pytest.raises(EngineUnavailableError, match=match) as info:
        _backend(uri, connect_timeout_s=30, password=SECRET, retry_unreachable=False)
    assert _retries(caplog) == 0
    assert info.value.retryable and SECRET not in str(info.value)
    caplog.clear()
    with pytest.raises(EngineUnavailableError, match="did not answer within 1 s"):
        _backend(uri, connect_timeout_s=1)
    assert _retries(caplog) >= 1


def test_a_server_starting_up_is_still_waited_for(caplog: pytest.LogCaptureFixture) -> None:
    """A port that accepts and closes at once (a container's published port before the
    server listens behind it) is a server starting up: retried until connect_timeout_s."""
    caplog.set_level("DEBUG", logger="lineage_graph.backends.neo4j")
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted = [0]
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted[0] += 1
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        uri = f"bolt://127.0.0.1:{server.getsockname()[1]}"
        with pytest.raises(EngineUnavailableError, match="did not answer within 1 s"):
            _backend(uri, connect_timeout_s=1)
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
    assert _retries(caplog) >= 1 and accepted[0] >= 2


def test_open_backend_reaches_neo4j_with_settings_overrides() -> None:
    with pytest.raises(EngineUnavailableError):
        open_backend(UNREACHABLE, connect_timeout_s=1)


def test_credentials_in_the_uri_are_used_and_never_shown(peer_factory: Any) -> None:
    peer = peer_factory(
        login_failure=(
            "Neo.ClientError.Security.Unauthorized",
            "The client is unauthorized due to authentication failure.",
        )
    )
    with pytest.raises(ConfigurationError) as info:
        _backend(peer.uri.replace("bolt://", f"bolt://dora:{SECRET}@"))
    assert "'dora'" in str(info.value) and SECRET not in str(info.value)


def test_wrong_credentials_fail_at_once(peer_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    peer = peer_factory(
        login_failure=(
            "Neo.ClientError.Security.Unauthorized",
            "The client is unauthorized due to authentication failure.",
        )
    )
    monkeypatch.setenv("NEO4J_USER", "alice")
    monkeypatch.setenv("NEO4J_PASSWORD", SECRET)
    start = time.monotonic()
    with pytest.raises(ConfigurationError, match="refused the credentials for user 'alice'") as e:
        _backend(peer.uri, connect_timeout_s=30)
    assert time.monotonic() - start < 5  # not retried for connect_timeout_s
    assert peer.connections == 1
    assert SECRET not in str(e.value) and not e.value.retryable


# ----------------------------------------------------------------------------- a live backend


def test_rows_describe_and_close(peer_factory: Any) -> None:
    peer = peer_factory(agent="Neo4j/5.26.19")
    backend = _backend(f"bolt://neo4j:{SECRET}@" + peer.uri.removeprefix("bolt://"))
    assert backend.dialect == "neo4j"
    assert backend.read("RETURN 1 AS x", name="t/read") == [{"x": 1}]
    assert backend.write("RETURN 1 AS x", {"a": [1, 2]}, name="t/write") == [{"x": 1}]
    info = backend.describe()
    assert info["engine"] == "neo4j"
    assert info["uri"] == peer.uri  # the credentials are stripped
    assert info["server_version"] == "Neo4j/5.26.19"
    assert SECRET not in repr(info)
    backend.close()
    backend.close()  # idempotent
    with pytest.raises(EngineError, match="closed"):
        backend.read("RETURN 1")


def test_no_password_means_no_auth(peer_factory: Any) -> None:
    with _backend(peer_factory().uri) as backend:
        assert backend.read("RETURN 1 AS x") == [{"x": 1}]


@pytest.mark.parametrize(
    ("code", "error", "match"),
    [
        (
            "Neo.ClientError.Schema.ConstraintValidationFailed",
            AlreadyExistsError,
            "already exists",
        ),
        ("Neo.ClientError.Statement.SyntaxError", QueryError, "in query 'area/name'"),
        ("Neo.ClientError.Statement.ParameterMissing", QueryError, "in query 'area/name'"),
        ("Neo.ClientError.Database.DatabaseNotFound", ConfigurationError, "no such database"),
        ("Neo.ClientError.Security.Forbidden", ConfigurationError, "lacks a privilege"),
        # a password that must be changed (a new server's neo4j/neo4j): the login succeeds and
        # every query fails so; it was QueryError "Neo4j rejected the query"
        (
            "Neo.ClientError.Security.CredentialsExpired",
            ConfigurationError,
            "password of user 'neo4j' to be changed",
        ),
        ("Neo.DatabaseError.General.UnknownError", EngineError, "Neo4j error in query"),
        *(
            (f"Neo.ClientError.Transaction.{title}", QueryError, "longer than the transaction tim")
            for title in ("TransactionTimedOut", "TransactionTimedOutClientConfiguration")
        ),
        # a transaction past its timeout while it waits for a lock: Neo4j 5 sends the client
        # error, 4.4 the transient one (the driver reads both as the client error)
        *(
            (f"Neo.{kind}.Transaction.LockClientStopped", QueryError, "waiting for a lock")
            for kind in ("ClientError", "TransientError")
        ),
    ],
)
def test_server_errors_map_to_the_library_tree(
    peer_factory: Any, code: str, error: type[Exception], match: str
) -> None:
    peer = peer_factory(run_failure=(code, f"details of {code}"))
    with _backend(peer.uri, password=SECRET) as backend:
        for call in (backend.read, backend.write):
            with pytest.raises(error, match=match) as info:
                call("RETURN 1", name="area/name")
            assert type(info.value) is error
            assert SECRET not in str(info.value)
    assert peer.runs == 2  # not retried


@pytest.mark.parametrize(
    ("env", "settings", "expected"),
    [
        ({}, {}, 120_000),  # the embedded engine's default
        ({"NEO4J_QUERY_TIMEOUT_MS": "2500"}, {}, 2500),
        ({"NEO4J_QUERY_TIMEOUT_MS": "2500"}, {"query_timeout_ms": 0}, None),  # the server's own
        ({}, {"query_timeout_ms": 2**31 - 1}, 2**31 - 1),  # the largest allowed, sent as is
    ],
)
def test_every_transaction_has_the_query_timeout(
    peer_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    settings: dict[str, Any],
    expected: int | None,
) -> None:
    """A query never hangs for ever: each read and write transaction carries query_timeout_ms."""
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    peer = peer_factory()
    with _backend(peer.uri, **settings) as backend:
        backend.read("RETURN 1 AS x")
        backend.write("RETURN 1 AS x")
    assert [extra.get("tx_timeout") for extra in peer.begins] == [expected, expected]


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        # graph/write's guards (integer division by zero)
        ("Neo.ClientError.Statement.ArithmeticError", "/ by zero", QueryError),
        # a node the query saw, deleted by another transaction before this one got its lock
        (
            "Neo.ClientError.Statement.EntityNotFound",
            "Unable to load NODE with id 7.",
            FailedPreconditionError,
        ),
    ],
)
def test_a_write_neo4j_aborts_on_a_missing_node_is_one_graph_writer_names(
    peer_factory: Any, code: str, message: str, error: type[Exception]
) -> None:
    """GraphWriter turns an aborted graph/write into the caller's NotFoundError (or a failed
    precondition) only when it recognises the abort. An EntityNotFound (retention deleted the
    node while the write waited for its lock; or the artifact of a model registration, or of an
    impact mark's undo) escaped as 'Neo4j rejected the query' (QueryError), as if the library's
    query were wrong: it is another writer's deletion, a failed precondition."""
    peer = peer_factory(run_failure=(code, message))
    with _backend(peer.uri) as backend, pytest.raises(error) as info:
        backend.write("RETURN 1", name="graph/write")
    assert type(info.value) is error
    assert isinstance(info.value, QueryError | FailedPreconditionError)
    assert _aborted(info.value)
    assert peer.runs == 1  # a client error: not retried


#: Neo4j 5.26+'s division by zero over Bolt 5.7+ (ArithmeticException.divisionByZero): GQL
#: status 22012, caused by 22N28 naming the operation.
DIVISION_BY_ZERO_GQL = {
    "gql_status": "22012",
    "description": "error: data exception - division by zero",
    "cause": {
        "gql_status": "22N28",
        "message": "22N28: The result of the operation '/ by zero' has caused an overflow.",
        "description": "error: data exception - overflow error",
    },
}


@pytest.mark.parametrize(
    ("message", "gql", "aborted"),
    [
        # Neo4j's GQL message for 22012 (its template has no text): no "/ by zero" in it
        ("22012", DIVISION_BY_ZERO_GQL, True),
        ("/ by zero", DIVISION_BY_ZERO_GQL, True),
        # another GQL status: words in its message do not make it the guards' abort
        ("Invalid input '/ by zero': expected an expression", {"gql_status": "42001"}, False),
        # a server without GQL statuses (the driver's 50N42): the message decides
        ("/ by zero", {}, True),
        # an arithmetic error under another status than the documented 22012: still the abort
        ("/ by zero", {"gql_status": "22N28"}, True),
    ],
)
def test_an_abort_by_division_by_zero_is_recognised_by_its_gql_status(
    peer_factory: Any, message: str, gql: dict[str, Any], aborted: bool
) -> None:
    """graph/write's guards abort it by dividing by zero; GraphWriter recognised that by
    Neo4j's message text ("/ by zero"), which Neo4j deprecates relying on (its GQL messages
    differ). From Neo4j 5.26 (Bolt 5.7) the error's GQL status, 22012, decides; without one
    (older servers) the message, as on FalkorDB."""
    if not hasattr(neo4j_errors.Neo4jError, "gql_status"):
        pytest.skip("a driver before 5.26 has no GQL statuses")
    code = (
        "Neo.ClientError.Statement.SyntaxError"
        if gql.get("gql_status") == "42001"
        else "Neo.ClientError.Statement.ArithmeticError"
    )
    peer = peer_factory(version=(5, 7), run_failure=(code, message), gql=gql)
    with _backend(peer.uri) as backend, pytest.raises(QueryError) as info:
        backend.write("RETURN 1", name="graph/write")
    assert _aborted(info.value) is aborted, info.value
    assert peer.runs == 1


def test_transient_errors_are_retried_then_unavailable(peer_factory: Any) -> None:
    peer = peer_factory(run_failure=("Neo.TransientError.Transaction.DeadlockDetected", "deadlock"))
    backend = _backend(peer.uri, max_transaction_retry_time_s=0.5)
    with backend, pytest.raises(EngineUnavailableError, match="in query 'area/w'") as info:
        backend.write("RETURN 1", name="area/w")
    assert info.value.retryable
    assert peer.runs > 1  # the managed transaction retried it


#: Neo4j 5's answers to a write where none is allowed (WriteOperationsNotAllowedException).
READ_ONLY_SERVER = (
    "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase",
    "No write operations are allowed on this database. This is a read only Neo4j instance.",
)
READ_ONLY_DATABASE = (
    "Neo.ClientError.General.WriteOnReadOnlyAccessDatabase",
    "No write operations are allowed on this database. The database is in read-only mode on "
    "this Neo4j instance.",
)


@pytest.mark.parametrize(
    ("failure", "match"),
    [(READ_ONLY_SERVER, "is a read-only server"), (READ_ONLY_DATABASE, "database is read-only")],
    ids=["server", "database"],
)
def test_a_write_to_a_read_only_neo4j_fails_at_once_saying_so(
    peer_factory: Any, failure: tuple[str, str], match: str
) -> None:
    """A server that is read-only (a cluster's secondary, reached with bolt://) answered
    ForbiddenOnReadOnlyDatabase, which the driver classes transient (a routing driver's stale
    writer) and, on a direct connection, raises as WriteServiceUnavailable: the write was
    retried against the same server for max_transaction_retry_time_s (30 s), then "Neo4j is
    unavailable ... No write service available for pool" (retryable). A database set read-only
    was "Neo4j rejected the query". Both are a failed precondition now, not retryable, saying
    what is read-only; the server's refusal is not retried on a direct connection."""
    peer = peer_factory(run_failure=failure)
    with _backend(peer.uri, max_transaction_retry_time_s=2) as backend:
        with pytest.raises(FailedPreconditionError, match=match) as info:
            backend.write("CREATE (n:Probe) RETURN 1 AS x", name="graph/write")
        assert type(info.value) is FailedPreconditionError and not info.value.retryable
        assert "nothing was written" in str(info.value)
        assert failure[1] in str(info.value)  # the server's own words
        assert not _aborted(info.value)  # not a write the guards aborted
        assert peer.runs == 1  # not retried
        peer.run_failure = None
        assert backend.write("RETURN 1 AS x") == [{"x": 1}]  # the connection still works


@pytest.mark.parametrize("failure", [READ_ONLY_SERVER, READ_ONLY_DATABASE], ids=["server", "db"])
def test_schema_set_up_on_a_read_only_neo4j_fails_at_once_saying_so(
    peer_factory: Any, failure: tuple[str, str]
) -> None:
    """A new store opened on a read-only server: schema set-up retried its CREATE (a transient
    error, on a direct connection WriteServiceUnavailable) for max_transaction_retry_time_s."""
    peer = peer_factory(run_failure=failure, fail_on="CREATE")
    backend = _backend(peer.uri, max_transaction_retry_time_s=2)
    with backend, pytest.raises(FailedPreconditionError, match="read-only") as info:
        backend.ensure_schema(SPEC)
    assert "'schema/lg_uniq_artifact_id'" in str(info.value)
    assert peer.queries == [*SHOW_SCHEMA_NAMES, schema_ddl(SPEC.indexes[0])]  # not retried


def test_a_routing_drivers_last_read_only_error_is_a_failed_precondition() -> None:
    """Through neo4j:// the driver drops the read-only server from its routing table and
    retries (a cluster whose topology changed); what it raises at the end, the
    ForbiddenOnReadOnlyDatabase itself (a TransientError), is the same failed precondition."""
    code, message = READ_ONLY_SERVER
    exc = neo4j_errors.Neo4jError._hydrate_neo4j(code=code, message=message)
    assert isinstance(exc, neo4j_errors.ForbiddenOnReadOnlyDatabase) and exc.is_retryable()
    mapped = _map_error(exc, "graph/write", uri="neo4j://h:7687")
    assert type(mapped) is FailedPreconditionError and not mapped.retryable
    assert "is a read-only server" in str(mapped) and message in str(mapped)


def test_a_write_to_a_followers_bolt_address_says_it_is_not_the_leader(
    peer_factory: Any,
) -> None:
    """A cluster's follower reached with bolt:// answers NotALeader, which a direct driver
    raises as WriteServiceUnavailable: after the retries the call said "Neo4j is unavailable
    ... No write service available for pool <DirectBoltPool ...>". Still retryable (the
    leadership may move to it), it says now that the server is not the leader, and why."""
    message = (
        "No write operations are allowed directly on this database. Writes must pass through "
        "the leader. The role of this server is: FOLLOWER"
    )
    peer = peer_factory(run_failure=("Neo.ClientError.Cluster.NotALeader", message))
    backend = _backend(peer.uri, max_transaction_retry_time_s=0.5)
    with backend, pytest.raises(EngineUnavailableError) as info:
        backend.write("CREATE (n:Probe) RETURN 1 AS x", name="graph/write")
    text = str(info.value)
    assert "is a cluster member that is not the database's leader" in text, text
    assert "use neo4j://" in text and message in text, text
    assert "No write service available" not in text
    assert info.value.retryable
    assert peer.runs > 1  # the driver's retry stays


def test_a_routing_drivers_not_a_leader_error_says_the_leadership_moved() -> None:
    """Through neo4j:// the message said "Neo4j at neo4j://... is not the cluster's leader ...
    writes need the leader (a neo4j:// URI routes them to it ...)": it called the cluster (the
    URI) a follower and advised the URI already in use. The routing driver sent the write to
    the member its table named the leader: the leadership moved, and no leader took it."""
    message = (
        "No write operations are allowed directly on this database. Writes must pass through "
        "the leader. The role of this server is: FOLLOWER"
    )
    code = "Neo.ClientError.Cluster.NotALeader"
    exc = neo4j_errors.Neo4jError._hydrate_neo4j(code=code, message=message)
    mapped = _map_error(exc, "graph/write", uri="neo4j://cluster:7687")
    text = str(mapped)
    assert type(mapped) is EngineUnavailableError and mapped.retryable
    assert "no longer was" in text and "nothing was written" in text and message in text
    assert "use neo4j://" not in text and "is a cluster member" not in text, text


POOL_FULL = (
    "The allocation of an extra 2.0 MiB would use more than the limit 716.8 MiB. Currently using "
    "715.0 MiB. dbms.memory.transaction.total.max threshold reached"
)


HEAP_FULL = (
    "There is not enough memory to perform the current task. Please try increasing "
    "'server.memory.heap.max_size' in the neo4j configuration"
)


@pytest.mark.parametrize(
    ("code", "message"),
    [("MemoryPoolOutOfMemoryError", POOL_FULL), ("OutOfMemoryError", HEAP_FULL)],
)
def test_a_server_out_of_memory_is_said_so_and_still_retryable(
    peer_factory: Any, code: str, message: str
) -> None:
    """Neo4j's transaction memory pool full (dbms.memory.transaction.total.max, or the
    database's db.memory.transaction.total.max), or its heap: a transient error the driver
    retries, then EngineUnavailableError (retryable: other transactions free memory). It said
    "Neo4j is unavailable", as if the server were down; it says what happened now."""
    peer = peer_factory(run_failure=(f"Neo.TransientError.General.{code}", message))
    backend = _backend(peer.uri, max_transaction_retry_time_s=0.5)
    with backend, pytest.raises(EngineUnavailableError) as info:
        backend.write("RETURN 1", name="graph/write")
    text = str(info.value)
    assert "ran out of memory" in text and "is unavailable" not in text, text
    assert message in text  # the server's, which names the limit
    assert info.value.retryable
    assert peer.runs > 1  # still a transient error: the managed transaction retried it


def test_a_transaction_over_its_memory_limit_is_said_so(peer_factory: Any) -> None:
    """One transaction over db.memory.transaction.max (a client error: not retried, it would
    fail again) said "Neo4j rejected the query", as if the library's query were wrong."""
    message = POOL_FULL.replace("dbms.memory.transaction.total", "db.memory.transaction")
    peer = peer_factory(
        run_failure=("Neo.ClientError.General.TransactionOutOfMemoryError", message)
    )
    with _backend(peer.uri) as backend, pytest.raises(QueryError) as info:
        backend.write("RETURN 1", name="graph/write")
    text = str(info.value)
    assert "more memory than one transaction may use" in text and "rejected" not in text, text
    assert not info.value.retryable
    assert peer.runs == 1


def test_a_commit_whose_reply_is_lost_is_in_doubt_and_not_run_again(peer_factory: Any) -> None:
    """The connection lost while COMMIT waits for its reply (the driver's IncompleteCommit): the
    write may have been applied. It is EngineUnavailableError, the error GraphWriter and
    LineageStore._once take for a write in doubt (they read it back and remember it for the
    retry, as on FalkorDB), and the managed transaction does not run it again: a second run of a
    graph/write already applied would create its new nodes twice."""
    peer = peer_factory(drop_on=COMMIT)
    backend = _backend(peer.uri, max_transaction_retry_time_s=2)
    with backend, pytest.raises(EngineUnavailableError, match="may or may not") as info:
        backend.write("MERGE (n:Probe) RETURN 1 AS x", name="graph/write")
    assert isinstance(info.value.__cause__, neo4j_errors.IncompleteCommit)
    assert "in query 'graph/write'" in str(info.value)
    assert (peer.runs, peer.commits) == (1, 1)


def test_a_connection_lost_before_commit_is_retried_not_in_doubt(peer_factory: Any) -> None:
    """Lost before COMMIT was sent (here: while the rows were pulled), nothing was applied:
    the managed transaction runs the write again and it succeeds, with no error in doubt."""
    peer = peer_factory(drop_on=PULL)
    with _backend(peer.uri, max_transaction_retry_time_s=5) as backend:
        assert backend.write("MERGE (n:Probe) RETURN 1 AS x", name="graph/write") == [{"x": 1}]
    assert (peer.runs, peer.commits) == (2, 1)


DEPRECATION = {
    "code": "Neo.ClientNotification.Statement.FeatureDeprecationWarning",
    "title": "This feature is deprecated and will be removed in future versions.",
    "description": "CALL subquery without a variable scope clause is now deprecated.",
    "severity": "WARNING",
    "category": "DEPRECATION",
    "position": {"offset": 0, "line": 1, "column": 1},
}


def test_notifications_are_switched_off(
    peer_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt 5.2+ (Neo4j 5.7+): every transaction asks for no notifications, so driver 6 logs
    none of the deprecations Neo4j 5.23+ reports on the library's own queries."""
    peer = peer_factory(version=(5, 2), notifications=(DEPRECATION,))
    caplog.set_level("DEBUG", logger="neo4j.notifications")
    with _backend(peer.uri) as backend:
        assert backend.read("RETURN 1 AS x", name="t/read") == [{"x": 1}]
        assert backend.write("RETURN 1 AS x", name="t/write") == [{"x": 1}]
        backend.ensure_schema(SPEC)
    assert peer.extras and all(
        extra.get("notifications_minimum_severity") == "OFF" for extra in peer.extras
    )
    assert not [r for r in caplog.records if r.name.startswith("neo4j.notifications")]


def test_older_protocols_get_no_notification_filter(peer_factory: Any) -> None:
    """Bolt 5.0 and 5.1 (Neo4j 5.0 to 5.6) have no notification filters: the driver would refuse
    the setting (ConfigurationError), so none is sent and the store works."""
    peer = peer_factory(version=(5, 1))
    with _backend(peer.uri, password=SECRET) as backend:
        assert backend.write("RETURN 1 AS x") == [{"x": 1}]
    assert peer.extras and not any("notifications_minimum_severity" in e for e in peer.extras)


@pytest.mark.parametrize(
    "exc",
    [
        # driver 5.x (_sync/io/_pool.py): a ClientError without a code
        neo4j_errors.ClientError("failed to obtain a connection from the pool within 60.0s"),
        *(
            [neo4j_errors.ConnectionAcquisitionTimeoutError("failed to obtain a connection")]
            if hasattr(neo4j_errors, "ConnectionAcquisitionTimeoutError")  # driver 6
            else []
        ),
    ],
    ids=type,
)
def test_a_pool_timeout_is_engine_unavailable(exc: Exception) -> None:
    mapped = _map_error(exc, "area/name", uri="bolt://h:7687")
    assert type(mapped) is EngineUnavailableError
    assert mapped.retryable
    assert "in query 'area/name'" in str(mapped)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"s": "a\udfffb"}, "valid Unicode"),
        ({"rows": [{"id": 2**63}]}, "out of range"),
        ({"rows": [{"x": object()}]}, "cannot be sent to Neo4j"),  # the packer's ValueError
        ({"rows": [{1: "non-string key"}]}, "cannot be sent to Neo4j"),  # its TypeError
    ],
)
def test_unsendable_parameters_are_invalid_arguments(
    peer_factory: Any, params: dict[str, Any], match: str
) -> None:
    with _backend(peer_factory().uri) as backend:
        with pytest.raises(InvalidArgumentError, match=match):
            backend.write("RETURN $s AS x", params)
        assert backend.read("RETURN 1 AS x") == [{"x": 1}]  # the connection survived


# ------------------------------------------------------------------------------------ schema

SPEC = SchemaSpec(
    (
        IndexSpec("Artifact", ("id",), unique=True),
        IndexSpec("Artifact", ("type_id", "name"), unique=True),
        IndexSpec("Artifact", ("uri",)),
        IndexSpec("Context", ("type_id", "name")),
    )
)


def test_schema_ddl_text() -> None:
    assert [schema_ddl(index) for index in SPEC.indexes] == [
        "CREATE CONSTRAINT lg_uniq_artifact_id IF NOT EXISTS FOR (n:Artifact) "
        "REQUIRE n.id IS UNIQUE",
        "CREATE CONSTRAINT lg_uniq_artifact_type_id_name IF NOT EXISTS FOR (n:Artifact) "
        "REQUIRE (n.type_id, n.name) IS UNIQUE",
        "CREATE INDEX lg_idx_artifact_uri IF NOT EXISTS FOR (n:Artifact) ON (n.uri)",
        "CREATE INDEX lg_idx_context_type_id_name IF NOT EXISTS FOR (n:Context) "
        "ON (n.type_id, n.name)",
    ]


def test_ensure_schema_creates_only_what_is_missing(peer_factory: Any) -> None:
    present = ("lg_uniq_artifact_id", "lg_idx_context_type_id_name")
    peer = peer_factory(schema_names=present)
    with _backend(peer.uri) as backend:
        backend.ensure_schema(SPEC)
        assert peer.queries == [
            *SHOW_SCHEMA_NAMES,
            schema_ddl(SPEC.indexes[1]),
            schema_ddl(SPEC.indexes[2]),
            AWAIT_INDEXES,
        ]
        peer.queries.clear()
        peer.schema_names = tuple(index.name for index in SPEC.indexes)
        backend.ensure_schema(SPEC)  # a reopened store: two reads, no DDL
        assert peer.queries == list(SHOW_SCHEMA_NAMES)


def test_schema_set_up_retries_transient_errors(peer_factory: Any) -> None:
    """Auto-commit DDL is not retried by the driver: a leader switch or a database still starting
    while a store opens is retried from the start (every statement is idempotent)."""
    peer = peer_factory(
        run_failure=("Neo.TransientError.General.DatabaseUnavailable", "starting"),
        fail_on="CREATE",
        failures=1,
    )
    with _backend(peer.uri) as backend:
        backend.ensure_schema(SPEC)
    ddl = [schema_ddl(index) for index in SPEC.indexes]
    assert peer.queries == [*SHOW_SCHEMA_NAMES, ddl[0], *SHOW_SCHEMA_NAMES, *ddl, AWAIT_INDEXES]


def test_a_schema_clash_is_a_configuration_error(peer_factory: Any) -> None:
    """``IF NOT EXISTS`` does not cover an index an operator made on a property lineage-graph
    holds unique: opening the store says which index to drop, and is not retried."""
    message = (
        "There already exists an index (:Artifact {id}). A constraint cannot be created until "
        "the index has been dropped."
    )
    peer = peer_factory(
        run_failure=("Neo.ClientError.Schema.IndexAlreadyExists", message),
        fail_on="CREATE CONSTRAINT",
    )
    with _backend(peer.uri) as backend, pytest.raises(ConfigurationError) as info:
        backend.ensure_schema(SPEC)
    text = str(info.value)
    assert "'schema/lg_uniq_artifact_id'" in text
    assert "(:Artifact {id})" in text and "Drop the one on the label and properties" in text
    # the names read again: the rule of this name is not there, so the clash is another's
    assert peer.queries == [*SHOW_SCHEMA_NAMES, schema_ddl(SPEC.indexes[0]), *SHOW_SCHEMA_NAMES]


@pytest.mark.parametrize(
    "code", ["EquivalentSchemaRuleAlreadyExists", "ConstraintWithNameAlreadyExists"]
)
def test_a_rule_another_opener_just_made_is_no_clash(peer_factory: Any, code: str) -> None:
    """Two processes opening one new store race on ``CREATE … IF NOT EXISTS``: Neo4j checks the
    condition before it takes the schema lock, so the loser fails with
    EquivalentSchemaRuleAlreadyExists for the rule the winner just made (neo4j/neo4j#6823,
    reported on 5.26). When the rule of that name is there now, the store opens."""
    first = SPEC.indexes[0]
    message = f"An equivalent constraint already exists, 'Constraint( name='{first.name}' )'."
    peer = peer_factory(
        run_failure=("Neo.ClientError.Schema." + code, message),
        fail_on=schema_ddl(first),
        failures=1,
        names_after_failure=(first.name,),
    )
    with _backend(peer.uri) as backend:
        backend.ensure_schema(SPEC)
    ddl = [schema_ddl(index) for index in SPEC.indexes]
    # the clash re-reads the names; the others are still created, and waited for
    assert peer.queries == [*SHOW_SCHEMA_NAMES, ddl[0], *SHOW_SCHEMA_NAMES, *ddl[1:], AWAIT_INDEXES]


def test_schema_statements_pass_neo4j_analyser() -> None:
    """The DDL this backend generates for the real schema is valid Neo4j 5 Cypher."""
    from lineage_graph._schema import SCHEMA
    from tests.unit.test_cypher_neo4j_analyser import LINT_SCRIPT, _node

    texts = [schema_ddl(index) for index in SCHEMA.indexes]
    texts += [*SHOW_SCHEMA_NAMES, AWAIT_INDEXES]
    probe = "CREATE CONSTRAINT x IF NOT EXISTS FOR (n:A) REQUIRE n.a, n.b IS UNIQUE"
    queries = [{"name": str(i), "text": t} for i, t in enumerate([*texts, probe])]
    out = subprocess.run(
        [_node(), str(LINT_SCRIPT)],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    verdicts = json.loads(out)
    assert verdicts[-1]["errors"], "the analyser must reject the malformed probe"
    bad = {texts[i]: v["errors"] for i, v in enumerate(verdicts[:-1]) if v["errors"]}
    assert not bad


def test_the_test_suites_wipe_passes_neo4j_analyser() -> None:
    """tests/_neo4j.py's batched wipe is valid Neo4j 5 Cypher (an auto-commit statement)."""
    from tests._neo4j import WIPE
    from tests.unit.test_cypher_neo4j_analyser import _node, _run_lint

    probe = "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF ROWS"
    report = _run_lint(_node(), [{"name": "wipe", "text": WIPE}, {"name": "probe", "text": probe}])
    assert report["probe"]["errors"], "the analyser must reject the malformed probe"
    assert not report["wipe"]["errors"]


def test_the_test_suites_wipe_is_one_auto_commit_statement(peer_factory: Any) -> None:
    """``IN TRANSACTIONS`` fails inside a transaction the client began (backend.write's)."""
    from tests._neo4j import WIPE, wipe

    peer = peer_factory()
    with _backend(peer.uri) as backend:
        wipe(backend)
    assert peer.queries == [WIPE]
    assert not peer.begins  # no BEGIN: the server runs it as an auto-commit transaction


def test_the_test_suites_wipe_takes_the_store_fixtures_backend(peer_factory: Any) -> None:
    """The ``store`` fixture's backend is conftest's RecordingBackend around the Neo4jBackend:
    test_fuzz's ``fresh`` (every 250 examples of the long run) wipes ``store.backend``."""
    from tests._neo4j import WIPE, wipe
    from tests.conftest import RecordingBackend

    peer = peer_factory()
    with _backend(peer.uri) as backend:
        wipe(RecordingBackend(backend))
    assert peer.queries == [WIPE]
    assert not peer.begins


def test_a_read_of_the_primary_is_sent_where_writes_go(peer_factory: Any) -> None:
    """The read-back of a write whose commit reply was lost (GraphWriter.applied, the impact
    mark's token) reads the primary: a follower serves reads after the bookmarks it was told
    of, and a lost commit reply carries none, so there an applied write could read as not
    applied and its retry write it again. A primary read is a transaction in write mode (a
    routing driver sends it to the leader); other reads stay in read mode (followers)."""
    peer = peer_factory()
    with _backend(peer.uri) as backend:
        backend.read("RETURN 1 AS x", name="area/r")
        backend.read("RETURN 1 AS x", name="area/primary", primary=True)
    modes = [extra.get("mode", "w") for extra in peer.begins]
    assert modes[-2:] == ["r", "w"], peer.begins


def test_the_suite_tries_an_unreachable_neo4j_uri_once(tmp_path: Any) -> None:
    """NEO4J_URI set to a server that does not answer: the first Neo4j test fails with the
    backend's error, every other one at once with that error (not tried again): each waited
    connect_timeout_s (30 s) for 1,000+ tests, hours for a run that can only fail."""
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(
        NEO4J_URI=UNREACHABLE,
        NEO4J_RETRY_UNREACHABLE="0",
        PYTHONPATH=str(root),
    )
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "neo4j",
            "-o", "addopts=", "--rootdir", str(root), "--junitxml", str(tmp_path / "r.xml"),
            str(root / "tests/contract/test_record.py"),
        ],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = run.stdout + run.stderr
    # (each test's own error, read from the report: the terminal's summary lines repeat them,
    # cut or not by its width)
    import xml.etree.ElementTree as ET

    errors = [
        error.get("message", "") + (error.text or "")
        for case in ET.parse(tmp_path / "r.xml").getroot().iter("testcase")
        for error in case.iter("error")
    ]
    assert len(errors) == 3, out[-3000:]
    assert "refused the connection" in errors[0], errors[0]
    assert "not tried again" not in errors[0]
    assert all("not tried again" in e for e in errors[1:]), errors


def _interrupt_mid_chunk(fired: list[bool]) -> Any:
    """A trace function raising KeyboardInterrupt once, inside the driver's read of a reply,
    after a chunk's size was read and before its body (a Ctrl-C lands between bytecodes)."""
    try:  # driver 6 (5.x: neo4j._sync.io._common)
        from neo4j._sync.io._bolt._common import Inbox
    except ImportError:
        from neo4j._sync.io._common import Inbox  # type: ignore[no-redef]

    code = Inbox._buffer_one_chunk.__code__

    def local(frame: Any, event: str, arg: Any) -> Any:
        if not fired[0] and event == "line" and frame.f_locals.get("chunk_size", 0) > 0:
            fired[0] = True
            raise KeyboardInterrupt
        return local

    def trace(frame: Any, event: str, arg: Any) -> Any:
        return local if event == "call" and frame.f_code is code and not fired[0] else None

    return trace


@pytest.mark.parametrize("call", ["write", "read"])
def test_a_ctrl_c_inside_the_drivers_read_stays_a_keyboard_interrupt(
    peer_factory: Any, call: str
) -> None:
    """A Ctrl-C landing between a reply chunk's size and its body left the connection out of
    step; the session's graceful close read on from there, and its ServiceUnavailable, mapped
    to EngineUnavailableError ("retryable"), replaced the KeyboardInterrupt: a Ctrl-C did not
    stop the program. The connection is dropped unread now; the next call works."""
    import sys

    peer = peer_factory()
    with _backend(peer.uri) as backend:
        run = getattr(backend, call)
        assert run("RETURN 1 AS x", name="t/warm") == [{"x": 1}]
        fired = [False]
        previous = sys.gettrace()
        sys.settrace(_interrupt_mid_chunk(fired))
        try:
            with pytest.raises(KeyboardInterrupt):
                run("RETURN 1 AS x", name="t/interrupted")
        finally:
            sys.settrace(previous)
        assert fired[0]
        assert run("RETURN 1 AS x", name="t/after") == [{"x": 1}]


@pytest.mark.parametrize("call", ["ensure_schema (reopen)", "ensure_schema (create)", "wipe"])
def test_a_ctrl_c_in_an_auto_commit_statement_drops_its_connection(
    peer_factory: Any, call: str
) -> None:
    """The auto-commit paths (schema set-up's SHOW and CREATE, the test suite's wipe) closed
    their session gracefully after a Ctrl-C inside the driver's read of a reply: the close read
    on from a stream out of step and waited for bytes that never come (here until the peer
    gave up after 10 s; a real server keeps the connection open). The connection is dropped
    unread, as for transaction functions; the next call works."""
    import sys

    from tests._neo4j import wipe

    present = tuple(index.name for index in SPEC.indexes)
    peer = peer_factory(schema_names=present if call == "ensure_schema (reopen)" else ())
    with _backend(peer.uri) as backend:
        fired = [False]
        previous = sys.gettrace()
        sys.settrace(_interrupt_mid_chunk(fired))
        try:
            with pytest.raises(KeyboardInterrupt):
                wipe(backend) if call == "wipe" else backend.ensure_schema(SPEC)
        finally:
            sys.settrace(previous)
        assert fired[0]
        assert backend.read("RETURN 1 AS x", name="t/after") == [{"x": 1}]
    endings = peer.wait_until_ended(peer.connections)
    assert "dropped" in endings and "timed out" not in endings, endings


def test_a_server_older_than_neo4j_5_is_refused_when_the_store_opens(peer_factory: Any) -> None:
    """Neo4j 4.4 (Bolt 4.4, which drivers 5.20+ still speak) has no ``elementId()``: the store
    opened, then every lineage walk failed with QueryError ("Unknown function"). The opening is
    a ConfigurationError naming the server, and the driver is closed."""
    peer = peer_factory(version=(4, 4), agent="Neo4j/4.4.30")
    with pytest.raises(ConfigurationError, match=r"Neo4j/4\.4\.30 \(Bolt 4\.4\).*Neo4j 5"):
        _backend(peer.uri, password=SECRET)
    assert peer.runs == 0
    endings = peer.wait_until_ended(peer.connections)
    assert "timed out" not in endings, endings


def test_a_password_that_must_be_changed_fails_the_opening_saying_so(peer_factory: Any) -> None:
    """A new server's initial password (neo4j/neo4j) logs in, then every query is refused with
    CredentialsExpired: the first statements of an opening are the schema's (SHOW, then CREATE),
    and the opening was a QueryError "Neo4j rejected the query in query 'schema/...'"."""
    expired = ("Neo.ClientError.Security.CredentialsExpired", "The credentials have expired")
    peer = peer_factory(run_failure=expired)
    spec = SchemaSpec((IndexSpec("LgTestKey", ("k",), unique=True),))
    with (
        _backend(peer.uri, password="neo4j") as backend,
        pytest.raises(ConfigurationError, match="ALTER CURRENT USER") as info,
    ):
        backend.ensure_schema(spec)
    assert type(info.value) is ConfigurationError
    assert "NEO4J_PASSWORD" in str(info.value)


@pytest.mark.parametrize(
    ("agent", "prefixed"),
    [
        ("Neo4j/5.26.0", False),  # Cypher 5 only: no version selector
        ("Neo4j/5.27-aura", False),
        ("Neo4j/2025.05.0", False),
        ("Neo4j/2025.06.1", True),  # Cypher 5 and 25, per database
        ("Neo4j/2026.02.0", True),  # new databases set to Cypher 25
        ("Memgraph", False),
    ],
)
def test_a_server_that_may_default_to_cypher_25_gets_cypher_5_queries(
    peer_factory: Any, agent: str, prefixed: bool
) -> None:
    """Neo4j 2025.06+ runs a database's queries in its default language, Cypher 25 for the new
    databases of 2026.02+ installations and new Aura organisations; the library's queries are
    Cypher 5 (``CALL { WITH ... }`` is deprecated there). Each read and write (and the test
    suite's wipe) carries ``CYPHER 5`` there; older servers get the text as it is."""
    from tests._neo4j import WIPE, wipe

    peer = peer_factory(agent=agent)
    with _backend(peer.uri) as backend:
        backend.read("MATCH (n) RETURN 1 AS x", name="t/read")
        backend.write("CREATE (n) RETURN 1 AS x", name="t/write")
        wipe(backend)
    prefix = "CYPHER 5\n" if prefixed else ""
    assert peer.queries == [
        prefix + "MATCH (n) RETURN 1 AS x",
        prefix + "CREATE (n) RETURN 1 AS x",
        prefix + WIPE,
    ]


def test_the_cypher_5_prefix_passes_neo4j_analyser() -> None:
    """The prefix and a query file's leading comment together still parse as Cypher 5."""
    from lineage_graph._queries import registry
    from lineage_graph.backends.neo4j import cypher_prefix
    from tests.unit.test_cypher_neo4j_analyser import _node, _run_lint

    prefix = cypher_prefix("Neo4j/2026.02.0")
    text = prefix + registry()["graph/write"].text("neo4j")
    probe = prefix + "MATCH (n RETURN n"
    report = _run_lint(_node(), [{"name": "write", "text": text}, {"name": "probe", "text": probe}])
    assert report["probe"]["errors"], "the analyser must reject the malformed probe"
    assert not report["write"]["errors"], report["write"]


@pytest.mark.parametrize(
    ("agent", "prefixed"), [("Neo4j/5.26.0", False), ("Neo4j/2026.02.0", True)]
)
def test_the_benchmark_wipe_gets_the_cypher_5_prefix_too(
    peer_factory: Any, agent: str, prefixed: bool
) -> None:
    """The benchmark's wipe of a Neo4j database (``bench/_workloads.py``) runs on the backend's
    session, outside ``read``/``write``: it went as it was while every other statement (and
    the test suite's wipe) carried ``CYPHER 5`` on a server that may default to Cypher 25."""
    import sys
    import types
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench._workloads import NEO4J_WIPE, wipe_neo4j

    peer = peer_factory(agent=agent)
    with _backend(peer.uri) as backend:
        wipe_neo4j(types.SimpleNamespace(backend=backend))  # type: ignore[arg-type]
    assert peer.queries == [("CYPHER 5\n" if prefixed else "") + NEO4J_WIPE]
