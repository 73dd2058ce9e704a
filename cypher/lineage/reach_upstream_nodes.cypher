// lineage/reach_upstream with each node's stored properties and its incoming events: a whole answer
// in one round trip, nothing looked up again by id (the start nodes included). Every incoming
// event of a node upstream of the start comes from a node that is itself in the answer, so
// these events are exactly the answer's events.
// At most $cap - 1 nodes: a larger answer returns no row at all and the caller runs
// lineage/reach_upstream_nodes_uncapped (the same walk without the bound). The bound lets a caller
// try this one round trip first when it may not need the whole walk (a walk bounded by hops:
// lineage/_traverse.py keeps the nodes within the hops, from the events returned). Neo4j prunes
// the variable-length pattern under DISTINCT to a breadth-first walk, and LIMIT stops it lazily.
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
UNWIND xs AS x
OPTIONAL MATCH (x)<-[r:EVENT]-(m)
RETURN labels(x)[0] AS label, properties(x) AS node,
       collect(CASE WHEN r IS NULL THEN null ELSE [m.id, r.type, r.path, r.ms] END) AS events
