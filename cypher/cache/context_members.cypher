// The members of contexts: executions associated with and artifacts attributed to any of $ids.
MATCH (e:Execution)-[:ASSOCIATION]->(c:Context)
WHERE c.id IN $ids
RETURN 'association' AS link, e.id AS node_id, c.id AS context_id
UNION ALL
MATCH (a:Artifact)-[:ATTRIBUTION]->(c:Context)
WHERE c.id IN $ids
RETURN 'attribution' AS link, a.id AS node_id, c.id AS context_id
