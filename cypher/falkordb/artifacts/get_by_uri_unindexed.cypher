// FalkorDB: get_by_uri for a uri its string range index silently misses (an equality seek for
// "", for text with ASCII whitespace at an end or U+0001 inside returns no node: `indexable()` in
// _encoding.py). `n.uri + ''` is an expression, which no index serves: a label scan, for these
// rare values only.
MATCH (n:Artifact)
WHERE n.uri + '' = $uri
RETURN properties(n) AS node
ORDER BY node.id
