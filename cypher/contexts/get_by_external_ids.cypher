MATCH (n:Context)
WHERE n.external_id IN $external_ids
RETURN properties(n) AS node
ORDER BY node.id
