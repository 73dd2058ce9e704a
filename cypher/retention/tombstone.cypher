// Turn artifacts and executions into tombstones: id, type, creation time (and an execution's
// last known state) stay, with every relationship, so lineage still passes through them; names,
// external ids, uris and all properties go. Artifacts become DELETED (MLMD's state for an
// artifact whose content is gone). Idempotent: a tombstone keeps its first tombstone time.
CALL {
  UNWIND $artifacts AS id
  MATCH (n:Artifact {id: id})
  WITH n, n {.id, .type_id, .type, .type_version, .create_time_since_epoch} AS kept,
       coalesce(n.tombstone_time_since_epoch, $now) AS since
  SET n = kept
  SET n.state = $deleted_state, n.last_update_time_since_epoch = $now,
      n.tombstone_time_since_epoch = since
}
CALL {
  UNWIND $executions AS id
  MATCH (n:Execution {id: id})
  WITH n,
       n {.id, .type_id, .type, .type_version, .create_time_since_epoch, .last_known_state} AS kept,
       coalesce(n.tombstone_time_since_epoch, $now) AS since
  SET n = kept
  SET n.last_update_time_since_epoch = $now, n.tombstone_time_since_epoch = since
}
RETURN size($artifacts) + size($executions) AS tombstoned
