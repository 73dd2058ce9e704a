"""Commands that answer questions about lineage: impact (with an undoable mark), undo-mark,
compare (property diff of two artifacts) and diff (lineage diff of two nodes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.text import Text

from .._redact import redact_uri, redact_value
from .._tracker import DEPLOYMENT_TYPE
from ..exceptions import InvalidArgumentError
from ..lineage import ArtifactDiff, ImpactMark, ImpactReport, LineageDiff, NodeRef
from ..models import Artifact, ArtifactState, Execution, NodeKind
from ..viewer import jsonable
from ._common import (
    ExitCode,
    JsonOption,
    StoreOption,
    err_console,
    fail,
    guarded,
    open_store,
    out_console,
    refuse_empty,
)
from ._complete import complete_artifact_state, complete_kind
from ._graph import graph_json, lineage_node, print_tree
from ._lineage import impact as impact_of
from ._refs import Entity, resolve, utf8_text
from ._render import (
    WholeTable,
    absent_cell,
    count_of,
    entities_table,
    entity_json,
    entity_label,
    glyph,
    name_or_uri,
    print_json,
    shown_text,
    text_cell,
    value_cell,
)
from ._stdout import StdoutError
from ._walk import parse_assignment

__all__ = ["compare", "diff", "impact", "impact_summary", "undo_mark"]

#: How many members of one type the impact table names before saying how many more there are.
SHOWN_PER_TYPE = 4

KindOption = Annotated[
    str,
    typer.Option(
        "--kind",
        "-k",
        help="Kind of a bare id or Type/name reference.",
        autocompletion=complete_kind,
    ),
]


# ---------------------------------------------------------------------------------- impact


def _deployed_ids(report: ImpactReport) -> set[int]:
    """Affected artifacts a deployment execution consumed: the models serving somewhere."""
    deployments = {x.id for x in report.graph.executions if x.type == DEPLOYMENT_TYPE}
    return {
        ev.artifact_id
        for ev in report.graph.events
        if ev.execution_id in deployments and not ev.type.is_output and ev.artifact_id
    }


def _names(nodes: Sequence[Entity], deployed: set[int]) -> Text:
    text = Text()
    for i, node in enumerate(nodes[:SHOWN_PER_TYPE]):
        if i:
            text.append(", ")
        text.append(f"#{node.id}", style="dim")
        label = name_or_uri(node)  # an empty uri too, as a label shows it
        if label is not None:
            text.append(f" {shown_text(label)}")  # as a table shows it (a uri "x " quoted)
        if isinstance(node, Artifact) and node.id in deployed:
            text.append(" (deployed)", style="bold magenta")
    if len(nodes) > SHOWN_PER_TYPE:
        more = f", {glyph('…')} {len(nodes) - SHOWN_PER_TYPE} more (--json lists all)"
        text.append(more, style="dim")
    return text


def impact_summary(report: ImpactReport, source: Artifact | Execution) -> Group:
    """One line of counts and a table: per kind and type, how many and which (short)."""
    counts = report.counts
    headline = Text.assemble(
        ("impact of ", "bold"),
        entity_label(source),
        f": {count_of(counts['artifacts'], 'artifact')}, "
        f"{count_of(counts['executions'], 'execution')}, "
        f"{count_of(counts['contexts'], 'context')} affected",
    )
    deployed = _deployed_ids(report)
    table = WholeTable(box=None, pad_edge=False, show_edge=False)
    table.add_column("kind", style="dim")
    table.add_column("type", style="bold")
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("which", overflow="fold")
    groups: list[tuple[str, dict[str, list[Any]]]] = [
        ("artifacts", report.artifacts_by_type),
        ("executions", report.executions_by_type),
        ("contexts", report.contexts_by_type),
    ]
    for kind, by_type in groups:
        for type_name in sorted(by_type):
            nodes = sorted(by_type[type_name], key=lambda n: n.id or 0)
            table.add_row(kind, text_cell(type_name), str(len(nodes)), _names(nodes, deployed))
    if not any(by_type for _, by_type in groups):
        return Group(headline, Text("nothing downstream: no run used it", style="green"))
    return Group(headline, table)


def _mark(state: str | None, assignments: list[str] | None) -> ImpactMark | None:
    if len(assignments or []) > 1:
        # a single-valued option given twice kept the last value only: `--mark a=1 --mark b=2`
        # set b on every affected artifact and dropped a without a word
        raise fail(
            f"--mark is given {len(assignments or [])} times: a mark sets one custom property "
            "(mark again, with another impact, for another)",
            ExitCode.USAGE,
        )
    assignment = assignments[0] if assignments else None
    if state is None and assignment is None:
        return None
    artifact_state = None
    if state is not None:
        name = state.strip().upper()
        if name not in ArtifactState.__members__:
            raise fail(
                f"--mark-state: {state!r} is not an artifact state "
                f"({', '.join(ArtifactState.__members__)})",
                ExitCode.USAGE,
            )
        artifact_state = ArtifactState[name]
    prop = parse_assignment(assignment, "--mark", finite=True) if assignment is not None else None
    try:
        return ImpactMark(state=artifact_state, custom_property=prop)
    except InvalidArgumentError as exc:  # a value no property can hold (past int64, …)
        raise fail(f"--mark: {exc}", ExitCode.USAGE) from None


def _one_state(states: list[str] | None) -> str | None:
    """``--mark-state`` given once: given twice, the last one was taken and the other dropped
    without a word (``--mark-state abandoned --mark-state live`` set LIVE)."""
    if states and len(states) > 1:
        raise fail(
            f"--mark-state is given {len(states)} times ({', '.join(map(repr, states))}): a "
            "mark sets one state (mark again, with another impact, for another)",
            ExitCode.USAGE,
        )
    return states[0] if states else None


@guarded
def impact(
    ref: Annotated[
        str, typer.Argument(help="A (bad) artifact: 12, Type/name or its uri; or execution:7.")
    ],
    kind: KindOption = "artifact",
    mark_state: Annotated[
        list[str] | None,
        typer.Option(
            "--mark-state",
            metavar="STATE",
            help="Also set every affected artifact (and REF) to this state, e.g. ABANDONED, in "
            "one atomic write; prints the token that undoes it.",
            autocompletion=complete_artifact_state,
        ),
    ] = None,
    mark: Annotated[
        list[str] | None,
        typer.Option(
            "--mark",
            metavar="NAME=VALUE",
            help="Also set this custom property on every affected artifact (and REF), "
            "NAME=VALUE (JSON value or text; numbers finite), e.g. quarantined=true; undoable "
            "like --mark-state.",
        ),
    ] = None,
    tree: Annotated[bool, typer.Option("--tree", help="Also print the downstream tree.")] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """What a bad artifact affects: the artifacts, executions and contexts downstream of it,
    grouped by type with counts; optionally mark them all (undo with `undo-mark`)."""
    impact_mark = _mark(_one_state(mark_state), mark)
    report: ImpactReport | None = None
    try:
        with open_store(store) as s:
            source = lineage_node(s, ref, kind)
            report = impact_of(s, source, impact_mark)
        try:
            _print_impact(report, source, tree=tree, as_json=as_json)
        except (BrokenPipeError, StdoutError):
            # the mark is applied: its token, lost with stdout (`>&-`, a full disk), was the
            # only way to undo it
            if report.mark_token is not None:
                err_console().print(
                    f"the mark was applied: `lineage-graph undo-mark {report.mark_token}` "
                    "undoes it",
                    soft_wrap=True,
                )
            raise
    except KeyboardInterrupt as exc:
        # Ctrl-C after the mark was applied (the store closing, or the output blocked on a full
        # pipe: `impact … --mark-state ABANDONED --json | less`): the token, printed last, was
        # lost with the rest of the output, and the message said "interrupted" only. It travels
        # on the interrupt, as when the Ctrl-C comes during the mark's write (guarded prints it).
        if report is not None and report.mark_token is not None:
            exc.mark_token = report.mark_token  # type: ignore[attr-defined]
        raise


def _print_impact(
    report: ImpactReport, source: Artifact | Execution, *, tree: bool, as_json: bool
) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    console = out_console()
    if tree:
        print_tree(console, report.graph, source, up=False)
    console.print(impact_summary(report, source))
    if report.mark_token is not None:
        # an execution source is not marked (only artifacts are): do not say it is; nor is a
        # retention tombstone (or an artifact removed since the walk): with any of the walk's
        # artifacts left unmarked, the source may be one of them (a tombstone source was said
        # to be marked, still DELETED)
        skipped = len(report.graph.artifacts) - report.marked
        source_note = ""
        if skipped > 0:
            source_note = (
                f" ({count_of(skipped, 'artifact')} of the walk left as it was: retention "
                "tombstones, or removed since)"
            )
        elif isinstance(source, Artifact):
            source_note = " (the source included)"
        console.print(
            f"[bold]marked {count_of(report.marked, 'artifact')}[/]{source_note}. Undo with:"
        )
        # never wrapped: a token cut over two lines is copied as a wrong token
        console.print(f"  lineage-graph undo-mark {report.mark_token}", soft_wrap=True)


@guarded
def undo_mark(
    token: Annotated[str, typer.Argument(help="The token `impact --mark…` printed.")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo an `impact --mark-state/--mark`: restore what it changed, atomically (artifacts
    updated since the mark are left as they are). Exit 3 for an unknown or undone token, 5 for
    a mark a newer one not yet undone is stacked on (undo newest first; nothing changes)."""
    refuse_empty(token, "TOKEN")
    token = utf8_text(token, "TOKEN")  # bytes no token holds: exit 2 (the store's 5)
    with open_store(store) as s:
        restored = s.undo_impact_mark(token.strip())
    if as_json:
        print_json({"token": token.strip(), "restored": restored})
        return
    out_console().print(f"restored {count_of(restored, 'artifact')}")


# --------------------------------------------------------------------------------- compare


def _artifact(s: Any, ref: str) -> Artifact:
    node = resolve(s, ref, NodeKind.ARTIFACT, takes="compare takes two artifacts")
    if not isinstance(node, Artifact):
        kind = node.kind.value.lower()
        raise fail(
            f"compare takes two artifacts; {ref!r} is {kind} #{node.id} ({node.type})",
            ExitCode.ERROR,
        )
    return node


def _typed(a: Artifact) -> str:
    """``'Model'``, or ``'Model' version 'v2'``: two versions share the type's name."""
    version = "" if a.type_version is None else f" version {a.type_version!r}"
    return f"{a.type!r}{version}"


def _field_value(field: str, value: Any) -> Any:
    """A field's value as ``show`` shows it: the field ``state`` by its name (``LIVE``), the
    uri with its secrets masked (``redact_uri``), the name and external id as they are. Only
    the field: a property or custom property named ``state`` is a value like any other."""
    if value is None:
        return None
    if field == "state":
        return ArtifactState(value).name
    return redact_uri(value) if field == "uri" else value


def _diff_rows(d: ArtifactDiff) -> list[tuple[str, str, Any, Any]]:
    rows: list[tuple[str, str, Any, Any]] = [
        ("field", name, _field_value(name, va), _field_value(name, vb))
        for name, (va, vb) in d.fields.items()
    ]
    for group, values in (("property", d.properties), ("custom property", d.custom_properties)):
        rows.extend((group, name, va, vb) for name, (va, vb) in values.items())
    return rows


def _cell(group: str, name: str, value: Any) -> Text:
    """A value as ``show`` shows it: a field's text (:func:`_field_value` made it); a
    property's with a secret, a URL's password and the like masked."""
    if value is None:
        return absent_cell()
    return text_cell(value) if group == "field" else value_cell(name, value)


@guarded
def compare(
    a: Annotated[str, typer.Argument(help="An artifact: 12, Type/name or its uri.")],
    b: Annotated[str, typer.Argument(help="Another artifact of the same type.")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """What differs between two artifacts of one type: name, uri, state, external id,
    properties and custom properties (only the differences)."""
    with open_store(store) as s:
        first, second = _artifact(s, a), _artifact(s, b)
        if first.type_id != second.type_id:  # the library's message named compare()
            raise fail(
                f"compare takes two artifacts of one type: {_typed(first)} and {_typed(second)}",
                ExitCode.ERROR,
            )
        d = s.compare(first, second)
    rows = _diff_rows(d)
    if as_json:
        groups: dict[str, dict[str, Any]] = {"field": {}, "property": {}, "custom property": {}}
        for group, name, va, vb in rows:
            # shown as `show` shows them: a secret-named property, a URL's password masked
            groups[group][name] = [
                v if group == "field" else redact_value(name, jsonable(v)) for v in (va, vb)
            ]
        print_json(
            {
                "a": entity_json(d.a),
                "b": entity_json(d.b),
                "same": d.same,
                "fields": groups["field"],
                "properties": groups["property"],
                "custom_properties": groups["custom property"],
            }
        )
        return
    console = out_console()
    if d.same:
        console.print(
            Text.assemble(entity_label(d.a), " and ", entity_label(d.b), ": no differences")
        )
        return
    table = WholeTable(title=count_of(len(rows), "difference"), title_justify="left")
    table.add_column("", style="dim")
    table.add_column("name", style="cyan")
    table.add_column(entity_label(d.a), overflow="fold")
    table.add_column(entity_label(d.b), overflow="fold")
    for group, name, va, vb in rows:
        table.add_row(group, text_cell(name), _cell(group, name, va), _cell(group, name, vb))
    console.print(table)


# ------------------------------------------------------------------------------------ diff


def _nodes_of(s: Any, refs: set[NodeRef]) -> list[Artifact | Execution]:
    artifact_ids = sorted(r.id for r in refs if r.kind is NodeKind.ARTIFACT)
    execution_ids = sorted(r.id for r in refs if r.kind is NodeKind.EXECUTION)
    nodes: list[Artifact | Execution] = [
        *s.get_artifacts_by_id(artifact_ids),
        *s.get_executions_by_id(execution_ids),
    ]
    return sorted(nodes, key=lambda n: (n.kind.value, n.id or 0))


def _graph_nodes(d: Any) -> list[Artifact | Execution]:
    return sorted([*d.artifacts, *d.executions], key=lambda n: (n.kind.value, n.id or 0))


@guarded
def diff(
    a: Annotated[str, typer.Argument(help="An artifact or execution (12, e:7, Type/name, uri).")],
    b: Annotated[str, typer.Argument(help="Another artifact or execution.")],
    kind: KindOption = "artifact",
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lineage diff: which upstream nodes only A depends on, only B does, and which they share
    (e.g. two models: the runs and data that differ)."""
    with open_store(store) as s:
        first, second = lineage_node(s, a, kind), lineage_node(s, b, kind)
        d: LineageDiff = s.lineage_diff(first, second)
        common = _nodes_of(s, d.common)
    only_a, only_b = _graph_nodes(d.only_a), _graph_nodes(d.only_b)
    counts = {"only_a": len(only_a), "only_b": len(only_b), "common": len(d.common)}
    if as_json:
        print_json(
            {
                "a": entity_json(first),
                "b": entity_json(second),
                "same": d.same,
                "counts": counts,
                "only_a": graph_json(d.only_a),
                "only_b": graph_json(d.only_b),
                "common": [entity_json(n) for n in common],
            }
        )
        return
    console = out_console()
    console.print(
        Text.assemble(
            ("upstream of ", "bold"),
            entity_label(first),
            (" vs ", "bold"),
            entity_label(second),
            f": {counts['only_a']} only in A, {counts['only_b']} only in B, "
            f"{counts['common']} in common",
        )
    )
    for title, nodes in (("only A", only_a), ("only B", only_b), ("common", common)):
        if nodes:
            console.print(entities_table(nodes, title=f"{title} ({len(nodes)})"))
    if d.same:
        console.print("[green]the same upstream[/]")
