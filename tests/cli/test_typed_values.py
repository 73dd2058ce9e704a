"""Typed option values and how refusals quote them: a number past a double's range (and, for a
value written by ``impact --mark``, NaN and the infinities) is a bad command line (exit 2), as
is an integer of more digits than any property holds; a byte of the command line that is no
UTF-8 is quoted as typed (``\\xff``), never as Python's ``\\udcff``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage_graph import LineageStore
from lineage_graph.models import Artifact, ArtifactType, Execution, ExecutionType

from .conftest import invoke


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LineageStore]:
    with LineageStore.open(tmp_path / "store") as opened:
        opened.put_type(ArtifactType(name="Data"))
        opened.put_type(ExecutionType(name="T", properties={"C": "DOUBLE"}))
        opened.put_artifacts([Artifact(type="Data", name="d", uri="/d")])
        opened.put_executions([Execution(type="T", properties={"C": 1.0})])
        yield opened


def _said(text: str) -> str:
    """``text`` with its line breaks and box drawing (a usage error's panel) taken out."""
    return " ".join(text.replace("│", " ").split())


@pytest.mark.parametrize(
    "value",
    ["1e999", "-1e999", "NaN", "Infinity", "-Infinity", '{"a": 1e999}', '{"a": [NaN]}'],
)
def test_a_mark_of_no_finite_number_is_refused(
    store: LineageStore, tmp_path: Path, value: str
) -> None:
    """``impact --mark q=1e999`` marked every affected artifact with +infinity (``json`` reads
    the number so without a word), ``q=NaN`` with NaN, exit 0: now exit 2, nothing marked."""
    result = invoke(["impact", "1", "--mark", f"q={value}", "--store", str(tmp_path / "store")])
    assert result.exit_code == 2, result.output
    assert "--mark q:" in result.stderr and "undo-mark" not in result.output, result.output
    assert store.get_artifacts_by_id([1])[0].custom_properties == {}


def test_a_finite_mark_is_still_written(store: LineageStore, tmp_path: Path) -> None:
    path = str(tmp_path / "store")
    result = invoke(
        ["impact", "1", "--mark", 'q={"a": 1.5e3, "b": "NaN"}', "--json", "--store", path]
    )
    assert result.exit_code == 0, result.output
    assert store.get_artifacts_by_id([1])[0].custom_properties == {"q": {"a": 1500.0, "b": "NaN"}}
    token = json.loads(result.stdout)["mark_token"]
    assert invoke(["undo-mark", token, "--store", path]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["upstream", "1", "--where", "C=1e999"], "--where C: 1e999 is outside the range"),
        (["upstream", "1", "--where", "C=-1e999"], "--where C: -1e999 is outside the range"),
        (["cached", "T", "-i", "1", "-p", "C=1e999"], "--property C: 1e999 is outside the range"),
        (["upstream", "1", "--where", "C=-1e-400"], "--where C: -1e-400 is too small"),
        (["impact", "1", "--mark", "q=1.5e-400"], "--mark q: 1.5e-400 is too small"),
        # more digits than Python converts: a ValueError traceback, exit 70
        (["upstream", "1", "--where", "C=1" + "0" * 5000], "--where C: the number is outside"),
        (["cached", "T", "-i", "1", "-p", "C=-1" + "0" * 5000], "--property C: the number is"),
    ],
    ids=lambda v: v[-1][:24] if isinstance(v, list) else None,
)
def test_a_filter_of_a_number_no_property_holds_is_refused(
    store: LineageStore, tmp_path: Path, args: list[str], said: str
) -> None:
    result = invoke([*args, "--store", str(tmp_path / "store")])
    assert result.exit_code == 2, result.output
    assert said in _said(result.stderr), result.stderr


def test_a_filter_still_takes_nan_and_infinity(store: LineageStore, tmp_path: Path) -> None:
    """``--where loss=NaN`` finds a stored NaN (documented); ``Infinity`` likewise is a value a
    property may hold, given as such, not a number that overflowed."""
    for value in ("NaN", "Infinity", "-Infinity"):
        result = invoke(
            ["upstream", "1", "--where", f"C={value}", "--store", str(tmp_path / "store")]
        )
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "value",
    ["3e4008c", "1e-400x", "NaN-check", "Infinity war", '{"a": 1e999', "1" * 5000 + "x"],
    ids=lambda value: value[:12],
)
def test_text_beginning_like_a_number_is_text(
    store: LineageStore, tmp_path: Path, value: str
) -> None:
    """VALUE is read as JSON "or else as text" (docs/cli.md): a text whose head reads as a
    number no double holds, or as NaN (a short commit ``3e4008c``), is text, as it was. json
    reads the number before it sees the rest, so it was refused (exit 2) as out of range."""
    path = str(tmp_path / "store")
    marked = invoke(["impact", "1", "--mark", f"q={value}", "--store", path])
    assert marked.exit_code == 0, marked.output
    assert store.get_artifacts_by_id([1])[0].custom_properties == {"q": value}
    found = invoke(["upstream", "1", "--where", f"q={value}", "--json", "--store", path])
    assert found.exit_code == 0, found.output
    assert [a["id"] for a in json.loads(found.stdout)["artifacts"]] == [1]
    missed = invoke(["cached", "T", "-i", "1", "-p", f"C={value}", "--store", path])
    assert missed.exit_code == 1, missed.output  # a miss, not a bad value


@pytest.mark.parametrize(
    "args",
    [
        ["upstream", "1", "--state", "\udcff"],
        ["upstream", "1", "--stop-at-state", "\udcff"],
        ["impact", "1", "--mark-state", "\udcff"],
        ["ls", "\udcff"],
        ["ls", "--state", "\udcff"],
        ["upstream", "1", "--kind", "\udcff"],
        ["upstream", "1", "--as-of", "\udcff"],
        ["upstream", "1", "--only", "\udcff"],  # click's own refusal
        ["export", "1", "-f", "\udcff"],
        ["--show-completion", "\udcff"],
    ],
    ids=lambda args: " ".join(a.encode("utf-8", "surrogateescape").hex() for a in args),
)
def test_a_refusal_quotes_bytes_as_typed(
    store: LineageStore, tmp_path: Path, args: list[str]
) -> None:
    """``--state $'\\xff'``: "unknown state '\\udcff'", a character the user never typed."""
    result = invoke([*args, "--store", str(tmp_path / "store")])
    assert result.exit_code == 2, result.output
    assert "'\\xff'" in result.stderr and "udc" not in result.stderr, result.stderr


def test_a_path_is_shown_with_its_bytes_as_typed(store: LineageStore, tmp_path: Path) -> None:
    """A ``--store`` or ``-o`` path of bytes that are no UTF-8 is said with them as ``\\xff``."""
    missing = invoke(["show", "1", "--store", str(tmp_path / "no\udcff")])
    assert missing.exit_code == 4, missing.output
    assert "no\\xff" in missing.stderr and "udc" not in missing.stderr, missing.stderr
    written = invoke(
        ["export", "1", "-o", str(tmp_path / "g\udcff.json"), "--store", str(tmp_path / "store")]
    )
    assert written.exit_code == 0, written.output
    assert "g\\xff.json" in written.output and "udc" not in written.output, written.output
    assert (tmp_path / "g\udcff.json").is_file()


def test_a_mysql_source_of_bytes_no_utf8_is_refused(tmp_path: Path) -> None:
    """``import-mlmd mysql://u:p@h$'\\xff'/db``: a UnicodeEncodeError traceback (exit 70)."""
    pytest.importorskip("ml_metadata")
    result = invoke(
        ["import-mlmd", "mysql://u:S3cret@h\udcff:3306/db", "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 5, result.output
    assert "not UTF-8" in result.stderr and "S3cret" not in result.output, result.output
    assert not (tmp_path / "s").exists()


def test_stored_text_is_shown_as_stored(tmp_path: Path) -> None:
    """A struct a store holds may have a lone surrogate (one written before the store refused
    them there, as it refuses one in plain text: the stored JSON escapes it): ``show`` printed
    it ``\\xff``, the escape of another character (``ÿ`` on an ASCII stdout) and not what
    ``--json`` says; only the command line's bytes are shown as typed."""
    with LineageStore.open(tmp_path / "store") as opened:
        opened.put_type(ArtifactType(name="Data"))
        opened.put_artifacts([Artifact(type="Data", uri="/d", custom_properties={"q": {"a": "x"}})])
        # as such a store holds it: the struct's JSON with the escape
        opened.backend.write("MATCH (n:Artifact) SET n.cj__q = $json", {"json": '{"a": "\\udcff"}'})
        shown = invoke(["show", "1", "--store", str(tmp_path / "store")])
        assert shown.exit_code == 0, shown.output
        assert '{"a": "\\udcff"}' in shown.stdout and "\\xff" not in shown.stdout, shown.stdout
