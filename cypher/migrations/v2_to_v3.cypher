// Schema version 2 -> 3, in ONE statement (atomic). Version 2 stores written before the input
// fingerprint existed (it joined version 2's migration and graph/write later, without a version
// of its own) hold executions with no `input_sig`: find_cached_execution and the pipeline's cache
// never found them. Nor is a fingerprint such a store holds sure to be right: the library from
// before the fingerprint also recorded version 2, so it kept writing beside a newer one, adding
// inputs (put_events, put_execution) to executions that newer one had fingerprinted without
// changing their fingerprint. Version 3 recomputes every execution's fingerprint as
// graph/write.cypher computes it (the one it has, when right, is what it gets again).
// Setting the lock property first makes Neo4j take StoreInfo's write lock, and the version is
// read under it: a second migrator waits for the first to commit, then sees version 3 and does
// nothing (no row back), instead of recomputing from what it read before, over fingerprints the
// writers opened since have kept. FalkorDB runs one write at a time.
MATCH (info:StoreInfo {key: 'store'})
SET info.lock = true
SET info.lock = null  // before the check (no WITH between: FalkorDB left it set on no row)
WITH info
WHERE info.schema_version = $from_version
CALL {
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
