"""Passwords kept out of what is shown: reprs, messages, ``describe()``."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload
from urllib.parse import ParseResult, SplitResult, quote, unquote

from .exceptions import ConfigurationError

__all__ = [
    "MASK",
    "check_url_password",
    "parse_url",
    "redact_secrets",
    "redact_target",
    "redact_url",
    "redact_value",
    "secret_name",
    "shown_properties",
    "strip_credentials",
]

#: A URL in a text: its scheme, ``://`` and what follows up to the next whitespace or the next
#: URL (``["redis://:a@h","redis://:b@h2"]``: the first one's text ran to the end, so the
#: second one's password was never looked at). Linear: a run of scheme characters is taken
#: whole (possessive), then checked for a ``://`` after it.
_URL = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://)"
    r"(?P<rest>(?:[A-Za-z0-9+.\-]++(?!://)|[^\sA-Za-z0-9+.\-])*+)"
)
#: A URL's scheme and ``://`` at the head of a text (:func:`strip_credentials`).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
#: A scheme and ``:`` at the head of a text, its ``//`` forgotten (``neo4j:pw@host``); a path
#: (``/data/runs:2024@x``, ``./a:b@c``) has none.
_SCHEME_NO_SLASHES = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
#: Where a URL's authority ends (``urllib.parse.urlsplit``, redis-py and the neo4j driver
#: read it so): its first ``/``, ``?`` or ``#``.
_AUTHORITY_END = re.compile(r"[/?#]")
#: What a password is shown as.
MASK = "***"


#: The schemes of the URLs that carry this library's credentials: the stores' (FalkorDB, Neo4j)
#: and ``import-mlmd``'s MySQL. Shown in a message, one of these is masked up to its last ``@``
#: whenever its user info may have held a raw ``/``, ``?`` or ``#`` (hiding too much there is
#: the safe mistake); any other URL (an artifact's uri quoted in an error:
#: ``docker://registry/image:tag@sha256:...``) only when its authority is no host and port.
_CREDENTIAL_SCHEMES = frozenset(
    {"redis", "rediss", "falkor", "falkors", "falkordb", "unix", "mysql"}
    | {"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"}
)
#: A query parameter's value (redis-py's ``unix:///path.sock?password=pw``), but the
#: punctuation ending the URL's text in a message ("... ?password=pw: unreachable"). Masked
#: when its name is a secret's (:func:`_secret_name`).
_QUERY_PARAMETER = re.compile(r"(?P<key>[?&;](?P<name>[^=&;#?\s]*)=)(?P<value>[^&#;]*)")
#: The same, or one heading a fragment, in a URL of no credential scheme: OAuth's implicit
#: grant redirects to ``https://app/cb#access_token=...&token_type=...``. (A store's URL
#: holding a ``#`` before an ``@`` is a password holding a raw ``#``, masked to that ``@``.)
_PARAMETER = re.compile(r"(?P<key>[?&;#](?P<name>[^=&;#?\s]*)=)(?P<value>[^&#;]*)")
#: The words of a parameter's name: ``X-Amz-Signature`` is ``X``, ``Amz``, ``Signature``;
#: ``apiKey`` ``api``, ``Key``; ``AWSAccessKeyId`` ``AWS``, ``Access``, ``Key``, ``Id``.
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
#: A word of a secret's parameter name (lower case): one ending in ``password``, ``passwd``,
#: ``passphrase``, ``passcode``, ``pwd``, ``secret``, ``token``, ``signature`` or
#: ``credential`` (``access_token``, ``pageToken``, ``clientsecret``, ``X-Amz-Credential``),
#: the word ``pass``, ``passkey``, ``sig`` (an Azure SAS), ``creds``, ``auth``, ``oauth``,
#: ``authcode`` or ``authorization``, or a ``key`` alone or after the word of a kind of key
#: (``api_key``, ``apikey``, ``accessKey``, ``hmackey``). Whole words: a name only holding
#: those letters (``keyspace``, ``design``, ``monkey``, ``author``, ``signal``, ``passenger``)
#: is no secret's, and its value, quoted by an error, is kept.
_SECRET_WORD = re.compile(
    r"[a-z0-9]*(?:password|passwd|passphrase|passcode|pwd|secret|token|signature|credential)s?"
    r"|pass|passkey|sig|creds|o?auth|authcode|authori[sz]ation"
    r"|(?:api|access|secret|private|shared|session|client|app|auth|master|signing|sign|hmac"
    r"|account|subscription|encryption|license|sas|storage|admin|user|service|primary"
    r"|secondary)?keys?"
)


def _secret_name(name: str) -> bool:
    """Whether a query parameter named ``name`` (percent-decoded, any case) holds a secret by
    a word of its name (:data:`_SECRET_WORD`, wider than :func:`secret_name`, which it also
    applies: a bare ``key`` or a ``primary_key`` is an API key in a query): a ``password``, an
    ``access_token``, an
    ``api_key``, a signature (``sig``, ``X-Amz-Signature``, ``X-Amz-Credential``). A failed
    run's stored error quoting ``requests``' "401 ... for url: https://api/x?access_token=..."
    or a presigned URL kept the secret, where a recorded git remote drops its whole query."""
    name = unquote(name)
    return any(_SECRET_WORD.fullmatch(w.lower()) for w in _NAME_WORD.findall(name)) or (
        secret_name(name)  # (the rule of every other name: ``?GITHUB_PAT=``, ``?db_pass=``)
    )


_TRAILING = ":,.)]}'\""


def _host_and_port(authority: str) -> bool:
    """Whether ``authority`` (holding no ``@``) reads as a host and an optional port of digits,
    as ``urlsplit`` and the drivers read one (``h``, ``h:6379``, ``[::1]:6379``). ``:pa`` (no
    host) and ``neo4j:se`` (no number) are none: the head of a user info holding a raw ``/``,
    ``?`` or ``#``."""
    if authority.startswith("["):
        host, close, port = authority.partition("]")
        if not close or (port and not port.startswith(":")):
            return False
        port = port[1:]
    else:
        host, _, port = authority.partition(":")
    return bool(host) and (port == "" or (port.isascii() and port.isdigit()))


def _user_info(rest: str, *, loose: bool) -> tuple[str, str] | None:
    """``(user info, what follows its @)`` of a URL's text after ``scheme://``; None without.

    The user info is the authority (up to the first ``/``, ``?`` or ``#``) before its *last*
    ``@``, as ``urlsplit`` and the drivers read it: a password or a user holding a raw ``@``
    (``redis://:p@ss@host``) is whole. An authority without ``@`` that is no host and port
    (``redis://:pa/ss@host``, ``bolt://neo4j:se?cret@host``: the host "", the port "pa", "se")
    while the URL holds an ``@`` further on is the head of a user info holding a raw ``/``,
    ``?`` or ``#``: its writer's password there ran to the last ``@``. ``loose`` (a credential
    scheme, for a mask) reads a host and port so too (``redis://default:123/x@host``); a URL
    whose authority is a host and port (``redis://h:6379/my@graph``, ``neo4j://h?policy=a@b``,
    ``https://h/p/a:b@c``) is otherwise one with no user info, as the drivers read it."""
    end = _AUTHORITY_END.search(rest)
    authority = rest[: end.start()] if end else rest
    if "@" in authority:
        info, _, after = authority.rpartition("@")
        return info, after + rest[len(authority) :]
    if (
        authority  # (none, as in unix:///a:b@c.sock: no user info)
        and "@" in rest
        and (loose or not _host_and_port(authority))
    ):
        info, _, after = rest.rpartition("@")
        return info, after
    return None


def _masked_value(q: re.Match[str]) -> str:
    if not _secret_name(q["name"]):
        return q[0]
    # the punctuation ending the URL's text in a message ("?password=pw: ...") stays
    value = q["value"]
    tail = value[len(value.rstrip(_TRAILING)) :] if q.end() == len(q.string) else ""
    return q["key"] + MASK + tail


#: The schemes whose user info without a password is a token all the same (GitHub's and Azure
#: DevOps' ``https://<token>@host/...``, pip's ``git+https://<token>@host/...``).
_WEB = re.compile(r"(?:.*\+)?https?")


def _masked(m: re.Match[str], users: bool = False) -> str:
    return _masked_url(m["head"], m["rest"], users=users)


def _masked_url(head: str, rest: str, *, users: bool = False) -> str:
    """``head`` (``scheme://``) and ``rest`` with the password of its user info and of a
    secret-named query parameter masked; ``users``: a web URL's user info without a password
    too (``https://***@github.com/o/r``)."""
    scheme = head[:-3].lower()
    loose = scheme in _CREDENTIAL_SCHEMES
    rest = (_QUERY_PARAMETER if loose else _PARAMETER).sub(_masked_value, rest)
    found = _user_info(rest, loose=loose)
    if found is not None and found[0] and ":" not in found[0] and users and _WEB.fullmatch(scheme):
        return f"{head}{MASK}@{found[1]}"
    if found is None or ":" not in found[0]:
        return head + rest
    user = found[0].partition(":")[0]
    return f"{head}{user}:{MASK}@{found[1]}"


def redact_target(target: str) -> str:
    """``target``, a text that is one store target (``--store``, ``LINEAGE_GRAPH_STORE``, a
    setting's value), with its password masked: all of it is the URL, whatever it holds (a
    space: ``unix:///s.sock?password=pa ss`` was shown ``...?password=*** ss`` by
    :func:`redact_url`, whose URL ends at whitespace in a message), a line break too
    (``redis://:pa\\nss@h``, shown whole by ``ls`` and ``doctor --json``: ``urlsplit`` drops it
    and reads the password ``pass``). A target with no ``://`` that begins with a scheme and
    ``:`` and holds an ``@`` is masked from that ``:`` to its last ``@`` (a URL whose ``//`` was
    forgotten, ``neo4j:pw@host:7687``, is ``neo4j:***@host:7687``: it was shown whole) when
    that scheme is a store's (one :func:`~lineage_graph.backends.resolve_target` refuses
    without its ``//``); a path (``/data/runs:2024@x``, ``./runs:2024@x``, ``runs:2024@x``:
    no store scheme at its head, a directory) is shown as written. Any other text is as
    :func:`redact_url` shows it."""
    from .backends import URL_SCHEMES  # backends imports this module

    m = _SCHEME.match(target)
    if m is None:
        info, at, host = target.rpartition("@")
        scheme = info.partition(":")[0]
        if (
            at
            and "://" not in target
            and _SCHEME_NO_SLASHES.match(info)
            # as resolve_target reads it: another head is a directory's name, which its
            # messages quote as written ("no store at runs:2024@x")
            and scheme.lower() in URL_SCHEMES
        ):
            return f"{scheme}:{MASK}@{host}"
        return redact_url(target)
    return _masked_url(m[0], target[m.end() :])


#: The quotes and brackets a message puts around a URL: one quoted whole ends at its closing one.
_CLOSING = {"'": "'", '"': '"', "`": "`", "(": ")", "[": "]", "<": ">", "{": "}"}


#: What ends the search for a spaced user info's ``@`` (:func:`_spaced_user_info`): that ``@``,
#: or first another line, another URL or the message going on (``": "``).
_SPACED_STOP = re.compile(r"[@\n\r]|://|: ")


def _spaced_user_info(text: str, m: re.Match[str]) -> tuple[str, int] | None:
    """``(the masked head, where the text goes on)`` of a store's URL whose user info holds a
    space (``redis://:pa ss@host``, ``neo4j://user:pa ss@host``: the drivers read the password
    ``pa ss``), or None. A URL's text ends at whitespace, so such a password was shown whole.
    The URL's text must hold no ``@`` (or be a user info with a password and a host, no path:
    ``redis://:p@ss word@h``), and the text go on, on the same line and before any other URL
    or a ``": "``, to an ``@``: all of it up to that ``@`` (the last one of the word it is in:
    ``redis://:pa ss@w@h``) is the user info (read as :func:`_masked` reads it:
    ``redis://u:123/x y@h`` too). ``redis://h:1/g is down, ask
    admin@corp`` is masked so too: hiding too much there is the safe mistake."""
    if m["head"][:-3].lower() not in _CREDENTIAL_SCHEMES:
        return None
    rest = m["rest"]
    if not text[m.end() : m.end() + 1].isspace():
        return None
    opening = text[m.start() - 1 : m.start()]
    if opening and rest[-1:] == _CLOSING.get(opening):
        return None  # a URL quoted whole: 'redis://u:***@h' holds a raw '/' ... '@'
    if "@" in rest and (
        _AUTHORITY_END.search(rest)  # a URL whose text holds its user info and a path
        or rest.rpartition("@")[0].partition(":")[2] in ("", MASK)  # no password, or masked
    ):
        return None
    # another line, another URL, the message going on before an "@": none. (Searched up to
    # the first of them, so that many URLs in one text cost linear time, not quadratic.)
    if rest.endswith(":") and text[m.end()] == " ":
        return None
    found = _SPACED_STOP.search(text, m.end())
    if found is None or found[0] != "@":
        return None
    at = found.start()
    # the user info runs to the last "@" of the word that "@" is in, as urlsplit reads it
    # ("redis://:pa ss@w@host": the password "pa ss@w"; "w" was shown)
    word = re.split(r"[\s/?#]", text[at + 1 :], maxsplit=1)[0]
    if "@" in word:
        at += 1 + word.rindex("@")
    info = rest + text[m.end() : at]
    if ":" not in info:
        return None
    if "/" in info.partition(":")[0]:  # no user: a host and a path ("h/g x@y")
        return None
    return f"{m['head']}{info.partition(':')[0]}:{MASK}@", at + 1


def redact_url(text: str, *, users: bool = False) -> str:
    """``text`` with the password of every URL in it masked (``redis://:pw@host``,
    ``neo4j+s://user:pw@host`` become ``redis://:***@host``, ``neo4j+s://user:***@host``; a
    password holding a raw ``/``, ``?`` or ``#`` too: ``redis://:pa/ss@host`` is shown
    ``redis://:***@host``). ``users``: a web URL's user info without a password too
    (:func:`redact_secrets`)."""
    # Each "://" is found, then its scheme read backwards: a regex search for the scheme tried
    # every position of a long word, each time to the word's end (a 40,000-letter name in a
    # message took 1.4 s, 128 KiB 15 s).
    out, done, at = [], 0, text.find("://")
    while at >= 0:
        start = at
        while start > done and text[start - 1] in _SCHEME_CHARACTERS:
            start -= 1
        while start < at and not text[start].isalpha():  # a scheme begins with a letter
            start += 1
        m = _URL.match(text, start) if start < at else None
        if m is None:
            at = text.find("://", at + 3)
            continue
        out.append(text[done:start])
        spaced = _spaced_user_info(text, m)
        if spaced is None:
            out.append(_masked(m, users))
            done = m.end()
        else:
            out.append(spaced[0])
            done = spaced[1]
        at = text.find("://", done)
    out.append(text[done:])
    return "".join(out)


#: Words (lower case) that make a name a secret's wherever they stand in it, as in Sentry's
#: default scrubber and detect-secrets' keyword list: ``DB_PASSWD``, ``PGPASSWORD``,
#: ``APP_SECRETS``, ``mysql_pwd``, ``NEO4J_PASSWORD_FILE`` (hiding a path there is the safe
#: mistake), ``credentials``, ``privateKey``.
_STRONG_WORD = re.compile(
    r"[a-z0-9]*(?:password|passwd|passphrase|passcode|pwd|secret|credential)s?|creds"
)
#: The kinds of key whose ``key`` (a word of its own or the end of one: ``API_KEY``, ``apiKey``,
#: ``SECRETKEY``, ``AWS_SECRET_ACCESS_KEY``, ``ssh_private_key``) is a secret. A key of another
#: kind is none (``sort_key``, ``cache_key``, ``primary_key``, ``num_keys``, ``keyboard``).
_KEY_KIND = (
    r"api|access|secret|private|priv|shared|session|client|app|auth|master|signing|sign|hmac"
    r"|account|subscription|encryption|license|sas|storage|admin|service|ssh|gpg|pgp|db"
    r"|database|webhook|consumer|deploy|root"
)
_KEY_WORD = re.compile(rf"(?:{_KEY_KIND})keys?")
_KIND_WORD = re.compile(rf"(?:{_KEY_KIND})")
#: Words that make a name a secret's when they end it (digits after them aside: ``API_KEY_2``):
#: a token (``HF_TOKEN``, ``access_token``, ``GITHUBTOKEN``; not ``max_tokens``,
#: ``token_count``, ``TOKENIZERS_PARALLELISM``), a personal access token (``GITHUB_PAT``), an
#: auth (``NEO4J_AUTH``, ``basic_auth``), a signature, a cookie, a bearer, a pass alone or of
#: a login (``DB_PASS``, ``MQTT_PASS``; not ``first_pass``, ``eval_pass``: :data:`_PASS_OF`).
_LAST_WORD = re.compile(
    r"[a-z0-9]*token|pat|o?auth|authorization|passkey|signature|sig|cookies?|bearer"
)
_PASS_OF = frozenset(
    {"", "db", "database", "key", "user", "admin", "root", "mqtt", "smtp", "ftp", "sql"}
    | {"mysql", "pg", "redis", "ldap", "ssh", "proxy", "http", "basic", "app", "api", "mail"}
)
#: A token's word after one of these is a tokenizer's special token (``eos_token="</s>"``).
_TOKENIZER_WORD = frozenset({"pad", "eos", "bos", "unk", "sep", "cls", "mask", "special"})


#: A pass word written in camel case, read as two words by :data:`_NAME_WORD` (``passWord``,
#: ``userPassWord``, ``PassPhrase``), ending there (not ``passwordless``, which no case splits).
_CAMEL_PASS = re.compile(r"[Pp]ass(?:Word|Wd|Phrase|Code)s?(?![a-z])")


@functools.lru_cache(maxsize=4096)  # (every property of a long listing asks)
def secret_name(name: str) -> bool:
    """Whether a value named ``name`` (an environment variable, a recorded property, a
    ``name=value`` in a message; any spelling: ``DB_PASSWD``, ``dbPasswd``, ``db-passwd``,
    ``db.passwd``) is a secret's. Its words (:data:`_NAME_WORD`, any case) are read: one of
    :data:`_STRONG_WORD` anywhere, or a last word (digits aside) that is a token's, a PAT's, an
    auth's, a pass's, a cookie's (:data:`_LAST_WORD`) or a key of a secret kind (``API_KEY``,
    ``apiKey``, ``SECRETKEY``; :data:`_KEY_WORD`). Whole words only: ``token_count``,
    ``max_tokens``, ``num_keys``, ``keyboard``, ``author``, ``passenger`` are no secret's."""
    words = [w.lower() for w in _NAME_WORD.findall(name)]
    if any(_STRONG_WORD.fullmatch(w) for w in words):
        return True
    # camel case splits a pass word in two (``passWord``, ``userPassWord``, ``PassPhrase``);
    # a separator does not (``eval_pass_word_count``)
    if _CAMEL_PASS.search(name):
        return True
    while words and words[-1].isdigit():
        words.pop()
    if not words:
        return False
    last = words[-1]
    before = words[-2] if len(words) > 1 else ""
    if last in ("key", "keys"):
        return bool(_KIND_WORD.fullmatch(before))
    if _KEY_WORD.fullmatch(last):
        return True
    if last == "token" and before in _TOKENIZER_WORD:
        return False
    if last == "pass":
        return before in _PASS_OF
    return bool(_LAST_WORD.fullmatch(last))


#: Values of a secret-named environment variable never masked in a text: words a message says
#: for other reasons (``NEO4J_AUTH=none`` made every "none" of every message ``***``).
_PLAIN_VALUES = frozenset({"none", "null", "true", "false", "yes", "no", "on", "off"})
_PLAIN_VALUES |= {"disabled", "enabled", "default"}
#: The shell's working directories: no secret's, whatever their name reads as (an ODBC
#: connection string's ``PWD=`` in a message is one, and masked).
_SHELL_DIRECTORIES = frozenset({"PWD", "OLDPWD"})

#: ``name=value`` or ``name: value`` in a text (``NEO4J_AUTH=neo4j/pw``, ``password: S3c``,
#: ``{'api_key': 'sk-1'}``, ``"token": "x"``, ``AccountKey=k==;``, a command line's
#: ``--password=pw`` quoted by ``CalledProcessError``, Ruby's ``:password => "x"``), masked
#: when the name is a secret's (:func:`secret_name`). The name starts a word (so a search
#: does not rescan a long word from each of its letters). Only the name and what follows it
#: are matched here: the value (:data:`_ASSIGNMENT_VALUE`) is read after a secret's name
#: alone, so a value that is no secret is read again for names ("ValueError: api_key=sk-1",
#: a failed run's stored error, read the value ``api_key=sk-1`` of ``ValueError`` and was
#: stored and shown whole).
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.\-])(?P<dashes>-*)(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)"
    r"(?P<head>[\"']?[ \t]*(?:=>|[:=])[ \t]*)"
)
#: A secret's value after its name: quoted, an HTTP scheme and its credentials
#: (``Authorization: Bearer x``), or a run to whitespace, a quote, a bracket, ``,``, ``;`` or
#: ``&``.
_ASSIGNMENT_VALUE = re.compile(
    r"\"[^\"\n]*\"|'[^'\n]*'"
    r"|(?i:bearer|basic|token|digest)[ \t]+[^\s,;&'\"()\[\]{}<>]+"
    r"|[^\s,;&'\"()\[\]{}<>]+"
)


def _masked_assignments(text: str) -> str:
    """``text`` with the value of each secret-named ``name=value`` / ``name: value`` masked
    (:data:`_ASSIGNMENT`). Linear: names do not overlap, and a secret's value is skipped."""
    out, done, at = [], 0, 0
    while (m := _ASSIGNMENT.search(text, at)) is not None:
        at = m.end()
        if not secret_name(m["name"]):
            continue
        v = _ASSIGNMENT_VALUE.match(text, m.end())
        if v is None:
            continue
        value = v[0]
        if value[:1] in "\"'" and len(value) > 1:
            shown = f"{value[0]}{MASK}{value[0]}"
        else:
            # the punctuation ending a sentence or a URL's text stays ("sig=***: 403")
            shown = MASK + value[len(value.rstrip(_TRAILING)) :]
        out += [text[done : m.end()], shown]
        done = at = v.end()
    out.append(text[done:])
    return "".join(out)


#: A command line's long option and its value as the next argument (``mysql --password pw``,
#: ``huggingface-cli login --token hf_...``; ``CalledProcessError`` quotes the arguments as a
#: list: ``['mysql', '--password', 'pw']``), masked when the option's name is a secret's
#: (:func:`secret_name`). A value beginning with ``-`` is the next option (``--no-password
#: --verbose``).
_OPTION = re.compile(
    r"(?<![A-Za-z0-9_\-])--(?P<name>[A-Za-z][A-Za-z0-9_.\-]*)"
    r"(?P<sep>[ \t]+|(?P<quote>['\"]),[ \t]*(?P=quote))"
    r"(?P<value>[^\s,;&'\"()\[\]{}<>\-][^\s,;&'\"()\[\]{}<>]*)"
)


def _masked_option(m: re.Match[str]) -> str:
    if not secret_name(m["name"]):
        return m[0]
    value = m["value"]
    tail = value[len(value.rstrip(_TRAILING)) :] if not m["quote"] else ""
    return f"--{m['name']}{m['sep']}{MASK}{tail}"


#: A PEM private key (``-----BEGIN RSA PRIVATE KEY-----``, ``OPENSSH``, ``ENCRYPTED``, ``EC``,
#: a PGP ``PRIVATE KEY BLOCK``) in a text: its body, up to its ``-----END ...-----`` or, the
#: text cut short, to the text's end. A step quoting a key file, a property holding one under
#: a name that is no secret's (``config``, ``ssh``), was shown whole: its lines are no
#: ``name=value`` and no URL.
_PEM_PRIVATE_KEY = re.compile(
    r"(?P<begin>-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)"
    r"(?P<body>.*?)(?P<end>-----END [A-Z0-9 ]{0,60}-----|\Z)",
    re.DOTALL,
)


def _masked_pem(m: re.Match[str]) -> str:
    body = m["body"]
    lead = body[: len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()) :] if m["end"] else ""
    return f"{m['begin']}{lead}{MASK}{trail}{m['end']}"


def redact_secrets(text: str) -> str:
    """``text`` with the password of every URL in it (:func:`redact_url`; a web URL's user info
    without one too: ``https://<token>@github.com/o/r``, a failing ``git clone`` or ``pip
    install`` quotes so, is ``https://***@github.com/o/r``), the value of every ``name=value``
    or ``name: value`` whose name is a secret's (:func:`secret_name`: ``NEO4J_AUTH=neo4j/pw``,
    ``password: S3c``) and the value of every environment variable named like a secret
    (:func:`secret_name`; a value of 4 characters or more, not a word such as ``none``;
    one shorter than 8 as a word of its own: :func:`_env_value_patterns`) and the body of a PEM
    private key masked: what the CLI prints, and a failed run's stored ``error``."""
    if "PRIVATE KEY" in text:
        text = _PEM_PRIVATE_KEY.sub(_masked_pem, text)
    text = redact_url(text, users=True)
    if "=" in text or ":" in text:
        text = _masked_assignments(text)
    if "--" in text:
        text = _OPTION.sub(_masked_option, text)
    for form, pattern in _environment_secrets():
        if form in text:
            text = pattern.sub(MASK, text)
    return text


#: The environment :func:`_environment_secrets` last read, and what it found there.
_ENVIRONMENT: list[tuple[tuple[Any, ...], tuple[tuple[str, re.Pattern[str]], ...]]] = []


def _environment_secrets() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """``(form, pattern)`` (:func:`_env_value_patterns`) of each value to mask of a secret-named
    environment variable, read again only when the environment changed: reading every
    variable (decoding each) for every text took ``ls --json`` of 10,000 artifacts from 0.1 s
    to 3.6 s in entity_json alone, with 160 variables set."""
    data = getattr(os.environ, "_data", None)  # (the raw one: compared, never decoded)
    key = tuple(data.items()) if isinstance(data, dict) else tuple(os.environ.items())
    if _ENVIRONMENT and _ENVIRONMENT[0][0] == key:
        return _ENVIRONMENT[0][1]
    found = tuple(
        pair
        for name, value in os.environ.items()
        if len(value) >= 4
        and value.lower() not in _PLAIN_VALUES
        and name not in _SHELL_DIRECTORIES
        and secret_name(name)
        for pair in _env_value_patterns(value)
    )
    _ENVIRONMENT[:] = [(key, found)]
    return found


#: A secret-named environment variable's value shorter than this is masked only as a whole
#: word of a text: ``POSTGRES_PASSWORD=postgres``, ``NEO4J_PASSWORD=test``, ``DB_PASS=1234``
#: made every "latest" ``la***``, "trainer" ``***er``, "postgres://" ``***://`` of a failed
#: run's error and of every message (a longer value, a real secret's, is masked wherever it
#: stands).
_WHOLE_WORD_BELOW = 8


@functools.lru_cache(maxsize=256)
def _env_value_patterns(value: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """``(form, pattern)`` of each way a text may quote an environment variable's ``value``:
    as it is, JSON-escaped (``json.dumps`` writes ``pässwort`` ``p\\u00e4sswort``) and
    percent-encoded (a URL's query: ``p%40ss``). A pattern finds its form but when it is a URL's
    scheme (``postgres://``: a password "postgres" is never one there) and, for a short value
    (:data:`_WHOLE_WORD_BELOW`), inside a longer word (``\\w`` on either side)."""
    forms = dict.fromkeys((value, json.dumps(value)[1:-1], quote(value, safe="")))
    out = []
    for form in forms:
        head = tail = ""
        if len(value) < _WHOLE_WORD_BELOW:
            head = r"(?<!\w)" if re.match(r"\w", form) else ""
            tail = r"(?!\w)" if re.search(r"\w\Z", form) else ""
        out.append((form, re.compile(head + re.escape(form) + tail + r"(?!://)")))
    return tuple(out)


def redact_value(name: str, value: Any) -> Any:
    """A stored property ``value`` named ``name`` as it is shown: ``***`` when the name is a
    secret's (:func:`secret_name`; a bool, which says nothing, kept), else a text with its
    secrets masked (:func:`redact_secrets`), a struct's texts so (the keys of a dict naming
    its secrets: ``{"db": {"password": "x"}}``)."""
    if secret_name(name) and value is not None and not isinstance(value, bool):
        return MASK
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value("", v) for v in value]
    return value


@overload
def redact_uri(uri: str) -> str: ...
@overload
def redact_uri(uri: None) -> None: ...
@overload
def redact_uri(uri: str | None) -> str | None: ...
def redact_uri(uri: str | None) -> str | None:
    """An artifact's ``uri`` as it is shown (tables, trees, drawings, entities' JSON, the
    viewer): its secrets masked as a text property's are (:func:`redact_secrets`: a URL's
    password, a secret-named query value or environment variable's value)."""
    return redact_secrets(uri) if uri else uri


def shown_properties(values: Mapping[str, Any]) -> dict[str, Any]:
    """Properties (as JSON data) as they are shown: each value through :func:`redact_value`."""
    return {k: redact_value(k, v) for k, v in values.items()}


#: The schemes of a git remote over ssh: the user of their user info is a login.
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
#: The one ssh login kept in a recorded remote: the conventional one of every hosting service
#: (``git@github.com:x/y``), which says nothing of who ran the code nor grants anything.
_SSH_LOGIN = "git"
#: An scp-like git remote, ``[user@]host:path``: git reads one so when the text has no scheme
#: and a ``:`` before any ``/``. The user info runs to the last ``@`` before the host's ``:``
#: (``user:pw@host:path``: git would read the host ``user``, but the text holds a password).
_SCP = re.compile(r"(?:(?P<info>[^/]*)@)?(?P<host>\[[^\]/@]*\]|[^@/:\[\]]+):(?P<path>.*)", re.S)
#: A remote helper's remote, ``<transport>::<address>`` (gitremote-helpers(7)): git reads the
#: transport as the letters, digits, ``+``, ``-`` and ``.`` before a ``::`` at the start, and
#: hands the address, often a URL (``persistent-https::https://u:tok@host/r``, ``gcrypt::``), to
#: ``git-remote-<transport>``.
_HELPER = re.compile(r"(?P<transport>[A-Za-z0-9+.\-]*)::(?P<address>.*)", re.S)


def strip_credentials(url: str) -> str:
    """``url`` without its credentials, to be recorded (a git remote). The rule, whatever the
    names: a remote's user info goes (user and password: a token may stand as the user), but
    an ssh login that is the conventional ``git`` (``ssh://git@host/r``, ``git@host:r``);
    its query and fragment go whole (a token's parameter may have any name: ``?code=``,
    ``?t=``, an Azure SAS's ``sig``, ``#token=``; git reads no query of a remote's URL):
    ``https://user:tok@host/r?ref=x#top`` becomes ``https://host/r``, ``tok@host:org/r``
    (scp-like) ``host:org/r``. A text that is neither a URL nor scp-like (a local path) is
    returned as it is. A remote is one URL whatever it holds after its scheme: a space
    (``.../My Project/_git/r``) or a ``://`` (a mirror's ``https://tok@mirror/https://...``).
    A remote helper's ``transport::address`` keeps its transport and its address is stripped
    so: ``gcrypt::https://u:tok@host/r`` becomes ``gcrypt::https://host/r`` (it was recorded
    whole, the token with it)."""
    helper = _HELPER.fullmatch(url)
    if helper is not None:
        return f"{helper['transport']}::{strip_credentials(helper['address'])}"
    m = _SCHEME.match(url)
    if m is None:
        scp = _SCP.fullmatch(url)
        if scp is None or scp["info"] is None:
            return url
        login = "git@" if scp["info"].partition(":")[0] == _SSH_LOGIN else ""
        return f"{login}{scp['host']}:{_without_query(scp['path'])}"
    rest = url[m.end() :]
    user = ""
    found = _user_info(rest, loose=False)
    if found is not None:
        rest = found[1]
        if m[0][:-3].lower() in _SSH_SCHEMES and found[0].partition(":")[0] == _SSH_LOGIN:
            user = _SSH_LOGIN + "@"
    # git reads the user info up to the last "@" before the first "/": a password whose head
    # reads as a port ("u:123?x@host") is one too
    authority = rest.partition("/")[0]
    if "@" in authority:
        rest = rest[authority.rindex("@") + 1 :]
        user = ""  # (then the login read above was a password's head)
    return f"{m[0]}{user}{_without_query(rest)}"


def _without_query(text: str) -> str:
    """``text`` up to its first ``?`` or ``#``."""
    return re.split(r"[?#]", text, maxsplit=1)[0]


def check_url_password(url: str, what: str, *, data: str = "") -> None:
    """Raise :class:`~lineage_graph.exceptions.ConfigurationError` when ``url``'s user info
    may hold a raw ``/``, ``?`` or ``#`` before a password (``redis://:pa/ss@host``): the
    drivers read no password there but a host and a port made of the password's head (``:pa``,
    ``neo4j:se``), and said so in errors quoting it ("Port could not be cast to integer value
    as 'pa'", "Failed to DNS resolve address neo4j:se"), or tried to connect to that host. The
    message quotes the URL masked and says how to write it.

    ``data`` names the part (``"path"``, ``"query"``) where this URL's driver reads an ``@`` as
    data: a FalkorDB graph name (``redis://h:1/my@graph``), a Neo4j routing context
    (``neo4j://h:1?policy=a@b``). Such a URL reads exactly as one whose password holds a raw
    ``/`` or ``?`` after a numeric head (``redis://u:123/x@h``: the host ``u``, the port
    ``123``, the graph ``x@h``, and the driver's error quoted ``u:123``): it is refused too,
    saying where such data is written instead (``%40``, which both drivers decode; or, for a
    graph name, the graph setting)."""
    # the whole target is the URL: a password holding a space ("u:123/x y@h") too
    m = _SCHEME.match(url)
    if m is None:
        return
    rest = url[m.end() :]
    end = _AUTHORITY_END.search(rest)
    authority = rest[: end.start()] if end else rest
    found = _user_info(rest, loose=True)
    if "@" in authority or found is None or ":" not in found[0]:
        return
    advice = ""
    if _host_and_port(authority):
        tail = rest[len(authority) :]
        at, query, fragment = tail.rindex("@"), tail.find("?"), tail.find("#")
        if 0 <= fragment < at:
            part = "fragment"
        elif 0 <= query < at and (fragment < 0 or query < fragment):
            part = "query"
        else:
            part = "path"
        if part == data == "path":
            advice = (
                "; a graph name holding '@' is written %40 in the URL's path (it is "
                "percent-decoded) or given as the graph setting (graph=..., LINEAGE_GRAPH_GRAPH)"
            )
        elif part == data == "query":
            advice = "; an '@' in a routing context is written %40 (the driver decodes it)"
    raise ConfigurationError(
        f"the {what} {redact_target(url)!r} holds a raw '/', '?' or '#' before its last '@': "
        "a password (or a user) holding one is written percent-encoded ('/' as %2F, "
        "'?' as %3F, '#' as %23, '@' as %40); the drivers read the text before it as the "
        f"host and port{advice}"
    )


_Parsed = TypeVar("_Parsed", SplitResult, ParseResult)


def parse_url(url: str, what: str, parse: Callable[[str], _Parsed]) -> tuple[_Parsed, int | None]:
    """``(parse(url), its port)``, or :class:`~lineage_graph.exceptions.ConfigurationError`
    naming ``what`` and quoting none of the URL. urllib's ValueErrors quote its parts: the
    password of a URL whose ``@host`` was forgotten (``bolt://neo4j:s3cret``: "Port could not
    be cast to integer value as 's3cret'"), of a user info in brackets (``'s3cret' does not
    appear to be an IPv4 or IPv6 address``), the whole user info when a character reads as
    ``#`` once NFKC-normalized (a fullwidth ``#``, U+FF03)."""
    try:
        parts = parse(url)
    except ValueError:
        raise ConfigurationError(
            f"invalid {what}: its host cannot be read ('[' ']' around no IPv6 address, or a "
            "character that reads as '/', '?', '#', '@' or ':' once NFKC-normalized)"
        ) from None
    try:
        return parts, parts.port
    except ValueError as exc:
        why = (
            "Port out of range 0-65535"
            if "out of range" in str(exc)
            else "its port is not a number (a user:password written with no @host?)"
        )
        raise ConfigurationError(f"invalid {what}: {why}") from None
