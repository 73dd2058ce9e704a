"""A recorded run (:class:`Run`), the current run of a thread or task, the types a run
registers (:func:`ensure_type`), git facts (:func:`git_info`) and the cache lookup
(:func:`find_cache_hit`). The package's docstring says what a run records."""

from __future__ import annotations

import asyncio
import threading
import types
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._encoding import check_key, check_text, shown
from .._repositories.types import check_type_identity
from ..exceptions import FailedPreconditionError, InvalidArgumentError, NotFoundError
from ..models import Artifact, Context, Execution, ExecutionState
from ._async import _AsyncEnd
from ._claims import _EndClaims, _EndState
from ._common import (
    ContextLike,
    Inputs,
    _as_artifact,
    _built,
    _check_unicode_properties,
    _clean_exit,
    _EndClaimed,
    _Refusal,
    _require_flags,
)
from ._contexts import _Contexts
from ._current import _enter, _release, _running_here, _Slot
from ._end import _End
from ._entry import _Entry
from ._git import _check_git_path, git_info
from ._inputs import _flatten_inputs
from ._logs import _Logs
from ._namesakes import _Namesakes
from ._outputs import _Declared, _DeclaredState
from ._twins import _Twins
from ._types import _registers_type

if TYPE_CHECKING:
    from ..store import LineageStore
    from ._cache import CacheHit


# ------------------------------------------------------------------------------------ types


# ------------------------------------------------------------------------------------ git


# ---------------------------------------------------------------------------------- cache


# ------------------------------------------------------------------------------------ run


class Run:
    """One recorded execution; create it with :meth:`LineageStore.run` and use it as a (sync or
    async) context manager, or call :meth:`start` and :meth:`finish` / :meth:`fail` yourself.

    After entry: ``run.id`` is the execution's id, ``run.inputs`` the stored inputs and
    ``run.cached`` a :class:`CacheHit` if this work was done before (``None`` otherwise).
    After exit: ``run.outputs`` are the stored outputs (and the artifacts given to
    :meth:`output` have their ``id`` set), ``run.state`` the final state.
    """

    def __init__(
        self,
        store: LineageStore,
        execution_type: str,
        *,
        inputs: Inputs | None = None,
        context: ContextLike | Sequence[ContextLike] | None = None,
        properties: Mapping[str, Any] | None = None,
        custom_properties: Mapping[str, Any] | None = None,
        name: str | None = None,
        context_type: str = "Experiment",
        cache: bool = True,
        git: bool | str | Path = False,
        inherit_contexts: bool = True,
    ) -> None:
        _check_run(
            execution_type,
            properties,
            custom_properties,
            name,
            context_type,
            git,
            cache=cache,
            inherit_contexts=inherit_contexts,
        )
        self.store = store
        #: Who is ending the run, and whether its end has begun (what :attr:`_claims` acts on).
        self._end_state = _EndState()
        #: The outputs declared so far (what :attr:`_declarations` acts on).
        self._declared = _DeclaredState()
        self.execution_type = execution_type
        self.name = name
        self.properties: dict[str, Any] = dict(properties or {})
        self.custom_properties: dict[str, Any] = dict(custom_properties or {})
        self.context_type = context_type
        self.check_cache = cache
        self._inputs = _flatten_inputs(inputs)
        #: The positions in _contexts of the contexts given by name (a str): linked as stored.
        self._bare_contexts: set[int] = set()
        self._contexts = self._context_links._context_models(context)
        # Every type the start registers, checked now: the start registers them one by one
        # (contexts', inputs', then the execution's), so a refused one (a NUL, too long) left
        # the earlier ones registered: run("T\x00", context="exp") created type Experiment.
        for node in [*self._contexts, *(a for a, _ in self._inputs)]:
            if _registers_type(node):
                check_type_identity(node.type or "", None)
        check_type_identity(execution_type, None)
        self._git = git
        self._inherit_contexts = inherit_contexts
        #: Properties given an int for a ``float`` parameter (set by a step): see _widen.
        self._float_parameters: set[str] = set()
        #: New inputs found stored only when the entry write failed on their names.
        self._resolved_late = False
        #: The properties a step's arguments gave (a step's own ``properties`` are not).
        self._arguments: set[str] = set()
        #: The error the run's failure was last recorded with (see _close_interrupted).
        self._recorded_error: BaseException | None = None
        self._use_cache = False
        #: The namesakes the entry write renamed (see _write_entry).
        self._retired: list[tuple[Execution, Execution, list[str]]] = []
        self.execution: Execution | None = None
        self.inputs: list[Artifact] = []
        #: The inputs a step returned (:func:`_note_returned_input`), in order.
        self._returned_inputs: dict[int, None] = {}
        #: Where each was returned: ``(return path, input event path, id)``.
        self._passed: list[tuple[list[int | str], list[int | str], int]] = []
        #: The inputs stored before the run by id: the caller's object and its event path.
        self._passable: dict[int, tuple[Artifact, list[int | str]]] = {}
        #: Outputs of the cache hit that are not this run's: inputs the hit passed on, recorded
        #: as its outputs by an earlier version (:func:`_recorded_as_outputs`).
        self._not_outputs: set[int] = set()
        #: The stored ids of the ``inputs`` stored before the run (set once the entry is read):
        #: never an output of the run.
        self._input_ids: set[int] = set()
        self.contexts: list[Context] = []
        self.outputs: list[Artifact] = []
        self.cached: CacheHit | None = None
        self.parent: Run | None = None
        #: What the context it was made current in holds for it (not kept here: see _Slot).
        self._slot: weakref.ReferenceType[_Slot] | None = None
        self.error: BaseException | None = None

    # ------------------------------------------------------------------------ collaborators

    # The collaborators that act on this run are made when asked for, not kept: each holds the
    # run, and kept they made every run part of a reference cycle, which only the cyclic
    # collector frees (a dropped run, its store, inputs, outputs and error stayed alive until
    # then). What one keeps between calls is the run's own (_end_state, _declared), given to it.

    @property
    def _twins(self) -> _Twins:
        return _Twins(self)

    @property
    def _namesakes(self) -> _Namesakes:
        return _Namesakes(self)

    @property
    def _context_links(self) -> _Contexts:
        return _Contexts(self)

    @property
    def _end(self) -> _End:
        return _End(self)

    @property
    def _entry(self) -> _Entry:
        return _Entry(self)

    @property
    def _claims(self) -> _EndClaims:
        return _EndClaims(self, self._end_state)

    @property
    def _declarations(self) -> _Declared:
        return _Declared(self, self._declared)

    @property
    def _logs(self) -> _Logs:
        return _Logs(self)

    @property
    def _async_end(self) -> _AsyncEnd:
        return _AsyncEnd(self)

    # ------------------------------------------------------------------------- properties

    @property
    def id(self) -> int:
        """The execution's id (once started)."""
        if self.execution is None or self.execution.id is None:
            raise FailedPreconditionError("the run has not started: enter its `with` block")
        return self.execution.id

    @property
    def state(self) -> ExecutionState:
        if self.execution is None:
            return ExecutionState.NEW
        return self.execution.last_known_state

    @property
    def active(self) -> bool:
        return self.state == ExecutionState.RUNNING

    def __repr__(self) -> str:
        ident = self.execution.id if self.execution else None
        return f"<Run {self.execution_type} id={ident} state={self.state.name}>"

    def __copy__(self) -> Run:
        """Refused: a run is one execution, and its parts (its entry, end, outputs) are its
        own; a shallow copy's would act on this run."""
        raise TypeError(f"a Run cannot be copied ({self!r}): start another with store.run(...)")

    def _require_active(self, what: str) -> None:
        if not self.active:
            raise _Refusal(f"{what}: the run is {self.state.name}, not RUNNING")

    # ------------------------------------------------------------------------- recording

    def output(
        self,
        artifact: Artifact | int | str,
        /,
        *,
        key: str | None = None,
        uri: str | None = None,
        name: str | None = None,
        properties: Mapping[str, Any] | None = None,
        custom_properties: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Declare an output, recorded when the run completes. Give an :class:`Artifact` (new,
        or stored to link it), an artifact id, or a type name with ``uri``/``name``/properties.
        ``key`` names the output (event path ``[key]``). Returns the artifact, whose ``id`` is
        set when the run completes (at once for a new one declared as a stored artifact with
        its name or external id is: that artifact, see :meth:`_Twins.stored_twin`)."""
        self._require_active("output()")
        if key is not None and (not isinstance(key, str) or not key):
            raise InvalidArgumentError(f"an output key is a non-empty string, got {shown(key)}")
        for what, given in (("properties", properties), ("custom_properties", custom_properties)):
            if given is not None and not isinstance(given, Mapping):
                # (a list or a str raised dict()'s TypeError / ValueError, untyped)
                raise InvalidArgumentError(
                    f"output(): {what} is a mapping of property names to values, got {shown(given)}"
                )
        if isinstance(artifact, str):
            if not artifact:
                raise InvalidArgumentError("an output's type name must not be empty")
            artifact = _built(
                Artifact,
                f"output {artifact!r}",
                type=artifact,
                uri=uri,
                name=name,
                properties=dict(properties or {}),
                custom_properties=dict(custom_properties or {}),
            )
        elif uri is not None or name is not None or properties or custom_properties:
            raise InvalidArgumentError(
                "uri/name/properties describe a new artifact: pass a type name with them"
            )
        artifact = _as_artifact(artifact, "output")
        if artifact.id is not None and not self.store.get_artifacts_by_id([artifact.id]):
            # Accepted, it failed the run on exit (NotFoundError), the block's work done.
            raise NotFoundError(f"output: no artifact with id {artifact.id}")
        self._declarations._declare(artifact, [key] if key is not None else [])
        return artifact

    def log_properties(self, values: Mapping[str, Any] | None = None, **kw: Any) -> None:
        """Add custom properties (metrics, notes…) to the execution; written on completion."""
        self._logs._log("log_properties()", values, kw)

    def log_metrics(self, metrics: Mapping[str, float | int] | None = None, **kw: float) -> None:
        """Record metrics (custom properties of the execution), e.g. ``accuracy=0.93``."""
        self._logs._log("log_metrics()", metrics, kw)

    def log_git(self, path: str | Path = ".") -> dict[str, Any]:
        """Record the git commit, branch, dirty flag and remote of ``path`` on the execution."""
        self._logs._require_unfinished("log_git()")
        info = git_info(path)  # (git's processes: another thread may end the run meanwhile)
        with self._claims._ending_lock:
            # (as _log: given while the run's end took its properties, it was returned here
            # and never recorded)
            self._claims._refuse_ending("log_git()")
            self.custom_properties.update(info)
        return info

    def use_cached(self) -> list[Artifact]:
        """Take the cached execution's outputs as this run's: on exit the run is recorded
        ``CACHED`` with those outputs linked (nothing new is produced). Returns them."""
        self._require_active("use_cached()")
        if self.cached is None:
            raise FailedPreconditionError("use_cached(): there is no cache hit for this run")
        # An output declared already that the hit holds too would be recorded twice: the run
        # failed on exit (AlreadyExistsError: "the same ... OUTPUT event twice"), FAILED.
        both = sorted(i for i in self._declarations._cached_ids() if i in self._declared.by_id)
        if both:
            raise InvalidArgumentError(
                f"use_cached(): artifact(s) {both[:10]} are declared as outputs of this run "
                "already, and are outputs of the cache hit: an artifact is an output of a run once"
            )
        with self._claims._ending_lock:
            # (another thread ending the run meanwhile recorded it COMPLETE without them)
            self._claims._refuse_ending("use_cached()")
            self._use_cache = True
        return list(self.cached.outputs)

    # ------------------------------------------------------------------------- lifecycle

    def _execution_model(self, state: ExecutionState) -> Execution:
        return Execution(
            id=self.execution.id if self.execution else None,
            type=self.execution_type,
            name=self.name,
            properties=self.properties,
            custom_properties=self.custom_properties,
            last_known_state=state,
        )

    def start(self) -> Run:
        """Record the execution ``RUNNING`` and make this the current run (see ``__enter__``)."""
        if self.execution is not None:  # (not a begun run's to close)
            raise FailedPreconditionError(f"{self!r} was already started: a run is used once")
        try:
            self._entry._begin()
            _enter(self)
        except (Exception, KeyboardInterrupt) as exc:
            # (Ctrl-C once _begin returned: the block never runs, so no __exit__ closes the
            # execution, RUNNING for ever)
            self._close_interrupted(exc)
            raise
        return self

    def finish(self) -> None:
        """Record the outputs and the execution ``COMPLETE`` (``CACHED`` after
        :meth:`use_cached`) in one atomic write. If that write fails, the run is recorded
        ``FAILED`` with the reason and the error is raised."""
        refused = False
        try:
            try:
                self._require_active("finish()")
                self._complete_or_fail()
            except _Refusal:
                refused = True
                raise
        except (Exception, KeyboardInterrupt) as exc:
            # (a Ctrl-C landing before the completion's own handler began, as finish() began,
            # in _require_active, as _complete_or_fail started, left the execution RUNNING for
            # ever, and the run the current one: as __exit__ does)
            if not refused:
                self._close_interrupted(exc)
            raise
        finally:
            if not refused:
                _release(self)

    def fail(self, error: BaseException | str) -> None:
        """Record the execution ``FAILED`` with ``error`` (outputs are not recorded)."""
        if not isinstance(error, BaseException | str):
            # fail(None) recorded the error "None" (fail(5) "5"): nothing is written, the run
            # stays active
            raise InvalidArgumentError(
                f"fail() takes an exception or a message (str), got {shown(error)}"
            )
        refused = False
        try:
            try:
                self._require_active("fail()")
                taken = self._claims._claim_end("fail()")
            except _Refusal:
                refused = True
                raise
            try:
                self._end._record_failure(error)
            finally:
                self._claims._release_end(taken)
        except KeyboardInterrupt as exc:
            # (a Ctrl-C before the failure's write landed left the execution RUNNING for ever:
            # it is recorded CANCELED)
            self._close_interrupted(exc)
            raise
        finally:
            if not refused:
                _release(self)

    def _complete_or_fail(self) -> None:
        taken = self._claims._claim_end("finish()")
        try:
            self._end._complete()
        except (Exception, KeyboardInterrupt) as exc:
            # (Ctrl-C during the completion: before its write landed the run was left RUNNING
            # for ever, 18 of 30 tries; after, it is COMPLETE and stays so: written only while
            # RUNNING, and read back)
            self._fail_quietly(exc)
            raise
        finally:
            self._claims._release_end(taken)

    def _fail_quietly(self, exc: BaseException) -> None:
        """Record ``exc`` as the run's failure; a failure to record it is noted on ``exc``."""
        self._recorded_error = exc
        try:
            self._end._record_failure(exc)
        except Exception as record_error:  # never hide the user's exception behind ours
            exc.add_note(f"lineage-graph could not record the failure: {record_error!r}")

    def _fail_claimed(self, exc: BaseException) -> None:
        """The run's failure ``exc`` recorded under this thread's claim on its end."""
        taken = self._claims._claim_end("the run's exit")
        try:
            self._fail_quietly(exc)
        finally:
            self._claims._release_end(taken)

    def _close_interrupted(self, exc: BaseException) -> None:
        """``exc`` reached ``start`` or ``__exit__`` past the run's own handlers: a Ctrl-C
        landing between them (as ``__exit__`` began, in ``_exit``, ``active``, as
        ``_complete_or_fail`` started; once ``_begin`` returned) left the execution RUNNING for
        ever, and the run the current one. Unless a handler recorded it, the run is recorded
        ``CANCELED`` (an error, ``FAILED``), its outputs not written."""
        try:
            if self.active and self._recorded_error is not exc and not isinstance(exc, _EndClaimed):
                try:
                    taken = self._claims._claim_end("the run's interruption")
                except _EndClaimed:
                    return  # another thread is ending the run: its end is the run's
                try:
                    self._fail_quietly(exc)
                finally:
                    self._claims._release_end(taken)
        finally:
            _release(self)

    def _exit(self, exc: BaseException | None) -> None:
        try:
            if self.active:
                if exc is None or _clean_exit(exc):
                    self._complete_or_fail()
                else:
                    taken = self._claims._claim_end("the run's exit")
                    try:
                        self._fail_quietly(exc)
                    finally:
                        self._claims._release_end(taken)
        except _EndClaimed:
            pass  # another thread is ending the run: its end is the run's
        finally:
            _release(self)

    def __enter__(self) -> Run:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        # The first statement: an interrupt landing anywhere after the block's end is caught
        # here, bar one landing as this very call starts (before any statement of it runs).
        try:
            self._exit(exc)
        except (Exception, KeyboardInterrupt) as interrupt:
            self._close_interrupted(interrupt)
            raise

    async def __aenter__(self) -> Run:
        # A cancellation while the entry write is under way in its thread does not stop the
        # thread: the execution was recorded RUNNING after all, and as the block never ran,
        # __aexit__ never closed it (RUNNING for ever). Whichever side sees the other finish
        # (under the lock) records it CANCELED: the thread once its write landed, or this task
        # when the write landed before the cancellation reached it.
        lock = threading.Lock()
        begun = [False]
        cancelled: list[asyncio.CancelledError] = []

        def begin() -> None:
            self._entry._begin()
            with lock:
                begun[0] = True
                error = cancelled[0] if cancelled else None
            if error is not None and self.active:
                self._fail_quietly(error)

        try:
            # to_thread runs _begin in a copy of this task's context: the parent run is found.
            await asyncio.to_thread(begin)
        except asyncio.CancelledError as exc:
            with lock:
                cancelled.append(exc)
                close = begun[0]
            if close and self.active:
                self._fail_quietly(exc)
            raise
        _enter(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        # (as __exit__: a Ctrl-C landing in this task's thread before the end's own thread
        # took the claim, as the exit began, in ``active`` or ``_clean_exit``, left the run
        # RUNNING for ever; one landing once that thread holds it leaves that end alone)
        try:
            await self._async_end._aexit(exc)
        except KeyboardInterrupt as interrupt:
            self._close_interrupted(interrupt)
            raise


def _check_run(
    execution_type: str,
    properties: Mapping[str, Any] | None,
    custom_properties: Mapping[str, Any] | None,
    name: str | None,
    context_type: str,
    git: bool | str | Path,
    *,
    cache: bool,
    inherit_contexts: bool,
) -> None:
    """A new run's arguments (its inputs and contexts aside) checked as :class:`Run` is made:
    refused then, nothing is recorded."""
    if not isinstance(execution_type, str) or not execution_type:
        raise InvalidArgumentError("a run needs an execution type name")
    if not isinstance(context_type, str) or not context_type:
        raise InvalidArgumentError("context_type must be a context type name")
    if not isinstance(git, bool | str | Path):
        raise InvalidArgumentError(f"git is True, False or a path, got {shown(git)}")
    if not isinstance(git, bool):  # a mistyped path is refused now, not recorded as none
        _check_git_path(git)
    _require_flags(cache=cache, inherit_contexts=inherit_contexts)
    for what, given in (("properties", properties), ("custom_properties", custom_properties)):
        if given is not None and not isinstance(given, Mapping):
            # "lr" or 5 raised dict()'s ValueError / TypeError, untyped
            raise InvalidArgumentError(
                f"{what} is a mapping of property names to values, got {shown(given)}"
            )
    # Checked now, not when the run starts: a bad name or property value records nothing.
    _built(
        Execution,
        f"run {execution_type!r}",
        type=execution_type,
        name=name,
        properties=dict(properties or {}),
        custom_properties=dict(custom_properties or {}),
    )
    for what, given in (("properties", properties), ("custom_properties", custom_properties)):
        _check_unicode_properties(f"run {execution_type!r} {what}", given or {})
    if isinstance(name, str):
        # A name the store cannot hold as a unique key (a NUL, empty, edge whitespace,
        # U+0001, over MAX_KEY_BYTES) was refused by the entry write, after the run's
        # execution and context types were registered: here, nothing is.
        check_text("name", name)
        check_key("name", name)


def current_run() -> Run | None:
    """The run whose block (or decorated step) is executing in this thread or task, if any."""
    return _running_here()
