// One hop either way from a frontier (MLMD's BIDIRECTIONAL), through events recorded up to
// $as_of (null: any time).
// $artifact_ids / $execution_ids: the first hop's nodes, by id. $artifact_refs /
// $execution_refs: later hops' nodes as [iid, id] pairs, `iid` the engine's own id of the
// node as the previous hop returned it (Neo4j: elementId; FalkorDB: id(x)), checked against
// the label and `id` so that a node deleted meanwhile (its engine id reused) is not followed.
// The last two branches count the pairs that still name their node (`sought`): when fewer than
// sent, the caller asks again by `id` for that kind (an engine id that changed: Neo4j only
// promises an elementId within one transaction).
MATCH (a:Artifact)-[r:EVENT]-(x:Execution)
WHERE a.id IN $artifact_ids AND ($as_of IS NULL OR r.ms <= $as_of)
RETURN DISTINCT 'Execution' AS label, x.id AS id, elementId(x) AS iid, null AS sought
UNION
MATCH (e:Execution)-[r:EVENT]-(x:Artifact)
WHERE e.id IN $execution_ids AND ($as_of IS NULL OR r.ms <= $as_of)
RETURN DISTINCT 'Artifact' AS label, x.id AS id, elementId(x) AS iid, null AS sought
UNION
UNWIND $artifact_refs AS ref
WITH ref[0] AS ref_iid, ref[1] AS ref_id
MATCH (a:Artifact)
WHERE elementId(a) = ref_iid AND a.id = ref_id
MATCH (a)-[r:EVENT]-(x:Execution)
WHERE $as_of IS NULL OR r.ms <= $as_of
RETURN DISTINCT 'Execution' AS label, x.id AS id, elementId(x) AS iid, null AS sought
UNION
UNWIND $execution_refs AS ref
WITH ref[0] AS ref_iid, ref[1] AS ref_id
MATCH (e:Execution)
WHERE elementId(e) = ref_iid AND e.id = ref_id
MATCH (e)-[r:EVENT]-(x:Artifact)
WHERE $as_of IS NULL OR r.ms <= $as_of
RETURN DISTINCT 'Artifact' AS label, x.id AS id, elementId(x) AS iid, null AS sought
UNION
UNWIND $artifact_refs AS ref
WITH ref[0] AS ref_iid, ref[1] AS ref_id
MATCH (a:Artifact)
WHERE elementId(a) = ref_iid AND a.id = ref_id
RETURN 'Artifact' AS label, null AS id, null AS iid, count(a) AS sought
UNION
UNWIND $execution_refs AS ref
WITH ref[0] AS ref_iid, ref[1] AS ref_id
MATCH (e:Execution)
WHERE elementId(e) = ref_iid AND e.id = ref_id
RETURN 'Execution' AS label, null AS id, null AS iid, count(e) AS sought
