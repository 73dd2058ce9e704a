"""What the commands say besides their answer: the library's warnings, and options that would
drop part of what the user asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph import Artifact, ArtifactType, LineageStore, NodeKind

from .conftest import Demo, cli_process, invoke

ROOT = Path(__file__).resolve().parents[2]


def _store_with_a_torn_write(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A store whose log ends in a write a crash cut short (its next opening warns), and the
    environment to run the CLI on it in a child process."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(3)])
    with next((path / "appendonly").glob("*.incr.aof")).open("ab") as log:
        log.write(b"*3\r\n$3\r\nSET\r\n$3\r\nke")  # cut in the middle of a command
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("LINEAGE_GRAPH_STORE", None)
    return path, env


def test_a_library_warning_is_said_as_a_message_not_as_python_source(tmp_path: Path) -> None:
    """A store whose log ends in a write a crash cut short opens with a warning. The commands
    printed it in Python's format: the path of the library's source file, ``RuntimeWarning``
    and a line of that source (``_warn_torn(workdir / _LOG_FILE, ...)``) under it. Now it is
    ``warning: …``, as every other message."""
    path, env = _store_with_a_torn_write(tmp_path)
    result = subprocess.run(  # a real stderr: in process, pytest records warnings
        [sys.executable, "-m", "lineage_graph.cli", "ls", "--json", "--store", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "warning: the append-only log of the store in" in result.stderr, result.stderr
    assert "cut short by a crash" in result.stderr
    for leak in ("RuntimeWarning", ".py:", "_warn_torn"):
        assert leak not in result.stderr, result.stderr
    assert "warning" not in result.stdout  # --json stays JSON


def test_a_warning_on_a_stderr_that_cannot_be_written_is_lost_not_the_answer(
    tmp_path: Path,
) -> None:
    """The same warning with stderr a pipe whose reader is gone: the failed write came out of
    the library's ``warnings.warn`` as a BrokenPipeError, and ``ls`` printed nothing, exit 141
    (Python's own showwarning drops a warning it cannot write). The answer is printed, exit 0."""
    path, env = _store_with_a_torn_write(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads stderr
    try:
        result = subprocess.run(
            [sys.executable, "-m", "lineage_graph.cli", "ls", "--json", "--store", str(path)],
            stdout=subprocess.PIPE,
            stderr=write_end,
            text=True,
            env=env,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stdout
    assert [a["uri"] for a in json.loads(result.stdout)] == ["/0", "/1", "/2"]


def test_impact_mark_given_twice_is_a_usage_error(demo: Demo) -> None:
    """``--mark`` took one value: ``impact 1 --mark a=1 --mark b=2`` set ``b`` on every
    affected artifact and dropped ``a`` without a word (exit 0). It is exit 2 now, and nothing
    is marked."""
    before = demo.json("show", "2")
    result = demo.cli("impact", "1", "--mark", "a=1", "--mark", "b=2")
    assert result.exit_code == 2, result.output
    assert "--mark is given 2 times" in result.stderr
    assert result.stdout == ""
    assert demo.json("show", "2") == before


def test_a_store_named_by_a_file_is_said_to_be_a_file(tmp_path: Path) -> None:
    """``--store notes.txt`` (a file) was "no store at notes.txt (a mistyped path? …)",
    sending the user to look for a typo in a path that exists. Exit 4 still, and the file is
    left as it was."""
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    result = invoke(["ls", "--store", str(file)])
    assert result.exit_code == 4, result.output
    said = " ".join(result.stderr.split())
    assert f"no store at {file}: it is a file, not a store's directory" in said, said
    assert file.read_text() == "mine\n"


def test_a_written_file_is_said_on_stderr_by_every_command(demo: Demo, tmp_path: Path) -> None:
    """``view`` said "viewer page written to PATH" on stdout, ``export -f html`` (and ``export
    -o``, ``stats --plot``) on stderr: a message is no answer, stdout stays empty."""
    for command in (
        ["view", "5", "--no-open", "-o", str(tmp_path / "v.html")],
        ["export", "5", "-f", "html", "-o", str(tmp_path / "e.html")],
    ):
        result = demo.cli(*command)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert "viewer page written to" in result.stderr


def test_an_empty_output_path_is_said_to_be_empty(demo: Demo) -> None:
    """``export 5 -o ''`` said "cannot write .: is a directory" (typer read '' as the path
    ``.``): the path given is empty."""
    for command in (["export", "5"], ["export", "5", "-f", "html"], ["view", "5", "--no-open"]):
        result = demo.cli(*command, "-o", "")
        assert result.exit_code == 2, result.output
        assert "-o is empty" in result.stderr and "is a directory" not in result.stderr
        assert result.stdout == ""


def test_compare_of_two_types_speaks_of_the_command(demo: Demo) -> None:
    """``compare 1 5`` said "compare() takes two artifacts of one type", the Python API's name."""
    result = demo.cli("compare", "1", "5")
    assert result.exit_code == 5, result.output
    assert "compare() " not in result.stderr
    assert "compare takes two artifacts of one type: 'DataSet' and 'Model'" in (
        " ".join(result.stderr.split())
    )


def test_import_into_a_store_with_data_names_the_option(demo: Demo, tmp_path: Path) -> None:
    """Into a store that holds data, ``import-mlmd`` said to pass "--merge (merge=True)", the
    Python API's argument beside the option; nothing is imported."""
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "src.sqlite")
    metadata_store.MetadataStore(config)
    before = demo.store.count(NodeKind.ARTIFACT)
    result = demo.cli("import-mlmd", str(tmp_path / "src.sqlite"))
    assert result.exit_code == 5, result.output
    assert "merge=True" not in result.stderr
    assert "add --merge" in " ".join(result.stderr.split())
    assert demo.store.count(NodeKind.ARTIFACT) == before


def test_a_connection_config_that_cannot_be_read_is_not_quoted(tmp_path: Path) -> None:
    """A ``.pbtxt`` ConnectionConfig whose password is written unquoted
    (``password: S3cr3tPW``) ended "cannot read the ConnectionConfig c.pbtxt: 4:13 : '
    password: S3cr3tPW': Expected string but found: 'S3cr3tPW'": the parser's message quotes
    the line and the token. It says where the file is wrong, not what it holds there."""
    pytest.importorskip("ml_metadata")
    config = tmp_path / "c.pbtxt"
    config.write_text('mysql {\n  host: "h"\n  password: S3cr3tPW\n  database: "d"\n}\n')
    result = invoke(["import-mlmd", str(config), "--store", str(tmp_path / "store")])
    assert result.exit_code == 5, result.output  # InvalidArgumentError, as before
    assert "S3cr3tPW" not in result.output, result.output
    assert "line 3, column 13" in " ".join(result.stderr.split()), result.stderr
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("Trainer/nightly", "'Trainer' is an execution type (e:Trainer/nightly)"),
        ("e:Model/churn-C1.0", "'Model' is an artifact type (a:Model/churn-C1.0)"),
        ("Pipeline/churn-pipeline", "'Pipeline' is a context type (c:Pipeline/churn-pipeline)"),
        ("model/churn-C1.0", "type names are case-sensitive (Model/churn-C1.0)"),
        ("pipeline/churn-pipeline", "case-sensitive (c:Pipeline/churn-pipeline)"),
        ("Modle/churn-C1.0", "this store has no artifact type 'Modle'"),
    ],
)
def test_a_type_name_typo_in_a_reference_is_said(demo: Demo, ref: str, says: str) -> None:
    """``show Trainer/nightly`` (a bare ``Type/name`` is an artifact's) said "no artifact of type
    'Trainer' named 'nightly'", as if the name were wrong, not the kind; ``model/…`` and
    ``Modle/…`` likewise hid that no such type exists. The exit code stays 3."""
    for command in (["show", ref], ["upstream", ref]):
        result = demo.cli(*command)
        assert result.exit_code == 3, result.output
        assert says in " ".join(result.stderr.split()), result.stderr


def test_a_reference_of_an_existing_type_says_only_the_name_is_missing(demo: Demo) -> None:
    result = demo.cli("show", "Model/churn-c1.0")
    assert result.exit_code == 3, result.output
    assert result.stderr.strip() == "error: no artifact of type 'Model' named 'churn-c1.0'"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (b'mysql { host: "127.0.0.1" port: 1 }', "exactly one of host or socket, and a database"),
        (b'mysql { database: "d" password: "S3c" }', "exactly one of host or socket"),
        (b'mysql { host: "h" socket: "/s" database: "d" }', "exactly one of host or socket"),
        (b'\xff\xfe mysql { password: "S3c" }', "it is no UTF-8 text (byte 0)"),
    ],
    ids=["no-database", "no-host", "host-and-socket", "not-utf8"],
)
def test_a_connection_config_mlmd_cannot_use_is_refused(
    tmp_path: Path, text: bytes, said: str
) -> None:
    """A ``.pbtxt`` ConnectionConfig whose mysql lacks a database or a host (or names a
    socket too): MLMD's CHECK aborted the process (SIGABRT, exit 134, a C++ stack trace); one
    that is no UTF-8 text was "an unexpected error" and a Python traceback (exit 70). Exit 5
    now, saying what is wrong, nothing written. (A subprocess: the abort ended the runner.)"""
    pytest.importorskip("ml_metadata")
    config = tmp_path / "c.pbtxt"
    config.write_bytes(text)
    command = ["import-mlmd", str(config), "--store", str(tmp_path / "store")]
    result = cli_process(command)
    assert result.returncode == 5, result.stderr
    assert said in " ".join(result.stderr.split()), result.stderr
    assert "S3c" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["cached", "Trainer", "-i", "Trainer/x"], "'Trainer' is an execution type (-i takes an"),
        (["compare", "Pipeline/x", "1"], "'Pipeline' is a context type (compare takes two"),
        (["cached", "Trainer", "-i", "pipeline/x"], "this store has no artifact type 'pipeline'"),
        (["cached", "Trainer", "-i", "dataSet/x"], "type names are case-sensitive (DataSet/x)"),
    ],
)
def test_an_artifact_only_option_never_suggests_another_kind(
    demo: Demo, args: list[str], says: str
) -> None:
    """``cached Trainer -i Trainer/x`` said ``(e:Trainer/x)``, a form ``-i`` then refuses ("-i
    takes an artifact"); ``-i pipeline/x`` pointed to the context type ``'Pipeline'``."""
    result = demo.cli(*args)
    assert result.exit_code == 3, result.output
    said = " ".join(result.stderr.split())
    assert says in said, said
    assert "e:" not in said and "c:" not in said, said


def test_a_type_of_two_kinds_says_where_the_name_is(tmp_path: Path) -> None:
    """``Trainer`` an artifact type and an execution type: ``show Trainer/nightly`` (the
    execution) said only "no artifact of type 'Trainer' named 'nightly'"."""
    store = tmp_path / "store"
    with LineageStore.open(store) as s, s.run("Trainer", name="nightly") as run:
        run.output(Artifact(type="Trainer", uri="s3://b/w", name="weights"))
    for args, says in (
        (["show", "Trainer/nightly"], "an execution Trainer/nightly exists (e:Trainer/nightly)"),
        (["cached", "Trainer", "-i", "Trainer/nightly"], "exists (-i takes an artifact)"),
        (["show", "trainer/nightly"], "case-sensitive (Trainer/nightly, e:Trainer/nightly)"),
    ):
        result = invoke([*args, "--store", str(store)])
        assert result.exit_code == 3, result.output
        assert says in " ".join(result.stderr.split()), result.stderr
