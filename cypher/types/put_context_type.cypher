MERGE (t:ContextType {id: $id})
SET t = $props
RETURN t.id AS id
