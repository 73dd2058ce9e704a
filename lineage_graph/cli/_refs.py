"""Naming stored entities on the command line.

=====================================  ==============================================
reference                              means
=====================================  ==============================================
``12``                                 entity 12 of the command's default kind
``artifact:12`` / ``a:12``             artifact 12 (``execution:``/``e:``,
                                       ``context:``/``c:`` likewise)
``SavedModel/churn-v1``                the entity of that type with that name
``a:SavedModel/churn-v1``              the same, of an explicit kind
``s3://bucket/x``, ``/data/x.csv``     the latest artifact with that URI (a local path:
                                       else with its ``file://`` URI)
=====================================  ==============================================
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from ..exceptions import InvalidArgumentError, NotFoundError
from ..models import Artifact, Context, Execution, NodeKind, NodeType

if TYPE_CHECKING:
    from ..store import LineageStore

__all__ = [
    "KIND_NAMES",
    "BadReferenceError",
    "Entity",
    "TypeLists",
    "as_typed",
    "by_type_and_name",
    "of_type",
    "parse_kind",
    "resolve",
    "type_and_name_splits",
    "utf8_text",
]

Entity: TypeAlias = Artifact | Execution | Context


class BadReferenceError(InvalidArgumentError):
    """A reference or kind the command line cannot read (a usage error)."""


KIND_NAMES: dict[str, NodeKind] = {
    "artifact": NodeKind.ARTIFACT,
    "artifacts": NodeKind.ARTIFACT,
    "a": NodeKind.ARTIFACT,
    "execution": NodeKind.EXECUTION,
    "executions": NodeKind.EXECUTION,
    "e": NodeKind.EXECUTION,
    "context": NodeKind.CONTEXT,
    "contexts": NodeKind.CONTEXT,
    "c": NodeKind.CONTEXT,
}


def parse_kind(text: str) -> NodeKind:
    try:
        return KIND_NAMES[text.strip().lower()]
    except KeyError:
        raise BadReferenceError(
            f"unknown kind {text!r}: use artifact, execution or context"
        ) from None


def _looks_like_uri(text: str) -> bool:
    return "://" in text or text.startswith(("/", "./", "../", "~"))


#: What a URI begins with (RFC 3986: a scheme is a letter, then letters, digits, + - .).
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//)?")


def _surely_uri(text: str) -> bool:
    """Whether ``text`` can only be a URI or a path: it begins with a path or with
    ``scheme://``, after a kind (``a:s3://b/x``) or not. ``Model/hf://bert``,
    ``a:Model/hf://bert`` and ``ns:Model/hf://bert`` (a type name may hold ``:``) may name an
    entity by type and name."""
    head, sep, rest = text.partition(":")
    if sep and head.lower() in KIND_NAMES:
        text = rest
    if text.startswith(("/", "./", "../", "~")):
        return True
    scheme = _SCHEME.match(text)
    return scheme is not None and scheme[2] is not None


def _begins_with_scheme(text: str) -> bool:
    """Whether ``text`` begins with a ``scheme:`` that is no kind (``jar:file:///x``)."""
    scheme = _SCHEME.match(text)
    return scheme is not None and scheme[1].lower() not in KIND_NAMES


def _file_uri(path: str) -> str | None:
    """The ``file://`` URI of a local path; None for one that names no file (``~nobody/x``, a
    symlink loop): it is then looked up as given only."""
    try:
        return Path(_os_text(path)).expanduser().resolve().as_uri()
    except (RuntimeError, OSError, ValueError):
        return None


def as_typed(text: str) -> str:
    """A command-line argument as it was typed: where the locale's encoding is not UTF-8
    (``LANG=C`` without Python's UTF-8 mode) Python reads the UTF-8 bytes of ``Modèle`` as the
    escapes ``Mod\\udcc3\\udca8le``, which no stored text equals (``show Modèle/x`` was exit 5,
    "text must be valid Unicode"; ``ls -t Modèle`` "no such type"): they are read as UTF-8
    here. Bytes that are no UTF-8 are kept as they were read."""
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    try:
        return os.fsencode(text).decode("utf-8")
    except UnicodeError:
        return text


def _storable(text: str) -> bool:
    """Whether ``text`` is text a store can hold: a path whose bytes are no UTF-8
    (``caf\\xe9.csv``) is read with lone surrogates, which every lookup refused (exit 5, "text
    must be valid Unicode") before its ``file://`` URI, which names its artifact, was tried."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: A byte that is no UTF-8 as Python reads it from the command line (``os.fsdecode``'s
#: surrogateescape: ``\xff`` is U+DCFF).
_RAW_BYTE = re.compile("[\udc80-\udcff]")


def bytes_as_typed(text: str) -> str:
    """``text`` with the bytes of the command line that are no UTF-8 shown as the user typed
    them, ``\\xff`` (not ``\\udcff``); any other character kept (a lone surrogate of
    another range: encoding with surrogateescape, as this did for refusals of references,
    raised UnicodeEncodeError on one, a traceback in place of the refusal)."""
    return _RAW_BYTE.sub(lambda m: f"\\x{ord(m.group(0)) - 0xDC00:02x}", text)


def holds_raw_bytes(text: str) -> bool:
    """Whether ``text`` holds bytes of the command line that are no UTF-8 (as surrogates)."""
    return _RAW_BYTE.search(text) is not None


def bytes_percent_encoded(text: str) -> str:
    """``text`` with the bytes of the command line that are no UTF-8 percent-encoded, ``%FF``."""
    return _RAW_BYTE.sub(lambda m: f"%{ord(m.group(0)) - 0xDC00:02X}", text)


def _bytes_shown(text: str) -> str:
    """``text`` quoted, its bytes that are no UTF-8 as typed (:func:`bytes_as_typed`)."""
    return f"'{bytes_as_typed(text)}'"


def utf8_text(text: str, what: str) -> str:
    """:func:`as_typed`'s ``text``, refused (:class:`BadReferenceError`, exit 2) when it holds
    bytes that are no UTF-8: no stored name, type or value can hold them, and the store refused
    them as an invalid argument (exit 5, "text must be valid Unicode: surrogates not allowed"),
    or they were looked up and found nothing (exit 3). ``what`` names the argument
    (``--type``, ``TYPE``)."""
    text = as_typed(text)
    if not _storable(text):
        raise BadReferenceError(
            f"{what} {_bytes_shown(text)} holds bytes that are not UTF-8 text, which no "
            "stored name or value can hold"
        )
    return text


def _os_text(text: str) -> str:
    """:func:`as_typed`'s text as the operating system takes a path (its bytes escaped again
    where the locale is not UTF-8)."""
    try:
        return os.fsdecode(text.encode("utf-8", "surrogateescape"))
    except UnicodeError:
        return text


def resolve(
    store: LineageStore,
    ref: str,
    default: NodeKind = NodeKind.ARTIFACT,
    *,
    takes: str | None = None,
) -> Entity:
    """The stored entity ``ref`` names; :class:`NotFoundError` if there is none. ``takes``
    (``"-i takes an artifact"``): the caller takes ``default``'s kind only, so a miss never
    suggests a reference of another kind (it would refuse it)."""
    ref = as_typed(ref)
    text = ref.strip()
    if not text:
        raise BadReferenceError("an empty entity reference")
    if _looks_like_uri(text):
        found = store.get_artifacts_by_uri(text) if _storable(text) else []
        if not found and "://" not in text:
            # a local path names its file:// URI too (the demo and most recorders store that)
            file_uri = _file_uri(text)
            if file_uri is not None:
                found = store.get_artifacts_by_uri(file_uri)
        if found:
            return max(found, key=lambda a: a.id or 0)
        if _surely_uri(text):
            raise NotFoundError(f"no artifact with uri {text!r}")
        # 'Model/hf://bert' or 'a:Model/hf://bert': no artifact has that uri, and no scheme
        # starts it: the Model named 'hf://bert' (it was "no artifact with uri", so an entity
        # whose name holds '://' could be named by id only). 'ns:Model/hf://bert' likewise (a
        # type name may hold ':'; it was "no artifact with uri" while 'ns:Model/x' was found),
        # though a miss is said as one of a uri ('jar:file:///x.jar!/y' is no Type/name)
        try:
            return _resolve_named(store, ref, text, default, takes)
        except NotFoundError:
            if _begins_with_scheme(text):
                raise NotFoundError(f"no artifact with uri {text!r}") from None
            raise
    return _resolve_named(store, ref, text, default, takes)


def _resolve_named(
    store: LineageStore, ref: str, text: str, default: NodeKind, takes: str | None = None
) -> Entity:
    """The entity ``text`` (``ref`` stripped) names by id, ``kind:id``, ``Type/name`` or
    ``kind:Type/name``, or by the path ``Type/name`` also reads as."""
    kind = default
    head, sep, rest = text.partition(":")
    if sep and head.lower() in KIND_NAMES:
        kind, text = KIND_NAMES[head.lower()], rest
    ident = _id_of(text)
    if ident is not None:
        return _by_id(store, kind, ident)
    if not _storable(text) and not (kind == NodeKind.ARTIFACT and _is_local_path(text)):
        # bytes that are no UTF-8 name no stored entity (a path's name its file:// URI):
        # 'ls --context' refused them as the store's invalid argument (exit 5), 'show' said
        # "no artifact named '\udcff'" (exit 3)
        raise BadReferenceError(
            f"cannot read {_bytes_shown(ref)} as an entity: it holds bytes that are not UTF-8 "
            "text, which no stored name can hold"
        )
    types = TypeLists(store)
    splits = type_and_name_splits(store, kind, text, types)
    if text.isdigit() or not splits:
        raise BadReferenceError(
            f"cannot read {ref!r} as an entity: give an id (12), kind:id (execution:12), "
            "Type/name (SavedModel/churn-v1) or an artifact uri"
        )
    hits = by_type_and_name(store, kind, text, types) if _storable(text) else []
    if len(hits) == 1:
        return hits[0]
    if len({e.type for e in hits}) == 1:  # one type's: one per version of it
        ids = ", ".join(f"{kind.value.lower()}:{e.id}" for e in hits)
        raise BadReferenceError(
            f"{ref!r} names {len(hits)} entities, one per version of type {hits[0].type!r} "
            f"({ids}): give one by id"
        )
    if hits:  # all of them: the versions of one split's type were said alone, as if all
        named = ", ".join(
            f"{kind.value.lower()}:{e.id} of type {e.type!r}"
            + ("" if e.type_version is None else f" version {e.type_version!r}")
            for e in hits
        )
        raise BadReferenceError(f"{ref!r} names {len(hits)} entities ({named}): give one by id")
    type_name, name = _split_missed(types, kind, text, splits)
    if kind == NodeKind.ARTIFACT and _is_local_path(text):
        # 'lineage-demo/data/customers.csv' (a path as the shell completes it, without
        # './') reads as Type/name; when no such entity exists, the file it names is meant,
        # or the directory (a model or an examples directory, as TFX records them)
        found = store.get_artifacts_by_uri(text) if _storable(text) else []
        file_uri = _file_uri(text)
        if not found and file_uri is not None:
            found = store.get_artifacts_by_uri(file_uri)
        if found:
            return max(found, key=lambda a: a.id or 0)
        raise NotFoundError(
            f"no artifact of type {type_name!r} named {name!r}, nor one with the uri of "
            f"the path {text!r}"
        )
    raise NotFoundError(
        f"no {kind.value.lower()} of type {type_name!r} named {name!r}"
        + _type_hint(store, types, kind, default, type_name, name, takes)
    )


class TypeLists:
    """The store's types of each kind, each kind's list read once, when first needed: a
    ``Type/name`` with several ``/`` (``Data/Set/x/y``) read the whole list once per split
    whose type missed, and again for each part of a miss's hint (9 reads of type lists for one
    ``artifact/my/dataset/uri`` that found nothing; now at most one per kind)."""

    def __init__(self, store: LineageStore) -> None:
        self._store = store
        self._lists: dict[NodeKind, list[NodeType]] = {}

    def __call__(self, kind: NodeKind) -> list[NodeType]:
        if kind not in self._lists:
            self._lists[kind] = self._store.get_types(kind)
        return self._lists[kind]

    def has(self, kind: NodeKind) -> bool:
        """Whether the ``kind`` list was read already."""
        return kind in self._lists

    def names(self, kind: NodeKind) -> set[str]:
        return {t.name for t in self(kind)}

    def versions(self, kind: NodeKind, type_name: str) -> list[str | None]:
        """The versions of the ``kind`` types named ``type_name``: ``None`` (the unversioned
        type) first, if there is one, then the versions in order (:meth:`versioned`)."""
        unversioned = any(t.name == type_name and t.version is None for t in self(kind))
        versioned: list[str | None] = [*self.versioned(kind, type_name)]
        return [None, *versioned] if unversioned else versioned

    def versioned(self, kind: NodeKind, type_name: str) -> list[str]:
        """The versions of the ``kind`` types named ``type_name`` in order, not the unversioned
        type's."""
        return sorted(
            {t.version for t in self(kind) if t.name == type_name and t.version is not None}
        )


_GETTERS = {
    NodeKind.ARTIFACT: "get_artifact_by_type_and_name",
    NodeKind.EXECUTION: "get_execution_by_type_and_name",
    NodeKind.CONTEXT: "get_context_by_type_and_name",
}


def _getter(store: LineageStore, kind: NodeKind) -> Callable[..., Entity | None]:
    getter: Callable[..., Entity | None] = getattr(store, _GETTERS[kind])
    return getter


def by_type_and_name(
    store: LineageStore, kind: NodeKind, text: str, types: TypeLists
) -> list[Entity]:
    """The ``kind`` entities ``Type/name`` text names, by id: for each split of
    :func:`type_and_name_splits` whose type exists, the unversioned type's entity, else that
    of each version of the type that has one (MLMD's ``get_*_by_type_and_name`` without a
    version reads the unversioned type alone; a name only versions have is theirs). Several
    found is for the caller to refuse. ``show`` and ``ls --context`` both read a ``Type/name``
    so: ``ls --context Exp/e1`` of an unversioned and a versioned ``Exp`` both holding ``e1``
    was exit 2 ("names 2 contexts") where ``show c:Exp/e1`` was the unversioned type's."""
    getter = _getter(store, kind)
    hits: dict[int | None, Entity] = {}
    for type_name, name in type_and_name_splits(store, kind, text, types):
        # 'Model/churn-v1' (one split: no list read yet) is one lookup when it hits; the
        # type list is read for the versions of a miss, or was for the splits of 'a/b/c'
        listed = types.has(kind)
        versions = types.versions(kind, type_name) if listed else [None]
        if None in versions:
            entity = getter(type_name, name)
            if entity is not None:
                hits[entity.id] = entity
                continue
        for version in versions if listed else types.versions(kind, type_name):
            if version is not None:
                hit = getter(type_name, name, version)
                if hit is not None:
                    hits[hit.id] = hit
    return sorted(hits.values(), key=lambda e: e.id or 0)


_SHORT_KIND = {NodeKind.ARTIFACT: "a", NodeKind.EXECUTION: "e", NodeKind.CONTEXT: "c"}


def _type_hint(
    store: LineageStore,
    types: TypeLists,
    kind: NodeKind,
    default: NodeKind,
    type_name: str,
    name: str,
    takes: str | None,
) -> str:
    """Why ``Type/name`` found nothing: the store has no ``kind`` type ``type_name`` but one of
    another kind (``show Trainer/nightly`` for the execution type, which a bare ``Type/name``
    reads as an artifact's), or one in another case (``model/churn-v1``), or none; or another
    kind's type of that name has the entity (``Trainer`` both an artifact and an execution
    type). Each said only "no artifact of type 'Trainer' named 'nightly'", as if the name were
    wrong. With ``takes`` (an option that takes ``kind`` only, ``-i``) no other kind's form is
    suggested: ``-i Trainer/x`` said ``(e:Trainer/x)``, which ``-i`` then refused."""
    names = {k: types.names(k) for k in NodeKind}

    def form(of: NodeKind, type_: str) -> str:
        # a kind given (e:Model/x) is kept in the form suggested: bare only when both are bare
        prefix = "" if of == kind == default else f"{_SHORT_KIND[of]}:"
        return f"{prefix}{type_}/{name}"

    def what(of: NodeKind) -> str:
        return f"{'a' if of == NodeKind.CONTEXT else 'an'} {of.value.lower()}"

    others = [k for k in NodeKind if k != kind and type_name in names[k]]
    if type_name in names[kind]:
        found = [k for k in others if _getter(store, k)(type_name, name) is not None]
        if not found:
            return ""
        if takes is not None:
            return f": {what(found[0])} {type_name}/{name} exists ({takes})"
        return f": {what(found[0])} {type_name}/{name} exists ({form(found[0], type_name)})"
    if others:
        if takes is not None:
            return f": {type_name!r} is {what(others[0])} type ({takes})"
        return f": {type_name!r} is {what(others[0])} type ({form(others[0], type_name)})"
    cased = sorted(
        ((t, k) for k in ([kind] if takes is not None else list(NodeKind)) for t in names[k]
         if t.casefold() == type_name.casefold()),
        key=lambda pair: (pair[0], pair[1].value),
    )  # fmt: skip
    if cased:
        return f": type names are case-sensitive ({', '.join(form(k, t) for t, k in cased)})"
    return f": this store has no {kind.value.lower()} type {type_name!r} (`lineage-graph ls types`)"


def _slash_splits(text: str) -> list[tuple[str, str]]:
    """``text`` split at each ``/`` that leaves both parts non-empty, first ``/`` first."""
    return [
        (text[:i], text[i + 1 :]) for i, c in enumerate(text) if c == "/" and 0 < i < len(text) - 1
    ]


def type_and_name_splits(
    store: LineageStore, kind: NodeKind, text: str, types: TypeLists
) -> list[tuple[str, str]]:
    """The ``(type, name)`` pairs ``Type/name`` text may mean: split at its first ``/`` (a
    name may hold ``/``), and at each later one where the part before it is the name of a
    stored ``kind`` type (a type name may hold ``/`` too: ``Data/Set/x``). The first of them
    all, or none when no split leaves both parts non-empty. ``types``: the type lists read
    already (the ``kind`` list is read once, whatever the number of ``/``)."""
    splits = _slash_splits(text)
    if len(splits) > 1:
        known = types.names(kind)
        splits = splits[:1] + [s for s in splits[1:] if s[0] in known]
    return splits


def _split_missed(
    types: TypeLists, kind: NodeKind, text: str, splits: list[tuple[str, str]]
) -> tuple[str, str]:
    """The ``(type, name)`` a ``Type/name`` that found nothing is said of, so that
    :func:`_type_hint` judges the type the text names: the last split whose type is a ``kind``
    type (``Data/Set/y``: no ``Data/Set`` named ``y``, not "no artifact type 'Data'"); else
    the last whose type is another kind's (``Tr/ainer/n`` of an execution type ``Tr/ainer``:
    ``e:Tr/ainer/n``), else one another case spells (``data/set/x``); else the first. Those
    two said "no artifact type 'Tr'" ('data'), where ``Trainer/n`` is told its kind."""
    if len(splits) > 1:
        return splits[-1]
    every = _slash_splits(text)
    if len(every) == 1:
        return splits[0]
    names = {k: types.names(k) for k in NodeKind}
    if splits[0][0] in names[kind]:
        return splits[0]
    others = {t for k in NodeKind if k != kind for t in names[k]}
    cased = {t.casefold() for k in NodeKind for t in names[k]}
    found = [s for s in every if s[0] in others] or [s for s in every if s[0].casefold() in cased]
    return found[-1] if found else splits[0]


def of_type(store: LineageStore, kind: NodeKind, type_name: str) -> list[Entity]:
    """Every ``kind`` node of a type named ``type_name``, whatever the type's version (the
    store's ``get_*_by_type`` takes one version, the unversioned type by default), by id."""
    nodes: list[Entity] = []
    for version in [None, *TypeLists(store).versioned(kind, type_name)]:
        if kind == NodeKind.ARTIFACT:
            nodes.extend(store.get_artifacts_by_type(type_name, version))
        elif kind == NodeKind.EXECUTION:
            nodes.extend(store.get_executions_by_type(type_name, version))
        else:
            nodes.extend(store.get_contexts_by_type(type_name, version))
    return sorted(nodes, key=lambda n: n.id or 0)


def _is_local_path(text: str) -> bool:
    """Whether ``text`` names an existing file or directory here."""
    try:
        return Path(_os_text(text)).exists()
    except (OSError, ValueError):
        return False


def _id_of(text: str) -> int | None:
    """The id ``text`` spells (``12``, also in another script's decimal digits), else None. A
    digit that is no decimal digit (``²``, ``①``) is not an id: ``str.isdigit`` takes it and
    ``int`` refused it with a ValueError traceback."""
    if not text.isdigit():
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _by_id(store: LineageStore, kind: NodeKind, ident: int) -> Entity:
    found: list[Entity]
    if kind == NodeKind.ARTIFACT:
        found = list(store.get_artifacts_by_id([ident]))
    elif kind == NodeKind.EXECUTION:
        found = list(store.get_executions_by_id([ident]))
    else:
        found = list(store.get_contexts_by_id([ident]))
    if not found:
        raise NotFoundError(f"no {kind.value.lower()} with id {ident}")
    return found[0]
