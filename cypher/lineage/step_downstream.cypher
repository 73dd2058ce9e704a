// One hop downstream from a frontier: the executions reading the frontier's artifacts and the
// artifacts its executions produced, through events recorded up to $as_of (null: any time).
// Used when a hop limit, a boundary or a point in time shapes the traversal (one query per hop).
MATCH (a:Artifact)-[r:EVENT]->(x:Execution)
WHERE a.id IN $artifact_ids AND ($as_of IS NULL OR r.ms <= $as_of)
RETURN DISTINCT 'Execution' AS label, x.id AS id
UNION
MATCH (e:Execution)-[r:EVENT]->(x:Artifact)
WHERE e.id IN $execution_ids AND ($as_of IS NULL OR r.ms <= $as_of)
RETURN DISTINCT 'Artifact' AS label, x.id AS id
