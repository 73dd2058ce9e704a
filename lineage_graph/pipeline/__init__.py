"""The pipeline API: record a step of an ML pipeline with a ``with`` block or a decorator.

>>> with store.run("Trainer", inputs=[dataset], context="exp-1", properties={"lr": 0.1}) as run:
...     model = run.output(Artifact(type="Model", uri="s3://models/1"))   # doctest: +SKIP
>>> model.id                                                                  # doctest: +SKIP
7

On entry the execution is recorded ``RUNNING`` together with its input events and context links
(one atomic write); on exit it becomes ``COMPLETE`` together with its outputs, their events and
context links (a second atomic write; also on ``sys.exit(0)``), or ``FAILED`` (``CANCELED`` for
``KeyboardInterrupt``, task cancellation and a generator closed early) with the error, and no
outputs. Types that do not exist yet are registered, and declared ``properties`` extend their
type (``can_add_fields``).

The active run is kept in a :class:`contextvars.ContextVar`: :func:`current_run` answers inside
the block, in the functions it calls, in asyncio tasks it starts, and never in another thread.
"""

# (the names after __all__'s: not exported, read from here by the library and its tests)
from ..models import Artifact as Artifact
from ..models import Event as Event
from ..models import Execution as Execution
from ._arguments import MAX_IMPLICIT_STATE_CHARS as MAX_IMPLICIT_STATE_CHARS
from ._cache import CacheHit
from ._cache import find_cache_hit as find_cache_hit
from ._common import CACHE_SKIPPED_PROPERTY as CACHE_SKIPPED_PROPERTY
from ._common import CACHED_FROM_PROPERTY as CACHED_FROM_PROPERTY
from ._common import ERROR_PROPERTY as ERROR_PROPERTY
from ._common import ERROR_TYPE_PROPERTY as ERROR_TYPE_PROPERTY
from ._common import PARENT_RUN_PROPERTY as PARENT_RUN_PROPERTY
from ._common import RETURN_SHAPE_PROPERTY as RETURN_SHAPE_PROPERTY
from ._common import RETURNED_INPUTS_PROPERTY as RETURNED_INPUTS_PROPERTY
from ._common import RUN_OWNER_PROPERTY as RUN_OWNER_PROPERTY
from ._common import ArtifactLike, ContextLike, Inputs
from ._current import active_run_of as active_run_of
from ._git import git_info
from ._run import Run, current_run
from ._step import StepDecorator, step
from ._types import ensure_type

__all__ = [
    "ArtifactLike",
    "CacheHit",
    "ContextLike",
    "Inputs",
    "Run",
    "StepDecorator",
    "current_run",
    "ensure_type",
    "git_info",
    "step",
]

# The public classes and functions keep the module they always had (pickling, the text of
# an error naming a value's class, a step argument's recorded "__class__"), though they live
# in the package's private modules; CacheHit's annotations are resolved here, so the models
# they name are here too (typing.get_type_hints, pydantic).
for _public in (CacheHit, Run, StepDecorator, current_run, ensure_type, git_info, step):
    _public.__module__ = __name__
del _public
