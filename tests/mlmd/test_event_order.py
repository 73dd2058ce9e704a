"""Events come back in MLMD's order (ml_metadata 1.17.1, probed).

``get_events_by_execution_ids``: by execution, then in the order the events were written (MLMD's
event id); TFX reads an execution's PENDING_OUTPUT event and then its OUTPUT event by position.
``get_events_by_artifact_ids``: by artifact, execution and type (MLMD's unique index on the
three). Each scenario runs on real ml_metadata and on the adapter, the order compared; an import
keeps each execution's order, and events stored before the order was kept come first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import LineageStore
from lineage_graph.mlmd import MetadataStore
from lineage_graph.mlmd._importer import import_mlmd

from .conftest import Both

E = pb.Event
#: Written one at a time: neither order of the keys (artifact, execution, type) nor of the ids.
SINGLES = [
    (3, 2, E.OUTPUT),
    (1, 2, E.PENDING_OUTPUT),
    (1, 2, E.OUTPUT),
    (2, 1, E.INPUT),
    (1, 1, E.INPUT),
    (3, 3, E.INPUT),
    (2, 2, E.INPUT),
]


def _setup(s: Any) -> tuple[int, int]:
    at = s.put_artifact_type(pb.ArtifactType(name="A"))
    et = s.put_execution_type(pb.ExecutionType(name="X"))
    s.put_artifacts([pb.Artifact(type_id=at) for _ in range(4)])
    s.put_executions([pb.Execution(type_id=et) for _ in range(4)])
    return at, et


def _event(a: int, x: int, t: int) -> Any:
    return pb.Event(artifact_id=a, execution_id=x, type=t)


def _reads(b: Both) -> None:
    for ids in ([1, 2, 3, 4], [3, 2, 1], [2], [4]):
        b.call("get_events_by_execution_ids", ids)
        b.call("get_events_by_artifact_ids", ids)


def test_events_written_one_at_a_time(both: Both) -> None:
    _setup(both.ref), _setup(both.ours)
    for a, x, t in SINGLES:
        both.call("put_events", [_event(a, x, t)])
    _reads(both)
    # TFX's execution_publish_utils: the pre-registration event, then the publish event
    [pending, output] = both.ours.get_events_by_execution_ids([2])[1:3]
    assert (pending.type, output.type) == (E.PENDING_OUTPUT, E.OUTPUT)


def test_events_written_in_batches(both: Both) -> None:
    _setup(both.ref), _setup(both.ours)
    both.call("put_events", [_event(*e) for e in SINGLES[:4]])
    both.call("put_events", [_event(*e) for e in reversed(SINGLES[4:])])
    _reads(both)


def test_events_of_put_execution_and_put_lineage_subgraph(both: Both) -> None:
    at, et = _setup(both.ref)
    assert _setup(both.ours) == (at, et)
    x = pb.Execution(id=2, type_id=et)
    both.call(
        "put_execution",
        x,
        [
            (pb.Artifact(id=4, type_id=at), pb.Event(type=E.OUTPUT)),
            (pb.Artifact(id=1, type_id=at), pb.Event(type=E.INPUT)),
            (pb.Artifact(type_id=at), pb.Event(type=E.OUTPUT)),
            (pb.Artifact(id=3, type_id=at), pb.Event(type=E.INPUT)),
        ],
        [],
    )
    both.call(
        "put_lineage_subgraph",
        [pb.Execution(id=3, type_id=et), pb.Execution(type_id=et)],
        [pb.Artifact(id=2, type_id=at), pb.Artifact(type_id=at), pb.Artifact(id=1, type_id=at)],
        [],
        [
            (0, 1, pb.Event(type=E.OUTPUT)),  # (execution index, artifact index, event)
            (0, 2, pb.Event(type=E.INPUT)),
            (1, 0, pb.Event(type=E.INPUT)),
            (1, 1, pb.Event(type=E.OUTPUT)),
            (0, 0, pb.Event(type=E.OUTPUT)),
        ],
    )
    both.call("put_events", [_event(2, 2, E.INPUT)])
    for ids in ([1, 2, 3, 4, 5, 6], [5, 2], [3]):
        both.call("get_events_by_execution_ids", ids)
        both.call("get_events_by_artifact_ids", ids)


def test_events_stored_before_the_order_was_kept_come_first(store: LineageStore) -> None:
    ours = MetadataStore(store)
    _setup(ours)
    ours.put_events([_event(3, 2, E.OUTPUT), _event(1, 2, E.INPUT)])
    store.backend.write("MATCH ()-[r:EVENT]->() REMOVE r.seq")  # as an earlier version wrote
    ours.put_events([_event(2, 2, E.INPUT)])
    ours.put_events([_event(4, 2, E.INPUT)])
    got = [(e.artifact_id, e.type) for e in ours.get_events_by_execution_ids([2])]
    assert got == [(1, E.INPUT), (3, E.OUTPUT), (2, E.INPUT), (4, E.INPUT)]


def _mlmd_file(path: Path) -> Any:
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


def _order(s: Any) -> list[tuple[int, int, int]]:
    return [
        (e.execution_id, e.artifact_id, e.type) for e in s.get_events_by_execution_ids([1, 2, 3, 4])
    ]


@pytest.mark.parametrize("merge", [False, True], ids=["into an empty store", "merged"])
def test_an_import_keeps_each_executions_order(
    tmp_path: Path, store: LineageStore, merge: bool
) -> None:
    source = _mlmd_file(tmp_path / "mlmd.sqlite")
    _setup(source)
    for a, x, t in SINGLES:
        source.put_events([_event(a, x, t)])
    if merge:  # a target that is not empty (a context: the nodes keep their ids)
        ours = MetadataStore(store)
        ours.put_contexts(
            [pb.Context(type_id=ours.put_context_type(pb.ContextType(name="C")), name="c")]
        )
    import_mlmd(str(tmp_path / "mlmd.sqlite"), store, merge=merge)
    assert _order(MetadataStore(store)) == _order(source)


def test_events_two_processes_write_to_one_execution_come_back_in_time_order(
    tmp_path: Path,
) -> None:
    """A second process writing between two of this one's writes: its event comes between them
    (an order taken from per-process blocks would put it after both)."""
    with LineageStore.open(tmp_path / "s") as store:
        ours = MetadataStore(store)
        _setup(ours)
        ours.put_events([_event(1, 2, E.INPUT)])
        other = (
            "import sys\n"
            "from ml_metadata.proto import metadata_store_pb2 as pb\n"
            "from lineage_graph import LineageStore\n"
            "from lineage_graph.mlmd import MetadataStore\n"
            "with LineageStore.open(sys.argv[1]) as s:\n"
            "    MetadataStore(s).put_events(\n"
            "        [pb.Event(artifact_id=2, execution_id=2, type=pb.Event.INPUT)])\n"
        )
        subprocess.run([sys.executable, "-c", other, str(tmp_path / "s")], check=True, timeout=120)
        ours.put_events([_event(3, 2, E.OUTPUT)])
        got = [e.artifact_id for e in ours.get_events_by_execution_ids([2])]
        assert got == [1, 2, 3]


#: A store's events written by a child forked while another thread of the parent was placing
#: its own events in the write order (holding its lock).
_FORKED_MID_WRITE = (
    "import os, sys, threading, time\n"
    "from ml_metadata.proto import metadata_store_pb2 as pb\n"
    "from lineage_graph import LineageStore\n"
    "from lineage_graph._repositories import relations\n"
    "from lineage_graph.mlmd import MetadataStore\n"
    "s = LineageStore.open('memory')\n"
    "m = MetadataStore(s)\n"
    "at = m.put_artifact_type(pb.ArtifactType(name='A'))\n"
    "et = m.put_execution_type(pb.ExecutionType(name='X'))\n"
    "[a] = m.put_artifacts([pb.Artifact(type_id=at)])\n"
    "[x] = m.put_executions([pb.Execution(type_id=et)])\n"
    "held, release = threading.Event(), threading.Event()\n"
    "def place():  # another thread, between taking and leaving the lock\n"
    "    with relations._order_lock:\n"
    "        held.set()\n"
    "        release.wait()\n"
    "thread = threading.Thread(target=place)\n"
    "thread.start()\n"
    "held.wait()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    m.put_events([pb.Event(artifact_id=a, execution_id=x, type=pb.Event.INPUT)])\n"
    "    os._exit(0)\n"
    "release.set()\n"
    "thread.join()\n"
    "deadline = time.monotonic() + 30\n"
    "while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:\n"
    "    time.sleep(0.05)\n"
    "if time.monotonic() >= deadline:\n"
    "    os.kill(pid, 9)\n"
    "    print('hung')\n"
    "else:\n"
    "    print(len(m.get_events_by_execution_ids([x])))\n"
    "s.close()\n"
)


def test_a_child_forked_while_another_thread_placed_events_writes_its_own() -> None:
    """The write order's lock, held by another thread of the parent at the fork, stayed held
    in the child: the child's first write of events hung for ever."""
    out = subprocess.run(
        [sys.executable, "-c", _FORKED_MID_WRITE], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "1"
