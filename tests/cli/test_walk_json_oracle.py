"""The lineage commands' ``--json`` answers are ``store.lineage``'s, option for option and page by
page: ``upstream`` / ``downstream`` / ``export`` with ``--direction``, ``--depth``, ``--as-of``,
``--only`` / ``--type`` / ``--state``, ``--stop-at-*`` with and without ``--exclude-stop`` and
``--limit`` / ``--cursor``, combined; ``impact --json`` is ``store.impact``'s report."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from lineage_graph import EventType, NodeFilter, NodeKind, NodeRef

from .conftest import Demo

CASES = 14


def _answer(data: dict[str, Any]) -> tuple[Any, ...]:
    events = sorted(
        (
            e["artifact_id"],
            e["execution_id"],
            int(EventType[e["type"]]) if isinstance(e["type"], str) else e["type"],
        )
        for e in data["events"]
    )
    return (
        sorted(a["id"] for a in data["artifacts"]),
        sorted(x["id"] for x in data["executions"]),
        events,
        sorted(c["id"] for c in data["contexts"]),
        data["complete"],
        data["total"],
    )


def _case(rnd: random.Random, demo: Demo) -> tuple[list[str], NodeRef, dict[str, Any]]:
    """A command line and the same question as ``store.lineage`` arguments."""
    store = demo.store
    artifacts, executions = store.get_artifacts(), store.get_executions()
    kind = rnd.choice([NodeKind.ARTIFACT, NodeKind.EXECUTION])
    start = rnd.choice(artifacts if kind is NodeKind.ARTIFACT else executions)
    command = rnd.choice(["upstream", "downstream", "export"])
    direction = {"upstream": "upstream", "downstream": "downstream"}.get(command) or rnd.choice(
        ["upstream", "downstream", "both", "any"]
    )
    args = [command, f"{kind.value.lower()}:{start.id}"]
    options: dict[str, Any] = {"direction": direction, "include_contexts": True}
    if command == "export":
        args += ["--direction", direction]
    if rnd.random() < 0.5:
        depth = rnd.randint(1, 9)
        args += ["--depth", str(depth)]
        options["max_hops"] = depth
    if rnd.random() < 0.3:
        events = store.get_events_by_execution_ids([x.id for x in executions if x.id])
        as_of = rnd.choice(sorted({e.milliseconds_since_epoch or 0 for e in events}))
        args += ["--as-of", str(as_of)]
        options["as_of"] = as_of
    types = sorted({n.type for n in [*artifacts, *executions] if n.type})
    where: dict[str, Any] = {}
    if rnd.random() < 0.3:
        only = rnd.choice(["artifacts", "executions"])
        args += ["--only", only]
        where["kinds"] = [NodeKind.ARTIFACT if only == "artifacts" else NodeKind.EXECUTION]
    if rnd.random() < 0.3:
        chosen = rnd.sample(types, 2)
        args += ["--type", chosen[0], "-t", chosen[1]]
        where["types"] = chosen
    if rnd.random() < 0.3:
        state = rnd.choice(["live", "COMPLETE", "cached"])
        args += ["--state", state]
        where["states"] = [state.upper()]
    if where:
        options["where"] = NodeFilter(**where)
    stop: dict[str, Any] = {}
    if rnd.random() < 0.35:
        stop["types"] = [rnd.choice(types)]
        args += ["--stop-at-type", stop["types"][0]]
    if rnd.random() < 0.2:
        state = rnd.choice(["LIVE", "complete"])
        args += ["--stop-at-state", state]
        stop["states"] = [state.upper()]
    if stop:
        options["stop_at"] = NodeFilter(**stop)
        if rnd.random() < 0.5:
            args.append("--exclude-stop")
            options["include_stop"] = False
    limit = rnd.choice([None, 1, 2, 3])
    if limit is not None:
        args += ["--limit", str(limit)]
        options["limit"] = limit
    if command != "export":
        args.append("--json")  # export's default format is the graph's JSON
    return args, NodeRef(kind, start.id or 0), options


@pytest.mark.parametrize("seed", range(CASES))
def test_lineage_commands_answer_what_the_api_answers(demo: Demo, seed: int) -> None:
    args, start, options = _case(random.Random(seed), demo)
    cursor = None
    for _ in range(30):
        result = demo.cli(*args, *(["--cursor", cursor] if cursor else []))
        assert result.exit_code == 0, (args, result.output)
        got = json.loads(result.stdout)
        expected = demo.store.lineage(start, cursor=cursor, **options)
        assert _answer(got) == _answer(
            {
                "artifacts": [{"id": a.id} for a in expected.artifacts],
                "executions": [{"id": x.id} for x in expected.executions],
                "events": [
                    {
                        "artifact_id": e.artifact_id,
                        "execution_id": e.execution_id,
                        "type": int(e.type),
                    }
                    for e in expected.events
                ],
                "contexts": [{"id": c.id} for c in expected.contexts],
                "complete": expected.complete,
                "total": expected.total,
            }
        ), args
        if got["complete"]:
            assert got["cursor"] is None
            return
        cursor = got["cursor"]
    pytest.fail(f"more than 30 pages: {args}")


def test_impact_json_is_the_reports(demo: Demo) -> None:
    for node in [*demo.store.get_artifacts(), *demo.store.get_executions()]:
        ref = f"{node.kind.value.lower()}:{node.id}"
        got = demo.json("impact", ref)
        report = demo.store.impact(NodeRef(node.kind, node.id or 0)).to_dict()
        assert got == json.loads(json.dumps(report)), ref
