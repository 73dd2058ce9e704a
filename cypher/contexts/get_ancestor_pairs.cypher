// Each given context with each of its ancestors, as (id, ancestor) rows: the merge import's
// check for parent links that would close a cycle (lineage_graph/mlmd/_importer.py).
MATCH (c:Context)-[:PARENT_CONTEXT*1..]->(p:Context)
WHERE c.id IN $ids
RETURN DISTINCT c.id AS id, p.id AS ancestor
