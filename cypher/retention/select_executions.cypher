// One page (by id) of the executions a retention policy selects; null criteria match everything.
MATCH (n:Execution)
WHERE n.id > $after_id
  AND ($created_before IS NULL OR n.create_time_since_epoch < $created_before)
  AND ($updated_before IS NULL OR n.last_update_time_since_epoch < $updated_before)
  AND ($types IS NULL OR n.type IN $types)
  AND ($states IS NULL OR n.last_known_state IN $states)
RETURN n.id AS id, n.tombstone_time_since_epoch IS NOT NULL AS tombstone
ORDER BY id
LIMIT $limit
