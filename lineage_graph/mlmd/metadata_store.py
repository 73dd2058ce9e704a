"""The adapter under ml_metadata's module name, so code written as MLMD's getting-started guide
writes it switches with its one import line:

>>> # from ml_metadata import metadata_store
>>> from lineage_graph.mlmd import metadata_store
>>> store = metadata_store.MetadataStore(connection_config)  # doctest: +SKIP

It holds what ``ml_metadata.metadata_store`` holds but ``downgrade_schema`` (a lineage-graph
store migrates its own schema) and ``pywrap``.
"""

from __future__ import annotations

from ml_metadata.metadata_store.metadata_store import ExtraOptions, ListOptions, OrderByField

from ._store import MetadataStore

__all__ = ["ExtraOptions", "ListOptions", "MetadataStore", "OrderByField"]
