// One page of all nodes of this kind, by id: pass the last id seen as $after_id.
MATCH (n:Context)
WHERE n.id > $after_id
RETURN properties(n) AS node
ORDER BY node.id
LIMIT $limit
