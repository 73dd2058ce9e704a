// cache/candidates, leaving out each execution with an output in a state of $unusable (deleted,
// abandoned...: not reusable) before the page is cut. Used only once a lookup met such a match:
// it walks the outputs of every execution on these inputs (~17 us each on FalkorDB), so the usual
// lookup does not (a step cached N times would pay it N times on every hit), while a step cached
// N times over a deleted model pays it once instead of one round trip per match.
// $properties: [{alts: [{key, value}], absent: [key]}]: one alternative (declared or custom,
// encoded key) must hold the value, or, with no alternative, every key must be unset.
// The INPUT artifacts are read with OPTIONAL MATCH, not a pattern comprehension: FalkorDB 4.16
// caches the plan of a comprehension that reads a relationship property compiled before any EVENT
// existed, and that plan then always yields [] (measured).
// The state and id tests read aliases, not `e.…` in the WHERE of the index seek: FalkorDB 4.16
// pushes them into the seek (even through `WITH e`), and the id range, true of every execution,
// made the seek O(executions): 0.014 ms at 10k, 0.87 ms at 1M (measured, docs/performance.md).
// A retention tombstone (tombstone_time_since_epoch set) keeps its state but never hits: its
// properties are gone, and it was a hit through its consumers or an input added to it later.
MATCH (e:Execution)
WHERE e.input_sig IN $sigs
WITH e, e.last_known_state AS state, e.id AS id, e.tombstone_time_since_epoch AS tomb
WHERE state IN $states AND id < $before AND tomb IS NULL
  AND all(p IN $properties WHERE
    (size(p.alts) > 0 AND any(alt IN p.alts WHERE e[alt.key] = alt.value))
    OR (size(p.alts) = 0 AND all(k IN p.absent WHERE e[k] IS NULL)))
OPTIONAL MATCH (e)-[:EVENT]->(gone:Artifact)
WHERE gone.state IN $unusable
WITH e, count(gone) AS unusable
WHERE unusable = 0
WITH e
ORDER BY e.id DESC
LIMIT $limit
OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
WHERE ev.type = 3
WITH e, collect(CASE WHEN a IS NULL THEN null
                     ELSE {id: a.id, pd: a.ps__digest, cd: a.cs__digest, path: ev.path}
                     END) AS inputs
RETURN properties(e) AS node, inputs
ORDER BY node.id DESC
