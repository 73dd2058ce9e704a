// Full records of artifacts, as stored, with their events and contexts (the archive's rows).
MATCH (n:Artifact)
WHERE n.id IN $ids
RETURN properties(n) AS node,
       [(n)-[:ATTRIBUTION]->(c:Context) | c.id] AS contexts,
       [(n)-[r:EVENT]-(x:Execution) | {execution_id: x.id, type: r.type, path: r.path, ms: r.ms}]
         AS events
ORDER BY n.id
