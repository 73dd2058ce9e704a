// Schema version 1 -> 2, in ONE statement (atomic). Version 2 adds, on FalkorDB only, an UPSTREAM
// edge mirroring every EVENT (see cypher/falkordb/graph/write.cypher); on Neo4j the layout is
// unchanged and this statement only records the new version.
MATCH (info:StoreInfo {key: 'store'})
WHERE info.schema_version = $from_version
SET info.schema_version = $to_version, info.library_version = $library_version,
    info.migrated_ms = $now
RETURN info.schema_version AS schema_version
