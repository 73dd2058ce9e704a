// Which of these artifacts and executions are tombstones.
CALL {
  MATCH (n:Artifact)
  WHERE n.id IN $artifact_ids AND n.tombstone_time_since_epoch IS NOT NULL
  RETURN collect(n.id) AS artifacts
}
CALL {
  MATCH (n:Execution)
  WHERE n.id IN $execution_ids AND n.tombstone_time_since_epoch IS NOT NULL
  RETURN collect(n.id) AS executions
}
RETURN artifacts, executions
