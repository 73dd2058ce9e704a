// Remove whole islands: groups of artifacts and executions linked by events to nothing outside
// the group, so removing them cuts no lineage of anything that stays. An island that gained an
// event to an outside node since it was planned is left alone (a later run tombstones it).
UNWIND $islands AS island
CALL {
  WITH island
  OPTIONAL MATCH (a:Artifact)-[:EVENT]-(x:Execution)
  WHERE a.id IN island.artifacts AND NOT x.id IN island.executions
  RETURN count(x) AS outside_a
}
CALL {
  WITH island
  OPTIONAL MATCH (e:Execution)-[:EVENT]-(y:Artifact)
  WHERE e.id IN island.executions AND NOT y.id IN island.artifacts
  RETURN count(y) AS outside_e
}
WITH collect(CASE WHEN outside_a + outside_e = 0 THEN island END) AS clear
UNWIND clear AS island
CALL {
  WITH island
  MATCH (a:Artifact)
  WHERE a.id IN island.artifacts
  DETACH DELETE a
}
CALL {
  WITH island
  MATCH (e:Execution)
  WHERE e.id IN island.executions
  DETACH DELETE e
}
RETURN count(island) AS removed
