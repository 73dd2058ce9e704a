"""How the command line reads what names stored things: a ``Type/name`` with several ``/``
reads each kind's type list once; ``show`` and ``ls --context`` read a versioned ``Type/name``
alike (the unversioned type's first, as MLMD's ``get_context_by_type_and_name``); bytes that
are no UTF-8 in a reference or a text option are a bad command line (exit 2); ``ls --name``
and ``--uri`` ignore case alike."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage_graph import LineageStore
from lineage_graph.cli._refs import resolve
from lineage_graph.exceptions import NotFoundError
from lineage_graph.models import (
    Artifact,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    ExecutionType,
)

from ..conftest import reads_of
from .conftest import invoke


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LineageStore]:
    with LineageStore.open(tmp_path / "store") as opened:
        yield opened


def _type_list_reads(reads: list[str]) -> Counter[str]:
    return Counter(r for r in reads if r.startswith("types/get_") and r.endswith("_types"))


def test_a_reference_with_many_slashes_reads_each_type_list_once(store: LineageStore) -> None:
    store.put_type(ArtifactType(name="Data"))
    store.put_type(ArtifactType(name="Data/Set"))
    store.put_type(ArtifactType(name="Model", version="v1"))
    store.put_type(ArtifactType(name="Model", version="v2"))
    store.put_type(ExecutionType(name="Trainer"))
    ids = store.put_artifacts(
        [
            Artifact(type="Data", name="my/dataset/uri", uri="u1"),
            Artifact(type="Data/Set", name="x/y", uri="u2"),
            Artifact(type="Model", type_version="v1", name="a/b/c", uri="u3"),
        ]
    )
    found = {
        "Data/my/dataset/uri": ids[0],
        "Data/Set/x/y": ids[1],
        "Model/a/b/c": ids[2],
        "a:Model/a/b/c": ids[2],
    }
    for ref, ident in found.items():
        with reads_of(store) as reads:
            assert resolve(store, ref).id == ident, ref
        lists = _type_list_reads(reads)
        assert set(lists.values()) <= {1}, (ref, reads)
    missed = {
        "artifact/my/dataset/uri": "this store has no artifact type 'artifact'",
        "Nope/a/b/c/d/e": "this store has no artifact type 'Nope'",
        "Data/Set/nope/q/r": "no artifact of type 'Data/Set' named 'nope/q/r'",
        "Trainer/a/b/c": "'Trainer' is an execution type (e:Trainer/a/b/c)",
    }
    for ref, said in missed.items():
        with reads_of(store) as reads, pytest.raises(NotFoundError) as caught:
            resolve(store, ref)
        assert said in str(caught.value), ref
        lists = _type_list_reads(reads)
        assert set(lists.values()) <= {1}, (ref, reads)


def _versioned_contexts(store: LineageStore) -> tuple[list[int], list[int]]:
    store.put_type(ContextType(name="Exp"))
    store.put_type(ContextType(name="Exp", version="v1"))
    store.put_type(ContextType(name="Exp", version="v2"))
    store.put_type(ArtifactType(name="Data"))
    artifacts = store.put_artifacts([Artifact(type="Data", uri=f"/d/{i}") for i in range(3)])
    contexts = store.put_contexts(
        [
            Context(type="Exp", name="e1"),
            Context(type="Exp", type_version="v1", name="e1"),
            Context(type="Exp", type_version="v1", name="e2"),
            Context(type="Exp", type_version="v2", name="e2"),
            Context(type="Exp", type_version="v2", name="e3"),
        ]
    )
    store.put_attributions_and_associations(
        [
            Attribution(artifact_id=artifacts[0], context_id=contexts[0]),
            Attribution(artifact_id=artifacts[1], context_id=contexts[1]),
            Attribution(artifact_id=artifacts[2], context_id=contexts[4]),
        ],
        [],
    )
    return artifacts, contexts


def test_show_and_ls_context_read_a_versioned_type_and_name_alike(
    store: LineageStore, tmp_path: Path
) -> None:
    """``Exp/e1`` of an unversioned ``Exp`` and of ``Exp`` v1: ``show`` gave the unversioned
    type's (as MLMD does), ``ls --context`` refused it as naming two contexts (exit 2)."""
    artifacts, contexts = _versioned_contexts(store)
    path = str(tmp_path / "store")

    def shown(ref: str) -> tuple[int, int | None]:
        result = invoke(["show", ref, "--json", "--store", path])
        return result.exit_code, json.loads(result.stdout)["id"] if result.exit_code == 0 else None

    def listed(ref: str) -> tuple[int, list[int] | None]:
        result = invoke(["ls", "--context", ref, "--json", "--store", path])
        if result.exit_code != 0:
            return result.exit_code, None
        return 0, [a["id"] for a in json.loads(result.stdout)]

    # the unversioned type's, for both, as MLMD's get_context_by_type_and_name (no version)
    assert shown("c:Exp/e1") == (0, contexts[0])
    assert listed("Exp/e1") == (0, [artifacts[0]])
    assert listed("c:Exp/e1") == (0, [artifacts[0]])
    # a name only one version has: that version's, for both
    assert shown("c:Exp/e3") == (0, contexts[4])
    assert listed("Exp/e3") == (0, [artifacts[2]])
    # a name two versions have (no unversioned one): refused by both
    assert shown("c:Exp/e2")[0] == 2
    assert listed("Exp/e2")[0] == 2
    refused = invoke(["ls", "--context", "Exp/e2", "--store", path])
    said = " ".join(refused.stderr.split())
    assert f"c:{contexts[2]} (Exp/e2, version 'v1')" in said, said
    assert f"c:{contexts[3]} (Exp/e2, version 'v2')" in said, said


def test_ls_context_reads_a_kind_prefix_as_show_does(store: LineageStore, tmp_path: Path) -> None:
    """``c:Exp/e1`` is Exp's ``e1`` for ``show``; ``ls --context`` listed the members of a
    context literally named ``c:Exp/e1`` instead, when there was one. Such a name is given as
    its ``Type/name`` (or ``c:ID``)."""
    store.put_type(ContextType(name="Exp"))
    store.put_type(ContextType(name="Other"))
    store.put_type(ArtifactType(name="Data"))
    artifacts = store.put_artifacts([Artifact(type="Data", uri=f"/d/{i}") for i in range(2)])
    contexts = store.put_contexts(
        [Context(type="Exp", name="e1"), Context(type="Other", name="c:Exp/e1")]
    )
    store.put_attributions_and_associations(
        [
            Attribution(artifact_id=artifacts[0], context_id=contexts[0]),
            Attribution(artifact_id=artifacts[1], context_id=contexts[1]),
        ],
        [],
    )
    path = str(tmp_path / "store")

    def listed(ref: str) -> list[int]:
        result = invoke(["ls", "--context", ref, "--json", "--store", path])
        assert result.exit_code == 0, result.output
        return [a["id"] for a in json.loads(result.stdout)]

    shown = invoke(["show", "c:Exp/e1", "--json", "--store", path])
    assert json.loads(shown.stdout)["id"] == contexts[0]
    for ref in ("c:Exp/e1", "context:Exp/e1", "C:Exp/e1", "Exp/e1", f"c:{contexts[0]}"):
        assert listed(ref) == [artifacts[0]], ref
    for ref in ("Other/c:Exp/e1", f"c:{contexts[1]}"):
        assert listed(ref) == [artifacts[1]], ref
    # a type whose own name begins with 'c:': named with the prefix, as 'show' names it
    store.put_type(ContextType(name="c:Run"))
    [run] = store.put_contexts([Context(type="c:Run", name="r1")])
    store.put_attributions_and_associations(
        [Attribution(artifact_id=artifacts[1], context_id=run)], []
    )
    assert json.loads(invoke(["show", "c:c:Run/r1", "--json", "--store", path]).stdout)["id"] == run
    assert listed("c:c:Run/r1") == [artifacts[1]]
    assert invoke(["ls", "--context", "c:Run/r1", "--store", path]).exit_code == 3


@pytest.mark.parametrize(
    "args",
    [
        ["show", "Data/\udcff"],
        ["show", "\udcff"],
        ["show", "e:T/caf\udce9"],
        ["upstream", "Data/x\udcff/y"],
        ["ls", "--context", "Exp/\udcff"],
        ["ls", "--context", "\udcff"],
        ["ls", "--type", "\udcff"],
        ["ls", "--name", "caf\udce9"],
        ["ls", "--uri", "\udcff"],
        ["cached", "\udcff", "-i", "1"],
        ["cached", "T", "-i", "1", "-p", "\udcff=1"],
        ["cached", "T", "-i", "1", "--type-version", "\udcff"],
        ["upstream", "1", "--where", "a=\udcff"],
        ["upstream", "1", "--type", "\udcff"],
        ["impact", "1", "--mark", "q=\udcff"],
        ["undo-mark", "\udcff"],
    ],
    ids=lambda args: " ".join(a.encode("utf-8", "surrogateescape").hex() for a in args),
)
def test_bytes_that_are_no_utf8_are_a_bad_command_line(
    store: LineageStore, tmp_path: Path, args: list[str]
) -> None:
    """Python reads such bytes of ``argv`` as lone surrogates: the store refused them as an
    invalid argument (exit 5, "surrogates not allowed"), or a lookup found nothing (exit 3), or
    a filter listed nothing (exit 0)."""
    store.put_type(ArtifactType(name="Data"))
    store.put_type(ExecutionType(name="T"))
    store.put_type(ContextType(name="Exp"))
    store.put_artifacts([Artifact(type="Data", name="d", uri="/d")])
    for json_flag in ([], ["--json"]):
        result = invoke([*args, *json_flag, "--store", str(tmp_path / "store")])
        assert result.exit_code == 2, result.output
        assert "not UTF-8" in result.stderr and "\\udc" not in result.stderr, result.stderr
        assert result.stdout == ""


def test_ls_name_and_uri_ignore_case_alike(store: LineageStore, tmp_path: Path) -> None:
    store.put_type(ArtifactType(name="Data"))
    ids = store.put_artifacts(
        [
            Artifact(type="Data", name="Churn", uri="s3://bucket/Churn.csv"),
            Artifact(type="Data", name="other", uri="s3://bucket/other.csv"),
            Artifact(type="Data", name="Cafe\u0301", uri="/data/Cafe\u0301.csv"),
        ]
    )

    def listed(*filters: str) -> list[int]:
        result = invoke(["ls", *filters, "--json", "--store", str(tmp_path / "store")])
        assert result.exit_code == 0, result.output
        return [a["id"] for a in json.loads(result.stdout)]

    for text in ("churn", "CHURN", "Churn"):
        assert listed("--name", text) == [ids[0]]
        assert listed("--uri", text) == [ids[0]]
    assert listed("--uri", "S3://BUCKET/churn") == [ids[0]]
    assert listed("--name", "café") == [ids[2]] == listed("--uri", "CAFÉ")


def test_ls_name_and_uri_fold_as_the_viewer_search(store: LineageStore, tmp_path: Path) -> None:
    """docs/cli.md: ``--name`` / ``--uri`` ignore case and accents "as the viewer's search",
    which lower-cases (viewer.js ``fold``); ``casefold()`` expanded ``ß`` to ``ss`` and
    ``ﬁ`` to ``fi``: ``--uri ss`` listed ``s3://b/Straße.csv``, which the viewer's search for
    ``ss`` does not find."""
    store.put_type(ArtifactType(name="Data"))
    ids = store.put_artifacts(
        [
            Artifact(type="Data", name="Straße", uri="s3://b/Straße.csv"),
            Artifact(type="Data", name="ﬁle", uri="s3://b/ﬁle.csv"),
            Artifact(type="Data", name="İstanbul", uri="s3://b/İSTANBUL.csv"),
        ]
    )

    def listed(*filters: str) -> list[int]:
        result = invoke(["ls", *filters, "--json", "--store", str(tmp_path / "store")])
        assert result.exit_code == 0, result.output
        return [a["id"] for a in json.loads(result.stdout)]

    assert listed("--uri", "ss") == [] == listed("--name", "strasse")
    assert listed("--uri", "file") == [] == listed("--name", "FILE")
    assert listed("--uri", "STRAẞE") == [ids[0]] == listed("--name", "straße")
    assert listed("--uri", "ﬁ") == [ids[1]]
    assert listed("--uri", "istanbul") == [ids[2]] == listed("--name", "ISTANBUL")


def test_ls_context_finds_a_bare_name_without_reading_every_context(
    store: LineageStore,
) -> None:
    """``ls --context e1`` read every context of the store (``contexts/list``, a page per
    1,000) to find the ones named ``e1``; now one read of the name index."""
    from lineage_graph.cli._inspect import _one_context

    store.put_type(ContextType(name="Run"))
    store.put_type(ContextType(name="Exp"))
    store.put_type(ContextType(name="Exp", version="v1"))
    ids = store.put_contexts(
        [Context(type="Run", name=f"r{i}") for i in range(1500)]
        + [Context(type="Exp", name="e1"), Context(type="Exp", type_version="v1", name="a/b")]
    )
    for ref, ident in (("e1", ids[-2]), ("Exp/e1", ids[-2]), ("r7", ids[7]), ("a/b", ids[-1])):
        with reads_of(store) as reads:
            assert _one_context(store, ref).id == ident
        assert not [r for r in reads if r.endswith("/list")], (ref, reads)


def test_ls_context_reads_a_bare_name_in_reads_that_do_not_grow_with_context_types(
    store: LineageStore, tmp_path: Path
) -> None:
    """``ls --context NAME`` read the context of NAME of each context type: two reads per type
    (the type, then the context), 1,010 statements with 500 context types where listing every
    context took 22; now one read of the name index, whatever the number of types."""
    from lineage_graph.cli._inspect import _one_context

    types = 40
    for i in range(types):
        store.put_type(ContextType(name=f"T{i}"))
    store.put_type(ContextType(name="T7", version="v1"))
    ids = store.put_contexts(
        [Context(type=f"T{i}", name=f"c{i}") for i in range(types)]
        + [Context(type="T7", type_version="v1", name="target"), Context(type="T3", name="two")]
        + [Context(type="T9", name="two")]
    )
    with reads_of(store) as reads:
        assert _one_context(store, "target").id == ids[types]
    assert len(reads) < types, reads
    missed = invoke(["ls", "--context", "nope", "--store", str(tmp_path / "store")])
    assert missed.exit_code == 3, missed.output
    listed = invoke(["ls", "--context", "two", "--store", str(tmp_path / "store")])
    assert listed.exit_code == 2, listed.output
    assert f"c:{ids[types + 1]} (T3/two), c:{ids[types + 2]} (T9/two)" in listed.stderr


@pytest.mark.parametrize(
    "args", [["--name", "\u0301"], ["--uri", "\u0301\u0308"], ["types", "--name", "\u0301"]]
)
def test_ls_name_or_uri_of_accents_only_is_exit_2(
    store: LineageStore, tmp_path: Path, args: list[str]
) -> None:
    """Accents are dropped before comparing: a ``--name`` of a combining accent alone was ""
    after folding and listed every artifact (exit 0), where ``--name ''`` is refused."""
    store.put_type(ArtifactType(name="Data"))
    store.put_artifacts([Artifact(type="Data", name=f"d{i}", uri=f"/d{i}") for i in range(3)])
    result = invoke(["ls", *args, "--json", "--store", str(tmp_path / "store")])
    assert result.exit_code == 2, result.output
    assert "combining accents only" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("ref", ["\ud800", "caf\udce9\ud800"])
def test_a_lone_surrogate_of_another_range_is_refused_as_the_bytes_are(
    store: LineageStore, tmp_path: Path, ref: str
) -> None:
    """A reference given in-process (``main([...])``) may hold a surrogate no command line
    makes (U+D800): it is refused as bytes that are no UTF-8 are (exit 2), its bytes of the
    command line as typed; quoting it for the refusal raised UnicodeEncodeError."""
    store.put_type(ArtifactType(name="Data"))
    result = invoke(["show", f"Data/{ref}", "--store", str(tmp_path / "store")])
    assert result.exit_code == 2, result.output
    assert "not UTF-8" in result.stderr and "\\udce9" not in result.stderr, result.stderr
