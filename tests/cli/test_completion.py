"""Shell completion of the free-text values with a fixed set: ``ls KIND``, ``--kind``,
``--state`` (``ls``'s and the lineage commands'), ``--stop-at-state`` and ``--mark-state``
offered nothing (``_LINEAGE_GRAPH_COMPLETE=complete_bash COMP_WORDS="lineage-graph ls "
COMP_CWORD=2 lineage-graph`` printed nothing). The protocol is driven as bash drives it, in a
subprocess; what the options accept is unchanged (any case)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_graph import LineageStore

from .conftest import invoke

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT_STATES = ["UNKNOWN", "PENDING", "LIVE", "MARKED_FOR_DELETION", "DELETED", "ABANDONED"]
ARTIFACT_STATES += ["REFERENCE"]
EXECUTION_STATES = ["UNKNOWN", "NEW", "RUNNING", "COMPLETE", "FAILED", "CACHED", "CANCELED"]


def complete(line: str) -> list[str]:
    """What bash completion offers for the last word of ``line`` (empty after a space)."""
    words = line.split(" ")
    env = {
        **os.environ,
        "_LINEAGE_GRAPH_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
        "PYTHONPATH": str(ROOT),
        "LINEAGE_GRAPH_STORE": "",
    }
    env.pop("NEO4J_URI", None)
    done = subprocess.run(
        [sys.executable, "-m", "lineage_graph.cli"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize(
    ("line", "offers"),
    [
        ("lineage-graph ls ", ["artifacts", "executions", "contexts", "types"]),
        ("lineage-graph ls ex", ["executions"]),
        ("lineage-graph ls --state ", ARTIFACT_STATES),
        ("lineage-graph ls --state li", ["live"]),  # the case the user began in
        ("lineage-graph ls --state LI", ["LIVE"]),
        ("lineage-graph ls executions --state ", EXECUTION_STATES),
        ("lineage-graph ls executions --state c", ["complete", "cached", "canceled"]),
        ("lineage-graph ls contexts --state ", []),  # contexts have no state
        ("lineage-graph show 1 --kind ", ["artifact", "execution", "context"]),
        ("lineage-graph upstream 1 -k e", ["execution"]),
        ("lineage-graph diff 1 2 --kind c", ["context"]),
        ("lineage-graph impact 1 --mark-state ab", ["abandoned"]),
        ("lineage-graph impact 1 --mark-state ", ARTIFACT_STATES),
        ("lineage-graph downstream 1 --state ", ARTIFACT_STATES + EXECUTION_STATES[1:]),
        ("lineage-graph export 1 --stop-at-state F", ["FAILED"]),
    ],
)
def test_fixed_values_are_completed(line: str, offers: list[str]) -> None:
    assert complete(line) == offers


def test_completed_values_are_accepted_in_any_case(tmp_path: Path) -> None:
    """Completion changed no option's type: lower case (as offered after ``li``) still works,
    and so does a short kind (``-k e``), which completion does not offer."""
    store = str(tmp_path / "s")
    with LineageStore.open(store):
        pass
    for args in (["ls", "--state", "live"], ["ls", "executions", "--state", "Complete"]):
        result = invoke([*args, "--store", store])
        assert result.exit_code == 0, result.output
    missing = invoke(["show", "1", "-k", "e", "--store", store])
    assert missing.exit_code == 3, missing.output
