"""MLMD's write rules that its API does not state, found by probing ml_metadata 1.17.1 and
pinned here against it (each call runs on both stores; results and stored state must match).

- An update never changes the name of an artifact or an execution (MLMD's UPDATE statements have
  no name column): a name given is ignored (even one another node holds), an omitted one kept,
  one given to an unnamed node ignored; a context can be renamed.
- ``id`` set to 0 (or below) names a node to update that cannot exist.
- A context reused by ``reuse_context_if_already_exist`` is linked as it is stored.
- A type's base type, once set, is never changed nor cleared (UnimplementedError).
"""

from __future__ import annotations

import enum
import time
from typing import Any

import pytest
from ml_metadata import errors
from ml_metadata.proto import metadata_store_pb2 as pb

from .conftest import Both

A, X, C, E = pb.Artifact, pb.Execution, pb.Context, pb.Event


@pytest.fixture
def typed(both: Both) -> Both:
    both.call("put_artifact_type", pb.ArtifactType(name="A", properties={"i": pb.INT}))
    both.call("put_execution_type", pb.ExecutionType(name="E"))
    both.call("put_context_type", pb.ContextType(name="C"))
    both.call("put_artifacts", [A(type_id=10, name="n1", uri="u1", external_id="x1")])
    both.call("put_artifacts", [A(type_id=10, name="n2", uri="u2"), A(type_id=10, uri="u3")])
    both.call("put_executions", [X(type_id=11, name="e1"), X(type_id=11, name="e2")])
    both.call("put_contexts", [C(type_id=12, name="c1")])
    return both


def _state(both: Both) -> None:
    """Every stored node and link, compared."""
    for method in ("get_artifacts", "get_executions", "get_contexts"):
        both.call(method)
    both.call("get_events_by_execution_ids", [1, 2, 3])
    both.call("get_artifacts_by_context", 1)
    both.call("get_executions_by_context", 1)


@pytest.mark.parametrize(
    "artifact",
    [
        A(id=1, type_id=10, name="renamed", uri="u1"),
        A(id=1, type_id=10, uri="u1b"),  # name omitted
        A(id=1, type_id=10, name="n2", uri="u1"),  # another artifact's name
        A(id=3, type_id=10, name="late", uri="u3"),  # a name for an unnamed artifact
    ],
    ids=["renamed", "omitted", "taken", "unnamed"],
)
def test_an_update_keeps_an_artifacts_name(typed: Both, artifact: pb.Artifact) -> None:
    typed.call("put_artifacts", [artifact])
    typed.call("put_artifacts", [artifact], field_mask_paths=["name", "uri"])
    _state(typed)


def test_an_update_keeps_an_executions_name_in_every_write(typed: Both) -> None:
    typed.call("put_executions", [X(id=1, type_id=11, name="other")])
    typed.call("put_executions", [X(id=2, type_id=11, last_known_state=X.COMPLETE)])
    typed.call("put_execution", X(id=1, type_id=11), [], [])
    typed.call("put_lineage_subgraph", [X(id=2, type_id=11, name="zz")], [], [], [])
    reused = A(type_id=10, external_id="x1", uri="again")  # artifact 1, named n1
    typed.call(
        "put_execution",
        X(type_id=11),
        [(reused, E(type=E.INPUT))],
        [],
        reuse_artifact_if_already_exist_by_external_id=True,
    )
    _state(typed)


def test_a_context_can_be_renamed(typed: Both) -> None:
    typed.call("put_contexts", [C(id=1, type_id=12, name="c2")])
    _state(typed)


@pytest.mark.parametrize("ident", [0, -1])
def test_an_id_of_zero_or_below_is_an_update_that_fails(typed: Both, ident: int) -> None:
    typed.fails("put_artifacts", [A(id=ident, type_id=10, uri="x")])
    typed.fails("put_executions", [X(id=ident, type_id=11)])
    typed.fails("put_execution", X(id=ident, type_id=11), [], [])
    _state(typed)


def test_a_type_id_of_zero_names_no_type(typed: Both) -> None:
    typed.fails("put_artifacts", [A(type_id=0, uri="x")])
    typed.fails("put_executions", [X(type_id=0)])
    _state(typed)


def test_a_reused_context_is_linked_as_stored(typed: Both) -> None:
    given = C(type_id=12, name="c1", external_id="zz")
    given.custom_properties["k"].int_value = 1
    typed.call("put_execution", X(type_id=11), [], [given], reuse_context_if_already_exist=True)
    typed.call("put_lineage_subgraph", [], [], [given], [], reuse_context_if_already_exist=True)
    _state(typed)


def test_a_field_mask_checks_only_the_properties_it_names(typed: Both) -> None:
    undeclared = A(id=1, type_id=10, uri="new")
    undeclared.properties["undeclared"].int_value = 1
    mistyped = A(id=2, type_id=10, uri="new")
    mistyped.properties["i"].string_value = "s"
    typed.call("put_artifacts", [undeclared, mistyped], field_mask_paths=["uri"])
    typed.fails("put_artifacts", [mistyped], field_mask_paths=["properties.i"])
    typed.fails("put_artifacts", [undeclared], field_mask_paths=["properties"])
    _state(typed)


@pytest.mark.parametrize(
    "mask", [[""], ["", ""], ["properties."], ["custom_properties."], ["uri."], ["", "uri"]]
)
def test_a_field_mask_of_paths_naming_nothing_updates_nothing_else(
    typed: Both, mask: list[str]
) -> None:
    """Only an empty mask is a whole update: ``[""]`` or ``["properties."]`` name no field, and
    MLMD then leaves every field as stored (a whole update would clear them)."""
    stored = A(id=1, type_id=10, uri="u1", external_id="x1", state=A.LIVE)
    stored.properties["i"].int_value = 1
    stored.custom_properties["c"].string_value = "kept"
    typed.call("put_artifacts", [stored])
    given = A(id=1, type_id=10, uri="new", external_id="x9", state=A.DELETED)
    given.properties["i"].int_value = 2
    given.custom_properties["d"].int_value = 3
    typed.call("put_artifacts", [given], field_mask_paths=mask)
    typed.call("put_artifacts", [A(id=2, type_id=10)], field_mask_paths=mask)
    typed.call("put_executions", [X(id=1, type_id=11)], field_mask_paths=mask)
    _state(typed)


def test_a_masked_context_update_needs_no_name(typed: Both) -> None:
    """Under a field mask that leaves ``name`` out, MLMD updates a context given without its
    name (only the masked fields are written; it was InvalidArgumentError "name: Field
    required" here, from the context model), and moves its update time (the context given
    differs from the stored one). A mask naming ``name`` still needs one; a missing context is
    still InvalidArgumentError."""
    custom = {"k": pb.Value(string_value="v")}
    typed.call("put_contexts", [C(id=1, custom_properties=custom)], ["custom_properties.k"])
    typed.call("put_contexts", [C(id=1, type_id=12, external_id="cx")], ["external_id"])
    # as read but for its name: an update
    unnamed = C(id=1, type_id=12, type="C", external_id="cx", custom_properties=custom)
    before = [s.get_contexts_by_id([1])[0] for s in (typed.ref, typed.ours)]
    time.sleep(0.005)  # times are milliseconds: an update now has a later one
    typed.call("put_contexts", [unnamed], ["custom_properties.k"])
    for store, old in zip((typed.ref, typed.ours), before, strict=True):
        new = store.get_contexts_by_id([1])[0]
        assert new.last_update_time_since_epoch > old.last_update_time_since_epoch
    typed.call("put_contexts", [C(id=1, name="")], ["properties.p"])
    typed.fails("put_contexts", [C(id=1)], ["custom_properties.k", "name"])
    typed.fails("put_contexts", [C(id=9)], ["custom_properties.k"])
    _state(typed)
    typed.call("get_contexts_by_external_ids", ["cx"])


def test_a_masked_custom_property_may_have_dots_in_its_name(typed: Both) -> None:
    stored = A(id=1, type_id=10, uri="u1")
    for name in ("x.", ".", "a.b", "o"):
        stored.custom_properties[name].int_value = 1
    typed.call("put_artifacts", [stored])
    given = A(id=1, type_id=10)
    for name in ("x.", ".", "a.b", "o"):
        given.custom_properties[name].int_value = 5
    masks = ["custom_properties.x.", "custom_properties..", "custom_properties.a"]
    typed.call("put_artifacts", [given], field_mask_paths=masks)
    _state(typed)


def test_a_types_description_is_set_once(both: Both) -> None:
    both.call("put_artifact_type", pb.ArtifactType(name="T", description="first"))
    both.call("put_artifact_type", pb.ArtifactType(name="T", description="second"))
    both.call("put_artifact_type", pb.ArtifactType(name="T", description=""))
    both.call("put_artifact_type", pb.ArtifactType(name="U"))
    both.call("put_artifact_type", pb.ArtifactType(name="U", description="late"))
    both.call("get_artifact_types")


def test_a_types_base_type_once_set_is_never_changed(both: Both) -> None:
    at, xt = pb.ArtifactType, pb.ExecutionType
    both.call("put_artifact_type", at(name="T", base_type=at.DATASET))
    both.call("put_artifact_type", at(name="T", base_type=at.DATASET))
    assert both.fails("put_artifact_type", at(name="T", base_type=at.MODEL)) is (
        errors.UnimplementedError
    )
    assert both.fails("put_artifact_type", at(name="T", base_type=at.UNSET)) is (
        errors.UnimplementedError
    )
    both.call("put_artifact_type", at(name="T"))  # the field left out: the stored one is kept
    both.call("put_artifact_type", at(name="U"))
    both.call("put_artifact_type", at(name="U", base_type=at.MODEL))  # set later: stored
    both.call("put_execution_type", xt(name="E", base_type=xt.TRAIN))
    both.fails("put_execution_type", xt(name="E", base_type=xt.PROCESS))
    # UNSET given is never accepted: a new type, one stored without a base type, a version
    both.call("put_artifact_type", at(name="Plain"))
    for t in (at(name="New"), at(name="Plain"), at(name="T", version="v1")):
        t.base_type = at.UNSET
        assert both.fails("put_artifact_type", t) is errors.UnimplementedError
    both.call("put_artifact_type", at(name="P", properties={"a": pb.INT}, base_type=at.DATASET))
    # MLMD's property checks come first: AlreadyExistsError, not UnimplementedError
    for t in [
        at(name="P", properties={"a": pb.STRING}, base_type=at.MODEL),  # another value type
        at(name="P", properties={"a": pb.STRING}, base_type=at.UNSET),
        at(name="P", properties={"a": pb.INT, "b": pb.INT}, base_type=at.MODEL),  # added
        at(name="P", base_type=at.UNSET),  # omitted
    ]:
        assert both.fails("put_artifact_type", t) is errors.AlreadyExistsError
    both.fails("put_artifact_type", at(name="P", base_type=at.MODEL), can_omit_fields=True)
    both.call("put_context_type", pb.ContextType(name="Ctx"))
    both.call("get_artifact_types")
    both.call("get_execution_types")


def test_a_types_id_is_ignored_as_mlmd_ignores_it(both: Both) -> None:
    """ml_metadata 1.17.1 finds a type by name and version and ignores an id given with it: an
    unknown id registers the type, another type's id returns the named one (the native API
    refuses both; the adapter keeps MLMD's answer)."""
    at = pb.ArtifactType
    both.call("put_artifact_type", at(name="A"))
    both.call("put_artifact_type", at(name="B"))
    both.call("put_artifact_type", at(id=999, name="N"))
    both.call("put_artifact_type", at(id=10, name="N2"))
    both.call("put_artifact_type", at(id=11, name="A"))
    both.call("put_artifact_type", at(id=10, name="A", properties={"x": pb.INT}), True)
    both.call("put_execution_type", pb.ExecutionType(id=10, name="A"))
    both.call("put_context_type", pb.ContextType(id=5000, name="C"))
    both.call("get_artifact_types")
    both.call("get_execution_types")
    both.call("get_context_types")


def test_a_type_given_as_a_dict_is_taken_as_the_clients_request_takes_it(both: Both) -> None:
    """ml_metadata's client sets the type on its request, whose constructor takes a dict of the
    type's fields (enum names as strings): put_artifact_type({"name": "Z"}) answers a type id
    there; the adapter raised protobuf's TypeError ("must be instance of same class")."""
    both.call("put_artifact_type", {"name": "Z", "properties": {"a": "INT"}})
    both.call("put_execution_type", {"name": "E", "base_type": "TRAIN"})
    both.call("put_context_type", {"name": "C"})
    both.call("get_artifact_types")
    both.call("get_execution_types")
    for bad, error in (
        (pb.ExecutionType(name="X"), TypeError),
        ({"name": "Y", "x": 1}, ValueError),
    ):
        for store in (both.ref, both.ours):  # as the request's constructor refuses it
            with pytest.raises(error):
                store.put_artifact_type(bad)
    both.call("get_artifact_types")


def test_an_empty_external_id_is_an_invalid_read(typed: Both) -> None:
    typed.fails("get_artifacts_by_external_ids", ["x1", ""])
    typed.fails("get_executions_by_external_ids", [""])
    typed.fails("get_contexts_by_external_ids", [""])
    typed.fails("get_artifact_types_by_external_ids", [""])


def test_a_context_forced_to_be_reused_must_exist(typed: Both) -> None:
    typed.fails("put_execution", X(type_id=11), [], [C(id=99)], force_reuse_context=True)
    _state(typed)


def test_an_events_time_and_path_are_stored_as_given(typed: Both) -> None:
    at_zero = E(artifact_id=1, execution_id=1, type=E.INPUT, milliseconds_since_epoch=0)
    stepped = E(artifact_id=2, execution_id=1, type=E.OUTPUT, milliseconds_since_epoch=5)
    stepped.path.steps.add(key="k")
    stepped.path.steps.add()  # neither index nor key: dropped
    stepped.path.steps.add(index=3)
    typed.call("put_events", [at_zero, stepped])
    ours = typed.call("get_events_by_execution_ids", [1])  # compared without times
    ref = typed.ref.get_events_by_execution_ids([1])
    times = sorted((e.artifact_id, e.milliseconds_since_epoch) for e in ours)
    assert (
        times
        == sorted((e.artifact_id, e.milliseconds_since_epoch) for e in ref)
        == [(1, 0), (2, 5)]
    )


def test_a_blank_filter_is_invalid(typed: Both) -> None:
    from ml_metadata.metadata_store.metadata_store import ListOptions

    typed.fails("get_artifacts", list_options=ListOptions(filter_query="  "))
    typed.call("get_artifacts", list_options=ListOptions(filter_query=""))


def test_the_same_new_node_twice_with_a_reuse_flag_is_one_node(typed: Both) -> None:
    """MLMD writes the first and reuses it for the later ones: a context as first given, an
    artifact (put_execution only) updated by the later one, its name kept."""
    first, later = C(type_id=12, name="q"), C(type_id=12, name="q", external_id="later")
    later.custom_properties["k"].int_value = 2
    typed.call(
        "put_execution", X(type_id=11), [], [first, later], reuse_context_if_already_exist=True
    )
    typed.call(
        "put_lineage_subgraph",
        [],
        [],
        [C(type_id=12, name="r")] * 2,
        [],
        reuse_context_if_already_exist=True,
    )
    typed.fails("put_execution", X(type_id=11), [], [C(type_id=12, name="s")] * 2)
    a1 = A(type_id=10, external_id="nn", name="first", uri="u/first")
    a2 = A(type_id=10, external_id="nn", name="second", uri="u/second")
    typed.call(
        "put_execution",
        X(type_id=11),
        [(a1, E(type=E.INPUT)), (a2, E(type=E.OUTPUT))],
        [],
        reuse_artifact_if_already_exist_by_external_id=True,
    )
    typed.fails(  # put_lineage_subgraph writes its artifacts together: no reuse among them
        "put_lineage_subgraph",
        [X(type_id=11)],
        [A(type_id=10, external_id="mm", uri="x"), A(type_id=10, external_id="mm", uri="y")],
        [],
        [(0, 0, E(type=E.INPUT)), (0, 1, E(type=E.OUTPUT))],
        reuse_artifact_if_already_exist_by_external_id=True,
    )
    _state(typed)
    typed.call("get_events_by_execution_ids", [4, 5, 6])


def test_the_same_new_artifact_twice_must_keep_its_type(typed: Both) -> None:
    other = typed.call("put_artifact_type", pb.ArtifactType(name="Other"))
    pairs = [
        (A(type_id=10, external_id="z", uri="a"), E(type=E.INPUT)),
        (A(type_id=other, external_id="z", uri="b"), E(type=E.OUTPUT)),
    ]
    flag = {"reuse_artifact_if_already_exist_by_external_id": True}
    typed.fails("put_execution", X(type_id=11), pairs, [], **flag)
    _state(typed)


def test_the_native_api_still_refuses_the_same_new_node_twice(typed: Both) -> None:
    """Folding is MLMD's rule, kept to the adapter: the native put_execution refuses."""
    from lineage_graph import AlreadyExistsError, Artifact, Context, Event, EventType, Execution

    native = typed.ours.lineage_store
    twice = [Artifact(type_id=10, external_id="z") for _ in range(2)]
    with pytest.raises(AlreadyExistsError):
        native.put_execution(
            Execution(type_id=11),
            [(a, Event(type=EventType.INPUT)) for a in twice],
            reuse_artifact_if_already_exist_by_external_id=True,
        )
    with pytest.raises(AlreadyExistsError):
        native.put_execution(
            Execution(type_id=11),
            [],
            [Context(type_id=12, name="q"), Context(type_id=12, name="q")],
            reuse_context_if_already_exist=True,
        )


@pytest.mark.parametrize(
    "call",
    [
        ("put_artifacts", [A(id=1, type_id=0, uri="q")]),  # an update changing the type
        ("put_artifacts", [A(type_id=-5)]),
        ("put_contexts", [C(type_id=0, name="z")]),
        ("put_contexts", [C(id=0, type_id=12, name="z")]),
        ("put_execution", X(type_id=11), [(A(type_id=0), E(type=E.INPUT))], []),
        ("put_execution", X(type_id=11), [], [C(id=0)]),
        ("put_lineage_subgraph", [X(id=0, type_id=11)], [], [], []),
    ],
    ids=repr,
)
def test_ids_below_one_fail_with_mlmds_error(typed: Both, call: tuple[Any, ...]) -> None:
    typed.fails(*call)


def test_a_forced_context_is_checked_after_the_nodes_and_events(typed: Both) -> None:
    forced = {"force_reuse_context": True}
    typed.fails("put_execution", X(type_id=11), [], [C(id=0)], **forced)  # NotFound
    typed.fails("put_execution", X(type_id=11), [], [C(id=7)], **forced)  # NotFound
    bad_event = (A(type_id=10, uri="x"), E(type=E.INPUT, artifact_id=55))
    typed.fails("put_execution", X(type_id=11), [bad_event], [C(id=99)], **forced)  # Invalid
    typed.fails("put_execution", X(id=99, type_id=11), [], [C(id=99)], **forced)  # Invalid
    typed.call("put_execution", X(type_id=11), [], [C(id=1, name="x", type_id=12)], **forced)
    # beside an artifact that an event and the link read (an update that changes nothing)
    linked = (A(id=1, type_id=10, uri="u1"), E(type=E.INPUT))
    typed.fails("put_execution", X(type_id=11), [linked], [C(id=99)], **forced)  # NotFound
    _state(typed)


def test_a_missing_node_that_an_event_or_a_link_reads_is_mlmds_error(typed: Both) -> None:
    """ml_metadata 1.17.1 refuses a missing artifact or execution with InvalidArgument whether
    an event, a context's link, both or neither reads it, in put_execution as in
    put_lineage_subgraph, put_events and put_attributions_and_associations."""
    given = A(id=99, type_id=10, uri="z")
    for events in ([(given, None)], [(given, E(type=E.INPUT))]):
        for contexts in ([], [C(id=1, type_id=12, name="c1")]):
            assert typed.fails("put_execution", X(type_id=11), events, contexts) is (
                errors.InvalidArgumentError
            )
    stored = A(id=1, type_id=10, uri="u1")
    for context in ([], [C(id=1, type_id=12, name="c1")]):
        typed.fails("put_lineage_subgraph", [X(id=99, type_id=11)], [stored], context, [])
        typed.fails("put_lineage_subgraph", [], [given], context, [])
    typed.fails("put_events", [E(artifact_id=99, execution_id=1, type=E.INPUT)])
    typed.fails(
        "put_attributions_and_associations", [pb.Attribution(artifact_id=99, context_id=1)], []
    )
    typed.fails(
        "put_attributions_and_associations", [], [pb.Association(execution_id=99, context_id=1)]
    )
    _state(typed)


@pytest.mark.parametrize(
    "method, given",
    [
        ("put_artifact_type", pb.ContextType(name="T2")),
        ("put_context_type", pb.ArtifactType(name="T2")),
        ("put_execution_type", pb.ArtifactType(name="T2")),
        ("put_artifacts", [pb.Execution(type_id=11)]),
        ("put_executions", [pb.Artifact(type_id=10)]),
        ("put_contexts", [pb.Execution(type_id=11, name="x")]),
        ("put_events", [pb.Attribution(artifact_id=1, context_id=1)]),
        ("put_parent_contexts", [pb.Attribution(artifact_id=1, context_id=1)]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_message_of_another_class_is_a_type_error(typed: Both, method: str, given: Any) -> None:
    """As ml_metadata's client, which copies each message into its request: TypeError, and
    nothing written (an ArtifactType given to put_context_type made a context type)."""
    for store in (typed.ref, typed.ours):
        with pytest.raises(TypeError):
            getattr(store, method)(given)
    for kind in ("artifact", "execution", "context"):
        typed.call(f"get_{kind}_types")
    _state(typed)


def test_a_missing_type_id_is_reported_in_mlmds_order(typed: Both) -> None:
    """A new node without a type id is InvalidArgumentError where MLMD meets it: in a batch's
    order for put_*s and put_execution (artifacts, execution, contexts); put_lineage_subgraph
    checks the artifacts (type ids given, types found, properties), then the executions."""
    undeclared = {"z": pb.Value(int_value=1)}
    typed.fails("put_artifacts", [A(), A(type_id=99)])
    typed.fails("put_artifacts", [A(type_id=99), A()])
    typed.fails("put_contexts", [C(name="x"), C(type_id=99, name="y")])
    typed.fails("put_execution", X(type_id=99), [(A(), None)], [])
    typed.fails("put_execution", X(), [], [C(type_id=99, name="c")])
    for executions, artifacts in (
        ([X(type_id=99)], [A()]),
        ([X()], [A(type_id=99)]),
        ([], [A(type_id=99), A()]),
        ([X(), X(type_id=99)], []),
        ([X(type_id=98)], [A(type_id=99)]),
        ([X(type_id=99)], [A(type_id=10, properties=undeclared)]),
        ([X(type_id=11, properties=undeclared)], [A(type_id=99)]),
        ([X(type_id=99)], [A(id=50, type_id=10)]),
        ([X(id=1)], []),  # an update without its type id: refused here only
        ([], [A(id=1, uri="x")]),
        ([], [A(id=1, uri="x"), A(type_id=99)]),
    ):
        typed.fails("put_lineage_subgraph", executions, artifacts, [], [])
    # the contexts' types are looked up before any node is written, an update included
    for executions, artifacts, contexts in (
        ([X(id=99, type_id=11)], [], [C(id=77, type_id=10, name="x")]),
        ([], [A(id=50, type_id=10)], [C(type_id=99, name="x")]),
    ):
        typed.fails("put_lineage_subgraph", executions, artifacts, contexts, [])
    _state(typed)


def test_an_unknown_type_after_an_update_is_not_found(typed: Both) -> None:
    """MLMD writes a batch's nodes in order: a new node of an unknown type id after updates
    that pass is NotFoundError (it was InvalidArgumentError, the native store's error, whenever
    an update came first: TFX's put_execution gives its input artifacts back before its new
    outputs). An update that fails itself is still reported first."""
    typed.fails("put_artifacts", [A(id=1, type_id=10, uri="b"), A(type_id=99)])
    typed.fails("put_artifacts", [A(id=1, uri="b"), A(type_id=12)])  # a context type's id
    typed.fails("put_executions", [X(id=1, type_id=11), X(type_id=10)])
    typed.fails("put_contexts", [C(id=1, type_id=12, name="c1"), C(type_id=99, name="d")])
    output = (A(type_id=99), E(type=E.OUTPUT))
    typed.fails("put_execution", X(id=1, type_id=11), [(A(id=1, type_id=10), None), output], [])
    typed.fails("put_execution", X(id=1, type_id=11), [], [C(type_id=99, name="d")])
    # the update fails first: a missing id, another type id, an undeclared property
    typed.fails("put_execution", X(id=1, type_id=11), [(A(id=7, type_id=10), None), output], [])
    typed.fails("put_artifacts", [A(id=1, type_id=13), A(type_id=99)])
    undeclared = {"z": pb.Value(int_value=1)}
    typed.fails("put_artifacts", [A(id=1, properties=undeclared), A(type_id=99)])
    _state(typed)


def test_a_masked_updates_unmasked_properties_are_not_checked(typed: Both) -> None:
    """Under a field mask an update's properties the mask does not name are neither written nor
    checked (by MLMD, nor by the native store), so the adapter's own checks must not read them
    either: an ``int_value`` for a DOUBLE property left out of the mask was refused
    (InvalidArgumentError, MLMD writes the call), and an undeclared or mistyped property left
    out made a later new node's unknown type id InvalidArgumentError (MLMD: NotFoundError)."""
    d = typed.call("put_artifact_type", pb.ArtifactType(name="D", properties={"d": pb.DOUBLE}))
    typed.call("put_artifacts", [A(type_id=d, uri="d")])  # artifact 4
    int_for_double = {"d": pb.Value(int_value=1)}
    typed.call("put_artifacts", [A(id=4, type_id=d, properties=int_for_double)], ["uri"])
    typed.fails("put_artifacts", [A(id=4, type_id=d, properties=int_for_double)], ["properties"])
    undeclared = {"z": pb.Value(int_value=1)}
    mistyped = {"i": pb.Value(string_value="s")}
    for update, mask in [
        (A(id=1, type_id=10, properties=undeclared), ["uri"]),
        (A(id=1, type_id=10, properties=undeclared), ["properties."]),
        (A(id=1, type_id=10, properties=mistyped), ["custom_properties.i"]),
        (A(id=4, type_id=d, properties=int_for_double), ["uri"]),
    ]:
        typed.fails("put_artifacts", [update, A(type_id=99)], mask)
    typed.fails(
        "put_executions", [X(id=1, type_id=11, properties=undeclared), X(type_id=99)], ["name"]
    )
    update = C(id=1, type_id=12, name="c1", properties=undeclared)
    typed.fails("put_contexts", [update, C(type_id=99, name="n")], ["external_id"])
    # named by the mask, they are still refused first
    typed.fails(
        "put_artifacts",
        [A(id=1, type_id=10, properties=undeclared), A(type_id=99)],
        ["properties.z"],
    )
    typed.fails(
        "put_artifacts", [A(id=1, type_id=10, properties=mistyped), A(type_id=99)], ["properties"]
    )
    _state(typed)


def test_parent_links_are_checked_link_by_link(both: Both) -> None:
    """MLMD writes parent links one by one: the first link that names a missing context, is
    its own parent, exists already (stored or earlier in the call) or closes a cycle is
    reported, with its error class (the adapter checked every link's contexts, then every
    duplicate, then cycles)."""
    ct = both.call("put_context_type", pb.ContextType(name="C"))
    both.call("put_contexts", [C(type_id=ct, name=f"c{i}") for i in range(1, 7)])
    link = pb.ParentContext
    both.call("put_parent_contexts", [link(child_id=1, parent_id=2), link(child_id=2, parent_id=3)])
    both.call("put_parent_contexts", [link(child_id=3, parent_id=4), link(child_id=5, parent_id=1)])
    for links in (
        [(4, 5), (1, 2)],  # a cycle first, then a stored link
        [(1, 2), (4, 5)],
        [(3, 4), (7, 5)],  # a stored link, then a missing context
        [(7, 5), (3, 4)],
        [(1, 2), (6, 6)],
        [(6, 6), (1, 2)],
        [(6, 4), (6, 4)],
        [(6, 4), (4, 6), (1, 2)],
        # an id of 0 or below (or unset) is a fault of its own place too: a stored link or a
        # cycle before it comes first (it was InvalidArgumentError whatever came before)
        [(1, 2), (0, 5)],
        [(1, 2), (6, -3)],
        [(1, 2), (6, None)],
        [(1, 2), (None, None)],
        [(4, 5), (0, 5)],
        [(0, 5), (1, 2)],
        [(6, 4), (0, 5), (1, 2)],
    ):
        both.fails("put_parent_contexts", [_link(c, p) for c, p in links])
    for i in range(1, 7):
        both.call("get_parent_contexts_by_context", i)


def _link(child: int | None, parent: int | None) -> Any:
    """A parent link message, its ids left unset where None."""
    msg = pb.ParentContext()
    if child is not None:
        msg.child_id = child
    if parent is not None:
        msg.parent_id = parent
    return msg


def test_an_artifact_reused_by_external_id_keeps_its_type_check(typed: Both) -> None:
    """With reuse_artifact_if_already_exist_by_external_id an artifact whose external id is
    stored is an update of that artifact: a type id given that is not its type is
    InvalidArgumentError, even one naming no type (the adapter said NotFoundError)."""
    reuse = {"reuse_artifact_if_already_exist_by_external_id": True}
    for type_id in (99, 12):
        typed.fails(
            "put_execution",
            X(type_id=11),
            [(A(type_id=type_id, external_id="x1"), None)],
            [],
            **reuse,
        )
    typed.fails(
        "put_execution", X(type_id=11), [(A(type_id=99, external_id="new"), None)], [], **reuse
    )
    typed.call(
        "put_execution",
        X(type_id=11),
        [(A(type_id=10, external_id="x1", uri="u"), None)],
        [],
        **reuse,
    )
    _state(typed)


def test_a_bad_update_is_reported_before_a_context_name_taken(typed: Both) -> None:
    """put_execution writes the artifacts and the execution before the contexts: an update of
    a missing node or with another type is reported before a context that exists (no reuse
    flag). put_lineage_subgraph upserts the contexts first: there the context is reported."""
    taken = [C(type_id=12, name="c1")]
    typed.fails("put_execution", X(id=99, type_id=11), [], taken)
    typed.fails("put_execution", X(type_id=11), [(A(id=50, type_id=10), None)], taken)
    typed.fails("put_execution", X(type_id=11), [(A(id=1, type_id=60), None)], taken)
    typed.fails("put_lineage_subgraph", [X(id=99, type_id=11)], [], taken, [])
    typed.fails("put_lineage_subgraph", [], [A(id=50, type_id=10)], taken, [])
    typed.fails("put_execution", X(type_id=11), [], taken)  # the context itself
    _state(typed)


@pytest.mark.parametrize(
    ("properties", "can_add", "can_omit"),
    [
        ({"x": pb.UNKNOWN}, True, False),  # omits i and s: AlreadyExists first
        ({"i": pb.UNKNOWN, "s": pb.STRING}, True, True),  # i stored as INT: AlreadyExists
        ({"i": pb.UNKNOWN, "s": pb.STRING}, False, False),
        ({"i": pb.INT, "s": pb.STRING, "x": pb.UNKNOWN}, False, False),  # added, not allowed
        ({"i": pb.INT, "s": pb.STRING, "x": pb.UNKNOWN}, True, False),  # added: InvalidArgument
        ({"x": pb.UNKNOWN}, True, True),
    ],
)
def test_an_unknown_property_type_is_checked_after_the_stored_type(
    both: Both, properties: dict[str, int], can_add: bool, can_omit: bool
) -> None:
    """MLMD compares a request with the stored type before it looks at the value types given:
    a property of type UNKNOWN is InvalidArgumentError only where the request is otherwise
    compatible (it would be added); else AlreadyExistsError, as any conflict."""
    for kind in ("artifact", "execution", "context"):
        message = getattr(pb, f"{kind.title()}Type")
        both.call(f"put_{kind}_type", message(name="T", properties={"i": pb.INT, "s": pb.STRING}))
        both.fails(
            f"put_{kind}_type",
            message(name="T", properties=properties),
            can_add_fields=can_add,
            can_omit_fields=can_omit,
        )
        both.fails(f"put_{kind}_type", message(name="New", properties=properties))
        both.call(f"get_{kind}_types")


def test_write_arguments_are_taken_as_the_client_builds_its_request(typed: Both) -> None:
    """ml_metadata's client builds request protos from a write's arguments: flags are proto
    bools (None is False), an unset message is one with nothing set, an edge's event of None is
    an unset event, masks are repeated strings (UTF-8 bytes taken). The adapter refused these
    with InvalidArgumentError or a TypeError from its own conversion (found by a differential
    reading)."""
    grown = pb.ArtifactType(name="A", properties={"i": pb.INT, "j": pb.INT})
    typed.fails("put_artifact_type", grown, can_add_fields=None)  # False: AlreadyExists
    typed.call("put_artifact_type", grown, can_add_fields=1, can_omit_fields=None)
    typed.fails("put_artifact_type", None)  # no type name
    typed.fails("put_context_type", None)
    typed.call(
        "put_execution",
        X(type_id=11),
        [],
        [C(type_id=12, name="c1")],
        reuse_context_if_already_exist=1,
        force_update_time=None,
    )
    typed.call("put_execution", X(type_id=11), [], [], reuse_context_if_already_exist=None)
    # an execution of None is MLMD's first check, before the bad artifact and context
    typed.fails("put_execution", None, [(A(type_id=99), E())], [C(type_id=99, name="x")])
    typed.call("put_lineage_subgraph", None, None, None, [])
    # every edge must have an event, checked before the edges' indices
    typed.fails(
        "put_lineage_subgraph",
        [X(type_id=11)],
        [A(type_id=10)],
        [],
        [(0, 5, E(type=E.INPUT)), (0, 0, None)],
    )
    typed.fails("put_lineage_subgraph", [X(type_id=99)], [], [], [(0, None, None)])
    typed.call("put_artifacts", [A(id=1, type_id=10, uri="v")], field_mask_paths=[b"uri"])
    typed.call("put_contexts", [C(id=1, type_id=12, name="c9")], field_mask_paths=(b"name",))
    _state(typed)


@pytest.mark.parametrize(
    ("method", "args", "kwargs"),
    [
        ("put_artifact_type", (pb.ArtifactType(name="A"),), {"can_add_fields": "yes"}),
        ("put_execution_type", (pb.ExecutionType(name="E"),), {"can_omit_fields": 1.0}),
        ("put_execution", (X(type_id=11), [], []), {"reuse_context_if_already_exist": "y"}),
        ("put_execution", (X(type_id=11), [], []), {"force_update_time": 0.0}),
        ("put_lineage_subgraph", ([], [], [], []), {"reuse_context_if_already_exist": "y"}),
        ("put_artifacts", ([A(id=1, type_id=10)],), {"field_mask_paths": [3]}),
    ],
)
def test_write_arguments_of_the_wrong_type_are_type_errors(
    typed: Both, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    for store in (typed.ref, typed.ours):
        with pytest.raises(TypeError):
            getattr(store, method)(*args, **kwargs)
    _state(typed)


def test_an_edges_event_ids_must_match_its_indexed_nodes_as_given(typed: Both) -> None:
    """MLMD checks each put_lineage_subgraph edge against the request before it looks up any
    type or writes: an edge whose event names an execution (artifact) id while its index
    points at a node given without an id is "Missing ID", even when the write would give that
    node exactly that id; a node given with another id is "ID mismatch". The adapter wrote the
    first (new execution 3 linked by event.execution_id 3) and reported the others' later
    errors (an unknown type id) instead (found by a random differential run)."""
    pl = "put_lineage_subgraph"
    typed.fails(pl, [X(type_id=11)], [A(type_id=10)], [], [(0, 0, E(type=E.INPUT, execution_id=3))])
    typed.fails(pl, [X(type_id=11)], [A(type_id=10)], [], [(0, 0, E(type=E.INPUT, artifact_id=4))])
    typed.fails(
        pl, [X(id=1, type_id=11)], [A(type_id=99)], [], [(0, 0, E(type=E.INPUT, execution_id=2))]
    )
    typed.fails(
        pl, [X(type_id=99)], [A(id=1, type_id=10)], [], [(0, 0, E(type=E.OUTPUT, artifact_id=2))]
    )
    # the execution's id is checked before the artifact's index
    typed.fails(pl, [X(type_id=11)], [A(type_id=10)], [], [(0, 9, E(type=E.INPUT, execution_id=5))])
    typed.call(
        pl,
        [X(id=1, type_id=11)],
        [A(id=2, type_id=10)],
        [],
        [(0, 0, E(type=E.INPUT, execution_id=1, artifact_id=2))],
    )
    _state(typed)


def test_every_context_of_a_lineage_subgraph_needs_a_type_id(typed: Both) -> None:
    """MLMD's put_lineage_subgraph refuses a context without a type id, an update of a stored
    context too, before it looks any context type up. The adapter wrote the update
    (``Context(id=1, name="c1")``: the stored context, relinked) and reported another
    context's unknown type first (found by a random differential run)."""
    pl = "put_lineage_subgraph"
    typed.fails(pl, [], [], [C(id=1, name="c1")], [])
    typed.fails(
        pl, [X(type_id=11)], [A(type_id=10)], [C(id=1, name="c1")], [(0, 0, E(type=E.INPUT))]
    )
    typed.fails(pl, [], [], [C(type_id=99, name="x"), C(name="y")], [])
    typed.fails(pl, [], [], [C(type_id=10, name="x"), C(name="y")], [])
    typed.fails(pl, [X(type_id=99)], [], [C(name="y")], [])  # the execution's type first
    typed.call(pl, [], [], [C(id=1, type_id=12, name="c1")], [])
    _state(typed)


def test_a_lineage_subgraphs_properties_are_checked_before_anything_is_written(
    typed: Both,
) -> None:
    """MLMD's put_lineage_subgraph checks every artifact's and execution's properties before it
    writes any node: a property of the wrong kind or undeclared is InvalidArgumentError even
    when a context's, artifact's or execution's name is taken, or an update names a missing
    node. The adapter let the native write report the taken context name first
    (AlreadyExistsError; found by a random differential run)."""
    bad = {"i": pb.Value(string_value="s")}
    pl = "put_lineage_subgraph"
    typed.fails(pl, [], [A(type_id=10, properties=bad)], [C(type_id=12, name="c1")], [])
    typed.fails(
        pl,
        [X(type_id=11, properties={"zz": pb.Value(int_value=1)})],
        [],
        [C(type_id=12, name="c1")],
        [],
    )
    typed.fails(
        pl,
        [X(id=9, type_id=11)],
        [A(type_id=10, name="n1"), A(type_id=10, properties=bad)],
        [C(type_id=12, name="c1")],
        [],
        reuse_artifact_if_already_exist_by_external_id=True,
    )
    typed.fails(pl, [X(type_id=11, name="e1")], [], [C(type_id=12, name="c1")], [])
    _state(typed)


def test_a_reused_context_of_a_lineage_subgraph_is_checked_as_given(typed: Both) -> None:
    """With reuse_context_if_already_exist, MLMD's put_lineage_subgraph still checks each given
    context's properties against its type, one that is stored or given twice too. The adapter
    linked such a context as stored and dropped what it carried: a property of the wrong kind,
    or undeclared, was written without an error (found by a random differential run).
    put_execution does not check them (it links the stored one), and neither does the
    adapter."""
    typed.call(
        "put_context_type", pb.ContextType(name="C", properties={"i": pb.INT}), can_add_fields=True
    )
    bad = {"i": pb.Value(string_value="s")}
    undeclared = {"zz": pb.Value(int_value=1)}
    for properties in (bad, undeclared):
        typed.fails(
            "put_lineage_subgraph",
            [],
            [],
            [C(type_id=12, name="c1", properties=properties)],
            [],
            reuse_context_if_already_exist=True,
        )
        typed.fails(
            "put_lineage_subgraph",
            [],
            [],
            [C(type_id=12, name="n"), C(type_id=12, name="n", properties=properties)],
            [],
            reuse_context_if_already_exist=True,
        )
        typed.call(
            "put_execution",
            X(type_id=11),
            [],
            [C(type_id=12, name="c1", properties=properties)],
            reuse_context_if_already_exist=True,
        )
    typed.call(
        "put_lineage_subgraph",
        [],
        [],
        [C(type_id=12, name="n"), C(type_id=12, name="n", properties={"i": pb.Value(int_value=1)})],
        [],
        reuse_context_if_already_exist=True,
    )
    _state(typed)
    typed.call("get_contexts")


def test_a_property_added_to_a_type_in_use_is_accepted_at_once(typed: Both) -> None:
    """The adapter caches the types it has checked nodes against; a property added since (here
    through the same adapter) must not make a lineage subgraph's node look undeclared."""
    pl = "put_lineage_subgraph"
    typed.call(
        pl,
        [X(type_id=11)],
        [A(type_id=10, properties={"i": pb.Value(int_value=1)})],
        [C(type_id=12, name="c1")],
        [],
        reuse_context_if_already_exist=True,
    )
    for kind, name in (("artifact", "A"), ("execution", "E"), ("context", "C")):
        message = getattr(pb, f"{kind.title()}Type")
        typed.call(
            f"put_{kind}_type",
            message(name=name, properties={"j": pb.STRING}),
            can_add_fields=True,
            can_omit_fields=True,
        )
    j = {"j": pb.Value(string_value="v")}
    typed.call(
        pl,
        [X(type_id=11, properties=j)],
        [A(type_id=10, properties=j)],
        [C(type_id=12, name="c1", properties=j)],
        [],
        reuse_context_if_already_exist=True,
    )
    typed.call(
        pl,
        [X(type_id=11, properties=j)],
        [A(type_id=10, properties=j)],
        [C(type_id=12, name="c2", properties=j)],
        [],
    )
    _state(typed)


def test_put_executions_events_are_checked_before_its_contexts_types(typed: Both) -> None:
    """MLMD's put_execution writes the execution, then each artifact and its event, and only
    then looks the contexts' types up: an event naming another execution or artifact id is
    InvalidArgumentError before a context's unknown type (NotFoundError), which the adapter
    reported first (found by a random differential run)."""
    pe = "put_execution"
    unknown = [C(type_id=99, name="n")]
    of_another_kind = [C(type_id=11, name="n")]
    typed.fails(pe, X(type_id=11), [(A(type_id=10), E(type=E.INPUT, execution_id=2))], unknown)
    typed.fails(
        pe, X(id=1, type_id=11), [(A(type_id=10), E(type=E.INPUT, execution_id=2))], of_another_kind
    )
    typed.fails(pe, X(type_id=11), [(A(id=1, type_id=10), E(type=E.INPUT, artifact_id=2))], unknown)
    typed.fails(
        pe,
        X(type_id=11),
        [(A(type_id=10, external_id="x1"), E(type=E.INPUT, artifact_id=2))],
        unknown,
        reuse_artifact_if_already_exist_by_external_id=True,
    )
    # aligned events: the context's type is reported
    typed.fails(pe, X(type_id=11), [(A(type_id=10), E(type=E.INPUT))], unknown)
    # an artifact's unknown type comes before its event
    typed.fails(pe, X(type_id=11), [(A(type_id=99), E(type=E.INPUT, execution_id=2))], unknown)
    _state(typed)


def test_a_new_types_external_id_is_checked_before_its_base_type_and_value_types(
    both: Both,
) -> None:
    """A new type whose external id another type holds is AlreadyExistsError in MLMD, before it
    refuses a ``base_type`` of UNSET (UnimplementedError) or a property of value type UNKNOWN
    (InvalidArgumentError); nothing is written. A stored type's base type is still checked
    after its properties."""
    at, xt = pb.ArtifactType, pb.ExecutionType
    both.call("put_artifact_type", at(name="A", version="v1", external_id="ext"))
    both.call("put_execution_type", xt(name="E", external_id="x-ext"))
    for t in [
        at(name="A", version="v2", external_id="ext", base_type=at.UNSET),
        at(name="B", external_id="ext", base_type=at.UNSET),
        at(name="B", external_id="ext", base_type=at.MODEL),
        at(name="B", external_id="ext", properties={"u": pb.UNKNOWN}),
        at(name="B", external_id="ext", properties={"u": pb.UNKNOWN}, base_type=at.UNSET),
    ]:
        assert both.fails("put_artifact_type", t, can_add_fields=True) is (
            errors.AlreadyExistsError
        )
    assert both.fails("put_execution_type", xt(name="F", external_id="x-ext", base_type=0)) is (
        errors.AlreadyExistsError
    )
    # its own external id is no clash: the base type is then what fails
    assert both.fails(
        "put_artifact_type", at(name="A", version="v1", external_id="ext", base_type=0)
    ) is (errors.UnimplementedError)
    both.call("get_artifact_types", clear=("external_id",))
    both.call("get_artifact_types_by_external_ids", ["ext"], clear=("base_type",))
    both.call("get_execution_types_by_external_ids", ["x-ext"], clear=("base_type",))


@pytest.mark.parametrize(
    ("name", "version"),
    [(" lead", None), ("trail ", None), ("a\x01b", None), ("V", " v"), ("V", "v\x01")],
)
def test_type_names_and_versions_take_what_node_keys_cannot(
    both: Both, name: str, version: str | None
) -> None:
    """docs/mlmd-compatibility.md D3 listed type names and versions among the unique keys
    refused when they start or end with whitespace or hold U+0001. They are not (a type is kept
    unique through a JSON key of both, which never starts or ends with whitespace): such types
    are stored and read back as in ml_metadata. Node names (and external ids) are refused."""
    t = pb.ArtifactType(name=name)
    if version is not None:
        t.version = version
    type_id = both.call("put_artifact_type", t)
    both.call("get_artifact_types_by_id", [type_id])
    both.call("get_artifact_type", name, version)
    with pytest.raises(errors.InvalidArgumentError):  # D3: a node name so is refused here
        both.ours.put_artifacts([A(type_id=type_id, name=" lead")])


def test_put_execution_refuses_a_context_update_without_its_type_id(typed: Both) -> None:
    """put_execution writes a context given by id with the type id given: without one it is
    InvalidArgumentError and nothing is written, whatever the reuse flag, and where MLMD meets
    it among the contexts (after one of an unknown type given before it, before one given
    after it). The adapter wrote it, clearing the context's other fields (its external id and
    custom properties here). put_contexts takes such an update, and force_reuse_context only
    links the context, as in MLMD."""
    kept = C(id=1, type_id=12, name="c1", external_id="cx")
    kept.custom_properties["note"].string_value = "keep"
    typed.call("put_contexts", [kept])
    typed.call("put_contexts", [C(type_id=12, name="c2")])
    bare = C(id=1, name="renamed")
    for contexts in ([bare], [C(id=1, name="c1")]):
        for reuse in (False, True):
            typed.fails(
                "put_execution", X(type_id=11), [], contexts, reuse_context_if_already_exist=reuse
            )
    # a stored context reused before it: refused all the same (without the flag, MLMD says
    # AlreadyExistsError for the stored one first; here the missing type id: D9)
    typed.fails(
        "put_execution",
        X(type_id=11),
        [],
        [C(type_id=12, name="c2"), bare],
        reuse_context_if_already_exist=True,
    )
    typed.fails("put_execution", X(type_id=11), [], [C(type_id=99, name="z"), bare])  # NotFound
    typed.fails("put_execution", X(type_id=11), [], [bare, C(type_id=99, name="z")])  # Invalid
    _state(typed)
    typed.call("put_execution", X(type_id=11), [], [C(id=1)], force_reuse_context=True)
    typed.call("put_contexts", [C(id=2, name="c2b")])
    _state(typed)
    typed.call("get_contexts_by_execution", 3)


def test_an_events_id_given_as_0_names_no_node(typed: Both) -> None:
    """An event's ``artifact_id`` or ``execution_id`` set to 0 is given (proto2: set), and MLMD
    never allocates id 0: a put_lineage_subgraph edge whose event names 0 for an indexed node
    is "Missing ID" (a new node) or "ID mismatch" (a stored one), and a put_execution event
    naming 0 is not aligned with its node: InvalidArgumentError, nothing written. The adapter
    read 0 as unset and wrote the event to the node at the index."""
    pl, pe = "put_lineage_subgraph", "put_execution"
    for ids in ({"artifact_id": 0}, {"execution_id": 0}):
        typed.fails(pl, [X(type_id=11)], [A(type_id=10)], [], [(0, 0, E(type=E.INPUT, **ids))])
        typed.fails(
            pl, [X(id=1, type_id=11)], [A(id=2, type_id=10)], [], [(0, 0, E(type=E.INPUT, **ids))]
        )
        typed.fails(pe, X(type_id=11), [(A(type_id=10), E(type=E.INPUT, **ids))], [])
        typed.fails(pe, X(id=1, type_id=11), [(A(id=2, type_id=10), E(type=E.OUTPUT, **ids))], [])
    _state(typed)


def test_an_events_type_is_checked_after_its_nodes_and_edges(typed: Both) -> None:
    """MLMD checks an event's type as it writes the event: after every put_lineage_subgraph
    edge's indices and ids and after the nodes' types, and in put_execution after the
    execution's and every artifact's type. The adapter refused an event without a type first
    (InvalidArgumentError where MLMD says NotFoundError or OutOfRangeError), and a node given
    with id 0 before an edge's index out of range."""
    pl, pe = "put_lineage_subgraph", "put_execution"
    untyped = E()
    assert typed.fails(pl, [X(type_id=11)], [A(type_id=99)], [], [(0, 0, untyped)]) is (
        errors.NotFoundError
    )
    assert typed.fails(
        pl, [X(type_id=11)], [A(type_id=10)], [], [(0, 0, untyped), (0, 3, E(type=E.INPUT))]
    ) is (errors.OutOfRangeError)
    assert typed.fails(pl, [], [A(id=0, type_id=10)], [], [(1, None, E(execution_id=1))]) is (
        errors.OutOfRangeError
    )
    assert typed.fails(
        pe, X(type_id=11), [(A(type_id=10), untyped), (A(type_id=99), None)], []
    ) is (errors.NotFoundError)
    assert typed.fails(pe, X(type_id=99), [(A(type_id=10), untyped)], []) is (errors.NotFoundError)
    # with only the type missing, it is refused as before
    assert typed.fails(pl, [X(type_id=11)], [A(type_id=10)], [], [(0, 0, untyped)]) is (
        errors.InvalidArgumentError
    )
    assert typed.fails(
        pe, X(type_id=11), [(A(type_id=10), untyped)], [C(type_id=99, name="n")]
    ) is (errors.InvalidArgumentError)
    _state(typed)


def test_lineage_subgraph_edges_of_none_are_a_type_error(typed: Both) -> None:
    """ml_metadata's client iterates ``event_edges`` as it builds its request: ``None`` is
    TypeError there, before anything is sent (the node lists of None are empty ones)."""
    for store in (typed.ref, typed.ours):
        with pytest.raises(TypeError):
            store.put_lineage_subgraph([X(type_id=11)], [A(type_id=10)], [], None)
    assert typed.call("put_lineage_subgraph", None, None, None, []) == ([], [], [])
    _state(typed)


def test_a_pair_without_an_artifact_links_the_one_its_event_names(typed: Both) -> None:
    """put_execution's pair with no artifact (None: unset in ml_metadata's request) links the
    stored artifact its event names: the event is written, the artifact linked to the
    contexts, its id returned. With no event either, the pair writes nothing and its id is -1.
    An event naming no artifact is InvalidArgumentError. The adapter refused every such pair
    with a TypeError."""
    pe = "put_execution"
    typed.call(
        pe,
        X(type_id=11),
        [(None, E(type=E.INPUT, artifact_id=2)), (A(type_id=10), E(type=E.OUTPUT))],
        [C(type_id=12, name="c2")],
    )
    typed.call(pe, X(type_id=11), [(None, None), (None,), (A(type_id=10), E(type=E.OUTPUT))], [])
    typed.fails(pe, X(type_id=11), [(None, E(type=E.INPUT))], [])
    typed.fails(pe, X(type_id=11), [(None, E(artifact_id=1))], [])  # no type
    # the same event twice, and an event of another execution
    typed.fails(pe, X(id=1, type_id=11), [(None, E(type=E.INPUT, artifact_id=1))] * 2, [])
    typed.fails(
        pe, X(id=1, type_id=11), [(None, E(type=E.INPUT, artifact_id=1, execution_id=2))], []
    )
    # deliberate: an event naming no stored artifact is refused (MLMD writes it, pointing at
    # nothing, and returns the id it names)
    with pytest.raises(errors.InvalidArgumentError):
        typed.ours.put_execution(X(type_id=11), [(None, E(type=E.INPUT, artifact_id=99))], [])
    # deliberate: a pair with neither links nothing to the contexts (MLMD links artifact id -1,
    # and its get_artifacts_by_context then fails with InternalError)
    assert typed.ours.put_execution(
        X(type_id=11), [(None, None)], [C(id=1, type_id=12, name="c1")]
    )[1] == [-1]
    assert [a.id for a in typed.ours.get_artifacts_by_context(1)] == []
    typed.ref.put_execution(
        X(type_id=11), [], [C(id=1, type_id=12, name="c1")]
    )  # the same execution id on both
    _state(typed)
    typed.call("get_artifacts_by_context", 2)
    typed.call("get_events_by_artifact_ids", [1, 2, 3, 4, 5])


def test_pairs_and_edges_are_read_as_the_client_builds_its_request(typed: Both) -> None:
    """ml_metadata's client puts put_execution's pairs and put_lineage_subgraph's edges into
    its request: a dict is taken as an artifact's or an event's fields, and an edge's index is
    a proto int32 (past 32 bits ValueError, before anything is sent). The adapter refused the
    dicts (TypeError) and answered the index with OutOfRangeError."""
    typed.call("put_execution", X(type_id=11), [({"type_id": 10}, {"type": E.INPUT})], [])
    typed.call("put_lineage_subgraph", [X(type_id=11)], [A(type_id=10)], [], [(0, 0, {"type": 4})])
    for store in (typed.ref, typed.ours):
        with pytest.raises(ValueError):
            store.put_lineage_subgraph(
                [X(type_id=11)], [A(type_id=10)], [], [(2**31, 0, E(type=3))]
            )
        # a pair's message of another class is the client's TypeError, before the server finds
        # the execution unset
        with pytest.raises(TypeError):
            store.put_execution(None, [(C(type_id=12, name="n"), None)], [])
    _state(typed)
    typed.call("get_events_by_artifact_ids", [4, 5])


def test_a_forced_context_the_call_itself_would_create_is_missing(typed: Both) -> None:
    """With ``force_reuse_context`` a context given with an id must be stored: MLMD looks it up
    and says NotFoundError. The adapter linked it when the same call's new context took that
    id (the next context id, 2 here): the write's reference check saw the new context, so the
    call succeeded, linked the new context twice and returned its id twice."""
    pe = "put_execution"
    for pairs in ([], [(A(type_id=10), E(type=E.OUTPUT))], [(None, None)]):
        assert typed.fails(
            pe,
            X(type_id=11),
            pairs,
            [C(id=2, type_id=12, name="c2"), C(type_id=12, name="c3")],
            force_reuse_context=True,
        ) is (errors.NotFoundError)
    # a context update of an id the call's new context would take: as MLMD, a missing node
    typed.fails(
        "put_lineage_subgraph",
        [],
        [],
        [C(id=2, type_id=12, name="u"), C(type_id=12, name="c3")],
        [],
    )
    _state(typed)
    typed.call("get_contexts")


@pytest.mark.parametrize("write", ["put_execution", "put_lineage_subgraph"])
@pytest.mark.parametrize(
    ("renames", "new"),
    [
        # renamed and back: it holds its old name again, the new context reuses it (this was
        # AlreadyExistsError, "two contexts named 'c1'": taken for new once renamed)
        (["moved", "c1"], "c1"),
        # renamed to the name a new context is given: that context (was AlreadyExistsError)
        (["moved"], "moved"),
        # renamed twice: the name it held between is free again, the new context is new
        (["moved", "again"], "moved"),
        (["moved", "again"], "again"),
    ],
)
def test_a_context_renamed_in_the_call_is_reused_by_the_name_it_holds(
    typed: Both, write: str, renames: list[str], new: str
) -> None:
    """With reuse_context_if_already_exist, MLMD writes the contexts one by one: a new context
    given after updates that rename a stored context (c1, id 1) is reused as the context that
    holds its name at that point, the renamed one by its last name, not by its stored one."""
    contexts = [C(id=1, type_id=12, name=n) for n in renames] + [C(type_id=12, name=new)]
    if write == "put_execution":
        typed.call(
            "put_execution", X(type_id=11), [], contexts, reuse_context_if_already_exist=True
        )
    else:
        typed.call(
            "put_lineage_subgraph",
            [X(type_id=11)],
            [],
            contexts,
            [],
            reuse_context_if_already_exist=True,
        )
    _state(typed)
    typed.call("get_contexts_by_execution", 3)


@pytest.mark.parametrize(
    "context",
    [C(id=1, name="c1"), C(type_id=99, name="z")],
    ids=["update without type id", "unknown type"],
)
def test_put_execution_reports_a_repeated_event_before_its_contexts(
    typed: Both, context: Any
) -> None:
    """MLMD inserts put_execution's events, pair by pair, before it reaches the contexts: an
    event given twice (by artifact id, or a new artifact reused by external id) or stored
    already is AlreadyExistsError before a context's missing type id (it was
    InvalidArgumentError) or unknown type (it was NotFoundError); nothing is written. A bad
    update before the events is still reported first."""
    typed.call("put_execution", X(id=1, type_id=11), [(A(id=1, type_id=10), E(type=E.INPUT))], [])
    inp, out = E(type=E.INPUT), E(type=E.OUTPUT)
    reuse = {"reuse_artifact_if_already_exist_by_external_id": True}
    calls: list[tuple[list[Any], dict[str, bool]]] = [
        ([(A(id=1, type_id=10), inp), (A(id=1, type_id=10), inp)], {}),
        ([(A(id=2, type_id=10), out), (A(id=1, type_id=10), out), (A(id=2, type_id=10), out)], {}),
        # reused by its stored external id, or new and then reused
        ([(A(type_id=10, external_id="x1"), inp), (A(type_id=10, external_id="x1"), inp)], reuse),
        ([(A(type_id=10, external_id="q"), inp), (A(type_id=10, external_id="q"), inp)], reuse),
        # an update of a missing artifact comes first (InvalidArgumentError)
        ([(A(id=99, type_id=10), inp), (A(id=99, type_id=10), inp)], {}),
    ]
    for pairs, flags in calls:
        typed.fails("put_execution", X(type_id=11), pairs, [context], **flags)
    # stored already: the execution given by id
    typed.fails("put_execution", X(id=1, type_id=11), [(A(id=1, type_id=10), inp)], [context])
    _state(typed)
    typed.call("get_events_by_execution_ids", [1])


@pytest.mark.parametrize(
    "contexts",
    [
        [C(type_id=12, name="z"), C(id=1, type_id=12, name="renamed")],
        [C(id=1), C(type_id=12, name="c1")],
        [C(id=1, name="z"), C(type_id=12, name="z")],
    ],
    ids=["new, linked", "linked, reused", "linked with a name, new"],
)
def test_force_reuse_context_links_beside_contexts_reused_by_name(
    typed: Both, contexts: list[Any]
) -> None:
    """With force_reuse_context and reuse_context_if_already_exist, a context given by id is
    linked as stored (its name and fields given are ignored, as in MLMD) beside new contexts,
    which are reused by the names stored."""
    typed.call(
        "put_execution",
        X(type_id=11),
        [],
        contexts,
        reuse_context_if_already_exist=True,
        force_reuse_context=True,
    )
    _state(typed)
    typed.call("get_contexts_by_execution", 3)


@pytest.mark.parametrize(
    "event",
    [
        E(type=E.OUTPUT, execution_id=0),
        E(type=E.OUTPUT, artifact_id=0),
        E(type=E.OUTPUT, execution_id=-1),
        E(type=E.OUTPUT, execution_id=5),
        E(type=E.OUTPUT, artifact_id=7),
        E(),
    ],
    ids=[
        "execution_id0",
        "artifact_id0",
        "execution_id-1",
        "execution_id5",
        "artifact_id7",
        "untyped",
    ],
)
def test_a_taken_key_comes_before_an_events_error(typed: Both, event: pb.Event) -> None:
    """MLMD writes put_execution's execution and then every artifact before it checks any
    event (its ids, then its type): a new node whose name (of its type) or external id is
    stored, or given to an earlier new node of the call, is AlreadyExistsError before an event
    that names another node or has no type, even the event of an earlier pair. The adapter
    refused the event first (InvalidArgumentError), before its write found the key taken."""
    pe = "put_execution"
    taken = A(type_id=10, external_id="x1", uri="t")  # artifact 1's external id
    for execution, pairs, contexts in (
        (X(type_id=11), [(taken, event)], []),
        (X(type_id=11, name="e1"), [(A(type_id=10), event)], []),  # execution 1's name
        (X(type_id=11, external_id="y"), [(A(type_id=10), event), (A(type_id=10, name="n2"),)], []),
        (X(id=1, type_id=11), [(A(type_id=10, name="d"), event), (A(type_id=10, name="d"),)], []),
        (
            X(type_id=11),
            [(A(type_id=10, external_id="z"),), (A(type_id=10, external_id="z"), event)],
            [],
        ),
        (X(type_id=11), [(taken, event)], [C(type_id=99, name="n")]),  # a context's type missing
    ):
        assert typed.fails(pe, execution, pairs, contexts) is errors.AlreadyExistsError
    # an update MLMD refuses before it meets the taken key (another type id, a missing node):
    # InvalidArgumentError, the class of the event's error
    for update in (A(id=1, type_id=11), A(id=9, type_id=10)):
        assert typed.fails(pe, X(type_id=11), [(update,), (taken, event)], []) is (
            errors.InvalidArgumentError
        )
    # reused by its external id, the stored artifact is updated: the event's error stands
    typed.fails(
        pe, X(type_id=11), [(taken, event)], [], reuse_artifact_if_already_exist_by_external_id=True
    )
    _state(typed)


def test_a_taken_key_comes_before_an_edges_event_type(typed: Both) -> None:
    """put_lineage_subgraph: MLMD writes every node (artifacts, executions, contexts) before it
    checks an edge's event type, so a new node whose name or external id is taken is
    AlreadyExistsError before an event without a type (or, deliberately refused here, one naming
    ids below 1). The adapter refused the event first (InvalidArgumentError)."""
    pl = "put_lineage_subgraph"
    untyped = [(0, 0, E())]
    for executions, artifacts, contexts, edges in (
        ([X(type_id=11)], [A(type_id=10, external_id="x1")], [], untyped),
        ([X(type_id=11, name="e1")], [A(type_id=10)], [], untyped),
        ([X(type_id=11)], [A(type_id=10)], [C(type_id=12, name="c1")], untyped),
        ([X(type_id=11)], [A(type_id=10, name="d"), A(type_id=10, name="d")], [], untyped),
        (
            [X(type_id=11)],
            [A(type_id=10, external_id="x1")],
            [],
            [(None, None, E(type=E.INPUT, artifact_id=-1, execution_id=-1))],
        ),
    ):
        assert typed.fails(pl, executions, artifacts, contexts, edges) is errors.AlreadyExistsError
    # reused, the stored nodes are no new ones: the event's type is refused
    typed.fails(
        pl,
        [X(type_id=11)],
        [A(type_id=10)],
        [C(type_id=12, name="c1")],
        untyped,
        reuse_context_if_already_exist=True,
    )
    typed.fails(
        pl,
        [X(type_id=11)],
        [A(type_id=10, external_id="x1")],
        [],
        untyped,
        reuse_artifact_if_already_exist_by_external_id=True,
    )
    _state(typed)


def test_an_event_naming_a_stored_node_for_a_new_one_comes_before_the_contexts(
    typed: Both,
) -> None:
    """put_execution: MLMD checks the events before it writes the contexts, so an event that
    names a stored execution (or artifact) for the new one it is written with is
    InvalidArgumentError before a context's name taken. The adapter left such an id to its
    write (a new node's id is not known before), which found the context's name first
    (AlreadyExistsError)."""
    pe = "put_execution"
    taken = [C(type_id=12, name="c1")]
    for pairs in (
        [(A(type_id=10), E(type=E.OUTPUT, execution_id=1))],
        [(A(type_id=10), E(type=E.OUTPUT, artifact_id=2))],
        [(None,), (A(type_id=10, uri="u"), E(type=E.INPUT, execution_id=2))],
    ):
        assert typed.fails(pe, X(type_id=11), pairs, taken) is errors.InvalidArgumentError
        assert typed.fails(pe, X(type_id=11), pairs, taken, force_reuse_context=True) is (
            errors.InvalidArgumentError
        )
    # an id no node holds yet: the new node's (MLMD allocates the next one), so written
    typed.call(pe, X(type_id=11), [(A(type_id=10), E(type=E.OUTPUT, execution_id=3))], [])
    typed.call(pe, X(type_id=11), [(A(type_id=10), E(type=E.OUTPUT, artifact_id=5))], [])
    _state(typed)
    typed.call("get_events_by_execution_ids", [4])


def test_a_nodes_own_error_comes_after_an_earlier_nodes_key_taken(typed: Both) -> None:
    """put_execution writes each artifact, then the execution, then the events, then the
    contexts, checking each node just before it writes it: a new node whose name or external
    id is taken is AlreadyExistsError before a later node's own error (a type id missing or
    unknown, a property its type does not declare), and after an earlier one's (a random
    reading mixing faults found the first two refused with the execution's error)."""
    i = {"i": pb.Value(int_value=1)}
    bad = {"z": pb.Value(int_value=1)}
    taken_name, taken_external_id = A(type_id=10, name="n1"), A(type_id=10, external_id="x1")
    assert typed.fails("put_execution", X(name="e9"), [(taken_name, None)], []) is (
        errors.AlreadyExistsError
    )
    typed.fails("put_execution", X(type_id=99), [(taken_external_id, None)], [])
    typed.fails("put_execution", X(type_id=11, properties=bad), [(taken_name, None)], [])
    typed.fails("put_execution", X(type_id=11), [(taken_name, None), (A(type_id=99), None)], [])
    typed.fails("put_execution", X(type_id=11), [(taken_name, None), (A(), None)], [])
    typed.fails(
        "put_execution",
        X(type_id=11),
        [(taken_name, None), (A(type_id=10, properties=bad), None)],
        [],
    )
    # the execution, an update of a missing one, after the artifacts
    typed.fails("put_execution", X(id=99, type_id=11), [(taken_name, None)], [])
    # a new node's type id missing past an update that passes, before a later unknown type
    updated = (A(id=2, type_id=10), None)
    assert typed.fails("put_execution", X(type_id=99), [updated, (A(), None)], []) is (
        errors.InvalidArgumentError
    )
    # the node's own error first: its properties, an earlier artifact's
    typed.fails("put_execution", X(type_id=11, name="e1", properties=bad), [], [])
    typed.fails("put_execution", X(type_id=11, name="e1"), [(A(id=50, type_id=10), None)], [])
    typed.fails(
        "put_execution", X(type_id=11), [(A(type_id=10, name="n1", properties=bad), None)], []
    )
    # a new context's type id missing: a taken key, then a repeated event come first
    twice = [(A(id=1, type_id=10, properties=i), E(type=E.INPUT))] * 2
    typed.fails("put_execution", X(type_id=11), twice, [C(name="c9")])
    typed.fails("put_execution", X(type_id=11), [(taken_name, None)], [C(name="c9")])
    _state(typed)


def test_an_artifact_reused_by_external_id_needs_no_type_id(typed: Both) -> None:
    """With reuse_artifact_if_already_exist_by_external_id, a new artifact whose external id is
    stored is an update of that artifact, which put_execution writes without a type id (it was
    refused "Type id is missing." before the flag was applied)."""
    typed.call(
        "put_execution",
        X(type_id=11),
        [(A(external_id="x1", uri="v"), E(type=E.INPUT))],
        [],
        reuse_artifact_if_already_exist_by_external_id=True,
    )
    _state(typed)


def test_a_subgraphs_key_taken_comes_in_its_node_order(typed: Both) -> None:
    """put_lineage_subgraph writes the contexts, then the artifacts, then the executions, then
    the events: a new node's name taken is AlreadyExistsError before a later node's update of a
    missing node, and before an event's type (the contexts were checked last there, and an
    update's error after the checks was reported first)."""
    bad_event = [(0, 0, E(type=E.UNKNOWN))]
    missing_x, missing_a = X(id=50, type_id=11), A(id=50, type_id=10)
    taken_a, taken_c = A(type_id=10, name="n1"), C(type_id=12, name="c1")
    for edges in ([], bad_event):
        assert typed.fails("put_lineage_subgraph", [missing_x], [taken_a], [], edges) is (
            errors.AlreadyExistsError
        )
        typed.fails("put_lineage_subgraph", [X(type_id=11)], [missing_a], [taken_c], edges)
        typed.fails("put_lineage_subgraph", [X(type_id=11, name="e1")], [missing_a], [], edges)
    _state(typed)


@pytest.mark.parametrize(
    ("context", "options"),
    [
        (C(name="c9"), {}),
        (C(name="c1"), {"force_reuse_context": True}),
        (C(id=1, name="c1"), {}),
        (C(type_id=99, name="c1"), {}),
    ],
)
def test_a_stored_event_of_a_pair_without_an_artifact_comes_before_a_contexts_error(
    typed: Both, context: Any, options: dict[str, bool]
) -> None:
    """A put_execution pair without an artifact writes its event to the stored artifact it
    names, before MLMD reaches the contexts: that event stored already is AlreadyExistsError
    before a context's type id missing or not found (it was the context's error)."""
    typed.call("put_execution", X(id=1, type_id=11), [(A(id=1, type_id=10), E(type=E.INPUT))], [])
    again = [(None, E(type=E.INPUT, artifact_id=1))]
    assert typed.fails("put_execution", X(id=1, type_id=11), again, [context], **options) is (
        errors.AlreadyExistsError
    )
    _state(typed)


def test_an_earlier_pairs_stored_event_comes_before_a_later_pairs_bad_ids(typed: Both) -> None:
    """put_execution writes the events pair by pair: an event stored already (or given twice)
    is AlreadyExistsError before a later pair's event naming another execution or artifact (it
    was that one's InvalidArgumentError)."""
    typed.call("put_execution", X(id=1, type_id=11), [(A(id=1, type_id=10), E(type=E.INPUT))], [])
    stored = (A(id=1, type_id=10), E(type=E.INPUT))
    for bad in (E(type=E.OUTPUT, artifact_id=2, execution_id=3), E(type=E.OUTPUT, artifact_id=3)):
        pairs = [stored, (A(id=2, type_id=10), bad)]
        assert typed.fails("put_execution", X(id=1, type_id=11), pairs, []) is (
            errors.AlreadyExistsError
        )
    twice = (A(id=2, type_id=10), E(type=E.INPUT))
    typed.fails("put_execution", X(id=1, type_id=11), [twice, twice, (None, E())], [])
    _state(typed)


class _Index(enum.IntEnum):
    FIRST = 0


def _edge_indexes() -> list[Any]:
    indexes: list[Any] = [0, False, _Index.FIRST]
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is installed with ml_metadata
        return indexes
    return [*indexes, np.int64(0), np.int32(0)]


@pytest.mark.parametrize("index", _edge_indexes(), ids=repr)
def test_an_edge_index_is_what_the_request_field_takes(typed: Both, index: Any) -> None:
    """ml_metadata's client puts each edge's indexes on its request's int32 fields: anything
    with ``__index__`` (a bool, an IntEnum, a numpy integer) is that int."""
    typed.call(
        "put_lineage_subgraph",
        [X(type_id=11)],
        [A(type_id=10)],
        [],
        [(index, index, E(type=E.INPUT))],
    )
    _state(typed)


@pytest.mark.parametrize("index", [0.0, "0"], ids=["float", "str"])
def test_an_edge_index_that_the_request_refuses_is_typeerror(typed: Both, index: Any) -> None:
    for store in (typed.ref, typed.ours):
        with pytest.raises(TypeError):
            store.put_lineage_subgraph(
                [X(type_id=11)], [A(type_id=10)], [], [(index, 0, E(type=E.INPUT))]
            )
    _state(typed)
