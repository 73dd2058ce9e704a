// Record the schema version of a new store (idempotent: keeps an existing record).
MERGE (m:StoreInfo {key: 'store'})
ON CREATE SET m.schema_version = $schema_version, m.library_version = $library_version,
              m.created_ms = $now
RETURN m.schema_version AS schema_version
