"""XLSForm expressions: parsed by a whitelist parser, evaluated (never with `eval`) within a
budget, so that a member's answer cannot make the bot evaluate without end, whatever the form."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from bot.services.xlsform.evaluate import (
    REGEX_CHARS_PER_STEP,
    REGEX_PATTERN_MAX,
    REGEX_SUBJECT_MAX,
    Env,
    Fn,
    compile_node,
)
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
from bot.services.xlsform.values import Value, truthy

__all__ = ["Budget", "BudgetExceeded", "Expression", "ExpressionError", "parse_expression"]

# What one answer may cost, whatever the form: each evaluation costs its expression's nodes. The
# form's own worst case is checked at load (limits.py) well below this; the deadline is the last
# guard.
STEPS = 200_000
SECONDS = 0.5
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
    # Its nodes: what one evaluation is charged (whether or not `and`/`if` skip some).
    size: int = field(init=False, repr=False, compare=False)
    _run: Fn = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        size, run = _compiled(self.root)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "_run", run)

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
        budget = budget or Budget()
        try:
            budget.spend(self.size)
            return self._run(Env(values, current, today, columns or {}, self.text, budget))
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
        regexes = sum(1 for n in _walk(self.root) if isinstance(n, Call) and n.name == "regex")
        return self.size + regexes * regex_most


# A form repeats its conditions (5,000 rows may share a handful): each text is parsed and turned
# into closures once. Trees are immutable, so sharing them is safe.
@lru_cache(maxsize=4096)
def _compiled(root: Node) -> tuple[int, Fn]:
    return len(_walk(root)), compile_node(root)


def parse_expression(text: str, *, choice_columns: bool = False) -> Expression:
    """Parse an expression or raise ExpressionError saying where and what was expected."""
    return Expression(text, _parse(text, choice_columns))


@lru_cache(maxsize=4096)
def _parse(text: str, choice_columns: bool) -> Node:
    if len(text) > MAX_LENGTH:
        problem = f"expression longer than {MAX_LENGTH} characters"
        raise ExpressionError(problem, MAX_LENGTH, text, "expr.too_long", limit=str(MAX_LENGTH))
    if not text.strip():
        raise ExpressionError("empty expression", 0, text, "expr.empty")
    root = Parser(text, choice_columns).parse()
    if _height(root) > MAX_DEPTH:
        problem = f"expression has more than {MAX_DEPTH} levels; split it"
        raise ExpressionError(problem, 0, text, "expr.too_deep", limit=str(MAX_DEPTH))
    # A written pattern is checked now, so a form with one RE2 cannot run is refused at load.
    for node in _walk(root):
        if isinstance(node, Call) and node.name == "regex" and isinstance(node.args[1], Literal):
            pattern = node.args[1]
            if len(str(pattern.value)) > REGEX_PATTERN_MAX:
                problem = f"regular expression longer than {REGEX_PATTERN_MAX} characters"
                limit = str(REGEX_PATTERN_MAX)
                raise ExpressionError(problem, pattern.pos, text, "expr.regex_long", limit=limit)
            compile_regex(str(pattern.value), pattern.pos, text)
    return root
