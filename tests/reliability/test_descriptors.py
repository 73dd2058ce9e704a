"""A process out of file descriptors (``ulimit -n``) opening embedded stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_a_process_out_of_file_descriptors_gets_a_typed_error_saying_so(tmp_path: Path) -> None:
    """Opening one store too many under ``ulimit -n`` raised a bare ``OSError: [Errno 24] Too
    many open files`` from the server's start (or its lock file's open). It is
    EngineUnavailableError (retryable) now, naming the limit and what to do; with a store
    closed, the same opening works."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _OPENER, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
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
