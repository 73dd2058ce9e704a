"""A model-tracking surface in the spirit of MLflow-based metadata trackers, kept in MLMD terms so
every MLMD tool still reads it:

==============================  ==============================================================
concept                         recorded as
==============================  ==============================================================
registered model ``name``       a ``RegisteredModel`` context named ``name``
model version ``n``             a model artifact attributed to that context, with the custom
                                properties ``model_name`` and ``model_version`` (= ``n``)
deployment                      a ``Deployment`` execution (``COMPLETE``) with the version as
                                its input, custom property ``environment``, associated with the
                                registered model's context (inside a run: its child, with
                                ``parent_execution_id`` and the run's contexts)
currently deployed version      the input of the latest deployment to that environment
experiment of a model           the ``Experiment`` context of the execution that produced it
git commit of a run             custom properties ``git_commit`` / ``git_branch`` /
                                ``git_dirty`` / ``git_remote`` of the execution
==============================  ==============================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ._encoding import check_key, check_text, property_key, shown, stored_value_error
from ._repositories._base import Repository
from ._repositories.types import check_type_identity
from .exceptions import FailedPreconditionError, InvalidArgumentError, NotFoundError
from .models import (
    INT64_MAX,
    Artifact,
    ArtifactState,
    Context,
    Event,
    EventType,
    Execution,
    ExecutionState,
    NodeKind,
    PropertyType,
)
from .pipeline import PARENT_RUN_PROPERTY, active_run_of, ensure_type, git_info

if TYPE_CHECKING:
    from .store import LineageStore

__all__ = ["ModelVersion", "Tracker"]

REGISTERED_MODEL_TYPE = "RegisteredModel"
DEPLOYMENT_TYPE = "Deployment"
NAME_PROPERTY = "model_name"
VERSION_PROPERTY = "model_version"
ENVIRONMENT_PROPERTY = "environment"


#: What the library writes in an artifact's ``model_claim`` while a registration holds it.
_CLAIM_WRITTEN = "a [context id, version number] list of two positive ints"


def _claim_shaped(taken: object) -> bool:
    """Whether a stored ``model_claim`` is as this library writes it (:data:`_CLAIM_WRITTEN`)."""
    return type(taken) is list and len(taken) == 2 and all(type(x) is int and x > 0 for x in taken)


@dataclass(frozen=True)
class ModelVersion:
    """Version ``version`` of the registered model ``name``: the model ``artifact``."""

    name: str
    version: int
    artifact: Artifact

    @property
    def id(self) -> int:
        """The model artifact's id."""
        assert self.artifact.id is not None
        return self.artifact.id


ModelRef = ModelVersion | Artifact | int


#: Artifact states a model cannot be deployed in (as the cache never reuses such an output).
_UNSERVABLE = frozenset(
    {ArtifactState.DELETED, ArtifactState.MARKED_FOR_DELETION, ArtifactState.ABANDONED}
)

#: Registrations of one artifact under one name a register_model call goes through when each
#: finds its claim taken by another registration of the artifact under that name.
_REGISTER_TRIES = 3


def _check_metric(metric: str) -> None:
    if not isinstance(metric, str) or not metric:  # (5 or None: "no version has it")
        raise InvalidArgumentError(
            f"a metric is a property name (a non-empty str), got {shown(metric)}"
        )


class Tracker:
    """Model versions, deployments, experiments and git info on top of a :class:`LineageStore`
    (``store.tracker``). Every write is one atomic store write."""

    def __init__(self, store: LineageStore, *, experiment_type: str = "Experiment") -> None:
        # A name no context type has (5, "", a NUL) was taken: experiment_of then answered
        # None for every model, silently.
        if not isinstance(experiment_type, str) or not experiment_type:
            raise InvalidArgumentError(
                f"experiment_type is a context type's name, got {shown(experiment_type)}"
            )
        check_type_identity(experiment_type, None)
        self.store = store
        self.experiment_type = experiment_type
        self._claims = Repository(store.backend)  # version numbers (tracker/claim_version)

    # ------------------------------------------------------------------------------ helpers

    def _artifact(self, model: ModelRef) -> Artifact:
        if isinstance(model, ModelVersion):
            return self._version_artifact(model)
        if isinstance(model, Artifact):
            if model.id is None:
                raise InvalidArgumentError("the model artifact is not stored yet (it has no id)")
            model = model.id
        if isinstance(model, bool) or not isinstance(model, int):
            raise InvalidArgumentError(
                f"expected a ModelVersion, an Artifact or an artifact id, got {shown(model)}"
            )
        found = self.store.get_artifacts_by_id([model])
        if not found:
            raise NotFoundError(f"no artifact with id {model}")
        return found[0]

    def _version_artifact(self, model: ModelVersion) -> Artifact:
        """The artifact of ``model``, which must be what it is registered as. A ModelVersion is
        read again, as an artifact is, and was taken at its word: one of another store (or
        made by hand) named whatever artifact of this store bears its id, and ``deploy``
        recorded another registered model's version as deployed (``churn`` version 3 given to
        a store whose artifact of that id is ``fraud`` version 1 deployed ``fraud``)."""
        if not isinstance(model.artifact, Artifact) or model.artifact.id is None:
            # ``model.id`` raised AssertionError (an artifact not stored) or AttributeError
            # (no artifact at all, e.g. an id), untyped
            raise InvalidArgumentError(
                f"{shown(model.name)} version {model.version} has no stored model artifact "
                f"(its artifact is {shown(model.artifact)}): a ModelVersion made by hand?"
            )
        artifact = self._artifact(model.artifact.id)
        current = self._registration(artifact)
        if current is None or (model.name, model.version) != (current.name, current.version):
            what = (
                "not a registered model version"
                if current is None
                else f"version {current.version} of {shown(current.name)}"
            )
            raise InvalidArgumentError(
                f"{shown(model.name)} version {model.version} "
                f"is not what artifact {artifact.id} is "
                f"({what}): a ModelVersion of another store, or made by hand?"
            )
        return artifact

    def _model_context(self, name: str) -> Context | None:
        if not isinstance(name, str) or not name:
            # 5 or "" answered "no versions" / "not deployed": a typo'd call looked like an
            # empty registry
            raise InvalidArgumentError(
                f"a registered model name is a non-empty str, got {shown(name)}"
            )
        try:
            return self.store.get_context_by_type_and_name(REGISTERED_MODEL_TYPE, name)
        except NotFoundError:
            return None

    @staticmethod
    def _version_of(artifact: Artifact, name: str) -> ModelVersion | None:
        version = artifact.custom_properties.get(VERSION_PROPERTY)
        if artifact.custom_properties.get(NAME_PROPERTY) != name or not isinstance(version, int):
            return None
        return ModelVersion(name, version, artifact)

    # ------------------------------------------------------------------------ registration

    def _registration(self, artifact: Artifact) -> ModelVersion | None:
        """The registered model version ``artifact`` is: its ``model_name`` / ``model_version``
        custom properties, when it is attributed to that registered model's context (the same
        custom properties set by hand are no registration)."""
        name = artifact.custom_properties.get(NAME_PROPERTY)
        version = self._version_of(artifact, name) if isinstance(name, str) else None
        if version is None:
            return None
        contexts = self.store.get_contexts_by_artifact(artifact.id or 0)
        if any(c.type == REGISTERED_MODEL_TYPE and c.name == name for c in contexts):
            return version
        return None

    def register_model(self, model: ModelRef, name: str) -> ModelVersion:
        """Register ``model`` as the next version of the registered model ``name`` (created if
        new). Registering the same artifact again returns its version. Each registration claims
        its number atomically, so concurrent registrations of one name get distinct numbers, and
        concurrent registrations of one artifact under one name the same number (a registration
        that fails after its claim, or whose process dies there, leaves that number unused,
        unless the artifact is registered under that name again before any later version is:
        registered after one, it gets the next number, so versions follow registration order).

        An artifact is a version of one registered model (one ``model_name`` and
        ``model_version`` of its own): an artifact registered under another name is refused
        with InvalidArgumentError, and nothing changes. An artifact DELETED, ABANDONED or
        MARKED_FOR_DELETION is refused with FailedPreconditionError (also when it becomes one
        during the registration), unless it is already registered under ``name``: its version
        is returned, nothing written (its ``artifact.state`` says it)."""
        return self._register(model, name, tries=_REGISTER_TRIES)

    def _register(self, model: ModelRef, name: str, *, tries: int) -> ModelVersion:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError("a registered model needs a non-empty name")
        # The name is checked before anything is written: a name the context write refuses
        # (edge whitespace, NUL, too long) had the RegisteredModel type created first, and
        # one pydantic refuses (a lone surrogate) raised its ValidationError, untyped.
        try:
            Context(type=REGISTERED_MODEL_TYPE, name=name)
        except ValidationError as exc:
            raise InvalidArgumentError(f"registered model name: {exc.errors()[0]['msg']}") from None
        check_text("registered model name", name)
        check_key("registered model name", name)
        artifact = self._artifact(model)
        held = self._registration(artifact)
        if held is not None and held.name == name:
            return held
        if held is not None:
            raise InvalidArgumentError(
                f"artifact {artifact.id} is already version {held.version} of the registered "
                f"model {shown(held.name)}: an artifact is "
                "a version of one registered model, so it "
                f"cannot also be registered as {shown(name)} (record the model as another artifact "
                "to register it there)"
            )
        if artifact.state in _UNSERVABLE:
            # A retention tombstone (its data gone) became latest_version, which deploy then
            # refused; likewise a model an impact mark abandoned. Nothing is written.
            raise FailedPreconditionError(
                f"artifact {artifact.id} is {artifact.state.name}: it cannot be registered "
                f"as a version of {shown(name)}; nothing was registered"
            )
        ensure_type(self.store, NodeKind.CONTEXT, REGISTERED_MODEL_TYPE)
        _, _, [context_id] = self.store.put_lineage_subgraph(
            [],
            [],
            [Context(type=REGISTERED_MODEL_TYPE, name=name)],
            [],
            reuse_context_if_already_exist=True,
        )
        # One above the highest version registered (a claim below it is stale: its
        # registration died before its write), aggregated by the engine: reading every version
        # made each registration O(versions) (3,000 registrations of one name took 215 s).
        [row] = self._claims.read(
            "tracker/highest_version",
            context_id=context_id,
            name_key=property_key("c", PropertyType.STRING, NAME_PROPERTY),
            version_key=property_key("c", PropertyType.INT, VERSION_PROPERTY),
        )
        highest = row["highest"]
        if isinstance(highest, int) and highest >= INT64_MAX:
            # its next number is past int64: no engine stores it (FalkorDB gave two versions
            # INT64_MAX; Neo4j's driver cannot send the floor). Nothing written: the context
            # holds a version already, so it existed before this call.
            raise FailedPreconditionError(
                f"the registered model {shown(name)} has no version number left: its highest "
                f"version is {highest}, the largest a version can be; nothing was registered"
            )
        floor = (highest if isinstance(highest, int) else 0) + 1
        rows = self._claims.write(
            "tracker/claim_version", context_id=context_id, artifact_id=artifact.id, floor=floor
        )
        if not rows:
            raise FailedPreconditionError(
                f"the registered model {shown(name)} or the "
                f"artifact {artifact.id} was deleted while "
                "it was being registered; nothing was registered"
            )
        taken_by = rows[0]["taken_by"]
        if taken_by is not None:  # registered under another name since it was read above
            held = self._registration(self._artifact(artifact.id or 0))
            raise InvalidArgumentError(
                f"artifact {artifact.id} is already "
                + (f"version {held.version} of " if held is not None else "")
                + f"the registered model {shown(taken_by)}: an artifact is a version of one "
                f"registered model, so it cannot also be registered as {shown(name)} (registered "
                "meanwhile by another writer)"
            )
        number = int(rows[0]["version"])
        claim = [context_id, number]

        same_name = [False]  # the claim was taken by a registration of it under this name

        def claim_lost() -> None:  # after an aborted write: the claim another one took over
            stored = self._claims.read(
                "artifacts/get_write_state", ranges=[[artifact.id, artifact.id]]
            )
            if stored and stored[0]["node"].get("state") in {int(x) for x in _UNSERVABLE}:
                state = ArtifactState(stored[0]["node"]["state"]).name
                raise FailedPreconditionError(
                    f"artifact {artifact.id} became {state} while it was being registered "
                    f"(another writer): it was not registered as {shown(name)}"
                )
            taken = stored[0]["node"].get("model_claim") if stored else claim
            if taken != claim:
                if taken is not None and not _claim_shaped(taken):
                    # another writer's (a number: taken[0] raised a bare TypeError; text: its
                    # first character was compared with the context's id)
                    raise stored_value_error(
                        "Artifact", artifact.id, "model_claim", taken, _CLAIM_WRITTEN
                    )
                same_name[0] = taken is not None and taken[0] == context_id
                other = "as it" if same_name[0] else "under another name"
                raise FailedPreconditionError(
                    f"artifact {artifact.id} was claimed meanwhile by a registration {other} "
                    f"(another writer); this one did not register it as {shown(name)}"
                )

        # Only the two properties are written (a field mask), with the attribution, in one
        # write: what another writer changes on the artifact meanwhile (its state, uri, other
        # properties) is kept. Written only if the artifact still holds this claim: a
        # registration under another name may have taken it over since (tracker/claim_version).
        try:
            self.store._composite.put_lineage_subgraph(
                [],
                [
                    Artifact(
                        id=artifact.id,
                        custom_properties={NAME_PROPERTY: name, VERSION_PROPERTY: number},
                    )
                ],
                [Context(type=REGISTERED_MODEL_TYPE, name=name)],
                [],
                reuse_context_if_already_exist=True,
                artifact_mask=[
                    f"custom_properties.{NAME_PROPERTY}",
                    f"custom_properties.{VERSION_PROPERTY}",
                ],
                artifact_expect={artifact.id or 0: {"model_claim": claim}},
                check=claim_lost,
                servable=([artifact.id or 0], _UNSERVABLE),
            )
        except FailedPreconditionError:
            # Another registration of this artifact under this name took a fresh number (this
            # claim was stale to it: a later version was registered in between) and wrote it:
            # the artifact is registered as asked, with that number.
            held = self._registration(self._artifact(artifact.id or 0))
            if held is not None and held.name == name:
                return held
            if same_name[0] and tries > 1:
                # That registration has claimed its number but not written it yet: registered
                # again, this one reuses that claim (not stale: at the floor) and writes the
                # same version, as concurrent registrations of one artifact do. It raised
                # FailedPreconditionError, the artifact then being registered as asked.
                return self._register(model, name, tries=tries - 1)
            raise
        registered = self._version_of(self._artifact(artifact.id or 0), name)
        if registered is None or registered.version != number:  # changed since, by another
            return self.get_model_version(name, number)  # writer: as it is stored (NotFound)
        return registered

    def model_versions(self, name: str) -> list[ModelVersion]:
        """Every version of the registered model ``name``, oldest first (empty if unknown)."""
        context = self._model_context(name)
        if context is None or context.id is None:
            return []
        found = (self._version_of(a, name) for a in self.store.get_artifacts_by_context(context.id))
        return sorted((v for v in found if v is not None), key=lambda v: (v.version, v.id))

    def registered_models(self) -> list[str]:
        """The names of every registered model that has a version. A registration that failed
        (its artifact taken by a registration under another name meanwhile, or the write
        interrupted) may leave its registered model's context without one: not listed."""
        try:
            context_type = self.store.get_context_type(REGISTERED_MODEL_TYPE)
        except NotFoundError:
            return []
        rows = self._claims.read(
            "tracker/registered_models",
            type_id=context_type.id,
            name_key=property_key("c", PropertyType.STRING, NAME_PROPERTY),
            version_key=property_key("c", PropertyType.INT, VERSION_PROPERTY),
        )
        return sorted(str(row["name"]) for row in rows)  # one order on both engines

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        if isinstance(version, bool) or not isinstance(version, int):
            # "1" was looked up as is and reported as "has no version 1", which exists
            raise InvalidArgumentError(f"a model version is an int, got {shown(version)}")
        for v in self.model_versions(name):
            if v.version == version:
                return v
        raise NotFoundError(f"registered model {shown(name)} has no version {version}")

    def latest_version(self, name: str) -> ModelVersion | None:
        versions = self.model_versions(name)
        return versions[-1] if versions else None

    def previous_version(self, model: ModelRef) -> ModelVersion | None:
        """The version registered before ``model`` under the same name, if any."""
        # A ModelVersion is read again, as an artifact is: one of another store (or made by
        # hand) was taken at its word, and the version before its number answered.
        artifact = self._artifact(model)  # (a ModelVersion checked against it there)
        current = self._registration(artifact)
        if current is None:
            raise InvalidArgumentError(f"artifact {artifact.id} is not a registered model")
        older = [v for v in self.model_versions(current.name) if v.version < current.version]
        return older[-1] if older else None

    # ------------------------------------------------------------------------- deployments

    def deploy(
        self,
        model: ModelRef,
        *,
        environment: str = "production",
        properties: Mapping[str, Any] | None = None,
    ) -> int:
        """Record that ``model`` (a registered version) now serves ``environment``. Returns the
        deployment execution's id. Rolling back is deploying an older version."""
        if not isinstance(environment, str) or not environment:
            raise InvalidArgumentError(
                f"a deployment's environment is a non-empty string, got {shown(environment)}"
            )
        if environment != environment.strip() or not environment.isprintable():
            # " prod " or "prod\n" was recorded as is: deployed_version(name) (production) and
            # deployed_version(name, environment="prod") never answered that deployment.
            raise InvalidArgumentError(
                f"a deployment's environment must not start or end with whitespace nor hold a "
                f"control character, got {shown(environment[:80])}"
            )
        if properties is not None and not isinstance(properties, Mapping):
            raise InvalidArgumentError(f"properties is a mapping, got {shown(properties)}")
        if properties is not None and ENVIRONMENT_PROPERTY in properties:
            # It was overwritten by ``environment``: deploy(v, properties={"environment":
            # "staging"}) was recorded as a deployment to "production", silently.
            raise InvalidArgumentError(
                f"properties must not hold {ENVIRONMENT_PROPERTY!r}: give it as "
                f"environment={shown(properties[ENVIRONMENT_PROPERTY])}"
            )
        custom = {**(properties or {}), ENVIRONMENT_PROPERTY: environment}
        # Deployed inside a run of this store (a release step): linked to it as a run started
        # there is, its child (parent_execution_id) in the run's contexts. It was recorded apart:
        # nothing in the store said which run deployed the model.
        run = active_run_of(self.store)
        if run is not None:
            custom.setdefault(PARENT_RUN_PROPERTY, run.id)
        try:
            execution = Execution(
                type=DEPLOYMENT_TYPE,
                last_known_state=ExecutionState.COMPLETE,
                custom_properties=custom,
            )
        except ValidationError as exc:
            raise InvalidArgumentError(f"deployment properties: {exc.errors()[0]['msg']}") from None
        artifact = self._artifact(model)
        version = self._registration(artifact)
        if version is None:  # (model_name / model_version set by hand are no registration)
            raise InvalidArgumentError(
                f"artifact {artifact.id} is not a registered model version: register_model first"
            )
        if artifact.state in _UNSERVABLE:
            # A model an impact mark abandoned (trained on a bad dataset), or one deleted, was
            # recorded as serving, and deployed_version answered it.
            raise FailedPreconditionError(
                f"artifact {artifact.id} (version {version.version} of {shown(version.name)}) is "
                f"{artifact.state.name}: it cannot be deployed"
            )
        context = self._model_context(version.name)
        if context is None or context.id is None:  # pragma: no cover - _registration found it
            raise NotFoundError(f"no registered model {shown(version.name)}")
        ensure_type(self.store, NodeKind.EXECUTION, DEPLOYMENT_TYPE)
        contexts = [context.id]
        if run is not None:
            # Not another registered model's context: its deployments are read from there, and
            # one of this model answered deployed_version(other) with None.
            contexts += [
                c.id
                for c in run.contexts
                if c.id is not None and c.id != context.id and c.type != REGISTERED_MODEL_TYPE
            ]
        pairs = [(Artifact(id=artifact.id), Event(type=EventType.INPUT))]
        links = [Context.model_construct(id=c) for c in contexts]

        def unservable_now() -> None:  # after an aborted write: abandoned or deleted meanwhile?
            stored = self.store.get_artifacts_by_id([artifact.id or 0])
            state = stored[0].state.name if stored and stored[0].state else None
            if not stored or stored[0].state in _UNSERVABLE:
                raise FailedPreconditionError(
                    f"artifact {artifact.id} (version {version.version} of {shown(version.name)}) "
                    f"became {state or 'deleted'} while it was being deployed (another writer): "
                    "it cannot be deployed; nothing was recorded"
                )

        # The state is checked again by the write itself: an impact mark (or retention) landing
        # between the read above and the write recorded a deployment of an ABANDONED model.
        eid, _, _ = self.store._once(
            "put_execution",
            (execution, pairs, links, (False, False)),
            lambda: self.store._composite.put_execution(
                execution,
                pairs,
                links,
                servable=([artifact.id or 0], _UNSERVABLE),
                check=unservable_now,
            ),
        )
        return eid

    def deployments(self, name: str, *, environment: str | None = None) -> list[Execution]:
        """Deployments of the registered model ``name`` (to ``environment``), oldest first."""
        if environment is not None and (not isinstance(environment, str) or not environment):
            raise InvalidArgumentError(
                f"an environment is a non-empty str or None, got {shown(environment)}"
            )
        context = self._model_context(name)
        if context is None or context.id is None:
            return []
        return sorted(
            (
                x
                for x in self.store.get_executions_by_context(context.id)
                if x.type == DEPLOYMENT_TYPE
                and x.last_known_state == ExecutionState.COMPLETE
                and (
                    environment is None
                    or x.custom_properties.get(ENVIRONMENT_PROPERTY) == environment
                )
            ),
            key=lambda x: (x.create_time_since_epoch or 0, x.id or 0),
        )

    def deployed_version(
        self, name: str, *, environment: str | None = "production"
    ) -> ModelVersion | None:
        """The version the latest deployment of ``name`` to ``environment`` put in service
        (``environment=None``: to any environment)."""
        history = self.deployments(name, environment=environment)
        if not history:
            return None
        latest = history[-1]
        events = self.store.get_events_by_execution_ids([latest.id or 0])
        inputs = [e.artifact_id for e in events if e.type == EventType.INPUT and e.artifact_id]
        for artifact in self.store.get_artifacts_by_id(inputs):
            version = self._version_of(artifact, name)
            if version is not None:
                return version
        return None

    # ------------------------------------------------------------------ experiments, metrics

    def producer_of(self, model: ModelRef) -> Execution | None:
        """The execution that output ``model`` (the latest, if several did). One that read it
        too (a step returning one of its inputs: ``select(models) -> models[i]``) passed it on,
        not made it: it is the producer only when no other is."""
        artifact = self._artifact(model)
        events = self.store.get_events_by_artifact_ids([artifact.id or 0])
        producers = [e.execution_id for e in events if e.type.is_output and e.execution_id]
        readers = {e.execution_id for e in events if not e.type.is_output}
        found = self.store.get_executions_by_id(producers) if producers else []
        # A selection step was taken for the model's producer: metric() read its properties,
        # not the training run's, and best_version passed the selected model over.
        made = [x for x in found if x.id not in readers] or found
        done = [x for x in made if x.last_known_state != ExecutionState.CACHED] or made
        return max(done, key=lambda x: x.id or 0) if done else None

    def experiment_of(self, model: ModelRef) -> Context | None:
        """The experiment context of the run that produced ``model`` (else one it belongs to)."""
        artifact = self._artifact(model)
        producer = self.producer_of(artifact)
        candidates: list[Context] = []
        if producer is not None and producer.id is not None:
            candidates = self.store.get_contexts_by_execution(producer.id)
        candidates += self.store.get_contexts_by_artifact(artifact.id or 0)
        for context in candidates:
            if context.type == self.experiment_type:
                return context
        return None

    def metric(self, model: ModelRef, metric: str) -> float | None:
        """``metric`` of a model: its own (custom) property, else its producing run's."""
        _check_metric(metric)
        artifact = self._artifact(model)
        sources: list[Mapping[str, Any]] = [artifact.properties, artifact.custom_properties]
        producer = self.producer_of(artifact)
        if producer is not None:
            sources += [producer.properties, producer.custom_properties]
        for source in sources:
            value = source.get(metric)
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and not math.isnan(value)
            ):
                return float(value)
        return None

    def best_version(
        self, name: str, metric: str, *, higher_is_better: bool = True
    ) -> ModelVersion | None:
        """The version of ``name`` with the best ``metric`` (versions without it are ignored);
        ``experiment_of(best)`` is the experiment that produced the winner."""
        _check_metric(metric)
        if not isinstance(higher_is_better, bool):
            # "no" or "min" is truthy: the highest was answered as the best of a loss
            raise InvalidArgumentError(
                f"higher_is_better is True or False, got {shown(higher_is_better)}"
            )
        scored = [(self.metric(v, metric), v) for v in self.model_versions(name)]
        ranked = [(s, v) for s, v in scored if s is not None]
        if not ranked:
            return None
        sign = 1.0 if higher_is_better else -1.0
        return max(ranked, key=lambda sv: (sign * (sv[0] or 0.0), -sv[1].version))[1]

    # ----------------------------------------------------------------------------------- git

    def log_git(self, execution_id: int, path: str | Path = ".") -> dict[str, Any]:
        """Record the git commit (branch, dirty flag, remote) of ``path`` on a recorded
        execution (a run still running too: its end keeps them); returns what was recorded
        (empty outside a git work tree)."""
        if not self.store.get_executions_by_id([execution_id]):
            raise NotFoundError(f"no execution with id {execution_id}")
        info = git_info(path)
        if not info:
            return info
        self.store.put_executions(
            [Execution(id=execution_id, custom_properties=info)],
            field_mask_paths=[f"custom_properties.{k}" for k in info],
        )
        return info
