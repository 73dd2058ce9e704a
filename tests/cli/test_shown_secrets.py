"""What ``show`` and the listings print of stored values: never a secret. A value stored
before the masking existed (a run's ``error``), or by another writer (a property named
``api_key``, a URL holding its password), is masked as it is shown; ordinary values are shown
as stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lineage_graph import Artifact, ArtifactType, Execution, ExecutionType, LineageStore

from .conftest import invoke

SECRETS = ("sk-Pl41n", "oldS3cret", "dbS3cret", "uriS3cret", "ghp_S3cret", "hunter2")


def _store(path: Path) -> tuple[int, int]:
    with LineageStore.open(path) as s:
        s.put_execution_type(ExecutionType(name="Old"))
        s.put_artifact_type(ArtifactType(name="Data"))
        [xid] = s.put_executions(
            [
                Execution(
                    type="Old",
                    custom_properties={
                        # as a run's failure was stored before its error was masked
                        "error": "ValueError: GET https://u:oldS3cret@h/x (password: hunter2)",
                        "api_key": "sk-Pl41n",
                        "GITHUB_PAT": "ghp_S3cret",
                        "db_url": "postgresql://u:dbS3cret@db/x",
                        "token_count": 12,
                        "max_tokens": 4096,
                        "use_auth": True,
                        "config": {"db": {"password": "dbS3cret", "host": "db"}},
                    },
                )
            ]
        )
        [aid] = s.put_artifacts([Artifact(type="Data", uri="https://u:uriS3cret@h/data.csv")])
    return xid, aid


def test_show_and_listings_mask_stored_secrets(tmp_path: Path) -> None:
    path = tmp_path / "store"
    xid, aid = _store(path)
    store = ["--store", str(path)]
    outputs = {
        "show": invoke(["show", str(xid), "--kind", "execution", *store]),
        "show --json": invoke(["show", str(xid), "--kind", "execution", "--json", *store]),
        "ls --json": invoke(["ls", "executions", "--json", *store]),
        "show artifact": invoke(["show", str(aid), *store]),
        "ls artifacts": invoke(["ls", "artifacts", *store]),
        "ls artifacts --json": invoke(["ls", "artifacts", "--json", *store]),
    }
    for what, result in outputs.items():
        assert result.exit_code == 0, (what, result.output)
        for secret in SECRETS:
            assert secret not in result.stdout, (what, secret, result.stdout)
    shown = json.loads(outputs["show --json"].stdout)["custom_properties"]
    assert shown == {
        "error": "ValueError: GET https://u:***@h/x (password: ***)",
        "api_key": "***",
        "GITHUB_PAT": "***",
        "db_url": "postgresql://u:***@db/x",
        "token_count": 12,
        "max_tokens": 4096,
        "use_auth": True,
        "config": {"db": {"password": "***", "host": "db"}},
    }
    [artifact] = json.loads(outputs["ls artifacts --json"].stdout)
    assert artifact["uri"] == "https://u:***@h/data.csv"
    assert "token_count  12" in outputs["show"].stdout


def test_compare_masks_the_secrets_it_prints(tmp_path: Path) -> None:
    """``compare`` printed both artifacts' differing values as stored: a secret-named
    property's and a URL's password in the uri."""
    path = tmp_path / "store"
    with LineageStore.open(path) as s:
        s.put_artifact_type(ArtifactType(name="Data"))
        s.put_artifacts(
            [
                Artifact(
                    type="Data",
                    uri="https://u:uriS3cret@h/a.csv",
                    custom_properties={"api_key": "sk-Pl41n", "rows": 1},
                ),
                Artifact(
                    type="Data",
                    uri="https://u:ghp_S3cret@h/b.csv",
                    custom_properties={"api_key": "dbS3cret", "rows": 2},
                ),
            ]
        )
    for extra in ([], ["--json"]):
        result = invoke(["compare", "1", "2", *extra, "--store", str(path)])
        assert result.exit_code == 0, result.output
        for secret in SECRETS:
            assert secret not in result.stdout, (extra, secret, result.stdout)
        assert "https://u:***@h/a.csv" in result.stdout
    shown = json.loads(result.stdout)
    assert shown["custom_properties"] == {"api_key": ["***", "***"], "rows": [1, 2]}


def test_lineage_commands_and_drawings_mask_a_uri_password(tmp_path: Path) -> None:
    """An artifact's uri holding a password was printed whole by ``impact``'s summary and
    drawn whole by ``export -f mermaid`` / ``-f dot`` (``LineageGraph.to_mermaid`` /
    ``to_dot``), as by ``upstream``'s and ``downstream``'s trees."""
    from lineage_graph import Event, EventType

    path = tmp_path / "store"
    with LineageStore.open(path) as s:
        s.put_artifact_type(ArtifactType(name="Data"))
        s.put_execution_type(ExecutionType(name="Fit"))
        s.put_execution(
            Execution(type="Fit"),
            [
                (
                    Artifact(type="Data", uri="https://u:uriS3cret@h/a.csv"),
                    Event(type=EventType.INPUT),
                ),
                (Artifact(type="Data", uri="s3://k:ghp_S3cret@b/m"), Event(type=EventType.OUTPUT)),
            ],
        )
    store = ["--store", str(path)]
    for args in (
        ["impact", "1"],
        ["downstream", "1"],
        ["upstream", "2"],
        ["export", "1", "-f", "mermaid", "-o", "-"],
        ["export", "1", "-f", "dot", "-o", "-"],
    ):
        result = invoke([*args, *store])
        assert result.exit_code == 0, (args, result.output)
        for secret in SECRETS:
            assert secret not in result.stdout, (args, secret, result.stdout)


def test_an_unexpected_error_s_traceback_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A defect's traceback (exit 70) quoted the exception's message as it was: a URL's
    password or a secret-named value in it was printed on stderr."""
    path = tmp_path / "store"
    _store(path)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("GET https://u:oldS3cret@h/x failed (password: hunter2)")

    monkeypatch.setattr(LineageStore, "get_executions_by_id", broken)
    result = invoke(["show", "1", "--kind", "execution", "--store", str(path)])
    assert result.exit_code == 70, result.output
    assert "RuntimeError: GET https://u:***@h/x failed (password: ***)" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    for secret in SECRETS:
        assert secret not in result.stderr


def test_show_masks_a_private_key_and_an_assignment_after_a_name(tmp_path: Path) -> None:
    """A PEM private key under a name that is no secret's (``config``), and a secret-named
    ``name=value`` after another ``name:`` (an error stored before its masking existed:
    ``ValueError: api_key=...``), were shown whole by ``show`` and the JSON listings."""
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn-keyS3cret\n-----END OPENSSH PRIVATE KEY-----"
    path = tmp_path / "store"
    with LineageStore.open(path) as s:
        s.put_execution_type(ExecutionType(name="Old"))
        s.put_executions(
            [
                Execution(
                    type="Old",
                    custom_properties={"error": "ValueError: api_key=sk-Pl41n", "ssh": key},
                )
            ]
        )
    store = ["--store", str(path)]
    for args in (["show", "1", "-k", "execution", "--json"], ["ls", "executions", "--json"]):
        result = invoke([*args, *store])
        assert result.exit_code == 0, (args, result.output)
        assert "keyS3cret" not in result.stdout and "sk-Pl41n" not in result.stdout, args
    shown = json.loads(result.stdout)[0]["custom_properties"]
    assert shown == {
        "error": "ValueError: api_key=***",
        "ssh": "-----BEGIN OPENSSH PRIVATE KEY-----\n***\n-----END OPENSSH PRIVATE KEY-----",
    }


def test_a_uri_is_masked_as_a_text_property_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every place a uri is shown masks what a text property masks: the tables, trees and
    drawings masked only its URL password, while ``compare`` and the docs masked a secret
    query value and a secret-named environment variable's value too."""
    monkeypatch.setenv("LG_TEST_API_TOKEN", "envS3cretValue")
    path = tmp_path / "store"
    with LineageStore.open(path) as s:
        s.put_artifact_type(ArtifactType(name="Data"))
        [aid] = s.put_artifacts(
            [Artifact(type="Data", uri="s3://b/envS3cretValue/x?access_token=qS3cret&v=1")]
        )
    store = ["--store", str(path)]
    for args in (
        ["show", str(aid)],
        ["show", str(aid), "--json"],
        ["ls", "artifacts"],
        ["ls", "artifacts", "--json"],
        ["upstream", str(aid)],
        ["export", str(aid), "-f", "mermaid"],
        ["export", str(aid), "-f", "dot"],
    ):
        result = invoke([*args, *store])
        assert result.exit_code == 0, (args, result.output)
        assert "envS3cretValue" not in result.output, args
        assert "qS3cret" not in result.output, args
        assert "/x" in result.output, (args, result.output)  # the rest as stored
