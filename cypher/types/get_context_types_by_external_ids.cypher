MATCH (t:ContextType)
WHERE t.external_id IN $external_ids
RETURN properties(t) AS node
ORDER BY node.id
