"""The grammar of XLSForm expressions: tokens, syntax tree and a whitelist parser."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_LENGTH = 2000
# Python's own recursion limit must never be what stops a hostile expression.
MAX_DEPTH = 60


class ExpressionError(ValueError):
    """An expression that does not parse or cannot be evaluated."""

    def __init__(
        self,
        message: str,
        position: int | None = None,
        text: str = "",
        key: str = "",
        **params: str,
    ) -> None:
        self.message = message
        self.position = position
        self.text = text
        # The catalog key and values that say it to staff (a form refused at load).
        self.key = key
        self.params = params
        where = f" at position {position + 1}" if position is not None else ""
        super().__init__(f"{message}{where}")


# --- tokens ---------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ref>\$\{(?P<refname>[^}]*)\})
  | (?P<num>\d+(?:\.\d*)?|\.\d+)
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:[-.:][A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,|\.)
    """,
    re.VERBOSE,
)
_REF_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_KEYWORDS = frozenset({"and", "or", "div", "mod"})


@dataclass(frozen=True)
class _Tok:
    kind: str  # ref, num, str, name, op, end
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    """Split an expression into tokens, refusing any character outside the grammar."""
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text.startswith("${", pos):
                raise ExpressionError("unclosed ${...} reference", pos, text, "expr.unclosed_ref")
            if text[pos] in "'\"":
                problem = "unclosed string (missing closing quote)"
                raise ExpressionError(problem, pos, text, "expr.unclosed_string")
            char = repr(text[pos])
            problem = f"unexpected character {char}"
            raise ExpressionError(problem, pos, text, "expr.unexpected_char", char=char)
        kind = match.lastgroup or ""
        if kind == "refname":
            kind = "ref"
        if kind == "ref":
            name = match.group("refname").strip()
            if not _REF_NAME.fullmatch(name):
                problem = f"invalid question name in ${{{name}}}"
                raise ExpressionError(problem, pos, text, "expr.invalid_ref", name=name)
            tokens.append(_Tok("ref", name, pos))
        elif kind == "str":
            tokens.append(_Tok("str", match.group()[1:-1], pos))
        elif kind != "ws":
            tokens.append(_Tok(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Tok("end", "", len(text)))
    return tokens


# --- AST ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: str | float
    pos: int


@dataclass(frozen=True)
class Ref:
    name: str
    pos: int


@dataclass(frozen=True)
class Column:
    """A bare name: a column of the choices sheet inside a choice_filter."""

    name: str
    pos: int


@dataclass(frozen=True)
class Current:
    pos: int


@dataclass(frozen=True)
class Negate:
    operand: Node
    pos: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


Node = Literal | Ref | Column | Current | Negate | Binary | Call

# name -> (min args, max args)
FUNCTIONS: dict[str, tuple[int, int]] = {
    "selected": (2, 2),
    "count-selected": (1, 1),
    "string-length": (1, 1),
    "regex": (2, 2),
    "if": (3, 3),
    "coalesce": (2, 2),
    "today": (0, 0),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "number": (1, 1),
    "string": (1, 1),
    "concat": (1, 20),
    "contains": (2, 2),
}


class Parser:
    def __init__(self, text: str, allow_columns: bool) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.allow_columns = allow_columns

    def peek(self) -> _Tok:
        return self.tokens[self.i]

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, expected: str, key: str = "expr.expected") -> ExpressionError:
        tok = self.peek()
        found = "the end of the expression" if tok.kind == "end" else repr(tok.text)
        shown = {"found_key": "expr.found_end"} if tok.kind == "end" else {"found": found}
        problem = f"expected {expected}, found {found}"
        return ExpressionError(problem, tok.pos, self.text, key, expected=expected, **shown)

    def expect_op(self, op: str) -> _Tok:
        if self.peek().kind == "op" and self.peek().text == op:
            return self.take()
        raise self.fail(repr(op))

    def is_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.text in words

    def is_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.text in ops

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail("an operator (and, or, =, +, ...) or the end", "expr.expected_operator")
        return node

    def binary(self, next_level: Callable[[], Node], ops: Sequence[str], words: bool) -> Node:
        node = next_level()
        while self.is_word(*ops) if words else self.is_op(*ops):
            tok = self.take()
            node = Binary(tok.text, node, next_level(), tok.pos)
        return node

    def or_expr(self) -> Node:
        return self.binary(self.and_expr, ("or",), words=True)

    def and_expr(self) -> Node:
        return self.binary(self.equality, ("and",), words=True)

    def equality(self) -> Node:
        return self.binary(self.relational, ("=", "!="), words=False)

    def relational(self) -> Node:
        return self.binary(self.additive, ("<", "<=", ">", ">="), words=False)

    def additive(self) -> Node:
        return self.binary(self.multiplicative, ("+", "-"), words=False)

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.is_op("*") or self.is_word("div", "mod"):
            tok = self.take()
            node = Binary(tok.text, node, self.unary(), tok.pos)
        return node

    def unary(self) -> Node:
        if self.is_op("-"):
            tok = self.take()
            return Negate(self.nested(self.unary), tok.pos)
        return self.primary()

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            problem = "expression is nested too deeply"
            raise ExpressionError(problem, self.peek().pos, self.text, "expr.nested")
        try:
            return parse()
        finally:
            self.depth -= 1

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "num":
            self.take()
            return Literal(float(tok.text), tok.pos)
        if tok.kind == "str":
            self.take()
            return Literal(tok.text, tok.pos)
        if tok.kind == "ref":
            self.take()
            return Ref(tok.text, tok.pos)
        if tok.kind == "op" and tok.text == ".":
            self.take()
            return Current(tok.pos)
        if tok.kind == "op" and tok.text == "(":
            self.take()
            node = self.nested(self.or_expr)
            self.expect_op(")")
            return node
        if tok.kind == "name" and tok.text not in _KEYWORDS:
            self.take()
            if self.is_op("("):
                return self.call(tok)
            if self.allow_columns:
                return Column(tok.text, tok.pos)
            raise ExpressionError(
                f"bare name {tok.text!r}: write ${{{tok.text}}} for a question, "
                f"'{tok.text}' for a text, or {tok.text}(...) for a function",
                tok.pos,
                self.text,
                "expr.bare_name",
                name=repr(tok.text),
                bare=tok.text,
            )
        expected = "a value: ${name}, '.', a number, a 'text', a function or '('"
        raise self.fail(expected, "expr.expected_value")

    def call(self, name_tok: _Tok) -> Node:
        name = name_tok.text
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(
                f"unknown function {name}() (supported: {known})",
                name_tok.pos,
                self.text,
                "expr.unknown_function",
                name=name,
                known=known,
            )
        self.expect_op("(")
        args: list[Node] = []
        if not self.is_op(")"):
            args.append(self.nested(self.or_expr))
            while self.is_op(","):
                self.take()
                args.append(self.nested(self.or_expr))
        self.expect_op(")")
        low, high = FUNCTIONS[name]
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            key = "expr.arguments" if low == high else "expr.arguments_range"
            raise ExpressionError(
                f"{name}() takes {wanted} argument(s), got {len(args)}",
                name_tok.pos,
                self.text,
                key,
                name=name,
                wanted=wanted,
                low=str(low),
                high=str(high),
                got=str(len(args)),
            )
        return Call(name, tuple(args), name_tok.pos)
