// FalkorDB: a variable-length pattern enumerates paths here (2^k on k diamonds, DESIGN.md §4), so
// the traversal is algo.BFS, which visits each node once but follows outgoing edges only:
// downstream it walks the EVENT edges themselves.
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
UNWIND nodes AS x
RETURN DISTINCT labels(x)[0] AS label, x.id AS id
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
UNWIND nodes AS x
RETURN DISTINCT labels(x)[0] AS label, x.id AS id
