"""The cache, end to end, against a pure-Python oracle of the documented rules (docs/api.md).

A hypothesis state machine drives ``@store.step(cache=True)`` calls, ``store.run(...)`` blocks,
failures inside steps, state changes, impact marks, retention tombstones, many same-content
copies of an input (past the signature limit) and many executions on one input signature (past
a lookup page), on the real embedded engine. The oracle keeps its own record of everything it
was asked to write and answers from the rules alone, never from the store:

* a step call is looked up only if every argument it got is recorded; it reuses the newest
  ``COMPLETE`` / ``CACHED``, not tombstoned execution of its type that read the same inputs in
  the same parameters (or artifacts of the same content ``digest``), holds the same recorded
  arguments and decorator properties (a declared property it does not give must be unset), was
  itself looked up, has no deleted / abandoned / marked-for-deletion output, and whose return
  can be rebuilt (a step's, returning artifacts only); otherwise the function runs;
* ``store.find_cached_execution`` is the same search with the properties asked for only.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from lineage_graph import (
    Artifact,
    ArtifactState,
    Execution,
    ExecutionState,
    LineageStore,
    NodeKind,
)
from lineage_graph._repositories import cache as cache_module
from lineage_graph.backends import open_backend
from lineage_graph.backends.embedded import EmbeddedBackend
from lineage_graph.lineage import ImpactMark
from lineage_graph.pipeline import current_run

SUCCESS = (ExecutionState.COMPLETE, ExecutionState.CACHED)
UNUSABLE = (
    ArtifactState.MARKED_FOR_DELETION,
    ArtifactState.DELETED,
    ArtifactState.ABANDONED,
)
_graphs = itertools.count()


#: A wanted property: name, value (None: unset), where it may be held ("p", "c" or "pc").
Wanted = tuple[str, Any, str]


class Boom(Exception):
    """Raised inside a step body when the machine says so."""


@dataclass
class Art:
    id: int
    type: str
    declared_digest: str | None = None
    state: ArtifactState = ArtifactState.LIVE
    custom_digest: str | None = None
    tombstone: bool = False

    @property
    def digest(self) -> str | None:
        """The content fingerprint: the declared string ``digest``, else the custom one; an
        empty or blank one is none."""
        value = self.declared_digest if self.declared_digest is not None else self.custom_digest
        return value if value is not None and value.strip() else None


@dataclass
class Exe:
    id: int
    type: str
    state: ExecutionState
    inputs: list[tuple[int, tuple[Any, ...]]]
    props: dict[str, Any]  # declared
    custom: dict[str, Any] = field(default_factory=dict)
    outputs: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    tombstone: bool = False


#: The step parameters annotated ``float``.
_FLOAT_PARAMETERS = {("Fit", "lr")}


def _same(a: Any, b: Any) -> bool:
    """Property equality: bools apart from numbers, an int equals the equal double, structs as
    their JSON (what the store keeps)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        # exactly (2**53 + 1 is not 2**53), NaN as NaN, -0.0 only as -0.0 (stored as its text)
        if a != a or b != b:
            return a != a and b != b
        sign = [isinstance(x, float) and x == 0 and math.copysign(1.0, x) < 0 for x in (a, b)]
        return bool(a == b) and sign[0] == sign[1]
    if isinstance(a, dict) or isinstance(b, dict):
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    return bool(a == b) and type(a) is type(b)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "str"
    return "struct"


class Oracle:
    def __init__(self) -> None:
        self.arts: dict[int, Art] = {}
        self.exes: dict[int, Exe] = {}
        self.declared: dict[str, dict[str, str]] = {}  # type -> name -> kind

    def key(self, aid: int, by_fingerprint: bool = True) -> tuple[str, Any]:
        a = self.arts[aid]
        if by_fingerprint and a.digest is not None and a.state is not None:
            return ("digest", a.digest)
        return ("id", aid)

    def matches(
        self,
        e: Exe,
        inputs: list[tuple[int, tuple[Any, ...]]] | None,
        given: list[int],
        properties: list[Wanted],
        by_fingerprint: bool = True,
    ) -> bool:
        if e.tombstone or e.state not in SUCCESS:
            return False
        if inputs is None:  # a set
            want = sorted(repr(self.key(i, by_fingerprint)) for i in set(given))
            got = sorted(repr(self.key(i, by_fingerprint)) for i, _ in e.inputs)
        else:
            want = sorted(repr((self.key(i, by_fingerprint), p)) for i, p in inputs)
            got = sorted(repr((self.key(i, by_fingerprint), p)) for i, p in e.inputs)
        if want != got:
            return False
        for name, value, scopes in properties:
            held = [d for s, d in (("p", e.props), ("c", e.custom)) if s in scopes]
            found = [d[name] for d in held if name in d]
            if value is None and found:
                return False
            if value is not None and not any(_same(v, value) for v in found):
                return False
        return not any(self.arts[o].state in UNUSABLE for o, _ in e.outputs)

    def find(
        self,
        type_name: str,
        inputs: list[tuple[int, tuple[Any, ...]]] | None,
        given: list[int],
        properties: list[Wanted],
        by_fingerprint: bool = True,
    ) -> Exe | None:
        found = [
            e
            for e in self.exes.values()
            if e.type == type_name and self.matches(e, inputs, given, properties, by_fingerprint)
        ]
        return max(found, key=lambda e: e.id, default=None)

    def step_wanted(self, type_name: str, props: dict[str, Any]) -> list[Wanted]:
        """A step's (or a run's) key: its declared properties (those it does not give unset),
        never a custom property of the same name (a metric), and no ``cache_skipped``."""
        wanted: dict[str, Any] = {n: None for n in self.declared.get(type_name, {})}
        wanted.update(props)
        return [(n, v, "p") for n, v in wanted.items()] + [("cache_skipped", None, "c")]

    def shape(self, e: Exe) -> Any:
        seen = set()
        while "return_shape" not in e.custom:
            origin = e.custom.get("cached_from_execution_id")
            if origin is None or origin in seen or origin not in self.exes:
                return None
            seen.add(origin)
            e = self.exes[origin]
        return e.custom["return_shape"]


class CacheMachine(RuleBasedStateMachine):
    server: EmbeddedBackend

    artifacts = Bundle("artifacts")
    models = Bundle("models")

    def __init__(self) -> None:
        super().__init__()
        assert self.server.server is not None
        backend = open_backend(
            f"unix://{self.server.server.socket_path}", graph=f"cf{next(_graphs)}"
        )
        self.backend = backend
        self.store = LineageStore(backend)
        self.o = Oracle()
        self.boom = False
        self.metric: tuple[str, Any] | None = None
        self.ran: list[str] = []
        self.copies_made = False
        self.last: tuple[Any, ...] | None = None
        self._define_steps()

    def teardown(self) -> None:
        if isinstance(self.backend, EmbeddedBackend):
            self.backend.drop_graph()
        self.backend.close()

    # ----------------------------------------------------------------------------- steps

    def _define_steps(self) -> None:
        store = self.store
        machine = self

        @store.step("Fit", cache=True)
        def fit(
            data: Artifact,
            extra: list[Artifact] | None = None,
            lr: float = 0.1,
            depth: Any = None,
            opts: Any = None,
        ) -> Artifact:
            machine.ran.append("Fit")
            if machine.boom:
                raise Boom("inside the step")
            if machine.metric is not None:  # a metric named like a parameter
                run = current_run()
                assert run is not None
                run.log_metrics({machine.metric[0]: machine.metric[1]})
            return Artifact(type="Model", uri=f"/m{len(machine.ran)}")

        @store.step("Split", cache=True)
        def split(data: Artifact, seed: int = 0) -> tuple[Artifact, Artifact]:
            machine.ran.append("Split")
            if machine.boom:
                raise Boom("inside the step")
            return (
                Artifact(type="DataSet", uri=f"/s{len(machine.ran)}a"),
                Artifact(type="DataSet", uri=f"/s{len(machine.ran)}b"),
            )

        @store.step("Tuned", cache=True, properties={"lr": 0.1})
        def tuned(data: Artifact, lr: float = 0.1) -> Artifact:
            machine.ran.append("Tuned")
            return Artifact(type="Model", uri=f"/t{len(machine.ran)}")

        @store.step("Score", cache=True)
        def score(model: Artifact) -> tuple[Artifact, float]:
            machine.ran.append("Score")
            return Artifact(type="Metrics", uri=f"/x{len(machine.ran)}"), 0.5

        self.fit, self.split, self.tuned, self.score = fit, split, tuned, score

    # ------------------------------------------------------------------------- recording

    def _declare(self, type_name: str, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The recorded values after the kind rules (first call declares; an int is widened to
        a declared double), and the arguments of another kind (not recorded: not looked up)."""
        declared = self.o.declared.setdefault(type_name, {})
        out: dict[str, Any] = {}
        mismatched = []
        for name, v in values.items():
            k = _kind(v)
            want = declared.get(name)
            if k == "int" and float(v) != v and (type_name, name) in _FLOAT_PARAMETERS:
                mismatched.append(name)  # (unless declared INT before, never so here)
            elif want is None or want == k:
                out[name] = v
            elif k == "int" and want == "double" and float(v) == v:
                out[name] = float(v)
            else:
                mismatched.append(name)
        for name, v in out.items():
            declared.setdefault(name, _kind(v))
        return out, mismatched

    def _call(
        self,
        type_name: str,
        fn: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        inputs: list[tuple[int, tuple[Any, ...]]],
        values: dict[str, Any],
        unrecorded: list[str],
        shape: str,
    ) -> Any:
        o = self.o
        self.last = (type_name, fn, args, kwargs, inputs, values, unrecorded, shape)
        recorded, mismatched = self._declare(type_name, values)
        looked_up = not unrecorded and not mismatched
        hit = (
            o.find(type_name, inputs, [], o.step_wanted(type_name, recorded)) if looked_up else None
        )
        reuse = hit is not None and o.shape(hit) not in (None, "value")
        before = len(self.ran)
        raised = False
        try:
            value = fn(*args, **kwargs)
        except Boom:
            raised = True
            value = None
        body_ran = len(self.ran) > before
        assert body_ran == (not reuse), (
            f"{type_name}{args}{kwargs}: oracle expects "
            + (f"a hit on execution {hit.id}" if reuse and hit else "a run")
            + f"; looked_up={looked_up}, hit={hit.id if hit else None}"
        )
        newest = max(self.store.get_executions_by_type(type_name), key=lambda e: e.id or 0)
        assert newest.id is not None
        custom: dict[str, Any] = {n: values[n] for n in mismatched}
        if not looked_up:
            custom["cache_skipped"] = "x"
        exe = Exe(newest.id, type_name, ExecutionState.COMPLETE, inputs, dict(recorded), custom)
        if reuse:
            assert hit is not None
            exe.state = ExecutionState.CACHED
            exe.custom["cached_from_execution_id"] = hit.id
            exe.custom["return_shape"] = o.shape(hit)
            exe.outputs = list(hit.outputs)
            expected = [
                a for a, p in sorted(hit.outputs, key=lambda x: repr(x[1])) if p[:1] == ("return",)
            ]
            got = value if isinstance(value, tuple | list) else [value]
            assert sorted(a.id for a in got) == sorted(expected)
        elif raised:
            exe.state = ExecutionState.FAILED
        else:
            outs = value if isinstance(value, tuple) else (value,)
            arts = [a for a in outs if isinstance(a, Artifact)]
            exe.custom["return_shape"] = shape
            if type_name == "Fit" and self.metric is not None:
                exe.custom[self.metric[0]] = self.metric[1]
            for i, a in enumerate(arts):
                assert a.id is not None
                o.arts[a.id] = Art(a.id, a.type or "")
                exe.outputs.append((a.id, ("return", i) if len(outs) > 1 else ("return",)))
        assert newest.last_known_state == exe.state
        o.exes[exe.id] = exe
        return value

    # ----------------------------------------------------------------------------- rules

    @initialize(target=artifacts)
    def first_datasets(self) -> Any:
        return multiple(
            self._dataset(None, "custom"),
            self._dataset("d1", "declared"),
            self._dataset("d1", "custom"),
            self._dataset("d2", "custom"),
        )

    @precondition(lambda self: self.last is not None)
    @rule(twin=st.booleans(), pick=st.integers(0, 10**6))
    def repeat(self, twin: bool, pick: int) -> None:
        """The last step call again, on the same input or another of the same content."""
        assert self.last is not None
        type_name, fn, args, kwargs, inputs, values, unrecorded, shape = self.last
        if twin:
            aid = self._twin(inputs[0][0], pick)
            [data] = self.store.get_artifacts_by_id([aid])
            args = (data, *args[1:])
            inputs = [(aid, inputs[0][1]), *inputs[1:]]
            if len({i for i, _ in inputs}) != len(inputs):
                return
        self._call(type_name, fn, args, kwargs, inputs, values, unrecorded, shape)

    def _dataset(self, digest: str | None, where: str) -> Artifact:
        props = {"digest": digest} if digest is not None and where == "declared" else {}
        custom = {"digest": digest} if digest is not None and where == "custom" else {}
        with self.store.run("Load", cache=False) as run:
            a = run.output("Raw", uri="/raw", properties=props, custom_properties=custom)
        assert a.id is not None
        self.o.arts[a.id] = Art(
            a.id, "Raw", props.get("digest"), custom_digest=custom.get("digest")
        )
        return a

    @rule(
        target=artifacts,
        digest=st.sampled_from([None, "d1", "d1", "d2"]),
        where=st.sampled_from(["declared", "custom"]),
    )
    def dataset(self, digest: str | None, where: str) -> Artifact:
        return self._dataset(digest, where)

    @precondition(lambda self: not self.copies_made)
    @rule()
    def many_copies(self) -> None:
        """Past MAX_SIGNATURES same-content artifacts: lookups go through an input's consumers."""
        self.copies_made = True
        ids = self.store.put_artifacts(
            [Artifact(type="Raw", custom_properties={"digest": "d1"}) for _ in range(260)]
        )
        for i in ids:
            self.o.arts[i] = Art(i, "Raw", custom_digest="d1")

    @rule(
        target=models,
        data=artifacts,
        extra=st.lists(artifacts, max_size=2, unique_by=lambda a: a.id).filter(
            lambda x: len(x) < 2 or x[0].id % 3 == 0
        ),
        lr=st.sampled_from([0.1, 0.1, 0.1, 1, 1.0, 2**53, 2**53 + 1]),
        depth=st.sampled_from(
            [None, None, None, None, 3, 3, 3.0, "auto", 2**53 + 1, 2**53, -0.0, 0.0, 0]
        ),
        opts=st.sampled_from(
            [None, None, None, None, {"a": 1}, {"a": True}, {"a": 1.0}, [1, 2], (1, 2), b"raw"]
        ),
        boom=st.sampled_from([False, False, False, True]),
        metric=st.sampled_from([None, None, ("depth", 3), ("lr", 0.5), ("lr", 0.1)]),
    )
    def call_fit(
        self,
        data: Artifact,
        extra: list[Artifact],
        lr: Any,
        depth: Any,
        opts: Any,
        boom: bool,
        metric: tuple[str, Any] | None,
    ) -> Any:
        extra = [a for a in extra if a.id != data.id]
        inputs = [(data.id or 0, ("data",))] + [
            (a.id or 0, ("extra", i)) for i, a in enumerate(extra)
        ]
        # an int no double holds exactly (2**53 + 1) given to the float parameter: kept as a
        # custom property, not looked up (widened, it was recorded as 2**53)
        exact = float(lr) == lr
        values: dict[str, Any] = {"lr": float(lr) if exact else lr}
        unrecorded = []
        if depth is not None:
            values["depth"] = depth
        if isinstance(opts, bytes):
            unrecorded.append("opts")
        elif opts is not None:
            # (a tuple is marked: a function may tell it from the list)
            values["opts"] = (
                {"__list__": list(opts), "__class__": "builtins.tuple"}
                if isinstance(opts, tuple)
                else {"__list__": opts}
                if isinstance(opts, list)
                else opts
            )
        kwargs: dict[str, Any] = {"lr": lr, "depth": depth, "opts": opts}
        if extra:
            kwargs["extra"] = extra
        self.boom, self.metric = boom, metric
        try:
            value = self._call(
                "Fit", self.fit, (data,), kwargs, inputs, values, unrecorded, "single"
            )
        finally:
            self.boom, self.metric = False, None
        return value if isinstance(value, Artifact) else self._dataset(None, "custom")

    @rule(
        target=artifacts,
        data=artifacts,
        seed=st.integers(0, 1),
        boom=st.sampled_from([False, False, False, True]),
    )
    def call_split(self, data: Artifact, seed: int, boom: bool) -> Any:
        self.boom = boom
        try:
            value = self._call(
                "Split",
                self.split,
                (data,),
                {"seed": seed},
                [(data.id or 0, ("data",))],
                {"seed": seed},
                [],
                "tuple",
            )
        finally:
            self.boom = False
        return value[0] if value else data

    @rule(data=artifacts, lr=st.sampled_from([0.1, 0.5, 0.9, None]))
    def call_tuned(self, data: Artifact, lr: float | None) -> None:
        values = {"lr": 0.1}
        unrecorded = [] if lr == 0.1 else ["lr"]
        self._call(
            "Tuned",
            self.tuned,
            (data,),
            {"lr": lr},
            [(data.id or 0, ("data",))],
            values,
            unrecorded,
            "single",
        )

    @rule(model=models)
    def call_score(self, model: Artifact) -> None:
        self._call(
            "Score", self.score, (model,), {}, [(model.id or 0, ("model",))], {}, [], "value"
        )

    @rule(
        data=artifacts,
        as_mapping=st.booleans(),
        lr=st.sampled_from([None, 0.1, 0.5]),
        use=st.booleans(),
        fail=st.booleans(),
        times=st.sampled_from([1, 1, 18]),
    )
    def store_run(
        self, data: Artifact, as_mapping: bool, lr: float | None, use: bool, fail: bool, times: int
    ) -> None:
        """store.run on the Fit type (no return shape: a step never reuses it), possibly many
        times over (past a lookup page)."""
        o = self.o
        props = {} if lr is None else {"lr": lr}
        path: tuple[Any, ...] = ("data",) if as_mapping else ()
        inputs = [(data.id or 0, path)]
        for _ in range(times):
            recorded, mismatched = self._declare("Fit", props)
            assert not mismatched
            wanted = o.step_wanted("Fit", recorded)
            hit = o.find("Fit", inputs if as_mapping else None, [data.id or 0], wanted)
            try:
                with self.store.run(
                    "Fit", inputs={"data": data} if as_mapping else [data], properties=props
                ) as run:
                    got = run.cached.execution.id if run.cached else None
                    assert got == (hit.id if hit else None)
                    if use and run.cached:
                        run.use_cached()
                    elif fail:
                        raise Boom("in a run")
                    else:
                        run.output("Model", uri="/r")
            except Boom:
                pass
            exe = Exe(run.id, "Fit", run.state, inputs, dict(recorded), {})
            if run.state == ExecutionState.CACHED:
                assert hit is not None
                exe.outputs = list(hit.outputs)
                exe.custom["cached_from_execution_id"] = hit.id
                if "return_shape" in hit.custom:
                    exe.custom["return_shape"] = hit.custom["return_shape"]
            elif run.state == ExecutionState.COMPLETE:
                [m] = run.outputs
                assert m.id is not None
                o.arts[m.id] = Art(m.id, "Model")
                exe.outputs = [(m.id, ())]
            o.exes[exe.id] = exe

    @rule(
        pick=st.integers(0, 10**6),
        state=st.sampled_from(
            [
                ExecutionState.FAILED,
                ExecutionState.CANCELED,
                ExecutionState.RUNNING,
                ExecutionState.COMPLETE,
                ExecutionState.CACHED,
            ]
        ),
    )
    def change_execution_state(self, pick: int, state: ExecutionState) -> None:
        if not self.o.exes:
            return
        e = sorted(self.o.exes.values(), key=lambda e: e.id)[pick % len(self.o.exes)]
        self.store.put_executions(
            [Execution(id=e.id, last_known_state=state)], field_mask_paths=["last_known_state"]
        )
        e.state = state

    @rule(
        pick=st.integers(0, 10**6),
        state=st.sampled_from([ArtifactState.LIVE, ArtifactState.PENDING, *UNUSABLE]),
    )
    def change_artifact_state(self, pick: int, state: ArtifactState) -> None:
        outs = sorted({o for e in self.o.exes.values() for o, _ in e.outputs})
        if not outs:
            return
        aid = outs[pick % len(outs)]
        self.store.put_artifacts([Artifact(id=aid, state=state)], field_mask_paths=["state"])
        self.o.arts[aid].state = state

    @rule(source=artifacts, undo=st.booleans())
    def impact_mark(self, source: Artifact, undo: bool) -> None:
        o = self.o
        down: set[int] = {source.id or 0}
        frontier = set(down)
        while frontier:
            exes = [e for e in o.exes.values() if any(i in frontier for i, _ in e.inputs)]
            nxt = {a for e in exes for a, _ in e.outputs} - down
            down |= nxt
            frontier = nxt
        before = {a: o.arts[a].state for a in down}
        report = self.store.impact(source, mark=ImpactMark(state=ArtifactState.ABANDONED))
        for a in before:
            o.arts[a].state = ArtifactState.ABANDONED
        if undo:
            assert report.mark_token is not None
            self.store.undo_impact_mark(report.mark_token)
            for a, s in before.items():
                o.arts[a].state = s

    @rule(source=artifacts, digest=st.sampled_from([None, "d1", "d2", "", " d1"]))
    def change_digest(self, source: Artifact, digest: str | None) -> None:
        """A new custom ``digest`` (or none): lookups use the fingerprint as it is now."""
        art = self.o.arts[source.id or 0]
        if art.tombstone:
            return
        custom = {} if digest is None else {"digest": digest}
        self.store.put_artifacts(
            [Artifact(id=source.id, custom_properties=custom)],
            field_mask_paths=["custom_properties.digest"],
        )
        art.custom_digest = digest

    @rule()
    def retention_of_models(self) -> None:
        """Every model becomes a tombstone (DELETED): the executions that output one are not
        reused, as their outputs are gone."""
        if not any(a.type == "Model" for a in self.o.arts.values()):
            return
        plan = self.store.plan_retention(kinds=[NodeKind.ARTIFACT], types=["Model"])
        self.store.apply_retention(plan)
        for a in self.o.arts.values():
            if a.type == "Model" and not a.tombstone:  # (a tombstone is left as it is)
                a.state = ArtifactState.DELETED
                a.declared_digest = a.custom_digest = None
                a.tombstone = True

    @rule(type_name=st.sampled_from(["Fit", "Split"]))
    def retention_tombstones(self, type_name: str) -> None:
        """Every execution of the type becomes a tombstone (or goes): it never hits again."""
        if not any(e.type == type_name for e in self.o.exes.values()):
            return
        plan = self.store.plan_retention(kinds=[NodeKind.EXECUTION], types=[type_name])
        self.store.apply_retention(plan)
        for e in self.o.exes.values():
            if e.type == type_name:
                e.tombstone = True
                e.props, e.custom = {}, {}

    def _twin(self, aid: int, pick: int) -> int:
        digest = self.o.arts[aid].digest
        same = sorted(a.id for a in self.o.arts.values() if digest and a.digest == digest)
        return same[pick % len(same)] if same else aid

    @rule(
        data=artifacts,
        others=st.lists(artifacts, max_size=2),
        pick=st.integers(0, 10**6),
        by_fingerprint=st.booleans(),
        as_mapping=st.booleans(),
        props=st.sampled_from([{}, {"lr": 0.1}, {"lr": None}, {"lr": 0.5, "depth": 3}]),
        swap=st.booleans(),
    )
    def lookup(
        self,
        data: Artifact,
        others: list[Artifact],
        pick: int,
        by_fingerprint: bool,
        as_mapping: bool,
        props: dict[str, Any],
        swap: bool,
    ) -> None:
        """find_cached_execution: arbitrary inputs, or those an execution read."""
        o = self.o
        exes = sorted(o.exes.values(), key=lambda e: e.id)
        if pick % 3 != 0 and exes:
            e = exes[pick % len(exes)]
            type_name, roles = e.type, list(e.inputs)
        else:
            type_name = "Fit"
            roles = [(data.id or 0, ("data",))] + [
                (a.id or 0, ("extra", i)) for i, a in enumerate(others) if a.id != data.id
            ]
        if swap:  # another artifact of the same content in each role where there is one
            roles = [(self._twin(i, pick), p) for i, p in roles]
        ids = [i for i, _ in roles]
        if len(set(ids)) != len(ids):
            return
        mapping: dict[str, Any] = {}
        if as_mapping:
            if any(len(p) not in (1, 2) or not isinstance(p[0], str) for _, p in roles):
                return
            for i, p in roles:
                if len(p) == 1:
                    mapping[p[0]] = i
                else:
                    mapping.setdefault(p[0], []).append(i)
            flat = sorted(repr(x) for x in roles)
            if len(flat) != sum(len(v) if isinstance(v, list) else 1 for v in mapping.values()):
                return
            if (
                sorted(
                    repr(r)
                    for k, v in mapping.items()
                    for r in (
                        [(v, (k,))]
                        if not isinstance(v, list)
                        else [(x, (k, n)) for n, x in enumerate(v)]
                    )
                )
                != flat
            ):
                return
        expected = o.find(
            type_name,
            roles if as_mapping else None,
            ids,
            [(n, v, "pc") for n, v in props.items()],
            by_fingerprint,
        )
        got = self.store.find_cached_execution(
            type_name,
            mapping if as_mapping else ids,
            properties=props,
            by_fingerprint=by_fingerprint,
        )
        assert (got.execution.id if got.execution else None) == (
            expected.id if expected else None
        ), (type_name, roles, props, by_fingerprint, got.reason)
        if expected is not None:
            assert sorted(a.id or 0 for a in got.outputs) == sorted(a for a, _ in expected.outputs)


def _machine_test(server: EmbeddedBackend, max_examples: int, steps: int) -> None:
    CacheMachine.server = server
    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        CacheMachine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedBackend]:
    backend = open_backend("memory")
    assert isinstance(backend, EmbeddedBackend)
    yield backend
    backend.close()


@pytest.mark.parametrize("max_signatures", [cache_module.MAX_SIGNATURES, 3])
def test_cache_agrees_with_the_documented_rules(
    server: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch, max_signatures: int
) -> None:
    """With a small MAX_SIGNATURES most same-content lookups go through an input's consumers
    (cache/candidates_by_anchor), the path 260 copies reach at the real limit."""
    monkeypatch.setattr(cache_module, "MAX_SIGNATURES", max_signatures)
    _machine_test(server, max_examples=25, steps=40)
