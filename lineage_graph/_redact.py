"""Passwords kept out of what is shown: reprs, messages, ``describe()``."""

from __future__ import annotations

import re

__all__ = ["MASK", "redact_url"]

#: ``scheme://user:password@`` in a URL (the password part is replaced), read as
#: ``urllib.parse.urlsplit`` (and so the engines' drivers) reads it: the user info is the
#: authority (up to the first ``/``, ``?`` or ``#``) before its *last* ``@``, the password what
#: follows its first ``:``. A password or a user holding a raw ``@`` (``redis://:p@ss@host``,
#: ``bolt://me@corp:pw@host``) was shown in part or whole (the mask stopped at the first ``@``).
_URL_PASSWORD = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#\s]*):(?P<pw>[^/?#\s]+)@"  # the last @ (greedy)
)
#: What a password is shown as.
MASK = "***"


def redact_url(text: str) -> str:
    """``text`` with the password of every URL in it masked (``redis://:pw@host``,
    ``neo4j+s://user:pw@host`` become ``redis://:***@host``, ``neo4j+s://user:***@host``)."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", text)
