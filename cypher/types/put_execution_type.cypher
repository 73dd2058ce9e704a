MERGE (t:ExecutionType {id: $id})
SET t = $props
RETURN t.id AS id
