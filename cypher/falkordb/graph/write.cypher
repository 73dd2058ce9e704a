// FalkorDB variant of graph/write: the same statement, plus one UPSTREAM edge mirroring every
// EVENT (consumer -> producer). FalkorDB's only single-visit traversal, algo.BFS, follows outgoing
// edges only; the mirror lets upstream lineage use it too instead of a variable-length pattern,
// which enumerates every path (2^k on k diamonds, DESIGN.md §4). Neo4j needs no mirror: its
// planner prunes `<-[:EVENT*]-` with DISTINCT to a BFS.
// Every public write: new nodes (CREATE: their ids are freshly allocated, so never taken),
// updated nodes (full property replacement), events,
// attributions, associations and parent contexts, in ONE statement = one atomic transaction.
CALL {
  UNWIND $new_artifacts AS r
  CREATE (n:Artifact)
  SET n = r.props
}
CALL {
  UNWIND $artifacts AS r
  MATCH (n:Artifact {id: r.id})
  SET n = r.props
}
CALL {
  UNWIND $new_executions AS r
  CREATE (n:Execution)
  SET n = r.props
}
CALL {
  UNWIND $executions AS r
  MATCH (n:Execution {id: r.id})
  SET n = r.props
}
CALL {
  UNWIND $new_contexts AS r
  CREATE (n:Context)
  SET n = r.props
}
CALL {
  UNWIND $contexts AS r
  MATCH (n:Context {id: r.id})
  SET n = r.props
}
CALL {
  UNWIND $inputs AS r
  MATCH (a:Artifact {id: r.artifact_id})
  MATCH (e:Execution {id: r.execution_id})
  MERGE (a)-[ev:EVENT {type: r.type}]->(e)
  ON CREATE SET ev.path = r.path, ev.ms = r.ms
  MERGE (e)-[up:UPSTREAM {type: r.type}]->(a)
  ON CREATE SET up.ms = ev.ms
}
CALL {
  UNWIND $outputs AS r
  MATCH (a:Artifact {id: r.artifact_id})
  MATCH (e:Execution {id: r.execution_id})
  MERGE (e)-[ev:EVENT {type: r.type}]->(a)
  ON CREATE SET ev.path = r.path, ev.ms = r.ms
  MERGE (a)-[up:UPSTREAM {type: r.type}]->(e)
  ON CREATE SET up.ms = ev.ms
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
RETURN size($new_artifacts) + size($new_executions) + size($new_contexts) AS created
