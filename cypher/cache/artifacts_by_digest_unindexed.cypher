// cache/artifacts_by_digest when a digest is one the embedded engine's string index cannot find
// (empty, ASCII whitespace at an end, U+0001 inside: `indexable()` in _encoding.py). Neo4j's
// index holds every string, so this twin is the indexed lookup; cypher/falkordb/ scans.
MATCH (a:Artifact)
WHERE a.ps__digest IN $digests
RETURN a.id AS id, a.ps__digest AS pd, a.cs__digest AS cd
UNION
MATCH (a:Artifact)
WHERE a.cs__digest IN $digests
RETURN a.id AS id, a.ps__digest AS pd, a.cs__digest AS cd
