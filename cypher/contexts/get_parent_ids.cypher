// One level of the context DAG above $ids (PARENT_CONTEXT points child -> parent): each stored
// link from one of them to its parent. put_parent_contexts' cycle check walks up level by level,
// each context once (RelationRepository._first_cycle), never path by path.
MATCH (c:Context)-[:PARENT_CONTEXT]->(p:Context)
WHERE c.id IN $ids
RETURN c.id AS child_id, p.id AS parent_id
