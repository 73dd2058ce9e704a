"""``ListOptions`` on the list calls: limit, order, direction and paging, as ml_metadata's client
does them (pages of 100 following next_page_token), compared with real ml_metadata."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from ml_metadata import errors
from ml_metadata.metadata_store.metadata_store import ListOptions, OrderByField
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph.mlmd import MetadataStore

from .conftest import Both

pytest.importorskip("lineage_graph.mlmd._listing")


@pytest.fixture
def filled(both: Both) -> tuple[Both, int, int, int]:
    at = both.call("put_artifact_type", pb.ArtifactType(name="D", properties={"i": pb.INT}))
    et = both.call("put_execution_type", pb.ExecutionType(name="E"))
    ct = both.call("put_context_type", pb.ContextType(name="C"))
    [ctx] = both.call("put_contexts", [pb.Context(type_id=ct, name="c")])
    for batch in range(5):  # several writes: create times differ between some batches
        arts = []
        for i in range(50):
            a = pb.Artifact(type_id=at, uri=f"u/{batch}/{i}")
            a.properties["i"].int_value = i
            arts.append(a)
        ids = both.call("put_artifacts", arts)
        both.call(
            "put_attributions_and_associations",
            [pb.Attribution(artifact_id=x, context_id=ctx) for x in ids[::7]],
            [],
        )
    eids = both.call("put_executions", [pb.Execution(type_id=et) for _ in range(30)])
    both.call(
        "put_attributions_and_associations",
        [],
        [pb.Association(execution_id=x, context_id=ctx) for x in eids[::2]],
    )
    # Updates move last_update_time of a few nodes.
    both.call("put_artifacts", [pb.Artifact(id=i, type_id=at, uri="updated") for i in (3, 140)])
    return both, at, et, ctx


OPTIONS = [
    ListOptions(),
    ListOptions(limit=150),
    ListOptions(limit=7, is_asc=False),
    ListOptions(limit=100),
    ListOptions(limit=101, order_by=OrderByField.ID, is_asc=False),
    ListOptions(order_by=OrderByField.CREATE_TIME, is_asc=False),
    ListOptions(order_by=OrderByField.CREATE_TIME, limit=120),
    ListOptions(order_by=OrderByField.UPDATE_TIME, is_asc=False, limit=5),
    ListOptions(filter_query="properties.i.int_value < 10"),
    ListOptions(filter_query="uri LIKE 'u/%' AND properties.i.int_value >= 3", limit=130),
]


@pytest.mark.parametrize("options", OPTIONS, ids=repr)
def test_get_artifacts_with_options(
    filled: tuple[Both, int, int, int], options: ListOptions
) -> None:
    both = filled[0]
    both.call("get_artifacts", list_options=options)


@pytest.mark.parametrize("options", OPTIONS[:6], ids=repr)
def test_by_context_with_options(filled: tuple[Both, int, int, int], options: ListOptions) -> None:
    both, ctx = filled[0], filled[3]
    both.call("get_artifacts_by_context", ctx, list_options=options)
    both.call("get_executions_by_context", ctx, list_options=options)


def test_executions_and_contexts_with_options(filled: tuple[Both, int, int, int]) -> None:
    both = filled[0]
    both.call("get_executions", list_options=ListOptions(limit=4, is_asc=False))
    both.call("get_executions", list_options=ListOptions(order_by=OrderByField.CREATE_TIME))
    both.call("get_contexts", list_options=ListOptions(filter_query="name = 'c'"))
    both.call("get_executions_by_context", filled[3])  # default: newest first


@pytest.mark.parametrize("limit", [2**32 - 1, 2**32, 2**32 + 3, 2**63 - 1])
def test_a_limit_past_32_bits_lists_everything(
    filled: tuple[Both, int, int, int], limit: int
) -> None:
    """A huge limit (``sys.maxsize`` for "all") is no cut: the engine's LIMIT is 32-bit."""
    both, _, _, ctx = filled
    for order_by in (None, OrderByField.UPDATE_TIME):
        options = ListOptions(limit=limit, order_by=order_by, is_asc=False)
        both.call("get_artifacts", list_options=options)
        both.call("get_artifacts_by_context", ctx, list_options=options)


def test_order_by_zero_is_the_default_order(filled: tuple[Both, int, int, int]) -> None:
    both, _, _, ctx = filled
    for is_asc in (True, False):
        options = ListOptions(order_by=0, is_asc=is_asc, limit=7)  # type: ignore[arg-type]
        both.call("get_artifacts", list_options=options)
        both.call("get_executions_by_context", ctx, list_options=options)


class _Order(enum.Enum):
    """An order of the caller's own: the client reads ``order_by.value`` of a truthy one."""

    UNSPECIFIED = 0
    CREATE = 1


def test_an_order_by_whose_value_is_unspecified_is_invalid_argument(
    filled: tuple[Both, int, int, int],
) -> None:
    """A truthy ``order_by`` whose value is 0 (FIELD_UNSPECIFIED) puts that field in the
    request: MLMD refuses it (InvalidArgumentError); it was a bare KeyError here. A bad filter
    is reported first, and a context without members still lists nothing."""
    both, _, _, ctx = filled
    unspecified: Any = _Order.UNSPECIFIED
    options = ListOptions(order_by=unspecified)
    for method, args in [
        ("get_artifacts", ()),
        ("get_executions", ()),
        ("get_contexts", ()),
        ("get_artifacts_by_context", (ctx,)),
        ("get_executions_by_context", (ctx,)),
    ]:
        both.fails(method, *args, list_options=options)
        both.fails(method, *args, list_options=ListOptions(order_by=unspecified, limit=2))
    with pytest.raises(errors.InvalidArgumentError, match="Unrecognized name"):
        both.ours.get_artifacts(
            list_options=ListOptions(order_by=unspecified, filter_query="bogus = 1")
        )
    both.call("get_artifacts_by_context", 999, list_options=options)
    create: Any = _Order.CREATE  # a value the client knows: listed by create time
    both.call("get_artifacts", list_options=ListOptions(order_by=create, limit=3, is_asc=False))


def test_a_limit_that_is_not_an_int_is_a_type_error(filled: tuple[Both, int, int, int]) -> None:
    both = filled[0]
    for store in (both.ref, both.ours):
        with pytest.raises(TypeError):
            store.get_artifacts(list_options=ListOptions(limit=2.5))  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [-2.5, 0.5, -(2**70), 0.0, "", b"", "2", [3]], ids=repr)
def test_a_limit_is_checked_as_the_client_checks_it(
    filled: tuple[Both, int, int, int], limit: object
) -> None:
    """ml_metadata's client first tests ``if limit and limit < 1``: a negative or fractional
    limit below 1 of any type is ``InvalidArgumentError`` (it was TypeError here for a float),
    a falsy one (``0.0``, ``""``) lists everything, one that does not compare with 1 is the
    comparison's ``TypeError``."""
    both, _, _, ctx = filled
    options = ListOptions(limit=limit)  # type: ignore[arg-type]
    for method, args in (("get_artifacts", ()), ("get_executions_by_context", (ctx,))):
        try:
            getattr(both.ref, method)(*args, list_options=options)
        except TypeError:
            with pytest.raises(TypeError):
                getattr(both.ours, method)(*args, list_options=options)
        except Exception:
            both.fails(method, *args, list_options=options)
        else:
            both.call(method, *args, list_options=options)


@pytest.mark.parametrize(
    "limit", [100.0, 150.0, 200.0, 250.0, 300.0, float("inf"), float("nan"), 1e300], ids=repr
)
def test_a_float_limit_from_a_page_up_is_paged_as_the_client_pages_it(
    filled: tuple[Both, int, int, int], limit: float
) -> None:
    """The client puts a float limit on its request only once fewer than 100 rows are left to
    fetch (TypeError then): ``inf`` or ``nan`` lists everything, ``200.0`` up to 200 rows,
    ``150.0`` 100 rows when there are no more and TypeError when there are. Every float was
    TypeError here, whatever the rows."""
    both, _, _, ctx = filled
    for method, args in (
        ("get_artifacts", ()),  # 250 rows
        ("get_executions", ()),  # 30
        ("get_artifacts_by_context", (ctx,)),  # 36
    ):
        for is_asc in (True, False):
            options = ListOptions(limit=limit, order_by=OrderByField.ID, is_asc=is_asc)  # type: ignore[arg-type]
            try:
                getattr(both.ref, method)(*args, list_options=options)
            except TypeError:
                with pytest.raises(TypeError):
                    getattr(both.ours, method)(*args, list_options=options)
            else:
                both.call(method, *args, list_options=options)


@pytest.mark.parametrize("kind", ["int64", "int32", "uint8", "int8"])
def test_a_numpy_integer_limit_is_an_integer(filled: tuple[Both, int, int, int], kind: str) -> None:
    """A numpy integer is an integer to the client (a proto int field takes ``__index__``):
    it was TypeError here, and a negative one TypeError instead of InvalidArgumentError."""
    numpy = pytest.importorskip("numpy")
    both, _, _, ctx = filled
    for value in (0, 3, 100, 101):
        limit = getattr(numpy, kind)(min(value, 100 if kind == "int8" else value))
        for order_by in (None, OrderByField.CREATE_TIME):
            options = ListOptions(limit=limit, order_by=order_by, is_asc=False)
            both.call("get_artifacts", list_options=options)
            both.call("get_executions_by_context", ctx, list_options=options)
    if kind != "uint8":
        both.fails("get_artifacts", list_options=ListOptions(limit=getattr(numpy, kind)(-1)))


def test_a_bad_filter_is_invalid_argument(filled: tuple[Both, int, int, int]) -> None:
    filled[0].fails("get_artifacts", list_options=ListOptions(filter_query="uri ==== 3"))


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (ListOptions(is_asc=None), TypeError),  # type: ignore[arg-type]
        (ListOptions(order_by=OrderByField.ID, is_asc=None), TypeError),  # type: ignore[arg-type]
        (ListOptions(is_asc=1.0), TypeError),  # type: ignore[arg-type]
        (ListOptions(is_asc="no"), TypeError),  # type: ignore[arg-type]
        (ListOptions(order_by=3), AttributeError),  # type: ignore[arg-type]
        (ListOptions(order_by="ID"), AttributeError),  # type: ignore[arg-type]
        (ListOptions(filter_query=3), TypeError),  # type: ignore[arg-type]
        # the limit is put on the first request after the other options: their error first
        (ListOptions(limit=2.0, order_by=3), AttributeError),  # type: ignore[arg-type]
        (ListOptions(limit=2.0, order_by="ID"), AttributeError),  # type: ignore[arg-type]
    ],
    ids=repr,
)
def test_options_of_the_wrong_type_fail_as_in_the_client(
    filled: tuple[Both, int, int, int], options: ListOptions, error: type[Exception]
) -> None:
    """ml_metadata's client sets ``is_asc`` and ``filter_query`` on proto fields and reads
    ``order_by.value``: ``is_asc=None`` is a TypeError there, not a descending listing. A float
    limit below 100 is TypeError only after those (it was TypeError before a bare order_by's
    AttributeError here)."""
    both, _, _, ctx = filled
    for store in (both.ref, both.ours):
        with pytest.raises(error):
            store.get_artifacts(list_options=options)
        with pytest.raises(error):
            store.get_executions_by_context(ctx, list_options=options)


def test_a_filter_in_bytes_is_taken_as_utf8(filled: tuple[Both, int, int, int]) -> None:
    both, _, _, ctx = filled
    options = ListOptions(filter_query=b"id < 12", is_asc=0)  # type: ignore[arg-type]
    both.call("get_artifacts", list_options=options)
    both.call("get_artifacts_by_context", ctx, list_options=options)


@pytest.mark.parametrize(
    "filter_query", ["bogus = 1", "id = 'x'", "((", "contexts_a.bogus = 1", "id = 1"]
)
def test_a_context_without_members_lists_nothing_whatever_the_filter(
    filled: tuple[Both, int, int, int], filter_query: str
) -> None:
    """MLMD lists a context's members before it reads the filter: a context without artifacts
    (executions), or an id no context has, answers [] even to a filter it would refuse."""
    both, _, _, ctx = filled
    ct = both.call("put_context_type", pb.ContextType(name="C"))
    [empty, only_executions] = both.call(
        "put_contexts", [pb.Context(type_id=ct, name="e"), pb.Context(type_id=ct, name="x")]
    )
    both.call(
        "put_attributions_and_associations",
        [],
        [pb.Association(execution_id=1, context_id=only_executions)],
    )
    for options in (
        ListOptions(filter_query=filter_query),
        ListOptions(filter_query=filter_query, limit=2, order_by=OrderByField.UPDATE_TIME),
    ):
        for context in (empty, only_executions, 999):
            both.call("get_artifacts_by_context", context, list_options=options)
        for context in (empty, 999):
            both.call("get_executions_by_context", context, list_options=options)
    if filter_query != "id = 1":  # where the context has members, the filter is checked
        both.fails(
            "get_artifacts_by_context", ctx, list_options=ListOptions(filter_query=filter_query)
        )
        both.fails(
            "get_executions_by_context",
            only_executions,
            list_options=ListOptions(filter_query=filter_query),
        )


@pytest.mark.parametrize("order_by", [OrderByField.CREATE_TIME, OrderByField.UPDATE_TIME])
@pytest.mark.parametrize("is_asc", [True, False])
def test_a_bad_filter_is_invalid_where_no_node_is_listed(
    both: Both, order_by: OrderByField, is_asc: bool
) -> None:
    """A limited listing by a time, of a kind with no node, returned [] without reading its
    filter (the windowed read found nowhere to start); MLMD refuses the filter (found by a
    random differential run)."""
    for filter_query in ("bogus = 1", "uri = 1", "(("):
        options = ListOptions(limit=2, order_by=order_by, is_asc=is_asc, filter_query=filter_query)
        for method in ("get_artifacts", "get_executions", "get_contexts"):
            both.fails(method, list_options=options)
    both.call("put_artifact_type", pb.ArtifactType(name="A"))
    both.call("get_artifacts", list_options=ListOptions(limit=2, order_by=order_by, is_asc=is_asc))


@pytest.mark.parametrize("is_asc", [True, False])
def test_a_tie_longer_than_a_page_is_listed_once_each(ours: MetadataStore, is_asc: bool) -> None:
    """250 artifacts written in one call share one update time. ml_metadata 1.17.1 pages such a
    tie in circles once it is longer than a page (its token's ``listed_ids`` holds only the
    previous page; docs/mlmd-compatibility.md); here every listing holds each artifact once, by
    id within the tie, and a limit cuts that order."""
    at = ours.put_artifact_type(pb.ArtifactType(name="T"))
    ids = ours.put_artifacts([pb.Artifact(type_id=at, uri=f"t/{i}") for i in range(250)])
    assert len({a.last_update_time_since_epoch for a in ours.get_artifacts()}) == 1
    want = sorted(ids, reverse=not is_asc)
    for limit in (None, 101, 220, 300):
        got = ours.get_artifacts(
            list_options=ListOptions(limit=limit, order_by=OrderByField.UPDATE_TIME, is_asc=is_asc)
        )
        assert [a.id for a in got] == want[:limit]


def test_a_listing_is_read_and_converted_with_the_collector_paused(ours: MetadataStore) -> None:
    """A filter or a plain listing may return every node of a kind: like lineage answers, it is
    read and turned into protos with the cyclic collector paused (lineage_graph/_gc.py), which
    is on again afterwards. 3,000 artifacts: 84 collections without the pause."""
    import gc

    at = ours.put_artifact_type(pb.ArtifactType(name="D"))
    ours.put_artifacts([pb.Artifact(type_id=at, uri=f"/u/{i}") for i in range(3000)])
    started: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        found = ours.get_artifacts(list_options=ListOptions(filter_query="uri LIKE '/u/%'"))
    finally:
        gc.callbacks.remove(count)
    assert len(found) == 3000 and gc.isenabled()
    assert len(started) <= 3, f"{len(started)} collections during one listing"
