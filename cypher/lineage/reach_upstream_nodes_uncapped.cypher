// lineage/reach_upstream_nodes without the path cap, the fallback the caller runs when that query
// returns no row (more paths (FalkorDB) or nodes (Neo4j) than $cap, or no start node exists).
// This text is the unbounded walk on every engine.
// lineage/reach_upstream with each node's stored properties and its incoming events: a whole answer
// in one round trip, nothing looked up again by id (the start nodes included). Every incoming
// event of a node upstream of the start comes from a node that is itself in the answer, so
// these events are exactly the answer's events.
// Two shapes of row, so that no node is grouped with its events: one row per node (`node`: its
// stored properties; the other columns null) and one per incoming event (`node` null, `id` the
// node's id, `other` the id at the event's other end). Grouping each node with its events was
// ~40% of FalkorDB's time (fan-out to 4,001 nodes 24 -> 15 ms, chain of 500 6.4 -> 4.5 ms).
CALL {
  MATCH (s:Artifact)
  WHERE s.id IN $artifact_ids
  MATCH (s)<-[:EVENT*1..]-(x)
  RETURN DISTINCT x
  UNION
  MATCH (s:Execution)
  WHERE s.id IN $execution_ids
  MATCH (s)<-[:EVENT*1..]-(x)
  RETURN DISTINCT x
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
  MATCH (x)<-[r:EVENT]-(m)
  RETURN labels(x)[0] AS label, null AS node,
         x.id AS id, m.id AS other, r.type AS type, r.path AS path, r.ms AS ms
}
RETURN label, node, id, other, type, path, ms
