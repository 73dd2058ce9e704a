"""Where the Neo4j tests find a server.

1. ``NEO4J_URI`` (with ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD``), e.g. the ``docker compose`` one;
2. else, when a Docker daemon answers and ``testcontainers`` is installed, a throwaway
   ``neo4j:5-community`` container started once per test session and stopped at exit;
3. else no server: the Neo4j tests are skipped with the reason below.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading

from lineage_graph.backends import Backend
from lineage_graph.backends.neo4j import Neo4jBackend

__all__ = ["SKIP_REASON", "WIPE", "neo4j_target", "wipe"]

IMAGE = "neo4j:5-community"
USERNAME = "neo4j"
PASSWORD = "lineage-graph-test"
SKIP_REASON = (
    "Neo4j tests skipped: NEO4J_URI is not set and no Docker daemon answers (start one with "
    "`docker compose up -d --wait` and set NEO4J_URI=bolt://localhost:7687 "
    "NEO4J_PASSWORD=lineage-graph-test)"
)

_lock = threading.Lock()
_container_target: tuple[str | None, str] | None = None


def _docker_answers() -> bool:
    # docker.from_env() talks to DOCKER_HOST or the default socket, nothing else; looking first
    # spares a machine without Docker the client's import and its leaked socket on failure.
    if not os.environ.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=5)
    except Exception:  # no socket, no DOCKER_HOST, bad TLS settings...
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def _start_container() -> tuple[str | None, str]:
    try:  # newer testcontainers releases moved the module (the old path warns)
        from testcontainers.community.neo4j import Neo4jContainer
    except ImportError:
        try:
            from testcontainers.neo4j import Neo4jContainer
        except ImportError:
            return None, (
                "Neo4j tests skipped: NEO4J_URI is not set and `testcontainers[neo4j]` is not "
                "installed to start a container on the Docker daemon that answers"
            )
    container = None
    try:
        container = Neo4jContainer(IMAGE, username=USERNAME, password=PASSWORD)
        container.start()
    except Exception as exc:  # image pull failed, port clash...: say so, don't break collection
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop()
        return None, f"Neo4j tests skipped: Docker answers but {IMAGE} did not start: {exc}"
    atexit.register(container.stop)
    os.environ["NEO4J_USERNAME"] = USERNAME
    os.environ["NEO4J_PASSWORD"] = PASSWORD
    return container.get_connection_url(), f"Neo4j {IMAGE} in a throwaway container"


def neo4j_target() -> tuple[str | None, str]:
    """``(uri, reason)``: the Neo4j server to test against, or ``None`` and why there is none."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        return uri, "Neo4j from NEO4J_URI"
    global _container_target
    with _lock:
        if _container_target is None:
            _container_target = _start_container() if _docker_answers() else (None, SKIP_REASON)
        return _container_target


#: Empties the database in batches of 10,000 nodes, each its own transaction: deleting the ~200k
#: entities the large fan-out tests leave in ONE transaction strains the 1 GB heap of
#: docker-compose.yml. ``CALL { WITH n ... }`` runs on every Neo4j 5 (``CALL (n) {`` needs 5.23).
WIPE = "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


def wipe(backend: Backend) -> None:
    """Delete every node of the Neo4j database ``backend`` uses (schema and indexes stay).

    ``backend`` may be the ``store`` fixture's RecordingBackend: the Neo4jBackend it wraps is
    wiped (test_fuzz's long run empties ``store.backend`` every 250 examples)."""
    backend = getattr(backend, "inner", backend)
    assert isinstance(backend, Neo4jBackend), backend
    # ``IN TRANSACTIONS`` needs an auto-commit transaction (backend.write runs a managed one); the
    # backend's own session keeps the bookmarks, so its next read sees the database empty.
    with backend._session() as session:
        # as every statement of the store: as Cypher 5 on a server that may default to Cypher 25
        session.run(backend.query_prefix + WIPE).consume()
