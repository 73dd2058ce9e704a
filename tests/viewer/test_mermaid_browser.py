"""``to_mermaid`` (and ``export --format mermaid``) drawn by Mermaid itself, in a real headless
browser: every node's label reads as its name, every event is drawn, and Mermaid's default
limits refuse a drawing exactly when the CLI says they will.

The bundles are Mermaid's own ``dist/mermaid.min.js`` from npm, one directory per version under
``LINEAGE_GRAPH_MERMAID_DIR`` (``.ci/run`` fetches them with ``npm pack``). Locally these tests
skip when the bundles, chromium or playwright are missing; in CI (``CI`` set) they must run."""

from __future__ import annotations

import importlib.util
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
    NodeKind,
    NodeRef,
)
from lineage_graph.cli._drawings import (
    MERMAID_MAX_EDGES,
    MERMAID_MAX_TEXT,
    mermaid_limits_note,
)

from ..cli.test_ascii_output import ascii_run
from ..lineage.test_dot_graphviz import _hostile_graph
from .conftest import CHROMIUM

_DIR = os.environ.get("LINEAGE_GRAPH_MERMAID_DIR", "")
BUNDLES = sorted(Path(_DIR).glob("*/mermaid.min.js")) if _DIR else []
_missing = [
    what
    for what, ok in (
        (f"{CHROMIUM} (apt-get install chromium)", CHROMIUM.exists()),
        ("playwright (pip install playwright)", importlib.util.find_spec("playwright") is not None),
        ("Mermaid's bundles (LINEAGE_GRAPH_MERMAID_DIR, see .ci/run)", bool(BUNDLES)),
    )
    if not ok
]
pytestmark = pytest.mark.skipif(
    bool(_missing) and not os.environ.get("CI"),
    reason=f"Mermaid drawing tests need {' and '.join(_missing)}; they always run in CI",
)
#: a version per bundle (its directory's name); one placeholder when there is none, which fails
#: in CI (a run there must have them) and is skipped elsewhere
VERSIONS = [b.parent.name for b in BUNDLES] or ["missing"]

#: Renders a diagram with Mermaid's defaults; the nodes' and edge labels' text, or the error.
_RENDER = """async (text) => {
    mermaid.initialize({startOnLoad: false});
    try {
        const {svg} = await mermaid.render('d' + Math.floor(Math.random() * 1e9), text);
        document.body.innerHTML = svg;
    } catch (e) {
        return {error: String(e.message || e)};
    }
    const tooBig = document.body.textContent.includes('Maximum text size in diagram exceeded');
    return {
        tooBig,
        nodes: [...document.querySelectorAll('g.node')].map(n => [n.id, n.textContent]),
        edges: [...document.querySelectorAll('g.edgeLabel')].map(n => n.textContent),
    };
}"""


#: Parses a diagram as Mermaid does before drawing it (where it counts the edges): the error.
_PARSE = """async (text) => {
    mermaid.initialize({startOnLoad: false});
    try {
        await mermaid.parse(text);
    } catch (e) {
        return String(e.message || e);
    }
    return null;
}"""


@pytest.fixture(params=VERSIONS)
def mermaid(request: pytest.FixtureRequest, browser: Any) -> Any:
    """A page with one Mermaid version loaded (from its file: no network)."""
    bundle = Path(_DIR) / request.param / "mermaid.min.js"
    assert bundle.is_file(), f"no Mermaid bundle {bundle} (LINEAGE_GRAPH_MERMAID_DIR, .ci/run)"
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(path=str(bundle))
    yield page
    page.close()


def _drawn(page: Any, text: str) -> dict[str, Any]:
    said: dict[str, Any] = page.evaluate(_RENDER, text)
    return said


def _nodes(said: dict[str, Any]) -> dict[str, str]:
    """Each node's key (``a3``, ``e1``, ``c2``) and the text Mermaid drew in it."""
    assert "error" not in said, said["error"]
    out = {}
    for ident, text in said["nodes"]:
        key = re.fullmatch(r"(?:[\w-]*-)?flowchart-([aec]\d+)-\d+", ident)
        assert key, ident
        out[key[1]] = text
    return out


def _hostile(store: LineageStore) -> tuple[dict[str, str], Counter[str]]:
    """The hostile nodes of the Graphviz test, their labels as Mermaid should draw them (the
    name's lines joined by spaces) and the edge labels drawn (the links have none)."""
    want = _hostile_graph(store)
    nodes = {k: " ".join(v) for k, v in want.items() if "->" not in k}
    edges = Counter(v[0] for k, v in want.items() if "->" in k and v)
    return nodes, edges


def test_mermaid_draws_every_hostile_label_as_written(mermaid: Any, store: LineageStore) -> None:
    nodes, edges = _hostile(store)
    starts = [NodeRef(NodeKind.ARTIFACT, int(k[1:])) for k in nodes if k[0] == "a"]
    said = _drawn(mermaid, store.downstream(starts, include_contexts=True).to_mermaid())
    assert _nodes(said) == nodes
    assert Counter(t for t in said["edges"] if t) == edges


def test_export_mermaid_on_an_ascii_stdout_is_drawn_the_same(mermaid: Any, tmp_path: Path) -> None:
    """``export -f mermaid`` writes what an ASCII stdout cannot carry as Mermaid's entity
    codes (``#233;``, ``#128640;``): drawn as the UTF-8 text is."""
    with LineageStore.open(tmp_path / "store") as store:
        nodes, edges = _hostile(store)
    done = ascii_run(tmp_path / "store", "export", "--format", "mermaid")
    assert done.returncode == 0, done.stderr[-800:]
    said = _drawn(mermaid, done.stdout)
    assert _nodes(said) == nodes
    assert Counter(t for t in said["edges"] if t) == edges


def _fan(store: LineageStore, events: int, name: str = "m") -> str:
    """``to_mermaid`` of one execution reading ``events`` artifacts (one named ``name``)."""
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    ids = store.put_artifacts(
        [Artifact(type="DataSet", name=name if i == 0 else f"d{i}") for i in range(events)]
    )
    (e,) = store.put_executions([Execution(type="Trainer")])
    store.put_events([Event(artifact_id=i, execution_id=e, type=EventType.INPUT) for i in ids])
    return store.upstream(NodeRef(NodeKind.EXECUTION, e)).to_mermaid()


@pytest.mark.parametrize("over", [0, 1], ids=["at-the-limit", "one-over"])
def test_mermaids_edge_limit_is_where_the_cli_says(
    mermaid: Any, store: LineageStore, over: int
) -> None:
    """Mermaid refuses more than ``maxEdges`` (500) edges as it parses the diagram: the CLI's
    note says so for exactly those drawings."""
    text = _fan(store, MERMAID_MAX_EDGES + over)
    error = mermaid.evaluate(_PARSE, text)
    note = mermaid_limits_note(text)
    if over:
        assert error is not None and "Edge limit exceeded" in error, error
        assert note is not None and f"{MERMAID_MAX_EDGES + over} edges" in note
    else:
        assert error is None
        assert note is None


@pytest.mark.parametrize("over", [0, 1], ids=["at-the-limit", "one-over"])
def test_mermaids_text_limit_is_where_the_cli_says(
    mermaid: Any, store: LineageStore, over: int
) -> None:
    """Mermaid draws a diagram longer than ``maxTextSize`` (50,000, counted in UTF-16 units as
    JavaScript counts) as an error: the CLI's note says so for exactly those drawings. The
    name holds a letter above U+FFFF (drawn raw, two units) so the count is checked too."""

    def units(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    need = MERMAID_MAX_TEXT + over - units(_fan(store, 20, name="\U0001d400"))
    # the names grown by letters (drawn raw, one unit each; a name holds at most 4,096 bytes)
    # to the limit's size, or one past it
    grown = []
    for artifact in sorted(store.get_artifacts(), key=lambda a: a.id or 0):
        name = artifact.name or ""
        add = min(need, 4_000 - len(name))
        grown.append(artifact.model_copy(update={"name": name + "x" * add}))
        need -= add
    assert need == 0
    store.put_artifacts(grown)
    (execution,) = store.get_executions()
    text = store.upstream(NodeRef(NodeKind.EXECUTION, execution.id or 0)).to_mermaid()
    assert units(text) == MERMAID_MAX_TEXT + over
    said = _drawn(mermaid, text)
    assert "error" not in said, said["error"]
    note = mermaid_limits_note(text)
    assert said["tooBig"] is bool(over)
    assert (note is not None) is bool(over)
