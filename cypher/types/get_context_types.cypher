MATCH (t:ContextType)
RETURN properties(t) AS node
ORDER BY node.id
