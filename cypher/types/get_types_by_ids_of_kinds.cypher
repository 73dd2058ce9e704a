// Types of every kind by id in one read (a lineage answer's artifact, execution and context
// types): each row names its kind by the node label of its nodes.
MATCH (t:ArtifactType)
WHERE t.id IN $artifact_type_ids
RETURN 'Artifact' AS kind, properties(t) AS node
UNION ALL
MATCH (t:ExecutionType)
WHERE t.id IN $execution_type_ids
RETURN 'Execution' AS kind, properties(t) AS node
UNION ALL
MATCH (t:ContextType)
WHERE t.id IN $context_type_ids
RETURN 'Context' AS kind, properties(t) AS node
