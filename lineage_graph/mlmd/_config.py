"""Which LineageStore a ``MetadataStore(config)`` opens.

* an open :class:`~lineage_graph.LineageStore`: used as is (the caller keeps owning it);
* a target string or path (``"memory"``, a directory, ``redis://…``, ``neo4j://…``):
  ``LineageStore.open(target)``;
* ``ConnectionConfig(fake_database=…)``, or ``sqlite`` naming an in-memory database (no
  filename, ``:memory:``, ``file::memory:``, a ``file:`` URI with ``mode=memory`` or
  ``vfs=memdb``): in memory, a new empty store each time (nothing written to disk), but a
  name SQLite shares in the process (``cache=shared``, a memdb ``/name``): one store for every
  adapter opening it while one is open (:mod:`._shared`);
* ``ConnectionConfig(sqlite=SqliteMetadataSourceConfig(filename_uri=F))``: the embedded store in
  the directory ``F + ".lineage-graph"`` next to the SQLite file, which is never touched, so
  data persists between runs (``file:`` URIs are accepted); while that directory holds no store,
  a non-empty file F (an MLMD database of data) is refused with a pointer to
  ``lineage-graph import-mlmd``; ``connection_mode`` ``READONLY`` or ``READWRITE`` opens an
  existing store only, as SQLite opens an existing file only (:class:`MissingStoreError`), and
  ``READONLY`` refuses every write (:func:`read_only`); a ``file:`` URI's ``mode=ro`` and
  ``mode=rw`` do the same as ``READONLY`` and ``READWRITE``, as in SQLite, and its
  ``immutable=1`` opens an existing store read-only; the name is read as SQLite reads it (no
  ``~`` expanded, ``sub/..`` without looking for ``sub``); a ``file:`` URI
  SQLite refuses (unknown ``mode``/``cache``/``vfs``, another host than ``localhost``, a mode
  ``connection_mode`` does not allow) and a directory F are refused as MLMD refuses them;
* ``ConnectionConfig(mysql=…)`` / ``postgresql``: refused with a pointer to
  ``lineage-graph import-mlmd``; ``MetadataStoreClientConfig`` (gRPC): refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from ml_metadata.proto import metadata_store_pb2 as _pb

from .. import _migrations
from .._redact import MASK
from ..backends import open_backend
from ..backends._falkordb_server import holds_store
from ..exceptions import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from ..models import ArtifactType, ExecutionType, NodeKind
from ..store import LineageStore
from ._shared import shared_memory_store

__all__ = [
    "HIDDEN_TYPE_NAMES",
    "SQLITE_SUFFIX",
    "SYSTEM_TYPES",
    "ensure_system_types",
    "open_store",
    "read_only",
    "sqlite_decoded",
    "sqlite_file",
    "sqlite_store_dir",
    "sqlite_uri_split",
]

pb: Any = _pb

#: Suffix of the directory holding the graph that stands in for an MLMD SQLite file.
SQLITE_SUFFIX = ".lineage-graph"


def sqlite_uri_split(filename_uri: str) -> tuple[str, str]:
    """``(path, query)`` of a ``file:`` URI as SQLite splits one, each as written (not
    decoded): the path after ``file:`` (after ``file://`` and its authority: ``file:///abs``,
    ``file://localhost/abs``) up to a ``?`` or ``#``, the query up to a ``#``. ``urlsplit``
    dropped every tab and line break in it, as a browser does: ``file:a<TAB>b.db`` named
    ``ab.db``, and ``mode=r<LF>wc`` read as ``rwc``, which SQLite refuses."""
    path, _, query = filename_uri[len("file:") :].partition("#")[0].partition("?")
    if path.startswith("//"):
        slash = path.find("/", 2)
        path = path[slash:] if slash >= 0 else ""
    return path, query


def sqlite_decoded(text: str) -> str:
    """``text``'s ``%HH`` decoded as SQLite decodes a URI's path, names and values (a ``+`` is
    a ``+``, not a space as ``parse_qsl`` read it; a ``%00`` ends the text)."""
    return unquote(text).partition("\x00")[0]


def _sqlite_uri_parts(filename_uri: str) -> tuple[str, list[tuple[str, str]]]:
    """``(path, every query parameter in order)`` of an MLMD ``sqlite.filename_uri`` (the path's
    escapes decoded as the bytes of the name, read by :func:`os.fsdecode`): SQLite reads the
    parameters (``mode=ro``, ``mode=memory``, ``vfs=memdb``) of a ``file:`` URI only (its
    ``file:`` prefix in lower case: ``FILE:x`` is a file name). Names and values are kept as
    written: SQLite reads them case-sensitively (``MODE=ro`` is no mode, ``mode=RO`` is
    refused); an empty value (``mode=``, a bare ``mode``) is kept: SQLite refuses it."""
    if not filename_uri.startswith("file:"):  # a plain file name: '?' is part of it
        return filename_uri, []
    path, query = sqlite_uri_split(filename_uri)
    params = []
    for parameter in query.split("&"):
        if parameter:  # "a&&b", a trailing "&": SQLite skips an empty one
            name, _, value = parameter.partition("=")
            params.append((sqlite_decoded(name), sqlite_decoded(value)))
    # the path's escapes are the bytes of the name (a %00 ends it): "x%FF.db" decoded as UTF-8
    # was "x\ufffd.db", as was "x%FE.db", two files to SQLite given one store
    return os.fsdecode(unquote_to_bytes(path).partition(b"\0")[0]), params


def _sqlite_uri(filename_uri: str) -> tuple[str, dict[str, str]]:
    """``(path, query parameters)`` of an MLMD ``sqlite.filename_uri``; a parameter given twice
    has its last value, as SQLite's opening takes it (:func:`_sqlite_uri_parts`)."""
    path, params = _sqlite_uri_parts(filename_uri)
    return path, dict(params)


#: What the SQLite of ml_metadata 1.17.1 accepts in a ``file:`` URI (checked with it): any other
#: ``mode``, ``cache`` or ``vfs`` fails its opening (RuntimeError "Cannot connect sqlite3
#: database: no such access mode: bogus", "no such cache mode", "no such vfs"), as does an
#: authority other than none or ``localhost`` ("invalid uri authority").
_SQLITE_URI_VALUES = {
    "mode": ("ro", "rw", "rwc", "memory"),
    "cache": ("shared", "private"),
    "vfs": ("unix", "unix-none", "unix-dotfile", "unix-excl", "memdb"),
}
_SQLITE_URI_VALUE_NAMES = {"mode": "access mode", "cache": "cache mode", "vfs": "vfs"}
#: The ``mode`` values each ``connection_mode`` allows: SQLite refuses a URI's mode asking more
#: than the opening's flags ("access mode not allowed: rw" for READONLY).
_SQLITE_MODES_ALLOWED = {"READONLY": ("ro", "memory"), "READWRITE": ("ro", "rw", "memory")}


def _check_sqlite_uri(filename_uri: str, connection_mode: str) -> None:
    """Refuse a SQLite ``filename_uri`` that ml_metadata's SQLite refuses to open: it was
    opened here (a bogus ``mode`` read as read-write-create, ``file://otherhost/x`` as ``/x``)."""
    if not filename_uri.startswith("file:"):
        return
    if filename_uri.startswith("file://"):
        authority = filename_uri[len("file://") :].split("/", 1)[0]
        if authority not in ("", "localhost"):  # SQLite: case-sensitive
            # a user info's password not shown ("file://u:pw@host/x": SQLite quotes it whole),
            # nor its head before a raw "/" ("file://u:pw/rest@host/x": SQLite quotes "u:pw").
            # A file: URI has no port: what follows a ":" is masked (to a last "@")
            user, colon, rest = authority.partition(":")
            if colon:
                _, at, host = rest.rpartition("@")
                authority = f"{user}:{MASK}{at}{host if at else ''}"
            raise BadSqliteUriError(
                f"Cannot connect sqlite3 database: invalid uri authority: {authority}"
            )
    # SQLite checks every mode and cache given (mode=bogus&mode=rwc is refused, and so is
    # mode=rw&mode=ro opened READONLY) but looks up the last vfs only (vfs=bogus&vfs=unix opens)
    params = _sqlite_uri_parts(filename_uri)[1]
    vfs = [(name, value) for name, value in params if name == "vfs"][-1:]
    allowed_modes = _SQLITE_MODES_ALLOWED.get(connection_mode)
    for name, value in [p for p in params if p[0] in ("mode", "cache")] + vfs:
        allowed = _SQLITE_URI_VALUES[name]
        if value not in allowed:
            raise BadSqliteUriError(
                f"Cannot connect sqlite3 database: no such {_SQLITE_URI_VALUE_NAMES[name]}: "
                f"{value} (a file: URI's {name} is one of {', '.join(allowed)})"
            )
        if name == "mode" and allowed_modes is not None and value not in allowed_modes:
            raise BadSqliteUriError(
                f"Cannot connect sqlite3 database: access mode not allowed: {value} "
                f"(connection_mode {connection_mode} allows mode={' or mode='.join(allowed_modes)})"
            )


def sqlite_file(filename_uri: str) -> str:
    """The file SQLite opens for an MLMD ``sqlite.filename_uri`` (a path, or a ``file:`` URI:
    its path, query dropped; its escapes are the bytes of the name, as SQLite takes them). A
    ``..`` is read as SQLite reads it, after the symbolic links before it and whether or not
    the folders before it exist: ml_metadata opens ``./sub/../m.db`` with no ``sub``
    (``./m.db``), which the adapter refused ("the folder sub/.. does not exist") and the
    import said was "no MLMD SQLite file". The adapter's store directory and the importer's
    source are both read here."""
    path = _sqlite_uri(filename_uri)[0]
    if ".." in path.split("/"):
        folder, name = os.path.split(path)
        # a missing folder is a name, as SQLite's resolution; the file's own name is kept, as
        # without a "..": a symbolic link to another folder's file ("link.db" -> "real/x.db")
        # had its store beside the link by that name and beside the target by "./sub/../"
        # that name, two stores for one file
        if name in ("", ".", ".."):
            path = os.path.realpath(path)  # a folder: refused by its callers, as by SQLite
        else:
            path = os.path.join(os.path.realpath(folder or "."), name)
    return path


def sqlite_store_dir(filename_uri: str) -> Path:
    """The store directory for an MLMD ``sqlite.filename_uri`` (a path or a ``file:`` URI),
    beside the file SQLite opens for that name (:func:`sqlite_file`). SQLite expands no ``~``
    (``~/m.db`` is the file ``m.db`` in a folder ``./~``): the store went to the home
    directory, where ml_metadata refused the name (no folder ``./~``) or wrote ``./~/m.db``."""
    path = sqlite_file(filename_uri)
    directory = Path(path + SQLITE_SUFFIX)
    # absolute, so that no opening of the directory (LineageStore.open) expands the "~" either
    return directory.absolute() if path.startswith("~") else directory


def _sqlite_in_memory(filename_uri: str) -> bool:
    """Whether SQLite opens ``filename_uri`` as an in-memory database: empty, ``:memory:``,
    ``file::memory:``, or a URI with ``mode=memory`` or ``vfs=memdb``."""
    path, params = _sqlite_uri(filename_uri)
    return (
        path in ("", ":memory:") or params.get("mode") == "memory" or params.get("vfs") == "memdb"
    )


#: The digits of a hexadecimal number (SQLite's ``sqlite3Isxdigit``).
_HEX_DIGITS = "0123456789abcdefABCDEF"


def _sqlite_int32(text: str) -> int:
    """``text``'s number as SQLite's ``sqlite3GetInt32`` reads it (its leading digits, or
    hexadecimal after ``0x``), 0 when it does not fit in 31 bits (checked with ml_metadata
    1.17.1: ``2147483647`` and ``0x1`` are true, ``2147483648`` and ``99999999999`` false)."""
    hexadecimal = text[:2] in ("0x", "0X") and text[2:3] != "" and text[2:3] in _HEX_DIGITS
    digits = (text[2:] if hexadecimal else text).lstrip("0")
    allowed = _HEX_DIGITS if hexadecimal else "0123456789"
    length = next((i for i, c in enumerate(digits) if c not in allowed), len(digits))
    if length > (8 if hexadecimal else 10):  # (never int() of 5,000 digits: a ValueError)
        return 0
    value = int(digits[:length] or "0", 16 if hexadecimal else 10)
    return 0 if value > 2**31 - 1 else value


def _sqlite_boolean(params: list[tuple[str, str]], name: str) -> bool:
    """A ``file:`` URI's boolean parameter as SQLite's ``sqlite3_uri_boolean(F, name, 0)``
    reads it: its first value (a later one is not looked at), a number not 0 (its leading
    ASCII digits: ``1x`` is true) or ``yes``, ``on``, ``true`` in any case; anything else
    (``no``, ``full``, `` 1``, ``-1``, an empty value) is false."""
    value = next((v for n, v in params if n == name), "")
    if value[:1] and value[:1] in "0123456789":
        return _sqlite_int32(value) != 0
    return value.lower() in ("yes", "on", "true")


def _sqlite_immutable(filename_uri: str) -> bool:
    """Whether a ``file:`` URI opens its database file read-only by ``immutable=1``: SQLite
    opens a file so read-only whatever the ``mode`` (ml_metadata's writes fail with
    InternalError "attempt to write a readonly database"); the adapter wrote the store."""
    return _sqlite_boolean(_sqlite_uri_parts(filename_uri)[1], "immutable")


def _sqlite_shared_name(filename_uri: str) -> tuple[str, ...] | None:
    """The name under which SQLite shares the in-memory database of ``filename_uri`` between
    the connections of a process, None when each opening has its own (checked with ml_metadata
    1.17.1): a ``file:`` URI naming an in-memory database (``mode=memory``, the name
    ``:memory:``) with ``cache=shared`` (the last ``cache`` and ``mode`` given), shared with the
    same name and ``vfs`` only (``file:x?...`` and ``file:./x?...`` are two); a ``vfs=memdb``
    name beginning with ``/`` (memdb shares those), or another one with ``cache=shared``. An
    empty name is a temporary database: never shared."""
    if not filename_uri.startswith("file:"):
        return None
    path, params = _sqlite_uri(filename_uri)
    vfs, shared_cache = params.get("vfs", "unix"), params.get("cache") == "shared"
    if not path:
        return None
    if params.get("mode") == "memory" or path == ":memory:":
        return ("memory", vfs, path) if shared_cache else None
    if vfs == "memdb":
        if path.startswith("/"):
            return ("memdb", path)
        return ("memdb, shared cache", path) if shared_cache else None
    return None


def _sqlite_uri_mode(filename_uri: str) -> str:
    """The ``mode`` parameter of a ``file:`` URI (``ro``, ``rw``, ``rwc``), ``""`` if none."""
    return _sqlite_uri(filename_uri)[1].get("mode", "")


class UnsetConfigError(InvalidArgumentError):
    """A ConnectionConfig that sets no database (MLMD: ``RuntimeError("Unset")``)."""


class BadSqliteUriError(InvalidArgumentError):
    """A SQLite ``filename_uri`` ml_metadata's SQLite refuses to open (MLMD: ``RuntimeError``):
    an unknown ``mode``, ``cache`` or ``vfs``, a mode its ``connection_mode`` does not allow,
    another host than ``localhost``."""


class NotAConfigError(InvalidArgumentError):
    """Something else than a config or a store given (MLMD: ``ValueError``)."""


class MissingStoreError(NotFoundError):
    """A SQLite config whose ``connection_mode`` opens an existing database only (``READONLY``,
    ``READWRITE``) names one that holds no store (MLMD: ``RuntimeError("Cannot connect sqlite3
    database: unable to open database file")``); nothing is created."""


def read_only(config: Any) -> bool:
    """Whether ``config`` opens its database read-only (SQLite's ``READONLY`` mode): its
    writes are refused. Not so for a name of SQLite's shared cache (``cache=shared``): its
    openings share the first one's, which made the database (:func:`_opens_read_only` says
    whether the opening asks for read-only, which such a name holding no store refuses)."""
    if not _opens_read_only(config):
        return False
    shared = _sqlite_shared_name(config.sqlite.filename_uri)
    return shared is None or shared[0] == "memdb"  # memdb's own sharing: a read-only opening


def _opens_read_only(config: Any) -> bool:
    """Whether ``config`` asks to open its database read-only (``READONLY``, ``mode=ro``,
    ``immutable=1``)."""
    if not isinstance(config, pb.ConnectionConfig) or config.WhichOneof("config") != "sqlite":
        return False
    uri_mode = _sqlite_uri_mode(config.sqlite.filename_uri)
    if uri_mode == "memory":  # SQLite: a URI's mode replaces the opening's read-only flag
        return False
    return (
        config.sqlite.connection_mode == pb.SqliteMetadataSourceConfig.READONLY
        or uri_mode == "ro"  # file:F?mode=ro, as SQLite
        # file:F?immutable=1: read-only but on the in-memory names SQLite's pager keeps apart
        # (vfs=memdb is a file to it: read-only too)
        or (
            _sqlite_immutable(config.sqlite.filename_uri)
            and _sqlite_uri(config.sqlite.filename_uri)[0] not in ("", ":memory:")
        )
    )


def _has_content(path: Path) -> bool:
    """Whether ``path`` is a non-empty file (its size only: the file is never read)."""
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _from_connection_config(config: Any) -> tuple[LineageStore, Callable[[], None]]:
    which = config.WhichOneof("config")
    if which == "sqlite":
        modes = pb.SqliteMetadataSourceConfig
        _check_sqlite_uri(
            config.sqlite.filename_uri, modes.ConnectionMode.Name(config.sqlite.connection_mode)
        )
    if which == "fake_database" or (
        which == "sqlite" and _sqlite_in_memory(config.sqlite.filename_uri)
    ):
        shared = which == "sqlite" and _sqlite_shared_name(config.sqlite.filename_uri)
        if _opens_read_only(config):
            # a shared name another adapter of the process holds open is its store, as SQLite
            # opens the shared database (ml_metadata reads it): it was refused as a new one
            opened = shared_memory_store(shared, create=False) if shared else None
            if opened is not None:
                return opened
            # MLMD: RuntimeError "attempt to write a readonly database" creating its tables;
            # the adapter opened an empty store that refused every write
            raise MissingStoreError(
                "attempt to write a readonly database: an in-memory SQLite database opened "
                "read-only (connection_mode READONLY, or mode=ro) is empty, and a read-only "
                "opening does not set one up (mode=memory opens it read-write)"
            )
        if shared:
            opened = shared_memory_store(shared)
            assert opened is not None
            return opened
        return _owned(LineageStore.open("memory"))
    if which == "sqlite":
        directory = sqlite_store_dir(config.sqlite.filename_uri)
        source = Path(str(directory)[: -len(SQLITE_SUFFIX)])
        if source.is_dir() or _sqlite_uri(config.sqlite.filename_uri)[0].endswith("/"):
            # SQLite opens no directory as a database: "adir" made a store "adir.lineage-graph"
            # and "adir/" another one, "adir/.lineage-graph", where MLMD opened neither
            raise MissingStoreError(
                f"Cannot connect sqlite3 database: unable to open database file: {source} "
                "names a directory, not a database file"
            )
        if not holds_store(directory) and _has_content(source):
            # Opening an empty store beside an MLMD database of data would look like the data
            # had gone, and new writes would go to a store that lacks it: refused, once.
            raise FailedPreconditionError(
                # judged by its size only (never read): said as such, not "F is an MLMD
                # database" of a text file, whose import then said it was none
                f"{source} holds data, and lineage_graph.mlmd does not read SQLite files: it "
                f"keeps this config's data in {directory}, which holds no store yet. If "
                f"{source} is an MLMD database, copy it in once with `lineage-graph import-mlmd "
                f"{source} --store {directory}`, then open the same config again (or name "
                "another filename_uri to start empty)"
            )
        mode = config.sqlite.connection_mode
        modes = pb.SqliteMetadataSourceConfig
        if not holds_store(directory) and not directory.parent.is_dir():
            # SQLite makes the file only, never its folder: a mistyped folder made a new tree
            raise MissingStoreError(
                "Cannot connect sqlite3 database: unable to open database file: the folder "
                f"{directory.parent} does not exist (SQLite creates the database file only)"
            )
        uri_mode = _sqlite_uri_mode(config.sqlite.filename_uri)
        existing_only = mode in (modes.READONLY, modes.READWRITE) or uri_mode in ("ro", "rw")
        if existing_only and not holds_store(directory):
            why = (
                f"the URI's mode={uri_mode}"
                if uri_mode in ("ro", "rw")
                else f"connection_mode {modes.ConnectionMode.Name(mode)}"
            )
            raise MissingStoreError(
                "Cannot connect sqlite3 database: unable to open database file: no lineage-graph "
                f"store in {directory} ({why} opens an existing database only; "
                "READWRITE_OPENCREATE creates one)"
            )
        if read_only(config):
            if not holds_store(directory):  # immutable=1 on a new name (READONLY, mode=ro: above)
                # MLMD: RuntimeError "attempt to write a readonly database" making its tables
                raise MissingStoreError(
                    f"attempt to write a readonly database: no lineage-graph store in {directory}, "
                    "and a file: URI's immutable=1 opens it read-only, which does not set one up"
                )
            return _owned(_open_read_only(directory))
        return _owned(LineageStore.open(directory))
    if which in ("mysql", "postgresql"):
        raise InvalidArgumentError(
            f"lineage_graph.mlmd does not connect to an MLMD {which} database: copy it into a "
            "lineage-graph store once with `lineage-graph import-mlmd <connection> --store "
            "<directory>` and open that store instead: MetadataStore('<directory>') (or a "
            "Neo4j URI given to both, or an open LineageStore)"
        )
    raise UnsetConfigError(
        "Unset: the ConnectionConfig sets no database (fake_database, sqlite, mysql or postgresql)"
    )


def _open_read_only(directory: Path) -> LineageStore:
    """A read-only opening never migrates (MLMD: "Schema migration is disabled", or its
    migration fails on the read-only database) and never sets a store up: a directory that holds
    a store's files but no store yet (its graph empty: an opening that ended before writing)
    is refused as MLMD refuses an empty database file opened READONLY ("attempt to write a
    readonly database" creating its tables). Its opening wrote the whole schema there."""
    backend = open_backend(directory)
    try:
        if _migrations.read_state(backend).version is None:
            raise MissingStoreError(
                f"attempt to write a readonly database: {directory} holds no lineage-graph "
                "store yet, and a read-only opening (connection_mode READONLY, or a file: URI's "
                "mode=ro) does not set one up; open it read-write once"
            )
        return LineageStore(backend, migrate=False)
    except BaseException:
        backend.close()
        raise


def _owned(store: LineageStore) -> tuple[LineageStore, Callable[[], None]]:
    return store, store.close


def _kept_open() -> None:
    """The close of a store the caller gave: it keeps owning it."""


def open_store(config: Any) -> tuple[LineageStore, Callable[[], None]]:
    """``(store, close)``: ``close`` ends this adapter's use of the store: it closes a store
    the adapter opened, the last use of a shared in-memory one closes that, and a store the
    caller gave is left open."""
    if isinstance(config, LineageStore):
        return config, _kept_open
    if isinstance(config, str | os.PathLike):
        return _owned(LineageStore.open(config))
    if isinstance(config, pb.ConnectionConfig):
        return _from_connection_config(config)
    if isinstance(config, pb.MetadataStoreClientConfig):
        raise InvalidArgumentError(
            "lineage_graph.mlmd talks to the graph directly, not to an MLMD gRPC server: pass a "
            "store target (a directory, 'memory', a Neo4j URI) or a ConnectionConfig; to move "
            "the server's data, run `lineage-graph import-mlmd <its database> --store "
            "<directory>` and pass that directory"
        )
    raise NotAConfigError(
        "MetadataStore expects a LineageStore, a store target (str or path) or an "
        f"ml_metadata ConnectionConfig, got {type(config).__name__}"
    )


#: ml_metadata's built-in types, registered first in every MLMD database (ids 1-9 there) and
#: hidden from ``get_*_types()``. Registering them too keeps user type ids equal to MLMD's.
SYSTEM_TYPES: dict[NodeKind, tuple[str, ...]] = {
    NodeKind.ARTIFACT: ("mlmd.Dataset", "mlmd.Model", "mlmd.Metrics", "mlmd.Statistics"),
    NodeKind.EXECUTION: (
        "mlmd.Train",
        "mlmd.Transform",
        "mlmd.Process",
        "mlmd.Evaluate",
        "mlmd.Deploy",
    ),
    NodeKind.CONTEXT: (),
}

#: The names ``get_artifact_types()`` and ``get_execution_types()`` leave out, whatever the
#: version: in ml_metadata 1.17.1 every system type name of either kind (an artifact type named
#: ``mlmd.Train`` is hidden too); ``get_context_types()`` hides none.
HIDDEN_TYPE_NAMES: dict[NodeKind, frozenset[str]] = {
    NodeKind.ARTIFACT: frozenset(
        SYSTEM_TYPES[NodeKind.ARTIFACT] + SYSTEM_TYPES[NodeKind.EXECUTION]
    ),
    NodeKind.CONTEXT: frozenset(),
}
HIDDEN_TYPE_NAMES[NodeKind.EXECUTION] = HIDDEN_TYPE_NAMES[NodeKind.ARTIFACT]


def ensure_system_types(store: LineageStore) -> None:
    """Register the ``mlmd.*`` system types that are missing (one read per kind when present)."""
    for kind, cls in ((NodeKind.ARTIFACT, ArtifactType), (NodeKind.EXECUTION, ExecutionType)):
        # the unversioned type only: another version of the name is another type (a store
        # holding only ``mlmd.Dataset`` v2 lacked the system type ``mlmd.Dataset``)
        present = {t.name for t in store.get_types(kind) if not t.version}
        for name in SYSTEM_TYPES[kind]:
            if name not in present:
                store.put_type(cls(name=name))
