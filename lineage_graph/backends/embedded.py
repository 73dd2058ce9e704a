"""The embedded engine: FalkorDB over RESP, in memory, on a data directory, or an external server.

Driver errors are mapped to :mod:`lineage_graph.exceptions` in :func:`_map_error` only
(``_embedded_errors.py``). :class:`EmbeddedBackend` keeps the seam's methods, the store's
state and the sending of one command (:meth:`EmbeddedBackend._execute`); its collaborators live
in private modules, each given the backend or what it needs: running a statement
(``_embedded_statements.py``), the schema (``_embedded_schema.py``), staging
(``_embedded_staging.py``), closing and the servers of stores left unclosed
(``_embedded_close.py``), the process-wide registries and fork hooks
(``_embedded_registry.py``), the watched wait for a reply and the restart of a server
(``_embedded_supervision.py``), and connecting (``_embedded_connect.py``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from .._interrupts import interrupt_held as _interrupt_held
from ..config import EmbeddedSettings
from ..exceptions import (
    ConfigurationError,
    LineageGraphError,
    QueryError,
)
from . import _embedded_close, _embedded_schema, _embedded_staging, _embedded_statements
from . import _embedded_registry as _registry
from ._base import Backend, Dialect, Row, SchemaSpec, Staging
from ._embedded_close import COMPACT_TAIL_BYTES as COMPACT_TAIL_BYTES
from ._embedded_close import _stop_orphaned_server, _store_clients
from ._embedded_connect import describe, external_database, start_and_connect
from ._embedded_errors import _NO_REPLY_EXTERNAL, _map_error
from ._embedded_registry import _closed_at_worker_exit, _note_dropped
from ._embedded_schema import LIBRARY_KEYS_RESERVE as LIBRARY_KEYS_RESERVE
from ._embedded_schema import MOST_PROPERTY_KEYS as MOST_PROPERTY_KEYS
from ._embedded_schema import REGISTER_KEYS as REGISTER_KEYS
from ._embedded_staging import STAGING_TTL_MS as STAGING_TTL_MS
from ._embedded_statements import _READ_ONLY
from ._embedded_supervision import read_past_owed, restart_or_reconnect, supervised
from ._falkordb_server import ServerProcess
from ._settle import Settler

__all__ = ["EmbeddedBackend"]

Mode = Literal["memory", "directory", "external"]


class EmbeddedBackend(Backend):
    """FalkorDB: a server this library starts and supervises, or an external one."""

    dialect: ClassVar[Dialect] = "falkordb"
    #: The client and its graph (set once connected: ``_embedded_connect.connect_socket``,
    #: :meth:`_connect_external`).
    _db: Any
    _graph: Any

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
        self._serial = next(_registry._SERIALS)
        self._client_name = f"lineage-graph-{os.getpid()}-{self._serial}"
        _registry._ALL.add(self)
        if mode == "external":
            self._open_external(url)
        else:
            self._open_managed(path)

    def _open_external(self, url: str | None) -> None:
        if not url:
            raise ConfigurationError("an external FalkorDB store needs a redis:// URL")
        try:
            self._connect_external(url)
        except LineageGraphError:
            raise
        except Exception as exc:  # the client connects (and may fail) in its constructor
            raise _map_error(self._no_reply(exc), "") from exc

    def _open_managed(self, path: Path | None) -> None:
        """Start (or find) the server of a memory or directory store and connect to it."""
        mode = self.mode
        if mode == "directory":
            _registry._start_reaper()  # (stops the servers of directory stores dropped unclosed)
        self._server = ServerProcess(path if mode == "directory" else None, self.settings)
        self._watched = self._server
        try:
            start_and_connect(self)
        except BaseException as exc:
            # Interrupted (Ctrl-C) once connected: the store was neither open (closed at
            # exit) nor dropped, and the server it had started (or found, its other client
            # gone since) ran on after the process had exited. Closed as a store is.
            if not isinstance(exc, Exception) and getattr(self, "_db", None) is not None:
                self.close()
            raise
        _registry._OPEN.add(self)
        _closed_at_worker_exit()
        # Garbage-collected unclosed (MLMD code never closes its MetadataStore): a memory
        # store stops its server at once (nothing else reaches its data); a directory
        # store's server is stopped by the reaper thread once it has been dropped for
        # dropped_server_idle_s (a reopen meanwhile reuses it), or at exit. At exit,
        # _close_open_stores closes the stores still open, as before.
        # A store closed is neither: close() detaches it (a directory store closed, then
        # collected, was noted as dropped, and the exit reconnected to whatever server ran
        # on its directory then, to stop it).
        if mode == "memory":
            self._dropped = weakref.finalize(
                self, _stop_orphaned_server, self._server, os.getpid(), self._client_name
            )
        else:
            assert self._server.data_dir is not None
            _registry._reopened(self._server.data_dir)
            self._dropped = weakref.finalize(
                self, _note_dropped, self._server, self.settings, os.getpid()
            )
        self._dropped.atexit = False

    # --------------------------------------------------------------------------- connections

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
        self._db, graph = external_database(
            url, self.settings, self._client_name, self._client_timeout()
        )
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

    def drop_graph(self) -> None:
        """Delete this store's whole graph (tests, ``lineage-graph`` admin). Irreversible."""
        import redis

        with contextlib.suppress(redis.exceptions.ResponseError):
            self._execute("GRAPH.DELETE", self._graph.name)
        self._graph.schema.clear()  # the client's cache of label and key names: ids are reused
        self._keys.clear()

    def stage(self) -> Staging | None:
        """A new graph on the same server, put in place of this one's by ``RENAME`` (atomic,
        logged to the append-only file as one command): ``_embedded_staging.stage``."""
        return _embedded_staging.stage(self)

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
        self._refuse_if_hung(watched)
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

    def _refuse_if_hung(self, watched: ServerProcess | None) -> None:
        """A server found hung by a step that did not act on it (best effort): no second wait
        for it, unless it answers again (a stall: a debugger, a frozen container)."""
        import redis

        if watched is not None and self._hung_pid is not None and self._hung_pid == watched.pid:
            if not watched.answers():
                raise redis.exceptions.TimeoutError("the server was found hung")
            self._hung_pid = None

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
        if self._owed is None:
            return
        conn, pool = self._owed
        watched = self._watched
        in_step = read_past_owed(
            conn, None if watched is None else (lambda read: self._supervised(read, watched))
        )
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
        """``read(timeout)`` awaited up to ``socket_timeout_s``, the server watched
        (:func:`_embedded_supervision.supervised`): found hung, it is noted (``_hung_pid``)
        for :meth:`_recover`, which kills and restarts it."""
        return supervised(read, server, self.settings, self._note_hung)

    def _note_hung(self, pid: int | None) -> None:
        self._hung_pid = pid

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
                return restart_or_reconnect(self, exc)
            except redis.exceptions.RedisError as error:  # the new connection's own handshake
                raise _map_error(error, "reconnect", self._server) from error

    def _run(
        self,
        query: str,
        params: Mapping[str, Any] | None,
        name: str,
        *,
        write: bool,
        settles: bool = True,
    ) -> list[Row]:
        """One statement (:func:`_embedded_statements.run`). ``settles``: whether the edges
        the write creates count towards the next merge of pending edge changes (the
        Settler's; not those a statement deletes at once)."""
        return _embedded_statements.run(self, query, params, name, write=write, settles=settles)

    def ensure_property_keys(self, keys: Iterable[str], *, fixed: bool = False) -> None:
        """Register the keys this object has not registered yet, by a statement with nothing in
        it that fails on purpose (``_embedded_schema.ensure_property_keys`` says why)."""
        _embedded_schema.ensure_property_keys(self, keys, fixed=fixed)

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
        _embedded_schema.ensure_schema(self, spec)

    def _alone(self) -> bool:
        """No other store is connected to the server (in this process or another). Stores name
        their connections ``lineage-graph-*``; an unnamed one is not a store's: a PING probe
        that timed out on a busy server is accepted, and dropped, only once the statement ends,
        and counting it left the server running for ever after the last store closed (1 close
        in 3 after a statement longer than the 5 s reply slice)."""
        ours = f"lineage-graph-{os.getpid()}-"
        for name in _store_clients(self._execute("CLIENT", "LIST")):
            if _embedded_close._exiting() and name.startswith(ours):
                continue  # this process's, closed or dropped: it exits
            if name != self._client_name:
                return False
        return True

    # -------------------------------------------------------------------------------- admin

    @property
    def server(self) -> ServerProcess | None:
        """The managed server (None for an external one). Tests use it to kill the server."""
        return self._server

    def describe(self) -> dict[str, Any]:
        return describe(self._db, self._graph.name, self.mode, self._server, self._url)

    def close(self) -> None:
        """Disconnect; shut the server down (``SHUTDOWN SAVE``) if no other client uses it.
        A query running in another thread finishes first (the connection's lock)."""
        with self._lock, _interrupt_held():
            _embedded_close.close(self)

    def _found_hung(self) -> bool:
        # a server of another pid namespace has no pid here (None): None == None took it for
        # found hung, and the last close left it running, unrecorded, on the store's files
        return (
            self._watched is not None
            and self._hung_pid is not None
            and self._hung_pid == self._watched.pid
        )
