"""A run's contexts declared again (a script run a second time): a context given as a
``Context`` is get-or-create with the same strict comparison as a named artifact (same content:
the stored context; other content: AlreadyExistsError naming what differs, nothing written),
compared on what it gives; a context given by name is linked as stored, whatever it holds."""

from __future__ import annotations

from typing import Any

import pytest

from lineage_graph import (
    AlreadyExistsError,
    Artifact,
    Context,
    ContextType,
    ExecutionState,
    InvalidArgumentError,
    LineageStore,
    NodeKind,
    PropertyType,
)


def _exp(**changed: Any) -> Context:
    declared: dict[str, Any] = {
        "type": "Experiment",
        "name": "exp-1",
        "properties": {"lr": 0.1},
        "custom_properties": {"owner": "me"},
    }
    return Context(**{**declared, **changed})


def _train(store: LineageStore, data: Artifact, context: Any, **kw: Any) -> Any:
    with store.run("Trainer", inputs=[data], context=context, properties={"C": 1.0}, **kw) as run:
        if run.cached:
            run.use_cached()
        else:
            run.output("Model", uri="s3://models/1")
    return run


def _snapshot(store: LineageStore) -> tuple[Any, ...]:
    """Every node and every type (with what it declares): what a refused run must not change."""
    return (
        [store.count(kind) for kind in NodeKind],
        [(k, t.name, dict(t.properties)) for k in NodeKind for t in store.get_types(k)],
        store.get_contexts(),
    )


@pytest.fixture
def data(store: LineageStore) -> Artifact:
    with store.run("Load") as run:
        out = run.output("DataSet", uri="/d")
    return out


def test_a_context_declared_again_as_stored_is_that_context_and_the_run_hits_the_cache(
    store: LineageStore, data: Artifact
) -> None:
    first = _train(store, data, _exp())
    second = _train(store, data, _exp(properties={"lr": 0.1}))  # (the same content, anew)
    assert first.state == ExecutionState.COMPLETE and second.state == ExecutionState.CACHED
    assert second.cached is not None and second.cached.execution.id == first.id
    [ctx] = store.get_contexts()
    assert [c.id for c in first.contexts] == [c.id for c in second.contexts] == [ctx.id]
    assert ctx.properties == {"lr": 0.1} and ctx.custom_properties == {"owner": "me"}


@pytest.mark.parametrize(
    ("changed", "differences"),
    [
        ({"properties": {"lr": 0.2}}, {"properties.lr": (0.1, 0.2)}),
        ({"properties": {"lr": 0.1, "bs": 32}}, {"properties.bs": (None, 32)}),
        ({"custom_properties": {"owner": "you"}}, {"custom_properties.owner": ("me", "you")}),
        ({"external_id": "e-1"}, {"external_id": (None, "e-1")}),
    ],
)
def test_a_context_stored_with_other_content_is_refused_and_nothing_is_written(
    store: LineageStore, data: Artifact, changed: dict[str, Any], differences: dict[str, Any]
) -> None:
    """``Context(name="exp-1", properties={"lr": 0.2})`` where exp-1 is stored with ``lr=0.1``
    was linked as stored, silently: the user believed the run recorded with ``lr=0.2``. It is
    AlreadyExistsError naming each difference now, before anything is written: no execution, no
    type registered (the run's new execution and context types) or extended (``bs``)."""
    _train(store, data, [_exp(), "other"])
    before = _snapshot(store)
    run = store.run(
        "Evaluator",
        inputs=[data],
        context=["other", Context(type="Sweep", name="s-1"), _exp(**changed)],
        properties={"k": 5},
    )
    with pytest.raises(AlreadyExistsError, match=r"context 'Experiment' named 'exp-1'") as exc:
        run.start()
    assert exc.value.differences == differences
    assert "the run did not start, nothing was written" in str(exc.value)
    assert _snapshot(store) == before


def test_a_context_given_by_name_is_linked_as_stored(store: LineageStore, data: Artifact) -> None:
    """A name alone says nothing of the context's content: it is the stored one, as before."""
    first = _train(store, data, _exp())
    again = _train(store, data, "exp-1")
    assert again.state == ExecutionState.CACHED and again.cached is not None
    assert [c.id for c in again.contexts] == [c.id for c in first.contexts]
    assert again.contexts[0].properties == {"lr": 0.1}
    assert len(store.get_contexts()) == 1


def test_a_refused_contexts_advice_names_the_stored_one(store: LineageStore) -> None:
    """The refusal's advice, a name alone, named a context of the run's ``context_type``: "p"
    given to a run refused a ``Context(type="Pipeline", name="p")`` linked a new Experiment
    "p". It says which ``context_type`` the name needs, and following it links the stored one
    (a versioned type's context: no name alone names it)."""
    store.put_context_type(
        ContextType(name="Pipeline", version="v2", properties={"lr": PropertyType.DOUBLE})
    )
    for version in (None, "v2"):
        with store.run("T", context=_exp(type="Pipeline", type_version=version)) as first:
            pass
        with pytest.raises(AlreadyExistsError) as exc:
            store.run(
                "T", context=_exp(type="Pipeline", type_version=version, properties={"lr": 0.2})
            ).start()
        if version is None:
            assert "(or its name alone, with context_type='Pipeline')" in str(exc.value)
            with store.run("T", context="exp-1", context_type="Pipeline") as again:
                pass
            assert [c.id for c in again.contexts] == [c.id for c in first.contexts]
        else:
            assert "pass the stored context to use it as stored" in str(exc.value)
    with store.run("T", context=_exp()):
        pass
    with pytest.raises(AlreadyExistsError) as exc:
        store.run("T", context=_exp(properties={"lr": 0.3})).start()
    assert "(or its name alone) to use it as stored" in str(exc.value)


def test_a_context_holding_another_contexts_external_id_is_refused(store: LineageStore) -> None:
    """The external id of a context (unique, as in MLMD) held by another: the write refused it,
    after the run had extended the context type with the new properties it declares."""
    with store.run("Trainer", context=Context(type="Experiment", name="a", external_id="X")):
        pass
    before = _snapshot(store)
    given = Context(type="Experiment", name="b", external_id="X", properties={"new": 1})
    with pytest.raises(AlreadyExistsError, match=r"external.id 'X'") as exc:
        store.run("Trainer", context=given).start()
    assert exc.value.differences == {"name": ("a", "b"), "properties.new": (None, 1)}
    assert _snapshot(store) == before


@pytest.mark.parametrize(
    "contexts",
    [
        ["exp-1", _exp(properties={"lr": 0.5})],
        ["new", Context(type="Experiment", name="new")],
        [
            Context(type="Experiment", name="a", external_id="X"),
            Context(type="Exp", name="b", external_id="X"),
        ],
    ],
    ids=["stored", "new", "external-id"],
)
def test_a_context_given_twice_is_refused_before_anything_is_written(
    store: LineageStore, data: Artifact, contexts: list[Any]
) -> None:
    """A context given twice in one run: when stored it was linked once, silently, whichever
    content was meant; when new the entry write refused it after registering the run's types."""
    _train(store, data, _exp())
    before = _snapshot(store)
    with pytest.raises(InvalidArgumentError, match="given twice"):
        store.run("Evaluator", context=contexts, properties={"k": 5}).start()
    with pytest.raises(InvalidArgumentError, match="given twice"):
        store.step("Evaluator", context=contexts)
    assert _snapshot(store) == before


def test_a_context_given_twice_by_id_or_type_id_and_by_name_is_refused(
    store: LineageStore, data: Artifact
) -> None:
    """Declarations of one context the run's arguments cannot tell apart (its id, or its type's
    id, and its name): a stored one was linked once, silently; a new one refused by the entry
    write after the run's execution type was registered."""
    first = _train(store, data, _exp())
    before = _snapshot(store)
    [ctx] = first.contexts
    type_id = ctx.type_id
    for contexts in (
        [ctx, "exp-1"],
        [Context(type_id=type_id, name="exp-1", properties={"lr": 0.1}), "exp-1"],
        [Context(type_id=type_id, name="new"), "new"],
    ):
        with pytest.raises(InvalidArgumentError, match="is given twice"):
            store.run("Evaluator", context=contexts, properties={"k": 5}).start()
        assert _snapshot(store) == before, contexts


def test_a_context_of_no_type_is_refused_before_any_type_is_registered(
    store: LineageStore,
) -> None:
    """``Context(name="g")``: the entry write refused it (no type), after registering the run's
    execution type."""
    with pytest.raises(InvalidArgumentError, match="type"):
        store.run("Trainer", context=Context(name="g")).start()
    assert _snapshot(store) == ([0, 0, 0], [], [])


def test_a_nested_run_given_its_parents_context_again(store: LineageStore, data: Artifact) -> None:
    """A child run giving the parent's context again (as a Context or by name) is linked to it
    once; with other content it is refused, as a top-level run is."""
    with store.run("Pipeline", context=_exp()) as outer:
        with store.run("Step", context=[_exp(), "other"]) as same:
            pass
        with store.run("Step", context="exp-1") as named:
            pass
        before = _snapshot(store)
        with pytest.raises(AlreadyExistsError, match=r"lr: 0\.1 stored, 0\.3 given"):
            store.run("Step", context=_exp(properties={"lr": 0.3})).start()
        assert _snapshot(store) == before
    [exp] = outer.contexts
    assert sorted(c.name for c in same.contexts) == ["exp-1", "other"]
    assert [c.id for c in named.contexts] == [exp.id]


def test_a_step_given_a_context_stored_with_other_content_does_not_run(
    store: LineageStore, data: Artifact
) -> None:
    _train(store, data, _exp())
    calls: list[Artifact] = []

    @store.step("Evaluator", context=_exp(properties={"lr": 0.2}), cache=True)
    def evaluate(d: Artifact, k: int = 5) -> None:
        calls.append(d)

    @store.step("Evaluator", context=_exp(), cache=True)
    def evaluate_same(d: Artifact, k: int = 5) -> None:
        calls.append(d)

    before = _snapshot(store)
    with pytest.raises(AlreadyExistsError, match=r"lr: 0\.1 stored, 0\.2 given") as exc:
        evaluate(data)
    assert exc.value.differences == {"properties.lr": (0.1, 0.2)}
    assert calls == [] and _snapshot(store) == before
    evaluate_same(data)
    evaluate_same(data)  # (cached: the same context, the same call)
    assert len(calls) == 1 and len(store.get_contexts()) == 1


def test_a_context_another_writer_stores_under_the_entry_write_is_compared(
    store: LineageStore, data: Artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two jobs of a sweep start with one new context: both find it absent, one creates it. The
    other's entry write linked the stored one whatever it held; it is looked up again and
    compared now: the same content is linked, other content refused."""
    store.put_context_type(ContextType(name="Experiment", properties={"lr": PropertyType.DOUBLE}))
    real = store.get_context_by_type_and_name
    theirs: list[Context] = []

    def lookup(type_name: str, name: str, type_version: str | None = None) -> Context | None:
        found = real(type_name, name, type_version)
        if theirs and real(type_name, theirs[0].name) is None:
            store.put_contexts(theirs)  # another writer, right after the lookup
        return found

    monkeypatch.setattr(store, "get_context_by_type_and_name", lookup)
    theirs.append(_exp(name="same"))
    run = _train(store, data, _exp(name="same"))
    assert run.state == ExecutionState.COMPLETE
    assert [c.name for c in run.contexts] == ["same"] and len(store.get_contexts()) == 1
    theirs[:] = [_exp(name="other", properties={"lr": 0.9})]
    executions = store.count(NodeKind.EXECUTION)
    with pytest.raises(AlreadyExistsError, match=r"lr: 0\.9 stored, 0\.1 given") as exc:
        _train(store, data, _exp(name="other"))
    assert exc.value.differences == {"properties.lr": (0.9, 0.1)}
    assert store.count(NodeKind.EXECUTION) == executions


def test_a_context_declared_by_type_and_name_alone_is_the_stored_one(
    store: LineageStore, data: Artifact
) -> None:
    """A step linking itself to the pipeline's context by ``Context(type=..., name=...)`` need
    not repeat what the context was created with: what it leaves out is not compared (what it
    gives is)."""
    first = _train(store, data, _exp(external_id="e-1"))
    second = _train(store, data, Context(type="Experiment", name="exp-1"))
    third = _train(store, data, Context(type="Experiment", name="exp-1", properties={"lr": 0.1}))
    [ctx] = store.get_contexts()
    assert [c.id for c in second.contexts] == [c.id for c in third.contexts] == [ctx.id]
    assert first.state == ExecutionState.COMPLETE
    assert second.state == third.state == ExecutionState.CACHED
    assert ctx.properties == {"lr": 0.1} and ctx.external_id == "e-1"
