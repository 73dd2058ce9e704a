"""Unicode bidirectional controls in stored text are shown as visible escapes by the CLI: a
uri "s3://x/\\u202egnp.exe" was printed as is, which a terminal shows as "s3://x/exe.png" (the
"Trojan Source" spoofing); --json keeps the exact value."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lineage_graph import Artifact, ArtifactType, LineageStore

from .conftest import invoke

BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
URI = "s3://x/\u202egnp.exe"
NAME = "model\u2067\u200f\u061c v2\u2069"


def test_bidi_controls_in_stored_text_are_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="M\u202d"))
        store.put_artifact(
            Artifact(type="M\u202d", uri=URI, name=NAME, custom_properties={"k\u202a": "v\u202c"})
        )
    for args in (["show", "1"], ["ls"], ["ls", "types"], ["upstream", "1"]):
        result = invoke([*args, "--store", str(path)])
        assert result.exit_code == 0, (args, result.output)
        assert not BIDI.search(result.output), (args, result.output)
    shown = invoke(["show", "1", "--store", str(path)]).stdout
    for text in ("s3://x/\\u202egnp.exe", "model\\u2067\\u200f\\u061c v2\\u2069", "k\\u202a"):
        assert text in shown, text
    data = json.loads(invoke(["show", "1", "--json", "--store", str(path)]).stdout)
    assert (data["uri"], data["name"]) == (URI, NAME)
