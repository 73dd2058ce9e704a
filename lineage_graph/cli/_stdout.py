"""stdout as the commands write it: a write that fails is one typed error, never a traceback."""

from __future__ import annotations

import io
import os
import select
import sys
from typing import Any

__all__ = ["StdoutError", "StdoutFile", "write_stdout"]


class StdoutError(Exception):
    """stdout cannot be written (a full disk, an I/O error): the command's output is lost."""

    def __init__(self, error: OSError) -> None:
        super().__init__((error.strerror or str(error)).lower())


class StdoutFile:
    """``sys.stdout`` (as it is when made: the test runner swaps it) for rich to write to. A
    closed stdout (``>&-``: ``sys.stdout`` is None) is a closed pipe, and an OSError other than
    a closed pipe is :class:`StdoutError`: they were a ``NoneType`` AttributeError or an
    ``ENOSPC`` traceback (exit 1, "the answer is no"), or, through rich, nothing at all."""

    def __init__(self) -> None:
        self._stream: Any = sys.stdout

    def write(self, text: str) -> int:
        if self._stream is None:
            raise BrokenPipeError("stdout is closed")
        try:
            raw = getattr(self._stream, "buffer", None)
            if isinstance(raw, io.RawIOBase) and os.linesep == "\n":
                return self._write_all(raw, text)
            return int(self._stream.write(text))
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc) from None

    def _write_all(self, raw: io.RawIOBase, text: str) -> int:
        """``text`` written whole to ``raw``, the file under an unbuffered stdout
        (``PYTHONUNBUFFERED=1``, ``python -u``: many container images set it). Its text layer
        writes once and drops what a partial write left (a reader that went away after part of
        the output, a nearly full disk): ``export | head -1`` exited 0, not 141, and output cut
        short on a full disk was exit 0 with no message. Here the rest is written again, and
        the error it then meets (a closed pipe, no space) is raised."""
        self._stream.flush()
        data = memoryview(text.encode(self._stream.encoding or "utf-8", self._stream.errors))
        while data:
            written = raw.write(data)
            if written is None:  # a non-blocking stdout that is full: wait until it is not
                select.select([], [raw.fileno()], [])
                continue
            data = data[written:]
        return len(text)

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc) from None

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ... as stdout's
        return getattr(self._stream, name)


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush it (errors as :class:`StdoutFile` says)."""
    out = StdoutFile()
    out.write(text)
    out.flush()
