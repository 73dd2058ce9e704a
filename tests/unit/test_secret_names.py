"""Which names are a secret's (``_redact.secret_name``): an environment variable's, a recorded
property's, a ``name=value`` in a message. The rule reads a name's words, whatever its
spelling (``DB_PASSWD``, ``dbPasswd``, ``db-passwd``, ``db.passwd``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage_graph._redact import redact_secrets, secret_name

#: Names a secret is kept under (words), from Sentry's default scrubber, detect-secrets'
#: keywords and common environment variables; each was shown whole before but a few.
SECRET_WORDS = [
    ["password"],
    ["passwd"],
    ["pwd"],
    ["passphrase"],
    ["secret"],
    ["secrets"],
    ["credentials"],
    ["api", "key"],
    ["secret", "key"],
    ["secret", "access", "key"],
    ["private", "key"],
    ["client", "secret"],
    ["access", "token"],
    ["token"],
    ["auth", "token"],
    ["refresh", "token"],
    ["pat"],
    ["auth"],
    ["db", "pass"],
    ["mqtt", "pass"],
    ["session", "key"],
    ["mysql", "pwd"],
    ["signature"],
    ["cookie"],
]
#: Ordinary names holding a secret word's letters or a secret word not as its last.
PLAIN_WORDS = [
    ["token", "count"],
    ["max", "tokens"],
    ["num", "tokens"],
    ["tokenizers", "parallelism"],
    ["num", "keys"],
    ["keyboard"],
    ["sort", "key"],
    ["cache", "key"],
    ["primary", "key"],
    ["key"],
    ["keyspace"],
    ["author"],
    ["passenger"],
    ["monkey"],
    ["design"],
    ["eos", "token"],
    ["pad", "token"],
    ["access", "key", "id"],
    ["ssh", "auth", "sock"],
    ["learning", "rate"],
    ["pattern"],
    ["compass"],
    ["signal"],
    ["first", "pass"],
    ["eval", "pass"],
    ["x", "key"],
]


def spell(words: list[str], style: str) -> str:
    if style == "UPPER_SNAKE":
        return "_".join(w.upper() for w in words)
    if style == "snake":
        return "_".join(words)
    if style == "kebab":
        return "-".join(words)
    if style == "dotted":
        return ".".join(words)
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    return "".join(w.capitalize() for w in words)  # Pascal


STYLES = st.sampled_from(["UPPER_SNAKE", "snake", "kebab", "dotted", "camel", "Pascal"])
PREFIXES = st.lists(
    st.sampled_from(["aws", "data", "github", "my", "prod", "neo4j", "hf"]), max_size=2
)


@given(st.sampled_from(SECRET_WORDS), PREFIXES, STYLES, st.sampled_from(["", "2", "01"]))
def test_a_secret_name_is_one_whatever_its_spelling(
    words: list[str], prefix: list[str], style: str, digits: str
) -> None:
    name = spell([*prefix, *words, *([digits] if digits else [])], style)
    assert secret_name(name), name


@given(st.sampled_from(PLAIN_WORDS), PREFIXES, STYLES)
def test_an_ordinary_name_is_no_secret_whatever_its_spelling(
    words: list[str], prefix: list[str], style: str
) -> None:
    name = spell([*prefix, *words], style)
    assert not secret_name(name), name


@pytest.mark.parametrize(
    "name",
    [
        "SECRETKEY",
        "APIKEY",
        "apikey",
        "DBPASSWORD",
        "GITHUBTOKEN",
        "APP_SECRETS",
        "AWSSecretAccessKey",
    ],
)
def test_a_secret_name_written_as_one_word(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("NEO4J_AUTH=neo4j/pw", "NEO4J_AUTH=***"),
        (
            "connect failed (password: hunter2, user: bob)",
            "connect failed (password: ***, user: bob)",
        ),
        ("{'api_key': 'sk-1', 'lr': 0.1}", "{'api_key': '***', 'lr': 0.1}"),
        ('{"token": "abc", "token_count": 3}', '{"token": "***", "token_count": 3}'),
        ("Authorization: Bearer eyJ.x.y was refused", "Authorization: *** was refused"),
        ("AccountKey=k3y==;EndpointSuffix=core", "AccountKey=***;EndpointSuffix=core"),
        ("Driver={ODBC};UID=sa;PWD=S3c;Server=db", "Driver={ODBC};UID=sa;PWD=***;Server=db"),
        (
            "Command '['mysql', '--password=S3c', '-u', 'x']' returned 1",
            "Command '['mysql', '--password=***', '-u', 'x']' returned 1",
        ),
        # no secret's name: as written
        ("KeyError: 'k' (max_tokens=4096, key=a/b)", "KeyError: 'k' (max_tokens=4096, key=a/b)"),
    ],
)
def test_a_secret_named_value_in_a_text_is_masked(text: str, shown: str) -> None:
    assert redact_secrets(text) == shown
