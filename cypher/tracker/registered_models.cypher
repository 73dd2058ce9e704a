// The names of the registered models (contexts of type $type_id) that have a version: an
// artifact attributed to the context whose `model_name` custom property ($name_key) is the
// context's name and whose `model_version` ($version_key) is set, as the tracker reads a version.
// A context without one is no registered model: a registration that lost its artifact to a
// registration under another name, or failed after creating it, leaves it empty.
MATCH (c:Context)
WHERE c.type_id = $type_id
OPTIONAL MATCH (a:Artifact)-[:ATTRIBUTION]->(c)
WHERE a[$name_key] = c.name AND a[$version_key] IS NOT NULL
WITH c, count(a) AS versions
WHERE versions > 0
RETURN c.name AS name
