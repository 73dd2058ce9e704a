"""What ``import-mlmd`` prints."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import invoke


def _mlmd_store(path: Path) -> Path:
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    metadata_store.MetadataStore(config)
    return path


def test_the_source_path_is_shown_as_it_is(tmp_path: Path) -> None:
    """The table title quotes the source path: it went through rich markup as is, so
    ``x[red]y.sqlite`` showed as ``xy.sqlite`` and an ESC in the file name reached the
    terminal."""
    source = _mlmd_store(tmp_path / "x[red]y\x1b[2J.sqlite")
    result = invoke(["import-mlmd", str(source), "-s", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout, repr(result.stdout)
    assert "x[red]y\\x1b[2J" in "".join(result.stdout.split()), result.stdout


def test_json_is_never_coloured(tmp_path: Path) -> None:
    """``--json`` went through rich's print_json: with FORCE_COLOR=1 (set by many CI systems)
    stdout held ANSI colour codes, no JSON."""
    source = _mlmd_store(tmp_path / "src.sqlite")
    result = invoke(
        ["import-mlmd", str(source), "-s", str(tmp_path / "s"), "--json"],
        env={"FORCE_COLOR": "1", "NO_COLOR": None},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ids_preserved"] is True, repr(result.stdout)


@pytest.mark.parametrize(
    "source",
    ["src.sqlite", "mysql://u@localhost/db", "config.pbtxt"],
    ids=["sqlite", "mysql", "pbtxt"],
)
def test_without_the_mlmd_extra_it_says_what_to_install(tmp_path: Path, source: str) -> None:
    """Without ml-metadata (``pip install lineage-graph`` alone), ``import-mlmd`` died with a
    two-screen rich traceback of the ImportError, exit 1 ("the answer is no"), where ``stats
    --plot`` without matplotlib says what to install (exit 5). A real interpreter in which
    ``ml_metadata`` cannot be imported, as on such a machine."""
    (tmp_path / "src.sqlite").write_bytes(b"")
    (tmp_path / "config.pbtxt").write_text('sqlite { filename_uri: "src.sqlite" }')
    code = (
        "import sys; sys.modules['ml_metadata'] = None\n"
        "from lineage_graph.cli import main\n"
        "sys.argv = ['lineage-graph', *sys.argv[1:]]\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_URI", "LINEAGE_GRAPH_STORE")}
    env.update(COLUMNS="200", NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-c", code, "import-mlmd", source, "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr and "╭" not in done.stderr, done.stderr
    assert "pip install 'lineage-graph[mlmd]'" in done.stderr, done.stderr
    assert not (tmp_path / "s").exists()  # no store made


def test_a_file_that_is_no_mlmd_database_is_said_so_not_dumped_as_sql(tmp_path: Path) -> None:
    """An empty file, a text file or a SQLite database of something else was refused with
    ml_metadata's own failure: "attempt to write a readonly database query: CREATE TABLE IF
    NOT EXISTS `Type` (...)", ten lines of MLMD's schema and no word that the file is simply
    not an MLMD database. Refused the same way (exit 5, nothing created, the file untouched),
    it now says what the file is."""
    pytest.importorskip("ml_metadata")
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    (tmp_path / "text.db").write_text("hello\n")
    (tmp_path / "empty.db").write_bytes(b"")
    for name, says in (
        ("empty.db", "is empty"),
        ("text.db", "not a SQLite database"),
        ("other.db", "holds none of MLMD's tables"),
    ):
        source = tmp_path / name
        before = source.read_bytes()
        result = invoke(["import-mlmd", str(source), "-s", str(tmp_path / "s")])
        said = " ".join(result.stderr.split())
        assert result.exit_code == 5, (name, result.output)
        assert "is not an MLMD database" in said and says in said, (name, said)
        assert "CREATE TABLE" not in said, (name, said)
        assert source.read_bytes() == before and not (tmp_path / "s").exists()
    real = _mlmd_store(tmp_path / "real.sqlite")  # an MLMD database: imported as before
    assert invoke(["import-mlmd", str(real), "-s", str(tmp_path / "s")]).exit_code == 0


def test_a_source_whose_name_is_not_utf8_is_imported(tmp_path: Path) -> None:
    """``import-mlmd $'x\\xff.db'``: the path (lone surrogates, as ``os.fsdecode`` reads the
    name) went into ``ConnectionConfig.sqlite.filename_uri``, a proto string, and died with an
    untyped ``UnicodeEncodeError`` traceback (exit 1), for an MLMD file and a file that is none
    alike. It is opened by a ``file:`` URI escaping its bytes."""
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    made = _mlmd_store(tmp_path / "made.sqlite")
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(made)
    mlmd = metadata_store.MetadataStore(config)
    type_id = mlmd.put_artifact_type(pb.ArtifactType(name="DataSet"))
    mlmd.put_artifacts([pb.Artifact(type_id=type_id, uri="/data")])
    del mlmd
    source = os.fsdecode(os.fsencode(tmp_path) + b"/x\xff.db")
    os.rename(made, source)
    target = str(tmp_path / "s")
    result = invoke(["import-mlmd", source, "-s", target, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["artifacts"] == 1
    result = invoke(["ls", "artifacts", "-s", target, "--json"])
    assert [a["uri"] for a in json.loads(result.stdout)] == ["/data"], result.output
    # the same file merged again: the same source (its copy is updated, not duplicated)
    again = invoke(["import-mlmd", source, "-s", target, "--merge", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["unchanged"] == 1, again.stdout
    result = invoke(["ls", "artifacts", "-s", target, "--json"])
    assert [a["uri"] for a in json.loads(result.stdout)] == ["/data"], result.output
    empty = os.fsdecode(os.fsencode(tmp_path) + b"/e\xff.db")
    Path(empty).write_bytes(b"")
    result = invoke(["import-mlmd", empty, "-s", str(tmp_path / "t")])
    assert result.exit_code == 5, result.output
    assert "the file is empty" in " ".join(result.stderr.split())
    assert not (tmp_path / "t").exists()


def _mlmd_with_lineage(path: Path) -> Path:
    """An MLMD SQLite file with a type of each kind, two artifacts, an execution reading one
    and writing the other, and a context holding all three."""
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    mlmd = metadata_store.MetadataStore(config)
    data = mlmd.put_artifact_type(pb.ArtifactType(name="Data"))
    step = mlmd.put_execution_type(pb.ExecutionType(name="Step"))
    run = mlmd.put_context_type(pb.ContextType(name="Run"))
    a, b = mlmd.put_artifacts([pb.Artifact(type_id=data, uri="/a"), pb.Artifact(type_id=data)])
    [e] = mlmd.put_executions([pb.Execution(type_id=step)])
    mlmd.put_events(
        [
            pb.Event(artifact_id=a, execution_id=e, type=pb.Event.INPUT),
            pb.Event(artifact_id=b, execution_id=e, type=pb.Event.OUTPUT),
        ]
    )
    [c] = mlmd.put_contexts([pb.Context(type_id=run, name="r1")])
    mlmd.put_attributions_and_associations(
        [pb.Attribution(artifact_id=a, context_id=c), pb.Attribution(artifact_id=b, context_id=c)],
        [pb.Association(execution_id=e, context_id=c)],
    )
    del mlmd
    return path


def test_a_failed_import_leaves_no_store_in_the_directory_it_made(tmp_path: Path) -> None:
    """An import that failed ("nothing was imported", exit 5) into a directory that did not
    exist left an empty store there (appendonly/, dump.rdb, the lock): the next import into it
    then needed --merge. The directory the command made is removed again."""
    source = _mlmd_with_lineage(tmp_path / "m.sqlite")
    with sqlite3.connect(source) as db:  # an event naming an artifact MLMD does not hold
        db.execute("UPDATE Event SET artifact_id = 99")
    db.close()
    new = tmp_path / "new"
    result = invoke(["import-mlmd", str(source), "--store", str(new)])
    assert result.exit_code == 5, result.output
    assert "nothing was imported" in " ".join(result.output.split()), result.output
    assert not new.exists(), sorted(p.name for p in new.iterdir())


def test_a_failed_import_keeps_a_directory_it_did_not_make(tmp_path: Path) -> None:
    """Only a directory the command made is removed: an empty one the user made stays."""
    source = _mlmd_with_lineage(tmp_path / "m.sqlite")
    with sqlite3.connect(source) as db:
        db.execute("UPDATE Event SET artifact_id = 99")
    db.close()
    mine = tmp_path / "mine"
    mine.mkdir()
    result = invoke(["import-mlmd", str(source), "--store", str(mine)])
    assert result.exit_code == 5, result.output
    assert mine.is_dir()


def test_a_merge_run_again_says_nothing_changed(tmp_path: Path) -> None:
    """``--merge`` run again into a store holding that import changed nothing (``ls --json``
    the same) but said "updated 4" and counted every attribution and association as imported
    again. It now says the nodes are unchanged and the links skipped; a node changed in MLMD
    since is counted as updated."""
    source = _mlmd_with_lineage(tmp_path / "m.sqlite")
    target = str(tmp_path / "s")
    assert invoke(["import-mlmd", str(source), "-s", target]).exit_code == 0
    before = invoke(["ls", "-s", target, "--json"]).stdout
    again = invoke(["import-mlmd", str(source), "-s", target, "--merge", "--json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert invoke(["ls", "-s", target, "--json"]).stdout == before
    assert (report["updated"], report["unchanged"]) == (0, 4), report
    assert (report["events"], report["attributions"], report["associations"]) == (0, 0, 0)
    assert report["skipped_relations"] == 2 + 2 + 1, report
    with sqlite3.connect(source) as db:  # one artifact changed in MLMD
        db.execute("UPDATE Artifact SET uri = '/a2' WHERE uri = '/a'")
    db.close()
    third = invoke(["import-mlmd", str(source), "-s", target, "--merge", "--json"])
    assert third.exit_code == 0, third.output
    report = json.loads(third.stdout)
    assert (report["updated"], report["unchanged"]) == (1, 3), report
    uris = [
        a["uri"] for a in json.loads(invoke(["ls", "artifacts", "-s", target, "--json"]).stdout)
    ]
    assert "/a2" in uris and "/a" not in uris, uris


def test_merge_help_does_not_say_ids_are_always_remapped() -> None:
    """``--help`` said a merge remaps MLMD ids; a merge into a store holding that import keeps
    every id (and the report said so: "ids preserved")."""
    result = invoke(["import-mlmd", "--help"], env={"COLUMNS": "300"})
    text = " ".join(result.stdout.split())
    assert "MLMD ids are then remapped" not in text, text
    assert "updated in place" in text, text
