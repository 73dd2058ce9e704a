// Claim the version number of a registered model (its context $context_id) for the artifact
// $artifact_id, atomically: concurrent registrations of one name each get their own number, and
// concurrent registrations of one artifact under one name the same one (they then write the
// same version; distinct numbers would leave all but the last one's registration answering a
// version the artifact no longer holds). The context keeps the next number
// (`next_model_version`), the artifact the number it was given (`model_claim`: [context id,
// version]); both are internal keys updates keep. $floor, one above the highest version the
// caller read, covers a context without it (registered before it was kept).
// The claim attributes the artifact to the registered model in the same statement, so a claim
// under another registered model that the artifact is attributed to (a registration under
// another name, finished or under way in another process) refuses this one: nothing is written
// and `registered_as` names the other (the caller's read of the artifact cannot tell, as both
// registrations may read it before either writes). A claim without its attribution (written by
// an earlier version that failed before its write) is taken over.
// The lock properties make Neo4j take both nodes' write locks before reading them (as
// ids/reserve): claims on one name or one artifact run one at a time; FalkorDB runs one write at
// a time anyway. Each lock is removed by its own SET (FalkorDB 4.16, issue 1787).
MATCH (c:Context {id: $context_id})
MATCH (a:Artifact {id: $artifact_id})
SET c.lock = true
SET a.lock = true
WITH c, a, coalesce(c.next_model_version, 0) AS kept,
     CASE WHEN a.model_claim[0] = c.id THEN a.model_claim[1] END AS claimed,
     CASE WHEN a.model_claim[0] <> c.id THEN a.model_claim[0] END AS elsewhere
OPTIONAL MATCH (a)-[:ATTRIBUTION]->(o:Context {id: elsewhere})
WITH c, a, claimed, o, CASE WHEN kept > $floor THEN kept ELSE $floor END AS fresh
WITH c, a, claimed, o, coalesce(claimed, fresh) AS version
FOREACH (x IN CASE WHEN o IS NULL THEN [1] ELSE [] END |
  SET c.next_model_version = CASE WHEN claimed IS NULL THEN version + 1 ELSE c.next_model_version END,
      a.model_claim = [c.id, version]
  MERGE (a)-[:ATTRIBUTION]->(c)
)
SET c.lock = null
SET a.lock = null
RETURN CASE WHEN o IS NULL THEN version END AS version, o.name AS registered_as
