"""Processes in two pid namespaces (a container and its host, ``unshare --pid``) sharing one
embedded data directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

_HOLDER = """
import sys
from lineage_graph import Artifact, ArtifactType, LineageStore, NodeKind
with LineageStore.open(sys.argv[1]) as store:
    if sys.argv[2] == "write":
        store.put_artifact_type(ArtifactType(name="Data"))
        store.put_artifacts([Artifact(type="Data", uri="/x")])
    print("count", store.count(NodeKind.ARTIFACT), flush=True)
    sys.stdin.read()  # held open until the test closes stdin
"""


def _unshare_works() -> bool:
    if shutil.which("unshare") is None or not Path("/proc/self/ns/pid").exists():
        return False
    try:
        done = subprocess.run(
            ["unshare", "--pid", "--fork", "--mount-proc", "true"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _servers_on(store: Path) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}/cwd").st_ino == store.stat().st_ino and (
                Path(os.readlink(f"/proc/{name}/exe")).name.startswith("redis-server")
            ):
                found.append(int(name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare --pid (root, Linux)")
@pytest.mark.parametrize("first_in_namespace", [False, True])
def test_openers_in_two_pid_namespaces_share_one_server(
    tmp_path: Path, first_in_namespace: bool
) -> None:
    """The second opener, in the other pid namespace, read the recorded pid of the first one's
    server as a pid of its own namespace (none, or another process), took the server for gone
    and started a second one on the same files, beside it. It attaches to the running server
    by its socket now (the record names the pid namespace): one server, and the second
    opener reads the first one's write. The host's opener, reading a container's record, took
    its server for a stray no record names and stopped it under the container's store."""
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    unshare = ["unshare", "--pid", "--fork", "--mount-proc"]
    commands = [
        [sys.executable, "-c", _HOLDER, str(store), "write"],
        [sys.executable, "-c", _HOLDER, str(store), "read"],
    ]
    commands[0 if first_in_namespace else 1][:0] = unshare
    holders: list[subprocess.Popen[str]] = []
    try:
        lines: list[str] = []
        servers: list[list[int]] = []
        for command in commands:
            holder = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            holders.append(holder)
            assert holder.stdout is not None
            lines.append(holder.stdout.readline().strip())
            servers.append(_servers_on(store))
        assert lines == ["count 1", "count 1"], lines
        # one server, the first opener's: not stopped by the second (the host's opener took a
        # container's server for a stray of no record, and stopped it under its store)
        assert len(servers[0]) == 1 and servers[1] == servers[0], servers
    finally:
        for holder in reversed(holders):
            assert holder.stdin is not None
            holder.stdin.close()
            try:
                holder.wait(timeout=120)
            except subprocess.TimeoutExpired:
                holder.kill()
                holder.wait(timeout=10)


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare --pid (root, Linux)")
def test_the_last_close_stops_a_server_another_pid_namespace_started(tmp_path: Path) -> None:
    """An opener in a pid namespace (a container) attached to the server the host's opener
    started (no pid of it known there) and closing last took the server for one found hung
    (its unknown pid, None, equalled the none found hung): it sent no SHUTDOWN, could not
    kill it, and deleted its record. The server ran on, on the store's files, that no record
    named. It is shut down now, and the store reopens with what was written."""
    from lineage_graph import Artifact, ArtifactType, LineageStore, NodeKind

    unshare = ["unshare", "--pid", "--fork", "--mount-proc"]
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = LineageStore.open(str(store))
    holder: subprocess.Popen[str] | None = None
    try:
        first.put_artifact_type(ArtifactType(name="Data"))
        first.put_artifacts([Artifact(type="Data", uri="/x")])
        started = _servers_on(store)
        assert len(started) == 1, started
        holder = subprocess.Popen(
            [*unshare, sys.executable, "-c", _HOLDER, str(store), "read"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "count 1"
        first.close()  # the host's opener closes first: the server stays for the other
        assert _servers_on(store) == started
        holder.stdin.close()  # the last close, in the other namespace
        assert holder.wait(timeout=120) == 0, holder.stderr.read() if holder.stderr else ""
        # its socket goes just before its process exits: that exit is awaited (bounded)
        deadline = time.monotonic() + 60
        while _servers_on(store) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _servers_on(store) == [], "the server ran on after the last close"
        with LineageStore.open(str(store)) as reopened:
            assert reopened.count(NodeKind.ARTIFACT) == 1
    finally:
        first.close()
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        for pid in _servers_on(store):
            os.kill(pid, 9)


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare --pid (root, Linux)")
def test_a_killed_containers_server_is_told_gone_by_its_lock(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A container (its own pid namespace and /tmp) opened a store on a shared directory and
    was killed (its server with it). Every later opening, on the host or in the next
    container, was refused: the record names a server of another pid namespace whose socket
    folder (in the killed container's /tmp) is out of sight, so it could not tell the server
    was gone ("delete server.json and retry"). The server holds a lock on a file of the store
    while it runs: free, it is gone, and the store opens. While it runs, the opening is still
    refused (no second server on the same files)."""
    from lineage_graph import LineageStore, NodeKind
    from lineage_graph.exceptions import EngineUnavailableError

    store = tmp_path / "store"
    # Short: under a TMPDIR longer than /tmp (`mktemp -d`'s), the socket's path in tmp_path did
    # not fit, the container's server took the host's /tmp instead, and its socket was seen.
    private_tmp = Path(tempfile.mkdtemp(prefix="lgct-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(private_tmp, ignore_errors=True))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TMPDIR": str(private_tmp)}
    container = [
        *("unshare", "--kill-child", "--pid", "--fork", "--mount-proc", "--mount"),
        *("--propagation", "private", "sh", "-c", 'mount -t tmpfs none "$TMPDIR" && exec "$@"'),
        *("sh", sys.executable, "-c", _HOLDER, str(store), "write"),
    ]
    holder = subprocess.Popen(
        container,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "count 1", holder.stderr
        with pytest.raises(EngineUnavailableError, match="cannot see"):
            LineageStore.open(str(store)).close()  # it runs: refused
        holder.kill()  # the container is killed, its server with it
        holder.wait(timeout=60)
        deadline = time.monotonic() + 60
        while _servers_on(store) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _servers_on(store) == []
        with LineageStore.open(str(store)) as reopened:
            assert reopened.count(NodeKind.ARTIFACT) == 1
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        for pid in _servers_on(store):
            os.kill(pid, 9)
