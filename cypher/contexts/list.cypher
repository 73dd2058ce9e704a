// One page of the nodes of this kind with ids in ($after_id, $upto], by id: pass the last id
// seen as $after_id. The upper bound keeps the engine's work to the window: without it FalkorDB
// 4.16 sorts every later node for each page (370-540 ms a page at 1M nodes; ~6 ms bounded).
MATCH (n:Context)
WHERE n.id > $after_id AND n.id <= $upto
RETURN properties(n) AS node
ORDER BY node.id
LIMIT $limit
