"""Orders of MLMD's reads that its API does not state, pinned against ml_metadata 1.17.1."""

from __future__ import annotations

import pytest
from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as pb

from .conftest import Both


def test_artifacts_and_types_list_the_types_in_first_use_order(both: Both) -> None:
    a = both.call("put_artifact_type", pb.ArtifactType(name="A"))
    b = both.call("put_artifact_type", pb.ArtifactType(name="B"))
    c = both.call("put_artifact_type", pb.ArtifactType(name="C"))
    both.call("put_artifacts", [pb.Artifact(type_id=t) for t in (b, a, c, b, a)])
    for asked in ([1, 2, 3], [3, 2, 1], [5, 3, 4], [4, 5], [2]):
        both.call("get_artifacts_and_types_by_artifact_ids", asked)


def test_artifacts_and_types_of_no_ids_given_as_none_are_none(both: Both) -> None:
    """ml_metadata's client gives these ids to its request's constructor, where ``None`` leaves
    the field unset (``([], [])``), not iterates them (TypeError, as ``get_artifacts_by_id``)."""
    t = both.call("put_artifact_type", pb.ArtifactType(name="A"))
    both.call("put_artifacts", [pb.Artifact(type_id=t)])
    assert both.call("get_artifacts_and_types_by_artifact_ids", None) == ([], [])
    for bad in ("1", [1.0], [2**63], [None]):
        raised = []
        for store in (both.ref, both.ours):
            with pytest.raises((TypeError, ValueError)) as exc:
                store.get_artifacts_and_types_by_artifact_ids(bad)
            raised.append(type(exc.value))
        assert raised[0] is raised[1], bad


def test_an_empty_uri_finds_the_artifacts_stored_without_one(both: Both) -> None:
    t = both.call("put_artifact_type", pb.ArtifactType(name="A"))
    # unset, set to "", set to "x" and later cleared by a whole update: MLMD stores "" for all
    # but the third, and returns the uri field as "" for every one without a value
    both.call("put_artifacts", [pb.Artifact(type_id=t), pb.Artifact(type_id=t, uri="")])
    both.call("put_artifacts", [pb.Artifact(type_id=t, uri="x"), pb.Artifact(type_id=t, uri=" ")])
    both.call("put_artifacts", [pb.Artifact(id=3, type_id=t)])
    both.call("get_artifacts_by_uri", "")
    both.call("get_artifacts_by_uri", " ")
    both.call("get_artifacts_by_uri", "x")


def test_lineage_types_come_in_the_clients_order_and_only_with_their_nodes(both: Both) -> None:
    """ml_metadata's client lists a lineage subgraph's artifact types in the order its artifacts
    first use them, execution and context types in the order of a Python set of their ids, and
    reads types from the server's answer to the mask less its ``*_types`` paths: types of a kind
    whose nodes that mask leaves out are not returned."""
    kinds = ("artifact", "execution", "context")
    types = {
        kind: [
            both.call(f"put_{kind}_type", getattr(pb, f"{kind.title()}Type")(name=f"{kind}{i}"))
            for i in range(9)
        ]
        for kind in kinds
    }
    used = (8, 0, 5, 8, 1)  # ids 10 apart and 8 apart: a set of them is not in id order
    arts = both.call("put_artifacts", [pb.Artifact(type_id=types["artifact"][i]) for i in used])
    exs = both.call("put_executions", [pb.Execution(type_id=types["execution"][i]) for i in used])
    ctxs = both.call(
        "put_contexts",
        [pb.Context(type_id=types["context"][i], name=f"c{i}") for i in (8, 0, 4)],
    )
    both.call(
        "put_events",
        [
            pb.Event(
                artifact_id=a, execution_id=e, type=pb.Event.INPUT if a % 2 else pb.Event.OUTPUT
            )
            for a, e in zip(arts, exs, strict=True)
        ]
        + [pb.Event(artifact_id=arts[0], execution_id=e, type=pb.Event.INPUT) for e in exs[1:]],
    )
    both.call(
        "put_attributions_and_associations",
        [pb.Attribution(artifact_id=a, context_id=c) for a in arts for c in ctxs],
        [pb.Association(execution_id=e, context_id=c) for e in exs for c in ctxs],
    )
    query = pb.LineageSubgraphQueryOptions(max_num_hops=4)
    query.starting_artifacts.filter_query = "id = 1"
    type_paths = [f"{kind}_types" for kind in kinds]
    for mask in (
        None,
        type_paths,
        [*type_paths, "artifacts"],
        [*type_paths, "executions", "events"],
        ["contexts", "artifact_types", "context_types"],
        [*type_paths, "no_such_field"],
    ):
        both.call(
            "get_lineage_subgraph",
            query,
            field_mask_paths=mask,
        )


def test_lineage_options_of_none_are_unset_options(both: Both) -> None:
    """ml_metadata's client builds its request with the options given, None leaving them unset:
    InvalidArgumentError for the missing starting nodes (not an AttributeError)."""
    both.fails("get_lineage_subgraph", None)
    both.fails("get_lineage_subgraph", pb.LineageSubgraphQueryOptions())


def test_a_bad_ending_filter_fails_only_where_the_walk_meets_its_kind(both: Both) -> None:
    """MLMD tests the nodes its lineage walk meets against the ending filter of their kind: a
    filter it would refuse ("bogus = 1", a syntax error) fails the call only once the walk meets
    a node of that kind (a start node counts), and is never read otherwise. The adapter read
    both ending filters first and failed every such call (found by a differential probe)."""
    q = pb.LineageSubgraphQueryOptions
    both.call("put_artifact_type", pb.ArtifactType(name="A"))
    both.call("put_execution_type", pb.ExecutionType(name="E"))
    both.call("put_artifacts", [pb.Artifact(type_id=10, uri=f"a{i}") for i in range(1, 4)])
    both.call("put_executions", [pb.Execution(type_id=11, name="e1")])
    both.call(
        "put_events",
        [pb.Event(artifact_id=1, execution_id=1, type=pb.Event.INPUT)],
    )
    outcomes = set()
    for bad in ("bogus = 1", "((", "uri = 3"):
        for start, ending, hops in [
            ("artifacts", "executions", None),  # artifact 1 reaches execution 1: refused
            ("artifacts", "executions", 0),  # no hop: the filter is never read
            ("artifacts", "artifacts", 0),  # the start node is tested: refused
            ("executions", "artifacts", 1),
            ("executions", "executions", 5),
        ]:
            for start_query in ("id = 1", "id = 3"):  # artifact 3 has no events
                options = q()
                getattr(options, f"starting_{start}").filter_query = start_query
                getattr(options, f"ending_{ending}").filter_query = bad
                if hops is not None:
                    options.max_num_hops = hops
                try:
                    both.ref.get_lineage_subgraph(options)
                except errors.StatusError as exc:
                    outcomes.add(type(exc).__name__)
                    both.fails("get_lineage_subgraph", options)
                else:
                    outcomes.add("answered")
                    both.call("get_lineage_subgraph", options, unordered_fields=("events",))
    assert {"InvalidArgumentError", "answered"} <= outcomes


def test_types_by_external_ids_come_in_external_id_order(both: Both) -> None:
    """MLMD reads types by external id from its unique index: in external-id order (code point
    order, as SQLite compares UTF-8 bytes), whatever the type ids and the order asked; types
    given later with smaller external ids come first (nodes by external id come in id order)."""
    for kind in ("artifact", "execution", "context"):
        message = getattr(pb, f"{kind.title()}Type")
        for i, ext in enumerate(["m", "b", "z", "a", "é", "B"]):
            both.call(f"put_{kind}_type", message(name=f"T{i}", external_id=f"{kind}-{ext}"))
        both.call(f"put_{kind}_type", message(name="T0", version="v", external_id=f"{kind}-0"))
        for asked in (["a", "b", "m", "z"], ["z", "m"], ["é", "a", "B", "0", "a", "none"]):
            both.call(f"get_{kind}_types_by_external_ids", [f"{kind}-{x}" for x in asked])
