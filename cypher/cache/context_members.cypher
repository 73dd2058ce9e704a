// The members of contexts: executions associated with and artifacts attributed to any of $ids,
// each link with its place in the order links were written (`seq`, 0 for a link stored before it
// was kept), as lineage/links reads it: context_graph lists the links in that order too.
MATCH (e:Execution)-[l:ASSOCIATION]->(c:Context)
WHERE c.id IN $ids
RETURN 'association' AS link, e.id AS node_id, c.id AS context_id, coalesce(l.seq, 0) AS seq
UNION ALL
MATCH (a:Artifact)-[l:ATTRIBUTION]->(c:Context)
WHERE c.id IN $ids
RETURN 'attribution' AS link, a.id AS node_id, c.id AS context_id, coalesce(l.seq, 0) AS seq
