"""A store path whose bytes are no UTF-8 (``--store $'/tmp/\\xff'``: Python reads the byte as the
lone surrogate U+DCFF) in ``doctor``, through the real CLI on the embedded engine: ``--json``
wrote ``"\\udcff"``, an escape of no character (strict JSON readers refuse it), the table
``\\udcff``; now the table and the details quote the byte as every message does, ``\\xff``, and
``--json``'s ``store`` is the ``file://`` URI of the path, its bytes percent-encoded."""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage_graph import LineageStore

from .conftest import invoke

BYTE_NAME = os.fsdecode(b"st\xffre")


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def test_doctor_json_names_a_non_utf8_store_path_by_its_file_uri(tmp_path: Path) -> None:
    path = tmp_path / BYTE_NAME
    with LineageStore.open(path):
        pass
    result = invoke(["doctor", "--json", "--store", str(path)])
    assert result.exit_code == 0, result.output[-800:]
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    uri = report["store"]
    assert uri.startswith("file:///") and "%FF" in uri
    assert urllib.parse.unquote_to_bytes(urllib.parse.urlsplit(uri).path) == os.fsencode(path)
    details = {c["check"]: c["detail"] for c in report["checks"]}
    assert details["data directory"].startswith(f"{tmp_path!s}/st\\xffre")
    table = invoke(["doctor", "--store", str(path)])
    assert table.exit_code == 0, table.output[-800:]
    assert "st\\xffre" in table.stdout and "\\udcff" not in table.stdout


def test_doctor_json_percent_encodes_a_urls_non_utf8_bytes() -> None:
    result = invoke(["doctor", "--json", "--store", os.fsdecode(b"redis://h\xff:1")])
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    assert report["store"] == "redis://h%FF:1"


def test_doctor_json_names_a_missing_non_utf8_directory_so_too(tmp_path: Path) -> None:
    (tmp_path / BYTE_NAME).mkdir()
    (tmp_path / BYTE_NAME / "other").write_text("x")
    result = invoke(["doctor", "--json", "--store", str(tmp_path / BYTE_NAME)])
    assert result.exit_code == 1, result.output[-800:]
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    assert report["store"].endswith("/st%FFre")


def test_demo_next_commands_name_a_non_utf8_dir_as_a_shell_reads_it(tmp_path: Path) -> None:
    """The "next, try" panel quoted ``--dir $'d\\xff'`` with ``shlex.quote`` as
    ``'d\\udcff/store'``, which a shell reads as another directory (and its border stood out
    of line); it is bash's ``$'…'`` now, the byte as ``\\xff``, which pastes to the store."""
    import re
    import subprocess

    workdir = tmp_path / BYTE_NAME
    result = invoke(["demo", "--dir", str(workdir)])
    assert result.exit_code == 0, result.output[-800:]
    lines = [line for line in result.stdout.splitlines() if "lineage-graph upstream" in line]
    assert lines, result.stdout[-800:]
    word = re.search(r"--store (\$'[^']*')", lines[0])
    assert word is not None, lines[0]
    assert "\\xff" in word.group(1) and "\\udcff" not in result.stdout
    shell = subprocess.run(
        ["bash", "-c", f"printf %s {word.group(1)}"], capture_output=True, timeout=30, check=True
    )
    assert shell.stdout == os.fsencode(workdir / "store")


@pytest.mark.parametrize(
    "target",
    [b"neo4j:s3cret@h\xff:1", b"d\xff/password=s3cret"],
    ids=["a URL whose // was forgotten", "a directory named like a secret"],
)
def test_doctor_json_keeps_a_masked_password_masked_beside_a_non_utf8_byte(
    tmp_path: Path, target: bytes
) -> None:
    """``--json``'s ``store`` of a target with a byte that is no UTF-8 was the ``file://`` URI of
    the target as given, a password every other output masks included
    (``file:///…/neo4j%3As3cret%40h%FF%3A1``): it is the masked text, that byte
    percent-encoded."""
    if not target.startswith(b"neo4j:"):
        target = os.fsencode(tmp_path) + b"/" + target
    result = invoke(["doctor", "--json", "--store", os.fsdecode(target)])
    assert result.exit_code == 1, result.output[-800:]
    assert "s3cret" not in result.stdout and "s3cret" not in result.stderr
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    assert "***" in report["store"] and "%FF" in report["store"], report["store"]


@pytest.mark.parametrize(
    ("name", "charset"),
    [("zw\u200bsp", "utf-8"), ("donn\u00e9es", "ascii")],
    ids=["an invisible character", "an accent on an ASCII stdout"],
)
def test_demo_next_commands_paste_to_the_store_in_a_c_locale_bash(
    tmp_path: Path, name: str, charset: str
) -> None:
    """The "next, try" panel wrote a character it escapes as bash's ``$'\\u200b'`` (and, on an
    ASCII stdout, ``é`` as ``$'\\u00e9'``), which bash reads in its locale's encoding: in the C
    locale, a container's default, it kept the six characters, another directory. Each is the
    path's own bytes now (``\\xe2\\x80\\x8b``), which bash reads alike in every locale."""
    import re
    import subprocess

    from typer.testing import CliRunner

    from lineage_graph.cli import app

    from .conftest import BASE_ENV

    workdir = tmp_path / name
    result = CliRunner(charset=charset).invoke(app, ["demo", "--dir", str(workdir)], env=BASE_ENV)
    assert result.exit_code == 0, result.output[-800:]
    lines = [line for line in result.stdout.splitlines() if "lineage-graph upstream" in line]
    assert lines, result.stdout[-800:]
    word = re.search(r"--store (\$'[^']*')", lines[0])
    assert word is not None, lines[0]
    for locale in ("C", "C.UTF-8"):
        shell = subprocess.run(
            ["bash", "-c", f"printf %s {word.group(1)}"],
            capture_output=True,
            timeout=30,
            check=True,
            env={"PATH": os.environ["PATH"], "LC_ALL": locale},
        )
        assert shell.stdout == os.fsencode(workdir / "store"), (locale, word.group(1))


def _json_of(args: list[str], nowhere: Path, **env: str) -> tuple[int, object]:
    """``lineage-graph ARGS`` in a process of its own (``env`` added; the default store, were
    none named, in ``nowhere``): its exit code and its stdout read as strict UTF-8 JSON holding
    no lone surrogate (what ``jq`` and strict readers take)."""
    import subprocess
    import sys

    full = {k: v for k, v in os.environ.items() if k != "LINEAGE_GRAPH_STORE"}
    full.update(PYTHONPATH=str(Path(__file__).resolve().parents[2]), COLUMNS="200")
    full.update(XDG_DATA_HOME=str(nowhere), **env)
    done = subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", *args],
        capture_output=True,
        env=full,
        timeout=120,
    )
    assert done.stdout, done.stderr.decode("utf-8", "replace")[-800:]
    value = json.loads(done.stdout.decode("utf-8"))
    assert not _has_lone_surrogate(value), value
    return done.returncode, value


def test_doctor_json_names_a_home_relative_non_utf8_store_by_its_home_path(
    tmp_path: Path,
) -> None:
    """``--store $'~/st\\xffre'`` is the store in the home (as every command opens it), but
    ``--json``'s ``store`` was ``file:///<working directory>/~/st%FFre``, another directory:
    the URI is of the directory opened, the ``~`` expanded."""
    home = tmp_path / "home"
    home.mkdir()
    with LineageStore.open(home / BYTE_NAME):
        pass
    code, report = _json_of(
        ["doctor", "--json", "--store", "~/" + BYTE_NAME], tmp_path / "xdg", HOME=str(home)
    )
    assert code == 0, report
    assert isinstance(report, dict)
    uri = urllib.parse.urlsplit(report["store"])
    assert uri.scheme == "file", report["store"]
    assert urllib.parse.unquote_to_bytes(uri.path) == os.fsencode(home / BYTE_NAME)


def test_doctor_json_names_a_default_store_in_a_non_utf8_data_home_by_its_file_uri(
    tmp_path: Path,
) -> None:
    """No store named, the default one in an ``XDG_DATA_HOME`` (here under ``tmp_path``) whose
    name is no UTF-8: ``--json``'s ``store`` was ``…/st%FFre/lineage-graph (embedded-dir)``,
    the message text with its bytes percent-encoded (a path holding a real ``%FF`` read the
    same): it is the ``file://`` URI of that directory, as for ``--store``."""
    data_home = tmp_path / BYTE_NAME
    data_home.mkdir()
    code, report = _json_of(["doctor", "--json"], data_home)
    assert code == 0, report
    assert isinstance(report, dict)
    uri = urllib.parse.urlsplit(report["store"])
    assert uri.scheme == "file", report["store"]
    path = urllib.parse.unquote_to_bytes(uri.path)
    assert path == os.fsencode(data_home / "lineage-graph")


def test_doctor_json_of_a_relative_non_utf8_path_in_a_removed_working_directory(
    tmp_path: Path,
) -> None:
    """``doctor --json --store $'st\\xffre'`` run in a working directory since removed: the
    ``file://`` URI of its absolute path asked for the working directory, whose FileNotFoundError
    ended ``doctor`` in a traceback (exit 70, no report); ``--store st`` reported. The report is
    written, ``store`` the path as given, its byte percent-encoded."""
    import shlex
    import subprocess
    import sys

    gone = tmp_path / "gone"
    gone.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "LINEAGE_GRAPH_STORE"}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[2]), XDG_DATA_HOME=str(tmp_path))
    command = [sys.executable, "-m", "lineage_graph.cli", "doctor", "--json", "--store"]
    script = f'cd {shlex.quote(str(gone))} && rmdir -- "$PWD" && exec {shlex.join(command)} "$1"'
    done = subprocess.run(
        [b"bash", b"-c", script.encode(), b"bash", os.fsencode(BYTE_NAME)],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr.decode("utf-8", "replace")[-800:]
    report = json.loads(done.stdout.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    assert report["store"] == "st%FFre"


@pytest.fixture(scope="module")
def byte_named_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo pipeline in a directory whose name is no UTF-8, its store kept open (each
    command's process finds its server running)."""
    from lineage_graph._demo import run_demo

    workdir = tmp_path_factory.mktemp("json") / BYTE_NAME
    workdir.mkdir()
    with LineageStore.open(workdir / "store") as store:
        run_demo(store, workdir)
        yield workdir


@pytest.mark.parametrize(
    "args",
    [
        ["ls"],
        ["ls", "types"],
        ["ls", "executions"],
        ["ls", "contexts"],
        ["show", "{data}/customers.csv"],
        ["upstream", "{models}"],
        ["downstream", "{data}/customers.csv"],
        ["impact", "{data}/customers.csv"],
        ["compare", "4", "5"],
        ["diff", "4", "5"],
        ["cached", "Trainer", "-i", "2", "-i", "3"],
        ["stats"],
        ["doctor"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_every_json_output_on_a_store_in_a_non_utf8_directory_is_strict_utf8(
    byte_named_demo: Path, args: list[str]
) -> None:
    """Of the ``--json`` outputs only ``doctor``'s ``store`` holds a path; every other one holds
    stored text, which the store refuses to hold a lone surrogate in (a uri ``file://…/st\\xffre``
    is stored percent-encoded, as ``Path.as_uri`` writes it), so each is strict UTF-8 JSON for
    a store, its files and the paths naming them in a directory whose name is no UTF-8."""
    models = next((byte_named_demo / "models").iterdir())
    filled = [
        a.format(data=byte_named_demo / "data", models=models) if "{" in a else a for a in args
    ]
    store = str(byte_named_demo / "store")
    nowhere = byte_named_demo.parent / "xdg"
    code, value = _json_of([*filled, "--json", "--store", store], nowhere)
    assert code in (0, 1), value  # cached's miss is 1
    code, value = _json_of([*filled, "--json"], nowhere, LINEAGE_GRAPH_STORE=store)
    assert code in (0, 1), value
    assert not nowhere.exists()  # the store named, never the default one


def test_export_json_of_a_store_in_a_non_utf8_directory_is_strict_utf8(
    byte_named_demo: Path,
) -> None:
    """``export``'s JSON (no ``--json``: its default format), on stdout and in an ``-o`` file
    whose name is no UTF-8, from a path reference there: strict UTF-8 JSON, no lone surrogate."""
    store = str(byte_named_demo / "store")
    nowhere = byte_named_demo.parent / "xdg"
    ref = str(byte_named_demo / "data" / "customers.csv")
    code, graph = _json_of(["export", ref, "--store", store], nowhere)
    assert code == 0, graph
    out = byte_named_demo.parent / f"g{BYTE_NAME}.json"
    code, _ = _json_of(["export", "-o", "-", "--store", store], nowhere)
    assert code == 0
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "LINEAGE_GRAPH_STORE"}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[2]), XDG_DATA_HOME=str(nowhere))
    done = subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", "export", "-o", str(out), "--store", store],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-800:]
    assert not _has_lone_surrogate(json.loads(out.read_bytes().decode("utf-8")))
    assert not nowhere.exists()


def test_import_mlmd_json_of_a_non_utf8_source_path_is_strict_utf8(tmp_path: Path) -> None:
    """``import-mlmd $'…/st\\xffre/m.db' --json``: its report holds counts only (not the
    source's path), strict UTF-8 JSON; the store made in that directory too."""
    pytest.importorskip("ml_metadata")
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    made = tmp_path / "made"
    made.mkdir()
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(made / "m.db")  # ml_metadata takes UTF-8 paths only
    source = metadata_store.MetadataStore(config)
    type_id = source.put_artifact_type(metadata_store_pb2.ArtifactType(name="DataSet"))
    source.put_artifacts([metadata_store_pb2.Artifact(type_id=type_id, uri="s3://b/x")])
    del source
    directory = tmp_path / BYTE_NAME
    made.rename(directory)
    code, report = _json_of(
        ["import-mlmd", str(directory / "m.db"), "--json", "--store", str(directory / "s")],
        tmp_path / "xdg",
    )
    assert code == 0, report
    assert isinstance(report, dict) and report["artifacts"] == 1, report
