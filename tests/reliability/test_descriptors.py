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
