"""LineageGraph: the value a lineage query returns, and its exports (networkx, JSON, Mermaid,
Graphviz DOT, the HTML viewer)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._redact import redact_uri
from .._text import printable_lines
from ..models import (
    Artifact,
    Association,
    Attribution,
    Context,
    Event,
    Execution,
    Node,
    NodeKind,
)
from ._filter import NodeRef

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["LineageGraph"]


def _key(kind: NodeKind, ident: int | None) -> str:
    return f"{kind.value.lower()}:{ident}"


def _dump(node: Node) -> dict[str, Any]:
    """The model's JSON form with its property values as the CLI and the viewer write them
    (:func:`~lineage_graph.viewer.jsonable`): pydantic's JSON mode turned NaN and +/-inf into
    null (three different values, all lost, and null is no property value at all) and decoded
    a proto_value's bytes as UTF-8, raising UnicodeDecodeError for most real messages."""
    from ..viewer import jsonable

    out = node.model_dump(
        mode="json", exclude_none=True, exclude={"properties", "custom_properties"}
    )
    out["properties"] = jsonable(node.properties)
    out["custom_properties"] = jsonable(node.custom_properties)
    return out


def _label(node: Artifact | Execution | Context) -> str:
    r"""The node's label, its lines (type and id; name or uri, whose own newlines break lines
    too) as the CLI prints stored text (lineage_graph._text.printable): its control and
    invisible characters as visible escapes. A uri "s3://x/\u202egnp.exe" was drawn (and
    printed by ``export -f dot``) reading "s3://x/exe.png", "s3://bu\u200bcket" as
    "s3://bucket"; Mermaid drew ESC raw and C1 as the Windows-1252 characters its entity
    codes mean in HTML (NEL, "#133;", as "…"), DOT drew every C1 as U+FFFD."""
    # a drawing is shown: a uri's password never is (docs/cli.md, Secrets)
    name = node.name or ((redact_uri(node.uri) or "") if isinstance(node, Artifact) else None)
    base = f"{node.type or node.kind.value} #{node.id}"
    return "\n".join(printable_lines(f"{base}\n{name}" if name else base))


@dataclass(frozen=True)
class LineageGraph:
    """Artifacts, executions and the events joining them (plus contexts when asked for).

    ``complete`` is False when the answer was paged and more remains: pass ``cursor`` back to the
    same query to get the next page. Nothing is ever dropped silently.
    """

    artifacts: list[Artifact] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)
    attributions: list[Attribution] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)
    complete: bool = True
    cursor: str | None = None
    #: Nodes the whole traversal reached (all pages), when known.
    total: int | None = None

    # ------------------------------------------------------------------------------- access

    @property
    def artifact_ids(self) -> set[int]:
        return {a.id for a in self.artifacts if a.id is not None}

    @property
    def execution_ids(self) -> set[int]:
        return {e.id for e in self.executions if e.id is not None}

    @property
    def refs(self) -> set[NodeRef]:
        return {NodeRef(NodeKind.ARTIFACT, i) for i in self.artifact_ids} | {
            NodeRef(NodeKind.EXECUTION, i) for i in self.execution_ids
        }

    def __len__(self) -> int:
        """Number of artifacts and executions."""
        return len(self.artifacts) + len(self.executions)

    def __contains__(self, node: object) -> bool:
        if isinstance(node, NodeRef):
            return node in self.refs
        if isinstance(node, Artifact):
            return node.id in self.artifact_ids
        if isinstance(node, Execution):
            return node.id in self.execution_ids
        return False

    # ------------------------------------------------------------------------------ exports

    def to_networkx(self) -> nx.MultiDiGraph[str]:
        """A ``networkx.MultiDiGraph``: nodes ``"artifact:7"`` / ``"execution:3"`` /
        ``"context:2"`` with the model's fields as attributes; EVENT edges point the way data
        flows; ATTRIBUTION / ASSOCIATION edges point to contexts.

        As the drawings, only the events between the graph's own nodes: a page's event to an
        execution on another page added that execution as a node with no attributes at all
        (no ``kind``, ``type`` nor ``id``), which ``g.nodes[n]["kind"]`` met as a KeyError;
        the event stays in :attr:`events` and :meth:`to_dict`."""
        try:
            import networkx as nx
        except ImportError as exc:  # pragma: no cover - networkx is the [viz] extra's
            raise ImportError(
                "to_networkx() needs networkx: pip install 'lineage-graph[viz]'"
            ) from exc
        g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        for node in (*self.artifacts, *self.executions, *self.contexts):
            g.add_node(
                _key(node.kind, node.id),
                kind=node.kind.value,
                **_dump(node),
            )
        for ev in self._own_events():
            a, x = (
                _key(NodeKind.ARTIFACT, ev.artifact_id),
                _key(NodeKind.EXECUTION, ev.execution_id),
            )
            src, dst = (x, a) if ev.type.is_output else (a, x)
            g.add_edge(
                src,
                dst,
                key=ev.type.name,
                relation="EVENT",
                type=ev.type.name,
                path=list(ev.path),
                milliseconds_since_epoch=ev.milliseconds_since_epoch,
            )
        for at in self.attributions:
            g.add_edge(
                _key(NodeKind.ARTIFACT, at.artifact_id),
                _key(NodeKind.CONTEXT, at.context_id),
                relation="ATTRIBUTION",
            )
        for asn in self.associations:
            g.add_edge(
                _key(NodeKind.EXECUTION, asn.execution_id),
                _key(NodeKind.CONTEXT, asn.context_id),
                relation="ASSOCIATION",
            )
        return g

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible data (the models' JSON form)."""
        return {
            "artifacts": [_dump(a) for a in self.artifacts],
            "executions": [_dump(e) for e in self.executions],
            "events": [e.model_dump(mode="json", exclude_none=True) for e in self.events],
            "contexts": [_dump(c) for c in self.contexts],
            "attributions": [a.model_dump(mode="json") for a in self.attributions],
            "associations": [a.model_dump(mode="json") for a in self.associations],
            "complete": self.complete,
            "cursor": self.cursor,
            "total": self.total,
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def _own_events(self) -> list[Event]:
        """The events between two nodes of the graph (a page of a paged answer also holds the
        events of its artifacts whose execution is on another page)."""
        artifacts, executions = self.artifact_ids, self.execution_ids
        return [
            ev
            for ev in self.events
            if ev.artifact_id in artifacts and ev.execution_id in executions
        ]

    def _flows(self) -> list[tuple[str, str, str]]:
        """Events as (source, target, type name) with short node keys, the way data flows.

        Only events between two nodes of the graph: a page of a paged answer holds the events
        of its artifacts whose execution is on another page, and a drawing of such an event
        made up its other end (Graphviz drew execution "e3" as an artifact's ellipse, Mermaid
        as a bare box, neither with its type); the viewer's page leaves them out too."""
        out = []
        for ev in self._own_events():
            art, exe = f"a{ev.artifact_id}", f"e{ev.execution_id}"
            src, dst = (exe, art) if ev.type.is_output else (art, exe)
            out.append((src, dst, ev.type.name))
        return out

    def _links(self) -> list[tuple[str, str]]:
        """Attributions and associations as (node key, context key)."""
        return [(f"a{at.artifact_id}", f"c{at.context_id}") for at in self.attributions] + [
            (f"e{asn.execution_id}", f"c{asn.context_id}") for asn in self.associations
        ]

    def to_mermaid(self) -> str:
        """A Mermaid flowchart (left to right): artifacts as stadiums, executions as boxes,
        contexts as subgraphs-free hexagons; labels escaped so any name renders safely."""

        def text(node: Artifact | Execution | Context) -> str:
            # Everything but letters, digits and " .,/_-#+=" as an entity code (#34;). A ":"
            # too: Mermaid drops the last ";" of any line matching "style.*:\S*#.*;" (or
            # classDef's), so a name "style a:#b c'd" was drawn "style a:#b c#39d".
            return "".join(
                c if c.isalnum() or c in " .,/_-#+=" else f"#{ord(c)};"
                for c in _label(node).replace("\n", " ")
            )

        lines = ["flowchart LR"]
        for a in self.artifacts:
            lines.append(f'  a{a.id}(["{text(a)}"])')
        for x in self.executions:
            lines.append(f'  e{x.id}["{text(x)}"]')
        for c in self.contexts:
            lines.append(f'  c{c.id}{{{{"{text(c)}"}}}}')
        for src, dst, label in self._flows():
            lines.append(f"  {src} -->|{label}| {dst}")
        for node, context in self._links():
            lines.append(f"  {node} -.- {context}")
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        """Graphviz DOT (``dot -Tsvg``): left to right, artifacts as ellipses, executions as
        boxes, contexts as dashed folders."""

        def quote(value: str) -> str:
            # Graphviz reads HTML entities in any label ("&amp;" is drawn "&"): "&" is one
            value = value.replace("&", "&amp;")
            value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            return '"' + value + '"'

        lines = ["digraph lineage {", "  rankdir=LR;"]
        for a in self.artifacts:
            lines.append(f"  a{a.id} [shape=ellipse, label={quote(_label(a))}];")
        for x in self.executions:
            lines.append(f"  e{x.id} [shape=box, label={quote(_label(x))}];")
        for c in self.contexts:
            lines.append(f"  c{c.id} [shape=folder, style=dashed, label={quote(_label(c))}];")
        for src, dst, label in self._flows():
            lines.append(f"  {src} -> {dst} [label={quote(label)}];")
        for node, context in self._links():
            lines.append(f"  {node} -> {context} [style=dotted, arrowhead=none];")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_html(self, *, title: str | None = None) -> str:
        """The self-contained interactive viewer page (works offline)."""
        from ..viewer import render_html

        return render_html(self, title=title)

    def to_dataframe(self, what: str = "nodes") -> Any:
        """A pandas DataFrame of the nodes (or ``"events"``); needs pandas (the ``viz`` extra)."""
        from ..viewer import to_dataframe

        return to_dataframe(self, what)

    def _repr_html_(self) -> str:
        """Jupyter shows the interactive viewer, sandboxed in an iframe."""
        from ..viewer import repr_html

        return repr_html(self)
