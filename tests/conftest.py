"""Engines for the test suite.

``tests/contract/`` runs once per available engine: the embedded FalkorDB always, Neo4j when
``NEO4J_URI`` is set or a Docker daemon answers (see ``tests/_neo4j.py``). Every test gets an empty
store of its own: on FalkorDB a fresh graph on one shared in-memory server, on Neo4j a wiped
database.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from lineage_graph import ConfigurationError, EngineUnavailableError, LineageStore
from lineage_graph.backends import Backend, SchemaSpec, Staging, Statement, open_backend
from lineage_graph.backends.embedded import EmbeddedBackend

#: Names of every query executed by the suite, per dialect (checked by tests/zz_coverage).
EXECUTED: dict[str, set[str]] = {"falkordb": set(), "neo4j": set()}
ENGINES_RUN: set[str] = set()

_graph_counter = itertools.count()

#: Why the Neo4j of NEO4J_URI could not be opened (unreachable, refused credentials), once: the
#: other Neo4j tests then fail at once with it, rather than each retry the connection for
#: ``connect_timeout_s`` (or lock the user out with wrong credentials again).
_NEO4J_FAILED: list[str] = []


class RecordingBackend(Backend):
    """Delegates to a real backend and records which named queries ran (no behaviour changed)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.dialect = inner.dialect  # type: ignore[misc]

    def read(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        name: str = "",
        primary: bool = False,
    ) -> list[dict[str, Any]]:
        EXECUTED[self.dialect].add(name)
        return self.inner.read(query, params, name=name, primary=primary)

    def write(
        self, query: str, params: Mapping[str, Any] | None = None, *, name: str = ""
    ) -> list[dict[str, Any]]:
        EXECUTED[self.dialect].add(name)
        return self.inner.write(query, params, name=name)

    def ensure_schema(self, spec: SchemaSpec) -> None:
        self.inner.ensure_schema(spec)

    def ensure_property_keys(self, keys: Iterable[str], *, fixed: bool = False) -> None:
        self.inner.ensure_property_keys(keys, fixed=fixed)

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def close(self) -> None:
        self.inner.close()

    def record(self) -> contextlib.AbstractContextManager[list[Statement]]:
        return self.inner.record()

    def stage(self) -> Staging | None:
        staging = self.inner.stage()
        if staging is not None:  # the staged graph's queries are recorded too
            staging.backend = RecordingBackend(staging.backend)
        return staging


@contextlib.contextmanager
def reads_of(store: LineageStore) -> Iterator[list[str]]:
    """The names of the queries ``store`` reads while the block runs (round trips counted)."""
    names: list[str] = []
    original = store.backend.read

    def reading(
        query: str, params: Mapping[str, Any] | None = None, *, name: str = "", **how: Any
    ) -> list[dict[str, Any]]:
        names.append(name)
        return original(query, params, name=name, **how)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store.backend, "read", reading)
        yield names


def _neo4j_uri() -> tuple[str | None, str]:
    from tests._neo4j import neo4j_target

    return neo4j_target()


def engine_params() -> list[Any]:
    params: list[Any] = [pytest.param("embedded", id="embedded")]
    uri, reason = _neo4j_uri()
    params.append(
        pytest.param("neo4j", id="neo4j", marks=[pytest.mark.neo4j])
        if uri
        else pytest.param(
            "neo4j", id="neo4j", marks=[pytest.mark.neo4j, pytest.mark.skip(reason=reason)]
        )
    )
    return params


@pytest.fixture(scope="session")
def falkordb_server() -> Iterator[EmbeddedBackend]:
    """One in-memory FalkorDB server for the whole session; tests use graphs on it."""
    backend = open_backend("memory")
    assert isinstance(backend, EmbeddedBackend)
    yield backend
    backend.close()


def _fresh_backend(engine: str, request: pytest.FixtureRequest) -> Backend:
    if engine == "embedded":
        server: EmbeddedBackend = request.getfixturevalue("falkordb_server")
        assert server.server is not None
        graph = f"test{next(_graph_counter)}"
        return open_backend(f"unix://{server.server.socket_path}", graph=graph)
    from tests._neo4j import wipe

    uri, _ = _neo4j_uri()
    if _NEO4J_FAILED:  # each test would wait connect_timeout_s (30 s) again: 1,000+ of them
        pytest.fail(
            f"Neo4j at NEO4J_URI was not opened for an earlier test, so it is not tried again: "
            f"{_NEO4J_FAILED[0]}",
            pytrace=False,
        )
    try:
        backend = open_backend(uri)
    except (EngineUnavailableError, ConfigurationError) as exc:
        _NEO4J_FAILED.append(f"{type(exc).__name__}: {exc}")
        raise
    wipe(backend)
    return backend


@pytest.fixture(params=engine_params())
def engine(request: pytest.FixtureRequest) -> str:
    ENGINES_RUN.add(request.param)
    return str(request.param)


@pytest.fixture
def backend(engine: str, request: pytest.FixtureRequest) -> Iterator[RecordingBackend]:
    inner = _fresh_backend(engine, request)
    rec = RecordingBackend(inner)
    yield rec
    if isinstance(inner, EmbeddedBackend):
        inner.drop_graph()
    rec.close()


@pytest.fixture
def store(backend: RecordingBackend) -> LineageStore:
    """An empty store on each available engine."""
    return LineageStore(backend)


def _full_run(config: pytest.Config) -> bool:
    """No test selection: every test path, no -k/-m filter."""
    default = {"tests", str(config.rootpath / "tests"), str(config.rootpath)}
    return (
        not config.option.keyword
        and not config.option.markexpr
        and not getattr(config.option, "lf", False)
        and all(arg.rstrip("/") in default for arg in config.args)
    )


def _missing_queries() -> list[str]:
    from lineage_graph._queries import registry

    return sorted(set(registry().names()) - EXECUTED["falkordb"])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A full run fails if some query in cypher/ was never executed on the embedded engine."""
    if exitstatus == 0 and _full_run(session.config) and _missing_queries():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    ran = ", ".join(sorted(ENGINES_RUN)) or "none"
    terminalreporter.write_line(f"lineage-graph engines exercised by the contract suite: {ran}")
    if "neo4j" not in ENGINES_RUN:
        terminalreporter.write_line(_neo4j_uri()[1])
    if _full_run(config):
        from lineage_graph._queries import registry

        missing = _missing_queries()
        total = len(registry())
        terminalreporter.write_line(
            f"queries executed on the embedded engine: {total - len(missing)}/{total}"
        )
        if missing:
            terminalreporter.write_line(f"FAILED: queries never executed by any test: {missing}")
        if "neo4j" in ENGINES_RUN:
            # Informational: some queries serve FalkorDB-only paths (staged imports). Those with
            # a cypher/falkordb/ override have a base text only Neo4j runs: listed apart.
            unrun = sorted(set(registry().names()) - EXECUTED["neo4j"])
            only = [n for n in unrun if registry()[n].overrides]
            terminalreporter.write_line(
                f"queries executed on Neo4j: {total - len(unrun)}/{total}; never: {unrun}"
                + (f"; of them Neo4j-only texts: {only}" if only else "")
            )


os.environ.setdefault("LINEAGE_GRAPH_STARTUP_TIMEOUT_S", "30")


@pytest.fixture
def tcp_server(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A FalkorDB server of our own on a loopback port with a password (an 'external' one):
    ``(port, password)``."""
    import socket
    import subprocess
    import time

    from lineage_graph.backends._falkordb_server import find_binaries

    binaries = find_binaries()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    password = "loopback-" + os.urandom(8).hex()
    proc = subprocess.Popen(
        [
            str(binaries.redis_server), "--port", str(port), "--bind", "127.0.0.1",
            "--requirepass", password, "--dir", str(tmp_path), "--save", "",
            "--loadmodule", str(binaries.module),
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.02)
    yield port, password
    proc.kill()
    proc.wait(10)


@pytest.fixture
def collector_off() -> Iterator[None]:
    """Python's cyclic collector off for the test (what earlier tests left to it collected
    first): an object the test drops must then be freed by reference counting alone, which a
    reference cycle prevents."""
    import gc

    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
