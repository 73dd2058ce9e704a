"""The viewer page's content and the table exports (no browser needed)."""

from __future__ import annotations

import html
import json
import os
import re
import sys

import pytest

from lineage_graph import (
    Artifact,
    ArtifactState,
    Context,
    Event,
    EventType,
    Execution,
    ExecutionState,
    LineageStore,
    ProtoValue,
)
from lineage_graph.models import Association, Attribution
from lineage_graph.viewer import (
    GraphData,
    graph_payload,
    render_html,
    repr_html,
    to_dataframe,
    to_html,
    to_records,
    write_html,
)

HOSTILE = "</script><script>alert(1)</script> & ünï \u2028 'q\""


def sample_graph() -> GraphData:
    """data -> Trainer -> model, with a hostile name and every awkward property value."""
    data = Artifact(id=1, type="DataSet", uri="s3://bucket/data.csv", state=ArtifactState.LIVE)
    model = Artifact(
        id=2,
        type="Model",
        name=HOSTILE,
        uri="/models/m.pkl",
        state=ArtifactState.LIVE,
        properties={"acc": 0.9},
        custom_properties={
            "nan": float("nan"),
            "inf": float("-inf"),
            "pb": ProtoValue(type_url="t/x", value=b"\x00\xff"),
            "struct": {"a": [1, None]},
        },
        create_time_since_epoch=1_700_000_000_000,
        last_update_time_since_epoch=1_700_000_000_500,
    )
    trainer = Execution(
        id=1, type="Trainer", last_known_state=ExecutionState.FAILED, properties={"lr": 0.1}
    )
    return GraphData(
        artifacts=[data, model],
        executions=[trainer],
        events=[
            Event(artifact_id=1, execution_id=1, type=EventType.INPUT),
            Event(artifact_id=2, execution_id=1, type=EventType.OUTPUT),
        ],
        contexts=[Context(id=7, type="Experiment", name="exp-1")],
        attributions=[Attribution(artifact_id=2, context_id=7)],
        associations=[Association(execution_id=1, context_id=7)],
    )


def _data_of(page: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="lineage-data">(.*?)</script>', page)
    assert match is not None
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_payload_shapes_the_dag() -> None:
    payload = graph_payload(sample_graph(), focus=sample_graph().artifacts[1])
    nodes = {n["id"]: n for n in payload["nodes"]}
    assert set(nodes) == {"a1", "a2", "e1"}
    assert nodes["e1"]["state"] == "FAILED" and nodes["a2"]["state"] == "LIVE"
    assert payload["edges"] == [
        {"source": "a1", "target": "e1", "kind": "input", "label": "INPUT"},
        {"source": "e1", "target": "a2", "kind": "output", "label": "OUTPUT"},
    ]
    assert payload["contexts"] == [
        {"id": 7, "type": "Experiment", "name": "exp-1", "members": ["a2", "e1"]}
    ]
    assert nodes["a2"]["contexts"] == ["Experiment:exp-1"]
    assert payload["focus"] == "a2"
    custom = nodes["a2"]["custom_properties"]
    assert custom["nan"] == "NaN" and custom["inf"] == "-Infinity"
    assert custom["pb"] == {"type_url": "t/x", "value_base64": "AP8="}


def test_page_is_self_contained_and_script_safe() -> None:
    page = to_html(sample_graph(), title="<b>T</b>")
    assert page.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in page  # the browser itself forbids any request
    assert "<title>&lt;b&gt;T&lt;/b&gt;</title>" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    # the hostile name cannot close the data element: exactly 4 script elements
    assert page.count("</script>") == 4
    assert _data_of(page)["nodes"][1]["name"] == HOSTILE  # type: ignore[index]
    assert 'data-nodes="3"' in page and 'data-edges="2"' in page
    assert "cytoscape" in page and "dagre" in page


def test_write_html_and_jupyter_repr(tmp_path: object) -> None:
    from pathlib import Path

    target = write_html(sample_graph(), Path(str(tmp_path)) / "sub" / "g.html")
    assert target.is_absolute() and target.read_text(encoding="utf-8").startswith("<!DOCTYPE")
    frame = repr_html(sample_graph())
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    inner = html.unescape(re.search(r'srcdoc="(.*?)"', frame, re.S).group(1))  # type: ignore[union-attr]
    assert inner == to_html(sample_graph())
    assert sample_graph()._repr_html_() == frame
    page = render_html(sample_graph(), title="Lineage of <m>")
    assert page.startswith("<!DOCTYPE html>") and "<title>Lineage of &lt;m&gt;</title>" in page
    assert render_html(sample_graph()) == to_html(sample_graph())


def test_records_and_dataframe() -> None:
    rows = to_records(sample_graph())
    assert [(r["kind"], r["id"]) for r in rows] == [
        ("artifact", 1),
        ("artifact", 2),
        ("execution", 1),
    ]
    assert rows[1]["properties.acc"] == 0.9 and rows[1]["state"] == "LIVE"
    assert rows[2]["properties.lr"] == 0.1 and rows[2]["state"] == "FAILED"
    events = to_records(sample_graph(), "events")
    assert events[1] == {
        "artifact_id": 2,
        "execution_id": 1,
        "type": "OUTPUT",
        "path": [],
        "milliseconds_since_epoch": None,
    }
    assert to_records(sample_graph(), "contexts")[0]["name"] == "exp-1"
    with pytest.raises(ValueError, match="what must be"):
        to_records(sample_graph(), "widgets")
    pd = pytest.importorskip("pandas", reason="the [viz] extra (pandas) is not installed")
    frame = to_dataframe(sample_graph())
    assert list(frame["id"]) == [1, 2, 1] and frame.loc[1, "name"] == HOSTILE
    assert frame.loc[1, "created"] == pd.Timestamp(1_700_000_000_000, unit="ms", tz="UTC")
    assert len(sample_graph().to_dataframe("events")) == 2


def test_a_stored_lineage_graph_renders_and_tabulates(store: LineageStore) -> None:
    """What users pass in: a LineageGraph from the store's lineage API."""
    with store.run("Ingest") as run:
        data = run.output("DataSet", uri="s3://b/d.csv", properties={"rows": 3})
    with store.run("Trainer", inputs=[data], context="exp-1", properties={"lr": 0.1}) as run:
        model = run.output("Model", uri="s3://b/m.pkl")
    graph = store.upstream(model, include_contexts=True)
    payload = graph_payload(graph, focus=model)
    assert sorted(n["id"] for n in payload["nodes"]) == ["a1", "a2", "e1", "e2"]
    assert payload["focus"] == f"a{model.id}" and len(payload["edges"]) == 3
    trainer = next(n for n in payload["nodes"] if n["id"] == "e2")
    assert trainer["contexts"] == ["Experiment:exp-1"] and trainer["properties"] == {"lr": 0.1}
    page = render_html(graph, title="model")
    assert 'data-nodes="4"' in page and "<title>model</title>" in page
    rows = to_records(store.downstream(data))
    assert {(r["kind"], r["type"]) for r in rows} == {
        ("artifact", "DataSet"),
        ("artifact", "Model"),
        ("execution", "Trainer"),
    }
    assert next(r for r in rows if r["type"] == "DataSet")["properties.rows"] == 3
    pytest.importorskip("pandas", reason="the [viz] extra (pandas) is not installed")
    frame = to_dataframe(graph)
    assert sorted(frame["kind"]) == ["artifact", "artifact", "execution", "execution"]


def test_bad_arguments_are_typed_errors_not_silently_ignored() -> None:
    """docs/api.md: everything raised derives from LineageGraphError, and ``focus`` is an
    artifact, an execution or ``"a7"`` / ``"e3"``. ``to_records(g, "bogus")`` raised a bare
    ValueError, and a focus of another shape (``7``, the id alone; ``"zz"``; an artifact never
    stored, ``"aNone"``) wrote a page with nothing selected, the mistake unseen."""
    from lineage_graph import InvalidArgumentError

    graph = sample_graph()
    for what in ("bogus", "Nodes"):
        with pytest.raises(InvalidArgumentError, match="what must be"):
            to_records(graph, what)
    for focus in (7, "zz", "a", "x1", " a1", True, Artifact(type="Model", uri="/m")):
        with pytest.raises(InvalidArgumentError, match="focus"):
            to_html(graph, focus=focus)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="focus"):
            graph_payload(graph, focus=focus)  # type: ignore[arg-type]
    # The documented forms select their node; a key the graph lacks (a page of a paged answer
    # without it) selects nothing, as before.
    assert graph_payload(graph, focus="a2")["focus"] == "a2"
    assert graph_payload(graph, focus=graph.executions[0])["focus"] == "e1"  # type: ignore[index]
    assert graph_payload(graph, focus="e99")["focus"] == "e99"
    assert graph_payload(graph)["focus"] is None


def test_what_is_not_a_graph_and_a_bad_height_are_typed_errors() -> None:
    """``to_records(5)`` was ``[]`` and ``render_html(5)`` an empty page, as if the lineage
    were empty; ``repr_html(g, height=-1)`` an iframe of no height, ``height="520px"`` a bare
    ValueError. An empty graph is still a graph."""
    from lineage_graph import InvalidArgumentError, LineageGraph

    for not_a_graph in (5, "a1", None, {"artifacts": []}):
        with pytest.raises(InvalidArgumentError, match="expected a LineageGraph"):
            to_records(not_a_graph)
        with pytest.raises(InvalidArgumentError, match="expected a LineageGraph"):
            to_html(not_a_graph)
    for height in (-1, 0, "520px", 2.5, True):
        with pytest.raises(InvalidArgumentError, match="height"):
            repr_html(sample_graph(), height=height)  # type: ignore[arg-type]
    assert to_records(LineageGraph()) == [] and "iframe" in repr_html(LineageGraph(), height=300)


def test_graph_from_store_refuses_a_limit_that_is_not_a_positive_int(store: LineageStore) -> None:
    """``limit=-1`` sliced the last artifact and execution off (``[:-1]``) and returned the
    rest as if asked; ``limit="5"`` raised a bare TypeError."""
    from lineage_graph import ArtifactType, InvalidArgumentError
    from lineage_graph.viewer import graph_from_store

    store.put_artifact_type(ArtifactType(name="DataSet"))
    store.put_artifacts([Artifact(type="DataSet", uri=f"s3://d/{i}") for i in range(3)])
    for limit in (-1, 0, "5", 1.5, True):
        with pytest.raises(InvalidArgumentError, match="limit"):
            graph_from_store(store, limit=limit)  # type: ignore[arg-type]
    assert len(graph_from_store(store, limit=2).artifacts) == 2
    assert len(graph_from_store(store).artifacts) == 3


def test_dataframe_of_an_empty_graph_and_of_a_time_beyond_pandas_range() -> None:
    """An empty graph gave a DataFrame of no columns (``frame["kind"]`` a KeyError, where a
    lineage with nothing in it should give empty columns), and one node created at 1e16 ms
    (year 318857, beyond pandas' 2262) raised OutOfBoundsDatetime and lost the whole table."""
    pytest.importorskip("pandas", reason="the [viz] extra (pandas) is not installed")
    from lineage_graph import Artifact

    empty = to_dataframe(GraphData())
    assert empty.empty and {"kind", "id", "type", "state", "created", "updated"} <= set(empty)
    assert list(to_dataframe(GraphData(), "events").columns) == [
        "artifact_id",
        "execution_id",
        "type",
        "path",
        "milliseconds_since_epoch",
    ]
    assert {"id", "type", "name"} <= set(to_dataframe(GraphData(), "contexts"))
    frame = to_dataframe(
        GraphData(
            artifacts=[
                Artifact(id=1, type="D", create_time_since_epoch=10**16),
                Artifact(id=2, type="D", create_time_since_epoch=1_700_000_000_000),
            ]
        )
    )
    assert list(frame["create_time_since_epoch"]) == [10**16, 1_700_000_000_000]
    assert frame["created"].isna().tolist() == [True, False]
    assert str(frame.loc[1, "created"]) == "2023-11-14 22:13:20+00:00"


def test_a_title_that_is_not_a_str_is_a_typed_error(tmp_path: object) -> None:
    """``write_html(g, p, title=None)`` (render_html takes None for the default) and
    ``to_html(g, title=5)`` raised AttributeError from html.escape; no file is written."""
    from pathlib import Path

    from lineage_graph import InvalidArgumentError

    target = Path(str(tmp_path)) / "g.html"
    for title in (None, 5, b"T"):
        with pytest.raises(InvalidArgumentError, match="title must be a str"):
            write_html(sample_graph(), target, title=title)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="title must be a str"):
            to_html(sample_graph(), title=title)  # type: ignore[arg-type]
    assert not target.exists()
    assert "<title>None</title>" not in render_html(sample_graph(), title=None)


def test_a_path_that_cannot_be_written_is_a_typed_error(tmp_path: object) -> None:
    """``write_html`` onto a directory raised a plain IsADirectoryError (after drawing the page
    and making a temporary file beside it), under a regular file a FileExistsError: now
    InvalidArgumentError "cannot write PATH: REASON", as the command line says it, and nothing
    is written."""
    from pathlib import Path

    from lineage_graph import InvalidArgumentError

    root = Path(str(tmp_path))
    adir = root / "adir"
    adir.mkdir()
    afile = root / "afile"
    afile.write_text("untouched")
    for target, reason in [
        (adir, "is a directory"),
        (f"{adir}/", "is a directory"),
        (afile / "g.html", f"{afile} exists and is not a directory"),
        (afile / "sub" / "g.html", "not a directory"),
    ]:
        with pytest.raises(InvalidArgumentError, match="cannot write") as caught:
            write_html(sample_graph(), target)
        assert str(caught.value) == f"cannot write {target}: {reason}"
    assert sorted(p.name for p in root.iterdir()) == ["adir", "afile"]
    assert list(adir.iterdir()) == [] and afile.read_text() == "untouched"


def test_a_looping_too_long_or_nul_path_is_a_typed_error(tmp_path: object) -> None:
    """A symlink loop raised RuntimeError from ``Path.resolve`` (``view -o LOOP``: a traceback,
    exit 1), a name longer than the file system allows a plain OSError, a NUL a ValueError, a
    ``~user`` of no such user RuntimeError, a path of another type TypeError: each is
    InvalidArgumentError now, and nothing is written."""
    import os
    from pathlib import Path

    from lineage_graph import InvalidArgumentError

    root = Path(str(tmp_path))
    loop = root / "loop"
    os.symlink(loop, loop)
    for target, reason in [
        (loop, "too many levels of symbolic links"),
        (loop / "g.html", "too many levels of symbolic links"),
        (root / ("x" * 300 + ".html"), "file name too long"),
        (root / ("d" * 300) / "g.html", "file name too long"),
        (f"{root}/a\x00b.html", "a path cannot hold a NUL character"),
        ("~no-such-user-v23/g.html", "no home directory for its ~"),
    ]:
        with pytest.raises(InvalidArgumentError) as caught:
            write_html(sample_graph(), target)
        assert str(caught.value) == f"cannot write {target}: {reason}"
    for bad in (5, b"/tmp/g.html", None):
        with pytest.raises(InvalidArgumentError, match="path must be a str"):
            write_html(sample_graph(), bad)  # type: ignore[arg-type]
    assert [p.name for p in root.iterdir()] == ["loop"]


def test_graph_from_store_reads_only_what_it_returns(store: LineageStore) -> None:
    """With ``limit``, every artifact and execution of the store was read and all but the first
    ``limit`` dropped, and each context's members were read, two reads a context, all of its
    members however few the page drew: ``export -f html --limit 100`` of a store of 120,000
    nodes read them all (8 s, 250 MB). Now it reads the first ``limit`` of each kind and their
    links in one read; the graph is the same."""
    from collections.abc import Mapping
    from typing import Any

    from lineage_graph import ArtifactType, ContextType, ExecutionType
    from lineage_graph.viewer import graph_from_store

    store.put_artifact_type(ArtifactType(name="D"))
    store.put_execution_type(ExecutionType(name="R"))
    store.put_context_type(ContextType(name="C"))
    aids = store.put_artifacts([Artifact(type="D", uri=f"/d/{i}") for i in range(300)])
    xids = store.put_executions([Execution(type="R") for _ in range(300)])
    store.put_events(
        [
            Event(artifact_id=a, execution_id=x, type=EventType.INPUT)
            for a, x in zip(aids, xids, strict=True)
        ]
        + [Event(artifact_id=aids[0], execution_id=x, type=EventType.INPUT) for x in xids[1:]]
    )
    cids = store.put_contexts([Context(type="C", name=f"c{i}") for i in range(30)])
    store.put_attributions_and_associations(
        [Attribution(artifact_id=a, context_id=cids[i % 30]) for i, a in enumerate(aids)],
        [Association(execution_id=x, context_id=cids[i % 7]) for i, x in enumerate(xids)],
    )
    rows: list[int] = []
    original = store.backend.read

    def reading(
        query: str, params: Mapping[str, Any] | None = None, *, name: str = ""
    ) -> list[dict[str, Any]]:
        answer = original(query, params, name=name)
        rows.append(len(answer))
        return answer

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store.backend, "read", reading)
        graph = graph_from_store(store, limit=5)
    # 5 + 5 nodes, their 5 + 4 events, 30 contexts, 10 links, and a few id reads
    assert sum(rows) <= 80 and len(rows) <= 12, rows
    assert [a.id for a in graph.artifacts] == aids[:5]
    assert [x.id for x in graph.executions] == xids[:5]
    assert sorted((e.artifact_id, e.execution_id) for e in graph.events) == sorted(
        [(a, x) for a, x in zip(aids[:5], xids[:5], strict=True)]
        + [(aids[0], x) for x in xids[1:5]]
    )
    assert [c.id for c in graph.contexts] == cids  # every context, as before
    assert [(k.artifact_id, k.context_id) for k in graph.attributions] == [
        (a, cids[i]) for i, a in enumerate(aids[:5])
    ]
    assert [(k.execution_id, k.context_id) for k in graph.associations] == [
        (x, cids[i]) for i, x in enumerate(xids[:5])
    ]
    whole = graph_from_store(store)
    assert len(whole.artifacts) == len(whole.executions) == 300 and len(whole.events) == 599
    assert len(whole.attributions) == len(whole.associations) == 300
    payload = graph_payload(whole)
    assert sorted(len(c["members"]) for c in payload["contexts"]) == sorted(
        [10 + (43 if i < 6 else 42) for i in range(7)] + [10] * 23
    )


def test_a_node_never_stored_is_a_typed_error() -> None:
    """Nodes without an id were all the one key "aNone": two unsaved artifacts were drawn as
    one, the header said "1 artifacts", and the page looked complete."""
    from lineage_graph import InvalidArgumentError

    graph = GraphData(artifacts=[Artifact(type="A", name="x"), Artifact(type="B", name="y")])
    for draw in (graph_payload, to_html, render_html):
        with pytest.raises(InvalidArgumentError, match="stored artifacts and executions"):
            draw(graph)
    with pytest.raises(InvalidArgumentError, match="stored artifacts and executions"):
        to_html(GraphData(executions=[Execution(type="X")]))
    assert len(to_records(graph)) == 2  # the tables show them as they are


#: Text that must stay data wherever the page puts it (name, uri, type and context names,
#: property names and values): markup, an end tag with a space (a browser ends a script at
#: "</script " too), comment openers, U+2028/9, template syntax, long text.
HOSTILE_TEXTS = [
    "</script><script>alert(1)</script>",
    "<!--<script>",
    "<img src=x onerror=alert(1)>",
    "a\u2028b\u2029c",
    "${alert(1)}`",
    "</SCRIPT >&amp;\"'",
    "x" * 4000,
]


def store_hostile_chains(store: LineageStore) -> list[Artifact]:
    """One chain (artifact -> execution, both in a context) per hostile text, stored on the
    engine, its text in every field (struct and proto values too); the stored artifacts."""
    from lineage_graph import ArtifactType, ContextType, ExecutionType

    events = []
    for i, text in enumerate(HOSTILE_TEXTS):
        kind = f"T{i}{text[:60]}"
        store.put_artifact_type(ArtifactType(name=kind))
        store.put_execution_type(ExecutionType(name=f"X{kind}"))
        store.put_context_type(ContextType(name=f"C{kind}"))
        props = {
            text: text,
            "s": {text: [text, "\x00", 2**60]},
            "p": ProtoValue(type_url=text, value=b"<\x00"),
        }
        [a] = store.put_artifacts(
            [Artifact(type=kind, name=text, uri=text, custom_properties=props)]
        )
        [x] = store.put_executions([Execution(type=f"X{kind}", name=text)])
        [c] = store.put_contexts([Context(type=f"C{kind}", name=text)])
        store.put_attributions_and_associations(
            [Attribution(artifact_id=a, context_id=c)], [Association(execution_id=x, context_id=c)]
        )
        events.append(Event(artifact_id=a, execution_id=x, type=EventType.OUTPUT))
    store.put_events(events)
    return store.get_artifacts()


def test_hostile_text_from_the_store_stays_data_in_every_place(store: LineageStore) -> None:
    """Hostile text in every field, stored on the engine: an HTML parser finds exactly the
    template's elements, and the data element parses back to the very payload (every string
    as stored). (The browser's own parse: test_browser.py.)"""
    from html.parser import HTMLParser

    class Page(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.data: list[str] = []
            self.inside = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            self.inside = tag == "script" and ("id", "lineage-data") in attrs

        def handle_endtag(self, tag: str) -> None:
            self.inside = False

        def handle_data(self, data: str) -> None:
            if self.inside:
                self.data.append(data)

    def parsed(page: str) -> Page:
        p = Page()
        p.feed(page)
        return p

    for first in store_hostile_chains(store):
        graph = store.lineage(first, direction="any", include_contexts=True)
        page = parsed(to_html(graph, title=first.name or "", focus=first))
        assert page.tags == parsed(to_html(GraphData())).tags  # the template's, no more
        want = json.loads(json.dumps(graph_payload(graph, focus=first)))
        assert json.loads("".join(page.data)) == want
        node = next(n for n in want["nodes"] if n["kind"] == "artifact")
        assert node["name"] == node["uri"] == first.name and node["contexts"] == [
            f"{graph.contexts[0].type}:{first.name}"
        ]


#: Stored text with a bidi control in each place the page shows it, plus C0 (ESC, a newline)
#: and C1 (CSI) controls: the CLI prints each as a visible escape (``\u202e``, ``\x1b``).
URI_RLO = "s3://x/\u202egnp.exe"
#: Every character the CLI escapes (lineage_graph._text.printable), none of them raw: C0, DEL,
#: C1, bidi controls, and the invisible ones (Unicode's Default_Ignorable_Code_Point, the format
#: characters, category Cf, and the line and paragraph separators).
RAW_SHOWN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u00ad\u034f\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200d\u2028\u2029\u2060-\u2065\u206a-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def store_control_text(store: LineageStore) -> tuple[Artifact, Execution]:
    """An artifact (a bidi control in its uri, type, property key and value) written by an
    execution named with ESC, a newline and CSI, both in a context of bidi text, stored on the
    engine; the stored artifact and execution."""
    from lineage_graph import ArtifactType, ContextType, ExecutionType

    store.put_artifact_type(ArtifactType(name="Model\u202d"))
    store.put_execution_type(ExecutionType(name="Train\u2067"))
    store.put_context_type(ContextType(name="Exp\u200f"))
    [a] = store.put_artifacts(
        [
            Artifact(
                type="Model\u202d",
                uri=URI_RLO,
                custom_properties={"k\u202a": "v\u202c", "s": {"x": "y\u2066\x85"}},
            )
        ]
    )
    [x] = store.put_executions([Execution(type="Train\u2067", name="run\x1b[31m\nred\x9b")])
    [c] = store.put_contexts([Context(type="Exp\u200f", name="e\u061c1")])
    store.put_attributions_and_associations(
        [Attribution(artifact_id=a, context_id=c)], [Association(execution_id=x, context_id=c)]
    )
    store.put_events([Event(artifact_id=a, execution_id=x, type=EventType.OUTPUT)])
    [artifact] = store.get_artifacts_by_id([a])
    [execution] = store.get_executions_by_id([x])
    return artifact, execution


def test_control_characters_are_shown_escaped_and_the_data_stays_exact(
    store: LineageStore,
) -> None:
    """A uri "s3://x/\\u202egnp.exe" was the node's label as is: drawn reading "exe.png" (and
    the title of a page named after it too). The page shows stored text as the CLI prints it,
    control characters (C0, C1, bidi) as visible escapes, and gives its script the CLI's own
    set of them for the details panel; the data (copy, export) stays exact."""
    from html.parser import HTMLParser

    from lineage_graph._text import CONTROL_PATTERN, CONTROL_PATTERN_JS

    class Page(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.text: dict[str, str] = {}
            self.attrs: dict[str, dict[str, str | None]] = {}
            self.tag = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tag = tag
            self.attrs[dict(attrs).get("id") or tag] = dict(attrs)

        def handle_data(self, data: str) -> None:
            if self.tag in ("title", "h1"):
                self.text[self.tag] = self.text.get(self.tag, "") + data

        def handle_endtag(self, tag: str) -> None:
            self.tag = ""

    artifact, execution = store_control_text(store)
    graph = store.lineage(artifact, direction="any", include_contexts=True)
    page = Page()
    page.feed(to_html(graph, title=f"Lineage of {URI_RLO}", focus=artifact))
    for where in ("title", "h1"):
        assert page.text[where] == "Lineage of s3://x/\\u202egnp.exe", where
    # the script escapes exactly what the CLI does, by the one shared definition
    # (its JavaScript form: the browser test checks it matches the same set)
    assert page.attrs["body"]["data-control"] == CONTROL_PATTERN_JS
    shown = re.compile(CONTROL_PATTERN)
    assert {chr(c) for c in range(0x110000) if shown.match(chr(c))} == {
        chr(c) for c in range(0x110000) if RAW_SHOWN.match(chr(c))
    }
    nodes = {n["id"]: n for n in graph_payload(graph)["nodes"]}
    a, x = nodes[f"a{artifact.id}"], nodes[f"e{execution.id}"]
    assert a["label"] == "\\u202egnp.exe\nModel\\u202d"
    assert x["label"] == "run\\x1b[31m\\nred\\x9b\nTrain\\u2067"
    # the values themselves are exact
    assert (a["uri"], a["type"], x["name"]) == (URI_RLO, "Model\u202d", "run\x1b[31m\nred\x9b")
    assert a["custom_properties"] == {"k\u202a": "v\u202c", "s": {"x": "y\u2066\x85"}}
    assert a["contexts"] == x["contexts"] == ["Exp\u200f:e\u061c1"]


def test_a_notebook_draws_no_page_beyond_the_limit(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jupyter shows a LineageGraph by drawing it (``_repr_html_``): a 50,000-node lineage
    evaluated in a cell embedded a page whose layout froze the notebook. Beyond
    PAGE_NODE_LIMIT nodes (here made 3) the cell is a line saying so and how to draw it."""
    from lineage_graph import viewer

    with store.run("Ingest") as run:
        data = run.output("DataSet", uri="s3://b/d.csv")
    with store.run("Trainer", inputs=[data]) as run:
        run.output("Model", uri="s3://b/m.pkl")
    graph = store.downstream(data)
    assert len(graph) == 3
    monkeypatch.setattr(viewer, "PAGE_NODE_LIMIT", 3)
    assert graph._repr_html_().startswith("<iframe srcdoc=")
    monkeypatch.setattr(viewer, "PAGE_NODE_LIMIT", 2)
    shown = graph._repr_html_()
    assert "<iframe" not in shown and "cytoscape" not in shown
    assert "A lineage graph of 3 nodes: more than the 2 drawn inline" in shown
    assert "write_html" in shown
    # drawing it is asked for explicitly: to_html draws it whole
    assert 'data-nodes="3"' in graph.to_html()


def test_a_lone_surrogate_is_written_as_an_escape_not_a_unicode_error(tmp_path: object) -> None:
    """A name from a file name whose bytes are not UTF-8 (``os.fsdecode``: ``'x\\udcff'``)
    drawn by hand: write_html raised UnicodeEncodeError (UTF-8 cannot hold a lone surrogate).
    The page's data holds it as the JSON escape (exact), the title shows it escaped."""
    from pathlib import Path

    name = os.fsdecode(b"run-\xff.csv")
    graph = GraphData(artifacts=[Artifact(id=1, type="File", name=name, uri=f"file:///{name}")])
    target = write_html(graph, Path(str(tmp_path)) / "g.html", title=f"Lineage of {name}")
    page = target.read_text(encoding="utf-8")
    node = _data_of(page)["nodes"][0]  # type: ignore[index]
    assert node["name"] == name and node["uri"] == f"file:///{name}"  # type: ignore[index]
    assert "<title>Lineage of run-\\udcff.csv</title>" in page


@pytest.mark.skipif(
    sys.platform in ("darwin", "win32"), reason="macOS and Windows always have a display"
)
@pytest.mark.parametrize("display", ["localhost:99999999999999999999", "a..b:0"])
def test_a_display_no_socket_can_name_is_one_no_server_answers(
    monkeypatch: pytest.MonkeyPatch, display: str
) -> None:
    """``DISPLAY=localhost:99999999999999999999`` (a port no C long holds) raised the probe's
    OverflowError: ``view`` failed with a traceback after writing the page. It names no
    display server that answers, as ``DISPLAY=a..b:0`` (no host name) does."""
    from lineage_graph.viewer import display_trouble

    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("BROWSER", raising=False)
    assert display_trouble() == (
        f"no display: DISPLAY={display} names no display server that answers"
    )
