// cache/candidates_by_anchor, leaving out each execution with an output in a state of $unusable
// (see candidates_usable.cypher for when and why).
// The INPUT artifacts are read with OPTIONAL MATCH, not a pattern comprehension: FalkorDB 4.16
// caches the plan of a comprehension that reads a relationship property compiled before any EVENT
// existed, and that plan then always yields [] (measured).
// A retention tombstone (tombstone_time_since_epoch set) keeps its state but never hits: its
// properties are gone, and it was a hit through its consumers or an input added to it later.
MATCH (x:Artifact)-[r:EVENT]->(e:Execution)
WHERE x.id IN $anchor_ids AND r.type = 3 AND e.type_id = $type_id
WITH DISTINCT e
WHERE e.last_known_state IN $states AND e.id < $before
  AND e.tombstone_time_since_epoch IS NULL
  AND all(p IN $properties WHERE
    (size(p.alts) > 0 AND any(alt IN p.alts WHERE e[alt.key] = alt.value))
    OR (size(p.alts) = 0 AND all(k IN p.absent WHERE e[k] IS NULL)))
OPTIONAL MATCH (e)-[:EVENT]->(gone:Artifact)
WHERE gone.state IN $unusable
WITH e, count(gone) AS unusable
WHERE unusable = 0
OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
WHERE ev.type = 3
WITH e, collect(CASE WHEN a IS NULL THEN null
                     ELSE {id: a.id, pd: a.ps__digest, cd: a.cs__digest, path: ev.path}
                     END) AS inputs
WITH e, inputs
WHERE size(inputs) = $count
RETURN properties(e) AS node, inputs
ORDER BY node.id DESC
LIMIT $limit
