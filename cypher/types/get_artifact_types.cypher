MATCH (t:ArtifactType)
RETURN properties(t) AS node
ORDER BY node.id
