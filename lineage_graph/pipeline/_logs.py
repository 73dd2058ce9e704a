"""What a run logs on its execution (custom properties, metrics): checked as the run's own
properties are, and refused once the run has ended or is ending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._encoding import shown
from ..exceptions import FailedPreconditionError, InvalidArgumentError
from ..models import Execution, kind_of
from ._arguments import _logged_value
from ._common import _built, _check_unicode_properties

if TYPE_CHECKING:
    from ._run import Run


class _Logs:
    """What a run logs on its execution (:meth:`_log`): checked as the run's own properties are,
    and refused once the run has ended or is ending."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def _require_unfinished(self, what: str) -> None:
        """Before the run starts or while it runs: what is logged after it ended is never
        written (its execution was recorded on exit), so it is refused rather than lost."""
        run = self.run
        if run.execution is not None and not run.active:
            raise FailedPreconditionError(
                f"{what}: the run is {run.state.name} already, so nothing logged now would be "
                "recorded: log inside its block, or update the execution with put_executions"
            )

    def _log(self, what: str, values: Mapping[str, Any] | None, kw: Mapping[str, Any]) -> None:
        """``log_properties`` / ``log_metrics``, their errors naming the method called (a
        positional non-mapping, ``log_metrics(0.93)``, raised a bare TypeError from
        ``log_metrics``, and every refusal named ``log_properties()``)."""
        run = self.run
        self._require_unfinished(what)
        if values is not None and not isinstance(values, Mapping):
            raise InvalidArgumentError(
                f"{what} takes a mapping of properties (or name=value keywords), got "
                f"{type(values).__name__}"
            )
        # a numpy scalar as its Python value (``log_metrics(correct=(pred == y).sum())``, an
        # int64, was refused: "unsupported property value of type numpy.int64")
        merged = {k: _logged_value(v) for k, v in {**(values or {}), **kw}.items()}
        for k, v in merged.items():
            try:
                kind_of(v)
            except ValueError as exc:
                raise InvalidArgumentError(f"{what}: property {shown(k)}: {exc}") from None
        # Checked now, as the run's own properties are: a name the execution cannot hold ("" or
        # not a str) was accepted here, then failed the completion with pydantic's untyped
        # ValidationError, and recording the failure failed on it too: the run stayed RUNNING.
        _built(Execution, what, type=run.execution_type, custom_properties=merged)
        _check_unicode_properties(what, merged)
        with run._claims._ending_lock:
            run._claims._refuse_ending(what)
            run.custom_properties.update(merged)
