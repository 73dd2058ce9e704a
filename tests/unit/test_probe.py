"""The socket probes the embedded engine, the viewer and the MLMD importer share: real sockets
(a unix socket in a temporary directory, TCP on loopback), no mocks."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lineage_graph._probe import connect, first_bytes

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="unix sockets")


@contextmanager
def _server(path: Path, said: bytes | None) -> Iterator[None]:
    """A unix socket server at ``path`` that accepts one connection and sends ``said`` then
    closes it (None: sends nothing and holds it open until the block ends)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    done = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(BrokenPipeError):  # (a client gone before it is said)
            if said is None:
                done.wait(30)
            else:
                conn.sendall(said)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(30)
        listener.close()


def test_connect_reaches_a_listening_unix_socket_and_tells_a_missing_or_refused_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sock"
    with pytest.raises(FileNotFoundError):
        connect(str(path), 5)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as bound:  # bound, not listening
        bound.bind(str(path))
        with pytest.raises(ConnectionRefusedError):
            connect(str(path), 5)
    path.unlink()
    with _server(path, None), connect(str(path), 5) as sock:
        assert sock.gettimeout() == 5


def test_connect_reaches_a_tcp_server_and_tells_a_refused_one() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        with connect(("127.0.0.1", port), 5) as sock:
            assert sock.getpeername() == ("127.0.0.1", port)
    with pytest.raises(ConnectionRefusedError):
        connect(("127.0.0.1", port), 5)  # (closed: the port is free at once)


@pytest.mark.parametrize("host", ["a..b", "x" * 64 + ".example"])
def test_a_host_that_is_no_host_name_is_a_gaierror_not_a_unicode_error(host: str) -> None:
    """Its IDNA encoding raised a UnicodeError (a ValueError) past every OSError handler."""
    with pytest.raises(socket.gaierror, match="not a valid host name: label empty or too long"):
        connect((host, 3306), 5)


def test_a_port_no_c_long_holds_is_an_oserror_not_an_overflow() -> None:
    with pytest.raises(OSError, match="no such port: 99999999999999999999"):
        connect(("127.0.0.1", 99999999999999999999), 5)


def test_first_bytes_reads_what_the_server_says_first_unasked(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with _server(path, b"-ERR max number of clients reached\r\n"):
        said = first_bytes(str(path), connect_s=5, read_s=5, size=256)
    assert said == b"-ERR max number of clients reached\r\n"
    path.unlink()
    with _server(path, b"greeting"):
        assert first_bytes(str(path), connect_s=5, read_s=5, size=1) == b"g"
    path.unlink()
    with _server(path, b""):  # closed without a word
        assert first_bytes(str(path), connect_s=5, read_s=5, size=16) == b""


def test_first_bytes_is_none_for_a_server_that_says_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with _server(path, None):
        assert first_bytes(str(path), connect_s=5, read_s=0.2, size=16) is None


def test_first_bytes_fails_to_connect_as_connect_does(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        first_bytes(str(tmp_path / "none.sock"), connect_s=5, read_s=5, size=16)
    with pytest.raises(socket.gaierror):
        first_bytes(("a..b", 3306), connect_s=5, read_s=5, size=16)
