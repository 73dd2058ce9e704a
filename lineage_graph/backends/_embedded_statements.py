"""Running one statement on the embedded engine (:func:`run`): its checks, the command, a read
retried once on a restarted server, the error said of a server that died under it, the
statement recorded (:meth:`Backend.record`), and FalkorDB's pending edge changes merged now and
then (:func:`settle`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import EngineError, EngineUnavailableError, LineageGraphError
from ._base import Row, Statement
from ._embedded_errors import _check_size, _check_unicode, _map_error
from ._settle import DEFAULT_PENDING, SETTLE_QUERY

if TYPE_CHECKING:
    from .embedded import EmbeddedBackend

#: The command of a read-only query (it changes nothing: see EmbeddedBackend._execute).
_READ_ONLY = "GRAPH.RO_QUERY"

_ENGINE_TIME = "Query internal execution time:"


def _engine_seconds(stats: Any) -> float | None:
    """The engine's own time for a statement, from its reply's statistics lines."""
    for line in stats if isinstance(stats, list) else ():
        if isinstance(line, str) and line.startswith(_ENGINE_TIME):
            with contextlib.suppress(ValueError, IndexError):
                return float(line[len(_ENGINE_TIME) :].split()[0]) / 1000
    return None


def run(
    backend: EmbeddedBackend,
    query: str,
    params: Mapping[str, Any] | None,
    name: str,
    *,
    write: bool,
    settles: bool = True,
) -> list[Row]:
    """``settles``: whether the edges the write creates count towards the next merge of
    pending edge changes (the Settler's; not those a statement deletes at once)."""
    import redis

    from ._resp import params_header

    if backend._closed:
        raise EngineError("the store is closed")
    text = params_header(params or {}) + query
    _check_size(text)
    _check_unicode(text)
    # A read is retried once on a restarted server when the data survived (directory mode);
    # in memory mode the restart lost everything, which the caller must hear about.
    attempts = 1 if write or backend.mode == "memory" else 2
    recording = bool(backend._recording)  # read once: another thread may start recording
    started = time.perf_counter() if recording else 0.0
    for attempt in range(attempts):
        seen = backend._reconnects
        try:
            command = "GRAPH.QUERY" if write else _READ_ONLY
            with backend._lock:
                if backend._closed:  # closed by another thread while this one waited
                    raise EngineError("the store is closed")
                reply = backend._execute(
                    command, backend._graph.name, text, "--compact", *backend._timeout_args
                )
            return _rows(
                backend, reply, name, write, settles, started if recording else None, attempt
            )
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            restarted = _recovered(backend, exc, seen, name)
            if restarted and attempt + 1 < attempts:
                continue  # a read is safe to retry on the restarted server
            raise _failed(backend, exc, name, restarted) from exc
        except redis.exceptions.RedisError as exc:
            raise _map_error(exc, name) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _rows(
    backend: EmbeddedBackend,
    reply: Any,
    name: str,
    write: bool,
    settles: bool,
    started: float | None,
    attempt: int,
) -> list[Row]:
    """The rows of a statement's ``reply``; it is recorded (from ``started``, when
    recording) and pending edges merged (:func:`settle`) when it is time to."""
    from ._resp import read_reply

    rows = read_reply(reply, backend._graph)
    if started is not None:  # a retried read: its time and both requests
        backend._recorded(
            Statement(
                name,
                write,
                time.perf_counter() - started,
                _engine_seconds(reply[-1] if reply else []),
                round_trips=attempt + 1,
            )
        )
    settler = backend._settler if write and settles else None
    if settler is not None and reply and settler.wrote(reply[-1]):
        settle(backend)
    return rows


def _recovered(backend: EmbeddedBackend, exc: BaseException, seen: int, name: str) -> bool:
    """:meth:`EmbeddedBackend._recover` after ``exc`` failed query ``name``; a server that
    could not be restarted is said as such."""
    try:
        return backend._recover(exc, seen)
    except LineageGraphError as failed:
        # The server died under the query and could not be started again (killed
        # again as it started; on a full disk it exits as it starts; no directory
        # for its socket, ConfigurationError: the temporary directory full or
        # removed). The query may have been applied before it died: in doubt, as
        # when the restart works (raising any other error let the write give its new
        # ids back, and the next write stored another node under the id of the one
        # applied). Retry once the cause is gone.
        raise EngineUnavailableError(
            f"the embedded FalkorDB server died during query {name!r} and could "
            f"not be restarted; retry the call when the cause is gone: {failed}"
        ) from exc


def _failed(
    backend: EmbeddedBackend, exc: BaseException, name: str, restarted: bool
) -> LineageGraphError:
    """The error of query ``name``, failed by ``exc`` (a lost connection, a timeout)."""
    mapped = _map_error(exc, name, backend._server)
    if restarted:
        lost = " (in-memory data was lost)" if backend.mode == "memory" else ""
        cause = backend._death_cause
        mapped = EngineUnavailableError(
            f"the embedded FalkorDB server died during query {name!r} and was "
            f"restarted{lost}; " + (f"{cause}" if cause else "retry the call")
        )
    return mapped


def settle(backend: EmbeddedBackend) -> None:
    """Merge FalkorDB's pending edge changes now (``_settle.py``: a statement that creates
    nodes and edges pays for every pending one). Only speed depends on it, and the write it
    follows has succeeded: a failure is left to the next query to report. A server that
    does not answer is not asked again to restore the setting (the next merge repairs it)."""
    import redis

    assert backend._settler is not None
    try:
        with backend._lock:
            if backend._closed:
                return
            started = time.perf_counter()
            run = backend._execute
            _, value = run("GRAPH.CONFIG", "GET", "DELTA_MAX_PENDING_CHANGES")
            limit = int(value) if int(value) > 1 else DEFAULT_PENDING  # 1: left by a crash
            run("GRAPH.CONFIG", "SET", "DELTA_MAX_PENDING_CHANGES", 1)
            try:
                run("GRAPH.RO_QUERY", backend._graph.name, SETTLE_QUERY, "--compact")
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                raise
            except redis.exceptions.RedisError:
                pass  # e.g. the graph key does not exist yet: restore all the same
            run("GRAPH.CONFIG", "SET", "DELTA_MAX_PENDING_CHANGES", limit)
            elapsed = time.perf_counter() - started
    except (redis.exceptions.RedisError, ValueError, TypeError):
        return
    backend._settler.merged(elapsed)
    if backend._recording:
        backend._recorded(Statement("settle pending edges", False, elapsed, None, round_trips=4))
