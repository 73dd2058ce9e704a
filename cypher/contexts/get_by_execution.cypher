MATCH (e:Execution {id: $execution_id})-[:ASSOCIATION]->(n:Context)
RETURN properties(n) AS node
ORDER BY node.id
