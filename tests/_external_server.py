"""A FalkorDB server started by hand on a unix socket: an external server, as an operator runs
one, for the tests of ``unix://`` targets."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def unix_socket_server(
    directory: Path, password: str | None = None
) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A FalkorDB server of the embedded binaries on ``directory/ext.sock`` (with
    ``requirepass`` when ``password`` is given), killed when the block ends: its socket path and
    its process."""
    from lineage_graph.backends._falkordb_server import find_binaries

    binaries = find_binaries()
    sock = directory / "ext.sock"
    auth = ["--requirepass", password] if password is not None else []
    proc = subprocess.Popen(
        [
            str(binaries.redis_server), "--port", "0", "--unixsocket", str(sock),
            "--unixsocketperm", "700", *auth, "--dir", str(directory), "--save", "",
            "--loadmodule", str(binaries.module),
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        yield sock, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
