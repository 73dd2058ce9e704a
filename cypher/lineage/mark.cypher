// Mark the artifacts an impact analysis found, and keep what it takes to undo it, in ONE
// statement (atomic): the ImpactMark record holds, per artifact, the values to restore.
// `r.set` maps hold the encoded keys to set; a null value removes that key.
// Each artifact keeps the marks that may still be undone, newest last (`impact_marks`), and
// the update time the last mark or undo wrote (`impact_ms`). Any other update drops both or
// moves the update time past `impact_ms`: the marks below it may then no longer be undone, so
// a mark made after such an update starts the list afresh.
CREATE (m:ImpactMark {key: $key, created_ms: $now, source: $source, undo: $undo})
WITH m
UNWIND $rows AS r
MATCH (n:Artifact {id: r.id})
SET n.lock = true  // Neo4j takes the node's write lock before the read below (as ids/reserve)
WITH n, r,
     CASE WHEN n.impact_ms = n.last_update_time_since_epoch
          THEN coalesce(n.impact_marks, []) ELSE [] END AS below
SET n += r.set, n.impact_marks = below + [$key], n.impact_ms = $now, n.lock = null
RETURN count(n) AS marked
