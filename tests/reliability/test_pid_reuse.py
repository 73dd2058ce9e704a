"""A server killed (SIGKILL) and reaped by the process that started it frees its pid, which the
kernel gives to the next process. A store attached to that server (started by another process)
took the new process for the server alive: its next call waited 10 s, then raised "unreachable"
instead of restarting the server, and its close waited 30 s and SIGKILLed that process. Found in
a crash loop killing servers and writers at random (pids wrapped around: pid_max 32768)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph import Artifact, ArtifactType, EngineUnavailableError, LineageStore
from tests.reliability.conftest import child_env

NS_LAST_PID = Path("/proc/sys/kernel/ns_last_pid")

HOLDER = """
import os, sys, time
from lineage_graph import LineageStore
store = LineageStore.open(sys.argv[1])
print("open", flush=True)
os.waitpid(int(sys.stdin.readline()), 0)  # its server, killed: reaped, as any parent does
print("reaped", flush=True)
time.sleep(120)
"""


def _holder(data: Path) -> subprocess.Popen[bytes]:
    """A process holding the store ``data`` open (its server started by it), that reaps the
    pid it is sent."""
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data)],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )


def _take_pid(pid: int, user: int | None = None) -> subprocess.Popen[bytes] | None:
    """A new process given ``pid`` (the kernel's next pid set to it), run as ``user`` (this
    process's by default), or None."""
    for _ in range(20):
        try:
            NS_LAST_PID.write_text(str(pid - 1))
        except OSError:  # writable by its mode, refused by the kernel (no CAP_SYS_ADMIN)
            return None
        proc = subprocess.Popen(["sleep", "120"], user=user, group=user)
        if proc.pid == pid:
            return proc
        proc.kill()
        proc.wait()
    return None


@pytest.mark.skipif(
    not os.access(NS_LAST_PID, os.W_OK), reason="needs a writable ns_last_pid (root on Linux)"
)
def test_a_dead_servers_pid_taken_by_another_process_is_not_the_server(tmp_path: Path) -> None:
    data = tmp_path / "store"
    holder = _holder(data)
    other: subprocess.Popen[bytes] | None = None
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == b"open\n"
        with LineageStore.open(data) as store:  # attached to the holder's server
            store.put_artifact_type(ArtifactType(name="D"))
            pid = int(store.describe()["pid"])
            os.kill(pid, signal.SIGKILL)
            holder.stdin.write(f"{pid}\n".encode())
            holder.stdin.flush()
            assert holder.stdout.readline() == b"reaped\n"
            other = _take_pid(pid)
            if other is None:
                pytest.skip(
                    "the pid was not handed over (another process took it, or the kernel refused)"
                )
            try:
                store.put_artifacts([Artifact(type="D", uri="/a")])
            except EngineUnavailableError as exc:  # the write in flight met the dead server
                assert "restarted" in str(exc), exc  # was "unreachable ... Connection refused"
            assert store.put_artifacts([Artifact(type="D", uri="/b")])
            assert int(store.describe()["pid"]) != pid
            assert other.poll() is None
            holder.kill()
            holder.wait()
        assert other.poll() is None  # the close did not kill it (it was SIGKILLed)
    finally:
        holder.kill()
        holder.wait()
        if other is not None:
            other.kill()
            other.wait()


#: A client of the holder's server, run without capabilities (as any user but root is): it
#: kills the server, then (told the pid is taken) writes twice and closes, saying how each went.
CLIENT = """
import os, signal, sys
from lineage_graph import Artifact, ArtifactType, LineageStore
store = LineageStore.open(sys.argv[1])
store.put_artifact_type(ArtifactType(name="D"))
pid = int(store.describe()["pid"])
os.kill(pid, signal.SIGKILL)
print(pid, flush=True)
sys.stdin.readline()
for uri in ("/a", "/b"):
    try:
        store.put_artifacts([Artifact(type="D", uri=uri)])
        print("wrote", flush=True)
    except Exception as exc:
        print(type(exc).__name__, str(exc).replace(chr(10), " "), flush=True)
try:
    store.close()
    print("closed", flush=True)
except Exception as exc:
    print(type(exc).__name__, exc, flush=True)
"""

NOBODY = 65534


@pytest.mark.skipif(
    not os.access(NS_LAST_PID, os.W_OK) or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root (a writable ns_last_pid, another user's process) and setpriv",
)
def test_a_dead_servers_pid_taken_by_another_users_process_is_not_the_server(
    tmp_path: Path,
) -> None:
    """Where that process is another user's, a client (not root) can read neither its working
    directory nor its binary in /proc: it was taken for the server alive, each call waited
    10 s and raised "unreachable" (never restarting the server), and the close waited 30 s and
    raised PermissionError, trying to SIGKILL it."""
    data = tmp_path / "store"
    holder = _holder(data)
    client: subprocess.Popen[bytes] | None = None
    other: subprocess.Popen[bytes] | None = None
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == b"open\n"  # its server started
        client = subprocess.Popen(  # no capability: cannot look into, or signal, nobody's process
            [
                "setpriv",
                "--bounding-set=-all",
                "--inh-caps=-all",
                sys.executable,
                "-c",
                CLIENT,
                str(data),
            ],
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert client.stdout is not None and client.stdin is not None
        pid = int(client.stdout.readline())
        holder.stdin.write(f"{pid}\n".encode())
        holder.stdin.flush()
        assert holder.stdout.readline() == b"reaped\n"
        other = _take_pid(pid, user=NOBODY)
        if other is None:
            pytest.skip(
                "the pid was not handed over (another process took it, or the kernel refused)"
            )
        client.stdin.write(b"go\n")
        client.stdin.flush()
        said = [client.stdout.readline().decode().strip() for _ in range(3)]
        assert said[0] == "wrote" or "restarted" in said[0], said  # not "unreachable"
        assert said[1:] == ["wrote", "closed"], said
        assert other.poll() is None
    finally:
        for proc in (client, holder, other):
            if proc is not None:
                proc.kill()
                proc.wait()
        # Every process that knew the killed server is killed here when the test ends early
        # (the pid not handed over: skipped): its socket folder, holding its dead socket, was
        # left in the temporary directory. The next opener of the store removes it (and stops
        # a server the client restarted, as its last client).
        LineageStore.open(data).close()


#: Opens the store at argv[1], its server given pid argv[2] (the kernel's next pid set just
#: before the server is spawned), says the server's pid, and holds the store open.
HOLDER_AT = """
import subprocess, sys
from pathlib import Path
from lineage_graph import LineageStore
from lineage_graph.backends import _falkordb_server

popen = subprocess.Popen

def at_pid(*args, **kwargs):
    Path("/proc/sys/kernel/ns_last_pid").write_text(str(int(sys.argv[2]) - 1))
    return popen(*args, **kwargs)

_falkordb_server.subprocess.Popen = at_pid
store = LineageStore.open(sys.argv[1])
print(store.describe()["pid"], flush=True)
sys.stdin.readline()
store.close()
"""


@pytest.mark.skipif(
    not os.access(NS_LAST_PID, os.W_OK) or os.geteuid() != 0,
    reason="needs root (ns_last_pid is mode 0666, but the kernel lets only root write it)",
)
def test_another_processs_server_given_the_pid_of_a_server_this_process_started_is_running(
    tmp_path: Path,
) -> None:
    """A server this process started, stopped and reaped, leaves its pid to the kernel, which
    may give it to a server another process starts (pids wrap around: a long-running process,
    a test run). That server was taken for dead by this pid alone (the exit status of the
    first one): ``running_server`` said None though it served its store, and opening that
    store here stopped the other process's server under it (SIGTERM, not waited for: taken for
    gone at once) and started a second one on the same files. Seen as a test failing now and
    then in full runs: the orphan server of the next test took the pid of an earlier test's."""
    from lineage_graph.backends._falkordb_server import running_server

    with LineageStore.open(tmp_path / "earlier") as store:
        freed = int(store.describe()["pid"])  # this process's child: exited, reaped at the close
    data = tmp_path / "store"
    holder: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(20):  # another process may take the pid first: tried again
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLDER_AT, str(data), str(freed)],
                env=child_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            assert holder.stdout is not None and holder.stdin is not None
            if int(holder.stdout.readline()) == freed:
                break
            holder.stdin.close()
            holder.wait(60)
            holder = None
        if holder is None:
            pytest.skip("the pid was not handed over (another process took it)")

        assert running_server(data) == freed
        with LineageStore.open(data) as store:  # attached to the holder's server
            assert int(store.describe()["pid"]) == freed
            store.put_artifact_type(ArtifactType(name="D"))
        assert running_server(data) == freed  # still the holder's
    finally:
        if holder is not None:
            assert holder.stdin is not None
            with contextlib.suppress(OSError):  # (gone already)
                holder.stdin.close()  # it closes the store, its server stopped
            try:
                holder.wait(60)
            finally:
                holder.kill()
                holder.wait(60)
