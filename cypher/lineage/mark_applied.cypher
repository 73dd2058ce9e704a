// Impact mark $key as stored, read back when its write's reply was lost (the engine died after
// applying it): one row if the mark exists, with how many of the artifacts it was given
// ($ranges: their ids as [first, last] runs, _repositories/_base.py id_ranges) it marked. No
// row: the mark was not applied.
MATCH (m:ImpactMark {key: $key})
UNWIND CASE WHEN size($ranges) = 0 THEN [null] ELSE $ranges END AS run
OPTIONAL MATCH (n:Artifact)
WHERE n.id >= run[0] AND n.id <= run[1] AND $key IN coalesce(n.impact_marks, [])
RETURN m.key AS key, count(n) AS marked
