"""The store's append-only log and server log as a start reads them: the checks made before a
start (a lost log, NUL bytes a crash left, leftovers) and what a start's lines of the server
log say (a torn write dropped, a damaged log, a crash, a full disk, a write that failed when
replayed), in words."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from pathlib import Path

from ..config import EmbeddedSettings
from ..exceptions import (
    EngineError,
    FailedPreconditionError,
)

_LOG_FILE = "server.log"


#: The append-only file's folder in a data directory (Redis 7's multi-part AOF: a base file,
#: the snapshot of the last rewrite, and ``*.incr.aof`` files, the writes since).
_AOF_DIR = "appendonly"


#: The append-only log's manifest in ``_AOF_DIR``: the base and incremental files that make it.
_AOF_MANIFEST = "appendonly.aof.manifest"


#: The library's record that the store's server has written its append-only log here (made at
#: the first start that finds the log). A store that has one and no log lost it: opening it
#: is refused (:func:`_check_aof`). Deleting the record (and what is left of the log) is the
#: explicit way to start empty.
_MARKER_FILE = "lineage-graph.store"


#: A data directory's server log is set aside (as ``server.log.1``, replacing the last one) when
#: a server starts and finds it this large.
LOG_MAX_BYTES = 8 << 20


def _rotate_log(log: Path) -> None:
    """Bound the server log. FalkorDB 4.16 appends its constraints' creation to the append-only
    file at every start, and a start replays those of every earlier start since the last
    rewrite, logging one CRITICAL line each ("Constraint already exists"): the log grew with
    the square of the opens (25 MB after 150 opens, ~0.5 GB per 1 MiB of log tail)."""
    with contextlib.suppress(OSError):  # best effort: a log is no reason to refuse to start
        if log.stat().st_size > LOG_MAX_BYTES:
            os.replace(log, log.with_name(log.name + ".1"))


def _remove_leftovers(data_dir: Path) -> None:
    """Remove the temporary files of a server killed while it rewrote its append-only file or
    saved a snapshot (called when none runs on the directory: under the lock, before a start).
    Redis removes only its own children's: one left by a server SIGKILLed mid-rewrite (the OOM
    killer's likeliest moment, a fork) stayed for good, as large as the store (45 MB here)."""
    for pattern in ("temp-rewriteaof-*.aof", "temp-*.rdb", f"{_AOF_DIR}/temp-*"):
        for leftover in data_dir.glob(pattern):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _manifest_entries(data_dir: Path) -> list[tuple[Path, str]]:
    """Each file the store's append-only log manifest names, with its type (``b`` base, ``i``
    incremental, ``h`` history), in the manifest's order. Raises OSError (FileNotFoundError
    for a missing manifest) when it cannot be read."""
    lines = (data_dir / _AOF_DIR / _AOF_MANIFEST).read_text(errors="replace").splitlines()
    entries = []
    for line in lines:
        fields = line.split()
        # ``file <name> seq <n> type <b|i|h> ...``; a quoted name (spaces) is not ours: skipped
        if len(fields) < 6 or fields[0] != "file" or fields[1].startswith('"'):
            continue
        kind = dict(zip(fields[2::2], fields[3::2], strict=False)).get("type", "")
        entries.append((data_dir / _AOF_DIR / fields[1], kind))
    return entries


def _aof_missing(data_dir: Path) -> list[Path]:
    """The files of the store's append-only log that are missing: its manifest, or a base or
    incremental file the manifest names (history files, ``type h``, are Redis's to delete)."""
    try:
        entries = _manifest_entries(data_dir)
    except FileNotFoundError:
        return [data_dir / _AOF_DIR / _AOF_MANIFEST]
    except OSError:
        return []  # unreadable: the server says why
    return [path for path, kind in entries if kind in ("b", "i") and not path.exists()]


#: Read back from the end of the log this many bytes at a time when looking for its last byte
#: that is not NUL (:func:`_trim_nul_tail`).
_TAIL_CHUNK = 1 << 16


def _last_incremental(data_dir: Path) -> Path | None:
    """The incremental file the manifest names last: the one the server appends to, and the
    only one whose end a crash can cut (None when there is no readable manifest)."""
    try:
        entries = _manifest_entries(data_dir)
    except OSError:
        return None
    incremental = [path for path, kind in entries if kind == "i"]
    return incremental[-1] if incremental else None


def _trim_nul_tail(data_dir: Path) -> int:
    """Cut the NUL bytes that end the log's last incremental file; return how many (called
    before every start, under the data directory's lock, no server running on the files).

    A power loss while a write was being appended can leave the file longer than what reached
    the disk, the missing part read back as zeros (file systems that extend a file before its
    data lands). Redis took those zeros for a damaged log ("Bad file format reading the append
    only file"), not for a write cut short (``aof-load-truncated``): the store could not be
    opened at all, and the error advised ``redis-check-aof``, which the package does not ship.
    No command ends in NUL (each ends with CRLF), so those bytes hold nothing: without them,
    the log ends in whole commands, or in the write the crash cut short (never acknowledged:
    ``appendfsync always`` replies after the fsync), which the server drops as it loads."""
    incr = _last_incremental(data_dir)
    if incr is None:
        return 0
    try:
        with open(incr, "r+b") as f:
            size = end = f.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            f.seek(size - 1)
            if f.read(1) != b"\0":
                return 0  # the usual case: one byte read
            while end > 0:
                start = max(0, end - _TAIL_CHUNK)
                f.seek(start)
                kept = f.read(end - start).rstrip(b"\0")
                if kept:
                    end = start + len(kept)
                    break
                end = start
            if end == size:
                return 0
            f.truncate(end)
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        return 0  # unreadable, or a read-only file system: the server says what it finds
    return size - end


def _log_sizes(data_dir: Path | None) -> dict[str, int]:
    """The size of each file of the store's append-only log, by name (before a start)."""
    if data_dir is None:
        return {}
    sizes = {}
    with contextlib.suppress(OSError):
        for part in (data_dir / _AOF_DIR).iterdir():
            with contextlib.suppress(OSError):
                sizes[part.name] = part.stat().st_size
    return sizes


#: What a start logs, harmlessly, for each constraint every earlier start since the log's last
#: rewrite added to the log: thousands of lines after hundreds of opens (:func:`_rotate_log`).
_HARMLESS_LINE = b"Constraint already exists"


#: At most this many bytes of a start's other lines are read back (:func:`_start_log`).
_START_LOG_MAX = 1 << 20


def _start_log(log: Path, start: int) -> str:
    """One start's lines of the server's log ``log`` (from byte ``start`` on), without the
    harmless constraint lines ("" when it cannot be read). Its first MiB was read, constraint
    lines and all: past ~500 opens since the log's last rewrite they filled it, and what the
    start said after them (a write a crash cut short, a damaged log, a full disk) was missed."""
    kept: list[bytes] = []
    size = 0
    try:
        with open(log, "rb") as f:
            f.seek(start)
            for line in f:
                if _HARMLESS_LINE in line:
                    continue
                kept.append(line)
                size += len(line)
                if size >= _START_LOG_MAX:
                    break
    except OSError:
        return ""
    return b"".join(kept).decode(errors="replace")


#: What Redis logs when it drops a command cut short at the end of the log (``aof-load-truncated``).
_TRUNCATED = re.compile(r"Truncating the AOF (\S+) at offset (\d+)")


def _warn_torn(log: Path, start: int, data_dir: Path, sizes: dict[str, int]) -> None:
    """Say so (a RuntimeWarning) when the server, as it loaded the store (this start's lines of
    ``log``, from byte ``start`` on), dropped a write a crash had cut short at the end of the
    log: it did so without a word to any client, and ``doctor`` said nothing either."""
    text = _start_log(log, start)
    found = _TRUNCATED.search(text)
    if found is None:
        return
    name, offset = found.group(1), int(found.group(2))
    dropped = sizes.get(name, offset) - offset
    warnings.warn(
        f"the append-only log of the store in {data_dir} ended in a write cut short by a crash "
        f"(the last {dropped} bytes of {name}): the server dropped it as it loaded the store. "
        "With fsync 'always' (the default) no write is acknowledged before it is whole on disk, "
        "so that write had not been acknowledged",
        RuntimeWarning,
        stacklevel=2,
    )


def _check_aof(data_dir: Path) -> None:
    """Refuse to start a server on a store whose append-only log is gone (deleted or moved by
    hand, a partial restore), called before every start. The server then starts an EMPTY store
    without a word (a missing manifest alike, its files ignored) and its next close overwrites
    ``dump.rdb``, the last snapshot, with nothing: every write was lost and ``lineage-graph
    doctor`` said all was well. Only a store the library saw with a log is checked (the
    marker): a new one, or one an earlier version made, is opened as before."""
    marker = data_dir / _MARKER_FILE
    if not marker.exists():
        return
    missing = _aof_missing(data_dir)
    if not missing:
        return
    names = ", ".join(str(m) for m in missing)
    raise FailedPreconditionError(
        f"the store in {data_dir} has lost its append-only log: {names} is missing (deleted or "
        "moved by hand, or a partial restore). That log holds the store's data: started without "
        "it, the server would open an empty store. Put the files back or restore the directory "
        f"from a backup; {data_dir / 'dump.rdb'}, if present, is the snapshot of the last clean "
        'close (docs/reliability.md, "A store that lost its append-only log", says how to '
        f"rebuild the log from it). To start an empty store here instead, move "
        f"{data_dir / _AOF_DIR} aside (if it is there) and delete {marker}"
    )


def _mark_aof(data_dir: Path) -> None:
    """Record that the store has an append-only log (once; best effort: a full disk only
    leaves the check to a later start)."""
    marker = data_dir / _MARKER_FILE
    if marker.exists() or not (data_dir / _AOF_DIR / _AOF_MANIFEST).is_file():
        return
    tmp = data_dir / (_MARKER_FILE + ".tmp")
    with contextlib.suppress(OSError):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(
                fd,
                b"This lineage-graph store keeps its data in appendonly/. Opening the store is "
                b"refused while that log is missing; to start an empty store here instead, "
                b"move what is left of appendonly/ aside and delete this file.\n",
            )
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, marker)


#: What Redis logs when it cannot write its append-only file (then, with ``appendfsync always``,
#: it exits): a full disk, or a file size limit.
_WRITE_FAILURES = ("Short write while writing to the AOF", "No space left on device")


def _write_failure(log: Path, start: int, data_dir: Path) -> str | None:
    """Why a server that exited as it started could not write to ``data_dir``: the line of
    ``log`` (from byte ``start`` on) saying so, or, when not a byte is left for even that line,
    the file system's free space. None for any other failure."""
    text = _start_log(log, start)
    for line in text.splitlines():
        if any(failure in line for failure in _WRITE_FAILURES):
            return line.split(" # ", 1)[-1].strip()
    try:
        free = os.statvfs(data_dir)
    except OSError:
        return None
    if free.f_bavail == 0:
        return "no space left on device"
    return None


def _load_crash(log: Path, start: int) -> str | None:
    """The crash line (``Redis 8.2.3 crashed by signal: 11, …``) of a server that crashed while
    loading its data (its stack goes through ``loadDataFromDisk``), in the lines of ``log``
    from byte ``start`` on; None for any other failure."""
    text = _start_log(log, start)
    if "loadDataFromDisk" not in text:
        return None
    for line in text.splitlines():
        if "crashed by signal" in line:
            return line.split(" # ", 1)[-1].strip()
    return None


#: What Redis logs when it refuses to load a damaged append-only log (not a write cut short at
#: its end, which ``aof-load-truncated`` drops), then exits.
_DAMAGED_LOG = (
    "Bad file format reading the append only file",
    "Unexpected end of file reading the append only file",
    # the base file (the snapshot the last rewrite of the log wrote) cut short or damaged
    "Error loading data from RDB",
    "Short read or OOM loading DB",
    # ... or with bytes changed ("RDB CRC error", "Unknown RDB encoding type", "Invalid LZF
    # compressed string"), and the manifest damaged: each was "failed to start" above the
    # start's warnings
    "Internal error in RDB reading",
    "Wrong RDB checksum",
    "Invalid AOF manifest file format",
    "Found an empty AOF manifest",
    # a command of the log whose name has bytes changed ("GRAPH.QUERZ"): "failed to start"
    "reading the append only file",
)


def _damaged_log(log: Path, start: int) -> str | None:
    """What Redis said of the store's damaged append-only log, in the lines of ``log`` from
    byte ``start`` on (this start's); None for any other failure."""
    text = _start_log(log, start)
    for line in text.splitlines():
        if any(damage in line for damage in _DAMAGED_LOG):
            said = line.split(" # ", 1)[-1].removeprefix("Guru Meditation: ").strip()
            if " -> " in said:  # "Internal error in RDB reading offset 0, function at …"
                said = said.split(" -> ", 1)[1]
            # Its first sentence, up to the file's name: Redis's advice after it names a tool
            # the package does not ship.
            return said.split(". ", 1)[0].split(":", 1)[0].strip()
    return None


#: What Redis logs for each command of the append-only log that fails as it is replayed (then
#: it goes on with the next); FalkorDB's own constraint commands fail so at every start (the
#: snapshot holds the constraint already): harmless.
_REPLAY_ERROR = "sending an error to its AOF-loading-client:"


_REPLAY_HARMLESS = ("'-Constraint already exists'",)


def _replay_failure(log: Path, start: int) -> str | None:
    """The error of the first write of the log that failed as it was replayed, in the lines of
    ``log`` from byte ``start`` on (this start's); None if every write replayed. A write is
    logged only once it succeeded: one that fails when replayed is damaged (its bytes changed
    in place: a damaged disk, a file edited by hand), and the server loaded the store without
    it, and without a word: an acknowledged write lost, an id sequence maybe behind the ids
    it handed out."""
    for line in _start_log(log, start).splitlines():
        if _REPLAY_ERROR in line and not any(ok in line for ok in _REPLAY_HARMLESS):
            said = line.split(_REPLAY_ERROR, 1)[1].strip()
            return f"a logged write fails when replayed: {said[:300]}"
    return None


#: What a logged write fails with when replayed under a smaller limit than the one it ran
#: under (or on a slower machine): FalkorDB applies its query timeout and memory cap to the
#: writes it replays as it loads. The write is whole in the log: the store is not damaged.
_REPLAY_LIMITS = ("Query timed out", "mem consumption exceeded capacity")


def _replay_limit_message(
    data_dir: Path, failure: str, settings: EmbeddedSettings, log: Path
) -> str:
    """The error of a store whose logged write hit this start's query limits as it was
    replayed: it said the log was damaged and advised cutting it (losing that write and every
    later one), where opening it with larger limits loads it whole."""
    return (
        f"the store in {data_dir} cannot be loaded under this opening's query limits ({failure}): "
        "a write in its append-only log takes longer (or more memory) to replay than the server "
        f"is allowed (query_timeout_ms {settings.query_timeout_ms}, query_timeout_max_ms "
        f"{settings.query_timeout_max_ms}, query_mem_capacity {settings.query_mem_capacity}; "
        "0 is none). The log is not damaged and the files are left as they are: open the store "
        "again with larger limits (LINEAGE_GRAPH_QUERY_TIMEOUT_MS and "
        "LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS, or LINEAGE_GRAPH_QUERY_MEM_CAPACITY; 0 for none). "
        f"Log: {log}"
    )


def _damaged_message(data_dir: Path, damage: str, log: Path) -> str:
    # Redis's advice (``./redis-check-aof --fix``) names a tool the package does not ship, in a
    # message buried under the start's warnings.
    return (
        f"the append-only log of the store in {data_dir} is damaged ({damage}): the server "
        "cannot load it, and the files are left as they are. Keep a copy of the directory; "
        'docs/reliability.md ("A damaged append-only log") says how to find where the damage '
        "starts and cut the log there, or start again from the snapshot of the last clean "
        f"close. Log: {log}"
    )


def _empty_base(data_dir: Path) -> Path | None:
    """The base file of the store's log (the snapshot its last rewrite wrote, ``*.rdb``) if it
    holds no snapshot: empty, or not one. Redis loads an empty file of the log as an empty
    one, so a store whose base file was cut to nothing opened EMPTY, without a word (every
    write up to the last rewrite gone, and the next close's rewrite made it for good), where
    one cut anywhere else is refused as damaged. Every snapshot Redis writes begins with
    ``REDIS``, an empty store's too."""
    try:
        entries = _manifest_entries(data_dir)
    except OSError:
        return None
    for path, kind in entries:
        if kind != "b" or path.suffix != ".rdb":
            continue
        try:
            with open(path, "rb") as f:
                head = f.read(5)
        except OSError:
            continue  # missing (_check_aof) or unreadable: the server says why
        if head != b"REDIS":
            return path
    return None


#: Redis rewrites the append-only log once it has grown by this much (%) since its last
#: rewrite (and is over 4 MB).
_AOF_REWRITE_PERCENTAGE = 100


def _check_replay(
    data_dir: Path, workdir: Path, log_start: int, settings: EmbeddedSettings
) -> None:
    """Refuse a store a logged write of which failed as this start's server replayed it (the
    lines of ``workdir``'s server log from byte ``log_start`` on)."""
    replay = _replay_failure(workdir / _LOG_FILE, log_start)
    if replay is not None:
        log = workdir / _LOG_FILE
        if any(limit in replay for limit in _REPLAY_LIMITS):
            raise EngineError(_replay_limit_message(data_dir, replay, settings, log))
        raise EngineError(_damaged_message(data_dir, replay, log))


def _aof_tail_bytes(data_dir: Path) -> int:
    """Bytes of writes since the append-only file's last rewrite: what the next start-up
    replays statement by statement."""
    total = 0
    for part in (data_dir / _AOF_DIR).glob("*.incr.aof"):
        with contextlib.suppress(FileNotFoundError):  # removed by a rewrite meanwhile
            total += part.stat().st_size
    return total
