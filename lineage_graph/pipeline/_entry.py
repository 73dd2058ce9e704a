"""A run's entry: everything checked and resolved before anything is written, the types
registered, the cache looked up, and the execution recorded RUNNING with its inputs and
contexts in one write (read back, or closed if it cannot be).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._owner import current_owner
from ..exceptions import (
    AlreadyExistsError,
    EngineUnavailableError,
    FailedPreconditionError,
    LineageGraphError,
    NotFoundError,
)
from ..models import Artifact, Event, EventType, Execution, ExecutionState, NodeKind, PropertyType
from ._arguments import _exact_double, _mismatched, _skipped_note
from ._cache import find_cache_hit
from ._common import (
    _CANCELLATIONS,
    _ENTRY_TRIES,
    _MAX_ERROR_CHARS,
    CACHE_SKIPPED_PROPERTY,
    ERROR_PROPERTY,
    ERROR_TYPE_PROPERTY,
    PARENT_RUN_PROPERTY,
    RUN_OWNER_PROPERTY,
    _become,
    _error_text,
    _fingerprinted,
    _public_type,
    _reference,
)
from ._current import active_run_of
from ._inputs import _by_role, _check_read_once
from ._types import _ensure_node_types

if TYPE_CHECKING:
    from ._cache import CacheHit
    from ._run import Run


class _Entry:
    """A run's entry (:meth:`_begin`): what it is given checked and resolved before anything is
    written, then the execution recorded RUNNING with its inputs and contexts in one write."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def _prepare(self) -> bool:
        """:meth:`_begin` before the entry write: the run's parent, contexts, name and inputs
        checked and resolved, its types registered, the cache looked up; whether a new input
        with a content fingerprint makes it worth looking the cache up once the entry is read."""
        run = self.run
        if run.execution is not None:
            raise FailedPreconditionError(f"{run!r} was already started: a run is used once")
        # A run of another store (another database) is no parent: its ids mean nothing here.
        # Its execution id was recorded as the parent, and its contexts' ids linked this run to
        # whatever contexts of this store bear them (an unrelated experiment), silently. The run
        # of this store it is nested in, if any, is the parent (the first one still running).
        parent = active_run_of(run.store)
        # Each context given by id is the stored one it names, before anything is written.
        run._context_links._check_contexts_by_id()
        # Each context given as a Context that is stored is compared with it, before anything
        # is written (one that differs refuses the run); each given by name is linked as stored.
        run._context_links._resolve_contexts()
        if parent is not None:
            run.parent = parent
            run.custom_properties.setdefault(PARENT_RUN_PROPERTY, parent.id)
            if run._inherit_contexts:
                # (the run's own contexts that are stored hold their ids now: a parent's
                # context given again, by name or as a Context, is not linked twice)
                known = {c.id for c in run._contexts if c.id is not None}
                run._contexts += [c for c in parent.contexts if c.id not in known]
        if run._git is not False:
            run.log_git("." if run._git is True else run._git)
        # Before any type is registered: a run refused for its name left the types it
        # registered and the properties it declared.
        run._namesakes._refuse_held_name()
        given = [a.id for a, _ in run._inputs if a.id is not None]
        if given:
            # Before any type is registered: a run refused for an input no artifact is left the
            # types it registered (store.run("Brand", inputs=[999]) created type Brand). The
            # entry write checks again (another writer may delete one meanwhile).
            stored = {a.id for a in run.store.get_artifacts_by_id(given)}
            if missing := sorted(set(given) - stored):
                raise NotFoundError(f"no artifact with id {missing}: the run did not start")
        # A new input declared again as it is stored (the dataset a script's first run created)
        # is that artifact: before any type is registered (one declared otherwise is refused).
        self._resolve_new_inputs()
        if run._float_parameters:
            self._widen()
        # Every type is checked before any is registered or extended (_ensure_node_types).
        types = _ensure_node_types(
            run.store,
            [
                *((c, f"context {c.name!r}", c.properties) for c in run._contexts),
                *((a, f"input {a.type!r}", a.properties) for a, _ in run._inputs),
                (
                    Execution(type=run.execution_type, properties=run.properties),
                    f"run {run.execution_type!r}",
                    # (a step's argument of another kind is demoted below, not refused)
                    {k: v for k, v in run.properties.items() if k not in run._arguments},
                ),
            ],
        )
        declared = types[(NodeKind.EXECUTION, run.execution_type)]
        if run._arguments:
            self._demote(declared.properties)
        if run.check_cache and all(a.id is not None for a, _ in run._inputs):
            run.cached = self._find_cached(_by_role(run._inputs))
        # A new input is looked up once stored (below) if it has a content fingerprint: a
        # re-produced identical dataset given as a new Artifact(digest=...) still hits, as a
        # stored one does. It was never looked up: each run of the script redid the work.
        fingerprinted = run.check_cache and any(
            a.id is None and _fingerprinted(a) for a, _ in run._inputs
        )
        return fingerprinted

    def _begin(self) -> None:
        """Register types, check the cache, record the execution RUNNING with inputs/contexts."""
        run = self.run
        fingerprinted = self._prepare()
        run.store._writer.take_sent()  # an earlier write's, not the entry's
        try:
            eid, aids, cids = self._write_entry()
        except KeyboardInterrupt as exc:
            # Ctrl-C once the entry write was sent (awaiting or reading its reply): it may
            # have landed, under an id this run never got. It stayed RUNNING for ever (the
            # reads-its-entry-back test's interrupt lands here when its watcher thread runs
            # before the reply is read, as on a loaded machine). An earlier try of the entry
            # that failed on a name wrote nothing: the last one sent is the one to check.
            if self._close_interrupted_entry(exc) is False:
                # (not written: a namesake renamed for it takes its name back)
                for found, renamed, paths in reversed(run._retired):
                    run._namesakes._restore_namesake(found, renamed, paths, exc)
            raise
        except EngineUnavailableError as exc:
            # Not applied, or not known to be (a write found applied after its reply was lost
            # returns normally): the run did not start. Its execution's id is in exc.new_ids.
            if exc.new_ids and exc.new_ids.get(NodeKind.EXECUTION.value):
                [eid] = exc.new_ids[NodeKind.EXECUTION.value]
                exc.add_note(
                    f"lineage-graph: the run did not start (its body did not run); retry the "
                    f"call. Should its entry write land after all (a reply timeout), execution "
                    f"{eid} is RUNNING: close it with put_executions(..., "
                    "field_mask_paths=['last_known_state'])"
                )
            raise
        try:
            self._read_entry(eid, aids, cids)
            if run._resolved_late and run.check_cache and run.cached is None:
                fingerprinted = True  # (its inputs were new when the cache was looked up)
            if fingerprinted and all(a.id is not None for a, _ in run._inputs):
                # (the run's own execution, RUNNING, is never a hit)
                run.cached = self._find_cached(_by_role(run._inputs))
        except (LineageGraphError, KeyboardInterrupt) as exc:
            # (Ctrl-C while reading the entry back: the block never runs, so no __exit__
            # closed the execution, left RUNNING for ever)
            self._close_unread_entry(eid, exc)
            raise

    def _write_entry(self) -> tuple[int, list[int], list[int]]:
        """The entry write. A new named input another writer created since it was looked up
        (two runs of a sweep declaring one dataset at once) failed it (AlreadyExistsError,
        nothing written): it is looked up again, and the entry written with it.

        A namesake renamed for this run (:meth:`_retire_namesake`) is renamed back if the entry
        is refused after all: a later write that failed (an input another writer created
        with other content, or deleted) left the earlier attempt renamed and the name free, a
        refused run having changed the store."""
        retired = self.run._retired = []
        try:
            return self._write_entry_tries(retired)
        except LineageGraphError as exc:
            # Refused: nothing of the entry was written. (Not one in doubt, nor a Ctrl-C: the
            # entry may have landed, holding the name; and the rename, a write, would make
            # the interrupted entry's id unreadable for _close_interrupted_entry: a Ctrl-C's
            # are renamed back by _begin once the entry is found not written.)
            if not isinstance(exc, EngineUnavailableError):
                for found, renamed, paths in reversed(retired):
                    self.run._namesakes._restore_namesake(found, renamed, paths, exc)
            raise

    def _write_entry_tries(
        self, retired: list[tuple[Execution, Execution, list[str]]]
    ) -> tuple[int, list[int], list[int]]:
        """:meth:`_write_entry`'s tries; each namesake renamed is appended to ``retired``."""
        run = self.run
        for attempt in range(_ENTRY_TRIES):
            pairs: list[tuple[Artifact, Event | None]] = [
                (_reference(a), Event(type=EventType.INPUT, path=path)) for a, path in run._inputs
            ]
            entry = run._execution_model(ExecutionState.RUNNING)
            # (a run_owner the caller gives is theirs: kept, and the run has no provable owner)
            entry.custom_properties = {
                RUN_OWNER_PROPERTY: current_owner(),
                **entry.custom_properties,
            }
            try:
                return run.store.put_execution(
                    entry,
                    pairs,
                    [run._context_links._context_reference(c) for c in run._contexts],
                    # A new context another writer stored since it was looked up fails the
                    # write (it was linked unchecked): it is looked up again, and compared.
                    reuse_context_if_already_exist=False,
                )
            except AlreadyExistsError as exc:
                if attempt + 1 == _ENTRY_TRIES:
                    raise
                # Looked up again (and refused, if another writer stored one with other
                # content) before the namesake is renamed: a refusal renames nothing.
                resolved = self._resolve_new_inputs()
                contexts = run._context_links._resolve_contexts()
                renamed = run._namesakes._retire_namesake(exc, retired)
                if not (renamed or resolved or contexts):
                    raise
                run._resolved_late = run._resolved_late or resolved
        raise AssertionError("unreachable")  # pragma: no cover

    def _resolve_new_inputs(self) -> bool:
        """Each new input with a name or external id that a stored artifact holds with the same
        content becomes that artifact (:meth:`_Twins.stored_twin`); whether any did. All are checked
        before any becomes one: a refusal leaves every input as given."""
        run = self.run
        twins = [
            run._twins.stored_twin(a, "input") if a.id is None else None for a, _ in run._inputs
        ]
        if not any(twins):
            return False
        # Two new inputs declaring one stored artifact are one input given twice.
        _check_read_once(
            run._inputs,
            [t.id if t is not None else a.id for (a, _), t in zip(run._inputs, twins, strict=True)],
        )
        for (given, _), twin in zip(run._inputs, twins, strict=True):
            if twin is not None:
                _become(given, twin)
        return True

    def _read_entry(self, eid: int, aids: list[int], cids: list[int]) -> None:
        """The run's execution, inputs and contexts as the entry write stored them."""
        run = self.run
        [execution] = run.store.get_executions_by_id([eid])
        inputs = run.store.get_artifacts_by_id(aids)
        by_id = {a.id: a for a in inputs}
        contexts = run.store.get_contexts_by_id(cids)
        run.execution = execution
        run.inputs = [by_id[i] for i in aids if i in by_id]
        created: set[int] = set()
        for (given, _), aid in zip(run._inputs, aids, strict=True):
            if given.id is None and aid in by_id:
                # A new input becomes the stored artifact, as an output does: passed again, it
                # is the same artifact (not a copy recorded each time, never a cache hit).
                _become(given, by_id[aid])
                created.add(aid)
        # (one this entry created has no other origin: returned, it is an output too)
        run._input_ids = {a.id for a in run.inputs if a.id is not None} - created
        run._passable = {
            aid: (given, list(path))
            for (given, path), aid in zip(run._inputs, aids, strict=True)
            if aid in run._input_ids
        }
        run.contexts = contexts

    def _close_interrupted_entry(self, exc: BaseException) -> bool | None:
        """The entry write was interrupted once sent: if it landed, its execution is recorded
        ``CANCELED`` (as :meth:`_close_unread_entry` does). Whether it landed (None: not
        known)."""
        eid = self.run.store._writer.take_sent().get(NodeKind.EXECUTION.value)
        if eid is None:
            return False  # not sent: nothing was written
        try:
            landed = self.run.store._writer.stored(NodeKind.EXECUTION, eid)
        except LineageGraphError as again:
            exc.add_note(
                f"lineage-graph: the run did not start; its entry write, interrupted, could not "
                f"be read back ({type(again).__name__}): if it landed, execution {eid} is "
                "RUNNING: close it with put_executions(..., field_mask_paths=['last_known_state'])"
            )
            return None
        if landed:
            self._close_unread_entry(eid, exc)
        return landed

    def _close_unread_entry(self, eid: int, exc: BaseException) -> None:
        """The entry write was acknowledged but reading it back failed (the engine died under
        the read and its retry): the run does not start, so its execution is recorded
        ``FAILED`` with the error, only while it is still RUNNING. It was left RUNNING for
        ever, under an id the caller never got. What happened is noted on ``exc``."""
        run = self.run
        text = _error_text(exc)[:_MAX_ERROR_CHARS]
        run._recorded_error = exc
        cancelled = isinstance(exc, _CANCELLATIONS)
        failed = Execution(
            id=eid,
            last_known_state=ExecutionState.CANCELED if cancelled else ExecutionState.FAILED,
            custom_properties={
                ERROR_PROPERTY: text,
                ERROR_TYPE_PROPERTY: _public_type(exc).__qualname__,
            },
        )
        try:
            closed = run.store._put_executions_expecting(
                [failed],
                field_mask_paths=[
                    "last_known_state",
                    f"custom_properties.{ERROR_PROPERTY}",
                    f"custom_properties.{ERROR_TYPE_PROPERTY}",
                    *run._end._owner_dropped(),
                ],
                expect={"last_known_state": int(ExecutionState.RUNNING)},
            )
        except LineageGraphError as again:
            exc.add_note(
                f"lineage-graph: the run's execution {eid} was recorded RUNNING but could not "
                f"be read back, nor closed ({type(again).__name__}): the run did not start; "
                "close it with put_executions(..., field_mask_paths=['last_known_state'])"
            )
            return
        now = (
            f"it is recorded {failed.last_known_state.name}"
            if closed
            else "it is no longer RUNNING (another writer)"
        )
        exc.add_note(
            f"lineage-graph: the run's execution {eid} was recorded but could not be read back: "
            f"the run did not start; {now}"
        )

    def _demote(self, declared: Mapping[str, PropertyType]) -> None:
        """A step's argument of another kind than the type now declares, declared so by another
        writer after the step read the type (two processes making a step's first call with ``3``
        and ``"auto"``): kept as a custom property and the call not looked up, as when the step
        reads that declaration itself."""
        run = self.run
        values = {k: run.properties[k] for k in run._arguments if k in run.properties}
        late = _mismatched(declared, values)
        for key in late:
            run.custom_properties[key] = run.properties.pop(key)
        if late and run.check_cache:
            run.check_cache = False
            run.custom_properties[CACHE_SKIPPED_PROPERTY] = _skipped_note(
                (), True, late, "of another kind than the type declares"
            )

    def _widen(self) -> None:
        """An int given to a ``float`` parameter (``lr: float = 1``) is recorded as a double, so
        the property is declared DOUBLE and ``lr=0.5`` is accepted later; unless the type
        declares it INT already (as steps recorded it before), whose ints stay ints."""
        run = self.run
        try:
            declared = run.store.get_type(NodeKind.EXECUTION, run.execution_type).properties
        except NotFoundError:
            declared = {}
        inexact = []
        for key in sorted(run._float_parameters):
            value = run.properties.get(key)
            if type(value) is int and declared.get(key) != PropertyType.INT:
                if _exact_double(value):
                    run.properties[key] = float(value)
                else:
                    # No double holds it (2**53 + 1): widened, it was recorded as 2**53 and a
                    # cached step given 2**53 returned its result. Kept as given, as a custom
                    # property, and the call is not looked up.
                    inexact.append(key)
                    run.custom_properties[key] = run.properties.pop(key)
        if inexact and run.check_cache:
            run.check_cache = False
            run.custom_properties[CACHE_SKIPPED_PROPERTY] = _skipped_note(
                (), True, inexact, "ints no double holds exactly"
            )

    def _find_cached(self, inputs: list[int] | dict[str, int | list[int]]) -> CacheHit | None:
        run = self.run
        return find_cache_hit(run.store, run.execution_type, inputs, run.properties)
