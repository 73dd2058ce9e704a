MATCH (n:Execution)-[:ASSOCIATION]->(c:Context {id: $context_id})
RETURN properties(n) AS node
ORDER BY node.id
