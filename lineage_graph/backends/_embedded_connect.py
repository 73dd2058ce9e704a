"""Connecting to an external FalkorDB server by its URL (``redis://``, ``rediss://``,
``unix://``, ``falkor[s]://``): the URL's checks, and the client it makes."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult, unquote, urlparse

from .._redact import check_url_password, parse_url
from ..config import EmbeddedSettings, url_file_path, url_graph_name
from ..exceptions import ConfigurationError


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
