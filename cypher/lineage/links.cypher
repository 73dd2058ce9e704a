// The context links of a set of artifacts and executions: attributions and associations.
MATCH (a:Artifact)-[:ATTRIBUTION]->(c:Context)
WHERE a.id IN $artifact_ids
RETURN 'attribution' AS kind, a.id AS node_id, c.id AS context_id
UNION ALL
MATCH (e:Execution)-[:ASSOCIATION]->(c:Context)
WHERE e.id IN $execution_ids
RETURN 'association' AS kind, e.id AS node_id, c.id AS context_id
