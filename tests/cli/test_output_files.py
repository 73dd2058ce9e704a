"""Output files (``export -o``, ``view -o``, ``stats --plot``) are written whole or not at all.

They were written in place: a write that failed part way (here a file size limit, as a full
disk would) exited 2 with "cannot write", as docs/cli.md says, and left half a file where the
previous one had been (2,000 bytes of JSON, of a page)."""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph.cli import ExitCode
from lineage_graph.exceptions import InvalidArgumentError

from .conftest import Demo

LIMIT = 2000  # bytes: less than any of the outputs below
OLD = b"the previous file\n"


def _limited() -> None:  # in the child: writing past LIMIT bytes is EFBIG, not a signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _run(demo: Demo, *args: str, limited: bool = True) -> subprocess.CompletedProcess[str]:
    # The demo store's server runs already (the fixture holds the store open), so only the
    # command is under the limit, not the engine.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("LINEAGE_GRAPH_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", *args, "--store", str(demo.path)],
        preexec_fn=_limited if limited else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


#: The commands that write an output file, ``{}`` its path.
WRITERS = [
    ["export", "5", "-o", "{}"],
    ["export", "5", "-f", "html", "-o", "{}"],
    ["view", "5", "--no-open", "-o", "{}"],
    ["stats", "--plot", "{}"],
]


def _writer_id(args: list[str]) -> str:
    return " ".join(a for a in args if a not in ("-o", "{}"))


@pytest.mark.parametrize("args", WRITERS, ids=_writer_id)
def test_a_failed_write_leaves_the_previous_file_whole(
    demo: Demo, tmp_path: Path, args: list[str]
) -> None:
    name = "out é.png" if args[0] == "stats" else "out é.txt"  # a space and non-ASCII too
    target = tmp_path / name
    target.write_bytes(OLD)
    result = _run(demo, *(str(target) if a == "{}" else a for a in args))
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "cannot write" in result.stderr, result.stderr
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left


def test_an_output_file_is_replaced_whole_and_keeps_its_mode(demo: Demo, tmp_path: Path) -> None:
    target = tmp_path / "graph dir ✓" / "g.json"
    target.parent.mkdir()
    target.write_bytes(OLD)
    target.chmod(0o640)
    result = demo.cli("export", "5", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert b'"artifacts"' in target.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["g.json"]


def test_an_output_that_is_not_a_regular_file_is_written_into(demo: Demo, tmp_path: Path) -> None:
    """``-o /dev/stdout`` or a named pipe is written into, never replaced by a regular file (an
    atomic replacement, done blindly, turned ``-o /dev/null`` into a regular file)."""
    result = _run(demo, "export", "5", "-f", "mermaid", "-o", "/dev/stdout", limited=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("flowchart LR"), result.stdout
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the graph fits the pipe's buffer
    try:
        result = _run(demo, "export", "5", "-o", str(fifo), limited=False)
        assert result.returncode == 0, result.stderr
        assert stat.S_ISFIFO(fifo.stat().st_mode)
        assert json.loads(os.read(reader, 1 << 16))["artifacts"]
    finally:
        os.close(reader)


def test_a_file_in_a_directory_closed_to_new_files_is_still_written(
    demo: Demo, tmp_path: Path
) -> None:
    """An atomic replacement needs a new file beside the old one: where the directory takes
    none (no write permission; here immutable, which binds root too) a writable file is
    written in place, as before, rather than refused."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    folder = tmp_path / "closed"
    folder.mkdir()
    target = folder / "g.json"
    target.write_bytes(OLD * 1000)  # longer than the graph: what is left over goes
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("this file system cannot make a directory immutable")
    try:
        result = demo.cli("export", "5", "-o", str(target))
        assert result.exit_code == 0, result.output
        assert json.loads(target.read_bytes())["artifacts"]
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_file_name_near_the_length_limit_is_written(demo: Demo, tmp_path: Path) -> None:
    """The new file beside the old one is named after it: a 250-character name (valid) made
    its name too long, and the export failed."""
    for name in ("g" * 245 + ".json", "é" * 120 + ".json"):  # 250 and 245 bytes
        target = tmp_path / name
        result = demo.cli("export", "5", "-o", str(target))
        assert result.exit_code == 0, result.output
        assert json.loads(target.read_bytes())["artifacts"]


def test_dash_output_is_stdout(demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'export -o -' (stdout, as for most tools) wrote a file named '-' in the working
    directory; 'view -o -' too. export prints to stdout now (the html page included); view,
    which opens a file in the browser, refuses it (exit 2)."""
    monkeypatch.chdir(tmp_path)
    exported = demo.cli("export", "-o", "-")
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["artifacts"]
    mermaid = demo.cli("export", "5", "-f", "mermaid", "-o", "-")
    assert mermaid.stdout.startswith("flowchart LR"), mermaid.output
    page = demo.cli("export", "-f", "html", "-o", "-")
    assert page.exit_code == 0 and page.stdout.rstrip().endswith("</html>"), page.output
    viewed = demo.cli("view", "-o", "-", "--no-open")
    assert viewed.exit_code == ExitCode.USAGE, viewed.output
    assert list(tmp_path.iterdir()) == []
    # --help said html "always goes to a file"
    helped = " ".join(demo.cli("export", "--help", store=False).stdout.replace("│", " ").split())
    assert "'-' is stdout, for every format" in helped, helped


def test_a_written_path_is_printed_printable(demo: Demo, tmp_path: Path) -> None:
    """'json written to PATH' (and the viewer page's, the charts') printed the path as it is:
    an ESC in a file name (a script writing one file per name it lists) reached the terminal,
    as import-mlmd's title did before 079149b. It is shown as a visible escape."""
    name = "x\x1b[2Jy"
    runs = [
        ["export", "-o", str(tmp_path / f"{name}.json")],
        ["export", "-f", "html", "-o", str(tmp_path / f"{name}.html")],
        ["view", "--no-open", "-o", str(tmp_path / f"v{name}.html")],
    ]
    if importlib.util.find_spec("matplotlib") is not None:
        runs.append(["stats", "--plot", str(tmp_path / f"{name}.png")])
    for args in runs:
        result = demo.cli(*args)
        assert result.exit_code == 0, (args, result.output)
        assert "\x1b" not in result.output and "x\\x1b[2Jy" in result.output, args


def test_an_output_path_in_a_symlink_loop_is_a_usage_error(demo: Demo, tmp_path: Path) -> None:
    """'view -o LOOP' and 'export -f html -o LOOP' (a symlink to itself) ended in a traceback
    of RuntimeError (exit 1), where 'export -o LOOP' (json) said "cannot write" (exit 2)."""
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    for args in (
        ["view", "5", "--no-open", "-o", str(loop)],
        ["export", "5", "-f", "html", "-o", str(loop)],
        ["export", "5", "-o", str(loop)],
    ):
        result = demo.cli(*args)
        assert result.exit_code == ExitCode.USAGE, (args, result.output)
        assert f"cannot write {loop}: too many levels of symbolic links" in " ".join(
            result.output.split()
        ), result.output
    assert [p.name for p in tmp_path.iterdir()] == ["loop"]


def test_an_output_path_is_checked_before_the_store_is_queried(demo: Demo, tmp_path: Path) -> None:
    """'view -o FILE/x.html' queried the lineage and drew the whole page before finding the
    parent was a file (5 s and 210 MB for a lineage of 24,000 nodes, to say "cannot write");
    'view 99999 -o DIR' said "no artifact with id 99999" (exit 3) for what was wrong with its
    command line. The path is checked first now: exit 2, nothing read, nothing written."""
    afile = tmp_path / "afile"
    afile.write_text("untouched")
    adir = tmp_path / "adir"
    adir.mkdir()
    for args, reason in [
        (["view", "99999", "--no-open", "-o", f"{afile}/x.html"], f"{afile} exists and is not"),
        (["view", "99999", "--no-open", "-o", str(adir)], "is a directory"),
        (["export", "99999", "-f", "html", "-o", f"{afile}/x.html"], "exists and is not"),
        (["export", "99999", "-o", f"{afile}/sub/x.json"], "not a directory"),
        (["export", "99999", "-f", "dot", "-o", str(adir)], "is a directory"),
    ]:
        result = demo.cli(*args)
        assert result.exit_code == ExitCode.USAGE, (args, result.output)
        assert "cannot write" in result.output and reason in " ".join(result.output.split())
    assert afile.read_text() == "untouched" and list(adir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"]


#: Exit 0 when the file argv[1] may not be opened for writing (its permissions bind), else 1.
_CANNOT_WRITE = """
import os, sys
try:
    os.close(os.open(sys.argv[1], os.O_WRONLY))
except PermissionError:
    sys.exit(0)
sys.exit(1)
"""


def _unprivileged(target: Path) -> list[str]:
    """A command prefix under which the read-only ``target`` may not be written: none for a
    user, for root setpriv without capabilities (root bypasses file permissions otherwise).
    Skips the test where the permissions do not bind all the same: root without setpriv, or
    root without CAP_SETPCAP (a container that drops it), where util-linux's setpriv cannot
    drop the bounding set, says nothing and runs the command with every capability."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root ignores file permissions and setpriv is not installed")
        prefix = [setpriv, "--bounding-set=-all", "--inh-caps=-all"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", _CANNOT_WRITE, str(target)],
        capture_output=True,
        timeout=60,
    )
    if probe.returncode != 0:
        holder = "that setpriv could not drop" if prefix else "of this user"
        pytest.skip(f"file permissions do not bind here (a capability {holder}: CAP_DAC_OVERRIDE)")
    return prefix


@pytest.mark.parametrize("args", WRITERS, ids=_writer_id)
def test_a_read_only_output_file_is_refused(demo: Demo, tmp_path: Path, args: list[str]) -> None:
    """An output file one may not write (``chmod a-w``, another user's) was replaced all the
    same, through a rename in its (writable) directory, where ``> file`` is "permission
    denied". It is exit 2 now, naming the path, and the file stays as it was."""
    target = tmp_path / ("out.png" if args[0] == "stats" else "out.html")
    target.write_bytes(OLD)
    target.chmod(0o444)
    command = [a.replace("{}", str(target)) for a in [*args, "--store", str(demo.path)]]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("LINEAGE_GRAPH_STORE", None)
    result = subprocess.run(
        [*_unprivileged(target), sys.executable, "-m", "lineage_graph.cli", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert f"cannot write {target}: permission denied" in " ".join(result.stderr.split())
    assert target.read_bytes() == OLD
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def _read_only_mount_runner(mount: Path) -> list[str]:
    """A command prefix running its shell script in a mount namespace of its own, where
    ``mount`` is a tmpfs holding ``out.json`` (``OLD``), remounted read-only; skips the test
    where no such namespace can be made (not root, no CAP_SYS_ADMIN, no unshare)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(
        [unshare, "-m", "sh", "-c", f"mount -t tmpfs none '{mount}'"],
        capture_output=True,
        timeout=30,
    )
    if probe.returncode != 0:
        pytest.skip("no mount namespace can be made here")
    return [unshare, "-m", "sh", "-c"]


def test_an_output_file_on_a_read_only_file_system_says_so(demo: Demo, tmp_path: Path) -> None:
    """An existing output file on a file system mounted read-only was "permission denied" (the
    check of a file this user may not write), sending the user to chmod a file no mode makes
    writable; a new file there, and ``> file``, say "read-only file system". So does it now."""
    mount = tmp_path / "ro"
    mount.mkdir()
    prefix = _read_only_mount_runner(mount)
    out = mount / "out.json"
    script = (
        f"mount -t tmpfs none '{mount}' && printf '{OLD.decode().strip()}\\n' > '{out}' && "
        f"mount -o remount,ro '{mount}' && "
        f"'{sys.executable}' -m lineage_graph.cli export 5 -o '{out}' --store '{demo.path}'; "
        f"echo \"rc=$?\"; cat '{out}'"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("LINEAGE_GRAPH_STORE", None)
    result = subprocess.run([*prefix, script], capture_output=True, text=True, env=env, timeout=120)
    said = " ".join(result.stderr.split())
    assert f"cannot write {out}: read-only file system" in said, result.stderr
    assert f"rc={int(ExitCode.USAGE)}" in result.stdout and OLD.decode() in result.stdout


def test_a_non_ascii_output_name_in_a_c_locale(demo: Demo, tmp_path: Path) -> None:
    """In a C locale without Python's UTF-8 mode, ``export -o données.dot`` (the name passed
    as ``donn\\udcc3\\udca9es.dot``) named its temporary file ``.données.dot...`` (read back as
    UTF-8), which the ASCII file system encoding cannot encode: a traceback, exit 70."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "LINEAGE_GRAPH_STORE": str(demo.path)}
    env.update(LC_ALL="C", PYTHONCOERCECLOCALE="0", PYTHONUTF8="0")
    env.pop("PYTHONIOENCODING", None)
    env.pop("NEO4J_URI", None)
    target = tmp_path / "données.dot"
    done = subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli", "export", "1", "-f", "dot", "-o", str(target)],
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-800:]
    assert target.read_text("utf-8").startswith("digraph")
    assert [p.name for p in tmp_path.iterdir()] == ["données.dot"]


@pytest.mark.parametrize("fmt", ["json", "mermaid", "dot", "html"])
def test_a_tilde_in_o_is_the_home_for_every_format(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """``export -o '~/g.json'`` (a ``~`` the shell leaves, as in ``--output=~/g.json``) was
    checked as the home's file but written under a directory named ``~`` made in the working
    directory; ``-f html`` (write_html) wrote it in the home. Every format writes the home's."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.chdir(work)
    result = demo.cli("export", "5", "-f", fmt, "-o", f"~/g.{fmt}", env={"HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert (home / f"g.{fmt}").is_file()
    assert not (work / "~").exists()
    assert f"written to {home / f'g.{fmt}'}" in " ".join(result.stderr.split())


def test_a_mermaid_export_mermaid_refuses_is_said(tmp_path: Path) -> None:
    """Mermaid's parser refuses a flowchart of more than 500 edges (its default maxEdges, which
    a diagram cannot raise: "Edge limit exceeded"), and draws one longer than 50,000
    characters as an error: ``export -f mermaid`` of 501 events wrote it without a word. It is
    written all the same, and said on stderr (and not for a drawing within the limits)."""
    from lineage_graph import (
        Artifact,
        ArtifactType,
        Event,
        EventType,
        Execution,
        ExecutionType,
        LineageStore,
    )

    from .conftest import invoke

    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Shard"))
        store.put_execution_type(ExecutionType(name="Merge"))
        shards = store.put_artifacts([Artifact(type="Shard", name=f"s{i}") for i in range(501)])
        [merge] = store.put_executions([Execution(type="Merge")])
        store.put_events(
            [Event(artifact_id=a, execution_id=merge, type=EventType.INPUT) for a in shards]
        )
        out = tmp_path / "g.mmd"
        result = invoke(["export", "-f", "mermaid", "-o", str(out), "--store", str(path)])
        assert result.exit_code == 0, result.output
        assert out.read_text().count(" -->|INPUT| ") == 501
        message = " ".join(result.stderr.split())
        assert "501 edges (its limit: 500)" in message and "-f dot or -f html" in message
        small = invoke(["export", "1", "-f", "mermaid", "--store", str(path)])
        assert small.exit_code == 0 and "Mermaid" not in small.stderr, small.output


@pytest.mark.parametrize(
    "args",
    [["export", "5", "-o"], ["export", "5", "-f", "dot", "-o"], ["export", "5", "-f", "html", "-o"],
     ["view", "5", "--no-open", "-o"]],
    ids=" ".join,
)  # fmt: skip
def test_an_o_ending_with_a_slash_is_refused_not_written_as_a_file(
    demo: Demo, tmp_path: Path, args: list[str]
) -> None:
    """``-o out/`` (a directory, which does not exist) wrote a file named ``out``: the path was
    made a Path, which drops the slash, where a shell's ``> out/`` and open() refuse it. It is
    a usage error naming it, nothing written; write_html refuses it the same way."""
    from lineage_graph.viewer import GraphData, write_html

    given = f"{tmp_path / 'out'}/"
    result = demo.cli(*args, given)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"cannot write {given}: it ends with a /" in " ".join(result.stderr.split())
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InvalidArgumentError, match="ends with a /"):
        write_html(GraphData(), given)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ending", ["/.", "/sub/.."])
@pytest.mark.parametrize(
    "args",
    [["export", "5", "-o"], ["export", "5", "-f", "html", "-o"], ["view", "5", "--no-open", "-o"]],
    ids=" ".join,
)
def test_an_o_ending_with_a_dot_name_is_refused_not_written_as_a_file(
    demo: Demo, tmp_path: Path, args: list[str], ending: str
) -> None:
    """``-o out/.`` names a directory as ``-o out/`` does, but a Path drops the ``.``: a file
    named ``out`` was written; ``-o new/sub/..`` passed the check (resolved to ``new``), made
    ``new/sub`` and then failed. Both are usage errors before anything is made."""
    from lineage_graph.viewer import GraphData, write_html

    given = f"{tmp_path / 'out'}{ending}"
    result = demo.cli(*args, given)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"cannot write {given}: it ends with /" in " ".join(result.stderr.split())
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InvalidArgumentError, match="a directory"):
        write_html(GraphData(), given)
    assert list(tmp_path.iterdir()) == []


def test_stats_plot_takes_its_path_as_typed(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stats --plot`` made its path a Path and wrote it: ``--plot out.png/`` (and
    ``out.png/.``) wrote a file ``out.png`` after reading the store, and ``--plot=~/s.png`` (a
    ``~`` the shell leaves) made a directory named ``~`` in the working directory. It checks
    the path as ``export -o`` does: the first two are usage errors, nothing written; the ``~``
    is the home."""
    pytest.importorskip("matplotlib", reason="the [viz] extra (matplotlib) is not installed")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.chdir(work)
    for given in (f"{work / 'out.png'}/", f"{work / 'out.png'}/."):
        result = demo.cli("stats", "--plot", given)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert f"cannot write {given}: it ends with" in " ".join(result.stderr.split())
        assert list(work.iterdir()) == []
    result = demo.cli("stats", "--plot", "~/s.png", env={"HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert (home / "s.png").read_bytes().startswith(b"\x89PNG")
    assert list(work.iterdir()) == []
    assert f"charts written to {home / 's.png'}" in " ".join(result.stderr.split())


def test_the_mermaid_note_measures_the_drawing_as_written(tmp_path: Path) -> None:
    """On a stdout that cannot carry "é" (PYTHONIOENCODING=ascii) each is written "#233;": a
    drawing of 40,000 characters was printed as 200,000, over Mermaid's 50,000, and nothing
    said (the note measured the text before it was escaped for the stream)."""
    from lineage_graph import Artifact, ArtifactType, LineageStore

    path = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("LINEAGE_GRAPH_STORE", None)
    command = [sys.executable, "-m", "lineage_graph.cli", "export", "-f", "mermaid"]
    command += ["--store", str(path)]
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="T"))
        store.put_artifacts([Artifact(type="T", name="é" * 2000 + str(i)) for i in range(20)])
        for encoding, said in (("utf-8", False), ("ascii", True)):
            done = subprocess.run(
                command,
                capture_output=True,
                env={**env, "PYTHONIOENCODING": encoding},
                timeout=120,
            )
            assert done.returncode == 0, done.stderr[-800:]
            length = len(done.stdout.decode(encoding))
            assert (length > 50_000) is said, length
            message = " ".join(done.stderr.decode().split())
            assert (f"this Mermaid drawing has {length} characters" in message) is said, message


def test_a_viewer_page_past_the_drawn_limit_is_said(tmp_path: Path) -> None:
    """``view -n 20000`` (an explicit limit past the page's 10000 nodes) wrote a page of any
    size, nothing said, which a browser takes minutes to lay out or cannot open: it is still
    written, and stderr says how many nodes it draws. Within the limit nothing more is said."""
    from lineage_graph import Artifact, ArtifactType, LineageStore
    from lineage_graph.viewer import PAGE_NODE_LIMIT

    from .conftest import invoke

    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="M"))
        uris = [f"s3://b/{i}" for i in range(PAGE_NODE_LIMIT + 1)]
        for start in range(0, len(uris), 2000):
            store.put_artifacts([Artifact(type="M", uri=u) for u in uris[start : start + 2000]])
    page = tmp_path / "v.html"
    base = ["--store", str(path), "-o", str(page)]
    for command in (["view", "--no-open"], ["export", "-f", "html"]):
        done = invoke([*command, "-n", str(2 * PAGE_NODE_LIMIT), *base])
        assert done.exit_code == 0, done.output
        said = " ".join(done.stderr.split())
        assert f"the page draws {PAGE_NODE_LIMIT + 1} nodes, more than {PAGE_NODE_LIMIT}" in said
        assert page.is_file()
        page.unlink()
        done = invoke([*command, "-n", str(PAGE_NODE_LIMIT), *base])
        assert done.exit_code == 0, done.output
        assert "the page draws" not in done.stderr
