"""Orders of MLMD's reads that its API does not state, pinned against ml_metadata 1.17.1."""

from __future__ import annotations

from ml_metadata.proto import metadata_store_pb2 as pb

from .conftest import Both


def test_artifacts_and_types_list_the_types_in_first_use_order(both: Both) -> None:
    a = both.call("put_artifact_type", pb.ArtifactType(name="A"))
    b = both.call("put_artifact_type", pb.ArtifactType(name="B"))
    c = both.call("put_artifact_type", pb.ArtifactType(name="C"))
    both.call("put_artifacts", [pb.Artifact(type_id=t) for t in (b, a, c, b, a)])
    for asked in ([1, 2, 3], [3, 2, 1], [5, 3, 4], [4, 5], [2]):
        both.call("get_artifacts_and_types_by_artifact_ids", asked)


def test_an_empty_uri_finds_the_artifacts_stored_without_one(both: Both) -> None:
    t = both.call("put_artifact_type", pb.ArtifactType(name="A"))
    # unset, set to "", set to "x" and later cleared by a whole update: MLMD stores "" for all
    # but the third, and returns the uri field as "" for every one without a value
    both.call("put_artifacts", [pb.Artifact(type_id=t), pb.Artifact(type_id=t, uri="")])
    both.call("put_artifacts", [pb.Artifact(type_id=t, uri="x"), pb.Artifact(type_id=t, uri=" ")])
    both.call("put_artifacts", [pb.Artifact(id=3, type_id=t)])
    both.call("get_artifacts_by_uri", "")
    both.call("get_artifacts_by_uri", " ")
    both.call("get_artifacts_by_uri", "x")
