// Reserve a block of $count ids of one kind; returns the first. Ids are never reused.
// The lock property makes Neo4j take the node's write lock before reading `next`
// (no lost update under concurrent writers); FalkorDB serialises writes anyway.
MERGE (s:IdSequence {kind: $kind})
ON CREATE SET s.next = 1
SET s.lock = true
WITH s, s.next AS first
SET s.next = first + $count, s.lock = null
RETURN first
