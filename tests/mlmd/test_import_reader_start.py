"""Starting the child process that reads an MLMD store for an import
(``lineage_graph.mlmd._reader``): the Python it runs with, the temporary file it writes its
messages to, and a child that cannot import what it reads with. Each failure is
FailedPreconditionError saying what it is (no temporary directory: ConfigurationError),
nothing written."""

from __future__ import annotations

import gc
import multiprocessing.spawn
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("ml_metadata")

from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import ConfigurationError, FailedPreconditionError, LineageStore
from lineage_graph.mlmd._importer import import_mlmd
from lineage_graph.mlmd._reader import SourceReader

from .test_import import snapshot, write_mlmd_sqlite
from .test_import_hostile import _reader_children, _refused_in_a_child


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "mlmd.sqlite"
    write_mlmd_sqlite(path)
    return path


def _hooked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: str
) -> tuple[Path, Path, pb.ConnectionConfig]:
    """An MLMD file, a folder whose ``sitecustomize.py`` is ``hook`` first on the path (the
    child's path follows this process's), and the read-only config of the file."""
    path = _source(tmp_path)
    folder = tmp_path / "hook"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(hook)
    monkeypatch.syspath_prepend(str(folder))
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    return path, folder, config


def test_the_reader_runs_with_the_python_multiprocessing_starts_its_children_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An application embedding Python (uWSGI, PyInstaller) has ``sys.executable`` point at
    itself, not at a Python, and sets ``multiprocessing.set_executable`` for its children: the
    reading child was started with ``sys.executable`` and the import failed ("ml_metadata died
    reading it (exit 1)"), ml_metadata never having run."""
    path = _source(tmp_path)
    before = multiprocessing.spawn.get_executable()
    multiprocessing.spawn.set_executable(sys.executable)
    try:
        monkeypatch.setattr(sys, "executable", "/bin/false")
        with LineageStore.open(tmp_path / "store") as store:
            counts = import_mlmd(path, store).counts()
    finally:
        multiprocessing.spawn.set_executable(before)
    assert counts["artifacts"] == 6 and counts["events"] == 5, counts


def test_a_program_that_is_no_python_is_told_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that ends before answering (here the program multiprocessing would start is
    /bin/false) read nothing: said so, naming the program, not "ml_metadata died reading it"."""
    path = _source(tmp_path)
    before = multiprocessing.spawn.get_executable()
    with LineageStore.open(tmp_path / "store") as store:
        empty = snapshot(store)
        multiprocessing.spawn.set_executable("/bin/false")
        try:
            with pytest.raises(FailedPreconditionError) as caught:
                import_mlmd(path, store)
        finally:
            multiprocessing.spawn.set_executable(before)
        assert snapshot(store) == empty
    message = str(caught.value)
    assert "cannot start the process that reads the MLMD store (/bin/false -m " in message
    assert "it ended as it started (exit 1)" in message
    assert "died reading it" not in message
    assert not _reader_children()


@pytest.mark.parametrize(
    ("package", "told"),
    [
        # its own import error: it was told as "ml_metadata died reading it (exit 1:
        # ImportError: lineage_graph.mlmd needs ml-metadata ...)", the error it raised lost
        (
            "raise ImportError('a broken ml_metadata')\n",
            "it ended as it started (exit 1: ImportError: a broken ml_metadata; then ",
        ),
        # killed by a signal as it loads (as a crash in its native code would): it was told as
        # "ml_metadata died reading it (killed by SIGSEGV)"
        (
            "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
            "it was killed by SIGSEGV as it started, before it read anything",
        ),
    ],
    ids=["import-error", "killed"],
)
def test_a_reader_that_cannot_load_ml_metadata_is_told_it_did_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: str, told: str
) -> None:
    """ml_metadata broken on the child's path: the child did not start, and the import error it
    raised (cause first) or the signal that killed it is told, not "died reading it"."""
    path = _source(tmp_path)
    broken = tmp_path / "path" / "ml_metadata"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text(package)
    monkeypatch.syspath_prepend(str(broken.parent))  # (this process has its own imported)
    with LineageStore.open(tmp_path / "store") as store:
        empty = snapshot(store)
        with pytest.raises(FailedPreconditionError) as caught:
            import_mlmd(path, store)
        assert snapshot(store) == empty
    message = str(caught.value)
    assert "cannot start the process that reads the MLMD store" in message, message
    assert told in message, message
    assert "died reading it" not in message
    assert not _reader_children()


def test_no_temporary_directory_is_a_configuration_error_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TMPDIR naming a directory that is not there (none writable): the import raised
    FileNotFoundError (a traceback from the CLI), from the SQLite file's copy and, for a source
    read live (MySQL), from the reading child's message file. It is ConfigurationError, as
    where the embedded engine finds no directory for its socket (it was FailedPreconditionError
    here: another exit code for the same cause)."""
    path = _source(tmp_path)
    with LineageStore.open(tmp_path / "store") as store:
        empty = snapshot(store)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
        with pytest.raises(ConfigurationError, match="TMPDIR chooses where") as caught:
            import_mlmd(path, store)
        assert "no temporary directory can be made" in str(caught.value)
        config = pb.ConnectionConfig()
        config.sqlite.filename_uri = str(path)
        with pytest.raises(ConfigurationError, match="TMPDIR chooses where") as caught:
            SourceReader(config)
        assert "cannot start the process that reads the MLMD store" in str(caught.value)
        monkeypatch.undo()
        assert snapshot(store) == empty
    assert not _reader_children()


#: A ``sitecustomize`` that, in the reading child only, prints to its stdout as it starts and as
#: ml_metadata is imported, from Python and straight to descriptor 1 (as native code would).
_CHATTY = """
import os, sys
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    print("chatty as it starts", flush=True)
    os.write(1, b"native bytes on descriptor 1\\n")

    class _Finder:
        def find_spec(self, name, path=None, target=None):
            if name == "ml_metadata":
                print("chatty as ml_metadata is imported", flush=True)
                os.write(1, b"\\x00\\x00\\x00\\x05garbage")
            return None

    sys.meta_path.insert(0, _Finder())
"""


def test_what_the_reader_prints_does_not_break_its_replies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything the child prints, as it starts or imports ml_metadata, from Python or by native
    code writing to descriptor 1, stays out of its replies (a pipe of their own; its stdout
    goes where its stderr goes): the import reads the store."""
    path = _source(tmp_path)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_CHATTY)
    monkeypatch.syspath_prepend(str(hook))  # (the child's path follows this process's)
    with LineageStore.open(tmp_path / "store") as store:
        counts = import_mlmd(path, store).counts()
    assert counts["artifacts"] == 6 and counts["events"] == 5, counts
    assert not _reader_children()


#: A ``sitecustomize`` that, in the reading child only, writes ``{data}`` to its reply pipe (the
#: descriptor its command line names) as it starts, before its ``("ready",)``.
_NONSENSE = """
import os, pickle, struct, sys
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    os.write(int(sys.orig_argv[-1]), {data})
"""


@pytest.mark.parametrize(
    "data",
    [
        # a reply of its own (another pickle): it was told as "killed by SIGKILL as it
        # started", the importing process having killed it after 10 s waiting for it to end
        "struct.pack('<Q', 22) + pickle.dumps(('hello',), protocol=5)",
        # a length of 2**62 first: MemoryError (and 2**64 - 1: OverflowError), no typed error
        "(1 << 62).to_bytes(8, 'little')",
        # two bytes first: the length read was 2 bytes of them and 6 of the real one's, and
        # the import waited for that many bytes for ever (the child waited for a call)
        "b'\\x01\\x02'",
    ],
    ids=["another-reply", "huge-length", "short"],
)
def test_a_reader_that_answers_nonsense_first_is_told_as_such(tmp_path: Path, data: str) -> None:
    """Something the child runs as it starts writes to its reply pipe before its
    ``("ready",)``: the import fails with FailedPreconditionError (exit 5) saying the reader
    answered nonsense and read nothing, not as if it were killed or died reading."""
    path = _source(tmp_path)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_NONSENSE.format(data=data))
    message = _refused_in_a_child(tmp_path, path, pythonpath=hook)
    assert "cannot start the process that reads the MLMD store" in message, message
    assert "it answered nonsense where it says it started" in message, message
    assert "it read nothing" in message
    assert "killed" not in message and "died reading it" not in message
    with LineageStore.open(tmp_path / "store") as store:
        assert store.get_artifacts() == [] and store.get_executions() == []


#: A ``sitecustomize`` that makes the reading child, as it ends (its stdin closed), interrupt the
#: importing process (SIGINT: a second Ctrl-C while the reader is closed) and linger.
_INTERRUPTING = """
import os, sys
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    import atexit, signal, time

    def _interrupt():
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(120)

    atexit.register(_interrupt)
"""


def _descriptors() -> list[str]:
    """This process's open descriptors, after a garbage collection: an earlier test's garbage
    holding one (a store's connection) was collected during a test, and its descriptor read
    as one the test had closed (CI, the full suite)."""
    gc.collect()
    return sorted(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd to count in")
def test_a_reader_closed_while_interrupted_closes_everything_and_ends_its_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KeyboardInterrupt while close() waits for the child to end (a second Ctrl-C) left the
    reply pipe and the message file open (two descriptors per import, in a notebook) and the
    child running: it propagates, with both closed and the child killed and reaped."""
    _, _, config = _hooked(tmp_path, monkeypatch, _INTERRUPTING)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    before = _descriptors()
    try:
        reader = SourceReader(config)
        try:
            assert len(reader.get_artifacts()) == 6
            with pytest.raises(KeyboardInterrupt):
                reader.close()
                time.sleep(60)  # (were the signal late: what the test asks is below)
        finally:
            left = _reader_children()
            for pid in left:
                os.kill(pid, signal.SIGKILL)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert _descriptors() == before
    assert not left, "the reading child was left running"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd to count in")
def test_a_reader_popen_refuses_leaves_no_descriptor_open(tmp_path: Path) -> None:
    """subprocess.Popen raising other than OSError (ValueError: a NUL in the Python
    multiprocessing starts its children with) left the reply pipe open (and the message file
    until collected) and escaped as a ValueError (a traceback from the CLI): it is
    FailedPreconditionError, nothing left open."""
    path = _source(tmp_path)
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    before_python = multiprocessing.spawn.get_executable()
    multiprocessing.spawn.set_executable(sys.executable + "\0x")
    try:
        before = _descriptors()
        with pytest.raises(Exception) as caught:  # (its type asked after what it left open)
            SourceReader(config)
        assert _descriptors() == before
        assert caught.type is FailedPreconditionError, caught.value
        with LineageStore.open(tmp_path / "store") as store:
            empty = snapshot(store)
            with pytest.raises(FailedPreconditionError):
                import_mlmd(path, store)
            assert snapshot(store) == empty
    finally:
        multiprocessing.spawn.set_executable(before_python)
    assert "cannot start the process that reads the MLMD store: embedded null byte" in str(
        caught.value
    )
    assert not _reader_children()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd to count in")
def test_a_sys_path_entry_holding_a_nul_is_left_out_of_the_readers_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry of ``sys.path`` holding a NUL (which the child's path copied) made Popen refuse
    the child (no environment variable can hold a NUL) and the import fail: no directory is
    named by such an entry, so nothing importable is lost leaving it out, and the import
    reads the store, nothing left open. (The entry is there only while the import runs: this
    Python 3.11's own imports of a module not found before it raise ValueError, redis's
    optional ones as the store opens among them.)"""
    path = _source(tmp_path)
    before = _descriptors()
    with LineageStore.open(tmp_path / "store") as store, monkeypatch.context() as patched:
        patched.setattr(sys, "path", [*sys.path, str(tmp_path / "a\0b")])
        counts = import_mlmd(path, store).counts()
    assert counts["artifacts"] == 6 and counts["events"] == 5, counts
    assert _descriptors() == before
    assert not _reader_children()


def test_a_sys_path_entry_holding_the_path_separator_does_not_put_the_cwd_on_the_readers_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry ``/x:evil`` of ``sys.path`` was split in the child's ``PYTHONPATH`` into ``/x``
    and ``evil``, a path relative to its working directory (which ``-P`` keeps off its path): a
    ``sitecustomize.py`` in ``./evil`` ran in the reading child. Such an entry is left out."""
    path = _source(tmp_path)
    cwd = tmp_path / "cwd"
    (cwd / "evil").mkdir(parents=True)
    ran = tmp_path / "ran"
    (cwd / "evil" / "sitecustomize.py").write_text(
        f"open({str(ran)!r}, 'w').close()\n", encoding="utf-8"
    )
    monkeypatch.chdir(cwd)
    with LineageStore.open(tmp_path / "store") as store, monkeypatch.context() as patched:
        # (first: a sitecustomize.py of a system Python's own path would be found before it)
        patched.setattr(sys, "path", [f"{tmp_path / 'x'}{os.pathsep}evil", *sys.path])
        counts = import_mlmd(path, store).counts()
    assert counts["artifacts"] == 6 and counts["events"] == 5, counts
    assert not ran.exists()
    assert not _reader_children()


#: A ``sitecustomize`` that, in the reading child only, writes a stray byte to its reply pipe
#: and then makes ml_metadata's import fail (the child ends as it starts).
_STRAY_THEN_BROKEN = """
import os, sys
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    os.write(int(sys.orig_argv[-1]), b"\\x01")

    class _Broken:
        def find_spec(self, name, path=None, target=None):
            if name == "ml_metadata":
                raise ImportError("ml_metadata is broken on this path")
            return None

    sys.meta_path.insert(0, _Broken())
"""


def test_a_reader_that_writes_nonsense_then_ends_is_told_by_why_it_ended(tmp_path: Path) -> None:
    """A stray byte on the reply pipe, then ml_metadata failing to import: the error tells the
    import that failed (it said only "answered nonsense", and the cause was lost)."""
    path = _source(tmp_path)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_STRAY_THEN_BROKEN)
    message = _refused_in_a_child(tmp_path, path, pythonpath=hook)
    assert "it ended as it started" in message, message
    assert "ImportError: ml_metadata is broken on this path" in message, message
    assert message.endswith("to its reply pipe first"), message


#: A ``sitecustomize`` that makes the reading child hang as it starts, before it says it started
#: (as a deadlocked import would; 120 s, so that nothing outlives a failed test for long).
_HANGING = """
import sys, time
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    time.sleep(120)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd to count in")
def test_a_reader_that_hangs_as_it_starts_is_killed_and_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that never says it started (something it runs as it starts hangs) hung the
    import until Ctrl-C: it is awaited LINEAGE_GRAPH_MLMD_START_TIMEOUT_S at most, then killed
    and reaped, every descriptor closed, and the import fails with FailedPreconditionError
    saying so (the CLI: exit 5)."""
    monkeypatch.setenv("LINEAGE_GRAPH_MLMD_START_TIMEOUT_S", "0.5")
    path, hook, config = _hooked(tmp_path, monkeypatch, _HANGING)
    before = _descriptors()
    try:
        with pytest.raises(FailedPreconditionError) as caught:
            SourceReader(config)
        assert _descriptors() == before
    finally:
        left = _reader_children()
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert not left, "the reading child was left running"
    message = str(caught.value)
    assert "cannot start the process that reads the MLMD store" in message, message
    assert "it did not say it started within 0.5 s (LINEAGE_GRAPH_MLMD_START_TIMEOUT_S" in message
    assert "it was killed and read nothing" in message
    told = _refused_in_a_child(tmp_path, path, pythonpath=hook)
    assert "it did not say it started within 0.5 s" in told, told
    with LineageStore.open(tmp_path / "store") as store:
        assert store.get_artifacts() == [] and store.get_executions() == []


@pytest.mark.parametrize(
    "variable",
    [
        "LINEAGE_GRAPH_MLMD_START_TIMEOUT_S",
        "LINEAGE_GRAPH_MLMD_STALL_TIMEOUT_S",
        "LINEAGE_GRAPH_MLMD_QUIET_NOTICE_S",
        "LINEAGE_GRAPH_MLMD_REPLY_TIMEOUT_S",
    ],
)
def test_a_bad_timeout_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """A reader's timeout not above 0 is ConfigurationError naming its variable."""
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(_source(tmp_path))
    monkeypatch.setenv(variable, "0")
    with pytest.raises(ConfigurationError, match=variable):
        SourceReader(config)
    assert not _reader_children()


#: Run in a process of its own (an audit hook cannot be removed): the reply pipe's file fails
#: to open (a KeyboardInterrupt raised where it is opened, as Ctrl-C there would), the
#: exception kept (as a notebook keeps the last traceback); then what is left open and running.
_INTERRUPTED_AS_THE_PIPE_OPENS = """
import json, os, sys
from ml_metadata.proto import metadata_store_pb2 as pb
from lineage_graph.mlmd._reader import SourceReader

armed = []

def hook(event, args):
    # io.open of a descriptor for reading: the reply pipe's file (its mode is told as "r")
    if event == "open" and armed and isinstance(args[0], int) and args[1] == "r":
        armed.clear()
        raise KeyboardInterrupt

sys.addaudithook(hook)
config = pb.ConnectionConfig()
config.sqlite.filename_uri = sys.argv[1]
config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
before = sorted(os.listdir("/proc/self/fd"))
armed.append(True)
try:
    SourceReader(config)
    kept = None
except KeyboardInterrupt as exc:
    kept = exc
children = []
for entry in os.listdir("/proc"):
    try:
        with open(f"/proc/{entry}/stat", "rb") as f:
            ppid = int(f.read().rpartition(b")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        continue
    if ppid == os.getpid():
        children.append(int(entry))
after = sorted(os.listdir("/proc/self/fd"))
print(json.dumps({"fired": not armed, "raised": kept is not None, "before": before,
                  "after": after, "children": children}))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd to count in")
def test_a_reader_start_interrupted_as_its_pipe_opens_leaves_nothing_open(
    tmp_path: Path,
) -> None:
    """The reply pipe's file failing to open (Ctrl-C landing there) came after the child was
    started: it was killed, but its stdin pipe stayed open while the exception lived (in a
    notebook, until the next one). The pipe's file is opened before the child starts, and
    whatever stops the start, everything it made is closed and the child killed and reaped."""
    import json
    import subprocess

    path = _source(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_AS_THE_PIPE_OPENS, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["fired"] and seen["raised"], seen
    assert seen["after"] == seen["before"], seen
    assert seen["children"] == [], seen


#: A ``sitecustomize`` that makes ml_metadata, in the reading child, write ``{data}`` to the
#: reply pipe as it reads the artifacts, before the reply (as something in it writing to that
#: descriptor would), then reply as ever.
_GARBAGE_AS_IT_READS = """
import os, pickle, sys
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    from ml_metadata.metadata_store import metadata_store

    from lineage_graph.mlmd._reader import _HEAD, _MARK

    _read = metadata_store.MetadataStore.get_artifacts

    def _garbage_first(self, *args, **kwargs):
        os.write(int(sys.orig_argv[-1]), {data})
        return _read(self, *args, **kwargs)

    metadata_store.MetadataStore.get_artifacts = _garbage_first
"""


def _get_artifacts_refused(config: Any) -> str:
    """The message of the FailedPreconditionError a reader raises for get_artifacts() (after a
    get_executions() it answers), its misbehaving child killed and reaped by then, this
    process's descriptors as before."""
    before = _descriptors()
    try:
        reader = SourceReader(config)
        try:
            assert len(reader.get_executions()) > 0
            with pytest.raises(FailedPreconditionError) as caught:
                reader.get_artifacts()
            assert not _reader_children(), "the misbehaving child was left running"
        finally:
            reader.close()
        assert _descriptors() == before
    finally:
        for pid in _reader_children():
            os.kill(pid, signal.SIGKILL)
    return str(caught.value)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd to count in")
@pytest.mark.parametrize(
    "data",
    [
        # a length of 2**62 where a reply's is read: MemoryError (untyped), the child left
        # running until closed
        "(1 << 62).to_bytes(8, 'little')",
        # a short message that is no pickle: told as "ml_metadata died reading it (killed by
        # SIGKILL)", after 10 s waiting for the child (alive, waiting for a call) to end
        "(5).to_bytes(8, 'little') + b'hello'",
        # with the message's mark: each check behind it (the length bound, the pickle, the
        # tuple) refuses what the mark lets through
        "_HEAD.pack(_MARK, (1 << 40) + 1)",
        "_HEAD.pack(_MARK, 5) + b'hello'",
        "(lambda d: _HEAD.pack(_MARK, len(d)) + d)(pickle.dumps(5))",
    ],
    ids=["huge-length", "no-pickle", "marked-huge-length", "marked-no-pickle", "marked-no-tuple"],
)
def test_a_reader_that_answers_nonsense_as_it_reads_is_told_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: str
) -> None:
    """Bytes on the reply pipe that are no reply, mid-session: FailedPreconditionError (the
    type a dead child's is) saying the reader answered nonsense, the child killed, nothing
    left open."""
    _, _, config = _hooked(tmp_path, monkeypatch, _GARBAGE_AS_IT_READS.format(data=data))
    message = _get_artifacts_refused(config)
    assert "the process reading it (ml_metadata) answered nonsense to get_artifacts()" in message
    assert "died" not in message and "killed by" not in message, message


#: A ``sitecustomize`` that makes ml_metadata, in the reading child, begin a reply to
#: ``get_artifacts()`` and stall (120 s, so that nothing outlives a failed test for long): it
#: writes ``{data}`` to the reply pipe, then sleeps.
_STALLING_MID_REPLY = """
import os, pickle, sys, time
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    from ml_metadata.metadata_store import metadata_store

    from lineage_graph.mlmd._reader import _HEAD, _MARK

    def _stall(self, *args, **kwargs):
        os.write(int(sys.orig_argv[-1]), {data})
        time.sleep(120)

    metadata_store.MetadataStore.get_artifacts = _stall
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd to count in")
@pytest.mark.parametrize(
    "data",
    [
        # the mark and a plausible length, then nothing (stray bytes that begin as a head)
        "_HEAD.pack(_MARK, 100)",
        # a reply's head and part of its pickle: the child stalled part way through writing
        "(lambda d: _HEAD.pack(_MARK, len(d)) + d[:5])(pickle.dumps(('ok', []), protocol=5))",
        # part of a head
        "_MARK + b'\\x10'",
    ],
    ids=["head-only", "part-of-the-body", "part-of-the-head"],
)
def test_a_reader_that_stalls_mid_reply_is_killed_and_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: str
) -> None:
    """A reply begun (its head, or part of it, on the pipe) and never ended hung the import
    until Ctrl-C: the rest of a reply begun is awaited at most
    LINEAGE_GRAPH_MLMD_STALL_TIMEOUT_S without a new byte, then the child is killed and reaped,
    every descriptor closed, and the import fails with FailedPreconditionError (the CLI: exit
    5), nothing written."""
    monkeypatch.setenv("LINEAGE_GRAPH_MLMD_STALL_TIMEOUT_S", "0.5")
    path, hook, config = _hooked(tmp_path, monkeypatch, _STALLING_MID_REPLY.format(data=data))
    message = _get_artifacts_refused(config)
    assert "the process reading it (ml_metadata) stopped part way through its reply to " in (
        message
    )
    assert "get_artifacts(): no byte for 0.5 s (LINEAGE_GRAPH_MLMD_STALL_TIMEOUT_S" in message
    assert message.endswith("it was killed"), message
    told = _refused_in_a_child(tmp_path, path, pythonpath=hook)
    assert "stopped part way through its reply to get_artifacts()" in told, told
    with LineageStore.open(tmp_path / "store") as store:
        assert store.get_artifacts() == [] and store.get_executions() == []


#: A ``sitecustomize`` that makes ml_metadata, in the reading child, work a while before it
#: reads the artifacts (as on a big store), then reply as ever.
_SLOW_TO_BEGIN = """
import sys, time
if "lineage_graph.mlmd._reader" in sys.orig_argv:
    from ml_metadata.metadata_store import metadata_store

    _read = metadata_store.MetadataStore.get_artifacts

    def _slow(self, *args, **kwargs):
        time.sleep(1.5)
        return _read(self, *args, **kwargs)

    metadata_store.MetadataStore.get_artifacts = _slow
"""


def test_a_reply_slow_to_begin_is_not_cut_by_the_stall_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stall limit bounds only the rest of a reply begun: a call that works longer than it
    before its reply's first byte (a big store) is answered."""
    monkeypatch.setenv("LINEAGE_GRAPH_MLMD_STALL_TIMEOUT_S", "0.2")
    path, _, _ = _hooked(tmp_path, monkeypatch, _SLOW_TO_BEGIN)
    with LineageStore.open(tmp_path / "store") as store:
        counts = import_mlmd(path, store).counts()
    assert counts["artifacts"] == 6 and counts["events"] == 5, counts
    assert not _reader_children()


@pytest.mark.parametrize("timeout_s", [0.5, 0.0], ids=["within", "at-once"])
def test_bytes_in_the_pipe_are_read_even_when_this_process_paused_past_the_limit(
    monkeypatch: pytest.MonkeyPatch, timeout_s: float
) -> None:
    """The wait for a reply's next byte (and for the start's) looked at the clock after setting
    its deadline and, this process paused past it there (each reading of the clock a second
    later here), said "stalled" without looking at the pipe: a whole reply waiting in it, the
    child was killed. The pipe is looked at once more at the deadline."""
    from lineage_graph.mlmd import _reader

    now = [0.0]

    def paused() -> float:
        now[0] += 1.0
        return now[0]

    read, write = os.pipe()
    try:
        os.write(write, b"reply")
        monkeypatch.setattr(_reader, "time", SimpleNamespace(monotonic=paused))
        assert _reader._read_within(read, 5, timeout_s) == b"reply"
        os.write(write, b"x")
        assert _reader._read_within(read, 2, timeout_s) is None  # the second byte never came
    finally:
        os.close(read)
        os.close(write)
