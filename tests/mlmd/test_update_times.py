"""An update that changes nothing keeps the node's ``last_update_time_since_epoch`` (MLMD 1.17.1).

MLMD compares the node given with the stored one, but for its type id, times and properties
(the output-only ``type`` name and ``system_metadata`` count), then counts the properties the
update changes (only the masked ones under a field mask): nothing differs and none changed, and
the node is not written. ``put_execution(force_update_time=True)`` writes its execution anyway
(not its artifacts or contexts). TFX relies on it: it gives every input artifact back to
``put_execution``, and its own tests (store_ext_test) expect such an artifact's update time to
stay. Each scenario runs on real ml_metadata and on the adapter; which nodes' update times moved
must be the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from .conftest import Both

A, X, C, E = pb.Artifact, pb.Execution, pb.Context, pb.Event


def _setup(s: Any) -> None:
    s.put_artifact_type(pb.ArtifactType(name="A", properties={"p": pb.INT, "d": pb.DOUBLE}))
    s.put_execution_type(pb.ExecutionType(name="E"))
    s.put_context_type(pb.ContextType(name="C"))
    a = A(type_id=10, uri="/u", name="a", state=A.LIVE, external_id="ext")
    a.properties["p"].int_value = 1
    a.properties["d"].double_value = 0.25
    a.custom_properties["c"].string_value = "x"
    a.custom_properties["s"].struct_value.update({"k": [1, "v"]})
    s.put_artifacts([a])
    s.put_executions([X(type_id=11, name="e", last_known_state=X.RUNNING)])
    s.put_contexts([C(type_id=12, name="c")])


def _a(s: Any) -> Any:
    return s.get_artifacts_by_id([1])[0]


def _e(s: Any) -> Any:
    return s.get_executions_by_id([1])[0]


def _c(s: Any) -> Any:
    return s.get_contexts_by_id([1])[0]


def _edit(read: Callable[[Any], Any], change: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The node as read, changed by ``change``."""

    def make(s: Any) -> Any:
        node = read(s)
        change(node)
        return node

    return make


def _put_artifact(
    change: Callable[[Any], Any], mask: list[str] | None = None
) -> Callable[[Any], None]:
    return lambda s: s.put_artifacts([_edit(_a, change)(s)], field_mask_paths=mask)


def _set_p(a: Any, value: int) -> None:
    a.properties["p"].int_value = value


SCENARIOS: dict[str, Callable[[Any], None]] = {
    # put_artifacts / put_executions / put_contexts, the node as read, or changed
    "artifact as read": _put_artifact(lambda a: None),
    "artifact without times": _put_artifact(
        lambda a: (
            a.ClearField("create_time_since_epoch"),
            a.ClearField("last_update_time_since_epoch"),
        )
    ),
    "artifact with other times": _put_artifact(
        lambda a: (
            setattr(a, "create_time_since_epoch", 5),
            setattr(a, "last_update_time_since_epoch", 5),
        )
    ),
    "artifact without type_id": _put_artifact(lambda a: a.ClearField("type_id")),
    "artifact without type name": _put_artifact(lambda a: a.ClearField("type")),
    "artifact with another type name": _put_artifact(lambda a: setattr(a, "type", "Other")),
    "artifact with system_metadata": _put_artifact(
        lambda a: a.system_metadata.Pack(pb.Value(int_value=1))
    ),
    "artifact renamed (name kept)": _put_artifact(lambda a: setattr(a, "name", "b")),
    "artifact without name": _put_artifact(lambda a: a.ClearField("name")),
    "artifact without external_id": _put_artifact(lambda a: a.ClearField("external_id")),
    "artifact new uri": _put_artifact(lambda a: setattr(a, "uri", "/v")),
    "artifact without state": _put_artifact(lambda a: a.ClearField("state")),
    "artifact new state": _put_artifact(lambda a: setattr(a, "state", A.DELETED)),
    "artifact same property": _put_artifact(lambda a: _set_p(a, 1)),
    "artifact new property value": _put_artifact(lambda a: _set_p(a, 2)),
    "artifact property dropped": _put_artifact(lambda a: a.properties.pop("d")),
    "artifact new custom property": _put_artifact(
        lambda a: setattr(a.custom_properties["n"], "bool_value", True)
    ),
    "artifact without custom properties": _put_artifact(
        lambda a: a.ClearField("custom_properties")
    ),
    # field masks: the properties masked are compared; the fields given, all of them
    "masked uri, unchanged": _put_artifact(lambda a: None, ["uri"]),
    "masked uri, other property changed": _put_artifact(lambda a: _set_p(a, 3), ["uri"]),
    "masked property, changed": _put_artifact(lambda a: _set_p(a, 3), ["properties.p"]),
    "masked property, unchanged": _put_artifact(lambda a: None, ["properties.p"]),
    "masked property, uri given differs": _put_artifact(
        lambda a: setattr(a, "uri", "/w"), ["properties.p"]
    ),
    "execution as read": lambda s: s.put_executions([_e(s)]),
    "execution new state": lambda s: s.put_executions(
        [_edit(_e, lambda x: setattr(x, "last_known_state", X.COMPLETE))(s)]
    ),
    "context as read": lambda s: s.put_contexts([_c(s)]),
    "context renamed": lambda s: s.put_contexts([_edit(_c, lambda c: setattr(c, "name", "d"))(s)]),
    # composite writes: TFX gives its input artifacts back to put_execution
    "put_execution, all as read": lambda s: s.put_execution(
        _e(s), [(_a(s), E(type=E.INPUT))], [_c(s)]
    ),
    "put_execution, artifact without event": lambda s: s.put_execution(
        _e(s), [(_a(s), None)], [_c(s)], reuse_context_if_already_exist=True
    ),
    "put_execution, force_update_time": lambda s: s.put_execution(
        _e(s), [(_a(s), None)], [_c(s)], force_update_time=True
    ),
    "put_execution, new execution": lambda s: s.put_execution(
        X(type_id=11), [(_a(s), E(type=E.INPUT))], [_c(s)]
    ),
    "put_execution, artifact changed": lambda s: s.put_execution(
        _e(s), [(_edit(_a, lambda a: _set_p(a, 4))(s), None)], [_c(s)]
    ),
    "put_execution, same artifact twice": lambda s: s.put_execution(
        _e(s), [(_a(s), E(type=E.INPUT)), (_a(s), E(type=E.OUTPUT))], [_c(s)]
    ),
    "put_execution, artifact changed then given back": lambda s: s.put_execution(
        _e(s), [(_edit(_a, lambda a: _set_p(a, 4))(s), None), (_a(s), None)], []
    ),
    "put_execution, force_reuse_context": lambda s: s.put_execution(
        _e(s), [], [_c(s)], force_reuse_context=True
    ),
    "put_lineage_subgraph, all as read": lambda s: s.put_lineage_subgraph(
        [_e(s)], [_a(s)], [_c(s)], [(0, 0, E(type=E.OUTPUT))]
    ),
    "put_lineage_subgraph, execution changed": lambda s: s.put_lineage_subgraph(
        [_edit(_e, lambda x: setattr(x, "last_known_state", X.FAILED))(s)], [_a(s)], [_c(s)], []
    ),
}


def _times(s: Any) -> tuple[int, int, int]:
    return (
        _a(s).last_update_time_since_epoch,
        _e(s).last_update_time_since_epoch,
        _c(s).last_update_time_since_epoch,
    )


def _moved(s: Any, scenario: Callable[[Any], None]) -> str:
    """Which of the artifact, the execution and the context the scenario's write moved the
    update time of ("A.." : the artifact's only)."""
    before = _times(s)
    time.sleep(0.005)  # times are milliseconds: an update now has a later one
    scenario(s)
    after = _times(s)
    return "".join(k if b != a else "." for k, b, a in zip("AEC", before, after, strict=True))


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_update_times_move_as_in_mlmd(both: Both, scenario: str) -> None:
    for s in (both.ref, both.ours):
        _setup(s)
    want = _moved(both.ref, SCENARIOS[scenario])
    have = _moved(both.ours, SCENARIOS[scenario])
    assert have == want, f"{scenario}: ml_metadata moved {want!r}, the adapter {have!r}"
    # and the nodes themselves are the same (times aside)
    for method in ("get_artifacts", "get_executions", "get_contexts"):
        both.call(method)


def _bare_nodes_moved(s: Any) -> list[bool]:
    """Artifacts and executions given with nothing but their type (uri and state unset), or
    with an UNKNOWN state, then given back as read: whether each one's update time moved."""
    s.put_artifact_type(pb.ArtifactType(name="A"))
    s.put_execution_type(pb.ExecutionType(name="E"))
    aids = s.put_artifacts([A(type_id=10), A(type_id=10, state=A.UNKNOWN)])
    eids = s.put_executions([X(type_id=11), X(type_id=11, last_known_state=X.UNKNOWN)])
    nodes = [*s.get_artifacts_by_id(aids), *s.get_executions_by_id(eids)]
    time.sleep(0.005)
    s.put_artifacts(nodes[:2])
    s.put_executions(nodes[2:])
    again = [*s.get_artifacts_by_id(aids), *s.get_executions_by_id(eids)]
    return [
        a.last_update_time_since_epoch != b.last_update_time_since_epoch
        for a, b in zip(nodes, again, strict=True)
    ]


def test_bare_nodes_given_back_as_read_are_unchanged(both: Both) -> None:
    """Unset fields the adapter reads back as MLMD shows them (an unset uri as "", an UNKNOWN
    state as unset: D4) count as unchanged when given back, as in MLMD."""
    assert _bare_nodes_moved(both.ours) == _bare_nodes_moved(both.ref) == [False] * 4


def test_an_unchanged_update_writes_nothing(both: Both) -> None:
    """The stored node is left as it is: what the node held stays, its update time too, and a
    later change moves it as usual."""
    _setup(both.ours)
    a = _a(both.ours)
    time.sleep(0.005)
    assert both.ours.put_artifacts([a]) == [1]
    assert _a(both.ours) == a
    a.uri = "/changed"
    both.ours.put_artifacts([a])
    assert _a(both.ours).last_update_time_since_epoch > a.last_update_time_since_epoch
