"""``lineage-graph``: the command line (typer + rich), a thin client of the public API.

Exit codes: 0 ok, 1 the answer is no (cache miss, doctor found a problem), 2 bad command line,
3 entity not found, 4 store unavailable, 5 request refused, 130 interrupted, 141 stdout closed
(broken pipe).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import app
    from ._common import ExitCode

__all__ = ["ExitCode", "app", "main"]


def __getattr__(name: str) -> Any:
    """``app`` and ``ExitCode``, imported when first asked for: imported with
    the package, the command's half a second of imports (typer, rich, the store) ran before
    :func:`main` could catch a Ctrl-C, which printed a KeyboardInterrupt traceback."""
    if name == "app":
        from ._app import app

        return app
    if name == "ExitCode":
        from ._common import ExitCode

        return ExitCode
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def main() -> None:
    """Console-script entry point (``lineage-graph = "lineage_graph.cli:main"``).

    A Ctrl-C at any moment of the start (the imports, typer building the command line) ends as
    one during a command does: ``error: interrupted``, exit 130, no traceback. One that Python
    would have ignored (landing in a finalizer) or taken for unhandled after the CLI had handled
    it (landing in ``exec`` of a string) still ends so (:func:`~.._interrupts.interrupts_kept`):
    the demo ran to its end (exit 0), or said ``error: interrupted`` and died by SIGINT."""
    import sys

    from .._interrupts import interrupts_kept

    was_null = False
    try:
        with interrupts_kept():
            app, was_null = _start()
            app(prog_name="lineage-graph")
    except KeyboardInterrupt:
        # typer's own start (building the click command from the app), before it catches one
        raise SystemExit(_interrupted()) from None
    except SystemExit as exc:
        # --help and usage text are printed by typer's own rich console, whose broken-pipe
        # handler points stdout at /dev/null and exits 1 (here "the answer is no"): a stdout
        # that became /dev/null during the run is that closed pipe (`--help | head -1`).
        from ._common import ExitCode

        if exc.code == 1 and not was_null and _is_devnull(sys.stdout):
            raise SystemExit(int(ExitCode.BROKEN_PIPE)) from None
        raise


def _start() -> tuple[Any, bool]:
    """The typer app, once its modules are imported and the process is set up for it, and
    whether stdout was /dev/null before it ran. A Ctrl-C meanwhile is held until the imports
    are done (a quarter to half a second) and delivered then (a KeyboardInterrupt): raised in
    the middle of an import it was a traceback, and the message that says it needs rich. A
    second Ctrl-C is not held; an ignored SIGINT (nohup, `cmd &` in a script) stays ignored
    (:func:`~lineage_graph._interrupts.interrupt_held`, as a store's close holds one)."""
    from .._interrupts import interrupt_held

    with interrupt_held():
        return _prepare()


def _prepare() -> tuple[Any, bool]:
    import os
    import shutil
    import sys

    from ._app import app
    from ._common import MIN_WIDTH

    # Stored names are any unicode; a stream that cannot encode a character (an ASCII or
    # Latin-1 locale, PYTHONIOENCODING=ascii) shows it escaped rather than failing with a
    # UnicodeEncodeError traceback. JSON output stays valid JSON (\uXXXX escapes).
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    columns = os.environ.get("COLUMNS", "")
    if columns.isascii() and columns.isdigit() and int(columns) == 0:  # '0', '00'
        # typer's help and usage errors print through rich, which takes COLUMNS=0 as a width
        # of 0 and prints nothing (the commands' own consoles guard against it too)
        del os.environ["COLUMNS"]
    if 0 < shutil.get_terminal_size((80, 24)).columns < MIN_WIDTH:
        # likewise narrower than the commands' narrowest (COLUMNS=1, a tiny terminal): rich
        # left --help's options and commands out (box corners only, exit 0) and spelt a
        # usage error one letter a line
        os.environ["COLUMNS"] = str(MIN_WIDTH)
    return app, _is_devnull(sys.stdout)


def _interrupted() -> int:
    """Say ``error: interrupted`` as :func:`~._common.guarded` does; the exit status (130).

    A second Ctrl-C during the imports is raised where it lands, which can leave a module half
    imported (asyncio, under pydantic): importing the CLI's printing then fails (a NameError
    traceback, exit 1, "the answer is no"). The words are then written plainly."""
    try:
        from ._common import ExitCode, fail

        return int(fail("interrupted", ExitCode.INTERRUPTED).exit_code)
    except Exception:
        import os

        with contextlib.suppress(OSError):
            os.write(2, b"error: interrupted\n")
        return 130


def _is_devnull(stream: object) -> bool:
    """Whether ``stream``'s file descriptor is /dev/null (False for a stream without one)."""
    import os

    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        here, null = os.fstat(fd), os.stat(os.devnull)
    except (AttributeError, OSError, ValueError):
        return False
    return (here.st_dev, here.st_ino, here.st_rdev) == (null.st_dev, null.st_ino, null.st_rdev)
