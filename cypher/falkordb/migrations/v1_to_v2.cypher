// Schema version 1 -> 2 on FalkorDB, in ONE statement (atomic): mirror every EVENT with an
// UPSTREAM edge (consumer -> producer) so upstream lineage can use algo.BFS.
MATCH (info:StoreInfo {key: 'store'})
WHERE info.schema_version = $from_version
CALL {
  MATCH (x)-[ev:EVENT]->(y)
  MERGE (y)-[up:UPSTREAM {type: ev.type}]->(x)
  ON CREATE SET up.ms = ev.ms
}
SET info.schema_version = $to_version, info.library_version = $library_version,
    info.migrated_ms = $now
RETURN info.schema_version AS schema_version
