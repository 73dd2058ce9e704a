MATCH (s:IdSequence)
RETURN s.kind AS kind, s.next AS next
