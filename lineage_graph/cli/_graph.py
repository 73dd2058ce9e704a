"""Commands about lineage: upstream, downstream, cached, export, view."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._files import output_path, replace_file
from ..exceptions import NotFoundError
from ..lineage import LineageGraph
from ..models import Artifact, Execution, NodeKind
from ..models import Direction as Way
from ..pipeline import CacheHit
from ..viewer import PAGE_NODE_LIMIT, display_trouble, open_in_browser, to_html, write_html
from . import _lineage
from ._common import (
    ExitCode,
    JsonOption,
    StoreOption,
    err_console,
    fail,
    guarded,
    missing_type_notes,
    open_store,
    out_console,
    print_notes,
    refuse_empty,
    writing,
)
from ._complete import complete_kind
from ._drawings import drawing_for_stdout, mermaid_limits_note
from ._refs import Entity, TypeLists, parse_kind, resolve, utf8_text
from ._render import (
    busy,
    count_of,
    entities_table,
    entity_json,
    entity_label,
    event_json,
    json_for_stdout,
    lineage_tree,
    listed_text,
    print_json,
    printable,
    printable_path,
    spinner,
    tree_depth,
    tree_fits,
)
from ._stdout import write_stdout
from ._walk import (
    AsOfOption,
    CursorOption,
    ExcludeStopOption,
    OnlyOption,
    PageLimitOption,
    StateFilterOption,
    StopStateOption,
    StopTypeOption,
    TypeFilterOption,
    WalkOptions,
    WhereOption,
    parse_assignments,
    walk_options,
)

__all__ = ["cached", "downstream", "export", "lineage_node", "print_tree", "upstream", "view"]

RefArgument = Annotated[
    str,
    typer.Argument(
        help="An artifact or execution: 12, execution:7, Type/name, or an artifact uri."
    ),
]
KindOption = Annotated[
    str,
    typer.Option(
        "--kind",
        "-k",
        help="Kind of a bare id or Type/name reference.",
        autocompletion=complete_kind,
    ),
]
#: export's and view's --kind: None when not given (their REF is optional, and a --kind
#: without one was silently ignored)
RefKindOption = Annotated[
    str | None,
    typer.Option(
        "--kind",
        "-k",
        help="Kind of a bare id or Type/name reference (REF). \\[default: artifact]",
        autocompletion=complete_kind,
        show_default=False,
    ),
]
DepthOption = Annotated[
    int | None, typer.Option("--depth", "-d", min=1, help="Follow at most this many hops.")
]


class Direction(StrEnum):
    upstream = "upstream"
    downstream = "downstream"
    both = "both"
    any = "any"


class Format(StrEnum):
    json = "json"
    mermaid = "mermaid"
    dot = "dot"
    html = "html"


def _items(graph: object, name: str) -> list[Any]:
    value = getattr(graph, name, None)
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if value is not None else []


def graph_json(graph: object) -> dict[str, Any]:
    return {
        "artifacts": [entity_json(a) for a in _items(graph, "artifacts")],
        "executions": [entity_json(x) for x in _items(graph, "executions")],
        "events": [event_json(e) for e in _items(graph, "events")],
        "contexts": [entity_json(c) for c in _items(graph, "contexts")],
    }


def lineage_node(s: Any, ref: str, kind: str) -> Artifact | Execution:
    """The artifact or execution ``ref`` names (lineage never starts at a context)."""
    node = resolve(s, ref, parse_kind(kind))
    if not isinstance(node, Artifact | Execution):
        raise fail("lineage starts at an artifact or an execution, not a context", ExitCode.ERROR)
    return node


def paging_json(graph: LineageGraph) -> dict[str, Any]:
    return {"complete": graph.complete, "cursor": graph.cursor, "total": graph.total}


def paging_note(graph: LineageGraph) -> str | None:
    """What to say when the answer is one page of several (never cut silently), else None."""
    if graph.complete:
        return None
    total = f" of {graph.total}" if graph.total is not None else ""
    return (
        f"incomplete: this page has {len(graph)}{total} nodes; for the next page repeat the "
        f"command with --cursor {graph.cursor}"
    )


def _nodes_table(graph: LineageGraph) -> Table:
    nodes: list[Artifact | Execution] = [*graph.artifacts, *graph.executions]
    return entities_table(sorted(nodes, key=lambda n: (n.id or 0, n.kind.value)))


def print_tree(
    console: Console, graph: LineageGraph, node: Artifact | Execution, *, up: bool
) -> None:
    """The answer as a tree hanging from ``node``; a table of its nodes, with a note, when the
    tree is deeper than the console shows (rich drops what passes the right edge)."""
    tree = lineage_tree(graph, node, upstream=up)
    if tree_fits(tree, console.width):
        console.print(tree)
        return
    console.print(_nodes_table(graph))
    console.print(
        f"[dim]the tree is {tree_depth(tree)} levels deep, more than {console.width} columns "
        "show: listed as a table (export --format mermaid, dot or html draws it)[/]"
    )


def _show_walk(
    graph: LineageGraph,
    node: Artifact | Execution,
    opts: WalkOptions,
    *,
    up: bool,
    as_json: bool,
) -> None:
    if as_json:
        print_json({"focus": entity_json(node), **graph_json(graph), **paging_json(graph)})
        note = paging_note(graph)
        if note:  # said on stderr, as `ls --json` and `export` say a page (it was left out)
            err_console().print(f"[yellow]{escape(note)}[/]", soft_wrap=True)
        return
    console = out_console()
    if graph.complete and opts.cursor is None and not opts.filtered:
        print_tree(console, graph, node, up=up)
    else:  # a page or a filtered answer is not a tree hanging from the start node: a table
        console.print(_nodes_table(graph))
    word = "upstream" if up else "downstream"
    scope = " (with the start node)" if graph.complete and not opts.filtered else ""
    if not graph.complete or opts.cursor is not None:
        scope = " on this page"
    console.print(
        f"[dim]{count_of(len(graph.artifacts), 'artifact')} and "
        f"{count_of(len(graph.executions), 'execution')} "
        f"{word}{scope}[/]"
    )
    note = paging_note(graph)
    if note:  # soft wrap: the cursor stays on one line, whole, for copy and paste
        console.print(f"[yellow]{escape(note)}[/]", soft_wrap=True)


def _walk_command(
    ref: str, kind: str, way: Way, opts: WalkOptions, store: str | None, as_json: bool
) -> None:
    with open_store(store) as s:
        node = lineage_node(s, ref, kind)
        graph = _lineage.walk(s, node, way, opts)
        notes = missing_type_notes(s, [NodeKind.ARTIFACT, NodeKind.EXECUTION], opts.type_names)
    _show_walk(graph, node, opts, up=way == Way.UPSTREAM, as_json=as_json)
    print_notes(notes)


@guarded
def upstream(
    ref: RefArgument,
    kind: KindOption = "artifact",
    depth: DepthOption = None,
    as_of: AsOfOption = None,
    only: OnlyOption = None,
    types: TypeFilterOption = None,
    states: StateFilterOption = None,
    where: WhereOption = None,
    stop_types: StopTypeOption = None,
    stop_states: StopStateOption = None,
    exclude_stop: ExcludeStopOption = False,
    limit: PageLimitOption = None,
    cursor: CursorOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where an artifact or execution came from: every run and input upstream of it."""
    opts = walk_options(
        depth=depth, as_of=as_of, only=only, types=types, states=states, where=where,
        stop_types=stop_types, stop_states=stop_states, exclude_stop=exclude_stop,
        limit=limit, cursor=cursor,
    )  # fmt: skip
    _walk_command(ref, kind, Way.UPSTREAM, opts, store, as_json)


@guarded
def downstream(
    ref: RefArgument,
    kind: KindOption = "artifact",
    depth: DepthOption = None,
    as_of: AsOfOption = None,
    only: OnlyOption = None,
    types: TypeFilterOption = None,
    states: StateFilterOption = None,
    where: WhereOption = None,
    stop_types: StopTypeOption = None,
    stop_states: StopStateOption = None,
    exclude_stop: ExcludeStopOption = False,
    limit: PageLimitOption = None,
    cursor: CursorOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """What came of an artifact or execution: every run and output downstream of it."""
    opts = walk_options(
        depth=depth, as_of=as_of, only=only, types=types, states=states, where=where,
        stop_types=stop_types, stop_states=stop_states, exclude_stop=exclude_stop,
        limit=limit, cursor=cursor,
    )  # fmt: skip
    _walk_command(ref, kind, Way.DOWNSTREAM, opts, store, as_json)


def _input_id(s: Any, ref: str) -> int:
    """The id of the artifact ``-i ref`` names: an execution or a context is a usage error (its
    id would otherwise be taken as an artifact's)."""
    node = resolve(s, ref, NodeKind.ARTIFACT, takes="-i takes an artifact")
    if not isinstance(node, Artifact) or node.id is None:
        what = f"{node.kind.value.lower()} #{node.id} ({node.type})"
        raise fail(f"-i takes an artifact; {ref!r} is {what}", ExitCode.USAGE)
    return node.id


@guarded
def cached(
    execution_type: Annotated[str, typer.Argument(help="The execution type, e.g. Trainer.")],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="An input artifact (repeat for each input)."),
    ] = None,
    properties: Annotated[
        list[str] | None,
        typer.Option(
            "--property", "-p", help="A declared property, name=value (JSON value or text)."
        ),
    ] = None,
    type_version: Annotated[
        str | None,
        typer.Option(
            "--type-version",
            help="Only runs of this version of the type (default: the unversioned type's runs, "
            "else those of any version).",
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Has this step already run on exactly these inputs? Exit 0 and the outputs if so, 1 if
    not."""
    refuse_empty(execution_type, "TYPE")
    # as typed, in a locale that is not UTF-8 too; bytes that are no UTF-8: exit 2, not 5
    execution_type = utf8_text(execution_type, "TYPE")
    type_version = None if type_version is None else utf8_text(type_version, "--type-version")
    if type_version is not None and not type_version.strip():  # as --type '' is refused
        raise fail("--type-version is empty: name a version", ExitCode.USAGE)
    props = parse_assignments(properties or [], "--property")
    with open_store(store) as s:
        ids = [_input_id(s, ref) for ref in inputs or []]
        versions = TypeLists(s).versioned(NodeKind.EXECUTION, execution_type)
        # The types tried, as 'show Type/name' tries them: the unversioned one, then each
        # version (MLMD type versions). Runs of a versioned type were never compared: 'cached T'
        # missed a COMPLETE run of T v1 on exactly these inputs.
        tried: list[str | None] = [None, *versions] if type_version is None else [type_version]
        declared_by: dict[str | None, list[str]] = {}
        hits: list[tuple[str | None, CacheHit]] = []
        for version in tried:
            declared = _declared_properties(s, execution_type, version)
            if declared is None:
                continue
            declared_by[version] = declared
            found = _lineage.cached(s, execution_type, ids, props, version)
            if found is not None:
                hits.append((version, found))
                if version is None:  # the unversioned type's run first, as Type/name does
                    break
        # whether TYPE exists at all, in any version (the one asked for may not)
        exists = (
            bool(declared_by or versions) or _declared_properties(s, execution_type) is not None
        )
    if len(hits) > 1:
        which = ", ".join(f"{v} (execution:{h.execution.id})" for v, h in hits)
        raise fail(
            f"{execution_type!r} has completed on these inputs in {len(hits)} of its versions: "
            f"{which}; give one with --type-version",
            ExitCode.USAGE,
        )
    hit = hits[0][1] if hits else None
    name = escape(printable(execution_type))
    if type_version is not None:
        name += f" version {escape(printable(type_version))}"
    declared_somewhere = {p for declared in declared_by.values() for p in declared}
    why_not = None
    if hit is None and not declared_by and exists:
        # 'cached T --type-version v9': T is there, that version is not (a miss all the same: a
        # first run of v9 would create it)
        others = [v for v in versions if v != type_version]
        has = f"its versions: {', '.join(others)}" if others else "it has no versions"
        why_not = (
            f"[yellow]no cache hit:[/] execution type '{escape(printable(execution_type))}' has "
            f"no version '{escape(printable(type_version or ''))}' ({escape(printable(has))})"
        )
    elif hit is None and not declared_by:
        why_not = (
            f"[yellow]no cache hit:[/] this store has no execution type "
            f"'{escape(printable(execution_type))}' (type names are case-sensitive; "
            "`lineage-graph ls types` lists them)"
        )
    elif hit is None and set(props) - declared_somewhere:
        # a misspelt -p name is a miss too (no run can have it), but one said so
        unknown = ", ".join(repr(printable(k)) for k in sorted(set(props) - declared_somewhere))
        # each name as `ls types` lists it (listed_text): a property "a, b" read as two
        it_declares = ", ".join(listed_text(k) for k in sorted(declared_somewhere)) or "none"
        [whose, *rest] = declared_by  # the one type compared, named with its version
        label = escape(printable(execution_type)) + (
            f" version {escape(printable(whose))}" if whose is not None and not rest else ""
        )
        in_any = " in any version" if rest else ""
        why_not = (
            f"[yellow]no cache hit:[/] {label} declares no property {escape(unknown)}{in_any} "
            f"(it declares: {escape(it_declares)}; names are case-sensitive)"
        )
    if as_json:
        print_json(
            {
                "hit": hit is not None,
                "execution": entity_json(hit.execution) if hit else None,
                "outputs": [entity_json(a) for a in hit.outputs] if hit else [],
            }
        )
        if why_not is not None:  # said on stderr, as other messages
            err_console().print(why_not)
    elif why_not is not None:
        out_console().print(why_not)
    elif hit is None:
        out_console().print(
            f"[yellow]no cache hit:[/] {name} has not completed on exactly "
            "these inputs" + (" with these properties" if props else "")
        )
    else:
        console = out_console()
        console.print(
            f"[green]cache hit:[/] {escape(entity_label(hit.execution).plain)} ran on the same "
            "inputs"
        )
        console.print(entities_table(hit.outputs, title="its outputs"))
    if hit is None:
        raise typer.Exit(int(ExitCode.NO))


def _declared_properties(s: Any, name: str, version: str | None = None) -> list[str] | None:
    """The property names execution type ``name`` (``version``) declares; None when there is no
    such type."""
    try:
        return list(s.get_execution_type(name, version).properties)
    except NotFoundError:
        return None


_WAYS = {
    Direction.upstream: Way.UPSTREAM,
    Direction.downstream: Way.DOWNSTREAM,
    Direction.both: Way.BOTH,
    Direction.any: Way.ANY,
}


def _build_graph(
    s: Any,
    ref: str | None,
    kind: str | None,
    direction: Direction | None,
    opts: WalkOptions,
    store_limit: int,
) -> tuple[LineageGraph, Entity | None]:
    if ref is None:
        if direction is not None:  # was silently ignored: the whole store has no direction
            raise fail(
                "--direction needs a start entity (REF); without one the whole store is exported",
                ExitCode.USAGE,
            )
        if kind is not None:  # likewise ('export -k execution' exported the whole store)
            raise fail(
                "--kind needs a start entity (REF); without one the whole store is exported",
                ExitCode.USAGE,
            )
        if opts.shapes_the_answer:
            raise fail(
                "--depth, --as-of, the filters, --stop-at-* and --cursor need a start entity "
                "(REF); without one the whole store is exported",
                ExitCode.USAGE,
            )
        return _lineage.whole_store(s, store_limit), None
    node = lineage_node(s, ref, kind or "artifact")
    graph = _lineage.walk(s, node, _WAYS[direction or Direction.both], opts)
    # said at once, as _warn_if_cut says a cut answer, before the output
    print_notes(missing_type_notes(s, [NodeKind.ARTIFACT, NodeKind.EXECUTION], opts.type_names))
    return graph, node


def render_text(graph: LineageGraph, fmt: Format) -> str:
    """``graph`` as JSON (:meth:`LineageGraph.to_json`), Mermaid or Graphviz dot."""
    if fmt == Format.json:
        return graph.to_json(indent=2)
    if fmt == Format.mermaid:
        return graph.to_mermaid()
    return graph.to_dot()


OptionalRef = Annotated[
    str | None,
    typer.Argument(help="Start here (12, execution:7, Type/name, uri); omit for the whole store."),
]
DirectionOption = Annotated[
    Direction | None,
    typer.Option(
        "--direction",
        case_sensitive=False,
        help="Which side of REF to include \\[default: both].",
        show_default=False,
    ),
]
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=1,
        help="From REF: at most this many nodes (one page; the rest with --cursor; the html "
        "page: 10000 unless given). Whole store: at most this many artifacts and executions "
        "\\[default: 5000].",
        show_default=False,
    ),
]
#: The whole-store export's default cap (a lineage from REF is complete unless --limit).
STORE_LIMIT = 5000
#: The viewer page's default page size from REF (view, export -f html), as many nodes as the
#: whole store's page draws: a lineage of 50,000 nodes was one page whose layout alone took
#: 40 s, nothing said; it is paged (the rest with --cursor), as said on stderr.
PAGE_LIMIT = PAGE_NODE_LIMIT


def _page_limit(ref: str | None, limit: int | None, page: bool) -> int | None:
    """The walk's page size: ``--limit`` from REF; for the viewer's page, PAGE_LIMIT when none
    is given; none for the whole store (its own cap, ``--limit`` of each kind)."""
    if ref is None:
        return None
    if limit is None and page:
        return PAGE_LIMIT
    return limit


@guarded
def export(
    ref: OptionalRef = None,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", case_sensitive=False, help="Output format."),
    ] = Format.json,
    output_text: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write here instead of stdout ('-' is stdout, for every format; html goes to "
            "a file otherwise: this one, else lineage.html).",
        ),
    ] = None,
    direction: DirectionOption = None,
    kind: RefKindOption = None,
    depth: DepthOption = None,
    as_of: AsOfOption = None,
    only: OnlyOption = None,
    types: TypeFilterOption = None,
    states: StateFilterOption = None,
    where: WhereOption = None,
    stop_types: StopTypeOption = None,
    stop_states: StopStateOption = None,
    exclude_stop: ExcludeStopOption = False,
    limit: LimitOption = None,
    cursor: CursorOption = None,
    store: StoreOption = None,
) -> None:
    """Export a lineage graph (or the whole store) as JSON, Mermaid, Graphviz dot or HTML."""
    _refuse_empty_output(output_text)
    # '-o -' is stdout, as for most tools (it wrote a file named '-')
    to_stdout = output_text == "-"
    output = None if output_text is None or to_stdout else Path(output_text)
    opts = walk_options(
        depth=depth, as_of=as_of, only=only, types=types, states=states, where=where,
        stop_types=stop_types, stop_states=stop_states, exclude_stop=exclude_stop,
        limit=_page_limit(ref, limit, fmt == Format.html), cursor=cursor,
    )  # fmt: skip
    if output is not None or (fmt == Format.html and not to_stdout):
        # before the query (a bad path was found once the page was drawn), as typed: a Path
        # drops a trailing / ("-o out/" wrote a file "out")
        given = output_text or "lineage.html"
        with writing(given):
            output_path(given)
    err = err_console()
    # made before the progress is shown: it swaps sys.stderr for a proxy of its own
    querying, rendering = busy("querying the lineage"), busy(f"rendering {fmt.value}")
    with (
        Progress(
            SpinnerColumn(spinner()),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,  # else a blank line is left in a log or a pipe
        ) as progress,
        open_store(store) as s,
    ):
        task = progress.add_task(querying, total=2)
        graph, node = _build_graph(s, ref, kind, direction, opts, limit or STORE_LIMIT)
        html = fmt == Format.html
        _warn_if_cut(
            graph,
            node,
            limit or STORE_LIMIT,
            capped=html and not limit,
            page=html,
            following=cursor is not None,
        )
        if html:
            _warn_if_large(graph)
        progress.update(task, advance=1, description=rendering)
        if fmt == Format.html and to_stdout:
            text = to_html(graph, title=_title(node), focus=_focus(node))
        elif fmt == Format.html:
            target = output or Path("lineage.html")
            with writing(target):
                path = write_html(graph, target, title=_title(node), focus=_focus(node))
            progress.update(task, advance=1)
            err_console().print(
                f"viewer page written to [bold]{escape(printable_path(path))}[/]", soft_wrap=True
            )
            return
        else:
            text = render_text(graph, fmt)
        progress.update(task, advance=1)
    if output is None:
        # as the stream can carry it (PYTHONIOENCODING=ascii, a C locale): the same text
        text = json_for_stdout(text) if fmt == Format.json else drawing_for_stdout(text, fmt.value)
    # of the text as written: on an ascii stdout each "é" is "#233;", five times as long (a
    # drawing of 40,000 characters was 200,000 and nothing said)
    note = mermaid_limits_note(text) if fmt == Format.mermaid else None
    if note is not None:  # written all the same (a renderer may raise its limits)
        err_console().print(f"[yellow]{escape(note)}[/]", soft_wrap=True)
    if output is None:
        write_stdout(text if text.endswith("\n") else text + "\n")
    else:
        # where output_path checked it and the page is written: "-o ~/g.json" (a ~ the shell
        # left, as in --output=~/g.json) made a directory "~" here, -f html wrote to the home
        written = output.expanduser()
        with writing(output):
            written.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode("utf-8")
            replace_file(written, lambda file: file.write(data))  # no half file on an error
        err_console().print(
            f"{fmt.value} written to [bold]{escape(printable_path(written))}[/]", soft_wrap=True
        )


def _warn_if_cut(
    graph: LineageGraph,
    node: Entity | None,
    limit: int,
    *,
    capped: bool = False,
    page: bool = False,
    following: bool = False,
) -> None:
    """Say on stderr when the answer is not everything (never cut silently); ``capped``: the
    viewer's page from REF was cut at PAGE_LIMIT, no --limit given; ``page``: the viewer's
    page is drawn (REF, when not on it, is not selected); ``following``: a page
    after the first (--cursor), which may be the last."""
    if graph.complete:
        if node is not None and following:
            _say_where_ref_is(graph, node, page)  # the last page
        return
    if node is None:
        text = (
            f"the store has more than {limit} artifacts or executions: only the first {limit} "
            "of each are included (raise --limit, or start from an entity)"
        )
    else:
        text = paging_note(graph) or ""
        if capped:
            text += (
                f" (the viewer's page draws at most {PAGE_LIMIT} nodes unless --limit; "
                "--depth or the filters draw less)"
            )
    err_console().print(f"[yellow]{escape(text)}[/]", soft_wrap=True)
    if node is not None:
        _say_where_ref_is(graph, node, page)


def _warn_if_large(graph: LineageGraph) -> None:
    """Say on stderr when the viewer's page draws more than PAGE_LIMIT nodes (an explicit
    --limit raised it): ``view -n 1000000`` wrote a page of any size, nothing said, which a
    browser takes minutes to lay out, or cannot open."""
    drawn = len(graph.artifact_ids) + len(graph.execution_ids)
    if drawn > PAGE_LIMIT:
        text = (
            f"the page draws {drawn} nodes, more than {PAGE_LIMIT}: a browser may take minutes "
            "to lay it out, or fail to open it (a lower --limit, --depth or the filters draw less)"
        )
        err_console().print(f"[yellow]{escape(text)}[/]", soft_wrap=True)


def _say_where_ref_is(graph: LineageGraph, node: Entity, page: bool) -> None:
    """Say so when ``node`` (REF) is not on this page of its paged lineage: pages are in the
    walk's order (by id, then kind), not from REF, and ``view 5`` of a large lineage drew a
    page without artifact 5, nothing selected, nothing said."""
    start = _focus(node)
    if start is None or start.id in _ids_of(graph, start):
        return
    # "not on this page", not "on another": a filter (--type, --only, --where) may leave REF
    # on none
    text = f"{start.kind.value} {start.id} (REF) is not on this page (pages go by id)"
    if page:
        text += "; the page opens with nothing selected"
    err_console().print(f"[yellow]{escape(text)}[/]", soft_wrap=True)


def _title(node: Entity | None) -> str:
    return "Lineage" if node is None else f"Lineage of {entity_label(node, for_file=True).plain}"


def _focus(node: Entity | None) -> Artifact | Execution | None:
    return node if isinstance(node, Artifact | Execution) else None


def _ids_of(graph: LineageGraph, node: Artifact | Execution) -> set[int]:
    return graph.artifact_ids if isinstance(node, Artifact) else graph.execution_ids


def _refuse_empty_output(text: str | None) -> None:
    """``-o ''`` is a usage error saying so: it was read as the path ``.``, "cannot write .: is
    a directory"."""
    if text == "":
        raise fail("-o is empty: name the file to write (or - for stdout)", ExitCode.USAGE)


@guarded
def view(
    ref: OptionalRef = None,
    output_text: Annotated[
        str, typer.Option("--output", "-o", metavar="PATH", help="Where to write the page.")
    ] = "lineage.html",
    direction: DirectionOption = None,
    kind: RefKindOption = None,
    depth: DepthOption = None,
    as_of: AsOfOption = None,
    only: OnlyOption = None,
    types: TypeFilterOption = None,
    states: StateFilterOption = None,
    where: WhereOption = None,
    stop_types: StopTypeOption = None,
    stop_states: StopStateOption = None,
    exclude_stop: ExcludeStopOption = False,
    limit: LimitOption = None,
    cursor: CursorOption = None,
    no_open: Annotated[
        bool, typer.Option("--no-open", help="Only write the page; do not open a browser.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Write the interactive lineage viewer (one self-contained HTML file) and open it."""
    _refuse_empty_output(output_text)
    output = Path(output_text)
    if output_text == "-":  # a browser opens a file: '-' wrote one named '-'
        raise fail(
            "view writes a file for the browser: name one with -o (export -f html -o - "
            "prints the page)",
            ExitCode.USAGE,
        )
    opts = walk_options(
        depth=depth, as_of=as_of, only=only, types=types, states=states, where=where,
        stop_types=stop_types, stop_states=stop_states, exclude_stop=exclude_stop,
        limit=_page_limit(ref, limit, True), cursor=cursor,
    )  # fmt: skip
    with writing(output_text):  # before the query: a bad path was found once the page was drawn
        output_path(output_text)  # as typed: a Path drops a trailing / ("-o out/")
    with (
        err_console().status(busy("querying the lineage"), spinner=spinner()),
        open_store(store) as s,
    ):
        graph, node = _build_graph(s, ref, kind, direction, opts, limit or STORE_LIMIT)
    _warn_if_cut(
        graph, node, limit or STORE_LIMIT, capped=not limit, page=True, following=cursor is not None
    )
    _warn_if_large(graph)
    with writing(output):
        path = write_html(graph, output, title=_title(node), focus=_focus(node))
    # a message, not the answer: on stderr, as export -f html and stats --plot say theirs
    err_console().print(
        f"viewer page written to [bold]{escape(printable_path(path))}[/]", soft_wrap=True
    )
    if not no_open and not open_in_browser(path):
        trouble = display_trouble()
        why = f" ({trouble}; BROWSER names one to use)" if trouble else ""
        err_console().print(
            f"no browser could be started{why}: open {escape(path.as_uri())} yourself",
            soft_wrap=True,
        )
