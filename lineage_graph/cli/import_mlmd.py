"""``lineage-graph import-mlmd``: copy an ML Metadata store into a lineage-graph store.

``ml_metadata`` is imported lazily (inside the command), so the CLI works without the ``[mlmd]``
extra and only this command says what to install.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import urllib.parse
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .._redact import check_url_password, parse_url, redact_url
from ..exceptions import ConfigurationError, InvalidArgumentError, NotFoundError
from ._common import (
    ExitCode,
    JsonOption,
    StoreOption,
    _storeless_directory,
    err_console,
    fail,
    guarded,
    open_store,
    out_console,
    refuse_empty,
)
from ._refs import as_typed
from ._render import WholeTable, print_json, stored_text

__all__ = ["import_mlmd", "parse_source"]


def _sqlite_url_path(source: str) -> str:
    """The file a ``sqlite://`` URL names, as SQLAlchemy (and so Kubeflow's and MLMD users'
    configuration) reads it: ``sqlite:///a.db`` is the relative ``a.db``, ``sqlite:////abs/a.db``
    the absolute ``/abs/a.db``. It was the URL's path, so ``sqlite:///a.db`` looked for
    ``/a.db``. ``sqlite://`` (SQLAlchemy's in-memory database), a host, or query options are
    refused: no file to import is named."""
    rest = source[len("sqlite://") :]
    if "?" in rest:
        raise InvalidArgumentError(
            f"a sqlite:// source takes no query options ({source!r}): name the file, "
            "sqlite:///relative.db or sqlite:////absolute.db"
        )
    if not rest.startswith("/") or rest in ("/", "/:memory:"):
        raise InvalidArgumentError(
            f"{source!r} names no SQLite file (no host, nor an in-memory database): use "
            "sqlite:///relative.db or sqlite:////absolute.db, as SQLAlchemy does"
        )
    return rest[1:]


def _interrupted(untouched: bool, finished: bool = False) -> str:
    """What an import stopped by Ctrl-C (SIGINT) left: nothing (a staged import, all or
    nothing), the batches it wrote into the target (a merge, an import into Neo4j), or all of
    it (``finished``: stopped once the copy was complete, as it released its claim)."""
    if finished:
        return (
            "interrupted once the import had finished: everything was imported (running it "
            "again with --merge changes nothing)"
        )
    if untouched:
        return "interrupted: nothing was imported (the store is as it was)"
    return (
        "interrupted: the batches the import wrote stay in the store, each whole; run the same "
        "import again with --merge to complete it (it copies nothing twice)"
    )


def _interrupted_twice(store: str | None) -> str:
    """What a second Ctrl-C, stopping the check of what an interrupted import left, says: that
    the store is left as it is (it said "interrupted" alone, and left the directory of a new
    store that held nothing). An empty store with an index or constraint of its own is imported
    into batch by batch, as a merge is (it said that one wrote all of it or nothing)."""
    where = f" at {store}" if store else ""  # (fail() masks a password, shows it printable)
    return (
        f"interrupted twice: what the import left was not checked, and the store{where} is "
        "left as it is: an import into an empty store on the embedded engine wrote all of it or "
        "nothing, unless the store held an index or constraint of its own; a merge, an import "
        "into Neo4j or into an empty store holding an index or constraint of its own keeps the "
        "batches it wrote, each whole. Run the same import again with --merge to complete it "
        "(it copies nothing twice)"
    )


def parse_source(source: str) -> Any:
    """A SQLite path (or ``sqlite:///relative.db`` / ``sqlite:////absolute.db``, as SQLAlchemy
    writes them), a ``mysql://user:password@host:port/database`` URL, or a file holding a
    text-format MLMD ``ConnectionConfig`` (``.pbtxt``/``.textproto``). Returns what
    :func:`lineage_graph.mlmd._importer.import_mlmd` takes."""
    if source[: len("sqlite://")].lower() == "sqlite://":
        return _sqlite_url_path(source)
    if source.startswith("mysql://"):
        from ml_metadata.proto import metadata_store_pb2

        pb: Any = metadata_store_pb2  # generated module: no static attributes for mypy

        # as typed, in a locale that is not UTF-8 too ('mysql://u:pässwort@h/db' under LANG=C)
        source = as_typed(source)
        try:
            source.encode("utf-8")
        except UnicodeEncodeError:
            # a UnicodeEncodeError traceback (exit 70) as the names went into the config; the
            # URL is not quoted: it holds a password
            raise InvalidArgumentError(
                "a mysql:// source holds bytes that are not UTF-8 text, which no MySQL host, "
                "user, password or database name is: give them as the UTF-8 they are"
            ) from None
        try:  # a password holding a raw "/": the port "pa", its head quoted in the error
            check_url_password(source, "mysql:// source")
        except ConfigurationError as exc:
            raise InvalidArgumentError(str(exc)) from None
        try:  # 'h:abc', 'h:99999': a ValueError (was a traceback, exit 1), never quoted
            url, port = parse_url(
                source, "mysql:// source (a bad port or host)", urllib.parse.urlparse
            )
        except ConfigurationError as exc:
            raise InvalidArgumentError(str(exc)) from None
        if url.query or url.fragment or source.endswith(("?", "#")):
            # Never read: "?ssl_mode=REQUIRED" connected without TLS, "?socket=..." by TCP.
            # Not quoted: the URL holds a password.
            raise InvalidArgumentError(
                "a mysql:// source takes no '?' options nor '#' (they would be ignored: "
                "mysql://user:password@host:port/database only); for TLS (ssl_options), a "
                "socket or other MySQL options, write a ConnectionConfig file (.pbtxt)"
            )
        config = pb.ConnectionConfig()
        mysql = config.mysql
        mysql.host = url.hostname or "localhost"
        mysql.port = port or 3306
        # decoded as the user and password are: "my%2Ddb" named the database "my%2Ddb"
        mysql.database = urllib.parse.unquote(url.path.lstrip("/"))
        if url.username:
            mysql.user = urllib.parse.unquote(url.username)
        if url.password:
            mysql.password = urllib.parse.unquote(url.password)
        if not mysql.database:
            raise InvalidArgumentError("a mysql:// source needs a database: mysql://host/db")
        if "\x00" in mysql.database + mysql.user + mysql.password:
            # ml_metadata hands them to MySQL as C strings: cut at the NUL, another name
            raise InvalidArgumentError(
                "a mysql:// source's user, password and database hold no NUL character (%00)"
            )
        return config
    if Path(source).suffix in (".pbtxt", ".textproto"):
        from google.protobuf import text_format  # type: ignore[import-untyped]
        from ml_metadata.proto import metadata_store_pb2

        proto: Any = metadata_store_pb2
        if not Path(source).is_file():  # as a missing SQLite file is (exit 3, not 5)
            raise NotFoundError(f"no ConnectionConfig file at {source!r}")
        try:
            config = text_format.Parse(
                Path(source).read_text(encoding="utf-8"), proto.ConnectionConfig()
            )
        except OSError as exc:
            raise InvalidArgumentError(
                f"cannot read the ConnectionConfig {source}: {exc}"
            ) from None
        except UnicodeDecodeError as exc:  # was an "unexpected error" and a traceback
            raise InvalidArgumentError(
                f"cannot read the ConnectionConfig {source}: it is no UTF-8 text (byte {exc.start})"
            ) from None
        except text_format.ParseError as exc:
            # its message quotes the line and the token (a password written unquoted,
            # "password: S3cr3t", was printed whole): only where it is
            raise InvalidArgumentError(
                f"cannot read the ConnectionConfig {source}: it is no text-format "
                f"ConnectionConfig at line {exc.GetLine()}, column {exc.GetColumn()} (the text "
                "there is not quoted: it may hold a password; a text value is written in double "
                'quotes, password: "…")'
            ) from None
        if config.HasField("mysql"):
            # MLMD checks these with a CHECK: the process aborted (SIGABRT, exit 134)
            mysql = config.mysql
            if bool(mysql.host) == bool(mysql.socket) or not mysql.database:
                raise InvalidArgumentError(
                    f"the ConnectionConfig {source}: its mysql names exactly one of host or "
                    'socket, and a database (host: "h" database: "db")'
                )
        return config
    return source


def _remove_new_store(path: Path) -> None:
    """Remove the store directory ``path`` that this command made and that holds nothing (an
    import that failed there): only while holding the directory's lock with no server running
    on it, so never a store another process has open or is opening."""
    from ..backends._falkordb_server import _LOCK_FILE, running_server

    try:
        fd = os.open(path / _LOCK_FILE, os.O_RDWR)
    except OSError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process is opening or closing it: it is in use
            return
        if running_server(path) is not None:  # another process's client keeps it open
            return
        shutil.rmtree(path, ignore_errors=True)
    finally:
        os.close(fd)


@guarded
def import_mlmd(
    source: Annotated[
        str,
        typer.Argument(
            help="The MLMD store: a SQLite file (or sqlite:///relative.db, "
            "sqlite:////absolute.db), mysql://user:password@host:port/db, or a text-format "
            "ConnectionConfig file (.pbtxt).",
            show_default=False,
        ),
    ],
    store: StoreOption = None,
    merge: Annotated[
        bool,
        typer.Option(
            "--merge",
            help="Import into a store that already holds data: nodes an earlier import copied "
            "from the same MLMD store are updated in place (reported as updated or unchanged) "
            "and keep their ids, new ones get the store's next ids (MLMD's ids where free are "
            "not kept); re-running an import this way changes nothing.",
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Import an MLMD store (SQLite or MySQL) into a lineage-graph store: types, artifacts,
    executions, contexts, events and links, with ids and times preserved."""
    try:
        from ..mlmd._importer import _store_is_empty as store_is_empty
        from ..mlmd._importer import check_source, holds_nothing
        from ..mlmd._importer import import_mlmd as run_import
    except ImportError as exc:  # was a rich traceback, exit 1 ("the answer is no")
        cause = exc.__cause__ or exc
        missing = isinstance(cause, ModuleNotFoundError) and cause.name == "ml_metadata"
        raise fail(
            "import-mlmd needs ml-metadata: pip install 'lineage-graph[mlmd]'"
            + ("" if missing else f" ({cause})"),
            ExitCode.ERROR,
        ) from None

    refuse_empty(source, "SOURCE")  # was "no MLMD SQLite file at ''", exit 3
    target = parse_source(source)
    # A source that cannot be opened (no such file, not an MLMD database, unreachable) is
    # refused before the target is opened, which would make an empty store in a new directory.
    check_source(target)
    err = err_console()
    # A store this command makes in a new directory and then fills with nothing (the import
    # failed: "nothing was imported") is removed again, not left behind as an empty store.
    new_dir = _storeless_directory(store)
    made_here = new_dir is not None and not os.path.lexists(new_dir)
    discard = False
    finished = False
    try:
        with (
            open_store(store, create=True) as lineage_store,
            Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                disable=json or not err.is_terminal,  # else a blank line is left in a log
            ) as bar,
        ):
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            if not merge and not store_is_empty(lineage_store):
                # said here, in the command's words: the importer's named merge=True
                raise fail(
                    "the target store is not empty: import into an empty store, or add --merge to "
                    "add to it (MLMD ids are then mapped, not kept)",
                    ExitCode.ERROR,
                )
            try:
                report = run_import(target, lineage_store, progress=progress, merge=merge)
                finished = True
            except BaseException as exc:
                interrupted = isinstance(exc, KeyboardInterrupt)
                if interrupted and getattr(exc, "import_finished", False) is True:
                    # (it said to run it again with --merge "to complete it")
                    raise fail(_interrupted(False, finished=True), ExitCode.INTERRUPTED) from None
                # Ctrl-C before the import wrote into the target (its checks): known without a
                # read, which a second Ctrl-C could stop (it left the new store's directory)
                untouched = interrupted and getattr(exc, "nothing_written", False) is True
                if not untouched and (made_here or interrupted):
                    # read only where it is told or acted on (on a Neo4j that went away, the
                    # read retries for up to max_transaction_retry_time_s before the error is
                    # printed)
                    try:
                        untouched = holds_nothing(lineage_store)
                    except KeyboardInterrupt:  # a second Ctrl-C: what is left is not known
                        raise fail(_interrupted_twice(store), ExitCode.INTERRUPTED) from None
                discard = made_here and untouched
                if interrupted:
                    # It said "interrupted" alone: not whether anything was imported, nor how to
                    # finish a merge stopped midway (its batches stay).
                    raise fail(_interrupted(untouched), ExitCode.INTERRUPTED) from None
                raise
    except KeyboardInterrupt:
        if not finished:
            raise
        # as the store closed (its server stopping) after the import: it said "interrupted"
        raise fail(_interrupted(False, finished=True), ExitCode.INTERRUPTED) from None
    finally:  # once the store is closed (its server stopped, unless another process uses it)
        if discard and new_dir is not None:
            _remove_new_store(new_dir)
    out = out_console()
    if json:
        # never through rich: FORCE_COLOR (set by many CI systems) coloured it, ANSI escapes
        # that made stdout no JSON
        print_json(report.to_dict())
        return
    # (a mysql:// source may hold a password)
    table = WholeTable(title=stored_text(redact_url(f"imported {source}")), show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right", no_wrap=True)
    for name, count in report.counts().items():
        table.add_row(name.replace("_", " "), str(count))
    out.print(table)
    note = (
        "ids as in the MLMD store"
        if report.ids_preserved
        else f"ids as in the MLMD store, but for {report.ids_past_exact} at or near 2**53 (given "
        "the next ids: the embedded engine's index cannot tell ids past 2**53 - 1 apart)"
        if report.ids_past_exact
        else "ids remapped: the store held other nodes"
    )
    out.print(note)
