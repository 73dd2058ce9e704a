// Schema version 0 -> 1, in ONE statement (atomic: applied entirely or not at all).
// Version 0, the layout before schema versioning: no StoreInfo record, ids allocated as
// max(id) + 1 (no IdSequence nodes), artifact `state` and execution `last_known_state` stored as
// enum names ('LIVE', 'COMPLETE', ...). Version 1 records its version, allocates ids from one
// IdSequence node per kind, and stores states as their MLMD enum numbers.
// An id sequence continues after the highest id; after an id of 2^63 - 1 it stays there (no id
// is left: ids/reserve refuses the next): `top + 1` raised "long overflow" on Neo4j (the store
// could not be opened) and wrapped to -2^63 on FalkorDB.
// MERGE on the uniquely constrained StoreInfo key serialises concurrent migrators; the version
// check after it makes a second migrator a no-op (it returns no row).
MERGE (info:StoreInfo {key: 'store'})
ON CREATE SET info.schema_version = $from_version, info.created_ms = $now
WITH info
WHERE info.schema_version = $from_version
CALL {
  MATCH (a:Artifact)
  WHERE a.state IN keys($artifact_states)
  SET a.state = $artifact_states[a.state]
}
CALL {
  MATCH (e:Execution)
  WHERE e.last_known_state IN keys($execution_states)
  SET e.last_known_state = $execution_states[e.last_known_state]
}
CALL {
  OPTIONAL MATCH (a:Artifact)
  WITH coalesce(max(a.id), 0) AS top
  MERGE (s:IdSequence {kind: 'Artifact'})
  SET s.next = CASE WHEN s.next > top THEN s.next
                    WHEN top < 9223372036854775807 THEN top + 1 ELSE top END
}
CALL {
  OPTIONAL MATCH (e:Execution)
  WITH coalesce(max(e.id), 0) AS top
  MERGE (s:IdSequence {kind: 'Execution'})
  SET s.next = CASE WHEN s.next > top THEN s.next
                    WHEN top < 9223372036854775807 THEN top + 1 ELSE top END
}
CALL {
  OPTIONAL MATCH (c:Context)
  WITH coalesce(max(c.id), 0) AS top
  MERGE (s:IdSequence {kind: 'Context'})
  SET s.next = CASE WHEN s.next > top THEN s.next
                    WHEN top < 9223372036854775807 THEN top + 1 ELSE top END
}
CALL {
  OPTIONAL MATCH (t1:ArtifactType)
  WITH coalesce(max(t1.id), 0) AS top1
  OPTIONAL MATCH (t2:ExecutionType)
  WITH top1, coalesce(max(t2.id), 0) AS top2
  OPTIONAL MATCH (t3:ContextType)
  WITH top1, top2, coalesce(max(t3.id), 0) AS top3
  WITH reduce(m = 0, x IN [top1, top2, top3] | CASE WHEN x > m THEN x ELSE m END) AS top
  MERGE (s:IdSequence {kind: 'Type'})
  SET s.next = CASE WHEN s.next > top THEN s.next
                    WHEN top < 9223372036854775807 THEN top + 1 ELSE top END
}
SET info.schema_version = $to_version, info.library_version = $library_version,
    info.migrated_ms = $now
RETURN info.schema_version AS schema_version
