"""The retry of a write in doubt is recognised only when it is the same call with the same
values: numbers compared with their type (``1``, ``True`` and ``1.0`` are three values to MLMD:
int_value, bool_value, double_value), not by Python's ``==``."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage_graph import Artifact, LineageStore
from tests.reliability._integrity import assert_healthy
from tests.reliability.test_lost_replies import _in_doubt_unread, _types


@pytest.mark.parametrize(("first", "retry"), [(1, True), (1, 1.0)])
def test_a_call_with_another_typed_value_is_not_taken_for_the_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: object, retry: object
) -> None:
    """The call after a write in doubt (applied) with a property of another type than the
    first's (an int there, a bool or a double here) compared equal (``1 == True == 1.0``): it
    was taken for the retry, returned the first write's id and left the int stored. It is a
    new write now, storing what it was given."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        sent = [Artifact(type="Data", uri="/d", custom_properties={"n": first})]
        error = _in_doubt_unread(monkeypatch, "artifact", True, lambda: store.put_artifacts(sent))
        [written] = store.put_artifacts(
            [Artifact(type="Data", uri="/d", custom_properties={"n": retry})]
        )
        assert (written,) != error.new_ids["Artifact"]  # type: ignore[index]
        [stored] = store.get_artifacts_by_id([written])
        assert type(stored.custom_properties["n"]) is type(retry)
        assert len(store.get_artifacts()) == 2
        assert_healthy(store)


def test_the_retry_of_a_write_in_doubt_with_a_nan_is_recognised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NaN equals itself here: the same call with a NaN property is the retry (one node)."""
    with LineageStore.open(tmp_path / "s") as store:
        _types(store)
        sent = [Artifact(type="Data", uri="/d", custom_properties={"x": float("nan")})]
        error = _in_doubt_unread(monkeypatch, "artifact", True, lambda: store.put_artifacts(sent))
        again = [Artifact(type="Data", uri="/d", custom_properties={"x": float("nan")})]
        assert tuple(store.put_artifacts(again)) == error.new_ids["Artifact"]  # type: ignore[index]
        assert len(store.get_artifacts()) == 1
        assert_healthy(store)
