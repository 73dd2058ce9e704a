// The context links of a set of artifacts and executions: attributions and associations, each
// with its place in the order links were written (`seq`, 0 for a link stored before it was kept).
// $artifact_ranges / $execution_ranges: the ids as [first, last] runs of consecutive ids
// (_repositories/_base.py id_ranges): one range seek per run, where FalkorDB's numeric index
// costs ~17 µs per id of an `IN` list (the 4,001 nodes of a fan-out: 68.5 ms as lists).
UNWIND $artifact_ranges AS run
MATCH (a:Artifact)-[l:ATTRIBUTION]->(c:Context)
WHERE a.id >= run[0] AND a.id <= run[1]
RETURN 'attribution' AS kind, a.id AS node_id, c.id AS context_id, coalesce(l.seq, 0) AS seq
UNION ALL
UNWIND $execution_ranges AS run
MATCH (e:Execution)-[l:ASSOCIATION]->(c:Context)
WHERE e.id >= run[0] AND e.id <= run[1]
RETURN 'association' AS kind, e.id AS node_id, c.id AS context_id, coalesce(l.seq, 0) AS seq
