"""Connecting: to a server of ours (found running or started, :func:`start_and_connect`), or to
an external FalkorDB server by its URL (``redis://``, ``rediss://``, ``unix://``,
``falkor[s]://``: the URL's checks, and the client it makes); and what :func:`describe` tells
of the server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import ParseResult, unquote, urlparse

from .._interrupts import interrupt_held as _interrupt_held
from .._redact import check_url_password, parse_url
from ..config import EmbeddedSettings, url_file_path, url_graph_name
from ..exceptions import ConfigurationError
from ._embedded_close import COMPACT_TAIL_BYTES
from ._embedded_errors import _map_error
from ._falkordb_server import ServerProcess

if TYPE_CHECKING:
    from .embedded import EmbeddedBackend


def external_database(
    url: str, settings: EmbeddedSettings, client_name: str, client_timeout: float
) -> tuple[Any, str]:
    """A FalkorDB client of the server ``url`` names, and the graph's name (the URL's path, or
    the graph setting). ``client_name`` and ``client_timeout`` (the socket timeout): a unix
    socket's connections (a TCP server's are unnamed, and wait ``socket_timeout_s``)."""
    from falkordb import FalkorDB

    parsed, port = _parsed(url)
    # The password: in the URL (redis://user:password@host, unix://:password@/path.sock),
    # else the password setting. A server on a unix socket may ask for one too: the setting
    # and the URL's were ignored there, so such a server refused every opening.
    password = unquote(parsed.password) if parsed.password else None
    if password is None and settings.password is not None:
        password = settings.password.get_secret_value()
    username = unquote(parsed.username) if parsed.username else None
    if parsed.scheme == "unix":
        if parsed.hostname or not parsed.path:
            # unix://rel.sock put the path in the host part: the socket '' was tried, and
            # the mistake reported as a server that is down (EngineUnavailableError)
            raise ConfigurationError(
                "a unix:// FalkorDB URL names the socket by its path: unix:///path/to.sock "
                "(three slashes; a password as unix://:password@/path/to.sock)"
            )
        if "\x00" in (socket_path := url_file_path(parsed.path)):
            raise ConfigurationError("a unix:// FalkorDB URL's socket path holds a NUL")
        db = FalkorDB(
            unix_socket_path=socket_path,
            username=username,
            password=password,
            socket_timeout=client_timeout,
            socket_connect_timeout=10,
            client_name=client_name,
        )
        return db, settings.graph
    if parsed.scheme not in ("redis", "rediss", "falkor", "falkordb", "falkors"):
        raise ConfigurationError(f"unsupported FalkorDB URL scheme {parsed.scheme!r}")
    if port == 0:  # taken for 'no port': the server on 6379 was opened instead
        raise ConfigurationError("a FalkorDB URL's port is 1 to 65535, not 0")
    db = FalkorDB(
        host=parsed.hostname or "localhost",
        port=port or 6379,
        username=username,
        password=password,
        ssl=parsed.scheme in ("rediss", "falkors"),
        socket_timeout=settings.socket_timeout_s,
        socket_connect_timeout=10,
    )
    graph = url_graph_name(parsed.path.lstrip("/")) or settings.graph
    if "\x00" in graph:  # FalkorDB cuts the name there: another graph would be emptied
        raise ConfigurationError("a graph name must not contain a NUL character")
    return db, graph


def _parsed(url: str) -> tuple[ParseResult, int | None]:
    """``url`` parsed (and its port), once checked: no '?' options, no '#'."""
    # a password holding a raw "/" ("redis://:pa/ss@host"): the port "pa", quoted in errors;
    # an "@" in the path (redis://host:port/my@graph) reads as one too: the graph setting
    check_url_password(url, "FalkorDB URL", data="path")
    # a URL that cannot be parsed is the user's to fix; never quoted: a password
    parsed, port = parse_url(url, "FalkorDB URL", urlparse)
    if parsed.query or parsed.fragment:
        # Never read: "?password=pw" (redis-py's form for a socket) was refused by the
        # server as no password, "?db=1" opened database 0. Not quoted: a password.
        raise ConfigurationError(
            "a FalkorDB URL takes no '?' options nor '#' (redis-py's ?password=, ?db=, "
            "?ssl_cert_reqs= are not read): a password is written unix://:password@/path.sock "
            "or redis://:password@host, or given as the password setting; the graph is the "
            "URL's path (redis://host:port/graph) or the graph setting"
        )
    return parsed, port


def start_and_connect(backend: EmbeddedBackend) -> None:
    """Find the server running (a directory's) or start it, and connect to it."""
    import redis

    assert backend._server is not None
    mode = backend.mode
    failed: redis.exceptions.RedisError | None = None
    with backend._server.locked():
        started = not backend._server.find_running()
        if started:
            backend._server.start()
        try:
            connect_socket(backend)
        except redis.exceptions.RedisError as exc:
            failed = exc
        except BaseException:
            # Interrupted (Ctrl-C) or failed before a connection was made (the client's
            # import, its handshake): the server started for this store is no one's. A
            # memory store's died with the process and left its socket folder behind; a
            # directory's ran on, unused. Stopped here, under the lock (once connected, the
            # store is closed instead: __init__).
            if started and getattr(backend, "_db", None) is None:
                with _interrupt_held():
                    backend._server.abandon()
            raise
    # The server found went away, or hangs (no reply to the connection's handshake for
    # hang_after_s): recovered as after a failed command, outside the lock (_recover
    # takes it). Every open failed with redis's bare TimeoutError, and none ever
    # restarted a hung server when no query was running.
    if failed is not None and (
        not isinstance(failed, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)
        or not backend._recover(failed, backend._reconnects)
    ):
        raise _map_error(failed, "connect", backend._server) from failed
    if mode == "directory" and backend._server.aof_tail_bytes() >= COMPACT_TAIL_BYTES:
        backend._rewrite_aof()


def connect_socket(backend: EmbeddedBackend) -> None:
    """Connect ``backend`` to its server's socket (a new client: a restarted server's too)."""
    from falkordb import FalkorDB

    assert backend._server is not None and backend._server.socket_path is not None
    backend._db = FalkorDB(
        unix_socket_path=str(backend._server.socket_path),
        socket_timeout=backend._client_timeout(),
        socket_connect_timeout=10,
        client_name=backend._client_name,
    )
    backend._graph = backend._db.select_graph(backend.settings.graph)
    if backend.mode == "directory" and backend.settings.fsync == "always":
        # The server may have been started by a process that asked for ``everysec``: this
        # store's writes must still be on disk when its calls return (the stronger wins;
        # the setting was silently the starter's, and describe() said ``always``).
        connection = backend._db.connection
        if connection.config_get("appendfsync").get("appendfsync") != "always":
            connection.config_set("appendfsync", "always")
    if backend.mode == "directory":
        backend._timeout_args = backend._query_timeout_args()


def describe(
    db: Any, graph: str, mode: str, server: ServerProcess | None, url: str | None
) -> dict[str, Any]:
    """:meth:`EmbeddedBackend.describe`: the facts of ``db``'s server (best effort)."""
    info: dict[str, Any] = {"engine": "falkordb", "mode": mode, "graph": graph}
    try:
        facts = db.connection.info("server")
        info["redis_version"] = facts.get("redis_version")
        modules = db.connection.execute_command("MODULE", "LIST")
        for module in modules:
            fields = dict(zip(module[::2], module[1::2], strict=False))
            name = fields.get(b"name", fields.get("name"))
            if name in (b"graph", "graph"):
                info["falkordb_version"] = fields.get(b"ver", fields.get("ver"))
    except Exception as exc:  # describe is best effort: report, don't fail
        info["error"] = str(exc)
    if server is not None:
        # Where the store is now (a directory moved while it is open is followed), or why
        # it is nowhere: the place it opened at was said until a close.
        if (gone := server.follow()) is not None:
            info["data_dir_gone"] = gone
        info["data_dir"] = str(server.data_dir) if server.data_dir else None
        info["socket"] = str(server.socket_path)
        info["pid"] = server.pid
        info["fsync"] = None
        if mode == "directory":  # the server's: the stronger of its openers' settings
            try:
                info["fsync"] = db.connection.config_get("appendfsync")["appendfsync"]
            except Exception as exc:
                info["error"] = str(exc)
    else:
        parsed = urlparse(url or "")
        info["host"] = (
            url_file_path(parsed.path)
            if parsed.scheme == "unix"
            else f"{parsed.hostname}:{parsed.port or 6379}"
        )
    return info
