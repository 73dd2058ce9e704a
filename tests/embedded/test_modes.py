"""The embedded engine's modes and operating rules (DESIGN.md §3), on real servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    ConfigurationError,
    EngineUnavailableError,
    FailedPreconditionError,
    LineageStore,
)
from lineage_graph.backends.embedded import COMPACT_TAIL_BYTES, EmbeddedBackend


def embedded(store: LineageStore) -> EmbeddedBackend:
    assert isinstance(store.backend, EmbeddedBackend)
    return store.backend


def put_dataset(store: LineageStore, uri: str) -> int:
    store.put_artifact_type(ArtifactType(name="DataSet"))
    return store.put_artifacts([Artifact(type="DataSet", uri=uri)])[0]


def run_child(code: str, *args: str, check: bool = True) -> str:
    """Run ``code`` in a fresh interpreter with ``args``; its stdout (it must succeed, unless
    ``check`` is False)."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 or not check, out.stderr
    return out.stdout


def test_directory_store_persists_and_ids_continue(tmp_path: Path) -> None:
    with LineageStore.open(tmp_path / "store") as store:
        first = [put_dataset(store, f"/d{i}") for i in range(3)]
    assert first == [1, 2, 3]
    with LineageStore.open(tmp_path / "store") as store:
        assert [a.uri for a in store.get_artifacts()] == ["/d0", "/d1", "/d2"]
        later = put_dataset(store, "/after")
    assert later > max(first)  # a reopened store never reuses an id


def test_data_directory_is_private_and_server_is_socket_only(tmp_path: Path) -> None:
    with LineageStore.open(tmp_path / "store") as store:
        server = embedded(store).server
        assert server is not None and server.socket_path is not None
        assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700
        assert stat.S_IMODE(server.socket_path.parent.stat().st_mode) == 0o700
        conn = embedded(store)._db.connection
        assert conn.config_get("port")["port"] == "0"  # no TCP listener at all
        assert conn.config_get("appendfsync")["appendfsync"] == "always"
        assert conn.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"


def test_two_stores_share_one_server_and_the_last_one_stops_it(tmp_path: Path) -> None:
    a = LineageStore.open(tmp_path / "s")
    b = LineageStore.open(tmp_path / "s")
    sa, sb = embedded(a).server, embedded(b).server
    assert sa is not None and sb is not None and sa.pid == sb.pid
    put_dataset(a, "/from-a")
    a.close()
    assert sb.alive()  # b still uses it
    assert [x.uri for x in b.get_artifacts()] == ["/from-a"]
    b.close()
    sb.wait_exit(10)
    assert not sb.alive()


def test_a_connection_that_is_no_store_does_not_keep_the_server_running(tmp_path: Path) -> None:
    """A PING probe that timed out while a statement held the server (any reply awaited past
    5 s) is accepted, and dropped, only once the statement ends: the last store's close could
    see it and leave the server running for ever, with no client (1 close in 3 measured).
    Only a store's connection (named ``lineage-graph-*``) keeps the server up; here an unnamed
    connection stays open across the close."""
    store = LineageStore.open(tmp_path / "s")
    put_dataset(store, "/kept")
    server = embedded(store).server
    assert server is not None and server.socket_path is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stray:
        stray.connect(str(server.socket_path))
        stray.sendall(b"PING\r\n")
        assert stray.recv(64) == b"+PONG\r\n"
        store.close()
        server.wait_exit(10)
        assert not server.alive(), "the last store closed but its server runs on"
    with LineageStore.open(tmp_path / "s") as again:
        assert [a.uri for a in again.get_artifacts()] == ["/kept"]


_OPEN_WITHOUT_TMP = """
from lineage_graph import LineageStore
from lineage_graph.exceptions import ConfigurationError
try:
    LineageStore.open("memory").close()
except ConfigurationError as exc:
    print("ConfigurationError:", exc)
"""


def test_no_usable_temporary_directory_is_a_configuration_error() -> None:
    """No writable temporary directory at all (``TMPDIR`` missing, ``/tmp`` and ``/var/tmp``
    read-only, as in a read-only container, and the working directory too): the server's
    socket folder cannot be made. tempfile's bare ``FileNotFoundError`` ("No usable temporary
    directory found") came out of the open, where a socket folder that cannot be made in a
    temporary directory found is a ConfigurationError. Real read-only mounts, in a mount
    namespace of the child's own (``unshare -m``)."""
    script = (
        "mount -t tmpfs -o ro tmpfs /tmp && mount -t tmpfs -o ro tmpfs /var/tmp && cd /tmp && "
        'exec "$0" -c "$1"'
    )
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("needs unshare and mount")
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, sys.executable, "pass"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("needs a mount namespace of its own (unshare -m: root, CAP_SYS_ADMIN)")
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, sys.executable, _OPEN_WITHOUT_TMP],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TMPDIR": "/nonexistent-lineage-graph-tmp"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ConfigurationError: cannot make a directory for the server")
    assert "TMPDIR" in done.stdout


@pytest.mark.parametrize("mode", ["memory", "directory"])
def test_a_long_temporary_directory_still_gives_a_socket_the_server_can_use(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket lives in the temporary directory: a long ``TMPDIR`` (here 140 bytes) made
    every server fail to start, as a unix socket's path is limited to 103 bytes."""
    long_tmp = tmp_path / ("t" * 100)
    long_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    with LineageStore.open("memory" if mode == "memory" else tmp_path / "s") as store:
        assert put_dataset(store, "/kept") == 1
        server = embedded(store).server
        assert server is not None and server.socket_path is not None
        assert len(os.fsencode(server.socket_path)) <= 103


def test_a_store_asking_for_fsync_always_gets_it_on_a_shared_server(tmp_path: Path) -> None:
    """The first opener starts the server with its settings: a second store asking for the
    default ``always`` got the first's ``everysec`` silently (its acknowledged writes could be
    lost in a crash), and describe() said ``always``. The stronger setting now wins."""
    relaxed = LineageStore.open(tmp_path / "s", fsync="everysec")
    try:
        assert relaxed.describe()["fsync"] == "everysec"
        with LineageStore.open(tmp_path / "s") as strict:
            assert embedded(strict)._db.connection.config_get("appendfsync") == {
                "appendfsync": "always"
            }
            assert strict.describe()["fsync"] == relaxed.describe()["fsync"] == "always"
    finally:
        relaxed.close()


def test_the_server_log_is_set_aside_when_it_has_grown_large(tmp_path: Path) -> None:
    """FalkorDB logs a CRITICAL line per constraint per earlier start at every start (its
    constraints are appended to the log file anew each time): server.log grew with the square of
    the opens, 25 MB after 150, and was never trimmed. A start finding it past 8 MiB sets it
    aside as server.log.1."""
    log_max_bytes = 8 << 20
    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put_dataset(store, "/kept")
    with open(target / "server.log", "ab") as log:
        log.write(b"x" * (log_max_bytes + 1))
    with LineageStore.open(target) as store:
        assert [a.uri for a in store.get_artifacts()] == ["/kept"]
    assert (target / "server.log.1").stat().st_size > log_max_bytes
    assert (target / "server.log").stat().st_size < 1 << 20


def test_a_rewrite_left_by_a_killed_server_is_removed_at_the_next_start(tmp_path: Path) -> None:
    """A server SIGKILLed while it rewrote its append-only file (a fork: the OOM killer's
    likeliest moment) leaves the rewrite's temporary file, as large as the store, which Redis
    never removes (45 MB measured, for good). The next start removes it (none runs then)."""
    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put_dataset(store, "/kept")
    (target / "temp-rewriteaof-bg-12345.aof").write_bytes(b"x" * 1000)
    (target / "temp-12345.rdb").write_bytes(b"x" * 1000)
    with LineageStore.open(target) as store:
        assert [a.uri for a in store.get_artifacts()] == ["/kept"]
        assert not list(target.glob("temp-*"))


def test_an_opener_waiting_for_the_lock_says_who_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process stopped (Ctrl-Z) or stuck while it holds the data directory's lock kept every
    other opener waiting without a word. The waiting opener now warns, naming the holder's pid,
    and opens once the lock is free."""
    from lineage_graph.backends import _server_state as server_module

    LineageStore.open(tmp_path / "held").close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys; from pathlib import Path;"
            "from lineage_graph.backends._falkordb_server import _lock;"
            "d = Path(sys.argv[1]); fd = os.open(d / 'lineage-graph.lock', os.O_RDWR);"
            "_lock(fd, d); print('locked', flush=True); sys.stdin.read()",
            str(tmp_path / "held"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    # The holder lets go once the opener has warned (it held the lock for 1.5 s: an opener
    # that reached the lock 1.3 s late, on a loaded machine, never had to wait, nor warn).
    released = threading.Event()
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(server_module, "LOCK_NOTICE_S", 0.2)
        with pytest.warns(
            RuntimeWarning, match=f"waiting for process {holder.pid}, which holds"
        ) as warned:

            def release() -> None:
                deadline = time.monotonic() + 120
                while not len(warned) and time.monotonic() < deadline:
                    time.sleep(0.01)
                released.set()
                assert holder.stdin is not None
                holder.stdin.close()

            releaser = threading.Thread(target=release)
            releaser.start()
            try:
                store = LineageStore.open(tmp_path / "held")
            finally:
                releaser.join(130)
        try:
            assert released.is_set()  # it waited for the holder to let go
            assert store.get_artifacts() == []
        finally:
            store.close()
    finally:
        holder.kill()
        holder.wait()


def test_doctor_says_at_once_that_it_waits_for_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``doctor`` recorded every warning of its open for its report, the wait for another
    process's lock too: with a stopped process holding the lock, it sat silent until the lock
    timeout (30 min), the wait said only afterwards, as a "note". The wait is said as it waits,
    as by every command (the holder here lets go once it has been said), and is no note."""
    import json

    from lineage_graph.backends import _server_state as server_module
    from lineage_graph.cli import _common as cli_common
    from tests.cli.conftest import invoke

    show_warning = cli_common.show_warning

    path = tmp_path / "held"
    LineageStore.open(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys; from pathlib import Path;"
            "from lineage_graph.backends._falkordb_server import _lock;"
            "d = Path(sys.argv[1]); fd = os.open(d / 'lineage-graph.lock', os.O_RDWR);"
            "_lock(fd, d); print('locked', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    said: list[str] = []  # what is shown (stderr), as it is shown
    shown = threading.Event()

    def seen(message: Warning | str, category: type[Warning], *args: Any) -> None:
        said.append(str(message))
        if "waiting for" in str(message):
            shown.set()
        show_warning(message, category, *args)

    def release() -> None:
        shown.wait(60)  # (without the fix nothing is said: the holder lets go after 60 s)
        assert holder.stdin is not None
        holder.stdin.close()

    releaser = threading.Thread(target=release)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(server_module, "LOCK_NOTICE_S", 0.2)
        # the commands say warnings through show_warning (``warning: …`` on stderr)
        monkeypatch.setattr(cli_common, "show_warning", seen)
        releaser.start()
        result = invoke(["doctor", "--json", "--store", str(path)])
    finally:
        if releaser.is_alive():
            releaser.join(70)
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert result.exit_code == 0, result.output
    assert any(f"waiting for process {holder.pid}, which holds" in m for m in said), said
    assert f"warning: waiting for process {holder.pid}, which holds" in result.stderr
    checks = json.loads(result.stdout)["checks"]
    assert [c for c in checks if c["check"] == "note"] == []


#: A child's script: open the store argv[1] (argv[2]: "open", or "close"
#: a store opened before the lock was taken, once argv[3] exists); prints what happened.
_GIVES_UP = """
import sys, time
from pathlib import Path
from lineage_graph import EngineUnavailableError, LineageStore
if sys.argv[2] == "close":
    store = LineageStore.open(sys.argv[1])
    print("opened", flush=True)
    while not Path(sys.argv[3]).exists():
        time.sleep(0.01)
    store.close()
    print("closed")
else:
    try:
        LineageStore.open(sys.argv[1]).close()
        print("opened")
    except EngineUnavailableError as exc:
        print("retryable" if exc.retryable else "final", exc)
"""


def test_a_lock_held_for_good_is_given_up_on_with_a_retryable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process stopped (Ctrl-Z) while it holds the data directory's lock kept every opener
    waiting for ever, and the close of every other store too (each close takes the lock).
    After ``lock_timeout_s``, opening is ``EngineUnavailableError`` (retryable) naming the
    holder; a close closes its connection and leaves the server to the next opener."""
    path = tmp_path / "held"
    LineageStore.open(path).close()
    monkeypatch.setenv("LINEAGE_GRAPH_LOCK_TIMEOUT_S", "1")  # the children's
    closer = subprocess.Popen(
        [sys.executable, "-c", _GIVES_UP, str(path), "close", str(tmp_path / "go")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert closer.stdout is not None and closer.stdout.readline().strip() == "opened"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time; from pathlib import Path;"
            "from lineage_graph.backends._falkordb_server import _lock;"
            "d = Path(sys.argv[1]); fd = os.open(d / 'lineage-graph.lock', os.O_RDWR);"
            "_lock(fd, d); print('locked', flush=True); time.sleep(300)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        os.kill(holder.pid, signal.SIGSTOP)  # stopped while it holds the lock
        said = run_child(_GIVES_UP, str(path), "open")
        assert said.startswith(f"retryable process {holder.pid} has held"), said
        assert "LINEAGE_GRAPH_LOCK_TIMEOUT_S" in said
        (tmp_path / "go").touch()
        assert closer.communicate(timeout=120)[0].strip() == "closed"
    finally:
        for proc in (holder, closer):
            proc.kill()
            proc.wait()
    with LineageStore.open(path) as store:  # the lock free again: the server left is used
        assert store.get_artifacts() == []
    assert _servers_on(path) == []


def test_socket_folders_left_by_killed_processes_are_swept(tmp_path: Path) -> None:
    """A process killed with its in-memory server left its /tmp/lg-* folder (server.log, maybe
    the socket) for good: 1,189 had piled up on this machine. Starting a server sweeps those
    untouched for an hour whose socket no server listens on; a live server's folder, a recent
    one and one holding anything else stay."""
    from lineage_graph.backends import _server_sockets as server_module

    old = time.time() - server_module.STALE_SOCKET_DIR_S - 60

    def folder(name: str, *, files: tuple[str, ...] = ("server.log",), stale: bool = True) -> Path:
        path = tmp_path / name
        path.mkdir()
        for f in files:
            (path / f).write_text("log")
        if stale:
            os.utime(path, (old, old))
        return path

    dead = folder("lg-dead")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gone:  # a socket file, closed
        gone.bind(str(dead / "falkordb.sock"))
    os.utime(dead, (old, old))
    only_log = folder("lg-onlylog")
    fresh = folder("lg-fresh", stale=False)
    other = folder("lg-other", files=("server.log", "notes.txt"))
    mine = folder("not-lg")
    live = folder("lg-live", files=())
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(live / "falkordb.sock"))
    listener.listen()
    os.utime(live, (old, old))
    try:
        assert server_module._sweep_stale_socket_dirs(str(tmp_path)) == 2
    finally:
        listener.close()
    assert not dead.exists() and not only_log.exists()
    assert fresh.exists() and other.exists() and mine.exists() and live.exists()
    assert server_module._sweep_stale_socket_dirs(str(tmp_path)) == 0  # once per process


def test_another_process_writes_to_the_same_directory(tmp_path: Path) -> None:
    target = tmp_path / "shared"
    with LineageStore.open(target) as store:
        put_dataset(store, "/parent")
        code = (
            "import sys\n"
            "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
            "with LineageStore.open(sys.argv[1]) as s:\n"
            "    s.put_artifact_type(ArtifactType(name='DataSet'))\n"
            "    print(s.put_artifacts([Artifact(type='DataSet', uri='/child')])[0])\n"
        )
        child_id = int(run_child(code, str(target)).strip())
        assert {a.uri for a in store.get_artifacts()} == {"/parent", "/child"}
        assert child_id != 1


def test_a_process_that_exits_without_close_stops_its_server(tmp_path: Path) -> None:
    """A script that never calls close(): its directory's server stops when it exits (a
    crashed client is the other case: the server outlives it), and the data is kept."""
    _server_stops_after_the_child(tmp_path / "unclosed", "", "exited normally")


#: A child process's script: a directory store (argv[1]) holding '/kept', its server's pid
#: printed; what the child does next is appended.
_KEEP_ONE = (
    "import sys\n"
    "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
    "s = LineageStore.open(sys.argv[1])\n"
    "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
    "s.put_artifacts([Artifact(type='DataSet', uri='/kept')])\n"
    "print(s.backend.server.pid)\n"
)


def _server_stops_after_the_child(target: Path, then: str, what: str) -> None:
    """Run _KEEP_ONE + ``then`` in a child: its server is gone soon after it exits, data kept."""
    pid = int(run_child(_KEEP_ONE + then, str(target)).strip())
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), f"the server outlived a process that {what}"
    with LineageStore.open(target) as store:
        assert [a.uri for a in store.get_artifacts()] == ["/kept"]


@pytest.mark.parametrize("shared", [False, True], ids=["alone", "beside-an-open-store"])
def test_a_process_that_dropped_its_store_unclosed_stops_its_server(
    tmp_path: Path, shared: bool
) -> None:
    """MLMD code never closes its MetadataStore (ml_metadata has no close; TFX's Metadata drops
    it on __exit__): the store is freed before exit, which the exit hook (stores still
    referenced) missed, and the directory's server outlived the process, one per SQLite config
    of TFX's tests. Now it stops at exit, data kept; also when another store of the process is
    open on it at exit (the dropped store's connection, not yet collected, no longer counts)."""
    then = "del s\n" + ("kept = LineageStore.open(sys.argv[1])\n" if shared else "")
    _server_stops_after_the_child(tmp_path / "dropped", then, "dropped its store and exited")


@pytest.mark.parametrize("then", ["moved", "removed"])
def test_a_store_dropped_after_its_directory_went_stops_its_server_at_exit(
    tmp_path: Path, then: str
) -> None:
    """A store dropped unclosed after its data directory was moved (or removed) while open:
    its process's exit looked for a server at the place the store had opened at, found none,
    and the server ran on for good in the directory. It is stopped where the directory is
    (a moved store then opens whole there)."""
    code = (
        "import gc, shutil, sys\n"
        "from pathlib import Path\n"
        "from lineage_graph import ArtifactType, Artifact, LineageStore\n"
        "s = LineageStore.open(sys.argv[1])\n"
        "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
        "s.put_artifacts([Artifact(type='DataSet', uri='/a')])\n"
        "print(s.backend.server.pid, s.backend.server.socket_path, flush=True)\n"
        "if sys.argv[2] == 'moved':\n"
        "    Path(sys.argv[1]).rename(sys.argv[3])\n"
        "else:\n"
        "    shutil.rmtree(sys.argv[1])\n"
        "del s\n"
        "gc.collect()\n"
    )
    target, moved = tmp_path / "s", tmp_path / "moved"
    printed = run_child(code, str(target), then, str(moved)).split()
    pid, socket_path = int(printed[0]), Path(printed[1])
    try:
        gone = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < gone:
            time.sleep(0.05)
        assert not _alive(pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not target.exists()
    if then == "removed":  # its socket's directory in /tmp goes with it, as a close's does
        assert not socket_path.parent.exists()
    if then == "moved":
        with LineageStore.open(moved) as store:
            assert [a.uri for a in store.get_artifacts()] == ["/a"]


def test_a_store_closed_then_collected_is_not_stopped_again_at_exit(tmp_path: Path) -> None:
    """A directory store closed, then garbage-collected, was noted as dropped unclosed all the
    same: at exit its process reconnected to whatever server ran on the directory then, and
    stopped it (here: one a killed process left for the next one to find, which this process
    never used). close() did the exit's work already; the server is left as it is."""
    target = tmp_path / "closed"
    code = (
        "import gc, subprocess, sys\n"
        "from lineage_graph import LineageStore\n"
        "s = LineageStore.open(sys.argv[1])\n"
        "s.close()\n"
        "del s\n"
        "gc.collect()\n"
        "left = (\n"  # a process that dies with its store open: its server stays
        "    'import os, sys\\n'\n"
        "    'from lineage_graph import LineageStore\\n'\n"
        "    's = LineageStore.open(sys.argv[1])\\n'\n"
        "    'print(s.backend.server.pid, flush=True)\\n'\n"
        "    'os._exit(0)\\n'\n"
        ")\n"
        "out = subprocess.run([sys.executable, '-c', left, sys.argv[1]], capture_output=True,\n"
        "                     text=True, check=True, timeout=120)\n"
        "print(out.stdout.strip())\n"
    )
    pid = int(run_child(code, str(target)).strip())
    try:
        time.sleep(0.5)
        assert _alive(pid), "a process stopped, at exit, a server its closed store never used"
    finally:
        with LineageStore.open(target):
            pass  # the last client: stops the left server
    assert not _alive(pid)


#: A second process on the same directory: opens it, then, for each line on stdin, reads the
#: artifacts ("read") or closes the store ("close"), printing what it got and how long it took.
_OTHER_CLIENT = (
    "import sys, time\n"
    "from lineage_graph import LineageStore\n"
    "s = LineageStore.open(sys.argv[1])\n"
    "print('open', flush=True)\n"
    "for line in sys.stdin:\n"
    "    started = time.monotonic()\n"
    "    if line.strip() == 'read':\n"
    "        got = ','.join(a.uri for a in s.get_artifacts())\n"
    "    else:\n"
    "        s.close(); got = 'closed'\n"
    "    print(got, round(time.monotonic() - started, 1), flush=True)\n"
)


def _other_client(target: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _OTHER_CLIENT, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "open\n"
    return proc


def _ask(proc: subprocess.Popen[str], command: str) -> tuple[str, float]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    got, seconds = proc.stdout.readline().split()
    return got, float(seconds)


def test_the_last_client_removes_the_socket_folder_of_a_server_it_did_not_start(
    tmp_path: Path,
) -> None:
    """The process that started the server closes first and exits; the one closing last stops
    the server, whose socket folder in /tmp (the starter's) stayed there for good."""
    target = tmp_path / "s"
    starter = _other_client(target)
    try:
        with LineageStore.open(target) as store:
            server = embedded(store).server
            assert server is not None and server.socket_path is not None
            folder = server.socket_path.parent
            assert _ask(starter, "close")[0] == "closed"
            assert starter.stdin is not None
            starter.stdin.close()
            starter.wait(30)
            put_dataset(store, "/kept")
        assert not folder.exists()
    finally:
        starter.kill()
        starter.wait()


def test_a_server_killed_under_an_idle_starter_is_restarted_by_another_client(
    tmp_path: Path,
) -> None:
    """This process starts the server, then idles (a notebook, a service): the server it started
    stays its unreaped child (a zombie) once killed. Another process using the directory must
    see it gone and restart it, not take the zombie for a live server (it failed every call,
    after a 10 s wait each, until the idle starter happened to reap it)."""
    target = tmp_path / "s"
    store = LineageStore.open(target)
    put_dataset(store, "/kept")
    other = _other_client(target)
    try:
        server = embedded(store).server
        assert server is not None and server.pid is not None
        os.kill(server.pid, signal.SIGKILL)  # not reaped: this process stays idle
        time.sleep(0.5)
        got, seconds = _ask(other, "read")
        assert got == "/kept" and seconds < 8
        assert _ask(other, "close")[1] < 8
    finally:
        other.kill()
        other.wait()
        store.close()


def test_the_last_client_stops_a_server_another_live_process_started_promptly(
    tmp_path: Path,
) -> None:
    """The starter closes its store but lives on; the other client closes last and shuts the
    server down, which then waits as the starter's unreaped child: closing took 30 s."""
    target = tmp_path / "s"
    store = LineageStore.open(target)
    put_dataset(store, "/kept")
    other = _other_client(target)
    try:
        store.close()  # not the last client: the server keeps running for the other one
        got, seconds = _ask(other, "close")
        assert got == "closed" and seconds < 8
    finally:
        other.kill()
        other.wait()
    with LineageStore.open(target) as again:
        assert [a.uri for a in again.get_artifacts()] == ["/kept"]


def test_a_forked_child_exiting_leaves_the_parents_store_alone(tmp_path: Path) -> None:
    """A forked child (gunicorn --preload, os.fork) inherits the parent's open stores; its
    normal exit must not close them (nor shut down or unlink the parent's server)."""
    code = (
        "import os, sys\n"
        "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
        "for target in ('memory', sys.argv[1]):\n"
        "    s = LineageStore.open(target)\n"
        "    s.put_artifact_type(ArtifactType(name='DataSet'))\n"
        "    s.put_artifacts([Artifact(type='DataSet', uri='/parent')])\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        sys.exit(0)  # the child's interpreter exits normally: atexit runs\n"
        "    os.waitpid(pid, 0)\n"
        "    assert s.backend.server.socket_path.exists(), 'the socket was unlinked'\n"
        "    if target != 'memory':  # another opener finds the same server\n"
        "        with LineageStore.open(target) as other:\n"
        "            assert other.backend.server.pid == s.backend.server.pid\n"
        "    s.put_artifacts([Artifact(type='DataSet', uri='/after')])\n"
        "    print(target, sorted(a.uri for a in s.get_artifacts()))\n"
        "    s.close()\n"
    )
    assert run_child(code, str(tmp_path / "forked")).splitlines() == [
        "memory ['/after', '/parent']",
        f"{tmp_path / 'forked'} ['/after', '/parent']",
    ]


def test_a_forked_child_opening_the_parents_directory_shares_its_server(tmp_path: Path) -> None:
    """A multiprocessing worker (fork) opening the directory its parent has open: waiting for
    the parent's server fails in the child (not its parent), which Popen.poll() reports as an
    exit, so each worker started a second server on the same files and wrote to it unseen."""
    code = (
        "import os, sys\n"
        "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
        "s = LineageStore.open(sys.argv[1])\n"
        "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    with LineageStore.open(sys.argv[1]) as w:\n"
        "        w.put_artifacts([Artifact(type='DataSet', uri='/worker')])\n"
        "        os._exit(0 if w.backend.server.pid == s.backend.server.pid else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status), sorted(a.uri for a in s.get_artifacts()))\n"
        "s.close()\n"
    )
    assert run_child(code, str(tmp_path / "s")).split(maxsplit=1) == ["0", "['/worker']\n"]


#: A parent and the child it forked with an open store: each ``wait``s for the other's word.
_FORKED_PAIR = (
    "import multiprocessing, os, sys\n"
    "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
    "from pathlib import Path\n"
    "from lineage_graph.backends._falkordb_server import running_server\n"
    "target, how, first = sys.argv[1:]\n"
    "s = LineageStore.open(target)\n"
    "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
    "to_child, to_parent = multiprocessing.Pipe()\n"
    "def put(uri):\n"
    "    s.put_artifacts([Artifact(type='DataSet', uri=uri)])\n"
    "def hear():  # the other's word, or what it raised\n"
    "    assert to_child.poll(60), 'no word from the other process in 60 s'\n"
    "    word = to_child.recv()\n"
    "    assert not str(word).startswith('failed'), word\n"
    "    return word\n"
    "def child():\n"
    "    try:\n"
    "        in_child()\n"
    "    except Exception as exc:\n"
    "        to_parent.send(f'failed: {exc!r}')\n"
    "def in_child():\n"
    "    put('/child1')\n"
    "    to_parent.send('wrote')\n"
    "    if first == 'child':\n"
    "        s.close()  # done with the store it inherited: the parent is not\n"
    "        to_parent.send('closed')\n"
    "        return\n"
    "    to_parent.recv()  # the parent closed its store\n"
    "    put('/child2')\n"
    "    to_parent.send(sorted(a.uri for a in s.get_artifacts()))\n"
    "if how == 'fork':\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        child()\n"
    "        sys.exit(0)  # atexit runs\n"
    "    wait = lambda: os.waitpid(pid, 0)\n"
    "else:  # a multiprocessing worker: it leaves by os._exit (no atexit)\n"
    "    worker = multiprocessing.get_context('fork').Process(target=child)\n"
    "    worker.start()\n"
    "    wait = worker.join\n"
    "assert hear() == 'wrote'\n"
    "if first == 'child':\n"
    "    assert hear() == 'closed'\n"
    "    put('/parent')\n"
    "    print(sorted(a.uri for a in s.get_artifacts()))\n"
    "    s.close()\n"
    "    wait()\n"
    "else:\n"
    "    s.close()\n"
    "    to_child.send('closed')\n"
    "    print(hear())\n"
    "    wait()\n"
    "if target != 'memory':\n"
    "    print('left running' if running_server(Path(target)) is not None else 'stopped')\n"
)


@pytest.mark.parametrize("how", ["fork", "multiprocessing"])
@pytest.mark.parametrize("target", ["memory", "directory"])
def test_a_forked_worker_and_its_parent_close_in_either_order(
    tmp_path: Path, target: str, how: str
) -> None:
    """A forked worker's connections bore its parent's name: whichever closed its store first
    took the other's connection for its own, found itself alone and shut the server down under
    the other (its next call: EngineUnavailableError; a memory store's data lost). And a
    directory server the worker used last ran on after both had finished."""
    where = "memory" if target == "memory" else str(tmp_path / "s")
    end = [] if target == "memory" else ["stopped"]
    parent_first = run_child(_FORKED_PAIR, where, how, "parent").splitlines()
    assert parent_first == ["['/child1', '/child2']", *end]
    if target == "directory":
        with LineageStore.open(where) as s:  # the worker's writes were saved
            assert sorted(a.uri for a in s.get_artifacts()) == ["/child1", "/child2"]
        where = str(tmp_path / "t")
    child_first = run_child(_FORKED_PAIR, where, how, "child").splitlines()
    assert child_first == ["['/child1', '/parent']", *end]


_CHILD_CLOSES = (
    "import os, sys\n"
    "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
    "target = sys.argv[1]\n"
    "s = LineageStore.open(target)\n"
    "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
    "server = s.backend.server\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    s.put_artifacts([Artifact(type='DataSet', uri='/child')])\n"
    "    s.close()  # done with the store it inherited: the parent is not\n"
    "    os._exit(0)\n"
    "os.waitpid(pid, 0)\n"
    "again = 'unix://' + str(server.socket_path) if target == 'memory' else target\n"
    "with LineageStore.open(again) as other:  # a new connection to the parent's server\n"
    "    uris = [a.uri for a in other.get_artifacts()]\n"
    "    same = target == 'memory' or other.backend.server.pid == server.pid\n"
    "print(uris, same, server.socket_path.exists())\n"
    "s.close()\n"
)


@pytest.mark.parametrize("target", ["memory", "directory"])
def test_a_forked_child_closing_its_inherited_store_leaves_the_parents_server_reachable(
    tmp_path: Path, target: str
) -> None:
    """The child is not the server's parent: Popen.poll() there fails with ECHILD, taken for an
    exit, so the child's close() removed the live server's socket directory. The parent's next
    connection failed (memory: EngineUnavailableError), and the directory's next opener started
    a second server on the same files while the first ran on."""
    where = "memory" if target == "memory" else str(tmp_path / "s")
    assert run_child(_CHILD_CLOSES, where).split("\n")[-2] == "['/child'] True True"


#: A parent closes its memory store while the worker it forked is still using it.
_MEMORY_PARENT_FIRST = (
    "import multiprocessing, os, sys, time\n"
    "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
    "s = LineageStore.open('memory')\n"
    "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
    "server = s.backend.server\n"
    "to_child, to_parent = multiprocessing.Pipe()\n"
    "def child():\n"
    "    s.put_artifacts([Artifact(type='DataSet', uri='/c1')])\n"
    "    to_parent.send('wrote')\n"
    "    assert to_parent.poll(60)\n"
    "    to_parent.recv()\n"
    "    to_parent.send(len(s.get_artifacts()))\n"
    "if sys.argv[1] == 'fork':\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        child()\n"
    "        sys.exit(0)\n"
    "    wait = lambda: os.waitpid(pid, 0)\n"
    "else:\n"
    "    worker = multiprocessing.get_context('fork').Process(target=child)\n"
    "    worker.start()\n"
    "    wait = worker.join\n"
    "assert to_child.poll(60) and to_child.recv() == 'wrote'\n"
    "s.close()  # the worker is connected: the server runs on for it\n"
    "to_child.send('closed')\n"
    "assert to_child.poll(60) and to_child.recv() == 1\n"
    "wait()\n"
    "deadline = time.monotonic() + 10\n"
    "while server.alive() and time.monotonic() < deadline:\n"
    "    time.sleep(0.05)\n"
    "print('left running' if server.alive() else 'stopped', server.socket_path.parent.exists())\n"
)


@pytest.mark.parametrize("how", ["fork", "multiprocessing"])
def test_a_memory_server_a_worker_used_last_is_stopped(how: str) -> None:
    """The parent's close() left the server running for its connected worker, whose exit
    closed nothing it had inherited: the server (~25 MB, its data out of reach) ran on as long
    as the parent process lived, and its socket directory stayed in /tmp."""
    assert run_child(_MEMORY_PARENT_FIRST, how).splitlines()[-1] == "stopped False"


#: A parent, its forked worker and the worker's own worker (nested forks), on a directory.
_NESTED_FORKS = (
    "import multiprocessing, os, sys, time\n"
    "from pathlib import Path\n"
    "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
    "from lineage_graph.backends._falkordb_server import running_server\n"
    "target = sys.argv[1]\n"
    "s = LineageStore.open(target)\n"
    "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
    "g_end, p_end = multiprocessing.Pipe()\n"
    "c_end, pc_end = multiprocessing.Pipe()\n"
    "def hear(end):\n"
    "    assert end.poll(60), 'no word in 60 s'\n"
    "    return end.recv()\n"
    "child = os.fork()\n"
    "if child == 0:  # the worker\n"
    "    if os.fork() == 0:  # its own worker, which outlives it\n"
    "        s.put_artifacts([Artifact(type='DataSet', uri='/g1')])\n"
    "        g_end.send('wrote')\n"
    "        hear(g_end)  # the parent closed, the worker exited\n"
    "        s.put_artifacts([Artifact(type='DataSet', uri='/g2')])\n"
    "        g_end.send('done')\n"
    "        sys.exit(0)\n"
    "    hear(c_end)  # the parent closed\n"
    "    sys.exit(0)\n"
    "assert hear(p_end) == 'wrote'\n"
    "s.close()\n"
    "pc_end.send('closed')\n"
    "os.waitpid(child, 0)\n"
    "p_end.send('go')\n"
    "assert hear(p_end) == 'done'\n"
    "deadline = time.monotonic() + 20\n"
    "while running_server(Path(target)) is not None and time.monotonic() < deadline:\n"
    "    time.sleep(0.05)\n"
    "print('left running' if running_server(Path(target)) is not None else 'stopped')\n"
)


def test_a_directory_server_used_last_by_a_workers_worker_is_stopped(tmp_path: Path) -> None:
    """A worker forked by a worker inherited only the stores its parent had opened itself, not
    those its parent had inherited: when it used the server last (its parent and grandparent
    done), the server ran on after all three had finished."""
    target = tmp_path / "s"
    assert run_child(_NESTED_FORKS, str(target)).splitlines()[-1] == "stopped"
    with LineageStore.open(target) as s:
        assert sorted(a.uri for a in s.get_artifacts()) == ["/g1", "/g2"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


def _servers_on(path: Path) -> list[int]:
    """The live redis-server processes whose working directory is ``path`` (from /proc)."""
    here = os.stat(path)
    found = []
    for name in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError):
            there = os.stat(f"/proc/{name}/cwd")
            exe = os.readlink(f"/proc/{name}/exe")
            if (there.st_dev, there.st_ino) == (here.st_dev, here.st_ino) and (
                "redis-server" in exe and _alive(int(name))
            ):
                found.append(int(name))
    return found


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc")
def test_a_server_no_record_names_is_stopped_before_another_starts_on_its_files(
    tmp_path: Path,
) -> None:
    """A process killed between spawning its server and recording it (server.json) left that
    server running on the store's files with no record: the next opener started a second
    server on the same files, and the first ran on for good (no close ever stopped it). The
    state is made here by a process SIGKILLed with its server running, and its record removed
    (what a kill before the record was written leaves)."""
    target = tmp_path / "s"
    killed = "sys.stdout.flush()\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    stray = int(run_child(_KEEP_ONE + killed, str(target), check=False).strip())
    assert _servers_on(target) == [stray]
    (target / "server.json").unlink()

    with LineageStore.open(target) as store:
        assert [a.uri for a in store.get_artifacts()] == ["/kept"]
        assert not _alive(stray)
        [new] = _servers_on(target)  # one server on the files: this store's
        assert new == embedded(store).server.pid  # type: ignore[union-attr]
        put_dataset(store, "/after")
    assert _servers_on(target) == []  # the close stopped it; nothing runs on for good
    with LineageStore.open(target) as store:
        assert sorted(a.uri for a in store.get_artifacts()) == ["/after", "/kept"]


def test_acknowledged_writes_survive_a_server_kill(tmp_path: Path) -> None:
    target = tmp_path / "durable"
    store = LineageStore.open(target)
    acknowledged = [put_dataset(store, f"/{i}") for i in range(200)]
    server = embedded(store).server
    assert server is not None
    os.kill(server.pid or 0, signal.SIGKILL)
    server.wait_exit(10)
    # The next call finds the server dead, restarts it, and reports a retryable error (a write
    # cannot know whether it was applied) or answers a read after the restart.
    assert [a.id for a in store.get_artifacts()] == acknowledged
    store.close()
    with LineageStore.open(target) as reopened:
        assert len(reopened.get_artifacts()) == 200


def test_a_store_whose_directory_is_moved_while_open_follows_it(tmp_path: Path) -> None:
    """A data directory renamed while its store is open: the server runs on in it, and every
    path the store used named the old place. close() raised a bare FileNotFoundError (the lock
    file's open) and left the server running for good. The store follows the directory (by its
    server's working directory): it writes, closes, and its server stops; it opens whole at
    the new place."""
    store = LineageStore.open(tmp_path / "s")
    put_dataset(store, "/before")
    server = embedded(store).server
    assert server is not None and server.pid is not None
    pid = server.pid
    (tmp_path / "s").rename(tmp_path / "moved")
    put_dataset(store, "/after")
    store.close()
    server.wait_exit(10)
    assert not _alive(pid)
    with LineageStore.open(tmp_path / "moved") as reopened:
        assert sorted(a.uri for a in reopened.get_artifacts()) == ["/after", "/before"]


def test_describe_says_where_a_moved_directory_is_and_that_a_removed_one_is_gone(
    tmp_path: Path,
) -> None:
    """describe() of a store whose directory was moved while open said the place it opened
    at, before and after calls (they need no path), until it closed. It says where the store
    is now; once the directory is removed, it says so."""
    store = LineageStore.open(tmp_path / "s")
    try:
        put_dataset(store, "/a")
        (tmp_path / "s").rename(tmp_path / "moved")
        assert store.describe()["data_dir"] == str((tmp_path / "moved").resolve())
        assert "data_dir_gone" not in store.describe()
        shutil.rmtree(tmp_path / "moved")
        facts = store.describe()
        assert "deleted" in facts["data_dir_gone"]
        assert [a.uri for a in store.get_artifacts()] == ["/a"]  # its server runs on
    finally:
        store.close()


def test_a_store_whose_directory_moved_and_server_died_says_so(tmp_path: Path) -> None:
    """A data directory renamed while its store is open, then its server killed: the restart
    used the old path. With a store made there meanwhile, it ran a server on that store's files
    and went on in it, silently (reads came back empty, writes went there); with nothing
    there, every call and close() raised a bare FileNotFoundError. Now the calls raise
    EngineUnavailableError saying the directory went, the other store is left alone, close()
    passes, and the moved store opens whole where it is."""
    store = LineageStore.open(tmp_path / "s")
    put_dataset(store, "/before")
    server = embedded(store).server
    assert server is not None and server.pid is not None
    (tmp_path / "s").rename(tmp_path / "moved")
    with LineageStore.open(tmp_path / "s") as other:  # a new store at the old place
        put_dataset(other, "/other")
    os.kill(server.pid, signal.SIGKILL)
    server.wait_exit(10)
    for call in (store.get_artifacts, lambda: put_dataset(store, "/lost")):
        with pytest.raises(EngineUnavailableError, match="moved, removed or replaced") as raised:
            call()
        assert "Open it again where its directory is now" in str(raised.value)
    assert _servers_on(tmp_path / "s") == []
    store.close()
    with LineageStore.open(tmp_path / "s") as other:
        assert [a.uri for a in other.get_artifacts()] == ["/other"]
    with LineageStore.open(tmp_path / "moved") as moved:
        assert [a.uri for a in moved.get_artifacts()] == ["/before"]


@pytest.mark.parametrize("stopped", [False, True], ids=["running", "stopped"])
def test_the_last_store_of_a_directory_removed_while_open_stops_its_server(
    tmp_path: Path, stopped: bool
) -> None:
    """A data directory removed (``rm -rf``) while its store is open: the server runs on in
    the deleted directory. close() raised a bare FileNotFoundError and left the server running
    for good (nothing can open the store again, nor stop it). The last store's close passes
    and stops it; also one stopped (SIGSTOP), which the close found hung and left."""
    store = LineageStore.open(tmp_path / "s", hang_after_s=1)
    put_dataset(store, "/a")
    server = embedded(store).server
    assert server is not None and server.pid is not None
    pid = server.pid
    try:
        shutil.rmtree(tmp_path / "s")
        if stopped:
            os.kill(pid, signal.SIGSTOP)
        store.close()
        server.wait_exit(10)
        assert not _alive(pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


_DROP_STOPPED = """
import gc, os, shutil, signal, sys
from pathlib import Path
from lineage_graph import LineageStore

target = Path(sys.argv[1])
store = LineageStore.open(target, hang_after_s=1)
server = store.backend.server
print(server.pid, server.socket_path, flush=True)
os.kill(server.pid, signal.SIGSTOP)
shutil.rmtree(target)
del store, server  # dropped unclosed: its server is left to the exit
gc.collect()
"""


def test_a_dropped_store_s_stopped_server_in_a_removed_directory_is_stopped_at_exit(
    tmp_path: Path,
) -> None:
    """A store dropped unclosed (MLMD code never closes its MetadataStore) whose server is
    stopped (SIGSTOP) and whose directory is removed: the exit asked its server for its
    clients on a connection of its own, 1 s at most, and the stopped server's silence (a
    TimeoutError) left it stopped for good in the deleted directory, its socket folder with it.
    The exit judges it as the store's close would (hung once silent and idle for
    ``hang_after_s``), and stops it; its socket folder goes."""
    child = subprocess.run(
        [sys.executable, "-c", _DROP_STOPPED, str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr
    said = child.stdout.split()
    pid, sock = int(said[0]), Path(said[1])
    try:
        gone = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < gone:
            time.sleep(0.05)
        assert not _alive(pid)
        assert not sock.parent.exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


_CLOSE_AT_ONCE = """
import sys, time
from pathlib import Path
from lineage_graph import LineageStore
from lineage_graph.backends.embedded import EmbeddedBackend

store_dir, me, other, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
real_alone = EmbeddedBackend._alone

def alone(self):
    # Both closes look for the last store at one moment: each waits (bounded) for the other
    # to get here first, as two processes closing at once may.
    me.touch()
    until = time.monotonic() + 10
    while not other.exists() and time.monotonic() < until:
        time.sleep(0.001)
    return real_alone(self)

EmbeddedBackend._alone = alone
store = LineageStore.open(store_dir)
print(store.backend.server.pid, flush=True)
while not go.exists():
    time.sleep(0.001)
store.close()
"""


def test_two_processes_closing_a_removed_directory_at_once_stop_its_server(
    tmp_path: Path,
) -> None:
    """Two processes' stores of a data directory removed while open close at one moment. With
    the directory's lock file gone, neither close was serialised: each saw the other's
    connection, took itself for not the last, and the server ran on for good in the deleted
    directory. The closes are serialised by a lock on the directory itself: the last stops
    it."""
    target, go = tmp_path / "s", tmp_path / "go"
    marks = [tmp_path / "a-ready", tmp_path / "b-ready"]
    children = []
    pid: int | None = None
    try:
        for me, other in (marks, marks[::-1]):
            child = subprocess.Popen(
                [sys.executable, "-c", _CLOSE_AT_ONCE, str(target), str(me), str(other), str(go)],
                stdout=subprocess.PIPE,
                text=True,
            )
            children.append(child)
            assert child.stdout is not None
            said = int(child.stdout.readline())
            assert pid is None or said == pid
            pid = said
        shutil.rmtree(target)
        go.touch()
        for child in children:
            assert child.wait(timeout=120) == 0
        gone = time.monotonic() + 30
        while pid is not None and _alive(pid) and time.monotonic() < gone:
            time.sleep(0.05)
        assert pid is not None and not _alive(pid)
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            child.wait(timeout=30)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _bind_mount(source: Path, target: Path) -> bool:
    """Whether ``source`` could be bind-mounted on ``target`` (root, with CAP_SYS_ADMIN)."""
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return False
    try:
        done = subprocess.run(
            ["mount", "--bind", str(source), str(target)],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def test_a_store_on_a_mount_detached_while_open_closes_and_stops_its_server(
    tmp_path: Path,
) -> None:
    """A store opened through a bind mount that is detached (``umount -l``) while it is open:
    its server runs on in the directory, which the kernel now names from the detached mount's
    root (``/<store name>``). That name was followed as the store's directory: close() raised
    a bare FileNotFoundError (the lock file's open at ``/<store name>``; any directory there
    was taken for the store's) and left the server running for good. close() passes and
    stops the server, which writes its log out first: the store opens whole where its files
    still are."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    if not _bind_mount(tmp_path / "a", tmp_path / "b"):
        pytest.skip("needs mount --bind (root, CAP_SYS_ADMIN)")
    name = f"lineage-graph-test-{os.getpid()}-{tmp_path.name}"
    assert not Path("/", name).exists()
    try:
        store = LineageStore.open(tmp_path / "b" / name)
        put_dataset(store, "/a")
        server = embedded(store).server
        assert server is not None and server.pid is not None
        pid = server.pid
    finally:
        subprocess.run(["umount", "-l", str(tmp_path / "b")], timeout=30, check=True)
    try:
        store.close()
        server.wait_exit(30)
        assert not _alive(pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not Path("/", name).exists()
    with LineageStore.open(tmp_path / "a" / name) as reopened:
        assert [a.uri for a in reopened.get_artifacts()] == ["/a"]


@pytest.mark.parametrize("how", ["close", "kill_in_removed_directory"])
def test_a_stopped_server_on_a_detached_mount_is_resumed_and_exits_on_its_sigterm(
    tmp_path: Path, how: str
) -> None:
    """A server stopped (SIGSTOP) on a store whose bind mount is detached (``umount -l``) while
    open: it was sent SIGTERM alone, which a stopped process never handles. The store's close
    found it hung and left it stopped for good; stopping it directly waited 30 s and raised
    ``subprocess.TimeoutExpired``, the server left stopped. It is resumed (SIGCONT), as every
    other stop does, and exits on its SIGTERM (status 0: shut down, its log written out, not
    killed)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    if not _bind_mount(tmp_path / "a", tmp_path / "b"):
        pytest.skip("needs mount --bind (root, CAP_SYS_ADMIN)")
    name = f"lineage-graph-test-{os.getpid()}-{tmp_path.name}"
    pid: int | None = None
    try:
        store = LineageStore.open(tmp_path / "b" / name, hang_after_s=1)
        put_dataset(store, "/a")
        server = embedded(store).server
        assert server is not None and server.pid is not None and server._proc is not None
        pid = server.pid
        os.kill(pid, signal.SIGSTOP)
    finally:
        subprocess.run(["umount", "-l", str(tmp_path / "b")], timeout=30, check=True)
    try:
        if how == "close":
            store.close()
        else:
            assert server.kill_in_removed_directory()
        server.wait_exit(30)
        assert server._proc.poll() == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        server.wait_exit(10)
        store.close()
    with LineageStore.open(tmp_path / "a" / name) as reopened:
        assert [a.uri for a in reopened.get_artifacts()] == ["/a"]


def _log_files(target: Path) -> list[str]:
    return sorted(p.name for p in (target / "appendonly").iterdir())


def _put_padded(store: LineageStore, n: int, prefix: str) -> None:
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_artifacts(
        [Artifact(type="DataSet", uri=f"{prefix}{i}", custom_properties={"pad": "x" * 1_000})
         for i in range(n)]
    )  # fmt: skip


def test_a_store_with_a_short_log_tail_opens_and_closes_without_a_rewrite(tmp_path: Path) -> None:
    """A rewrite of the append-only file is a fork of the server, and right after one, at
    start-up, the server hung (CI; 1 of ~5,200 opens in a stress loop here). Replaying a short
    tail is quicker than the fork: opening and closing such a store leaves the log's files as
    they were."""
    target = tmp_path / "s"
    with LineageStore.open(target) as store:
        put_dataset(store, "/a")
    files = _log_files(target)
    with LineageStore.open(target) as store:
        put_dataset(store, "/b")
        server = embedded(store).server
        assert server is not None and 0 < server.aof_tail_bytes() < COMPACT_TAIL_BYTES
    assert _log_files(target) == files  # no rewrite: same base, same tail file (grown)
    with LineageStore.open(target) as store:
        assert [a.uri for a in store.get_artifacts()] == ["/a", "/b"]


def test_a_long_log_tail_is_compacted_when_the_store_closes_or_opens(tmp_path: Path) -> None:
    """From ``COMPACT_TAIL_BYTES`` on, the tail is rewritten into a snapshot: by the last
    client's close, and on open when a crash left it (the next start loads the snapshot instead
    of replaying every statement)."""
    target = tmp_path / "s"
    store = LineageStore.open(target)
    _put_padded(store, 1_500, "/first/")
    server = embedded(store).server
    assert server is not None and server.aof_tail_bytes() >= COMPACT_TAIL_BYTES
    store.close()
    assert server.aof_tail_bytes() == 0
    store = LineageStore.open(target)
    _put_padded(store, 1_500, "/second/")
    server = embedded(store).server
    assert server is not None and server.pid is not None
    os.kill(server.pid, signal.SIGKILL)  # no close: the tail stays
    server.wait_exit(10)
    assert server.aof_tail_bytes() >= COMPACT_TAIL_BYTES
    with LineageStore.open(target) as reopened:
        deadline = time.monotonic() + 60
        while server.aof_tail_bytes() >= COMPACT_TAIL_BYTES:  # a rewrite runs in the background
            assert time.monotonic() < deadline, "the tail left by the crash was not compacted"
            time.sleep(0.05)
        assert len(reopened.get_artifacts()) == 3_000
    store.close()


def test_a_store_closed_while_its_open_compacts_the_log_waits_for_it(tmp_path: Path) -> None:
    """Opening a store with a long tail starts a rewrite in the background; closing it at once
    asked for another, which the server refused (one in progress), so the close went on and
    SHUTDOWN killed the running rewrite ("There is a child rewriting the AOF. Killing it!"):
    the tail stayed. The close now waits for it, then compacts what was written since."""
    target = tmp_path / "s"
    store = LineageStore.open(target)
    _put_padded(store, 1_500, "/first/")
    server = embedded(store).server
    assert server is not None and server.pid is not None
    os.kill(server.pid, signal.SIGKILL)  # no close: the tail stays, for the next open
    server.wait_exit(10)
    store.close()
    with LineageStore.open(target) as reopened:  # starts a rewrite of the long tail
        _put_padded(reopened, 1_500, "/second/")
        again = embedded(reopened).server
        assert again is not None
    assert "Killing it" not in (target / "server.log").read_text(errors="replace")
    assert again.aof_tail_bytes() == 0
    with LineageStore.open(target) as reopened:
        assert len(reopened.get_artifacts()) == 3_000


def test_memory_store_recovers_from_a_dead_server_with_a_typed_error() -> None:
    with LineageStore.open("memory") as store:
        put_dataset(store, "/x")
        server = embedded(store).server
        assert server is not None
        server.kill()
        with pytest.raises(EngineUnavailableError) as info:
            store.put_artifact_type(ArtifactType(name="Other"))
        assert info.value.retryable and "in-memory data was lost" in str(info.value)
        assert server.restarts == 1
        put_dataset(store, "/y")  # usable again (empty, as memory mode says)
        assert [a.uri for a in store.get_artifacts()] == ["/y"]


def test_data_directory_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        foreign = tmp_path / "foreign"  # under tmp_path: a mkdtemp() was left in TMPDIR
        foreign.mkdir()
        os.chown(foreign, 65534, 65534)  # nobody
    else:
        foreign = Path("/")  # owned by root, i.e. by someone else
    with pytest.raises(ConfigurationError, match="owned by uid"):
        LineageStore.open(foreign)


def test_a_store_path_that_cannot_be_made_is_a_configuration_error(tmp_path: Path) -> None:
    """A file at the path itself was a ConfigurationError, but a file as a parent raised
    NotADirectoryError from mkdir: every reason the directory cannot be made is one, too."""
    afile = tmp_path / "afile"
    afile.write_text("not a store")
    with pytest.raises(ConfigurationError, match="exists and is not a directory"):
        LineageStore.open(afile)
    with pytest.raises(ConfigurationError, match=r"cannot create .*afile/sub: not a directory"):
        LineageStore.open(afile / "sub")
    assert afile.read_text() == "not a store"


def test_a_folder_of_other_files_is_not_made_a_store(tmp_path: Path) -> None:
    """``LineageStore.open(dir)`` on a folder holding files but no store (a project folder)
    made a store there: ``appendonly/``, ``dump.rdb``, ``server.log``, the lock and marker files
    among the user's (the command line refused it). It is ``ConfigurationError`` naming the
    folder, and nothing is added; a ``dump.rdb`` alone (no log: its server started empty and
    the close overwrote it) is refused too, with what to do. Every store layout still opens."""
    import json
    import shutil

    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    with pytest.raises(ConfigurationError, match="not empty and holds no store") as info:
        LineageStore.open(project)
    assert str(project) in str(info.value) and "new" in str(info.value)
    assert [p.name for p in project.iterdir()] == ["notes.txt"]

    store = tmp_path / "store"
    with LineageStore.open(store) as first:
        put_dataset(first, "/d")
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    shutil.copy2(store / "dump.rdb", snapshot / "dump.rdb")
    data = (snapshot / "dump.rdb").read_bytes()
    with pytest.raises(ConfigurationError, match="alone is no store") as info:
        LineageStore.open(snapshot)
    assert "rebuild the append-only log" in str(info.value)
    assert [p.name for p in snapshot.iterdir()] == ["dump.rdb"]
    assert (snapshot / "dump.rdb").read_bytes() == data

    (store / "notes.txt").write_text("mine")  # a store with other files beside it
    older = tmp_path / "older"  # an earlier version's: its log, no marker (and no lock here)
    shutil.copytree(store, older)
    (older / "lineage-graph.store").unlink()
    (older / "lineage-graph.lock").unlink()
    crashed = tmp_path / "crashed"  # killed as its first opening started the server
    crashed.mkdir()
    (crashed / "lineage-graph.lock").write_text("999999\n")
    (crashed / "server.json").write_text(json.dumps({"pid": 999999, "socket": "/no/such.sock"}))
    marked = tmp_path / "marked"  # the marker alone: a store that lost its log, refused as such
    marked.mkdir()
    (marked / "lineage-graph.store").write_text("")
    with pytest.raises(FailedPreconditionError, match="lost its append-only log"):
        LineageStore.open(marked)
    empty = tmp_path / "empty"
    empty.mkdir()
    for path, uris in (
        (store, ["/d"]),
        (older, ["/d"]),
        (crashed, []),
        (empty, []),
        (tmp_path / "new" / "sub", []),
    ):
        with LineageStore.open(path) as opened:
            assert [a.uri for a in opened.get_artifacts()] == uris, path


@pytest.mark.parametrize(
    "placeholders",
    [[".gitkeep"], [".gitignore", ".DS_Store"], ["lost+found/"], ["Thumbs.db", "desktop.ini"]],
)
def test_a_folder_holding_only_placeholders_is_made_a_store(
    tmp_path: Path, placeholders: list[str]
) -> None:
    """The refusal of a folder of other files (above) took in folders a user makes for the
    store: one a repository keeps with ``.gitkeep`` (or a ``.gitignore`` of ``*``), one a
    desktop's file browser left its ``.DS_Store`` in, a volume mounted for the store (its
    ``lost+found``). ``LineageStore.open`` refused them where earlier versions made the store,
    and ``import-mlmd`` too. They are made stores, their files kept; a README is still another
    file of the user's."""
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    from tests.cli.conftest import invoke

    def folder(name: str) -> Path:
        path = tmp_path / name
        path.mkdir()
        for entry in placeholders:
            if entry.endswith("/"):
                (path / entry).mkdir()
            else:
                (path / entry).write_text("*\n")
        return path

    path = folder("store")
    with LineageStore.open(path) as store:
        put_dataset(store, "/d")
    with LineageStore.open(path) as store:
        assert [a.uri for a in store.get_artifacts()] == ["/d"]
    assert {p.rstrip("/") for p in placeholders} <= {p.name for p in path.iterdir()}

    source = tmp_path / "src.sqlite"
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(source)
    metadata_store.MetadataStore(config)
    result = invoke(["import-mlmd", str(source), "--store", str(folder("imported"))])
    assert result.exit_code == 0, result.output

    readme = folder("readme")
    (readme / "README.md").write_text("the team's store")
    with pytest.raises(ConfigurationError, match="not empty and holds no store"):
        LineageStore.open(readme)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_external_server_by_url(tcp_server: tuple[int, str]) -> None:
    port, password = tcp_server
    with LineageStore.open(f"redis://:{password}@127.0.0.1:{port}/mygraph") as store:
        put_dataset(store, "/ext")
        info = store.describe()
        assert info["mode"] == "external" and info["graph"] == "mygraph"
        assert password not in repr(info)
    with LineageStore.open(
        f"redis://127.0.0.1:{port}", password=password, graph="mygraph"
    ) as store:
        assert [a.uri for a in store.get_artifacts()] == ["/ext"]


def test_an_external_server_that_gives_no_reply_is_said_so(tcp_server: tuple[int, str]) -> None:
    """An external server (one the user runs, by its URL) that gives no reply within
    ``socket_timeout_s`` (here stopped, SIGSTOP) was said to be "unreachable" in redis's words
    ("Timeout reading from 127.0.0.1:PORT"), for a read, a write (its new connection's
    handshake) and an opening alike. Each is EngineUnavailableError saying no reply came within
    socket_timeout_s, that a write may still be applied, and what to set."""
    port, password = tcp_server
    url = f"redis://:{password}@127.0.0.1:{port}/g"
    with LineageStore.open(url, socket_timeout_s=1) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        pid = int(store.backend._db.connection.info("server")["process_id"])  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(EngineUnavailableError) as read:
                store.get_artifacts()
            with pytest.raises(EngineUnavailableError) as write:
                store.put_artifacts([Artifact(type="Data", uri="/x")])
            with pytest.raises(EngineUnavailableError) as opening:
                LineageStore.open(url, socket_timeout_s=1)
        finally:
            os.kill(pid, signal.SIGCONT)
        for raised in (read, write, opening):
            message = str(raised.value)
            assert raised.value.retryable, message
            assert "Timeout reading" not in message and "unreachable" not in message, message
            assert "gave no reply" in message and "within socket_timeout_s (1 s" in message
            assert "may still be applied" in message, message
            assert password not in message
        assert [a.uri for a in store.get_artifacts()] in ([], ["/x"])  # it answers again


def test_a_graph_argument_naming_another_graph_than_the_url_is_refused(
    tcp_server: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``redis://h:1/g1`` opened with ``graph="g2"`` opened ``g1``, silently: the URL's path
    won over the argument. Refused, the password unquoted; the same graph both ways opens it,
    and the URL's path wins over ``LINEAGE_GRAPH_GRAPH`` (a default for every store)."""
    port, password = tcp_server
    url = f"redis://:{password}@127.0.0.1:{port}"
    with pytest.raises(ConfigurationError, match="'g2' names another graph") as raised:
        LineageStore.open(f"{url}/g1", graph="g2")
    assert password not in str(raised.value)
    with LineageStore.open(f"{url}/g1", graph="g1") as store:
        assert store.describe()["graph"] == "g1"
    with LineageStore.open(url, graph="g2") as store:
        assert store.describe()["graph"] == "g2"
    monkeypatch.setenv("LINEAGE_GRAPH_GRAPH", "g2")
    with LineageStore.open(f"{url}/g1") as store:
        assert store.describe()["graph"] == "g1"


def test_a_password_argument_other_than_the_urls_is_refused(
    tcp_server: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``redis://:pw@h`` opened with ``password="other"`` used the URL's, silently (a password
    being rotated: the argument was never tried). Refused, neither quoted; the same password
    both ways opens, and the URL's wins over ``LINEAGE_GRAPH_PASSWORD``."""
    port, password = tcp_server
    url = f"redis://:{password}@127.0.0.1:{port}"
    with pytest.raises(ConfigurationError, match="another password") as raised:
        LineageStore.open(url, password="other-pw")
    assert password not in str(raised.value) and "other-pw" not in str(raised.value)
    with LineageStore.open(url, password=password) as store:
        assert store.describe()["mode"] == "external"
    monkeypatch.setenv("LINEAGE_GRAPH_PASSWORD", "other-pw")
    with LineageStore.open(url) as store:
        assert store.describe()["mode"] == "external"


def test_a_graph_name_with_nul_is_refused_and_empties_no_other_graph(
    tmp_path: Path, tcp_server: tuple[int, str]
) -> None:
    """FalkorDB cuts a graph's name at a NUL: opening ``graph="lineage\\x00x"`` on a directory
    emptied that directory's graph ``lineage`` (its first index creation replaced it), then
    failed with a QueryError. Refused before the server sees it; the store keeps its data."""
    with LineageStore.open(tmp_path) as store:
        put_dataset(store, "/kept")
        with pytest.raises(ConfigurationError, match="NUL"):
            LineageStore.open(tmp_path, graph="lineage\x00x")
        assert [a.uri for a in store.get_artifacts()] == ["/kept"]
    port, password = tcp_server
    url = f"redis://:{password}@127.0.0.1:{port}"
    with LineageStore.open(f"{url}/nulgraph") as store:
        put_dataset(store, "/ext-kept")
        with pytest.raises(ConfigurationError, match="NUL"):
            LineageStore.open(f"{url}/nulgraph\x00x")
        assert [a.uri for a in store.get_artifacts()] == ["/ext-kept"]


def test_a_query_memory_cap_too_small_to_run_is_a_configuration_error(tmp_path: Path) -> None:
    """FalkorDB crashed at its start with a cap of 100 bytes ("failed to start", EngineError,
    a crash report in server.log); under ~1 MB the store's own schema queries exceeded it."""
    with pytest.raises(ConfigurationError, match="at least 1048576 bytes"):
        LineageStore.open(tmp_path / "tiny", query_mem_capacity=100)
    assert not (tmp_path / "tiny" / "server.log").exists()  # no server was started
    with LineageStore.open(tmp_path / "small", query_mem_capacity=1024**2) as store:
        put_dataset(store, "/fits")
        assert [a.uri for a in store.get_artifacts()] == ["/fits"]


def test_external_server_wrong_password_is_a_configuration_error(
    tcp_server: tuple[int, str],
) -> None:
    port, _ = tcp_server
    with pytest.raises(ConfigurationError) as info:
        LineageStore.open(f"redis://:wrong-pw@127.0.0.1:{port}")
    assert "wrong-pw" not in str(info.value)


def test_a_copy_of_a_data_directory_made_while_its_server_runs_is_a_store_of_its_own(
    tmp_path: Path,
) -> None:
    """``cp -r store copy`` while the store is open copies the server's record too: opening the
    copy attached to the original's server, so the copy's writes went into the original store
    (and the copy never saw them). A symlink to the directory still shares its server."""
    import shutil

    from lineage_graph.backends._falkordb_server import running_server

    original, copy, link = tmp_path / "store", tmp_path / "copy", tmp_path / "link"
    with LineageStore.open(original) as first:
        put_dataset(first, "/original")
        shutil.copytree(original, copy)
        link.symlink_to(original)
        assert running_server(copy) is None and running_server(link) == embedded(first)._server.pid  # type: ignore[union-attr]
        with LineageStore.open(link) as linked:
            assert embedded(linked)._server.pid == embedded(first)._server.pid  # type: ignore[union-attr]
        with LineageStore.open(copy) as second:
            assert embedded(second)._server.pid != embedded(first)._server.pid  # type: ignore[union-attr]
            second.put_artifacts([Artifact(type="DataSet", uri="/copy")])
        assert [a.uri for a in first.get_artifacts()] == ["/original"]
    with LineageStore.open(copy) as again:
        assert sorted(a.uri for a in again.get_artifacts()) == ["/copy", "/original"]


def test_each_opener_of_a_shared_directory_gets_its_own_query_timeout(tmp_path: Path) -> None:
    """The server of a directory is started by its first opener, with that opener's query
    timeout as the server's default: a later opener's ``query_timeout_ms`` was ignored, so the
    longer limit docs/reliability.md advises for a long migration still stopped the statement
    at the first opener's (and a shorter one never stopped anything). Each store's own applies."""
    from lineage_graph import QueryError

    slow = "UNWIND range(1, 12000000) AS x WITH x WHERE x % 7 = 0 RETURN count(x) AS n"
    with LineageStore.open(tmp_path, query_timeout_ms=50) as first:
        with pytest.raises(QueryError, match="timed out"):
            first.backend.read(slow)
        with LineageStore.open(tmp_path, query_timeout_ms=600_000) as patient:
            assert patient.backend.read(slow) == [{"n": 12000000 // 7}]
        with LineageStore.open(tmp_path, query_timeout_ms=0, query_timeout_max_ms=0) as unbound:
            assert unbound.backend.read(slow) == [{"n": 12000000 // 7}]
        with pytest.raises(QueryError, match="timed out"):  # the first keeps its own
            first.backend.read(slow)
        with LineageStore.open(tmp_path, query_timeout_ms=600_000) as loader:
            staging = loader.backend.stage()  # a bulk load's graph: the loader's limit too
            assert staging is not None
            with staging:
                assert staging.backend.read(slow) == [{"n": 12000000 // 7}]


def test_a_reply_is_awaited_as_long_as_the_server_may_run_a_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store given a query limit past 10 minutes (docs/reliability.md: a long migration) waited
    for a reply only ``socket_timeout_s``, 660 s: the migration was cut at 11 minutes with
    EngineUnavailableError "the FalkorDB server is unreachable ...: Timeout reading from
    socket" (measured with a 2 s socket timeout and an 8 s migration). A socket timeout not
    given is now at least the server's longest query and a minute; one given is kept."""
    hour = 3_600_000
    with LineageStore.open(tmp_path, query_timeout_ms=hour, query_timeout_max_ms=hour) as store:
        assert embedded(store).settings.socket_timeout_s == hour / 1000 + 60
        assert store.backend.read("RETURN 1 AS x") == [{"x": 1}]
    with LineageStore.open(tmp_path, query_timeout_max_ms=hour, socket_timeout_s=30) as store:
        assert embedded(store).settings.socket_timeout_s == 30
    monkeypatch.setenv("LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS", str(hour))
    with LineageStore.open(tmp_path) as store:  # the maximum from the environment too
        assert embedded(store).settings.socket_timeout_s == hour / 1000 + 60
    monkeypatch.setenv("LINEAGE_GRAPH_SOCKET_TIMEOUT_S", "45")
    with LineageStore.open(tmp_path) as store:
        assert embedded(store).settings.socket_timeout_s == 45
    monkeypatch.delenv("LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS")
    monkeypatch.delenv("LINEAGE_GRAPH_SOCKET_TIMEOUT_S")
    with LineageStore.open(tmp_path) as store:  # the default maximum: 660 s, as before
        assert embedded(store).settings.socket_timeout_s == 660


def test_a_reply_is_awaited_as_long_as_a_query_without_a_maximum_may_run(
    tmp_path: Path,
) -> None:
    """With no maximum (``query_timeout_max_ms=0``, none) a store's own ``query_timeout_ms`` is
    the longest its queries run: an hour's migration limit still had its reply given up at
    660 s (the floor was the maximum, 0, and a minute). Both 0 (no limit): the default."""
    hour = 3_600_000
    with LineageStore.open(tmp_path, query_timeout_ms=hour, query_timeout_max_ms=0) as store:
        assert embedded(store).settings.socket_timeout_s == hour / 1000 + 60
        assert store.backend.read("RETURN 1 AS x") == [{"x": 1}]
    with LineageStore.open(tmp_path, query_timeout_ms=0, query_timeout_max_ms=0) as store:
        assert embedded(store).settings.socket_timeout_s == 660


def test_an_external_server_on_a_unix_socket_gets_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``unix:///path.sock`` is an external server as ``redis://`` is, and may ask for a
    password: the ``password`` setting (argument or LINEAGE_GRAPH_PASSWORD) and one in the URL
    were ignored there, so every opening was refused ("Authentication required")."""
    from tests._external_server import unix_socket_server

    password = "unix-" + os.urandom(8).hex()
    with unix_socket_server(tmp_path, password) as (sock, _):
        with LineageStore.open(f"unix://{sock}", password=password) as store:
            put_dataset(store, "/unix")
        with LineageStore.open(f"unix://:{password}@{sock}") as store:
            assert [a.uri for a in store.get_artifacts()] == ["/unix"]
        monkeypatch.setenv("LINEAGE_GRAPH_PASSWORD", password)
        with LineageStore.open(f"unix://{sock}") as store:
            assert store.describe()["mode"] == "external" and len(store.get_artifacts()) == 1
        with pytest.raises(ConfigurationError) as refused:
            LineageStore.open(f"unix://{sock}", password="wrong-pw")
        assert "wrong-pw" not in str(refused.value) and password not in str(refused.value)


@pytest.mark.parametrize(
    "url", ["unix://", "unix://store.sock", "unix://:pw@store.sock", "redis://127.0.0.1:0"]
)
def test_an_external_url_naming_no_server_is_a_configuration_error(url: str) -> None:
    """``unix://store.sock`` (two slashes: the path read as a host) tried the socket '' and
    ``redis://host:0`` the server on port 6379: both said the server was unreachable
    (EngineUnavailableError, retryable) or opened another server than the URL names."""
    with pytest.raises(ConfigurationError, match=r"unix:///path/to\.sock|port is 1 to 65535") as e:
        LineageStore.open(url)
    assert "pw" not in str(e.value).replace("password", "")


def test_unreachable_external_server_is_unavailable() -> None:
    with pytest.raises(EngineUnavailableError):
        LineageStore.open(f"redis://127.0.0.1:{_free_port()}")


def test_memory_store_opened_in_a_short_lived_thread_keeps_its_server() -> None:
    """The server dies with the process, not with the thread that happened to open the store
    (PR_SET_PDEATHSIG follows the forking thread: a daemon spawner thread forks it)."""
    opened: list[LineageStore] = []
    worker = threading.Thread(target=lambda: opened.append(LineageStore.open("memory")))
    worker.start()
    worker.join()
    with opened[0] as store:
        time.sleep(0.5)  # the parent-death signal would have arrived by now
        assert put_dataset(store, "/after-the-thread") == 1
        assert [a.uri for a in store.get_artifacts()] == ["/after-the-thread"]


def test_memory_server_dies_with_a_killed_process(request: pytest.FixtureRequest) -> None:
    """A SIGKILLed owner leaves no in-memory server behind (its data could not be reached)."""
    script = (
        "import threading, sys\n"
        "from lineage_graph import LineageStore\n"
        "box = []\n"
        "t = threading.Thread(target=lambda: box.append(LineageStore.open('memory')))\n"
        "t.start(); t.join()\n"
        "server = box[0].backend.server\n"
        "print(server.pid, server.socket_path, flush=True)\n"
        "sys.stdin.read()\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert owner.stdout is not None
    said, sock = owner.stdout.readline().split(" ", 1)
    pid = int(said)
    # Its socket folder (and log) stay: no one is left to remove them (the sweep of a later
    # start does, an hour on). The test's own, removed here: it was left in TMPDIR.
    request.addfinalizer(lambda: shutil.rmtree(Path(sock.rstrip("\n")).parent, ignore_errors=True))
    os.kill(pid, 0)  # alive while its owner lives, although the opening thread has ended
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"in-memory server {pid} outlived its killed owner")


def test_a_memory_store_dropped_unclosed_stops_its_server() -> None:
    """MLMD code never closes its MetadataStore (ml_metadata has no close): a fake database per
    test left each adapter's memory server (~25 MB) running until the interpreter exited, 156
    at once in TFX's MLMD tests. Garbage-collected unclosed, a memory store stops its server
    (nothing else reaches its data); a forked child dropping its copy leaves the parent's be."""
    import gc

    pb = pytest.importorskip("ml_metadata.proto.metadata_store_pb2")
    from lineage_graph.mlmd import MetadataStore

    adapter = MetadataStore(pb.ConnectionConfig(fake_database=pb.FakeDatabaseConfig()))
    adapter.put_artifact_type(pb.ArtifactType(name="DataSet"))
    store = LineageStore.open("memory")
    put_dataset(store, "/x")
    servers = [embedded(adapter.lineage_store).server, embedded(store).server]
    assert all(s is not None and s.alive() for s in servers)
    del adapter, store
    gc.collect()
    assert [s.alive() for s in servers if s is not None] == [False, False]
    # In a forked child, dropping the store it inherited leaves the parent's server running.
    code = (
        "import gc, os\n"
        "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
        "s = LineageStore.open('memory')\n"
        "s.put_artifact_type(ArtifactType(name='DataSet'))\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    del s\n"
        "    gc.collect()\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "s.put_artifacts([Artifact(type='DataSet', uri='/parent')])\n"
        "print(sorted(a.uri for a in s.get_artifacts()))\n"
        "s.close()\n"
    )
    assert run_child(code, "unused").splitlines() == ["['/parent']"]


def test_a_memory_store_dropped_unclosed_keeps_a_server_another_store_uses() -> None:
    """A memory store garbage-collected unclosed killed its server at once, though a store
    opened on its socket (``unix://…``) still used it: that store's next call failed with
    EngineUnavailableError. As close() does, the collector's stop leaves a server another store
    is connected to."""
    import gc

    memory = LineageStore.open("memory")
    put_dataset(memory, "/x")
    server = embedded(memory).server
    assert server is not None and server.socket_path is not None
    with LineageStore.open(f"unix://{server.socket_path}") as other:
        del memory
        gc.collect()
        assert server.alive()
        assert [a.uri for a in other.get_artifacts()] == ["/x"]
        put_dataset(other, "/y")
    server.kill()
    server.cleanup()


def test_a_server_that_crashes_loading_the_store_is_named_so(tmp_path: Path) -> None:
    """FalkorDB 4.16.3 once wrote a base snapshot its loader crashes on (SIGSEGV): the start
    then failed after the start-up timeout (the crash's memory test kept the server busy) with
    a log tail of memory regions. The crash while loading is said in words, at once."""
    from lineage_graph.backends._falkordb_server import _load_crash

    log = tmp_path / "server.log"
    earlier = "1:M 05 Dec 2026 08:54:23.305 # There is a child rewriting the AOF. Killing it!\n"
    report = (
        "31575:M 05 Dec 2026 08:54:24.703 # Redis 8.2.3 crashed by signal: 11, si_code: 1\n"
        "------ STACK TRACE ------\n"
        "falkordb.so(RdbLoadRelationMatrices_v18+0xb8)[0x7fe4988c1838]\n"
        "redis-server(loadDataFromDisk+0x1a4)[0x488b94]\n"
        "*** Preparing to test memory region 7c3000 (2318336 bytes)\n"
    )
    log.write_text(earlier + report)
    assert _load_crash(log, len(earlier)) == "Redis 8.2.3 crashed by signal: 11, si_code: 1"
    assert _load_crash(log, len(earlier + report)) is None  # an earlier start's crash
    log.write_text(earlier + report.replace("loadDataFromDisk", "processCommand"))
    assert _load_crash(log, len(earlier)) is None  # not while loading: another failure
    assert _load_crash(tmp_path / "missing.log", 0) is None


def test_a_graph_name_holding_an_at_sign_is_given_as_the_graph_setting(
    tcp_server: tuple[int, str],
) -> None:
    """``redis://host:port/my@graph`` reads exactly as ``redis://u:123/x@host`` (a password
    ``123/x``), which was opened as the host ``u``, port ``123`` and quoted "connecting to
    u:123": both are refused, the message saying a graph name holding '@' is the graph
    setting or written ``%40`` (the path is percent-decoded). Given so, it opens."""
    port, password = tcp_server
    with pytest.raises(ConfigurationError, match="graph setting"):
        LineageStore.open(f"redis://127.0.0.1:{port}/my@graph", password=password)
    with LineageStore.open(f"redis://127.0.0.1:{port}", password=password, graph="my@graph") as s:
        put_dataset(s, "/at")
        assert s.describe()["graph"] == "my@graph"
    with LineageStore.open(f"redis://127.0.0.1:{port}", password=password, graph="my@graph") as s:
        assert [a.uri for a in s.get_artifacts()] == ["/at"]


def test_a_falkordb_urls_graph_is_percent_decoded(tcp_server: tuple[int, str]) -> None:
    """A FalkorDB URL's path names the graph percent-decoded, as every part of a URL is written
    (and as redis-py reads a URL's user, password, socket path and database, and this library
    the password): ``redis://h:p/my%20graph`` opened and wrote to a graph named ``my%20graph``,
    another graph than ``graph="my graph"`` names. An escape that is no UTF-8 (``%FF``) or a
    NUL (``%00``) is ConfigurationError, the URL not quoted."""
    port, password = tcp_server
    url = f"redis://:{password}@127.0.0.1:{port}"
    with LineageStore.open(f"{url}/my%20graph") as store:
        put_dataset(store, "/spaced")
        assert store.describe()["graph"] == "my graph"
    with LineageStore.open(url, graph="my graph") as store:
        assert [a.uri for a in store.get_artifacts()] == ["/spaced"]
    with LineageStore.open(f"{url}/my%20graph", graph="my graph") as store:  # the same graph
        assert [a.uri for a in store.get_artifacts()] == ["/spaced"]
    with LineageStore.open(f"{url}/team%40site%2Fruns") as store:
        put_dataset(store, "/at")
    with LineageStore.open(url, graph="team@site/runs") as store:
        assert [a.uri for a in store.get_artifacts()] == ["/at"]
    for path, why in (("bad%FFname", "no UTF-8"), ("lineage%00x", "NUL")):
        with pytest.raises(ConfigurationError, match=why) as raised:
            LineageStore.open(f"{url}/{path}")
        assert password not in str(raised.value) and path not in str(raised.value)
    with LineageStore.open(url, graph="lineage") as store:  # %00 emptied no other graph
        assert store.get_artifacts() == []


def test_a_unix_urls_socket_path_is_percent_decoded(tmp_path: Path) -> None:
    """``unix:///dir%20x/ext.sock`` tried the socket ``/dir%20x/ext.sock`` (redis-py decodes
    it): the server was said to be unreachable (EngineUnavailableError)."""
    from urllib.parse import quote

    from tests._external_server import unix_socket_server

    directory = tmp_path / "a b"
    directory.mkdir()
    with unix_socket_server(directory) as (sock, _):
        with LineageStore.open(f"unix://{quote(str(sock))}") as store:
            put_dataset(store, "/sock")
            assert store.describe()["host"] == str(sock)
        with LineageStore.open(f"unix://{sock}") as store:
            assert [a.uri for a in store.get_artifacts()] == ["/sock"]


@pytest.mark.parametrize("name", ["job%41x", os.fsdecode(b"job\xffx")])
def test_a_staged_graph_reaches_its_server_whatever_its_socket_folder_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A staged graph (an import's) dials the store's own server by a ``unix://`` URL of its
    socket: a temporary directory holding ``%41`` made it dial another folder's socket
    (EngineUnavailableError), one holding a byte no UTF-8 holds was a ConfigurationError."""
    # In a short folder: under a TMPDIR longer than /tmp (a CI job's, `mktemp -d`'s), the
    # socket's path in tmp_path did not fit, the socket went to /tmp and the test failed.
    short = Path(tempfile.mkdtemp(prefix="lgtest-", dir="/tmp"))
    try:
        base = short / name
        base.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(base))
        with LineageStore.open(tmp_path / "s") as store:
            assert any(base.iterdir())  # the server's socket folder is in it
            put_dataset(store, "/kept")
            staging = store.backend.stage()
            assert staging is not None
            with staging:
                assert staging.backend.read("RETURN 1 AS n") == [{"n": 1}]
            assert [a.uri for a in store.get_artifacts()] == ["/kept"]
    finally:
        shutil.rmtree(short, ignore_errors=True)


def test_a_url_with_query_options_is_refused_not_ignored(tcp_server: tuple[int, str]) -> None:
    """A FalkorDB URL's query was never read: ``?password=pw`` (redis-py's form, the one its
    docs give for a unix socket) was no password ("FalkorDB refused the credentials"), ``?db=1``
    opened database 0. Refused, saying where a password and a graph are written; the message
    quotes no part of the query (it may be a password)."""
    port, password = tcp_server
    for url in (f"redis://127.0.0.1:{port}/g?password={password}", f"redis://127.0.0.1:{port}#x"):
        with pytest.raises(ConfigurationError, match=r"takes no '\?' options") as info:
            LineageStore.open(url)
        assert password not in str(info.value)
    with LineageStore.open(f"redis://:{password}@127.0.0.1:{port}/g") as store:
        assert store.describe()["graph"] == "g"


def test_a_store_made_by_another_process_while_its_folder_is_checked_is_no_folder_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers of a pool opening one new store directory at once: one of them was refused with
    "is not empty and holds no store" (tests/embedded/test_processes.py, seen once in a run of
    its 24 opens): the check asked whether the directory holds a store (no: empty), then
    listed it, and another worker had created its lock file between the two looks. Here the
    other worker's first file lands between any two of the check's looks at the directory."""
    import lineage_graph.backends._server_state as state

    real_is_dir = Path.is_dir
    real_iterdir = Path.iterdir
    new = tmp_path / "new"

    def other_opener_arrives() -> None:
        with contextlib.suppress(FileExistsError):
            (new / state._LOCK_FILE).touch(exist_ok=False)

    def is_dir(self: Path) -> bool:
        answer = real_is_dir(self)
        if self == new:
            other_opener_arrives()
        return answer

    def iterdir(self: Path) -> Any:
        entries = list(real_iterdir(self))
        if self == new:
            other_opener_arrives()
        return iter(entries)

    for where in ("is_dir", "iterdir"):
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir()
        with monkeypatch.context() as patch:
            patch.setattr(Path, where, is_dir if where == "is_dir" else iterdir)
            assert state.foreign_directory(new) is None, where
        assert state.holds_store(new)
        with LineageStore.open(new) as store:  # and it is a store: it opens
            put_dataset(store, "/d")
            assert store.count("Artifact") == 1
    (new / "notes.txt").write_text("mine")  # a store's folder keeps being one
    assert state.foreign_directory(new) is None
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert "not empty and holds no store" in str(state.foreign_directory(other))
