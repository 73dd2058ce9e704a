"""Values FalkorDB's string index cannot find (``indexable()`` is False: "", ASCII whitespace at
an end, U+0001 inside) are still found by every lookup, exactly as real MLMD finds them (text
over 4,096 bytes, which the index misses too, is refused by writes: test_indexed_text.py).

The index silently misses them (tests/embedded/test_index_blind.py measures it); a lookup that
trusted it would answer ``[]`` for an artifact that is there.
"""

from __future__ import annotations

import pytest

pytest.importorskip("ml_metadata.metadata_store.metadata_store")

from ml_metadata.metadata_store import ListOptions
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph._encoding import indexable

from .conftest import Both

BLIND = ["", " lead", "trail ", "tab\t", "new\nline\n", "a\x01b", "\x01", " ", "\r7\r", " 7 ", "9 "]
PLAIN = ["s3://ok", "a b", "é/中", "p" * 4096]


def _artifacts(b: Both) -> None:
    t = pb.ArtifactType(name="Blob")
    t.properties["digest"] = pb.STRING
    tid = b.call("put_artifact_type", t)
    arts = []
    for i, uri in enumerate(BLIND + PLAIN):
        a = pb.Artifact(type_id=tid, uri=uri)
        a.properties["digest"].string_value = uri
        a.custom_properties["n"].int_value = i
        arts.append(a)
    b.call("put_artifacts", arts)


def _quoted(value: str) -> str:
    assert '"' not in value and "\\" not in value
    return f'"{value}"'


def test_the_values_are_the_blind_ones() -> None:
    assert not any(map(indexable, BLIND))
    assert all(map(indexable, PLAIN))


def test_get_artifacts_by_uri_finds_every_uri(both: Both) -> None:
    _artifacts(both)
    for uri in BLIND + PLAIN:
        got = both.call("get_artifacts_by_uri", uri)
        assert got or uri == "", f"no artifact for {uri!r}"


def test_filter_equality_and_in_find_every_value(both: Both) -> None:
    _artifacts(both)
    # MLMD's filter never matches a raw control character (tab, LF, U+0001...) inside a string
    # literal (it answers [] even for a stored value): those go through get_artifacts_by_uri.
    for value in [v for v in BLIND + PLAIN if all(c >= " " for c in v)]:
        for query in (
            f"uri = {_quoted(value)}",
            f'uri IN ({_quoted(value)}, "nope")',
            f"properties.digest.string_value = {_quoted(value)}",
        ):
            both.call("get_artifacts", list_options=ListOptions(filter_query=query))
    # LIKE without a wildcard nor a letter to fold is an equality too.
    for value in (" ", " 7 ", "9 "):
        query = f"uri LIKE {_quoted(value)}"
        assert both.call("get_artifacts", list_options=ListOptions(filter_query=query)), query
