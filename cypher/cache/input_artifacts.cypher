// The given inputs of a cache lookup: which exist, and their content fingerprints (the string
// property `digest`, declared `ps__digest` or custom `cs__digest`; see _repositories/cache.py).
MATCH (a:Artifact)
WHERE a.id IN $ids
RETURN a.id AS id, a.ps__digest AS pd, a.cs__digest AS cd
