// What a store holds before it is opened: its recorded schema version (null when the store has
// no StoreInfo record) and whether it holds any node at all (an empty store is simply new).
OPTIONAL MATCH (info:StoreInfo {key: 'store'})
WITH info
OPTIONAL MATCH (n)
WITH info, n
LIMIT 1
RETURN info.schema_version AS schema_version, info.library_version AS library_version,
       n IS NOT NULL AS has_data
