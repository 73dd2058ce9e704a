// Explaining a cache miss at a bounded cost: the executions of the type among the newest
// $window executions of the store (ids are allocated in order, so an id range of the indexed
// `id`), ranked by how many of $ids (the given inputs and the artifacts with their content) they
// read, then by how few inputs they read (fewest extra), then newest first, as the caller ranks
// them; with their INPUT artifacts (OPTIONAL MATCH, see candidates.cypher). Without the second
// key an execution that read exactly the inputs (a FAILED one: the miss's real reason) was cut
// by the LIMIT as soon as $limit newer ones read the inputs and more.
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
WITH e, inputs, size([i IN inputs WHERE i.id IN $ids]) AS common
ORDER BY common DESC, size(inputs) ASC, e.id DESC
LIMIT $limit
RETURN properties(e) AS node, inputs
