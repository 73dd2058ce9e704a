// After graph/write aborted on a uniqueness guard (FalkorDB): which of the write's names (per
// type) and external ids another execution holds. $names: {type_id, name, id} maps; $external_ids:
// {external_id, id} maps (id: the execution the write stores the key on).
UNWIND $names AS r
MATCH (n:Execution {name: r.name})
WHERE n.type_id = r.type_id AND n.id <> r.id
RETURN 'name' AS key, r.name AS value, n.id AS id
UNION ALL
UNWIND $external_ids AS r
MATCH (n:Execution {external_id: r.external_id})
WHERE n.id <> r.id
RETURN 'external_id' AS key, r.external_id AS value, n.id AS id
