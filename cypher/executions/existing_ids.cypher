MATCH (n:Execution)
WHERE n.id IN $ids
RETURN n.id AS id
