"""``python -m lineage_graph.cli`` — the same as the ``lineage-graph`` command."""

from . import main

main()
