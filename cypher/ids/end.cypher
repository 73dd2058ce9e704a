// The end of one kind's id sequence: every id handed out so far is below `next` (1 when no id
// of $kind was ever reserved).
OPTIONAL MATCH (s:IdSequence {kind: $kind})
RETURN coalesce(s.next, 1) AS next
