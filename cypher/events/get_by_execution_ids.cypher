MATCH (e:Execution)-[r:EVENT]-(a:Artifact)
WHERE e.id IN $ids
RETURN a.id AS artifact_id, e.id AS execution_id, r.type AS type, r.path AS path, r.ms AS ms
ORDER BY execution_id, artifact_id, type
