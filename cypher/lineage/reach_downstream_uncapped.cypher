// lineage/reach_downstream without the path cap, the fallback the caller runs when that query
// returns no row (FalkorDB: more paths than $cap; any engine: no start node exists). Neo4j's
// reach_downstream is never truncated, so this text is the same walk.
// Every node downstream of the start nodes (consumers of the start nodes, what they produced, and so on), each
// returned once, however many paths lead to it. Neo4j plans a variable-length pattern whose end
// nodes are only used under DISTINCT as a pruning BFS (VarLengthExpand(Pruning,BFS)): each node
// is visited once (DESIGN.md §4: 240 nodes of a 40-diamond ladder, 2^40 paths, in 14-29 ms).
// The start nodes themselves are not returned (the caller has them).
MATCH (s:Artifact)
WHERE s.id IN $artifact_ids
MATCH (s)-[:EVENT*1..]->(x)
RETURN DISTINCT labels(x)[0] AS label, x.id AS id
UNION
MATCH (s:Execution)
WHERE s.id IN $execution_ids
MATCH (s)-[:EVENT*1..]->(x)
RETURN DISTINCT labels(x)[0] AS label, x.id AS id
