"""FalkorDB's ``GRAPH.PROFILE`` of a statement: the records each operator produced."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from lineage_graph.backends._resp import params_header
from lineage_graph.backends.embedded import EmbeddedBackend

_RECORDS = re.compile(r"Records produced: (\d+)")


def records_by_operator(
    backend: EmbeddedBackend, query: str, params: Mapping[str, Any] | None
) -> Counter[str]:
    """Records produced per operator name (``Node By Index Scan``, ``NodeByIdSeek``, ...), summed
    over the plan. Profiling runs the statement again: use it on reads."""
    graph = backend._graph
    lines = graph.execute_command(
        "GRAPH.PROFILE", graph.name, params_header(dict(params or {})) + query
    )
    records: Counter[str] = Counter()
    for line in lines:
        text = line.decode() if isinstance(line, bytes) else str(line)
        match = _RECORDS.search(text)
        if match:
            records[text.strip().split("|", 1)[0].strip()] += int(match.group(1))
    return records
