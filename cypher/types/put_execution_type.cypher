// Create a type ($expect null: $id is a new id) or upgrade the stored one to $props, only if it
// still holds exactly $expect, the node as the caller read it and upgraded (MLMD's rules, in
// TypeRepository.put): two writers adding fields at once would otherwise each write what they
// read plus their own fields, and the last one dropped the other's (95 of 100 threaded races,
// leaving artifacts with properties their type no longer declared). No row: the type changed
// since the read, nothing was written; the caller reads it again and retries.
// The lock property makes Neo4j take the node's write lock before the read below (as
// ids/reserve); FalkorDB runs one write at a time anyway.
MERGE (t:ExecutionType {id: $id})
SET t.lock = true
WITH t, CASE WHEN $expect IS NULL THEN true
             ELSE all(k IN keys(t) WHERE k = 'lock' OR k IN keys($expect))
                  AND all(k IN keys($expect) WHERE t[k] = $expect[k]) END AS same
SET t.lock = null
WITH t, same
WHERE same
SET t = $props
RETURN t.id AS id
