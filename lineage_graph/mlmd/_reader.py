"""The MLMD store an import reads, read by ml_metadata in a child process of its own.

ml_metadata ends the whole process on some rows it reads (a C++ CHECK failure: SIGABRT, no
exception; a MySQL ``bool_value`` of 2, which no check before the read can see there), and a
process killed so closed nothing: the store's embedded server was left running, and the
command said nothing but "Check failure stack trace". Read in a child, such a death is the
child's: the import fails with :class:`FailedPreconditionError` saying ml_metadata died reading
the MLMD store (and how), and the importing process closes its store as after any error.

The child says it started (``("ready",)``) once it has imported ml_metadata, before it reads
anything. A child that ends before that (its import of ml_metadata failed, or killed by a
signal as it loaded it; or the program is no Python) read nothing: that is
FailedPreconditionError saying it did not start, with what it raised or the signal; one that
answers anything else first (its exact bytes are awaited: something it ran as it started wrote to
its reply pipe) is FailedPreconditionError saying it answered nonsense, with what it wrote (one
that then ends within ``_ENDED_WAIT_S``: told by why it ended, the bytes named after); one
that says nothing for ``LINEAGE_GRAPH_MLMD_START_TIMEOUT_S`` (it hangs as it starts) is
FailedPreconditionError saying so, killed. A reply begun (its first byte on the pipe) that
goes ``LINEAGE_GRAPH_MLMD_STALL_TIMEOUT_S`` without a new byte is FailedPreconditionError, the
child killed: it writes a reply it has made whole, so the rest follows at once. A call is not
bounded before its reply begins (reading a big store may take hours) unless
``LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S`` is set: past it, FailedPreconditionError, the child
killed; one not answered for ``LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S`` is said (a
:class:`SourceWaitWarning`, once a reader): a MySQL table another session has locked kept the
import waiting up to the server's ``lock_wait_timeout`` (a day on MariaDB) with no word. No
temporary file for what it says (no writable ``TMPDIR``) is :class:`ConfigurationError`, as no
directory for the embedded engine's socket is. The child (``python -P -m
lineage_graph.mlmd._reader``, run by the Python that :mod:`multiprocessing` starts its children
with) is given the ``ConnectionConfig`` on its stdin (never its command line: it may hold a
MySQL password), opens it as given, then answers calls ``(method, args, kwargs)`` with ``("ok",
result)`` or ``("error", type name, message)``, each a pickle headed by a mark and its length
(what is not, bytes something else in the child wrote there, is FailedPreconditionError, the
child killed), on a pipe of its own (the descriptor its command line names), until its stdin
closes. Its stdout goes where its stderr goes: nothing printed, by ml_metadata's import or its
native code, can break a reply. Only the importing process writes to its stdin.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing.spawn
import os
import pickle
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..exceptions import ConfigurationError, FailedPreconditionError

__all__ = ["ReaderError", "SourceReader", "SourceWaitWarning"]

#: A message's head: a mark (what no stray bytes on the pipe are likely to start with), then
#: the length of the pickle that follows.
_HEAD = struct.Struct("<4sQ")
_MARK = b"LGr\x01"
#: The longest message read (bytes). A reply holds every node of a kind the MLMD store has
#: (``get_artifacts()``: some hundred bytes a node, millions of nodes); past this, no reply
#: but bytes something else wrote. Its body is read as it comes (16 MiB at a time), so a wrong
#: length allocates nothing it was not sent.
_MAX_SIZE = 1 << 40
_CHUNK = 1 << 24


class _Nonsense(Exception):
    """What was read is no message (bytes something else wrote to the pipe)."""


class _Stalled(Exception):
    """A message begun on the pipe went ``stall_timeout_s`` without a new byte."""


class _Unanswered(Exception):
    """A call went ``reply_timeout_s`` without its reply's first byte."""


class SourceWaitWarning(RuntimeWarning):
    """The MLMD store has not answered a call for ``quiet_notice_s`` (a table another session
    has locked, say): said as the import waits, which it keeps doing."""


def _send(out: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEAD.pack(_MARK, len(data)) + data)
    out.flush()


#: The child's first message, ``("ready",)``, as the exact bytes it writes (a pickle of protocol
#: 5 whatever Python runs either side): what comes first on its pipe is these bytes or nonsense.
_READY = (lambda data: _HEAD.pack(_MARK, len(data)) + data)(pickle.dumps(("ready",), protocol=5))


#: How long a reader that answered nonsense as it started is given to end (then why it ended,
#: an import that failed, say, is what the error tells): it may still be importing the package
#: and ml_metadata, seconds on a loaded machine.
_ENDED_WAIT_S = 5.0


def _size(head: bytes) -> int:
    """The length a message's head gives: _Nonsense where it is none."""
    mark, size = _HEAD.unpack(head)
    if mark != _MARK or size > _MAX_SIZE:
        raise _Nonsense(f"no message's head: {head!r}")
    return int(size)


def _loaded(data: bytearray) -> Any:
    """The message ``data`` holds: _Nonsense where it is none."""
    try:
        value = pickle.loads(data)  # (from the child this process started, and only it)
    except MemoryError:
        raise  # this process out of memory, not a reply of nonsense
    except Exception as exc:  # (garbage: UnpicklingError, but also ValueError, KeyError...)
        raise _Nonsense(f"a message that does not load ({type(exc).__name__})") from None
    if not isinstance(value, tuple) or not value:
        raise _Nonsense(f"no message: {type(value).__name__}")
    return value


def _reply(fd: int, stall_s: float) -> Any:
    """The next message on the pipe ``fd``, read as it comes: EOFError where the pipe ends
    before one (the writer ended), _Nonsense where what comes is none (a wrong mark, a length
    past ``_MAX_SIZE``, a pickle that does not load, no ``(kind, ...)`` tuple). Its first byte
    is awaited as long as it takes (a call may read a big store for hours), each byte after it
    within ``stall_s`` of the one before (``math.inf``: no limit, the child's requests), else
    _Stalled. The child writes a
    message it has made whole (a pickle, then one write): once it has begun, the rest follows
    as fast as this process reads it; a pause is a child stalled part way through, or bytes
    something else wrote that begin as a message's head would."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    begun = False

    def fill(buffer: bytearray) -> int:
        """Fill ``buffer`` from the pipe: how many bytes came before it ended."""
        nonlocal begun
        got = 0
        with memoryview(buffer) as view:
            while got < len(buffer):
                if begun and not _readable(poller, stall_s):
                    raise _Stalled
                count = os.readv(fd, [view[got:]])  # (blocks for the first byte)
                if not count:
                    break
                got += count
                begun = True
        return got

    head = bytearray(_HEAD.size)
    if fill(head) < _HEAD.size:
        raise EOFError
    size = _size(bytes(head))
    data = bytearray()
    while len(data) < size:
        piece = bytearray(min(size - len(data), _CHUNK))  # (no more than was sent, and 16 MiB)
        if fill(piece) < len(piece):
            raise EOFError
        if data:
            data += piece
        else:
            data = piece
    return _loaded(data)


def _readable(poller: select.poll, timeout_s: float) -> bool:
    """Whether the pipe ``poller`` watches has a byte (or has ended) within ``timeout_s``. At
    the deadline the pipe is looked at once more without a wait: this process paused past it
    (a loaded machine, Ctrl-Z and ``fg``) is not the pipe's silence (a whole reply waiting in it
    was told "stalled", the child killed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        # (poll takes milliseconds, a float rounded up: a day at most at a time)
        if poller.poll(max(0.0, min(left, 86400.0)) * 1000):
            return True
        if not left > 0:  # (a NaN too: it would look for ever)
            return False


def _read_within(fd: int, size: int, timeout_s: float) -> bytes | None:
    """``size`` bytes read from the pipe ``fd``, fewer where it ends first; None where they
    have not come within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    said = b""
    while len(said) < size:
        if not _readable(poller, deadline - time.monotonic()):
            return None
        chunk = os.read(fd, size - len(said))
        if not chunk:
            break
        said += chunk
    return said


def _child_path() -> str:
    """The child's ``PYTHONPATH``: this process's lineage_graph first, then this process's
    ``sys.path`` (absolute), where it found ml_metadata and its dependencies, those put on the
    path at run time included (a PEX or shiv application, a notebook's ``sys.path.append``).
    An entry holding a NUL is left out: no environment variable can hold one (Popen refused
    the child: the import failed), and no directory is named by one, so nothing the child
    could import is lost (this Python's own imports find nothing there either). So is one
    holding the path separator (``:``): it would be split into two, one of them a relative
    path the child resolves against its working directory, which ``-P`` keeps off its path (a
    ``sitecustomize.py`` there ran in the child); a directory named so cannot be named in a
    ``PYTHONPATH`` at all."""
    package_root = str(Path(__file__).resolve().parents[2])
    entries = [
        package_root,
        *(
            e
            for e in sys.path
            if isinstance(e, str) and e and "\0" not in e and os.pathsep not in e
        ),
    ]
    return os.pathsep.join(dict.fromkeys(os.path.abspath(e) for e in entries))


def _python() -> str | bytes:
    """The Python that runs the child: the one :mod:`multiprocessing` starts its own children
    with (``multiprocessing.set_executable``'s, else ``sys.executable`` as it was when
    :mod:`multiprocessing` was imported).
    An application embedding Python (uWSGI, a PyInstaller bundle) has ``sys.executable`` point
    at itself, which cannot run ``-m``; such an application sets it there for its children."""
    return multiprocessing.spawn.get_executable() or sys.executable


#: Why a call may go long unanswered, as the notice and the error past the bound say it.
_WHY_QUIET = (
    "a table another session has locked (LOCK TABLES, a long ALTER TABLE) keeps a MySQL read "
    "waiting up to the server's lock_wait_timeout (a day by default on MariaDB, a year on "
    "MySQL), and a big store's read may take this long"
)


def _named(call: str) -> str:
    """A call to the child as messages name it."""
    return "its opening (ml_metadata reads its tables)" if call == "__open__" else f"{call}()"


def _source_named(config: Any) -> str:
    """Where the MLMD store ``config`` (a ``ConnectionConfig``) is, as messages name it after
    "the MLMD store": a MySQL server's host and port (or socket) and database, never its
    user or password; "" for another."""
    try:
        if config.HasField("mysql"):
            mysql = config.mysql
            where = (
                f"socket {mysql.socket}" if mysql.socket else f"{mysql.host}:{mysql.port or 3306}"
            )
            return f" (the MySQL server at {where}, database {mysql.database!r})"
    except (AttributeError, ValueError):  # (no ConnectionConfig: a test's stand-in)
        pass
    return ""


#: A line telling an exception that ended a Python process (unindented, after a traceback):
#: ``ModuleNotFoundError: No module named 'x'``, ``pkg.errors.Broken: ...``.
_RAISED = re.compile(r"[A-Za-z_][\w.]*: \S.*")


class ReaderError(Exception):
    """An exception ml_metadata raised in the child, by its type's name and message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class SourceReader:
    """ml_metadata's ``MetadataStore`` on ``config``, in a child process: the same methods."""

    def __init__(
        self,
        config: Any,
        *,
        start_timeout_s: float | None = None,
        stall_timeout_s: float | None = None,
        quiet_notice_s: float | None = None,
        reply_timeout_s: float | None = None,
    ) -> None:
        """``start_timeout_s``: how long the child is given to say it started (not given:
        ``LINEAGE_GRAPH_MLMD_START_TIMEOUT_S``, 300 s); ``stall_timeout_s``: how long a reply
        it has begun may go without a new byte (not given:
        ``LINEAGE_GRAPH_MLMD_STALL_TIMEOUT_S``, 300 s); ``quiet_notice_s``: how long a call
        may go without its reply's first byte before a :class:`SourceWaitWarning` says so,
        once (not given: ``LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S``, 30 s); ``reply_timeout_s``:
        how long it may go so at most (not given: ``LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S``, not
        set by default: for ever; ``math.inf``: for ever)."""
        if None in (start_timeout_s, stall_timeout_s, quiet_notice_s, reply_timeout_s):
            from ..backends import settings_of
            from ..config import MlmdReaderSettings

            settings = settings_of(MlmdReaderSettings, "MLMD reader")
            if start_timeout_s is None:
                start_timeout_s = settings.start_timeout_s
            if stall_timeout_s is None:
                stall_timeout_s = settings.stall_timeout_s
            if quiet_notice_s is None:
                quiet_notice_s = settings.quiet_notice_s
            if reply_timeout_s is None:
                reply_timeout_s = settings.reply_timeout_s
        assert start_timeout_s is not None and stall_timeout_s is not None
        assert quiet_notice_s is not None
        self._start_timeout_s: float = start_timeout_s
        self._stall_timeout_s: float = stall_timeout_s
        self._quiet_notice_s: float = quiet_notice_s
        self._reply_timeout_s: float = math.inf if reply_timeout_s is None else reply_timeout_s
        #: Where the store read is, as messages name it (never its password)
        self._source = _source_named(config)
        #: Whether the import has begun to write into its target (what Ctrl-C, or a call
        #: unanswered past ``reply_timeout_s``, leaves there): set by the importer
        self.writes_made: Callable[[], bool] = lambda: False
        #: Whether the notice of a call not answered was said (once a reader)
        self._noticed = False
        # a file, not a pipe, which the child could fill and block on; closed by close()
        try:
            self._log = tempfile.TemporaryFile()  # noqa: SIM115
        except OSError as exc:  # (no writable temporary directory)
            raise ConfigurationError(
                "cannot start the process that reads the MLMD store: no file for what it "
                f"says can be made (TMPDIR chooses where): {exc}"
            ) from None
        #: Whether the child said it started (ml_metadata imported)
        self._started = False
        #: Whether the child is busy: starting, or with a call not answered yet
        self._busy = True
        #: The replies pipe and the child, each set as soon as it exists: whatever stops the
        #: start after that (an error, Ctrl-C), close() ends what there is
        self._replies: IO[bytes] | None = None
        self._child: subprocess.Popen[bytes] | None = None
        opened = False
        try:
            self._start()
            self._await_start()
            self._call("__open__", config.SerializeToString())
            opened = True
        except ReaderError as exc:  # (the importing process opened it before: rare)
            raise FailedPreconditionError(f"cannot open the MLMD store: {exc}") from None
        finally:
            if not opened:
                self.close()

    def _start(self) -> None:
        """Start the child (``self._child``) and open its replies pipe (``self._replies``).
        Whatever stops the start (no descriptor or process left, a NUL in the Python's name or
        in the environment: ValueError, Ctrl-C), the child's end of the pipe is closed here, and
        what was set the caller's close() ends."""
        self._python = _python()
        env = {**os.environ, "PYTHONPATH": _child_path()}
        try:
            replies, answer = os.pipe()
        except OSError as exc:  # (no descriptor left)
            raise FailedPreconditionError(
                f"cannot start the process that reads the MLMD store: {exc}"
            ) from None
        try:
            try:
                self._replies = os.fdopen(replies, "rb")
            except BaseException:
                os.close(replies)
                raise
            self._child = subprocess.Popen(
                # -P: the working directory is not put first on the child's path (a
                # directory holding lineage_graph/, ml_metadata/ or pickle.py would be
                # imported instead)
                [self._python, "-P", "-m", "lineage_graph.mlmd._reader", str(answer)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=self._log,
                stderr=self._log,
                pass_fds=(answer,),
                # Not in the terminal's foreground group: Ctrl-C is the import's to handle
                # (it says what the import left), not a death of its reader's.
                process_group=0,
            )
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            # (OSError: no process can be started, a limit reached; ValueError: a NUL in an
            # argument or the environment; SubprocessError: the child failed before its exec)
            raise FailedPreconditionError(
                f"cannot start the process that reads the MLMD store: {exc}"
            ) from None
        finally:
            os.close(answer)  # the child's end

    @property
    def pid(self) -> int:
        assert self._child is not None
        return self._child.pid

    def _await_start(self) -> None:
        """Wait for the child's ``("ready",)``: it imported ml_metadata and reads nothing yet.

        Its exact bytes are read (a read of that many bytes returns once the child wrote them,
        whatever it wrote before, or once it ended): something else first is a child that
        answered nonsense (something it ran as it started wrote to its reply pipe), never a
        length read as one (a read of 2**62 bytes, or one waiting for bytes that never come).
        They are awaited ``start_timeout_s`` at most: past it (the child hangs as it starts),
        FailedPreconditionError, and the caller's close() kills it."""
        assert self._replies is not None and self._child is not None
        try:
            said = _read_within(self._replies.fileno(), len(_READY), self._start_timeout_s)
        except OSError:
            raise self._died() from None
        if said is None:
            python = os.fsdecode(self._python)
            raise FailedPreconditionError(
                f"cannot start the process that reads the MLMD store ({python} -m "
                f"lineage_graph.mlmd._reader): it did not say it started within "
                f"{self._start_timeout_s:g} s (LINEAGE_GRAPH_MLMD_START_TIMEOUT_S sets how "
                "long): it hung as it started (in something it ran: a sitecustomize or .pth "
                "file on its path, or ml_metadata's import, say); it was killed and read nothing"
            ) from None
        if said == _READY:
            self._started = True
            self._busy = False
        elif _READY.startswith(said):  # (nothing, or part of it: it ended)
            raise self._died()
        else:
            ended = False
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(_ENDED_WAIT_S)
                ended = True
            if ended:  # then it ended as it started: why (an import that failed) is the news
                died = self._died()
                raise FailedPreconditionError(
                    f"{died}; it wrote {said!r} to its reply pipe first"
                ) from None
            python = os.fsdecode(self._python)
            raise FailedPreconditionError(
                f"cannot start the process that reads the MLMD store ({python} -m "
                "lineage_graph.mlmd._reader): it answered nonsense where it says it started "
                f"({said!r}), written to its reply pipe by something it ran as it started (a "
                "sitecustomize or .pth file on its path, say); it read nothing"
            )

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        assert self._child is not None and self._child.stdin is not None
        assert self._replies is not None
        self._busy = True
        try:
            _send(self._child.stdin, (name, args, kwargs))
            self._await_reply(name)
            reply = _reply(self._replies.fileno(), self._stall_timeout_s)
        except (OSError, EOFError):
            raise self._died() from None
        except (_Unanswered, _Stalled) as exc:
            if self._child.poll() is not None:  # (it died; something it started holds the pipe)
                raise self._died() from None
            # No reply within the bound set, or one begun and stopped part way (or something
            # in the child wrote what looks like a reply's head: nothing after can be trusted,
            # and waiting is for ever): killed.
            self._child.kill()
            self._child.wait()
            if isinstance(exc, _Stalled):
                raise FailedPreconditionError(
                    "cannot read the MLMD store: the process reading it (ml_metadata) stopped "
                    f"part way through its reply to {name}(): no byte for "
                    f"{self._stall_timeout_s:g} s (LINEAGE_GRAPH_MLMD_STALL_TIMEOUT_S sets how "
                    "long; a reply, once begun, follows at once); it was killed"
                ) from None
            left = (
                "the batches the import wrote stay, each whole (an import again with --merge, "
                "merge=True, completes it)"
                if self.writes_made()
                else "nothing was imported"
            )
            raise FailedPreconditionError(
                f"cannot {'open' if name == '__open__' else 'read'} the MLMD store"
                f"{self._source}: it has not answered {_named(name)} "
                f"within {self._reply_timeout_s:g} s (LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S sets "
                f"how long): {_WHY_QUIET}; the process reading it was killed, {left}"
            ) from None
        except _Nonsense as exc:
            # Something in the child wrote to its reply pipe, or a reply was cut: no reply
            # after it can be trusted. It is killed (it waits for a call: waiting for it to
            # end was 10 s lost), then told as a child that died.
            self._child.kill()
            self._child.wait()
            raise FailedPreconditionError(
                "cannot read the MLMD store: the process reading it (ml_metadata) answered "
                f"nonsense to {name}(): {exc}; it was killed"
            ) from None
        self._busy = False
        if reply[0] == "error":
            raise ReaderError(reply[1], reply[2])
        return reply[1]

    def _await_reply(self, name: str) -> None:
        """Wait for the first byte of the reply to ``name`` (or the pipe's end): past
        ``quiet_notice_s`` a :class:`SourceWaitWarning` says the store has not answered (once
        a reader: a store that keeps a read waiting, a lock held, does so for the calls after
        too, and the notice said the import keeps waiting), past ``reply_timeout_s``
        _Unanswered. Ctrl-C stops the wait (this process waits in ``poll``, not in
        ml_metadata)."""
        assert self._replies is not None
        poller = select.poll()
        poller.register(self._replies.fileno(), select.POLLIN)
        began = time.monotonic()
        notice_s = self._quiet_notice_s
        if not self._noticed and notice_s < self._reply_timeout_s:
            if _readable(poller, notice_s):
                return
            self._noticed = True
            left = (
                "stops it; the batches it wrote stay, each whole (an import again with "
                "--merge, merge=True, completes it)"
                if self.writes_made()
                else "stops it with nothing written"
            )
            # (The reading child's pid in the text: Python's default filter shows a warning
            # once per text and place, and a second reader's, in the same process, was not
            # said at all.)
            pid = self._child.pid if self._child is not None else "?"
            warnings.warn(
                f"the MLMD store{self._source} has not answered {_named(name)} for "
                f"{notice_s:g} s (the reading process, pid {pid}): "
                f"{_WHY_QUIET}; the import keeps waiting "
                "(LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S bounds the wait); Ctrl-C " + left,
                SourceWaitWarning,
                stacklevel=4,
            )
        if math.isinf(self._reply_timeout_s):
            return  # (the read blocks for its first byte)
        if not _readable(poller, self._reply_timeout_s - (time.monotonic() - began)):
            raise _Unanswered

    def _died(self) -> FailedPreconditionError:
        assert self._child is not None
        try:
            code = self._child.wait(10)
        except subprocess.TimeoutExpired:
            self._child.kill()
            code = self._child.wait()
        how = f"exit {code}"
        if code < 0:
            with contextlib.suppress(ValueError):
                how = f"killed by {signal.Signals(-code).name}"
        self._log.seek(max(0, self._log.seek(0, os.SEEK_END) - 4096))
        lines = self._log.read().decode("utf-8", "replace").splitlines()
        python = os.fsdecode(self._python)
        if not self._started and code < 0:
            # Killed before it said it started (as it loaded ml_metadata's native code, say):
            # it read nothing; ml_metadata did not die reading the store.
            last = next((line.strip()[:300] for line in reversed(lines) if line.strip()), "")
            return FailedPreconditionError(
                f"cannot start the process that reads the MLMD store ({python} -m "
                f"lineage_graph.mlmd._reader): it was {how} as it started, before it read "
                "anything" + (f" ({last})" if last else "")
            )
        if not self._started:
            # It ended before it could start: an import that failed, ml_metadata missing or
            # broken on its path; a program that is no Python. It read nothing. What it raised
            # is told, the cause first, else its last line.
            raised = [line for line in lines if _RAISED.fullmatch(line)]
            if "Traceback (most recent call last):" in lines and raised:
                what = "; then ".join(line[:300] for line in raised[-3:])
            else:
                what = next((line.strip()[:300] for line in reversed(lines) if line.strip()), "")
            return FailedPreconditionError(
                f"cannot start the process that reads the MLMD store ({python} -m "
                f"lineage_graph.mlmd._reader): it ended as it started (exit {code}"
                + (f": {what})" if what else ")")
            )
        said = [line.strip() for line in lines if "Check failed" in line or "Error" in line]
        told = f": {said[-1][:300]}" if said else ""
        return FailedPreconditionError(
            f"cannot read the MLMD store: ml_metadata died reading it ({how}{told})"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._call(name, *args, **kwargs)

        call.__name__ = name
        return call

    def close(self) -> None:
        """End the child: its replies pipe and message file closed first; its stdin closed, an
        idle child exits (waited for, 2 s at most, then killed); one still busy starting or
        with a call (the import stopped by an error or Ctrl-C meanwhile) is killed at once (it
        only reads; waiting for it was 2 s lost). Whatever stops the wait (a second Ctrl-C),
        the child is killed and reaped and every descriptor closed. A start stopped half way
        ends what it made (no child, or no replies pipe yet)."""
        child = self._child
        try:
            try:
                if self._replies is not None:
                    with contextlib.suppress(OSError):
                        self._replies.close()
            finally:
                self._log.close()
            if child is None:
                return
            with contextlib.suppress(OSError):
                if child.stdin is not None:
                    child.stdin.close()
            if self._busy:
                child.kill()
            try:
                child.wait(2)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        finally:
            if child is not None and child.returncode is None:  # (the wait stopped)
                child.kill()
                child.wait()
            if child is not None and child.stdin is not None:
                with contextlib.suppress(OSError):
                    child.stdin.close()


def _serve(answer: int) -> None:  # pragma: no cover - runs in the child
    requests, replies = sys.stdin.fileno(), os.fdopen(answer, "wb")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    pb: Any = metadata_store_pb2  # generated module: no static attributes for mypy
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies.write(_READY)  # ("ready",): ml_metadata imported, it reads from here on
    replies.flush()
    store: Any = None
    while True:
        try:
            name, args, kwargs = _reply(requests, math.inf)
        except EOFError:
            return
        try:
            if name == "__open__":
                config = pb.ConnectionConfig.FromString(args[0])
                store = metadata_store.MetadataStore(config)
                result = None
            else:
                result = getattr(store, name)(*args, **kwargs)
            reply: tuple[Any, ...] = ("ok", result)
        except Exception as exc:
            reply = ("error", type(exc).__name__, str(exc))
        _send(replies, reply)


if __name__ == "__main__":  # pragma: no cover
    os.environ.pop("PYTHONINSPECT", None)
    _serve(int(sys.argv[1]))
