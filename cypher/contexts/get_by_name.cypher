// Every context with this name, of any type and type version, by id (the name index).
MATCH (n:Context)
WHERE n.name = $name
RETURN properties(n) AS node
ORDER BY node.id
