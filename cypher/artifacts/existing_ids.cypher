MATCH (n:Artifact)
WHERE n.id IN $ids
RETURN n.id AS id
