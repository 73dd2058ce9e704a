// The executions linked by an event (either way) to each of these artifacts.
MATCH (a:Artifact)-[:EVENT]-(e:Execution)
WHERE a.id IN $ids
RETURN DISTINCT a.id AS id, e.id AS other
