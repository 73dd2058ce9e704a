// How many writes of parent links the store has taken (StoreInfo.parent_links; FalkorDB's
// graph/write bumps it, and aborts when it changed since put_parent_contexts read it here, before
// its cycle check). Neo4j's graph/write locks the store record and checks cycles itself instead.
OPTIONAL MATCH (m:StoreInfo {key: 'store'})
RETURN coalesce(m.parent_links, 0) AS version
