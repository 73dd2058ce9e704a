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

import pytest

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


def test_demo_next_commands_name_a_non_utf8_dir_as_a_shell_reads_it(tmp_path: Path) -> None:
    """The "next, try" panel quoted ``--dir $'d\\xff'`` with ``shlex.quote`` as
    ``'d\\udcff/store'``, which a shell reads as another directory (and its border stood out
    of line); it is bash's ``$'…'`` now, the byte as ``\\xff``, which pastes to the store."""
    import re
    import subprocess

    workdir = tmp_path / BYTE_NAME
    result = invoke(["demo", "--dir", str(workdir)])
    assert result.exit_code == 0, result.output[-800:]
    lines = [line for line in result.stdout.splitlines() if "lineage-graph upstream" in line]
    assert lines, result.stdout[-800:]
    word = re.search(r"--store (\$'[^']*')", lines[0])
    assert word is not None, lines[0]
    assert "\\xff" in word.group(1) and "\\udcff" not in result.stdout
    shell = subprocess.run(
        ["bash", "-c", f"printf %s {word.group(1)}"], capture_output=True, timeout=30, check=True
    )
    assert shell.stdout == os.fsencode(workdir / "store")


@pytest.mark.parametrize(
    "target",
    [b"neo4j:s3cret@h\xff:1", b"d\xff/password=s3cret"],
    ids=["a URL whose // was forgotten", "a directory named like a secret"],
)
def test_doctor_json_keeps_a_masked_password_masked_beside_a_non_utf8_byte(
    tmp_path: Path, target: bytes
) -> None:
    """``--json``'s ``store`` of a target with a byte that is no UTF-8 was the ``file://`` URI of
    the target as given, a password every other output masks included
    (``file:///…/neo4j%3As3cret%40h%FF%3A1``): it is the masked text, that byte
    percent-encoded."""
    if not target.startswith(b"neo4j:"):
        target = os.fsencode(tmp_path) + b"/" + target
    result = invoke(["doctor", "--json", "--store", os.fsdecode(target)])
    assert result.exit_code == 1, result.output[-800:]
    assert "s3cret" not in result.stdout and "s3cret" not in result.stderr
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert not _has_lone_surrogate(report), report
    assert "***" in report["store"] and "%FF" in report["store"], report["store"]


@pytest.mark.parametrize(
    ("name", "charset"),
    [("zw\u200bsp", "utf-8"), ("donn\u00e9es", "ascii")],
    ids=["an invisible character", "an accent on an ASCII stdout"],
)
def test_demo_next_commands_paste_to_the_store_in_a_c_locale_bash(
    tmp_path: Path, name: str, charset: str
) -> None:
    """The "next, try" panel wrote a character it escapes as bash's ``$'\\u200b'`` (and, on an
    ASCII stdout, ``é`` as ``$'\\u00e9'``), which bash reads in its locale's encoding: in the C
    locale, a container's default, it kept the six characters, another directory. Each is the
    path's own bytes now (``\\xe2\\x80\\x8b``), which bash reads alike in every locale."""
    import re
    import subprocess

    from typer.testing import CliRunner

    from lineage_graph.cli import app

    from .conftest import BASE_ENV

    workdir = tmp_path / name
    result = CliRunner(charset=charset).invoke(app, ["demo", "--dir", str(workdir)], env=BASE_ENV)
    assert result.exit_code == 0, result.output[-800:]
    lines = [line for line in result.stdout.splitlines() if "lineage-graph upstream" in line]
    assert lines, result.stdout[-800:]
    word = re.search(r"--store (\$'[^']*')", lines[0])
    assert word is not None, lines[0]
    for locale in ("C", "C.UTF-8"):
        shell = subprocess.run(
            ["bash", "-c", f"printf %s {word.group(1)}"],
            capture_output=True,
            timeout=30,
            check=True,
            env={"PATH": os.environ["PATH"], "LC_ALL": locale},
        )
        assert shell.stdout == os.fsencode(workdir / "store"), (locale, word.group(1))
