"""Writing an output file whole or not at all."""

from __future__ import annotations

import codecs
import errno
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO

from .exceptions import InvalidArgumentError

__all__ = [
    "CannotWriteError",
    "cannot_write",
    "on_read_only_mount",
    "output_path",
    "path_error",
    "replace_file",
]

#: What an output path itself can be wrong about: a directory in the way, a parent that is a
#: file or is missing, no permission. (A full disk or a file size limit is the environment's
#: failure, left an OSError.)
PATH_ERRORS = (
    IsADirectoryError,
    NotADirectoryError,
    FileExistsError,
    FileNotFoundError,
    PermissionError,
)


class CannotWriteError(InvalidArgumentError):
    """An output path that cannot be written (``cannot write PATH: REASON``); nothing was
    written. ``path`` and ``reason`` as in the message."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"cannot write {self.path}: {reason}")


def cannot_write(path: str | os.PathLike[str], exc: OSError) -> CannotWriteError:
    """The typed error for ``exc``, raised while writing ``path`` (the reason in words)."""
    reason = (exc.strerror or str(exc)).lower()
    if isinstance(exc, FileExistsError) and exc.filename is not None:
        reason = f"{os.fsdecode(exc.filename)} exists and is not a directory"  # a parent
    return CannotWriteError(path, reason)


def _refuse_read_only(path: str | os.PathLike[str]) -> None:
    """PermissionError for an existing regular file this process may not write (``chmod a-w``,
    another user's): the new file replaced it all the same, through a rename in its directory,
    where ``> file`` in a shell, and opening it, are refused."""
    if os.path.isfile(path) and not os.access(path, os.W_OK):
        # on a file system mounted read-only, said so: "permission denied" sent the user to
        # chmod a file no mode makes writable (the rename, and `> file`, say EROFS)
        code = errno.EROFS if on_read_only_mount(path) else errno.EACCES
        raise PermissionError(code, os.strerror(code), os.fspath(path))


def on_read_only_mount(path: str | os.PathLike[str]) -> bool:
    """Whether ``path``'s file system is mounted read-only (False when that cannot be told)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # statvfs: not on Windows
        return False


def replace_file(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` atomically: ``write`` fills a new file beside it, which then replaces
    ``path`` in one rename. A failure part way (a full disk, a file size limit, Ctrl-C) leaves
    ``path`` as it was, never a half-written file, and removes the new one. A replaced file
    keeps its permissions; a new one gets the umask's; one this process may not write is
    refused (PermissionError), as opening it is. A symlink's target is replaced.
    In a directory where no file can be made (no write permission) an existing file is written
    in place. Something other than a regular file (``/dev/stdout``, ``/dev/null``, a named pipe) is
    written into as it is: replacing it would put a regular file in its place.
    Returns the path written (symlinks resolved)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    else:
        _refuse_read_only(path)
    if stat.S_ISDIR(mode):  # refused before a new file is made beside it
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    if not stat.S_ISREG(mode):
        with open(path, "wb") as stream:
            write(stream)
        return Path(path)
    target = Path(os.path.realpath(path))
    # beside it, named within NAME_MAX (255 bytes) however long the name (250 bytes too)
    raw = os.fsencode(target.name)[:200]
    if codecs.lookup(sys.getfilesystemencoding()).name == "utf-8":
        stem = raw.decode("utf-8", "ignore")  # a character the cut split is dropped
    else:
        # a C locale without Python's UTF-8 mode (ASCII): read as utf-8, 'donn\udcc3\udca9es'
        # (how such a name is passed) became 'données', which os.open cannot encode: a
        # UnicodeEncodeError traceback (exit 70) for `export -o données.dot`
        stem = os.fsdecode(raw)
    tmp = target.with_name(f".{stem}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except PermissionError:
        if not target.is_file():
            raise
        # a file one may write in a directory one may not add to: written in place, as
        # before, rather than refused (not atomic there: no new file can be made beside it)
        with open(target, "r+b") as stream:
            write(stream)
            stream.truncate()
        return target
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        with suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return target


#: OSErrors about the path itself besides PATH_ERRORS' classes (which have no class of their own).
_PATH_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ELOOP})


def path_error(path: str | os.PathLike[str], exc: OSError) -> OSError | CannotWriteError:
    """``exc`` as CannotWriteError when the path is at fault (PATH_ERRORS, a name too long, a
    symlink loop), else ``exc`` itself (a full disk is the environment's failure)."""
    if isinstance(exc, PATH_ERRORS) or exc.errno in _PATH_ERRNOS:
        return cannot_write(path, exc)
    return exc


def output_path(path: object) -> Path:
    """``path`` made absolute (``~`` expanded, symlinks resolved) and checked, before anything
    is read or drawn for it and before any parent is made: a directory, a parent that is a
    file, a name too long, a symlink loop, a NUL are CannotWriteError (a symlink loop raised
    RuntimeError from ``Path.resolve``, a name too long a plain OSError, a NUL a ValueError);
    a path of another type InvalidArgumentError."""
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise InvalidArgumentError(f"path must be a str or a pathlib.Path, got {path!r:.80}")
    shown = os.fspath(path)
    if not isinstance(shown, str):  # a PathLike of bytes
        raise InvalidArgumentError(f"path must be a str or a pathlib.Path, got {path!r:.80}")
    if "\0" in shown:
        raise CannotWriteError(shown, "a path cannot hold a NUL character")
    try:
        target = Path(shown).expanduser()
    except RuntimeError:  # "~name/..." of no such user
        raise CannotWriteError(shown, "no home directory for its ~") from None
    try:
        target = target.resolve()
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
        ending = _directory_ending(shown)
        if ending is not None:
            # "-o out/" wrote a file named "out" (resolve drops the slash), where a shell's
            # "> out/" and open() refuse: it names a directory, which holds no such file; so
            # does "out/." (a file "out" too) and "new/sub/.." (made new/sub, then failed)
            raise CannotWriteError(shown, f"it ends with {ending} (a directory): name the file")
        _refuse_read_only(target)
        _check_parents(target)
    except RuntimeError:  # a symlink loop, before Python 3.13 (an OSError of ELOOP since)
        raise cannot_write(shown, OSError(errno.ELOOP, os.strerror(errno.ELOOP))) from None
    except OSError as exc:
        raise path_error(shown, exc) from None
    return target


#: What ends a path that names a directory.
_SEPARATORS = tuple({"/", os.sep, *([os.altsep] if os.altsep else [])})
_LAST_NAME = re.compile("[" + re.escape("".join(_SEPARATORS)) + "]")


def _directory_ending(shown: str) -> str | None:
    """How the path ``shown`` (as typed) says it names a directory, else None: a trailing
    separator (``a /``), or a last name ``.`` or ``..`` (``/.``, ``/..``), which ``Path``
    and ``resolve`` drop or fold away ("out/." was written as the file "out")."""
    if shown.endswith(_SEPARATORS):
        return "a /"
    names = _LAST_NAME.split(shown)
    if len(names) > 1 and names[-1] in (".", ".."):
        return f"/{names[-1]}"
    return None


def _check_parents(target: Path) -> None:
    """The error making ``target``'s missing parents would meet, raised now: its parent a file
    (FileExistsError, as ``mkdir`` raises it), or a file further up (NotADirectoryError)."""
    for i, parent in enumerate(target.parents):
        if parent.exists():
            if parent.is_dir():
                return
            if i == 0:
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(parent))
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(parent))
