MATCH (n:Context)-[:PARENT_CONTEXT]->(c:Context {id: $context_id})
RETURN properties(n) AS node
ORDER BY node.id
