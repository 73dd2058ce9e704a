// Reserve a block of $count ids of one kind; returns the first. Ids are never reused.
// The lock property makes Neo4j take the node's write lock before reading `next`
// (no lost update under concurrent writers); FalkorDB serialises writes anyway.
// A block that would pass int64 ($last_first = 2^63 - 1 - $count) is not reserved (`fits` is
// false): FalkorDB wraps the sum to a negative id silently, Neo4j raises "long overflow".
MERGE (s:IdSequence {kind: $kind})
ON CREATE SET s.next = 1
SET s.lock = true
WITH s, s.next AS first
WITH s, first, first <= $last_first AS fits
SET s.next = CASE WHEN fits THEN first + $count ELSE first END, s.lock = null
RETURN first, fits
