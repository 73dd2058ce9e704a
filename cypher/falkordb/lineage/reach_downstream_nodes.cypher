// FalkorDB: every node downstream of the start nodes (the start nodes included), each once, with its
// events on the walked side, in one variable-length walk along the EVENT edges.
// FalkorDB expands such a pattern path by path (2^k paths on a ladder of k diamonds, DESIGN.md §4),
// so the walk stops after $cap paths (LIMIT is lazy: no further path is expanded) and then returns
// no row at all: the caller runs lineage/reach_downstream_nodes_uncapped (algo.BFS, each node once).
// Below the cap this beats algo.BFS, whose cost grows with the depth and with the size of the whole
// graph (chain of 500 generations: 2.3 ms vs 34 ms; chain of 10 in a 34k-node store: 0.4 ms vs
// 4.2 ms). A path costs ~0.6 µs, so a truncated walk costs < 10 ms at $cap = 10,000.
// Two shapes of row, so that no node is grouped with its events: one row per node (`node`: its
// stored properties; the other columns null) and one per outgoing event (`node` null, `id` the
// node's id, `other` the id at the event's other end). Grouping each node with its events was
// ~40% of FalkorDB's time (fan-out to 4,001 nodes 24 -> 15 ms, chain of 500 6.4 -> 4.5 ms).
// `WITH s` after CALL {}: without it FalkorDB 4.16 expands from every node of the graph.
CALL {
  MATCH (s:Artifact) WHERE s.id IN $artifact_ids RETURN s
  UNION
  MATCH (s:Execution) WHERE s.id IN $execution_ids RETURN s
}
WITH s
MATCH (s)-[:EVENT*0..]->(x)
WITH x LIMIT $cap
WITH collect(x) AS xs, count(*) AS paths
WHERE paths < $cap
UNWIND xs AS x
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
