"""TFX's own MLMD tests, run on ml_metadata 1.17.1 and on the adapter: what passes on the first
must pass on the second.

TFX, the biggest MLMD client, ships the tests of its portable orchestrator's MLMD libraries
(``tfx/orchestration/portable/mlmd/*_test.py``) and of the code above them in the
``ml-pipelines-sdk`` wheel. They need a directory named by ``LINEAGE_GRAPH_TFX_DIR`` (else every
test here is skipped) holding, unpacked with ``pip install --no-deps --target DIR``:

* ``ml-pipelines-sdk==1.21.0`` (the newest; it asks for ml-metadata 1.21, but only the MLMD API
  of 1.17.1 is used by these tests: all of them that run here pass on 1.17.1);
* the pure-Python modules its imports need: ``google-api-python-client<2``, ``httplib2``,
  ``uritemplate``, ``google-auth``, ``google-auth-httplib2``, ``portpicker``;
* the test data the wheel lacks, from TFX's repository at tag v1.21.0:
  ``tfx/orchestration/portable/testdata/*.pbtxt`` (tests that need a missing file fail on
  ml_metadata too, so they are skipped here, saying so).

What TensorFlow and a full TFX would provide is stood in for here, and nothing else:
``tf.test.TestCase`` (absltest's TestCase with tf's ``assertProtoEquals`` and ``get_temp_dir``;
TFX's file I/O then uses the local filesystem, as it does without TensorFlow), protobuf's
``runtime_version`` check of TFX's gencode (protobuf 6; ml-metadata 1.17.1 runs on protobuf
4.25, whose runtime builds that gencode), and ``tfx.extensions``, whose absence makes TFX's
artifact classes refuse to be built outside a full TFX install (a check TFX's own Bazel test
runs bypass too).

Each TFX test runs first with ml_metadata's ``MetadataStore`` (its fake database: in memory), then
with ``ml_metadata.MetadataStore`` being ``lineage_graph.mlmd.MetadataStore`` (so TFX's
``mlmd.MetadataStore(connection_config)`` opens the adapter: an embedded store in memory, or a
directory beside a SQLite file). A test failing on ml_metadata is skipped with its error; one
passing there must pass on the adapter, but for the differences docs/mlmd-compatibility.md
documents (``KNOWN``).
"""

from __future__ import annotations

import contextlib
import enum
import gc
import importlib
import os
import sys
import tempfile
import types
import unittest
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ml_metadata = pytest.importorskip("ml_metadata")

from lineage_graph.mlmd import MetadataStore  # noqa: E402

ENV = "LINEAGE_GRAPH_TFX_DIR"

#: TFX's test modules run here: the MLMD libraries' own, and those of the code above them that
#: import with ml-pipelines-sdk alone.
MODULES = (
    "tfx.orchestration.portable.mlmd.artifact_lib_test",
    "tfx.orchestration.portable.mlmd.common_utils_test",
    "tfx.orchestration.portable.mlmd.context_lib_test",
    "tfx.orchestration.portable.mlmd.event_lib_test",
    "tfx.orchestration.portable.mlmd.execution_lib_test",
    "tfx.orchestration.portable.mlmd.store_ext_test",
    "tfx.orchestration.metadata_test",
    "tfx.orchestration.mlmd_connection_manager_test",
    "tfx.orchestration.portable.cache_utils_test",
    "tfx.orchestration.portable.execution_publish_utils_test",
    "tfx.orchestration.portable.execution_watcher_test",
    "tfx.orchestration.portable.importer_node_handler_test",
    "tfx.orchestration.portable.inputs_utils_test",
    "tfx.orchestration.portable.launcher_test",
    "tfx.orchestration.portable.resolver_node_handler_test",
    "tfx.orchestration.portable.input_resolution.channel_resolver_test",
    "tfx.orchestration.portable.input_resolution.node_inputs_resolver_test",
    "tfx.orchestration.portable.input_resolution.mlmd_resolver.metadata_resolver_test",
    "tfx.dsl.components.common.importer_test",
    "tfx.dsl.components.common.resolver_test",
    "tfx.dsl.input_resolution.ops.group_by_lineage_op_test",
    "tfx.dsl.input_resolution.strategies.conditional_strategy_test",
    "tfx.dsl.input_resolution.strategies.latest_artifact_strategy_test",
)

#: Tests that pass on ml_metadata and fail on the adapter for a documented difference.
KNOWN: dict[str, str] = {}


# ---------------------------------------------------------------------------- stand-ins


def _protobuf_runtime_version() -> None:
    """TFX 1.21's gencode checks protobuf's runtime version (protobuf >= 5 has the module)."""
    import google.protobuf

    with contextlib.suppress(ImportError):
        from google.protobuf import runtime_version  # noqa: F401

        return
    shim = types.ModuleType("google.protobuf.runtime_version")

    class Domain(enum.Enum):
        GOOGLE_INTERNAL = 1
        PUBLIC = 2

    shim.Domain = Domain  # type: ignore[attr-defined]
    shim.ValidateProtobufRuntimeVersion = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    sys.modules[shim.__name__] = shim
    google.protobuf.runtime_version = shim  # type: ignore[attr-defined]


#: The temporary directory of the TFX test running (tf.test's get_temp_dir): one per run, so
#: the SQLite file ml_metadata writes is not beside the adapter's store (which refuses to start
#: empty next to an MLMD database of data).
_TEMP_DIR: list[Path] = [Path(tempfile.gettempdir())]


def _tensorflow() -> types.ModuleType:
    """``tensorflow`` with ``tf.test.TestCase`` and ``tf.test.main`` only."""
    from absl.testing import absltest
    from google.protobuf import descriptor_pool, text_format

    class TestCase(absltest.TestCase):  # type: ignore[misc]
        def get_temp_dir(self) -> str:
            return str(_TEMP_DIR[0])

        def assertProtoEquals(
            self,
            expected: Any,
            message: Any,
            msg: str | None = None,
            relative_tolerance: float | None = None,
        ) -> None:
            """As tf.test: text is parsed as the message's type; protos compared as protos."""
            if isinstance(expected, str | bytes):
                parsed = type(message)()
                text_format.Merge(expected, parsed, descriptor_pool=descriptor_pool.Default())
                expected = parsed
            elif not isinstance(expected, type(message)):
                raise AssertionError(
                    f"Can't compare protos of type {type(expected)} and {type(message)}."
                )
            if expected != message:
                self.assertMultiLineEqual(
                    text_format.MessageToString(expected),
                    text_format.MessageToString(message),
                    msg,
                )

    tf = types.ModuleType("tensorflow")
    tf.test = types.ModuleType("tensorflow.test")  # type: ignore[attr-defined]
    tf.test.TestCase = TestCase  # type: ignore[attr-defined]
    tf.test.main = absltest.main  # type: ignore[attr-defined]
    return tf


def _load(tfx_dir: Path) -> dict[str, type[unittest.TestCase]]:
    """Import TFX's test modules (stand-ins in place); their test classes by dotted name."""
    if str(tfx_dir) not in sys.path:
        sys.path.append(str(tfx_dir))
    from absl import flags

    if not flags.FLAGS.is_parsed():  # absltest's create_tempdir reads --test_tmpdir
        flags.FLAGS(sys.argv[:1], known_only=True)
    _protobuf_runtime_version()
    sys.modules.setdefault("tfx.extensions", types.ModuleType("tfx.extensions"))
    # TFX's file I/O takes tf.io.gfile when tensorflow imports: loaded without it first.
    sys.modules["tensorflow"] = None  # type: ignore[assignment]
    try:
        importlib.import_module("tfx.dsl.io.fileio")
    finally:
        del sys.modules["tensorflow"]
    sys.modules["tensorflow"] = _tensorflow()
    try:
        classes: dict[str, type[unittest.TestCase]] = {}
        for name in MODULES:
            module = importlib.import_module(name)
            for attr, value in vars(module).items():
                if (
                    isinstance(value, type)
                    and issubclass(value, unittest.TestCase)
                    and value.__module__ == name
                ):
                    classes[f"{name}.{attr}"] = value
        return classes
    finally:
        del sys.modules["tensorflow"]  # the test classes hold what they need of it


def _tests() -> tuple[dict[str, type[unittest.TestCase]], list[str], str | None]:
    """The TFX test classes, every test id ("module.Class.method"), or why there are none."""
    value = os.environ.get(ENV)
    if not value:
        return {}, [], f"{ENV} is not set: TFX's MLMD tests are not run (see this module's doc)"
    tfx_dir = Path(value)
    if not (tfx_dir / "tfx" / "orchestration" / "portable" / "mlmd").is_dir():
        return {}, [], f"{ENV}={value} holds no unpacked ml-pipelines-sdk (tfx/orchestration/...)"
    classes = _load(tfx_dir)
    loader = unittest.TestLoader()
    ids = [f"{c}.{m}" for c, cls in classes.items() for m in loader.getTestCaseNames(cls)]
    return classes, ids, None


CLASSES, TEST_IDS, SKIP = _tests()


@contextlib.contextmanager
def _adapter() -> Iterator[None]:
    """``ml_metadata.MetadataStore`` (what TFX calls) is the adapter within the block."""
    from ml_metadata import metadata_store as package

    saved = ml_metadata.MetadataStore, package.MetadataStore
    ml_metadata.MetadataStore = package.MetadataStore = MetadataStore
    try:
        yield
    finally:
        ml_metadata.MetadataStore, package.MetadataStore = saved


def _run(test_id: str, temp_dir: Path) -> unittest.TestResult:
    class_name, method = test_id.rsplit(".", 1)
    temp_dir.mkdir()
    _TEMP_DIR[0] = temp_dir
    result = unittest.TestResult()
    unittest.TestSuite([CLASSES[class_name](method)]).run(result)
    gc.collect()  # the stores TFX dropped (MLMD has no close): their servers stop
    return result


def _problems(result: unittest.TestResult) -> list[str]:
    return [f"{test}: {trace}" for test, trace in (*result.errors, *result.failures)] + [
        f"{test}: unexpected success" for test in result.unexpectedSuccesses
    ]


def _error_line(problem: str) -> str:
    """The exception line of a traceback (its last line that is not blank)."""
    return next((line for line in reversed(problem.splitlines()) if line.strip()), problem)


@pytest.mark.skipif(SKIP is not None, reason=SKIP or "")
@pytest.mark.parametrize("test_id", TEST_IDS or ["none"])
def test_tfx_passes_on_the_adapter_where_it_passes_on_ml_metadata(
    test_id: str, tmp_path: Path
) -> None:
    on_mlmd = _run(test_id, tmp_path / "ml_metadata")
    if _problems(on_mlmd):
        pytest.skip(f"fails on ml_metadata 1.17.1 too: {_error_line(_problems(on_mlmd)[0])}")
    if on_mlmd.skipped:
        pytest.skip(f"skipped by TFX: {on_mlmd.skipped[0][1]}")
    with _adapter():
        on_adapter = _run(test_id, tmp_path / "adapter")
    problems = _problems(on_adapter)
    if test_id in KNOWN:
        assert problems, f"{test_id} passes on the adapter now: drop it from KNOWN"
        pytest.xfail(KNOWN[test_id])
    assert not problems, "\n\n".join(problems)
