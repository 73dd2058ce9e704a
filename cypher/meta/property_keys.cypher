// Every property key the graph knows (a staged copy registers them all before it replaces it).
CALL db.propertyKeys() YIELD propertyKey
RETURN propertyKey AS key
