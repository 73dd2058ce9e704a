"""The lineage viewer: one self-contained HTML page (cytoscape.js + dagre inlined, no network
access when viewed) drawing a lineage graph left to right, plus table exports.

Works on any *graph-like* object with ``artifacts``, ``executions``, ``events`` and ``contexts``
(lists of models, or mappings of id to model) and optionally ``attributions`` and
``associations``: a :class:`~lineage_graph.lineage.LineageGraph` or a :class:`GraphData`.
"""

from __future__ import annotations

import base64
import html
import importlib
import itertools
import json
import math
import os
import re
import sys
import webbrowser
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..__about__ import __version__
from .._encoding import shown
from .._files import output_path, path_error, replace_file
from .._probe import Address, connect
from .._redact import redact_uri, shown_properties
from .._text import CONTROL_PATTERN_JS, JOINER_TABLES, printable
from ..exceptions import InvalidArgumentError
from ..models import (
    Artifact,
    ArtifactState,
    Association,
    Attribution,
    Context,
    Event,
    Execution,
    ExecutionState,
    ProtoValue,
)

if TYPE_CHECKING:
    from ..store import LineageStore

__all__ = [
    "GraphData",
    "display_missing",
    "display_trouble",
    "graph_from_store",
    "graph_payload",
    "jsonable",
    "open_in_browser",
    "render_html",
    "repr_html",
    "to_dataframe",
    "to_html",
    "to_records",
    "write_html",
]

#: Beyond this many nodes the page uses a faster layout than dagre.
DAGRE_LIMIT = 1500
#: The most nodes a page is drawn with where nobody asked for one: a notebook's display of a
#: graph (:func:`repr_html`), and the CLI's page from REF without --limit. A 50,000-node page
#: took its layout alone 40 s (cytoscape headless, in node), the page frozen meanwhile.
PAGE_NODE_LIMIT = 10_000


@dataclass
class GraphData:
    """A plain lineage subgraph (what :func:`graph_from_store` builds for a whole store)."""

    artifacts: list[Artifact] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)
    attributions: list[Attribution] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)

    def _repr_html_(self) -> str:
        return repr_html(self)

    def to_dataframe(self, what: str = "nodes") -> Any:
        return to_dataframe(self, what)


def graph_from_store(store: LineageStore, *, limit: int | None = None) -> GraphData:
    """Everything in ``store`` (the first ``limit`` artifacts and executions by id, and the
    events and context links among them) as a :class:`GraphData`, with every context.

    Reads what it returns: the first ``limit`` nodes of each kind (it read every node of the
    store and dropped all but those: 120,000 nodes read, 8 s and 250 MB, for a page of 200), and
    the links of those nodes in one read (it read each context's members, two reads a context,
    all of its members however few the page draws)."""
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        # a negative limit sliced off the last nodes instead ([:-1]); a str failed untyped
        raise InvalidArgumentError(f"limit must be a positive int or None, got {shown(limit)}")
    # the store's id-ordered listing, stopped after ``limit`` (its public get_artifacts() lists
    # every node: there is no public paged listing)
    page = 1000 if limit is None else min(limit, 1000)
    # a limit past sys.maxsize (`export -n 99999999999999999999`) cuts nothing; islice took it
    # for a ValueError, an "unexpected error" traceback on the command line
    stop = None if limit is None or limit > sys.maxsize else limit
    artifacts = list(itertools.islice(store._artifacts.iterate(page_size=page), stop))
    executions = list(itertools.islice(store._executions.iterate(page_size=page), stop))
    artifact_ids = {a.id for a in artifacts if a.id is not None}
    execution_ids = {e.id for e in executions if e.id is not None}
    events = [
        e
        for e in store.get_events_by_execution_ids(sorted(execution_ids))
        if e.artifact_id in artifact_ids
    ]
    contexts = store.get_contexts()
    # the same read (and order of links) as store.lineage(..., include_contexts=True)
    attributions, associations = store._lineage.links(sorted(artifact_ids), sorted(execution_ids))
    return GraphData(artifacts, executions, events, contexts, attributions, associations)


# ------------------------------------------------------------------------------ collecting


#: What a graph the viewer draws has (a LineageGraph, a GraphData, or an object like them).
_GRAPH_LISTS = ("artifacts", "executions", "events")


def _require_graph(graph: object) -> None:
    """A graph, else InvalidArgumentError: ``to_records(5)`` was ``[]`` and ``render_html(5)``
    an empty page, as if the lineage were empty."""
    if not any(hasattr(graph, name) for name in _GRAPH_LISTS):
        raise InvalidArgumentError(
            "expected a LineageGraph, a GraphData or an object with their lists "
            f"(artifacts, executions, events), got {type(graph).__name__}"
        )


def _items(graph: object, name: str) -> list[Any]:
    value = getattr(graph, name, None)
    if value is None:
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, Iterable):
        return list(value)
    return []


def jsonable(value: Any, *, finite: bool = True) -> Any:
    """A property value as JSON (NaN/inf as strings, protos as type_url + base64). With
    ``finite=False`` NaN and the infinities, at any depth, are kept as the floats they are (a
    CLI table shows them ``NaN``, ``Infinity``, apart from the texts ``"NaN"``, ``"Infinity"``)."""
    if isinstance(value, float) and finite and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, ProtoValue):
        return {"type_url": value.type_url, "value_base64": base64.b64encode(value.value).decode()}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, finite=finite) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, finite=finite) for v in value]
    return value


#: The largest integer a JavaScript number holds exactly (``Number.MAX_SAFE_INTEGER``).
_JS_SAFE_INT = 2**53 - 1


def _js_exact(value: Any) -> Any:
    """``value`` with every int beyond 2**53 - 1 as its decimal string: ``JSON.parse`` reads
    numbers as doubles, so the page showed 2**53 + 1 as ...992 and 2**60 as ...847000."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _JS_SAFE_INT:
        return str(value)
    if isinstance(value, dict):
        return {k: _js_exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_js_exact(v) for v in value]
    return value


def _key(kind: str, ident: int | None) -> str:
    return f"{kind[0]}{ident}"


def _focus_key(focus: object) -> str | None:
    """``focus`` as the page's node key (``"a7"``, ``"e3"``), or None. Another shape (the id
    alone, a node never stored) is refused: the page would load with nothing selected, the
    mistake unseen. A key the graph lacks is kept (a page of a paged answer may not hold it)."""
    if focus is None:
        return None
    if isinstance(focus, Artifact | Execution):
        if isinstance(focus.id, int) and not isinstance(focus.id, bool):
            return _key("artifact" if isinstance(focus, Artifact) else "execution", focus.id)
        raise InvalidArgumentError(
            f"focus: a stored artifact or execution (with an id), not {shown(focus)}"
        )
    if isinstance(focus, str) and re.fullmatch(r"[ae][0-9]+", focus):
        return focus
    raise InvalidArgumentError(
        f"focus must be an artifact, an execution or a key such as 'a7' or 'e3', not {shown(focus)}"
    )


def _label(node: Artifact | Execution) -> str:
    if node.name:
        text = node.name
    elif isinstance(node, Artifact) and node.uri:
        uri = redact_uri(node.uri)  # a URL's password is never shown (docs/cli.md, `show`)
        text = uri.rstrip("/").rsplit("/", 1)[-1] or uri
    else:
        text = f"{node.type or node.kind.value} #{node.id}"
    text = text if len(text) <= 40 else text[:39] + "…"
    # shown with its control characters as visible escapes (as the CLI prints them), each part
    # on its own: a uri "s3://x/\u202egnp.exe" was drawn reading "exe.png"
    if (node.name or isinstance(node, Artifact)) and node.type and node.type not in text:
        return f"{printable(text)}\n{printable(node.type)}"
    return printable(text)


def _node(node: Artifact | Execution, contexts: list[str]) -> dict[str, Any]:
    kind = "artifact" if isinstance(node, Artifact) else "execution"
    if isinstance(node, Artifact):
        state = ArtifactState(node.state).name
    else:
        state = ExecutionState(node.last_known_state).name
    return {
        "id": _key(kind, node.id),
        # an id (or time) past 2**53 as its decimal string: MLMD's ids are int64, and an
        # imported artifact 2**53 + 1 was headed "artifact #9007199254740992" on the page
        "entity_id": _js_exact(node.id),
        "kind": kind,
        "type": node.type,
        "name": node.name,
        # as the CLI shows them: a secret-named property, a URL's password masked
        "uri": redact_uri(node.uri) if isinstance(node, Artifact) else None,
        "state": state,
        "label": _label(node),
        "created": _js_exact(node.create_time_since_epoch),
        "properties": _js_exact(shown_properties(jsonable(node.properties))),
        "custom_properties": _js_exact(shown_properties(jsonable(node.custom_properties))),
        "contexts": contexts,
    }


def graph_payload(
    graph: object, *, focus: Artifact | Execution | str | None = None
) -> dict[str, Any]:
    """The JSON document the page draws: ``nodes``, ``edges``, ``contexts``, ``focus``."""
    _require_graph(graph)
    focus = _focus_key(focus)
    artifacts: list[Artifact] = _items(graph, "artifacts")
    executions: list[Execution] = _items(graph, "executions")
    contexts: list[Context] = _items(graph, "contexts")
    members: dict[int, list[str]] = {c.id or 0: [] for c in contexts}
    in_context: dict[str, list[str]] = {}
    names = {c.id: f"{c.type}:{c.name}" for c in contexts}
    drawn = {_key("artifact", a.id) for a in artifacts} | {
        _key("execution", x.id) for x in executions
    }
    links = [
        (link.context_id, _key("artifact", link.artifact_id))
        for link in _items(graph, "attributions")
    ]
    links += [
        (link.context_id, _key("execution", link.execution_id))
        for link in _items(graph, "associations")
    ]
    for cid, key in links:
        # a member the page does not draw, or a link listed twice, made the context's count
        # ("Exp: e (3)") and its click ("3 members") claim nodes the page does not have
        if key in drawn and key not in members.setdefault(cid, []):
            members[cid].append(key)
    for cid, keys in members.items():
        for k in keys:
            in_context.setdefault(k, []).append(names.get(cid, str(cid)))
    nodes: list[dict[str, Any]] = []
    seen: set[str] = set()
    both: list[Artifact | Execution] = [*artifacts, *executions]
    for item in both:
        kind = "artifact" if isinstance(item, Artifact) else "execution"
        if item.id is None:
            # every node never stored was the one key "aNone": two of them were drawn as one,
            # the header counting one artifact
            raise InvalidArgumentError(
                f"the viewer draws stored artifacts and executions (with an id), not {shown(item)}"
            )
        key = _key(kind, item.id)
        if key in seen:
            # cytoscape draws one element per id: a node listed twice was counted twice in the
            # header ("2 artifacts") and drawn once
            continue
        seen.add(key)
        nodes.append(_node(item, in_context.get(key, [])))
    edges = []
    for e in _items(graph, "events"):
        a, x = _key("artifact", e.artifact_id), _key("execution", e.execution_id)
        if a not in seen or x not in seen:
            # the page cannot draw an edge to a node it lacks: it was counted, never drawn
            continue
        source, target = (x, a) if e.type.is_output else (a, x)
        edges.append(
            {
                "source": source,
                "target": target,
                "kind": "output" if e.type.is_output else "input",
                "label": e.type.name,
            }
        )
    return {
        "nodes": nodes,
        "edges": edges,
        "contexts": [
            {
                "id": _js_exact(c.id),
                "type": c.type,
                "name": c.name,
                "members": members.get(c.id or 0, []),
            }
            for c in contexts
        ],
        "focus": focus,
    }


# ------------------------------------------------------------------------------------ html


@cache
def _asset(name: str) -> str:
    return (resources.files(__package__) / "static" / name).read_text(encoding="utf-8")


#: A lone UTF-16 surrogate (in a Python str every surrogate is lone: a pair is one character).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _script_safe_json(payload: Any) -> str:
    """JSON that cannot end its ``<script>`` element early (``<``, ``>``, ``&`` escaped), a
    lone surrogate as its ``\\uXXXX`` escape (JSON and JavaScript hold it; UTF-8 cannot)."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    text = _SURROGATE.sub(_surrogate_escape, text)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _script_safe(js: str) -> str:
    if re.search(r"</script", js, re.IGNORECASE):  # pragma: no cover - vendored files checked
        raise ValueError("a script to inline contains '</script'")
    return js


def to_html(
    graph: object,
    *,
    title: str = "Lineage",
    focus: Artifact | Execution | str | None = None,
) -> str:
    """The viewer page for ``graph``: one self-contained HTML document (about 0.5 MB of
    inlined JavaScript; its Content-Security-Policy forbids every network request)."""
    if not isinstance(title, str):
        # None (write_html(g, p, title=None), as render_html accepts) or a number raised
        # AttributeError from html.escape, after the graph had been read
        raise InvalidArgumentError(f"title must be a str, got {shown(title)}")
    payload = graph_payload(graph, focus=focus)
    n_art = sum(1 for n in payload["nodes"] if n["kind"] == "artifact")
    n_exec = len(payload["nodes"]) - n_art
    summary = (
        f"{n_art} artifacts · {n_exec} executions · {len(payload['edges'])} events · "
        f"{len(payload['contexts'])} contexts"
    )
    values = {
        # stored text (the CLI's title names the node): its control characters shown visibly
        # a lone surrogate (a file name's undecodable byte, os.fsdecode) shown as an escape:
        # UTF-8 cannot hold it, and write_html raised UnicodeEncodeError
        "TITLE": html.escape(_SURROGATE.sub(_surrogate_escape, printable(title))),
        "CONTROL": html.escape(CONTROL_PATTERN_JS),
        "JOINERS": html.escape(json.dumps(JOINER_TABLES)),
        "VERSION": html.escape(__version__),
        "NODE_COUNT": str(len(payload["nodes"])),
        "EDGE_COUNT": str(len(payload["edges"])),
        "SUMMARY": html.escape(summary),
        "CSS": _asset("viewer.css"),
        "DATA": _script_safe_json(payload),
        "CYTOSCAPE": _script_safe(_asset("cytoscape.min.js")),
        "DAGRE": _script_safe(_asset("cytoscape-dagre.min.js")),
        "APP": _script_safe(_asset("viewer.js")),
    }
    return re.sub(
        r"__([A-Z_]+)__",
        lambda m: values.get(m.group(1), m.group(0)),
        _asset("template.html"),
    )


def render_html(graph: object, *, title: str | None = None) -> str:
    """The self-contained viewer page for ``graph`` (a :class:`LineageGraph`, a
    :class:`GraphData`, or anything with their list attributes): :func:`to_html` with a default
    title. For a notebook cell use :func:`repr_html`, which wraps this page in a sandboxed
    ``<iframe srcdoc>`` so it neither leaks styles nor needs the network."""
    return to_html(graph, title=title if title is not None else "Lineage")


def write_html(
    graph: object,
    path: str | Path,
    *,
    title: str = "Lineage",
    focus: Artifact | Execution | str | None = None,
) -> Path:
    """Write the viewer page to ``path`` (parents created) atomically; returns the absolute
    path. A path that cannot be written (a directory, a parent that is a file, no permission, a
    name too long, a symlink loop) is ``InvalidArgumentError`` ("cannot write PATH: REASON") and
    nothing is written."""
    target = output_path(path)
    page = to_html(graph, title=title, focus=focus).encode("utf-8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # whole or not at all: a full disk never leaves half a page (or destroys the old one)
        return replace_file(target, lambda file: file.write(page))
    except OSError as exc:
        raise path_error(path, exc) from None


#: Platforms where a graphical browser can always be shown.
_DESKTOPS = ("darwin", "win32", "cygwin")


def _chosen_browsers() -> list[str]:
    """The browsers ``BROWSER`` names (a list separated by ``os.pathsep``, as Python's
    ``webbrowser`` reads it; ``BROWSER=:`` names none)."""
    return [name for name in os.environ.get("BROWSER", "").split(os.pathsep) if name.strip()]


#: How long a display server is given to accept a connection (a remote X server over TCP).
_DISPLAY_PROBE_SECONDS = 1.0


def _accepts(address: Address) -> bool:
    """Whether a server accepts a connection at ``address`` (within the probe's time)."""
    try:
        with connect(address, _DISPLAY_PROBE_SECONDS):
            return True
    except OSError:
        return False


def _x_server_answers(display: str) -> bool:
    """Whether the X server ``DISPLAY`` names (``:0``, ``unix:0``, ``localhost:10.0``) accepts
    a connection; a form not read here is given the benefit of the doubt."""
    match = re.fullmatch(r"(?P<host>[^:]*):(?P<number>[0-9]+)(?:\.[0-9]+)?", display)
    if match is None:
        return True
    host, number = match["host"], int(match["number"])
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        return _accepts("\0" + path) or _accepts(path)
    return _accepts((host, 6000 + number))  # (an IPv4 or IPv6 address, or a name of either)


def _wayland_answers(name: str) -> bool:
    """Whether the Wayland compositor ``WAYLAND_DISPLAY`` names accepts a connection."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not name.startswith("/") and not runtime:
        return True  # where its socket is is not known here
    return _accepts(name if name.startswith("/") else os.path.join(runtime or "", name))


def _display_trouble() -> str | None:
    """Why no graphical browser can be shown here, or None. ``DISPLAY=:99`` with no X server
    (a stale ssh variable, a container) counted as a display: Python's webbrowser started a
    browser that died on it and ``view`` said nothing (the page never opened)."""
    if sys.platform in _DESKTOPS:
        return None
    x11, wayland = os.environ.get("DISPLAY"), os.environ.get("WAYLAND_DISPLAY")
    if not x11 and not wayland:
        return "no display: DISPLAY and WAYLAND_DISPLAY are unset"
    if (x11 and _x_server_answers(x11)) or (wayland and _wayland_answers(wayland)):
        return None
    named = " nor ".join(
        f"{name}={value}"
        for name, value in (("DISPLAY", x11), ("WAYLAND_DISPLAY", wayland))
        if value
    )
    return f"no display: {printable(named)} names no display server that answers"


def _has_display() -> bool:
    return _display_trouble() is None


def display_missing() -> bool:
    """True where no graphical browser can be shown: Linux and the BSDs with neither
    ``DISPLAY`` nor ``WAYLAND_DISPLAY`` set (an ssh session, a container, CI), or set to a
    display no server answers at (``DISPLAY=:99`` with no X server), and no ``BROWSER``
    chosen. macOS and Windows always have a display."""
    return not _has_display() and not _chosen_browsers()


def display_trouble() -> str | None:
    """Why :func:`display_missing` is True ("no display: ..."), or None when it is False."""
    trouble = _display_trouble()
    return trouble if trouble is not None and not _chosen_browsers() else None


def open_in_browser(path: str | Path) -> bool:
    """Open a written page in the default browser; False if none could be started, or there is
    no display to show one on (:func:`display_missing`): Python's ``webbrowser`` then ran a
    text browser (lynx, w3m, www-browser) in the terminal, which cannot run the page's
    scripts and held the command until it was quit. A browser named by ``BROWSER`` is used;
    without a display only those (one that fails is not followed by a text browser)."""
    has_display = _has_display()  # (probed once: each probe may wait for a display server)
    if not has_display and not _chosen_browsers():
        return False
    url = Path(path).resolve().as_uri()
    try:
        if has_display:
            return webbrowser.open(url)
        # webbrowser.open goes on down its list when BROWSER's command fails (a typo, a
        # browser uninstalled, BROWSER=:): without a display, to a text browser in the terminal
        for name in _chosen_browsers():
            try:
                browser = webbrowser.get(name)
            except webbrowser.Error:  # no such command
                continue
            if browser.open(url):
                return True
        return False
    except webbrowser.Error:
        return False


def repr_html(graph: object, *, height: int = 520) -> str:
    """The page inside an ``<iframe srcdoc>`` (Jupyter's ``_repr_html_``): isolated from the
    notebook's styles and scripts, and still without network access. A graph of more than
    :data:`PAGE_NODE_LIMIT` artifacts and executions is a line saying so instead."""
    if isinstance(height, bool) or not isinstance(height, int) or height < 1:
        # -1 made an iframe of no height (an empty cell); a str such as "520px" raised untyped
        raise InvalidArgumentError(f"height is a positive int of pixels, got {shown(height)}")
    _require_graph(graph)
    nodes = len(_items(graph, "artifacts")) + len(_items(graph, "executions"))
    if nodes > PAGE_NODE_LIMIT:
        # a notebook showed every graph it was given: evaluating a 50,000-node lineage in a
        # cell embedded a page that froze the notebook; drawing it is asked for explicitly
        return (
            f"<p>A lineage graph of {nodes} nodes: more than the {PAGE_NODE_LIMIT} drawn "
            "inline. Draw it with <code>lineage_graph.viewer.write_html(graph, path)</code> "
            "and open the file, or page it (<code>limit=</code>).</p>"
        )
    page = html.escape(to_html(graph), quote=True)
    return (
        f'<iframe srcdoc="{page}" style="width:100%;height:{int(height)}px;border:1px solid #ddd" '
        'sandbox="allow-scripts" title="lineage graph"></iframe>'
    )


# ---------------------------------------------------------------------------------- tables


def _flatten(prefix: str, values: Mapping[str, Any], row: dict[str, Any]) -> None:
    for key, value in values.items():
        row[f"{prefix}.{key}"] = jsonable(value) if isinstance(value, ProtoValue) else value


def to_records(graph: object, what: str = "nodes") -> list[dict[str, Any]]:
    """Rows of ``graph``: ``what="nodes"`` (artifacts then executions; properties flattened to
    ``properties.<name>`` / ``custom_properties.<name>`` columns), ``"events"`` or
    ``"contexts"``."""
    _require_graph(graph)
    if what == "events":
        return [
            {
                "artifact_id": e.artifact_id,
                "execution_id": e.execution_id,
                "type": e.type.name,
                "path": list(e.path),
                "milliseconds_since_epoch": e.milliseconds_since_epoch,
            }
            for e in _items(graph, "events")
        ]
    if what == "contexts":
        rows = []
        for c in _items(graph, "contexts"):
            row: dict[str, Any] = {"id": c.id, "type": c.type, "name": c.name}
            row["create_time_since_epoch"] = c.create_time_since_epoch
            _flatten("properties", c.properties, row)
            _flatten("custom_properties", c.custom_properties, row)
            rows.append(row)
        return rows
    if what != "nodes":
        raise InvalidArgumentError(
            f"what must be 'nodes', 'events' or 'contexts', not {shown(what)}"
        )
    out: list[dict[str, Any]] = []
    for node in [*_items(graph, "artifacts"), *_items(graph, "executions")]:
        is_artifact = isinstance(node, Artifact)
        row = {
            "kind": "artifact" if is_artifact else "execution",
            "id": node.id,
            "type": node.type,
            "name": node.name,
            "uri": node.uri if is_artifact else None,
            "state": (
                ArtifactState(node.state).name
                if is_artifact
                else ExecutionState(node.last_known_state).name
            ),
            "create_time_since_epoch": node.create_time_since_epoch,
            "last_update_time_since_epoch": node.last_update_time_since_epoch,
        }
        _flatten("properties", node.properties, row)
        _flatten("custom_properties", node.custom_properties, row)
        out.append(row)
    return out


def to_dataframe(graph: object, what: str = "nodes") -> Any:
    """:func:`to_records` as a pandas DataFrame (``pip install 'lineage-graph[viz]'``), with
    ``created`` / ``updated`` as UTC timestamps for nodes."""
    try:
        pd: Any = importlib.import_module("pandas")
    except ImportError as exc:  # pandas is optional
        raise ModuleNotFoundError(
            "to_dataframe() needs pandas: pip install 'lineage-graph[viz]' (or pandas); "
            "to_records() gives the same rows as plain dicts",
            name="pandas",
        ) from exc
    rows = to_records(graph, what)
    # every row's columns, the fixed ones first even with no rows: an empty graph gave a frame
    # of no columns, so frame["kind"] raised KeyError where an empty column was expected
    columns = list(_COLUMNS[what])
    for row in rows:
        columns += [k for k in row if k not in columns]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if what == "nodes":
        for name, source in (
            ("created", "create_time_since_epoch"),
            ("updated", "last_update_time_since_epoch"),
        ):
            # a time beyond pandas' range (year 2262) raised OutOfBoundsDatetime and lost the
            # whole table: it is NaT, its milliseconds still in the source column
            frame[name] = pd.to_datetime(
                pd.to_numeric(frame[source], errors="coerce"),
                unit="ms",
                utc=True,
                errors="coerce",
            )
    return frame


#: The columns to_records always gives for each ``what``.
_COLUMNS = {
    "nodes": (
        "kind",
        "id",
        "type",
        "name",
        "uri",
        "state",
        "create_time_since_epoch",
        "last_update_time_since_epoch",
    ),
    "events": ("artifact_id", "execution_id", "type", "path", "milliseconds_since_epoch"),
    "contexts": ("id", "type", "name", "create_time_since_epoch"),
}
