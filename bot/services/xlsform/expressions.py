"""A whitelist parser and evaluator for the XPath-like expressions of XLSForm (never `eval`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from bot.services.xlsform.values import (
    Value,
    arithmetic,
    compare,
    normalize,
    to_number,
    to_text,
    truthy,
)

MAX_LENGTH = 2000
# Python's own recursion limit must never be what stops a hostile expression.
MAX_DEPTH = 60
# Staff-written patterns run against member text; a cap keeps backtracking bounded.
REGEX_SUBJECT_MAX = 4000


class ExpressionError(ValueError):
    """An expression that does not parse or cannot be evaluated."""

    def __init__(self, message: str, position: int | None = None, text: str = "") -> None:
        self.message = message
        self.position = position
        self.text = text
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
                raise ExpressionError("unclosed ${...} reference", pos, text)
            if text[pos] in "'\"":
                raise ExpressionError("unclosed string (missing closing quote)", pos, text)
            raise ExpressionError(f"unexpected character {text[pos]!r}", pos, text)
        kind = match.lastgroup or ""
        if kind == "refname":
            kind = "ref"
        if kind == "ref":
            name = match.group("refname").strip()
            if not _REF_NAME.fullmatch(name):
                raise ExpressionError(f"invalid question name in ${{{name}}}", pos, text)
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


class _Parser:
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

    def fail(self, expected: str) -> ExpressionError:
        tok = self.peek()
        found = "the end of the expression" if tok.kind == "end" else repr(tok.text)
        return ExpressionError(f"expected {expected}, found {found}", tok.pos, self.text)

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
            raise self.fail("an operator (and, or, =, +, ...) or the end")
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
            raise ExpressionError("expression is nested too deeply", self.peek().pos, self.text)
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
            )
        raise self.fail("a value: ${name}, '.', a number, a 'text', a function or '('")

    def call(self, name_tok: _Tok) -> Node:
        name = name_tok.text
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(
                f"unknown function {name}() (supported: {known})", name_tok.pos, self.text
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
            raise ExpressionError(
                f"{name}() takes {wanted} argument(s), got {len(args)}", name_tok.pos, self.text
            )
        if name == "regex" and isinstance(args[1], Literal):
            _compile(str(args[1].value), args[1].pos, self.text)
        return Call(name, tuple(args), name_tok.pos)


def _compile(pattern: str, pos: int | None, text: str) -> re.Pattern[str]:
    """Compile a regex() pattern, reporting a bad one as an expression error."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ExpressionError(f"invalid regular expression: {exc}", pos, text) from None


@dataclass(frozen=True)
class _Env:
    values: Mapping[str, object]
    current: object
    today: date
    columns: Mapping[str, object]
    text: str


def _eval(node: Node, env: _Env) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return normalize(env.values.get(node.name))
    if isinstance(node, Column):
        return normalize(env.columns.get(node.name))
    if isinstance(node, Current):
        return normalize(env.current)
    if isinstance(node, Negate):
        return -to_number(_eval(node.operand, env))
    if isinstance(node, Binary):
        if node.op == "and":
            return truthy(_eval(node.left, env)) and truthy(_eval(node.right, env))
        if node.op == "or":
            return truthy(_eval(node.left, env)) or truthy(_eval(node.right, env))
        left, right = _eval(node.left, env), _eval(node.right, env)
        if node.op in ("=", "!=", "<", "<=", ">", ">="):
            return compare(node.op, left, right)
        return arithmetic(node.op, left, right)
    return _call(node, env)


def _call(node: Call, env: _Env) -> Value:
    name, args = node.name, node.args
    if name == "if":
        return _eval(args[1] if truthy(_eval(args[0], env)) else args[2], env)
    if name == "coalesce":
        first = _eval(args[0], env)
        return first if to_text(first) != "" else _eval(args[1], env)
    vals = [_eval(arg, env) for arg in args]
    if name == "selected":
        return to_text(vals[1]).strip() in to_text(vals[0]).split()
    if name == "count-selected":
        return float(len(to_text(vals[0]).split()))
    if name == "string-length":
        return float(len(to_text(vals[0])))
    if name == "regex":
        subject = to_text(vals[0])[:REGEX_SUBJECT_MAX]
        return _compile(to_text(vals[1]), node.pos, env.text).search(subject) is not None
    if name == "today":
        return env.today.isoformat()
    if name == "not":
        return not truthy(vals[0])
    if name in ("true", "false"):
        return name == "true"
    if name == "number":
        return to_number(vals[0])
    if name == "contains":
        return to_text(vals[1]) in to_text(vals[0])
    if name == "concat":
        return "".join(to_text(v) for v in vals)
    return to_text(vals[0])  # string()


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Negate):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def _walk(node: Node) -> list[Node]:
    found: list[Node] = []
    stack = [node]
    while stack:
        item = stack.pop()
        found.append(item)
        stack.extend(_children(item))
    return found


def _height(root: Node) -> int:
    """Height of the tree, computed without recursion (evaluation recurses once per level)."""
    best = 0
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        best = max(best, level)
        stack.extend((child, level + 1) for child in _children(node))
    return best


@dataclass(frozen=True)
class Expression:
    """A parsed expression: evaluate it as often as needed, it never runs Python code."""

    text: str
    root: Node = field(repr=False)

    def evaluate(
        self,
        values: Mapping[str, object],
        current: object = None,
        today: date | None = None,
        columns: Mapping[str, object] | None = None,
    ) -> Value:
        """Evaluate: answers by question name, `.` is `current`, choice columns by bare name."""
        env = _Env(values, current, today or datetime.now(UTC).date(), columns or {}, self.text)
        return _eval(self.root, env)

    def test(
        self,
        values: Mapping[str, object],
        current: object = None,
        today: date | None = None,
        columns: Mapping[str, object] | None = None,
    ) -> bool:
        """Evaluate and convert the result to true or false."""
        return truthy(self.evaluate(values, current, today, columns))

    def references(self) -> set[str]:
        """Names of the questions referenced as ${name}."""
        return {node.name for node in _walk(self.root) if isinstance(node, Ref)}

    def columns(self) -> set[str]:
        """Bare names (choice columns) used in a choice_filter."""
        return {node.name for node in _walk(self.root) if isinstance(node, Column)}

    def uses_current(self) -> bool:
        """Whether '.' (the answer being checked) appears."""
        return any(isinstance(node, Current) for node in _walk(self.root))


def parse_expression(text: str, *, choice_columns: bool = False) -> Expression:
    """Parse an expression or raise ExpressionError saying where and what was expected."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH, text)
    if not text.strip():
        raise ExpressionError("empty expression", 0, text)
    root = _Parser(text, choice_columns).parse()
    if _height(root) > MAX_DEPTH:
        raise ExpressionError(f"expression has more than {MAX_DEPTH} levels; split it", 0, text)
    return Expression(text, root)
