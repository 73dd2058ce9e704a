"""The adapter has ml_metadata's whole public surface, with the same parameters and defaults."""

from __future__ import annotations

import inspect

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
