"""``import-mlmd`` from a real MySQL server (MariaDB): run where ``mariadbd`` is installed
(``apt-get install mariadb-server``), skipped elsewhere. The test starts its own server in a
temporary directory, on a loopback port and a unix socket, and stops it at the end."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._signals import SIGINT_AS_IN_A_TERMINAL

pytest.importorskip("ml_metadata")

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import Artifact, ArtifactType, FailedPreconditionError, LineageStore, NodeKind
from lineage_graph.mlmd import MetadataStore
from lineage_graph.mlmd._importer import import_mlmd

from .test_import import snapshot
from .test_import_hostile import _reader_children

SERVER = shutil.which("mariadbd") or (
    "/usr/sbin/mariadbd" if os.path.exists("/usr/sbin/mariadbd") else None
)
INSTALL = shutil.which("mariadb-install-db")
CLIENT = shutil.which("mariadb")
pytestmark = pytest.mark.skipif(
    not (SERVER and INSTALL and CLIENT), reason="no MariaDB server installed (mariadb-server)"
)

PASSWORD = "S3cr3t-pw"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mysql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A MariaDB server of this module's own: host, port, user and password."""
    assert SERVER and INSTALL and CLIENT
    root = tmp_path_factory.mktemp("mariadb")
    data, sock = root / "data", root / "sock"
    subprocess.run(
        [INSTALL, "--no-defaults", f"--datadir={data}", "--user=root"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            SERVER,
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--bind-address=127.0.0.1",
            f"--port={port}",
            f"--socket={sock}",
            f"--pid-file={root / 'pid'}",
            "--skip-name-resolve",
            f"--log-error={root / 'err.log'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            assert server.poll() is None, (root / "err.log").read_text()
            assert time.monotonic() < deadline, "MariaDB did not start within 60 s"
            time.sleep(0.1)
        subprocess.run(
            [
                CLIENT,
                f"--socket={sock}",
                "-uroot",
                "-e",
                f"CREATE USER 'u'@'%' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO 'u'@'%';"
                " FLUSH PRIVILEGES;",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield {"host": "127.0.0.1", "port": port, "user": "u", "password": PASSWORD}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def _config(mysql: dict[str, Any], database: str, **changes: Any) -> Any:
    config = pb.ConnectionConfig()
    for name, value in {**mysql, "database": database, **changes}.items():
        setattr(config.mysql, name, value)
    return config


def _databases(mysql: dict[str, Any]) -> list[str]:
    out = subprocess.run(
        [
            CLIENT,
            "-h127.0.0.1",
            f"-P{mysql['port']}",
            "-uu",
            f"-p{PASSWORD}",
            "-N",
            "-e",
            "SHOW DATABASES",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.split()


def test_a_mistyped_database_is_refused_not_made(mysql: dict[str, Any]) -> None:
    """ml_metadata makes a database it does not find: the import made a new empty MLMD
    database on the user's server and "succeeded" with nothing (exit 0)."""
    with LineageStore.open("memory") as store, pytest.raises(FailedPreconditionError) as caught:
        import_mlmd(_config(mysql, "typo_db"), store)
    assert "Unknown database 'typo_db'" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert "typo_db" not in _databases(mysql)


def test_a_refused_login_names_the_server_not_the_password(mysql: dict[str, Any]) -> None:
    with LineageStore.open("memory") as store, pytest.raises(FailedPreconditionError) as caught:
        import_mlmd(_config(mysql, "mlmd", password="wrong-pw"), store)
    message = str(caught.value)
    assert f"the MySQL server at 127.0.0.1:{mysql['port']} as user 'u'" in message, message
    assert "the server answers, but refused the connection" in message, message
    assert "wrong-pw" not in message


@pytest.mark.skipif(
    os.path.exists("/tmp/mysql.sock"), reason="a MySQL server's socket is at the default path"
)
def test_localhost_is_named_as_the_socket_the_client_tried(mysql: dict[str, Any]) -> None:
    """ml_metadata's client reaches the host "localhost" through its default unix socket, never
    by TCP: with the right user, password and database, and a server answering on the port, the
    import said "the server answers, but refused the connection (check the user, the password
    ...)", which sent the user looking at the right credentials (a server in a container, its
    port published on localhost, is the common case)."""
    metadata_store.MetadataStore(_config(mysql, "mlmd_local", skip_db_creation=False))
    with LineageStore.open("memory") as store, pytest.raises(FailedPreconditionError) as caught:
        import_mlmd(_config(mysql, "mlmd_local", host="localhost"), store)
    message = str(caught.value)
    assert "through its unix socket /tmp/mysql.sock, not by TCP" in message, message
    assert f"no such socket; a server answers by TCP on port {mysql['port']}" in message, message
    assert "name the host 127.0.0.1 to connect by TCP" in message, message
    assert "check the user, the password" not in message, message
    assert PASSWORD not in message


def test_links_keep_the_order_mysql_lists_them_in(mysql: dict[str, Any], tmp_path: Path) -> None:
    """Links written in random order over 260 artifacts and executions (three windows of 100
    linked nodes): every walk from an id range, and every listing by context or node, answers
    as the source does (windows one after the other differed on walks spanning two)."""
    rnd = random.Random(7)
    config = _config(mysql, "mlmd_links")
    source = metadata_store.MetadataStore(config)
    at = source.put_artifact_type(pb.ArtifactType(name="D"))
    et = source.put_execution_type(pb.ExecutionType(name="E"))
    ct = source.put_context_type(pb.ContextType(name="C"))
    aids = source.put_artifacts([pb.Artifact(type_id=at, uri=f"/a{i}") for i in range(260)])
    eids = source.put_executions([pb.Execution(type_id=et) for _ in range(260)])
    cids = source.put_contexts([pb.Context(type_id=ct, name=f"c{i}") for i in range(5)])
    attributions = [(a, c) for a in aids for c in cids if rnd.random() < 0.4]
    associations = [(e, c) for e in eids for c in cids if rnd.random() < 0.4]
    rnd.shuffle(attributions)
    rnd.shuffle(associations)
    for i in range(0, max(len(attributions), len(associations)), 37):
        source.put_attributions_and_associations(
            [pb.Attribution(artifact_id=a, context_id=c) for a, c in attributions[i : i + 37]],
            [pb.Association(execution_id=e, context_id=c) for e, c in associations[i : i + 37]],
        )
    ranges = [(lo, min(260, lo + rnd.randint(0, 99))) for lo in rnd.sample(range(1, 261), 12)]

    def reads(store: Any) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for lo, hi in ranges:
            for links, start in (
                ("attributions", "starting_artifacts"),
                ("associations", "starting_executions"),
            ):
                options = pb.LineageSubgraphQueryOptions(max_num_hops=2)
                getattr(options, start).filter_query = f"id >= {lo} AND id <= {hi}"
                graph = store.get_lineage_subgraph(options, [links])
                out[(lo, hi, links)] = [str(link) for link in getattr(graph, links)]
        for c in cids:
            out[("artifacts", c)] = [a.id for a in store.get_artifacts_by_context(c)]
            out[("executions", c)] = [e.id for e in store.get_executions_by_context(c)]
        return out

    with LineageStore.open(tmp_path / "store") as store:
        report = import_mlmd(config, store)
        assert (report.attributions, report.associations) == (
            len(attributions),
            len(associations),
        )
        want, got = reads(source), reads(MetadataStore(store))
    assert [k for k in want if want[k] != got[k]] == []


def test_a_row_ml_metadata_aborts_on_is_a_typed_error_and_the_store_closes(
    mysql: dict[str, Any], tmp_path: Path
) -> None:
    """A MySQL ``bool_value`` of 2 (its BOOLEAN column is a TINYINT): ml_metadata 1.17.1 aborts
    the whole process reading it (absl::SimpleAtob: "Check failure stack trace", exit -6, the
    store's embedded server left running; no check before the read sees a MySQL source). It
    reads in a child process: the import fails with FailedPreconditionError saying so."""
    config = _config(mysql, "mlmd_abort", skip_db_creation=False)
    source = metadata_store.MetadataStore(config)
    t = pb.ArtifactType(name="D")
    t.properties["b"] = pb.BOOLEAN
    at = source.put_artifact_type(t)
    artifact = pb.Artifact(type_id=at, uri="/a")
    artifact.properties["b"].bool_value = True
    source.put_artifacts([artifact])
    subprocess.run(
        [
            CLIENT,
            "-h127.0.0.1",
            f"-P{mysql['port']}",
            "-uu",
            f"-p{PASSWORD}",
            "mlmd_abort",
            "-e",
            "UPDATE ArtifactProperty SET bool_value = 2",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with LineageStore.open(tmp_path / "store") as store:
        with pytest.raises(FailedPreconditionError) as caught:
            import_mlmd(_config(mysql, "mlmd_abort"), store)
        assert store.count(NodeKind.ARTIFACT) == 0
    assert "ml_metadata died reading it (killed by SIGABRT: " in str(caught.value)
    assert "SimpleAtob" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def _mlmd_with_artifacts(mysql: dict[str, Any], database: str) -> Any:
    """A new MLMD database of 5 artifacts, written by ml_metadata: its config."""
    config = _config(mysql, database, skip_db_creation=False)
    source = metadata_store.MetadataStore(config)
    at = source.put_artifact_type(pb.ArtifactType(name="D"))
    source.put_artifacts([pb.Artifact(type_id=at, uri=f"/a{i}") for i in range(5)])
    return _config(mysql, database)


def _line_within(stream: Any, timeout_s: float) -> str:
    """The next line of ``stream`` (a pipe), awaited ``timeout_s`` at most ("" where it ends
    or none comes: the caller's assertion tells)."""
    ready, _, _ = select.select([stream], [], [], timeout_s)
    return stream.readline() if ready else ""


@contextlib.contextmanager
def _locked(mysql: dict[str, Any], database: str, table: str) -> Iterator[None]:
    """Another session (the ``mariadb`` client) holding ``LOCK TABLES table WRITE`` on
    ``database`` until the block ends: the client is then ended, which releases the lock."""
    assert CLIENT
    holder = subprocess.Popen(
        [
            CLIENT,
            "-h127.0.0.1",
            f"-P{mysql['port']}",
            "-uu",
            f"-p{PASSWORD}",
            "-N",
            "--unbuffered",
            database,
            "-e",
            f"LOCK TABLES {table} WRITE; SELECT 'locked'; SELECT SLEEP(600)",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        said = _line_within(holder.stdout, 60)
        assert said.strip() == "locked", said
        yield
    finally:
        holder.kill()
        holder.wait(timeout=60)
        assert holder.stdout is not None
        holder.stdout.close()


def _cli_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(tmp_path),
        "LINEAGE_GRAPH_STORE": str(tmp_path / "unused"),
        **settings,
    }


def _source_url(mysql: dict[str, Any], database: str) -> str:
    return f"mysql://u:{PASSWORD}@127.0.0.1:{mysql['port']}/{database}"


def test_a_read_waiting_on_a_locked_table_is_said_and_bounded(
    mysql: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table of the MLMD store locked by another session (LOCK TABLES ... WRITE): the import
    waited in MySQL, up to the server's lock_wait_timeout (a day on MariaDB), with no word,
    and deaf to Ctrl-C (ml_metadata opened the store in the importing process). A notice says
    the wait after LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S, and LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S
    bounds it: FailedPreconditionError (exit 5), the reading child killed, the target as it
    was (a merge into a store holding a node of its own)."""
    _mlmd_with_artifacts(mysql, "mlmd_locked")
    target = tmp_path / "store"
    with LineageStore.open(target) as store:
        store.put_artifact_type(ArtifactType(name="Own"))
        store.put_artifacts([Artifact(type="Own", uri="/own")])
        before = snapshot(store)
    env = _cli_env(
        tmp_path,
        LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S="1",
        LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S="3",
    )
    command = [sys.executable, "-m", "lineage_graph.cli", "import-mlmd"]
    with _locked(mysql, "mlmd_locked", "Artifact"):
        result = subprocess.run(
            [*command, _source_url(mysql, "mlmd_locked"), "--store", str(target), "--merge"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        told = " ".join(result.stderr.split())
        assert result.returncode == 5, told
        where = f"the MLMD store (the MySQL server at 127.0.0.1:{mysql['port']}, database"
        assert f"warning: {where} 'mlmd_locked') has not answered " in told, told
        assert re.search(r" for 1 s \(the reading process, pid \d+\): a table another ", told)
        assert "up to the server's lock_wait_timeout" in told, told
        assert "the import keeps waiting" in told, told
        assert "Ctrl-C stops it with nothing written" in told, told
        # (ml_metadata's opening reads every MLMD table: it waits there)
        assert "error: cannot open the MLMD store (the MySQL server at " in told, told
        assert "it has not answered its opening (ml_metadata reads its tables)" in told, told
        assert "within 3 s (LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S" in told, told
        assert told.endswith("the process reading it was killed, nothing was imported"), told
        assert PASSWORD not in told
        assert told.count("warning:") == 1, told

        # the library: the notice a SourceWaitWarning, the bound FailedPreconditionError
        from lineage_graph.mlmd._reader import SourceWaitWarning

        monkeypatch.setenv("LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S", "1")
        monkeypatch.setenv("LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S", "3")
        with (
            LineageStore.open(target) as store,
            pytest.warns(SourceWaitWarning, match="has not answered"),
            pytest.raises(FailedPreconditionError, match="within 3 s"),
        ):
            import_mlmd(_config(mysql, "mlmd_locked"), store, merge=True)
        assert not _reader_children()

        # Two imports in one process, under Python's default warning filter (which shows a
        # warning once per text and place): each reader says its wait. The second was silent.
        child = subprocess.run(
            [sys.executable, "-c", _TWO_IMPORTS, json.dumps(mysql), str(tmp_path / "twice")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
        assert child.returncode == 0, child.stderr[-3000:]
        assert child.stdout.split() == ["refused", "refused"], child.stdout
        assert child.stderr.count("SourceWaitWarning: the MLMD store") == 2, child.stderr
    with LineageStore.open(target) as store:
        assert snapshot(store) == before


#: Two imports of the locked store in one process, each bounded (LINEAGE_GRAPH_MLMD_*, set
#: here: 1 s to the notice, 3 s to the bound), under the default warning filters.
_TWO_IMPORTS = """
import json, os, sys
os.environ["LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S"] = "1"
os.environ["LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S"] = "3"
from ml_metadata.proto import metadata_store_pb2 as pb
from lineage_graph import FailedPreconditionError, LineageStore
from lineage_graph.mlmd._importer import import_mlmd

config = pb.ConnectionConfig()
for name, value in {**json.loads(sys.argv[1]), "database": "mlmd_locked"}.items():
    setattr(config.mysql, name, value)
with LineageStore.open(sys.argv[2]) as store:
    for _ in range(2):
        try:
            import_mlmd(config, store, merge=True)
        except FailedPreconditionError:
            print("refused", flush=True)
"""


def _waiting_importer(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """``import-mlmd`` (``command``) started on a locked store, once it has said it waits (its
    stderr's first line: the notice)."""
    importer = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=SIGINT_AS_IN_A_TERMINAL,
    )
    try:
        notice = _line_within(importer.stderr, 60)
        assert notice.startswith("warning: the MLMD store"), notice
    except BaseException:
        importer.kill()
        importer.communicate(timeout=60)
        raise
    return importer


def test_an_import_waiting_on_a_lock_goes_on_once_it_is_released(
    mysql: dict[str, Any], tmp_path: Path
) -> None:
    """No bound set (the default): the import said it waits, and once the other session
    releases its lock it completes as any import."""
    _mlmd_with_artifacts(mysql, "mlmd_released")
    env = _cli_env(tmp_path, LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S="1")
    env.pop("LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S", None)
    target = tmp_path / "store"
    command = [sys.executable, "-m", "lineage_graph.cli", "import-mlmd", "--json"]
    importer = None
    try:
        with _locked(mysql, "mlmd_released", "Artifact"):
            importer = _waiting_importer(
                [*command, _source_url(mysql, "mlmd_released"), "--store", str(target)], env
            )
            assert importer.poll() is None  # still waiting, as it said
        out, err = importer.communicate(timeout=120)
    finally:
        if importer is not None and importer.poll() is None:
            importer.kill()
            importer.wait(timeout=60)
    assert importer.returncode == 0, err
    assert '"artifacts": 5' in out, out
    with LineageStore.open(target) as store:
        assert sorted(a.uri or "" for a in store.get_artifacts()) == [f"/a{i}" for i in range(5)]


def test_ctrl_c_stops_an_import_waiting_on_a_lock(mysql: dict[str, Any], tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) as the import waits on a locked table, as its notice says: it was not
    heard until the lock was released (ml_metadata opened the store in the importing process,
    waiting in MySQL); the import stops at once (exit 130), the store as it was."""
    _mlmd_with_artifacts(mysql, "mlmd_interrupted")
    target = tmp_path / "store"
    with LineageStore.open(target) as store:
        store.put_artifact_type(ArtifactType(name="Own"))
        store.put_artifacts([Artifact(type="Own", uri="/own")])
        before = snapshot(store)
    env = _cli_env(tmp_path, LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S="1")
    env.pop("LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S", None)
    source = _source_url(mysql, "mlmd_interrupted")
    command = [sys.executable, "-m", "lineage_graph.cli", "import-mlmd", source, "--merge"]
    importer = None
    with _locked(mysql, "mlmd_interrupted", "Artifact"):
        try:
            importer = _waiting_importer([*command, "--store", str(target)], env)
            importer.send_signal(signal.SIGINT)
            _, err = importer.communicate(timeout=30)  # (the lock is still held)
        finally:
            if importer is not None and importer.poll() is None:
                importer.kill()
                importer.wait(timeout=60)
        assert importer.returncode == 130, err
        assert "interrupted" in err, err
    with LineageStore.open(target) as store:
        assert snapshot(store) == before


def test_an_import_answered_in_time_says_no_notice(mysql: dict[str, Any], tmp_path: Path) -> None:
    """Nothing locked: no notice, the import as ever (a bound set is not reached)."""
    _mlmd_with_artifacts(mysql, "mlmd_quick")
    env = _cli_env(
        tmp_path,
        LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S="5",
        LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S="60",
    )
    command = [sys.executable, "-m", "lineage_graph.cli", "import-mlmd"]
    result = subprocess.run(
        [*command, _source_url(mysql, "mlmd_quick"), "--store", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    assert "artifacts" in result.stdout
