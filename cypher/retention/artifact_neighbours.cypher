// The executions linked by events (either way) to each of these artifacts, with how many
// EVENT relationships link each pair (an island's exact count lets retention/apply see that
// it gained an event since it was planned).
MATCH (a:Artifact)-[r:EVENT]-(e:Execution)
WHERE a.id IN $ids
RETURN a.id AS id, e.id AS other, count(r) AS events
