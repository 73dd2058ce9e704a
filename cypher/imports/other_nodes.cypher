// How many nodes the store holds besides its record, its id sequences, its types and its
// artifacts, executions and contexts (e.g. the undo records of impact marks): an import that
// replaces the graph would drop them, so it writes into the graph instead. An import's claim on
// its MLMD store (ImportClaim) is no such node: the swap ends it, as the import does.
MATCH (n)
WHERE NOT (n:StoreInfo OR n:IdSequence OR n:ArtifactType OR n:ExecutionType OR n:ContextType OR
           n:Artifact OR n:Execution OR n:Context OR n:ImportClaim)
RETURN count(n) AS n
