"""The query library: every ``.cypher`` file under ``cypher/`` is one named query.

``cypher/nodes/insert_artifacts.cypher`` is the query ``nodes/insert_artifacts``. A file of the same
relative path under ``cypher/falkordb/`` overrides the base text on the FalkorDB engine only; every
override must have a base twin (the base text is what Neo4j runs and what the analyser checks).

In a wheel the directory ships as ``lineage_graph/cypher``; in a source checkout it is the
repository's top-level ``cypher/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import LiteralString

from .backends._base import Dialect

__all__ = ["Query", "QueryRegistry", "cypher_dir", "registry"]

_OVERRIDE_DIALECTS: tuple[Dialect, ...] = ("falkordb",)


@dataclass(frozen=True)
class Query:
    """A named query: its base (Neo4j) text and dialect overrides."""

    name: str
    base: LiteralString
    overrides: dict[str, LiteralString] = field(default_factory=dict)

    def text(self, dialect: Dialect) -> LiteralString:
        return self.overrides.get(dialect, self.base)


def cypher_dir() -> Path:
    """Where the query files are: inside the installed package, else the source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "cypher", here.parent / "cypher"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "the Cypher query library is missing: looked for lineage_graph/cypher and ./cypher"
    )


def _read(path: Path) -> LiteralString:
    # Query files are part of the package, never user input: their text is a literal.
    text: LiteralString = path.read_text(encoding="utf-8").strip()
    return text


class QueryRegistry:
    """All named queries, loaded once. ``registry()["nodes/get_by_ids"]``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        overrides: dict[str, dict[str, LiteralString]] = {}
        for dialect in _OVERRIDE_DIALECTS:
            droot = root / dialect
            for path in sorted(droot.rglob("*.cypher")):
                name = path.relative_to(droot).with_suffix("").as_posix()
                overrides.setdefault(name, {})[dialect] = _read(path)
        queries: dict[str, Query] = {}
        for path in sorted(root.rglob("*.cypher")):
            rel = path.relative_to(root)
            if rel.parts[0] in _OVERRIDE_DIALECTS:
                continue
            name = rel.with_suffix("").as_posix()
            queries[name] = Query(name, _read(path), overrides.pop(name, {}))
        if overrides:
            raise RuntimeError(f"dialect overrides without a base query: {sorted(overrides)}")
        self._queries = queries

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"no query named {name!r} in {self.root}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._queries

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def names(self) -> list[str]:
        return sorted(self._queries)


@cache
def registry() -> QueryRegistry:
    return QueryRegistry(cypher_dir())
