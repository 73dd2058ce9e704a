MATCH (n:Artifact)
RETURN count(n) AS n
