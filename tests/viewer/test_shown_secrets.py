"""The viewer's page is shared as a file: it shows stored values as the CLI's ``show`` does,
a secret-named property, a URL's password and a secret in a stored error masked."""

from __future__ import annotations

import json

from lineage_graph import Artifact, ArtifactType, Execution, ExecutionType, LineageStore
from lineage_graph.viewer import graph_from_store, graph_payload, to_html


def test_the_page_masks_stored_secrets(store: LineageStore) -> None:
    store.put_execution_type(ExecutionType(name="Fit"))
    store.put_artifact_type(ArtifactType(name="Data"))
    store.put_executions(
        [
            Execution(
                type="Fit",
                custom_properties={
                    "error": "ValueError: GET https://u:oldS3cret@h/x",
                    "api_key": "sk-Pl41n",
                    "token_count": 12,
                },
            )
        ]
    )
    store.put_artifacts([Artifact(type="Data", uri="https://u:uriS3cret@h")])
    graph = graph_from_store(store)
    payload = graph_payload(graph)
    page = to_html(graph)
    for secret in ("oldS3cret", "sk-Pl41n", "uriS3cret"):
        assert secret not in json.dumps(payload)
        assert secret not in page
    [execution] = [n for n in payload["nodes"] if n["kind"] == "execution"]
    assert execution["custom_properties"] == {
        "error": "ValueError: GET https://u:***@h/x",
        "api_key": "***",
        "token_count": 12,
    }
    [artifact] = [n for n in payload["nodes"] if n["kind"] == "artifact"]
    assert artifact["uri"] == "https://u:***@h"
