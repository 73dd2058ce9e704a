"""Fixtures of the embedded-engine tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests._servers import remember_call_report, stopping_leftovers


@pytest.fixture(autouse=True)
def _stop_leftover_servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A failed test left its data directories' servers running after pytest exited: they are
    stopped once its teardown has run (tests/_servers.py)."""
    yield from stopping_leftovers(request, tmp_path_factory)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    remember_call_report(item, report)
    return report
