// FalkorDB: events/find_existing with the executions found by position, not one index seek per
// key (40-110 µs each on FalkorDB's numeric index): $at.e holds the executions' ids as runs of
// consecutive ids, each key its execution's position `ei` (see falkordb/graph/write.cypher).
// Walks from the execution, as the base query does (an execution has a handful of events, a
// popular dataset may have 100k); a key whose execution is missing finds nothing.
CALL {
  UNWIND $at.e AS run
  OPTIONAL MATCH (e:Execution)
  WHERE e.id >= run[0] AND e.id <= run[1]
  WITH e ORDER BY e.id
  RETURN collect(e) AS execs
}
UNWIND $events AS k
WITH k, execs[k.ei] AS e
WHERE e.id = k.execution_id
MATCH (e)-[r:EVENT]-(a)
WHERE a.id = k.artifact_id AND a:Artifact AND r.type = k.type
RETURN a.id AS artifact_id, e.id AS execution_id, r.type AS type
