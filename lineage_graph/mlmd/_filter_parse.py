"""Tokenizer and recursive-descent parser for MLMD's ``filter_query`` language.

MLMD parses filters as ZetaSQL boolean expressions; this module accepts the subset MLMD documents
and its users write: ``AND`` / ``OR`` / ``NOT``, parentheses, ``= != <> < <= > >=``,
``[NOT] IN (...)``, ``[NOT] LIKE``, ``[NOT] BETWEEN ... AND ...``, ``IS [NOT] NULL``, dotted field
paths with back-quoted parts (a part right after a dot may start with a digit:
``custom_properties.1.int_value``), string literals in single or double quotes with ZetaSQL escapes,
ints (decimal and hex), floats and ``TRUE`` / ``FALSE`` / ``NULL``, arithmetic (``+ - * /``,
unary signs, parentheses) between literals, folded here as MLMD's SQLite evaluates it, and
comments (``-- …``, ``# …`` to the end of the line, ``/* … */``). Keywords and attribute names
are case-insensitive, as in ZetaSQL.

Every syntax error is an :class:`~lineage_graph.exceptions.InvalidArgumentError` whose message
ends with ``[at line:column]`` (1-based, MLMD's format) so users can point at the culprit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..exceptions import InvalidArgumentError

__all__ = [
    "And",
    "Between",
    "Compare",
    "Expr",
    "Field",
    "In",
    "IsNull",
    "Like",
    "Literal",
    "Not",
    "Operand",
    "Or",
    "Truth",
    "filter_error",
    "parse_filter",
]

#: A bound on the work a filter makes (MLMD 1.17.1 answers longer ones: a 1,000,000-character
#: string literal, see docs/mlmd-compatibility.md); it keeps the tokenizer and parser bounded.
MAX_FILTER_CHARS = 1_000_000
MAX_DEPTH = 200


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{column}"


def filter_error(text: str, offset: int, message: str) -> InvalidArgumentError:
    """An ``InvalidArgumentError`` pointing at ``offset`` of the filter, MLMD style."""
    return InvalidArgumentError(f"Invalid `filter_query`: {message} [at {_position(text, offset)}]")


# ------------------------------------------------------------------------------------- tokens

#: "ident" | "qident" | "str" | "int" | "float" | "op" | "punct" | "kw" | "end" (a plain str:
#: the parser re-reads ``tok`` after advancing, which Literal narrowing would misjudge).
TokenKind = str
KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL", "TRUE", "FALSE", "BETWEEN"})


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # the token's value: keyword upper-cased, identifier/string decoded
    pos: int


#: ZetaSQL's white space (measured on MLMD 1.17.1): ASCII's and backspace, and the Unicode
#: spaces below; U+001C-U+001F, U+0085, U+1680, U+2028 and U+2029 (which Python's ``\s`` takes)
#: are illegal characters there.
_SPACE = re.compile("[ \t\n\r\v\f\b\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_END = re.compile(r"\r\n?|\n")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A path part right after a dot (no space between) may start with a digit, as in ZetaSQL:
#: ``custom_properties.1.int_value`` reads the property ``1`` in MLMD 1.17.1.
_DOT_IDENT = re.compile(r"[0-9A-Za-z_]+")
_DIGITS = frozenset("0123456789")
_NUMBER = re.compile(r"0[xX][0-9A-Fa-f]+|(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?")
_OPS = ("<=", ">=", "!=", "<>", "=", "<", ">")
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "?": "?",
    '"': '"',
    "'": "'",
    "`": "`",
}


def _read_quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """Decode a quoted literal starting at ``start`` (the quote); returns (value, end)."""
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch in "\r\n" and quote != "`":  # ZetaSQL ends a line at either (MLMD: unclosed)
            break
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            break
        esc = text[i + 1]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            i += 2
        elif esc in "xX":
            digits = text[i + 2 : i + 4]
            if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise filter_error(text, i, "Syntax error: Illegal escape sequence: \\x")
            out.append(chr(int(digits, 16)))
            i += 4
        elif esc in "uU":
            width = 4 if esc == "u" else 8
            digits = text[i + 2 : i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise filter_error(text, i, f"Syntax error: Illegal escape sequence: \\{esc}")
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise filter_error(text, i, "Syntax error: Illegal escape sequence: bad code point")
            out.append(chr(code))
            i += 2 + width
        elif esc in "01234567":
            digits = text[i + 1 : i + 4]
            if len(digits) != 3 or not all(c in "01234567" for c in digits) or digits > "377":
                raise filter_error(text, i, "Syntax error: Illegal escape sequence: octal")
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise filter_error(text, i, f"Syntax error: Illegal escape sequence: \\{esc}")
    what = "identifier" if quote == "`" else "string literal"
    raise filter_error(text, start, f"Syntax error: Unclosed {what}")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(text)
    last_end = -1  # where the last token ends (a path's dots have no space around them)
    while i < n:
        count = len(tokens)
        m = _SPACE.match(text, i)
        if m:
            i = m.end()
            continue
        ch = text[i]
        if ch == "#" or text.startswith("--", i):
            m = _LINE_END.search(text, i)
            i = n if m is None else m.end()
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise filter_error(text, i, "Syntax error: Unclosed comment")
            i = end + 2
            continue
        if (ch.isalpha() and ch.isascii()) or ch == "_":
            m = _IDENT.match(text, i)
            assert m is not None
            word = m.group()
            if word.upper() in KEYWORDS:
                tokens.append(Token("kw", word.upper(), i))
            else:
                tokens.append(Token("ident", word, i))
            i = m.end()
        elif ch in _DIGITS and last_end == i and tokens[-1] == Token("punct", ".", i - 1):
            # a path part after a dot: ``custom_properties.1.int_value``, ``….1e5.…``
            m = _DOT_IDENT.match(text, i)
            assert m is not None
            tokens.append(Token("ident", m.group(), i))
            i = m.end()
        elif ch == "." and last_end == i and tokens[-1].kind in ("ident", "qident"):
            # a path's dot, before a part such as ``1``; not after a keyword: ``OR.5`` is OR 0.5
            tokens.append(Token("punct", ".", i))
            i += 1
        elif ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            m = _NUMBER.match(text, i)
            assert m is not None
            raw = m.group()
            if m.end() < n and (text[m.end()].isalnum() or text[m.end()] == "_"):
                raise filter_error(text, m.end(), "Syntax error: Unexpected character in number")
            is_int = raw[:2].lower() == "0x" or not any(c in raw for c in ".eE")
            tokens.append(Token("int" if is_int else "float", raw, i))
            i = m.end()
        elif ch in "\"'":
            if text.startswith(ch * 3, i):
                raise filter_error(text, i, "Syntax error: triple-quoted strings are unsupported")
            value, end = _read_quoted(text, i, ch)
            tokens.append(Token("str", value, i))
            i = end
        elif ch == "`":
            value, end = _read_quoted(text, i, "`")
            if not value:
                raise filter_error(text, i, "Syntax error: Invalid empty identifier")
            tokens.append(Token("qident", value, i))
            i = end
        elif ch in "(),.-+*/":
            tokens.append(Token("punct", ch, i))
            i += 1
        else:
            for op in _OPS:
                if text.startswith(op, i):
                    tokens.append(Token("op", "!=" if op == "<>" else op, i))
                    i += len(op)
                    break
            else:
                raise filter_error(text, i, f'Syntax error: Illegal input character "{ch}"')
        if len(tokens) > count:
            last_end = i
    tokens.append(Token("end", "", n))
    return tokens


# ---------------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Literal:
    """A literal, or the folded value of arithmetic between literals (``computed``): its NULL
    (a division by zero) is a DOUBLE that compares as NULL, where a NULL literal is an error."""

    value: int | float | str | bool | None
    pos: int
    computed: bool = False
    #: Integer arithmetic that left int64: a double in SQLite, but typed INT64 by ZetaSQL, so
    #: MLMD compares it with an integer field exactly (not as doubles, as a DOUBLE literal).
    overflowed: bool = False


@dataclass(frozen=True)
class Field:
    """A dotted path; ``quoted[i]`` tells whether part ``i`` was back-quoted."""

    parts: tuple[str, ...]
    quoted: tuple[bool, ...]
    pos: int


Operand = Literal | Field


@dataclass(frozen=True)
class Compare:
    op: str
    left: Operand
    right: Operand
    pos: int


@dataclass(frozen=True)
class In:
    operand: Operand
    values: tuple[Operand, ...]
    negated: bool
    pos: int


@dataclass(frozen=True)
class Like:
    operand: Operand
    pattern: Operand
    negated: bool
    pos: int


@dataclass(frozen=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand
    negated: bool
    pos: int


@dataclass(frozen=True)
class IsNull:
    operand: Operand
    negated: bool
    pos: int


@dataclass(frozen=True)
class Truth:
    """An operand used as a predicate: ``TRUE``, ``properties.flag.bool_value``."""

    operand: Operand
    pos: int


@dataclass(frozen=True)
class Not:
    expr: Expr
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Expr = Compare | In | Like | Between | IsNull | Truth | Not | And | Or


# ------------------------------------------------------------------------------------- parser


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "end of input"
    if tok.kind in ("ident", "qident"):
        return f'identifier "{tok.text[:40]}"'
    if tok.kind == "kw":
        return f"keyword {tok.text}"
    if tok.kind == "str":
        return "string literal"
    if tok.kind in ("int", "float"):
        return f"number {tok.text[:40]}"
    return f'"{tok.text}"'


def _drop_redundant_parentheses(tokens: list[Token]) -> list[Token]:
    """``tokens`` with each doubled pair of parentheses, ``((X))``, made one, ``(X)`` (the same
    meaning wherever it stands: condition, operand or IN list), so that MAX_DEPTH counts real
    nesting only. MLMD 1.17.1 accepts any number of them (measured up to 20,000); unmatched
    parentheses are left for the parser to report."""
    match: dict[int, int] = {}
    opened: list[int] = []
    for i, tok in enumerate(tokens):
        if tok.kind == "punct" and tok.text == "(":
            opened.append(i)
        elif tok.kind == "punct" and tok.text == ")" and opened:
            match[opened.pop()] = i
    # The outer of two pairs that open and close next to each other.
    dropped = {i for i, j in match.items() if match.get(i + 1) == j - 1}
    if not dropped:
        return tokens
    closing = {match[i] for i in dropped}
    return [tok for i, tok in enumerate(tokens) if i not in dropped and i not in closing]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _drop_redundant_parentheses(tokenize(text))
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str, tok: Token | None = None) -> InvalidArgumentError:
        return filter_error(self.text, (tok or self.tok).pos, message)

    def unexpected(self, expected: str) -> InvalidArgumentError:
        return self.error(f"Syntax error: Expected {expected} but got {_describe(self.tok)}")

    def accept_kw(self, word: str) -> bool:
        if self.tok.kind == "kw" and self.tok.text == word:
            self.i += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.accept_kw(word):
            raise self.unexpected(f"keyword {word}")

    def accept_punct(self, ch: str) -> bool:
        if self.tok.kind == "punct" and self.tok.text == ch:
            self.i += 1
            return True
        return False

    def expect_punct(self, ch: str) -> None:
        if not self.accept_punct(ch):
            raise self.unexpected(f'"{ch}"')

    def parse(self) -> Expr:
        if self.tok.kind == "end":
            raise self.error("Syntax error: Unexpected end of input")
        expr = self.or_expr()
        if self.tok.kind != "end":
            raise self.unexpected("end of input")
        return expr

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"Syntax error: expression nested deeper than {MAX_DEPTH} levels")

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.accept_kw("OR"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Expr:
        items = [self.not_expr()]
        while self.accept_kw("AND"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Expr:
        tok = self.tok
        if self.accept_kw("NOT"):
            self._enter()
            inner = self.not_expr()
            self.depth -= 1
            return Not(inner, tok.pos)
        return self.predicate()

    def predicate(self) -> Expr:
        start = self.tok
        if self.tok.kind == "punct" and self.tok.text == "(":
            opened, depth = self.i, self.depth
            self.i += 1
            failed: InvalidArgumentError | None = None
            try:
                self._enter()
                inner = self.or_expr()
                self.expect_punct(")")
            except InvalidArgumentError as exc:
                failed = exc  # perhaps ``(1 + 1) = id``, ``(id) = 1``: an operand, read below
            self.depth = depth
            compared = (
                self.tok.kind == "op"
                or (self.tok.kind == "punct" and self.tok.text in ("+", "-", "*", "/"))
                or (
                    self.tok.kind == "kw"
                    and self.tok.text in ("IN", "LIKE", "IS", "BETWEEN", "NOT")
                )
            )
            if failed is None and not compared:
                return inner
            self.i = opened  # a parenthesized operand: read it again as one
            try:
                left = self.operand()
            except InvalidArgumentError:
                raise failed or self.error(
                    "Syntax error: a parenthesized condition cannot be compared", start
                ) from None
        else:
            left = self.operand()
        tok = self.tok
        if tok.kind == "op":
            self.i += 1
            return Compare(tok.text, left, self.operand(), tok.pos)
        if self.accept_kw("IS"):
            negated = self.accept_kw("NOT")
            self.expect_kw("NULL")
            return IsNull(left, negated, tok.pos)
        negated = False
        if tok.kind == "kw" and tok.text == "NOT":
            nxt = self.tokens[self.i + 1]
            if nxt.kind == "kw" and nxt.text in ("IN", "LIKE", "BETWEEN"):
                self.i += 1
                negated = True
            else:
                raise self.error("Syntax error: Unexpected keyword NOT")
        op_tok = self.tok
        if self.accept_kw("IN"):
            self.expect_punct("(")
            values = [self.operand()]
            while self.accept_punct(","):
                values.append(self.operand())
            self.expect_punct(")")
            return In(left, tuple(values), negated, op_tok.pos)
        if self.accept_kw("LIKE"):
            return Like(left, self.operand(), negated, op_tok.pos)
        if self.accept_kw("BETWEEN"):
            low = self.operand()
            self.expect_kw("AND")
            high = self.operand()
            return Between(left, low, high, negated, op_tok.pos)
        if negated:  # pragma: no cover - guarded above
            raise self.unexpected("IN, LIKE or BETWEEN")
        return Truth(left, start.pos)

    def operand(self) -> Operand:
        """A field, or literals joined by ``+ -`` (lowest), ``* /``, unary signs and
        parentheses, folded to one :class:`Literal`."""
        left = self.term()
        while self.tok.kind == "punct" and self.tok.text in ("+", "-"):
            op = self.tok
            self.i += 1
            left = self._fold(op, left, self.term())
        return left

    def term(self) -> Operand:
        # Written out like operand(), not through a shared helper: each level of parentheses
        # costs Python frames, and MAX_DEPTH levels must fit the interpreter's recursion limit.
        left = self.factor()
        while self.tok.kind == "punct" and self.tok.text in ("*", "/"):
            op = self.tok
            self.i += 1
            left = self._fold(op, left, self.factor())
        return left

    def factor(self) -> Operand:
        tok = self.tok
        if tok.kind == "punct" and tok.text in ("-", "+"):
            nxt = self.tokens[self.i + 1]
            # A minus right before a number is part of it: -9223372036854775808 is an int64.
            if tok.text == "-" and nxt.kind in ("int", "float"):
                self.i += 2
                return Literal(self._number(nxt, negative=tok), tok.pos)
            self.i += 1
            self._enter()
            inner = self.factor()
            self.depth -= 1
            if tok.text == "+":
                self._number_of(inner, "+")
                return inner
            return self._fold(tok, Literal(0, tok.pos), inner)
        if tok.kind == "punct" and tok.text == "(":
            self.i += 1
            self._enter()
            inner = self.operand()
            self.depth -= 1
            self.expect_punct(")")
            return inner
        if tok.kind in ("int", "float"):
            self.i += 1
            return Literal(self._number(tok), tok.pos)
        if tok.kind == "str":
            self.i += 1
            return Literal(tok.text, tok.pos)
        if tok.kind == "kw" and tok.text in ("TRUE", "FALSE", "NULL"):
            self.i += 1
            value = None if tok.text == "NULL" else tok.text == "TRUE"
            return Literal(value, tok.pos)
        if tok.kind in ("ident", "qident"):
            return self.field()
        raise self.unexpected("a field or a literal")

    def _number_of(self, x: Operand, op: str) -> None:
        """Raise unless ``x`` may take part in arithmetic: a number, or NULL computed by
        arithmetic (a NULL literal may not, as in ZetaSQL)."""
        if isinstance(x, Literal) and x.value is None and not x.computed:
            raise filter_error(self.text, x.pos, f"Operands of {op} cannot be literal NULL")
        if isinstance(x, Field):
            raise filter_error(
                self.text, x.pos, "Syntax error: arithmetic is supported between literals only"
            )
        if isinstance(x.value, bool | str):
            kind = "BOOL" if isinstance(x.value, bool) else "STRING"
            raise filter_error(
                self.text, x.pos, f"No matching signature for an arithmetic operator for {kind}"
            )

    def _fold(self, op: Token, a: Operand, b: Operand) -> Literal:
        """``a op b`` as SQLite computes it for MLMD: integers stay integers unless they leave
        int64 (then they become doubles), ``/`` divides as doubles, and dividing by zero or
        computing with such a NULL gives NULL (a DOUBLE). Measured against ml_metadata 1.17.1."""
        self._number_of(a, op.text)
        self._number_of(b, op.text)
        assert isinstance(a, Literal) and isinstance(b, Literal)
        x, y = a.value, b.value
        if x is None or y is None:
            return Literal(None, a.pos, computed=True)
        assert isinstance(x, int | float) and isinstance(y, int | float)
        result: int | float | None
        if op.text == "/":
            result = None if y == 0 else float(x) / float(y)
        elif op.text == "*":
            result = x * y
        else:
            result = x + y if op.text == "+" else x - y
        overflowed = op.text != "/" and all(
            isinstance(v.value, int) or v.overflowed for v in (a, b)
        )
        if isinstance(result, int) and not -(2**63) <= result <= 2**63 - 1:
            result = float(result)
        if isinstance(result, float) and result in (float("inf"), float("-inf")):
            raise self.error("Floating point overflow", op)
        overflowed = overflowed and isinstance(result, float)
        return Literal(result, a.pos, computed=True, overflowed=overflowed)

    def _number(self, tok: Token, *, negative: Token | None = None) -> int | float:
        """The number of ``tok``, negated when ``negative`` (the minus sign before it)."""
        raw = tok.text
        if tok.kind == "int":
            value = int(raw, 16) if raw[:2].lower() == "0x" else int(raw, 10)
            value = -value if negative else value
            if not -(2**63) <= value <= 2**63 - 1:
                sign = "-" if negative else ""
                raise self.error(f"Invalid integer literal: {sign}{raw[:40]}", negative or tok)
            return value
        number = -float(raw) if negative else float(raw)
        if number in (float("inf"), float("-inf")):
            raise self.error(f"Invalid floating point literal: {raw[:40]}", tok)
        return number

    def field(self) -> Field:
        start = self.tok
        parts: list[str] = []
        quoted: list[bool] = []
        while True:
            tok = self.tok
            if tok.kind not in ("ident", "qident"):
                # ``properties.NULL`` etc.: keywords are valid path parts after a dot in ZetaSQL
                if parts and tok.kind == "kw":
                    parts.append(tok.text.lower())
                    quoted.append(False)
                    self.i += 1
                else:
                    raise self.unexpected("an identifier")
            else:
                parts.append(tok.text)
                quoted.append(tok.kind == "qident")
                self.i += 1
            if not self.accept_punct("."):
                break
        return Field(tuple(parts), tuple(quoted), start.pos)


def parse_filter(text: str) -> Expr:
    """The AST of ``text``; :class:`InvalidArgumentError` with a position on a syntax error."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidArgumentError(
            f"Invalid `filter_query`: longer than {MAX_FILTER_CHARS} characters"
        )
    return _Parser(text).parse()
