"""Values of XLSForm expressions and XPath 1.0-like conversions and comparisons."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal

Value = str | float | bool

_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*")


def normalize(value: object) -> Value:
    """Turn a stored answer into an expression value (dates ISO text, choices space-separated)."""
    if value is None:
        return ""
    if isinstance(value, bool | str | float):
        return value
    if isinstance(value, int | Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return " ".join(str(item) for item in value)
    return str(value)


def _is_numeric(value: Value) -> bool:
    return isinstance(value, float) or (isinstance(value, str) and bool(_NUMBER.fullmatch(value)))


def to_number(value: Value) -> float:
    """XPath number(): booleans are 0/1, non-numeric text is NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    return float(value) if _NUMBER.fullmatch(value) else math.nan


def to_text(value: Value) -> str:
    """XPath string(): whole numbers lose their '.0'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return repr(value) if math.isfinite(value) else ("NaN" if math.isnan(value) else "Infinity")
    return value


def truthy(value: object) -> bool:
    """XPath boolean(): non-empty text, non-zero numbers and true are true."""
    value = normalize(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not math.isnan(value) and value != 0
    return value != ""


def compare(op: str, left: Value, right: Value) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        a, b = truthy(left), truthy(right)
        return a == b if op == "=" else a != b if op == "!=" else _order(op, float(a), float(b))
    if _is_numeric(left) and _is_numeric(right):
        x, y = to_number(left), to_number(right)
        return x == y if op == "=" else x != y if op == "!=" else _order(op, x, y)
    s, t = to_text(left), to_text(right)
    return s == t if op == "=" else s != t if op == "!=" else _order(op, s, t)


def _order(op: str, a: float | str, b: float | str) -> bool:
    # Mixed types cannot happen: callers pass two numbers or two texts.
    if isinstance(a, float) and isinstance(b, float):
        x, y = a, b
        return x < y if op == "<" else x <= y if op == "<=" else x > y if op == ">" else x >= y
    s, t = str(a), str(b)
    return s < t if op == "<" else s <= t if op == "<=" else s > t if op == ">" else s >= t


def arithmetic(op: str, left: Value, right: Value) -> float:
    x, y = to_number(left), to_number(right)
    try:
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "div":
            if y != 0:
                return x / y
            return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
        return math.fmod(x, y) if y != 0 and math.isfinite(x) else math.nan
    except OverflowError:
        return math.inf
