"""A run's end as written: its completion (its outputs, or the cache hit's, and the execution
COMPLETE or CACHED, in one write) or its failure (FAILED or CANCELED, no outputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._repositories.cache import UNUSABLE_OUTPUT_STATES
from ..exceptions import AlreadyExistsError, FailedPreconditionError, LineageGraphError
from ..models import Artifact, ArtifactState, Event, EventType, Execution, ExecutionState
from ._common import (
    _CANCELLATIONS,
    _ENTRY_TRIES,
    _MAX_ERROR_CHARS,
    CACHED_FROM_PROPERTY,
    ERROR_PROPERTY,
    ERROR_TYPE_PROPERTY,
    RETURN_SHAPE_PROPERTY,
    RETURNED_INPUTS_PROPERTY,
    RUN_OWNER_PROPERTY,
    _become,
    _context_ref,
    _error_text,
    _Output,
    _public_type,
    _storable,
)
from ._returns import _passed_inputs, _returned_record, _take_passed_outputs

if TYPE_CHECKING:
    from ._run import Run


class _End:
    """A run's end as written: its completion (:meth:`_complete`) or its failure
    (:meth:`_record_failure`)."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def _owner_dropped(self) -> list[str]:
        """The mask path of a run's end that drops its ``run_owner`` (absent from the update):
        only a dead run keeps one. One the caller gave is kept."""
        if RUN_OWNER_PROPERTY in self.run.custom_properties:
            return []
        return [f"custom_properties.{RUN_OWNER_PROPERTY}"]

    def _end_mask(self) -> list[str]:
        """The field mask of a run's end, completed or failed: only the run's own fields (what
        another writer set on the execution while it ran stays), its ``run_owner`` dropped."""
        return [
            "last_known_state",
            *(f"custom_properties.{k}" for k in self.run.custom_properties),
            *self._owner_dropped(),
        ]

    def _complete(self) -> None:
        run = self.run
        outputs = run._claims._end_taking()
        hit_ids: list[int | None] = []  # the cache hit's outputs taken as this run's
        state = ExecutionState.COMPLETE
        if run._use_cache and run.cached is not None:
            state = ExecutionState.CACHED
            run.custom_properties[CACHED_FROM_PROPERTY] = run.cached.execution.id
            shape = run.cached.execution.custom_properties.get(RETURN_SHAPE_PROPERTY)
            if shape is not None:  # a step's next cache hit may be this execution
                run.custom_properties.setdefault(RETURN_SHAPE_PROPERTY, shape)
            if RETURNED_INPUTS_PROPERTY not in run.custom_properties:
                # (a run taking a step's hit by hand: the inputs it passed on are this run's,
                # under the same paths; without them, the step's next call ran again)
                marked = _passed_inputs(
                    run,
                    run.cached.execution.custom_properties.get(RETURNED_INPUTS_PROPERTY),
                    check_content=False,
                )
                if marked is not None:
                    run.custom_properties[RETURNED_INPUTS_PROPERTY] = _returned_record(*marked)
                else:
                    _take_passed_outputs(run, shape)
            # (a hit recorded before a returned input was left out of a step's outputs may hold
            # one: this run's input is not its output)
            taken = [
                _Output(Artifact(id=a.id), list(e.path))
                for a, e in zip(run.cached.outputs, run.cached.events, strict=True)
                if a.id not in run._input_ids and a.id not in run._not_outputs
            ]
            # Retention (or an impact mark) may have deleted or tombstoned them since the
            # lookup: the run was recorded CACHED with a DELETED output, and the user given
            # the stale copies as results (their files gone): it fails, nothing linked.
            hit_ids = [a.artifact.id for a in taken]
            self._check_hit_outputs(hit_ids, written=False)
            outputs = taken + outputs
        eid, aids = self._write_completion(state, outputs)
        try:
            stored = {a.id: a for a in run.store.get_artifacts_by_id(aids)}
            execution = run.store.get_executions_by_id([eid])[0]
        except LineageGraphError:
            # The completion was acknowledged: the run is complete, only reading it back
            # failed (the engine died under the read and its retry). It raised over the stored
            # run (whose failure could not be written over it), the new outputs' ids unset, so
            # a step called again did the work twice. The ids are the write's own.
            for out, aid in zip(outputs, aids, strict=True):
                if out.artifact.id is None:
                    out.artifact.id = aid
                    if out.artifact.state == ArtifactState.UNKNOWN:
                        out.artifact.state = ArtifactState.LIVE
            run.outputs = [out.artifact for out in outputs]
            run.execution = run._execution_model(state)
            return
        run.outputs = [stored[i] for i in aids if i in stored]
        for out, aid in zip(outputs, aids, strict=True):
            if out.artifact.id is None and aid in stored:
                _become(out.artifact, stored[aid])  # (id, state, times)
        run.execution = execution
        if hit_ids:
            # (tombstoned between the check and the write: this CACHED run is no hit for a
            # later lookup, which passes over such outputs, but its caller must not use them)
            held = {i for i, a in stored.items() if a.state not in UNUSABLE_OUTPUT_STATES}
            self._check_hit_outputs([i for i in hit_ids if i not in held], written=True)

    def _check_hit_outputs(self, ids: Sequence[int | None], *, written: bool) -> None:
        """:class:`FailedPreconditionError` if an output of the cache hit taken (``ids``) is no
        longer stored, or is ``DELETED``, ``ABANDONED`` or ``MARKED_FOR_DELETION``."""
        run = self.run
        if written:
            gone = sorted(i for i in ids if i is not None)
        else:
            wanted = [i for i in ids if i is not None]
            found = {a.id: a for a in run.store.get_artifacts_by_id(wanted)} if wanted else {}
            gone = sorted(
                i for i in wanted if i not in found or found[i].state in UNUSABLE_OUTPUT_STATES
            )
        if not gone:
            return
        assert run.cached is not None
        raise FailedPreconditionError(
            f"the cache hit's output(s) {gone[:10]} (of execution {run.cached.execution.id}) "
            "were deleted, tombstoned or marked since the lookup (retention, an impact mark): "
            "its results are gone"
            + (
                f"; execution {run.id} is recorded CACHED, and no later lookup takes it"
                if written
                else ""
            )
            + ". Run the step again (without the cache hit)"
        )

    def _write_completion(
        self, state: ExecutionState, outputs: list[_Output]
    ) -> tuple[int, list[int]]:
        """The exit write. A new named output another writer stored since it was declared (two
        jobs of a sweep recording one dataset) failed it (AlreadyExistsError, nothing written),
        and the run FAILED: it is looked up again (:meth:`_Twins.stored_twin`), and the completion
        written with the stored artifact when it is the same."""
        run = self.run
        for attempt in range(_ENTRY_TRIES):
            pairs: list[tuple[Artifact, Event | None]] = []
            for out in outputs:
                a = out.artifact
                if a.id is None:
                    if a.state == ArtifactState.UNKNOWN:
                        a = a.model_copy(update={"state": ArtifactState.LIVE})
                else:
                    a = Artifact(id=a.id)
                pairs.append((a, Event(type=EventType.OUTPUT, path=out.path)))
            execution = run._execution_model(state)
            links = [_context_ref(c.id) for c in run.contexts if c.id is not None]
            try:
                # Only the run's own fields, as its failure writes (a whole update wiped what
                # another writer set on the execution while it ran: ``tracker.log_git(run.id)``).
                eid, aids, _ = run.store._put_execution_masked(
                    execution, pairs, links, [*self._end_mask(), "properties"]
                )
                return eid, aids
            except AlreadyExistsError:
                if attempt + 1 == _ENTRY_TRIES or not self._resolve_new_outputs(outputs):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _resolve_new_outputs(self, outputs: list[_Output]) -> bool:
        """Each new output with a name or external id that a stored artifact now holds with the
        same content becomes that artifact; whether any did (none does when one would be the
        same artifact as another output: an artifact is an output of a run once)."""
        twins = [
            self.run._twins.stored_twin(out.artifact, "output") if out.artifact.id is None else None
            for out in outputs
        ]
        if not any(twins):
            return False
        ids = [
            t.id if t is not None else o.artifact.id for o, t in zip(outputs, twins, strict=True)
        ]
        known = [i for i in ids if i is not None]
        if len(known) != len(set(known)):
            return False
        for out, twin in zip(outputs, twins, strict=True):
            if twin is not None and twin.id is not None:
                _become(out.artifact, twin)
                self.run._declared.by_id[twin.id] = out
        return True

    def _record_failure(self, error: BaseException | str) -> None:
        run = self.run
        run._claims._end_taking()
        cancelled = isinstance(error, _CANCELLATIONS)
        if isinstance(error, BaseException):
            run.error = error
            text = _error_text(error)
            run.custom_properties[ERROR_TYPE_PROPERTY] = _public_type(error).__qualname__
        else:
            text = _storable(str(error))
        run.custom_properties[ERROR_PROPERTY] = text[:_MAX_ERROR_CHARS]
        state = ExecutionState.CANCELED if cancelled else ExecutionState.FAILED
        # Only the state and the custom properties change: a failure caused by a bad declared
        # property (or output) must not make recording the failure fail as well. Written only
        # while the execution is RUNNING: a completion whose reply was lost (the engine died
        # after applying it, or the reply timed out) stored the run COMPLETE with its outputs,
        # and recording FAILED over it left a failed run holding outputs.
        recorded = run.store._put_executions_expecting(
            [
                Execution(
                    id=run.id,
                    last_known_state=state,
                    custom_properties=run.custom_properties,
                )
            ],
            field_mask_paths=self._end_mask(),
            expect={"last_known_state": int(ExecutionState.RUNNING)},
        )
        run.execution = run.store.get_executions_by_id([run.id])[0]
        if not recorded and isinstance(error, BaseException):
            error.add_note(
                f"lineage-graph: execution {run.id} was not recorded {state.name}: it is "
                f"{run.execution.last_known_state.name} already (a write whose reply was lost "
                "was applied)"
            )
