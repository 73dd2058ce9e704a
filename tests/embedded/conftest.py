"""Fixtures of the embedded-engine tests."""

from __future__ import annotations

# the leftover servers' fixture and hook (one definition, tests/_servers.py), re-exported
from tests._servers import _stop_leftover_servers as _stop_leftover_servers
from tests._servers import pytest_runtest_makereport as pytest_runtest_makereport
