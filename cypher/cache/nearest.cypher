// Explaining a cache miss: the executions of the type that read any of $ids (the given inputs
// and the artifacts with their content), with their INPUT artifacts (read before the LIMIT, to
// rank by them). The INPUT artifacts are read with OPTIONAL MATCH, not a pattern comprehension:
// FalkorDB 4.16 caches the plan of a comprehension that reads a relationship property compiled
// before any EVENT existed, and that plan then always yields [] (measured).
// Ranked as the caller ranks them (cache.py _explain): most given inputs found (`common`: for
// each content class of the given inputs, $classes {ids: the artifacts of that content, n: how
// many given inputs hold it}, at most n of its artifacts count: a copy stands in for one given
// input of its own content only, never for another input), then the fewest inputs (fewest
// extra), then, among those that read exactly the given inputs ($count), one that read them in
// the given roles ($roles {ids, path: the event path as stored, n}: n of those artifacts read
// with that path; empty for inputs given as a collection) before one that read them in other
// roles, then the newest. Ranked by `common` and the newest alone, the LIMIT cut the execution
// that read exactly the inputs (a FAILED one: the miss's real reason) once $limit newer ones
// read the inputs and more, or read them in other roles.
MATCH (x:Artifact)-[r:EVENT]->(e:Execution)
WHERE x.id IN $ids AND r.type = 3 AND e.type_id = $type_id
WITH DISTINCT e
OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
WHERE ev.type = 3
WITH e, collect(CASE WHEN a IS NULL THEN null
                     ELSE {id: a.id, pd: a.ps__digest, cd: a.cs__digest, path: ev.path}
                     END) AS inputs
WITH e, inputs,
     reduce(acc = 0, c IN $classes |
            acc + CASE WHEN size([i IN inputs WHERE i.id IN c.ids]) < c.n
                     THEN size([i IN inputs WHERE i.id IN c.ids]) ELSE c.n END) AS common,
     all(r IN $roles WHERE size([i IN inputs WHERE i.id IN r.ids
                                 AND coalesce(i.path, '[]') = r.path]) = r.n) AS in_roles
ORDER BY common DESC, size(inputs) ASC,
         CASE WHEN common = size(inputs) AND common = $count AND NOT in_roles
              THEN 1 ELSE 0 END ASC,
         e.id DESC
LIMIT $limit
RETURN properties(e) AS node, inputs
