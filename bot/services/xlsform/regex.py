"""regex() patterns on a linear-time engine (RE2), so no pattern and answer can freeze the bot.

Python's `re` backtracks: `^(\\w+\\s?)*$` against 27 letters and a `!` takes seconds, doubling with
each letter, on the event loop every member shares. RE2 (`google-re2`) matches in time linear in
the answer, whatever the pattern. It has no back-references or look-around; XLSForm's XPath
regexes have none either, so a pattern using them is refused at load like any bad pattern.

RE2's `\\w`, `\\d` and `\\s` are ASCII-only, where Python's and XPath's are Unicode: a "letters
and spaces" rule must keep accepting "José Pérez", so those classes are rewritten to Unicode
properties before compiling.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints

from bot.services.xlsform.syntax import ExpressionError

# The compiled program may use this much memory; RE2 refuses a larger pattern (e.g. a{1000}{1000}).
PROGRAM_MEMORY = 8 << 20

# Outside a [...] class each escape becomes a class; inside one, the class's members.
_OUTSIDE = {
    "w": r"[\p{L}\p{N}_]",
    "W": r"[^\p{L}\p{N}_]",
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "s": r"[\s\p{Z}]",
    "S": r"[^\s\p{Z}]",
}
# \W and \S inside a class would need set intersection, which RE2 lacks: they stay ASCII there.
_INSIDE = {"w": r"\p{L}\p{N}_", "d": r"\p{Nd}", "D": r"\P{Nd}", "s": r"\s\p{Z}"}


_PERL_ONLY = re.compile(r"\\[1-9]|\(\?<?[=!]|\\k<")


class Pattern(Protocol):
    def search(self, text: str) -> object | None: ...


def unicode_classes(pattern: str) -> str:
    """The pattern with \\w \\d \\s (and negations) meaning what they mean in Python and XPath."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(escaped, "\\" + escaped))
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            i += 1
            # A ']' right after '[' or '[^' is a member, not the end of the class.
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):
                out.append("]")
                i += 1
            continue
        if char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> Pattern | str:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is reported to staff, not to stderr
    options.never_capture = True  # regex() only asks whether it matches
    options.max_mem = PROGRAM_MEMORY
    try:
        compiled: Pattern = re2.compile(unicode_classes(pattern), options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        text = detail.decode() if isinstance(detail, bytes) else str(detail)
        return text
    return compiled


def compile_regex(pattern: str, pos: int | None = None, text: str = "") -> Pattern:
    """A compiled regex() pattern, or ExpressionError saying why RE2 refuses it."""
    compiled = _compiled(pattern)
    if isinstance(compiled, str):
        unsupported = _PERL_ONLY.search(pattern) is not None
        hint = " (back-references and look-around are not supported)" if unsupported else ""
        key = "expr.regex_perl" if unsupported else "expr.regex"
        problem = f"invalid regular expression: {compiled}{hint}"
        raise ExpressionError(problem, pos, text, key, detail=compiled)
    return compiled
