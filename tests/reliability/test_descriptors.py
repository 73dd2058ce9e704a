"""A process out of file descriptors (``ulimit -n``) opening embedded stores."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

_OPENER = """
import json, resource, sys
from lineage_graph import Artifact, ArtifactType, LineageStore, NodeKind
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
stores, failed = [], None
for i in range(200):
    try:
        stores.append(LineageStore.open(f"{sys.argv[1]}/s{i}"))
    except BaseException as exc:  # the test fails on any but the typed error
        failed = [i, type(exc).__name__, getattr(exc, "retryable", None), str(exc)]
        break
stores.pop().close()  # descriptors freed: the same opening now works
with LineageStore.open(f"{sys.argv[1]}/s{failed[0]}") as store:
    store.put_artifact_type(ArtifactType(name="Data"))
    ids = store.put_artifacts([Artifact(type="Data", uri="/x")])
    count = store.count(NodeKind.ARTIFACT)
for store in stores:
    store.close()
print(json.dumps({"opened": len(stores) + 1, "failed": failed, "ids": ids, "count": count}))
"""


def _child_result(script: str, tmp_path: Path, **env_vars: str) -> dict[str, Any]:
    """Run ``script`` in a child process (its own descriptor limit) on ``tmp_path``, with
    ``env_vars`` set: the JSON object of its last line of output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env_vars}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_process_out_of_file_descriptors_gets_a_typed_error_saying_so(tmp_path: Path) -> None:
    """Opening one store too many under ``ulimit -n`` raised a bare ``OSError: [Errno 24] Too
    many open files`` from the server's start (or its lock file's open). It is
    EngineUnavailableError (retryable) now, naming the limit and what to do; with a store
    closed, the same opening works."""
    result = _child_result(_OPENER, tmp_path)
    _, kind, retryable, message = result["failed"]
    assert kind == "EngineUnavailableError" and retryable, message
    assert "ulimit -n" in message and "64" in message
    assert result["ids"] == [1] and result["count"] == 1


_SHARER = """
import json, resource, sys
from lineage_graph import LineageStore
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[2]), int(sys.argv[2])))
stores, failed = [], None
try:
    for i in range(30):
        try:
            stores.append(LineageStore.open(f"{sys.argv[1]}/s"))
        except BaseException as exc:  # the test fails on any but the typed error
            failed = [i, type(exc).__name__, getattr(exc, "retryable", None), str(exc)]
            break
finally:
    for store in stores:
        store.close()
print(json.dumps({"opened": len(stores), "failed": failed}))
"""


def _share(tmp_path: Path, limit: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _SHARER, str(tmp_path), str(limit)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_server_full_for_its_descriptor_limit_says_so(tmp_path: Path) -> None:
    """A server started under ``ulimit -n 40`` serves 8 clients (Redis keeps 32 descriptors for
    itself). The next opening waited a minute and said the server "drops connections and does
    not exit". It says now, at once, that the server has as many clients as its descriptor
    limit lets it serve, that limit, and how to raise it."""
    result = _share(tmp_path, 40)
    assert result["failed"] is not None, result
    _, kind, retryable, message = result["failed"]  # type: ignore[misc]
    assert kind == "EngineUnavailableError" and retryable, message
    assert "drops connections" not in message
    assert "file descriptor limit" in message and "is 40" in message, message
    assert "at most 8" in message and "ulimit -n" in message, message


def test_a_server_below_its_least_descriptor_limit_says_so(tmp_path: Path) -> None:
    """Under ``ulimit -n 30`` the server cannot start (it needs 33): the error was "failed to
    start" above Redis's log, which asked for 10032 descriptors. It names the limit, the least
    the server needs, and how to raise it."""
    result = _share(tmp_path, 30)
    assert result["opened"] == 0, result
    _, kind, _, message = result["failed"]  # type: ignore[misc]
    assert kind == "EngineError", message
    assert "failed to start" not in message and "10032" not in message, message
    assert "ulimit -n) is 30" in message and "at least 33" in message, message


_LOST_ON_A_FULL_SERVER = """
import json, resource, sys, time
from lineage_graph import Artifact, ArtifactType, LineageStore, NodeKind
resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))  # the server serves 8 clients
path = f"{sys.argv[1]}/s"
first = LineageStore.open(path)
first.put_artifact_type(ArtifactType(name="Data"))
backend = first.backend
most = int(backend._execute("CONFIG", "GET", "maxclients")[1])

def clients():
    listed = backend._execute("CLIENT", "LIST")
    listed = listed.decode() if isinstance(listed, bytes) else listed
    return [line for line in listed.splitlines() if " name=lineage-graph-" in line]

def open_one():
    # an opening is refused while the server has not yet dropped a probe connection closed
    # just before (it counts as a client until then): tried again, a bounded number of times
    for _ in range(200):
        try:
            return LineageStore.open(path)
        except Exception:
            time.sleep(0.05)
    raise AssertionError("no opening succeeded")

others = [open_one() for _ in range(most - 1)]  # a connection each: the server is full
assert len(clients()) == most
ident = next(
    f.split("=", 1)[1]
    for line in clients()
    if f"name={backend._client_name} " in line + " "
    for f in line.split()
    if f.startswith("id=")
)
others[-1].backend._execute("CLIENT", "KILL", "ID", ident)  # the first store's connection goes
others.append(open_one())  # and another store takes its place: full again
said = []
for call in (lambda: first.count(NodeKind.ARTIFACT),
             lambda: first.put_artifacts([Artifact(type="Data", uri="/x")])):
    try:
        call()
        said.append(None)
    except BaseException as exc:  # the test fails on any but the typed error
        said.append([type(exc).__name__, getattr(exc, "retryable", None), str(exc)])
others.pop().close()  # a client fewer: the first store reconnects
ids = first.put_artifacts([Artifact(type="Data", uri="/y")])
count = first.count(NodeKind.ARTIFACT)
for store in [first, *others]:
    store.close()
print(json.dumps({"most": most, "said": said, "ids": ids, "count": count}))
"""


def test_an_open_store_reconnecting_to_a_full_server_is_told_it_is_full(tmp_path: Path) -> None:
    """A store already open whose connection was lost, on a server at its most clients (started
    under ``ulimit -n 40``: 8), was told the server was "unreachable" ("Broken pipe"), after a
    10 s wait for it to exit, where an opening is told it is full. Its read and its write now
    say the server refused the store's new connection for having as many clients as its
    descriptor limit lets it serve, that limit and how to raise it; with a store closed, it
    reconnects and writes."""
    result = _child_result(_LOST_ON_A_FULL_SERVER, tmp_path)
    for said in result["said"]:
        assert said is not None, result
        kind, retryable, message = said
        assert kind == "EngineUnavailableError" and retryable, message
        assert "unreachable" not in message, message
        assert "refused this store's new connection" in message, message
        assert "at most 8" in message and "is 40" in message and "ulimit -n" in message, message
    # the refused write was never sent (its first step, a read, was refused): not stored
    assert result["count"] == 1 and len(result["ids"]) == 1, result


_SPAWN_FAILS = """
import json, os, resource, sys, tempfile
from lineage_graph import LineageStore
LineageStore.open("memory").close()  # every module imported: the spawn is what fails below
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
failed = []
for extra in range(4):
    for path in ("memory", f"{sys.argv[1]}/s{extra}"):
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + extra, hard))
        try:
            LineageStore.open(path).close()
        except BaseException as exc:  # the test fails on any but the typed error
            failed.append(type(exc).__name__)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
print(json.dumps({"failed": failed, "left": os.listdir(tempfile.gettempdir())}))
"""


def test_an_open_whose_server_cannot_be_spawned_leaves_no_socket_folder(tmp_path: Path) -> None:
    """An open whose server could not be spawned (no descriptor left for its pipes) is
    EngineUnavailableError, and retrying is the remedy: each attempt left its new, empty
    socket folder (``lg-*``) in the temporary directory for good (until a sweep an hour on)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc")
    tmp = Path(tempfile.mkdtemp(prefix="lgfd-", dir="/tmp"))  # short: a socket's path fits
    try:
        result = _child_result(_SPAWN_FAILS, tmp_path, TMPDIR=str(tmp))
        assert result["failed"] and set(result["failed"]) == {"EngineUnavailableError"}, result
        assert result["left"] == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
