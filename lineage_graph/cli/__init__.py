"""``lineage-graph``: the command line (typer + rich), a thin client of the public API.

Exit codes: 0 ok, 1 the answer is no (cache miss, doctor found a problem), 2 bad command line,
3 entity not found, 4 store unavailable, 5 request refused, 130 interrupted, 141 stdout closed
(broken pipe).
"""

from __future__ import annotations

from ._app import app
from ._common import ExitCode

__all__ = ["ExitCode", "app", "main"]


def main() -> None:
    """Console-script entry point (``lineage-graph = "lineage_graph.cli:main"``)."""
    import sys

    # Stored names are any unicode; a stream that cannot encode a character (an ASCII or
    # Latin-1 locale, PYTHONIOENCODING=ascii) shows it escaped rather than failing with a
    # UnicodeEncodeError traceback. JSON output stays valid JSON (\uXXXX escapes).
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    app(prog_name="lineage-graph")
