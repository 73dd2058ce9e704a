"""An option that takes one value, given twice, is a bad command line (exit 2): click kept the
last value and dropped the other without a word (``ls -t Data -t Model`` listed the Models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lineage_graph import LineageStore
from lineage_graph.models import Artifact, ArtifactType

from .conftest import invoke


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_type(ArtifactType(name="Data"))
        store.put_type(ArtifactType(name="Model"))
        store.put_artifacts(
            [Artifact(type="Data", name="d", uri="/d"), Artifact(type="Model", name="m", uri="/m")]
        )
    return path


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["ls", "--type", "Data", "--type", "Model"], "--type"),
        (["ls", "-t", "Data", "-t", "Model"], "--type"),
        (["ls", "-n", "1", "--limit", "2"], "--limit"),
        (["ls", "--name=d", "--name", "m"], "--name"),
        (["show", "1", "-k", "e", "--kind", "a"], "--kind"),
        (["upstream", "1", "--depth", "1", "-d", "2"], "--depth"),
        (["export", "-f", "dot", "--format", "json"], "--format"),
        (
            ["cached", "T", "-i", "1", "--type-version", "1", "--type-version", "2"],
            "--type-version",
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_a_single_valued_option_given_twice_is_exit_2(
    store_path: Path, args: list[str], option: str
) -> None:
    as_json = [] if args[0] == "export" else ["--json"]  # export prints JSON by default
    result = invoke([*args, *as_json, "--store", str(store_path)])
    assert result.exit_code == 2, result.output
    assert f"{option} is given 2 times" in result.stderr and result.stdout == ""


def test_store_given_twice_is_exit_2(store_path: Path, tmp_path: Path) -> None:
    result = invoke(["ls", "--store", str(tmp_path / "other"), "--store", str(store_path)])
    assert result.exit_code == 2, result.output
    assert "--store is given 2 times" in result.stderr
    assert not (tmp_path / "other").exists()


def test_flags_twice_repeatable_options_and_help_pass(store_path: Path) -> None:
    listed = invoke(["ls", "--json", "--json", "--store", str(store_path)])
    assert listed.exit_code == 0, listed.output
    assert [a["name"] for a in json.loads(listed.stdout)] == ["d", "m"]
    walked = invoke(["upstream", "1", "-t", "Data", "-t", "Model", "--store", str(store_path)])
    assert walked.exit_code == 0, walked.output
    helped = invoke(["ls", "-h", "--type", "a", "--type", "b"])
    assert helped.exit_code == 0 and "--type" in helped.stdout


def test_import_mlmd_store_given_twice_is_exit_2(tmp_path: Path) -> None:
    # import-mlmd was registered without the check: it imported into the last --store given
    # (exit 0), the other dropped without a word
    source = tmp_path / "mlmd.sqlite"
    first, second = tmp_path / "first", tmp_path / "second"
    result = invoke(["import-mlmd", str(source), "--store", str(first), "--store", str(second)])
    assert result.exit_code == 2, result.output
    assert "--store is given 2 times" in result.stderr and result.stdout == ""
    assert not first.exists() and not second.exists()
