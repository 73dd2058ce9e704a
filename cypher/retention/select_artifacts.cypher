// One page (by id) of the artifacts a retention policy selects among ids in ($after_id, $upto];
// null criteria match everything. The upper bound keeps the engine's work to the window:
// without it FalkorDB 4.16 orders every later match for each page (retention.py, _select).
MATCH (n:Artifact)
WHERE n.id > $after_id AND n.id <= $upto
  AND ($created_before IS NULL OR n.create_time_since_epoch < $created_before)
  AND ($updated_before IS NULL OR n.last_update_time_since_epoch < $updated_before)
  AND ($types IS NULL OR n.type IN $types)
  AND ($states IS NULL OR n.state IN $states)
RETURN n.id AS id, n.tombstone_time_since_epoch IS NOT NULL AS tombstone
ORDER BY id
LIMIT $limit
