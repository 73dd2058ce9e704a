// The events of every artifact downstream of the start nodes (start artifacts included), with
// either end: the caller keeps those whose execution is in the answer.
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
MATCH (s)-[:EVENT*1..]->(x:Artifact)
WITH DISTINCT x
MATCH (x)-[r:EVENT]-(e:Execution)
RETURN x.id AS artifact_id, e.id AS execution_id, r.type AS type, r.path AS path, r.ms AS ms
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
MATCH (s)-[:EVENT*1..]->(x:Artifact)
WITH DISTINCT x
MATCH (x)-[r:EVENT]-(e:Execution)
RETURN x.id AS artifact_id, e.id AS execution_id, r.type AS type, r.path AS path, r.ms AS ms
UNION
MATCH (x:Artifact)-[r:EVENT]-(e:Execution)
WHERE x.id IN $artifact_ids
RETURN x.id AS artifact_id, e.id AS execution_id, r.type AS type, r.path AS path, r.ms AS ms
