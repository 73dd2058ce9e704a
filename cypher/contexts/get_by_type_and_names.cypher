// Existing nodes for (type_id, name) keys (an index lookup per key).
UNWIND $keys AS k
MATCH (n:Context)
WHERE n.type_id = k.type_id AND n.name = k.name
RETURN properties(n) AS node
