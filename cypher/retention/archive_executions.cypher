// Full records of executions, as stored, with their events and contexts (the archive's rows).
// OPTIONAL MATCH + collect, not pattern comprehensions: FalkorDB 4.16 caches the plan of a
// comprehension over a relationship type that did not exist yet when it was first compiled, and
// that plan keeps returning [] afterwards (measured).
MATCH (n:Execution)
WHERE n.id IN $ids
OPTIONAL MATCH (n)-[:ASSOCIATION]->(c:Context)
WITH n, collect(DISTINCT c.id) AS contexts
OPTIONAL MATCH (n)-[r:EVENT]-(x:Artifact)
WITH n, contexts,
     collect(CASE WHEN r IS NULL THEN null
                  ELSE {artifact_id: x.id, type: r.type, path: r.path, ms: r.ms} END) AS events
RETURN properties(n) AS node, contexts, events
ORDER BY n.id
