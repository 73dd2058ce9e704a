"""The MLMD SQLite file an import reads, as of one moment: a copy of it in a temporary folder
(:func:`_as_of_now`), locked while it is read, and the folders of killed imports swept
(:func:`_sweep_dead_snapshots`); the order of its links read from the copy (:func:`_links_by_id`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import (
    ConfigurationError,
    FailedPreconditionError,
)
from ._config import sqlite_file
from ._import_source import _in_use, _open


@dataclass(frozen=True)
class _Snapshot:
    """The MLMD store as of one moment: the SQLite copy at ``path`` (:func:`_as_of_now`)."""

    path: str
    #: How to open it (what :class:`SourceReader` opens).
    config: Any


#: MLMD's link tables (the same in every schema version ml_metadata migrates), by the name
#: get_lineage_subgraph gives their rows: (table, its node column).
_LINK_TABLES = {
    "attributions": ("Attribution", "artifact_id"),
    "associations": ("Association", "execution_id"),
}


def _links_by_id(path: str, links: str) -> dict[tuple[int, int], int]:
    """Each ``(node, context)`` link of MLMD's SQLite file ``path`` (a private copy) by its place
    in link id order: the order MLMD lists them in (get_lineage_subgraph), which its API does
    not expose. Empty when the file cannot tell (the caller then asks the API)."""
    table, column = _LINK_TABLES[links]
    try:
        with contextlib.closing(
            sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)
        ) as db:
            rows = db.execute(
                f"SELECT {column}, context_id FROM {table} ORDER BY id"  # table and column: fixed
            ).fetchall()
    except sqlite3.Error:
        return {}
    order: dict[tuple[int, int], int] = {}
    for node, context in rows:
        if isinstance(node, int) and isinstance(context, int):
            order.setdefault((node, context), len(order))
    return order


@contextlib.contextmanager
def _as_of_now(mlmd: Any, config: Any) -> Iterator[_Snapshot]:
    """How to open the MLMD store to read, and the path of its SQLite copy (``""`` for MySQL):
    for a SQLite file, a copy of it as it is now (SQLite's online backup: one read transaction, so a
    consistent state; the file itself is opened read only), in a temporary directory removed
    afterwards.

    Why: the import reads MLMD in many calls (nodes, then events, then links context by
    context). A pipeline writing to the file meanwhile made a link or event name a node the
    import had not read, and the import was refused ("the MLMD store is being written"): an
    MLMD database that pipelines keep writing could never be imported. A writer waits at most
    for the copy. Other sources (MySQL) are read live.

    A file of an older MLMD schema (``mlmd`` is None: written by an older ml_metadata, such as
    a pipeline of TFX 1.13 or before) was refused ("MLMD database version 9 is older than
    library version 10 ..."): upgrading the file itself would break the older pipelines that
    use it. The copy is migrated instead, as ml_metadata migrates a database it is allowed to."""
    if not config.HasField("sqlite"):
        yield _Snapshot("", config)
        return
    path = sqlite_file(config.sqlite.filename_uri)
    try:
        _sweep_dead_snapshots(tempfile.gettempdir())
        made = tempfile.TemporaryDirectory(prefix=f"{_SNAPSHOT_PREFIX}{os.getpid()}-")
    except OSError as exc:  # no writable temporary directory (as for the engine's socket)
        raise ConfigurationError(
            f"cannot copy the MLMD store {path} to read it as of one moment: no temporary "
            f"directory can be made (TMPDIR chooses where): {exc}"
        ) from None
    with made as tmp, _holding_snapshot(tmp):
        copy = os.path.join(tmp, "snapshot.sqlite")
        try:
            name = urllib.parse.quote(os.fsencode(path))  # its bytes: a name need not be UTF-8
            source = sqlite3.connect(f"file:{name}?mode=ro", uri=True)
            try:
                target = sqlite3.connect(copy)
                try:
                    source.backup(target)
                finally:
                    target.close()
            finally:
                source.close()
        except (sqlite3.Error, OSError) as exc:
            raise FailedPreconditionError(
                f"cannot copy the MLMD store {path} to read it as of one moment (into "
                f"{tmp}: TMPDIR chooses where): {exc}{_in_use(config)}"
            ) from exc
        snapshot = type(config)()
        snapshot.CopyFrom(config)
        snapshot.sqlite.filename_uri = copy
        _open(snapshot, upgrade=mlmd is None)  # (an older schema's copy migrated: see above)
        yield _Snapshot(copy, snapshot)


#: A snapshot's folder: the prefix, the importing process's pid, a random part. It holds the
#: copy and :data:`_SNAPSHOT_LOCK`, locked (``flock``) by that process while it reads the copy.
_SNAPSHOT_PREFIX = "lineage-graph-mlmd-"
_SNAPSHOT_LOCK = "held.lock"


#: How old a dead import's lock must be before its folder is removed: between making it and
#: locking it an import holds no lock (its pid tells in its own pid namespace, not in another
#: sharing the temporary directory).
_SNAPSHOT_SWEEP_AGE_S = 60.0


@contextlib.contextmanager
def _holding_snapshot(folder: str) -> Iterator[None]:
    """The snapshot's lock held (released by the kernel when this process dies, however)."""
    lock = os.path.join(folder, _SNAPSHOT_LOCK)
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise FailedPreconditionError(
            f"cannot copy the MLMD store to read it as of one moment: cannot make {lock} "
            f"(TMPDIR chooses where): {exc}"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _sweep_dead_snapshots(base: str) -> int:
    """Remove the snapshot folders in ``base`` of imports that were killed (``kill -9``, the
    OOM killer: their ``TemporaryDirectory`` was never cleaned): a copy of a whole MLMD
    database each, in ``/tmp`` (RAM, where it is a tmpfs) until a reboot. One is removed only
    where all three tell its import is gone: its name's pid is no process here, it is this
    user's, and its lock is free (an import in another pid namespace sharing ``base`` holds
    it) and older than :data:`_SNAPSHOT_SWEEP_AGE_S`. Folders of older versions (no pid in the
    name, no lock) are left. Returns how many were removed."""
    removed = 0
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith(_SNAPSHOT_PREFIX)]
    except OSError:
        return 0
    for entry in entries:
        pid_text = entry.name[len(_SNAPSHOT_PREFIX) :].split("-", 1)[0]
        if not (pid_text.isascii() and pid_text.isdigit()):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or st.st_uid != os.geteuid():
                continue
            os.kill(int(pid_text), 0)
            continue  # its import may still run (or another process has its pid: left)
        except ProcessLookupError:
            pass
        except (OSError, OverflowError):
            continue
        try:
            fd = os.open(os.path.join(entry.path, _SNAPSHOT_LOCK), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # no lock: not a folder this version made
        try:
            if time.time() - os.fstat(fd).st_mtime < _SNAPSHOT_SWEEP_AGE_S:
                continue  # (just made: its import may not have locked it yet)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(entry.path)
            removed += 1
        except OSError:
            continue  # held: its import runs (in another pid namespace)
        finally:
            os.close(fd)
    return removed
