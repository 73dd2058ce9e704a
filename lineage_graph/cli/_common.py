"""What every command shares: opening the store, exit codes, consoles, error reporting."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import urllib.parse
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from .._files import CannotWriteError, cannot_write
from .._redact import redact_secrets, redact_target
from ..config import expand_home
from ..exceptions import (
    ConfigurationError,
    EngineUnavailableError,
    LineageGraphError,
    NotFoundError,
    SchemaVersionError,
)
from ..models import NodeKind
from ..store import LineageStore
from ._refs import bytes_percent_encoded, holds_raw_bytes
from ._render import printable, typed_bytes
from ._stdout import StdoutError, StdoutFile

__all__ = [
    "ExitCode",
    "JsonOption",
    "StoreOption",
    "err_console",
    "fail",
    "guarded",
    "missing_type_notes",
    "open_store",
    "out_console",
    "print_notes",
    "redact",
    "refuse_empty",
    "writing",
]

P = ParamSpec("P")
R = TypeVar("R")


class ExitCode(IntEnum):
    """What ``lineage-graph`` exit statuses mean (stable: scripts rely on them)."""

    OK = 0
    #: The answer is no: ``cached`` found no same-inputs run, ``doctor`` found a problem.
    NO = 1
    #: Bad command line (typer/click's own code).
    USAGE = 2
    #: The entity named does not exist.
    NOT_FOUND = 3
    #: The store cannot be opened: engine not installed, unreachable, misconfigured, too new.
    STORE_UNAVAILABLE = 4
    #: The store refused the request (invalid argument, query error, ...).
    ERROR = 5
    #: A defect of lineage-graph: an exception no command expects (its traceback is printed, for
    #: a bug report). It was exit 1, which scripts read as "the answer is no" (sysexits.h's
    #: EX_SOFTWARE).
    INTERNAL = 70
    #: Interrupted (Ctrl-C).
    INTERRUPTED = 130
    #: The reader of stdout went away (``lineage-graph ls | head -1``): 128 + SIGPIPE, the
    #: status a shell reports for any tool a closed pipe stops.
    BROKEN_PIPE = 141


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        "-s",
        envvar="LINEAGE_GRAPH_STORE",
        # rich markup is on (rich_markup_mode="rich"): a bracket is escaped, or it is taken
        # for a style tag and left out of --help
        help="Store to use: a directory, 'memory', redis://…, bolt://…, neo4j+s://… "
        "\\[default: NEO4J_URI if set, else the embedded store in the default data directory]",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON on stdout (for scripts) instead of tables.")
]


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich's own exits with 1 ("the answer is no" here); :func:`guarded` exits 141."""
        self.quiet = True
        raise BrokenPipeError


#: The narrowest console the commands draw on: narrower, rich leaves whole columns out of a
#: table (``COLUMNS=10 ls``: no kind and no name; ``COLUMNS=1 ls``: no row at all, and
#: ``doctor`` no check), exit 0. Lines wider than the terminal wrap there: nothing is lost.
MIN_WIDTH = 20
#: The widest console the commands (and their help) draw on: a width past it (``COLUMNS=
#: 2147483648``) drew each line of help or ``show`` padded for minutes, and one past an index
#: (``COLUMNS=99999999999999999999``) ended in rich's OverflowError.
MAX_WIDTH = 1000


def _some_width(console: Console) -> Console:
    """``console``, 80 columns wide if it would be 0: rich takes ``COLUMNS=0`` (which a CI
    runner or a pseudo-terminal of unknown size may set) as a width of 0 and prints nothing
    at all, exit 0: no table, no error message, not even the token of an ``impact --mark``.
    Never narrower than :data:`MIN_WIDTH`, nor wider than :data:`MAX_WIDTH`."""
    if console.width < 1:
        console.width = 80
    elif console.width < MIN_WIDTH:
        console.width = MIN_WIDTH
    elif console.width > MAX_WIDTH:
        console.width = MAX_WIDTH
    return console


def out_console() -> Console:
    """Results (stdout). Created per command: the test runner swaps sys.stdout."""
    return _some_width(_Console(file=StdoutFile(), highlight=False, soft_wrap=False))  # type: ignore[arg-type]


def err_console() -> Console:
    """Progress, hints and errors (stderr): keeps stdout clean for pipes and --json."""
    return _some_width(_Console(stderr=True, highlight=False))


def missing_type_notes(
    store: LineageStore, kinds: Sequence[NodeKind], names: Iterable[str]
) -> list[str]:
    """A note for each of ``names`` that no type of ``kinds`` (any version) has, to print on
    stderr after the answer: a filter by a misspelt or miscased type name (``ls --type Modle``)
    answered an empty list without a word, as if the store held no such node. The answer and
    the exit code stay as they are."""
    names = list(names)
    if not names:
        return []
    held = {t.name for kind in kinds for t in store.get_types(kind)}
    what = " or ".join(kind.value.lower() for kind in kinds)
    return [
        f"[yellow]note:[/] this store has no {what} type "
        f"'{escape(printable(name, sys.stderr))}' "
        "(type names are case-sensitive; `lineage-graph ls types` lists them)"
        for name in names
        if name not in held
    ]


def print_notes(notes: Iterable[str]) -> None:
    """Print ``notes`` (rich markup, stored text escaped) on stderr."""
    for note in notes:
        err_console().print(note)


def redact(text: str) -> str:
    """``text`` safe to print, masked as :func:`~lineage_graph._redact.redact_secrets` masks
    it: URL passwords (``redis://:pw@host``), secret-named ``name=value`` and ``--option
    value``, PEM private keys and secret-named environment variables' values. Every message the
    CLI prints about a store target goes through here."""
    return redact_secrets(text)


def fail(message: str, code: ExitCode, *, soft_wrap: bool = False) -> typer.Exit:
    """Print ``message`` (secrets masked) on stderr and return the ``typer.Exit`` to raise.
    ``soft_wrap``: never broken into lines at the terminal's width (a command to copy in it)."""
    # A message may quote stored names (their control characters made visible); its own line
    # breaks (a server's log tail, a multi-line engine error) stay line breaks.
    # escaped for stderr's encoding, not stdout's (closed, ``>&-``, when this is said)
    # a byte of the command line that is no UTF-8 as typed, ``\\xff``, raw or quoted by repr
    lines = typed_bytes(redact(message)).split("\n")
    text = escape("\n".join(printable(line, sys.stderr) for line in lines))
    err_console().print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=soft_wrap)
    return typer.Exit(int(code))


def refuse_empty(value: str | None, what: str, *, blank: bool = True) -> None:
    """An empty ``value`` (with ``blank``, one of whitespace only too) is a usage error (exit
    2) naming ``what`` (``TYPE``, ``--type``): an empty argument was read as a name no entity
    has, and answered exit 1 ("not cached"), exit 3 ("no such mark") or an empty listing."""
    if value is not None and not (value.strip() if blank else value):
        raise fail(f"{what} is empty", ExitCode.USAGE)


def exit_code_for(exc: LineageGraphError) -> ExitCode:
    from ._refs import BadReferenceError

    if isinstance(exc, BadReferenceError):
        return ExitCode.USAGE
    if isinstance(exc, NotFoundError):
        return ExitCode.NOT_FOUND
    if isinstance(exc, ConfigurationError | EngineUnavailableError | SchemaVersionError):
        return ExitCode.STORE_UNAVAILABLE
    return ExitCode.ERROR


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A ``warnings.showwarning`` for the commands: a warning (the library's: another process
    holds the store's lock, a write a crash cut short was dropped as the store loaded) said as
    every other message is, ``warning: …`` on stderr. Python's own format printed the path of
    the library's source file, the warning's class and a line of that source under it."""
    text = escape(
        "\n".join(
            printable(part, sys.stderr) for part in typed_bytes(redact(str(message))).split("\n")
        )
    )
    # A stderr that cannot be written (its reader gone, a full disk) loses the warning, as
    # Python's own showwarning does: raised, it came out of the library's warnings.warn, and
    # the command, its answer unprinted, was exit 141 or an "unexpected error"
    with contextlib.suppress(OSError):
        err_console().print(f"[yellow]warning:[/] {text}", highlight=False)


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Map library errors to the documented exit codes with a one-line message; warnings are
    said as :func:`show_warning` says them."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            return _guarded_call(fn, *args, **kwargs)

    return wrapper


def _guarded_call(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``fn(*args, **kwargs)``, its library errors mapped to exit codes (:func:`guarded`)."""
    try:
        return fn(*args, **kwargs)
    except LineageGraphError as exc:
        message = str(exc)
        in_doubt = isinstance(exc, EngineUnavailableError) and exc.mark_token is not None
        if isinstance(exc, EngineUnavailableError) and exc.mark_token is not None:
            # an impact mark in doubt: without its token `undo-mark` cannot undo it
            message += (
                f" (the impact mark may have been applied: `lineage-graph undo-mark "
                f"{exc.mark_token}` undoes it if it was)"
            )
        # the undo command, broken over two lines at the terminal's width ("`lineage-graph" /
        # "undo-mark TOKEN`"), was copied as two commands
        raise fail(message, exit_code_for(exc), soft_wrap=in_doubt) from None
    except KeyboardInterrupt as exc:
        message = "interrupted"
        token = getattr(exc, "mark_token", None)
        if isinstance(token, str):  # Ctrl-C during an impact mark's write (store.impact)
            message += (
                f" (the impact mark may have been applied: `lineage-graph undo-mark {token}` "
                "undoes it if it was)"
            )
        raise fail(message, ExitCode.INTERRUPTED, soft_wrap=isinstance(token, str)) from None
    except StdoutError as exc:
        raise fail(f"cannot write the output to stdout: {exc}", ExitCode.USAGE) from None
    except BrokenPipeError:
        # Not click's default (exit 1, which here means "the answer is no": a cache hit
        # piped to `head` read as a miss). Whatever is left in stdout's buffer goes nowhere.
        _silence_stdout()
        raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None
    except (typer.Exit, typer.Abort):
        raise  # the command line's own ends (fail() returns a typer.Exit)
    except Exception:
        # A defect (a library error would be a LineageGraphError): exit 1 was typer's
        # traceback, read by scripts as "the answer is no" (`cached`: not cached; `doctor`:
        # a problem). The traceback is kept, for the bug report, its secrets masked as every
        # message's are (it quoted the exception's message as it was: a URL's password).
        import traceback

        with contextlib.suppress(OSError):
            sys.stderr.write(redact(traceback.format_exc()))
            sys.stderr.flush()
        raise fail(
            "an unexpected error (a defect of lineage-graph; the traceback above is for a "
            "bug report)",
            ExitCode.INTERNAL,
        ) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so its flush at exit cannot fail on the closed pipe again."""
    import sys

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test runner's buffer)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def describe_target(target: str | None) -> str:
    """The store ``target`` names, for messages (never with its password)."""
    if target is not None:
        return redact(redact_target(target)) or repr(target)
    from ..backends import resolve_target

    try:
        kind, location = resolve_target(None)
    except LineageGraphError:  # LINEAGE_GRAPH_STORE (typer leaves ''), or a Neo4j setting
        if "LINEAGE_GRAPH_STORE" in os.environ:
            return redact(
                f"LINEAGE_GRAPH_STORE={redact_target(os.environ['LINEAGE_GRAPH_STORE'])!r}"
            )
        return "(the default store)"
    return redact(f"{redact_target(str(location))} ({kind})")


def json_target(target: str | None) -> str:
    """:func:`describe_target` for ``--json`` (``doctor``'s ``store``), valid UTF-8 and
    reversible where the target holds bytes that are no UTF-8 (Python reads ``$'\\xff'`` as the
    lone surrogate U+DCFF, which ``--json`` wrote as ``"\\udcff"``, no character): a directory
    as the ``file://`` URI of its absolute path, those bytes percent-encoded (RFC 8089:
    ``file:///tmp/%FF``; ``urllib.parse.unquote_to_bytes`` gives them back), a URL with those
    bytes percent-encoded (``redis://h%FF:1``); a ``~`` is the home, as the store opened reads
    it (``~/s\\xff`` was ``file:///cwd/~/s%FF``, a directory of the working one); the default
    store's directory so too (an ``XDG_DATA_HOME`` of such bytes: it was the text
    ``/x%FFd/lineage-graph (embedded-dir)``, neither a path nor a URI). The URI is made only
    of a target shown as written: one :func:`describe_target` masks something in
    (``neo4j:pw@h\\xff:1``, a URL whose ``//`` was forgotten; a directory ``…/password=…``) is
    that masked text, its bytes percent-encoded (the URI of the path as given printed the
    password)."""
    text = describe_target(target)
    if not holds_raw_bytes(text):
        return text
    if target is None:  # the default store: its directory (XDG_DATA_HOME), a URL (NEO4J_URI)
        from ..backends import resolve_target

        try:
            kind, location = resolve_target(None)
        except LineageGraphError:  # (describe_target's text then holds no such byte)
            return bytes_percent_encoded(text)
        shown = redact(redact_target(str(location)))
        if kind == "embedded-dir" and shown == str(location):  # ("…/x%FFd/… (embedded-dir)")
            return _file_uri(os.path.abspath(location))
        return bytes_percent_encoded(shown)
    if "://" not in target and text == target:
        try:  # the directory opened: a "~" is the home (it was the URI of ./~/…, another one)
            directory = os.path.abspath(expand_home(target))
        except (LineageGraphError, OSError):
            # "~nosuchuser/…", or a relative path in a working directory since removed (its
            # getcwd() ended doctor in a traceback, exit 70): the text as given
            return bytes_percent_encoded(text)
        return _file_uri(directory)
    return bytes_percent_encoded(text)


def _file_uri(directory: str) -> str:
    """The ``file://`` URI of an absolute path, its bytes (a non-UTF-8 one's too) encoded."""
    return "file://" + urllib.parse.quote(os.fsencode(directory))


def _storeless_directory(target: str | None) -> Path | None:
    """The directory ``target`` names (``--store`` or ``LINEAGE_GRAPH_STORE``) when it holds no
    store; ``None`` for a store, another kind of target, the default (``None``), or a target
    that does not resolve (opening it says what is wrong with it)."""
    from ..backends import resolve_target
    from ..backends._falkordb_server import holds_store

    if target is None:
        return None
    try:
        kind, location = resolve_target(target)
    except LineageGraphError:
        return None
    path = Path(location)
    if kind != "embedded-dir" or holds_store(path):
        return None
    return path


def missing_store(target: str | None) -> str | None:
    """Why ``target`` names no store yet: a directory (``--store`` or ``LINEAGE_GRAPH_STORE``)
    where no store was ever opened, e.g. a mistyped path. ``None`` when there is one, or when
    the target is not a directory (the default data directory is made on first use)."""
    path = _storeless_directory(target)
    if path is None:
        return None
    if path.exists() and not path.is_dir():  # a file: "a mistyped path?" sent the user looking
        return f"no store at {path}: it is a file, not a store's directory"
    return (
        f"no store at {path} (a mistyped path? of the commands, only demo and import-mlmd "
        "create a store)"
    )


def foreign_directory(target: str | None) -> str | None:
    """Why a store cannot be made at ``target``: a directory (``--store`` or
    ``LINEAGE_GRAPH_STORE``) that holds files but no store, e.g. a project folder (the
    library's rule, which ``LineageStore.open`` enforces too). ``None`` for a store, an empty
    or missing directory, or another target."""
    from ..backends._falkordb_server import foreign_directory as foreign

    path = _storeless_directory(target)
    reason = foreign(path) if path is not None else None
    return None if reason is None else f"{reason} (choose another --store)"


def _fails_fast(target: str | None) -> bool:
    """Whether the command line opens ``target`` with ``retry_unreachable`` off: a Neo4j
    target, unless ``NEO4J_RETRY_UNREACHABLE`` chooses."""
    from ..backends import resolve_target

    if "NEO4J_RETRY_UNREACHABLE" in os.environ:
        return False
    try:
        return resolve_target(target)[0] == "neo4j"
    except LineageGraphError:
        return False  # opening it says what is wrong with it


def open_settings(target: str | None) -> dict[str, Any]:
    """The settings every command opens ``target`` with (``open_store``, and ``doctor``, which
    opens it itself)."""
    if _fails_fast(target):
        # A person at a terminal: a refused connection or a host name that does not resolve is
        # said at once, not after connect_timeout_s (30 s) of retries meant for a library
        # started beside its server.
        return {"retry_unreachable": False}
    return {}


@contextmanager
def open_store(
    target: str | None, *, create: bool = False, **settings: Any
) -> Iterator[LineageStore]:
    """The store ``target`` names (``None``: the library's default), closed afterwards. Unless
    ``create`` (the commands that make a store), a directory that holds no store is refused,
    and nothing is made there (exit 4); with ``create``, a directory that holds other files
    but no store is refused the same way (a store is made only in an empty or new one)."""
    missing = foreign_directory(target) if create else missing_store(target)
    if missing is not None:
        raise fail(missing, ExitCode.STORE_UNAVAILABLE)
    settings = {**open_settings(target), **settings}
    try:
        store = LineageStore.open(target, **settings)
    except LineageGraphError as exc:
        code = exit_code_for(exc)
        if code == ExitCode.ERROR:
            code = ExitCode.STORE_UNAVAILABLE
        raise fail(f"cannot open the store {describe_target(target)}: {exc}", code) from None
    try:
        yield store
    except NotFoundError as exc:
        if target is not None:
            raise
        # Nothing named a store: say which one was asked (the demo's is not the default).
        raise NotFoundError(
            f"{exc} (in the default store, {describe_target(None)}; name another with --store "
            "or LINEAGE_GRAPH_STORE)"
        ) from None
    finally:
        store.close()


@contextmanager
def writing(path: os.PathLike[str] | str) -> Iterator[None]:
    """Around writing an output file or directory the command line named (``-o``, ``--plot``,
    ``demo --dir``): an OSError (no such directory, a directory in the way, no permission, a
    read-only file system, disk full) is a usage error naming the path and the reason (exit 2),
    never a traceback."""
    try:
        yield
    except CannotWriteError as exc:  # the library's own report of the same (write_html)
        raise fail(f"cannot write {os.fspath(path)}: {exc.reason}", ExitCode.USAGE) from None
    except OSError as exc:
        reason = cannot_write(path, exc).reason
        raise fail(f"cannot write {os.fspath(path)}: {reason}", ExitCode.USAGE) from None


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
