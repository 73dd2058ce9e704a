// FalkorDB: cache/artifacts_by_digest when a digest is one its string range index silently
// misses (an IN seek for "", for text with ASCII whitespace at an end or U+0001 inside finds no
// node: `indexable()` in _encoding.py). Expressions, which no index serves: one label scan.
MATCH (a:Artifact)
WHERE (a.ps__digest + '') IN $digests OR (a.cs__digest + '') IN $digests
RETURN a.id AS id, a.ps__digest AS pd, a.cs__digest AS cd
