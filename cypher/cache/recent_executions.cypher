// Explaining a cache miss at a bounded cost: the executions of the type among the newest
// $window executions of the store (ids are allocated in order, so an id range of the indexed
// `id`), with their INPUT artifacts (OPTIONAL MATCH, see candidates.cypher).
// Ranked as the caller ranks them (cache.py _explain; $classes, $roles, $count: see
// nearest.cypher): most given inputs found, then the fewest inputs, then read in the given roles,
// then the newest.
MATCH (s:IdSequence {kind: 'Execution'})
WITH s.next - $window AS low
MATCH (e:Execution)
WHERE e.id >= low
WITH e
WHERE e.type_id = $type_id
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
