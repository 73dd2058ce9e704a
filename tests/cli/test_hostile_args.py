"""A NAME=VALUE option whose VALUE is JSON nested deeper than Python's recursion limit is a
usage error (exit 2), not a RecursionError traceback (exit 1)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lineage_graph import (
    Artifact,
    ArtifactType,
    Attribution,
    Context,
    ContextType,
    Execution,
    ExecutionType,
    LineageStore,
)

from .conftest import cli_process, invoke

DEEP = "[" * 100_000
DEEP_OBJECT = '{"a":' * 100_000


@pytest.mark.parametrize("value", [DEEP, DEEP_OBJECT], ids=["list", "object"])
@pytest.mark.parametrize(
    "command", [["upstream", "1", "--where"], ["cached", "Trainer", "-p"]], ids=["where", "cached"]
)
def test_a_value_nested_too_deep_is_a_usage_error(
    tmp_path: Path, command: list[str], value: str
) -> None:
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifact(Artifact(type="D", uri="/a"))
        result = invoke([*command, f"k={value}", "--store", str(path)])
    assert result.exit_code == 2, result.output[-500:]
    assert "nested too deep" in result.output


@pytest.mark.parametrize("ref", ["²", "e:³", "①"])
@pytest.mark.parametrize("command", [["show"], ["upstream"], ["cached", "T", "-i"]], ids=" ".join)
def test_a_digit_that_is_no_number_is_a_usage_error(
    tmp_path: Path, command: list[str], ref: str
) -> None:
    """``str.isdigit`` takes ``²``: the reference was read as an id and ``int('²')`` ended the
    command with a ValueError traceback (exit 1)."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifact(Artifact(type="D", uri="/a"))
        result = invoke([*command, ref, "--store", str(path)])
    assert result.exit_code == 2, result.output[-500:]
    assert "cannot read" in result.output


@pytest.mark.parametrize("value", ["²", "-²", "--5"])
def test_an_as_of_that_only_looks_like_a_number_is_a_usage_error(
    tmp_path: Path, value: str
) -> None:
    """``--as-of`` took what ``lstrip('-').isdigit()`` accepts for milliseconds, and int() then
    refused it with a ValueError traceback (exit 1)."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifact(Artifact(type="D", uri="/a"))
        result = invoke(["upstream", "1", f"--as-of={value}", "--store", str(path)])
    assert result.exit_code == 2, result.output[-500:]
    assert "--as-of wants" in result.output


@pytest.mark.parametrize(
    "command", [["export"], ["export", "-f", "mermaid"], ["view", "--no-open"]], ids=" ".join
)
def test_a_whole_store_limit_past_any_count_cuts_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    """``export -n 99999999999999999999`` (the whole store) ended with an "unexpected error"
    ValueError traceback, exit 70: ``itertools.islice`` takes no stop past ``sys.maxsize``. A
    limit past any count is no cut: the whole store, complete."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_artifacts([Artifact(type="D", uri=f"/{i}") for i in range(3)])
        out = tmp_path / "out"
        result = invoke(
            [*command, "-n", "99999999999999999999", "-o", str(out), "--store", str(path)]
        )
    assert result.exit_code == 0, result.output[-1500:]
    text = out.read_text(encoding="utf-8")
    if command == ["export"]:
        graph = json.loads(text)
        assert graph["complete"] is True and len(graph["artifacts"]) == 3
    else:
        assert "/2" in text


def test_a_name_holding_a_scheme_separator_is_named_by_type_and_name(tmp_path: Path) -> None:
    """``show Model/hf://bert`` (a model named for where it came from) was looked up as a uri
    only, "no artifact with uri", even as ``a:Model/hf://bert``: such an entity could be named
    by id only. A uri found still wins; text that begins with a scheme or a path is a uri."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Model"))
        named = store.put_artifact(Artifact(type="Model", name="hf://bert", uri="/m/1"))
        by_uri = store.put_artifact(Artifact(type="Model", name="m2", uri="Model/hf://x"))
        store.put_execution_type(ExecutionType(name="Trainer"))
        run = store.put_execution_node(Execution(type="Trainer", name="run://1"))

        def shown(ref: str) -> int:
            result = invoke(["show", ref, "--json", "--store", str(path)])
            assert result.exit_code == 0, result.output
            return int(json.loads(result.stdout)["id"])

        assert shown("Model/hf://bert") == named
        assert shown("a:Model/hf://bert") == named
        assert shown("e:Trainer/run://1") == run
        assert shown("Model/hf://x") == by_uri  # a stored uri still wins
        missing = invoke(["show", "Model/hf://nope", "--store", str(path)])
        assert missing.exit_code == 3
        assert "no artifact of type 'Model' named 'hf://nope'" in missing.stderr
        uri = invoke(["show", "hf://nope", "--store", str(path)])
        assert uri.exit_code == 3 and "no artifact with uri 'hf://nope'" in uri.stderr


def test_a_type_name_holding_a_colon_names_an_entity_whose_name_holds_a_scheme(
    tmp_path: Path,
) -> None:
    """``ns:Model/x`` named the ``ns:Model`` artifact ``x``, but ``ns:Model/hf://bert`` was "no
    artifact with uri" (``ns:`` read as a uri's scheme). A kind before a uri
    (``a:s3://b/x``) said "no artifact of type 's3:' named '/b/x'"; a uri whose scheme is
    followed by another (``jar:file:///x``) is still said as a uri not found."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="ns:Model"))
        plain = store.put_artifact(Artifact(type="ns:Model", name="x", uri="/m/1"))
        named = store.put_artifact(Artifact(type="ns:Model", name="hf://bert", uri="/m/2"))

        def shown(ref: str) -> int:
            result = invoke(["show", ref, "--json", "--store", str(path)])
            assert result.exit_code == 0, result.output
            return int(json.loads(result.stdout)["id"])

        assert shown("ns:Model/x") == plain
        assert shown("ns:Model/hf://bert") == named
        assert shown("a:ns:Model/hf://bert") == named
        for ref in ("a:s3://b/x", "jar:file:///x.jar!/y", "ns:Model/hf://nope"):
            missing = invoke(["show", ref, "--store", str(path)])
            assert missing.exit_code == 3, missing.output
            assert f"no artifact with uri {ref!r}" in missing.stderr


def test_a_type_name_holding_a_slash_names_its_entities_by_type_and_name(
    tmp_path: Path,
) -> None:
    """``Type/name`` was split at its first ``/`` only: the ``x`` of a type ``Data/Set`` (MLMD
    allows any type name) could be named by id only — ``show Data/Set/x``, ``e:Tr/ainer/n``,
    ``ls --context p/q/r`` said there was no type ``Data`` (``Tr``) or no such context. Each
    split whose type exists is tried; one that two splits find is refused (exit 2) naming
    both, where the first ``/`` silently won."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data/Set"))
        store.put_artifact_type(ArtifactType(name="Data"))
        store.put_execution_type(ExecutionType(name="Tr/ainer"))
        store.put_context_type(ContextType(name="p/q"))
        only = store.put_artifact(Artifact(type="Data/Set", name="only"))
        deep = store.put_artifact(Artifact(type="Data", name="Set/deep"))
        twin_a = store.put_artifact(Artifact(type="Data/Set", name="x"))
        twin_b = store.put_artifact(Artifact(type="Data", name="Set/x"))
        run = store.put_execution_node(Execution(type="Tr/ainer", name="n"))
        ctx = store.put_context(Context(type="p/q", name="r"))
        store.put_attributions_and_associations([Attribution(artifact_id=only, context_id=ctx)], [])

        def shown(ref: str) -> int:
            result = invoke(["show", ref, "--json", "--store", str(path)])
            assert result.exit_code == 0, result.output
            return int(json.loads(result.stdout)["id"])

        assert shown("Data/Set/only") == only
        assert shown("a:Data/Set/only") == only
        assert shown("Data/Set/deep") == deep  # a name holding '/' as before
        assert shown("e:Tr/ainer/n") == run
        listed = invoke(["ls", "--context", "p/q/r", "--json", "--store", str(path)])
        assert listed.exit_code == 0, listed.output
        assert [a["id"] for a in json.loads(listed.stdout)] == [only]
        both = invoke(["show", "Data/Set/x", "--store", str(path)])
        assert both.exit_code == 2, both.output
        message = " ".join(both.stderr.split())
        assert f"artifact:{twin_b}" in message and f"artifact:{twin_a}" in message, message
        missing = invoke(["show", "Data/Set/nope", "--store", str(path)])
        assert missing.exit_code == 3, missing.output
        assert "no artifact of type 'Data/Set' named 'nope'" in " ".join(missing.stderr.split())


def test_arguments_typed_in_a_c_locale_name_stored_text(tmp_path: Path) -> None:
    """In a C locale without Python's UTF-8 mode the UTF-8 bytes of ``Modèle`` reach Python as
    escapes (``Mod\\udcc3\\udca8le``) that no stored text equals: ``show Modèle/données`` and
    ``cached Modèle`` were exit 5 ("text must be valid Unicode"), ``ls -t Modèle`` said there
    was no such type, ``ls --context été`` no such context, ``--name é`` and ``--where``
    matched nothing, though every output there prints such names (escaped). Arguments are
    read as the UTF-8 they were typed in; a local path is still the file it names."""
    path = tmp_path / "store"
    data = tmp_path / "données.csv"
    data.write_text("x\n")
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Modèle"))
        store.put_execution_type(ExecutionType(name="Entraîne"))
        store.put_context_type(ContextType(name="Exp"))
        model = store.put_artifact(Artifact(type="Modèle", name="données", uri="s3://b/é"))
        local = store.put_artifact(Artifact(type="Modèle", name="f", uri=data.as_uri()))
        ctx = store.put_context(Context(type="Exp", name="été"))
        store.put_attributions_and_associations(
            [Attribution(artifact_id=model, context_id=ctx)], []
        )
    c_locale = {"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}

    def ids(*args: str) -> list[int]:
        done = cli_process([*args, "--json", "--store", str(path)], **c_locale)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        return [n["id"] for n in answer] if isinstance(answer, list) else [answer["id"]]

    assert ids("show", "Modèle/données") == [model]
    assert ids("show", "s3://b/é") == [model]
    assert ids("show", str(data)) == [local]
    assert ids("ls", "-t", "Modèle") == [model, local]
    assert ids("ls", "--context", "été") == [model]
    assert ids("ls", "--name", "é") == [model]
    walked = cli_process(
        ["upstream", "1", "--type", "Modèle", "--json", "--store", str(path)], **c_locale
    )
    assert walked.returncode == 0, walked.stderr
    assert [a["id"] for a in json.loads(walked.stdout)["artifacts"]] == [model]
    cached = cli_process(["cached", "Entraîne", "-i", "1", "--store", str(path)], **c_locale)
    assert cached.returncode == 1, cached.stderr  # a miss of a known type, said as one
    assert "no cache hit" in cached.stdout and "no execution type" not in cached.stdout


def test_a_miss_of_a_type_name_holding_a_slash_names_that_type(tmp_path: Path) -> None:
    """A ``Type/name`` that finds nothing says what is wrong with its type: ``Trainer/n`` of an
    execution type is told ``e:Trainer/n``. Of a type ``Tr/ainer`` (or ``Data/Set`` misspelt
    ``data/set``) the miss was said of the text before its first ``/`` ("no artifact type
    'Tr'", 'data'), as if no such type existed: the split whose type another kind or case has
    is the one judged."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_execution_type(ExecutionType(name="Tr/ainer"))
        store.put_artifact_type(ArtifactType(name="Data/Set"))
        store.put_execution_node(Execution(type="Tr/ainer", name="n"))
        store.put_artifact(Artifact(type="Data/Set", name="x"))

        def said(*args: str) -> str:
            result = invoke([*args, "--store", str(path)])
            assert result.exit_code == 3, result.output
            return " ".join(result.stderr.split())

        assert "'Tr/ainer' is an execution type (e:Tr/ainer/n)" in said("show", "Tr/ainer/n")
        assert "'Tr/ainer' is an execution type (e:Tr/ainer/n)" in said("show", "a:Tr/ainer/n")
        assert "'Tr/ainer' is an execution type (-i takes an artifact)" in said(
            "cached", "Tr/ainer", "-i", "Tr/ainer/n"
        )
        assert "type names are case-sensitive (Data/Set/x)" in said("show", "data/set/x")
        assert "this store has no artifact type 'No'" in said("show", "No/such/x")


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_a_local_path_whose_bytes_are_no_utf8_names_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: bool
) -> None:
    """A file named ``caf\\xe9.csv`` (Latin-1 bytes, no UTF-8) reaches Python with a lone
    surrogate, in any locale. Its path was looked up as a uri (or as ``Type/name``) first, which
    the store refused: exit 5, "text must be valid Unicode", though the artifact recorded with
    the file's ``file://`` uri is there. The path names it, as any other path; a reference no
    stored text can spell, naming no file, is an unreadable reference (exit 2, as such bytes are
    in every text argument: ``ls --context`` and ``cached TYPE`` were exit 5)."""
    path = tmp_path / "store"
    folder = tmp_path / "d"
    folder.mkdir()
    data = folder / os.fsdecode(b"caf\xe9.csv")
    data.write_text("x\n")
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="Data"))
        made = store.put_artifact(Artifact(type="Data", name="f", uri=data.as_uri()))
        ref = str(data)
        if relative:  # as a shell completes it: read as Type/name first
            monkeypatch.chdir(tmp_path)
            ref = str(data.relative_to(tmp_path))
        shown = invoke(["show", ref, "--json", "--store", str(path)])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["id"] == made
        missing = invoke(["show", os.fsdecode(b"Dat\xe9/f"), "--store", str(path)])
        assert missing.exit_code == 2, missing.output
        assert "not UTF-8" in missing.stderr


def test_a_type_and_name_two_splits_find_names_every_entity_found(tmp_path: Path) -> None:
    """``A/B/x`` is ``A``'s ``B/x`` and the ``x`` of each version of ``A/B``: the refusal
    (exit 2, give one by id) named the versions only ("names 2 entities, one per version of
    type 'A/B'"), as if they were all, and left out ``A``'s, one of the ids to choose from."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="A"))
        for version in ("1", "2"):
            store.put_artifact_type(ArtifactType(name="A/B", version=version))
        ids = [
            store.put_artifact(Artifact(type="A", name="B/x")),
            store.put_artifact(Artifact(type="A/B", type_version="1", name="x")),
            store.put_artifact(Artifact(type="A/B", type_version="2", name="x")),
        ]
        store.put_artifact(Artifact(type="A/B", type_version="1", name="y"))
        store.put_artifact(Artifact(type="A/B", type_version="2", name="y"))
        both = invoke(["show", "A/B/x", "--store", str(path)])
        assert both.exit_code == 2, both.output
        message = " ".join(both.stderr.split())
        assert "names 3 entities" in message, message
        assert all(f"artifact:{i} " in message for i in ids), message
        versions = invoke(["show", "A/B/y", "--store", str(path)])  # one type's versions only
        assert versions.exit_code == 2, versions.output
        assert "one per version of type 'A/B'" in " ".join(versions.stderr.split())


def test_ls_context_a_type_and_name_two_contexts_have_is_named_by_id(tmp_path: Path) -> None:
    """``ls --context p/q/r`` of contexts ``p``'s ``q/r`` and ``p/q``'s ``r`` (or ``Exp/e1`` in
    two versions of ``Exp``) was refused as "names 2 contexts: p/q/r, p/q/r; give one as
    Type/name": the form given, no way to list either's members. The refusal names their ids,
    and ``--context c:ID`` lists that context's members, as every entity reference takes it."""
    path = tmp_path / "store"
    with LineageStore.open(path) as store:
        store.put_artifact_type(ArtifactType(name="D"))
        store.put_context_type(ContextType(name="p"))
        store.put_context_type(ContextType(name="p/q"))
        for version in ("1", "2"):
            store.put_context_type(ContextType(name="Exp", version=version))
        contexts = [
            store.put_context(Context(type="p", name="q/r")),
            store.put_context(Context(type="p/q", name="r")),
            store.put_context(Context(type="Exp", type_version="1", name="e1")),
            store.put_context(Context(type="Exp", type_version="2", name="e1")),
        ]
        members = [store.put_artifact(Artifact(type="D", name=f"d{i}")) for i in range(4)]
        store.put_attributions_and_associations(
            [
                Attribution(artifact_id=a, context_id=c)
                for a, c in zip(members, contexts, strict=True)
            ],
            [],
        )
        for ref, ids in (("p/q/r", contexts[:2]), ("Exp/e1", contexts[2:])):
            shared = invoke(["ls", "--context", ref, "--store", str(path)])
            assert shared.exit_code == 2, shared.output
            message = " ".join(shared.stderr.split())
            assert all(f"c:{i} " in message for i in ids), message
        for context, member in zip(contexts, members, strict=True):
            for ref in (f"c:{context}", f"context:{context}"):
                listed = invoke(["ls", "--context", ref, "--json", "--store", str(path)])
                assert listed.exit_code == 0, listed.output
                assert [a["id"] for a in json.loads(listed.stdout)] == [member]
        gone = invoke(["ls", "--context", "c:99", "--store", str(path)])
        assert gone.exit_code == 3, gone.output
