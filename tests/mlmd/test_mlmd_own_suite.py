"""ml_metadata 1.17.1's own test suite, run against the adapter.

The ml-metadata wheel ships MLMD's tests of its Python ``MetadataStore``
(``ml_metadata/metadata_store/metadata_store_test.py``: 108 tests of puts, gets, filters,
lineage and errors). Its module is imported as it is, with ``ml_metadata.MetadataStore`` being
``lineage_graph.mlmd.MetadataStore`` while it loads (its parameterized tests take
``mlmd.MetadataStore.put_artifact_type`` and the like then) and its ``mlmd`` name pointing at a
namespace whose ``MetadataStore`` is the adapter afterwards, so every
``mlmd.MetadataStore(connection_config)`` in those tests opens the adapter (its SQLite config
without a file: an in-memory embedded store). Nothing of MLMD's tests is copied or changed; the
two it marks itself as failing (``xfail``, not run: schema upgrades of a SQLite file) stay so.
"""

from __future__ import annotations

import importlib
import types

import pytest

ml_metadata = pytest.importorskip("ml_metadata")

from lineage_graph.mlmd import MetadataStore  # noqa: E402


def _load_with_the_adapter() -> types.ModuleType:
    real = ml_metadata.MetadataStore
    ml_metadata.MetadataStore = MetadataStore
    try:
        module = importlib.import_module("ml_metadata.metadata_store.metadata_store_test")
    finally:
        ml_metadata.MetadataStore = real
    names = {k: v for k, v in vars(ml_metadata).items() if not k.startswith("__")}
    module.mlmd = types.SimpleNamespace(**{**names, "MetadataStore": MetadataStore})
    return module


own = _load_with_the_adapter()


@pytest.fixture(scope="class")
def cli_args(request: pytest.FixtureRequest) -> None:
    """MLMD's conftest reads these from its own command-line options: no gRPC server."""
    assert request.cls is not None
    request.cls.cli_args = {"use_grpc_backend": False, "grpc_host": None, "grpc_port": 0}


class TestMlmdOwnSuite(own.MetadataStoreTest):  # type: ignore[misc,name-defined]
    """Every test of ml_metadata's ``MetadataStoreTest``, on ``lineage_graph.mlmd``."""

    def test_it_runs_on_the_adapter(self) -> None:
        store = own._get_metadata_store(self.cli_args)
        assert isinstance(store, MetadataStore)
