MATCH (t:ExecutionType)
WHERE t.type_key = $type_key
RETURN properties(t) AS node
