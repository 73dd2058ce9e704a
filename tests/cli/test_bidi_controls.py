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


#: Invisible characters: zero width space, word joiner, BOM, soft hyphen, Mongolian vowel
#: separator, a tag character, the line and paragraph separators, a variation selector.
INVISIBLE = "\u200b\u2060\ufeff\u00ad\u180e\U000e0041\u2028\u2029\ufe0f"
INVISIBLE_SHOWN = "\\u200b\\u2060\\ufeff\\xad\\u180e\\U000e0041\\u2028\\u2029\\ufe0f"


def test_invisible_characters_in_stored_text_are_shown_escaped(tmp_path: Path) -> None:
    """A zero width or other invisible character was printed as it is, that is as nothing:
    "s3://bu\\u200bcket/data" read exactly as "s3://bucket/data" in ls and show, two artifacts
    no one could tell apart. Each is now a visible escape (as a bidi control is); --json keeps
    the exact value."""
    path = tmp_path / "store"
    uri = "s3://bu\u200bcket/data"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifacts(
            [
                Artifact(type="D", uri="s3://bucket/data"),
                Artifact(type="D", uri=uri),
                Artifact(type="D", uri="s3://x", name=f"n{INVISIBLE}"),
            ]
        )
    listed = invoke(["ls", "--store", str(path)]).stdout
    assert "s3://bucket/data" in listed and "s3://bu\\u200bcket/data" in listed
    for args in (["show", "2"], ["show", "3"], ["ls"], ["upstream", "3"]):
        result = invoke([*args, "--store", str(path)])
        assert result.exit_code == 0, (args, result.output)
        assert not any(c in result.output for c in INVISIBLE), (args, result.output)
    assert "s3://bu\\u200bcket/data" in invoke(["show", "2", "--store", str(path)]).stdout
    assert f"n{INVISIBLE_SHOWN}" in invoke(["show", "3", "--store", str(path)]).stdout
    data = json.loads(invoke(["show", "3", "--json", "--store", str(path)]).stdout)
    assert data["name"] == f"n{INVISIBLE}"
    assert json.loads(invoke(["show", "2", "--json", "--store", str(path)]).stdout)["uri"] == uri


#: Names a script needs a joiner in, and the same letters without it (drawn differently):
#: Persian "ketab-ha" and "mi-khaham" (ZWNJ: the letters do not join), a Devanagari half form
#: (virama, ZWJ), Sinhala "shri" (virama, ZWJ), the ZWNJ after a vowel mark (skipped).
SCRIPT_JOINERS = (
    "\u06a9\u062a\u0627\u0628\u200c\u0647\u0627",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "\u0915\u094d\u200d\u0937",
    "\u0dc1\u0dca\u200d\u0dbb\u0dd3",
    "\u0628\u064e\u200c\u0647",
)
#: Joiners that draw nothing where they are: between Latin letters, between emoji, after an
#: alef (which joins nothing after it), at the ends.
IDLE_JOINERS = {
    "s3://bu\u200ccket": "s3://bu\\u200ccket",
    "s3://bu\u200dcket": "s3://bu\\u200dcket",
    "\U0001f468\u200d\U0001f469": "\U0001f468\\u200d\U0001f469",
    "\u0627\u200c\u0628": "\u0627\\u200c\u0628",
    "\u200c\u0628\u200c": "\\u200c\u0628\\u200c",
    "\u0628\u200d\u0647": "\u0628\\u200d\u0647",
    # a format character between: shown "\\u200b", it joins nothing to either side
    "\u0628\u200b\u200c\u0647": "\u0628\\u200b\\u200c\u0647",
    "\u0628\u200c\u202e\u0647": "\u0628\\u200c\\u202e\u0647",
}


def test_a_joiner_a_script_needs_is_printed_as_it_is(tmp_path: Path) -> None:
    r"""A zero width non-joiner or joiner was printed as an escape wherever it was: every
    Persian name with a ZWNJ (the plural "-ha", the verb prefix "mi-": standard spelling) read
    "\u06a9\u062a\u0627\u0628\u200c\u0647\u0627" with a literal "\u200c", an Indic
    conjunct's ZWJ the same. Where it changes how the text is drawn (RFC 5892's CONTEXTJ rule:
    after a virama; a ZWNJ between letters that join across it) it is printed as it is: the
    name reads as written, told apart from the one without it by the drawing itself. Anywhere
    else it is still an escape (s3://bu\u200ccket)."""
    from lineage_graph._text import printable

    for text in SCRIPT_JOINERS:
        assert printable(text) == text
    for text, shown in IDLE_JOINERS.items():
        assert printable(text) == shown
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifacts(
            [Artifact(type="D", uri=f"s3://x/{i}", name=n) for i, n in enumerate(SCRIPT_JOINERS)]
            + [Artifact(type="D", uri=uri) for uri in IDLE_JOINERS]
        )
    listed = invoke(["ls", "--store", str(path)]).stdout
    for text in SCRIPT_JOINERS:
        assert text in listed, (text, listed)
    assert "s3://bu\\u200ccket" in listed and "\U0001f468\\u200d\U0001f469" in listed
