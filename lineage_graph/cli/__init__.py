"""``lineage-graph``: the command line (typer + rich), a thin client of the public API.

Exit codes: 0 ok, 1 the answer is no (cache miss, doctor found a problem), 2 bad command line,
3 entity not found, 4 store unavailable, 5 request refused, 130 interrupted, 141 stdout closed
(broken pipe).
"""

from __future__ import annotations

from ._app import app
from ._common import MIN_WIDTH, ExitCode

__all__ = ["ExitCode", "app", "main"]


def main() -> None:
    """Console-script entry point (``lineage-graph = "lineage_graph.cli:main"``)."""
    import os
    import shutil
    import sys

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
    was_null = _is_devnull(sys.stdout)
    try:
        app(prog_name="lineage-graph")
    except SystemExit as exc:
        # --help and usage text are printed by typer's own rich console, whose broken-pipe
        # handler points stdout at /dev/null and exits 1 (here "the answer is no"): a stdout
        # that became /dev/null during the run is that closed pipe (`--help | head -1`).
        if exc.code == 1 and not was_null and _is_devnull(sys.stdout):
            raise SystemExit(int(ExitCode.BROKEN_PIPE)) from None
        raise


def _is_devnull(stream: object) -> bool:
    """Whether ``stream``'s file descriptor is /dev/null (False for a stream without one)."""
    import os

    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        here, null = os.fstat(fd), os.stat(os.devnull)
    except (AttributeError, OSError, ValueError):
        return False
    return (here.st_dev, here.st_ino, here.st_rdev) == (null.st_dev, null.st_ino, null.st_rdev)
