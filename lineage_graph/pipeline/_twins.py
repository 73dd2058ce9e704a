"""A run's get-or-create: the stored artifact (or context) a new one declares again, and the
type a new node names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, overload

from ..exceptions import AlreadyExistsError, LineageGraphError
from ..lineage._impact import _diff
from ..models import Artifact, ArtifactState, Context, NodeType
from ._common import _UNUSABLE_OUTPUTS, _shown, _triples, _type_text

if TYPE_CHECKING:
    from ._run import Run


class _Twins:
    """A run's get-or-create (:meth:`stored_twin`): the stored artifact or context a new input,
    output or context of the run declares again, and the stored type a new node names."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def type_label(self, node: Artifact | Context) -> str:
        """``'Model'`` or ``'Model' version 'v2'``: the type a new artifact (context) names."""
        found = self.node_type(node)
        label = repr(found.name if found is not None else node.type)
        if found is not None and found.version:
            label += f" version {found.version!r}"
        return label

    @overload
    def stored_twin(self, new: Artifact, what: str) -> Artifact | None: ...

    @overload
    def stored_twin(self, new: Context, what: str) -> Context | None: ...

    def stored_twin(self, new: Artifact | Context, what: str) -> Artifact | Context | None:
        """Get-or-create: the stored artifact a new one with a name or an external id declares
        again (a script run a second time, or after a crash, re-creates the dataset it created
        on its first run), or None if no artifact holds its name (in its type) or external
        id. MLMD keeps both unique, so the write raised AlreadyExistsError: the script that
        worked once failed every later run. One that holds either with other content is
        :class:`AlreadyExistsError` naming what differs, and nothing is written. What is
        compared: the type, ``name``, ``uri``, ``external_id`` and the declared properties, as
        stored; the ``state`` and each custom property the declaration gives (custom properties
        added since, a registration's, an impact mark's, are kept, not compared).

        The same for a run's context given as a :class:`Context` (``what`` is ``"context"``),
        compared on what it gives (its type, name, and the external id and each property it
        gives): it was linked as stored whatever it said, so a run given ``Context(name="exp",
        properties={"lr": 0.1})`` was recorded in a context stored with ``lr=0.2``, silently."""
        if new.id is not None or (new.name is None and new.external_id is None):
            return None
        kind = new.kind
        noun = kind.value.lower()
        repository = self.run.store._repository_of(kind)
        new_type = self.node_type(new)
        by_name, by_external_id = self._holders(new, new_type)
        stored: Artifact | Context | None = by_name or by_external_id
        if stored is None:
            return None
        label = self.type_label(new)
        if new_type is not None:
            # A declared property of another kind than its type declares (``rows=1.0`` where
            # ``rows`` is an INT) is InvalidArgumentError, as for a name not stored: it compared
            # equal to the stored ``100`` and was accepted, the same declaration refused for
            # any other name. (An int for a DOUBLE is that double; an undeclared property is a
            # difference, below.)
            repository._encode_values(
                new_type,
                {k: v for k, v in new.properties.items() if k in new_type.properties},
                "p",
                f"{what} {label}",
            )
        head = (
            f"{what} {label} named {new.name!r}"
            if new.name is not None
            else f"{what} {label} with external id {new.external_id!r}"
        )
        if by_name is not None and by_external_id is not None and by_name.id != by_external_id.id:
            raise AlreadyExistsError(
                f"{head}: its name is {noun} {by_name.id}'s and its external id "
                f"{new.external_id!r} {noun} {by_external_id.id}'s; nothing was written"
            )
        held = (
            f"a{'n' if noun[0] in 'aeiou' else ''} {noun} of that type and name"
            if by_name is not None
            else f"a{'n' if noun[0] in 'aeiou' else ''} {noun} with external id {new.external_id!r}"
        )
        diffs = self._differences(new, stored, new_type)
        if diffs:
            raise self._refusal(new, stored, what, f"{head}: {held}", diffs)
        if what == "output" and isinstance(stored, Artifact) and stored.state in _UNUSABLE_OUTPUTS:
            raise AlreadyExistsError(
                f"{head}: {held} is stored already (artifact {stored.id}), "
                f"{stored.state.name}: a run's new output cannot be it (it would be an output "
                "the cache never reuses); give the output another name"
            )
        return stored

    def _differences(
        self, new: Artifact | Context, stored: Artifact | Context, new_type: NodeType | None
    ) -> dict[str, tuple[Any, Any]]:
        """What ``new`` declares otherwise than ``stored`` holds (:meth:`stored_twin`): ``{field:
        (stored, given)}``."""
        diffs: dict[str, tuple[Any, Any]] = {}
        if new_type is None or stored.type_id != new_type.id:
            diffs["type"] = (
                _type_text(stored.type, stored.type_version),
                _type_text(
                    new_type.name if new_type is not None else new.type,
                    new_type.version if new_type is not None else new.type_version,
                ),
            )
        # A context is compared on what the declaration gives: a step naming the pipeline's
        # context (its type and name) to be linked to it need not repeat what the context
        # was created with. An artifact's name, uri, external id and declared properties are
        # its content: each is compared.
        whole = isinstance(new, Artifact)
        fields = ("name", "uri", "external_id") if whole else ("name", "external_id")
        for name in fields:
            if whole or getattr(new, name) is not None:
                diffs.update(_diff({name: getattr(stored, name)}, {name: getattr(new, name)}))
        stored_state = stored.state if isinstance(stored, Artifact) else None
        if isinstance(new, Artifact) and new.state not in (ArtifactState.UNKNOWN, stored_state):
            diffs["state"] = (stored_state.name if stored_state else None, new.state.name)
        declared = (
            stored.properties
            if whole
            else {k: v for k, v in stored.properties.items() if k in new.properties}
        )
        for key, pair in _diff(declared, new.properties).items():
            diffs[f"properties.{key}"] = pair
        given = {k: stored.custom_properties.get(k) for k in new.custom_properties}
        for key, pair in _diff(given, new.custom_properties).items():
            diffs[f"custom_properties.{key}"] = pair
        return diffs

    def _refusal(
        self,
        new: Artifact | Context,
        stored: Artifact | Context,
        what: str,
        held: str,
        diffs: dict[str, tuple[Any, Any]],
    ) -> AlreadyExistsError:
        """The refusal of ``new``, which ``stored`` holds with other content (``diffs``); ``held``
        says which ``new`` is and what holds it (:meth:`stored_twin`)."""
        noun = new.kind.value.lower()
        listed = "; ".join(
            f"{k}: {_shown(a)} stored, {_shown(b)} given" for k, a, b in _triples(diffs)
        )
        done = "the output is not recorded" if what == "output" else "the run did not start"
        if isinstance(new, Artifact):
            use = "pass the stored artifact (or its id) to use it"
        elif stored.type_version:  # (a name alone names a context of no type version)
            use = "pass the stored context to use it as stored"
        else:
            # a name alone is a context of the run's context_type: "p" given to a run
            # refused a Context(type="Pipeline", name="p") linked an Experiment "p"
            alone = (
                "its name alone"
                if stored.type == self.run.context_type
                else f"its name alone, with context_type={stored.type!r}"
            )
            use = f"pass the stored context (or {alone}) to use it as stored"
        error = AlreadyExistsError(
            f"{held} is stored already ({noun} {stored.id}) with other content "
            f"({listed}); {done}, nothing was written. Give it another name, or {use}"
        )
        error.differences = diffs
        return error

    def _holders(
        self, new: Artifact | Context, new_type: NodeType | None
    ) -> tuple[Artifact | Context | None, Artifact | Context | None]:
        """The stored node holding ``new``'s name (in its type), and the one holding its
        external id (:meth:`stored_twin`)."""
        run = self.run
        by_name: Artifact | Context | None = None
        by_external_id: Artifact | Context | None = None
        # (the store's own getters: a test stands in for them to play another writer)
        get_named: Callable[[str, str, str | None], Artifact | Context | None]
        get_external: Callable[[list[str]], Sequence[Artifact | Context]]
        if isinstance(new, Artifact):
            get_named, get_external = (
                run.store.get_artifact_by_type_and_name,
                run.store.get_artifacts_by_external_ids,
            )
        else:
            get_named, get_external = (
                run.store.get_context_by_type_and_name,
                run.store.get_contexts_by_external_ids,
            )
        if new.name is not None and new_type is not None:
            by_name = get_named(new_type.name, new.name, new_type.version)
        if new.external_id is not None:
            holders = get_external([new.external_id])
            by_external_id = holders[0] if holders else None
        return by_name, by_external_id

    def node_type(self, node: Artifact | Context) -> NodeType | None:
        """The stored type a new output (or context) names (by id, or by name and version);
        None if there is none yet (no node can hold a name in it; the write on exit says what
        is wrong)."""
        try:
            return self.run.store._repository_of(node.kind).types.resolve(
                node.kind, node.type_id, node.type, node.type_version
            )
        except LineageGraphError:
            return None

    def same_type(self, a: Artifact, b: Artifact) -> bool:
        """Whether two new outputs name one type (one by id, the other by name, or neither
        registered yet)."""
        ta, tb = self.node_type(a), self.node_type(b)
        if ta is not None and tb is not None:
            return ta.id == tb.id
        return (a.type_id, a.type, a.type_version) == (b.type_id, b.type, b.type_version)
