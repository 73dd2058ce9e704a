"""Engines behind one seam. Choose one with a *target*:

=====================================  ==========================================================
target                                 engine
=====================================  ==========================================================
``None``                               ``LINEAGE_GRAPH_STORE``, else Neo4j if ``NEO4J_URI`` is set,
                                       else the embedded engine on the default data directory
``"memory"``                           embedded FalkorDB, in memory (like MLMD's fake database)
a filesystem path                      embedded FalkorDB persisted in that directory
``redis://host:port[/graph]``          an external FalkorDB server (``unix:///path.sock`` too)
``bolt://``, ``neo4j://``,             Neo4j 5 (routing, clusters, Aura); credentials from
``neo4j+s://``, ``bolt+ssc://`` …      arguments or ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD``
=====================================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse, urlsplit

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

from .._redact import check_url_password, redact_target
from ..config import (
    EmbeddedSettings,
    Neo4jSettings,
    StoreSettings,
    default_data_dir,
    expand_home,
    url_file_path,
    url_graph_name,
)
from ..exceptions import ConfigurationError
from ._base import Backend, Dialect, IndexSpec, Row, SchemaSpec, Staging, Statement

__all__ = [
    "BACKENDS",
    "Backend",
    "Dialect",
    "IndexSpec",
    "Row",
    "SchemaSpec",
    "Staging",
    "Statement",
    "open_backend",
    "resolve_target",
]

NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
FALKORDB_SCHEMES = ("redis", "rediss", "falkor", "falkors", "falkordb", "unix")
MEMORY_TARGETS = ("memory", ":memory:")
#: The schemes of a store URL: a target heading with one and ``:`` but no ``//`` is a URL whose
#: ``//`` was forgotten (refused, and masked in messages), not a directory's name.
URL_SCHEMES = (*NEO4J_SCHEMES, *FALKORDB_SCHEMES, "file")

_S = TypeVar("_S", bound=BaseSettings)


def settings_of(cls: type[_S], engine: str, values: dict[str, Any] | None = None) -> _S:
    """``cls(**values)`` (the arguments over the environment), or a :class:`ConfigurationError`
    naming each bad setting, as argument and as environment variable. An argument no setting
    of the engine has is refused too: a misspelt ``fsnyc="everysec"`` would be ignored."""
    values = values or {}
    unknown = sorted(set(values) - set(cls.model_fields))
    if unknown:
        raise ConfigurationError(
            f"no {engine} setting named {', '.join(map(repr, unknown))}: the settings are "
            f"{', '.join(cls.model_fields)}"
        )
    try:
        return cls(**values)
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        problems = []
        for error in exc.errors():  # never the input: it may be a password
            name = ".".join(str(part) for part in error["loc"])
            if not name:  # a rule over several settings: its message names them
                problems.append(error["msg"])
                continue
            source = f"argument {name}" if name in values else f"{prefix}{name.upper()}"
            problems.append(f"{source}: {error['msg']}")
        raise ConfigurationError(f"bad {engine} setting: {'; '.join(problems)}") from None


def _check_target_text(text: str) -> None:
    """A NUL, or a lone surrogate the file system cannot encode (one from undecodable bytes, as
    in a command line's, is kept), raised a bare ValueError / UnicodeEncodeError from the file
    system calls. The target is quoted without its password: ``bolt://u:pw@host`` with a NUL
    put the password in the message."""
    if "\x00" in text:
        raise ConfigurationError(
            f"a store target cannot hold a NUL character: {redact_target(text)!r:.80}"
        )
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"a store target must be valid Unicode (no lone surrogate): {redact_target(text)!r:.80}"
        ) from None


def resolve_target(target: str | os.PathLike[str] | None) -> tuple[str, str | Path]:
    """``(kind, location)`` for a target: kind is ``embedded-memory``, ``embedded-dir``,
    ``embedded-url`` or ``neo4j``."""
    if target is None:
        target = StoreSettings().store
        if target is None:
            uri = settings_of(Neo4jSettings, "Neo4j").uri
            if uri:
                if "://" not in uri:  # never quoted: "neo4j:pw@host" holds a password
                    raise ConfigurationError(
                        "NEO4J_URI is no URI (it has no '://'): write it scheme://host:port, "
                        f"one of {', '.join(s + '://' for s in NEO4J_SCHEMES)}"
                    )
                return "neo4j", uri
            return "embedded-dir", default_data_dir()
    if isinstance(target, os.PathLike):
        _check_target_text(os.fspath(target))
        return "embedded-dir", expand_home(target)
    if not isinstance(target, str) or not target:
        raise ConfigurationError(
            f"a store target must be a non-empty string or path, got {target!r}"
        )
    _check_target_text(target)
    if target in MEMORY_TARGETS:
        return "embedded-memory", target
    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    if not scheme:
        _refuse_url_without_slashes(target)
    if scheme in NEO4J_SCHEMES:
        return "neo4j", target
    if scheme in FALKORDB_SCHEMES:
        return "embedded-url", target
    if scheme == "file":
        return "embedded-dir", _file_url_path(target)
    if scheme:
        raise ConfigurationError(
            f"unknown store URL scheme {scheme!r}: use a directory, 'memory', redis:// (FalkorDB) "
            f"or one of {', '.join(s + '://' for s in NEO4J_SCHEMES)} (Neo4j)"
        )
    return "embedded-dir", expand_home(target)


def _refuse_url_without_slashes(target: str) -> None:
    """Refuse a target that reads as a store URL missing its ``//`` (``neo4j:pw@host:7687``,
    ``bolt:/host``, ``redis:host``): it was taken for a directory path, a new empty store made
    there (in a folder named after the password), and messages quoted it whole. Not quoted."""
    head, colon, _ = target.partition(":")
    if colon and head.lower() in URL_SCHEMES:
        raise ConfigurationError(
            f"the store target begins with {head.lower()!r}: and no '//': a store URL is "
            f"written {head.lower()}://… (a directory of that name is written ./{head}:…)"
        )


def _file_url_path(target: str) -> Path:
    """The directory a ``file://`` URL names: ``file:///abs``, ``file://localhost/abs``, its
    path percent-decoded (``%20`` is a space), as every file URL is written. The path was taken
    as written after ``file://``: ``file:///data/my%20store`` opened ``/data/my%20store`` and
    ``file://localhost/data`` the relative ``localhost/data``, new empty stores, silently."""
    try:
        parts = urlsplit(target)
    except ValueError:
        parts = None
    if parts is None or parts.netloc.lower() not in ("", "localhost") or not parts.path:
        raise ConfigurationError(
            "a file:// store URL names a local directory: file:///absolute/path "
            "(or file://localhost/absolute/path)"
        )
    if parts.query or parts.fragment or target.endswith(("?", "#")):
        raise ConfigurationError(
            "a file:// store URL takes no '?' query or '#' fragment (a directory store has no "
            "URL parameters; a '?' or '#' in a directory name is written %3F / %23)"
        )
    path = url_file_path(parts.path)
    _check_target_text(path)  # a NUL written %00 (ValueError "embedded null byte" from the OS)
    return expand_home(path)


def _check_url_arguments(url: str, options: dict[str, Any]) -> None:
    """Refuse a ``graph`` or ``password`` argument naming another graph or password than the
    FalkorDB URL's (``redis://h:1/g1`` opened with ``graph="g2"``, ``redis://:old@h`` with
    ``password="new"``): the URL's won, silently, so the store opened another graph than the
    one asked for, or failed to authenticate with a password it was not given. The URL's win
    over ``LINEAGE_GRAPH_GRAPH`` and ``LINEAGE_GRAPH_PASSWORD`` (defaults for every store); an
    argument and a URL naming the same one are one. Neither is quoted: a password holding a raw
    ``/`` reads as a path (refused first)."""
    graph, password = options.get("graph"), _secret_argument(options)
    if not isinstance(graph, str) and not isinstance(password, str):
        return  # not given, or not a name: the settings say so
    check_url_password(url, "FalkorDB URL", data="path")
    try:
        parts = urlparse(url)  # as the engine reads it (its ;params are no graph's)
    except ValueError:
        return  # the engine's opening refuses it, its parts unquoted
    named = "" if parts.scheme == "unix" else url_graph_name(parts.path.lstrip("/"))
    if isinstance(graph, str) and named and named != graph:
        raise ConfigurationError(
            f"the graph argument {graph!r} names another graph than the FalkorDB URL's path: "
            "give the graph once, in the URL (redis://host:port/graph) or as the argument"
        )
    if isinstance(password, str) and parts.password and unquote(parts.password) != password:
        raise ConfigurationError(
            "the password argument is another password than the FalkorDB URL's: give the "
            "password once, in the URL (redis://:password@host) or as the argument"
        )


def _open_embedded(kind: str, location: str | Path, options: dict[str, Any]) -> Backend:
    from .embedded import EmbeddedBackend

    if kind == "embedded-url":
        _check_url_arguments(str(location), options)
    settings = settings_of(EmbeddedSettings, "embedded engine", options)
    if kind == "embedded-memory":
        return EmbeddedBackend("memory", settings=settings)
    if kind == "embedded-url":
        return EmbeddedBackend("external", url=str(location), settings=settings)
    return EmbeddedBackend("directory", path=Path(location), settings=settings)


def _secret_argument(options: dict[str, Any]) -> Any:
    """The ``password`` argument, its text when given as a ``SecretStr``."""
    password = options.get("password")
    return password.get_secret_value() if isinstance(password, SecretStr) else password


def _check_uri_credentials(uri: str, options: dict[str, Any]) -> None:
    """Refuse a ``username`` or ``password`` argument other than the Neo4j URI's user or
    password (``bolt://neo4j:old@h`` opened with ``password="new"``): the URI's won, silently,
    and the server refused credentials the caller never gave. The URI's win over
    ``NEO4J_USERNAME`` and ``NEO4J_PASSWORD``. Neither is quoted."""
    from .neo4j import _split_credentials

    username, password = options.get("username"), _secret_argument(options)
    if not isinstance(username, str) and not isinstance(password, str):
        return
    _, uri_user, uri_password = _split_credentials(uri)
    for what, given, in_uri in (
        ("username", username, uri_user),
        ("password", password, uri_password),
    ):
        if isinstance(given, str) and in_uri is not None and given != in_uri:
            raise ConfigurationError(
                f"the {what} argument is another {what} than the Neo4j URI's: give it once, in "
                "the URI (bolt://user:password@host:port) or as the argument"
            )


def _open_neo4j(kind: str, location: str | Path, options: dict[str, Any]) -> Backend:
    from .neo4j import Neo4jBackend

    if "uri" in options and options["uri"] != str(location):
        # The target named one server and the argument another: the argument won, silently
        raise ConfigurationError(
            "the uri argument names another Neo4j server than the store target: give one"
        )
    _check_uri_credentials(str(location), options)
    settings = settings_of(Neo4jSettings, "Neo4j", {**options, "uri": str(location)})
    return Neo4jBackend(settings)


#: Engine factories by kind: ``(kind, location, settings overrides) -> Backend``.
BACKENDS: dict[str, Callable[[str, str | Path, dict[str, Any]], Backend]] = {
    "embedded-memory": _open_embedded,
    "embedded-dir": _open_embedded,
    "embedded-url": _open_embedded,
    "neo4j": _open_neo4j,
}


def open_backend(target: str | os.PathLike[str] | None = None, **settings: Any) -> Backend:
    """Open the engine a target names; ``settings`` override the engine's environment settings."""
    if target is None and settings.get("uri") is not None:
        target = settings["uri"]  # LineageStore.open(uri=...): an argument over the environment
    kind, location = resolve_target(target)
    return BACKENDS[kind](kind, location, settings)
