"""Commands about lineage: upstream, downstream, impact, cached, export, view."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..lineage import LineageGraph
from ..models import Artifact, Execution, NodeKind
from ..viewer import open_in_browser, write_html
from . import _lineage
from ._common import (
    ExitCode,
    JsonOption,
    StoreOption,
    err_console,
    fail,
    guarded,
    open_store,
    out_console,
)
from ._refs import Entity, parse_kind, resolve
from ._render import (
    entities_table,
    entity_json,
    entity_label,
    event_json,
    lineage_tree,
    print_json,
)

__all__ = ["cached", "downstream", "export", "impact", "upstream", "view"]

RefArgument = Annotated[
    str,
    typer.Argument(
        help="An artifact or execution: 12, execution:7, Type/name, or an artifact uri."
    ),
]
KindOption = Annotated[
    str, typer.Option("--kind", "-k", help="Kind of a bare id or Type/name reference.")
]
DepthOption = Annotated[
    int | None, typer.Option("--depth", "-d", min=1, help="Follow at most this many hops.")
]


class Direction(StrEnum):
    upstream = "upstream"
    downstream = "downstream"
    both = "both"


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


def _lineage_node(s: Any, ref: str, kind: str) -> Artifact | Execution:
    node = resolve(s, ref, parse_kind(kind))
    if not isinstance(node, Artifact | Execution):
        raise fail("lineage starts at an artifact or an execution, not a context", ExitCode.ERROR)
    return node


def _show_walk(graph: object, node: Artifact | Execution, *, up: bool, as_json: bool) -> None:
    if as_json:
        print_json({"focus": entity_json(node), **graph_json(graph)})
        return
    console = out_console()
    console.print(lineage_tree(graph, node, upstream=up))
    n_art = len(_items(graph, "artifacts"))
    n_exec = len(_items(graph, "executions"))
    word = "upstream" if up else "downstream"
    console.print(f"[dim]{n_art} artifacts and {n_exec} executions {word} (with the start node)[/]")


@guarded
def upstream(
    ref: RefArgument,
    kind: KindOption = "artifact",
    depth: DepthOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where an artifact or execution came from: every run and input upstream of it."""
    with open_store(store) as s:
        node = _lineage_node(s, ref, kind)
        graph = _lineage.upstream(s, node, depth)
    _show_walk(graph, node, up=True, as_json=as_json)


@guarded
def downstream(
    ref: RefArgument,
    kind: KindOption = "artifact",
    depth: DepthOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """What came of an artifact or execution: every run and output downstream of it."""
    with open_store(store) as s:
        node = _lineage_node(s, ref, kind)
        graph = _lineage.downstream(s, node, depth)
    _show_walk(graph, node, up=False, as_json=as_json)


@guarded
def impact(
    ref: Annotated[str, typer.Argument(help="An artifact: 12, Type/name or its uri.")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """What a bad artifact affects: the executions, artifacts and contexts downstream of it."""
    with open_store(store) as s:
        node = resolve(s, ref, NodeKind.ARTIFACT)
        if not isinstance(node, Artifact):
            raise fail("impact starts at an artifact", ExitCode.ERROR)
        graph = _lineage.impact(s, node)
    executions = list(graph.executions)
    artifacts = [a for a in graph.artifacts if a.id != node.id]
    # The contexts an affected node is in (the start artifact's own contexts do not count).
    context_ids = {link.context_id for link in graph.associations} | {
        link.context_id for link in graph.attributions if link.artifact_id != node.id
    }
    contexts = [c for c in graph.contexts if c.id in context_ids]
    if as_json:
        print_json(
            {
                "artifact": entity_json(node),
                "executions": [entity_json(x) for x in executions],
                "artifacts": [entity_json(a) for a in artifacts],
                "contexts": [entity_json(c) for c in contexts],
            }
        )
        return
    console = out_console()
    console.print(lineage_tree(graph, node, upstream=False))
    console.print(
        f"[bold]impact of[/] {escape(entity_label(node).plain)}: {len(executions)} executions, "
        f"{len(artifacts)} artifacts, {len(contexts)} contexts downstream"
    )
    if artifacts:
        console.print(entities_table(artifacts, title="affected artifacts"))
    if contexts:
        console.print(entities_table(contexts, title="affected contexts"))


def _parse_property(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise fail(f"--property wants name=value, got {text!r}", ExitCode.USAGE)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    if value is None or isinstance(value, list):
        value = raw
    return key, value


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
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Has this step already run on exactly these inputs? Exit 0 and the outputs if so, 1 if
    not."""
    props = dict(_parse_property(p) for p in properties or [])
    with open_store(store) as s:
        input_nodes = [resolve(s, ref, NodeKind.ARTIFACT) for ref in inputs or []]
        ids = [n.id for n in input_nodes if n.id is not None]
        hit = _lineage.cached(s, execution_type, ids, props)
    if as_json:
        print_json(
            {
                "hit": hit is not None,
                "execution": entity_json(hit.execution) if hit else None,
                "outputs": [entity_json(a) for a in hit.outputs] if hit else [],
            }
        )
    elif hit is None:
        out_console().print(
            f"[yellow]no cache hit:[/] {escape(execution_type)} has not completed on exactly "
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


def _build_graph(
    s: Any, ref: str | None, kind: str, direction: Direction, depth: int | None, limit: int
) -> tuple[LineageGraph, Entity | None]:
    if ref is None:
        return _lineage.whole_store(s, limit), None
    node = _lineage_node(s, ref, kind)
    if direction == Direction.upstream:
        return _lineage.upstream(s, node, depth), node
    if direction == Direction.downstream:
        return _lineage.downstream(s, node, depth), node
    return _lineage.lineage(s, node, depth), node


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
    Direction, typer.Option("--direction", help="Which side of the start node to include.")
]
LimitOption = Annotated[
    int,
    typer.Option("--limit", min=1, help="Whole store: at most this many artifacts and executions."),
]


@guarded
def export(
    ref: OptionalRef = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    direction: DirectionOption = Direction.both,
    kind: KindOption = "artifact",
    depth: DepthOption = None,
    limit: LimitOption = 5000,
    store: StoreOption = None,
) -> None:
    """Export a lineage graph (or the whole store) as JSON, Mermaid, Graphviz dot or HTML."""
    with (
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err_console(),
            transient=True,
        ) as progress,
        open_store(store) as s,
    ):
        task = progress.add_task("querying the lineage…", total=2)
        graph, node = _build_graph(s, ref, kind, direction, depth, limit)
        _warn_if_cut(graph, limit)
        progress.update(task, advance=1, description=f"rendering {fmt.value}…")
        if fmt == Format.html:
            target = output or Path("lineage.html")
            path = write_html(graph, target, title=_title(node), focus=_focus(node))
            progress.update(task, advance=1)
            err_console().print(f"viewer page written to [bold]{escape(str(path))}[/]")
            return
        text = render_text(graph, fmt)
        progress.update(task, advance=1)
    if output is None:
        out_console().file.write(text if text.endswith("\n") else text + "\n")
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        err_console().print(f"{fmt.value} written to [bold]{escape(str(output))}[/]")


def _warn_if_cut(graph: LineageGraph, limit: int) -> None:
    if not graph.complete:
        err_console().print(
            f"[yellow]the store has more than {limit} artifacts or executions: only the first "
            f"{limit} of each are included (raise --limit, or start from an entity)[/]"
        )


def _title(node: Entity | None) -> str:
    return "Lineage" if node is None else f"Lineage of {entity_label(node).plain}"


def _focus(node: Entity | None) -> Artifact | Execution | None:
    return node if isinstance(node, Artifact | Execution) else None


@guarded
def view(
    ref: OptionalRef = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the page.")] = Path(
        "lineage.html"
    ),
    direction: DirectionOption = Direction.both,
    kind: KindOption = "artifact",
    depth: DepthOption = None,
    limit: LimitOption = 5000,
    no_open: Annotated[
        bool, typer.Option("--no-open", help="Only write the page; do not open a browser.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Write the interactive lineage viewer (one self-contained HTML file) and open it."""
    with err_console().status("querying the lineage…"), open_store(store) as s:
        graph, node = _build_graph(s, ref, kind, direction, depth, limit)
    _warn_if_cut(graph, limit)
    path = write_html(graph, output, title=_title(node), focus=_focus(node))
    out_console().print(f"viewer page written to [bold]{escape(str(path))}[/]")
    if not no_open and not open_in_browser(path):
        err_console().print(f"no browser could be started: open {escape(path.as_uri())} yourself")
