// Undo an impact mark in ONE statement (atomic): drop its record and restore each artifact that
// was not updated since the mark (a later change by someone else is kept, never clobbered).
// Not updated since: this mark is the newest one on the artifact not undone (later marks were
// undone, newest first) and only marks and undos wrote it since (its update time is the one
// the last of them wrote; other updates drop `impact_marks` / `impact_ms`, see mark.cypher).
// A record made before artifacts kept their marks has `r.expect_ms`, the time the mark wrote.
// An artifact this mark is still below a newer one on (stacked, both undoable) refuses the
// undo: nothing is written, the record stays and `newer` lists the marks to undo first (undone
// now, the record would be gone and the newer mark's undo would restore this mark's values,
// the artifact's earlier state lost for good). Every row is checked before anything is written
// (collect() is the barrier). No rows: the record alone is dropped.
MATCH (m:ImpactMark {key: $key})
WITH m
UNWIND CASE WHEN size($rows) = 0 THEN [null] ELSE $rows END AS r
OPTIONAL MATCH (n:Artifact {id: r.id})
// Neo4j takes the node's write lock before the reads below (as ids/reserve). In a FOREACH: a
// marked artifact deleted since (retention), or no row at all, leaves n null, and FalkorDB
// refuses a SET on null ("alias 'n' did not resolve to a graph entity"): such a mark could
// never be undone.
FOREACH (_ IN CASE WHEN n IS NULL THEN [] ELSE [1] END | SET n.lock = true)
WITH m, n, r,
     n.impact_ms = n.last_update_time_since_epoch AS untouched
WITH m, n, r,
     (n.impact_marks IS NOT NULL AND n.impact_marks[-1] = $key AND untouched)
     OR (n.impact_marks IS NULL AND n.last_update_time_since_epoch = r.expect_ms) AS undo,
     CASE WHEN untouched AND $key IN coalesce(n.impact_marks, [])
               AND n.impact_marks[-1] <> $key THEN n.impact_marks[-1] END AS newer
FOREACH (_ IN CASE WHEN n IS NULL THEN [] ELSE [1] END | SET n.lock = null)
WITH m, collect(DISTINCT newer) AS newer, collect(CASE WHEN undo THEN {n: n, r: r} END) AS found
FOREACH (_ IN CASE WHEN size(newer) = 0 THEN [1] ELSE [] END | DETACH DELETE m)
WITH newer, found
CALL {
  WITH newer, found
  UNWIND CASE WHEN size(newer) = 0 THEN found ELSE [] END AS x
  WITH x.n AS n, x.r AS r, coalesce(x.n.impact_marks, [])[0..-1] AS below
  SET n += r.set, n.last_update_time_since_epoch = $now, n.impact_ms = $now,
      n.impact_marks = CASE WHEN size(below) = 0 THEN null ELSE below END
  FOREACH (d IN r.drop | SET n += d)  // one removal per SET (patch_row in _repositories/graph.py)
  RETURN count(n) AS restored
}
RETURN restored, newer
