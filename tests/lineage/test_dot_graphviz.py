"""``to_dot`` (and ``export --format dot``) read by Graphviz itself: every node drawn with its
label's lines exactly, every event and context link drawn, hostile names included.

The DOT text is only as good as the reader's reading of it: a label holding a backslash
sequence Graphviz expands (``\\N`` the node's id, ``\\G`` the graph's name, ``\\l`` / ``\\r``
line breaks), an HTML entity it decodes (``&amp;``, ``&#65;``) or a quote would be drawn as
something else than the name. The test renders the real ``dot -Tsvg`` (Debian's ``graphviz``)
and compares the SVG's text with what the name should read."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    Event,
    EventType,
    Execution,
    ExecutionType,
    LineageStore,
    NodeKind,
    NodeRef,
)
from lineage_graph._text import printable

from ..cli.test_ascii_output import ascii_run
from .test_exports import HOSTILE

DOT = shutil.which("dot")
pytestmark = pytest.mark.skipif(
    DOT is None and not os.environ.get("CI"),
    reason="needs Graphviz's dot (apt-get install graphviz); it always runs in CI",
)

#: Names Graphviz would read as something else than their text if written raw into a label.
GRAPHVIZ_HOSTILE = [
    "\\N node",
    "x\\G\\E\\T\\H\\L",
    "a\\lb\\rc\\n",
    "a &#65; b",
    "&#x41; &lt; &amp",
    "a&b",
    "<<html>>",
    "tab\tx",
    "trail\\",
    "e\u0301 \u202egnp.exe",
]
SVG = "{http://www.w3.org/2000/svg}"


def _drawn(svg: str) -> dict[str, list[str]]:
    """Each node's and edge's title (``a3``, ``a3->e1``) and the lines of text drawn in it.

    Graphviz's SVG writes the second of two spaces as U+00A0 so a browser keeps both: read
    back as a space (no name here holds a U+00A0 after a space)."""
    drawn: dict[str, list[str]] = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") not in ("node", "edge"):
            continue
        title = group.find(f"{SVG}title")
        assert title is not None and title.text is not None
        lines = [(t.text or "").replace(" \u00a0", "  ") for t in group.iter(f"{SVG}text")]
        assert title.text not in drawn, title.text
        drawn[title.text] = lines
    return drawn


def _hostile_graph(store: LineageStore) -> dict[str, list[str]]:
    """Artifacts, an execution and a context named to trip Graphviz, linked; what each node and
    link of the whole store's drawing should show (by its title, ``a3`` or ``a3->e1``)."""
    names = HOSTILE + GRAPHVIZ_HOSTILE
    uri, run, experiment = "s3://bucket/x&amp;y/\\N.csv", 'run "\\G" &#1;', "exp \\E <b>&amp;</b>"
    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    store.put_context_type(ContextType(name="Experiment"))
    ids = store.put_artifacts([Artifact(type="DataSet", name=n) for n in names])
    (with_uri,) = store.put_artifacts([Artifact(type="DataSet", uri=uri)])
    (e,) = store.put_executions([Execution(type="Trainer", name=run)])
    (c,) = store.put_contexts([Context(type="Experiment", name=experiment)])
    store.put_events(
        [Event(artifact_id=i, execution_id=e, type=EventType.INPUT) for i in ids]
        + [Event(artifact_id=with_uri, execution_id=e, type=EventType.OUTPUT)]
    )
    store.put_attributions_and_associations([Attribution(artifact_id=ids[0], context_id=c)], [])

    def lines(head: str, name: str) -> list[str]:
        return [head] + [printable(line) for line in name.split("\n")]

    want = {f"a{i}": lines(f"DataSet #{i}", n) for i, n in zip(ids, names, strict=True)}
    want[f"a{with_uri}"] = lines(f"DataSet #{with_uri}", uri)
    want[f"e{e}"] = lines(f"Trainer #{e}", run)
    want[f"c{c}"] = lines(f"Experiment #{c}", experiment)
    want |= {f"a{i}->e{e}": ["INPUT"] for i in ids}
    want[f"e{e}->a{with_uri}"] = ["OUTPUT"]
    want[f"a{ids[0]}->c{c}"] = []  # a dotted link, no label
    return want


def _rendered(dot: str) -> dict[str, list[str]]:
    assert DOT is not None, "Graphviz's dot is not installed (apt-get install graphviz)"
    done = subprocess.run([DOT, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return _drawn(done.stdout.decode())


def test_graphviz_draws_every_node_link_and_hostile_label_as_written(store: LineageStore) -> None:
    want = _hostile_graph(store)
    starts = [NodeRef(NodeKind.ARTIFACT, int(k[1:])) for k in want if k[0] == "a" and "->" not in k]
    graph = store.downstream(starts, include_contexts=True)
    assert _rendered(graph.to_dot()) == want


def test_export_dot_on_an_ascii_stdout_is_drawn_the_same(tmp_path: Path) -> None:
    """``export -f dot`` writes each character its stdout cannot carry as a character
    reference (``&#233;``): Graphviz draws the same labels as from the UTF-8 text. But for
    one above U+FFFF, which Graphviz 2.43 (Debian 12's, Ubuntu 24.04's) decodes into invalid
    UTF-8 (a name "\U0001f680" drawn as three U+FFFD, with a Pango warning): it is drawn as
    its escape, ``\\U0001f680``, unquoted as a control character's escape is."""
    with LineageStore.open(tmp_path / "store") as store:
        want = _hostile_graph(store)
    astral = re.compile("[\U00010000-\U0010ffff]")
    assert any(astral.search(line) for lines in want.values() for line in lines)
    want = {
        key: [astral.sub(lambda m: f"\\U{ord(m[0]):08x}", line) for line in lines]
        for key, lines in want.items()
    }
    done = ascii_run(tmp_path / "store", "export", "--format", "dot")
    assert done.returncode == 0, done.stderr[-800:]
    assert _rendered(done.stdout) == want
