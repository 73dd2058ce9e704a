// Claim the import of one MLMD store ($source: its key) into this store for $owner, for $ttl_ms
// from now by the server's clock, unless another import holds a claim that has not lapsed
// ($stale: a holder known to be dead, whose claim is taken over; else null). Renewing (the same
// owner) extends it. Nothing changes when the claim is held: `free` is false and the holder is
// returned. Setting the lock property first makes Neo4j take StoreInfo's write lock, so claims
// are serialised there too (a MERGE without a constraint is not); FalkorDB runs one write at a
// time.
MATCH (info:StoreInfo {key: 'store'})
SET info.lock = true
MERGE (c:ImportClaim {source: $source})
ON CREATE SET c.owner = $owner, c.until = 0
WITH info, c,
     (c.owner = $owner OR c.until < timestamp() OR coalesce(c.owner = $stale, false)) AS free
SET c.owner = CASE WHEN free THEN $owner ELSE c.owner END,
    c.until = CASE WHEN free THEN timestamp() + $ttl_ms ELSE c.until END,
    info.lock = null
RETURN free, c.owner AS owner, c.until - timestamp() AS left_ms
