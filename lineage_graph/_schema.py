"""The graph schema every engine sets up, derived from the models' closed set of labels."""

from __future__ import annotations

from .backends import IndexSpec, SchemaSpec
from .models import NodeKind

__all__ = ["SCHEMA", "SCHEMA_VERSION"]

#: Bumped by every change to how data is laid out in the graph; a store records the version it
#: was written with, and a library refuses to open a store written by a newer one.
SCHEMA_VERSION = 3


def _spec() -> SchemaSpec:
    indexes: list[IndexSpec] = [
        IndexSpec("IdSequence", ("kind",), unique=True),
        IndexSpec("StoreInfo", ("key",), unique=True),
        IndexSpec("ImpactMark", ("key",), unique=True),  # store.impact(mark=...)'s undo records
    ]
    for kind in NodeKind:
        node, type_label = kind.value, kind.type_label
        # Node keys: ids come from the id sequence only (never reused, never given by callers),
        # names and external ids are checked by graph/write (its FalkorDB variant; Neo4j keeps
        # the constraints). FalkorDB 4.16.3 charges ~40 µs per created node, growing with the
        # label's size, for a label under any unique constraint: 25k batched puts 3.36 -> 2.36 s.
        indexes += [
            IndexSpec(node, ("id",), unique=True, checked_by_writes=True),
            IndexSpec(node, ("type_id", "name"), unique=True, checked_by_writes=True),
            IndexSpec(node, ("external_id",), unique=True, checked_by_writes=True),
            IndexSpec(node, ("type_id",)),
            IndexSpec(node, ("type",)),
            IndexSpec(node, ("name",)),
            # the MLMD adapter's pages by create or update time read windows of these
            IndexSpec(node, ("create_time_since_epoch",)),
            IndexSpec(node, ("last_update_time_since_epoch",)),
            IndexSpec(type_label, ("id",), unique=True),
            IndexSpec(type_label, ("type_key",), unique=True),
            IndexSpec(type_label, ("external_id",), unique=True),
            IndexSpec(type_label, ("name",)),
        ]
    indexes.append(IndexSpec(NodeKind.ARTIFACT.value, ("uri",)))
    indexes.append(IndexSpec(NodeKind.ARTIFACT.value, ("state",)))
    indexes.append(IndexSpec(NodeKind.EXECUTION.value, ("last_known_state",)))
    # find_cached_execution (lineage_graph/_repositories/cache.py): the input fingerprint kept by
    # graph/write (it holds the type id, so one single-property index is exact on both engines),
    # and the content fingerprints ("digest", declared or custom string property) of artifacts.
    indexes.append(IndexSpec(NodeKind.EXECUTION.value, ("input_sig",)))
    indexes.append(IndexSpec(NodeKind.ARTIFACT.value, ("ps__digest",)))
    indexes.append(IndexSpec(NodeKind.ARTIFACT.value, ("cs__digest",)))
    return SchemaSpec(tuple(indexes), property_keys=PROPERTY_KEYS)


#: Every property key a statement of the library writes under a fixed name (custom and type
#: property keys are registered as writes meet them): FalkorDB registers them when the store
#: opens (EmbeddedBackend.ensure_property_keys says why). tests/embedded/test_property_keys.py
#: fails when one of the write paths it runs (types, nodes, events, links, put_execution,
#: put_lineage_subgraph, impact marks, retention) makes a key not registered before it.
PROPERTY_KEYS = (
    # StoreInfo (parent_links: FalkorDB's count of parent-link writes, graph/write), IdSequence,
    # ImpactMark, ImportClaim (an MLMD import's claim on its source: imports/claim)
    *("key", "schema_version", "library_version", "created_ms", "migrated_ms", "parent_links"),
    *("kind", "next", "lock", "source", "undo", "owner", "until"),
    # what impact marks keep on the artifacts they mark (nodes.MARK_KEYS)
    *("impact_marks", "impact_ms"),
    # artifacts, executions, contexts
    *("id", "type_id", "type", "type_version", "name", "external_id", "uri", "state"),
    *("last_known_state", "create_time_since_epoch", "last_update_time_since_epoch"),
    *("input_sig", "tombstone_time_since_epoch", "mlmd_origin"),
    # a registered model's context, and an artifact's claim (tracker/claim_version)
    *("next_model_version", "model_claim"),
    # types
    *("type_key", "version", "description", "base_type"),
    # events (type, path, ms, seq: the write order) and the UPSTREAM shortcuts (type, ms)
    *("path", "ms", "seq"),
)


SCHEMA = _spec()
