"""Opening the MLMD store an import reads (:func:`_open`: a SQLite path or a ``ConnectionConfig``,
read only), what is said when it cannot be opened (a MySQL server that cannot be reached, a
file that is no MLMD database or is being written), its key (:func:`_source_key`) and its reads
with their errors typed (:class:`_Reads`, in a child process: :func:`_reading`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import socket
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._probe import first_bytes
from ..exceptions import (
    FailedPreconditionError,
    InvalidArgumentError,
    LineageGraphError,
    NotFoundError,
)
from ._config import sqlite_decoded, sqlite_file
from ._reader import ReaderError, SourceReader


def _sqlite_uri(path: str) -> str:
    """``path`` as a ``filename_uri``: itself, or, for a name that is not UTF-8 (``x\\xff.db``:
    ``os.fsdecode`` gave it lone surrogates), a ``file:`` URI escaping its bytes. The field is a
    proto string, which holds UTF-8 only: setting the path raised an untyped
    ``UnicodeEncodeError``; ml_metadata and SQLite open such a URI."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "file:" + urllib.parse.quote(os.fsencode(path))
    return path


def _read_only_uri(uri: str) -> str:
    """``uri`` with a ``file:`` URI's ``mode=rw`` or ``mode=rwc`` made ``mode=ro``: the source is
    opened READONLY, and SQLite refuses a URI asking more than its opening allows. A config
    written for the pipeline that writes the file (``file:/m.db?mode=rwc``) failed its import:
    "cannot open the MLMD store: ... access mode not allowed: rwc". Its query only, each
    parameter read as SQLite reads it (case-sensitive, ``%HH`` decoded: ``mode=r%77c``; a
    ``%00`` ends it: ``mode=rw%00x`` is ``rw``)."""
    if not uri.startswith("file:"):
        return uri
    head, mark, fragment = uri.partition("#")
    path, question, query = head.partition("?")
    if not question:
        return uri

    def read_only(parameter: str) -> str:
        name, _, value = parameter.partition("=")
        writes = sqlite_decoded(name) == "mode" and sqlite_decoded(value) in ("rw", "rwc")
        return "mode=ro" if writes else parameter

    query = "&".join(read_only(parameter) for parameter in query.split("&"))
    return path + question + query + mark + fragment


def _source_key(config: Any) -> str:
    """A short, stable name for the MLMD store ``config`` connects to (the same file or database
    gives the same key): the prefix of ``mlmd_origin`` on the nodes copied from it."""
    if config.HasField("sqlite"):
        ident = "sqlite:" + os.path.realpath(sqlite_file(config.sqlite.filename_uri))
    elif config.HasField("mysql"):
        m = config.mysql
        ident = f"mysql:{m.host}:{m.port}/{m.database}"
    else:
        ident = str(config)
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:16]


#: ml_metadata's words for a database of an older schema than its own (it migrates only when
#: asked to, and a read-only source cannot be).
_OLDER_SCHEMA = "is older than library version"


def _read_only_config(source: Any, pb: Any) -> Any:
    """The ``ConnectionConfig`` (of ml_metadata's generated module ``pb``) that reads the SQLite
    path or ``ConnectionConfig`` ``source`` without writing to it (:func:`_open`)."""
    if isinstance(source, str | os.PathLike):
        path = sqlite_file(os.fspath(source))  # a file: URI, as ConnectionConfig.sqlite takes
        if not os.path.isfile(path):
            raise NotFoundError(f"no MLMD SQLite file at {path!r}")
        config = pb.ConnectionConfig()
        config.sqlite.filename_uri = _sqlite_uri(path)
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    elif isinstance(source, pb.ConnectionConfig):
        config = source
        if config.HasField("sqlite"):
            # As a path is: ml_metadata's default mode (READWRITE_OPENCREATE) made a new empty
            # MLMD database where the file named was missing, and the import "succeeded" with
            # nothing; read only, a source is never written either.
            path = sqlite_file(config.sqlite.filename_uri)
            if not os.path.isfile(path):
                raise NotFoundError(f"no MLMD SQLite file at {path!r}")
            config = pb.ConnectionConfig()
            config.CopyFrom(source)
            config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
            config.sqlite.filename_uri = _read_only_uri(config.sqlite.filename_uri)
        elif config.HasField("mysql") and not config.mysql.skip_db_creation:
            # ml_metadata creates a database it does not find: a mistyped name made a new empty
            # MLMD database on the user's server, and the import "succeeded" with nothing
            config = pb.ConnectionConfig()
            config.CopyFrom(source)
            config.mysql.skip_db_creation = True
    else:
        raise InvalidArgumentError(
            f"source must be an MLMD SQLite path or a ConnectionConfig, not {type(source).__name__}"
        )
    return config


def _open(
    source: Any, *, older_ok: bool = False, upgrade: bool = False, child: bool = False
) -> tuple[Any, Any]:
    """``(MetadataStore, ConnectionConfig)`` for a SQLite path or a ``ConnectionConfig``.

    ``older_ok``: a SQLite file of an older MLMD schema gives ``(None, config)`` (its copy is
    migrated: :func:`_as_of_now`). ``upgrade``: open read-write and migrate an older schema
    (only ever for that copy). ``child``: a MySQL store is opened in a reading child
    (:class:`SourceReader`, returned in the MetadataStore's place; the caller closes it), not
    in this process: ml_metadata's opening reads every MLMD table, and waits in MySQL for one
    another session has locked (``LOCK TABLES``: up to the server's ``lock_wait_timeout``, a
    day on MariaDB) deaf to Ctrl-C and with no word; a child's wait is said, can be bounded,
    and stops at Ctrl-C."""
    try:
        from ml_metadata.metadata_store import metadata_store
        from ml_metadata.proto import metadata_store_pb2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise FailedPreconditionError(
            "importing an MLMD store needs ml-metadata: pip install 'lineage-graph[mlmd]'"
        ) from exc
    pb: Any = metadata_store_pb2  # generated module: no static attributes for mypy
    config = _read_only_config(source, pb)
    if upgrade:
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE
    if config.HasField("mysql"):
        silent = _mysql_silent(config.mysql)
        if silent:  # ml_metadata would wait for its greeting for ever
            raise FailedPreconditionError(f"cannot open the MLMD store: {silent}")
        if child:
            try:
                return SourceReader(config), config
            except FailedPreconditionError as exc:
                if _MYSQL_FAILED in str(exc):
                    raise FailedPreconditionError(
                        f"cannot open the MLMD store: {_mysql_failure(config.mysql)}"
                    ) from None
                raise
    try:
        return metadata_store.MetadataStore(config, enable_upgrade_migration=upgrade), config
    except Exception as exc:  # ml_metadata raises its own StatusError tree or RuntimeError
        if older_ok and config.HasField("sqlite") and _OLDER_SCHEMA in str(exc):
            return None, config
        if config.HasField("mysql") and _MYSQL_FAILED in str(exc):
            raise FailedPreconditionError(
                f"cannot open the MLMD store: {_mysql_failure(config.mysql)}"
            ) from None  # (its cause says nothing more, and the config holds the password)
        in_use = _in_use(config)
        not_mlmd = "" if in_use else _not_mlmd(config)
        if not_mlmd:  # not ml_metadata's failure: ten lines of its CREATE TABLE statement
            raise FailedPreconditionError(f"cannot open the MLMD store: {not_mlmd}") from exc
        raise FailedPreconditionError(f"cannot open the MLMD store: {exc}{in_use}") from exc


#: ml_metadata's whole message for a MySQL server it cannot log in to, for any reason (no
#: server there, a host name that does not resolve, a wrong password): its errno and error are
#: left empty.
_MYSQL_FAILED = "mysql_real_connect failed"

#: How long the check of a MySQL server (before ml_metadata connects, and of why it could not)
#: waits for its answer.
_MYSQL_PROBE_S = 5.0

#: How long that check waits for a server's greeting once connected: longer than a MySQL
#: server's own connect_timeout (10 s), within which it greets or gives up (a slow reverse DNS
#: lookup of the client delays its greeting; ml_metadata would wait).
_MYSQL_GREETING_S = 15.0

#: Where ml_metadata's MySQL client looks for the server of the host "localhost" (compiled in).
_MYSQL_DEFAULT_SOCKET = "/tmp/mysql.sock"


def _mysql_probe(mysql: Any) -> tuple[str, str, bool]:
    """``(where, why, fails_at_once)``: where the MySQL server ``mysql`` (a MySQLDatabaseConfig)
    names is, what a TCP connection there finds within :data:`_MYSQL_PROBE_S` (``why`` is empty
    when the server greets it, as a MySQL server does first, within :data:`_MYSQL_GREETING_S`),
    and whether ml_metadata's own connection fails at once there (a name that does not resolve,
    a refused connection) rather than waiting. No password is used."""
    if mysql.socket:
        where = f"the MySQL server at socket {mysql.socket}"
        why = "" if os.path.exists(mysql.socket) else ": no such socket (is the server running?)"
        return where, why, True
    port = mysql.port or 3306
    where = f"the MySQL server at {mysql.host}:{port}"
    try:
        # its greeting (or an error packet: ml_metadata then tells)
        said = first_bytes(
            (mysql.host, port), connect_s=_MYSQL_PROBE_S, read_s=_MYSQL_GREETING_S, size=1
        )
    except socket.gaierror as exc:
        return where, f": the host name does not resolve ({exc.strerror})", True
    except ConnectionRefusedError:
        return where, ": the connection was refused (is the server running there?)", True
    except TimeoutError:
        return where, f": no answer within {_MYSQL_PROBE_S:.0f} s", False
    except OSError as exc:
        return where, f": {exc.strerror or exc}", False
    if said is None:
        return (
            where,
            (
                f": it accepted the connection but sent no MySQL greeting within "
                f"{_MYSQL_GREETING_S:.0f} s (is another service listening on that port?)"
            ),
            False,
        )
    return where, "", True


def _mysql_silent(mysql: Any) -> str:
    """Why ml_metadata would hang connecting to ``mysql``, else "": a TCP server that accepts
    the connection and never greets (another service on that port: Redis, HTTP), which
    ml_metadata's client waits on for ever (measured: over 60 s), and a host that drops the
    connection attempt (minutes). Told before ml_metadata connects; "localhost" and sockets
    (local, no such wait) are left to it."""
    if mysql.socket or mysql.host == "localhost":
        return ""
    where, why, fails_at_once = _mysql_probe(mysql)
    if fails_at_once:
        return ""  # (ml_metadata fails at once there, and is told below)
    who = f" as user {mysql.user!r}" if mysql.user else ""
    return f"cannot connect to {where}{who}, database {mysql.database!r}{why}"


def _mysql_failure(mysql: Any) -> str:
    """Why ml_metadata could not connect to the MySQL server ``mysql`` (a MySQLDatabaseConfig)
    names: where it is (host and port, or socket), as whom, which database, and what a
    connection there finds. ml_metadata said only "mysql_real_connect failed: errno: , error: "
    whatever the cause. Never the password."""
    who = f" as user {mysql.user!r}" if mysql.user else ""
    refused = (
        ": the server answers, but refused the connection (check the user, the password and "
        "that the database exists: it is not created; MLMD logs in with mysql_native_password, "
        "which MySQL 8 does not enable by default)"
    )
    if not mysql.socket and mysql.host == "localhost":
        # It said the server at localhost:PORT refused the login (check the user, the
        # password) when a server answered there by TCP: the client had tried the socket
        port = mysql.port or 3306
        where = (
            f"the MySQL server at localhost (MySQL's client reaches the host 'localhost' "
            f"through its unix socket {_MYSQL_DEFAULT_SOCKET}, not by TCP on port {port})"
        )
        if os.path.exists(_MYSQL_DEFAULT_SOCKET):
            why = refused
        else:
            tcp = "" if _mysql_probe(mysql)[1] else f"; a server answers by TCP on port {port}"
            why = (
                f": no such socket{tcp}: name the host 127.0.0.1 to connect by TCP, or give "
                "the server's socket (a ConnectionConfig file's socket)"
            )
    else:
        where, why, _ = _mysql_probe(mysql)
        why = why or refused
    return f"cannot connect to {where}{who}, database {mysql.database!r}{why}"


#: Tables every MLMD SQLite database has (ml_metadata 1.17.1 makes 15; these name it).
_MLMD_TABLES = frozenset({"MLMDEnv", "Type", "Artifact", "Execution", "Context", "Event"})


def _not_mlmd(config: Any) -> str:
    """Why a SQLite file that ml_metadata could not open (read only) is no MLMD database, or
    "" when it may be one. Read only, ml_metadata tries to create its tables in a file that has
    none and fails with "attempt to write a readonly database query: CREATE TABLE ...", which
    does not say that the file is empty, not SQLite, or another application's database."""
    if not config.HasField("sqlite"):
        return ""
    path = sqlite_file(config.sqlite.filename_uri)
    try:
        if os.path.getsize(path) == 0:
            return f"{path} is not an MLMD database: the file is empty"
        uri = Path(path).absolute().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except (OSError, sqlite3.OperationalError):  # unreadable, locked: may be one
        return ""
    except sqlite3.DatabaseError:  # "file is not a database"
        return f"{path} is not an MLMD database: it is not a SQLite database"
    tables = {str(name) for (name,) in rows}
    if tables & _MLMD_TABLES:
        return ""
    held = f" (it holds {', '.join(sorted(tables)[:5])})" if tables else ""
    return (
        f"{path} is not an MLMD database: a SQLite database that holds none of MLMD's tables "
        f"(MLMDEnv, Type, Artifact, ...){held}"
    )


def _in_use(config: Any) -> str:
    """Why a SQLite MLMD file that ml_metadata could not open may be fine: a writer has it (or
    died in the middle of a write). Read only, ml_metadata then says "attempt to write a
    readonly database ... CREATE TABLE" or "Concurrent writes aborted", as if the file were no
    MLMD store."""
    if not config.HasField("sqlite"):
        return ""
    path = sqlite_file(config.sqlite.filename_uri)
    for suffix in ("-journal", "-wal"):
        try:
            if os.path.getsize(path + suffix) > 0:
                return (
                    f" ({os.path.basename(path)}{suffix} is beside it: a process is writing to "
                    "the file, or one died in the middle of a write; once no process writes to "
                    "it, opening it read-write (ml_metadata, or sqlite3 FILE 'PRAGMA "
                    "quick_check') rolls an unfinished write back; then import again)"
                )
        except OSError:
            continue
    return ""


class _Reads:
    """The MLMD store being imported, its read errors typed.

    ml_metadata's client raises what its C++ side and its bindings raise on a damaged or hostile
    database: ``UnicodeDecodeError`` for a proto_value that is not a serialised ``Any``, its own
    ``InternalError`` for a property row with no value, and so on. Each becomes
    :class:`FailedPreconditionError` naming the cause (the CLI: a message and exit 5, not a
    traceback); an import that fails so writes nothing, as any failing import (staged), or
    stops where a merge re-run completes it."""

    def __init__(self, mlmd: Any) -> None:
        self._mlmd = mlmd

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._mlmd, name)
        if not callable(method):
            return method

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except LineageGraphError:
                raise
            except Exception as exc:
                kind = exc.kind if isinstance(exc, ReaderError) else type(exc).__name__
                raise FailedPreconditionError(
                    f"cannot read the MLMD store (a damaged database?): {kind}: {str(exc)[:300]}"
                ) from exc

        return call


@contextlib.contextmanager
def _reading(config: Any, opened: Any = None) -> Iterator[SourceReader]:
    """ml_metadata on ``config`` in a child process (:mod:`._reader`), ended afterwards:
    ``opened`` where it is one already (:func:`_open` with ``child``; its opener ends it)."""
    if isinstance(opened, SourceReader):
        yield opened
        return
    reader = SourceReader(config)
    try:
        yield reader
    finally:
        reader.close()
