"""Processes in two pid namespaces (a container and its host, ``unshare --pid``) sharing one
embedded data directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
