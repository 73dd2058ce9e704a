"""``put_execution`` of the adapter: the request read as ml_metadata's client builds it, the
checks in MLMD's order (the nodes, then the events, then the contexts; a new node's key taken
before a later error) and the native write. Nothing is written on a refused call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pydantic
from ml_metadata.proto import metadata_store_service_pb2

from .. import exceptions as native
from .._repositories.nodes import MlmdGiven
from ..models import Artifact, Event, Execution, NodeKind
from ..store import LineageStore
from . import _convert
from ._event_checks import aligned_events, check_events, named_for_new, placed
from ._node_checks import NodeChecks
from ._write_rules import mlmd_write, node_models, record_given

#: ml_metadata's request messages (generated code, untyped).
_SERVICE: Any = metadata_store_service_pb2


def put_execution(
    store: LineageStore,
    checks: NodeChecks,
    execution: Any,
    artifact_and_events: Sequence[tuple[Any, Any | None]],
    contexts: Sequence[Any] | None,
    *,
    reuse_context_if_already_exist: bool,
    reuse_artifact_if_already_exist_by_external_id: bool,
    force_reuse_context: bool,
    force_update_time: bool,
) -> tuple[int, list[int], list[int]]:
    """:meth:`MetadataStore.put_execution <._store.MetadataStore.put_execution>` on ``store``."""
    # the options as ml_metadata's client sets them on its request (proto bools: None is
    # False, a string TypeError)
    options = _SERVICE.PutExecutionRequest.Options(
        reuse_context_if_already_exist=reuse_context_if_already_exist,
        reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
        force_reuse_context=force_reuse_context,
        force_update_time=force_update_time,
    )
    pairs = _request_pairs(artifact_and_events)
    if execution is None:  # an unset execution in the request: MLMD's first check
        raise native.InvalidArgumentError("No execution is found")
    call = _Call.of(store, checks, options, execution, pairs, contexts)
    call.check_nodes()
    # each event's ids, then its type, pair by pair: after the nodes' checks (an unknown type
    # id, a property), before the contexts' (MLMD writes the events first)
    # (a new node's key taken comes first: see refuse_taken_keys)
    events = call.aligned_events()
    if call.nameless is not None:
        call.refuse_nameless(*call.nameless)
    return call.write(events)


def _request_pairs(
    artifact_and_events: Sequence[tuple[Any, Any | None]],
) -> list[tuple[Any | None, Any | None]]:
    """The pairs as ml_metadata's client puts them in its request: an artifact or an event of
    None is an unset one (a message of another class: TypeError, the client's)."""
    pairs: list[tuple[Any | None, Any | None]] = []
    for pair in artifact_and_events:
        if pair:  # (a dict is taken as the message's fields, as the request's constructor)
            given_pair = _SERVICE.PutExecutionRequest.ArtifactAndEvent(
                artifact=pair[0], event=pair[1] if len(pair) == 2 else None
            )
            pairs.append(
                (
                    given_pair.artifact if given_pair.HasField("artifact") else None,
                    given_pair.event if given_pair.HasField("event") else None,
                )
            )
    return pairs


@dataclasses.dataclass
class _Call:
    """One put_execution call's models, checked and written in MLMD's order."""

    store: LineageStore
    checks: NodeChecks
    options: Any  # the request's PutExecutionRequest.Options
    model: Execution
    given: list[Any]  # the artifacts given (pairs without one left out)
    present: list[bool]  # which pairs give an artifact
    artifacts: list[Any | None]  # the artifacts at their pairs' positions (None: without one)
    event_msgs: list[Any]  # the events as given (None: unset)
    linked: list[Any]  # the contexts up to a new one without a name
    nameless: tuple[Any, Exception] | None  # that one's message and error
    updates: dict[int, MlmdGiven]

    @classmethod
    def of(
        cls,
        store: LineageStore,
        checks: NodeChecks,
        options: Any,
        execution: Any,
        pairs: list[tuple[Any | None, Any | None]],
        contexts: Sequence[Any] | None,
    ) -> _Call:
        # the events as given: their ids and types are checked after the nodes, as MLMD does
        event_msgs = [msg for _, msg in pairs]
        updates: dict[int, MlmdGiven] = {}
        [model] = node_models(NodeKind.EXECUTION, [execution])
        record_given(updates, [execution], [model], force_update_time=options.force_update_time)
        given = node_models(NodeKind.ARTIFACT, [a for a, _ in pairs if a is not None], updates)
        # a pair without an artifact: its event names a stored one (see aligned_events)
        present = [a is not None for a, _ in pairs]
        context_msgs = list(contexts or ())
        # a new context without a name: refused where MLMD reaches it (refuse_nameless)
        linked, nameless = _convert.contexts_until_nameless(
            context_msgs, force_reuse=options.force_reuse_context
        )
        record_given(updates, context_msgs[: len(linked)], linked)
        artifacts = placed(given, present)  # placed once: read by the events' checks and the write
        return cls(
            store,
            checks,
            options,
            model,
            given,
            present,
            artifacts,
            event_msgs,
            linked,
            nameless,
            updates,
        )

    @property
    def fold(self) -> bool:
        """The reuse flag of artifacts by external id."""
        return bool(self.options.reuse_artifact_if_already_exist_by_external_id)

    def check_nodes(self) -> None:
        """The nodes' own checks (:meth:`NodeChecks.precheck`), in MLMD's order; with
        force_reuse_context a context given by id is only linked (an id-only reference), not
        written."""
        typed = not self.options.force_reuse_context
        reused = self.given
        try:
            try:
                self.checks.precheck(
                    [*self.given, self.model, *self.linked], typed_context_updates=typed
                )
            except (native.InvalidArgumentError, native.NotFoundError):
                if not self.fold:
                    raise
                # a type id unknown or missing: of an artifact that the flag makes an update?
                # (reads only on this error path)
                reused = self.checks.by_external_id(self.given)
                self.checks.precheck(
                    [*reused, self.model, *self.linked], typed_context_updates=typed
                )
        except (native.InvalidArgumentError, native.NotFoundError):
            # MLMD writes each artifact, then the execution, then the events, then the contexts:
            # a new node's key taken before the node that fails comes first, and for a
            # context's error (the nodes before it pass) a bad event too (reads only here)
            self._refuse_taken_keys()
            if self.checks.passes([*reused, self.model]):  # the contexts' error
                self._check_events(reused)
            raise

    def aligned_events(self) -> list[Event | None]:
        """The events as models, checked against their nodes (:func:`aligned_events`)."""
        stored = named_for_new(self.store, self.model, self.artifacts, self.event_msgs, self.fold)
        try:
            return aligned_events(
                self.model, self.artifacts, self.event_msgs, written=False, stored=stored
            )
        except (native.InvalidArgumentError, pydantic.ValidationError):
            # (and an earlier pair's event repeated or stored: MLMD writes them pair by pair)
            self._refuse_taken_keys()
            self._check_events(self._reused())
            raise

    def refuse_nameless(self, msg: Any, exc: Exception) -> None:
        """MLMD refuses a new context without a name as it creates it: after the nodes, the
        events and the contexts before it, and after its own type's lookup (reads only on this
        error path)."""
        self._refuse_taken_keys()
        reused = self._reused()
        if not self.checks.all_pass([*reused, self.model]):
            raise exc  # an earlier node's own error: invalid too
        self._check_events(reused)
        self.checks.refuse_taken_keys(
            [*reused, self.model, *self.linked],
            reuse_contexts=self.options.reuse_context_if_already_exist,
        )
        if not self.checks.all_pass([c for c in self.linked if c.type_id is not None]):
            raise exc  # (an id-only reference is only linked)
        self.checks.refuse_unknown_context_type(msg)
        raise exc

    def write(self, events: list[Event | None]) -> tuple[int, list[int], list[int]]:
        """The native write, and the artifact ids placed as the pairs were given (-1: a pair
        without an artifact nor an event)."""
        # A pair without an artifact links the stored artifact its event names (a reference:
        # linked, not rewritten); one without an event either is skipped, its id -1 (MLMD).
        written: list[int] = []
        write_pairs: list[tuple[Artifact, Event | None]] = []
        for i, (artifact, event) in enumerate(zip(self.artifacts, events, strict=True)):
            if artifact is None and event is not None:
                assert event.artifact_id is not None  # (aligned_events)
                artifact = Artifact.model_construct(id=event.artifact_id)
            if artifact is not None:
                written.append(i)
                write_pairs.append((artifact, event))
        try:
            with mlmd_write(given=self.updates, forced_contexts=self.options.force_reuse_context):
                execution_id, artifact_ids, context_ids = self.store.put_execution(
                    self.model,
                    write_pairs,
                    self.linked,
                    reuse_context_if_already_exist=self.options.reuse_context_if_already_exist,
                    reuse_artifact_if_already_exist_by_external_id=self.fold,
                )
        except native.InvalidArgumentError:
            # an event naming another id for a node written new, an update of a missing node:
            # the write compares them before it finds a key taken, MLMD after it wrote the
            # nodes before them
            self._refuse_taken_keys()
            raise
        placed_ids = [-1] * len(self.present)
        for i, artifact_id in zip(written, artifact_ids, strict=True):
            placed_ids[i] = artifact_id
        return execution_id, placed_ids, context_ids

    def _reused(self) -> list[Any]:
        """The artifacts given, a new one the reuse flag makes an update given its id."""
        return self.checks.by_external_id(self.given) if self.fold else self.given

    def _refuse_taken_keys(self) -> None:
        """A new artifact's or the execution's key taken (see :func:`refuse_taken_keys`)."""
        self.checks.refuse_taken_keys([*self.given, self.model], reuse_artifacts=self.fold)

    def _check_events(self, reused: list[Any]) -> None:
        """The events given twice or stored (see :func:`check_events`)."""
        check_events(
            self.checks, self.model, placed(reused, self.present), self.event_msgs, fold=self.fold
        )
