"""The options every lineage command shares (``upstream``, ``downstream``, ``export``, ``view``)
and how they become the arguments of ``store.lineage``.

Typer cannot group options into one parameter, so each command declares the annotated aliases
below and passes them to :func:`walk_options`, which validates them (a bad value is a usage
error, exit 2) into a :class:`WalkOptions`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from ..exceptions import InvalidArgumentError
from ..lineage import NodeFilter
from ..lineage._traverse import as_of_ms
from ..models import ArtifactState, ExecutionState, NodeKind
from ._common import ExitCode, fail, refuse_empty
from ._complete import complete_any_state
from ._refs import utf8_text

__all__ = [
    "AsOfOption",
    "CursorOption",
    "ExcludeStopOption",
    "OnlyKind",
    "OnlyOption",
    "PageLimitOption",
    "StateFilterOption",
    "StopStateOption",
    "StopTypeOption",
    "TypeFilterOption",
    "WalkOptions",
    "WhereOption",
    "parse_as_of",
    "parse_assignment",
    "parse_assignments",
    "walk_options",
]


class OnlyKind(StrEnum):
    artifacts = "artifacts"
    executions = "executions"


AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="WHEN",
        help="Only events recorded up to then: an ISO date/time (UTC unless it has a zone, "
        "e.g. 2026-05-01T12:00) or milliseconds since the epoch.",
    ),
]
TypeFilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--type",
        "-t",
        metavar="TYPE",
        help="Return only nodes of this type (repeat for several); the walk still passes "
        "through the others.",
    ),
]
OnlyOption = Annotated[
    OnlyKind | None,
    typer.Option("--only", case_sensitive=False, help="Return only artifacts or only executions."),
]
StateFilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--state",
        metavar="STATE",
        help="Return only nodes in this state (LIVE, COMPLETE, ...; repeatable).",
        autocompletion=complete_any_state,
    ),
]
WhereOption = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        metavar="NAME=VALUE",
        help="Return only nodes whose property or custom property NAME equals VALUE: "
        "NAME=VALUE, VALUE read as JSON (0.5, true) or else text; repeat: all must hold.",
    ),
]
StopTypeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--stop-at-type", metavar="TYPE", help="Do not walk beyond nodes of this type (repeatable)."
    ),
]
StopStateOption = Annotated[
    list[str] | None,
    typer.Option(
        "--stop-at-state",
        metavar="STATE",
        help="Do not walk beyond nodes in this state (repeatable).",
        autocompletion=complete_any_state,
    ),
]
ExcludeStopOption = Annotated[
    bool,
    typer.Option(
        "--exclude-stop",
        help="Leave the --stop-at-* nodes themselves out of the answer (default: included).",
    ),
]
PageLimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=1,
        help="At most this many nodes (one page); the command says when more remain and "
        "prints the --cursor for the next page.",
    ),
]
CursorOption = Annotated[
    str | None,
    typer.Option(
        "--cursor",
        metavar="CURSOR",
        help="Continue a paged answer: the cursor the previous page printed (same options).",
    ),
]

_STATE_NAMES = frozenset(ArtifactState.__members__) | frozenset(ExecutionState.__members__)


def parse_as_of(text: str | None) -> int | None:
    """``--as-of``: milliseconds since the epoch, or an ISO 8601 date/time (naive is UTC)."""
    if text is None:
        return None
    raw = text.strip()
    if raw.lstrip("-").isdigit():
        # str.isdigit takes '²' and lstrip('-') takes '--5', which int() refuses: no traceback
        with contextlib.suppress(ValueError):
            return int(raw)
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise fail(
            f"--as-of wants an ISO date/time (2026-05-01T12:00:00Z) or milliseconds since the "
            f"epoch, got {text!r}",
            ExitCode.USAGE,
        ) from None
    return as_of_ms(moment)  # naive is UTC; exact (a float product was 1 ms early at times)


class _NotFinite(ValueError):
    """A JSON number past a double's range (``1e999``), or with ``finite`` one of JSON's
    ``NaN`` / ``Infinity`` / ``-Infinity``: what :func:`parse_assignment` refuses."""


def _finite_number(text: str) -> float:
    """A JSON number with a fraction or exponent as a float: one past a double's range is
    refused, where ``json`` read ``1e999`` as infinity without a word (and ``1e-400``, not
    zero, as 0.0)."""
    number = float(text)
    if not math.isfinite(number):
        raise _NotFinite(f"{text} is outside the range of a double")
    if number == 0 and any(c in "123456789" for c in text.lower().partition("e")[0]):
        # 1e-400: read as 0.0, so '--where C=1e-400' found the zeros
        raise _NotFinite(f"{text} is too small for a double (it would be read as 0)")
    return number


def _json_int(text: str) -> int | float:
    """A JSON integer: ``-0`` as the double ``-0.0``, what JSON's ``-0`` is as a double (a
    struct's numbers are doubles: ml_metadata's ``Struct`` stores and reads back ``-0.0``,
    where :mod:`json` alone reads the int 0). At the top
    of a value, where an int is an int property, :func:`parse_assignment` makes it 0 again
    (MLMD's ``int_value`` has no negative zero)."""
    return -0.0 if text == "-0" else int(text)


def _no_constant(text: str) -> float:
    raise _NotFinite(f"{text} is no finite number")


def parse_assignment(text: str, option: str, *, finite: bool = False) -> tuple[str, Any]:
    """``NAME=VALUE`` with VALUE read as JSON (numbers, booleans, objects) or else as text (as
    typed, in a locale that is not UTF-8 too; bytes that are no UTF-8 are a bad value, exit 2:
    they were exit 5 for ``-p`` and ``--mark``, an empty answer for ``--where``). A number past
    a double's range (``1e999``, ``-1e999``, in a struct too) is a bad value (exit 2): it was
    read as +/-infinity, and ``impact --mark q=1e999`` stored that. With ``finite`` (a value
    to write: ``--mark``), so are JSON's ``NaN``, ``Infinity`` and ``-Infinity``; a filter
    (``--where``, ``-p``) takes them, to find a stored NaN or infinity."""
    key, sep, raw = utf8_text(text, option).partition("=")
    key = key.strip()
    if not sep or not key:
        raise fail(f"{option} wants NAME=VALUE, got {text!r}", ExitCode.USAGE)
    value: Any
    try:
        # JSON at all? Its numbers are checked only then: json reads a number before it sees
        # what follows, so text beginning like one ('3e4008c', a commit; 'NaN-check') was
        # refused as a number past a double's range, where it is text
        shape = json.loads(raw, parse_int=str, parse_float=str, parse_constant=str)
    except json.JSONDecodeError:
        value = raw
    except RecursionError:  # JSON nested deeper than Python's recursion limit
        raise fail(f"{option} {key}: the value is nested too deep", ExitCode.USAGE) from None
    else:
        if shape is None or isinstance(shape, list):
            # no property holds null or a list: the text as typed, its numbers unread
            # ('[1e999]', '[NaN]' were refused as numbers, where they are text)
            value = raw
        else:
            value = _json_value(raw, option, key, finite=finite)
            if shape == "-0" and isinstance(value, float):  # the int -0 (not the text "-0")
                value = int(value)  # 0: an int property has no negative zero
            _check_decoded(value, option, key, exact=finite)
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        # what the store would refuse (exit 5): a bad option value, like any other here
        raise fail(f"{option} {key}: {value} is outside the int64 range", ExitCode.USAGE)
    return key, value


def _json_value(raw: str, option: str, key: str, *, finite: bool) -> Any:
    """``raw``, valid JSON, read with its numbers checked (see :func:`parse_assignment`)."""
    try:
        return json.loads(
            raw,
            parse_float=_finite_number,
            parse_int=_json_int,
            parse_constant=_no_constant if finite else None,
        )
    except _NotFinite as exc:
        raise fail(f"{option} {key}: {exc}", ExitCode.USAGE) from None
    except ValueError:
        # an integer of more digits than Python converts (4,300): an unexpected error, exit 70
        raise fail(
            f"{option} {key}: the number is outside the int64 range", ExitCode.USAGE
        ) from None


def _check_decoded(value: Any, option: str, key: str, *, exact: bool) -> None:
    """``value`` as JSON decoded it, refused (exit 2) where no store could hold it:

    - a lone surrogate, which a JSON escape (``"\\udcff"``) gives and no stored text holds
      (the store refuses it as text, and the byte it would be quoted as, ``'\\xff'``, was
      not typed);
    - an integer inside a struct (``{"a": 1}``'s ``1`` is not, at the top, an int property) past
      a double's range: a ``google.protobuf.Struct``'s numbers are doubles, and ml_metadata
      refuses such a one (OverflowError); with ``exact`` (a value to write: ``--mark``), also
      one a double does not hold exactly (``9007199254740993``, 2**53 + 1: ml_metadata stores
      ``9007199254740992.0``).

    Walked with a list of its own, not by recursion: JSON nested deeper than Python's recursion
    limit decodes where the decoder's own limit is higher (Python 3.13)."""
    pending: list[tuple[Any, bool]] = [(value, False)]  # (item, inside a struct)
    while pending:
        item, inside = pending.pop()
        if isinstance(item, str):
            surrogate = next((c for c in item if "\ud800" <= c <= "\udfff"), None)
            if surrogate is not None:
                raise fail(
                    f"{option} {key}: the value holds U+{ord(surrogate):04X}, a lone surrogate "
                    "(half of a UTF-16 pair, as a JSON \\u escape writes it), which is no "
                    "character: no stored text can hold it",
                    ExitCode.USAGE,
                )
        elif isinstance(item, dict):
            for name, member in reversed(item.items()):  # (the first fault is the one told)
                pending.append((member, True))
                pending.append((name, True))
        elif isinstance(item, list) and inside:  # at the top, a list is read as text
            pending.extend((member, True) for member in reversed(item))
        elif isinstance(item, int) and not isinstance(item, bool) and inside:
            try:
                inexact = float(item) != item
            except OverflowError:
                raise fail(
                    f"{option} {key}: {_cut(str(item))} is outside the range of a double (a "
                    "struct's numbers are doubles)",
                    ExitCode.USAGE,
                ) from None
            if exact and inexact:
                raise fail(
                    f"{option} {key}: {item} is not a double exactly (a struct's numbers are "
                    f"doubles: it would be {float(item)!r}); write it as text",
                    ExitCode.USAGE,
                )


def _cut(digits: str) -> str:
    return digits if len(digits) <= 40 else f"{digits[:20]}… ({len(digits)} digits)"


def parse_assignments(texts: Sequence[str], option: str) -> dict[str, Any]:
    """Repeated ``NAME=VALUE`` options as one mapping. A name given twice is a usage error: a
    dict kept the last value only, so ``--where C=1.0 --where C=0.003`` (documented as "all must
    hold", which no node can) returned the nodes with ``C=0.003``, and ``cached -p`` hit on it."""
    values: dict[str, Any] = {}
    for text in texts:
        key, value = parse_assignment(text, option)
        if key in values:
            raise fail(
                f"{option} names {key!r} twice ({values[key]!r} and {value!r}): give each "
                "property once",
                ExitCode.USAGE,
            )
        values[key] = value
    return values


def _states(values: list[str] | None, option: str) -> list[str] | None:
    if not values:
        return None
    names = [v.strip().upper() for v in values]
    for name in names:
        if name not in _STATE_NAMES:
            raise fail(
                f"{option}: unknown state {name!r}; artifact states are "
                f"{', '.join(ArtifactState.__members__)}; execution states are "
                f"{', '.join(ExecutionState.__members__)}",
                ExitCode.USAGE,
            )
    return names


@dataclass(frozen=True)
class WalkOptions:
    """Validated lineage options: :meth:`kwargs` are ``store.lineage``'s keyword arguments."""

    depth: int | None = None
    as_of: int | None = None
    where: NodeFilter | None = None
    stop_at: NodeFilter | None = None
    include_stop: bool = True
    limit: int | None = None
    cursor: str | None = None

    def kwargs(self) -> dict[str, Any]:
        return {
            "max_hops": self.depth,
            "as_of": self.as_of,
            "where": self.where,
            "stop_at": self.stop_at,
            "include_stop": self.include_stop,
            "limit": self.limit,
            "cursor": self.cursor,
        }

    @property
    def shapes_the_answer(self) -> bool:
        """Whether anything beyond the start node and direction was asked for (the whole-store
        export cannot honour these)."""
        return any(
            v is not None for v in (self.depth, self.as_of, self.where, self.stop_at, self.cursor)
        )

    @property
    def type_names(self) -> list[str]:
        """The type names ``--type`` and ``--stop-at-type`` gave, sorted, each once."""
        names: set[str] = set()
        for node_filter in (self.where, self.stop_at):
            if node_filter is not None and node_filter.types:
                names |= node_filter.types
        return sorted(names)

    @property
    def filtered(self) -> bool:
        """Whether ``where`` drops reached nodes (the answer is then not a connected tree)."""
        return self.where is not None


def walk_options(
    *,
    depth: int | None = None,
    as_of: str | None = None,
    only: OnlyKind | None = None,
    types: list[str] | None = None,
    states: list[str] | None = None,
    where: list[str] | None = None,
    stop_types: list[str] | None = None,
    stop_states: list[str] | None = None,
    exclude_stop: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
) -> WalkOptions:
    """The command-line options as ``store.lineage`` arguments (bad values: exit 2)."""
    kinds = None
    if only is not None:
        kinds = [NodeKind.ARTIFACT if only == OnlyKind.artifacts else NodeKind.EXECUTION]
    for names, option in ((types, "--type"), (stop_types, "--stop-at-type")):
        for name in names or []:  # as ls --type '': a name no type has, answered "none"
            refuse_empty(name, option)
    # as typed, in a locale that is not UTF-8 too; bytes that are no UTF-8: exit 2 (utf8_text)
    types = None if types is None else [utf8_text(name, "--type") for name in types]
    stop_types = (
        None if stop_types is None else [utf8_text(name, "--stop-at-type") for name in stop_types]
    )
    properties = parse_assignments(where, "--where") if where else None
    state_names = _states(states, "--state")
    where_filter = None
    if kinds or types or state_names or properties:
        try:
            where_filter = NodeFilter(
                kinds=kinds, types=types or None, states=state_names, properties=properties
            )
        except InvalidArgumentError as exc:  # a value no property can hold (past int64, …)
            raise fail(f"--where: {exc}", ExitCode.USAGE) from None
    stop_state_names = _states(stop_states, "--stop-at-state")
    stop_filter = None
    if stop_types or stop_state_names:
        stop_filter = NodeFilter(types=stop_types or None, states=stop_state_names)
    if exclude_stop and stop_filter is None:
        raise fail("--exclude-stop needs --stop-at-type or --stop-at-state", ExitCode.USAGE)
    if cursor is not None and not cursor.strip():
        raise fail("--cursor is empty: pass the cursor the previous page printed", ExitCode.USAGE)
    return WalkOptions(
        depth=depth,
        as_of=parse_as_of(as_of),
        where=where_filter,
        stop_at=stop_filter,
        include_stop=not exclude_stop,
        limit=limit,
        cursor=cursor.strip() if cursor else None,
    )
