"""Awaiting an embedded server's replies: a server of ours is watched while a reply is awaited
(:func:`supervised`: a slow server is waited for, a hung one given up on), and a reply whose
wait was interrupted is read off its connection before another command is sent on it
(:func:`read_past_owed`); a server that died or hung is restarted, or one another process
restarted reconnected to (:func:`restart_or_reconnect`)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..config import EmbeddedSettings
from ._embedded_connect import connect_socket
from ._embedded_errors import _NO_REPLY
from ._embedded_registry import _SERIALS
from ._falkordb_server import ServerProcess, working

if TYPE_CHECKING:
    from .embedded import EmbeddedBackend

#: A reply from a server of our own is awaited in slices of at most this many seconds (a quarter
#: of ``hang_after_s`` if smaller); between two, its CPU time and a PING on a fresh connection
#: tell a slow server from a hung one (EmbeddedBackend._await_reply).
PROBE_EVERY_S = 5.0


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


def supervised(
    read: Callable[[float], Any],
    server: ServerProcess,
    settings: EmbeddedSettings,
    hung: Callable[[int | None], None],
) -> Any:
    """``read(timeout)``, which raises redis's ``TimeoutError`` when nothing came within
    ``timeout``, called in slices up to ``socket_timeout_s``. After an empty
    slice: a server that used CPU time or waited on the disk since the last one is working
    (a write holds its main thread, which answers no PING, until it ends: 5.6 s for one
    statement making 3M nodes and edges); one that answers a PING on a fresh connection is
    alive. One that has done neither for ``hang_after_s`` is hung (seen after a fork: every
    thread asleep on a lock): ``hung(its pid)`` is called, and the wait ends with redis's
    ``TimeoutError``, which :meth:`EmbeddedBackend._recover` answers by killing and
    restarting it."""
    import redis

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
            hung(server.pid)
            raise redis.exceptions.TimeoutError(
                f"the server answered nothing (no reply, no PING) and did nothing for "
                f"{settings.hang_after_s:g} s: hung"
            )


def read_past_owed(conn: Any, supervise: Callable[[Callable[[float], None]], None] | None) -> bool:
    """Send a token on ``conn`` (whose command's reply is owed) and read the connection's
    bytes up to the token's reply (:meth:`EmbeddedBackend._await_owed`), each wait up to the
    connection's socket timeout, or by ``supervise(read)`` on a watched server. True when the
    connection is in step again (its parser started afresh); False when it must be dropped (a
    lost connection, a timeout, a hung server)."""
    import redis

    token = f"lineage-graph-awaited-{os.getpid()}-{next(_SERIALS)}"
    try:
        # ECHO, not PING: a server that cannot write its log (fsync="everysec" on a full
        # disk) refuses PING ("MISCONF"), and the token never came: waited for up to
        # socket_timeout_s, then the connection dropped.
        conn.send_command("ECHO", token)
        read = _reader_to(conn, f"${len(token)}\r\n{token}\r\n".encode())
        if supervise is None:
            read(conn.socket_timeout)
        else:
            supervise(read)
        conn._parser.on_connect(conn)  # what it held was the interrupted reply's
    except (redis.exceptions.RedisError, OSError, ValueError, AttributeError):
        return False
    return True


def restart_or_reconnect(backend: EmbeddedBackend, exc: BaseException) -> bool:
    """:meth:`EmbeddedBackend._recover` under the store's lock."""
    import redis

    server = backend._server
    if server is None or backend._closed:
        return False  # a closed store (e.g. closed at exit under a running query) stays so
    if server.alive():
        # A server that answers a PING on a fresh connection is alive (merely slow), and so
        # is one at work (CPU time, disk): neither is replaced. A crashing server drops its
        # connections, writes its crash report, then exits: give it time to go, then
        # restart it. A server that neither replied nor answers a PING, and does nothing,
        # is hung (a deadlock after a fork, docs/reliability.md): kill it and restart.
        if server.answers():
            backend._hung_pid = None  # a stall, not a hang: it answers again
            return False
        if isinstance(exc, redis.exceptions.ConnectionError) and server.refuses_as_full():
            return False  # full (at its most clients): it runs on; _map_error says so
        if isinstance(exc, redis.exceptions.TimeoutError):
            if not backend._found_hung():
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
        backend._death_cause = None
        if not server.find_running():
            backend._death_cause = server.size_limit_death()
            server.clear_state()
            server.cleanup()
            server.start()
            server.restarts += 1
        connect_socket(backend)
    backend._reconnects += 1
    backend._keys.clear()  # a restarted server may have lost them (memory mode)
    if backend._schema is not None and backend.mode == "memory" and not backend._making_schema:
        backend.ensure_schema(backend._schema)
    return True
