// Mark the artifacts an impact analysis found, and keep what it takes to undo it, in ONE
// statement (atomic): the ImpactMark record holds, per artifact, the values to restore.
// `r.set` maps hold the encoded keys to set, `r.drop` one `{key: null}` map per key to remove. `r.expect` holds,
// for every key the mark changes (and every other kind of its custom property), the value the
// analysis read (null: absent), which the record will restore: an artifact changed there since
// (another writer between the read and this statement) would get a stale undo, so nothing is
// written and `stale` lists the changed artifacts (the caller reads again and retries). Every
// row is checked before anything is written (collect() is the barrier).
// Each artifact keeps the marks that may still be undone, newest last (`impact_marks`), and
// the update time the last mark or undo wrote (`impact_ms`). Any other update drops both or
// moves the update time past `impact_ms`: the marks below it may then no longer be undone, so
// a mark made after such an update starts the list afresh.
// A retention tombstone is not marked (its data is gone: it stays as retention left it).
UNWIND $rows AS r
MATCH (n:Artifact {id: r.id})
WHERE n.tombstone_time_since_epoch IS NULL
SET n.lock = true  // Neo4j takes the node's write lock before the read below (as ids/reserve)
WITH n, r,
     all(k IN keys(r.expect) WHERE coalesce(
       n[k] = r.expect[k] OR (n[k] <> n[k] AND r.expect[k] <> r.expect[k]),  // NaN is unchanged NaN
       n[k] IS NULL AND r.expect[k] IS NULL)) AS same
SET n.lock = null
WITH collect(CASE WHEN same THEN null ELSE n.id END) AS stale, collect({n: n, r: r}) AS found
FOREACH (_ IN CASE WHEN size(stale) = 0 THEN [1] ELSE [] END |
  CREATE (:ImpactMark {key: $key, created_ms: $now, source: $source, undo: $undo}))
WITH stale, found
CALL {
  WITH stale, found
  UNWIND CASE WHEN size(stale) = 0 THEN found ELSE [] END AS x
  WITH x.n AS n, x.r AS r
  WITH n, r,
       CASE WHEN n.impact_ms = n.last_update_time_since_epoch
            THEN coalesce(n.impact_marks, []) ELSE [] END AS below
  SET n += r.set, n.impact_marks = below + [$key], n.impact_ms = $now
  FOREACH (d IN r.drop | SET n += d)  // one removal per SET (patch_row in _repositories/graph.py)
  RETURN count(n) AS marked
}
RETURN marked, stale
