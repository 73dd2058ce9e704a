// The undo of impact mark $key read back when its write's reply was lost (lineage/unmark: the
// engine died after applying it, or before): `kept` > 0 while the mark's record is there (the
// undo was not applied); else `restored`, how many of the mark's artifacts ($ranges: their ids
// as [first, last] runs, _repositories/_base.py id_ranges) hold the update time the undo wrote
// ($now, as both `impact_ms` and `last_update_time_since_epoch`): those it restored and no
// other write changed since.
OPTIONAL MATCH (m:ImpactMark {key: $key})
WITH count(m) AS kept
UNWIND CASE WHEN size($ranges) = 0 THEN [null] ELSE $ranges END AS run
OPTIONAL MATCH (n:Artifact)
WHERE n.id >= run[0] AND n.id <= run[1] AND n.impact_ms = $now
  AND n.last_update_time_since_epoch = $now
RETURN kept, count(n) AS restored
