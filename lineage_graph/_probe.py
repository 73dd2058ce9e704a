"""Probes of a server's socket that speak none of its protocol: a connection made within a
time, and what the server sends first, unasked.

One place for what was written four times: the embedded engine asks whether its server
listens (:func:`connect`) and whether it refuses clients for having its most
(:func:`first_bytes`), the viewer whether a display server answers (:func:`connect`), the MLMD
importer whether a MySQL server greets (:func:`first_bytes`). What each makes of a failure is
its own: the engine counts only a refusal as no server (a busy server is still one), the
viewer any failure, the importer tells them apart.
"""

from __future__ import annotations

import errno
import socket

#: A unix socket's path (a leading NUL: Linux's abstract namespace), or a TCP ``(host, port)``.
Address = str | tuple[str, int]


def connect(address: Address, timeout: float) -> socket.socket:
    """A stream connection to ``address``, made within ``timeout`` seconds (for each of a host
    name's addresses), which the socket keeps. Every failure is an ``OSError``:
    ``ConnectionRefusedError`` (nothing listens), ``FileNotFoundError`` (no such unix socket),
    ``TimeoutError``, ``socket.gaierror`` (a host name that does not resolve, and one that is
    no host name at all: ``a..b`` raised a ``UnicodeError`` as it was encoded to be looked up),
    an ``OSError`` ``EINVAL`` for a port no C long holds (``DISPLAY=host:99999999999999999999``
    raised an ``OverflowError``)."""
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return sock
    host, port = address
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except UnicodeError as exc:  # a ValueError: the IDNA encoding of the name refused it
        reason = exc.__cause__ or exc
        raise socket.gaierror(socket.EAI_NONAME, f"not a valid host name: {reason}") from None
    except OverflowError:
        raise OSError(errno.EINVAL, f"no such port: {port}") from None


def first_bytes(address: Address, *, connect_s: float, read_s: float, size: int) -> bytes | None:
    """What the server at ``address`` sends first, unasked: up to ``size`` bytes (``b""`` when it
    closes the connection without a word), or None when it sends nothing within ``read_s``
    seconds of accepting the connection. Nothing is sent to it: a server that speaks first (a
    MySQL server's greeting, Redis's refusal of a client past its most) is read without a
    client's handshake crossing what it says. Connecting fails as :func:`connect` does
    (within ``connect_s`` seconds); reading, but for its time running out, with its
    ``OSError``."""
    with connect(address, connect_s) as sock:
        sock.settimeout(read_s)
        try:
            return sock.recv(size)
        except TimeoutError:
            return None
