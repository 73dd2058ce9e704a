"""The one write path: every public write becomes ONE ``graph/write`` statement (atomic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._base import Repository
from .ids import IdAllocator
from .nodes import PreparedNodes

__all__ = ["GraphWriter", "WriteBatch"]


@dataclass
class WriteBatch:
    artifacts: PreparedNodes | None = None
    executions: PreparedNodes | None = None
    contexts: PreparedNodes | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    attributions: list[dict[str, int]] = field(default_factory=list)
    associations: list[dict[str, int]] = field(default_factory=list)
    parents: list[dict[str, int]] = field(default_factory=list)

    def params(self) -> dict[str, Any]:
        def rows(p: PreparedNodes | None) -> list[dict[str, Any]]:
            return p.rows if p is not None else []

        return {
            "artifacts": rows(self.artifacts),
            "executions": rows(self.executions),
            "contexts": rows(self.contexts),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "attributions": self.attributions,
            "associations": self.associations,
            "parents": self.parents,
        }

    def is_empty(self) -> bool:
        return not any(self.params().values())


class GraphWriter(Repository):
    def __init__(self, backend: Any, ids: IdAllocator) -> None:
        super().__init__(backend)
        self.ids = ids

    def execute(self, batch: WriteBatch) -> None:
        """Run the batch as one statement; on failure the new ids go back to the allocator."""
        if batch.is_empty():
            return
        try:
            self.write("graph/write", **batch.params())
        except BaseException:
            for prepared in (batch.contexts, batch.executions, batch.artifacts):
                if prepared is not None:
                    self.ids.release(prepared.kind.value, prepared.new_ids)
            raise
