// One page of the nodes of this kind of the types $type_ids (say, every version of one type)
// with ids in ($after_id, $upto], by id: as list, which reads the same id window (an index
// range on the id), the type test done in the engine rather than on decoded nodes.
MATCH (n:Artifact)
WHERE n.id > $after_id AND n.id <= $upto AND n.type_id IN $type_ids
RETURN properties(n) AS node
ORDER BY node.id
LIMIT $limit
