"""Copy a whole ML Metadata store (SQLite file or any ``ConnectionConfig``) into a LineageStore.

MLMD is read with its own ``MetadataStore`` (reads only), in a child process (:mod:`._reader`: a
row ml_metadata aborts on ends that process, not the import's); a SQLite file from a copy of it
made as the import begins (:func:`_as_of_now`), so pipelines may go on writing to it. Everything is
copied: types (properties, base type, version, description, external id), artifacts, executions,
contexts (properties, custom properties, states, external ids, create/update times), events (type,
path, time), attributions, associations and parent contexts. Writes are batched (``CHUNK`` nodes
per atomic statement). Into an empty store on an engine that can stage a graph (FalkorDB), the
batches fill a staged graph that replaces the target in one atomic step at the end
(:meth:`_Importer.copy_staged`): the import as a whole is all or nothing. A merge, or an import
into Neo4j, writes its batches into the target: stopped midway, the same merge run again completes
it.

Ids. Into an EMPTY store the MLMD ids are kept: nodes are inserted in MLMD id order and the
store's id sequence skips MLMD's gaps, so node ``n`` of MLMD is node ``n`` here (types too: MLMD's
type ids start at 10 after its hidden system types, and so do the imported ones). With
``merge=True`` into a non-empty store ids cannot be kept; the report maps every MLMD id to the
new one. An MLMD id past :data:`KEPT_ID_MAX` (2**53 - 1) is not kept either (nor one just below it
that the next ids of those past it need: :func:`_kept_max`): the node or type
gets the store's next id (``ImportReport.ids_past_exact`` counts them), as FalkorDB's range index
holds doubles and could not tell it from its neighbours (on Neo4j, whose index holds int64 ids
exactly, every MLMD id is kept). Times: create/update times are MLMD's,
event times too.

Re-running (``merge=True`` on a store that already holds the import) is safe: every copied node
records where it came from (``mlmd_origin`` = ``<source key>#<MLMD id>``, an internal property
that updates keep), so a node copied before from the same MLMD store is updated in place (a
context is also matched by its unique type and name), existing events, links and parent links
are skipped; so the second run changes nothing. A node of the target's own is never taken for
an MLMD artifact or execution; a context of its own matched by name keeps what it holds
(:meth:`_Importer._keep_own_contexts`). Before anything is written, every node and type is
checked for keys the store cannot hold (:meth:`_Importer.check`) and, in a merge, for keys
and property kinds the target's own nodes and types hold (:meth:`_Importer.check_merge`).

One import of an MLMD store into a store at a time: an import claims its source in the target
before it reads what the target holds (:class:`_Claim`); a second one is refused meanwhile.

The native API has no public write path taking given ids and times (it allocates both itself);
:class:`_NativeWriter` is the one place that reaches into the store's repositories for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import secrets
import shutil
import socket
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import ValidationError

from .._probe import first_bytes
from .._repositories._base import Repository
from .._repositories.types import upgraded
from ..exceptions import (
    AlreadyExistsError,
    ConfigurationError,
    EngineUnavailableError,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageGraphError,
    NotFoundError,
)
from ..models import (
    Artifact,
    Association,
    Attribution,
    Event,
    NodeKind,
    NodeType,
    ParentContext,
)
from ..models import Node as NodeModel
from ..store import LineageStore
from ._aborts import aborting_row
from ._config import SYSTEM_TYPES, sqlite_decoded, sqlite_file
from ._reader import ReaderError, SourceReader

if TYPE_CHECKING:
    from .._repositories.nodes import NodeRepository
    from ..backends import Staging

__all__ = ["CHUNK", "ImportReport", "check_source", "import_mlmd", "open_mlmd"]

#: Nodes (or relationship rows) per atomic write: DESIGN.md §3 keeps batches around 1k rows.
CHUNK = 1000

Progress = Callable[[str, int, int], None]  # (stage, done, total)

#: The largest MLMD id an import keeps. FalkorDB's range index holds ids as doubles, exact to
#: 2**53: ids past it kept as MLMD's were read together with their neighbours
#: (``get_artifacts_by_id([2**53 + 3])`` gave 2**53 + 3, + 4 and + 5), the write's check of the
#: nodes it links refused a link as "deleted meanwhile (by another writer)", and two types'
#: ids collided in their unique constraint. Such a node or type gets the store's next id.
KEPT_ID_MAX = 2**53 - 1


def _kept_max(ids: Iterable[int], limit: int) -> int:
    """The largest of these MLMD ids (of one id sequence) an import keeps: those past it get
    the next ids, which must stay within ``limit`` too (MLMD's 2**53 - 2 ... 2**53 + 1: the
    last two kept gave the others 2**53 and 2**53 + 1, as far apart as before). 0: none."""
    ordered = sorted(ids)
    kept = len(ordered)  # (ordered[kept - 1] + the ids given after it) grows with kept
    while kept and ordered[kept - 1] + len(ordered) - kept > limit:
        kept -= 1
    return ordered[kept - 1] if kept else 0


#: How often an import into a staged graph renews the graph's time to live (far below it), and
#: an import that writes into the target renews its claim on the MLMD store (:class:`_Claim`).
KEEP_ALIVE_S = 30.0

#: How long an import's claim on its MLMD store holds unless renewed (a process that died on
#: this host frees it at once: :func:`_dead_here`).
CLAIM_TTL_S = 600.0


@dataclass
class ImportReport:
    """What an import copied. ``id_map[kind][mlmd_id] = new_id`` for every node and type."""

    types: int = 0
    artifacts: int = 0
    executions: int = 0
    contexts: int = 0
    events: int = 0
    attributions: int = 0
    associations: int = 0
    parent_contexts: int = 0
    updated: int = 0  # nodes found in the target (merge) whose content or times changed
    unchanged: int = 0  # nodes found already imported from this MLMD store, as they were
    skipped_relations: int = 0  # events/links already present (merge re-run)
    ids_preserved: bool = True
    #: Nodes and types whose MLMD id was not kept: past KEPT_ID_MAX, or just below it where the
    #: next ids of those past it had to be (_kept_max). They got the next ids.
    ids_past_exact: int = 0
    id_map: dict[str, dict[int, int]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "types": self.types,
            "artifacts": self.artifacts,
            "executions": self.executions,
            "contexts": self.contexts,
            "events": self.events,
            "attributions": self.attributions,
            "associations": self.associations,
            "parent_contexts": self.parent_contexts,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped_relations": self.skipped_relations,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "ids_preserved": self.ids_preserved,
            "ids_past_exact": self.ids_past_exact,
        }


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


def open_mlmd(source: Any) -> Any:
    """An ``ml_metadata`` MetadataStore for a SQLite path or a ``ConnectionConfig`` (read only)."""
    return _open(source)[0]


def check_source(source: Any) -> None:
    """Raise what :func:`import_mlmd` would for a source it cannot open (nothing written)."""
    _open(source, older_ok=True)


#: ml_metadata's words for a database of an older schema than its own (it migrates only when
#: asked to, and a read-only source cannot be).
_OLDER_SCHEMA = "is older than library version"


def _open(source: Any, *, older_ok: bool = False, upgrade: bool = False) -> tuple[Any, Any]:
    """``(MetadataStore, ConnectionConfig)`` for a SQLite path or a ``ConnectionConfig``.

    ``older_ok``: a SQLite file of an older MLMD schema gives ``(None, config)`` (its copy is
    migrated: :func:`_as_of_now`). ``upgrade``: open read-write and migrate an older schema
    (only ever for that copy)."""
    try:
        from ml_metadata.metadata_store import metadata_store
        from ml_metadata.proto import metadata_store_pb2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise FailedPreconditionError(
            "importing an MLMD store needs ml-metadata: pip install 'lineage-graph[mlmd]'"
        ) from exc
    pb: Any = metadata_store_pb2  # generated module: no static attributes for mypy
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
    if upgrade:
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE
    if config.HasField("mysql"):
        silent = _mysql_silent(config.mysql)
        if silent:  # ml_metadata would wait for its greeting for ever
            raise FailedPreconditionError(f"cannot open the MLMD store: {silent}")
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


@dataclass(frozen=True)
class _Snapshot:
    """The MLMD store as of one moment: the SQLite copy at ``path`` (:func:`_as_of_now`)."""

    path: str
    #: How to open it (what :class:`SourceReader` opens).
    config: Any


#: MLMD's link tables (the same in every schema version ml_metadata migrates), by the name
#: get_lineage_subgraph gives their rows: (table, its node column).
_LINK_TABLES = {
    "attributions": ("Attribution", "artifact_id"),
    "associations": ("Association", "execution_id"),
}


def _links_by_id(path: str, links: str) -> dict[tuple[int, int], int]:
    """Each ``(node, context)`` link of MLMD's SQLite file ``path`` (a private copy) by its place
    in link id order: the order MLMD lists them in (get_lineage_subgraph), which its API does
    not expose. Empty when the file cannot tell (the caller then asks the API)."""
    table, column = _LINK_TABLES[links]
    try:
        with contextlib.closing(
            sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)
        ) as db:
            rows = db.execute(
                f"SELECT {column}, context_id FROM {table} ORDER BY id"  # table and column: fixed
            ).fetchall()
    except sqlite3.Error:
        return {}
    order: dict[tuple[int, int], int] = {}
    for node, context in rows:
        if isinstance(node, int) and isinstance(context, int):
            order.setdefault((node, context), len(order))
    return order


@contextlib.contextmanager
def _as_of_now(mlmd: Any, config: Any) -> Iterator[_Snapshot]:
    """How to open the MLMD store to read, and the path of its SQLite copy (``""`` for MySQL):
    for a SQLite file, a copy of it as it is now (SQLite's online backup: one read transaction, so a
    consistent state; the file itself is opened read only), in a temporary directory removed
    afterwards.

    Why: the import reads MLMD in many calls (nodes, then events, then links context by
    context). A pipeline writing to the file meanwhile made a link or event name a node the
    import had not read, and the import was refused ("the MLMD store is being written"): an
    MLMD database that pipelines keep writing could never be imported. A writer waits at most
    for the copy. Other sources (MySQL) are read live.

    A file of an older MLMD schema (``mlmd`` is None: written by an older ml_metadata, such as
    a pipeline of TFX 1.13 or before) was refused ("MLMD database version 9 is older than
    library version 10 ..."): upgrading the file itself would break the older pipelines that
    use it. The copy is migrated instead, as ml_metadata migrates a database it is allowed to."""
    if not config.HasField("sqlite"):
        yield _Snapshot("", config)
        return
    path = sqlite_file(config.sqlite.filename_uri)
    try:
        _sweep_dead_snapshots(tempfile.gettempdir())
        made = tempfile.TemporaryDirectory(prefix=f"{_SNAPSHOT_PREFIX}{os.getpid()}-")
    except OSError as exc:  # no writable temporary directory (as for the engine's socket)
        raise ConfigurationError(
            f"cannot copy the MLMD store {path} to read it as of one moment: no temporary "
            f"directory can be made (TMPDIR chooses where): {exc}"
        ) from None
    with made as tmp, _holding_snapshot(tmp):
        copy = os.path.join(tmp, "snapshot.sqlite")
        try:
            name = urllib.parse.quote(os.fsencode(path))  # its bytes: a name need not be UTF-8
            source = sqlite3.connect(f"file:{name}?mode=ro", uri=True)
            try:
                target = sqlite3.connect(copy)
                try:
                    source.backup(target)
                finally:
                    target.close()
            finally:
                source.close()
        except (sqlite3.Error, OSError) as exc:
            raise FailedPreconditionError(
                f"cannot copy the MLMD store {path} to read it as of one moment (into "
                f"{tmp}: TMPDIR chooses where): {exc}{_in_use(config)}"
            ) from exc
        snapshot = type(config)()
        snapshot.CopyFrom(config)
        snapshot.sqlite.filename_uri = copy
        _open(snapshot, upgrade=mlmd is None)  # (an older schema's copy migrated: see above)
        yield _Snapshot(copy, snapshot)


#: A snapshot's folder: the prefix, the importing process's pid, a random part. It holds the
#: copy and :data:`_SNAPSHOT_LOCK`, locked (``flock``) by that process while it reads the copy.
_SNAPSHOT_PREFIX = "lineage-graph-mlmd-"
_SNAPSHOT_LOCK = "held.lock"


#: How old a dead import's lock must be before its folder is removed: between making it and
#: locking it an import holds no lock (its pid tells in its own pid namespace, not in another
#: sharing the temporary directory).
_SNAPSHOT_SWEEP_AGE_S = 60.0


@contextlib.contextmanager
def _holding_snapshot(folder: str) -> Iterator[None]:
    """The snapshot's lock held (released by the kernel when this process dies, however)."""
    lock = os.path.join(folder, _SNAPSHOT_LOCK)
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise FailedPreconditionError(
            f"cannot copy the MLMD store to read it as of one moment: cannot make {lock} "
            f"(TMPDIR chooses where): {exc}"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _sweep_dead_snapshots(base: str) -> int:
    """Remove the snapshot folders in ``base`` of imports that were killed (``kill -9``, the
    OOM killer: their ``TemporaryDirectory`` was never cleaned): a copy of a whole MLMD
    database each, in ``/tmp`` (RAM, where it is a tmpfs) until a reboot. One is removed only
    where all three tell its import is gone: its name's pid is no process here, it is this
    user's, and its lock is free (an import in another pid namespace sharing ``base`` holds
    it) and older than :data:`_SNAPSHOT_SWEEP_AGE_S`. Folders of older versions (no pid in the
    name, no lock) are left. Returns how many were removed."""
    removed = 0
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith(_SNAPSHOT_PREFIX)]
    except OSError:
        return 0
    for entry in entries:
        pid_text = entry.name[len(_SNAPSHOT_PREFIX) :].split("-", 1)[0]
        if not (pid_text.isascii() and pid_text.isdigit()):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or st.st_uid != os.geteuid():
                continue
            os.kill(int(pid_text), 0)
            continue  # its import may still run (or another process has its pid: left)
        except ProcessLookupError:
            pass
        except (OSError, OverflowError):
            continue
        try:
            fd = os.open(os.path.join(entry.path, _SNAPSHOT_LOCK), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # no lock: not a folder this version made
        try:
            if time.time() - os.fstat(fd).st_mtime < _SNAPSHOT_SWEEP_AGE_S:
                continue  # (just made: its import may not have locked it yet)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(entry.path)
            removed += 1
        except OSError:
            continue  # held: its import runs (in another pid namespace)
        finally:
            os.close(fd)
    return removed


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


# ---------------------------------------------------------------------------------- claims


#: The claims imports running in this process hold (their owners).
_HELD: set[str] = set()


def _dead_here(owner: str) -> bool:
    """Whether the claim holder ``owner`` (``host|pid|token``) is an import of this host that
    no longer runs: its claim is then taken over at once rather than when it lapses. One of this
    process that has ended (its engine died under it, so nothing released its claim) is dead:
    the same process trying again was refused for the claim's whole life."""
    host, _, rest = owner.partition("|")
    pid = rest.partition("|")[0]
    if host != socket.gethostname() or not (pid.isascii() and pid.isdigit()):
        return False  # (not "²", which int() refuses)
    if int(pid) == os.getpid():
        return owner not in _HELD
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # another user's process: alive; no such pid: not ours
        return False
    return False


class _Claim:
    """One import's claim on (target store, MLMD source): an ``ImportClaim`` node in the target.

    Two imports of the same MLMD store into the same store at once each read which nodes were
    copied before (none yet) and then both copied everything: MLMD's artifacts and executions
    without a name (no unique key here) were duplicated (measured: two concurrent ``import-mlmd
    --merge`` of 4,000 artifacts left 8,000 copies). The second import is now refused with
    :class:`FailedPreconditionError` before it reads or writes anything; it can be run again
    once the first has finished (it then updates the copies in place).

    The claim lapses after :data:`CLAIM_TTL_S` unless renewed: an import writing into the
    target renews it as it reports progress; a staged import does not (a write to the target
    would fail its publication), and needs not: a concurrent write to the target, another
    import's claim included, already makes it fail with nothing imported. A claim whose holder
    died on this host is taken over at once."""

    def __init__(self, store: LineageStore, source_key: str) -> None:
        self.backend = store.backend
        self.source = source_key
        self.owner = f"{socket.gethostname()}|{os.getpid()}|{secrets.token_hex(8)}"
        self.renewing = True
        self.renewed = 0.0

    def _write(self, stale: str | None) -> dict[str, Any]:
        rows = Repository(self.backend).write(
            "imports/claim",
            source=self.source,
            owner=self.owner,
            stale=stale,
            ttl_ms=int(CLAIM_TTL_S * 1000),
        )
        if not rows:  # pragma: no cover - every opened store has its record
            raise FailedPreconditionError("the target store has no store record: open it first")
        self.renewed = time.monotonic()
        return dict(rows[0])

    def take(self) -> None:
        _HELD.add(self.owner)  # before the write: running, this claim is never taken over
        try:
            row = self._write(None)
            if not row["free"] and _dead_here(str(row["owner"])):
                row = self._write(str(row["owner"]))
        except BaseException:  # (if it was written, this process takes it over next time)
            _HELD.discard(self.owner)
            raise
        if not row["free"]:
            _HELD.discard(self.owner)
            host, _, rest = str(row["owner"]).partition("|")
            left = max(0, int(row["left_ms"]) // 1000)
            raise FailedPreconditionError(
                f"another import of this MLMD store into this store is running (process "
                f"{rest.partition('|')[0]} on {host}): nothing was imported. Run it again once "
                f"that one has finished (with --merge / merge=True: it then updates the copies "
                f"in place); if that process has died, its claim lapses within {left} s"
            )

    def keep(self) -> None:
        """Renew the claim (at most every KEEP_ALIVE_S); fail if it lapsed and another import
        took it, before this one writes anything more."""
        if not self.renewing or time.monotonic() - self.renewed < KEEP_ALIVE_S:
            return
        if not self._write(None)["free"]:
            raise FailedPreconditionError(
                f"this import stalled for over {CLAIM_TTL_S:.0f} s and another import of the "
                "same MLMD store took its claim: stopped. Run the merge again once that one "
                "has finished: it completes what this one wrote"
            )

    def release(self) -> None:
        _HELD.discard(self.owner)  # left behind (the engine is gone), it is a dead one's
        with contextlib.suppress(LineageGraphError):
            Repository(self.backend).write(
                "imports/release_claim", source=self.source, owner=self.owner
            )


# ---------------------------------------------------------------------------- native writes


class _NativeWriter:
    """Inserts nodes with given ids and times. The only code here that uses the store's
    repositories directly (see the module docstring for the public method this stands in for)."""

    def __init__(self, store: LineageStore) -> None:
        self.store = store
        self.repos: dict[NodeKind, NodeRepository[Any]] = {
            NodeKind.ARTIFACT: store._artifacts,
            NodeKind.EXECUTION: store._executions,
            NodeKind.CONTEXT: store._contexts,
        }
        self.ids = store._artifacts.ids

    def skip_to(self, sequence: str, wanted: int) -> bool:
        """Make the next id of ``sequence`` equal ``wanted`` (by skipping ids); False if taken."""
        probe = self.ids.allocate(sequence, 1)[0]
        if probe > wanted:
            self.ids.release(sequence, [probe])
            return False
        if probe < wanted:
            self.ids.skip(sequence, wanted - probe - 1)
        else:
            self.ids.release(sequence, [probe])
        return True

    def put_type(self, t: NodeType, wanted_id: int | None) -> int:
        if wanted_id is not None:
            self.skip_to("Type", wanted_id)
            return self.store.put_type(t)
        # Merging: a same-named type already there gains MLMD's properties (never loses any).
        return self.store.put_type(t, can_add_fields=True, can_omit_fields=True)

    def check_values(self, kind: NodeKind, t: NodeType, node: NodeModel) -> None:
        """Raise what the write would for ``node``'s property values under its type ``t`` (a
        property the type does not declare, a value of another kind than declared), by the
        write's own rules, before anything is written."""
        repo = self.repos[kind]
        repo._encode_values(t, node.properties, "p", "its properties")
        repo._encode_values(t, node.custom_properties, "c", "its custom properties")

    def put_nodes(
        self,
        kind: NodeKind,
        models: Sequence[NodeModel],
        times: Sequence[tuple[int | None, int | None]],
        origins: Sequence[str | None],
    ) -> list[int]:
        from .._repositories.graph import WriteBatch

        repo = self.repos[kind]
        prepared = repo.prepare(models)
        by_id = {row["id"]: row for row in prepared.rows}
        for node_id, (created, updated), origin in zip(prepared.ids, times, origins, strict=True):
            props = by_id[node_id]["props"]
            if origin is not None:  # None: the target's own node (it keeps what it holds)
                props["mlmd_origin"] = origin
            # 0 is a time (MLMD holds it: a row written with it, an old MLMD): kept, as any
            if created is not None:
                props["create_time_since_epoch"] = created
            if updated is not None:
                props["last_update_time_since_epoch"] = updated
        batch = WriteBatch()
        setattr(
            batch,
            {"Artifact": "artifacts", "Execution": "executions"}.get(kind.value, "contexts"),
            prepared,
        )
        self.store._writer.execute(batch)
        return list(prepared.ids)


# -------------------------------------------------------------------------------- importer

_KINDS = (NodeKind.ARTIFACT, NodeKind.EXECUTION, NodeKind.CONTEXT)
#: Linked nodes whose links' order one get_lineage_subgraph reads (MLMD starts from 101 at most).
_LINK_WINDOW = 100
_SEQUENCE = {k: k.value for k in _KINDS}


class _Unindexable(InvalidArgumentError):
    """An artifact's indexed text over the limit (``value``: the text)."""

    def __init__(self, message: str, value: str) -> None:
        super().__init__(message)
        self.value = value


def _unindexable(msg: Any) -> list[tuple[str, _Unindexable]]:
    """An MLMD artifact's indexed texts (its uri and "digest", the cache's content fingerprint;
    executions and contexts have no such index) that no index here can hold, by field
    (``uri``, ``p`` or ``c``: the digest property or custom property)."""
    from .._encoding import check_indexed

    texts = [("uri", "uri", msg.uri)] if msg.HasField("uri") else []
    for scope, label, props in (
        ("p", "property", msg.properties),
        ("c", "custom property", msg.custom_properties),
    ):
        if "digest" in props and props["digest"].HasField("string_value"):
            texts.append((scope, f"{label} 'digest'", props["digest"].string_value))
    found = []
    for where, label, text in texts:
        try:
            check_indexed(label, text)
        except InvalidArgumentError as exc:
            found.append((where, _Unindexable(str(exc), text)))
    return found


def _stored_value(artifact: Artifact, where: str) -> Any:
    if where == "uri":
        return artifact.uri
    return (artifact.properties if where == "p" else artifact.custom_properties).get("digest")


def _cannot_import(kind: NodeKind, mlmd_id: int, exc: Exception) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"MLMD {kind.value.lower()} {mlmd_id} cannot be imported: {exc}; nothing was imported"
    )


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
def _reading(config: Any) -> Iterator[SourceReader]:
    """ml_metadata on ``config`` in a child process (:mod:`._reader`), ended afterwards."""
    reader = SourceReader(config)
    try:
        yield reader
    finally:
        reader.close()


def _bad_text(msg: Any, where: str = "") -> str | None:
    """The first string field of the proto ``msg`` (a map key included) that is not valid
    UTF-8, as a path (``custom_properties['x'].string_value``), or None. MLMD's SQLite columns
    hold bytes as SQLite gives them; the proto bindings hand invalid UTF-8 back as ``bytes``,
    which was stored as its Python repr (``"b'\\xff'"``) or crashed the key checks."""
    for fd, value in msg.ListFields():
        path = f"{where}.{fd.name}" if where else fd.name
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            for key in value:  # a key first: looking an undecodable one up raises
                if isinstance(key, bytes):
                    return f"{path}[{key!r}]"
                item = value[key]
                if isinstance(item, bytes):
                    return f"{path}[{key!r}]"
                if not isinstance(item, str | int | float | bool):
                    found = _bad_text(item, f"{path}[{key!r}]")
                    if found:
                        return found
            continue
        items = value if fd.label == fd.LABEL_REPEATED else [value]
        for i, item in enumerate(items):
            at = f"{path}[{i}]" if fd.label == fd.LABEL_REPEATED else path
            if fd.type == fd.TYPE_STRING and isinstance(item, bytes):
                return at
            if fd.type == fd.TYPE_MESSAGE:
                found = _bad_text(item, at)
                if found:
                    return found
    return None


def _times(msg: Any) -> tuple[int | None, int | None]:
    """An MLMD node's (create, last update) times, each None where not set (the store then
    gives the import's time). A time of 0, which MLMD holds (a row written with it, a store of
    an old MLMD), is kept: it was taken for "not set", and the import's time replaced it."""
    return (
        msg.create_time_since_epoch if msg.HasField("create_time_since_epoch") else None,
        msg.last_update_time_since_epoch if msg.HasField("last_update_time_since_epoch") else None,
    )


def _check_text(msg: Any) -> None:
    bad = _bad_text(msg)
    if bad:
        raise InvalidArgumentError(f"{bad} is not valid UTF-8 text")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _seed(target: LineageStore, staged: LineageStore, handed: list[tuple[str, int, int]]) -> None:
    """Make the new graph ``staged`` start as the empty ``target`` is (see
    :meth:`_Importer.copy_staged`); ``handed`` gets what the target's allocator handed over
    (sequence, first id, end), to take back if the staged graph is not published."""
    reads = Repository(target.backend)
    keys = [str(r["key"]) for r in reads.read("meta/property_keys")]
    staged.backend.ensure_property_keys(keys, fixed=True)  # the target's: all fit
    for row in reads.read("meta/get"):
        Repository(staged.backend).write("meta/set_created", created_ms=row["created_ms"])
    writer = _NativeWriter(staged)
    held = sorted((t for k in _KINDS for t in target.get_types(k)), key=lambda t: t.id or 0)
    for t in held:
        assert t.id is not None
        writer.skip_to("Type", t.id)
        if staged.put_type(t.model_copy(update={"id": None})) != t.id:  # pragma: no cover
            raise FailedPreconditionError(f"type {t.name!r} could not keep its id {t.id}")
    mine = target._artifacts.ids
    for sequence in ("Type", *_SEQUENCE.values()):
        end = int(reads.read("ids/end", kind=sequence)[0]["next"])
        first = mine.hand_over(sequence, end)
        handed.append((sequence, first, end))
        writer.skip_to(sequence, first)


def _stopped_midway(exc: EngineUnavailableError) -> EngineUnavailableError:
    """The error of an import writing into its target (a merge, an import into Neo4j) whose
    engine was lost under a batch: what the engine said, and what became of the import. It said
    the engine's "retry the call" alone, which named neither what stays nor how to finish."""
    engine = str(exc).rstrip(". ").removesuffix("; retry the call")
    said = EngineUnavailableError(
        f"{engine}; the import stopped midway: the batches it wrote stay in the "
        "store, each whole (the one in flight was written whole or not at all); run the same "
        "import again with --merge (merge=True) to complete it: it copies nothing twice"
    )
    said.nothing_written = exc.nothing_written
    return said


def _named(counts: dict[NodeKind, int]) -> str:
    return ", ".join(f"{n} {k.value.lower()}s" for k, n in counts.items())


def _store_is_empty(store: LineageStore) -> bool:
    """No node and no type but MLMD's system types (which the MLMD adapter registers when it
    opens a store, with MLMD's ids: an import keeps them)."""
    return all(store.count(k) == 0 for k in _KINDS) and all(
        t.name in SYSTEM_TYPES[k] and t.version is None for k in _KINDS for t in store.get_types(k)
    )


def holds_nothing(store: LineageStore) -> bool:
    """Whether ``store`` holds no node, no type but MLMD's system types, and nothing else of
    a user's (what a failed import into a new store leaves). False when it cannot be read."""
    try:
        other = int(Repository(store.backend).read("imports/other_nodes")[0]["n"])
        return other == 0 and _store_is_empty(store)
    except Exception:  # an engine that died: nothing is known
        return False


#: An MLMD event as :meth:`_Importer.check_events` judged it: (the event, why it cannot be
#: imported or "", its model or None).
_Judged: TypeAlias = tuple[Any, str, Event | None]


class _Importer:
    def __init__(
        self,
        mlmd: Any,
        store: LineageStore,
        progress: Progress | None,
        merge: bool,
        source_key: str,
    ) -> None:
        self.mlmd = mlmd
        self.store = store
        self.progress = progress or (lambda stage, done, total: None)
        self.writer = _NativeWriter(store)
        self.report = ImportReport()
        self.merge = merge
        self.empty = self._target_is_empty()
        #: This import's claim on the MLMD store (taken by :func:`import_mlmd`, which calls
        #: :meth:`run` while holding it).
        self.claim: _Claim | None = None
        self.type_map: dict[tuple[NodeKind, int], int] = {}
        self.node_map: dict[NodeKind, dict[int, int]] = {k: {} for k in _KINDS}
        self.prefix = f"{source_key}#"
        #: The SQLite copy read (:func:`_as_of_now`), "" for a source read live (MySQL).
        self.snapshot = ""
        #: Nodes an earlier import copied from this same MLMD store: (kind, MLMD id) -> id.
        self.imported: dict[tuple[NodeKind, int], int] = {}
        #: Artifacts and executions without an origin, by (kind, id): read per chunk in merges.
        self.unmarked: dict[tuple[NodeKind, int], dict[str, Any]] = {}
        self.reads = Repository(store.backend)
        self._parents: dict[int, list[int]] = {}
        #: Artifacts with a uri or digest no index holds, by MLMD id (a merge checks their twins).
        self.long_values: dict[int, list[tuple[str, _Unindexable]]] = {}
        #: The target's copies of MLMD nodes, per kind (the values of ``imported``).
        self.copied: dict[NodeKind, set[int]] = {k: set() for k in _KINDS}
        #: Set as the import starts to change the target (its first write into it, or the
        #: staged graph's publication): until then a failure or Ctrl-C left it as it was.
        self.writing = False
        #: MLMD's events, read and checked before the copy (:meth:`read_events`), each with
        #: what :meth:`check_events` judged of it: (the event, why it cannot be imported or "",
        #: its model or None), so the copy converts none again and pairs none with another's.
        self.events: list[_Judged] = []
        #: The largest MLMD id kept, per id sequence (:func:`_kept_max`; set by :meth:`copy`).
        self.kept_max: dict[str, int] = {}
        #: Set once the whole copy is in the target (written, or the staged graph published):
        #: a Ctrl-C after it (as the claim is released) stopped no part of the import.
        self.done = False

    def _target_is_empty(self) -> bool:
        empty = _store_is_empty(self.store)
        if not empty and not self.merge:
            raise FailedPreconditionError(
                "the target store is not empty: import into an empty store, or pass --merge "
                "(merge=True) to add to it (MLMD ids are then mapped, not kept)"
            )
        return empty

    def _begin(self) -> None:
        """What the target holds, read once this import holds its claim on the MLMD store
        (another import of it may have finished meanwhile): whether it is empty, and the
        nodes copied from this MLMD store before."""
        self.empty = self._target_is_empty()
        if self.empty:
            return
        for row in self.reads.read("imports/origins", prefix=self.prefix):
            mlmd_id = int(str(row["origin"]).rpartition("#")[2])
            self.imported[(NodeKind(row["kind"]), mlmd_id)] = int(row["id"])
        for (kind, _), node_id in self.imported.items():
            self.copied[kind].add(node_id)

    def _keep_claim(self) -> None:
        if self.claim is not None:
            self.claim.keep()

    # ---------------------------------------------------------------------------- types

    def read_types(self) -> list[tuple[NodeKind, Any]]:
        getters = {
            NodeKind.ARTIFACT: (self.mlmd.get_artifact_types, self.mlmd.get_artifact_types_by_id),
            NodeKind.EXECUTION: (
                self.mlmd.get_execution_types,
                self.mlmd.get_execution_types_by_id,
            ),
            NodeKind.CONTEXT: (self.mlmd.get_context_types, self.mlmd.get_context_types_by_id),
        }
        found: list[tuple[NodeKind, Any]] = []
        for kind, (get_all, get_by_id) in getters.items():
            # get_*_types() leaves out external_id (docs/mlmd-compatibility.md D6): read them
            # again by id, which returns every field. It also hides the system types (mlmd.*,
            # ids 1-9): copied too, used or not, so that type ids stay MLMD's.
            ids = [t.id for t in get_all()]
            system = [t.id for t in get_by_id(list(range(1, 10))) if t.name in SYSTEM_TYPES[kind]]
            wanted = sorted(set(ids) | set(system))
            found += [(kind, t) for t in (get_by_id(wanted) if wanted else [])]
        self._getters: dict[NodeKind, tuple[Any, Any]] = getters
        return found

    def used_types(
        self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]
    ) -> list[tuple[NodeKind, Any]]:
        """``types`` and the types nodes use that get_*_types hides (system types: mlmd.Dataset,
        ..., of any version), in id order: what is checked and copied."""
        types = list(types)
        known = {(k, t.id) for k, t in types}
        for kind, msgs in nodes.items():
            used = {m.type_id for m in msgs} - {tid for k, tid in known if k == kind}
            if used:
                types += [(kind, t) for t in self._getters[kind][1](sorted(used))]
        return sorted(types, key=lambda kt: kt[1].id)

    def import_types(self, types: list[tuple[NodeKind, Any]]) -> None:
        from ._convert import to_type

        for done, (kind, msg) in enumerate(types, start=1):
            model = to_type(kind, msg).model_copy(update={"id": None})
            kept = self.empty and msg.id <= self.kept_max["Type"]
            self.report.ids_past_exact += int(self.empty and not kept)
            new_id = self.writer.put_type(model, msg.id if kept else None)
            self.type_map[(kind, msg.id)] = new_id
            self.report.id_map.setdefault(f"{kind.value}Type", {})[msg.id] = new_id
            if new_id != msg.id:
                self.report.ids_preserved = False
            self.progress("types", done, len(types))
        self.report.types = len(types)

    # ---------------------------------------------------------------------------- nodes

    def _existing_twin(self, kind: NodeKind, msg: Any, model: NodeModel) -> int | None:
        """In merge mode: the node this one already is. One an import copied from this same
        MLMD store (its ``mlmd_origin``), else for a context its (type, name), which is unique
        (a node of the target's own is never taken for an artifact or an execution)."""
        if self.empty:
            return None
        copied = self.imported.get((kind, msg.id))
        if copied is not None:
            return copied
        if kind != NodeKind.CONTEXT:
            # a copy by an earlier version (no origin): the node of the same id, type, name, uri
            # and MLMD's create time (a node of the target's own has its own)
            old = self.unmarked.get((kind, msg.id))
            fields = ("type_id", "name", "uri", "created")
            stored = None if old is None else tuple(old[f] for f in fields)
            given = (model.type_id, model.name, getattr(model, "uri", None))
            return msg.id if stored == (*given, msg.create_time_since_epoch) else None
        assert model.type_id is not None and model.name is not None
        twins = self.writer.repos[kind].get_by_type_and_names([(model.type_id, model.name)])
        return self._unclaimed(kind, twins[0].id) if twins else None

    def _unclaimed(self, kind: NodeKind, node_id: int | None) -> int | None:
        """``node_id`` unless it is the copy of another MLMD node (its ``mlmd_origin``): a
        context renamed in MLMD whose old name a new one took is not that new one's twin."""
        return None if node_id is None or node_id in self.copied[kind] else node_id

    def _read_unmarked(self, kind: NodeKind, chunk: Sequence[Any]) -> None:
        if self.empty or kind == NodeKind.CONTEXT:
            return
        ids = [m.id for m in chunk if (kind, m.id) not in self.imported]
        if not ids:
            return
        rows = self.reads.read(
            "imports/unmarked",
            artifact_ids=ids if kind == NodeKind.ARTIFACT else [],
            execution_ids=ids if kind == NodeKind.EXECUTION else [],
        )
        self.unmarked = {(NodeKind(r["kind"]), int(r["id"])): r for r in rows}

    def import_nodes(self, kind: NodeKind, msgs: list[Any]) -> None:
        from ._convert import to_node

        msgs = sorted(msgs, key=lambda m: m.id)
        total = len(msgs)
        done = 0
        for chunk in _chunks(msgs):
            self._read_unmarked(kind, chunk)
            models: list[NodeModel] = []
            times: list[tuple[int | None, int | None]] = []
            pending_new: list[int] = []
            own: list[int] = []  # positions of contexts of the target's own (matched by name)
            for msg in chunk:
                model = to_node(kind, msg).model_copy(
                    update={"id": None, "type_id": self.type_map[(kind, msg.type_id)]}
                )
                twin = self._existing_twin(kind, msg, model)
                if twin is not None:
                    model = model.model_copy(update={"id": twin})
                    if kind == NodeKind.CONTEXT and twin not in self.copied[kind]:
                        own.append(len(models))
                else:
                    pending_new.append(msg.id)
                models.append(model)
                times.append(_times(msg))
            origins: list[str | None] = [f"{self.prefix}{m.id}" for m in chunk]
            if own:
                self._keep_own_contexts(chunk, own, models, times, origins)
            self._count_twins(kind, chunk, models, times)
            if self.empty:
                # Keep MLMD's ids: the sequence skips MLMD's gaps, so the k-th new id is msg.id.
                new_ids = self._put_with_ids(kind, models, times, [m.id for m in chunk], origins)
            else:
                new_ids = self.writer.put_nodes(kind, models, times, origins)
            for msg, new_id in zip(chunk, new_ids, strict=True):
                self.node_map[kind][msg.id] = new_id
                if new_id != msg.id:
                    self.report.ids_preserved = False
            done += len(chunk)
            self.progress(f"{kind.value.lower()}s", done, total)
        self.report.id_map[kind.value] = dict(self.node_map[kind])
        setattr(self.report, f"{kind.value.lower()}s", total)

    def _count_twins(
        self,
        kind: NodeKind,
        chunk: Sequence[Any],
        models: list[NodeModel],
        times: list[tuple[int | None, int | None]],
    ) -> None:
        """Count the nodes of ``chunk`` the target already holds (``models`` with an id) as
        unchanged (a copy of this MLMD store's node that holds what it would be rewritten
        with: a merge run again) or updated. A re-run said "updated" for every node."""
        twins = [i for i, m in enumerate(models) if m.id is not None]
        if not twins:
            return
        getters: dict[NodeKind, Callable[[Iterable[int]], Sequence[NodeModel]]] = {
            NodeKind.ARTIFACT: self.store.get_artifacts_by_id,
            NodeKind.EXECUTION: self.store.get_executions_by_id,
            NodeKind.CONTEXT: self.store.get_contexts_by_id,
        }
        get = getters[kind]
        held: dict[int | None, NodeModel] = {
            n.id: n for n in get([models[i].id or 0 for i in twins])
        }
        derived = {
            "type",
            "type_version",
            "create_time_since_epoch",
            "last_update_time_since_epoch",
        }
        for i in twins:
            old = held.get(models[i].id)
            same = (
                old is not None
                and (kind, chunk[i].id) in self.imported  # else it gains its origin
                and old.model_dump(exclude=derived) == models[i].model_dump(exclude=derived)
                and (old.create_time_since_epoch, old.last_update_time_since_epoch) == times[i]
            )
            if same:
                self.report.unchanged += 1
            else:
                self.report.updated += 1

    def _keep_own_contexts(
        self,
        chunk: Sequence[Any],
        own: list[int],
        models: list[NodeModel],
        times: list[tuple[int | None, int | None]],
        origins: list[str | None],
    ) -> None:
        """A context of the target's own that an MLMD context matches by (type, name) is the
        one the copy links to, as MLMD reuses a context of that name: what it holds stays
        (its properties, custom properties, external id and times), and it gains only MLMD's
        properties it does not have. It was rewritten from MLMD (its own properties and custom
        properties gone, its create time MLMD's) and marked as MLMD's copy for good. A context
        with MLMD's id and create time is a copy made before origins were recorded: rewritten,
        as copies are."""
        held = {c.id: c for c in self.store.get_contexts_by_id([models[i].id or 0 for i in own])}
        for i in own:
            mine, msg = held.get(models[i].id or 0), chunk[i]
            if mine is None or (
                mine.id == msg.id and mine.create_time_since_epoch == msg.create_time_since_epoch
            ):
                continue
            given = models[i]
            models[i] = mine.model_copy(
                update={
                    "properties": {**given.properties, **mine.properties},
                    "custom_properties": {**given.custom_properties, **mine.custom_properties},
                    "external_id": mine.external_id or given.external_id,
                    "type": None,
                    "type_version": None,
                    "create_time_since_epoch": None,
                    "last_update_time_since_epoch": None,
                }
            )
            times[i] = (mine.create_time_since_epoch, mine.last_update_time_since_epoch)
            origins[i] = None

    def _put_with_ids(
        self,
        kind: NodeKind,
        models: list[NodeModel],
        times: list[tuple[int | None, int | None]],
        wanted: list[int],
        origins: list[str | None],
    ) -> list[int]:
        """Insert runs of consecutive MLMD ids in one write each, skipping the gaps between;
        ids past those kept (:func:`_kept_max`: the last, in id order) get the next ids, in one
        write after."""
        out: list[int] = []
        start = 0
        last = self.kept_max[_SEQUENCE[kind]]
        kept = next((i for i, w in enumerate(wanted) if w > last), len(wanted))
        while start < kept:
            end = start + 1
            while end < kept and wanted[end] == wanted[end - 1] + 1:
                end += 1
            self.writer.skip_to(_SEQUENCE[kind], wanted[start])
            out += self.writer.put_nodes(
                kind, models[start:end], times[start:end], origins[start:end]
            )
            start = end
        if kept < len(models):
            self.report.ids_past_exact += len(models) - kept
            out += self.writer.put_nodes(kind, models[kept:], times[kept:], origins[kept:])
        return out

    # ---------------------------------------------------------------------- relationships

    def read_events(self, nodes: dict[NodeKind, list[Any]]) -> list[Any]:
        """MLMD's events of these nodes, in MLMD's order of each execution's events (the order
        they were written there, which get_events_by_execution_ids keeps); read by artifact
        too, for an event whose execution the MLMD store does not hold."""
        artifact_ids = sorted(m.id for m in nodes[NodeKind.ARTIFACT])
        execution_ids = sorted(m.id for m in nodes[NodeKind.EXECUTION])
        msgs = list(self.mlmd.get_events_by_execution_ids(execution_ids) if execution_ids else [])
        seen = {(m.artifact_id, m.execution_id, m.type) for m in msgs}
        msgs += [
            m
            for m in (self.mlmd.get_events_by_artifact_ids(artifact_ids) if artifact_ids else [])
            if (m.artifact_id, m.execution_id, m.type) not in seen
        ]
        return msgs

    def check_events(self, msgs: list[Any]) -> list[_Judged]:
        """Refuse, before anything is written, an MLMD event the store cannot hold (its type
        UNKNOWN or past MLMD's, as a damaged database holds): the write refused it once every
        node was written (a merge stopped midway, which its re-run could not complete), with
        to_event's "No event type is specified." alone, naming no event."""
        from ._convert import to_event

        judged: list[_Judged] = []
        for msg in msgs:
            bad = _bad_text(msg)
            if bad:
                judged.append((msg, f"{bad} is not valid UTF-8 text", None))
                continue  # told by import_events, as before
            try:
                judged.append((msg, "", to_event(msg)))
            except (InvalidArgumentError, ValidationError, ValueError, TypeError) as exc:
                why = str(exc).rstrip(".")
                raise InvalidArgumentError(
                    f"the MLMD event of artifact {msg.artifact_id} and execution "
                    f"{msg.execution_id} cannot be imported: {why}; nothing was imported"
                ) from None
        return judged

    def import_events(self, judged: list[_Judged]) -> None:
        """Copy MLMD's events, each with what :meth:`check_events` judged of it (each is
        converted once)."""
        a_map, e_map = self.node_map[NodeKind.ARTIFACT], self.node_map[NodeKind.EXECUTION]
        events: list[Event] = []
        for msg, bad, event in judged:
            if not bad and (msg.execution_id not in e_map or msg.artifact_id not in a_map):
                # Written since the nodes were read (the MLMD store is being written) ...
                for kind, mlmd_id, get in (
                    (NodeKind.ARTIFACT, msg.artifact_id, self.mlmd.get_artifacts_by_id),
                    (NodeKind.EXECUTION, msg.execution_id, self.mlmd.get_executions_by_id),
                ):
                    if mlmd_id not in self.node_map[kind] and get([mlmd_id]):
                        self._copied(kind, mlmd_id, "named by an event")  # raises
                # ... or a damaged database (SQLite enforces no foreign keys): a KeyError before.
                bad = "it names an artifact or execution the MLMD store does not hold"
            if bad:
                raise InvalidArgumentError(
                    f"the MLMD event of artifact {msg.artifact_id} and execution "
                    f"{msg.execution_id} cannot be imported: {bad}; nothing was imported"
                    if self.empty
                    else f"the MLMD event of artifact {msg.artifact_id} and execution "
                    f"{msg.execution_id} cannot be imported: {bad}"
                )
            assert event is not None  # (judged so: no reason to refuse it)
            events.append(
                event.model_copy(
                    update={
                        "artifact_id": a_map[msg.artifact_id],
                        "execution_id": e_map[msg.execution_id],
                    }
                )
            )
        if not self.empty and events:
            existing = {
                (e.artifact_id, e.execution_id, int(e.type))
                for e in self.store.get_events_by_artifact_ids(
                    sorted({e.artifact_id for e in events if e.artifact_id})
                )
            }
            fresh = [
                e for e in events if (e.artifact_id, e.execution_id, int(e.type)) not in existing
            ]
            self.report.skipped_relations += len(events) - len(fresh)
            events = fresh
        for done, chunk in enumerate(_chunks(events), start=1):
            self.store.put_events(list(chunk))
            self.progress("events", min(done * CHUNK, len(events)), len(events))
        self.report.events = len(events)

    def _copied(self, kind: NodeKind, mlmd_id: int, link: str) -> int:
        """The copy of MLMD node ``mlmd_id``, named by a link the import reads after the
        nodes. A node written to the MLMD store since the import read its nodes (the store is
        being written) has none: that was a KeyError (a traceback from the CLI, and a merge
        stopped midway with no reason given)."""
        try:
            return self.node_map[kind][mlmd_id]
        except KeyError:
            raise FailedPreconditionError(
                f"MLMD {kind.value.lower()} {mlmd_id} ({link}) was not in the MLMD store when "
                "the import read its nodes: the MLMD store is being written. "
                + (
                    "Nothing was imported; import it when no one writes to it"
                    if self.empty
                    else "Run the same merge again when no one writes to it: it completes "
                    "what this one wrote"
                )
            ) from None

    def import_links(self, context_ids: list[int]) -> None:
        c_map = self.node_map[NodeKind.CONTEXT]
        attributions: list[Attribution] = []
        associations: list[Association] = []
        parents: list[ParentContext] = []
        attr_keys: list[tuple[int, int]] = []  # MLMD's (node, context) ids of each link
        assoc_keys: list[tuple[int, int]] = []
        for done, cid in enumerate(context_ids, start=1):
            new_c = c_map[cid]
            # In a merge, links the target holds already are skipped (they were counted as
            # imported again, though writing them changes nothing).
            held_a, held_e = (
                (set(), set())
                if self.empty
                else (
                    {a.id for a in self.store.get_artifacts_by_context(new_c)},
                    {e.id for e in self.store.get_executions_by_context(new_c)},
                )
            )
            for a in self.mlmd.get_artifacts_by_context(cid):
                artifact_id = self._copied(NodeKind.ARTIFACT, a.id, f"attributed to context {cid}")
                if artifact_id in held_a:
                    self.report.skipped_relations += 1
                    continue
                attributions.append(Attribution(artifact_id=artifact_id, context_id=new_c))
                attr_keys.append((a.id, cid))
            for e in self.mlmd.get_executions_by_context(cid):
                execution_id = self._copied(
                    NodeKind.EXECUTION, e.id, f"associated with context {cid}"
                )
                if execution_id in held_e:
                    self.report.skipped_relations += 1
                    continue
                associations.append(Association(execution_id=execution_id, context_id=new_c))
                assoc_keys.append((e.id, cid))
            parents += [
                ParentContext(
                    child_id=new_c,
                    parent_id=self._copied(NodeKind.CONTEXT, p, f"a parent of context {cid}"),
                )
                for p in self.mlmd_parents([cid])[cid]
            ]
            self.progress("contexts' links", done, len(context_ids))
        if not self.empty and parents:
            existing = {
                (p.child_id, p.parent_id)
                for p in parents
                if p.parent_id
                in {c.id for c in self.store.get_parent_contexts_by_context(p.child_id)}
            }
            fresh = [p for p in parents if (p.child_id, p.parent_id) not in existing]
            self.report.skipped_relations += len(parents) - len(fresh)
            parents = fresh
        # Written in MLMD's order of its links (mlmd_link_order): context by context, the
        # target's get_lineage_subgraph listed them ordered by context, the source's by write.
        attr_order = self.mlmd_link_order("starting_artifacts", "attributions", attr_keys)
        assoc_order = self.mlmd_link_order("starting_executions", "associations", assoc_keys)
        attributions = [
            link
            for _, link in sorted(
                enumerate(attributions),
                key=lambda p: attr_order.get(attr_keys[p[0]], len(attr_order)),
            )
        ]
        associations = [
            link
            for _, link in sorted(
                enumerate(associations),
                key=lambda p: assoc_order.get(assoc_keys[p[0]], len(assoc_order)),
            )
        ]
        for chunk in _chunks(attributions):
            self.store.put_attributions_and_associations(list(chunk), [])
        for chunk in _chunks(associations):
            self.store.put_attributions_and_associations([], list(chunk))
        # Parents in one write: the store checks the whole batch for cycles.
        if parents:
            self.store.put_parent_contexts(parents)
        self.report.attributions = len(attributions)
        self.report.associations = len(associations)
        self.report.parent_contexts = len(parents)

    def mlmd_link_order(
        self, starting: str, links: str, keys: list[tuple[int, int]]
    ) -> dict[tuple[int, int], int]:
        """Each of these MLMD links (``keys``: (node, context) ids) by its place in MLMD's order
        of them: its ids, which its API does not expose. A SQLite source is read from its copy,
        whose link ids give the order exactly (:func:`_links_by_id`). From another source
        (MySQL, or a copy that cannot tell): ``get_lineage_subgraph`` lists a walk's links in
        the order its database reads them. MLMD starts a walk from 101 nodes at most, so they
        are asked for a window of 100 linked nodes at a time (in id order; nodes past the 101
        an id range held, unlinked ones counting, asked again with the next window): exact
        among the links of one window. MySQL lists them in its unique index's order (context
        id, then node id): when every window did, that is the order of them all; else windows
        follow in node id order. Empty where the source cannot tell (a client or server
        without the call): links are then written context by context."""
        from ml_metadata.proto import metadata_store_pb2

        pb: Any = metadata_store_pb2
        order: dict[tuple[int, int], int] = {}
        if not keys:
            return order
        if self.snapshot:
            # Exact, from the copy's ids. The windows below come in node id order: a link of a
            # later node written before one of an earlier node (a run attributing an old
            # artifact to its new context) comes after it.
            order = _links_by_id(self.snapshot, links)
            if order:
                return order
        node = _LINK_TABLES[links][1]
        pending = sorted({n for n, _ in keys})
        # Every window listed in (context id, node id) order, read live (MySQL): a SQLite copy
        # whose link ids could not be read lists them by id, whose windows can each be in that
        # order too (one context each), and ranked so put a later window's links of context 1
        # before an earlier one's of context 2, which its walks list after them.
        by_index = not self.snapshot
        while pending:
            self._keep_claim()
            window = pending[:_LINK_WINDOW]
            options = pb.LineageSubgraphQueryOptions(max_num_hops=0)
            getattr(options, starting).filter_query = f"id >= {window[0]} AND id <= {window[-1]}"
            try:
                graph = self.mlmd.get_lineage_subgraph(options, [links])
            except LineageGraphError:
                return order  # the rest after, context by context
            seen: set[int] = set()
            listed = [(getattr(link, node), link.context_id) for link in getattr(graph, links)]
            by_index = by_index and listed == sorted(listed, key=lambda k: (k[1], k[0]))
            for key in listed:
                seen.add(key[0])
                order.setdefault(key, len(order))
            # A first node not listed has lost its links meanwhile: not asked again.
            pending = [n for n in window[1:] if n not in seen] + pending[len(window) :]
        if by_index:
            # MySQL lists them in its unique index's order, (context, node): every window did,
            # so one walk over several windows does too. Windows in node id order put a later
            # window's links of context 1 after an earlier one's of context 2, which no walk
            # from both windows' nodes lists (measured on MariaDB 10.11: its plan scans the
            # covering index ``UNIQUE (context_id, node id)``).
            ranked = sorted(order, key=lambda k: (k[1], k[0]))
            order = {key: i for i, key in enumerate(ranked)}
        return order

    def check(self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]) -> None:
        """Refuse, before anything is written, what the store cannot hold: MLMD accepts names
        and external ids that no unique key here can (empty, over 4,096 bytes, ASCII whitespace
        at an end, U+0001), an indexed uri or digest over 4,096 bytes, and text with NUL. The
        error names the MLMD node. Each node and type is also converted as the copy will
        convert it: MLMD holds property names that are empty, which no model here can (they
        raised pydantic's ValidationError, or ValueError, from the copy: in a merge after its
        types were written). Struct values with NaN or infinity, which MLMD holds too, are
        copied as they are."""
        from .._encoding import check_key, check_text
        from ._convert import to_node, to_type

        def converted(convert: Callable[[], Any]) -> Any:
            try:
                return convert()
            except InvalidArgumentError:
                raise
            except (ValidationError, ValueError, TypeError) as exc:
                why = (
                    "; ".join(str(e["msg"]) for e in exc.errors())
                    if isinstance(exc, ValidationError)
                    else str(exc)
                )
                raise InvalidArgumentError(why) from None

        held = {(kind, msg.id) for kind, msg in types}
        # Property values their type does not allow (MLMD holds what its SQLite tables hold: a
        # value of another kind, a property its type does not declare) are refused here by the
        # write's own rules: the write refused them midway, naming "artifact #1" (its place in a
        # batch), in a merge after its types. (A type no model holds is refused below.)
        type_models: dict[tuple[NodeKind, int], NodeType | None] = {}
        for kind, msg in types:
            try:
                type_models[(kind, msg.id)] = to_type(kind, msg)
            except (InvalidArgumentError, ValidationError, ValueError, TypeError):
                type_models[(kind, msg.id)] = None
        for kind, msgs in nodes.items():
            for msg in msgs:
                try:
                    if (kind, msg.type_id) not in held:  # a damaged database: a KeyError before
                        raise InvalidArgumentError(
                            f"its type id {msg.type_id} names no {kind.value.lower()} type of the "
                            "MLMD store"
                        )
                    _check_text(msg)
                    model = converted(functools.partial(to_node, kind, msg))
                    node_type = type_models[(kind, msg.type_id)]
                    if node_type is not None:
                        self.writer.check_values(kind, node_type, model)
                    for name in ("name", "external_id"):
                        if msg.HasField(name):
                            check_key(name, getattr(msg, name))
                    if kind == NodeKind.ARTIFACT and msg.HasField("uri"):
                        check_text("uri", msg.uri)
                    if kind == NodeKind.ARTIFACT and (long := _unindexable(msg)):
                        if self.empty:
                            raise long[0][1]
                        self.long_values[msg.id] = long  # its twin may hold it: check_merge
                except InvalidArgumentError as exc:
                    raise _cannot_import(kind, msg.id, exc) from exc
        for kind, msg in types:
            try:
                _check_text(msg)
                converted(functools.partial(to_type, kind, msg))
                for name in ("name", "version", "description", "external_id"):
                    check_text(f"type {name}", getattr(msg, name))
                if msg.HasField("external_id"):
                    check_key("type external_id", msg.external_id)
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(
                    f"MLMD {kind.value.lower()} type {msg.id} ({msg.name!r}) cannot be imported: "
                    f"{exc}; nothing was imported"
                ) from exc

    def check_merge(
        self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]
    ) -> None:
        """In a merge, refuse before anything is written what the target would refuse midway: a
        type the target holds with other property kinds, a type's external id another type
        holds, and a node's name or external id held by any node but its twin (the target's own
        nodes, or copies of other MLMD nodes when a key moved between nodes in MLMD). A copy
        found again keeps its own keys. The error names the MLMD node and the holder."""
        from ._convert import to_node, to_type

        target_type: dict[tuple[NodeKind, int], int] = {}
        for kind, msg in types:
            model = to_type(kind, msg)
            label = f"MLMD {kind.value.lower()} type {msg.id} ({msg.name!r})"
            try:
                stored = self.store.get_type(kind, model.name, model.version)
            except NotFoundError:
                stored = None
            if stored is not None:
                assert stored.id is not None
                target_type[(kind, msg.id)] = stored.id
                try:  # the rules the merge's put_type applies (fields added and kept)
                    upgraded(stored, model, can_add=True, can_omit=True)
                except AlreadyExistsError as exc:
                    raise AlreadyExistsError(
                        f"{label} cannot be merged: {exc}; nothing was imported"
                    ) from exc
            if model.external_id is not None:
                for other in self.store.get_types_by_external_ids(kind, [model.external_id]):
                    if other.id != target_type.get((kind, msg.id)):
                        raise AlreadyExistsError(
                            f"{label} cannot be merged: its external_id {model.external_id!r} "
                            f"is the target's type {other.name!r}; nothing was imported"
                        )
        for kind in _KINDS:
            repo = self.writer.repos[kind]
            twin_of: dict[int, int | None] = {}  # MLMD id -> the target node it updates
            names: dict[tuple[int, str], Any] = {}
            externals: dict[str, Any] = {}
            for chunk in _chunks(sorted(nodes[kind], key=lambda m: m.id)):
                self._keep_claim()
                self._read_unmarked(kind, chunk)
                contexts: dict[tuple[int, str], int] = {}  # a context's twin: its type and name
                if kind == NodeKind.CONTEXT:
                    keys = [
                        (tid, m.name)
                        for m in chunk
                        if (tid := target_type.get((kind, m.type_id))) is not None
                    ]
                    for held in repo.get_by_type_and_names(keys) if keys else []:
                        assert held.type_id is not None and held.id is not None
                        contexts[(held.type_id, held.name)] = held.id
                for msg in chunk:
                    type_id = target_type.get((kind, msg.type_id))
                    twin = self.imported.get((kind, msg.id))
                    if twin is None and type_id is not None:
                        if kind == NodeKind.CONTEXT:
                            twin = self._unclaimed(kind, contexts.get((type_id, msg.name)))
                        else:
                            node = to_node(kind, msg).model_copy(
                                update={"id": None, "type_id": type_id}
                            )
                            twin = self._existing_twin(kind, msg, node)
                    if type_id is not None and msg.HasField("name") and msg.name:
                        names[(type_id, msg.name)] = msg
                    twin_of[msg.id] = twin
                    if msg.HasField("external_id") and msg.external_id:
                        externals[msg.external_id] = msg
            self.unmarked = {}
            if kind == NodeKind.ARTIFACT:
                self._check_long_values(twin_of)
            label = kind.value.lower()
            name_rows = [
                {"type_id": t, "name": n, "id": twin_of[m.id] or -1} for (t, n), m in names.items()
            ]
            external_rows = [
                {"external_id": e, "id": twin_of[m.id] or -1} for e, m in externals.items()
            ]
            for i in range(0, max(len(name_rows), len(external_rows)), CHUNK):
                taken = self.reads.read(
                    f"{label}s/taken_keys",
                    names=name_rows[i : i + CHUNK],
                    external_ids=external_rows[i : i + CHUNK],
                )
                for row in taken:
                    # Held by a node other than its twin: the target's own, or the copy of
                    # another MLMD node whose key moved in MLMD. The write checks each key
                    # against the store as it is, batch by batch, so a key moving between
                    # copies would fail midway: both are refused here.
                    if row["key"] == "name":
                        [holder] = repo.get_by_ids([row["id"]])
                        msg = names[(holder.type_id, row["value"])]
                    else:
                        msg = externals[row["value"]]
                    raise AlreadyExistsError(
                        f"MLMD {label} {msg.id} cannot be merged: its {row['key']} "
                        f"{row['value']!r} is the target's {label} {row['id']}"
                        f"{' of the same type' if row['key'] == 'name' else ''}; nothing was "
                        "imported"
                    )
            if kind == NodeKind.CONTEXT:
                self.check_parent_cycles(twin_of)

    def _check_long_values(self, twin_of: dict[int, int | None]) -> None:
        """An artifact's uri or digest over 4,096 bytes may be merged only into a twin that
        holds that same value already (copied by a version before the limit): the write lets
        an unchanged stored value stay. Any other is refused, as in an import into an empty
        store."""
        twins = sorted({t for m in self.long_values if (t := twin_of.get(m)) is not None})
        stored = {a.id: a for a in self.store.get_artifacts_by_id(twins)}
        for mlmd_id, long in sorted(self.long_values.items()):
            twin_id = twin_of.get(mlmd_id)
            twin = stored.get(twin_id) if twin_id is not None else None
            for where, error in long:
                if twin is None or _stored_value(twin, where) != error.value:
                    raise _cannot_import(NodeKind.ARTIFACT, mlmd_id, error)

    def mlmd_parents(self, context_ids: Iterable[int]) -> dict[int, list[int]]:
        """MLMD's parent links of these contexts: child id -> its parents' ids (each read once,
        for the merge's cycle check and the copy's links)."""
        for cid in context_ids:
            if cid not in self._parents:
                self._parents[cid] = [p.id for p in self.mlmd.get_parent_contexts_by_context(cid)]
        return self._parents

    def check_parent_cycles(self, twins: Mapping[int, int | None]) -> None:
        """Refuse, before any write, MLMD parent links that form a cycle: among themselves
        (MLMD refuses one; a damaged database holds it: the store refused it once every node,
        event and link was written, a merge stopped midway), or through the target's own parent
        links (the store checks the links only when they are written, after the nodes).
        ``twins``: each MLMD context's twin in the target, None for none (every one None for
        MLMD's links alone). Only the contexts with a twin carry stored links, so the target's
        links above the twins join MLMD's in one graph."""
        from graphlib import CycleError, TopologicalSorter

        parents = self.mlmd_parents(sorted(twins))
        held = {t: m for m, t in twins.items() if t is not None}

        def node(mlmd_id: int) -> tuple[str, int]:
            twin = twins.get(mlmd_id)
            return ("mlmd", mlmd_id) if twin is None else ("target", twin)

        # child -> its parents, in MLMD's order (a dict as an ordered set: the cycle named is
        # the one MLMD's order meets first)
        graph: dict[tuple[str, int], dict[tuple[str, int], None]] = {}
        for child in twins:
            graph.setdefault(node(child), {}).update(dict.fromkeys(map(node, parents[child])))
        if held and any(parents[c] for c in twins):
            self._add_target_parents(graph, set(held))
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as exc:
            cycle: list[tuple[str, int]] = exc.args[1]
            if all(n[0] == "mlmd" for n in cycle):
                raise InvalidArgumentError(
                    "MLMD's parent contexts form a cycle (each a parent of the next: a damaged "
                    "database): "
                    + " -> ".join(f"MLMD context {n[1]}" for n in cycle)
                    + "; nothing was imported"
                ) from None

            def name(n: tuple[str, int]) -> str:
                if n[0] == "mlmd":
                    return f"MLMD context {n[1]}"
                if n[1] in held:
                    return f"MLMD context {held[n[1]]} (the target's context {n[1]})"
                return f"the target's context {n[1]}"

            raise InvalidArgumentError(
                "MLMD's parent contexts would close a cycle with the target's (each a parent "
                "of the next): " + " -> ".join(name(n) for n in cycle) + "; nothing was imported"
            ) from None

    def _add_target_parents(
        self, graph: dict[tuple[str, int], dict[tuple[str, int], None]], held: set[int]
    ) -> None:
        """The target's links above its contexts ``held``, into ``graph``, walked up level by
        level (one read per level, each context once: a variable-length pattern enumerates
        every path on FalkorDB, and algo.BFS costs O(graph) per twin)."""
        reached: set[int] = set()
        frontier = held
        while frontier:
            reached |= frontier
            ids = sorted(frontier)
            frontier = set()
            for i in range(0, len(ids), CHUNK):
                for row in self.reads.read("contexts/get_parent_ids", ids=ids[i : i + CHUNK]):
                    child, parent = int(row["child_id"]), int(row["parent_id"])
                    graph.setdefault(("target", child), {})[("target", parent)] = None
                    frontier.add(parent)
            frontier -= reached

    def run(self) -> ImportReport:
        self._begin()
        # Before ml_metadata reads a row it would abort the whole process on (a SQLite copy;
        # a MySQL source is read live, its typed columns hold numbers):
        damaged = aborting_row(self.snapshot) if self.snapshot else ""
        if damaged:
            raise FailedPreconditionError(
                f"cannot read the MLMD store (a damaged database): {damaged}, on which "
                "ml_metadata aborts the process reading it; nothing was imported"
            )
        nodes = {
            NodeKind.ARTIFACT: list(self.mlmd.get_artifacts()),
            NodeKind.EXECUTION: list(self.mlmd.get_executions()),
            NodeKind.CONTEXT: list(self.mlmd.get_contexts()),
        }
        types = self.used_types(self.read_types(), nodes)
        self.check(types, nodes)
        self.events = self.check_events(self.read_events(nodes))
        self.check_parent_cycles(dict.fromkeys(sorted(m.id for m in nodes[NodeKind.CONTEXT])))
        if not self.empty:
            self.check_merge(types, nodes)
        if self.claim is not None:  # no renewal from here on, unless written into the target
            self.claim.renewing = False
        staging = self.store.backend.stage() if self.empty and not self._other_nodes() else None
        if staging is None:  # a merge, an engine that cannot swap a graph (Neo4j), or state
            # that a new graph would not have (an index, a constraint, impact marks' records)
            if self.claim is not None:
                self.claim.renewing = True
                reported = self.progress

                def progress(stage: str, done: int, total: int) -> None:
                    self._keep_claim()  # before the next batch is written
                    reported(stage, done, total)

                self.progress = progress
            self.writing = True
            try:
                self.copy(types, nodes)
            except EngineUnavailableError as exc:
                raise _stopped_midway(exc) from exc
            self.done = True
            return self.report
        with staging:  # discarded unless published
            self.copy_staged(staging, types, nodes)
        return self.report

    def copy(self, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]) -> None:
        # Neo4j's index holds int64 ids exactly: every MLMD id is kept there.
        limit = KEPT_ID_MAX if self.store.backend.dialect == "falkordb" else 2**63 - 1
        self.kept_max = {"Type": _kept_max((t.id for _, t in types), limit)}
        self.kept_max.update(
            {_SEQUENCE[k]: _kept_max((m.id for m in nodes[k]), limit) for k in _KINDS}
        )
        self.import_types(types)
        for kind in _KINDS:
            self.import_nodes(kind, nodes[kind])
        self.import_events(self.events)
        self.import_links(sorted(m.id for m in nodes[NodeKind.CONTEXT]))

    def copy_staged(
        self, staging: Staging, types: list[tuple[NodeKind, Any]], nodes: dict[NodeKind, list[Any]]
    ) -> None:
        """The whole copy in a new graph, which then replaces the (empty) target in one atomic
        step: an import that fails anywhere, or whose engine dies, leaves the target as it was.
        The new graph starts as the target is (its types with their ids, each id sequence
        where the target's stands, every property key it knows, its creation time), so ids
        reserved by another process before the import stay unused and its caches stay true.
        The TTL is set when the staged graph is made and renewed as the import reports."""
        target = self.store
        if not _store_is_empty(target) or self._other_nodes():  # written before the watch
            raise FailedPreconditionError(
                "the target store was written while the import began: nothing was imported"
            )
        staged = LineageStore(staging.backend)
        reported = self.progress
        renewed = time.monotonic()

        def progress(stage: str, done: int, total: int) -> None:
            nonlocal renewed
            if time.monotonic() - renewed > KEEP_ALIVE_S:  # links report once per context
                staging.keep_alive()
                renewed = time.monotonic()
            reported(stage, done, total)

        handed: list[tuple[str, int, int]] = []
        maybe_swapped = False
        try:
            _seed(target, staged, handed)
            self.store, self.writer = staged, _NativeWriter(staged)
            self.reads, self.progress = Repository(staged.backend), progress
            self.copy(types, nodes)
            self.progress("publish", 0, 1)
            maybe_swapped = True  # from here on a lost reply may hide a swap that happened
            self.writing = True
            try:
                staging.publish(lambda _: self._verify(staged))
            except FailedPreconditionError:
                maybe_swapped = False  # refused before the swap: the target is as it was
                raise
            target._graph_replaced(by=staged)  # before anything else can run
            self.done = True
        except BaseException as exc:
            if not maybe_swapped:
                for sequence, first, end in handed:
                    target._artifacts.ids.take_back(sequence, first, end)
            if isinstance(exc, EngineUnavailableError) and not maybe_swapped:
                # the engine was lost under the staged load: nothing is in the target (its ids
                # were given back; the staged graph is discarded), whatever the call in flight
                # was, so the import is not in doubt (a failed publish says its own outcome)
                said = EngineUnavailableError(
                    f"{str(exc).rstrip('. ')}; nothing was imported (the staged copy is "
                    "discarded, the store is as it was): run the import again"
                )
                said.nothing_written = True
                raise said from exc
            raise
        finally:
            self.store, self.writer = target, _NativeWriter(target)
            self.reads, self.progress = Repository(target.backend), reported
        reported("publish", 1, 1)

    def _other_nodes(self) -> int:
        return int(self.reads.read("imports/other_nodes")[0]["n"])

    def _verify(self, staged: LineageStore) -> None:
        """The staged graph holds what this import wrote (a graph that expired under a stalled
        import and was made again by a later write would not)."""
        wanted = {
            NodeKind.ARTIFACT: self.report.artifacts,
            NodeKind.EXECUTION: self.report.executions,
            NodeKind.CONTEXT: self.report.contexts,
        }
        found = (
            {kind: staged.count(kind) for kind in _KINDS}
            if Repository(staged.backend).read("meta/get")
            else {}  # no graph at all
        )
        if found != wanted:
            raise FailedPreconditionError(
                f"the staged copy holds {_named(found) or 'no'} nodes, not the {_named(wanted)} "
                "imported (it expired, or another client wrote to it): nothing was imported"
            )


def import_mlmd(
    source: Any,
    store: LineageStore,
    *,
    progress: Progress | None = None,
    merge: bool = False,
) -> ImportReport:
    """Copy the MLMD store ``source`` (SQLite path or ``ConnectionConfig``) into ``store``.

    ``store`` must be empty unless ``merge``; ``progress(stage, done, total)`` is called as the
    import advances. Raises :class:`FailedPreconditionError` for a non-empty target without
    ``merge`` (nothing is written), or for a target written by another client while a staged
    import ran (nothing is imported), :class:`NotFoundError` for a missing SQLite file,
    :class:`ConfigurationError` where no temporary directory can be made (``TMPDIR``).
    """
    if not isinstance(merge, bool):  # "no" merged, as any non-empty string would
        raise InvalidArgumentError(f"merge is True or False, got {merge!r}")
    if progress is not None and not callable(progress):  # a TypeError midway, after writes
        raise InvalidArgumentError(f"progress is a callable or None, got {progress!r:.80}")
    mlmd, config = _open(source, older_ok=True)  # (an older schema: its copy is migrated)
    key = _source_key(config)
    importer = _Importer(_Reads(mlmd), store, progress, merge, key)  # refuses before a write
    claim = _Claim(store, key)
    try:
        claim.take()
        try:
            with _as_of_now(mlmd, config) as now, _reading(now.config) as reader:
                importer.mlmd = _Reads(reader)
                importer.snapshot = now.path
                importer.claim = claim
                report = importer.run()
        except BaseException:
            # The error in flight is the one to tell: a Ctrl-C while the claim is released
            # replaced it (a refusal naming the MLMD node became "interrupted", exit 130).
            with contextlib.suppress(Exception, KeyboardInterrupt):
                claim.release()
            raise
        claim.release()
        return report
    except KeyboardInterrupt as exc:
        # Ctrl-C before the import changed the target (in its checks, or a staged copy not
        # yet published): said so (the CLI said a merge's batches stay, when none was written).
        # Ctrl-C once it had finished (as its claim is released, its copy of a SQLite file
        # removed): said so too (the CLI said to run it again with --merge to complete it).
        exc.nothing_written = not importer.writing  # type: ignore[attr-defined]
        exc.import_finished = importer.done  # type: ignore[attr-defined]
        raise
