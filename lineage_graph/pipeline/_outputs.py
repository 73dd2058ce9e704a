"""The outputs a run declares: each once (by object and by stored id), a new one resolved to its
stored twin, its name and external id free among the run's other new outputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import AlreadyExistsError, InvalidArgumentError
from ..models import Artifact
from ._common import _become, _InputAsOutput, _Output
from ._types import _ensure_node_types

if TYPE_CHECKING:
    from ._run import Run


class _DeclaredState:
    """The outputs a run has declared (kept by the run, for :class:`_Declared` to act on: the
    collaborator holds the run, so the run does not keep it)."""

    __slots__ = ("by_id", "by_object", "new_by_name", "new_external_ids", "outputs")

    def __init__(self) -> None:
        self.outputs: list[_Output] = []
        self.by_object: dict[int, _Output] = {}  # by id() of the given object
        self.by_id: dict[int, _Output] = {}  # by stored artifact id
        #: The new outputs by name, and their external ids (_check_keys_free: each output
        #: looked through every earlier one, 1 s for 4,000 outputs and growing as their square)
        self.new_by_name: dict[str, list[Artifact]] = {}
        self.new_external_ids: set[str] = set()


class _Declared:
    """The outputs a run declares (:meth:`_declare`): each once, a new one resolved to its stored
    twin, its name and external id free among the run's other new outputs. What is declared is
    ``state``, the run's own."""

    def __init__(self, run: Run, state: _DeclaredState) -> None:
        self.run = run
        self.state = state

    def _declared(self, artifact: Artifact) -> _Output | None:
        """The output ``artifact`` was declared as already (the same object, or the same id)."""
        found = self.state.by_object.get(id(artifact))
        if found is None and artifact.id is not None:
            found = self.state.by_id.get(artifact.id)
        return found

    def _cached_ids(self) -> set[int]:
        return (
            {a.id for a in self.run.cached.outputs if a.id is not None}
            if self.run.cached
            else set()
        )

    def _declare(self, artifact: Artifact, path: list[int | str]) -> None:
        """Add an output; the same artifact twice is refused (it would be stored twice if new,
        or fail the run on exit as a repeated event if stored)."""
        run = self.run
        if self._declared(artifact) is not None:
            raise InvalidArgumentError(
                f"output {artifact.id or artifact.uri or artifact.type!r} is declared twice: "
                "an artifact is an output of a run once"
            )
        # A new output declared again as it is stored (a script run again) is that artifact.
        twin = run._twins.stored_twin(artifact, "output")
        ident = twin.id if twin is not None else artifact.id
        if ident is not None and ident in run._input_ids:
            # An OUTPUT event on an artifact the run has an INPUT event on made the run its
            # producer (upstream of what it read: a cycle in the lineage graph, and "where did
            # it come from" named this run, not the one that made it).
            raise _InputAsOutput(
                f"output {ident} is an input of this run: a run does not produce what it reads "
                "(recording it would name this run its producer); a run that changes an "
                "artifact records the result as a new artifact",
                ident,
            )
        if twin is not None and twin.id in self.state.by_id:
            raise InvalidArgumentError(
                f"output {run._twins.type_label(artifact)} named "
                f"{artifact.name or artifact.uri!r} is artifact {twin.id}, declared already: an "
                "artifact is an output of a run once"
            )
        if run._use_cache and ident is not None and ident in self._cached_ids():
            # It would be recorded twice: the run failed on exit (AlreadyExistsError: "the same
            # ... OUTPUT event twice"), FAILED, after `for a in run.use_cached(): run.output(a)`.
            raise InvalidArgumentError(
                f"output {ident} is an output of the cache hit, which use_cached() made "
                "this run's outputs already: an artifact is an output of a run once"
            )
        if twin is not None:
            _become(artifact, twin)  # (id, state, times): linked on exit, never rewritten
        if artifact.id is None:
            self._check_keys_free(artifact)
            # A property of another kind than its type declares ({"acc": "high"} where Model
            # declares a DOUBLE) is refused here, as the write on exit would: it was accepted,
            # the block went on with its work, and the run FAILED on exit with every output
            # dropped. Refused before the type is extended by the output's other properties.
            _ensure_node_types(
                run.store, [(artifact, f"output {artifact.type!r}", artifact.properties)]
            )
        out = _Output(artifact, path)
        state = self.state
        with run._claims._ending_lock:
            run._claims._refuse_ending("output()")
            state.outputs.append(out)
            state.by_object[id(artifact)] = out  # (the object lives as long as the run)
            if artifact.id is not None:
                state.by_id[artifact.id] = out
            else:
                if artifact.name is not None:
                    state.new_by_name.setdefault(artifact.name, []).append(artifact)
                if artifact.external_id is not None:
                    state.new_external_ids.add(artifact.external_id)

    def _check_keys_free(self, new: Artifact) -> None:
        """A new output's name (per type) and external id are not those of another new output
        of the run (the store's artifacts were looked up by :meth:`_Twins.stored_twin`). Checked
        again by the write on exit (another writer may take them since). A name is taken per
        type: by type id, or by type name AND version (``Model`` version ``v2`` is another type
        than ``Model``: its names were checked against ``Model``'s)."""
        named = self.state.new_by_name.get(new.name, []) if new.name is not None else []
        if any(self.run._twins.same_type(other, new) for other in named) or (
            new.external_id is not None and new.external_id in self.state.new_external_ids
        ):
            raise AlreadyExistsError(
                f"output {self.run._twins.type_label(new)} {new.name or new.external_id!r}: "
                "this run declared another new output with that name or external id already"
            )
