"""Stopping the embedded server: by signal (:func:`_stop`), a hung one, the strays no record
names, the hard stop, and what is left once it is gone (:class:`_Stopper`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import (
    EngineUnavailableError,
)
from ._server_limits import (
    _pid_text,
)
from ._server_procs import (
    KILL_WAIT_S,
    SIGKILL_WAIT_S,
    STOP_WAIT_S,
    _exe_name,
    _forget_reaped,
    _pid_alive,
    _serves,
)
from ._server_sockets import (
    SOCKET_NAME,
    _remove_socket_dir,
    _unix_socket,
)

if TYPE_CHECKING:
    from ._falkordb_server import ServerProcess


def _stop(
    pid: int,
    timeout: float = STOP_WAIT_S,
    *,
    flush: bool = True,
    sock: Path | None = None,
    kill_wait: float = SIGKILL_WAIT_S,
) -> None:
    """Shut a server down by signal (it finishes its command and flushes its log), killed
    if it has not gone within ``timeout``. SIGCONT follows SIGTERM, as a supervisor's does
    (systemd's): a stopped server (SIGSTOP, Ctrl-Z) handles no SIGTERM until it runs
    again (else it is waited for the whole ``timeout``, then killed without the flush).
    Resumed, it exits on the pending SIGTERM at once (a running one ignores SIGCONT).
    ``flush`` False: killed at once (nothing of it to save), and waited for all the same.
    ``sock``: the server's socket, whose folder is removed once it is gone (its starter may
    be gone too: no one else would). ``kill_wait``: how long a SIGKILLed server is waited
    for (one in a disk wait dies only once that ends). The one stop sequence: a hung
    server found running (:meth:`_Stopper.kill_hung`) and the hard stop
    (:meth:`_Stopper.kill`) use it too. Returns once the server is gone or the waits are over
    (the caller tells which)."""
    steps = ((signal.SIGTERM, timeout),) if flush else ()
    for sig, wait in (*steps, (signal.SIGKILL, kill_wait)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
            if sig == signal.SIGTERM:
                os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + wait
        while _pid_alive(pid):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        else:
            break
    if sock is not None and not _pid_alive(pid):
        _remove_socket_dir(sock)


class _Stopper:
    """Stops ``server`` (the :class:`ServerProcess` it serves, whose pid, process handle and
    socket folder it reads and clears), and the other servers found on its data directory."""

    def __init__(self, server: ServerProcess) -> None:
        self._server = server

    def kill_hung(self, pid: int, sock: Path) -> None:
        """Kill server ``pid``, found running and judged hung (:meth:`_Watch.silence`), if it
        runs on this directory; EngineUnavailableError if it is still there."""
        server = self._server
        if self.runs_here(pid):
            _stop(pid, flush=False, sock=sock, kill_wait=KILL_WAIT_S)
        if _pid_alive(pid):
            raise EngineUnavailableError(
                f"the embedded server{_pid_text(pid)} of {server.data_dir} answered "
                f"nothing and did no work for {server.settings.hang_after_s:g} s "
                "(LINEAGE_GRAPH_HANG_AFTER_S), and could not be stopped; retry later"
            )
        _remove_socket_dir(sock)  # gone already (not ours to stop): its starter may be too

    def runs_here(self, pid: int) -> bool:
        """Whether ``pid`` is a server on this data directory: a redis-server (ours, or another
        installation's: two environments may share a store) run in the directory (False where
        there is no /proc to tell: then it is left alone)."""
        server = self._server
        return (
            server.data_dir is not None
            and _exe_name(pid) == server.binaries.redis_server.name
            and _serves(pid, server.data_dir) is True
        )

    def stop_strays(self) -> None:
        """Stop every server running on this data directory that no record names (call under
        the lock, before a start: a server recorded and alive was attached to instead).

        A process killed between spawning its server and recording it (``server.json``; a
        SIGKILL, the out-of-memory killer) left that server running on the store's files with
        no record: the next opener started a second server on the same files, and the first
        ran on for good, unknown to every opener (the close of the store never stopped it).
        Two servers must never share a store's log (:meth:`_Attacher.find_running`). Found by their
        working directory in ``/proc`` (nothing where there is none, as on macOS); stopped by
        SIGTERM, which flushes its log."""
        server = self._server
        assert server.data_dir is not None
        try:
            pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        except OSError:
            return
        for pid in pids:
            if pid == os.getpid():
                continue
            try:
                # Ours listen on SOCKET_NAME only (its argument, then its process title): a
                # server someone runs with its directory here (``--dir``) is not stopped. Read
                # first: it touches no other file system (another process's working directory
                # may be on a mount that does not answer).
                if SOCKET_NAME.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
            except OSError:
                continue  # gone, a zombie, or another user's
            if self.runs_here(pid):
                _stop(pid, sock=_unix_socket(pid))

    def still_ours(self, pid: int) -> bool:
        """Whether ``pid`` (a server another process started) is still this server, not another
        process that took its pid once it died and was reaped (never to be waited for, or
        killed, as the server). True where there is no ``/proc`` to tell (or it cannot be
        read)."""
        server = self._server
        if server.data_dir is None:
            return True  # a memory server: started by this process (or its parent)
        serves = _serves(pid, server.data_dir)
        if serves is None:
            return True
        exe = _exe_name(pid)
        return serves if exe is None else serves and exe == server.binaries.redis_server.name

    def kill_in_removed_directory(self, timeout: float = STOP_WAIT_S) -> bool:
        """Stop this server if it runs on in its data directory, removed (deleted) while the
        store was open, or where no path reaches it (:meth:`_StoreDirectory.server_directory`):
        no opener can reach it again (it ran on for good after the last store closed). A
        removed directory's is killed (its files are gone: nothing to save); one that no path
        reaches is asked to exit (SIGTERM: it writes its log out first), its files may be
        reached again (the directory a detached bind mount showed; a stopped one is resumed to
        handle it), and killed if it has not gone within ``timeout`` (:func:`_stop`). True if
        stopped."""
        server = self._server
        found = server._server_directory()
        if found is None or found[1] == "named" or server.pid is None:
            return False
        _stop(server.pid, timeout, flush=found[1] != "removed")
        return True

    def kill(self) -> None:
        """Hard stop (a hung server, failed start-ups, tests): SIGKILL, and waited for
        (:func:`_stop`), this process's server or one another process started (still ours).
        Another process's is waited for only where /proc tells when it is gone: elsewhere
        (macOS) it stays a zombie until its idle starter reaps it, and looked alive for the
        whole wait (a close held ``SIGKILL_WAIT_S`` more for nothing)."""
        server = self._server
        if (proc := server._own_proc()) is not None:
            if proc.poll() is None:
                _stop(proc.pid, flush=False)
        elif server.pid is not None and _pid_alive(server.pid) and self.still_ours(server.pid):
            told = Path(f"/proc/{server.pid}/stat").exists()
            _stop(server.pid, flush=False, kill_wait=SIGKILL_WAIT_S if told else 0.0)

    def wait_exit(self, timeout: float = 30.0) -> None:
        server = self._server
        deadline = time.monotonic() + timeout
        if server._other_ns:
            while server.alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            return
        if (proc := server._own_proc()) is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
            return
        while server.pid is not None and _pid_alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.01)

    def abandon(self) -> None:
        """Stop the server this object has just started, which no connection uses yet (its start
        failed, or its opener was interrupted, Ctrl-C, or failed before it connected): killed
        (no write reached it, nothing to save), its record cleared, its socket folder removed.
        Call under the lock.
        An open interrupted there left the server running (a directory's, for the next opener
        to find) or, a memory store's, its socket folder in the temporary directory (the server
        died with the process) until the sweep an hour later."""
        server = self._server
        self.kill()
        server.clear_state()
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the socket directory of the server, once it has exited: this process's, or
        one another process started (which exited before this one closed the server: its
        directory stayed in /tmp for good)."""
        server = self._server
        if server._proc is not None and server._proc.stderr is not None:
            server._proc.stderr.close()
        if server.alive():
            return
        _forget_reaped()  # (its own handle, if it was this process's: reaped by alive())
        if server._tmpdir is not None:
            shutil.rmtree(server._tmpdir, ignore_errors=True)
            server._tmpdir = None
        elif server.socket_path is not None:  # only its socket, if left, and the empty folder
            _remove_socket_dir(server.socket_path)
