"""Starting the embedded server (:class:`_Starter`): its command line, the checks of the
store's files first, the spawn, the wait until it answers, and what a failed start says."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._interrupts import interrupt_held
from ..exceptions import (
    EngineError,
    EngineUnavailableError,
)
from ._server_aof import (
    _AOF_DIR,
    _AOF_REWRITE_PERCENTAGE,
    _LOG_FILE,
    _check_aof,
    _check_replay,
    _damaged_log,
    _damaged_message,
    _empty_base,
    _load_crash,
    _log_sizes,
    _mark_aof,
    _remove_leftovers,
    _rotate_log,
    _trim_nul_tail,
    _warn_torn,
    _write_failure,
)
from ._server_limits import (
    _file_size_limit,
    _out_of_descriptors,
    _too_few_descriptors,
)
from ._server_procs import (
    _adopt,
    ping_client,
)
from ._server_sockets import (
    SOCKET_NAME,
    _socket_dir,
)
from ._server_spawner import (
    _SPAWNER,
    _discard,
    _set_pdeathsig,
)
from ._server_state import (
    _hold,
)
from ._server_watch import _Watch

if TYPE_CHECKING:
    from ._falkordb_server import ServerProcess


class _KilledWhileStarting(EngineUnavailableError):
    """A server this process started was killed by a signal before it answered (not a crash
    the server reported: that is a defect of the engine or of the files, not retried)."""


class _HungWhileStarting(_KilledWhileStarting):
    """A server this process started answered nothing and did no work for ``hang_after_s``
    while it started (it was killed): started once more, as one killed by a signal."""


class _Starter:
    """Starts a new server for ``server`` (the :class:`ServerProcess` it serves: its pid,
    socket, process handle, socket folder and log position are set as it starts). ``watch``:
    how a silent server is judged (:class:`_Watch`)."""

    def __init__(self, server: ServerProcess, watch: _Watch) -> None:
        self._server = server
        self._watch = watch

    def command(self, socket_path: Path, workdir: Path) -> list[str]:
        server = self._server
        s = server.settings
        cmd = [
            str(server.binaries.redis_server),
            "--port", "0",
            "--bind", "127.0.0.1",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(workdir),
            "--daemonize", "no",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--protected-mode", "yes",
            "--loglevel", "warning",
            # A crash exits at once with its report: the memory test that follows it by default
            # kept a server crashed while loading a store busy past the start-up timeout.
            "--crash-memcheck-enabled", "no",
        ]  # fmt: skip
        if server.data_dir is not None:
            cmd += [
                "--logfile", str(workdir / _LOG_FILE),
                "--appendonly", "yes",
                "--appendfsync", s.fsync,
                "--appenddirname", _AOF_DIR,
                "--aof-use-rdb-preamble", "yes",
                "--auto-aof-rewrite-min-size", "4mb",
                # 0 (none) until the start has checked what the server loaded: set to
                # _AOF_REWRITE_PERCENTAGE then (allow_rewrites)
                "--auto-aof-rewrite-percentage", "0",
                "--aof-load-truncated", "yes",
            ]  # fmt: skip
        else:
            cmd += ["--logfile", str(workdir / _LOG_FILE), "--appendonly", "no"]
        cmd += ["--loadmodule", str(server.binaries.module)]
        cmd += [
            "TIMEOUT_DEFAULT",
            str(s.query_timeout_ms),
            "TIMEOUT_MAX",
            str(s.query_timeout_max_ms),
        ]
        if s.query_mem_capacity:
            cmd += ["QUERY_MEM_CAPACITY", str(s.query_mem_capacity)]
        return cmd

    def start(self) -> None:
        """Start a new server (call under the lock); wait until it answers PING. A server
        killed by a signal as it starts (not a crash of its own: ``kill``, the OOM killer) is
        started once more; killed again, that is :class:`EngineUnavailableError` (retryable).
        Opening a store whose new server another process killed meanwhile failed with a bare
        ``EngineError`` ("failed to start", nothing else said), not known to be retryable."""
        try:
            try:
                self._start()
            except _KilledWhileStarting:
                self._start()
        except OSError as exc:
            if (error := _out_of_descriptors(exc)) is None:
                raise
            raise error from exc

    def _start(self) -> None:
        server = self._server
        server._other_ns = False
        self._check_files()
        log_bytes = _log_sizes(server.data_dir)  # to tell how much a torn write's drop removed
        server._tmpdir = _socket_dir()  # mode 0700
        socket_path = server._tmpdir / SOCKET_NAME
        workdir = server.data_dir if server.data_dir is not None else server._tmpdir
        self._launch(socket_path, workdir)  # no server nor socket folder left if it fails
        # Guarded here, not in _ready: a Ctrl-C as _ready was entered, before a try of its
        # own, left the server running (a directory's on after the process had exited, no
        # record naming it: the next opener started a second one on the same files).
        try:
            self._ready(workdir, log_bytes)
        except BaseException as exc:
            # Never leave a server running that no record names, nor a record of one that is
            # gone (a full disk, where the record cannot be written; a failed start).
            server.abandon()
            if (full := self._disk_full(exc, workdir)) is not None:
                raise full from exc
            raise

    def _check_files(self) -> None:
        """The checks and repairs of the store's files before its server starts."""
        server = self._server
        if server.data_dir is not None:
            _check_aof(server.data_dir)
            if (base := _empty_base(server.data_dir)) is not None:
                raise EngineError(
                    _damaged_message(
                        server.data_dir,
                        f"its base file {base.name} holds no snapshot: "
                        f"{base.stat().st_size} bytes, not beginning with REDIS",
                        server.data_dir / _LOG_FILE,
                    )
                )
            server._stopper.stop_strays()  # before anything below touches the server's files
            _trim_nul_tail(server.data_dir)
            _rotate_log(server.data_dir / _LOG_FILE)
            _remove_leftovers(server.data_dir)

    def _launch(self, socket_path: Path, workdir: Path) -> None:
        """Spawn the server on ``socket_path`` in ``workdir``; no socket folder is left when
        it cannot be."""
        server = self._server
        assert server._tmpdir is not None  # (made by _start)
        proc: subprocess.Popen[bytes] | None = None
        try:
            try:  # where this start's lines of the log begin (it is appended to)
                server._log_start = (workdir / _LOG_FILE).stat().st_size
            except OSError:
                server._log_start = 0
            cmd = self.command(socket_path, workdir)
            memory = server.data_dir is None
            options: dict[str, Any] = {
                "stdin": subprocess.DEVNULL,
                "stdout": subprocess.DEVNULL,
                "stderr": subprocess.PIPE,
                "cwd": str(workdir),
                # A persistent server outlives a crashed client (its data stays reachable); an
                # in-memory one is torn down with its owner process (PR_SET_PDEATHSIG: _spawn).
                "start_new_session": not memory,
                # The server's files (append-only log, snapshots, its log) are the owner's
                # alone, as its socket is: a data directory that already existed (``mkdir
                # store`` first) keeps its 0755, where Redis made them 0644 under the usual
                # umask, so every local user could read the whole store.
                "umask": 0o077,
            }
            fsize_limit = _file_size_limit()  # the server inherits it
            # A directory's server is spawned by Popen in this thread: a Ctrl-C landing in it
            # once it had forked (CPython does not kill the child then) left the server
            # running, no one's, and no record naming it (unless it found its socket folder
            # already removed). Held until Popen has returned it, then raised here: killed
            # below. (A memory server's spawner thread sees to its own: _server_spawner.)
            with contextlib.nullcontext() if memory else interrupt_held():
                server._proc = proc = self._spawn(cmd, options)
            server.pid, server._proc_owner = proc.pid, os.getpid()
            server._fsize_limit = fsize_limit
            _adopt(proc)
            server.socket_path = socket_path
        except BaseException:
            # No server (no descriptor left, no memory to fork; interrupted, Ctrl-C): its new
            # socket folder is no one's. Interrupted once it was spawned, before _start's
            # guard, the server ran on (a directory's after the process had exited): killed.
            try:
                if proc is not None:
                    _discard(proc)
            finally:
                shutil.rmtree(server._tmpdir, ignore_errors=True)
                server._tmpdir = None
            raise

    def _ready(self, workdir: Path, log_bytes: dict[str, int]) -> None:
        """Record the new server, wait until it answers and check what it loaded; stopped
        (:meth:`ServerProcess.abandon`, by :meth:`_start`) when any of it fails."""
        server = self._server
        assert server.pid is not None  # (set by _launch)
        # Recorded at once, before it has loaded the store (seconds to minutes): a process
        # killed meanwhile (`timeout`, the OOM killer) left a server no record named, and
        # the next opener started a second server on the same files.
        if server.data_dir is not None:
            server._write_state()
        server._wait_ready(workdir)
        if server.data_dir is not None:
            # a failure is stopped by _start (killed: nothing is rewritten)
            _check_replay(server.data_dir, workdir, server._log_start, server.settings)
            if not self.allow_rewrites(workdir, server.pid):
                raise self.hung_while_starting(workdir)  # started once more
            _mark_aof(server.data_dir)
            _warn_torn(workdir / _LOG_FILE, server._log_start, server.data_dir, log_bytes)

    def _disk_full(self, exc: BaseException, workdir: Path) -> EngineUnavailableError | None:
        """The error a start that failed with ``exc`` (its server stopped) raises instead when
        the server could not write to a full disk, None otherwise."""
        server = self._server
        if (
            isinstance(exc, EngineError)
            and not isinstance(exc, EngineUnavailableError)
            and server.data_dir is not None
            and (cause := _write_failure(workdir / _LOG_FILE, server._log_start, server.data_dir))
        ):
            # A full disk: the server exits as it starts (it appends to its log at
            # start-up). It raised EngineError (not retryable), a reopen or the first call
            # after a restart alike; retrying once there is room is the remedy.
            return EngineUnavailableError(
                f"the embedded FalkorDB server could not write to the data directory "
                f"{server.data_dir} and exited as it started ({cause}): free some space on "
                "its disk and retry"
            )
        return None

    def _spawn(self, cmd: list[str], options: dict[str, Any]) -> subprocess.Popen[bytes]:
        """Start the server process of :meth:`_start` (``options``: Popen's)."""
        server = self._server
        if server.data_dir is None and sys.platform.startswith("linux"):
            options["preexec_fn"] = _set_pdeathsig
            # Out of the owner's process group, so Ctrl-C in a terminal (SIGINT to the whole
            # foreground group) reaches the program, not its server: a script that caught the
            # KeyboardInterrupt found the server gone and the data lost, and a step could not
            # record its run CANCELED. Its life stays tied to the owner's by the signal above.
            options["process_group"] = 0
            return _SPAWNER.popen(cmd, **options)
        held = _hold(server.data_dir) if server.data_dir is not None else None
        if held is not None:
            options["pass_fds"] = (held,)
        try:
            return subprocess.Popen(cmd, **options)
        finally:
            if held is not None:
                os.close(held)  # the server holds the lock now

    def allow_rewrites(self, workdir: Path, pid: int) -> bool:
        """Let the server rewrite its append-only log when it has grown (off until the start
        has checked what it loaded). Redis starts that rewrite as soon as it has loaded a log
        whose incremental part outgrew its base (over 4 MB): a start refused because a
        logged write failed when replayed (:func:`_replay_failure`) had begun rewriting the log
        from what it had loaded, without that write, before it was killed; finished first, the
        write would be gone from the log for good and the next opening would load the store
        without it, without a word. False if server ``pid`` hung (:meth:`_Watch.silence`) there."""
        import redis

        server = self._server
        assert server.socket_path is not None
        try:
            done = self._watch.reply(
                pid,
                server.socket_path,
                lambda client: client.config_set(
                    "auto-aof-rewrite-percentage", _AOF_REWRITE_PERCENTAGE
                ),
            )
        except redis.exceptions.RedisError as exc:  # killed by the caller (_start)
            raise EngineUnavailableError(
                f"the embedded FalkorDB server stopped answering as it started ({exc}); retry. "
                f"Log: {workdir / _LOG_FILE}"
            ) from exc
        return done is not None

    def wait_ready(self, workdir: Path) -> None:
        import redis

        server = self._server
        assert server.socket_path is not None and server._proc is not None
        deadline = time.monotonic() + server.settings.startup_timeout_s
        # A loading server is waited for past the start-up timeout, but not forever.
        hard_deadline = time.monotonic() + max(300.0, 15 * server.settings.startup_timeout_s)
        delay = 0.005
        ping_timeout = self._watch.ping_timeout()
        #: Since when the server answered no PING and did no work (no CPU time, no disk wait).
        silent_since: float | None = None
        sample: tuple[int, bool] | None = None
        while True:
            code = server._proc.poll()
            if code is not None:
                if -code in (signal.SIGKILL, signal.SIGTERM):  # not a crash: redis logs those
                    raise _KilledWhileStarting(
                        f"the embedded FalkorDB server was stopped by "
                        f"{signal.Signals(-code).name} while it started (another process, or "
                        f"the system's out-of-memory killer); retry. Log: {workdir / _LOG_FILE}"
                    )
                if (limited := server.size_limit_death()) is not None:
                    raise EngineUnavailableError(
                        f"the embedded FalkorDB server exited as it started: {limited}"
                    )
                raise EngineError(self.startup_failure(workdir))
            loading = False
            if server.socket_path.exists():
                client = ping_client(server.socket_path, ping_timeout)
                try:
                    client.ping()
                    return
                except redis.exceptions.BusyLoadingError:
                    loading, silent_since = True, None  # replaying the AOF, and answering
                except redis.exceptions.TimeoutError:
                    # Replaying the AOF (a large entry can keep it from answering at all): a
                    # server that is making progress is waited for, past the start-up timeout.
                    loading = True
                    silent_since, sample = self._check_not_hung(silent_since, sample, workdir)
                except redis.exceptions.ConnectionError:
                    # Not listening yet (bound only): judged as a silent one is. Stopped or
                    # hung before its listen, it was waited for the whole start-up timeout,
                    # then said "did not answer" (EngineError, not retryable).
                    silent_since, sample = self._check_not_hung(silent_since, sample, workdir)
                finally:
                    client.close()
            else:  # its socket is not made yet: the same
                silent_since, sample = self._check_not_hung(silent_since, sample, workdir)
            if loading:
                deadline = min(hard_deadline, max(deadline, time.monotonic() + 5))
            if time.monotonic() > deadline:
                server.kill()
                if _load_crash(workdir / _LOG_FILE, server._log_start) is not None:
                    raise EngineError(self.startup_failure(workdir))
                raise EngineError(
                    f"the embedded FalkorDB server did not answer within "
                    f"{server.settings.startup_timeout_s:.0f} s (LINEAGE_GRAPH_STARTUP_TIMEOUT_S); "
                    f"log: {workdir / _LOG_FILE}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _check_not_hung(
        self, silent_since: float | None, sample: tuple[int, bool] | None, workdir: Path
    ) -> tuple[float | None, tuple[int, bool] | None]:
        """A starting server silent (its PING timed out, or it does not listen yet): since when
        it has been silent and idle, and the activity sample to compare the next with. One
        that has done no work (no CPU
        time, no disk wait) for ``hang_after_s`` is hung: killed, and :class:`_HungWhileStarting`
        (started once more by :meth:`start`). FalkorDB 4.16.3 deadlocked so while replaying
        the append-only log under load (every thread asleep on a lock, the main thread in
        ``Globals_AddGraph``): the open waited max(300 s, 15 x ``startup_timeout_s``), then
        failed, where a second start of the same files loaded in a quarter of a second. Where
        there is no ``/proc`` (no activity to read), a silent server is waited for as before."""
        server = self._server
        assert server.pid is not None and server.socket_path is not None
        silent_since, sample, hung = self._watch.silence(
            server.pid, server.socket_path, silent_since, sample
        )
        if not hung:
            return silent_since, sample
        raise self.hung_while_starting(workdir)

    def hung_while_starting(self, workdir: Path) -> _HungWhileStarting:
        """Kill this process's starting server, found hung: the error to raise."""
        server = self._server
        pid = server.pid
        server.kill()
        return _HungWhileStarting(
            f"the embedded FalkorDB server (pid {pid}) answered nothing and did no work for "
            f"{server.settings.hang_after_s:g} s (LINEAGE_GRAPH_HANG_AFTER_S) while it started on "
            f"{server.data_dir or 'memory'}: hung (a FalkorDB defect seen while it loads its log "
            f"under load), so it was stopped; retry. Log: {workdir / _LOG_FILE}"
        )

    def startup_failure(self, workdir: Path) -> str:
        server = self._server
        assert server._proc is not None
        err = b""
        if server._proc.stderr is not None:
            with contextlib.suppress(Exception):
                err = server._proc.stderr.read() or b""
        log = ""
        with contextlib.suppress(OSError):
            log = (workdir / _LOG_FILE).read_text(errors="replace")[-65536:]
        # Without the harmless "Constraint already exists" lines every start logs (one per
        # constraint and earlier start): they filled the 2,000 characters shown, and the
        # reason (a full disk: "Short write while writing to the AOF file") was cut off.
        log = "\n".join(
            line for line in log.splitlines() if "Constraint already exists" not in line
        )[-2000:]
        detail = (err.decode(errors="replace") + "\n" + log).strip()
        hint = ""
        if "libgomp" in detail or "libssl" in detail or "libcrypto" in detail:
            hint = (
                " The server needs libgomp1 and libssl3 (Debian/Ubuntu: `apt-get install libgomp1 "
                "libssl3`; macOS: `brew install libomp openssl@3`)."
            )
        crash = _load_crash(workdir / _LOG_FILE, server._log_start)
        if crash is not None and server.data_dir is not None:
            # A crash report's tail is a memory test: what it says comes first, in words.
            return (
                f"the embedded FalkorDB server crashed while loading the store's files in "
                f"{server.data_dir} ({crash}): a defect of the engine; the files are left as they "
                'are. Keep a copy of the directory; docs/reliability.md ("A store whose files '
                f'crash the server") says how to start again from its snapshot. Report: '
                f"{workdir / _LOG_FILE}"
            )
        damage = _damaged_log(workdir / _LOG_FILE, server._log_start)
        if damage is not None and server.data_dir is not None:
            return _damaged_message(server.data_dir, damage, workdir / _LOG_FILE)
        if (few := _too_few_descriptors(detail)) is not None:
            return few
        return f"the embedded FalkorDB server failed to start.{hint}\n{detail[-2000:]}"
