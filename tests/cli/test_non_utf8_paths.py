"""A store path whose bytes are no UTF-8 (``--store $'/tmp/\\xff'``: Python reads the byte as the
lone surrogate U+DCFF) in ``doctor``, through the real CLI on the embedded engine: ``--json``
wrote ``"\\udcff"``, an escape of no character (strict JSON readers refuse it), the table
``\\udcff``; now the table and the details quote the byte as every message does, ``\\xff``, and
``--json``'s ``store`` is the ``file://`` URI of the path, its bytes percent-encoded."""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

from lineage_graph import LineageStore

from .conftest import invoke

BYTE_NAME = os.fsdecode(b"st\xffre")


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def test_doctor_json_names_a_non_utf8_store_path_by_its_file_uri(tmp_path: Path) -> None:
    path = tmp_path / BYTE_NAME
    with LineageStore.open(path):
        pass
    result = invoke(["doctor", "--json", "--store", str(path)])
    assert result.exit_code == 0, result.output[-800:]
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    uri = report["store"]
    assert uri.startswith("file:///") and "%FF" in uri
    assert urllib.parse.unquote_to_bytes(urllib.parse.urlsplit(uri).path) == os.fsencode(path)
    details = {c["check"]: c["detail"] for c in report["checks"]}
    assert details["data directory"].startswith(f"{tmp_path!s}/st\\xffre")
    table = invoke(["doctor", "--store", str(path)])
    assert table.exit_code == 0, table.output[-800:]
    assert "st\\xffre" in table.stdout and "\\udcff" not in table.stdout


def test_doctor_json_percent_encodes_a_urls_non_utf8_bytes() -> None:
    result = invoke(["doctor", "--json", "--store", os.fsdecode(b"redis://h\xff:1")])
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    assert report["store"] == "redis://h%FF:1"


def test_doctor_json_names_a_missing_non_utf8_directory_so_too(tmp_path: Path) -> None:
    (tmp_path / BYTE_NAME).mkdir()
    (tmp_path / BYTE_NAME / "other").write_text("x")
    result = invoke(["doctor", "--json", "--store", str(tmp_path / BYTE_NAME)])
    assert result.exit_code == 1, result.output[-800:]
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    assert report["store"].endswith("/st%FFre")
