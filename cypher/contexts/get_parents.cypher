MATCH (c:Context {id: $context_id})-[:PARENT_CONTEXT]->(n:Context)
RETURN properties(n) AS node
ORDER BY node.id
