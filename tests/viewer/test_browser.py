"""The viewer in a real headless browser: Debian's chromium driven by Python playwright.

Never ``playwright install`` (no browser downloads): the system chromium is used. Locally these
tests skip when /usr/bin/chromium is missing; in CI (``CI`` set) they must run.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import LineageStore
from lineage_graph._text import CONTROL_PATTERN, printable
from lineage_graph.viewer import GraphData, graph_payload, repr_html, write_html

from .conftest import CHROMIUM
from .test_page import (
    HOSTILE,
    RAW_SHOWN,
    URI_RLO,
    sample_graph,
    store_control_text,
    store_hostile_chains,
)

_missing = [
    what
    for what, ok in (
        (f"{CHROMIUM} (apt-get install chromium)", CHROMIUM.exists()),
        ("playwright (pip install playwright)", importlib.util.find_spec("playwright") is not None),
    )
    if not ok
]
pytestmark = pytest.mark.skipif(
    bool(_missing) and not os.environ.get("CI"),
    reason=f"browser tests need {' and '.join(_missing)}; they always run in CI",
)

LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


class Page:
    """A page that records every request it makes and every script error."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready=true]", timeout=15_000)

    def network_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]

    def click_node(self, node_id: str) -> None:
        """A real mouse click where cytoscape drew the node."""
        x, y = self.page.evaluate(
            """(id) => {
                const cy = window.lineageViewer.cy;
                const p = cy.getElementById(id).renderedPosition();
                const box = cy.container().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y];
            }""",
            node_id,
        )
        self.page.mouse.click(x, y)


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    p = Page(browser)
    yield p
    p.page.close()


def test_page_loads_without_network_and_draws_every_node(page: Page, tmp_path: Path) -> None:
    path = write_html(sample_graph(), tmp_path / "g.html")
    page.open(path)
    assert page.network_requests() == []
    assert page.errors == []
    assert page.page.evaluate("window.lineageViewer.cy.nodes().length") == 3
    assert page.page.evaluate("window.lineageViewer.cy.edges().length") == 2
    assert page.page.get_attribute("#stats", "data-nodes") == "3"
    assert "2 artifacts · 1 executions" in page.page.text_content("#stats")
    # Laid out left to right: data, then the trainer, then the model.
    xs = page.page.evaluate(
        "['a1','e1','a2'].map(id => window.lineageViewer.cy.getElementById(id).position().x)"
    )
    assert xs == sorted(xs) and len(set(xs)) == 3
    shapes = page.page.evaluate(
        "['a1','e1'].map(id => window.lineageViewer.cy.getElementById(id).style('shape'))"
    )
    assert shapes == ["round-rectangle", "diamond"]


def test_clicking_a_node_shows_its_properties_and_highlights_lineage(
    page: Page, tmp_path: Path
) -> None:
    page.open(write_html(sample_graph(), tmp_path / "g.html"))
    page.click_node("a2")
    page.page.wait_for_selector('#details[data-selected="a2"]', timeout=5_000)
    details = page.page.text_content("#details") or ""
    assert printable(HOSTILE) in details  # shown as text (U+2028 as "\\u2028", as the CLI)
    assert "acc" in details and "0.9" in details and "/models/m.pkl" in details
    assert "Experiment:exp-1" in details and "2 upstream, 0 downstream" in details
    upstream = page.page.evaluate("window.lineageViewer.cy.nodes('.up').map(n => n.id()).sort()")
    assert upstream == ["a1", "e1"]
    page.click_node("a1")
    page.page.wait_for_selector('#details[data-selected="a1"]', timeout=5_000)
    assert page.page.evaluate("window.lineageViewer.cy.nodes('.down').map(n => n.id()).sort()") == [
        "a2",
        "e1",
    ]
    assert page.page.evaluate("document.title") == "Lineage"  # the hostile name ran nothing
    assert page.network_requests() == [] and page.errors == []


def test_search_by_name_and_uri(page: Page, tmp_path: Path) -> None:
    page.open(write_html(sample_graph(), tmp_path / "g.html"))
    page.page.fill("#search", "s3://bucket")
    assert page.page.text_content("#status") == "1 match"
    assert page.page.evaluate("window.lineageViewer.cy.nodes('.match').map(n => n.id())") == ["a1"]
    page.page.fill("#search", "trainer")
    page.page.press("#search", "Enter")
    page.page.wait_for_selector('#details[data-selected="e1"]', timeout=5_000)
    page.page.fill("#search", "nothing-like-this")
    assert page.page.text_content("#status") == "0 matches"


def test_a_larger_graph_and_the_focus_node(page: Page, tmp_path: Path) -> None:
    from lineage_graph import Artifact, Event, EventType, Execution

    n = 200
    graph = GraphData(
        artifacts=[Artifact(id=i, type="D", uri=f"/d/{i}") for i in range(1, n + 2)],
        executions=[Execution(id=i, type="Step") for i in range(1, n + 1)],
        events=[
            ev
            for i in range(1, n + 1)
            for ev in (
                Event(artifact_id=i, execution_id=i, type=EventType.INPUT),
                Event(artifact_id=i + 1, execution_id=i, type=EventType.OUTPUT),
            )
        ],
    )
    page.open(write_html(graph, tmp_path / "big.html", focus="a101"))
    assert page.page.evaluate("window.lineageViewer.cy.nodes().length") == 2 * n + 1
    assert page.page.get_attribute("#details", "data-selected") == "a101"
    assert page.page.evaluate("window.lineageViewer.cy.nodes('.up').length") == 200
    assert page.network_requests() == [] and page.errors == []


def test_jupyter_repr_renders_in_an_iframe_offline(page: Page, tmp_path: Path) -> None:
    notebook = tmp_path / "notebook.html"
    notebook.write_text(
        f"<!DOCTYPE html><html><body>{repr_html(sample_graph())}</body></html>", encoding="utf-8"
    )
    page.page.goto(notebook.as_uri())
    frame = page.page.frame_locator("iframe")
    frame.locator("body[data-ready=true]").wait_for(timeout=15_000)
    assert frame.locator("#stats").get_attribute("data-nodes") == "3"
    assert page.network_requests() == [] and page.errors == []
    assert html.escape("<") not in (frame.locator("#stats").text_content() or "")


def test_the_request_recorder_does_see_network_requests(page: Page, tmp_path: Path) -> None:
    """The harness itself: a page without the viewer's policy that fetches from the network."""
    leaky = tmp_path / "leaky.html"
    leaky.write_text(
        '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>',
        encoding="utf-8",
    )
    page.page.goto(leaky.as_uri())
    page.page.wait_for_load_state("load")
    assert page.network_requests() == ["http://127.0.0.1:9/pixel.png"]


def _open_and_select(page: Page, graph: GraphData, tmp_path: Path, node: str) -> str:
    page.open(write_html(graph, tmp_path / "g.html"))
    page.click_node(node)
    page.page.wait_for_selector(f'#details[data-selected="{node}"]', timeout=5_000)
    return page.page.text_content("#details") or ""


def test_a_cycle_does_not_count_the_selected_node_as_its_own_lineage(
    page: Page, tmp_path: Path
) -> None:
    """An artifact read and written by one execution (a1 -> e1 -> a1): cytoscape counts a1
    among its own predecessors and successors, so the panel said "2 upstream, 2 downstream"
    for a graph of two nodes and the selected node was painted pink (down) instead of the
    focus orange."""
    from lineage_graph import Artifact, Event, EventType, Execution

    graph = GraphData(
        artifacts=[Artifact(id=1, type="D", name="table")],
        executions=[Execution(id=1, type="Upsert")],
        events=[
            Event(artifact_id=1, execution_id=1, type=EventType.INPUT),
            Event(artifact_id=1, execution_id=1, type=EventType.OUTPUT),
        ],
    )
    details = _open_and_select(page, graph, tmp_path, "a1")
    assert "1 upstream, 1 downstream" in details
    classes = page.page.evaluate("window.lineageViewer.cy.getElementById('a1').classes()")
    assert "focus" in classes and "up" not in classes and "down" not in classes
    border = page.page.evaluate(
        "window.lineageViewer.cy.getElementById('a1').style('border-color')"
    )
    assert border == "rgb(255,111,0)"
    assert page.errors == []


def test_integers_beyond_2_53_and_far_timestamps_are_shown_exactly(
    page: Page, tmp_path: Path
) -> None:
    """JSON.parse reads numbers as doubles: a property of 2**53 + 1 was shown ...992 and 2**60
    as ...847000. A create time beyond Date's range made toISOString throw on click: the
    panel stopped half drawn (no properties, no counts)."""
    from lineage_graph import Artifact

    graph = GraphData(
        artifacts=[
            Artifact(
                id=1,
                type="D",
                name="x",
                create_time_since_epoch=10**16,
                properties={},
                custom_properties={"big": 2**53 + 1, "neg": -(2**63), "s": {"k": 2**60}},
            )
        ]
    )
    details = _open_and_select(page, graph, tmp_path, "a1")
    assert str(2**53 + 1) in details and str(-(2**63)) in details and str(2**60) in details
    assert str(10**16) in details and "0 upstream, 0 downstream" in details
    assert page.errors == []


def test_search_finds_decomposed_and_dotted_capital_names(page: Page, tmp_path: Path) -> None:
    """A name stored decomposed (NFD, as macOS file names are) was not found by the same
    word typed composed, and "İstanbul" (whose lower case is i + U+0307) not by "istanbul"."""
    import unicodedata

    from lineage_graph import Artifact

    graph = GraphData(
        artifacts=[
            Artifact(id=1, type="D", name=unicodedata.normalize("NFD", "Café")),
            Artifact(id=2, type="D", uri="/data/İstanbul.csv"),
        ]
    )
    page.open(write_html(graph, tmp_path / "g.html"))
    for query, hit in (("café", "a1"), ("CAFÉ", "a1"), ("istanbul", "a2"), ("İSTANBUL", "a2")):
        page.page.fill("#search", query)
        assert page.page.text_content("#status") == "1 match", query
        assert page.page.evaluate("window.lineageViewer.cy.nodes('.match').map(n => n.id())") == [
            hit
        ]
    assert page.errors == []


def test_a_graph_past_the_dagre_limit_reads_left_to_right_and_fits(
    page: Page, tmp_path: Path
) -> None:
    """Past 1,500 nodes the page uses breadthfirst, which laid a chain top to bottom (not left
    to right as every smaller page) and, at minZoom 0.05, the first view could not hold it: a
    chain of 2,000 nodes showed a fifth of itself, 5,000 (the CLI's limit) a twentieth."""
    from lineage_graph import Artifact, Event, EventType, Execution

    n = 1000
    graph = GraphData(
        artifacts=[Artifact(id=i, type="D", uri=f"/d/{i}") for i in range(1, n + 1)],
        executions=[Execution(id=i, type="Step") for i in range(1, n + 1)],
        events=[
            ev
            for i in range(1, n)
            for ev in (
                Event(artifact_id=i, execution_id=i, type=EventType.INPUT),
                Event(artifact_id=i + 1, execution_id=i, type=EventType.OUTPUT),
            )
        ],
    )
    page.open(write_html(graph, tmp_path / "large.html"))
    assert page.page.evaluate("window.lineageViewer.cy.nodes().length") == 2 * n
    xs = page.page.evaluate(
        "['a1','e1','a2','a500','a1000'].map(id =>"
        " window.lineageViewer.cy.getElementById(id).position().x)"
    )
    assert xs == sorted(xs) and len(set(xs)) == 5
    inside = page.page.evaluate(
        """() => {
            const cy = window.lineageViewer.cy, view = cy.extent();
            const box = cy.elements().boundingBox();
            return box.x1 >= view.x1 && box.x2 <= view.x2
                && box.y1 >= view.y1 && box.y2 <= view.y2;
        }"""
    )
    assert inside
    assert page.errors == []


def test_the_header_counts_what_is_drawn(page: Page, tmp_path: Path) -> None:
    """An artifact listed twice and an event whose execution is not in the graph: the header
    said "2 artifacts · 0 executions · 1 events" (data-nodes 2, data-edges 1) over a page
    that drew one node and no edge."""
    from lineage_graph import Artifact, Event, EventType

    data = Artifact(id=1, type="D", name="d")
    graph = GraphData(
        artifacts=[data, data],
        events=[Event(artifact_id=1, execution_id=9, type=EventType.INPUT)],
    )
    page.open(write_html(graph, tmp_path / "g.html"))
    drawn = page.page.evaluate(
        "[window.lineageViewer.cy.nodes().length, window.lineageViewer.cy.edges().length]"
    )
    stats = page.page.locator("#stats")
    assert [
        int(stats.get_attribute("data-nodes") or -1),
        int(stats.get_attribute("data-edges") or -1),
    ] == drawn
    assert "1 artifacts · 0 executions · 0 events" in (stats.text_content() or "")
    assert page.errors == []


def test_a_search_builds_its_matches_at_once_not_one_union_per_node(
    page: Page, tmp_path: Path
) -> None:
    """The search (run at every keystroke) and a context click built their set of matches one
    union at a time, each copying the collection: quadratic (measured in Chromium with 5,000
    nodes all matching, the CLI's export limit: 830-1,040 ms of script per keystroke; built at
    once, 55-110 ms). Counted, not timed: the unions one search makes do not grow with the
    matches."""
    from lineage_graph import Artifact, Context, Execution
    from lineage_graph.models import Attribution

    n = 300
    graph = GraphData(
        artifacts=[Artifact(id=i, type="T", uri=f"/d/{i}") for i in range(1, n + 1)],
        executions=[Execution(id=i, type="T") for i in range(1, n + 1)],
        contexts=[Context(id=1, type="Experiment", name="exp")],
        attributions=[Attribution(artifact_id=i, context_id=1) for i in range(1, n + 1)],
    )
    page.open(write_html(graph, tmp_path / "many.html"))
    count_unions = """(act) => {
        const proto = Object.getPrototypeOf(window.lineageViewer.cy.collection());
        const union = proto.union;
        let calls = 0;
        proto.union = function (...args) { calls += 1; return union.apply(this, args); };
        try { act(); } finally { proto.union = union; }
        return calls;
    }"""
    searched = page.page.evaluate(f"({count_unions})(() => window.lineageViewer.search('t'))")
    assert page.page.evaluate("window.lineageViewer.cy.nodes('.match').length") == 2 * n
    assert searched < 20, f"{searched} unions for one search over {2 * n} matches"
    clicked = page.page.evaluate(
        f"({count_unions})(() => document.querySelector('#contexts li').click())"
    )
    assert page.page.evaluate("window.lineageViewer.cy.nodes('.match').length") == n
    assert clicked < 20, f"{clicked} unions for one context click over {n} members"
    assert page.errors == []


def test_a_context_counts_only_the_members_the_page_draws(page: Page, tmp_path: Path) -> None:
    """A context linked twice to one artifact and once to an execution outside the graph was
    listed "Experiment: exp (3)" and its click said "3 members" over one drawn node."""
    from lineage_graph import Artifact, Context
    from lineage_graph.models import Association, Attribution

    graph = GraphData(
        artifacts=[Artifact(id=1, type="D", name="d")],
        contexts=[Context(id=5, type="Experiment", name="exp")],
        attributions=[Attribution(artifact_id=1, context_id=5)] * 2,
        associations=[Association(execution_id=9, context_id=5)],
    )
    page.open(write_html(graph, tmp_path / "g.html"))
    assert page.page.text_content("#contexts li") == "Experiment: exp (1)"
    page.page.click("#contexts li")
    assert page.page.text_content("#status") == "Experiment exp: 1 members"
    details = _open_and_select(page, graph, tmp_path, "a1")
    assert details.count("Experiment:exp") == 1
    assert page.errors == []


def test_hostile_text_from_the_store_stays_data_in_the_browser(
    page: Page, tmp_path: Path, store: LineageStore
) -> None:
    """The browser's own parse of a page whose every field holds hostile text, stored on the
    engine (a browser ends a script element at "</script " with a space, which Python's HTML
    parser does not): nothing runs (no dialog, no error, no element but the template's and the
    drawing's), the page's data is the payload exactly, and the title and the details panel
    show the text as it is (as the CLI prints it: U+2028, U+2029 as "\\u2028", "\\u2029")."""
    dialogs: list[str] = []
    page.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for first in store_hostile_chains(store):
        graph = store.lineage(first, direction="any", include_contexts=True)
        name = printable(first.name or "")
        page.open(write_html(graph, tmp_path / "g.html", title=first.name, focus=first))
        assert page.page.evaluate("window.lineageViewer.data") == json.loads(
            json.dumps(graph_payload(graph, focus=first))
        )
        assert page.page.evaluate("document.scripts.length") == 4
        assert page.page.evaluate("document.querySelectorAll('img, iframe, object').length") == 0
        assert page.page.text_content("h1") == name
        assert page.page.evaluate("document.title") == name
        details = page.page.text_content("#details") or ""
        assert details.count(name) >= 3  # name, uri, a property (all as text)
    assert dialogs == [] and page.errors == [] and page.network_requests() == []


def test_control_characters_are_shown_escaped_in_the_browser(
    page: Page, tmp_path: Path, store: LineageStore
) -> None:
    """Stored text holding bidi (RLO: "s3://x/\\u202egnp.exe" read "s3://x/exe.png"), C0 and C1
    controls, stored on the engine: the drawn labels, the title, the details panel (uri, type,
    name, properties, contexts), the context list and its status line show each as the CLI
    prints it (``\\u202e``, ``\\x1b``), none raw; the page's data stays exact."""
    artifact, execution = store_control_text(store)
    graph = store.lineage(artifact, direction="any", include_contexts=True)
    a, x = f"a{artifact.id}", f"e{execution.id}"
    page.open(write_html(graph, tmp_path / "g.html", title=f"Lineage of {URI_RLO}"))
    assert page.page.evaluate("document.title") == "Lineage of s3://x/\\u202egnp.exe"
    labels = page.page.evaluate(
        "(ids) => ids.map(id => window.lineageViewer.cy.getElementById(id).style('label'))", [a, x]
    )
    assert labels == ["\\u202egnp.exe\nModel\\u202d", "run\\x1b[31m\\nred\\x9b\nTrain\\u2067"]
    page.click_node(a)
    page.page.wait_for_selector(f'#details[data-selected="{a}"]', timeout=5_000)
    details = page.page.text_content("#details") or ""
    for text in ("s3://x/\\u202egnp.exe", "Model\\u202d", "k\\u202a", "v\\u202c"):
        assert text in details, text
    assert '"y\\u2066\\x85"' in details and "Exp\\u200f:e\\u061c1" in details
    page.click_node(x)
    page.page.wait_for_selector(f'#details[data-selected="{x}"]', timeout=5_000)
    details += page.page.text_content("#details") or ""
    assert "run\\x1b[31m\\nred\\x9b" in details and "Train\\u2067" in details
    page.page.click("#contexts li")
    listed = page.page.text_content("#contexts") or ""
    status = page.page.text_content("#status") or ""
    assert listed == "Exp\\u200f: e\\u061c1 (2)" and status == "Exp\\u200f e\\u061c1: 2 members"
    for text in (details, listed, status):
        assert not RAW_SHOWN.search(text), text
    data = page.page.evaluate("window.lineageViewer.data")
    assert data == json.loads(json.dumps(graph_payload(graph)))
    assert next(n for n in data["nodes"] if n["id"] == a)["uri"] == URI_RLO  # exact
    assert page.errors == [] and page.network_requests() == []


def test_invisible_characters_are_shown_escaped_in_the_browser(
    page: Page, tmp_path: Path, store: LineageStore
) -> None:
    """A zero width space, word joiner, BOM, tag character (two UTF-16 units) or line separator
    in stored text was drawn and listed as nothing: "s3://bu\\u200bcket/data" read as
    "s3://bucket/data". The page shows each as the CLI prints it, by the same set of
    characters (the page's pattern, read by the browser, matches exactly the code points the
    CLI escapes); the page's data stays exact."""
    import re

    from lineage_graph import Artifact, ArtifactType, NodeKind, NodeRef

    store.put_artifact_type(ArtifactType(name="D\u2060"))
    uri, name = "s3://bu\u200bcket/data", "n\ufeff\U000e0041\u2028\u00ad"
    ids = store.put_artifacts(
        [Artifact(type="D\u2060", uri=uri), Artifact(type="D\u2060", uri="s3://x", name=name)]
    )
    graph = store.downstream([NodeRef(NodeKind.ARTIFACT, i) for i in ids])
    page.open(write_html(graph, tmp_path / "g.html", title=f"of {name}"))
    assert page.page.evaluate("document.title") == "of n\\ufeff\\U000e0041\\u2028\\xad"
    labels = page.page.evaluate(
        "(ids) => ids.map(id => window.lineageViewer.cy.getElementById(id).style('label'))",
        [f"a{i}" for i in ids],
    )
    assert labels == ["data\nD\\u2060", "n\\ufeff\\U000e0041\\u2028\\xad\nD\\u2060"]
    page.click_node(f"a{ids[0]}")
    page.page.wait_for_selector(f'#details[data-selected="a{ids[0]}"]', timeout=5_000)
    details = page.page.text_content("#details") or ""
    assert "s3://bu\\u200bcket/data" in details and "D\\u2060" in details
    assert not re.search(CONTROL_PATTERN, details)
    data = page.page.evaluate("window.lineageViewer.data")
    assert {n.get("name") or n["uri"] for n in data["nodes"]} == {uri, name}  # exact
    # the browser reads the page's pattern as the same set as the CLI's
    found = page.page.evaluate(
        """() => {
            const re = new RegExp(document.body.getAttribute("data-control"), "u");
            const out = [];
            for (let c = 0; c <= 0x10ffff; c++) {
                if (c >= 0xd800 && c <= 0xdfff) { continue; }
                if (re.test(String.fromCodePoint(c))) {
                    const last = out[out.length - 1];
                    if (last && last[1] === c - 1) { last[1] = c; } else { out.push([c, c]); }
                }
            }
            return out;
        }"""
    )
    shown = re.compile(CONTROL_PATTERN)
    expected: list[list[int]] = []
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF or not shown.match(chr(c)):
            continue
        if expected and expected[-1][1] == c - 1:
            expected[-1][1] = c
        else:
            expected.append([c, c])
    assert found == expected
    assert page.errors == [] and page.network_requests() == []


def test_the_page_shows_joiners_as_the_cli_prints_them(
    page: Page, tmp_path: Path, store: LineageStore
) -> None:
    """A zero width non-joiner or joiner is shown as it is where a script needs it (after a
    virama; a ZWNJ between letters joining across it: Persian), else escaped, by one rule and
    one set of tables: the page's ``shown`` gives what ``printable`` gives on every string of
    joiners in every context the rule reads (letters joining either side or none, marks
    skipped, viramas, letters past U+FFFF, Latin letters, emoji, the ends)."""
    import itertools

    from lineage_graph import Artifact, ArtifactType, NodeKind, NodeRef

    store.put_artifact_type(ArtifactType(name="D"))
    graph = store.downstream(
        [NodeRef(NodeKind.ARTIFACT, store.put_artifact(Artifact(type="D", uri="s3://j")))]
    )
    page.open(write_html(graph, tmp_path / "g.html"))
    context = [
        "",
        "a",
        "\u0628",  # beh: joins both sides (D)
        "\u0627",  # alef: joins the letter before it only (R)
        "\ua872",  # phags-pa superfixed ra: joins the letter after it only (L)
        "\u064e",  # fatha: a mark, skipped (T)
        "\u094d",  # devanagari virama
        "\U0001e900",  # adlam capital alif (D), two UTF-16 units
        "\U00011046",  # brahmi virama, two UTF-16 units
        "\U0001f468",
        "\u200b",
    ]
    samples = [
        a + b + j + c + d
        for a, b, c, d in itertools.product(context, repeat=4)
        for j in ("\u200c", "\u200d", "\u200c\u200d")
    ]
    shown = page.page.evaluate("(texts) => texts.map(window.lineageViewer.shown)", samples)
    expected = [printable(t) for t in samples]
    assert [(t, s) for t, s, e in zip(samples, shown, expected, strict=True) if s != e] == []
    assert printable("\u0628\u064e\u200c\U0001e900") == "\u0628\u064e\u200c\U0001e900"
    assert page.errors == []


def test_an_id_beyond_2_53_is_shown_exactly(page: Page, tmp_path: Path) -> None:
    """MLMD's ids are int64 (a Neo4j store keeps an imported id past 2**53; a store read by
    another tool may hold one): artifact 2**53 + 1 was in the page's data as a JSON number,
    which JSON.parse reads as a double: its panel was headed "artifact #9007199254740992" and a
    search for its id found nothing."""
    from lineage_graph import Artifact

    big = 2**53 + 1
    artifact = Artifact(id=big, type_id=10, type="D", uri="s3://b/d.csv")
    page.open(write_html(GraphData(artifacts=[artifact]), tmp_path / "g.html"))
    key = f"a{big}"
    page.click_node(key)
    page.page.wait_for_selector(f'#details[data-selected="{key}"]', timeout=5_000)
    details = page.page.text_content("#details") or ""
    assert f"artifact #{big}" in details, details
    assert page.errors == []
