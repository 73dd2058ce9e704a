"""The cache lookup: a completed execution standing for a run (:class:`CacheHit`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._encoding import shown
from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import Artifact, Event, Execution
from ._common import CACHE_SKIPPED_PROPERTY

if TYPE_CHECKING:
    from ..store import LineageStore


@dataclass(frozen=True)
class CacheHit:
    """A completed execution of the same type, on the same inputs, with the same declared
    properties: the run's work was done before and ``outputs`` are its results."""

    execution: Execution
    outputs: list[Artifact]
    #: The output events (aligned with ``outputs``): their ``path`` tells which output is which.
    events: list[Event] = field(default_factory=list)

    def output(self, key: str | None = None) -> Artifact:
        """The output recorded under ``key`` (event path ``[key]``), or the only output."""
        if key is None:
            if len(self.outputs) != 1:
                raise InvalidArgumentError(
                    f"the cached execution has {len(self.outputs)} outputs: name one by key"
                )
            return self.outputs[0]
        for artifact, event in zip(self.outputs, self.events, strict=True):
            if event.path and event.path[0] == key:
                return artifact
        raise NotFoundError(f"the cached execution has no output with key {shown(key)}")


def _input_ids(events: Iterable[Event]) -> set[int]:
    return {e.artifact_id for e in events if not e.type.is_output and e.artifact_id is not None}


def find_cache_hit(
    store: LineageStore,
    execution_type: str,
    input_ids: Sequence[int] | Mapping[str, int | Sequence[int]],
    properties: Mapping[str, Any],
    *,
    type_version: str | None = None,
) -> CacheHit | None:
    """The latest ``COMPLETE`` (or ``CACHED``) execution of ``execution_type`` whose INPUT set is
    exactly ``input_ids`` (or artifacts with the same ``digest``; by role when a mapping, as a
    run records keyed inputs), none of whose outputs is deleted or abandoned, and whose declared
    properties equal ``properties`` (a declared property not given must be unset), with its
    outputs. ``type_version``: of that version of the type (MLMD type versions; each version is
    a type of its own), else of the unversioned type. An indexed lookup
    (:meth:`LineageStore.find_cached_execution`), whatever the store's size."""
    inputs = dict(input_ids) if isinstance(input_ids, Mapping) else list(input_ids)
    for _ in range(_TYPE_RACE_TRIES):
        try:
            declared = store.get_execution_type(execution_type, type_version).properties
        except NotFoundError:
            return None
        wanted: dict[str, Any] = {name: None for name in declared if name not in properties}
        wanted.update(properties)
        result = store.find_cached_execution(
            execution_type,
            inputs,
            # Declared properties only: a custom one of the same name is a metric or a note the
            # run logged (``log_metrics(epochs=7)`` after early stopping), not its
            # configuration; it made train(d, epochs=7) reuse the model of train(d, epochs=10)
            # that logged it.
            declared_properties=wanted,
            # A step's call that was not looked up recorded less than it was given: never a hit
            # (an older match is found instead).
            custom_properties={CACHE_SKIPPED_PROPERTY: None},
            type_version=type_version,
            explain=False,
        )
        if not result.hit or result.execution is None:
            return None
        if set(result.execution.properties) <= set(wanted):
            return CacheHit(result.execution, list(result.outputs), list(result.output_events))
        # The hit sets a property the type did not declare when it was read: another writer
        # declared it since (newer code of the step, ``fit(d, lr, sched="cosine")``) and this
        # call, which does not set it, took that run's result for its own. Read the type again:
        # the property must be unset.
    return None


#: How often a cache lookup reads the type again when another writer extends it meanwhile.
_TYPE_RACE_TRIES = 3
