MATCH (n:Artifact)-[:ATTRIBUTION]->(c:Context {id: $context_id})
RETURN properties(n) AS node
ORDER BY node.id
