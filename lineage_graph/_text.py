"""Stored text made safe to show people: the one definition of the characters the CLI, the
drawings (Mermaid, DOT) and the HTML viewer show as visible escapes instead of as they are."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from . import _joining

__all__ = [
    "CONTROL_PATTERN",
    "CONTROL_PATTERN_JS",
    "JOINER_TABLES",
    "printable",
    "printable_lines",
]

#: The characters drawn as nothing at all: Unicode's Default_Ignorable_Code_Point (zero width
#: space and joiners, word joiner, BOM, soft hyphen, variation selectors, Hangul fillers, tag
#: characters...; a zero width non-joiner or joiner only where it changes nothing drawn:
#: :func:`printable`), every other format character (category Cf: the interlinear annotation
#: marks, the Egyptian format controls; the few a font draws, such as the Arabic number signs,
#: lose nothing shown as escapes) and the line and paragraph separators
#: (U+2028, U+2029, which terminals draw as nothing). "s3://bu\u200bcket/data" read exactly
#: as "s3://bucket/data": two artifacts a user could not tell apart. Ranges, both ends in.
#: (Escaping a zero width joiner shows an emoji sequence as its parts: a name or a uri is
#: told apart first; a terminal without the sequence draws its parts and no joiner.) The
#: Unicode bidirectional controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI) are among them: they
#: reorder what follows them, so a uri "s3://x/\u202egnp.exe" reads "s3://x/exe.png" (the
#: "Trojan Source" spoofing) in a terminal, a drawing or a browser.
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
_ZWNJ, _ZWJ = "\u200c", "\u200d"

#: The joiner rule's tables (lineage_graph._joining), as the viewer's page is given them.
JOINER_TABLES: dict[str, str] = {
    "virama": _joining.VIRAMA,
    "before": _joining.JOINS_BEFORE,
    "after": _joining.JOINS_AFTER,
    "transparent": _joining.TRANSPARENT,
}


def _ranges(text: str) -> tuple[list[int], list[int]]:
    starts, ends = [], []
    for item in text.split():
        first, _, last = item.partition("-")
        starts.append(int(first, 16))
        ends.append(int(last or first, 16))
    return starts, ends


_TABLES = {name: _ranges(text) for name, text in JOINER_TABLES.items()}


def _is(table: str, char: str) -> bool:
    starts, ends = _TABLES[table]
    i = bisect.bisect_right(starts, ord(char)) - 1
    return i >= 0 and ord(char) <= ends[i]


def _skipped(char: str) -> bool:
    """A transparent character (a mark) between a ZWNJ and a letter; not one shown as an
    escape (a format character: "\\u200b" drawn between them joins nothing either way)."""
    return _is("transparent", char) and not _CONTROL.match(char)


def _joiner_drawn(text: str, at: int) -> bool:
    r"""Whether the ZWNJ or ZWJ at ``text[at]`` changes how the text is drawn, by RFC 5892's
    CONTEXTJ rules (IDNA's, for the same question: which joiners tell two names apart): after
    a virama (a Devanagari half form "\u0915\u094d\u200d\u0937", Sinhala
    "\u0dc1\u0dca\u200d\u0dbb\u0dd3"), and a ZWNJ between letters that would join across
    it (Persian "\u06a9\u062a\u0627\u0628\u200c\u0647\u0627": the non-joiner tells it
    from "\u06a9\u062a\u0627\u0628\u0647\u0627", drawn joined). Anywhere else (in
    "s3://bu\u200ccket", between emoji, after an alef, which joins nothing after it) it draws
    nothing and is escaped."""
    if at > 0 and _is("virama", text[at - 1]):
        return True
    if text[at] != _ZWNJ:
        return False
    before = at - 1
    while before >= 0 and _skipped(text[before]):
        before -= 1
    after = at + 1
    while after < len(text) and _skipped(text[after]):
        after += 1
    return (
        before >= 0
        and _is("before", text[before])
        and after < len(text)
        and _is("after", text[after])
    )


def printable(text: str) -> str:
    """``text`` safe to show: each control or invisible character (C0, DEL, C1, bidi controls,
    zero width and other format characters, line and paragraph separators) as a visible escape
    (``\\x1b``, ``\\n``, ``\\u202e``, ``\\u200b``, ``\\U000e0041``), everything else as it is;
    a zero width non-joiner or joiner is shown as it is where the script needs it to be drawn
    right (:func:`_joiner_drawn`). Every stored text the CLI prints for people, the drawings
    label with and the viewer shows, passes here; ``--json`` and the viewer's data stay exact."""
    return _CONTROL.sub(_visible, text)


def printable_lines(text: str) -> list[str]:
    """``text``'s lines (split at each ``\\n``), each :func:`printable`: for a drawing that
    breaks a label's lines itself (DOT) or joins them with spaces (Mermaid)."""
    return [printable(line) for line in text.split("\n")]


def _visible(m: re.Match[str]) -> str:
    code = ord(m[0])
    if m[0] in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[m[0]]
    if m[0] in (_ZWNJ, _ZWJ) and _joiner_drawn(m.string, m.start()):
        return m[0]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
