// FalkorDB: lineage/step_any with the engine's own node ids, id(x). A lookup by `id` costs
// ~11 µs per id through the range index, a seek by id(x) ~0.2 µs: a step from the 1,000
// models of a fan-out took 12.8 ms by `id`, 2.0 ms by id(x) (3.7 ms with the count below).
// The seek must stand alone in its MATCH (with the label or the `id` test beside it FalkorDB
// plans an index or label scan).
// DESIGN.md §2 keeps engine ids out of the API: these never leave one lineage call, and each is
// checked against the node's label and `id`. A node keeps its engine id while it exists, across
// restarts (tests/embedded/test_frontier_seeks.py); a deleted node's id may go to a new node,
// whose `id` differs, so the check drops it as a lookup by `id` would. The last two branches
// count the pairs that still name their node (`sought`): fewer than sent, and the caller asks
// again by `id` for that kind, so a changed engine id costs a round trip, never a node.
// `r.ms <= $as_of` is compared on one side of 0 only: FalkorDB compares two integers through
// their difference, which overflows when they are 2^63 or more apart (an event at 2^62 + 1
// was followed as of -2^62); of opposite signs, the negative one is the earlier.
MATCH (a:Artifact)-[r:EVENT]-(x:Execution)
WHERE a.id IN $artifact_ids AND ($as_of IS NULL OR CASE WHEN (r.ms < 0) <> ($as_of < 0) THEN r.ms < 0 ELSE r.ms <= $as_of END)
RETURN DISTINCT 'Execution' AS label, x.id AS id, id(x) AS iid, null AS sought
UNION
MATCH (e:Execution)-[r:EVENT]-(x:Artifact)
WHERE e.id IN $execution_ids AND ($as_of IS NULL OR CASE WHEN (r.ms < 0) <> ($as_of < 0) THEN r.ms < 0 ELSE r.ms <= $as_of END)
RETURN DISTINCT 'Artifact' AS label, x.id AS id, id(x) AS iid, null AS sought
UNION
UNWIND $artifact_refs AS ref
WITH ref[0] AS ref_iid, ref[1] AS ref_id
MATCH (a) WHERE id(a) = ref_iid
WITH a, ref_id WHERE a:Artifact AND a.id = ref_id
MATCH (a)-[r:EVENT]-(x:Execution)
WHERE $as_of IS NULL OR CASE WHEN (r.ms < 0) <> ($as_of < 0) THEN r.ms < 0 ELSE r.ms <= $as_of END
RETURN DISTINCT 'Execution' AS label, x.id AS id, id(x) AS iid, null AS sought
UNION
UNWIND $execution_refs AS ref
WITH ref[0] AS ref_iid, ref[1] AS ref_id
MATCH (e) WHERE id(e) = ref_iid
WITH e, ref_id WHERE e:Execution AND e.id = ref_id
MATCH (e)-[r:EVENT]-(x:Artifact)
WHERE $as_of IS NULL OR CASE WHEN (r.ms < 0) <> ($as_of < 0) THEN r.ms < 0 ELSE r.ms <= $as_of END
RETURN DISTINCT 'Artifact' AS label, x.id AS id, id(x) AS iid, null AS sought
UNION
UNWIND $artifact_refs AS ref
WITH ref[0] AS ref_iid, ref[1] AS ref_id
MATCH (a) WHERE id(a) = ref_iid
WITH a, ref_id WHERE a:Artifact AND a.id = ref_id
RETURN 'Artifact' AS label, null AS id, null AS iid, count(a) AS sought
UNION
UNWIND $execution_refs AS ref
WITH ref[0] AS ref_iid, ref[1] AS ref_id
MATCH (e) WHERE id(e) = ref_iid
WITH e, ref_id WHERE e:Execution AND e.id = ref_id
RETURN 'Execution' AS label, null AS id, null AS iid, count(e) AS sought
