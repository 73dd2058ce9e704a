// FalkorDB: the fallback of falkordb/lineage/reach_downstream_nodes when its variable-length walk
// reaches the path cap (diamonds): algo.BFS visits each node once, whatever the paths, but its
// cost grows with the depth and the graph size; it follows outgoing edges only, so upstream it
// walks the UPSTREAM mirror edges. A start node without edges yields no BFS row, so the start
// nodes come from their own branches.
// OPTIONAL MATCH + collect, not a pattern comprehension (FalkorDB caches an empty plan for a
// comprehension over a relationship type that did not exist yet).
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
UNWIND nodes AS x
WITH DISTINCT x
OPTIONAL MATCH (x)-[r:EVENT]->(m)
RETURN labels(x)[0] AS label, properties(x) AS node,
       collect(CASE WHEN r IS NULL THEN null ELSE [m.id, r.type, r.path, r.ms] END) AS events
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
UNWIND nodes AS x
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
