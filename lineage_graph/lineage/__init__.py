"""Lineage: traversal, its result value, impact analysis and comparisons.

The public names are re-exported by :mod:`lineage_graph`; the modules here are private.
"""

from ._filter import LineageNode, NodeFilter, NodeRef
from ._graph import LineageGraph
from ._impact import ArtifactDiff, ImpactMark, ImpactReport, LineageDiff

__all__ = [
    "ArtifactDiff",
    "ImpactMark",
    "ImpactReport",
    "LineageDiff",
    "LineageGraph",
    "LineageNode",
    "NodeFilter",
    "NodeRef",
]
