// The usual same-inputs lookup in one round trip (cache/input_artifacts, the first page of
// cache/candidates for the signature of exactly these ids, and cache/outputs of the newest
// candidate that read exactly these ids). The caller uses it when no input's content fingerprint
// can make other artifacts count as the same input (then a candidate matches iff it read exactly
// $ids); otherwise it goes on with the queries named above. No pattern comprehension: FalkorDB
// 4.16 caches an empty plan for one compiled before any EVENT existed (see cache/candidates).
// The state and id tests read aliases, not `e.…` in the WHERE of the index seek: FalkorDB 4.16
// pushes them into the seek (even through `WITH e`), and the id range, true of every execution,
// made the seek O(executions): 0.014 ms at 10k, 0.87 ms at 1M (measured, docs/performance.md).
// A retention tombstone (tombstone_time_since_epoch set) keeps its state but never hits: its
// properties are gone, and it was a hit through its consumers or an input added to it later.
CALL {
  MATCH (a:Artifact)
  WHERE a.id IN $ids
  RETURN collect({id: a.id, pd: a.ps__digest, cd: a.cs__digest}) AS given
}
CALL {
  MATCH (e:Execution)
  WHERE e.input_sig IN $sigs
  WITH e, e.last_known_state AS state, e.id AS id, e.tombstone_time_since_epoch AS tomb
  WHERE state IN $states AND id < $before AND tomb IS NULL
    AND all(p IN $properties WHERE
      (size(p.alts) > 0 AND any(alt IN p.alts WHERE e[alt.key] = alt.value))
      OR (size(p.alts) = 0 AND all(k IN p.absent WHERE e[k] IS NULL)))
  WITH e
  ORDER BY e.id DESC
  LIMIT $limit
  OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
  WHERE ev.type = 3
  WITH e, collect(CASE WHEN a IS NULL THEN null
                       ELSE {id: a.id, pd: a.ps__digest, cd: a.cs__digest, path: ev.path}
                       END) AS inputs
  ORDER BY e.id DESC
  RETURN collect({node: properties(e), inputs: inputs}) AS candidates
}
WITH given, candidates,
     [c IN candidates WHERE size(c.inputs) = size($ids)
                        AND all(i IN c.inputs WHERE i.id IN $ids) | c.node.id] AS exact
// The outputs of the exact candidate, if any: UNWIND of an empty list reads nothing (a lookup of
// `{id: null}` would scan every execution).
CALL {
  WITH exact
  UNWIND exact[0..1] AS hit
  MATCH (x:Execution {id: hit})-[ev:EVENT]->(o:Artifact)
  RETURN collect({node: properties(o), type: ev.type, path: ev.path, ms: ev.ms}) AS outputs
}
RETURN given, candidates, exact[0] AS hit_id, outputs
