// Which of the given (artifact, execution, type) events already exist.
UNWIND $events AS k
MATCH (a:Artifact {id: k.artifact_id})-[r:EVENT]-(e:Execution {id: k.execution_id})
WHERE r.type = k.type
RETURN a.id AS artifact_id, e.id AS execution_id, r.type AS type
