// Claim the next version number of a registered model (its context $context_id), atomically:
// concurrent registrations of one name each get their own number. The context keeps the next
// number (`next_model_version`, an internal key updates keep); $floor, one above the highest
// version the caller read, covers a context without it (registered before it was kept).
// The lock property makes Neo4j take the node's write lock before reading the number (as
// ids/reserve); FalkorDB runs one write at a time anyway.
MATCH (c:Context {id: $context_id})
SET c.lock = true
WITH c, coalesce(c.next_model_version, 0) AS kept
WITH c, CASE WHEN kept > $floor THEN kept ELSE $floor END AS version
SET c.next_model_version = version + 1, c.lock = null
RETURN version
