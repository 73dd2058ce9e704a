// Apply one batch of a retention plan in ONE statement (one atomic transaction).
// $islands: groups of artifacts and executions linked by events to nothing outside the group;
// removing a whole island cuts no lineage of anything that stays, so it is deleted. An island
// that gained an event since it was planned is tombstoned instead (checked by counting its
// events, one index lookup per node: a list-membership test per edge is quadratic).
// $artifacts / $executions: nodes linked to what stays; they become tombstones: id, type and
// creation time (and an execution's last known state) stay, with every relationship, so
// lineage still passes through them; names, external ids, uris and all properties go.
// Artifacts become DELETED (MLMD's state for an artifact whose content is gone). The model
// registry's bookkeeping stays (store.tracker, lineage_graph/_tracker.py): a registered model
// version's model_name / model_version (and its claim), a Deployment's environment; without
// them the tracker listed no versions and answered no deployed version for a model in service.
// Only a registered version's (attributed to the RegisteredModel context of its model_name, as
// the tracker reads a registration): the same properties set by hand go as every property does. A node that
// is a tombstone already (a plan applied twice) is left as it is and not reported, so the
// result says what this statement did; so is a node that is gone.
// The policy's criteria another writer can change (the update time, the state) are checked
// again here: a node updated since the plan (e.g. an artifact MARKED_FOR_DELETION set back to
// LIVE: deleted anyway in 137 of 200 threaded races) no longer matches and stays as it is; an
// island holding one is tombstoned (but for that node) instead of deleted, as one linked to a
// node that stays. Null criteria match everything. With an archive, $artifact_archived /
// $execution_archived map each archived node's id (text) to its properties as archived: a node
// whose properties differ now (Neo4j's `lock` aside) was updated after the archive read it and
// stays as it is too (removed, its acknowledged update was in neither the store nor the
// archive). Every property, not the update time: an update in the same millisecond as the one
// before it keeps the time (writers stamp the clock's millisecond, MLMD's contract), and was
// lost so. A double's native twin (`pd__*` / `cd__*`, kept for filters) is left out, as the
// decoder leaves it: FalkorDB returns it with 15 significant digits, so it never compared equal
// (a node holding 0.1 + 0.2 was never removed); its exact `x` key is compared.
// Each node's archived map is looked up once (`was`): a map parameter's key is found by a
// scan, and three lookups per property made an archived apply of 5,000 nodes 1.8x slower. Read with the events, one index lookup per
// node for both (a lookup of its own made an apply of 9,000 nodes 25% slower).
UNWIND $islands AS island
CALL {
  WITH island
  UNWIND island.artifacts AS id
  OPTIONAL MATCH (n:Artifact {id: id})
  OPTIONAL MATCH (n)-[r:EVENT]-(:Execution)
  RETURN count(r) AS events_a,
         count(DISTINCT CASE WHEN NOT (
           ($updated_before IS NULL OR n.last_update_time_since_epoch < $updated_before)
           AND ($artifact_states IS NULL OR n.state IN $artifact_states)
           AND ($artifact_archived IS NULL
                OR any(was IN [coalesce($artifact_archived[toString(n.id)], {})]
                       WHERE all(x IN keys(n) + keys(was)
                                 WHERE x = 'lock' OR x STARTS WITH 'pd__' OR x STARTS WITH 'cd__'
                                    OR coalesce(n[x] = was[x], n[x] IS NULL AND was[x] IS NULL)))))
         THEN n END) AS changed_a
}
CALL {
  WITH island
  UNWIND island.executions AS id
  OPTIONAL MATCH (n:Execution {id: id})
  OPTIONAL MATCH (n)-[r:EVENT]-(:Artifact)
  RETURN count(r) AS events_e,
         count(DISTINCT CASE WHEN NOT (
           ($updated_before IS NULL OR n.last_update_time_since_epoch < $updated_before)
           AND ($execution_states IS NULL OR n.last_known_state IN $execution_states)
           AND ($execution_archived IS NULL
                OR any(was IN [coalesce($execution_archived[toString(n.id)], {})]
                       WHERE all(x IN keys(n) + keys(was)
                                 WHERE x = 'lock' OR x STARTS WITH 'pd__' OR x STARTS WITH 'cd__'
                                    OR coalesce(n[x] = was[x], n[x] IS NULL AND was[x] IS NULL)))))
         THEN n END) AS changed_e
}
// With an archive, $island_contexts maps each island's key (text) to the attributions and
// associations its nodes had as archived: one added since (a writer putting a node in a context
// acknowledged between the archive's read and this statement) was in neither the store nor the
// archive once the island was deleted; the island is tombstoned instead (its relationships stay).
// Counted only with an archive (no lookup added to an apply without one).
CALL {
  WITH island
  UNWIND CASE WHEN $island_contexts IS NULL THEN [] ELSE island.artifacts END AS id
  OPTIONAL MATCH (:Artifact {id: id})-[r:ATTRIBUTION]->(:Context)
  RETURN count(r) AS contexts_a
}
CALL {
  WITH island
  UNWIND CASE WHEN $island_contexts IS NULL THEN [] ELSE island.executions END AS id
  OPTIONAL MATCH (:Execution {id: id})-[r:ASSOCIATION]->(:Context)
  RETURN count(r) AS contexts_e
}
// Planned with island.events relationships, all inside it: each is counted once from its
// artifact and once from its execution. Any other count: it changed, so it is not removed.
WITH island, events_a = island.events AND events_e = island.events
             AND changed_a = 0 AND changed_e = 0
             AND ($island_contexts IS NULL
                  OR contexts_a + contexts_e = $island_contexts[toString(island.key)]) AS unchanged
WITH collect(CASE WHEN unchanged THEN island END) AS clear,
     collect(CASE WHEN NOT unchanged THEN island END) AS linked
WITH clear, linked,
     reduce(ids = $artifacts, i IN linked | ids + i.artifacts) AS tomb_artifacts,
     reduce(ids = $executions, i IN linked | ids + i.executions) AS tomb_executions
CALL {
  WITH tomb_artifacts
  UNWIND tomb_artifacts AS id
  MATCH (n:Artifact {id: id})
  WHERE n.tombstone_time_since_epoch IS NULL
    AND ($updated_before IS NULL OR n.last_update_time_since_epoch < $updated_before)
    AND ($artifact_states IS NULL OR n.state IN $artifact_states)
    AND ($artifact_archived IS NULL
         OR any(was IN [coalesce($artifact_archived[toString(n.id)], {})]
                WHERE all(x IN keys(n) + keys(was)
                          WHERE x = 'lock' OR x STARTS WITH 'pd__' OR x STARTS WITH 'cd__'
                             OR coalesce(n[x] = was[x], n[x] IS NULL AND was[x] IS NULL))))
  OPTIONAL MATCH (n)-[:ATTRIBUTION]->(m:Context)
  WHERE m.type = 'RegisteredModel' AND m.name = n.cs__model_name
  WITH n, count(m) > 0 AS registered
  WITH n, n {.id, .type_id, .type, .type_version, .create_time_since_epoch, .mlmd_origin,
             .model_claim,
             cs__model_name: CASE WHEN registered THEN n.cs__model_name END,
             ci__model_version: CASE WHEN registered THEN n.ci__model_version END} AS kept
  SET n = kept
  SET n.state = $deleted_state, n.last_update_time_since_epoch = $now,
      n.tombstone_time_since_epoch = $now
  RETURN collect(n.id) AS tombstoned_artifacts
}
CALL {
  WITH tomb_executions
  UNWIND tomb_executions AS id
  MATCH (n:Execution {id: id})
  WHERE n.tombstone_time_since_epoch IS NULL
    AND ($updated_before IS NULL OR n.last_update_time_since_epoch < $updated_before)
    AND ($execution_states IS NULL OR n.last_known_state IN $execution_states)
    AND ($execution_archived IS NULL
         OR any(was IN [coalesce($execution_archived[toString(n.id)], {})]
                WHERE all(x IN keys(n) + keys(was)
                          WHERE x = 'lock' OR x STARTS WITH 'pd__' OR x STARTS WITH 'cd__'
                             OR coalesce(n[x] = was[x], n[x] IS NULL AND was[x] IS NULL))))
  WITH n,
       n {.id, .type_id, .type, .type_version, .create_time_since_epoch, .last_known_state,
          .mlmd_origin,
          cs__environment: CASE WHEN n.type = 'Deployment' THEN n.cs__environment END}
         AS kept
  SET n = kept
  SET n.last_update_time_since_epoch = $now, n.tombstone_time_since_epoch = $now
  RETURN collect(n.id) AS tombstoned_executions
}
CALL {
  WITH clear
  UNWIND clear AS island
  UNWIND island.artifacts AS id
  MATCH (n:Artifact {id: id})
  WITH n, n.id AS gone
  DETACH DELETE n
  RETURN collect(gone) AS deleted_artifacts
}
CALL {
  WITH clear
  UNWIND clear AS island
  UNWIND island.executions AS id
  MATCH (n:Execution {id: id})
  WITH n, n.id AS gone
  DETACH DELETE n
  RETURN collect(gone) AS deleted_executions
}
// linked_islands: the keys of the islands found linked; the caller counts those this statement
// tombstoned a node of (an island gone since, or made of tombstones, had nothing done to it).
RETURN tombstoned_artifacts, tombstoned_executions, deleted_artifacts, deleted_executions,
       [i IN linked | i.key] AS linked_islands
