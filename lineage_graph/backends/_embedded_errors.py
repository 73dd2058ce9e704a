"""The embedded engine's errors: where FalkorDB/redis errors become lineage-graph errors
(:func:`_map_error`, the one place), and the checks a statement passes before it is sent."""

from __future__ import annotations

from ..exceptions import (
    AlreadyExistsError,
    ConfigurationError,
    EngineError,
    EngineUnavailableError,
    InvalidArgumentError,
    LineageGraphError,
    QueryError,
)
from ._falkordb_server import ServerProcess

#: Redis' refusal of a write while it cannot write its append-only log (fsync="everysec"; with
#: "always" it exits instead); the reason follows ("No space left on device").
_LOG_REFUSED = "MISCONF Errors writing to the AOF file"

#: What :meth:`EmbeddedBackend._supervised` says when a reply of a server at work (or answering
#: PINGs) was awaited ``socket_timeout_s``: no fault of the server's, which may run on.
_NO_REPLY = "no reply within socket_timeout_s"

#: What :meth:`EmbeddedBackend._execute` says when an external server's reply (a server the
#: user runs, reached by its URL) was awaited ``socket_timeout_s``: redis's own words ("Timeout
#: reading from 127.0.0.1:6379") were passed on as a server "unreachable".
_NO_REPLY_EXTERNAL = "no reply from the external server within socket_timeout_s"

#: FalkorDB's refusal of a statement past QUERY_MEM_CAPACITY (query_mem_capacity).
_MEM_CAPPED = "mem consumption exceeded capacity"


def _map_error(
    exc: BaseException, name: str, server: ServerProcess | None = None
) -> LineageGraphError:
    """The one place where FalkorDB/redis errors become lineage-graph errors. ``server``: the
    server of ours the failed connection was to, asked whether it refuses clients for having
    its most (then a lost connection is said to be that, not a server out of reach)."""
    import redis

    where = f" in query {name!r}" if name else ""
    if isinstance(exc, redis.exceptions.AuthenticationError):
        return ConfigurationError(f"FalkorDB refused the credentials: {exc}")
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return _unreachable(exc, name, where, server)
    return _refused(exc, where)


def _unreachable(
    exc: BaseException, name: str, where: str, server: ServerProcess | None
) -> LineageGraphError:
    """:func:`_map_error` of a lost connection or a reply awaited in vain."""
    import redis

    if isinstance(exc, redis.exceptions.TimeoutError) and str(exc).startswith(_NO_REPLY):
        # The server was reachable and at work: "unreachable: Timeout reading from socket" sent
        # the user after a fault, where the wait (660 s whatever the query limits, both 0: no
        # finite wait covers every query) was the cause.
        return EngineUnavailableError(
            f"the FalkorDB server gave no reply{where} within socket_timeout_s "
            f"({str(exc)[len(_NO_REPLY) :].strip()}, LINEAGE_GRAPH_SOCKET_TIMEOUT_S) while it "
            "was at work on it, and the wait was given up: the statement may run on, and a "
            "write may still be applied. Set socket_timeout_s above the longest statement "
            "(it bounds the wait even when query_timeout_ms and query_timeout_max_ms are 0)"
        )
    if isinstance(exc, redis.exceptions.TimeoutError) and str(exc).startswith(_NO_REPLY_EXTERNAL):
        # An external server: no supervision tells a busy server from a stopped one or a
        # network that lost the reply.
        return EngineUnavailableError(
            f"the FalkorDB server gave no reply{where} within socket_timeout_s "
            f"({str(exc)[len(_NO_REPLY_EXTERNAL) :].strip()}, LINEAGE_GRAPH_SOCKET_TIMEOUT_S), "
            "and the wait was given up: the server may be at work on a longer statement, "
            "stopped or overloaded, or the network between lost the reply. The statement may "
            "run on, and a write may still be applied. Check that the server runs and is "
            "reachable; if its statements take longer, set socket_timeout_s above the longest"
        )
    if isinstance(exc, redis.exceptions.ConnectionError) and server is not None:
        # A store open (or opening) whose connection was lost, on a server at its most clients
        # (its descriptor limit): told "unreachable", where a first opening is told it is full.
        lost = "this opening" if name == "connect" else f"this store's new connection{where}"
        full = server.full_message(lost)
        if full is not None:
            return EngineUnavailableError(full)
    return EngineUnavailableError(f"the FalkorDB server is unreachable{where}: {exc}")


def _refused(exc: BaseException, where: str) -> LineageGraphError:
    """:func:`_map_error` of a command the server answered with an error (or of anything else)."""
    import redis

    text = str(exc)
    if isinstance(exc, redis.exceptions.ResponseError) and text.startswith(_LOG_REFUSED):
        # fsync="everysec": the server refuses every write while it cannot write its
        # append-only log (a full disk: "No space left on device"), and takes writes again by
        # itself once it can: retryable, as under fsync="always" (the server exits then).
        reason = text[len(_LOG_REFUSED) :].strip(" :") or "unknown"
        refused = EngineUnavailableError(
            f"the FalkorDB server cannot write its append-only log ({reason}) and refused "
            f"the write{where}: nothing of it was written. Free space on the server's disk "
            "(an embedded store's: its directory's) or fix what stops the log's writes, and "
            "retry the call: the server takes writes again by itself once it can log them"
        )
        refused.nothing_written = True  # refused before it ran: not in doubt (no read-back)
        return refused
    if isinstance(exc, redis.exceptions.ResponseError) and _MEM_CAPPED in text:
        return QueryError(
            f"the statement{where} needs more memory than the embedded engine's per-query cap "
            f"allows ({text}); nothing was changed. Ask for less in one call (a write: a "
            "smaller batch, or smaller values; a read: a smaller page, or a filter), or open "
            "the store with a larger query_mem_capacity "
            "(LINEAGE_GRAPH_QUERY_MEM_CAPACITY, bytes; 0 for none), which applies when its "
            "server starts: once no other process has the store open"
        )
    if "unique constraint" in text.lower():
        return AlreadyExistsError(f"a unique key already exists{where}: {text}")
    if "timed out" in text.lower():
        return QueryError(f"FalkorDB query timed out{where}: {text}")
    if isinstance(exc, redis.exceptions.ResponseError):
        return QueryError(f"FalkorDB rejected the query{where}: {text}")
    return EngineError(f"FalkorDB error{where}: {exc!r}")


#: The largest argument a Redis server takes (its ``proto-max-bulk-len``, 512 MiB by default):
#: a statement (its parameters included) is one argument.
MAX_STATEMENT_BYTES = 512 * 1024**2


def _check_size(text: str) -> None:
    """A statement longer than a server takes is refused before it is sent: the server answered
    "Protocol error: invalid bulk length" and closed the connection once hundreds of MB had
    been sent (16 s for 540 MB), which came as EngineUnavailableError (retryable, "the write
    may have been applied"), where every retry failed alike."""
    if len(text) <= MAX_STATEMENT_BYTES // 4:
        return  # at most 4 bytes a character in UTF-8: no encoding needed to tell
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_STATEMENT_BYTES:
        raise InvalidArgumentError(
            f"the call's statement is {size:,} bytes with its values, over the "
            f"{MAX_STATEMENT_BYTES:,} bytes (512 MiB) the embedded engine takes in one "
            "command; nothing was written. Split the call into smaller batches; a single "
            "value this large is better stored elsewhere and referred to by its uri"
        )


def _check_unicode(text: str) -> None:
    """Text goes to the engine as UTF-8 in a C string: a lone surrogate cannot, nor a NUL; either
    is the caller's error.

    Checked once on the whole statement (parameter header included): ``isascii()`` answers most
    statements in C; walking the parameters in Python cost 6.6 ms per 1,000-row write. Values
    the header cannot carry (NaN, infinities, bytes) never reach it: properties are encoded
    first (_encoding.py), and the engine would reject such a header anyway (QueryError).
    """
    if "\x00" in text:
        # The server reads the statement as a C string: a NUL in a parameter (the header comes
        # first) cut the statement there, and get_artifacts_by_uri("a\x00b") came back as
        # QueryError "Invalid input at end of input". Writes refuse NUL in plain text and
        # escape it in property values and names (_encoding.py); a lookup holding one is the
        # caller's error, said as such before anything is sent.
        raise InvalidArgumentError(
            "text must not contain a NUL character (the embedded engine cannot carry it; "
            "nothing stored holds one)"
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidArgumentError(
                f"text must be valid Unicode: {exc.reason} ({text[exc.start : exc.end]!r} in a "
                "value or name)"
            ) from None
