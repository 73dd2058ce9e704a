MATCH (t:ExecutionType)
RETURN properties(t) AS node
ORDER BY node.id
