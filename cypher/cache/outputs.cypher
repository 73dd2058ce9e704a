// The outputs of a cache hit: every artifact the execution wrote, with the event (its path tells
// which output is which).
MATCH (e:Execution)-[ev:EVENT]->(a:Artifact)
WHERE e.id = $id
RETURN properties(a) AS node, ev.type AS type, ev.path AS path, ev.ms AS ms
ORDER BY node.id, type
