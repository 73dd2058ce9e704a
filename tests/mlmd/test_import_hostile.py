"""``import-mlmd`` of a damaged or hostile MLMD SQLite file (an untrusted input): each is refused
with a typed error naming the cause, before anything is written; hostile but valid text is
copied exactly.

The files are written by real ml_metadata, then changed with sqlite3 as a damaged or crafted
database would be: SQLite gives back whatever bytes a TEXT column holds, and ml_metadata's
bindings hand invalid UTF-8 in a string field back as ``bytes`` (stored as its Python repr
``"b'\\xff...'"`` before, or a ``TypeError`` from the key checks), a proto_value that is not a
serialised ``Any`` as ``UnicodeDecodeError`` and a property row without a value as its own
``InternalError`` (both a traceback from the CLI before).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ml_metadata")

from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import (
    ArtifactType,
    FailedPreconditionError,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
)
from lineage_graph.mlmd._importer import import_mlmd
from tests.reliability._integrity import assert_healthy

from .test_import import _cli, _mlmd_sqlite, snapshot

HOSTILE = "v`' */\n$x\\u0060 </script><img src=x onerror=alert(1)> %60 ${p}"


def _mlmd_file(tmp_path: Path) -> Path:
    """Two artifacts (one hostile in every text field), an execution and an event between."""
    path = tmp_path / "mlmd.sqlite"
    ref = _mlmd_sqlite(path)
    t = pb.ArtifactType(name="T`\n*/ $x")
    t.properties["p`1"] = pb.STRING
    t.properties["id"] = pb.INT
    at = ref.put_artifact_type(t)
    et = ref.put_execution_type(pb.ExecutionType(name="E"))
    hostile = pb.Artifact(type_id=at, uri="javascript:alert(1)", name="n`'\"")
    hostile.properties["p`1"].string_value = HOSTILE
    hostile.properties["id"].int_value = 999
    for key in ("a`b", "a%60b", "lock", "mlmd_origin", "input_sig", "pt__x", "impact_marks"):
        hostile.custom_properties[key].string_value = HOSTILE + key
    plain = pb.Artifact(type_id=at, uri="/plain")
    a1, _ = ref.put_artifacts([hostile, plain])
    [e1] = ref.put_executions([pb.Execution(type_id=et)])
    event = pb.Event(artifact_id=a1, execution_id=e1, type=pb.Event.INPUT)
    event.path.steps.add().key = "train"
    ref.put_events([event])
    return path


def _staged(store: LineageStore) -> bool:
    """Whether an import into the empty ``store`` is all or nothing: staged on FalkorDB. Neo4j
    has no staged graph (one database per store): an import writes in batches, each atomic,
    and one that stops midway leaves a partial copy (docs/mlmd-compatibility.md)."""
    return store.backend.dialect == "falkordb"


def _unchanged_or_partial(store: LineageStore, before: dict[str, Any]) -> None:
    """After an import into an empty store failed part way: as it was where the import is
    staged; else (Neo4j) a partial copy, which must still be a healthy store."""
    if _staged(store):
        assert snapshot(store) == before
    else:
        assert_healthy(store)


def _changed(tmp_path: Path, sql: str, *args: Any) -> Path:
    path = _mlmd_file(tmp_path)
    with sqlite3.connect(path) as db:
        assert db.execute(sql, args).rowcount == 1
    return path


def test_hostile_text_is_copied_exactly(tmp_path: Path, store: LineageStore) -> None:
    import_mlmd(_mlmd_file(tmp_path), store)
    [a] = store.get_artifacts_by_id([1])
    assert (a.name, a.uri, a.type) == ("n`'\"", "javascript:alert(1)", "T`\n*/ $x")
    assert a.properties == {"p`1": HOSTILE, "id": 999}
    keys = ("a`b", "a%60b", "lock", "mlmd_origin", "input_sig", "pt__x", "impact_marks")
    assert a.custom_properties == {k: HOSTILE + k for k in keys}
    [b] = store.get_artifacts_by_id([2])
    assert (b.uri, b.properties, b.custom_properties) == ("/plain", {}, {})


INVALID_UTF8 = b"\xff\xfe\x80ok"
SURROGATE = "\ud800".encode("utf-8", "surrogatepass")  # invalid UTF-8 too

BAD_TEXT: dict[str, tuple[str, bytes, str]] = {
    "property value": (
        "UPDATE ArtifactProperty SET string_value = ? WHERE name = 'a`b'",
        INVALID_UTF8,
        r"MLMD artifact 1 cannot be imported: custom_properties\['a`b'\].string_value is not",
    ),
    "property name": (
        "UPDATE ArtifactProperty SET name = ? WHERE name = 'lock'",
        INVALID_UTF8,
        r"MLMD artifact 1 cannot be imported: custom_properties\[b'.*'\] is not valid",
    ),
    "node name": (
        "UPDATE Artifact SET name = ? WHERE id = 1",
        SURROGATE,
        "MLMD artifact 1 cannot be imported: name is not valid UTF-8",
    ),
    "uri": (
        "UPDATE Artifact SET uri = ? WHERE id = 2",
        INVALID_UTF8,
        "MLMD artifact 2 cannot be imported: uri is not valid UTF-8",
    ),
    "type name": (
        "UPDATE Type SET name = ? WHERE name = 'E'",
        INVALID_UTF8,
        # the execution carries its type's name (output-only ``type``): it is named first
        "MLMD execution .*cannot be imported: (type|name) is not valid UTF-8",
    ),
    "event path key": (
        "UPDATE EventPath SET step_key = ? WHERE step_key = 'train'",
        INVALID_UTF8,
        r"MLMD event of artifact 1 and execution 1 cannot be imported: path.steps\[0\].key is",
    ),
}


@pytest.mark.parametrize("case", list(BAD_TEXT), ids=list(BAD_TEXT))
def test_text_that_is_not_utf8_is_refused_and_nothing_written(
    tmp_path: Path, store: LineageStore, case: str
) -> None:
    sql, value, message = BAD_TEXT[case]
    path = _changed(tmp_path, sql, value)
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match=message):
        import_mlmd(path, store)
    _unchanged_or_partial(store, before)


DAMAGED: dict[str, Callable[[Path], Path]] = {
    "proto value not an Any": lambda tmp: _changed(
        tmp,
        "INSERT INTO ArtifactProperty (artifact_id, name, is_custom_property, proto_value) "
        "VALUES (1, 'pb', 1, ?)",
        b"\xff\xff\xff\x0f not a proto",
    ),
    "property row without a value": lambda tmp: _changed(
        tmp,
        "INSERT INTO ArtifactProperty (artifact_id, name, is_custom_property, byte_value) "
        "VALUES (1, 'st', 1, ?)",
        b"\xff\x01",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGED), ids=list(DAMAGED))
def test_a_damaged_database_is_a_typed_error_and_nothing_written(
    tmp_path: Path, store: LineageStore, case: str
) -> None:
    path = DAMAGED[case](tmp_path)
    before = snapshot(store)
    with pytest.raises(FailedPreconditionError, match="cannot read the MLMD store"):
        import_mlmd(path, store)
    assert snapshot(store) == before


def test_the_cli_says_why_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "b").mkdir()
    damaged = DAMAGED["proto value not an Any"](tmp_path / "d")
    result = _cli("import-mlmd", str(damaged), "--store", str(tmp_path / "s1"))
    assert result.exit_code == 5, result.output
    assert "cannot read the MLMD store" in result.output and "Traceback" not in result.output
    sql, value, _ = BAD_TEXT["node name"]
    bad = _changed(tmp_path / "b", sql, value)
    result = _cli("import-mlmd", str(bad), "--store", str(tmp_path / "s2"))
    assert result.exit_code == 5, result.output
    assert "name is not valid UTF-8" in result.output


DANGLING: dict[str, tuple[str, type[Exception], str]] = {
    # SQLite enforces no foreign keys: a damaged or crafted file may name what is not there
    "artifact of an unknown type": (
        "UPDATE Artifact SET type_id = 999 WHERE id = 2",
        InvalidArgumentError,
        "MLMD artifact 2 cannot be imported: its type id 999 names no artifact type",
    ),
    "event of an unknown execution": (
        "UPDATE Event SET execution_id = 999",
        InvalidArgumentError,
        "MLMD event of artifact 1 and execution 999 cannot be imported: it names an artifact",
    ),
    "attribution to an unknown artifact": (
        "INSERT INTO Attribution (context_id, artifact_id) VALUES (1, 999)",
        FailedPreconditionError,
        "cannot read the MLMD store",
    ),
}


@pytest.mark.parametrize("case", list(DANGLING), ids=list(DANGLING))
def test_a_reference_to_nothing_is_a_typed_error_and_nothing_written(
    tmp_path: Path, store: LineageStore, case: str
) -> None:
    """These were a KeyError from the importer's id maps (a traceback from the CLI)."""
    sql, error, message = DANGLING[case]
    path = _mlmd_file(tmp_path)
    ref = _mlmd_sqlite(path)
    ct = ref.put_context_type(pb.ContextType(name="C"))
    ref.put_contexts([pb.Context(type_id=ct, name="c")])
    del ref
    with sqlite3.connect(path) as db:
        assert db.execute(sql).rowcount == 1
    before = snapshot(store)
    with pytest.raises(error, match=message):
        import_mlmd(path, store)
    _unchanged_or_partial(store, before)


def _unholdable(kind: str) -> Any:
    """A node or type that ml_metadata 1.17.1 stores and no model here can hold."""
    if kind == "artifact type with an empty property name":
        t = pb.ArtifactType(name="U")
        t.properties[""] = pb.INT
        return t
    if kind == "execution type with an empty property name":
        t = pb.ExecutionType(name="U")
        t.properties[""] = pb.STRING
        return t
    node = {"artifact": pb.Artifact, "execution": pb.Execution, "context": pb.Context}[
        kind.split()[0]
    ]()
    node.custom_properties[""].string_value = "v"
    return node


UNHOLDABLE = {
    "artifact with an empty custom property name": "property names must not be empty",
    "execution with an empty custom property name": "property names must not be empty",
    "context with an empty custom property name": "property names must not be empty",
    "artifact type with an empty property name": "property names must not be empty",
    "execution type with an empty property name": "property names must not be empty",
}


@pytest.mark.parametrize("merge", [False, True], ids=["empty target", "merge"])
@pytest.mark.parametrize("case", list(UNHOLDABLE), ids=list(UNHOLDABLE))
def test_what_mlmd_holds_and_no_model_here_can_is_refused_before_any_write(
    tmp_path: Path, store: LineageStore, case: str, merge: bool
) -> None:
    """Empty property names: ml_metadata stores them, the models here refuse them. The copy
    raised pydantic's ValidationError (or a ValueError) at the node, untyped (a traceback from
    the CLI); a merge had written the MLMD types by then."""
    path = _mlmd_file(tmp_path)
    ref = _mlmd_sqlite(path)
    bad = _unholdable(case)
    if "type" in case:
        put = ref.put_artifact_type if case.startswith("artifact") else ref.put_execution_type
        put(bad)
    elif case.startswith("artifact"):
        bad.type_id = ref.get_artifact_type("T`\n*/ $x").id
        ref.put_artifacts([bad])
    elif case.startswith("execution"):
        bad.type_id = ref.get_execution_type("E").id
        ref.put_executions([bad])
    else:
        bad.type_id = ref.put_context_type(pb.ContextType(name="C"))
        bad.name = "c"
        ref.put_contexts([bad])
    del ref
    if merge:
        from lineage_graph import Artifact, ArtifactType

        store.put_artifact_type(ArtifactType(name="Mine"))
        store.put_artifacts([Artifact(type="Mine", uri="/mine")])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match=UNHOLDABLE[case]) as caught:
        import_mlmd(path, store, merge=merge)
    assert "nothing was imported" in str(caught.value)
    assert snapshot(store) == before


def _non_finite_struct() -> dict[str, Any]:
    return {
        "nan": float("nan"),
        "inf": float("inf"),
        "list": [float("-inf"), 1.5, None, True, "s"],
        "nested": {"k": float("nan"), "n": 2},
    }


@pytest.mark.parametrize("merge", [False, True], ids=["empty target", "merge"])
def test_nan_and_infinity_in_a_struct_are_imported_as_mlmd_holds_them(
    tmp_path: Path, store: LineageStore, merge: bool
) -> None:
    """ml_metadata 1.17.1 stores NaN and +/-inf inside a struct_value (a Struct's numbers are
    doubles) and returns them. One such property refused the whole import (InvalidArgumentError,
    "nothing was imported"): a store holding it could not be moved at all. Now it is copied,
    and reads back, natively and through the adapter, as MLMD returns it."""
    import math

    from lineage_graph.mlmd import MetadataStore

    path = _mlmd_file(tmp_path)
    ref = _mlmd_sqlite(path)
    at = ref.get_artifact_type("T`\n*/ $x").id
    bad = pb.Artifact(type_id=at, uri="/nan")
    bad.custom_properties["s"].struct_value.update(_non_finite_struct())
    et = ref.get_execution_type("E").id
    run = pb.Execution(type_id=et, name="nan-run")
    run.custom_properties["m"].struct_value.update({"loss": float("nan")})
    [bad_id] = ref.put_artifacts([bad])
    [run_id] = ref.put_executions([run])
    [back] = ref.get_artifacts_by_id([bad_id])
    [run_back] = ref.get_executions_by_id([run_id])
    del ref
    if merge:
        from lineage_graph import Artifact, ArtifactType

        store.put_artifact_type(ArtifactType(name="Mine"))
        store.put_artifacts([Artifact(type="Mine", uri="/mine")])
    report = import_mlmd(path, store, merge=merge)
    assert report.artifacts == 3 and report.executions == 2
    new_id = report.id_map["Artifact"][bad_id]
    [copied] = store.get_artifacts_by_id([new_id])
    got = copied.custom_properties["s"]
    assert math.isnan(got["nan"]) and got["inf"] == math.inf
    assert got["list"][0] == -math.inf and got["list"][1:] == [1.5, None, True, "s"]
    assert math.isnan(got["nested"]["k"]) and got["nested"]["n"] == 2
    [ours] = MetadataStore(store).get_artifacts_by_id([new_id])
    # as text: NaN is NaN there (proto equality compares doubles: NaN != NaN)
    assert str(ours.custom_properties["s"]) == str(back.custom_properties["s"])
    [run_copied] = store.get_executions_by_id([report.id_map["Execution"][run_id]])
    assert math.isnan(run_copied.custom_properties["m"]["loss"])
    assert "number_value: nan" in str(run_back.custom_properties["m"])  # as MLMD holds it
    if merge:  # a re-run finds the copies: nothing more
        again = import_mlmd(path, store, merge=True)
        assert store.count(NodeKind.ARTIFACT) == 4 and again.updated + again.unchanged == 5


def _write_during(path: Path, what: str) -> Callable[[str, int, int], None]:
    """A progress callback that, once the import has read MLMD's nodes, writes to the MLMD
    store a new node and a link (or event) naming it, as a pipeline still running would."""
    writer = _mlmd_sqlite(path)
    done: list[int] = []

    def progress(stage: str, n: int, total: int) -> None:
        if stage != "contexts" or done:
            return
        done.append(1)
        at = writer.get_artifact_type("T`\n*/ $x").id
        if what == "attribution":
            [a] = writer.put_artifacts([pb.Artifact(type_id=at, uri="/new")])
            writer.put_attributions_and_associations(
                [pb.Attribution(artifact_id=a, context_id=1)], []
            )
        elif what == "association":
            [e] = writer.put_executions([pb.Execution(type_id=writer.get_execution_type("E").id)])
            writer.put_attributions_and_associations(
                [], [pb.Association(execution_id=e, context_id=1)]
            )
        elif what == "parent context":
            ct = writer.get_context_type("C").id
            [c] = writer.put_contexts([pb.Context(type_id=ct, name="new parent")])
            writer.put_parent_contexts([pb.ParentContext(child_id=1, parent_id=c)])
        else:
            [a] = writer.put_artifacts([pb.Artifact(type_id=at, uri="/new")])
            writer.put_events([pb.Event(artifact_id=a, execution_id=1, type=pb.Event.OUTPUT)])

    return progress


@pytest.mark.parametrize("merge", [False, True], ids=["empty target", "merge"])
@pytest.mark.parametrize("what", ["attribution", "association", "parent context", "event"])
def test_an_mlmd_file_written_during_the_import_is_imported_as_it_was_when_it_began(
    tmp_path: Path, store: LineageStore, what: str, merge: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link (or event) written to the MLMD file after the import read its nodes named a node
    the import had not read: the import was refused ("the MLMD store is being written"; a
    KeyError before that), so an MLMD database that pipelines keep writing could never be
    imported. A SQLite source is now read from a copy made as the import begins (SQLite's
    online backup): what is written meanwhile is left for the next merge, which copies it."""
    import tempfile

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where the copies go
    path = _mlmd_file(tmp_path)
    ref = _mlmd_sqlite(path)
    ct = ref.put_context_type(pb.ContextType(name="C"))
    ref.put_contexts([pb.Context(type_id=ct, name="c")])
    del ref
    if merge:
        from lineage_graph import Artifact, ArtifactType

        store.put_artifact_type(ArtifactType(name="Mine"))
        store.put_artifacts([Artifact(type="Mine", uri="/mine")])
    first = import_mlmd(path, store, merge=merge, progress=_write_during(path, what))
    assert (first.artifacts, first.executions, first.contexts) == (2, 1, 1)
    assert first.events == 1 and first.parent_contexts == 0
    assert first.attributions == first.associations == 0
    assert [a for a in store.get_artifacts() if a.uri == "/new"] == []
    then = import_mlmd(path, store, merge=True)  # the writer's data, now there
    assert then.updated + then.unchanged == 4 and then.parent_contexts == (
        1 if what == "parent context" else 0
    )
    again = import_mlmd(path, store, merge=True)  # and a third run finds everything there
    assert again.counts()["unchanged"] == sum(
        again.counts()[k] for k in ("artifacts", "executions", "contexts")
    )
    assert again.events == 0 and again.parent_contexts == 0
    new = [a for a in store.get_artifacts() if a.uri == "/new"]
    assert len(new) == (1 if what in ("attribution", "event") else 0)
    assert list(temp.iterdir()) == []  # each copy removed


def test_a_file_a_writer_died_in_says_so_and_imports_once_rolled_back(
    tmp_path: Path, store: LineageStore
) -> None:
    """A process killed in the middle of a write to the MLMD file leaves its journal beside it,
    which a read-only opening cannot roll back: ml_metadata then said "attempt to write a
    readonly database ... CREATE TABLE IF NOT EXISTS `Type`", as if the file were no MLMD store.
    The error now says a writer has it or died in it, and how to roll the write back."""
    import signal
    import subprocess
    import sys

    path = _mlmd_file(tmp_path)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('PRAGMA cache_size=1')\n"  # the write spills into the file
            "db.execute('BEGIN EXCLUSIVE')\n"
            "db.execute('UPDATE Artifact SET uri = hex(randomblob(3000))')\n"
            "print('writing', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    before = snapshot(store)
    with pytest.raises(FailedPreconditionError, match="died in the middle of a write"):
        import_mlmd(path, store)
    assert snapshot(store) == before
    with sqlite3.connect(path) as db:  # read-write: rolls the dead writer's write back
        db.execute("PRAGMA quick_check").fetchall()
    report = import_mlmd(path, store)
    assert report.artifacts == 2
    assert {a.uri for a in store.get_artifacts()} == {"javascript:alert(1)", "/plain"}


#: Property rows ml_metadata reads back as they are and the write here refuses: (SQL on the
#: file of _mlmd_file, where artifact 2 is the plain one, what the refusal says).
KIND_CLASHES = {
    "a value of another kind than declared": (
        "UPDATE ArtifactProperty SET int_value = NULL, string_value = 'x' "
        "WHERE artifact_id = 1 AND name = 'id'",
        "declares INT, got STRING",
    ),
    "a property its type does not declare": (
        "INSERT INTO ArtifactProperty(artifact_id, name, is_custom_property, int_value) "
        "VALUES (2, 'undeclared', 0, 7)",
        "found unknown property 'undeclared'",
    ),
}


@pytest.mark.parametrize("merge", [False, True], ids=["empty target", "merge"])
@pytest.mark.parametrize("case", list(KIND_CLASHES), ids=["kind", "undeclared"])
def test_a_property_value_its_type_does_not_allow_is_refused_before_any_write(
    tmp_path: Path, store: LineageStore, case: str, merge: bool
) -> None:
    """The write refused it midway, naming "artifact #1" (its place in a batch, not its MLMD
    id), after a merge had written the MLMD types."""
    sql, said = KIND_CLASHES[case]
    path = _changed(tmp_path, sql)
    mlmd_id = 1 if "another kind" in case else 2
    if merge:
        from lineage_graph import Artifact, ArtifactType

        store.put_artifact_type(ArtifactType(name="Mine"))
        store.put_artifacts([Artifact(type="Mine", uri="/mine")])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match=said) as caught:
        import_mlmd(path, store, merge=merge)
    assert f"MLMD artifact {mlmd_id} cannot be imported" in str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert snapshot(store) == before


@pytest.mark.parametrize("merge", [False, True], ids=["empty target", "merge"])
@pytest.mark.parametrize("event_type", [0, 99], ids=["unknown", "past MLMD's"])
def test_an_event_type_the_store_cannot_hold_is_refused_before_any_write(
    tmp_path: Path, store: LineageStore, merge: bool, event_type: int
) -> None:
    """An event row of type 0 (UNKNOWN) or 99 (a damaged database): the write refused it once
    every node was written (a merge stopped midway, its re-run failing again), saying "No event
    type is specified." alone, naming no event."""
    path = _changed(tmp_path, "UPDATE Event SET type = ?", event_type)
    if merge:
        from lineage_graph import Artifact, ArtifactType

        store.put_artifact_type(ArtifactType(name="Mine"))
        store.put_artifacts([Artifact(type="Mine", uri="/mine")])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match="No event type is specified") as caught:
        import_mlmd(path, store, merge=merge)
    message = str(caught.value)
    assert "the MLMD event of artifact 1 and execution 1 cannot be imported" in message
    assert "nothing was imported" in message
    assert snapshot(store) == before


@pytest.mark.parametrize("merge", [False, True], ids=["empty target", "merge"])
@pytest.mark.parametrize("links", [[(1, 1)], [(2, 1), (1, 2)]], ids=["own parent", "2-cycle"])
def test_parent_contexts_forming_a_cycle_in_mlmd_are_refused_before_any_write(
    tmp_path: Path, store: LineageStore, merge: bool, links: list[tuple[int, int]]
) -> None:
    """Parent links that form a cycle (MLMD refuses one; a damaged database holds it): the
    store refused them once every node, event and link was written (a merge stopped midway),
    naming the target's context ids, not MLMD's."""
    path = _mlmd_file(tmp_path)
    ref = _mlmd_sqlite(path)
    c_type = ref.put_context_type(pb.ContextType(name="C"))
    assert ref.put_contexts([pb.Context(type_id=c_type, name=f"c{i}") for i in (1, 2)]) == [1, 2]
    del ref
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO ParentContext(context_id, parent_context_id) VALUES (?, ?)", links
        )
    if merge:
        from lineage_graph import Artifact, ArtifactType

        store.put_artifact_type(ArtifactType(name="Mine"))
        store.put_artifacts([Artifact(type="Mine", uri="/mine")])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match="MLMD's parent contexts form a cycle") as caught:
        import_mlmd(path, store, merge=merge)
    assert "MLMD context 1 -> " in str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert snapshot(store) == before


#: Path steps on which ml_metadata 1.17.1 aborts the whole process reading them (a C++ CHECK
#: failure, measured: a child died of SIGABRT, "Check failed: absl::SimpleAtob(...)" or
#: "SimpleAtoi(...)"): the command died with "Check failure stack trace", exit -6, no message.
#: Each is run as the command in a child process, as the abort would end this one.
ABORTING_STEPS = {
    "index missing": ((1, None, None), "an index step without an index"),
    "marked 2": ((2, None, "k"), "marked neither a key nor an index step (is_index_step '2')"),
    "marked x": (("x", 3, None), "marked neither a key nor an index step (is_index_step 'x')"),
    "index 2.5": ((1, 2.5, None), "an index step whose index is no int64 ('2.5')"),
    # past Python's 4,300 digits for int(): the check itself raised ValueError (a traceback)
    "index of 5,000 digits": (
        (1, b"1" * 5000, None),
        "an index step whose index is no int64 ('111",
    ),
}


@pytest.mark.parametrize("step", list(ABORTING_STEPS))
def test_every_path_step_ml_metadata_aborts_on_is_refused_before_it_reads_it(
    tmp_path: Path, step: str
) -> None:

    row, what = ABORTING_STEPS[step]
    path = _changed(
        tmp_path,
        "INSERT INTO EventPath(event_id, is_index_step, step_index, step_key) VALUES (1, ?, ?, ?)",
        *row,
    )
    message = _refused_in_a_child(tmp_path, path)
    assert f"the MLMD event of artifact 1 and execution 1: a step of its path is {what}" in message
    assert "nothing was imported" in message
    assert not (tmp_path / "store").exists()


def test_path_steps_ml_metadata_reads_are_not_refused(tmp_path: Path, store: LineageStore) -> None:
    """Odd rows ml_metadata 1.17.1 reads as a step (is_index_step as absl::SimpleAtob reads it:
    'TRUE', 'n'; an index as SimpleAtoi reads the text of a blob) are imported as it reads them,
    not refused as damaged."""
    from ml_metadata.metadata_store import metadata_store

    path = _mlmd_file(tmp_path)
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO EventPath(event_id, is_index_step, step_index, step_key) "
            "VALUES (1, ?, ?, ?)",
            [("TRUE", 3, None), ("n", None, "k"), (1, b"7", None)],
        )
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    [theirs] = metadata_store.MetadataStore(config).get_events_by_execution_ids([1])
    steps = [s.index if s.HasField("index") else s.key for s in theirs.path.steps]
    assert steps == ["train", 3, "k", 7]
    import_mlmd(path, store)
    [mine] = store.get_events_by_execution_ids([1])
    assert mine.path == steps


#: Node and property rows on which ml_metadata 1.17.1 aborts the whole process reading the
#: nodes (measured, each in a child: SIGABRT, "Check failed: absl::SimpleAtoi(record.values(3),
#: &int_value)", SimpleAtod, SimpleAtob, "SimpleAtoi(value, &enum_value)"): the command died
#: with "Check failure stack trace", exit -6, no message, its store's server left running.
#: (sql changing the file, what the refusal says)
ABORTING_ROWS = {
    "int_value text": (
        "UPDATE ArtifactProperty SET int_value = 'abc' WHERE name = 'id'",
        "the MLMD artifact 1: its property 'id' holds an int_value that is no int64 ('abc')",
    ),
    "int_value 2.5 in a string property's row": (
        "UPDATE ArtifactProperty SET int_value = 2.5 WHERE name = 'p`1'",
        "the MLMD artifact 1: its property 'p`1' holds an int_value that is no int64 ('2.5')",
    ),
    "double_value text": (
        "UPDATE ArtifactProperty SET double_value = '1_0' WHERE name = 'id'",
        "the MLMD artifact 1: its property 'id' holds a double_value that is no number ('1_0')",
    ),
    "bool_value 2": (
        "UPDATE ArtifactProperty SET bool_value = 2 WHERE name = 'lock'",
        "the MLMD artifact 1: its custom property 'lock' holds a bool_value that is no bool ('2')",
    ),
    "is_custom_property x": (
        "UPDATE ArtifactProperty SET is_custom_property = 'x' WHERE name = 'lock'",
        "the MLMD artifact 1: its property row 'lock' is marked neither a property nor a "
        "custom property (is_custom_property 'x')",
    ),
    "an execution's state": (
        "UPDATE Execution SET last_known_state = 'x' WHERE id = 1",
        "the MLMD execution 1: its last_known_state is no int32 ('x')",
    ),
    "a time": (
        "UPDATE Artifact SET create_time_since_epoch = '' WHERE id = 2",
        "the MLMD artifact 2: its create_time_since_epoch is no int64 ('')",
    ),
}


def test_node_rows_ml_metadata_reads_are_not_refused(tmp_path: Path, store: LineageStore) -> None:
    """Odd values ml_metadata 1.17.1 reads (absl's rules: an int64 in a blob's text, a double
    written in hex, a bool 'yes', a state in a blob) are imported as it reads them."""
    from ml_metadata.metadata_store import metadata_store

    path = _mlmd_file(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE ArtifactProperty SET int_value = x'2037' WHERE name = 'id'")
        db.execute("UPDATE ArtifactProperty SET bool_value = 'yes' WHERE name = 'lock'")
        db.execute("UPDATE Artifact SET state = x'33' WHERE id = 2")
        db.execute(
            "INSERT INTO ExecutionProperty(execution_id, name, is_custom_property, double_value) "
            "VALUES (1, 'd', 1, '0x10')"
        )
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    theirs = metadata_store.MetadataStore(config)
    [a1, a2] = theirs.get_artifacts()
    [e1] = theirs.get_executions()
    assert a1.properties["id"].int_value == 7
    assert a1.custom_properties["lock"].HasField("string_value")  # (ml_metadata: text first)
    assert a2.state == pb.Artifact.MARKED_FOR_DELETION
    assert e1.custom_properties["d"].double_value == 16.0
    import_mlmd(path, store)
    [mine] = store.get_artifacts_by_id([1])
    assert mine.properties["id"] == 7
    assert store.get_artifacts_by_id([2])[0].state.name == "MARKED_FOR_DELETION"
    assert store.get_executions_by_id([1])[0].custom_properties["d"] == 16.0


#: Event and type property rows on which ml_metadata 1.17.1 aborts the whole process reading
#: them (measured, each in a child: SIGABRT, "Check failed: absl::SimpleAtoi(value,
#: &enum_value)" for an event's type and a property's data_type that are no int32,
#: "SimpleAtoi(value, &int64_value)" for an event's ids and time that are no int64): the
#: command said "ml_metadata died reading it", after the nodes and types were read.
#: (sql changing the file, what the refusal says)
ABORTING_EVENT_AND_TYPE_ROWS = {
    "event type text": (
        "UPDATE Event SET type = 'x' WHERE id = 1",
        "the MLMD event of artifact 1 and execution 1: its type is no int32 ('x')",
    ),
    "event type 2.5": (
        "UPDATE Event SET type = 2.5 WHERE id = 1",
        "the MLMD event of artifact 1 and execution 1: its type is no int32 ('2.5')",
    ),
    "event type past int32": (
        "UPDATE Event SET type = 2147483648 WHERE id = 1",
        "the MLMD event of artifact 1 and execution 1: its type is no int32 ('2147483648')",
    ),
    "event time text": (
        "UPDATE Event SET milliseconds_since_epoch = '' WHERE id = 1",
        "the MLMD event of artifact 1 and execution 1: its milliseconds_since_epoch is no "
        "int64 ('')",
    ),
    "event time past int64": (
        "UPDATE Event SET milliseconds_since_epoch = '9223372036854775808' WHERE id = 1",
        "the MLMD event of artifact 1 and execution 1: its milliseconds_since_epoch is no "
        "int64 ('9.22337203685478e+18')",  # (SQLite holds it as a REAL)
    ),
    "event execution id text": (
        "UPDATE Event SET execution_id = 'x' WHERE id = 1",
        "the MLMD event of artifact 1 and execution 'x': its execution_id is no int64 ('x')",
    ),
    "data_type text": (
        "UPDATE TypeProperty SET data_type = 'x' WHERE name = 'id'",
        "the MLMD artifact type 10 ('T`\\n*/ $x'): its property 'id' has a data_type that is "
        "no int32 ('x')",
    ),
    "data_type past int32": (
        "UPDATE TypeProperty SET data_type = 4294967297 WHERE name = 'id'",
        "the MLMD artifact type 10 ('T`\\n*/ $x'): its property 'id' has a data_type that is "
        "no int32 ('4294967297')",
    ),
    # ml_metadata reads an artifact or execution type's parent links with the type, and died
    # there ("Check failed: absl::SimpleAtoi(record.values(position), &id)", measured): the
    # command said "ml_metadata died reading it", nothing refused them before the read
    "parent_type_id text": (
        "INSERT INTO ParentType (type_id, parent_type_id) SELECT id, 'x' FROM Type "
        "WHERE name = 'E'",
        "the MLMD execution type 11 ('E'): its parent type link has a parent_type_id that is "
        "no int64 ('x')",
    ),
    "parent_type_id 2.5": (
        "INSERT INTO ParentType (type_id, parent_type_id) VALUES (10, 2.5)",
        "the MLMD artifact type 10 ('T`\\n*/ $x'): its parent type link has a parent_type_id "
        "that is no int64 ('2.5')",
    ),
    "parent_type_id past int64": (
        "INSERT INTO ParentType (type_id, parent_type_id) VALUES (10, '-9223372036854775809')",
        "the MLMD artifact type 10 ('T`\\n*/ $x'): its parent type link has a parent_type_id "
        "that is no int64 ('-9.22337203685478e+18')",  # (SQLite holds it as a REAL)
    ),
}

#: Every row above, refused before ml_metadata reads it (none shares a name).
ABORTING = {**ABORTING_ROWS, **ABORTING_EVENT_AND_TYPE_ROWS}
assert len(ABORTING) == len(ABORTING_ROWS) + len(ABORTING_EVENT_AND_TYPE_ROWS)


@pytest.mark.parametrize("row", list(ABORTING))
def test_every_row_ml_metadata_aborts_on_is_refused_before_it_reads_it(
    tmp_path: Path, row: str
) -> None:
    sql, what = ABORTING[row]
    path = _changed(tmp_path, sql)
    message = _refused_in_a_child(tmp_path, path)
    assert f"{what}, on which ml_metadata aborts the process reading it" in message, message
    assert "nothing was imported" in message
    assert "died reading it" not in message
    assert not (tmp_path / "store").exists()


def test_event_and_type_rows_ml_metadata_reads_are_not_refused(
    tmp_path: Path, store: LineageStore
) -> None:
    """Odd event and type property rows ml_metadata 1.17.1 reads (absl's rules: an int in a
    blob's text, whitespace around it, no time) are imported as it reads them; an event's type
    or a data_type in int32's range that names none is read as UNKNOWN, which the import
    refuses itself (not as a row ml_metadata aborts on)."""
    from ml_metadata.metadata_store import metadata_store

    path = _mlmd_file(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE Event SET type = x'2033', milliseconds_since_epoch = ' 7 '")
        db.execute("UPDATE TypeProperty SET data_type = x'31' WHERE name = 'id'")  # INT
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    theirs = metadata_store.MetadataStore(config)
    [event] = theirs.get_events_by_execution_ids([1])
    assert (event.type, event.milliseconds_since_epoch) == (pb.Event.INPUT, 7)
    [t] = theirs.get_artifact_types_by_id([10])
    assert t.properties["id"] == pb.INT
    import_mlmd(path, store)
    [mine] = store.get_events_by_execution_ids([1])
    assert mine.type.name == "INPUT"
    assert store.get_artifacts_by_id([1])[0].properties["id"] == 999
    with sqlite3.connect(path) as db:
        db.execute("UPDATE TypeProperty SET data_type = 99 WHERE name = 'id'")
    [t] = theirs.get_artifact_types_by_id([10])
    assert t.properties["id"] == pb.UNKNOWN
    with pytest.raises(InvalidArgumentError, match="'id' has an unknown value type"):
        import_mlmd(path, store, merge=True)


def test_parent_type_links_ml_metadata_reads_are_not_refused(
    tmp_path: Path, store: LineageStore
) -> None:
    """Parent links of types ml_metadata 1.17.1 reads (a parent_type_id in a blob's text with
    spaces around), or never reads (a context type's, whose 'x' it does not abort on), are
    imported as it reads them, not refused as damaged."""
    from ml_metadata.metadata_store import metadata_store

    path = _mlmd_file(tmp_path)
    ref = _mlmd_sqlite(path)
    t2 = ref.put_artifact_type(pb.ArtifactType(name="T2", base_type=pb.ArtifactType.DATASET))
    context_type = ref.put_context_type(pb.ContextType(name="C"))
    del ref
    with sqlite3.connect(path) as db:
        assert (
            db.execute(
                "UPDATE ParentType SET parent_type_id = CAST(' ' || parent_type_id || ' ' AS BLOB) "
                "WHERE type_id = ?",
                (t2,),
            ).rowcount
            == 1
        )
        db.execute(
            "INSERT INTO ParentType (type_id, parent_type_id) VALUES (?, 'x')", (context_type,)
        )
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    theirs = metadata_store.MetadataStore(config)
    [t] = theirs.get_artifact_types_by_id([t2])
    assert t.base_type == pb.ArtifactType.DATASET
    assert [c.name for c in theirs.get_context_types()] == ["C"]
    import_mlmd(path, store)
    assert store.get_artifact_type("T2").base_type == "DATASET"


def _renumbered_system_type(tmp_path: Path) -> Path:
    """_mlmd_file's, with the system type mlmd.Dataset renumbered by hand from 1 to 50 and an
    artifact type named mlmd.Train (an execution system type's name): each with a parent link
    whose parent_type_id is 'x'. get_artifact_types() hides both (any type named as one of the
    nine, measured on 1.17.1), so ml_metadata reads neither link unless a node uses the type."""
    path = _mlmd_file(tmp_path)
    ref = _mlmd_sqlite(path)
    named = ref.put_artifact_type(pb.ArtifactType(name="mlmd.Train"))
    del ref
    with sqlite3.connect(path) as db:
        assert db.execute("UPDATE Type SET id = 50 WHERE name = 'mlmd.Dataset'").rowcount == 1
        db.executemany(
            "INSERT INTO ParentType (type_id, parent_type_id) VALUES (?, 'x')", [(50,), (named,)]
        )
    return path


def test_parent_type_links_of_hidden_types_no_node_uses_are_not_refused(
    tmp_path: Path, store: LineageStore
) -> None:
    """The parent link of a system type renumbered out of ids 1-9 (or of a type named as one),
    which no node uses, is never read by ml_metadata 1.17.1 (its get_*_types() hides the type,
    and the import reads by id only ids 1-9 and the types nodes use): not refused as a row
    ml_metadata aborts on (it was: the whole import refused, "nothing was imported")."""
    from ml_metadata.metadata_store import metadata_store

    path = _renumbered_system_type(tmp_path)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    theirs = metadata_store.MetadataStore(config)
    assert [t.name for t in theirs.get_artifact_types()] == ["T`\n*/ $x"]
    assert [t.id for t in theirs.get_artifact_types_by_id(list(range(1, 10)))] == [2, 3, 4]
    del theirs
    import_mlmd(path, store)
    assert [a.id for a in store.get_artifacts()] == [1, 2]


def test_parent_type_link_of_a_hidden_type_a_node_uses_is_refused(tmp_path: Path) -> None:
    """A node of the renumbered system type makes the import read the type by id, and
    ml_metadata 1.17.1 aborts on its parent link there (measured: "Check failed:
    absl::SimpleAtoi(record.values(position), &id)"): refused before it is read, as any."""
    path = _renumbered_system_type(tmp_path)
    with sqlite3.connect(path) as db:
        assert db.execute("UPDATE Artifact SET type_id = CAST(' 50' AS BLOB) WHERE id = 2").rowcount
    message = _refused_in_a_child(tmp_path, path)
    said = (
        "the MLMD artifact type 50 ('mlmd.Dataset'): its parent type link has a parent_type_id "
        "that is no int64 ('x'), on which ml_metadata aborts the process reading it"
    )
    assert said in message, message
    assert "nothing was imported" in message and "died reading it" not in message


def _linked_mlmd_file(tmp_path: Path) -> Path:
    """_mlmd_file's, with contexts 1 and 2 (2 a parent of 1), artifact 1 attributed to context 1
    and execution 1 associated with it."""
    path = _mlmd_file(tmp_path)
    ref = _mlmd_sqlite(path)
    c_type = ref.put_context_type(pb.ContextType(name="C"))
    assert ref.put_contexts([pb.Context(type_id=c_type, name=f"c{i}") for i in (1, 2)]) == [1, 2]
    ref.put_attributions_and_associations(
        [pb.Attribution(artifact_id=1, context_id=1)],
        [pb.Association(execution_id=1, context_id=1)],
    )
    ref.put_parent_contexts([pb.ParentContext(child_id=1, parent_id=2)])
    del ref
    return path


#: Links on which ml_metadata 1.17.1 aborts the process reading a context's links (measured,
#: each in a child: SIGABRT, "Check failed: absl::SimpleAtoi(record.values(position), &id)"
#: for an end that is no int64; 276 values of the six columns, the verdicts of the check
#: equal): nothing refused them before the read, so a merge (or an import into Neo4j) had
#: written every node and event when the reading child died. (table, column, value, what the
#: refusal says after "the MLMD context 1: one of its ")
ABORTING_LINKS = {
    "attribution's artifact_id text": (
        "Attribution",
        "artifact_id",
        "x",
        "attributions has an artifact_id that is no int64 ('x')",
    ),
    "association's execution_id 2.5": (
        "Association",
        "execution_id",
        2.5,
        "associations has an execution_id that is no int64 ('2.5')",
    ),
    "parent link's parent_context_id past int64": (
        "ParentContext",
        "parent_context_id",
        "9223372036854775808",
        "parent links has a parent_context_id that is no int64 ('9.22337203685478e+18')",
    ),
}


@pytest.mark.parametrize("merge", [False, True], ids=["empty target", "merge"])
@pytest.mark.parametrize("link", list(ABORTING_LINKS))
def test_every_link_ml_metadata_aborts_on_is_refused_before_any_write(
    tmp_path: Path, link: str, merge: bool
) -> None:
    table, column, value, what = ABORTING_LINKS[link]
    path = _linked_mlmd_file(tmp_path)
    with sqlite3.connect(path) as db:
        assert db.execute(f"UPDATE {table} SET {column} = ?", (value,)).rowcount == 1
    target = tmp_path / "store"
    before = None
    if merge:
        with LineageStore.open(target) as store:
            store.put_artifact_type(ArtifactType(name="Own"))
            before = snapshot(store)
    message = _refused_in_a_child(tmp_path, path, *(["--merge"] if merge else []))
    said = f"the MLMD context 1: one of its {what}, on which ml_metadata aborts the process"
    assert said in message, message
    assert "nothing was imported" in message and "died reading it" not in message
    if merge:
        with LineageStore.open(target) as store:
            assert snapshot(store) == before
    else:
        assert not target.exists()


def test_links_ml_metadata_reads_are_not_refused(tmp_path: Path, store: LineageStore) -> None:
    """Links ml_metadata 1.17.1 reads (an end in a blob's text, with spaces or a NUL after it:
    it reads a column's text up to its first NUL), or never reads (of a context the store does
    not hold, or whose context_id is no integer: it reads a context's links by its id), are
    imported as it reads them, not refused as damaged."""
    from ml_metadata.metadata_store import metadata_store

    path = _linked_mlmd_file(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE Attribution SET artifact_id = x'203220'")  # ' 2 ': artifact 2
        db.execute("UPDATE Association SET execution_id = x'3100'")  # '1\0': execution 1
        db.execute("UPDATE ParentContext SET parent_context_id = x'32'")
        db.executemany(
            "INSERT INTO Attribution (context_id, artifact_id) VALUES (?, ?)",
            [(999, "x"), ("x", "x"), (b"1", 2.5)],
        )
        db.execute("INSERT INTO ParentContext (context_id, parent_context_id) VALUES (3, 'x')")
        # the events of artifacts and executions the store does not hold are not read either
        db.execute(
            "INSERT INTO Event (artifact_id, execution_id, type, milliseconds_since_epoch) "
            "VALUES (998, 999, 3, 1)"
        )
        db.execute(
            "INSERT INTO EventPath (event_id, is_index_step, step_index) "
            "VALUES (last_insert_rowid(), 'x', 'x')"
        )
        # and a held node's state in a blob followed by a NUL is read as what precedes it
        db.execute("UPDATE Artifact SET state = x'3300' WHERE id = 2")
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    theirs = metadata_store.MetadataStore(config)
    assert [a.id for a in theirs.get_artifacts_by_context(1)] == [2]
    assert [e.id for e in theirs.get_executions_by_context(1)] == [1]
    assert [c.id for c in theirs.get_parent_contexts_by_context(1)] == [2]
    assert theirs.get_artifacts_by_id([2])[0].state == pb.Artifact.MARKED_FOR_DELETION
    report = import_mlmd(path, store)
    assert (report.attributions, report.associations, report.parent_contexts) == (1, 1, 1)
    assert [a.id for a in store.get_artifacts_by_context(1)] == [2]
    assert [e.id for e in store.get_executions_by_context(1)] == [1]
    assert [c.id for c in store.get_parent_contexts_by_context(1)] == [2]
    assert store.get_artifacts_by_id([2])[0].state.name == "MARKED_FOR_DELETION"


def test_a_path_step_names_its_event_by_the_ids_ml_metadata_reads(tmp_path: Path) -> None:
    """An aborting step of an event whose artifact_id is a blob ml_metadata reads as 1: the
    refusal named "artifact b' 1'" (the raw value), as no other refusal names a node."""
    path = _mlmd_file(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE Event SET artifact_id = x'2031'")
        db.execute("INSERT INTO EventPath (event_id, is_index_step) VALUES (1, 'x')")
    message = _refused_in_a_child(tmp_path, path)
    assert "the MLMD event of artifact 1 and execution 1: a step of its path is marked" in message


@pytest.mark.parametrize("merge", [False, True])
def test_a_ctrl_c_as_the_claim_is_released_keeps_the_error_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge: bool
) -> None:
    """An import refused (an event of a type the store cannot hold) and a Ctrl-C as its claim
    on the MLMD store was then released: the KeyboardInterrupt replaced the refusal (the CLI:
    "interrupted", exit 130, the node at fault never named). The refusal is kept."""
    from lineage_graph.mlmd import _importer

    path = _changed(tmp_path, "UPDATE Event SET type = 99 WHERE id = 1")
    target = tmp_path / "store"
    if merge:
        with LineageStore.open(target) as store:
            store.put_artifact_type(ArtifactType(name="Own"))
    release = _importer._Claim.release

    def ctrl_c(self: Any) -> None:
        release(self)
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(_importer._Claim, "release", ctrl_c)
        with LineageStore.open(target) as store, pytest.raises(InvalidArgumentError) as caught:
            try:
                import_mlmd(path, store, merge=merge)
            except KeyboardInterrupt:
                pytest.fail("the Ctrl-C as the claim was released replaced the refusal")
        assert "the MLMD event of artifact 1 and execution 1" in str(caught.value)
        args = ["import-mlmd", str(path), "--store", str(target)] + (["--merge"] if merge else [])
        result = _cli(*args)
    message = " ".join(result.stderr.split())
    assert "the MLMD event of artifact 1 and execution 1 cannot be imported" in message, message
    assert "interrupted" not in message.lower(), message
    unpatched = _cli(*args)  # the claim was released: the same refusal, as without the Ctrl-C
    assert (result.exit_code, result.stderr) == (unpatched.exit_code, unpatched.stderr)
    assert result.exit_code == 5, result.output


def _reader_children() -> list[int]:
    """This process's children reading an MLMD store for an import (lineage_graph.mlmd._reader)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rpartition(b")")[2].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and b"lineage_graph.mlmd._reader" in command:
            found.append(int(entry))
    return found


@pytest.mark.parametrize("merge", [False, True])
def test_ml_metadata_dying_as_it_reads_is_a_typed_error_and_the_store_closes(
    tmp_path: Path, merge: bool
) -> None:
    """ml_metadata aborting the process as it reads (a C++ CHECK failure on a row: SIGABRT)
    ended the importing process: the CLI said "Check failure stack trace" alone and its store's
    embedded server was left running. It reads in a child process now: its death (here a
    SIGABRT sent as the import writes, before it reads the links) is FailedPreconditionError
    saying so, and the store, as it was (a staged import) or holding whole batches (a merge),
    closes as after any error: its server stopped."""
    import signal

    from .test_import import write_mlmd_sqlite

    path = tmp_path / "mlmd.sqlite"
    write_mlmd_sqlite(path)
    target = tmp_path / "store"
    killed: list[int] = []

    def abort_the_reader(stage: str, done: int, total: int) -> None:
        if not killed:
            killed.extend(_reader_children())
            assert killed, "no child process reads the MLMD store"
            for pid in killed:
                os.kill(pid, signal.SIGABRT)

    with LineageStore.open(target) as store:
        if merge:
            store.put_artifact_type(ArtifactType(name="Own"))
        before = snapshot(store)
        with pytest.raises(FailedPreconditionError) as caught:
            import_mlmd(path, store, progress=abort_the_reader, merge=merge)
        assert "ml_metadata died reading it (killed by SIGABRT" in str(caught.value)
        if not merge:
            assert snapshot(store) == before
        server = store.backend.describe().get("pid")
    assert not _reader_children()
    if server:  # (the embedded engine) stopped by the close
        try:
            cwd = os.readlink(f"/proc/{server}/cwd")
        except OSError:
            cwd = ""
        assert not cwd.startswith(str(target))


#: A ``sitecustomize`` that makes ml_metadata abort the reading child (lineage_graph.mlmd._reader
#: only) as it reads the executions, as a C++ CHECK failure does (SIGABRT, after a "Check
#: failed" line): for a death on a row no check before the read judges.
_ABORT_AS_IT_READS = """
import sys
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    import os
    from ml_metadata.metadata_store import metadata_store

    def _abort(*args, **kwargs):
        sys.stderr.write("F0000 Check failed: a row no check judges\\n")
        sys.stderr.flush()
        os.abort()

    metadata_store.MetadataStore.get_executions = _abort
"""


def test_the_cli_says_ml_metadata_died_and_leaves_no_server_running(tmp_path: Path) -> None:
    """ml_metadata aborting the reading process on a row no check before the read judges
    (SIGABRT as it reads the executions): the command died with "Check failure stack trace"
    alone (exit -6) and left its store's embedded server running. It now says ml_metadata died
    reading the MLMD store, exit 5, and its server is stopped."""
    path = _mlmd_file(tmp_path)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_ABORT_AS_IT_READS)
    message = _refused_in_a_child(tmp_path, path, pythonpath=hook)
    assert "ml_metadata died reading it (killed by SIGABRT: " in message, message
    assert "Check failed: a row no check judges" in message, message
    left = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.readlink(f"/proc/{entry}/cwd").startswith(str(tmp_path)):
                left.append(entry)
        except OSError:
            continue
    assert not left, "processes left running in the store's directory"


def _refused_in_a_child(
    tmp_path: Path, path: Path, *options: str, pythonpath: Path | None = None
) -> str:
    """``import-mlmd path`` run by the CLI in a process of its own (ml_metadata aborts the
    process on what these tests give it, were it read), ``pythonpath`` first on its path:
    exit 5, its message on one line."""
    import subprocess
    import sys

    env = {**os.environ, "HOME": str(tmp_path), "LINEAGE_GRAPH_STORE": str(tmp_path / "unused")}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(pythonpath), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    command = [sys.executable, "-m", "lineage_graph.cli", "import-mlmd", str(path)]
    result = subprocess.run(
        [*command, "--store", str(tmp_path / "store"), *options],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    message = " ".join(result.stderr.split())
    assert result.returncode == 5, message
    return message
