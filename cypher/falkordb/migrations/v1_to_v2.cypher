// Schema version 1 -> 2 on FalkorDB, in ONE statement (atomic): mirror every EVENT with an
// UPSTREAM edge (consumer -> producer) so upstream lineage can use algo.BFS, and record every
// execution's indexed input fingerprint `input_sig` (kept by graph/write from then on).
// StoreInfo's lock first, the version read under it (see v2_to_v3.cypher): a second migrator
// waits for the first, then does nothing.
MATCH (info:StoreInfo {key: 'store'})
SET info.lock = true
SET info.lock = null  // before the check (no WITH between: FalkorDB left it set on no row)
WITH info
WHERE info.schema_version = $from_version
CALL {
  MATCH (x)-[ev:EVENT]->(y)
  MERGE (y)-[up:UPSTREAM {type: ev.type}]->(x)
  ON CREATE SET up.ms = ev.ms
}
CALL {
  // Every execution's input fingerprint (see graph/write.cypher), for find_cached_execution.
  MATCH (e:Execution)
  OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
  WHERE ev.type = 3
  WITH e, [x IN collect(a.id) | x % 2147483647] AS h
  SET e.input_sig = toString(e.type_id) + '/' + toString(size(h)) + ':' +
    toString(reduce(s = 0, x IN h | (s + x) % 2147483647)) + ':' +
    toString(reduce(s = 0, x IN h | (s + x * x % 2147483647) % 2147483647)) + ':' +
    toString(reduce(s = 0, x IN h | (s + x * x % 2147483647 * x % 2147483647) % 2147483647))
}
SET info.schema_version = $to_version, info.library_version = $library_version,
    info.migrated_ms = $now
RETURN info.schema_version AS schema_version
