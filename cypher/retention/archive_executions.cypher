// Full records of executions, as stored, with their events and contexts (the archive's rows).
MATCH (n:Execution)
WHERE n.id IN $ids
RETURN properties(n) AS node,
       [(n)-[:ASSOCIATION]->(c:Context) | c.id] AS contexts,
       [(n)-[r:EVENT]-(x:Artifact) | {artifact_id: x.id, type: r.type, path: r.path, ms: r.ms}]
         AS events
ORDER BY n.id
