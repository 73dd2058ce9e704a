// Explaining a cache miss: the executions of the type that read any of $ids (the given inputs
// and the artifacts with their content), with their INPUT artifacts (read before the LIMIT, to
// rank by them). The INPUT artifacts are read with OPTIONAL MATCH, not a pattern comprehension:
// FalkorDB 4.16 caches the plan of a comprehension that reads a relationship property compiled
// before any EVENT existed, and that plan then always yields [] (measured).
// Ranked as the caller ranks them (cache.py _explain): most of $ids read (`common`, at most the
// $count given: two copies of one given input's content are one input found and one extra),
// then the fewest inputs (fewest extra), then, among those that read exactly the $count given inputs,
// one that read them in the given roles ($roles: "<id> <event path>", empty for inputs given
// as a collection) before one that read them in other roles, then the newest. Ranked by
// `common` and the newest alone, the LIMIT cut the execution that read exactly the inputs (a
// FAILED one: the miss's real reason) once $limit newer ones read the inputs and more, or
// read them in other roles.
MATCH (x:Artifact)-[r:EVENT]->(e:Execution)
WHERE x.id IN $ids AND r.type = 3 AND e.type_id = $type_id
WITH e, count(DISTINCT x) AS common
OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
WHERE ev.type = 3
WITH e, common, collect(CASE WHEN a IS NULL THEN null
                             ELSE {id: a.id, pd: a.ps__digest, cd: a.cs__digest, path: ev.path}
                             END) AS inputs
WITH e, inputs, common,
     size([i IN inputs WHERE (toString(i.id) + ' ' + coalesce(i.path, '[]')) IN $roles]) AS in_role
ORDER BY CASE WHEN common < $count THEN common ELSE $count END DESC, size(inputs) ASC,
         CASE WHEN common = size(inputs) AND common = $count AND in_role < size($roles)
              THEN 1 ELSE 0 END ASC,
         e.id DESC
LIMIT $limit
RETURN properties(e) AS node, inputs
