"""Arguments of ``run.fail`` and ``Tracker`` that are no value of their kind are refused."""

from __future__ import annotations

import pytest

from lineage_graph import ExecutionState, LineageStore
from lineage_graph._tracker import Tracker
from lineage_graph.exceptions import InvalidArgumentError


@pytest.mark.parametrize("error", [None, 5, ["boom"]])
def test_fail_with_no_exception_nor_message_is_refused(store: LineageStore, error: object) -> None:
    """``run.fail(None)`` recorded the error text ``"None"``: it is refused, nothing written,
    and the run can still be failed with a message."""
    run = store.run("Train").start()
    with pytest.raises(InvalidArgumentError, match="exception or a message"):
        run.fail(error)  # type: ignore[arg-type]
    assert run.active
    [running] = store.get_executions_by_id([run.id])
    assert running.last_known_state == ExecutionState.RUNNING
    assert "error" not in running.custom_properties
    run.fail("out of memory")
    [failed] = store.get_executions_by_id([run.id])
    assert failed.last_known_state == ExecutionState.FAILED
    assert failed.custom_properties["error"] == "out of memory"


@pytest.mark.parametrize("experiment_type", [5, "", None, "a\x00b"])
def test_a_tracker_of_no_context_type_name_is_refused(
    store: LineageStore, experiment_type: object
) -> None:
    """``Tracker(store, experiment_type=5)`` was taken, and ``experiment_of`` answered None
    for every model."""
    with pytest.raises(InvalidArgumentError):
        Tracker(store, experiment_type=experiment_type)  # type: ignore[arg-type]
    assert Tracker(store, experiment_type="Sweep").experiment_type == "Sweep"


def test_numpy_scalars_are_logged_as_their_python_values(store: LineageStore) -> None:
    """``run.log_metrics(correct=(pred == y).sum())`` (a numpy int64) was refused with
    "unsupported property value of type numpy.int64"; a float32 loss likewise."""
    np = pytest.importorskip("numpy")
    with store.run("Train") as run:
        run.log_metrics(correct=np.int64(7), loss=np.float32(0.5), rate=np.float64(0.25))
        run.log_properties({"balanced": np.bool_(True), "width": np.int32(3)})
        with pytest.raises(InvalidArgumentError, match="complex"):
            run.log_metrics(z=np.complex128(1j))
    [done] = store.get_executions_by_id([run.id])
    logged = {
        k: done.custom_properties[k] for k in ("correct", "loss", "rate", "balanced", "width")
    }
    assert logged == {"correct": 7, "loss": 0.5, "rate": 0.25, "balanced": True, "width": 3}
    assert [type(v) for v in logged.values()] == [int, float, float, bool, int]


def test_a_numpy_longdouble_a_double_holds_is_logged(store: LineageStore) -> None:
    """``np.longdouble(0.5)`` (a mean taken in long double) was refused as "unsupported property
    value of type numpy.longdouble" where numpy's long double is wider than a double (x86-64
    Linux), and logged where it is not; one no double holds exactly is refused (typed)."""
    np = pytest.importorskip("numpy")
    with store.run("Train") as run:
        run.log_metrics(half=np.longdouble(0.5), big=np.longdouble(2.0) ** 70)
        run.log_metrics(inf=np.longdouble("inf"))
        if np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant:
            with pytest.raises(InvalidArgumentError, match="longdouble"):
                run.log_metrics(tenth=np.longdouble(1) / np.longdouble(10))
    [done] = store.get_executions_by_id([run.id])
    logged = {k: done.custom_properties[k] for k in ("half", "big", "inf")}
    assert logged == {"half": 0.5, "big": 2.0**70, "inf": float("inf")}
    assert "tenth" not in done.custom_properties
