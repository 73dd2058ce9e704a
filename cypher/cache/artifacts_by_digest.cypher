// Every artifact carrying one of $digests as its declared or custom `digest` (both indexed): the
// artifacts with the same content as a given input, for fingerprint cache hits.
MATCH (a:Artifact)
WHERE a.ps__digest IN $digests
RETURN a.id AS id, a.ps__digest AS pd, a.cs__digest AS cd
UNION
MATCH (a:Artifact)
WHERE a.cs__digest IN $digests
RETURN a.id AS id, a.ps__digest AS pd, a.cs__digest AS cd
