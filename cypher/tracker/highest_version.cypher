// The highest version registered under the registered model $context_id: its attributed
// artifacts whose `model_name` custom property ($name_key) is the context's name, their
// `model_version` ($version_key); null for none. One row, aggregated by the engine: reading every
// version as nodes made each registration O(versions) in the client (3,000 registrations of one
// name took 215 s). The claim's $floor (tracker/claim_version) is one above it: a claim below it
// is stale, as the context's kept counter cannot tell (it counts claims never registered too).
MATCH (c:Context {id: $context_id})
OPTIONAL MATCH (a:Artifact)-[:ATTRIBUTION]->(c)
WHERE a[$name_key] = c.name
RETURN max(a[$version_key]) AS highest
