// lineage/reach_upstream with each node's stored properties and its incoming events: a whole answer
// in one round trip, nothing looked up again by id (the start nodes included). Every incoming
// event of a node upstream of the start comes from a node that is itself in the answer, so
// these events are exactly the answer's events.
// At most $cap - 1 nodes: a larger answer returns no row at all and the caller runs
// lineage/reach_upstream_nodes_uncapped (the same walk without the bound). The bound lets a caller
// try this one round trip first when it may not need the whole walk (a walk bounded by hops:
// lineage/_traverse.py keeps the nodes within the hops, from the events returned). Neo4j prunes
// the variable-length pattern under DISTINCT to a breadth-first walk, and LIMIT stops it lazily.
// Two shapes of row, so that no node is grouped with its events: one row per node (`node`: its
// stored properties; the other columns null) and one per incoming event (`node` null, `id` the
// node's id, `other` the id at the event's other end). Grouping each node with its events was
// ~40% of FalkorDB's time (fan-out to 4,001 nodes 24 -> 15 ms, chain of 500 6.4 -> 4.5 ms).
CALL {
  MATCH (s:Artifact) WHERE s.id IN $artifact_ids RETURN s
  UNION
  MATCH (s:Execution) WHERE s.id IN $execution_ids RETURN s
}
WITH s
MATCH (s)<-[:EVENT*0..]-(x)
WITH DISTINCT x
LIMIT $cap
WITH collect(x) AS xs
WHERE size(xs) < $cap
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
