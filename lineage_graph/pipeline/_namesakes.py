"""A named run's namesake: the earlier run of its type holding its name, which keeps it or gives
it up (renamed, and closed if its process died), and gets it back if the run did not start.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .._encoding import MAX_KEY_BYTES
from .._owner import owner_dead_here, owner_text, why_not_dead
from ..exceptions import AlreadyExistsError, LineageGraphError
from ..models import Execution, ExecutionState
from ._common import (
    _DIED_ERROR_TYPE,
    _RETIRED_SUFFIX,
    ERROR_PROPERTY,
    ERROR_TYPE_PROPERTY,
    RUN_OWNER_PROPERTY,
)

if TYPE_CHECKING:
    from ._run import Run


class _Namesakes:
    """A named run's namesake: the earlier run of its type holding its name, which keeps it or
    gives it up (:meth:`_retire_namesake`)."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def _namesake(self) -> Execution | None:
        """The stored execution of the run's type holding its name, if any."""
        run = self.run
        if run.name is None:
            return None
        found = run.store.get_execution_by_type_and_name(run.execution_type, run.name)
        return found if found is not None and found.id is not None else None

    def _name_held(self, found: Execution) -> AlreadyExistsError | None:
        """Why the namesake ``found`` keeps the run's name (None: it gives it up, see
        :meth:`_retire_namesake`): it completed (a name is one run's), or it is ``RUNNING`` with
        an owner alive or not provably dead from here (lineage_graph/_owner.py)."""
        state = found.last_known_state
        head = (
            f"run {self.run.execution_type!r} named {self.run.name!r}: execution {found.id} "
            "holds that name"
        )
        if state == ExecutionState.RUNNING:
            owner = found.custom_properties.get(RUN_OWNER_PROPERTY)
            if owner_dead_here(owner):
                return None
            return AlreadyExistsError(
                f"{head} and is RUNNING, run by {owner_text(owner)}, {why_not_dead(owner)}; "
                "nothing was written. Give this run another name, or, if that run is dead, "
                "close it first: "
                f"store.put_executions([Execution(id={found.id}, "
                "last_known_state=ExecutionState.FAILED)], field_mask_paths=['last_known_state'])"
                f" (a re-run then renames it {self._retired_name(found)!r})"
            )
        if state in (ExecutionState.FAILED, ExecutionState.CANCELED):
            return None
        return AlreadyExistsError(
            f"{head} and is {state.name}: it keeps it (a name is one run's); nothing was "
            "written. Give this run another name"
        )

    def _retired_name(self, found: Execution) -> str:
        """``<name>~attempt-<id>``, the name cut to leave room for the suffix (a unique key's
        length is bounded)."""
        suffix = _RETIRED_SUFFIX.format(id=found.id)
        keep = (self.run.name or "").encode()[: MAX_KEY_BYTES - len(suffix.encode())]
        return keep.decode(errors="ignore").rstrip() + suffix

    def _refuse_held_name(self) -> None:
        """Before any type is registered: a name a completed or live run holds is refused,
        nothing registered (the entry write checks again, and retires a namesake that gives it
        up: :meth:`_retire_namesake`)."""
        found = self._namesake()
        if found is not None and (error := self._name_held(found)) is not None:
            raise error

    def _retire_namesake(
        self, exc: AlreadyExistsError, done: list[tuple[Execution, Execution, list[str]]]
    ) -> bool:
        """The entry write failed on a unique key: if it is the run's name, held by an earlier
        run of it that ended ``FAILED`` or ``CANCELED``, or that is ``RUNNING`` with an owner
        provably dead (lineage_graph/_owner.py), that run gives the name up (renamed
        ``<name>~attempt-<id>``; a dead one recorded ``FAILED`` in the same write, its inputs
        and owner kept), written only while it is still as read; whether the entry is worth
        writing again. A namesake that keeps the name (:meth:`_name_held`) is
        AlreadyExistsError naming it (and its owner)."""
        run = self.run
        found = self._namesake()
        if found is None:
            # No execution holds the name now. Held when the entry was written, it was given
            # up since (another re-run retired it): write again (bounded by _ENTRY_TRIES). The
            # run was refused with the engine's message naming the renamed execution.
            return run.name is not None
        if (error := self._name_held(found)) is not None:
            raise error from exc
        state = found.last_known_state
        retired = Execution(id=found.id, name=self._retired_name(found))
        paths = ["name"]
        if state == ExecutionState.RUNNING:
            owner = found.custom_properties.get(RUN_OWNER_PROPERTY)
            retired.last_known_state = ExecutionState.FAILED
            retired.custom_properties = {
                ERROR_PROPERTY: f"its process ({owner_text(owner)}) died while the run was "
                f"RUNNING; closed by a later run named {run.name!r}",
                ERROR_TYPE_PROPERTY: _DIED_ERROR_TYPE,
            }
            paths += [
                "last_known_state",
                f"custom_properties.{ERROR_PROPERTY}",
                f"custom_properties.{ERROR_TYPE_PROPERTY}",
            ]
        # Listed before the write: a Ctrl-C as its reply comes (the rename applied, the entry
        # not sent) left the attempt renamed and the name free, the rename not listed to be
        # undone (_restore_namesake writes only while it holds the name the rename gave it).
        done.append((found, retired, paths))
        # (False: it changed since it was read, another re-run retired it, say: try again)
        try:
            if not run.store._put_executions_expecting(
                [retired],
                field_mask_paths=paths,
                expect={"last_known_state": int(state), "name": run.name},
            ):
                done.pop()
                return True  # (changed since it was read: nothing renamed; try again)
        except AlreadyExistsError as taken:
            done.pop()
            # Another execution of the type holds the name it would take (one named so by
            # hand): the run was refused with a unique key's message naming that other name
            # alone, not the run's nor why it was renamed.
            holder = run.store.get_execution_by_type_and_name(
                run.execution_type, retired.name or ""
            )
            raise AlreadyExistsError(
                f"run {run.execution_type!r} named {run.name!r}: execution {found.id} "
                f"holds that name and is {state.name}, so gives it up, renamed {retired.name!r}; "
                f"but execution {holder.id if holder else '?'} holds that name; nothing was "
                "written. Rename that execution, or give this run another name"
            ) from taken
        return True

    def _restore_namesake(
        self, found: Execution, renamed: Execution, paths: list[str], exc: BaseException
    ) -> None:
        """Undo :meth:`_retire_namesake`'s rename of ``found`` (to ``renamed``): the entry was
        not written. Written only while the execution is still as the rename left it and the
        name is free (an entry that landed after all holds it: the rename stays, as it must)."""
        run = self.run
        back = Execution(
            id=found.id,
            name=run.name,
            last_known_state=found.last_known_state,
            custom_properties={
                k: found.custom_properties[k]
                for k in (ERROR_PROPERTY, ERROR_TYPE_PROPERTY)
                if k in found.custom_properties
            },
        )
        state = renamed.last_known_state if "last_known_state" in paths else None
        expect: dict[str, Any] = {"name": renamed.name}
        if state is not None:
            expect["last_known_state"] = int(state)
        try:
            restored = run.store._put_executions_expecting(
                [back], field_mask_paths=paths, expect=expect
            )
        except LineageGraphError as again:
            restored, why = False, type(again).__name__
        else:
            why = "changed since"
            if not restored:
                # (a rename interrupted before it was applied: it holds the name still)
                with contextlib.suppress(LineageGraphError):
                    held = self._namesake()
                    restored = held is not None and held.id == found.id
        if not restored:
            exc.add_note(
                f"lineage-graph: execution {found.id} gave up the name {run.name!r} for this "
                f"run (renamed {renamed.name!r}), and could not get it back ({why})"
            )
