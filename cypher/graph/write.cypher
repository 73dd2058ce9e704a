// Every public write: nodes (insert or full update, ids already allocated), events,
// attributions, associations and parent contexts, in ONE statement = one atomic transaction.
CALL {
  UNWIND $artifacts AS r
  MERGE (n:Artifact {id: r.id})
  SET n = r.props
}
CALL {
  UNWIND $executions AS r
  MERGE (n:Execution {id: r.id})
  SET n = r.props
}
CALL {
  UNWIND $contexts AS r
  MERGE (n:Context {id: r.id})
  SET n = r.props
}
CALL {
  UNWIND $inputs AS r
  MATCH (a:Artifact {id: r.artifact_id})
  MATCH (e:Execution {id: r.execution_id})
  MERGE (a)-[ev:EVENT {type: r.type}]->(e)
  ON CREATE SET ev.path = r.path, ev.ms = r.ms
}
CALL {
  UNWIND $outputs AS r
  MATCH (a:Artifact {id: r.artifact_id})
  MATCH (e:Execution {id: r.execution_id})
  MERGE (e)-[ev:EVENT {type: r.type}]->(a)
  ON CREATE SET ev.path = r.path, ev.ms = r.ms
}
CALL {
  UNWIND $attributions AS r
  MATCH (a:Artifact {id: r.artifact_id})
  MATCH (c:Context {id: r.context_id})
  MERGE (a)-[:ATTRIBUTION]->(c)
}
CALL {
  UNWIND $associations AS r
  MATCH (e:Execution {id: r.execution_id})
  MATCH (c:Context {id: r.context_id})
  MERGE (e)-[:ASSOCIATION]->(c)
}
CALL {
  UNWIND $parents AS r
  MATCH (child:Context {id: r.child_id})
  MATCH (parent:Context {id: r.parent_id})
  MERGE (child)-[:PARENT_CONTEXT]->(parent)
}
RETURN size($artifacts) + size($executions) + size($contexts) AS nodes
