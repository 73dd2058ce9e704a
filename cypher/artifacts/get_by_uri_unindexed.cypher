// get_by_uri for a uri the embedded engine's string index cannot find (empty, ASCII whitespace at
// an end, U+0001 inside: `indexable()` in _encoding.py). Neo4j's index holds every string, so
// this twin is the indexed lookup; cypher/falkordb/ compares an expression instead.
MATCH (n:Artifact)
WHERE n.uri = $uri
RETURN properties(n) AS node
ORDER BY node.id
