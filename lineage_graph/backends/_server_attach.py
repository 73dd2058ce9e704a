"""Attaching to a server another process started on the data directory (:class:`_Attacher`):
found by its record, waited for while it loads, checked, or found gone or hung."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import (
    EngineError,
    EngineUnavailableError,
)
from ._server_aof import (
    _check_replay,
    _mark_aof,
)
from ._server_limits import (
    _CLIENTS_FULL,
    _clients_full_message,
    _pid_text,
    _refuses_as_full,
)
from ._server_procs import (
    _child,
    _listening,
    _other_namespace,
    _pid_alive,
    _serves,
    ping_client,
)
from ._server_sockets import (
    _remove_dead_socket_dir,
)
from ._server_state import (
    _STATE_FILE,
    _held_after_exit,
)
from ._server_stop import _stop
from ._server_watch import _Watch

if TYPE_CHECKING:
    from ._falkordb_server import ServerProcess


class _Attacher:
    """Finds and attaches ``server`` (the :class:`ServerProcess` it serves: its pid, socket and
    process handle are set once attached) to the running server its directory's record names.
    ``watch``: how a silent server is judged (:class:`_Watch`)."""

    def __init__(self, server: ServerProcess, watch: _Watch) -> None:
        self._server = server
        self._watch = watch

    def find_running(self) -> bool:
        """Attach to a server another process started on this directory (call under the lock)."""
        server = self._server
        server._other_ns = False
        if server.data_dir is None:
            return False
        state = server._read_state()
        if not state:
            return False
        pid, sock = state.get("pid"), state.get("socket")
        if not isinstance(pid, int) or not isinstance(sock, str):
            return False
        if _other_namespace(state):
            return self._attach_other_namespace(pid, Path(sock))
        if not _pid_alive(pid):
            # crashed (its pid may since belong to another process): start anew
            _remove_dead_socket_dir(Path(sock))
            return False
        if _serves(pid, server.data_dir) is False:
            # The server of another directory: this one is a copy made while it ran (its record
            # came along). Attaching wrote into the original store; this one gets its own. Or
            # a crashed server's pid taken by another process: its folder is removed.
            _remove_dead_socket_dir(Path(sock))
            return False
        if not _listening(Path(sock)):
            # Alive, but nothing listens on its socket: its directory in /tmp was removed (a
            # temp cleaner) while it ran on. A server still running on these files must never
            # share them with the one started next: a rewrite by one deleted the log files the
            # other appended to, and the store no longer opened. Its clients reconnect to the
            # new one, as after a crash (no acknowledged write is lost: SIGTERM flushes).
            if server._stopper.runs_here(pid):
                _stop(pid, sock=Path(sock))  # (with what a cleaner left of its folder)
            return False
        if not server._loaded(pid, Path(sock)):
            _remove_dead_socket_dir(Path(sock))  # it exited as it was found (or was hung)
            return False
        if not self._finish_start(pid, Path(sock), state.get("log_start")):
            return False
        self._drop_socket_dir(Path(sock))
        server.pid, server.socket_path = pid, Path(sock)
        server._proc, server._proc_owner = _child(pid), os.getpid()
        _mark_aof(server.data_dir)  # a server an earlier version started
        return True

    def _drop_socket_dir(self, sock: Path) -> None:
        """Attaching to server ``sock`` (another process's): the socket folder of the server
        this object started before, which has exited (a restart finds it gone), is removed:
        :meth:`_Stopper.cleanup` removes only the one folder this object holds last."""
        server = self._server
        if server._tmpdir is not None and server._tmpdir != sock.parent:
            shutil.rmtree(server._tmpdir, ignore_errors=True)
            server._tmpdir = None

    def _attach_other_namespace(self, pid: int, sock: Path) -> bool:
        """Attach to a server a process in another pid namespace (a container, ``unshare
        --pid``) started on this directory, by its socket alone: its recorded pid names no
        process here, or another one. Taken for gone, a second server was started on the same
        files beside it (two servers appending to one log). Not reachable: gone if its socket
        is there and refuses (it died), else it cannot be told (a socket folder this namespace
        does not see): refused, rather than risk a second server."""
        server = self._server
        assert server.data_dir is not None
        if not _listening(sock):
            if sock.parent.is_dir():
                _remove_dead_socket_dir(sock)
                return False  # died: its socket is left, and refuses
            if _held_after_exit(server.data_dir) is False:
                # its lock is free: it died (a container killed, or restarted with a new /tmp
                # and pid namespace); taken for running, every later open was refused
                return False
            raise EngineUnavailableError(
                f"{server.data_dir / _STATE_FILE} names a server (pid {pid} in another pid "
                f"namespace: a container, or `unshare --pid`) whose socket {sock} this process "
                "cannot see, so it cannot tell whether that server still runs on the store's "
                "files; a second one must never run beside it. Open the store where that "
                "server runs, or close it there; if nothing runs it (its container is gone), "
                f"delete {server.data_dir / _STATE_FILE} and retry"
            )
        if not server._loaded(None, sock):
            return False
        self._drop_socket_dir(sock)
        server.pid, server.socket_path, server._other_ns = None, sock, True
        server._proc = None
        return True

    def _finish_start(self, pid: int, sock: Path, log_start: object) -> bool:
        """Check what a server found running loaded, and let it rewrite its log, when the
        process that started it was killed before it did (between the server's first answer
        and :meth:`_Starter.allow_rewrites`). That server ran on with rewrites off for as long
        as any process stayed attached to it (its append-only log grew without bound), and what it
        loaded was never checked (a logged write that failed when replayed went unsaid). A
        record without ``log_start`` (an earlier version's) is left as it is. False when the
        server was found hung here (killed: a new one is started). A logged write that failed
        when replayed is EngineError: the server is killed, waited for, and its record and
        socket folder removed."""
        import redis

        server = self._server
        assert server.data_dir is not None
        if not isinstance(log_start, int) or isinstance(log_start, bool):
            return True
        try:
            said = self._watch.reply(
                pid, sock, lambda client: client.config_get("auto-aof-rewrite-percentage")
            )
        except redis.exceptions.RedisError:
            return True  # busy or going: the calls say why
        if said is None:
            server._stopper.kill_hung(pid, sock)
            return False
        if said.get("auto-aof-rewrite-percentage") != "0":
            return True
        try:
            _check_replay(server.data_dir, server.data_dir, log_start, server.settings)
        except EngineError:
            if server._stopper.runs_here(pid):  # killed: nothing is rewritten
                _stop(pid, flush=False, sock=sock)
                server.clear_state()
            raise
        server.socket_path = sock
        if not server._starter.allow_rewrites(server.data_dir, pid):
            server._stopper.kill_hung(pid, sock)
            return False
        return True

    def loaded(self, pid: int | None, sock: Path) -> bool:
        """Wait while a server found running loads its data (the process that started it may
        have died meanwhile: the record is written as it starts). False once it has gone: a
        server that drops the connection is shutting down (its last client closed it, or a
        signal), and opening it failed with redis's bare ``ConnectionError``. ``pid`` None: a
        server of another pid namespace (its recorded pid names another process here), gone
        when its socket no longer listens."""
        import redis

        server = self._server
        deadline = time.monotonic() + max(300.0, 15 * server.settings.startup_timeout_s)
        silent_since: float | None = None
        sample: tuple[int, bool] | None = None
        while True:
            client = ping_client(sock, self._watch.ping_timeout())
            try:
                client.ping()
                return True
            except redis.exceptions.BusyLoadingError:
                silent_since = None
                if time.monotonic() > deadline:
                    raise EngineUnavailableError(
                        f"the embedded server{_pid_text(pid)} of {server.data_dir} is still "
                        "loading its data; retry later"
                    ) from None
            except redis.exceptions.TimeoutError:
                # At work on a long statement: awaited (and watched) as a reply. Silent and
                # idle (stopped: SIGSTOP, Ctrl-Z; deadlocked) for hang_after_s, it is hung:
                # killed, and a new one started. Taken for at work, the open waited for the
                # 20 s timeouts of the calls that followed, then restarted it all the same.
                if pid is None:
                    return True  # another pid namespace's: no activity to judge by
                silent_since, sample, hung = self._watch.silence(pid, sock, silent_since, sample)
                if silent_since is None:
                    return True
                if hung:
                    server._stopper.kill_hung(pid, sock)
                    return False
            except redis.exceptions.ResponseError:
                # It answered, refusing: one that cannot write its log (fsync="everysec" on a
                # full disk) refuses PING too ("MISCONF"), and opening its store failed with
                # redis's bare ResponseError. It is up: its reads answer, its writes say why.
                return True
            except redis.exceptions.ConnectionError as exc:
                return self._gone(pid, sock, exc)
            finally:
                client.close()
            time.sleep(0.05)

    def _gone(self, pid: int | None, sock: Path, exc: Exception) -> bool:
        """A server found running that dropped the connection (``exc``) as :meth:`loaded`
        waited: False once it has gone; EngineUnavailableError if it is full, or drops
        connections and does not exit."""
        server = self._server
        if _CLIENTS_FULL in str(exc) or _refuses_as_full(sock):
            # Not going: full. It refuses every client past its maxclients, which
            # Redis cuts to its descriptor limit less 32; it was said to "drop
            # connections and not exit" after a minute's wait.
            raise EngineUnavailableError(_clients_full_message(pid, server.data_dir)) from None

        def alive() -> bool:
            return _listening(sock) if pid is None else _pid_alive(pid)

        gone = time.monotonic() + 60
        while alive() and time.monotonic() < gone:
            time.sleep(0.01)
        if alive():
            if _refuses_as_full(sock):  # full, but too busy to say so the first time
                raise EngineUnavailableError(_clients_full_message(pid, server.data_dir)) from None
            raise EngineUnavailableError(
                f"the embedded server{_pid_text(pid)} of {server.data_dir} drops "
                "connections and does not exit; retry later"
            ) from None
        return False
