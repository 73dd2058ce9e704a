"""How the CLI shows things: rich tables and trees for people, JSON for scripts."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .._redact import MASK, redact_uri, redact_value, secret_name, shown_properties
from .._text import printable as _printable
from ..models import (
    Artifact,
    ArtifactState,
    Event,
    Execution,
    ExecutionState,
    NodeType,
    ProtoValue,
)
from ..viewer import jsonable
from ._refs import Entity, bytes_as_typed
from ._stdout import write_stdout

__all__ = [
    "STATE_STYLES",
    "WholeTable",
    "absent_cell",
    "busy",
    "count_of",
    "entity_json",
    "entity_label",
    "entity_table",
    "glyph",
    "lineage_tree",
    "listed_text",
    "name_or_uri",
    "print_json",
    "printable",
    "printable_path",
    "shown_text",
    "spinner",
    "stored_text",
    "stream_encoding",
    "text_cell",
    "tree_depth",
    "tree_fits",
    "type_json",
    "value_cell",
]

STATE_STYLES = {
    "COMPLETE": "green",
    "LIVE": "green",
    "RUNNING": "blue",
    "PENDING": "yellow",
    "FAILED": "red",
    "ABANDONED": "red",
    "CACHED": "cyan",
    "CANCELED": "dim",
    "DELETED": "dim",
    "MARKED_FOR_DELETION": "yellow",
    "REFERENCE": "magenta",
}


#: In JSON text: DEL and C1 as \u escapes (json.dumps escapes C0 itself; the value is unchanged).
_JSON_CONTROL = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


class WholeTable(Table):
    """A rich ``Table`` that never cuts a cell. rich's default overflow ("ellipsis") shows a
    type name too wide for its column as ``Deployme…``, and a terminal too narrow for the
    boxes and the ``no_wrap`` columns squeezes the others to nothing: at ``COLUMNS=40`` the
    entities table showed its dates and blank cells, no id, kind, name or uri. Here a cell
    wraps (``overflow="fold"``) unless it is ``no_wrap`` (ids: a wrapped ``12`` reads as two
    ids), and a table too narrow for its boxes (see :meth:`_narrowest`) is drawn without them
    and their padding (one space between columns)."""

    def add_column(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self._narrowest(console, options) > options.max_width and (
            self.box is not None or self.padding != (0, 1, 0, 0)
        ):
            self.box = None
            self.show_edge = False
            self.pad_edge = False
            self.padding = (0, 1, 0, 0)
        yield from super().__rich_console__(console, options)

    def _narrowest(self, console: Console, options: ConsoleOptions) -> int:
        """The width of the narrowest layout worth drawing with boxes: each ``no_wrap`` column
        whole, each other one at least ``WRAP_MIN`` columns (or its widest cell) wide."""
        width = self._extra_width
        for column in self.columns:
            measured = self._measure_column(console, options, column)
            if column.no_wrap:
                width += measured.maximum
            else:
                padding = self._get_padding_width(column._index)
                width += min(measured.maximum, WRAP_MIN + padding)
        return width


#: The fewest columns a wrapping cell of a boxed table gets (narrower: drawn without boxes).
WRAP_MIN = 8


def count_of(n: int, noun: str) -> str:
    """``"1 artifact"``, ``"0 artifacts"``, ``"2 differences"``: ``noun`` is singular and
    regular (an ``s`` added, ``es`` after s/x/ch/sh)."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}{'es' if noun.endswith(('s', 'x', 'ch', 'sh')) else 's'}"


#: A byte that is no UTF-8 as Python reads it from the command line, as ``repr`` quotes it
#: (``'\\udcff'``, its backslash not itself escaped; raw, :func:`~._refs.bytes_as_typed`).
_QUOTED_BYTE = re.compile(r"(?<!\\)((?:\\\\)*)\\udc([89a-f][0-9a-f])")


def typed_bytes(text: str) -> str:
    """``text`` (a message) with the bytes of the command line that are no UTF-8 shown as the
    user typed them, ``\\xff``: a refusal quoting the argument (``--state $'\\xff'``, a
    ``--store`` path, click's ``Invalid value for '--only'``) showed ``'\\udcff'``, Python's
    escape of the byte, which is no character the user typed. A stored value a message quotes
    is rewritten alike (a struct may hold a lone surrogate, which then reads as the byte);
    stored text shown as such goes through :func:`printable`, which keeps it."""
    return _QUOTED_BYTE.sub(r"\1\\x\2", bytes_as_typed(text))


def stream_encoding(stream: Any = None) -> str:
    """The encoding ``stream`` (stdout unless given) writes in: the one place the CLI reads it
    (stdout being ``None``, or a stream without an encoding: UTF-8)."""
    return getattr(sys.stdout if stream is None else stream, "encoding", None) or "utf-8"


def printable(text: str, stream: Any = None) -> str:
    """Stored text as :func:`lineage_graph._text.printable` shows it, with the characters
    ``stream`` (stdout; ``sys.stderr`` for a message) cannot encode (``PYTHONIOENCODING=ascii``)
    already escaped as the stream would escape them (``\\xe9``): escaped only as it was
    written, after rich had measured the text, a name ``données`` pushed its table's right
    border and every box edge after it out of line. Stored text is shown as stored: a lone
    surrogate a struct holds is ``\\udcff``, as ``--json`` has it, not ``\\xff`` (another
    character's escape); a path of the command line goes through :func:`printable_path`."""
    shown = _printable(text)
    encoding = stream_encoding(stream)
    try:
        shown.encode(encoding)
    except UnicodeEncodeError:
        return shown.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    return shown


def printable_path(path: object, stream: Any = None) -> str:
    """A path of the command line (``-o``, ``--plot``) as :func:`printable` shows text, a byte
    of it that is no UTF-8 as typed (``-o $'\\xff.json'``: ``\\xff``, not ``\\udcff``)."""
    return printable(bytes_as_typed(str(path)), stream)


#: The CLI's own symbols and what an output that cannot encode them (``PYTHONIOENCODING=ascii``,
#: ``LC_ALL=C`` without Python's UTF-8 mode) shows instead.
GLYPHS = {"◆": "*", "—": "-", "…": "...", "·": "-", "→": "->", "✓": "+", "✗": "x"}


def glyph(symbol: str, stream: Any = None) -> str:
    """``symbol`` (one of :data:`GLYPHS`, the CLI's own) as ``stream`` (stdout) can print it: on
    an ASCII stdout the tree's ``◆`` printed as ``\\u25c6``, doctor's ``·`` as ``\\xb7`` (and
    its box a column too wide), the very escapes stored control characters are shown as, so a
    reader took them for stored text. Stored text itself is never changed here."""
    try:
        symbol.encode(stream_encoding(stream))
    except (UnicodeEncodeError, LookupError):
        return GLYPHS[symbol]
    return symbol


def busy(text: str) -> str:
    """``text…``, a status line on stderr (``reading the store…``), its ``…`` as stderr can
    print it: on an ASCII terminal it showed ``reading the store\\u2026``."""
    return f"{text}{glyph('…', sys.stderr)}"


def spinner() -> str:
    """rich's spinner for stderr: its ``dots`` are braille, shown ``\\u280b`` on an ASCII
    terminal (wider than rich measured); ``line`` (``-\\|/``) there."""
    try:
        "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏".encode(stream_encoding(sys.stderr) if sys.stderr else "utf-8")
    except (UnicodeEncodeError, LookupError):
        return "line"
    return "dots"


def stored_text(text: str | None, style: str = "") -> Text:
    """Stored text (a name, uri, type name, property) as a rich ``Text``, made printable."""
    return Text(printable(text or ""), style=style)


def state_name(node: Entity) -> str | None:
    if isinstance(node, Artifact):
        return ArtifactState(node.state).name
    if isinstance(node, Execution):
        return ExecutionState(node.last_known_state).name
    return None


def kind_name(node: Entity) -> str:
    return node.kind.value.lower()


def utc_time(ms: int) -> dt.datetime | None:
    """``ms`` (milliseconds since the epoch) as a UTC time; None past the years 1 to 9999 a
    datetime holds (an imported MLMD store may hold any int64: 2**62 was a ValueError
    traceback from ``ls`` and ``show``)."""
    try:
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def time_text(ms: int | None) -> str:
    """``ms`` as a UTC date and time; one no date holds as its number of milliseconds."""
    if ms is None:
        return ""
    when = utc_time(ms)
    return f"{ms} ms" if when is None else when.strftime("%Y-%m-%d %H:%M:%S")


def entity_json(node: Entity) -> dict[str, Any]:
    """An entity as plain JSON (states by name, properties JSON-safe)."""
    out: dict[str, Any] = {
        "kind": kind_name(node),
        "id": node.id,
        "type": node.type,
        "type_id": node.type_id,
        "name": node.name,
    }
    if isinstance(node, Artifact):
        out["uri"] = redact_uri(node.uri)
    state = state_name(node)
    if state is not None:
        out["state"] = state
    out["external_id"] = node.external_id
    # shown, never a secret: a secret-named one masked, a URL's password and the like in any
    # text too (docs/cli.md, `show`)
    out["properties"] = shown_properties(jsonable(node.properties))
    out["custom_properties"] = shown_properties(jsonable(node.custom_properties))
    out["create_time_since_epoch"] = node.create_time_since_epoch
    out["last_update_time_since_epoch"] = node.last_update_time_since_epoch
    return out


def type_json(t: NodeType) -> dict[str, Any]:
    return {
        "kind": t.kind.value.lower(),
        "id": t.id,
        "name": t.name,
        "version": t.version,
        "properties": {k: v.name for k, v in t.properties.items()},
        "base_type": t.base_type,
    }


def event_json(e: Event) -> dict[str, Any]:
    return {
        "artifact_id": e.artifact_id,
        "execution_id": e.execution_id,
        "type": e.type.name,
        "path": list(e.path),
        "milliseconds_since_epoch": e.milliseconds_since_epoch,
    }


def print_json(value: Any) -> None:
    """JSON on stdout, unwrapped (never through rich: it would wrap long lines)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    write_stdout(json_for_stdout(text) + "\n")


def json_for_stdout(text: str) -> str:
    """``text`` (JSON) as stdout's encoding can carry it, its DEL and C1 characters as ``\\u``
    escapes (``export``'s JSON printed a stored CSI, U+009B, as it is: a terminal took it for an
    escape sequence): otherwise unchanged on UTF-8; else every non-ASCII character, which JSON
    has only inside strings, as a ``\\uXXXX`` escape (still the same JSON), rather than a
    UnicodeEncodeError (PYTHONIOENCODING=ascii, a C locale)."""
    text = text.translate(_JSON_CONTROL)
    try:
        text.encode(stream_encoding())
    except (UnicodeEncodeError, LookupError):
        return json.dumps(json.loads(text), indent=2, ensure_ascii=True)
    return text


def styled_state(state: str | None) -> Text:
    if state is None:
        return Text("")
    return Text(state, style=STATE_STYLES.get(state, ""))


def name_or_uri(node: Entity) -> str | None:
    """What a label and the ``name / uri`` column show of ``node``: its name, else an
    artifact's uri (masked), a stored empty one too (shown ``""``, as :func:`shown_text` shows
    it: it was left out, as no uri is); None for neither."""
    if node.name:
        return node.name
    return redact_uri(node.uri) if isinstance(node, Artifact) else None


def entity_label(node: Entity, *, for_file: bool = False) -> Text:
    """``Model #5 churn-v1 [LIVE]`` with the state coloured; executions marked ◆; the type name
    and the name (or uri) as a table shows them (:func:`shown_text`: a uri ``"x "`` quoted, not
    ``x``). For stdout, unless ``for_file`` (a page's title: written as UTF-8, whatever
    stdout's encoding)."""

    def shown(stored: str) -> str:
        return shown_text(stored, for_file=for_file)

    text = Text()
    if isinstance(node, Execution):
        text.append(f"{'◆' if for_file else glyph('◆')} ", style="bold")
    text.append(f"{shown(node.type) if node.type else kind_name(node)} ", style="bold")
    text.append(f"#{node.id}", style="dim")
    detail = name_or_uri(node)
    if detail is not None:
        text.append(f" {shown(detail)}")
    state = state_name(node)
    if state is not None:
        text.append(" [")
        text.append_text(styled_state(state))
        text.append("]")
    return text


#: How a table shows an empty text value: as MLMD's text format writes it (``string_value: ""``),
#: not as a blank cell, which reads as no value (``compare`` shows an absent one as ``—``).
EMPTY_TEXT = '""'

#: The first characters of a text that may read as JSON of another value (a number, ``true``,
#: ``false``, ``null``, ``NaN``, ``Infinity``, a struct or list; ``"`` is quoted anyway).
_JSON_START = frozenset("-0123456789tfnNI[{")


#: What a table shows before a proto value's JSON (``proto {"type_url": ..., "value_base64":
#: ...}``, as ``--json`` writes it): without it, it read as a struct of those two keys.
PROTO_TAG = "proto "


#: The glyph shown for no value, and each form of it (:data:`GLYPHS`: ``-`` on an ASCII stdout).
ABSENT = "—"
_ABSENT_FORMS = frozenset({ABSENT, GLYPHS[ABSENT]})


def absent_cell() -> Text:
    """A table cell for no value (``compare``'s value absent on one side): a dim ``—``."""
    return Text(glyph(ABSENT), style="dim")


#: A character drawn blank that is no white space to Unicode: the braille blank (U+2800).
_BLANK_GLYPHS = frozenset("\u2800")


def _blank(char: str) -> bool:
    """Whether ``char`` is drawn as blank space: Unicode's white space (``str.isspace``: the
    no-break space U+00A0, the ideographic space U+3000, ...) or a blank glyph."""
    return char.isspace() or char in _BLANK_GLYPHS


def _blank_escape(char: str) -> str:
    """A blank character other than the space as its ``\\u`` escape (the ones
    :func:`printable` escapes, a tab or a newline, are left to it)."""
    if char == " " or not _blank(char) or _printable(char) != char:
        return char
    return f"\\u{ord(char):04x}"


def quoted_text(text: str, stream: Any = None, *, for_file: bool = False) -> str:
    """``text`` between double quotes, its ``\\`` and ``"`` escaped with a ``\\`` as JSON
    writes them, made printable (:func:`printable`; ``for_file``: as :mod:`lineage_graph._text`
    does, whatever stdout's encoding), a blank character other than the space as its escape:
    the text ``"\\u00a0"`` (a no-break space) was shown ``" "``, as the text ``" "`` is."""
    escaped = "".join(_blank_escape(c) for c in text.replace("\\", "\\\\").replace('"', '\\"'))
    return '"' + (_printable(escaped) if for_file else printable(escaped, stream)) + '"'


def _reads_as_another(text: str, stream: Any = None, *, for_file: bool = False) -> bool:
    """Whether ``text``, shown as it is, would read as no value or as another one: blank at
    either end (white space, U+00A0 and U+3000 too, or the braille blank: a cell of it only
    reads blank, ``" "`` as ``""`` and as no value; ``"x "`` as ``"x"``), a ``"`` first (a text
    ``'""'`` reads as the empty one without colour, ``NO_COLOR`` or a pipe), a character shown
    as an escape (a tab, ``\\t``: shown bare, the text of a backslash and a ``t`` read the same;
    quoted, that one is ``\\\\t``), or JSON (the text ``"1"`` reads as the number, ``"NaN"`` as a
    double's NaN), or a glyph :func:`absent_cell` shows for no value (``compare``'s ``—``, and
    ``-``, its form on an ASCII stdout: the text ``"—"`` reads as absent). A text shown bare is
    its characters, each as it is (a property's text ``"***"`` is quoted apart from a secret's
    mask by :func:`value_cell`; a uri masked whole reads ``***`` as a uri ``***`` does). Not
    told apart: a blank other than the space inside a text (``a``, U+00A0, ``b`` reads as
    ``a b``; escaping it there would garble ordinary text, a Japanese one's U+3000), and
    look-alike letters. Quoted too: ``proto `` and JSON, a proto value's form
    (:data:`PROTO_TAG`)."""
    if not text or _blank(text[0]) or _blank(text[-1]):
        return True
    if text.startswith('"') or text in _ABSENT_FORMS:
        return True
    if text.startswith(PROTO_TAG) and _is_json(text[len(PROTO_TAG) :]):
        return True  # reads as a proto value (value_cell)
    if (_printable(text) if for_file else printable(text, stream)) != text:
        return True
    return text[:1] in _JSON_START and _is_json(text)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def shown_text(text: str, stream: Any = None, *, for_file: bool = False) -> str:
    """Stored text as the CLI shows it, in a table cell or a label (a tree's, a panel's title,
    ``compare``'s headers, ``impact``'s list): as it is, made printable, unless it would read
    as no value or another one (:func:`_reads_as_another`): then between double quotes
    (:func:`quoted_text`), the empty one ``""``. ``for_file``: for a page's title (written as
    UTF-8, whatever stdout's encoding)."""
    if _reads_as_another(text, stream, for_file=for_file):
        return quoted_text(text, stream, for_file=for_file)
    return _printable(text) if for_file else printable(text, stream)


def listed_text(text: str) -> str:
    """A name in a ``name: kind, ...`` list (``ls types``' properties) as :func:`shown_text`
    shows it, and quoted when it holds the list's separators: a property ``a: INT, b`` read as
    two properties."""
    if (", " in text or ": " in text) and not _reads_as_another(text):
        return quoted_text(text)
    return shown_text(text)


def text_cell(text: str) -> Text:
    """Stored text as a table cell (a field ``show`` and ``compare`` show, a text property):
    as :func:`shown_text` shows it, the empty one as a dim ``""``."""
    if text == "":
        return Text(EMPTY_TEXT, style="dim")
    return Text(shown_text(text))


def value_cell(name: str, value: Any) -> Text:
    """A stored property value named ``name`` as a table cell,
    its secrets masked as everywhere (:func:`~.._redact.redact_value`). A text as
    :func:`text_cell` shows it; any other value as its JSON, a double's NaN or infinity as
    ``NaN``, ``Infinity`` (in a struct too, where a text ``"NaN"`` is quoted: the two would read
    alike, as ``--json`` writes them); a proto value as its JSON after :data:`PROTO_TAG` (apart
    from a struct of the keys ``type_url`` and ``value_base64``); a secret as ``***``."""
    shown = redact_value(name, jsonable(value, finite=False))
    if isinstance(value, str) and isinstance(shown, str):
        if shown == MASK and value == MASK and not secret_name(name):
            return Text(quoted_text(value))  # a text "***", not a secret's mask
        return text_cell(shown)
    if isinstance(shown, str):  # a secret's mask
        return stored_text(shown)
    tag = PROTO_TAG if isinstance(value, ProtoValue) else ""
    return stored_text(tag + json.dumps(shown, ensure_ascii=False))


def properties_table(title: str, values: Mapping[str, Any]) -> Table | None:
    if not values:
        return None
    table = WholeTable(
        title=title,
        title_justify="left",
        show_header=False,
        box=None,
        pad_edge=False,
        min_width=len(title),  # a title wider than a narrow table wrapped mid-word
    )
    table.add_column("name", style="cyan")
    table.add_column("value")
    for key in sorted(values):  # a secret-named one masked (entity_json)
        table.add_row(text_cell(key), value_cell(key, values[key]))  # a name "x " quoted
    return table


def entity_table(node: Entity) -> Table:
    table = WholeTable(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    table.add_row("kind", kind_name(node))
    table.add_row("id", str(node.id))
    # two versions of a type share its name: without the version they read as one type
    version = "" if node.type_version is None else f", version {shown_text(node.type_version)}"
    shown_type = shown_text(node.type) if node.type else ""  # as a label shows it
    table.add_row("type", Text(f"{shown_type} (type id {node.type_id}{version})"))
    # the fields as `compare` shows them (text_cell): a uri " " or "x " quoted, not blank or "x"
    if node.name:
        table.add_row("name", text_cell(node.name))
    # a stored empty uri is a value (a dim "", as compare shows it and --json has it), not none
    if isinstance(node, Artifact) and node.uri is not None:
        table.add_row("uri", text_cell(redact_uri(node.uri)))
    state = state_name(node)
    if state is not None:
        table.add_row("state", styled_state(state))
    if node.external_id:
        table.add_row("external id", text_cell(node.external_id))
    table.add_row("created", time_text(node.create_time_since_epoch))
    table.add_row("updated", time_text(node.last_update_time_since_epoch))
    return table


def entities_table(nodes: Sequence[Entity], *, title: str | None = None) -> Table:
    table = WholeTable(title=title, title_justify="left")
    table.add_column("id", justify="right", style="dim", no_wrap=True)
    table.add_column("kind")
    table.add_column("type", style="bold")
    table.add_column("name / uri")
    table.add_column("state")
    table.add_column("created")  # wraps between the date and the time when narrow
    for n in nodes:
        detail = name_or_uri(n)
        table.add_row(
            str(n.id),
            kind_name(n),
            text_cell(n.type) if n.type else Text(""),
            # as show shows it (text_cell): a uri " " quoted, not blank as no name nor uri is
            text_cell(detail) if detail is not None else Text(""),
            styled_state(state_name(n)),
            time_text(n.create_time_since_epoch),
        )
    return table


# ------------------------------------------------------------------------------------ trees


def _items(graph: object, name: str) -> list[Any]:
    value = getattr(graph, name, None)
    if isinstance(value, Mapping):
        return list(value.values())
    return list(value) if isinstance(value, Iterable) else []


def lineage_tree(graph: object, focus: Artifact | Execution, *, upstream: bool) -> Tree:
    """``focus`` and what it came from (``upstream``) or what came of it, as a tree over the
    events in ``graph``. A node reached again is shown once, with its own branches, and marked
    ``(see above)`` or ``(see below)`` wherever else it is reached: a node's branches are laid
    out before its siblings' are walked, so the place that shows them may come later in the
    printed tree."""
    nodes: dict[str, Artifact | Execution] = {}
    for a in _items(graph, "artifacts"):
        nodes[f"a{a.id}"] = a
    for x in _items(graph, "executions"):
        nodes[f"e{x.id}"] = x
    focus_key = f"{'a' if isinstance(focus, Artifact) else 'e'}{focus.id}"
    nodes.setdefault(focus_key, focus)
    # Each node's next nodes as the keys of a dict (insertion-ordered, each once): a list
    # searched for each event was quadratic in a node's events (a dataset read by 10,000
    # executions: 1.1 s to build the tree, 30,000: ~10 s).
    nexts: dict[str, dict[str, None]] = {}
    for e in _items(graph, "events"):
        a, x = f"a{e.artifact_id}", f"e{e.execution_id}"
        source, target = (x, a) if e.type.is_output else (a, x)
        frm, to = (target, source) if upstream else (source, target)
        nexts.setdefault(frm, {})[to] = None
    tree = Tree(entity_label(focus))
    shown: dict[str, Tree] = {focus_key: tree}  # the branch showing each node's own branches
    again: list[tuple[Tree, str]] = []  # the branches of a node reached again
    stack: list[tuple[Tree, str]] = [(tree, focus_key)]
    while stack:
        branch, key = stack.pop()
        children = sorted(nexts.get(key, []), key=lambda k: (k[0], int(k[1:])))
        pending: list[tuple[Tree, str]] = []
        for child in children:
            node = nodes.get(child)
            if node is None:
                continue
            if child in shown:
                again.append((branch.add(entity_label(node)), child))
                continue
            shown[child] = branch.add(entity_label(node))
            pending.append((shown[child], child))
        stack.extend(reversed(pending))
    if again:
        _mark_again(tree, shown, again)
    return tree


def _mark_again(tree: Tree, shown: dict[str, Tree], again: list[tuple[Tree, str]]) -> None:
    """Mark each branch of a node reached again ``(see above)`` or ``(see below)``: where the
    branch showing that node comes in the printed tree (rich prints a tree in preorder)."""
    place: dict[int, int] = {}
    stack = [tree]
    while stack:
        branch = stack.pop()
        place[id(branch)] = len(place)
        stack.extend(reversed(branch.children))
    for branch, key in again:
        where = "above" if place[id(shown[key])] < place[id(branch)] else "below"
        label = branch.label
        assert isinstance(label, Text)
        label.append(f" (see {where})", style="dim")


#: Columns a level of a rich tree takes (its guide), and the fewest left for a label.
TREE_INDENT = 4
TREE_LABEL_MIN = 30


def tree_depth(tree: Tree) -> int:
    """The levels below ``tree``'s root (0 for a root alone)."""
    deepest = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children)
    return deepest


def tree_fits(tree: Tree, width: int) -> bool:
    """Whether every level of ``tree`` keeps room for a label in ``width`` columns. A deeper
    tree is not shown whole by rich (it drops what passes the right edge: a chain of 2,000
    generations showed 17 of them) and its rendering grows with depth x lines (2,000: 1.7 s)."""
    return TREE_INDENT * tree_depth(tree) + TREE_LABEL_MIN <= width


def print_lines(console: Console, lines: Iterable[str]) -> None:
    for line in lines:
        console.print(line, highlight=False, markup=False)
