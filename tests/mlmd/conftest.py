"""Differential harness: the same calls on real ml_metadata (in-memory) and on our adapter.

``both`` runs each call on ``ml_metadata.metadata_store.MetadataStore`` (fake database) and on
``lineage_graph.mlmd.MetadataStore`` over a fresh embedded store, and compares the results
(protos with the store-set times cleared: they legitimately differ; ids must be equal) or the
raised ``ml_metadata.errors`` class.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("ml_metadata")

from google.protobuf import json_format
from google.protobuf import message as _message
from ml_metadata import errors
from ml_metadata.metadata_store import metadata_store as mlmd
from ml_metadata.proto import metadata_store_pb2 as pb

from lineage_graph import LineageStore
from lineage_graph.mlmd import MetadataStore

_TIME_FIELDS = (
    "create_time_since_epoch",
    "last_update_time_since_epoch",
    "milliseconds_since_epoch",
)


def public_methods(cls: type) -> list[str]:
    return sorted(n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n)))


#: The 49 public methods of ml_metadata's MetadataStore 1.17.1.
MLMD_METHODS = public_methods(mlmd.MetadataStore)


def real_mlmd(sqlite_file: str | None = None) -> Any:
    """ml_metadata on its in-memory database, or on the SQLite file ``sqlite_file`` (which a
    test may then edit, as ``Both.set_times`` does)."""
    if sqlite_file is None:
        return mlmd.MetadataStore(pb.ConnectionConfig(fake_database=pb.FakeDatabaseConfig()))
    source = pb.SqliteMetadataSourceConfig(
        filename_uri=sqlite_file,
        connection_mode=pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE,
    )
    return mlmd.MetadataStore(pb.ConnectionConfig(sqlite=source))


def normalise(value: Any, *, clear: tuple[str, ...] = ()) -> Any:
    """A comparable form: protos as dicts of their set fields (map order ignored) with the times
    (and ``clear``) removed."""
    if isinstance(value, _message.Message):
        copy = type(value)()
        copy.CopyFrom(value)
        _clear(copy, _TIME_FIELDS + clear)
        return (
            type(value).__name__,
            json_format.MessageToDict(copy, preserving_proto_field_name=True),
        )
    if isinstance(value, list | tuple):
        return type(value)(normalise(v, clear=clear) for v in value)
    return value


def _clear(msg: Any, fields: tuple[str, ...]) -> None:
    for field in fields:
        if field in msg.DESCRIPTOR.fields_by_name and msg.HasField(field):
            msg.ClearField(field)
    for fd in msg.DESCRIPTOR.fields:
        if fd.message_type is None or fd.message_type.GetOptions().map_entry:
            continue
        if fd.label == fd.LABEL_REPEATED:
            for sub in getattr(msg, fd.name):
                _clear(sub, fields)
        elif msg.HasField(fd.name):
            _clear(getattr(msg, fd.name), fields)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str)


class Both:
    """Run calls on both stores; ``called`` records which methods a test exercised."""

    def __init__(self, ref: Any, ours: MetadataStore, sqlite_file: str | None = None) -> None:
        self.ref = ref
        self.ours = ours
        self.called: set[str] = set()
        self.sqlite_file = sqlite_file  # where ``ref`` keeps its tables, if in a file

    def set_times(self, kind: str, times: dict[int, tuple[int, int]]) -> None:
        """Give the nodes of ``kind`` ("Artifact", "Execution", "Context") the same
        ``(create, last update)`` times on both stores: each store's clock stamps its own
        writes, so listings by a time can only be compared once the times are equal. On
        ml_metadata (a SQLite-file pair only) its table is edited; here the graph, as the MLMD
        importer writes MLMD's times as they are."""
        assert kind in ("Artifact", "Execution", "Context") and self.sqlite_file is not None
        rows = [(c, u, i) for i, (c, u) in times.items()]
        with contextlib.closing(sqlite3.connect(self.sqlite_file)) as db, db:
            db.executemany(
                f"UPDATE {kind} SET create_time_since_epoch = ?, "
                "last_update_time_since_epoch = ? WHERE id = ?",
                rows,
            )
        self.ours.lineage_store.backend.write(
            f"UNWIND $rows AS r MATCH (n:{kind}) WHERE n.id = r.id "
            "SET n.create_time_since_epoch = r.c, n.last_update_time_since_epoch = r.u",
            {"rows": [{"id": i, "c": c, "u": u} for c, u, i in rows]},
            name="test/set_times",
        )

    def call(
        self,
        method: str,
        *args: Any,
        clear: tuple[str, ...] = (),
        unordered: bool = False,
        unordered_fields: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> Any:
        """The same call on both; results must be equal (after ``normalise``, in any order if
        ``unordered``); returns ours."""
        self.called.add(method)
        expected = getattr(self.ref, method)(*args, **kwargs)
        got = getattr(self.ours, method)(*args, **kwargs)
        want, have = normalise(expected, clear=clear), normalise(got, clear=clear)
        if unordered:
            want, have = sorted(want, key=repr), sorted(have, key=repr)
        for field in unordered_fields:  # repeated fields of a single proto result
            for side in (want, have):
                side[1][field] = sorted(side[1].get(field, []), key=repr)
        if have != want:
            diff = difflib.unified_diff(
                _pretty(want).splitlines(), _pretty(have).splitlines(), "ml_metadata", "ours", n=2
            )
            raise AssertionError(f"{method}{args}: ours differs\n" + "\n".join(diff))
        return got

    def replay(
        self,
        op: tuple[str, tuple[Any, ...], dict[str, Any]],
        alike: tuple[tuple[type[Exception], type[Exception]], ...] = (),
    ) -> None:
        """One write on both stores: the same result or the same error class (or a pair of
        ``alike``: ml_metadata's class, ours, for a documented difference)."""
        method, args, kwargs = op
        ref_error: Exception | None = None
        try:
            expected = getattr(self.ref, method)(*args, **kwargs)
        except errors.StatusError as exc:
            ref_error = exc
        try:
            got = getattr(self.ours, method)(*args, **kwargs)
        except errors.StatusError as exc:
            assert ref_error is not None, f"{method}{args}: only ours failed: {exc!r}"
            if any(isinstance(ref_error, r) and isinstance(exc, o) for r, o in alike):
                return
            assert type(exc) is type(ref_error), f"{method}{args}: {ref_error!r} vs ours {exc!r}"
            return
        assert ref_error is None, f"{method}{args}: ml_metadata failed ({ref_error!r}), ours not"
        assert got == expected, f"{method}{args}"

    def fails(self, method: str, *args: Any, **kwargs: Any) -> type[Exception]:
        """The same call fails on both with the same ml_metadata error class."""
        self.called.add(method)
        with pytest.raises(errors.StatusError) as ref_exc:
            getattr(self.ref, method)(*args, **kwargs)
        with pytest.raises(errors.StatusError) as our_exc:
            getattr(self.ours, method)(*args, **kwargs)
        assert type(our_exc.value) is type(ref_exc.value), (
            f"{method}: ml_metadata raised {type(ref_exc.value).__name__}: {ref_exc.value}; "
            f"we raised {type(our_exc.value).__name__}: {our_exc.value}"
        )
        return type(our_exc.value)


@pytest.fixture
def ours(store: LineageStore) -> MetadataStore:
    return MetadataStore(store)


@pytest.fixture
def both(ours: MetadataStore) -> Iterator[Both]:
    yield Both(real_mlmd(), ours)


@pytest.fixture
def make_both(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Both]]:
    """A factory of fresh pairs (a new graph on the session's embedded server each time), for
    hypothesis tests that need an empty pair per example; ``make(sqlite=True)`` keeps
    ml_metadata's tables in a new SQLite file (for ``Both.set_times``)."""
    from lineage_graph.backends import open_backend
    from lineage_graph.backends.embedded import EmbeddedBackend

    from ..conftest import RecordingBackend

    server: EmbeddedBackend = request.getfixturevalue("falkordb_server")
    assert server.server is not None
    opened: list[EmbeddedBackend] = []

    def make(*, sqlite: bool = False) -> Both:
        pair = next(_pairs)
        inner = open_backend(f"unix://{server.server.socket_path}", graph=f"mlmd_pair{pair}")
        assert isinstance(inner, EmbeddedBackend)
        opened.append(inner)
        file = str(tmp_path_factory.mktemp("mlmd") / f"pair{pair}.db") if sqlite else None
        ours = MetadataStore(LineageStore(RecordingBackend(inner)))
        return Both(real_mlmd(file), ours, file)

    yield make
    for backend in opened:
        backend.drop_graph()
        backend.close()


_pairs = itertools.count()
