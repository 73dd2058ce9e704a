"""The embedded engine: FalkorDB over RESP, in memory, on a data directory, or an external server.

Driver errors are mapped to :mod:`lineage_graph.exceptions` in :func:`_map_error` only.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import secrets
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, LiteralString
from urllib.parse import quote, unquote, urlparse, urlunparse

from .._interrupts import interrupt_held as _interrupt_held
from .._redact import check_url_password, parse_url
from ..config import EmbeddedSettings, url_file_path, url_graph_name
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
from ._base import Backend, Dialect, IndexSpec, Row, SchemaSpec, Staging, Statement
from ._falkordb_server import (
    HUNG_STOP_WAIT_S,
    STOP_WAIT_S,
    ServerProcess,
    _DirectoryGone,
    _LockTimeout,
    ping_client,
    running_server,
    working,
)
from ._settle import DEFAULT_PENDING, SETTLE_QUERY, Settler

__all__ = ["EmbeddedBackend"]

Mode = Literal["memory", "directory", "external"]

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


#: Redis' refusal of a write while it cannot write its append-only log (fsync="everysec"; with
#: "always" it exits instead); the reason follows ("No space left on device").
_LOG_REFUSED = "MISCONF Errors writing to the AOF file"

#: What :meth:`EmbeddedBackend._supervised` says when a reply of a server at work (or answering
#: PINGs) was awaited ``socket_timeout_s``: no fault of the server's, which may run on.
_NO_REPLY = "no reply within socket_timeout_s"

#: What :meth:`EmbeddedBackend._execute` says when an external server's reply (a server the
#: user runs, reached by its URL) was awaited ``socket_timeout_s``: redis's own words ("Timeout
#: reading from 127.0.0.1:6379") were passed on as a server "unreachable".
_NO_REPLY_EXTERNAL = "no reply from the external server within socket_timeout_s"

#: FalkorDB's refusal of a statement past QUERY_MEM_CAPACITY (query_mem_capacity).
_MEM_CAPPED = "mem consumption exceeded capacity"


def _map_error(
    exc: BaseException, name: str, server: ServerProcess | None = None
) -> LineageGraphError:
    """The one place where FalkorDB/redis errors become lineage-graph errors. ``server``: the
    server of ours the failed connection was to, asked whether it refuses clients for having
    its most (then a lost connection is said to be that, not a server out of reach)."""
    import redis

    where = f" in query {name!r}" if name else ""
    if isinstance(exc, redis.exceptions.AuthenticationError):
        return ConfigurationError(f"FalkorDB refused the credentials: {exc}")
    if isinstance(exc, redis.exceptions.TimeoutError) and str(exc).startswith(_NO_REPLY):
        # The server was reachable and at work: "unreachable: Timeout reading from socket" sent
        # the user after a fault, where the wait (660 s whatever the query limits, both 0: no
        # finite wait covers every query) was the cause.
        return EngineUnavailableError(
            f"the FalkorDB server gave no reply{where} within socket_timeout_s "
            f"({str(exc)[len(_NO_REPLY) :].strip()}, LINEAGE_GRAPH_SOCKET_TIMEOUT_S) while it "
            "was at work on it, and the wait was given up: the statement may run on, and a "
            "write may still be applied. Set socket_timeout_s above the longest statement "
            "(it bounds the wait even when query_timeout_ms and query_timeout_max_ms are 0)"
        )
    if isinstance(exc, redis.exceptions.TimeoutError) and str(exc).startswith(_NO_REPLY_EXTERNAL):
        # An external server: no supervision tells a busy server from a stopped one or a
        # network that lost the reply.
        return EngineUnavailableError(
            f"the FalkorDB server gave no reply{where} within socket_timeout_s "
            f"({str(exc)[len(_NO_REPLY_EXTERNAL) :].strip()}, LINEAGE_GRAPH_SOCKET_TIMEOUT_S), "
            "and the wait was given up: the server may be at work on a longer statement, "
            "stopped or overloaded, or the network between lost the reply. The statement may "
            "run on, and a write may still be applied. Check that the server runs and is "
            "reachable; if its statements take longer, set socket_timeout_s above the longest"
        )
    if isinstance(exc, redis.exceptions.ConnectionError) and server is not None:
        # A store open (or opening) whose connection was lost, on a server at its most clients
        # (its descriptor limit): told "unreachable", where a first opening is told it is full.
        lost = "this opening" if name == "connect" else f"this store's new connection{where}"
        full = server.full_message(lost)
        if full is not None:
            return EngineUnavailableError(full)
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        err: LineageGraphError = EngineUnavailableError(
            f"the FalkorDB server is unreachable{where}: {exc}"
        )
        return err
    text = str(exc)
    if isinstance(exc, redis.exceptions.ResponseError) and text.startswith(_LOG_REFUSED):
        # fsync="everysec": the server refuses every write while it cannot write its
        # append-only log (a full disk: "No space left on device"), and takes writes again by
        # itself once it can: retryable, as under fsync="always" (the server exits then).
        reason = text[len(_LOG_REFUSED) :].strip(" :") or "unknown"
        refused = EngineUnavailableError(
            f"the FalkorDB server cannot write its append-only log ({reason}) and refused "
            f"the write{where}: nothing of it was written. Free space on the server's disk "
            "(an embedded store's: its directory's) or fix what stops the log's writes, and "
            "retry the call: the server takes writes again by itself once it can log them"
        )
        refused.nothing_written = True  # refused before it ran: not in doubt (no read-back)
        return refused
    if isinstance(exc, redis.exceptions.ResponseError) and _MEM_CAPPED in text:
        return QueryError(
            f"the statement{where} needs more memory than the embedded engine's per-query cap "
            f"allows ({text}); nothing was changed. Ask for less in one call (a write: a "
            "smaller batch, or smaller values; a read: a smaller page, or a filter), or open "
            "the store with a larger query_mem_capacity "
            "(LINEAGE_GRAPH_QUERY_MEM_CAPACITY, bytes; 0 for none), which applies when its "
            "server starts: once no other process has the store open"
        )
    if "unique constraint" in text.lower():
        return AlreadyExistsError(f"a unique key already exists{where}: {text}")
    if "timed out" in text.lower():
        return QueryError(f"FalkorDB query timed out{where}: {text}")
    if isinstance(exc, redis.exceptions.ResponseError):
        return QueryError(f"FalkorDB rejected the query{where}: {text}")
    return EngineError(f"FalkorDB error{where}: {exc!r}")


#: The largest argument a Redis server takes (its ``proto-max-bulk-len``, 512 MiB by default):
#: a statement (its parameters included) is one argument.
MAX_STATEMENT_BYTES = 512 * 1024**2


def _check_size(text: str) -> None:
    """A statement longer than a server takes is refused before it is sent: the server answered
    "Protocol error: invalid bulk length" and closed the connection once hundreds of MB had
    been sent (16 s for 540 MB), which came as EngineUnavailableError (retryable, "the write
    may have been applied"), where every retry failed alike."""
    if len(text) <= MAX_STATEMENT_BYTES // 4:
        return  # at most 4 bytes a character in UTF-8: no encoding needed to tell
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_STATEMENT_BYTES:
        raise InvalidArgumentError(
            f"the call's statement is {size:,} bytes with its values, over the "
            f"{MAX_STATEMENT_BYTES:,} bytes (512 MiB) the embedded engine takes in one "
            "command; nothing was written. Split the call into smaller batches; a single "
            "value this large is better stored elsewhere and referred to by its uri"
        )


def _check_unicode(text: str) -> None:
    """Text goes to the engine as UTF-8 in a C string: a lone surrogate cannot, nor a NUL; either
    is the caller's error.

    Checked once on the whole statement (parameter header included): ``isascii()`` answers most
    statements in C; walking the parameters in Python cost 6.6 ms per 1,000-row write. Values
    the header cannot carry (NaN, infinities, bytes) never reach it: properties are encoded
    first (_encoding.py), and the engine would reject such a header anyway (QueryError).
    """
    if "\x00" in text:
        # The server reads the statement as a C string: a NUL in a parameter (the header comes
        # first) cut the statement there, and get_artifacts_by_uri("a\x00b") came back as
        # QueryError "Invalid input at end of input". Writes refuse NUL in plain text and
        # escape it in property values and names (_encoding.py); a lookup holding one is the
        # caller's error, said as such before anything is sent.
        raise InvalidArgumentError(
            "text must not contain a NUL character (the embedded engine cannot carry it; "
            "nothing stored holds one)"
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidArgumentError(
                f"text must be valid Unicode: {exc.reason} ({text[exc.start : exc.end]!r} in a "
                "value or name)"
            ) from None


#: Stores on a server this library started, still open: closed when the interpreter exits, so a
#: script that never calls close() does not leave a directory's server running (a killed
#: process still does: the server outlives a crashed client, by design).
_OPEN: weakref.WeakSet[EmbeddedBackend] = weakref.WeakSet()


#: Data directories (with their settings, and the server the store knew, to follow the
#: directory if it moved) whose store this process garbage-collected unclosed: at exit their
#: server is stopped as close() would stop it (if no other client uses it).
_DROPPED: dict[Path, tuple[EmbeddedSettings, ServerProcess]] = {}


#: In a forked child: the sockets of the memory stores it inherited open (the parent's servers),
#: stopped at its exit if no store of another process is connected any more (the parent closed
#: its store while the child was connected, so left the server running: for ever after both had
#: finished, as long as the parent process lived).
_INHERITED_MEMORY: dict[Path, ServerProcess] = {}


#: Set when the interpreter exits: every store of this process still open is being closed, so a
#: connection of this process another store left (one garbage-collected unclosed, whose socket
#: the collector has not closed yet) does not keep a server running.
_EXITING = False


@atexit.register
def _close_open_stores() -> None:
    global _EXITING
    _EXITING = True
    for backend in list(_OPEN):
        with contextlib.suppress(Exception):
            backend.close()
    for path, (settings, server) in list(_DROPPED.items()):
        # A store dropped unclosed (MLMD code never closes its MetadataStore: TFX's Metadata
        # drops it on __exit__) left its directory's server running after the process exited.
        # Reconnecting and closing stops it, unless another client still uses it.
        where: Path | None = None
        with contextlib.suppress(Exception):
            where = _dropped_where(path, server)
        if where is not None and running_server(where) is not None:
            with contextlib.suppress(Exception):
                EmbeddedBackend("directory", path=where, settings=settings).close()
    _DROPPED.clear()
    for socket_path, server in list(_INHERITED_MEMORY.items()):
        with contextlib.suppress(Exception):
            _stop_if_unused(socket_path, server)
    _INHERITED_MEMORY.clear()


#: The command of a read-only query (it changes nothing: see _execute).
_READ_ONLY = "GRAPH.RO_QUERY"


def _stop_if_unused(socket_path: Path, server: ServerProcess) -> None:
    """Shut down the memory server on ``socket_path`` unless a store of another process is
    connected to it (this process's connections are ending with it): its data is no one's.
    Its socket directory goes too (the parent's close() had left it to the running server)."""
    client = ping_client(socket_path, 1.0)
    try:
        ours = f"lineage-graph-{os.getpid()}-"
        names = _store_clients(client.execute_command("CLIENT", "LIST"))
        if any(not name.startswith(ours) for name in names):
            return
        with contextlib.suppress(Exception):  # the server drops the connection as it exits
            client.execute_command("SHUTDOWN", "NOSAVE")
    finally:
        client.close()
    server.wait_exit(5.0)
    server.cleanup()


def _note_dropped(server: ServerProcess, settings: EmbeddedSettings, owner_pid: int) -> None:
    """A directory store garbage-collected unclosed: its server is stopped at exit (no I/O
    here, in the collector). Only in the process that opened it (a forked child's copy)."""
    if os.getpid() == owner_pid and server.data_dir is not None:
        _DROPPED[server.data_dir] = (settings, server)


def _dropped_where(path: Path, server: ServerProcess) -> Path | None:
    """Where a dropped store's directory is at exit: where it was moved to since (its server,
    running in it, tells); None once it was removed, its server then stopped here if no store
    of another process uses it (under the directory's own lock, as a close decides it), or it
    is found hung (stopped, deadlocked): then it is stopped as the store's close stops one
    (:meth:`ServerProcess.kill_in_removed_directory`: killed at once when its files are gone,
    given HUNG_STOP_WAIT_S to exit on its SIGTERM, resumed first, where no path reaches them)."""
    if server.follow() is None:
        return server.data_dir
    if server.pid is not None and server.socket_path is not None:
        ours = f"lineage-graph-{os.getpid()}-"
        try:
            # Where /proc tells nothing of it (macOS; or it is gone), no server can be found in
            # a removed directory, nor judged hung: it is not asked (a stopped one answers
            # nothing, and the exit waited socket_timeout_s for it).
            with server.gone_locked():
                if server.activity() is not None:
                    reply = server.client_list()
                    if reply is None:
                        server.kill_in_removed_directory(timeout=HUNG_STOP_WAIT_S)
                    elif all(name.startswith(ours) for name in _store_clients(reply)):
                        server.kill_in_removed_directory()
        finally:  # (its socket folder, once it is gone, whatever the asking raised)
            with contextlib.suppress(Exception):
                server.cleanup()
    return None


def _stop_orphaned_server(server: ServerProcess, owner_pid: int, own_name: str) -> None:
    """Stop the server of a memory store garbage-collected without close(): its data is out of
    reach, and its process (~25 MB) stayed until the interpreter exited (a test suite of an MLMD
    client, TFX's, opening a fake database per test, held 156 at once). Nothing to save: killed.
    Only in the process that started it (a forked child's copy of the store is the parent's),
    and only if no other store uses it (one opened on its socket, ``unix://…``, as close()
    checks too: killing it failed that store's next call)."""
    if os.getpid() != owner_pid:
        return
    with contextlib.suppress(Exception):
        if server.socket_path is not None and _other_stores(server.socket_path, own_name):
            return
        server.kill()
        server.cleanup()


def _other_stores(socket_path: Path, own_name: str) -> bool:
    """Whether a store other than the one named ``own_name`` is connected to the server (a
    quick local CLIENT LIST, 1 s at most: a server that does not answer has none to keep)."""
    import redis

    client = ping_client(socket_path, 1.0)
    try:
        clients = client.execute_command("CLIENT", "LIST")
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()
    return any(name != own_name for name in _store_clients(clients))


def _store_clients(reply: Any) -> list[str]:
    """The names of the stores' connections (``lineage-graph-*``) in a CLIENT LIST reply; an
    unnamed connection is not a store's (a PING probe)."""
    return [name for name, _ in _store_connections(reply)]


def _store_connections(reply: Any) -> list[tuple[str, str]]:
    """The stores' connections in a CLIENT LIST reply: (name, connection id)."""
    text = reply.decode() if isinstance(reply, bytes) else str(reply)
    found = []
    for line in text.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        name = fields.get("name", "")
        if name.startswith("lineage-graph-"):
            found.append((name, fields.get("id", "")))
    return found


def _reader_to(conn: Any, end: bytes) -> Callable[[float | None], None]:
    """A reader of ``conn``'s socket, past its parser, that returns once the bytes read end with
    ``end`` (a reply nothing can follow: the last command sent). Each call waits up to its
    ``timeout`` for bytes (redis's ``TimeoutError`` if none came); what came is kept across
    calls (only its last ``len(end)`` bytes matter). A closed connection is redis's
    ``ConnectionError``."""
    import redis

    tail = bytearray()

    def read(timeout: float | None) -> None:
        sock = conn._sock
        if sock is None:
            raise redis.exceptions.ConnectionError("the connection is closed")
        sock.settimeout(timeout)
        try:
            while not tail.endswith(end):
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:  # socket.timeout
                    raise redis.exceptions.TimeoutError("Timeout reading from socket") from None
                if not chunk:
                    raise redis.exceptions.ConnectionError("the server closed the connection")
                tail.extend(chunk)
                del tail[: -len(end)]
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(conn.socket_timeout)

    return read


#: Every store of this process, open or not (renamed in a forked child: _after_fork_in_child).
_ALL: weakref.WeakSet[EmbeddedBackend] = weakref.WeakSet()
#: The serial numbers that make the stores' connection names unique in a process.
_SERIALS = itertools.count(1)


def _after_fork_in_child() -> None:
    """A forked child (gunicorn --preload, a multiprocessing worker, os.fork) inherits the
    parent's stores and their servers. The connections it makes anew bear its own pid: under
    the parent's name, the parent's close() took the child's connection for its own (and the
    child's for the parent's), found itself alone and shut the server down under the other (a
    worker still writing: EngineUnavailableError, a memory store's data lost). Its exit does not
    close the stores it inherited; their servers are stopped at its exit (a directory store's
    as a dropped store's is, a memory store's by _stop_if_unused) if no other client (the
    parent) is connected any more: else they ran on after both had finished.
    No I/O here: this also runs between fork and exec of a server started with preexec_fn.
    A worker's own worker (nested forks) inherits what its parent inherited as well: only the
    parent's open stores were its, and a directory server the grandchild used last ran on."""
    inherited = dict(_DROPPED)
    inherited.update(
        (b._server.data_dir, (b.settings, b._server))
        for b in list(_OPEN)
        if b.mode == "directory" and b._server is not None and b._server.data_dir is not None
    )
    memory = {
        b._server.socket_path: b._server
        for b in list(_OPEN)
        if b.mode == "memory" and b._server is not None and b._server.socket_path is not None
    }
    for backend in list(_ALL):
        backend._renamed_after_fork()
    _OPEN.clear()
    _DROPPED.clear()
    _DROPPED.update(inherited)
    _INHERITED_MEMORY.update(memory)
    # A multiprocessing worker leaves by os._exit after multiprocessing's own finalizers (no
    # atexit handler runs in it), which it clears as it starts, then runs its after-fork hooks.
    mp_util = sys.modules.get("multiprocessing.util")
    if (inherited or _INHERITED_MEMORY) and mp_util is not None:
        mp_util.register_after_fork(_AFTER_FORK_KEY, _close_at_worker_exit)


class _Key:
    """A weakly referenced key for multiprocessing's after-fork registry."""


_AFTER_FORK_KEY = _Key()


def _close_at_worker_exit(_: object) -> None:
    """In a multiprocessing worker, as it starts: its exit closes what _close_open_stores does."""
    import multiprocessing.util

    global _WORKER_EXIT_PID
    _WORKER_EXIT_PID = os.getpid()
    multiprocessing.util.Finalize(None, _close_open_stores, exitpriority=0)


#: The multiprocessing worker whose exit runs _close_open_stores (registered once per process).
_WORKER_EXIT_PID: int | None = None


def _closed_at_worker_exit() -> None:
    """A store opened in a multiprocessing worker (a Pool's initializer, a Process's target) is
    closed at the worker's exit, as atexit closes one in a main process. A 'fork' or
    'forkserver' worker leaves by os._exit, where no atexit handler runs: the directory server
    its stores used ran on for good after every worker had finished (a Pool of 3 whose
    initializer opened the store, then close() and join(): the server still running). Only
    multiprocessing's finalizers run there."""
    mp = sys.modules.get("multiprocessing")
    if mp is None or os.getpid() == _WORKER_EXIT_PID or mp.parent_process() is None:
        return
    _close_at_worker_exit(None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


_ENGINE_TIME = "Query internal execution time:"

#: A reply from a server of our own is awaited in slices of at most this many seconds (a quarter
#: of ``hang_after_s`` if smaller); between two, its CPU time and a PING on a fresh connection
#: tell a slow server from a hung one (EmbeddedBackend._await_reply).
PROBE_EVERY_S = 5.0
#: Writes since the last rewrite of the append-only file are replayed one statement at a time
#: at start-up; from this size on, opening the store and closing it rewrite the file (a fork).
#: Below it the replay is quick, and the fork is skipped: right after one, at start-up, the
#: server hung (docs/reliability.md).
COMPACT_TAIL_BYTES = 1 << 20


def _engine_seconds(stats: Any) -> float | None:
    """The engine's own time for a statement, from its reply's statistics lines."""
    for line in stats if isinstance(stats, list) else ():
        if isinstance(line, str) and line.startswith(_ENGINE_TIME):
            with contextlib.suppress(ValueError, IndexError):
                return float(line[len(_ENGINE_TIME) :].split()[0]) / 1000
    return None


def _info_fields(reply: Any) -> dict[str, str]:
    """``INFO``'s raw reply (``field:value`` lines) as a mapping."""
    text = reply.decode() if isinstance(reply, bytes) else str(reply)
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


class EmbeddedBackend(Backend):
    """FalkorDB: a server this library starts and supervises, or an external one."""

    dialect: ClassVar[Dialect] = "falkordb"

    def __init__(
        self,
        mode: Mode,
        *,
        path: Path | None = None,
        url: str | None = None,
        settings: EmbeddedSettings | None = None,
        watch: ServerProcess | None = None,
    ) -> None:
        """``watch``: for an external connection to a server of ours (a staged graph's), that
        server, watched for hangs while a reply is awaited (never restarted from here)."""
        self.mode = mode
        if settings is None:
            from . import settings_of  # the package imports this module: not at import time

            settings = settings_of(EmbeddedSettings, "embedded engine")
        self.settings = settings
        self._lock = threading.RLock()
        self._server: ServerProcess | None = None
        #: Merges FalkorDB's pending edge changes now and then (servers this store owns only:
        #: it briefly changes a server setting).
        self._settler = Settler() if mode != "external" else None
        self._schema: SchemaSpec | None = None
        #: Property keys this object registered on its graph (ensure_property_keys); cleared
        #: when the graph is dropped or the server restarted.
        self._keys: set[str] = set()
        self._closed = False
        #: What garbage collection does to this store left unclosed (stop its memory server,
        #: or note its directory for exit); detached by close(), which did it already.
        self._dropped: weakref.finalize[Any, Any] | None = None
        #: The pid of a server of ours found hung (it answered nothing for hang_after_s).
        self._hung_pid: int | None = None
        #: Why the last server this object restarted had died, when it can be told (a file
        #: size limit): said in the error of the call it died under.
        self._death_cause: str | None = None
        #: A connection whose command was sent and then interrupted (Ctrl-C) before its reply
        #: was read, with its pool: the next command waits for that reply first
        #: (:meth:`_await_owed`).
        self._owed: tuple[Any, Any] | None = None
        #: The server watched while a reply is awaited: ours, or the one ``watch`` names.
        self._watched: ServerProcess | None = watch
        #: Connections made anew by _recover (a restarted server, or one restarted elsewhere).
        self._reconnects = 0
        #: ensure_schema is running (then _recover leaves the schema to it).
        self._making_schema = False
        self._url = url
        #: ``TIMEOUT <ms>`` sent with every query when the server's default is not this store's
        #: (a directory's server started by another opener): see _query_timeout_args.
        self._timeout_args: tuple[str, ...] = ()
        #: Names this store's connections (CLIENT LIST tells stores by it). Unique in the process
        #: by a serial number: ``id(self)`` came back for a new store once an old one was
        #: collected, whose connection, not yet closed, then passed for the new store's own.
        self._serial = next(_SERIALS)
        self._client_name = f"lineage-graph-{os.getpid()}-{self._serial}"
        _ALL.add(self)
        if mode == "external":
            if not url:
                raise ConfigurationError("an external FalkorDB store needs a redis:// URL")
            try:
                self._connect_external(url)
            except LineageGraphError:
                raise
            except Exception as exc:  # the client connects (and may fail) in its constructor
                raise _map_error(self._no_reply(exc), "") from exc
        else:
            self._server = ServerProcess(path if mode == "directory" else None, self.settings)
            self._watched = self._server
            try:
                self._start_and_connect()
            except BaseException as exc:
                # Interrupted (Ctrl-C) once connected: the store was neither open (closed at
                # exit) nor dropped, and the server it had started (or found, its other client
                # gone since) ran on after the process had exited. Closed as a store is.
                if not isinstance(exc, Exception) and getattr(self, "_db", None) is not None:
                    self.close()
                raise
            _OPEN.add(self)
            _closed_at_worker_exit()
            # Garbage-collected unclosed (MLMD code never closes its MetadataStore): a memory
            # store stops its server at once (nothing else reaches its data); a directory
            # store's server is stopped at exit. At exit, _close_open_stores closes the stores
            # still open, as before.
            # A store closed is neither: close() detaches it (a directory store closed, then
            # collected, was noted as dropped, and the exit reconnected to whatever server ran
            # on its directory then, to stop it).
            if mode == "memory":
                self._dropped = weakref.finalize(
                    self, _stop_orphaned_server, self._server, os.getpid(), self._client_name
                )
            else:
                assert self._server.data_dir is not None
                self._dropped = weakref.finalize(
                    self, _note_dropped, self._server, self.settings, os.getpid()
                )
            self._dropped.atexit = False

    # --------------------------------------------------------------------------- connections

    def _start_and_connect(self) -> None:
        """Find the server running (a directory's) or start it, and connect to it."""
        import redis

        assert self._server is not None
        mode = self.mode
        failed: redis.exceptions.RedisError | None = None
        with self._server.locked():
            started = not self._server.find_running()
            if started:
                self._server.start()
            try:
                self._connect_socket()
            except redis.exceptions.RedisError as exc:
                failed = exc
            except BaseException:
                # Interrupted (Ctrl-C) or failed before a connection was made (the client's
                # import, its handshake): the server started for this store is no one's. A
                # memory store's died with the process and left its socket folder behind; a
                # directory's ran on, unused. Stopped here, under the lock (once connected, the
                # store is closed instead: __init__).
                if started and getattr(self, "_db", None) is None:
                    with _interrupt_held():
                        self._server.abandon()
                raise
        # The server found went away, or hangs (no reply to the connection's handshake for
        # hang_after_s): recovered as after a failed command, outside the lock (_recover
        # takes it). Every open failed with redis's bare TimeoutError, and none ever
        # restarted a hung server when no query was running.
        if failed is not None and (
            not isinstance(failed, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)
            or not self._recover(failed, self._reconnects)
        ):
            raise _map_error(failed, "connect", self._server) from failed
        if mode == "directory" and self._server.aof_tail_bytes() >= COMPACT_TAIL_BYTES:
            self._rewrite_aof()

    def _connect_socket(self) -> None:
        from falkordb import FalkorDB

        assert self._server is not None and self._server.socket_path is not None
        self._db = FalkorDB(
            unix_socket_path=str(self._server.socket_path),
            socket_timeout=self._client_timeout(),
            socket_connect_timeout=10,
            client_name=self._client_name,
        )
        self._graph = self._db.select_graph(self.settings.graph)
        if self.mode == "directory" and self.settings.fsync == "always":
            # The server may have been started by a process that asked for ``everysec``: this
            # store's writes must still be on disk when its calls return (the stronger wins;
            # the setting was silently the starter's, and describe() said ``always``).
            connection = self._db.connection
            if connection.config_get("appendfsync").get("appendfsync") != "always":
                connection.config_set("appendfsync", "always")
        if self.mode == "directory":
            self._timeout_args = self._query_timeout_args()

    def _query_timeout_args(self) -> tuple[str, ...]:
        """This store's ``query_timeout_ms`` on a server another opener of the directory started
        with its own: the server's default was silently this store's limit (a store opened
        with a longer timeout, as docs/reliability.md advises for a long migration, still
        had its statements stopped at the other's 120 s; one asking for 5 s ran for 120 s).
        Sent as each query's ``TIMEOUT`` then; the server's maximum is raised to this store's
        when that is larger (0: none), which changes no query that does not ask for more."""
        ours, our_max = self.settings.query_timeout_ms, self.settings.query_timeout_max_ms

        def config(name: str) -> int:
            reply = self._execute("GRAPH.CONFIG", "GET", name)
            return int(reply[1])

        if config("TIMEOUT_DEFAULT") == ours:
            return ()
        wanted = ours or our_max or 2**31 - 1  # 0 ("none") is the server's default per query
        server_max = config("TIMEOUT_MAX")
        if server_max and (our_max == 0 or our_max > server_max):
            self._execute("GRAPH.CONFIG", "SET", "TIMEOUT_MAX", our_max)
        return ("TIMEOUT", str(wanted))

    def _renamed_after_fork(self) -> None:
        """In a forked child: the connections the client makes from now on (redis-py opens new
        ones in a new process) are named with the child's pid (_after_fork_in_child). Its lock
        is new: a thread of the parent that held it across the fork (a query running) does not
        exist in the child, which waited for it for ever at its first call (10 of 10 forks made
        while a background thread wrote)."""
        self._lock = threading.RLock()
        self._owed = None  # the parent's connection: its reply is the parent's to read
        self._client_name = f"lineage-graph-{os.getpid()}-{self._serial}"
        if self._server is not None:
            self._server.after_fork_in_child()
        db = getattr(self, "_db", None)
        if db is not None:
            db.connection.connection_pool.connection_kwargs["client_name"] = self._client_name

    def _no_reply(self, exc: BaseException) -> BaseException:
        """``exc`` said as :data:`_NO_REPLY_EXTERNAL` for :func:`_map_error` when it is redis's
        ``TimeoutError`` of a reply (a command's, or a new connection's handshake) awaited in
        vain from an external server (one not watched: its socket timeout is
        ``socket_timeout_s``); else ``exc`` itself (no connection made, within
        ``socket_connect_timeout``, is a server out of reach)."""
        import redis

        if (
            self._watched is not None
            or not isinstance(exc, redis.exceptions.TimeoutError)
            or str(exc).startswith("Timeout connecting")
        ):
            return exc
        timeout = self.settings.socket_timeout_s
        return redis.exceptions.TimeoutError(f"{_NO_REPLY_EXTERNAL} {timeout:g} s")

    def _client_timeout(self) -> float:
        """The client's socket timeout. On a watched server it bounds what is not a command's
        reply (a connection's handshake, the client's own INFO) by ``hang_after_s``; replies
        are awaited up to ``socket_timeout_s`` by :meth:`_await_reply`, which sets each wait's."""
        if self._watched is None:
            return self.settings.socket_timeout_s
        return min(self.settings.socket_timeout_s, self.settings.hang_after_s)

    def _connect_external(self, url: str) -> None:
        from falkordb import FalkorDB

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
        # The password: in the URL (redis://user:password@host, unix://:password@/path.sock),
        # else the password setting. A server on a unix socket may ask for one too: the setting
        # and the URL's were ignored there, so such a server refused every opening.
        password = unquote(parsed.password) if parsed.password else None
        if password is None and self.settings.password is not None:
            password = self.settings.password.get_secret_value()
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
            self._db = FalkorDB(
                unix_socket_path=socket_path,
                username=username,
                password=password,
                socket_timeout=self._client_timeout(),
                socket_connect_timeout=10,
                client_name=self._client_name,
            )
            self._graph = self._db.select_graph(self.settings.graph)
            self._ping()
            return
        if parsed.scheme not in ("redis", "rediss", "falkor", "falkordb", "falkors"):
            raise ConfigurationError(f"unsupported FalkorDB URL scheme {parsed.scheme!r}")
        if port == 0:  # taken for 'no port': the server on 6379 was opened instead
            raise ConfigurationError("a FalkorDB URL's port is 1 to 65535, not 0")
        self._db = FalkorDB(
            host=parsed.hostname or "localhost",
            port=port or 6379,
            username=username,
            password=password,
            ssl=parsed.scheme in ("rediss", "falkors"),
            socket_timeout=self.settings.socket_timeout_s,
            socket_connect_timeout=10,
        )
        graph = url_graph_name(parsed.path.lstrip("/")) or self.settings.graph
        if "\x00" in graph:  # FalkorDB cuts the name there: another graph would be emptied
            raise ConfigurationError("a graph name must not contain a NUL character")
        self._graph = self._db.select_graph(graph)
        self._ping()

    def _ping(self) -> None:
        try:
            self._db.connection.ping()
        except Exception as exc:
            raise _map_error(self._no_reply(exc), "") from exc

    def _rewrite_aof(self) -> None:
        """Compact the AOF (RDB preamble) so the next start-up replays linearly (DESIGN.md §3)."""
        import redis

        # Best effort: a dead server is noticed (and restarted) by the next query instead.
        with contextlib.suppress(redis.exceptions.RedisError):
            self._execute("BGREWRITEAOF")

    def _rewrite_aof_and_wait(self, timeout_s: float = 120.0) -> None:
        """Before the last client shuts the server down: compact the AOF (an RDB preamble and an
        empty tail), so the next start loads a snapshot instead of replaying every write (the
        server loads the AOF, never the dump SHUTDOWN SAVE writes; measured: 246 s to replay a
        33k-node store's AOF against 0.45 s after a rewrite). Best effort."""
        import redis

        deadline = time.monotonic() + timeout_s

        def settled() -> bool:  # no rewrite running or scheduled (or the time is up)
            while time.monotonic() < deadline:
                info = _info_fields(self._execute("INFO", "persistence"))
                if info.get("aof_rewrite_in_progress") == info.get("aof_rewrite_scheduled") == "0":
                    return True
                time.sleep(0.05)
            return False

        with contextlib.suppress(redis.exceptions.RedisError):
            # A rewrite already running (the one open started for a long tail) is awaited
            # first: BGREWRITEAOF refused to start another ("already in progress"), this
            # returned at once, and SHUTDOWN killed the running one (3 of 6 stores closed right
            # after opening), so the tail stayed to be replayed at the next start.
            if settled():
                self._execute("BGREWRITEAOF")
                settled()

    def drop_graph(self) -> None:
        """Delete this store's whole graph (tests, ``lineage-graph`` admin). Irreversible."""
        import redis

        with contextlib.suppress(redis.exceptions.ResponseError):
            self._execute("GRAPH.DELETE", self._graph.name)
        self._graph.schema.clear()  # the client's cache of label and key names: ids are reused
        self._keys.clear()

    def stage(self) -> Staging | None:
        """A new graph on the same server, put in place of this one's by ``RENAME`` (atomic,
        logged to the append-only file as one command). See :class:`_StagedGraph`. None when
        this graph has an index or a constraint beyond the store's schema (added by an operator,
        or left by an earlier version): a staged graph would not have it."""
        if self._closed:
            raise EngineError("the store is closed")
        watch = self._patient_client().pipeline(transaction=True)
        with _undone_on_error(lambda: _drop_pipeline(watch), "stage a graph"):
            watch.watch(self._graph.name)  # first: what is read below cannot change unseen
            spec = self._schema
            if spec is None:
                _drop_pipeline(watch)
                return None
            indexes = {(i.label, p) for i in spec.indexes for p in i.properties}
            constraints = {
                (i.label, i.properties)
                for i in spec.indexes
                if i.unique and not i.checked_by_writes
            }
            if self._existing_indexes() - indexes or self._existing_constraints() - constraints:
                _drop_pipeline(watch)
                return None
            return _StagedGraph(self, watch)

    def _patient_client(self) -> Any:
        """A client with a pool of its own (closed with its pipeline, :func:`_drop_pipeline`),
        whose replies are awaited up to ``socket_timeout_s``: a staged graph's ``WATCH``
        connection. Its ``EXEC`` must not time out while another client's write holds the
        server, as the store's client would after ``hang_after_s`` on a watched server."""
        import redis

        pool = self._db.connection.connection_pool
        kwargs = {**pool.connection_kwargs, "socket_timeout": self.settings.socket_timeout_s}
        return redis.Redis(
            connection_pool=type(pool)(connection_class=pool.connection_class, **kwargs)
        )

    def _sibling_url(self) -> str:
        """A URL reaching this backend's server: the staged graph's backend connects by it."""
        if self._server is not None:
            assert self._server.socket_path is not None
            return f"unix://{quote(os.fsencode(self._server.socket_path))}"
        assert self._url is not None
        parsed = urlparse(self._url)
        if parsed.scheme == "unix":  # the path is the socket's; the graph comes from settings
            return self._url
        return urlunparse(parsed._replace(path=""))  # no graph in the path: from settings

    def compact(self) -> None:
        """Rewrite the append-only file now: call after a bulk load (no-op in memory)."""
        if self.mode == "directory":
            self._rewrite_aof()

    # ----------------------------------------------------------------------------- supervision

    def _execute(self, *args: Any) -> Any:
        """Send one command on the store's connection and return its reply (an error reply is
        raised as redis's ``ResponseError``). A server of ours is watched while its reply is
        awaited (:meth:`_await_reply`); an external one is waited for up to the socket timeout.

        A command interrupted once sent (Ctrl-C while its reply is awaited) still runs on the
        server: its connection is kept aside, and the next command is sent once that reply came
        (:meth:`_await_owed`). Sent at once on another connection, the next command raced it:
        FalkorDB does not run two connections' writes in the order they came, so a run's
        failure record (written only while the execution is RUNNING) landed before the
        interrupted completion (the run said CANCELED, the store COMPLETE), or passed its
        check as the completion was being applied (CANCELED, holding the outputs).
        Any other failure drops the connection: a reply may still come, and must never answer
        the next command. An external server's commands went through redis-py's
        ``execute_command``, which returned the connection to its pool as it was when Ctrl-C
        landed between the send and the read: every later reply on it was the previous
        command's (a run's failure record read a write's reply, ``KeyError('node')``, and the
        run stayed RUNNING while its completion was stored); and it sent a command again after
        a timeout, a write that may have been applied (:meth:`_run` decides what to retry)."""
        import redis

        client = self._db.connection
        watched = self._watched
        if watched is not None and self._hung_pid is not None and self._hung_pid == watched.pid:
            # Found hung by a step that did not act on it (best effort): no second wait for
            # it, unless it answers again (a stall: a debugger, a frozen container).
            if not watched.answers():
                raise redis.exceptions.TimeoutError("the server was found hung")
            self._hung_pid = None
        self._await_owed()
        pool = client.connection_pool
        try:
            conn = pool.get_connection()
        except redis.exceptions.TimeoutError as exc:  # no reply to the handshake
            raise self._no_reply(exc) from exc
        sent = False
        try:
            # A Ctrl-C landing as the command's last bytes left (redis-py's send then drops the
            # connection) was taken for one before the send: the command ran on, and the next
            # one went at once on a new connection, racing it (a run CANCELED over a COMPLETE
            # execution, seen once in a loaded test run). Held until the send has ended, it
            # lands once the command is known sent: its reply is then awaited as above. Not
            # for a read-only query, which races nothing (holding costs ~10 us, a read ~80).
            with contextlib.nullcontext() if args[0] == _READ_ONLY else _interrupt_held():
                conn.send_command(*args)
                sent = True
            if watched is None:
                try:
                    return conn.read_response(disconnect_on_error=False)
                except redis.exceptions.TimeoutError as exc:  # an external server's
                    raise self._no_reply(exc) from exc
            return self._await_reply(conn, watched)
        except redis.exceptions.ResponseError:
            raise  # the whole reply was read: the connection is in step
        except BaseException as exc:
            if sent and not isinstance(exc, Exception) and conn.is_connected:
                self._owed = (conn, pool)  # (Ctrl-C: the command runs on; wait for it)
                conn = None
            else:
                conn.disconnect()  # a reply may still come: it must never answer the next one
            raise
        finally:
            if conn is not None:
                pool.release(conn)

    def _await_owed(self) -> None:
        """Wait until the command whose wait was interrupted (:meth:`_execute`) has ended
        before another is sent. A PING carrying a token is sent on its connection, which the
        server answers once that command has ended (a client's commands run in order), and the
        connection's bytes are read up to the token's reply, as they come off the socket: what
        came before is the interrupted command's reply, or its rest. Then the connection's
        parser starts afresh and the connection goes back to the pool, in step.

        Not through the parser: Ctrl-C can land inside redis-py's read, between a ``recv`` and
        the feeding of its bytes to the parser (a reply longer than one read, 64 KiB), and those
        bytes were lost. The parser then took the reply's rest (and the token's) for part of an
        unfinished reply and waited for bytes that never came: the next command, or the close
        that decides whether to stop the server, waited out ``socket_timeout_s`` (11 min),
        holding the directory's lock, the server idle (an impact mark of 20,000 artifacts
        interrupted by Ctrl-C, seen once). A lost connection, a timeout or a hung server end the
        wait and drop the connection; interrupted again, the next command waits again."""
        import redis

        if self._owed is None:
            return
        conn, pool = self._owed
        token = f"lineage-graph-awaited-{os.getpid()}-{next(_SERIALS)}"
        in_step = False
        try:
            # ECHO, not PING: a server that cannot write its log (fsync="everysec" on a full
            # disk) refuses PING ("MISCONF"), and the token never came: waited for up to
            # socket_timeout_s, then the connection dropped.
            conn.send_command("ECHO", token)
            read = _reader_to(conn, f"${len(token)}\r\n{token}\r\n".encode())
            if self._watched is None:
                read(conn.socket_timeout)
            else:
                self._supervised(read, self._watched)
            conn._parser.on_connect(conn)  # what it held was the interrupted reply's
            in_step = True
        except (redis.exceptions.RedisError, OSError, ValueError, AttributeError):
            pass
        self._owed = None
        if not in_step:
            conn.disconnect()
        pool.release(conn)

    def _await_reply(self, conn: Any, server: ServerProcess) -> Any:
        """The reply on ``conn``, awaited up to ``socket_timeout_s`` (:meth:`_supervised`).
        Not disconnected on a timeout: the reader keeps what part of the reply came."""
        return self._supervised(
            lambda timeout: conn.read_response(timeout=timeout, disconnect_on_error=False),
            server,
        )

    def _supervised(self, read: Callable[[float], Any], server: ServerProcess) -> Any:
        """``read(timeout)``, which raises redis's ``TimeoutError`` when nothing came within
        ``timeout``, called in slices up to ``socket_timeout_s``. After an empty
        slice: a server that used CPU time or waited on the disk since the last one is working
        (a write holds its main thread, which answers no PING, until it ends: 5.6 s for one
        statement making 3M nodes and edges); one that answers a PING on a fresh connection is
        alive. One that has done neither for ``hang_after_s`` is hung (seen after a fork: every
        thread asleep on a lock), and the wait ends with redis's ``TimeoutError``, which
        :meth:`_recover` answers by killing and restarting it."""
        import redis

        settings = self.settings
        deadline = time.monotonic() + settings.socket_timeout_s
        probe = min(PROBE_EVERY_S, settings.hang_after_s / 4)
        silent_since: float | None = None
        activity: tuple[int, bool] | None = None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise redis.exceptions.TimeoutError(f"{_NO_REPLY} {settings.socket_timeout_s:g} s")
            try:
                return read(min(probe, left))
            except redis.exceptions.TimeoutError:
                pass
            now = time.monotonic()
            busy, activity = working(activity, server.activity())
            if busy or server.answers():
                silent_since = None
            elif silent_since is None:
                silent_since = now
            elif now - silent_since >= settings.hang_after_s:
                self._hung_pid = server.pid
                raise redis.exceptions.TimeoutError(
                    f"the server answered nothing (no reply, no PING) and did nothing for "
                    f"{settings.hang_after_s:g} s: hung"
                )

    def _recover(self, exc: BaseException, seen: int) -> bool:
        """After a connection failure: restart our server if it died or hung, or reconnect to
        one another process restarted. True if the connection is new (and maybe the server).
        ``seen``: ``_reconnects`` when the failed command was sent. One thread at a time (the
        store's lock): a thread that failed meanwhile finds the reconnection made."""
        import redis

        with self._lock:
            if self._reconnects != seen:
                return True  # another thread reconnected since this one's command was sent
            try:
                return self._recover_locked(exc)
            except redis.exceptions.RedisError as error:  # the new connection's own handshake
                raise _map_error(error, "reconnect", self._server) from error

    def _recover_locked(self, exc: BaseException) -> bool:
        import redis

        server = self._server
        if server is None or self._closed:
            return False  # a closed store (e.g. closed at exit under a running query) stays so
        if server.alive():
            # A server that answers a PING on a fresh connection is alive (merely slow), and so
            # is one at work (CPU time, disk): neither is replaced. A crashing server drops its
            # connections, writes its crash report, then exits: give it time to go, then
            # restart it. A server that neither replied nor answers a PING, and does nothing,
            # is hung (a deadlock after a fork, docs/reliability.md): kill it and restart.
            if server.answers():
                self._hung_pid = None  # a stall, not a hang: it answers again
                return False
            if isinstance(exc, redis.exceptions.ConnectionError) and server.refuses_as_full():
                return False  # full (at its most clients): it runs on; _map_error says so
            if isinstance(exc, redis.exceptions.TimeoutError):
                if not self._found_hung():
                    before = server.activity()
                    time.sleep(0.5)
                    if working(before, server.activity())[0]:
                        return False
                server.kill()
            else:
                server.wait_exit(10)
                if server.alive():
                    return False
        with server.locked():
            self._death_cause = None
            if not server.find_running():
                self._death_cause = server.size_limit_death()
                server.clear_state()
                server.cleanup()
                server.start()
                server.restarts += 1
            self._connect_socket()
        self._reconnects += 1
        self._keys.clear()  # a restarted server may have lost them (memory mode)
        if self._schema is not None and self.mode == "memory" and not self._making_schema:
            self.ensure_schema(self._schema)
        return True

    def _run(
        self,
        query: str,
        params: Mapping[str, Any] | None,
        name: str,
        *,
        write: bool,
        settles: bool = True,
    ) -> list[Row]:
        """``settles``: whether the edges the write creates count towards the next merge of
        pending edge changes (the Settler's; not those a statement deletes at once)."""
        import redis

        from ._resp import params_header, read_reply

        if self._closed:
            raise EngineError("the store is closed")
        text = params_header(params or {}) + query
        _check_size(text)
        _check_unicode(text)
        # A read is retried once on a restarted server when the data survived (directory mode);
        # in memory mode the restart lost everything, which the caller must hear about.
        attempts = 1 if write or self.mode == "memory" else 2
        recording = bool(self._recording)  # read once: another thread may start recording
        started = time.perf_counter() if recording else 0.0
        for attempt in range(attempts):
            seen = self._reconnects
            try:
                command = "GRAPH.QUERY" if write else _READ_ONLY
                with self._lock:
                    if self._closed:  # closed by another thread while this one waited
                        raise EngineError("the store is closed")
                    reply = self._execute(
                        command, self._graph.name, text, "--compact", *self._timeout_args
                    )
                rows = read_reply(reply, self._graph)
                if recording:  # a retried read: its time and both requests
                    self._recorded(
                        Statement(
                            name,
                            write,
                            time.perf_counter() - started,
                            _engine_seconds(reply[-1] if reply else []),
                            round_trips=attempt + 1,
                        )
                    )
                settler = self._settler if write and settles else None
                if settler is not None and reply and settler.wrote(reply[-1]):
                    self._settle()
                return rows
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                try:
                    restarted = self._recover(exc, seen)
                except LineageGraphError as failed:
                    # The server died under the query and could not be started again (killed
                    # again as it started; on a full disk it exits as it starts; no directory
                    # for its socket, ConfigurationError: the temporary directory full or
                    # removed). The query may have been applied before it died: in doubt, as
                    # when the restart works (raising any other error let the write give its new
                    # ids back, and the next write stored another node under the id of the one
                    # applied). Retry once the cause is gone.
                    raise EngineUnavailableError(
                        f"the embedded FalkorDB server died during query {name!r} and could "
                        f"not be restarted; retry the call when the cause is gone: {failed}"
                    ) from exc
                if restarted and attempt + 1 < attempts:
                    continue  # a read is safe to retry on the restarted server
                mapped = _map_error(exc, name, self._server)
                if restarted:
                    lost = " (in-memory data was lost)" if self.mode == "memory" else ""
                    cause = self._death_cause
                    mapped = EngineUnavailableError(
                        f"the embedded FalkorDB server died during query {name!r} and was "
                        f"restarted{lost}; " + (f"{cause}" if cause else "retry the call")
                    )
                raise mapped from exc
            except redis.exceptions.RedisError as exc:
                raise _map_error(exc, name) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _settle(self) -> None:
        """Merge FalkorDB's pending edge changes now (``_settle.py``: a statement that creates
        nodes and edges pays for every pending one). Only speed depends on it, and the write it
        follows has succeeded: a failure is left to the next query to report. A server that
        does not answer is not asked again to restore the setting (the next merge repairs it)."""
        import redis

        assert self._settler is not None
        try:
            with self._lock:
                if self._closed:
                    return
                started = time.perf_counter()
                run = self._execute
                _, value = run("GRAPH.CONFIG", "GET", "DELTA_MAX_PENDING_CHANGES")
                limit = int(value) if int(value) > 1 else DEFAULT_PENDING  # 1: left by a crash
                run("GRAPH.CONFIG", "SET", "DELTA_MAX_PENDING_CHANGES", 1)
                try:
                    run("GRAPH.RO_QUERY", self._graph.name, SETTLE_QUERY, "--compact")
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                    raise
                except redis.exceptions.RedisError:
                    pass  # e.g. the graph key does not exist yet: restore all the same
                run("GRAPH.CONFIG", "SET", "DELTA_MAX_PENDING_CHANGES", limit)
                elapsed = time.perf_counter() - started
        except (redis.exceptions.RedisError, ValueError, TypeError):
            return
        self._settler.merged(elapsed)
        if self._recording:
            self._recorded(Statement("settle pending edges", False, elapsed, None, round_trips=4))

    def ensure_property_keys(self, keys: Iterable[str], *, fixed: bool = False) -> None:
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
        missing = {key for key in keys if key not in self._keys}
        if missing:  # the graph may know them already: then nothing is written (a read)
            self._keys.update(str(row["key"]) for row in self.read(KNOWN_KEYS, name="keys"))
            missing -= self._keys
        if missing:
            # The data's keys stop short of the limit: the library's own (``fixed``, a store's
            # schema) may use the reserve, so an upgrade that adds one still opens a full store.
            most = MOST_PROPERTY_KEYS if fixed else MOST_PROPERTY_KEYS - LIBRARY_KEYS_RESERVE
            if len(self._keys) + len(missing) > most:
                raise _too_many_keys(len(self._keys), len(missing), most)
            try:
                self._run(
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
                raise _too_many_keys(len(self._keys), len(missing), most) from exc
            self._keys.update(missing)

    def read(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        name: str = "",
        primary: bool = False,  # one server: every read is of the primary
    ) -> list[Row]:
        try:
            return self._run(query, params, name, write=False)
        except QueryError as exc:
            if "empty key" in str(exc):  # the graph has never been written to
                return []
            raise

    def write(
        self, query: str, params: Mapping[str, Any] | None = None, *, name: str = ""
    ) -> list[Row]:
        return self._run(query, params, name, write=True)

    # --------------------------------------------------------------------------------- schema

    def ensure_schema(self, spec: SchemaSpec) -> None:
        """Create what ``spec`` names and the graph lacks. Every step is idempotent, so a server
        that died or hung meanwhile is restarted and the whole of it run once more."""
        import redis

        self._schema = spec
        outer, self._making_schema = self._making_schema, True
        try:
            for attempt in (1, 2):
                reconnects = self._reconnects
                try:
                    self._ensure_schema(spec)
                    return
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                    if attempt == 2 or not self._recover(exc, reconnects):
                        raise _map_error(exc, "schema", self._server) from exc
                except EngineUnavailableError:  # a statement's own recovery reconnected
                    if attempt == 2 or self._reconnects == reconnects:
                        raise
        finally:
            self._making_schema = outer

    def _ensure_schema(self, spec: SchemaSpec) -> None:
        import redis

        existing = self._existing_indexes()
        created: set[str] = set()
        for index in spec.indexes:
            for prop in index.properties:
                if (index.label, prop) in existing:
                    continue
                try:
                    # Labels and keys cannot be parameters: IndexSpec checked them as identifiers.
                    self._execute(
                        "GRAPH.QUERY",
                        self._graph.name,
                        f"CREATE INDEX FOR (e:{index.label}) ON (e.{prop})",
                    )
                    created.add(index.label)
                except redis.exceptions.ResponseError as exc:
                    if "already indexed" not in str(exc):
                        raise _map_error(exc, "schema") from exc
                existing.add((index.label, prop))
        if created:
            self._await_indexes(created)
        constraints = self._existing_constraints()
        for index in spec.indexes:
            if index.unique and index.checked_by_writes:
                # graph/write checks it (writes run one at a time here); a store made by an
                # earlier version has the constraint, which only slows every write down. It is
                # dropped only when no other client is connected: a process of that earlier
                # version may be one, and its writes rely on the constraint.
                if (index.label, index.properties) in constraints and self._alone():
                    self._drop_unique_constraint(index)
                continue
            if not index.unique or (index.label, index.properties) in constraints:
                continue
            try:
                self._execute(
                    "GRAPH.CONSTRAINT", "CREATE", self._graph.name, "UNIQUE", "NODE", index.label,
                    "PROPERTIES", len(index.properties), *index.properties,
                )  # fmt: skip
            except redis.exceptions.ResponseError as exc:
                if "already exists" not in str(exc).lower():
                    raise _map_error(exc, "schema") from exc
        self._await_constraints()
        self.ensure_property_keys(spec.property_keys, fixed=True)
        self._ensure_relationship_types()

    def _ensure_relationship_types(self) -> None:
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
        known = {str(row["type"]) for row in self.read(KNOWN_RELATIONSHIP_TYPES, name="types")}
        if not known.issuperset(RELATIONSHIP_TYPES):
            self._run(
                REGISTER_RELATIONSHIP_TYPES,
                None,
                "register relationship types",
                write=True,
                settles=False,  # its edges are deleted as they are made: nothing pending
            )

    def _alone(self) -> bool:
        """No other store is connected to the server (in this process or another). Stores name
        their connections ``lineage-graph-*``; an unnamed one is not a store's: a PING probe
        that timed out on a busy server is accepted, and dropped, only once the statement ends,
        and counting it left the server running for ever after the last store closed (1 close
        in 3 after a statement longer than the 5 s reply slice)."""
        ours = f"lineage-graph-{os.getpid()}-"
        for name in _store_clients(self._execute("CLIENT", "LIST")):
            if _EXITING and name.startswith(ours):
                continue  # this process's, closed or dropped: it exits
            if name != self._client_name:
                return False
        return True

    def _drop_connections_left_here(self) -> None:
        """As this process exits, while it holds the data directory's lock: close the
        connections that stores of this process left open (dropped unclosed, the collector has
        not closed their sockets yet). :meth:`_alone` counts them as gone; left open until the
        process had ended, after it released the lock, they made another process that closed
        meanwhile take them for a live client, and the last of several workers exiting at once
        left the server running for good (spawn Pool of 4 dropping MLMD MetadataStores: 1 of 1)."""
        ours = f"lineage-graph-{os.getpid()}-"
        for name, ident in _store_connections(self._execute("CLIENT", "LIST")):
            if name.startswith(ours) and name != self._client_name and ident:
                with contextlib.suppress(Exception):
                    self._execute("CLIENT", "KILL", "ID", ident)

    def _drop_unique_constraint(self, index: IndexSpec) -> None:
        import redis

        try:
            self._execute(
                "GRAPH.CONSTRAINT", "DROP", self._graph.name, "UNIQUE", "NODE", index.label,
                "PROPERTIES", len(index.properties), *index.properties,
            )  # fmt: skip
        except redis.exceptions.ResponseError as exc:
            raise _map_error(exc, "schema") from exc

    def _existing_indexes(self) -> set[tuple[str, str]]:
        rows = self.read("CALL db.indexes() YIELD label, properties RETURN label, properties")
        return {(r["label"], p) for r in rows for p in r["properties"]}

    def _existing_constraints(self) -> set[tuple[str, tuple[str, ...]]]:
        rows = self.read(
            "CALL db.constraints() YIELD type, label, properties, status "
            "RETURN type, label, properties, status"
        )
        return {(r["label"], tuple(r["properties"])) for r in rows if r["type"] == "UNIQUE"}

    def _await_indexes(self, labels: set[str], timeout: float = 300.0) -> None:
        """Indexes are built in the background (a store made by an earlier version gets the
        new ones when it opens; FalkorDB rebuilds a label's one index, 2.5 s for 200k nodes):
        wait until the ``labels`` given report OPERATIONAL, as Neo4j's backend waits for its
        own. Queries are right meanwhile too, only slower (no window bound relies on the index,
        see mlmd/_listing.py); a build that outlasts ``timeout`` is left running, with a
        warning."""
        deadline = time.monotonic() + timeout
        pause = 0.01
        while True:
            rows = self.read("CALL db.indexes() YIELD label, status RETURN label, status")
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

    def _await_constraints(self, timeout: float = 60.0) -> None:
        """Unique constraints are built asynchronously: wait until none is PENDING."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.read(
                "CALL db.constraints() YIELD label, properties, status "
                "RETURN label, properties, status"
            )
            failed = [r for r in rows if r["status"] == "FAILED"]
            if failed:
                raise EngineError(
                    f"a uniqueness constraint could not be built (duplicates?): {failed}"
                )
            if all(r["status"] == "OPERATIONAL" for r in rows) or time.monotonic() > deadline:
                return
            time.sleep(0.01)

    # -------------------------------------------------------------------------------- admin

    @property
    def server(self) -> ServerProcess | None:
        """The managed server (None for an external one). Tests use it to kill the server."""
        return self._server

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"engine": "falkordb", "mode": self.mode, "graph": self._graph.name}
        try:
            server = self._db.connection.info("server")
            info["redis_version"] = server.get("redis_version")
            modules = self._db.connection.execute_command("MODULE", "LIST")
            for module in modules:
                fields = dict(zip(module[::2], module[1::2], strict=False))
                name = fields.get(b"name", fields.get("name"))
                if name in (b"graph", "graph"):
                    info["falkordb_version"] = fields.get(b"ver", fields.get("ver"))
        except Exception as exc:  # describe is best effort: report, don't fail
            info["error"] = str(exc)
        if self._server is not None:
            # Where the store is now (a directory moved while it is open is followed), or why
            # it is nowhere: the place it opened at was said until a close.
            if (gone := self._server.follow()) is not None:
                info["data_dir_gone"] = gone
            info["data_dir"] = str(self._server.data_dir) if self._server.data_dir else None
            info["socket"] = str(self._server.socket_path)
            info["pid"] = self._server.pid
            info["fsync"] = None
            if self.mode == "directory":  # the server's: the stronger of its openers' settings
                try:
                    info["fsync"] = self._db.connection.config_get("appendfsync")["appendfsync"]
                except Exception as exc:
                    info["error"] = str(exc)
        else:
            parsed = urlparse(self._url or "")
            info["host"] = (
                url_file_path(parsed.path)
                if parsed.scheme == "unix"
                else f"{parsed.hostname}:{parsed.port or 6379}"
            )
        return info

    def close(self) -> None:
        """Disconnect; shut the server down (``SHUTDOWN SAVE``) if no other client uses it.
        A query running in another thread finishes first (the connection's lock)."""
        with self._lock, _interrupt_held():
            self._close()

    def _found_hung(self) -> bool:
        # a server of another pid namespace has no pid here (None): None == None took it for
        # found hung, and the last close left it running, unrecorded, on the store's files
        return (
            self._watched is not None
            and self._hung_pid is not None
            and self._hung_pid == self._watched.pid
        )

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._dropped is not None:
            self._dropped.detach()
        server = self._server
        if server is None:
            with contextlib.suppress(Exception):
                self._db.connection.close()
            return
        try:
            self._close_locked(server)
        except _LockTimeout:
            # Another process holds the directory's lock for good (stopped or stuck while it
            # starts or stops the server): this store's connection goes; the server is left to
            # that process or the next opener (the close waited for ever).
            with contextlib.suppress(Exception):
                self._db.connection.close()
        except _DirectoryGone:
            # The directory was moved with its server gone (nothing to stop), or removed (or
            # left where no path reaches it) with the server running on in it: the last store
            # stops that one (no lock, no record left to go by; no opener can reach it again).
            # Under the directory's own lock (its lock file is out of reach): the store's
            # connection is closed before another process's close looks for the last store.
            # A server found hung as it was asked (stopped, deadlocked) is stopped too, given
            # HUNG_STOP_WAIT_S to exit on its SIGTERM (a stopped one resumes and flushes its
            # log), then killed: the close gives up on a hung server, as a call does.
            with server.gone_locked():
                last = False
                with contextlib.suppress(Exception):
                    last = self._alone()
                hung = not last and self._found_hung()
                if last or hung:
                    with contextlib.suppress(Exception):
                        server.kill_in_removed_directory(
                            timeout=HUNG_STOP_WAIT_S if hung else STOP_WAIT_S
                        )
                with contextlib.suppress(Exception):
                    self._db.connection.close()
            with contextlib.suppress(Exception):
                server.cleanup()

    def _close_locked(self, server: ServerProcess) -> None:
        with server.locked():
            last = True
            with contextlib.suppress(Exception):
                last = self._alone()
            if not last and _EXITING:
                with contextlib.suppress(Exception):
                    self._drop_connections_left_here()
            if last and server.alive():
                # Each step is skipped once the server is found hung (then it is killed: its
                # acknowledged writes are in the append-only file already).
                if not self._found_hung() and server.aof_tail_bytes() >= COMPACT_TAIL_BYTES:
                    self._rewrite_aof_and_wait()  # memory mode: no tail
                if not self._found_hung():
                    self._shutdown()
                    server.wait_exit()
                if server.alive():  # hung, or a server that ignores SHUTDOWN
                    server.kill()
                server.clear_state()
            with contextlib.suppress(Exception):
                self._db.connection.close()
            server.cleanup()

    def _shutdown(self) -> None:
        """Ask our server to exit: a directory's with its snapshot (``SHUTDOWN SAVE``), or
        without it when the snapshot cannot be written. On a full disk (or a ``dump.rdb`` that
        cannot be replaced) the server refuses ``SHUTDOWN SAVE`` and runs on, and the close
        waited 30 s for it to exit before killing it. The snapshot is a convenience: the
        server flushes and fsyncs its append-only log before it tries the snapshot, with or
        without SAVE, and with ``appendfsync always`` every acknowledged write was on disk
        before its reply anyway; so ``SHUTDOWN NOSAVE`` then loses nothing, and ``dump.rdb``
        stays the one an earlier close wrote. Best effort: a server that is gone or hangs is
        dealt with by the caller."""
        import redis

        mode = "NOSAVE" if self.mode == "memory" else "SAVE"
        try:
            self._execute("SHUTDOWN", mode)
        except redis.exceptions.ResponseError:
            if mode == "SAVE":  # "Errors trying to SHUTDOWN": it stays up
                with contextlib.suppress(Exception):  # it drops the connection as it exits
                    self._execute("SHUTDOWN", "NOSAVE")
        except Exception:
            pass  # the connection dropped as it exited, or it is gone or hangs


def _drop_pipeline(pipeline: Any) -> None:
    """Close a WATCH pipeline's pool, its own (best effort): a closed connection watches
    nothing, and nothing is sent (``reset`` would send ``UNWATCH``, to a hung server too)."""
    with contextlib.suppress(Exception):
        pipeline.connection_pool.disconnect()


@contextlib.contextmanager
def _undone_on_error(undo: Callable[[], None], what: str) -> Iterator[None]:
    """Run ``undo`` if the block raises anything; a redis error becomes the library's."""
    import redis

    try:
        yield
    except BaseException as exc:
        undo()
        if isinstance(exc, redis.exceptions.RedisError):
            raise _map_error(exc, what) from exc
        raise


#: A staged graph outlives the last sign of life of the load filling it by this long; then the
#: server drops it (a process that died mid-load leaves nothing for good).
STAGING_TTL_MS = 3_600_000


class _StagedGraph(Staging):
    """A graph named ``<graph>~staged~<random>`` on the backend's server.

    ``WATCH`` on the backend's graph key, on a connection of its own, from the start: FalkorDB
    signals every write to a graph key, so a write by anyone between :meth:`EmbeddedBackend.stage`
    and :meth:`publish` makes the final ``MULTI``/``EXEC`` fail and nothing changes. The staged
    key carries a time to live, renewed by :meth:`keep_alive` and removed in the same
    transaction as the ``RENAME``. Its backend reaches the same server as an external client
    (it never restarts the server: a load whose engine died fails, and is discarded).
    """

    def __init__(self, owner: EmbeddedBackend, watch: Any) -> None:
        self._owner = owner
        self._target: str = owner._graph.name
        self.name = f"{self._target}~staged~{secrets.token_hex(8)}"
        self._done = False
        self._watch = watch  # a pipeline WATCHing the target, on a connection of its own
        with _undone_on_error(self._abandon, "stage a graph"):
            # The key is made with its time to live, in one step: a crash leaves nothing for good.
            # By a statement that writes (and leaves nothing): one that only reads is not
            # logged to the append-only file, and a restart would replay PEXPIRE on no key.
            create = owner._db.connection.pipeline(transaction=True)
            create.execute_command("GRAPH.QUERY", self.name, "CREATE (x) DELETE x")
            create.pexpire(self.name, STAGING_TTL_MS)
            create.execute()
            settings = owner.settings.model_copy(update={"graph": self.name})
            self._staged = EmbeddedBackend(
                "external", url=owner._sibling_url(), settings=settings, watch=owner._server
            )
            # The owner's query timeout, not the server's default (_query_timeout_args): a load
            # into a directory whose server another opener started was cut at that one's.
            self._staged._timeout_args = owner._timeout_args
            self.backend: Backend = self._staged  # a wrapper may replace it (tests record)
        if owner._settler is not None:  # the same server: its pending edges merged the same way
            self._staged._settler = Settler()

    def _abandon(self) -> None:
        """Stop watching and delete the staged key (best effort): nothing is published."""
        self._done = True
        _drop_pipeline(self._watch)
        if self._staged._found_hung():
            return  # its time to live removes it: not waited on again
        with contextlib.suppress(Exception):
            self._owner._execute("DEL", self.name)

    def keep_alive(self) -> None:
        import redis

        try:
            self._staged._db.connection.pexpire(self.name, STAGING_TTL_MS)
            self._watch.execute_command("PING")  # its connection is idle: a server may drop it
        except redis.exceptions.RedisError as exc:
            raise _map_error(exc, "keep a staged graph") from exc

    def publish(self, verify: Callable[[Backend], None]) -> None:
        import redis

        if self._done:
            raise EngineError("the staged graph was published or discarded already")
        watch = self._watch
        try:
            watch.watch(self.name)  # an expiry or a stray write from here on fails the EXEC
            verify(self.backend)
            watch.multi()
            watch.persist(self.name)
            watch.rename(self.name, self._target)
            watch.execute()
        except redis.exceptions.WatchError as exc:
            if isinstance(exc.__context__, redis.exceptions.ConnectionError) or (
                "ConnectionError" in str(exc)
            ):  # the watching connection was lost (redis-py reports it as a WatchError)
                raise EngineUnavailableError(
                    f"the connection watching graph {self._target!r} was lost: nothing was replaced"
                ) from exc
            raise FailedPreconditionError(
                f"graph {self._target!r} was written while the staged graph was filled (or the "
                "staged graph expired): nothing was replaced"
            ) from exc
        except redis.exceptions.RedisError as exc:
            raise _map_error(exc, "publish a staged graph") from exc
        finally:
            _drop_pipeline(watch)
        self._done = True
        self._owner._keys.clear()  # the graph in place now registered its own keys
        with contextlib.suppress(Exception):
            self._staged.close()

    def discard(self) -> None:
        if self._done:
            return
        self._abandon()
        with contextlib.suppress(Exception):
            self._staged.close()
