"""Staging on the embedded engine: a graph filled beside the store's, put in its place by
``RENAME`` (:func:`stage`, :class:`_StagedGraph`)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse, urlunparse

from ..exceptions import EngineError, EngineUnavailableError, FailedPreconditionError
from ._base import Backend, Staging
from ._embedded_errors import _map_error
from ._embedded_schema import existing_constraints, existing_indexes
from ._settle import Settler

if TYPE_CHECKING:
    from .embedded import EmbeddedBackend


def stage(backend: EmbeddedBackend) -> Staging | None:
    """A new graph on the same server, put in place of this one's by ``RENAME`` (atomic,
    logged to the append-only file as one command). See :class:`_StagedGraph`. None when
    this graph has an index or a constraint beyond the store's schema (added by an operator,
    or left by an earlier version): a staged graph would not have it."""
    if backend._closed:
        raise EngineError("the store is closed")
    watch = _patient_client(backend).pipeline(transaction=True)
    with _undone_on_error(lambda: _drop_pipeline(watch), "stage a graph"):
        watch.watch(backend._graph.name)  # first: what is read below cannot change unseen
        spec = backend._schema
        if spec is None:
            _drop_pipeline(watch)
            return None
        indexes = {(i.label, p) for i in spec.indexes for p in i.properties}
        constraints = {
            (i.label, i.properties) for i in spec.indexes if i.unique and not i.checked_by_writes
        }
        if existing_indexes(backend) - indexes or existing_constraints(backend) - constraints:
            _drop_pipeline(watch)
            return None
        return _StagedGraph(backend, watch)


def _patient_client(backend: EmbeddedBackend) -> Any:
    """A client with a pool of its own (closed with its pipeline, :func:`_drop_pipeline`),
    whose replies are awaited up to ``socket_timeout_s``: a staged graph's ``WATCH``
    connection. Its ``EXEC`` must not time out while another client's write holds the
    server, as the store's client would after ``hang_after_s`` on a watched server."""
    import redis

    pool = backend._db.connection.connection_pool
    kwargs = {**pool.connection_kwargs, "socket_timeout": backend.settings.socket_timeout_s}
    return redis.Redis(connection_pool=type(pool)(connection_class=pool.connection_class, **kwargs))


def _sibling_url(backend: EmbeddedBackend) -> str:
    """A URL reaching this backend's server: the staged graph's backend connects by it."""
    if backend._server is not None:
        assert backend._server.socket_path is not None
        return f"unix://{quote(os.fsencode(backend._server.socket_path))}"
    assert backend._url is not None
    parsed = urlparse(backend._url)
    if parsed.scheme == "unix":  # the path is the socket's; the graph comes from settings
        return backend._url
    return urlunparse(parsed._replace(path=""))  # no graph in the path: from settings


def _drop_pipeline(pipeline: Any) -> None:
    """Close a WATCH pipeline's pool, its own (best effort): a closed connection watches
    nothing, and nothing is sent (``reset`` would send ``UNWATCH``, to a hung server too)."""
    with contextlib.suppress(Exception):
        pipeline.connection_pool.disconnect()


@contextlib.contextmanager
def _undone_on_error(undo: Callable[[], None], what: str) -> Iterator[None]:
    """Run ``undo`` if the block raises anything; a redis error becomes the library's."""
    import redis

    try:
        yield
    except BaseException as exc:
        undo()
        if isinstance(exc, redis.exceptions.RedisError):
            raise _map_error(exc, what) from exc
        raise


#: A staged graph outlives the last sign of life of the load filling it by this long; then the
#: server drops it (a process that died mid-load leaves nothing for good).
STAGING_TTL_MS = 3_600_000


class _StagedGraph(Staging):
    """A graph named ``<graph>~staged~<random>`` on the backend's server.

    ``WATCH`` on the backend's graph key, on a connection of its own, from the start: FalkorDB
    signals every write to a graph key, so a write by anyone between :meth:`EmbeddedBackend.stage`
    and :meth:`publish` makes the final ``MULTI``/``EXEC`` fail and nothing changes. The staged
    key carries a time to live, renewed by :meth:`keep_alive` and removed in the same
    transaction as the ``RENAME``. Its backend reaches the same server as an external client
    (it never restarts the server: a load whose engine died fails, and is discarded).
    """

    def __init__(self, owner: EmbeddedBackend, watch: Any) -> None:
        self._owner = owner
        self._target: str = owner._graph.name
        self.name = f"{self._target}~staged~{secrets.token_hex(8)}"
        self._done = False
        self._watch = watch  # a pipeline WATCHing the target, on a connection of its own
        with _undone_on_error(self._abandon, "stage a graph"):
            # The key is made with its time to live, in one step: a crash leaves nothing for good.
            # By a statement that writes (and leaves nothing): one that only reads is not
            # logged to the append-only file, and a restart would replay PEXPIRE on no key.
            create = owner._db.connection.pipeline(transaction=True)
            create.execute_command("GRAPH.QUERY", self.name, "CREATE (x) DELETE x")
            create.pexpire(self.name, STAGING_TTL_MS)
            create.execute()
            settings = owner.settings.model_copy(update={"graph": self.name})
            from .embedded import EmbeddedBackend  # which imports this module

            self._staged = EmbeddedBackend(
                "external", url=_sibling_url(owner), settings=settings, watch=owner._server
            )
            # The owner's query timeout, not the server's default (_query_timeout_args): a load
            # into a directory whose server another opener started was cut at that one's.
            self._staged._timeout_args = owner._timeout_args
            self.backend: Backend = self._staged  # a wrapper may replace it (tests record)
        if owner._settler is not None:  # the same server: its pending edges merged the same way
            self._staged._settler = Settler()

    def _abandon(self) -> None:
        """Stop watching and delete the staged key (best effort): nothing is published."""
        self._done = True
        _drop_pipeline(self._watch)
        if self._staged._found_hung():
            return  # its time to live removes it: not waited on again
        with contextlib.suppress(Exception):
            self._owner._execute("DEL", self.name)

    def keep_alive(self) -> None:
        import redis

        try:
            self._staged._db.connection.pexpire(self.name, STAGING_TTL_MS)
            self._watch.execute_command("PING")  # its connection is idle: a server may drop it
        except redis.exceptions.RedisError as exc:
            raise _map_error(exc, "keep a staged graph") from exc

    def publish(self, verify: Callable[[Backend], None]) -> None:
        import redis

        if self._done:
            raise EngineError("the staged graph was published or discarded already")
        watch = self._watch
        try:
            watch.watch(self.name)  # an expiry or a stray write from here on fails the EXEC
            verify(self.backend)
            watch.multi()
            watch.persist(self.name)
            watch.rename(self.name, self._target)
            watch.execute()
        except redis.exceptions.WatchError as exc:
            if isinstance(exc.__context__, redis.exceptions.ConnectionError) or (
                "ConnectionError" in str(exc)
            ):  # the watching connection was lost (redis-py reports it as a WatchError)
                raise EngineUnavailableError(
                    f"the connection watching graph {self._target!r} was lost: nothing was replaced"
                ) from exc
            raise FailedPreconditionError(
                f"graph {self._target!r} was written while the staged graph was filled (or the "
                "staged graph expired): nothing was replaced"
            ) from exc
        except redis.exceptions.RedisError as exc:
            raise _map_error(exc, "publish a staged graph") from exc
        finally:
            _drop_pipeline(watch)
        self._done = True
        self._owner._keys.clear()  # the graph in place now registered its own keys
        with contextlib.suppress(Exception):
            self._staged.close()

    def discard(self) -> None:
        if self._done:
            return
        self._abandon()
        with contextlib.suppress(Exception):
            self._staged.close()
