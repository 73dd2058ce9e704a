// Schema version 2 -> 3, in ONE statement (atomic). Version 2 stores written before the input
// fingerprint existed (it joined version 2's migration and graph/write later, without a version
// of its own) hold executions with no `input_sig`: find_cached_execution and the pipeline's cache
// never found them. Version 3 gives every execution that lacks one its fingerprint, computed as
// graph/write.cypher computes it; executions that have one keep it.
MATCH (info:StoreInfo {key: 'store'})
WHERE info.schema_version = $from_version
CALL {
  MATCH (e:Execution)
  WHERE e.input_sig IS NULL
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
