// FalkorDB: each given context with each of its ancestors, walked with algo.BFS (each context
// once; PARENT_CONTEXT points child -> parent, so its outgoing edges lead up). The base text's
// variable-length pattern enumerates every path on FalkorDB: 2^k on a ladder of k diamonds.
MATCH (c:Context)
WHERE c.id IN $ids
CALL algo.BFS(c, -1, 'PARENT_CONTEXT') YIELD nodes
UNWIND nodes AS p
RETURN c.id AS id, p.id AS ancestor
