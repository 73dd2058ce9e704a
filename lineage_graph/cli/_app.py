"""The typer application: every command registered in one place."""

from __future__ import annotations

import importlib
import inspect
import io
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any, cast

import typer
import typer.completion
import typer.core
import typer.rich_utils
from rich.console import Console
from typer._click import Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._completion_shared import Shells

from .. import __about__
from . import _analysis, _graph, _inspect
from ._common import ExitCode, _silence_stdout, _some_width, fail
from ._render import GLYPHS, glyph, typed_bytes
from ._stdout import StdoutError, StdoutFile, write_stdout
from .demo import demo

__all__ = ["app"]

# The neo4j driver logs each failed routing attempt as a warning; the CLI reports the failure
# itself (one line, exit code 4), so the driver's own lines would only be noise on stderr.
logging.getLogger("neo4j").addHandler(logging.NullHandler())

#: typer's own console (help, usage errors), which :func:`_help_console` replaces (a private
#: function of typer 0.26 to 0.29 at least: a typer without it keeps its own help console).
_typer_console: Callable[..., Console] | None = getattr(typer.rich_utils, "_get_rich_console", None)
#: Whether the help typer prints goes to stderr (``lineage-graph`` with no arguments).
_help_on_stderr = False


def _help_console(stderr: bool = False) -> Console:
    """typer's console for help and usage errors, as the commands' own are: no wider than
    :data:`~._common.MAX_WIDTH` (``COLUMNS=99999999999999999999 --help`` ended in rich's
    OverflowError, "Error in sys.excepthook", exit 1; ``COLUMNS=2147483648 --help`` padded
    every line for minutes), and a closed stdout (``--help >&-``) a closed pipe, exit 141, not
    exit 0 with nothing printed."""
    assert _typer_console is not None
    console = _typer_console(stderr=stderr or _help_on_stderr)
    if not console.stderr:
        console.file = _HelpStdout()  # type: ignore[assignment]
    console.on_broken_pipe = _help_broken_pipe  # type: ignore[method-assign]
    return _some_width(console)


class _HelpStdout(StdoutFile):
    """stdout for typer's help: a write that fails (``--help > /dev/full``) is said as the
    commands say it (exit 2), not a StdoutError traceback."""

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except StdoutError as exc:
            raise fail(f"cannot write the output to stdout: {exc}", ExitCode.USAGE) from None


def _help_broken_pipe() -> None:
    _silence_stdout()
    raise typer.Exit(int(ExitCode.BROKEN_PIPE))


if _typer_console is not None:
    typer.rich_utils._get_rich_console = _help_console


_rich_format_error = typer.rich_utils.rich_format_error


def _format_error(error: ClickException) -> None:
    """click's usage errors (``Invalid value for '--only': '\\udcff' is not one of …``) with
    the bytes of the command line that are no UTF-8 shown as typed, ``'\\xff'``, as the
    commands' own refusals show them (:func:`~._render.typed_bytes`)."""
    error.message = typed_bytes(error.message)
    _rich_format_error(error)


# typer names its parameter `self`
typer.rich_utils.rich_format_error = _format_error  # type: ignore[assignment]


@contextmanager
def _help_to_stderr() -> Iterator[None]:
    global _help_on_stderr
    _help_on_stderr = True
    try:
        yield
    finally:
        _help_on_stderr = False


#: The shells typer has completion scripts for.
SHELLS = tuple(shell.value for shell in Shells)
_COMPLETION = {
    "--install-completion": typer.completion.install_callback,
    "--show-completion": typer.completion.show_callback,
}


class _Group(typer.core.TyperGroup):
    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """With no arguments, the help is a usage error (exit 2): it goes to stderr, as click
        (8.2+) has it, not to stdout, where a script reading the output took it for an
        answer. A shell named after ``--show-completion`` / ``--install-completion`` is the
        one used (:func:`_completion`)."""
        if not args and not ctx.resilient_parsing:
            with _help_to_stderr():
                raise NoArgsIsHelpError(ctx)
        if not ctx.resilient_parsing:
            _guard_completion_output(ctx)
            _completion(ctx, args)
        _ascii_help(self)
        return super().parse_args(ctx, args)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        """A Ctrl-C while the command line is read says ``error: interrupted`` (exit 130), as
        one during a command does: typer ended it with exit 130 and not a word."""
        with _said_interrupt():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        """Likewise while the command's own options are read, before it runs."""
        with _said_interrupt():
            return super().invoke(ctx)


@contextmanager
def _said_interrupt() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        raise fail("interrupted", ExitCode.INTERRUPTED) from None


def _ascii_help(group: typer.core.TyperGroup) -> None:
    """The help texts with the CLI's own symbols (``→``, ``…``, ``—``) in ASCII on a stdout that
    cannot encode them (``PYTHONIOENCODING=ascii``): they printed as ``\\u2192``, three to five
    columns wider than rich had measured, pushing the boxes of ``--help`` out of line."""
    if all(glyph(symbol) == symbol for symbol in GLYPHS):
        return

    def ascii_text(text: str) -> str:
        for symbol in GLYPHS:
            text = text.replace(symbol, glyph(symbol))
        return text

    for command in (group, *group.commands.values()):
        for attr in ("help", "short_help", "epilog"):
            value = getattr(command, attr, None)
            if isinstance(value, str):
                setattr(command, attr, ascii_text(value))
        for param in command.params:
            value = getattr(param, "help", None)
            if isinstance(value, str):
                param.help = ascii_text(value)  # type: ignore[attr-defined]


def _guard_completion_output(ctx: Context) -> None:
    """The completion flags' own callbacks (a shell detected) print through
    :func:`_completion_output`, as a shell named does."""
    for param in ctx.command.get_params(ctx):
        callback = param.callback
        ours = any(o in _COMPLETION for o in param.opts)
        if ours and callback is not None and not getattr(callback, "_guarded", False):
            param.callback = _completion_output(callback)


class _Captured(io.StringIO):
    """What a completion callback prints, a terminal if ``stream`` is one: click's ``secho``
    colours only for a terminal (``bash completion installed in ...`` was green, and was
    plain once captured)."""

    def __init__(self, stream: Any) -> None:
        super().__init__()
        try:
            self._tty = bool(stream is not None and stream.isatty())
        except (AttributeError, ValueError, OSError):
            self._tty = False

    def isatty(self) -> bool:
        return self._tty


def _completion_output(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` (typer's ``--show-completion`` / ``--install-completion``) with its output
    written as the commands write theirs: it printed with click's echo, which writes nothing to
    a closed stdout (``--show-completion bash >&-`` exited 0 with no script), exited 1 on a
    closed pipe (``| true``: "the answer is no") and was an OSError traceback on a stdout that
    cannot be written (a full disk). Now: exit 141, and ``cannot write the output to stdout``
    (exit 2)."""

    def run(ctx: Context, param: Any, value: Any) -> Any:
        captured, said = _Captured(sys.stdout), io.StringIO()
        try:
            with redirect_stdout(captured), redirect_stderr(said):
                result = callback(ctx, param, value)
        except typer.Exit as exc:
            if not exc.exit_code:
                raise
            # a shell detected that typer has no script for (run from sh: "Shell sh not
            # supported.", exit 1, "the answer is no"; --install-completion said it on stdout):
            # a usage error, as a shell named that has none is
            reason = (captured.getvalue() + said.getvalue()).strip() or "no completion"
            if reason.startswith(("Shell  not", "Shell None is not")):
                # no shell detected (shellingham found none): typer said "Shell  not
                # supported." (--show-completion) or "Shell None is not supported."
                reason = "cannot tell which shell this is"
            option = next((o for o in param.opts if o in _COMPLETION), "--show-completion")
            raise fail(
                f"{option}: {reason.rstrip('.')}; name a shell lineage-graph has completion "
                f"for ({', '.join(SHELLS)}): {option} bash",
                ExitCode.USAGE,
            ) from None
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
            ended = True
        except OSError as exc:
            # typer's install runs the shell (powershell: FileNotFoundError when it is not
            # installed) and writes the shell's rc file (a .bashrc it cannot write): a
            # traceback, exit 1 ("the answer is no"). Now said, exit 5
            option = next((o for o in param.opts if o in _COMPLETION), "--install-completion")
            what = exc.strerror or str(exc)
            where = f": {exc.filename}" if exc.filename else ""
            raise fail(f"{option}: {what.lower()}{where}", ExitCode.ERROR) from None
        else:
            ended = False
        try:
            if captured.getvalue() or ended:
                write_stdout(captured.getvalue())
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None
        except StdoutError as exc:
            raise fail(f"cannot write the output to stdout: {exc}", ExitCode.USAGE) from None
        if ended:
            raise typer.Exit()
        return result

    run._guarded = True  # type: ignore[attr-defined]
    return run


def _completion(ctx: Context, args: list[str]) -> None:
    """``--show-completion SHELL`` / ``--install-completion SHELL`` for the shell named: typer's
    flags take no value, so the shell was read as a command's name and ignored
    (``--show-completion zsh`` printed the bash script of the shell it detected, and
    ``--install-completion zsh`` installed that one). A shell typer has no script for is
    refused (exit 2); without a shell, typer's flags detect the current one, as before."""
    # click answers the eager options in the order given: a -h / --version before the flag
    # is answered first (``-h --show-completion zsh`` printed the zsh script, not the help)
    others = {o for p in ctx.command.get_params(ctx) if p.is_eager for o in p.opts} - {*_COMPLETION}
    for at, arg in enumerate(args):
        if not arg.startswith("-") or arg in others:
            return  # a command (the options after it are its own), or -h / --version
        if arg in _COMPLETION and at + 1 < len(args) and not args[at + 1].startswith("-"):
            shell = args[at + 1]
            if shell not in SHELLS:
                raise fail(
                    f"{arg} {shell!r}: not a shell lineage-graph has completion for "
                    f"({', '.join(SHELLS)})",
                    ExitCode.USAGE,
                )
            param = next(p for p in ctx.command.params if arg in p.opts)
            _completion_output(_COMPLETION[arg])(ctx, param, shell)


class _Command(typer.core.TyperCommand):
    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """A single-valued option given twice is a usage error (exit 2): click keeps the last
        value and drops the other without a word (``ls -t Data -t Model`` listed the Models,
        ``--store a --store b`` opened b), as ``--mark`` and ``--mark-state`` were refused."""
        if not ctx.resilient_parsing:
            _refuse_repeated(self, ctx, args)
        return super().parse_args(ctx, args)


def _refuse_repeated(command: typer.core.TyperCommand, ctx: Context, args: list[str]) -> None:
    """Exit 2 when ``args`` give an option that takes one value more than once (flags, such
    as ``--json`` twice, change nothing and pass)."""
    try:
        _, _, order = command.make_parser(ctx).parse_args(args=list(args))
    except UsageError:
        return  # the parse proper says what is wrong with the command line
    if any(p.is_eager for p in order):  # --help: the help, whatever else is given
        return
    given = Counter(
        p
        for p in order
        if isinstance(p, typer.core.TyperOption) and not (p.multiple or p.is_flag or p.count)
    )
    for option, times in given.items():
        if times > 1:
            name = max(option.opts, key=len)
            raise fail(
                f"{name} is given {times} times: give it once",
                ExitCode.USAGE,
            )


app = typer.Typer(
    cls=_Group,
    name="lineage-graph",
    help="ML metadata (the MLMD data model) as a property graph: record, query and view "
    "lineage. Start with: lineage-graph demo",
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


app.command("demo", cls=_Command)(demo)
app.command("upstream", cls=_Command)(_graph.upstream)
app.command("downstream", cls=_Command)(_graph.downstream)
app.command("impact", cls=_Command)(_analysis.impact)
app.command("undo-mark", cls=_Command)(_analysis.undo_mark)
app.command("cached", cls=_Command)(_graph.cached)
app.command("show", cls=_Command)(_inspect.show)
app.command("ls", cls=_Command)(_inspect.ls)
app.command("compare", cls=_Command)(_analysis.compare)
app.command("diff", cls=_Command)(_analysis.diff)
app.command("export", cls=_Command)(_graph.export)
app.command("view", cls=_Command)(_graph.view)
app.command("stats", cls=_Command)(_inspect.stats)
app.command("doctor", cls=_Command)(_inspect.doctor)


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


app.command("import-mlmd", cls=_Command)(_import_mlmd_command())


def _one_line_summaries() -> None:
    """The command list shows each command's first docstring paragraph; in rich markup mode
    typer keeps its line breaks, so a wrapped docstring printed as ragged lines ("then show
    its" / "upstream, impact, ..."). Each command's short help is that paragraph on one line."""
    for info in app.registered_commands:
        if info.short_help is None and info.callback is not None and info.callback.__doc__:
            first = inspect.cleandoc(info.callback.__doc__).split("\n\n", 1)[0]
            info.short_help = " ".join(first.split())


_one_line_summaries()
