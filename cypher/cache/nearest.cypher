// Explaining a cache miss: the executions of the type that read the most of $ids (the given
// inputs and the artifacts with their content), then the fewest inputs (fewest extra), newest
// first, as the caller ranks them, with their INPUT artifacts (read before the LIMIT: ranked by
// `common` alone, $limit newer executions reading the inputs and more cut the one that read
// exactly them).
// The INPUT artifacts are read with OPTIONAL MATCH, not a pattern comprehension: FalkorDB 4.16
// caches the plan of a comprehension that reads a relationship property compiled before any EVENT
// existed, and that plan then always yields [] (measured).
MATCH (x:Artifact)-[r:EVENT]->(e:Execution)
WHERE x.id IN $ids AND r.type = 3 AND e.type_id = $type_id
WITH e, count(DISTINCT x) AS common
OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
WHERE ev.type = 3
WITH e, common, collect(CASE WHEN a IS NULL THEN null
                             ELSE {id: a.id, pd: a.ps__digest, cd: a.cs__digest, path: ev.path}
                             END) AS inputs
ORDER BY common DESC, size(inputs) ASC, e.id DESC
LIMIT $limit
RETURN properties(e) AS node, inputs
