// FalkorDB: the fallback of falkordb/lineage/reach_downstream_nodes when its variable-length walk
// reaches the path cap (diamonds): algo.BFS visits each node once, whatever the paths, but its
// cost grows with the depth and the graph size; it follows outgoing edges only, so upstream it
// walks the UPSTREAM mirror edges. A start node without edges yields no BFS row, so the start
// nodes come from their own branches.
// Two shapes of row, so that no node is grouped with its events: one row per node (`node`: its
// stored properties; the other columns null) and one per outgoing event (`node` null, `id` the
// node's id, `other` the id at the event's other end). Grouping each node with its events was
// ~40% of FalkorDB's time (fan-out to 4,001 nodes 24 -> 15 ms, chain of 500 6.4 -> 4.5 ms).
// MATCH in a subquery, not a pattern comprehension (FalkorDB caches an empty plan for a
// comprehension over a relationship type that did not exist yet).
CALL {
  MATCH (s:Artifact)
  WHERE s.id IN $artifact_ids
  CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
  UNWIND nodes AS x
  RETURN x
  UNION
  MATCH (s:Execution)
  WHERE s.id IN $execution_ids
  CALL algo.BFS(s, -1, 'EVENT') YIELD nodes
  UNWIND nodes AS x
  RETURN x
  UNION
  MATCH (x:Artifact)
  WHERE x.id IN $artifact_ids
  RETURN x
  UNION
  MATCH (x:Execution)
  WHERE x.id IN $execution_ids
  RETURN x
}
WITH collect(DISTINCT x) AS xs
CALL {
  WITH xs
  UNWIND xs AS x
  RETURN labels(x)[0] AS label, properties(x) AS node,
         null AS id, null AS other, null AS type, null AS path, null AS ms
  UNION ALL
  WITH xs
  UNWIND xs AS x
  MATCH (x)-[r:EVENT]->(m)
  RETURN labels(x)[0] AS label, null AS node,
         x.id AS id, m.id AS other, r.type AS type, r.path AS path, r.ms AS ms
}
RETURN label, node, id, other, type, path, ms
