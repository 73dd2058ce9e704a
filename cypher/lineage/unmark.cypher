// Undo an impact mark in ONE statement (atomic): drop its record and restore each artifact that
// was not updated since the mark (a later change by someone else is kept, never clobbered).
MATCH (m:ImpactMark {key: $key})
DETACH DELETE m
WITH DISTINCT 1 AS one
UNWIND $rows AS r
MATCH (n:Artifact {id: r.id})
WHERE n.last_update_time_since_epoch = r.expect_ms
SET n += r.set, n.last_update_time_since_epoch = $now
RETURN count(n) AS restored
