"""A NUL in a lookup never reaches the embedded server: it reads the statement as a C string,
so a NUL in a parameter (sent in a header before the query) cut the statement there and the
lookup failed as QueryError "Invalid input at end of input". Now InvalidArgumentError, before
anything is sent; the store answers as before afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lineage_graph import Artifact, ArtifactType, InvalidArgumentError, LineageStore, NodeKind


@pytest.fixture(scope="module")
def store() -> Iterator[LineageStore]:
    with LineageStore.open("memory") as s:
        s.put_artifact_type(ArtifactType(name="T"))
        s.put_artifacts([Artifact(type="T", uri="a", name="a", external_id="e")])
        yield s


LOOKUPS: dict[str, Callable[[LineageStore], Any]] = {
    "uri": lambda s: s.get_artifacts_by_uri("a\x00b"),
    "name": lambda s: s.get_artifact_by_type_and_name("T", "a\x00"),
    "external id": lambda s: s.get_artifacts_by_external_ids(["e\x00"]),
    "type external id": lambda s: s.get_types_by_external_ids(NodeKind.ARTIFACT, ["\x00"]),
}


@pytest.mark.parametrize("lookup", list(LOOKUPS), ids=list(LOOKUPS))
def test_a_nul_in_a_lookup_is_invalid_argument(store: LineageStore, lookup: str) -> None:
    with pytest.raises(InvalidArgumentError, match="NUL"):
        LOOKUPS[lookup](store)
    assert [a.uri for a in store.get_artifacts_by_uri("a")] == ["a"]
