// The artifacts linked by events (either way) to each of these executions, with how many
// EVENT relationships link each pair.
MATCH (e:Execution)-[r:EVENT]-(a:Artifact)
WHERE e.id IN $ids
RETURN e.id AS id, a.id AS other, count(r) AS events
