MATCH (a:Artifact)-[r:EVENT]-(e:Execution)
WHERE a.id IN $ids
RETURN a.id AS artifact_id, e.id AS execution_id, r.type AS type, r.path AS path, r.ms AS ms
ORDER BY artifact_id, execution_id, type
