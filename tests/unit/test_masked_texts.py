"""What :func:`redact_secrets` masks in a text (a failed run's stored error, every CLI
message) and what it keeps readable: a secret-named ``name=value`` after another name's
``name:`` (a Python exception's ``ValueError: api_key=...``), a PEM private key, a secret
environment variable's value as JSON or a URL quotes it; a short such value (``postgres``,
``test``) only where it stands as a word of its own."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from lineage_graph._redact import redact_secrets, secret_name


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # str() of an exception, as a failed run stores it: "<type>: <message>"
        ("ValueError: api_key=sk-S3c", "ValueError: api_key=***"),
        ("KeyError: token: S3c", "KeyError: token: ***"),
        ("error: password=S3c (retry)", "error: password=*** (retry)"),
        ('config: password = "pa ss"', 'config: password = "***"'),
        ("env: MLFLOW_TRACKING_PASSWORD='S3c S3c'", "env: MLFLOW_TRACKING_PASSWORD='***'"),
        ("a=b=c token=S3c", "a=b=c token=***"),
        # Ruby's and PHP's hashes
        ("{:password => 'S3c', :user => 'u'}", "{:password => '***', :user => 'u'}"),
        ('["api_key" => "S3c"]', '["api_key" => "***"]'),
        # no secret's name: as written
        ("ValueError: max_tokens=4096, lr: 0.1", "ValueError: max_tokens=4096, lr: 0.1"),
    ],
)
def test_a_secret_assignment_after_another_name_is_masked(text: str, shown: str) -> None:
    assert redact_secrets(text) == shown


KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7S3c\nq0Zr+S3c==\n"
    "-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            f"bad key {KEY} in /k.pem",
            "bad key -----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY----- in /k.pem",
        ),
        (
            json.dumps({"ssh": KEY}),
            '{"ssh": "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----"}',
        ),
        # a message cut short: to the end
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk S3c",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n***",
        ),
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF S3c\n"
            "-----END PGP PRIVATE KEY BLOCK-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n***\n-----END PGP PRIVATE KEY BLOCK-----",
        ),
        # a certificate is public
        (
            "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
        ),
    ],
)
def test_a_pem_private_key_is_masked(text: str, shown: str) -> None:
    assert redact_secrets(text) == shown


def test_a_secret_variable_is_masked_as_json_or_a_url_quotes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "pässwört#S3c")
    monkeypatch.setenv("HF_TOKEN", "hf_S3c/def+ghi==")
    text = (
        json.dumps({"msg": "login with pässwört#S3c"})
        + f" https://h/x?p={quote('pässwört#S3c', safe='')}"
        + f" https://h/cb?code={quote('hf_S3c/def+ghi==', safe='')}"
    )
    assert (
        redact_secrets(text) == '{"msg": "login with ***"} https://h/x?p=*** https://h/cb?code=***'
    )


def test_a_short_secret_variable_is_masked_only_as_a_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short value (``POSTGRES_PASSWORD=postgres``, ``NEO4J_PASSWORD=test``, ``DB_PASS=1234``,
    as test and dev setups have them) made every "latest", "contest", "12345", "postgres://" of
    every message ``***``; it is masked where it stands as a word, never as a URL's scheme."""
    for name, value in {
        "POSTGRES_PASSWORD": "postgres",
        "NEO4J_PASSWORD": "test",
        "DB_PASS": "1234",
        "API_TOKEN": "hf_x",
    }.items():
        monkeypatch.setenv(name, value)
    text = (
        "the latest contest_run failed: postgres://db:5432 refused user postgres; "
        "run 12345 of x1234 retried 1234 times; test; hf_xyz, hf_x"
    )
    assert redact_secrets(text) == (
        "the latest contest_run failed: postgres://db:5432 refused user ***; "
        "run 12345 of x1234 retried *** times; ***; hf_xyz, ***"
    )


def test_a_long_secret_variable_is_masked_wherever_it_stands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "0123456789abcdef")
    assert redact_secrets("key=x0123456789abcdefy") == "key=x***y"


@pytest.mark.parametrize("name", ["passWord", "PassWord", "userPassWord", "dbPassPhrase"])
def test_a_camel_case_pass_word_is_a_secret_name(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "pass_word_count",
        "first_pass",
        "passenger",
        "bypass_words",
        "passwordless_enabled",  # no case splits it: one word, not ending in a pass word
        "passwordlessEnabled",
    ],
)
def test_words_around_pass_are_no_secret_name(name: str) -> None:
    assert not secret_name(name)


def test_a_changed_environment_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the environment holds is read once for many texts (a listing's every property),
    and again when a variable is set, changed or removed."""
    monkeypatch.setenv("RUN_API_TOKEN", "first-S3cret")
    assert redact_secrets("first-S3cret second-S3cret") == "*** second-S3cret"
    monkeypatch.setenv("RUN_API_TOKEN", "second-S3cret")
    assert redact_secrets("first-S3cret second-S3cret") == "first-S3cret ***"
    monkeypatch.delenv("RUN_API_TOKEN")
    assert redact_secrets("first-S3cret second-S3cret") == "first-S3cret second-S3cret"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # CalledProcessError quotes the arguments as a list
        (
            "Command '['mysql', '--password', 'S3c', '-u', 'x']' returned non-zero exit status 1.",
            "Command '['mysql', '--password', '***', '-u', 'x']' returned non-zero exit status 1.",
        ),
        (
            "huggingface-cli login --token hf_S3c failed; x --api-key sk-S3c; --user bob",
            "huggingface-cli login --token *** failed; x --api-key ***; --user bob",
        ),
        # the next option, and an option that is no secret's: as written
        (
            "--no-password --verbose --token-count 5 --host db",
            "--no-password --verbose --token-count 5 --host db",
        ),
    ],
)
def test_a_secret_option_s_next_argument_is_masked(text: str, shown: str) -> None:
    assert redact_secrets(text) == shown
