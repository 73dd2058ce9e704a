"""Closing an embedded store: the last store's close compacts the append-only file and shuts
the server down (:func:`close`); a store left unclosed has its server stopped by the functions
here too (a memory store's at once, a directory's at exit: the registries in
``_embedded_registry.py`` call them)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._falkordb_server import (
    HUNG_STOP_WAIT_S,
    STOP_WAIT_S,
    ServerProcess,
    _DirectoryGone,
    _LockTimeout,
    ping_client,
)

if TYPE_CHECKING:
    from .embedded import EmbeddedBackend

#: Set when the interpreter exits (``_embedded_registry._close_open_stores``): every store of
#: this process still open is being closed, so a connection of this process another store left
#: (one garbage-collected unclosed, whose socket the collector has not closed yet) does not keep
#: a server running.
_EXITING = False
#: Set in the reaper thread (``_embedded_registry._reap``): its stops are no part of the exit.
#: A stop it had begun when the exit came counted this process's connections as gone too: it
#: shut down a server under a store of this process still open (reopened on the directory).
_REAPER_HERE = threading.local()


def _exiting() -> bool:
    """This process is exiting and this close is the exit's (see _EXITING, _REAPER_HERE)."""
    return _EXITING and not getattr(_REAPER_HERE, "active", False)


#: Writes since the last rewrite of the append-only file are replayed one statement at a time
#: at start-up; from this size on, opening the store and closing it rewrite the file (a fork).
#: Below it the replay is quick, and the fork is skipped: right after one, at start-up, the
#: server hung (docs/reliability.md).
COMPACT_TAIL_BYTES = 1 << 20


def _info_fields(reply: Any) -> dict[str, str]:
    """``INFO``'s raw reply (``field:value`` lines) as a mapping."""
    text = reply.decode() if isinstance(reply, bytes) else str(reply)
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


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


def close(backend: EmbeddedBackend) -> None:
    """:meth:`EmbeddedBackend.close`, under the store's lock with Ctrl-C held: disconnect, and
    shut the server down if no other client uses it."""
    if backend._closed:
        return
    backend._closed = True
    if backend._dropped is not None:
        backend._dropped.detach()
    server = backend._server
    if server is None:
        with contextlib.suppress(Exception):
            backend._db.connection.close()
        return
    try:
        _close_locked(backend, server)
    except _LockTimeout:
        # Another process holds the directory's lock for good (stopped or stuck while it
        # starts or stops the server): this store's connection goes; the server is left to
        # that process or the next opener (the close waited for ever).
        with contextlib.suppress(Exception):
            backend._db.connection.close()
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
                last = backend._alone()
            hung = not last and backend._found_hung()
            if last or hung:
                with contextlib.suppress(Exception):
                    server.kill_in_removed_directory(
                        timeout=HUNG_STOP_WAIT_S if hung else STOP_WAIT_S
                    )
            with contextlib.suppress(Exception):
                backend._db.connection.close()
        with contextlib.suppress(Exception):
            server.cleanup()


def _close_locked(backend: EmbeddedBackend, server: ServerProcess) -> None:
    with server.locked():
        last = True
        with contextlib.suppress(Exception):
            last = backend._alone()
        if not last and _exiting():
            with contextlib.suppress(Exception):
                _drop_connections_left_here(backend)
        if last and server.alive():
            # Each step is skipped once the server is found hung (then it is killed: its
            # acknowledged writes are in the append-only file already).
            if not backend._found_hung() and server.aof_tail_bytes() >= COMPACT_TAIL_BYTES:
                rewrite_aof_and_wait(backend)  # memory mode: no tail
            if not backend._found_hung():
                _shutdown(backend)
                server.wait_exit()
            if server.alive():  # hung, or a server that ignores SHUTDOWN
                server.kill()
            server.clear_state()
        with contextlib.suppress(Exception):
            backend._db.connection.close()
        server.cleanup()


def _drop_connections_left_here(backend: EmbeddedBackend) -> None:
    """As this process exits, while it holds the data directory's lock: close the
    connections that stores of this process left open (dropped unclosed, the collector has
    not closed their sockets yet). :meth:`EmbeddedBackend._alone` counts them as gone; left
    open until the process had ended, after it released the lock, they made another process
    that closed meanwhile take them for a live client, and the last of several workers exiting
    at once left the server running for good (spawn Pool of 4 dropping MLMD MetadataStores: 1
    of 1)."""
    ours = f"lineage-graph-{os.getpid()}-"
    for name, ident in _store_connections(backend._execute("CLIENT", "LIST")):
        if name.startswith(ours) and name != backend._client_name and ident:
            with contextlib.suppress(Exception):
                backend._execute("CLIENT", "KILL", "ID", ident)


def _shutdown(backend: EmbeddedBackend) -> None:
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

    mode = "NOSAVE" if backend.mode == "memory" else "SAVE"
    try:
        backend._execute("SHUTDOWN", mode)
    except redis.exceptions.ResponseError:
        if mode == "SAVE":  # "Errors trying to SHUTDOWN": it stays up
            with contextlib.suppress(Exception):  # it drops the connection as it exits
                backend._execute("SHUTDOWN", "NOSAVE")
    except Exception:
        pass  # the connection dropped as it exited, or it is gone or hangs


def rewrite_aof_and_wait(backend: EmbeddedBackend, timeout_s: float = 120.0) -> None:
    """Before the last client shuts the server down: compact the AOF (an RDB preamble and an
    empty tail), so the next start loads a snapshot instead of replaying every write (the
    server loads the AOF, never the dump SHUTDOWN SAVE writes; measured: 246 s to replay a
    33k-node store's AOF against 0.45 s after a rewrite). Best effort."""
    import redis

    deadline = time.monotonic() + timeout_s

    def settled() -> bool:  # no rewrite running or scheduled (or the time is up)
        while time.monotonic() < deadline:
            info = _info_fields(backend._execute("INFO", "persistence"))
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
            backend._execute("BGREWRITEAOF")
            settled()
