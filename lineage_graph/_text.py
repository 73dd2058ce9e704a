"""Stored text made safe to show people: the one definition of the characters the CLI, the
drawings (Mermaid, DOT) and the HTML viewer show as visible escapes instead of as they are."""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "CONTROL_PATTERN",
    "CONTROL_PATTERN_JS",
    "printable",
    "printable_lines",
]

#: The characters drawn as nothing at all: Unicode's Default_Ignorable_Code_Point (zero width
#: space and joiners, word joiner, BOM, soft hyphen, variation selectors, Hangul fillers, tag
#: characters...), every other format character (category Cf: the interlinear annotation
#: marks, the Egyptian format controls; the few a font draws, such as the Arabic number signs,
#: lose nothing shown as escapes) and the line and paragraph separators
#: (U+2028, U+2029, which terminals draw as nothing). "s3://bu\u200bcket/data" read exactly
#: as "s3://bucket/data": two artifacts a user could not tell apart. Ranges, both ends in.
#: (Escaping a zero width joiner shows an emoji sequence as its parts: a name or a uri is
#: told apart first.) The Unicode bidirectional controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI)
#: are among them: they reorder what follows them, so a uri "s3://x/\u202egnp.exe" reads
#: "s3://x/exe.png" (the "Trojan Source" spoofing) in a terminal, a drawing or a browser.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

#: Every code point :func:`printable` escapes, as ranges (both ends in): C0, DEL, C1 and the
#: invisible characters (:data:`INVISIBLE_RANGES`, the bidi controls among them). A stored
#: name holding ``ESC [31m`` would recolour, retitle or clear a terminal; one holding RLO
#: reorders; one holding U+200B reads as the name without it.
CONTROL_RANGES: tuple[tuple[int, int], ...] = ((0x00, 0x1F), (0x7F, 0x9F), *INVISIBLE_RANGES)


def _pattern(escape: Callable[[int], str]) -> str:
    return "[" + "".join(f"{escape(a)}-{escape(b)}" for a, b in CONTROL_RANGES) + "]"


#: :data:`CONTROL_RANGES` as a Python ``re`` pattern (ASCII: ``\uXXXX``, ``\UXXXXXXXX``).
CONTROL_PATTERN = _pattern(lambda c: f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}")
#: The same set as a JavaScript ``RegExp`` source to compile with the ``u`` flag (ASCII:
#: ``\uXXXX``, ``\u{XXXXX}``; without ``u`` a tag character, two UTF-16 units, is not one
#: character): the viewer's page is given it.
CONTROL_PATTERN_JS = _pattern(lambda c: f"\\u{c:04x}" if c < 0x10000 else f"\\u{{{c:x}}}")

_CONTROL = re.compile(CONTROL_PATTERN)
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    """``text`` safe to show: each control or invisible character (C0, DEL, C1, bidi controls,
    zero width and other format characters, line and paragraph separators) as a visible escape
    (``\\x1b``, ``\\n``, ``\\u202e``, ``\\u200b``, ``\\U000e0041``), everything else as it is.
    Every stored text the CLI prints for people, the drawings label with and the viewer shows,
    passes here; ``--json`` and the viewer's data stay exact."""
    return _CONTROL.sub(_visible, text)


def printable_lines(text: str) -> list[str]:
    """``text``'s lines (split at each ``\\n``), each :func:`printable`: for a drawing that
    breaks a label's lines itself (DOT) or joins them with spaces (Mermaid)."""
    return [printable(line) for line in text.split("\n")]


def _visible(m: re.Match[str]) -> str:
    code = ord(m[0])
    if m[0] in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[m[0]]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
