"""The adapter has ml_metadata's whole public surface, with the same parameters and defaults."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ml_metadata.metadata_store import metadata_store as mlmd

import lineage_graph.mlmd as ours_pkg
from lineage_graph.mlmd import MetadataStore

from .conftest import MLMD_METHODS, public_methods


def test_mlmd_has_49_public_methods() -> None:
    assert len(MLMD_METHODS) == 49


def test_every_mlmd_method_exists() -> None:
    missing = set(MLMD_METHODS) - set(public_methods(MetadataStore))
    assert not missing


@pytest.mark.parametrize("name", MLMD_METHODS)
def test_same_parameters_and_defaults(name: str) -> None:
    theirs = inspect.signature(getattr(mlmd.MetadataStore, name)).parameters
    ours = inspect.signature(getattr(MetadataStore, name)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]


@pytest.mark.parametrize("name", MLMD_METHODS)
def test_documented(name: str) -> None:
    assert inspect.getdoc(getattr(MetadataStore, name))


def test_constructor_parameters() -> None:
    theirs = inspect.signature(mlmd.MetadataStore.__init__).parameters
    ours = inspect.signature(MetadataStore.__init__).parameters
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()
    ]


def test_reexports_what_mlmd_users_import() -> None:
    assert ours_pkg.ListOptions is mlmd.ListOptions
    assert ours_pkg.OrderByField is mlmd.OrderByField
    assert ours_pkg.ExtraOptions is mlmd.ExtraOptions
    assert ours_pkg.errors.NotFoundError.__module__ == "ml_metadata.errors"
    assert ours_pkg.metadata_store_pb2.Artifact is ours_pkg.proto.Artifact


_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four"}


def test_the_package_offers_ml_metadatas_names_but_the_ones_the_guide_says_it_lacks() -> None:
    """`import ml_metadata as mlmd` becomes `import lineage_graph.mlmd as mlmd`: every public
    name of ml_metadata's package and of its `metadata_store` package is there, except the ones
    docs/mlmd-compatibility.md names (it listed the others only, and said nothing of these; then
    it said "two" and left out `version`, ml_metadata's module that holds `__version__`, which
    `mlmd.version.__version__` reads)."""
    from lineage_graph.mlmd import metadata_store as ours_module

    # The names a user sees after importing the packages, read in a fresh interpreter: in this
    # one, a package's dir() also lists every submodule any test imported (simple_types, tools).
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, ml_metadata, ml_metadata.metadata_store as m\n"
            "print(json.dumps([[n for n in dir(p) if not n.startswith('_') or n == '__version__']"
            " for p in (ml_metadata, m)]))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    theirs_names = json.loads(listed.stdout)
    lacking = {"downgrade_schema", "__version__", "version"}
    for names, ours in zip(theirs_names, (ours_pkg, ours_module), strict=True):
        missing = {n for n in names if not hasattr(ours, n)} - {"pywrap", "metadata_store"}
        assert missing <= lacking, missing
    guide = (Path(__file__).resolve().parents[2] / "docs" / "mlmd-compatibility.md").read_text()
    intro = " ".join(guide.split("## Opening a store")[0].split())
    assert all(f"`{name}`" in intro for name in lacking)
    assert f"The {_NUMBERS[len(lacking)]} other names of ml_metadata's package" in intro
