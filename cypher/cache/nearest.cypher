// Explaining a cache miss: the executions of the type that read any of $ids (the given inputs
// and the artifacts with their content), ranked as the caller ranks them (cache.py _explain):
// most given inputs found (`common`: for each content class of the given inputs, $classes
// {ids: the artifacts of that content, n: how many given inputs hold it}, at most n of its
// artifacts count: a copy stands in for one given input of its own content only, never for
// another input), then the fewest inputs (fewest extra), then, among those that read exactly
// the given inputs ($count), one that read them in the given roles ($roles {ids, path: the
// event path as stored, n}: n of those artifacts read with that path; empty for inputs given as
// a collection) before one that read them in other roles, then the newest. Ranked by `common`
// and the newest alone, the LIMIT cut the execution that read exactly the inputs (a FAILED
// one: the miss's real reason) once $limit newer ones read the inputs and more, or read them in
// other roles.
// Cost: every candidate is ranked before the LIMIT, so its number of inputs is read from its
// `input_sig` ("<type>/<count>:..."), counted only where it has none (a retention tombstone);
// the roles are checked on the events already matched (an execution that read exactly the
// given inputs read nothing else). Only the kept ones' INPUT artifacts are read, with OPTIONAL
// MATCH, not a pattern comprehension: FalkorDB 4.16 caches the plan of a comprehension that
// reads a relationship property compiled before any EVENT existed, and that plan then always
// yields [] (measured). Reading every candidate's inputs cost 8x (10,000 candidates: ~210 ms
// against ~25 ms ranked by `common` alone, ~95 ms this way).
MATCH (x:Artifact)-[r:EVENT]->(e:Execution)
WHERE x.id IN $ids AND r.type = 3 AND e.type_id = $type_id
WITH e, collect({id: x.id, path: r.path}) AS found
WITH e,
     reduce(acc = 0, c IN $classes |
            acc + CASE WHEN size([i IN found WHERE i.id IN c.ids]) < c.n
                       THEN size([i IN found WHERE i.id IN c.ids]) ELSE c.n END) AS common,
     all(r IN $roles WHERE size([i IN found WHERE i.id IN r.ids
                                 AND coalesce(i.path, '[]') = r.path]) = r.n) AS in_roles,
     toInteger(split(split(e.input_sig, '/')[1], ':')[0]) AS kept
OPTIONAL MATCH (:Artifact)-[tv:EVENT]->(e)
WHERE kept IS NULL AND tv.type = 3
WITH e, common, in_roles, kept, count(tv) AS counted
WITH e, common, in_roles, coalesce(kept, counted) AS n
ORDER BY common DESC, n ASC,
         CASE WHEN common = n AND common = $count AND NOT in_roles THEN 1 ELSE 0 END ASC,
         e.id DESC
LIMIT $limit
OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
WHERE ev.type = 3
WITH e, collect(CASE WHEN a IS NULL THEN null
                     ELSE {id: a.id, pd: a.ps__digest, cd: a.cs__digest, path: ev.path}
                     END) AS inputs
RETURN properties(e) AS node, inputs
