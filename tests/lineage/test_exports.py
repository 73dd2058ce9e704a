"""LineageGraph's exports (to_dict / to_json / to_networkx) of awkward property values."""

from __future__ import annotations

import json
import math

from lineage_graph import LineageStore, ProtoValue


def test_nan_infinity_and_binary_protos_survive_every_export(store: LineageStore) -> None:
    """A DOUBLE is stored NaN / +-inf losslessly, but to_dict / to_json / to_networkx (pydantic's
    JSON mode) turned all three into null, and a proto_value whose bytes are not UTF-8 (most
    real messages) raised UnicodeDecodeError from every export, ``export --format json`` too.
    They are now written as the CLI and the viewer write them."""
    proto = ProtoValue(type_url="type.googleapis.com/x.Y", value=b"\x08\x96\x01\xff")
    with store.run("Trainer") as run:
        model = run.output(
            "Model",
            uri="s3://b/m",
            properties={
                "nan": math.nan,
                "inf": math.inf,
                "ninf": -math.inf,
                "proto": proto,
                "big": 2**62,
            },
        )
    graph = store.upstream(model)
    expected = {
        "nan": "NaN",
        "inf": "Infinity",
        "ninf": "-Infinity",
        "proto": {"type_url": proto.type_url, "value_base64": "CJYB/w=="},
        "big": 2**62,
    }
    (row,) = [a for a in graph.to_dict()["artifacts"] if a["id"] == model.id]
    assert row["properties"] == expected
    (row,) = [a for a in json.loads(graph.to_json())["artifacts"] if a["id"] == model.id]
    assert row["properties"] == expected
    attrs = graph.to_networkx().nodes[f"artifact:{model.id}"]
    assert attrs["properties"] == expected and attrs["uri"] == "s3://b/m"
