"""The typer application: every command registered in one place."""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any, cast

import typer

from .. import __about__
from . import _analysis, _graph, _inspect
from ._common import ExitCode, _silence_stdout, fail
from ._stdout import StdoutError, write_stdout
from .demo import demo

__all__ = ["app"]

# The neo4j driver logs each failed routing attempt as a warning; the CLI reports the failure
# itself (one line, exit code 4), so the driver's own lines would only be noise on stderr.
logging.getLogger("neo4j").addHandler(logging.NullHandler())

app = typer.Typer(
    name="lineage-graph",
    help="ML metadata (the MLMD data model) as a property graph: record, query and view "
    "lineage. Start with: lineage-graph demo",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        # typer.echo wrote nothing to a closed stdout (`--version >&-`) and exited 0, and a
        # failed write was an OSError traceback: as every command's output now
        try:
            write_stdout(f"lineage-graph {__about__.__version__}\n")
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None
        except StdoutError as exc:
            raise fail(f"cannot write the output to stdout: {exc}", ExitCode.USAGE) from None
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """ML metadata as a property graph."""


app.command("demo")(demo)
app.command("upstream")(_graph.upstream)
app.command("downstream")(_graph.downstream)
app.command("impact")(_analysis.impact)
app.command("undo-mark")(_analysis.undo_mark)
app.command("cached")(_graph.cached)
app.command("show")(_inspect.show)
app.command("ls")(_inspect.ls)
app.command("compare")(_analysis.compare)
app.command("diff")(_analysis.diff)
app.command("export")(_graph.export)
app.command("view")(_graph.view)
app.command("stats")(_inspect.stats)
app.command("doctor")(_inspect.doctor)


def _import_mlmd_command() -> Callable[..., Any]:
    """The MLMD importer (``lineage_graph/cli/import_mlmd.py``), or a stand-in saying why it is
    not available. The module must import ``ml_metadata`` lazily, inside the command."""
    try:
        module = importlib.import_module(f"{__package__}.import_mlmd")
    except ImportError as exc:
        reason = str(exc)
    else:
        for name in ("import_mlmd", "command", "main"):
            command = getattr(module, name, None)
            if callable(command):
                return cast(Callable[..., Any], command)
        reason = "lineage_graph.cli.import_mlmd defines no import_mlmd() command"

    def unavailable() -> None:
        """Import an MLMD store (SQLite or MySQL) into a lineage-graph store."""
        raise fail(f"import-mlmd is not available yet ({reason})", ExitCode.ERROR)

    return unavailable


app.command("import-mlmd")(_import_mlmd_command())


def _one_line_summaries() -> None:
    """The command list shows each command's first docstring paragraph; in rich markup mode
    typer keeps its line breaks, so a wrapped docstring printed as ragged lines ("then show
    its" / "upstream, impact, ..."). Each command's short help is that paragraph on one line."""
    for info in app.registered_commands:
        if info.short_help is None and info.callback is not None and info.callback.__doc__:
            first = inspect.cleandoc(info.callback.__doc__).split("\n\n", 1)[0]
            info.short_help = " ".join(first.split())


_one_line_summaries()
