"""A store whose append-only log was deleted or moved by hand (or half restored).

The server then started an EMPTY store without a word (a missing manifest alike: its files
ignored), ``lineage-graph doctor`` said all was well, and the next close overwrote ``dump.rdb``,
the last snapshot, with the empty store. Now the library records that the store has a log (a
marker file) and refuses to open one that has lost it, changing nothing; a new store, one made
by an earlier version (no marker) and a log cut short by a crash open as before.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    EngineError,
    FailedPreconditionError,
    LineageStore,
    NodeKind,
)
from lineage_graph.backends._falkordb_server import running_server
from lineage_graph.backends.embedded import EmbeddedBackend
from lineage_graph.cli import ExitCode
from tests.cli.conftest import invoke
from tests.reliability._integrity import assert_healthy

MARKER = "lineage-graph.store"


def _store_of_five(path: Path) -> None:
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(5)])


def _files(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _log_dir(path: Path) -> Path:
    return path / "appendonly"


def _manifest(path: Path) -> Path:
    return _log_dir(path) / "appendonly.aof.manifest"


def _one(pattern: str) -> Callable[[Path], Path]:
    return lambda path: next(_log_dir(path).glob(pattern))


#: What is taken away: the whole log folder, its manifest, its incremental file, its base.
LOST: dict[str, Callable[[Path], Path]] = {
    "folder": _log_dir,
    "manifest": _manifest,
    "incremental file": _one("*.incr.aof"),
    "base file": _one("*.base.*"),
}


@pytest.mark.parametrize("lost", list(LOST))
def test_a_store_that_lost_its_log_is_refused_unchanged_and_doctor_says_so(
    tmp_path: Path, lost: str
) -> None:
    path = tmp_path / "store"
    _store_of_five(path)
    assert (path / MARKER).is_file()
    gone = LOST[lost](path)
    aside = tmp_path / "aside"
    shutil.move(gone, aside)
    before = _files(path)

    with pytest.raises(FailedPreconditionError) as caught:
        LineageStore.open(path)
    message = str(caught.value)
    missing = _manifest(path) if lost == "folder" else gone
    assert str(missing) in message and "lost its append-only log" in message
    assert f"aside (if it is there) and delete {path / MARKER}" in message  # to start empty
    assert not caught.value.retryable
    assert running_server(path) is None  # no server was started
    assert _files(path) == before  # dump.rdb, the last snapshot, untouched

    result = invoke(["doctor", "--json", "--store", str(path)])
    assert result.exit_code == ExitCode.NO, result.output
    report = json.loads(result.stdout)
    assert not report["ok"]
    failed = [c for c in report["checks"] if c["ok"] is False]
    assert any(str(missing) in c["detail"] for c in failed), failed
    assert _files(path) == before

    shutil.move(aside, gone)  # put back: everything is there
    with LineageStore.open(path) as store:
        assert store.count(NodeKind.ARTIFACT) == 5


def test_deleting_the_marker_is_the_explicit_way_to_start_empty(tmp_path: Path) -> None:
    path = tmp_path / "store"
    _store_of_five(path)
    shutil.rmtree(_log_dir(path))
    (path / MARKER).unlink()
    with LineageStore.open(path) as store:
        assert store.count(NodeKind.ARTIFACT) == 0
    assert (path / MARKER).is_file()  # the new log is watched in turn


def test_a_store_made_before_the_marker_opens_and_gets_one(tmp_path: Path) -> None:
    """A store an earlier version made has a log and no marker: opened as before, and marked
    (so losing its log later is refused too)."""
    path = tmp_path / "store"
    _store_of_five(path)
    (path / MARKER).unlink()
    with LineageStore.open(path) as store:
        assert store.count(NodeKind.ARTIFACT) == 5
    assert (path / MARKER).is_file()
    shutil.rmtree(_log_dir(path))
    with pytest.raises(FailedPreconditionError):
        LineageStore.open(path)


def test_a_log_cut_short_by_a_crash_still_opens(tmp_path: Path) -> None:
    """A write torn by a crash (the last command cut short) is dropped by the server
    (``aof-load-truncated``), not taken for a lost log."""
    path = tmp_path / "store"
    _store_of_five(path)
    with next(_log_dir(path).glob("*.incr.aof")).open("ab") as aof:
        aof.write(b"*3\r\n$3\r\nSET\r\n$3\r\nke")  # cut in the middle of a command
    with pytest.warns(RuntimeWarning, match="cut short by a crash"):
        store = LineageStore.open(path)
    with store:
        assert store.count(NodeKind.ARTIFACT) == 5


def _store_of_five_then_five(path: Path) -> tuple[list[int], list[int]]:
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        first = store.put_artifacts([Artifact(type="Data", uri=f"/{i}") for i in range(5)])
        last = store.put_artifacts([Artifact(type="Data", uri=f"/last{i}") for i in range(5)])
    return first, last


@pytest.mark.parametrize("torn", [False, True], ids=["whole-writes", "a-write-cut-short"])
def test_a_log_a_power_loss_ended_with_zeros_opens_with_every_whole_write(
    tmp_path: Path, torn: bool
) -> None:
    """A power loss while a write was appended can leave the file longer than what reached the
    disk, read back as zeros. The server took them for a damaged log and the store could not be
    opened at all (``EngineError``, "failed to start", advising a tool the package does not
    ship). The zeros hold nothing: every whole write is there, a write they cut short is not
    (it was never acknowledged), and ids go on without reuse."""
    path = tmp_path / "store"
    first, last = _store_of_five_then_five(path)
    incr = next(_log_dir(path).glob("*.incr.aof"))
    log = incr.read_bytes()
    cut = 40 if torn else 0  # into the last write's command
    incr.write_bytes(log[: len(log) - cut] + b"\0" * 5000)

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        store = LineageStore.open(path)
    torn_notes = [w for w in said if "cut short by a crash" in str(w.message)]
    assert len(torn_notes) == (1 if torn else 0)  # whole writes and zeros: nothing was dropped
    with store:
        stored = {a.id: a.uri for a in store.get_artifacts()}
        kept = first if torn else first + last
        assert sorted(stored) == sorted(kept)
        [new] = store.put_artifacts([Artifact(type="Data", uri="/after")])
        assert new > max(first + last)
        assert_healthy(store)
    with LineageStore.open(path) as store:  # and the log stays loadable
        assert store.count(NodeKind.ARTIFACT) == len(kept) + 1


def _damage_incremental(path: Path) -> str:
    incr = next(_log_dir(path).glob("*.incr.aof"))
    with incr.open("ab") as f:
        f.write(b"not a command\r\n")
    return incr.name


def _damage_base(path: Path) -> str:
    """Cut short the base file a rewrite of the log wrote (the store's snapshot in the log)."""
    base = _compacted(path)
    base.write_bytes(base.read_bytes()[:-100])
    return "Error loading data from RDB"


def _compacted(path: Path) -> Path:
    """Rewrite the store's log (its five artifacts now in the base file); the base file."""
    with LineageStore.open(path) as store:
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        backend.compact()
        deadline = time.monotonic() + 60
        while not (_log_dir(path) / "appendonly.aof.2.base.rdb").exists():
            assert time.monotonic() < deadline, "the log was not rewritten"
            time.sleep(0.05)
    return _log_dir(path) / "appendonly.aof.2.base.rdb"


def _empty_base(path: Path) -> str:
    """The base file cut to nothing: Redis loads an empty file as an empty log (the store
    opened EMPTY, without a word)."""
    _compacted(path).write_bytes(b"")
    return "holds no snapshot"


def _base_bytes_changed(path: Path) -> str:
    base = _compacted(path)
    data = bytearray(base.read_bytes())
    data[-1] ^= 0xFF  # its checksum
    base.write_bytes(bytes(data))
    return "Wrong RDB checksum"


def _garbage_manifest(path: Path) -> str:
    _manifest(path).write_text("not a manifest\n")
    return "Invalid AOF manifest file format"


def _command_changed_in_place(path: Path) -> str:
    """The last write (the five artifacts) with bytes changed in place: still a well-formed
    command, whose query fails when replayed. The server logged it and loaded the store
    without it (the store opened with no artifact, without a word)."""
    incr = next(_log_dir(path).glob("*.incr.aof"))
    data = bytearray(incr.read_bytes())
    at = data.rindex(b"CYPHER `new_artifacts_0`")
    data[at : at + 6] = b"CYPHEX"
    incr.write_bytes(bytes(data))
    return "a logged write fails when replayed"


def _command_name_changed(path: Path) -> str:
    """The last write's command name with a byte changed in place: the server exits as it
    loads the log (it said only "failed to start", above the start's warnings)."""
    incr = next(_log_dir(path).glob("*.incr.aof"))
    data = bytearray(incr.read_bytes())
    at = data.rindex(b"GRAPH.QUERY")
    data[at : at + 11] = b"GRAPH.QUERZ"
    incr.write_bytes(bytes(data))
    return "Unknown command 'GRAPH.QUERZ' reading the append only file"


@pytest.mark.parametrize(
    "damage",
    [
        _damage_incremental,
        _damage_base,
        _empty_base,
        _base_bytes_changed,
        _garbage_manifest,
        _command_changed_in_place,
        _command_name_changed,
    ],
    ids=["incr", "base", "base-empty", "base-bytes", "manifest", "command-in-place", "name"],
)
def test_a_damaged_log_is_refused_unchanged_saying_so_and_doctor_too(
    tmp_path: Path, damage: Callable[[Path], str]
) -> None:
    """Bytes that are no command at the end of the log (not zeros, not a write cut short), or
    a base file cut short: the server refuses the log. The error said "failed to start" above
    the start's warnings (for the base, a crash report), with Redis's advice to run
    ``./redis-check-aof``, which the package does not ship; it now says the log is damaged,
    what Redis found (the file), and where what to do is described. A base file cut to nothing,
    and a write whose bytes were changed in place (still a command, whose query fails when
    replayed), were not refused at all: the store opened without what they held, without a
    word (fixed)."""
    path = tmp_path / "store"
    _store_of_five(path)
    said = damage(path)
    before = {k: v for k, v in _files(path).items() if k != "server.log"}

    for _ in range(2):  # and again: nothing the first refusal did makes the store open
        with pytest.raises(EngineError) as caught:
            LineageStore.open(path)
        message = str(caught.value)
        assert f"append-only log of the store in {path.resolve()} is damaged" in message
        assert said in message and '"A damaged append-only log"' in message
        assert "redis-check-aof" not in message
        assert not caught.value.retryable
        assert running_server(path) is None
    after = {k: v for k, v in _files(path).items() if k != "server.log"}
    if damage is _command_changed_in_place:
        # Refused once the server had loaded the log, which it appends its constraint
        # commands to at each start (harmless: they fail when replayed, as every start logs):
        # what was there is kept, the damaged write included.
        incr = next(k for k in before if k.endswith(".incr.aof"))
        assert after[incr].startswith(before[incr])
        before = {k: v for k, v in before.items() if not k.startswith("appendonly/")}
        after = {k: v for k, v in after.items() if not k.startswith("appendonly/")}
        assert after == before
    else:
        assert after == before

    result = invoke(["doctor", "--json", "--store", str(path)])
    assert result.exit_code == ExitCode.NO, result.output
    failed = [c for c in json.loads(result.stdout)["checks"] if c["ok"] is False]
    assert any("is damaged" in c["detail"] for c in failed), failed


def test_a_write_a_crash_cut_short_is_dropped_and_said_so_and_doctor_notes_it(
    tmp_path: Path,
) -> None:
    """The last write cut short (as a crash leaves it): the store opens without it, as before,
    but it was dropped without a word (no warning, ``doctor`` all ✓). Opening now says so (a
    RuntimeWarning naming the file and the bytes dropped); ``doctor`` shows it as a note."""
    path = tmp_path / "store"
    first, _ = _store_of_five_then_five(path)
    incr = next(_log_dir(path).glob("*.incr.aof"))
    log = incr.read_bytes()
    incr.write_bytes(log[:-40])
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)

    with pytest.warns(RuntimeWarning, match="cut short by a crash") as said:
        store = LineageStore.open(path)
    with store:
        assert sorted(a.id for a in store.get_artifacts()) == first
    message = str(said[0].message)
    assert incr.name in message and " bytes of " in message
    with warnings.catch_warnings():  # said once: the server cut the log as it loaded it
        warnings.simplefilter("error")
        LineageStore.open(path).close()

    result = invoke(["doctor", "--json", "--store", str(copy)])
    assert result.exit_code == 0, result.output
    notes = [c for c in json.loads(result.stdout)["checks"] if c["check"] == "note"]
    assert len(notes) == 1 and "cut short by a crash" in notes[0]["detail"], notes
    assert notes[0]["ok"] is None


#: A constraint creation every start adds to the log (FalkorDB 4.16), as it is in the log: the
#: next start replays every one since the log's last rewrite, logging a harmless line each.
_CONSTRAINT = (
    b"*9\r\n$16\r\nGRAPH.CONSTRAINT\r\n$6\r\nCREATE\r\n$7\r\nlineage\r\n$6\r\nUNIQUE\r\n"
    b"$4\r\nNODE\r\n$10\r\nIdSequence\r\n$10\r\nPROPERTIES\r\n$1\r\n1\r\n$4\r\nkind\r\n"
)


@pytest.mark.parametrize("end", ["torn", "damaged"])
def test_what_a_start_says_after_hundreds_of_opens_of_constraint_lines_is_read(
    tmp_path: Path, end: str
) -> None:
    """A start replays the constraints every earlier start since the log's last rewrite added,
    logging a line each ("Constraint already exists"): ~580 opens leave 7,000, 1.2 MB of
    lines, before what the start says of the log's end. Only the start's first MiB of lines was
    read: a write a crash cut short was dropped without the warning, and a damaged log was
    refused as "failed to start", not as damaged. Both are said whatever precedes them."""
    path = tmp_path / "store"
    _store_of_five(path)
    incr = next(_log_dir(path).glob("*.incr.aof"))
    with incr.open("ab") as f:
        f.write(_CONSTRAINT * 7000)
        f.write(b"*3\r\n$3\r\nSET\r\n$3\r\nke" if end == "torn" else b"not a command\r\n")
    if end == "torn":
        with pytest.warns(RuntimeWarning, match="cut short by a crash"):
            store = LineageStore.open(path)
        with store:
            assert store.count(NodeKind.ARTIFACT) == 5
    else:
        with pytest.raises(EngineError, match=r"append-only log of the store in .* is damaged"):
            LineageStore.open(path)
    assert (path / "server.log").stat().st_size > 1 << 20


def test_a_write_that_replays_past_the_query_limits_is_no_damage_and_opens_with_larger_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FalkorDB applies its query timeout to the writes it replays as it loads the store: a
    write logged whole (acknowledged) that replays slower than this opening's timeout (a
    smaller ``query_timeout_ms``, or a slower, loaded machine) fails there. The store was
    refused as "damaged", advising to cut the log where the damage starts (losing that write
    and every later one); it is not damaged: said so, with the settings to raise, and it opens
    whole with larger limits."""
    path = tmp_path / "store"
    _store_of_five(path)
    with LineageStore.open(path) as store:  # one statement, logged as it was sent
        store.backend.write("UNWIND range(1, 200000) AS i CREATE (:Bulk {i: i})", {})
    before = {k: v for k, v in _files(path).items() if not k.startswith("appendonly/")}
    before.pop("server.log")

    monkeypatch.setenv("LINEAGE_GRAPH_QUERY_TIMEOUT_MS", "1")
    monkeypatch.setenv("LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS", "1")
    with pytest.raises(EngineError) as caught:
        LineageStore.open(path)
    message = str(caught.value)
    assert "Query timed out" in message and "is damaged" not in message
    assert "not damaged" in message and "LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS" in message
    assert running_server(path) is None
    after = {k: v for k, v in _files(path).items() if not k.startswith("appendonly/")}
    after.pop("server.log")
    assert after == before
    result = invoke(["doctor", "--json", "--store", str(path)])
    assert result.exit_code == ExitCode.NO, result.output
    failed = [c for c in json.loads(result.stdout)["checks"] if c["ok"] is False]
    assert any("not damaged" in c["detail"] for c in failed), failed

    monkeypatch.delenv("LINEAGE_GRAPH_QUERY_TIMEOUT_MS")
    monkeypatch.delenv("LINEAGE_GRAPH_QUERY_TIMEOUT_MAX_MS")
    with LineageStore.open(path) as store:
        assert store.backend.read("MATCH (b:Bulk) RETURN count(b) AS n", {}) == [{"n": 200000}]
        assert len(store.get_artifacts()) == 5


def test_a_refused_start_does_not_rewrite_the_log_without_the_write_that_failed(
    tmp_path: Path,
) -> None:
    """Redis rewrites the log as soon as it has loaded one whose incremental part outgrew its
    base (over 4 MB): a start refused because a logged write failed when replayed had begun
    that rewrite, from what it had loaded, without that write, when it was killed (the
    manifest changed, a new incremental file); finished first, the write would be gone from
    the log for good. Now the server rewrites nothing before the start has checked what it
    loaded: the files are as they were, and the store opens whole with larger limits."""
    import contextlib
    import os
    import signal

    path = tmp_path / "store"
    _store_of_five(path)
    store = LineageStore.open(path)
    backend = store.backend
    assert isinstance(backend, EmbeddedBackend) and backend.server is not None
    # The state a crash leaves after a session's writes: an incremental file over 4 MB and
    # larger than the base (the running server would have rewritten it: not this one).
    backend._execute("CONFIG", "SET", "auto-aof-rewrite-percentage", "0")
    backend.write("CREATE (:Pad {s: $s})", {"s": "p" * (5 << 20)})
    backend.write("MATCH (p:Pad) DELETE p", {})
    backend.write("UNWIND range(1, 200000) AS i CREATE (:Bulk {i: i})", {})
    os.kill(backend.server.pid, signal.SIGKILL)  # type: ignore[arg-type]
    with contextlib.suppress(EngineError):
        store.close()
    assert running_server(path) is None
    manifest = _manifest(path).read_bytes()
    files = sorted(p.name for p in _log_dir(path).iterdir())

    with pytest.raises(EngineError, match="Query timed out"):
        LineageStore.open(path, query_timeout_ms=1, query_timeout_max_ms=1)
    assert running_server(path) is None
    assert _manifest(path).read_bytes() == manifest
    assert sorted(p.name for p in _log_dir(path).iterdir()) == files

    with LineageStore.open(path) as store:
        assert store.backend.read("MATCH (b:Bulk) RETURN count(b) AS n", {}) == [{"n": 200000}]
        assert len(store.get_artifacts()) == 5
        backend = store.backend
        assert isinstance(backend, EmbeddedBackend)
        said = backend._execute("CONFIG", "GET", "auto-aof-rewrite-percentage")
        assert [str(x, "ascii") if isinstance(x, bytes) else x for x in said][1] == "100"


#: Opens the store at argv[1] and is killed (SIGKILL) once its new server has answered, before
#: it has checked what that server loaded: the server runs on, its record written.
_KILLED_BEFORE_ITS_CHECK = """
import os, signal, sys
from lineage_graph import LineageStore
from lineage_graph.backends import _server_aof

def killed(log, start):
    os.kill(os.getpid(), signal.SIGKILL)

_server_aof._replay_failure = killed
LineageStore.open(sys.argv[1])
"""


@pytest.mark.parametrize("damage", [None, _command_changed_in_place], ids=["whole", "damaged"])
def test_a_server_whose_starter_died_before_its_check_is_checked_by_the_next_opener(
    tmp_path: Path, damage: Callable[[Path], str] | None
) -> None:
    """The process that started a server killed after the server answered and before it
    checked what the server loaded (and let it rewrite its log): the server ran on with
    rewrites off, and every process that attached to it used it so, its append-only log
    growing without bound as long as one stayed attached, and what it had loaded unchecked (a
    logged write that failed when replayed went unsaid). The next opener now does both: the
    server rewrites its log again, or, the log damaged, the store is refused and the server
    stopped."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile

    path = tmp_path / "store"
    _store_of_five(path)
    if damage is not None:
        damage(path)
    # The starter's temporary directory, where its server's socket folder is (short: a socket's
    # path must fit in 104 bytes); once the server is stopped, nothing is to be left there.
    starter_tmp = Path(tempfile.mkdtemp(prefix="lgst-", dir="/tmp"))
    starter = subprocess.run(
        [sys.executable, "-c", _KILLED_BEFORE_ITS_CHECK, str(path)],
        timeout=120,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(starter_tmp)},
    )
    # (killed where the check begins: anything else, the start failed or never checked)
    assert starter.returncode == -signal.SIGKILL, (starter.returncode, starter.stderr)
    orphan = running_server(path)
    assert orphan is not None, sorted(p.name for p in path.iterdir())
    try:
        if damage is not None:
            with pytest.raises(EngineError, match="a logged write fails when replayed"):
                LineageStore.open(path)
            assert running_server(path) is None
            assert list(starter_tmp.iterdir()) == []  # its socket folder was left for good
            return
        with LineageStore.open(path) as store:
            backend = store.backend
            assert isinstance(backend, EmbeddedBackend) and backend.server is not None
            assert backend.server.pid == orphan
            said = backend._execute("CONFIG", "GET", "auto-aof-rewrite-percentage")
            assert [str(x, "ascii") if isinstance(x, bytes) else x for x in said][1] == "100"
            assert len(store.get_artifacts()) == 5
    finally:
        if running_server(path) == orphan:
            os.kill(orphan, signal.SIGKILL)
        shutil.rmtree(starter_tmp, ignore_errors=True)
