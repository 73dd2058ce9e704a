// The artifacts linked by an event (either way) to each of these executions.
MATCH (e:Execution)-[:EVENT]-(a:Artifact)
WHERE e.id IN $ids
RETURN DISTINCT e.id AS id, a.id AS other
