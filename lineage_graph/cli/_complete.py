"""Shell completion of the free-text values that have a fixed set (``ls KIND``, ``--kind``,
``--state``, ``--stop-at-state``, ``--mark-state``).

The options stay plain text, so what they accept does not change (a state in any case, a kind's
short forms): completion only offers the set. A prefix matches in any case, and the offers keep
the case the user started in (``li`` -> ``live``; nothing or ``LI`` -> ``LIVE``), so shells that
filter offers by prefix (zsh, fish) keep them.
"""

from __future__ import annotations

from collections.abc import Iterable

import typer

from ..models import ArtifactState, ExecutionState

__all__ = [
    "complete_any_state",
    "complete_artifact_state",
    "complete_kind",
    "complete_ls_kind",
    "complete_ls_state",
]

#: ``ls``'s listings, as its help names them.
LS_KINDS = ("artifacts", "executions", "contexts", "types")
#: What ``--kind`` takes, in full (its short forms ``a``/``e``/``c`` are accepted too).
KINDS = ("artifact", "execution", "context")


def _states(*enums: type[ArtifactState] | type[ExecutionState]) -> list[str]:
    names: list[str] = []
    for enum in enums:
        names.extend(n for n in enum.__members__ if n not in names)
    return names


def _offer(names: Iterable[str], incomplete: str) -> list[str]:
    lower = incomplete.lower()
    keep_lower = bool(incomplete) and incomplete == lower and incomplete != incomplete.upper()
    offers = [n for n in names if n.lower().startswith(lower)]
    if keep_lower:
        return [n.lower() for n in offers]
    if incomplete and incomplete == incomplete.upper() and incomplete != lower:
        return [n.upper() for n in offers]
    return offers


def complete_ls_kind(incomplete: str) -> list[str]:
    return _offer(LS_KINDS, incomplete)


def complete_kind(incomplete: str) -> list[str]:
    return _offer(KINDS, incomplete)


def complete_artifact_state(incomplete: str) -> list[str]:
    return _offer(_states(ArtifactState), incomplete)


def complete_any_state(incomplete: str) -> list[str]:
    """A lineage walk's ``--state`` / ``--stop-at-state``: artifact and execution states."""
    return _offer(_states(ArtifactState, ExecutionState), incomplete)


def complete_ls_state(ctx: typer.Context, incomplete: str) -> list[str]:
    """``ls --state``: the states of the kind listed so far on the line (artifacts unless it
    names executions; contexts and types have none)."""
    # while completing an option's value click leaves the KIND typed before it in ctx.args
    # (ctx.params holds the default then)
    typed = ctx.args[0] if ctx.args else ctx.params.get("kind")
    kind = str(typed or "artifacts").strip().lower()
    if kind in ("executions", "execution", "e"):
        return _offer(_states(ExecutionState), incomplete)
    if kind in ("contexts", "context", "c", "types", "type", "t"):
        return []
    return _offer(_states(ArtifactState), incomplete)
