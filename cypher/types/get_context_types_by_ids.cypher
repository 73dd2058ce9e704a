MATCH (t:ContextType)
WHERE t.id IN $ids
RETURN properties(t) AS node
ORDER BY node.id
