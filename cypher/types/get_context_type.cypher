MATCH (t:ContextType)
WHERE t.type_key = $type_key
RETURN properties(t) AS node
