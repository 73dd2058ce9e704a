// FalkorDB variant of graph/write: the same statement, plus one UPSTREAM edge mirroring every
// EVENT (consumer -> producer). FalkorDB's only single-visit traversal, algo.BFS, follows outgoing
// edges only; the mirror lets upstream lineage use it too instead of a variable-length pattern,
// which enumerates every path (2^k on k diamonds, DESIGN.md §4). Neo4j needs no mirror: its
// planner prunes `<-[:EVENT*]-` with DISTINCT to a BFS.
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
// inputs are in this write, so GraphWriter computes it (input_signature()) and $input_sums
// carries only existing executions (one SET of an indexed property, not two). It is
// recomputed when an execution is rewritten (`SET e = props` drops it). When an existing one
// gets INPUT events it is advanced, not recomputed: the sums are additive, so the stored
// fingerprint plus what this write's INPUT artifacts add, which GraphWriter sums per execution
// (none of them is an input of it already: an INPUT stored already aborts the event part, and
// with it the write, as a missing artifact does). Reading the stored inputs instead cost
// ~14 µs per execution; only an execution without a fingerprint (none since schema 3) has them
// read, BEFORE the new edges are created (FalkorDB does not show edges of a relationship type
// that did not exist when the statement was compiled). Retention never removes an INPUT edge of
// an execution that stays, so the sums stay exact.
// Each event keeps `seq`, its place in the order events were written (MLMD's event id: an
// execution's events are read in that order): _repositories/relations.py write_order().
// A link (attribution, association, parent context) keeps `seq` likewise, set when it is
// created (MLMD's link ids: get_lineage_subgraph returns links in that order; a write whose
// reply was lost is read back by it: GraphWriter._applied).
// Sent in parts: each unit subquery is headed `// when: $list` and GraphWriter keeps only those
// whose list is non-empty (plus `// always`): FalkorDB pays ~1.1 ms per statement for a dozen
// subqueries even when every list is empty. Events with an end created by this same write cannot
// exist yet, nor be written meanwhile by anyone else: they are CREATEd. The others ("merged")
// must not exist yet (events are immutable): one stored already aborts the whole statement
// (nothing written), and GraphWriter then names it (AlreadyExistsError), as it names an end that
// does not exist (MissingNodesError): the write is the check, no read before it (a 1,000-event
// put_events: two round trips and ~5 ms of engine time less). A MERGE would cost FalkorDB a sync
// of the relation matrix per check (0.5-0.9 ms each with 10k events stored): the events are
// checked first, all of them, then created (collect() is the barrier): FalkorDB runs one write
// query at a time per graph, so check-then-create is as safe as MERGE here, and reads no relation
// matrix after writing to it.
// FalkorDB: the event, fingerprint and link parts find their nodes by position, not by one index
// seek per row (40-110 µs each on FalkorDB's numeric index): `$<part>_at` holds the referenced
// ids as runs of consecutive ids (one range seek per run), the nodes are collected in id order,
// and each row carries the positions of its ends (`ai`, `ei`, `ci`; GraphWriter computes them).
// 1,000 lookups: 49 ms by seek, 5 ms by position. A part with few rows (`// when: $list few`, at
// most GraphWriter's FEW_ROWS) seeks each node instead: the position machinery costs ~0.4 ms per
// part, more than a few seeks (a one-execution put_execution: 2.3 -> 1.x ms in the engine). A
// node that does not exist (never did, or deleted meanwhile) would shift the positions: the
// row's ids are compared and a mismatch divides by zero, which aborts the whole statement
// (nothing written; GraphWriter then names the node missing, MissingNodesError, or reports a
// failed precondition when it is found again). Nothing is read before the write to check the
// ends of events and links: this is the check.
// Nodes given by their id alone (references: NodeRepository.prepare does not read them) must
// exist: `$<kind>_refs` holds their ids as runs of consecutive ids (but not those an event or
// a link of this write reads: its part aborts on a missing end; WriteBatch._guarded_ends),
// and a count short of `$<kind>_refs_count` divides by zero, which aborts the whole statement
// (nothing written; GraphWriter then reports the missing ids as NotFoundError). Each guard
// returns one row.
// FalkorDB: names (per type) and external ids are unique without a unique constraint (it costs
// ~40 µs per created node, growing with the label): `$<kind>_names` / `$<kind>_external_ids`
// hold the keys this write stores, a key held by another node divides by zero (GraphWriter then
// reports it as AlreadyExistsError). Check-then-write is safe: FalkorDB runs one write query at
// a time per graph. GraphWriter has checked the keys within the write, and check_key() keeps
// out the values FalkorDB's index cannot find.
// FalkorDB: new nodes get their properties in the CREATE, never by a SET: a SET on a node in a
// statement that also creates a labelled node costs time proportional to all the nodes in the
// graph (FalkorDB 4.16: 0.6 ms at 10k nodes, 4.7 ms at 100k, per statement; the same CREATE with
// its properties inline stays at 0.1 ms). A part headed `by keys` is written out by GraphWriter
// once per group of property keys: `{id: r[0]}` stands for `{`id`: r[0], `type_id`: r[1], ...}`
// and each row is the list of its values in that order (null where a row lacks a key: CREATE
// skips it). A write with more shapes than GraphWriter writes out (MAX_INLINE_GROUPS) sends the
// rest as `$new_<kind>_rest`, created and then SET: the cost is paid once for that statement.
// Updates of stored nodes still SET (no other way): a write that both updates a node and creates
// one pays that cost once.
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
// when: $artifact_names
CALL {
  UNWIND $artifact_names AS r
  OPTIONAL MATCH (n:Artifact {name: r.name})
  WHERE n.type_id = r.type_id AND n.id <> r.id
  WITH count(n) AS taken
  WHERE 1 / (CASE WHEN taken = 0 THEN 1 ELSE 0 END) = 1
  RETURN taken AS artifact_names_taken
}
// when: $artifact_external_ids
CALL {
  UNWIND $artifact_external_ids AS r
  OPTIONAL MATCH (n:Artifact {external_id: r.external_id})
  WHERE n.id <> r.id
  WITH count(n) AS taken
  WHERE 1 / (CASE WHEN taken = 0 THEN 1 ELSE 0 END) = 1
  RETURN taken AS artifact_external_ids_taken
}
// when: $execution_names
CALL {
  UNWIND $execution_names AS r
  OPTIONAL MATCH (n:Execution {name: r.name})
  WHERE n.type_id = r.type_id AND n.id <> r.id
  WITH count(n) AS taken
  WHERE 1 / (CASE WHEN taken = 0 THEN 1 ELSE 0 END) = 1
  RETURN taken AS execution_names_taken
}
// when: $execution_external_ids
CALL {
  UNWIND $execution_external_ids AS r
  OPTIONAL MATCH (n:Execution {external_id: r.external_id})
  WHERE n.id <> r.id
  WITH count(n) AS taken
  WHERE 1 / (CASE WHEN taken = 0 THEN 1 ELSE 0 END) = 1
  RETURN taken AS execution_external_ids_taken
}
// when: $context_names
CALL {
  UNWIND $context_names AS r
  OPTIONAL MATCH (n:Context {name: r.name})
  WHERE n.type_id = r.type_id AND n.id <> r.id
  WITH count(n) AS taken
  WHERE 1 / (CASE WHEN taken = 0 THEN 1 ELSE 0 END) = 1
  RETURN taken AS context_names_taken
}
// when: $context_external_ids
CALL {
  UNWIND $context_external_ids AS r
  OPTIONAL MATCH (n:Context {external_id: r.external_id})
  WHERE n.id <> r.id
  WITH count(n) AS taken
  WHERE 1 / (CASE WHEN taken = 0 THEN 1 ELSE 0 END) = 1
  RETURN taken AS context_external_ids_taken
}
// when: $new_artifacts by keys
CALL {
  UNWIND $new_artifacts AS r
  CREATE (n:Artifact {id: r[0]})
}
// when: $new_artifacts_rest
CALL {
  UNWIND $new_artifacts_rest AS r
  CREATE (n:Artifact)
  SET n = r.props
}
// when: $artifacts
CALL {
  UNWIND $artifacts AS r
  OPTIONAL MATCH (n:Artifact {id: r.id})
  WITH r, n
  WHERE 1 / (CASE WHEN n IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
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
// registration expects its claim, tracker/claim_version).
CALL {
  UNWIND $patched_artifacts AS r
  OPTIONAL MATCH (n:Artifact {id: r.id})
  WITH r, n
  WHERE 1 / (CASE WHEN n IS NOT NULL
                       AND all(k IN keys(coalesce(r.expect, {})) WHERE n[k] = r.expect[k])
                  THEN 1 ELSE 0 END) = 1  // deleted since read, or not as expected
  SET n += r.props
  FOREACH (d IN r.drop | SET n += d)  // one removal per SET (GraphWriter's patch_row)
  FOREACH (d IN [d IN r.stray WHERE n[keys(d)[0]] IS NOT NULL] | SET n += d)
}
// when: $new_executions by keys
CALL {
  UNWIND $new_executions AS r
  CREATE (n:Execution {id: r[0]})
}
// when: $new_executions_rest
CALL {
  UNWIND $new_executions_rest AS r
  CREATE (n:Execution)
  SET n = r.props
}
// when: $executions
CALL {
  UNWIND $executions AS r
  OPTIONAL MATCH (e:Execution {id: r.id})
  WITH r, e
  WHERE 1 / (CASE WHEN e IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
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
  WHERE 1 / (CASE WHEN n IS NOT NULL
                       AND all(k IN keys(coalesce(r.expect, {})) WHERE n[k] = r.expect[k])
                  THEN 1 ELSE 0 END) = 1  // deleted since read, or not as expected
  SET n += r.props
  FOREACH (d IN r.drop | SET n += d)  // one removal per SET (GraphWriter's patch_row)
  FOREACH (d IN [d IN r.stray WHERE n[keys(d)[0]] IS NOT NULL] | SET n += d)
}
// when: $new_contexts by keys
CALL {
  UNWIND $new_contexts AS r
  CREATE (n:Context {id: r[0]})
}
// when: $new_contexts_rest
CALL {
  UNWIND $new_contexts_rest AS r
  CREATE (n:Context)
  SET n = r.props
}
// when: $contexts
CALL {
  UNWIND $contexts AS r
  OPTIONAL MATCH (n:Context {id: r.id})
  WITH r, n
  WHERE 1 / (CASE WHEN n IS NOT NULL THEN 1 ELSE 0 END) = 1  // deleted since read
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
  SET n += r.props
  FOREACH (d IN r.drop | SET n += d)  // one removal per SET (GraphWriter's patch_row)
  FOREACH (d IN [d IN r.stray WHERE n[keys(d)[0]] IS NOT NULL] | SET n += d)
}
// when: $input_sums few
// Stored executions' fingerprints advanced by what this write's INPUT events add (GraphWriter
// sums them per execution, `n`, `s1`..`s3`; cache.input_sums): no artifact or event is read
// here (the event parts below check them, see the header).
CALL {
  UNWIND $input_sums AS r
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, e
  WHERE 1 / (CASE WHEN e IS NOT NULL THEN 1 ELSE 0 END) = 1
  // No fingerprint (none is missing since schema 3): computed from every stored INPUT.
  OPTIONAL MATCH (x:Artifact)-[o:EVENT]->(e)
  WHERE e.input_sig IS NULL AND o.type = 3
  WITH r, e, collect(x.id) AS stored
  WITH r, e, [i IN stored | i % 2147483647] AS h,
       split(coalesce(e.input_sig, '/0:0:0:0'), ':') AS sig
  SET e.input_sig = toString(e.type_id) + '/' +
      toString(toInteger(split(sig[0], '/')[1]) + r.n + size(h)) + ':' +
      toString(reduce(s = (toInteger(sig[1]) + r.s1) % 2147483647, x IN h |
                      (s + x) % 2147483647)) + ':' +
      toString(reduce(s = (toInteger(sig[2]) + r.s2) % 2147483647, x IN h |
                      (s + x * x % 2147483647) % 2147483647)) + ':' +
      toString(reduce(s = (toInteger(sig[3]) + r.s3) % 2147483647, x IN h |
                      (s + x * x % 2147483647 * x % 2147483647) % 2147483647))
}
// when: $input_sums many
CALL {
  CALL {
    UNWIND $input_sums_at.e AS run
    OPTIONAL MATCH (e:Execution)
    WHERE e.id >= run[0] AND e.id <= run[1]
    WITH e ORDER BY e.id
    RETURN collect(e) AS execs
  }
  UNWIND $input_sums AS r
  WITH r, execs[r.ei] AS e
  WHERE 1 / (CASE WHEN e.id = r.execution_id THEN 1 ELSE 0 END) = 1
  // No fingerprint (none is missing since schema 3): computed from every stored INPUT.
  OPTIONAL MATCH (x:Artifact)-[o:EVENT]->(e)
  WHERE e.input_sig IS NULL AND o.type = 3
  WITH r, e, collect(x.id) AS stored
  WITH r, e, [i IN stored | i % 2147483647] AS h,
       split(coalesce(e.input_sig, '/0:0:0:0'), ':') AS sig
  SET e.input_sig = toString(e.type_id) + '/' +
      toString(toInteger(split(sig[0], '/')[1]) + r.n + size(h)) + ':' +
      toString(reduce(s = (toInteger(sig[1]) + r.s1) % 2147483647, x IN h |
                      (s + x) % 2147483647)) + ':' +
      toString(reduce(s = (toInteger(sig[2]) + r.s2) % 2147483647, x IN h |
                      (s + x * x % 2147483647) % 2147483647)) + ':' +
      toString(reduce(s = (toInteger(sig[3]) + r.s3) % 2147483647, x IN h |
                      (s + x * x % 2147483647 * x % 2147483647) % 2147483647))
}
// when: $created_inputs few
CALL {
  UNWIND $created_inputs AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, a, e
  WHERE 1 / (CASE WHEN a IS NOT NULL AND e IS NOT NULL THEN 1 ELSE 0 END) = 1
  CREATE (a)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(e)
  CREATE (e)-[:UPSTREAM {type: r.type, ms: r.ms}]->(a)
}
// when: $created_inputs many
CALL {
  CALL {
    UNWIND $created_inputs_at.a AS run
    OPTIONAL MATCH (a:Artifact)
    WHERE a.id >= run[0] AND a.id <= run[1]
    WITH a ORDER BY a.id
    RETURN collect(a) AS arts
  }
  CALL {
    UNWIND $created_inputs_at.e AS run
    OPTIONAL MATCH (e:Execution)
    WHERE e.id >= run[0] AND e.id <= run[1]
    WITH e ORDER BY e.id
    RETURN collect(e) AS execs
  }
  UNWIND $created_inputs AS r
  WITH r, arts[r.ai] AS a, execs[r.ei] AS e
  WHERE 1 / (CASE WHEN a.id = r.artifact_id AND e.id = r.execution_id THEN 1 ELSE 0 END) = 1
  CREATE (a)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(e)
  CREATE (e)-[:UPSTREAM {type: r.type, ms: r.ms}]->(a)
}
// when: $merged_inputs few
CALL {
  UNWIND $merged_inputs AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, a, e
  WHERE 1 / (CASE WHEN a IS NOT NULL AND e IS NOT NULL THEN 1 ELSE 0 END) = 1
  OPTIONAL MATCH (e)<-[old:EVENT {type: r.type}]-(a)
  WITH r, a, e, old
  WHERE 1 / (CASE WHEN old IS NULL THEN 1 ELSE 0 END) = 1
  WITH collect([r, a, e]) AS todo
  UNWIND todo AS t
  WITH t[0] AS r, t[1] AS a, t[2] AS e
  CREATE (a)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(e)
  CREATE (e)-[:UPSTREAM {type: r.type, ms: r.ms}]->(a)
}
// when: $merged_inputs many
CALL {
  CALL {
    UNWIND $merged_inputs_at.a AS run
    OPTIONAL MATCH (a:Artifact)
    WHERE a.id >= run[0] AND a.id <= run[1]
    WITH a ORDER BY a.id
    RETURN collect(a) AS arts
  }
  CALL {
    UNWIND $merged_inputs_at.e AS run
    OPTIONAL MATCH (e:Execution)
    WHERE e.id >= run[0] AND e.id <= run[1]
    WITH e ORDER BY e.id
    RETURN collect(e) AS execs
  }
  UNWIND $merged_inputs AS r
  WITH r, arts[r.ai] AS a, execs[r.ei] AS e
  WHERE 1 / (CASE WHEN a.id = r.artifact_id AND e.id = r.execution_id THEN 1 ELSE 0 END) = 1
  OPTIONAL MATCH (e)<-[old:EVENT {type: r.type}]-(a)
  WITH r, a, e, old
  WHERE 1 / (CASE WHEN old IS NULL THEN 1 ELSE 0 END) = 1
  WITH collect([r, a, e]) AS todo
  UNWIND todo AS t
  WITH t[0] AS r, t[1] AS a, t[2] AS e
  CREATE (a)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(e)
  CREATE (e)-[:UPSTREAM {type: r.type, ms: r.ms}]->(a)
}
// when: $created_outputs few
CALL {
  UNWIND $created_outputs AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, a, e
  WHERE 1 / (CASE WHEN a IS NOT NULL AND e IS NOT NULL THEN 1 ELSE 0 END) = 1
  CREATE (e)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(a)
  CREATE (a)-[:UPSTREAM {type: r.type, ms: r.ms}]->(e)
}
// when: $created_outputs many
CALL {
  CALL {
    UNWIND $created_outputs_at.a AS run
    OPTIONAL MATCH (a:Artifact)
    WHERE a.id >= run[0] AND a.id <= run[1]
    WITH a ORDER BY a.id
    RETURN collect(a) AS arts
  }
  CALL {
    UNWIND $created_outputs_at.e AS run
    OPTIONAL MATCH (e:Execution)
    WHERE e.id >= run[0] AND e.id <= run[1]
    WITH e ORDER BY e.id
    RETURN collect(e) AS execs
  }
  UNWIND $created_outputs AS r
  WITH r, arts[r.ai] AS a, execs[r.ei] AS e
  WHERE 1 / (CASE WHEN a.id = r.artifact_id AND e.id = r.execution_id THEN 1 ELSE 0 END) = 1
  CREATE (e)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(a)
  CREATE (a)-[:UPSTREAM {type: r.type, ms: r.ms}]->(e)
}
// when: $merged_outputs few
CALL {
  UNWIND $merged_outputs AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  WITH r, a, e
  WHERE 1 / (CASE WHEN a IS NOT NULL AND e IS NOT NULL THEN 1 ELSE 0 END) = 1
  OPTIONAL MATCH (e)-[old:EVENT {type: r.type}]->(a)
  WITH r, a, e, old
  WHERE 1 / (CASE WHEN old IS NULL THEN 1 ELSE 0 END) = 1
  WITH collect([r, a, e]) AS todo
  UNWIND todo AS t
  WITH t[0] AS r, t[1] AS a, t[2] AS e
  CREATE (e)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(a)
  CREATE (a)-[:UPSTREAM {type: r.type, ms: r.ms}]->(e)
}
// when: $merged_outputs many
CALL {
  CALL {
    UNWIND $merged_outputs_at.a AS run
    OPTIONAL MATCH (a:Artifact)
    WHERE a.id >= run[0] AND a.id <= run[1]
    WITH a ORDER BY a.id
    RETURN collect(a) AS arts
  }
  CALL {
    UNWIND $merged_outputs_at.e AS run
    OPTIONAL MATCH (e:Execution)
    WHERE e.id >= run[0] AND e.id <= run[1]
    WITH e ORDER BY e.id
    RETURN collect(e) AS execs
  }
  UNWIND $merged_outputs AS r
  WITH r, arts[r.ai] AS a, execs[r.ei] AS e
  WHERE 1 / (CASE WHEN a.id = r.artifact_id AND e.id = r.execution_id THEN 1 ELSE 0 END) = 1
  OPTIONAL MATCH (e)-[old:EVENT {type: r.type}]->(a)
  WITH r, a, e, old
  WHERE 1 / (CASE WHEN old IS NULL THEN 1 ELSE 0 END) = 1
  WITH collect([r, a, e]) AS todo
  UNWIND todo AS t
  WITH t[0] AS r, t[1] AS a, t[2] AS e
  CREATE (e)-[:EVENT {type: r.type, path: r.path, ms: r.ms, seq: r.seq}]->(a)
  CREATE (a)-[:UPSTREAM {type: r.type, ms: r.ms}]->(e)
}
// when: $attributions few
CALL {
  UNWIND $attributions AS r
  OPTIONAL MATCH (a:Artifact {id: r.artifact_id})
  OPTIONAL MATCH (c:Context {id: r.context_id})
  WITH r, a, c
  WHERE 1 / (CASE WHEN a IS NOT NULL AND c IS NOT NULL THEN 1 ELSE 0 END) = 1
  MERGE (a)-[l:ATTRIBUTION]->(c)
  ON CREATE SET l.seq = r.seq
}
// when: $attributions many
CALL {
  CALL {
    UNWIND $attributions_at.a AS run
    OPTIONAL MATCH (a:Artifact)
    WHERE a.id >= run[0] AND a.id <= run[1]
    WITH a ORDER BY a.id
    RETURN collect(a) AS arts
  }
  CALL {
    UNWIND $attributions_at.c AS run
    OPTIONAL MATCH (c:Context)
    WHERE c.id >= run[0] AND c.id <= run[1]
    WITH c ORDER BY c.id
    RETURN collect(c) AS ctxs
  }
  UNWIND $attributions AS r
  WITH r, arts[r.ai] AS a, ctxs[r.ci] AS c
  WHERE 1 / (CASE WHEN a.id = r.artifact_id AND c.id = r.context_id THEN 1 ELSE 0 END) = 1
  MERGE (a)-[l:ATTRIBUTION]->(c)
  ON CREATE SET l.seq = r.seq
}
// when: $associations few
CALL {
  UNWIND $associations AS r
  OPTIONAL MATCH (e:Execution {id: r.execution_id})
  OPTIONAL MATCH (c:Context {id: r.context_id})
  WITH r, e, c
  WHERE 1 / (CASE WHEN e IS NOT NULL AND c IS NOT NULL THEN 1 ELSE 0 END) = 1
  MERGE (e)-[l:ASSOCIATION]->(c)
  ON CREATE SET l.seq = r.seq
}
// when: $associations many
CALL {
  CALL {
    UNWIND $associations_at.e AS run
    OPTIONAL MATCH (e:Execution)
    WHERE e.id >= run[0] AND e.id <= run[1]
    WITH e ORDER BY e.id
    RETURN collect(e) AS execs
  }
  CALL {
    UNWIND $associations_at.c AS run
    OPTIONAL MATCH (c:Context)
    WHERE c.id >= run[0] AND c.id <= run[1]
    WITH c ORDER BY c.id
    RETURN collect(c) AS ctxs
  }
  UNWIND $associations AS r
  WITH r, execs[r.ei] AS e, ctxs[r.ci] AS c
  WHERE 1 / (CASE WHEN e.id = r.execution_id AND c.id = r.context_id THEN 1 ELSE 0 END) = 1
  MERGE (e)-[l:ASSOCIATION]->(c)
  ON CREATE SET l.seq = r.seq
}
// when: $parents
// Parent links: RelationRepository.prepare_parents checked them on what it read, but another
// writer may have linked contexts since (two writers linking A -> B and B -> A made a cycle in 94
// of 100 races). FalkorDB runs one write at a time, so this write checks that no write of parent
// links came in since that read: StoreInfo.parent_links, read before it ($parents_seen), must be
// unchanged, and is bumped here. Then the links it read are the links there are (a deletion
// removes links, never adds a path) and its check holds; else the statement aborts and
// put_parent_contexts checks again and retries. A walk per new link here instead (algo.BFS) cost
// O(graph) each: a tree of 10,000 contexts linked in one call took 1.6 s, 50,000 timed out.
// Both ends must exist and the link must not, else nothing is written.
CALL {
  OPTIONAL MATCH (m:StoreInfo {key: 'store'})
  WITH m
  WHERE 1 / (CASE WHEN coalesce(m.parent_links, 0) = $parents_seen THEN 1 ELSE 0 END) = 1
  SET m.parent_links = coalesce(m.parent_links, 0) + 1
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
  WITH collect([child, parent, r.seq]) AS todo
  UNWIND todo AS t
  WITH t[0] AS child, t[1] AS parent, t[2] AS seq
  CREATE (child)-[:PARENT_CONTEXT {seq: seq}]->(parent)
}
// always
RETURN 1 AS written
