// Artifacts and executions of the given ids that carry no `mlmd_origin`: copies made by an import
// of an earlier version (before origins were recorded), which a merge re-run recognises by id,
// type, name, uri and MLMD's create time (which the copy kept: a node of the target's own has
// its own, so it is never taken for MLMD's).
UNWIND $artifact_ids AS i
MATCH (n:Artifact {id: i})
WHERE n.mlmd_origin IS NULL
RETURN 'Artifact' AS kind, n.id AS id, n.type_id AS type_id, n.name AS name, n.uri AS uri,
       n.create_time_since_epoch AS created
UNION ALL
UNWIND $execution_ids AS i
MATCH (n:Execution {id: i})
WHERE n.mlmd_origin IS NULL
RETURN 'Execution' AS kind, n.id AS id, n.type_id AS type_id, n.name AS name, null AS uri,
       n.create_time_since_epoch AS created
