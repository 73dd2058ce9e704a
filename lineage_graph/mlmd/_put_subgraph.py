"""``put_lineage_subgraph`` of the adapter: the request read as ml_metadata's client builds it,
the checks in MLMD's order (the edges, then the artifacts', executions' and contexts' own, a
new node's key taken before a later error) and the native write. Nothing is written on a
refused call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pydantic
from ml_metadata.proto import metadata_store_service_pb2

from .. import exceptions as native
from .._repositories.nodes import MlmdGiven
from ..models import Event, Node, NodeKind
from ..store import LineageStore
from . import _convert
from ._event_checks import check_edges
from ._node_checks import NodeChecks
from ._write_rules import mlmd_write, node_models, record_given, type_id_given

#: ml_metadata's request messages (generated code, untyped).
_SERVICE: Any = metadata_store_service_pb2

#: ``(execution index, artifact index, event)`` of put_lineage_subgraph.
EventEdge = tuple[int | None, int | None, Event]


def put_lineage_subgraph(
    store: LineageStore,
    checks: NodeChecks,
    executions: Sequence[Any],
    artifacts: Sequence[Any],
    contexts: Sequence[Any],
    event_edges: Sequence[tuple[int | None, int | None, Any]],
    *,
    reuse_context_if_already_exist: bool,
    reuse_artifact_if_already_exist_by_external_id: bool,
) -> tuple[list[int], list[int], list[int]]:
    """:meth:`MetadataStore.put_lineage_subgraph
    <._store.MetadataStore.put_lineage_subgraph>` on ``store``."""
    # as ml_metadata's client builds its request: a list of None is an empty one, the
    # options are proto bools, and an edge's event of None is unset (see check_edges)
    options = _SERVICE.PutLineageSubgraphRequest.Options(
        reuse_context_if_already_exist=reuse_context_if_already_exist,
        reuse_artifact_if_already_exist_by_external_id=reuse_artifact_if_already_exist_by_external_id,
    )
    given: dict[int, MlmdGiven] = {}
    executions = list(executions or ())
    artifacts = list(artifacts or ())
    contexts = list(contexts or ())
    for kind, msgs in (
        (NodeKind.EXECUTION, executions),
        (NodeKind.ARTIFACT, artifacts),
        (NodeKind.CONTEXT, contexts),
    ):
        for msg in msgs:  # a message of another class: TypeError (the client's), first
            _convert.expect_node(kind, msg)
    edges = _request_edges(event_edges)
    # the edges on the request as given, before the nodes' own checks (an id 0 is one)
    check_edges(edges, executions, artifacts)
    e_models = node_models(NodeKind.EXECUTION, executions, given)
    a_models = node_models(NodeKind.ARTIFACT, artifacts, given)
    c_models = _convert.to_contexts(contexts)
    record_given(given, contexts, c_models)
    _check_nodes(checks, a_models, e_models, c_models)
    return _write(store, checks, options, given, (e_models, a_models, c_models), edges)


def _request_edges(
    event_edges: Sequence[tuple[int | None, int | None, Any]],
) -> list[tuple[int | None, int | None, Any]]:
    """Each edge as the client adds it to its request (None: TypeError, as it iterates the
    edges; an index a proto int32: a float is TypeError, past 32 bits ValueError, True 1; an
    event of None unset, a dict its fields)."""
    return [
        (
            edge.execution_index if edge.HasField("execution_index") else None,
            edge.artifact_index if edge.HasField("artifact_index") else None,
            edge.event if edge.HasField("event") else None,
        )
        for edge in (
            _SERVICE.PutLineageSubgraphRequest.EventEdge(
                execution_index=e_index, artifact_index=a_index, event=ev
            )
            for e_index, a_index, ev in event_edges
        )
    ]


def _check_nodes(
    checks: NodeChecks,
    a_models: Sequence[Node],
    e_models: Sequence[Node],
    c_models: Sequence[Node],
) -> None:
    """MLMD checks the artifacts (each has a type id, an update too, then their types exist,
    then their properties), then the executions alike, all before it writes any node (a
    property error comes before a name taken or an update of a missing node), then the
    contexts (a type id, then their types, then their properties)."""
    for models in (a_models, e_models):
        for m in models:
            type_id_given(m, updates_too=True)
        checks.precheck(models, upfront=True)
        for i, m in enumerate(models):
            checks.check_declared(m, i)
    for m in c_models:
        type_id_given(m, updates_too=True)
    checks.precheck(c_models, upfront=True)
    # and every context's properties, one reused (stored, or given twice with
    # reuse_context_if_already_exist) too: the native write links such a one as stored
    for i, m in enumerate(c_models):
        checks.check_declared(m, i)


def _write(
    store: LineageStore,
    checks: NodeChecks,
    options: Any,
    given: dict[int, MlmdGiven],
    models: tuple[list[Any], list[Any], list[Any]],
    event_edges: list[tuple[int | None, int | None, Any]],
) -> tuple[list[int], list[int], list[int]]:
    """Each event's type last, edge by edge (MLMD checks it as it writes the event), then the
    native write. MLMD writes the contexts, then the artifacts, then the executions, then the
    events: a new node's key taken comes before an event's type and before a later node's
    update of a missing node (the native write finds that one first)."""
    e_models, a_models, c_models = models
    try:
        edges: list[EventEdge] = [(e, a, _convert.to_event(ev)) for e, a, ev in event_edges]
        with mlmd_write(given=given):
            return store.put_lineage_subgraph(
                e_models,
                a_models,
                c_models,
                edges,
                reuse_context_if_already_exist=options.reuse_context_if_already_exist,
                reuse_artifact_if_already_exist_by_external_id=options.reuse_artifact_if_already_exist_by_external_id,
            )
    except (native.InvalidArgumentError, pydantic.ValidationError):
        checks.refuse_taken_keys(
            [*c_models, *a_models, *e_models],
            reuse_artifacts=options.reuse_artifact_if_already_exist_by_external_id,
            reuse_contexts=options.reuse_context_if_already_exist,
        )
        raise
