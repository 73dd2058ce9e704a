// Give the store record the creation time of the store a staged graph replaces (an import).
MATCH (m:StoreInfo {key: 'store'})
SET m.created_ms = $created_ms
RETURN m.created_ms AS created_ms
