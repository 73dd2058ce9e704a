"""Configuration: explicit arguments, then environment variables, then defaults (pydantic-settings).

Nothing here is process-global: every :class:`~lineage_graph.LineageStore` gets its own settings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, unquote_to_bytes

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._redact import redact_target
from .exceptions import ConfigurationError

__all__ = [
    "EmbeddedSettings",
    "Neo4jSettings",
    "StoreSettings",
    "default_data_dir",
    "expand_home",
    "url_file_path",
    "url_graph_name",
]


def _no_home() -> str:
    """Why no home directory is known: a container run as a user id without an account entry
    (``docker run --user 12345``, OpenShift) and no ``HOME``."""
    return (
        "the home directory is unknown (HOME is not set and user id "
        f"{os.getuid() if hasattr(os, 'getuid') else '?'} has no account entry)"
    )


def expand_home(path: str | os.PathLike[str]) -> Path:
    """``Path(path).expanduser()``, or :class:`ConfigurationError` for a path starting with
    ``~`` when no home directory is known, or ``~name`` naming no user: pathlib's bare
    RuntimeError "Could not determine home directory." came out of
    ``LineageStore.open("~nosuchuser/store")`` (the CLI: an "unexpected error", exit 70, and a
    traceback)."""
    try:
        return Path(path).expanduser()
    except (RuntimeError, KeyError):
        text = os.fspath(path)
        user = re.split(r"[/\\]", text[1:], maxsplit=1)[0]
        why = f"there is no user named {user!r}" if user else _no_home()
        raise ConfigurationError(
            f"cannot expand '~' in the path {redact_target(text)!r}: {why}; "
            + ("set HOME or " if not user else "")
            + "name the path without '~'"
        ) from None


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/lineage-graph`` (``~/.local/share/lineage-graph``). A relative
    ``XDG_DATA_HOME`` is ignored, as the XDG specification says: it named a different store in
    every working directory. No home directory known (and no absolute ``XDG_DATA_HOME``):
    :class:`ConfigurationError`, not pathlib's bare RuntimeError."""
    base = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(base):
        try:
            home = Path.home()
        except (RuntimeError, KeyError):
            raise ConfigurationError(
                f"no default store directory: {_no_home()}; set HOME or XDG_DATA_HOME, or name "
                "a store (LINEAGE_GRAPH_STORE, --store, or a target such as a directory)"
            ) from None
        base = str(home / ".local" / "share")
    return Path(base) / "lineage-graph"


def url_graph_name(path: str) -> str:
    """A FalkorDB URL's graph (the path of ``redis://host:port/graph``) percent-decoded, as
    redis-py reads every other part of a URL (``redis://h:6379/my%20graph`` names the graph
    ``my graph``). :class:`ConfigurationError` for an escape that is no UTF-8 (``%FF``) or a
    NUL (``%00``: FalkorDB cuts a graph's name there). The text is never quoted (a URL may hold
    a password)."""
    try:
        text = unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise ConfigurationError(
            "a FalkorDB URL's graph holds a percent-escape that is no UTF-8 text"
        ) from None
    if "\x00" in text:
        raise ConfigurationError("a FalkorDB URL's graph must not contain a NUL character")
    return text


def url_file_path(path: str) -> str:
    """A URL's file path (``file:///dir``, the socket of ``unix:///path.sock``) percent-decoded
    to the file system's name: a path is bytes, so ``%FF`` is the byte 0xFF, named as
    :func:`os.fsdecode` names it (this library writes its own sockets' URLs so: a ``TMPDIR`` may
    hold ``%`` or bytes no UTF-8 holds). A NUL (``%00``) is the caller's to refuse."""
    return os.fsdecode(unquote_to_bytes(path))


class _UrlsRedacted(BaseSettings):
    """Settings whose repr (and str) masks the password of a URL they hold: the ``SecretStr``
    passwords were masked, but one given in a URI (``NEO4J_URI=bolt://user:pw@host``,
    ``LINEAGE_GRAPH_STORE=redis://:pw@host``) was shown in full."""

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, redact_target(value) if isinstance(value, str) else value


class StoreSettings(_UrlsRedacted):
    """Which store to open: ``LINEAGE_GRAPH_STORE`` may hold a target (``LineageStore.open``)."""

    model_config = SettingsConfigDict(env_prefix="LINEAGE_GRAPH_", extra="ignore")

    store: str | None = None


#: The smallest per-query memory cap (bytes) the embedded engine is started with, but 0 (none).
MIN_QUERY_MEM_CAPACITY = 1024**2
#: How much longer than the server's longest query a reply is awaited by default (s).
REPLY_MARGIN_S = 60.0
#: The longest wait a seconds setting may ask for: 2^31 - 1 s (68 years; ``inf`` is none). A
#: socket's timeout holds at most ~9.2e9 s (a longer one is an OverflowError from the socket,
#: once the embedded server has started).
MAX_WAIT_S = 2**31 - 1


class EmbeddedSettings(BaseSettings):
    """The embedded FalkorDB engine (``LINEAGE_GRAPH_*`` environment variables)."""

    model_config = SettingsConfigDict(env_prefix="LINEAGE_GRAPH_", extra="ignore")

    #: Name of the graph (a FalkorDB key); several graphs can share one server.
    graph: str = Field(default="lineage", min_length=1, max_length=200)
    #: ``always`` loses no acknowledged write after a crash (DESIGN.md §3); ``everysec`` is faster.
    fsync: Literal["always", "everysec"] = "always"
    #: Server-side query timeout defaults (ms); 0 means none. At most 2^31 - 1 (24.8 days):
    #: FalkorDB wraps a longer one (2^33 stopped every query at once, 2^63 failed its start).
    query_timeout_ms: int = Field(default=120_000, ge=0, le=2**31 - 1)
    query_timeout_max_ms: int = Field(default=600_000, ge=0, le=2**31 - 1)
    #: Per-query memory cap in bytes (FalkorDB ``QUERY_MEM_CAPACITY``); 0 means none. An int64
    #: (2^63 failed the server's start).
    query_mem_capacity: int = Field(default=4 * 1024**3, ge=0, le=2**63 - 1)
    #: Seconds to wait for a starting server before giving up.
    startup_timeout_s: float = Field(default=20.0, gt=0, le=MAX_WAIT_S)
    #: How long a command's reply is awaited (s): past it, an error, never a hang (the server's
    #: own limit on a query is ``query_timeout_max_ms``). Not given: 660, or the longer of
    #: ``query_timeout_ms`` and ``query_timeout_max_ms`` + 60 s when that is longer (both 0,
    #: no limit: 660).
    socket_timeout_s: float = Field(default=660.0, gt=0, le=MAX_WAIT_S)
    #: A server this library started that answers nothing for this long (no reply, and no PING
    #: on a fresh connection) is hung: it is killed and restarted (durable data survives). A
    #: server that answers PINGs is never replaced, however long a query runs.
    hang_after_s: float = Field(default=60.0, gt=0, le=MAX_WAIT_S)
    #: How long to wait for a data directory's lock (s), which another process holds while it
    #: starts, loads or stops the server (minutes at most: each of those steps is bounded).
    #: Past it, ``EngineUnavailableError`` naming the holder: one stopped (Ctrl-Z) or stuck
    #: there kept every opener waiting for ever.
    lock_timeout_s: float = Field(default=1800.0, gt=0, le=MAX_WAIT_S)
    #: A directory store garbage-collected without close() (MLMD code never closes its
    #: MetadataStore) leaves its server running for a reopen to reuse; once dropped this long
    #: (s), a background thread stops it, unless another client uses it (at exit, at once). A
    #: long-lived worker opening a directory per job kept one server (~24 MB) per job.
    dropped_server_idle_s: float = Field(default=60.0, ge=0, le=MAX_WAIT_S)

    @field_validator("query_mem_capacity")
    @classmethod
    def _capacity_none_or_usable(cls, capacity: int) -> int:
        """FalkorDB 4.16.3 crashes (SIGSEGV) at its start with a capacity of 1 or 100 bytes
        (measured: "failed to start", a crash report in server.log), and below ~1 MB even the
        store's schema queries exceed it."""
        if 0 < capacity < MIN_QUERY_MEM_CAPACITY:
            raise ValueError(
                f"query_mem_capacity is 0 (none) or at least {MIN_QUERY_MEM_CAPACITY} bytes "
                "(1 MiB): a smaller one crashes the embedded server or fails every query"
            )
        return capacity

    @field_validator("graph")
    @classmethod
    def _graph_without_nul(cls, graph: str) -> str:
        """FalkorDB 4.16.3 cuts a graph's name at a NUL: opening ``graph="lineage\\x00x"`` on a
        directory emptied its graph ``lineage`` (the store's data, gone from every reader) and
        then failed with a QueryError."""
        if "\x00" in graph:
            raise ValueError("a graph name must not contain a NUL character")
        return graph

    @model_validator(mode="after")
    def _default_within_max(self) -> EmbeddedSettings:
        """FalkorDB refuses to start with a default query timeout above its maximum: every
        opening failed with 'the embedded FalkorDB server failed to start' (EngineError)."""
        if self.query_timeout_max_ms and self.query_timeout_ms > self.query_timeout_max_ms:
            raise ValueError(
                "query_timeout_ms (LINEAGE_GRAPH_QUERY_TIMEOUT_MS) is above query_timeout_max_ms "
                "(LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS), which the server refuses: raise the "
                "maximum too (0: none)"
            )
        # A reply may take as long as the server lets a query run: a socket timeout not given
        # is at least that limit and a minute. With 660 s whatever the limit, a migration given
        # a longer one (docs/reliability.md) was cut at 11 minutes: EngineUnavailableError
        # "the FalkorDB server is unreachable ...: Timeout reading from socket". The limit is
        # this store's queries' (query_timeout_ms, each query's TIMEOUT) or the maximum, the
        # larger: with no maximum (0) a query_timeout_ms of an hour is still an hour. Neither
        # (both 0, no limit): the default stands, as no finite wait covers every query.
        longest = max(self.query_timeout_ms, self.query_timeout_max_ms)
        floor = longest / 1000 + REPLY_MARGIN_S
        if "socket_timeout_s" not in self.model_fields_set and self.socket_timeout_s < floor:
            self.socket_timeout_s = floor
        return self

    #: Password for an external server (``redis://``, ``unix://``); not used by a server of ours.
    password: SecretStr | None = None


class MlmdReaderSettings(BaseSettings):
    """The child process that reads an MLMD store for an import (``LINEAGE_GRAPH_MLMD_*``)."""

    model_config = SettingsConfigDict(env_prefix="LINEAGE_GRAPH_MLMD_", extra="ignore")

    #: How long the reading child is given to say it started (s): to start Python and import
    #: ml_metadata, seconds on a loaded machine. Past it (a ``sitecustomize`` that hangs, an
    #: import deadlocked), the child is killed and the import fails with
    #: ``FailedPreconditionError``: it waited for ever (until Ctrl-C).
    start_timeout_s: float = Field(default=300.0, gt=0, le=MAX_WAIT_S)
    #: How long a reply the reading child has begun may go without a new byte (s). A call may
    #: read for hours before its reply's first byte (a big MLMD store: ``reply_timeout_s``
    #: bounds that, not set by default); but the
    #: child writes a reply it has made whole, so once it has begun the rest follows at once.
    #: Past it (the child stalled part way through, or bytes something else wrote that look
    #: like a reply's head), the child is killed and the import fails with
    #: ``FailedPreconditionError``: it waited for ever (until Ctrl-C).
    stall_timeout_s: float = Field(default=300.0, gt=0, le=MAX_WAIT_S)
    #: How long the MLMD store may give no reply before a notice says so (s), once per
    #: reading child (a ``warnings.warn``: ``warning: ...`` on the command's stderr). A MySQL
    #: table another session has locked (``LOCK TABLES``, a long ``ALTER TABLE``) keeps a
    #: read waiting up to the server's ``lock_wait_timeout`` (a day on MariaDB, a year on
    #: MySQL): the import waited with no word.
    quiet_notice_s: float = Field(default=30.0, gt=0, le=MAX_WAIT_S)
    #: How long a call may go before its reply's first byte (s); not set (the default): for
    #: ever, as a big MLMD store may be read for hours. Past it, the child is killed and the
    #: import fails with ``FailedPreconditionError``, nothing written.
    reply_timeout_s: float | None = Field(default=None, gt=0, le=MAX_WAIT_S)


class Neo4jSettings(_UrlsRedacted):
    """Neo4j connection: ``NEO4J_URI``, ``NEO4J_USERNAME`` (or ``NEO4J_USER``), ``NEO4J_PASSWORD``,
    ``NEO4J_DATABASE``."""

    model_config = SettingsConfigDict(env_prefix="NEO4J_", extra="ignore", populate_by_name=True)

    uri: str | None = None
    #: Aliases are read as whole environment variable names (no prefix): never list a bare word
    #: such as ``username`` here, or ``USERNAME`` (set by many desktops) would win over
    #: ``NEO4J_USERNAME``. The keyword argument ``username=`` works by field name.
    username: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_USERNAME", "NEO4J_USER")
    )
    password: SecretStr | None = None
    database: str | None = None
    #: Seconds to keep retrying the first connection while the server answers "unavailable"
    #: (a server still starting up, a container's published port not yet forwarded).
    connect_timeout_s: float = Field(default=30.0, gt=0, le=MAX_WAIT_S)
    #: Also retry (up to ``connect_timeout_s``) an address where nothing listens (connection
    #: refused) or whose host name does not resolve: a server started just before, not yet
    #: listening (a compose service without a health check, a Kubernetes Service with no ready
    #: endpoint, a StatefulSet pod's name before the pod exists). Off: those fail at once (a
    #: wrong port or a mistyped host name); the CLI turns it off unless
    #: ``NEO4J_RETRY_UNREACHABLE`` is set.
    retry_unreachable: bool = True
    #: Seconds a managed transaction keeps retrying transient errors.
    max_transaction_retry_time_s: float = Field(default=30.0, gt=0, le=MAX_WAIT_S)
    #: Longest a read or write transaction may run (ms), as ``EmbeddedSettings.query_timeout_ms``:
    #: the server stops it and the call raises ``QueryError``. 0: the server's own limit
    #: (``db.transaction.timeout``, none by default). At most 2^31 - 1 ms (about 24.8 days), the
    #: embedded engine's bound: the driver sends it as an int64 of milliseconds, and a value
    #: past that made every read and write (the store's first) fail with InvalidArgumentError
    #: "a value is out of range" naming the query, never this setting.
    query_timeout_ms: int = Field(default=120_000, ge=0, le=2**31 - 1)
