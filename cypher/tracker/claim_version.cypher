// Claim the version number of a registered model (its context $context_id) for the artifact
// $artifact_id, atomically: concurrent registrations of one name each get their own number, and
// concurrent registrations of one artifact under one name the same one (they then write the
// same version; distinct numbers would leave all but the last one's registration answering a
// version the artifact no longer holds). The context keeps the next number
// (`next_model_version`), the artifact the number it was given (`model_claim`: [context id,
// version]); both are internal keys updates keep. $floor, one above the highest version the
// caller read, covers a context without it (registered before it was kept).
// A claim below $floor whose registration was not written (the artifact is not attributed to
// the context) is stale: its registration died before its write (a crash, a killed process)
// and a later one registered a higher version since. It is not reused: registered again, the
// artifact gets the next number, so versions still follow registration order (it
// got its old number back, below the versions registered meanwhile: 8 of the 8 claims left by
// 25 runs killing the server or the registering process).
// An artifact is a version of one registered model: one registered already under another name
// (attributed to the context its claim names) is not claimed again, and `taken_by` names that
// model (nothing written). A claim under another name not (yet) followed by its registration is
// taken over; that registration's write then finds its claim gone and writes nothing (the
// tracker makes it `expect` its claim). Two registrations of one artifact under two names at
// once attributed it to both models in 100 of 100 threaded races before.
// The lock properties make Neo4j take the context's and the artifact's write locks before
// reading them (as ids/reserve): claims under one name, and claims of one artifact, run one at a
// time; FalkorDB runs one write at a time anyway.
MATCH (c:Context {id: $context_id})
MATCH (a:Artifact {id: $artifact_id})
SET c.lock = true, a.lock = true
WITH c, a
OPTIONAL MATCH (a)-[:ATTRIBUTION]->(o:Context)
WHERE o.id = a.model_claim[0] AND o.id <> c.id
WITH c, a, head(collect(o.name)) AS taken_by
OPTIONAL MATCH (a)-[r:ATTRIBUTION]->(c)
WITH c, a, taken_by, count(r) > 0 AS registered
WITH c, a, taken_by, coalesce(c.next_model_version, 0) AS kept,
     CASE WHEN a.model_claim[0] = c.id AND (a.model_claim[1] >= $floor OR registered)
          THEN a.model_claim[1] END AS claimed
WITH c, a, taken_by, claimed, CASE WHEN kept > $floor THEN kept ELSE $floor END AS fresh
WITH c, a, taken_by, claimed, coalesce(claimed, fresh) AS version
// The number after int64's largest is never computed: Neo4j raises "long overflow" on
// `version + 1` (the registration of version 2^63 - 1 failed there) where FalkorDB wraps it to
// -2^63; the next registration is refused before this statement (_tracker.py: no number left).
SET c.next_model_version = CASE WHEN claimed IS NULL AND taken_by IS NULL
                                THEN CASE WHEN version < 9223372036854775807 THEN version + 1
                                          ELSE version END
                                ELSE c.next_model_version END,
    a.model_claim = CASE WHEN taken_by IS NULL THEN [c.id, version] ELSE a.model_claim END,
    c.lock = null, a.lock = null
RETURN version, taken_by
