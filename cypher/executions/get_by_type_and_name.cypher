MATCH (n:Execution)
WHERE n.type_id = $type_id AND n.name = $name
RETURN properties(n) AS node
