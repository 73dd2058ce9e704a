// Claim the version number of a registered model (its context $context_id) for the artifact
// $artifact_id, atomically: concurrent registrations of one name each get their own number, and
// concurrent registrations of one artifact under one name the same one (they then write the
// same version; distinct numbers would leave all but the last one's registration answering a
// version the artifact no longer holds). The context keeps the next number
// (`next_model_version`), the artifact the number it was given (`model_claim`: [context id,
// version]); both are internal keys updates keep. $floor, one above the highest version the
// caller read, covers a context without it (registered before it was kept).
// The lock property makes Neo4j take the context's write lock before reading either (as
// ids/reserve): claims under one name run one at a time; FalkorDB runs one write at a time anyway.
MATCH (c:Context {id: $context_id})
MATCH (a:Artifact {id: $artifact_id})
SET c.lock = true
WITH c, a, coalesce(c.next_model_version, 0) AS kept,
     CASE WHEN a.model_claim[0] = c.id THEN a.model_claim[1] END AS claimed
WITH c, a, kept, claimed, CASE WHEN kept > $floor THEN kept ELSE $floor END AS fresh
WITH c, a, claimed, coalesce(claimed, fresh) AS version
SET c.next_model_version = CASE WHEN claimed IS NULL THEN version + 1 ELSE c.next_model_version END,
    c.lock = null, a.model_claim = [c.id, version]
RETURN version
