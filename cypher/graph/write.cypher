// Every public write: new nodes (CREATE: their ids are freshly allocated, so never taken),
// updated nodes (full property replacement, keeping the internal keys the models do not carry,
// KEPT_KEYS of _repositories/nodes.py, as they are in the store now, not as the caller read them:
// a version claimed meanwhile is not rolled back; a field-masked update sets only the keys its mask
// touches, `$patched_*`, keeping what another writer changed elsewhere since the read; each
// removal its own SET, see patch_row in _repositories/graph.py), events,
// attributions, associations and parent contexts, in ONE statement = one atomic transaction.
// Executions' input fingerprint, kept in this same atomic statement: `input_sig` =
// '<type_id>/<count>:<s1>:<s2>:<s3>', s_k = sum of (id mod p)^k mod p (p = 2^31 - 1) over the ids
// of the artifacts the execution read with an INPUT event (type 3; MLMD/TFX cache on INPUT only).
// Order-insensitive, bounded length, indexed: find_cached_execution looks up equal input sets
// without scanning executions (lineage_graph/_repositories/cache.py mirrors the formula; a
// collision only costs an exact re-check). A new execution gets it among its properties: all its
// inputs are in this write, so GraphWriter computes it (input_signature()) and $inputs carries
// only the INPUT rows of existing executions (one SET of an indexed property, not two). It is
// recomputed when an execution is rewritten (`SET e = props` drops it) and when an existing one
// gets INPUT events: from the stored ones plus this write's, computed BEFORE the new edges are
// merged (FalkorDB does not show edges of a relationship type that did not exist when the
// statement was compiled).
// Each event keeps `seq`, its place in the order events were written (MLMD's event id: an
// execution's events are read in that order): _repositories/relations.py write_order().
// A link (attribution, association, parent context) keeps `seq` likewise, set when it is
// created (MLMD's link ids: get_lineage_subgraph returns links in that order; a write whose
// reply was lost is read back by it: GraphWriter._applied).
// Sent in parts: each unit subquery is headed `// when: $list` and GraphWriter keeps only those
// whose list is non-empty (plus `// always`): FalkorDB pays ~1.1 ms per statement for a dozen
// subqueries even when every list is empty. Events with an end created by this same write cannot
// exist yet, nor be written meanwhile by anyone else: they are CREATEd. The others must not
// exist yet (events are immutable): one stored already divides by zero, which aborts the whole
// statement (nothing written), as does an end that does not exist; GraphWriter then names the
// cause (AlreadyExistsError, MissingNodesError). The write is the check: nothing is read before
// it. MERGE after the check: two concurrent writes of one event still store it once. The links'
// parts abort the same way on an end that does not exist.
// Nodes given by their id alone (references: NodeRepository.prepare does not read them) must
// exist: `$<kind>_refs` holds their ids as runs of consecutive ids (but not those an event or
// a link of this write reads: its part aborts on a missing end; WriteBatch._guarded_ends),
// and a count short of `$<kind>_refs_count` divides by zero, which aborts the whole statement
// (nothing written; GraphWriter then reports the missing ids as NotFoundError). Each guard
// returns one row.
// when: $artifact_refs
CALL {
  UNWIND $artifact_refs AS run
  OPTIONAL MATCH (n:Artifact)
  WHERE n.id >= run[0] AND n.id <= run[1]
  WITH count(n) AS found
  WHERE 1 / (CASE WHEN found = $artifact_refs_count THEN 1 ELSE 0 END) = 1
  RETURN found AS artifact_refs_found
}
// when: $execution_refs
CALL {
  UNWIND $execution_refs AS run
  OPTIONAL MATCH (n:Execution)
  WHERE n.id >= run[0] AND n.id <= run[1]
  WITH count(n) AS found
  WHERE 1 / (CASE WHEN found = $execution_refs_count THEN 1 ELSE 0 END) = 1
  RETURN found AS execution_refs_found
}
// when: $context_refs
CALL {
  UNWIND $context_refs AS run
  OPTIONAL MATCH (n:Context)
  WHERE n.id >= run[0] AND n.id <= run[1]
  WITH count(n) AS found
  WHERE 1 / (CASE WHEN found = $context_refs_count THEN 1 ELSE 0 END) = 1
  RETURN found AS context_refs_found
}
// when: $servable_artifacts
// Artifacts this write needs in service (tracker: the model a deployment reads, the artifact a
// registration writes): one that is gone or whose state is one of `$unservable_states` (an
// impact mark abandoned it, retention deleted it, since the caller read it) divides by zero,
// which aborts the whole statement (nothing written; the caller's check names the cause). A
// concurrent mark committing after this read orders the deployment before it: a valid history.
CALL {
  UNWIND $servable_artifacts AS id
  OPTIONAL MATCH (n:Artifact {id: id})
  WITH count(CASE WHEN n IS NOT NULL AND NOT coalesce(n.state IN $unservable_states, false)
                  THEN 1 END) AS servable
  WHERE 1 / (CASE WHEN servable = size($servable_artifacts) THEN 1 ELSE 0 END) = 1
  RETURN servable AS servable_found
}
// when: $new_artifacts
CALL {
  UNWIND $new_artifacts AS r
  CREATE (n:Artifact)
  SET n = r.props
}
// when: $artifacts
CALL {
  UNWIND $artifacts AS r
  OPTIONAL MATCH (n:Artifact {id: r.id})
  WITH r, n
  WHERE 1 / (CASE WHEN n IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
  SET n.lock = true  // Neo4j: the node's write lock before reading what it keeps
  WITH r, n
  WHERE 1 / (CASE WHEN n.id = r.id THEN 1 ELSE 0 END) = 1  // deleted while we waited for its lock
  WITH r, n, n.mlmd_origin AS origin, n.next_model_version AS next,
       n.model_claim AS claim
  SET n = r.props
  // the internal keys the node holds now (nodes.KEPT_KEYS), unless the row gives one
  FOREACH (_ IN CASE WHEN r.props.mlmd_origin IS NULL AND origin IS NOT NULL THEN [1] ELSE [] END |
    SET n.mlmd_origin = origin)
  FOREACH (_ IN CASE WHEN r.props.next_model_version IS NULL AND next IS NOT NULL THEN [1]
                ELSE [] END | SET n.next_model_version = next)
  FOREACH (_ IN CASE WHEN r.props.model_claim IS NULL AND claim IS NOT NULL THEN [1] ELSE [] END |
    SET n.model_claim = claim)
}
// when: $patched_artifacts
// `r.expect` (optional): values the node must still hold, else the write aborts (the tracker's
// registration expects its claim, tracker/claim_version); Neo4j locks the node before reading.
CALL {
  UNWIND $patched_artifacts AS r
  OPTIONAL MATCH (n:Artifact {id: r.id})
  WITH r, n
  WHERE 1 / (CASE WHEN n IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
  SET n.lock = true
  WITH r, n
  WHERE 1 / (CASE WHEN n.id = r.id THEN 1 ELSE 0 END) = 1  // deleted while we waited for its lock
  WITH r, n
  WHERE 1 / (CASE WHEN all(k IN keys(coalesce(r.expect, {})) WHERE n[k] = r.expect[k])
                  THEN 1 ELSE 0 END) = 1
  SET n.lock = null
  SET n += r.props
  FOREACH (d IN r.drop | SET n += d)  // one removal per SET (GraphWriter's patch_row)
  FOREACH (d IN [d IN r.stray WHERE n[keys(d)[0]] IS NOT NULL] | SET n += d)
}
// when: $new_executions
CALL {
  UNWIND $new_executions AS r
  CREATE (n:Execution)
  SET n = r.props
}
// when: $executions
CALL {
  UNWIND $executions AS r
  OPTIONAL MATCH (e:Execution {id: r.id})
  WITH r, e
  WHERE 1 / (CASE WHEN e IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
  SET e.lock = true  // Neo4j: the node's write lock before reading what it keeps
  WITH r, e
  WHERE 1 / (CASE WHEN e.id = r.id THEN 1 ELSE 0 END) = 1  // deleted while we waited for its lock
  WITH r, e, e.mlmd_origin AS origin, e.next_model_version AS next,
       e.model_claim AS claim
  SET e = r.props
  // the internal keys the node holds now (nodes.KEPT_KEYS), unless the row gives one
  FOREACH (_ IN CASE WHEN r.props.mlmd_origin IS NULL AND origin IS NOT NULL THEN [1] ELSE [] END |
    SET e.mlmd_origin = origin)
  FOREACH (_ IN CASE WHEN r.props.next_model_version IS NULL AND next IS NOT NULL THEN [1]
                ELSE [] END | SET e.next_model_version = next)
  FOREACH (_ IN CASE WHEN r.props.model_claim IS NULL AND claim IS NOT NULL THEN [1] ELSE [] END |
    SET e.model_claim = claim)
  WITH e
  OPTIONAL MATCH (a:Artifact)-[ev:EVENT]->(e)
  WHERE ev.type = 3
  WITH e, [x IN collect(a.id) | x % 2147483647] AS h
  SET e.input_sig = toString(e.type_id) + '/' + toString(size(h)) + ':' +
      toString(reduce(s = 0, x IN h | (s + x) % 2147483647)) + ':' +
      toString(reduce(s = 0, x IN h | (s + x * x % 2147483647) % 2147483647)) + ':' +
      toString(reduce(s = 0, x IN h | (s + x * x % 2147483647 * x % 2147483647) % 2147483647))
}
// when: $patched_executions
// `r.expect` (optional): values the node must still hold, else the write aborts (a run records
// its failure only while it is RUNNING: pipeline.Run._record_failure).
CALL {
  UNWIND $patched_executions AS r
  OPTIONAL MATCH (n:Execution {id: r.id})
  WITH r, n
  WHERE 1 / (CASE WHEN n IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
  SET n.lock = true  // Neo4j: the node's write lock, then the guard below
  WITH r, n
  WHERE 1 / (CASE WHEN n.id = r.id THEN 1 ELSE 0 END) = 1  // deleted while we waited for its lock
  WITH r, n
  WHERE 1 / (CASE WHEN all(k IN keys(coalesce(r.expect, {})) WHERE n[k] = r.expect[k])
                  THEN 1 ELSE 0 END) = 1
  SET n.lock = null
  SET n += r.props
  FOREACH (d IN r.drop | SET n += d)  // one removal per SET (GraphWriter's patch_row)
  FOREACH (d IN [d IN r.stray WHERE n[keys(d)[0]] IS NOT NULL] | SET n += d)
}
// when: $new_contexts
CALL {
  UNWIND $new_contexts AS r
  CREATE (n:Context)
  SET n = r.props
}
// when: $contexts
CALL {
  UNWIND $contexts AS r
  OPTIONAL MATCH (n:Context {id: r.id})
  WITH r, n
  WHERE 1 / (CASE WHEN n IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
  SET n.lock = true  // Neo4j: the node's write lock before reading what it keeps
  WITH r, n
  WHERE 1 / (CASE WHEN n.id = r.id THEN 1 ELSE 0 END) = 1  // deleted while we waited for its lock
  WITH r, n, n.mlmd_origin AS origin, n.next_model_version AS next,
       n.model_claim AS claim
  SET n = r.props
  // the internal keys the node holds now (nodes.KEPT_KEYS), unless the row gives one
  FOREACH (_ IN CASE WHEN r.props.mlmd_origin IS NULL AND origin IS NOT NULL THEN [1] ELSE [] END |
    SET n.mlmd_origin = origin)
  FOREACH (_ IN CASE WHEN r.props.next_model_version IS NULL AND next IS NOT NULL THEN [1]
                ELSE [] END | SET n.next_model_version = next)
  FOREACH (_ IN CASE WHEN r.props.model_claim IS NULL AND claim IS NOT NULL THEN [1] ELSE [] END |
    SET n.model_claim = claim)
}
// when: $patched_contexts
CALL {
  UNWIND $patched_contexts AS r
  OPTIONAL MATCH (n:Context {id: r.id})
  WITH r, n
  WHERE 1 / (CASE WHEN n IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
  SET n.lock = true  // Neo4j: the node's write lock, then the guard below
  WITH r, n
  WHERE 1 / (CASE WHEN n.id = r.id THEN 1 ELSE 0 END) = 1  // deleted while we waited for its lock
  SET n.lock = null
  SET n += r.props
  FOREACH (d IN r.drop | SET n += d)  // one removal per SET (GraphWriter's patch_row)
  FOREACH (d IN [d IN r.stray WHERE n[keys(d)[0]] IS NOT NULL] | SET n += d)
}
// when: $inputs
CALL {
  UNWIND $inputs AS r
  WITH r.execution_id AS eid, collect(r) AS rows
  MATCH (e:Execution {id: eid})
  // Lock the execution before reading its fingerprint and inputs (Neo4j reads committed data):
  // two concurrent writes adding inputs to one execution cannot both miss each other's.
  SET e.lock = true
  // A zero-count fingerprint means no stored INPUT: skip reading them (most executions get their
  // inputs as they are created).
  WITH e, rows, coalesce(e.input_sig, '') ENDS WITH '/0:0:0:0' AS fresh
  OPTIONAL MATCH (x:Artifact)-[old:EVENT]->(e)
  WHERE NOT fresh AND old.type = 3
  WITH e, rows, collect(x.id) AS stored
  WITH e, rows, [i IN stored + [r IN rows WHERE r.type = 3 AND NOT r.artifact_id IN stored |
                                r.artifact_id] | i % 2147483647] AS h
  SET e.input_sig = toString(e.type_id) + '/' + toString(size(h)) + ':' +
      toString(reduce(s = 0, x IN h | (s + x) % 2147483647)) + ':' +
      toString(reduce(s = 0, x IN h | (s + x * x % 2147483647) % 2147483647)) + ':' +
      toString(reduce(s = 0, x IN h | (s + x * x % 2147483647 * x % 2147483647) % 2147483647))
  SET e.lock = null
}
// when: $created_inputs
CALL {
  UNWIND $created_inputs AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, a, e
  WHERE 1 / (CASE WHEN a IS NOT NULL AND e IS NOT NULL THEN 1 ELSE 0 END) = 1
  CREATE (a)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(e)
}
// when: $merged_inputs
CALL {
  UNWIND $merged_inputs AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, a, e
  WHERE 1 / (CASE WHEN a IS NOT NULL AND e IS NOT NULL THEN 1 ELSE 0 END) = 1
  OPTIONAL MATCH (a)-[old:EVENT {type: r.type}]->(e)
  WITH r, a, e, old
  WHERE 1 / (CASE WHEN old IS NULL THEN 1 ELSE 0 END) = 1
  MERGE (a)-[ev:EVENT {type: r.type}]->(e)
  ON CREATE SET ev.path = r.path, ev.ms = r.ms, ev.seq = r.seq
}
// when: $created_outputs
CALL {
  UNWIND $created_outputs AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, a, e
  WHERE 1 / (CASE WHEN a IS NOT NULL AND e IS NOT NULL THEN 1 ELSE 0 END) = 1
  CREATE (e)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(a)
}
// when: $merged_outputs
CALL {
  UNWIND $merged_outputs AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, a, e
  WHERE 1 / (CASE WHEN a IS NOT NULL AND e IS NOT NULL THEN 1 ELSE 0 END) = 1
  OPTIONAL MATCH (e)-[old:EVENT {type: r.type}]->(a)
  WITH r, a, e, old
  WHERE 1 / (CASE WHEN old IS NULL THEN 1 ELSE 0 END) = 1
  MERGE (e)-[ev:EVENT {type: r.type}]->(a)
  ON CREATE SET ev.path = r.path, ev.ms = r.ms, ev.seq = r.seq
}
// when: $attributions
CALL {
  UNWIND $attributions AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (c:Context {id: r.context_id})
  WITH r, a, c
  WHERE 1 / (CASE WHEN a IS NOT NULL AND c IS NOT NULL THEN 1 ELSE 0 END) = 1
  MERGE (a)-[l:ATTRIBUTION]->(c)
  ON CREATE SET l.seq = r.seq
}
// when: $associations
CALL {
  UNWIND $associations AS r
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  OPTIONAL MATCH (c:Context {id: r.context_id})
  WITH r, e, c
  WHERE 1 / (CASE WHEN e IS NOT NULL AND c IS NOT NULL THEN 1 ELSE 0 END) = 1
  MERGE (e)-[l:ASSOCIATION]->(c)
  ON CREATE SET l.seq = r.seq
}
// when: $parents
// Parent links: RelationRepository.prepare_parents checked them on what it read, but another
// writer may have linked the same contexts since (two writers linking A -> B and B -> A made a
// cycle in 94 of 100 races on FalkorDB). Checked again here: both ends exist and the link does
// not, else nothing is written; then, the links merged, none of them may close a cycle (its
// parent reaching its child), else the statement aborts (rolled back). Neo4j reads committed
// data: the store's record is locked first, so writes of parent links run one at a time and
// each sees the links of those before it (a cycle may pass through contexts no two writers
// share, so locking the links' ends would not do). GraphWriter then runs prepare_parents again,
// which names the cause.
CALL {
  OPTIONAL MATCH (m:StoreInfo {key: 'store'})
  SET m.lock = true
}
CALL {
  UNWIND $parents AS r
  OPTIONAL MATCH (child:Context {id: r.child_id})
  OPTIONAL MATCH (parent:Context {id: r.parent_id})
  WITH r, child, parent
  WHERE 1 / (CASE WHEN child IS NOT NULL AND parent IS NOT NULL THEN 1 ELSE 0 END) = 1
  OPTIONAL MATCH (child)-[old:PARENT_CONTEXT]->(parent)
  WITH r, child, parent, old
  WHERE 1 / (CASE WHEN old IS NULL THEN 1 ELSE 0 END) = 1
  MERGE (child)-[l:PARENT_CONTEXT]->(parent)
  ON CREATE SET l.seq = r.seq
}
// The cycle check walks up from each new link's parent once, visiting each context once (a
// pattern predicate `(parent)-[:PARENT_CONTEXT*]->(child)` may enumerate every path: 2^k on a
// ladder of k diamonds); Neo4j prunes a variable-length walk whose ends are only kept DISTINCT.
CALL {
  UNWIND $parents AS r
  WITH r.parent_id AS pid, collect(r.child_id) AS kids
  MATCH (parent:Context {id: pid})
  CALL {
    WITH parent
    MATCH (parent)-[:PARENT_CONTEXT*]->(up:Context)
    RETURN DISTINCT up.id AS above
  }
  WITH kids, above
  WHERE above IN kids
  WITH count(*) AS cycles
  WHERE 1 / (CASE WHEN cycles = 0 THEN 1 ELSE 0 END) = 1
  RETURN cycles AS parent_cycles
}
CALL {
  OPTIONAL MATCH (m:StoreInfo {key: 'store'})
  SET m.lock = null
}
// always
RETURN size($new_artifacts) + size($new_executions) + size($new_contexts) AS created
