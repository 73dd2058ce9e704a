MATCH (n:Execution)
RETURN count(n) AS n
