// Ids of every ancestor of the given contexts (for the cycle check on put_parent_contexts).
MATCH (c:Context)-[:PARENT_CONTEXT*1..]->(p:Context)
WHERE c.id IN $ids
RETURN DISTINCT p.id AS id
