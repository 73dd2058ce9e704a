"""A run's owner (lineage_graph/_owner.py): provably dead only on this host, boot and pid
namespace, when no process has its pid and start time. Real processes, no mocks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph._owner import current_owner, owner_dead_here, owner_text, why_not_dead

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc (Linux)")


def test_a_live_process_is_not_dead_and_this_one_neither() -> None:
    me = current_owner()
    assert set(me) == {"host", "pid", "boot_id", "pid_namespace", "start_ticks"}
    assert not owner_dead_here(me)
    parent = {**me, "pid": str(os.getppid())}
    # the parent's real start time
    start = Path(f"/proc/{os.getppid()}/stat").read_text().rsplit(")", 1)[1].split()[19]
    assert not owner_dead_here({**parent, "start_ticks": start})


def test_a_reused_pid_is_not_the_owner() -> None:
    """A live process with the owner's pid but another start time is another process (the pid
    was reused): the owner is dead."""
    me = current_owner()
    parent = {**me, "pid": str(os.getppid()), "start_ticks": "1"}
    assert owner_dead_here(parent)


def test_an_exited_process_is_dead() -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    gone = {**current_owner(), "pid": child.stdout.decode().strip()}
    assert owner_dead_here(gone)


@pytest.mark.parametrize(
    "other",
    [
        {"host": "elsewhere"},
        {"boot_id": "another-boot"},
        {"pid_namespace": "1"},  # a container's own pid namespace: its pids mean other processes
        {"start_ticks": ""},
        {"pid": "not-a-pid"},
    ],
)
def test_an_owner_not_provably_of_this_host_is_never_dead(other: dict[str, str]) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    owner = {**current_owner(), "pid": gone.stdout.decode().strip(), **other}
    assert not owner_dead_here(owner)


@pytest.mark.parametrize("owner", [None, "team-a", {}, {"host": "h", "pid": "1"}])
def test_an_owner_not_recorded_is_never_dead(owner: object) -> None:
    assert not owner_dead_here(owner)


def test_a_process_that_held_this_pid_before_is_dead() -> None:
    """An owner with this process's pid and another start time is a process that held the pid
    before (a pid reused): dead. It was taken for this very process, alive, for good."""
    me = current_owner()
    assert owner_dead_here({**me, "start_ticks": str(int(me["start_ticks"]) - 1)})
    assert not owner_dead_here(me)


_UNSHARE = shutil.which("unshare")


@pytest.mark.skipif(
    _UNSHARE is None or os.geteuid() != 0, reason="needs unshare(1) and root (a pid namespace)"
)
def test_a_process_seeing_another_pid_namespaces_proc_records_no_provable_owner() -> None:
    """A process in a pid namespace of its own that sees its parent's /proc (``unshare --pid
    --fork`` without ``--mount-proc``): its pid 1 is the host's init there. Its owner recorded
    the host init's start time as its own, and owners were judged dead or alive by the
    processes of another namespace that bear their pids: it records no provable owner now,
    and proves no death."""
    code = (
        "import json, os; from lineage_graph._owner import current_owner, owner_dead_here; "
        "me = current_owner(); "
        "print(json.dumps([me, os.getpid(), owner_dead_here({**me, 'start_ticks': '1'})]))"
    )
    done = subprocess.run(
        [_UNSHARE or "unshare", "--pid", "--fork", sys.executable, "-c", code],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    if done.returncode != 0 and b"Operation not permitted" in done.stderr:
        pytest.skip("no pid namespace here (unshare refused)")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    owner, pid, dead = json.loads(done.stdout)
    assert pid == 1  # (in its own pid namespace)
    assert set(owner) == {"host", "pid"}
    assert dead is False


def test_why_an_owner_is_not_dead_names_the_reason() -> None:
    """A refusal said "alive or not provably dead from here (another host, another pid
    namespace)" whatever the reason: it names the one that holds."""
    me = current_owner()
    assert "not this host" in why_not_dead({**me, "host": "elsewhere"})
    assert "another boot id" in why_not_dead({**me, "boot_id": "another-boot"})
    assert "another pid namespace" in why_not_dead({**me, "pid_namespace": "1"})
    assert "without its start time" in why_not_dead({"host": me["host"], "pid": "1"})
    assert "is alive" in why_not_dead(me)
    assert "no process's" in why_not_dead({**me, "pid": "\u00b2"})
    assert "cannot be checked" in why_not_dead("team-a")
    assert owner_text("team-a") == "an owner its caller gave ('team-a'), not a process"


@pytest.mark.parametrize("pid", ["\u00b2", "\u0661", "9" * 30, "-1", " 1"])
def test_a_pid_no_process_can_have_is_not_provably_dead(pid: str) -> None:
    """A recorded pid that is no number a process has ("²" passes str.isdigit and int() raised
    ValueError; one past a C int made os.kill raise OverflowError): not provably dead, no
    untyped error."""
    assert not owner_dead_here({**current_owner(), "pid": pid})
