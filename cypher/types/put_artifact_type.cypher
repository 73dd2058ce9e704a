MERGE (t:ArtifactType {id: $id})
SET t = $props
RETURN t.id AS id
