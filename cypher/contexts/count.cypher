MATCH (n:Context)
RETURN count(n) AS n
