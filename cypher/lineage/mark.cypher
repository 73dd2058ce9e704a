// Mark the artifacts an impact analysis found, and keep what it takes to undo it, in ONE
// statement (atomic): the ImpactMark record holds, per artifact, the values to restore.
// `r.set` maps hold the encoded keys to set; a null value removes that key.
CREATE (m:ImpactMark {key: $key, created_ms: $now, source: $source, undo: $undo})
WITH m
UNWIND $rows AS r
MATCH (n:Artifact {id: r.id})
SET n += r.set
RETURN count(n) AS marked
