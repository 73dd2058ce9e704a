"""``lineage-graph demo``: record a small real pipeline, then show what the graph answers."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shlex
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

from .._demo import rerun_training, run_demo
from ..backends._falkordb_server import find_binaries, running_server
from ..exceptions import EngineNotInstalledError, LineageGraphError
from ..store import LineageStore
from ..viewer import write_html
from . import _lineage
from ._analysis import impact_summary
from ._common import (
    ExitCode,
    err_console,
    fail,
    guarded,
    open_store,
    out_console,
    refuse_empty,
    writing,
)
from ._render import (
    busy,
    entities_table,
    entity_label,
    glyph,
    lineage_tree,
    printable,
    spinner,
    stream_encoding,
)

__all__ = ["demo"]

MARKER = ".lineage-graph-demo"
_MARKER_TEXT = "made by `lineage-graph demo`; deleted by its next run\n"


def _claim(workdir: Path) -> contextlib.ExitStack:
    """Make ``workdir`` the demo's and hold it for this run: an exclusive lock on its marker
    file, which the returned stack releases. Two demos started at once in one directory both
    emptied it and recorded into one store (shared by one server): each printed the other's
    runs in its lineage (two IngestData, 8 executions affected), or failed with a traceback.
    The second one is refused now, before it touches anything."""
    marker = workdir / MARKER
    if workdir.exists():
        if not workdir.is_dir():
            raise fail(f"{workdir} exists and is not a directory", ExitCode.ERROR)
        if marker.is_symlink() or (marker.exists() and not marker.is_file()):
            # opened through a symlink, the marker's text replaced the file it named (a user's
            # file, in a --dir another user could write: /tmp/lineage-demo)
            raise _not_a_marker(workdir)
        if any(workdir.iterdir()) and not marker.exists():
            raise fail(
                f"{workdir} is not empty and was not made by the demo: choose another --dir",
                ExitCode.ERROR,
            )
    workdir.mkdir(parents=True, exist_ok=True)
    held = contextlib.ExitStack()
    try:  # O_NOFOLLOW: a symlink put there since the check is refused, never followed
        fd = os.open(marker, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR):
            raise _not_a_marker(workdir) from None
        raise
    held.callback(os.close, fd)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise fail(
                f"another lineage-graph demo is running in {workdir}: wait for it to finish, "
                "or choose another --dir",
                ExitCode.ERROR,
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, _MARKER_TEXT.encode())
    except BaseException:
        held.close()
        raise
    return held


def _not_a_marker(workdir: Path) -> typer.Exit:
    return fail(
        f"{workdir / MARKER} is a symlink or a directory, not the marker file the demo makes: "
        "choose another --dir",
        ExitCode.ERROR,
    )


def _stop_if_orphaned(store_dir: Path) -> bool:
    """Whether no server runs on ``store_dir`` any more. A demo killed while it ran (SIGKILL,
    its terminal closed, a second Ctrl-C during the clean-up) left its server running with no
    client, and every later demo refused the directory as "open in another process" for good.
    Opening and closing the store attaches to that server and, as its last client, shuts it
    down; a server another process uses keeps running, and the directory is still refused."""
    with contextlib.suppress(LineageGraphError):
        LineageStore.open(store_dir).close()
    return running_server(store_dir) is None


def _reset(workdir: Path) -> None:
    """Empty ``workdir``, which :func:`_claim` made the demo's (never anything else)."""
    pid = running_server(workdir / "store")
    if pid is not None and not _stop_if_orphaned(workdir / "store"):
        # deleting its files would lose what its clients write next
        raise fail(
            f"the demo's store in {workdir} is open in another process (its server, pid "
            f"{pid}, is running): close it first, or choose another --dir",
            ExitCode.ERROR,
        )
    # The marker stays: rmtree took it first or in any order, so a Ctrl-C (or an error) part
    # way left a directory without it, which every later demo refused as not its own.
    for child in workdir.iterdir():
        if child.name == MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _arg(path: Path) -> str:
    """``path`` as the user would type it: relative to the current directory when inside it."""
    try:
        text = str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        text = str(path)
    return shell_word(text)


def shell_word(text: str) -> str:
    """``text`` (a path, as ``os.fsdecode`` reads it) as one shell word to paste: quoted as
    ``shlex.quote`` does, or, where it holds a byte that is no UTF-8, a control or invisible
    character or one stdout cannot encode (what :func:`~._render.printable` escapes for
    stdout) or one stdout writes otherwise than the path's own bytes, in bash's
    ``$'…'`` with each such character as its bytes in the path (``$'d\\xff/store'``,
    ``$'donn\\xc3\\xa9es/store'`` on an ASCII stdout). ``shlex.quote`` printed the byte as
    ``'d\\udcff/store'``, which names another directory when pasted (and pushed the panel's
    right border out of line); a newline broke the command in two. Bytes, not ``\\u200b``:
    bash reads ``$'\\u…'`` in its locale's encoding, and in the C locale (a container's
    default) kept it as the six characters, another directory."""
    encoding = stream_encoding()

    def plain(char: str) -> bool:
        # (printable escapes a lone surrogate too: no encoding writes one)
        if printable(char) != char:
            return False
        try:
            return char.encode(encoding) == os.fsencode(char)
        except LookupError:
            return True

    if all(plain(c) for c in text):
        return shlex.quote(text)
    out = []
    for char in text:
        if char in "\\'":
            out.append("\\" + char)
        elif plain(char):
            out.append(char)
        else:
            try:  # a byte that is no UTF-8 (U+DCFF) is that byte: $'\\xff'
                out.append("".join(f"\\x{b:02x}" for b in os.fsencode(char)))
            except UnicodeEncodeError:  # (no path's: os.fsdecode gives none)
                code = ord(char)
                out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "$'" + "".join(out) + "'"


@guarded
def demo(
    directory: Annotated[
        str,
        typer.Option(
            "--dir",
            metavar="DIRECTORY",
            help="Where the demo writes its data, models, store and viewer page (emptied first "
            "if an earlier demo made it).",
        ),
    ] = "lineage-demo",
) -> None:
    """Record a small ML pipeline (data → split → train two models → deploy), then show its
    upstream, impact, a cache hit, and the viewer page. Runs on the embedded engine."""
    # read as text: typer made '' the path '.', refused as "not made by the demo" (exit 5)
    refuse_empty(directory, "--dir", blank=False)
    workdir = Path(directory).expanduser()
    if workdir.exists() and not workdir.is_dir():
        raise fail(f"--dir {directory!r} is a file, not a directory", ExitCode.USAGE)
    try:  # before anything is made: the hint for a store in general names other engines
        find_binaries(embedded_only=True)
    except EngineNotInstalledError as exc:
        raise fail(
            f"the demo runs on the embedded engine alone, and {exc}", ExitCode.STORE_UNAVAILABLE
        ) from None
    with writing(workdir):
        claimed = _claim(workdir)
    with claimed:
        with writing(workdir):
            _reset(workdir)
        try:
            _record(workdir)
        except BaseException:
            _drop_empty_store(workdir / "store")
            raise


def _drop_empty_store(store_dir: Path) -> None:
    """Remove ``store_dir`` if it is an empty directory: one this run made (:func:`_reset`
    emptied the demo's directory first, and :func:`_claim` keeps other demos out) and was
    stopped in before the store's first file. A Ctrl-C in the moment between the engine making
    the directory and writing its lock left it empty, and `ls --store DIR/store` said "no store
    at ... (a mistyped path?)" of the very path the demo had made. A store's files, another
    process's among them, keep it: ``rmdir`` removes an empty directory only."""
    with contextlib.suppress(OSError):
        store_dir.rmdir()


def _record(workdir: Path) -> None:
    """Run the pipeline into ``workdir``'s fresh store and print what the graph answers."""
    store_dir = workdir / "store"
    console, err = out_console(), err_console()
    dots = busy("")  # before the status is shown: it swaps sys.stderr for a proxy of its own
    with (
        err.status(busy("starting the embedded store"), spinner=spinner()) as status,
        open_store(str(store_dir), create=True) as store,
    ):
        result = run_demo(store, workdir, say=lambda text: status.update(f"{text}{dots}"))
        best = result.best.artifact
        status.update(f"re-running a training step on the same inputs{dots}")
        hit, cached_run_id = rerun_training(store, result)
        # asked of the store the demo leaves (after the re-run): the impact printed before it
        # said "4 executions" where the `impact` command it suggests next says 5 (the CACHED
        # re-run reads customers.csv's split too)
        upstream = _lineage.upstream(store, best, None)
        impact = _lineage.impact(store, result.raw)
        everything = _lineage.whole_store(store)
    with writing(workdir / "lineage.html"):
        page = write_html(
            everything, workdir / "lineage.html", title="lineage-graph demo", focus=best
        )

    to = glyph("→")
    console.print(Rule("lineage-graph demo"))
    console.print(
        f"Recorded a churn-prediction pipeline in [bold]{escape(_arg(store_dir))}[/] "
        f"(models trained with {result.library}): ingest {to} split {to} train two models {to} "
        "deploy."
    )
    console.print()
    console.print(
        f"[bold]1. Where did the deployed model come from?[/]  "
        f"(version {result.best.version} of {escape(repr(result.best.name))}"
        + (f", from experiment {escape(repr(result.experiment.name))}" if result.experiment else "")
        + ")"
    )
    console.print(lineage_tree(upstream, best, upstream=True))
    console.print()
    console.print("[bold]2. If customers.csv is bad, what is affected?[/]")
    console.print(impact_summary(impact, result.raw))
    console.print()
    console.print(
        "[bold]3. Re-running a training step on the same inputs:[/] "
        f"[green]cache hit[/] {glyph('—')} {escape(entity_label(hit.execution).plain)} "
        "already produced"
    )
    console.print(entities_table(hit.outputs))
    console.print(
        f"   so the re-run (execution #{cached_run_id}) was recorded CACHED and trained nothing."
    )
    console.print()
    console.print(
        f"[bold]4. The whole graph, interactive:[/] {escape(page.as_uri())}", soft_wrap=True
    )
    console.print()
    store_arg = _arg(store_dir)
    commands = [
        f"lineage-graph view --store {store_arg}",
        f"lineage-graph upstream {best.id} --store {store_arg}",
        f"lineage-graph impact {result.raw.id} --tree --store {store_arg}",
        f"lineage-graph diff {result.models[0].id} {result.models[1].id} --store {store_arg}",
    ]
    # measured in terminal cells, not characters: a --dir in CJK (two cells a character) fit
    # by its length and was wrapped inside the panel all the same
    if max(map(cell_len, commands)) + 4 <= console.width:  # the panel's borders and padding
        console.print(Panel(Text("\n".join(commands)), title="next, try", title_align="left"))
    else:
        # A command wider than the panel was wrapped inside its borders (COLUMNS=40, a long
        # --dir): copied, it came with '│' and line breaks in the middle of the path.
        console.print("[bold]next, try:[/]")
        for command in commands:
            console.print(Text(f"  {command}"), soft_wrap=True)
