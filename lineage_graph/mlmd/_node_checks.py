"""The adapter's checks of a node write against the stored types, in MLMD's order: what MLMD
refuses differently from the native store (an unknown type id is NotFoundError, an int for a
DOUBLE property is refused), and whether MLMD would write the nodes before a later error
(reads only on an error path). One :class:`NodeChecks` an adapter, holding its type cache.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from .. import exceptions as native
from .._repositories.composite import reuse_by_external_id
from ..models import Node, NodeKind, NodeType
from ..store import LineageStore
from ._taken_keys import refuse_taken_keys
from ._write_rules import (
    context_type_id_given,
    declared,
    masked,
    no_int_for_double,
    type_id_given,
)


class NodeChecks:
    """The write checks of one adapter on ``store``, with its cache of the types it has read."""

    def __init__(self, store: LineageStore) -> None:
        self.store = store
        #: Type ids known to exist (types are never deleted): checked once, as MLMD reports an
        #: unknown type_id as NotFoundError where the native store says InvalidArgumentError.
        self.known_types: dict[NodeKind, dict[int, NodeType]] = {kind: {} for kind in NodeKind}

    def precheck(
        self,
        batch: Sequence[Node],
        *,
        upfront: bool = False,
        mask: Sequence[str] | None = None,
        typed_context_updates: bool = False,
    ) -> None:
        """What MLMD rejects differently from the native store, in MLMD's order.

        An unknown ``type_id`` is NotFoundError (native: InvalidArgumentError) and an
        ``int_value`` for a DOUBLE property is refused (native: converted). ``batch`` is in
        MLMD's processing order and MLMD reports its first bad node, so unknown types are
        reported up to the first node the native store rejects for another reason (an update's
        missing id, an undeclared property), which it then reports itself. ``upfront``: every
        node's type is looked up first, as ``put_lineage_subgraph`` does. One query per unseen
        type id (types are never deleted). ``mask``: the call's field mask, under which an
        update's properties the mask does not name are neither written nor checked (MLMD).
        ``typed_context_updates`` (put_execution): a context needs its type id, one to update
        too (the native store judges it on its stored type), past an update too."""
        batch = masked(batch, mask)
        for kind in NodeKind:
            known = self.known_types[kind]
            ids = {m.type_id for m in batch if m.kind == kind and m.type_id is not None}
            if ids - known.keys():
                for found in self.store.get_types_by_id(kind, sorted(ids - known.keys())):
                    known[found.id or 0] = found
        if upfront:
            for m in batch:
                if m.type_id is not None and m.type_id not in self.known_types[m.kind]:
                    raise native.NotFoundError(f"Results missing for type ids: {m.type_id}")
        checking = True  # unknown type ids are reported up to the first node the native
        # store rejects for another reason: it then reports that one itself. Past an update
        # (which may fail: a missing id, another type id) a new node's unknown type is
        # reported only once those updates are read and would pass, as MLMD writes them first
        updates: list[Node] = []  # the updates met while nothing else stopped the checks
        refreshed: set[tuple[NodeKind, int]] = set()
        for m in batch:
            if typed_context_updates and m.kind is NodeKind.CONTEXT:
                context_type_id_given(m)
            if m.id is not None and not upfront:
                if checking or updates:
                    updates.append(m)
                checking = False
            # (past updates: once they are read and would pass, as for an unknown type below)
            untyped_new = m.id is None and m.type_id is None
            if not upfront and (
                checking or (untyped_new and updates and self.updates_pass(updates))
            ):
                type_id_given(m)
            if m.type_id is None:
                # an update without its type id: the write judges it on its stored type, an
                # int_value for a DOUBLE property included (mlmd_write_rules)
                continue
            t = self.known_types[m.kind].get(m.type_id)
            if t is None:
                if (m.id is None or upfront) and (
                    checking or (m.id is None and updates and self.updates_pass(updates))
                ):
                    raise native.NotFoundError(f"Cannot find type for type_id: {m.type_id}")
                continue
            t = self.fresh_for(t, m, m.type_id, refreshed)
            no_int_for_double(t, m)
            if not declared(t, m) and not upfront:
                checking = False
                updates = []  # the native store reports this node itself

    def fresh_for(
        self, t: NodeType, node: Node, type_id: int, refreshed: set[tuple[NodeKind, int]]
    ) -> NodeType:
        """``t`` (type ``type_id`` as cached), read again first when it lacks a property
        ``node`` gives: another client may have added it since (at most once per type and
        call, ``refreshed``; a node whose properties ``t`` declares costs nothing)."""
        stale = any(name not in t.properties for name in node.properties)
        if stale and (node.kind, type_id) not in refreshed:
            refreshed.add((node.kind, type_id))
            for found in self.store.get_types_by_id(node.kind, [type_id]):
                self.known_types[node.kind][type_id] = t = found
        return t

    def cached_type(self, kind: NodeKind, type_id: int) -> NodeType | None:
        """Type ``type_id`` of ``kind`` as cached, read (and cached) when it is not; None when
        no such type is stored. (Read only on the path to an error.)"""
        known = self.known_types[kind]
        if type_id not in known:
            for found in self.store.get_types_by_id(kind, [type_id]):
                known[found.id or 0] = found
        return known.get(type_id)

    def updates_pass(self, updates: Sequence[Node]) -> bool:
        """Whether MLMD would write every one of ``updates`` (to reach a later node): each
        node exists, keeps its stored type id and gives properties its type declares. (Read
        only on the path to an error.)"""
        for kind in NodeKind:
            given = [m for m in updates if m.kind == kind]
            if not given:
                continue
            ids = sorted({m.id for m in given if m.id is not None})
            nodes: Sequence[Node] = self.store._repository_of(kind).get_by_ids(ids)
            stored = {n.id: n for n in nodes}
            for m in given:
                node = stored.get(m.id)
                if node is None or node.type_id is None:
                    return False
                if m.type_id is not None and m.type_id != node.type_id:
                    return False
                t = self.cached_type(kind, node.type_id)
                if t is not None and not declared(t, m):
                    # the cached type may lack properties another client added since
                    t = self.fresh_for(t, m, node.type_id, set())
                if t is None or not declared(t, m):
                    return False
        return True

    def passes(self, batch: Sequence[Node]) -> bool:
        """Whether ``batch`` passes :meth:`precheck` (its nodes' own checks)."""
        try:
            self.precheck(batch)
        except (native.InvalidArgumentError, native.NotFoundError):
            return False
        return True

    def all_pass(self, nodes: Sequence[Node]) -> bool:
        """Whether MLMD would write each of ``nodes`` (new ones of a known type declaring their
        properties, updates as :meth:`updates_pass`), once the unknown type ids
        :meth:`precheck` reports are reported. (Reads, on an error path only.)"""
        updates = [m for m in nodes if m.id is not None]
        if updates and not self.updates_pass(updates):
            return False
        for m in nodes:
            if m.id is None:
                if m.type_id is None or (t := self.cached_type(m.kind, m.type_id)) is None:
                    return False
                if not declared(self.fresh_for(t, m, m.type_id, set()), m):
                    return False
        return True

    def check_declared(self, node: Node, index: int) -> None:
        """InvalidArgumentError unless ``node``'s (cached, known) type declares its properties
        with their kinds, as MLMD's check of a node's properties before any write."""
        if node.type_id is None or self.declares(node):
            return
        # the cached type may predate properties added since (by this adapter or another
        # client): read it again before refusing the node
        for found in self.store.get_types_by_id(node.kind, [node.type_id]):
            self.known_types[node.kind][node.type_id] = found
        if self.declares(node):
            return
        t = self.known_types[node.kind][node.type_id]
        for name in node.properties:
            if name not in t.properties:
                raise native.InvalidArgumentError(
                    f"{node.kind.value.lower()} #{index}: found unknown property {name!r}: type "
                    f"{t.name!r} declares {sorted(t.properties) or 'no properties'}"
                )
        raise native.InvalidArgumentError(
            f"{node.kind.value.lower()} #{index}: found unmatched property type: type "
            f"{t.name!r} declares {', '.join(f'{n}: {k.name}' for n, k in t.properties.items())}"
        )

    def declares(self, node: Node) -> bool:
        """Whether ``node``'s (cached) type declares its properties with their kinds."""
        t = None if node.type_id is None else self.known_types[node.kind].get(node.type_id)
        return t is not None and declared(t, node)

    def refuse_unknown_context_type(self, msg: Any) -> None:
        """NotFoundError if ``msg`` (a Context proto) gives a type id no context type has."""
        if not msg.HasField("type_id"):  # "Type id is missing.": invalid, as an empty name
            return
        if self.cached_type(NodeKind.CONTEXT, msg.type_id) is None:
            raise native.NotFoundError(f"Cannot find type for type_id: {msg.type_id}")

    def by_external_id(self, artifacts: list[Any]) -> list[Any]:
        """``artifacts`` with a new one whose external id is stored given that artifact's id,
        as MLMD's reuse flag makes it an update of that artifact (for the checks only: an
        update's type id is compared with the stored one, never looked up)."""
        return reuse_by_external_id(artifacts, self.store.get_artifacts_by_external_ids)

    @contextlib.contextmanager
    def taken_keys_first(
        self, models: Sequence[Node], mask: Sequence[str] | None
    ) -> Iterator[None]:
        """put_artifacts / put_executions / put_contexts: MLMD checks and writes each node in
        turn, so a new node whose key (name of its type, external id) is stored or given to an
        earlier node of the call is AlreadyExistsError before a later node's own error (an
        unknown type id, a property its type does not declare, an update of another type), which
        the checks here (and the native write) find first. On their error path only (reads)."""
        try:
            yield
        except (native.InvalidArgumentError, native.NotFoundError):
            self.refuse_taken_keys(masked(models, mask))
            raise

    def refuse_taken_keys(
        self,
        nodes: Sequence[Node],
        *,
        reuse_artifacts: bool = False,
        reuse_contexts: bool = False,
    ) -> None:
        """AlreadyExistsError for a new node's key taken before a later error (see
        :func:`._taken_keys.refuse_taken_keys`)."""
        refuse_taken_keys(
            self.store,
            self.known_types,
            nodes,
            reuse_artifacts=reuse_artifacts,
            reuse_contexts=reuse_contexts,
        )
