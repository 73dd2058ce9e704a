"""Stored text made safe to show people: the one definition of the characters the CLI, the
drawings (Mermaid, DOT) and the HTML viewer show as visible escapes instead of as they are."""

from __future__ import annotations

import re

__all__ = ["BIDI_CONTROLS", "CONTROL_PATTERN", "printable"]

#: The Unicode bidirectional controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI): they reorder what
#: follows them, so a uri "s3://x/\u202egnp.exe" reads "s3://x/exe.png" (the "Trojan Source"
#: spoofing) in a terminal, a drawing or a browser.
BIDI_CONTROLS: tuple[int, ...] = (
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
)

#: Every code point :func:`printable` escapes: C0, DEL, C1 and the bidi controls. A stored name
#: holding ``ESC [31m`` would recolour, retitle or clear a terminal; one holding RLO reorders.
CONTROL_CODES: tuple[int, ...] = (*range(0x20), *range(0x7F, 0xA0), *BIDI_CONTROLS)

#: :data:`CONTROL_CODES` as a regular expression source (ASCII, ``\uXXXX`` escapes) that both
#: Python's ``re`` and JavaScript's ``RegExp`` read the same: the viewer's page is given it.
CONTROL_PATTERN = "[" + "".join(f"\\u{c:04x}" for c in CONTROL_CODES) + "]"

_CONTROL = re.compile(CONTROL_PATTERN)
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    """``text`` safe to show: each control character (C0, DEL, C1, bidi controls) as a visible
    escape (``\\x1b``, ``\\n``, ``\\u202e``), everything else as it is. Every stored text the
    CLI prints for people, and the viewer shows, passes here; ``--json`` and the viewer's data
    stay exact."""
    return _CONTROL.sub(_visible, text)


def _visible(m: re.Match[str]) -> str:
    code = ord(m[0])
    return _SHORT_ESCAPES.get(m[0]) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
