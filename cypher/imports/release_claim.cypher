// Give up this import's claim on its MLMD store ($source), if it still holds it.
MATCH (c:ImportClaim {source: $source})
WHERE c.owner = $owner
DETACH DELETE c
