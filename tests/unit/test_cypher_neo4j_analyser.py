"""Every base query is valid Neo4j 5 Cypher, checked by Neo4j's own analyser (DESIGN.md §4).

The analyser is ``@neo4j-cypher/language-support`` on npm, driven by ``tools/cypher-lint/lint.mjs``
in ONE node invocation per session: the base text of every query of the registry, plus probes that
prove the analyser really rejects what Neo4j rejects (so these tests cannot pass vacuously).
FalkorDB overrides under ``cypher/falkordb/`` are exempt from the analyser but must each have a
base twin. Every base file holds exactly one statement.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lineage_graph._queries import QueryRegistry, cypher_dir, registry

ROOT = Path(__file__).resolve().parents[2]
LINT_DIR = ROOT / "tools" / "cypher-lint"
LINT_SCRIPT = LINT_DIR / "lint.mjs"
NPM_HINT = "run `npm ci --prefix tools/cypher-lint`"

# Probes sent along with the real queries: (query, should the analyser report an error?).
# Names use characters a query file name cannot produce, so they never collide with real queries.
PROBES: dict[str, tuple[str, bool]] = {
    # FalkorDB accepts a pattern expression inside size(); Neo4j 5 does not.
    "<probe:size-of-pattern>": ("MATCH (n:Artifact) RETURN size((n)-->()) AS k", True),
    "<probe:syntax-error>": ("MATCH (n) RETURN n.x(", True),
    # FalkorDB-only functions and procedures are unknown to Neo4j.
    "<probe:falkordb-function>": ("RETURN vecf32([1.0, 2.0]) AS v", True),
    "<probe:falkordb-procedure>": (
        "MATCH (a:Artifact {id: $id}) CALL algo.BFS(a, 0, 'EVENT') YIELD nodes RETURN nodes",
        True,
    ),
    # Plugins are stripped from the schema: a query must not depend on APOC.
    "<probe:apoc>": ("RETURN apoc.coll.sum([1, 2]) AS s", True),
    "<probe:good-upstream>": (
        "MATCH (a:Artifact {id: $id})<-[:EVENT*]-(x) RETURN DISTINCT x.id AS id",
        False,
    ),
    "<probe:good-count-subquery>": (
        "MATCH (e:Execution) WHERE e.id IN $ids RETURN e.id AS id, COUNT { (e)--() } AS degree",
        False,
    ),
}


def _base_names() -> list[str]:
    try:
        return registry().names()
    except Exception:  # reported by test_registry_loads, not as a collection error
        return []


BASE_NAMES = _base_names()


def _node() -> str:
    """The node executable, or skip (fail on CI) when the analyser is not installed."""
    node = shutil.which("node")
    installed = (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").is_dir()
    reason = None
    if node is None:
        reason = f"node is not on PATH (needed for the Neo4j Cypher analyser); {NPM_HINT}"
    elif not installed:
        reason = NPM_HINT
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    assert node is not None
    return node


def _run_lint(node: str, items: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    proc = subprocess.run(
        [node, str(LINT_SCRIPT)],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=LINT_DIR,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"lint.mjs exited {proc.returncode}:\n{proc.stderr}", pytrace=False)
    report: list[dict[str, Any]] = json.loads(proc.stdout)
    return {entry["name"]: entry for entry in report}


@pytest.fixture(scope="module")
def lint_report() -> dict[str, dict[str, Any]]:
    """The analyser's verdict on every base query and every probe, from one node invocation."""
    node = _node()
    items = [{"name": q.name, "text": q.base} for q in registry()]
    items += [{"name": name, "text": text} for name, (text, _) in PROBES.items()]
    report = _run_lint(node, items)
    assert set(report) == {item["name"] for item in items}, "lint.mjs lost or renamed queries"
    return report


def _describe(diagnostics: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {d['line']}:{d['column']}: {d['message']}" for d in diagnostics)


# --- the analyser is real ------------------------------------------------------------------------


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_analyser_verdict_on_probe(probe: str, lint_report: dict[str, dict[str, Any]]) -> None:
    text, should_fail = PROBES[probe]
    errors = lint_report[probe]["errors"]
    if should_fail:
        assert errors, f"the analyser accepted a query Neo4j rejects: {text}"
    else:
        assert not errors, f"the analyser rejected a valid query: {text}\n{_describe(errors)}"


def test_error_positions_are_one_based(lint_report: dict[str, dict[str, Any]]) -> None:
    errors = lint_report["<probe:size-of-pattern>"]["errors"]
    text = PROBES["<probe:size-of-pattern>"][0]
    assert any(e["line"] == 1 and e["column"] == text.index("(n)-->") + 1 for e in errors), errors


# --- every base query passes ---------------------------------------------------------------------


def test_registry_loads() -> None:
    assert registry().names() == BASE_NAMES


@pytest.mark.parametrize("name", BASE_NAMES)
def test_base_query_passes_neo4j_analyser(
    name: str, lint_report: dict[str, dict[str, Any]]
) -> None:
    errors = lint_report[name]["errors"]
    assert not errors, (
        f"cypher/{name}.cypher is not valid Neo4j 5 Cypher:\n{_describe(errors)}\n"
        "(FalkorDB-only syntax belongs in a cypher/falkordb/ override)"
    )


# --- one statement per file ----------------------------------------------------------------------

# Comments, string literals and `quoted names` may contain ';' without separating statements.
_NOT_CODE = re.compile(
    r"""//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:``|[^`])*`""",
    re.DOTALL,
)


def count_statements(text: str) -> int:
    code = _NOT_CODE.sub(lambda m: " " if m.group().startswith("/") else "x", text)
    return sum(1 for part in code.split(";") if part.strip())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RETURN 1", 1),
        ("RETURN 1;", 1),
        ("RETURN 1; RETURN 2", 2),
        ("RETURN 'a;b' AS x // c;d\n/* e;\nf */ ", 1),
        ('RETURN "a\\";b" AS `x;y`', 1),
        ("// only a comment; nothing else", 0),
        ("", 0),
    ],
)
def test_count_statements(text: str, expected: int) -> None:
    assert count_statements(text) == expected


@pytest.mark.parametrize("name", BASE_NAMES)
def test_base_file_holds_one_statement(name: str) -> None:
    n = count_statements(registry()[name].base)
    assert n == 1, f"cypher/{name}.cypher holds {n} statements; a query file holds exactly one"


# --- FalkorDB overrides have base twins ----------------------------------------------------------


def test_every_falkordb_override_has_a_base_twin() -> None:
    root = cypher_dir()
    overrides = sorted((root / "falkordb").rglob("*.cypher"))
    twins = {p: root / p.relative_to(root / "falkordb") for p in overrides}
    orphans = [p.relative_to(root).as_posix() for p, twin in twins.items() if not twin.is_file()]
    assert not orphans, f"FalkorDB overrides without a base query: {orphans}"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_registry_rejects_an_override_without_twin(tmp_path: Path) -> None:
    _write(tmp_path / "nodes" / "get.cypher", "MATCH (n:Artifact) RETURN n\n")
    _write(tmp_path / "falkordb" / "nodes" / "get.cypher", "MATCH (n:Artifact) RETURN n.id\n")
    _write(tmp_path / "falkordb" / "nodes" / "orphan.cypher", "RETURN 1\n")
    with pytest.raises(RuntimeError, match="nodes/orphan"):
        QueryRegistry(tmp_path)


def test_registry_applies_an_override_with_twin(tmp_path: Path) -> None:
    _write(tmp_path / "nodes" / "get.cypher", "MATCH (n:Artifact) RETURN n\n")
    _write(tmp_path / "nodes" / "count.cypher", "MATCH (n:Artifact) RETURN count(n)\n")
    _write(tmp_path / "falkordb" / "nodes" / "get.cypher", "MATCH (n:Artifact) RETURN n.id\n")
    reg = QueryRegistry(tmp_path)
    assert reg.names() == ["nodes/count", "nodes/get"]
    assert reg["nodes/get"].text("neo4j") == "MATCH (n:Artifact) RETURN n"
    assert reg["nodes/get"].text("falkordb") == "MATCH (n:Artifact) RETURN n.id"
    assert reg["nodes/count"].text("falkordb") == reg["nodes/count"].base
