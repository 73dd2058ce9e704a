"""The wheel ships the query library: every query of the source tree, found from the installed
package (``lineage_graph/cypher``) with no source checkout on the path."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lineage_graph._queries import QueryRegistry, cypher_dir

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _source_names() -> list[str]:
    # Not the cached registry(): query files keep appearing, read the tree as it is now.
    return QueryRegistry(cypher_dir()).names()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir)]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.append("--no-isolation")  # the build backend is already here: no download needed
    proc = subprocess.run(
        [*cmd, str(ROOT)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"building the wheel failed:\n{proc.stdout}\n{proc.stderr}"
    wheels = sorted(outdir.glob("lineage_graph-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contains_every_query(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        members = set(zf.namelist())
    shipped = {
        m.removeprefix("lineage_graph/cypher/").removesuffix(".cypher")
        for m in members
        if m.startswith("lineage_graph/cypher/") and m.endswith(".cypher")
    }
    missing = [n for n in _source_names() if f"lineage_graph/cypher/{n}.cypher" not in members]
    assert not missing, f"queries missing from the wheel: {missing}"
    overrides = sorted((cypher_dir() / "falkordb").rglob("*.cypher"))
    for path in overrides:
        rel = path.relative_to(cypher_dir()).with_suffix("").as_posix()
        assert rel in shipped, f"override {rel} missing from the wheel"
    assert "lineage_graph/_queries.py" in members


_PROBE = """
import json
import lineage_graph
from lineage_graph._queries import cypher_dir, registry
print(json.dumps({
    "package": lineage_graph.__file__,
    "cypher_dir": str(cypher_dir()),
    "names": registry().names(),
}))
"""


def test_installed_wheel_finds_its_queries(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--quiet",
         "--disable-pip-version-check", "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert install.returncode == 0, f"pip install failed:\n{install.stdout}\n{install.stderr}"
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PYTHONSAFEPATH", None)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=tmp_path,  # the source checkout must not be importable
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    package_dir = (site / "lineage_graph").resolve()
    assert Path(found["package"]).resolve().parent == package_dir, found["package"]
    assert Path(found["cypher_dir"]).resolve() == package_dir / "cypher"
    assert found["names"] == _source_names()
    assert found["names"], "the query library is empty"


def test_wheel_version_is_the_package_version(wheel: Path) -> None:
    """One version, written once (``lineage_graph/__about__.py``, read by hatchling): the
    wheel's name and metadata, ``lineage_graph.__version__`` and ``lineage-graph --version``
    say the same. It was written twice, in pyproject.toml and __about__.py, free to drift."""
    from lineage_graph import __version__

    with zipfile.ZipFile(wheel) as zf:
        (metadata,) = [m for m in zf.namelist() if m.endswith(".dist-info/METADATA")]
        lines = zf.read(metadata).decode().splitlines()
    assert f"Version: {__version__}" in lines
    assert wheel.name.startswith(f"lineage_graph-{__version__}-")
