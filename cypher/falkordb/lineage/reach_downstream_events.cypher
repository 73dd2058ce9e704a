// FalkorDB: lineage/reach_downstream_events over algo.BFS (see falkordb/lineage/reach_downstream); the
// start artifacts' own events come from their own branch (a start without edges has no BFS row).
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
UNWIND nodes AS x
WITH DISTINCT x
MATCH (x:Artifact)-[r:EVENT]-(e:Execution)
RETURN x.id AS artifact_id, e.id AS execution_id, r.type AS type, r.path AS path, r.ms AS ms
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
UNWIND nodes AS x
WITH DISTINCT x
MATCH (x:Artifact)-[r:EVENT]-(e:Execution)
RETURN x.id AS artifact_id, e.id AS execution_id, r.type AS type, r.path AS path, r.ms AS ms
UNION
MATCH (x:Artifact)-[r:EVENT]-(e:Execution)
WHERE x.id IN $artifact_ids
RETURN x.id AS artifact_id, e.id AS execution_id, r.type AS type, r.path AS path, r.ms AS ms
