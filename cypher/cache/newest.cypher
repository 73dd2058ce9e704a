// Explaining a cache miss when no execution of the type read any given input: the newest one.
// The INPUT artifacts are read with OPTIONAL MATCH, not a pattern comprehension: FalkorDB 4.16
// caches the plan of a comprehension that reads a relationship property compiled before any EVENT
// existed, and that plan then always yields [] (measured).
MATCH (e:Execution)
WHERE e.type_id = $type_id
WITH e
ORDER BY e.id DESC
LIMIT 1
OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
WHERE ev.type = 3
WITH e, collect(CASE WHEN a IS NULL THEN null
                     ELSE {id: a.id, pd: a.ps__digest, cd: a.cs__digest} END) AS inputs
RETURN properties(e) AS node, inputs
