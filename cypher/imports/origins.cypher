// Nodes an import copied from one MLMD store (their `mlmd_origin`, '<source key>#<MLMD id>',
// starts with $prefix): a merge re-run updates these in place instead of copying them again.
// A label scan each, once per import (the property is not indexed: imports are rare).
MATCH (n:Artifact)
WHERE n.mlmd_origin STARTS WITH $prefix
RETURN 'Artifact' AS kind, n.mlmd_origin AS origin, n.id AS id
UNION ALL
MATCH (n:Execution)
WHERE n.mlmd_origin STARTS WITH $prefix
RETURN 'Execution' AS kind, n.mlmd_origin AS origin, n.id AS id
UNION ALL
MATCH (n:Context)
WHERE n.mlmd_origin STARTS WITH $prefix
RETURN 'Context' AS kind, n.mlmd_origin AS origin, n.id AS id
