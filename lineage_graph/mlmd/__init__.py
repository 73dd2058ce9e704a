"""ml_metadata (MLMD) compatibility: existing MLMD code switches with one import line.

>>> from lineage_graph.mlmd import MetadataStore          # instead of ml_metadata's
>>> store = MetadataStore(connection_config)               # doctest: +SKIP

``from lineage_graph.mlmd import metadata_store`` (for ``from ml_metadata import
metadata_store``) and ``import lineage_graph.mlmd as mlmd`` (for ``import ml_metadata as
mlmd``) switch code that calls ``metadata_store.MetadataStore`` / ``mlmd.MetadataStore``.

``MetadataStore`` has all 49 public methods of ``ml_metadata.MetadataStore`` 1.17.1 with the same
arguments, protos and ``ml_metadata.errors``. ``config`` may be an open
:class:`~lineage_graph.LineageStore`, a store target (``"memory"``, a directory, a Neo4j URI) or
MLMD's ``ConnectionConfig``. Needs the ``[mlmd]`` extra (``ml-metadata>=1.17.1,<1.18``).
See docs/mlmd-compatibility.md for every deliberate difference.
"""

from __future__ import annotations

try:
    from ml_metadata import errors, proto
    from ml_metadata.metadata_store.metadata_store import ExtraOptions, ListOptions, OrderByField
    from ml_metadata.proto import metadata_store_pb2
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "lineage_graph.mlmd needs ml-metadata: pip install 'lineage-graph[mlmd]'"
    ) from exc

from . import metadata_store
from ._store import MetadataStore

__all__ = [
    "ExtraOptions",
    "ListOptions",
    "MetadataStore",
    "OrderByField",
    "errors",
    "metadata_store",
    "metadata_store_pb2",
    "proto",
]
