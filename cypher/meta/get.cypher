MATCH (m:StoreInfo {key: 'store'})
RETURN m.schema_version AS schema_version, m.library_version AS library_version,
       m.created_ms AS created_ms
