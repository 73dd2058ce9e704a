MATCH (n:Context)
WHERE n.id IN $ids
RETURN n.id AS id
