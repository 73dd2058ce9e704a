// FalkorDB: lineage/reach_downstream_nodes over algo.BFS (see falkordb/lineage/reach_downstream). A start
// node without edges yields no BFS row at all, so the start nodes come from their own branches.
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
UNWIND nodes AS x
WITH DISTINCT x
RETURN labels(x)[0] AS label, properties(x) AS node
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
UNWIND nodes AS x
WITH DISTINCT x
RETURN labels(x)[0] AS label, properties(x) AS node
UNION
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
RETURN 'Artifact' AS label, properties(s) AS node
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
RETURN 'Execution' AS label, properties(s) AS node
