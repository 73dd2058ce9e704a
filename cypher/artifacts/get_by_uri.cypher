MATCH (n:Artifact)
WHERE n.uri = $uri
RETURN properties(n) AS node
ORDER BY node.id
