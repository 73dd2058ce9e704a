// One impact mark's undo record.
MATCH (m:ImpactMark {key: $key})
RETURN m.undo AS undo, m.source AS source, m.created_ms AS created_ms
