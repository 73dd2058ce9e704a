"""Neo4j backend behaviour only a real server shows.

Every test here runs on the Neo4j engine of tests/conftest.py (``NEO4J_URI``, or a throwaway
container when a Docker daemon answers) on a wiped database, and is skipped with the suite's reason
otherwise. What needs no server is in test_neo4j_backend_unit.py (a Bolt peer).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from lineage_graph import Artifact, ArtifactType, ConfigurationError, LineageStore, QueryError
from lineage_graph.backends import IndexSpec, SchemaSpec, open_backend
from lineage_graph.backends.neo4j import Neo4jBackend, _split_credentials
from tests.conftest import RecordingBackend, _neo4j_uri, engine_params

pytestmark = pytest.mark.parametrize(
    "engine", [param for param in engine_params() if param.id == "neo4j"], indirect=True
)


def _inner(backend: RecordingBackend) -> Neo4jBackend:
    assert isinstance(backend.inner, Neo4jBackend)
    return backend.inner


def test_a_runaway_query_is_stopped_by_the_query_timeout(backend: RecordingBackend) -> None:
    """The server has no transaction timeout by default: query_timeout_ms is what stops a
    pathological plan, with a QueryError at once (a timeout is not retried)."""
    uri, _ = _neo4j_uri()
    assert uri is not None
    backend.write("UNWIND range(1, 2000) AS i CREATE (:LgTestSpin {i: i})", name="t/spin")
    # 8e9 rows, each reading properties (no count-store shortcut); store reads check termination
    runaway = (
        "MATCH (a:LgTestSpin), (b:LgTestSpin), (c:LgTestSpin) WHERE a.i + b.i + c.i < 0 "
        "RETURN count(*) AS n"
    )
    with open_backend(uri, query_timeout_ms=500) as quick:
        for call in (quick.read, quick.write):
            start = time.monotonic()
            with pytest.raises(QueryError) as info:
                call(runaway, name="t/runaway")
            assert time.monotonic() - start < 30
            assert "timeout" in str(info.value).lower()
            assert not info.value.retryable
        assert quick.read("RETURN 1 AS x") == [{"x": 1}]


def test_no_server_notification_is_logged(
    store: LineageStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Neo4j 5.23+ flags the ``CALL {`` form of most queries as deprecated; driver 6 would log
    each one to ``neo4j.notifications`` (stderr when logging is not set up)."""
    caplog.set_level("DEBUG", logger="neo4j.notifications")
    store.put_artifact_type(ArtifactType(name="Data"))
    [aid] = store.put_artifacts([Artifact(type="Data", uri="/a")])
    assert [a.id for a in store.get_artifacts_by_uri("/a")] == [aid]
    store.upstream(store.get_artifacts_by_id([aid])[0])
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("neo4j.notifications")]


def test_an_index_clashing_with_a_needed_constraint_is_named(backend: RecordingBackend) -> None:
    """``CREATE CONSTRAINT … IF NOT EXISTS`` fails when another index holds the same label and
    property: a ConfigurationError that names them; nothing is dropped."""
    inner = _inner(backend)
    spec = SchemaSpec((IndexSpec("LgTestClash", ("k",), unique=True),))
    [needed] = spec.indexes
    with inner._session() as session:
        session.run(
            "CREATE INDEX lg_test_operator IF NOT EXISTS FOR (n:LgTestClash) ON (n.k)"
        ).consume()
    try:
        with pytest.raises(ConfigurationError) as info:
            inner.ensure_schema(spec)
        assert needed.name in str(info.value)
        assert "LgTestClash" in str(info.value)
        with inner._session() as session:
            names = {r["name"] for r in session.run("SHOW INDEXES YIELD name").data()}
        assert "lg_test_operator" in names  # left as it was
    finally:
        with inner._session() as session:
            session.run("DROP INDEX lg_test_operator IF EXISTS").consume()
            session.run(f"DROP CONSTRAINT {needed.name} IF EXISTS").consume()


def test_openers_racing_on_a_new_schema_all_open(backend: RecordingBackend) -> None:
    """Processes opening one new store at once each create its schema ``IF NOT EXISTS``; Neo4j
    checks that before taking the schema lock, so a loser of the race got
    EquivalentSchemaRuleAlreadyExists (neo4j/neo4j#6823), which read as a clash with an
    operator's index. Six openers, eight rules, ten rounds: every opener opens."""
    uri, _ = _neo4j_uri()
    assert uri is not None
    inner = _inner(backend)
    openers = [open_backend(uri) for _ in range(6)]
    specs: list[SchemaSpec] = []
    errors: list[BaseException] = []
    try:
        for round_ in range(10):
            label = f"LgTestRace{round_}"
            spec = SchemaSpec(
                tuple(IndexSpec(label, (f"k{i}",), unique=i % 2 == 0) for i in range(8))
            )
            specs.append(spec)
            start = threading.Barrier(len(openers))

            def open_schema(opener: Any, spec: SchemaSpec = spec, start: Any = start) -> None:
                start.wait()
                try:
                    opener.ensure_schema(spec)
                except BaseException as exc:  # collected: the assertion names it
                    errors.append(exc)

            threads = [threading.Thread(target=open_schema, args=(o,)) for o in openers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert not errors, f"round {round_}: {errors[0]!r}"
    finally:
        for opener in openers:
            opener.close()
        with inner._session() as session:
            for spec in specs:
                for index in spec.indexes:
                    kind = "CONSTRAINT" if index.unique else "INDEX"
                    session.run(f"DROP {kind} {index.name} IF EXISTS").consume()


def test_the_longest_query_timeout_allowed_is_taken_by_the_server(
    backend: RecordingBackend,
) -> None:
    """query_timeout_ms is bounded at 2^31 - 1 (a larger one made the driver raise OverflowError
    on every call); the bound itself is a timeout the server accepts on reads and writes."""
    uri, _ = _neo4j_uri()
    assert uri is not None
    with open_backend(uri, query_timeout_ms=2**31 - 1) as slow:
        assert slow.read("RETURN 1 AS x", name="t/read") == [{"x": 1}]
        assert slow.write("RETURN 1 AS x", name="t/write") == [{"x": 1}]


def test_a_password_that_must_be_changed_is_a_configuration_error(
    backend: RecordingBackend,
) -> None:
    """A user whose password must be changed first (as a new server's neo4j/neo4j) logs in, and
    the server then refuses every query with CredentialsExpired: opening a store with it is a
    ConfigurationError saying how to change it (it was QueryError "Neo4j rejected the query")."""
    uri, _ = _neo4j_uri()
    assert uri is not None
    inner = _inner(backend)
    user, password = "lg_test_expired", "lg-test-expired-password"
    with inner._driver.session(database="system") as session:
        session.run(
            f"CREATE OR REPLACE USER {user} SET PASSWORD '{password}' CHANGE REQUIRED"
        ).consume()
    try:
        bare, _, _ = _split_credentials(uri)  # credentials in NEO4J_URI would win over these
        with pytest.raises(ConfigurationError, match="to be changed") as info:
            LineageStore.open(bare, username=user, password=password)
        assert password not in str(info.value)
    finally:
        with inner._driver.session(database="system") as session:
            session.run(f"DROP USER {user} IF EXISTS").consume()
