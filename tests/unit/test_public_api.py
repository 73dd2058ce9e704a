"""The public surface is exactly what ``__all__`` says, and nothing private leaks into it."""

from __future__ import annotations

import enum
import inspect
import json
import re
from pathlib import Path

import lineage_graph
import lineage_graph.backends
import lineage_graph.exceptions
import lineage_graph.models
from lineage_graph._tracker import Tracker

EXPECTED = {
    "AlreadyExistsError", "ArchivedRecord", "Artifact", "ArtifactState", "ArtifactType",
    "Association", "Attribution", "CacheResult", "ConfigurationError", "Context", "ContextType",
    "Direction", "EngineError", "EngineNotInstalledError", "EngineUnavailableError", "Event",
    "EventType", "Execution", "ExecutionState", "ExecutionType", "FailedPreconditionError",
    "InvalidArgumentError", "LineageGraph", "LineageGraphError", "LineageStore", "ModelVersion",
    "NodeFilter", "NodeKind", "NodeRef", "NotFoundError", "OutOfRangeError", "ParentContext",
    "PropertyType", "ProtoValue", "QueryError", "RetentionPlan", "RetentionResult",
    "SchemaVersionError", "StoredValueError", "Tracker", "__version__",
}  # fmt: skip


def test_package_all_is_pinned() -> None:
    assert set(lineage_graph.__all__) >= EXPECTED
    for name in lineage_graph.__all__:
        assert getattr(lineage_graph, name) is not None
        assert not name.startswith("_") or name == "__version__"


def test_every_error_derives_from_the_root() -> None:
    for name in lineage_graph.exceptions.__all__:
        error = getattr(lineage_graph.exceptions, name)
        assert issubclass(error, lineage_graph.LineageGraphError)
    assert lineage_graph.EngineUnavailableError.retryable
    assert not lineage_graph.InvalidArgumentError.retryable
    assert issubclass(lineage_graph.InvalidArgumentError, ValueError)


def test_submodule_all_names_exist() -> None:
    for module in (lineage_graph.models, lineage_graph.backends, lineage_graph.exceptions):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)


def _documented_calls(section: str) -> dict[str, list[str]]:
    """``{method: [parameter as written]}`` for each ``method(...)`` in the table of a section
    of docs/api.md."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    body = text.split(section, 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in body.splitlines() if line.startswith("| `"))
    return {
        name: [p.strip() for p in params.split(",") if p.strip()]
        for name, params in re.findall(r"`(\w+)\(([^)]*)\)", table)
    }


def test_the_tracker_table_shows_the_real_signatures() -> None:
    """docs/api.md's tracker table: names, order, keyword-only marker and defaults as in the
    code (a documented positional call to a keyword-only parameter raises TypeError)."""
    documented = _documented_calls("## Model tracking: `store.tracker`")
    assert len(documented) >= 13
    for name, params in documented.items():
        real = list(inspect.signature(getattr(Tracker, name)).parameters.values())[1:]
        shown: list[str] = []
        for p in real:
            if p.kind is p.KEYWORD_ONLY and "*" not in shown:
                shown.append("*")
            if p.default is p.empty:
                shown.append(p.name)
            else:  # the docs quote strings with double quotes
                value = json.dumps(p.default) if isinstance(p.default, str) else repr(p.default)
                shown.append(f"{p.name}={value}")
        assert params == shown, name


def _shown(function: object) -> list[str]:
    """A signature as docs/api.md writes it: ``*`` before the keyword-only parameters, strings
    in double quotes, an enum member as ``Class.MEMBER``, no ``self``/``cls``."""
    shown: list[str] = []
    for p in inspect.signature(function).parameters.values():  # type: ignore[arg-type]
        if p.name in ("self", "cls"):
            continue
        if p.kind is p.VAR_KEYWORD:
            shown.append(f"**{p.name}")
            continue
        if p.kind is p.KEYWORD_ONLY and "*" not in shown:
            shown.append("*")
        if p.default is p.empty:
            shown.append(p.name)
        elif isinstance(p.default, enum.Enum):
            shown.append(f"{p.name}={type(p.default).__name__}.{p.default.name}")
        elif isinstance(p.default, str):
            shown.append(f"{p.name}={json.dumps(p.default)}")
        else:
            shown.append(f"{p.name}={p.default!r}")
    return shown


def _api_signatures() -> dict[str, object]:
    """What each documented signature of docs/api.md (outside the tracker table) stands for."""
    import lineage_graph.viewer as viewer
    from lineage_graph.pipeline import Run

    store = lineage_graph.LineageStore
    targets: dict[str, object] = {
        "LineageStore.open": store.open,
        "@store.step": store.step,
        "NodeFilter": lineage_graph.NodeFilter,
        "ImpactMark": lineage_graph.ImpactMark,
        "run.log_git": Run.log_git,
    }
    for name in ("run", "find_cached_execution", "lineage", "impact", "undo_impact_mark",
                 "compare", "lineage_diff", "context_graph"):  # fmt: skip
        targets[f"store.{name}"] = getattr(store, name)
    for name in ("render_html", "to_html", "write_html", "open_in_browser", "repr_html",
                 "to_records", "to_dataframe", "graph_from_store"):  # fmt: skip
        targets[name] = getattr(viewer, name)
    return targets


def test_the_documented_signatures_are_the_real_ones() -> None:
    """Every ``name(parameters)`` of docs/api.md naming a store method, a filter or mark class,
    ``run.log_git`` or a viewer function shows the real parameters: names, order, the
    keyword-only marker and the defaults (``...`` ends a list that shows only its start)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # the examples: calls, not specs
    parameter = re.compile(r"^(\*\*?\w+|\*|\.\.\.|\w+(=.+)?)$")
    checked = set()
    targets = _api_signatures()
    for span in re.findall(r"`([^`]+)`", text):
        call = re.match(r"([@\w.]+)\((.*)\)(?: -> .*)?$", " ".join(span.split()))
        if not call or call[1] not in targets:
            continue
        params = [p.strip() for p in call[2].split(",") if p.strip()]
        if not params or not all(parameter.match(p) for p in params):
            continue  # a mention (`to_html()`) or a call with values (`@store.step("fit")`)
        real = _shown(targets[call[1]])
        if params and params[-1] == "...":
            assert real[: len(params) - 1] == params[:-1], call[1]
        else:
            assert params == real, call[1]
        checked.add(call[1])
    assert checked == set(targets), f"not found in docs/api.md: {set(targets) - checked}"


def _table(text: str, header: str) -> list[list[str]]:
    """The rows (cells stripped) of the markdown table whose header row starts with ``header``."""
    section = text.split(header, 1)[1].split("\n\n", 1)[0]
    return [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()[2:]]


def _default_shown(cell: str) -> object:
    """``120000`` → 120000, ``4 GiB`` → bytes, `` `lineage` `` → "lineage", ``—``/``none…`` or
    ``off``/``on`` → False/True, words → None (no value)."""
    value = re.split(r"[:(]", cell, maxsplit=1)[0].strip()
    if value in ("off", "on"):
        return value == "on"
    if m := re.fullmatch(r"(\d+) GiB", value):
        return int(m[1]) * 1024**3
    if re.fullmatch(r"\d+", value):
        return int(value)
    if m := re.fullmatch(r"`([^`]*)`", value):
        return m[1]
    return None


def test_the_engine_settings_tables_are_the_real_defaults() -> None:
    """docs/backends.md's settings tables: every setting of the code, none else, same default."""
    from lineage_graph.config import EmbeddedSettings, Neo4jSettings

    text = (Path(__file__).resolve().parents[2] / "docs" / "backends.md").read_text("utf-8")
    documented: dict[str, object] = {}
    for setting, default, _meaning in _table(text, "| setting | default | meaning |"):
        names = re.findall(r"`(\w+)`", setting)
        values = [_default_shown(v) for v in default.split(" / ")]
        documented.update(
            zip(names, values * len(names) if len(values) == 1 else values, strict=True)
        )
    real = {name: field.default for name, field in EmbeddedSettings.model_fields.items()}
    assert documented == real
    documented = {}
    for variable, setting, default in _table(text, "| environment variable | setting | default |"):
        assert variable.startswith(f"`NEO4J_{setting.strip('`').upper()}`"), variable
        documented[setting.strip("`")] = _default_shown(default)
    real = {name: field.default for name, field in Neo4jSettings.model_fields.items()}
    assert documented == real


def _exports_section() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    return text.split("## What `lineage_graph` exports", 1)[1].split("\n## ", 1)[0]


def test_docs_api_lists_every_exported_name_and_only_those() -> None:
    """docs/api.md named ten of the exported names nowhere, and five of them (``Attribution``,
    ``ParentContext``, ``ArchivedRecord``, ``RetentionResult``, ``__version__``) were in no doc
    at all: a reader could not tell what they were for. Its exports table names every one, and
    nothing else."""
    section = _exports_section()
    table = "\n".join(line for line in section.splitlines() if line.startswith("| `"))
    listed = {
        name
        for line in table.splitlines()
        for name in re.findall(r"`(\w+)`", line.split(" | ", 1)[0])
    }
    assert listed == set(lineage_graph.__all__)


def test_the_types_docs_api_places_in_submodules_are_there() -> None:
    """The types the docs name but the package does not export are importable where the
    exports section says they are."""
    import lineage_graph.config
    import lineage_graph.pipeline
    import lineage_graph.viewer

    section = _exports_section()
    for module, names in (
        (lineage_graph.pipeline, ("Run", "CacheHit", "current_run")),
        (lineage_graph.viewer, ("GraphData",)),
        (lineage_graph.config, ("EmbeddedSettings", "Neo4jSettings")),
    ):
        assert f"`{module.__name__}`" in section
        for name in names:
            assert f"`{name}`" in section and name in module.__all__, name


def test_run_and_step_take_the_same_git_argument() -> None:
    """``store.step(git=Path("."))`` works, as docs/api.md says ("or a path") and ``store.run``
    is typed, but ``step`` was annotated ``bool | str``: a ``mypy --strict`` caller passing a
    ``Path`` got an error."""
    from lineage_graph import LineageStore

    run = inspect.signature(LineageStore.run).parameters["git"]
    step = inspect.signature(LineageStore.step).parameters["git"]
    assert step.annotation == run.annotation and "PathLike" in str(step.annotation)


def test_the_tracker_types_are_public() -> None:
    """``register_model`` returns a ``ModelVersion`` and ``store.tracker`` is a ``Tracker``, but
    neither could be imported from a public module: a caller annotating a function that takes
    one had to import from ``lineage_graph._tracker``."""
    from lineage_graph import _tracker

    assert lineage_graph.Tracker is Tracker
    assert lineage_graph.ModelVersion is _tracker.ModelVersion
    assert inspect.signature(Tracker.register_model).return_annotation == "ModelVersion"


def test_the_submodules_are_attributes_of_the_package_in_a_fresh_process() -> None:
    """``import lineage_graph`` and then ``lineage_graph.pipeline.current_run()`` (docs/api.md
    writes it so): the package's names load when first asked for, and its submodules did not
    (AttributeError, unless something else had imported them first). Nor do its own helpers
    show in ``dir()``."""
    import subprocess
    import sys

    code = (
        "import lineage_graph as lg\n"
        "assert lg.pipeline.current_run() is None\n"
        "assert lg.exceptions.NotFoundError is lg.NotFoundError\n"
        "assert lg.models.Artifact is lg.Artifact and lg.store.LineageStore is lg.LineageStore\n"
        "assert lg.backends.__name__ == 'lineage_graph.backends'\n"
        "names = dir(lg)\n"
        "assert set(lg.__all__) <= set(names) and 'pipeline' in names, names\n"
        "assert not {'importlib', 'Any', 'TYPE_CHECKING', 'annotations'} & set(names), names\n"
        "try:\n"
        "    lg.no_such_name\n"
        "except AttributeError as exc:\n"
        "    assert 'no_such_name' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
        "assert not any(hasattr(lg, n) for n in ('a.b', 'pipeline.x', '', 'x y'))\n"
        "import lineage_graph.cli as cli\n"
        "assert {'app', 'ExitCode', 'main'} <= set(dir(cli))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
