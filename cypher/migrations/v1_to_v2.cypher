// Schema version 1 -> 2, in ONE statement (atomic). Version 2 adds, on FalkorDB only, an UPSTREAM
// edge mirroring every EVENT (see cypher/falkordb/graph/write.cypher), and on every engine the
// indexed input fingerprint `input_sig` of every execution (kept by graph/write from then on).
// StoreInfo's lock first, the version read under it (see v2_to_v3.cypher): a second migrator
// waits for the first, then does nothing.
MATCH (info:StoreInfo {key: 'store'})
SET info.lock = true
SET info.lock = null  // before the check (no WITH between: FalkorDB left it set on no row)
WITH info
WHERE info.schema_version = $from_version
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
