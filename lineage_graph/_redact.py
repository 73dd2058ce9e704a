"""Passwords kept out of what is shown: reprs, messages, ``describe()``."""

from __future__ import annotations

import re

__all__ = ["MASK", "check_url_password", "redact_url"]

#: A URL in a text: its scheme, ``://`` and what follows up to the next whitespace.
_URL = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>\S*)")
#: Where a URL's authority ends (``urllib.parse.urlsplit``, redis-py and the neo4j driver
#: read it so): its first ``/``, ``?`` or ``#``.
_AUTHORITY_END = re.compile(r"[/?#]")
#: What a password is shown as.
MASK = "***"


def _user_info(rest: str) -> tuple[str, str] | None:
    """``(user info, what follows its @)`` of a URL's text after ``scheme://``; None without.

    The user info is the authority (up to the first ``/``, ``?`` or ``#``) before its *last*
    ``@``, as ``urlsplit`` and the drivers read it: a password or a user holding a raw ``@``
    (``redis://:p@ss@host``) is whole. An authority without ``@`` while the URL holds one
    further on (``redis://:pa/ss@host``, ``bolt://neo4j:se?cret@host``) is a user info holding a
    raw ``/``, ``?`` or ``#``, which the drivers read as a host and port (``:pa``, ``neo4j:se``)
    and a path, query or fragment: its writer's password there ran to the last ``@``."""
    end = _AUTHORITY_END.search(rest)
    authority = rest[: end.start()] if end else rest
    if "@" in authority:
        info, _, after = authority.rpartition("@")
        return info, after + rest[len(authority) :]
    if authority and "@" in rest:  # (no authority, as in unix:///a:b@c.sock: no user info)
        info, _, after = rest.rpartition("@")
        return info, after
    return None


def _masked(m: re.Match[str]) -> str:
    found = _user_info(m["rest"])
    if found is None or ":" not in found[0]:
        return m[0]
    user = found[0].partition(":")[0]
    return f"{m['head']}{user}:{MASK}@{found[1]}"


def redact_url(text: str) -> str:
    """``text`` with the password of every URL in it masked (``redis://:pw@host``,
    ``neo4j+s://user:pw@host`` become ``redis://:***@host``, ``neo4j+s://user:***@host``; a
    password holding a raw ``/``, ``?`` or ``#`` too: ``redis://:pa/ss@host`` is shown
    ``redis://:***@host``)."""
    return _URL.sub(_masked, text)


def check_url_password(url: str, what: str) -> None:
    """Raise :class:`~lineage_graph.exceptions.ConfigurationError` when ``url``'s user info
    holds a raw ``/``, ``?`` or ``#`` before a password (``redis://:pa/ss@host``): the drivers
    read no password there but a host and a port made of the password's head (``:pa``,
    ``neo4j:se``), and said so in errors quoting it ("Port could not be cast to integer value
    as 'pa'", "Failed to DNS resolve address neo4j:se"), or tried to connect to that host. The
    message quotes the URL masked and says how to write it."""
    from .exceptions import ConfigurationError

    m = _URL.match(url)
    if m is None:
        return
    end = _AUTHORITY_END.search(m["rest"])
    authority = m["rest"][: end.start()] if end else m["rest"]
    found = _user_info(m["rest"])
    if "@" not in authority and found is not None and ":" in found[0]:
        raise ConfigurationError(
            f"the {what} {redact_url(url)!r} holds a raw '/', '?' or '#' before its last '@': "
            "a password (or a user) holding one is written percent-encoded ('/' as %2F, "
            "'?' as %3F, '#' as %23, '@' as %40); the drivers read the text before it as the "
            "host and port"
        )
