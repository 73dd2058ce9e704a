// The parent links among these (child, parent) pairs, each with its place in the order links
// were written (`seq`, 0 for a link stored before it was kept): a write whose reply was lost is
// read back by it (GraphWriter._applied).
UNWIND $pairs AS pair
MATCH (c:Context {id: pair.child_id})-[l:PARENT_CONTEXT]->(p:Context {id: pair.parent_id})
RETURN c.id AS child_id, p.id AS parent_id, coalesce(l.seq, 0) AS seq
