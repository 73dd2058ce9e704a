// The deployments of registered models (store.tracker, lineage_graph/_tracker.py): COMPLETE
// executions of type $deployment associated with a context of type $registered_model, each with
// its registered model, environment, creation time and the artifacts it read (the deployed
// version). Retention keeps the latest one per registered model and environment, and what it
// deployed, out of its selection: the model an environment serves is still needed however old.
MATCH (x:Execution)-[:ASSOCIATION]->(c:Context)
WHERE x.type = $deployment AND c.type = $registered_model AND x.last_known_state = $complete
OPTIONAL MATCH (a:Artifact)-[r:EVENT]->(x)
WHERE r.type = $input
RETURN c.id AS context, x[$environment_key] AS environment, x.id AS id,
       x.create_time_since_epoch AS created, collect(a.id) AS inputs
