"""``LIKE`` in filter_query follows SQLite's (MLMD 1.17.1's backend): ``%`` and ``_``, no escape
character, and case folding of ASCII letters only ("ü" does not match "Ü"; KELVIN SIGN is not
"k"). The oracle is Python's ``sqlite3``: the same LIKE MLMD runs.

The values mix the characters that tell the compiler's forms apart: ASCII letters in both cases,
the two characters beyond ASCII that ``toLower`` folds onto ASCII letters (U+212A, U+0130),
letters beyond ASCII, and text with none of them.
"""

from __future__ import annotations

import random
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_graph import Artifact, ArtifactType, LineageStore, NodeKind
from lineage_graph.mlmd._listing import ListQuery, list_node_ids

CHARS = "aAkKiIdD/.-7\u212a\u0130üÜß"


def _corpus() -> list[str]:
    rng = random.Random(20261203)
    uris = {"".join(rng.choice(CHARS) for _ in range(rng.randint(1, 9))) for _ in range(160)}
    uris |= {"/data", "/DATA", "/d/\u212ait", "/kit", "/KİT", "/kİt", "/Ünï/x", "/ünï/X", "/x/data"}
    return sorted(uris)


URIS = _corpus()
#: Names are the uris, but every third artifact has none (NULL: NULL LIKE p and NULL NOT LIKE p
#: are both NULL, so such rows match neither).
NAMES = [None if i % 3 == 0 else u for i, u in enumerate(URIS)]


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sqlite_like(pattern: str, *, negated: bool = False, field: str = "uri") -> list[int]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, uri TEXT, name TEXT)")
    db.executemany(
        "INSERT INTO a VALUES (?, ?, ?)", zip(range(1, len(URIS) + 1), URIS, NAMES, strict=True)
    )
    op = "NOT LIKE" if negated else "LIKE"
    sql = f"SELECT id FROM a WHERE {field} {op} ? ORDER BY id"
    return [r[0] for r in db.execute(sql, (pattern,))]


def our_like(
    store: LineageStore, pattern: str, *, negated: bool = False, field: str = "uri"
) -> list[int]:
    op = "NOT LIKE" if negated else "LIKE"
    query = ListQuery(kind=NodeKind.ARTIFACT, filter_query=f"{field} {op} {quote(pattern)}")
    found, _ = list_node_ids(store, query)
    return found


@pytest.fixture
def uris(store: LineageStore) -> LineageStore:
    store.put_artifact_type(ArtifactType(name="T"))
    ids = store.put_artifacts(
        [Artifact(type="T", uri=u, name=n) for u, n in zip(URIS, NAMES, strict=True)]
    )
    assert ids == list(range(1, len(URIS) + 1))
    return store


# Each form of the compiler: equality, prefix, suffix, both ends, one free segment, several,
# "_", with and without letters, beyond ASCII, and the two folded characters.
PATTERNS = [
    "/data", "/DATA", "/Data", "%data", "%DATA", "/d%", "/D%", "%a", "%A", "/d%a", "%at%",
    "%AT%", "%kit", "%KIT", "/kit", "%k%", "%K%", "%i%", "%İ%", "%\u212a%", "%İT", "%ü%",
    "%Ü%", "/ünï/%", "/ÜNÏ/%", "%ï/x", "%Ï/X", "/_/%", "%_", "_", "%", "", "%-7%", "%/%/%",
    "%a%k%", "d_ta", "/d_ta", "%ß", "%SS",
]  # fmt: skip


@pytest.mark.parametrize("field", ["uri", "name"])
@pytest.mark.parametrize("negated", [False, True])
def test_like_forms_match_sqlite(uris: LineageStore, negated: bool, field: str) -> None:
    mismatches = [
        (p, expected, got)
        for p in PATTERNS
        if (expected := sqlite_like(p, negated=negated, field=field))
        != (got := our_like(uris, p, negated=negated, field=field))
    ]
    assert not mismatches
    # Not vacuous: most patterns select some values, and not all of them.
    hits = [len(sqlite_like(p)) for p in PATTERNS]
    assert sum(1 for h in hits if 0 < h < len(URIS)) > len(PATTERNS) // 2


def _flip(ch: str, flip: bool) -> str:
    return ch.swapcase() if flip and ch.isascii() else ch


@st.composite
def patterns(draw: st.DrawFn) -> str:
    """Mostly a mutated slice of a stored value (so that many patterns match something):
    ASCII case flipped, characters replaced by ``_``, ``%`` inserted; sometimes random text."""
    if draw(st.booleans()):
        return draw(st.text(alphabet=CHARS + "%_", max_size=8))
    uri = draw(st.sampled_from(URIS))
    start = draw(st.integers(0, len(uri)))
    end = draw(st.integers(start, len(uri)))
    out = []
    for ch in uri[start:end]:
        op = draw(st.sampled_from(["keep", "keep", "flip", "_", "%"]))
        out.append({"keep": ch, "flip": _flip(ch, True), "_": "_", "%": "%" + ch}[op])
    prefix = draw(st.sampled_from(["", "", "%"]))
    suffix = draw(st.sampled_from(["", "", "%"]))
    return prefix + "".join(out) + suffix


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pattern=patterns(), negated=st.booleans(), field=st.sampled_from(["uri", "name"]))
def test_random_like_patterns_match_sqlite(
    uris: LineageStore, pattern: str, negated: bool, field: str
) -> None:
    expected = sqlite_like(pattern, negated=negated, field=field)
    assert our_like(uris, pattern, negated=negated, field=field) == expected
