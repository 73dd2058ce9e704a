"""A run's inputs as given: read as (artifact, event path) pairs, each read once, and by role as
the cache looks them up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .._encoding import shown
from ..exceptions import InvalidArgumentError
from ..models import Artifact
from ._common import Inputs, _as_artifact

if TYPE_CHECKING:
    pass


def _flatten_inputs(inputs: Inputs | None) -> list[tuple[Artifact, list[int | str]]]:
    """The inputs as ``(artifact, event path)`` pairs. One artifact given twice (under two keys,
    or twice in a list) is refused: an execution reads an artifact once (MLMD keeps one INPUT
    event per artifact and execution), which the write would report less clearly."""
    pairs = _input_pairs(inputs)
    _check_read_once(pairs)
    return pairs


def _check_read_once(
    pairs: Sequence[tuple[Artifact, list[int | str]]], ids: Sequence[int | None] = ()
) -> None:
    """Each input is given once (``ids``: the stored ids the inputs are, when known)."""
    seen: dict[int, str] = {}
    for index, (artifact, path) in enumerate(pairs):
        known = ids[index] if index < len(ids) else artifact.id
        ident = known if known is not None else -id(artifact)
        where = f"{path[0]}[{path[1]}]" if len(path) == 2 else str(path[0]) if path else f"#{index}"
        if ident in seen:
            what = f"artifact {known}" if known is not None else "one new artifact"
            raise InvalidArgumentError(
                f"{what} is given twice as an input ({seen[ident]} and {where}): an execution "
                "reads an artifact once (one INPUT event per artifact and execution)"
            )
        seen[ident] = where


def _input_pairs(inputs: Inputs | None) -> list[tuple[Artifact, list[int | str]]]:
    if inputs is None:
        return []
    if isinstance(inputs, Mapping):
        out: list[tuple[Artifact, list[int | str]]] = []
        for key, value in inputs.items():
            if not isinstance(key, str) or not key:
                raise InvalidArgumentError(
                    f"input keys must be non-empty strings, got {shown(key)}"
                )
            if isinstance(value, Sequence) and not isinstance(value, str):
                out.extend(
                    (_as_artifact(v, f"input {shown(key)}[{i}]"), [key, i])
                    for i, v in enumerate(value)
                )
            else:
                out.append((_as_artifact(value, f"input {shown(key)}"), [key]))
        return out
    if isinstance(inputs, str | bytes) or not isinstance(inputs, Sequence):
        raise InvalidArgumentError("inputs must be a list of artifacts or a mapping of them")
    return [(_as_artifact(v, f"input #{i}"), []) for i, v in enumerate(inputs)]


def _by_role(
    inputs: list[tuple[Artifact, list[int | str]]],
) -> list[int] | dict[str, int | list[int]]:
    """Stored inputs as the cache looks them up: a list when given as one, else by key (each
    path ``[key]`` or ``[key, i]``, as :func:`_flatten_inputs` made them, in order)."""
    if not any(path for _, path in inputs):
        return [a.id for a, _ in inputs if a.id is not None]
    keyed: dict[str, int | list[int]] = {}
    for a, path in inputs:
        assert a.id is not None and isinstance(path[0], str)
        if len(path) == 1:
            keyed[path[0]] = a.id
        else:
            listed = keyed.setdefault(path[0], [])
            assert isinstance(listed, list)
            listed.append(a.id)
    return keyed
