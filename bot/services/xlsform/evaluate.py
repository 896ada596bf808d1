"""An expression's syntax tree turned once into nested Python closures, then run many times.

A 5,000-question form evaluates every `relevant` several times per answer; walking the tree
with a type test per node cost about 5 µs a question, closures a fraction of that. Nothing here
runs text as code: each closure is one of the fixed functions below, chosen by node type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Protocol

from bot.services.xlsform.regex import compile_regex
from bot.services.xlsform.syntax import (
    Binary,
    Call,
    Column,
    Current,
    ExpressionError,
    Literal,
    Negate,
    Node,
    Ref,
)
from bot.services.xlsform.values import (
    Value,
    arithmetic,
    compare,
    normalize,
    to_number,
    to_text,
    truthy,
)

# regex() takes subjects (an answer is at most 1,000 characters) and patterns up to these lengths:
# with a linear-time engine its cost is then bounded (RE2 is linear in the subject).
REGEX_SUBJECT_MAX = 4000
REGEX_PATTERN_MAX = 1000
# A regex() costs one step per this many characters it reads (subject and pattern), so that a
# budget in steps also bounds the time spent in the engine.
REGEX_CHARS_PER_STEP = 64


class Spender(Protocol):
    def spend(self, cost: int = 1) -> None: ...


class Env:
    """What one evaluation reads: answers, `.`, the date, a choice's columns, and its budget."""

    __slots__ = ("budget", "columns", "current", "text", "today", "values")

    def __init__(
        self,
        values: Mapping[str, object],
        current: object,
        today: date,
        columns: Mapping[str, object],
        text: str,
        budget: Spender,
    ) -> None:
        self.values, self.current, self.today = values, current, today
        self.columns, self.text, self.budget = columns, text, budget


Fn = Callable[[Env], Value]


def compile_node(node: Node) -> Fn:
    """The closure computing this node's value."""
    if isinstance(node, Literal):
        value: Value = node.value
        return lambda env: value
    if isinstance(node, Ref | Column):
        name = node.name
        if isinstance(node, Ref):
            return lambda env: normalize(env.values.get(name))
        return lambda env: normalize(env.columns.get(name))
    if isinstance(node, Current):
        return lambda env: normalize(env.current)
    if isinstance(node, Negate):
        operand = compile_node(node.operand)
        return lambda env: -to_number(operand(env))
    if isinstance(node, Binary):
        return _binary(node.op, compile_node(node.left), compile_node(node.right))
    return _call(node)


def _binary(op: str, left: Fn, right: Fn) -> Fn:
    if op == "and":
        return lambda env: truthy(left(env)) and truthy(right(env))
    if op == "or":
        return lambda env: truthy(left(env)) or truthy(right(env))
    if op in ("=", "!=", "<", "<=", ">", ">="):
        return lambda env: compare(op, left(env), right(env))
    return lambda env: arithmetic(op, left(env), right(env))


def _call(node: Call) -> Fn:
    name = node.name
    args = [compile_node(arg) for arg in node.args]
    first = args[0] if args else None
    if name == "if":
        test, then, otherwise = args
        return lambda env: then(env) if truthy(test(env)) else otherwise(env)
    if name == "coalesce":
        second = args[1]

        def coalesce(env: Env) -> Value:
            value = args[0](env)
            return value if to_text(value) != "" else second(env)

        return coalesce
    if name == "today":
        return lambda env: env.today.isoformat()
    if name in ("true", "false"):
        constant = name == "true"
        return lambda env: constant
    if name == "regex":
        return _regex(args[0], args[1], node.pos)
    if name == "concat":
        return lambda env: "".join(to_text(arg(env)) for arg in args)
    assert first is not None  # every other function takes at least one argument (syntax.py)
    if name in ("selected", "contains"):
        other = args[1]
        if name == "contains":
            return lambda env: to_text(other(env)) in to_text(first(env))
        return lambda env: to_text(other(env)).strip() in to_text(first(env)).split()
    one: dict[str, Callable[[Value], Value]] = {
        "count-selected": lambda v: float(len(to_text(v).split())),
        "string-length": lambda v: float(len(to_text(v))),
        "not": lambda v: not truthy(v),
        "number": to_number,
        "string": to_text,
    }
    apply = one[name]
    return lambda env: apply(first(env))


def _regex(subject_of: Fn, pattern_of: Fn, pos: int) -> Fn:
    def regex(env: Env) -> Value:
        subject, pattern = to_text(subject_of(env)), to_text(pattern_of(env))
        # Refused, not cut: a cut subject could pass a `^...$` rule its tail breaks.
        if len(subject) > REGEX_SUBJECT_MAX or len(pattern) > REGEX_PATTERN_MAX:
            raise ExpressionError("regex() on a text or pattern too long", pos, env.text)
        env.budget.spend((len(subject) + len(pattern)) // REGEX_CHARS_PER_STEP)
        return compile_regex(pattern, pos, env.text).search(subject) is not None

    return regex
