MATCH (a:Artifact {id: $artifact_id})-[:ATTRIBUTION]->(n:Context)
RETURN properties(n) AS node
ORDER BY node.id
