"""LineageGraph's exports (to_dict / to_json / to_networkx) of awkward property values."""

from __future__ import annotations

import json
import math

from lineage_graph import LineageStore, NodeRef, ProtoValue
from lineage_graph._text import printable


def test_nan_infinity_and_binary_protos_survive_every_export(store: LineageStore) -> None:
    """A DOUBLE is stored NaN / +-inf losslessly, but to_dict / to_json / to_networkx (pydantic's
    JSON mode) turned all three into null, and a proto_value whose bytes are not UTF-8 (most
    real messages) raised UnicodeDecodeError from every export, ``export --format json`` too.
    They are now written as the CLI and the viewer write them."""
    proto = ProtoValue(type_url="type.googleapis.com/x.Y", value=b"\x08\x96\x01\xff")
    with store.run("Trainer") as run:
        model = run.output(
            "Model",
            uri="s3://b/m",
            properties={
                "nan": math.nan,
                "inf": math.inf,
                "ninf": -math.inf,
                "proto": proto,
                "big": 2**62,
            },
        )
    graph = store.upstream(model)
    expected = {
        "nan": "NaN",
        "inf": "Infinity",
        "ninf": "-Infinity",
        "proto": {"type_url": proto.type_url, "value_base64": "CJYB/w=="},
        "big": 2**62,
    }
    (row,) = [a for a in graph.to_dict()["artifacts"] if a["id"] == model.id]
    assert row["properties"] == expected
    (row,) = [a for a in json.loads(graph.to_json())["artifacts"] if a["id"] == model.id]
    assert row["properties"] == expected
    attrs = graph.to_networkx().nodes[f"artifact:{model.id}"]
    assert attrs["properties"] == expected and attrs["uri"] == "s3://b/m"


def _chain_of_two_steps(store: LineageStore) -> NodeRef:
    """d0 -> Trainer -> d1 -> Trainer -> d2; the first artifact (paged answers from it hold
    events to nodes of later pages)."""
    from lineage_graph import (
        Artifact,
        ArtifactType,
        Event,
        EventType,
        Execution,
        ExecutionType,
        NodeKind,
    )

    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    a = store.put_artifacts([Artifact(type="DataSet", name=f"d{i}") for i in range(3)])
    e = store.put_executions([Execution(type="Trainer") for _ in range(2)])
    store.put_events(
        [
            Event(artifact_id=a[0], execution_id=e[0], type=EventType.INPUT),
            Event(artifact_id=a[1], execution_id=e[0], type=EventType.OUTPUT),
            Event(artifact_id=a[1], execution_id=e[1], type=EventType.INPUT),
            Event(artifact_id=a[2], execution_id=e[1], type=EventType.OUTPUT),
        ]
    )
    return NodeRef(NodeKind.ARTIFACT, a[0])


def test_drawings_of_a_page_draw_only_its_own_nodes(store: LineageStore) -> None:
    """A page holds the events of its artifacts whose execution is on another page: to_dot drew
    such an execution (undeclared) as Graphviz's default ellipse labelled "e1", an artifact's
    shape, and to_mermaid as a bare box, neither with its type. Each drawing now has the edges
    between the page's own nodes, as the viewer's page has; the events stay in to_dict()."""
    import re

    start = _chain_of_two_steps(store)
    whole = store.downstream(start)
    assert whole.to_dot().count(" -> ") == whole.to_mermaid().count("-->|") == 4
    for limit in (1, 2, 3):
        cursor, drawn_events = None, 0
        while True:
            page = store.downstream(start, limit=limit, cursor=cursor)
            keys = {f"a{n.id}" for n in page.artifacts} | {f"e{n.id}" for n in page.executions}
            dot, mermaid = page.to_dot(), page.to_mermaid()
            dot_edges = re.findall(r"^  (\w+) -> (\w+) \[label", dot, re.M)
            mermaid_edges = re.findall(r"^  (\w+) -->\|\w+\| (\w+)$", mermaid, re.M)
            assert dot_edges == mermaid_edges
            assert {k for edge in dot_edges for k in edge} <= keys, (limit, dot)
            inside = [
                ev
                for ev in page.events
                if f"a{ev.artifact_id}" in keys and f"e{ev.execution_id}" in keys
            ]
            assert len(dot_edges) == len(inside)
            drawn_events += len(dot_edges)
            if page.complete:
                break
            cursor = page.cursor
        assert drawn_events <= 4


def test_networkx_of_a_page_has_only_its_own_nodes(store: LineageStore) -> None:
    """A page holds the events of its artifacts whose execution is on another page:
    to_networkx() added each such execution as a node with no attributes at all (no kind, type
    nor id: ``g.nodes[n]["kind"]`` raised KeyError). As the drawings, it now has the events
    between the page's own nodes, every node with its fields; the events stay in to_dict()."""
    start = _chain_of_two_steps(store)
    assert store.downstream(start).to_networkx().number_of_edges() == 4
    for limit in (1, 2, 3):
        cursor, events = None, 0
        while True:
            page = store.downstream(start, limit=limit, cursor=cursor)
            g = page.to_networkx()
            own = {f"artifact:{n.id}" for n in page.artifacts} | {
                f"execution:{n.id}" for n in page.executions
            }
            assert set(g.nodes) == own, (limit, list(g.nodes(data="kind")))
            for key, attrs in g.nodes(data=True):
                assert attrs["kind"] in ("Artifact", "Execution") and attrs["type"], key
            assert g.number_of_edges() == page.to_dot().count(" [label=")
            events += len(page.to_dict()["events"])
            if page.complete:
                break
            cursor = page.cursor
        assert events == 4  # every event once across the pages, in the JSON


#: Hostile stored text for the drawings' labels (a name must not start or end with whitespace).
HOSTILE = [
    "q\"uo'te",
    "back\\slash\\",
    "new\nline\rx",
    "a --> b",
    "%% comment",
    "ünï©ode 🚀 中文",
    "end",
    "#9829;",
    "&amp; <b>x</b>",
    'x\\"y',
    "{}|<>;`",
    "style a:#b c'd",
    'classDef k:#f00 "x"',
    "s3://b/a:#x;y (v2) [z]",
]


def _mermaid_shown(label: str) -> str:
    """What Mermaid shows for a quoted label, by its own rules (mermaid 11's encodeEntities,
    then the browser's entity decoding): a line matching ``style.*:\\S*#.*;`` or
    ``classDef.*:\\S*#.*;`` loses its last ";", then each ``#\\w+;`` is an entity code."""
    import html
    import re

    for rule in (r"style.*:\S*#.*;", r"classDef.*:\S*#.*;"):
        label = re.sub(rule, lambda m: m.group(0)[:-1], label)
    return html.unescape(
        re.sub(
            r"#(\w+);",
            lambda m: f"&#{m.group(1)};" if m.group(1).isdigit() else f"&{m.group(1)};",
            label,
        )
    )


def test_mermaid_labels_show_hostile_names_as_they_are(store: LineageStore) -> None:
    """Mermaid drops the last ";" of a line matching ``style.*:\\S*#.*;``: an artifact named
    "style a:#b c'd" was drawn "style a:#b c#39d" (its quote's entity code cut). A ":" is now
    an entity code too, and every label shows its name exactly (newlines as spaces), its
    control characters as the CLI prints them (a CR as "\\r": Mermaid drew its "#13;" as a
    line break)."""
    import re

    from lineage_graph import (
        Artifact,
        ArtifactType,
        Event,
        EventType,
        Execution,
        ExecutionType,
        NodeKind,
        NodeRef,
    )

    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_execution_type(ExecutionType(name="Trainer"))
    a = store.put_artifacts([Artifact(type="DataSet", name=n) for n in HOSTILE])
    (e,) = store.put_executions([Execution(type="Trainer", name="style x:#1 (a;b)")])
    store.put_events([Event(artifact_id=i, execution_id=e, type=EventType.INPUT) for i in a])
    graph = store.downstream([NodeRef(NodeKind.ARTIFACT, i) for i in a])
    assert len(graph) == len(a) + 1
    shown = {}
    for line in graph.to_mermaid().splitlines()[1:]:
        node = re.fullmatch(r'  (a\d+)\(\["([^"]*)"\]\)|  (e\d+)\["([^"]*)"\]', line)
        if node:
            key, label = (node[1], node[2]) if node[1] else (node[3], node[4])
            shown[key] = _mermaid_shown(label)
        else:
            assert re.fullmatch(r"  [ae]\d+ -->\|INPUT\| [ae]\d+", line), line
    for ident, name in zip(a, HOSTILE, strict=True):
        drawn = " ".join(printable(line) for line in name.split("\n"))
        assert shown[f"a{ident}"] == f"DataSet #{ident} {drawn}"
    assert shown[f"e{e}"] == f"Trainer #{e} style x:#1 (a;b)"


def test_drawings_show_bidi_controls_as_escapes(store: LineageStore) -> None:
    """A bidi control reorders what follows it: a uri "s3://x/\\u202egnp.exe" was drawn by
    to_dot (its SVG's text held U+202E, and ``export -f dot`` printed it to the terminal) and by
    to_mermaid (as its entity code #8238;) reading "s3://x/exe.png". Both now show it as the
    CLI prints it, "\\u202e"; to_json keeps the value exact."""
    import re

    from lineage_graph import Artifact, ArtifactType, NodeKind, NodeRef

    bidi = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
    store.put_artifact_type(ArtifactType(name="Model"))
    uri, name = "s3://x/\u202egnp.exe", "m\u2067\u200f\u061c v2\u2069"
    a, b = store.put_artifacts([Artifact(type="Model", uri=uri), Artifact(type="Model", name=name)])
    graph = store.downstream([NodeRef(NodeKind.ARTIFACT, a), NodeRef(NodeKind.ARTIFACT, b)])
    dot, mermaid = graph.to_dot(), graph.to_mermaid()
    assert not bidi.search(dot) and not bidi.search(mermaid)
    labels = re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)
    drawn = [re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], x) for x in labels]
    assert f"Model #{a}\ns3://x/\\u202egnp.exe" in drawn
    assert f"Model #{b}\nm\\u2067\\u200f\\u061c v2\\u2069" in drawn
    shown = [_mermaid_shown(x) for x in re.findall(r'\(\["([^"]*)"\]\)', mermaid)]
    assert f"Model #{a} s3://x/\\u202egnp.exe" in shown
    assert f"Model #{b} m\\u2067\\u200f\\u061c v2\\u2069" in shown
    assert {x["uri"] for x in json.loads(graph.to_json())["artifacts"] if "uri" in x} == {uri}


def test_drawings_show_invisible_and_control_characters_as_escapes(store: LineageStore) -> None:
    """The drawings show stored text as the CLI prints it. A zero width space (or word joiner,
    BOM, tag character, line separator...) was drawn as nothing: "s3://bu\\u200bcket" read
    "s3://bucket". Mermaid drew a C0 control's entity code (ESC "#27;") raw, a CR's as a line
    break and a C1's as the Windows-1252 character HTML reads it as (NEL "#133;" as "…"); DOT
    drew every C1 control as U+FFFD, "a\\x85" and "a\\x9b" alike."""
    import re

    from lineage_graph import Artifact, ArtifactType, NodeKind, NodeRef

    store.put_artifact_type(ArtifactType(name="M"))
    texts = {
        "s3://bu\u200bcket/data": "s3://bu\\u200bcket/data",
        "n\u2060\ufeff\u00ad\u180e\U000e0041\u2028\u2029": (
            "n\\u2060\\ufeff\\xad\\u180e\\U000e0041\\u2028\\u2029"
        ),
        "c\x1b[1m\x85\x9b\x02\rx": "c\\x1b[1m\\x85\\x9b\\x02\\rx",
    }
    ids = store.put_artifacts(
        [Artifact(type="M", uri=t) if t.startswith("s3:") else Artifact(type="M", name=t)
         for t in texts]
    )  # fmt: skip
    graph = store.downstream([NodeRef(NodeKind.ARTIFACT, i) for i in ids])
    dot, mermaid = graph.to_dot(), graph.to_mermaid()
    labels = re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)
    drawn = [re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], x) for x in labels]
    shown = [_mermaid_shown(x) for x in re.findall(r'\(\["([^"]*)"\]\)', mermaid)]
    for ident, text in zip(ids, texts.values(), strict=True):
        assert f"M #{ident}\n{text}" in drawn, (text, drawn)
        assert f"M #{ident} {text}" in shown, (text, shown)
    for raw in texts:
        assert not any(c in "".join(drawn + shown) for c in raw if not c.isascii() or c < " ")
    assert {x.get("uri") or x["name"] for x in json.loads(graph.to_json())["artifacts"]} == set(
        texts
    )
