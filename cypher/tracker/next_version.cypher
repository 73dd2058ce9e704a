// The next version number the context of a registered model keeps (tracker/claim_version); null
// for a context registered before it was kept: the tracker then reads its versions for the floor.
MATCH (c:Context {id: $context_id})
RETURN c.next_model_version AS next
