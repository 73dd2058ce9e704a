"""Compile an MLMD ``filter_query`` into the pieces of one parameterized Cypher query.

Semantics follow MLMD 1.17.1 (observed on its SQLite backend, which the differential tests in
``tests/mlmd/test_filter*.py`` pin down):

* Every neighbourhood alias (``contexts_a``, ``events_b``, ``parent_contexts_c`` ...) is an inner
  join: a node matches when SOME binding of every alias it mentions makes the whole expression
  true. Nodes without such a neighbour never match (``NOT contexts_a.name = "x"`` means "has a
  context not named x"). Each alias becomes its own ``MATCH`` clause, followed by
  ``WITH DISTINCT n``.
* A referenced property (``properties.day.int_value``) is a join too: the node must have that
  property (of any value kind) for the filter to match at all, whatever the boolean structure.
* Comparisons use SQL three-valued logic, which Cypher shares.
* ``LIKE`` is SQLite's: ``%`` and ``_`` wildcards, no escape character, and case-insensitive
  for ASCII letters only ("ü" does not match "Ü"). It becomes ``=`` / ``STARTS WITH`` /
  ``ENDS WITH`` / ``CONTAINS`` tests where the pattern allows (an anchored end is first tested
  in both cases without folding, which allocates nothing), and otherwise an exact pattern
  matcher written with ``reduce`` over the pattern's segments (both engines lack a portable
  regex).
* An unset ``uri`` compares as ``""`` (MLMD stores it so); ``state`` / ``last_known_state``
  UNKNOWN (0) is how this library stores "unset", so it compares as NULL.

Every user value is a ``$pN`` parameter and every property key a ``$kN`` parameter computed by
:mod:`lineage_graph._encoding` (read with ``n[$kN]``): nothing the user typed is spliced into the
query text. Identifiers in the text come from closed sets (the node variable, generated alias
variables, fixed attribute names, labels).

Polarity: an atom under an even number of NOTs only has to be TRUE for exactly the right rows
(FALSE and NULL both reject), which allows index-friendly forms (``n.uri = $p`` instead of
``coalesce(n.uri, '') = $p``); under an odd number of NOTs the exact NULL-preserving form is used.
"""

from __future__ import annotations

import builtins
import operator
import re
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

from .._encoding import escape_name, indexable
from ..models import ArtifactState, EventType, ExecutionState, NodeKind
from ._filter_parse import (
    And,
    Between,
    Compare,
    Expr,
    Field,
    In,
    IsNull,
    Like,
    Literal,
    Not,
    Operand,
    Or,
    Truth,
    filter_error,
    parse_filter,
)

__all__ = ["CompiledFilter", "compile_filter"]

NODE = "n"

_PROPERTY_KINDS = {"int_value": "i", "double_value": "d", "string_value": "s", "bool_value": "b"}
_KIND_TYPE = {"i": "int", "d": "float", "s": "str", "b": "bool"}
#: Every stored key kind of one property (see _encoding): used to test that it exists.
_ALL_KEY_KINDS = "ixsbjaz"

_COMMON_ATTRS: dict[str, str] = {
    "id": "int",
    "type_id": "int",
    "type": "str",
    "name": "str",
    "external_id": "str",
    "create_time_since_epoch": "int",
    "last_update_time_since_epoch": "int",
}
_NEIGHBOUR_ATTRS = {
    "id": "int",
    "name": "str",
    "type": "str",
    "create_time_since_epoch": "int",
    "last_update_time_since_epoch": "int",
}


@dataclass(frozen=True)
class _Join:
    """A neighbourhood prefix: which node kinds may use it and the pattern it matches."""

    kinds: frozenset[NodeKind]
    # ``{n}`` and ``{v}`` (and ``{o}`` for events) are generated variable names.
    patterns: dict[NodeKind, str]


_JOINS: dict[str, _Join] = {
    "contexts": _Join(
        frozenset({NodeKind.ARTIFACT, NodeKind.EXECUTION}),
        {
            NodeKind.ARTIFACT: "MATCH ({n})-[:ATTRIBUTION]->({v}:Context)",
            NodeKind.EXECUTION: "MATCH ({n})-[:ASSOCIATION]->({v}:Context)",
        },
    ),
    "parent_contexts": _Join(
        frozenset({NodeKind.CONTEXT}),
        {NodeKind.CONTEXT: "MATCH ({n})-[:PARENT_CONTEXT]->({v}:Context)"},
    ),
    "child_contexts": _Join(
        frozenset({NodeKind.CONTEXT}),
        {NodeKind.CONTEXT: "MATCH ({n})<-[:PARENT_CONTEXT]-({v}:Context)"},
    ),
    "artifacts": _Join(
        frozenset({NodeKind.CONTEXT}),
        {NodeKind.CONTEXT: "MATCH ({n})<-[:ATTRIBUTION]-({v}:Artifact)"},
    ),
    "executions": _Join(
        frozenset({NodeKind.CONTEXT}),
        {NodeKind.CONTEXT: "MATCH ({n})<-[:ASSOCIATION]-({v}:Execution)"},
    ),
    "events": _Join(
        frozenset({NodeKind.ARTIFACT, NodeKind.EXECUTION}),
        {
            NodeKind.ARTIFACT: "MATCH ({n})-[{v}:EVENT]-({o}:Execution)",
            NodeKind.EXECUTION: "MATCH ({n})-[{v}:EVENT]-({o}:Artifact)",
        },
    ),
}
# Longest prefix first: ``parent_contexts_a`` is not ``contexts`` with alias ``a``.
_JOIN_ORDER = sorted(_JOINS, key=len, reverse=True)


_RANGE_OPS = frozenset({"<", "<=", ">", ">="})
_PLAIN_PROPERTY = re.compile(r"^[a-z][a-z0-9]*\.[a-z_]+$")


def _no_index(expr: str) -> str:
    """A plain ``var.prop`` as an expression of equal value that no index serves."""
    return f"({expr} + '')" if _PLAIN_PROPERTY.match(expr) else expr


def _indexable_literals(*values: _Value) -> bool:
    """Whether an index seek finds every string literal among ``values`` (see ``indexable``)."""
    return all(indexable(v.literal) for v in values if v.is_literal and isinstance(v.literal, str))


#: Enum values MLMD 1.17.1's filters refuse ("Unsupported enum value specified in the query"),
#: although its protos have them (measured).
_NOT_IN_FILTERS: dict[type[IntEnum], frozenset[str]] = {
    ArtifactState: frozenset({"ABANDONED", "REFERENCE"}),
    EventType: frozenset({"UNKNOWN", "PENDING_OUTPUT"}),
}


@dataclass
class _Value:
    """A typed Cypher expression for one operand."""

    expr: str
    type: str  # int | float | str | bool | enum | null | ident
    enum: builtins.type[IntEnum] | None = None
    #: An index-friendly expression equal to ``expr`` wherever ``expr`` is not NULL, and NULL
    #: where ``expr`` holds a stand-in (``""`` for uri, NULL for state 0); usable in positive
    #: polarity when the compared literal is not that stand-in.
    raw: str | None = None
    literal: Any = None
    is_literal: bool = False
    ident: str | None = None  # a bare name that may be an enum value
    pos: int = 0
    overflowed: bool = False  # a literal: integer arithmetic that left int64 (see Literal)


@dataclass
class CompiledFilter:
    """``MATCH`` clauses for the aliases, the ``WHERE`` condition and its parameters."""

    matches: list[str] = field(default_factory=list)
    where: str = "true"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_distinct(self) -> bool:
        return bool(self.matches)


#: Most comparisons one filter may hold in all (each ``IN`` value compared with a field counts
#: as one, a literal ``IN`` list one). FalkorDB 4.16.3 plans a condition in time linear in its
#: size (measured on a 3-node store, 20,000 comparisons in groups of 500: ``id = 1`` 1.5 s,
#: ``state != LIVE`` 4.9 s, ``properties.day.int_value BETWEEN 1 AND 2`` 11 s, before its query
#: timeout applies): 10,000 keep the costliest form near 5 s. MLMD 1.17.1 limits the depth of
#: the expression (SQLite's "Expression tree is too large (maximum depth 1000)": one chain of at
#: most 997, groups of chains while their sum stays below 1,000 levels), not the total: it
#: accepts 9,000 comparisons as ten ``AND``-ed groups of 900, and so does this compiler.
MAX_TERMS = 10_000
#: What one ``LIKE`` compiled to the exact pattern matcher (``_`` wildcards, several free
#: segments, case folding beyond the fast forms) counts against MAX_TERMS: FalkorDB 4.16.3 spends
#: ~35 ms planning each (measured: 300 of them 10-12 s on a one-node store, with the query
#: timeout set to 1 s: planning is not timed), a simple comparison ~0.1-0.5 ms.
GENERAL_LIKE_TERMS = 100
#: A pattern of ``n`` characters sent to the exact matcher counts ``n * n // LIKE_LENGTH_SCALE``
#: comparisons more: FalkorDB 4.16.3 runs it on every node in time quadratic in ``n``, whatever
#: the value's length (it evaluates every branch), within the query's timeout but for minutes
#: (measured on a 3-node store, ``uri LIKE '_…_'``: 5,000 ``_`` 0.08 s, 20,000 0.9 s, 50,000
#: 5.7 s, 500,000 past 100 s): at most ~50,000 characters, as in MLMD 1.17.1, whose SQLite
#: refuses a pattern longer than 50,000 bytes ("LIKE or GLOB pattern too complex").
LIKE_LENGTH_SCALE = 250_000
#: What a range comparison of two integer fields (``create_time_since_epoch <
#: last_update_time_since_epoch``) counts against MAX_TERMS: written by sign (see
#: _fields_sign_split), FalkorDB 4.16.3 plans it ~10x slower than one comparison, and super-
#: linearly (measured on a 3-node store: 1,000 of them 1.6-2 s, 3,000 5-12 s, 10,000 82 s):
#: 1,000 at most (MLMD 1.17.1 accepts one chain of up to 997, more only in groups).
FIELD_RANGE_TERMS = 10
#: Longest ``AND`` / ``OR`` chain written into the Cypher text: a longer one is split into nested
#: parenthesised groups (AND and OR are associative in three-valued logic, so the answer is the
#: same). FalkorDB 4.16.3 parses a chain recursively, in time quadratic in its length, and a long
#: one kills the server (measured: one chain of 5,000 ``id = 1`` 0.65 s, 25,000 12 s, 30,000
#: crash it; 81,000 in groups of 900 6.8 s).
MAX_CHAIN = 32
#: ``AND`` / ``OR`` groups nested deeper than this are written ``[…][0]``, not ``(…)``.
#: FalkorDB 4.16.3 parses parentheses nested in parentheses, and NOTs nested in either, in time
#: that multiplies with each level (about x3), before its query timeout applies (measured with
#: GRAPH.EXPLAIN: 12 nested ``(id = 0 AND (…))`` 0.2 s, 20 nested ``((…))`` 23 s, 6 nested
#: ``(NOT (id = 2 AND …))`` 4.8 s); nested brackets it parses at once (200 nested
#: ``[id = 0 OR [id = 1 AND …][0]][0]`` 0.3 s). NOTs are pushed down to the atoms (see
#: _Compiler.compile), so a filter's parentheses nest at most this deep plus an atom's own few.
#: The outer groups keep parentheses: the planner reads them for index seeks.
GROUP_PARENS = 3
#: Most neighbourhood aliases (``contexts_a``, ``events_b`` ...) one filter may name: each is a
#: MATCH clause, and FalkorDB 4.16.3 takes super-linear time to plan them, before its query
#: timeout applies (measured: 400 aliases 3.9 s, 1,000 32 s; 2,700, from 900 comparisons of three
#: aliases each, still held the server after 4 minutes, past the 120 s timeout). MLMD 1.17.1
#: refuses more than 21 ("at most 64 tables in a join").
MAX_ALIASES = 64
#: What a comparison that reads a neighbourhood alias (``contexts_a.name = 'x'``) counts against
#: MAX_TERMS: FalkorDB 4.16.3 plans each condition on an alias's variable against every alias's
#: MATCH, in time super-linear in both, before its query timeout applies (measured on a 3-node
#: store, ``AND``-ed comparisons over 64 aliases: 1,000 1.8 s, 2,000 ~6 s, 3,000 14 s, 10,000
#: 91 s, where 10,000 plain ones take ~5 s): 1,000 at most. MLMD 1.17.1 refuses more than 21
#: aliases, and more than 997 comparisons in one chain.
ALIAS_TERMS = 10


class _Compiler:
    def __init__(self, text: str, kind: NodeKind, param_prefix: str) -> None:
        self.text = text
        self.terms = 0
        self.depth = 0  # AND / OR groups around the expression being compiled
        self.atom_pos = 0
        self.kind = kind
        self.prefix = param_prefix
        self.params: dict[str, Any] = {}
        self.matches: list[str] = []
        self.aliases: dict[tuple[str, str], tuple[str, str]] = {}  # -> (var, other-end var)
        self.reads_alias = False  # the atom being compiled reads a neighbourhood alias
        self.required: dict[tuple[str, str], list[str]] = {}  # (scope, name) -> key params
        self._keys: dict[str, str] = {}

    # ------------------------------------------------------------------------------ helpers

    def error(self, pos: int, message: str) -> Exception:
        return filter_error(self.text, pos, message)

    def param(self, value: Any) -> str:
        name = f"{self.prefix}p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def key_param(self, key: str) -> str:
        found = self._keys.get(key)
        if found is None:
            found = self.param(key)
            self._keys[key] = found
        return found

    def literal(self, lit: Literal) -> _Value:
        v = lit.value
        if v is None:  # NULL; or arithmetic that gave NULL: a DOUBLE that compares as NULL
            kind = "float" if lit.computed else "null"
            return _Value("null", kind, is_literal=True, pos=lit.pos)
        if isinstance(v, bool):
            return _Value("true" if v else "false", "bool", literal=v, is_literal=True, pos=lit.pos)
        if isinstance(v, str):
            if "\x00" in v:
                raise self.error(lit.pos, "string literals must not contain a NUL character")
            return _Value(self.param(v), "str", literal=v, is_literal=True, pos=lit.pos)
        kind = "int" if isinstance(v, int) else "float"
        return _Value(
            self.param(v), kind, literal=v, is_literal=True, pos=lit.pos, overflowed=lit.overflowed
        )

    def exact_int(self, op: str, lit: _Value) -> tuple[str, _Value]:
        """``x op lit`` for an integer ``x`` (a field or literal) and an overflowed literal (a
        double out of int64's range, or its end), as a comparison with an int64 literal that
        gives the same answers: SQLite compares an integer with a double exactly, where the
        engines (and MLMD, for a DOUBLE literal) compare them as doubles (``2**63 - 1 =
        2.0**63``)."""
        value = lit.literal
        assert isinstance(value, float)
        if -(2**63) <= value <= 2**63 - 1:  # -2**63 itself: an int64
            bound = int(value)
        elif value > 0:  # above every int64: x < L always, x = L never
            op, bound = {"<": "<=", ">=": ">", "=": ">", "!=": "<="}.get(op, op), 2**63 - 1
        else:  # below every int64
            op, bound = {">": ">=", "<=": "<", "=": "<", "!=": ">="}.get(op, op), -(2**63)
        return op, _Value(self.param(bound), "int", literal=bound, is_literal=True, pos=lit.pos)

    def exact_member(self, lit: _Value) -> _Value:
        """An overflowed literal in an ``IN`` list of an integer: its int64 value, or 0.5
        (equal to no integer, and not NULL) when it has none (see ``exact_int``)."""
        value = lit.literal
        assert isinstance(value, float)
        member: int | float = int(value) if -(2**63) <= value <= 2**63 - 1 else 0.5
        kind = "int" if isinstance(member, int) else "float"
        return _Value(self.param(member), kind, literal=member, is_literal=True, pos=lit.pos)

    def as_double(self, v: _Value, *partners: _Value) -> _Value:
        """``v`` as an operand of a comparison that ZetaSQL types DOUBLE (a DOUBLE among the
        operands of a comparison, its ``BETWEEN`` or its ``IN``) with ``partners``: an integer
        literal as the double it is coerced to (``9007199254740993`` is ``2.0**53``), an
        integer field read through ``toFloat()``.

        MLMD compares every operand as a double then. FalkorDB 4.16 compares an integer with a
        double as doubles too, but Neo4j 5 compares them exactly (``9007199254740993 =
        9007199254740992.0`` is false there, neo4j/neo4j#13986), so the cast is written out for
        both. An id or a time compared only with literals below 2**53 in magnitude stays bare,
        so an index still serves it: against such a double both comparisons agree for every
        int64 (each integer up to 2**53 is a double, and rounding keeps the larger ones beyond
        it). A property is always cast (no index serves ``n[$k]``)."""
        if v.is_literal:
            if v.type != "int":
                return v
            value = float(v.literal)
            return _Value(self.param(value), "float", literal=value, is_literal=True, pos=v.pos)
        if v.type != "int":
            return v
        if _BOUNDED_INT.match(v.expr) and all(map(_below_2_53, partners)):
            return v
        return _Value(f"toFloat({v.expr})", "float", pos=v.pos)

    def doubles_pair(self, a: _Value, b: _Value) -> tuple[_Value, _Value]:
        """``a`` and ``b`` compared as doubles (see ``as_double``): two integer (or enum)
        fields too, which the engines would compare exactly (or, FalkorDB 4.16, by their
        difference: wrong past int64, see _sign_split)."""
        a, b = self.as_double(a, b), self.as_double(b, a)
        if a.type in ("int", "enum") and b.type in ("int", "enum"):  # enums: small values
            b = _Value(f"toFloat({b.expr})", "float", pos=b.pos)
        return a, b

    # -------------------------------------------------------------------------------- fields

    def field_value(self, f: Field) -> _Value:
        parts = f.parts
        head = parts[0].lower() if not f.quoted[0] else parts[0]
        if len(parts) == 1:
            return self.attribute(NODE, self.kind, head, f, own=True)
        # MLMD matches these prefixes by their exact (lower-case) spelling: `Properties.x.*`
        # and `Contexts_a.name` are unrecognized names there, unlike a plain attribute (`ID`).
        if parts[0] in ("properties", "custom_properties") and not f.quoted[0]:
            return self.property(f)
        for prefix in _JOIN_ORDER:
            if (
                parts[0].startswith(prefix + "_")
                and len(head) > len(prefix) + 1
                and not f.quoted[0]
            ):
                return self.neighbour(prefix, head[len(prefix) + 1 :], f)
        raise self.error(f.pos, f"Unrecognized name: {parts[0][:80]}")

    def attribute(self, var: str, kind: NodeKind, name: str, f: Field, *, own: bool) -> _Value:
        attrs = dict(_COMMON_ATTRS if own else _NEIGHBOUR_ATTRS)
        if kind == NodeKind.ARTIFACT:
            attrs.update(uri="str", state="enum")
        elif kind == NodeKind.EXECUTION:
            attrs["last_known_state"] = "enum"
        if name not in attrs:
            if own and len(f.parts) == 1:
                return _Value("", "ident", ident=f.parts[0], pos=f.pos)
            raise self.error(f.pos, f"Field name {name[:80]} does not exist")
        prop = f"{var}.{name}"
        if name == "uri":
            return _Value(f"coalesce({prop}, '')", "str", raw=prop, pos=f.pos)
        if name in ("state", "last_known_state"):
            enum: type[IntEnum] = ArtifactState if name == "state" else ExecutionState
            expr = f"CASE WHEN {prop} = 0 THEN null ELSE {prop} END"
            return _Value(expr, "enum", enum=enum, raw=prop, pos=f.pos)
        return _Value(prop, attrs[name], pos=f.pos)

    def property(self, f: Field) -> _Value:
        scope = "p" if f.parts[0].lower() == "properties" else "c"
        if len(f.parts) != 3:
            raise self.error(
                f.pos,
                f"expected {f.parts[0]}.<name>.<int_value|double_value|string_value|bool_value>",
            )
        name, value_kind = f.parts[1], f.parts[2]
        # As MLMD 1.17.1 reads it (measured): its rewriting finds the kind by its lower-case
        # spelling up to the ``_`` (``STRING_VALUE``, ``String_value`` and a back-quoted kind
        # are refused), and ZetaSQL then takes the field name in any case (``string_Value``).
        head, tail = value_kind[:-5], value_kind[-5:]
        code = None if f.quoted[2] else _PROPERTY_KINDS.get(head + tail.lower())
        if code is None:
            raise self.error(f.pos, f"Field name {f.parts[2][:80]} does not exist")
        escaped = escape_name(name)
        if (scope, name) not in self.required:
            keys = [self.key_param(f"{scope}{k}__{escaped}") for k in _ALL_KEY_KINDS]
            self.required[(scope, name)] = keys
        key = self.key_param(f"{scope}{code}__{escaped}")
        return _Value(f"{NODE}[{key}]", _KIND_TYPE[code], pos=f.pos)

    def neighbour(self, prefix: str, alias: str, f: Field) -> _Value:
        join = _JOINS[prefix]
        if self.kind not in join.kinds:
            raise self.error(f.pos, f"Unrecognized name: {f.parts[0][:80]}")
        if len(f.parts) != 2:
            raise self.error(f.pos, f"expected {f.parts[0][:80]}.<attribute>")
        found = self.aliases.get((prefix, alias))
        if found is None:
            index = len(self.aliases)
            if index == MAX_ALIASES:
                raise self.error(
                    f.pos,
                    f"the filter names more than {MAX_ALIASES} neighbourhood aliases "
                    "(contexts_<alias>, events_<alias>, ...)",
                )
            var, other = f"v{index}", f"o{index}"
            self.matches.append(join.patterns[self.kind].format(n=NODE, v=var, o=other))
            found = self.aliases[(prefix, alias)] = (var, other)
        var, other = found
        self.reads_alias = True
        attr = f.parts[1].lower()
        if prefix == "events":
            other_id = "execution_id" if self.kind == NodeKind.ARTIFACT else "artifact_id"
            if attr == "type":
                return _Value(f"{var}.type", "enum", enum=EventType, pos=f.pos)
            if attr == "milliseconds_since_epoch":
                return _Value(f"{var}.ms", "int", pos=f.pos)
            if attr == other_id:
                return _Value(f"{other}.id", "int", pos=f.pos)
            raise self.error(f.pos, f"Field name {f.parts[1][:80]} does not exist")
        kind = {
            "artifacts": NodeKind.ARTIFACT,
            "executions": NodeKind.EXECUTION,
        }.get(prefix, NodeKind.CONTEXT)
        return self.attribute(var, kind, attr, f, own=False)

    def operand(self, op: Operand) -> _Value:
        return self.literal(op) if isinstance(op, Literal) else self.field_value(op)

    # ------------------------------------------------------------------------ type checking

    def enum_literal(self, value: _Value, enum: type[IntEnum]) -> _Value:
        """A bare name on the other side of an enum field becomes the enum's number."""
        if value.type == "ident":
            assert value.ident is not None
            refused = value.ident in _NOT_IN_FILTERS.get(enum, ())
            member = None if refused else enum.__members__.get(value.ident)
            if member is None:
                raise self.error(
                    value.pos,
                    f"Unsupported enum value specified in the query: {value.ident[:80]}",
                )
            return _Value(
                self.param(int(member)),
                "int",
                literal=int(member),
                is_literal=True,
                ident=value.ident,  # the name it was written as
                pos=value.pos,
            )
        return value

    def unify(self, op: str, a: _Value, b: _Value, pos: int) -> tuple[_Value, _Value]:
        if a.type == "enum" and a.enum is not None:
            b = self.enum_literal(b, a.enum)
        if b.type == "enum" and b.enum is not None:
            a = self.enum_literal(a, b.enum)
        for v in (a, b):
            if v.type == "ident":
                raise self.error(v.pos, f"Unrecognized name: {str(v.ident)[:80]}")
            if v.type == "null":
                raise self.error(v.pos, f"Operands of {op} cannot be literal NULL")
        numeric = {"int", "float", "enum"}
        if not (a.type == b.type or (a.type in numeric and b.type in numeric)):
            raise self.error(
                pos,
                f"No matching signature for operator {op} for argument types: "
                f"{a.type.upper()}, {b.type.upper()}",
            )
        return a, b

    @staticmethod
    def side(v: _Value, other: _Value, positive: bool, op: str) -> str:
        """``v``'s index-friendly form when that cannot change which rows are TRUE (only an
        equality with a literal other than the stand-in, in positive polarity)."""
        if v.raw is None or op != "=" or not positive or not other.is_literal:
            return v.expr
        if v.type == "enum" and other.literal != 0:
            return v.raw
        if v.type == "str" and other.literal != "":
            return v.raw
        return v.expr

    # ------------------------------------------------------------------------- predicates

    def count(self, n: int, pos: int) -> None:
        self.terms += n
        if self.terms > MAX_TERMS:
            raise self.error(
                pos,
                f"the filter holds more than {MAX_TERMS} comparisons (each LIKE that needs the "
                f"general pattern matcher counts {GENERAL_LIKE_TERMS}, each range comparison of "
                f"two integer fields {FIELD_RANGE_TERMS}, each comparison of a neighbourhood "
                f"alias {ALIAS_TERMS}, each property tested for being set one per value kind): "
                "a query this large "
                "would crash or hold the embedded engine",
            )

    def compile(self, e: Expr, positive: bool) -> str:
        """``e`` under an even (``positive``) or odd number of NOTs, which are pushed down to
        the atoms (De Morgan's laws and ``NOT NOT x = x`` hold in three-valued logic): FalkorDB
        4.16 parses each NOT and each parenthesised group nested in another in time that
        multiplies, untimed (see GROUP_PARENS), where MLMD answers 99 nested groups at once."""
        if isinstance(e, Not):
            return self.compile(e.expr, not positive)
        if isinstance(e, And | Or):
            # NOT (a AND b) is NOT a OR NOT b; NOT (a OR b) is NOT a AND NOT b.
            op = "AND" if isinstance(e, And) == positive else "OR"
            items = sorted(e.items, key=_cost) if isinstance(e, And) else _equalities_as_in(e.items)
            self.depth += 1
            try:
                parts = [self.compile(x, positive) for x in items]
            finally:
                self.depth -= 1
            return _chain(op, parts, brackets=self.depth >= GROUP_PARENS)
        self.count(1, e.pos)
        self.atom_pos = e.pos
        self.reads_alias = False
        if not positive and isinstance(e, Between | Like) and e.negated:
            # NOT (x NOT BETWEEN ...) is x BETWEEN ... (NOT NOT p is p in three-valued logic:
            # NULL stays NULL), and the atom is compiled for a positive polarity either way:
            # sent as one atom, not two NOTs (each costs FalkorDB's parser, see compile).
            atom = self.atom(replace(e, negated=False), True)
            positive = True
        else:
            atom = self.atom(e, positive)
        if self.reads_alias:
            self.count(ALIAS_TERMS - 1, e.pos)  # counted one already
        return atom if positive else f"(NOT {atom})"

    def atom(self, e: Expr, positive: bool) -> str:
        """A comparison, ``IN``, ``BETWEEN``, ``LIKE``, ``IS NULL`` or truth test, compiled for
        its polarity (the caller adds the NOT of an odd number)."""
        if isinstance(e, Compare):
            return self.compare(e.op, self.operand(e.left), self.operand(e.right), e.pos, positive)
        if isinstance(e, IsNull):
            v = self.operand(e.operand)
            if v.type == "ident":
                raise self.error(v.pos, f"Unrecognized name: {str(v.ident)[:80]}")
            return f"({v.expr} IS {'NOT ' if e.negated else ''}NULL)"
        if isinstance(e, In):
            return self.in_list(e, positive)
        if isinstance(e, Between):
            inner_positive = positive != e.negated
            x = self.operand(e.operand)
            # A NULL bound makes its half NULL (MLMD casts it to the field's type), not an error.
            bounds = [
                None
                if isinstance(b, Literal) and b.value is None and not b.computed
                else self.operand(b)
                for b in (e.low, e.high)
            ]
            if x.type == "null":  # NULL, never TRUE (as in MLMD); the bounds are still checked
                present = [b for b in bounds if b is not None]
                if len(present) == 2:
                    self.unify("BETWEEN", present[0], present[1], e.pos)
                for v in present:
                    if v.type == "ident":
                        raise self.error(v.pos, f"Unrecognized name: {str(v.ident)[:80]}")
                return "(null)"
            # ZetaSQL gives the three one type: DOUBLE when one is a DOUBLE (see as_double).
            doubles = any(v is not None and _is_double(v) for v in (x, *bounds))
            low, high = (
                "null"
                if b is None
                else self.compare(op, x, b, e.pos, inner_positive, doubles=doubles)
                for op, b in zip((">=", "<="), bounds, strict=True)
            )
            body = f"({low} AND {high})"
            return f"(NOT {body})" if e.negated else body
        if isinstance(e, Like):
            body = self.like(e, positive != e.negated)
            return f"(NOT {body})" if e.negated else body
        assert isinstance(e, Truth)
        v = self.operand(e.operand)
        if v.type == "ident":
            raise self.error(v.pos, f"Unrecognized name: {str(v.ident)[:80]}")
        if v.type != "bool":
            raise self.error(e.pos, f"Expected a BOOL condition, got {v.type.upper()}")
        return f"({v.expr} = true)"

    def compare(
        self, op: str, a: _Value, b: _Value, pos: int, positive: bool, *, doubles: bool = False
    ) -> str:
        """``a op b``; ``doubles`` when it is half of a ``BETWEEN`` that ZetaSQL types DOUBLE."""
        a, b = self.unify(op, a, b, pos)
        if doubles or _is_double(a) or _is_double(b):
            a, b = self.doubles_pair(a, b)
        elif a.overflowed and b.type == "int":
            return self.compare(_FLIPPED.get(op, op), b, a, pos, positive)
        else:
            if b.overflowed and a.type == "int":
                op, b = self.exact_int(op, b)
            a, b = _exact_past_2_53(a, b), _exact_past_2_53(b, a)
        if _is_number(a) and _is_number(b):
            # Two numbers are compared here, as SQLite compares them (Python compares an int
            # with a float exactly, as SQLite does; doubles were made above): FalkorDB 4.16
            # compares integers of opposite signs wrongly (see _sign_split), and an overflowed
            # literal made an int64 by exact_int was one (2**63 - 1 >= -2**63 - 1 was false).
            return "true" if _COMPARISONS[op](a.literal, b.literal) else "false"
        enum_side = a if a.type == "enum" else b if b.type == "enum" else None
        if op == "!=":
            # MLMD rewrites ``enum != v`` to ``(enum != v) OR (enum IS NULL)`` by the text: a
            # value after the field (``state != LIVE``; and so ``LIVE != state``, which it
            # refuses). ``2 != state`` and ``id != state`` it compares as SQL: NULL, not TRUE.
            if (enum_side is a and b.is_literal) or (enum_side is b and a.ident is not None):
                return f"({a.expr} <> {b.expr} OR {enum_side.expr} IS NULL)"
            return f"({a.expr} <> {b.expr})"
        left, right = self.side(a, b, positive, op), self.side(b, a, positive, op)
        if op in _RANGE_OPS and a.type == "str":
            # FalkorDB 4.16's string range index scans disagree with its own string order on
            # non-ASCII text (measured: 'mé' < 'mé' and 'Ünï' > 'm' false via the index):
            # compare an expression, which the engine evaluates in code point order like MLMD.
            left, right = _no_index(left), _no_index(right)
        elif op == "=" and not _indexable_literals(a, b):
            left, right = _no_index(left), _no_index(right)
        if op in _RANGE_OPS:
            if a.is_literal or b.is_literal:
                split = _sign_split(op, left, a, right, b)
            else:
                split = _fields_sign_split(op, left, a, right, b)
                if split is not None:  # the atom counted one already
                    self.count(FIELD_RANGE_TERMS - 1, pos)
            if split is not None:
                return split
        return f"({left} {op} {right})"

    def in_list(self, e: In, positive: bool) -> str:
        x = self.operand(e.operand)
        every = [self.operand(v) for v in e.values]
        # A NULL in the list makes ``x IN (...)`` NULL where it is not TRUE (SQL's three-valued
        # logic, which Cypher shares): ``NOT IN (..., NULL)`` is never TRUE (as in MLMD).
        values = [v for v in every if v.type != "null"]
        with_null = len(values) < len(every)
        if with_null and x.type == "enum":
            raise self.error(e.pos, "Unsupported enum value specified in the query: NULL")
        if not values or x.type == "null":  # NULL IN (...), x IN (NULL): NULL, never TRUE
            for v in (x, *values):
                if v.type == "ident":
                    raise self.error(v.pos, f"Unrecognized name: {str(v.ident)[:80]}")
            return "(null)"
        # ``x = 1 OR x = 2`` read as ``x IN (1, 2)`` keeps the error an ``=`` would give.
        if isinstance(e, _EqualsAny):
            places = [e.positions[i] for i, v in enumerate(every) if v.type != "null"]
            unified = [self.unify("=", x, v, at) for v, at in zip(values, places, strict=True)]
        else:
            unified = [self.unify("IN", x, v, e.pos) for v in values]
        x = unified[0][0]
        values = [u[1] for u in unified]
        # ZetaSQL types the operand and the list alike: DOUBLE when one is a DOUBLE (see
        # as_double), else INT64, where an integer and integer arithmetic that left int64
        # compare exactly (see exact_int). OR-ed equalities are each their own comparison.
        # A DOUBLE field makes each of them a DOUBLE comparison: its integers are made the
        # doubles they are coerced to (Neo4j compared ``2.0**53`` with ``2**53 + 1`` exactly).
        if isinstance(e, _EqualsAny):
            doubles = _is_double(x)
        else:
            doubles = any(_is_double(v) for v in (x, *values))
        if doubles:
            values = [self.as_double(v, x) for v in values]
        elif x.type == "int":
            values = [self.exact_member(v) if v.overflowed else v for v in values]
        # An overflowed operand: exact against each integer, a double against each double.
        swap_x = not doubles and x.overflowed
        inner_positive = positive != e.negated
        if all(v.is_literal for v in values):
            lits = [v.literal for v in values]
            if swap_x:  # two literals' comparisons, as SQLite makes them (Python's are exact)
                body = "true" if any(x.literal == lit for lit in lits) else "false"
            else:
                if doubles:
                    x = self.as_double(x, *values)
                use_raw = (
                    x.raw is not None
                    and inner_positive
                    and all(lit != 0 and lit != "" for lit in lits)
                )
                lhs = x.raw if use_raw and x.raw is not None else x.expr
                if not _indexable_literals(*values):
                    lhs = _no_index(lhs)
                if not doubles:  # its integers are compared exactly
                    lhs = _exact_past_2_53(
                        _Value(lhs, x.type, pos=x.pos), *(v for v in values if not _is_double(v))
                    ).expr
                # OR-ed equalities (read as one list) keep each its own type: a DOUBLE member
                # compares with an integer field as doubles, read through toFloat() (Neo4j
                # compares an integer with a double exactly, see as_double), an integer exactly.
                cast = x
                if not doubles and x.type == "int" and any(map(_is_double, values)):
                    cast = self.as_double(x, *filter(_is_double, values))
                if cast is not x:
                    as_doubles = [v.literal for v in values if _is_double(v)]
                    exact = [v.literal for v in values if not _is_double(v)]
                    parts = [f"({cast.expr} IN {self.param(as_doubles)})"]
                    if exact:
                        parts.append(f"({lhs} IN {self.param(exact)})")
                    body = "(" + " OR ".join(parts) + ")"
                else:
                    body = f"({lhs} IN {self.param(lits)})"
        else:
            self.count(len(values) - 1, e.pos)  # one comparison per value
            if doubles:
                x = self.as_double(x, *values)
                pairs = [self.doubles_pair(x, v) for v in values]
            else:
                exact_x = self.exact_member(x) if swap_x else x
                pairs = [
                    (_exact_past_2_53(exact_x, v), v) if v.type == "int" else (x, v) for v in values
                ]
            body = _chain("OR", [f"{a.expr} = {b.expr}" for a, b in pairs])
        if with_null:
            body = f"({body} OR null)"
        if not e.negated:
            return body
        if x.type == "enum":
            return f"((NOT {body}) OR {x.expr} IS NULL)"
        return f"(NOT {body})"

    # -------------------------------------------------------------------------------- LIKE

    def like(self, e: Like, positive: bool) -> str:
        x = self.operand(e.operand)
        pattern_value = self.operand(e.pattern)
        x, pattern_value = self.unify("LIKE", x, pattern_value, e.pos)
        if x.type != "str":
            raise self.error(e.pos, f"No matching signature for operator LIKE for {x.type}")
        if not pattern_value.is_literal:
            raise self.error(e.pattern.pos, "LIKE needs a string literal pattern")
        pattern: str = pattern_value.literal
        # The rows that hold a stand-in "" for NULL match only patterns that match "".
        matches_empty = set(pattern) <= {"%"}
        subject = x.raw if (x.raw is not None and positive and not matches_empty) else x.expr
        whole = "%" not in pattern
        if whole and "_" not in pattern and not _has_ascii_letter(pattern):
            if not indexable(pattern):
                subject = _no_index(subject)
            return f"({subject} = {self.param(pattern)})"
        first, middle, last = _like_parts(pattern)
        # The fast forms (toLower, which also folds beyond ASCII, is exact after the guards of
        # _folded when the pattern is ASCII).
        if _fast_form(pattern):
            conds: list[str] = []
            if first:
                conds += self._anchored(subject, first, at_end=False)
            if last:
                conds += self._anchored(subject, last, at_end=True)
            if first and last:
                conds.append(f"size({subject}) >= {self.param(len(first) + len(last))}")
            if whole:
                conds.append(f"size({subject}) = {self.param(len(pattern))}")
            if middle:  # %segment%
                conds.append(self._contains(subject, middle[0]))
            if not conds:  # only % wildcards: every value matches, NULL stays NULL
                conds.append(f"CASE WHEN {subject} IS NULL THEN null ELSE true END")
            return "(" + " AND ".join(conds) + ")"
        return self._general_like(subject, pattern)

    def _anchored(self, subject: str, segment: str, *, at_end: bool) -> list[str]:
        """``subject`` starts (ends) with ``segment`` under SQLite's ASCII case folding.

        First a cheap test that allocates nothing: the longest start (end) of the segment that
        holds one ASCII letter, in both cases, with STARTS WITH / ENDS WITH. That decides most
        rows, and alone it is exact when the segment holds one letter; otherwise the folded
        comparison of the end (``left`` / ``right``) follows.
        """
        op = "ENDS WITH" if at_end else "STARTS WITH"
        letters = [i for i, ch in enumerate(segment) if _is_ascii_letter(ch)]
        if not letters:
            return [f"{subject} {op} {self.param(segment)}"]
        # The longest end with one letter: both its cases are all its spellings.
        if len(letters) == 1:
            part = segment
        else:
            part = segment[letters[-2] + 1 :] if at_end else segment[: letters[1]]
        conds = [
            f"({subject} {op} {self.param(_ascii_lower(part))} "
            f"OR {subject} {op} {self.param(_ascii_upper(part))})"
        ]
        if len(letters) > 1:
            end = "right" if at_end else "left"
            conds.append(self._folded(f"{end}({subject}, {self.param(len(segment))})", segment))
        return conds

    def _folded(self, window: str, segment: str) -> str:
        """``window`` equals the ASCII ``segment`` under SQLite's case folding (ASCII only).

        ``toLower`` also folds two characters beyond ASCII onto ASCII letters (KELVIN SIGN to
        "k", capital I with dot above to "i"), which SQLite compares as themselves: a window
        holding one of them cannot match an ASCII segment, hence the guards.
        """
        lower = _ascii_lower(segment)
        conds = [f"toLower({window}) = {self.param(lower)}"]
        conds += [
            f"NOT {window} CONTAINS {self.param(char)}"
            for letter, char in _FOLDED_ONTO_ASCII.items()
            if letter in lower
        ]
        return " AND ".join(conds)

    def _contains(self, subject: str, segment: str) -> str:
        """``subject`` contains ``segment`` (``%segment%``) under SQLite's case folding."""
        if not _has_ascii_letter(segment):
            return f"{subject} CONTAINS {self.param(segment)}"
        lower = _ascii_lower(segment)
        # The characters toLower folds onto an ASCII letter of the segment are replaced first
        # by one no ASCII segment holds: SQLite does not fold them. (Rare text holding one took
        # the general matcher, which FalkorDB plans in ~35 ms: every '%kit%' or '%pipeline%'
        # counted 30 comparisons against the filter's 1,000, and 34 of them were refused.)
        folded = subject
        for letter, char in _FOLDED_ONTO_ASCII.items():
            if letter in lower:
                folded = f"replace({folded}, {self.param(char)}, {self.param(_NO_ASCII)})"
        return f"toLower({folded}) CONTAINS {self.param(lower)}"

    def _general_like(self, subject: str, pattern: str) -> str:
        """The exact matcher for any pattern: NULL stays NULL (as in SQL), and no function ever
        sees a NULL (FalkorDB evaluates every CASE branch and rejects NULL string positions)."""
        # its LIKE counted one already; a long pattern costs more (see LIKE_LENGTH_SCALE)
        self.count(GENERAL_LIKE_TERMS - 1 + len(pattern) ** 2 // LIKE_LENGTH_SCALE, self.atom_pos)
        first, middle, last = _like_parts(pattern)
        text = f"coalesce({subject}, '')"
        conds = []
        if "%" not in pattern:
            conds.append(f"size({text}) = {self.param(len(pattern))}")
        else:
            conds.append(f"size({text}) >= {self.param(len(first) + len(last))}")
        if first:
            conds.append(self._match_at(text, first, at_end=False))
        if last:
            conds.append(self._match_at(text, last, at_end=True))
        if middle:
            conds.append(self._find_in_order(text, middle, len(first), len(last)))
        return f"(CASE WHEN {subject} IS NULL THEN null ELSE ({' AND '.join(conds)}) END)"

    def _char_matches(self, lower: str, upper: str, i: str, subject: str, at: str) -> str:
        """Character ``i`` of a segment (given as its ASCII lower and upper forms, expressions)
        matches ``subject`` at position ``at``: ``_``, the same character, or its other case."""
        char = f"substring({subject}, {at}, 1)"
        return (
            f"substring({lower}, {i}, 1) = '_' OR {char} = substring({lower}, {i}, 1) "
            f"OR {char} = substring({upper}, {i}, 1)"
        )

    def _match_at(self, subject: str, segment: str, *, at_end: bool) -> str:
        """``segment`` (with ``_`` wildcards) matches at the start or the end of ``subject``."""
        lower = self.param(_ascii_lower(segment))
        upper = self.param(_ascii_upper(segment))
        if at_end:
            # Never a negative start (some engines raise on it): short values fail the size test.
            offset = (
                f"CASE WHEN size({subject}) < size({lower}) THEN 0 "
                f"ELSE size({subject}) - size({lower}) END"
            )
        else:
            offset = "0"
        each = self._char_matches(lower, upper, "i", subject, f"{offset} + i")
        return f"all(i IN range(0, size({lower}) - 1) WHERE {each})"

    def _find_in_order(self, subject: str, middle: list[str], start: int, tail: int) -> str:
        """Each middle segment occurs, leftmost first, in order, between the anchored ends.

        Leftmost placement of each fixed-length segment is optimal for ``%``-separated patterns,
        so one left-to-right pass decides the match; ``-1`` marks failure.
        """
        lowers = self.param([_ascii_lower(s) for s in middle])
        uppers = self.param([_ascii_upper(s) for s in middle])
        begin = self.param(start)
        end = self.param(tail)
        each = self._char_matches(f"{lowers}[k]", f"{uppers}[k]", "i", subject, "p + i")
        return (
            f"reduce(pos = {begin}, k IN range(0, size({lowers}) - 1) | coalesce(head("
            f"[p IN range(CASE WHEN pos < 0 THEN size({subject}) + 1 ELSE pos END, "
            f"size({subject}) - {end} - size({lowers}[k])) "
            f"WHERE all(i IN range(0, size({lowers}[k]) - 1) WHERE {each}) "
            f"| p + size({lowers}[k])]), -1)"
            f") >= 0"
        )

    # ----------------------------------------------------------------------------- top level

    def run(self, expr: Expr) -> CompiledFilter:
        body = self.compile(expr, True)
        implied = _implied_properties(expr)
        conds = []
        for ref, keys in self.required.items():
            if ref not in implied:
                # a test of each value kind: as many comparisons for the engine to plan
                self.count(len(keys), 0)
                conds.append("(" + " OR ".join(f"{NODE}[{k}] IS NOT NULL" for k in keys) + ")")
        conds.append(body)
        where = " AND ".join(conds)
        # Only the parameters the text reads: a comparison decided here (``1 < 2``), a literal
        # list read as one, a property whose existence its test implies leave theirs unread.
        read = set(_PARAM_REF.findall(where + "\n" + "\n".join(self.matches)))
        params = {name: value for name, value in self.params.items() if name in read}
        return CompiledFilter(list(self.matches), where, params)


#: A parameter the query text reads (names are ``<prefix>p<N>``: letters, digits, ``_``).
_PARAM_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _chain(op: str, parts: list[str], *, brackets: bool = False) -> str:
    """``parts`` joined by ``op``, in nested groups of at most MAX_CHAIN (see there); a group is
    written ``[…][0]`` (the one-element list's element: the same value, NULL included) with
    ``brackets`` (see GROUP_PARENS)."""
    while len(parts) > MAX_CHAIN:
        parts = [
            _chain(op, parts[i : i + MAX_CHAIN], brackets=brackets)
            for i in range(0, len(parts), MAX_CHAIN)
        ]
    body = f" {op} ".join(parts)
    return f"[{body}][0]" if brackets else f"({body})"


@dataclass(frozen=True)
class _EqualsAny(In):
    """``field = literal OR field = literal ...`` (OR'ed equalities of one field), as one ``IN``;
    ``positions`` are those of the ``=`` signs, for errors."""

    positions: tuple[int, ...] = ()


def _field_equals_literal(e: Expr) -> tuple[Field, Literal, int] | None:
    """``field = literal`` or ``literal = field`` (not NULL: an error as it stands), with the
    comparison's position."""
    if not isinstance(e, Compare) or e.op != "=":
        return None
    for a, b in ((e.left, e.right), (e.right, e.left)):
        if isinstance(a, Field) and isinstance(b, Literal) and b.value is not None:
            return a, b, e.pos
    return None


def _equalities_as_in(items: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """The items of an ``OR``, with the equalities between one field and a literal gathered
    into one ``IN`` list (the same answers in three-valued logic: NULL when the field is
    NULL, else TRUE exactly when one is equal): one list parameter instead of a chain the engine
    plans term by term (a chain of 997 ``id = …``, which MLMD accepts, 0.07 s → ~1 ms)."""
    pairs = [_field_equals_literal(x) for x in items]
    groups: dict[tuple[tuple[str, ...], tuple[bool, ...]], list[int]] = {}
    for i, pair in enumerate(pairs):
        if pair is not None:
            groups.setdefault((pair[0].parts, pair[0].quoted), []).append(i)
    if all(len(g) < 2 for g in groups.values()):
        return items
    out: list[Expr] = []
    for i, (item, pair) in enumerate(zip(items, pairs, strict=True)):
        group = groups[(pair[0].parts, pair[0].quoted)] if pair is not None else []
        if len(group) < 2:
            out.append(item)
        elif group[0] == i:
            assert pair is not None
            found = [p for j in group if (p := pairs[j]) is not None]
            values = tuple(p[1] for p in found)
            out.append(_EqualsAny(pair[0], values, False, pair[2], tuple(p[2] for p in found)))
    return tuple(out)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Characters beyond ASCII that toLower (both engines) folds onto an ASCII letter.
_FOLDED_ONTO_ASCII = {"k": "\u212a", "i": "\u0130"}
#: What _contains puts in their place: toLower keeps it, and it is no ASCII letter.
_NO_ASCII = "\ufffd"


#: Integer attributes an index serves (ids, times in ms): compared with a double below 2**53
#: in magnitude they stay bare (see as_double), with an integer beyond not (_exact_past_2_53).
_BOUNDED_INT = re.compile(
    r"^[a-z][a-z0-9]*\.(id|create_time_since_epoch|last_update_time_since_epoch)$"
)


def _below_2_53(v: _Value) -> bool:
    """A literal number below 2**53 in magnitude (or a NULL computed by arithmetic): compared
    with it as doubles, every int64 gives the answer it gives compared exactly."""
    if not v.is_literal or v.type not in ("int", "float"):
        return False
    return v.literal is None or abs(v.literal) < 2**53


def _exact_past_2_53(v: _Value, *partners: _Value) -> _Value:
    """``v``, an id or a time compared exactly (INT64) with ``partners``, as an expression no
    index serves when one of them is an integer literal of 2**53 or more in magnitude.

    FalkorDB 4.16's range index holds its numbers as doubles (see docs/performance.md), so a
    seek or scan of it compares such a literal as the double it rounds to:
    ``create_time_since_epoch < 9007199254740993`` missed a time of ``2**53``, and
    ``create_time_since_epoch IN (9007199254740992, 1)`` also found ``2**53 + 1`` (MLMD, and
    the engine comparing the values themselves, compare two integers exactly). Below 2**53
    every comparison with the index's doubles gives the exact answer (see ``as_double``).
    The expression is compared row by row, where FalkorDB compares integers of opposite signs
    wrongly: ``_sign_split`` splits its ranges."""
    if v.is_literal or v.type != "int" or not _BOUNDED_INT.match(v.expr):
        return v
    beyond = any(
        p.is_literal and p.type == "int" and p.literal is not None and abs(p.literal) >= 2**53
        for p in partners
    )
    return _Value(f"({v.expr} + 0)", "int", pos=v.pos) if beyond else v


def _is_number(v: _Value) -> bool:
    """Whether ``v`` is a number literal (not a NULL computed by arithmetic)."""
    return v.is_literal and v.type in ("int", "float") and v.literal is not None


_COMPARISONS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _is_double(v: _Value) -> bool:
    """Whether ZetaSQL types ``v`` DOUBLE: a double field or literal, ``/``, arithmetic with a
    double, a NULL computed by arithmetic; not integer arithmetic that left int64 (INT64)."""
    return v.type == "float" and not v.overflowed


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _sign_split(op: str, left: str, a: _Value, right: str, b: _Value) -> str | None:
    """``x op L`` for an integer (or enum) field ``x`` and an integer literal ``L``, written so
    that the engine never compares two integers of opposite signs.

    FalkorDB 4.16 compares two integers by their difference, wrong when it leaves int64
    (measured: ``-2 < 9223372036854775807`` is false), so ``properties.day.int_value <
    9223372036854775807`` missed the negative days. Both operands of the inner comparison have
    the same sign here (the other half compares with 0), which no overflow can reach. An enum,
    whose numbers stay small, needs it only for a literal near int64's ends (``state >=
    -9223372036854775808`` selected nothing). Ids and times need it for every literal: an
    import keeps any int64 time, and a time of ``2**63 - 1`` compared row by row (beside an
    ``OR``-ed property test, say) was not ``> -2``. An index still serves both halves
    (measured on FalkorDB 4.16: ``(n.t >= 0) OR (n.t > $p)`` is one Node By Index Scan).
    """
    if a.is_literal and not b.is_literal:
        return _sign_split(_FLIPPED[op], right, b, left, a)
    if b.type != "int" or a.type not in ("int", "enum") or not b.is_literal or a.is_literal:
        return None
    lit = b.literal
    if not isinstance(lit, int) or isinstance(lit, bool):
        return None
    if a.type == "enum" and abs(lit) < 2**62:
        return None
    if op in (">", ">="):
        joined = "OR" if lit < 0 else "AND"
        return f"(({left} >= 0) {joined} ({left} {op} {right}))"
    joined = "AND" if lit < 0 else "OR"
    return f"(({left} < 0) {joined} ({left} {op} {right}))"


def _fields_sign_split(op: str, left: str, a: _Value, right: str, b: _Value) -> str | None:
    """``x op y`` for two integer (or enum) fields, written so that the engine never compares
    two integers of opposite signs (see _sign_split): the signs decide first, and only values
    of one sign, whose difference stays in int64, are compared.

    Measured on FalkorDB 4.16: ``create_time_since_epoch < last_update_time_since_epoch`` was
    false for times ``-2`` and ``2**63 - 1``, and ``n.d > n.c`` false for ``2**62`` and
    ``-2**62``. The form is NULL exactly when one side is NULL (each of its parts then is NULL
    or FALSE, and the same-sign part NULL), so it serves under NOT too. Two enums (small
    numbers) are left as they are; no index serves a comparison of two fields either way."""
    if a.type not in ("int", "enum") or b.type not in ("int", "enum"):
        return None
    if a.type == "enum" and b.type == "enum":
        return None
    if op in ("<", "<="):
        across = f"(({left} < 0) AND ({right} >= 0))"
    else:
        across = f"(({left} >= 0) AND ({right} < 0))"
    same = f"((({left} < 0) = ({right} < 0)) AND ({left} {op} {right}))"
    return f"({across} OR {same})"


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def _ascii_upper(text: str) -> str:
    return text.translate(_ASCII_UPPER)


def _is_ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _has_ascii_letter(text: str) -> bool:
    """SQLite's LIKE folds the case of ASCII letters only (others compare as themselves)."""
    return any(map(_is_ascii_letter, text))


def _property_ref(op: Operand) -> tuple[str, str] | None:
    if isinstance(op, Field) and len(op.parts) == 3 and not op.quoted[0]:
        head = op.parts[0].lower()
        if head in ("properties", "custom_properties"):
            return ("p" if head == "properties" else "c", op.parts[1])
    return None


def _implied_properties(e: Expr) -> set[tuple[str, str]]:
    """Properties whose existence is already implied wherever ``e`` is TRUE (an atom on the
    property's value is only TRUE when the value is set), so the join check can be skipped."""
    if isinstance(e, And):
        return set().union(*(_implied_properties(x) for x in e.items))
    if isinstance(e, Or):
        sets = [_implied_properties(x) for x in e.items]
        return set.intersection(*sets) if sets else set()
    if (isinstance(e, In | Like | Between) and e.negated) or (
        isinstance(e, IsNull) and not e.negated
    ):
        return set()  # may hold where the value is unset
    return {ref for ref in map(_property_ref, _tested(e)) if ref is not None}


def _tested(e: Expr) -> list[Operand]:
    """The operands an atom tests: both sides of a comparison, else its subject ([] for a
    compound expression)."""
    if isinstance(e, Compare):
        return [e.left, e.right]
    if isinstance(e, In | Like | Between | IsNull | Truth):
        return [e.operand]
    return []


def _like_parts(pattern: str) -> tuple[str, list[str], str]:
    """The anchored start, the free segments and the anchored end of a LIKE pattern."""
    segments = pattern.split("%")
    if len(segments) == 1:
        return pattern, [], ""
    return segments[0], [s for s in segments[1:-1] if s], segments[-1]


def _fast_form(pattern: str) -> bool:
    """The pattern compiles to STARTS WITH / ENDS WITH / CONTAINS tests: no ``_``, either no
    case to fold or ASCII only, and anchored ends alone or one free segment alone."""
    first, middle, last = _like_parts(pattern)
    return (
        "_" not in pattern
        and (not middle or (len(middle) == 1 and not first and not last))
        and (pattern.isascii() or not _has_ascii_letter(pattern))
    )


def _fast_like(e: Like) -> bool:
    """An anchored fast form (a free segment alone folds the whole value: not cheap)."""
    if not (isinstance(e.pattern, Literal) and isinstance(e.pattern.value, str)):
        return False
    pattern = e.pattern.value
    first, _, last = _like_parts(pattern)
    return _fast_form(pattern) and (bool(first or last) or not _has_ascii_letter(pattern))


def _mentions_property(e: Expr) -> bool:
    return any(_property_ref(op) is not None for op in _tested(e))


def _cost(e: Expr) -> int:
    """Rough evaluation cost, to test cheap conjuncts first (AND is commutative in 3VL); ties
    keep the order written. A property read by its key parameter (``n[$k]``) costs about a
    LIKE's anchored end test (measured on FalkorDB: ~0.3 µs a node); the general LIKE matcher
    costs more."""
    if isinstance(e, Like):
        return 2 if _fast_like(e) else 3
    if _mentions_property(e):
        return 2
    if isinstance(e, And | Or):
        return max(_cost(x) for x in e.items) + 1
    if isinstance(e, Not):
        return _cost(e.expr)
    return 1


def compile_filter(text: str, kind: NodeKind, *, param_prefix: str = "f") -> CompiledFilter:
    """Parse and compile ``text`` for nodes of ``kind`` (bound to the variable ``n``).

    Raises :class:`~lineage_graph.exceptions.InvalidArgumentError` with a position for syntax
    errors, unknown fields, type mismatches and unsupported constructs.
    """
    if not text:
        return CompiledFilter()
    if not text.strip():  # as MLMD: only an unset (empty) filter selects everything
        raise filter_error(text, 0, "the expression is blank")
    return _Compiler(text, kind, param_prefix).run(parse_filter(text))
