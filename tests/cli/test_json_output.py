"""What ``--json`` prints: JSON alone on stdout, messages on stderr."""

from __future__ import annotations

import json

from .conftest import Demo


def test_cached_json_says_on_stderr_when_the_type_is_unknown(demo: Demo) -> None:
    """In ``--json`` mode a misspelt type (``trainer``) was a silent ``"hit": false``: the
    note that the store has no such type, printed without ``--json``, was left out, not sent
    to stderr as other messages."""
    result = demo.cli("cached", "trainer", "-i", "2", "--json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["hit"] is False
    assert "no execution type 'trainer'" in " ".join(result.stderr.split()), result.stderr
    known = demo.cli("cached", "Trainer", "-i", "2", "--json")
    assert known.exit_code == 1 and known.stderr == "", known.stderr
