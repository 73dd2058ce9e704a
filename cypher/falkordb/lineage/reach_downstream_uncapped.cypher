// FalkorDB: the fallback of falkordb/lineage/reach_downstream when its variable-length walk
// reaches the path cap (diamonds): algo.BFS visits each node once, whatever the paths, but its
// cost grows with the depth and the graph size; it follows outgoing edges only, so upstream it
// walks the UPSTREAM mirror edges.
// The start nodes are not returned (the caller has them).
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
