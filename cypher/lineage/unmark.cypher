// Undo an impact mark in ONE statement (atomic): drop its record and restore each artifact that
// was not updated since the mark (a later change by someone else is kept, never clobbered).
// Not updated since: this mark is the newest one on the artifact not undone (later marks were
// undone, newest first) and only marks and undos wrote it since (its update time is the one
// the last of them wrote; other updates drop `impact_marks` / `impact_ms`, see mark.cypher).
// A record made before artifacts kept their marks has `r.expect_ms`, the time the mark wrote.
MATCH (m:ImpactMark {key: $key})
DETACH DELETE m
WITH DISTINCT 1 AS one
UNWIND $rows AS r
MATCH (n:Artifact {id: r.id})
SET n.lock = true  // Neo4j takes the node's write lock before the reads below (as ids/reserve)
WITH n, r,
     (n.impact_marks IS NOT NULL AND n.impact_marks[-1] = $key
      AND n.impact_ms = n.last_update_time_since_epoch)
     OR (n.impact_marks IS NULL AND n.last_update_time_since_epoch = r.expect_ms) AS undo
SET n.lock = null
WITH n, r, undo
WHERE undo
WITH n, r, coalesce(n.impact_marks, [])[0..-1] AS below
SET n += r.set, n.last_update_time_since_epoch = $now, n.impact_ms = $now,
    n.impact_marks = CASE WHEN size(below) = 0 THEN null ELSE below END
FOREACH (d IN r.drop | SET n += d)  // one removal per SET (patch_row in _repositories/graph.py)
RETURN count(n) AS restored
