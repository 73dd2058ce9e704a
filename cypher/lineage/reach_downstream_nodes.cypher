// lineage/reach_downstream with each node's stored properties instead of its id: a whole answer in
// one round trip, without looking every node up again by id (the start nodes included).
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
MATCH (s)-[:EVENT*1..]->(x)
WITH DISTINCT x
RETURN labels(x)[0] AS label, properties(x) AS node
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
MATCH (s)-[:EVENT*1..]->(x)
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
