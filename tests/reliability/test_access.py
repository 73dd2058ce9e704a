"""Access (issue 7.6): nobody but the owner reaches the embedded server; secrets never show.

The embedded server listens on a unix socket in a 0700 directory and on no TCP port at all
(checked against the kernel's socket tables, not the configuration). Passwords are pydantic
``SecretStr``: they never appear in reprs, dumps, ``describe()``, error messages or log records.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    ConfigurationError,
    LineageGraphError,
    LineageStore,
)
from lineage_graph.backends import resolve_target
from lineage_graph.backends.embedded import EmbeddedBackend
from lineage_graph.config import EmbeddedSettings, Neo4jSettings

SECRET = "pw-7c1e-never-shown"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _inet_sockets(inodes: set[str]) -> list[str]:
    """The process's TCP/UDP sockets (any state), from the kernel's tables."""
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[9] in inodes:
                found.append(f"{table} {fields[1]} state {fields[3]}")
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("mode", ["directory", "memory"])
def test_the_embedded_server_has_no_network_socket(mode: str, tmp_path: Path) -> None:
    target = str(tmp_path / "s") if mode == "directory" else "memory"
    with LineageStore.open(target) as store:
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend) and backend.server is not None
        server = backend.server
        assert server.pid is not None and server.socket_path is not None
        inodes = _socket_inodes(server.pid)
        assert inodes, "the server should at least hold its unix socket"
        assert _inet_sockets(inodes) == []  # no TCP or UDP socket, listening or not
        # The socket lives in a private directory of this user; nobody else may even look in.
        sock_dir = server.socket_path.parent
        st = sock_dir.stat()
        assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()
        assert stat.S_ISSOCK(server.socket_path.stat().st_mode)
        assert stat.S_IMODE(server.socket_path.stat().st_mode) & 0o077 == 0
        if mode == "directory":
            data = tmp_path / "s"
            assert stat.S_IMODE(data.stat().st_mode) == 0o700
            for path in data.rglob("*"):
                try:
                    owner = path.stat().st_uid
                except FileNotFoundError:  # a temporary file of an AOF rewrite, renamed meanwhile
                    continue
                assert owner == os.geteuid()
        config = backend._db.connection.config_get("*")
        assert config["port"] == "0" and config["protected-mode"] == "yes"
        assert config["tls-port"] in ("0", "")


def test_a_data_directory_made_beforehand_gets_files_only_its_owner_reads(tmp_path: Path) -> None:
    """``mkdir store`` (0755 under the usual umask), then a store opened on it: the server made
    its append-only files, snapshot and log 0644 and its ``appendonly`` folder 0755, so any
    local user could read every stored name, uri and property. The folder itself is the
    user's to set; what the server writes in it is the owner's alone."""
    data = tmp_path / "store"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # whatever this process's umask
    with LineageStore.open(str(data)) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifact(Artifact(type="D", uri="s3://private/x"))
    made = {p: stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
    assert any(p.name.endswith(".aof") for p in made) and data / "server.log" in made
    server_made = {p: m for p, m in made.items() if p.name not in ("server.json",)}
    assert {str(p.relative_to(data)): oct(m) for p, m in server_made.items() if m & 0o077} == {}


def test_secrets_are_not_in_settings_reprs_or_dumps() -> None:
    for settings in (
        EmbeddedSettings(password=SECRET),
        Neo4jSettings(uri="neo4j+s://db.example.com", password=SECRET),
    ):
        for text in (repr(settings), str(settings), settings.model_dump_json()):
            assert SECRET not in text
        assert settings.password is not None and settings.password.get_secret_value() == SECRET


def test_secrets_from_the_environment_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_PASSWORD", SECRET)
    monkeypatch.setenv("NEO4J_URI", "bolt+ssc://127.0.0.1:7687")
    settings = Neo4jSettings()
    assert SECRET not in repr(settings)
    assert resolve_target(None) == ("neo4j", "bolt+ssc://127.0.0.1:7687")


@pytest.mark.parametrize(
    "uri",
    ["neo4j+s://db.example.com", "bolt+s://db.example.com:7687", "bolt+ssc://127.0.0.1:7687"],
)
def test_neo4j_tls_schemes_are_accepted_targets(uri: str) -> None:
    assert resolve_target(uri) == ("neo4j", uri)


def test_wrong_password_on_an_external_server_leaks_nothing(
    tcp_server: tuple[int, str], caplog: pytest.LogCaptureFixture
) -> None:
    port, password = tcp_server
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError) as info:
        LineageStore.open(f"redis://:{SECRET}@127.0.0.1:{port}")
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    with pytest.raises(ConfigurationError) as info:
        LineageStore.open(f"redis://127.0.0.1:{port}", password=SECRET)
    assert SECRET not in str(info.value)
    # The right password works; neither password shows in describe() or any log record.
    with LineageStore.open(f"redis://127.0.0.1:{port}", password=password) as store:
        described = repr(store.describe())
        assert password not in described
        try:
            store.backend.write("THIS IS NOT CYPHER", None, name="tests/bad")
        except LineageGraphError as exc:
            assert password not in str(exc)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in logged and password not in logged


@pytest.mark.parametrize(
    "target",
    [
        f"bolt://neo4j:{SECRET}@[::1",  # urlsplit: "Invalid IPv6 URL"
        f"neo4j://neo4j:{SECRET}@[not-an-address]:7687",
        f"redis://:{SECRET}@[::1",
        f"redis://:{SECRET}@127.0.0.1:1x/graph",  # a port that is no number
        f"redis://:{SECRET}@127.0.0.1:99999",  # out of range
    ],
)
def test_a_store_url_that_cannot_be_parsed_is_a_configuration_error_without_its_secret(
    target: str,
) -> None:
    """These were a bare ValueError from urlsplit (Neo4j: a traceback from the CLI, exit 1) or
    EngineError "FalkorDB error: ValueError(...)", as if the engine had failed."""
    with pytest.raises(ConfigurationError, match=r"invalid (Neo4j URI|FalkorDB URL)") as info:
        LineageStore.open(target)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
