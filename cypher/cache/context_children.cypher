// One level of the context DAG below $ids (PARENT_CONTEXT points child -> parent).
MATCH (child:Context)-[:PARENT_CONTEXT]->(parent:Context)
WHERE parent.id IN $ids
RETURN DISTINCT child.id AS id
