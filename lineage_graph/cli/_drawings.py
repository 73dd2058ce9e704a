"""Exports printed on a stdout whose encoding cannot carry every character."""

from __future__ import annotations

import re

from ._render import stream_encoding

__all__ = ["drawing_for_stdout", "mermaid_limits_note"]

#: The viewer page's scripts (its data is ``<script type="application/json">``): text inside is
#: read raw, so a character there is escaped as JavaScript and JSON read it (``\\uXXXX``).
_SCRIPT = re.compile(r"(<script\b[^>]*>)(.*?)(</script>)", re.DOTALL | re.IGNORECASE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

#: Mermaid's defaults (``maxEdges``, ``maxTextSize``, mermaid 10 and 11): a diagram with more
#: edges is refused by its parser ("Edge limit exceeded"), a longer one drawn as "Maximum text
#: size in diagram exceeded". Only the page's ``mermaid.initialize`` raises them (they are
#: secure keys: a diagram's own ``%%{init}%%`` cannot), so GitHub and mermaid.live refuse it.
MERMAID_MAX_EDGES = 500
MERMAID_MAX_TEXT = 50_000
#: an edge line of LineageGraph.to_mermaid: an event (-->) or a context link (-.-)
_MERMAID_EDGE = re.compile(r"^  [ae][0-9]+ (?:-->\|[A-Z_]+\||-\.-) [aec][0-9]+$", re.MULTILINE)


def drawing_for_stdout(text: str, fmt: str) -> str:
    """``text`` (a ``dot``, ``mermaid`` or ``html`` export) as stdout's encoding can carry it:
    unchanged when it can; else each character it cannot carry as the format's own character
    reference, so the drawing shows the same text. The stream's fallback escaped them as
    Python does (``\\xe9``, ``\\x9b``): Graphviz drew a name "é" as "xe9", Mermaid as
    "\\xe9", and the viewer page's data (JSON, which has no ``\\x``) did not load."""
    encoding = stream_encoding()
    try:
        text.encode(encoding)
        return text
    except LookupError:
        encoding = "ascii"
    except UnicodeEncodeError:
        pass

    def fits(c: str) -> bool:
        try:
            c.encode(encoding)
        except UnicodeEncodeError:
            return False
        return True

    def entity(match: re.Match[str]) -> str:
        c = match.group()
        if fits(c):
            return c
        if fmt == "dot" and ord(c) > 0xFFFF:
            # Graphviz (2.43, Debian 12's and Ubuntu 24.04's) turns a reference above U+FFFF
            # into invalid UTF-8: "&#128640;" was drawn as three U+FFFD and warned about.
            # Drawn as its escape "\U0001f680" instead (a DOT "\\" is "\"), as a control
            # character is drawn: unquoted, as a text holding that escape is (drawings show names
            # raw, the CLI's quoting rule is for its tables and trees).
            return f"\\\\U{ord(c):08x}"
        return f"#{ord(c)};" if fmt == "mermaid" else f"&#{ord(c)};"

    def js(match: re.Match[str]) -> str:
        c = match.group()
        if fits(c):
            return c
        units = c.encode("utf-16-be")
        return "".join(f"\\u{units[i] << 8 | units[i + 1]:04x}" for i in range(0, len(units), 2))

    if fmt != "html":
        return _NON_ASCII.sub(entity, text)
    out, at = [], 0
    for m in _SCRIPT.finditer(text):
        out.append(_NON_ASCII.sub(entity, text[at : m.start(2)]))
        out.append(_NON_ASCII.sub(js, m.group(2)))
        at = m.end(2)
    out.append(_NON_ASCII.sub(entity, text[at:]))
    return "".join(out)


def mermaid_limits_note(text: str) -> str | None:
    """What to say when Mermaid's default limits refuse the drawing ``text``, else None: an
    export of a few hundred events was written without a word, and every Mermaid renderer
    with its defaults (GitHub, mermaid.live, the CLI) refused it."""
    edges = len(_MERMAID_EDGE.findall(text))
    size = len(text.encode("utf-16-le")) // 2  # JavaScript's length: UTF-16 units
    over = []
    if edges > MERMAID_MAX_EDGES:
        over.append(f"{edges} edges (its limit: {MERMAID_MAX_EDGES})")
    if size > MERMAID_MAX_TEXT:
        over.append(f"{size} characters (its limit: {MERMAID_MAX_TEXT})")
    if not over:
        return None
    return (
        f"this Mermaid drawing has {' and '.join(over)}: Mermaid with its default maxEdges and "
        "maxTextSize (GitHub, mermaid.live) refuses it; -f dot or -f html draws it, or draw "
        "less (a REF, --depth, --limit)"
    )
