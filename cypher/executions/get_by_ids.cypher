MATCH (n:Execution)
WHERE n.id IN $ids
RETURN properties(n) AS node
ORDER BY node.id
