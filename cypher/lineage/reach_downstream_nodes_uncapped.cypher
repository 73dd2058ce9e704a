// lineage/reach_downstream_nodes without the path cap, the fallback the caller runs when that query
// returns no row (more paths (FalkorDB) or nodes (Neo4j) than $cap, or no start node exists).
// This text is the unbounded walk on every engine.
// lineage/reach_downstream with each node's stored properties and its outgoing events: a whole answer
// in one round trip, nothing looked up again by id (the start nodes included). Every outgoing
// event of a node downstream of the start comes from a node that is itself in the answer, so
// these events are exactly the answer's events.
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
MATCH (s)-[:EVENT*1..]->(x)
WITH DISTINCT x
OPTIONAL MATCH (x)-[r:EVENT]->(m)
RETURN labels(x)[0] AS label, properties(x) AS node,
       collect(CASE WHEN r IS NULL THEN null ELSE [m.id, r.type, r.path, r.ms] END) AS events
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
MATCH (s)-[:EVENT*1..]->(x)
WITH DISTINCT x
OPTIONAL MATCH (x)-[r:EVENT]->(m)
RETURN labels(x)[0] AS label, properties(x) AS node,
       collect(CASE WHEN r IS NULL THEN null ELSE [m.id, r.type, r.path, r.ms] END) AS events
UNION
MATCH (x:Artifact)
WHERE x.id IN $artifact_ids
OPTIONAL MATCH (x)-[r:EVENT]->(m)
RETURN labels(x)[0] AS label, properties(x) AS node,
       collect(CASE WHEN r IS NULL THEN null ELSE [m.id, r.type, r.path, r.ms] END) AS events
UNION
MATCH (x:Execution)
WHERE x.id IN $execution_ids
OPTIONAL MATCH (x)-[r:EVENT]->(m)
RETURN labels(x)[0] AS label, properties(x) AS node,
       collect(CASE WHEN r IS NULL THEN null ELSE [m.id, r.type, r.path, r.ms] END) AS events
