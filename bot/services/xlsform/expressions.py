"""Evaluate the XPath-like expressions of XLSForm on their syntax tree (never `eval`), within a
budget: a member's answer cannot make the bot evaluate without end, whatever the form says."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.services.xlsform.regex import compile_regex
from bot.services.xlsform.syntax import (
    MAX_DEPTH,
    MAX_LENGTH,
    Binary,
    Call,
    Column,
    Current,
    ExpressionError,
    Literal,
    Negate,
    Node,
    Parser,
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

__all__ = ["Budget", "BudgetExceeded", "Expression", "ExpressionError", "parse_expression"]

# regex() takes subjects (an answer is at most 1,000 characters) and patterns up to these lengths:
# with a linear-time engine its cost is then bounded (RE2 is linear in the subject).
REGEX_SUBJECT_MAX = 4000
REGEX_PATTERN_MAX = 1000
# A regex() costs one step per this many characters it reads (subject and pattern), so that a
# budget in steps also bounds the time spent in the engine.
REGEX_CHARS_PER_STEP = 64
# What one answer may cost, whatever the form: every node evaluated is a step. The form's own
# worst case is checked at load (limits.py) well below this; the deadline is the last guard.
STEPS = 200_000
SECONDS = 0.25
_CHECK_EVERY = 256  # steps between two reads of the timer


class BudgetExceeded(ExpressionError):
    """Evaluating for one answer went past its budget; `row` is the form row being evaluated."""

    def __init__(self, row: int | None = None, text: str = "") -> None:
        self.row = row
        where = f"row {row}: " if row is not None else ""
        super().__init__(f"{where}evaluating the form took longer than its budget", None, text)


class Budget:
    """Steps and a deadline for evaluating one answer (made fresh for each answer).

    The deadline is a duration on a monotonic timer, not an instant: it says nothing about the
    date, which comes from the injected clock.
    """

    def __init__(
        self,
        steps: int = STEPS,
        seconds: float = SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.left = steps
        self._timer = timer
        self._deadline = timer() + seconds
        self._until_check = _CHECK_EVERY

    def spend(self, cost: int = 1) -> None:
        """Take `cost` steps; BudgetExceeded when the steps or the time have run out."""
        self.left -= cost
        self._until_check -= cost
        if self.left < 0:
            raise BudgetExceeded
        if self._until_check <= 0:
            self._until_check = _CHECK_EVERY
            if self._timer() > self._deadline:
                raise BudgetExceeded


@dataclass(frozen=True)
class _Env:
    values: Mapping[str, object]
    current: object
    today: date
    columns: Mapping[str, object]
    text: str
    budget: Budget


def _eval(node: Node, env: _Env) -> Value:
    env.budget.spend()
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
        subject, pattern = to_text(vals[0]), to_text(vals[1])
        # Refused, not cut: a cut subject could pass a `^...$` rule its tail breaks.
        if len(subject) > REGEX_SUBJECT_MAX or len(pattern) > REGEX_PATTERN_MAX:
            raise ExpressionError("regex() on a text or pattern too long", node.pos, env.text)
        env.budget.spend((len(subject) + len(pattern)) // REGEX_CHARS_PER_STEP)
        return compile_regex(pattern, node.pos, env.text).search(subject) is not None
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
    # The survey row it was written on, named when evaluating it runs out of budget.
    row: int | None = None

    def evaluate(
        self,
        values: Mapping[str, object],
        current: object = None,
        *,
        today: date,
        columns: Mapping[str, object] | None = None,
        budget: Budget | None = None,
    ) -> Value:
        """Evaluate: answers by question name, `.` is `current`, choice columns by bare name.

        `today` is the clock's date (XLSForm's today()); `budget` is shared by every expression
        evaluated for one answer (a fresh one when None).
        """
        env = _Env(values, current, today, columns or {}, self.text, budget or Budget())
        try:
            return _eval(self.root, env)
        except BudgetExceeded:
            raise BudgetExceeded(self.row, self.text) from None

    def test(
        self,
        values: Mapping[str, object],
        current: object = None,
        *,
        today: date,
        columns: Mapping[str, object] | None = None,
        budget: Budget | None = None,
    ) -> bool:
        """Evaluate and convert the result to true or false."""
        return truthy(self.evaluate(values, current, today=today, columns=columns, budget=budget))

    def references(self) -> set[str]:
        """Names of the questions referenced as ${name}."""
        return {node.name for node in _walk(self.root) if isinstance(node, Ref)}

    def columns(self) -> set[str]:
        """Bare names (choice columns) used in a choice_filter."""
        return {node.name for node in _walk(self.root) if isinstance(node, Column)}

    def uses_current(self) -> bool:
        """Whether '.' (the answer being checked) appears."""
        return any(isinstance(node, Current) for node in _walk(self.root))

    def cost(self) -> int:
        """The most steps one evaluation can take (a regex() reading the longest subject)."""
        regex_most = (REGEX_SUBJECT_MAX + REGEX_PATTERN_MAX) // REGEX_CHARS_PER_STEP
        return sum(
            1 + (regex_most if isinstance(node, Call) and node.name == "regex" else 0)
            for node in _walk(self.root)
        )


def parse_expression(text: str, *, choice_columns: bool = False) -> Expression:
    """Parse an expression or raise ExpressionError saying where and what was expected."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH, text)
    if not text.strip():
        raise ExpressionError("empty expression", 0, text)
    root = Parser(text, choice_columns).parse()
    if _height(root) > MAX_DEPTH:
        raise ExpressionError(f"expression has more than {MAX_DEPTH} levels; split it", 0, text)
    # A written pattern is checked now, so a form with one RE2 cannot run is refused at load.
    for node in _walk(root):
        if isinstance(node, Call) and node.name == "regex" and isinstance(node.args[1], Literal):
            pattern = node.args[1]
            if len(str(pattern.value)) > REGEX_PATTERN_MAX:
                problem = f"regular expression longer than {REGEX_PATTERN_MAX} characters"
                raise ExpressionError(problem, pattern.pos, text)
            compile_regex(str(pattern.value), pattern.pos, text)
    return Expression(text, root)
