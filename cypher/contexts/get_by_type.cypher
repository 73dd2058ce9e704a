MATCH (n:Context)
WHERE n.type_id = $type_id
RETURN properties(n) AS node
ORDER BY node.id
