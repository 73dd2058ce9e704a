// What a write must know of existing nodes: their type, creation time and stored keys.
MATCH (n:Artifact)
WHERE n.id IN $ids
RETURN n.id AS id, n.type_id AS type_id, properties(n) AS node
