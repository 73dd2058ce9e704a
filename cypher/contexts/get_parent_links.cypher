UNWIND $pairs AS pair
MATCH (c:Context {id: pair.child_id})-[:PARENT_CONTEXT]->(p:Context {id: pair.parent_id})
RETURN c.id AS child_id, p.id AS parent_id
