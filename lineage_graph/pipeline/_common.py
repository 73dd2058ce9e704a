"""What the pipeline package's modules share: the property names a run writes, its private
errors, and the small helpers on artifacts and error texts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from .._encoding import check_unicode, check_value_unicode, shown
from .._redact import redact_secrets
from .._repositories._base import check_positive_id
from ..exceptions import FailedPreconditionError, InvalidArgumentError
from ..models import Artifact, ArtifactState, Context

ArtifactLike: TypeAlias = Artifact | int
"""An input: a stored artifact (or its id), or a new :class:`Artifact` to record with the run."""
Inputs: TypeAlias = Sequence[ArtifactLike] | Mapping[str, ArtifactLike | Sequence[ArtifactLike]]
"""A list of inputs, or inputs by key (recorded as the event path ``[key]`` / ``[key, i]``)."""
ContextLike: TypeAlias = str | Context
"""A context name (of the run's ``context_type``) or a :class:`Context`."""

#: Custom property names the pipeline writes on executions.
ERROR_PROPERTY = "error"
ERROR_TYPE_PROPERTY = "error_type"
PARENT_RUN_PROPERTY = "parent_execution_id"
CACHED_FROM_PROPERTY = "cached_from_execution_id"
RETURN_SHAPE_PROPERTY = "return_shape"
#: Set on a step's execution that returned one of its inputs (a pass-through, a selection):
#: ``{"artifact_ids": [...]}``, the inputs returned. They are not its outputs (see
#: :func:`_declare_returned`). When the return can be rebuilt, also ``"shape"`` (as
#: ``return_shape`` would be) and ``"passed"``: for each returned input ``{"at": ["return",
#: ...], "input": [key] or [key, i], "id": id}``, where it was returned, the input event path
#: it was read under, and its id; a cache hit returns the input THIS call was given at that
#: path (:func:`_cached_return`). ``return_shape`` stays ``"value"``: an earlier version,
#: which cannot rebuild it, runs such a call again.
RETURNED_INPUTS_PROPERTY = "returned_inputs"
#: Set on a cached step's execution that was not looked up in the cache, and why.
CACHE_SKIPPED_PROPERTY = "cache_skipped"
#: The process running a RUNNING run (lineage_graph/_owner.py): written by the entry write,
#: dropped when the run ends; a run whose process died keeps it.
RUN_OWNER_PROPERTY = "run_owner"
#: The error type recorded on a run closed because its process died (see _retire_namesake).
_DIED_ERROR_TYPE = "ProcessDied"
#: The name a failed, cancelled or dead run gives up to a re-run of its name (its own id keeps
#: it unique): ``<name>~attempt-<id>``.
_RETIRED_SUFFIX = "~attempt-{id}"
_RETURN_KEY = "return"
#: The return shape of a step whose return value is not artifacts alone: not rebuilt on a hit.
_VALUE_SHAPE = "value"
_MAX_ERROR_CHARS = 4000
#: What ends a run CANCELED, not FAILED: Ctrl-C, a task's cancellation, and a generator closed
#: before its end (its consumer stopped reading: ``for batch in load(): break``), which was
#: recorded FAILED with the error "GeneratorExit".
_CANCELLATIONS = (KeyboardInterrupt, asyncio.CancelledError, GeneratorExit)


class _Refusal(FailedPreconditionError):
    """A call on a run refused as it began (the run not RUNNING, or ended in another thread
    already): it changes nothing, the current run of the thread calling it included (a
    refused ``finish()`` from another thread reset that thread's current run to None, a run
    it then started getting no parent)."""


class _EndClaimed(_Refusal):
    """Another thread is ending the run already (:meth:`Run._claim_end`)."""


class _InputAsOutput(InvalidArgumentError):
    """An artifact the run reads declared as its output (:meth:`Run._declare`)."""

    def __init__(self, message: str, artifact_id: int) -> None:
        super().__init__(message)
        self.artifact_id = artifact_id


def _require_flags(**flags: object) -> None:
    """Each flag is True or False: ``cache="no"`` was taken as true (any non-empty string is),
    and the run looked its cache up."""
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise InvalidArgumentError(f"{name} is True or False, got {shown(value)}")


@dataclass
class _Output:
    artifact: Artifact
    path: list[int | str]


_M = TypeVar("_M", bound=BaseModel)


def _built(model: type[_M], what: str, **fields: Any) -> _M:
    """``model(**fields)``, pydantic's refusal raised as InvalidArgumentError (nothing recorded)."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidArgumentError(f"{what}: {where}: {first['msg']}") from None


def _as_artifact(value: ArtifactLike, what: str) -> Artifact:
    if isinstance(value, bool) or not isinstance(value, Artifact | int):
        raise InvalidArgumentError(
            f"{what}: expected an Artifact or an artifact id, got {type(value).__name__}"
        )
    if isinstance(value, int) and value <= 0:  # (pydantic's ValidationError, untyped)
        raise InvalidArgumentError(f"{what}: an artifact id is a positive int, got {value}")
    if isinstance(value, Artifact) and value.id is not None:
        # a model built without validation: a list id escaped as "unhashable type" from the
        # check that each input is read once
        check_positive_id(what, "id", value.id)
    # past int64 too: pydantic's ValidationError, untyped, unless built as the other models are
    return _built(Artifact, what, id=value) if isinstance(value, int) else value


def _fingerprinted(artifact: Artifact) -> bool:
    """Whether the cache matches ``artifact`` by content: it holds a non-blank ``digest``
    string (the declared property before the custom one), as find_cached_execution reads it."""
    return _digest(artifact) is not None


def _digest(artifact: Artifact) -> str | None:
    """``artifact``'s content fingerprint as find_cached_execution reads it (the declared
    ``digest`` string before the custom one; None: none, or blank)."""
    for values in (artifact.properties, artifact.custom_properties):
        digest = values.get("digest")
        if isinstance(digest, str):
            return digest if digest.strip() else None
    return None


def _context_ref(context_id: int) -> Context:
    """A reference to a stored context by id alone (a ``Context`` model requires a name)."""
    return Context.model_construct(id=context_id)


#: States of a stored artifact a new output declared again cannot be (:meth:`_Twins.stored_twin`):
#: the cache passes over an execution with such an output.
_UNUSABLE_OUTPUTS = frozenset(
    {ArtifactState.DELETED, ArtifactState.MARKED_FOR_DELETION, ArtifactState.ABANDONED}
)


def _triples(diffs: Mapping[str, tuple[Any, Any]]) -> list[tuple[str, Any, Any]]:
    return [(k, a, b) for k, (a, b) in diffs.items()]


def _type_text(name: str | None, version: str | None) -> str | None:
    """``Model`` or ``Model version v2`` (None: no type name)."""
    return None if name is None else name + (f" version {version}" if version else "")


def _shown(value: Any) -> str:
    """A value in an error message: ``unset`` for none, else as :func:`shown` quotes it (at most
    200 characters)."""
    return "unset" if value is None else shown(value, 200)


def _become(given: Artifact, stored: Artifact) -> None:
    """The caller's new artifact object becomes the stored one (id, state, times...)."""
    for name in type(given).model_fields:
        setattr(given, name, getattr(stored, name))


def _reference(artifact: Artifact) -> Artifact:
    """A stored artifact is linked, never rewritten; a new one is recorded as given."""
    return Artifact(id=artifact.id) if artifact.id is not None else artifact


def _public_type(error: BaseException) -> type[BaseException]:
    """``error``'s class, or for one of this module's own (``_Refusal``, ``_EndClaimed``) the
    public class it is: a run failed by a refused call was recorded with ``error_type``
    "_Refusal", not "FailedPreconditionError" (what it is to a user, and was recorded as)."""
    for cls in type(error).__mro__:
        public = cls.__module__ != __name__ or not cls.__name__.startswith("_")
        if public and issubclass(cls, BaseException):
            return cls
    return type(error)  # pragma: no cover - BaseException is public


def _error_text(error: BaseException, depth: int = 0) -> str:
    """``Type: message``; for an exception group (``asyncio.TaskGroup``, ``trio``), its
    sub-exceptions too: the run's error read "ExceptionGroup: unhandled errors in a TaskGroup
    (1 sub-exception)", the reason it failed left out."""
    try:
        message = str(error)
    except Exception as broken:
        # (an exception whose __str__ raises: recording the failure raised, and the run stayed
        # RUNNING for ever, its process alive, so a named re-run was refused)
        message = f"<str() raised {type(broken).__name__}>"
    message = _storable(message)
    name = _public_type(error).__name__
    text = f"{name}: {message}" if message else name
    if isinstance(error, BaseExceptionGroup) and depth < 4:
        parts = [_error_text(e, depth + 1) for e in error.exceptions[:10]]
        text += " [" + "; ".join(parts) + "]"
    return text


def _storable(text: str) -> str:
    """An error message as a run's ``error`` stores it: the password of a URL in it and the value
    of a password-like environment variable masked (:func:`redact_secrets`; a step failing on
    ``postgresql://admin:pw@db/x`` or quoting ``$API_TOKEN`` stored the secret, for anyone who
    reads or exports the store), and each lone surrogate written as its escape (``\\udcff``):
    an error message naming a file whose name is not UTF-8 (``os.listdir``, ``os.fsdecode``
    give it so) could not be stored (InvalidArgumentError), so the run's failure was not
    recorded: RUNNING for ever."""
    text = redact_secrets(text)
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_SCALARS = (bool, int, float, str)


#: How deep :func:`_declare_part` looks into a returned structure for artifacts.
_MAX_RETURN_DEPTH = 8


def _path_step(key: object) -> list[int | str]:
    """A dict key as an event path step (an int or a non-empty str; none for another key: the
    artifact is under its dict's path)."""
    if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
        return []
    return [key]


#: Entry writes of a run whose new named inputs other writers keep creating meanwhile.
_ENTRY_TRIES = 3


def _check_unicode_properties(what: str, values: Mapping[str, Any]) -> None:
    """A property name or text value (a struct's keys and texts too) holding a lone surrogate
    is InvalidArgumentError: no engine stores one. Logged, it was accepted, then refused the
    run's completion and the record of its failure alike (both write the properties): RUNNING
    for ever; given to the run, it was refused by the entry write, after the run's types were
    registered."""
    for key, value in values.items():
        if isinstance(key, str):
            check_unicode(f"{what}: property {shown(key)}", key)
        check_value_unicode(f"{what}: property {shown(key)}", value)


def _clean_exit(exc: BaseException) -> bool:
    """``sys.exit()`` / ``sys.exit(0)`` in a run ends the program successfully: the run is
    ``COMPLETE`` with the outputs recorded so far, as the process's exit status says (any other
    code, ``sys.exit(1)`` or ``sys.exit("message")``, is a failure)."""
    if not isinstance(exc, SystemExit):
        return False
    return exc.code is None or (type(exc.code) in (int, bool) and exc.code == 0)
